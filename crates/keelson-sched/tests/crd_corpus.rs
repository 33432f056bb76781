//! Every Kueue, JobSet and Trainer object of the real manifests under
//! `KEELSON_CRD_CORPUS` (default `../shared/corpus/crd` beside the
//! repository) converts, or is refused with the error listed here for a
//! documented reason; each file's Kueue objects make a set-up the
//! [`Scheduler`] accepts. Then every field of every such object is
//! mutated in turn (two mutations each, rotating through a list): no
//! conversion may panic on what the loader accepts.
#![cfg(feature = "crd")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use keelson_crd::{AnyResource, Document};
use keelson_sched::Scheduler;
use keelson_sched::manifests::{self, Manifests};
use serde_json::{Value, json};

fn corpus_dir() -> PathBuf {
    match std::env::var_os("KEELSON_CRD_CORPUS") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/crd"),
    }
}

fn relevant(r: &AnyResource) -> bool {
    let kind = r.kind();
    let api = r.api_version();
    (api.starts_with("kueue.x-k8s.io/")
        && matches!(
            kind.as_str(),
            "ClusterQueue"
                | "LocalQueue"
                | "ResourceFlavor"
                | "Cohort"
                | "Workload"
                | "WorkloadPriorityClass"
        ))
        || (api.starts_with("jobset.x-k8s.io/") && kind == "JobSet")
        || (api.starts_with("trainer.kubeflow.org/")
            && matches!(
                kind.as_str(),
                "TrainJob" | "TrainingRuntime" | "ClusterTrainingRuntime"
            ))
}

