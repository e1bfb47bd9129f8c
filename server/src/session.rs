//! What a logged-in client may do, written once for every door.
//!
//! A [`ClientSession`] is the only thing that talks to the engine, the
//! accounts and the war room on a client's behalf. The WebSocket door
//! ([`crate::ws`]) turns its [`Reply`]s and [`Notice`]s into protocol
//! messages; the SSH door ([`crate::ssh::link`]) into the screens' link
//! events. Neither decides anything itself, so both answer alike.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;

use auction_proto::msg::{CeilingEntry, ErrorCode, ShortlistEntry};
use auction_proto::{Access, Actor, Command, Entry, Money, PlayerId, RejectCode, Snapshot};
use tokio::sync::watch;

use crate::auth::{LoginError, Session};
use crate::context::Context;
use crate::engine::{EngineGone, Subscription};

/// Longest client request id accepted.
pub const MAX_REQUEST_ID: usize = 128;
/// Most history entries in one answer.
pub const MAX_HISTORY: u32 = 1000;
/// History entries in an answer when the client does not say.
pub const DEFAULT_HISTORY: u32 = 500;
/// History pages per session: a burst of [`HISTORY_BURST`], then one per
/// [`HISTORY_EVERY`]; a client paging faster is made to wait (a loop of
/// history requests costs the store, never the bids).
pub const HISTORY_EVERY: std::time::Duration = std::time::Duration::from_millis(250);
pub const HISTORY_BURST: u32 = 5;

/// What a logged-in client asks.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    Command {
        id: String,
        command: Command,
    },
    History {
        since: u64,
        limit: Option<u32>,
    },
    SetPassword {
        user: String,
        password: String,
    },
    SetShortlist(Vec<ShortlistEntry>),
    /// A team sets (or, with no amount, cancels) its proxy-bid ceiling.
    SetCeiling {
        id: String,
        player: PlayerId,
        amount: Option<Money>,
    },
}

/// The answer to a [`Request`].
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    Accepted {
        id: String,
        seq: u64,
    },
    Rejected {
        id: String,
        code: RejectCode,
        message: String,
    },
    History {
        entries: Vec<Entry>,
        more: bool,
    },
    PasswordSet {
        user: String,
    },
    /// The shortlist was stored; the change itself arrives as a
    /// [`Notice::Shortlist`] to every session of the team.
    ShortlistSaved,
    Error {
        code: ErrorCode,
        message: String,
    },
}

/// What the server tells a session without being asked.
#[derive(Debug, Clone, PartialEq)]
pub enum Notice {
    /// The team's shortlist changed (team sessions only).
    Shortlist(Vec<ShortlistEntry>),
    /// The accounts online now (the presenter and admin only).
    Presence(Vec<String>),
    /// The team's proxy-bid ceilings (team sessions only).
    Ceilings(Vec<CeilingEntry>),
    /// How many teams hold a ceiling on the player on the block (the room
    /// only, when the league counts them).
    CeilingCount { player: PlayerId, teams: u32 },
    /// The session ended from the server's side: logged out elsewhere,
    /// password changed, expired.
    Ended,
}

/// A request id the server does not take, said so.
fn bad_id(id: &str) -> Option<Reply> {
    (id.is_empty() || id.len() > MAX_REQUEST_ID).then(|| Reply::Error {
        code: ErrorCode::BadRequest,
        message: format!("a request id must have 1 to {MAX_REQUEST_ID} characters"),
    })
}

/// The engine's answer to request `id`.
fn answer(id: String, result: Result<u64, auction_proto::Rejection>) -> Reply {
    match result {
        Ok(seq) => Reply::Accepted { id, seq },
        Err(r) => Reply::Rejected {
            id,
            code: r.code,
            message: r.message,
        },
    }
}

fn engine_gone() -> Reply {
    Reply::Error {
        code: ErrorCode::Unavailable,
        message: "the auction engine is not running".into(),
    }
}

