//! Replays the checked-in seeds of the `sched_trace` fuzz target
//! (`fuzz/seeds/sched_trace/`), whole, cut short and with bytes replaced,
//! so `cargo test` catches a panic or a broken invariant without the
//! fuzzer.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

fn check(bytes: &[u8]) {
    if let Err(bug) = keelson_sched::fuzz::trace(bytes) {
        panic!("{bug}\ninput:\n{}", String::from_utf8_lossy(bytes));
    }
}

#[test]
fn trace_seeds_and_their_mutations_keep_the_invariants() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds/sched_trace");
    let mut seen = 0;
    let mut accepted = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        seen += 1;
        let text = String::from_utf8_lossy(&bytes);
        if keelson_sched::sim::parse_trace("seed", &text).is_ok()
            || keelson_sched::sim::parse_cluster("seed", &text).is_ok()
        {
            accepted += 1;
        }
        check(&bytes);
        for cut in 0..bytes.len() {
            check(&bytes[..cut]);
        }
        for i in 0..bytes.len() {
            for replacement in [b'0', b'9', b',', b'"', b'\n', b'.', b'-', b' '] {
                let mut mutated = bytes.clone();
                mutated[i] = replacement;
                check(&mutated);
            }
        }
    }
    assert!(seen >= 3, "too few seeds in {}", dir.display());
    assert_eq!(accepted, seen, "every seed should be a valid file");
}
