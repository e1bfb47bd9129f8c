//! The network side of the interactive client: logs in, forwards what the
//! server says as [`NetEvent`]s, sends what the app asks, and when the
//! connection drops, reconnects with backoff and resumes from the last seq,
//! so the app never misses or repeats an event.

use std::time::Duration;

use auction_proto::msg::{ClientMsg, ErrorCode, ServerMsg};
use tokio::sync::mpsc;

use auction_screens::link::{Link, LinkEnds, NetEvent, Outgoing};

use crate::net::{NetError, Welcome, WsClient};

#[derive(Clone)]
pub struct Login {
    pub server: String,
    pub user: String,
    pub password: String,
    /// How a `wss://` server's certificate is trusted.
    pub trust: crate::net::Trust,
}

/// How the session paces itself on a flaky network.
#[derive(Clone, Debug)]
pub struct Timing {
    /// Connecting and logging in (or resuming) must finish within this.
    pub connect_timeout: Duration,
    /// A ping (answered with a pong, which also measures the round trip).
    pub ping_every: Duration,
    /// Nothing heard for this long: the connection is dead (a half-open
    /// socket after a laptop slept or the Wi-Fi dropped), reconnect.
    pub dead_after: Duration,
    /// The first retry waits `first_backoff`, doubling up to `max_backoff`,
    /// each with up to a quarter more at random so a room does not
    /// reconnect in lockstep.
    pub first_backoff: Duration,
    pub max_backoff: Duration,
}

