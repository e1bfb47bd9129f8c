//! Attacks from the shared network (the hostile-network issue), each
//! reproduced as an attacker would, from loopback addresses standing for
//! other machines (127.0.0.2, ...). Each test failed before its fix.

mod support;

use auction_proto::msg::{ErrorCode, ServerMsg};
use auction_server::engine::EngineConfig;
use auction_server::limits::Limits;
use auction_server::startup::{Options, Running, start};
use support::*;

async fn in_process(dir: &std::path::Path) -> Running {
    let opts = Options {
        data_dir: dir.to_path_buf(),
        league: auction_server::league::bundled(),
        listen: "127.0.0.1:0".into(),
        limits: Limits::default(),
        engine: EngineConfig::default(),
        ssh_listen: None,
        ssh_limits: Default::default(),
        origins: Default::default(),
        tls: None,
    };
    start(opts, |var| {
        let user = var.strip_prefix("AUCTION_PASSWORD_")?.to_lowercase();
        (user != "viewer").then(|| password(&user))
    })
    .await
    .unwrap()
}

fn is_welcome(msg: &ServerMsg) -> bool {
    matches!(msg, ServerMsg::Welcome { .. })
}

fn error_code(msg: &ServerMsg) -> Option<ErrorCode> {
    match msg {
        ServerMsg::Error { code, .. } => Some(*code),
        _ => None,
    }
}

/// #4: six wrong passwords from another machine locked the real presenter
/// out, and one wrong try every 0.5 s kept him out 40 times of 40.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stranger_cannot_lock_the_presenter_out() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProc::start(dir.path());
    for _ in 0..6 {
        let mut stranger = connect_from(&server.url, "127.0.0.2").await;
        let answer = try_login(&mut stranger, "presenter", "guess").await;
        assert!(!is_welcome(&answer));
    }
    for round in 0..10 {
        let mut stranger = connect_from(&server.url, "127.0.0.2").await;
        let answer = try_login(&mut stranger, "presenter", "guess").await;
        assert_eq!(
            error_code(&answer),
            Some(ErrorCode::Throttled),
            "{answer:?}"
        );
        let mut presenter = connect_from(&server.url, "127.0.0.1").await;
        let answer = try_login(&mut presenter, "presenter", &password("presenter")).await;
        assert!(is_welcome(&answer), "round {round}: {answer:?}");
    }
}

/// #3: 100 simultaneous wrong logins from one address were each hashed
/// (45 of them; 900 MiB). Now they take their throttle place first: only
/// the free attempts are hashed, the rest are refused at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_wrong_logins_is_hashed_only_as_often_as_it_may_fail() {
    let dir = tempfile::tempdir().unwrap();
    let running = in_process(dir.path()).await;
    let url = format!("ws://{}/ws", running.addr);
    let mut sockets = Vec::new();
    for _ in 0..100 {
        sockets.push(connect_from(&url, "127.0.0.3").await);
    }
    let before = running.auth.hashes();
    let answers = futures_util::future::join_all(
        sockets
            .iter_mut()
            .map(|ws| async move { try_login(ws, "mi", "wrong").await }),
    )
    .await;
    let hashed = running.auth.hashes() - before;
    let codes: Vec<_> = answers.iter().map(error_code).collect();
    let bad = codes
        .iter()
        .filter(|c| **c == Some(ErrorCode::BadCredentials))
        .count();
    let throttled = codes
        .iter()
        .filter(|c| **c == Some(ErrorCode::Throttled))
        .count();
    let free = auction_server::throttle::ACCOUNT_FROM_FREE as usize;
    assert_eq!((bad, throttled), (free, 100 - free), "{codes:?}");
    assert_eq!(hashed, free as u64);
    // The owner, elsewhere, still gets in.
    let mut mi = connect_from(&url, "127.0.0.1").await;
    assert!(is_welcome(&try_login(&mut mi, "mi", &password("mi")).await));
}

/// #11: a successful login (an open viewer's) cleared the address's
/// failures, so 24 wrong logins interleaved with viewer logins were never
/// throttled.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logging_in_as_the_viewer_does_not_excuse_guesses() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProc::start(dir.path());
    let accounts = ["mi", "csk", "rcb", "kkr", "dc", "rr", "pbks", "srh"];
    let mut throttled = false;
    for n in 0..24 {
        let mut viewer = connect_from(&server.url, "127.0.0.4").await;
        assert!(is_welcome(&try_login(&mut viewer, "viewer", "").await));
        let mut guesser = connect_from(&server.url, "127.0.0.4").await;
        let answer = try_login(&mut guesser, accounts[n % accounts.len()], "guess").await;
        throttled |= error_code(&answer) == Some(ErrorCode::Throttled);
    }
    assert!(throttled, "24 guesses from one address were never slowed");
}
