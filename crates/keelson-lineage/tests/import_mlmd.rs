//! Importing MLMD into a keelson store: the fixture written by MLMD 1.17.1
//! (`shared/anchors/lineage/mlmd_fixture.sqlite`) is imported into a fresh
//! SQLite store and checked against what MLMD's own API read back from it
//! (`mlmd_fixture.expected.json`: counts, states, child contexts, a sample
//! model, and keelson's `lineage_subgraph` against MLMD's 14 lineage
//! answers), and against the source tables (every count, and the upstream
//! lineage of 20 sampled artifacts against a walk over the source's `Event`
//! table). A second import changes nothing.
//!
//! With `KEELSON_MLMD_DB` naming another MLMD database of the same schema
//! version, `the_database_in_keelson_mlmd_db_imports_whole` runs the
//! source-table checks on it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use common::mlmd::{Direction as Walk, count, fixture, scratch_copy, walk};
use keelson_lineage::import::mlmd::{ImportOptions, ImportReport, import_mlmd};
use keelson_lineage::mlmd::{self, MlmdReader};
use keelson_lineage::{
    Direction, Error, LineageQuery, LineageStart, ListOptions, MetadataStore, SqliteStore,
    StoreCounts, Value,
};
use rusqlite::{Connection, OpenFlags};
use serde_json::json;

const DB: &str = "lineage.db";

async fn fresh() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join(DB)).await.unwrap();
    (dir, store)
}

fn read_only(path: &Path) -> Connection {
    Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap()
}

fn u(n: usize) -> u64 {
    u64::try_from(n).unwrap()
}

/// Every row of the source, counted from its tables (MLMD's own `mlmd.*`
/// types are not imported).
fn source_counts(source: &Connection) -> StoreCounts {
    let n = |sql: &str| u(count(source, sql));
    StoreCounts {
        types: n("SELECT COUNT(*) FROM Type WHERE name NOT LIKE 'mlmd.%'"),
        artifacts: n("SELECT COUNT(*) FROM Artifact"),
        executions: n("SELECT COUNT(*) FROM Execution"),
        contexts: n("SELECT COUNT(*) FROM Context"),
        events: n("SELECT COUNT(*) FROM Event"),
        attributions: n("SELECT COUNT(*) FROM Attribution"),
        associations: n("SELECT COUNT(*) FROM Association"),
        parent_contexts: n("SELECT COUNT(*) FROM ParentContext"),
    }
}

fn pairs(db: &Connection, sql: &str) -> Vec<(i64, i64)> {
    let mut s = db.prepare(sql).unwrap();
    s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .and_then(Iterator::collect)
        .unwrap()
}

