//! Arbitrary bytes read by keelson-sched as a simulator trace CSV and as a
//! cluster CSV; an accepted trace is simulated on a small fixed cluster.
//! Any panic, or a broken invariant reported by
//! `keelson_sched::fuzz::trace` (a file that does not read back as
//! written, a job left behind or finished too early), is a crash.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(bug) = keelson_sched::fuzz::trace(data) {
        panic!("{bug}");
    }
});
