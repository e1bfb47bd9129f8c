//! The league's rules: `decide(state, command, actor, now) -> event | rejection`.
//!
//! Pure and deterministic: no I/O, no clock (time is `now_ms`), no hidden
//! randomness (the start seed is part of the command). The engine task calls
//! it; tests call it directly.

use auction_proto::state::{Lot, Outcome, PlayerEntry, TeamState};
use auction_proto::{
    Access, Actor, Command, Event, Money, Phase, PlayerId, PlayerStatus, RejectCode, Rejection,
    Rtm, RtmAction, RtmStep, Stage, State, TeamCode, Timer,
};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use crate::league::check_player;

type Decision = Result<Event, Rejection>;

pub(super) fn no(code: RejectCode, message: impl Into<String>) -> Rejection {
    Rejection::new(code, message)
}

/// Decides what `cmd` from `actor` at `now_ms` does to `state`.
pub fn decide(state: &State, cmd: &Command, actor: &Actor, now_ms: u64) -> Decision {
    authorize(cmd, &actor.access)?;
    // While a Right to Match is under way, the lot takes no bids or calls.
    if state.lot.as_ref().is_some_and(|l| l.rtm.is_some())
        && matches!(
            cmd,
            Command::Bid { .. }
                | Command::Raise { .. }
                | Command::GoingOnce
                | Command::GoingTwice
                | Command::Sold
                | Command::Unsold
                | Command::UndoBid
                | Command::Tick
        )
    {
        return Err(no(
            RejectCode::WrongStage,
            "the hammer has fallen: the Right to Match is under way",
        ));
    }
    match cmd {
        Command::Rtm { team, action } => rtm(state, team, *action),
        Command::RtmRaise { team, amount } => rtm_raise(state, team, *amount),
        Command::Start { seed } => start(state, seed.unwrap_or_default()),
        Command::Pause => {
            started(state)?;
            if state.phase == Phase::Paused {
                return Err(no(RejectCode::Paused, "the auction is already paused"));
            }
            Ok(Event::Paused {
                remaining_ms: state
                    .lot
                    .as_ref()
                    .and_then(|l| l.timer)
                    .map(|t| t.remaining_ms(now_ms)),
            })
        }
        Command::Resume => {
            if state.phase != Phase::Paused {
                return Err(no(RejectCode::NotPaused, "the auction is not paused"));
            }
            Ok(Event::Resumed {
                deadline_ms: state
                    .lot
                    .as_ref()
                    .and_then(|l| l.timer)
                    .map(|t| now_ms + t.remaining_ms(now_ms)),
            })
        }
        Command::Next => {
            running(state)?;
            no_lot(state)?;
            let player = state.next_in_queue().ok_or_else(|| {
                no(
                    RejectCode::NoPlayersLeft,
                    "every player of this round has been under the hammer",
                )
            })?;
            Ok(open_lot(state, player, now_ms))
        }
        Command::Nominate { player } => {
            running(state)?;
            no_lot(state)?;
            let entry = self::player(state, *player)?;
            if !matches!(entry.status, PlayerStatus::Available | PlayerStatus::Unsold) {
                return Err(no(
                    RejectCode::PlayerUnavailable,
                    format!(
                        "{} cannot be nominated: {}",
                        entry.player.name,
                        status_text(&entry.status)
                    ),
                ));
            }
            Ok(open_lot(state, *player, now_ms))
        }
        Command::Bid { team, amount } => bid(state, team, *amount, now_ms),
        Command::Raise { team } => {
            running(state)?;
            let amount = state
                .next_bid()
                .ok_or_else(|| no(RejectCode::NoLot, "no player is on the block"))?;
            bid(state, team, amount, now_ms)
        }
        Command::GoingOnce => call(state, Stage::Open, Stage::GoingOnce, now_ms),
        Command::GoingTwice => call(state, Stage::GoingOnce, Stage::GoingTwice, now_ms),
        Command::Sold => {
            running(state)?;
            hammer(state)
        }
        Command::Unsold => {
            running(state)?;
            let lot = lot(state)?;
            if !lot.bids.is_empty() {
                return Err(no(
                    RejectCode::HasBids,
                    "the lot has bids: sell it, or undo the bids first",
                ));
            }
            Ok(Event::PlayerUnsold { player: lot.player })
        }
        Command::UndoBid => {
            started(state)?;
            let lot = lot(state)?;
            if lot.bids.is_empty() {
                return Err(no(RejectCode::NothingToUndo, "the lot has no bid to undo"));
            }
            Ok(Event::BidUndone {
                timer: extended_timer(state, lot.timer, now_ms),
            })
        }
        Command::UndoSale => undo_sale(state, now_ms),
        Command::AdjustPurse {
            team,
            delta,
            reason,
        } => adjust(state, team, *delta, reason),
        Command::AddPlayer { player } => {
            let mut player = player.clone();
            player.id = state.next_player_id();
            validate_player(state, &player)?;
            Ok(Event::PlayerAdded { player })
        }
        Command::ImportPlayers { csv, file } => import(state, csv, file),
        Command::EditPlayer { player } => {
            let entry = self::player(state, player.id)?;
            if matches!(
                entry.status,
                PlayerStatus::OnBlock | PlayerStatus::Sold { .. }
            ) {
                return Err(no(
                    RejectCode::PlayerUnavailable,
                    format!(
                        "{} cannot be edited: {}",
                        entry.player.name,
                        status_text(&entry.status)
                    ),
                ));
            }
            validate_player(state, player)?;
            Ok(Event::PlayerEdited {
                player: player.clone(),
            })
        }
        Command::WithdrawPlayer { player } => {
            let entry = self::player(state, *player)?;
            if matches!(
                entry.status,
                PlayerStatus::OnBlock | PlayerStatus::Sold { .. } | PlayerStatus::Withdrawn
            ) {
                return Err(no(
                    RejectCode::PlayerUnavailable,
                    format!(
                        "{} cannot be withdrawn: {}",
                        entry.player.name,
                        status_text(&entry.status)
                    ),
                ));
            }
            Ok(Event::PlayerWithdrawn { player: *player })
        }
        Command::RestorePlayer { player } => restore(state, *player),
        Command::ResetLot => {
            started(state)?;
            let lot = lot(state)?;
            Ok(Event::LotReset { player: lot.player })
        }
        Command::ResetAuction => {
            if state.phase == Phase::NotStarted {
                return Err(no(
                    RejectCode::NotStarted,
                    "the auction has not started: nothing to reset",
                ));
            }
            Ok(Event::AuctionReset)
        }
        Command::OpenAccelerated => accelerated(state),
        Command::RequestAccelerated {
            team: code,
            players,
        } => request_accelerated(state, code, players),
        Command::Tick => tick(state, now_ms),
    }
}

