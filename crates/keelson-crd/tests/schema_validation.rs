//! What the typed kinds write validates against the upstream CRD schemas.
//!
//! Each upstream `openAPIV3Schema` is compiled as a JSON Schema Draft 4 (the
//! dialect OpenAPI v3.0 schemas are written in; `nullable` and the
//! `x-kubernetes-*` keywords are unknown to it and ignored, formats are not
//! checked). A pattern the regex engine rejects (Go's RE2 syntax accepts a few
//! that ECMA 262 does not) is removed from a copy of the schema and reported as
//! "pattern skipped".
//!
//! - Every typed corpus document, written back with `to_value()`, is valid
//!   whenever the document as read was valid. A few upstream examples violate
//!   their own schema; they are printed, not failed.
//! - Property test: corpus documents mutated (names, labels, integer fields,
//!   quantities, optional fields dropped) are read and written back; the output
//!   is valid whenever the mutated input is, and the round trip changes nothing
//!   ([`keelson_crd::roundtrip::diff`] reports no `Changed`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use jsonschema::{Draft, Validator};
use keelson_crd::roundtrip::{DifferenceKind, diff};
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, TestCaseError, TestRunner};
use serde_json::{Value, json};

/// One upstream schema of one kind at one version, compiled.
struct Schema {
    file: String,
    validator: Validator,
    /// The schema as compiled (patterns the engine rejects removed).
    schema: Value,
}

/// A typed corpus document.
struct Sample {
    name: String,
    api_version: String,
    kind: String,
    raw: Value,
    written: Value,
}

/// (apiVersion, kind) → the upstream schemas (several files may define one kind).
type Schemas = BTreeMap<(String, String), Vec<Schema>>;

struct Corpus {
    schemas: Schemas,
    skipped_patterns: Vec<String>,
    samples: Vec<Sample>,
}

fn options() -> jsonschema::ValidationOptions<'static> {
    jsonschema::options()
        .with_draft(Draft::Draft4)
        .should_validate_formats(false)
}

/// Removes the `pattern`s the regex engine rejects from `schema`, walking only
/// schema positions (a property *named* `pattern` is left alone).
fn drop_bad_patterns(schema: &mut Value, path: &str, skipped: &mut Vec<String>) {
    let Some(obj) = schema.as_object_mut() else {
        return;
    };
    if let Some(Value::String(p)) = obj.get("pattern")
        && options().build(&json!({ "pattern": p })).is_err()
    {
        skipped.push(format!("{path}: {p}"));
        obj.remove("pattern");
    }
    for key in ["properties", "patternProperties", "definitions"] {
        if let Some(Value::Object(map)) = obj.get_mut(key) {
            for (name, sub) in map.iter_mut() {
                drop_bad_patterns(sub, &format!("{path}.{name}"), skipped);
            }
        }
    }
    for key in ["additionalProperties", "not"] {
        if let Some(sub) = obj.get_mut(key) {
            drop_bad_patterns(sub, &format!("{path}({key})"), skipped);
        }
    }
    match obj.get_mut("items") {
        Some(Value::Array(items)) => items
            .iter_mut()
            .for_each(|s| drop_bad_patterns(s, &format!("{path}[]"), skipped)),
        Some(items) => drop_bad_patterns(items, &format!("{path}[]"), skipped),
        None => {}
    }
    for key in ["anyOf", "allOf", "oneOf"] {
        if let Some(Value::Array(branches)) = obj.get_mut(key) {
            for b in branches {
                drop_bad_patterns(b, &format!("{path}({key})"), skipped);
            }
        }
    }
}

/// The typed schemas of every CRD in the corpus, for the kinds this crate types.
fn load_schemas(typed: &BTreeSet<(String, String)>) -> (Schemas, Vec<String>) {
    let mut schemas: Schemas = BTreeMap::new();
    let mut skipped = Vec::new();
    for path in common::corpus_files() {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        if !text.contains("CustomResourceDefinition") {
            continue;
        }
        let file = common::short(&path);
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
                let key = (format!("{group}/{name}"), kind.to_owned());
                let Some(schema) = version.pointer("/schema/openAPIV3Schema") else {
                    continue;
                };
                // Katib's CRDs carry no typed schema: nothing to validate against.
                let typed_schema = schema
                    .get("properties")
                    .and_then(Value::as_object)
                    .is_some_and(|p| !p.is_empty());
                if !typed.contains(&key) || !typed_schema {
                    continue;
                }
                let mut schema = schema.clone();
                drop_bad_patterns(
                    &mut schema,
                    &format!("{} {} ({file})", key.1, key.0),
                    &mut skipped,
                );
                let validator = options().build(&schema).unwrap_or_else(|e| {
                    panic!("{file}: {} {}: schema does not compile: {e}", key.1, key.0)
                });
                schemas.entry(key).or_default().push(Schema {
                    file: file.clone(),
                    validator,
                    schema,
                });
            }
        }
    }
    (schemas, skipped)
}

