//! Every rule of the engine and every rejection code, through `decide`.

mod common_league;

use auction_proto::state::Outcome;
use auction_proto::{
    Actor, Command, Event, Money, Phase, PlayerId, PlayerStatus, RejectCode, Stage, State,
    TeamCode, Timer,
};
use auction_server::engine::decide;
use common_league::*;

struct Room {
    state: State,
    now: u64,
}

impl Room {
    fn new() -> Room {
        Room::with(small_league())
    }

    fn with(league: auction_proto::League) -> Room {
        Room {
            state: State::new(&league),
            now: 1_000_000,
        }
    }

    /// A started room with a bid clock (automatic or not) and `player` on the block.
    fn clocked(auto_advance: bool, player: u32) -> Room {
        let mut room = Room::with(with_clock(small_league(), auto_advance));
        room.ok(&presenter(), Command::Start { seed: Some(1) });
        room.ok(
            &presenter(),
            Command::Nominate {
                player: PlayerId(player),
            },
        );
        room
    }

    /// A started room with `player` on the block.
    fn lot(player: u32) -> Room {
        let mut room = Room::new();
        room.ok(&presenter(), Command::Start { seed: Some(7) });
        room.nominate(player);
        room
    }

    /// The presenter puts `player` on the block.
    fn nominate(&mut self, player: u32) -> Event {
        self.ok(
            &presenter(),
            Command::Nominate {
                player: PlayerId(player),
            },
        )
    }

    fn run(&mut self, actor: &Actor, cmd: Command) -> Result<Event, auction_proto::Rejection> {
        let event = decide(&self.state, &cmd, actor, self.now)?;
        self.state.apply(&event);
        Ok(event)
    }

    fn ok(&mut self, actor: &Actor, cmd: Command) -> Event {
        let shown = format!("{cmd:?}");
        self.run(actor, cmd)
            .unwrap_or_else(|r| panic!("{shown} by {actor:?} was refused: {r}"))
    }

    /// Asserts a rejection with `code` that leaves the state unchanged.
    fn refuses(&mut self, actor: &Actor, cmd: Command, code: RejectCode) -> String {
        let before = self.state.clone();
        let shown = format!("{cmd:?}");
        let r = self.run(actor, cmd).expect_err(&format!(
            "{shown} by {actor:?} should be refused with {code}"
        ));
        assert_eq!(r.code, code, "{shown}: {}", r.message);
        assert!(!r.message.is_empty());
        assert_eq!(self.state, before, "a refused command changed the state");
        r.message
    }

    fn bid(&mut self, code: &str, lakh: u64) -> Result<Event, auction_proto::Rejection> {
        self.run(
            &team(code),
            Command::Bid {
                team: TeamCode::new(code),
                amount: Money(lakh),
            },
        )
    }

    fn sell(&mut self, player: u32, code: &str, lakh: u64) {
        self.ok(
            &presenter(),
            Command::Nominate {
                player: PlayerId(player),
            },
        );
        self.bid(code, lakh).unwrap();
        self.ok(&presenter(), Command::Sold);
    }
}

fn t(code: &str) -> TeamCode {
    TeamCode::new(code)
}

fn bid_cmd(code: &str, lakh: u64) -> Command {
    Command::Bid {
        team: t(code),
        amount: Money(lakh),
    }
}

// ---- roles -----------------------------------------------------------------

#[test]
fn forbidden_for_roles_without_the_right() {
    let mut room = Room::new();
    room.refuses(
        &viewer(),
        Command::Start { seed: None },
        RejectCode::Forbidden,
    );
    room.refuses(
        &team("MI"),
        Command::Start { seed: None },
        RejectCode::Forbidden,
    );
    room.refuses(&presenter(), Command::ResetAuction, RejectCode::Forbidden);
    room.refuses(
        &presenter(),
        Command::AdjustPurse {
            team: t("MI"),
            delta: 10,
            reason: "x".into(),
        },
        RejectCode::Forbidden,
    );
    room.refuses(&admin(), Command::Tick, RejectCode::Forbidden);
    room.refuses(&viewer(), bid_cmd("MI", 200), RejectCode::Forbidden);
    room.refuses(&system(), bid_cmd("MI", 200), RejectCode::Forbidden);
}

#[test]
fn a_team_bids_only_for_itself_but_the_room_may_paddle_bid() {
    let mut room = Room::lot(1);
    let msg = room.refuses(&team("MI"), bid_cmd("CSK", 200), RejectCode::WrongTeam);
    assert!(msg.contains("CSK"), "{msg}");
    room.refuses(
        &team("MI"),
        Command::Raise { team: t("CSK") },
        RejectCode::WrongTeam,
    );
    room.ok(&presenter(), bid_cmd("CSK", 200));
    room.ok(&admin(), bid_cmd("MI", 220));
    room.ok(&team("CSK"), Command::Raise { team: t("CSK") });
    assert_eq!(room.state.leader().unwrap().amount, Money(240));
}

// ---- phases ----------------------------------------------------------------

#[test]
fn nothing_runs_before_the_start_and_start_happens_once() {
    let mut room = Room::new();
    room.refuses(&presenter(), Command::Next, RejectCode::NotStarted);
    room.refuses(&presenter(), Command::Pause, RejectCode::NotStarted);
    room.refuses(&admin(), Command::ResetAuction, RejectCode::NotStarted);
    room.refuses(&presenter(), Command::UndoSale, RejectCode::NotStarted);
    room.ok(&presenter(), Command::Start { seed: Some(1) });
    assert_eq!(room.state.phase, Phase::Running);
    room.refuses(
        &admin(),
        Command::Start { seed: Some(2) },
        RejectCode::AlreadyStarted,
    );
}

