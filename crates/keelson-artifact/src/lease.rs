//! Writer leases and the collector's lock: the handshake that keeps garbage
//! collection from deleting a blob a concurrent put is about to reference.
//!
//! A writer first writes its lease, *then* looks for the collector's lock;
//! the collector first writes its lock, *then* lists leases. Whichever of the
//! two writes comes second, its owner sees the other's object: either the
//! writer waits for that collection to end or the collector waits for the
//! lease to go. So no put runs while a collection marks and sweeps.
//!
//! Writers have priority. A waiting writer keeps its lease, so a collector
//! still waiting for writers gives up with [`Error::Busy`] rather than hold
//! puts back; and the writer waits only for the collection whose lock it saw
//! (each lock names its holder), because any later collection lists leases
//! after taking its lock and so waits for this one. A collector run in a loop
//! therefore cannot starve puts. Both objects carry an expiry so a crashed
//! process blocks the other side for at most one lease lifetime. This needs a
//! store whose reads see earlier writes (local files, memory, S3 since 2020).

use std::sync::Mutex;
use std::time::{Duration, Instant};

use object_store::path::Path;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::store::{ArtifactStore, duration_ms, now_ms, unique_id};

/// How often a waiting writer or collector looks again.
pub(crate) const POLL: Duration = Duration::from_millis(50);

/// The body of a lease and of the collector's lock.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Expiry {
    pub(crate) expires_at_ms: u64,
    /// Tells one collector's lock from the next; leases leave it out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) holder: Option<String>,
}

impl Expiry {
    pub(crate) fn after(ttl: Duration) -> Vec<u8> {
        Self::body(ttl, None)
    }

    /// The body of a collector's lock, unique to this collection.
    pub(crate) fn lock(ttl: Duration) -> Vec<u8> {
        Self::body(ttl, Some(unique_id()))
    }

    fn body(ttl: Duration, holder: Option<String>) -> Vec<u8> {
        let doc = Expiry {
            expires_at_ms: now_ms().saturating_add(duration_ms(ttl)),
            holder,
        };
        serde_json::to_vec(&doc).unwrap_or_default()
    }

    /// Whether an object with this body is still in force. Unreadable bodies
    /// count as expired: a garbled object must not block everyone forever.
    pub(crate) fn live(bytes: &[u8]) -> bool {
        serde_json::from_slice::<Expiry>(bytes).is_ok_and(|e| e.expires_at_ms > now_ms())
    }
}

/// A writer's lease: while it exists, garbage collection does not start.
pub(crate) struct Lease {
    store: ArtifactStore,
    path: Path,
    renewed: Mutex<Instant>,
    released: bool,
}

impl ArtifactStore {
    pub(crate) fn gc_lock_path(&self) -> Path {
        self.path("gc.lock")
    }

    /// The body of the collector's lock while it is in force.
    async fn live_lock(&self) -> Result<Option<bytes::Bytes>> {
        Ok(self
            .read_opt(&self.gc_lock_path())
            .await?
            .filter(|b| Expiry::live(b)))
    }

    /// Takes a writer lease, waiting (up to `lock_wait`) for a collection
    /// that may already have stopped looking at leases.
    pub(crate) async fn lease(&self) -> Result<Lease> {
        let path = self.path(&format!("leases/{}", unique_id()));
        self.write(&path, Expiry::after(self.options.lease_ttl))
            .await?;
        let lease = Lease {
            store: self.clone(),
            path,
            renewed: Mutex::new(Instant::now()),
            released: false,
        };
        let Some(seen) = self.live_lock().await? else {
            return Ok(lease);
        };
        let deadline = Instant::now() + self.options.lock_wait;
        loop {
            tokio::time::sleep(POLL).await;
            if self.live_lock().await?.is_none_or(|now| now != seen) {
                return Ok(lease);
            }
            if Instant::now() >= deadline {
                lease.release().await?;
                return Err(Error::Busy {
                    reason: format!(
                        "a garbage collection of tenant {} held its lock for longer than {:?}",
                        self.tenant, self.options.lock_wait
                    ),
                });
            }
            lease.keep_alive().await?;
        }
    }
}

impl Lease {
    /// Rewrites the lease when a quarter of its lifetime has passed, so a long
    /// upload keeps it.
    pub(crate) async fn keep_alive(&self) -> Result<()> {
        let ttl = self.store.options.lease_ttl;
        let due = self
            .renewed
            .lock()
            .map(|t| t.elapsed() >= ttl / 4)
            .unwrap_or(true);
        if due {
            self.store.write(&self.path, Expiry::after(ttl)).await?;
            if let Ok(mut t) = self.renewed.lock() {
                *t = Instant::now();
            }
        }
        Ok(())
    }

    pub(crate) async fn release(mut self) -> Result<()> {
        self.released = true;
        self.store.delete(&self.path).await
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if self.released {
            return;
        }
        // Cancelled mid-put: remove the lease in the background; if there is no
        // runtime any more, it expires after `lease_ttl`.
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            let store = self.store.clone();
            let path = self.path.clone();
            handle.spawn(async move { store.delete(&path).await });
        }
    }
}
