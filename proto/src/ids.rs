//! Identifiers of teams and players.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A franchise's short code, upper case: `MI`, `CSK`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TeamCode(String);

impl TeamCode {
    /// Normalises to upper case so `mi`, `Mi` and `MI` are one team.
    pub fn new(code: &str) -> TeamCode {
        TeamCode(code.trim().to_ascii_uppercase())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The account name of this team's owner: the code in lower case.
    pub fn account(&self) -> String {
        self.0.to_ascii_lowercase()
    }
}

impl fmt::Display for TeamCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for TeamCode {
    fn from(s: &str) -> TeamCode {
        TeamCode::new(s)
    }
}

/// A player's number in the pool, stable for the whole auction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PlayerId(pub u32);

impl fmt::Display for PlayerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}
