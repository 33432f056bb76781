//! Content digests: SHA-256 (the default) and BLAKE3, and their text form
//! `sha256:<64 hex>` / `blake3:<64 hex>`.

use std::fmt;
use std::str::FromStr;

use sha2::Digest as _;

use crate::error::{Error, Result};

/// A hash algorithm for content addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum Algorithm {
    /// SHA-256: the OCI / Docker / DVC convention, hardware-accelerated on most CPUs.
    #[default]
    Sha256,
    /// BLAKE3: faster in software, same 32-byte output.
    Blake3,
}

impl Algorithm {
    /// The lowercase name used in digests and object keys.
    ///
    /// ```
    /// assert_eq!(keelson_artifact::Algorithm::Blake3.name(), "blake3");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Sha256 => "sha256",
            Algorithm::Blake3 => "blake3",
        }
    }

    /// Hashes `bytes` in one go.
    ///
    /// ```
    /// use keelson_artifact::Algorithm;
    /// let d = Algorithm::Sha256.digest(b"");
    /// assert_eq!(d.to_string(), "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    /// ```
    pub fn digest(self, bytes: &[u8]) -> Digest {
        let mut h = Hasher::new(self);
        h.update(bytes);
        h.finish()
    }

    fn from_name(name: &str) -> Option<Self> {
        match name {
            "sha256" => Some(Algorithm::Sha256),
            "blake3" => Some(Algorithm::Blake3),
            _ => None,
        }
    }
}

/// A content digest: an algorithm and 32 bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest {
    algorithm: Algorithm,
    bytes: [u8; 32],
}

impl Digest {
    /// A digest from its parts.
    pub fn new(algorithm: Algorithm, bytes: [u8; 32]) -> Self {
        Digest { algorithm, bytes }
    }

    /// The algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The 32 raw bytes.
    pub fn bytes(&self) -> &[u8; 32] {
        &self.bytes
    }

    /// The lowercase hex of the bytes (64 characters), as used in object keys.
    ///
    /// ```
    /// let d = keelson_artifact::Algorithm::Blake3.digest(b"abc");
    /// assert_eq!(d.hex().len(), 64);
    /// ```
    pub fn hex(&self) -> String {
        hex(&self.bytes)
    }

    /// Parses the text form `sha256:<hex>` or `blake3:<hex>` (lowercase hex).
    ///
    /// ```
    /// use keelson_artifact::Digest;
    /// let d: Digest = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855".parse()?;
    /// assert_eq!(d.algorithm().name(), "sha256");
    /// assert!("md5:abc".parse::<Digest>().is_err());
    /// # Ok::<(), keelson_artifact::Error>(())
    /// ```
    pub fn parse(text: &str) -> Result<Self> {
        let err = |reason: &str| Error::InvalidDigest {
            text: text.chars().take(200).collect(),
            reason: reason.to_string(),
        };
        let (name, hex_part) = text
            .split_once(':')
            .ok_or_else(|| err("expected `<algorithm>:<hex>`"))?;
        let algorithm = Algorithm::from_name(name)
            .ok_or_else(|| err("unknown algorithm (expected `sha256` or `blake3`)"))?;
        let bytes = parse_hex32(hex_part).map_err(err)?;
        Ok(Digest { algorithm, bytes })
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.algorithm.name(), self.hex())
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for Digest {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Digest::parse(s)
    }
}

impl serde::Serialize for Digest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Digest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Digest::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// An incremental hasher for either algorithm.
#[derive(Clone)]
pub struct Hasher(HasherState);

#[derive(Clone)]
enum HasherState {
    Sha256(sha2::Sha256),
    Blake3(Box<blake3::Hasher>),
}

impl Hasher {
    /// A fresh hasher.
    ///
    /// ```
    /// use keelson_artifact::{Algorithm, Hasher};
    /// let mut h = Hasher::new(Algorithm::Sha256);
    /// h.update(b"ab");
    /// h.update(b"c");
    /// assert_eq!(h.finish(), Algorithm::Sha256.digest(b"abc"));
    /// ```
    pub fn new(algorithm: Algorithm) -> Self {
        Hasher(match algorithm {
            Algorithm::Sha256 => HasherState::Sha256(sha2::Sha256::new()),
            Algorithm::Blake3 => HasherState::Blake3(Box::new(blake3::Hasher::new())),
        })
    }

    /// Feeds bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        match &mut self.0 {
            HasherState::Sha256(h) => h.update(bytes),
            HasherState::Blake3(h) => {
                h.update(bytes);
            }
        }
    }

    /// The digest of everything fed.
    pub fn finish(self) -> Digest {
        match self.0 {
            HasherState::Sha256(h) => Digest::new(Algorithm::Sha256, h.finalize().into()),
            HasherState::Blake3(h) => Digest::new(Algorithm::Blake3, *h.finalize().as_bytes()),
        }
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    out
}

/// Lowercase hex of exactly `N` bytes.
pub(crate) fn parse_hex<const N: usize>(text: &str) -> Result<[u8; N], &'static str> {
    if text.len() != N * 2 {
        return Err("wrong length of hex digits");
    }
    let mut out = [0u8; N];
    for (slot, pair) in out.iter_mut().zip(text.as_bytes().chunks_exact(2)) {
        let nibble = |c: u8| match c {
            b'0'..=b'9' => Ok(c - b'0'),
            b'a'..=b'f' => Ok(c - b'a' + 10),
            _ => Err("not lowercase hex"),
        };
        if let [hi, lo] = pair {
            *slot = (nibble(*hi)? << 4) | nibble(*lo)?;
        }
    }
    Ok(out)
}

fn parse_hex32(text: &str) -> Result<[u8; 32], &'static str> {
    parse_hex::<32>(text).map_err(|e| {
        if e == "wrong length of hex digits" {
            "expected 64 lowercase hex digits"
        } else {
            e
        }
    })
}
