//! Arbitrary bytes read by keelson-sched as a compiled Kubeflow Pipelines
//! spec; an accepted pipeline is run by the simulated executor. Any panic,
//! or a broken invariant reported by `keelson_sched::fuzz::kfp_pipeline`
//! (a stalled run, a task run before its dependencies), is a crash.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(bug) = keelson_sched::fuzz::kfp_pipeline(data) {
        panic!("{bug}");
    }
});
