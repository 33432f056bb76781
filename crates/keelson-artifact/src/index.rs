//! The per-chunk digest index written beside every blob, which lets range
//! reads verify the bytes they return without reading the whole blob.

use serde::{Deserialize, Serialize};

use blake3::hazmat::{
    ChainingValue, HasherExt, Mode, left_subtree_len, merge_subtrees_non_root, merge_subtrees_root,
};

use crate::digest::{Algorithm, Digest, hex, parse_hex};
use crate::error::{Error, Result};

/// Bytes per indexed chunk (1 MiB): a range read fetches and hashes at most
/// one extra chunk on each side of the requested range.
pub const INDEX_CHUNK_BYTES: u64 = 1 << 20;

/// How the entries of [`ChunkIndex::chunks`] hash their chunks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChunkForm {
    /// The BLAKE3 hash of each chunk on its own: the index of a SHA-256
    /// blob, and of every blob stored before subtree indexes.
    #[default]
    Standalone,
    /// The BLAKE3 chaining value of each chunk as a subtree of the blob's
    /// own BLAKE3 tree (a blob of one chunk: its hash): BLAKE3 blobs only.
    /// The entries combine into the blob's digest, so an index is checked
    /// against the content address whenever it is read, and a put hashes
    /// the bytes once for both.
    Subtree,
}

impl ChunkForm {
    fn is_standalone(&self) -> bool {
        *self == ChunkForm::Standalone
    }
}

/// A blob's chunk index: its size and a BLAKE3 hash of every
/// [`INDEX_CHUNK_BYTES`] chunk (the last one may be shorter), in the
/// [`ChunkForm`] it names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChunkIndex {
    /// The blob this index describes.
    pub digest: Digest,
    /// The blob's size in bytes.
    pub size: u64,
    /// Bytes per chunk.
    pub chunk_size: u64,
    /// One BLAKE3 hash per chunk, lowercase hex.
    pub chunks: Vec<String>,
    /// What the hashes are (absent in the JSON: standalone).
    #[serde(default, skip_serializing_if = "ChunkForm::is_standalone")]
    pub form: ChunkForm,
}

impl ChunkIndex {
    /// Parses and checks an index read from the store for `digest`; a
    /// subtree index must also combine into `digest`.
    pub(crate) fn from_json(bytes: &[u8], digest: &Digest) -> Result<Self> {
        let what = || format!("chunk index of blob {digest}");
        let index: ChunkIndex =
            serde_json::from_slice(bytes).map_err(|e| Error::document(what(), e.to_string()))?;
        if index.digest != *digest {
            return Err(Error::document(
                what(),
                format!("field `digest` is {}", index.digest),
            ));
        }
        if index.chunk_size == 0 {
            return Err(Error::document(what(), "field `chunk_size` is 0"));
        }
        let expected = index.size.div_ceil(index.chunk_size);
        if u64::try_from(index.chunks.len()).ok() != Some(expected) {
            return Err(Error::document(
                what(),
                format!(
                    "field `chunks` has {} entries, {expected} expected for {} bytes",
                    index.chunks.len(),
                    index.size
                ),
            ));
        }
        let mut values = Vec::with_capacity(index.chunks.len());
        for chunk in &index.chunks {
            match parse_hex::<32>(chunk) {
                Ok(value) => values.push(value),
                Err(_) => {
                    return Err(Error::document(
                        what(),
                        format!("field `chunks` has {chunk:?}, not 64 hex digits"),
                    ));
                }
            }
        }
        if index.form == ChunkForm::Subtree {
            if digest.algorithm() != Algorithm::Blake3 {
                return Err(Error::document(
                    what(),
                    "field `form` is subtree, which only a BLAKE3 blob can have",
                ));
            }
            if !index.chunk_size.is_power_of_two() || index.chunk_size < blake3::CHUNK_LEN as u64 {
                return Err(Error::document(
                    what(),
                    format!(
                        "field `chunk_size` is {}, not a power of two of at least {} for a subtree index",
                        index.chunk_size,
                        blake3::CHUNK_LEN
                    ),
                ));
            }
            if subtree_root(&values, index.size, index.chunk_size).as_ref() != Some(digest.bytes())
            {
                return Err(Error::Integrity {
                    what: what(),
                    expected: digest.to_string(),
                    actual: "chunk values that combine into another digest".into(),
                });
            }
        }
        Ok(index)
    }

