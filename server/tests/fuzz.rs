//! The fuzz targets' entry points (see `fuzz/`), run in CI under proptest:
//! every committed seed as it is, then random bytes and mutated seeds. The
//! long coverage-guided runs are documented in docs/security.md.

use std::path::PathBuf;

use auction_server::fuzz;
use proptest::prelude::*;

fn seeds(target: &str) -> Vec<Vec<u8>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/seeds")
        .join(target);
    let mut all: Vec<Vec<u8>> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|f| std::fs::read(f.unwrap().path()).unwrap())
        .collect();
    all.sort();
    assert!(all.len() >= 5, "{target}: the seed corpus is missing");
    all
}

/// A seed with a few bytes overwritten, inserted or cut.
fn mutated(target: &'static str) -> impl Strategy<Value = Vec<u8>> {
    let seeds = seeds(target);
    (
        0..seeds.len(),
        prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 0..8),
    )
        .prop_map(move |(i, edits)| {
            let mut s = seeds[i].clone();
            for (at, byte, kind) in edits {
                let n = s.len();
                match kind {
                    0 if n > 0 => s[at.index(n)] = byte,
                    1 => s.insert(at.index(n + 1), byte),
                    _ if n > 0 => {
                        s.remove(at.index(n));
                    }
                    _ => {}
                }
            }
            s
        })
}

fn bytes() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..512)
}

/// The seeds reach every command: each is accepted at least once (by an
/// account allowed to give it), so the fuzzer starts from states where
/// every rule is live, and its oracle accepts every legal team command;
/// ceilings are set and place bids.
#[test]
fn the_command_seeds_get_every_command_accepted() {
    let mut reached = fuzz::Accepted::new();
    for s in seeds("commands") {
        for (kind, n) in fuzz::commands(&s) {
            *reached.entry(kind).or_default() += n;
        }
    }
    let missing: Vec<&str> = fuzz::kinds()
        .into_iter()
        .filter(|k| !reached.contains_key(k))
        .collect();
    assert!(
        missing.is_empty(),
        "never accepted: {missing:?} ({reached:?})"
    );
}

/// `fuzz/seeds.py` writes the corpus from docs/protocol.md and its scripted
/// auctions: every seed it writes is committed, so a changed example or
/// script cannot leave the corpus behind. (Older seeds may stay: more
/// starting points cost the fuzzer nothing.)
#[test]
fn the_committed_corpus_holds_every_seed_the_script_writes() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = tempfile::tempdir().unwrap();
    let status = std::process::Command::new("python3")
        .arg("fuzz/seeds.py")
        .arg(out.path())
        .current_dir(&root)
        .status()
        .expect("python3 runs fuzz/seeds.py");
    assert!(status.success());
    let mut missing = Vec::new();
    for target in ["protocol", "commands", "ssh_input"] {
        for file in std::fs::read_dir(out.path().join(target)).unwrap() {
            let name = file.unwrap().file_name();
            if !root.join("fuzz/seeds").join(target).join(&name).exists() {
                missing.push(format!("{target}/{}", name.to_string_lossy()));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "not committed (run `python3 fuzz/seeds.py`): {missing:?}"
    );
}

#[test]
fn every_seed_passes_every_target() {
    for s in seeds("protocol") {
        fuzz::protocol(&s);
    }
    for s in seeds("commands") {
        fuzz::commands(&s);
    }
    for s in seeds("ssh_input") {
        fuzz::ssh_input(&s);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn protocol_decoder(data in prop_oneof![bytes(), mutated("protocol")]) {
        fuzz::protocol(&data);
    }

    #[test]
    fn command_handler(data in prop_oneof![bytes(), mutated("commands")]) {
        fuzz::commands(&data);
    }

    #[test]
    fn ssh_input_decoder(data in prop_oneof![bytes(), mutated("ssh_input")]) {
        fuzz::ssh_input(&data);
    }
}
