//! Arbitrary bytes, read line by line as Kubernetes quantities by
//! keelson-sched: each accepted quantity's canonical text must read back to
//! it. Any panic, or a broken invariant reported by
//! `keelson_sched::fuzz::quantity`, is a crash.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(bug) = keelson_sched::fuzz::quantity(data) {
        panic!("{bug}");
    }
});
