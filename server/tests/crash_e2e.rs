//! The real server, killed with SIGKILL at random moments while bots bid
//! over WebSocket, and restarted on the same data directory, again and again.
//! After every restart: every command the server acknowledged is in the log
//! with the seq it was acknowledged with, the log is gapless, and replaying it
//! from the start gives exactly the state the server serves.
//!
//! CI runs 20 cycles; `AUCTION_CRASH_CYCLES=200 cargo nextest run -p
//! auction-server --test crash_e2e` runs the long version (docs/reliability.md).

mod support;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use auction_proto::msg::{ClientMsg, ServerMsg};
use auction_proto::{Command, Entry, PlayerId, State, TeamCode};
use futures_util::StreamExt;
use rand::{Rng, SeedableRng};
use support::*;
use tokio_tungstenite::tungstenite::Message;

fn cycles() -> usize {
    std::env::var("AUCTION_CRASH_CYCLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20)
}

/// Request id -> the seq it was acknowledged with.
type Acks = Arc<Mutex<BTreeMap<String, u64>>>;

/// Sends commands from `pick` as fast as answers come back, recording every
/// acceptance, until the connection dies.
async fn bot(
    url: String,
    user: &'static str,
    cycle: usize,
    acks: Acks,
    ready: tokio::sync::mpsc::Sender<()>,
    mut pick: impl FnMut(&mut rand::rngs::StdRng) -> Command + Send,
) {
    let Ok(Ok((mut ws, _))) = tokio::time::timeout(
        Duration::from_secs(5),
        tokio_tungstenite::connect_async(&url),
    )
    .await
    else {
        return;
    };
    let mut rng = rand::rngs::StdRng::seed_from_u64(cycle as u64 * 31 + user.len() as u64);
    send(&mut ws, &login_msg(user)).await;
    // Logged in (the password check takes a while): ready to bid.
    loop {
        let Ok(Some(Ok(msg))) = tokio::time::timeout(Duration::from_secs(5), ws.next()).await
        else {
            return;
        };
        let Message::Text(t) = msg else { continue };
        if let Ok(ServerMsg::Welcome { .. }) = serde_json::from_str(&t) {
            break;
        }
    }
    let _ = ready.send(()).await;
    for n in 0.. {
        let id = format!("{user}-c{cycle}-{n}");
        let cmd = ClientMsg::Command {
            id: id.clone(),
            command: pick(&mut rng),
        };
        let text = serde_json::to_string(&cmd).unwrap();
        if futures_util::SinkExt::send(&mut ws, Message::Text(text.into()))
            .await
            .is_err()
        {
            return;
        }
        loop {
            let Ok(Some(Ok(msg))) = tokio::time::timeout(Duration::from_secs(5), ws.next()).await
            else {
                return;
            };
            let Message::Text(t) = msg else { continue };
            match serde_json::from_str::<ServerMsg>(&t) {
                Ok(ServerMsg::Accepted { id: got, seq }) if got == id => {
                    acks.lock().unwrap().insert(id, seq);
                    break;
                }
                Ok(ServerMsg::Rejected { id: got, .. }) if got == id => break,
                _ => {}
            }
        }
    }
}

/// Every entry of the log, through the protocol.
async fn whole_log(presenter: &mut Client) -> Vec<Entry> {
    let mut all: Vec<Entry> = Vec::new();
    loop {
        let since = all.last().map_or(0, |e| e.seq);
        send(
            &mut presenter.ws,
            &ClientMsg::History {
                since,
                limit: Some(1000),
            },
        )
        .await;
        let (entries, more) = loop {
            match recv(&mut presenter.ws).await {
                ServerMsg::History { entries, more } => break (entries, more),
                _ => continue,
            }
        };
        all.extend(entries);
        if !more {
            return all;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_at_random_moments_loses_no_acknowledged_command() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let acks: Acks = Arc::default();
    let league = auction_server::league::bundled().league;
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let cycles = cycles();
    let mut last_seq = 0;
    // The last round only checks what the last kill left.
    for cycle in 0..=cycles {
        let mut server = ServerProc::start(&data);
        // Check what the previous cycle left, before anything new happens.
        let mut presenter = Client::login(&server.url, "presenter").await;
        let log = whole_log(&mut presenter).await;
        let seqs: Vec<u64> = log.iter().map(|e| e.seq).collect();
        assert_eq!(
            seqs,
            (1..=log.len() as u64).collect::<Vec<_>>(),
            "cycle {cycle}: the log has a gap"
        );
        assert!(
            log.len() as u64 >= last_seq,
            "cycle {cycle}: the log shrank"
        );
        let by_id: BTreeMap<&str, u64> = log
            .iter()
            .filter_map(|e| e.request_id.as_deref().map(|id| (id, e.seq)))
            .collect();
        for (id, seq) in acks.lock().unwrap().iter() {
            assert_eq!(
                by_id.get(id.as_str()),
                Some(seq),
                "cycle {cycle}: acknowledged command {id} (seq {seq}) is missing"
            );
        }
        let mut replay = State::new(&league);
        for e in &log {
            replay.apply(&e.event);
        }
        assert_eq!(presenter.seq, log.len() as u64, "cycle {cycle}");
        assert_eq!(
            replay, presenter.state,
            "cycle {cycle}: replay differs from the served state"
        );
        last_seq = log.len() as u64;
        if cycle == cycles {
            break;
        }

        // Bots bid while the presenter runs lots; then SIGKILL mid-flight.
        if cycle == 0 {
            presenter
                .cmd(Command::Start { seed: Some(7) })
                .await
                .unwrap();
        }
        // A kill with a lot clock running comes back paused: the presenter
        // resumes, as in the room.
        if presenter.state.phase == auction_proto::Phase::Paused {
            presenter.cmd(Command::Resume).await.unwrap();
        }
        let mut tasks = Vec::new();
        let url = server.url.clone();
        let (ready, mut all_ready) = tokio::sync::mpsc::channel(8);
        tasks.push(tokio::spawn(bot(
            url.clone(),
            "presenter",
            cycle,
            acks.clone(),
            ready.clone(),
            |rng| match rng.random_range(0..10) {
                0..=3 => Command::Next,
                4 => Command::Nominate {
                    player: PlayerId(rng.random_range(1..=100)),
                },
                5 | 6 => Command::Sold,
                7 => Command::Unsold,
                8 => Command::UndoBid,
                _ => Command::GoingOnce,
            },
        )));
        for team in ["mi", "csk", "rcb", "kkr"] {
            tasks.push(tokio::spawn(bot(
                url.clone(),
                team,
                cycle,
                acks.clone(),
                ready.clone(),
                move |_| Command::Raise {
                    team: TeamCode::new(&team.to_uppercase()),
                },
            )));
        }
        // Every bot has sent its login: kill at a random moment from here.
        drop(ready);
        let _ = tokio::time::timeout(Duration::from_secs(5), async {
            for _ in 0..5 {
                all_ready.recv().await;
            }
        })
        .await;
        tokio::time::sleep(Duration::from_millis(rng.random_range(0..500))).await;
        server.kill();
        for t in tasks {
            t.await.unwrap();
        }
    }
    let acked = acks.lock().unwrap().len();
    eprintln!(
        "{cycles} SIGKILL cycles, {acked} acknowledged commands, log at seq {last_seq}: nothing lost"
    );
    assert!(
        acked >= cycles,
        "too few commands were acknowledged to mean anything"
    );
}
