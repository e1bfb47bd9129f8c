//! The store's own contract with its directory: one writer at a time, said
//! plainly, and a directory let go is free again at once.

use std::time::{Duration, Instant};

use auction_proto::{Actor, Entry, Event};
use auction_server::store::{Store, StoreError};

fn entry(seq: u64) -> Entry {
    Entry {
        seq,
        at_ms: seq,
        actor: Actor::system(),
        request_id: None,
        event: Event::Paused {
            remaining_ms: Some(1),
        },
        prev: None,
    }
}

/// A test reopens the store it has just dropped (a restart in one
/// process). sled lets its file lock go on background threads a moment
/// after the last handle is dropped; opening must not fail in that moment.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_directory_is_free_again_as_soon_as_its_store_is_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let mut seq = 0;
    for round in 0..300 {
        let store = Store::open(dir.path()).unwrap();
        for _ in 0..(round % 7) * 40 {
            seq += 1;
            store.append(&mut entry(seq)).unwrap();
        }
        store.flush().await.unwrap();
        drop(store);
    }
    assert_eq!(Store::open(dir.path()).unwrap().last_seq().unwrap(), seq);
}

#[test]
fn a_directory_held_by_another_store_is_refused_in_plain_words() {
    let dir = tempfile::tempdir().unwrap();
    let _held = Store::open(dir.path()).unwrap();
    let started = Instant::now();
    let err = Store::open(dir.path())
        .err()
        .expect("a second writer is refused");
    assert!(matches!(err, StoreError::InUse { .. }), "{err:?}");
    let said = err.to_string();
    assert!(said.contains("in use") && said.contains("--data"), "{said}");
    assert!(started.elapsed() < Duration::from_secs(10));
}
