//! Every role's screen, drawn into a test backend at 80x24 and 200x60, in
//! the states that matter, compared with reviewed snapshots.

mod common;

use auction_proto::{Access, Command, PlayerId};
use auction_screens::app::{App, LinkState, Tab};
use auction_screens::link::{NetEvent, Outgoing};
use common::*;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn render(app: &App, w: u16, h: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    terminal
        .draw(|f| auction_screens::ui::draw(f, app))
        .unwrap();
    terminal.backend().to_string()
}

fn roles() -> Vec<(&'static str, &'static str, Access)> {
    vec![
        ("presenter", "presenter", presenter()),
        ("team", "mi", team("MI")),
        ("admin", "admin", Access::Admin),
        ("viewer", "viewer", Access::Viewer),
    ]
}

fn snap_all(state_name: &str, script: &Script, adjust: impl Fn(&mut App)) {
    for (role, user, access) in roles() {
        let mut app = script.app(user, access);
        adjust(&mut app);
        for (w, h) in [(80, 24), (200, 60)] {
            let name = format!("{role}_{state_name}_{w}x{h}");
            insta::assert_snapshot!(name, render(&app, w, h));
        }
    }
}

#[test]
fn before_the_start() {
    snap_all("before_start", &Script::new(), |_| {});
}

#[test]
fn a_lot_open_with_bids() {
    snap_all("lot_with_bids", &lot_with_bids(), |_| {});
}

#[test]
fn the_sold_banner() {
    let mut s = lot_with_bids();
    s.presenter(Command::Sold);
    snap_all("sold", &s, |app| {
        app.ui.now_ms = app.replica.log.back().unwrap().at_ms + 1000
    });
}

#[test]
fn paused() {
    let mut s = lot_with_bids();
    s.presenter(Command::Pause);
    snap_all("paused", &s, |_| {});
}

#[test]
fn disconnected() {
    snap_all("disconnected", &lot_with_bids(), |app| {
        app.on_net(NetEvent::Disconnected {
            reason: "connection reset by peer".into(),
            retry_in_ms: 2000,
        });
        assert!(matches!(app.session.conn, LinkState::Disconnected { .. }));
    });
}

#[test]
fn admin_tabs_and_overlays() {
    let mut s = lot_with_bids();
    s.presenter(Command::Sold).presenter(Command::Nominate {
        player: PlayerId(2),
    });
    let mut app = s.app("admin", Access::Admin);
    for tab in [Tab::Players, Tab::Teams, Tab::Log] {
        app.ui.tab = tab.clone();
        insta::assert_snapshot!(
            format!("admin_tab_{}", tab.label().to_lowercase()),
            render(&app, 120, 30)
        );
    }
    app.ui.tab = Tab::Auction;
    app.on_key(key('?'));
    insta::assert_snapshot!("admin_help_overlay", render(&app, 100, 40));
    app.on_key(key('?'));
    app.on_key(key('h'));
    insta::assert_snapshot!("admin_confirm_sold", render(&app, 80, 24));
}

#[test]
fn the_login_screen() {
    let mut app = App::with_login(
        auction_screens::keymap::Keymap::defaults(),
        NOW,
        "ws://127.0.0.1:7878/ws",
        "mi",
    );
    for c in "secret".chars() {
        app.on_key(key(c));
    }
    insta::assert_snapshot!("login", render(&app, 80, 24));
    app.on_key(code(crossterm::event::KeyCode::Enter));
    app.on_net(NetEvent::LoginFailed("wrong user name or password".into()));
    insta::assert_snapshot!("login_failed", render(&app, 80, 24));
}

#[test]
fn no_color_draws_the_same_text() {
    let s = lot_with_bids();
    let mut app = s.app("presenter", presenter());
    let coloured = render(&app, 80, 24);
    app.ui.no_color = true;
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
    terminal
        .draw(|f| auction_screens::ui::draw(f, &app))
        .unwrap();
    let plain = terminal.backend().to_string();
    assert_eq!(coloured, plain);
    let buffer = terminal.backend().buffer();
    for cell in buffer.content() {
        assert_eq!(
            cell.fg,
            ratatui::style::Color::Reset,
            "NO_COLOR but a cell has a colour"
        );
        assert_eq!(cell.bg, ratatui::style::Color::Reset);
    }
}

