//! One WebSocket client: login or resume, commands, and the live event feed.
//!
//! A client's feed is the engine's broadcast channel: every event is
//! serialized once by the engine and shared. A client that falls more than
//! the channel's capacity behind is sent a fresh snapshot (with its seq), so
//! it never sees a silent gap.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use auction_proto::msg::{ClientMsg, ErrorCode, PROTOCOL_VERSION, ServerMsg};
use auction_proto::{Access, Actor, Snapshot};
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::broadcast;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{self, Message, Utf8Bytes};

use crate::auth::{LoginError, Session};
use crate::engine::{Catchup, Published};
use crate::server::App;

/// Longest client request id accepted.
const MAX_REQUEST_ID: usize = 128;
/// Most history entries in one answer.
const MAX_HISTORY: u32 = 1000;
/// Most events written before one flush when catching up a burst.
const MAX_BURST: usize = 256;

/// What a WebSocket runs over: TCP, or TLS over TCP.
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// One connection, read and written by its own task without splitting it
/// (a split stream takes a lock on every read and every write).
type Sink<S> = WebSocketStream<S>;

struct LoggedIn {
    session: Session,
    events: broadcast::Receiver<Arc<Published>>,
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

/// Resolves when a logged-in session ends from the server's side: its token
/// revoked (logout elsewhere, password change) or expired. Made once per
/// session and polled where it stands: a fresh `changed()` waiter (or timer)
/// at every turn of the loop had every connection take the shared channel's
/// lock for every event.
fn session_end(
    app: &Arc<App>,
    session: &Session,
) -> std::pin::Pin<Box<dyn Future<Output = ()> + Send>> {
    let left = session
        .expires_at_ms
        .saturating_sub(crate::engine::actor::system_now_ms());
    let token = session.token.clone();
    let mut revoked = app.auth.revocations();
    let app = app.clone();
    Box::pin(async move {
        let expiry = tokio::time::sleep(Duration::from_millis(left));
        tokio::pin!(expiry);
        loop {
            tokio::select! {
                changed = revoked.changed() => {
                    if changed.is_err() {
                        return std::future::pending().await;
                    }
                    if !app.auth.is_valid(&token) {
                        return;
                    }
                }
                () = &mut expiry => return,
            }
        }
    })
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

/// Messages above this go out as several frames of one message. tungstenite
/// keeps a connection's output buffer as large as the largest frame it ever
/// wrote, so one whole snapshot per frame would cost every client its size
/// for as long as it stays connected.
const FRAME_BYTES: usize = 8 * 1024;

/// The frames of one text message, none larger than [`FRAME_BYTES`].
fn fragments(text: String) -> Vec<Message> {
    use tokio_tungstenite::tungstenite::protocol::frame::Frame;
    use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
    if text.len() <= FRAME_BYTES {
        return vec![Message::Text(text.into())];
    }
    let bytes = tungstenite::Bytes::from(text.into_bytes());
    let len = bytes.len();
    (0..len)
        .step_by(FRAME_BYTES)
        .map(|at| {
            let end = (at + FRAME_BYTES).min(len);
            let opcode = if at == 0 { Data::Text } else { Data::Continue };
            Message::Frame(Frame::message(
                bytes.slice(at..end),
                OpCode::Data(opcode),
                end == len,
            ))
        })
        .collect()
}

/// Sends a possibly large message (a snapshot, a history page) in frames.
async fn send_large<S: Io>(sink: &mut Sink<S>, msg: &ServerMsg) -> Result<(), tungstenite::Error> {
    for frame in fragments(msg.to_json()) {
        sink.feed(frame).await?;
    }
    sink.flush().await
}

fn error(code: ErrorCode, message: impl Into<String>) -> Message {
    text(&ServerMsg::Error {
        code,
        message: message.into(),
    })
}

async fn recv_event(sess: &mut Option<LoggedIn>) -> Result<Arc<Published>, RecvError> {
    match sess {
        Some(s) => s.events.recv().await,
        None => std::future::pending().await,
    }
}

pub async fn serve<S: Io>(ws: WebSocketStream<S>, app: Arc<App>, peer: SocketAddr) {
    let mut sink = ws;
    let mut sess: Option<LoggedIn> = None;
    let limits = app.limits.clone();
    let mut ping = tokio::time::interval(limits.ping_interval);
    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_heard = Instant::now();
    let mut window = (Instant::now(), 0u32);
    // The room (admin, presenter) follows who is online.
    let mut presence: Option<tokio::sync::watch::Receiver<_>> = None;
    let mut ended: Option<std::pin::Pin<Box<dyn Future<Output = ()> + Send>>> = None;
    // A team's sessions follow its private shortlist.
    let mut shortlist: Option<(
        auction_proto::TeamCode,
        broadcast::Receiver<crate::warroom::Change>,
    )> = None;
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
            ended = Some(session_end(&app, &s.session));
        }
        if shortlist.is_none()
            && let Some(team) = sess
                .as_ref()
                .and_then(|s| crate::auth::team_of(&s.session.access))
                .cloned()
        {
            let rx = app.warroom.subscribe();
            let entries = app.warroom.get(&team);
            shortlist = Some((team, rx));
            if sink
                .send(text(&ServerMsg::Shortlist { entries }))
                .await
                .is_err()
            {
                break End::ClientClosed;
            }
        }
        tokio::select! {
            () = async {
                match ended.as_mut() {
                    Some(f) => f.await,
                    None => std::future::pending().await,
                }
            } => break End::Revoked,
            entries = crate::warroom::next_change(&mut shortlist, &app.warroom) => {
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
            event = recv_event(&mut sess) => {
                let Some(s) = sess.as_mut() else { continue };
                match event {
                    Ok(first) => {
                        if let Err(e) = send_burst(&mut sink, s, first).await {
                            break End::Error(e.to_string());
                        }
                    }
                    Err(RecvError::Lagged(missed)) => {
                        tracing::info!(%peer, user = %s.session.user, missed, "client fell behind; sending a snapshot");
                        match resync(&app, s, &mut sink).await {
                            Ok(()) => {}
                            Err(_) => break End::Lagging,
                        }
                    }
                    Err(RecvError::Closed) => break End::Shutdown,
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

/// Sends `first` and whatever else is already queued, then flushes once.
async fn send_burst<S: Io>(
    sink: &mut Sink<S>,
    s: &mut LoggedIn,
    first: Arc<Published>,
) -> Result<(), tungstenite::Error> {
    let public = s.public_only();
    let pick = |p: &Published| {
        if public {
            p.public.clone()
        } else {
            p.full.clone()
        }
    };
    sink.feed(Message::Text(pick(&first))).await?;
    for _ in 1..MAX_BURST {
        match s.events.try_recv() {
            Ok(p) => sink.feed(Message::Text(pick(&p))).await?,
            Err(TryRecvError::Lagged(_)) => {
                // Handled on the next recv, which reports the lag.
                break;
            }
            Err(_) => break,
        }
    }
    sink.flush().await
}

/// Replaces a lagging feed with a snapshot and a fresh subscription.
async fn resync<S: Io>(app: &App, s: &mut LoggedIn, sink: &mut Sink<S>) -> Result<(), ()> {
    let (snapshot, events) = app.engine.subscribe_fresh().await.map_err(|_| ())?;
    s.events = events;
    send_large(sink, &ServerMsg::Snapshot(snapshot))
        .await
        .map_err(|_| ())
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
                    send_large(sink, &welcome(&session, Some(snapshot))).await?;
                    let online = Online::new(app, &session);
                    *sess = Some(LoggedIn {
                        session,
                        events,
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
            match sub.catchup {
                Catchup::Snapshot(snap) => {
                    send_large(sink, &welcome(&session, Some(*snap))).await?
                }
                Catchup::Events(entries) => {
                    sink.feed(text(&welcome(&session, None))).await?;
                    for e in entries {
                        let e = if public { e.public() } else { e };
                        sink.feed(text(&ServerMsg::Event(e))).await?;
                    }
                    sink.flush().await?;
                }
            }
            tracing::info!(%peer, user = %session.user, last_seq, "resumed");
            let online = Online::new(app, &session);
            *sess = Some(LoggedIn {
                session,
                events: sub.events,
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
            let Some(s) = sess.as_mut() else {
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
                app.auth.logout(&s.session.token);
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

fn welcome(session: &Session, snapshot: Option<Snapshot>) -> ServerMsg {
    ServerMsg::Welcome {
        v: PROTOCOL_VERSION,
        user: session.user.clone(),
        access: session.access.clone(),
        token: session.token.clone(),
        expires_at_ms: session.expires_at_ms,
        snapshot,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_messages_are_split_into_small_frames_that_rebuild_the_text() {
        let text: String = "₹2.2 Cr ".repeat(5000);
        let frames = fragments(text.clone());
        assert!(frames.len() > 1);
        let mut rebuilt = Vec::new();
        for (i, f) in frames.iter().enumerate() {
            let Message::Frame(frame) = f else {
                panic!("not a raw frame")
            };
            assert!(frame.len() <= FRAME_BYTES + 14);
            assert_eq!(frame.header().is_final, i == frames.len() - 1);
            rebuilt.extend_from_slice(frame.payload());
        }
        assert_eq!(String::from_utf8(rebuilt).unwrap(), text);
        assert!(matches!(
            fragments("small".into()).as_slice(),
            [Message::Text(_)]
        ));
    }
}
