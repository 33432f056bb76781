//! The reference-case format of the drift anchors (`drift-refvectors/1`) and a
//! runner that evaluates every method key keelson knows on each case.
//!
//! `examples/drift_conformance.rs` is a thin shell over [`run_file`]; the
//! crate's own conformance test uses [`compare`] to check every record against
//! the expected output. A case file holds one JSON object:
//!
//! ```text
//! {"schema": "drift-refvectors/1", "cases": [{"name", "kind": "numeric"|"categorical"|"numeric_nan",
//!   "ref": [..], "cur": [..], "outputs": {method_key: float | {"statistic","pvalue",..} | {"error": ".."}}}]}
//! ```
//!
//! Floats may be the strings `"NaN"`, `"Infinity"` and `"-Infinity"`. For
//! `numeric_nan` cases the NaNs are dropped (what Evidently and NannyML do) and
//! the expected outputs are read from `outputs.dropna`.

use serde_json::{Map, Value};

use crate::categorical::{Category, CategoryCounts};
use crate::error::{Error, Result};
use crate::named;
use crate::outcome::TestResult;
use crate::sample::SortedSample;

/// One output line of the runner: a method's result on a case, or its error.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// The case's name.
    pub name: String,
    /// The method key, e.g. `ks_2samp_auto`.
    pub method: String,
    /// The result, or the error message where keelson rejects the input.
    pub outcome: std::result::Result<TestResult, String>,
}

impl Record {
    /// The record as one JSON line: floats with 17 significant digits, and
    /// NaN / infinities as the strings `"NaN"`, `"Infinity"`, `"-Infinity"`.
    pub fn to_json_line(&self) -> String {
        let mut line = format!(
            "{{\"name\":{},\"method\":{}",
            Value::String(self.name.clone()),
            Value::String(self.method.clone())
        );
        match &self.outcome {
            Ok(result) => {
                line.push_str(",\"statistic\":");
                line.push_str(&format_float(result.statistic));
                if let Some(p) = result.pvalue {
                    line.push_str(",\"pvalue\":");
                    line.push_str(&format_float(p));
                }
            }
            Err(message) => {
                line.push_str(",\"error\":");
                line.push_str(&Value::String(message.clone()).to_string());
            }
        }
        line.push('}');
        line
    }
}

/// Format a float as the anchors do: 17 significant digits, non-finite values as strings.
pub fn format_float(x: f64) -> String {
    if x.is_nan() {
        "\"NaN\"".to_string()
    } else if x == f64::INFINITY {
        "\"Infinity\"".to_string()
    } else if x == f64::NEG_INFINITY {
        "\"-Infinity\"".to_string()
    } else {
        format!("{x:.16e}")
    }
}

/// Read a float written by the anchors (a number or one of the NaN/infinity strings).
pub fn parse_float(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => match s.as_str() {
            "NaN" | "nan" => Some(f64::NAN),
            "Infinity" | "inf" => Some(f64::INFINITY),
            "-Infinity" | "-inf" => Some(f64::NEG_INFINITY),
            _ => None,
        },
        _ => None,
    }
}

/// The runner's output for a whole file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Run {
    /// One record per (case, known method key), in file order.
    pub records: Vec<Record>,
    /// `(case, key)` for every output key the runner does not know.
    pub skipped: Vec<(String, String)>,
}

/// Run every known method key of every case in a case file's text.
///
/// # Errors
/// [`Error::InvalidParameter`] naming the case and field when the file does
/// not follow the format. Method failures are not errors: they become records
/// with an error message.
pub fn run_file(text: &str) -> Result<Run> {
    let root: Value = serde_json::from_str(text)
        .map_err(|e| Error::invalid("case file", format!("not JSON: {e}")))?;
    let cases = root
        .get("cases")
        .and_then(Value::as_array)
        .ok_or_else(|| Error::invalid("cases", "missing or not an array"))?;
    let mut run = Run::default();
    for (i, case) in cases.iter().enumerate() {
        let one = run_case(case).map_err(|e| match e {
            Error::InvalidParameter { name, reason } => Error::InvalidParameter {
                name: format!("cases[{i}].{name}"),
                reason,
            },
            other => other,
        })?;
        run.records.extend(one.records);
        run.skipped.extend(one.skipped);
    }
    Ok(run)
}

/// The expected outputs of a case (`outputs`, or `outputs.dropna` for `numeric_nan` cases).
pub fn expected_outputs(case: &Value) -> Option<&Map<String, Value>> {
    let outputs = case.get("outputs")?;
    let outputs = if case.get("kind").and_then(Value::as_str) == Some("numeric_nan") {
        outputs.get("dropna")?
    } else {
        outputs
    };
    outputs.as_object()
}

