//! Hostile and unlucky clients against the real server binary: foreign web
//! pages, too many connections, handshakes that never finish, clients that
//! stop reading, revoked sessions, out-of-order messages, TLS, and logs that
//! must never hold a secret.

mod support;

use std::time::{Duration, Instant};

use auction_proto::msg::{ClientMsg, ErrorCode, PROTOCOL_VERSION, ServerMsg};
use auction_proto::{Command, TeamCode};
use futures_util::StreamExt;
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{self, Message};

async fn handshake(url: &str, origin: Option<&str>) -> Result<Ws, tungstenite::Error> {
    let mut req = url.into_client_request().unwrap();
    if let Some(origin) = origin {
        req.headers_mut().insert("origin", origin.parse().unwrap());
    }
    tokio_tungstenite::connect_async(req)
        .await
        .map(|(ws, _)| ws)
}

/// Reads until the server's close frame (5 s at most); returns its code.
async fn closed_with(ws: &mut Ws) -> CloseCode {
    loop {
        match tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .expect("not closed within 5 s")
        {
            Some(Ok(Message::Close(Some(frame)))) => return frame.code,
            Some(Ok(Message::Close(None))) => panic!("closed without a code"),
            Some(Ok(_)) => continue,
            other => panic!("expected a close frame, got {other:?}"),
        }
    }
}

/// The `clients` figure of /health.
async fn clients(addr: &str) -> u64 {
    let (_, body) = http_get(addr, "/health").await;
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    v["clients"].as_u64().unwrap()
}

fn bid(team: &str) -> Command {
    Command::Raise {
        team: TeamCode::new(team),
    }
}

#[tokio::test]
async fn pages_from_origins_not_allowed_cannot_open_the_websocket() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProc::start_with(
        dir.path(),
        &["--allow-origin", "https://auction.example.org"],
    );
    for evil in [
        "https://evil.example",
        "null",
        "https://auction.example.org.evil.example",
    ] {
        match handshake(&server.url, Some(evil)).await {
            Err(tungstenite::Error::Http(resp)) => assert_eq!(resp.status(), 403, "{evil}"),
            Err(e) => panic!("{evil}: refused, but not with a 403: {e}"),
            Ok(_) => panic!("{evil}: a foreign page opened the WebSocket"),
        }
    }
    // The league's own page, and clients that are not browsers.
    let mut ws = handshake(&server.url, Some("https://auction.example.org"))
        .await
        .unwrap();
    send(&mut ws, &login_msg("viewer")).await;
    assert!(matches!(recv(&mut ws).await, ServerMsg::Welcome { .. }));
    Client::login(&server.url, "mi").await;
}

#[tokio::test]
async fn connections_from_one_address_are_limited() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProc::start_with(dir.path(), &["--max-per-address", "3"]);
    let mut open = Vec::new();
    for _ in 0..3 {
        open.push(connect(&server.url).await);
    }
    assert!(
        handshake(&server.url, None).await.is_err(),
        "a fourth connection from one address was let in"
    );
    // A place frees up when a connection ends.
    drop(open.pop());
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match handshake(&server.url, None).await {
            Ok(ws) => {
                open.push(ws);
                break;
            }
            Err(_) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await
            }
            Err(e) => panic!("the freed place was not given back: {e}"),
        }
    }
    // The ones let in work.
    send(&mut open[0], &login_msg("viewer")).await;
    assert!(matches!(
        recv(&mut open[0]).await,
        ServerMsg::Welcome { .. }
    ));
}

