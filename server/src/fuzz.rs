//! Entry points for fuzzing: the fuzz targets in `fuzz/` (cargo-fuzz) and
//! the proptest runs of the same functions in CI. Each takes arbitrary bytes
//! and panics only when something is wrong.

use std::sync::OnceLock;

use auction_proto::msg::{ClientMsg, ServerMsg};
use auction_proto::{Access, Actor, Command, Event, League, Money, PlayerId, PlayerStatus, State};

use crate::engine::proxy::Ceilings;
use crate::engine::step::{set_ceiling, step};
use crate::engine::{decide, invariants};
use crate::ssh::input::Decoder;

/// The WebSocket decoder: whatever a client sends, decoding never panics,
/// and what decodes writes back to the same message.
pub fn protocol(data: &[u8]) {
    if let Ok(msg) = serde_json::from_slice::<ClientMsg>(data) {
        let text = serde_json::to_string(&msg).expect("a decoded message serializes");
        let back: ClientMsg = serde_json::from_str(&text).expect("what we write, we read");
        assert_eq!(back, msg, "{text}");
    }
    // Clients decode what servers send, and amounts typed by people.
    let _ = serde_json::from_slice::<ServerMsg>(data);
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(m) = text.parse::<Money>()
    {
        assert_eq!(m.to_string().parse::<Money>().ok(), Some(m), "{text}");
    }
}

/// The bundled league with two Right to Match cards per team and a clock
/// that advances by itself, so that every command has a state in which it
/// is accepted.
fn league() -> &'static League {
    static LEAGUE: OnceLock<League> = OnceLock::new();
    LEAGUE.get_or_init(|| {
        let mut league = crate::league::bundled().league;
        league.rules.rtm_cards = 2;
        if let Some(clock) = league.rules.clock.as_mut() {
            clock.auto_advance = true;
        }
        league
    })
}

/// The team a team command acts for; `None` for commands no team may give.
fn acting_team(cmd: &Command) -> Option<&auction_proto::TeamCode> {
    match cmd {
        Command::Bid { team, .. }
        | Command::Raise { team }
        | Command::Rtm { team, .. }
        | Command::RtmRaise { team, .. }
        | Command::RequestAccelerated { team, .. } => Some(team),
        _ => None,
    }
}

/// How many commands of each kind were accepted: what a run reached
/// (`set_ceiling` and `auto_bid` count the proxy bids' part).
pub type Accepted = std::collections::BTreeMap<&'static str, u64>;

/// Every kind a run of [`commands`] can reach: each command, then the
/// ceilings set and the proxy bids they placed.
pub fn kinds() -> Vec<&'static str> {
    use strum::VariantArray;
    auction_proto::command::CommandKind::VARIANTS
        .iter()
        .map(|&k| k.into())
        .chain(["set_ceiling", "auto_bid"])
        .collect()
}

/// One line of the command fuzzer: a command, or a team's ceiling (the
/// protocol's `set_ceiling` message).
enum Ask {
    Command(Command),
    Ceiling {
        player: PlayerId,
        amount: Option<Money>,
    },
}

fn ask(json: &[u8]) -> Option<Ask> {
    if let Ok(cmd) = serde_json::from_slice::<Command>(json) {
        return Some(Ask::Command(cmd));
    }
    match serde_json::from_slice::<ClientMsg>(json) {
        Ok(ClientMsg::SetCeiling { player, amount, .. }) => Some(Ask::Ceiling { player, amount }),
        _ => None,
    }
}

/// The auction as the engine holds it: the state, the ceilings, the purses
/// it started with.
struct House {
    state: State,
    ceilings: Ceilings,
    start_total: u64,
    accepted: Accepted,
}

/// The command handler: lines of `<actor byte><JSON>` from every kind of
/// account, against the bundled league (with RTM cards); the JSON is a
/// command or a team's `set_ceiling`. Whatever is asked, the invariants
/// hold, a team only ever acts for itself and only with a team's commands,
/// a viewer changes nothing, deciding is deterministic, and every proxy bid
/// is the bidding team's own, within its ceiling, and ceilings end with
/// their lot. Returns what was accepted, by kind.
pub fn commands(data: &[u8]) -> Accepted {
    let league = league();
    let state = State::new(league);
    let mut house = House {
        start_total: state.teams.iter().map(|t| t.purse.0).sum(),
        state,
        ceilings: Ceilings::default(),
        accepted: Accepted::new(),
    };
    let mut actors = vec![
        Actor::new("admin", Access::Admin),
        Actor::new("presenter", Access::Presenter),
        Actor::new("viewer", Access::Viewer),
    ];
    for t in &league.teams {
        let code = t.code.clone();
        actors.push(Actor::new(code.account(), Access::Team { team: code }));
    }
    // The engine's own clock, which alone may tick.
    actors.push(Actor::new("", Access::System));
    let mut now = 1_700_000_000_000u64;
    for line in data.split(|b| *b == b'\n') {
        let Some((&who, json)) = line.split_first() else {
            continue;
        };
        let actor = &actors[usize::from(who) % actors.len()];
        now += 997 * u64::from(who % 8);
        match ask(json) {
            Some(Ask::Command(cmd)) => house.command(&cmd, actor, now),
            Some(Ask::Ceiling { player, amount }) => house.ceiling(player, amount, actor, now),
            None => {}
        }
    }
    house.accepted
}

