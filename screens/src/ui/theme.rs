//! Colours, or none: `NO_COLOR` turns every colour off and keeps bold and
//! reverse, so the screens stay readable on any terminal.

use auction_proto::Colour;
use ratatui::style::{Color, Modifier, Style};

#[derive(Clone, Copy)]
pub struct Theme {
    pub color: bool,
}

impl Theme {
    pub fn fg(self, c: Color) -> Style {
        if self.color {
            Style::new().fg(c)
        } else {
            Style::new()
        }
    }

    pub fn bold(self) -> Style {
        Style::new().add_modifier(Modifier::BOLD)
    }

    pub fn dim(self) -> Style {
        if self.color {
            Style::new().fg(Color::DarkGray)
        } else {
            Style::new().add_modifier(Modifier::DIM)
        }
    }

    pub fn error(self) -> Style {
        self.fg(Color::LightRed).add_modifier(Modifier::BOLD)
    }

    pub fn ok(self) -> Style {
        self.fg(Color::LightGreen)
    }

    pub fn warn(self) -> Style {
        self.fg(Color::Yellow).add_modifier(Modifier::BOLD)
    }

    pub fn accent(self) -> Style {
        self.fg(Color::Cyan)
    }

    /// A team's own colour (from the league file), made readable on black.
    pub fn team(self, colour: Colour) -> Style {
        if !self.color {
            return Style::new().add_modifier(Modifier::BOLD);
        }
        let Colour { r, g, b } = colour;
        // Very dark team colours (GT's navy) get lifted towards grey.
        let lum = (u32::from(r) * 3 + u32::from(g) * 6 + u32::from(b)) / 10;
        let lift = |c: u8| if lum < 60 { c.saturating_add(90) } else { c };
        Style::new()
            .fg(Color::Rgb(lift(r), lift(g), lift(b)))
            .add_modifier(Modifier::BOLD)
    }

    /// Reverse video: the selected row, the leader.
    pub fn selected(self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED)
    }
}