#[test]
fn pause_stops_bids_and_resume_needs_a_pause() {
    let mut room = Room::lot(1);
    room.refuses(&presenter(), Command::Resume, RejectCode::NotPaused);
    room.ok(&presenter(), Command::Pause);
    room.refuses(&presenter(), Command::Pause, RejectCode::Paused);
    room.refuses(&team("MI"), bid_cmd("MI", 200), RejectCode::Paused);
    room.refuses(&presenter(), Command::Sold, RejectCode::Paused);
    room.ok(&presenter(), Command::Resume);
    room.bid("MI", 200).unwrap();
}

#[test]
fn start_shuffles_within_sets_in_set_order_reproducibly() {
    let mut a = Room::new();
    a.ok(&presenter(), Command::Start { seed: Some(42) });
    let mut b = Room::new();
    b.ok(&presenter(), Command::Start { seed: Some(42) });
    assert_eq!(a.state.queue, b.state.queue, "same seed, same order");
    let sets: Vec<&str> = a
        .state
        .queue
        .iter()
        .map(|id| a.state.player(*id).unwrap().player.set.as_str())
        .collect();
    assert_eq!(&sets[..3], ["Marquee"; 3]);
    assert!(sets[3..].iter().all(|s| *s == "Others"));
    let orders: std::collections::HashSet<Vec<PlayerId>> = (0..20)
        .map(|seed| {
            let mut r = Room::new();
            r.ok(&presenter(), Command::Start { seed: Some(seed) });
            r.state.queue
        })
        .collect();
    assert!(
        orders.len() > 1,
        "different seeds should give different orders"
    );
}

// ---- lots ------------------------------------------------------------------

#[test]
fn next_follows_the_queue_and_runs_out() {
    let mut room = Room::new();
    room.ok(&presenter(), Command::Start { seed: Some(3) });
    let queue = room.state.queue.clone();
    for id in &queue {
        room.ok(&presenter(), Command::Next);
        assert_eq!(room.state.lot.as_ref().unwrap().player, *id);
        room.refuses(&presenter(), Command::Next, RejectCode::LotInProgress);
        room.ok(&presenter(), Command::Unsold);
    }
    room.refuses(&presenter(), Command::Next, RejectCode::NoPlayersLeft);
}

#[test]
fn nominate_checks_the_player() {
    let mut room = Room::new();
    room.ok(&presenter(), Command::Start { seed: Some(3) });
    room.refuses(
        &presenter(),
        Command::Nominate {
            player: PlayerId(99),
        },
        RejectCode::UnknownPlayer,
    );
    room.sell(1, "MI", 200);
    let msg = room.refuses(
        &presenter(),
        Command::Nominate {
            player: PlayerId(1),
        },
        RejectCode::PlayerUnavailable,
    );
    assert!(msg.contains("sold to MI"), "{msg}");
    // An unsold player may be brought back by hand.
    room.nominate(2);
    room.ok(&presenter(), Command::Unsold);
    room.nominate(2);
}

#[test]
fn commands_on_a_lot_need_one() {
    let mut room = Room::new();
    room.ok(&presenter(), Command::Start { seed: Some(3) });
    for cmd in [
        bid_cmd("MI", 200),
        Command::Raise { team: t("MI") },
        Command::GoingOnce,
        Command::Sold,
        Command::Unsold,
        Command::UndoBid,
        Command::ResetLot,
    ] {
        room.refuses(&presenter(), cmd, RejectCode::NoLot);
    }
}

#[test]
fn unknown_team_is_refused() {
    let mut room = Room::lot(1);
    room.refuses(&presenter(), bid_cmd("XYZ", 200), RejectCode::UnknownTeam);
    room.refuses(
        &admin(),
        Command::AdjustPurse {
            team: t("XYZ"),
            delta: 5,
            reason: "x".into(),
        },
        RejectCode::UnknownTeam,
    );
}

// ---- bids and the ladder -----------------------------------------------------

#[test]
fn the_first_bid_is_at_least_the_base_price() {
    let mut room = Room::lot(1); // base 2 Cr
    let msg = room.refuses(&team("MI"), bid_cmd("MI", 195), RejectCode::BelowBase);
    assert!(msg.contains("₹2 Cr"), "{msg}");
    room.refuses(&team("MI"), bid_cmd("MI", 0), RejectCode::BelowBase);
    assert_eq!(room.state.next_bid(), Some(Money(200)));
    room.bid("MI", 200).unwrap();
}

#[test]
fn later_bids_climb_the_ladder() {
    let mut room = Room::lot(6); // base 20 L
    for (code, lakh, next) in [
        ("MI", 20, 25),
        ("CSK", 25, 30),
        ("MI", 95, 100),
        ("CSK", 100, 110),
        ("MI", 190, 200),
        ("CSK", 200, 220),
        ("MI", 480, 500),
        ("CSK", 500, 525),
    ] {
        room.bid(code, lakh).unwrap();
        assert_eq!(room.state.next_bid(), Some(Money(next)), "after {lakh}");
    }
    let msg = room.refuses(&team("MI"), bid_cmd("MI", 520), RejectCode::BelowMinimum);
    assert!(msg.contains("₹5.25 Cr"), "{msg}");
    // A jump above the step is fine.
    room.bid("MI", 700).unwrap();
}