/// Who may issue what. Teams bid only for themselves; the presenter and the
/// admin may enter a paddle bid for any team; viewers only watch.
fn authorize(cmd: &Command, access: &Access) -> Result<(), Rejection> {
    let forbidden = || {
        no(
            RejectCode::Forbidden,
            format!("the {} account may not `{}`", access.label(), cmd.name()),
        )
    };
    match cmd {
        Command::Tick => match access {
            Access::System => Ok(()),
            _ => Err(forbidden()),
        },
        Command::Bid { team, .. }
        | Command::Raise { team }
        | Command::RequestAccelerated { team, .. }
        | Command::Rtm { team, .. }
        | Command::RtmRaise { team, .. } => match access {
            Access::Admin | Access::Presenter => Ok(()),
            Access::Team { team: own } if own == team => Ok(()),
            Access::Team { team: own } => Err(no(
                RejectCode::WrongTeam,
                format!("team {own} can bid only for itself, not for {team}"),
            )),
            Access::Viewer | Access::System => Err(forbidden()),
        },
        Command::AdjustPurse { .. }
        | Command::AddPlayer { .. }
        | Command::ImportPlayers { .. }
        | Command::EditPlayer { .. }
        | Command::WithdrawPlayer { .. }
        | Command::RestorePlayer { .. }
        | Command::ResetAuction => match access {
            Access::Admin => Ok(()),
            _ => Err(forbidden()),
        },
        _ => match access {
            Access::Admin | Access::Presenter => Ok(()),
            _ => Err(forbidden()),
        },
    }
}

fn started(state: &State) -> Result<(), Rejection> {
    match state.phase {
        Phase::NotStarted => Err(no(RejectCode::NotStarted, "the auction has not started")),
        _ => Ok(()),
    }
}

