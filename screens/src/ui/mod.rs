//! Drawing. One code path for every role and every terminal: these
//! functions draw into any ratatui `Frame`, whether it ends up on a local
//! terminal, in a test's `TestBackend`, or down an SSH channel.

mod admin;
mod login;
pub mod theme;
mod viewer;

use auction_proto::state::{Lot, Outcome, PlayerEntry, TeamState};
use auction_proto::{Access, Money, Phase, Role, State, Timer};
use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Clear, Paragraph, Row, Table, Wrap};

use crate::app::{App, LinkState, Mode, Tab};
use crate::keymap::Action;
use theme::Theme;

/// Draws the whole screen for the app's role and state.
pub fn draw(frame: &mut Frame, app: &App) {
    let theme = Theme {
        color: !app.ui.no_color,
    };
    let area = frame.area();
    if let Some(form) = &app.ui.login {
        login::draw(frame, area, form, theme);
        return;
    }
    let Some(state) = &app.replica.state else {
        let text = match &app.session.conn {
            LinkState::Disconnected { reason, .. } => format!("Not connected: {reason}"),
            _ => "Connecting…".to_string(),
        };
        frame.render_widget(
            Paragraph::new(text).alignment(Alignment::Center),
            centered(area, 60, 3),
        );
        return;
    };
    if app.session.access == Some(Access::Viewer) {
        viewer::draw(frame, area, app, state, theme);
        overlays(frame, area, app, theme);
        return;
    }
    // A message sits above the key hints, wrapped, never over them.
    let message = footer_message(app, area.width, theme);
    let [header, body, message_area, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(0),
        Constraint::Length(message.as_ref().map_or(0, |(_, h)| *h)),
        Constraint::Length(1),
    ])
    .areas(area);
    draw_header(frame, header, app, state, theme);
    if let Some((message, _)) = message {
        frame.render_widget(message, message_area);
    }
    frame.render_widget(Paragraph::new(hints(app, state, theme)), footer);
    match &app.session.access {
        Some(Access::Team { team }) => team_screen(frame, body, app, state, team, theme),
        Some(Access::Admin) => {
            let [tabs, rest] =
                Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(body);
            admin::tabs(frame, tabs, app, theme);
            match app.ui.tab {
                Tab::Auction => room_screen(frame, rest, app, state, theme),
                Tab::Players => admin::players(frame, rest, app, state, theme),
                Tab::Teams => admin::teams(frame, rest, app, state, theme),
                Tab::Log => admin::log(frame, rest, app, theme),
                Tab::Summary => admin::summary(frame, rest, app, state, theme),
            }
        }
        _ => room_screen(frame, body, app, state, theme),
    }
    overlays(frame, area, app, theme);
}

pub(crate) fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

fn phase_label(state: &State) -> &'static str {
    match state.phase {
        Phase::NotStarted => "not started",
        Phase::Running => "running",
        Phase::Paused => "PAUSED",
    }
}

pub(crate) fn conn_span(app: &App, theme: Theme) -> Span<'static> {
    match &app.session.conn {
        LinkState::Connected => {
            let rtt = app
                .session
                .rtt_ms
                .map(|ms| format!(" {ms} ms"))
                .unwrap_or_default();
            Span::styled(format!("● online{rtt}"), theme.ok())
        }
        LinkState::Connecting => Span::styled("… connecting".to_string(), theme.warn()),
        LinkState::Disconnected {
            retry_in_ms,
            reason,
        } if *retry_in_ms > 0 => Span::styled(
            format!(
                "○ OFFLINE ({}), retrying in {:.1} s",
                short_reason(reason),
                *retry_in_ms as f64 / 1000.0
            ),
            theme.error(),
        ),
        LinkState::Disconnected { .. } => Span::styled("○ OFFLINE".to_string(), theme.error()),
    }
}

/// Why the link dropped, in a few words: the server's own words when it
/// said ("server restarting"), else the first of ours.
fn short_reason(reason: &str) -> String {
    let said = reason.rsplit(": ").next().unwrap_or(reason);
    let mut short: String = said.chars().take(32).collect();
    if said.chars().count() > 32 {
        short.push('…');
    }
    short
}

