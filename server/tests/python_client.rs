//! A client that is not ours, written from docs/protocol.md alone (Python
//! and the `websockets` package), logs in as a team and bids.

mod support;

use support::*;

fn run_python(url: &str, user: &str) -> (bool, String) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/bid.py");
    let out = std::process::Command::new("python3")
        .args([script, url, user, &password(user)])
        .output()
        .expect("python3 must be installed (CI installs it with the websockets package)");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("ModuleNotFoundError"),
        "the websockets package is missing: pip install websockets\n{stderr}"
    );
    (
        out.status.success(),
        format!("{}{stderr}", String::from_utf8_lossy(&out.stdout)),
    )
}

#[tokio::test]
async fn a_python_websockets_client_bids_from_the_docs() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProc::start(dir.path());
    let mut presenter = presenter_with_lot(&server.url, 2).await; // 2 Cr

    let url = server.url.clone();
    let (ok, out) = tokio::task::spawn_blocking(move || run_python(&url, "mi"))
        .await
        .unwrap();
    assert!(ok, "{out}");
    assert!(out.contains("\"accepted\""), "{out}");
    let url = server.url.clone();
    let (ok, out) = tokio::task::spawn_blocking(move || run_python(&url, "kkr"))
        .await
        .unwrap();
    assert!(ok, "{out}");

    presenter.catch_up(4).await;
    let bids = &presenter.state.lot.as_ref().unwrap().bids;
    let seen: Vec<(String, u64)> = bids
        .iter()
        .map(|b| (b.team.to_string(), b.amount.0))
        .collect();
    assert_eq!(seen, [("MI".to_string(), 200), ("KKR".to_string(), 220)]);
}
