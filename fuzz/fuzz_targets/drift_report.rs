//! Arbitrary bytes, read as Arrow IPC or Parquet, into the drift report: it
//! must return (Ok or Err), never panic, hang, or allocate without bound.
//!
//! arrow-ipc panics on some malformed buffers; `keelson_drift::fuzz::report`
//! catches those, and the hook installed here keeps libFuzzer from treating
//! them as crashes while any other panic still aborts.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(
    init: {
        let abort = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !keelson_drift::fuzz::in_third_party_decoder() {
                abort(info);
            }
        }));
    },
    |data: &[u8]| {
        keelson_drift::fuzz::report(data);
    }
);
