//! Where the ceilings are kept: their own sled tree beside the log, written
//! in the same flush as the events of the command that changed them. Never
//! part of the public record, so no export, history or replay of the log
//! shows them.

use auction_proto::{PlayerId, State, TeamCode};

use super::proxy::{Ceiling, Ceilings};
use crate::store::{Store, StoreError};

pub struct CeilingTree {
    tree: sled::Tree,
}

fn key(player: PlayerId, team: &TeamCode) -> Vec<u8> {
    let mut key = player.0.to_be_bytes().to_vec();
    key.extend_from_slice(team.as_str().as_bytes());
    key
}

impl CeilingTree {
    pub fn open(store: &Store) -> Result<CeilingTree, StoreError> {
        Ok(CeilingTree {
            tree: store.tree("ceilings")?,
        })
    }

    /// The ceilings stored, less any whose player can no longer be bid for
    /// in `state` (one written just before a crash that lost its lot's end).
    pub fn load(&self, state: &State) -> Result<Ceilings, StoreError> {
        let mut stored = Vec::new();
        for item in self.tree.iter() {
            let (k, v) = item?;
            let Some(id) = k.get(..4).and_then(|b| <[u8; 4]>::try_from(b).ok()) else {
                continue;
            };
            let player = PlayerId(u32::from_be_bytes(id));
            let open = state.player(player).is_some_and(|p| p.status.is_open());
            if let (true, Ok(ceiling)) = (open, serde_json::from_slice::<Ceiling>(&v)) {
                stored.push((player, ceiling));
            }
        }
        Ok(Ceilings::from_stored(stored))
    }

    /// Writes what changed (queued for the next flush of the store); says
    /// whether anything did.
    pub fn save(&self, book: &mut Ceilings) -> Result<bool, StoreError> {
        let changes = book.take_changes();
        for (player, team) in &changes {
            let (player, team) = (*player, team);
            let key = key(player, team);
            match book.get(player, team) {
                Some(c) => {
                    self.tree
                        .insert(key, serde_json::to_vec(c).expect("a ceiling serializes"))?;
                }
                None => {
                    self.tree.remove(key)?;
                }
            }
        }
        Ok(!changes.is_empty())
    }
}
