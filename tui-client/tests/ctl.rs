//! `auction-tui ctl` end to end: the real client binary against the real
//! server binary.

#[path = "common/server.rs"]
mod server;

use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use server::{ctl, pw, start_server, start_server_on, start_server_with};

fn ok(out: &Output) -> String {
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

#[test]
fn a_lot_from_three_terminals_with_ctl() {
    let dir = tempfile::tempdir().unwrap();
    let s = start_server(dir.path());
    let presenter = |args: &[&str]| ctl(&s.url, "presenter", &pw("presenter"), args);

    // A viewer watching from a third terminal.
    let mut watch = Command::new(env!("CARGO_BIN_EXE_auction-tui"))
        .args(["ctl", "--server", &s.url, "--user", "viewer", "watch"])
        .env("AUCTION_PASSWORD", "")
        .stdout(Stdio::piped())
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    let watch_out = watch.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(watch_out).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    std::thread::sleep(Duration::from_millis(300));

    assert_eq!(
        ok(&presenter(&["start", "--seed", "4"])).trim(),
        "accepted seq=1"
    );
    assert_eq!(
        ok(&presenter(&["nominate", "pant"])).trim(),
        "accepted seq=2"
    );
    assert_eq!(
        ok(&ctl(&s.url, "mi", &pw("mi"), &["bid", "MI", "2cr"])).trim(),
        "accepted seq=3"
    );
    // A team cannot bid for another: exit 1 and the reason on stderr.
    let out = ctl(&s.url, "mi", &pw("mi"), &["bid", "CSK", "3cr"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("rejected: wrong_team: "), "{err}");
    assert_eq!(
        ok(&ctl(&s.url, "csk", &pw("csk"), &["raise", "csk"])).trim(),
        "accepted seq=4"
    );
    let out = ctl(&s.url, "mi", &pw("mi"), &["bid", "MI", "2.1cr"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("below_minimum"));
    assert_eq!(ok(&presenter(&["once"])).trim(), "accepted seq=5");
    assert_eq!(ok(&presenter(&["twice"])).trim(), "accepted seq=6");
    assert_eq!(ok(&presenter(&["sold"])).trim(), "accepted seq=7");

    let state = ok(&presenter(&["state"]));
    assert!(
        state.contains("CSK") && state.contains("₹117.8 Cr"),
        "{state}"
    );
    let history = ok(&presenter(&["history", "--since", "5"]));
    assert_eq!(history.lines().count(), 2, "{history}");
    assert!(
        history.contains("SOLD: Rishabh Pant to CSK for ₹2.2 Cr"),
        "{history}"
    );
    let json = ok(&ctl(
        &s.url,
        "presenter",
        &pw("presenter"),
        &["--json", "history"],
    ));
    for line in json.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert!(v["type"].is_string());
        assert_ne!(
            v["token"].as_str().map(str::len),
            Some(64),
            "the token must not be printed"
        );
    }

    // The night so far, for a spreadsheet and for a script.
    let export: serde_json::Value =
        serde_json::from_str(&ok(&presenter(&["export", "--format", "json"]))).unwrap();
    let csk = export["teams"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["code"] == "CSK")
        .unwrap();
    assert_eq!(csk["squad"][0]["name"], "Rishabh Pant");
    assert_eq!(csk["squad"][0]["price_lakh"], 220);
    assert_eq!(csk["purse_left_lakh"], 11780);
    let out = tempfile::NamedTempFile::new().unwrap();
    ok(&presenter(&[
        "export",
        "--out",
        out.path().to_str().unwrap(),
    ]));
    let csv = std::fs::read_to_string(out.path()).unwrap();
    assert!(
        csv.contains("CSK,") && csv.contains("Rishabh Pant"),
        "{csv}"
    );

    // The watcher saw all seven events, in order.
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut seen = Vec::new();
    while seen.len() < 7 && Instant::now() < deadline {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(200)) {
            seen.push(line);
        }
    }
    let _ = watch.kill();
    let _ = watch.wait();
    assert_eq!(seen.len(), 7, "{seen:#?}");
    for (i, line) in seen.iter().enumerate() {
        assert!(line.starts_with(&format!("#{}", i + 1)), "{line}");
    }
    assert!(seen[6].contains("SOLD"), "{}", seen[6]);
}

#[test]
fn usage_connection_and_login_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let s = start_server(dir.path());
    let bad_password = ctl(&s.url, "mi", "wrong", &["state"]);
    assert_eq!(bad_password.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad_password.stderr).contains("login as mi failed"));
    let bad_amount = ctl(&s.url, "mi", &pw("mi"), &["bid", "MI", "lots"]);
    assert_eq!(bad_amount.status.code(), Some(2));
    let unknown = ctl(
        &s.url,
        "presenter",
        &pw("presenter"),
        &["nominate", "nobody at all"],
    );
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no player matches"));
    // A port nobody listens on.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let a = l.local_addr().unwrap();
        drop(l);
        format!("ws://{a}/ws")
    };
    let unreachable = ctl(&closed, "mi", &pw("mi"), &["state"]);
    assert_eq!(unreachable.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unreachable.stderr).contains("cannot connect"));
}