#[test]
fn the_war_room_marks_shortlisted_players_and_warns_past_the_target() {
    use auction_proto::Money;
    use auction_proto::msg::ShortlistEntry;
    let s = lot_with_bids(); // Pant on the block, MI leads at 2.6 Cr
    let mut app = s.app("mi", team("MI"));
    let pant = |target| ShortlistEntry {
        player: PlayerId(1),
        target: Some(Money(target)),
        note: "keeper".into(),
    };
    app.on_net(NetEvent::Shortlist(vec![
        pant(300),
        ShortlistEntry {
            player: PlayerId(2),
            target: None,
            note: String::new(),
        },
    ]));
    let screen = render(&app, 200, 60);
    assert!(
        screen.contains("★ on your shortlist · target ₹3 Cr · keeper"),
        "{screen}"
    );
    assert!(screen.contains("War room (only you see this)"), "{screen}");
    assert!(screen.contains("★ Shreyas Iyer"), "{screen}");
    assert!(!screen.contains("OVER YOUR TARGET"));
    // The bidding passes the target.
    app.on_net(NetEvent::Shortlist(vec![pant(250)]));
    let screen = render(&app, 80, 24);
    assert!(screen.contains("OVER YOUR TARGET"), "{screen}");
    // The same league seen by another team or the big screen: no war room.
    for (user, access) in [("csk", team("CSK")), ("viewer", Access::Viewer)] {
        let other = s.app(user, access);
        let screen = render(&other, 200, 60);
        assert!(
            !screen.contains('★') && !screen.contains("War room"),
            "{screen}"
        );
    }
}

#[test]
fn right_to_match_is_shown_on_every_screen_and_played_from_the_team_keys() {
    use auction_proto::{Money, RtmAction, TeamCode};
    use auction_screens::app::Effect;
    let mut league = auction_server::league::bundled().league;
    league.rules.rtm_cards = 1;
    let mut s = Script::with_league(league);
    s.presenter(Command::Start { seed: Some(1) })
        .presenter(Command::Nominate {
            player: PlayerId(1), // Rishabh Pant, DC's last season
        })
        .bid("MI", 200)
        .presenter(Command::Sold);
    for (user, access) in [
        ("dc", team("DC")),
        ("mi", team("MI")),
        ("presenter", presenter()),
        ("viewer", Access::Viewer),
    ] {
        let screen = render(&s.app(user, access), 200, 60);
        assert!(
            screen.contains("RIGHT TO MATCH: DC may match MI's ₹2 Cr"),
            "{user}:\n{screen}"
        );
    }
    let mut dc = s.app("dc", team("DC"));
    assert!(render(&dc, 200, 60).contains("use your card"));
    let sent = |effects: Vec<Effect>| match effects.as_slice() {
        [Effect::Send(Outgoing::Command { command, .. })] => command.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        sent(dc.on_key(key('M'))),
        Command::Rtm {
            team: TeamCode::new("DC"),
            action: RtmAction::UseCard
        }
    );
    // DC used its card: MI types its final raise.
    s.run(
        auction_proto::Actor::new("dc", team("DC")),
        Command::Rtm {
            team: TeamCode::new("DC"),
            action: RtmAction::UseCard,
        },
    );
    let mut mi = s.app("mi", team("MI"));
    assert!(render(&mi, 200, 60).contains("your final raise"));
    assert!(mi.on_key(key('M')).is_empty());
    for c in "2.6cr".chars() {
        mi.on_key(key(c));
    }
    assert_eq!(
        sent(mi.on_key(code(crossterm::event::KeyCode::Enter))),
        Command::RtmRaise {
            team: TeamCode::new("MI"),
            amount: Money(260)
        }
    );
}

