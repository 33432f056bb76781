//! Downloading a version to a local directory, atomically, through a local
//! cache keyed by digest.
//!
//! Cache layout (`ROOT/`): `blobs/ALGO/HEX` (verified file contents and
//! manifests), `versions/TENANT/NAME/@VERSION` (the manifest digest of an
//! immutable version), `signatures/ALGO/HEX/KEYID` and `tmp/`. Everything is
//! written to `tmp/` and renamed into place, so a cache entry is either
//! complete and verified or absent. Aliases move, so they are always resolved
//! in the store; a version is immutable, so once cached it is never asked for
//! again, and a second download of the same version reads nothing from the store.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use ed25519_dalek::VerifyingKey;
use futures::StreamExt;
use tokio::io::AsyncWriteExt;

use crate::digest::{Algorithm, Digest};
use crate::error::{Error, Result};
use crate::key::Reference;
use crate::manifest::Manifest;
use crate::signature::{ManifestSignature, key_id};
use crate::store::{ArtifactStore, unique_id};

/// A local cache of verified blobs and resolved versions.
#[derive(Debug, Clone)]
pub struct LocalCache {
    root: PathBuf,
}

impl LocalCache {
    /// A cache under `root` (created on first use).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        LocalCache { root: root.into() }
    }

    /// The cache's root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn blob(&self, digest: &Digest) -> PathBuf {
        self.root
            .join("blobs")
            .join(digest.algorithm().name())
            .join(digest.hex())
    }

    fn version(&self, store: &ArtifactStore, reference: &Reference) -> PathBuf {
        let mut path = self.root.join("versions").join(store.tenant().as_str());
        for segment in reference.name.as_str().split('/') {
            path.push(segment);
        }
        path.join(format!("@{}", reference.label))
    }

    fn signature(&self, manifest: &Digest, key: &VerifyingKey) -> PathBuf {
        self.root
            .join("signatures")
            .join(manifest.algorithm().name())
            .join(manifest.hex())
            .join(key_id(key).trim_start_matches("ed25519:"))
    }

    fn tmp(&self) -> Result<PathBuf> {
        let dir = self.root.join("tmp");
        fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        Ok(dir.join(unique_id()))
    }

    /// Writes `bytes` to `dest` through a temporary file, fsynced, then renamed.
    fn put_small(&self, dest: &Path, bytes: &[u8]) -> Result<()> {
        let tmp = self.tmp()?;
        let write = || -> std::io::Result<()> {
            let mut f = fs::File::create(&tmp)?;
            f.write_all(bytes)?;
            f.sync_all()?;
            if let Some(parent) = dest.parent() {
                fs::create_dir_all(parent)?;
            }
            fs::rename(&tmp, dest)
        };
        write().map_err(|e| {
            let _ = fs::remove_file(&tmp);
            Error::io(dest, e)
        })
    }
}

fn read_if_exists(path: &Path) -> Result<Option<Vec<u8>>> {
    match fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(path, e)),
    }
}

impl ArtifactStore {
    /// Downloads `name@label` (a version or an alias) into `dest`, which must
    /// not exist: files are verified into `cache`, copied into a temporary
    /// sibling of `dest`, fsynced, and the directory is renamed into place.
    /// With `verify_with`, the manifest's signature by that key is checked
    /// before any file is fetched. Returns the manifest.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// use std::sync::Arc;
    /// use keelson_artifact::{ArtifactStore, LocalCache};
    /// let src = tempfile::tempdir().unwrap();
    /// std::fs::create_dir(src.path().join("tokenizer")).unwrap();
    /// std::fs::write(src.path().join("tokenizer/vocab.txt"), b"a b c").unwrap();
    /// let store = ArtifactStore::new(Arc::new(object_store::memory::InMemory::new()), "t")?;
    /// store.publish(src.path(), "models/m", "v1", Default::default()).await?;
    /// let work = tempfile::tempdir().unwrap();
    /// let cache = LocalCache::new(work.path().join("cache"));
    /// let dest = work.path().join("model");
    /// store.download("models/m@v1", &dest, &cache, None).await?;
    /// assert_eq!(std::fs::read(dest.join("tokenizer/vocab.txt")).unwrap(), b"a b c");
    /// # Ok::<(), keelson_artifact::Error>(()) }).unwrap();
    /// ```
    pub async fn download(
        &self,
        reference: &str,
        dest: impl AsRef<Path>,
        cache: &LocalCache,
        verify_with: Option<&VerifyingKey>,
    ) -> Result<Manifest> {
        let dest = dest.as_ref();
        let reference = Reference::parse(reference)?;
        if dest.exists() {
            return Err(Error::DestinationExists {
                path: dest.to_path_buf(),
            });
        }
        let digest = self.cached_resolve(&reference, cache).await?;
        let manifest_bytes = self.cached_blob_bytes(&digest, cache).await?;
        let manifest = Manifest::from_json(&manifest_bytes)
            .map_err(|e| Error::document(format!("manifest {digest}"), e.to_string()))?;
        if let Some(key) = verify_with {
            self.cached_verify(&digest, key, cache).await?;
        }
        for file in &manifest.files {
            self.cache_file(&file.digest, file.size, cache).await?;
        }
        let blobs: Vec<(String, PathBuf)> = manifest
            .files
            .iter()
            .map(|f| (f.path.clone(), cache.blob(&f.digest)))
            .collect();
        let dest = dest.to_path_buf();
        tokio::task::spawn_blocking(move || assemble(&dest, &blobs))
            .await
            .map_err(|e| Error::Source {
                what: "materialization".into(),
                source: e.into(),
            })??;
        Ok(manifest)
    }

