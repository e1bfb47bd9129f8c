//! Kill -9 at random moments: every acknowledged command survives, and the
//! recovered state equals a replay of the log.
//!
//! The parent test re-runs this test binary as a child process (selecting
//! `crash_child_process` with an environment variable set); the child runs an
//! engine on a real sled directory and prints `ack SEQ ID` for every command
//! it was told is durable, until it is killed.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command as Process, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use auction_proto::{Access, Actor, Command, TeamCode};
use auction_server::engine::{EngineConfig, spawn};
use auction_server::league::bundled;
use auction_server::store::Store;
use rand::{Rng, SeedableRng};

const CHILD_ENV: &str = "AUCTION_CRASH_CHILD_DIR";

fn cycles() -> usize {
    std::env::var("AUCTION_CRASH_CYCLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(25)
}

/// The child: submits commands from four tasks until killed.
#[test]
fn crash_child_process() {
    let Ok(dir) = std::env::var(CHILD_ENV) else {
        return; // only meaningful when started by `kill_nine_never_loses_an_acknowledged_command`
    };
    let cycle: u64 = std::env::var("AUCTION_CRASH_CYCLE")
        .unwrap()
        .parse()
        .unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let store = Store::open(std::path::Path::new(&dir)).unwrap();
        let config = EngineConfig {
            snapshot_every: 50,
            ..EngineConfig::default()
        };
        let (engine, _task) = spawn(store, &bundled().league, config).unwrap();
        let presenter = Actor::new("presenter", Access::Presenter);
        engine
            .submit(
                presenter.clone(),
                None,
                Command::Start { seed: Some(cycle) },
            )
            .await
            .ok();
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        for worker in 0..4u64 {
            let engine = engine.clone();
            let tx = tx.clone();
            let presenter = presenter.clone();
            tokio::spawn(async move {
                let mut rng = rand::rngs::StdRng::seed_from_u64(cycle * 10 + worker);
                for i in 0.. {
                    let teams = ["CSK", "MI", "RCB", "KKR", "DC"];
                    let code = TeamCode::new(teams[rng.random_range(0..teams.len())]);
                    let (actor, cmd) = match rng.random_range(0..10) {
                        0 => (presenter.clone(), Command::Next),
                        1..=5 => (
                            Actor::new(code.account(), Access::Team { team: code.clone() }),
                            Command::Raise { team: code },
                        ),
                        6 => (presenter.clone(), Command::Sold),
                        7 => (presenter.clone(), Command::Unsold),
                        _ => (
                            Actor::new("admin", Access::Admin),
                            Command::AdjustPurse {
                                team: code,
                                delta: 1,
                                reason: "crash test".into(),
                            },
                        ),
                    };
                    let id = format!("c{cycle}-w{worker}-{i}");
                    if let Ok(seq) = engine.submit(actor, Some(id.clone()), cmd).await {
                        if tx.send(format!("ack {seq} {id}")).is_err() {
                            return;
                        }
                    }
                }
            });
        }
        drop(tx);
        // One writer to stdout, flushed per line: a line printed is a line the parent sees.
        tokio::task::spawn_blocking(move || {
            let mut out = std::io::stdout().lock();
            writeln!(out, "ready").unwrap();
            out.flush().unwrap();
            for line in rx {
                writeln!(out, "{line}").unwrap();
                out.flush().unwrap();
            }
        })
        .await
        .unwrap();
    });
}

#[test]
fn kill_nine_never_loses_an_acknowledged_command() {
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let mut rng = rand::rngs::StdRng::seed_from_u64(0xC0FFEE);
    let mut acked: BTreeMap<u64, String> = BTreeMap::new();
    let cycles = cycles();
    for cycle in 0..cycles {
        let mut child = Process::new(&exe)
            .args([
                "crash_child_process",
                "--exact",
                "--nocapture",
                "--test-threads",
                "1",
            ])
            .env(CHILD_ENV, dir.path())
            .env("AUCTION_CRASH_CYCLE", cycle.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        // Wait until the child is serving, then let it run a random while.
        // (libtest prints its own lines first.)
        loop {
            let line = rx
                .recv_timeout(Duration::from_secs(30))
                .expect("child did not start");
            if line.ends_with("ready") {
                break;
            }
        }
        let run_for = Duration::from_millis(rng.random_range(5..250));
        let until = Instant::now() + run_for;
        let mut this_cycle = 0;
        while let Some(left) = until.checked_duration_since(Instant::now()) {
            match rx.recv_timeout(left) {
                Ok(line) => {
                    if let Some(rest) = line.strip_prefix("ack ") {
                        let (seq, id) = rest.split_once(' ').unwrap();
                        acked.insert(seq.parse().unwrap(), id.to_string());
                        this_cycle += 1;
                    }
                }
                Err(_) => break,
            }
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        // Acks already printed before the kill count too.
        for line in rx.try_iter() {
            if let Some(rest) = line.strip_prefix("ack ") {
                let (seq, id) = rest.split_once(' ').unwrap();
                acked.insert(seq.parse().unwrap(), id.to_string());
            }
        }
        reader.join().unwrap();

        let store = Store::open(dir.path()).unwrap();
        let league = bundled().league;
        let recovered = store.recover(&league).unwrap();
        let entries: Vec<_> = store.all_entries().collect::<Result<_, _>>().unwrap();
        let by_seq: BTreeMap<u64, Option<String>> = entries
            .iter()
            .map(|e| (e.seq, e.request_id.clone()))
            .collect();
        for (seq, id) in &acked {
            assert_eq!(
                by_seq.get(seq).cloned().flatten().as_deref(),
                Some(id.as_str()),
                "cycle {cycle}: acknowledged seq {seq} ({id}) is missing after kill -9"
            );
        }
        let (replayed, last) = store.replay_from_start(&league).unwrap();
        assert_eq!(last, recovered.seq);
        assert_eq!(
            replayed, recovered.state,
            "cycle {cycle}: recovered state differs from the replay"
        );
        assert!(
            this_cycle > 0 || run_for < Duration::from_millis(50),
            "cycle {cycle}: the child acknowledged nothing in {run_for:?}"
        );
        drop(store);
    }
    assert!(
        acked.len() > cycles * 5,
        "too few commands acknowledged ({}) to mean anything",
        acked.len()
    );
    eprintln!(
        "{cycles} kill -9 cycles, {} acknowledged commands, none lost",
        acked.len()
    );
}
