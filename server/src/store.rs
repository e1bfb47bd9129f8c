//! The durable event log in sled.
//!
//! Trees: `events` (u64 big-endian seq -> JSON [`Entry`]), `snapshots`
//! (u64 big-endian seq -> JSON [`State`]) and `meta` (schema version, the
//! league the log was started with). The log is append-only; a write is
//! durable only after [`Store::flush`], and the engine acknowledges nothing
//! before that.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use auction_proto::{Entry, League, LogHash, State};
use sha2::{Digest, Sha256};

/// The on-disk format version. A log written by a newer version is refused.
pub const SCHEMA_VERSION: u32 = 1;

const META_SCHEMA: &[u8] = b"schema_version";
const META_LEAGUE: &[u8] = b"league";
/// The hash of the last entry, to notice a lost or edited tail.
const META_HEAD: &[u8] = b"head";

/// How long an open waits for a directory's lock. sled lets the lock go on
/// its background threads a moment after the last handle is dropped, so a
/// store reopened at once in the same process (a restart in a test, a tool
/// after the engine) can find it still held.
const LOCK_WAIT: Duration = Duration::from_secs(2);

/// Opens sled in `dir`, waiting up to [`LOCK_WAIT`] for its lock; a lock
/// held longer belongs to another running store.
fn open_db(dir: &Path) -> Result<sled::Db, StoreError> {
    let started = Instant::now();
    loop {
        match sled::Config::new().path(dir).open() {
            Err(e) if is_locked(&e) => {
                if started.elapsed() >= LOCK_WAIT {
                    return Err(StoreError::InUse {
                        dir: dir.display().to_string(),
                    });
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            opened => return Ok(opened?),
        }
    }
}

/// True when sled could not take the directory's lock: another store
/// holds it (sled 0.34 says so only in its message).
fn is_locked(e: &sled::Error) -> bool {
    matches!(e, sled::Error::Io(io) if io.to_string().starts_with("could not acquire lock"))
}

/// Makes the data directory private: the directory and every directory in
/// it 0700, every file 0600 (password and session hashes, shortlists, the
/// SSH host key, generated passwords). Run at every start, so a directory
/// loosened by hand or by an older version is tightened again.
pub fn make_private(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            make_private(&path)?;
        } else {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
        }
    }
    Ok(())
}

/// SHA-256 of an entry as stored.
pub fn entry_hash(stored: &[u8]) -> LogHash {
    LogHash(Sha256::digest(stored).into())
}

/// The chain's head as recorded in `meta`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Head {
    pub seq: u64,
    pub hash: LogHash,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the event store failed: {0}")]
    Sled(#[from] sled::Error),
    #[error("a stored record is corrupt ({what}): {source}")]
    Corrupt {
        what: String,
        source: serde_json::Error,
    },
    #[error(
        "the data directory was written by a newer version (schema {found}; this build reads up to {supported}); upgrade auction-server or use another --data directory"
    )]
    NewerSchema { found: u32, supported: u32 },
    #[error("the event log has a gap: expected seq {expected}, found {found}")]
    Gap { expected: u64, found: u64 },
    #[error(
        "the data directory {dir} is in use by another auction-server; stop it, or use another --data directory"
    )]
    InUse { dir: String },
}

/// A handle on the store; cheap to clone (sled trees are shared).
#[derive(Clone)]
pub struct Store {
    db: sled::Db,
    events: sled::Tree,
    snapshots: sled::Tree,
    meta: sled::Tree,
    /// Hash of the last appended entry (the single writer's running chain).
    head: Arc<Mutex<LogHash>>,
}

/// What [`Store::recover`] finds on disk.
pub struct Recovered {
    /// The league the log was started with.
    pub league: League,
    pub state: State,
    pub seq: u64,
    /// Entries replayed on top of the snapshot (the rest were in it).
    pub replayed: u64,
}

fn key(seq: u64) -> [u8; 8] {
    seq.to_be_bytes()
}

