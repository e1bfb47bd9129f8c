//! One command, whole: the rules' decision, its fold into the state, and the
//! proxy bids it makes due. Pure like [`decide`]: the engine task runs it,
//! and so do the benchmarks, the property tests and the fuzz targets.

use auction_proto::{Actor, Command, Event, Money, PlayerId, Rejection, State, TeamCode};

use super::proxy::{self, Ceilings};
use super::rules::{decide, proxy_bid};

/// What an accepted command did.
#[derive(Debug)]
pub struct Step {
    /// The command's own event (already applied).
    pub event: Event,
    /// The proxy bids it made due, in order (already applied); recorded
    /// as the server's.
    pub auto: Vec<Event>,
}

/// Decides `command`, applies its event and the proxy bids that follow.
/// On a rejection nothing changed.
pub fn step(
    state: &mut State,
    ceilings: &mut Ceilings,
    command: &Command,
    actor: &Actor,
    now_ms: u64,
) -> Result<Step, Rejection> {
    let event = decide(state, command, actor, now_ms)?;
    state.apply(&event);
    if ceilings.is_empty() {
        return Ok(Step {
            event,
            auto: Vec::new(),
        });
    }
    match &event {
        Event::AuctionReset => ceilings.clear(),
        Event::LotReset { player } => ceilings.forget_closed(state, Some(*player)),
        Event::PlayerSold { .. } | Event::PlayerUnsold { .. } | Event::PlayerWithdrawn { .. } => {
            ceilings.forget_closed(state, None)
        }
        _ => {}
    }
    // An undo is the presenter's correction: ceilings do not answer it
    // (they act again at the next bid, ceiling change or resume).
    let auto = match event {
        Event::BidUndone { .. } => Vec::new(),
        _ => place(state, ceilings, now_ms),
    };
    Ok(Step { event, auto })
}

/// Sets (or with `None` cancels) `team`'s ceiling on `player`, and places
/// the proxy bids that makes due (applied, in order).
pub fn set_ceiling(
    state: &mut State,
    ceilings: &mut Ceilings,
    team: &TeamCode,
    player: PlayerId,
    amount: Option<Money>,
    now_ms: u64,
) -> Result<Vec<Event>, Rejection> {
    proxy::check(state, team, player, amount)?;
    ceilings.set(player, team, amount);
    Ok(place(state, ceilings, now_ms))
}

/// Places the bids [`proxy::answer`] says are due, each checked by the same
/// rules as a bid by hand.
fn place(state: &mut State, ceilings: &Ceilings, now_ms: u64) -> Vec<Event> {
    let mut placed = Vec::new();
    for (team, amount) in proxy::answer(state, ceilings, now_ms).into_iter().flatten() {
        let Ok(event) = proxy_bid(state, team, amount, now_ms) else {
            // `answer` uses the same rules, so this does not happen; if it
            // did, no bid is better than a wrong one.
            debug_assert!(false, "a proxy bid the rules refuse");
            break;
        };
        state.apply(&event);
        placed.push(event);
    }
    placed
}
