//! Commands: what an actor asks the engine to do, and why it may say no.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::ids::{PlayerId, TeamCode};
use crate::league::Player;
use crate::money::Money;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "cmd", rename_all = "snake_case")]
#[derive(strum::IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
#[derive(strum::EnumDiscriminants)]
#[strum_discriminants(
    name(CommandKind),
    derive(strum::IntoStaticStr, strum::VariantArray),
    strum(serialize_all = "snake_case")
)]
pub enum Command {
    /// Start the auction. The nomination order inside each set is shuffled
    /// with `seed`; the server draws one when it is absent.
    Start {
        #[serde(default)]
        seed: Option<u64>,
    },
    Pause,
    Resume,
    /// Put the next player of the nomination order on the block.
    Next,
    /// Put this player on the block, out of order.
    Nominate {
        player: PlayerId,
    },
    /// Bid exactly `amount` for `team`.
    Bid {
        team: TeamCode,
        amount: Money,
    },
    /// Bid the next valid amount for `team`.
    Raise {
        team: TeamCode,
    },
    GoingOnce,
    GoingTwice,
    /// The hammer: sold to the leading team.
    Sold,
    /// Close a lot without bids.
    Unsold,
    /// Take back the last bid of the lot on the block.
    UndoBid,
    /// Reopen the last closed lot (a sale is refunded).
    UndoSale,
    AdjustPurse {
        team: TeamCode,
        delta: i64,
        reason: String,
    },
    /// Add a player to the pool; the `id` sent is ignored, the server assigns one.
    AddPlayer {
        player: Player,
    },
    /// Add every player of a CSV file (the columns of config/players.csv),
    /// all or none. `file` names it in error messages.
    ImportPlayers {
        csv: String,
        #[serde(default)]
        file: String,
    },
    /// Replace a player's details (same `id`).
    EditPlayer {
        player: Player,
    },
    WithdrawPlayer {
        player: PlayerId,
    },
    /// Bring a withdrawn player back to the pool (admin).
    RestorePlayer {
        player: PlayerId,
    },
    /// Take the player on the block back to the pool, discarding the bids.
    ResetLot,
    /// Back to before the start; the player pool is kept.
    ResetAuction,
    /// Once the sets are done: a new round of the unsold players the teams
    /// asked for (all of them when none asked).
    OpenAccelerated,
    /// Right to Match: the holder uses its card (`use_card`) or lets the
    /// player go to the winner (`decline`) when offered; after the winner's
    /// final raise it matches (`match_price`) or declines.
    Rtm {
        team: TeamCode,
        action: RtmAction,
    },
    /// Right to Match: the winner's one final raise (`amount` equal to the
    /// hammer price: no raise).
    RtmRaise {
        team: TeamCode,
        amount: Money,
    },
    /// A team's list of unsold players it wants back in the accelerated
    /// round (replaces its earlier list; empty withdraws it).
    RequestAccelerated {
        team: TeamCode,
        players: Vec<PlayerId>,
    },
    /// The bid clock ran out (sent by the server itself).
    Tick,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RtmAction {
    UseCard,
    Decline,
    MatchPrice,
}

impl Command {
    pub fn name(&self) -> &'static str {
        self.into()
    }
}

/// Why the engine refused a command. Each has a stable snake_case code on the wire.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum RejectCode {
    /// The actor's role may not issue this command.
    Forbidden,
    /// A team tried to bid for another team.
    WrongTeam,
    NotStarted,
    AlreadyStarted,
    Paused,
    NotPaused,
    NoLot,
    LotInProgress,
    UnknownTeam,
    UnknownPlayer,
    PlayerUnavailable,
    NoPlayersLeft,
    BelowBase,
    BelowMinimum,
    AlreadyLeading,
    OverMaxBid,
    SquadFull,
    OverseasFull,
    NoLeader,
    HasBids,
    WrongStage,
    NothingToUndo,
    InvalidPlayer,
    InvalidAdjustment,
    SetsNotDone,
    NoUnsoldPlayers,
    /// More accelerated-round picks than the league allows.
    TooManyPicks,
    ClockNotDue,
    /// The server could not make the command durable; nothing was applied.
    Unavailable,
}

impl RejectCode {
    /// Every code, for documentation and tests.
    pub const ALL: &[RejectCode] = <RejectCode as strum::VariantArray>::VARIANTS;

    /// The wire spelling (the same as serde's).
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

impl fmt::Display for RejectCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A refused command: a stable code and a sentence for people.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{code}: {message}")]
pub struct Rejection {
    pub code: RejectCode,
    pub message: String,
}

impl Rejection {
    pub fn new(code: RejectCode, message: impl Into<String>) -> Rejection {
        Rejection {
            code,
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_names_match_serde() {
        for &code in RejectCode::ALL {
            assert_eq!(serde_json::to_value(code).unwrap(), code.as_str());
        }
    }
}