/// How long a login waits for a turn to have its password checked.
const HASH_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Logs in with a password, for either door. The attempt takes its place
/// in the throttle first (a burst of guesses is refused before any
/// hashing), then waits its turn among at most
/// [`crate::limits::Limits::concurrent_hashes`] password checks (each
/// costs tens of ms and ~19 MiB), run on a blocking thread.
pub async fn login(
    app: &Context,
    user: String,
    password: String,
    from: IpAddr,
) -> Result<Session, LoginError> {
    let attempt = app.auth.begin_login(&user, from)?;
    let permit = match attempt.hashes() {
        true => match tokio::time::timeout(HASH_WAIT, app.hashing.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Some(permit),
            // Too busy to check it: not a failed guess.
            _ => {
                attempt.withdraw();
                return Err(LoginError::Busy);
            }
        },
        false => None,
    };
    let auth = app.auth.clone();
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        auth.finish_login(attempt, &password)
    })
    .await
    .unwrap_or(Err(LoginError::BadCredentials))
}

/// What only this session's team sees, as of the login (for the welcome;
/// changes follow as notices).
pub struct Private {
    pub shortlist: Option<Vec<ShortlistEntry>>,
    pub ceilings: Option<Vec<CeilingEntry>>,
}

/// A logged-in client, on any door.
pub struct ClientSession {
    app: Arc<Context>,
    login: Session,
    /// A team's sessions follow its private shortlist.
    shortlist: Option<crate::warroom::Follow>,
    /// The room (admin, presenter) follows who is online.
    presence: Option<watch::Receiver<BTreeMap<String, u32>>>,
    ended: Pin<Box<dyn Future<Output = ()> + Send + Sync>>,
    /// Counts this account as online while the session lives.
    _online: Option<crate::presence::Online>,
    /// The history pacing's clock: when the pages read so far would all
    /// have been due at the steady rate.
    history_due: tokio::time::Instant,
    /// A team's sessions follow its ceilings; the room, in a league that
    /// counts them, the count on the block.
    book: Option<crate::proxy_view::Follow>,
}

impl ClientSession {
    /// Opens a session for a login; with it, the team's shortlist as of now
    /// (for the welcome; changes from now on come as notices, subscribed
    /// first so that none falls between).
    pub fn open(app: &Arc<Context>, login: Session) -> (ClientSession, Private) {
        let (shortlist, entries) = match crate::auth::team_of(&login.access) {
            Some(team) => {
                let changes = app.warroom.subscribe();
                let entries = app.warroom.get(team);
                (Some((team.clone(), changes)), Some(entries))
            }
            None => (None, None),
        };
        let presence = login.access.runs_room().then(|| app.presence.follow());
        let (book, ceilings) = match crate::proxy_view::follow(app, &login.access) {
            Some((follow, now)) => (Some(follow), now),
            None => (None, None),
        };
        let session = ClientSession {
            book,
            app: app.clone(),
            ended: Box::pin(app.auth.session_end(&login)),
            _online: app.presence.enter(&login),
            history_due: tokio::time::Instant::now(),
            login,
            shortlist,
            presence,
        };
        let private = Private {
            shortlist: entries,
            ceilings,
        };
        (session, private)
    }

    pub fn login(&self) -> &Session {
        &self.login
    }

    /// Viewers see only what is public.
    pub fn public_only(&self) -> bool {
        self.login.access == Access::Viewer
    }

    fn actor(&self) -> Actor {
        Actor::new(self.login.user.clone(), self.login.access.clone())
    }

    /// The state now, and every event after it.
    pub async fn fresh(
        &self,
    ) -> Result<
        (
            Snapshot,
            tokio::sync::broadcast::Receiver<Arc<crate::engine::Published>>,
        ),
        EngineGone,
    > {
        self.app.engine.subscribe_fresh().await
    }

    /// What a client that saw up to `last_seq` missed, and what follows.
    pub async fn after(&self, last_seq: u64) -> Result<Subscription, EngineGone> {
        self.app.engine.subscribe(Some(last_seq)).await
    }

    /// Answers one request.
    pub async fn handle(&mut self, request: Request) -> Reply {
        match request {
            Request::Command { id, command } => self.command(id, command).await,
            Request::History { since, limit } => self.history(since, limit).await,
            Request::SetPassword { user, password } => self.set_password(user, password).await,
            Request::SetShortlist(entries) => {
                match crate::warroom::set_for(&self.app, &self.login.access, entries).await {
                    Ok(()) => Reply::ShortlistSaved,
                    Err((code, message)) => Reply::Error { code, message },
                }
            }
            Request::SetCeiling { id, player, amount } => {
                self.set_ceiling(id, player, amount).await
            }
        }
    }

