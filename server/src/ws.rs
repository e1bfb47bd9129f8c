//! One WebSocket client: login or resume, commands, and the live event feed.
//!
//! Once logged in, a session joins the [fan-out](crate::fanout), which writes
//! every event to it from one thread; this task handles the client's
//! requests, and writes what the fan-out queued when the client was slow. A
//! client that falls too far behind is closed with 1013 and resumes: it never
//! sees a silent gap.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use auction_proto::msg::{ClientMsg, ErrorCode, PROTOCOL_VERSION, ServerMsg};
use auction_proto::{Access, Snapshot};
use futures_util::{SinkExt, StreamExt};
use tokio::io::AsyncWriteExt;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::broadcast;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{self, Message, Utf8Bytes};

use crate::auth::{LoginError, Session};
use crate::context::Context;
use crate::engine::{Catchup, Published};
use crate::fanout::{Join, Outbox, Queued};
use crate::session::{ClientSession, Notice, Reply, Request};

/// What a WebSocket runs over: TCP, or TLS over TCP.
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// One connection, read and written by its own task without splitting it
/// (a split stream takes a lock on every read and every write); events are
/// written by the fan-out through the [`Queued`] layer.
pub type Sink<S> = WebSocketStream<Queued<S>>;

/// Why a session ended (for the log).
#[derive(Debug)]
enum End {
    Revoked,
    ClientClosed,
    Idle,
    Shutdown,
    TooLarge,
    Lagging,
    Error(#[allow(dead_code, reason = "shown in the debug log")] String),
}

fn text(msg: &ServerMsg) -> Message {
    Message::Text(msg.to_json().into())
}

/// Sends a possibly large message (a snapshot, a history page) in frames of
/// at most [`crate::fanout::FRAME_BYTES`], written as one piece so that the
/// fan-out cannot put an event between two frames of it.
async fn send_large<S: Io>(sink: &mut Sink<S>, msg: &ServerMsg) -> Result<(), tungstenite::Error> {
    let mut frames = Vec::new();
    crate::fanout::encode_text(msg.to_json().as_bytes(), &mut frames);
    sink.get_mut().write_all(&frames).await?;
    sink.flush().await
}

/// Joins the fan-out with everything up to `after` already sent.
fn join(
    app: &Context,
    outbox: &Arc<Outbox>,
    session: &Session,
    after: u64,
    events: broadcast::Receiver<Arc<Published>>,
) {
    app.fanout.join(Join {
        outbox: outbox.clone(),
        public: session.access == Access::Viewer,
        after,
        events,
    });
}

fn error(code: ErrorCode, message: impl Into<String>) -> Message {
    text(&ServerMsg::Error {
        code,
        message: message.into(),
    })
}

pub async fn serve<S: Io>(ws: Sink<S>, app: Arc<Context>, peer: SocketAddr) {
    let mut sink = ws;
    let outbox = sink.get_ref().outbox().clone();
    let mut sess: Option<ClientSession> = None;
    let limits = app.limits.clone();
    let mut ping = tokio::time::interval(limits.ping_interval);
    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_heard = Instant::now();
    let mut window = (Instant::now(), 0u32);
    // Made once: registering a fresh waiter on the shared token at every
    // turn of the loop serialised all connections on its lock.
    let shutdown = app.shutdown.clone();
    let shutdown = shutdown.cancelled();
    tokio::pin!(shutdown);
    let end = loop {
        tokio::select! {
            notice = notice(&mut sess) => {
                let msg = match notice {
                    Notice::Ended => break End::Revoked,
                    Notice::Shortlist(entries) => ServerMsg::Shortlist { entries },
                    Notice::Presence(online) => ServerMsg::Presence { online },
                    Notice::Ceilings(ceilings) => ServerMsg::Ceilings { ceilings },
                    Notice::CeilingCount { player, teams } => {
                        ServerMsg::CeilingCount { player, teams }
                    }
                };
                if sink.send(text(&msg)).await.is_err() {
                    break End::ClientClosed;
                }
            }
            () = &mut shutdown => break End::Shutdown,
            incoming = sink.next() => {
                last_heard = Instant::now();
                let msg = match incoming {
                    None => break End::ClientClosed,
                    Some(Ok(m)) => m,
                    Some(Err(tungstenite::Error::Capacity(e))) => {
                        tracing::debug!(%peer, error = %e, "message too large");
                        break End::TooLarge;
                    }
                    Some(Err(e)) => break End::Error(e.to_string()),
                };
                let text = match msg {
                    Message::Text(t) => t,
                    Message::Binary(_) => {
                        if sink.send(error(ErrorCode::BadRequest, "send JSON text frames, not binary")).await.is_err() {
                            break End::ClientClosed;
                        }
                        continue;
                    }
                    Message::Close(_) => break End::ClientClosed,
                    _ => continue,
                };
                // Messages per second, per connection: a flood is slowed
                // down (we stop reading), never dropped.
                if window.0.elapsed() >= Duration::from_secs(1) {
                    window = (Instant::now(), 0);
                }
                window.1 += 1;
                if window.1 > limits.messages_per_second {
                    tokio::time::sleep_until((window.0 + Duration::from_secs(1)).into()).await;
                    window = (Instant::now(), 1);
                }
                match handle(&text, &app, peer, &mut sess, &mut sink).await {
                    Ok(true) => {}
                    Ok(false) => break End::ClientClosed,
                    Err(e) => break End::Error(e.to_string()),
                }
            }
            () = outbox.wanted() => {
                if outbox.is_behind() {
                    tracing::info!(%peer, user = user_of(&sess), "client fell too far behind; closing so it resumes");
                    break End::Lagging;
                }
                // The fan-out queued events the socket could not take at once.
                if let Err(e) = sink.flush().await {
                    break End::Error(e.to_string());
                }
            }
            _ = ping.tick() => {
                if last_heard.elapsed() > limits.idle_timeout {
                    break End::Idle;
                }
                if sink.send(Message::Ping(Default::default())).await.is_err() {
                    break End::ClientClosed;
                }
            }
        }
    };
    // Nothing from the fan-out may follow the close frame.
    outbox.leave();
    if let Some(frame) = close_frame(&end) {
        let _ = tokio::time::timeout(Duration::from_secs(2), sink.send(frame)).await;
    }
    let _ = tokio::time::timeout(Duration::from_secs(1), SinkExt::close(&mut sink)).await;
    tracing::debug!(%peer, user = user_of(&sess), ?end, "connection closed");
}

fn user_of(sess: &Option<ClientSession>) -> Option<&str> {
    sess.as_ref().map(|s| s.login().user.as_str())
}

/// The next notice of a logged-in session (none before login).
async fn notice(sess: &mut Option<ClientSession>) -> Notice {
    match sess {
        Some(s) => s.notice().await,
        None => std::future::pending().await,
    }
}

/// What the client is told when the server ends the connection.
fn close_frame(end: &End) -> Option<Message> {
    let (code, reason) = match end {
        End::Shutdown => (CloseCode::Restart, "server restarting"),
        End::Idle => (CloseCode::Away, "idle timeout"),
        End::TooLarge => (CloseCode::Size, "message over 64 KiB"),
        End::Lagging => (CloseCode::Again, "too far behind; reconnect"),
        End::Revoked => (
            CloseCode::Policy,
            "session ended (logged out, password changed or expired): log in again",
        ),
        End::ClientClosed | End::Error(_) => return None,
    };
    Some(Message::Close(Some(CloseFrame {
        code,
        reason: Utf8Bytes::from(reason.to_string()),
    })))
}

/// Replaces the feed with a snapshot: leaves the fan-out (so no event
/// crosses the snapshot), sends it, and joins again after its seq.
async fn resync<S: Io>(app: &Context, s: &ClientSession, sink: &mut Sink<S>) -> Result<(), ()> {
    let outbox = sink.get_ref().outbox().clone();
    outbox.leave();
    let (snapshot, events) = s.fresh().await.map_err(|_| ())?;
    let after = snapshot.seq;
    send_large(sink, &ServerMsg::Snapshot(snapshot))
        .await
        .map_err(|_| ())?;
    join(app, &outbox, s.login(), after, events);
    Ok(())
}

/// The wire form of a session's answer (`None`: nothing to say).
fn reply_msg(reply: Reply) -> Option<ServerMsg> {
    Some(match reply {
        Reply::Accepted { id, seq } => ServerMsg::Accepted { id, seq },
        Reply::Rejected { id, code, message } => ServerMsg::Rejected { id, code, message },
        Reply::History { entries, more } => ServerMsg::History { entries, more },
        Reply::PasswordSet { user } => ServerMsg::PasswordSet { user },
        Reply::Error { code, message } => ServerMsg::Error { code, message },
        Reply::ShortlistSaved => return None,
    })
}

/// Handles one text message. `Ok(false)` ends the connection.
async fn handle<S: Io>(
    raw: &str,
    app: &Arc<Context>,
    peer: SocketAddr,
    sess: &mut Option<ClientSession>,
    sink: &mut Sink<S>,
) -> Result<bool, tungstenite::Error> {
    let msg: ClientMsg = match serde_json::from_str(raw) {
        Ok(m) => m,
        Err(e) => {
            let message = format!("not a message of this protocol: {e}");
            sink.send(error(ErrorCode::BadRequest, message)).await?;
            return Ok(true);
        }
    };
    let request = match msg {
        ClientMsg::Login { v, user, password } => {
            return login(app, peer, sess, sink, v, user, password).await;
        }
        ClientMsg::Resume { v, token, last_seq } => {
            return resume(app, peer, sess, sink, v, &token, last_seq).await;
        }
        ClientMsg::Ping { nonce } => {
            sink.send(text(&ServerMsg::Pong { nonce })).await?;
            return Ok(true);
        }
        ClientMsg::Logout => {
            if let Some(s) = sess.take() {
                s.logout().await;
            }
            let frame = CloseFrame {
                code: CloseCode::Normal,
                reason: "logged out".into(),
            };
            sink.send(Message::Close(Some(frame))).await?;
            return Ok(false);
        }
        ClientMsg::Snapshot => None,
        ClientMsg::Command { id, command } => Some(Request::Command { id, command }),
        ClientMsg::History { since, limit } => Some(Request::History { since, limit }),
        ClientMsg::SetPassword { user, password } => Some(Request::SetPassword { user, password }),
        ClientMsg::SetShortlist { entries } => Some(Request::SetShortlist(entries)),
        ClientMsg::SetCeiling { id, player, amount } => {
            Some(Request::SetCeiling { id, player, amount })
        }
    };
    let Some(s) = sess.as_mut() else {
        sink.send(error(ErrorCode::NotLoggedIn, "log in first"))
            .await?;
        return Ok(true);
    };
    let Some(request) = request else {
        return Ok(resync(app, s, sink).await.is_ok());
    };
    match reply_msg(s.handle(request).await) {
        Some(msg @ ServerMsg::History { .. }) => send_large(sink, &msg).await?,
        Some(msg) => sink.send(text(&msg)).await?,
        None => {}
    }
    Ok(true)
}

async fn login<S: Io>(
    app: &Arc<Context>,
    peer: SocketAddr,
    sess: &mut Option<ClientSession>,
    sink: &mut Sink<S>,
    v: u32,
    user: String,
    password: String,
) -> Result<bool, tungstenite::Error> {
    if let Some(refusal) = refuse_login(sess, v) {
        sink.send(refusal).await?;
        return Ok(true);
    }
    let login = match crate::session::login(app, user, password, peer.ip()).await {
        Ok(login) => login,
        Err(e) => {
            let code = match e {
                LoginError::BadCredentials => ErrorCode::BadCredentials,
                LoginError::Throttled(_) => ErrorCode::Throttled,
                LoginError::Busy => ErrorCode::Unavailable,
            };
            tracing::info!(%peer, ?code, "failed login");
            sink.send(error(code, e.to_string())).await?;
            return Ok(true);
        }
    };
    tracing::info!(%peer, user = %login.user, "logged in");
    let (session, entries) = ClientSession::open(app, login);
    let Ok((snapshot, events)) = session.fresh().await else {
        sink.send(error(
            ErrorCode::Unavailable,
            "the auction engine is not running",
        ))
        .await?;
        return Ok(false);
    };
    let after = snapshot.seq;
    send_large(sink, &welcome(session.login(), Some(snapshot), entries)).await?;
    join(app, sink.get_ref().outbox(), session.login(), after, events);
    *sess = Some(session);
    Ok(true)
}

async fn resume<S: Io>(
    app: &Arc<Context>,
    peer: SocketAddr,
    sess: &mut Option<ClientSession>,
    sink: &mut Sink<S>,
    v: u32,
    token: &str,
    last_seq: u64,
) -> Result<bool, tungstenite::Error> {
    if let Some(refusal) = refuse_login(sess, v) {
        sink.send(refusal).await?;
        return Ok(true);
    }
    let Some(login) = app.auth.resume(token) else {
        let message = "the session has expired or was revoked: log in again";
        sink.send(error(ErrorCode::BadToken, message)).await?;
        return Ok(true);
    };
    let (session, listed) = ClientSession::open(app, login);
    let Ok(sub) = session.after(last_seq).await else {
        sink.send(error(
            ErrorCode::Unavailable,
            "the auction engine is not running",
        ))
        .await?;
        return Ok(false);
    };
    let after = match sub.catchup {
        Catchup::Snapshot(snap) => {
            let after = snap.seq;
            send_large(sink, &welcome(session.login(), Some(*snap), listed)).await?;
            after
        }
        Catchup::Events(entries) => {
            let after = entries.last().map_or(last_seq, |e| e.seq);
            sink.feed(text(&welcome(session.login(), None, listed)))
                .await?;
            for e in entries {
                let e = if session.public_only() { e.public() } else { e };
                sink.feed(text(&ServerMsg::Event(e))).await?;
            }
            sink.flush().await?;
            after
        }
    };
    join(
        app,
        sink.get_ref().outbox(),
        session.login(),
        after,
        sub.events,
    );
    tracing::info!(%peer, user = %session.login().user, last_seq, "resumed");
    *sess = Some(session);
    Ok(true)
}

/// Why a login or resume cannot go ahead on this connection, if it cannot.
fn refuse_login(sess: &Option<ClientSession>, v: u32) -> Option<Message> {
    if sess.is_some() {
        return Some(error(
            ErrorCode::AlreadyLoggedIn,
            "already logged in on this connection",
        ));
    }
    (v != PROTOCOL_VERSION).then(|| {
        error(
            ErrorCode::Version,
            format!("this server speaks protocol {PROTOCOL_VERSION}, not {v}"),
        )
    })
}

fn welcome(
    session: &Session,
    snapshot: Option<Snapshot>,
    private: crate::session::Private,
) -> ServerMsg {
    ServerMsg::Welcome {
        v: PROTOCOL_VERSION,
        user: session.user.to_string(),
        access: session.access.clone(),
        token: session.token.clone(),
        expires_at_ms: session.expires_at_ms,
        snapshot,
        shortlist: private.shortlist,
        ceilings: private.ceilings,
    }
}
