//! Bytes from an SSH client's terminal to key events.
//!
//! Stateful: an escape sequence (or a UTF-8 character) split across two
//! packets is kept until the rest arrives. A lone ESC is ambiguous (the start
//! of a sequence, or the Esc key); the session flushes it as Esc after a
//! short pause with [`Decoder::flush`].

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// Longest escape sequence we wait for; longer garbage is dropped.
const MAX_SEQUENCE: usize = 32;

#[derive(Default)]
pub struct Decoder {
    buf: Vec<u8>,
    /// The last byte was CR: a following LF belongs to it.
    after_cr: bool,
}

fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

enum Step {
    /// A key (or nothing) and how many bytes it used.
    Key(Option<KeyEvent>, usize),
    /// Need more bytes.
    More,
}

impl Decoder {
    /// The most bytes an unfinished sequence may hold back.
    pub const MAX_HELD: usize = MAX_SEQUENCE;

    /// Bytes held back, waiting for the rest of a sequence.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Decodes what can be decoded; keeps an incomplete tail for later.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<KeyEvent> {
        self.buf.extend_from_slice(bytes);
        let mut out = Vec::new();
        let mut at = 0;
        while at < self.buf.len() {
            match self.step(at) {
                Step::Key(k, used) => {
                    if let Some(k) = k {
                        out.push(k);
                    }
                    at += used;
                }
                Step::More => break,
            }
        }
        self.buf.drain(..at);
        out
    }

    /// True while a lone ESC (or an unfinished sequence) waits for more.
    pub fn pending(&self) -> bool {
        !self.buf.is_empty()
    }

    /// The pause after a lone ESC is over: it was the Esc key. An unfinished
    /// sequence is dropped.
    pub fn flush(&mut self) -> Option<KeyEvent> {
        let lone_esc = self.buf == [0x1b];
        self.buf.clear();
        lone_esc.then(|| key(KeyCode::Esc))
    }

    fn step(&mut self, at: usize) -> Step {
        let b = &self.buf[at..];
        let first = b[0];
        let was_cr = std::mem::replace(&mut self.after_cr, false);
        match first {
            0x1b => self.escape(b),
            b'\r' => {
                self.after_cr = true;
                Step::Key(Some(key(KeyCode::Enter)), 1)
            }
            b'\n' if was_cr => Step::Key(None, 1),
            b'\n' => Step::Key(Some(key(KeyCode::Enter)), 1),
            0x7f | 0x08 => Step::Key(Some(key(KeyCode::Backspace)), 1),
            b'\t' => Step::Key(Some(key(KeyCode::Tab)), 1),
            0x00 => Step::Key(None, 1),
            0x01..=0x1a => {
                let c = (b'a' + first - 1) as char;
                Step::Key(
                    Some(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)),
                    1,
                )
            }
            0x1c..=0x1f => Step::Key(None, 1),
            _ => utf8(b),
        }
    }

    fn escape(&self, b: &[u8]) -> Step {
        if b.len() < 2 {
            return Step::More;
        }
        match b[1] {
            b'[' => csi(b),
            b'O' => {
                if b.len() < 3 {
                    return Step::More;
                }
                let code = cursor_key(b[2]).or(match b[2] {
                    b'P' => Some(KeyCode::F(1)),
                    b'Q' => Some(KeyCode::F(2)),
                    b'R' => Some(KeyCode::F(3)),
                    b'S' => Some(KeyCode::F(4)),
                    _ => None,
                });
                Step::Key(code.map(key), 3)
            }
            0x1b => Step::Key(Some(key(KeyCode::Esc)), 1),
            _ => match utf8(&b[1..]) {
                Step::Key(Some(k), used) => Step::Key(
                    Some(KeyEvent::new(k.code, k.modifiers | KeyModifiers::ALT)),
                    used + 1,
                ),
                Step::Key(None, used) => Step::Key(None, used + 1),
                Step::More => Step::More,
            },
        }
    }
}

/// Arrows, Home and End: the same final byte after `ESC [` and `ESC O`.
fn cursor_key(b: u8) -> Option<KeyCode> {
    match b {
        b'A' => Some(KeyCode::Up),
        b'B' => Some(KeyCode::Down),
        b'C' => Some(KeyCode::Right),
        b'D' => Some(KeyCode::Left),
        b'H' => Some(KeyCode::Home),
        b'F' => Some(KeyCode::End),
        _ => None,
    }
}