/// Run every known method key of one case.
///
/// # Errors
/// [`Error::InvalidParameter`] naming the field when the case is malformed.
pub fn run_case(case: &Value) -> Result<Run> {
    let name = case
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| Error::invalid("name", "missing or not a string"))?
        .to_string();
    let kind = case
        .get("kind")
        .and_then(Value::as_str)
        .ok_or_else(|| Error::invalid("kind", "missing or not a string"))?;
    let outputs = expected_outputs(case)
        .ok_or_else(|| Error::invalid("outputs", "missing or not an object"))?;
    let field = |key: &str| {
        case.get(key)
            .and_then(Value::as_array)
            .ok_or_else(|| Error::invalid(key, "missing or not an array"))
    };
    let (reference, current) = (field("ref")?, field("cur")?);
    let mut run = Run::default();
    let mut push = |method: &str, outcome: Option<Result<TestResult>>| match outcome {
        Some(outcome) => run.records.push(Record {
            name: name.clone(),
            method: method.to_string(),
            outcome: outcome.map_err(|e| e.to_string()),
        }),
        None => run.skipped.push((name.clone(), method.to_string())),
    };
    match kind {
        "numeric" | "numeric_nan" => {
            let reference = numbers(reference, "ref")?;
            let current = numbers(current, "cur")?;
            let finite = |v: Vec<f64>| v.into_iter().filter(|x| !x.is_nan()).collect::<Vec<_>>();
            let (reference, current) = (finite(reference), finite(current));
            let sorted_reference = SortedSample::from_vec(reference.clone(), "reference")?;
            let sorted_current = SortedSample::from_vec(current.clone(), "current")?;
            let input = named::NumericInput {
                reference: &reference,
                current: &current,
                sorted_reference: &sorted_reference,
                sorted_current: &sorted_current,
            };
            for method in outputs.keys() {
                push(method, named::numeric(method, &input));
            }
        }
        "categorical" => {
            let counts = CategoryCounts::from_values(
                categories(reference, "ref")?,
                categories(current, "cur")?,
            );
            for method in outputs.keys() {
                push(method, named::categorical(method, &counts));
            }
        }
        other => {
            return Err(Error::invalid(
                "kind",
                format!("unknown case kind {other:?}"),
            ));
        }
    }
    Ok(run)
}

fn numbers(values: &[Value], field: &str) -> Result<Vec<f64>> {
    values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            parse_float(v).ok_or_else(|| Error::invalid(&format!("{field}[{i}]"), "not a number"))
        })
        .collect()
}

fn categories(values: &[Value], field: &str) -> Result<Vec<Category>> {
    values
        .iter()
        .enumerate()
        .map(|(i, v)| match v {
            Value::Bool(b) => Ok(Category::Bool(*b)),
            Value::Number(n) => match n.as_i64() {
                Some(k) => Ok(Category::Int(k)),
                None => n
                    .as_f64()
                    .map(Category::Float)
                    .ok_or_else(|| Error::invalid(&format!("{field}[{i}]"), "bad number")),
            },
            Value::String(s) => Ok(Category::Str(s.clone())),
            _ => Err(Error::invalid(
                &format!("{field}[{i}]"),
                "a category must be a bool, number or string",
            )),
        })
        .collect()
}

/// How a record compares with the expected output of its key.
#[derive(Debug, Clone, PartialEq)]
pub enum Comparison {
    /// Within tolerance.
    Match,
    /// Outside tolerance, or an error on one side only; the text says which number.
    Mismatch(String),
}

/// Compare a record with the expected output: relative tolerance `rtol` on the
/// statistic and p-value, p-values below 1e-300 equal, NaN equal to NaN, and an
/// expected error matched by any error.
pub fn compare(record: &Record, expected: &Value, rtol: f64) -> Comparison {
    let close = |got: f64, want: f64, floor: f64| {
        (got.is_nan() && want.is_nan())
            || got == want
            || (got.abs() < floor && want.abs() < floor)
            || ((got - want).abs() <= rtol * want.abs().max(got.abs()))
    };
    match (&record.outcome, expected) {
        (Err(_), Value::Object(o)) if o.contains_key("error") => Comparison::Match,
        (Err(e), _) => Comparison::Mismatch(format!("keelson rejected the input: {e}")),
        (Ok(_), Value::Object(o)) if o.contains_key("error") => {
            Comparison::Mismatch(format!("expected an error: {}", o["error"]))
        }
        (Ok(r), Value::Object(o)) => {
            let want_stat = o.get("statistic").and_then(parse_float);
            let want_p = o.get("pvalue").and_then(parse_float);
            if let Some(want) = want_stat
                && !close(r.statistic, want, 0.0)
            {
                return Comparison::Mismatch(format!("statistic {} != {}", r.statistic, want));
            }
            match (want_p, r.pvalue) {
                (Some(want), Some(got)) if !close(got, want, 1e-300) => {
                    Comparison::Mismatch(format!("pvalue {got} != {want}"))
                }
                (Some(_), None) => Comparison::Mismatch("no pvalue".to_string()),
                _ => Comparison::Match,
            }
        }
        (Ok(r), want) => match parse_float(want) {
            Some(want) if close(r.statistic, want, 0.0) => Comparison::Match,
            Some(want) => Comparison::Mismatch(format!("statistic {} != {}", r.statistic, want)),
            None => Comparison::Mismatch(format!("unreadable expected value {want}")),
        },
    }
}
