//! Replays the checked-in seeds of the `drift_report` fuzz target
//! (`fuzz/seeds/drift_report/`) through the same entry point, plus cheap
//! mutations of each (truncations and flipped bytes), so `cargo test` catches
//! a panic on malformed Arrow IPC or Parquet input without running the fuzzer.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

fn seeds() -> Vec<(PathBuf, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds/drift_report");
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
        seeds.len() >= 4,
        "expected at least 4 seeds in {}",
        dir.display()
    );
    seeds
}

#[test]
fn seeds_and_their_mutations_never_panic() {
    for (path, bytes) in seeds() {
        keelson_drift::fuzz::report(&bytes);
        for cut in [
            0,
            1,
            8,
            bytes.len() / 3,
            bytes.len() / 2,
            bytes.len().saturating_sub(9),
        ] {
            keelson_drift::fuzz::report(&bytes[..cut.min(bytes.len())]);
        }
        for step in [7usize, 13, 101] {
            let mut mutated = bytes.clone();
            for i in (0..mutated.len()).step_by(step) {
                mutated[i] ^= 0x5a;
                keelson_drift::fuzz::report(&mutated);
                mutated[i] ^= 0x5a;
            }
        }
        println!("{} ok", path.display());
    }
}

#[cfg(feature = "parquet")]
#[test]
fn the_parquet_seed_is_a_valid_report_input() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds/drift_report");
    let path = dir.join("mixed.parquet");
    let report =
        keelson_drift::report::drift_report_parquet(&path, &path, &Default::default()).unwrap();
    assert_eq!(report.columns.len(), 6, "{report:?}");
    assert_eq!(report.drifted_columns, 0);
}
