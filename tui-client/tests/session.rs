//! The client's network session against the real server: it reconnects by
//! itself after the server dies and resumes from its last seq, with no event
//! missing or repeated.

#[path = "common/server.rs"]
mod server;

use std::time::Duration;

use auction_screens::link::NetEvent;
use auction_tui::session::{self, Login};
use server::{ctl, pw, start_server, start_server_on};
use tokio::sync::mpsc;

async fn next(rx: &mut mpsc::Receiver<NetEvent>) -> NetEvent {
    tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("no event within 10 s")
        .expect("session ended")
}

/// A session of `user` with `password` to `url`: what it sends, what it
/// hears.
fn log_in(
    url: &str,
    user: &str,
    password: &str,
) -> (
    mpsc::Sender<auction_screens::link::Outgoing>,
    mpsc::Receiver<NetEvent>,
) {
    let link = session::spawn(Login {
        server: url.to_string(),
        user: user.into(),
        password: password.into(),
        trust: Default::default(),
    });
    (link.out, link.events)
}

async fn run_ctl(url: &str, user: &str, args: &[&str]) {
    let (url, user, args) = (
        url.to_string(),
        user.to_string(),
        args.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
    );
    let out = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        ctl(&url, &user, &pw(&user), &args)
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnects_and_resumes_from_the_last_seq_after_a_server_crash() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = start_server(dir.path());
    let (_out, mut rx) = log_in(&s.url, "mi", &pw("mi"));
    assert!(matches!(next(&mut rx).await, NetEvent::Connecting));
    match next(&mut rx).await {
        NetEvent::Welcome {
            snapshot: Some(snap),
            ..
        } => assert_eq!(snap.seq, 0),
        other => panic!("{other:?}"),
    }
    run_ctl(&s.url, "presenter", &["start"]).await;
    let mut seqs = Vec::new();
    while seqs.is_empty() {
        if let NetEvent::Event(e) = next(&mut rx).await {
            seqs.push(e.seq);
        }
    }
    // The server dies; two commands happen on the restarted one before the client is back.
    s.kill();
    let addr = s.addr.clone();
    let s2 = start_server_on(dir.path(), &addr);
    run_ctl(&s2.url, "presenter", &["nominate", "1"]).await;
    run_ctl(&s2.url, "csk", &["raise", "CSK"]).await;
    let mut saw_disconnect = false;
    let mut saw_welcome = false;
    while seqs.len() < 3 {
        match next(&mut rx).await {
            NetEvent::Disconnected { .. } => saw_disconnect = true,
            NetEvent::Welcome { snapshot, .. } => {
                saw_welcome = true;
                assert!(
                    snapshot.is_none(),
                    "a resume within the window gets events, not a snapshot"
                );
            }
            NetEvent::Event(e) => seqs.push(e.seq),
            NetEvent::Snapshot(_) => panic!("unexpected snapshot"),
            _ => {}
        }
    }
    assert!(saw_disconnect && saw_welcome);
    assert_eq!(
        seqs,
        [1, 2, 3],
        "events missing or repeated across the reconnect"
    );
    // And live events keep coming.
    run_ctl(&s2.url, "mi", &["raise", "MI"]).await;
    loop {
        if let NetEvent::Event(e) = next(&mut rx).await {
            assert_eq!(e.seq, 4);
            break;
        }
    }
}

#[tokio::test]
async fn a_wrong_password_ends_the_session_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let s = start_server(dir.path());
    let (_out, mut rx) = log_in(&s.url, "mi", "nope");
    loop {
        match next(&mut rx).await {
            NetEvent::LoginFailed(m) => {
                assert!(m.contains("wrong user name or password"), "{m}");
                break;
            }
            NetEvent::Connecting => {}
            other => panic!("{other:?}"),
        }
    }
}

#[path = "common/proxy.rs"]
mod proxy;

