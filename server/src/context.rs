//! What every connection shares: the engine, the fan-out, the accounts,
//! the war room, the limits, presence and the shutdown signal.

use std::sync::Arc;
use std::sync::atomic::AtomicUsize;

use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::auth::Auth;
use crate::engine::EngineHandle;
use crate::limits::{Limits, Origins, PerAddress};

/// What every connection shares.
pub struct Context {
    pub engine: EngineHandle,
    /// Writes every event to every logged-in WebSocket session.
    pub fanout: crate::fanout::Fanout,
    pub auth: Arc<Auth>,
    /// Each team's private shortlist.
    pub warroom: Arc<crate::warroom::WarRoom>,
    pub limits: Limits,
    pub origins: Origins,
    /// Serve `wss://` with this, when set.
    pub tls: Option<tokio_rustls::TlsAcceptor>,
    pub(crate) per_address: PerAddress,
    pub shutdown: CancellationToken,
    /// Password checks running at once, at most (see [`crate::session::login`]).
    pub hashing: Arc<tokio::sync::Semaphore>,
    /// Every connection's task, WebSocket and SSH: shutdown waits for them.
    pub tasks: TaskTracker,
    pub clients: AtomicUsize,
    /// Sessions per account (viewers not counted), for the presence list.
    pub presence: crate::presence::Presence,
}

impl Context {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        engine: EngineHandle,
        fanout: crate::fanout::Fanout,
        auth: Arc<Auth>,
        warroom: Arc<crate::warroom::WarRoom>,
        limits: Limits,
        origins: Origins,
        tls: Option<tokio_rustls::TlsAcceptor>,
        shutdown: CancellationToken,
    ) -> Arc<Context> {
        let hashing = Arc::new(tokio::sync::Semaphore::new(limits.concurrent_hashes.max(1)));
        Arc::new(Context {
            engine,
            fanout,
            auth,
            warroom,
            limits,
            origins,
            tls,
            per_address: PerAddress::default(),
            shutdown,
            tasks: TaskTracker::new(),
            hashing,
            clients: AtomicUsize::new(0),
            presence: crate::presence::Presence::default(),
        })
    }

    pub(crate) fn ws_config(&self) -> WebSocketConfig {
        let max = self.limits.max_message_bytes;
        WebSocketConfig::default()
            .max_message_size(Some(max))
            .max_frame_size(Some(max))
            .read_buffer_size(4 * 1024)
            .write_buffer_size(0)
            .max_write_buffer_size(max * 4)
    }
}
