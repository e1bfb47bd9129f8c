//! The crash test's child (server/tests/crash.rs): runs an engine on a real
//! sled directory, submits commands from four tasks, and prints `ack SEQ
//! ID` for every command it was told is durable, until it is killed with
//! SIGKILL. `crash_child DATA_DIR CYCLE`.

use std::io::Write;

use auction_proto::{Access, Actor, Command, TeamCode};
use auction_server::engine::{EngineConfig, spawn};
use auction_server::league::bundled;
use auction_server::store::Store;
use rand::{Rng, SeedableRng};

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(dir), Some(cycle)) = (args.next(), args.next()) else {
        eprintln!("usage: crash_child DATA_DIR CYCLE");
        std::process::exit(2);
    };
    let cycle: u64 = cycle.parse().expect("CYCLE is a number");
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
