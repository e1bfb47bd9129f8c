//! Bid-to-every-screen latency: N viewers and the 10 teams on WebSockets
//! against a real server process, beside the raw-TCP floor.

use std::io::Write;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use serde::Serialize;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::{self, Message};

use auction_proto::msg::{ClientMsg, PROTOCOL_VERSION, ServerMsg};

use crate::proc::{ServerProcess, password};
use crate::readers::{self, Fixed, READER_THREADS, Source, Tally, Viewer};

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
    /// Each viewer comes as the spectators' page does: it fetches the page
    /// (`/`, `/app.js`, `/style.css`), then opens the WebSocket with the
    /// page's `Origin`.
    pub page: bool,
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

/// A viewer that logs in and never reads: a small receive window, so the
/// server's writes to it block after a few dozen events.
async fn stalled_viewer(url: &str) -> anyhow::Result<Ws> {
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.set_recv_buffer_size(4096)?;
    let stream = socket.connect(address(url)?).await?;
    let stream = tokio_tungstenite::MaybeTlsStream::Plain(stream);
    let (mut ws, _) = tokio_tungstenite::client_async(url, stream).await?;
    ws.send(login_msg("viewer")).await?;
    Ok(ws)
}

/// The login message for one of the league's accounts.
fn login_msg(user: &str) -> Message {
    let msg = ClientMsg::Login {
        v: PROTOCOL_VERSION,
        user: user.into(),
        password: if user == "viewer" {
            String::new()
        } else {
            password(user)
        },
    };
    Message::Text(
        serde_json::to_string(&msg)
            .expect("a message serializes")
            .into(),
    )
}

/// What an answer to a login says: the welcome's seq, a refusal, or
/// `None` for any other message.
fn welcome_seq(user: &str, text: &str) -> anyhow::Result<Option<u64>> {
    match serde_json::from_str::<ServerMsg>(text)? {
        ServerMsg::Welcome { snapshot, .. } => Ok(Some(snapshot.map_or(0, |s| s.seq))),
        ServerMsg::Error { message, .. } => bail!("login as {user}: {message}"),
        _ => Ok(None),
    }
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
    ws.send(login_msg(user)).await?;
    loop {
        if let Message::Text(t) = ws.next().await.context("closed during login")??
            && let Some(seq) = welcome_seq(user, &t)?
        {
            return Ok((ws, seq));
        }
    }
}

/// The address in a `ws://host:port/path` URL.
fn address(url: &str) -> anyhow::Result<SocketAddr> {
    use std::net::ToSocketAddrs;
    let host = url
        .strip_prefix("ws://")
        .and_then(|rest| rest.split('/').next())
        .context("a ws:// URL")?;
    host.to_socket_addrs()?
        .next()
        .with_context(|| format!("no address for {host}"))
}

/// What a browser fetches before the spectators' page opens its WebSocket.
fn fetch_page(addr: SocketAddr) -> anyhow::Result<()> {
    use std::io::Read;
    for path in ["/", "/app.js", "/style.css"] {
        let mut s = std::net::TcpStream::connect(addr)?;
        write!(s, "GET {path} HTTP/1.1\r\nhost: {addr}\r\n\r\n")?;
        let mut body = Vec::new();
        s.read_to_end(&mut body)?;
        if !body.starts_with(b"HTTP/1.1 200") {
            bail!(
                "GET {path}: {}",
                String::from_utf8_lossy(&body[..body.len().min(40)])
            );
        }
    }
    Ok(())
}

/// A viewer logged in with a blocking client, then made non-blocking for
/// the reader threads. Returns it with the seq of its welcome snapshot.
fn viewer(url: &str, addr: SocketAddr, page: bool) -> anyhow::Result<(Viewer, u64)> {
    use tungstenite::client::IntoClientRequest;
    let mut request = url.into_client_request()?;
    if page {
        fetch_page(addr)?;
        request
            .headers_mut()
            .insert("origin", format!("http://{addr}").parse()?);
    }
    let stream = std::net::TcpStream::connect(addr)?;
    stream.set_nodelay(true)?;
    // Events are a few hundred bytes; tungstenite zero-fills its whole read
    // buffer before each read, so a large one would cost the bench, not the
    // server, at ten thousand viewers.
    let config = tungstenite::protocol::WebSocketConfig::default().read_buffer_size(4096);
    let (mut ws, _) = tungstenite::client::client_with_config(request, stream, Some(config))
        .map_err(|e| anyhow::anyhow!("WebSocket handshake: {e}"))?;
    ws.send(login_msg("viewer"))?;
    loop {
        if let Message::Text(t) = ws.read()?
            && let Some(seq) = welcome_seq("viewer", &t)?
        {
            ws.get_ref().set_nonblocking(true)?;
            return Ok((Viewer(ws), seq));
        }
    }
}

/// Logs `n` viewers in, 16 at a time.
fn viewers(url: &str, n: usize, page: bool) -> anyhow::Result<Vec<(Box<dyn Source>, u64)>> {
    let addr = address(url)?;
    const AT_ONCE: usize = 16;
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..AT_ONCE)
            .map(|w| {
                scope.spawn(move || {
                    (w..n)
                        .step_by(AT_ONCE)
                        .map(|_| {
                            viewer(url, addr, page)
                                .map(|(v, seq)| (Box::new(v) as Box<dyn Source>, seq))
                        })
                        .collect::<anyhow::Result<Vec<_>>>()
                })
            })
            .collect();
        let mut all = Vec::with_capacity(n);
        for w in workers {
            all.extend(w.join().expect("a login thread panicked")?);
        }
        Ok(all)
    })
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

    // The viewers, read by a few threads. Their setup is not timed as part
    // of any latency.
    let max_seq = 16 + cfg.bids * 2;
    let tally = Tally::new(max_seq);
    let t = Instant::now();
    let sources = {
        let (url, n, page) = (url.clone(), cfg.viewers, cfg.page);
        tokio::task::spawn_blocking(move || viewers(&url, n, page)).await??
    };
    let reading = readers::spawn(sources, READER_THREADS, tally.clone())?;
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
    let (acks, sent_at) = bidding(&cfg, &mut presenter, &teams, &tally).await?;
    let (fanout, delivered, expected) = delivery(&cfg, &tally, &sent_at, max_seq).await?;
    let out_of_order = tally.out_of_order();
    // The viewers close before the floor, which needs both ends of each of
    // its sockets within this process's open-file limit.
    drop(reading);
    drop(asleep);
    drop(teams);
    drop(presenter);
    let (floor_sockets, floor) = if cfg.floor {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let (n, h) = floor(&cfg).await?;
        (Some(n), Some(h))
    } else {
        (None, None)
    };
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
        out_of_order,
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

