//! `auction-tui ctl`: a headless client for scripts, bots and operators.
//!
//! Exit codes: 0 accepted, 1 rejected, 2 usage, connection or login error.

use std::io::Write;
use std::time::Duration;

use auction_proto::msg::{ClientMsg, ServerMsg};
use auction_proto::{Command, Money, State, TeamCode};
use clap::{Args, Subcommand};

use crate::net::{DEFAULT_SERVER, NetError, WsClient};
use auction_screens::describe;
use auction_screens::lookup::find_player;

#[derive(Args, Debug, Clone)]
pub struct CtlArgs {
    /// The server's WebSocket URL.
    #[arg(long, env = "AUCTION_SERVER", default_value = DEFAULT_SERVER)]
    pub server: String,
    /// The account to act as.
    #[arg(long, env = "AUCTION_USER", default_value = "presenter")]
    pub user: String,
    #[command(flatten)]
    pub trust: crate::net::Trust,
    /// Print the server's messages as JSON, one per line.
    #[arg(long)]
    pub json: bool,
    #[command(subcommand)]
    pub command: CtlCommand,
}

#[derive(Subcommand, Debug, Clone)]
pub enum CtlCommand {
    /// Print the auction's state.
    State,
    /// Start the auction.
    Start {
        /// Seed for the order inside each set (random when absent).
        #[arg(long)]
        seed: Option<u64>,
    },
    Pause,
    Resume,
    /// Put the next player of the order on the block.
    Next,
    /// Put a player on the block: an id (`17`, `#17`) or a name (unique part).
    Nominate {
        player: String,
    },
    /// Bid an amount for a team: `75`, `75L`, `1.25cr`.
    Bid {
        team: String,
        amount: Money,
    },
    /// Bid the next valid amount for a team.
    Raise {
        team: String,
    },
    /// Call "going once".
    Once,
    /// Call "going twice".
    Twice,
    /// The hammer: sold to the leading team.
    Sold,
    /// Close the lot without a bid.
    Unsold,
    /// Take back the last bid.
    Undo,
    /// Reopen the last closed lot (refunds a sale).
    UndoSale,
    /// Take the player on the block back to the pool.
    ResetLot,
    /// Start an accelerated round of the unsold players.
    Accelerated,
    /// Right to Match: the holder uses its card, declines, or matches the
    /// final price (your own team; the presenter and admin with --team).
    Rtm {
        #[arg(value_enum)]
        action: RtmArg,
        #[arg(long)]
        team: Option<String>,
    },
    /// Right to Match: the winner's one final raise (the hammer price again:
    /// no raise).
    RtmRaise {
        amount: auction_proto::Money,
        #[arg(long)]
        team: Option<String>,
    },
    /// Ask back unsold players for the accelerated round (your own team; the
    /// presenter and admin name one with --team). No players withdraws the list.
    RequestAccelerated {
        #[arg(long)]
        team: Option<String>,
        players: Vec<String>,
    },
    /// Add the players of a CSV file (config/players.csv's columns), all or
    /// none (admin).
    ImportPlayers {
        file: std::path::PathBuf,
    },
    /// Take a player out of the auction (admin).
    WithdrawPlayer {
        player: String,
    },
    /// Bring a withdrawn player back to the pool (admin).
    RestorePlayer {
        player: String,
    },
    /// Print the event log.
    History {
        #[arg(long, default_value_t = 0)]
        since: u64,
    },
    /// Print each event as it happens, until killed.
    Watch,
    /// Your team's private shortlist (team accounts).
    Shortlist {
        #[command(subcommand)]
        what: ShortlistCmd,
    },
    /// Your team's proxy-bid ceilings: the server bids for you up to one
    /// (team accounts; only your team sees them).
    Proxy {
        #[command(subcommand)]
        what: crate::ctl_proxy::ProxyCmd,
    },
    /// Squads with prices, purses, unsold players and a summary.
    Export {
        #[arg(long, value_enum, default_value_t = ExportFormat::Csv)]
        format: ExportFormat,
        /// Write to FILE instead of standard output.
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
}

#[derive(Subcommand, Debug, Clone)]
pub enum ShortlistCmd {
    /// Print it.
    Show,
    /// Add a player (or change its target and note).
    Add {
        player: String,
        /// The most you mean to pay (75L, 1.25cr).
        #[arg(long)]
        target: Option<auction_proto::Money>,
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Take a player off it.
    Remove { player: String },
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum RtmArg {
    Use,
    Decline,
    Match,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum ExportFormat {
    Csv,
    Json,
}

/// Why ctl stopped, as an exit code.
pub enum Outcome {
    Accepted,
    Rejected,
    Failed,
}

impl Outcome {
    pub fn code(&self) -> u8 {
        match self {
            Outcome::Accepted => 0,
            Outcome::Rejected => 1,
            Outcome::Failed => 2,
        }
    }
}

fn print_json(raw: &str) {
    // The session token is a secret: never echo it.
    let shown = match serde_json::from_str::<serde_json::Value>(raw) {
        Ok(mut v) if v.get("token").is_some() => {
            v["token"] = "<redacted>".into();
            v.to_string()
        }
        _ => raw.to_string(),
    };
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{shown}");
    let _ = out.flush();
}

/// Reads messages until `pick` takes one (its answer) or 10 s pass.
pub(crate) async fn wait_for<T>(
    conn: &mut WsClient,
    mut pick: impl FnMut(ServerMsg) -> Option<Result<T, Outcome>>,
) -> Result<T, Outcome> {
    let wait = async {
        loop {
            match conn.recv().await {
                Ok(msg) => {
                    if let Some(answer) = pick(msg) {
                        return answer;
                    }
                }
                Err(e) => return Err(fail(e)),
            }
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(10), wait)
        .await
        .unwrap_or_else(|_| Err(fail("no answer from the server within 10 s")))
}

/// The server's error, said as a refusal.
pub(crate) fn refused<T>(message: &str) -> Option<Result<T, Outcome>> {
    eprintln!("rejected: {message}");
    Some(Err(Outcome::Rejected))
}

/// The shortlist the server sends after a change (or its error).
async fn next_shortlist(
    conn: &mut WsClient,
) -> Result<Vec<auction_proto::msg::ShortlistEntry>, Outcome> {
    wait_for(conn, |msg| match msg {
        ServerMsg::Shortlist { entries } => Some(Ok(entries)),
        ServerMsg::Error { message, .. } => refused(&message),
        _ => None,
    })
    .await
}

/// Shows or edits the team's shortlist (`current`: as the welcome gave it).
async fn shortlist(
    mut conn: WsClient,
    state: &State,
    current: Vec<auction_proto::msg::ShortlistEntry>,
    what: &ShortlistCmd,
) -> Outcome {
    let edited = match what {
        ShortlistCmd::Show => {
            print!(
                "{}",
                auction_screens::shortlist_edit::describe(&current, state)
            );
            conn.close().await;
            return Outcome::Accepted;
        }
        ShortlistCmd::Add {
            player,
            target,
            note,
        } => find_player(state, player).map(|player| {
            auction_screens::shortlist_edit::with(
                &current,
                auction_proto::msg::ShortlistEntry {
                    player,
                    target: *target,
                    note: note.clone(),
                },
            )
        }),
        ShortlistCmd::Remove { player } => find_player(state, player)
            .and_then(|id| auction_screens::shortlist_edit::without(&current, id)),
    };
    let entries = match edited {
        Ok(e) => e,
        Err(e) => {
            conn.close().await;
            eprintln!("rejected: {e}");
            return Outcome::Rejected;
        }
    };
    if let Err(e) = conn.send(&ClientMsg::SetShortlist { entries }).await {
        return fail(e);
    }
    let outcome = match next_shortlist(&mut conn).await {
        Ok(list) => {
            print!(
                "{}",
                auction_screens::shortlist_edit::describe(&list, state)
            );
            Outcome::Accepted
        }
        Err(o) => o,
    };
    conn.close().await;
    outcome
}

/// Says what failed; the exit status for it.
pub(crate) fn fail(e: impl std::fmt::Display) -> Outcome {
    eprintln!("error: {e}");
    Outcome::Failed
}

/// Runs one ctl command to the end.
pub async fn run(args: CtlArgs, password: String) -> Outcome {
    if matches!(args.command, CtlCommand::Watch) {
        let login = crate::session::Login {
            server: args.server.clone(),
            user: args.user.clone(),
            password,
            trust: args.trust.clone(),
        };
        return watch(login, args.json).await;
    }
    let (conn, welcome, snapshot) = match log_in(&args, &password).await {
        Ok(opened) => opened,
        Err(outcome) => return outcome,
    };
    let (state, seq) = (snapshot.state, snapshot.seq);
    match &args.command {
        CtlCommand::State => {
            if !args.json {
                print!("{}", describe::summary(&state, seq));
            }
            conn.close().await;
            Outcome::Accepted
        }
        CtlCommand::Shortlist { what } => {
            if !matches!(welcome.access, auction_proto::Access::Team { .. }) {
                conn.close().await;
                return fail("only a team account has a war room");
            }
            let current = welcome.shortlist.clone().unwrap_or_default();
            shortlist(conn, &state, current, what).await
        }
        CtlCommand::Proxy { what } => {
            if !matches!(welcome.access, auction_proto::Access::Team { .. }) {
                conn.close().await;
                return fail("only a team account holds proxy ceilings");
            }
            let current = welcome.ceilings.clone().unwrap_or_default();
            crate::ctl_proxy::run(conn, &state, current, what).await
        }
        CtlCommand::Export { format, out } => {
            conn.close().await;
            export(&state, seq, format, out.as_deref())
        }
        CtlCommand::History { since } => history(conn, &state, *since, args.json).await,
        command => match to_command(command, &welcome.access, &state).await {
            Ok(command) => submit(conn, command, args.json).await,
            Err(e) => {
                conn.close().await;
                fail(e)
            }
        },
    }
}

/// Connects and logs in; with `--json`, prints the welcome.
async fn log_in(
    args: &CtlArgs,
    password: &str,
) -> Result<(WsClient, crate::net::Welcome, auction_proto::Snapshot), Outcome> {
    let mut conn = WsClient::connect(&args.server, &args.trust)
        .await
        .map_err(fail)?;
    let welcome = match conn.login(&args.user, password).await {
        Ok(w) => w,
        Err(NetError::Server { message, .. }) => {
            return Err(fail(format!("login as {} failed: {message}", args.user)));
        }
        Err(e) => return Err(fail(e)),
    };
    let Some(snapshot) = welcome.snapshot.clone() else {
        return Err(fail("the server sent no snapshot"));
    };
    if args.json && !matches!(args.command, CtlCommand::Export { .. }) {
        let welcome_msg = ServerMsg::Welcome {
            v: auction_proto::msg::PROTOCOL_VERSION,
            user: welcome.user.clone(),
            access: welcome.access.clone(),
            token: welcome.token.clone(),
            expires_at_ms: welcome.expires_at_ms,
            snapshot: Some(snapshot.clone()),
            shortlist: welcome.shortlist.clone(),
            ceilings: welcome.ceilings.clone(),
        };
        print_json(&welcome_msg.to_json());
    }
    Ok((conn, welcome, snapshot))
}

fn export(
    state: &State,
    seq: u64,
    format: &ExportFormat,
    out: Option<&std::path::Path>,
) -> Outcome {
    let export = auction_screens::export::build(state, seq);
    let text = match format {
        ExportFormat::Csv => export.to_csv(),
        ExportFormat::Json => export.to_json(),
    };
    match out {
        Some(path) => match std::fs::write(path, text) {
            Ok(()) => Outcome::Accepted,
            Err(e) => fail(format!("cannot write {}: {e}", path.display())),
        },
        None => {
            // On a terminal, control characters are shown, not acted on.
            if std::io::IsTerminal::is_terminal(&std::io::stdout()) {
                print!("{}", auction_proto::printable_lines(&text));
            } else {
                print!("{text}");
            }
            Outcome::Accepted
        }
    }
}

/// The team a team command is for: `--team`, else the account's own.
fn acting_team(code: &Option<String>, access: &auction_proto::Access) -> Result<TeamCode, String> {
    let own = match access {
        auction_proto::Access::Team { team } => Some(team.clone()),
        _ => None,
    };
    code.as_deref()
        .map(TeamCode::new)
        .or(own)
        .ok_or_else(|| "say which team with --team".to_string())
}

/// The auction command a ctl command stands for.
async fn to_command(
    command: &CtlCommand,
    access: &auction_proto::Access,
    state: &State,
) -> Result<Command, String> {
    Ok(match command {
        CtlCommand::Start { seed } => Command::Start { seed: *seed },
        CtlCommand::Pause => Command::Pause,
        CtlCommand::Resume => Command::Resume,
        CtlCommand::Next => Command::Next,
        CtlCommand::Nominate { player } => Command::Nominate {
            player: find_player(state, player)?,
        },
        CtlCommand::Bid { team, amount } => Command::Bid {
            team: TeamCode::new(team),
            amount: *amount,
        },
        CtlCommand::Raise { team } => Command::Raise {
            team: TeamCode::new(team),
        },
        CtlCommand::Once => Command::GoingOnce,
        CtlCommand::Twice => Command::GoingTwice,
        CtlCommand::Sold => Command::Sold,
        CtlCommand::Unsold => Command::Unsold,
        CtlCommand::Undo => Command::UndoBid,
        CtlCommand::UndoSale => Command::UndoSale,
        CtlCommand::ResetLot => Command::ResetLot,
        CtlCommand::Accelerated => Command::OpenAccelerated,
        CtlCommand::Rtm { action, team } => Command::Rtm {
            team: acting_team(team, access)?,
            action: match action {
                RtmArg::Use => auction_proto::RtmAction::UseCard,
                RtmArg::Decline => auction_proto::RtmAction::Decline,
                RtmArg::Match => auction_proto::RtmAction::MatchPrice,
            },
        },
        CtlCommand::RtmRaise { amount, team } => Command::RtmRaise {
            team: acting_team(team, access)?,
            amount: *amount,
        },
        CtlCommand::RequestAccelerated { players, team } => Command::RequestAccelerated {
            team: acting_team(team, access)?,
            players: players
                .iter()
                .map(|q| find_player(state, q))
                .collect::<Result<_, _>>()?,
        },
        CtlCommand::ImportPlayers { file } => {
            let file = file.display().to_string();
            let csv = crate::host::read_capped(&file).await?;
            Command::ImportPlayers { csv, file }
        }
        CtlCommand::WithdrawPlayer { player } => Command::WithdrawPlayer {
            player: find_player(state, player)?,
        },
        CtlCommand::RestorePlayer { player } => Command::RestorePlayer {
            player: find_player(state, player)?,
        },
        CtlCommand::State
        | CtlCommand::Shortlist { .. }
        | CtlCommand::Proxy { .. }
        | CtlCommand::Export { .. }
        | CtlCommand::History { .. }
        | CtlCommand::Watch => return Err("not an auction command".into()),
    })
}

/// Sends one command and waits for its answer.
async fn submit(mut conn: WsClient, command: Command, json: bool) -> Outcome {
    let id = format!("ctl-{:016x}", rand::random::<u64>());
    if let Err(e) = conn
        .send(&ClientMsg::Command {
            id: id.clone(),
            command,
        })
        .await
    {
        return fail(e);
    }
    let outcome = loop {
        let (msg, raw) = match conn.recv_raw().await {
            Ok(m) => m,
            Err(e) => return fail(e),
        };
        match msg {
            ServerMsg::Accepted { id: got, seq } if got == id => {
                if json {
                    print_json(&raw);
                } else {
                    println!("accepted seq={seq}");
                }
                break Outcome::Accepted;
            }
            ServerMsg::Rejected {
                id: got,
                code,
                message,
            } if got == id => {
                if json {
                    print_json(&raw);
                }
                eprintln!("rejected: {code}: {message}");
                break Outcome::Rejected;
            }
            ServerMsg::Error { message, .. } => return fail(message),
            _ => {
                if json {
                    print_json(&raw);
                }
            }
        }
    };
    conn.close().await;
    outcome
}

async fn history(mut conn: WsClient, state: &State, mut since: u64, json: bool) -> Outcome {
    loop {
        if let Err(e) = conn
            .send(&ClientMsg::History {
                since,
                limit: Some(1000),
            })
            .await
        {
            return fail(e);
        }
        let (entries, more) = loop {
            match conn.recv_raw().await {
                Ok((ServerMsg::History { entries, more }, _)) => break (entries, more),
                Ok((ServerMsg::Error { message, .. }, _)) => return fail(message),
                Ok(_) => {}
                Err(e) => return fail(e),
            }
        };
        for e in &entries {
            if json {
                print_json(&ServerMsg::Event(e.clone()).to_json());
            } else {
                println!("{}", describe::entry(state, e));
            }
            since = e.seq;
        }
        if !more || entries.is_empty() {
            break;
        }
    }
    conn.close().await;
    Outcome::Accepted
}

/// Prints events until killed. A dropped connection is retried with
/// backoff and resumed from the last event printed, so nothing is printed
/// twice or skipped; only a refused login ends it (exit 2).
async fn watch(login: crate::session::Login, json: bool) -> Outcome {
    use auction_screens::link::NetEvent;
    let mut link = crate::session::spawn(login);
    let rx = &mut link.events;
    let mut state: Option<State> = None;
    let mut seq = 0;
    while let Some(ev) = rx.recv().await {
        match ev {
            NetEvent::Welcome {
                snapshot: Some(s), ..
            }
            | NetEvent::Snapshot(s) => {
                if state.is_some() {
                    eprintln!(
                        "watch: too far behind after a reconnect; resynchronised at seq {}",
                        s.seq
                    );
                }
                if json {
                    print_json(&ServerMsg::Snapshot(s.clone()).to_json());
                }
                seq = s.seq;
                state = Some(s.state);
            }
            NetEvent::Event(e) => {
                let Some(st) = state.as_mut() else { continue };
                if e.seq <= seq {
                    continue;
                }
                if json {
                    print_json(&ServerMsg::Event(e.clone()).to_json());
                } else {
                    println!("{}", describe::entry(st, &e));
                }
                st.apply(&e.event);
                seq = e.seq;
            }
            NetEvent::Disconnected {
                reason,
                retry_in_ms,
            } => {
                eprintln!(
                    "watch: connection lost ({reason}); retrying in {:.1} s",
                    retry_in_ms as f64 / 1000.0
                );
            }
            NetEvent::LoginFailed(message) => return fail(message),
            _ => {}
        }
    }
    Outcome::Failed
}

/// The password: `AUCTION_PASSWORD`, else a prompt on the terminal, else empty
/// (enough for an open viewer account).
pub fn password(user: &str) -> String {
    if let Ok(p) = std::env::var("AUCTION_PASSWORD") {
        return p;
    }
    // The viewer account is usually open: do not ask.
    if matches!(user, "viewer" | "view") {
        return String::new();
    }
    if std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        return rpassword::prompt_password(format!("Password for {user}: ")).unwrap_or_default();
    }
    String::new()
}

/// How long ctl waits before giving up on a silent server.
pub const TIMEOUT: Duration = Duration::from_secs(30);
