//! The spectators' page end to end: the real server binary serves it, a
//! real headless Chromium shows it, `auction-tui ctl` plays a lot, and the
//! page shows every bid, the leader, the SOLD banner and the new purse
//! within a second; the server is killed and restarted and the page
//! resumes with no gap. No JavaScript error on the way. Screenshots at
//! 390x844 and 1920x1080 go to target/web-screenshots/ (the README's come
//! from there).

#[path = "common/browser.rs"]
mod browser;
#[path = "common/server.rs"]
mod server;

use std::io::{Read, Write};
use std::path::PathBuf;
use std::time::Duration;

use browser::Browser;
use server::{ctl, pw, start_server_env, start_server_with};

const WITHIN: Duration = Duration::from_secs(1);

fn ok(out: std::process::Output) {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn shots() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/web-screenshots")
}

/// The server's seq, from `GET /health`.
fn server_seq(addr: &str) -> u64 {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(s, "GET /health HTTP/1.1\r\nhost: {addr}\r\n\r\n").unwrap();
    let mut reply = String::new();
    s.read_to_string(&mut reply).unwrap();
    let body = reply.split("\r\n\r\n").nth(1).unwrap();
    serde_json::from_str::<serde_json::Value>(body).unwrap()["seq"]
        .as_u64()
        .unwrap()
}

/// An expression: the element's text contains `needle`.
fn shows(id: &str, needle: &str) -> String {
    format!("((document.getElementById({id:?}) || {{}}).textContent || '').includes({needle:?})")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_follows_a_lot_live_and_resumes_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut s = start_server_with(&data, "127.0.0.1:0", &[]);
    let addr = s.addr.clone();
    let (url, page) = (s.url.clone(), format!("http://{}/", s.addr));
    let as_user = |user: &str, args: &[&str]| ok(ctl(&url, user, &pw(user), args));

    let mut b = Browser::launch().await;
    b.open(&page, 390, 844, true).await;
    // Screenshots without a banner caught half-way through its animation.
    b.reduce_motion().await;
    b.wait_for(&shows("conn", "live"), Duration::from_secs(10))
        .await;
    assert_eq!(b.text("league").await, "IPL 2026 Mega Auction");

    as_user("presenter", &["start", "--seed", "4"]);
    as_user("presenter", &["nominate", "pant"]);
    b.wait_for(&shows("player", "Rishabh Pant"), WITHIN).await;
    let tags = b.text("tags").await;
    assert!(
        tags.contains("Wicket-keeper") && tags.contains("left-hand bat"),
        "the player's card: {tags}"
    );
    for (team, amount, shown) in [("mi", "2cr", "₹2 Cr"), ("csk", "2.2cr", "₹2.2 Cr")] {
        let code = team.to_uppercase();
        as_user(team, &["bid", &code, amount]);
        let took = b
            .wait_for(
                &format!("{} && {}", shows("bid", shown), shows("leader", &code)),
                WITHIN,
            )
            .await;
        eprintln!("{code} {shown}: on the page {took:?} after ctl returned");
    }
    assert!(
        b.text("next").await.contains("₹2.4 Cr"),
        "the next valid bid"
    );
    assert!(b.eval(&shows("clock", ":")).await == true, "the clock runs");
    // Every card within the phone's width, on 390 and 360 px phones (a
    // phone widens its layout viewport to fit a page too wide: compare with
    // the device's width).
    let fits = |w: u32| {
        format!(
            "[...document.querySelectorAll('.card')].every(c => c.getBoundingClientRect().right <= {w})"
        )
    };
    assert_eq!(b.eval(&fits(390)).await, true, "the layout fits 390 px");
    b.screenshot(&shots().join("phone.png")).await;
    b.resize(360, 740, true).await;
    assert_eq!(b.eval(&fits(360)).await, true, "the layout fits 360 px");
    b.resize(390, 844, true).await;

    as_user("presenter", &["sold"]);
    let sold = format!(
        "{} && document.querySelector('#board tr[data-team=CSK]').textContent.includes('₹117.8 Cr')",
        shows("banner", "SOLD")
    );
    b.wait_for(&sold, WITHIN).await;
    assert!(b.text("sales").await.contains("Rishabh Pant"));
    assert!(
        b.text("lot-label").await.contains("Next up"),
        "who comes next"
    );
    let still = "getComputedStyle(document.getElementById('banner')).animationName === 'none'";
    assert_eq!(
        b.eval(still).await,
        true,
        "prefers-reduced-motion is respected"
    );
    b.resize(1920, 1080, false).await;
    b.wait_for(&shows("banner", "SOLD"), WITHIN).await;
    b.screenshot(&shots().join("desktop.png")).await;

    // The server goes away and comes back on the same port and log.
    s.kill();
    b.wait_for(&shows("conn", "reconnecting"), Duration::from_secs(5))
        .await;
    let mut s = start_server_with(&data, &addr, &[]);
    b.wait_for(&shows("conn", "live"), Duration::from_secs(15))
        .await;
    as_user("presenter", &["nominate", "shreyas iyer"]);
    as_user("mi", &["bid", "MI", "2cr"]);
    b.wait_for(
        &format!(
            "{} && {}",
            shows("player", "Shreyas Iyer"),
            shows("leader", "MI")
        ),
        WITHIN,
    )
    .await;
    let (page_seq, seq) = (b.eval("seq").await, server_seq(&addr));
    assert_eq!(
        page_seq, seq,
        "the page's seq is the server's: nothing missed, nothing twice"
    );
    let purses = "state.teams.map(t => t.code + ' ' + t.purse).join(',')";
    assert!(b.eval(purses).await.as_str().unwrap().contains("CSK 11780"));
    assert_eq!(b.errors, Vec::<String>::new(), "JavaScript errors");
    s.kill();
}

