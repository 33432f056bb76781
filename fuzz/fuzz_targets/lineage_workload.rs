//! Arbitrary bytes read by keelson-lineage as a benchmark workload file
//! (`lineage-workload/2`); an accepted file must generate a few runs that
//! agree with its per-run counts, and filter queries that parse. Any panic,
//! or a broken invariant reported by
//! `keelson_lineage::workload::fuzz::workload`, is a crash.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(bug) = keelson_lineage::workload::fuzz::workload(data) {
        panic!("{bug}");
    }
});
