//! The fan-out writes events to every session from its own thread, beside
//! the session's own replies: nothing may be split, repeated or lost.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use auction_proto::msg::{ClientMsg, ServerMsg};
use auction_proto::{Command, TeamCode};
use support::*;

fn bid(team: &str) -> Command {
    Command::Raise {
        team: TeamCode::new(team),
    }
}

/// Folds one message into `seq`: events must follow on, a snapshot may
/// only move forward and resets what comes next.
fn follow(seq: &mut u64, msg: &ServerMsg) {
    match msg {
        ServerMsg::Event(e) => {
            assert_eq!(e.seq, *seq + 1, "gap or repeat after {seq}");
            *seq = e.seq;
        }
        ServerMsg::Snapshot(s) => {
            assert!(s.seq >= *seq, "a snapshot at {} after {seq}", s.seq);
            *seq = s.seq;
        }
        _ => {}
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshots_and_history_pages_mid_stream_are_never_split_by_an_event() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProc::start(dir.path());
    let _presenter = presenter_with_lot(&server.url, 1).await;
    let mut mi = Client::login(&server.url, "mi").await;
    let mut csk = Client::login(&server.url, "csk").await;
    let mut viewer = Client::login(&server.url, "viewer").await;

    // Two teams raise each other while the viewer keeps asking for large
    // messages (snapshots and history pages, several frames each).
    let last = Arc::new(AtomicU64::new(0));
    let bidding = tokio::spawn({
        let last = last.clone();
        async move {
            let mut seq = 0;
            for i in 0..150 {
                seq = if i % 2 == 0 {
                    mi.cmd(bid("mi")).await.unwrap()
                } else {
                    csk.cmd(bid("csk")).await.unwrap()
                };
            }
            last.store(seq, Ordering::Release);
        }
    });
    let mut seq = viewer.seq;
    let (mut snapshots, mut pages) = (0, 0);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    for n in 0u64.. {
        let done = last.load(Ordering::Acquire);
        if done != 0 && seq >= done {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "events stopped at {seq} (last {done})"
        );
        if n % 7 == 0 {
            let ask = if n % 2 == 0 {
                ClientMsg::Snapshot
            } else {
                ClientMsg::History {
                    since: 0,
                    limit: Some(1000),
                }
            };
            send(&mut viewer.ws, &ask).await;
        }
        // A frame of an event inside a fragmented message is a protocol
        // error here, and `recv` panics on it. Caught up before the bidders
        // have said they are done: look again.
        let wait = std::time::Duration::from_millis(200);
        let Ok(msg) = tokio::time::timeout(wait, recv(&mut viewer.ws)).await else {
            continue;
        };
        match &msg {
            ServerMsg::Snapshot(_) => snapshots += 1,
            ServerMsg::History { .. } => pages += 1,
            _ => {}
        }
        follow(&mut seq, &msg);
    }
    bidding.await.unwrap();
    assert!(
        snapshots > 3 && pages > 3,
        "{snapshots} snapshots, {pages} pages"
    );
}
