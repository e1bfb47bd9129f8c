//! The network front door: accept connections, route HTTP, run WebSocket
//! sessions, shut down gracefully.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::StatusCode;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::auth::Auth;
use crate::engine::EngineHandle;
use crate::fanout::{Outbox, Plain, Queued};
use crate::http::{self, Route};

/// Limits that keep one client, or many, from hurting the rest.
#[derive(Clone, Debug)]
pub struct Limits {
    pub max_connections: usize,
    /// Connections from one address (WebSocket and HTTP; SSH has its own).
    pub max_per_address: usize,
    /// From accept to a finished WebSocket handshake (TLS included).
    pub handshake_timeout: Duration,
    /// A write that cannot finish in this time (the client stopped reading)
    /// drops the client.
    pub write_timeout: Duration,
    pub ping_interval: Duration,
    /// A client silent for this long (no message, no pong) is closed.
    pub idle_timeout: Duration,
    /// Beyond this, the connection is read more slowly (nothing is dropped).
    pub messages_per_second: u32,
    pub max_message_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 20_000,
            max_per_address: 100,
            handshake_timeout: Duration::from_secs(10),
            write_timeout: Duration::from_secs(10),
            ping_interval: Duration::from_secs(15),
            idle_timeout: Duration::from_secs(60),
            messages_per_second: 200,
            max_message_bytes: auction_proto::msg::MAX_MESSAGE_BYTES,
        }
    }
}

/// Which web pages may open a WebSocket to us. Browsers send `Origin` on
/// every WebSocket handshake; a page on another site must not ride on a
/// user's network position (cross-site WebSocket hijacking). Clients that
/// are not browsers (the terminal client, scripts) send no `Origin` and are
/// let in.
#[derive(Clone, Debug, Default)]
pub struct Origins {
    allowed: Vec<String>,
}

impl Origins {
    /// `allowed` holds origins like `https://auction.example.org`; `*` lets
    /// any page in.
    pub fn new(allowed: impl IntoIterator<Item = String>) -> Origins {
        Origins {
            allowed: allowed
                .into_iter()
                .map(|o| o.trim_end_matches('/').to_ascii_lowercase())
                .collect(),
        }
    }

    /// Whether a handshake with this `Origin` header (if any) may go ahead.
    pub fn permits(&self, origin: Option<&[u8]>) -> bool {
        let Some(origin) = origin else { return true };
        let Ok(origin) = std::str::from_utf8(origin) else {
            return false;
        };
        let origin = origin.trim().trim_end_matches('/').to_ascii_lowercase();
        self.allowed.iter().any(|a| a == "*" || *a == origin)
    }
}

/// Counts open connections per address (WebSocket, HTTP and SSH together).
#[derive(Default)]
pub(crate) struct PerAddress(Mutex<HashMap<IpAddr, usize>>);

/// Holds one connection's place in [`PerAddress`].
pub(crate) struct AddressSlot {
    app: Arc<App>,
    ip: IpAddr,
}

impl PerAddress {
    /// A place for one more connection from `ip`, if it has any left.
    pub(crate) fn take(app: &Arc<App>, ip: IpAddr) -> Option<AddressSlot> {
        let mut map = app.per_address.0.lock().unwrap_or_else(|e| e.into_inner());
        let n = map.entry(ip).or_default();
        if *n >= app.limits.max_per_address {
            return None;
        }
        *n += 1;
        Some(AddressSlot {
            app: app.clone(),
            ip,
        })
    }
}

impl Drop for AddressSlot {
    fn drop(&mut self) {
        let mut map = self
            .app
            .per_address
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(n) = map.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                map.remove(&self.ip);
            }
        }
    }
}