fn draw_header(frame: &mut Frame, area: Rect, app: &App, state: &State, theme: Theme) {
    let who = match &app.session.access {
        Some(a) => a.label(),
        None => String::new(),
    };
    let phase_style = match state.phase {
        Phase::Paused => theme.warn(),
        _ => theme.dim(),
    };
    let round = if state.round > 0 {
        format!(" · accelerated round {}", state.round)
    } else {
        String::new()
    };
    let left = Line::from(vec![
        Span::styled(state.league_name.clone(), theme.bold()),
        Span::styled(format!(" · {who} ({}) · ", app.session.user), theme.dim()),
        Span::styled(phase_label(state), phase_style),
        Span::styled(round, theme.dim()),
    ]);
    frame.render_widget(Paragraph::new(left), area);
    frame.render_widget(
        Paragraph::new(Line::from(conn_span(app, theme))).alignment(Alignment::Right),
        area,
    );
}

/// The message above the key hints (the last refusal or confirmation, or a
/// lost connection), wrapped to the width, and the rows it takes (at most
/// three).
fn footer_message(app: &App, width: u16, theme: Theme) -> Option<(Paragraph<'static>, u16)> {
    let (text, style) = match (&app.ui.flash, &app.session.conn) {
        (Some(f), _) => (
            f.text.clone(),
            if f.error { theme.error() } else { theme.ok() },
        ),
        (None, LinkState::Disconnected { reason, .. }) => {
            (format!("connection lost: {reason}"), theme.error())
        }
        _ => return None,
    };
    let rows = (text.chars().count() as u16)
        .div_ceil(width.max(1))
        .clamp(1, 3);
    let paragraph = Paragraph::new(Span::styled(text, style)).wrap(Wrap { trim: true });
    Some((paragraph, rows))
}

fn hint(app: &App, action: Action, what: &str, theme: Theme) -> Vec<Span<'static>> {
    vec![
        Span::styled(
            app.ui.keymap.hint(action),
            theme.accent().add_modifier(Modifier::BOLD),
        ),
        Span::raw(format!(" {what}  ")),
    ]
}

fn hints(app: &App, state: &State, theme: Theme) -> Line<'static> {
    let mut spans = Vec::new();
    let rtm = state.lot.as_ref().and_then(|l| l.rtm.as_ref());
    if let (Some(own), Some(rtm)) = (app.own_team(), rtm) {
        use auction_proto::RtmStep::*;
        match rtm.step {
            Offered if own == &rtm.holder => {
                spans.extend(hint(app, Action::Rtm, "use your card", theme));
                spans.extend(hint(app, Action::RtmDecline, "let him go", theme));
            }
            Matching if own == &rtm.holder => {
                spans.extend(hint(
                    app,
                    Action::Rtm,
                    &format!("match {}", rtm.price),
                    theme,
                ));
                spans.extend(hint(app, Action::RtmDecline, "let him go", theme));
            }
            Raising if own == &rtm.winner => {
                spans.extend(hint(app, Action::Rtm, "your final raise", theme));
            }
            _ => spans.push(Span::styled("Right to Match under way  ", theme.warn())),
        }
    } else if app.own_team().is_some() {
        let next = state
            .next_bid()
            .map(|m| format!("bid {m}"))
            .unwrap_or_else(|| "bid".into());
        spans.extend(hint(app, Action::Raise, &next, theme));
        spans.extend(hint(app, Action::BidAmount, "amount", theme));
    } else if app.is_room() && app.ui.tab == Tab::Auction {
        match (&state.phase, &state.lot) {
            (Phase::NotStarted, _) => spans.extend(hint(app, Action::Start, "start", theme)),
            (_, None) => {
                spans.extend(hint(app, Action::Next, "next", theme));
                spans.extend(hint(app, Action::Nominate, "nominate", theme));
            }
            (_, Some(_)) => {
                spans.extend(hint(app, Action::PaddleRaise, "paddle", theme));
                spans.extend(hint(app, Action::GoingOnce, "once", theme));
                spans.extend(hint(app, Action::GoingTwice, "twice", theme));
                spans.extend(hint(app, Action::Sold, "sold", theme));
                spans.extend(hint(app, Action::Unsold, "unsold", theme));
            }
        }
    } else if app.is_admin() {
        spans.extend(hint(app, Action::TabNext, "tabs", theme));
    }
    spans.extend(hint(app, Action::Help, "help", theme));
    spans.extend(hint(app, Action::Quit, "quit", theme));
    Line::from(spans)
}

// ---- shared panels ------------------------------------------------------------

pub(crate) fn team_style(state: &State, code: &auction_proto::TeamCode, theme: Theme) -> Style {
    state
        .team(code)
        .map_or_else(|| theme.bold(), |t| theme.team(t.team.colour))
}

