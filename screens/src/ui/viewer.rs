//! The big screen for a projector: public fields only, huge letters.

use auction_proto::{Phase, State};
use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use tui_big_text::{BigText, PixelSize};

use super::theme::Theme;
use super::{conn_span, player_tags, recent_sales, stats_line, team_style};
use crate::app::App;

/// The largest pixel size at which `text` fits in `area`, with its height.
fn fit(text: &str, area: Rect) -> Option<(PixelSize, u16)> {
    let chars = text.chars().count() as u16;
    // (size, cells per glyph across, rows per glyph)
    let sizes = [
        (PixelSize::Full, 8, 8),
        (PixelSize::HalfHeight, 8, 4),
        (PixelSize::Quadrant, 4, 4),
        (PixelSize::Sextant, 4, 3),
    ];
    sizes
        .into_iter()
        .find(|(_, w, h)| chars * w <= area.width && *h <= area.height)
        .map(|(size, _, h)| (size, h))
}

/// Draws `text` as big as fits in `area` (plain and bold if nothing fits).
fn big(frame: &mut Frame, area: Rect, text: &str, style: ratatui::style::Style) -> u16 {
    match fit(text, area) {
        Some((size, h)) => {
            let widget = BigText::builder()
                .pixel_size(size)
                .style(style)
                .lines(vec![Line::from(text.to_string())])
                .centered()
                .build();
            frame.render_widget(widget, Rect { height: h, ..area });
            h
        }
        None => {
            frame.render_widget(
                Paragraph::new(Span::styled(
                    text.to_string(),
                    style.add_modifier(Modifier::BOLD),
                ))
                .alignment(Alignment::Center),
                Rect { height: 1, ..area },
            );
            1
        }
    }
}

/// An amount for the big digits: `2.2 CR`, `75 L` (the ₹ sign is not in the font).
fn big_amount(m: auction_proto::Money) -> String {
    m.to_string().trim_start_matches('₹').replace("Cr", "CR")
}

/// One centred line at the top of `area`.
fn centred<'a>(frame: &mut Frame, area: Rect, line: impl Into<Line<'a>>) {
    frame.render_widget(
        Paragraph::new(line.into()).alignment(Alignment::Center),
        Rect { height: 1, ..area },
    );
}

/// What is left of `area` below row `y`.
fn below(area: Rect, y: u16) -> Rect {
    Rect {
        y,
        height: area.bottom().saturating_sub(y),
        ..area
    }
}

pub fn draw(frame: &mut Frame, area: Rect, app: &App, state: &State, theme: Theme) {
    let board_h = (state.teams.len() as u16 + 2).min(area.height / 3);
    let [header_area, main, board_area, ticker_area] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(0),
        Constraint::Length(board_h),
        Constraint::Length(1),
    ])
    .areas(area);
    header(frame, header_area, app, state, theme);
    if let Some(b) = &app.ui.banner {
        banner(frame, main, b, state, theme);
    } else if let Some(entry) = state.lot.as_ref().and_then(|l| state.player(l.player)) {
        lot(frame, main, &entry.player, state, theme);
    } else {
        let text = match state.phase {
            Phase::NotStarted => "Auction starts soon".to_string(),
            _ => match state.next_in_queue().and_then(|id| state.player(id)) {
                Some(p) => format!("Next: {}", p.player.name),
                None => "Round complete".to_string(),
            },
        };
        big(frame, main, &text, theme.bold());
    }
    board(frame, board_area, state, theme);
    ticker(frame, ticker_area, state, theme);
}

fn header(frame: &mut Frame, area: Rect, app: &App, state: &State, theme: Theme) {
    let status = match state.phase {
        Phase::Paused => Span::styled(" · PAUSED", theme.warn()),
        Phase::NotStarted => Span::styled(" · starting soon", theme.dim()),
        Phase::Running => Span::raw(""),
    };
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(state.league_name.clone(), theme.bold()),
            status,
        ])),
        area,
    );
    frame.render_widget(
        Paragraph::new(Line::from(conn_span(app, theme))).alignment(Alignment::Right),
        area,
    );
}