fn running(state: &State) -> Result<(), Rejection> {
    match state.phase {
        Phase::NotStarted => Err(no(RejectCode::NotStarted, "the auction has not started")),
        Phase::Paused => Err(no(RejectCode::Paused, "the auction is paused")),
        Phase::Running => Ok(()),
    }
}

fn lot(state: &State) -> Result<&Lot, Rejection> {
    state
        .lot
        .as_ref()
        .ok_or_else(|| no(RejectCode::NoLot, "no player is on the block"))
}

fn no_lot(state: &State) -> Result<(), Rejection> {
    match &state.lot {
        Some(lot) => Err(no(
            RejectCode::LotInProgress,
            format!("{} is still on the block", player_name(state, lot.player)),
        )),
        None => Ok(()),
    }
}

fn player_name(state: &State, id: PlayerId) -> String {
    state
        .player(id)
        .map_or_else(|| id.to_string(), |p| p.player.name.clone())
}

fn status_text(status: &PlayerStatus) -> String {
    match status {
        PlayerStatus::Available => "still to come".into(),
        PlayerStatus::OnBlock => "on the block".into(),
        PlayerStatus::Sold { team, price } => format!("sold to {team} for {price}"),
        PlayerStatus::Unsold => "unsold".into(),
        PlayerStatus::Withdrawn => "withdrawn".into(),
    }
}

pub(super) fn team<'a>(state: &'a State, code: &TeamCode) -> Result<&'a TeamState, Rejection> {
    state
        .team(code)
        .ok_or_else(|| no(RejectCode::UnknownTeam, format!("there is no team {code}")))
}

pub(super) fn player(state: &State, id: PlayerId) -> Result<&PlayerEntry, Rejection> {
    state.player(id).ok_or_else(|| {
        no(
            RejectCode::UnknownPlayer,
            format!("there is no player {id}"),
        )
    })
}

fn secs(s: u32) -> u64 {
    u64::from(s) * 1000
}

