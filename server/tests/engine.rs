//! The engine task over a real sled directory: durability, recovery,
//! idempotent retries, group commit, ordered fan-out.

mod common_league;

use std::sync::Arc;
use std::time::Duration;

use auction_proto::{Access, Actor, Command, Money, PlayerId, RejectCode, TeamCode};
use auction_server::engine::{Catchup, EngineConfig, spawn};
use auction_server::store::{SCHEMA_VERSION, Store, StoreError};
use common_league::*;

/// Starts the auction and puts `player` on the block.
async fn open_lot(engine: &auction_server::engine::EngineHandle, player: u32) {
    engine
        .submit(presenter(), None, Command::Start { seed: Some(1) })
        .await
        .unwrap();
    engine
        .submit(
            presenter(),
            None,
            Command::Nominate {
                player: PlayerId(player),
            },
        )
        .await
        .unwrap();
}

fn bid(code: &str, lakh: u64) -> Command {
    Command::Bid {
        team: TeamCode::new(code),
        amount: Money(lakh),
    }
}

#[tokio::test]
async fn acknowledged_commands_survive_a_restart_and_replay_equals_live() {
    let dir = tempfile::tempdir().unwrap();
    let league = small_league();
    let config = EngineConfig {
        snapshot_every: 4,
        ..EngineConfig::default()
    };
    let live = {
        let (engine, task) =
            spawn(Store::open(dir.path()).unwrap(), &league, config.clone()).unwrap();
        engine
            .submit(presenter(), None, Command::Start { seed: Some(1) })
            .await
            .unwrap();
        for id in [1, 2, 3] {
            engine
                .submit(
                    presenter(),
                    None,
                    Command::Nominate {
                        player: PlayerId(id),
                    },
                )
                .await
                .unwrap();
            engine
                .submit(
                    team("MI"),
                    None,
                    Command::Raise {
                        team: TeamCode::new("MI"),
                    },
                )
                .await
                .ok();
            engine
                .submit(
                    team("CSK"),
                    None,
                    Command::Raise {
                        team: TeamCode::new("CSK"),
                    },
                )
                .await
                .ok();
            engine
                .submit(presenter(), None, Command::Sold)
                .await
                .unwrap();
        }
        let snap = engine.snapshot().await.unwrap();
        drop(engine);
        task.await.unwrap().unwrap();
        snap
    };
    assert!(live.seq >= 10);
    let store = Store::open(dir.path()).unwrap();
    let recovered = store.recover(&league).unwrap();
    assert_eq!(recovered.seq, live.seq);
    assert_eq!(recovered.state, live.state);
    assert!(
        recovered.replayed < live.seq,
        "a snapshot should have been used"
    );
    let (replayed, seq) = store.replay_from_start(&league).unwrap();
    assert_eq!((replayed, seq), (live.state, live.seq));
}

#[tokio::test]
async fn the_log_keeps_its_league_even_if_another_is_passed_later() {
    let dir = tempfile::tempdir().unwrap();
    let first = small_league();
    {
        let (engine, task) = spawn(
            Store::open(dir.path()).unwrap(),
            &first,
            EngineConfig::default(),
        )
        .unwrap();
        engine
            .submit(presenter(), None, Command::Start { seed: Some(1) })
            .await
            .unwrap();
        drop(engine);
        task.await.unwrap().unwrap();
    }
    let mut other = small_league();
    other.name = "Another League".into();
    let recovered = Store::open(dir.path()).unwrap().recover(&other).unwrap();
    assert_eq!(recovered.league, first);
    assert_eq!(recovered.state.league_name, "Test League");
}

#[test]
fn a_log_from_a_newer_version_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = sled::open(dir.path()).unwrap();
        let meta = db.open_tree("meta").unwrap();
        meta.insert(
            "schema_version",
            serde_json::to_vec(&(SCHEMA_VERSION + 1)).unwrap(),
        )
        .unwrap();
        db.flush().unwrap();
    }
    match Store::open(dir.path()) {
        Err(e @ StoreError::NewerSchema { .. }) => {
            let msg = e.to_string();
            assert!(
                msg.contains("newer version") && msg.contains("--data"),
                "{msg}"
            );
        }
        Err(other) => panic!("wrong error: {other}"),
        Ok(_) => panic!("a newer log was opened"),
    }
}

