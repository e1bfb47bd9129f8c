//! The SSH door's accept loop: limits are applied at accept, before any key
//! exchange ([`Door`], shared with the WebSocket door); a connection must
//! log in within the deadline; running out of file descriptors slows the
//! loop down, never ends it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use russh::Disconnect;
use tokio::net::{TcpListener, TcpStream};

use super::{Connection, Shared, SshLimits};
use crate::context::Context;
use crate::limits::{Admitted, Door, Places};

/// Accepts SSH connections until shutdown.
pub(super) async fn serve(
    listener: TcpListener,
    app: Arc<Context>,
    config: Arc<russh::server::Config>,
    limits: SshLimits,
    shared: Shared,
) {
    let door = Door::new("SSH", listener, limits.max_connections, app.clone());
    while let Some(Admitted {
        stream,
        peer,
        places,
    }) = door.next().await
    {
        let connection = Arrival {
            app: app.clone(),
            config: config.clone(),
            shared: shared.clone(),
            deadline: limits.login_deadline,
            _places: places,
        };
        app.tasks.spawn(connection.run(stream, peer));
    }
}

/// A connection let in: it holds its places in the limits while it lives.
struct Arrival {
    app: Arc<Context>,
    config: Arc<russh::server::Config>,
    shared: Shared,
    deadline: Duration,
    _places: Places,
}

impl Arrival {
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
        let stopping = tokio::select! {
            _ = &mut session => return,
            () = shutdown.cancelled() => true,
            () = tokio::time::sleep(self.deadline) => {
                if logged_in.load(Ordering::Relaxed) {
                    tokio::select! {
                        _ = &mut session => return,
                        () = shutdown.cancelled() => true,
                    }
                } else {
                    tracing::debug!(%peer, "no SSH login in time");
                    false
                }
            }
        };
        let bye = if stopping {
            // Each session first tells its user (a second at most).
            let _ = tokio::time::timeout(Duration::from_secs(1), &mut session).await;
            "the auction server is restarting"
        } else {
            "log in within the time allowed"
        };
        let _ = handle
            .disconnect(Disconnect::ByApplication, bye.into(), String::new())
            .await;
    }
}