fn start(state: &State, seed: u64) -> Decision {
    if state.phase != Phase::NotStarted {
        return Err(no(
            RejectCode::AlreadyStarted,
            "the auction has already started",
        ));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut queue = Vec::with_capacity(state.players.len());
    for set in &state.sets {
        let mut in_set: Vec<PlayerId> = state
            .players
            .iter()
            .filter(|p| &p.player.set == set && p.status == PlayerStatus::Available)
            .map(|p| p.player.id)
            .collect();
        in_set.shuffle(&mut rng);
        queue.extend(in_set);
    }
    Ok(Event::AuctionStarted { seed, queue })
}

fn open_lot(state: &State, player: PlayerId, now_ms: u64) -> Event {
    Event::LotOpened {
        player,
        at_ms: now_ms,
        deadline_ms: state.rules.clock.map(|c| now_ms + secs(c.lot_seconds)),
    }
}

/// A timer that leaves at least the anti-sniping time, frozen if paused.
fn extended_timer(state: &State, timer: Option<Timer>, now_ms: u64) -> Option<Timer> {
    let clock = state.rules.clock?;
    let floor = secs(clock.min_seconds_after_bid);
    let left = timer.map_or(floor, |t| t.remaining_ms(now_ms)).max(floor);
    Some(match state.phase {
        Phase::Paused => Timer::Frozen { remaining_ms: left },
        _ => Timer::Running {
            deadline_ms: now_ms + left,
        },
    })
}

/// The pause that keeps a running lot clock from running down while the
/// server is not there: with the time left as of `since_ms` (the stop, or
/// after a crash the last recorded event), and never less than a bid would
/// leave. `None` when no lot clock runs.
pub fn downtime_pause(state: &State, since_ms: u64) -> Option<Event> {
    let clock = state.rules.clock?;
    let lot = state.lot.as_ref().filter(|l| l.rtm.is_none())?;
    let Some(Timer::Running { deadline_ms }) = lot.timer else {
        return None;
    };
    if state.phase != Phase::Running {
        return None;
    }
    let left = deadline_ms
        .saturating_sub(since_ms)
        .max(secs(clock.min_seconds_after_bid));
    Some(Event::Paused {
        remaining_ms: Some(left),
    })
}

/// A proxy bid for `code`: checked exactly as that team's own bid would be
/// (the team is the actor, so it is authorized), marked automatic.
pub fn proxy_bid(state: &State, code: &TeamCode, amount: Money, now_ms: u64) -> Decision {
    if state.lot.as_ref().is_some_and(|l| l.rtm.is_some()) {
        return Err(no(RejectCode::WrongStage, "the hammer has fallen"));
    }
    let mut event = bid(state, code, amount, now_ms)?;
    if let Event::BidPlaced { auto, .. } = &mut event {
        *auto = true;
    }
    Ok(event)
}

fn bid(state: &State, code: &TeamCode, amount: Money, now_ms: u64) -> Decision {
    running(state)?;
    let lot = lot(state)?;
    let team = team(state, code)?;
    let entry = state.player(lot.player).ok_or_else(|| {
        no(
            RejectCode::UnknownPlayer,
            "the player on the block is not in the pool",
        )
    })?;
    let rules = &state.rules;
    squad_room(state, team, entry.player.overseas)?;
    match lot.bids.last() {
        Some(leader) if &leader.team == code => {
            return Err(no(
                RejectCode::AlreadyLeading,
                format!("{code} already leads with {}", leader.amount),
            ));
        }
        Some(leader) => {
            let Some(min) = leader.amount.checked_add(rules.step_at(leader.amount)) else {
                return Err(no(
                    RejectCode::OverMaxBid,
                    format!("no bid can top {}", leader.amount),
                ));
            };
            if amount < min {
                return Err(no(
                    RejectCode::BelowMinimum,
                    format!(
                        "the next valid bid is {min} ({} leads with {})",
                        leader.team, leader.amount
                    ),
                ));
            }
        }
        None if amount < entry.player.base => {
            return Err(no(
                RejectCode::BelowBase,
                format!(
                    "the first bid must be at least the base price, {}",
                    entry.player.base
                ),
            ));
        }
        None => {}
    }
    within_max(state, team, amount)?;
    Ok(Event::BidPlaced {
        team: code.clone(),
        amount,
        at_ms: now_ms,
        deadline_ms: extended_timer(state, lot.timer, now_ms)
            .map(|t| t.remaining_ms(now_ms) + now_ms),
        auto: false,
    })
}

fn call(state: &State, from: Stage, to: Stage, now_ms: u64) -> Decision {
    running(state)?;
    let lot = lot(state)?;
    if lot.stage != from {
        return Err(no(
            RejectCode::WrongStage,
            format!(
                "the lot is {}; `{}` follows `{}`",
                lot.stage.label(),
                to.label(),
                from.label()
            ),
        ));
    }
    Ok(Event::StageChanged {
        stage: to,
        deadline_ms: state.rules.clock.map(|c| now_ms + secs(c.stage_seconds)),
    })
}

fn hammer(state: &State) -> Decision {
    let lot = lot(state)?;
    let leader = lot
        .bids
        .last()
        .ok_or_else(|| no(RejectCode::NoLeader, "no bid yet: call it unsold instead"))?;
    let team = team(state, &leader.team)?;
    if leader.amount > team.purse {
        return Err(no(
            RejectCode::OverMaxBid,
            format!(
                "{} has only {} left, less than its bid of {}",
                leader.team, team.purse, leader.amount
            ),
        ));
    }
    if let Some(offer) = rtm_offer(state, lot.player, &leader.team, leader.amount) {
        return Ok(offer);
    }
    Ok(Event::PlayerSold {
        player: lot.player,
        team: leader.team.clone(),
        price: leader.amount,
        rtm: false,
    })
}

/// A place in `team`'s squad (and among its overseas players, for one).
pub(super) fn squad_room(state: &State, team: &TeamState, overseas: bool) -> Result<(), Rejection> {
    let rules = &state.rules;
    let code = &team.team.code;
    if team.squad.len() >= rules.squad_max as usize {
        return Err(no(
            RejectCode::SquadFull,
            format!(
                "{code} already has {} players, the most a squad may have",
                team.squad.len()
            ),
        ));
    }
    if overseas && state.overseas_count(team) >= rules.overseas_max {
        return Err(no(
            RejectCode::OverseasFull,
            format!(
                "{code} already has {} overseas players, the most allowed",
                rules.overseas_max
            ),
        ));
    }
    Ok(())
}

/// Whether `code` may add `player` to its squad at `price` (squad size,
/// overseas places, and a purse that still completes the squad).
fn can_take(
    state: &State,
    code: &TeamCode,
    player: PlayerId,
    price: Money,
) -> Result<(), Rejection> {
    let team = team(state, code)?;
    let overseas = state.player(player).is_some_and(|p| p.player.overseas);
    squad_room(state, team, overseas)?;
    within_max(state, team, price)
}

/// `amount` leaves `team` enough to complete its squad.
fn within_max(state: &State, team: &TeamState, amount: Money) -> Result<(), Rejection> {
    let max = state.max_bid(team);
    if amount > max {
        return Err(no(
            RejectCode::OverMaxBid,
            format!(
                "{} can bid at most {max} (purse {}, keeping enough to complete the squad)",
                team.team.code, team.purse
            ),
        ));
    }
    Ok(())
}

/// At the hammer: the player's previous team may use a Right to Match card
/// when the league has them, it has one left, and it could take the player
/// at this price.
fn rtm_offer(state: &State, player: PlayerId, winner: &TeamCode, price: Money) -> Option<Event> {
    if state.rules.rtm_cards == 0 {
        return None;
    }
    let holder = state.player(player)?.player.previous_team.clone()?;
    if &holder == winner || state.team(&holder)?.rtm_left == 0 {
        return None;
    }
    can_take(state, &holder, player, price).ok()?;
    Some(Event::RtmOffered {
        holder,
        winner: winner.clone(),
        price,
    })
}

/// The Right to Match under way, at one of `steps`.
fn rtm_at<'a>(state: &'a State, steps: &[RtmStep]) -> Result<(&'a Lot, &'a Rtm), Rejection> {
    let lot = lot(state)?;
    match &lot.rtm {
        Some(rtm) if steps.contains(&rtm.step) => Ok((lot, rtm)),
        Some(rtm) => Err(no(
            RejectCode::WrongStage,
            format!("the Right to Match is at another step ({:?})", rtm.step),
        )),
        None => Err(no(RejectCode::WrongStage, "no Right to Match is under way")),
    }
}

