//! Team owners bid over SSH: `ssh -p 2222 mi@host` opens the team screen.
//!
//! The russh handler only authenticates and forwards: bytes go to one
//! decoder per session, sizes and window changes become resizes. One task per
//! session owns its terminal and its app and runs the same event loop and
//! screens as `auction-tui`, against the engine in-process.

pub mod accept;
pub mod backend;
pub mod input;
pub mod keys;
pub mod link;
pub mod output;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use auction_screens::app::App as Screens;
use auction_screens::event_loop::{self, Host, LoginRequest};
use auction_screens::keymap::Keymap;
use auction_screens::link::{Input, Link};
use crossterm::{cursor, execute, terminal as term};
use ratatui::layout::Rect;
use ratatui::{Terminal, TerminalOptions, Viewport};
use russh::keys::ssh_key::LineEnding;
use russh::keys::ssh_key::private::Ed25519Keypair;
use russh::keys::{HashAlg, PrivateKey};
use russh::server::{Auth, ChannelOpenHandle, Msg, Session as SshSession};
use russh::{Channel, ChannelId, ChannelOpenFailure, MethodKind, MethodSet};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, mpsc};

use crate::auth::{AccountName, Session};
use crate::context::Context;
use output::{ChannelWriter, Counters};

const HOST_KEY_FILE: &str = "ssh_host_ed25519_key";
/// A lone ESC is the Esc key if nothing follows within this.
const ESC_PAUSE: Duration = Duration::from_millis(30);

#[derive(Debug, thiserror::Error)]
pub enum SshError {
    #[error("cannot read or write the SSH host key {path}: {source}")]
    HostKeyIo {
        path: String,
        source: std::io::Error,
    },
    #[error("the SSH host key {path} is not a valid OpenSSH private key: {message}")]
    HostKey { path: String, message: String },
}

/// SSH settings.
#[derive(Clone, Debug)]
pub struct SshLimits {
    /// SSH connections at once, logged in or not (each also counts in the
    /// per-address limit shared with WebSocket).
    pub max_connections: usize,
    /// Screens of the team owners, the presenter and the admin.
    pub max_sessions: usize,
    /// Big screens of the open viewer account: strangers', so capped apart
    /// from the owners' (who must always get in).
    pub max_viewer_sessions: usize,
    /// A connection is closed if its key exchange takes longer than this,
    /// or if it has not logged in this long after it.
    pub login_deadline: Duration,
    pub idle_timeout: Duration,
}

impl Default for SshLimits {
    fn default() -> Self {
        SshLimits {
            max_connections: 1000,
            max_sessions: 500,
            max_viewer_sessions: 20,
            login_deadline: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(30 * 60),
        }
    }
}

/// Loads the host key from the data directory, creating it on first start.
pub fn host_key(data_dir: &Path) -> Result<PrivateKey, SshError> {
    let path = data_dir.join(HOST_KEY_FILE);
    let shown = path.display().to_string();
    match std::fs::read_to_string(&path) {
        Ok(text) => PrivateKey::from_openssh(text.as_bytes()).map_err(|e| SshError::HostKey {
            path: shown,
            message: e.to_string(),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = PrivateKey::from(Ed25519Keypair::from_seed(&rand::random()));
            let text = key
                .to_openssh(LineEnding::LF)
                .map_err(|e| SshError::HostKey {
                    path: shown.clone(),
                    message: e.to_string(),
                })?;
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                options.mode(0o600);
            }
            let io = |source| SshError::HostKeyIo {
                path: shown.clone(),
                source,
            };
            let mut file = options.open(&path).map_err(io)?;
            std::io::Write::write_all(&mut file, text.as_bytes()).map_err(io)?;
            file.sync_all().map_err(io)?;
            Ok(key)
        }
        Err(source) => Err(SshError::HostKeyIo {
            path: shown,
            source,
        }),
    }
}

/// `SHA256:...`, as `ssh` shows it.
pub fn fingerprint(key: &PrivateKey) -> String {
    key.public_key().fingerprint(HashAlg::Sha256).to_string()
}

