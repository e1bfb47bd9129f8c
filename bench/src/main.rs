//! `auction-bench`: measured figures for BENCHMARKS.md.
//!
//! - `engine`: validate + apply per second on one core (pure, in memory).
//! - `durable`: commands per second through the engine task with sled and
//!   group commit, from many concurrent submitters.

use auction_bench::{load, ssh};

use std::time::Instant;

use anyhow::Context;
use auction_proto::{Access, Actor, Command, TeamCode};
use auction_server::engine::{EngineConfig, spawn};
use auction_server::league::bundled;
use auction_server::store::Store;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "auction-bench")]
struct Cli {
    #[command(subcommand)]
    cmd: Bench,
}

#[derive(Subcommand)]
enum Bench {
    /// Validate + apply, single thread, in memory.
    Engine {
        #[arg(long, default_value_t = 2_000_000)]
        commands: u64,
        /// Repeat the three measurements this many times.
        #[arg(long, default_value_t = 3)]
        rounds: u32,
        /// Only the ceilings run (for a profiler).
        #[arg(long)]
        ceilings_only: bool,
        /// Another league file (the bundled one by default): to compare
        /// builds on the same pool.
        #[arg(long)]
        league: Option<std::path::PathBuf>,
    },
    /// Durable commands per second with group commit.
    Durable {
        #[arg(long, default_value_t = 20_000)]
        commands: u64,
        /// Concurrent submitters (clients).
        #[arg(long, default_value_t = 64)]
        clients: u64,
    },
    /// Bid-to-every-screen latency with N WebSocket viewers (and the TCP floor).
    Load {
        #[arg(long, default_value_t = 1000)]
        viewers: usize,
        #[arg(long, default_value_t = 500)]
        bids: usize,
        /// Bids per second (0: as fast as answered).
        #[arg(long, default_value_t = 100.0)]
        rate: f64,
        /// Also measure plain TCP writes of the same bytes to as many sockets.
        #[arg(long)]
        floor: bool,
        /// Viewers that log in and then never read (a laptop asleep): the
        /// others' figures must not move.
        #[arg(long, default_value_t = 0)]
        stalled: usize,
        /// An already running server (its presenter and team passwords must be the bench's).
        #[arg(long)]
        server: Option<String>,
        /// Print one JSON object (default: a short text summary too).
        #[arg(long)]
        json: bool,
        /// Viewers come as the spectators' page does (fetch it, then the
        /// WebSocket with its Origin).
        #[arg(long)]
        page: bool,
    },
    /// The hostile-network attacks, one at a time on a fresh release server,
    /// while a presenter and two teams bid (loopback only).
    Abuse {
        /// One attack by name (default: all).
        #[arg(long)]
        attack: Option<String>,
        /// How long each attack runs.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
    },
    /// What a fuzz corpus of the `commands` target reaches: commands
    /// accepted, by kind, over every input in the directory.
    FuzzReach {
        /// A corpus directory (fuzz/corpus/commands after a run, or fuzz/seeds/commands).
        dir: std::path::PathBuf,
    },
    /// SSH sessions against the release server: memory, bytes per bid.
    Ssh {
        #[arg(long, default_value_t = 100)]
        sessions: usize,
        #[arg(long, default_value_t = 20)]
        bids: usize,
        /// How many of the sessions are team owners (password login); the rest are big screens.
        #[arg(long, default_value_t = 10)]
        owners: usize,
    },
}

/// The three engine figures, back to back, each `rounds` times (floor,
/// step, ceilings, floor, ...), and the ratios to the floor of the same round.
fn engine(commands: u64, rounds: u32, league: &auction_proto::League) {
    use auction_bench::engine::{Mode, measure};
    for round in 1..=rounds {
        let floor = measure(Mode::Floor, commands, league);
        for f in [Mode::Floor, Mode::Step, Mode::Ceilings].map(|m| match m {
            Mode::Floor => None,
            m => Some(measure(m, commands, league)),
        }) {
            let f = f.as_ref().unwrap_or(&floor);
            println!(
                "{{\"bench\":\"engine\",\"round\":{round},\"mode\":\"{}\",\"commands\":{},\"events\":{},\"seconds\":{:.3},\"per_second\":{:.0},\"events_per_second\":{:.0},\"events_vs_floor\":{:.3}}}",
                f.mode.name(),
                f.commands,
                f.events,
                f.seconds,
                f.per_second(),
                f.events_per_second(),
                f.events_per_second() / floor.events_per_second()
            );
        }
    }
}

