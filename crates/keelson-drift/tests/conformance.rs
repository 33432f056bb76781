//! The drift anchors' reference cases: every method key keelson knows must
//! reproduce scipy's (and the anchor definitions') numbers to a relative 1e-9.
//!
//! The cases live beside the repository in `../shared/anchors/drift/`
//! (override with `KEELSON_DRIFT_CASES=path`); the test fails when they are missing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use keelson_drift::conformance::{self, Comparison, Record, expected_outputs, parse_float};
use serde_json::Value;

fn cases_path() -> PathBuf {
    std::env::var_os("KEELSON_DRIFT_CASES")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../../shared/anchors/drift/cases_public.json")
        })
}

/// Output keys that describe the case rather than name a method.
const DESCRIPTIVE_KEYS: &[&str] = &["categories", "contingency_2xK", "psi_quantile10_counts"];

#[test]
fn shared_cases_match_scipy() {
    let path = cases_path();
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "reading the drift reference cases at {}: {e}",
            path.display()
        )
    });
    let root: Value = serde_json::from_str(&text).unwrap();
    let run = conformance::run_file(&text).unwrap();
    let cases: Vec<&Value> = root["cases"].as_array().unwrap().iter().collect();
    let mut mismatches = Vec::new();
    for record in &run.records {
        let case = cases
            .iter()
            .find(|c| c["name"] == record.name.as_str())
            .unwrap();
        let expected = &expected_outputs(case).unwrap()[&record.method];
        if let Comparison::Mismatch(why) = conformance::compare(record, expected, 1e-9) {
            mismatches.push(format!("{} / {}: {why}", record.name, record.method));
        }
    }
    let unexpected_skips: Vec<_> = run
        .skipped
        .iter()
        .filter(|(_, key)| !DESCRIPTIVE_KEYS.contains(&key.as_str()))
        .collect();
    println!(
        "{} records compared, {} keys skipped",
        run.records.len(),
        run.skipped.len()
    );
    assert!(
        mismatches.is_empty(),
        "{} mismatches:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
    assert!(
        unexpected_skips.is_empty(),
        "method keys not implemented: {unexpected_skips:?}"
    );
    assert!(
        run.records.len() > 300,
        "too few records: {}",
        run.records.len()
    );
}

#[test]
fn records_print_as_the_anchor_format() {
    let record = Record {
        name: "c".into(),
        method: "ks_2samp_auto".into(),
        outcome: Ok(keelson_drift::TestResult::test(0.1, f64::NAN)),
    };
    let line: Value = serde_json::from_str(&record.to_json_line()).unwrap();
    assert_eq!(line["name"], "c");
    assert_eq!(parse_float(&line["statistic"]), Some(0.1));
    assert_eq!(line["pvalue"], "NaN");
    let error = Record {
        name: "c".into(),
        method: "m".into(),
        outcome: Err("ValueError: x".into()),
    };
    let line: Value = serde_json::from_str(&error.to_json_line()).unwrap();
    assert_eq!(line["error"], "ValueError: x");
    assert!(line.get("statistic").is_none());
}

#[test]
fn a_wrong_number_is_caught() {
    let record = Record {
        name: "c".into(),
        method: "m".into(),
        outcome: Ok(keelson_drift::TestResult::distance(1.0)),
    };
    let expected: Value = serde_json::json!(1.000_000_01);
    assert!(matches!(
        conformance::compare(&record, &expected, 1e-9),
        Comparison::Mismatch(_)
    ));
    assert_eq!(
        conformance::compare(&record, &serde_json::json!(1.0), 1e-9),
        Comparison::Match
    );
}

#[test]
fn malformed_case_files_name_the_field() {
    let err = conformance::run_file(r#"{"cases": [{"name": "x", "kind": "numeric", "ref": [1, "a"], "cur": [1], "outputs": {}}]}"#)
        .unwrap_err()
        .to_string();
    assert!(err.contains("cases[0].ref[1]"), "{err}");
    let err = conformance::run_file("[]").unwrap_err().to_string();
    assert!(err.contains("cases"), "{err}");
}
