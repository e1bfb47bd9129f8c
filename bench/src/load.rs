//! Bid-to-every-screen latency: N viewers and the 10 teams on WebSockets
//! against a real server process, beside the raw-TCP floor.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use serde::Serialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message;

use crate::proc::{ServerProcess, password};

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>>;

pub struct LoadConfig {
    pub viewers: usize,
    pub bids: usize,
    /// Bids per second; 0 sends each bid as soon as the previous is answered.
    pub rate: f64,
    pub floor: bool,
    /// Viewers that log in and never read again.
    pub stalled: usize,
    /// Use this server instead of starting one.
    pub server: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct LoadReport {
    pub viewers: usize,
    pub stalled: usize,
    pub bids: usize,
    pub accepted: usize,
    pub ack_p50_ms: f64,
    pub ack_p99_ms: f64,
    pub fanout_p50_ms: f64,
    pub fanout_p99_ms: f64,
    pub fanout_max_ms: f64,
    pub delivered: u64,
    pub expected: u64,
    pub out_of_order: u64,
    pub rss_before_kib: u64,
    pub rss_after_kib: u64,
    pub rss_per_viewer_kib: f64,
    pub idle_cpu_pct: f64,
    pub connect_seconds: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub floor_sockets: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub floor_p50_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub floor_p99_ms: Option<f64>,
}

/// Raises the open-file limit as far as the hard limit allows.
pub fn raise_nofile() -> u64 {
    rlimit::increase_nofile_limit(u64::MAX).unwrap_or(1024)
}

fn ms(h: &Histogram<u64>, q: f64) -> f64 {
    h.value_at_quantile(q) as f64 / 1000.0
}

/// Per event seq: how many viewers got it and when the last one did.
struct Tally {
    count: Vec<AtomicU64>,
    last_us: Vec<AtomicU64>,
    out_of_order: AtomicU64,
}

/// A viewer that logs in and never reads: a small receive window, so the
/// server's writes to it block after a few dozen events.
async fn stalled_viewer(url: &str) -> anyhow::Result<Ws> {
    let addr = url
        .trim_start_matches("ws://")
        .split('/')
        .next()
        .context("a ws:// URL")?;
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.set_recv_buffer_size(4096)?;
    let stream = socket
        .connect(
            tokio::net::lookup_host(addr)
                .await?
                .next()
                .context("address")?,
        )
        .await?;
    let stream = tokio_tungstenite::MaybeTlsStream::Plain(stream);
    let (mut ws, _) = tokio_tungstenite::client_async(url, stream).await?;
    let msg = serde_json::json!({"type": "login", "v": 1, "user": "viewer", "password": ""});
    ws.send(Message::Text(msg.to_string().into())).await?;
    Ok(ws)
}

async fn login(url: &str, user: &str) -> anyhow::Result<(Ws, u64)> {
    // tungstenite zero-fills its whole read buffer before every read: with the
    // default 128 KiB, ten thousand viewers would spend the bench's time in
    // memset and inflate every fan-out figure. Events are a few hundred bytes.
    let config =
        tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default().read_buffer_size(4096);
    let (mut ws, _) = tokio_tungstenite::connect_async_with_config(url, Some(config), true)
        .await
        .with_context(|| format!("connect {url}"))?;
    let pw = if user == "viewer" {
        String::new()
    } else {
        password(user)
    };
    let msg = serde_json::json!({"type": "login", "v": 1, "user": user, "password": pw});
    ws.send(Message::Text(msg.to_string().into())).await?;
    loop {
        match ws.next().await.context("closed during login")?? {
            Message::Text(t) => {
                let v: serde_json::Value = serde_json::from_str(&t)?;
                if v["type"] == "welcome" {
                    return Ok((ws, v["snapshot"]["seq"].as_u64().unwrap_or(0)));
                }
                if v["type"] == "error" {
                    bail!("login as {user}: {t}");
                }
            }
            _ => continue,
        }
    }
}

/// The seq in an event message, without parsing the whole message.
fn event_seq(text: &str) -> Option<u64> {
    let rest = text.strip_prefix("{\"type\":\"event\",\"seq\":")?;
    let end = rest.find(|c: char| !c.is_ascii_digit())?;
    rest[..end].parse().ok()
}

fn viewer_task(mut ws: Ws, mut seq: u64, tally: Arc<Tally>, start: Instant) {
    tokio::spawn(async move {
        while let Some(Ok(msg)) = ws.next().await {
            if let Message::Text(t) = msg
                && let Some(s) = event_seq(&t)
            {
                let now = start.elapsed().as_micros() as u64;
                if s != seq + 1 {
                    tally.out_of_order.fetch_add(1, Ordering::Relaxed);
                }
                seq = s;
                if let (Some(c), Some(l)) =
                    (tally.count.get(s as usize), tally.last_us.get(s as usize))
                {
                    c.fetch_add(1, Ordering::Relaxed);
                    l.fetch_max(now, Ordering::Relaxed);
                }
            }
        }
    });
}

/// A command on a client connection: sends, waits for its answer. Returns the seq if accepted.
async fn command(ws: &mut Ws, id: &str, cmd: serde_json::Value) -> anyhow::Result<Option<u64>> {
    let msg = serde_json::json!({"type": "command", "id": id, "command": cmd});
    ws.send(Message::Text(msg.to_string().into())).await?;
    loop {
        match ws.next().await.context("closed")?? {
            Message::Text(t) => {
                if !t.contains(id) {
                    continue;
                }
                let v: serde_json::Value = serde_json::from_str(&t)?;
                if v["id"] != id {
                    continue;
                }
                return Ok(match v["type"].as_str() {
                    Some("accepted") => v["seq"].as_u64(),
                    _ => None,
                });
            }
            _ => continue,
        }
    }
}

/// A team's connection as a task: raises on request, answers (seq, ack time).
type RaiseReq = (String, oneshot::Sender<(Option<u64>, Duration)>);

fn team_task(mut ws: Ws, code: &'static str) -> mpsc::Sender<RaiseReq> {
    let (tx, mut rx) = mpsc::channel::<RaiseReq>(4);
    tokio::spawn(async move {
        while let Some((id, reply)) = rx.recv().await {
            let t = Instant::now();
            let r = command(
                &mut ws,
                &id,
                serde_json::json!({"cmd": "raise", "team": code}),
            )
            .await
            .ok()
            .flatten();
            let _ = reply.send((r, t.elapsed()));
        }
    });
    tx
}

pub async fn run(cfg: LoadConfig) -> anyhow::Result<LoadReport> {
    raise_nofile();
    let process = match &cfg.server {
        Some(_) => None,
        None => Some(ServerProcess::start(false)?),
    };
    let url = cfg.server.clone().unwrap_or_else(|| {
        process
            .as_ref()
            .map(|p| p.ws_url.clone())
            .unwrap_or_default()
    });
    let rss = || process.as_ref().map_or(0, ServerProcess::rss_kib);
    let cpu = || process.as_ref().map_or(0, ServerProcess::cpu_ticks);

    let (mut presenter, _) = login(&url, "presenter").await?;
    command(
        &mut presenter,
        "bench-start",
        serde_json::json!({"cmd": "start", "seed": 1}),
    )
    .await?;
    const TEAMS: [&str; 10] = [
        "CSK", "MI", "RCB", "KKR", "DC", "RR", "PBKS", "SRH", "GT", "LSG",
    ];
    let mut teams = Vec::new();
    for code in TEAMS {
        let (ws, _) = login(&url, &code.to_lowercase()).await?;
        teams.push(team_task(ws, code));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let rss_before = rss();

    // The viewers. Their setup is not timed as part of any latency.
    let max_seq = 16 + cfg.bids * 2;
    let tally = Arc::new(Tally {
        count: (0..max_seq).map(|_| AtomicU64::new(0)).collect(),
        last_us: (0..max_seq).map(|_| AtomicU64::new(0)).collect(),
        out_of_order: AtomicU64::new(0),
    });
    let start = Instant::now();
    let t = Instant::now();
    let mut pending = futures_util::stream::FuturesUnordered::new();
    let mut connected = 0;
    let mut next = 0;
    while connected < cfg.viewers {
        while next < cfg.viewers && pending.len() < 64 {
            pending.push(login(&url, "viewer"));
            next += 1;
        }
        let (ws, seq) = pending.next().await.context("no pending login")??;
        viewer_task(ws, seq, tally.clone(), start);
        connected += 1;
    }
    let connect_seconds = t.elapsed().as_secs_f64();
    let mut asleep = Vec::new();
    for _ in 0..cfg.stalled {
        asleep.push(stalled_viewer(&url).await?);
    }
    // Idle: CPU over 5 s, and the lowest of five RSS readings a second apart
    // (the allocator returns the logins' transient buffers with a delay).
    let cpu0 = cpu();
    let mut rss_after = u64::MAX;
    for _ in 0..5 {
        tokio::time::sleep(Duration::from_secs(1)).await;
        rss_after = rss_after.min(rss());
    }
    let idle_cpu_pct = (cpu().saturating_sub(cpu0)) as f64 / 5.0;

    // The bids: teams take turns raising; a lot is sold every 40 bids.
    let mut acks = Histogram::<u64>::new(3)?;
    let mut sent_at: Vec<(u64, u64)> = Vec::new(); // (seq, sent µs)
    let mut next_player = command(
        &mut presenter,
        "bench-n0",
        serde_json::json!({"cmd": "next"}),
    )
    .await?;
    let interval = if cfg.rate > 0.0 {
        Some(Duration::from_secs_f64(1.0 / cfg.rate))
    } else {
        None
    };
    let mut tick = interval.map(tokio::time::interval);
    let mut in_lot = 0;
    for i in 0..cfg.bids {
        if let Some(t) = tick.as_mut() {
            t.tick().await;
        }
        if next_player.is_none() || in_lot >= 40 {
            command(
                &mut presenter,
                &format!("bench-s{i}"),
                serde_json::json!({"cmd": "sold"}),
            )
            .await?;
            next_player = command(
                &mut presenter,
                &format!("bench-n{i}"),
                serde_json::json!({"cmd": "next"}),
            )
            .await?;
            if next_player.is_none() {
                bail!("the pool ran out: use fewer bids");
            }
            in_lot = 0;
        }
        let team = &teams[i % TEAMS.len()];
        let (reply, answer) = oneshot::channel();
        let sent = start.elapsed().as_micros() as u64;
        team.send((format!("bench-b{i}"), reply)).await?;
        let (seq, ack) = answer.await?;
        if let Some(seq) = seq {
            acks.record(ack.as_micros() as u64)?;
            sent_at.push((seq, sent));
            in_lot += 1;
        }
    }
    // Wait for the viewers to receive everything (or give up after 30 s).
    let last_seq = sent_at.last().map_or(0, |s| s.0);
    let expected_each = cfg.viewers as u64;
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        let done = sent_at
            .iter()
            .all(|(s, _)| tally.count[*s as usize].load(Ordering::Relaxed) >= expected_each);
        if done && tally.count.get(last_seq as usize).is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut fanout = Histogram::<u64>::new(3)?;
    let mut delivered = 0;
    for (seq, sent) in &sent_at {
        let n = tally.count[*seq as usize].load(Ordering::Relaxed);
        delivered += n;
        if n >= expected_each && cfg.viewers > 0 {
            let last = tally.last_us[*seq as usize].load(Ordering::Relaxed);
            fanout.record(last.saturating_sub(*sent).max(1))?;
        }
    }
    let expected = expected_each * sent_at.len() as u64;
    let (floor_sockets, floor) = if cfg.floor {
        let bytes = r#"{"type":"event","seq":42,"at_ms":1795560004000,"actor":{"role":"team","team":"MI"},"event":{"kind":"bid_placed","team":"MI","amount":220,"at_ms":1795560004000,"deadline_ms":1795560030000}}"#;
        let n = cfg
            .viewers
            .min(((raise_nofile().saturating_sub(cfg.viewers as u64 + 256)) / 2) as usize)
            .max(1);
        let h = floor_run(n, cfg.bids.min(200), bytes.as_bytes()).await?;
        (Some(n), Some(h))
    } else {
        (None, None)
    };
    drop(asleep);
    Ok(LoadReport {
        viewers: cfg.viewers,
        stalled: cfg.stalled,
        bids: cfg.bids,
        accepted: sent_at.len(),
        ack_p50_ms: ms(&acks, 0.5),
        ack_p99_ms: ms(&acks, 0.99),
        fanout_p50_ms: ms(&fanout, 0.5),
        fanout_p99_ms: ms(&fanout, 0.99),
        fanout_max_ms: fanout.max() as f64 / 1000.0,
        delivered,
        expected,
        out_of_order: tally.out_of_order.load(Ordering::Relaxed),
        rss_before_kib: rss_before,
        rss_after_kib: rss_after,
        rss_per_viewer_kib: rss_after.saturating_sub(rss_before) as f64 / cfg.viewers.max(1) as f64,
        idle_cpu_pct,
        connect_seconds,
        floor_sockets,
        floor_p50_ms: floor.as_ref().map(|h| ms(h, 0.5)),
        floor_p99_ms: floor.as_ref().map(|h| ms(h, 0.99)),
    })
}

/// The physical floor: the same bytes written to `n` loopback sockets, and
/// the time until the last reader has them.
async fn floor_run(n: usize, messages: usize, bytes: &[u8]) -> anyhow::Result<Histogram<u64>> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let start = Instant::now();
    let received = Arc::new((AtomicU64::new(0), AtomicU64::new(0)));
    let arrived = Arc::new(tokio::sync::Notify::new());
    let mut writers = Vec::with_capacity(n);
    for _ in 0..n {
        let client = TcpStream::connect(addr).await?;
        let (server, _) = listener.accept().await?;
        server.set_nodelay(true)?;
        writers.push(server);
        let received = received.clone();
        let arrived = arrived.clone();
        let len = bytes.len();
        tokio::spawn(async move {
            let mut client = client;
            let mut buf = vec![0u8; 4096];
            let mut got = 0usize;
            while let Ok(k) = client.read(&mut buf).await {
                if k == 0 {
                    break;
                }
                got += k;
                while got >= len {
                    got -= len;
                    received.0.fetch_add(1, Ordering::Relaxed);
                    received
                        .1
                        .fetch_max(start.elapsed().as_micros() as u64, Ordering::Relaxed);
                    arrived.notify_one();
                }
            }
        });
    }
    let mut h = Histogram::<u64>::new(3)?;
    for m in 0..messages {
        let target = ((m + 1) * n) as u64;
        let sent = start.elapsed().as_micros() as u64;
        for w in &mut writers {
            w.write_all(bytes).await?;
        }
        while received.0.load(Ordering::Relaxed) < target {
            arrived.notified().await;
        }
        h.record(
            received
                .1
                .load(Ordering::Relaxed)
                .saturating_sub(sent)
                .max(1),
        )?;
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Ok(h)
}
