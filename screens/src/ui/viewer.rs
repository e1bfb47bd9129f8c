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

/// Draws `text` as big as fits in `area` (plain and bold if nothing fits,
/// nothing when `area` has no row left); returns the rows it took.
fn big(frame: &mut Frame, area: Rect, text: &str, style: ratatui::style::Style) -> u16 {
    if area.height == 0 {
        return 0;
    }
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

/// [`big`] in at most `rows` rows of `area`.
fn big_in(
    frame: &mut Frame,
    area: Rect,
    rows: u16,
    text: &str,
    style: ratatui::style::Style,
) -> u16 {
    let area = Rect {
        height: area.height.min(rows.max(1)),
        ..area
    };
    big(frame, area, text, style)
}

/// One centred line at the top of `area` (nothing when it has no row).
fn centred<'a>(frame: &mut Frame, area: Rect, line: impl Into<Line<'a>>) {
    if area.height == 0 {
        return;
    }
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
    // The board: a row per two teams, a third of the screen at most.
    let board_h = (state.teams.len().div_ceil(2) as u16 + 2).min(area.height / 3);
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
        lot(frame, main, app, &entry.player, state, theme);
    } else if round_over(state) {
        complete(frame, main, state, theme);
    } else {
        let text = match state.phase {
            Phase::NotStarted => "Auction starts soon".to_string(),
            _ => match state.next_in_queue().and_then(|id| state.player(id)) {
                Some(p) => format!("Next: {}", p.player.name),
                None => "Round complete".to_string(),
            },
        };
        let y = main.y + big(frame, main, &text, theme.bold());
        if state.phase == Phase::Paused {
            big(frame, below(main, y + 1), "PAUSED", theme.warn());
        }
    }
    board(frame, board_area, state, theme);
    ticker(frame, ticker_area, state, theme);
}

/// Every player of the round has been under the hammer.
fn round_over(state: &State) -> bool {
    state.phase != Phase::NotStarted
        && state.lot.is_none()
        && state.next_in_queue().is_none()
        && !state.closed.is_empty()
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

/// The player on the block and the bidding; on a wide screen the lot's
/// bids beside them.
fn lot(
    frame: &mut Frame,
    area: Rect,
    app: &App,
    p: &auction_proto::Player,
    state: &State,
    theme: Theme,
) {
    let area = match area.width >= 120 && area.height >= 20 {
        true => {
            let [main, side] =
                Layout::horizontal([Constraint::Min(0), Constraint::Length(34)]).areas(area);
            bids(frame, side, state, theme);
            main
        }
        false => area,
    };
    // The name, the bid and the clock share the height.
    let share = area.height.saturating_sub(4) / 3;
    let mut y = area.y;
    y += big_in(frame, below(area, y), share, &p.name, theme.bold());
    for line in card(p, state, theme) {
        centred(frame, below(area, y), line);
        y += 1;
    }
    y += 1;
    let next = state
        .next_bid()
        .map(|m| format!("next bid {m}"))
        .unwrap_or_default();
    match state.leader() {
        None => {
            let opens = Span::styled(format!("Bidding opens at {}", p.base), theme.accent());
            centred(frame, below(area, y), opens);
            y += 1;
        }
        Some(bid) => {
            let style = team_style(state, &bid.team, theme);
            y += big_in(
                frame,
                below(area, y),
                share + 1,
                &big_amount(bid.amount),
                style,
            );
            let mut line = vec![Span::styled(team_name(state, &bid.team), style)];
            if bid.auto {
                line.push(Span::styled(" (proxy)", theme.dim()));
            }
            line.push(Span::styled(format!("  ·  {next}"), theme.dim()));
            centred(frame, below(area, y), Line::from(line));
            y += 1;
        }
    }
    clock_and_stage(frame, below(area, y), app, state, theme);
}

/// The player's card: role, country, capped / overseas, set, base, last
/// team, and his numbers.
fn card(p: &auction_proto::Player, state: &State, theme: Theme) -> Vec<Line<'static>> {
    let mut info = vec![Span::raw(format!(
        "{} · {} · base {}",
        player_tags(p),
        p.set,
        p.base
    ))];
    if let Some(prev) = &p.previous_team {
        info.push(Span::raw(" · last season "));
        info.push(Span::styled(
            prev.to_string(),
            team_style(state, prev, theme),
        ));
    }
    vec![
        Line::from(info),
        Line::from(Span::styled(stats_line(p), theme.dim())),
    ]
}

