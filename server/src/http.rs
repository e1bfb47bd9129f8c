//! The one port speaks a little HTTP before the WebSocket upgrade:
//! `GET /health` answers JSON, `/ws` upgrades, anything else is a 404.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Largest request head we read before giving up.
const MAX_HEAD: usize = 8 * 1024;

/// Where a request goes.
#[derive(Debug, PartialEq, Eq)]
pub enum Route {
    Health,
    WebSocket,
    NotFound(String),
    BadRequest,
}

/// Peeks at the request head (without consuming it, so the WebSocket
/// handshake can read it again) and decides the route. Also returns the
/// head's length, to consume it when answering plain HTTP.
pub async fn route(stream: &TcpStream) -> std::io::Result<(Route, usize)> {
    let mut buf = vec![0u8; MAX_HEAD];
    let mut last = 0;
    loop {
        let n = stream.peek(&mut buf).await?;
        if n == 0 {
            return Ok((Route::BadRequest, 0));
        }
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut req = httparse::Request::new(&mut headers);
        match req.parse(&buf[..n]) {
            Ok(httparse::Status::Complete(len)) => {
                let path = req.path.unwrap_or("/");
                let path = path.split('?').next().unwrap_or(path);
                let route = match (req.method, path) {
                    (Some("GET"), "/health") => Route::Health,
                    (Some("GET"), "/ws") => Route::WebSocket,
                    _ => Route::NotFound(path.to_string()),
                };
                return Ok((route, len));
            }
            Ok(httparse::Status::Partial) if n < MAX_HEAD => {
                if n == last {
                    // Nothing new yet: wait a little rather than spin on peek.
                    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                }
                last = n;
            }
            _ => return Ok((Route::BadRequest, n)),
        }
    }
}

/// Consumes the request head, writes a complete response and closes.
pub async fn respond(
    stream: &mut TcpStream,
    head_len: usize,
    status: &str,
    content_type: &str,
    body: &str,
) -> std::io::Result<()> {
    let mut head = vec![0u8; head_len];
    stream.read_exact(&mut head).await?;
    let response = format!(
        "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\ncache-control: no-store\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(response.as_bytes()).await?;
    stream.shutdown().await
}
