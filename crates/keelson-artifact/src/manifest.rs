//! Artifact manifests: the files of a directory-shaped artifact (a model with
//! its weights, tokenizer and config), with sizes, digests, media types and
//! user metadata, as canonical JSON.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::key::Key;

/// The `schema` value of manifests this version writes and reads.
pub const MANIFEST_SCHEMA: &str = "keelson.manifest/v1";

/// Most files one manifest may list.
pub const MAX_MANIFEST_FILES: usize = 100_000;

/// One file of an artifact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileEntry {
    /// Path inside the artifact, validated as a [`Key`].
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// Content digest: the blob holding the file.
    pub digest: Digest,
    /// Media type, e.g. `application/json`.
    pub media_type: String,
}

/// A manifest: the files of an artifact plus free-form string metadata.
///
/// Serialized canonically (files sorted by path, metadata sorted by key,
/// no whitespace), so equal manifests have equal digests.
///
/// ```
/// use std::collections::BTreeMap;
/// use keelson_artifact::{Algorithm, FileEntry, Manifest};
///
/// let file = FileEntry {
///     path: "model.onnx".into(),
///     size: 3,
///     digest: Algorithm::Sha256.digest(b"abc"),
///     media_type: "application/onnx".into(),
/// };
/// let manifest = Manifest::new(vec![file], BTreeMap::from([("framework".into(), "onnx".into())]))?;
/// let json = manifest.to_json();
/// assert_eq!(Manifest::from_json(&json)?, manifest);
/// # Ok::<(), keelson_artifact::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Always [`MANIFEST_SCHEMA`].
    pub schema: String,
    /// The files, sorted by path, paths unique.
    pub files: Vec<FileEntry>,
    /// User metadata (framework, metrics, the training run, ...).
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
}

impl Manifest {
    /// A manifest over `files` (sorted here) and `metadata`; paths are validated
    /// and must be unique.
    pub fn new(mut files: Vec<FileEntry>, metadata: BTreeMap<String, String>) -> Result<Self> {
        files.sort_by(|a, b| a.path.cmp(&b.path));
        let manifest = Manifest {
            schema: MANIFEST_SCHEMA.to_string(),
            files,
            metadata,
        };
        manifest.validate()?;
        Ok(manifest)
    }

    /// Parses and validates manifest JSON.
    pub fn from_json(bytes: &[u8]) -> Result<Self> {
        let manifest: Manifest = serde_json::from_slice(bytes)
            .map_err(|e| Error::document("manifest", e.to_string()))?;
        manifest.validate()?;
        Ok(manifest)
    }

    /// The canonical JSON bytes (what is stored and hashed).
    pub fn to_json(&self) -> Vec<u8> {
        // Serializing strings, numbers and maps with string keys cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// The total size of the files.
    pub fn total_size(&self) -> u64 {
        self.files.iter().map(|f| f.size).sum()
    }

    /// The entry for `path`, if listed.
    pub fn file(&self, path: &str) -> Option<&FileEntry> {
        self.files
            .binary_search_by(|f| f.path.as_str().cmp(path))
            .ok()
            .and_then(|i| self.files.get(i))
    }

    fn validate(&self) -> Result<()> {
        if self.schema != MANIFEST_SCHEMA {
            return Err(Error::document(
                "manifest",
                format!(
                    "field `schema` is {:?}, expected {MANIFEST_SCHEMA:?}",
                    self.schema
                ),
            ));
        }
        if self.files.len() > MAX_MANIFEST_FILES {
            return Err(Error::document(
                "manifest",
                format!(
                    "field `files` lists {} files, more than {MAX_MANIFEST_FILES}",
                    self.files.len()
                ),
            ));
        }
        for (i, file) in self.files.iter().enumerate() {
            Key::new(&file.path).map_err(|e| {
                Error::document("manifest", format!("field `files[{i}].path`: {e}"))
            })?;
            if file.media_type.len() > 255 || file.media_type.chars().any(char::is_control) {
                return Err(Error::document(
                    "manifest",
                    format!(
                        "field `files[{i}].media_type` of {:?} is malformed",
                        file.path
                    ),
                ));
            }
        }
        for pair in self.files.windows(2) {
            if let [a, b] = pair
                && a.path >= b.path
            {
                return Err(Error::document(
                    "manifest",
                    format!(
                        "field `files`: {:?} is listed twice or out of order",
                        b.path
                    ),
                ));
            }
        }
        // A file and a directory of the same name cannot both be materialized.
        let paths: std::collections::BTreeSet<&str> =
            self.files.iter().map(|f| f.path.as_str()).collect();
        for file in &self.files {
            for (i, _) in file.path.match_indices('/') {
                let dir = file.path.get(..i).unwrap_or_default();
                if paths.contains(dir) {
                    return Err(Error::document(
                        "manifest",
                        format!("field `files`: {dir:?} is both a file and a directory"),
                    ));
                }
            }
        }
        Ok(())
    }
}

/// A media type from a file name's extension; `application/octet-stream` when unknown.
///
/// ```
/// assert_eq!(keelson_artifact::manifest::media_type_for("config.json"), "application/json");
/// ```
pub fn media_type_for(path: &str) -> &'static str {
    let ext = path.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    match ext.as_deref() {
        Some("json") => "application/json",
        Some("yaml" | "yml") => "application/yaml",
        Some("txt" | "md") => "text/plain",
        Some("csv") => "text/csv",
        Some("parquet") => "application/vnd.apache.parquet",
        Some("onnx") => "application/onnx",
        Some("safetensors") => "application/vnd.safetensors",
        Some("gz") => "application/gzip",
        Some("tar") => "application/x-tar",
        Some("zip") => "application/zip",
        _ => "application/octet-stream",
    }
}
