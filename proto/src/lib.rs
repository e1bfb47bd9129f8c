//! The auction's shared language: money, league data, commands, events, the
//! pure state fold and the wire messages. No I/O, no async runtime.

pub mod colour;
pub mod command;
pub mod event;
pub mod hash;
pub mod ids;
pub mod league;
pub mod money;
pub mod msg;
pub mod state;

pub use colour::Colour;
pub use command::{Command, RejectCode, Rejection, RtmAction};
pub use event::Event;
pub use hash::LogHash;
pub use ids::{PlayerId, TeamCode};
pub use league::{ClockRules, LadderStep, League, Player, ProxyBids, Role, Rules, Stats, Team};
pub use money::Money;
pub use msg::{Access, Actor, ClientMsg, Entry, ErrorCode, ServerMsg, Snapshot};
pub use state::{Phase, PlayerStatus, Rtm, RtmStep, Stage, State, Timer};

/// Whether `text` holds a control character (an escape sequence, a bell, a
/// newline): never allowed in names, reasons and notes, which every
/// terminal in the room prints.
pub fn has_control(text: &str) -> bool {
    text.chars().any(char::is_control)
}

/// `text` fit for a terminal: control characters (from a log written before
/// they were refused) shown as `�` instead of acted on.
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    if has_control(text) {
        text.chars()
            .map(|c| if c.is_control() { '\u{FFFD}' } else { c })
            .collect::<String>()
            .into()
    } else {
        text.into()
    }
}

/// [`printable`] line by line: the line breaks of a multi-line text kept.
pub fn printable_lines(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let (body, end) = match line.strip_suffix('\n') {
            Some(body) => (body, "\n"),
            None => (line, ""),
        };
        out.push_str(&printable(body));
        out.push_str(end);
    }
    out
}

/// A TLS certificate's fingerprint as the server prints it and clients pin
/// it (`--fingerprint`): `SHA256:` and the base64 (unpadded) SHA-256 of the
/// certificate's DER bytes, the form `ssh` shows host keys in.
pub fn tls_fingerprint(der: &[u8]) -> String {
    use base64::Engine;
    use sha2::Digest;
    let digest = sha2::Sha256::digest(der);
    format!(
        "SHA256:{}",
        base64::engine::general_purpose::STANDARD_NO_PAD.encode(digest)
    )
}
