//! Run keelson-drift on a drift reference-case file and print one JSON record
//! per (case, method key) keelson implements.
//!
//! ```text
//! cargo run --release --example drift_conformance -- CASES.json
//! ```
//!
//! The file format is the drift anchors' `drift-refvectors/1`; see
//! `keelson_drift::conformance`. Keys keelson does not know are skipped; the
//! number skipped goes to stderr.

use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: drift_conformance CASES.json");
        return ExitCode::from(2);
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) => {
            eprintln!("cannot read {path}: {e}");
            return ExitCode::FAILURE;
        }
    };
    match keelson_drift::conformance::run_file(&text) {
        Ok(run) => {
            for record in &run.records {
                println!("{}", record.to_json_line());
            }
            eprintln!(
                "{} records, {} keys skipped",
                run.records.len(),
                run.skipped.len()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{path}: {e}");
            ExitCode::FAILURE
        }
    }
}
