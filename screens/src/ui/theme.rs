//! Colours, or none: `NO_COLOR` turns every colour off and keeps bold and
//! reverse, so the screens stay readable on any terminal.

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
    pub fn team(self, hex: &str) -> Style {
        if !self.color {
            return Style::new().add_modifier(Modifier::BOLD);
        }
        match parse_hex(hex) {
            Some((r, g, b)) => {
                // Very dark team colours (GT's navy) get lifted towards grey.
                let lum = (u32::from(r) * 3 + u32::from(g) * 6 + u32::from(b)) / 10;
                let lift = |c: u8| if lum < 60 { c.saturating_add(90) } else { c };
                Style::new()
                    .fg(Color::Rgb(lift(r), lift(g), lift(b)))
                    .add_modifier(Modifier::BOLD)
            }
            None => Style::new().add_modifier(Modifier::BOLD),
        }
    }

    /// Reverse video: the selected row, the leader.
    pub fn selected(self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED)
    }
}

fn parse_hex(s: &str) -> Option<(u8, u8, u8)> {
    let h = s.strip_prefix('#')?;
    if h.len() != 6 {
        return None;
    }
    let v = u32::from_str_radix(h, 16).ok()?;
    Some(((v >> 16) as u8, (v >> 8) as u8, v as u8))
}
