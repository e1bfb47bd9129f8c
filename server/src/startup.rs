//! Starting and stopping a whole server: store, engine, accounts, listeners.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::auth::{Auth, AuthError, password_env_var, write_credentials};
use crate::context::Context;
use crate::engine::{EngineConfig, EngineHandle};
use crate::league::LeagueConfig;
use crate::limits::Limits;
use crate::store::{Store, StoreError};

pub struct Options {
    pub data_dir: PathBuf,
    pub league: LeagueConfig,
    pub listen: String,
    pub limits: Limits,
    pub engine: EngineConfig,
    /// Where to serve SSH; `None` turns it off.
    pub ssh_listen: Option<String>,
    pub ssh_limits: crate::ssh::SshLimits,
    /// Web pages (origins) allowed to open the WebSocket.
    pub origins: crate::limits::Origins,
    /// Serve `wss://` and `https://` with these, when set.
    pub tls: Option<crate::tls::TlsSource>,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot open the event log in {path}: {source}")]
    Store { path: PathBuf, source: StoreError },
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Ssh(#[from] crate::ssh::SshError),
    #[error("TLS: {path}: {why}")]
    Tls { path: PathBuf, why: String },
    #[error(transparent)]
    Engine(#[from] crate::engine::EngineGone),
    #[error("cannot start the fan-out thread: {0}")]
    Fanout(std::io::Error),
}

/// Why a running server stopped by itself.
#[derive(Debug, thiserror::Error)]
pub enum StopError {
    #[error("the event log failed, so the auction stopped: {0}")]
    Store(StoreError),
    #[error("the auction engine crashed: {0}")]
    EngineCrashed(String),
}

/// A server that is up and serving.
pub struct Running {
    pub addr: SocketAddr,
    /// Whether the WebSocket is served over TLS (`wss://`).
    pub tls: bool,
    /// The served certificate's fingerprint (`SHA256:...`), for clients to pin.
    pub tls_fingerprint: Option<String>,
    pub league_name: String,
    /// The seq the log was at when the server started.
    pub seq: u64,
    /// Passwords generated on this start (shown once, also in credentials.txt).
    pub generated: Vec<(String, String)>,
    pub credentials: Option<PathBuf>,
    /// The league the log was started with differs from the one passed.
    pub league_mismatch: bool,
    pub engine: EngineHandle,
    pub auth: Arc<Auth>,
    /// The SSH address and the host key's fingerprint, when SSH is on.
    pub ssh: Option<(SocketAddr, String)>,
    /// Bytes sent to SSH sessions (for benchmarks).
    pub ssh_counters: Arc<crate::ssh::output::Counters>,
    /// What every connection shares (tests reach the session layer here).
    pub context: Arc<Context>,
    shutdown: CancellationToken,
    /// The accept loops: WebSocket and HTTP, and SSH when on.
    serving: Vec<JoinHandle<()>>,
    engine_task: JoinHandle<Result<(), StoreError>>,
}

/// Opens the store, recovers the state, provisions accounts and starts
/// listening. Passwords come from `env` (`AUCTION_PASSWORD_<USER>`).
pub async fn start(
    opts: Options,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Running, StartError> {
    let dir_err = |source| StartError::DataDir {
        path: opts.data_dir.clone(),
        source,
    };
    std::fs::create_dir_all(&opts.data_dir).map_err(dir_err)?;
    let tls = match &opts.tls {
        Some(source) => Some(source.acceptor(&opts.data_dir)?),
        None => None,
    };
    let tls_fingerprint = tls.as_ref().map(|t| t.fingerprint.clone());
    let tls = tls.map(|t| t.acceptor);
    let store_err = |source| StartError::Store {
        path: opts.data_dir.clone(),
        source,
    };
    let store = Store::open(&opts.data_dir).map_err(store_err)?;
    crate::store::make_private(&opts.data_dir).map_err(dir_err)?;
    let stored_league = store.league().map_err(store_err)?;
    let league_mismatch = stored_league
        .as_ref()
        .is_some_and(|l| l != &opts.league.league);
    let league = stored_league.unwrap_or_else(|| opts.league.league.clone());
    let auth = Arc::new(Auth::open(&store, opts.league.viewer_open)?);
    let warroom = Arc::new(crate::warroom::WarRoom::open(&store).map_err(store_err)?);
    let generated = auth.provision(&league, |user| env(&password_env_var(user)))?;
    let credentials = if generated.is_empty() {
        None
    } else {
        Some(write_credentials(&opts.data_dir, &generated)?)
    };
    let (engine, engine_task) =
        crate::engine::spawn(store, &league, opts.engine.clone()).map_err(store_err)?;
    let (listener, addr) = bind(&opts.listen).await?;
    let shutdown = CancellationToken::new();
    let (_, feed) = engine.subscribe_fresh().await?;
    let fanout = crate::fanout::Fanout::start(feed).map_err(StartError::Fanout)?;
    let app = Context::new(
        engine.clone(),
        fanout,
        auth.clone(),
        warroom,
        opts.limits.clone(),
        opts.origins.clone(),
        tls.clone(),
        shutdown.clone(),
    );
    let ssh_counters = Arc::new(crate::ssh::output::Counters::default());
    let mut serving = Vec::new();
    let ssh = match &opts.ssh_listen {
        Some(ssh_listen) => {
            let (ssh_listener, ssh_addr) = bind(ssh_listen).await?;
            let key = crate::ssh::host_key(&opts.data_dir)?;
            let fingerprint = crate::ssh::fingerprint(&key);
            let limits = opts.ssh_limits.clone();
            let ssh =
                crate::ssh::serve(ssh_listener, app.clone(), key, limits, ssh_counters.clone());
            serving.push(tokio::spawn(ssh));
            Some((ssh_addr, fingerprint))
        }
        None => None,
    };
    serving.push(tokio::spawn(crate::listener::serve(listener, app.clone())));
    Ok(Running {
        addr,
        tls: tls.is_some(),
        tls_fingerprint,
        league_name: league.name.clone(),
        seq: engine.seq(),
        generated,
        credentials,
        league_mismatch,
        engine,
        auth,
        ssh,
        ssh_counters,
        context: app,
        shutdown,
        serving,
        engine_task,
    })
}

/// A listening socket on `addr`, and the address it got.
async fn bind(addr: &str) -> Result<(TcpListener, SocketAddr), StartError> {
    let err = |source| StartError::Listen {
        addr: addr.to_string(),
        source,
    };
    let listener = TcpListener::bind(addr).await.map_err(err)?;
    let local = listener.local_addr().map_err(err)?;
    Ok((listener, local))
}

impl Running {
    /// A token that stops the server when cancelled.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Waits until the server stops: shut down (by the token) or the engine
    /// fails. Closes every client (WebSocket and SSH) and flushes the log.
    /// `Err` when the engine stopped on its own: its store failed or it
    /// crashed.
    pub async fn wait(self) -> Result<(), StopError> {
        let Running {
            shutdown,
            serving,
            engine,
            context,
            mut engine_task,
            ..
        } = self;
        let engine_result = tokio::select! {
            () = shutdown.cancelled() => None,
            r = &mut engine_task => Some(r),
        };
        shutdown.cancel();
        for accept_loop in serving {
            let _ = accept_loop.await;
        }
        context.tasks.close();
        if tokio::time::timeout(Duration::from_secs(5), context.tasks.wait())
            .await
            .is_err()
        {
            tracing::warn!("some connections did not close in time");
        }
        // The engine stops once every handle to it is gone.
        drop((engine, context));
        let result = match engine_result {
            Some(r) => r,
            None => engine_task.await,
        };
        match result {
            Ok(r) => r.map_err(StopError::Store),
            Err(join) => Err(StopError::EngineCrashed(join.to_string())),
        }
    }
}
