//! The bundled league and the errors a broken league file gets.

use std::fs;

use auction_proto::{Money, Role};
use auction_server::league::{bundled, load, summary};

#[test]
fn the_bundled_league_is_the_ipl() {
    let config = bundled();
    let l = &config.league;
    let codes: Vec<&str> = l.teams.iter().map(|t| t.code.as_str()).collect();
    assert_eq!(
        codes,
        [
            "CSK", "MI", "RCB", "KKR", "DC", "RR", "PBKS", "SRH", "GT", "LSG"
        ]
    );
    assert_eq!(l.rules.purse, Money::crore(120));
    assert_eq!(
        (l.rules.squad_min, l.rules.squad_max, l.rules.overseas_max),
        (18, 25, 8)
    );
    let step = |lakh| l.rules.step_at(Money(lakh)).0;
    assert_eq!(
        [
            step(30),
            step(99),
            step(100),
            step(199),
            step(200),
            step(499),
            step(500),
            step(2000)
        ],
        [5, 5, 10, 10, 20, 20, 25, 25]
    );
    assert!(l.players.len() >= 80);
    let slabs = [30, 40, 50, 75, 100, 125, 150, 200];
    for p in &l.players {
        assert!(slabs.contains(&p.base.0), "{} has base {}", p.name, p.base);
        assert!(l.sets.contains(&p.set));
        assert_eq!(p.overseas, p.country != "India", "{}", p.name);
    }
    for role in Role::ALL {
        assert!(
            l.players.iter().filter(|p| p.role == role).count() >= 8,
            "{role:?}"
        );
    }
    assert!(config.viewer_open);
    let text = summary(&config);
    assert!(
        text.contains("Teams (10)") && text.contains("purse ₹120 Cr"),
        "{text}"
    );
}

#[test]
fn the_bundled_files_load_from_disk_too() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../config/league.toml");
    assert_eq!(
        load(std::path::Path::new(dir)).unwrap().league,
        bundled().league
    );
}

/// Writes a league (the bundled one, edited) and its CSV; returns the error.
fn broken(edit_toml: impl Fn(String) -> String, edit_csv: impl Fn(String) -> String) -> String {
    let dir = tempfile::tempdir().unwrap();
    let toml = edit_toml(auction_server::league::BUNDLED_LEAGUE.to_string());
    let csv = edit_csv(auction_server::league::BUNDLED_PLAYERS.to_string());
    fs::write(dir.path().join("league.toml"), toml).unwrap();
    fs::write(dir.path().join("players.csv"), csv).unwrap();
    load(&dir.path().join("league.toml"))
        .unwrap_err()
        .to_string()
}

fn keep(s: String) -> String {
    s
}

#[test]
fn a_bad_value_names_file_line_and_field() {
    let err = broken(
        |t| t.replace("squad_max = 25", "squad_max = \"lots\""),
        keep,
    );
    assert!(err.contains("league.toml:"), "{err}");
    assert!(err.contains("field `squad_max`"), "{err}");
    let line = auction_server::league::BUNDLED_LEAGUE
        .lines()
        .position(|l| l.starts_with("squad_max"))
        .unwrap()
        + 1;
    assert!(
        err.contains(&format!(":{line}:")),
        "{err} (expected line {line})"
    );
}

#[test]
fn a_missing_or_unknown_key_is_named() {
    let err = broken(|t| t.replace("overseas_max = 8\n", ""), keep);
    assert!(err.contains("overseas_max"), "{err}");
    let err = broken(
        |t| t.replace("overseas_max = 8", "overseas_max = 8\novresaes = 3"),
        keep,
    );
    assert!(err.contains("ovresaes"), "{err}");
}

#[test]
fn rule_checks_name_the_field() {
    let err = broken(|t| t.replace("squad_min = 18", "squad_min = 30"), keep);
    assert!(
        err.contains("squad_min") && err.contains("league.toml:"),
        "{err}"
    );
    let err = broken(|t| t.replace("from = \"2cr\"", "from = \"50L\""), keep);
    assert!(err.contains("rise"), "{err}");
    let err = broken(
        |t| t.replace("colour = \"#004BA0\"", "colour = \"blue\""),
        keep,
    );
    assert!(err.contains("colour") && err.contains("blue"), "{err}");
    let err = broken(|t| t.replace("code = \"MI\"", "code = \"CSK\""), keep);
    assert!(err.contains("twice"), "{err}");
    let err = broken(
        |t| t.replace("purse = \"120cr\"", "purse = \"120 dollars\""),
        keep,
    );
    assert!(err.contains("purse"), "{err}");
}

#[test]
fn a_bad_player_row_names_the_csv_line_and_column() {
    let err = broken(keep, |c| {
        c.replace("3,Jos Buttler,wicket_keeper", "3,Jos Buttler,keeper")
    });
    assert!(err.contains("players.csv:4"), "{err}");
    assert!(err.contains("field `role`"), "{err}");
    let err = broken(keep, |c| c.replace(",2cr,Marquee,111", ",lots,Marquee,111"));
    assert!(
        err.contains("players.csv:2") && err.contains("field `base`"),
        "{err}"
    );
    let err = broken(keep, |c| c.replace("2,Shreyas Iyer", "1,Shreyas Iyer"));
    assert!(
        err.contains("players.csv:3") && err.contains("field `id`"),
        "{err}"
    );
    let err = broken(keep, |c| c.replace(",Marquee,116", ",Legends,116"));
    assert!(
        err.contains("players.csv:3") && err.contains("field `set`"),
        "{err}"
    );
    let err = broken(keep, |c| c.replace("127.5,0,KKR", "127.5,0,XYZ"));
    assert!(err.contains("field `previous_team`"), "{err}");
    let err = broken(keep, |c| c.replace("148.9,0,DC", "148.9,0,DC,extra"));
    assert!(
        err.contains("players.csv:2") && err.contains("columns"),
        "{err}"
    );
}

#[test]
fn a_missing_player_file_is_named() {
    let err = broken(
        |t| t.replace("players = \"players.csv\"", "players = \"nope.csv\""),
        keep,
    );
    assert!(
        err.contains("nope.csv") && err.contains("cannot read"),
        "{err}"
    );
}