/// Attack #12: a confirm dialog on a terminal under 30 columns panicked
/// ("min > max"): over SSH the session froze, locally the terminal stayed
/// raw. Every role's screen, in every dialog, at every width from 1 to 45
/// at heights from 1 to 20 (and a few large sizes), draws without a panic.
#[test]
fn no_size_from_one_by_one_panics_any_screen_or_dialog() {
    use auction_screens::app::{Confirm, LoginForm, Mode, Prompt, PromptKind, Then};
    use auction_screens::keymap::Keymap;
    let script = lot_with_bids();
    let dialogs = [
        Mode::Normal,
        Mode::Help,
        Mode::Confirm(Confirm {
            question: "SOLD Rishabh Pant to MI for ₹2.2 Cr, the longest question of the night?"
                .into(),
            then: Then::Send(Command::Sold),
        }),
        Mode::Prompt(Prompt {
            kind: PromptKind::Nominate,
            label: "Nominate (name or id)".into(),
            input: "pant".into(),
            error: Some("a long error that has to wrap somewhere on a tiny screen".into()),
            secret: false,
        }),
    ];
    let mut apps = Vec::new();
    for (_, user, access) in roles() {
        for mode in &dialogs {
            let mut app = script.app(user, access.clone());
            app.ui.mode = mode.clone();
            apps.push(app);
        }
    }
    let mut login = App::new(Keymap::defaults(), NOW);
    login.ui.login = Some(LoginForm::new("ws://127.0.0.1:7878/ws", "presenter"));
    apps.push(login);
    let sizes = (1..=45u16)
        .flat_map(|w| [1, 2, 3, 4, 5, 8, 12, 20].map(move |h| (w, h)))
        .chain([(80, 24), (200, 60), (300, 80), (1, 80), (300, 1)]);
    for (w, h) in sizes {
        for app in &apps {
            let drawn = std::panic::catch_unwind(|| render(app, w, h));
            assert!(drawn.is_ok(), "{w}x{h} panicked in {:?}", app.ui.mode);
        }
    }
}

/// A refusal used to stay in the bottom line until Esc (one stayed 97
/// lots), hid the key hints and was cut at the screen's edge. Now it sits
/// above the hints, wraps, and goes away by itself.
#[test]
fn messages_wrap_above_the_key_hints_and_go_away() {
    use auction_proto::RejectCode;
    let mut app = lot_with_bids().app("presenter", presenter());
    let effects = app.on_key(key('b'));
    let auction_screens::app::Effect::Send(Outgoing::Command { id, .. }) = &effects[0] else {
        panic!("{effects:?}")
    };
    let long = "over_max_bid: CSK may bid at most ₹11.5 Cr: it must keep ₹20 L for each of the 17 players it still needs to reach 18";
    app.on_net(NetEvent::Rejected {
        id: id.clone(),
        code: RejectCode::OverMaxBid,
        message: long.into(),
    });
    let screen = render(&app, 100, 30);
    let text: String = screen.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(text.contains("still needs to reach 18"), "cut:\n{screen}");
    assert!(
        screen.contains("? help"),
        "the key hints are hidden:\n{screen}"
    );
    // Still there a moment later, gone after a few seconds.
    let shown_at = app.ui.now_ms;
    app.tick(shown_at + 1_000);
    assert!(app.ui.flash.is_some());
    assert!(
        app.needs_ticks(),
        "nothing would wake the screen to take it down"
    );
    assert!(app.tick(shown_at + auction_screens::app::FLASH_MS));
    assert!(app.ui.flash.is_none());
    assert!(!render(&app, 100, 30).contains("reach 18"));
}

