//! The server's sub-commands, run as a user would.

use std::process::{Command, Stdio};

fn server() -> Command {
    Command::new(env!("CARGO_BIN_EXE_auction-server"))
}

#[test]
fn check_config_summarises_the_bundled_league() {
    let out = server().arg("check-config").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "Teams (10)",
        "Mumbai Indians",
        "Marquee",
        "purse ₹120 Cr per team; squad 18 to 25",
        "OK",
    ] {
        assert!(text.contains(needle), "missing `{needle}` in:\n{text}");
    }
}

#[test]
fn check_config_names_the_broken_line() {
    let dir = tempfile::tempdir().unwrap();
    let toml =
        auction_server::league::BUNDLED_LEAGUE.replace("overseas_max = 8", "overseas_max = -1");
    std::fs::write(dir.path().join("league.toml"), toml).unwrap();
    std::fs::write(
        dir.path().join("players.csv"),
        auction_server::league::BUNDLED_PLAYERS,
    )
    .unwrap();
    let out = server()
        .arg("check-config")
        .arg(dir.path().join("league.toml"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("league.toml:") && err.contains("overseas_max"),
        "{err}"
    );
}

#[test]
fn passwd_changes_a_password() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let out = server()
        .args(["--data", data, "passwd", "mi"])
        .env("AUCTION_PASSWORD", "a-brand-new-password")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = server()
        .args(["--data", data, "passwd", "nobody"])
        .env("AUCTION_PASSWORD", "a-brand-new-password")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no account `nobody`"));
    let out = server()
        .args(["--data", data, "passwd", "mi"])
        .env("AUCTION_PASSWORD", "short")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 8"));
    // The new password works and the generated one is in credentials.txt, mode 0600.
    let store = auction_server::store::Store::open(dir.path()).unwrap();
    let auth = auction_server::auth::Auth::open(&store, true).unwrap();
    let ip = "127.0.0.1".parse().unwrap();
    assert!(auth.login("mi", "a-brand-new-password", ip).is_ok());
    let creds = dir.path().join("credentials.txt");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&creds).unwrap().permissions().mode() & 0o777,
        0o600
    );
}

#[test]
fn failed_logins_are_throttled_per_account_and_address_and_per_address() {
    let dir = tempfile::tempdir().unwrap();
    let (_store, auth) = provisioned(dir.path());
    use auction_server::auth::LoginError;
    let a: std::net::IpAddr = "10.0.0.1".parse().unwrap();
    let b: std::net::IpAddr = "10.0.0.2".parse().unwrap();
    for _ in 0..5 {
        assert_eq!(
            auth.login("mi", "wrong", a).unwrap_err(),
            LoginError::BadCredentials
        );
    }
    // Now that address waits for that account, even with the right password...
    assert!(matches!(
        auth.login("mi", "mi-right-password", a),
        Err(LoginError::Throttled(_))
    ));
    // ...but the owner at another address is not locked out by a stranger.
    assert!(auth.login("mi", "mi-right-password", b).is_ok());
    // Guessing across accounts from one address stops after its free tries.
    let others = ["csk", "rcb", "kkr", "dc", "rr", "pbks", "srh", "gt", "lsg"];
    let mut throttled = false;
    for (n, user) in others.iter().cycle().take(20).enumerate() {
        match auth.login(user, "wrong", a) {
            Err(LoginError::Throttled(_)) => throttled = true,
            other => assert_eq!(other.unwrap_err(), LoginError::BadCredentials, "{n}"),
        }
    }
    assert!(throttled);
    assert!(matches!(
        auth.login("csk", "csk-right-password", a),
        Err(LoginError::Throttled(_))
    ));
    // Another account from another address is not affected.
    assert!(auth.login("csk", "csk-right-password", b).is_ok());
}

/// Hostile-network #8: a password changed through AUCTION_PASSWORD_<USER>
/// at a restart left the old sessions valid: resuming with an old token
/// still gave `welcome` as MI. Any password change ends the account's
/// sessions.
#[test]
fn a_password_changed_at_restart_ends_the_accounts_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let league = auction_server::league::bundled().league;
    let ip: std::net::IpAddr = "127.0.0.1".parse().unwrap();
    let token = {
        let store = auction_server::store::Store::open(dir.path()).unwrap();
        let auth = auction_server::auth::Auth::open(&store, true).unwrap();
        auth.provision(&league, |u| Some(format!("{u}-first-password")))
            .unwrap();
        let mi = auth.login("mi", "mi-first-password", ip).unwrap();
        let csk = auth.login("csk", "csk-first-password", ip).unwrap();
        assert!(auth.resume(&mi.token).is_some());
        (mi.token, csk.token)
    };
    let store = auction_server::store::Store::open(dir.path()).unwrap();
    let auth = auction_server::auth::Auth::open(&store, true).unwrap();
    // The restart: MI's password changes, CSK's stays the same.
    auth.provision(&league, |u| {
        Some(match u {
            "mi" => "mi-second-password".to_string(),
            _ => format!("{u}-first-password"),
        })
    })
    .unwrap();
    assert!(auth.resume(&token.0).is_none(), "MI's old session survived");
    assert!(
        auth.resume(&token.1).is_some(),
        "CSK's session was ended for nothing"
    );
}

