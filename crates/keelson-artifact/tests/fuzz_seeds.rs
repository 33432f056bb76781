//! Replays the checked-in seeds of the `artifact_parse` fuzz target
//! (`fuzz/seeds/artifact_parse/`), with truncations and replaced bytes, so
//! `cargo test` catches a panic or a broken invariant without the fuzzer.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

#[test]
fn artifact_parse_seeds_and_their_mutations_keep_the_invariants() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds/artifact_parse");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        seen += 1;
        let check = |b: &[u8]| {
            if let Err(bug) = keelson_artifact::fuzz::parse(b) {
                panic!("{bug}");
            }
        };
        check(&bytes);
        for cut in 0..bytes.len() {
            check(&bytes[..cut]);
        }
        for i in (0..bytes.len()).step_by(3) {
            for replacement in [b'/', b'.', b'@', b':', b'\0', b'"', b'a'] {
                let mut mutated = bytes.clone();
                mutated[i] = replacement;
                check(&mutated);
            }
        }
    }
    assert!(seen >= 3, "no seeds in {}", dir.display());
}
