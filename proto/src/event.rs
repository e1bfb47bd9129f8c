//! Events: the facts the engine records. Folding them in order with
//! [`State::apply`](crate::state::State::apply) rebuilds the auction exactly.

use serde::{Deserialize, Serialize};

use crate::ids::{PlayerId, TeamCode};
use crate::league::Player;
use crate::money::Money;
use crate::state::{Stage, Timer};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[derive(strum::IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
#[derive(strum::EnumDiscriminants)]
#[strum_discriminants(
    name(EventKind),
    derive(strum::IntoStaticStr, strum::VariantArray),
    strum(serialize_all = "snake_case")
)]
pub enum Event {
    /// The auction began; `queue` is the nomination order drawn with `seed`.
    AuctionStarted {
        seed: u64,
        queue: Vec<PlayerId>,
    },
    /// Paused; a running lot clock is frozen with `remaining_ms` left.
    Paused {
        remaining_ms: Option<u64>,
    },
    /// Resumed; a frozen lot clock now runs until `deadline_ms`.
    Resumed {
        deadline_ms: Option<u64>,
    },
    LotOpened {
        player: PlayerId,
        at_ms: u64,
        deadline_ms: Option<u64>,
    },
    BidPlaced {
        team: TeamCode,
        amount: Money,
        at_ms: u64,
        deadline_ms: Option<u64>,
        /// Placed by the engine for the team, within the team's private
        /// ceiling (a proxy bid). The ceiling itself is never recorded here.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        auto: bool,
    },
    /// Going once / going twice (or back to open).
    StageChanged {
        stage: Stage,
        deadline_ms: Option<u64>,
    },
    /// The last bid of the lot was taken back; the stage before it returns.
    BidUndone {
        timer: Option<Timer>,
    },
    PlayerSold {
        player: PlayerId,
        team: TeamCode,
        price: Money,
        /// Bought back with a Right to Match card.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        rtm: bool,
    },
    /// The hammer fell for `winner` at `price`, and `holder` (the player's
    /// previous team) may use a Right to Match card.
    RtmOffered {
        holder: TeamCode,
        winner: TeamCode,
        price: Money,
    },
    /// The holder uses its card: the winner gets one final raise.
    RtmUsed {
        holder: TeamCode,
    },
    /// The winner's final price (the same price: no raise); the holder must
    /// match it to keep the player.
    RtmRaised {
        winner: TeamCode,
        price: Money,
    },
    PlayerUnsold {
        player: PlayerId,
    },
    /// The last closed lot is back on the block (a sale is refunded).
    LotReopened {
        player: PlayerId,
        timer: Option<Timer>,
    },
    PurseAdjusted {
        team: TeamCode,
        delta: i64,
        reason: String,
    },
    PlayerAdded {
        player: Player,
    },
    PlayersImported {
        players: Vec<Player>,
    },
    AcceleratedRequested {
        team: TeamCode,
        players: Vec<PlayerId>,
    },
    PlayerEdited {
        player: Player,
    },
    PlayerWithdrawn {
        player: PlayerId,
    },
    /// A withdrawn player is back in the pool, to come up in his place.
    PlayerRestored {
        player: PlayerId,
    },
    /// The player on the block goes back to the pool, bids discarded.
    LotReset {
        player: PlayerId,
    },
    /// Everything back to before the start; the player pool is kept.
    AuctionReset,
    /// A new round with these (previously unsold) players, in this order.
    AcceleratedRoundOpened {
        round: u32,
        players: Vec<PlayerId>,
    },
}

impl Event {
    /// A short snake_case name, for logs and the event list.
    pub fn kind(&self) -> &'static str {
        self.into()
    }
}
