//! Each team's private war room: a shortlist of players with target prices
//! and notes. Kept in its own sled tree (not the auction's public record)
//! and sent only to that team's own sessions.

use std::sync::Arc;

use auction_proto::msg::{MAX_NOTE, MAX_SHORTLIST, ShortlistEntry};
use auction_proto::{State, TeamCode};
use tokio::sync::broadcast;

use crate::store::{Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum WarRoomError {
    #[error("a shortlist holds at most {MAX_SHORTLIST} players")]
    TooMany,
    #[error("there is no player {0}")]
    UnknownPlayer(u32),
    #[error("player {0} is on the list twice")]
    Twice(u32),
    #[error("a note has at most {MAX_NOTE} characters")]
    LongNote,
    #[error("a note must not hold control characters")]
    ControlInNote,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A change: the team and its whole new list.
pub type Change = (TeamCode, Arc<Vec<ShortlistEntry>>);

pub struct WarRoom {
    tree: sled::Tree,
    store: Store,
    changes: broadcast::Sender<Change>,
}

impl WarRoom {
    pub fn open(store: &Store) -> Result<WarRoom, StoreError> {
        Ok(WarRoom {
            tree: store.tree("warroom")?,
            store: store.clone(),
            changes: broadcast::Sender::new(64),
        })
    }

    /// The team's shortlist (empty when it has none).
    pub fn get(&self, team: &TeamCode) -> Vec<ShortlistEntry> {
        self.tree
            .get(team.as_str())
            .ok()
            .flatten()
            .and_then(|v| serde_json::from_slice(&v).ok())
            .unwrap_or_default()
    }

    /// Checks and stores a new list, then tells the team's sessions.
    pub fn set(
        &self,
        team: &TeamCode,
        entries: Vec<ShortlistEntry>,
        state: &State,
    ) -> Result<(), WarRoomError> {
        if entries.len() > MAX_SHORTLIST {
            return Err(WarRoomError::TooMany);
        }
        let mut seen = std::collections::HashSet::new();
        for e in &entries {
            if state.player(e.player).is_none() {
                return Err(WarRoomError::UnknownPlayer(e.player.0));
            }
            if !seen.insert(e.player) {
                return Err(WarRoomError::Twice(e.player.0));
            }
            if e.note.chars().count() > MAX_NOTE {
                return Err(WarRoomError::LongNote);
            }
            if auction_proto::has_control(&e.note) {
                return Err(WarRoomError::ControlInNote);
            }
        }
        let bytes = serde_json::to_vec(&entries).expect("a shortlist serializes");
        self.tree
            .insert(team.as_str(), bytes)
            .map_err(StoreError::from)?;
        self.store.flush_blocking()?;
        let _ = self.changes.send((team.clone(), Arc::new(entries)));
        Ok(())
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.changes.subscribe()
    }
}

/// A session following one team's list: the team, and every change.
pub type Follow = (TeamCode, broadcast::Receiver<Change>);

/// Waits for the next change to `team`'s list (`None`: follow nothing).
pub async fn next_change(rx: Option<&mut Follow>, room: &WarRoom) -> Vec<ShortlistEntry> {
    let Some((team, rx)) = rx else {
        return std::future::pending().await;
    };
    loop {
        match rx.recv().await {
            Ok((t, list)) if &t == team => return list.as_ref().clone(),
            Ok(_) => continue,
            // Missed some: the stored list is the truth.
            Err(broadcast::error::RecvError::Lagged(_)) => return room.get(team),
            Err(broadcast::error::RecvError::Closed) => return std::future::pending().await,
        }
    }
}

/// A session's request to replace its team's shortlist: only team
/// accounts have one. On success every session of the team is told.
pub async fn set_for(
    app: &crate::context::Context,
    access: &auction_proto::Access,
    entries: Vec<ShortlistEntry>,
) -> Result<(), (auction_proto::ErrorCode, String)> {
    use auction_proto::ErrorCode;
    let Some(team) = crate::auth::team_of(access).cloned() else {
        return Err((
            ErrorCode::Forbidden,
            "only a team has a war room".to_string(),
        ));
    };
    let state = app
        .engine
        .snapshot()
        .await
        .map_err(|_| {
            (
                ErrorCode::Unavailable,
                "the auction engine is not running".to_string(),
            )
        })?
        .state;
    let room = app.warroom.clone();
    match tokio::task::spawn_blocking(move || room.set(&team, entries, &state)).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(WarRoomError::Store(e))) => Err((ErrorCode::Unavailable, e.to_string())),
        Ok(Err(e)) => Err((ErrorCode::BadRequest, e.to_string())),
        Err(_) => Err((
            ErrorCode::Unavailable,
            "could not save the shortlist".into(),
        )),
    }
}
