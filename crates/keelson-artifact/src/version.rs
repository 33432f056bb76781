//! Manifests in the store, immutable named versions, and movable aliases.
//!
//! A version `NAME@LABEL` is one small object, `versions/NAME/@LABEL`, written
//! with a create-only put: the first writer wins, every later one gets
//! [`Error::VersionExists`]. Blobs and manifests are content-addressed and
//! need no condition; only this object does, which is why object_store's lack
//! of a create-only multipart upload does not matter.
//!
//! An alias `NAME@ALIAS` is a sequence of records
//! `aliases/NAME/@ALIAS/GENERATION`, each written create-only; the highest
//! generation is the alias's target. Moving it means creating generation
//! `g + 1` where `g` is the generation read before: a compare-and-swap in
//! which exactly one of two concurrent movers succeeds and the other gets
//! [`Error::AliasConflict`]. Create-only puts are used rather than
//! `PutMode::Update` (If-Match) because object_store's local file system does
//! not implement `Update`; create-only works on every backend, and the
//! records double as the alias's history.

use std::collections::BTreeMap;
use std::path::Path as FsPath;

use serde::{Deserialize, Serialize};

use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::key::{ArtifactName, Key, Label, Reference};
use crate::manifest::{FileEntry, Manifest, media_type_for};
use crate::store::{ArtifactStore, now_ms};

/// Digits of an alias record's generation in its key, so keys sort by generation.
const GENERATION_DIGITS: usize = 20;

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct VersionDoc {
    manifest: Digest,
    created_at_ms: u64,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct AliasDoc {
    version: String,
    manifest: Digest,
    moved_at_ms: u64,
}

/// An alias as read: its target and the generation a move must replace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AliasState {
    /// The artifact.
    pub name: ArtifactName,
    /// The alias.
    pub alias: Label,
    /// The version it points at.
    pub version: Label,
    /// That version's manifest.
    pub manifest: Digest,
    /// Starts at 1 and grows by one with every move.
    pub generation: u64,
}

/// What a reference resolved to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The version (for an alias, the version it points at).
    pub version: Label,
    /// `Some` when the reference named an alias.
    pub alias: Option<Label>,
    /// The manifest.
    pub manifest: Digest,
}

impl ArtifactStore {
    /// Stores a manifest (content-addressed, like any blob) and returns its digest.
    pub async fn put_manifest(&self, manifest: &Manifest) -> Result<Digest> {
        Ok(self.put_bytes(manifest.to_json()).await?.digest)
    }

    /// Reads a manifest, verified against its digest.
    pub async fn get_manifest(&self, digest: &Digest) -> Result<Manifest> {
        let bytes = self.get_bytes(digest).await?;
        Manifest::from_json(&bytes)
            .map_err(|e| Error::document(format!("manifest {digest}"), e.to_string()))
    }

    /// Uploads every regular file under `dir` (symbolic links are refused),
    /// stores the manifest, and returns it with its digest.
    pub async fn put_directory(
        &self,
        dir: impl AsRef<FsPath>,
        metadata: BTreeMap<String, String>,
    ) -> Result<(Digest, Manifest)> {
        let lease = self.lease().await?;
        let result = self
            .put_directory_leased(dir.as_ref(), metadata, &lease)
            .await;
        lease.release().await?;
        result
    }

    async fn put_directory_leased(
        &self,
        dir: &FsPath,
        metadata: BTreeMap<String, String>,
        lease: &crate::lease::Lease,
    ) -> Result<(Digest, Manifest)> {
        let root = dir.to_path_buf();
        let files = tokio::task::spawn_blocking(move || walk(&root))
            .await
            .map_err(|e| Error::Source {
                what: dir.display().to_string(),
                source: e.into(),
            })??;
        let mut entries = Vec::with_capacity(files.len());
        for (key, path) in files {
            let put = self.put_file_leased(&path, lease).await?;
            entries.push(FileEntry {
                media_type: media_type_for(key.as_str()).to_string(),
                path: key.as_str().to_string(),
                size: put.size,
                digest: put.digest,
            });
        }
        let manifest = Manifest::new(entries, metadata)?;
        let bytes = manifest.to_json();
        let digest = self
            .upload(
                futures::StreamExt::boxed(futures::stream::iter([Ok(bytes::Bytes::from(bytes))])),
                "manifest",
                lease,
            )
            .await?
            .digest;
        Ok((digest, manifest))
    }

