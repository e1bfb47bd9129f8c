//! Builds apps in known states from the bundled league, through the same
//! events the server would send.
#![allow(dead_code)]

use auction_proto::{Access, Actor, Command, Entry, Money, PlayerId, Snapshot, State, TeamCode};
use auction_screens::app::App;
use auction_screens::keymap::Keymap;
use auction_screens::link::NetEvent;
use auction_server::engine::decide;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

pub const NOW: u64 = 1_800_000_000_000;

/// A little auction: the events it produced and the state before them.
pub struct Script {
    pub start: State,
    pub state: State,
    pub entries: Vec<Entry>,
    pub now: u64,
}

impl Script {
    pub fn new() -> Script {
        Script::with_league(auction_server::league::bundled().league)
    }

    pub fn with_league(league: auction_proto::League) -> Script {
        let state = State::new(&league);
        Script {
            start: state.clone(),
            state,
            entries: Vec::new(),
            now: NOW - 8_000,
        }
    }

    pub fn run(&mut self, actor: Actor, command: Command) -> &mut Self {
        self.now += 1_000;
        let event = decide(&self.state, &command, &actor, self.now)
            .unwrap_or_else(|r| panic!("{command:?}: {r}"));
        self.state.apply(&event);
        self.entries.push(Entry {
            seq: self.entries.len() as u64 + 1,
            at_ms: self.now,
            actor,
            request_id: None,
            event,
            prev: None,
        });
        self
    }

    pub fn presenter(&mut self, command: Command) -> &mut Self {
        self.run(Actor::new("presenter", Access::Presenter), command)
    }

    pub fn bid(&mut self, team: &str, lakh: u64) -> &mut Self {
        let code = TeamCode::new(team);
        self.run(
            Actor::new(code.account(), Access::Team { team: code.clone() }),
            Command::Bid {
                team: code,
                amount: Money(lakh),
            },
        )
    }

    /// The first team from `from` on (in `teams`' order) that may bid
    /// `lakh` for the player on the block, if any.
    pub fn bidder<'a>(&self, teams: &[&'a str], from: usize, lakh: u64) -> Option<&'a str> {
        (0..teams.len())
            .map(|k| teams[(from + k) % teams.len()])
            .find(|t| {
                let code = TeamCode::new(t);
                let actor = Actor::new(code.account(), Access::Team { team: code.clone() });
                let bid = Command::Bid {
                    team: code,
                    amount: Money(lakh),
                };
                decide(&self.state, &bid, &actor, self.now + 1_000).is_ok()
            })
    }

    /// An app of `access` that logged in before the script and saw every event live.
    pub fn app(&self, user: &str, access: Access) -> App {
        let mut app = App::new(Keymap::defaults(), NOW);
        app.on_net(NetEvent::Welcome {
            user: user.into(),
            access,
            snapshot: Some(Snapshot {
                seq: 0,
                state: self.start.clone(),
            }),
        });
        app.on_net(NetEvent::Rtt(3));
        for e in &self.entries {
            app.ui.now_ms = e.at_ms;
            app.on_net(NetEvent::Event(e.clone()));
        }
        app.ui.now_ms = NOW;
        app
    }
}

/// Started, Rishabh Pant (#1) on the block, MI and CSK bidding.
pub fn lot_with_bids() -> Script {
    let mut s = Script::new();
    s.presenter(Command::Start { seed: Some(1) })
        .presenter(Command::Nominate {
            player: PlayerId(1),
        })
        .bid("MI", 200)
        .bid("CSK", 220)
        .bid("MI", 260);
    s
}

pub fn presenter() -> Access {
    Access::Presenter
}

pub fn team(code: &str) -> Access {
    Access::Team {
        team: TeamCode::new(code),
    }
}

pub fn key(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
}

pub fn code(k: KeyCode) -> KeyEvent {
    KeyEvent::new(k, KeyModifiers::NONE)
}
