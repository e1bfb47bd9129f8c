//! Proxy bids: each team's private ceilings, and the pure rule that turns
//! them into bids.
//!
//! A ceiling is the most a team will pay for a player. Whenever the lot on
//! the block moves (it opens, a bid is placed, a ceiling changes, the
//! auction resumes), [`answer`] says which bids the engine places for the
//! teams, at most two, resolving every ceiling at once as a careful
//! auctioneer would: the strongest ceiling wins at the ladder step above
//! the runner-up's reach. The engine records those bids as ordinary
//! `bid_placed` events marked `auto`; the ceilings themselves are kept
//! apart from the public record (see [`crate::engine::actor`]).

use std::collections::BTreeMap;

use auction_proto::{
    Money, Phase, PlayerId, ProxyBids, RejectCode, Rejection, State, TeamCode, Timer,
};
use serde::{Deserialize, Serialize};

use super::rules::{self, no};

/// One team's ceiling on one player.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ceiling {
    pub team: TeamCode,
    pub amount: Money,
    /// When it was set, in the order ceilings were set: the earlier of two
    /// equal ceilings wins.
    pub order: u64,
}

/// Every ceiling held now, by player.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ceilings {
    by_player: BTreeMap<PlayerId, Vec<Ceiling>>,
    next_order: u64,
    /// (player, team) pairs changed since [`Ceilings::take_changes`].
    changed: Vec<(PlayerId, TeamCode)>,
}

impl Ceilings {
    /// Rebuilds the book from stored ceilings.
    pub fn from_stored(stored: impl IntoIterator<Item = (PlayerId, Ceiling)>) -> Ceilings {
        let mut book = Ceilings::default();
        for (player, ceiling) in stored {
            book.next_order = book.next_order.max(ceiling.order + 1);
            book.by_player.entry(player).or_default().push(ceiling);
        }
        for list in book.by_player.values_mut() {
            list.sort_by_key(|c| c.order);
        }
        book
    }

    /// Sets (`Some`) or cancels (`None`) `team`'s ceiling on `player`. A
    /// changed ceiling counts as set now; the same one again (a retry)
    /// changes nothing, its place among equal ceilings included.
    pub fn set(&mut self, player: PlayerId, team: &TeamCode, amount: Option<Money>) {
        if self.get(player, team).map(|c| c.amount) == amount {
            return;
        }
        let list = self.by_player.entry(player).or_default();
        list.retain(|c| &c.team != team);
        if let Some(amount) = amount {
            list.push(Ceiling {
                team: team.clone(),
                amount,
                order: self.next_order,
            });
            self.next_order += 1;
        }
        if list.is_empty() {
            self.by_player.remove(&player);
        }
        self.changed.push((player, team.clone()));
    }

    /// The ceilings on `player`, oldest first.
    pub fn on(&self, player: PlayerId) -> &[Ceiling] {
        self.by_player.get(&player).map_or(&[], Vec::as_slice)
    }

    /// `team`'s ceiling on `player`, if it holds one.
    pub fn get(&self, player: PlayerId, team: &TeamCode) -> Option<&Ceiling> {
        self.on(player).iter().find(|c| &c.team == team)
    }

    /// `team`'s ceilings, by player.
    pub fn of_team(&self, team: &TeamCode) -> Vec<(PlayerId, Money)> {
        self.by_player
            .iter()
            .filter_map(|(p, list)| {
                list.iter()
                    .find(|c| &c.team == team)
                    .map(|c| (*p, c.amount))
            })
            .collect()
    }

    /// Every ceiling, by player, oldest first.
    pub fn all(&self) -> Vec<(PlayerId, Ceiling)> {
        self.by_player
            .iter()
            .flat_map(|(p, list)| list.iter().map(|c| (*p, c.clone())))
            .collect()
    }

    pub fn is_empty(&self) -> bool {
        self.by_player.is_empty()
    }

    /// Drops every ceiling on a player that can no longer be bid for (sold,
    /// unsold, withdrawn, back in the pool after a reset lot) or that the
    /// state no longer has. A ceiling ends with its lot.
    pub fn forget_closed(&mut self, state: &State, lot_reset: Option<PlayerId>) {
        let gone: Vec<PlayerId> = self
            .by_player
            .keys()
            .copied()
            .filter(|p| {
                Some(*p) == lot_reset || !state.player(*p).is_some_and(|e| e.status.is_open())
            })
            .collect();
        for player in gone {
            for c in self.by_player.remove(&player).unwrap_or_default() {
                self.changed.push((player, c.team));
            }
        }
    }