#[test]
fn two_equal_bids_only_the_first_counts() {
    let mut room = Room::lot(6);
    room.bid("MI", 20).unwrap();
    room.bid("CSK", 25).unwrap();
    room.refuses(&team("RCB"), bid_cmd("RCB", 25), RejectCode::BelowMinimum);
}

#[test]
fn the_leader_cannot_raise_itself() {
    let mut room = Room::lot(6);
    room.bid("MI", 20).unwrap();
    room.refuses(&team("MI"), bid_cmd("MI", 50), RejectCode::AlreadyLeading);
    room.refuses(
        &team("MI"),
        Command::Raise { team: t("MI") },
        RejectCode::AlreadyLeading,
    );
}

#[test]
fn raise_bids_the_next_valid_amount() {
    let mut room = Room::lot(3); // base 1 Cr
    room.ok(&team("MI"), Command::Raise { team: t("MI") });
    assert_eq!(room.state.leader().unwrap().amount, Money(100));
    room.ok(&team("CSK"), Command::Raise { team: t("CSK") });
    assert_eq!(room.state.leader().unwrap().amount, Money(110));
}

#[test]
fn max_bid_keeps_enough_to_complete_the_squad() {
    // Purse 10 Cr, squad_min 2, cheapest base 20 L: an empty squad keeps 20 L back.
    let mut room = Room::lot(1);
    let mi = room.state.team(&t("MI")).unwrap().clone();
    assert_eq!(room.state.max_bid(&mi), Money(980));
    let msg = room.refuses(&team("MI"), bid_cmd("MI", 985), RejectCode::OverMaxBid);
    assert!(msg.contains("₹9.8 Cr"), "{msg}");
    room.bid("MI", 980).unwrap();
    room.ok(&presenter(), Command::Sold);
    // With one player bought, nothing more must be kept back.
    let mi = room.state.team(&t("MI")).unwrap().clone();
    assert_eq!(mi.purse, Money(20));
    assert_eq!(room.state.max_bid(&mi), Money(20));
}

#[test]
fn a_full_squad_cannot_bid() {
    let mut room = Room::new();
    room.ok(&presenter(), Command::Start { seed: Some(1) });
    room.sell(5, "MI", 30);
    room.sell(6, "MI", 20);
    room.sell(7, "MI", 20);
    room.nominate(8);
    let msg = room.refuses(&team("MI"), bid_cmd("MI", 75), RejectCode::SquadFull);
    assert!(msg.contains('3'), "{msg}");
}

#[test]
fn overseas_players_are_capped() {
    let mut room = Room::new();
    room.ok(&presenter(), Command::Start { seed: Some(1) });
    room.sell(2, "MI", 150); // overseas
    room.nominate(4); // overseas
    room.refuses(&team("MI"), bid_cmd("MI", 50), RejectCode::OverseasFull);
    room.bid("CSK", 50).unwrap();
}

// ---- stages, hammer, unsold ------------------------------------------------

#[test]
fn going_once_then_twice_and_a_bid_reopens() {
    let mut room = Room::lot(6);
    room.refuses(&presenter(), Command::GoingTwice, RejectCode::WrongStage);
    room.bid("MI", 20).unwrap();
    room.ok(&presenter(), Command::GoingOnce);
    room.refuses(&presenter(), Command::GoingOnce, RejectCode::WrongStage);
    room.ok(&presenter(), Command::GoingTwice);
    assert_eq!(room.state.lot.as_ref().unwrap().stage, Stage::GoingTwice);
    room.bid("CSK", 25).unwrap();
    assert_eq!(room.state.lot.as_ref().unwrap().stage, Stage::Open);
}

#[test]
fn the_hammer_needs_a_leader_and_sells_to_it() {
    let mut room = Room::lot(8);
    room.refuses(&presenter(), Command::Sold, RejectCode::NoLeader);
    room.bid("MI", 75).unwrap();
    room.bid("CSK", 80).unwrap();
    room.ok(&presenter(), Command::Sold);
    assert!(room.state.lot.is_none());
    let csk = room.state.team(&t("CSK")).unwrap();
    assert_eq!(csk.purse, Money(1000 - 80));
    assert_eq!(csk.squad, vec![PlayerId(8)]);
    assert_eq!(
        room.state.player(PlayerId(8)).unwrap().status,
        PlayerStatus::Sold {
            team: t("CSK"),
            price: Money(80)
        }
    );
    // Sold once: it cannot come back on the block.
    room.refuses(
        &presenter(),
        Command::Nominate {
            player: PlayerId(8),
        },
        RejectCode::PlayerUnavailable,
    );
}

#[test]
fn unsold_only_without_bids() {
    let mut room = Room::lot(8);
    room.bid("MI", 75).unwrap();
    room.refuses(&presenter(), Command::Unsold, RejectCode::HasBids);
    room.ok(&presenter(), Command::UndoBid);
    room.ok(&presenter(), Command::Unsold);
    assert_eq!(
        room.state.player(PlayerId(8)).unwrap().status,
        PlayerStatus::Unsold
    );
}

// ---- undo ------------------------------------------------------------------

