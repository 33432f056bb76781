//! The conformance suite on object_store's `LocalFileSystem` in a temporary directory.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod conformance;

use std::sync::Arc;

async fn backend() -> Option<conformance::Backend> {
    let dir = tempfile::tempdir().unwrap();
    let fs = object_store::local::LocalFileSystem::new_with_prefix(dir.path()).unwrap();
    Some(conformance::Backend {
        store: Arc::new(fs),
        part_size: 256 << 10,
        local_root: Some(dir.path().to_path_buf()),
        _guard: Box::new(dir),
    })
}

conformance_tests!(backend());
