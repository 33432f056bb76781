//! MLMD test helpers shared by tests/mlmd.rs (the reader) and
//! tests/import_mlmd.rs (the import): the fixture written by MLMD 1.17.1,
//! and MLMD's lineage walk over plain event rows, the reference both
//! compare against.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use keelson_lineage::mlmd::{Dump, TypeKind};
use rusqlite::Connection;
use serde_json::json;

pub fn anchors() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/anchors/lineage")
}

/// The fixture, or `None` (with a note) where the shared anchors are not
/// checked out beside the repository; under `CI=true` a missing fixture fails.
pub fn fixture() -> Option<(PathBuf, serde_json::Value)> {
    let db = anchors().join("mlmd_fixture.sqlite");
    if !db.exists() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "the MLMD fixture {} is missing",
            db.display()
        );
        println!("skipped: no MLMD fixture at {}", db.display());
        return None;
    }
    let expected = std::fs::read_to_string(anchors().join("mlmd_fixture.expected.json")).unwrap();
    Some((db, serde_json::from_str(&expected).unwrap()))
}

pub fn user_types(dump: &Dump, kind: TypeKind) -> usize {
    dump.types
        .iter()
        .filter(|t| t.kind == kind && !t.system)
        .count()
}

pub fn state_counts(
    states: impl Iterator<Item = Option<i64>>,
    names: &[&str],
) -> serde_json::Value {
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    for state in states {
        let name = state
            .and_then(|s| names.get(usize::try_from(s).ok()?))
            .copied()
            .unwrap_or("UNKNOWN");
        *counts.entry(name.to_owned()).or_default() += 1;
    }
    json!(counts)
}

#[derive(Clone, Copy, PartialEq)]
pub enum Direction {
    Upstream,
    Downstream,
}

pub fn is_input(event_type: i64) -> bool {
    // DECLARED_INPUT, INPUT, INTERNAL_INPUT.
    matches!(event_type, 2 | 3 | 5)
}

/// MLMD's lineage subgraph from one artifact: a hop is one artifact ↔
/// execution step along an event (upstream: artifact → the execution that
/// output it → its inputs; downstream the reverse); nodes at most
/// `max_hops` away, the events between them, and their contexts.
pub struct Lineage {
    pub artifacts: BTreeSet<i64>,
    pub executions: BTreeSet<i64>,
    pub events: usize,
    pub contexts: BTreeSet<i64>,
}

pub fn walk(
    events: &[(i64, i64, i64)],
    attributions: &[(i64, i64)],
    associations: &[(i64, i64)],
    start: i64,
    direction: Direction,
    max_hops: usize,
) -> Lineage {
    let mut artifacts = BTreeSet::from([start]);
    let mut executions = BTreeSet::new();
    let mut frontier_artifacts = vec![start];
    let mut frontier_executions = Vec::new();
    for hop in 0..max_hops {
        if hop % 2 == 0 {
            let mut next = Vec::new();
            for &(artifact, execution, event_type) in events {
                let follows = match direction {
                    Direction::Upstream => !is_input(event_type),
                    Direction::Downstream => is_input(event_type),
                };
                if follows && frontier_artifacts.contains(&artifact) && executions.insert(execution)
                {
                    next.push(execution);
                }
            }
            frontier_executions = next;
        } else {
            let mut next = Vec::new();
            for &(artifact, execution, event_type) in events {
                let follows = match direction {
                    Direction::Upstream => is_input(event_type),
                    Direction::Downstream => !is_input(event_type),
                };
                if follows && frontier_executions.contains(&execution) && artifacts.insert(artifact)
                {
                    next.push(artifact);
                }
            }
            frontier_artifacts = next;
        }
    }
    let events = events
        .iter()
        .filter(|(a, e, _)| artifacts.contains(a) && executions.contains(e))
        .count();
    let contexts = attributions
        .iter()
        .filter(|(_, a)| artifacts.contains(a))
        .map(|(c, _)| *c)
        .chain(
            associations
                .iter()
                .filter(|(_, e)| executions.contains(e))
                .map(|(c, _)| *c),
        )
        .collect();
    Lineage {
        artifacts,
        executions,
        events,
        contexts,
    }
}

/// `(artifact, execution, type)` per event, and `(context, node)` per
/// attribution and per association.
pub type Edges = (Vec<(i64, i64, i64)>, Vec<(i64, i64)>, Vec<(i64, i64)>);

pub fn edges(dump: &Dump) -> Edges {
    (
        dump.events
            .iter()
            .map(|e| (e.artifact_id, e.execution_id, e.event_type))
            .collect(),
        dump.attributions
            .iter()
            .map(|a| (a.context_id, a.artifact_id))
            .collect(),
        dump.associations
            .iter()
            .map(|a| (a.context_id, a.execution_id))
            .collect(),
    )
}

pub fn scratch_copy(source: &Path, name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("keelson-mlmd-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let copy = dir.join("mlmd.sqlite");
    std::fs::copy(source, &copy).unwrap();
    copy
}

pub fn count(db: &Connection, sql: &str) -> usize {
    let n: i64 = db.query_row(sql, [], |r| r.get(0)).unwrap();
    usize::try_from(n).unwrap()
}
