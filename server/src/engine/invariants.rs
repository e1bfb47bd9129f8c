//! What must hold after every event, whatever was asked: the property tests,
//! the fuzz targets and `replay` checks share this one list.

use auction_proto::{PlayerStatus, State};

/// Checks the state; `start_total` is the sum of the purses at the start.
pub fn check(state: &State, start_total: u64) -> Result<(), String> {
    let rules = &state.rules;
    // Money is conserved: purses + what was paid = start ± adjustments.
    let purses: u64 = state.teams.iter().map(|t| t.purse.0).sum();
    let adjusted: i64 = state.teams.iter().map(|t| t.adjusted).sum();
    if (purses + state.total_spent().0) as i64 != start_total as i64 + adjusted {
        return Err("money not conserved".into());
    }
    let mut seen = std::collections::HashSet::new();
    for t in &state.teams {
        if t.squad.len() > rules.squad_max as usize {
            return Err(format!("{} squad too big", t.team.code));
        }
        if t.rtm_left > rules.rtm_cards {
            return Err(format!(
                "{} has more Right to Match cards than the league gives",
                t.team.code
            ));
        }
        if state.overseas_count(t) > rules.overseas_max {
            return Err(format!("{} has too many overseas players", t.team.code));
        }
        for id in &t.squad {
            if !seen.insert(*id) {
                return Err(format!("{id} is in two squads or twice in one"));
            }
            match state.player(*id).map(|p| &p.status) {
                Some(PlayerStatus::Sold { team, .. }) if team == &t.team.code => {}
                other => return Err(format!("{id} in {}'s squad but {other:?}", t.team.code)),
            }
        }
    }
    // A player sold is in exactly one squad.
    for p in &state.players {
        if let PlayerStatus::Sold { .. } = p.status
            && !seen.contains(&p.player.id)
        {
            return Err(format!("{} sold but in no squad", p.player.id));
        }
    }
    if let Some(lot) = &state.lot {
        if state.player(lot.player).map(|p| &p.status) != Some(&PlayerStatus::OnBlock) {
            return Err(format!("{} is on the block but not marked so", lot.player));
        }
        for pair in lot.bids.windows(2) {
            if pair[1].amount <= pair[0].amount {
                return Err("the leading bid must strictly rise".into());
            }
            if pair[1].team == pair[0].team {
                return Err("a team outbid itself".into());
            }
        }
    }
    let on_block = state
        .players
        .iter()
        .filter(|p| p.status == PlayerStatus::OnBlock)
        .count();
    if on_block != usize::from(state.lot.is_some()) {
        return Err(format!("{on_block} players on the block"));
    }
    Ok(())
}
