//! The export suite: every function takes a fresh, empty store of any
//! backend, builds a small pipeline in it and checks an export.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::Path;

use arrow::array::{Array, AsArray, MapArray, RecordBatch, StructArray};
use arrow::datatypes::{DataType, Float64Type, Int64Type, TimestampMillisecondType};
use keelson_lineage::export::parquet::{
    ParquetOptions, write_graph_dir, write_store_dir, write_table_file,
};
use keelson_lineage::export::{ExportOptions, Table, TableExport};
use keelson_lineage::filter::{ARTIFACT_STATES, EVENT_TYPES, EXECUTION_STATES};
use keelson_lineage::{
    Artifact, ArtifactState, Context, Error, Event, EventType, Execution, ExecutionState,
    LineageQuery, ListOptions, MetadataStore, NodeKind, NodeType, OrderBy, ParentContext, PathStep,
    Properties, PropertyType, TypeOptions, Value,
};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde_json::json;

pub fn read_parquet(path: &Path) -> RecordBatch {
    let builder = ParquetRecordBatchReaderBuilder::try_new(File::open(path).unwrap()).unwrap();
    let schema = builder.schema().clone();
    let batches: Vec<RecordBatch> = builder.build().unwrap().map(Result::unwrap).collect();
    arrow::compute::concat_batches(&schema, &batches).unwrap()
}

pub fn strings(b: &RecordBatch, name: &str) -> Vec<Option<String>> {
    b.column_by_name(name)
        .unwrap_or_else(|| panic!("column {name}"))
        .as_string::<i32>()
        .iter()
        .map(|s| s.map(str::to_owned))
        .collect()
}

pub fn ints(b: &RecordBatch, name: &str) -> Vec<i64> {
    b.column_by_name(name)
        .unwrap_or_else(|| panic!("column {name}"))
        .as_primitive::<Int64Type>()
        .values()
        .to_vec()
}

pub fn times(b: &RecordBatch, name: &str) -> Vec<Option<i64>> {
    b.column_by_name(name)
        .unwrap()
        .as_primitive::<TimestampMillisecondType>()
        .iter()
        .collect()
}

pub fn props(map: &MapArray, row: usize) -> Properties {
    let entries: StructArray = map.value(row);
    let keys = entries.column(0).as_string::<i32>();
    let values = entries.column(1).as_struct();
    let (i, d, s, b, j) = (
        values.column(0).as_primitive::<Int64Type>(),
        values.column(1).as_primitive::<Float64Type>(),
        values.column(2).as_string::<i32>(),
        values.column(3).as_boolean(),
        values.column(4).as_string::<i32>(),
    );
    let mut out = Properties::new();
    for n in 0..entries.len() {
        let set = [
            i.is_valid(n),
            d.is_valid(n),
            s.is_valid(n),
            b.is_valid(n),
            j.is_valid(n),
        ];
        assert_eq!(
            set.iter().filter(|x| **x).count(),
            1,
            "exactly one value field"
        );
        let value = if i.is_valid(n) {
            Value::Int(i.value(n))
        } else if d.is_valid(n) {
            Value::Double(d.value(n))
        } else if s.is_valid(n) {
            Value::String(s.value(n).to_owned())
        } else if b.is_valid(n) {
            Value::Bool(b.value(n))
        } else {
            Value::Struct(serde_json::from_str(j.value(n)).unwrap())
        };
        out.insert(keys.value(n).to_owned(), value);
    }
    out
}

pub fn prop_column(b: &RecordBatch, name: &str) -> Vec<Properties> {
    let map = b.column_by_name(name).unwrap().as_map();
    (0..map.len()).map(|r| props(map, r)).collect()
}

pub fn code_of(names: &[&str], name: &str) -> i64 {
    names.iter().position(|n| *n == name).unwrap() as i64
}

/// The columns every node table has, read once per batch.
struct NodeColumns {
    ids: Vec<i64>,
    type_ids: Vec<i64>,
    names: Vec<Option<String>>,
    external_ids: Vec<Option<String>>,
    properties: Vec<Properties>,
    custom_properties: Vec<Properties>,
    created: Vec<Option<i64>>,
    updated: Vec<Option<i64>>,
}

