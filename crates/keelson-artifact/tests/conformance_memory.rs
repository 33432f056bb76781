//! The conformance suite on object_store's `InMemory`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod conformance;

use std::sync::Arc;

async fn backend() -> Option<conformance::Backend> {
    Some(conformance::Backend {
        store: Arc::new(object_store::memory::InMemory::new()),
        part_size: 256 << 10,
        local_root: None,
        _guard: Box::new(()),
    })
}

conformance_tests!(backend());
