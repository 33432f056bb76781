//! Every compiled KFP pipeline under `KEELSON_KFP_CORPUS` (default
//! `../shared/corpus/kfp` beside the repository): the DAG holds every task
//! and dependency of the YAML (read here independently of the crate), and
//! a simulated run, with undecidable conditions taken and then not taken,
//! runs every task after its dependencies or skips it by a false condition.
//! Pipelines the crate refuses are listed with the feature; none may panic.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use keelson_sched::Error;
use keelson_sched::dag::{Branches, Dag, LineageEvent, Work};
use keelson_sched::kfp::KfpPipeline;
use serde::Deserialize;
use serde_json::Value as Json;

fn corpus_dir() -> PathBuf {
    match std::env::var_os("KEELSON_KFP_CORPUS") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/kfp"),
    }
}

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            yaml_files(&path, out);
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml" | "json")
        ) {
            out.push(path);
        }
    }
}

/// The pipeline document, read without the crate.
fn pipeline_doc(text: &str) -> Option<Json> {
    for doc in serde_yaml_ng::Deserializer::from_str(text) {
        let v = Json::deserialize(doc).ok()?;
        if v.get("root").is_some() {
            return Some(v);
        }
        if let Some(inner) = v.get("pipelineSpec").filter(|i| i.get("root").is_some()) {
            return Some(inner.clone());
        }
    }
    None
}

/// Checks that every task of a YAML DAG component, recursively, is a step
/// of `dag` with every dependency it names (explicit or through inputs).
fn check_structure(doc: &Json, component: &Json, dag: &Dag, path: &str) -> Result<usize, String> {
    let tasks = component
        .pointer("/dag/tasks")
        .and_then(Json::as_object)
        .ok_or_else(|| format!("{path}: no dag.tasks"))?;
    let mut count = 0;
    for (name, task) in tasks {
        let here = format!("{path}/{name}");
        let step = dag
            .step(name)
            .ok_or_else(|| format!("task {here} missing from the DAG"))?;
        let deps = step.dependencies();
        let mut named: BTreeSet<String> = task
            .get("dependentTasks")
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
            .filter_map(|d| d.as_str().map(str::to_owned))
            .collect();
        for section in ["parameters", "artifacts"] {
            let inputs = task
                .pointer(&format!("/inputs/{section}"))
                .and_then(Json::as_object);
            for spec in inputs.into_iter().flat_map(|m| m.values()) {
                for kind in [
                    "taskOutputParameter",
                    "taskOutputArtifact",
                    "taskFinalStatus",
                ] {
                    if let Some(p) = spec
                        .pointer(&format!("/{kind}/producerTask"))
                        .and_then(Json::as_str)
                    {
                        named.insert(p.to_owned());
                    }
                }
            }
        }
        for dep in &named {
            if !deps.contains(dep.as_str()) {
                return Err(format!("task {here}: dependency {dep} missing"));
            }
        }
        let comp_name = task
            .pointer("/componentRef/name")
            .and_then(Json::as_str)
            .unwrap_or_default();
        let comp = doc.pointer(&format!(
            "/components/{}",
            comp_name.replace('~', "~0").replace('/', "~1")
        ));
        match (&step.work, comp) {
            (Work::Group(inner), Some(c)) => count += check_structure(doc, c, inner, &here)?,
            (Work::Task { .. }, Some(c)) if c.get("executorLabel").is_some() => count += 1,
            _ => {
                return Err(format!(
                    "task {here}: component {comp_name} does not match the step"
                ));
            }
        }
    }
    Ok(count)
}

/// Lineage: every execution event is a completed task with its inputs.
fn check_lineage(events: &[LineageEvent], executions: usize) -> Result<(), String> {
    if events.len() != executions {
        return Err(format!(
            "{} lineage events for {executions} executions",
            events.len()
        ));
    }
    for e in events {
        if e.component.is_empty() || e.execution.is_empty() {
            return Err(format!(
                "lineage event without an execution or a component: {e:?}"
            ));
        }
    }
    Ok(())
}

#[test]
fn every_compiled_pipeline_builds_and_runs_in_dependency_order() {
    let dir = corpus_dir();
    let mut files = Vec::new();
    yaml_files(&dir, &mut files);
    assert!(!files.is_empty(), "no pipelines under {}", dir.display());
    let mut failures = Vec::new();
    let mut unsupported: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut ran = 0;
    let (mut tasks, mut executions, mut undecided, mut empty_loops) = (0, 0, 0, 0);
    for path in &files {
        let shown = path
            .strip_prefix(&dir)
            .unwrap_or(path)
            .display()
            .to_string();
        let text = std::fs::read_to_string(path).unwrap();
        let Some(doc) = pipeline_doc(&text) else {
            continue; // not a pipeline spec (a component, a platform file)
        };
        let pipeline = match KfpPipeline::from_yaml(&text) {
            Ok(p) => p,
            Err(Error::Unsupported { item, feature }) => {
                unsupported
                    .entry(feature)
                    .or_default()
                    .push(format!("{shown} ({item})"));
                continue;
            }
            Err(e) => {
                failures.push(format!("{shown}: refused: {e}"));
                continue;
            }
        };
        match check_structure(&doc, &doc["root"], &pipeline.dag, "root") {
            Ok(n) => tasks += n,
            Err(e) => {
                failures.push(format!("{shown}: {e}"));
                continue;
            }
        }
        for branches in [Branches::Taken, Branches::NotTaken] {
            let sim = match pipeline.simulate(branches, 100_000) {
                Ok(sim) => sim,
                Err(e) => {
                    failures.push(format!("{shown} ({branches:?}): {e}"));
                    continue;
                }
            };
            if let Err(e) = sim
                .verify(&pipeline.dag)
                .and_then(|()| check_lineage(&sim.events, sim.executions.len()))
            {
                failures.push(format!("{shown} ({branches:?}): {e}"));
            }
            executions += sim.executions.len();
            undecided += sim.undecided.len();
            empty_loops += sim.steps.iter().filter(|s| s.iterations == Some(0)).count();
        }
        ran += 1;
    }
    eprintln!(
        "{} files, {ran} pipelines run both ways, {tasks} tasks, {executions} simulated executions, \
         {undecided} undecidable conditions settled, {empty_loops} loops over no items",
        files.len()
    );
    for (feature, pipelines) in &unsupported {
        eprintln!("unsupported {feature}: {}", pipelines.join(", "));
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
