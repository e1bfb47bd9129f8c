//! `auction-bench abuse`: the hostile-network attacks against the release
//! server, one at a time on a fresh server, loopback only (attackers come
//! from 127.0.0.2 and up, standing for other machines), while a presenter
//! and two teams keep bidding from 127.0.0.1. For each attack: the server's
//! memory at idle and at its peak, the bids' answer times, whether the
//! presenter and a team could always log in, and whether any acknowledged
//! bid was lost or applied twice.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use auction_proto::msg::{ClientMsg, PROTOCOL_VERSION, ServerMsg};
use auction_proto::{Command, TeamCode};
use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use serde::Serialize;
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::Message;

use crate::proc::{ServerProcess, password};

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>>;

#[derive(Debug, Serialize)]
pub struct AttackReport {
    pub attack: &'static str,
    pub seconds: f64,
    pub rss_idle_kib: u64,
    pub rss_peak_kib: u64,
    pub bids_acked: usize,
    pub ack_p50_ms: f64,
    pub ack_p99_ms: f64,
    /// Logins of the presenter and of team MI tried during the attack, and
    /// how many got in.
    pub owner_logins: u32,
    pub owner_logins_ok: u32,
    /// Acknowledged bids missing from the log, and retried ids applied
    /// again (`None`: the log could not be read, the admin kept out).
    pub lost: Option<usize>,
    pub doubled: Option<usize>,
    /// Why the honest room had to stop, if it did (a team kept out, say).
    pub failed: Option<String>,
}

pub const ATTACKS: [&str; 7] = [
    "ssh-huge-terminals",
    "ssh-raw-connections",
    "login-burst",
    "presenter-lockout",
    "forbidden-flood",
    "history-loop",
    "viewer-logins",
];

/// Runs every attack (or the one named) for `seconds` each.
pub async fn run(only: Option<String>, seconds: u64) -> anyhow::Result<Vec<AttackReport>> {
    crate::load::raise_nofile();
    let mut reports = Vec::new();
    for attack in ATTACKS {
        if only.as_deref().is_some_and(|o| o != attack) {
            continue;
        }
        reports.push(one(attack, Duration::from_secs(seconds)).await?);
    }
    if reports.is_empty() {
        bail!("no attack named that: {}", ATTACKS.join(", "));
    }
    Ok(reports)
}

async fn one(attack: &'static str, length: Duration) -> anyhow::Result<AttackReport> {
    let server = Arc::new(ServerProcess::start_defaults()?);
    let url = server.ws_url.clone();
    let mut presenter = login_from(&url, "127.0.0.1", "presenter", &password("presenter")).await?;
    send_command(
        &mut presenter,
        "abuse-start",
        Command::Start { seed: Some(1) },
    )
    .await?;
    send_command(&mut presenter, "abuse-next", Command::Next).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_idle = server.rss_kib();
    let stop = Arc::new(AtomicBool::new(false));
    let peak = Arc::new(AtomicU64::new(rss_idle));
    let sampler = tokio::spawn(sample_rss(server.clone(), peak.clone(), stop.clone()));
    let attacking = tokio::spawn(attacker(attack, server.clone(), stop.clone()));
    let started = Instant::now();
    let (honest, failed) = match honest_room(&url, presenter, length).await {
        Ok(h) => (h, None),
        Err(e) => (Honest::new()?, Some(format!("{e:#}"))),
    };
    let seconds = started.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    // An attacker blocked on the server (it slows floods down) is not
    // waited for long.
    let abort = attacking.abort_handle();
    if tokio::time::timeout(Duration::from_secs(2), attacking)
        .await
        .is_err()
    {
        abort.abort();
    }
    let _ = sampler.await;
    let (checked, failed) = match check_log(&url, &honest.acked).await {
        Ok(found) => (Some(found), failed),
        Err(e) => (
            None,
            failed.or(Some(format!("the log could not be checked: {e:#}"))),
        ),
    };
    Ok(AttackReport {
        attack,
        seconds,
        rss_idle_kib: rss_idle,
        rss_peak_kib: peak.load(Ordering::Relaxed),
        bids_acked: honest.acked.len(),
        ack_p50_ms: honest.acks.value_at_quantile(0.5) as f64 / 1000.0,
        ack_p99_ms: honest.acks.value_at_quantile(0.99) as f64 / 1000.0,
        owner_logins: honest.logins,
        owner_logins_ok: honest.logins_ok,
        lost: checked.map(|c| c.0),
        doubled: checked.map(|c| c.1 + honest.retries_applied),
        failed,
    })
}

