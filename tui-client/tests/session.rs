//! The client's network session against the real server: it reconnects by
//! itself after the server dies and resumes from its last seq, with no event
//! missing or repeated.

#[path = "common/server.rs"]
mod server;

use std::time::Duration;

use auction_tui::app::NetEvent;
use auction_tui::session::{self, Login};
use server::{ctl, pw, start_server, start_server_on};
use tokio::sync::mpsc;

async fn next(rx: &mut mpsc::UnboundedReceiver<NetEvent>) -> NetEvent {
    tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("no event within 10 s")
        .expect("session ended")
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
    let (tx, mut rx) = mpsc::unbounded_channel();
    let _out = session::spawn(
        Login {
            server: s.url.clone(),
            user: "mi".into(),
            password: pw("mi"),
            ca: None,
        },
        tx,
    );
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
    let (tx, mut rx) = mpsc::unbounded_channel();
    let _out = session::spawn(
        Login {
            server: s.url.clone(),
            user: "mi".into(),
            password: "nope".into(),
            ca: None,
        },
        tx,
    );
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