/// The bids: teams take turns raising; a lot is sold every 40 bids.
/// Returns the acknowledgement times and, per accepted bid, its seq and
/// when it was sent.
async fn bidding(
    cfg: &LoadConfig,
    presenter: &mut Ws,
    teams: &[mpsc::Sender<RaiseReq>],
    tally: &Tally,
) -> anyhow::Result<(Histogram<u64>, Vec<(u64, u64)>)> {
    let mut acks = Histogram::<u64>::new(3)?;
    let mut sent_at: Vec<(u64, u64)> = Vec::new(); // (seq, sent µs)
    let mut next_player =
        command(presenter, "bench-n0", serde_json::json!({"cmd": "next"})).await?;
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
                presenter,
                &format!("bench-s{i}"),
                serde_json::json!({"cmd": "sold"}),
            )
            .await?;
            next_player = command(
                presenter,
                &format!("bench-n{i}"),
                serde_json::json!({"cmd": "next"}),
            )
            .await?;
            if next_player.is_none() {
                bail!("the pool ran out: use fewer bids");
            }
            in_lot = 0;
        }
        let team = &teams[i % teams.len()];
        let (reply, answer) = oneshot::channel();
        let sent = tally.now_us();
        team.send((format!("bench-b{i}"), reply)).await?;
        let (seq, ack) = answer.await?;
        if let Some(seq) = seq {
            acks.record(ack.as_micros() as u64)?;
            sent_at.push((seq, sent));
            in_lot += 1;
        }
    }
    Ok((acks, sent_at))
}

/// Waits for the viewers to receive everything (or gives up after 30 s);
/// the time from each bid to its last viewer, and how many deliveries of
/// how many expected.
async fn delivery(
    cfg: &LoadConfig,
    tally: &Tally,
    sent_at: &[(u64, u64)],
    max_seq: usize,
) -> anyhow::Result<(Histogram<u64>, u64, u64)> {
    let last_seq = sent_at.last().map_or(0, |s| s.0);
    let expected_each = cfg.viewers as u64;
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        let done = sent_at
            .iter()
            .all(|(s, _)| tally.count(*s) >= expected_each);
        if done && (last_seq as usize) < max_seq {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut fanout = Histogram::<u64>::new(3)?;
    let mut delivered = 0;
    for (seq, sent) in sent_at {
        let n = tally.count(*seq);
        delivered += n;
        if n >= expected_each && cfg.viewers > 0 {
            let last = tally.last_us(*seq);
            fanout.record(last.saturating_sub(*sent).max(1))?;
        }
    }
    let expected = expected_each * sent_at.len() as u64;
    Ok((fanout, delivered, expected))
}

/// The floor, measured in the same run: as many plain sockets as viewers
/// (within the open-file limit), the same bytes written to each.
async fn floor(cfg: &LoadConfig) -> anyhow::Result<(usize, Histogram<u64>)> {
    let bytes = r#"{"type":"event","seq":42,"at_ms":1795560004000,"actor":{"role":"team","team":"MI"},"event":{"kind":"bid_placed","team":"MI","amount":220,"at_ms":1795560004000,"deadline_ms":1795560030000}}"#;
    let n = cfg
        .viewers
        .min((raise_nofile().saturating_sub(256) / 2) as usize)
        .max(1);
    let messages = cfg.bids.min(200);
    let h = tokio::task::spawn_blocking(move || floor_run(n, messages, bytes.as_bytes())).await??;
    Ok((n, h))
}

/// The physical floor: the same bytes written to `n` loopback sockets with
/// plain blocking writes from one thread, read by the same reader threads as
/// the viewers; the time until the last reader has them.
fn floor_run(n: usize, messages: usize, bytes: &[u8]) -> anyhow::Result<Histogram<u64>> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let mut writers = Vec::with_capacity(n);
    let mut sources: Vec<(Box<dyn Source>, u64)> = Vec::with_capacity(n);
    for _ in 0..n {
        let client = std::net::TcpStream::connect(addr)?;
        let (server, _) = listener.accept()?;
        server.set_nodelay(true)?;
        writers.push(server);
        sources.push((Box::new(Fixed::new(client, bytes.len())?), 0));
    }
    let tally = Tally::new(messages + 1);
    let _reading = readers::spawn(sources, READER_THREADS, tally.clone())?;
    let mut h = Histogram::<u64>::new(3)?;
    for seq in 1..=messages as u64 {
        let sent = tally.now_us();
        for w in &mut writers {
            w.write_all(bytes)?;
        }
        if !tally.wait_for(seq, n as u64, Duration::from_secs(30)) {
            bail!("the floor's readers did not get message {seq}");
        }
        h.record(tally.last_us(seq).saturating_sub(sent).max(1))?;
        std::thread::sleep(Duration::from_millis(10));
    }
    Ok(h)
}