#[tokio::test]
async fn a_handshake_that_never_finishes_is_cut_off() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProc::start_with(dir.path(), &["--handshake-timeout", "0.5"]);
    let mut stalled = TcpStream::connect(&server.addr).await.unwrap();
    stalled
        .write_all(b"GET /ws HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let mut silent = TcpStream::connect(&server.addr).await.unwrap();
    let started = Instant::now();
    for s in [&mut stalled, &mut silent] {
        let mut buf = [0u8; 64];
        let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf))
            .await
            .expect("still open 5 s later")
            .unwrap_or(0);
        assert_eq!(n, 0, "expected the connection closed");
    }
    assert!(started.elapsed() >= Duration::from_millis(400));
    // Meanwhile a prompt client is served.
    Client::login(&server.url, "viewer").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_viewer_that_stops_reading_is_dropped_and_the_others_keep_going() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProc::start_with(dir.path(), &["--write-timeout", "1"]);
    let mut watcher = Client::login(&server.url, "viewer").await;
    let mut presenter = presenter_with_lot(&server.url, 1).await;
    let mut mi = Client::login(&server.url, "mi").await;
    let mut csk = Client::login(&server.url, "csk").await;

    // The stalled viewer: a tiny receive window, and it asks for snapshot
    // after snapshot without reading any of them.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let stream = socket.connect(server.addr.parse().unwrap()).await.unwrap();
    let stream = tokio_tungstenite::MaybeTlsStream::Plain(stream);
    let (mut stalled, _) = tokio_tungstenite::client_async(&server.url, stream)
        .await
        .unwrap();
    send(&mut stalled, &login_msg("viewer")).await;
    for _ in 0..400 {
        send(&mut stalled, &ClientMsg::Snapshot).await;
    }
    assert_eq!(clients(&server.addr).await, 5);

    // The room goes on: every bid reaches the watcher, in order.
    let start = watcher.seq;
    let mut last = start;
    for i in 0..20 {
        let (team, code) = if i % 2 == 0 {
            (&mut mi, "mi")
        } else {
            (&mut csk, "csk")
        };
        last = team.cmd(bid(code)).await.unwrap();
    }
    let mut seen = Vec::new();
    while watcher.seq < last {
        seen.push(watcher.next_event().await.seq);
    }
    assert_eq!(seen, ((start + 1)..=last).collect::<Vec<_>>());

    // The stalled one is dropped once its writes have waited a second.
    let deadline = Instant::now() + Duration::from_secs(15);
    while clients(&server.addr).await != 4 {
        assert!(
            Instant::now() < deadline,
            "the stalled viewer is still connected"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Reading now finds what was queued, then the end.
    let ended = tokio::time::timeout(Duration::from_secs(15), async {
        while let Some(Ok(_)) = stalled.next().await {}
    })
    .await;
    assert!(
        ended.is_ok(),
        "the stalled viewer's connection was not closed"
    );
    // And the others are still served.
    presenter.cmd(Command::Sold).await.unwrap();
    watcher.catch_up(presenter.seq).await;
}

#[tokio::test]
async fn a_password_change_closes_that_accounts_open_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProc::start(dir.path());
    let mut mi1 = Client::login(&server.url, "mi").await;
    let mut mi2 = Client::login(&server.url, "mi").await;
    let mut csk = Client::login(&server.url, "csk").await;
    let mut admin = Client::login(&server.url, "admin").await;
    send(
        &mut admin.ws,
        &ClientMsg::SetPassword {
            user: "mi".into(),
            password: "a-brand-new-password".into(),
        },
    )
    .await;
    loop {
        match recv(&mut admin.ws).await {
            ServerMsg::PasswordSet { user } => {
                assert_eq!(user, "mi");
                break;
            }
            ServerMsg::Presence { .. } => {}
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(closed_with(&mut mi1.ws).await, CloseCode::Policy);
    assert_eq!(closed_with(&mut mi2.ws).await, CloseCode::Policy);
    // Their token is dead; other accounts are untouched.
    let mut ws = connect(&server.url).await;
    let resume = ClientMsg::Resume {
        v: PROTOCOL_VERSION,
        token: mi1.token.clone(),
        last_seq: 0,
    };
    assert_eq!(error_for(&mut ws, &resume).await, ErrorCode::BadToken);
    send(&mut csk.ws, &ClientMsg::Ping { nonce: 7 }).await;
    assert!(matches!(
        recv(&mut csk.ws).await,
        ServerMsg::Pong { nonce: 7 }
    ));
}

#[tokio::test]
async fn logging_out_closes_every_connection_of_that_session() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProc::start(dir.path());
    let mut first = Client::login(&server.url, "mi").await;
    let other = Client::login(&server.url, "mi").await;
    // The same session resumed on a second connection (a second window).
    let mut second = connect(&server.url).await;
    send(
        &mut second,
        &ClientMsg::Resume {
            v: PROTOCOL_VERSION,
            token: first.token.clone(),
            last_seq: first.seq,
        },
    )
    .await;
    assert!(matches!(recv(&mut second).await, ServerMsg::Welcome { .. }));
    send(&mut first.ws, &ClientMsg::Logout).await;
    assert_eq!(closed_with(&mut first.ws).await, CloseCode::Normal);
    assert_eq!(closed_with(&mut second).await, CloseCode::Policy);
    // Another session of the same account lives on.
    let mut other = other;
    send(&mut other.ws, &ClientMsg::Ping { nonce: 1 }).await;
    assert!(matches!(
        recv(&mut other.ws).await,
        ServerMsg::Pong { nonce: 1 }
    ));
}

#[tokio::test]
async fn out_of_order_messages_are_refused_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProc::start(dir.path());
    let mut watcher = Client::login(&server.url, "viewer").await;
    let mut ws = connect(&server.url).await;
    // Before login: no history, no snapshot, no logout effect on others.
    for msg in [
        ClientMsg::History {
            since: 0,
            limit: None,
        },
        ClientMsg::Snapshot,
        ClientMsg::SetPassword {
            user: "admin".into(),
            password: "taken-over-admin".into(),
        },
    ] {
        assert_eq!(
            error_for(&mut ws, &msg).await,
            ErrorCode::NotLoggedIn,
            "{msg:?}"
        );
    }
    // Logged in twice on one connection; a resume on top of a login.
    send(&mut ws, &login_msg("mi")).await;
    let ServerMsg::Welcome { token, .. } = recv(&mut ws).await else {
        panic!("no welcome")
    };
    assert_eq!(
        error_for(&mut ws, &login_msg("admin")).await,
        ErrorCode::AlreadyLoggedIn
    );
    let resume = |last_seq| ClientMsg::Resume {
        v: PROTOCOL_VERSION,
        token: token.clone(),
        last_seq,
    };
    assert_eq!(
        error_for(&mut ws, &resume(0)).await,
        ErrorCode::AlreadyLoggedIn
    );
    // A team asking to set a password; a bid with no lot open.
    let set = ClientMsg::SetPassword {
        user: "csk".into(),
        password: "stolen-password".into(),
    };
    assert_eq!(error_for(&mut ws, &set).await, ErrorCode::Forbidden);
    // A resume claiming a seq from the future gets a full snapshot, not a gap.
    let mut late = connect(&server.url).await;
    send(&mut late, &resume(1_000_000)).await;
    match recv(&mut late).await {
        ServerMsg::Welcome {
            snapshot: Some(s), ..
        } => assert_eq!(s.seq, 0),
        other => panic!("{other:?}"),
    }
    // Nothing happened: the log is empty and the watcher heard nothing.
    assert!(silent(&mut watcher.ws, 200).await);
    let (_, health) = http_get(&server.addr, "/health").await;
    assert!(health.contains("\"seq\":0"), "{health}");
}

