//! The system's OpenSSH client, in a real pseudo-terminal (tmux), against
//! the real server binary, with a key registered by `user add-key`.

mod support;
#[path = "../../tui-client/tests/common/tmux.rs"]
mod tmux;

use std::process::Command as Process;
use std::time::Duration;

use auction_proto::Command;
use support::*;
use tmux::Tmux;

fn server_cmd(data: &std::path::Path, args: &[&str]) -> String {
    let out = Process::new(env!("CARGO_BIN_EXE_auction-server"))
        .arg("--data")
        .arg(data)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_owner_bids_with_openssh_and_a_registered_key() {
    let dir = tempfile::tempdir().unwrap();
    let keys = tempfile::tempdir().unwrap();
    let key = keys.path().join("id_ed25519");
    let status = Process::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "mi's laptop", "-f"])
        .arg(&key)
        .status()
        .expect("ssh-keygen (openssh-client) must be installed");
    assert!(status.success());
    let added = server_cmd(
        dir.path(),
        &[
            "user",
            "add-key",
            "mi",
            key.with_extension("pub").to_str().unwrap(),
        ],
    );
    assert!(added.contains("SHA256:"), "{added}");
    let listed = server_cmd(dir.path(), &["user", "keys", "mi"]);
    assert!(listed.contains("mi's laptop"), "{listed}");

    let server = ServerProc::start(dir.path());
    let ssh_addr = server.ssh.clone().expect("ssh address printed");
    let port = ssh_addr.rsplit(':').next().unwrap();
    // The fingerprint printed at start is the host key's.
    let printed = server
        .stdout
        .iter()
        .find(|l| l.starts_with("ssh on"))
        .unwrap()
        .clone();
    let keygen = Process::new("ssh-keygen")
        .arg("-lf")
        .arg(dir.path().join("ssh_host_ed25519_key"))
        .output()
        .unwrap();
    let fp = String::from_utf8_lossy(&keygen.stdout)
        .split_whitespace()
        .nth(1)
        .unwrap()
        .to_string();
    assert!(printed.contains(&fp), "{printed} does not show {fp}");

    let mut presenter = presenter_with_lot(&server.url, 61).await;

    let command = format!(
        "sh -c 'ssh -tt -p {port} -i {} -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR mi@127.0.0.1; echo SSH-EXIT=$?; sleep 30'",
        key.display()
    );
    let t = Tmux::start(100, 30, &command);
    t.wait_for("team MI", Duration::from_secs(10));
    t.wait_for("Ashutosh Sharma", Duration::from_secs(2));
    t.keys(&["Space"]);
    t.wait_for("YOU LEAD", Duration::from_secs(3));
    presenter.catch_up(3).await;
    let bid = presenter.state.leader().unwrap().clone();
    assert_eq!((bid.team.as_str(), bid.amount.0), ("MI", 30));

    // Another team's bid shows up; a resize redraws at the new size.
    presenter
        .cmd(Command::Raise {
            team: auction_proto::TeamCode::new("CSK"),
        })
        .await
        .unwrap();
    t.wait_for("₹35 L  CSK", Duration::from_secs(3));
    t.resize(70, 22);
    std::thread::sleep(Duration::from_millis(500));
    let screen = t.screen();
    assert!(
        screen
            .lines()
            .next()
            .is_some_and(|l| l.starts_with("IPL 2026")),
        "{screen}"
    );
    assert!(screen.lines().all(|l| l.chars().count() <= 70), "{screen}");
    t.wait_for("₹35 L  CSK", Duration::from_secs(2));

    // q (asked first, with a lot open) ends the session cleanly and gives
    // the terminal back.
    t.keys(&["q"]);
    t.wait_for("Leave while", Duration::from_secs(2));
    t.keys(&["y"]);
    t.wait_for("SSH-EXIT=0", Duration::from_secs(5));
    assert!(
        !t.screen().contains("Ashutosh"),
        "the screen was not restored:\n{}",
        t.screen()
    );
}
