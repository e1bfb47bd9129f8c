//! The event loop: keys, link events and the clock in; a redraw only when
//! something changed. Generic over the ratatui backend and over the
//! [`Host`] that carries out the app's effects, so the same loop drives a
//! local terminal and an SSH channel.

use std::time::Duration;

use ratatui::Terminal;
use ratatui::backend::Backend;
use ratatui::layout::Rect;
use tokio::sync::mpsc;

use crate::app::{App, Effect};
use crate::link::{Input, Link, NetEvent, Outgoing};

/// A login typed into the form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginRequest {
    pub server: String,
    pub user: String,
    pub password: String,
}

/// What the screens need from the world around them. The host decides
/// what a screen may reach: the SSH host refuses to read files.
pub trait Host {
    /// A link to the auction for a login typed into the form.
    fn connect(&mut self, login: LoginRequest) -> Link;
    /// The text of a file the user named (an admin's import). `Err` says
    /// why not, in words for the screen.
    fn read_file(&mut self, path: &str) -> impl Future<Output = Result<String, String>> + Send;
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> u64;
}

/// How the loop ended.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Ended {
    /// The login from the form that succeeded, if any (to be remembered).
    pub logged_in: Option<LoginRequest>,
}

async fn next_event(link: &mut Option<Link>) -> Option<NetEvent> {
    match link {
        Some(l) => l.events.recv().await,
        None => std::future::pending().await,
    }
}

/// What the loop keeps between turns.
struct Turn<'h, H> {
    host: &'h mut H,
    link: Option<Link>,
    /// The form's login being tried, and the one that succeeded.
    trying: Option<LoginRequest>,
    ended: Ended,
}

/// Runs until the user quits or the input closes. With `link` the app is
/// connected from the start (no form).
pub async fn run<B: Backend, H: Host>(
    terminal: &mut Terminal<B>,
    app: &mut App,
    mut input: mpsc::Receiver<Input>,
    host: &mut H,
    link: Option<Link>,
) -> Result<Ended, B::Error> {
    if let Some(form) = app.ui.login.as_mut().filter(|_| link.is_some()) {
        form.busy = true;
    }
    let mut turn = Turn {
        host,
        link,
        trying: None,
        ended: Ended::default(),
    };
    let mut dirty = true;
    loop {
        if dirty {
            app.ui.now_ms = turn.host.now_ms();
            terminal.draw(|f| crate::ui::draw(f, app))?;
        }
        if app.ui.quit {
            return Ok(turn.ended);
        }
        // Only a running clock, a banner or a message needs redraws
        // without events.
        let now = turn.host.now_ms();
        let wake = if app.needs_ticks() {
            Duration::from_millis(1000 - now % 1000)
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
                        Input::Closed => return Ok(turn.ended),
                        Input::Resize(w, h) => terminal.resize(Rect::new(0, 0, w, h))?,
                        Input::Redraw => terminal.clear()?,
                        Input::Key(key) => {
                            let effects = app.on_key(key);
                            if turn.carry_out(app, effects).await {
                                return Ok(turn.ended);
                            }
                        }
                    }
                }
                true
            }
            ev = next_event(&mut turn.link) => {
                match ev {
                    Some(ev) => {
                        app.on_net(ev);
                        // A burst of events draws once.
                        if let Some(l) = &mut turn.link {
                            while let Ok(more) = l.events.try_recv() {
                                app.on_net(more);
                            }
                        }
                    }
                    None => turn.link = None,
                }
                if turn.ended.logged_in.is_none() && app.ui.login.is_none() && app.session.access.is_some() {
                    turn.ended.logged_in = turn.trying.clone();
                }
                true
            }
            () = tokio::time::sleep(wake) => app.tick(turn.host.now_ms()),
        };
    }
}

impl<H: Host> Turn<'_, H> {
    /// Carries out the app's effects in order. `true`: the user quit.
    async fn carry_out(&mut self, app: &mut App, effects: Vec<Effect>) -> bool {
        let mut queue = std::collections::VecDeque::from(effects);
        while let Some(effect) = queue.pop_front() {
            let request = match effect {
                Effect::Quit => return true,
                Effect::Send(request) => request,
                Effect::Login {
                    server,
                    user,
                    password,
                } => {
                    let login = LoginRequest {
                        server,
                        user,
                        password,
                    };
                    self.link = Some(self.host.connect(login.clone()));
                    self.trying = Some(login);
                    continue;
                }
                Effect::ReadFile { path } => {
                    let read = self.host.read_file(&path).await;
                    queue.extend(app.on_file(path, read));
                    continue;
                }
            };
            let Some(l) = &self.link else { continue };
            // Never wait on a full queue (the link may be waiting for us to
            // read its events): say on screen that nothing was sent.
            if let Err(e) = l.out.try_send(request) {
                app.on_net(not_sent(e.into_inner()));
            }
        }
        false
    }
}

/// What the app hears when a request could not be queued on the link.
fn not_sent(request: Outgoing) -> NetEvent {
    let message = "too many requests in flight: not sent, try again".to_string();
    match request {
        Outgoing::Command { id, .. } => NetEvent::Rejected {
            id,
            code: auction_proto::RejectCode::Unavailable,
            message,
        },
        _ => NetEvent::Error {
            code: auction_proto::msg::ErrorCode::Unavailable,
            message,
        },
    }
}