fn rtm(state: &State, code: &TeamCode, action: RtmAction) -> Decision {
    started(state)?;
    let steps: &[RtmStep] = match action {
        RtmAction::UseCard => &[RtmStep::Offered],
        RtmAction::Decline => &[RtmStep::Offered, RtmStep::Matching],
        RtmAction::MatchPrice => &[RtmStep::Matching],
    };
    let (lot, rtm) = rtm_at(state, steps)?;
    if code != &rtm.holder {
        return Err(no(
            RejectCode::WrongTeam,
            format!(
                "only {} holds the Right to Match for this player",
                rtm.holder
            ),
        ));
    }
    match action {
        RtmAction::UseCard => Ok(Event::RtmUsed {
            holder: code.clone(),
        }),
        RtmAction::Decline => Ok(Event::PlayerSold {
            player: lot.player,
            team: rtm.winner.clone(),
            price: rtm.price,
            rtm: false,
        }),
        RtmAction::MatchPrice => {
            can_take(state, code, lot.player, rtm.price)?;
            Ok(Event::PlayerSold {
                player: lot.player,
                team: code.clone(),
                price: rtm.price,
                rtm: true,
            })
        }
    }
}

fn rtm_raise(state: &State, code: &TeamCode, amount: Money) -> Decision {
    started(state)?;
    let (lot, rtm) = rtm_at(state, &[RtmStep::Raising])?;
    if code != &rtm.winner {
        return Err(no(
            RejectCode::WrongTeam,
            format!("only {} makes the final raise", rtm.winner),
        ));
    }
    if amount < rtm.price {
        return Err(no(
            RejectCode::BelowMinimum,
            format!(
                "the final raise cannot be below the hammer price, {}",
                rtm.price
            ),
        ));
    }
    can_take(state, code, lot.player, amount)?;
    Ok(Event::RtmRaised {
        winner: code.clone(),
        price: amount,
    })
}

