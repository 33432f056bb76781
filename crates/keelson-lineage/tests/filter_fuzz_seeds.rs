//! Replays the checked-in seeds of the `lineage_filter` fuzz target
//! (`fuzz/seeds/lineage_filter/`) through the same entry point, plus
//! truncations and flipped bytes of each, so `cargo test` catches a panic,
//! a broken round trip or an SQL error without running the fuzzer.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::PathBuf;

use keelson_lineage::filter;

fn seeds() -> Vec<(PathBuf, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds/lineage_filter");
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
        seeds.len() >= 3,
        "expected at least 3 seeds in {}",
        dir.display()
    );
    seeds
}

#[test]
fn seeds_and_their_mutations_keep_the_invariants() {
    let db = common::graph_db();
    let replay = |bytes: &[u8]| {
        if let Err(bug) = filter::fuzz::query(bytes, &db) {
            panic!("{bug}\ninput: {}", String::from_utf8_lossy(bytes));
        }
    };
    for (path, bytes) in seeds() {
        replay(&bytes);
        for cut in 0..bytes.len() {
            replay(&bytes[..cut]);
        }
        for step in [3usize, 7, 13] {
            let mut mutated = bytes.clone();
            for i in (0..mutated.len()).step_by(step) {
                let original = mutated[i];
                for replacement in [b'(', b'\'', b'`', b'.', b'9', b' ', b'_'] {
                    mutated[i] = replacement;
                    replay(&mutated);
                }
                mutated[i] = original;
            }
        }
        println!("{} ok", path.display());
    }
}

#[test]
fn the_valid_seeds_are_accepted() {
    let mut accepted = 0;
    for (path, bytes) in seeds() {
        let text = String::from_utf8(bytes).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        match filter::parse(&text) {
            Ok(_) => accepted += 1,
            Err(e) => assert!(name.starts_with("bad_"), "{name}: {e}"),
        }
    }
    assert!(accepted >= 6, "{accepted} seeds parse");
}
