//! The auction's state and the pure fold of events into it.
//!
//! `State::apply` never fails and never looks at a clock: it is run by the
//! engine after every accepted command, on replay at start-up, and by every
//! client on the events it receives, and all of them end up equal.

use serde::{Deserialize, Serialize};

use crate::event::Event;
use crate::ids::{PlayerId, TeamCode};
use crate::league::{League, Player, Rules, Team};
use crate::money::Money;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct State {
    pub league_name: String,
    pub rules: Rules,
    /// Set names in nomination order.
    pub sets: Vec<String>,
    pub teams: Vec<TeamState>,
    /// The pool, sorted by id. Changed only through [`State::apply`] (the
    /// cheapest base price is remembered from it).
    pub players: Vec<PlayerEntry>,
    pub phase: Phase,
    pub seed: Option<u64>,
    /// 0 for the sets, then 1, 2 ... for accelerated rounds.
    pub round: u32,
    /// Nomination order of the current round.
    pub queue: Vec<PlayerId>,
    pub lot: Option<Lot>,
    /// Every lot closed so far, oldest first.
    pub closed: Vec<ClosedLot>,
    /// The teams' lists for the next accelerated round.
    #[serde(default)]
    pub accelerated_requests: std::collections::BTreeMap<TeamCode, Vec<PlayerId>>,
    /// The pool's cheapest base price, remembered (every bid near a team's
    /// limit needs it); not part of the state's value.
    #[serde(skip)]
    cheapest: Memo,
}

/// A value derived from the state and remembered: equal whatever it holds,
/// forgotten when what it derives from changes.
#[derive(Debug, Clone, Default)]
struct Memo(std::sync::OnceLock<Money>);

