//! Entry point of the `artifact_parse` fuzz target under `fuzz/`, public so
//! that an ordinary test replays the checked-in seeds through exactly the
//! code the fuzzer runs.

use crate::{ArtifactUri, Digest, Key, Manifest, Reference};

/// Reads arbitrary bytes (lossily as UTF-8, at most 64 KiB): the whole text
/// as manifest JSON and as a chunk index, and each line as a key, a URI, a reference and a digest.
/// Rejections are fine; `Err` reports a broken invariant (a bug): an accepted
/// value whose text form does not parse back to it, or a manifest whose
/// canonical JSON does not. It must never panic, whatever the input.
///
/// ```
/// keelson_artifact::fuzz::parse(b"keelson://t/models/m@v1\n../etc/passwd\n").unwrap();
/// ```
pub fn parse(data: &[u8]) -> Result<(), String> {
    let text = String::from_utf8_lossy(data.get(..65_536).unwrap_or(data));
    // The text as a chunk index of any digest it names, or of a fixed one.
    let named = text.lines().find_map(|l| Digest::parse(l.trim()).ok());
    for digest in named
        .into_iter()
        .chain([crate::Algorithm::Blake3.digest(b"")])
    {
        if let Ok(index) = crate::index::ChunkIndex::from_json(text.as_bytes(), &digest) {
            let chunk = index.chunks.len().saturating_sub(1);
            // Any verdict; only a panic would be a bug.
            let _ = index.verify_chunk(chunk, data);
        }
    }
    if let Ok(manifest) = Manifest::from_json(text.as_bytes()) {
        let json = manifest.to_json();
        match Manifest::from_json(&json) {
            Ok(back) if back == manifest => {}
            other => return Err(format!("manifest {manifest:?} reads back as {other:?}")),
        }
    }
    for line in text.lines() {
        if let Ok(key) = Key::new(line)
            && (key.as_str() != line || key.segments().any(|s| s == ".." || s.is_empty()))
        {
            return Err(format!("key {line:?} accepted as {key:?}"));
        }
        if let Ok(uri) = ArtifactUri::parse(line) {
            let shown = uri.to_string();
            match ArtifactUri::parse(&shown) {
                Ok(back) if back == uri => {}
                other => {
                    return Err(format!(
                        "{line:?} parsed as {uri:?}, whose text {shown:?} reads back as {other:?}"
                    ));
                }
            }
        }
        if let Ok(reference) = Reference::parse(line) {
            let shown = reference.to_string();
            if Reference::parse(&shown).ok().as_ref() != Some(&reference) {
                return Err(format!(
                    "reference {line:?} does not read back from {shown:?}"
                ));
            }
        }
        if let Ok(digest) = Digest::parse(line)
            && digest.to_string() != line
        {
            return Err(format!("digest {line:?} prints as {digest}"));
        }
    }
    Ok(())
}
