//! Reading manifests: multi-document YAML and JSON into [`AnyResource`]s.
//!
//! Every document is first parsed into a `serde_json::Value` (so dispatch on
//! `apiVersion`/`kind` costs one parse), then read into the typed kind. Fields the
//! typed kind does not declare are collected in [`Document::ignored_fields`]
//! instead of failing: the Kubernetes API server prunes them the same way, and a
//! tool can show them to the user. When a document does not fit its kind, the
//! error names the file, the document, the line and column where the YAML parser
//! knows them, and the field path.

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::any::{AnyResource, decode_typed, is_core_api_version};
use crate::error::{Error, Location, Result};

/// Caps that bound the work and memory one input can cost.
///
/// The YAML and JSON parsers also stop at 128 levels of nesting, and the YAML
/// parser refuses alias expansions that would repeat the input many times over
/// ("billion laughs").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest input accepted, in bytes. Default 64 MiB.
    pub max_bytes: usize,
    /// Most documents in one input. Default 10 000.
    pub max_documents: usize,
    /// Deepest nesting of mappings and sequences in one document. Default 100.
    pub max_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 64 << 20,
            max_documents: 10_000,
            max_depth: 100,
        }
    }
}

/// One document of an input, read.
#[derive(Clone, Debug, PartialEq)]
pub struct Document {
    /// Position in the input, counted from 1 (empty documents count too).
    pub index: usize,
    /// The object, typed where this crate knows its kind.
    pub resource: AnyResource,
    /// Paths of fields the typed kind does not declare (e.g. `spec.replicaz`).
    /// They are not kept: writing the resource back leaves them out, as the API
    /// server's pruning would.
    pub ignored_fields: Vec<String>,
    /// The document exactly as parsed, before typing.
    pub raw: Value,
}

/// Reads manifests with configurable [`Limits`].
#[derive(Clone, Debug, Default)]
pub struct Loader {
    limits: Limits,
}

/// Reads every document of a YAML or JSON text; `source` names the input in errors.
///
/// Fails on the first document that cannot be read; see [`Loader::load_all`] for
/// per-document results.
///
/// ```
/// use keelson_crd::AnyResource;
///
/// let docs = keelson_crd::load("job.yaml", r#"
/// apiVersion: kubeflow.org/v1
/// kind: PyTorchJob
/// metadata: { name: mnist, namespace: team-a }
/// spec:
///   pytorchReplicaSpecs:
///     Worker:
///       replicas: 2
///       template:
///         spec:
///           containers: [{ name: pytorch, image: "pytorch/mnist:1.0" }]
/// ---
/// apiVersion: v1
/// kind: ConfigMap
/// metadata: { name: settings }
/// data: { lr: "0.01" }
/// "#).unwrap();
/// assert_eq!(docs.len(), 2);
/// let AnyResource::PyTorchJob(job) = &docs[0].resource else { panic!("typed") };
/// let worker = &job.spec.as_ref().unwrap().pytorch_replica_specs["Worker"];
/// assert_eq!(worker.replicas, Some(2));
/// assert!(matches!(docs[1].resource, AnyResource::Core(_)));
/// ```
pub fn load(source: &str, text: &str) -> Result<Vec<Document>> {
    Loader::default().load(source, text)
}

/// Reads every document of a file; errors name the file.
pub fn load_file(path: impl AsRef<Path>) -> Result<Vec<Document>> {
    Loader::default().load_file(path)
}

