//! Arbitrary bytes into the manifest loader: it must return (Ok or Err), never
//! panic, hang, or allocate without bound.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    keelson_crd::fuzz::load(data);
});