/// `--no-web`: no page, and a browser page's WebSocket is refused; with
/// the page on, another site's page is refused all the same.
#[test]
fn the_page_can_be_turned_off_and_other_sites_stay_out() {
    let get = |addr: &str, path: &str, origin: Option<&str>| {
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        let origin = origin
            .map(|o| format!("origin: {o}\r\n"))
            .unwrap_or_default();
        write!(
            s,
            "GET {path} HTTP/1.1\r\nhost: {addr}\r\n{origin}connection: upgrade\r\nupgrade: websocket\r\nsec-websocket-version: 13\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
        )
        .unwrap();
        let mut reply = [0u8; 512];
        let n = s.read(&mut reply).unwrap();
        String::from_utf8_lossy(&reply[..n])
            .lines()
            .next()
            .unwrap_or_default()
            .to_string()
    };
    let dir = tempfile::tempdir().unwrap();
    let on = start_server_with(&dir.path().join("on"), "127.0.0.1:0", &[]);
    let own = format!("http://{}", on.addr);
    assert!(get(&on.addr, "/", None).contains("200"));
    assert!(
        get(&on.addr, "/ws", Some(&own)).contains("101"),
        "the page's own origin"
    );
    assert!(get(&on.addr, "/ws", Some("http://evil.example")).contains("403"));
    let off = start_server_with(&dir.path().join("off"), "127.0.0.1:0", &["--no-web"]);
    let own = format!("http://{}", off.addr);
    assert!(get(&off.addr, "/", None).contains("404"));
    assert!(get(&off.addr, "/ws", Some(&own)).contains("403"));
    assert!(
        get(&off.addr, "/ws", None).contains("101"),
        "terminal clients still come in"
    );
}

/// A league whose viewer account has a password: the page asks for it,
/// says so when it is wrong, and follows the auction once it is right; two
/// players, so the end of the round comes quickly: every squad is shown.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_protected_viewer_account_asks_for_its_password() {
    let dir = tempfile::tempdir().unwrap();
    let config = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../config");
    let toml = std::fs::read_to_string(config.join("league.toml")).unwrap();
    assert!(
        toml.contains("viewer_open = true"),
        "the bundled league changed"
    );
    let league = dir.path().join("league.toml");
    std::fs::write(
        &league,
        toml.replace("viewer_open = true", "viewer_open = false"),
    )
    .unwrap();
    let players = std::fs::read_to_string(config.join("players.csv")).unwrap();
    let two: Vec<&str> = players.lines().take(3).collect();
    std::fs::write(dir.path().join("players.csv"), two.join("\n") + "\n").unwrap();
    let env = [("AUCTION_PASSWORD_VIEWER", "viewer-pw-123")];
    let args = ["--league", league.to_str().unwrap()];
    let s = start_server_env(&dir.path().join("data"), "127.0.0.1:0", &args, &env);

    let mut b = Browser::launch().await;
    b.open(&format!("http://{}/", s.addr), 390, 844, true).await;
    let asking = "!!(document.getElementById('login') || {}).open";
    b.wait_for(asking, Duration::from_secs(10)).await;
    let submit = |pw: &str| {
        format!(
            "document.getElementById('password').value = {pw:?}; document.getElementById('login-form').requestSubmit(); true"
        )
    };
    b.eval(&submit("not-the-password")).await;
    b.wait_for(
        &format!("{asking} && {}", shows("login-error", "Wrong password")),
        Duration::from_secs(5),
    )
    .await;
    b.eval(&submit("viewer-pw-123")).await;
    b.wait_for(&shows("conn", "live"), Duration::from_secs(5))
        .await;
    assert_eq!(b.eval(asking).await, false);
    assert_eq!(b.text("league").await, "IPL 2026 Mega Auction");

    let as_user = |user: &str, args: &[&str]| ok(ctl(&s.url, user, &pw(user), args));
    as_user("presenter", &["start", "--seed", "1"]);
    as_user("presenter", &["nominate", "pant"]);
    as_user("mi", &["bid", "MI", "2.4cr"]);
    as_user("presenter", &["sold"]);
    as_user("presenter", &["next"]);
    as_user("presenter", &["unsold"]);
    let complete = "!document.getElementById('complete').hidden";
    b.wait_for(complete, WITHIN).await;
    assert!(
        b.text("complete-title")
            .await
            .contains("accelerated round next")
    );
    assert!(
        b.text("complete-summary")
            .await
            .contains("1 sold · 1 unsold")
    );
    let squads = b.text("squads").await;
    assert!(
        squads.contains("MI") && squads.contains("Rishabh Pant ₹2.4 Cr"),
        "{squads}"
    );
    assert_eq!(b.errors, Vec::<String>::new(), "JavaScript errors");
}