/// The lot clock in big digits, red in its last 10 s; then the stage as a
/// banner (GOING ONCE, GOING TWICE), PAUSED, or the Right to Match.
fn clock_and_stage(frame: &mut Frame, area: Rect, app: &App, state: &State, theme: Theme) {
    let Some(lot) = &state.lot else { return };
    let stage = match (state.phase, lot.stage) {
        _ if lot.rtm.is_some() => crate::describe::rtm_status(state),
        (Phase::Paused, _) => Some("PAUSED".to_string()),
        (_, auction_proto::Stage::GoingOnce) => Some("GOING ONCE".to_string()),
        (_, auction_proto::Stage::GoingTwice) => Some("GOING TWICE".to_string()),
        _ => None,
    };
    let clock = super::clock_text(app, state, lot);
    // Side by side when both show: the room sees the clock and the call.
    let (clock_area, stage_area) = match (&clock, &stage) {
        (Some(_), Some(_)) => {
            let [a, b] =
                Layout::horizontal([Constraint::Percentage(40), Constraint::Percentage(60)])
                    .areas(area);
            (a, b)
        }
        _ => (area, area),
    };
    if let Some(clock) = clock {
        let left = lot.timer.map_or(0, |t| t.remaining_ms(app.ui.now_ms));
        let style = match left <= 10_000 && state.phase == Phase::Running {
            true => theme.error().add_modifier(Modifier::BOLD),
            false => theme.accent(),
        };
        big(frame, clock_area, &clock, style);
    }
    if let Some(stage) = stage {
        big(
            frame,
            stage_area,
            &stage,
            theme.warn().add_modifier(Modifier::REVERSED),
        );
    }
}

/// The lot's bids, newest first.
fn bids(frame: &mut Frame, area: Rect, state: &State, theme: Theme) {
    let lines: Vec<Line> = state
        .lot
        .iter()
        .flat_map(|l| l.bids.iter().rev())
        .map(|b| super::bid_line(state, b, false, theme))
        .collect();
    frame.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(" Bids ")),
        area,
    );
}

/// After the last lot of a round: the title, the numbers, every squad.
fn complete(frame: &mut Frame, area: Rect, state: &State, theme: Theme) {
    let unsold = state.unsold().count();
    // The sets done with players unsold: the accelerated round comes next.
    let between = unsold > 0 && state.round == 0;
    let title = match between {
        true => "ROUND COMPLETE",
        false => "AUCTION COMPLETE",
    };
    let mut y = area.y + big(frame, area, title, theme.ok().add_modifier(Modifier::BOLD));
    let sold: Vec<_> = recent_sales(state);
    let mut top = sold.clone();
    top.sort_by_key(|s| std::cmp::Reverse(s.2));
    let top: Vec<String> = top
        .iter()
        .take(3)
        .map(|(n, t, p)| format!("{n} {p} ({t})"))
        .collect();
    let next = if between {
        " · accelerated round next"
    } else {
        ""
    };
    let summary = format!(
        "{} sold · {unsold} unsold{next} · top buys: {}",
        sold.len(),
        top.join(", ")
    );
    let rows = if summary.chars().count() > area.width as usize {
        2
    } else {
        1
    };
    let summary_area = Rect {
        height: rows.min(below(area, y).height),
        ..below(area, y)
    };
    frame.render_widget(
        Paragraph::new(Span::styled(summary, theme.accent()))
            .alignment(Alignment::Center)
            .wrap(ratatui::widgets::Wrap { trim: true }),
        summary_area,
    );
    y += rows + 1;
    squads(frame, below(area, y), state, theme);
}