fn corpus() -> &'static Corpus {
    static CORPUS: OnceLock<Corpus> = OnceLock::new();
    CORPUS.get_or_init(|| {
        let typed: BTreeSet<(String, String)> = keelson_crd::kinds()
            .iter()
            .map(|k| (k.api_version.to_owned(), k.kind.to_owned()))
            .collect();
        let (schemas, skipped_patterns) = load_schemas(&typed);
        let mut samples = Vec::new();
        for path in common::corpus_files() {
            let Ok(docs) = keelson_crd::load_file(&path) else {
                continue;
            };
            for d in docs.into_iter().filter(|d| d.resource.is_typed()) {
                samples.push(Sample {
                    name: format!("{} doc {}", common::short(&path), d.index),
                    api_version: d.resource.api_version(),
                    kind: d.resource.kind(),
                    written: d.resource.to_value().unwrap(),
                    raw: d.raw,
                });
            }
        }
        Corpus {
            schemas,
            skipped_patterns,
            samples,
        }
    })
}

/// The first few validation errors, one per line, without the (large) instances.
fn errors(validator: &Validator, value: &Value) -> Vec<String> {
    validator
        .iter_errors(value)
        .take(5)
        .map(|e| {
            let at = e.instance_path().to_string();
            format!("{}: {}", if at.is_empty() { "/" } else { &at }, e.masked())
        })
        .collect()
}

#[test]
fn upstream_schemas_compile() {
    let corpus = corpus();
    for p in &corpus.skipped_patterns {
        println!("pattern skipped: {p}");
    }
    let n: usize = corpus.schemas.values().map(Vec::len).sum();
    println!(
        "{n} upstream schemas of {} typed kinds compiled; {} patterns skipped",
        corpus.schemas.len(),
        corpus.skipped_patterns.len()
    );
    assert!(
        corpus.schemas.len() >= 30,
        "only {} typed kinds have an upstream schema",
        corpus.schemas.len()
    );
}

