//! Arbitrary bytes, read as a protocol file of the `hpo_protocol` runner, into
//! keelson-hpo: parsing and resolving must return Ok or Err, and on every
//! accepted protocol a few trials of the random and TPE samplers must lie in
//! the space it states and agree with the run's records. Any panic, or a broken
//! invariant reported by `keelson_hpo::fuzz::protocol`, is a crash.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(bug) = keelson_hpo::fuzz::protocol(data) {
        panic!("{bug}");
    }
});
