//! What changes when a document is read and written back.
//!
//! A controller that reads an object, changes one field and writes it back must
//! not drop what the user set. [`diff`] compares a document as parsed with the
//! typed resource written back, and sorts each difference into a documented
//! class, so tests (and cautious tools) can tell the expected normalizations from
//! a real loss:
//!
//! | class | what happens | why |
//! |---|---|---|
//! | [`NullDropped`](DifferenceKind::NullDropped) | `field: null` is left out | an absent optional and a null one mean the same to the API server |
//! | [`UnknownDropped`](DifferenceKind::UnknownDropped) | a field the upstream schema does not declare is left out | the API server prunes it too; the loader lists it in `Document::ignored_fields` |
//! | [`DefaultAdded`](DifferenceKind::DefaultAdded) | a required field the input left out is written as its default (`""`, `0`, `{}`) | required fields are plain values in Rust, not `Option`s |
//! | [`NumberNormalized`](DifferenceKind::NumberNormalized) | a quantity written as a number (`cpu: 1`) is written as a string (`"1"`); `1` and `1.0` compare equal | `Quantity` is a string type upstream; numbers are compared by value |
//! | [`Changed`](DifferenceKind::Changed) | anything else | a loss: never expected |

use serde_json::Value;

/// The class of one difference, see the module docs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DifferenceKind {
    /// The input had `null`; the output leaves the field out.
    NullDropped,
    /// The input had a field the typed kind does not declare.
    UnknownDropped,
    /// The output has a field the input did not: a required field's default.
    DefaultAdded,
    /// A number became an equal string, or an equal number of another form.
    NumberNormalized,
    /// Any other change: a real loss or corruption.
    Changed,
}

/// One difference between input and output.
#[derive(Clone, Debug, PartialEq)]
pub struct Difference {
    /// Field path, e.g. `spec.template.spec.containers[0].resources.limits.cpu`.
    pub path: String,
    /// Its class.
    pub kind: DifferenceKind,
}

/// Differences between `input` (a document as parsed) and `output` (the typed
/// resource written back); `ignored` are the paths the loader reported as not
/// declared by the kind.
///
/// ```
/// use keelson_crd::roundtrip::{DifferenceKind, diff};
///
/// let doc = &keelson_crd::load("q.yaml", r#"
/// apiVersion: kueue.x-k8s.io/v1beta2
/// kind: ResourceFlavor
/// metadata: { name: default-flavor }
/// spec: { nodeLabels: null, colour: blue }
/// "#).unwrap()[0];
/// let written = doc.resource.to_value().unwrap();
/// let kinds: Vec<_> = diff(&doc.raw, &written, &doc.ignored_fields)
///     .into_iter().map(|d| (d.path, d.kind)).collect();
/// assert_eq!(kinds, vec![
///     ("spec.colour".to_string(), DifferenceKind::UnknownDropped),
///     ("spec.nodeLabels".to_string(), DifferenceKind::NullDropped),
/// ]);
/// ```
pub fn diff(input: &Value, output: &Value, ignored: &[String]) -> Vec<Difference> {
    let mut out = Vec::new();
    walk(input, output, String::new(), ignored, &mut out);
    out
}

/// `true` when every difference is one of the documented normalizations.
pub fn is_lossless(differences: &[Difference]) -> bool {
    differences
        .iter()
        .all(|d| d.kind != DifferenceKind::Changed)
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

/// A number that compares equal by value was only normalized; anything else changed.
fn number_kind(same: bool) -> DifferenceKind {
    if same {
        DifferenceKind::NumberNormalized
    } else {
        DifferenceKind::Changed
    }
}

fn walk(
    input: &Value,
    output: &Value,
    path: String,
    ignored: &[String],
    out: &mut Vec<Difference>,
) {
    let mut push = |path: String, kind| out.push(Difference { path, kind });
    match (input, output) {
        (Value::Object(a), Value::Object(b)) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            for key in keys {
                let p = join(&path, key);
                match (a.get(key), b.get(key)) {
                    (Some(x), Some(y)) => walk(x, y, p, ignored, out),
                    (Some(Value::Null), None) => out.push(Difference {
                        path: p,
                        kind: DifferenceKind::NullDropped,
                    }),
                    (Some(_), None) if ignored.contains(&p) => out.push(Difference {
                        path: p,
                        kind: DifferenceKind::UnknownDropped,
                    }),
                    (Some(_), None) => out.push(Difference {
                        path: p,
                        kind: DifferenceKind::Changed,
                    }),
                    (None, Some(_)) => out.push(Difference {
                        path: p,
                        kind: DifferenceKind::DefaultAdded,
                    }),
                    (None, None) => {}
                }
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                walk(x, y, format!("{path}[{i}]"), ignored, out);
            }
        }
        (Value::Number(a), Value::Number(b)) => {
            if a != b {
                let same = a.as_f64().zip(b.as_f64()).is_some_and(|(x, y)| x == y);
                push(path, number_kind(same));
            }
        }
        (Value::Number(a), Value::String(b)) => {
            let same = a.to_string() == *b
                || a.as_f64()
                    .zip(b.parse::<f64>().ok())
                    .is_some_and(|(x, y)| x == y);
            push(path, number_kind(same));
        }
        (a, b) if a == b => {}
        _ => push(path, DifferenceKind::Changed),
    }
}
