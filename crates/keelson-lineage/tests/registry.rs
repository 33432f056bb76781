//! The model registry suite on SQLite, and property tests of names and
//! paging.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod registry_suite;

use std::collections::{BTreeMap, BTreeSet};

use keelson_lineage::registry::{ModelRegistry, ModelVersion, RegisteredModel};
use keelson_lineage::{Error, ListOptions, OrderBy, SqliteStore};
use proptest::prelude::*;

async fn fresh() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("registry.db"))
        .await
        .unwrap();
    (dir, store)
}

macro_rules! suite {
    ($($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let (_dir, store) = fresh().await;
                registry_suite::$name(&store).await;
            }
        )*
    };
}

suite!(
    open_registers_kubeflow_types,
    open_accepts_wider_stored_types,
    registered_models,
    model_versions,
    stored_as_kubeflow_model_registry_stores,
    reads_nodes_written_by_kubeflow,
    model_artifacts,
    serving,
    lineage_from_inference_service_to_dataset,
    refused_writes_write_nothing,
    registries_are_namespaced,
);

#[tokio::test]
async fn the_registry_runs_on_an_in_memory_store() {
    let store = SqliteStore::open_in_memory().await.unwrap();
    registry_suite::lineage_from_inference_service_to_dataset(&store).await;
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

/// Names with the characters that could confuse the mapping: the owner
/// separator `:`, quotes of the filter language, `%` and `_` of LIKE,
/// digits (an all-digit name looks like an owner id), non-ASCII.
fn name() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            Just(':'),
            Just('\''),
            Just('"'),
            Just('%'),
            Just('_'),
            Just('7'),
            Just('é'),
            prop::char::range('a', 'c'),
        ],
        1..6,
    )
    .prop_map(|cs| cs.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Whatever the names, each model and each version is found by its own
    /// name (versions only within their model), duplicates are refused
    /// naming the field, and names read back exactly.
    #[test]
    fn names_round_trip_and_stay_unique(
        models in prop::collection::vec(name(), 1..6),
        versions in prop::collection::vec((0_usize..6, name()), 0..10),
    ) {
        runtime().block_on(async {
            let r = ModelRegistry::open(SqliteStore::open_in_memory().await.unwrap())
                .await
                .unwrap();
            let mut ids = BTreeMap::new();
            for m in &models {
                match r.create_registered_model(&RegisteredModel::new(m.clone())).await {
                    Ok(created) => {
                        prop_assert_eq!(&created.name, m);
                        prop_assert!(ids.insert(m.clone(), created.id.unwrap()).is_none());
                    }
                    Err(Error::AlreadyExists { what }) => {
                        prop_assert!(ids.contains_key(m));
                        prop_assert!(what.contains("registered_model.name"), "{}", what);
                    }
                    Err(e) => prop_assert!(false, "{}", e),
                }
            }
            let model_ids: Vec<i64> = ids.values().copied().collect();
            let mut made = BTreeMap::new();
            for (which, v) in &versions {
                let model = model_ids[which % model_ids.len()];
                let result = r.create_model_version(&ModelVersion::new(model, v.clone())).await;
                match result {
                    Ok(created) => {
                        prop_assert_eq!((created.registered_model_id, &created.name), (model, v));
                        prop_assert!(made.insert((model, v.clone()), created.id.unwrap()).is_none());
                    }
                    Err(Error::AlreadyExists { what }) => {
                        prop_assert!(made.contains_key(&(model, v.clone())));
                        prop_assert!(what.contains("model_version.name"), "{}", what);
                    }
                    Err(e) => prop_assert!(false, "{}", e),
                }
            }
            for (m, id) in &ids {
                let found = r.find_registered_model_by_name(m).await.unwrap();
                prop_assert_eq!(found.and_then(|f| f.id), Some(*id));
            }
            for &model in &model_ids {
                for (_, v) in &versions {
                    let found = r.find_model_version_by_name(model, v).await.unwrap();
                    prop_assert_eq!(found.and_then(|f| f.id), made.get(&(model, v.clone())).copied());
                }
                let listed: BTreeSet<i64> = r
                    .list_model_versions(Some(model), &ListOptions::default())
                    .await
                    .unwrap()
                    .items
                    .into_iter()
                    .filter_map(|v| v.id)
                    .collect();
                let expected: BTreeSet<i64> = made
                    .iter()
                    .filter(|((m, _), _)| *m == model)
                    .map(|(_, id)| *id)
                    .collect();
                prop_assert_eq!(listed, expected);
            }
            Ok(())
        })?;
    }

    /// Paging through registered models in any order and page size yields
    /// every model exactly once, in the order of one big page.
    #[test]
    fn pages_cover_every_model_once(
        n in 0_usize..15,
        limit in 1_u32..6,
        order in prop_oneof![Just(OrderBy::CreateTime), Just(OrderBy::LastUpdateTime), Just(OrderBy::Id)],
        ascending in any::<bool>(),
        touched in prop::collection::vec(0_usize..15, 0..4),
    ) {
        runtime().block_on(async {
            let r = ModelRegistry::open(SqliteStore::open_in_memory().await.unwrap())
                .await
                .unwrap();
            let mut ids = Vec::new();
            for i in 0..n {
                let m = r.create_registered_model(&RegisteredModel::new(format!("m{i}"))).await.unwrap();
                ids.push(m.id.unwrap());
            }
            for t in touched {
                if let Some(&id) = ids.get(t) {
                    let update = keelson_lineage::registry::RegisteredModelUpdate {
                        owner: Some(format!("o{t}")),
                        ..Default::default()
                    };
                    r.update_registered_model(id, &update).await.unwrap();
                }
            }
            let base = ListOptions { order_by: order, ascending, ..ListOptions::default() };
            let whole: Vec<i64> = r
                .list_registered_models(&base)
                .await
                .unwrap()
                .items
                .into_iter()
                .filter_map(|m| m.id)
                .collect();
            prop_assert_eq!(whole.len(), n);
            let mut paged = Vec::new();
            let mut options = ListOptions { limit: Some(limit), ..base };
            loop {
                let page = r.list_registered_models(&options).await.unwrap();
                prop_assert!(page.items.len() <= limit as usize);
                paged.extend(page.items.into_iter().filter_map(|m| m.id));
                match page.next_page_token {
                    Some(t) => options.page_token = Some(t),
                    None => break,
                }
            }
            prop_assert_eq!(paged, whole);
            Ok(())
        })?;
    }
}
