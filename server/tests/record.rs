//! The auction's record, end to end: an auction played on the real server,
//! then the offline `export`, `log`, `replay` and `verify` on its data
//! directory, and tampering that `verify` must catch.

mod support;

use std::path::Path;
use std::process::Output;

use auction_proto::{Command, Entry, Money, PlayerId, TeamCode};
use support::*;

fn offline(data: &Path, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_auction-server"))
        .arg("--data")
        .arg(data)
        .args(args)
        .output()
        .unwrap()
}

fn stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn bid(team: &str, lakh: u64) -> Command {
    Command::Bid {
        team: TeamCode::new(team),
        amount: Money(lakh),
    }
}

/// Plays three lots (two sold, one unsold) and stops the server cleanly.
/// Returns the prices paid.
async fn play(data: &Path) -> Vec<(u32, &'static str, u64)> {
    let mut server = ServerProc::start(data);
    let mut p = presenter_with_lot(&server.url, 1).await;
    let mut mi = Client::login(&server.url, "mi").await;
    let mut csk = Client::login(&server.url, "csk").await;
    let base = |c: &Client, id: u32| c.state.player(PlayerId(id)).unwrap().player.base.0;
    let b1 = base(&p, 1);
    mi.cmd(bid("MI", b1)).await.unwrap();
    csk.cmd(bid("CSK", b1 + 20)).await.unwrap();
    mi.cmd(bid("MI", b1 + 40)).await.unwrap();
    p.cmd(Command::Sold).await.unwrap();
    p.cmd(Command::Nominate {
        player: PlayerId(2),
    })
    .await
    .unwrap();
    let b2 = base(&p, 2);
    csk.cmd(bid("CSK", b2)).await.unwrap();
    p.cmd(Command::Sold).await.unwrap();
    p.cmd(Command::Nominate {
        player: PlayerId(3),
    })
    .await
    .unwrap();
    p.cmd(Command::Unsold).await.unwrap();
    assert_eq!(server.terminate().code(), Some(0));
    vec![(1, "MI", b1 + 40), (2, "CSK", b2)]
}

#[tokio::test]
async fn export_holds_every_squad_price_purse_and_unsold_player() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let bought = play(&data).await;
    let json: serde_json::Value =
        serde_json::from_str(&stdout(&offline(&data, &["export", "--format", "json"]))).unwrap();
    let league = auction_server::league::bundled().league;
    let purse = league.rules.purse.0;
    for (id, team, price) in &bought {
        let t = json["teams"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["code"] == *team)
            .unwrap();
        let squad = t["squad"].as_array().unwrap();
        assert_eq!(squad.len(), 1, "{t}");
        assert_eq!(squad[0]["id"], *id);
        assert_eq!(squad[0]["price_lakh"], *price);
        assert_eq!(t["spent_lakh"], *price);
        assert_eq!(t["purse_left_lakh"], purse - price);
        let overseas = league
            .players
            .iter()
            .find(|p| p.id.0 == *id)
            .unwrap()
            .overseas;
        assert_eq!(t["overseas"], u32::from(overseas));
    }
    let unsold: Vec<&serde_json::Value> = json["unsold"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["status"] == "unsold")
        .collect();
    assert_eq!(unsold.len(), 1);
    assert_eq!(unsold[0]["id"], 3);
    assert_eq!(
        json["unsold"].as_array().unwrap().len(),
        league.players.len() - 2
    );
    let top = &json["summary"]["most_expensive"];
    assert_eq!(
        top[0]["price_lakh"],
        bought.iter().map(|b| b.2).max().unwrap()
    );
    assert_eq!(json["summary"]["players_sold"], 2);
    assert_eq!(
        json["summary"]["total_spent_lakh"],
        bought.iter().map(|b| b.2).sum::<u64>()
    );

    // The CSV has the same facts, one table per section.
    let out = dir.path().join("night.csv");
    stdout(&offline(&data, &["export", "--out", out.to_str().unwrap()]));
    let csv = std::fs::read_to_string(&out).unwrap();
    for section in [
        "# squads",
        "# teams",
        "# unsold",
        "# by_role",
        "# most_expensive",
    ] {
        assert!(
            csv.lines().any(|l| l == section),
            "{section} missing:\n{csv}"
        );
    }
    // Tables are parted by blank lines (not by a quoted empty field).
    assert!(
        csv.starts_with("# squads\n") && csv.contains("\n\n# teams\n"),
        "{csv}"
    );
    assert!(!csv.lines().any(|l| l == "\"\""), "{csv}");
    let name1 = &league.players.iter().find(|p| p.id.0 == 1).unwrap().name;
    let row = csv
        .lines()
        .find(|l| l.starts_with("MI,1,"))
        .unwrap_or_else(|| panic!("no MI row:\n{csv}"));
    assert!(
        row.contains(name1.as_str()) && row.contains(&format!(",{},", bought[0].2)),
        "{row}"
    );
}

