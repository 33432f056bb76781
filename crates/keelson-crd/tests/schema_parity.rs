//! Every field of every upstream CRD schema the crate types exists in the Rust
//! type's JSON schema, with a compatible type.
//!
//! For each `CustomResourceDefinition` in the corpus and each of its versions that
//! `keelson_crd::kinds()` types, the upstream `openAPIV3Schema` and the schemars
//! schema of the Rust type are walked side by side. Every upstream field path (a
//! property at any depth, a map value `a{}`, an array item `a[]`) is counted, and
//! counted as covered when the Rust schema has it with a compatible type.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

/// One version of one kind, as an upstream CRD file declares it.
struct UpstreamVersion {
    file: String,
    api_version: String,
    kind: String,
    schema: Value,
}

/// Every version of every CustomResourceDefinition in the corpus.
fn upstream_versions() -> Vec<UpstreamVersion> {
    let mut out = Vec::new();
    for path in common::corpus_files() {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        if !text.contains("CustomResourceDefinition") {
            continue;
        }
        for doc in serde_yaml_ng::Deserializer::from_str(&text) {
            let Ok(doc) = <Value as serde::Deserialize>::deserialize(doc) else {
                break;
            };
            if doc.get("kind").and_then(Value::as_str) != Some("CustomResourceDefinition") {
                continue;
            }
            let Some(spec) = doc.get("spec") else {
                continue;
            };
            let group = spec
                .get("group")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let kind = spec
                .pointer("/names/kind")
                .and_then(Value::as_str)
                .unwrap_or_default();
            for version in spec
                .get("versions")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let name = version
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let schema = version
                    .pointer("/schema/openAPIV3Schema")
                    .or_else(|| spec.pointer("/validation/openAPIV3Schema"));
                if let Some(schema) = schema {
                    out.push(UpstreamVersion {
                        file: common::short(&path),
                        api_version: format!("{group}/{name}"),
                        kind: kind.to_owned(),
                        schema: schema.clone(),
                    });
                }
            }
        }
    }
    out
}

/// One upstream field the Rust schema lacks or types differently.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Issue {
    path: String,
    upstream: String,
    rust: String,
    /// Upstream fields below `path`, uncovered with it.
    nested: usize,
}

/// The result of walking one upstream schema against one Rust schema.
#[derive(Debug, Default)]
struct Parity {
    fields: usize,
    covered: usize,
    issues: Vec<Issue>,
}

/// Walks an upstream structural schema and a schemars schema side by side.
struct Walker<'a> {
    defs: Map<String, Value>,
    parity: &'a mut Parity,
}

const ANY: &Value = &Value::Bool(true);