/// The player's figures; empty when the league gives none (no matches).
pub(crate) fn stats_line(p: &auction_proto::Player) -> String {
    let s = &p.stats;
    if s.matches == 0 {
        return String::new();
    }
    let mut parts = vec![format!("{} matches", s.matches)];
    if s.runs > 0 || p.role != Role::Bowler {
        parts.push(format!("{} runs", s.runs));
    }
    if s.wickets > 0 || matches!(p.role, Role::Bowler | Role::AllRounder) {
        parts.push(format!("{} wkts", s.wickets));
    }
    if s.strike_rate > 0.0 {
        parts.push(format!("SR {:.1}", s.strike_rate));
    }
    if s.economy > 0.0 {
        parts.push(format!("econ {:.2}", s.economy));
    }
    parts.join(" · ")
}

pub(crate) fn player_tags(p: &auction_proto::Player) -> String {
    let mut tags = vec![p.role.label().to_string(), p.country.clone()];
    if p.overseas {
        tags.push("OVERSEAS".into());
    }
    tags.push(if p.capped {
        "capped".into()
    } else {
        "uncapped".into()
    });
    if !p.batting_hand.is_empty() {
        tags.push(format!("{}-hand bat", p.batting_hand));
    }
    if !p.bowling_style.is_empty() {
        tags.push(p.bowling_style.clone());
    }
    tags.join(" · ")
}

pub(crate) fn clock_text(app: &App, state: &State, lot: &Lot) -> Option<String> {
    let timer = lot.timer?;
    let ms = match (state.phase, timer) {
        (Phase::Paused, t) => t.remaining_ms(app.ui.now_ms),
        (_, t @ Timer::Running { .. }) => t.remaining_ms(app.ui.now_ms),
        (_, Timer::Frozen { remaining_ms }) => remaining_ms,
    };
    let secs = ms.div_ceil(1000);
    Some(format!("{}:{:02}", secs / 60, secs % 60))
}

fn lot_panel(frame: &mut Frame, area: Rect, app: &App, state: &State, theme: Theme) {
    let block = Block::bordered().title(" On the block ");
    let lines: Vec<Line> = match state.lot.as_ref().and_then(|l| state.player(l.player)) {
        Some(entry) => {
            let p = &entry.player;
            let mut lines = vec![
                Line::from(Span::styled(
                    p.name.clone(),
                    theme.bold().add_modifier(Modifier::UNDERLINED),
                )),
                Line::from(player_tags(p)),
                Line::from(vec![
                    Span::raw(format!("{} · base ", p.set)),
                    Span::styled(p.base.to_string(), theme.bold()),
                    Span::styled(format!(" · {}", p.id), theme.dim()),
                ]),
                Line::from(Span::styled(stats_line(p), theme.dim())),
            ];
            if let Some(prev) = &p.previous_team {
                lines.push(Line::from(vec![
                    Span::raw("last season: "),
                    Span::styled(prev.to_string(), team_style(state, prev, theme)),
                ]));
            }
            if let Some(rtm) = crate::describe::rtm_status(state) {
                lines.insert(0, Line::from(Span::styled(rtm, theme.warn())));
            }
            if let Some(mark) = app.replica.shortlist.iter().find(|e| e.player == p.id) {
                lines.insert(
                    0,
                    shortlist_line(mark, state.leader().map(|b| b.amount), theme),
                );
            }
            if let Some(line) = ceiling_line(app, p.id, theme) {
                lines.insert(0, line);
            }
            lines
        }
        None => {
            let mut lines = Vec::new();
            if let Some(b) = &app.ui.banner {
                lines.push(Line::from(Span::styled(b.player.clone(), theme.bold())));
            }
            match state.phase {
                Phase::NotStarted => lines.push(Line::from("The auction has not started.")),
                _ => {
                    let next = state
                        .next_in_queue()
                        .and_then(|id| state.player(id))
                        .map(|p| {
                            let star = if app
                                .replica
                                .shortlist
                                .iter()
                                .any(|e| e.player == p.player.id)
                            {
                                "★ "
                            } else {
                                ""
                            };
                            format!(
                                "Next up: {star}{} ({}, base {})",
                                p.player.name, p.player.set, p.player.base
                            )
                        });
                    lines.push(Line::from(
                        next.unwrap_or_else(|| "Nobody left in this round.".into()),
                    ));
                    if state.next_in_queue().is_none() && !state.accelerated_requests.is_empty() {
                        let teams: Vec<String> = state
                            .accelerated_requests
                            .iter()
                            .map(|(t, p)| format!("{t} {}", p.len()))
                            .collect();
                        lines.push(Line::from(Span::styled(
                            format!(
                                "Asked back for the accelerated round: {}",
                                teams.join(" · ")
                            ),
                            theme.accent(),
                        )));
                    }
                }
            }
            lines
        }
    };
    frame.render_widget(
        Paragraph::new(lines).block(block).wrap(Wrap { trim: true }),
        area,
    );
}

