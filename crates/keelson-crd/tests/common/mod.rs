//! Shared helpers for the integration tests: where the corpus is, and reading it.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

/// The corpus of real upstream manifests: `KEELSON_CRD_CORPUS`, or `../shared/corpus/crd`
/// beside the workspace.
pub fn corpus_dir() -> PathBuf {
    match std::env::var_os("KEELSON_CRD_CORPUS") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/crd"),
    }
}

/// Every manifest file of the corpus; fails if there are none, so a missing
/// corpus cannot pass silently.
pub fn corpus_files() -> Vec<PathBuf> {
    let dir = corpus_dir();
    let files = keelson_crd::manifest_files(&dir)
        .unwrap_or_else(|e| panic!("corpus {} unreadable: {e}", dir.display()));
    assert!(!files.is_empty(), "no manifests under {}", dir.display());
    files
}

/// A short name for a corpus file, relative to the corpus root.
pub fn short(path: &std::path::Path) -> String {
    path.strip_prefix(corpus_dir())
        .unwrap_or(path)
        .display()
        .to_string()
}
