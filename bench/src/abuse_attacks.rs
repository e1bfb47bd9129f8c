//! The attacks of `auction-bench abuse`, each until `stop` is set. Every
//! one sends only to the server on loopback, from 127.0.0.2 and up.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use auction_proto::msg::{ClientMsg, PROTOCOL_VERSION, ServerMsg};
use auction_proto::{Command, TeamCode};
use tokio::net::TcpSocket;

use crate::abuse::{connect_from, login_from, next_msg, send};

fn going(stop: &AtomicBool) -> bool {
    !stop.load(Ordering::Relaxed)
}

async fn pause() {
    tokio::time::sleep(Duration::from_millis(100)).await;
}

/// Anonymous SSH viewers asking for 1000x1000 terminals, from five
/// addresses, as many as the server lets in (it caps them).
pub async fn huge_terminals(ssh: &str, stop: &Arc<AtomicBool>) -> anyhow::Result<()> {
    let addr: std::net::SocketAddr = ssh.parse()?;
    let mut held = Vec::new();
    for n in 0..60 {
        if !going(stop) {
            break;
        }
        let socket = TcpSocket::new_v4()?;
        socket.bind(format!("127.0.0.{}:0", 2 + n % 5).parse()?)?;
        let stream = socket.connect(addr).await?;
        let config = Arc::new(russh::client::Config::default());
        let Ok(mut handle) =
            russh::client::connect_stream(config, stream, crate::ssh::AnyHost).await
        else {
            continue;
        };
        if !handle.authenticate_none("viewer").await?.success() {
            continue;
        }
        if let Ok(channel) = handle.channel_open_session().await {
            channel
                .request_pty(false, "xterm", 1000, 1000, 0, 0, &[])
                .await?;
            channel.request_shell(false).await?;
            held.push((handle, channel));
        }
    }
    while going(stop) {
        // Resize storms on every session. The attacker reads none of what
        // it is sent, so its own SSH client may stall: never wait on it.
        for (i, (_, channel)) in held.iter().enumerate() {
            let size = 900 + (i as u32 % 100);
            let resize = channel.window_change(size, size, 0, 0);
            let _ = tokio::time::timeout(Duration::from_millis(20), resize).await;
        }
        pause().await;
    }
    Ok(())
}

/// 300 raw TCP connections to the SSH port from one address, held open
/// without a key exchange, opened again as they are closed.
pub async fn raw_connections(ssh: &str, stop: &Arc<AtomicBool>) -> anyhow::Result<()> {
    let addr: std::net::SocketAddr = ssh.parse()?;
    let mut held = Vec::new();
    while going(stop) {
        held.retain(|s: &tokio::net::TcpStream| s.peer_addr().is_ok());
        while held.len() < 300 && going(stop) {
            let socket = TcpSocket::new_v4()?;
            socket.bind("127.0.0.3:0".parse()?)?;
            match socket.connect(addr).await {
                Ok(s) => held.push(s),
                Err(_) => break,
            }
        }
        pause().await;
    }
    Ok(())
}

async fn wrong_login(url: &str, source: &str, user: &str) -> anyhow::Result<()> {
    let mut ws = connect_from(url, source).await?;
    let login = ClientMsg::Login {
        v: PROTOCOL_VERSION,
        user: user.into(),
        password: "not-the-password".into(),
    };
    send(&mut ws, &login).await?;
    next_msg(&mut ws).await?;
    Ok(())
}

/// Every second, 100 simultaneous wrong logins from each of four addresses.
pub async fn login_burst(url: &str, stop: &Arc<AtomicBool>) -> anyhow::Result<()> {
    while going(stop) {
        let mut burst = Vec::new();
        for a in 0..4 {
            for n in 0..100 {
                let url = url.to_string();
                let user = ["mi", "csk", "presenter", "admin"][n % 4];
                burst.push(tokio::spawn(async move {
                    wrong_login(&url, &format!("127.0.0.{}", 10 + a), user).await
                }));
            }
        }
        for b in burst {
            let _ = b.await;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    Ok(())
}

/// A wrong presenter password every half second from another machine.
pub async fn presenter_lockout(url: &str, stop: &Arc<AtomicBool>) -> anyhow::Result<()> {
    while going(stop) {
        wrong_login(url, "127.0.0.20", "presenter").await.ok();
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    Ok(())
}

/// 100 viewer connections sending commands they may not give, reusing ids
/// the honest teams use, as fast as the server reads them.
pub async fn forbidden_flood(url: &str, stop: &Arc<AtomicBool>) -> anyhow::Result<()> {
    let mut tasks = Vec::new();
    for n in 0..100 {
        let (url, stop) = (url.to_string(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let source = format!("127.0.0.{}", 30 + n % 50);
            let mut ws = login_from(&url, &source, "viewer", "").await?;
            let mut i = 0u64;
            while going(&stop) {
                let command = ClientMsg::Command {
                    id: format!("honest-{i}"),
                    command: Command::Raise {
                        team: TeamCode::new("MI"),
                    },
                };
                send(&mut ws, &command).await?;
                i += 1;
                if i % 50 == 0 {
                    // Read what came back, so the server never waits on us.
                    while let Ok(Ok(_)) =
                        tokio::time::timeout(Duration::from_millis(1), next_msg(&mut ws)).await
                    {
                    }
                }
            }
            anyhow::Ok(())
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    Ok(())
}

/// 20 viewers asking for 1,000 entries of history in a loop.
pub async fn history_loop(url: &str, stop: &Arc<AtomicBool>) -> anyhow::Result<()> {
    let mut tasks = Vec::new();
    for n in 0..20 {
        let (url, stop) = (url.to_string(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let mut ws = login_from(&url, &format!("127.0.0.{}", 90 + n), "viewer", "").await?;
            while going(&stop) {
                let page = ClientMsg::History {
                    since: 0,
                    limit: Some(1000),
                };
                send(&mut ws, &page).await?;
                while !matches!(next_msg(&mut ws).await?, ServerMsg::History { .. }) {}
            }
            anyhow::Ok(())
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    Ok(())
}

/// Viewer logins, one after another from ten addresses, each connection
/// dropped at once (every one used to store a session and flush).
pub async fn viewer_logins(url: &str, stop: &Arc<AtomicBool>) -> anyhow::Result<()> {
    let mut n = 0u32;
    while going(stop) {
        let source = format!("127.0.0.{}", 120 + n % 10);
        login_from(url, &source, "viewer", "").await.ok();
        n += 1;
    }
    Ok(())
}