/// A withdrawn player back in the pool.
fn restore(state: &State, id: PlayerId) -> Decision {
    let entry = player(state, id)?;
    if entry.status != PlayerStatus::Withdrawn {
        return Err(no(
            RejectCode::PlayerUnavailable,
            format!(
                "{} is not withdrawn: {}",
                entry.player.name,
                status_text(&entry.status)
            ),
        ));
    }
    Ok(Event::PlayerRestored { player: id })
}

fn undo_sale(state: &State, now_ms: u64) -> Decision {
    started(state)?;
    no_lot(state)?;
    let last = state
        .closed
        .last()
        .ok_or_else(|| no(RejectCode::NothingToUndo, "no lot has closed yet"))?;
    let player = last.lot.player;
    let status = state.player(player).map(|p| &p.status);
    let still = matches!(
        (&last.outcome, status),
        (Outcome::Sold { .. }, Some(PlayerStatus::Sold { .. }))
            | (Outcome::Unsold, Some(PlayerStatus::Unsold))
    );
    if !still {
        return Err(no(
            RejectCode::NothingToUndo,
            format!(
                "{} has moved on since the last lot closed",
                player_name(state, player)
            ),
        ));
    }
    Ok(Event::LotReopened {
        player,
        timer: extended_timer(state, None, now_ms),
    })
}

fn adjust(state: &State, code: &TeamCode, delta: i64, reason: &str) -> Decision {
    let team = team(state, code)?;
    if delta == 0 {
        return Err(no(
            RejectCode::InvalidAdjustment,
            "an adjustment of zero changes nothing",
        ));
    }
    if reason.trim().is_empty() {
        return Err(no(
            RejectCode::InvalidAdjustment,
            "say why the purse is adjusted",
        ));
    }
    if auction_proto::has_control(reason) {
        return Err(no(
            RejectCode::InvalidAdjustment,
            "the reason must not hold control characters",
        ));
    }
    let purse = team.purse.checked_add_signed(delta).ok_or_else(|| {
        no(
            RejectCode::InvalidAdjustment,
            format!("{code}'s purse of {} cannot go below zero", team.purse),
        )
    })?;
    if delta > 0 && purse > Money::MAX {
        return Err(no(
            RejectCode::InvalidAdjustment,
            format!("a purse cannot go above {}", Money::MAX),
        ));
    }
    if let Some(leader) = state.leader()
        && &leader.team == code
        && purse < leader.amount
    {
        return Err(no(
            RejectCode::InvalidAdjustment,
            format!(
                "{code} leads the lot with {}: the purse cannot drop below it",
                leader.amount
            ),
        ));
    }
    Ok(Event::PurseAdjusted {
        team: code.clone(),
        delta,
        reason: reason.trim().to_string(),
    })
}

fn validate_player(state: &State, player: &auction_proto::Player) -> Result<(), Rejection> {
    check_player(player, &state.sets).map_err(|e| no(RejectCode::InvalidPlayer, e.to_string()))?;
    let clash = state.players.iter().any(|p| {
        p.player.id != player.id && p.player.name.eq_ignore_ascii_case(player.name.trim())
    });
    if clash {
        return Err(no(
            RejectCode::InvalidPlayer,
            format!("`{}` is already in the pool", player.name),
        ));
    }
    if let Some(prev) = &player.previous_team {
        team(state, prev)?;
    }
    Ok(())
}

/// Every row valid and new to the pool, or nothing: the error names the
/// file, line and column.
fn import(state: &State, csv: &str, file: &str) -> Decision {
    let file = if file.trim().is_empty() {
        "import"
    } else {
        file
    };
    let teams: Vec<_> = state.teams.iter().map(|t| t.team.clone()).collect();
    let rows = crate::league::parse_player_lines(csv, file, &state.sets, &teams)
        .map_err(|e| no(RejectCode::InvalidPlayer, e.to_string()))?;
    if rows.is_empty() {
        return Err(no(
            RejectCode::InvalidPlayer,
            format!("{file}: no players in the file (a header row, then one player per line)"),
        ));
    }
    for (line, p) in &rows {
        let clash = |field: &str, msg: String| {
            no(
                RejectCode::InvalidPlayer,
                format!("{file}:{line}: field `{field}`: {msg}"),
            )
        };
        if let Some(old) = state.player(p.id) {
            return Err(clash(
                "id",
                format!("id {} is already in the pool ({})", p.id.0, old.player.name),
            ));
        }
        if let Some(old) = state
            .players
            .iter()
            .find(|o| o.player.name.eq_ignore_ascii_case(&p.name))
        {
            return Err(clash(
                "name",
                format!(
                    "`{}` is already in the pool (id {})",
                    p.name, old.player.id.0
                ),
            ));
        }
    }
    Ok(Event::PlayersImported {
        players: rows.into_iter().map(|(_, p)| p).collect(),
    })
}

