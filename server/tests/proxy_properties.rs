//! Proxy bids under random mixes of ceilings, live bids, undo, pause, clock
//! ticks and Right to Match: the invariants hold after every step, no proxy
//! bid passes its ceiling or the team's maximum bid, nothing is left
//! unanswered, replaying the log gives the live state, and the real engine
//! reaches the same state however the commands are batched.

mod common_league;

use std::sync::Arc;

use auction_proto::{
    Actor, ClockRules, Command, Event, Money, Phase, PlayerId, RtmAction, State, TeamCode,
};
use auction_server::engine::proxy::{self, Ceilings};
use auction_server::engine::step::{set_ceiling, step};
use auction_server::engine::{EngineConfig, spawn};
use auction_server::store::Store;
use common_league::*;
use proptest::prelude::*;

const TEAMS: [&str; 3] = ["MI", "CSK", "RCB"];

#[derive(Clone, Debug)]
enum Op {
    Next,
    Nominate(u32),
    /// A live bid: the next valid amount plus `extra` steps of 5 L.
    Bid {
        team: usize,
        extra: u8,
    },
    /// A ceiling `extra` × 10 L above the next valid bid (or the base
    /// price), on the player on the block (`None`) or another.
    Ceiling {
        team: usize,
        player: Option<u32>,
        extra: u16,
    },
    Cancel {
        team: usize,
    },
    UndoBid,
    Pause,
    Resume,
    /// `ms` pass, then the clock ticks.
    Tick(u64),
    Once,
    Twice,
    Sold,
    Unsold,
    Rtm {
        team: usize,
        action: u8,
    },
    Adjust {
        team: usize,
        delta: i64,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => Just(Op::Next),
        1 => (1u32..9).prop_map(Op::Nominate),
        6 => (0usize..3, 0u8..4).prop_map(|(team, extra)| Op::Bid { team, extra }),
        6 => (0usize..3, prop::option::weighted(0.7, Just(0u32)).prop_flat_map(|p| match p {
                Some(_) => Just(None).boxed(),
                None => (1u32..9).prop_map(Some).boxed(),
            }), 0u16..40)
            .prop_map(|(team, player, extra)| Op::Ceiling { team, player, extra }),
        1 => (0usize..3).prop_map(|team| Op::Cancel { team }),
        2 => Just(Op::UndoBid),
        1 => Just(Op::Pause),
        1 => Just(Op::Resume),
        3 => (0u64..40_000).prop_map(Op::Tick),
        1 => Just(Op::Once),
        1 => Just(Op::Twice),
        3 => Just(Op::Sold),
        1 => Just(Op::Unsold),
        2 => (0usize..3, 0u8..3).prop_map(|(team, action)| Op::Rtm { team, action }),
        1 => (0usize..3, -600i64..200).prop_map(|(team, delta)| Op::Adjust { team, delta }),
    ]
}

/// The small league with a clock, one Right to Match card a team, and
/// previous teams on every player.
fn league() -> auction_proto::League {
    let mut league = small_league();
    league.rules.rtm_cards = 1;
    league.rules.clock = Some(ClockRules {
        lot_seconds: 20,
        min_seconds_after_bid: 5,
        stage_seconds: 5,
        auto_advance: true,
    });
    for (p, team) in league.players.iter_mut().zip(TEAMS.iter().cycle()) {
        p.previous_team = Some(TeamCode::new(team));
    }
    league
}

fn code(i: usize) -> TeamCode {
    TeamCode::new(TEAMS[i])
}

/// What an op asks: a command, or a ceiling change.
#[allow(clippy::large_enum_variant, reason = "a test's short list")]
enum Ask {
    Command(Actor, Command),
    Ceiling(TeamCode, PlayerId, Option<Money>),
}

