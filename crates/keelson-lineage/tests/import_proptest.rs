//! Property test of the import path: any values and times survive
//! `import_batch` exactly, and importing the same batch again is recognised
//! as unchanged (the comparison that makes the import idempotent must hold
//! for every value a store round-trips: extreme doubles, struct JSON with
//! floats, any text).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use keelson_lineage::{
    Artifact, ImportBatch, MetadataStore, NodeType, Properties, PropertyType, SourceRow,
    SqliteStore, Value,
};
use proptest::prelude::*;

fn value() -> impl Strategy<Value = Value> {
    let finite = prop::num::f64::NORMAL | prop::num::f64::SUBNORMAL | prop::num::f64::ZERO;
    prop_oneof![
        any::<i64>().prop_map(Value::Int),
        (finite | prop::num::f64::INFINITE).prop_map(Value::Double),
        "\\PC{0,20}".prop_map(Value::String),
        any::<bool>().prop_map(Value::Bool),
        (finite, any::<i64>(), "\\PC{0,8}", any::<bool>()).prop_map(|(x, n, s, b)| {
            Value::Struct(serde_json::json!({"x": x, "l": [n, s, b], "o": {"n": null}}))
        }),
    ]
}

fn artifact() -> impl Strategy<Value = (Artifact, f64)> {
    (
        prop::collection::btree_map("[a-z]{1,6}", value(), 0..6),
        any::<i64>(),
        any::<i64>(),
        prop::option::of("\\PC{1,12}"),
        prop::num::f64::NORMAL | prop::num::f64::ZERO,
    )
        .prop_map(|(custom, created, updated, uri, score)| {
            let custom: Properties = custom;
            (
                Artifact {
                    uri,
                    custom_properties: custom,
                    create_time_since_epoch: created,
                    last_update_time_since_epoch: updated,
                    ..Artifact::default()
                },
                score,
            )
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn imported_values_round_trip_and_reimport_changes_nothing(
        rows in prop::collection::vec(artifact(), 1..6),
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        runtime.block_on(async {
            let store = SqliteStore::open_in_memory().await.unwrap();
            let mut batch = ImportBatch::new("prop");
            batch.types.push(SourceRow {
                source_id: 1,
                row: NodeType::artifact("Data").with_property("score", PropertyType::Double),
            });
            for (i, (artifact, score)) in rows.iter().enumerate() {
                let mut row = artifact.clone();
                row.type_id = 1;
                row.properties.insert("score".into(), Value::Double(*score));
                batch.artifacts.push(SourceRow { source_id: i64::try_from(i).unwrap() + 100, row });
            }
            let first = store.import_batch(&batch).await.unwrap();
            prop_assert_eq!(first.artifacts.inserted, batch.artifacts.len() as u64);
            let again = store.import_batch(&batch).await.unwrap();
            prop_assert_eq!(again.changed(), 0);
            let type_id = store.get_types_by_id(&[1]).await.unwrap()[0].id.unwrap();
            let stored = store.get_artifacts_by_type("Data", None).await.unwrap();
            prop_assert_eq!(stored.len(), batch.artifacts.len());
            for (got, given) in stored.iter().zip(&batch.artifacts) {
                let expected = Artifact { id: got.id, type_id, ..given.row.clone() };
                prop_assert_eq!(got, &expected);
            }
            Ok(())
        })?;
    }
}