#[test]
fn undo_bid_restores_the_state_before_it() {
    let mut room = Room::lot(6);
    room.bid("MI", 20).unwrap();
    room.ok(&presenter(), Command::GoingOnce);
    let before = room.state.clone();
    room.bid("CSK", 25).unwrap();
    room.ok(&presenter(), Command::UndoBid);
    assert_eq!(room.state, before);
    room.ok(&presenter(), Command::UndoBid);
    room.refuses(&presenter(), Command::UndoBid, RejectCode::NothingToUndo);
}

#[test]
fn undo_sale_refunds_and_puts_the_player_back_on_the_block() {
    let mut room = Room::new();
    room.ok(&presenter(), Command::Start { seed: Some(1) });
    room.refuses(&presenter(), Command::UndoSale, RejectCode::NothingToUndo);
    room.nominate(3);
    room.bid("MI", 100).unwrap();
    room.bid("CSK", 110).unwrap();
    let before = room.state.clone();
    room.ok(&presenter(), Command::Sold);
    room.ok(&presenter(), Command::UndoSale);
    assert_eq!(room.state, before);
    // The lot goes on from there: a higher bid and a sale to someone else.
    room.bid("MI", 120).unwrap();
    room.ok(&presenter(), Command::Sold);
    assert_eq!(room.state.team(&t("CSK")).unwrap().purse, Money(1000));
    assert_eq!(room.state.team(&t("MI")).unwrap().purse, Money(880));
    // Not while another lot is on the block.
    room.nominate(5);
    room.refuses(&presenter(), Command::UndoSale, RejectCode::LotInProgress);
}

#[test]
fn undo_sale_also_reopens_an_unsold_lot() {
    let mut room = Room::lot(5);
    room.ok(&presenter(), Command::Unsold);
    room.ok(&presenter(), Command::UndoSale);
    assert_eq!(
        room.state.player(PlayerId(5)).unwrap().status,
        PlayerStatus::OnBlock
    );
    room.bid("RCB", 30).unwrap();
}

#[test]
fn reset_lot_returns_the_player_to_the_pool() {
    let mut room = Room::new();
    room.ok(&presenter(), Command::Start { seed: Some(9) });
    let first = room.state.next_in_queue().unwrap();
    room.ok(&presenter(), Command::Next);
    let base = room.state.next_bid().unwrap();
    room.bid("MI", base.0).unwrap();
    room.ok(&presenter(), Command::ResetLot);
    assert!(room.state.lot.is_none());
    assert_eq!(
        room.state.player(first).unwrap().status,
        PlayerStatus::Available
    );
    assert_eq!(room.state.next_in_queue(), Some(first));
}

// ---- admin -------------------------------------------------------------------

#[test]
fn purse_adjustments_are_checked() {
    let mut room = Room::lot(6);
    let adj = |delta: i64, reason: &str| Command::AdjustPurse {
        team: t("MI"),
        delta,
        reason: reason.into(),
    };
    room.refuses(&admin(), adj(0, "nothing"), RejectCode::InvalidAdjustment);
    room.refuses(&admin(), adj(10, "  "), RejectCode::InvalidAdjustment);
    room.refuses(
        &admin(),
        adj(-1001, "too much"),
        RejectCode::InvalidAdjustment,
    );
    room.bid("MI", 300).unwrap();
    room.refuses(
        &admin(),
        adj(-800, "below the lead"),
        RejectCode::InvalidAdjustment,
    );
    room.ok(&admin(), adj(-50, "penalty for a late retention"));
    let mi = room.state.team(&t("MI")).unwrap();
    assert_eq!((mi.purse, mi.adjusted), (Money(950), -50));
}

/// Absurd purse adjustments used to take a purse to u64::MAX; refunding a
/// sale on top of it then overflowed (a panic in the engine in debug, money
/// wrapped to nearly nothing in release). Money now has a ceiling and every
/// sum is checked.
#[test]
fn no_adjustment_or_refund_can_overflow_a_purse() {
    let mut room = Room::lot(6);
    room.bid("MI", 300).unwrap();
    room.ok(&presenter(), Command::Sold);
    let adj = |delta: i64| Command::AdjustPurse {
        team: t("MI"),
        delta,
        reason: "absurd".into(),
    };
    room.refuses(&admin(), adj(i64::MAX), RejectCode::InvalidAdjustment);
    let purse = room.state.team(&t("MI")).unwrap().purse;
    let to_ceiling = i64::try_from(Money::MAX.as_lakh() - purse.as_lakh()).unwrap();
    room.ok(&admin(), adj(to_ceiling));
    room.refuses(&admin(), adj(1), RejectCode::InvalidAdjustment);
    // The refund of the sale lands above the ceiling and is still exact.
    room.ok(&presenter(), Command::UndoSale);
    let mi = room.state.team(&t("MI")).unwrap();
    assert_eq!(mi.purse, Money(Money::MAX.as_lakh() + 300));
    // And the next bid above any amount is checked, not wrapped.
    assert!(room.state.next_bid().is_some());
}

/// Hostile-network #14: names and reasons typed by the admin went raw to
/// every terminal that printed the log. Control characters are refused
/// where they come in.
#[test]
fn control_characters_are_refused_in_names_and_reasons() {
    let mut room = Room::new();
    let evil = player(0, "Evil\u{1b}[2J", "Others", 30, false);
    room.refuses(
        &admin(),
        Command::AddPlayer { player: evil },
        RejectCode::InvalidPlayer,
    );
    let mut bell = player(0, "Quiet Name", "Others", 30, false);
    bell.country = "India\u{7}".into();
    room.refuses(
        &admin(),
        Command::AddPlayer { player: bell },
        RejectCode::InvalidPlayer,
    );
    room.refuses(
        &admin(),
        Command::AdjustPurse {
            team: t("MI"),
            delta: -5,
            reason: "fine\u{1b}]0;owned\u{7}".into(),
        },
        RejectCode::InvalidAdjustment,
    );
}