#[test]
fn written_documents_validate_whenever_the_input_did() {
    let corpus = corpus();
    let (mut checked, mut valid, mut invalid_inputs, mut fixed) = (0, 0, 0, 0);
    let mut failures = Vec::new();
    let mut without_schema = BTreeSet::new();
    for s in &corpus.samples {
        let Some(schemas) = corpus.schemas.get(&(s.api_version.clone(), s.kind.clone())) else {
            without_schema.insert(format!("{} {}", s.kind, s.api_version));
            continue;
        };
        for schema in schemas {
            checked += 1;
            let input_ok = schema.validator.is_valid(&s.raw);
            let output_ok = schema.validator.is_valid(&s.written);
            match (input_ok, output_ok) {
                (true, true) => valid += 1,
                (true, false) => failures.push(format!(
                    "{} ({} {}, schema {}):\n    {}",
                    s.name,
                    s.kind,
                    s.api_version,
                    schema.file,
                    errors(&schema.validator, &s.written).join("\n    ")
                )),
                (false, out) => {
                    invalid_inputs += 1;
                    if out {
                        fixed += 1;
                    }
                    println!(
                        "input already invalid: {} ({} {}, schema {}); output {}:\n    {}",
                        s.name,
                        s.kind,
                        s.api_version,
                        schema.file,
                        if out { "valid" } else { "invalid" },
                        errors(&schema.validator, &s.raw).join("\n    ")
                    );
                }
            }
        }
    }
    for k in &without_schema {
        println!("no upstream typed schema (not validated): {k}");
    }
    println!(
        "{checked} (document, schema) pairs: {valid} valid in and out, {invalid_inputs} inputs already invalid \
         ({fixed} of them valid once written), {} outputs invalid from a valid input",
        failures.len()
    );
    assert!(
        valid >= 100,
        "only {valid} documents validated: is the corpus there?"
    );
    assert!(
        failures.is_empty(),
        "{} documents were valid as read but not as written:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

// Property test: mutated corpus documents.

/// One generated change to a document.
#[derive(Clone, Debug)]
enum Mutation {
    Name(String),
    Namespace(String),
    Label(String, String),
    /// Sets the `n`th (modulo their number) integer field with a count-like name.
    Int(usize, i64),
    /// Sets the `n`th quantity of a `limits`/`requests`/quota map.
    Quantity(usize, Value),
    /// Drops the `n`th optional field.
    Drop(usize),
}

const INT_FIELDS: &[&str] = &[
    "replicas",
    "parallelism",
    "completions",
    "backoffLimit",
    "backoffLimitPerIndex",
    "maxFailedIndexes",
    "minAvailable",
    "minReplicas",
    "maxReplicas",
    "maxRestarts",
    "numNodes",
    "numProcPerNode",
    "activeDeadlineSeconds",
    "ttlSecondsAfterFinished",
    "maxRetries",
    "terminationGracePeriodSeconds",
    "containerConcurrency",
    "timeout",
    "port",
    "containerPort",
    "cores",
    "instances",
];

const QUANTITY_MAPS: &[&str] = &["limits", "requests", "hard"];
const QUANTITY_FIELDS: &[&str] = &["nominalQuota", "borrowingLimit", "lendingLimit"];

fn dns_label() -> impl Strategy<Value = String> {
    "[a-z]([a-z0-9-]{0,30}[a-z0-9])?"
}

fn quantity() -> impl Strategy<Value = Value> {
    prop_oneof![
        (1u32..4000).prop_map(|n| json!(format!("{n}m"))),
        (1u32..512).prop_map(|n| json!(format!("{n}Gi"))),
        (1u32..4096).prop_map(|n| json!(format!("{n}Mi"))),
        (0u32..64).prop_map(|n| json!(n)),
        (0u32..64).prop_map(|n| json!(n.to_string())),
        (1u32..10).prop_map(|n| json!(format!("{n}.5"))),
    ]
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        dns_label().prop_map(Mutation::Name),
        dns_label().prop_map(Mutation::Namespace),
        (dns_label(), dns_label()).prop_map(|(k, v)| Mutation::Label(k, v)),
        (any::<usize>(), 0i64..1000).prop_map(|(n, v)| Mutation::Int(n, v)),
        (any::<usize>(), quantity()).prop_map(|(n, q)| Mutation::Quantity(n, q)),
        any::<usize>().prop_map(Mutation::Drop),
    ]
}

/// One step of a path into a JSON value.
#[derive(Clone, Debug, PartialEq)]
enum Step {
    Key(String),
    Index(usize),
}

/// Every path in `value` (not the root), with the value there.
fn paths(value: &Value) -> Vec<(Vec<Step>, &Value)> {
    let mut out = Vec::new();
    let mut stack = vec![(Vec::new(), value)];
    while let Some((path, v)) = stack.pop() {
        match v {
            Value::Object(m) => {
                for (k, c) in m {
                    let mut p = path.clone();
                    p.push(Step::Key(k.clone()));
                    out.push((p.clone(), c));
                    stack.push((p, c));
                }
            }
            Value::Array(a) => {
                for (i, c) in a.iter().enumerate() {
                    let mut p = path.clone();
                    p.push(Step::Index(i));
                    out.push((p.clone(), c));
                    stack.push((p, c));
                }
            }
            _ => {}
        }
    }
    out.sort_by_key(|(p, _)| format!("{p:?}"));
    out
}

fn get_mut<'v>(value: &'v mut Value, path: &[Step]) -> Option<&'v mut Value> {
    path.iter().try_fold(value, |v, step| match step {
        Step::Key(k) => v.get_mut(k),
        Step::Index(i) => v.get_mut(*i),
    })
}

fn last_key(path: &[Step]) -> Option<&str> {
    match path.last() {
        Some(Step::Key(k)) => Some(k),
        _ => None,
    }
}

/// Whether upstream `schema` lets the field at `path` be left out.
fn is_optional(schema: &Value, path: &[Step]) -> bool {
    let mut s = schema;
    for (i, step) in path.iter().enumerate() {
        match step {
            Step::Key(k) => {
                if i + 1 == path.len() {
                    let required = s.get("required").and_then(Value::as_array);
                    return !required.is_some_and(|r| r.iter().any(|x| x == k));
                }
                s = match s.get("properties").and_then(|p| p.get(k)) {
                    Some(sub) => sub,
                    None => match s.get("additionalProperties") {
                        Some(sub) if sub.is_object() => sub,
                        // Nothing known below: treat as free-form.
                        _ => return true,
                    },
                };
            }
            Step::Index(_) => match s.get("items") {
                Some(sub) => s = sub,
                None => return true,
            },
        }
    }
    false
}