/// Imports `path` into a fresh store and checks it against the source's
/// tables: every count (properties and path steps included), and the
/// upstream lineage of 20 sampled artifacts against MLMD's walk over the
/// source's `Event` table. Returns the store and the report.
async fn import_and_check_against_source(path: &Path) -> (tempfile::TempDir, SqliteStore) {
    let (dir, store) = fresh().await;
    let report = import_mlmd(path, &store, &ImportOptions::default())
        .await
        .unwrap();
    let source = read_only(path);
    let expected = source_counts(&source);
    assert_eq!(store.counts().await.unwrap(), expected);
    let t = report.tallies;
    assert_eq!(t.changed(), {
        let e = expected;
        e.types
            + e.artifacts
            + e.executions
            + e.contexts
            + e.events
            + e.attributions
            + e.associations
            + e.parent_contexts
    });

    let target = read_only(&dir.path().join(DB));
    for (theirs, ours) in [
        ("ArtifactProperty", "artifact_property"),
        ("ExecutionProperty", "execution_property"),
        ("ContextProperty", "context_property"),
        ("EventPath", "event_path"),
        ("TypeProperty", "type_property"),
    ] {
        assert_eq!(
            count(&target, &format!("SELECT COUNT(*) FROM {ours}")),
            count(&source, &format!("SELECT COUNT(*) FROM {theirs}")),
            "{theirs}"
        );
    }

    // Source ids to store ids and back, through the import's own record.
    let map = |kind: i64| -> HashMap<i64, i64> {
        pairs(
            &target,
            &format!("SELECT source_id, target_id FROM import_source WHERE kind = {kind}"),
        )
        .into_iter()
        .collect()
    };
    let (artifact_ids, execution_ids, context_ids) = (map(0), map(1), map(2));
    let back = |m: &HashMap<i64, i64>, ids: &mut dyn Iterator<Item = i64>| -> BTreeSet<i64> {
        let rev: HashMap<i64, i64> = m.iter().map(|(s, t)| (*t, *s)).collect();
        ids.map(|id| rev[&id]).collect()
    };
    let mut statement = source
        .prepare("SELECT artifact_id, execution_id, type FROM Event")
        .unwrap();
    let events: Vec<(i64, i64, i64)> = statement
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .and_then(Iterator::collect)
        .unwrap();
    let attributions = pairs(&source, "SELECT context_id, artifact_id FROM Attribution");
    let associations = pairs(&source, "SELECT context_id, execution_id FROM Association");
    let mut sources: Vec<i64> = artifact_ids.keys().copied().collect();
    sources.sort_unstable();
    let step = (sources.len() / 20).max(1);
    let mut checked = 0;
    for &artifact in sources.iter().step_by(step).take(20) {
        let theirs = walk(
            &events,
            &attributions,
            &associations,
            artifact,
            Walk::Upstream,
            10,
        );
        let g = store
            .lineage_subgraph(&LineageQuery::upstream_of_artifact(
                artifact_ids[&artifact],
                10,
            ))
            .await
            .unwrap();
        let what = format!("source artifact {artifact}");
        assert_eq!(
            back(&artifact_ids, &mut g.artifacts.iter().filter_map(|a| a.id)),
            theirs.artifacts,
            "{what}"
        );
        assert_eq!(
            back(
                &execution_ids,
                &mut g.executions.iter().filter_map(|e| e.id)
            ),
            theirs.executions,
            "{what}"
        );
        assert_eq!(
            back(&context_ids, &mut g.contexts.iter().filter_map(|c| c.id)),
            theirs.contexts,
            "{what}"
        );
        assert_eq!(g.events.len(), theirs.events, "{what}");
        checked += 1;
    }
    assert_eq!(checked, sources.len().min(20));

    // A second import recognises every row and changes nothing.
    let again = import_mlmd(path, &store, &ImportOptions::default())
        .await
        .unwrap();
    assert_eq!(again.tallies.changed(), 0, "{again:?}");
    assert_eq!(again.tallies.artifacts.unchanged, expected.artifacts);
    assert_eq!(again.tallies.events.unchanged, expected.events);
    assert_eq!(store.counts().await.unwrap(), expected);
    (dir, store)
}

fn keelson_value(v: &mlmd::Value) -> Value {
    match v {
        mlmd::Value::Int(i) => Value::Int(*i),
        mlmd::Value::Double(d) => Value::Double(*d),
        mlmd::Value::String(s) => Value::String(s.clone()),
        mlmd::Value::Struct(j) => Value::Struct(j.clone()),
        mlmd::Value::Bool(b) => Value::Bool(*b),
        other => panic!("the fixture holds no {other:?}"),
    }
}