fn flag(schema: &Value, name: &str) -> bool {
    schema.get(name).and_then(Value::as_bool) == Some(true)
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

fn properties(schema: &Value) -> Option<&Map<String, Value>> {
    schema.get("properties").and_then(Value::as_object)
}

/// Fields under an upstream schema node (not counting the node itself).
fn count_nested(up: &Value) -> usize {
    let mut n = 0;
    if let Some(props) = properties(up) {
        for sub in props.values() {
            n += 1 + count_nested(sub);
        }
    }
    if let Some(ap) = up.get("additionalProperties").filter(|a| a.is_object()) {
        n += 1 + count_nested(ap);
    }
    if let Some(items) = up.get("items").filter(|a| a.is_object()) {
        n += 1 + count_nested(items);
    }
    n
}

/// What an upstream node requires.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum UpKind {
    IntOrString,
    /// Any JSON value (no type; `x-kubernetes-preserve-unknown-fields` or nothing).
    Any,
    /// A typed object: properties and/or a map.
    Object,
    /// An object without declared contents.
    FreeObject,
    Array,
    Scalar(&'static str),
}

fn up_kind(up: &Value) -> UpKind {
    if flag(up, "x-kubernetes-int-or-string") {
        return UpKind::IntOrString;
    }
    let has_props = properties(up).is_some_and(|p| !p.is_empty());
    let has_map = up.get("additionalProperties").is_some_and(Value::is_object);
    match up.get("type").and_then(Value::as_str) {
        Some("object") | None if has_props || has_map => UpKind::Object,
        Some("object") => UpKind::FreeObject,
        Some("array") => UpKind::Array,
        Some("string") => UpKind::Scalar("string"),
        Some("integer") => UpKind::Scalar("integer"),
        Some("number") => UpKind::Scalar("number"),
        Some("boolean") => UpKind::Scalar("boolean"),
        _ => UpKind::Any,
    }
}

fn describe_up(up: &Value) -> String {
    let preserve = if flag(up, "x-kubernetes-preserve-unknown-fields") {
        " (preserve-unknown-fields)"
    } else {
        ""
    };
    let base = match up_kind(up) {
        UpKind::IntOrString => "int-or-string".to_owned(),
        UpKind::Any => "any".to_owned(),
        UpKind::Object if properties(up).is_some_and(|p| !p.is_empty()) => "object".to_owned(),
        UpKind::Object => "map".to_owned(),
        UpKind::FreeObject => "object (free-form)".to_owned(),
        UpKind::Array => "array".to_owned(),
        UpKind::Scalar(t) => match up.get("format").and_then(Value::as_str) {
            Some(f) => format!("{t}({f})"),
            None => t.to_owned(),
        },
    };
    format!("{base}{preserve}")
}

/// The JSON types a resolved (non-`$ref`, non-`anyOf`) Rust schema accepts;
/// `None` for any value.
fn rust_types(r: &Value) -> Option<BTreeSet<&str>> {
    let Some(obj) = r.as_object() else {
        return if r == &Value::Bool(false) {
            Some(BTreeSet::new())
        } else {
            None
        };
    };
    if flag(r, "x-kubernetes-int-or-string") {
        return Some(["integer", "string"].into());
    }
    match obj.get("type") {
        Some(Value::String(t)) => Some([t.as_str()].into()),
        Some(Value::Array(ts)) => Some(
            ts.iter()
                .filter_map(Value::as_str)
                .filter(|t| *t != "null")
                .collect(),
        ),
        _ if obj.contains_key("properties") || obj.contains_key("additionalProperties") => {
            Some(["object"].into())
        }
        _ if obj.contains_key("items") => Some(["array"].into()),
        _ if obj.contains_key("enum") || obj.contains_key("const") => {
            let values: Vec<&Value> = match (obj.get("enum"), obj.get("const")) {
                (Some(Value::Array(e)), _) => e.iter().collect(),
                (_, Some(c)) => vec![c],
                _ => Vec::new(),
            };
            Some(
                values
                    .into_iter()
                    .map(|v| match v {
                        Value::String(_) => "string",
                        Value::Number(n) if n.is_f64() => "number",
                        Value::Number(_) => "integer",
                        Value::Bool(_) => "boolean",
                        Value::Array(_) => "array",
                        Value::Object(_) => "object",
                        Value::Null => "null",
                    })
                    .filter(|t| *t != "null")
                    .collect(),
            )
        }
        _ => None,
    }
}

fn describe_rust(variants: &[&Value]) -> String {
    if variants.is_empty() {
        return "missing".to_owned();
    }
    let parts: Vec<String> = variants
        .iter()
        .map(|r| {
            if flag(r, "x-kubernetes-int-or-string") {
                return "int-or-string".to_owned();
            }
            let Some(types) = rust_types(r) else {
                return "any".to_owned();
            };
            let mut s = types.into_iter().collect::<Vec<_>>().join("|");
            if let Some(f) = r.get("format").and_then(Value::as_str) {
                s = format!("{s}({f})");
            }
            if s == "object" {
                let props = properties(r).is_some_and(|p| !p.is_empty());
                s = match (props, r.get("additionalProperties")) {
                    (true, Some(Value::Bool(true))) => "struct+extra".to_owned(),
                    (true, _) => "struct".to_owned(),
                    (false, Some(Value::Object(_))) => "map".to_owned(),
                    (false, _) => "object (free-form)".to_owned(),
                };
            }
            s
        })
        .collect();
    parts.join(" or ")
}

impl Walker<'_> {
    /// The concrete schemas a Rust schema node stands for: `$ref`s resolved, `Option`'s
    /// `null` branch dropped, `anyOf`/`oneOf` branches listed.
    fn resolve<'v>(&'v self, node: &'v Value, out: &mut Vec<&'v Value>, depth: usize) {
        assert!(depth < 64, "$ref cycle in the Rust schema");
        if let Some(r) = node.get("$ref").and_then(Value::as_str) {
            let name = r
                .strip_prefix("#/$defs/")
                .unwrap_or_else(|| panic!("unexpected $ref {r}"));
            let target = self
                .defs
                .get(name)
                .unwrap_or_else(|| panic!("missing $defs entry {name}"));
            return self.resolve(target, out, depth + 1);
        }
        for key in ["anyOf", "oneOf"] {
            if let Some(branches) = node.get(key).and_then(Value::as_array) {
                for b in branches {
                    if b.get("type").and_then(Value::as_str) == Some("null") {
                        continue;
                    }
                    self.resolve(b, out, depth + 1);
                }
                return;
            }
        }
        if let Some([single]) = node
            .get("allOf")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
        {
            return self.resolve(single, out, depth + 1);
        }
        out.push(node);
    }

    /// Why the Rust schema `r` cannot hold what upstream `up` allows, if it cannot.
    fn incompatible(&self, up: &Value, r: &Value) -> Option<&'static str> {
        let types = rust_types(r);
        let accepts = |t: &str| types.as_ref().is_none_or(|ts| ts.contains(t));
        let is_any = types.is_none();
        let preserve = flag(up, "x-kubernetes-preserve-unknown-fields");
        let kind = up_kind(up);
        if preserve && matches!(kind, UpKind::Object | UpKind::FreeObject | UpKind::Any) {
            if kind == UpKind::Any {
                return (!is_any).then_some("upstream accepts any value");
            }
            if is_any {
                return None;
            }
            if !accepts("object") {
                return Some("not an object");
            }
            let has_props = properties(r).is_some_and(|p| !p.is_empty());
            return match r.get("additionalProperties") {
                Some(Value::Bool(false)) => Some("rejects unknown fields"),
                None if has_props => Some("struct drops unknown fields"),
                _ => None,
            };
        }
        match kind {
            UpKind::IntOrString => {
                let int = accepts("integer") || accepts("number");
                (!(int && accepts("string"))).then_some("does not accept both integer and string")
            }
            UpKind::Any => (!is_any).then_some("upstream accepts any value"),
            UpKind::FreeObject => match r.get("additionalProperties") {
                _ if is_any => None,
                _ if !accepts("object") => Some("not an object"),
                Some(Value::Bool(false)) => Some("rejects unknown fields"),
                _ => None,
            },
            UpKind::Object => {
                if is_any {
                    Some("untyped")
                } else if !accepts("object") {
                    Some("not an object")
                } else {
                    None
                }
            }
            UpKind::Array => {
                if is_any {
                    Some("untyped")
                } else {
                    (!accepts("array")).then_some("not an array")
                }
            }
            UpKind::Scalar(t) => {
                if is_any {
                    return Some("untyped");
                }
                let ok = accepts(t) || (t == "integer" && accepts("number"));
                if !ok {
                    return Some("type differs");
                }
                let up_format = up.get("format").and_then(Value::as_str);
                let rust_format = r.get("format").and_then(Value::as_str);
                if t == "integer" && up_format == Some("int64") && rust_format == Some("int32") {
                    return Some("int64 narrowed to int32");
                }
                None
            }
        }
    }

    /// Checks the field at `path`: upstream `up` against Rust `rust` (`None`: absent).
    fn field(&mut self, path: &str, up: &Value, rust: Option<&Value>) {
        self.parity.fields += 1;
        let mut variants = Vec::new();
        if let Some(rust) = rust {
            self.resolve(rust, &mut variants, 0);
        }
        let chosen = variants
            .iter()
            .copied()
            .find(|r| self.incompatible(up, r).is_none());
        let Some(chosen) = chosen else {
            let why = match (rust, variants.first()) {
                (None, _) => None,
                (Some(_), Some(first)) => self.incompatible(up, first),
                (Some(_), None) => Some("no schema"),
            };
            let rust = match why {
                Some(why) => format!("{} ({why})", describe_rust(&variants)),
                None => "missing".to_owned(),
            };
            let nested = count_nested(up);
            self.parity.fields += nested;
            self.parity.issues.push(Issue {
                path: path.to_owned(),
                upstream: describe_up(up),
                rust,
                nested,
            });
            return;
        };
        let chosen = chosen.clone();
        self.parity.covered += 1;
        self.children(path, up, &chosen);
    }

    /// Checks the fields below a covered field.
    fn children(&mut self, path: &str, up: &Value, rust: &Value) {
        if up_kind(up) == UpKind::IntOrString {
            return;
        }
        let rust_is_any = rust_types(rust).is_none();
        if let Some(props) = properties(up) {
            let rust_props = properties(rust);
            for (name, sub) in props {
                if path.is_empty() && (name == "apiVersion" || name == "kind") {
                    continue;
                }
                let r = match rust_props.and_then(|p| p.get(name)) {
                    Some(r) => Some(r),
                    // An untyped value keeps whatever is under it.
                    None if rust_is_any => Some(ANY),
                    None => None,
                };
                self.field(&join(path, name), sub, r);
            }
        }
        if let Some(ap) = up.get("additionalProperties").filter(|a| a.is_object()) {
            let r = match rust.get("additionalProperties") {
                Some(Value::Bool(false)) => None,
                Some(r) => Some(r),
                None => Some(ANY),
            };
            self.field(&format!("{path}{{}}"), ap, r);
        }
        if let Some(items) = up.get("items").filter(|a| a.is_object()) {
            let r = match rust.get("items") {
                Some(Value::Bool(false)) => None,
                Some(r) => Some(r),
                None => Some(ANY),
            };
            self.field(&format!("{path}[]"), items, r);
        }
    }
}