impl NodeColumns {
    fn of(b: &RecordBatch) -> Self {
        NodeColumns {
            ids: ints(b, "id"),
            type_ids: ints(b, "type_id"),
            names: strings(b, "name"),
            external_ids: strings(b, "external_id"),
            properties: prop_column(b, "properties"),
            custom_properties: prop_column(b, "custom_properties"),
            created: times(b, "create_time_since_epoch"),
            updated: times(b, "last_update_time_since_epoch"),
        }
    }
}

pub fn artifacts_from(b: &RecordBatch) -> Vec<Artifact> {
    let n = NodeColumns::of(b);
    let (uris, states) = (strings(b, "uri"), strings(b, "state"));
    (0..b.num_rows())
        .map(|r| Artifact {
            id: Some(n.ids[r]),
            type_id: n.type_ids[r],
            name: n.names[r].clone(),
            uri: uris[r].clone(),
            state: ArtifactState::from_code(code_of(
                ARTIFACT_STATES,
                states[r].as_deref().unwrap(),
            ))
            .unwrap(),
            external_id: n.external_ids[r].clone(),
            properties: n.properties[r].clone(),
            custom_properties: n.custom_properties[r].clone(),
            create_time_since_epoch: n.created[r].unwrap(),
            last_update_time_since_epoch: n.updated[r].unwrap(),
        })
        .collect()
}

pub fn executions_from(b: &RecordBatch) -> Vec<Execution> {
    let n = NodeColumns::of(b);
    let states = strings(b, "last_known_state");
    (0..b.num_rows())
        .map(|r| Execution {
            id: Some(n.ids[r]),
            type_id: n.type_ids[r],
            name: n.names[r].clone(),
            last_known_state: ExecutionState::from_code(code_of(
                EXECUTION_STATES,
                states[r].as_deref().unwrap(),
            ))
            .unwrap(),
            external_id: n.external_ids[r].clone(),
            properties: n.properties[r].clone(),
            custom_properties: n.custom_properties[r].clone(),
            create_time_since_epoch: n.created[r].unwrap(),
            last_update_time_since_epoch: n.updated[r].unwrap(),
        })
        .collect()
}

pub fn contexts_from(b: &RecordBatch) -> Vec<Context> {
    let n = NodeColumns::of(b);
    (0..b.num_rows())
        .map(|r| Context {
            id: Some(n.ids[r]),
            type_id: n.type_ids[r],
            name: n.names[r].clone().unwrap(),
            external_id: n.external_ids[r].clone(),
            properties: n.properties[r].clone(),
            custom_properties: n.custom_properties[r].clone(),
            create_time_since_epoch: n.created[r].unwrap(),
            last_update_time_since_epoch: n.updated[r].unwrap(),
        })
        .collect()
}

pub fn events_from(b: &RecordBatch) -> Vec<Event> {
    let paths = b.column_by_name("path").unwrap().as_list::<i32>();
    let types = strings(b, "type");
    let ms = times(b, "milliseconds_since_epoch");
    let (a, x) = (ints(b, "artifact_id"), ints(b, "execution_id"));
    let mut out: Vec<Event> = (0..b.num_rows())
        .map(|r| {
            let steps = paths.value(r);
            let steps = steps.as_struct();
            let (index, key) = (
                steps.column(0).as_primitive::<Int64Type>(),
                steps.column(1).as_string::<i32>(),
            );
            let path = (0..steps.len())
                .map(|s| {
                    assert!(index.is_valid(s) != key.is_valid(s), "index xor key");
                    if index.is_valid(s) {
                        PathStep::Index(index.value(s))
                    } else {
                        PathStep::Key(key.value(s).to_owned())
                    }
                })
                .collect();
            Event {
                artifact_id: a[r],
                execution_id: x[r],
                event_type: EventType::from_code(code_of(
                    EVENT_TYPES,
                    types[r].as_deref().unwrap(),
                ))
                .unwrap(),
                path,
                milliseconds_since_epoch: ms[r],
            }
        })
        .collect();
    sort_events(&mut out);
    out
}