fn accelerated(state: &State) -> Decision {
    running(state)?;
    no_lot(state)?;
    if let Some(next) = state.next_in_queue() {
        return Err(no(
            RejectCode::SetsNotDone,
            format!(
                "the round is not over: {} is still to come",
                player_name(state, next)
            ),
        ));
    }
    let unsold = |id: PlayerId| {
        state
            .player(id)
            .is_some_and(|p| p.status == PlayerStatus::Unsold)
    };
    let mut players: Vec<PlayerId> = Vec::new();
    if state.accelerated_requests.is_empty() {
        // Nobody asked: every unsold player, in the order they went unsold.
        for c in &state.closed {
            let id = c.lot.player;
            if unsold(id) && !players.contains(&id) {
                players.push(id);
            }
        }
    } else {
        // The union of the teams' lists, in the order of the pool.
        players = state
            .accelerated_requests
            .values()
            .flatten()
            .copied()
            .filter(|id| unsold(*id))
            .collect();
        players.sort();
        players.dedup();
    }
    if players.is_empty() {
        return Err(no(
            RejectCode::NoUnsoldPlayers,
            "no unsold player to bring back",
        ));
    }
    Ok(Event::AcceleratedRoundOpened {
        round: state.round + 1,
        players,
    })
}

fn request_accelerated(state: &State, code: &TeamCode, players: &[PlayerId]) -> Decision {
    team(state, code)?;
    let limit = state.rules.accelerated_picks as usize;
    if players.len() > limit {
        return Err(no(
            RejectCode::TooManyPicks,
            format!(
                "a team may ask back at most {limit} players, not {}",
                players.len()
            ),
        ));
    }
    let mut seen = std::collections::HashSet::new();
    for id in players {
        let p = player(state, *id)?;
        if p.status != PlayerStatus::Unsold {
            return Err(no(
                RejectCode::PlayerUnavailable,
                format!(
                    "{} cannot be asked back: {}",
                    p.player.name,
                    status_text(&p.status)
                ),
            ));
        }
        if !seen.insert(*id) {
            return Err(no(
                RejectCode::InvalidPlayer,
                format!("{} is on the list twice", p.player.name),
            ));
        }
    }
    Ok(Event::AcceleratedRequested {
        team: code.clone(),
        players: players.to_vec(),
    })
}

fn tick(state: &State, now_ms: u64) -> Decision {
    running(state)?;
    let lot = lot(state)?;
    let clock = state
        .rules
        .clock
        .filter(|c| c.auto_advance)
        .ok_or_else(|| {
            no(
                RejectCode::ClockNotDue,
                "this league's clock does not advance by itself",
            )
        })?;
    match lot.timer {
        Some(Timer::Running { deadline_ms }) if deadline_ms <= now_ms => {}
        _ => return Err(no(RejectCode::ClockNotDue, "the lot clock has not run out")),
    }
    let next = |stage| Event::StageChanged {
        stage,
        deadline_ms: Some(now_ms + secs(clock.stage_seconds)),
    };
    match lot.stage {
        Stage::Open => Ok(next(Stage::GoingOnce)),
        Stage::GoingOnce => Ok(next(Stage::GoingTwice)),
        Stage::GoingTwice if lot.bids.is_empty() => Ok(Event::PlayerUnsold { player: lot.player }),
        Stage::GoingTwice => hammer(state),
    }
}

/// When the engine should send itself a `Tick`: the running deadline of a
/// lot, if the league's clock advances by itself.
pub fn next_tick_ms(state: &State) -> Option<u64> {
    state.rules.clock.filter(|c| c.auto_advance)?;
    if state.phase != Phase::Running {
        return None;
    }
    match state.lot.as_ref()?.timer? {
        Timer::Running { deadline_ms } => Some(deadline_ms),
        Timer::Frozen { .. } => None,
    }
}
