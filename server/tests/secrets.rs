//! No password, token or key reaches the log, even at `trace`.

mod support;

use std::sync::Arc;

use auction_proto::msg::{ClientMsg, PROTOCOL_VERSION, ServerMsg};
use russh::client;
use support::*;

async fn ssh_password(addr: &str, user: &str, password: &str) -> bool {
    let config = Arc::new(client::Config::default());
    let mut handle = client::connect(config, addr, AcceptAnyHost).await.unwrap();
    handle
        .authenticate_password(user, password)
        .await
        .unwrap()
        .success()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_is_ever_logged() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("server.log");
    let mut server = ServerProc::start_logging(&dir.path().join("data"), &[], &log, "trace");
    let mut secrets: Vec<String> = ACCOUNTS.iter().map(|u| password(u)).collect();

    // Logins that work and logins that do not, over WebSocket and SSH.
    let mut admin = Client::login(&server.url, "admin").await;
    let mi = Client::login(&server.url, "mi").await;
    secrets.extend([admin.token.clone(), mi.token.clone()]);
    let wrong = "Wrong-Guess-7781".to_string();
    let mut ws = connect(&server.url).await;
    let bad = ClientMsg::Login {
        v: PROTOCOL_VERSION,
        user: "csk".into(),
        password: wrong.clone(),
    };
    error_for(&mut ws, &bad).await;
    let resume = ClientMsg::Resume {
        v: PROTOCOL_VERSION,
        token: mi.token.clone(),
        last_seq: 0,
    };
    send(&mut ws, &resume).await;
    assert!(matches!(recv(&mut ws).await, ServerMsg::Welcome { .. }));
    let forged = "forged-token-0123456789abcdef".to_string();
    let mut ws2 = connect(&server.url).await;
    let resume = ClientMsg::Resume {
        v: PROTOCOL_VERSION,
        token: forged.clone(),
        last_seq: 0,
    };
    error_for(&mut ws2, &resume).await;
    let fresh = "Fresh-Password-4242".to_string();
    send(
        &mut admin.ws,
        &ClientMsg::SetPassword {
            user: "rcb".into(),
            password: fresh.clone(),
        },
    )
    .await;
    loop {
        if let ServerMsg::PasswordSet { .. } = recv(&mut admin.ws).await {
            break;
        }
    }
    let ssh = server.ssh.clone().expect("ssh is on");
    assert!(ssh_password(&ssh, "rcb", &fresh).await);
    assert!(!ssh_password(&ssh, "kkr", &wrong).await);
    assert!(ssh_password(&ssh, "dc", &password("dc")).await);
    secrets.extend([wrong, forged, fresh]);

    server.terminate();
    // The SSH host key's private part, line by line.
    let key = std::fs::read_to_string(dir.path().join("data/ssh_host_ed25519_key")).unwrap();
    secrets.extend(
        key.lines()
            .filter(|l| !l.starts_with("-----") && l.len() > 20)
            .map(str::to_string),
    );
    let text = std::fs::read_to_string(&log).unwrap();
    // The log is really there, at trace level, and about these very logins.
    assert!(text.contains("logged in"), "{text}");
    assert!(text.contains("failed login"), "{text}");
    assert!(text.contains("password set"), "{text}");
    assert!(text.contains("TRACE") || text.contains("DEBUG"), "{text}");
    for secret in &secrets {
        assert!(!secret.is_empty());
        if let Some(line) = text.lines().find(|l| l.contains(secret.as_str())) {
            eprintln!("LEAK: {line}");
        }
        assert!(
            !text.contains(secret.as_str()),
            "the log holds a secret ({} chars)",
            secret.len()
        );
    }
}

#[tokio::test]
async fn the_default_level_logs_no_protocol_chatter() {
    // Keeping tungstenite's traces out once raised it to debug at every
    // level: a line per close frame, at 10,000 screens a flood.
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("server.log");
    let mut server = ServerProc::start_logging(&dir.path().join("data"), &[], &log, "info");
    let viewer = Client::login(&server.url, "viewer").await;
    drop(viewer);
    let mut ws = connect(&server.url).await;
    send(&mut ws, &login_msg("presenter")).await;
    assert!(matches!(recv(&mut ws).await, ServerMsg::Welcome { .. }));
    futures_util::SinkExt::close(&mut ws).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    server.terminate();
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("logged in"), "{text}");
    assert!(!text.contains("DEBUG") && !text.contains("TRACE"), "{text}");
}

/// Hostile-network #13: the data directory was 0755 and sled's files 0644
/// (password hashes, shortlists, session hashes), and credentials.txt kept
/// a mode it already had. Directory 0700, every file 0600, fixed at start.
#[test]
fn the_data_directory_is_private_and_fixed_at_start() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let check = |data: &std::path::Path| {
        assert_eq!(mode(data), 0o700, "{}", data.display());
        for entry in walk(data) {
            let want = if entry.is_dir() { 0o700 } else { 0o600 };
            assert_eq!(mode(&entry), want, "{}", entry.display());
        }
    };
    // A credentials file left from before, readable by all.
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("credentials.txt"), "mi old-password\n").unwrap();
    let mut server = ServerProc::start(&data);
    assert!(server.terminate().success());
    check(&data);
    // Loosened by hand (or by an older version): tightened again at start.
    for entry in walk(&data).into_iter().chain([data.clone()]) {
        std::fs::set_permissions(&entry, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let mut server = ServerProc::start(&data);
    assert!(server.terminate().success());
    check(&data);
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        }
        out.push(path);
    }
    out
}
