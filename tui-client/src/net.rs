//! A WebSocket connection to the auction server speaking the JSON protocol.

use auction_proto::msg::{ClientMsg, ErrorCode, PROTOCOL_VERSION, ServerMsg};
use auction_proto::{Access, Snapshot};
use std::path::Path;
use std::sync::Arc;

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
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
    /// The server ended this login (logged out, password changed, expired:
    /// close code 1008): only a new login helps.
    #[error("{0}")]
    Ended(String),
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
    /// A team's own proxy-bid ceilings (team accounts only).
    pub ceilings: Option<Vec<auction_proto::msg::CeilingEntry>>,
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

/// How a `wss://` server's certificate is trusted: by the system's roots
/// (the default), by a PEM file of certificates, or by its fingerprint.
#[derive(clap::Args, Clone, Debug, Default, PartialEq, Eq)]
pub struct Trust {
    /// For `wss://`: trust the certificates in this PEM file.
    #[arg(long, env = "AUCTION_CA")]
    pub ca: Option<std::path::PathBuf>,
    /// For `wss://`: accept exactly the certificate with this fingerprint
    /// (`SHA256:...`, as the server prints it), like ssh's known hosts.
    #[arg(long, env = "AUCTION_FINGERPRINT", conflicts_with = "ca")]
    pub fingerprint: Option<String>,
}

impl Trust {
    /// The TLS configuration for it; `None`: the system's roots.
    fn client_config(&self) -> Result<Option<Arc<rustls::ClientConfig>>, NetError> {
        match (&self.ca, &self.fingerprint) {
            (Some(ca), _) => trusting(ca).map(Some),
            (None, Some(fp)) => pinned(fp).map(Some),
            (None, None) => Ok(None),
        }
    }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
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
    let config = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| bad(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// A TLS client configuration that accepts exactly the certificate with
/// `fingerprint`, whoever signed it and whatever names it holds (the server
/// must still prove it holds the certificate's key).
pub fn pinned(fingerprint: &str) -> Result<Arc<rustls::ClientConfig>, NetError> {
    let fingerprint = fingerprint.trim();
    if !fingerprint.starts_with("SHA256:") || fingerprint.len() != 50 {
        return Err(NetError::Tls(format!(
            "`{fingerprint}` is not a fingerprint: SHA256: and 43 characters, as the server prints it"
        )));
    }
    let verifier = Pinned {
        fingerprint: fingerprint.to_string(),
        provider: provider(),
    };
    let config = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| NetError::Tls(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    Ok(Arc::new(config))
}

#[derive(Debug)]
struct Pinned {
    fingerprint: String,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl rustls::client::danger::ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &rustls::pki_types::CertificateDer<'_>,
        _intermediates: &[rustls::pki_types::CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        let got = auction_proto::tls_fingerprint(end_entity);
        if got == self.fingerprint {
            Ok(rustls::client::danger::ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General(format!(
                "the server's certificate is {got}, not the pinned {}",
                self.fingerprint
            )))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.provider.signature_verification_algorithms;
        rustls::crypto::verify_tls12_signature(message, cert, dss, algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.provider.signature_verification_algorithms;
        rustls::crypto::verify_tls13_signature(message, cert, dss, algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

impl WsClient {
    /// Connects to `url` (`ws://` or `wss://`). For `wss://`, the server's
    /// certificate is checked as `trust` says.
    pub async fn connect(url: &str, trust: &Trust) -> Result<WsClient, NetError> {
        let url = normalize_url(url);
        let config = WebSocketConfig::default()
            .max_message_size(Some(16 << 20))
            .max_frame_size(Some(16 << 20));
        let connector = match trust.client_config()? {
            Some(config) if url.starts_with("wss://") => {
                Some(tokio_tungstenite::Connector::Rustls(config))
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
                Some(Ok(Message::Close(Some(frame)))) if frame.code == CloseCode::Policy => {
                    return Err(NetError::Ended(frame.reason.to_string()));
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
                ceilings,
                ..
            } => Ok(Welcome {
                user,
                access,
                token,
                expires_at_ms,
                snapshot,
                shortlist,
                ceilings,
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
