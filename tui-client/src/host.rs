//! The local terminal's host for the screens: logs in over WebSocket and
//! reads the files its user names, on this machine.

use std::time::Duration;

use auction_screens::event_loop::{Host, LoginRequest};
use auction_screens::link::Link;
use tokio::io::AsyncReadExt;

use crate::net::Trust;
use crate::session::{self, Login};

/// The largest file an import reads: a command over the wire is at most
/// this big, so a larger file could not be sent anyway.
pub const MAX_FILE_BYTES: u64 = auction_proto::msg::MAX_MESSAGE_BYTES as u64;
/// A file that takes longer than this to read (a stalled network share)
/// is given up on.
const READ_TIMEOUT: Duration = Duration::from_secs(5);

pub struct LocalHost {
    /// For `wss://`: every login from the form trusts certificates so.
    trust: Trust,
}

impl LocalHost {
    pub fn new(trust: Trust) -> LocalHost {
        LocalHost { trust }
    }
}

impl Host for LocalHost {
    fn connect(&mut self, login: LoginRequest) -> Link {
        session::spawn(Login {
            server: login.server,
            user: login.user,
            password: login.password,
            trust: self.trust.clone(),
        })
    }

    async fn read_file(&mut self, path: &str) -> Result<String, String> {
        match tokio::time::timeout(READ_TIMEOUT, read_capped(path)).await {
            Ok(read) => read,
            Err(_) => Err(format!(
                "{path}: no data within {} s",
                READ_TIMEOUT.as_secs()
            )),
        }
    }

    fn now_ms(&self) -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64)
    }
}

/// A regular file's text, at most [`MAX_FILE_BYTES`]. Devices and pipes
/// are refused before they are opened (opening a FIFO waits for a writer).
pub async fn read_capped(path: &str) -> Result<String, String> {
    let fail = |e: std::io::Error| format!("cannot read {path}: {e}");
    let meta = tokio::fs::metadata(path).await.map_err(fail)?;
    if !meta.is_file() {
        return Err(format!("{path} is not a regular file"));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(too_big(path));
    }
    let file = tokio::fs::File::open(path).await.map_err(fail)?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .await
        .map_err(fail)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(too_big(path));
    }
    String::from_utf8(bytes).map_err(|_| format!("{path} is not UTF-8 text"))
}

fn too_big(path: &str) -> String {
    format!(
        "{path} is over {} KiB: import it offline with `auction-server import-players`",
        MAX_FILE_BYTES / 1024
    )
}