/// SOLD / UNSOLD, the player, and the price and buyer.
fn banner(frame: &mut Frame, area: Rect, b: &crate::app::Banner, state: &State, theme: Theme) {
    let (word, style) = match &b.sold {
        Some((team, _)) => ("SOLD", team_style(state, team, theme)),
        None => ("UNSOLD", theme.warn()),
    };
    let mut y = area.y;
    y += big(frame, below(area, y), word, style);
    y += big(frame, below(area, y), &b.player, theme.bold());
    if let Some((team, price)) = &b.sold {
        y += big(frame, below(area, y), &big_amount(*price), theme.bold());
        let name = team_name(state, team);
        let to = Span::styled(format!("to {name}"), team_style(state, team, theme));
        centred(frame, below(area, y), to);
    }
}

fn team_name(state: &State, team: &auction_proto::TeamCode) -> String {
    state
        .team(team)
        .map(|t| t.team.name.clone())
        .unwrap_or_default()
}

/// The player on the block and the bidding.
fn lot(frame: &mut Frame, area: Rect, p: &auction_proto::Player, state: &State, theme: Theme) {
    let mut y = area.y;
    y += big(frame, below(area, y), &p.name, theme.bold());
    let info = format!("{} · {} · base {}", player_tags(p), p.set, p.base);
    centred(frame, below(area, y), info);
    y += 1;
    centred(
        frame,
        below(area, y),
        Span::styled(stats_line(p), theme.dim()),
    );
    y += 2;
    let Some(bid) = state.leader() else {
        let opens = Span::styled(format!("Bidding opens at {}", p.base), theme.accent());
        centred(frame, below(area, y), opens);
        return;
    };
    let style = team_style(state, &bid.team, theme);
    y += big(frame, below(area, y), &big_amount(bid.amount), style);
    let stage = state
        .lot
        .as_ref()
        .map(|l| l.stage.label())
        .unwrap_or_default();
    let stage = crate::describe::rtm_status(state).unwrap_or(stage.to_string());
    let line = Line::from(vec![
        Span::styled(team_name(state, &bid.team), style),
        Span::styled(format!("  ·  {stage}"), theme.warn()),
    ]);
    centred(frame, below(area, y), line);
}

/// Purse leaderboard, most money left first, in two columns.
fn board(frame: &mut Frame, area: Rect, state: &State, theme: Theme) {
    let mut teams: Vec<_> = state.teams.iter().collect();
    teams.sort_by(|a, b| b.purse.cmp(&a.purse).then(a.team.code.cmp(&b.team.code)));
    let half = teams.len().div_ceil(2);
    let [left, right] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(area);
    for (col, chunk) in [left, right].into_iter().zip(teams.chunks(half.max(1))) {
        let lines: Vec<Line> = chunk
            .iter()
            .map(|t| {
                Line::from(vec![
                    Span::styled(
                        format!(" {:<5}", t.team.code.as_str()),
                        theme.team(t.team.colour),
                    ),
                    Span::raw(format!("{:>11}", t.purse.to_string())),
                    Span::styled(
                        format!(
                            "  {} player{}",
                            t.squad.len(),
                            if t.squad.len() == 1 { "" } else { "s" }
                        ),
                        theme.dim(),
                    ),
                ])
            })
            .collect();
        frame.render_widget(
            Paragraph::new(lines).block(Block::bordered().title(" Purse left ")),
            col,
        );
    }
}

/// The last sales, one line.
fn ticker(frame: &mut Frame, area: Rect, state: &State, theme: Theme) {
    let sales: Vec<Span> = recent_sales(state)
        .into_iter()
        .take(6)
        .flat_map(|(name, team, price)| {
            vec![
                Span::raw(format!("{name} ")),
                Span::styled(team.to_string(), team_style(state, &team, theme)),
                Span::raw(format!(" {price}   ")),
            ]
        })
        .collect();
    let mut line = vec![Span::styled("Sold: ", theme.dim())];
    line.extend(sales);
    frame.render_widget(Paragraph::new(Line::from(line)), area);
}
