//! A whole night: the real server (in this process, its clock in the
//! test's hand) and bots play the bundled league, with Right to Match
//! cards, to the end: every set, a Right to Match used, a pause, a restart
//! mid-lot (the lot comes back paused with its time, then resumes), an
//! accelerated round, the end. The screens follow it through the real
//! client session, as the terminal does, and are captured at 80x24 and
//! 200x60 at every moment of the night that matters.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use auction_proto::{Access, Actor, Command, Money, Phase, RtmAction, Stage, TeamCode, Timer};
use auction_screens::app::{App, Tab, TeamView};
use auction_screens::keymap::Keymap;
use auction_screens::link::Link;
use auction_server::engine::{EngineConfig, EngineHandle};
use auction_server::startup::{Options, Running};
use auction_tui::session::{self, Login};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const T0: u64 = 1_800_000_000_000;
const TEAMS: [&str; 10] = [
    "MI", "CSK", "RCB", "KKR", "DC", "RR", "PBKS", "SRH", "GT", "LSG",
];

fn pw(user: &str) -> String {
    format!("{user}-night-pw")
}

struct Night {
    dir: tempfile::TempDir,
    clock: Arc<AtomicU64>,
    running: Option<Running>,
    listen: String,
}

impl Night {
    async fn start(&mut self) {
        let mut league = auction_server::league::bundled();
        league.league.rules.rtm_cards = 1;
        let clock = self.clock.clone();
        let opts = Options {
            data_dir: self.dir.path().to_path_buf(),
            league,
            listen: self.listen.clone(),
            limits: Default::default(),
            engine: EngineConfig {
                clock: Arc::new(move || clock.load(Ordering::SeqCst)),
                ..EngineConfig::default()
            },
            ssh_listen: None,
            ssh_limits: Default::default(),
            origins: Default::default(),
            tls: None,
        };
        let env = |var: &str| {
            let user = var.strip_prefix("AUCTION_PASSWORD_")?.to_lowercase();
            (user != "viewer").then(|| pw(&user))
        };
        let running = auction_server::startup::start(opts, env).await.unwrap();
        self.listen = running.addr.to_string();
        self.running = Some(running);
    }

    async fn stop(&mut self) {
        let running = self.running.take().unwrap();
        running.shutdown_token().cancel();
        running.wait().await.unwrap();
    }

    fn engine(&self) -> &EngineHandle {
        &self.running.as_ref().unwrap().engine
    }

    fn url(&self) -> String {
        format!("ws://{}/ws", self.listen)
    }

    /// A command from `actor`, a second after the last.
    async fn cmd(&self, actor: &Actor, command: Command) -> u64 {
        self.clock.fetch_add(1_000, Ordering::SeqCst);
        self.engine()
            .submit(actor.clone(), None, command.clone())
            .await
            .unwrap_or_else(|r| panic!("{command:?} by {}: {r}", actor.user))
    }

    async fn presenter(&self, command: Command) -> u64 {
        self.cmd(&Actor::new("presenter", Access::Presenter), command)
            .await
    }

    async fn team(&self, code: &str, command: Command) -> u64 {
        let team = TeamCode::new(code);
        self.cmd(&Actor::new(team.account(), Access::Team { team }), command)
            .await
    }

    async fn state(&self) -> auction_proto::State {
        self.engine().snapshot().await.unwrap().state
    }
}

/// A screen fed by the real client session, as the terminal's is.
struct Screen {
    name: &'static str,
    app: App,
    link: Link,
}

impl Screen {
    fn open(night: &Night, name: &'static str, user: &str) -> Screen {
        let password = if user == "viewer" {
            String::new()
        } else {
            pw(user)
        };
        let link = session::spawn(Login {
            server: night.url(),
            user: user.into(),
            password,
            trust: Default::default(),
        });
        let mut app = App::new(Keymap::defaults(), T0);
        app.set_request_prefix(1);
        Screen { name, app, link }
    }

    /// Takes in what the session passed on, until the screen has seen `seq`.
    async fn sync(&mut self, seq: u64, now: u64) {
        self.app.ui.now_ms = now;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while self.app.replica.seq < seq || self.app.replica.state.is_none() {
            let ev = tokio::time::timeout_at(deadline, self.link.events.recv())
                .await
                .unwrap_or_else(|_| {
                    panic!(
                        "{}: stuck at seq {} < {seq}",
                        self.name, self.app.replica.seq
                    )
                })
                .expect("the session ended");
            self.app.on_net(ev);
        }
        // The room's screens: until everyone connected is shown so.
        if self.app.is_room() {
            let here = ["admin", "mi", "presenter"];
            while !self
                .app
                .replica
                .online
                .as_ref()
                .is_some_and(|o| here.iter().all(|u| o.contains(*u)))
            {
                let ev = tokio::time::timeout_at(deadline, self.link.events.recv())
                    .await
                    .unwrap_or_else(|_| panic!("{}: presence never came", self.name))
                    .expect("the session ended");
                self.app.on_net(ev);
            }
        }
    }

