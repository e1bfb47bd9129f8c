//! An SSH session talks to the engine in-process, with the same events the
//! network session would produce, so the screens cannot tell the difference.

use std::sync::Arc;

use auction_proto::msg::ErrorCode;
use auction_proto::{Access, Actor, RejectCode};
use auction_tui::app::NetEvent;
use auction_tui::run::Link;
use auction_tui::session::Outgoing;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::mpsc;

use crate::auth::Session;
use crate::server::App;

/// A [`Link`] straight to the engine for an authenticated session.
pub fn in_process(app: Arc<App>, session: Session) -> Link {
    let (events_tx, events_rx) = mpsc::unbounded_channel();
    let (out_tx, out_rx) = mpsc::unbounded_channel();
    tokio::spawn(serve(app, session, events_tx, out_rx));
    Link {
        out: out_tx,
        events: events_rx,
    }
}

async fn serve(
    app: Arc<App>,
    session: Session,
    tx: mpsc::UnboundedSender<NetEvent>,
    mut out: mpsc::UnboundedReceiver<Outgoing>,
) {
    let Ok((snapshot, mut events)) = app.engine.subscribe_fresh().await else {
        let _ = tx.send(NetEvent::LoginFailed(
            "the auction engine is not running".into(),
        ));
        return;
    };
    let public = session.access == Access::Viewer;
    let actor = Actor::new(session.user.clone(), session.access.clone());
    let _ = tx.send(NetEvent::Welcome {
        user: session.user.clone(),
        access: session.access.clone(),
        snapshot: Some(snapshot),
    });
    let mut shortlist = crate::auth::team_of(&session.access).map(|team| {
        let rx = app.warroom.subscribe();
        let _ = tx.send(NetEvent::Shortlist(app.warroom.get(team)));
        (team.clone(), rx)
    });
    let mut presence = session.access.runs_room().then(|| {
        let mut rx = app.presence.subscribe();
        rx.mark_changed();
        rx
    });
    loop {
        tokio::select! {
            ev = events.recv() => {
                let ev = match ev {
                    Ok(p) => NetEvent::Event(if public { p.entry.public() } else { p.entry.clone() }),
                    Err(RecvError::Lagged(_)) => match app.engine.subscribe_fresh().await {
                        Ok((snapshot, fresh)) => {
                            events = fresh;
                            NetEvent::Snapshot(snapshot)
                        }
                        Err(_) => return,
                    },
                    Err(RecvError::Closed) => return,
                };
                if tx.send(ev).is_err() {
                    return;
                }
            }
            msg = out.recv() => {
                let Some(msg) = msg else { return };
                let ev = match msg {
                    Outgoing::Command { id, command } => match app.engine.submit(actor.clone(), Some(id.clone()), command).await {
                        Ok(seq) => NetEvent::Accepted { id, seq },
                        Err(r) => NetEvent::Rejected { id, code: r.code, message: r.message },
                    },
                    Outgoing::SetShortlist(entries) => match crate::warroom::set_for(&app, &session.access, entries).await {
                        Ok(()) => continue,
                        Err((code, message)) => NetEvent::Error { code, message },
                    },
                    Outgoing::SetPassword { user, password } => {
                        if session.access != Access::Admin {
                            NetEvent::Error { code: ErrorCode::Forbidden, message: "only the admin may set passwords".into() }
                        } else {
                            let auth = app.auth.clone();
                            let target = user.clone();
                            match tokio::task::spawn_blocking(move || auth.set_password(&target, &password)).await {
                                Ok(Ok(())) => NetEvent::Done(format!("password of {user} set; its sessions were logged out")),
                                Ok(Err(e)) => NetEvent::Error { code: ErrorCode::BadRequest, message: e.to_string() },
                                Err(_) => NetEvent::Rejected { id: String::new(), code: RejectCode::Unavailable, message: "could not set the password".into() },
                            }
                        }
                    }
                };
                if tx.send(ev).is_err() {
                    return;
                }
            }
            entries = crate::warroom::next_change(shortlist.as_mut(), &app.warroom) => {
                if tx.send(NetEvent::Shortlist(entries)).is_err() {
                    return;
                }
            }
            changed = async {
                match presence.as_mut() {
                    Some(rx) => rx.changed().await.is_ok(),
                    None => std::future::pending().await,
                }
            } => {
                if !changed {
                    presence = None;
                    continue;
                }
                let online = app.presence.borrow().keys().cloned().collect();
                if tx.send(NetEvent::Presence(online)).is_err() {
                    return;
                }
            }
        }
    }
}
