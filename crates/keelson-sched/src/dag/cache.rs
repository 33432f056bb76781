//! Step caching: outputs keyed by a digest of the component spec and the
//! resolved inputs, each stamped with when it was stored.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::Value as Json;
use sha2::{Digest, Sha256};

use super::Value;

/// Outputs of earlier executions, by cache key. The caller keeps it
/// between runs ([`super::Run::with_cache`], [`super::Run::into_cache`]).
///
/// ```
/// use std::collections::BTreeMap;
/// use keelson_sched::dag::{StepCache, Value, cache_key};
///
/// let inputs = BTreeMap::from([("lr".to_owned(), Value::parameter(0.1))]);
/// let key = cache_key("image: train:1", &inputs);
/// let mut cache = StepCache::default();
/// cache.insert(key.clone(), BTreeMap::new(), 1_000);
/// assert!(cache.lookup(&key, 5_000, Some(4_000)).is_some());
/// assert!(cache.lookup(&key, 5_001, Some(4_000)).is_none(), "too stale");
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StepCache {
    entries: BTreeMap<String, Entry>,
}

#[derive(Clone, Debug, PartialEq)]
struct Entry {
    outputs: BTreeMap<String, Value>,
    stored_ms: u64,
}

impl StepCache {
    /// The outputs stored under `key`, if stored no more than
    /// `max_staleness_ms` before `now_ms` (`None`: any age).
    pub fn lookup(
        &self,
        key: &str,
        now_ms: u64,
        max_staleness_ms: Option<u64>,
    ) -> Option<&BTreeMap<String, Value>> {
        let entry = self.entries.get(key)?;
        let age = now_ms.saturating_sub(entry.stored_ms);
        match max_staleness_ms {
            Some(max) if age > max => None,
            _ => Some(&entry.outputs),
        }
    }

    /// Stores `outputs` under `key` at `now_ms`, replacing an older entry.
    pub fn insert(&mut self, key: String, outputs: BTreeMap<String, Value>, now_ms: u64) {
        self.entries.insert(
            key,
            Entry {
                outputs,
                stored_ms: now_ms,
            },
        );
    }

    /// How many entries it holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether it holds no entry.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// The cache key of an execution: the SHA-256 (hex) of the component spec
/// and the inputs, each written canonically (maps by sorted key), so equal
/// inputs always give the same key whatever order they were built in.
pub fn cache_key(spec: &str, inputs: &BTreeMap<String, Value>) -> String {
    let mut text = String::new();
    write_str(&mut text, spec);
    for (name, value) in inputs {
        write_str(&mut text, name);
        match value {
            Value::Parameter(v) => {
                text.push('p');
                canonical(&mut text, v);
            }
            Value::Artifacts(list) => {
                text.push('a');
                for a in list {
                    write_str(&mut text, &a.uri);
                    write_str(&mut text, &a.schema);
                    for (k, v) in &a.metadata {
                        write_str(&mut text, k);
                        canonical(&mut text, v);
                    }
                }
            }
        }
    }
    let digest = Sha256::digest(text.as_bytes());
    let mut hex = String::with_capacity(64);
    for byte in digest {
        let _ = write!(hex, "{byte:02x}");
    }
    hex
}

/// Length-prefixed, so that no two different sequences write the same text.
fn write_str(out: &mut String, s: &str) {
    let _ = write!(out, "{}:{s}", s.len());
}

fn canonical(out: &mut String, v: &Json) {
    match v {
        Json::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for k in keys {
                write_str(out, k);
                if let Some(inner) = map.get(k) {
                    canonical(out, inner);
                }
            }
            out.push('}');
        }
        Json::Array(items) => {
            out.push('[');
            for i in items {
                canonical(out, i);
                out.push(',');
            }
            out.push(']');
        }
        Json::String(s) => {
            out.push('s');
            write_str(out, s);
        }
        other => {
            let _ = write!(out, "{other};");
        }
    }
}
