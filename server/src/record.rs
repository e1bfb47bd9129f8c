//! The auction's record, read offline: verify the hash chain and the replay,
//! fold the log up to any seq.

use std::collections::BTreeMap;

use auction_proto::{Entry, League, LogHash, State};

use crate::engine::invariants;
use crate::store::{Store, StoreError, entry_hash};

/// The first thing wrong with a log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub seq: u64,
    pub why: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "seq {}: {}", self.seq, self.why)
    }
}

/// What [`verify`] found.
#[derive(Debug)]
pub struct Verified {
    /// Entries checked before stopping (all of them when intact).
    pub entries: u64,
    /// Hash of the last good entry.
    pub head: LogHash,
    /// Entries written before the log was chained (not hash-checked).
    pub unchained: u64,
    pub problem: Option<Problem>,
}

/// The league a data directory was started with (`fallback` for a log that
/// predates recording it).
pub fn league_of(store: &Store, fallback: &League) -> Result<League, StoreError> {
    Ok(store.league()?.unwrap_or_else(|| fallback.clone()))
}

/// Checks every entry: readable, gapless, chained to the one before, and
/// replayable with every invariant holding; each stored snapshot equals the
/// replay at its seq; the recorded head matches the last entry.
pub fn verify(store: &Store, fallback: &League) -> Result<Verified, StoreError> {
    let league = league_of(store, fallback)?;
    let mut state = State::new(&league);
    let start_total: u64 = state.teams.iter().map(|t| t.purse.0).sum();
    let mut snapshots = BTreeMap::new();
    for item in store.snapshots() {
        let (seq, bytes) = item?;
        snapshots.insert(seq, bytes);
    }
    let mut prev = LogHash::GENESIS;
    let mut expected = 1;
    let mut unchained = 0;
    let mut chained = false;
    let fail = |seq, why: String, entries, prev: &LogHash, unchained| Verified {
        entries,
        head: *prev,
        unchained,
        problem: Some(Problem { seq, why }),
    };
    for item in store.raw_entries() {
        let (seq, bytes) = item?;
        let done = expected - 1;
        if seq != expected {
            return Ok(fail(
                expected,
                format!("missing: the log jumps from {done} to {seq}"),
                done,
                &prev,
                unchained,
            ));
        }
        let entry: Entry = match serde_json::from_slice(&bytes) {
            Ok(e) => e,
            Err(e) => {
                return Ok(fail(seq, format!("corrupt: {e}"), done, &prev, unchained));
            }
        };
        if entry.seq != seq {
            let why = format!("stored as seq {seq} but says it is {}", entry.seq);
            return Ok(fail(seq, why, done, &prev, unchained));
        }
        match &entry.prev {
            None if chained => {
                let why = "has no link to the entry before it".to_string();
                return Ok(fail(seq, why, done, &prev, unchained));
            }
            None => unchained += 1,
            Some(link) if *link != prev => {
                // The link was right when written: the entry before it (or
                // this link) has been changed since.
                let (bad, why) = if seq == 1 {
                    (
                        1,
                        "its link to the start of the log was changed".to_string(),
                    )
                } else {
                    (
                        seq - 1,
                        format!(
                            "changed after it was written (seq {seq}'s link to it does not match)"
                        ),
                    )
                };
                return Ok(fail(bad, why, done.saturating_sub(1), &prev, unchained));
            }
            Some(_) => chained = true,
        }
        state.apply(&entry.event);
        if let Err(broken) = invariants::check(&state, start_total) {
            let why = format!("replaying it breaks the rules: {broken}");
            return Ok(fail(seq, why, done, &prev, unchained));
        }
        if let Some(snap) = snapshots.get(&seq) {
            let same = serde_json::from_slice::<State>(snap).is_ok_and(|s| s == state);
            if !same {
                let why = "the stored snapshot differs from the replay".to_string();
                return Ok(fail(seq, why, done, &prev, unchained));
            }
        }
        prev = entry_hash(&bytes);
        expected += 1;
    }
    let last = expected - 1;
    if let Some(head) = store.recorded_head()? {
        if head.seq > last {
            let why = format!("lost: the log ends at {last} but {} was written", head.seq);
            return Ok(fail(last + 1, why, last, &prev, unchained));
        }
        if head.seq == last && head.hash != prev {
            let why = "changed after it was written (it does not match the recorded head)".into();
            return Ok(fail(last, why, last.saturating_sub(1), &prev, unchained));
        }
    }
    Ok(Verified {
        entries: last,
        head: prev,
        unchained,
        problem: None,
    })
}

/// The state after `to` (the whole log when `None`), and the seq reached.
pub fn replay(
    store: &Store,
    fallback: &League,
    to: Option<u64>,
) -> Result<(State, u64), StoreError> {
    let league = league_of(store, fallback)?;
    let mut state = State::new(&league);
    let mut seq = 0;
    for entry in store.all_entries() {
        let entry = entry?;
        if to.is_some_and(|to| entry.seq > to) {
            break;
        }
        state.apply(&entry.event);
        seq = entry.seq;
    }
    Ok((state, seq))
}