#[tokio::test]
async fn a_retried_request_id_returns_the_first_result_even_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let league = small_league();
    let id = || Some("req-1".to_string());
    {
        let (engine, task) = spawn(
            Store::open(dir.path()).unwrap(),
            &league,
            EngineConfig::default(),
        )
        .unwrap();
        open_lot(&engine, 6).await;
        let first = engine
            .submit(team("MI"), id(), bid("MI", 20))
            .await
            .unwrap();
        let again = engine
            .submit(team("MI"), id(), bid("MI", 20))
            .await
            .unwrap();
        assert_eq!(first, again);
        // The same id from another account is another request.
        let other = engine
            .submit(team("CSK"), id(), bid("CSK", 20))
            .await
            .unwrap_err();
        assert_eq!(other.code, RejectCode::BelowMinimum);
        let again = engine
            .submit(team("CSK"), id(), bid("CSK", 25))
            .await
            .unwrap_err();
        assert_eq!(
            again.code,
            RejectCode::BelowMinimum,
            "a rejection is remembered too"
        );
        drop(engine);
        task.await.unwrap().unwrap();
    }
    let (engine, _task) = spawn(
        Store::open(dir.path()).unwrap(),
        &league,
        EngineConfig::default(),
    )
    .unwrap();
    assert_eq!(
        engine
            .submit(team("MI"), id(), bid("MI", 20))
            .await
            .unwrap(),
        3
    );
    let snap = engine.snapshot().await.unwrap();
    assert_eq!(snap.seq, 3);
    assert_eq!(snap.state.lot.unwrap().bids.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_commands_share_flushes_and_get_gapless_seqs() {
    let dir = tempfile::tempdir().unwrap();
    let (engine, _task) = spawn(
        Store::open(dir.path()).unwrap(),
        &small_league(),
        EngineConfig::default(),
    )
    .unwrap();
    let mut sub = engine.subscribe(None).await.unwrap();
    engine
        .submit(presenter(), None, Command::Start { seed: Some(1) })
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for i in 0..200u64 {
        let engine = engine.clone();
        tasks.push(tokio::spawn(async move {
            let delta = if i % 2 == 0 { 1 } else { -1 };
            engine
                .submit(
                    admin(),
                    Some(format!("adj-{i}")),
                    Command::AdjustPurse {
                        team: TeamCode::new("MI"),
                        delta,
                        reason: "churn".into(),
                    },
                )
                .await
        }));
    }
    let mut seqs: Vec<u64> = Vec::new();
    for t in tasks {
        seqs.push(t.await.unwrap().unwrap());
    }
    seqs.sort_unstable();
    assert_eq!(seqs, (2..=201).collect::<Vec<_>>());
    for expected in 1..=201 {
        let published = tokio::time::timeout(Duration::from_secs(5), sub.events.recv())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(published.entry.seq, expected);
    }
}

#[tokio::test]
async fn subscribers_catch_up_from_their_last_seq() {
    let dir = tempfile::tempdir().unwrap();
    let config = EngineConfig {
        resume_window: 3,
        ..EngineConfig::default()
    };
    let (engine, _task) = spawn(Store::open(dir.path()).unwrap(), &small_league(), config).unwrap();
    open_lot(&engine, 6).await;
    engine
        .submit(team("MI"), None, bid("MI", 20))
        .await
        .unwrap();
    engine
        .submit(team("CSK"), None, bid("CSK", 25))
        .await
        .unwrap();
    match engine.subscribe(Some(2)).await.unwrap().catchup {
        Catchup::Events(entries) => {
            assert_eq!(entries.iter().map(|e| e.seq).collect::<Vec<_>>(), [3, 4]);
        }
        Catchup::Snapshot(_) => panic!("expected events"),
    }
    // Too far behind, or ahead of the server (a reset data dir): a snapshot.
    for since in [0, 99] {
        match engine.subscribe(Some(since)).await.unwrap().catchup {
            Catchup::Snapshot(s) => assert_eq!(s.seq, 4),
            Catchup::Events(_) => panic!("expected a snapshot for since={since}"),
        }
    }
    let history = engine.history(1, 2).await.unwrap();
    assert_eq!(history.iter().map(|e| e.seq).collect::<Vec<_>>(), [2, 3]);
}

#[tokio::test]
async fn a_stopped_engine_answers_unavailable() {
    let dir = tempfile::tempdir().unwrap();
    let (engine, task) = spawn(
        Store::open(dir.path()).unwrap(),
        &small_league(),
        EngineConfig::default(),
    )
    .unwrap();
    task.abort();
    let _ = task.await;
    let r = engine
        .submit(presenter(), None, Command::Start { seed: None })
        .await
        .unwrap_err();
    assert_eq!(r.code, RejectCode::Unavailable);
    assert!(engine.is_closed());
}

#[tokio::test]
async fn the_automatic_clock_runs_a_lot_to_the_hammer() {
    let dir = tempfile::tempdir().unwrap();
    let mut league = with_clock(small_league(), true);
    if let Some(clock) = &mut league.rules.clock {
        clock.lot_seconds = 1;
        clock.stage_seconds = 1;
        clock.min_seconds_after_bid = 1;
    }
    let (engine, _task) = spawn(
        Store::open(dir.path()).unwrap(),
        &league,
        EngineConfig::default(),
    )
    .unwrap();
    let mut sub = engine.subscribe(None).await.unwrap();
    open_lot(&engine, 6).await;
    engine
        .submit(team("RCB"), None, bid("RCB", 20))
        .await
        .unwrap();
    let mut kinds = Vec::new();
    while kinds.last() != Some(&"player_sold") {
        let p = tokio::time::timeout(Duration::from_secs(10), sub.events.recv())
            .await
            .unwrap()
            .unwrap();
        kinds.push(p.entry.event.kind());
        if p.entry.event.kind() == "stage_changed" {
            assert_eq!(p.entry.actor, auction_proto::Actor::system());
        }
    }
    assert_eq!(
        kinds,
        [
            "auction_started",
            "lot_opened",
            "bid_placed",
            "stage_changed",
            "stage_changed",
            "player_sold"
        ]
    );
}

/// Hostile-network #5: the request-id memory was shared by every account
/// and filled with refused commands, viewers' included; after a flood, a
/// retried `csk-bid-1` placed a second bid. Each account now keeps its own
/// ids, and viewers' are not kept at all.
#[tokio::test]
async fn a_flood_from_other_accounts_cannot_make_a_retry_apply_twice() {
    let dir = tempfile::tempdir().unwrap();
    let config = EngineConfig {
        remembered_per_account: 100,
        ..EngineConfig::default()
    };
    let (engine, _task) = spawn(Store::open(dir.path()).unwrap(), &small_league(), config).unwrap();
    open_lot(&engine, 1).await;
    let raise = || Command::Raise {
        team: TeamCode::new("CSK"),
    };
    let id = Some("csk-bid-1".to_string());
    let first = engine
        .submit(team("CSK"), id.clone(), raise())
        .await
        .unwrap();
    // Twice the memory's size of forbidden commands, from a viewer and
    // from another team.
    for n in 0..200 {
        let from_viewer = engine
            .submit(viewer(), Some(format!("v-{n}")), Command::Sold)
            .await;
        assert_eq!(from_viewer.unwrap_err().code, RejectCode::Forbidden);
        let from_mi = engine
            .submit(team("MI"), Some(format!("mi-{n}")), raise())
            .await;
        assert_eq!(from_mi.unwrap_err().code, RejectCode::WrongTeam);
    }
    let seq = engine.seq();
    let retry = engine.submit(team("CSK"), id, raise()).await;
    assert_eq!(
        retry,
        Ok(first),
        "the retry was not answered as the first time"
    );
    assert_eq!(engine.seq(), seq, "the retry was applied again");
}

/// A restart mid-lot: the lot clock does not run down while the server is
/// away. A clean stop pauses the auction with the time the lot had; after
/// a crash the lot comes back paused with the time it had at the last
/// recorded event. The presenter resumes it.
#[tokio::test]
async fn a_restart_mid_lot_brings_the_lot_back_paused_with_its_time() {
    use auction_proto::{Phase, Timer};
    use std::sync::atomic::{AtomicU64, Ordering};
    let dir = tempfile::tempdir().unwrap();
    let league = auction_server::league::bundled().league; // 30 s lots
    let now = Arc::new(AtomicU64::new(1_800_000_000_000));
    let config = {
        let now = now.clone();
        EngineConfig {
            clock: Arc::new(move || now.load(Ordering::SeqCst)),
            ..EngineConfig::default()
        }
    };
    let presenter = Actor::new("presenter", Access::Presenter);
    let frozen = |state: &auction_proto::State| match state.lot.as_ref().and_then(|l| l.timer) {
        Some(Timer::Frozen { remaining_ms }) if state.phase == Phase::Paused => Some(remaining_ms),
        _ => None,
    };

    // A clean stop 10 s into the lot: 20 s left, kept.
    let (engine, task) = spawn(Store::open(dir.path()).unwrap(), &league, config.clone()).unwrap();
    open_lot(&engine, 1).await;
    now.fetch_add(10_000, Ordering::SeqCst);
    drop(engine);
    task.await.unwrap().unwrap();
    now.fetch_add(600_000, Ordering::SeqCst); // ten minutes down
    let (engine, task) = spawn(Store::open(dir.path()).unwrap(), &league, config.clone()).unwrap();
    let state = engine.snapshot().await.unwrap().state;
    assert_eq!(frozen(&state), Some(20_000), "{:?}", state.lot);
    engine
        .submit(presenter.clone(), None, Command::Resume)
        .await
        .unwrap();
    let state = engine.snapshot().await.unwrap().state;
    let Some(Timer::Running { deadline_ms }) = state.lot.as_ref().and_then(|l| l.timer) else {
        panic!("{:?}", state.lot);
    };
    assert_eq!(
        deadline_ms - now.load(Ordering::SeqCst),
        20_000,
        "the lot resumes with its time"
    );

    // A crash (the task stops without its clean end) 5 s after the resume:
    // the lot comes back with the time it had at the resume, 20 s.
    now.fetch_add(5_000, Ordering::SeqCst);
    task.abort();
    let _ = task.await;
    drop(engine);
    now.fetch_add(600_000, Ordering::SeqCst);
    let (engine, _task) = spawn(Store::open(dir.path()).unwrap(), &league, config).unwrap();
    let state = engine.snapshot().await.unwrap().state;
    assert_eq!(frozen(&state), Some(20_000), "{:?}", state.lot);
    let history = engine.history(0, 100).await.unwrap();
    let last = history.last().unwrap();
    assert!(
        matches!(last.event, auction_proto::Event::Paused { .. }) && last.actor.user == "system"
    );
}
