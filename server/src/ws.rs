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
use auction_proto::{Access, Actor, Snapshot};
use futures_util::{SinkExt, StreamExt};
use tokio::io::AsyncWriteExt;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::broadcast;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{self, Message, Utf8Bytes};

use crate::auth::{LoginError, Session};
use crate::engine::{Catchup, Published};
use crate::fanout::{Join, Outbox, Queued};
use crate::server::App;

/// Longest client request id accepted.
const MAX_REQUEST_ID: usize = 128;
/// Most history entries in one answer.
const MAX_HISTORY: u32 = 1000;

/// What a WebSocket runs over: TCP, or TLS over TCP.
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// One connection, read and written by its own task without splitting it
/// (a split stream takes a lock on every read and every write); events are
/// written by the fan-out through the [`Queued`] layer.
pub type Sink<S> = WebSocketStream<Queued<S>>;

struct LoggedIn {
    session: Session,
    /// A team's sessions follow its private shortlist.
    shortlist: Option<crate::warroom::Follow>,
    /// Counts this session as online while it lives.
    _online: Option<Online>,
}

/// Marks an account online for as long as it is held.
pub(crate) struct Online {
    app: Arc<App>,
    user: String,
}

impl Online {
    pub(crate) fn new(app: &Arc<App>, session: &Session) -> Option<Online> {
        if session.access == Access::Viewer {
            return None;
        }
        app.presence
            .send_modify(|m| *m.entry(session.user.clone()).or_default() += 1);
        Some(Online {
            app: app.clone(),
            user: session.user.clone(),
        })
    }
}

impl Drop for Online {
    fn drop(&mut self) {
        self.app.presence.send_modify(|m| {
            if let Some(n) = m.get_mut(&self.user) {
                *n -= 1;
                if *n == 0 {
                    m.remove(&self.user);
                }
            }
        });
    }
}

fn presence_msg(app: &App) -> Message {
    text(&ServerMsg::Presence {
        online: app.presence.borrow().keys().cloned().collect(),
    })
}

async fn presence_changed(
    rx: &mut Option<tokio::sync::watch::Receiver<std::collections::BTreeMap<String, u32>>>,
) {
    match rx {
        Some(rx) => {
            if rx.changed().await.is_err() {
                std::future::pending::<()>().await;
            }
        }
        None => std::future::pending().await,
    }
}

impl LoggedIn {
    fn public_only(&self) -> bool {
        self.session.access == Access::Viewer
    }

    fn actor(&self) -> Actor {
        Actor::new(self.session.user.clone(), self.session.access.clone())
    }
}

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
    app: &App,
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