    /// Uploads a directory and creates version `name@version` for it, under
    /// one writer lease, so a concurrent garbage collection cannot take any
    /// of its blobs before the version exists.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// use std::sync::Arc;
    /// let dir = tempfile::tempdir().unwrap();
    /// std::fs::write(dir.path().join("model.onnx"), b"weights").unwrap();
    /// let store = keelson_artifact::ArtifactStore::new(Arc::new(object_store::memory::InMemory::new()), "t")?;
    /// let manifest = store.publish(dir.path(), "models/fraud-detector", "v1", Default::default()).await?;
    /// assert_eq!(store.resolve("models/fraud-detector@v1").await?.manifest, manifest);
    /// let again = store.publish(dir.path(), "models/fraud-detector", "v1", Default::default()).await;
    /// assert!(matches!(again, Err(keelson_artifact::Error::VersionExists { .. })));
    /// # Ok::<(), keelson_artifact::Error>(()) }).unwrap();
    /// ```
    pub async fn publish(
        &self,
        dir: impl AsRef<FsPath>,
        name: &str,
        version: &str,
        metadata: BTreeMap<String, String>,
    ) -> Result<Digest> {
        let name = ArtifactName::new(name)?;
        let version = Label::new(version)?;
        let lease = self.lease().await?;
        let result = async {
            let (digest, _) = self
                .put_directory_leased(dir.as_ref(), metadata, &lease)
                .await?;
            self.create_version_checked(&name, &version, &digest)
                .await?;
            Ok(digest)
        }
        .await;
        lease.release().await?;
        result
    }

    /// Creates the immutable version `name@version` pointing at a stored
    /// manifest; [`Error::VersionExists`] if it exists.
    pub async fn create_version(&self, name: &str, version: &str, manifest: &Digest) -> Result<()> {
        let name = ArtifactName::new(name)?;
        let version = Label::new(version)?;
        self.get_manifest(manifest).await?;
        self.create_version_checked(&name, &version, manifest).await
    }

    async fn create_version_checked(
        &self,
        name: &ArtifactName,
        version: &Label,
        manifest: &Digest,
    ) -> Result<()> {
        let doc = VersionDoc {
            manifest: *manifest,
            created_at_ms: now_ms(),
        };
        let created = self
            .create(
                &self.version_path(name, version),
                serde_json::to_vec(&doc).unwrap_or_default(),
            )
            .await?;
        if created {
            Ok(())
        } else {
            Err(Error::VersionExists {
                name: name.to_string(),
                version: version.to_string(),
            })
        }
    }

    async fn read_version(&self, name: &ArtifactName, version: &Label) -> Result<Option<Digest>> {
        let Some(bytes) = self.read_opt(&self.version_path(name, version)).await? else {
            return Ok(None);
        };
        let doc: VersionDoc = serde_json::from_slice(&bytes)
            .map_err(|e| Error::document(format!("version {name}@{version}"), e.to_string()))?;
        Ok(Some(doc.manifest))
    }

    /// The versions of `name`, sorted.
    pub async fn list_versions(&self, name: &str) -> Result<Vec<Label>> {
        let name = ArtifactName::new(name)?;
        let prefix = self.path(&format!("versions/{name}"));
        let listed = self
            .store
            .list_with_delimiter(Some(&prefix))
            .await
            .map_err(|e| Error::store(&prefix, e))?;
        let mut out: Vec<Label> = listed
            .objects
            .iter()
            .filter_map(|m| m.location.filename())
            .filter_map(|f| f.strip_prefix('@'))
            .filter_map(|l| Label::new(l).ok())
            .collect();
        out.sort();
        Ok(out)
    }

    /// Resolves `name@label`: a version if one has that label, else an alias.
    pub async fn resolve(&self, reference: &str) -> Result<Resolved> {
        let reference = Reference::parse(reference)?;
        if let Some(manifest) = self.read_version(&reference.name, &reference.label).await? {
            return Ok(Resolved {
                version: reference.label,
                alias: None,
                manifest,
            });
        }
        match self
            .read_alias_checked(&reference.name, &reference.label)
            .await?
        {
            Some(state) => Ok(Resolved {
                version: state.version,
                alias: Some(state.alias),
                manifest: state.manifest,
            }),
            None => Err(Error::NotFound {
                what: format!("version or alias {reference}"),
            }),
        }
    }

    /// Reads alias `name@alias`; `None` if it was never set.
    pub async fn read_alias(&self, name: &str, alias: &str) -> Result<Option<AliasState>> {
        self.read_alias_checked(&ArtifactName::new(name)?, &Label::new(alias)?)
            .await
    }

    async fn read_alias_checked(
        &self,
        name: &ArtifactName,
        alias: &Label,
    ) -> Result<Option<AliasState>> {
        let dir = self.alias_dir(name, alias);
        let listed = self
            .store
            .list_with_delimiter(Some(&dir))
            .await
            .map_err(|e| Error::store(&dir, e))?;
        let latest = listed
            .objects
            .iter()
            .filter_map(|m| {
                let generation = m.location.filename()?.parse::<u64>().ok()?;
                Some((generation, m.location.clone()))
            })
            .max_by_key(|(generation, _)| *generation);
        let Some((generation, path)) = latest else {
            return Ok(None);
        };
        let bytes = self.read(&path).await?;
        let what = || format!("alias {name}@{alias} generation {generation}");
        let doc: AliasDoc =
            serde_json::from_slice(&bytes).map_err(|e| Error::document(what(), e.to_string()))?;
        Ok(Some(AliasState {
            name: name.clone(),
            alias: alias.clone(),
            version: Label::new(&doc.version)
                .map_err(|e| Error::document(what(), e.to_string()))?,
            manifest: doc.manifest,
            generation,
        }))
    }

