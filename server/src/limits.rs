//! Limits that keep one client, or many, from hurting the rest: sizes and
//! timeouts, the web origins let in, and connections per address.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::context::Context;

/// Limits that keep one client, or many, from hurting the rest.
#[derive(Clone, Debug)]
pub struct Limits {
    pub max_connections: usize,
    /// Connections from one address (WebSocket and HTTP; SSH has its own).
    pub max_per_address: usize,
    /// From accept to a finished WebSocket handshake (TLS included).
    pub handshake_timeout: Duration,
    /// A write that cannot finish in this time (the client stopped reading)
    /// drops the client.
    pub write_timeout: Duration,
    pub ping_interval: Duration,
    /// A client silent for this long (no message, no pong) is closed.
    pub idle_timeout: Duration,
    /// Beyond this, the connection is read more slowly (nothing is dropped).
    pub messages_per_second: u32,
    pub max_message_bytes: usize,
    /// Password checks (argon2id: tens of ms and ~19 MiB each) at once.
    pub concurrent_hashes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 20_000,
            max_per_address: 100,
            handshake_timeout: Duration::from_secs(10),
            write_timeout: Duration::from_secs(10),
            ping_interval: Duration::from_secs(15),
            idle_timeout: Duration::from_secs(60),
            messages_per_second: 200,
            max_message_bytes: auction_proto::msg::MAX_MESSAGE_BYTES,
            concurrent_hashes: 2,
        }
    }
}

/// Which web pages may open a WebSocket to us. Browsers send `Origin` on
/// every WebSocket handshake; a page on another site must not ride on a
/// user's network position (cross-site WebSocket hijacking). Clients that
/// are not browsers (the terminal client, scripts) send no `Origin` and are
/// let in.
///
/// The server's own spectators' page ([`crate::web`]) is served, and its
/// origin let in, unless `--no-web` turns it off.
#[derive(Clone, Debug)]
pub struct Origins {
    allowed: Vec<String>,
    page: bool,
}

impl Default for Origins {
    fn default() -> Origins {
        Origins::new([])
    }
}

impl Origins {
    /// `allowed` holds origins like `https://auction.example.org`; `*` lets
    /// any page in. The server's own page is on.
    pub fn new(allowed: impl IntoIterator<Item = String>) -> Origins {
        Origins {
            allowed: allowed
                .into_iter()
                .map(|o| o.trim_end_matches('/').to_ascii_lowercase())
                .collect(),
            page: true,
        }
    }

    /// Without the spectators' page (`--no-web`).
    pub fn without_page(self) -> Origins {
        Origins {
            page: false,
            ..self
        }
    }

    /// Whether the spectators' page is served.
    pub fn page(&self) -> bool {
        self.page
    }

    /// Whether a handshake may go ahead: no `Origin` (not a browser), an
    /// allowed one, or, with the page on, the server's own (the scheme the
    /// connection came in on and the `Host` it asked for).
    pub fn permits_handshake(&self, origin: Option<&[u8]>, host: Option<&[u8]>, tls: bool) -> bool {
        self.permits(origin)
            || (self.page && origin.is_some_and(|o| crate::web::own_origin(o, host, tls)))
    }

    /// Whether a handshake with this `Origin` header (if any) may go ahead.
    pub fn permits(&self, origin: Option<&[u8]>) -> bool {
        let Some(origin) = origin else { return true };
        let Ok(origin) = std::str::from_utf8(origin) else {
            return false;
        };
        let origin = origin.trim().trim_end_matches('/').to_ascii_lowercase();
        self.allowed.iter().any(|a| a == "*" || *a == origin)
    }
}

/// Counts open connections per address (WebSocket, HTTP and SSH together).
#[derive(Default)]
pub(crate) struct PerAddress(Mutex<HashMap<IpAddr, usize>>);

/// Holds one connection's place in [`PerAddress`].
pub(crate) struct AddressSlot {
    app: Arc<Context>,
    ip: IpAddr,
}

impl PerAddress {
    /// A place for one more connection from `ip`, if it has any left.
    pub(crate) fn take(app: &Arc<Context>, ip: IpAddr) -> Option<AddressSlot> {
        let mut map = app.per_address.0.lock().unwrap_or_else(|e| e.into_inner());
        let n = map.entry(ip).or_default();
        if *n >= app.limits.max_per_address {
            return None;
        }
        *n += 1;
        Some(AddressSlot {
            app: app.clone(),
            ip,
        })
    }
}

impl Drop for AddressSlot {
    fn drop(&mut self) {
        let mut map = self
            .app
            .per_address
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(n) = map.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                map.remove(&self.ip);
            }
        }
    }
}

/// One door's accept loop's admission: accept errors (out of file
/// descriptors and the like) are waited out, 5 ms doubling to 1 s, never
/// given up on; a connection comes in only with a place in the door's total
/// and in its address's.
pub(crate) struct Door {
    pub name: &'static str,
    listener: tokio::net::TcpListener,
    total: Arc<tokio::sync::Semaphore>,
    app: Arc<Context>,
}

/// A connection's places in its door's total and its address's count,
/// given back when dropped.
pub(crate) type Places = (tokio::sync::OwnedSemaphorePermit, AddressSlot);

/// A connection let in, with its places held for as long as it lives.
pub(crate) struct Admitted {
    pub stream: tokio::net::TcpStream,
    pub peer: std::net::SocketAddr,
    pub places: Places,
}

impl Door {
    pub(crate) fn new(
        name: &'static str,
        listener: tokio::net::TcpListener,
        total: usize,
        app: Arc<Context>,
    ) -> Door {
        let total = Arc::new(tokio::sync::Semaphore::new(total));
        Door {
            name,
            listener,
            total,
            app,
        }
    }

    /// The next connection let in; `None` once the server shuts down.
    pub(crate) async fn next(&self) -> Option<Admitted> {
        let mut backoff = Duration::from_millis(5);
        loop {
            let accepted = tokio::select! {
                () = self.app.shutdown.cancelled() => return None,
                a = self.listener.accept() => a,
            };
            let (stream, peer) = match accepted {
                Ok(x) => x,
                Err(e) => {
                    tracing::warn!(error = %e, "{} accept failed", self.name);
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(1));
                    continue;
                }
            };
            backoff = Duration::from_millis(5);
            let Ok(permit) = self.total.clone().try_acquire_owned() else {
                tracing::warn!(%peer, door = self.name, "connection limit reached; refusing");
                continue;
            };
            let Some(slot) = PerAddress::take(&self.app, peer.ip()) else {
                tracing::warn!(%peer, door = self.name, "connection limit for this address reached; refusing");
                continue;
            };
            return Some(Admitted {
                stream,
                peer,
                places: (permit, slot),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Origins;

    #[test]
    fn only_listed_origins_are_let_in_and_non_browsers_always() {
        let none = Origins::default();
        assert!(none.permits(None));
        assert!(!none.permits(Some(b"https://auction.example.org")));
        let ours = Origins::new(["https://Auction.example.org/".to_string()]);
        assert!(ours.permits(Some(b"https://auction.example.org")));
        for evil in [
            &b"https://auction.example.org.evil.example"[..],
            b"http://auction.example.org",
            b"null",
            b"\xff\xfe",
        ] {
            assert!(!ours.permits(Some(evil)), "{evil:?}");
        }
        assert!(Origins::new(["*".to_string()]).permits(Some(b"https://any.example")));
    }
}
