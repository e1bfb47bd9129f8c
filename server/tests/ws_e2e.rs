//! End to end over real sockets: the real server binary, a real sled
//! directory, protocol clients.

mod support;

use std::time::Duration;

use auction_proto::msg::{ClientMsg, ErrorCode, PROTOCOL_VERSION, ServerMsg};
use auction_proto::{Access, Command, Event, Money, PlayerId, RejectCode, TeamCode};
use futures_util::{SinkExt, StreamExt};
use support::*;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

fn bid(team: &str, amount: u64) -> Command {
    Command::Bid {
        team: TeamCode::new(team),
        amount: Money(amount),
    }
}

#[tokio::test]
async fn a_whole_lot_while_a_viewer_sees_every_event_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProc::start(dir.path());
    let mut viewer = Client::login(&server.url, "viewer").await;
    let mut presenter = presenter_with_lot(&server.url, 1).await;
    let mut mi = Client::login(&server.url, "mi").await;
    let mut csk = Client::login(&server.url, "csk").await;
    assert_eq!(viewer.seq, 0);
    mi.cmd(bid("MI", 200)).await.unwrap();
    csk.cmd(Command::Raise {
        team: TeamCode::new("CSK"),
    })
    .await
    .unwrap();
    mi.cmd(bid("MI", 300)).await.unwrap();
    let sold = presenter.cmd(Command::Sold).await.unwrap();
    assert_eq!(sold, 6);

    let mut kinds = Vec::new();
    for _ in 0..6 {
        let e = viewer.next_event().await;
        assert!(
            e.actor.user.is_empty() && e.request_id.is_none(),
            "a viewer got private fields: {e:?}"
        );
        kinds.push(e.event.kind());
    }
    assert_eq!(
        kinds,
        [
            "auction_started",
            "lot_opened",
            "bid_placed",
            "bid_placed",
            "bid_placed",
            "player_sold"
        ]
    );
    let mi_state = viewer.state.team(&TeamCode::new("MI")).unwrap();
    assert_eq!(mi_state.purse, Money::crore(117));
    assert_eq!(mi_state.squad, vec![PlayerId(1)]);
    // Accounts that may see everything get the actor and request id.
    let e = csk.next_event().await;
    assert!(!e.actor.user.is_empty() && e.request_id.is_some(), "{e:?}");
    let (status, body) = http_get(&server.addr, "/health").await;
    assert!(status.contains("200"), "{status}");
    let health: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(health["status"], "ok");
    assert_eq!(health["seq"], 6);
    assert_eq!(health["clients"], 4);
}

#[tokio::test]
async fn rejections_go_to_the_sender_only_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProc::start(dir.path());
    let mut viewer = Client::login(&server.url, "viewer").await;
    let mut presenter = presenter_with_lot(&server.url, 61).await;
    let mut mi = Client::login(&server.url, "mi").await;
    viewer.catch_up(2).await;

    let cases: Vec<(Command, RejectCode)> = vec![
        (bid("MI", 25), RejectCode::BelowBase),
        (bid("CSK", 30), RejectCode::WrongTeam),
        (Command::Sold, RejectCode::Forbidden),
        (bid("MI", 100_000), RejectCode::OverMaxBid),
    ];
    for (cmd, code) in cases {
        let (got, message) = mi.cmd(cmd).await.unwrap_err();
        assert_eq!(got, code, "{message}");
        assert!(!message.is_empty());
    }
    mi.cmd(bid("MI", 30)).await.unwrap();
    let (got, _) = mi.cmd(bid("MI", 35)).await.unwrap_err();
    assert_eq!(got, RejectCode::AlreadyLeading);
    let (got, _) = presenter.cmd(Command::Unsold).await.unwrap_err();
    assert_eq!(got, RejectCode::HasBids);
    // The viewer saw the one accepted bid and nothing else.
    let e = viewer.next_event().await;
    assert!(matches!(e.event, Event::BidPlaced { .. }));
    assert!(silent(&mut viewer.ws, 300).await);
    let (_, health) = http_get(&server.addr, "/health").await;
    assert!(health.contains("\"seq\":3"), "{health}");
}

