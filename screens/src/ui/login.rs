//! The login form.

use ratatui::Frame;
use ratatui::layout::{Alignment, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use super::centered;
use super::theme::Theme;
use crate::app::{LoginField, LoginForm};

pub fn draw(frame: &mut Frame, area: Rect, form: &LoginForm, theme: Theme) {
    let rect = centered(area, 60, 11);
    frame.render_widget(Clear, rect);
    let field = |which: LoginField, label: &str, value: String| {
        let focus = form.focus == which;
        let style = if focus { theme.accent() } else { theme.dim() };
        Line::from(vec![
            Span::styled(format!("{label:>9} "), style),
            Span::styled(
                value,
                if focus {
                    theme.bold()
                } else {
                    Default::default()
                },
            ),
            Span::styled(if focus { "▏" } else { "" }, theme.accent()),
        ])
    };
    let mut lines = vec![
        Line::from(""),
        field(LoginField::Server, "server", form.server.clone()),
        field(LoginField::User, "user", form.user.clone()),
        field(
            LoginField::Password,
            "password",
            "•".repeat(form.password.chars().count()),
        ),
        Line::from(""),
    ];
    lines.push(match (&form.error, form.busy) {
        (_, true) => Line::from(Span::styled("logging in…", theme.warn())),
        (Some(e), _) => Line::from(Span::styled(e.clone(), theme.error())),
        (None, _) => Line::from(Span::styled(
            "tab: next field · enter: log in · esc: quit",
            theme.dim(),
        )),
    });
    frame.render_widget(
        Paragraph::new(lines)
            .alignment(Alignment::Left)
            .block(Block::bordered().title(" Auction — log in ")),
        rect,
    );
}