    fn render(&mut self, w: u16, h: u16) -> String {
        // What does not belong to the night: the round trip, passing messages.
        self.app.session.rtt_ms = Some(3);
        self.app.ui.flash = None;
        let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
        terminal
            .draw(|f| auction_screens::ui::draw(f, &self.app))
            .unwrap();
        terminal.backend().to_string()
    }

    fn snap(&mut self, moment: &str) {
        for (w, h) in [(80, 24), (200, 60)] {
            let screen = self.render(w, h);
            insta::assert_snapshot!(format!("{}_{moment}_{w}x{h}", self.name), screen);
        }
    }
}

struct Room {
    screens: Vec<Screen>,
}

impl Room {
    async fn sync(&mut self, night: &Night) {
        let seq = night.engine().seq();
        let now = night.clock.load(Ordering::SeqCst);
        for s in &mut self.screens {
            s.sync(seq, now).await;
        }
    }

    fn get(&mut self, name: &str) -> &mut Screen {
        self.screens.iter_mut().find(|s| s.name == name).unwrap()
    }

    /// Every screen at this moment (the team's with its pool and budget).
    async fn snap(&mut self, night: &Night, moment: &str) {
        self.sync(night).await;
        for s in &mut self.screens {
            s.snap(moment);
        }
    }
}

/// A lot: `bids` raises from rotating teams (by turn `i`), then the hammer,
/// and a Right to Match played out (the first one used, the rest declined).
async fn play_lot(night: &Night, i: usize, bids: usize, rtm_used: &mut bool) {
    night.presenter(Command::Next).await;
    if bids == 0 {
        night.presenter(Command::Unsold).await;
        return;
    }
    // Each raise by the next team in turn that may make it (squad,
    // overseas places, purse): a bot plays by the rules too.
    let mut placed = 0;
    for b in 0..bids {
        let state = night.state().await;
        let Some(team) = (0..TEAMS.len())
            .map(|k| TEAMS[(i + b + k) % TEAMS.len()])
            .find(|t| may_raise(&state, t))
        else {
            break;
        };
        night
            .team(
                team,
                Command::Raise {
                    team: TeamCode::new(team),
                },
            )
            .await;
        placed += 1;
    }
    if placed == 0 {
        night.presenter(Command::Unsold).await;
        return;
    }
    hammer(night, rtm_used).await;
}

/// Whether `team` may raise on the lot now.
fn may_raise(state: &auction_proto::State, team: &str) -> bool {
    let code = TeamCode::new(team);
    let actor = Actor::new(code.account(), Access::Team { team: code.clone() });
    auction_server::engine::decide(state, &Command::Raise { team: code }, &actor, T0 + 1).is_ok()
}

