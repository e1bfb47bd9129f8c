//! An SSH session's screens talk to the engine in-process through the same
//! [`ClientSession`] as a WebSocket client, turned into the link events a
//! network session would produce, so the screens cannot tell the
//! difference and both doors answer alike.

use std::sync::Arc;

use auction_screens::link::{Link, LinkEnds, NetEvent, Outgoing};
use tokio::sync::broadcast::error::RecvError;

use crate::auth::Session;
use crate::context::Context;
use crate::session::{ClientSession, Notice, Reply, Request};

/// A [`Link`] straight to the engine for an authenticated session.
pub fn in_process(app: Arc<Context>, login: Session) -> Link {
    let (link, ends) = Link::pair();
    app.tasks.clone().spawn(serve(app, login, ends));
    link
}

/// The screens' form of a session's answer (`None`: nothing to say).
pub fn reply_event(reply: Reply) -> Option<NetEvent> {
    Some(match reply {
        Reply::Accepted { id, seq } => NetEvent::Accepted { id, seq },
        Reply::Rejected { id, code, message } => NetEvent::Rejected { id, code, message },
        Reply::History { entries, .. } => NetEvent::History(entries),
        Reply::PasswordSet { user } => NetEvent::password_set(&user),
        Reply::Error { code, message } => NetEvent::Error { code, message },
        Reply::ShortlistSaved => return None,
    })
}

fn request_of(out: Outgoing) -> Request {
    match out {
        Outgoing::Command { id, command } => Request::Command { id, command },
        Outgoing::SetPassword { user, password } => Request::SetPassword { user, password },
        Outgoing::SetShortlist(entries) => Request::SetShortlist(entries),
        Outgoing::SetCeiling { id, player, amount } => Request::SetCeiling { id, player, amount },
        Outgoing::History { since, limit } => Request::History {
            since,
            limit: Some(limit),
        },
    }
}

async fn serve(app: Arc<Context>, login: Session, ends: LinkEnds) {
    let LinkEnds {
        mut requests,
        events: tx,
    } = ends;
    let (mut session, private) = ClientSession::open(&app, login);
    let Ok((snapshot, mut events)) = session.fresh().await else {
        let gone = "the auction engine is not running".to_string();
        let _ = tx.send(NetEvent::LoginFailed(gone)).await;
        return;
    };
    let welcome = NetEvent::Welcome {
        user: session.login().user.to_string(),
        access: session.login().access.clone(),
        snapshot: Some(snapshot),
    };
    if tx.send(welcome).await.is_err() {
        return;
    }
    if let Some(entries) = private.shortlist
        && tx.send(NetEvent::Shortlist(entries)).await.is_err()
    {
        return;
    }
    if let Some(ceilings) = private.ceilings
        && tx.send(NetEvent::Ceilings(ceilings)).await.is_err()
    {
        return;
    }
    loop {
        let ev = tokio::select! {
            ev = events.recv() => match ev {
                Ok(p) if session.public_only() => NetEvent::Event(p.entry.public()),
                Ok(p) => NetEvent::Event(p.entry.clone()),
                // Too far behind: a fresh state instead of a gap.
                Err(RecvError::Lagged(_)) => match session.fresh().await {
                    Ok((snapshot, fresh)) => {
                        events = fresh;
                        NetEvent::Snapshot(snapshot)
                    }
                    Err(_) => return,
                },
                Err(RecvError::Closed) => return,
            },
            out = requests.recv() => {
                let Some(out) = out else { return };
                match reply_event(session.handle(request_of(out)).await) {
                    Some(ev) => ev,
                    None => continue,
                }
            }
            notice = session.notice() => match notice {
                Notice::Ended => return,
                Notice::Shortlist(entries) => NetEvent::Shortlist(entries),
                Notice::Presence(online) => NetEvent::Presence(online),
                Notice::Ceilings(ceilings) => NetEvent::Ceilings(ceilings),
                Notice::CeilingCount { player, teams } => NetEvent::CeilingCount { player, teams },
            },
        };
        if tx.send(ev).await.is_err() {
            return;
        }
    }
}