/// Walks `upstream` (an `openAPIV3Schema`) against `rust` (a schemars root schema
/// with `$defs`). The root's `apiVersion` and `kind` are skipped: the Rust root's
/// `Serialize` writes them, so its schema does not list them.
fn parity(upstream: &Value, rust: &Value) -> Parity {
    let mut parity = Parity::default();
    let defs = rust
        .get("$defs")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut walker = Walker {
        defs,
        parity: &mut parity,
    };
    let mut root = Vec::new();
    walker.resolve(rust, &mut root, 0);
    let root = root.first().copied().cloned().unwrap_or(Value::Bool(true));
    walker.children("", upstream, &root);
    parity
}

/// A row of the coverage table.
struct Row {
    kind: String,
    api_version: String,
    file: String,
    parity: Parity,
}

#[test]
fn rust_schemas_cover_every_upstream_field() {
    let kinds: BTreeMap<(String, String), keelson_crd::KindEntry> = keelson_crd::kinds()
        .into_iter()
        .map(|k| ((k.api_version.to_owned(), k.kind.to_owned()), k))
        .collect();
    let mut rows = Vec::new();
    let mut checked = BTreeSet::new();
    let mut untyped = Vec::new();
    for v in upstream_versions() {
        let Some(entry) = kinds.get(&(v.api_version.clone(), v.kind.clone())) else {
            continue;
        };
        if properties(&v.schema).is_none_or(|p| p.is_empty()) {
            untyped.push(format!("{} {} ({})", v.kind, v.api_version, v.file));
            continue;
        }
        let rust = (entry.schema)();
        let parity = parity(&v.schema, &rust);
        checked.insert((v.api_version.clone(), v.kind.clone()));
        rows.push(Row {
            kind: v.kind,
            api_version: v.api_version,
            file: v.file,
            parity,
        });
    }
    rows.sort_by(|a, b| {
        (&a.kind, &a.api_version, &a.file).cmp(&(&b.kind, &b.api_version, &b.file))
    });

    println!(
        "{:<26} {:<34} {:<96} {:>8} {:>8} {:>7}",
        "kind", "group/version", "CRD file", "upstream", "covered", "%"
    );
    let (mut total, mut covered) = (0, 0);
    for row in &rows {
        let p = &row.parity;
        total += p.fields;
        covered += p.covered;
        println!(
            "{:<26} {:<34} {:<96} {:>8} {:>8} {:>6.2}%",
            row.kind,
            row.api_version,
            row.file,
            p.fields,
            p.covered,
            percent(p.covered, p.fields)
        );
    }
    println!(
        "{:<26} {:<34} {:<96} {total:>8} {covered:>8} {:>6.2}%",
        "total",
        "",
        "",
        percent(covered, total)
    );
    for u in &untyped {
        println!("skipped (upstream schema untyped): {u}");
    }

    let mut failures = Vec::new();
    for row in &rows {
        for i in &row.parity.issues {
            let nested = if i.nested > 0 {
                format!(" (+{} nested fields)", i.nested)
            } else {
                String::new()
            };
            failures.push(format!(
                "{} {} [{}]: {}  upstream: {}  rust: {}{nested}",
                row.kind, row.api_version, row.file, i.path, i.upstream, i.rust
            ));
        }
    }
    assert!(
        checked.len() >= 30,
        "only {} (kind, version) pairs were checked against an upstream CRD: {checked:?}",
        checked.len()
    );
    assert!(
        failures.is_empty(),
        "{} upstream fields are missing or mistyped in the Rust schemas:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn percent(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        100.0
    } else {
        part as f64 * 100.0 / whole as f64
    }
}

