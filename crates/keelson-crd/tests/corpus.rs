//! Every real upstream manifest in the corpus is read, and written back without loss.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;

use keelson_crd::roundtrip::{DifferenceKind, diff};

#[test]
fn every_corpus_manifest_loads() {
    let mut failures = Vec::new();
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for path in common::corpus_files() {
        match keelson_crd::load_file(&path) {
            Ok(docs) => {
                for d in docs {
                    let class = if d.resource.is_typed() {
                        "typed"
                    } else if matches!(d.resource, keelson_crd::AnyResource::Core(_)) {
                        "core"
                    } else {
                        "unknown"
                    };
                    *counts
                        .entry(format!(
                            "{class:7} {} {}",
                            d.resource.api_version(),
                            d.resource.kind()
                        ))
                        .or_default() += 1;
                }
            }
            Err(e) => failures.push(e.to_string()),
        }
    }
    for (k, n) in &counts {
        println!("{n:5} {k}");
    }
    assert!(
        failures.is_empty(),
        "{} files failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(
        counts.keys().any(|k| k.starts_with("typed")),
        "no typed resources found"
    );
}

#[test]
fn every_corpus_manifest_round_trips() {
    let mut losses = Vec::new();
    let mut by_kind: BTreeMap<DifferenceKind, usize> = BTreeMap::new();
    for path in common::corpus_files() {
        let Ok(docs) = keelson_crd::load_file(&path) else {
            continue;
        };
        for d in docs.iter().filter(|d| d.resource.is_typed()) {
            let written = d.resource.to_value().unwrap();
            // What the crate writes, it must read back as declared fields only.
            let reread = keelson_crd::load("written.json", &written.to_string()).unwrap();
            for field in &reread[0].ignored_fields {
                losses.push(format!(
                    "{} doc {}: wrote undeclared field {field}",
                    common::short(&path),
                    d.index
                ));
            }
            for difference in diff(&d.raw, &written, &d.ignored_fields) {
                *by_kind.entry(difference.kind).or_default() += 1;
                if difference.kind == DifferenceKind::Changed {
                    losses.push(format!(
                        "{} doc {}: {}",
                        common::short(&path),
                        d.index,
                        difference.path
                    ));
                }
            }
        }
    }
    println!("documented differences: {by_kind:?}");
    assert!(
        losses.is_empty(),
        "{} fields changed on a round trip:\n{}",
        losses.len(),
        losses.join("\n")
    );
}
