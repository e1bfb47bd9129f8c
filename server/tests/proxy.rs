//! Proxy bids: one test per worked example in docs/protocol.md ("Proxy
//! bids"), run through the engine's own step (decide, apply, then the bids
//! the ceilings make due) on the small league: ladder +20 L from 2 Cr.

#[path = "common_league/mod.rs"]
mod common_league;

use auction_proto::{
    Access, Actor, Command, Event, Money, PlayerId, ProxyBids, RejectCode, State, TeamCode,
};
use auction_server::engine::proxy::Ceilings;
use auction_server::engine::step::{set_ceiling, step};
use common_league::small_league;

const ALPHA: PlayerId = PlayerId(1); // base 2 Cr

fn l(n: u64) -> Money {
    Money::lakh(n)
}

fn t(code: &str) -> TeamCode {
    TeamCode::new(code)
}

struct Room {
    state: State,
    ceilings: Ceilings,
    now: u64,
}

/// Bids as (team, lakh, automatic).
type Bids = Vec<(String, u64, bool)>;

fn bids(events: &[Event]) -> Bids {
    events
        .iter()
        .filter_map(|e| match e {
            Event::BidPlaced {
                team, amount, auto, ..
            } => Some((team.to_string(), amount.as_lakh(), *auto)),
            _ => None,
        })
        .collect()
}

impl Room {
    fn new() -> Room {
        Room::with(small_league())
    }

    fn with(league: auction_proto::League) -> Room {
        let mut room = Room {
            state: State::new(&league),
            ceilings: Ceilings::default(),
            now: 1_000,
        };
        room.run(
            &Actor::new("p", Access::Presenter),
            Command::Start { seed: Some(1) },
        )
        .unwrap();
        room
    }

    fn run(&mut self, actor: &Actor, command: Command) -> Result<Bids, RejectCode> {
        self.now += 10;
        let s = step(
            &mut self.state,
            &mut self.ceilings,
            &command,
            actor,
            self.now,
        )
        .map_err(|r| r.code)?;
        let mut events = vec![s.event];
        events.extend(s.auto);
        Ok(bids(&events))
    }

    fn presenter(&mut self, command: Command) -> Bids {
        self.run(&Actor::new("p", Access::Presenter), command)
            .unwrap()
    }

    fn open(&mut self, player: PlayerId) -> Bids {
        self.presenter(Command::Nominate { player })
    }

    fn bid(&mut self, team: &str, lakh: u64) -> Bids {
        let actor = Actor::new(team, Access::Team { team: t(team) });
        self.run(
            &actor,
            Command::Bid {
                team: t(team),
                amount: l(lakh),
            },
        )
        .unwrap()
    }

    fn ceiling(&mut self, team: &str, lakh: u64) -> Result<Bids, RejectCode> {
        self.ceiling_on(team, ALPHA, Some(l(lakh)))
    }

    fn ceiling_on(
        &mut self,
        team: &str,
        player: PlayerId,
        amount: Option<Money>,
    ) -> Result<Bids, RejectCode> {
        self.now += 10;
        set_ceiling(
            &mut self.state,
            &mut self.ceilings,
            &t(team),
            player,
            amount,
            self.now,
        )
        .map(|events| bids(&events))
        .map_err(|r| r.code)
    }

    fn leader(&self) -> (String, u64) {
        let b = self.state.leader().expect("a leader");
        (b.team.to_string(), b.amount.as_lakh())
    }
}

fn auto(team: &str, lakh: u64) -> (String, u64, bool) {
    (team.into(), lakh, true)
}

fn live(team: &str, lakh: u64) -> (String, u64, bool) {
    (team.into(), lakh, false)
}

#[test]
fn example_1_a_ceiling_set_ahead_opens_the_bidding_at_the_base_price() {
    let mut room = Room::new();
    assert_eq!(
        room.ceiling("MI", 300),
        Ok(vec![]),
        "no lot yet: nothing to bid on"
    );
    assert_eq!(room.open(ALPHA), vec![auto("MI", 200)]);
}