/// Serves SSH on `listener` until `shutdown` is cancelled.
pub async fn serve(
    listener: TcpListener,
    app: Arc<Context>,
    key: PrivateKey,
    limits: SshLimits,
    counters: Arc<Counters>,
) {
    let config = russh::server::Config {
        keys: vec![key],
        methods: MethodSet::from(
            &[
                MethodKind::PublicKey,
                MethodKind::Password,
                MethodKind::None,
            ][..],
        ),
        inactivity_timeout: Some(limits.idle_timeout),
        keepalive_interval: Some(Duration::from_secs(30)),
        auth_rejection_time: Duration::from_secs(1),
        auth_rejection_time_initial: Some(Duration::ZERO),
        max_auth_attempts: 6,
        nodelay: true,
        ..Default::default()
    };
    let shared = Shared {
        sessions: Arc::new(Semaphore::new(limits.max_sessions)),
        viewer_sessions: Arc::new(Semaphore::new(limits.max_viewer_sessions)),
        counters,
    };
    accept::serve(listener, app, Arc::new(config), limits, shared).await;
}

/// What every SSH connection shares.
#[derive(Clone)]
struct Shared {
    sessions: Arc<Semaphore>,
    viewer_sessions: Arc<Semaphore>,
    counters: Arc<Counters>,
}

/// One SSH connection. Authenticates, then forwards to its session task.
pub struct Connection {
    app: Arc<Context>,
    peer: SocketAddr,
    shared: Shared,
    session: Option<Session>,
    /// Set once logged in: the accept loop's login deadline looks at it.
    logged_in: Arc<std::sync::atomic::AtomicBool>,
    channel: Option<(ChannelId, tokio::sync::OwnedSemaphorePermit)>,
    size: (u16, u16),
    input: Option<mpsc::Sender<SshIn>>,
}

/// What the handler forwards to a session.
enum SshIn {
    Bytes(Vec<u8>),
    Resize(u16, u16),
    Closed,
}

/// The largest screen drawn over SSH: what the big screen is designed for.
/// A larger terminal gets a 300x80 screen in its corner; each cell costs
/// memory and every redraw CPU, so a stranger's terminal size must not
/// set them.
pub const MAX_COLS: u16 = 300;
pub const MAX_ROWS: u16 = 80;
/// Window changes closer together than this are drawn once, at the last
/// size.
const RESIZE_EVERY: Duration = Duration::from_millis(100);

fn size(cols: u32, rows: u32) -> (u16, u16) {
    (
        cols.clamp(1, u32::from(MAX_COLS)) as u16,
        rows.clamp(1, u32::from(MAX_ROWS)) as u16,
    )
}

impl Connection {
    fn ip(&self) -> std::net::IpAddr {
        self.peer.ip()
    }

    fn logged_in_as(&mut self, session: Session) {
        tracing::info!(peer = %self.peer, user = %session.user, "ssh login");
        self.session = Some(session);
        self.logged_in
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }

    fn key_allowed(&self, user: &str, offered: &russh::keys::PublicKey) -> bool {
        self.app
            .auth
            .keys(user)
            .unwrap_or_default()
            .iter()
            .filter_map(|line| russh::keys::PublicKey::from_openssh(line).ok())
            .any(|k| k.key_data() == offered.key_data())
    }

    /// Opens a session for an account already authenticated (by key, or
    /// the open viewer); storing it flushes, so on a blocking thread.
    async fn accept_as(&mut self, user: &str) -> Auth {
        let (auth, user) = (self.app.auth.clone(), user.to_string());
        let opened = tokio::task::spawn_blocking(move || auth.open_session(&user))
            .await
            .map_err(|e| e.to_string())
            .and_then(|r| r.map_err(|e| e.to_string()));
        match opened {
            Ok(s) => {
                self.logged_in_as(s);
                Auth::Accept
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not open a session");
                Auth::reject()
            }
        }
    }
}

impl russh::server::Handler for Connection {
    type Error = russh::Error;

    async fn auth_none(&mut self, user: &str) -> Result<Auth, Self::Error> {
        let user = AccountName::new(user);
        if user.as_str() == "viewer" && self.app.auth.is_open(&user) {
            return Ok(self.accept_as(&user).await);
        }
        Ok(Auth::reject())
    }