pub async fn serve<S: Io>(ws: Sink<S>, app: Arc<App>, peer: SocketAddr) {
    let mut sink = ws;
    let outbox = sink.get_ref().outbox().clone();
    let mut sess: Option<LoggedIn> = None;
    let limits = app.limits.clone();
    let mut ping = tokio::time::interval(limits.ping_interval);
    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_heard = Instant::now();
    let mut window = (Instant::now(), 0u32);
    // The room (admin, presenter) follows who is online.
    let mut presence: Option<tokio::sync::watch::Receiver<_>> = None;
    let mut ended: Option<std::pin::Pin<Box<dyn Future<Output = ()> + Send>>> = None;
    // Made once: registering a fresh waiter on the shared token at every
    // turn of the loop serialised all connections on its lock.
    let shutdown = app.shutdown.clone();
    let shutdown = shutdown.cancelled();
    tokio::pin!(shutdown);
    let end = loop {
        if presence.is_none() && sess.as_ref().is_some_and(|s| s.session.access.runs_room()) {
            let mut rx = app.presence.subscribe();
            rx.mark_changed();
            presence = Some(rx);
        }
        if ended.is_none()
            && let Some(s) = &sess
        {
            // Made once per session and polled where it stands.
            ended = Some(Box::pin(app.auth.session_end(&s.session)));
        }
        tokio::select! {
            () = async {
                match ended.as_mut() {
                    Some(f) => f.await,
                    None => std::future::pending().await,
                }
            } => break End::Revoked,
            entries = crate::warroom::next_change(sess.as_mut().and_then(|s| s.shortlist.as_mut()), &app.warroom) => {
                if sink.send(text(&ServerMsg::Shortlist { entries })).await.is_err() {
                    break End::ClientClosed;
                }
            }
            () = presence_changed(&mut presence) => {
                if sink.send(presence_msg(&app)).await.is_err() {
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
                    tracing::info!(%peer, user = sess.as_ref().map(|s| s.session.user.as_str()), "client fell too far behind; closing so it resumes");
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
    let close = |code: CloseCode, reason: &str| {
        Message::Close(Some(CloseFrame {
            code,
            reason: Utf8Bytes::from(reason.to_string()),
        }))
    };
    // Nothing from the fan-out may follow the close frame.
    outbox.leave();
    let frame = match &end {
        End::Shutdown => Some(close(CloseCode::Away, "server shutting down")),
        End::Idle => Some(close(CloseCode::Away, "idle timeout")),
        End::TooLarge => Some(close(CloseCode::Size, "message over 64 KiB")),
        End::Lagging => Some(close(CloseCode::Again, "too far behind; reconnect")),
        End::Revoked => Some(close(
            CloseCode::Policy,
            "session ended (logged out, password changed or expired): log in again",
        )),
        End::ClientClosed | End::Error(_) => None,
    };
    if let Some(frame) = frame {
        let _ = tokio::time::timeout(Duration::from_secs(2), sink.send(frame)).await;
    }
    let _ = tokio::time::timeout(Duration::from_secs(1), SinkExt::close(&mut sink)).await;
    tracing::debug!(%peer, user = sess.as_ref().map(|s| s.session.user.as_str()), ?end, "connection closed");
}

/// Replaces the feed with a snapshot: leaves the fan-out (so no event
/// crosses the snapshot), sends it, and joins again after its seq.
async fn resync<S: Io>(app: &App, s: &LoggedIn, sink: &mut Sink<S>) -> Result<(), ()> {
    let outbox = sink.get_ref().outbox().clone();
    outbox.leave();
    let (snapshot, events) = app.engine.subscribe_fresh().await.map_err(|_| ())?;
    let after = snapshot.seq;
    send_large(sink, &ServerMsg::Snapshot(snapshot))
        .await
        .map_err(|_| ())?;
    join(app, &outbox, &s.session, after, events);
    Ok(())
}

/// Handles one text message. `Ok(false)` ends the connection.
async fn handle<S: Io>(
    raw: &str,
    app: &Arc<App>,
    peer: SocketAddr,
    sess: &mut Option<LoggedIn>,
    sink: &mut Sink<S>,
) -> Result<bool, tungstenite::Error> {
    let msg: ClientMsg = match serde_json::from_str(raw) {
        Ok(m) => m,
        Err(e) => {
            sink.send(error(
                ErrorCode::BadRequest,
                format!("not a message of this protocol: {e}"),
            ))
            .await?;
            return Ok(true);
        }
    };
    match msg {
        ClientMsg::Login { v, user, password } => {
            if let Some(refusal) = refuse_login(sess, v) {
                sink.send(refusal).await?;
                return Ok(true);
            }
            let auth = app.auth.clone();
            let ip = peer.ip();
            let result = tokio::task::spawn_blocking(move || auth.login(&user, &password, ip))
                .await
                .unwrap_or(Err(LoginError::BadCredentials));
            match result {
                Ok(session) => {
                    tracing::info!(%peer, user = %session.user, "logged in");
                    let Ok((snapshot, events)) = app.engine.subscribe_fresh().await else {
                        sink.send(error(
                            ErrorCode::Unavailable,
                            "the auction engine is not running",
                        ))
                        .await?;
                        return Ok(false);
                    };
                    let after = snapshot.seq;
                    let (shortlist, entries) = follow_shortlist(app, &session);
                    send_large(sink, &welcome(&session, Some(snapshot), entries)).await?;
                    join(app, sink.get_ref().outbox(), &session, after, events);
                    let online = Online::new(app, &session);
                    *sess = Some(LoggedIn {
                        session,
                        shortlist,
                        _online: online,
                    });
                }
                Err(e @ LoginError::BadCredentials) => {
                    tracing::info!(%peer, "failed login");
                    sink.send(error(ErrorCode::BadCredentials, e.to_string()))
                        .await?;
                }
                Err(e @ LoginError::Throttled(_)) => {
                    sink.send(error(ErrorCode::Throttled, e.to_string()))
                        .await?;
                }
            }
        }
        ClientMsg::Resume { v, token, last_seq } => {
            if let Some(refusal) = refuse_login(sess, v) {
                sink.send(refusal).await?;
                return Ok(true);
            }
            let Some(session) = app.auth.resume(&token) else {
                sink.send(error(
                    ErrorCode::BadToken,
                    "the session has expired or was revoked: log in again",
                ))
                .await?;
                return Ok(true);
            };
            let Ok(sub) = app.engine.subscribe(Some(last_seq)).await else {
                sink.send(error(
                    ErrorCode::Unavailable,
                    "the auction engine is not running",
                ))
                .await?;
                return Ok(false);
            };
            let public = session.access == Access::Viewer;
            let (shortlist, listed) = follow_shortlist(app, &session);
            let after = match sub.catchup {
                Catchup::Snapshot(snap) => {
                    let after = snap.seq;
                    send_large(sink, &welcome(&session, Some(*snap), listed)).await?;
                    after
                }
                Catchup::Events(entries) => {
                    let after = entries.last().map_or(last_seq, |e| e.seq);
                    sink.feed(text(&welcome(&session, None, listed))).await?;
                    for e in entries {
                        let e = if public { e.public() } else { e };
                        sink.feed(text(&ServerMsg::Event(e))).await?;
                    }
                    sink.flush().await?;
                    after
                }
            };
            join(app, sink.get_ref().outbox(), &session, after, sub.events);
            tracing::info!(%peer, user = %session.user, last_seq, "resumed");
            let online = Online::new(app, &session);
            *sess = Some(LoggedIn {
                session,
                shortlist,
                _online: online,
            });
        }
        ClientMsg::Command { id, command } => {
            let Some(s) = sess.as_ref() else {
                sink.send(error(ErrorCode::NotLoggedIn, "log in first"))
                    .await?;
                return Ok(true);
            };
            if id.is_empty() || id.len() > MAX_REQUEST_ID {
                sink.send(error(
                    ErrorCode::BadRequest,
                    format!("a command id must have 1 to {MAX_REQUEST_ID} characters"),
                ))
                .await?;
                return Ok(true);
            }
            let reply = match app
                .engine
                .submit(s.actor(), Some(id.clone()), command)
                .await
            {
                Ok(seq) => ServerMsg::Accepted { id, seq },
                Err(r) => ServerMsg::Rejected {
                    id,
                    code: r.code,
                    message: r.message,
                },
            };
            sink.send(text(&reply)).await?;
        }
        ClientMsg::History { since, limit } => {
            let Some(s) = sess.as_ref() else {
                sink.send(error(ErrorCode::NotLoggedIn, "log in first"))
                    .await?;
                return Ok(true);
            };
            let limit = limit.unwrap_or(500).clamp(1, MAX_HISTORY);
            match app.engine.history(since, limit as usize).await {
                Ok(entries) => {
                    let more = entries.len() == limit as usize;
                    let entries = if s.public_only() {
                        entries.iter().map(|e| e.public()).collect()
                    } else {
                        entries
                    };
                    send_large(sink, &ServerMsg::History { entries, more }).await?;
                }
                Err(_) => {
                    sink.send(error(
                        ErrorCode::Unavailable,
                        "the auction engine is not running",
                    ))
                    .await?
                }
            }
        }
        ClientMsg::Snapshot => {
            let Some(s) = sess.as_ref() else {
                sink.send(error(ErrorCode::NotLoggedIn, "log in first"))
                    .await?;
                return Ok(true);
            };
            if resync(app, s, sink).await.is_err() {
                return Ok(false);
            }
        }
        ClientMsg::Ping { nonce } => sink.send(text(&ServerMsg::Pong { nonce })).await?,
        ClientMsg::SetPassword { user, password } => {
            let Some(s) = sess.as_ref() else {
                sink.send(error(ErrorCode::NotLoggedIn, "log in first"))
                    .await?;
                return Ok(true);
            };
            if s.session.access != Access::Admin {
                sink.send(error(
                    ErrorCode::Forbidden,
                    "only the admin may set passwords",
                ))
                .await?;
                return Ok(true);
            }
            let auth = app.auth.clone();
            let target = user.clone();
            let result =
                tokio::task::spawn_blocking(move || auth.set_password(&target, &password)).await;
            match result {
                Ok(Ok(())) => {
                    tracing::info!(%peer, admin = %s.session.user, account = %user, "password set");
                    sink.send(text(&ServerMsg::PasswordSet { user })).await?;
                }
                Ok(Err(e)) => {
                    sink.send(error(ErrorCode::BadRequest, e.to_string()))
                        .await?
                }
                Err(_) => {
                    sink.send(error(ErrorCode::Unavailable, "could not set the password"))
                        .await?
                }
            }
        }
        ClientMsg::SetShortlist { entries } => {
            let Some(s) = sess.as_ref() else {
                sink.send(error(ErrorCode::NotLoggedIn, "log in first"))
                    .await?;
                return Ok(true);
            };
            if let Err((code, message)) =
                crate::warroom::set_for(app, &s.session.access, entries).await
            {
                sink.send(error(code, message)).await?;
            }
        }
        ClientMsg::Logout => {
            if let Some(s) = sess.take() {
                // The revocation is flushed to disk: not on a runtime worker.
                let (auth, token) = (app.auth.clone(), s.session.token.clone());
                let _ = tokio::task::spawn_blocking(move || auth.logout(&token)).await;
                tracing::info!(%peer, user = %s.session.user, "logged out");
            }
            sink.send(Message::Close(Some(CloseFrame {
                code: CloseCode::Normal,
                reason: "logged out".into(),
            })))
            .await?;
            return Ok(false);
        }
    }
    Ok(true)
}

/// Why a login or resume cannot go ahead on this connection, if it cannot.
fn refuse_login(sess: &Option<LoggedIn>, v: u32) -> Option<Message> {
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
    shortlist: Option<Vec<auction_proto::msg::ShortlistEntry>>,
) -> ServerMsg {
    ServerMsg::Welcome {
        v: PROTOCOL_VERSION,
        user: session.user.clone(),
        access: session.access.clone(),
        token: session.token.clone(),
        expires_at_ms: session.expires_at_ms,
        snapshot,
        shortlist,
    }
}

/// For a team session: its shortlist as of now, for the welcome, and the
/// changes from now on (subscribed first, so that none falls between).
fn follow_shortlist(
    app: &App,
    session: &Session,
) -> (
    Option<crate::warroom::Follow>,
    Option<Vec<auction_proto::msg::ShortlistEntry>>,
) {
    match crate::auth::team_of(&session.access) {
        Some(team) => {
            let changes = app.warroom.subscribe();
            let entries = app.warroom.get(team);
            (Some((team.clone(), changes)), Some(entries))
        }
        None => (None, None),
    }
}
