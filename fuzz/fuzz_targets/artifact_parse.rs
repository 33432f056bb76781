//! Arbitrary bytes as keelson-artifact's untrusted text: the whole input as
//! manifest JSON, each line as a key, a URI, a reference and a digest. Any
//! panic, or a broken invariant reported by `keelson_artifact::fuzz::parse`
//! (an accepted value that does not read back from its own text), is a crash.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(bug) = keelson_artifact::fuzz::parse(data) {
        panic!("{bug}");
    }
});