/// Every `.yaml`, `.yml` and `.json` file under `dir`, recursively, sorted.
pub fn manifest_files(dir: impl AsRef<Path>) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.as_ref().to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = std::fs::read_dir(&d).map_err(|source| Error::Io {
            path: d.display().to_string(),
            source,
        })?;
        for entry in entries {
            let entry = entry.map_err(|source| Error::Io {
                path: d.display().to_string(),
                source,
            })?;
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("yaml" | "yml" | "json")
            ) {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

impl Loader {
    /// A loader with default [`Limits`].
    pub fn new() -> Self {
        Self::default()
    }

    /// A loader with the given limits.
    pub fn with_limits(limits: Limits) -> Self {
        Loader { limits }
    }

    /// The limits in force.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Reads every document, failing on the first that cannot be read.
    pub fn load(&self, source: &str, text: &str) -> Result<Vec<Document>> {
        self.load_all(source, text).into_iter().collect()
    }

    /// Reads a file.
    pub fn load_file(&self, path: impl AsRef<Path>) -> Result<Vec<Document>> {
        let path = path.as_ref();
        let name = path.display().to_string();
        let meta = std::fs::metadata(path).map_err(|source| Error::Io {
            path: name.clone(),
            source,
        })?;
        if meta.len() > self.limits.max_bytes as u64 {
            return Err(too_large(&name, meta.len(), self.limits.max_bytes));
        }
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: name.clone(),
            source,
        })?;
        self.load(&name, &text)
    }

    /// Reads every document; one result per non-empty document, so one bad
    /// document does not hide the others. A syntax error ends the input (the
    /// parser cannot resynchronize) and is the last result.
    pub fn load_all(&self, source: &str, text: &str) -> Vec<Result<Document>> {
        if text.len() > self.limits.max_bytes {
            return vec![Err(too_large(
                source,
                text.len() as u64,
                self.limits.max_bytes,
            ))];
        }
        let trimmed = text.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
        let format = if trimmed.starts_with('{') || trimmed.starts_with('[') {
            Format::Json
        } else {
            Format::Yaml
        };
        let ctx = Context {
            source,
            text,
            limits: self.limits,
        };
        let mut out = Vec::new();
        match format {
            Format::Json => match serde_json::from_str::<Value>(trimmed) {
                Ok(value) => ctx.document(1, value, &mut out),
                Err(e) => out.push(Err(Error::Syntax {
                    location: Location {
                        source: Some(source.to_owned()),
                        document: Some(1),
                        line: Some(e.line()),
                        column: Some(e.column()),
                        path: None,
                    },
                    message: e.to_string(),
                })),
            },
            Format::Yaml => {
                for (i, doc) in serde_yaml_ng::Deserializer::from_str(text).enumerate() {
                    let index = i + 1;
                    if index > self.limits.max_documents {
                        out.push(Err(Error::LimitExceeded {
                            location: ctx.location(index),
                            message: format!(
                                "more than {} documents (Limits::max_documents)",
                                self.limits.max_documents
                            ),
                        }));
                        break;
                    }
                    match <Value as serde::Deserialize>::deserialize(doc) {
                        Ok(value) => ctx.document(index, value, &mut out),
                        Err(e) => {
                            let mut location = ctx.location(index);
                            if let Some(l) = e.location() {
                                location.line = Some(l.line());
                                location.column = Some(l.column());
                            }
                            out.push(Err(Error::Syntax {
                                location,
                                message: strip_location(&e.to_string()),
                            }));
                            break;
                        }
                    }
                }
            }
        }
        out
    }
}

fn too_large(source: &str, len: u64, max: usize) -> Error {
    Error::LimitExceeded {
        location: Location {
            source: Some(source.to_owned()),
            ..Location::default()
        },
        message: format!("input is {len} bytes, more than {max} (Limits::max_bytes)"),
    }
}

/// serde_yaml's messages end in " at line L column C"; the location is reported apart.
fn strip_location(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Yaml,
    Json,
}

struct Context<'a> {
    source: &'a str,
    text: &'a str,
    limits: Limits,
}

