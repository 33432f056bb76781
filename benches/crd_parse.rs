//! Throughput of the manifest loader over the whole corpus of real upstream
//! manifests (`KEELSON_CRD_CORPUS`, default `../shared/corpus/crd`), reported as
//! bytes per second. See docs/BENCHMARKS.md for the numbers and the machine.

// criterion_group! defines undocumented functions; a bench has no public API.
#![allow(missing_docs)]

use std::path::PathBuf;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn corpus() -> Vec<(String, String)> {
    let dir = std::env::var_os("KEELSON_CRD_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/crd"));
    let files = keelson::crd::manifest_files(&dir).unwrap_or_default();
    files
        .iter()
        .filter_map(|f| Some((f.display().to_string(), std::fs::read_to_string(f).ok()?)))
        .collect()
}

fn parse_corpus(c: &mut Criterion) {
    let files = corpus();
    if files.is_empty() {
        eprintln!("no corpus found; set KEELSON_CRD_CORPUS");
        return;
    }
    let bytes: usize = files.iter().map(|(_, text)| text.len()).sum();
    let mut group = c.benchmark_group("crd");
    group.throughput(Throughput::Bytes(bytes as u64));
    group.sample_size(20);
    group.bench_function("load_corpus", |b| {
        b.iter(|| {
            let mut objects = 0usize;
            for (name, text) in &files {
                objects += keelson::crd::Loader::new()
                    .load_all(name, text)
                    .into_iter()
                    .filter(Result::is_ok)
                    .count();
            }
            objects
        })
    });
    group.bench_function("load_and_write_back_corpus", |b| {
        b.iter(|| {
            let mut written = 0usize;
            for (name, text) in &files {
                for doc in keelson::crd::Loader::new()
                    .load_all(name, text)
                    .into_iter()
                    .flatten()
                {
                    written += usize::from(doc.resource.to_value().is_ok());
                }
            }
            written
        })
    });
    group.finish();
}

criterion_group!(benches, parse_corpus);
criterion_main!(benches);