impl Default for Timing {
    fn default() -> Timing {
        Timing {
            connect_timeout: Duration::from_secs(5),
            ping_every: Duration::from_secs(5),
            dead_after: Duration::from_secs(15),
            first_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(5),
        }
    }
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Starts the session task; returns the screens' end of its link. The
/// task ends when the link's sender is dropped, or when the first login
/// fails.
pub fn spawn(login: Login) -> Link {
    spawn_with(login, Timing::default())
}

/// [`spawn`] with its own timing.
pub fn spawn_with(login: Login, timing: Timing) -> Link {
    let (link, ends) = Link::pair();
    tokio::spawn(run(login, timing, ends));
    link
}

enum End {
    /// Never logged in: tell the user, do not retry.
    LoginFailed(String),
    /// The connection ended; `was_up` when it had been logged in.
    Dropped {
        reason: String,
        was_up: bool,
    },
    AppGone,
}

fn dropped(reason: impl Into<String>) -> End {
    End::Dropped {
        reason: reason.into(),
        was_up: false,
    }
}

struct Resume {
    token: String,
    seq: u64,
}

async fn run(login: Login, timing: Timing, ends: LinkEnds) {
    let LinkEnds {
        requests: mut out,
        events,
    } = ends;
    let mut resume: Option<Resume> = None;
    let mut backoff = timing.first_backoff;
    loop {
        let _ = events.send(NetEvent::Connecting).await;
        match connection(&login, &timing, &mut resume, &events, &mut out).await {
            End::AppGone => return,
            End::LoginFailed(message) => {
                let _ = events.send(NetEvent::LoginFailed(message)).await;
                return;
            }
            End::Dropped { reason, was_up } => {
                if resume.is_none() {
                    let _ = events.send(NetEvent::LoginFailed(reason)).await;
                    return;
                }
                if was_up {
                    backoff = timing.first_backoff;
                }
                let jitter = rand::random_range(0..=backoff.as_millis() as u64 / 4);
                let pause = backoff + Duration::from_millis(jitter);
                let _ = events
                    .send(NetEvent::Disconnected {
                        reason,
                        retry_in_ms: pause.as_millis() as u64,
                    })
                    .await;
                // While waiting, refuse what the app sends rather than send it late.
                let wait = tokio::time::sleep(pause);
                tokio::pin!(wait);
                loop {
                    tokio::select! {
                        () = &mut wait => break,
                        msg = out.recv() => match msg {
                            None => return,
                            Some(Outgoing::Command { id, .. } | Outgoing::SetCeiling { id, .. }) => {
                                let _ = events.send(NetEvent::Rejected {
                                    id,
                                    code: auction_proto::RejectCode::Unavailable,
                                    message: "not connected: nothing was sent".into(),
                                }).await;
                            }
                            Some(Outgoing::SetPassword { .. } | Outgoing::SetShortlist(_) | Outgoing::History { .. }) => {
                                let _ = events.send(NetEvent::Error {
                                    code: ErrorCode::Unavailable,
                                    message: "not connected: nothing was sent".into(),
                                }).await;
                            }
                        }
                    }
                }
                backoff = (backoff * 2).min(timing.max_backoff);
                continue;
            }
        }
    }
}

/// Tells the app about a welcome: the session, then a team's private
/// shortlist and proxy-bid ceilings.
async fn announce(welcome: Welcome, events: &mpsc::Sender<NetEvent>) -> Result<(), ()> {
    let (shortlist, ceilings) = (welcome.shortlist.clone(), welcome.ceilings.clone());
    let mut told = vec![welcome_event(welcome)];
    told.extend(shortlist.map(NetEvent::Shortlist));
    told.extend(ceilings.map(NetEvent::Ceilings));
    for ev in told {
        events.send(ev).await.map_err(|_| ())?;
    }
    Ok(())
}

fn welcome_event(w: Welcome) -> NetEvent {
    NetEvent::Welcome {
        user: w.user,
        access: w.access,
        snapshot: w.snapshot,
    }
}

/// Connects, then resumes (or logs in). `Err` ends the attempt.
async fn open(login: &Login, resume: &Option<Resume>) -> Result<(WsClient, Welcome), End> {
    let mut conn = WsClient::connect(&login.server, &login.trust)
        .await
        .map_err(|e| dropped(e.to_string()))?;
    // Resume when we can; fall back to a fresh login if the token is gone.
    let resumed = match resume.as_ref() {
        Some(r) => match conn.resume(&r.token, r.seq).await {
            Ok(w) => Some(w),
            Err(NetError::Server {
                code: ErrorCode::BadToken,
                ..
            }) => None,
            Err(e) => return Err(dropped(e.to_string())),
        },
        None => None,
    };
    let welcome = match resumed {
        Some(w) => w,
        None => match conn.login(&login.user, &login.password).await {
            Ok(w) => w,
            Err(NetError::Server { message, .. }) => return Err(End::LoginFailed(message)),
            Err(e) => return Err(dropped(e.to_string())),
        },
    };
    Ok((conn, welcome))
}

async fn connection(
    login: &Login,
    timing: &Timing,
    resume: &mut Option<Resume>,
    events: &mpsc::Sender<NetEvent>,
    out: &mut mpsc::Receiver<Outgoing>,
) -> End {
    let (mut conn, welcome) =
        match tokio::time::timeout(timing.connect_timeout, open(login, resume)).await {
            Ok(Ok(opened)) => opened,
            Ok(Err(end)) => return end,
            Err(_) => {
                return dropped(format!(
                    "no answer from {} within {} s",
                    login.server,
                    timing.connect_timeout.as_secs_f32()
                ));
            }
        };
    let mut seq = match (&welcome.snapshot, resume.as_ref()) {
        (Some(s), _) => s.seq,
        (None, Some(r)) => r.seq,
        (None, None) => 0,
    };
    let token = welcome.token.clone();
    *resume = Some(Resume {
        token: token.clone(),
        seq,
    });
    if announce(welcome, events).await.is_err() {
        return End::AppGone;
    }
    let mut ping = tokio::time::interval(timing.ping_every);
    let mut awaiting_snapshot = false;
    let mut last_heard = tokio::time::Instant::now();
    let lost = |reason: String| End::Dropped {
        reason,
        was_up: true,
    };
    loop {
        tokio::select! {
            msg = conn.recv_raw() => {
                let msg = match msg {
                    Ok((m, _)) => m,
                    Err(NetError::Ended(reason)) => return End::LoginFailed(reason),
                    Err(e) => return lost(e.to_string()),
                };
                last_heard = tokio::time::Instant::now();
                let ev = match incoming(msg, &mut seq, &mut awaiting_snapshot) {
                    Ok(ev) => ev,
                    Err(Withheld::Skip) => continue,
                    Err(Withheld::AskSnapshot) => {
                        if conn.send(&ClientMsg::Snapshot).await.is_err() {
                            return lost("connection lost".into());
                        }
                        continue;
                    }
                };
                *resume = Some(Resume { token: token.clone(), seq });
                if events.send(ev).await.is_err() {
                    return End::AppGone;
                }
            }
            msg = out.recv() => {
                let Some(msg) = msg else {
                    conn.close().await;
                    return End::AppGone;
                };
                let msg = ClientMsg::from(msg);
                if let Err(e) = conn.send(&msg).await {
                    return lost(e.to_string());
                }
            }
            _ = ping.tick() => {
                if last_heard.elapsed() > timing.dead_after {
                    return lost(format!(
                        "no answer from the server for {} s",
                        timing.dead_after.as_secs_f32()
                    ));
                }
                // A peer gone without a goodbye can leave this send waiting.
                let msg = ClientMsg::Ping { nonce: now_ms() };
                match tokio::time::timeout(timing.dead_after, conn.send(&msg)).await {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => return lost(e.to_string()),
                    Err(_) => return lost("the connection is stuck".into()),
                }
            }
        }
    }
}

/// Why a message from the server is not passed to the app.
enum Withheld {
    /// Already seen, or not for the app.
    Skip,
    /// A gap in the events: ask for a snapshot (once) instead.
    AskSnapshot,
}

/// Turns a server message into an app event, keeping `seq` gapless: an
/// event that skips one is never shown; a snapshot is asked for instead.
fn incoming(
    msg: ServerMsg,
    seq: &mut u64,
    awaiting_snapshot: &mut bool,
) -> Result<NetEvent, Withheld> {
    Ok(match msg {
        ServerMsg::Event(e) if e.seq == *seq + 1 => {
            *seq = e.seq;
            NetEvent::Event(e)
        }
        ServerMsg::Event(e) if e.seq <= *seq => return Err(Withheld::Skip),
        ServerMsg::Event(_) if *awaiting_snapshot => return Err(Withheld::Skip),
        ServerMsg::Event(_) => {
            *awaiting_snapshot = true;
            return Err(Withheld::AskSnapshot);
        }
        ServerMsg::Snapshot(s) => {
            *awaiting_snapshot = false;
            *seq = s.seq;
            NetEvent::Snapshot(s)
        }
        ServerMsg::Welcome { .. } => return Err(Withheld::Skip),
        ServerMsg::Accepted { id, seq } => NetEvent::Accepted { id, seq },
        ServerMsg::Rejected { id, code, message } => NetEvent::Rejected { id, code, message },
        ServerMsg::History { entries, .. } => NetEvent::History(entries),
        ServerMsg::Pong { nonce } => NetEvent::Rtt(now_ms().saturating_sub(nonce)),
        ServerMsg::PasswordSet { user } => NetEvent::password_set(&user),
        ServerMsg::Error { code, message } => NetEvent::Error { code, message },
        ServerMsg::Presence { online } => NetEvent::Presence(online),
        ServerMsg::Shortlist { entries } => NetEvent::Shortlist(entries),
        ServerMsg::Ceilings { ceilings } => NetEvent::Ceilings(ceilings),
        ServerMsg::CeilingCount { player, teams } => NetEvent::CeilingCount { player, teams },
    })
}