/// Hostile-network #15: removing an owner's SSH key left the sessions it
/// opened valid. Taking a key away ends the account's sessions; adding one
/// does not.
#[test]
fn removing_an_ssh_key_ends_the_accounts_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let (_store, auth) = provisioned(dir.path());
    let key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDYdwk5/9Xob+4uWpVDDaeVxj+JJRK0stFnyCYDsumCG mi@laptop";
    auth.set_keys("mi", vec![key.to_string()]).unwrap();
    // What a login with that key opens.
    let by_key = auth.open_session("mi").unwrap();
    auth.set_keys("mi", vec![key.to_string(), format!("{key}2")])
        .unwrap();
    assert!(
        auth.resume(&by_key.token).is_some(),
        "adding a key ended a session"
    );
    auth.set_keys("mi", vec![format!("{key}2")]).unwrap();
    assert!(
        auth.resume(&by_key.token).is_none(),
        "the removed key's session lives on"
    );
}

/// Hostile-network #10: every viewer login stored a 24 h session and
/// flushed (3,000 logins in 5 s grew the store 160 -> 940 KiB), and expired
/// sessions were deleted only on resume. Open viewers' sessions are not
/// stored at all; an account keeps at most 100; expired ones go.
#[test]
fn stored_sessions_are_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let store = auction_server::store::Store::open(dir.path()).unwrap();
    let auth = auction_server::auth::Auth::open(&store, true).unwrap();
    let league = auction_server::league::bundled().league;
    auth.provision(&league, |u| {
        (u != "viewer").then(|| format!("{u}-right-password"))
    })
    .unwrap();
    let sessions = store.tree("sessions").unwrap();
    let viewers: Vec<_> = (0..3000)
        .map(|_| auth.open_session("viewer").unwrap())
        .collect();
    assert_eq!(sessions.len(), 0, "viewer sessions were stored");
    // A viewer still resumes with its token.
    let resumed = auth.resume(&viewers[0].token).unwrap();
    assert_eq!(resumed.access, auction_proto::Access::Viewer);
    // One account keeps at most its limit; the oldest session ends.
    let cap = auction_server::auth::MAX_SESSIONS_PER_ACCOUNT;
    let mi: Vec<_> = (0..cap + 20)
        .map(|_| auth.open_session("mi").unwrap())
        .collect();
    assert_eq!(sessions.len(), cap);
    assert!(auth.resume(&mi[0].token).is_none());
    assert!(auth.resume(&mi[cap + 19].token).is_some());
    // A made-up open-viewer token is not a way in as anyone else.
    let fake = auth.resume(&format!("open.{}", "0".repeat(64))).unwrap();
    assert_eq!(fake.access, auction_proto::Access::Viewer);
}

/// The bundled league's accounts in a fresh store, every password
/// `<user>-right-password`.
fn provisioned(
    dir: &std::path::Path,
) -> (auction_server::store::Store, auction_server::auth::Auth) {
    let store = auction_server::store::Store::open(dir).unwrap();
    let auth = auction_server::auth::Auth::open(&store, true).unwrap();
    let league = auction_server::league::bundled().league;
    auth.provision(&league, |u| Some(format!("{u}-right-password")))
        .unwrap();
    (store, auth)
}

/// A second server (or an offline command) on a data directory in use is
/// refused in plain words, said once, with exit code 1.
#[test]
fn a_data_directory_in_use_is_refused_in_plain_words_once() {
    let dir = tempfile::tempdir().unwrap();
    let _held = auction_server::store::Store::open(dir.path()).unwrap();
    for args in [
        vec!["--listen", "127.0.0.1:0", "--no-ssh", "serve"],
        vec!["log"],
    ] {
        let out = server()
            .env("RUST_BACKTRACE", "0")
            .arg("--data")
            .arg(dir.path())
            .args(&args)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let said = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            said.matches("is in use by another auction-server").count(),
            1,
            "{args:?}: {said}"
        );
        assert!(said.contains("Error: cannot open"), "{args:?}: {said}");
    }
}
