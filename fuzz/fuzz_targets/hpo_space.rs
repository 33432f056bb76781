//! Arbitrary bytes, read as a JSON and as a YAML search-space document, into
//! keelson-hpo: parsing and validation must return Ok or Err, and for every
//! accepted space a few suggestions of each sampler must lie inside it and
//! survive a save/restore. Any panic, or a broken invariant reported by
//! `keelson_hpo::fuzz::space`, is a crash.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(bug) = keelson_hpo::fuzz::space(data) {
        panic!("{bug}");
    }
});