/// A self-signed certificate for 127.0.0.1, written as PEM files.
fn certificate(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let cert =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()]).unwrap();
    let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert_path, cert.cert.pem()).unwrap();
    std::fs::write(&key_path, cert.signing_key.serialize_pem()).unwrap();
    (cert_path, key_path)
}

#[test]
fn a_bad_certificate_or_key_stops_the_server_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, _) = certificate(dir.path());
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_auction-server"))
        .args(["--data", dir.path().join("d").to_str().unwrap()])
        .args(["--listen", "127.0.0.1:0", "--no-ssh"])
        .args(["--tls-cert", cert.to_str().unwrap()])
        .args(["--tls-key", cert.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("TLS") && err.contains("cert.pem"), "{err}");
}

#[tokio::test]
async fn a_message_flood_is_slowed_down_never_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProc::start_with(dir.path(), &["--messages-per-second", "20"]);
    let mut flood = connect(&server.url).await;
    let mut calm = connect(&server.url).await;
    let started = Instant::now();
    for nonce in 0..60 {
        send(&mut flood, &ClientMsg::Ping { nonce }).await;
    }
    // Another connection is answered at once meanwhile.
    send(&mut calm, &ClientMsg::Ping { nonce: 99 }).await;
    assert!(matches!(
        recv(&mut calm).await,
        ServerMsg::Pong { nonce: 99 }
    ));
    assert!(started.elapsed() < Duration::from_millis(900));
    // Every message of the flood is answered, in order, at 20 a second.
    for nonce in 0..60 {
        match recv(&mut flood).await {
            ServerMsg::Pong { nonce: got } => assert_eq!(got, nonce),
            other => panic!("{other:?}"),
        }
    }
    assert!(
        started.elapsed() >= Duration::from_millis(1500),
        "60 messages at 20/s took only {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn the_total_connection_limit_refuses_the_one_too_many() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProc::start_with(dir.path(), &["--max-connections", "2"]);
    let _a = connect(&server.url).await;
    let _b = connect(&server.url).await;
    assert!(handshake(&server.url, None).await.is_err());
}
