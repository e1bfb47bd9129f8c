//! The network front door: accept connections (TLS when configured),
//! route HTTP, hand WebSockets to their sessions, shut down gracefully.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::StatusCode;

use crate::context::Context;
use crate::fanout::{Outbox, Plain, Queued};
use crate::http::{self, Route};
use crate::limits::{Admitted, Door};

/// Serves WebSocket and HTTP clients on `listener` until `app.shutdown` is
/// cancelled. Each connection runs on `app.tasks`, and closes itself with a
/// close frame on shutdown.
pub async fn serve(listener: TcpListener, app: Arc<Context>) {
    let door = Door::new(
        "WebSocket",
        listener,
        app.limits.max_connections,
        app.clone(),
    );
    while let Some(Admitted {
        stream,
        peer,
        places,
    }) = door.next().await
    {
        let app = app.clone();
        app.tasks.clone().spawn(async move {
            let _places = places;
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
}

async fn tls_connection(
    tls: tokio_rustls::TlsAcceptor,
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    app: Arc<Context>,
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
    app: Arc<Context>,
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
        Route::WebSocket => {
            websocket(stream, head, peer, &app, socket).await;
            Ok(())
        }
        other => answer(other, &mut stream, peer, &app).await,
    };
    if let Err(e) = result {
        tracing::debug!(%peer, error = %e, "http response failed");
    }
}

/// A plain HTTP request: health, the spectators' page, or an error.
async fn answer<S: AsyncWrite + Unpin>(
    route: Route,
    stream: &mut S,
    peer: SocketAddr,
    app: &Context,
) -> std::io::Result<()> {
    const NOT_FOUND: &str = "not found: the WebSocket is at /ws\n";
    match route {
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
            http::respond(stream, status, "application/json", &body).await
        }
        Route::Page(asset) if app.origins.page() => {
            let headers = crate::web::HEADERS;
            http::respond_with(stream, "200 OK", asset.content_type, headers, asset.body).await
        }
        Route::Page(crate::web::Asset { path, .. }) => {
            tracing::debug!(%peer, %path, "404 (the page is off: --no-web)");
            http::respond(stream, "404 Not Found", "text/plain", NOT_FOUND).await
        }
        Route::NotFound(path) => {
            tracing::debug!(%peer, %path, "404");
            http::respond(stream, "404 Not Found", "text/plain", NOT_FOUND).await
        }
        Route::BadRequest | Route::WebSocket => {
            http::respond(stream, "400 Bad Request", "text/plain", "bad request\n").await
        }
    }
}

/// The WebSocket upgrade (path and origin checked), then the session.
async fn websocket<S>(
    stream: S,
    head: Vec<u8>,
    peer: SocketAddr,
    app: &Arc<Context>,
    socket: Option<Arc<tokio::net::TcpStream>>,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    // The signature is tungstenite's callback; its error type is theirs.
    #[allow(clippy::result_large_err)]
    let check = |req: &Request, resp: Response| -> Result<Response, ErrorResponse> {
        if req.uri().path() != "/ws" {
            let mut err = ErrorResponse::new(Some("not found".into()));
            *err.status_mut() = StatusCode::NOT_FOUND;
            return Err(err);
        }
        let origin = req.headers().get("origin").map(|o| o.as_bytes());
        let host = req.headers().get("host").map(|h| h.as_bytes());
        if !app
            .origins
            .permits_handshake(origin, host, app.tls.is_some())
        {
            tracing::warn!(%peer, origin = ?origin.map(String::from_utf8_lossy), "WebSocket from a page whose origin is not allowed");
            let mut err = ErrorResponse::new(Some(
                "this origin may not open the auction's WebSocket (see --allow-origin)\n".into(),
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
}