/// The document's `metadata`, made an object if it was not one.
fn meta(value: &mut Value) -> Option<&mut serde_json::Map<String, Value>> {
    if !value.get("metadata").is_some_and(Value::is_object) {
        value["metadata"] = json!({});
    }
    value.get_mut("metadata").and_then(Value::as_object_mut)
}

fn apply(value: &mut Value, schemas: &[&Value], m: &Mutation) {
    match m {
        Mutation::Name(n) => {
            if let Some(meta) = meta(value) {
                meta.insert("name".into(), json!(n));
            }
        }
        Mutation::Namespace(n) => {
            if let Some(meta) = meta(value) {
                meta.insert("namespace".into(), json!(n));
            }
        }
        Mutation::Label(k, v) => {
            if let Some(meta) = meta(value) {
                let labels = meta.entry("labels").or_insert_with(|| json!({}));
                if let Some(labels) = labels.as_object_mut() {
                    labels.insert(k.clone(), json!(v));
                }
            }
        }
        Mutation::Int(n, v) => {
            let targets: Vec<Vec<Step>> = paths(value)
                .into_iter()
                .filter(|(p, v)| v.is_i64() && last_key(p).is_some_and(|k| INT_FIELDS.contains(&k)))
                .map(|(p, _)| p)
                .collect();
            if let Some(slot) = targets
                .get(n % targets.len().max(1))
                .and_then(|p| get_mut(value, p))
            {
                *slot = json!(v);
            }
        }
        Mutation::Quantity(n, q) => {
            let targets: Vec<Vec<Step>> = paths(value)
                .into_iter()
                .filter(|(p, v)| {
                    let in_map = p.len() >= 2
                        && matches!(&p[p.len() - 2], Step::Key(k) if QUANTITY_MAPS.contains(&k.as_str()))
                        && matches!(p.last(), Some(Step::Key(_)));
                    let field = last_key(p).is_some_and(|k| QUANTITY_FIELDS.contains(&k));
                    (in_map || field) && (v.is_string() || v.is_number())
                })
                .map(|(p, _)| p)
                .collect();
            if let Some(slot) = targets
                .get(n % targets.len().max(1))
                .and_then(|p| get_mut(value, p))
            {
                *slot = q.clone();
            }
        }
        Mutation::Drop(n) => {
            let targets: Vec<Vec<Step>> = paths(value)
                .into_iter()
                .filter(|(p, _)| {
                    p.len() >= 2
                        && matches!(p.last(), Some(Step::Key(_)))
                        && !matches!(&p[0], Step::Key(k) if k == "metadata")
                        && schemas.iter().all(|s| is_optional(s, p))
                })
                .map(|(p, _)| p)
                .collect();
            if let Some(p) = targets.get(n % targets.len().max(1)) {
                let (parent, key) = p.split_at(p.len() - 1);
                if let (Some(Value::Object(m)), [Step::Key(k)]) = (get_mut(value, parent), key) {
                    m.remove(k);
                }
            }
        }
    }
}

