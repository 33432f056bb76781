//! Records a tiny pipeline run in an in-memory store and exports every
//! table as a Parquet file, one per table, into a directory (the first
//! argument, or `lineage-parquet` in the temporary directory); prints each
//! file's path and row count.
//!
//! `cargo run -p keelson-lineage --features parquet --example export_parquet -- /tmp/out`

use keelson_lineage::export::parquet::{ParquetOptions, write_store_dir};
use keelson_lineage::{
    Artifact, Context, Event, EventType, Execution, ExecutionState, MetadataStore, NodeType,
    PropertyType, SqliteStore, TypeOptions,
};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), keelson_lineage::Error> {
    let dir = std::env::args()
        .nth(1)
        .map_or_else(|| std::env::temp_dir().join("lineage-parquet"), Into::into);
    let store = SqliteStore::open_in_memory().await?;
    let opts = TypeOptions::default();
    let dataset = store.put_type(&NodeType::artifact("Dataset"), opts).await?;
    let model = NodeType::artifact("Model").with_property("accuracy", PropertyType::Double);
    let model = store.put_type(&model, opts).await?;
    let step = store.put_type(&NodeType::execution("Train"), opts).await?;
    let run = store
        .put_type(&NodeType::context("PipelineRun"), opts)
        .await?;
    store
        .put_execution(
            &Execution::new(step, ExecutionState::Complete),
            &[
                (
                    Artifact::new(dataset, "s3://data/v1"),
                    Some(Event::new(EventType::Input).with_key("data")),
                ),
                (
                    Artifact::new(model, "s3://models/m1").with_property("accuracy", 0.93),
                    Some(Event::new(EventType::Output).with_key("model")),
                ),
            ],
            &[Context::new(run, "run-1")],
        )
        .await?;

    for file in write_store_dir(&store, &dir, &ParquetOptions::default()).await? {
        println!("{:>4} rows  {}", file.rows, file.path.display());
    }
    Ok(())
}