    /// Every ceiling goes (the auction was reset).
    pub fn clear(&mut self) {
        for (player, list) in std::mem::take(&mut self.by_player) {
            self.changed
                .extend(list.into_iter().map(|c| (player, c.team)));
        }
    }

    /// The (player, team) pairs changed since the last call, for storing.
    pub fn take_changes(&mut self) -> Vec<(PlayerId, TeamCode)> {
        std::mem::take(&mut self.changed)
    }
}

/// Whether `team` may set (or, with `None`, cancel) a ceiling on `player`.
pub fn check(
    state: &State,
    team: &TeamCode,
    player: PlayerId,
    amount: Option<Money>,
) -> Result<(), Rejection> {
    if state.rules.proxy_bids == ProxyBids::Off {
        return Err(no(
            RejectCode::Forbidden,
            "proxy bids are off in this league",
        ));
    }
    rules::team(state, team)?;
    let entry = rules::player(state, player)?;
    if !entry.status.is_open() {
        return Err(no(
            RejectCode::PlayerUnavailable,
            format!("{} is no longer in the pool", entry.player.name),
        ));
    }
    let lot = state.lot.as_ref().filter(|l| l.player == player);
    if lot.is_some_and(|l| l.rtm.is_some()) {
        return Err(no(
            RejectCode::WrongStage,
            "the hammer has fallen on this lot",
        ));
    }
    let Some(amount) = amount else {
        return Ok(());
    };
    if amount < entry.player.base {
        return Err(no(
            RejectCode::BelowBase,
            format!(
                "a ceiling must be at least the base price, {}",
                entry.player.base
            ),
        ));
    }
    // Below the bid on the block a ceiling could never act: say so.
    if let Some(leader) = lot.and_then(|l| l.bids.last()) {
        let own = &leader.team == team;
        if amount < leader.amount || (!own && amount == leader.amount) {
            let must = if own { "at least that" } else { "above it" };
            return Err(no(
                RejectCode::BelowMinimum,
                format!(
                    "{} leads with {}: a ceiling must be {must}",
                    leader.team, leader.amount
                ),
            ));
        }
    }
    if amount > Money::MAX {
        return Err(no(RejectCode::OverMaxBid, "that amount is too large"));
    }
    Ok(())
}

/// One side of the resolution: a team and the most it may reach.
struct Side<'c> {
    /// The team, when it holds a ceiling (a leader without one never bids).
    team: Option<&'c TeamCode>,
    /// The ceiling, capped by the team's maximum bid; for a leader without
    /// a ceiling, its bid.
    cap: Money,
    /// Earlier wins a tie; a leader without a ceiling holds its bid first.
    order: Option<u64>,
    leads: bool,
}

/// Proxy bids due: at most two, in order (the runner-up's last bid, then
/// the winner's).
pub type Due<'c> = [Option<(&'c TeamCode, Money)>; 2];

/// The bids the engine places now for teams holding ceilings on the lot on
/// the block. None when nothing is due: no lot, paused, past the hammer or
/// the clock, proxy bids off, or no ceiling that could top the lot. Runs
/// after every command on a lot, so it allocates nothing.
pub fn answer<'c>(state: &State, ceilings: &'c Ceilings, now_ms: u64) -> Due<'c> {
    const NONE: Due<'static> = [None, None];
    let Some(lot) = state.lot.as_ref() else {
        return NONE;
    };
    let list = ceilings.on(lot.player);
    let due = !list.is_empty()
        && state.phase == Phase::Running
        && state.rules.proxy_bids != ProxyBids::Off
        && lot.rtm.is_none()
        && !matches!(lot.timer, Some(Timer::Running { deadline_ms }) if deadline_ms <= now_ms);
    let Some(first) = state.next_bid().filter(|_| due) else {
        return NONE;
    };
    // Cheap first: does any other team's ceiling reach the next bid at all?
    let lead = state.leader();
    if !list
        .iter()
        .any(|c| c.amount >= first && Some(&c.team) != lead.map(|b| &b.team))
    {
        return NONE;
    }
    let Top { winner, runner_up } = top_two(state, list, first);
    let Some(winner) = winner.filter(|w| !w.leads || runner_up.is_some()) else {
        return NONE;
    };
    let Some(runner_up) = runner_up else {
        return [winner.team.map(|t| (t, first)), None];
    };
    let reach = reach(state, first, lead.map(|b| b.amount), runner_up.cap);
    let price = match next(state, reach) {
        Some(above) if above <= winner.cap => above,
        _ => reach,
    };
    let before = runner_up
        .team
        .filter(|_| !runner_up.leads && reach < price)
        .map(|t| (t, reach));
    let last = winner
        .team
        .filter(|_| !(winner.leads && before.is_none()))
        .map(|t| (t, price));
    [before, last]
}