pub fn sort_events(events: &mut [Event]) {
    events.sort_by_key(|e| {
        (
            e.execution_id,
            e.artifact_id,
            e.event_type.code(),
            format!("{:?}", e.path),
        )
    });
}

pub fn pairs(b: &RecordBatch, x: &str, y: &str) -> Vec<(i64, i64)> {
    let mut out: Vec<(i64, i64)> = ints(b, x).into_iter().zip(ints(b, y)).collect();
    out.sort_unstable();
    out
}

pub struct Built {
    pub model: i64,
    pub model_ids: Vec<i64>,
}

/// A quickstart-like pipeline: ingest a dataset, train two models, evaluate;
/// every property type, declared and custom; event paths with keys and
/// indexes; a run context inside a pipeline context.
pub async fn build<S: MetadataStore>(s: &S) -> Built {
    let o = TypeOptions::default();
    let data = s
        .put_type(
            &NodeType::artifact("Dataset")
                .with_property("rows", PropertyType::Int)
                .with_base_type("DATASET"),
            o,
        )
        .await
        .unwrap();
    let model = s
        .put_type(
            &NodeType::artifact("Model")
                .with_property("accuracy", PropertyType::Double)
                .with_property("framework", PropertyType::String)
                .with_property("blessed", PropertyType::Boolean)
                .with_property("config", PropertyType::Struct)
                .with_property("epochs", PropertyType::Int),
            o,
        )
        .await
        .unwrap();
    let step = s
        .put_type(
            &NodeType::execution("Step")
                .with_property("attempt", PropertyType::Int)
                .with_version("v1"),
            o,
        )
        .await
        .unwrap();
    let run = s
        .put_type(
            &NodeType::context("Run").with_property("pipeline", PropertyType::String),
            o,
        )
        .await
        .unwrap();
    let pipeline = s.put_type(&NodeType::context("Pipeline"), o).await.unwrap();

    let mut ctx = Context::new(run, "run-1").with_property("pipeline", "train");
    ctx.custom_properties.insert("owner".into(), "ana".into());
    let mut dataset = Artifact::new(data, "s3://data/v1").with_property("rows", 1000_i64);
    dataset.name = Some("data-v1".into());
    dataset.external_id = Some("ext-data-1".into());
    dataset.state = ArtifactState::Live;
    let ingest = s
        .put_execution(
            &Execution::new(step, ExecutionState::Complete).with_property("attempt", 1_i64),
            &[(
                dataset,
                Some(Event::new(EventType::Output).with_key("data")),
            )],
            std::slice::from_ref(&ctx),
        )
        .await
        .unwrap();
    ctx.id = Some(ingest.context_ids[0]);
    let data_node = s
        .get_artifacts_by_id(&ingest.artifact_ids)
        .await
        .unwrap()
        .remove(0);
    let m = |acc: f64, i: i64, blessed: bool| {
        let mut a = Artifact::new(model, format!("s3://models/m{i}"))
            .with_property("accuracy", acc)
            .with_property("framework", "torch")
            .with_property("blessed", blessed)
            .with_property(
                "config",
                json!({"lr": 0.01, "layers": [64, 64], "name": "mlp"}),
            )
            .with_property("epochs", 10 + i);
        a.custom_properties
            .insert("note".into(), Value::String(format!("model {i}")));
        a.custom_properties
            .insert("score".into(), Value::Double(-1.5));
        a.custom_properties
            .insert("flag".into(), Value::Bool(false));
        a.custom_properties
            .insert("count".into(), Value::Int(i64::MIN));
        a.custom_properties.insert(
            "meta".into(),
            Value::Struct(json!({"k": [1, "two", null, true]})),
        );
        a.state = ArtifactState::Pending;
        a
    };
    let mut exec = Execution::new(step, ExecutionState::Running).with_property("attempt", 2_i64);
    exec.name = Some("train".into());
    exec.custom_properties
        .insert("gpu".into(), Value::Bool(true));
    let train = s
        .put_execution(
            &exec,
            &[
                (
                    data_node,
                    Some(Event::new(EventType::Input).with_key("data")),
                ),
                (
                    m(0.93, 1, true),
                    Some(
                        Event::new(EventType::Output)
                            .with_key("models")
                            .with_index(0),
                    ),
                ),
                (
                    m(0.81, 2, false),
                    Some(
                        Event::new(EventType::Output)
                            .with_key("models")
                            .with_index(1),
                    ),
                ),
            ],
            std::slice::from_ref(&ctx),
        )
        .await
        .unwrap();
    let models = s
        .get_artifacts_by_id(&train.artifact_ids[1..])
        .await
        .unwrap();
    s.put_execution(
        &Execution::new(step, ExecutionState::Failed),
        &[(
            models[0].clone(),
            Some(Event::new(EventType::Input).with_index(3)),
        )],
        &[ctx],
    )
    .await
    .unwrap();
    let p = s
        .put_contexts(&[Context::new(pipeline, "train-pipeline")])
        .await
        .unwrap();
    s.put_parent_contexts(&[ParentContext {
        child_id: ingest.context_ids[0],
        parent_id: p[0],
    }])
    .await
    .unwrap();
    // Rows of another namespace stay out of this handle's export.
    let other = s.namespace("other").unwrap();
    let t = other
        .put_type(&NodeType::artifact("Dataset"), o)
        .await
        .unwrap();
    other
        .put_artifacts(&[Artifact::new(t, "s3://other")])
        .await
        .unwrap();
    Built {
        model,
        model_ids: train.artifact_ids[1..].to_vec(),
    }
}