async fn sample_rss(server: Arc<ServerProcess>, peak: Arc<AtomicU64>, stop: Arc<AtomicBool>) {
    while !stop.load(Ordering::Relaxed) {
        peak.fetch_max(server.rss_kib(), Ordering::Relaxed);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A WebSocket from the loopback address `source`.
pub(crate) async fn connect_from(url: &str, source: &str) -> anyhow::Result<Ws> {
    let addr = url
        .trim_start_matches("ws://")
        .trim_end_matches("/ws")
        .parse()
        .context("server address")?;
    let socket = TcpSocket::new_v4()?;
    socket.bind(format!("{source}:0").parse()?)?;
    let stream = socket.connect(addr).await?;
    let stream = tokio_tungstenite::MaybeTlsStream::Plain(stream);
    Ok(tokio_tungstenite::client_async(url, stream).await?.0)
}

pub(crate) async fn send(ws: &mut Ws, msg: &ClientMsg) -> anyhow::Result<()> {
    ws.send(Message::Text(serde_json::to_string(msg)?.into()))
        .await?;
    Ok(())
}

pub(crate) async fn next_msg(ws: &mut Ws) -> anyhow::Result<ServerMsg> {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(15), ws.next())
            .await
            .context("no answer in 15 s")?
            .context("closed")??;
        if let Message::Text(t) = msg {
            return Ok(serde_json::from_str(&t)?);
        }
    }
}

/// Logs in; the connection, or an error saying why not.
pub(crate) async fn login_from(
    url: &str,
    source: &str,
    user: &str,
    pw: &str,
) -> anyhow::Result<Ws> {
    let mut ws = connect_from(url, source).await?;
    let login = ClientMsg::Login {
        v: PROTOCOL_VERSION,
        user: user.into(),
        password: pw.into(),
    };
    send(&mut ws, &login).await?;
    match next_msg(&mut ws).await? {
        ServerMsg::Welcome { .. } => Ok(ws),
        other => bail!("login as {user}: {other:?}"),
    }
}

/// Sends a command; its seq if accepted.
async fn send_command(ws: &mut Ws, id: &str, command: Command) -> anyhow::Result<Option<u64>> {
    let id = id.to_string();
    send(
        ws,
        &ClientMsg::Command {
            id: id.clone(),
            command,
        },
    )
    .await?;
    loop {
        match next_msg(ws).await? {
            ServerMsg::Accepted { id: got, seq } if got == id => return Ok(Some(seq)),
            ServerMsg::Rejected { id: got, .. } if got == id => return Ok(None),
            _ => {}
        }
    }
}

struct Honest {
    acks: Histogram<u64>,
    acked: Vec<(u64, String)>,
    logins: u32,
    logins_ok: u32,
    /// Retried ids answered with another seq than the first time.
    retries_applied: usize,
}

impl Honest {
    fn new() -> anyhow::Result<Honest> {
        Ok(Honest {
            acks: Histogram::new(3)?,
            acked: Vec::new(),
            logins: 0,
            logins_ok: 0,
            retries_applied: 0,
        })
    }
}

