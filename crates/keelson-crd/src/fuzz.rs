//! Entry points for the fuzz targets under `fuzz/`, public so that ordinary
//! tests replay the checked-in seeds through exactly the code the fuzzer runs.

/// Feeds arbitrary bytes to the loader and everything a caller would do next:
/// write each resource back and diff it. Must never panic, hang or allocate
/// without bound; the result is ignored.
pub fn load(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    for document in crate::Loader::default()
        .load_all("fuzz", &text)
        .into_iter()
        .flatten()
    {
        if let Ok(written) = document.resource.to_value() {
            let _ = crate::roundtrip::diff(&document.raw, &written, &document.ignored_fields);
        }
    }
}