fn banner_lines(app: &App, state: &State, theme: Theme) -> Option<Vec<Line<'static>>> {
    let b = app.ui.banner.as_ref()?;
    Some(match &b.sold {
        Some((team, price)) => vec![
            Line::from(Span::styled(
                "SOLD",
                team_style(state, team, theme).add_modifier(Modifier::REVERSED),
            )),
            Line::from(vec![
                Span::raw(format!("{} to ", b.player)),
                Span::styled(team.to_string(), team_style(state, team, theme)),
                Span::raw(format!(" for {price}")),
            ]),
        ],
        None => vec![
            Line::from(Span::styled(
                "UNSOLD",
                theme.warn().add_modifier(Modifier::REVERSED),
            )),
            Line::from(b.player.clone()),
        ],
    })
}

fn bid_panel(frame: &mut Frame, area: Rect, app: &App, state: &State, theme: Theme) {
    let block = Block::bordered().title(" Current bid ");
    let mut lines: Vec<Line> = Vec::new();
    match &state.lot {
        None => {
            if let Some(b) = banner_lines(app, state, theme) {
                lines = b;
            } else {
                lines.push(Line::from(Span::styled("no lot on the block", theme.dim())));
            }
        }
        Some(lot) => {
            match state.leader() {
                Some(b) => {
                    let mut first = vec![
                        Span::styled(b.amount.to_string(), theme.bold()),
                        Span::raw("  "),
                        Span::styled(b.team.to_string(), team_style(state, &b.team, theme)),
                    ];
                    if b.auto {
                        first.push(Span::styled(" auto", theme.accent()));
                    }
                    if app.own_team() == Some(&b.team) {
                        first.push(Span::styled(
                            "  YOU LEAD",
                            theme.ok().add_modifier(Modifier::BOLD),
                        ));
                    }
                    lines.push(Line::from(first));
                }
                None => lines.push(Line::from(Span::styled("no bid yet", theme.dim()))),
            }
            if let Some(next) = state.next_bid() {
                lines.push(Line::from(vec![
                    Span::raw("next valid bid "),
                    Span::styled(next.to_string(), theme.accent()),
                ]));
            }
            let mut stage = vec![
                Span::raw("stage: "),
                Span::styled(lot.stage.label(), theme.warn()),
            ];
            if state.phase == Phase::Paused {
                stage.push(Span::styled("  (paused)", theme.warn()));
            }
            if let Some(clock) = clock_text(app, state, lot) {
                stage.push(Span::raw("  clock "));
                stage.push(Span::styled(clock, theme.bold()));
            }
            lines.push(Line::from(stage));
            if app.is_room()
                && let Some(code) = app.selected_team()
            {
                lines.push(Line::from(vec![
                    Span::styled("paddle ▶ ", theme.dim()),
                    Span::styled(code.to_string(), team_style(state, code, theme)),
                ]));
            }
        }
    }
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

fn history_panel(frame: &mut Frame, area: Rect, state: &State, theme: Theme) {
    let block = Block::bordered().title(" Bids ");
    let rows: Vec<Line> = match &state.lot {
        Some(lot) => lot
            .bids
            .iter()
            .rev()
            .map(|b| bid_line(state, b, true, theme))
            .collect(),
        None => vec![Line::from(Span::styled("—", theme.dim()))],
    };
    frame.render_widget(Paragraph::new(rows).block(block), area);
}

/// One bid of a lot: the team in its colour, the amount, ⚑ when a proxy
/// ceiling placed it, and its time when asked for (24 columns with it).
pub(crate) fn bid_line(
    state: &State,
    b: &auction_proto::state::Bid,
    with_time: bool,
    theme: Theme,
) -> Line<'static> {
    let mut spans = vec![
        Span::styled(
            format!("{:<5}", b.team.as_str()),
            team_style(state, &b.team, theme),
        ),
        Span::raw(format!("{:>9}", b.amount.to_string())),
        Span::styled(if b.auto { "⚑" } else { " " }, theme.accent()),
    ];
    if with_time {
        spans.push(Span::styled(hms(b.at_ms), theme.dim()));
    }
    Line::from(spans)
}

/// `HH:MM:SS` (UTC) of a timestamp.
pub(crate) fn hms(ms: u64) -> String {
    let s = ms / 1000;
    format!("{:02}:{:02}:{:02}", (s / 3600) % 24, (s / 60) % 60, s % 60)
}