/// Every team's squad with prices, in as many columns as fit.
fn squads(frame: &mut Frame, area: Rect, state: &State, theme: Theme) {
    let n = state.teams.len().max(1);
    let cols = ((area.width / 26).max(1) as usize).min(n);
    let rows = n.div_ceil(cols);
    // Too short for the lists: a line per team.
    if area.height < rows as u16 * 4 {
        let lines: Vec<Line> = state
            .teams
            .iter()
            .map(|t| {
                Line::from(vec![
                    Span::styled(
                        format!(" {:<5}", t.team.code.as_str()),
                        theme.team(t.team.colour),
                    ),
                    Span::raw(format!(" {} players, {} left", t.squad.len(), t.purse)),
                ])
            })
            .collect();
        let half = lines.len().div_ceil(2);
        let [l, r] = Layout::horizontal([Constraint::Percentage(50); 2]).areas(area);
        frame.render_widget(Paragraph::new(lines[..half].to_vec()), l);
        frame.render_widget(Paragraph::new(lines[half..].to_vec()), r);
        return;
    }
    let row_areas = Layout::vertical(vec![Constraint::Ratio(1, rows as u32); rows]).split(area);
    for (r, chunk) in state.teams.chunks(cols).enumerate() {
        let cells =
            Layout::horizontal(vec![Constraint::Ratio(1, cols as u32); cols]).split(row_areas[r]);
        for (t, cell) in chunk.iter().zip(cells.iter()) {
            let lines: Vec<Line> = t
                .squad
                .iter()
                .filter_map(|id| state.player(*id))
                .map(|p| {
                    let price = match &p.status {
                        auction_proto::PlayerStatus::Sold { price, .. } => price.to_string(),
                        _ => String::new(),
                    };
                    Line::from(format!("{} {price}", p.player.name))
                })
                .collect();
            let title = Line::from(vec![
                Span::styled(format!(" {} ", t.team.code), theme.team(t.team.colour)),
                Span::raw(format!(" {} left ", t.purse)),
            ]);
            frame.render_widget(
                Paragraph::new(lines).block(Block::bordered().title(title)),
                *cell,
            );
        }
    }
}

/// Purse leaderboard, most money left first, in two columns; with room,
/// each team's maximum bid, squad and overseas places too.
fn board(frame: &mut Frame, area: Rect, state: &State, theme: Theme) {
    let mut teams: Vec<_> = state.teams.iter().collect();
    teams.sort_by(|a, b| b.purse.cmp(&a.purse).then(a.team.code.cmp(&b.team.code)));
    let half = teams.len().div_ceil(2);
    let [left, right] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(area);
    let wide = left.width >= 60;
    for (col, chunk) in [left, right].into_iter().zip(teams.chunks(half.max(1))) {
        let lines: Vec<Line> = chunk
            .iter()
            .map(|t| {
                let mut line = vec![
                    Span::styled(
                        format!(" {:<5}", t.team.code.as_str()),
                        theme.team(t.team.colour),
                    ),
                    Span::raw(format!("{:>11}", t.purse.to_string())),
                ];
                let squad = format!("{}/{}", t.squad.len(), state.rules.squad_max);
                match wide {
                    true => line.push(Span::styled(
                        format!(
                            "  max {:>10}  squad {squad:>5}  overseas {}/{}",
                            state.max_bid(t).to_string(),
                            state.overseas_count(t),
                            state.rules.overseas_max
                        ),
                        theme.dim(),
                    )),
                    false => line.push(Span::styled(format!("  {squad}"), theme.dim())),
                }
                Line::from(line)
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