    /// Checks `bytes`, which must be chunk number `chunk` of the blob.
    pub(crate) fn verify_chunk(&self, chunk: usize, bytes: &[u8]) -> Result<()> {
        let value = match self.form {
            ChunkForm::Subtree if self.chunks.len() > 1 => {
                let offset = (chunk as u64).saturating_mul(self.chunk_size);
                blake3::Hasher::new()
                    .set_input_offset(offset)
                    .update(bytes)
                    .finalize_non_root()
            }
            _ => *blake3::hash(bytes).as_bytes(),
        };
        let actual = hex(&value);
        match self.chunks.get(chunk) {
            Some(expected) if *expected == actual => Ok(()),
            expected => Err(Error::Integrity {
                what: format!("chunk {chunk} of blob {}", self.digest),
                expected: expected.cloned().unwrap_or_else(|| "no such chunk".into()),
                actual,
            }),
        }
    }
}

/// The BLAKE3 hash of a blob of `size` bytes from the chaining values of
/// its `chunk_size` chunks (one chunk: its hash), merged in BLAKE3's own
/// tree shape, where every left subtree holds a power of two of BLAKE3's
/// 1 KiB chunks; `None` when the values do not fit that shape.
fn subtree_root(values: &[ChainingValue], size: u64, chunk_size: u64) -> Option<[u8; 32]> {
    match values {
        [] => (size == 0).then(|| *blake3::hash(&[]).as_bytes()),
        [root] => Some(*root),
        _ => {
            let (left, right, left_len) = split(values, size, chunk_size)?;
            let left = subtree(left, left_len, chunk_size)?;
            let right = subtree(right, size - left_len, chunk_size)?;
            Some(*merge_subtrees_root(&left, &right, Mode::Hash).as_bytes())
        }
    }
}

fn subtree(values: &[ChainingValue], len: u64, chunk_size: u64) -> Option<ChainingValue> {
    match values {
        [] => None,
        [value] => Some(*value),
        _ => {
            let (left, right, left_len) = split(values, len, chunk_size)?;
            let left = subtree(left, left_len, chunk_size)?;
            let right = subtree(right, len - left_len, chunk_size)?;
            Some(merge_subtrees_non_root(&left, &right, Mode::Hash))
        }
    }
}

/// A subtree's left and right chunk values and the left's length in bytes.
type Split<'a> = (&'a [ChainingValue], &'a [ChainingValue], u64);

/// BLAKE3's split of a subtree of `len` bytes, as whole chunks.
fn split(values: &[ChainingValue], len: u64, chunk_size: u64) -> Option<Split<'_>> {
    // BLAKE3 splits only subtrees longer than one of its chunks, and the
    // size read from an index bounds nothing else.
    if len <= blake3::CHUNK_LEN as u64 || len > 1 << 62 {
        return None;
    }
    let left_len = left_subtree_len(len);
    let at = usize::try_from(left_len / chunk_size).ok()?;
    if !left_len.is_multiple_of(chunk_size) || at == 0 || at >= values.len() {
        return None;
    }
    let (left, right) = values.split_at(at);
    Some((left, right, left_len))
}

/// Builds a [`ChunkIndex`] from bytes fed in any slicing. A full chunk is
/// closed only when more bytes arrive, since a subtree index needs the
/// hash, not the chaining value, of a blob's only chunk.
pub(crate) struct IndexBuilder {
    form: ChunkForm,
    current: blake3::Hasher,
    filled: u64,
    size: u64,
    chunks: Vec<[u8; 32]>,
}

impl IndexBuilder {
    pub(crate) fn new(form: ChunkForm) -> Self {
        IndexBuilder {
            form,
            current: blake3::Hasher::new(),
            filled: 0,
            size: 0,
            chunks: Vec::new(),
        }
    }