#[test]
fn players_can_be_added_edited_and_withdrawn_but_not_on_the_block_or_sold() {
    let mut room = Room::new();
    let mut new = player(0, "India Newcomer", "Others", 30, false);
    room.ok(
        &admin(),
        Command::AddPlayer {
            player: new.clone(),
        },
    );
    let id = PlayerId(9);
    assert_eq!(room.state.player(id).unwrap().player.name, "India Newcomer");
    new.set = "No such set".into();
    room.refuses(
        &admin(),
        Command::AddPlayer {
            player: new.clone(),
        },
        RejectCode::InvalidPlayer,
    );
    new.set = "Others".into();
    room.refuses(
        &admin(),
        Command::AddPlayer {
            player: new.clone(),
        },
        RejectCode::InvalidPlayer,
    ); // duplicate name
    let mut edit = room.state.player(id).unwrap().player.clone();
    edit.base = Money(0);
    room.refuses(
        &admin(),
        Command::EditPlayer {
            player: edit.clone(),
        },
        RejectCode::InvalidPlayer,
    );
    edit.base = Money(40);
    room.ok(
        &admin(),
        Command::EditPlayer {
            player: edit.clone(),
        },
    );
    edit.id = PlayerId(99);
    room.refuses(
        &admin(),
        Command::EditPlayer { player: edit },
        RejectCode::UnknownPlayer,
    );
    room.refuses(
        &admin(),
        Command::WithdrawPlayer {
            player: PlayerId(99),
        },
        RejectCode::UnknownPlayer,
    );

    room.ok(&presenter(), Command::Start { seed: Some(1) });
    assert!(room.state.queue.contains(&id));
    room.nominate(1);
    let on_block = room.state.player(PlayerId(1)).unwrap().player.clone();
    room.refuses(
        &admin(),
        Command::EditPlayer { player: on_block },
        RejectCode::PlayerUnavailable,
    );
    room.refuses(
        &admin(),
        Command::WithdrawPlayer {
            player: PlayerId(1),
        },
        RejectCode::PlayerUnavailable,
    );
    room.ok(&admin(), Command::WithdrawPlayer { player: id });
    room.refuses(
        &admin(),
        Command::WithdrawPlayer { player: id },
        RejectCode::PlayerUnavailable,
    );
    room.ok(&presenter(), Command::ResetLot);
    room.refuses(
        &presenter(),
        Command::Nominate { player: id },
        RejectCode::PlayerUnavailable,
    );
    // Added after the start: goes to the end of the queue.
    room.ok(
        &admin(),
        Command::AddPlayer {
            player: player(0, "Late Entry", "Others", 20, false),
        },
    );
    assert_eq!(room.state.queue.last(), Some(&PlayerId(10)));
}

#[test]
fn reset_auction_goes_back_to_the_start_keeping_the_pool() {
    let mut room = Room::new();
    let fresh = room.state.clone();
    room.ok(&presenter(), Command::Start { seed: Some(1) });
    room.sell(1, "MI", 300);
    room.ok(
        &admin(),
        Command::AdjustPurse {
            team: t("CSK"),
            delta: 100,
            reason: "bonus".into(),
        },
    );
    room.nominate(2);
    room.ok(&admin(), Command::ResetAuction);
    assert_eq!(room.state, fresh);
}

// ---- accelerated rounds --------------------------------------------------------

