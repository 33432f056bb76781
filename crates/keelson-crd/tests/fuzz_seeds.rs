//! Replays every checked-in fuzz seed (`fuzz/seeds/load/`) through the same entry
//! point the `load` fuzz target uses, so an ordinary `cargo test` catches a
//! regression on any of them without running the fuzzer.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::panic;
use std::path::PathBuf;

/// Fewer files than this means the seed corpus went missing or the path is wrong.
const MIN_SEEDS: usize = 5;

fn seed_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds/load")
}

#[test]
fn every_load_seed_is_handled_without_panicking() {
    let dir = seed_dir();
    let mut seeds: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read seed directory {}: {e}", dir.display()))
        .map(|entry| entry.expect("readable directory entry").path())
        .filter(|path| path.is_file())
        .collect();
    seeds.sort();
    assert!(
        seeds.len() >= MIN_SEEDS,
        "expected at least {MIN_SEEDS} seed files in {}, found {}",
        dir.display(),
        seeds.len()
    );
    let mut panicked = Vec::new();
    for seed in &seeds {
        let bytes =
            fs::read(seed).unwrap_or_else(|e| panic!("cannot read seed {}: {e}", seed.display()));
        if panic::catch_unwind(|| keelson_crd::fuzz::load(&bytes)).is_err() {
            panicked.push(seed.display().to_string());
        }
    }
    assert!(
        panicked.is_empty(),
        "the loader panicked on {} seed(s):\n  {}",
        panicked.len(),
        panicked.join("\n  ")
    );
}
