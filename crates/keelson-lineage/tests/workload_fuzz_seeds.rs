//! Replays the checked-in seeds of the `lineage_workload` fuzz target
//! (`fuzz/seeds/lineage_workload/`) through the same entry point, plus
//! truncations and overwritten bytes of each, so `cargo test` catches a
//! panic or a broken invariant without running the fuzzer.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use keelson_lineage::workload::{Workload, fuzz};

fn seeds() -> Vec<(PathBuf, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds/lineage_workload");
    let mut seeds: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect();
    seeds.sort();
    assert!(
        seeds.len() >= 5,
        "expected at least 5 seeds in {}",
        dir.display()
    );
    seeds
}

fn replay(bytes: &[u8]) {
    if let Err(bug) = fuzz::workload(bytes) {
        panic!("{bug}\ninput: {}", String::from_utf8_lossy(bytes));
    }
}

#[test]
fn seeds_and_their_mutations_keep_the_invariants() {
    for (path, bytes) in seeds() {
        replay(&bytes);
        for cut in (0..bytes.len()).step_by(7) {
            replay(&bytes[..cut]);
        }
        let mut mutated = bytes.clone();
        for i in (0..mutated.len()).step_by(11) {
            let original = mutated[i];
            for replacement in [b'0', b'9', b'{', b'}', b'(', b'%', b'/', b'"', b' '] {
                mutated[i] = replacement;
                replay(&mutated);
            }
            mutated[i] = original;
        }
        println!("{} ok", path.display());
    }
}

#[test]
fn the_valid_seeds_are_accepted_and_the_bad_ones_refused() {
    let mut accepted = 0;
    for (path, bytes) in seeds() {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        match Workload::from_json(&bytes) {
            Ok(_) => {
                assert!(!name.starts_with("bad_"), "{name} is accepted");
                accepted += 1;
            }
            Err(e) => assert!(name.starts_with("bad_"), "{name}: {e}"),
        }
    }
    assert!(accepted >= 4, "{accepted} seeds are accepted");
}
