//! Loads every manifest under a directory, validates each object, and prints a
//! table: kind, namespace/name, and the problems found (or "ok").
//!
//! ```text
//! cargo run --release --example quickstart [DIR]
//! ```
//!
//! `DIR` defaults to `examples/manifests`. Exits with status 1 when a file cannot
//! be read at all, so the command can gate a CI step.

use std::path::PathBuf;
use std::process::ExitCode;

use keelson::crd::{self, validate::validate};

fn main() -> ExitCode {
    let dir = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/manifests"));
    let files = match crd::manifest_files(&dir) {
        Ok(files) => files,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut rows: Vec<[String; 3]> = Vec::new();
    let mut unreadable = 0;
    let (mut objects, mut clean) = (0, 0);
    for file in &files {
        let shown = file
            .strip_prefix(&dir)
            .unwrap_or(file)
            .display()
            .to_string();
        for result in crd::Loader::new().load_all(&shown, &read(file)) {
            match result {
                Ok(document) => {
                    objects += 1;
                    let meta = document.resource.metadata();
                    let name = match &meta.namespace {
                        Some(ns) => format!("{ns}/{}", meta.name.as_deref().unwrap_or("?")),
                        None => meta.name.clone().unwrap_or_else(|| "?".into()),
                    };
                    let problems = validate(&document);
                    if problems.is_empty() {
                        clean += 1;
                    }
                    let problems = if problems.is_empty() {
                        "ok".to_owned()
                    } else {
                        problems
                            .iter()
                            .map(ToString::to_string)
                            .collect::<Vec<_>>()
                            .join("; ")
                    };
                    rows.push([document.resource.kind(), name, problems]);
                }
                Err(e) => {
                    unreadable += 1;
                    rows.push(["(unreadable)".into(), shown.clone(), e.to_string()]);
                }
            }
        }
    }
    print_table(&["KIND", "NAMESPACE/NAME", "PROBLEMS"], &rows);
    println!(
        "\n{} files, {objects} objects: {clean} ok, {} with problems, {unreadable} unreadable",
        files.len(),
        objects - clean
    );
    if unreadable > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn read(path: &std::path::Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| format!("{{\"error\": {:?}}}", e.to_string()))
}

fn print_table(header: &[&str; 3], rows: &[[String; 3]]) {
    let mut widths = header.map(str::len);
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row).take(2) {
            *w = (*w).max(cell.len());
        }
    }
    println!(
        "{:w0$}  {:w1$}  {}",
        header[0],
        header[1],
        header[2],
        w0 = widths[0],
        w1 = widths[1]
    );
    for row in rows {
        println!(
            "{:w0$}  {:w1$}  {}",
            row[0],
            row[1],
            row[2],
            w0 = widths[0],
            w1 = widths[1]
        );
    }
}