#[test]
fn example_2_a_live_bid_is_answered_at_once_up_to_the_ceiling() {
    let mut room = Room::new();
    room.open(ALPHA);
    room.ceiling("MI", 300).unwrap();
    assert_eq!(room.leader(), ("MI".into(), 200));
    assert_eq!(
        room.bid("CSK", 220),
        vec![live("CSK", 220), auto("MI", 240)]
    );
    assert_eq!(
        room.bid("CSK", 300),
        vec![live("CSK", 300)],
        "3.2 Cr is past MI's ceiling"
    );
    assert_eq!(room.leader(), ("CSK".into(), 300));
}

#[test]
fn example_3_two_ceilings_resolve_in_one_step_at_the_step_above_the_lower() {
    let mut room = Room::new();
    room.open(ALPHA);
    room.ceiling("MI", 400).unwrap();
    assert_eq!(
        room.ceiling("CSK", 350),
        Ok(vec![auto("CSK", 340), auto("MI", 360)])
    );
    assert_eq!(room.leader(), ("MI".into(), 360));
}

#[test]
fn example_4_the_lower_ceiling_itself_when_that_is_all_the_ladder_allows() {
    let mut room = Room::new();
    room.open(ALPHA);
    room.ceiling("CSK", 345).unwrap();
    // MI's 3.5 Cr tops CSK's 3.45, but 3.6 Cr (the step above CSK's last
    // rung, 3.4) is past it: MI has him at 3.4 Cr.
    assert_eq!(room.ceiling("MI", 350), Ok(vec![auto("MI", 340)]));
    assert_eq!(room.leader(), ("MI".into(), 340));
}

#[test]
fn example_5_equal_ceilings_go_to_the_one_set_first() {
    let mut room = Room::new();
    room.ceiling("RCB", 300).unwrap();
    room.ceiling("CSK", 300).unwrap();
    assert_eq!(room.open(ALPHA), vec![auto("RCB", 300)]);
    // And a leader whose ceiling came first keeps the lot at its bid
    // against a later equal one (nobody may outbid himself).
    let mut room = Room::new();
    room.open(ALPHA);
    room.ceiling("MI", 220).unwrap();
    assert_eq!(room.leader(), ("MI".into(), 200));
    assert_eq!(room.ceiling("CSK", 220), Ok(vec![]));
    assert_eq!(room.leader(), ("MI".into(), 200));
}

/// A `set_ceiling` sent again (a retry after a dropped connection: its id
/// is not remembered) changes nothing, so it keeps its place among equal
/// ceilings; only a changed amount counts as set anew.
#[test]
fn setting_the_same_ceiling_again_keeps_its_place() {
    let mut room = Room::new();
    room.ceiling("RCB", 300).unwrap();
    room.ceiling("CSK", 300).unwrap();
    room.ceiling("RCB", 300).unwrap();
    assert_eq!(room.open(ALPHA), vec![auto("RCB", 300)]);
    let mut room = Room::new();
    room.ceiling("RCB", 300).unwrap();
    room.ceiling("CSK", 300).unwrap();
    room.ceiling("RCB", 320).unwrap();
    room.ceiling("RCB", 300).unwrap();
    assert_eq!(room.open(ALPHA), vec![auto("CSK", 300)]);
}

#[test]
fn example_6_a_leader_defends_with_its_own_ceiling() {
    let mut room = Room::new();
    room.open(ALPHA);
    room.bid("MI", 220);
    room.ceiling("MI", 400).unwrap();
    assert_eq!(
        room.ceiling("CSK", 300),
        Ok(vec![auto("CSK", 300), auto("MI", 320)])
    );
    assert_eq!(
        room.bid("RCB", 500),
        vec![live("RCB", 500)],
        "past every ceiling"
    );
}