#[tokio::test]
async fn bad_input_gets_an_error_or_a_close_and_others_keep_going() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProc::start(dir.path());
    // A viewer: it gets no presence updates, so any message would be a leak.
    let mut watcher = Client::login(&server.url, "viewer").await;

    let mut ws = connect(&server.url).await;
    // Not JSON; an unknown type; a command before login; binary.
    for raw in ["{not json", r#"{"type":"launch_rockets"}"#] {
        ws.send(Message::Text(raw.into())).await.unwrap();
        match recv(&mut ws).await {
            ServerMsg::Error {
                code: ErrorCode::BadRequest,
                ..
            } => {}
            other => panic!("{raw}: {other:?}"),
        }
    }
    send(
        &mut ws,
        &ClientMsg::Command {
            id: "x".into(),
            command: Command::Start { seed: None },
        },
    )
    .await;
    assert!(matches!(
        recv(&mut ws).await,
        ServerMsg::Error {
            code: ErrorCode::NotLoggedIn,
            ..
        }
    ));
    ws.send(Message::Binary(vec![1, 2, 3].into()))
        .await
        .unwrap();
    assert!(matches!(
        recv(&mut ws).await,
        ServerMsg::Error {
            code: ErrorCode::BadRequest,
            ..
        }
    ));
    // Wrong password, wrong version, unknown user.
    let login = |v, user: &str, password: String| ClientMsg::Login {
        v,
        user: user.into(),
        password,
    };
    for (msg, code) in [
        (
            login(PROTOCOL_VERSION, "mi", "nope".into()),
            ErrorCode::BadCredentials,
        ),
        (login(99, "mi", password("mi")), ErrorCode::Version),
        (
            login(PROTOCOL_VERSION, "nobody", "x".into()),
            ErrorCode::BadCredentials,
        ),
    ] {
        assert_eq!(error_for(&mut ws, &msg).await, code, "{msg:?}");
    }
    // Logged in, an over-long request id is refused without touching the engine.
    send(&mut ws, &login_msg("mi")).await;
    assert!(matches!(recv(&mut ws).await, ServerMsg::Welcome { .. }));
    send(
        &mut ws,
        &ClientMsg::Command {
            id: "x".repeat(200),
            command: Command::Pause,
        },
    )
    .await;
    assert!(matches!(
        recv(&mut ws).await,
        ServerMsg::Error {
            code: ErrorCode::BadRequest,
            ..
        }
    ));
    // Over 64 KiB: closed with 1009.
    let huge = format!(
        r#"{{"type":"ping","nonce":1,"pad":"{}"}}"#,
        "x".repeat(70 * 1024)
    );
    let _ = ws.send(Message::Text(huge.into())).await;
    let close = loop {
        match tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .unwrap()
        {
            Some(Ok(Message::Close(f))) => break f,
            Some(Ok(_)) => continue,
            other => panic!("expected a close frame, got {other:?}"),
        }
    };
    assert_eq!(close.unwrap().code, CloseCode::Size);

    // Nobody else noticed, and the server serves on.
    assert!(silent(&mut watcher.ws, 200).await);
    let mut presenter = Client::login(&server.url, "presenter").await;
    assert_eq!(presenter.cmd(Command::Start { seed: Some(1) }).await, Ok(1));
    assert_eq!(watcher.next_event().await.seq, 1);
    let (status, _) = http_get(&server.addr, "/nope").await;
    assert!(status.contains("404"), "{status}");
}

#[tokio::test]
async fn a_retried_command_id_is_applied_once() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProc::start(dir.path());
    let mut viewer = Client::login(&server.url, "viewer").await;
    let _presenter = presenter_with_lot(&server.url, 61).await;
    let mut mi = Client::login(&server.url, "mi").await;
    mi.send_cmd_id("bid-once", bid("MI", 30)).await;
    let first = mi.answer("bid-once").await.unwrap();
    // The same id again, even on a new connection after a "lost" reply.
    let mut mi2 = Client::login(&server.url, "mi").await;
    mi2.send_cmd_id("bid-once", bid("MI", 30)).await;
    assert_eq!(mi2.answer("bid-once").await, Ok(first));
    // A rejected id stays rejected with the same answer.
    mi2.send_cmd_id("too-low", bid("MI", 5)).await;
    let r1 = mi2.answer("too-low").await.unwrap_err();
    mi2.send_cmd_id("too-low", bid("MI", 5)).await;
    assert_eq!(mi2.answer("too-low").await.unwrap_err(), r1);
    viewer.catch_up(3).await;
    assert!(
        silent(&mut viewer.ws, 300).await,
        "the retry produced a second event"
    );
    assert_eq!(viewer.state.lot.as_ref().unwrap().bids.len(), 1);
}

