//! Ed25519 signatures of manifests.
//!
//! A signature is a detached JSON object stored at
//! `signatures/ALGO/MANIFEST_HEX/KEY_ID_HEX`:
//!
//! ```json
//! {"schema":"keelson.signature/v1","manifest":"sha256:…","key_id":"ed25519:…",
//!  "public_key":"<64 hex>","signature":"<128 hex>"}
//! ```
//!
//! The signed message is the UTF-8 text `keelson.signature/v1\n<manifest digest>\n`.
//! The manifest digest covers the manifest's bytes, and the manifest lists
//! every file's digest, so one signature vouches for the whole artifact.
//! `key_id` is `ed25519:` and the first 16 hex digits of the SHA-256 of the
//! public key; verification always uses the caller's key, never the one in
//! the object (it is there so a reader can tell who signed).

use ed25519_dalek::{Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::Digest as _;

use crate::digest::{Digest, hex, parse_hex};
use crate::error::{Error, Result};
use crate::store::ArtifactStore;

/// The `schema` value of signature objects.
pub const SIGNATURE_SCHEMA: &str = "keelson.signature/v1";

/// A detached signature of a manifest digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestSignature {
    /// Always [`SIGNATURE_SCHEMA`].
    pub schema: String,
    /// The signed manifest.
    pub manifest: Digest,
    /// The signer's key id (see [`key_id`]).
    pub key_id: String,
    /// The signer's public key, hex.
    pub public_key: String,
    /// The Ed25519 signature, hex.
    pub signature: String,
}

/// `ed25519:` and the first 16 hex digits of SHA-256 of the public key.
///
/// ```
/// let key = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
/// assert!(keelson_artifact::signature::key_id(&key.verifying_key()).starts_with("ed25519:"));
/// ```
pub fn key_id(key: &VerifyingKey) -> String {
    let hash = sha2::Sha256::digest(key.as_bytes());
    format!("ed25519:{}", hex(hash.get(..8).unwrap_or_default()))
}

fn message(manifest: &Digest) -> Vec<u8> {
    format!("{SIGNATURE_SCHEMA}\n{manifest}\n").into_bytes()
}

impl ManifestSignature {
    /// Signs a manifest digest.
    ///
    /// ```
    /// use keelson_artifact::{Algorithm, ManifestSignature};
    /// let key = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
    /// let manifest = Algorithm::Sha256.digest(b"{}");
    /// let sig = ManifestSignature::sign(&manifest, &key);
    /// sig.verify(&manifest, &key.verifying_key())?;
    /// let other = Algorithm::Sha256.digest(b"[]");
    /// assert!(sig.verify(&other, &key.verifying_key()).is_err());
    /// # Ok::<(), keelson_artifact::Error>(())
    /// ```
    pub fn sign(manifest: &Digest, key: &SigningKey) -> Self {
        let public = key.verifying_key();
        ManifestSignature {
            schema: SIGNATURE_SCHEMA.to_string(),
            manifest: *manifest,
            key_id: key_id(&public),
            public_key: hex(public.as_bytes()),
            signature: hex(&key.sign(&message(manifest)).to_bytes()),
        }
    }

    /// Checks that this is `key`'s signature of `manifest`.
    pub fn verify(&self, manifest: &Digest, key: &VerifyingKey) -> Result<()> {
        let fail = |reason: &str| Error::Signature {
            manifest: manifest.to_string(),
            key_id: key_id(key),
            reason: reason.to_string(),
        };
        if self.schema != SIGNATURE_SCHEMA {
            return Err(fail("unknown `schema`"));
        }
        if self.manifest != *manifest {
            return Err(fail("signs another manifest"));
        }
        if self.public_key != hex(key.as_bytes()) {
            return Err(fail("made with another key"));
        }
        let bytes = parse_hex::<64>(&self.signature)
            .map_err(|_| fail("`signature` is not 128 hex digits"))?;
        let signature = ed25519_dalek::Signature::from_bytes(&bytes);
        key.verify(&message(manifest), &signature)
            .map_err(|_| fail("does not verify"))
    }

    /// Parses a signature object.
    pub fn from_json(bytes: &[u8]) -> Result<Self> {
        serde_json::from_slice(bytes).map_err(|e| Error::document("signature", e.to_string()))
    }

    /// The signature object's JSON.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }
}

impl ArtifactStore {
    fn signature_path(&self, manifest: &Digest, key: &VerifyingKey) -> object_store::path::Path {
        let id = key_id(key);
        self.signature_dir(manifest)
            .join(id.trim_start_matches("ed25519:"))
    }

    /// Signs a stored manifest and stores the signature beside it.
    pub async fn sign_manifest(
        &self,
        manifest: &Digest,
        key: &SigningKey,
    ) -> Result<ManifestSignature> {
        self.get_manifest(manifest).await?;
        let signature = ManifestSignature::sign(manifest, key);
        self.write(
            &self.signature_path(manifest, &key.verifying_key()),
            signature.to_json(),
        )
        .await?;
        Ok(signature)
    }

    /// Reads `key`'s signature of a manifest from the store and verifies it.
    pub async fn verify_manifest(
        &self,
        manifest: &Digest,
        key: &VerifyingKey,
    ) -> Result<ManifestSignature> {
        let bytes = self
            .read_opt(&self.signature_path(manifest, key))
            .await?
            .ok_or_else(|| Error::Signature {
                manifest: manifest.to_string(),
                key_id: key_id(key),
                reason: "no signature by this key".into(),
            })?;
        let signature = ManifestSignature::from_json(&bytes)?;
        signature.verify(manifest, key)?;
        Ok(signature)
    }

    pub(crate) async fn read_signature(
        &self,
        manifest: &Digest,
        key: &VerifyingKey,
    ) -> Result<Option<bytes::Bytes>> {
        self.read_opt(&self.signature_path(manifest, key)).await
    }
}
