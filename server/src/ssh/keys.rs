//! Registering OpenSSH public keys for accounts (`auction-server user ...`).

use russh::keys::{HashAlg, PublicKey};

use crate::auth::{Auth, AuthError};

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("not an OpenSSH public key ({0}): expected a line like `ssh-ed25519 AAAA... comment`")]
    Parse(String),
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error("{0} has no key {1}")]
    NoSuchKey(String, String),
}

/// The key's SHA-256 fingerprint, as `ssh-keygen -l` shows it.
pub fn fingerprint(key: &PublicKey) -> String {
    key.fingerprint(HashAlg::Sha256).to_string()
}

pub fn parse(text: &str) -> Result<PublicKey, KeyError> {
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .unwrap_or("");
    PublicKey::from_openssh(line).map_err(|e| KeyError::Parse(e.to_string()))
}

/// Adds a key to an account; returns its fingerprint. Adding it twice changes nothing.
pub fn add(auth: &Auth, user: &str, text: &str) -> Result<String, KeyError> {
    let key = parse(text)?;
    let mut keys = auth.keys(user)?;
    let fp = fingerprint(&key);
    let known = keys
        .iter()
        .filter_map(|l| PublicKey::from_openssh(l).ok())
        .any(|k| k.key_data() == key.key_data());
    if !known {
        keys.push(
            key.to_openssh()
                .map_err(|e| KeyError::Parse(e.to_string()))?,
        );
        auth.set_keys(user, keys)?;
    }
    Ok(fp)
}

/// `(fingerprint, algorithm, comment)` of each key of an account.
pub fn list(auth: &Auth, user: &str) -> Result<Vec<(String, String, String)>, KeyError> {
    Ok(auth
        .keys(user)?
        .iter()
        .filter_map(|l| PublicKey::from_openssh(l).ok())
        .map(|k| {
            (
                fingerprint(&k),
                k.algorithm().to_string(),
                k.comment().to_string(),
            )
        })
        .collect())
}

/// Removes the key with this fingerprint (or a unique prefix of it).
pub fn remove(auth: &Auth, user: &str, fingerprint_prefix: &str) -> Result<String, KeyError> {
    let keys = auth.keys(user)?;
    let (gone, kept): (Vec<String>, Vec<String>) = keys.into_iter().partition(|l| {
        PublicKey::from_openssh(l).is_ok_and(|k| fingerprint(&k).starts_with(fingerprint_prefix))
    });
    match gone.as_slice() {
        [one] => {
            auth.set_keys(user, kept)?;
            let fp = PublicKey::from_openssh(one)
                .map(|k| fingerprint(&k))
                .unwrap_or_default();
            Ok(fp)
        }
        _ => Err(KeyError::NoSuchKey(
            user.to_string(),
            fingerprint_prefix.to_string(),
        )),
    }
}
