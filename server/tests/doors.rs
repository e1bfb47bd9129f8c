//! One session layer for every door: every kind of request, as every role,
//! answered alike over WebSocket and over the SSH screens' in-process link.
//! Two identical servers take the same requests in the same order, one
//! through each door, and the answers must match.

mod support;

use std::time::Duration;

use auction_proto::msg::{ClientMsg, ServerMsg};
use auction_proto::{Command, TeamCode};
use auction_screens::link::{Link, NetEvent, Outgoing};
use auction_server::startup::Running;
use support::{Client, send};

/// What a door answered, in a form both doors share.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Answer {
    Accepted(u64),
    Rejected(String),
    Error(String),
    History(usize),
    PasswordSet,
    Nothing,
}

/// How long to wait for an answer that may never come (a stored
/// shortlist has none).
const QUIET: Duration = Duration::from_millis(300);

async fn server(dir: &std::path::Path) -> Running {
    support::in_process(dir, None).await
}

/// The requests every role sends, in order.
fn requests() -> Vec<Outgoing> {
    let command = |id: &str, command| Outgoing::Command {
        id: id.into(),
        command,
    };
    vec![
        command("start", Command::Start { seed: Some(1) }),
        command("next", Command::Next),
        command(
            "raise",
            Command::Raise {
                team: TeamCode::new("MI"),
            },
        ),
        command("", Command::Pause),
        command(&"x".repeat(129), Command::Pause),
        Outgoing::History { since: 0, limit: 2 },
        Outgoing::SetPassword {
            user: "rcb".into(),
            password: "short".into(),
        },
        Outgoing::SetPassword {
            user: "nobody".into(),
            password: "long-enough-pw".into(),
        },
        Outgoing::SetShortlist(Vec::new()),
        Outgoing::SetPassword {
            user: "rcb".into(),
            password: "a-new-rcb-password".into(),
        },
    ]
}

async fn over_websocket(url: &str, user: &str) -> Vec<Answer> {
    let mut client = Client::login(url, user).await;
    let mut answers = Vec::new();
    for request in requests() {
        send(&mut client.ws, &ClientMsg::from(request)).await;
        answers.push(ws_answer(&mut client).await);
    }
    answers
}

async fn ws_answer(client: &mut Client) -> Answer {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    loop {
        let Ok(msg) = tokio::time::timeout(QUIET, client.ws.next()).await else {
            return Answer::Nothing;
        };
        let Some(Ok(Message::Text(text))) = msg else {
            continue;
        };
        let answer = match serde_json::from_str(&text).unwrap() {
            ServerMsg::Accepted { seq, .. } => Answer::Accepted(seq),
            ServerMsg::Rejected { code, .. } => Answer::Rejected(format!("{code:?}")),
            ServerMsg::Error { code, .. } => Answer::Error(format!("{code:?}")),
            ServerMsg::History { entries, .. } => Answer::History(entries.len()),
            ServerMsg::PasswordSet { .. } => Answer::PasswordSet,
            // Events, presence and shortlists are not answers.
            _ => continue,
        };
        return answer;
    }
}

async fn over_ssh_link(running: &Running, user: &str) -> Vec<Answer> {
    let session = running.context.auth.open_session(user).unwrap();
    let mut link = auction_server::ssh::link::in_process(running.context.clone(), session);
    let mut answers = Vec::new();
    for request in requests() {
        link.out.send(request).await.unwrap();
        answers.push(link_answer(&mut link).await);
    }
    answers
}

async fn link_answer(link: &mut Link) -> Answer {
    loop {
        let Ok(ev) = tokio::time::timeout(QUIET, link.events.recv()).await else {
            return Answer::Nothing;
        };
        return match ev.expect("the link closed") {
            NetEvent::Accepted { seq, .. } => Answer::Accepted(seq),
            NetEvent::Rejected { code, .. } => Answer::Rejected(format!("{code:?}")),
            NetEvent::Error { code, .. } => Answer::Error(format!("{code:?}")),
            NetEvent::History(entries) => Answer::History(entries.len()),
            NetEvent::Done(_) => Answer::PasswordSet,
            _ => continue,
        };
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_request_is_answered_alike_on_both_doors_for_every_role() {
    let (ws_dir, ssh_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (ws_server, ssh_server) = (server(ws_dir.path()).await, server(ssh_dir.path()).await);
    let url = format!("ws://{}/ws", ws_server.addr);
    let mut table = Vec::new();
    for user in ["viewer", "mi", "presenter", "admin"] {
        let ws = over_websocket(&url, user).await;
        let ssh = over_ssh_link(&ssh_server, user).await;
        assert_eq!(ws, ssh, "{user}: WebSocket (left) and SSH (right) disagree");
        table.push((user, ws));
    }
    // The table says what each role may do, so that agreement is not
    // agreement on nothing.
    let answers = |user: &str| table.iter().find(|(u, _)| *u == user).unwrap().1.clone();
    let forbidden = Answer::Rejected("Forbidden".into());
    let bad_request = Answer::Error("BadRequest".into());
    let viewer = answers("viewer");
    assert_eq!(
        viewer[..3],
        [forbidden.clone(), forbidden.clone(), forbidden]
    );
    assert_eq!(viewer[3..5], [bad_request.clone(), bad_request.clone()]);
    assert_eq!(viewer[5], Answer::History(0));
    assert_eq!(viewer[6], Answer::Error("Forbidden".into()));
    assert_eq!(viewer[8], Answer::Error("Forbidden".into()));
    let mi = answers("mi");
    assert_eq!(mi[8], Answer::Nothing, "a team stores its shortlist");
    let presenter = answers("presenter");
    assert_eq!(presenter[0], Answer::Accepted(1));
    assert_eq!(presenter[1], Answer::Accepted(2));
    assert_eq!(presenter[5], Answer::History(2));
    let admin = answers("admin");
    assert_eq!(admin[6..8], [bad_request.clone(), bad_request]);
    assert_eq!(admin[9], Answer::PasswordSet);
}
