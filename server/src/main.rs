//! `auction-server`: flags, signals and sub-commands. The work is in the library.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use auction_server::engine::EngineConfig;
use auction_server::league::{self, LeagueConfig};
use auction_server::limits::{Limits, Origins};
use auction_server::startup::{Options, start};
use auction_server::tls::{TlsFiles, TlsSource};
use clap::{Parser, Subcommand};

mod offline;

// Password hashing allocates ~19 MiB per hash from several threads; glibc's
// allocator keeps those arenas resident for good (over 200 MiB after the
// accounts are provisioned). mimalloc hands the memory back.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "auction-server",
    version,
    about = "A live player auction, served over WebSocket and SSH"
)]
struct Cli {
    /// Where the event log, accounts and keys live.
    #[arg(
        long,
        env = "AUCTION_DATA",
        default_value = "./auction-data",
        global = true
    )]
    data: PathBuf,
    /// A league file (TOML); the bundled IPL league when absent.
    #[arg(long, env = "AUCTION_LEAGUE", global = true)]
    league: Option<PathBuf>,
    /// Address for WebSocket and HTTP clients.
    #[arg(long, env = "AUCTION_LISTEN", default_value = "127.0.0.1:7878")]
    listen: String,
    /// Address for SSH (team owners: `ssh -p 2222 mi@host`).
    #[arg(long, env = "AUCTION_SSH_LISTEN", default_value = "127.0.0.1:2222")]
    ssh_listen: String,
    /// Do not serve SSH.
    #[arg(long)]
    no_ssh: bool,
    /// Serve `wss://` with this certificate chain (PEM); needs --tls-key.
    #[arg(long, env = "AUCTION_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The private key (PEM) of --tls-cert.
    #[arg(long, env = "AUCTION_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Serve `wss://` with a certificate the server makes for this name or
    /// address (repeat for several: every one clients will type), kept in
    /// the data directory as tls_cert.pem. Prints its fingerprint.
    #[arg(
        long = "tls-self-signed",
        value_name = "NAME",
        conflicts_with = "tls_cert"
    )]
    tls_self_signed: Vec<String>,
    /// A web page origin (e.g. https://auction.example.org) allowed to open
    /// the WebSocket; repeat for several, `*` for any. Clients that are not
    /// browsers send no origin and are always let in.
    #[arg(long = "allow-origin", value_name = "ORIGIN")]
    allow_origins: Vec<String>,
    /// Do not serve the spectators' page at `/` (its own origin is then not
    /// let in either).
    #[arg(long)]
    no_web: bool,
    #[command(flatten)]
    limits: LimitArgs,
    #[command(subcommand)]
    command: Option<Cmd>,
}

/// Limits that protect the server from one client, or many.
#[derive(clap::Args)]
struct LimitArgs {
    /// Most WebSocket/HTTP connections at once.
    #[arg(long, default_value_t = Limits::default().max_connections)]
    max_connections: usize,
    /// Most connections at once from one address.
    #[arg(long, default_value_t = Limits::default().max_per_address)]
    max_per_address: usize,
    /// Seconds a client has to finish the TLS and WebSocket handshakes.
    #[arg(long, value_name = "SECS", default_value_t = Limits::default().handshake_timeout.as_secs_f64())]
    handshake_timeout: f64,
    /// Seconds a client may leave our writes unread before it is dropped.
    #[arg(long, value_name = "SECS", default_value_t = Limits::default().write_timeout.as_secs_f64())]
    write_timeout: f64,
    /// Messages per second a connection may send; beyond it, reading slows.
    #[arg(long, default_value_t = Limits::default().messages_per_second)]
    messages_per_second: u32,
}