fn ask(state: &State, op: &Op) -> Ask {
    let on_block = state.lot.as_ref().map_or(PlayerId(1), |l| l.player);
    let cmd = |c| Ask::Command(presenter(), c);
    match op.clone() {
        Op::Next => cmd(Command::Next),
        Op::Nominate(id) => cmd(Command::Nominate {
            player: PlayerId(id),
        }),
        Op::Bid { team, extra } => {
            let next = state.next_bid().unwrap_or(Money(20)).0;
            let amount = Money(next + u64::from(extra) * 5);
            Ask::Command(
                team_actor(team),
                Command::Bid {
                    team: code(team),
                    amount,
                },
            )
        }
        Op::Ceiling {
            team,
            player,
            extra,
        } => {
            let player = player.map_or(on_block, PlayerId);
            let from = match state.lot.as_ref().filter(|l| l.player == player) {
                Some(_) => state.next_bid(),
                None => state.player(player).map(|p| p.player.base),
            };
            let amount = Money(from.unwrap_or(Money(20)).0 + u64::from(extra) * 10);
            Ask::Ceiling(code(team), player, Some(amount))
        }
        Op::Cancel { team } => Ask::Ceiling(code(team), on_block, None),
        Op::UndoBid => cmd(Command::UndoBid),
        Op::Pause => cmd(Command::Pause),
        Op::Resume => cmd(Command::Resume),
        Op::Tick(_) => Ask::Command(Actor::system(), Command::Tick),
        Op::Once => cmd(Command::GoingOnce),
        Op::Twice => cmd(Command::GoingTwice),
        Op::Sold => cmd(Command::Sold),
        Op::Unsold => cmd(Command::Unsold),
        Op::Rtm { team, action } => {
            let action = [
                RtmAction::UseCard,
                RtmAction::Decline,
                RtmAction::MatchPrice,
            ][action as usize];
            Ask::Command(
                team_actor(team),
                Command::Rtm {
                    team: code(team),
                    action,
                },
            )
        }
        Op::Adjust { team, delta } => Ask::Command(
            admin(),
            Command::AdjustPurse {
                team: code(team),
                delta,
                reason: "test".into(),
            },
        ),
    }
}

fn team_actor(i: usize) -> Actor {
    team(TEAMS[i])
}

/// Checks every proxy bid of one step against the state and the ceilings
/// as they were before it.
fn check_auto(before: &State, ceilings: &Ceilings, auto: &[Event]) -> Result<(), TestCaseError> {
    let mut state = before.clone();
    for e in auto {
        let Event::BidPlaced {
            team,
            amount,
            auto: true,
            ..
        } = e
        else {
            return Err(TestCaseError::fail(format!("not a proxy bid: {e:?}")));
        };
        let lot = state.lot.as_ref().expect("a proxy bid on an open lot");
        prop_assert_eq!(state.phase, Phase::Running, "a proxy bid while paused");
        prop_assert!(lot.rtm.is_none(), "a proxy bid past the hammer");
        let ceiling = ceilings.get(lot.player, team).map(|c| c.amount);
        prop_assert!(
            ceiling.is_some_and(|c| *amount <= c),
            "{team} bid {amount} past its ceiling {ceiling:?}"
        );
        let max = state.max_bid(state.team(team).unwrap());
        prop_assert!(*amount <= max, "{team} bid {amount} past its maximum {max}");
        state.apply(e);
    }
    Ok(())
}

/// Runs the ops through the engine's pure step; returns the log, the final
/// state and ceilings.
fn run(ops: &[Op]) -> Result<(Vec<Event>, State, Ceilings), TestCaseError> {
    let league = league();
    let start_total = league.rules.purse.0 * league.teams.len() as u64;
    let mut state = State::new(&league);
    let mut ceilings = Ceilings::default();
    let mut log = Vec::new();
    let mut now = 1_000_000;
    let start = Command::Start { seed: Some(7) };
    log.push(
        step(&mut state, &mut ceilings, &start, &presenter(), now)
            .unwrap()
            .event,
    );
    for op in ops {
        now += match op {
            Op::Tick(ms) => *ms,
            _ => 100,
        };
        let (before, book) = (state.clone(), ceilings.clone());
        let (events, undo) = match ask(&state, op) {
            Ask::Command(actor, cmd) => match step(&mut state, &mut ceilings, &cmd, &actor, now) {
                Ok(s) => {
                    check_auto(
                        &{
                            let mut mid = before.clone();
                            mid.apply(&s.event);
                            mid
                        },
                        &book,
                        &s.auto,
                    )?;
                    let undo = matches!(s.event, Event::BidUndone { .. });
                    let mut events = vec![s.event];
                    events.extend(s.auto);
                    (events, undo)
                }
                Err(_) => {
                    prop_assert_eq!(&state, &before, "a refused command changed the state");
                    (Vec::new(), true)
                }
            },
            Ask::Ceiling(team, player, amount) => {
                match set_ceiling(&mut state, &mut ceilings, &team, player, amount, now) {
                    Ok(auto) => {
                        let mut after_set = book.clone();
                        after_set.set(player, &team, amount);
                        check_auto(&before, &after_set, &auto)?;
                        (auto, false)
                    }
                    Err(_) => {
                        prop_assert_eq!(&state, &before);
                        prop_assert_eq!(
                            ceilings.all(),
                            book.all(),
                            "a refused ceiling changed the ceilings"
                        );
                        (Vec::new(), true)
                    }
                }
            }
        };
        if let Err(broken) = auction_server::engine::invariants::check(&state, start_total) {
            return Err(TestCaseError::fail(broken));
        }
        // Nothing is left unanswered (an undo is not answered, by design).
        if !undo {
            prop_assert_eq!(
                proxy::answer(&state, &ceilings, now),
                [None, None],
                "a ceiling left unanswered"
            );
        }
        // A ceiling ends with its lot.
        for (player, _) in ceilings.all() {
            let open = matches!(
                state.player(player).map(|p| &p.status),
                Some(auction_proto::PlayerStatus::Available | auction_proto::PlayerStatus::OnBlock)
            );
            prop_assert!(open, "a ceiling outlived its lot");
        }
        log.extend(events);
    }
    Ok((log, state, ceilings))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn proxy_bids_keep_every_invariant(ops in prop::collection::vec(op(), 1..200)) {
        let (log, state, _) = run(&ops)?;
        let mut replayed = State::new(&league());
        for e in &log {
            replayed.apply(e);
        }
        prop_assert_eq!(&replayed, &state, "replaying the log differs from the live state");
    }
}