    pub(crate) fn update(&mut self, mut bytes: &[u8]) {
        self.size += bytes.len() as u64;
        while !bytes.is_empty() {
            if self.filled == INDEX_CHUNK_BYTES {
                self.close();
            }
            let room = usize::try_from(INDEX_CHUNK_BYTES - self.filled).unwrap_or(usize::MAX);
            let (head, tail) = bytes.split_at(room.min(bytes.len()));
            self.current.update(head);
            self.filled += head.len() as u64;
            bytes = tail;
        }
    }

    /// Ends the current chunk, which is not the blob's last.
    fn close(&mut self) {
        let value = match self.form {
            ChunkForm::Standalone => *self.current.finalize().as_bytes(),
            ChunkForm::Subtree => self.current.finalize_non_root(),
        };
        self.chunks.push(value);
        self.current = blake3::Hasher::new();
        if self.form == ChunkForm::Subtree {
            self.current
                .set_input_offset(self.chunks.len() as u64 * INDEX_CHUNK_BYTES);
        }
        self.filled = 0;
    }

    /// The index of the blob `digest` (a standalone index: its digest
    /// comes from a separate hash).
    pub(crate) fn finish(mut self, digest: Digest) -> ChunkIndex {
        self.close_last();
        self.into_index(digest)
    }

    /// A subtree index and the BLAKE3 digest its chunks combine into;
    /// `None` for a standalone builder.
    pub(crate) fn finish_subtree(mut self) -> Option<(ChunkIndex, Digest)> {
        if self.form != ChunkForm::Subtree {
            return None;
        }
        self.close_last();
        let root = subtree_root(&self.chunks, self.size, INDEX_CHUNK_BYTES)?;
        let digest = Digest::new(Algorithm::Blake3, root);
        Some((self.into_index(digest), digest))
    }

    /// Ends the last chunk, if any bytes are in it: a subtree index's only
    /// chunk keeps its hash, any other its chaining value.
    fn close_last(&mut self) {
        if self.filled == 0 {
            return;
        }
        let last = match self.form {
            ChunkForm::Subtree if !self.chunks.is_empty() => self.current.finalize_non_root(),
            _ => *self.current.finalize().as_bytes(),
        };
        self.chunks.push(last);
        self.filled = 0;
    }

    fn into_index(self, digest: Digest) -> ChunkIndex {
        ChunkIndex {
            digest,
            size: self.size,
            chunk_size: INDEX_CHUNK_BYTES,
            chunks: self.chunks.iter().map(|c| hex(c)).collect(),
            form: self.form,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn index_json(size: u64, chunk_size: u64, chunks: usize) -> (Vec<u8>, Digest) {
        let digest = Algorithm::Blake3.digest(b"x");
        let value = hex(blake3::hash(b"y").as_bytes());
        let json = serde_json::json!({
            "digest": digest,
            "size": size,
            "chunk_size": chunk_size,
            "chunks": vec![value; chunks],
            "form": "subtree",
        });
        (serde_json::to_vec(&json).unwrap(), digest)
    }

    #[test]
    fn hostile_subtree_indexes_are_errors_not_panics() {
        for (size, chunk_size, chunks) in [
            (u64::MAX, 1 << 63, 2),
            ((1 << 63) + 5, 1 << 62, 3),
            (2048, 1024, 2),
            (5, 1024, 1),
            (0, 1024, 0),
            (3000, 1000, 3),
        ] {
            let (bytes, digest) = index_json(size, chunk_size, chunks);
            assert!(
                ChunkIndex::from_json(&bytes, &digest).is_err(),
                "{size} {chunk_size}"
            );
        }
    }

    #[test]
    fn subtree_form_needs_a_blake3_digest() {
        let (bytes, _) = index_json(5, 1024, 1);
        let text = String::from_utf8(bytes).unwrap();
        let sha = Algorithm::Sha256.digest(b"x");
        let blake = Algorithm::Blake3.digest(b"x");
        let text = text.replace(&blake.to_string(), &sha.to_string());
        let err = ChunkIndex::from_json(text.as_bytes(), &sha).unwrap_err();
        assert!(err.to_string().contains("form"), "{err}");
    }
}
