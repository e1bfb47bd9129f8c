//! Team owners over SSH, with a russh client against an in-process server:
//! the team screen arrives, the bid key bids, and a team cannot bid for
//! anyone else whatever bytes it sends.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use auction_proto::{Command, Event, PlayerId, TeamCode};
use auction_server::startup::Running;
use russh::ChannelMsg;
use russh::client;
use support::screen::Screen;
use support::{AcceptAnyHost, password};

fn nz(n: u16) -> std::num::NonZeroU16 {
    std::num::NonZeroU16::new(n).unwrap()
}

async fn server(dir: &std::path::Path) -> Running {
    support::in_process(dir, Some(Default::default())).await
}

async fn start_lot(running: &Running, player: u32) {
    let presenter = auction_proto::Actor::new("presenter", auction_proto::Access::Presenter);
    running
        .engine
        .submit(presenter.clone(), None, Command::Start { seed: Some(1) })
        .await
        .unwrap();
    running
        .engine
        .submit(
            presenter,
            None,
            Command::Nominate {
                player: PlayerId(player),
            },
        )
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_team_bids_over_ssh() {
    let dir = tempfile::tempdir().unwrap();
    let running = server(dir.path()).await;
    let (addr, _) = running.ssh.clone().unwrap();
    start_lot(&running, 61).await;

    let mut mi = Screen::open(addr, "mi", Some(&password("mi")), 100, 30).await;
    mi.wait_for("team MI").await;
    mi.wait_for("Ashutosh Sharma").await;
    mi.send(b" ").await; // the bid key
    mi.wait_for("YOU LEAD").await;
    let snap = running.engine.snapshot().await.unwrap();
    let bid = snap.state.leader().unwrap();
    assert_eq!((bid.team.as_str(), bid.amount.0), ("MI", 30));

    // Arrow keys split across packets still work: esc [ then C.
    let mut viewer = Screen::open(addr, "view", None, 80, 24).await;
    viewer.wait_for("Purse left").await;

    // A resize redraws at the new size.
    mi.channel.window_change(60, 20, 0, 0).await.unwrap();
    mi.parser.screen_mut().set_size(nz(20), nz(60));
    mi.drain(300).await;
    let lines: Vec<String> = mi.text().lines().map(str::to_string).collect();
    assert!(
        lines[0].starts_with("IPL 2026") && lines[0].contains("online"),
        "not redrawn at 60 columns:\n{}",
        mi.text()
    );
    assert!(lines.iter().all(|l| l.chars().count() <= 60));
    assert!(mi.text().contains("bid ₹35 L"), "{}", mi.text());

    // q leaves cleanly with exit status 0.
    // With a lot open, q asks first; y leaves.
    mi.send(b"q").await;
    mi.wait_for("Leave while Ashutosh Sharma is on the block?")
        .await;
    mi.send(b"y").await;
    assert_eq!(mi.until_closed().await, Some(0));
    let text = mi.text();
    assert!(
        !mi.parser.screen().alternate_screen(),
        "the owner's terminal was left in the alternate screen:\n{text}"
    );
    assert!(
        !mi.parser.screen().hide_cursor(),
        "the cursor was left hidden"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_team_over_ssh_cannot_bid_for_another_whatever_it_types() {
    let dir = tempfile::tempdir().unwrap();
    let running = server(dir.path()).await;
    let (addr, _) = running.ssh.clone().unwrap();
    start_lot(&running, 61).await;
    let mut mi = Screen::open(addr, "mi", Some(&password("mi")), 100, 30).await;
    mi.wait_for("Ashutosh Sharma").await;
    // Random bytes: letters, digits, escapes, control keys, enter. Quit keys
    // (q, ctrl-c) are left out so the session lives through it.
    let mut x: u64 = 0xDEADBEEF;
    let alphabet: Vec<u8> = (0x20u8..0x7f)
        .filter(|b| *b != b'q')
        .chain([0x1b, b'\r', 0x7f, b'\t', 0x01, 0x02, b'['])
        .collect();
    for _ in 0..60 {
        let mut chunk = Vec::new();
        for _ in 0..20 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            chunk.push(alphabet[(x % alphabet.len() as u64) as usize]);
        }
        mi.send(&chunk).await;
        // Close whatever dialog the noise opened, then the bid key.
        mi.send(b"\x1b").await;
        mi.drain(40).await;
        mi.send(b" ").await;
    }
    mi.drain(200).await;
    // Whatever happened, every bid in the log is MI's own.
    let history = running.engine.history(0, 10_000).await.unwrap();
    let mut bids = 0;
    for e in &history {
        if let Event::BidPlaced { team, .. } = &e.event {
            assert_eq!(
                team,
                &TeamCode::new("MI"),
                "a bid for {team} came from mi's SSH session"
            );
            bids += 1;
        }
        if e.seq > 2 {
            assert_eq!(e.actor.user, "mi");
            assert!(
                matches!(e.event, Event::BidPlaced { .. }),
                "mi's session did {:?}",
                e.event
            );
        }
    }
    assert!(bids >= 1, "the fuzz never bid");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_or_unknown_account_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let running = server(dir.path()).await;
    let (addr, _) = running.ssh.clone().unwrap();
    let config = Arc::new(client::Config::default());
    let mut handle = client::connect(config.clone(), addr, AcceptAnyHost)
        .await
        .unwrap();
    assert!(
        !handle
            .authenticate_password("mi", "wrong")
            .await
            .unwrap()
            .success()
    );
    let mut handle = client::connect(config.clone(), addr, AcceptAnyHost)
        .await
        .unwrap();
    assert!(
        !handle
            .authenticate_password("nobody", "x")
            .await
            .unwrap()
            .success()
    );
    let mut handle = client::connect(config, addr, AcceptAnyHost).await.unwrap();
    assert!(
        !handle.authenticate_none("mi").await.unwrap().success(),
        "only the open viewer needs no password"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_reads_late_still_ends_up_with_the_right_screen() {
    let dir = tempfile::tempdir().unwrap();
    let running = server(dir.path()).await;
    let (addr, _) = running.ssh.clone().unwrap();
    start_lot(&running, 2).await; // Shreyas Iyer, 2 Cr
    let mut mi = Screen::open(addr, "mi", Some(&password("mi")), 120, 40).await;
    mi.wait_for("Shreyas Iyer").await;
    // A burst of bids while the owner's connection is not read.
    let presenter = auction_proto::Actor::new("presenter", auction_proto::Access::Presenter);
    for i in 0..300 {
        let team = TeamCode::new(if i % 2 == 0 { "CSK" } else { "RCB" });
        running
            .engine
            .submit(presenter.clone(), None, Command::Raise { team })
            .await
            .unwrap();
    }
    let last = running
        .engine
        .snapshot()
        .await
        .unwrap()
        .state
        .leader()
        .unwrap()
        .amount;
    mi.wait_for(&last.to_string()).await;
    let sent = running
        .ssh_counters
        .bytes
        .load(std::sync::atomic::Ordering::Relaxed);
    assert!(sent > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_is_closed_when_its_password_changes() {
    let dir = tempfile::tempdir().unwrap();
    let running = server(dir.path()).await;
    let (addr, _) = running.ssh.clone().unwrap();
    let mut mi = Screen::open(addr, "mi", Some(&password("mi")), 100, 30).await;
    mi.wait_for("team MI").await;
    let auth = running.auth.clone();
    tokio::task::spawn_blocking(move || auth.set_password("mi", "a completely new password"))
        .await
        .unwrap()
        .unwrap();
    let t = Instant::now();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, mi.channel.wait()).await {
            Ok(Some(ChannelMsg::Close)) | Ok(None) => break,
            Ok(Some(ChannelMsg::Data { data })) => mi.parser.process(&data),
            Ok(Some(_)) => {}
            Err(_) => panic!("the session outlived its revoked login"),
        }
    }
    // At once: the revocation wakes the session (it used to poll every 5 s).
    assert!(
        t.elapsed() < Duration::from_secs(2),
        "closed only after {:?}",
        t.elapsed()
    );
    // And the owner is told why, on his own terminal.
    assert!(
        mi.text().contains("Your session has ended"),
        "{}",
        mi.text()
    );
}

/// A server that stops tells every SSH user, on his terminal, that it is
/// restarting and how to come back, before the session closes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ssh_users_are_told_the_server_is_restarting() {
    let dir = tempfile::tempdir().unwrap();
    let running = server(dir.path()).await;
    let (addr, _) = running.ssh.clone().unwrap();
    let mut mi = Screen::open(addr, "mi", Some(&password("mi")), 100, 30).await;
    mi.wait_for("team MI").await;
    running.shutdown_token().cancel();
    let status = mi.until_closed().await;
    assert_eq!(status, Some(0));
    let text = mi.text();
    assert!(text.contains("The auction server is restarting"), "{text}");
    assert!(text.contains("reconnect in a moment"), "{text}");
}

/// Attack #6: the admin's import prompt over SSH named the server's own
/// files (its host key, /etc/shadow, a FIFO, /dev/zero) and the screen
/// opened them on the server. The SSH host now refuses every path.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_over_ssh_opens_none_of_the_servers_files() {
    let dir = tempfile::tempdir().unwrap();
    let running = server(dir.path()).await;
    let (addr, _) = running.ssh.clone().unwrap();
    let seq = running.engine.seq();
    // A readable CSV of good players on the server's disk: even this is
    // not the admin's file to read.
    let csv = dir.path().join("players.csv");
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/../config/players.csv"),
        &csv,
    )
    .unwrap();
    let mut admin = Screen::open(addr, "admin", Some(&password("admin")), 120, 40).await;
    admin.wait_for("admin").await;
    admin.send(b"\t").await; // the players tab
    admin.wait_for("Players").await;
    for path in [csv.to_str().unwrap(), "/dev/zero", "ssh_host_ed25519_key"] {
        admin.send(b"I").await;
        admin.wait_for("CSV file to import").await;
        admin.send(path.as_bytes()).await;
        admin.send(b"\r").await;
        admin.wait_for("over SSH the server opens none").await;
        admin.send(b"\x1b").await;
        admin.drain(100).await;
    }
    assert_eq!(running.engine.seq(), seq, "an import reached the log");
}

/// The admin's log tab starts with the recorded past: the screen asks the
/// server for it (a login's snapshot carries no events), on either door.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_log_tab_loads_the_recorded_history() {
    let dir = tempfile::tempdir().unwrap();
    let running = server(dir.path()).await;
    let (addr, _) = running.ssh.clone().unwrap();
    start_lot(&running, 61).await;
    let mut admin = Screen::open(addr, "admin", Some(&password("admin")), 120, 40).await;
    admin.wait_for("Ashutosh Sharma").await;
    assert!(!admin.text().contains("auction started"));
    // Auction → players → teams → log.
    admin.send(b"\t\t\t").await;
    admin.wait_for("Event log").await;
    admin.wait_for("auction started").await;
    admin.wait_for("on the block: Ashutosh Sharma").await;
}