/// A team leaves a proxy ceiling with `c`, sees it on the lot and in its
/// war room, sees the bids it placed marked `auto`, and cancels it with
/// `c -`; the presenter of a counted league sees how many, never whose.
#[test]
fn a_team_sets_sees_and_cancels_its_proxy_ceiling() {
    use auction_proto::Money;
    use auction_proto::msg::CeilingEntry;
    use auction_screens::app::Effect;
    let mut script = lot_with_bids();
    script.bid("CSK", 280).bid("MI", 300);
    if let Some(auction_proto::Event::BidPlaced { auto, .. }) =
        script.entries.last_mut().map(|e| &mut e.event)
    {
        *auto = true;
    }
    let mut app = script.app("mi", team("MI"));
    let typed = |app: &mut App, text: &str| {
        app.on_key(key('c'));
        for c in text.chars() {
            app.on_key(key(c));
        }
        app.on_key(code(crossterm::event::KeyCode::Enter))
    };
    let ceiling = |effects: &[Effect]| match effects {
        [Effect::Send(Outgoing::SetCeiling { player, amount, .. })] => (*player, *amount),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        ceiling(&typed(&mut app, "4cr")),
        (PlayerId(1), Some(Money::crore(4)))
    );
    assert_eq!(
        ceiling(&typed(&mut app, "shreyas iyer, 3.5cr")),
        (PlayerId(2), Some(Money::lakh(350)))
    );
    assert!(
        typed(&mut app, "lots").is_empty(),
        "a bad amount sends nothing"
    );
    app.on_key(code(crossterm::event::KeyCode::Esc));
    app.on_net(NetEvent::Ceilings(vec![
        CeilingEntry {
            player: PlayerId(1),
            amount: Money::crore(4),
        },
        CeilingEntry {
            player: PlayerId(2),
            amount: Money::lakh(350),
        },
    ]));
    let screen = render(&app, 120, 36);
    assert!(screen.contains("your proxy ceiling ₹4 Cr"), "{screen}");
    assert!(screen.contains("Shreyas Iyer ceiling ₹3.5 Cr"), "{screen}");
    assert!(
        screen.contains("₹3 Cr") && screen.contains("auto"),
        "{screen}"
    );
    assert_eq!(ceiling(&typed(&mut app, "-")), (PlayerId(1), None));
    app.on_net(NetEvent::Ceilings(vec![]));
    let screen = render(&app, 120, 36);
    assert!(!screen.contains("ceiling"), "{screen}");

    // Another team sees the automatic bid, and no ceiling.
    let csk = render(&script.app("csk", team("CSK")), 120, 36);
    assert!(csk.contains("auto") && !csk.contains("ceiling"), "{csk}");
    // The presenter of a counted league: a count only.
    let mut presenter = script.app("presenter", presenter());
    presenter.on_net(NetEvent::CeilingCount {
        player: PlayerId(1),
        teams: 2,
    });
    let screen = render(&presenter, 120, 36);
    assert!(screen.contains("2 teams hold a proxy ceiling"), "{screen}");
    // The presenter's list of the lot's bids marks the proxy bid, within
    // its narrow column.
    assert!(screen.contains("₹3 Cr⚑"), "{screen}");
}

/// The whole pool through the hammer: the big screen's end of the night
/// (every squad with prices, the top buys, the unsold count and what comes
/// next), at 80x24 and 200x60.
#[test]
fn the_big_screen_at_the_end_of_the_round() {
    let mut s = Script::new();
    s.presenter(Command::Start { seed: Some(2) });
    let teams = [
        "MI", "CSK", "RCB", "KKR", "DC", "RR", "PBKS", "SRH", "GT", "LSG",
    ];
    let mut i = 0;
    while s.state.next_in_queue().is_some() {
        s.presenter(Command::Next);
        let lakh = s.state.next_bid().unwrap().as_lakh() + (i as u64 % 5) * 20;
        match s.bidder(&teams, i, lakh).filter(|_| i % 7 != 3) {
            Some(team) => {
                s.bid(team, lakh);
                s.presenter(Command::Sold);
            }
            None => {
                s.presenter(Command::Unsold);
            }
        }
        i += 1;
    }
    let mut app = s.app("viewer", Access::Viewer);
    app.ui.banner = None; // the last SOLD banner has had its seconds
    for (w, h) in [(80, 24), (200, 60)] {
        let screen = render(&app, w, h);
        insta::assert_snapshot!(format!("viewer_round_complete_{w}x{h}"), screen);
        assert!(
            screen.contains("unsold · accelerated round next"),
            "{screen}"
        );
        assert!(screen.contains("top buys"), "{screen}");
    }
    let big = render(&app, 200, 60);
    assert!(
        big.contains(" MI ") && big.contains("left"),
        "every squad: {big}"
    );
}

