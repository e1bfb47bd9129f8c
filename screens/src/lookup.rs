//! Finding a player from what a person types.

use auction_proto::{PlayerId, State};

/// Resolves `player` against the pool: an id, or a unique part of a name.
pub fn find_player(state: &State, query: &str) -> Result<PlayerId, String> {
    let q = query.trim().trim_start_matches('#');
    if let Ok(n) = q.parse::<u32>() {
        return state
            .player(PlayerId(n))
            .map(|p| p.player.id)
            .ok_or_else(|| format!("there is no player #{n}"));
    }
    let lower = q.to_lowercase();
    if let Some(p) = state
        .players
        .iter()
        .find(|p| p.player.name.to_lowercase() == lower)
    {
        return Ok(p.player.id);
    }
    let matches: Vec<_> = state
        .players
        .iter()
        .filter(|p| p.player.name.to_lowercase().contains(&lower))
        .collect();
    match matches.as_slice() {
        [one] => Ok(one.player.id),
        [] => Err(format!("no player matches `{query}`")),
        many => Err(format!(
            "`{query}` matches {}: be more precise",
            many.iter()
                .map(|p| p.player.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}