#[test]
fn example_7_a_ceiling_never_passes_the_teams_maximum_bid() {
    let mut room = Room::new();
    let admin = Actor::new("admin", Access::Admin);
    let cut = Command::AdjustPurse {
        team: t("MI"),
        delta: -700,
        reason: "test".into(),
    };
    room.run(&admin, cut).unwrap();
    // MI: purse 3 Cr, needs one more player after this (cheapest base
    // 20 L): it may bid at most 2.8 Cr.
    room.open(ALPHA);
    room.ceiling("MI", 900).unwrap();
    assert_eq!(
        room.bid("CSK", 260),
        vec![live("CSK", 260), auto("MI", 280)]
    );
    assert_eq!(room.bid("CSK", 300), vec![live("CSK", 300)]);
}

#[test]
fn example_8_no_proxy_bid_while_paused_and_the_resume_places_it() {
    let mut room = Room::new();
    room.open(ALPHA);
    room.presenter(Command::Pause);
    assert_eq!(room.ceiling("MI", 300), Ok(vec![]));
    assert_eq!(room.presenter(Command::Resume), vec![auto("MI", 200)]);
}

#[test]
fn example_9_an_undo_is_not_answered_and_the_next_bid_is() {
    let mut room = Room::new();
    room.open(ALPHA);
    room.ceiling("MI", 300).unwrap();
    assert_eq!(
        room.bid("CSK", 220),
        vec![live("CSK", 220), auto("MI", 240)]
    );
    assert_eq!(room.presenter(Command::UndoBid), vec![]);
    assert_eq!(room.leader(), ("CSK".into(), 220));
    assert_eq!(
        room.bid("RCB", 240),
        vec![live("RCB", 240), auto("MI", 260)]
    );
}

#[test]
fn example_10_a_ceiling_ends_with_its_lot() {
    let mut room = Room::new();
    room.open(ALPHA);
    room.ceiling("MI", 300).unwrap();
    room.presenter(Command::Sold);
    assert!(room.ceilings.is_empty());
    assert_eq!(
        room.ceiling("MI", 300),
        Err(RejectCode::PlayerUnavailable),
        "sold: no more ceilings on him"
    );
    room.presenter(Command::UndoSale);
    assert_eq!(
        room.leader(),
        ("MI".into(), 200),
        "the sale is undone, the ceiling is not back"
    );
    assert!(room.ceilings.is_empty());
}

#[test]
fn a_cancelled_ceiling_bids_no_more() {
    let mut room = Room::new();
    room.open(ALPHA);
    room.ceiling("MI", 300).unwrap();
    assert_eq!(room.ceiling_on("MI", ALPHA, None), Ok(vec![]));
    assert_eq!(room.bid("CSK", 220), vec![live("CSK", 220)]);
}

#[test]
fn bad_ceilings_are_refused_and_change_nothing() {
    let mut room = Room::new();
    room.open(ALPHA);
    room.bid("CSK", 260);
    assert_eq!(room.ceiling("MI", 150), Err(RejectCode::BelowBase));
    assert_eq!(room.ceiling("MI", 260), Err(RejectCode::BelowMinimum));
    assert_eq!(
        room.ceiling_on("XX", ALPHA, Some(l(300))),
        Err(RejectCode::UnknownTeam)
    );
    assert_eq!(
        room.ceiling_on("MI", PlayerId(99), Some(l(300))),
        Err(RejectCode::UnknownPlayer)
    );
    assert!(room.ceilings.is_empty());
    // The leader's own ceiling may equal its bid, not go below it.
    room.bid("MI", 280);
    assert_eq!(room.ceiling("MI", 260), Err(RejectCode::BelowMinimum));
    assert_eq!(room.ceiling("MI", 280), Ok(vec![]));
    let mut league = small_league();
    league.rules.proxy_bids = ProxyBids::Off;
    let mut off = Room::with(league);
    assert_eq!(off.ceiling("MI", 300), Err(RejectCode::Forbidden));
}