/// The lot clock on the big screen turns red in its last 10 s.
#[test]
fn the_big_screen_clock_turns_red_in_the_last_ten_seconds() {
    use ratatui::style::Color;
    let reds = |app: &App| {
        let mut terminal = Terminal::new(TestBackend::new(200, 60)).unwrap();
        terminal
            .draw(|f| auction_screens::ui::draw(f, app))
            .unwrap();
        terminal
            .backend()
            .buffer()
            .content()
            .iter()
            .filter(|c| c.fg == Color::LightRed && c.symbol() != " ")
            .count()
    };
    let s = lot_with_bids();
    let mut app = s.app("viewer", Access::Viewer);
    let deadline = match s.state.lot.as_ref().and_then(|l| l.timer) {
        Some(auction_proto::Timer::Running { deadline_ms }) => deadline_ms,
        other => panic!("{other:?}"),
    };
    app.ui.now_ms = deadline - 20_000;
    assert_eq!(reds(&app), 0, "20 s left: not red yet");
    app.ui.now_ms = deadline - 9_000;
    assert!(reds(&app) > 20, "9 s left: the clock's digits are red");
}

/// The presenter's board marks each team's owner here (●) or away (○), and
/// says so when an owner drops while a lot is open.
#[test]
fn the_presenter_sees_who_is_here_and_who_dropped() {
    let script = lot_with_bids();
    let mut app = script.app("presenter", presenter());
    app.on_net(NetEvent::Presence(vec![
        "mi".into(),
        "csk".into(),
        "presenter".into(),
    ]));
    let screen = render(&app, 120, 36);
    assert!(
        screen.contains("MI ●") && screen.contains("CSK ●") && screen.contains("RCB ○"),
        "{screen}"
    );
    assert!(app.ui.flash.is_none());
    app.on_net(NetEvent::Presence(vec!["csk".into(), "presenter".into()]));
    let flash = app.ui.flash.clone().expect("the drop is told");
    assert!(flash.text.contains("MI's owner went offline"), "{flash:?}");
    let screen = render(&app, 120, 36);
    assert!(screen.contains("MI ○"), "{screen}");
    // A team owner's own screen shows no presence marks.
    let mut team_app = script.app("mi", team("MI"));
    team_app.on_net(NetEvent::Presence(vec!["mi".into()]));
    let screen = render(&team_app, 120, 36);
    assert!(
        !screen.contains("MI ●") && !screen.contains("CSK ○"),
        "{screen}"
    );
}

