//! `auction-bench engine`: validate + apply per second on one core, in
//! memory, three ways back to back on the same command stream shape:
//!
//! - `floor`: `decide` + `State::apply` alone, as the engine ran before
//!   proxy bids;
//! - `step`: the engine's `step` (the same, plus the proxy-bid check) with
//!   no ceilings;
//! - `ceilings`: `step` with two teams holding ceilings on every lot, so
//!   that each lot opens with proxy bids and live raises are answered.

use std::time::{Duration, Instant};

use auction_proto::{Access, Actor, Command, League, Money, PlayerId, State, TeamCode};
use auction_server::engine::decide;
use auction_server::engine::proxy::Ceilings;
use auction_server::engine::step::{set_ceiling, step};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Floor,
    Step,
    Ceilings,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::Floor => "floor",
            Mode::Step => "step",
            Mode::Ceilings => "ceilings",
        }
    }
}

pub fn team_actor(code: &TeamCode) -> Actor {
    Actor::new(code.account(), Access::Team { team: code.clone() })
}

/// One thing the engine is asked.
#[allow(
    clippy::large_enum_variant,
    reason = "commands stay unboxed in the timed loop, as on the engine's own path"
)]
enum Op {
    Command(Actor, Command),
    Ceiling(TeamCode, PlayerId, Money),
}

/// A realistic stream: nominate, then teams outbid each other, then the
/// hammer; over and over, resetting when the pool or a squad is full. With
/// ceilings, the first two teams leave one on every lot as it opens.
struct Script {
    teams: Vec<TeamCode>,
    presenter: Actor,
    step: u64,
    ceilings: bool,
    /// The lot whose ceilings are set (or being set).
    ceilinged: Option<(PlayerId, usize)>,
}

impl Script {
    fn next(&mut self, state: &State) -> Op {
        self.step += 1;
        if state.phase == auction_proto::Phase::NotStarted {
            return Op::Command(
                self.presenter.clone(),
                Command::Start {
                    seed: Some(self.step),
                },
            );
        }
        let Some(lot) = &state.lot else {
            // Start again when the pool runs out or a squad is full (the
            // pool has more players than the squads have places).
            let full = state
                .teams
                .iter()
                .any(|t| t.squad.len() >= state.rules.squad_max as usize);
            if full || state.next_in_queue().is_none() {
                return Op::Command(Actor::new("admin", Access::Admin), Command::ResetAuction);
            }
            return Op::Command(self.presenter.clone(), Command::Next);
        };
        if self.ceilings {
            let set = match self.ceilinged {
                Some((p, n)) if p == lot.player => n,
                _ => 0,
            };
            if set < 2 {
                self.ceilinged = Some((lot.player, set + 1));
                let base = state
                    .player(lot.player)
                    .map_or(Money(20), |p| p.player.base);
                // Four and three times the base: the two meet at once.
                return Op::Ceiling(
                    self.teams[set].clone(),
                    lot.player,
                    Money(base.0 * (4 - set as u64)),
                );
            }
        }
        // Twelve bids, or nobody left who may bid (squad or overseas places
        // filled): the hammer.
        let may_raise = |t: &TeamCode| {
            let raise = Command::Raise { team: t.clone() };
            decide(state, &raise, &team_actor(t), 0).is_ok()
        };
        if lot.bids.len() >= 12 || !self.teams.iter().any(may_raise) {
            let hammer = match lot.bids.is_empty() {
                true => Command::Unsold,
                false => Command::Sold,
            };
            return Op::Command(self.presenter.clone(), hammer);
        }
        // The next team in turn that is not leading (a proxy bid may have
        // put any team in the lead).
        let n = self.teams.len();
        let leader = state.leader().map(|b| &b.team);
        let team = (0..n)
            .map(|i| &self.teams[(self.step as usize + i) % n])
            .find(|t| Some(*t) != leader)
            .expect("two teams or more");
        Op::Command(team_actor(team), Command::Raise { team: team.clone() })
    }
}

/// Runs `op` in `mode`; the events it applied (0: refused).
fn run(mode: Mode, state: &mut State, ceilings: &mut Ceilings, op: &Op, now: u64) -> u64 {
    match (mode, op) {
        (Mode::Floor, Op::Command(actor, cmd)) => match decide(state, cmd, actor, now) {
            Ok(event) => {
                state.apply(&event);
                1
            }
            Err(_) => 0,
        },
        (_, Op::Command(actor, cmd)) => {
            step(state, ceilings, cmd, actor, now).map_or(0, |s| 1 + s.auto.len() as u64)
        }
        (_, Op::Ceiling(team, player, amount)) => {
            set_ceiling(state, ceilings, team, *player, Some(*amount), now)
                .map_or(0, |auto| auto.len() as u64)
        }
    }
}

pub struct Figure {
    pub mode: Mode,
    pub commands: u64,
    /// Events decided and applied (proxy bids included).
    pub events: u64,
    pub seconds: f64,
}

impl Figure {
    /// Commands (and ceiling changes) per second.
    pub fn per_second(&self) -> f64 {
        self.commands as f64 / self.seconds
    }

    /// Events validated and applied per second.
    pub fn events_per_second(&self) -> f64 {
        self.events as f64 / self.seconds
    }
}

/// `commands` operations in `mode`; only running them is timed (they are
/// generated beforehand, in batches, against a shadow state).
pub fn measure(mode: Mode, commands: u64, league: &League) -> Figure {
    let mut state = State::new(league);
    let mut ceilings = Ceilings::default();
    let mut script = Script {
        teams: state.teams.iter().map(|t| t.team.code.clone()).collect(),
        presenter: Actor::new("presenter", Access::Presenter),
        step: 0,
        ceilings: mode == Mode::Ceilings,
        ceilinged: None,
    };
    let batch = 10_000;
    let (mut done, mut events, mut timed) = (0, 0u64, Duration::ZERO);
    let mut now = 1_800_000_000_000u64;
    while done < commands {
        let (mut shadow, mut shadow_book) = (state.clone(), ceilings.clone());
        let mut at = now;
        let ops: Vec<Op> = (0..batch)
            .map(|_| {
                at += 1;
                let op = script.next(&shadow);
                run(mode, &mut shadow, &mut shadow_book, &op, at);
                shadow_book.take_changes();
                op
            })
            .collect();
        let t = Instant::now();
        for op in &ops {
            now += 1;
            events += run(mode, &mut state, &mut ceilings, op, now);
            // The engine hands the changes to its store after every step.
            ceilings.take_changes();
        }
        timed += t.elapsed();
        done += batch;
    }
    Figure {
        mode,
        commands: done,
        events,
        seconds: timed.as_secs_f64(),
    }
}
