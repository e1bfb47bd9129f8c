//! Events and states in words, for the event log, `ctl watch` and `ctl state`.
//! Every line is printable: a control character in a name or reason (from a
//! log written before they were refused) is shown, never acted on.

use std::fmt::Write;

use auction_proto::state::Outcome;
use auction_proto::{Entry, Event, Phase, PlayerId, State};

fn name(state: &State, id: PlayerId) -> String {
    state
        .player(id)
        .map_or_else(|| id.to_string(), |p| p.player.name.clone())
}

/// One line for an event. `state` is only used to name players, so any
/// state of the same auction will do (history is described with today's).
pub fn event(state: &State, event: &Event) -> String {
    auction_proto::printable(&event_words(state, event)).into_owned()
}

fn event_words(state: &State, event: &Event) -> String {
    match event {
        Event::AuctionStarted { seed, queue } => {
            format!("auction started ({} players, seed {seed})", queue.len())
        }
        Event::Paused { .. } => "paused".into(),
        Event::Resumed { .. } => "resumed".into(),
        Event::LotOpened { player, .. } => {
            let base = state
                .player(*player)
                .map(|p| p.player.base.to_string())
                .unwrap_or_default();
            format!("on the block: {} (base {base})", name(state, *player))
        }
        Event::BidPlaced {
            team, amount, auto, ..
        } => match auto {
            true => format!("{team} bids {amount} (proxy)"),
            false => format!("{team} bids {amount}"),
        },
        Event::StageChanged { stage, .. } => stage.label().to_string(),
        Event::BidUndone { .. } => "last bid undone".into(),
        Event::PlayerSold {
            player,
            team,
            price,
            rtm: false,
        } => format!("SOLD: {} to {team} for {price}", name(state, *player)),
        Event::PlayerSold {
            player,
            team,
            price,
            rtm: true,
        } => format!(
            "SOLD: {} to {team} for {price} (Right to Match)",
            name(state, *player)
        ),
        Event::RtmOffered {
            holder,
            winner,
            price,
        } => format!("RIGHT TO MATCH: {holder} may match {winner}'s {price}"),
        Event::RtmUsed { holder } => format!("{holder} uses a Right to Match card: final raise"),
        Event::RtmRaised { winner, price } => format!("{winner}'s final price {price}: match it?"),
        Event::PlayerUnsold { player } => format!("UNSOLD: {}", name(state, *player)),
        Event::LotReopened { player, .. } => format!("lot reopened: {}", name(state, *player)),
        Event::PurseAdjusted {
            team,
            delta,
            reason,
        } => {
            let sign = if *delta < 0 { "-" } else { "+" };
            format!(
                "{team} purse {sign}{} ({reason})",
                auction_proto::Money(delta.unsigned_abs())
            )
        }
        Event::PlayerAdded { player } => format!("player added: {} ({})", player.name, player.id),
        Event::PlayersImported { players } => match players.as_slice() {
            [one] => format!("player imported: {} ({})", one.name, one.id),
            many => format!("{} players imported", many.len()),
        },
        Event::AcceleratedRequested { team, players } => match players.len() {
            0 => format!("{team} withdraws its accelerated-round list"),
            n => format!("{team} asks back {n} players for the accelerated round"),
        },
        Event::PlayerEdited { player } => format!("player edited: {}", player.name),
        Event::PlayerWithdrawn { player } => format!("player withdrawn: {}", name(state, *player)),
        Event::PlayerRestored { player } => {
            format!("player back in the pool: {}", name(state, *player))
        }
        Event::LotReset { player } => {
            format!("lot reset: {} back to the pool", name(state, *player))
        }
        Event::AuctionReset => "auction reset".into(),
        Event::AcceleratedRoundOpened { round, players } => {
            format!("accelerated round {round}: {} players", players.len())
        }
    }
}

/// `#seq  who  what`.
pub fn entry(state: &State, e: &Entry) -> String {
    let who = if e.actor.user.is_empty() {
        e.actor.access.label()
    } else {
        e.actor.user.clone()
    };
    let who = auction_proto::printable(&who).into_owned();
    format!("#{:<5} {:<10} {}", e.seq, who, event(state, &e.event))
}

/// A short text summary of the whole state, for `ctl state`.
/// Where a Right to Match stands, for every screen.
pub fn rtm_status(state: &State) -> Option<String> {
    let rtm = state.lot.as_ref()?.rtm.as_ref()?;
    let (holder, winner, price) = (&rtm.holder, &rtm.winner, rtm.price);
    Some(match rtm.step {
        auction_proto::RtmStep::Offered => {
            let cards = state.team(holder).map_or(0, |t| t.rtm_left);
            format!("RIGHT TO MATCH: {holder} may match {winner}'s {price} ({cards} card(s) left)")
        }
        auction_proto::RtmStep::Raising => {
            format!("{holder} used Right to Match: {winner}'s final raise (now {price})")
        }
        auction_proto::RtmStep::Matching => {
            format!("{winner}'s final price {price}: {holder} to match")
        }
    })
}

pub fn summary(state: &State, seq: u64) -> String {
    auction_proto::printable_lines(&summary_words(state, seq))
}

fn summary_words(state: &State, seq: u64) -> String {
    let mut out = String::new();
    let phase = match state.phase {
        Phase::NotStarted => "not started",
        Phase::Running => "running",
        Phase::Paused => "paused",
    };
    let _ = writeln!(
        out,
        "{} — {phase} (seq {seq}, round {})",
        state.league_name, state.round
    );
    match &state.lot {
        Some(lot) => {
            let p = state.player(lot.player);
            let _ = writeln!(
                out,
                "on the block: {} — {}, base {}",
                name(state, lot.player),
                p.map(|p| p.player.role.label()).unwrap_or_default(),
                p.map(|p| p.player.base.to_string()).unwrap_or_default()
            );
            match state.leader() {
                Some(b) => {
                    let _ = writeln!(
                        out,
                        "leading: {} {} ({})",
                        b.team,
                        b.amount,
                        lot.stage.label()
                    );
                }
                None => {
                    let _ = writeln!(out, "no bid yet ({})", lot.stage.label());
                }
            }
            match rtm_status(state) {
                Some(rtm) => {
                    let _ = writeln!(out, "{rtm}");
                }
                None => {
                    if let Some(next) = state.next_bid() {
                        let _ = writeln!(out, "next valid bid: {next}");
                    }
                }
            }
        }
        None => {
            let next = state.next_in_queue().map(|id| name(state, id));
            let _ = writeln!(
                out,
                "no lot on the block; next up: {}",
                next.as_deref().unwrap_or("nobody")
            );
        }
    }
    let _ = writeln!(
        out,
        "{:<5} {:>12} {:>12} {:>5} {:>4}",
        "team", "purse", "max bid", "squad", "os"
    );
    for t in &state.teams {
        let _ = writeln!(
            out,
            "{:<5} {:>12} {:>12} {:>5} {:>4}",
            t.team.code.as_str(),
            t.purse.to_string(),
            state.max_bid(t).to_string(),
            t.squad.len(),
            state.overseas_count(t)
        );
    }
    let sold = state
        .closed
        .iter()
        .filter(|c| matches!(c.outcome, Outcome::Sold { .. }))
        .count();
    let _ = writeln!(
        out,
        "{sold} sold, {} unsold, {} to come",
        state.unsold().count(),
        state.upcoming().count()
    );
    out
}