impl Context<'_> {
    fn location(&self, index: usize) -> Location {
        Location {
            source: Some(self.source.to_owned()),
            document: Some(index),
            ..Location::default()
        }
    }

    fn document(&self, index: usize, value: Value, out: &mut Vec<Result<Document>>) {
        if value.is_null() {
            return;
        }
        if depth(&value) > self.limits.max_depth {
            out.push(Err(Error::LimitExceeded {
                location: self.location(index),
                message: format!(
                    "nesting deeper than {} levels (Limits::max_depth)",
                    self.limits.max_depth
                ),
            }));
            return;
        }
        // `kubectl get -o yaml` writes a `List` whose items are the objects.
        if value.get("kind").and_then(Value::as_str) == Some("List")
            && let Some(items) = value.get("items").and_then(Value::as_array)
        {
            for item in items {
                out.push(self.object(index, item.clone(), false));
            }
            return;
        }
        out.push(self.object(index, value, true));
    }

    fn object(&self, index: usize, value: Value, locatable: bool) -> Result<Document> {
        let type_meta = |field: &str| -> Result<String> {
            match value.get(field) {
                Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
                Some(_) => Err(Error::MissingTypeMeta {
                    location: Location {
                        path: Some(field.to_owned()),
                        ..self.location(index)
                    },
                    message: format!("`{field}` must be a non-empty string"),
                }),
                None => Err(Error::MissingTypeMeta {
                    location: self.location(index),
                    message: if value.is_object() {
                        format!("document has no `{field}`")
                    } else {
                        "document is not a mapping".to_owned()
                    },
                }),
            }
        };
        let api_version = type_meta("apiVersion")?;
        let kind = type_meta("kind")?;
        let mut decoder = Decoder {
            ctx: self,
            index,
            value: &value,
            locatable,
            ignored: Vec::new(),
        };
        // Serde's derived code for kinds as large as InferenceService needs more
        // than the 2 MiB of a spawned thread in unoptimized builds; grow the stack
        // on demand rather than overflow it.
        let typed = stacker::maybe_grow(STACK_RED_ZONE, STACK_SEGMENT, || {
            decode_typed(&api_version, &kind, &mut decoder)
        });
        let resource = match typed {
            Some(result) => result?,
            None => {
                let object = decoder.decode::<kube_core::DynamicObject>()?;
                decoder.ignored.clear();
                if is_core_api_version(&api_version) {
                    AnyResource::Core(Box::new(object))
                } else {
                    AnyResource::Unknown(Box::new(object))
                }
            }
        };
        let ignored_fields = std::mem::take(&mut decoder.ignored);
        Ok(Document {
            index,
            resource,
            ignored_fields,
            raw: value,
        })
    }
}

/// Stack the typed decoding may need; below it, decoding moves to a new segment.
pub(crate) const STACK_RED_ZONE: usize = 4 << 20;
/// Size of the segment decoding moves to.
pub(crate) const STACK_SEGMENT: usize = 16 << 20;

/// Reads one document's value into a typed kind, collecting ignored fields and
/// turning failures into errors with a field path and, for YAML, a line.
pub(crate) struct Decoder<'a> {
    ctx: &'a Context<'a>,
    index: usize,
    value: &'a Value,
    locatable: bool,
    ignored: Vec<String>,
}

impl Decoder<'_> {
    // Never inlined: `decode_typed` matches over every kind, and inlining each
    // kind's deserializer into that one function makes release builds take
    // many times longer.
    #[inline(never)]
    pub(crate) fn decode<T: DeserializeOwned>(&mut self) -> Result<T> {
        let mut ignored = Vec::new();
        let mut on_ignored = |path: serde_ignored::Path<'_>| {
            let path = render_ignored(&path);
            if path != "apiVersion" && path != "kind" {
                ignored.push(path);
            }
        };
        let de = serde_ignored::Deserializer::new(self.value, &mut on_ignored);
        let result = serde_path_to_error::deserialize::<_, T>(de);
        match result {
            Ok(v) => {
                self.ignored = ignored;
                Ok(v)
            }
            Err(e) => {
                let path = e.path().to_string();
                let position = if self.locatable {
                    locate(self.ctx.text, self.index, e.path())
                } else {
                    None
                };
                let message = e.into_inner().to_string();
                let mut location = Location {
                    path: Some(path),
                    ..self.ctx.location(self.index)
                };
                if let Some((line, column)) = position {
                    location.line = Some(line);
                    location.column = Some(column);
                }
                Err(Error::Shape { location, message })
            }
        }
    }
}

