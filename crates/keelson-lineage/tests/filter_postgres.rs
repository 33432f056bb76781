//! Filter queries compiled for `Dialect::Postgres` and run on a real
//! PostgreSQL server: the same known graph as the SQLite tests (copied row
//! by row from the SQLite database built from `common::GRAPH`) in a fresh
//! schema with the contract's tables in PostgreSQL types
//! (`common/contract_schema_postgres.sql`), and the same query table
//! (`common::cases`), which must select the same ids.
//!
//! Needs `KEELSON_PG_URL` (scripts/test.sh starts a throwaway server and
//! sets it). Without it the test is skipped with a note, except under
//! `CI=true`, where it fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use keelson_lineage::filter::{self, Dialect, SqlValue};
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, NoTls};

const SCHEMA_DDL: &str = include_str!("common/contract_schema_postgres.sql");

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

type Param = Box<dyn ToSql + Sync + Send>;

fn param(value: &SqlValue) -> Param {
    match value {
        SqlValue::Int(v) => Box::new(*v),
        SqlValue::Double(v) => Box::new(*v),
        SqlValue::Text(v) => Box::new(v.clone()),
        SqlValue::Bool(v) => Box::new(*v),
    }
}

/// Copies every row of every contract table from the SQLite graph into the
/// PostgreSQL schema, converting each value to its column's type.
async fn copy_graph(client: &Client, schema: &str) -> Result<(), String> {
    use rusqlite::types::Value;
    let db = common::graph_db();
    let tables: Vec<String> = db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY rowid")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .map_err(|e| e.to_string())?;
    for table in tables {
        let types: Vec<(String, String)> = client
            .query(
                "SELECT column_name::text, data_type::text FROM information_schema.columns \
                 WHERE table_schema = $1 AND table_name = $2",
                &[&schema, &table],
            )
            .await
            .map_err(|e| format!("columns of {table}: {e}"))?
            .iter()
            .map(|row| (row.get(0), row.get(1)))
            .collect();
        let mut statement = db
            .prepare(&format!("SELECT * FROM {table}"))
            .map_err(|e| e.to_string())?;
        let columns: Vec<String> = statement.column_names().map(str::to_owned).collect();
        let rows: Vec<Vec<Value>> = statement
            .query_map([], |row| {
                (0..columns.len()).map(|n| row.get::<_, Value>(n)).collect()
            })
            .and_then(Iterator::collect)
            .map_err(|e| e.to_string())?;
        let placeholders: Vec<String> = (1..=columns.len()).map(|n| format!("${n}")).collect();
        let insert = format!(
            "INSERT INTO {table}({}) VALUES ({})",
            columns.join(", "),
            placeholders.join(", ")
        );
        for row in rows {
            let mut params: Vec<Param> = Vec::new();
            for (column, value) in columns.iter().zip(row) {
                let ty = types
                    .iter()
                    .find(|(name, _)| name == column)
                    .map(|(_, ty)| ty.as_str())
                    .ok_or_else(|| format!("{table}.{column} is not in the PostgreSQL schema"))?;
                let p: Param = match (ty, value) {
                    ("bigint", Value::Integer(v)) => Box::new(Some(v)),
                    ("bigint", Value::Null) => Box::new(None::<i64>),
                    ("double precision", Value::Real(v)) => Box::new(Some(v)),
                    ("double precision", Value::Integer(v)) => Box::new(Some(v as f64)),
                    ("double precision", Value::Null) => Box::new(None::<f64>),
                    ("text", Value::Text(v)) => Box::new(Some(v)),
                    ("text", Value::Null) => Box::new(None::<String>),
                    ("boolean", Value::Integer(v)) => Box::new(Some(v != 0)),
                    ("boolean", Value::Null) => Box::new(None::<bool>),
                    (ty, value) => return Err(format!("{table}.{column}: {value:?} into {ty}")),
                };
                params.push(p);
            }
            let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p.as_ref() as _).collect();
            client
                .execute(&insert, &refs)
                .await
                .map_err(|e| format!("{insert}: {e}"))?;
        }
    }
    Ok(())
}

/// Runs every shared case; returns the mismatches.
async fn run_cases(client: &Client) -> Result<Vec<String>, String> {
    let mut failures = Vec::new();
    let mut ran = 0;
    for (group, cases) in common::cases::ALL {
        for (kind, query, expected) in *cases {
            let parsed = filter::parse(query).map_err(|e| format!("{query}: {e}"))?;
            let sets = filter::property_sets(&parsed, *kind, Dialect::Postgres)
                .map_err(|e| format!("{query}: {e}"))?;
            // Every case twice: property tests as `IN` sets, then as
            // correlated `EXISTS` lookups.
            for plans in [vec![], vec![filter::PropertyPlan::Probe; sets.len()]] {
                let compiled = filter::compile_with(&parsed, *kind, Dialect::Postgres, 2, &plans)
                    .map_err(|e| format!("{query}: {e}"))?;
                let sql = format!(
                    "SELECT t.id FROM {} t WHERE t.namespace = $1 AND ({}) ORDER BY t.id",
                    kind.table(),
                    compiled.where_sql
                );
                let params: Vec<Param> = std::iter::once(Box::new(String::new()) as Param)
                    .chain(compiled.params.iter().map(param))
                    .collect();
                let refs: Vec<&(dyn ToSql + Sync)> =
                    params.iter().map(|p| p.as_ref() as _).collect();
                match client.query(&sql, &refs).await {
                    Ok(rows) => {
                        let ids: Vec<i64> = rows.iter().map(|r| r.get(0)).collect();
                        if ids != *expected {
                            failures.push(format!(
                                "{group}: {kind:?} {query}: got {ids:?}, expected {expected:?}"
                            ));
                        }
                    }
                    Err(e) => failures.push(format!("{group}: {kind:?} {query}: {e:?} in {sql}")),
                }
            }
            ran += 1;
        }
    }
    assert!(ran >= 80, "only {ran} cases");
    Ok(failures)
}

#[tokio::test(flavor = "current_thread")]
async fn filter_queries_select_the_same_ids_on_postgres() {
    let Some(url) = pg_url() else { return };
    let (client, connection) = tokio_postgres::connect(&url, NoTls)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to KEELSON_PG_URL: {e}"));
    let connection = tokio::spawn(connection);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let schema = format!("keelson_filter_test_{}_{nanos}", std::process::id());
    client
        .batch_execute(&format!(
            "CREATE SCHEMA {schema}; SET search_path TO {schema};"
        ))
        .await
        .unwrap();
    let outcome = async {
        client
            .batch_execute(SCHEMA_DDL)
            .await
            .map_err(|e| format!("schema: {e}"))?;
        copy_graph(&client, &schema).await?;
        run_cases(&client).await
    }
    .await;
    // Dropped before any assertion, so a failure leaves nothing behind.
    let dropped = client
        .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
        .await;
    drop(client);
    let _ = connection.await;
    let failures = outcome.unwrap_or_else(|e| panic!("{e}"));
    dropped.unwrap();
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