impl House {
    fn command(&mut self, cmd: &Command, actor: &Actor, now: u64) {
        let decided = decide(&self.state, cmd, actor, now);
        assert_eq!(
            decided,
            decide(&self.state, cmd, actor, now),
            "not deterministic"
        );
        if decided.is_err() {
            return;
        }
        match (&actor.access, acting_team(cmd)) {
            (Access::Viewer, _) => panic!("a viewer's {cmd:?} was accepted"),
            (Access::Team { team }, Some(t)) => assert_eq!(team, t, "a team acted for another"),
            (Access::Team { .. }, None) => panic!("a team's {cmd:?} was accepted"),
            _ => {}
        }
        *self.accepted.entry(cmd.name()).or_default() += 1;
        let done = step(&mut self.state, &mut self.ceilings, cmd, actor, now)
            .expect("a command decided once is decided the same in its step");
        self.check(&done.auto, &format!("{cmd:?} by {}", actor.user));
    }

    /// The session lets only a team set its own ceiling.
    fn ceiling(&mut self, player: PlayerId, amount: Option<Money>, actor: &Actor, now: u64) {
        let Access::Team { team } = &actor.access else {
            return;
        };
        let before = self.ceilings.clone();
        match set_ceiling(
            &mut self.state,
            &mut self.ceilings,
            team,
            player,
            amount,
            now,
        ) {
            Ok(auto) => {
                *self.accepted.entry("set_ceiling").or_default() += 1;
                self.check(&auto, &format!("{team}'s ceiling {amount:?} on {player}"));
            }
            Err(_) => assert_eq!(self.ceilings, before, "a refused ceiling changed the book"),
        }
    }

    /// After every step: the invariants, each proxy bid within its team's
    /// ceiling on the player on the block, no ceiling on a closed lot.
    fn check(&mut self, auto: &[Event], after: &str) {
        if let Err(broken) = invariants::check(&self.state, self.start_total) {
            panic!("{broken} after {after}");
        }
        for event in auto {
            let Event::BidPlaced {
                team,
                amount,
                auto: true,
                ..
            } = event
            else {
                panic!("a proxy step made {event:?} after {after}");
            };
            let player = self.state.lot.as_ref().map(|l| l.player);
            let ceiling = player.and_then(|p| self.ceilings.get(p, team));
            assert!(
                ceiling.is_some_and(|c| *amount <= c.amount),
                "{team}'s proxy bid {amount} passes its ceiling {ceiling:?} after {after}"
            );
            *self.accepted.entry("auto_bid").or_default() += 1;
        }
        for (player, ceiling) in self.ceilings.all() {
            let status = self.state.player(player).map(|e| &e.status);
            assert!(
                status.is_some_and(PlayerStatus::is_open),
                "{}'s ceiling on {player} outlives its lot ({status:?}) after {after}",
                ceiling.team
            );
        }
    }
}

/// The SSH input decoder: any bytes, in any packet sizes, decode without a
/// panic, to the same keys however they are split, holding back at most one
/// short unfinished sequence.
pub fn ssh_input(data: &[u8]) {
    let Some((&split, data)) = data.split_first() else {
        return;
    };
    let mut whole = Decoder::default();
    let expected = whole.feed(data);
    let mut pieces = Decoder::default();
    let mut got = Vec::new();
    for chunk in data.chunks(usize::from(split % 16) + 1) {
        got.extend(pieces.feed(chunk));
        assert!(
            pieces.buffered() <= Decoder::MAX_HELD,
            "the decoder holds too much"
        );
    }
    assert_eq!(got, expected, "the keys depend on how the bytes were split");
    assert_eq!(pieces.flush(), whole.flush());
    assert!(!pieces.pending());
}
