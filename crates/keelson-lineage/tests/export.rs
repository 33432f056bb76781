//! Arrow and Parquet export on SQLite: the export suite (also run on
//! PostgreSQL by tests/postgres.rs), atomic file replacement, every
//! compression, and random property maps through record batches and Parquet.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod export_suite;

use arrow::array::RecordBatch;
use export_suite::{artifacts_from, build};
use keelson_lineage::export::parquet::{
    Compression, ParquetOptions, write_batches, write_table_file,
};
use keelson_lineage::export::{ExportOptions, Table, TableExport, graph_batches};
use keelson_lineage::{
    Artifact, Error, LineageGraph, LineageQuery, MetadataStore, SqliteStore, Value,
};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use proptest::prelude::*;

async fn fresh() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("lineage.db"))
        .await
        .unwrap();
    (dir, store)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_every_table_roundtrips() {
    let (_d, s) = fresh().await;
    export_suite::every_table_roundtrips(&s).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_one_type_flattened() {
    let (_d, s) = fresh().await;
    export_suite::one_type_flattened(&s).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_subgraph_exports() {
    let (_d, s) = fresh().await;
    export_suite::subgraph_exports(&s).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_export_leaves_the_old_file_and_no_temporary() {
    let (_d, s) = fresh().await;
    build(&s).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("artifacts.parquet");
    let export = TableExport::new(&s, Table::Artifacts, ExportOptions::new())
        .await
        .unwrap();
    write_table_file(export, &path, &ParquetOptions::default())
        .await
        .unwrap();
    let before = std::fs::read(&path).unwrap();
    // The filter is compiled by the first page, after the file was started.
    let bad = ExportOptions::new().filter_query("uri = ");
    let export = TableExport::new(&s, Table::Artifacts, bad).await.unwrap();
    let err = write_table_file(export, &path, &ParquetOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Filter(_)), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), before);
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, [std::ffi::OsString::from("artifacts.parquet")]);
}

#[tokio::test]
async fn every_compression_reads_back() {
    let (_d, s) = fresh().await;
    let built = build(&s).await;
    let graph = s
        .lineage_subgraph(&LineageQuery::upstream_of_artifact(built.model_ids[1], 2))
        .await
        .unwrap();
    for (table, batch) in graph_batches(&graph).unwrap() {
        for compression in [
            Compression::Uncompressed,
            Compression::Snappy,
            Compression::Zstd,
            Compression::Lz4,
        ] {
            let mut buf = Vec::new();
            let options = ParquetOptions {
                compression,
                ..ParquetOptions::default()
            };
            let rows = write_batches(
                &mut buf,
                table,
                batch.schema(),
                std::slice::from_ref(&batch),
                &options,
            )
            .unwrap();
            assert_eq!(rows, batch.num_rows() as u64);
            let reader = ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(buf))
                .unwrap()
                .build()
                .unwrap();
            let back: Vec<RecordBatch> = reader.map(Result::unwrap).collect();
            let back = arrow::compute::concat_batches(&batch.schema(), &back).unwrap();
            assert_eq!(back, batch, "{table} {compression:?}");
        }
    }
}

fn value() -> impl Strategy<Value = Value> {
    let json = prop_oneof![
        Just(serde_json::Value::Null),
        any::<i64>().prop_map(serde_json::Value::from),
        ".{0,8}".prop_map(serde_json::Value::from),
        any::<bool>().prop_map(serde_json::Value::from),
    ];
    let json = json.prop_recursive(2, 8, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
            prop::collection::btree_map("[a-z]{1,4}", inner, 0..4)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    });
    prop_oneof![
        any::<i64>().prop_map(Value::Int),
        any::<f64>()
            .prop_filter("NaN is not stored", |d| !d.is_nan())
            .prop_map(Value::Double),
        ".{0,12}".prop_map(Value::String),
        any::<bool>().prop_map(Value::Bool),
        json.prop_map(Value::Struct),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn property_maps_roundtrip_through_batches_and_parquet(
        maps in prop::collection::vec(
            (prop::collection::btree_map(".{1,6}", value(), 0..6),
             prop::collection::btree_map(".{1,6}", value(), 0..6)),
            0..6,
        )
    ) {
        let artifacts: Vec<Artifact> = maps
            .into_iter()
            .enumerate()
            .map(|(i, (p, c))| Artifact {
                id: Some(i as i64 + 1),
                type_id: 1,
                properties: p,
                custom_properties: c,
                ..Artifact::default()
            })
            .collect();
        let graph = LineageGraph { artifacts: artifacts.clone(), ..LineageGraph::default() };
        let batch = graph_batches(&graph).unwrap().swap_remove(1).1;
        prop_assert_eq!(&artifacts_from(&batch), &artifacts);
        let mut buf = Vec::new();
        write_batches(&mut buf, Table::Artifacts, batch.schema(), std::slice::from_ref(&batch), &ParquetOptions::default()).unwrap();
        let reader = ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(buf)).unwrap().build().unwrap();
        let back: Vec<RecordBatch> = reader.map(Result::unwrap).collect();
        let back = arrow::compute::concat_batches(&batch.schema(), &back).unwrap();
        prop_assert_eq!(artifacts_from(&back), artifacts);
    }
}