#[test]
fn mutated_documents_round_trip_and_stay_valid() {
    let corpus = corpus();
    let samples = &corpus.samples;
    assert!(!samples.is_empty(), "no typed corpus documents");
    let cases = AtomicUsize::new(0);
    let validated = AtomicUsize::new(0);
    let mut runner = TestRunner::new(ProptestConfig {
        cases: 64,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    let strategy = (
        0..samples.len(),
        proptest::collection::vec(mutation(), 1..6),
    );
    let result = runner.run(&strategy, |(index, mutations)| {
        let sample = &samples[index];
        let empty = Vec::new();
        let schemas = corpus
            .schemas
            .get(&(sample.api_version.clone(), sample.kind.clone()))
            .unwrap_or(&empty);
        let schema_values: Vec<&Value> = schemas.iter().map(|s| &s.schema).collect();
        let mut mutated = sample.written.clone();
        for m in &mutations {
            apply(&mut mutated, &schema_values, m);
        }
        let text = serde_json::to_string_pretty(&mutated).unwrap();
        let docs = keelson_crd::load("prop", &text)
            .map_err(|e| TestCaseError::fail(format!("{}: {e}", sample.name)))?;
        prop_assert_eq!(docs.len(), 1);
        let doc = &docs[0];
        let written = doc
            .resource
            .to_value()
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        cases.fetch_add(1, Ordering::Relaxed);

        let changed: Vec<String> = diff(&doc.raw, &written, &doc.ignored_fields)
            .into_iter()
            .filter(|d| d.kind == DifferenceKind::Changed)
            .map(|d| d.path)
            .collect();
        prop_assert!(
            changed.is_empty(),
            "{}: the round trip changed {:?}",
            sample.name,
            changed
        );

        for schema in schemas {
            if schema.validator.is_valid(&mutated) {
                validated.fetch_add(1, Ordering::Relaxed);
                let errs = errors(&schema.validator, &written);
                prop_assert!(
                    errs.is_empty(),
                    "{}: valid against {} as mutated, invalid as written:\n{}",
                    sample.name,
                    schema.file,
                    errs.join("\n")
                );
            }
        }
        Ok(())
    });
    println!(
        "{} mutated documents round-tripped; {} (document, schema) pairs valid as mutated",
        cases.load(Ordering::Relaxed),
        validated.load(Ordering::Relaxed)
    );
    if let Err(e) = result {
        panic!("{e}");
    }
    assert!(
        validated.load(Ordering::Relaxed) > 0,
        "no mutated document was valid: the property was never checked"
    );
}

// The helpers themselves.

#[test]
fn an_invalid_document_is_rejected() {
    let schema = json!({
        "type": "object",
        "required": ["spec"],
        "properties": { "spec": { "type": "object", "properties": {
            "replicas": { "type": "integer", "format": "int32", "minimum": 0 },
            "cpu": { "anyOf": [{ "type": "integer" }, { "type": "string" }], "x-kubernetes-int-or-string": true,
                     "pattern": "^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$" },
            "name": { "type": "string", "nullable": true, "x-kubernetes-validations": [{ "rule": "self != ''" }] }
        } } }
    });
    let v = options().build(&schema).unwrap();
    assert!(v.is_valid(&json!({ "spec": { "replicas": 2, "cpu": "500m", "name": "a" } })));
    assert!(v.is_valid(&json!({ "spec": { "cpu": 4 } })));
    assert!(!v.is_valid(&json!({ "spec": { "replicas": -1 } })));
    assert!(!v.is_valid(&json!({ "spec": { "replicas": "2" } })));
    assert!(!v.is_valid(&json!({ "spec": { "cpu": "lots" } })));
    assert!(!v.is_valid(&json!({})));
}

#[test]
fn patterns_the_engine_rejects_are_dropped_and_counted() {
    let mut schema = json!({ "type": "object", "properties": {
        "ok": { "type": "string", "pattern": "^[a-z]+$" },
        "bad": { "type": "string", "pattern": "^(unclosed$" },
        "pattern": { "type": "object", "properties": { "x": { "type": "string", "pattern": "(" } } }
    } });
    let mut skipped = Vec::new();
    drop_bad_patterns(&mut schema, "t", &mut skipped);
    assert_eq!(skipped, ["t.bad: ^(unclosed$", "t.pattern.x: ("]);
    assert!(schema["properties"]["bad"].get("pattern").is_none());
    assert_eq!(schema["properties"]["ok"]["pattern"], "^[a-z]+$");
    assert!(schema["properties"].get("pattern").is_some());
}

#[test]
fn mutations_hit_their_targets() {
    let schema = json!({ "type": "object", "properties": { "spec": { "type": "object", "required": ["image"], "properties": {
        "image": { "type": "string" }, "replicas": { "type": "integer" }, "note": { "type": "string" }
    } } } });
    let mut v = json!({ "metadata": { "name": "a" }, "spec": { "image": "x", "replicas": 3, "note": "n",
        "resources": { "limits": { "cpu": "1" } } } });
    apply(&mut v, &[&schema], &Mutation::Int(7, 9));
    apply(&mut v, &[&schema], &Mutation::Quantity(0, json!("2Gi")));
    apply(
        &mut v,
        &[&schema],
        &Mutation::Label("team".into(), "a".into()),
    );
    assert_eq!(v["spec"]["replicas"], 9);
    assert_eq!(v["spec"]["resources"]["limits"]["cpu"], "2Gi");
    assert_eq!(v["metadata"]["labels"]["team"], "a");
    // `image` is required: only the others can be dropped.
    for n in 0..8 {
        let mut w = v.clone();
        apply(&mut w, &[&schema], &Mutation::Drop(n));
        assert_eq!(w["spec"]["image"], "x");
    }
}