/// What every connection shares.
pub struct App {
    pub engine: EngineHandle,
    /// Writes every event to every logged-in WebSocket session.
    pub fanout: crate::fanout::Fanout,
    pub auth: Arc<Auth>,
    /// Each team's private shortlist.
    pub warroom: Arc<crate::warroom::WarRoom>,
    pub limits: Limits,
    pub origins: Origins,
    /// Serve `wss://` with this, when set.
    pub tls: Option<tokio_rustls::TlsAcceptor>,
    per_address: PerAddress,
    pub shutdown: CancellationToken,
    pub clients: AtomicUsize,
    /// Sessions per account (viewers not counted), for the presence list.
    pub presence: tokio::sync::watch::Sender<std::collections::BTreeMap<String, u32>>,
}

impl App {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        engine: EngineHandle,
        fanout: crate::fanout::Fanout,
        auth: Arc<Auth>,
        warroom: Arc<crate::warroom::WarRoom>,
        limits: Limits,
        origins: Origins,
        tls: Option<tokio_rustls::TlsAcceptor>,
        shutdown: CancellationToken,
    ) -> Arc<App> {
        Arc::new(App {
            engine,
            fanout,
            auth,
            warroom,
            limits,
            origins,
            tls,
            per_address: PerAddress::default(),
            shutdown,
            clients: AtomicUsize::new(0),
            presence: tokio::sync::watch::Sender::new(Default::default()),
        })
    }

    fn ws_config(&self) -> WebSocketConfig {
        let max = self.limits.max_message_bytes;
        WebSocketConfig::default()
            .max_message_size(Some(max))
            .max_frame_size(Some(max))
            .read_buffer_size(4 * 1024)
            .write_buffer_size(0)
            .max_write_buffer_size(max * 4)
    }
}

/// Serves WebSocket and HTTP clients on `listener` until `app.shutdown` is
/// cancelled, then closes every session with a close frame and returns.
pub async fn serve(listener: TcpListener, app: Arc<App>) {
    let tracker = TaskTracker::new();
    let permits = Arc::new(Semaphore::new(app.limits.max_connections));
    let mut backoff = Duration::from_millis(5);
    loop {
        let accepted = tokio::select! {
            () = app.shutdown.cancelled() => break,
            a = listener.accept() => a,
        };
        let (stream, peer) = match accepted {
            Ok(x) => {
                backoff = Duration::from_millis(5);
                x
            }
            Err(e) => {
                // Out of file descriptors and the like: back off, do not spin.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(1));
                continue;
            }
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            tracing::warn!(%peer, "connection limit reached; refusing");
            drop(stream);
            continue;
        };
        let Some(slot) = PerAddress::take(&app, peer.ip()) else {
            tracing::warn!(%peer, "connection limit for this address reached; refusing");
            drop(stream);
            continue;
        };
        let app = app.clone();
        tracker.spawn(async move {
            let _permit = permit;
            let _slot = slot;
            let _ = stream.set_nodelay(true);
            match app.tls.clone() {
                None => {
                    // Shared with the fan-out thread, which writes events to it.
                    let socket = Arc::new(stream);
                    connection(Plain(socket.clone()), peer, app, Some(socket)).await
                }
                // Boxed: a TLS session's state is kilobytes, and every
                // plain connection's task would otherwise be sized for it.
                Some(tls) => Box::pin(tls_connection(tls, stream, peer, app)).await,
            }
        });
    }
    tracker.close();
    if tokio::time::timeout(Duration::from_secs(5), tracker.wait())
        .await
        .is_err()
    {
        tracing::warn!("some connections did not close in time");
    }
}

async fn tls_connection(
    tls: tokio_rustls::TlsAcceptor,
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    app: Arc<App>,
) {
    let accept = tokio::time::timeout(app.limits.handshake_timeout, tls.accept(stream));
    match accept.await {
        Ok(Ok(stream)) => connection(stream, peer, app, None).await,
        Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
    }
}