pub fn all() -> ListOptions {
    ListOptions {
        limit: Some(10_000),
        order_by: OrderBy::Id,
        ascending: true,
        ..ListOptions::default()
    }
}

/// Every table through Parquet and back equals what the store answers.
pub async fn every_table_roundtrips<S: MetadataStore>(s: &S) {
    build(s).await;
    let dir = tempfile::tempdir().unwrap();
    let options = ParquetOptions {
        page_size: 2,
        ..ParquetOptions::default()
    };
    let files = write_store_dir(s, dir.path(), &options).await.unwrap();
    assert_eq!(
        files.iter().map(|f| f.table).collect::<Vec<_>>(),
        Table::ALL.to_vec()
    );
    let counts = s.counts().await.unwrap();
    let rows: BTreeMap<Table, u64> = files.iter().map(|f| (f.table, f.rows)).collect();
    assert_eq!(
        rows.values().copied().collect::<Vec<_>>(),
        vec![
            counts.types,
            counts.artifacts,
            counts.executions,
            counts.contexts,
            counts.events,
            counts.attributions,
            counts.associations,
            counts.parent_contexts
        ]
    );
    let read = |t: Table| {
        let b = read_parquet(&dir.path().join(format!("{}.parquet", t.name())));
        assert_eq!(b.num_rows() as u64, rows[&t], "{t}");
        b
    };

    let artifacts = s.list_artifacts(&all()).await.unwrap().items;
    assert_eq!(artifacts_from(&read(Table::Artifacts)), artifacts);
    let executions = s.list_executions(&all()).await.unwrap().items;
    assert_eq!(executions_from(&read(Table::Executions)), executions);
    let contexts = s.list_contexts(&all()).await.unwrap().items;
    assert_eq!(contexts_from(&read(Table::Contexts)), contexts);

    let exec_ids: Vec<i64> = executions.iter().filter_map(|e| e.id).collect();
    let mut events = s.get_events_by_execution_ids(&exec_ids).await.unwrap();
    sort_events(&mut events);
    let exported = events_from(&read(Table::Events));
    assert_eq!(exported, events);
    assert!(
        exported
            .iter()
            .any(|e| e.path == vec![PathStep::Key("models".into()), PathStep::Index(1)])
    );

    let (mut attributions, mut associations, mut parents) = (Vec::new(), Vec::new(), Vec::new());
    for c in &contexts {
        let c = c.id.unwrap();
        attributions.extend(
            s.get_artifacts_by_context(c)
                .await
                .unwrap()
                .iter()
                .map(|a| (c, a.id.unwrap())),
        );
        associations.extend(
            s.get_executions_by_context(c)
                .await
                .unwrap()
                .iter()
                .map(|e| (c, e.id.unwrap())),
        );
        parents.extend(
            s.get_parent_contexts(c)
                .await
                .unwrap()
                .iter()
                .map(|p| (c, p.id.unwrap())),
        );
    }
    attributions.sort_unstable();
    associations.sort_unstable();
    assert_eq!(
        pairs(&read(Table::Attributions), "context_id", "artifact_id"),
        attributions
    );
    assert_eq!(
        pairs(&read(Table::Associations), "context_id", "execution_id"),
        associations
    );
    assert_eq!(
        pairs(
            &read(Table::ParentContexts),
            "context_id",
            "parent_context_id"
        ),
        parents
    );
    assert_eq!(parents.len(), 1);

    let types = read(Table::Types);
    let mut stored = Vec::new();
    for kind in [NodeKind::Artifact, NodeKind::Execution, NodeKind::Context] {
        stored.extend(s.get_types(kind).await.unwrap());
    }
    stored.sort_by_key(|t| t.id);
    assert_eq!(
        ints(&types, "id"),
        stored.iter().map(|t| t.id.unwrap()).collect::<Vec<_>>()
    );
    assert_eq!(
        strings(&types, "version")[stored.iter().position(|t| t.name == "Step").unwrap()]
            .as_deref(),
        Some("v1")
    );
    let declared = types.column_by_name("properties").unwrap().as_map();
    let model = stored.iter().position(|t| t.name == "Model").unwrap();
    let entries = declared.value(model);
    let keys: Vec<&str> = entries
        .column(0)
        .as_string::<i32>()
        .iter()
        .flatten()
        .collect();
    let tys: Vec<&str> = entries
        .column(1)
        .as_string::<i32>()
        .iter()
        .flatten()
        .collect();
    assert_eq!(
        keys,
        ["accuracy", "blessed", "config", "epochs", "framework"]
    );
    assert_eq!(tys, ["DOUBLE", "BOOLEAN", "STRUCT", "INT", "STRING"]);
    assert_eq!(
        strings(&types, "base_type")[stored.iter().position(|t| t.name == "Dataset").unwrap()]
            .as_deref(),
        Some("DATASET")
    );
    assert_eq!(
        strings(&read(Table::Artifacts), "type")
            .iter()
            .flatten()
            .filter(|t| *t == "Model")
            .count(),
        2
    );
}

