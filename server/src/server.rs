//! The network front door: accept connections, route HTTP, run WebSocket
//! sessions, shut down gracefully.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::StatusCode;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::auth::Auth;
use crate::engine::EngineHandle;
use crate::http::{self, Route};

/// Limits that keep one client, or many, from hurting the rest.
#[derive(Clone, Debug)]
pub struct Limits {
    pub max_connections: usize,
    pub handshake_timeout: Duration,
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
            handshake_timeout: Duration::from_secs(10),
            ping_interval: Duration::from_secs(15),
            idle_timeout: Duration::from_secs(60),
            messages_per_second: 200,
            max_message_bytes: auction_proto::msg::MAX_MESSAGE_BYTES,
        }
    }
}

/// What every connection shares.
pub struct App {
    pub engine: EngineHandle,
    pub auth: Arc<Auth>,
    pub limits: Limits,
    pub shutdown: CancellationToken,
    pub clients: AtomicUsize,
    /// Sessions per account (viewers not counted), for the presence list.
    pub presence: tokio::sync::watch::Sender<std::collections::BTreeMap<String, u32>>,
}

impl App {
    pub fn new(
        engine: EngineHandle,
        auth: Arc<Auth>,
        limits: Limits,
        shutdown: CancellationToken,
    ) -> Arc<App> {
        Arc::new(App {
            engine,
            auth,
            limits,
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
        let app = app.clone();
        tracker.spawn(async move {
            let _permit = permit;
            let _ = stream.set_nodelay(true);
            connection(stream, peer, app).await;
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

async fn connection(mut stream: TcpStream, peer: SocketAddr, app: Arc<App>) {
    let routed = tokio::time::timeout(app.limits.handshake_timeout, http::route(&stream)).await;
    let (route, head_len) = match routed {
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
            http::respond(&mut stream, head_len, status, "application/json", &body).await
        }
        Route::NotFound(path) => {
            tracing::debug!(%peer, %path, "404");
            http::respond(
                &mut stream,
                head_len,
                "404 Not Found",
                "text/plain",
                "not found: the WebSocket is at /ws\n",
            )
            .await
        }
        Route::BadRequest => {
            http::respond(
                &mut stream,
                head_len,
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
                Ok(resp)
            };
            let handshake = tokio_tungstenite::accept_hdr_async_with_config(
                stream,
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