/// `ESC [ params final`. A sequence whose final byte is not within the first
/// [`MAX_SEQUENCE`] bytes is garbage: those bytes are dropped (the same
/// bytes however the input was split into packets).
fn csi(b: &[u8]) -> Step {
    let window = &b[..b.len().min(MAX_SEQUENCE)];
    let Some(end) = window[2..]
        .iter()
        .position(|c| (0x40..=0x7e).contains(c))
        .map(|p| p + 2)
    else {
        return if b.len() >= MAX_SEQUENCE {
            Step::Key(None, MAX_SEQUENCE)
        } else {
            Step::More
        };
    };
    let params = std::str::from_utf8(&b[2..end]).unwrap_or("");
    let first: u32 = params
        .split(';')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or(1);
    let code = cursor_key(b[end]).or(match b[end] {
        b'Z' => Some(KeyCode::BackTab),
        b'~' => match first {
            1 | 7 => Some(KeyCode::Home),
            2 => Some(KeyCode::Insert),
            3 => Some(KeyCode::Delete),
            4 | 8 => Some(KeyCode::End),
            5 => Some(KeyCode::PageUp),
            6 => Some(KeyCode::PageDown),
            11..=15 => Some(KeyCode::F((first - 10) as u8)),
            17..=21 => Some(KeyCode::F((first - 11) as u8)),
            23 | 24 => Some(KeyCode::F((first - 12) as u8)),
            _ => None,
        },
        _ => None,
    });
    let mut k = code.map(key);
    if let (Some(k), Some(m)) = (
        k.as_mut(),
        params.split(';').nth(1).and_then(|m| m.parse::<u8>().ok()),
    ) {
        let m = m.saturating_sub(1);
        if m & 1 != 0 {
            k.modifiers |= KeyModifiers::SHIFT;
        }
        if m & 2 != 0 {
            k.modifiers |= KeyModifiers::ALT;
        }
        if m & 4 != 0 {
            k.modifiers |= KeyModifiers::CONTROL;
        }
    }
    Step::Key(k, end + 1)
}

/// One UTF-8 character, or wait for the rest of it.
fn utf8(b: &[u8]) -> Step {
    let len = match b[0] {
        0x00..=0x7f => 1,
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf7 => 4,
        _ => return Step::Key(None, 1),
    };
    if b.len() < len {
        return Step::More;
    }
    match std::str::from_utf8(&b[..len])
        .ok()
        .and_then(|s| s.chars().next())
    {
        Some(c) => Step::Key(Some(key(KeyCode::Char(c))), len),
        None => Step::Key(None, 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(bytes: &[u8]) -> Vec<KeyEvent> {
        let mut d = Decoder::default();
        let mut keys = d.feed(bytes);
        keys.extend(d.flush());
        keys
    }

    #[test]
    fn plain_keys_and_controls() {
        let keys = all(b"ab \r\x7f\t\x03");
        let codes: Vec<KeyCode> = keys.iter().map(|k| k.code).collect();
        assert_eq!(
            codes,
            [
                KeyCode::Char('a'),
                KeyCode::Char('b'),
                KeyCode::Char(' '),
                KeyCode::Enter,
                KeyCode::Backspace,
                KeyCode::Tab,
                KeyCode::Char('c')
            ]
        );
        assert_eq!(keys[6].modifiers, KeyModifiers::CONTROL);
        assert_eq!(all(b"\r\n").len(), 1, "CR LF is one Enter");
    }

    #[test]
    fn escape_sequences() {
        let cases: Vec<(&[u8], KeyCode)> = vec![
            (b"\x1b[A", KeyCode::Up),
            (b"\x1b[D", KeyCode::Left),
            (b"\x1bOC", KeyCode::Right),
            (b"\x1b[Z", KeyCode::BackTab),
            (b"\x1bOP", KeyCode::F(1)),
            (b"\x1b[5~", KeyCode::PageUp),
            (b"\x1b[24~", KeyCode::F(12)),
            (b"\x1b[1;5C", KeyCode::Right),
        ];
        for (bytes, code) in cases {
            assert_eq!(
                all(bytes).iter().map(|k| k.code).collect::<Vec<_>>(),
                [code],
                "{bytes:?}"
            );
        }
        assert_eq!(all(b"\x1b[1;5C")[0].modifiers, KeyModifiers::CONTROL);
        assert_eq!(
            all("é₹".as_bytes())
                .iter()
                .map(|k| k.code)
                .collect::<Vec<_>>(),
            [KeyCode::Char('é'), KeyCode::Char('₹')]
        );
        let alt = all(b"\x1bx");
        assert_eq!(
            (alt[0].code, alt[0].modifiers),
            (KeyCode::Char('x'), KeyModifiers::ALT)
        );
    }

    #[test]
    fn a_lone_escape_waits_then_is_esc() {
        let mut d = Decoder::default();
        assert!(d.feed(b"\x1b").is_empty());
        assert!(d.pending());
        assert_eq!(d.flush().map(|k| k.code), Some(KeyCode::Esc));
        assert!(!d.pending());
    }

    #[test]
    fn sequences_split_across_packets_still_decode() {
        let stream: &[u8] = "a\x1b[A\x1bOP₹\x1b[24~\rz".as_bytes();
        let whole = all(stream);
        for cut in 1..stream.len() {
            let mut d = Decoder::default();
            let mut keys = d.feed(&stream[..cut]);
            keys.extend(d.feed(&stream[cut..]));
            keys.extend(d.flush());
            assert_eq!(keys, whole, "split at {cut}");
        }
        // And byte by byte.
        let mut d = Decoder::default();
        let mut keys = Vec::new();
        for b in stream {
            keys.extend(d.feed(std::slice::from_ref(b)));
        }
        assert_eq!(keys, whole);
    }

    #[test]
    fn garbage_never_panics_and_never_grows_without_bound() {
        let mut d = Decoder::default();
        let mut x: u32 = 12345;
        for _ in 0..100_000 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let b = (x >> 16) as u8;
            d.feed(&[b]);
            assert!(d.buf.len() <= MAX_SEQUENCE + 4);
        }
    }
}