/// One type, flattened; a filter; option errors; a name collision.
pub async fn one_type_flattened<S: MetadataStore>(s: &S) {
    let built = build(s).await;
    let options = ExportOptions::new()
        .of_type("Model", None)
        .flatten(true)
        .page_size(1);
    let mut export = TableExport::new(s, Table::Artifacts, options)
        .await
        .unwrap();
    let schema = export.schema();
    assert_eq!(
        schema.field_with_name("accuracy").unwrap().data_type(),
        &DataType::Float64
    );
    assert_eq!(
        schema.field_with_name("blessed").unwrap().data_type(),
        &DataType::Boolean
    );
    assert_eq!(
        schema.field_with_name("epochs").unwrap().data_type(),
        &DataType::Int64
    );
    assert!(schema.field_with_name("properties").is_err());
    let mut batches = Vec::new();
    while let Some(b) = export.next_batch().await.unwrap() {
        assert_eq!(b.num_rows(), 1, "one node per page");
        batches.push(b);
    }
    let b = arrow::compute::concat_batches(&schema, &batches).unwrap();
    assert_eq!(ints(&b, "id"), built.model_ids);
    let acc: Vec<f64> = b
        .column_by_name("accuracy")
        .unwrap()
        .as_primitive::<Float64Type>()
        .values()
        .to_vec();
    assert_eq!(acc, [0.93, 0.81]);
    assert_eq!(
        b.column_by_name("blessed")
            .unwrap()
            .as_boolean()
            .iter()
            .collect::<Vec<_>>(),
        [Some(true), Some(false)]
    );
    let config: serde_json::Value =
        serde_json::from_str(strings(&b, "config")[0].as_deref().unwrap()).unwrap();
    assert_eq!(
        config,
        json!({"lr": 0.01, "layers": [64, 64], "name": "mlp"})
    );
    assert_eq!(
        prop_column(&b, "custom_properties")[0]["count"],
        Value::Int(i64::MIN)
    );

    // A filter on top of the type, into a file.
    let dir = tempfile::tempdir().unwrap();
    let options = ExportOptions::new()
        .of_type("Model", None)
        .filter_query("properties.accuracy.double_value > 0.9")
        .flatten(true)
        .flatten_prefix("p_");
    let export = TableExport::new(s, Table::Artifacts, options)
        .await
        .unwrap();
    let path = dir.path().join("models.parquet");
    let file = write_table_file(export, &path, &ParquetOptions::default())
        .await
        .unwrap();
    assert_eq!(file.rows, 1);
    let b = read_parquet(&path);
    assert_eq!(ints(&b, "id"), [built.model_ids[0]]);
    assert!(b.column_by_name("p_accuracy").is_some());

    // Events of the models' type would be an execution type: refused.
    let err = TableExport::new(
        s,
        Table::Events,
        ExportOptions::new().of_type("Model", None),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err}");
    let err = TableExport::new(s, Table::Artifacts, ExportOptions::new().flatten(true))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::InvalidArgument { ref field, .. } if field == "export_options.flatten"),
        "{err}"
    );
    let err = TableExport::new(s, Table::Types, ExportOptions::new().filter_query("id = 1"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidArgument { .. }), "{err}");
    let err = TableExport::new(s, Table::Artifacts, ExportOptions::new().page_size(0))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidArgument { .. }), "{err}");

    // A declared property named like a column needs a prefix.
    let clash = s
        .put_type(
            &NodeType::artifact("Clash").with_property("uri", PropertyType::String),
            TypeOptions::default(),
        )
        .await
        .unwrap();
    let _ = clash;
    let err = TableExport::new(
        s,
        Table::Artifacts,
        ExportOptions::new().of_type("Clash", None).flatten(true),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, Error::Export { ref column, .. } if column.as_deref() == Some("uri")),
        "{err}"
    );
    assert!(
        err.to_string().contains("artifacts") && err.to_string().contains("\"uri\""),
        "{err}"
    );
    TableExport::new(
        s,
        Table::Artifacts,
        ExportOptions::new()
            .of_type("Clash", None)
            .flatten(true)
            .flatten_prefix("p_"),
    )
    .await
    .unwrap();
    let _ = built.model;
}

