//! The one port speaks a little HTTP before the WebSocket upgrade:
//! `GET /health` answers JSON, `/ws` upgrades, `/` (with `/app.js` and
//! `/style.css`) is the spectators' page, anything else is a 404.
//!
//! The request head is read (not peeked, so the same code serves TLS), and
//! handed back to the WebSocket handshake through [`crate::io::Rewind`].

use std::io;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Largest request head we read before giving up.
const MAX_HEAD: usize = 8 * 1024;

/// Where a request goes.
#[derive(Debug, PartialEq, Eq)]
pub enum Route {
    Health,
    WebSocket,
    /// A file of the spectators' page.
    Page(&'static crate::web::Asset),
    NotFound(String),
    BadRequest,
}

/// Reads the request head and decides the route. Returns every byte read,
/// to be replayed to the WebSocket handshake.
pub async fn route<S: AsyncRead + Unpin>(stream: &mut S) -> io::Result<(Route, Vec<u8>)> {
    let mut buf = Vec::with_capacity(1024);
    loop {
        let mut chunk = [0u8; 1024];
        let want = chunk.len().min(MAX_HEAD + 1 - buf.len());
        let n = stream.read(&mut chunk[..want]).await?;
        if n == 0 {
            return Ok((Route::BadRequest, buf));
        }
        buf.extend_from_slice(&chunk[..n]);
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut req = httparse::Request::new(&mut headers);
        match req.parse(&buf) {
            Ok(httparse::Status::Complete(_)) => {
                let path = req.path.unwrap_or("/");
                let path = path.split('?').next().unwrap_or(path);
                let route = match (req.method, path, crate::web::asset(path)) {
                    (Some("GET"), "/health", _) => Route::Health,
                    (Some("GET"), "/ws", _) => Route::WebSocket,
                    (Some("GET"), _, Some(asset)) => Route::Page(asset),
                    _ => Route::NotFound(path.to_string()),
                };
                return Ok((route, buf));
            }
            Ok(httparse::Status::Partial) if buf.len() <= MAX_HEAD => {}
            _ => return Ok((Route::BadRequest, buf)),
        }
    }
}

/// Writes a complete response and closes.
pub async fn respond<S: AsyncWrite + Unpin>(
    stream: &mut S,
    status: &str,
    content_type: &str,
    body: &str,
) -> io::Result<()> {
    respond_with(stream, status, content_type, "", body).await
}

/// [`respond`] with more header lines (each ending in CRLF).
pub async fn respond_with<S: AsyncWrite + Unpin>(
    stream: &mut S,
    status: &str,
    content_type: &str,
    headers: &str,
    body: &str,
) -> io::Result<()> {
    let response = format!(
        "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\ncache-control: no-store\r\n{headers}\r\n{body}",
        body.len()
    );
    stream.write_all(response.as_bytes()).await?;
    stream.shutdown().await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::Rewind;

    #[tokio::test]
    async fn the_head_is_routed_and_replayed_whole() {
        let request = b"GET /ws?x=1 HTTP/1.1\r\nHost: a\r\n\r\nextra";
        let (mut client, mut server) = tokio::io::duplex(64);
        client.write_all(request).await.unwrap();
        let (route, bytes) = route(&mut server).await.unwrap();
        assert_eq!(route, Route::WebSocket);
        let mut rewound = Rewind::new(bytes, server);
        drop(client);
        let mut all = Vec::new();
        rewound.read_to_end(&mut all).await.unwrap();
        assert_eq!(all, request);
    }

    #[tokio::test]
    async fn oversized_and_malformed_heads_are_bad_requests() {
        let (mut client, mut server) = tokio::io::duplex(64 * 1024);
        let long = format!("GET /{} HTTP/1.1\r\n", "a".repeat(MAX_HEAD + 10));
        client.write_all(long.as_bytes()).await.unwrap();
        assert_eq!(route(&mut server).await.unwrap().0, Route::BadRequest);
        let (mut client, mut server) = tokio::io::duplex(1024);
        client
            .write_all(b"\x16\x03\x01garbage\r\n\r\n")
            .await
            .unwrap();
        assert_eq!(route(&mut server).await.unwrap().0, Route::BadRequest);
        let (client, mut server) = tokio::io::duplex(1024);
        drop(client);
        assert_eq!(route(&mut server).await.unwrap().0, Route::BadRequest);
    }
}