fn spent(state: &State, t: &TeamState) -> Money {
    t.squad
        .iter()
        .filter_map(|id| match &state.player(*id)?.status {
            auction_proto::PlayerStatus::Sold { price, .. } => Some(*price),
            _ => None,
        })
        .sum()
}

/// Every team: purse, max bid, squad, overseas. `mark` is the paddle cursor.
fn team_board(
    frame: &mut Frame,
    area: Rect,
    app: &App,
    state: &State,
    mark: Option<usize>,
    theme: Theme,
) {
    let leader = state.leader().map(|b| b.team.clone());
    // Narrow terminals drop the "spent" column and tighten the rest.
    let wide = area.width >= 60;
    // The room sees whose owner is connected (● here, ○ away).
    let online = app.replica.online.as_ref().filter(|_| app.is_room());
    let rows: Vec<Row> = state
        .teams
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let marker = if mark == Some(i) { "▶" } else { " " };
            let own = app.own_team() == Some(&t.team.code);
            let here = online.map(|o| o.contains(&t.team.code.account()));
            let mut code = vec![Span::styled(
                t.team.code.to_string(),
                theme.team(t.team.colour),
            )];
            match here {
                Some(true) => code.push(Span::styled(" ●", theme.ok())),
                Some(false) => code.push(Span::styled(" ○", theme.dim())),
                None => {}
            }
            let mut cells = vec![
                Cell::from(marker),
                Cell::from(Line::from(code)),
                Cell::from(t.purse.to_string()),
                Cell::from(state.max_bid(t).to_string()),
                Cell::from(format!("{}/{}", t.squad.len(), state.rules.squad_max)),
                Cell::from(format!(
                    "{}/{}",
                    state.overseas_count(t),
                    state.rules.overseas_max
                )),
            ];
            if wide {
                cells.push(Cell::from(spent(state, t).to_string()));
            }
            let mut row = Row::new(cells);
            if leader.as_ref() == Some(&t.team.code) || own {
                row = row.style(if own { theme.bold() } else { theme.selected() });
            }
            row
        })
        .collect();
    let (widths, header): (Vec<Constraint>, Vec<&str>) = if wide {
        (
            [1, 7, 10, 10, 6, 5, 10]
                .into_iter()
                .map(Constraint::Length)
                .collect(),
            vec!["", "team", "purse", "max bid", "squad", "os", "spent"],
        )
    } else {
        (
            [1, 6, 9, 9, 5, 3]
                .into_iter()
                .map(Constraint::Length)
                .collect(),
            vec!["", "team", "purse", "max bid", "squad", "os"],
        )
    };
    let table = Table::new(rows, widths)
        .header(Row::new(header).style(theme.dim()))
        .column_spacing(1)
        .block(Block::bordered().title(" Teams "));
    frame.render_widget(table, area);
}

fn upcoming_line(state: &State, theme: Theme) -> Line<'static> {
    let names: Vec<String> = state
        .upcoming()
        .take(12)
        .map(|p| p.player.name.clone())
        .collect();
    let total = state.upcoming().count();
    let mut spans = vec![Span::styled(format!("Next ({total}): "), theme.dim())];
    spans.push(Span::raw(if names.is_empty() {
        "—".to_string()
    } else {
        names.join(", ")
    }));
    Line::from(spans)
}

/// The presenter's console (and the admin's auction tab).
fn room_screen(frame: &mut Frame, area: Rect, app: &App, state: &State, theme: Theme) {
    let [top, middle, bottom] = Layout::vertical([
        Constraint::Length(7),
        Constraint::Min(0),
        Constraint::Length(1),
    ])
    .areas(area);
    let [lot, bid] =
        Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(top);
    lot_panel(frame, lot, app, state, theme);
    bid_panel(frame, bid, app, state, theme);
    let [hist, board] =
        Layout::horizontal([Constraint::Length(28), Constraint::Min(0)]).areas(middle);
    history_panel(frame, hist, state, theme);
    team_board(frame, board, app, state, Some(app.ui.team_cursor), theme);
    frame.render_widget(Paragraph::new(upcoming_line(state, theme)), bottom);
}

