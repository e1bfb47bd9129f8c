//! SSH sessions: memory per idle session, bytes per bid update, N held.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures_util::{SinkExt, StreamExt};
use russh::{ChannelMsg, client};
use tokio_tungstenite::tungstenite::Message;

use crate::proc::{ServerProcess, password};

/// An SSH client that takes any host key (the bench's server is new each run).
pub(crate) struct AnyHost;

impl client::Handler for AnyHost {
    type Error = russh::Error;
    async fn check_server_key(
        &mut self,
        _: &russh::keys::PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        Ok(true)
    }
}

/// Opens a pty session and counts what it receives.
async fn session(
    addr: &str,
    user: &str,
    counter: Arc<AtomicU64>,
) -> anyhow::Result<client::Handle<AnyHost>> {
    let mut handle = client::connect(Arc::new(client::Config::default()), addr, AnyHost).await?;
    let ok = if user == "viewer" {
        handle.authenticate_none(user).await?.success()
    } else {
        handle
            .authenticate_password(user, password(user))
            .await?
            .success()
    };
    if !ok {
        bail!("ssh login as {user} refused");
    }
    let mut channel = handle.channel_open_session().await?;
    channel
        .request_pty(true, "xterm-256color", 100, 30, 0, 0, &[])
        .await?;
    channel.request_shell(true).await?;
    tokio::spawn(async move {
        while let Some(msg) = channel.wait().await {
            if let ChannelMsg::Data { data } = msg {
                counter.fetch_add(data.len() as u64, Ordering::Relaxed);
            }
        }
    });
    Ok(handle)
}

/// Waits until the counters stop moving for `quiet`.
async fn settle(counters: &[Arc<AtomicU64>], quiet: Duration) -> u64 {
    let total = || {
        counters
            .iter()
            .map(|c| c.load(Ordering::Relaxed))
            .sum::<u64>()
    };
    let mut last = total();
    loop {
        tokio::time::sleep(quiet).await;
        let now = total();
        if now == last {
            return now;
        }
        last = now;
    }
}

async fn ws_command(
    ws: &mut tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
    id: &str,
    command: serde_json::Value,
) -> anyhow::Result<()> {
    let msg = serde_json::json!({"type": "command", "id": id, "command": command});
    ws.send(Message::Text(msg.to_string().into())).await?;
    while let Some(m) = ws.next().await {
        if let Message::Text(t) = m? {
            let v: serde_json::Value = serde_json::from_str(&t)?;
            if v["id"] == id {
                if v["type"] != "accepted" {
                    bail!("{t}");
                }
                return Ok(());
            }
        }
    }
    bail!("connection closed")
}

pub async fn run(sessions: usize, bids: usize, owners: usize) -> anyhow::Result<()> {
    let server = ServerProcess::start(true)?;
    let addr = server.ssh_addr.clone().context("no ssh address")?;
    let (mut ws, _) = tokio_tungstenite::connect_async(&server.ws_url).await?;
    let login = serde_json::json!({"type": "login", "v": 1, "user": "presenter", "password": password("presenter")});
    ws.send(Message::Text(login.to_string().into())).await?;
    ws_command(
        &mut ws,
        "start",
        serde_json::json!({"cmd": "start", "seed": 1}),
    )
    .await
    .ok();
    ws_command(
        &mut ws,
        "nominate",
        serde_json::json!({"cmd": "nominate", "player": 2}),
    )
    .await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let rss_before = server.rss_kib();

    let teams = [
        "csk", "mi", "rcb", "kkr", "dc", "rr", "pbks", "srh", "gt", "lsg",
    ];
    let mut handles = Vec::new();
    let mut counters = Vec::new();
    let t = Instant::now();
    for i in 0..sessions {
        let c = Arc::new(AtomicU64::new(0));
        // Team owners and big screens, like a real room.
        let user = if i < owners.min(teams.len()) {
            teams[i]
        } else {
            "viewer"
        };
        handles.push(session(&addr, user, c.clone()).await?);
        counters.push(c);
    }
    let opened = t.elapsed();
    settle(&counters, Duration::from_millis(500)).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_after = server.rss_kib();
    let cpu0 = server.cpu_ticks();
    tokio::time::sleep(Duration::from_secs(5)).await;
    let idle_cpu_pct = (server.cpu_ticks() - cpu0) as f64 / 5.0;

    let before = settle(&counters, Duration::from_millis(300)).await;
    for i in 0..bids {
        let team = ["CSK", "RCB"][i % 2];
        ws_command(
            &mut ws,
            &format!("b{i}"),
            serde_json::json!({"cmd": "raise", "team": team}),
        )
        .await?;
        settle(&counters, Duration::from_millis(150)).await;
    }
    let after = settle(&counters, Duration::from_millis(500)).await;
    let per_update = (after - before) as f64 / (bids * sessions) as f64;
    let alive = handles.iter().filter(|h| !h.is_closed()).count();
    println!(
        "{{\"bench\":\"ssh\",\"sessions\":{sessions},\"held\":{alive},\"open_seconds\":{:.2},\"rss_before_kib\":{rss_before},\"rss_after_kib\":{rss_after},\"kib_per_session\":{:.0},\"bids\":{bids},\"bytes_per_session_per_bid\":{per_update:.0},\"idle_cpu_pct\":{idle_cpu_pct:.1}}}",
        opened.as_secs_f64(),
        (rss_after.saturating_sub(rss_before)) as f64 / sessions as f64,
    );
    Ok(())
}