impl LimitArgs {
    fn limits(&self) -> anyhow::Result<Limits> {
        let secs = |name: &str, v: f64| {
            Duration::try_from_secs_f64(v)
                .ok()
                .filter(|d| !d.is_zero())
                .with_context(|| format!("--{name} must be a positive number of seconds, not {v}"))
        };
        if self.max_connections == 0 || self.max_per_address == 0 || self.messages_per_second == 0 {
            bail!("connection and message limits must be at least 1");
        }
        Ok(Limits {
            max_connections: self.max_connections,
            max_per_address: self.max_per_address,
            handshake_timeout: secs("handshake-timeout", self.handshake_timeout)?,
            write_timeout: secs("write-timeout", self.write_timeout)?,
            messages_per_second: self.messages_per_second,
            ..Limits::default()
        })
    }
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the auction (the default).
    Serve,
    /// Validate a league file (the bundled one without FILE) and summarise it.
    CheckConfig { file: Option<PathBuf> },
    /// Set an account's password (the server must be stopped). The password
    /// comes from AUCTION_PASSWORD, or is asked for twice on the terminal.
    Passwd { user: String },
    /// Manage accounts' SSH keys (the server must be stopped).
    User {
        #[command(subcommand)]
        cmd: UserCmd,
    },
    /// Add the players of a CSV file to the pool, all or none (the server
    /// must be stopped; while it runs, use the admin console or
    /// `auction-tui ctl import-players`).
    ImportPlayers {
        file: PathBuf,
        /// Check every row and report, changing nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Print the event log (the server must be stopped).
    Log {
        /// Only entries after this seq.
        #[arg(long, default_value_t = 0)]
        since: u64,
        /// One JSON entry per line, as stored (with its hash link).
        #[arg(long)]
        json: bool,
    },
    /// Check the log's hash chain, its replay and its snapshots; exit 1 at
    /// the first tampered or corrupt entry (the server must be stopped).
    Verify,
    /// Show the state at any point of the log (the server must be stopped).
    Replay {
        /// The last seq to apply (default: the whole log).
        #[arg(long)]
        to: Option<u64>,
        /// The whole state as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Squads, purses, unsold players and a summary (the server must be stopped).
    Export {
        #[arg(long, value_enum, default_value_t = Format::Csv)]
        format: Format,
        /// Write to FILE instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Format {
    Csv,
    Json,
}

#[derive(Subcommand)]
enum UserCmd {
    /// Let USER log in over SSH with the public key in KEYFILE (e.g. ~/.ssh/id_ed25519.pub).
    AddKey { user: String, keyfile: PathBuf },
    /// List USER's SSH keys.
    Keys { user: String },
    /// Remove one of USER's keys by its fingerprint (or a unique start of it).
    RemoveKey { user: String, fingerprint: String },
}

fn load_league(path: Option<&PathBuf>) -> anyhow::Result<LeagueConfig> {
    match path {
        Some(p) => Ok(league::load(p)?),
        None => Ok(league::bundled()),
    }
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Error: {}", report(&e));
            std::process::ExitCode::FAILURE
        }
    }
}

/// An error and its causes, one a line, leaving out a cause the lines
/// above already say (our errors name their cause in their message).
fn report(error: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if out.is_empty() {
            out = text;
        } else if !out.contains(&text) {
            out.push_str("\n  caused by: ");
            out.push_str(&text);
        }
    }
    out
}