/// Attack #1: anonymous viewers asked for 1000x1000 terminals: ~90 MiB and
/// seconds of CPU per event each. The screens are drawn at most 300x80
/// (the big screen's design limit), whatever size is asked, and a flood of
/// window changes is drawn at the last size, not once per change.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_huge_terminal_is_drawn_at_most_300_by_80() {
    let dir = tempfile::tempdir().unwrap();
    let running = server(dir.path()).await;
    let (addr, _) = running.ssh.clone().unwrap();
    start_lot(&running, 61).await;
    let mut viewer = Screen::open(addr, "view", None, 1000, 1000).await;
    viewer.wait_for("Purse left").await;
    viewer.drain(300).await;
    let rows: Vec<String> = viewer.text().lines().map(str::to_string).collect();
    let used_rows = rows.iter().rposition(|l| !l.trim().is_empty()).unwrap() + 1;
    let used_cols = rows
        .iter()
        .map(|l| l.trim_end().chars().count())
        .max()
        .unwrap();
    assert!(used_rows <= 80, "drawn on {used_rows} rows");
    assert!(used_cols <= 300, "drawn on {used_cols} columns");
    // Two hundred window changes in a burst: the session keeps up and ends
    // at the last size.
    let before = running
        .ssh_counters
        .bytes
        .load(std::sync::atomic::Ordering::Relaxed);
    for n in 0..200u32 {
        viewer
            .channel
            .window_change(100 + n % 50, 30 + n % 20, 0, 0)
            .await
            .unwrap();
    }
    viewer.channel.window_change(90, 28, 0, 0).await.unwrap();
    viewer.parser.screen_mut().set_size(nz(28), nz(90));
    viewer.drain(500).await;
    let sent = running
        .ssh_counters
        .bytes
        .load(std::sync::atomic::Ordering::Relaxed)
        - before;
    assert!(sent < 200 * 20_000, "{sent} bytes for a burst of resizes");
    let lines: Vec<String> = viewer.text().lines().map(str::to_string).collect();
    assert!(lines.iter().all(|l| l.chars().count() <= 90));
    assert!(viewer.text().contains("Purse left"), "{}", viewer.text());
}
