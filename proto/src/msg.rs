//! Messages on the wire: JSON text frames, each with a `type` tag.
//! `docs/protocol.md` shows an example of every one.

use serde::{Deserialize, Serialize};

use crate::command::{Command, RejectCode};
use crate::event::Event;
use crate::ids::TeamCode;
use crate::state::State;

/// Bumped on any incompatible change of these messages.
pub const PROTOCOL_VERSION: u32 = 1;

/// Largest message either side accepts.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;

/// Most players on a team's shortlist.
pub const MAX_SHORTLIST: usize = 100;
/// Longest note on a shortlisted player, in characters.
pub const MAX_NOTE: usize = 200;

/// A player on a team's private shortlist (its war room).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShortlistEntry {
    pub player: crate::ids::PlayerId,
    /// The most the team means to pay; the screen warns past it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<crate::money::Money>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
}

/// A team's proxy-bid ceiling on a player: the most the server will bid
/// for it (private to the team's own sessions).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CeilingEntry {
    pub player: crate::ids::PlayerId,
    pub amount: crate::money::Money,
}

/// What an account may do.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "role", rename_all = "snake_case")]
pub enum Access {
    Admin,
    Presenter,
    Team {
        team: TeamCode,
    },
    Viewer,
    /// The server itself (the bid clock).
    System,
}

impl Access {
    pub fn label(&self) -> String {
        match self {
            Access::Admin => "admin".into(),
            Access::Presenter => "presenter".into(),
            Access::Team { team } => format!("team {team}"),
            Access::Viewer => "viewer".into(),
            Access::System => "system".into(),
        }
    }

    /// Admin and presenter run the room.
    pub fn runs_room(&self) -> bool {
        matches!(self, Access::Admin | Access::Presenter)
    }
}

/// Who issued a command.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// The account name; empty in what viewers receive.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub user: String,
    #[serde(flatten)]
    pub access: Access,
}

impl Actor {
    pub fn new(user: impl Into<String>, access: Access) -> Actor {
        Actor {
            user: user.into(),
            access,
        }
    }

    pub fn system() -> Actor {
        Actor::new("system", Access::System)
    }
}

/// One accepted command as recorded in the log and broadcast to clients.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// Gapless, starting at 1.
    pub seq: u64,
    /// Server time, milliseconds since the Unix epoch.
    pub at_ms: u64,
    pub actor: Actor,
    /// The client's request id; absent in what viewers receive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    pub event: Event,
    /// SHA-256 (hex) of the previous entry as stored (64 zeros before the
    /// first): the log is a hash chain, so an edited or lost entry shows.
    /// Absent in logs written before the chain existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prev: Option<crate::LogHash>,
}

impl Entry {
    /// What a viewer may see: no account names, no request ids.
    pub fn public(&self) -> Entry {
        Entry {
            seq: self.seq,
            at_ms: self.at_ms,
            actor: Actor {
                user: String::new(),
                access: self.actor.access.clone(),
            },
            request_id: None,
            event: self.event.clone(),
            prev: self.prev,
        }
    }
}

/// The whole state as of `seq` (0 is before any event).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub seq: u64,
    pub state: State,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[derive(strum::EnumDiscriminants)]
#[strum_discriminants(
    name(ClientMsgKind),
    derive(strum::IntoStaticStr, strum::VariantArray),
    strum(serialize_all = "snake_case")
)]
pub enum ClientMsg {
    /// Log in; answered by `welcome` with a snapshot, or `error`.
    Login {
        v: u32,
        user: String,
        password: String,
    },
    /// Pick up a session after a dropped connection; answered by `welcome`
    /// and then every event after `last_seq` (or a snapshot if too far behind).
    Resume {
        v: u32,
        token: String,
        last_seq: u64,
    },
    /// Ask the engine to do something; answered by `accepted` or `rejected`
    /// with the same `id`. Sending the same `id` again returns the first answer.
    Command {
        id: String,
        command: Command,
    },
    /// The recorded events after `since`, at most `limit` (default 500).
    History {
        #[serde(default)]
        since: u64,
        #[serde(default)]
        limit: Option<u32>,
    },
    /// Ask for a fresh snapshot.
    Snapshot,
    Ping {
        nonce: u64,
    },
    /// End the session: the token stops working.
    Logout,
    /// Admin only: set an account's password (its sessions are logged out).
    SetPassword {
        user: String,
        password: String,
    },
    /// Team accounts only: replace the team's private shortlist.
    SetShortlist {
        entries: Vec<ShortlistEntry>,
    },
    /// Team accounts only: set the team's proxy-bid ceiling on a player
    /// (`amount`), or cancel it (no `amount`). Answered by `accepted` or
    /// `rejected` with the same `id`; the team's sessions then get
    /// `ceilings`.
    SetCeiling {
        id: String,
        player: crate::ids::PlayerId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        amount: Option<crate::money::Money>,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[derive(strum::EnumDiscriminants)]
#[strum_discriminants(
    name(ServerMsgKind),
    derive(strum::IntoStaticStr, strum::VariantArray),
    strum(serialize_all = "snake_case")
)]
pub enum ServerMsg {
    Welcome {
        v: u32,
        user: String,
        access: Access,
        token: String,
        expires_at_ms: u64,
        /// Present after a login or when a resume was too far behind;
        /// absent when the missed events follow instead.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        snapshot: Option<Snapshot>,
        /// A team's own war-room shortlist (team sessions only); changes
        /// follow as `shortlist` messages.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        shortlist: Option<Vec<ShortlistEntry>>,
        /// A team's own proxy-bid ceilings (team sessions only); changes
        /// follow as `ceilings` messages.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ceilings: Option<Vec<CeilingEntry>>,
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
    History {
        entries: Vec<Entry>,
        /// More entries follow after the last one returned.
        more: bool,
    },
    Pong {
        nonce: u64,
    },
    /// The answer to `set_password`.
    PasswordSet {
        user: String,
    },
    /// To a team's own sessions only: its private shortlist, after login
    /// and whenever any of its sessions changes it.
    Shortlist {
        entries: Vec<ShortlistEntry>,
    },
    /// To a team's own sessions only: every proxy-bid ceiling it holds,
    /// after login and whenever one is set, cancelled or ends with its lot.
    Ceilings {
        ceilings: Vec<CeilingEntry>,
    },
    /// To the admin and the presenter, in a league with
    /// `proxy_bids = "counted"`: how many teams hold a ceiling on the player
    /// on the block (never whose, or how much).
    CeilingCount {
        player: crate::ids::PlayerId,
        teams: u32,
    },
    /// To the admin and the presenter: which accounts (other than viewers)
    /// are connected now. Sent after login and on every change.
    Presence {
        online: Vec<String>,
    },
    /// A protocol-level problem (bad JSON, not logged in, ...). Nothing changed.
    Error {
        code: ErrorCode,
        message: String,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// Not JSON, or not a message this protocol knows.
    BadRequest,
    /// The client speaks another protocol version.
    Version,
    /// Wrong user name or password.
    BadCredentials,
    /// Too many failed logins; wait and try again.
    Throttled,
    /// The token is unknown, expired or revoked.
    BadToken,
    /// This needs a login first.
    NotLoggedIn,
    /// Already logged in on this connection.
    AlreadyLoggedIn,
    /// This account may not do that.
    Forbidden,
    /// The server is shutting down or could not serve the request.
    Unavailable,
}

impl ServerMsg {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("server messages always serialize")
    }
}