// The walker itself, on hand-made schemas: it must be able to fail.

#[cfg(test)]
mod walker {
    use serde_json::json;

    use super::*;

    fn issues(upstream: &Value, rust: &Value) -> Vec<(String, String)> {
        parity(upstream, rust)
            .issues
            .into_iter()
            .map(|i| (i.path, i.rust))
            .collect()
    }

    fn upstream() -> Value {
        json!({
            "type": "object",
            "properties": {
                "apiVersion": { "type": "string" },
                "kind": { "type": "string" },
                "metadata": { "type": "object" },
                "spec": {
                    "type": "object",
                    "properties": {
                        "replicas": { "type": "integer", "format": "int32" },
                        "ratio": { "type": "number" },
                        "port": { "x-kubernetes-int-or-string": true, "anyOf": [{ "type": "integer" }, { "type": "string" }] },
                        "labels": { "type": "object", "additionalProperties": { "type": "string" } },
                        "args": { "type": "array", "items": { "type": "string" } },
                        "raw": { "type": "object", "x-kubernetes-preserve-unknown-fields": true },
                        "workers": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": { "name": { "type": "string" }, "gpu": { "type": "boolean" } }
                            }
                        }
                    }
                }
            }
        })
    }

    fn rust() -> Value {
        json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "properties": {
                "metadata": { "$ref": "#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta" },
                "spec": { "anyOf": [{ "$ref": "#/$defs/Spec" }, { "type": "null" }] }
            },
            "$defs": {
                "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta": {
                    "type": "object",
                    "properties": { "name": { "type": "string" } }
                },
                "Quantity": { "x-kubernetes-int-or-string": true },
                "Worker": {
                    "type": "object",
                    "properties": { "name": { "type": "string" }, "gpu": { "type": ["boolean", "null"] } }
                },
                "Spec": {
                    "type": "object",
                    "properties": {
                        "replicas": { "type": ["integer", "null"], "format": "int32" },
                        "ratio": { "type": ["number", "null"], "format": "double" },
                        "port": { "anyOf": [{ "$ref": "#/$defs/Quantity" }, { "type": "null" }] },
                        "labels": { "type": ["object", "null"], "additionalProperties": { "type": "string" } },
                        "args": { "type": ["array", "null"], "items": { "type": "string" } },
                        "raw": { "type": ["object", "null"], "additionalProperties": true },
                        "workers": { "type": ["array", "null"], "items": { "$ref": "#/$defs/Worker" } }
                    }
                }
            }
        })
    }

    #[test]
    fn identical_shapes_are_fully_covered() {
        let p = parity(&upstream(), &rust());
        assert_eq!(p.issues, Vec::new());
        // metadata, spec, 7 spec fields, labels{}, args[], workers[], 2 worker fields.
        assert_eq!((p.fields, p.covered), (14, 14));
    }

    #[test]
    fn a_field_removed_from_the_rust_schema_is_reported() {
        let mut rust = rust();
        rust["$defs"]["Spec"]["properties"]
            .as_object_mut()
            .unwrap()
            .remove("ratio");
        rust["$defs"]["Worker"]["properties"]
            .as_object_mut()
            .unwrap()
            .remove("gpu");
        assert_eq!(
            issues(&upstream(), &rust),
            vec![
                ("spec.ratio".into(), "missing".into()),
                ("spec.workers[].gpu".into(), "missing".into())
            ]
        );
    }

    #[test]
    fn a_renamed_rust_field_is_reported_with_its_nested_fields() {
        let mut rust = rust();
        let props = rust["$defs"]["Spec"]["properties"].as_object_mut().unwrap();
        let workers = props.remove("workers").unwrap();
        props.insert("worker".into(), workers);
        let p = parity(&upstream(), &rust);
        assert_eq!(p.issues.len(), 1);
        assert_eq!(
            (p.issues[0].path.as_str(), p.issues[0].nested),
            ("spec.workers", 3)
        );
        assert_eq!((p.fields, p.covered), (14, 10));
    }

    #[test]
    fn a_field_added_upstream_is_reported() {
        let mut upstream = upstream();
        upstream["properties"]["status"] =
            json!({ "type": "object", "properties": { "phase": { "type": "string" } } });
        assert_eq!(
            issues(&upstream, &rust()),
            vec![("status".into(), "missing".into())]
        );
    }

    #[test]
    fn mistyped_fields_are_reported() {
        let mut rust = rust();
        let spec = &mut rust["$defs"]["Spec"]["properties"];
        spec["replicas"] = json!({ "type": ["string", "null"] });
        spec["ratio"] = json!({ "type": "integer" });
        spec["port"] = json!({ "type": "string" });
        spec["labels"]["additionalProperties"] = json!({ "type": "integer" });
        spec["args"] = json!({ "type": "string" });
        spec["raw"] = json!({ "type": "object", "properties": { "a": { "type": "string" } } });
        let found: Vec<String> = issues(&upstream(), &rust)
            .into_iter()
            .map(|(p, _)| p)
            .collect();
        assert_eq!(
            found,
            [
                "spec.args",
                "spec.labels{}",
                "spec.port",
                "spec.ratio",
                "spec.raw",
                "spec.replicas"
            ]
        );
    }

    #[test]
    fn narrowing_int64_to_int32_is_reported() {
        let mut upstream = upstream();
        upstream["properties"]["spec"]["properties"]["replicas"]["format"] = json!("int64");
        assert_eq!(
            issues(&upstream, &rust()),
            vec![(
                "spec.replicas".into(),
                "integer(int32) (int64 narrowed to int32)".into()
            )]
        );
    }

    #[test]
    fn free_form_and_any_values() {
        // Preserve-unknown-fields without a type: any JSON value; the Rust side must be `Value`.
        let upstream = json!({ "type": "object", "properties": {
            "any": { "x-kubernetes-preserve-unknown-fields": true },
            "free": { "type": "object" }
        } });
        let rust = json!({ "type": "object", "properties": {
            "any": { "description": "a serde_json::Value" },
            "free": { "$ref": "#/$defs/S" }
        }, "$defs": { "S": { "type": "object", "properties": { "x": { "type": "string" } } } } });
        assert_eq!(issues(&upstream, &rust), Vec::<(String, String)>::new());
        let mut typed = rust.clone();
        typed["properties"]["any"] = json!({ "type": "object", "additionalProperties": true });
        assert_eq!(issues(&upstream, &typed).len(), 1);
        let mut closed = rust;
        closed["$defs"]["S"]["additionalProperties"] = json!(false);
        assert_eq!(issues(&upstream, &closed).len(), 1);
    }

    #[test]
    fn preserved_objects_need_a_place_for_unknown_fields() {
        let upstream = json!({ "type": "object", "properties": { "status": {
            "type": "object",
            "x-kubernetes-preserve-unknown-fields": true,
            "properties": { "url": { "type": "string" } }
        } } });
        let with_extra = json!({ "type": "object", "properties": { "status": {
            "type": "object", "properties": { "url": { "type": "string" } }, "additionalProperties": true
        } } });
        assert_eq!(parity(&upstream, &with_extra).covered, 2);
        let mut without = with_extra;
        without["properties"]["status"]
            .as_object_mut()
            .unwrap()
            .remove("additionalProperties");
        assert_eq!(
            issues(&upstream, &without)[0].1,
            "struct (struct drops unknown fields)"
        );
    }
}