/// Cuts, a stall and half-open connections between a team's session and the
/// server, while the auction goes on: the session reconnects by itself each
/// time and ends with every event exactly once, in order, with the server's
/// state.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flaky_network_loses_and_repeats_nothing() {
    use auction_proto::{Command, TeamCode};
    use auction_tui::net::WsClient;

    let dir = tempfile::tempdir().unwrap();
    let s = start_server(dir.path());
    let net = proxy::Proxy::start(&s.addr).await;
    let timing = session::Timing {
        connect_timeout: Duration::from_millis(1000),
        ping_every: Duration::from_millis(200),
        dead_after: Duration::from_millis(1000),
        first_backoff: Duration::from_millis(50),
        max_backoff: Duration::from_millis(400),
    };
    let link = session::spawn_with(
        Login {
            server: format!("ws://{}/ws", net.addr),
            user: "mi".into(),
            password: pw("mi"),
            trust: Default::default(),
        },
        timing,
    );
    let (_out, mut rx) = (link.out, link.events);
    // What the session delivers, collected as it comes.
    let (seen_tx, mut seen) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some(ev) = rx.recv().await {
            if seen_tx.send(ev).is_err() {
                break;
            }
        }
    });
    // Logged in before the first fault (a first login that fails is shown
    // to the user instead of retried).
    let first = loop {
        match tokio::time::timeout(Duration::from_secs(10), seen.recv()).await {
            Ok(Some(NetEvent::Welcome {
                snapshot: Some(snap),
                ..
            })) => break snap,
            Ok(Some(_)) => {}
            other => panic!("no first login: {other:?}"),
        }
    };
    let mut presenter = WsClient::connect(&s.url, &Default::default())
        .await
        .unwrap();
    presenter
        .login("presenter", &pw("presenter"))
        .await
        .unwrap();
    let mut n = 0u64;
    let mut last_seq = 0;
    let mut command = async |presenter: &mut WsClient, cmd: Command| {
        n += 1;
        presenter
            .send(&auction_proto::msg::ClientMsg::Command {
                id: format!("p{n}"),
                command: cmd,
            })
            .await
            .unwrap();
        loop {
            match presenter.recv_raw().await.unwrap().0 {
                auction_proto::msg::ServerMsg::Accepted { seq, .. } => return Some(seq),
                auction_proto::msg::ServerMsg::Rejected { .. } => return None,
                _ => {}
            }
        }
    };
    last_seq = command(&mut presenter, Command::Start { seed: Some(3) })
        .await
        .unwrap_or(last_seq);
    type Fault<'a> = (&'a str, &'a dyn Fn(&proxy::Proxy));
    let faults: [Fault; 4] = [
        ("cut", &|p| p.cut()),
        ("stall", &|p| p.stall()),
        ("half-open", &|p| p.half_open()),
        ("cut again", &|p| p.cut()),
    ];
    for (name, fault) in faults {
        // The room goes on: a lot with bids, during the fault.
        fault(&net);
        for cmd in [
            Command::Next,
            Command::Raise {
                team: TeamCode::new("CSK"),
            },
            Command::Raise {
                team: TeamCode::new("MI"),
            },
            Command::Sold,
        ] {
            if let Some(seq) = command(&mut presenter, cmd).await {
                last_seq = seq;
            }
        }
        tokio::time::sleep(Duration::from_millis(1500)).await;
        net.resume();
        eprintln!("{name}: server at seq {last_seq}");
    }
    // Everything arrives once, in order, and the state is the server's.
    let mut seqs = vec![first.seq];
    let mut state = Some(first.state);
    let mut drops = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while seqs.last().copied().unwrap_or(0) < last_seq {
        let ev = tokio::time::timeout_at(deadline, seen.recv())
            .await
            .unwrap_or_else(|_| panic!("stuck at {:?} of {last_seq}", seqs.last()))
            .expect("session ended");
        match ev {
            NetEvent::Welcome {
                snapshot: Some(snap),
                ..
            } => {
                panic!(
                    "a snapshot after the first login (seq {}): events were lost",
                    snap.seq
                );
            }
            NetEvent::Snapshot(_) => panic!("a resync snapshot: the resume missed events"),
            NetEvent::Event(e) => {
                seqs.push(e.seq);
                state.as_mut().unwrap().apply(&e.event);
            }
            NetEvent::Disconnected { .. } => drops += 1,
            _ => {}
        }
    }
    let first = seqs[0];
    assert_eq!(
        seqs,
        (first..=last_seq).collect::<Vec<_>>(),
        "missing or repeated events"
    );
    assert!(drops >= 4, "only {drops} reconnections for 4 faults");
    let snapshot = presenter_snapshot(&mut presenter).await;
    assert_eq!(state.unwrap(), snapshot);
}

async fn presenter_snapshot(presenter: &mut auction_tui::net::WsClient) -> auction_proto::State {
    use auction_proto::msg::{ClientMsg, ServerMsg};
    presenter.send(&ClientMsg::Snapshot).await.unwrap();
    loop {
        if let ServerMsg::Snapshot(s) = presenter.recv_raw().await.unwrap().0 {
            return s.state;
        }
    }
}

/// The admin changes a team's password: that team's open session ends at
/// once with the server's reason (the screen goes back to its login form),
/// instead of retrying a login that can only fail.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_password_ends_the_session_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let s = start_server(dir.path());
    let (_out, mut rx) = log_in(&s.url, "mi", &pw("mi"));
    while !matches!(next(&mut rx).await, NetEvent::Welcome { .. }) {}
    let mut admin = auction_tui::net::WsClient::connect(&s.url, &Default::default())
        .await
        .unwrap();
    admin.login("admin", &pw("admin")).await.unwrap();
    let set = auction_proto::msg::ClientMsg::SetPassword {
        user: "mi".into(),
        password: "a brand new password".into(),
    };
    admin.send(&set).await.unwrap();
    let t = std::time::Instant::now();
    loop {
        match next(&mut rx).await {
            NetEvent::LoginFailed(reason) => {
                assert!(reason.contains("password changed"), "{reason}");
                break;
            }
            NetEvent::Disconnected { reason, .. } => panic!("retrying a dead login: {reason}"),
            _ => {}
        }
    }
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
}