/// The two strongest sides.
struct Top<'c> {
    winner: Option<Side<'c>>,
    runner_up: Option<Side<'c>>,
}

impl<'c> Top<'c> {
    /// Ranks `side` in: the higher cap first, then the earlier ceiling (a
    /// leader without one, holding its bid, first of all).
    fn offer(&mut self, side: Side<'c>) {
        let beats = |a: &Side, b: &Side| (b.cap, a.order) < (a.cap, b.order);
        match &self.winner {
            Some(w) if !beats(&side, w) => {
                if self.runner_up.as_ref().is_none_or(|r| beats(&side, r)) {
                    self.runner_up = Some(side);
                }
            }
            _ => self.runner_up = self.winner.replace(side),
        }
    }
}

/// The two strongest of the teams in the running: the leader, and every
/// other holder of a ceiling that could still place the next valid bid
/// `first`. One pass, nothing allocated (but the refusal of a full squad,
/// rare): this runs after every bid.
fn top_two<'c>(state: &State, list: &'c [Ceiling], first: Money) -> Top<'c> {
    let leader = state.leader();
    let overseas = state
        .lot
        .as_ref()
        .and_then(|l| state.player(l.player))
        .is_some_and(|p| p.player.overseas);
    let mut top = Top {
        winner: None,
        runner_up: None,
    };
    let mut leader_side = leader.map(|b| Side {
        team: None,
        cap: b.amount,
        order: None,
        leads: true,
    });
    for c in list {
        let leads = leader.is_some_and(|b| b.team == c.team);
        if !leads && c.amount < first {
            continue;
        }
        let Some(team) = state.team(&c.team) else {
            continue;
        };
        let cap = c.amount.min(state.max_bid(team));
        if leads {
            // The leader's own ceiling, when above its bid, is its side.
            if let Some(side) = leader_side.as_mut().filter(|s| cap > s.cap) {
                side.cap = cap;
                side.order = Some(c.order);
                side.team = Some(&c.team);
            }
            continue;
        }
        if cap >= first && rules::squad_room(state, team, overseas).is_ok() {
            top.offer(Side {
                team: Some(&c.team),
                cap,
                order: Some(c.order),
                leads: false,
            });
        }
    }
    if let Some(side) = leader_side {
        top.offer(side);
    }
    top
}

/// The ladder step above `amount`, if there is one.
fn next(state: &State, amount: Money) -> Option<Money> {
    amount.checked_add(state.rules.step_at(amount))
}

/// The highest amount on the ladder from `first` up that is within `cap`;
/// the leading bid itself when `cap` is below `first` (only the leader's
/// side can be). Jumps a whole rung of the ladder at a time, so the cost is
/// the number of rungs, whatever the amounts.
fn reach(state: &State, first: Money, leading: Option<Money>, cap: Money) -> Money {
    if cap < first {
        return leading.unwrap_or(cap);
    }
    let mut at = first.as_lakh();
    let cap = cap.as_lakh();
    loop {
        let step = state.rules.step_at(Money(at)).as_lakh().max(1);
        let rung_end = state
            .rules
            .ladder
            .iter()
            .map(|r| r.from.as_lakh())
            .find(|from| *from > at);
        // Steps that stay within the cap, and that start inside this rung.
        let by_cap = (cap - at) / step;
        let by_rung = rung_end.map_or(u64::MAX, |end| (end - at).div_ceil(step));
        let steps = by_cap.min(by_rung);
        if steps == 0 {
            return Money(at);
        }
        at += steps * step;
    }
}
