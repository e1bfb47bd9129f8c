//! The real `auction-tui` in a real pseudo-terminal (tmux) against the real
//! server: the presenter's screen shows a team's bid within a second.

#[path = "common/server.rs"]
mod server;
#[path = "common/tmux.rs"]
mod tmux;

use std::process::Command;
use std::time::{Duration, Instant};

use server::{ctl, pw, start_server};
use tmux::Tmux;

#[test]
fn the_presenter_sees_a_team_bid_within_a_second() {
    let dir = tempfile::tempdir().unwrap();
    let s = start_server(dir.path());
    let home = tempfile::tempdir().unwrap();
    let tui = env!("CARGO_BIN_EXE_auction-tui");
    let command = format!(
        "env HOME={} XDG_CONFIG_HOME={}/config AUCTION_PASSWORD={} {tui} --server {} --user presenter",
        home.path().display(),
        home.path().display(),
        pw("presenter"),
        s.url
    );
    let t = Tmux::start(100, 30, &command);
    t.wait_for("● online", Duration::from_secs(10));
    t.wait_for("not started", Duration::from_secs(2));
    t.keys(&["S"]);
    t.wait_for("running", Duration::from_secs(2));
    t.keys(&["/"]);
    t.wait_for("Nominate", Duration::from_secs(2));
    t.keys(&["Jos Buttler", "Enter"]);
    t.wait_for("Wicket-keeper · England", Duration::from_secs(2));

    // A team bids from another terminal.
    let out = ctl(&s.url, "mi", &pw("mi"), &["raise", "MI"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let took = t.wait_for("₹2 Cr  MI", Duration::from_secs(1));
    eprintln!("the bid reached the presenter's screen in {took:?}");

    // A wrong key does nothing; the hammer asks first, then sells.
    t.keys(&["h"]);
    t.wait_for("SOLD Jos Buttler to MI for ₹2 Cr?", Duration::from_secs(2));
    t.keys(&["y"]);
    t.wait_for("Jos Buttler to MI for ₹2 Cr", Duration::from_secs(2));
    // Resize redraws.
    let _ = Command::new("tmux")
        .args([
            "-L",
            &t.socket,
            "resize-window",
            "-t",
            &t.session,
            "-x",
            "80",
            "-y",
            "24",
        ])
        .status();
    t.wait_for("Next (", Duration::from_secs(2));
    // q quits and gives the terminal back.
    t.keys(&["q"]);
    let start = Instant::now();
    while t.alive() && start.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!t.alive(), "auction-tui did not exit on q");
    // It remembered the server and user for next time.
    let last = std::fs::read_to_string(home.path().join("config/auction-tui/last.toml")).unwrap();
    assert!(
        last.contains("presenter") && last.contains(&s.url),
        "{last}"
    );
}

#[test]
fn a_wrong_password_is_shown_on_the_login_screen() {
    let dir = tempfile::tempdir().unwrap();
    let s = start_server(dir.path());
    let home = tempfile::tempdir().unwrap();
    let tui = env!("CARGO_BIN_EXE_auction-tui");
    let command = format!(
        "env HOME={} XDG_CONFIG_HOME={}/config AUCTION_PASSWORD=wrong {tui} --server {} --user mi",
        home.path().display(),
        home.path().display(),
        s.url
    );
    let t = Tmux::start(80, 24, &command);
    t.wait_for("wrong user name or password", Duration::from_secs(10));
    // Fix it in the form.
    t.keys(&[&pw("mi"), "Enter"]);
    t.wait_for("team MI", Duration::from_secs(5));
}

/// A team owner's pool and budget views, and the big screen's countdown,
/// through the real binaries in real terminals.
#[test]
fn the_owners_pool_and_the_big_screens_countdown() {
    let dir = tempfile::tempdir().unwrap();
    let s = start_server(dir.path());
    let home = tempfile::tempdir().unwrap();
    let tui = env!("CARGO_BIN_EXE_auction-tui");
    let env = format!(
        "env HOME={} XDG_CONFIG_HOME={}/config",
        home.path().display(),
        home.path().display()
    );
    let owner = Tmux::start(
        150,
        40,
        &format!(
            "{env} AUCTION_PASSWORD={} {tui} --server {} --user mi",
            pw("mi"),
            s.url
        ),
    );
    let big = Tmux::start(120, 40, &format!("{env} {tui} view --server {}", s.url));
    owner.wait_for("● online", Duration::from_secs(10));
    big.wait_for("● online", Duration::from_secs(10));
    let presenter = |args: &[&str]| {
        let out = ctl(&s.url, "presenter", &pw("presenter"), args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    presenter(&["start", "--seed", "4"]);

    // The pool, filtered to the overseas fast bowlers, then the budget.
    owner.keys(&["v"]);
    owner.wait_for(
        "Pool: 300 players in the round's order",
        Duration::from_secs(2),
    );
    owner.keys(&["F"]);
    owner.keys(&["overseas bowler", "Enter"]);
    owner.wait_for("· overseas bowler", Duration::from_secs(2));
    let screen = owner.screen();
    assert!(
        screen.contains("Kagiso Rabada") && !screen.contains("Yuzvendra Chahal"),
        "{screen}"
    );
    owner.keys(&["v"]);
    owner.wait_for("maximum bid now", Duration::from_secs(2));

    // The big screen counts the lot down, in big digits.
    presenter(&["nominate", "pant"]);
    big.wait_for("last season DC", Duration::from_secs(2));
    let before = big.screen();
    std::thread::sleep(Duration::from_millis(2100));
    let after = big.screen();
    // Nothing else happens meanwhile: only the clock moves.
    assert_ne!(before, after, "the clock moved:\n{after}");
}