#[test]
fn watch_rides_out_a_server_restart() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = start_server(dir.path());
    let mut watch = Command::new(env!("CARGO_BIN_EXE_auction-tui"))
        .args(["ctl", "--server", &s.url, "--user", "viewer", "watch"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    let out = watch.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    std::thread::sleep(Duration::from_millis(300));
    assert!(ok(&ctl(&s.url, "presenter", &pw("presenter"), &["start"])).contains("seq=1"));
    let first = rx.recv_timeout(Duration::from_secs(5)).unwrap();
    assert!(first.starts_with("#1"), "{first}");
    // The server dies and comes back on the same address; an event happens meanwhile.
    s.kill();
    let addr = s.addr.clone();
    let s2 = start_server_on(dir.path(), &addr);
    assert!(ok(&ctl(&s2.url, "presenter", &pw("presenter"), &["next"])).contains("seq=2"));
    let second = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("watch did not come back");
    assert!(
        second.starts_with("#2") && second.contains("on the block"),
        "{second}"
    );
    let _ = watch.kill();
    let _ = watch.wait();
}

#[test]
fn ctl_over_wss_trusting_the_leagues_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into()]).unwrap();
    let (cert_pem, key_pem) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert_pem, cert.cert.pem()).unwrap();
    std::fs::write(&key_pem, cert.signing_key.serialize_pem()).unwrap();
    let s = start_server_with(
        &dir.path().join("data"),
        "127.0.0.1:0",
        &[
            "--tls-cert",
            cert_pem.to_str().unwrap(),
            "--tls-key",
            key_pem.to_str().unwrap(),
        ],
    );
    assert!(s.url.starts_with("wss://"), "{}", s.url);
    let ca = cert_pem.to_str().unwrap();
    let with_ca = |args: &[&str]| {
        let mut all = vec!["--ca", ca];
        all.extend_from_slice(args);
        ctl(&s.url, "presenter", &pw("presenter"), &all)
    };
    assert_eq!(
        ok(&with_ca(&["start", "--seed", "1"])).trim(),
        "accepted seq=1"
    );
    // Not trusted: a clear error, exit 2, nothing done.
    let out = ctl(&s.url, "presenter", &pw("presenter"), &["pause"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("certificate"), "{err}");
    assert!(ok(&with_ca(&["state"])).contains("seq 1"));
}

#[test]
fn the_admin_imports_players_into_a_running_auction() {
    let dir = tempfile::tempdir().unwrap();
    let s = start_server(&dir.path().join("data"));
    let file = dir.path().join("late.csv");
    let header = "id,name,role,country,overseas,capped,base,set,matches,runs,wickets,strike_rate,economy,previous_team\n";
    std::fs::write(
        &file,
        format!("{header}301,Late Entry,bowler,India,false,false,30L,Nowhere,0,0,0,0,0,\n"),
    )
    .unwrap();
    let import = |user: &str| {
        ctl(
            &s.url,
            user,
            &pw(user),
            &["import-players", file.to_str().unwrap()],
        )
    };
    let out = import("admin");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("late.csv:2: field `set`"), "{err}");
    std::fs::write(
        &file,
        format!("{header}301,Late Entry,bowler,India,false,false,30L,Marquee,0,0,0,0,0,\n"),
    )
    .unwrap();
    assert_eq!(import("presenter").status.code(), Some(1));
    assert!(ok(&import("admin")).starts_with("accepted"));
    ok(&ctl(
        &s.url,
        "presenter",
        &pw("presenter"),
        &["start", "--seed", "1"],
    ));
    let state = ok(&ctl(
        &s.url,
        "presenter",
        &pw("presenter"),
        &["nominate", "Late Entry"],
    ));
    assert!(state.starts_with("accepted"), "{state}");
}