    /// Points alias `name@alias` at version `name@version`, if the alias is
    /// still as `expected` (read before with [`read_alias`](Self::read_alias);
    /// `None`: the alias must not exist yet). Returns the new state; a
    /// concurrent move that got there first gives [`Error::AliasConflict`].
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// use std::sync::Arc;
    /// use keelson_artifact::{ArtifactStore, Error, Manifest};
    /// let store = ArtifactStore::new(Arc::new(object_store::memory::InMemory::new()), "t")?;
    /// let m = store.put_manifest(&Manifest::new(vec![], Default::default())?).await?;
    /// store.create_version("m", "v1", &m).await?;
    /// store.create_version("m", "v2", &m).await?;
    /// let first = store.move_alias("m", "production", "v1", None).await?;
    /// let second = store.move_alias("m", "production", "v2", Some(&first)).await?;
    /// assert_eq!(store.resolve("m@production").await?.version.as_str(), "v2");
    /// // A writer still holding the first state loses.
    /// let stale = store.move_alias("m", "production", "v1", Some(&first)).await;
    /// assert!(matches!(stale, Err(Error::AliasConflict { .. })));
    /// # let _ = second;
    /// # Ok::<(), keelson_artifact::Error>(()) }).unwrap();
    /// ```
    pub async fn move_alias(
        &self,
        name: &str,
        alias: &str,
        version: &str,
        expected: Option<&AliasState>,
    ) -> Result<AliasState> {
        let name = ArtifactName::new(name)?;
        let alias = Label::new(alias)?;
        let version = Label::new(version)?;
        let manifest =
            self.read_version(&name, &version)
                .await?
                .ok_or_else(|| Error::NotFound {
                    what: format!("version {name}@{version}"),
                })?;
        let previous = expected.map_or(0, |s| s.generation);
        let generation = previous + 1;
        let doc = AliasDoc {
            version: version.to_string(),
            manifest,
            moved_at_ms: now_ms(),
        };
        let path = self
            .alias_dir(&name, &alias)
            .join(format!("{generation:0width$}", width = GENERATION_DIGITS));
        if !self
            .create(&path, serde_json::to_vec(&doc).unwrap_or_default())
            .await?
        {
            return Err(Error::AliasConflict {
                name: name.to_string(),
                alias: alias.to_string(),
                expected: previous,
            });
        }
        Ok(AliasState {
            name,
            alias,
            version,
            manifest,
            generation,
        })
    }

    /// Every manifest a version or an alias record points at (garbage
    /// collection's roots).
    pub(crate) async fn root_manifests(&self) -> Result<Vec<Digest>> {
        let mut roots = Vec::new();
        for meta in self.list("versions").await? {
            let bytes = self.read(&meta.location).await?;
            let doc: VersionDoc = serde_json::from_slice(&bytes).map_err(|e| {
                Error::document(format!("version {}", meta.location), e.to_string())
            })?;
            roots.push(doc.manifest);
        }
        for meta in self.list("aliases").await? {
            let bytes = self.read(&meta.location).await?;
            let doc: AliasDoc = serde_json::from_slice(&bytes)
                .map_err(|e| Error::document(format!("alias {}", meta.location), e.to_string()))?;
            roots.push(doc.manifest);
        }
        Ok(roots)
    }
}

/// Regular files under `root`, as (key, path), sorted by key.
fn walk(root: &FsPath) -> Result<Vec<(Key, std::path::PathBuf)>> {
    let mut out = Vec::new();
    let mut stack = vec![(root.to_path_buf(), String::new())];
    while let Some((dir, prefix)) = stack.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| Error::io(&dir, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| Error::io(&dir, e))?;
            let path = entry.path();
            let file_type = entry.file_type().map_err(|e| Error::io(&path, e))?;
            let name = entry.file_name();
            let name = name.to_str().ok_or_else(|| Error::InvalidKey {
                key: path.display().to_string(),
                reason: "is not valid UTF-8".into(),
            })?;
            let key = format!("{prefix}{name}");
            if file_type.is_dir() {
                stack.push((path, format!("{key}/")));
            } else if file_type.is_file() {
                out.push((Key::new(&key)?, path));
            } else {
                return Err(Error::InvalidKey {
                    key,
                    reason:
                        "is neither a regular file nor a directory (symbolic links are refused)"
                            .into(),
                });
            }
        }
    }
    out.sort();
    Ok(out)
}