#[tokio::test]
async fn resume_after_a_dropped_connection_misses_and_repeats_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProc::start(dir.path());
    let mut presenter = Client::login(&server.url, "presenter").await;
    let mut mi = Client::login(&server.url, "mi").await;
    presenter
        .cmd(Command::Start { seed: Some(1) })
        .await
        .unwrap();
    mi.catch_up(1).await;
    let (token, last_seq, mut state) = (mi.token.clone(), mi.seq, mi.state.clone());
    drop(mi); // the laptop's Wi-Fi drops

    presenter
        .cmd(Command::Nominate {
            player: PlayerId(61),
        })
        .await
        .unwrap();
    presenter.cmd(bid("MI", 30)).await.unwrap();
    presenter.cmd(bid("CSK", 35)).await.unwrap();

    let mut ws = connect(&server.url).await;
    send(
        &mut ws,
        &ClientMsg::Resume {
            v: PROTOCOL_VERSION,
            token: token.clone(),
            last_seq,
        },
    )
    .await;
    match recv(&mut ws).await {
        ServerMsg::Welcome {
            snapshot: None,
            access,
            ..
        } => assert_eq!(
            access,
            Access::Team {
                team: TeamCode::new("MI")
            }
        ),
        other => panic!("{other:?}"),
    }
    let mut seqs = Vec::new();
    for _ in 0..3 {
        match recv(&mut ws).await {
            ServerMsg::Event(e) => {
                seqs.push(e.seq);
                state.apply(&e.event);
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(seqs, [2, 3, 4]);
    // And live events continue from there.
    presenter.cmd(bid("MI", 40)).await.unwrap();
    match recv(&mut ws).await {
        ServerMsg::Event(e) => assert_eq!(e.seq, 5),
        other => panic!("{other:?}"),
    }
    // Logging out revokes the token.
    send(&mut ws, &ClientMsg::Logout).await;
    loop {
        match tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .unwrap()
        {
            Some(Ok(Message::Close(_))) | None => break,
            _ => {}
        }
    }
    let mut ws = connect(&server.url).await;
    send(
        &mut ws,
        &ClientMsg::Resume {
            v: PROTOCOL_VERSION,
            token,
            last_seq: 5,
        },
    )
    .await;
    assert!(matches!(
        recv(&mut ws).await,
        ServerMsg::Error {
            code: ErrorCode::BadToken,
            ..
        }
    ));
    send(
        &mut ws,
        &ClientMsg::Resume {
            v: PROTOCOL_VERSION,
            token: "f".repeat(64),
            last_seq: 0,
        },
    )
    .await;
    assert!(matches!(
        recv(&mut ws).await,
        ServerMsg::Error {
            code: ErrorCode::BadToken,
            ..
        }
    ));
}

#[tokio::test]
async fn the_server_killed_mid_auction_restarts_and_clients_resume() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = ServerProc::start(dir.path());
    let _presenter = presenter_with_lot(&server.url, 61).await;
    let mut mi = Client::login(&server.url, "mi").await;
    mi.cmd(bid("MI", 30)).await.unwrap();
    mi.catch_up(3).await;
    let (token, seq, state) = (mi.token.clone(), mi.seq, mi.state.clone());
    server.kill();

    let server = ServerProc::start(dir.path());
    let mut ws = connect(&server.url).await;
    send(
        &mut ws,
        &ClientMsg::Resume {
            v: PROTOCOL_VERSION,
            token,
            last_seq: seq,
        },
    )
    .await;
    assert!(matches!(
        recv(&mut ws).await,
        ServerMsg::Welcome { snapshot: None, .. }
    ));
    // The lot clock was running when the server died: the restart records
    // a pause (seq 4), the lot keeping its time, and nothing else changes.
    let mut presenter = Client::login(&server.url, "presenter").await;
    assert_eq!(presenter.seq, 4);
    assert_eq!(presenter.state.phase, auction_proto::Phase::Paused);
    let (mut now, mut before) = (presenter.state.clone(), state);
    now.phase = before.phase;
    for s in [&mut now, &mut before] {
        if let Some(lot) = s.lot.as_mut() {
            lot.timer = None;
        }
    }
    assert_eq!(
        now, before,
        "the restarted server lost or changed something"
    );
    match recv(&mut ws).await {
        ServerMsg::Event(e) => {
            assert!(e.seq == 4 && matches!(e.event, auction_proto::Event::Paused { .. }))
        }
        other => panic!("{other:?}"),
    }
    presenter.cmd(Command::Resume).await.unwrap();
    presenter.cmd(bid("CSK", 35)).await.unwrap();
    for seq in [5, 6] {
        match recv(&mut ws).await {
            ServerMsg::Event(e) => assert_eq!(e.seq, seq),
            other => panic!("{other:?}"),
        }
    }
}

#[tokio::test]
async fn sigterm_closes_every_client_with_a_close_frame() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = ServerProc::start(dir.path());
    let mut viewer = Client::login(&server.url, "viewer").await;
    let status = server.terminate();
    assert!(status.success(), "{status:?}");
    let frame = loop {
        match tokio::time::timeout(Duration::from_secs(5), viewer.ws.next())
            .await
            .unwrap()
        {
            Some(Ok(Message::Close(f))) => break f,
            Some(Ok(_)) => continue,
            other => panic!("expected a close frame, got {other:?}"),
        }
    };
    let frame = frame.unwrap();
    assert_eq!(frame.code, CloseCode::Restart);
    assert_eq!(frame.reason.as_str(), "server restarting");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_teams_bidding_the_same_amount_at_once_exactly_one_wins() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProc::start(dir.path());
    let mut presenter = Client::login(&server.url, "presenter").await;
    presenter
        .cmd(Command::Start { seed: Some(1) })
        .await
        .unwrap();
    let codes = [
        "CSK", "MI", "RCB", "KKR", "DC", "RR", "PBKS", "SRH", "GT", "LSG",
    ];
    let mut teams = Vec::new();
    for code in codes {
        teams.push(Client::login(&server.url, &code.to_lowercase()).await);
    }
    for round in 0..100 {
        presenter
            .cmd(Command::Nominate {
                player: PlayerId(61),
            })
            .await
            .unwrap();
        let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(teams.len()));
        let mut handles = Vec::new();
        for (mut t, code) in teams.drain(..).zip(codes) {
            let barrier = barrier.clone();
            handles.push(tokio::spawn(async move {
                barrier.wait().await;
                let r = t.cmd(bid(code, 30)).await;
                (t, r)
            }));
        }
        let mut accepted = 0;
        for h in handles {
            let (t, r) = h.await.unwrap();
            match r {
                Ok(_) => accepted += 1,
                Err((code, _)) => assert!(
                    matches!(code, RejectCode::BelowMinimum | RejectCode::AlreadyLeading),
                    "round {round}: {code}"
                ),
            }
            teams.push(t);
        }
        assert_eq!(accepted, 1, "round {round}: {accepted} equal bids accepted");
        presenter.cmd(Command::ResetLot).await.unwrap();
    }
}

#[tokio::test]
async fn the_room_sees_who_is_online() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProc::start(dir.path());
    let mut presenter = connect(&server.url).await;
    send(&mut presenter, &login_msg("presenter")).await;
    assert!(matches!(
        recv(&mut presenter).await,
        ServerMsg::Welcome { .. }
    ));
    async fn presence(ws: &mut Ws) -> Vec<String> {
        loop {
            if let ServerMsg::Presence { online } = recv(ws).await {
                return online;
            }
        }
    }
    assert_eq!(presence(&mut presenter).await, ["presenter"]);
    let viewer = Client::login(&server.url, "viewer").await;
    let mi = Client::login(&server.url, "mi").await;
    assert_eq!(
        presence(&mut presenter).await,
        ["mi", "presenter"],
        "viewers are not listed"
    );
    drop(mi);
    assert_eq!(presence(&mut presenter).await, ["presenter"]);
    // Teams and viewers are not sent the list.
    let mut csk = Client::login(&server.url, "csk").await;
    assert!(silent(&mut csk.ws, 300).await);
    drop(viewer);
}
