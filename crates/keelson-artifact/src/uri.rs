//! One parser for the URIs that name artifacts and stores.

use std::fmt;
use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::key::{ArtifactName, Key, Label, Tenant, shorten};

/// Longest URI accepted, in bytes.
pub const MAX_URI_BYTES: usize = 2048;

/// A parsed URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArtifactUri {
    /// `keelson://TENANT/NAME[@LABEL]`: an artifact (and optionally a version
    /// or alias) in a tenant of a keelson store.
    Keelson {
        /// The tenant.
        tenant: Tenant,
        /// The artifact.
        name: ArtifactName,
        /// The version or alias, if given.
        label: Option<Label>,
    },
    /// `s3://BUCKET[/PREFIX]`: a bucket and an optional key prefix.
    S3 {
        /// The bucket (3–63 of `a-z`, `0-9`, `.`, `-`, starting and ending with a letter or digit).
        bucket: String,
        /// The prefix inside it.
        prefix: Option<Key>,
    },
    /// `file:///ABSOLUTE/PATH`: a local directory.
    File {
        /// The absolute path.
        path: PathBuf,
    },
}

impl ArtifactUri {
    /// Parses `keelson://…`, `s3://…` and `file:///…` URIs. Schemes are
    /// case-insensitive; everything else is checked by the same rules as
    /// [`Key`], [`Tenant`], [`ArtifactName`] and [`Label`].
    ///
    /// ```
    /// use keelson_artifact::ArtifactUri;
    /// let uri = ArtifactUri::parse("keelson://team-a/models/fraud-detector@v3")?;
    /// assert_eq!(uri.to_string(), "keelson://team-a/models/fraud-detector@v3");
    /// assert!(matches!(ArtifactUri::parse("s3://my-bucket/ml/store")?, ArtifactUri::S3 { .. }));
    /// assert!(matches!(ArtifactUri::parse("file:///var/lib/keelson")?, ArtifactUri::File { .. }));
    /// let err = ArtifactUri::parse("file://../etc").unwrap_err();
    /// assert!(err.to_string().contains("file://../etc"));
    /// # Ok::<(), keelson_artifact::Error>(())
    /// ```
    pub fn parse(uri: &str) -> Result<Self> {
        let fail = |reason: String| Error::InvalidUri {
            uri: shorten(uri),
            reason,
        };
        if uri.len() > MAX_URI_BYTES {
            return Err(fail(format!(
                "is {} bytes, more than {MAX_URI_BYTES}",
                uri.len()
            )));
        }
        if let Some(c) = uri.chars().find(|c| c.is_control() || *c == ' ') {
            return Err(fail(format!(
                "contains {c:?}; URIs have no spaces or control characters"
            )));
        }
        let (scheme, rest) = uri
            .split_once("://")
            .ok_or_else(|| fail("expected `scheme://…`".into()))?;
        let nested = |e: Error| fail(e.to_string());
        match scheme.to_ascii_lowercase().as_str() {
            "keelson" => {
                let (tenant, path) = rest
                    .split_once('/')
                    .ok_or_else(|| fail("expected `keelson://TENANT/NAME[@LABEL]`".into()))?;
                let tenant = Tenant::new(tenant).map_err(nested)?;
                let (name, label) = match path.rsplit_once('@') {
                    Some((name, label)) => (name, Some(Label::new(label).map_err(nested)?)),
                    None => (path, None),
                };
                Ok(ArtifactUri::Keelson {
                    tenant,
                    name: ArtifactName::new(name).map_err(nested)?,
                    label,
                })
            }
            "s3" => {
                let (bucket, prefix) = match rest.split_once('/') {
                    Some((bucket, "")) => (bucket, None),
                    Some((bucket, prefix)) => (bucket, Some(Key::new(prefix).map_err(nested)?)),
                    None => (rest, None),
                };
                check_bucket(bucket).map_err(fail)?;
                Ok(ArtifactUri::S3 {
                    bucket: bucket.to_string(),
                    prefix,
                })
            }
            "file" => {
                let path = rest.strip_prefix("localhost").unwrap_or(rest);
                let relative = path.strip_prefix('/').ok_or_else(|| {
                    fail("expected an absolute path, `file:///PATH` (empty host)".into())
                })?;
                if relative.is_empty() {
                    return Ok(ArtifactUri::File {
                        path: PathBuf::from("/"),
                    });
                }
                let relative = relative.strip_suffix('/').unwrap_or(relative);
                Key::new(relative).map_err(nested)?;
                Ok(ArtifactUri::File {
                    path: PathBuf::from(format!("/{relative}")),
                })
            }
            other => Err(fail(format!(
                "unknown scheme {other:?} (expected `keelson`, `s3` or `file`)"
            ))),
        }
    }
}

fn check_bucket(bucket: &str) -> Result<(), String> {
    if !(3..=63).contains(&bucket.len()) {
        return Err(format!("bucket {bucket:?} must be 3 to 63 characters long"));
    }
    if let Some(c) = bucket
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-')))
    {
        return Err(format!("bucket {bucket:?} contains {c:?}"));
    }
    let edge_ok = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    if !edge_ok(bucket.chars().next()) || !edge_ok(bucket.chars().last()) {
        return Err(format!(
            "bucket {bucket:?} must start and end with a letter or digit"
        ));
    }
    if bucket.contains("..") {
        return Err(format!("bucket {bucket:?} contains `..`"));
    }
    Ok(())
}

impl fmt::Display for ArtifactUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ArtifactUri::Keelson {
                tenant,
                name,
                label,
            } => {
                write!(f, "keelson://{tenant}/{name}")?;
                match label {
                    Some(label) => write!(f, "@{label}"),
                    None => Ok(()),
                }
            }
            ArtifactUri::S3 { bucket, prefix } => match prefix {
                Some(prefix) => write!(f, "s3://{bucket}/{prefix}"),
                None => write!(f, "s3://{bucket}"),
            },
            ArtifactUri::File { path } => write!(f, "file://{}", path.display()),
        }
    }
}
