//! The client's state and its updates: network events in, keys in, effects
//! out. No drawing and no I/O here, so every transition is testable.

use std::collections::{HashMap, VecDeque};

use auction_proto::msg::ShortlistEntry;
use auction_proto::{
    Access, Command, Entry, Event, Money, Phase, PlayerId, Snapshot, State, TeamCode,
};
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use crate::describe;
use crate::keymap::{Action, Keymap, Scope};
use crate::link::{NetEvent, Outgoing};
use crate::prompt_parse;

/// How long the SOLD / UNSOLD banner stays up.
pub const BANNER_MS: u64 = 5_000;
/// How long a message (a refusal, a confirmation) stays at the bottom.
pub const FLASH_MS: u64 = 6_000;
/// Recorded events the log tab asks for when it is first opened.
const LOG_FIRST: usize = 500;
/// How far back the admin may page the log (lines kept in memory).
const LOG_KEPT: usize = 5000;
/// Lines per page of the admin's log (`↑` `↓` on the Log tab).
pub const LOG_PAGE: usize = 20;

/// What the app asks the outside world to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// A request to the auction, sent on the link as it is.
    Send(Outgoing),
    Login {
        server: String,
        user: String,
        password: String,
    },
    /// Read a CSV file of players for an import; the answer comes back
    /// through [`App::on_file`].
    ReadFile {
        path: String,
    },
    Quit,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkState {
    Connecting,
    Connected,
    Disconnected { reason: String, retry_in_ms: u64 },
}

/// What a team owner's screen shows beside the lot (`v` cycles).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TeamView {
    /// Every team's purse and squad.
    #[default]
    Board,
    /// The players left and to come.
    Pool,
    /// The team's own budget.
    Budget,
}