/// What the real engine ends with after `ops`, sent one at a time
/// (`pipelined = false`) or all at once into the same batches; and the
/// state and ceilings a restart recovers from its store.
async fn through_engine(
    ops: &[Op],
    pipelined: bool,
) -> (
    (State, Vec<(PlayerId, proxy::Ceiling)>),
    (State, Vec<(PlayerId, proxy::Ceiling)>),
) {
    let dir = tempfile::tempdir().unwrap();
    let config = || EngineConfig {
        clock: Arc::new(|| 1_000_000),
        ..EngineConfig::default()
    };
    let (engine, task) = spawn(Store::open(dir.path()).unwrap(), &league(), config()).unwrap();
    engine
        .submit(presenter(), None, Command::Start { seed: Some(7) })
        .await
        .unwrap();
    // The ops are chosen against the state as the pure run sees it, so
    // both batchings get the very same requests.
    let mut shadow = State::new(&league());
    let mut book = Ceilings::default();
    step(
        &mut shadow,
        &mut book,
        &Command::Start { seed: Some(7) },
        &presenter(),
        1_000_000,
    )
    .unwrap();
    let mut asks = Vec::new();
    for op in ops.iter().filter(|o| !matches!(o, Op::Tick(_))) {
        let a = ask(&shadow, op);
        match &a {
            Ask::Command(actor, cmd) => {
                let _ = step(&mut shadow, &mut book, cmd, actor, 1_000_000);
            }
            Ask::Ceiling(t, p, amount) => {
                let _ = set_ceiling(&mut shadow, &mut book, t, *p, *amount, 1_000_000);
            }
        }
        asks.push(a);
    }
    let send = |a: Ask| {
        let engine = engine.clone();
        async move {
            match a {
                Ask::Command(actor, cmd) => {
                    let _ = engine.submit(actor, None, cmd).await;
                }
                Ask::Ceiling(t, p, amount) => {
                    let _ = engine.set_ceiling(t, p, amount).await;
                }
            }
        }
    };
    if pipelined {
        futures_util::future::join_all(asks.into_iter().map(send)).await;
    } else {
        for a in asks {
            send(a).await;
        }
    }
    let live = (
        engine.snapshot().await.unwrap().state,
        engine.book().borrow().ceilings.all(),
    );
    assert_eq!(live.0, shadow, "the engine differs from the pure step");
    drop(engine);
    task.await.unwrap().unwrap();
    // A clean stop pauses a running lot clock (and nothing else changes).
    let mut live = live;
    if let Some(pause) = auction_server::engine::rules::downtime_pause(&live.0, 1_000_000) {
        live.0.apply(&pause);
    }
    let (again, task) = spawn(Store::open(dir.path()).unwrap(), &league(), config()).unwrap();
    let recovered = (
        again.snapshot().await.unwrap().state,
        again.book().borrow().ceilings.all(),
    );
    drop(again);
    task.await.unwrap().unwrap();
    (live, recovered)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn batching_does_not_change_the_outcome_and_a_restart_recovers_it(ops in prop::collection::vec(op(), 1..120)) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let (one_by_one, recovered) = rt.block_on(through_engine(&ops, false));
        let (batched, _) = rt.block_on(through_engine(&ops, true));
        prop_assert_eq!(&one_by_one, &batched, "batching changed the outcome");
        prop_assert_eq!(&one_by_one, &recovered, "a restart did not recover the state and the ceilings");
    }
}
