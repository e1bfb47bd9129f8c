//! A WebSocket connection to the auction server speaking the JSON protocol.

use auction_proto::msg::{ClientMsg, ErrorCode, PROTOCOL_VERSION, ServerMsg};
use auction_proto::{Access, Snapshot};
use std::path::Path;
use std::sync::Arc;

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// The default server address.
pub const DEFAULT_SERVER: &str = "ws://127.0.0.1:7878/ws";

#[derive(Debug, thiserror::Error)]
pub enum NetError {
    #[error("cannot connect to {url}: {source}")]
    Connect {
        url: String,
        source: tungstenite::Error,
    },
    #[error("TLS: {0}")]
    Tls(String),
    #[error("connection lost: {0}")]
    Io(#[from] tungstenite::Error),
    #[error("the server closed the connection{}", .0.as_ref().map(|r| format!(": {r}")).unwrap_or_default())]
    Closed(Option<String>),
    #[error("the server sent something this client does not understand: {0}")]
    Protocol(String),
    #[error("{message}")]
    Server { code: ErrorCode, message: String },
}

/// What the server says after a login or resume.
#[derive(Debug, Clone)]
pub struct Welcome {
    pub user: String,
    pub access: Access,
    pub token: String,
    pub expires_at_ms: u64,
    pub snapshot: Option<Snapshot>,
    /// A team's own shortlist (team accounts only).
    pub shortlist: Option<Vec<auction_proto::msg::ShortlistEntry>>,
}

pub struct WsClient {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

/// Adds `/ws` to a bare `ws://host:port` address.
pub fn normalize_url(url: &str) -> String {
    let url = url.trim();
    let with_scheme = if url.contains("://") {
        url.to_string()
    } else {
        format!("ws://{url}")
    };
    let after_scheme = with_scheme.split_once("://").map_or("", |(_, r)| r);
    if after_scheme.contains('/') {
        with_scheme
    } else {
        format!("{with_scheme}/ws")
    }
}

/// A TLS client configuration that trusts only the certificates in the PEM
/// file `ca` (a league's own, or a self-signed server certificate).
pub fn trusting(ca: &Path) -> Result<Arc<rustls::ClientConfig>, NetError> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let bad = |e: String| NetError::Tls(format!("{}: {e}", ca.display()));
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca).map_err(|e| bad(e.to_string()))? {
        let cert = cert.map_err(|e| bad(e.to_string()))?;
        roots.add(cert).map_err(|e| bad(e.to_string()))?;
    }
    if roots.is_empty() {
        return Err(bad("no certificate in the file".into()));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| bad(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

impl WsClient {
    /// Connects to `url` (`ws://` or `wss://`). For `wss://`, the server's
    /// certificate must be signed by one in `ca` when given, otherwise by one
    /// the system trusts.
    pub async fn connect(url: &str, ca: Option<&Path>) -> Result<WsClient, NetError> {
        let url = normalize_url(url);
        let config = WebSocketConfig::default()
            .max_message_size(Some(16 << 20))
            .max_frame_size(Some(16 << 20));
        let connector = match ca {
            Some(ca) if url.starts_with("wss://") => {
                Some(tokio_tungstenite::Connector::Rustls(trusting(ca)?))
            }
            _ => None,
        };
        let (ws, _) = tokio_tungstenite::connect_async_tls_with_config(
            url.as_str(),
            Some(config),
            true,
            connector,
        )
        .await
        .map_err(|source| NetError::Connect { url, source })?;
        Ok(WsClient { ws })
    }

    pub async fn send(&mut self, msg: &ClientMsg) -> Result<(), NetError> {
        let text = serde_json::to_string(msg).map_err(|e| NetError::Protocol(e.to_string()))?;
        self.ws.send(Message::Text(text.into())).await?;
        Ok(())
    }

    /// The next protocol message, with its raw JSON.
    pub async fn recv_raw(&mut self) -> Result<(ServerMsg, String), NetError> {
        loop {
            match self.ws.next().await {
                None => return Err(NetError::Closed(None)),
                Some(Err(e)) => return Err(NetError::Io(e)),
                Some(Ok(Message::Text(t))) => {
                    let msg = serde_json::from_str(&t)
                        .map_err(|e| NetError::Protocol(format!("{e}: {t}")))?;
                    return Ok((msg, t.to_string()));
                }
                Some(Ok(Message::Close(frame))) => {
                    return Err(NetError::Closed(
                        frame
                            .map(|f| f.reason.to_string())
                            .filter(|r| !r.is_empty()),
                    ));
                }
                Some(Ok(_)) => {}
            }
        }
    }

    pub async fn recv(&mut self) -> Result<ServerMsg, NetError> {
        Ok(self.recv_raw().await?.0)
    }

    /// Logs in and returns the welcome (with a snapshot).
    pub async fn login(&mut self, user: &str, password: &str) -> Result<Welcome, NetError> {
        self.send(&ClientMsg::Login {
            v: PROTOCOL_VERSION,
            user: user.to_string(),
            password: password.to_string(),
        })
        .await?;
        self.expect_welcome().await
    }

    /// Resumes a session; missed events follow the welcome unless it holds a snapshot.
    pub async fn resume(&mut self, token: &str, last_seq: u64) -> Result<Welcome, NetError> {
        self.send(&ClientMsg::Resume {
            v: PROTOCOL_VERSION,
            token: token.to_string(),
            last_seq,
        })
        .await?;
        self.expect_welcome().await
    }

    async fn expect_welcome(&mut self) -> Result<Welcome, NetError> {
        match self.recv().await? {
            ServerMsg::Welcome {
                user,
                access,
                token,
                expires_at_ms,
                snapshot,
                shortlist,
                ..
            } => Ok(Welcome {
                user,
                access,
                token,
                expires_at_ms,
                snapshot,
                shortlist,
            }),
            ServerMsg::Error { code, message } => Err(NetError::Server { code, message }),
            other => Err(NetError::Protocol(format!(
                "expected a welcome, got {other:?}"
            ))),
        }
    }

    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
    }
}
