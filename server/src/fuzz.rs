//! Entry points for fuzzing: the fuzz targets in `fuzz/` (cargo-fuzz) and
//! the proptest runs of the same functions in CI. Each takes arbitrary bytes
//! and panics only when something is wrong.

use std::sync::OnceLock;

use auction_proto::msg::{ClientMsg, ServerMsg};
use auction_proto::{Access, Actor, Command, League, Money, State};

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

/// How many commands of each kind were accepted: what a run reached.
pub type Accepted = std::collections::BTreeMap<&'static str, u64>;

/// The command handler: lines of `<actor byte><command JSON>` from every
/// kind of account, against the bundled league (with RTM cards). Whatever
/// is asked, the invariants hold, a team only ever acts for itself and only
/// with a team's commands, a viewer changes nothing, and deciding is
/// deterministic. Returns what was accepted, by kind.
pub fn commands(data: &[u8]) -> Accepted {
    let mut accepted = Accepted::new();
    let league = league();
    let mut state = State::new(league);
    let start_total: u64 = state.teams.iter().map(|t| t.purse.0).sum();
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
        let Ok(cmd) = serde_json::from_slice::<Command>(json) else {
            continue;
        };
        let decided = decide(&state, &cmd, actor, now);
        assert_eq!(
            decided,
            decide(&state, &cmd, actor, now),
            "not deterministic"
        );
        let Ok(event) = decided else { continue };
        match (&actor.access, acting_team(&cmd)) {
            (Access::Viewer, _) => panic!("a viewer's {cmd:?} was accepted"),
            (Access::Team { team }, Some(t)) => assert_eq!(team, t, "a team acted for another"),
            (Access::Team { .. }, None) => panic!("a team's {cmd:?} was accepted"),
            _ => {}
        }
        *accepted.entry(cmd.name()).or_default() += 1;
        state.apply(&event);
        if let Err(broken) = invariants::check(&state, start_total) {
            panic!("{broken} after {cmd:?} by {}", actor.user);
        }
    }
    accepted
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
