//! Validated names: file keys inside an artifact, tenants, artifact names,
//! version and alias labels, and `name@label` references.
//!
//! Every string that ends up in an object key or a local path passes through
//! here first, so no input can climb out of its tenant's prefix or out of a
//! download directory.

use std::fmt;

use crate::error::{Error, Result};

/// Longest key (file path inside an artifact), in bytes.
pub const MAX_KEY_BYTES: usize = 1024;
/// Longest segment of a key, in bytes (the usual file-name limit).
pub const MAX_SEGMENT_BYTES: usize = 255;
/// Longest tenant, in bytes.
pub const MAX_TENANT_BYTES: usize = 63;
/// Longest artifact name, in bytes.
pub const MAX_NAME_BYTES: usize = 256;
/// Longest version or alias label, in bytes.
pub const MAX_LABEL_BYTES: usize = 128;

/// A relative, `/`-separated path of a file inside an artifact
/// (`weights/model.safetensors`).
///
/// Rejected: empty keys, absolute paths (`/x`, `C:\x`), backslashes, empty
/// segments (`a//b`, trailing `/`), `.` and `..` segments, NUL and every other
/// control character, keys over [`MAX_KEY_BYTES`] and segments over
/// [`MAX_SEGMENT_BYTES`].
///
/// ```
/// use keelson_artifact::Key;
/// assert_eq!(Key::new("weights/model.bin")?.as_str(), "weights/model.bin");
/// let err = Key::new("../etc/passwd").unwrap_err();
/// assert!(err.to_string().contains("../etc/passwd") && err.to_string().contains(".."));
/// assert!(Key::new("/etc/passwd").is_err());
/// assert!(Key::new("a\0b").is_err());
/// # Ok::<(), keelson_artifact::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key(String);

impl Key {
    /// Validates `key`.
    pub fn new(key: &str) -> Result<Self> {
        check_key(key).map_err(|reason| Error::InvalidKey {
            key: shorten(key),
            reason,
        })?;
        Ok(Key(key.to_string()))
    }

