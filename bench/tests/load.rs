//! A short load run in the test suite: every viewer gets every event, in
//! order. Completeness only; speed is for BENCHMARKS.md.

use auction_bench::load::{LoadConfig, run};

fn ensure_server_built() {
    // The bench starts the auction-server binary that sits next to it.
    let me = std::env::current_exe().unwrap();
    let debug_dir = me.parent().unwrap().parent().unwrap();
    if !debug_dir.join("auction-server").exists() {
        let status = std::process::Command::new(env!("CARGO"))
            .args(["build", "-p", "auction-server", "--bin", "auction-server"])
            .status()
            .unwrap();
        assert!(status.success());
    }
}

async fn complete(viewers: usize) {
    ensure_server_built();
    let report = run(LoadConfig {
        viewers,
        bids: 60,
        rate: 0.0,
        floor: viewers <= 10,
        stalled: usize::from(viewers > 10),
        server: None,
        // The larger run comes the spectators' page's way.
        page: viewers > 10,
    })
    .await
    .unwrap();
    assert_eq!(report.accepted, 60, "{report:?}");
    assert_eq!(report.expected, (viewers * 60) as u64);
    assert_eq!(
        report.delivered, report.expected,
        "a viewer missed an event: {report:?}"
    );
    assert_eq!(report.out_of_order, 0, "{report:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_viewers_get_every_event() {
    complete(10).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_viewers_get_every_event() {
    complete(200).await;
}