#[test]
fn a_team_keeps_its_shortlist_from_ctl() {
    let dir = tempfile::tempdir().unwrap();
    let s = start_server(dir.path());
    let mi = |args: &[&str]| {
        let mut all = vec!["shortlist"];
        all.extend_from_slice(args);
        ctl(&s.url, "mi", &pw("mi"), &all)
    };
    let out = ok(&mi(&[
        "add", "pant", "--target", "2.5cr", "--note", "keeper",
    ]));
    assert_eq!(out.trim(), "Rishabh Pant — target ₹2.5 Cr — keeper");
    ok(&mi(&["add", "2"]));
    let shown = ok(&mi(&["show"]));
    assert_eq!(shown.lines().count(), 2, "{shown}");
    assert_eq!(ok(&mi(&["remove", "pant"])).lines().count(), 1);
    let out = mi(&["remove", "pant"]);
    assert_eq!(out.status.code(), Some(1));
    // Another team's list is its own; the room has none.
    let csk = ok(&ctl(&s.url, "csk", &pw("csk"), &["shortlist", "show"]));
    assert!(csk.is_empty(), "{csk}");
    let out = ctl(
        &s.url,
        "presenter",
        &pw("presenter"),
        &["shortlist", "show"],
    );
    assert_eq!(out.status.code(), Some(2));
}

/// `ctl proxy`: a team sets, shows and cancels a ceiling; the server bids
/// for it; nobody else's export or the offline log shows the ceiling.
#[test]
fn proxy_ceilings_from_ctl_bid_for_the_team_and_stay_private() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut s = server::start_server_on(&data, "127.0.0.1:0");
    let mi = |args: &[&str]| ctl(&s.url, "mi", &pw("mi"), args);
    let presenter = |args: &[&str]| ctl(&s.url, "presenter", &pw("presenter"), args);
    ok(&presenter(&["start", "--seed", "4"]));
    // Ahead of time, for a player still to come; then the lot opens.
    let set = ok(&mi(&["proxy", "set", "pant", "7.35cr"]));
    assert!(
        set.contains("Rishabh Pant") && set.contains("₹7.35 Cr"),
        "{set}"
    );
    assert_eq!(ok(&mi(&["proxy", "show"])), set);
    ok(&presenter(&["nominate", "pant"]));
    ok(&ctl(&s.url, "csk", &pw("csk"), &["bid", "CSK", "3cr"]));
    let shown = ok(&mi(&["proxy", "show"]));
    assert!(
        shown.contains("MI leads with ₹3.2 Cr"),
        "the ceiling answered: {shown}"
    );
    // Bad input: a clear refusal, nothing changed.
    for (amount, why) in [
        ("1cr", "base price"),
        ("2.5cr", "MI leads with ₹3.2 Cr"),
        ("lots", "invalid"),
    ] {
        let out = mi(&["proxy", "set", "pant", amount]);
        assert_ne!(out.status.code(), Some(0), "{amount}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(why),
            "{out:?}"
        );
    }
    assert_eq!(ok(&mi(&["proxy", "show"])), shown, "nothing changed");
    let out = ctl(&s.url, "presenter", &pw("presenter"), &["proxy", "show"]);
    assert_eq!(out.status.code(), Some(2), "only a team holds ceilings");
    // Cancelled: CSK's next bid stands.
    assert_eq!(
        ok(&mi(&["proxy", "cancel", "pant"])).trim(),
        "No proxy ceilings."
    );
    ok(&ctl(&s.url, "csk", &pw("csk"), &["bid", "CSK", "3.4cr"]));
    ok(&mi(&["proxy", "set", "pant", "6.85cr"]));
    ok(&presenter(&["sold"]));
    assert_eq!(
        ok(&mi(&["proxy", "show"])).trim(),
        "No proxy ceilings.",
        "it ended with the lot"
    );

    for format in ["json", "csv"] {
        let export = ok(&presenter(&["export", "--format", format]));
        assert!(export.contains("Rishabh Pant"), "{export}");
        assert!(
            !export.contains("735")
                && !export.contains("7.35")
                && !export.contains("685")
                && !export.contains("6.85"),
            "{export}"
        );
    }
    s.kill();
    let log = Command::new(server::server_bin())
        .args(["--data", data.to_str().unwrap(), "log"])
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&log.stdout);
    assert!(log.contains("(proxy)") || log.contains("auto"), "{log}");
    assert!(!log.contains("7.35") && !log.contains("6.85"), "{log}");
}

/// The admin withdraws a player and brings him back from a script; a
/// second restore is refused with the reason.
#[test]
fn withdraw_and_restore_a_player_from_ctl() {
    let dir = tempfile::tempdir().unwrap();
    let s = start_server(dir.path());
    let admin = |args: &[&str]| ctl(&s.url, "admin", &pw("admin"), args);
    assert!(ok(&admin(&["withdraw-player", "pant"])).starts_with("accepted"));
    assert!(ok(&admin(&["restore-player", "pant"])).starts_with("accepted"));
    let again = admin(&["restore-player", "pant"]);
    assert_eq!(again.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("not withdrawn"),
        "{again:?}"
    );
    let presenter = ctl(
        &s.url,
        "presenter",
        &pw("presenter"),
        &["withdraw-player", "pant"],
    );
    assert_eq!(presenter.status.code(), Some(1), "the admin's only");
}
