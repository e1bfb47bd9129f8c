//! A ratatui backend for a terminal at the other end of an SSH channel.
//!
//! Drawing goes through crossterm's escape sequences into the channel, but
//! nothing here may ask the *server's* terminal anything: `CrosstermBackend`
//! would answer `size()` and `get_cursor_position()` from the server's own
//! tty. The size comes from the client's pty request and window changes; the
//! cursor position is the last one we set.

use std::io::{self, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use ratatui::backend::{Backend, ClearType, CrosstermBackend, WindowSize};
use ratatui::buffer::Cell;
use ratatui::layout::{Position, Size};

/// The remote terminal's size, shared with whoever hears about resizes.
#[derive(Clone, Default)]
pub struct SharedSize(Arc<AtomicU32>);

impl SharedSize {
    pub fn new(cols: u16, rows: u16) -> SharedSize {
        let s = SharedSize::default();
        s.set(cols, rows);
        s
    }

    pub fn set(&self, cols: u16, rows: u16) {
        self.0
            .store(u32::from(cols) << 16 | u32::from(rows), Ordering::Release);
    }

    pub fn get(&self) -> Size {
        let v = self.0.load(Ordering::Acquire);
        Size::new((v >> 16) as u16, v as u16)
    }
}

pub struct RemoteBackend<W: Write> {
    inner: CrosstermBackend<W>,
    size: SharedSize,
    cursor: Position,
}

impl<W: Write> RemoteBackend<W> {
    pub fn new(writer: W, size: SharedSize) -> RemoteBackend<W> {
        RemoteBackend {
            inner: CrosstermBackend::new(writer),
            size,
            cursor: Position::ORIGIN,
        }
    }
}

impl<W: Write> Write for RemoteBackend<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Write::flush(&mut self.inner)
    }
}

impl<W: Write> Backend for RemoteBackend<W> {
    type Error = io::Error;

    fn draw<'a, I>(&mut self, content: I) -> io::Result<()>
    where
        I: Iterator<Item = (u16, u16, &'a Cell)>,
    {
        self.inner.draw(content)
    }

    fn hide_cursor(&mut self) -> io::Result<()> {
        self.inner.hide_cursor()
    }

    fn show_cursor(&mut self) -> io::Result<()> {
        self.inner.show_cursor()
    }

    fn get_cursor_position(&mut self) -> io::Result<Position> {
        Ok(self.cursor)
    }

    fn set_cursor_position<P: Into<Position>>(&mut self, position: P) -> io::Result<()> {
        let p = position.into();
        self.cursor = p;
        self.inner.set_cursor_position(p)
    }

    fn clear(&mut self) -> io::Result<()> {
        self.inner.clear()
    }

    fn clear_region(&mut self, clear_type: ClearType) -> io::Result<()> {
        self.inner.clear_region(clear_type)
    }

    fn size(&self) -> io::Result<Size> {
        Ok(self.size.get())
    }

    fn window_size(&mut self) -> io::Result<WindowSize> {
        Ok(WindowSize {
            columns_rows: self.size.get(),
            pixels: Size::new(0, 0),
        })
    }

    fn flush(&mut self) -> io::Result<()> {
        Backend::flush(&mut self.inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::layout::Rect;
    use ratatui::widgets::Paragraph;
    use ratatui::{Terminal, TerminalOptions, Viewport};

    #[test]
    fn resizing_and_clearing_never_ask_the_local_terminal() {
        let size = SharedSize::new(40, 10);
        let options = TerminalOptions {
            viewport: Viewport::Fixed(Rect::new(0, 0, 40, 10)),
        };
        let mut t =
            Terminal::with_options(RemoteBackend::new(Vec::new(), size.clone()), options).unwrap();
        t.draw(|f| f.render_widget(Paragraph::new("hello"), f.area()))
            .unwrap();
        size.set(30, 8);
        t.resize(Rect::new(0, 0, 30, 8)).unwrap();
        t.clear().unwrap();
        t.draw(|f| f.render_widget(Paragraph::new("again"), f.area()))
            .unwrap();
        assert_eq!(t.size().unwrap(), Size::new(30, 8));
    }
}