fn keelson_values(p: &mlmd::Properties) -> keelson_lineage::Properties {
    p.iter()
        .map(|(k, v)| (k.clone(), keelson_value(v)))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fixture_imports_as_mlmd_reads_it() {
    let Some((path, expected)) = fixture() else {
        return;
    };
    let (_dir, store) = import_and_check_against_source(&path).await;
    let counts = &expected["counts"];
    let c = store.counts().await.unwrap();
    let n = |key: &str| counts[key].as_u64().unwrap();
    assert_eq!(
        c.types,
        n("artifact_types") + n("execution_types") + n("context_types")
    );
    assert_eq!(
        (c.artifacts, c.executions, c.contexts, c.events),
        (n("artifacts"), n("executions"), n("contexts"), n("events"))
    );

    let all = ListOptions {
        limit: Some(10_000),
        ..ListOptions::default()
    };
    let artifacts = store.list_artifacts(&all).await.unwrap().items;
    let executions = store.list_executions(&all).await.unwrap().items;
    let contexts = store.list_contexts(&all).await.unwrap().items;
    let tally = |names: Vec<serde_json::Value>| {
        let mut m: BTreeMap<String, u64> = BTreeMap::new();
        for name in names {
            *m.entry(name.as_str().unwrap().to_owned()).or_default() += 1;
        }
        json!(m)
    };
    assert_eq!(
        tally(artifacts.iter().map(|a| json!(a.state)).collect()),
        expected["artifact_states"]
    );
    assert_eq!(
        tally(
            executions
                .iter()
                .map(|e| json!(e.last_known_state))
                .collect()
        ),
        expected["execution_states"]
    );

    let exp = store
        .get_context_by_type_and_name("Experiment", None, "exp-main")
        .await
        .unwrap()
        .unwrap();
    let mut children: Vec<String> = store
        .get_children_contexts(exp.id.unwrap())
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.name)
        .collect();
    children.sort();
    assert_eq!(json!(children), expected["children_of_exp_main"]);

    // Every node keeps its names, URI, external id, values and times.
    let dump = MlmdReader::open(&path).unwrap().dump().unwrap();
    let by_name: HashMap<&str, _> = artifacts
        .iter()
        .map(|a| (a.name.as_deref().unwrap(), a))
        .collect();
    for row in &dump.artifacts {
        let a = by_name[row.name.as_deref().unwrap()];
        assert_eq!(a.uri, row.uri);
        assert_eq!(a.external_id, row.external_id);
        assert_eq!(a.state.code(), row.state.unwrap_or(0));
        assert_eq!(a.create_time_since_epoch, row.create_time_since_epoch);
        assert_eq!(
            a.last_update_time_since_epoch,
            row.last_update_time_since_epoch
        );
        assert_eq!(a.properties, keelson_values(&row.properties));
        assert_eq!(a.custom_properties, keelson_values(&row.custom_properties));
    }
    let executions_by_name: HashMap<&str, _> = executions
        .iter()
        .map(|e| (e.name.as_deref().unwrap(), e))
        .collect();
    for row in &dump.executions {
        let e = executions_by_name[row.name.as_deref().unwrap()];
        assert_eq!(e.last_known_state.code(), row.last_known_state.unwrap_or(0));
        assert_eq!(e.create_time_since_epoch, row.create_time_since_epoch);
        assert_eq!(e.properties, keelson_values(&row.properties));
        assert_eq!(e.custom_properties, keelson_values(&row.custom_properties));
    }
    for row in &dump.contexts {
        let c = contexts.iter().find(|c| c.name == row.name).unwrap();
        assert_eq!(c.external_id, row.external_id);
        assert_eq!(c.create_time_since_epoch, row.create_time_since_epoch);
        assert_eq!(c.properties, keelson_values(&row.properties));
        assert_eq!(c.custom_properties, keelson_values(&row.custom_properties));
    }
    let sample = &expected["sample_model"];
    let model = by_name[sample["name"].as_str().unwrap()];
    assert_eq!(model.uri.as_deref(), sample["uri"].as_str());
    assert_eq!(
        model.properties["config"],
        Value::Struct(sample["config"].clone())
    );

    // Events keep their times and paths.
    let ids: Vec<i64> = executions.iter().filter_map(|e| e.id).collect();
    let events = store.get_events_by_execution_ids(&ids).await.unwrap();
    let times = |t: &mut dyn Iterator<Item = Option<i64>>| {
        let mut v: Vec<Option<i64>> = t.collect();
        v.sort_unstable();
        v
    };
    assert_eq!(
        times(&mut events.iter().map(|e| e.milliseconds_since_epoch)),
        times(&mut dump.events.iter().map(|e| e.milliseconds_since_epoch))
    );
    let steps = |p: &mut dyn Iterator<Item = usize>| p.sum::<usize>();
    assert_eq!(
        steps(&mut events.iter().map(|e| e.path.len())),
        steps(&mut dump.events.iter().map(|e| e.path.len()))
    );

    // keelson's lineage gives MLMD's answers for the 7 models, both ways.
    let names = |ids: Vec<String>| {
        let mut v = ids;
        v.sort();
        json!(v)
    };
    let cases = expected["lineage"].as_array().unwrap();
    assert_eq!(cases.len(), 14);
    for case in cases {
        let start = by_name[case["start"].as_str().unwrap()].id.unwrap();
        let direction = match case["direction"].as_str().unwrap() {
            "upstream" => Direction::Upstream,
            "downstream" => Direction::Downstream,
            other => panic!("direction {other}"),
        };
        let g = store
            .lineage_subgraph(&LineageQuery {
                start: LineageStart::Artifacts(vec![start]),
                max_hops: 10,
                direction,
            })
            .await
            .unwrap();
        let answer = &case["answer"];
        let what = format!("{} {direction:?}", case["start"]);
        assert_eq!(
            names(g.artifacts.iter().filter_map(|a| a.name.clone()).collect()),
            answer["artifacts"],
            "{what}"
        );
        assert_eq!(
            names(g.executions.iter().filter_map(|e| e.name.clone()).collect()),
            answer["executions"],
            "{what}"
        );
        assert_eq!(
            names(g.contexts.iter().map(|c| c.name.clone()).collect()),
            answer["contexts"],
            "{what}"
        );
        assert_eq!(json!(g.events.len()), answer["events"], "{what}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_database_in_keelson_mlmd_db_imports_whole() {
    let Ok(path) = std::env::var("KEELSON_MLMD_DB") else {
        println!("skipped: KEELSON_MLMD_DB is not set");
        return;
    };
    import_and_check_against_source(Path::new(&path)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn small_batches_and_a_namespace() {
    let Some((path, _)) = fixture() else {
        return;
    };
    let (_dir, store) = fresh().await;
    let team = store.namespace("team-a").unwrap();
    let options = ImportOptions {
        batch_size: 7,
        ..ImportOptions::default()
    };
    let report: ImportReport = import_mlmd(&path, &team, &options).await.unwrap();
    assert_eq!(report.system_types_skipped, 9);
    // Every reader batch is one transaction: 146 events alone take 21.
    assert!(report.batches > 60, "{report:?}");
    let counts = team.counts().await.unwrap();
    assert_eq!(counts, source_counts(&read_only(&path)));
    assert_eq!(store.counts().await.unwrap(), StoreCounts::default());
    // The default namespace imports its own copy from the same source.
    import_mlmd(&path, &store, &options).await.unwrap();
    assert_eq!(store.counts().await.unwrap(), counts);
    assert_eq!(team.counts().await.unwrap(), counts);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_schema_versions_are_refused_naming_the_version() {
    let Some((path, _)) = fixture() else {
        return;
    };
    let copy = scratch_copy(&path, "import-version");
    Connection::open(&copy)
        .unwrap()
        .execute("UPDATE MLMDEnv SET schema_version = 9", [])
        .unwrap();
    let (_dir, store) = fresh().await;
    let err = import_mlmd(&copy, &store, &ImportOptions::default())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("version 9"), "{err}");
    assert_eq!(store.counts().await.unwrap(), StoreCounts::default());
    std::fs::remove_dir_all(copy.parent().unwrap()).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proto_value_is_refused_naming_node_and_property() {
    let Some((path, _)) = fixture() else {
        return;
    };
    let copy = scratch_copy(&path, "import-proto");
    Connection::open(&copy)
        .unwrap()
        .execute(
            "INSERT INTO ArtifactProperty(artifact_id, name, is_custom_property, proto_value) \
             VALUES (5, 'any', 1, X'0a0178')",
            [],
        )
        .unwrap();
    let (_dir, store) = fresh().await;
    let err = import_mlmd(&copy, &store, &ImportOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Unsupported { .. }), "{err}");
    let message = err.to_string();
    assert!(
        message.contains("artifact 5") && message.contains("\"any\""),
        "{message}"
    );
    // The batch with the bad artifact wrote nothing of itself.
    assert_eq!(store.counts().await.unwrap().artifacts, 0);
    std::fs::remove_dir_all(copy.parent().unwrap()).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_1_store_gains_the_import_table() {
    let Some((path, _)) = fixture() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("v1.db");
    drop(SqliteStore::open(&db).await.unwrap());
    Connection::open(&db)
        .unwrap()
        .execute_batch(
            "DROP TABLE import_source; DROP INDEX context_name; \
             UPDATE schema_version SET version = 1",
        )
        .unwrap();
    let store = SqliteStore::open(&db).await.unwrap();
    let version: i64 = read_only(&db)
        .query_row("SELECT version FROM schema_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, keelson_lineage::sqlite::SCHEMA_VERSION);
    assert_eq!(version, 3);
    let report = import_mlmd(&path, &store, &ImportOptions::default())
        .await
        .unwrap();
    assert_eq!(report.tallies.artifacts.inserted, 104);
}