#[test]
fn an_accelerated_round_brings_back_the_unsold_once_the_sets_are_done() {
    let mut room = Room::new();
    room.ok(&presenter(), Command::Start { seed: Some(5) });
    room.ok(&presenter(), Command::Next);
    let unsold = room.state.lot.as_ref().unwrap().player;
    room.ok(&presenter(), Command::Unsold);
    room.refuses(
        &presenter(),
        Command::OpenAccelerated,
        RejectCode::SetsNotDone,
    );
    let mut sold_any = false;
    while room.state.next_in_queue().is_some() {
        room.ok(&presenter(), Command::Next);
        let lot = room.state.lot.as_ref().unwrap().player;
        let base = room.state.player(lot).unwrap().player.base.0;
        if !sold_any && room.bid("RCB", base).is_ok() {
            room.ok(&presenter(), Command::Sold);
            sold_any = true;
        } else {
            room.ok(&presenter(), Command::Unsold);
        }
    }
    room.ok(&presenter(), Command::Nominate { player: unsold });
    room.refuses(
        &presenter(),
        Command::OpenAccelerated,
        RejectCode::LotInProgress,
    );
    room.ok(&presenter(), Command::Unsold);
    match room.ok(&presenter(), Command::OpenAccelerated) {
        Event::AcceleratedRoundOpened { round, players } => {
            assert_eq!(round, 1);
            assert_eq!(players.len(), 7);
            assert_eq!(players[0], unsold);
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(room.state.next_in_queue(), Some(unsold));
    // Nobody buys them again: a second accelerated round follows.
    while room.state.next_in_queue().is_some() {
        room.ok(&presenter(), Command::Next);
        room.ok(&presenter(), Command::Unsold);
    }
    room.ok(&presenter(), Command::OpenAccelerated);
    assert_eq!(room.state.round, 2);
}

#[test]
fn no_accelerated_round_without_unsold_players() {
    let mut room = Room::new();
    for id in 1..=8 {
        room.ok(
            &admin(),
            Command::WithdrawPlayer {
                player: PlayerId(id),
            },
        );
    }
    room.ok(
        &admin(),
        Command::AddPlayer {
            player: player(0, "Only One", "Others", 20, false),
        },
    );
    room.ok(&presenter(), Command::Start { seed: Some(5) });
    room.sell(9, "MI", 20);
    room.refuses(
        &presenter(),
        Command::OpenAccelerated,
        RejectCode::NoUnsoldPlayers,
    );
}

// ---- the bid clock -------------------------------------------------------------

#[test]
fn a_bid_leaves_at_least_the_anti_sniping_time() {
    let mut room = Room::clocked(false, 6);
    let opened = room.now;
    assert_eq!(
        room.state.lot.as_ref().unwrap().timer,
        Some(Timer::Running {
            deadline_ms: opened + 30_000
        })
    );
    room.now += 5_000; // 25 s left: a bid does not shorten it
    room.bid("MI", 20).unwrap();
    assert_eq!(
        room.state.lot.as_ref().unwrap().timer,
        Some(Timer::Running {
            deadline_ms: opened + 30_000
        })
    );
    room.now = opened + 28_000; // 2 s left: a bid extends to 10 s
    room.bid("CSK", 25).unwrap();
    assert_eq!(
        room.state.lot.as_ref().unwrap().timer,
        Some(Timer::Running {
            deadline_ms: room.now + 10_000
        })
    );
}

#[test]
fn pause_freezes_the_clock_and_resume_restarts_it() {
    let mut room = Room::clocked(false, 6);
    room.now += 12_000;
    room.ok(&presenter(), Command::Pause);
    assert_eq!(
        room.state.lot.as_ref().unwrap().timer,
        Some(Timer::Frozen {
            remaining_ms: 18_000
        })
    );
    room.now += 600_000;
    room.ok(&presenter(), Command::Resume);
    assert_eq!(
        room.state.lot.as_ref().unwrap().timer,
        Some(Timer::Running {
            deadline_ms: room.now + 18_000
        })
    );
}

#[test]
fn the_clock_only_ticks_when_due_and_automatic() {
    let mut manual = Room::clocked(false, 6);
    manual.now += 60_000;
    manual.refuses(&system(), Command::Tick, RejectCode::ClockNotDue);

    let mut none = Room::lot(6);
    none.refuses(&system(), Command::Tick, RejectCode::ClockNotDue);

    let mut auto = Room::clocked(true, 6);
    auto.now += 29_999;
    auto.refuses(&system(), Command::Tick, RejectCode::ClockNotDue);
}

#[test]
fn the_automatic_clock_calls_the_stages_and_the_hammer() {
    let mut room = Room::clocked(true, 6);
    room.bid("MI", 20).unwrap();
    room.now += 30_000;
    room.ok(&system(), Command::Tick);
    assert_eq!(room.state.lot.as_ref().unwrap().stage, Stage::GoingOnce);
    room.now += 5_000;
    room.ok(&system(), Command::Tick);
    assert_eq!(room.state.lot.as_ref().unwrap().stage, Stage::GoingTwice);
    room.now += 5_000;
    room.ok(&system(), Command::Tick);
    assert_eq!(
        room.state.closed.last().unwrap().outcome,
        Outcome::Sold {
            team: t("MI"),
            price: Money(20),
            rtm: false,
        }
    );
    // Without a bid the clock ends the lot unsold.
    room.nominate(7);
    for _ in 0..3 {
        room.now += 30_000;
        room.ok(&system(), Command::Tick);
    }
    assert_eq!(
        room.state.player(PlayerId(7)).unwrap().status,
        PlayerStatus::Unsold
    );
}

#[test]
fn every_rejection_code_is_covered_here() {
    // Keeps this file honest: a new code must get a test above.
    let source = include_str!("rules.rs");
    for &code in RejectCode::ALL {
        if code == RejectCode::Unavailable {
            continue; // an engine/storage condition, tested in engine.rs
        }
        let name = format!("RejectCode::{code:?}");
        assert!(source.contains(&name), "no test uses {name}");
    }
}

const HEADER: &str = "id,name,role,country,overseas,capped,base,set,matches,runs,wickets,strike_rate,economy,previous_team\n";

fn import(rows: &[&str]) -> Command {
    Command::ImportPlayers {
        csv: format!("{HEADER}{}", rows.join("\n")),
        file: "late.csv".into(),
    }
}

#[test]
fn import_adds_every_row_or_none_and_names_the_line_and_column() {
    let mut room = Room::new();
    room.ok(&presenter(), Command::Start { seed: Some(1) });
    let good = "20,India Late,bowler,India,false,false,30L,Others,0,0,0,0,0,";
    let cases: [(&[&str], &str); 6] = [
        // Line 3 (the header is line 1) has a set the league does not know.
        (
            &[
                good,
                "21,Bad Set,bowler,India,false,false,30L,Nowhere,0,0,0,0,0,",
            ],
            "late.csv:3: field `set`",
        ),
        (
            &[
                good,
                "21,No Base,bowler,India,false,false,lots,Others,0,0,0,0,0,",
            ],
            "late.csv:3",
        ),
        (
            &[
                good,
                "3,Someone,bowler,India,false,false,30L,Others,0,0,0,0,0,",
            ],
            "late.csv:3: field `id`: id 3 is already in the pool (Charlie)",
        ),
        (
            &[
                good,
                "22,ECHO,bowler,India,false,false,30L,Others,0,0,0,0,0,",
            ],
            "late.csv:3: field `name`: `ECHO` is already in the pool",
        ),
        (
            &[
                good,
                "20,Twice,bowler,India,false,false,30L,Others,0,0,0,0,0,",
            ],
            "late.csv:3: field `id`",
        ),
        (&[], "no players"),
    ];
    for (rows, said) in cases {
        let message = room.refuses(&admin(), import(rows), RejectCode::InvalidPlayer);
        assert!(message.contains(said), "{said:?} not in {message:?}");
        assert!(
            room.state.player(PlayerId(20)).is_none(),
            "a row went in anyway"
        );
    }
    // Only the admin imports.
    for actor in [presenter(), team("MI"), viewer()] {
        room.refuses(&actor, import(&[good]), RejectCode::Forbidden);
    }
    let second = "21,Second Late,batter,Australia,true,true,1.5cr,Others,10,300,0,140,0,MI";
    match room.ok(&admin(), import(&[good, second])) {
        Event::PlayersImported { players } => assert_eq!(players.len(), 2),
        other => panic!("{other:?}"),
    }
    let p = room.state.player(PlayerId(21)).unwrap();
    assert_eq!(p.status, PlayerStatus::Available);
    assert_eq!(p.player.base, Money(150));
    assert_eq!(p.player.previous_team, Some(TeamCode::new("MI")));
    // Started: the new players come up in this round.
    assert!(room.state.queue.ends_with(&[PlayerId(20), PlayerId(21)]));
}

fn ask(team_code: &str, players: &[u32]) -> Command {
    Command::RequestAccelerated {
        team: TeamCode::new(team_code),
        players: players.iter().map(|&p| PlayerId(p)).collect(),
    }
}

#[test]
fn teams_ask_back_unsold_players_and_the_round_brings_back_their_union() {
    let mut room = Room::new();
    room.ok(&presenter(), Command::Start { seed: Some(5) });
    // Player 1 is sold; every other goes unsold.
    room.sell(1, "MI", 200);
    room.refuses(&team("MI"), ask("MI", &[2]), RejectCode::PlayerUnavailable);
    while room.state.next_in_queue().is_some() {
        room.ok(&presenter(), Command::Next);
        room.ok(&presenter(), Command::Unsold);
    }
    // Only unsold players, at most `accelerated_picks` (2 here), no repeats,
    // and only for one's own team.
    room.refuses(&team("MI"), ask("MI", &[1]), RejectCode::PlayerUnavailable);
    room.refuses(&team("MI"), ask("MI", &[2, 3, 4]), RejectCode::TooManyPicks);
    room.refuses(&team("MI"), ask("MI", &[2, 2]), RejectCode::InvalidPlayer);
    room.refuses(&team("MI"), ask("MI", &[99]), RejectCode::UnknownPlayer);
    room.refuses(&team("MI"), ask("CSK", &[2]), RejectCode::WrongTeam);
    room.refuses(&viewer(), ask("MI", &[2]), RejectCode::Forbidden);
    room.ok(&team("MI"), ask("MI", &[5, 3]));
    room.ok(&team("CSK"), ask("CSK", &[3, 8]));
    room.ok(&team("RCB"), ask("RCB", &[6]));
    // RCB changes its mind: an empty list withdraws it.
    room.ok(&presenter(), ask("RCB", &[]));
    assert_eq!(room.state.accelerated_requests.len(), 2);
    match room.ok(&presenter(), Command::OpenAccelerated) {
        Event::AcceleratedRoundOpened { players, .. } => {
            assert_eq!(players, [PlayerId(3), PlayerId(5), PlayerId(8)]);
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(room.state.accelerated_requests.is_empty());
    assert_eq!(room.state.next_in_queue(), Some(PlayerId(3)));
}

// ---- Right to Match ------------------------------------------------------------

/// One card each; Alpha (#1) and Charlie (#3) were CSK's last season.
fn rtm_room() -> Room {
    let mut league = small_league();
    league.rules.rtm_cards = 1;
    for i in [0, 2] {
        league.players[i].previous_team = Some(TeamCode::new("CSK"));
    }
    let mut room = Room::with(league);
    room.ok(&presenter(), Command::Start { seed: Some(1) });
    room
}

fn rtm(code: &str, action: auction_proto::RtmAction) -> Command {
    Command::Rtm {
        team: TeamCode::new(code),
        action,
    }
}

fn final_raise(code: &str, lakh: u64) -> Command {
    Command::RtmRaise {
        team: TeamCode::new(code),
        amount: Money(lakh),
    }
}

#[test]
fn right_to_match_the_holder_matches_the_final_raise_and_keeps_the_player() {
    use auction_proto::RtmAction::*;
    let mut room = rtm_room();
    room.nominate(1);
    room.bid("MI", 200).unwrap();
    match room.ok(&presenter(), Command::Sold) {
        Event::RtmOffered {
            holder,
            winner,
            price,
        } => {
            assert_eq!(
                (holder.as_str(), winner.as_str(), price),
                ("CSK", "MI", Money(200))
            );
        }
        other => panic!("{other:?}"),
    }
    // The hammer has fallen: no more bids or calls.
    room.refuses(
        &team("RCB"),
        Command::Raise {
            team: TeamCode::new("RCB"),
        },
        RejectCode::WrongStage,
    );
    room.refuses(&presenter(), Command::Sold, RejectCode::WrongStage);
    room.refuses(&presenter(), Command::UndoBid, RejectCode::WrongStage);
    // Only the holder decides, and only what the step allows.
    room.refuses(&team("MI"), rtm("MI", UseCard), RejectCode::WrongTeam);
    room.refuses(&team("MI"), rtm("CSK", UseCard), RejectCode::WrongTeam);
    room.refuses(&team("CSK"), rtm("CSK", MatchPrice), RejectCode::WrongStage);
    room.refuses(&team("MI"), final_raise("MI", 250), RejectCode::WrongStage);
    room.ok(&team("CSK"), rtm("CSK", UseCard));
    // The winner's one final raise.
    room.refuses(&team("CSK"), final_raise("CSK", 250), RejectCode::WrongTeam);
    room.refuses(
        &team("MI"),
        final_raise("MI", 150),
        RejectCode::BelowMinimum,
    );
    room.refuses(
        &team("MI"),
        final_raise("MI", 5_000),
        RejectCode::OverMaxBid,
    );
    room.ok(&team("MI"), final_raise("MI", 250));
    match room.ok(&team("CSK"), rtm("CSK", MatchPrice)) {
        Event::PlayerSold {
            team, price, rtm, ..
        } => {
            assert_eq!((team.as_str(), price, rtm), ("CSK", Money(250), true));
        }
        other => panic!("{other:?}"),
    }
    let csk = room.state.team(&TeamCode::new("CSK")).unwrap();
    assert_eq!(
        (csk.purse, csk.rtm_left, csk.squad.as_slice()),
        (Money(750), 0, &[PlayerId(1)][..])
    );
    assert_eq!(
        room.state.team(&TeamCode::new("MI")).unwrap().purse,
        Money(1000)
    );
    // Undoing the sale gives the card back and reopens the lot for bidding.
    room.ok(&presenter(), Command::UndoSale);
    let csk = room.state.team(&TeamCode::new("CSK")).unwrap();
    assert_eq!((csk.purse, csk.rtm_left), (Money(1000), 1));
    assert!(room.state.lot.as_ref().unwrap().rtm.is_none());
    room.ok(&presenter(), Command::Sold);
    room.ok(&team("CSK"), rtm("CSK", UseCard));
    room.ok(&team("MI"), final_raise("MI", 200));
    room.ok(&team("CSK"), rtm("CSK", MatchPrice));
    // The card is spent: Charlie, also CSK's, goes straight to the winner.
    room.nominate(3);
    room.bid("MI", 100).unwrap();
    assert!(matches!(
        room.ok(&presenter(), Command::Sold),
        Event::PlayerSold { rtm: false, .. }
    ));
}

#[test]
fn right_to_match_declined_leaves_the_player_with_the_winner() {
    use auction_proto::RtmAction::*;
    let mut room = rtm_room();
    // Declined when offered: sold to the winner at the hammer price.
    room.nominate(1);
    room.bid("MI", 200).unwrap();
    room.ok(&presenter(), Command::Sold);
    match room.ok(&team("CSK"), rtm("CSK", Decline)) {
        Event::PlayerSold {
            team, price, rtm, ..
        } => {
            assert_eq!((team.as_str(), price, rtm), ("MI", Money(200), false));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(room.state.team(&TeamCode::new("CSK")).unwrap().rtm_left, 1);
    // Used, then not matched: the winner keeps the player at its final price.
    room.nominate(3);
    room.bid("RCB", 100).unwrap();
    room.ok(&presenter(), Command::Sold);
    room.ok(&team("CSK"), rtm("CSK", UseCard));
    room.ok(&team("RCB"), final_raise("RCB", 140));
    match room.ok(&presenter(), rtm("CSK", Decline)) {
        Event::PlayerSold {
            team, price, rtm, ..
        } => {
            assert_eq!((team.as_str(), price, rtm), ("RCB", Money(140), false));
        }
        other => panic!("{other:?}"),
    }
    // No offer when the previous team wins it itself.
    let mut room = rtm_room();
    room.nominate(1);
    room.bid("CSK", 200).unwrap();
    assert!(matches!(
        room.ok(&presenter(), Command::Sold),
        Event::PlayerSold { .. }
    ));
}

#[test]
fn a_withdrawn_player_can_be_brought_back_by_the_admin_only() {
    let mut room = Room::new();
    room.ok(
        &admin(),
        Command::WithdrawPlayer {
            player: PlayerId(4),
        },
    );
    room.refuses(
        &presenter(),
        Command::RestorePlayer {
            player: PlayerId(4),
        },
        RejectCode::Forbidden,
    );
    room.ok(
        &admin(),
        Command::RestorePlayer {
            player: PlayerId(4),
        },
    );
    assert_eq!(
        room.state.player(PlayerId(4)).unwrap().status,
        PlayerStatus::Available
    );
    room.refuses(
        &admin(),
        Command::RestorePlayer {
            player: PlayerId(4),
        },
        RejectCode::PlayerUnavailable,
    );
    room.refuses(
        &admin(),
        Command::RestorePlayer {
            player: PlayerId(99),
        },
        RejectCode::UnknownPlayer,
    );
}
