//! A server whose event log fails stops, through the real binary, with the
//! reason and a non-zero exit: never a silent exit 0 while the room thinks
//! it is still bidding.

mod support;

use std::time::Duration;

use auction_proto::msg::ServerMsg;
use auction_proto::{Command, RejectCode};
use support::{Client, ServerProc, recv};

/// The size of the data directory's largest file (sled's `db`), in KiB.
fn db_kib(data: &std::path::Path) -> u64 {
    std::fs::metadata(data.join("db")).unwrap().len() / 1024
}

#[tokio::test]
async fn a_full_disk_under_the_log_stops_the_server_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    // A first server shows how large a fresh log starts; the second, on a
    // fresh directory, may grow its files by 16 KiB past that.
    let probe = dir.path().join("probe");
    let mut first = ServerProc::start(&probe);
    assert!(first.terminate().success());
    let log = dir.path().join("server.log");
    let data = dir.path().join("data");
    let mut server = ServerProc::start_with_file_limit(&data, db_kib(&probe) + 16, &log);
    let mut presenter = Client::login(&server.url, "presenter").await;
    presenter
        .cmd(Command::Start { seed: Some(1) })
        .await
        .unwrap();
    let mut refused = None;
    for n in 0..2_000 {
        let command = if n % 2 == 0 {
            Command::Next
        } else {
            Command::Unsold
        };
        let id = presenter.send_cmd(command).await;
        let answer = tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                match recv(&mut presenter.ws).await {
                    ServerMsg::Accepted { id: got, .. } if got == id => return None,
                    ServerMsg::Rejected { id: got, code, .. } if got == id => return Some(code),
                    _ => {}
                }
            }
        })
        .await
        .expect("no answer from the server");
        if let Some(code) = answer {
            refused = Some(code);
            break;
        }
    }
    // The command that could not be stored was refused, never acknowledged.
    assert_eq!(refused, Some(RejectCode::Unavailable));
    let status = server
        .exit_within(Duration::from_secs(15))
        .expect("the server kept running without its log");
    assert!(!status.success(), "{status:?}");
    let stderr = std::fs::read_to_string(&log).unwrap();
    assert!(
        stderr.contains("the event log failed, so the auction stopped"),
        "{stderr}"
    );
    // A log written to a file carries no terminal colour codes.
    assert!(!stderr.contains('\x1b'), "escape codes in the log file");
}

/// SIGTERM at once after the server says where it listens stops it
/// cleanly (exit 0, log flushed): the handler is in place before the
/// first line. It used to be installed after the last one, and a quick
/// SIGTERM killed the process instead.
#[test]
fn sigterm_right_after_start_stops_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    for n in 0..5 {
        let mut server = ServerProc::start(&dir.path().join(n.to_string()));
        let status = server.terminate();
        assert!(status.success(), "start {n}: {status:?}");
    }
}
