//! The log's hash chain links: SHA-256 digests, written as 64 lower-case
//! hex digits on the wire and in the store.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A SHA-256 digest of a log entry as stored.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct LogHash(pub [u8; 32]);

impl LogHash {
    /// The link of the first entry: 64 zeros.
    pub const GENESIS: LogHash = LogHash([0; 32]);
}

impl fmt::Display for LogHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for LogHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LogHash({self})")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a SHA-256 digest in hex (64 hex digits)")]
pub struct NotAHash(String);

impl FromStr for LogHash {
    type Err = NotAHash;

    fn from_str(s: &str) -> Result<LogHash, NotAHash> {
        let mut bytes = [0; 32];
        hex::decode_to_slice(s, &mut bytes).map_err(|_| NotAHash(s.chars().take(80).collect()))?;
        Ok(LogHash(bytes))
    }
}

impl Serialize for LogHash {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for LogHash {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<LogHash, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_on_the_wire_and_back() {
        let h = LogHash([0xab; 32]);
        let json = serde_json::to_string(&h).unwrap();
        assert_eq!(json, format!("\"{}\"", "ab".repeat(32)));
        assert_eq!(serde_json::from_str::<LogHash>(&json).unwrap(), h);
        assert_eq!(LogHash::GENESIS.to_string(), "0".repeat(64));
        for bad in ["\"abc\"", "\"zz\"", &format!("\"{}\"", "a".repeat(66))] {
            assert!(serde_json::from_str::<LogHash>(bad).is_err(), "{bad}");
        }
    }
}
