//! Who is online: sessions per account (viewers not counted), followed by
//! the room's screens (presenter, admin).

use std::collections::BTreeMap;
use std::sync::Arc;

use auction_proto::Access;
use tokio::sync::watch;

use crate::auth::Session;

#[derive(Default)]
pub struct Presence(Arc<watch::Sender<BTreeMap<String, u32>>>);

impl Presence {
    /// The accounts online now.
    pub fn online(&self) -> Vec<String> {
        self.0.borrow().keys().cloned().collect()
    }

    /// Changes from now on; the first `changed()` resolves at once.
    pub fn follow(&self) -> watch::Receiver<BTreeMap<String, u32>> {
        let mut rx = self.0.subscribe();
        rx.mark_changed();
        rx
    }

    /// Marks the session's account online until the guard is dropped
    /// (viewers are not counted).
    pub fn enter(&self, session: &Session) -> Option<Online> {
        if session.access == Access::Viewer {
            return None;
        }
        self.0
            .send_modify(|m| *m.entry(session.user.to_string()).or_default() += 1);
        Some(Online {
            counts: self.0.clone(),
            user: session.user.to_string(),
        })
    }
}

/// Counts an account as online for as long as it is held.
pub struct Online {
    counts: Arc<watch::Sender<BTreeMap<String, u32>>>,
    user: String,
}

impl Drop for Online {
    fn drop(&mut self) {
        self.counts.send_modify(|m| {
            if let Some(n) = m.get_mut(&self.user) {
                *n -= 1;
                if *n == 0 {
                    m.remove(&self.user);
                }
            }
        });
    }
}