/// One connection: HTTP or a WebSocket session. `socket` is the plain TCP
/// socket under `stream`, when the fan-out may write to it directly.
async fn connection<S>(
    mut stream: S,
    peer: SocketAddr,
    app: Arc<App>,
    socket: Option<Arc<tokio::net::TcpStream>>,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let routed = tokio::time::timeout(app.limits.handshake_timeout, http::route(&mut stream)).await;
    let (route, head) = match routed {
        Ok(Ok(r)) => r,
        Ok(Err(_)) | Err(_) => return,
    };
    let result = match route {
        Route::Health => {
            let body = serde_json::json!({
                "status": if app.engine.is_closed() { "stopped" } else { "ok" },
                "seq": app.engine.seq(),
                "clients": app.clients.load(Ordering::Relaxed),
            })
            .to_string();
            let status = if app.engine.is_closed() {
                "503 Service Unavailable"
            } else {
                "200 OK"
            };
            http::respond(&mut stream, status, "application/json", &body).await
        }
        Route::NotFound(path) => {
            tracing::debug!(%peer, %path, "404");
            http::respond(
                &mut stream,
                "404 Not Found",
                "text/plain",
                "not found: the WebSocket is at /ws\n",
            )
            .await
        }
        Route::BadRequest => {
            http::respond(
                &mut stream,
                "400 Bad Request",
                "text/plain",
                "bad request\n",
            )
            .await
        }
        Route::WebSocket => {
            // The signature is tungstenite's callback; its error type is theirs.
            #[allow(clippy::result_large_err)]
            let check = |req: &Request, resp: Response| -> Result<Response, ErrorResponse> {
                if req.uri().path() != "/ws" {
                    let mut err = ErrorResponse::new(Some("not found".into()));
                    *err.status_mut() = StatusCode::NOT_FOUND;
                    return Err(err);
                }
                let origin = req.headers().get("origin").map(|o| o.as_bytes());
                if !app.origins.permits(origin) {
                    tracing::warn!(%peer, origin = ?origin.map(String::from_utf8_lossy), "WebSocket from a page whose origin is not allowed");
                    let mut err = ErrorResponse::new(Some(
                        "this origin may not open the auction's WebSocket (see --allow-origin)\n"
                            .into(),
                    ));
                    *err.status_mut() = StatusCode::FORBIDDEN;
                    return Err(err);
                }
                Ok(resp)
            };
            let outbox = Outbox::new(socket, app.limits.max_message_bytes * 4);
            let handshake = tokio_tungstenite::accept_hdr_async_with_config(
                Queued::new(
                    crate::io::Deadline::new(
                        crate::io::Rewind::new(head, stream),
                        app.limits.write_timeout,
                    ),
                    outbox,
                ),
                check,
                Some(app.ws_config()),
            );
            match tokio::time::timeout(app.limits.handshake_timeout, handshake).await {
                Ok(Ok(ws)) => {
                    app.clients.fetch_add(1, Ordering::Relaxed);
                    crate::ws::serve(ws, app.clone(), peer).await;
                    app.clients.fetch_sub(1, Ordering::Relaxed);
                }
                Ok(Err(e)) => tracing::debug!(%peer, error = %e, "handshake failed"),
                Err(_) => tracing::debug!(%peer, "handshake timed out"),
            }
            Ok(())
        }
    };
    if let Err(e) = result {
        tracing::debug!(%peer, error = %e, "http response failed");
    }
}

#[cfg(test)]
mod tests {
    use super::Origins;

    #[test]
    fn only_listed_origins_are_let_in_and_non_browsers_always() {
        let none = Origins::default();
        assert!(none.permits(None));
        assert!(!none.permits(Some(b"https://auction.example.org")));
        let ours = Origins::new(["https://Auction.example.org/".to_string()]);
        assert!(ours.permits(Some(b"https://auction.example.org")));
        for evil in [
            &b"https://auction.example.org.evil.example"[..],
            b"http://auction.example.org",
            b"null",
            b"\xff\xfe",
        ] {
            assert!(!ours.permits(Some(evil)), "{evil:?}");
        }
        assert!(Origins::new(["*".to_string()]).permits(Some(b"https://any.example")));
    }
}