fn squad_lines(state: &State, team: &TeamState, theme: Theme) -> Vec<Line<'static>> {
    let mut by_role = Vec::new();
    for role in Role::ALL {
        let n = team
            .squad
            .iter()
            .filter(|id| state.player(**id).is_some_and(|p| p.player.role == role))
            .count();
        by_role.push(format!("{} {n}", role.short()));
    }
    let mut lines = vec![
        Line::from(vec![
            Span::raw("purse "),
            Span::styled(team.purse.to_string(), theme.bold()),
        ]),
        Line::from(vec![
            Span::raw("max bid "),
            Span::styled(state.max_bid(team).to_string(), theme.accent()),
        ]),
        Line::from(format!(
            "squad {}/{} (min {}) · overseas {}/{}",
            team.squad.len(),
            state.rules.squad_max,
            state.rules.squad_min,
            state.overseas_count(team),
            state.rules.overseas_max
        )),
        Line::from(Span::styled(by_role.join(" · "), theme.dim())),
    ];
    let buys: Vec<&PlayerEntry> = team
        .squad
        .iter()
        .filter_map(|id| state.player(*id))
        .collect();
    if buys.is_empty() {
        lines.push(Line::from(Span::styled(
            "no players bought yet",
            theme.dim(),
        )));
    }
    for p in buys.iter().rev() {
        let price = match &p.status {
            auction_proto::PlayerStatus::Sold { price, .. } => price.to_string(),
            _ => String::new(),
        };
        lines.push(Line::from(format!(
            "{:<22} {:<4} {:>9}",
            p.player.name,
            p.player.role.short(),
            price
        )));
    }
    lines
}

/// The proxy bid on the player on the block: the team's own ceiling, or
/// for the room (when the league counts them) how many teams hold one.
fn ceiling_line(app: &App, player: auction_proto::PlayerId, theme: Theme) -> Option<Line<'static>> {
    if let Some(amount) = app.replica.ceiling(player) {
        return Some(Line::from(Span::styled(
            format!("⚑ your proxy ceiling {amount}: the server bids for you up to it"),
            theme.accent(),
        )));
    }
    match app.replica.ceiling_count {
        Some((p, teams)) if p == player && app.is_room() => Some(Line::from(Span::styled(
            format!(
                "⚑ {teams} team{} hold{} a proxy ceiling",
                if teams == 1 { "" } else { "s" },
                if teams == 1 { "s" } else { "" }
            ),
            theme.dim(),
        ))),
        _ => None,
    }
}

/// The war-room mark of the player on the block: shortlisted, with the
/// target, and a warning once the bidding passes it.
fn shortlist_line(
    mark: &auction_proto::msg::ShortlistEntry,
    bid: Option<Money>,
    theme: Theme,
) -> Line<'static> {
    let mut spans = vec![Span::styled("★ on your shortlist", theme.accent())];
    if let Some(target) = mark.target {
        match bid {
            Some(bid) if bid > target => {
                spans.push(Span::styled(
                    format!(" · OVER YOUR TARGET {target}"),
                    theme.error(),
                ));
            }
            _ => spans.push(Span::raw(format!(" · target {target}"))),
        }
    }
    if !mark.note.is_empty() {
        spans.push(Span::styled(format!(" · {}", mark.note), theme.dim()));
    }
    Line::from(spans)
}

/// The team's war room: each shortlisted player and where it stands, then
/// the proxy ceilings on players not on the list.
fn warroom_lines(app: &App, state: &State, theme: Theme) -> Vec<Line<'static>> {
    let mut lines = shortlist_lines(app, state, theme);
    for c in &app.replica.ceilings {
        if app.replica.shortlist.iter().any(|e| e.player == c.player) {
            continue;
        }
        if let Some(p) = state.player(c.player) {
            lines.push(Line::from(Span::styled(
                format!("⚑ {} ceiling {}", p.player.name, c.amount),
                theme.accent(),
            )));
        }
    }
    lines
}

fn shortlist_lines(app: &App, state: &State, theme: Theme) -> Vec<Line<'static>> {
    app.replica
        .shortlist
        .iter()
        .filter_map(|e| {
            let p = state.player(e.player)?;
            let mut target = e.target.map(|t| format!(" ≤{t}")).unwrap_or_default();
            if let Some(ceiling) = app.replica.ceiling(e.player) {
                target.push_str(&format!(" ⚑{ceiling}"));
            }
            let (status, style) = match &p.status {
                auction_proto::PlayerStatus::Sold { team, price } => {
                    (format!("{team} {price}"), theme.dim())
                }
                auction_proto::PlayerStatus::OnBlock => {
                    ("ON THE BLOCK".to_string(), theme.accent())
                }
                auction_proto::PlayerStatus::Unsold => ("unsold".to_string(), theme.dim()),
                auction_proto::PlayerStatus::Withdrawn => ("withdrawn".to_string(), theme.dim()),
                auction_proto::PlayerStatus::Available => ("to come".to_string(), Style::default()),
            };
            Some(Line::from(vec![
                Span::raw(format!("★ {}{target} ", p.player.name)),
                Span::styled(status, style),
            ]))
        })
        .collect()
}

