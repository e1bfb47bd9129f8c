//! Editing a team's shortlist from one line of text, for the team screen
//! and `ctl shortlist`.

use auction_proto::msg::ShortlistEntry;
use auction_proto::{PlayerId, State};

/// `player[, target][, note]` adds the player (or replaces its entry);
/// `-player` removes it. The player is a name (or its start) or an id.
pub fn edit(
    list: &[ShortlistEntry],
    state: &State,
    input: &str,
) -> Result<Vec<ShortlistEntry>, String> {
    let input = input.trim();
    if let Some(who) = input.strip_prefix('-') {
        return without(list, crate::lookup::find_player(state, who.trim())?);
    }
    let mut parts = input.splitn(3, ',').map(str::trim);
    let who = parts
        .next()
        .filter(|s| !s.is_empty())
        .ok_or("which player?")?;
    let player = crate::lookup::find_player(state, who)?;
    let target = match parts.next().filter(|s| !s.is_empty()) {
        Some(t) => Some(t.parse().map_err(|e| format!("target: {e}"))?),
        None => None,
    };
    let note = parts.next().unwrap_or_default().to_string();
    Ok(with(
        list,
        ShortlistEntry {
            player,
            target,
            note,
        },
    ))
}

/// `list` without the player (an error if it is not there).
pub fn without(list: &[ShortlistEntry], player: PlayerId) -> Result<Vec<ShortlistEntry>, String> {
    if !list.iter().any(|e| e.player == player) {
        return Err("that player is not on your shortlist".into());
    }
    Ok(list
        .iter()
        .filter(|e| e.player != player)
        .cloned()
        .collect())
}

/// `list` with `entry` added, or replacing the player's entry in place.
pub fn with(list: &[ShortlistEntry], entry: ShortlistEntry) -> Vec<ShortlistEntry> {
    let mut out = list.to_vec();
    match out.iter_mut().find(|e| e.player == entry.player) {
        Some(e) => *e = entry,
        None => out.push(entry),
    }
    out
}

/// One line per entry, for `ctl`.
pub fn describe(list: &[ShortlistEntry], state: &State) -> String {
    let mut out = String::new();
    for e in list {
        let name = state
            .player(e.player)
            .map_or_else(|| e.player.to_string(), |p| p.player.name.clone());
        out.push_str(&name);
        if let Some(t) = e.target {
            out.push_str(&format!(" — target {t}"));
        }
        if !e.note.is_empty() {
            out.push_str(&format!(" — {}", e.note));
        }
        out.push('\n');
    }
    out
}
