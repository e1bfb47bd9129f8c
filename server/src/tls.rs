//! TLS for `wss://` and `https://`: a certificate the organiser has, or one
//! the server makes for the room and keeps in the data directory.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::startup::StartError;

/// Where the certificate comes from.
#[derive(Clone, Debug)]
pub enum TlsSource {
    /// A certificate chain and its key, PEM files the organiser has.
    Files(TlsFiles),
    /// A self-signed certificate for these names and addresses, made on
    /// first start and kept in the data directory (`tls_cert.pem`,
    /// `tls_key.pem`); made again when the names change.
    SelfSigned(Vec<String>),
}

/// A certificate chain and its private key, both PEM.
#[derive(Clone, Debug)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// What the listener serves with, and the fingerprint clients may pin.
pub struct Tls {
    pub acceptor: tokio_rustls::TlsAcceptor,
    /// `SHA256:...` of the certificate served.
    pub fingerprint: String,
}

pub const SELF_SIGNED_CERT: &str = "tls_cert.pem";
const SELF_SIGNED_KEY: &str = "tls_key.pem";
/// The names the self-signed certificate was made for, one a line.
const SELF_SIGNED_NAMES: &str = "tls_names";

impl TlsSource {
    pub fn acceptor(&self, data_dir: &Path) -> Result<Tls, StartError> {
        match self {
            TlsSource::Files(files) => files.acceptor(),
            TlsSource::SelfSigned(names) => self_signed(data_dir, names)?.acceptor(),
        }
    }
}

fn bad(path: &Path, why: impl ToString) -> StartError {
    StartError::Tls {
        path: path.to_path_buf(),
        why: why.to_string(),
    }
}

/// The data directory's self-signed certificate for `names`, made if it is
/// missing or was made for other names.
fn self_signed(data_dir: &Path, names: &[String]) -> Result<TlsFiles, StartError> {
    let files = TlsFiles {
        cert: data_dir.join(SELF_SIGNED_CERT),
        key: data_dir.join(SELF_SIGNED_KEY),
    };
    let names_file = data_dir.join(SELF_SIGNED_NAMES);
    let wanted = names.join("\n");
    let current = std::fs::read_to_string(&names_file).ok();
    if current.as_deref() == Some(wanted.as_str()) && files.cert.exists() && files.key.exists() {
        return Ok(files);
    }
    let key = rcgen::KeyPair::generate().map_err(|e| bad(&files.key, e))?;
    let params = rcgen::CertificateParams::new(names.to_vec()).map_err(|e| bad(&files.cert, e))?;
    let cert = params.self_signed(&key).map_err(|e| bad(&files.cert, e))?;
    write_private(&files.key, &key.serialize_pem())?;
    write_private(&files.cert, &cert.pem())?;
    write_private(&names_file, &wanted)?;
    tracing::info!(names = %names.join(", "), "made a self-signed TLS certificate");
    Ok(files)
}

fn write_private(path: &Path, text: &str) -> Result<(), StartError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| bad(path, e))?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| bad(path, e))
}

impl TlsFiles {
    /// Reads both files into an acceptor (ring as the crypto provider).
    pub fn acceptor(&self) -> Result<Tls, StartError> {
        let certs = CertificateDer::pem_file_iter(&self.cert)
            .and_then(|it| it.collect::<Result<Vec<_>, _>>())
            .map_err(|e| bad(&self.cert, e))?;
        let Some(first) = certs.first() else {
            return Err(bad(&self.cert, "no certificate in the file"));
        };
        let fingerprint = auction_proto::tls_fingerprint(first);
        let key = PrivateKeyDer::from_pem_file(&self.key).map_err(|e| bad(&self.key, e))?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .and_then(|b| b.with_no_client_auth().with_single_cert(certs, key))
            .map_err(|e| bad(&self.key, e))?;
        Ok(Tls {
            acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(config)),
            fingerprint,
        })
    }
}
