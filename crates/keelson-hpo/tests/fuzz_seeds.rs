//! Replays the checked-in seeds of the `hpo_space`, `hpo_katib` and `hpo_protocol` fuzz
//! targets (`fuzz/seeds/TARGET/`) through the same entry points, plus
//! truncations and flipped bytes of each, so `cargo test` catches a panic or
//! a broken invariant on malformed input without running the fuzzer.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

fn seeds(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/seeds")
        .join(target);
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

type Entry = fn(&[u8]) -> Result<(), String>;

fn replay(entry: Entry, bytes: &[u8]) {
    if let Err(bug) = entry(bytes) {
        panic!("{bug}\ninput: {}", String::from_utf8_lossy(bytes));
    }
}

#[test]
fn space_seeds_and_their_mutations_keep_the_invariants() {
    seeds_and_their_mutations("hpo_space", keelson_hpo::fuzz::space);
}

#[test]
fn protocol_seeds_and_their_mutations_keep_the_invariants() {
    seeds_and_their_mutations("hpo_protocol", keelson_hpo::fuzz::protocol);
}

#[cfg(feature = "crd")]
#[test]
fn experiment_seeds_and_their_mutations_keep_the_invariants() {
    seeds_and_their_mutations("hpo_katib", keelson_hpo::fuzz::experiment);
}

fn seeds_and_their_mutations(target: &str, entry: Entry) {
    for (path, bytes) in seeds(target) {
        replay(entry, &bytes);
        for cut in [
            0,
            1,
            bytes.len() / 3,
            bytes.len() / 2,
            bytes.len().saturating_sub(2),
        ] {
            replay(entry, &bytes[..cut.min(bytes.len())]);
        }
        for step in [5usize, 11, 29] {
            let mut mutated = bytes.clone();
            for i in (0..mutated.len()).step_by(step) {
                let original = mutated[i];
                for replacement in [b'0', b'-', b'9', b'e', b']'] {
                    mutated[i] = replacement;
                    replay(entry, &mutated);
                }
                mutated[i] = original;
            }
        }
        println!("{} ok", path.display());
    }
}

#[test]
fn the_valid_seeds_are_accepted() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds/hpo_space");
    let yaml = std::fs::read_to_string(dir.join("mixed.yaml")).unwrap();
    assert_eq!(
        keelson_hpo::SearchSpace::from_yaml(&yaml).unwrap().dims(),
        6
    );
    let json = std::fs::read_to_string(dir.join("katib.json")).unwrap();
    assert_eq!(
        keelson_hpo::SearchSpace::from_json(&json).unwrap().dims(),
        4
    );
}

#[test]
fn the_valid_protocol_seeds_are_accepted() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds/hpo_protocol");
    for (file, functions) in [("anchor_like.json", 3), ("own_boxes.json", 3)] {
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        let protocol = keelson_hpo::protocol::Protocol::from_json(&text).unwrap();
        assert_eq!(protocol.resolve().unwrap().len(), functions, "{file}");
    }
}

#[cfg(feature = "crd")]
#[test]
fn the_experiment_seeds_become_studies() {
    use keelson_crd::AnyResource;
    use keelson_hpo::katib::KatibStudy;

    for (path, bytes) in seeds("hpo_katib") {
        let text = String::from_utf8(bytes).unwrap();
        for doc in keelson_crd::load("seed", &text).unwrap() {
            let AnyResource::Experiment(exp) = doc.resource else {
                panic!("{}: not an Experiment", path.display())
            };
            KatibStudy::from_experiment(&exp, 0)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        }
    }
}