/// (file, documents) of every corpus file holding a relevant object.
fn corpus() -> Vec<(String, Vec<Document>)> {
    let dir = corpus_dir();
    let files =
        keelson_crd::manifest_files(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let mut out = Vec::new();
    for file in files {
        let shown = file
            .strip_prefix(&dir)
            .unwrap_or(&file)
            .display()
            .to_string();
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        let docs: Vec<Document> = keelson_crd::Loader::new()
            .load_all(&shown, &text)
            .into_iter()
            .filter_map(Result::ok)
            .filter(|d| relevant(&d.resource))
            .collect();
        if !docs.is_empty() {
            out.push((shown, docs));
        }
    }
    out
}

fn name_of(d: &Document) -> String {
    let meta = d.resource.metadata();
    let name = meta
        .name
        .as_deref()
        .or(meta.generate_name.as_deref())
        .unwrap_or("?");
    match &meta.namespace {
        Some(ns) => format!("{}/{ns}/{name}", d.resource.kind()),
        None => format!("{}/{name}", d.resource.kind()),
    }
}

/// Objects refused: (name prefix, part of the error), each for a reason.
const REFUSED: &[(&str, &str)] = &[
    // Jobs without a queue-name label: Kueue leaves them alone (they
    // convert when a default queue is given, checked below).
    ("JobSet/", "no kueue.x-k8s.io/queue-name label"),
    ("TrainJob/", "no kueue.x-k8s.io/queue-name label"),
    // Their pods name PriorityClasses that live in the cluster, not in the
    // corpus; Kubernetes would refuse such pods too.
    (
        "JobSet/hp-js",
        "priority class high-priority is not among the manifests",
    ),
    (
        "JobSet/lp-js",
        "priority class low-priority is not among the manifests",
    ),
    // The kubebuilder scaffold sample, an empty spec (with a default queue;
    // without one it has no queue label either).
    ("JobSet/jobset-sample", "no pods to run"),
    // The Flux examples' runtime is not in the corpus.
    (
        "TrainJob/lammps-flux",
        "no ClusterTrainingRuntime named `flux-distributed`",
    ),
];

/// The index of the [`REFUSED`] entry that explains `error` for `name`.
fn listed(name: &str, error: &keelson_sched::Error) -> Option<usize> {
    let text = error.to_string();
    REFUSED
        .iter()
        .position(|(prefix, why)| name.starts_with(prefix) && text.contains(why))
}

#[test]
fn every_corpus_object_converts_or_is_listed() {
    let corpus = corpus();
    assert!(
        !corpus.is_empty(),
        "no manifests under {}",
        corpus_dir().display()
    );

    // Runtimes and priority classes are shared across files, as in a cluster.
    let mut everything = Manifests::new();
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for (_, docs) in &corpus {
        for d in docs {
            assert!(everything.add(&d.resource).unwrap(), "{}", name_of(d));
            *counts.entry(d.resource.kind()).or_default() += 1;
        }
    }
    println!("objects by kind: {counts:?}");
    for kind in [
        "ClusterQueue",
        "LocalQueue",
        "ResourceFlavor",
        "JobSet",
        "TrainJob",
    ] {
        assert!(
            counts.get(kind).copied().unwrap_or(0) > 0,
            "no {kind} in the corpus"
        );
    }

    // One file's queues, flavors and cohorts are one set-up.
    let mut setups = 0;
    for (file, docs) in &corpus {
        let mut m = Manifests::new();
        for d in docs {
            m.add(&d.resource).unwrap();
            let converted = match &d.resource {
                AnyResource::ClusterQueue(q) => manifests::cluster_queue(q).map(drop),
                AnyResource::LocalQueue(q) => manifests::local_queue(q).map(drop),
                AnyResource::ResourceFlavor(f) => manifests::resource_flavor(f).map(drop),
                AnyResource::Cohort(c) => manifests::cohort(c).map(drop),
                _ => Ok(()),
            };
            converted.unwrap_or_else(|e| panic!("{file}: {}: {e}", name_of(d)));
        }
        let setup = m.setup().unwrap_or_else(|e| panic!("{file}: {e}"));
        if !setup.cluster_queues.is_empty() || !setup.flavors.is_empty() {
            setups += 1;
            Scheduler::new(setup).unwrap_or_else(|e| panic!("{file}: {e}"));
        }
    }
    assert!(setups >= 10, "only {setups} set-ups");

    let jobs: Vec<(String, &Document)> = corpus
        .iter()
        .flat_map(|(file, docs)| docs.iter().map(move |d| (file.clone(), d)))
        .filter(|(_, d)| {
            matches!(
                d.resource.kind().as_str(),
                "JobSet" | "TrainJob" | "Workload"
            )
        })
        .collect();
    let results = everything.workloads();
    assert_eq!(results.len(), jobs.len());
    let mut converted = 0;
    let mut used = vec![false; REFUSED.len()];
    for ((file, doc), result) in jobs.iter().zip(&results) {
        let name = name_of(doc);
        match result {
            Ok(w) => {
                converted += 1;
                println!(
                    "{file}: {name}: {} pod sets, {} pods, queue {}",
                    w.pod_sets.len(),
                    w.pod_sets.iter().map(|p| p.count).sum::<u32>(),
                    w.queue
                );
                if let AnyResource::JobSet(js) = &doc.resource {
                    let pods: u32 = w.pod_sets.iter().map(|p| p.count).sum();
                    assert_eq!(i64::from(pods), js.total_pods(), "{file}: {name}");
                }
            }
            Err(e) => {
                let entry = listed(&name, e);
                assert!(entry.is_some(), "{file}: {name}: unexpected error: {e}");
                used[entry.unwrap_or_default()] = true;
                println!("{file}: {name}: refused: {e}");
            }
        }
    }
    assert!(converted > 0);

    // With a default queue, only the missing priority classes and runtime
    // remain.
    let with_default = everything.clone().with_default_queue("default");
    for ((file, doc), result) in jobs.iter().zip(with_default.workloads()) {
        let name = name_of(doc);
        if let Err(e) = result {
            let entry = listed(&name, &e);
            assert!(
                entry.is_some_and(|i| !REFUSED[i].1.contains("queue-name")),
                "{file}: {name}: {e}"
            );
            used[entry.unwrap_or_default()] = true;
        }
    }
    assert!(
        used.iter().all(|u| *u),
        "a REFUSED entry matches nothing: {used:?}"
    );
}

/// Every leaf (and object) of `value`, by JSON pointer.
fn paths(value: &Value, at: String, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let key = k.replace('~', "~0").replace('/', "~1");
                out.push(format!("{at}/{key}"));
                paths(v, format!("{at}/{key}"), out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                out.push(format!("{at}/{i}"));
                paths(v, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn mutated_corpus_objects_never_panic() {
    let corpus = corpus();
    let mut base = Manifests::new();
    for (_, docs) in &corpus {
        for d in docs {
            if matches!(d.resource, AnyResource::ClusterTrainingRuntime(_)) {
                base.add(&d.resource).unwrap();
            }
        }
    }
    let mutations = [
        json!(-1),
        json!("-1"),
        json!("1e40Ei"),
        json!(""),
        json!(null),
        json!(2_147_483_647),
        json!({}),
        json!([]),
        json!("a/b"),
    ];
    let (mut tried, mut loaded) = (0, 0);
    for (_, docs) in &corpus {
        for d in docs {
            let mut all = Vec::new();
            paths(&d.raw, String::new(), &mut all);
            let fields = all
                .iter()
                .filter(|p| !p.starts_with("/apiVersion") && !p.starts_with("/kind"));
            // Two of the mutations per field, rotating, keep the test short.
            for (i, path) in fields.enumerate() {
                for m in [
                    &mutations[i % mutations.len()],
                    &mutations[(i + 4) % mutations.len()],
                ] {
                    let mut raw = d.raw.clone();
                    *raw.pointer_mut(path).unwrap() = m.clone();
                    tried += 1;
                    let Ok(docs) = keelson_crd::load("mutated.json", &raw.to_string()) else {
                        continue;
                    };
                    loaded += 1;
                    let mut mutated = base.clone().with_default_queue("default");
                    for doc in &docs {
                        let _ = mutated.add(&doc.resource);
                    }
                    if let Ok(setup) = mutated.setup() {
                        let _ = Scheduler::new(setup);
                    }
                    let _ = mutated.workloads();
                }
            }
        }
    }
    println!("{tried} mutations, {loaded} loaded and converted without a panic");
    assert!(loaded > 500, "{loaded}");
}