/// A lineage subgraph exports to the same tables as the store.
pub async fn subgraph_exports<S: MetadataStore>(s: &S) {
    let built = build(s).await;
    let graph = s
        .lineage_subgraph(&LineageQuery::upstream_of_artifact(built.model_ids[0], 10))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let files = write_graph_dir(&graph, dir.path(), &ParquetOptions::default()).unwrap();
    assert_eq!(files.len(), 7);
    let b = read_parquet(&dir.path().join("artifacts.parquet"));
    assert_eq!(artifacts_from(&b), graph.artifacts);
    let b = read_parquet(&dir.path().join("executions.parquet"));
    assert_eq!(executions_from(&b), graph.executions);
    let b = read_parquet(&dir.path().join("contexts.parquet"));
    assert_eq!(contexts_from(&b), graph.contexts);
    let mut events = graph.events.clone();
    sort_events(&mut events);
    assert_eq!(
        events_from(&read_parquet(&dir.path().join("events.parquet"))),
        events
    );
    let attributions: Vec<(i64, i64)> = graph
        .attributions
        .iter()
        .map(|a| (a.context_id, a.artifact_id))
        .collect();
    assert_eq!(
        pairs(
            &read_parquet(&dir.path().join("attributions.parquet")),
            "context_id",
            "artifact_id"
        ),
        attributions
    );
    assert_eq!(
        read_parquet(&dir.path().join("types.parquet")).num_rows(),
        graph.types.len()
    );
}
