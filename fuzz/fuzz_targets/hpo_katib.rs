//! Arbitrary bytes, read as Kubernetes manifests, with every Katib
//! `Experiment` among them turned into a study, asked for trials whose run
//! specs are rendered, and saved and restored. Any panic, or a broken
//! invariant reported by `keelson_hpo::fuzz::experiment`, is a crash.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(bug) = keelson_hpo::fuzz::experiment(data) {
        panic!("{bug}");
    }
});