impl TeamView {
    fn next(self) -> TeamView {
        match self {
            TeamView::Board => TeamView::Pool,
            TeamView::Pool => TeamView::Budget,
            TeamView::Budget => TeamView::Board,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tab {
    Auction,
    Players,
    Teams,
    Log,
    /// The organiser's figures: spend per team and role, prices against
    /// bases, the dearest and best-value buys.
    Summary,
}

impl Tab {
    pub const ALL: [Tab; 5] = [
        Tab::Auction,
        Tab::Players,
        Tab::Teams,
        Tab::Log,
        Tab::Summary,
    ];

    pub fn label(&self) -> &'static str {
        match self {
            Tab::Auction => "Auction",
            Tab::Players => "Players",
            Tab::Teams => "Teams",
            Tab::Log => "Log",
            Tab::Summary => "Summary",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PromptKind {
    Bid { team: TeamCode },
    Nominate,
    AdjustPurse { team: TeamCode },
    EditBase { player: PlayerId },
    EditPlayer { player: PlayerId },
    AddPlayer,
    ImportPlayers,
    Shortlist,
    Ceiling,
    PoolFilter,
    RequestAccelerated { team: TeamCode },
    RtmRaise { team: TeamCode },
    Search,
    PasswordUser,
    Password { user: String },
    ResetAuction,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt {
    pub kind: PromptKind,
    pub label: String,
    pub input: String,
    pub error: Option<String>,
    /// Typed text is shown as dots.
    pub secret: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Confirm {
    pub question: String,
    pub then: Then,
}

/// What a confirmed dialog does.
#[derive(Debug, Clone, PartialEq)]
pub enum Then {
    Send(Command),
    Quit,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Mode {
    Normal,
    Help,
    Prompt(Prompt),
    Confirm(Confirm),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flash {
    pub text: String,
    pub error: bool,
    pub at_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Banner {
    pub sold: Option<(TeamCode, Money)>,
    pub player: String,
    pub until_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    pub seq: u64,
    pub at_ms: u64,
    pub who: String,
    pub text: String,
}

/// A field of the login form, in the order they are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginField {
    Server,
    User,
    Password,
}

impl LoginField {
    fn next(self) -> LoginField {
        match self {
            LoginField::Server => LoginField::User,
            LoginField::User => LoginField::Password,
            LoginField::Password => LoginField::Server,
        }
    }

    fn prev(self) -> LoginField {
        self.next().next()
    }
}

/// The login form of the interactive client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginForm {
    pub server: String,
    pub user: String,
    pub password: String,
    pub focus: LoginField,
    pub error: Option<String>,
    pub busy: bool,
}

impl LoginForm {
    pub fn new(server: &str, user: &str) -> LoginForm {
        LoginForm {
            server: server.into(),
            user: user.into(),
            password: String::new(),
            focus: if user.is_empty() {
                LoginField::User
            } else {
                LoginField::Password
            },
            error: None,
            busy: false,
        }
    }

    fn field(&mut self) -> &mut String {
        match self.focus {
            LoginField::Server => &mut self.server,
            LoginField::User => &mut self.user,
            LoginField::Password => &mut self.password,
        }
    }
}

/// The auction as this screen knows it: a replica of the state and the
/// log, folded from the link's events.
pub struct Replica {
    pub state: Option<State>,
    pub seq: u64,
    pub log: VecDeque<LogLine>,
    /// Accounts online, when the server tells (admin and presenter).
    pub online: Option<std::collections::BTreeSet<String>>,
    /// The team's war room: its shortlist, as the server last sent it.
    pub shortlist: Vec<ShortlistEntry>,
    /// The team's proxy-bid ceilings, as the server last sent them.
    pub ceilings: Vec<auction_proto::msg::CeilingEntry>,
    /// How many teams hold a ceiling on the player on the block (the room,
    /// in a league that counts them).
    pub ceiling_count: Option<(PlayerId, u32)>,
}

impl Replica {
    /// The team's own ceiling on `player`, if it holds one.
    pub fn ceiling(&self, player: PlayerId) -> Option<Money> {
        self.ceilings
            .iter()
            .find(|c| c.player == player)
            .map(|c| c.amount)
    }
}

/// Who is logged in, and how the link is doing.
pub struct SessionStatus {
    /// The server of the login form's last login (to offer it again).
    pub server: Option<String>,
    pub user: String,
    pub access: Option<Access>,
    pub conn: LinkState,
    pub rtt_ms: Option<u64>,
}

/// What the person sees and is doing: dialogs, tabs, cursors, messages.
pub struct Ui {
    pub login: Option<LoginForm>,
    pub flash: Option<Flash>,
    pub banner: Option<Banner>,
    pub mode: Mode,
    pub tab: Tab,
    /// The team chosen for paddle bids (index into the teams).
    pub team_cursor: usize,
    pub player_cursor: usize,
    /// A team owner's view beside the lot, its pool filter and cursor.
    pub team_view: TeamView,
    pub pool: crate::pool::PoolQuery,
    pub pool_cursor: usize,
    /// Lines the admin has paged back from the newest in the log.
    pub log_back: usize,
    pub filter: String,
    pub now_ms: u64,
    pub keymap: Keymap,
    pub no_color: bool,
    pub quit: bool,
}

/// Requests sent and not yet answered, and how new ones are named.
pub struct Requests {
    /// Request id → what it was, to explain a rejection.
    pending: HashMap<String, String>,
    next_id: u64,
    id_prefix: String,
    /// Whether the log tab has asked for the recorded history.
    history_asked: bool,
    /// An older page of the log has been asked for and not yet come.
    history_pending: bool,
}

pub struct App {
    pub replica: Replica,
    pub session: SessionStatus,
    pub ui: Ui,
    pub requests: Requests,
}

impl App {
    pub fn new(keymap: Keymap, now_ms: u64) -> App {
        App {
            replica: Replica {
                state: None,
                seq: 0,
                log: VecDeque::new(),
                online: None,
                shortlist: Vec::new(),
                ceilings: Vec::new(),
                ceiling_count: None,
            },
            session: SessionStatus {
                server: None,
                user: String::new(),
                access: None,
                conn: LinkState::Connecting,
                rtt_ms: None,
            },
            ui: Ui {
                login: None,
                flash: None,
                banner: None,
                mode: Mode::Normal,
                tab: Tab::Auction,
                team_cursor: 0,
                player_cursor: 0,
                team_view: TeamView::Board,
                pool: Default::default(),
                pool_cursor: 0,
                log_back: 0,
                filter: String::new(),
                now_ms,
                keymap,
                no_color: false,
                quit: false,
            },
            requests: Requests {
                pending: HashMap::new(),
                next_id: 0,
                id_prefix: format!("{:08x}", now_ms as u32),
                history_asked: false,
                history_pending: false,
            },
        }
    }

    /// Sets what makes this session's request ids unique among the
    /// account's sessions (the host picks it at random).
    pub fn set_request_prefix(&mut self, prefix: u32) {
        self.requests.id_prefix = format!("{prefix:08x}");
    }

    /// With a login form first.
    pub fn with_login(keymap: Keymap, now_ms: u64, server: &str, user: &str) -> App {
        let mut app = App::new(keymap, now_ms);
        app.ui.login = Some(LoginForm::new(server, user));
        app
    }

    pub fn own_team(&self) -> Option<&TeamCode> {
        match &self.session.access {
            Some(Access::Team { team }) => Some(team),
            _ => None,
        }
    }

    pub fn is_room(&self) -> bool {
        matches!(self.session.access, Some(Access::Admin | Access::Presenter))
    }

    pub fn is_admin(&self) -> bool {
        self.session.access == Some(Access::Admin)
    }

    /// Whether `action` applies on the current screen.
    pub fn allows(&self, action: Action) -> bool {
        match action.scope() {
            Scope::Everyone => true,
            Scope::Team => self.own_team().is_some(),
            Scope::Lists => match self.own_team() {
                Some(_) => self.ui.team_view == TeamView::Pool,
                None => {
                    self.is_admin() && matches!(self.ui.tab, Tab::Players | Tab::Teams | Tab::Log)
                }
            },
            Scope::Room => self.is_room() && (self.ui.tab == Tab::Auction || !self.is_admin()),
            Scope::Admin => {
                self.is_admin()
                    && match action {
                        Action::TabNext
                        | Action::TabPrev
                        | Action::ResetPassword
                        | Action::ResetAuction => true,
                        Action::Search
                        | Action::AddPlayer
                        | Action::ImportPlayers
                        | Action::EditBase
                        | Action::EditPlayer
                        | Action::Withdraw => self.ui.tab == Tab::Players,
                        Action::AdjustPurse => self.ui.tab == Tab::Teams,
                        _ => false,
                    }
            }
        }
    }

    /// Advances the clock; true if something on screen depends on it.
    pub fn tick(&mut self, now_ms: u64) -> bool {
        // A clock that was running needs one more draw, to show 0:00.
        let was_running = self.clock_running();
        self.ui.now_ms = now_ms;
        if self
            .ui
            .flash
            .as_ref()
            .is_some_and(|f| f.at_ms + FLASH_MS <= now_ms)
        {
            self.ui.flash = None;
            return true;
        }
        if self
            .ui
            .banner
            .as_ref()
            .is_some_and(|b| b.until_ms <= now_ms)
        {
            self.ui.banner = None;
            return true;
        }
        was_running || self.ui.banner.is_some()
    }

    /// Whether the screen changes with time alone (a clock, a banner or a
    /// message to take down), so the loop must wake each second.
    pub fn needs_ticks(&self) -> bool {
        self.clock_running() || self.ui.banner.is_some() || self.ui.flash.is_some()
    }

    /// A player is on the block.
    fn lot_open(&self) -> bool {
        self.replica.state.as_ref().is_some_and(|s| s.lot.is_some())
    }

    /// A lot clock is counting down (and has not reached zero).
    pub fn clock_running(&self) -> bool {
        self.replica.state.as_ref().is_some_and(|s| {
            s.phase == Phase::Running
                && s.lot.as_ref().and_then(|l| l.timer).is_some_and(|t| {
                    matches!(t, auction_proto::Timer::Running { .. })
                        && t.remaining_ms(self.ui.now_ms) > 0
                })
        })
    }

    fn flash(&mut self, text: impl Into<String>, error: bool) {
        self.ui.flash = Some(Flash {
            text: text.into(),
            error,
            at_ms: self.ui.now_ms,
        });
    }

    // ---- network -------------------------------------------------------------

    pub fn on_net(&mut self, ev: NetEvent) {
        match ev {
            NetEvent::Connecting => {
                if self.session.conn != LinkState::Connected {
                    self.session.conn = LinkState::Connecting;
                }
            }
            NetEvent::Welcome {
                user,
                access,
                snapshot,
            } => {
                self.ui.login = None;
                self.session.user = user;
                self.session.access = Some(access);
                self.session.conn = LinkState::Connected;
                if let Some(s) = snapshot {
                    self.load(s);
                }
            }
            NetEvent::Snapshot(s) => self.load(s),
            NetEvent::Event(e) => self.apply(e),
            NetEvent::Accepted { id, .. } => {
                self.requests.pending.remove(&id);
            }
            NetEvent::Rejected { id, code, message } => {
                let what = self.requests.pending.remove(&id).unwrap_or_default();
                let text = if what.is_empty() {
                    format!("{message} ({code})")
                } else {
                    format!("{what}: {message} ({code})")
                };
                self.flash(text, true);
            }
            NetEvent::Error { message, .. } => self.flash(message, true),
            NetEvent::Rtt(ms) => self.session.rtt_ms = Some(ms),
            NetEvent::Disconnected {
                reason,
                retry_in_ms,
            } => {
                self.session.conn = LinkState::Disconnected {
                    reason,
                    retry_in_ms,
                };
            }
            NetEvent::LoginFailed(message) => match &mut self.ui.login {
                Some(form) => {
                    form.error = Some(message);
                    form.busy = false;
                    form.password.clear();
                }
                // Logged in, then the login ended (password changed, logged
                // out elsewhere): back to the login screen, saying why.
                None => match self.session.server.clone() {
                    Some(server) => {
                        let mut form = LoginForm::new(&server, &self.session.user);
                        form.error = Some(message);
                        self.ui.login = Some(form);
                        self.ui.mode = Mode::Normal;
                        self.session.conn = LinkState::Connecting;
                    }
                    None => {
                        self.session.conn = LinkState::Disconnected {
                            reason: message,
                            retry_in_ms: 0,
                        };
                    }
                },
            },
            NetEvent::Done(text) => self.flash(text, false),
            NetEvent::Presence(online) => self.presence(online),
            NetEvent::Shortlist(entries) => self.replica.shortlist = entries,
            NetEvent::Ceilings(ceilings) => self.replica.ceilings = ceilings,
            NetEvent::CeilingCount { player, teams } => {
                self.replica.ceiling_count = Some((player, teams));
            }
            NetEvent::History(entries) => self.merge_history(entries),
        }
    }

    /// Who is connected now; the room is told when a team's owner drops
    /// while a lot is open.
    fn presence(&mut self, online: Vec<String>) {
        let now: std::collections::BTreeSet<String> = online.into_iter().collect();
        if let (Some(before), Some(state), true) =
            (&self.replica.online, &self.replica.state, self.lot_open())
        {
            let gone: Vec<String> = state
                .teams
                .iter()
                .filter(|t| {
                    let account = t.team.code.account();
                    before.contains(&account) && !now.contains(&account)
                })
                .map(|t| t.team.code.to_string())
                .collect();
            if !gone.is_empty() {
                self.flash(
                    format!("{}'s owner went offline during the lot", gone.join(", ")),
                    true,
                );
            }
        }
        self.replica.online = Some(now);
    }

    /// The host's answer to [`Effect::ReadFile`]: the file's text is sent
    /// for import (the server checks every row), or the reason it could not
    /// be read is shown.
    pub fn on_file(&mut self, path: String, read: Result<String, String>) -> Vec<Effect> {
        let prompt = match &mut self.ui.mode {
            Mode::Prompt(p) if p.kind == PromptKind::ImportPlayers => Some(p),
            _ => None,
        };
        match (read, prompt) {
            (Ok(csv), _) => {
                self.ui.mode = Mode::Normal;
                vec![self.send(Command::ImportPlayers { csv, file: path })]
            }
            (Err(why), Some(p)) => {
                p.error = Some(why);
                Vec::new()
            }
            (Err(why), None) => {
                self.flash(why, true);
                Vec::new()
            }
        }
    }

    fn load(&mut self, s: Snapshot) {
        self.replica.seq = s.seq;
        self.replica.state = Some(s.state);
        self.clamp_cursors();
    }

    fn apply(&mut self, e: Entry) {
        let Some(state) = &mut self.replica.state else {
            return;
        };
        if e.seq != self.replica.seq + 1 {
            // The session resyncs on gaps; never fold out of order.
            return;
        }
        let who = if e.actor.user.is_empty() {
            e.actor.access.label()
        } else {
            e.actor.user.clone()
        };
        let text = describe::event(state, &e.event);
        match &e.event {
            Event::PlayerSold {
                player,
                team,
                price,
                ..
            } => {
                self.ui.banner = Some(Banner {
                    sold: Some((team.clone(), *price)),
                    player: state
                        .player(*player)
                        .map(|p| p.player.name.clone())
                        .unwrap_or_default(),
                    until_ms: self.ui.now_ms + BANNER_MS,
                });
            }
            Event::PlayerUnsold { player } => {
                self.ui.banner = Some(Banner {
                    sold: None,
                    player: state
                        .player(*player)
                        .map(|p| p.player.name.clone())
                        .unwrap_or_default(),
                    until_ms: self.ui.now_ms + BANNER_MS,
                });
            }
            Event::LotOpened { .. } | Event::LotReopened { .. } | Event::AuctionReset => {
                self.ui.banner = None
            }
            _ => {}
        }
        state.apply(&e.event);
        self.replica.seq = e.seq;
        self.replica.log.push_back(LogLine {
            seq: e.seq,
            at_ms: e.at_ms,
            who,
            text,
        });
        while self.replica.log.len() > LOG_KEPT {
            self.replica.log.pop_front();
        }
        if self.ui.log_back > 0 {
            // Paged back: the view stays on the same lines.
            self.ui.log_back += 1;
        }
        self.clamp_cursors();
    }

    /// Pages the admin's log back (older) or forward; near the oldest line
    /// held, the page before it is asked of the server.
    fn page_log(&mut self, back: bool) -> Vec<Effect> {
        let held = self.replica.log.len();
        if !back {
            self.ui.log_back = self.ui.log_back.saturating_sub(LOG_PAGE);
            return Vec::new();
        }
        self.ui.log_back = (self.ui.log_back + LOG_PAGE).min(held.saturating_sub(1));
        let oldest = self.replica.log.front().map_or(0, |l| l.seq);
        if self.ui.log_back + 2 * LOG_PAGE < held || oldest <= 1 || self.requests.history_pending {
            return Vec::new();
        }
        self.requests.history_pending = true;
        let limit = (LOG_PAGE * 5) as u64;
        vec![Effect::Send(Outgoing::History {
            since: oldest.saturating_sub(limit + 1),
            limit: limit as u32,
        })]
    }

    /// Puts recorded events before the ones seen live (no duplicates).
    fn merge_history(&mut self, entries: Vec<Entry>) {
        let Some(state) = &self.replica.state else {
            return;
        };
        let first_live = self.replica.log.front().map_or(u64::MAX, |l| l.seq);
        let mut lines: VecDeque<LogLine> = entries
            .iter()
            .filter(|e| e.seq < first_live)
            .map(|e| LogLine {
                seq: e.seq,
                at_ms: e.at_ms,
                who: if e.actor.user.is_empty() {
                    e.actor.access.label()
                } else {
                    e.actor.user.clone()
                },
                text: describe::event(state, &e.event),
            })
            .collect();
        lines.extend(self.replica.log.drain(..));
        while lines.len() > LOG_KEPT {
            lines.pop_front();
        }
        self.replica.log = lines;
        self.requests.history_pending = false;
    }

    fn clamp_cursors(&mut self) {
        if let Some(s) = &self.replica.state {
            self.ui.team_cursor = self.ui.team_cursor.min(s.teams.len().saturating_sub(1));
            let n = self.filtered_players().len();
            self.ui.player_cursor = self.ui.player_cursor.min(n.saturating_sub(1));
        }
    }

    /// Players matching the admin's filter, in id order.
    pub fn filtered_players(&self) -> Vec<&auction_proto::state::PlayerEntry> {
        let Some(s) = &self.replica.state else {
            return Vec::new();
        };
        let filter = crate::pool::Filter::new(&self.ui.filter);
        s.players
            .iter()
            .filter(|p| filter.admits(p, false))
            .collect()
    }

    pub fn selected_team(&self) -> Option<&TeamCode> {
        self.replica
            .state
            .as_ref()?
            .teams
            .get(self.ui.team_cursor)
            .map(|t| &t.team.code)
    }

    // ---- keys ----------------------------------------------------------------

    /// Handles a key press; returns what to do outside.
    pub fn on_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        if key.kind != KeyEventKind::Press {
            return Vec::new();
        }
        if key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL) {
            self.ui.quit = true;
            return vec![Effect::Quit];
        }
        if self.ui.login.is_some() {
            return self.login_key(key);
        }
        match self.ui.mode.clone() {
            Mode::Help => {
                if self
                    .ui
                    .keymap
                    .lookup(&key, |a| {
                        matches!(a, Action::Help | Action::Cancel | Action::Quit)
                    })
                    .is_some()
                {
                    self.ui.mode = Mode::Normal;
                }
                Vec::new()
            }
            Mode::Confirm(c) => match key.code {
                KeyCode::Char('y') | KeyCode::Char('Y') | KeyCode::Enter => {
                    self.ui.mode = Mode::Normal;
                    match c.then {
                        Then::Send(command) => vec![self.send(command)],
                        Then::Quit => {
                            self.ui.quit = true;
                            vec![Effect::Quit]
                        }
                    }
                }
                KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Esc => {
                    self.ui.mode = Mode::Normal;
                    Vec::new()
                }
                _ => Vec::new(),
            },
            Mode::Prompt(p) => self.prompt_key(p, key),
            Mode::Normal => match self.ui.keymap.lookup(&key, |a| self.allows(a)) {
                Some(action) => self.act(action),
                None => Vec::new(),
            },
        }
    }

    fn login_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        let Some(form) = &mut self.ui.login else {
            return Vec::new();
        };
        if form.busy {
            return Vec::new();
        }
        match key.code {
            KeyCode::Esc => {
                self.ui.quit = true;
                return vec![Effect::Quit];
            }
            KeyCode::Tab | KeyCode::Down => form.focus = form.focus.next(),
            KeyCode::BackTab | KeyCode::Up => form.focus = form.focus.prev(),
            KeyCode::Backspace => {
                form.field().pop();
            }
            KeyCode::Enter if form.focus != LoginField::Password => form.focus = form.focus.next(),
            KeyCode::Enter => {
                if form.server.trim().is_empty() || form.user.trim().is_empty() {
                    form.error = Some("server and user are needed".into());
                    return Vec::new();
                }
                form.busy = true;
                form.error = None;
                self.session.server = Some(form.server.trim().to_string());
                return vec![Effect::Login {
                    server: form.server.trim().to_string(),
                    user: form.user.trim().to_string(),
                    password: form.password.clone(),
                }];
            }
            KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                form.field().push(c)
            }
            _ => {}
        }
        Vec::new()
    }

    fn prompt(&mut self, kind: PromptKind, label: impl Into<String>) {
        let secret = matches!(kind, PromptKind::Password { .. });
        let input = match kind {
            PromptKind::Search => self.ui.filter.clone(),
            PromptKind::PoolFilter => self.ui.pool.filter.clone(),
            _ => String::new(),
        };
        self.ui.mode = Mode::Prompt(Prompt {
            kind,
            label: label.into(),
            input,
            error: None,
            secret,
        });
    }

    fn confirm(&mut self, question: impl Into<String>, command: Command) {
        self.ui.mode = Mode::Confirm(Confirm {
            question: question.into(),
            then: Then::Send(command),
        });
    }

    /// A command with a fresh request id, remembered to explain a rejection.
    fn send(&mut self, command: Command) -> Effect {
        let id = self.request_id(command.name().replace('_', " "));
        Effect::Send(Outgoing::Command { id, command })
    }

    /// A new request id, remembered with what it asks (to explain a
    /// rejection).
    fn request_id(&mut self, what: String) -> String {
        self.requests.next_id += 1;
        let id = format!(
            "{}-{}-{}",
            self.session.user, self.requests.id_prefix, self.requests.next_id
        );
        self.requests.pending.insert(id.clone(), what);
        id
    }

    fn request_ceiling(&mut self, player: PlayerId, amount: Option<Money>) -> Effect {
        let id = self.request_id("proxy ceiling".into());
        Effect::Send(Outgoing::SetCeiling { id, player, amount })
    }

    /// `q`: at once, except that an owner or the room leaving while a lot
    /// is open is asked first (Ctrl-C always leaves at once).
    fn quit_key(&mut self) -> Vec<Effect> {
        let bids = self
            .session
            .access
            .as_ref()
            .is_some_and(|a| *a != Access::Viewer);
        if self.lot_open() && bids {
            self.ui.mode = Mode::Confirm(Confirm {
                question: format!("Leave while {} is on the block?", self.lot_name()),
                then: Then::Quit,
            });
            return Vec::new();
        }
        self.ui.quit = true;
        vec![Effect::Quit]
    }

    fn lot_name(&self) -> String {
        self.replica
            .state
            .as_ref()
            .and_then(|s| s.lot.as_ref().and_then(|l| s.player(l.player)))
            .map(|p| p.player.name.clone())
            .unwrap_or_else(|| "the player".into())
    }

    fn act(&mut self, action: Action) -> Vec<Effect> {
        if action == Action::Quit {
            return self.quit_key();
        }
        // Nothing else means anything before the first state arrives.
        let Some(state) = self.replica.state.clone() else {
            return Vec::new();
        };
        match action.scope() {
            Scope::Everyone => self.dialog_action(action),
            Scope::Team => self.team_action(action, &state),
            Scope::Lists if self.own_team().is_some() => self.team_view_action(action, &state),
            Scope::Lists => self.admin_navigate(action, &state),
            Scope::Room if action.confirms() => self.room_confirm(action, &state),
            Scope::Room => self.room_action(action, &state),
            Scope::Admin if action.navigates() => self.admin_navigate(action, &state),
            Scope::Admin => self.admin_edit(action),
        }
    }

    /// Help and dialogs, for everyone.
    fn dialog_action(&mut self, action: Action) -> Vec<Effect> {
        match action {
            Action::Help => {
                self.ui.mode = Mode::Help;
                Vec::new()
            }
            Action::Cancel => {
                self.ui.flash = None;
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    /// A team's own bids, Right to Match, requests and war room.
    fn team_action(&mut self, action: Action, state: &State) -> Vec<Effect> {
        let one = |e: Effect| vec![e];
        match action {
            Action::Raise => match self.own_team().cloned() {
                Some(team) => one(self.send(Command::Raise { team })),
                None => Vec::new(),
            },
            Action::BidAmount => {
                if let Some(team) = self.own_team().cloned() {
                    let hint = state
                        .next_bid()
                        .map(|m| format!(" (next valid {m})"))
                        .unwrap_or_default();
                    self.prompt(PromptKind::Bid { team }, format!("Bid amount{hint}"));
                }
                Vec::new()
            }
            Action::Rtm | Action::RtmDecline => {
                use auction_proto::{RtmAction, RtmStep};
                let (Some(own), Some(rtm)) = (
                    self.own_team().cloned(),
                    state.lot.as_ref().and_then(|l| l.rtm.clone()),
                ) else {
                    return Vec::new();
                };
                let decline = action == Action::RtmDecline;
                match rtm.step {
                    RtmStep::Offered | RtmStep::Matching if own == rtm.holder => {
                        let action = match (decline, rtm.step) {
                            (true, _) => RtmAction::Decline,
                            (false, RtmStep::Offered) => RtmAction::UseCard,
                            (false, _) => RtmAction::MatchPrice,
                        };
                        one(self.send(Command::Rtm { team: own, action }))
                    }
                    RtmStep::Raising if own == rtm.winner && !decline => {
                        self.prompt(
                            PromptKind::RtmRaise { team: own },
                            format!(
                                "Your final price (at least {}; the same: no raise)",
                                rtm.price
                            ),
                        );
                        Vec::new()
                    }
                    _ => Vec::new(),
                }
            }
            Action::RequestAccelerated => {
                if let Some(team) = self.own_team().cloned() {
                    let limit = state.rules.accelerated_picks;
                    self.prompt(
                        PromptKind::RequestAccelerated { team },
                        format!("Unsold players you want back (up to {limit}, comma-separated; empty withdraws)"),
                    );
                }
                Vec::new()
            }
            Action::Ceiling => {
                let label = match state.lot.as_ref().and_then(|l| state.player(l.player)) {
                    Some(p) => format!(
                        "Proxy ceiling for {} (the server bids for you up to it): amount, `player, amount`, or - to cancel",
                        p.player.name
                    ),
                    None => "Proxy ceiling: `player, amount`, or -player to cancel".into(),
                };
                self.prompt(PromptKind::Ceiling, label);
                self.prefill_from_pool(state);
                Vec::new()
            }
            Action::TeamView | Action::PoolFilter | Action::PoolSort => {
                self.team_view_action(action, state)
            }
            Action::Shortlist => {
                let on_block = state
                    .lot
                    .as_ref()
                    .and_then(|l| state.player(l.player))
                    .map(|p| format!(" (on the block: {})", p.player.name))
                    .unwrap_or_default();
                self.prompt(
                    PromptKind::Shortlist,
                    format!("Shortlist: player, target, note — or -player to remove{on_block}"),
                );
                self.prefill_from_pool(state);
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    /// From the pool view, a prompt about a player (shortlist, ceiling)
    /// starts with the chosen player's name.
    fn prefill_from_pool(&mut self, state: &State) {
        if let (TeamView::Pool, Mode::Prompt(p)) = (self.ui.team_view, &mut self.ui.mode)
            && let Some(row) = crate::pool::pool(state, &self.ui.pool).get(self.ui.pool_cursor)
        {
            p.input = format!("{}, ", row.entry.player.name);
        }
    }

    /// A team owner's view beside the lot: which one, and the pool's
    /// filter, order and cursor.
    fn team_view_action(&mut self, action: Action, state: &State) -> Vec<Effect> {
        match action {
            Action::TeamView => {
                self.ui.team_view = self.ui.team_view.next();
            }
            Action::PoolFilter => {
                self.ui.team_view = TeamView::Pool;
                self.prompt(
                    PromptKind::PoolFilter,
                    "Pool filter: words like bowler, overseas, uncapped, unsold, a set or a country",
                );
            }
            Action::PoolSort => {
                self.ui.team_view = TeamView::Pool;
                self.ui.pool.by_base = !self.ui.pool.by_base;
            }
            Action::Up | Action::Down => {
                let n = crate::pool::pool(state, &self.ui.pool).len().max(1);
                let c = self.ui.pool_cursor.min(n - 1);
                self.ui.pool_cursor = match action {
                    Action::Down => (c + 1) % n,
                    _ => (c + n - 1) % n,
                };
            }
            _ => {}
        }
        Vec::new()
    }

    /// The room: running the auction and paddle bids.
    fn room_action(&mut self, action: Action, state: &State) -> Vec<Effect> {
        let one = |e: Effect| vec![e];
        match action {
            Action::Start => one(self.send(Command::Start { seed: None })),
            Action::Pause => one(self.send(if state.phase == Phase::Paused {
                Command::Resume
            } else {
                Command::Pause
            })),
            Action::Next => one(self.send(Command::Next)),
            Action::Nominate => {
                self.prompt(PromptKind::Nominate, "Nominate (name or id)");
                Vec::new()
            }
            Action::GoingOnce => one(self.send(Command::GoingOnce)),
            Action::GoingTwice => one(self.send(Command::GoingTwice)),
            Action::Accelerated => one(self.send(Command::OpenAccelerated)),
            Action::TeamPrev => {
                let n = state.teams.len().max(1);
                self.ui.team_cursor = (self.ui.team_cursor + n - 1) % n;
                Vec::new()
            }
            Action::TeamNext => {
                self.ui.team_cursor = (self.ui.team_cursor + 1) % state.teams.len().max(1);
                Vec::new()
            }
            Action::PaddleRaise => match self.selected_team().cloned() {
                Some(team) => one(self.send(Command::Raise { team })),
                None => Vec::new(),
            },
            Action::PaddleAmount => {
                if let Some(team) = self.selected_team().cloned() {
                    self.prompt(
                        PromptKind::Bid { team: team.clone() },
                        format!("Paddle bid for {team}"),
                    );
                }
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    /// The room's actions that ask first: the hammer and the undos.
    fn room_confirm(&mut self, action: Action, state: &State) -> Vec<Effect> {
        match action {
            Action::Sold => {
                match state.leader() {
                    Some(b) => {
                        let q = format!("SOLD {} to {} for {}?", self.lot_name(), b.team, b.amount);
                        self.confirm(q, Command::Sold);
                    }
                    None => self.flash("no bid yet: nothing to sell", true),
                }
                Vec::new()
            }
            Action::Unsold => {
                let q = format!("{} UNSOLD?", self.lot_name());
                self.confirm(q, Command::Unsold);
                Vec::new()
            }
            Action::UndoBid => {
                match state.leader() {
                    Some(b) => {
                        let q = format!("Undo {}'s bid of {}?", b.team, b.amount);
                        self.confirm(q, Command::UndoBid);
                    }
                    None => self.flash("no bid to undo", true),
                }
                Vec::new()
            }
            Action::UndoSale => {
                match state.closed.last() {
                    Some(c) => {
                        let name = state
                            .player(c.lot.player)
                            .map(|p| p.player.name.clone())
                            .unwrap_or_default();
                        let what = match &c.outcome {
                            auction_proto::state::Outcome::Sold { team, price, .. } => {
                                format!("the sale of {name} to {team} for {price} (refund)")
                            }
                            auction_proto::state::Outcome::Unsold => format!("{name} unsold"),
                        };
                        self.confirm(
                            format!("Undo {what} and reopen the lot?"),
                            Command::UndoSale,
                        );
                    }
                    None => self.flash("no closed lot to undo", true),
                }
                Vec::new()
            }
            Action::ResetLot => {
                let q = format!(
                    "Take {} off the block, discarding its bids?",
                    self.lot_name()
                );
                self.confirm(q, Command::ResetLot);
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    /// The admin's tabs and lists.
    fn admin_navigate(&mut self, action: Action, state: &State) -> Vec<Effect> {
        match action {
            Action::TabNext | Action::TabPrev => {
                let i = Tab::ALL.iter().position(|t| *t == self.ui.tab).unwrap_or(0);
                let n = Tab::ALL.len();
                let j = if action == Action::TabNext {
                    (i + 1) % n
                } else {
                    (i + n - 1) % n
                };
                self.ui.tab = Tab::ALL[j].clone();
                if self.ui.tab == Tab::Log && !self.requests.history_asked {
                    // The log tab starts with the recorded history: ask once.
                    self.requests.history_asked = true;
                    let limit = LOG_FIRST as u32;
                    return vec![Effect::Send(Outgoing::History {
                        since: self.replica.seq.saturating_sub(u64::from(limit)),
                        limit,
                    })];
                }
                Vec::new()
            }
            Action::Up | Action::Down if self.ui.tab == Tab::Log => {
                self.page_log(action == Action::Up)
            }
            Action::Up | Action::Down => {
                let down = action == Action::Down;
                match self.ui.tab {
                    Tab::Players => {
                        let n = self.filtered_players().len().max(1);
                        self.ui.player_cursor = if down {
                            (self.ui.player_cursor + 1) % n
                        } else {
                            (self.ui.player_cursor + n - 1) % n
                        };
                    }
                    Tab::Teams => {
                        let n = state.teams.len().max(1);
                        self.ui.team_cursor = if down {
                            (self.ui.team_cursor + 1) % n
                        } else {
                            (self.ui.team_cursor + n - 1) % n
                        };
                    }
                    _ => {}
                }
                Vec::new()
            }
            Action::Search => {
                self.prompt(PromptKind::Search, "Filter players (name, set, country)");
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    /// The admin's changes to players, purses, accounts and the auction.
    fn admin_edit(&mut self, action: Action) -> Vec<Effect> {
        match action {
            Action::AddPlayer => {
                self.prompt(
                    PromptKind::AddPlayer,
                    "New player: name, role, country, base, set",
                );
                Vec::new()
            }
            Action::ImportPlayers => {
                self.prompt(
                    PromptKind::ImportPlayers,
                    "CSV file to import (the columns of config/players.csv)",
                );
                Vec::new()
            }
            Action::EditBase => {
                if let Some(p) = self
                    .filtered_players()
                    .get(self.ui.player_cursor)
                    .map(|p| (p.player.id, p.player.name.clone()))
                {
                    self.prompt(
                        PromptKind::EditBase { player: p.0 },
                        format!("New base price for {}", p.1),
                    );
                }
                Vec::new()
            }
            Action::EditPlayer => {
                if let Some(p) = self
                    .filtered_players()
                    .get(self.ui.player_cursor)
                    .map(|p| p.player.clone())
                {
                    self.prompt(
                        PromptKind::EditPlayer { player: p.id },
                        format!(
                            "Edit {} (change any key=value; the server checks it)",
                            p.name
                        ),
                    );
                    if let Mode::Prompt(prompt) = &mut self.ui.mode {
                        prompt.input = prompt_parse::player_fields(&p);
                    }
                }
                Vec::new()
            }
            Action::Withdraw => {
                if let Some(p) = self.filtered_players().get(self.ui.player_cursor).map(|p| {
                    let withdrawn = p.status == auction_proto::PlayerStatus::Withdrawn;
                    (p.player.id, p.player.name.clone(), withdrawn)
                }) {
                    // A withdrawn player: `w` brings him back.
                    match p.2 {
                        true => self.confirm(
                            format!("Bring {} back to the pool?", p.1),
                            Command::RestorePlayer { player: p.0 },
                        ),
                        false => self.confirm(
                            format!("Withdraw {} from the auction?", p.1),
                            Command::WithdrawPlayer { player: p.0 },
                        ),
                    }
                }
                Vec::new()
            }
            Action::AdjustPurse => {
                if let Some(team) = self.selected_team().cloned() {
                    self.prompt(
                        PromptKind::AdjustPurse { team: team.clone() },
                        format!("Adjust {team}'s purse: +/-amount reason"),
                    );
                }
                Vec::new()
            }
            Action::ResetPassword => {
                self.prompt(PromptKind::PasswordUser, "Set the password of account");
                Vec::new()
            }
            Action::ResetAuction => {
                self.prompt(
                    PromptKind::ResetAuction,
                    "Type RESET to reset the whole auction",
                );
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    fn prompt_key(&mut self, mut p: Prompt, key: KeyEvent) -> Vec<Effect> {
        match key.code {
            KeyCode::Esc => {
                self.ui.mode = Mode::Normal;
                Vec::new()
            }
            KeyCode::Backspace => {
                p.input.pop();
                p.error = None;
                self.ui.mode = Mode::Prompt(p);
                Vec::new()
            }
            KeyCode::Enter => match self.submit(&p) {
                Ok(effects) => effects,
                Err(e) => {
                    p.error = Some(e);
                    self.ui.mode = Mode::Prompt(p);
                    Vec::new()
                }
            },
            KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                if p.input.chars().count() < 200 {
                    p.input.push(c);
                }
                p.error = None;
                if p.kind == PromptKind::Search {
                    self.ui.filter = p.input.clone();
                    self.ui.player_cursor = 0;
                }
                self.ui.mode = Mode::Prompt(p);
                Vec::new()
            }
            _ => {
                self.ui.mode = Mode::Prompt(p);
                Vec::new()
            }
        }
    }

    /// The host reads the file where the user is (and an SSH host refuses:
    /// the server's files are not the user's). The prompt stays open until
    /// the host answers, so a wrong path can be corrected where it was typed.
    fn ask_for_file(&mut self, p: &Prompt) -> Result<Vec<Effect>, String> {
        let path = p.input.trim();
        if path.is_empty() {
            return Err("which file?".into());
        }
        self.ui.mode = Mode::Prompt(p.clone());
        Ok(vec![Effect::ReadFile {
            path: path.to_string(),
        }])
    }

    /// Turns a prompt's text into effects, or says what is wrong with it.
    fn submit(&mut self, p: &Prompt) -> Result<Vec<Effect>, String> {
        let input = p.input.trim();
        let state = self.replica.state.clone().ok_or("not connected")?;
        let effects = match &p.kind {
            PromptKind::Bid { team } => {
                let amount = prompt_parse::amount(input)?;
                vec![self.send(Command::Bid {
                    team: team.clone(),
                    amount,
                })]
            }
            PromptKind::RtmRaise { team } => {
                let amount = prompt_parse::amount(input)?;
                vec![self.send(Command::RtmRaise {
                    team: team.clone(),
                    amount,
                })]
            }
            PromptKind::RequestAccelerated { team } => {
                let players = prompt_parse::players(input, &state)?;
                vec![self.send(Command::RequestAccelerated {
                    team: team.clone(),
                    players,
                })]
            }
            PromptKind::Shortlist => {
                vec![Effect::Send(Outgoing::SetShortlist(
                    crate::shortlist_edit::edit(&self.replica.shortlist, &state, input)?,
                ))]
            }
            PromptKind::Ceiling => {
                let (player, amount) = prompt_parse::ceiling(input, &state)?;
                vec![self.request_ceiling(player, amount)]
            }
            PromptKind::Nominate => {
                let id = crate::lookup::find_player(&state, input)?;
                vec![self.send(Command::Nominate { player: id })]
            }
            PromptKind::AdjustPurse { team } => {
                let (delta, reason) = prompt_parse::purse_adjustment(input)?;
                vec![self.send(Command::AdjustPurse {
                    team: team.clone(),
                    delta,
                    reason,
                })]
            }
            PromptKind::EditBase { .. } | PromptKind::EditPlayer { .. } | PromptKind::AddPlayer => {
                self.submit_player(&p.kind, input, &state)?
            }
            PromptKind::ImportPlayers => return self.ask_for_file(p),
            PromptKind::Search => {
                self.ui.filter = input.to_string();
                Vec::new()
            }
            PromptKind::PoolFilter => {
                self.ui.pool.filter = input.to_string();
                self.ui.pool_cursor = 0;
                Vec::new()
            }
            PromptKind::PasswordUser => {
                if input.is_empty() {
                    return Err("which account?".into());
                }
                let user = input.to_lowercase();
                self.prompt(
                    PromptKind::Password { user: user.clone() },
                    format!("New password for {user} (8+ characters)"),
                );
                return Ok(Vec::new());
            }
            PromptKind::Password { user } => {
                if input.chars().count() < 8 {
                    return Err("at least 8 characters".into());
                }
                vec![Effect::Send(Outgoing::SetPassword {
                    user: user.clone(),
                    password: input.to_string(),
                })]
            }
            PromptKind::ResetAuction => {
                if input != "RESET" {
                    return Err("type RESET in capitals, or esc".into());
                }
                vec![self.send(Command::ResetAuction)]
            }
        };
        self.ui.mode = Mode::Normal;
        Ok(effects)
    }

    /// The admin's edits of the pool: a base price, every field, a new player.
    fn submit_player(
        &mut self,
        kind: &PromptKind,
        input: &str,
        state: &State,
    ) -> Result<Vec<Effect>, String> {
        Ok(match kind {
            PromptKind::EditBase { player } => {
                let base = prompt_parse::amount(input)?;
                let mut p = state
                    .player(*player)
                    .ok_or("that player is gone")?
                    .player
                    .clone();
                p.base = base;
                vec![self.send(Command::EditPlayer { player: p })]
            }
            PromptKind::EditPlayer { player } => {
                let original = &state.player(*player).ok_or("that player is gone")?.player;
                let edited = prompt_parse::edited_player(input, original, state)?;
                vec![self.send(Command::EditPlayer { player: edited })]
            }
            PromptKind::AddPlayer => vec![self.send(Command::AddPlayer {
                player: prompt_parse::new_player(input, state)?,
            })],
            _ => Vec::new(),
        })
    }
}