/// Line and column of the node at `path` in document `index` (from 1) of `text`.
///
/// The document is read again by the YAML parser (which also reads JSON), walking
/// only along `path`; at the node it fails on purpose, and the parser stamps that
/// error with the node's position. This walk is one small non-generic function,
/// where re-reading into the typed kind would compile every kind's deserializer
/// once more.
fn locate(text: &str, index: usize, path: &serde_path_to_error::Path) -> Option<(usize, usize)> {
    let doc = serde_yaml_ng::Deserializer::from_str(text).nth(index.checked_sub(1)?)?;
    let segments: Vec<&serde_path_to_error::Segment> = path.iter().collect();
    let err = serde::de::DeserializeSeed::deserialize(Seek { path: &segments }, doc).err()?;
    let mark = err.location()?;
    Some((mark.line(), mark.column()))
}

/// A seed that walks down `path` and fails at the node it names.
struct Seek<'a> {
    path: &'a [&'a serde_path_to_error::Segment],
}

impl<'de> serde::de::DeserializeSeed<'de> for Seek<'_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl Seek<'_> {
    fn here<E: serde::de::Error>(&self) -> Result<(), E> {
        if self.path.is_empty() {
            Err(E::custom("here"))
        } else {
            Ok(())
        }
    }
}

impl<'de> serde::de::Visitor<'de> for Seek<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any value")
    }

    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<(), E> {
        self.here()
    }
    fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<(), E> {
        self.here()
    }
    fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<(), E> {
        self.here()
    }
    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<(), E> {
        self.here()
    }
    fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<(), E> {
        self.here()
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        self.here()
    }
    fn visit_none<E: serde::de::Error>(self) -> Result<(), E> {
        self.here()
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        use serde_path_to_error::Segment;
        let Some((Segment::Seq { index }, rest)) = self.path.split_first() else {
            return self.here();
        };
        for _ in 0..*index {
            if seq.next_element::<serde::de::IgnoredAny>()?.is_none() {
                return Ok(());
            }
        }
        seq.next_element_seed(Seek { path: rest }).map(|_| ())
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        use serde_path_to_error::Segment;
        let Some((Segment::Map { key }, rest)) = self.path.split_first() else {
            return self.here();
        };
        while let Some(k) = map.next_key::<String>()? {
            if k == *key {
                return map.next_value_seed(Seek { path: rest });
            }
            map.next_value::<serde::de::IgnoredAny>()?;
        }
        Ok(())
    }
}

fn render_ignored(path: &serde_ignored::Path<'_>) -> String {
    use serde_ignored::Path;
    match path {
        Path::Root => String::new(),
        Path::Seq { parent, index } => format!("{}[{index}]", render_ignored(parent)),
        Path::Map { parent, key } => {
            let p = render_ignored(parent);
            if p.is_empty() {
                key.clone()
            } else {
                format!("{p}.{key}")
            }
        }
        Path::Some { parent }
        | Path::NewtypeStruct { parent }
        | Path::NewtypeVariant { parent } => render_ignored(parent),
    }
}

/// Nesting depth of a value, without recursion.
fn depth(value: &Value) -> usize {
    let mut max = 0;
    let mut stack = vec![(value, 1usize)];
    while let Some((v, d)) = stack.pop() {
        max = max.max(d);
        match v {
            Value::Array(a) => stack.extend(a.iter().map(|c| (c, d + 1))),
            Value::Object(o) => stack.extend(o.values().map(|c| (c, d + 1))),
            _ => {}
        }
    }
    max
}