#[tokio::test]
async fn the_log_is_a_hash_chain_and_verify_finds_the_first_tampered_entry() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    play(&data).await;

    // The log, as text and as chained JSON.
    let text = stdout(&offline(&data, &["log"]));
    assert!(text.contains("SOLD"), "{text}");
    let json = stdout(&offline(&data, &["log", "--json"]));
    let lines: Vec<Entry> = json
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let n = lines.len() as u64;
    assert!(n >= 10);
    let genesis = format!("\"prev\":\"{}\"", "0".repeat(64));
    assert!(json.lines().next().unwrap().contains(&genesis), "{json}");
    assert_eq!(lines[0].prev, Some(auction_proto::LogHash::GENESIS));
    // Every link is there, and 64 hex digits (or it would not have parsed).
    assert!(lines.iter().all(|e| e.prev.is_some()));
    let since = stdout(&offline(&data, &["log", "--since", "5", "--json"]));
    assert_eq!(since.lines().count() as u64, n - 5);

    // Any point of the night.
    let at4 = stdout(&offline(&data, &["replay", "--to", "4"]));
    assert!(at4.contains("(seq 4,"), "{at4}");
    let end = offline(&data, &["replay", "--to", "100000"]);
    assert!(!end.status.success());

    let ok = stdout(&offline(&data, &["verify"]));
    assert!(ok.starts_with(&format!("ok: {n} entries")), "{ok}");

    // Tampering: change the price of a bid in the middle of the log.
    let copy = |name: &str| {
        let to = dir.path().join(name);
        copy_dir(&data, &to);
        to
    };
    let edited = copy("edited");
    rewrite(&edited, 3, |json| {
        json.replacen("\"amount\":", "\"amount\":1", 1)
    });
    let out = offline(&edited, &["verify"]);
    assert_eq!(out.status.code(), Some(1));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("at seq 3:"), "{said}");

    // The last entry changed: caught by the recorded head.
    let last = copy("last");
    rewrite(&last, n, |json| {
        json.replacen("\"at_ms\":", "\"at_ms\":1", 1)
    });
    let said = String::from_utf8(offline(&last, &["verify"]).stdout).unwrap();
    assert!(said.contains(&format!("at seq {n}:")), "{said}");

    // Bytes that are not an entry; an entry removed.
    let garbled = copy("garbled");
    rewrite(&garbled, 5, |_| "{\"seq\":5,".into());
    let said = String::from_utf8(offline(&garbled, &["verify"]).stdout).unwrap();
    assert!(said.contains("at seq 5: corrupt"), "{said}");
    let holed = copy("holed");
    {
        let db = sled::open(&holed).unwrap();
        db.open_tree("events")
            .unwrap()
            .remove(7u64.to_be_bytes())
            .unwrap();
        db.flush().unwrap();
    }
    let said = String::from_utf8(offline(&holed, &["verify"]).stdout).unwrap();
    assert!(said.contains("at seq 7: missing"), "{said}");

    // Nothing there at all is a clear error, not an empty log.
    let none = offline(&dir.path().join("nowhere"), &["verify"]);
    assert_eq!(none.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&none.stderr).contains("no auction data"));
}

fn rewrite(data: &Path, seq: u64, change: impl Fn(&str) -> String) {
    let db = sled::open(data).unwrap();
    let events = db.open_tree("events").unwrap();
    let old = events.get(seq.to_be_bytes()).unwrap().unwrap();
    let new = change(std::str::from_utf8(&old).unwrap());
    assert_ne!(new.as_bytes(), &old[..], "the edit changed nothing");
    events.insert(seq.to_be_bytes(), new.as_bytes()).unwrap();
    db.flush().unwrap();
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

const HEADER: &str = "id,name,role,country,overseas,capped,base,set,matches,runs,wickets,strike_rate,economy,previous_team\n";

#[tokio::test]
async fn import_players_offline_checks_every_row_and_applies_all_or_none() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let file = dir.path().join("late.csv");
    let bad = format!(
        "{HEADER}401,Late One,bowler,India,false,false,30L,Marquee,0,0,0,0,0,\n402,Late Two,bowler,India,maybe,false,30L,Marquee,0,0,0,0,0,\n"
    );
    std::fs::write(&file, &bad).unwrap();
    let path = file.to_str().unwrap();
    // A bad row: the line and column, nothing written.
    for args in [
        &["import-players", "--dry-run", path][..],
        &["import-players", path],
    ] {
        let out = offline(&data, args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let said = String::from_utf8_lossy(&out.stdout);
        assert!(
            said.contains("late.csv:3") && said.contains("overseas"),
            "{said}"
        );
    }
    let good = format!(
        "{HEADER}401,Late One,bowler,India,false,false,30L,Marquee,0,0,0,0,0,\n402,Late Two,batter,England,true,true,1cr,Marquee,5,120,0,130,0,MI\n"
    );
    std::fs::write(&file, &good).unwrap();
    let dry = stdout(&offline(&data, &["import-players", "--dry-run", path]));
    assert!(dry.contains("2 players would be imported"), "{dry}");
    let log = stdout(&offline(&data, &["log", "--json"]));
    assert_eq!(log.lines().count(), 0, "a dry run wrote to the log");
    stdout(&offline(&data, &["import-players", path]));
    // Twice is refused: they are in the pool now.
    let again = offline(&data, &["import-players", path]);
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stdout).contains("already in the pool"));

    // The server starts with them, and they are exported as not yet sold.
    let mut server = ServerProc::start(&data);
    let viewer = Client::login(&server.url, "viewer").await;
    let p = viewer.state.player(PlayerId(402)).unwrap();
    assert_eq!(p.player.name, "Late Two");
    assert_eq!(p.player.previous_team, Some(TeamCode::new("MI")));
    server.terminate();
    let json: serde_json::Value =
        serde_json::from_str(&stdout(&offline(&data, &["export", "--format", "json"]))).unwrap();
    assert!(
        json["unsold"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["id"] == 201 && u["status"] == "available")
    );
}
