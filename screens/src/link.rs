//! The link between the screens and an auction: what the app sends
//! ([`Outgoing`]), what it hears ([`NetEvent`]), and the user's terminal
//! ([`Input`]). A host makes a [`Link`] from a WebSocket session (the local
//! terminal) or straight to the engine (an SSH channel); the screens cannot
//! tell the two apart.

use auction_proto::msg::{CeilingEntry, ErrorCode, ShortlistEntry};
use auction_proto::{Access, Command, Entry, Money, PlayerId, RejectCode, Snapshot};
use crossterm::event::KeyEvent;
use tokio::sync::mpsc;

/// Requests in flight from the screens to the auction, at most.
pub const OUTGOING_QUEUE: usize = 64;
/// Events waiting for the screens, at most: a link that falls this far
/// behind sends a fresh snapshot instead of the events it could not queue.
pub const EVENT_QUEUE: usize = 1024;

/// What the network side tells the app.
#[derive(Debug, Clone)]
pub enum NetEvent {
    Connecting,
    /// Logged in (or resumed); a snapshot follows unless events do.
    Welcome {
        user: String,
        access: Access,
        snapshot: Option<Snapshot>,
    },
    Snapshot(Snapshot),
    Event(Entry),
    Accepted {
        id: String,
        seq: u64,
    },
    Rejected {
        id: String,
        code: RejectCode,
        message: String,
    },
    /// A protocol-level error for one request.
    Error {
        code: ErrorCode,
        message: String,
    },
    Rtt(u64),
    /// The connection dropped; the session retries on its own.
    Disconnected {
        reason: String,
        retry_in_ms: u64,
    },
    /// Login is impossible (wrong password, unreachable server): no retry.
    LoginFailed(String),
    /// An admin request outside the auction (a password set) succeeded.
    Done(String),
    /// The accounts connected now (sent to the room only).
    Presence(Vec<String>),
    /// The team's private shortlist (team sessions only).
    Shortlist(Vec<ShortlistEntry>),
    /// The team's proxy-bid ceilings (team sessions only).
    Ceilings(Vec<CeilingEntry>),
    /// How many teams hold a ceiling on the player on the block (the room,
    /// when the league counts them).
    CeilingCount {
        player: PlayerId,
        teams: u32,
    },
    /// Recorded events, for the admin's log.
    History(Vec<Entry>),
}

impl NetEvent {
    /// An admin's password change went through (both links say it alike).
    pub fn password_set(user: &str) -> NetEvent {
        NetEvent::Done(format!(
            "password of {user} set; its sessions were logged out"
        ))
    }
}

/// What the app sends to the auction.
#[derive(Debug, Clone, PartialEq)]
pub enum Outgoing {
    Command {
        id: String,
        command: Command,
    },
    SetPassword {
        user: String,
        password: String,
    },
    SetShortlist(Vec<ShortlistEntry>),
    /// Set (or, with no amount, cancel) the team's proxy-bid ceiling.
    SetCeiling {
        id: String,
        player: PlayerId,
        amount: Option<Money>,
    },
    /// The recorded events after `since`, for the admin's log.
    History {
        since: u64,
        limit: u32,
    },
}

/// The wire form of what the app sends (for a link over WebSocket).
impl From<Outgoing> for auction_proto::msg::ClientMsg {
    fn from(out: Outgoing) -> Self {
        use auction_proto::msg::ClientMsg;
        match out {
            Outgoing::Command { id, command } => ClientMsg::Command { id, command },
            Outgoing::SetPassword { user, password } => ClientMsg::SetPassword { user, password },
            Outgoing::SetShortlist(entries) => ClientMsg::SetShortlist { entries },
            Outgoing::SetCeiling { id, player, amount } => {
                ClientMsg::SetCeiling { id, player, amount }
            }
            Outgoing::History { since, limit } => ClientMsg::History {
                since,
                limit: Some(limit),
            },
        }
    }
}

/// Input from the user's terminal.
#[derive(Debug, Clone)]
pub enum Input {
    Key(KeyEvent),
    Resize(u16, u16),
    /// Output was dropped on the way (a slow SSH client): repaint everything.
    Redraw,
    /// The terminal went away.
    Closed,
}

/// A connection to the auction: where requests go, where events come from.
/// Both directions are bounded.
pub struct Link {
    pub out: mpsc::Sender<Outgoing>,
    pub events: mpsc::Receiver<NetEvent>,
}

/// The other ends of a [`Link`], for the side that serves it.
pub struct LinkEnds {
    pub requests: mpsc::Receiver<Outgoing>,
    pub events: mpsc::Sender<NetEvent>,
}

impl Link {
    /// A link and the ends its server holds.
    pub fn pair() -> (Link, LinkEnds) {
        let (out, requests) = mpsc::channel(OUTGOING_QUEUE);
        let (events_tx, events) = mpsc::channel(EVENT_QUEUE);
        (
            Link { out, events },
            LinkEnds {
                requests,
                events: events_tx,
            },
        )
    }
}