/// MI and CSK raise each other every 20 ms (the presenter sells and
/// nominates every 30 bids); every bid id is sent twice (a client's retry);
/// the presenter and MI log in again every half second.
async fn honest_room(url: &str, mut presenter: Ws, length: Duration) -> anyhow::Result<Honest> {
    let pw = |u: &str| password(u);
    let mut teams = [
        login_from(url, "127.0.0.1", "mi", &pw("mi")).await?,
        login_from(url, "127.0.0.1", "csk", &pw("csk")).await?,
    ];
    let codes = [TeamCode::new("MI"), TeamCode::new("CSK")];
    let mut h = Honest::new()?;
    let until = Instant::now() + length;
    let mut n = 0usize;
    let mut last_login = Instant::now();
    while Instant::now() < until {
        let i = n % 2;
        let id = format!("honest-{n}");
        let raise = || Command::Raise {
            team: codes[i].clone(),
        };
        let t = Instant::now();
        if let Some(seq) = send_command(&mut teams[i], &id, raise()).await? {
            h.acks.record(t.elapsed().as_micros() as u64)?;
            h.acked.push((seq, id.clone()));
            if send_command(&mut teams[i], &id, raise()).await? != Some(seq) {
                h.retries_applied += 1;
            }
        }
        n += 1;
        if n % 30 == 0 {
            send_command(&mut presenter, &format!("sold-{n}"), Command::Sold).await?;
            send_command(&mut presenter, &format!("next-{n}"), Command::Next).await?;
        }
        if last_login.elapsed() > Duration::from_millis(500) {
            last_login = Instant::now();
            for user in ["presenter", "mi"] {
                h.logins += 1;
                h.logins_ok +=
                    u32::from(login_from(url, "127.0.0.1", user, &pw(user)).await.is_ok());
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(h)
}

/// Every acknowledged bid is in the log under its id, and no id twice.
async fn check_log(url: &str, acked: &[(u64, String)]) -> anyhow::Result<(usize, usize)> {
    let mut admin = login_from(url, "127.0.0.1", "admin", &password("admin")).await?;
    let mut ids = std::collections::HashMap::<String, Vec<u64>>::new();
    let mut since = 0;
    loop {
        let page = ClientMsg::History {
            since,
            limit: Some(1000),
        };
        send(&mut admin, &page).await?;
        let (entries, more) = loop {
            if let ServerMsg::History { entries, more } = next_msg(&mut admin).await? {
                break (entries, more);
            }
        };
        for e in &entries {
            if let Some(id) = &e.request_id {
                ids.entry(id.clone()).or_default().push(e.seq);
            }
        }
        since = entries.last().map_or(since, |e| e.seq);
        if !more || entries.is_empty() {
            break;
        }
    }
    let lost = acked
        .iter()
        .filter(|(seq, id)| ids.get(id).is_none_or(|seqs| !seqs.contains(seq)))
        .count();
    let doubled = ids.values().filter(|seqs| seqs.len() > 1).count();
    Ok((lost, doubled))
}

async fn attacker(attack: &'static str, server: Arc<ServerProcess>, stop: Arc<AtomicBool>) {
    let url = server.ws_url.clone();
    let ssh = server.ssh_addr.clone().unwrap_or_default();
    let result = match attack {
        "ssh-huge-terminals" => crate::abuse_attacks::huge_terminals(&ssh, &stop).await,
        "ssh-raw-connections" => crate::abuse_attacks::raw_connections(&ssh, &stop).await,
        "login-burst" => crate::abuse_attacks::login_burst(&url, &stop).await,
        "presenter-lockout" => crate::abuse_attacks::presenter_lockout(&url, &stop).await,
        "forbidden-flood" => crate::abuse_attacks::forbidden_flood(&url, &stop).await,
        "history-loop" => crate::abuse_attacks::history_loop(&url, &stop).await,
        _ => crate::abuse_attacks::viewer_logins(&url, &stop).await,
    };
    if let Err(e) = result {
        eprintln!("{attack}: the attacker stopped: {e:#}");
    }
}