    async fn auth_password(&mut self, user: &str, password: &str) -> Result<Auth, Self::Error> {
        let login =
            crate::session::login(&self.app, user.to_string(), password.to_string(), self.ip());
        match login.await {
            Ok(s) => {
                self.logged_in_as(s);
                Ok(Auth::Accept)
            }
            Err(_) => Ok(Auth::reject()),
        }
    }

    async fn auth_publickey_offered(
        &mut self,
        user: &str,
        offer: russh::server::PublicKeyOffer<'_>,
    ) -> Result<Auth, Self::Error> {
        Ok(
            if self.key_allowed(&AccountName::new(user), offer.public_key) {
                Auth::Accept
            } else {
                Auth::reject()
            },
        )
    }

    async fn auth_publickey(
        &mut self,
        user: &str,
        key: russh::server::VerifiedPublicKey<'_>,
    ) -> Result<Auth, Self::Error> {
        let user = AccountName::new(user);
        if self.key_allowed(&user, key.public_key) {
            return Ok(self.accept_as(&user).await);
        }
        Ok(Auth::reject())
    }

    async fn channel_open_session(
        &mut self,
        channel: Channel<Msg>,
        reply: ChannelOpenHandle,
        _session: &mut SshSession,
    ) -> Result<(), Self::Error> {
        let Some(session) = self.session.as_ref().filter(|_| self.channel.is_none()) else {
            reply
                .reject(ChannelOpenFailure::AdministrativelyProhibited)
                .await;
            return Ok(());
        };
        // Viewers (strangers) have their own cap: owners always get in.
        let (pool, which) = match session.access {
            auction_proto::Access::Viewer => (&self.shared.viewer_sessions, "viewer"),
            _ => (&self.shared.sessions, "owner"),
        };
        match pool.clone().try_acquire_owned() {
            Ok(permit) => {
                self.channel = Some((channel.id(), permit));
                reply.accept().await;
            }
            Err(_) => {
                tracing::warn!(peer = %self.peer, which, "SSH session limit reached");
                reply.reject(ChannelOpenFailure::ResourceShortage).await;
            }
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    async fn pty_request(
        &mut self,
        channel: ChannelId,
        _term: &str,
        cols: u32,
        rows: u32,
        _pix_w: u32,
        _pix_h: u32,
        _modes: &[(russh::Pty, u32)],
        session: &mut SshSession,
    ) -> Result<(), Self::Error> {
        self.size = size(cols, rows);
        session.channel_success(channel)?;
        Ok(())
    }

    async fn env_request(
        &mut self,
        channel: ChannelId,
        _name: &str,
        _value: &str,
        session: &mut SshSession,
    ) -> Result<(), Self::Error> {
        session.channel_success(channel)?;
        Ok(())
    }

    async fn exec_request(
        &mut self,
        channel: ChannelId,
        _data: &[u8],
        session: &mut SshSession,
    ) -> Result<(), Self::Error> {
        // Only the interactive screen is offered.
        session.channel_failure(channel)?;
        Ok(())
    }

    async fn subsystem_request(
        &mut self,
        channel: ChannelId,
        _name: &str,
        session: &mut SshSession,
    ) -> Result<(), Self::Error> {
        session.channel_failure(channel)?;
        Ok(())
    }

    async fn shell_request(
        &mut self,
        channel: ChannelId,
        session: &mut SshSession,
    ) -> Result<(), Self::Error> {
        let (Some(auth_session), Some((id, _))) = (self.session.clone(), self.channel.as_ref())
        else {
            session.channel_failure(channel)?;
            return Ok(());
        };
        if *id != channel || self.input.is_some() {
            session.channel_failure(channel)?;
            return Ok(());
        }
        session.channel_success(channel)?;
        let (tx, rx) = mpsc::channel(256);
        self.input = Some(tx);
        self.app.tasks.spawn(run_session(
            self.app.clone(),
            auth_session,
            session.handle(),
            channel,
            self.size,
            rx,
            self.shared.counters.clone(),
        ));
        Ok(())
    }

    async fn data(
        &mut self,
        _channel: ChannelId,
        data: &[u8],
        _session: &mut SshSession,
    ) -> Result<(), Self::Error> {
        if let Some(tx) = &self.input {
            // A client pasting faster than we decode loses keys, never memory.
            let _ = tx.try_send(SshIn::Bytes(data.to_vec()));
        }
        Ok(())
    }

    async fn window_change_request(
        &mut self,
        _channel: ChannelId,
        cols: u32,
        rows: u32,
        _pix_w: u32,
        _pix_h: u32,
        _session: &mut SshSession,
    ) -> Result<(), Self::Error> {
        self.size = size(cols, rows);
        if let Some(tx) = &self.input {
            let _ = tx.send(SshIn::Resize(self.size.0, self.size.1)).await;
        }
        Ok(())
    }

    async fn channel_eof(
        &mut self,
        _channel: ChannelId,
        _session: &mut SshSession,
    ) -> Result<(), Self::Error> {
        if let Some(tx) = &self.input {
            let _ = tx.send(SshIn::Closed).await;
        }
        Ok(())
    }

    async fn channel_close(
        &mut self,
        _channel: ChannelId,
        _session: &mut SshSession,
    ) -> Result<(), Self::Error> {
        if let Some(tx) = self.input.take() {
            let _ = tx.send(SshIn::Closed).await;
        }
        self.channel = None;
        Ok(())
    }
}

/// Turns forwarded bytes into inputs for the event loop. Window changes
/// come at most every [`RESIZE_EVERY`]: a burst is drawn once, at its last
/// size.
async fn decode(mut rx: mpsc::Receiver<SshIn>, tx: mpsc::Sender<Input>, size: backend::SharedSize) {
    let mut decoder = input::Decoder::default();
    let mut resize = Resizes::default();
    loop {
        let wait = match (decoder.pending(), resize.due_in()) {
            (true, _) => Some(ESC_PAUSE),
            (false, due) => due,
        };
        let msg = match wait {
            Some(wait) => match tokio::time::timeout(wait, rx.recv()).await {
                Ok(m) => m,
                Err(_) => {
                    let mut late = Vec::new();
                    late.extend(decoder.flush().map(Input::Key));
                    late.extend(resize.take_due(&size).map(|(w, h)| Input::Resize(w, h)));
                    for i in late {
                        if tx.send(i).await.is_err() {
                            return;
                        }
                    }
                    continue;
                }
            },
            None => rx.recv().await,
        };
        let inputs = match msg {
            Some(SshIn::Bytes(b)) => decoder.feed(&b).into_iter().map(Input::Key).collect(),
            Some(SshIn::Resize(w, h)) => {
                resize.ask(w, h);
                resize
                    .take_due(&size)
                    .map(|(w, h)| Input::Resize(w, h))
                    .into_iter()
                    .collect()
            }
            Some(SshIn::Closed) | None => vec![Input::Closed],
        };
        for i in inputs {
            let closed = matches!(i, Input::Closed);
            if tx.send(i).await.is_err() || closed {
                return;
            }
        }
    }
}

/// Window changes asked for, and when the last one was drawn.
#[derive(Default)]
struct Resizes {
    wanted: Option<(u16, u16)>,
    last: Option<tokio::time::Instant>,
}

impl Resizes {
    fn ask(&mut self, w: u16, h: u16) {
        self.wanted = Some((w, h));
    }

    /// How long until a wanted size may be drawn (`None`: nothing wanted).
    fn due_in(&self) -> Option<Duration> {
        self.wanted?;
        Some(self.last.map_or(Duration::ZERO, |t| {
            (t + RESIZE_EVERY).saturating_duration_since(tokio::time::Instant::now())
        }))
    }

    /// The size to draw now, if one is wanted and due. The backend learns
    /// it before the terminal resizes.
    fn take_due(&mut self, size: &backend::SharedSize) -> Option<(u16, u16)> {
        if self.due_in()? > Duration::ZERO {
            return None;
        }
        let (w, h) = self.wanted.take()?;
        self.last = Some(tokio::time::Instant::now());
        size.set(w, h);
        Some((w, h))
    }
}

/// Told to an SSH user whose session the server closes as it stops.
pub const GOODBYE_RESTART: &str = "\r\nThe auction server is restarting. Nothing was lost: reconnect in a moment with the same ssh command.\r\n";
/// Told to an SSH user whose login ended.
pub const GOODBYE_ENDED: &str = "\r\nYour session has ended (the password was changed, or you were logged out): connect again to log in.\r\n";

/// One session: owns the terminal and the app until the owner leaves.
async fn run_session(
    app: Arc<Context>,
    session: Session,
    handle: russh::server::Handle,
    channel: ChannelId,
    size: (u16, u16),
    bytes: mpsc::Receiver<SshIn>,
    counters: Arc<Counters>,
) {
    let (out_tx, out_rx) = mpsc::channel::<Vec<u8>>(output::QUEUE);
    let (input_tx, input_rx) = mpsc::channel::<Input>(256);
    let shared_size = backend::SharedSize::new(size.0, size.1);
    tokio::spawn(decode(bytes, input_tx.clone(), shared_size.clone()));
    let lost = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer_handle = handle.clone();
    let writer = tokio::spawn(output::send_chunks(
        out_rx,
        lost.clone(),
        input_tx.clone(),
        async move |chunk| writer_handle.data(channel, chunk).await.is_ok(),
    ));
    // Close the session when its login ends (password changed, logged out,
    // expired) or the server stops, and say which before it closes.
    let why = Arc::new(std::sync::OnceLock::<&'static str>::new());
    let watch = {
        let (ended, tx) = (app.auth.session_end(&session), input_tx.clone());
        let (stop, why) = (app.shutdown.clone(), why.clone());
        tokio::spawn(async move {
            let said = tokio::select! {
                () = ended => GOODBYE_ENDED,
                () = stop.cancelled() => GOODBYE_RESTART,
            };
            let _ = why.set(said);
            let _ = tx.send(Input::Closed).await;
        })
    };
    let mut out = ChannelWriter::new(out_tx, lost, counters);
    let _ = execute!(
        out,
        term::EnterAlternateScreen,
        cursor::Hide,
        term::Clear(term::ClearType::All)
    );
    let options = TerminalOptions {
        viewport: Viewport::Fixed(Rect::new(0, 0, size.0, size.1)),
    };
    let result =
        match Terminal::with_options(backend::RemoteBackend::new(out, shared_size), options) {
            Ok(mut terminal) => {
                let mut host = SshHost {
                    app: app.clone(),
                    session: session.clone(),
                };
                let mut screens = Screens::new(Keymap::defaults(), host.now_ms());
                screens.set_request_prefix(rand::random());
                let link = host.connect(LoginRequest {
                    server: String::new(),
                    user: session.user.to_string(),
                    password: String::new(),
                });
                let r =
                    event_loop::run(&mut terminal, &mut screens, input_rx, &mut host, Some(link))
                        .await
                        .map(|_| ());
                // Give the owner's terminal back as it was, then say why.
                let out = terminal.backend_mut();
                let _ = execute!(out, cursor::Show, term::LeaveAlternateScreen);
                if let Some(said) = why.get() {
                    let _ = std::io::Write::write_all(out, said.as_bytes());
                    let _ = std::io::Write::flush(out);
                }
                r
            }
            Err(e) => Err(e),
        };
    watch.abort();
    drop(input_tx);
    if let Err(e) = result {
        tracing::debug!(user = %session.user, error = %e, "ssh session ended with an error");
    }
    // Let the last bytes go out, then say goodbye.
    let _ = tokio::time::timeout(Duration::from_secs(2), writer).await;
    let _ = handle.exit_status_request(channel, 0).await;
    let _ = handle.eof(channel).await;
    let _ = handle.close(channel).await;
    tracing::info!(user = %session.user, "ssh session closed");
}

/// The screens' host over SSH: its link goes straight to the engine as the
/// account that logged in, and it opens no file of the server's.
struct SshHost {
    app: Arc<Context>,
    session: Session,
}

impl Host for SshHost {
    /// The SSH login is the only one: any login (there is no form) links
    /// to the engine as that account.
    fn connect(&mut self, _login: LoginRequest) -> Link {
        link::in_process(self.app.clone(), self.session.clone())
    }

    async fn read_file(&mut self, path: &str) -> Result<String, String> {
        tracing::warn!(user = %self.session.user, "an SSH screen asked to read a file; refused");
        Err(format!(
            "{path}: over SSH the server opens none of its own files. Import from your \
             machine: auction-tui ctl --user admin import-players FILE"
        ))
    }

    fn now_ms(&self) -> u64 {
        crate::engine::actor::system_now_ms()
    }
}
