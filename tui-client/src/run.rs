//! The event loop: keys, network events and the clock in; a redraw only
//! when something changed. Generic over the ratatui backend, so the same
//! loop drives a local terminal and an SSH channel.

use std::time::Duration;

use crossterm::event::KeyEvent;
use ratatui::Terminal;
use ratatui::backend::Backend;
use ratatui::layout::Rect;
use tokio::sync::mpsc;

use crate::app::{App, Effect, NetEvent};
use crate::session::{Login, Outgoing};

/// Input from the user's terminal.
#[derive(Debug, Clone)]
pub enum Input {
    Key(KeyEvent),
    Resize(u16, u16),
    /// Output was dropped on the way (a slow SSH client): repaint everything.
    Redraw,
    /// The terminal went away.
    Closed,
}

/// A connection to the auction: where commands go, where events come from.
pub struct Link {
    pub out: mpsc::UnboundedSender<Outgoing>,
    pub events: mpsc::UnboundedReceiver<NetEvent>,
}

/// Opens a [`Link`] for a login (a network session, or in-process over SSH).
pub type Connector = Box<dyn FnMut(Login) -> Link + Send>;

pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

async fn next_event(link: &mut Option<Link>) -> Option<NetEvent> {
    match link {
        Some(l) => l.events.recv().await,
        None => std::future::pending().await,
    }
}

/// Runs until the user quits or the input closes. `login` connects at once
/// (no form). Returns the login that succeeded, if any, to be remembered.
pub async fn run<B: Backend>(
    terminal: &mut Terminal<B>,
    app: &mut App,
    mut input: mpsc::Receiver<Input>,
    login: Option<Login>,
    mut connect: Connector,
) -> Result<Option<Login>, B::Error> {
    let mut dirty = true;
    let mut link = login.clone().map(&mut connect);
    let mut current = login;
    let mut succeeded: Option<Login> = None;
    if let Some(form) = app.login.as_mut().filter(|_| link.is_some()) {
        form.busy = true;
    }
    loop {
        if dirty {
            app.now_ms = now_ms();
            terminal.draw(|f| crate::ui::draw(f, app))?;
        }
        if app.quit {
            return Ok(succeeded);
        }
        // Only a running clock or a banner needs redraws without events.
        let wake = if app.clock_running() || app.banner.is_some() {
            Duration::from_millis(1000 - now_ms() % 1000)
        } else {
            Duration::from_secs(3600)
        };
        dirty = tokio::select! {
            inp = input.recv() => {
                let mut batch = vec![inp.unwrap_or(Input::Closed)];
                while let Ok(more) = input.try_recv() {
                    batch.push(more);
                }
                for inp in batch {
                    match inp {
                        Input::Closed => return Ok(succeeded),
                        Input::Resize(w, h) => terminal.resize(Rect::new(0, 0, w, h))?,
                        Input::Redraw => terminal.clear()?,
                        Input::Key(key) => {
                            for effect in app.on_key(key) {
                                match effect {
                                    Effect::Quit => return Ok(succeeded),
                                    Effect::Send { id, command } => {
                                        if let Some(l) = &link {
                                            let _ = l.out.send(Outgoing::Command { id, command });
                                        }
                                    }
                                    Effect::SetPassword { user, password } => {
                                        if let Some(l) = &link {
                                            let _ = l.out.send(Outgoing::SetPassword { user, password });
                                        }
                                    }
                                    Effect::SetShortlist(entries) => {
                                        if let Some(l) = &link {
                                            let _ = l.out.send(Outgoing::SetShortlist(entries));
                                        }
                                    }
                                    Effect::Login { server, user, password } => {
                                        let login = Login { server, user, password, ca: None };
                                        link = Some(connect(login.clone()));
                                        current = Some(login);
                                    }
                                }
                            }
                        }
                    }
                }
                true
            }
            ev = next_event(&mut link) => {
                match ev {
                    Some(ev) => {
                        app.on_net(ev);
                        // A burst of events draws once.
                        if let Some(l) = &mut link {
                            while let Ok(more) = l.events.try_recv() {
                                app.on_net(more);
                            }
                        }
                    }
                    None => link = None,
                }
                if succeeded.is_none() && app.login.is_none() && app.access.is_some() {
                    succeeded = current.clone();
                }
                true
            }
            () = tokio::time::sleep(wake) => app.tick(now_ms()),
        };
    }
}
