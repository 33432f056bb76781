//! Replays the checked-in seeds of the `sched_quantity` fuzz target
//! (`fuzz/seeds/sched_quantity/`), with truncations and replaced bytes, so
//! `cargo test` catches a panic or a broken invariant without the fuzzer.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

#[test]
fn quantity_seeds_and_their_mutations_keep_the_invariants() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds/sched_quantity");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        seen += 1;
        let check = |b: &[u8]| {
            if let Err(bug) = keelson_sched::fuzz::quantity(b) {
                panic!("{bug}");
            }
        };
        check(&bytes);
        for cut in 0..bytes.len() {
            check(&bytes[..cut]);
        }
        for i in 0..bytes.len() {
            for replacement in [b'0', b'.', b'-', b'e', b'i', b'9', b'm'] {
                let mut mutated = bytes.clone();
                mutated[i] = replacement;
                check(&mutated);
            }
        }
    }
    assert!(seen >= 2, "no seeds in {}", dir.display());
}