/// A team owner's console.
fn team_screen(
    frame: &mut Frame,
    area: Rect,
    app: &App,
    state: &State,
    code: &auction_proto::TeamCode,
    theme: Theme,
) {
    let [top, middle] = Layout::vertical([Constraint::Length(7), Constraint::Min(0)]).areas(area);
    let [lot, bid] =
        Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(top);
    lot_panel(frame, lot, app, state, theme);
    bid_panel(frame, bid, app, state, theme);
    let [mine, others] =
        Layout::horizontal([Constraint::Percentage(45), Constraint::Min(0)]).areas(middle);
    if let Some(team) = state.team(code) {
        let title = Line::from(vec![
            Span::raw(" "),
            Span::styled(team.team.name.clone(), theme.team(team.team.colour)),
            Span::raw(" "),
        ]);
        let room = warroom_lines(app, state, theme);
        let (squad_area, room_area) = if room.is_empty() {
            (mine, None)
        } else {
            let height = (room.len() as u16 + 2).min(mine.height / 2);
            let [a, b] =
                Layout::vertical([Constraint::Min(0), Constraint::Length(height)]).areas(mine);
            (a, Some(b))
        };
        frame.render_widget(
            Paragraph::new(squad_lines(state, team, theme)).block(Block::bordered().title(title)),
            squad_area,
        );
        if let Some(area) = room_area {
            frame.render_widget(
                Paragraph::new(room)
                    .block(Block::bordered().title(" War room (only you see this) ")),
                area,
            );
        }
    }
    match app.ui.team_view {
        crate::app::TeamView::Board => team_board(frame, others, app, state, None, theme),
        crate::app::TeamView::Pool => pool_panel(frame, others, app, state, theme),
        crate::app::TeamView::Budget => budget_panel(frame, others, state, code, theme),
    }
}

/// The players left and to come, as the owner filters and orders them.
fn pool_panel(frame: &mut Frame, area: Rect, app: &App, state: &State, theme: Theme) {
    let rows = crate::pool::pool(state, &app.ui.pool);
    let order = if app.ui.pool.by_base {
        "by base price"
    } else {
        "in the round's order"
    };
    let filter = match app.ui.pool.filter.trim() {
        "" => String::new(),
        f => format!(" · {f}"),
    };
    let title = format!(
        " Pool: {} players {order}{filter} (v, F filter, o order, s shortlist) ",
        rows.len()
    );
    let visible = area.height.saturating_sub(3) as usize;
    let cursor = app.ui.pool_cursor.min(rows.len().saturating_sub(1));
    let skip = cursor.saturating_sub(visible.saturating_sub(1));
    let table_rows: Vec<Row> = rows
        .iter()
        .enumerate()
        .skip(skip)
        .take(visible)
        .map(|(i, r)| pool_row(app, r, i == cursor, theme))
        .collect();
    let widths = [1, 4, 22, 4, 14, 9, 18, 9].map(Constraint::Length);
    let header = Row::new([
        "", "next", "player", "role", "country", "base", "set", "status",
    ])
    .style(theme.dim());
    let table = Table::new(table_rows, widths)
        .header(header)
        .block(Block::bordered().title(title));
    frame.render_widget(table, area);
}

fn pool_row<'a>(app: &App, r: &crate::pool::PoolRow<'a>, selected: bool, theme: Theme) -> Row<'a> {
    let p = &r.entry.player;
    let star = if app.replica.shortlist.iter().any(|e| e.player == p.id) {
        "★"
    } else {
        ""
    };
    let status = match &r.entry.status {
        auction_proto::PlayerStatus::Available => "to come".to_string(),
        auction_proto::PlayerStatus::OnBlock => "ON BLOCK".to_string(),
        auction_proto::PlayerStatus::Unsold => "unsold".to_string(),
        auction_proto::PlayerStatus::Sold { team, .. } => format!("{team}"),
        auction_proto::PlayerStatus::Withdrawn => "withdrawn".to_string(),
    };
    let country = match p.overseas {
        true => format!("{} ✈", p.country),
        false => p.country.clone(),
    };
    let row = Row::new(vec![
        Cell::from(star),
        Cell::from(r.next_up.map(|n| n.to_string()).unwrap_or_default()),
        Cell::from(p.name.clone()),
        Cell::from(p.role.short()),
        Cell::from(country),
        Cell::from(p.base.to_string()),
        Cell::from(p.set.clone()),
        Cell::from(status),
    ]);
    if selected {
        row.style(theme.selected())
    } else {
        row
    }
}