fn run(cli: Cli) -> anyhow::Result<()> {
    // Whatever the server writes (sled's files, keys, exports' neighbours in
    // the data directory) is for this user only.
    rustix::process::umask(rustix::fs::Mode::from_bits_truncate(0o077));
    {
        use tracing_subscriber::Layer;
        use tracing_subscriber::layer::SubscriberExt;
        use tracing_subscriber::util::SubscriberInitExt;
        let levels = tracing_subscriber::EnvFilter::try_from_env("AUCTION_LOG")
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
        // tungstenite traces every message it reads, logins and their
        // passwords included: its traces are dropped whatever AUCTION_LOG
        // asks for. (A directive would also raise it to that level when
        // AUCTION_LOG asks for less, as it did: every close frame at info.)
        let no_traffic = tracing_subscriber::filter::filter_fn(|meta| {
            !(meta.target().starts_with("tungstenite") && *meta.level() == tracing::Level::TRACE)
        });
        tracing_subscriber::registry()
            .with(
                tracing_subscriber::fmt::layer()
                    .with_writer(std::io::stderr)
                    // Colours for a person at a terminal, not in a log file.
                    .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
                    .with_filter(levels)
                    .with_filter(no_traffic),
            )
            .init();
    }
    match cli.command {
        Some(Cmd::CheckConfig { file }) => {
            let config = load_league(file.as_ref().or(cli.league.as_ref()))?;
            print!("{}", league::summary(&config));
            println!("OK");
            Ok(())
        }
        Some(Cmd::Passwd { user }) => passwd(&cli.data, cli.league.as_ref(), &user),
        Some(Cmd::User { cmd }) => user_cmd(&cli.data, cli.league.as_ref(), cmd),
        Some(Cmd::ImportPlayers { file, dry_run }) => {
            let config = load_league(cli.league.as_ref())?;
            if !offline::import(&cli.data, config.league, &file, dry_run)? {
                std::process::exit(1);
            }
            Ok(())
        }
        Some(Cmd::Log { since, json }) => {
            let fallback = load_league(cli.league.as_ref())?.league;
            offline::log(&offline::open(&cli.data)?, &fallback, since, json)
        }
        Some(Cmd::Verify) => {
            let fallback = load_league(cli.league.as_ref())?.league;
            if !offline::verify(&offline::open(&cli.data)?, &fallback)? {
                std::process::exit(1);
            }
            Ok(())
        }
        Some(Cmd::Replay { to, json }) => {
            let fallback = load_league(cli.league.as_ref())?.league;
            offline::replay(&offline::open(&cli.data)?, &fallback, to, json)
        }
        Some(Cmd::Export { format, out }) => {
            let fallback = load_league(cli.league.as_ref())?.league;
            let store = offline::open(&cli.data)?;
            let (state, seq) = auction_server::record::replay(&store, &fallback, None)?;
            let export = auction_screens::export::build(&state, seq);
            let text = match format {
                Format::Csv => export.to_csv(),
                Format::Json => export.to_json(),
            };
            offline::write_out(&text, out.as_ref())
        }
        Some(Cmd::Serve) | None => serve(cli),
    }
}

/// Opens the accounts of a stopped server's data directory.
fn offline_auth(
    data: &std::path::Path,
    league: Option<&PathBuf>,
) -> anyhow::Result<auction_server::auth::Auth> {
    let config = load_league(league)?;
    std::fs::create_dir_all(data).with_context(|| format!("cannot create {}", data.display()))?;
    let store = auction_server::store::Store::open(data).with_context(|| {
        format!(
            "cannot open {} (is the server still running?)",
            data.display()
        )
    })?;
    let auth = auction_server::auth::Auth::open(&store, config.viewer_open)?;
    let league = store.league()?.unwrap_or(config.league);
    let generated = auth.provision(&league, |_| None)?;
    if !generated.is_empty() {
        let path = auction_server::auth::write_credentials(data, &generated)?;
        println!(
            "generated passwords for the new accounts: {}",
            path.display()
        );
    }
    Ok(auth)
}

fn user_cmd(data: &std::path::Path, league: Option<&PathBuf>, cmd: UserCmd) -> anyhow::Result<()> {
    use auction_server::ssh::keys;
    let auth = offline_auth(data, league)?;
    let check = |user: &str| -> anyhow::Result<()> {
        if auth.access(user)?.is_none() {
            bail!("there is no account `{user}`");
        }
        Ok(())
    };
    match cmd {
        UserCmd::AddKey { user, keyfile } => {
            check(&user)?;
            let text = std::fs::read_to_string(&keyfile)
                .with_context(|| format!("cannot read {}", keyfile.display()))?;
            let fp = keys::add(&auth, &user, &text)?;
            println!("{user} may now log in over SSH with {fp}");
        }
        UserCmd::Keys { user } => {
            check(&user)?;
            let list = keys::list(&auth, &user)?;
            if list.is_empty() {
                println!("{user} has no SSH keys");
            }
            for (fp, alg, comment) in list {
                println!("{fp}  {alg}  {comment}");
            }
        }
        UserCmd::RemoveKey { user, fingerprint } => {
            check(&user)?;
            let fp = keys::remove(&auth, &user, &fingerprint)?;
            println!("removed {fp} from {user}");
        }
    }
    Ok(())
}