    async fn cached_resolve(&self, reference: &Reference, cache: &LocalCache) -> Result<Digest> {
        let path = cache.version(self, reference);
        if let Some(text) = read_if_exists(&path)? {
            let text = String::from_utf8_lossy(&text);
            return Digest::parse(text.trim());
        }
        let resolved = self.resolve(&reference.to_string()).await?;
        if resolved.alias.is_none() {
            cache.put_small(&path, resolved.manifest.to_string().as_bytes())?;
        }
        Ok(resolved.manifest)
    }

    async fn cached_blob_bytes(&self, digest: &Digest, cache: &LocalCache) -> Result<Vec<u8>> {
        let path = cache.blob(digest);
        if let Some(bytes) = read_if_exists(&path)? {
            let actual = digest.algorithm().digest(&bytes);
            if actual == *digest {
                return Ok(bytes);
            }
        }
        let bytes = self.get_bytes(digest).await?;
        cache.put_small(&path, &bytes)?;
        Ok(bytes.to_vec())
    }

    async fn cached_verify(
        &self,
        manifest: &Digest,
        key: &VerifyingKey,
        cache: &LocalCache,
    ) -> Result<()> {
        let path = cache.signature(manifest, key);
        if let Some(bytes) = read_if_exists(&path)? {
            return ManifestSignature::from_json(&bytes)?.verify(manifest, key);
        }
        let bytes = self
            .read_signature(manifest, key)
            .await?
            .ok_or_else(|| Error::Signature {
                manifest: manifest.to_string(),
                key_id: key_id(key),
                reason: "no signature by this key".into(),
            })?;
        ManifestSignature::from_json(&bytes)?.verify(manifest, key)?;
        cache.put_small(&path, &bytes)
    }

    /// Makes sure the cache holds the verified blob. Cache entries are only
    /// ever renamed into place after a verified read, so a present entry of
    /// the right size is trusted without hashing it again.
    async fn cache_file(&self, digest: &Digest, size: u64, cache: &LocalCache) -> Result<()> {
        let path = cache.blob(digest);
        if fs::metadata(&path).is_ok_and(|m| m.len() == size) {
            return Ok(());
        }
        let tmp = cache.tmp()?;
        let result = async {
            let mut file = tokio::fs::File::create(&tmp)
                .await
                .map_err(|e| Error::io(&tmp, e))?;
            let mut stream = self.get(digest).await?;
            while let Some(chunk) = stream.next().await {
                file.write_all(&chunk?)
                    .await
                    .map_err(|e| Error::io(&tmp, e))?;
            }
            file.sync_all().await.map_err(|e| Error::io(&tmp, e))?;
            if let Some(parent) = path.parent() {
                tokio::fs::create_dir_all(parent)
                    .await
                    .map_err(|e| Error::io(parent, e))?;
            }
            tokio::fs::rename(&tmp, &path)
                .await
                .map_err(|e| Error::io(&path, e))
        }
        .await;
        if result.is_err() {
            let _ = tokio::fs::remove_file(&tmp).await;
        }
        result
    }
}

/// Copies the cached blobs into a temporary sibling of `dest`, fsyncs files
/// and directories, and renames it to `dest`.
fn assemble(dest: &Path, blobs: &[(String, PathBuf)]) -> Result<()> {
    let parent = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "download".into());
    fs::create_dir_all(&parent).map_err(|e| Error::io(&parent, e))?;
    let tmp = parent.join(format!(".{name}.keelson-tmp-{}", unique_id()));
    let build = || -> Result<()> {
        fs::create_dir(&tmp).map_err(|e| Error::io(&tmp, e))?;
        let mut dirs = vec![tmp.clone()];
        for (key, blob) in blobs {
            let mut target = tmp.clone();
            // Keys were validated (no `..`, not absolute), so this stays in `tmp`.
            for segment in key.split('/') {
                target.push(segment);
            }
            if let Some(dir) = target.parent()
                && !dir.exists()
            {
                fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
                dirs.push(dir.to_path_buf());
            }
            fs::copy(blob, &target).map_err(|e| Error::io(&target, e))?;
            fs::File::open(&target)
                .and_then(|f| f.sync_all())
                .map_err(|e| Error::io(&target, e))?;
        }
        for dir in dirs.iter().rev() {
            sync_dir(dir)?;
        }
        fs::rename(&tmp, dest).map_err(|e| Error::io(dest, e))?;
        sync_dir(&parent)
    };
    let result = build();
    if result.is_err() {
        let _ = fs::remove_dir_all(&tmp);
    }
    result
}

fn sync_dir(dir: &Path) -> Result<()> {
    fs::File::open(dir)
        .and_then(|f| f.sync_all())
        .map_err(|e| Error::io(dir, e))
}

/// The digest of a local file (for checking a materialized file by hand).
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("f");
/// std::fs::write(&path, b"abc").unwrap();
/// let d = keelson_artifact::materialize::file_digest(&path, keelson_artifact::Algorithm::Sha256)?;
/// assert_eq!(d, keelson_artifact::Algorithm::Sha256.digest(b"abc"));
/// # Ok::<(), keelson_artifact::Error>(())
/// ```
pub fn file_digest(path: &Path, algorithm: Algorithm) -> Result<Digest> {
    use std::io::Read;
    let mut file = fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut hasher = crate::digest::Hasher::new(algorithm);
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf).map_err(|e| Error::io(path, e))?;
        if n == 0 {
            return Ok(hasher.finish());
        }
        hasher.update(buf.get(..n).unwrap_or_default());
    }
}