/// The owner's budget: what it can bid, what it must and may still buy.
fn budget_panel(
    frame: &mut Frame,
    area: Rect,
    state: &State,
    code: &auction_proto::TeamCode,
    theme: Theme,
) {
    let Some(team) = state.team(code) else { return };
    let b = crate::budget::budget(state, team);
    let line = |label: &str, value: String| {
        Line::from(vec![
            Span::styled(format!("{label:<31}"), theme.dim()),
            Span::styled(value, theme.bold()),
        ])
    };
    let mut lines = vec![
        line("purse left", b.purse.to_string()),
        line("maximum bid now", b.max_bid.to_string()),
        line(
            "squad",
            format!(
                "{} of {}–{}",
                b.squad, state.rules.squad_min, state.rules.squad_max
            ),
        ),
        line("still needed (to the minimum)", b.to_minimum.to_string()),
        line("places left (to the maximum)", b.to_maximum.to_string()),
        line(
            "overseas places left",
            format!(
                "{} ({} of {})",
                b.overseas_left, b.overseas, state.rules.overseas_max
            ),
        ),
        line(
            "purse per player still needed",
            b.per_needed_slot.to_string(),
        ),
        Line::from(""),
        Line::from(Span::styled("spent by role", theme.dim())),
    ];
    for (role, n, spent) in &b.by_role {
        lines.push(line(
            &format!("  {}", role.label()),
            format!("{spent} ({n})"),
        ));
    }
    frame.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(" Budget (v) ")),
        area,
    );
}

fn overlays(frame: &mut Frame, area: Rect, app: &App, theme: Theme) {
    match &app.ui.mode {
        Mode::Normal => {}
        Mode::Help => {
            let lines: Vec<Line> = app
                .ui
                .keymap
                .help(|a| app.allows(a))
                .into_iter()
                .map(|(keys, what)| {
                    Line::from(vec![
                        Span::styled(format!("{keys:>14}  "), theme.accent()),
                        Span::raw(what),
                    ])
                })
                .collect();
            let h = (lines.len() as u16 + 2).min(area.height);
            let rect = centered(area, 64, h);
            frame.render_widget(Clear, rect);
            frame.render_widget(
                Paragraph::new(lines).block(Block::bordered().title(" Keys (? to close) ")),
                rect,
            );
        }
        Mode::Confirm(c) => {
            let rect = centered(
                area,
                (c.question.chars().count() as u16 + 6)
                    .max(30)
                    .min(area.width),
                5,
            );
            frame.render_widget(Clear, rect);
            let lines = vec![
                Line::from(Span::styled(c.question.clone(), theme.bold())),
                Line::from(""),
                Line::from(vec![
                    Span::styled("y", theme.accent()),
                    Span::raw(" yes   "),
                    Span::styled("n", theme.accent()),
                    Span::raw(" no"),
                ]),
            ];
            frame.render_widget(
                Paragraph::new(lines)
                    .alignment(Alignment::Center)
                    .block(Block::bordered().title(" Confirm ")),
                rect,
            );
        }
        Mode::Prompt(p) => {
            let rect = Rect {
                x: area.x,
                y: area.bottom().saturating_sub(4),
                width: area.width,
                height: 4.min(area.height),
            };
            frame.render_widget(Clear, rect);
            let shown = if p.secret {
                "•".repeat(p.input.chars().count())
            } else {
                p.input.clone()
            };
            let mut lines = vec![Line::from(vec![
                Span::styled("> ", theme.accent()),
                Span::raw(shown),
                Span::styled("▏", theme.accent()),
            ])];
            if let Some(e) = &p.error {
                lines.push(Line::from(Span::styled(e.clone(), theme.error())));
            }
            let title = format!(" {} (enter / esc) ", p.label);
            frame.render_widget(
                Paragraph::new(lines).block(Block::default().borders(Borders::ALL).title(title)),
                rect,
            );
        }
    }
}

/// Sales so far, most recent first: (player, team, price).
pub(crate) fn recent_sales(state: &State) -> Vec<(String, auction_proto::TeamCode, Money)> {
    state
        .closed
        .iter()
        .rev()
        .filter_map(|c| match &c.outcome {
            Outcome::Sold { team, price, .. } => Some((
                state
                    .player(c.lot.player)
                    .map(|p| p.player.name.clone())
                    .unwrap_or_default(),
                team.clone(),
                *price,
            )),
            Outcome::Unsold => None,
        })
        .collect()
}
