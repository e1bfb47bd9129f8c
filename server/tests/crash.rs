//! Kill -9 at random moments: every acknowledged command survives, and the
//! recovered state equals a replay of the log.
//!
//! The child process is server/examples/crash_child.rs: it runs an engine
//! on a real sled directory and prints `ack SEQ ID` for every command it
//! was told is durable, until it is killed.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Command as Process, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use auction_server::league::bundled;
use auction_server::store::Store;
use rand::{Rng, SeedableRng};

fn cycles() -> usize {
    std::env::var("AUCTION_CRASH_CYCLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(25)
}

/// The child program (server/examples/crash_child.rs), built beside the
/// tests by `cargo test`; built here if a narrower build left it out.
fn child_exe() -> std::path::PathBuf {
    let deps = std::env::current_exe().unwrap();
    let profile = deps.parent().unwrap().parent().unwrap();
    let exe = profile.join("examples").join("crash_child");
    if !exe.exists() {
        let status = Process::new(env!("CARGO"))
            .args(["build", "-p", "auction-server", "--example", "crash_child"])
            .status()
            .unwrap();
        assert!(status.success(), "could not build the crash child");
    }
    exe
}

#[test]
fn kill_nine_never_loses_an_acknowledged_command() {
    let dir = tempfile::tempdir().unwrap();
    let exe = child_exe();
    let mut rng = rand::rngs::StdRng::seed_from_u64(0xC0FFEE);
    let mut acked: BTreeMap<u64, String> = BTreeMap::new();
    let cycles = cycles();
    for cycle in 0..cycles {
        let mut child = Process::new(&exe)
            .arg(dir.path())
            .arg(cycle.to_string())
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
