//! The SSH door's accept loop: limits are applied at accept, before any key
//! exchange; a connection must log in within the deadline; running out of
//! file descriptors slows the loop down, never ends it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use russh::Disconnect;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

use super::{Connection, Shared, SshLimits};
use crate::context::Context;
use crate::limits::{AddressSlot, PerAddress};

/// Accepts SSH connections until shutdown.
pub(super) async fn serve(
    listener: TcpListener,
    app: Arc<Context>,
    config: Arc<russh::server::Config>,
    limits: SshLimits,
    shared: Shared,
) {
    let connections = Arc::new(Semaphore::new(limits.max_connections));
    let mut backoff = Duration::from_millis(5);
    loop {
        let accepted = tokio::select! {
            () = app.shutdown.cancelled() => return,
            a = listener.accept() => a,
        };
        let (stream, peer) = match accepted {
            Ok(x) => {
                backoff = Duration::from_millis(5);
                x
            }
            Err(e) => {
                // Out of file descriptors and the like: wait, then go on.
                tracing::warn!(error = %e, "SSH accept failed");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(1));
                continue;
            }
        };
        let Ok(permit) = connections.clone().try_acquire_owned() else {
            tracing::warn!(%peer, "SSH connection limit reached; refusing");
            continue;
        };
        let Some(slot) = PerAddress::take(&app, peer.ip()) else {
            tracing::warn!(%peer, "connection limit for this address reached; refusing SSH");
            continue;
        };
        let connection = Admitted {
            app: app.clone(),
            config: config.clone(),
            shared: shared.clone(),
            deadline: limits.login_deadline,
            _slot: slot,
        };
        app.tasks.spawn(async move {
            let _permit = permit;
            connection.run(stream, peer).await;
        });
    }
}

/// A connection let in: it holds its places in the limits while it lives.
struct Admitted {
    app: Arc<Context>,
    config: Arc<russh::server::Config>,
    shared: Shared,
    deadline: Duration,
    _slot: AddressSlot,
}

impl Admitted {
    async fn run(self, stream: TcpStream, peer: SocketAddr) {
        let _ = stream.set_nodelay(true);
        let logged_in = Arc::new(AtomicBool::new(false));
        let handler = Connection {
            app: self.app.clone(),
            peer,
            shared: self.shared.clone(),
            session: None,
            logged_in: logged_in.clone(),
            channel: None,
            size: (80, 24),
            input: None,
        };
        let setup = tokio::time::timeout(
            self.deadline,
            russh::server::run_stream(self.config.clone(), stream, handler),
        );
        let session = match setup.await {
            Ok(Ok(session)) => session,
            Ok(Err(e)) => return tracing::debug!(%peer, error = %e, "SSH setup failed"),
            Err(_) => return tracing::debug!(%peer, "SSH setup timed out"),
        };
        let handle = session.handle();
        let shutdown = self.app.shutdown.clone();
        tokio::pin!(session);
        let bye = tokio::select! {
            _ = &mut session => return,
            () = shutdown.cancelled() => "the auction server is shutting down",
            () = tokio::time::sleep(self.deadline) => {
                if logged_in.load(Ordering::Relaxed) {
                    tokio::select! {
                        _ = &mut session => return,
                        () = shutdown.cancelled() => "the auction server is shutting down",
                    }
                } else {
                    tracing::debug!(%peer, "no SSH login in time");
                    "log in within the time allowed"
                }
            }
        };
        let _ = handle
            .disconnect(Disconnect::ByApplication, bye.into(), String::new())
            .await;
    }
}
