//! The per-chunk digest index written beside every blob, which lets range
//! reads verify the bytes they return without reading the whole blob.

use serde::{Deserialize, Serialize};

use crate::digest::{Digest, hex, parse_hex};
use crate::error::{Error, Result};

/// Bytes per indexed chunk (1 MiB): a range read fetches and hashes at most
/// one extra chunk on each side of the requested range.
pub const INDEX_CHUNK_BYTES: u64 = 1 << 20;

/// A blob's chunk index: its size and the BLAKE3 hash of every
/// [`INDEX_CHUNK_BYTES`] chunk (the last one may be shorter).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChunkIndex {
    /// The blob this index describes.
    pub digest: Digest,
    /// The blob's size in bytes.
    pub size: u64,
    /// Bytes per chunk.
    pub chunk_size: u64,
    /// BLAKE3 of each chunk, lowercase hex.
    pub chunks: Vec<String>,
}

impl ChunkIndex {
    /// Parses and checks an index read from the store for `digest`.
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
        if let Some(bad) = index.chunks.iter().find(|c| parse_hex::<32>(c).is_err()) {
            return Err(Error::document(
                what(),
                format!("field `chunks` has {bad:?}, not 64 hex digits"),
            ));
        }
        Ok(index)
    }

    /// Checks `bytes`, which must be chunk number `chunk` of the blob.
    pub(crate) fn verify_chunk(&self, chunk: usize, bytes: &[u8]) -> Result<()> {
        let actual = hex(blake3::hash(bytes).as_bytes());
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

/// Builds a [`ChunkIndex`] from bytes fed in any slicing.
pub(crate) struct IndexBuilder {
    current: blake3::Hasher,
    filled: u64,
    size: u64,
    chunks: Vec<String>,
}

impl IndexBuilder {
    pub(crate) fn new() -> Self {
        IndexBuilder {
            current: blake3::Hasher::new(),
            filled: 0,
            size: 0,
            chunks: Vec::new(),
        }
    }

    pub(crate) fn update(&mut self, mut bytes: &[u8]) {
        self.size += bytes.len() as u64;
        while !bytes.is_empty() {
            let room = usize::try_from(INDEX_CHUNK_BYTES - self.filled).unwrap_or(usize::MAX);
            let (head, tail) = bytes.split_at(room.min(bytes.len()));
            self.current.update(head);
            self.filled += head.len() as u64;
            bytes = tail;
            if self.filled == INDEX_CHUNK_BYTES {
                self.chunks.push(hex(self.current.finalize().as_bytes()));
                self.current.reset();
                self.filled = 0;
            }
        }
    }

    pub(crate) fn finish(mut self, digest: Digest) -> ChunkIndex {
        if self.filled > 0 {
            self.chunks.push(hex(self.current.finalize().as_bytes()));
        }
        ChunkIndex {
            digest,
            size: self.size,
            chunk_size: INDEX_CHUNK_BYTES,
            chunks: self.chunks,
        }
    }
}