fn seq_of(key: &[u8]) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&key[..8]);
    u64::from_be_bytes(b)
}

impl Store {
    /// Opens (or creates) the store in `dir`.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        let db = open_db(dir)?;
        let store = Store {
            events: db.open_tree("events")?,
            snapshots: db.open_tree("snapshots")?,
            meta: db.open_tree("meta")?,
            head: Arc::new(Mutex::new(LogHash::GENESIS)),
            db,
        };
        if let Some((_, last)) = store.events.last()? {
            *store.head.lock().unwrap_or_else(|e| e.into_inner()) = entry_hash(&last);
        }
        match store.meta.get(META_SCHEMA)? {
            Some(v) => {
                let found =
                    serde_json::from_slice::<u32>(&v).map_err(|source| StoreError::Corrupt {
                        what: "schema version".into(),
                        source,
                    })?;
                if found > SCHEMA_VERSION {
                    return Err(StoreError::NewerSchema {
                        found,
                        supported: SCHEMA_VERSION,
                    });
                }
            }
            None => {
                store.meta.insert(
                    META_SCHEMA,
                    serde_json::to_vec(&SCHEMA_VERSION).expect("u32 serializes"),
                )?;
                store.db.flush()?;
            }
        }
        Ok(store)
    }

    /// Another tree in the same database (accounts, sessions, ...).
    pub fn tree(&self, name: &str) -> Result<sled::Tree, StoreError> {
        Ok(self.db.open_tree(name)?)
    }

    /// The league this log was started with, if any.
    pub fn league(&self) -> Result<Option<League>, StoreError> {
        self.meta
            .get(META_LEAGUE)?
            .map(|v| {
                serde_json::from_slice(&v).map_err(|source| StoreError::Corrupt {
                    what: "league".into(),
                    source,
                })
            })
            .transpose()
    }

    /// Records the league a new log starts with (flushed at once).
    pub fn set_league(&self, league: &League) -> Result<(), StoreError> {
        self.meta.insert(
            META_LEAGUE,
            serde_json::to_vec(league).expect("a league serializes"),
        )?;
        self.db.flush()?;
        Ok(())
    }

    /// Chains `entry` to the one before it (sets `prev`) and queues it for
    /// the next flush.
    pub fn append(&self, entry: &mut Entry) -> Result<(), StoreError> {
        let mut head = self.head.lock().unwrap_or_else(|e| e.into_inner());
        entry.prev = Some(*head);
        let bytes = serde_json::to_vec(&*entry).expect("an entry serializes");
        let hash = entry_hash(&bytes);
        self.events.insert(key(entry.seq), bytes)?;
        let recorded = Head {
            seq: entry.seq,
            hash,
        };
        self.meta.insert(
            META_HEAD,
            serde_json::to_vec(&recorded).expect("a head serializes"),
        )?;
        *head = hash;
        Ok(())
    }

    /// The head recorded with the last append, if any.
    pub fn recorded_head(&self) -> Result<Option<Head>, StoreError> {
        self.meta
            .get(META_HEAD)?
            .map(|v| {
                serde_json::from_slice(&v).map_err(|source| StoreError::Corrupt {
                    what: "log head".into(),
                    source,
                })
            })
            .transpose()
    }

    /// Every stored entry as (seq, raw bytes), in key order.
    pub fn raw_entries(&self) -> impl Iterator<Item = Result<(u64, sled::IVec), StoreError>> + '_ {
        self.events
            .iter()
            .map(|item| item.map(|(k, v)| (seq_of(&k), v)).map_err(StoreError::from))
    }

    /// The snapshot stored at each seq (normally one).
    pub fn snapshots(&self) -> impl Iterator<Item = Result<(u64, sled::IVec), StoreError>> + '_ {
        self.snapshots
            .iter()
            .map(|item| item.map(|(k, v)| (seq_of(&k), v)).map_err(StoreError::from))
    }

    /// Stores the state (as JSON) as of `seq`, and drops older snapshots.
    pub fn put_snapshot(&self, seq: u64, state_json: Vec<u8>) -> Result<(), StoreError> {
        self.snapshots.insert(key(seq), state_json)?;
        // Older snapshots are no longer needed to recover.
        for old in self.snapshots.range(..key(seq)).keys() {
            self.snapshots.remove(old?)?;
        }
        Ok(())
    }

    /// Makes everything appended so far durable. Concurrent callers share
    /// one write.
    pub async fn flush(&self) -> Result<(), StoreError> {
        self.db.flush_async().await?;
        Ok(())
    }

    /// Blocking flush, for tools outside the runtime.
    pub fn flush_blocking(&self) -> Result<(), StoreError> {
        self.db.flush()?;
        Ok(())
    }

    pub fn last_seq(&self) -> Result<u64, StoreError> {
        Ok(self.events.last()?.map_or(0, |(k, _)| seq_of(&k)))
    }

    fn decode(seq: u64, bytes: &[u8]) -> Result<Entry, StoreError> {
        serde_json::from_slice(bytes).map_err(|source| StoreError::Corrupt {
            what: format!("event {seq}"),
            source,
        })
    }

    /// Up to `limit` entries after `since`, in order.
    pub fn entries_after(&self, since: u64, limit: usize) -> Result<Vec<Entry>, StoreError> {
        let mut out = Vec::new();
        for item in self
            .events
            .range(key(since.saturating_add(1))..)
            .take(limit)
        {
            let (k, v) = item?;
            out.push(Self::decode(seq_of(&k), &v)?);
        }
        Ok(out)
    }

    /// Every entry in order, checking there is no gap.
    pub fn all_entries(&self) -> impl Iterator<Item = Result<Entry, StoreError>> + '_ {
        let mut expected = 1;
        self.events.iter().map(move |item| {
            let (k, v) = item?;
            let seq = seq_of(&k);
            if seq != expected {
                return Err(StoreError::Gap {
                    expected,
                    found: seq,
                });
            }
            expected += 1;
            Self::decode(seq, &v)
        })
    }

    /// Rebuilds the state: the latest snapshot, then the events after it.
    /// `league` is used only for a new, empty log.
    pub fn recover(&self, league: &League) -> Result<Recovered, StoreError> {
        let league = match self.league()? {
            Some(stored) => stored,
            None => {
                self.set_league(league)?;
                league.clone()
            }
        };
        let last = self.last_seq()?;
        let snapshot = match self.snapshots.last()? {
            Some((k, v)) if seq_of(&k) <= last => {
                let seq = seq_of(&k);
                let state: State =
                    serde_json::from_slice(&v).map_err(|source| StoreError::Corrupt {
                        what: format!("snapshot {seq}"),
                        source,
                    })?;
                Some((seq, state))
            }
            _ => None,
        };
        let (mut seq, mut state) = snapshot.unwrap_or_else(|| (0, State::new(&league)));
        let mut replayed = 0;
        for item in self.events.range(key(seq + 1)..) {
            let (k, v) = item?;
            let found = seq_of(&k);
            if found != seq + 1 {
                return Err(StoreError::Gap {
                    expected: seq + 1,
                    found,
                });
            }
            let entry = Self::decode(found, &v)?;
            state.apply(&entry.event);
            seq = found;
            replayed += 1;
        }
        Ok(Recovered {
            league,
            state,
            seq,
            replayed,
        })
    }

    /// The state from the stored league (or `fallback` for a new log) and
    /// every event, ignoring snapshots.
    pub fn replay_from_start(&self, fallback: &League) -> Result<(State, u64), StoreError> {
        let league = self.league()?.unwrap_or_else(|| fallback.clone());
        let mut state = State::new(&league);
        let mut seq = 0;
        for entry in self.all_entries() {
            let entry = entry?;
            state.apply(&entry.event);
            seq = entry.seq;
        }
        Ok((state, seq))
    }
}
