//! Garbage collection: deletes blobs that no version or alias reaches.
//!
//! The protocol (see [`lease`](crate::lease) for the handshake):
//!
//! 1. Take the collector's lock (`gc.lock`, create-only, with an expiry).
//! 2. Wait until no live writer lease is left, or give up with
//!    [`Error::Busy`] after `wait_for_writers`: writers
//!    have priority. Writers arriving now see the lock and wait. A writer holds its lease from before its first blob
//!    until after its version exists ([`ArtifactStore::publish`]), so when the
//!    wait ends, every blob a put was about to reference is referenced.
//! 3. Mark: every manifest a version or alias record points at, and every
//!    file those manifests list.
//! 4. Sweep: delete unmarked blobs (and their chunk indexes and signatures)
//!    last modified at least the grace period ago, staging objects of
//!    abandoned uploads older than the grace period, and expired leases.
//! 5. Release the lock.
//!
//! The grace period protects blobs put outside a lease-spanning operation
//! (a `put_bytes` now, a `create_version` later).

use std::collections::HashSet;
use std::time::{Duration, Instant};

use crate::blob::digest_of;
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::lease::{Expiry, POLL};
use crate::store::{ArtifactStore, duration_ms, now_ms};

/// How a collection runs.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct GcOptions {
    /// Unreferenced blobs younger than this are kept (24 hours).
    pub grace: Duration,
    /// How long to wait for writers' leases to go before giving up with
    /// [`Error::Busy`] (1 minute).
    pub wait_for_writers: Duration,
}

impl Default for GcOptions {
    fn default() -> Self {
        GcOptions {
            grace: Duration::from_secs(24 * 3600),
            wait_for_writers: Duration::from_secs(60),
        }
    }
}

impl GcOptions {
    /// The same options with another grace period.
    pub fn with_grace(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }

    /// The same options with another wait for writers.
    pub fn with_wait_for_writers(mut self, wait: Duration) -> Self {
        self.wait_for_writers = wait;
        self
    }
}

/// What a collection did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct GcReport {
    /// Blobs reachable from a version or alias (manifests included).
    pub reachable: usize,
    /// Unreferenced blobs kept because they are younger than the grace period.
    pub kept_young: usize,
    /// Blobs deleted.
    pub deleted: Vec<Digest>,
    /// Staging objects of abandoned uploads deleted.
    pub staging_deleted: usize,
    /// Expired leases of crashed writers deleted.
    pub leases_expired: usize,
}

impl ArtifactStore {
    /// Runs one garbage collection of this tenant's store.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use keelson_artifact::{ArtifactStore, GcOptions};
    /// let store = ArtifactStore::new(Arc::new(object_store::memory::InMemory::new()), "t")?;
    /// let orphan = store.put_bytes("nobody refers to me").await?;
    /// let report = store.gc(&GcOptions::default().with_grace(Duration::ZERO)).await?;
    /// assert_eq!(report.deleted, vec![orphan.digest]);
    /// assert!(!store.contains(&orphan.digest).await?);
    /// # Ok::<(), keelson_artifact::Error>(()) }).unwrap();
    /// ```
    pub async fn gc(&self, options: &GcOptions) -> Result<GcReport> {
        let lock = self.gc_lock_path();
        // The lock lives as long as a lease: the wait plus the sweep must fit.
        let body = Expiry::lock(self.options.lease_ttl);
        if !self.create(&lock, body.clone()).await? {
            let live = self
                .read_opt(&lock)
                .await?
                .is_some_and(|b| Expiry::live(&b));
            if live {
                return Err(Error::Busy {
                    reason: format!("another collection of tenant {} is running", self.tenant),
                });
            }
            // A crashed collector's lock: take it over.
            self.delete(&lock).await?;
            if !self.create(&lock, body).await? {
                return Err(Error::Busy {
                    reason: format!("another collection of tenant {} started", self.tenant),
                });
            }
        }
        let result = self.collect(options).await;
        let released = self.delete(&lock).await;
        let report = result?;
        released?;
        Ok(report)
    }

    async fn collect(&self, options: &GcOptions) -> Result<GcReport> {
        let mut report = GcReport::default();
        let started = Instant::now();
        loop {
            let mut live = 0;
            for meta in self.list("leases").await? {
                match self.read_opt(&meta.location).await? {
                    Some(body) if Expiry::live(&body) => live += 1,
                    Some(_) => {
                        self.delete(&meta.location).await?;
                        report.leases_expired += 1;
                    }
                    None => {}
                }
            }
            if live == 0 {
                break;
            }
            if started.elapsed() >= options.wait_for_writers {
                return Err(Error::Busy {
                    reason: format!(
                        "{live} writer(s) of tenant {} still hold leases after {:?}",
                        self.tenant, options.wait_for_writers
                    ),
                });
            }
            tokio::time::sleep(POLL).await;
        }

        let mut reachable: HashSet<Digest> = HashSet::new();
        for manifest in self.root_manifests().await? {
            if !reachable.insert(manifest) {
                continue;
            }
            match self.get_manifest(&manifest).await {
                Ok(m) => reachable.extend(m.files.iter().map(|f| f.digest)),
                // A version whose manifest is gone: nothing more to protect.
                Err(Error::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }

        let cutoff_ms = now_ms().saturating_sub(duration_ms(options.grace));
        let old = |meta: &object_store::ObjectMeta| {
            u64::try_from(meta.last_modified.timestamp_millis()).unwrap_or(0) <= cutoff_ms
        };
        let mut blobs = HashSet::new();
        for meta in self.list("blobs").await? {
            let Some(digest) = digest_of(&meta.location) else {
                continue;
            };
            blobs.insert(digest);
            if reachable.contains(&digest) {
                report.reachable += 1;
            } else if !old(&meta) {
                report.kept_young += 1;
            } else {
                self.delete(&meta.location).await?;
                self.delete(&self.index_path(&digest)).await?;
                for sig in self
                    .list(&format!(
                        "signatures/{}/{}",
                        digest.algorithm().name(),
                        digest.hex()
                    ))
                    .await?
                {
                    self.delete(&sig.location).await?;
                }
                report.deleted.push(digest);
                blobs.remove(&digest);
            }
        }
        for meta in self.list("index").await? {
            if digest_of(&meta.location).is_some_and(|d| !blobs.contains(&d)) && old(&meta) {
                self.delete(&meta.location).await?;
            }
        }
        for meta in self.list("staging").await? {
            if old(&meta) {
                self.delete(&meta.location).await?;
                report.staging_deleted += 1;
            }
        }
        report.deleted.sort();
        Ok(report)
    }
}
