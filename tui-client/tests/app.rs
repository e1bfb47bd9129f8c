//! State updates and key handling, without drawing.

mod common;

use auction_proto::msg::ErrorCode;
use auction_proto::{Access, Command, Money, RejectCode, TeamCode};
use auction_screens::app::{App, Effect, Mode};
use auction_screens::keymap::Keymap;
use auction_screens::link::{NetEvent, Outgoing};
use common::*;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

fn sent(effects: &[Effect]) -> Vec<Command> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Send(Outgoing::Command { command, .. }) => Some(command.clone()),
            _ => None,
        })
        .collect()
}

fn id_of(effects: &[Effect]) -> String {
    match &effects[0] {
        Effect::Send(Outgoing::Command { id, .. }) => id.clone(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn space_raises_for_the_own_team_and_a_rejection_shows_its_reason() {
    let mut app = lot_with_bids().app("mi", team("MI"));
    let effects = app.on_key(key(' '));
    assert_eq!(
        sent(&effects),
        [Command::Raise {
            team: TeamCode::new("MI")
        }]
    );
    app.on_net(NetEvent::Rejected {
        id: id_of(&effects),
        code: RejectCode::AlreadyLeading,
        message: "MI already leads with ₹2.6 Cr".into(),
    });
    let flash = app.ui.flash.clone().expect("the reason is shown");
    assert!(
        flash.error && flash.text.contains("MI already leads") && flash.text.contains("raise"),
        "{flash:?}"
    );
}

#[test]
fn an_amount_is_typed_checked_and_sent() {
    let mut app = lot_with_bids().app("csk", team("CSK"));
    assert!(app.on_key(key('a')).is_empty());
    assert!(matches!(app.ui.mode, Mode::Prompt(_)));
    for c in "lots".chars() {
        app.on_key(key(c));
    }
    assert!(
        app.on_key(code(KeyCode::Enter)).is_empty(),
        "nonsense is not sent"
    );
    match &app.ui.mode {
        Mode::Prompt(p) => assert!(p.error.is_some()),
        other => panic!("{other:?}"),
    }
    for _ in 0..4 {
        app.on_key(code(KeyCode::Backspace));
    }
    for c in "3.5cr".chars() {
        app.on_key(key(c));
    }
    let effects = app.on_key(code(KeyCode::Enter));
    assert_eq!(
        sent(&effects),
        [Command::Bid {
            team: TeamCode::new("CSK"),
            amount: Money(350)
        }]
    );
    assert_eq!(app.ui.mode, Mode::Normal);
}

#[test]
fn destructive_keys_ask_first() {
    let mut app = lot_with_bids().app("presenter", presenter());
    for k in ['h', 'u', 'z', 'R'] {
        assert!(app.on_key(key(k)).is_empty(), "{k} acted without asking");
        assert!(matches!(app.ui.mode, Mode::Confirm(_)), "{k}");
        assert!(app.on_key(key('n')).is_empty());
        assert_eq!(app.ui.mode, Mode::Normal);
    }
    app.on_key(key('h'));
    let effects = app.on_key(key('y'));
    assert_eq!(sent(&effects), [Command::Sold]);
    // Other keys do nothing while a question is open.
    app.on_key(key('u'));
    assert!(app.on_key(key('n')).is_empty());
    assert!(app.on_key(key('x')).is_empty());
}

#[test]
fn the_presenter_paddle_bids_for_the_chosen_team() {
    let mut app = lot_with_bids().app("presenter", presenter());
    app.on_key(code(KeyCode::Right));
    app.on_key(code(KeyCode::Right));
    let effects = app.on_key(key('b'));
    assert_eq!(
        sent(&effects),
        [Command::Raise {
            team: TeamCode::new("RCB")
        }]
    );
    app.on_key(code(KeyCode::Left));
    app.on_key(key('B'));
    for c in "5cr".chars() {
        app.on_key(key(c));
    }
    assert_eq!(
        sent(&app.on_key(code(KeyCode::Enter))),
        [Command::Bid {
            team: TeamCode::new("MI"),
            amount: Money(500)
        }]
    );
    app.on_key(key('/'));
    for c in "bradman".chars() {
        app.on_key(key(c));
    }
    assert!(
        app.on_key(code(KeyCode::Enter)).is_empty(),
        "no such player in the pool"
    );
}

#[test]
fn viewers_cannot_send_anything() {
    let mut app = lot_with_bids().app("viewer", Access::Viewer);
    for k in all_keys() {
        let effects = app.on_key(k);
        assert!(sent(&effects).is_empty(), "{k:?} sent {effects:?}");
        app.ui.mode = Mode::Normal;
    }
}

fn all_keys() -> Vec<KeyEvent> {
    let mut keys: Vec<KeyEvent> = (' '..='~').map(key).collect();
    for c in [
        KeyCode::Esc,
        KeyCode::Enter,
        KeyCode::Tab,
        KeyCode::BackTab,
        KeyCode::Left,
        KeyCode::Right,
        KeyCode::Up,
        KeyCode::Down,
        KeyCode::Backspace,
        KeyCode::F(1),
    ] {
        keys.push(code(c));
    }
    keys.extend(('a'..='z').map(|c| KeyEvent::new(KeyCode::Char(c), KeyModifiers::ALT)));
    keys
}

/// Whatever a team owner types, in any order, nothing leaves the app for another team.
#[test]
fn a_team_cannot_bid_for_another_through_any_key() {
    let mut app = lot_with_bids().app("mi", team("MI"));
    let keys = all_keys();
    let mut rng: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut sends = 0;
    for _ in 0..100_000 {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let k = keys[(rng % keys.len() as u64) as usize];
        if k.code == KeyCode::Char('q') {
            continue;
        }
        for command in sent(&app.on_key(k)) {
            sends += 1;
            match command {
                Command::Bid { team, .. } | Command::Raise { team } => {
                    assert_eq!(team, TeamCode::new("MI"))
                }
                other => panic!("a team sent {other:?}"),
            }
        }
    }
    assert!(sends > 100, "the fuzz never bid ({sends})");
}

#[test]
fn events_fold_in_order_and_gaps_are_ignored() {
    let s = lot_with_bids();
    let mut app = s.app("presenter", presenter());
    assert_eq!(app.replica.seq, 5);
    assert_eq!(app.replica.state.as_ref(), Some(&s.state));
    assert_eq!(app.replica.log.len(), 5);
    let mut s2 = lot_with_bids();
    s2.bid("RCB", 300).bid("CSK", 320);
    // seq 7 before 6: ignored (the session asks for a snapshot instead).
    app.on_net(NetEvent::Event(s2.entries[6].clone()));
    assert_eq!(app.replica.seq, 5);
    app.on_net(NetEvent::Event(s2.entries[5].clone()));
    app.on_net(NetEvent::Event(s2.entries[6].clone()));
    assert_eq!(app.replica.state.as_ref(), Some(&s2.state));
}

#[test]
fn the_sold_banner_comes_and_goes() {
    let mut s = lot_with_bids();
    s.presenter(Command::Sold);
    let mut app = s.app("viewer", Access::Viewer);
    let banner = app.ui.banner.clone().expect("banner after a sale");
    assert_eq!(
        banner.sold.map(|(t, p)| (t.to_string(), p.0)),
        Some(("MI".into(), 260))
    );
    assert!(app.tick(banner.until_ms - 1));
    assert!(app.ui.banner.is_some());
    app.tick(banner.until_ms);
    assert!(app.ui.banner.is_none());
}

#[test]
fn admin_prompts_validate_before_sending() {
    let mut app = lot_with_bids().app("admin", Access::Admin);
    app.on_key(code(KeyCode::Tab)); // players
    app.on_key(code(KeyCode::Tab)); // teams
    app.on_key(code(KeyCode::Down)); // MI
    app.on_key(key('m'));
    for c in "-50L late retention".chars() {
        app.on_key(key(c));
    }
    assert_eq!(
        sent(&app.on_key(code(KeyCode::Enter))),
        [Command::AdjustPurse {
            team: TeamCode::new("MI"),
            delta: -50,
            reason: "late retention".into()
        }]
    );
    app.on_key(key('X'));
    for c in "reset".chars() {
        app.on_key(key(c));
    }
    assert!(
        app.on_key(code(KeyCode::Enter)).is_empty(),
        "lower-case is not RESET"
    );
    app.on_key(code(KeyCode::Esc));
    app.on_key(key('P'));
    for c in "mi\n".chars() {
        app.on_key(if c == '\n' {
            code(KeyCode::Enter)
        } else {
            key(c)
        });
    }
    for c in "short".chars() {
        app.on_key(key(c));
    }
    assert!(app.on_key(code(KeyCode::Enter)).is_empty());
    for c in "-and-longer".chars() {
        app.on_key(key(c));
    }
    assert_eq!(
        app.on_key(code(KeyCode::Enter)),
        [Effect::Send(Outgoing::SetPassword {
            user: "mi".into(),
            password: "short-and-longer".into()
        })]
    );
    app.on_net(NetEvent::Error {
        code: ErrorCode::Forbidden,
        message: "only the admin may set passwords".into(),
    });
    assert!(app.ui.flash.as_ref().unwrap().error);
}

#[test]
fn keymaps_come_from_the_config_and_help_follows_them() {
    let keymap = Keymap::with_overrides("[keys]\nraise = \"x\"\n").unwrap();
    let mut app = App::new(keymap, NOW);
    let s = lot_with_bids();
    app.on_net(NetEvent::Welcome {
        user: "mi".into(),
        access: team("MI"),
        snapshot: Some(auction_proto::Snapshot {
            seq: s.entries.len() as u64,
            state: s.state.clone(),
        }),
    });
    assert!(sent(&app.on_key(key(' '))).is_empty());
    assert_eq!(sent(&app.on_key(key('x'))).len(), 1);
    let help = app.ui.keymap.help(|a| app.allows(a));
    assert!(
        help.iter()
            .any(|(keys, what)| keys == "x" && what.contains("next valid")),
        "{help:?}"
    );
    assert!(
        !help.iter().any(|(_, what)| what.contains("SOLD")),
        "a team sees no presenter keys"
    );
}

#[test]
fn the_admin_log_starts_with_the_recorded_past() {
    let s = lot_with_bids();
    let mut app = App::new(Keymap::defaults(), NOW);
    app.on_net(NetEvent::Welcome {
        user: "admin".into(),
        access: Access::Admin,
        snapshot: Some(auction_proto::Snapshot {
            seq: 4,
            state: {
                let mut st = s.start.clone();
                for e in &s.entries[..4] {
                    st.apply(&e.event);
                }
                st
            },
        }),
    });
    app.on_net(NetEvent::Event(s.entries[4].clone()));
    app.on_net(NetEvent::History(s.entries[..5].to_vec()));
    let seqs: Vec<u64> = app.replica.log.iter().map(|l| l.seq).collect();
    assert_eq!(seqs, [1, 2, 3, 4, 5]);
    assert!(app.replica.log[0].text.contains("auction started"));
}

#[test]
fn the_clock_stops_asking_for_redraws_at_zero() {
    let s = lot_with_bids();
    let mut app = s.app("presenter", presenter());
    let deadline = match s.state.lot.as_ref().unwrap().timer {
        Some(auction_proto::Timer::Running { deadline_ms }) => deadline_ms,
        other => panic!("{other:?}"),
    };
    assert!(app.tick(deadline - 1500), "a running clock redraws");
    assert!(app.tick(deadline), "one last redraw shows 0:00");
    assert!(
        !app.tick(deadline + 1000),
        "then nothing changes: no redraws"
    );
}

#[tokio::test]
async fn the_admin_imports_a_csv_file_from_the_players_tab() {
    use auction_screens::event_loop::Host;
    let mut app = lot_with_bids().app("admin", Access::Admin);
    app.on_key(code(KeyCode::Tab)); // players
    let type_in = |app: &mut auction_screens::app::App, text: &str| {
        for c in text.chars() {
            app.on_key(key(c));
        }
        app.on_key(code(KeyCode::Enter))
    };
    // The screens ask the host for the file; the local terminal's host
    // reads it on this machine, and its answer goes back to the screens.
    let mut host = auction_tui::host::LocalHost::new(Default::default());
    let mut import = async |app: &mut auction_screens::app::App, path: &str| {
        let effects = type_in(app, path);
        assert_eq!(
            effects,
            [Effect::ReadFile {
                path: path.to_string()
            }]
        );
        let read = host.read_file(path).await;
        app.on_file(path.to_string(), read)
    };
    app.on_key(key('I'));
    assert!(import(&mut app, "/nowhere/late.csv").await.is_empty());
    let auction_screens::app::Mode::Prompt(prompt) = &app.ui.mode else {
        panic!("the prompt closed on a bad path")
    };
    let error = prompt.error.clone().unwrap();
    assert!(error.contains("cannot read /nowhere/late.csv"), "{error}");
    app.on_key(code(KeyCode::Esc));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("late.csv");
    std::fs::write(&file, "id,name\n").unwrap();
    app.on_key(key('I'));
    assert_eq!(
        sent(&import(&mut app, file.to_str().unwrap()).await),
        [Command::ImportPlayers {
            csv: "id,name\n".into(),
            file: file.display().to_string(),
        }]
    );
    assert_eq!(app.ui.mode, Mode::Normal);
}

/// Hostile-network #14: a name with an escape sequence in an old log is
/// printed by `ctl watch`, `ctl history` and `auction-server log` as text,
/// never as a command to the terminal.
#[test]
fn described_events_carry_no_control_characters() {
    let mut state = auction_proto::State::new(&auction_server::league::bundled().league);
    let mut evil = state.players[0].player.clone();
    evil.id = auction_proto::PlayerId(500);
    evil.name = "Evil\u{1b}[2J\u{1b}]0;owned\u{7}".into();
    let event = auction_proto::Event::PlayerAdded { player: evil };
    state.apply(&event);
    let entry = auction_proto::Entry {
        seq: 1,
        at_ms: 0,
        actor: auction_proto::Actor::new("adm\u{1b}[31min", Access::Admin),
        request_id: None,
        event,
        prev: None,
    };
    let line = auction_screens::describe::entry(&state, &entry);
    assert!(!line.chars().any(char::is_control), "{line:?}");
    assert!(line.contains("Evil"), "{line}");
    let summary = auction_screens::describe::summary(&state, 1);
    assert!(summary.lines().all(|l| !l.chars().any(char::is_control)));
}

/// Leaving by accident: with a lot open, `q` asks first (an owner's paddle
/// should not vanish mid-lot); `n` stays, `y` leaves; with no lot, and for
/// the big screen, `q` leaves at once; Ctrl-C always does.
#[test]
fn q_asks_before_leaving_an_open_lot() {
    let mut app = lot_with_bids().app("mi", team("MI"));
    assert!(app.on_key(key('q')).is_empty());
    assert!(matches!(&app.ui.mode, Mode::Confirm(c) if c.question.starts_with("Leave while")));
    app.on_key(key('n'));
    assert_eq!(app.ui.mode, Mode::Normal);
    assert!(!app.ui.quit);
    app.on_key(key('q'));
    assert_eq!(app.on_key(key('y')), [Effect::Quit]);
    let mut viewer = lot_with_bids().app("viewer", Access::Viewer);
    assert_eq!(viewer.on_key(key('q')), [Effect::Quit]);
    let mut ctrl_c = lot_with_bids().app("mi", team("MI"));
    let ctrl = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
    assert_eq!(ctrl_c.on_key(ctrl), [Effect::Quit]);
    let mut idle = Script::new().app("mi", team("MI"));
    assert_eq!(idle.on_key(key('q')), [Effect::Quit]);
}

/// A login that ends while the screen runs (the admin changed the
/// password, a logout elsewhere) takes the screen back to the login form,
/// with the reason and the same server and account, instead of an endless
/// OFFLINE.
#[test]
fn an_ended_login_goes_back_to_the_login_screen_with_the_reason() {
    let mut app = App::with_login(Keymap::defaults(), NOW, "ws://10.0.0.5:7878/ws", "mi");
    for c in "secret-pw".chars() {
        app.on_key(key(c));
    }
    let effects = app.on_key(code(KeyCode::Enter));
    assert!(
        matches!(effects.as_slice(), [Effect::Login { .. }]),
        "{effects:?}"
    );
    let script = lot_with_bids();
    app.on_net(NetEvent::Welcome {
        user: "mi".into(),
        access: team("MI"),
        snapshot: Some(auction_proto::Snapshot {
            seq: 0,
            state: script.start.clone(),
        }),
    });
    assert!(app.ui.login.is_none());
    let reason = "session ended (logged out, password changed or expired): log in again";
    app.on_net(NetEvent::LoginFailed(reason.into()));
    let form = app.ui.login.as_ref().expect("the login screen again");
    assert_eq!(form.error.as_deref(), Some(reason));
    assert_eq!(
        (form.server.as_str(), form.user.as_str()),
        ("ws://10.0.0.5:7878/ws", "mi")
    );
    assert!(form.password.is_empty() && !form.busy);
}

/// The admin's log tab starts with the recorded past and pages back
/// through it with ↑: near the oldest line held, the page before is asked
/// of the server, and it lands in front.
#[test]
fn the_admin_log_pages_back_through_the_recorded_history() {
    use auction_screens::link::Outgoing;
    let mut s = Script::new();
    s.presenter(Command::Start { seed: Some(3) });
    let teams = [
        "MI", "CSK", "RCB", "KKR", "DC", "RR", "PBKS", "SRH", "GT", "LSG",
    ];
    for i in 0..60usize {
        s.presenter(Command::Next);
        let base = s.state.next_bid().unwrap().as_lakh();
        for b in 0..10usize {
            s.bid(teams[(i + b) % 10], base + b as u64 * 20);
        }
        s.presenter(Command::Sold);
    }
    let last = s.entries.len() as u64;
    assert!(last > 700);
    // An admin who logs in now: a snapshot, no past.
    let mut app = App::new(Keymap::defaults(), NOW);
    app.on_net(NetEvent::Welcome {
        user: "admin".into(),
        access: Access::Admin,
        snapshot: Some(auction_proto::Snapshot {
            seq: last,
            state: s.state.clone(),
        }),
    });
    let mut asked = Vec::new();
    for _ in 0..3 {
        asked.extend(app.on_key(code(KeyCode::Tab)));
    }
    let page = |since: u64, limit: u32| {
        s.entries[since as usize..(since as usize + limit as usize).min(last as usize)].to_vec()
    };
    match asked.as_slice() {
        [Effect::Send(Outgoing::History { since, limit })] => {
            assert_eq!((*since, *limit), (last - 500, 500));
            app.on_net(NetEvent::History(page(*since, *limit)));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(app.replica.log.len(), 500);
    let mut older = None;
    for _ in 0..30 {
        for e in app.on_key(code(KeyCode::Up)) {
            if let Effect::Send(Outgoing::History { since, limit }) = e {
                older = Some((since, limit));
            }
        }
        if older.is_some() {
            break;
        }
    }
    let (since, limit) = older.expect("the page before was asked for");
    assert_eq!(
        since + u64::from(limit),
        last - 500,
        "the page just before the oldest held"
    );
    app.on_net(NetEvent::History(page(since, limit)));
    assert_eq!(app.replica.log.len(), 500 + limit as usize);
    assert_eq!(app.replica.log.front().unwrap().seq, since + 1);
    let seqs: Vec<u64> = app.replica.log.iter().map(|l| l.seq).collect();
    assert!(
        seqs.windows(2).all(|w| w[1] == w[0] + 1),
        "in order, nothing twice"
    );
}

/// The admin edits every field of a player before his lot (`E`, the
/// fields prefilled), and `w` on a withdrawn player brings him back.
#[test]
fn the_admin_edits_every_field_and_brings_a_withdrawn_player_back() {
    use auction_screens::app::Then;
    let mut s = Script::new();
    s.run(
        auction_proto::Actor::new("admin", Access::Admin),
        Command::WithdrawPlayer {
            player: auction_proto::PlayerId(1),
        },
    );
    let mut app = s.app("admin", Access::Admin);
    app.on_key(code(KeyCode::Tab)); // players
    app.on_key(key('E'));
    let Mode::Prompt(p) = &app.ui.mode else {
        panic!("{:?}", app.ui.mode)
    };
    assert!(
        p.input
            .starts_with("name=Rishabh Pant; role=wk; country=India;"),
        "{}",
        p.input
    );
    assert!(
        p.input.contains("last=DC") && p.input.contains("runs=3284"),
        "{}",
        p.input
    );
    // Replace the text: a new role, last team and runs.
    for _ in 0..p.input.chars().count() {
        app.on_key(code(KeyCode::Backspace));
    }
    for c in "role=bat; last=MI; runs=3300; capped=yes".chars() {
        app.on_key(key(c));
    }
    let sent = sent(&app.on_key(code(KeyCode::Enter)));
    match sent.as_slice() {
        [Command::EditPlayer { player }] => {
            assert_eq!(player.role, auction_proto::Role::Batter);
            assert_eq!(player.previous_team, Some(TeamCode::new("MI")));
            assert_eq!(player.stats.runs, 3300);
            assert_eq!(player.name, "Rishabh Pant", "what was not named stays");
        }
        other => panic!("{other:?}"),
    }
    // A bad field: said, nothing sent.
    app.on_key(key('E'));
    for c in "; colour=red".chars() {
        app.on_key(key(c));
    }
    assert!(sent_none(&app.on_key(code(KeyCode::Enter))));
    let Mode::Prompt(p) = &app.ui.mode else {
        panic!()
    };
    assert!(
        p.error
            .as_deref()
            .unwrap_or_default()
            .contains("`colour` is not a field")
    );
    app.on_key(code(KeyCode::Esc));
    // `w` on the withdrawn player asks to bring him back.
    app.on_key(key('w'));
    match &app.ui.mode {
        Mode::Confirm(c) => {
            assert!(c.question.contains("back to the pool"), "{}", c.question);
            assert_eq!(
                c.then,
                Then::Send(Command::RestorePlayer {
                    player: auction_proto::PlayerId(1)
                })
            );
        }
        other => panic!("{other:?}"),
    }
}

fn sent_none(effects: &[Effect]) -> bool {
    sent(effects).is_empty()
}