impl PartialEq for Memo {
    fn eq(&self, _: &Memo) -> bool {
        true
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    NotStarted,
    Running,
    Paused,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamState {
    #[serde(flatten)]
    pub team: Team,
    pub purse: Money,
    /// Players bought, in order of purchase.
    pub squad: Vec<PlayerId>,
    /// The sum of admin purse adjustments (lakh, signed).
    pub adjusted: i64,
    /// Right to Match cards left.
    #[serde(default)]
    pub rtm_left: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlayerEntry {
    #[serde(flatten)]
    pub player: Player,
    pub status: PlayerStatus,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PlayerStatus {
    Available,
    OnBlock,
    Sold { team: TeamCode, price: Money },
    Unsold,
    Withdrawn,
}

impl PlayerStatus {
    /// Still to be bid for: in the pool or on the block.
    pub fn is_open(&self) -> bool {
        matches!(self, PlayerStatus::Available | PlayerStatus::OnBlock)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Open,
    GoingOnce,
    GoingTwice,
}

impl Stage {
    pub fn label(self) -> &'static str {
        match self {
            Stage::Open => "open",
            Stage::GoingOnce => "going once",
            Stage::GoingTwice => "going twice",
        }
    }
}

/// The lot clock: running towards a deadline, or frozen while paused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "timer", rename_all = "snake_case")]
pub enum Timer {
    Running { deadline_ms: u64 },
    Frozen { remaining_ms: u64 },
}

impl Timer {
    /// Milliseconds left at `now_ms`.
    pub fn remaining_ms(self, now_ms: u64) -> u64 {
        match self {
            Timer::Running { deadline_ms } => deadline_ms.saturating_sub(now_ms),
            Timer::Frozen { remaining_ms } => remaining_ms,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lot {
    pub player: PlayerId,
    pub opened_at_ms: u64,
    pub stage: Stage,
    pub bids: Vec<Bid>,
    pub timer: Option<Timer>,
    /// Right to Match under way (the hammer has fallen).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rtm: Option<Rtm>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rtm {
    /// The player's previous team, holding the card.
    pub holder: TeamCode,
    /// The team the hammer fell for.
    pub winner: TeamCode,
    pub price: Money,
    pub step: RtmStep,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RtmStep {
    /// The holder decides whether to use its card.
    Offered,
    /// The holder used it: the winner's final raise.
    Raising,
    /// The holder matches the final price, or the winner keeps the player.
    Matching,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bid {
    pub team: TeamCode,
    pub amount: Money,
    pub at_ms: u64,
    /// The stage the lot was in before this bid (restored by an undo).
    pub prev_stage: Stage,
    /// Placed by the engine within the team's ceiling (a proxy bid).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub auto: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClosedLot {
    pub lot: Lot,
    pub outcome: Outcome,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    Sold {
        team: TeamCode,
        price: Money,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        rtm: bool,
    },
    Unsold,
}

fn running(deadline_ms: Option<u64>) -> Option<Timer> {
    deadline_ms.map(|deadline_ms| Timer::Running { deadline_ms })
}

impl State {
    /// The state before the start: every team with a full purse, every
    /// player available, sorted by id.
    pub fn new(league: &League) -> State {
        let mut players: Vec<PlayerEntry> = league
            .players
            .iter()
            .map(|p| PlayerEntry {
                player: p.clone(),
                status: PlayerStatus::Available,
            })
            .collect();
        players.sort_by_key(|p| p.player.id);
        State {
            league_name: league.name.clone(),
            rules: league.rules.clone(),
            sets: league.sets.clone(),
            teams: league
                .teams
                .iter()
                .map(|t| TeamState {
                    team: t.clone(),
                    purse: league.rules.purse,
                    squad: Vec::new(),
                    adjusted: 0,
                    rtm_left: league.rules.rtm_cards,
                })
                .collect(),
            players,
            phase: Phase::NotStarted,
            seed: None,
            round: 0,
            queue: Vec::new(),
            lot: None,
            closed: Vec::new(),
            accelerated_requests: Default::default(),
            cheapest: Memo::default(),
        }
    }

    pub fn team(&self, code: &TeamCode) -> Option<&TeamState> {
        self.teams.iter().find(|t| &t.team.code == code)
    }

    fn team_mut(&mut self, code: &TeamCode) -> Option<&mut TeamState> {
        self.teams.iter_mut().find(|t| &t.team.code == code)
    }

    pub fn player(&self, id: PlayerId) -> Option<&PlayerEntry> {
        self.players
            .binary_search_by_key(&id, |p| p.player.id)
            .ok()
            .map(|i| &self.players[i])
    }

    fn player_mut(&mut self, id: PlayerId) -> Option<&mut PlayerEntry> {
        self.players
            .binary_search_by_key(&id, |p| p.player.id)
            .ok()
            .map(|i| &mut self.players[i])
    }

    fn set_status(&mut self, id: PlayerId, status: PlayerStatus) {
        if let Some(p) = self.player_mut(id) {
            p.status = status;
        }
    }

    /// A new player joins the pool (and this round's queue, once started).
    fn add_player(&mut self, player: &Player) {
        let entry = PlayerEntry {
            player: player.clone(),
            status: PlayerStatus::Available,
        };
        let at = self.players.partition_point(|p| p.player.id < player.id);
        self.players.insert(at, entry);
        if self.phase != Phase::NotStarted {
            self.queue.push(player.id);
        }
    }

    /// The id the next added player gets.
    pub fn next_player_id(&self) -> PlayerId {
        PlayerId(self.players.last().map_or(1, |p| p.player.id.0 + 1))
    }

    /// The leading bid of the lot on the block.
    pub fn leader(&self) -> Option<&Bid> {
        self.lot.as_ref().and_then(|l| l.bids.last())
    }

    /// The smallest valid bid on the lot now: the base price first, then the
    /// current bid plus the ladder step.
    pub fn next_bid(&self) -> Option<Money> {
        let lot = self.lot.as_ref()?;
        Some(match lot.bids.last() {
            None => self.player(lot.player)?.player.base,
            Some(b) => b.amount.checked_add(self.rules.step_at(b.amount))?,
        })
    }

    /// The cheapest base price in the pool: what each empty squad slot must keep.
    pub fn cheapest_base(&self) -> Money {
        *self.cheapest.0.get_or_init(|| {
            self.players
                .iter()
                .filter(|p| p.status != PlayerStatus::Withdrawn)
                .map(|p| p.player.base)
                .min()
                .unwrap_or(Money::ZERO)
        })
    }

    /// The most `team` may bid: its purse less what it must keep to reach
    /// the minimum squad after this buy.
    pub fn max_bid(&self, team: &TeamState) -> Money {
        let still_needed = (self.rules.squad_min as usize)
            .saturating_sub(team.squad.len())
            .saturating_sub(1) as u64;
        team.purse
            .saturating_sub(Money(still_needed * self.cheapest_base().0))
    }

    /// Overseas players in `team`'s squad.
    pub fn overseas_count(&self, team: &TeamState) -> u32 {
        team.squad
            .iter()
            .filter(|id| self.player(**id).is_some_and(|p| p.player.overseas))
            .count() as u32
    }

    /// Who `Next` would put on the block.
    pub fn next_in_queue(&self) -> Option<PlayerId> {
        self.queue.iter().copied().find(|id| {
            self.player(*id)
                .is_some_and(|p| p.status == PlayerStatus::Available)
        })
    }

    /// The players still to come in this round, in order.
    pub fn upcoming(&self) -> impl Iterator<Item = &PlayerEntry> {
        self.queue
            .iter()
            .filter_map(|id| self.player(*id))
            .filter(|p| p.status == PlayerStatus::Available)
    }

    pub fn unsold(&self) -> impl Iterator<Item = &PlayerEntry> {
        self.players
            .iter()
            .filter(|p| p.status == PlayerStatus::Unsold)
    }

    /// Money spent on players across all teams.
    pub fn total_spent(&self) -> Money {
        self.players
            .iter()
            .filter_map(|p| match &p.status {
                PlayerStatus::Sold { price, .. } => Some(*price),
                _ => None,
            })
            .sum()
    }

    /// Folds one event into the state. Events come from the engine, which
    /// has validated them; an event that does not fit is ignored rather than
    /// corrupting the state.
    pub fn apply(&mut self, event: &Event) {
        // The pool's prices and who is in it change only with these.
        if matches!(
            event,
            Event::PlayerAdded { .. }
                | Event::PlayersImported { .. }
                | Event::PlayerEdited { .. }
                | Event::PlayerWithdrawn { .. }
                | Event::PlayerRestored { .. }
                | Event::AuctionReset
        ) {
            self.cheapest = Memo::default();
        }
        match event {
            Event::AuctionStarted { seed, queue } => {
                self.phase = Phase::Running;
                self.seed = Some(*seed);
                self.round = 0;
                self.queue = queue.clone();
            }
            Event::Paused { remaining_ms } => {
                self.phase = Phase::Paused;
                if let Some(lot) = &mut self.lot {
                    lot.timer = remaining_ms.map(|remaining_ms| Timer::Frozen { remaining_ms });
                }
            }
            Event::Resumed { deadline_ms } => {
                self.phase = Phase::Running;
                if let Some(lot) = &mut self.lot {
                    lot.timer = running(*deadline_ms);
                }
            }
            Event::LotOpened {
                player,
                at_ms,
                deadline_ms,
            } => {
                self.set_status(*player, PlayerStatus::OnBlock);
                self.lot = Some(Lot {
                    player: *player,
                    opened_at_ms: *at_ms,
                    stage: Stage::Open,
                    bids: Vec::new(),
                    timer: running(*deadline_ms),
                    rtm: None,
                });
            }
            Event::RtmOffered {
                holder,
                winner,
                price,
            } => {
                if let Some(lot) = &mut self.lot {
                    lot.timer = None;
                    lot.rtm = Some(Rtm {
                        holder: holder.clone(),
                        winner: winner.clone(),
                        price: *price,
                        step: RtmStep::Offered,
                    });
                }
            }
            Event::RtmUsed { .. } => {
                if let Some(rtm) = self.lot.as_mut().and_then(|l| l.rtm.as_mut()) {
                    rtm.step = RtmStep::Raising;
                }
            }
            Event::RtmRaised { price, .. } => {
                if let Some(rtm) = self.lot.as_mut().and_then(|l| l.rtm.as_mut()) {
                    rtm.step = RtmStep::Matching;
                    rtm.price = *price;
                }
            }
            Event::BidPlaced {
                team,
                amount,
                at_ms,
                deadline_ms,
                auto,
            } => {
                if let Some(lot) = &mut self.lot {
                    lot.bids.push(Bid {
                        team: team.clone(),
                        amount: *amount,
                        at_ms: *at_ms,
                        prev_stage: lot.stage,
                        auto: *auto,
                    });
                    lot.stage = Stage::Open;
                    lot.timer = running(*deadline_ms);
                }
            }
            Event::StageChanged { stage, deadline_ms } => {
                if let Some(lot) = &mut self.lot {
                    lot.stage = *stage;
                    lot.timer = running(*deadline_ms);
                }
            }
            Event::BidUndone { timer } => {
                if let Some(lot) = &mut self.lot
                    && let Some(bid) = lot.bids.pop()
                {
                    lot.stage = bid.prev_stage;
                    lot.timer = *timer;
                }
            }
            Event::PlayerSold {
                player,
                team,
                price,
                rtm,
            } => {
                if let Some(mut lot) = self.lot.take() {
                    lot.rtm = None;
                    self.closed.push(ClosedLot {
                        lot,
                        outcome: Outcome::Sold {
                            team: team.clone(),
                            price: *price,
                            rtm: *rtm,
                        },
                    });
                }
                if *rtm && let Some(t) = self.team_mut(team) {
                    t.rtm_left = t.rtm_left.saturating_sub(1);
                }
                self.set_status(
                    *player,
                    PlayerStatus::Sold {
                        team: team.clone(),
                        price: *price,
                    },
                );
                if let Some(t) = self.team_mut(team) {
                    t.purse = t.purse.saturating_sub(*price);
                    t.squad.push(*player);
                }
            }
            Event::PlayerUnsold { player } => {
                if let Some(lot) = self.lot.take() {
                    self.closed.push(ClosedLot {
                        lot,
                        outcome: Outcome::Unsold,
                    });
                }
                self.set_status(*player, PlayerStatus::Unsold);
            }
            Event::LotReopened { player, timer } => {
                let Some(mut closed) = self.closed.pop() else {
                    return;
                };
                if let Outcome::Sold { team, price, rtm } = &closed.outcome
                    && let Some(t) = self.team_mut(team)
                {
                    t.purse = t.purse.saturating_add(*price);
                    if *rtm {
                        t.rtm_left += 1;
                    }
                    if let Some(pos) = t.squad.iter().rposition(|id| id == player) {
                        t.squad.remove(pos);
                    }
                }
                closed.lot.timer = *timer;
                closed.lot.rtm = None;
                self.set_status(*player, PlayerStatus::OnBlock);
                self.lot = Some(closed.lot);
            }
            Event::PurseAdjusted { team, delta, .. } => {
                if let Some(t) = self.team_mut(team)
                    && let Some(purse) = t.purse.checked_add_signed(*delta)
                {
                    t.purse = purse;
                    t.adjusted += delta;
                }
            }
            Event::PlayerAdded { player } => self.add_player(player),
            Event::PlayersImported { players } => {
                for player in players {
                    self.add_player(player);
                }
            }
            Event::PlayerEdited { player } => {
                if let Some(p) = self.player_mut(player.id) {
                    p.player = player.clone();
                }
            }
            Event::PlayerWithdrawn { player } => {
                self.set_status(*player, PlayerStatus::Withdrawn);
            }
            Event::PlayerRestored { player } => {
                if self.player(*player).map(|p| &p.status) == Some(&PlayerStatus::Withdrawn) {
                    self.set_status(*player, PlayerStatus::Available);
                }
            }
            Event::LotReset { player } => {
                self.lot = None;
                self.set_status(*player, PlayerStatus::Available);
            }
            Event::AuctionReset => {
                for t in &mut self.teams {
                    t.purse = self.rules.purse;
                    t.squad.clear();
                    t.adjusted = 0;
                    t.rtm_left = self.rules.rtm_cards;
                }
                for p in &mut self.players {
                    if p.status != PlayerStatus::Withdrawn {
                        p.status = PlayerStatus::Available;
                    }
                }
                self.phase = Phase::NotStarted;
                self.seed = None;
                self.accelerated_requests.clear();
                self.round = 0;
                self.queue.clear();
                self.lot = None;
                self.closed.clear();
            }
            Event::AcceleratedRequested { team, players } => {
                if players.is_empty() {
                    self.accelerated_requests.remove(team);
                } else {
                    self.accelerated_requests
                        .insert(team.clone(), players.clone());
                }
            }
            Event::AcceleratedRoundOpened { round, players } => {
                self.round = *round;
                self.queue = players.clone();
                self.accelerated_requests.clear();
                for id in players {
                    if let Some(p) = self.player_mut(*id)
                        && p.status == PlayerStatus::Unsold
                    {
                        p.status = PlayerStatus::Available;
                    }
                }
            }
        }
    }
}