/// SOLD, and a Right to Match played out if it comes (the first used and
/// matched after the winner's final raise, the rest declined).
async fn hammer(night: &Night, rtm_used: &mut bool) {
    night.presenter(Command::Sold).await;
    let Some(rtm) = night.state().await.lot.and_then(|l| l.rtm) else {
        return;
    };
    let holder = rtm.holder.to_string();
    let team = rtm.holder.clone();
    if *rtm_used {
        night
            .team(
                &holder,
                Command::Rtm {
                    team,
                    action: RtmAction::Decline,
                },
            )
            .await;
        return;
    }
    *rtm_used = true;
    night
        .team(
            &holder,
            Command::Rtm {
                team: team.clone(),
                action: RtmAction::UseCard,
            },
        )
        .await;
    let winner = rtm.winner.to_string();
    let raise = Money(rtm.price.0 + 20);
    night
        .team(
            &winner,
            Command::RtmRaise {
                team: rtm.winner.clone(),
                amount: raise,
            },
        )
        .await;
    night
        .team(
            &holder,
            Command::Rtm {
                team,
                action: RtmAction::MatchPrice,
            },
        )
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_night_as_every_screen_sees_it() {
    let mut night = Night {
        dir: tempfile::tempdir().unwrap(),
        clock: Arc::new(AtomicU64::new(T0)),
        running: None,
        listen: "127.0.0.1:0".into(),
    };
    night.start().await;
    let mut room = Room {
        screens: vec![
            Screen::open(&night, "night_viewer", "viewer"),
            Screen::open(&night, "night_presenter", "presenter"),
            Screen::open(&night, "night_team", "mi"),
            Screen::open(&night, "night_admin", "admin"),
        ],
    };
    night.presenter(Command::Start { seed: Some(7) }).await;
    room.sync(&night).await;

    let mut rtm_used = false;
    let mut i = 0;
    while night.state().await.next_in_queue().is_some() {
        match i {
            // A lot open with the clock, going twice, and sold.
            3 => {
                night.presenter(Command::Next).await;
                night
                    .team(
                        "MI",
                        Command::Raise {
                            team: TeamCode::new("MI"),
                        },
                    )
                    .await;
                night
                    .team(
                        "CSK",
                        Command::Raise {
                            team: TeamCode::new("CSK"),
                        },
                    )
                    .await;
                room.snap(&night, "lot_open").await;
                night.presenter(Command::GoingOnce).await;
                night.presenter(Command::GoingTwice).await;
                room.snap(&night, "going_twice").await;
                hammer(&night, &mut rtm_used).await;
                room.snap(&night, "sold").await;
            }
            // A pause in the middle of a lot.
            5 => {
                night.presenter(Command::Next).await;
                night
                    .team(
                        "RCB",
                        Command::Raise {
                            team: TeamCode::new("RCB"),
                        },
                    )
                    .await;
                night.presenter(Command::Pause).await;
                room.snap(&night, "paused").await;
                night.presenter(Command::Resume).await;
                hammer(&night, &mut rtm_used).await;
            }
            // The server restarts mid-lot, ten minutes away.
            8 => {
                restart_mid_lot(&mut night, &mut room).await;
                hammer(&night, &mut rtm_used).await;
            }
            // Most lots sell after a few bids; every seventh goes unsold.
            _ => {
                let bids = if i % 7 == 6 { 0 } else { 1 + i % 4 };
                play_lot(&night, i, bids, &mut rtm_used).await
            }
        }
        i += 1;
    }
    assert!(rtm_used, "a Right to Match was played");
    let state = night.state().await;
    assert!(state.closed.iter().any(|c| matches!(
        c.outcome,
        auction_proto::state::Outcome::Sold { rtm: true, .. }
    )));
    // Between the rounds: the teams' pool and budget, the organiser's summary.
    room.get("night_team").app.ui.team_view = TeamView::Pool;
    room.get("night_admin").app.ui.tab = Tab::Summary;
    room.sync(&night).await;
    for s in &mut room.screens {
        s.app.ui.banner = None;
    }
    room.snap(&night, "between_rounds").await;

    // The accelerated round: the unsold come back; whoever a team still
    // has room for is sold.
    let unsold_before = night.state().await.unsold().count();
    night.presenter(Command::OpenAccelerated).await;
    let mut j = 0;
    while night.state().await.next_in_queue().is_some() {
        play_lot(&night, j, 1, &mut rtm_used).await;
        j += 1;
    }
    let state = night.state().await;
    assert!(
        state.unsold().count() < unsold_before,
        "the accelerated round sold some"
    );
    assert_eq!(state.round, 1);
    room.get("night_team").app.ui.team_view = TeamView::Budget;
    room.sync(&night).await;
    for s in &mut room.screens {
        s.app.ui.banner = None;
    }
    room.snap(&night, "complete").await;
    let viewer = room.get("night_viewer").render(200, 60);
    assert!(
        viewer.contains("unsold · top buys"),
        "the end of the night, no round next: {viewer}"
    );
    night.stop().await;
}

/// Bids on a lot, a stop with the clock running, ten minutes away, a start:
/// every screen comes back by itself and shows the lot paused with the
/// time it had; the presenter resumes it and the lot goes on.
async fn restart_mid_lot(night: &mut Night, room: &mut Room) {
    night.presenter(Command::Next).await;
    night
        .team(
            "DC",
            Command::Raise {
                team: TeamCode::new("DC"),
            },
        )
        .await;
    room.sync(night).await;
    let state = night.state().await;
    let Some(Timer::Running { deadline_ms }) = state.lot.as_ref().and_then(|l| l.timer) else {
        panic!("{:?}", state.lot)
    };
    let left = deadline_ms - night.clock.load(Ordering::SeqCst);
    night.stop().await;
    night.clock.fetch_add(600_000, Ordering::SeqCst);
    night.start().await;
    room.sync(night).await;
    for s in &room.screens {
        let st = s.app.replica.state.as_ref().unwrap();
        assert_eq!(st.phase, Phase::Paused, "{}", s.name);
        let timer = st.lot.as_ref().and_then(|l| l.timer);
        assert_eq!(
            timer,
            Some(Timer::Frozen { remaining_ms: left }),
            "{}",
            s.name
        );
        assert_eq!(st.lot.as_ref().map(|l| l.stage), Some(Stage::Open));
    }
    room.snap(night, "after_restart").await;
    night.presenter(Command::Resume).await;
    night
        .team(
            "GT",
            Command::Raise {
                team: TeamCode::new("GT"),
            },
        )
        .await;
}
