//! A team's budget as its owner plans the night: what it can still bid,
//! the places it must and may fill, and where the money went. Pure.

use auction_proto::state::TeamState;
use auction_proto::{Money, PlayerStatus, Role, State};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Budget {
    pub purse: Money,
    /// The most it may bid now (keeping enough to reach the minimum squad).
    pub max_bid: Money,
    pub squad: usize,
    /// Players still needed to reach the minimum squad.
    pub to_minimum: usize,
    /// Places left before the squad is full.
    pub to_maximum: usize,
    pub overseas: u32,
    pub overseas_left: u32,
    /// The purse shared over the players still needed (the whole purse
    /// when the minimum is reached).
    pub per_needed_slot: Money,
    /// Spent on each role, with how many players, in [`Role::ALL`] order.
    pub by_role: Vec<(Role, usize, Money)>,
}

/// `team`'s budget in `state`.
pub fn budget(state: &State, team: &TeamState) -> Budget {
    let rules = &state.rules;
    let squad = team.squad.len();
    let to_minimum = (rules.squad_min as usize).saturating_sub(squad);
    let overseas = state.overseas_count(team);
    let by_role = Role::ALL
        .iter()
        .map(|role| {
            let bought: Vec<Money> = team
                .squad
                .iter()
                .filter_map(|id| state.player(*id))
                .filter(|p| p.player.role == *role)
                .filter_map(|p| match &p.status {
                    PlayerStatus::Sold { price, .. } => Some(*price),
                    _ => None,
                })
                .collect();
            (*role, bought.len(), bought.into_iter().sum())
        })
        .collect();
    Budget {
        purse: team.purse,
        max_bid: state.max_bid(team),
        squad,
        to_minimum,
        to_maximum: (rules.squad_max as usize).saturating_sub(squad),
        overseas,
        overseas_left: rules.overseas_max.saturating_sub(overseas),
        per_needed_slot: Money(team.purse.0 / to_minimum.max(1) as u64),
        by_role,
    }
}
