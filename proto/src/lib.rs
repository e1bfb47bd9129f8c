//! The auction's shared language: money, league data, commands, events, the
//! pure state fold and the wire messages. No I/O, no async runtime.

pub mod colour;
pub mod command;
pub mod event;
pub mod hash;
pub mod ids;
pub mod league;
pub mod money;
pub mod msg;
pub mod state;

pub use colour::Colour;
pub use command::{Command, RejectCode, Rejection, RtmAction};
pub use event::Event;
pub use hash::LogHash;
pub use ids::{PlayerId, TeamCode};
pub use league::{ClockRules, LadderStep, League, Player, Role, Rules, Stats, Team};
pub use money::Money;
pub use msg::{Access, Actor, ClientMsg, Entry, ErrorCode, ServerMsg, Snapshot};
pub use state::{Phase, PlayerStatus, Rtm, RtmStep, Stage, State, Timer};