fn passwd(data: &std::path::Path, league: Option<&PathBuf>, user: &str) -> anyhow::Result<()> {
    let auth = offline_auth(data, league)?;
    if auth.access(user)?.is_none() {
        bail!("there is no account `{user}`");
    }
    let password = match std::env::var("AUCTION_PASSWORD") {
        Ok(p) if !p.is_empty() => p,
        _ if std::io::stdin().is_terminal() => {
            let first = rpassword::prompt_password(format!("New password for {user}: "))?;
            let again = rpassword::prompt_password("Again: ")?;
            if first != again {
                bail!("the two passwords differ; nothing changed");
            }
            first
        }
        _ => {
            let mut line = String::new();
            std::io::stdin().read_line(&mut line)?;
            line.trim_end_matches(['\r', '\n']).to_string()
        }
    };
    auth.set_password(user, &password)?;
    println!("Password for {user} changed; its open sessions are logged out.");
    Ok(())
}

fn serve(cli: Cli) -> anyhow::Result<()> {
    let league = load_league(cli.league.as_ref())?;
    let limits = cli.limits.limits()?;
    let tls = match (&cli.tls_cert, &cli.tls_key) {
        (Some(cert), Some(key)) => Some(TlsSource::Files(TlsFiles {
            cert: cert.clone(),
            key: key.clone(),
        })),
        _ if !cli.tls_self_signed.is_empty() => {
            Some(TlsSource::SelfSigned(cli.tls_self_signed.clone()))
        }
        _ => None,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let opts = Options {
            data_dir: cli.data.clone(),
            league,
            listen: cli.listen.clone(),
            limits,
            engine: EngineConfig::default(),
            ssh_listen: (!cli.no_ssh).then(|| cli.ssh_listen.clone()),
            ssh_limits: Default::default(),
            origins: match cli.no_web {
                true => Origins::new(cli.allow_origins.clone()).without_page(),
                false => Origins::new(cli.allow_origins.clone()),
            },
            tls,
        };
        // Listen for Ctrl-C and SIGTERM before saying where we listen: a
        // signal sent right after must stop the server cleanly too.
        let stop_signal = stop_signal()?;
        let running = start(opts, |var| std::env::var(var).ok()).await?;
        let addr = running.addr;
        println!("{} — auction server", running.league_name);
        let (ws, http) = if running.tls { ("wss", "https") } else { ("ws", "http") };
        println!("listening on {ws}://{addr}/ws (health: {http}://{addr}/health)");
        if !cli.no_web {
            println!("spectators: open {http}://{addr}/ to watch");
        }
        println!("data in {} (event log at seq {})", cli.data.display(), running.seq);
        if running.league_mismatch {
            println!(
                "note: this data directory was started with another league; it keeps that league (use a fresh --data to switch)"
            );
        }
        if let Some(path) = &running.credentials {
            let users: Vec<&str> = running.generated.iter().map(|(u, _)| u.as_str()).collect();
            println!("generated passwords for {} written to {} (mode 0600)", users.join(", "), path.display());
        }
        if let Some(fingerprint) = &running.tls_fingerprint {
            println!("tls certificate {fingerprint}: clients pin it with --fingerprint {fingerprint}");
            if !cli.tls_self_signed.is_empty() {
                let cert = cli.data.join(auction_server::tls::SELF_SIGNED_CERT);
                println!("  (or trust the file: --ca {})", cert.display());
            }
        }
        if let Some((ssh_addr, fingerprint)) = &running.ssh {
            println!("ssh on {ssh_addr} (host key {fingerprint}): ssh -p {} mi@{}", ssh_addr.port(), ssh_addr.ip());
        }
        println!("connect: auction-tui --server {ws}://{addr}/ws --user presenter");
        println!("stop with Ctrl-C");
        let stop = running.shutdown_token();
        tokio::spawn(async move {
            stop_signal.await;
            tracing::info!("shutting down");
            stop.cancel();
        });
        running.wait().await?;
        Ok(())
    })
}

/// Resolves at the first Ctrl-C or SIGTERM; both are caught from the
/// moment this is called.
#[cfg(unix)]
fn stop_signal() -> std::io::Result<impl Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
    })
}

#[cfg(not(unix))]
fn stop_signal() -> std::io::Result<impl Future<Output = ()>> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}
