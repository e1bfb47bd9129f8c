//! The player pool as an owner (or the admin) looks through it: a filter
//! typed as words, the order of the round, or by base price. Pure: the
//! screens draw what these return.

use auction_proto::state::PlayerEntry;
use auction_proto::{PlayerStatus, Role, State};

/// How the pool is shown.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PoolQuery {
    /// Words, all of which a player must match (see [`Filter`]).
    pub filter: String,
    /// Highest base price first, instead of the round's order.
    pub by_base: bool,
}

/// A player of the pool, with his place among those still to come.
pub struct PoolRow<'a> {
    pub entry: &'a PlayerEntry,
    /// 1 for the next player up in this round's order.
    pub next_up: Option<usize>,
}

/// A filter typed as words, all of which a player must match. A word is a
/// role (`batter`, `bowler`, `allrounder`, `keeper`), `overseas` or `home`,
/// `capped` or `uncapped`, a status (`available`, `unsold`, `sold`,
/// `withdrawn`, `block`), or else a part of the name, set or country.
pub struct Filter {
    words: Vec<String>,
    names_status: bool,
}

impl Filter {
    /// Read once, then asked of every player.
    pub fn new(text: &str) -> Filter {
        let words: Vec<String> = text
            .split(|c: char| c.is_whitespace() || c == ',')
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect();
        let names_status = words.iter().any(|w| status_word(w).is_some());
        Filter {
            words,
            names_status,
        }
    }

    /// Whether `entry` matches every word. Without a status word, sold and
    /// withdrawn players are left out only when `hide_gone` says so.
    pub fn admits(&self, entry: &PlayerEntry, hide_gone: bool) -> bool {
        if hide_gone && !self.names_status && is_gone(&entry.status) {
            return false;
        }
        self.words.iter().all(|w| word_matches(entry, w))
    }
}

fn is_gone(status: &PlayerStatus) -> bool {
    matches!(status, PlayerStatus::Sold { .. } | PlayerStatus::Withdrawn)
}

fn status_word(w: &str) -> Option<fn(&PlayerStatus) -> bool> {
    Some(match w {
        "available" | "tocome" => |s| matches!(s, PlayerStatus::Available),
        "unsold" => |s| matches!(s, PlayerStatus::Unsold),
        "sold" => |s| matches!(s, PlayerStatus::Sold { .. }),
        "withdrawn" => |s| matches!(s, PlayerStatus::Withdrawn),
        "block" | "onblock" => |s| matches!(s, PlayerStatus::OnBlock),
        _ => return None,
    })
}

fn word_matches(entry: &PlayerEntry, w: &str) -> bool {
    let p = &entry.player;
    if let Some(is) = status_word(w) {
        return is(&entry.status);
    }
    if let Some(role) = Role::from_word(w) {
        return p.role == role;
    }
    match w {
        "overseas" => p.overseas,
        "home" | "domestic" => !p.overseas,
        "capped" => p.capped,
        "uncapped" => !p.capped,
        _ => [&p.name, &p.set, &p.country]
            .iter()
            .any(|f| f.to_lowercase().contains(w)),
    }
}

/// The players matching `query`: those to come in this round's order
/// first (with their place), then the rest by id; or all by base price,
/// highest first. Sold and withdrawn players only when asked for.
pub fn pool<'a>(state: &'a State, query: &PoolQuery) -> Vec<PoolRow<'a>> {
    // Drawn at every redraw of the pool: one pass over the queue, not one
    // per player.
    let places: std::collections::HashMap<_, _> = state
        .upcoming()
        .enumerate()
        .map(|(i, p)| (p.player.id, i + 1))
        .collect();
    let place = |id| places.get(&id).copied();
    let filter = Filter::new(&query.filter);
    let mut rows: Vec<PoolRow> = state
        .players
        .iter()
        .filter(|e| filter.admits(e, true))
        .map(|entry| PoolRow {
            entry,
            next_up: place(entry.player.id),
        })
        .collect();
    if query.by_base {
        rows.sort_by_key(|r| (std::cmp::Reverse(r.entry.player.base), r.entry.player.id));
    } else {
        rows.sort_by_key(|r| (r.next_up.unwrap_or(usize::MAX), r.entry.player.id));
    }
    rows
}