    /// Only a team sets ceilings, and only its own.
    async fn set_ceiling(&self, id: String, player: PlayerId, amount: Option<Money>) -> Reply {
        let Some(team) = crate::auth::team_of(&self.login.access) else {
            return Reply::Rejected {
                id,
                code: RejectCode::Forbidden,
                message: "only a team account sets proxy-bid ceilings".into(),
            };
        };
        if let Some(bad) = bad_id(&id) {
            return bad;
        }
        let result = self
            .app
            .engine
            .set_ceiling(team.clone(), player, amount)
            .await;
        answer(id, result)
    }

    async fn command(&self, id: String, command: Command) -> Reply {
        if let Some(bad) = bad_id(&id) {
            return bad;
        }
        let result = self
            .app
            .engine
            .submit(self.actor(), Some(id.clone()), command)
            .await;
        answer(id, result)
    }

    async fn history(&mut self, since: u64, limit: Option<u32>) -> Reply {
        self.pace_history().await;
        let limit = limit.unwrap_or(DEFAULT_HISTORY).clamp(1, MAX_HISTORY) as usize;
        let Ok(entries) = self.app.engine.history(since, limit).await else {
            return engine_gone();
        };
        let more = entries.len() == limit;
        let entries = if self.public_only() {
            entries.iter().map(Entry::public).collect()
        } else {
            entries
        };
        Reply::History { entries, more }
    }

    /// Waits, if needed, so that pages come at most [`HISTORY_BURST`] at
    /// once and then one per [`HISTORY_EVERY`].
    async fn pace_history(&mut self) {
        let now = tokio::time::Instant::now();
        let due = self.history_due.max(now);
        let slack = HISTORY_EVERY * (HISTORY_BURST - 1);
        if let Some(wait) = due.checked_duration_since(now + slack) {
            tokio::time::sleep(wait).await;
        }
        self.history_due = due + HISTORY_EVERY;
    }

    async fn set_password(&self, user: String, password: String) -> Reply {
        if self.login.access != Access::Admin {
            return Reply::Error {
                code: ErrorCode::Forbidden,
                message: "only the admin may set passwords".into(),
            };
        }
        let auth = self.app.auth.clone();
        let target = user.clone();
        match tokio::task::spawn_blocking(move || auth.set_password(&target, &password)).await {
            Ok(Ok(())) => {
                tracing::info!(admin = %self.login.user, account = %user, "password set");
                Reply::PasswordSet { user }
            }
            Ok(Err(e)) => Reply::Error {
                code: ErrorCode::BadRequest,
                message: e.to_string(),
            },
            Err(_) => Reply::Error {
                code: ErrorCode::Unavailable,
                message: "could not set the password".into(),
            },
        }
    }

    /// The next thing to tell the client unasked. Cancel-safe: a door
    /// selects on it beside its own reads.
    pub async fn notice(&mut self) -> Notice {
        tokio::select! {
            () = &mut self.ended => Notice::Ended,
            entries = crate::warroom::next_change(self.shortlist.as_mut(), &self.app.warroom) => {
                Notice::Shortlist(entries)
            }
            online = presence_changed(&mut self.presence, &self.app) => Notice::Presence(online),
            notice = crate::proxy_view::next(self.book.as_mut()) => notice,
        }
    }

    /// Logs out: this login's token is revoked (flushed on a blocking
    /// thread), which ends its sessions on every door.
    pub async fn logout(self) {
        let (auth, token) = (self.app.auth.clone(), self.login.token.clone());
        let _ = tokio::task::spawn_blocking(move || auth.logout(&token)).await;
        tracing::info!(user = %self.login.user, "logged out");
    }
}

async fn presence_changed(
    rx: &mut Option<watch::Receiver<BTreeMap<String, u32>>>,
    app: &Context,
) -> Vec<String> {
    if let Some(watching) = rx {
        if watching.changed().await.is_ok() {
            return app.presence.online();
        }
        *rx = None;
    }
    std::future::pending().await
}
