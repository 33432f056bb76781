//! Replays the checked-in seeds of the `sched_kfp` fuzz target
//! (`fuzz/seeds/sched_kfp/`), whole, cut short and with bytes replaced, so
//! `cargo test` catches a panic or a broken invariant without the fuzzer.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use keelson_sched::dag::Branches;
use keelson_sched::kfp::KfpPipeline;

fn seeds() -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds/sched_kfp");
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| {
            let path = e.unwrap().path();
            (
                path.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&path).unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

fn check(bytes: &[u8]) {
    if let Err(bug) = keelson_sched::fuzz::kfp_pipeline(bytes) {
        panic!("{bug}\ninput:\n{}", String::from_utf8_lossy(bytes));
    }
}

#[test]
fn seeds_and_their_mutations_keep_the_invariants() {
    let seeds = seeds();
    assert!(seeds.len() >= 4, "missing seeds");
    for (_, bytes) in &seeds {
        check(bytes);
        for cut in (0..bytes.len()).step_by(7) {
            check(&bytes[..cut]);
        }
        for i in (0..bytes.len()).step_by(5) {
            for replacement in [b' ', b'-', b'[', b':', b'{', b'x', b'\n'] {
                let mut mutated = bytes.clone();
                mutated[i] = replacement;
                check(&mutated);
            }
        }
    }
}

#[test]
fn the_good_seeds_run_fully_and_the_bad_one_is_refused() {
    for (name, bytes) in seeds() {
        let text = String::from_utf8(bytes).unwrap();
        let parsed = KfpPipeline::from_yaml(&text);
        if name == "bad.yaml" {
            let err = parsed.unwrap_err().to_string();
            assert!(err.contains("dependency cycle"), "{err}");
            continue;
        }
        let pipeline = parsed.unwrap_or_else(|e| panic!("{name}: {e}"));
        for branches in [Branches::Taken, Branches::NotTaken] {
            let sim = pipeline.simulate(branches, 1000).unwrap();
            sim.verify(&pipeline.dag)
                .unwrap_or_else(|e| panic!("{name} {branches:?}: {e}"));
        }
    }
}
