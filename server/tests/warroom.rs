//! A team's war room: its shortlist reaches its own sessions only (never
//! another team, the room or a viewer), is checked, and survives a restart.

mod support;

use std::time::Duration;

use auction_proto::msg::{ClientMsg, ErrorCode, PROTOCOL_VERSION, ServerMsg, ShortlistEntry};
use auction_proto::{Money, PlayerId};
use futures_util::StreamExt;
use support::*;
use tokio_tungstenite::tungstenite::Message;

fn entry(id: u32, target: Option<u64>, note: &str) -> ShortlistEntry {
    ShortlistEntry {
        player: PlayerId(id),
        target: target.map(Money),
        note: note.into(),
    }
}

/// The next shortlist message, skipping others (5 s at most).
async fn shortlist(ws: &mut Ws) -> Vec<ShortlistEntry> {
    loop {
        if let ServerMsg::Shortlist { entries } = recv(ws).await {
            return entries;
        }
    }
}

/// Reads for `ms` and returns every raw text message.
async fn drain(ws: &mut Ws, ms: u64) -> Vec<String> {
    let mut seen = Vec::new();
    while let Ok(Some(Ok(msg))) = tokio::time::timeout(Duration::from_millis(ms), ws.next()).await {
        if let Message::Text(t) = msg {
            seen.push(t.to_string());
        }
    }
    seen
}

#[tokio::test]
async fn a_shortlist_reaches_only_its_own_teams_sessions_and_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = ServerProc::start(dir.path());
    // A team's welcome carries its list (empty so far); nobody else's does.
    let mut mi = Client::login(&server.url, "mi").await;
    assert_eq!(mi.shortlist, Some(vec![]));
    let mut mi_laptop = Client::login(&server.url, "mi").await;
    assert_eq!(mi_laptop.shortlist, Some(vec![]));
    let mut others = Vec::new();
    for user in ["csk", "presenter", "admin", "viewer"] {
        let mut c = Client::login(&server.url, user).await;
        let expected = (user == "csk").then(Vec::new);
        assert_eq!(c.shortlist, expected, "{user}");
        drain(&mut c.ws, 200).await;
        others.push(c);
    }

    let plan = vec![entry(1, Some(300), "keeper, must have"), entry(7, None, "")];
    send(
        &mut mi.ws,
        &ClientMsg::SetShortlist {
            entries: plan.clone(),
        },
    )
    .await;
    assert_eq!(shortlist(&mut mi.ws).await, plan);
    assert_eq!(shortlist(&mut mi_laptop.ws).await, plan);
    for c in &mut others {
        for text in drain(&mut c.ws, 300).await {
            assert!(
                !text.contains("shortlist") && !text.contains("must have"),
                "{} saw {text}",
                c.user
            );
        }
    }
    // CSK's own list stays CSK's.
    send(
        &mut others[0].ws,
        &ClientMsg::SetShortlist {
            entries: vec![entry(2, None, "csk plan")],
        },
    )
    .await;
    assert_eq!(
        shortlist(&mut others[0].ws).await,
        [entry(2, None, "csk plan")]
    );
    for text in drain(&mut mi.ws, 300).await {
        assert!(!text.contains("csk plan"), "MI saw {text}");
    }

    // Bad lists change nothing; the room and viewers have no war room.
    let bad = [
        (vec![entry(9999, None, "")], ErrorCode::BadRequest),
        (
            vec![entry(1, None, ""), entry(1, None, "")],
            ErrorCode::BadRequest,
        ),
        (
            vec![entry(1, None, &"x".repeat(201))],
            ErrorCode::BadRequest,
        ),
        (
            (1..=101).map(|i| entry(i, None, "")).collect(),
            ErrorCode::BadRequest,
        ),
    ];
    for (entries, code) in bad {
        assert_eq!(
            error_for(&mut mi.ws, &ClientMsg::SetShortlist { entries }).await,
            code
        );
    }
    for c in others.iter_mut().skip(1) {
        let msg = ClientMsg::SetShortlist {
            entries: vec![entry(1, None, "")],
        };
        assert_eq!(
            error_for(&mut c.ws, &msg).await,
            ErrorCode::Forbidden,
            "{}",
            c.user
        );
    }

    // Kept across a restart, and sent again on resume.
    server.terminate();
    let server = ServerProc::start(dir.path());
    let again = Client::login(&server.url, "mi").await;
    assert_eq!(again.shortlist.as_ref(), Some(&plan));
    let mut resumed = connect(&server.url).await;
    send(
        &mut resumed,
        &ClientMsg::Resume {
            v: PROTOCOL_VERSION,
            token: again.token.clone(),
            last_seq: again.seq,
        },
    )
    .await;
    match recv(&mut resumed).await {
        ServerMsg::Welcome { shortlist, .. } => assert_eq!(shortlist, Some(plan)),
        other => panic!("{other:?}"),
    }
}
