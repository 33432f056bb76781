//! The conformance and model registry suites on PostgreSQL, each function on a fresh store in a
//! schema of its own (dropped afterwards, also when the function fails),
//! and PostgreSQL-specific behaviour (schema versions, options); with the
//! feature `parquet`, the export suite too.
//!
//! Needs `KEELSON_PG_URL` (scripts/test.sh starts a throwaway server and
//! sets it). Without it every test is skipped with a note, except under
//! `CI=true`, where they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod conformance;
#[cfg(feature = "parquet")]
mod export_suite;
mod registry_suite;

use std::sync::atomic::{AtomicUsize, Ordering};

use keelson_lineage::postgres::SCHEMA_VERSION;
use keelson_lineage::{Error, MetadataStore, NodeKind, PostgresOptions, PostgresStore};
use tokio_postgres::NoTls;

fn pg_url() -> Option<String> {
    match std::env::var("KEELSON_PG_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("KEELSON_PG_URL is not set, and CI=true requires the PostgreSQL tests to run")
        }
        _ => {
            println!("skipped: KEELSON_PG_URL is not set (scripts/test.sh starts a server)");
            None
        }
    }
}

/// A schema name no other test (nor another run of this binary) uses.
fn unique_schema(test: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "keelson_pg_{test}_{}_{}_{nanos}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
    .chars()
    .take(63)
    .collect()
}

/// Runs SQL on its own connection (schema set-up and clean-up).
async fn admin(url: &str, sql: &str) {
    let (client, connection) = tokio_postgres::connect(url, NoTls)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to KEELSON_PG_URL: {e}"));
    let task = tokio::spawn(connection);
    client
        .batch_execute(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    drop(client);
    let _ = task.await;
}

fn options(schema: &str) -> PostgresOptions {
    PostgresOptions {
        schema: Some(schema.to_owned()),
        ..PostgresOptions::default()
    }
}

/// Runs `check` on a fresh store in a new schema, drops the schema, then
/// reports `check`'s panic, if any.
async fn with_fresh_store<F, Fut>(test: &str, check: F)
where
    F: FnOnce(PostgresStore) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let Some(url) = pg_url() else { return };
    let schema = unique_schema(test);
    let store = PostgresStore::open_with(&url, options(&schema))
        .await
        .unwrap_or_else(|e| panic!("open {schema}: {e}"));
    // On a task of its own, so a failing check still lets the schema go.
    let outcome = tokio::spawn(check(store)).await;
    admin(&url, &format!("DROP SCHEMA \"{schema}\" CASCADE")).await;
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                with_fresh_store(stringify!($name), |store| async move {
                    conformance::$name(&store).await;
                })
                .await;
            }
        )*
    };
}

conformance!(
    types_roundtrip_and_evolve,
    nodes_roundtrip_and_update,
    put_execution_and_queries,
    put_execution_reuses_nodes,
    list_and_paginate,
    filter_queries,
    filter_pages_follow_writes,
    lineage_semantics,
    lineage_matches_mlmd_workload,
    delete_refuse_and_cascade,
    namespaces_are_isolated,
    bad_input_writes_nothing,
    concurrent_writers_and_readers,
    import_batch_keeps_times_and_is_idempotent,
);

#[cfg(feature = "parquet")]
macro_rules! export {
    ($($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                with_fresh_store(stringify!($name), |store| async move {
                    export_suite::$name(&store).await;
                })
                .await;
            }
        )*
    };
}

#[cfg(feature = "parquet")]
export!(every_table_roundtrips, one_type_flattened, subgraph_exports);

macro_rules! registry {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn registry() {
                    super::with_fresh_store(concat!("reg_", stringify!($name)), |store| async move {
                        super::registry_suite::$name(&store).await;
                    })
                    .await;
                }
            }
        )*
    };
}

registry!(
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_suite_helpers_record_runs_that_persist_across_opens() {
    let Some(url) = pg_url() else { return };
    let schema = unique_schema("reopen");
    let outcome = tokio::spawn({
        let (url, schema) = (url.clone(), schema.clone());
        async move {
            let ids = {
                let s = PostgresStore::open_with(&url, options(&schema))
                    .await
                    .unwrap();
                let t = conformance::setup_types(&s).await;
                conformance::record_runs(&s, &t, 2).await
            };
            // A second open finds the schema at the current version.
            let s = PostgresStore::open_with(&url, options(&schema))
                .await
                .unwrap();
            let arts = s.get_artifacts_by_id(&ids[1].2).await.unwrap();
            assert_eq!(arts.len(), 3);
            conformance::put_execution_reuses_nodes(&s.namespace("other").unwrap()).await;
        }
    })
    .await;
    admin(&url, &format!("DROP SCHEMA \"{schema}\" CASCADE")).await;
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schema_versions_and_foreign_schemas_are_checked() {
    let Some(url) = pg_url() else { return };
    let newer = unique_schema("newer");
    let foreign = unique_schema("foreign");
    let old = unique_schema("old");
    admin(
        &url,
        &format!(
            "CREATE SCHEMA \"{newer}\"; \
             CREATE TABLE \"{newer}\".schema_version(version BIGINT NOT NULL); \
             INSERT INTO \"{newer}\".schema_version VALUES ({}); \
             CREATE SCHEMA \"{foreign}\"; CREATE TABLE \"{foreign}\".t(x INT); \
             CREATE SCHEMA \"{old}\"; \
             CREATE TABLE \"{old}\".schema_version(version BIGINT NOT NULL); \
             INSERT INTO \"{old}\".schema_version VALUES (0);",
            SCHEMA_VERSION + 1
        ),
    )
    .await;
    let too_new = PostgresStore::open_with(&url, options(&newer)).await;
    let not_a_store = PostgresStore::open_with(&url, options(&foreign)).await;
    // Version 0 (an empty schema_version table's start) migrates forward.
    let migrated = PostgresStore::open_with(&url, options(&old)).await;
    let migrated_types = match &migrated {
        Ok(s) => Some(s.get_types(NodeKind::Artifact).await),
        Err(_) => None,
    };
    admin(
        &url,
        &format!(
            "DROP SCHEMA \"{newer}\" CASCADE; DROP SCHEMA \"{foreign}\" CASCADE; \
             DROP SCHEMA \"{old}\" CASCADE;"
        ),
    )
    .await;
    assert!(
        matches!(too_new, Err(Error::SchemaTooNew { found, .. }) if found == SCHEMA_VERSION + 1)
    );
    assert!(matches!(not_a_store, Err(Error::NotAStore { .. })));
    assert!(migrated.is_ok(), "{migrated:?}");
    assert!(migrated_types.unwrap().unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_options_are_refused() {
    let url = pg_url().unwrap_or_else(|| "postgres://nobody@127.0.0.1:1/none".to_owned());
    let bad_schema = PostgresOptions {
        schema: Some("x\"; DROP TABLE y; --".into()),
        ..PostgresOptions::default()
    };
    assert!(matches!(
        PostgresStore::open_with(&url, bad_schema).await,
        Err(Error::InvalidArgument { field, .. }) if field == "postgres_options.schema"
    ));
    let bad_namespace = PostgresOptions {
        namespace: "Bad Name".into(),
        ..PostgresOptions::default()
    };
    assert!(matches!(
        PostgresStore::open_with(&url, bad_namespace).await,
        Err(Error::InvalidArgument { .. })
    ));
    assert!(matches!(
        PostgresStore::open("not a url at all = =").await,
        Err(Error::InvalidArgument { .. })
    ));
}