async fn durable(commands: u64, clients: u64) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let league = bundled().league;
    let store = Store::open(dir.path()).context("open store")?;
    let (engine, _task) = spawn(store, &league, EngineConfig::default())?;
    let presenter = Actor::new("presenter", Access::Presenter);
    engine
        .submit(presenter.clone(), None, Command::Start { seed: Some(1) })
        .await
        .map_err(|r| anyhow::anyhow!("{r}"))?;
    let per_client = commands / clients;
    let mut hist = hdrhistogram::Histogram::<u64>::new(3)?;
    let t = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let engine = engine.clone();
        tasks.push(tokio::spawn(async move {
            let admin = Actor::new("admin", Access::Admin);
            let team = TeamCode::new(["MI", "CSK", "RCB", "KKR", "DC"][c as usize % 5]);
            let mut lat = Vec::with_capacity(per_client as usize);
            for i in 0..per_client {
                let delta = if i % 2 == 0 { 1 } else { -1 };
                let cmd = Command::AdjustPurse {
                    team: team.clone(),
                    delta,
                    reason: "bench".into(),
                };
                let s = Instant::now();
                let r = engine
                    .submit(admin.clone(), Some(format!("b{c}-{i}")), cmd)
                    .await;
                lat.push(s.elapsed());
                assert!(r.is_ok(), "{r:?}");
            }
            lat
        }));
    }
    for task in tasks {
        for l in task.await? {
            hist.record(l.as_micros() as u64)?;
        }
    }
    let secs = t.elapsed().as_secs_f64();
    let n = per_client * clients;
    println!(
        "{{\"bench\":\"durable\",\"commands\":{n},\"clients\":{clients},\"seconds\":{secs:.3},\"per_second\":{:.0},\"ack_p50_ms\":{:.2},\"ack_p99_ms\":{:.2}}}",
        n as f64 / secs,
        hist.value_at_quantile(0.5) as f64 / 1000.0,
        hist.value_at_quantile(0.99) as f64 / 1000.0,
    );
    Ok(())
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().cmd {
        Bench::Engine {
            commands,
            rounds,
            ceilings_only,
            league,
        } => {
            let league = match league {
                Some(file) => auction_server::league::load(&file)?.league,
                None => bundled().league,
            };
            if ceilings_only {
                let f = auction_bench::engine::measure(
                    auction_bench::engine::Mode::Ceilings,
                    commands,
                    &league,
                );
                println!("{:.0} events/s", f.events_per_second());
                return Ok(());
            }
            engine(commands, rounds, &league);
            Ok(())
        }
        Bench::Durable { commands, clients } => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?
            .block_on(durable(commands, clients)),
        Bench::Load {
            viewers,
            bids,
            rate,
            floor,
            stalled,
            server,
            json,
            page,
        } => {
            let report = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?
                .block_on(load::run(load::LoadConfig {
                    viewers,
                    bids,
                    rate,
                    floor,
                    stalled,
                    server,
                    page,
                }))?;
            if !json {
                eprintln!(
                    "{viewers} viewers, {} bids accepted: ack p50 {:.2} ms p99 {:.2} ms; fan-out p50 {:.2} ms p99 {:.2} ms max {:.2} ms; delivered {}/{}",
                    report.accepted,
                    report.ack_p50_ms,
                    report.ack_p99_ms,
                    report.fanout_p50_ms,
                    report.fanout_p99_ms,
                    report.fanout_max_ms,
                    report.delivered,
                    report.expected
                );
            }
            println!("{}", serde_json::to_string(&report)?);
            Ok(())
        }
        Bench::Ssh {
            sessions,
            bids,
            owners,
        } => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?
            .block_on(ssh::run(sessions, bids, owners)),
        Bench::FuzzReach { dir } => fuzz_reach(&dir),
        Bench::Abuse { attack, seconds } => {
            let reports = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?
                .block_on(auction_bench::abuse::run(attack, seconds))?;
            for r in &reports {
                println!("{}", serde_json::to_string(r)?);
            }
            Ok(())
        }
    }
}

fn fuzz_reach(dir: &std::path::Path) -> anyhow::Result<()> {
    let mut reached = auction_server::fuzz::Accepted::new();
    let mut inputs = 0;
    for file in std::fs::read_dir(dir).with_context(|| dir.display().to_string())? {
        let data = std::fs::read(file?.path())?;
        inputs += 1;
        for (kind, n) in auction_server::fuzz::commands(&data) {
            *reached.entry(kind).or_default() += n;
        }
    }
    println!("{inputs} inputs; accepted, by kind:");
    let kinds = auction_server::fuzz::kinds();
    for name in &kinds {
        println!("  {name:<20} {}", reached.get(name).copied().unwrap_or(0));
    }
    let reached_kinds = kinds.iter().filter(|k| reached.contains_key(*k)).count();
    println!("{reached_kinds} of {} kinds reached", kinds.len());
    Ok(())
}
