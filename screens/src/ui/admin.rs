//! The admin console's extra tabs: players, teams, the event log.

use auction_proto::{PlayerStatus, State};
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Row, Table, TableState};

use super::theme::Theme;
use super::{hms, team_style};
use crate::app::{App, Tab};

pub fn tabs(frame: &mut Frame, area: Rect, app: &App, theme: Theme) {
    let mut spans = Vec::new();
    for t in Tab::ALL {
        let style = if t == app.ui.tab {
            theme.selected()
        } else {
            theme.dim()
        };
        spans.push(Span::styled(format!(" {} ", t.label()), style));
        spans.push(Span::raw(" "));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn status_text(state: &State, status: &PlayerStatus, theme: Theme) -> Span<'static> {
    match status {
        PlayerStatus::Available => Span::styled("to come", theme.dim()),
        PlayerStatus::OnBlock => Span::styled("ON BLOCK", theme.warn()),
        PlayerStatus::Sold { team, price } => {
            Span::styled(format!("{team} {price}"), team_style(state, team, theme))
        }
        PlayerStatus::Unsold => Span::styled("unsold", theme.warn()),
        PlayerStatus::Withdrawn => Span::styled("withdrawn", theme.dim()),
    }
}

pub fn players(frame: &mut Frame, area: Rect, app: &App, state: &State, theme: Theme) {
    let list = app.filtered_players();
    let rows: Vec<Row> = list
        .iter()
        .map(|p| {
            Row::new(vec![
                Line::from(p.player.id.0.to_string()),
                Line::from(p.player.name.clone()),
                Line::from(p.player.role.short()),
                Line::from(p.player.country.clone()),
                Line::from(if p.player.overseas { "OS" } else { "" }),
                Line::from(p.player.base.to_string()),
                Line::from(p.player.set.clone()),
                Line::from(status_text(state, &p.status, theme)),
            ])
        })
        .collect();
    let widths = [
        Constraint::Length(4),
        Constraint::Length(22),
        Constraint::Length(4),
        Constraint::Length(12),
        Constraint::Length(2),
        Constraint::Length(9),
        Constraint::Length(22),
        Constraint::Min(10),
    ];
    let filter = if app.ui.filter.is_empty() {
        String::new()
    } else {
        format!(" filter: {} ", app.ui.filter)
    };
    let title = format!(" Players ({}){filter}", list.len());
    let table = Table::new(rows, widths)
        .header(
            Row::new(["#", "name", "role", "country", "", "base", "set", "status"])
                .style(theme.dim()),
        )
        .row_highlight_style(theme.selected())
        .block(Block::bordered().title(title));
    let mut ts = TableState::default().with_selected(Some(app.ui.player_cursor));
    frame.render_stateful_widget(table, area, &mut ts);
}

pub fn teams(frame: &mut Frame, area: Rect, app: &App, state: &State, theme: Theme) {
    let rows: Vec<Row> = state
        .teams
        .iter()
        .map(|t| {
            let adjusted = if t.adjusted == 0 {
                String::new()
            } else {
                format!("{:+} L", t.adjusted)
            };
            let squad: Vec<String> = t
                .squad
                .iter()
                .filter_map(|id| state.player(*id))
                .map(|p| p.player.name.clone())
                .collect();
            Row::new(vec![
                Line::from(Span::styled(
                    t.team.code.to_string(),
                    theme.team(t.team.colour),
                )),
                Line::from(t.team.name.clone()),
                Line::from(t.purse.to_string()),
                Line::from(adjusted),
                Line::from(format!("{}", t.squad.len())),
                Line::from(squad.join(", ")),
            ])
        })
        .collect();
    let widths = [
        Constraint::Length(5),
        Constraint::Length(28),
        Constraint::Length(10),
        Constraint::Length(8),
        Constraint::Length(3),
        Constraint::Min(10),
    ];
    let table = Table::new(rows, widths)
        .header(Row::new(["team", "name", "purse", "adjusted", "n", "squad"]).style(theme.dim()))
        .row_highlight_style(theme.selected())
        .block(Block::bordered().title(" Teams "));
    let mut ts = TableState::default().with_selected(Some(app.ui.team_cursor));
    frame.render_stateful_widget(table, area, &mut ts);
}

pub fn log(frame: &mut Frame, area: Rect, app: &App, theme: Theme) {
    let inner = area.height.saturating_sub(2) as usize;
    let held = app.replica.log.len();
    let back = app.ui.log_back.min(held.saturating_sub(inner));
    let skip = held.saturating_sub(inner + back);
    let lines: Vec<Line> = app
        .replica
        .log
        .iter()
        .skip(skip)
        .map(|l| {
            Line::from(vec![
                Span::styled(format!("#{:<5} {} ", l.seq, hms(l.at_ms)), theme.dim()),
                Span::styled(format!("{:<10} ", l.who), theme.accent()),
                Span::raw(l.text.clone()),
            ])
        })
        .collect();
    frame.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(match back {
            0 => " Event log (↑ pages back) ".to_string(),
            n => format!(" Event log, {n} lines back (↑ older, ↓ newer) "),
        })),
        area,
    );
}

/// The organiser's figures, as `ctl export` gives them.
pub fn summary(frame: &mut Frame, area: Rect, app: &App, state: &State, theme: Theme) {
    use auction_proto::Money;
    let e = crate::export::build(state, app.replica.seq);
    let s = &e.summary;
    let [left, right] = ratatui::layout::Layout::horizontal([
        Constraint::Percentage(50),
        Constraint::Percentage(50),
    ])
    .areas(area);
    let mut lines = vec![
        Line::from(vec![
            Span::styled(format!("{} players sold for ", s.players_sold), theme.dim()),
            Span::styled(Money(s.total_spent_lakh).to_string(), theme.bold()),
        ]),
        Line::from(vec![
            Span::styled("average price ", theme.dim()),
            Span::styled(Money(s.average_price_lakh).to_string(), theme.bold()),
            Span::styled(" against an average base of ", theme.dim()),
            Span::raw(Money(s.average_base_lakh).to_string()),
            Span::styled(format!(" (×{:.2})", s.price_over_base), theme.accent()),
        ]),
        Line::from(""),
        Line::from(Span::styled("spent per team", theme.dim())),
    ];
    for t in &e.teams {
        lines.push(Line::from(vec![
            Span::styled(
                format!("  {:<5}", t.code),
                team_style(state, &auction_proto::TeamCode::new(&t.code), theme),
            ),
            Span::raw(format!(
                "{:>11}  {} players, {} left",
                Money(t.spent_lakh).to_string(),
                t.players,
                Money(t.purse_left_lakh)
            )),
        ]));
    }
    lines.push(Line::from(""));
    lines.push(Line::from(Span::styled("spent per role", theme.dim())));
    for r in &s.by_role {
        lines.push(Line::from(format!(
            "  {:<14}{:>11}  {} players",
            r.role.label(),
            Money(r.spent_lakh).to_string(),
            r.players
        )));
    }
    frame.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(" Summary ")),
        left,
    );
    let buys = |title: &str, list: &[crate::export::TopBuy]| {
        let mut lines = vec![Line::from(Span::styled(title.to_string(), theme.dim()))];
        for b in list.iter().take(5) {
            lines.push(Line::from(format!(
                "  {} ({}) {} · base {}",
                b.name,
                b.team,
                b.price,
                Money(b.base_lakh)
            )));
        }
        lines
    };
    let mut lines = buys("the most expensive", &s.most_expensive);
    lines.push(Line::from(""));
    lines.extend(buys("the best value (price for the base)", &s.best_value));
    frame.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(" Buys ")),
        right,
    );
}