    /// The key as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The segments between slashes.
    pub fn segments(&self) -> impl Iterator<Item = &str> {
        self.0.split('/')
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

fn check_key(key: &str) -> Result<(), String> {
    if key.is_empty() {
        return Err("is empty".into());
    }
    if key.len() > MAX_KEY_BYTES {
        return Err(format!("is {} bytes, more than {MAX_KEY_BYTES}", key.len()));
    }
    if let Some((i, c)) = key.char_indices().find(|(_, c)| c.is_control()) {
        return Err(format!(
            "contains control character U+{:04X} at byte {i}",
            u32::from(c)
        ));
    }
    if key.starts_with('/') {
        return Err("is an absolute path".into());
    }
    if key.contains('\\') {
        return Err("contains a backslash".into());
    }
    let first = key.split('/').next().unwrap_or_default();
    if first.len() == 2 && first.ends_with(':') {
        return Err("starts with a drive letter".into());
    }
    for segment in key.split('/') {
        match segment {
            "" => return Err("has an empty segment (`//` or a trailing `/`)".into()),
            "." | ".." => return Err(format!("has a `{segment}` segment")),
            s if s.len() > MAX_SEGMENT_BYTES => {
                return Err(format!(
                    "has a segment of {} bytes, more than {MAX_SEGMENT_BYTES}",
                    s.len()
                ));
            }
            _ => {}
        }
    }
    Ok(())
}

/// Checks one segment of a tenant, artifact name or label: ASCII letters,
/// digits, `.`, `_`, `-`, not starting with `.`.
fn check_plain_segment(segment: &str) -> Result<(), String> {
    if segment.is_empty() {
        return Err("has an empty segment".into());
    }
    if segment.starts_with('.') {
        return Err(format!("segment {segment:?} starts with `.`"));
    }
    if let Some(c) = segment
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        return Err(format!(
            "contains {c:?}; only ASCII letters, digits, `.`, `_` and `-` are allowed"
        ));
    }
    Ok(())
}

fn checked(what: &'static str, value: &str, max: usize, multi_segment: bool) -> Result<String> {
    let fail = |reason: String| Error::InvalidName {
        what,
        value: shorten(value),
        reason,
    };
    if value.is_empty() {
        return Err(fail("is empty".into()));
    }
    if value.len() > max {
        return Err(fail(format!("is {} bytes, more than {max}", value.len())));
    }
    if multi_segment {
        if value.starts_with('/') {
            return Err(fail("is an absolute path".into()));
        }
        for segment in value.split('/') {
            check_plain_segment(segment).map_err(fail)?;
        }
    } else {
        check_plain_segment(value).map_err(fail)?;
    }
    Ok(value.to_string())
}

macro_rules! plain_name {
    ($(#[$doc:meta])* $ty:ident, $what:literal, $max:expr, $multi:expr) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $ty(String);

        impl $ty {
            /// Validates the text.
            pub fn new(value: &str) -> Result<Self> {
                checked($what, value, $max, $multi).map($ty)
            }

            /// The text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&self.0, f)
            }
        }
    };
}

plain_name!(
    /// A tenant (namespace): one segment of ASCII letters, digits, `.`, `_`,
    /// `-`, at most [`MAX_TENANT_BYTES`], not starting with `.`. Every object of
    /// a store handle lives under its tenant's prefix.
    ///
    /// ```
    /// use keelson_artifact::Tenant;
    /// assert!(Tenant::new("team-a").is_ok());
    /// assert!(Tenant::new("team-a/../team-b").is_err());
    /// assert!(Tenant::new("..").is_err());
    /// ```
    Tenant, "tenant", MAX_TENANT_BYTES, false
);

plain_name!(
    /// An artifact name: `/`-separated segments of ASCII letters, digits,
    /// `.`, `_`, `-` (`models/fraud-detector`), at most [`MAX_NAME_BYTES`].
    ///
    /// ```
    /// use keelson_artifact::ArtifactName;
    /// assert!(ArtifactName::new("models/fraud-detector").is_ok());
    /// assert!(ArtifactName::new("models/../secrets").is_err());
    /// assert!(ArtifactName::new("models/x@v1").is_err());
    /// ```
    ArtifactName, "artifact name", MAX_NAME_BYTES, true
);

plain_name!(
    /// A version or alias label (`v3`, `production`): one segment of ASCII
    /// letters, digits, `.`, `_`, `-`, at most [`MAX_LABEL_BYTES`].
    ///
    /// ```
    /// use keelson_artifact::Label;
    /// assert!(Label::new("v1.2.0").is_ok());
    /// assert!(Label::new("v1/evil").is_err());
    /// ```
    Label, "label", MAX_LABEL_BYTES, false
);

/// `name@label`: an artifact name and a version or alias label
/// (`models/fraud-detector@v3`, `models/fraud-detector@production`).
///
/// ```
/// use keelson_artifact::Reference;
/// let r = Reference::parse("models/fraud-detector@v3")?;
/// assert_eq!((r.name.as_str(), r.label.as_str()), ("models/fraud-detector", "v3"));
/// assert_eq!(r.to_string(), "models/fraud-detector@v3");
/// assert!(Reference::parse("models/fraud-detector").is_err());
/// # Ok::<(), keelson_artifact::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reference {
    /// The artifact.
    pub name: ArtifactName,
    /// The version or alias.
    pub label: Label,
}

impl Reference {
    /// Parses `name@label`.
    pub fn parse(text: &str) -> Result<Self> {
        let (name, label) = text.rsplit_once('@').ok_or_else(|| Error::InvalidName {
            what: "reference",
            value: shorten(text),
            reason: "expected `name@version` or `name@alias`".into(),
        })?;
        Ok(Reference {
            name: ArtifactName::new(name)?,
            label: Label::new(label)?,
        })
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.name, self.label)
    }
}

/// Error messages quote the offending value; a megabyte of it helps nobody.
pub(crate) fn shorten(value: &str) -> String {
    const MAX: usize = 200;
    if value.len() <= MAX {
        return value.to_string();
    }
    let mut end = MAX;
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", value.get(..end).unwrap_or_default())
}