/// A team owner's pool: `v` shows it beside the lot in the round's order
/// (next up numbered), `F` filters it by words, `o` orders it by base
/// price, the arrows choose a player and `s` puts him on the shortlist
/// prompt. `v` again: the budget.
#[test]
fn a_team_looks_through_the_pool_and_plans_its_budget() {
    use auction_screens::app::{Mode, TeamView};
    use crossterm::event::KeyCode;
    let mut script = lot_with_bids();
    script.presenter(Command::Sold);
    let mut app = script.app("mi", team("MI"));
    app.ui.banner = None;
    app.on_key(key('v'));
    assert_eq!(app.ui.team_view, TeamView::Pool);
    let screen = render(&app, 160, 40);
    let next = script.state.next_in_queue().unwrap();
    let next_name = &script.state.player(next).unwrap().player.name;
    assert!(
        screen.contains("Pool: 299 players in the round's order"),
        "{screen}"
    );
    let first_row = screen
        .lines()
        .find(|l| l.contains(next_name.as_str()) && l.contains("to come"))
        .unwrap();
    assert!(
        first_row.contains(" 1 "),
        "next up is numbered: {first_row}"
    );
    let pool = auction_screens::pool::pool(&script.state, &app.ui.pool);
    assert!(
        pool.iter().all(|r| r.entry.player.name != "Rishabh Pant"),
        "sold players are left out"
    );

    app.on_key(key('F'));
    for c in "bowler overseas".chars() {
        app.on_key(key(c));
    }
    app.on_key(code(KeyCode::Enter));
    let state = script.state.clone();
    let rows = auction_screens::pool::pool(&state, &app.ui.pool);
    assert!(
        !rows.is_empty()
            && rows
                .iter()
                .all(|r| r.entry.player.overseas
                    && r.entry.player.role == auction_proto::Role::Bowler)
    );
    app.on_key(key('o'));
    let rows = auction_screens::pool::pool(&state, &app.ui.pool);
    assert!(
        rows.windows(2)
            .all(|w| w[0].entry.player.base >= w[1].entry.player.base)
    );
    app.on_key(code(KeyCode::Down));
    let chosen = rows[1].entry.player.name.clone();
    app.on_key(key('s'));
    match &app.ui.mode {
        Mode::Prompt(p) => assert_eq!(p.input, format!("{chosen}, ")),
        other => panic!("{other:?}"),
    }
    app.on_key(code(KeyCode::Esc));
    // And a proxy ceiling on him, from the pool.
    app.on_key(key('c'));
    match &app.ui.mode {
        Mode::Prompt(p) => assert_eq!(p.input, format!("{chosen}, ")),
        other => panic!("{other:?}"),
    }
    app.on_key(code(KeyCode::Esc));

    app.on_key(key('v'));
    assert_eq!(app.ui.team_view, TeamView::Budget);
    let screen = render(&app, 160, 40);
    for needed in [
        "maximum bid now",
        "still needed (to the minimum)  17",
        "overseas places left",
        "spent by role",
    ] {
        assert!(screen.contains(needed), "{needed}: {screen}");
    }
    // MI lost the lot to... MI led at ₹2.6 Cr: it bought Pant.
    assert!(screen.contains("₹117.4 Cr"), "{screen}");
}

/// The organiser's summary: the admin's Summary tab and `ctl export
/// --format json` give spend per team and role, the average price against
/// the average base, and the dearest and best-value buys.
#[test]
fn the_organisers_summary() {
    use crossterm::event::KeyCode;
    let mut s = Script::new();
    s.presenter(Command::Start { seed: Some(1) });
    // Pant (base 2 Cr) for 3 Cr, Iyer (base 2 Cr) at his base.
    for (player, team, lakh) in [(1, "MI", 300), (2, "CSK", 200)] {
        s.presenter(Command::Nominate {
            player: PlayerId(player),
        });
        s.bid(team, lakh);
        s.presenter(Command::Sold);
    }
    let export = auction_screens::export::build(&s.state, 7);
    let sum = &export.summary;
    assert_eq!((sum.average_price_lakh, sum.average_base_lakh), (250, 200));
    assert_eq!(sum.price_over_base, 1.25);
    assert_eq!(sum.most_expensive[0].name, "Rishabh Pant");
    assert_eq!(sum.best_value[0].name, "Shreyas Iyer", "bought at his base");
    let json: serde_json::Value = serde_json::from_str(&export.to_json()).unwrap();
    assert_eq!(json["summary"]["best_value"][0]["base_lakh"], 200);
    assert!(export.to_csv().contains("best_value"));

    let mut app = s.app("admin", Access::Admin);
    app.ui.banner = None;
    for _ in 0..4 {
        app.on_key(code(KeyCode::Tab));
    }
    let screen = render(&app, 160, 40);
    for needed in [
        "2 players sold for ₹5 Cr",
        "average price ₹2.5 Cr",
        "(×1.25)",
        "the best value",
        "Shreyas Iyer (CSK) ₹2 Cr · base ₹2 Cr",
    ] {
        assert!(screen.contains(needed), "{needed}:\n{screen}");
    }
}
