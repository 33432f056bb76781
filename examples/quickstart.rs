//! The keelson tour, on embedded defaults only (no cluster, no server):
//!
//! 1. loads every manifest under a directory, validates each object, and prints a
//!    table: kind, namespace/name, and the problems found (or "ok");
//! 2. writes two small Parquet files (a training set and a day of production
//!    data in which two columns drifted), runs the drift report on them, prints
//!    one line per column and writes the report as an HTML page;
//! 3. tunes a standard test function (Branin) with TPE, saves the study as
//!    JSON and shows that the restored study makes the same next suggestion,
//!    which is how a controller resumes after a restart;
//! 4. builds Kueue queues and gang jobs from the Kueue, JobSet and TrainJob
//!    manifests of `examples/manifests`, runs one admission cycle on a
//!    two-node GPU cluster, places the admitted jobs' pods and prints, per
//!    job, its nodes or why it waits;
//! 5. records a three-step pipeline run (ingest, train, evaluate) in an
//!    embedded SQLite lineage store and prints where its evaluation came
//!    from: the upstream lineage, as a list and as a Mermaid diagram;
//! 6. stores a model directory in a content-addressed artifact store on the
//!    local file system, tags it `models/branin-tpe@v1`, signs it, points the
//!    `production` alias at it, then downloads `@production` into a serving
//!    directory, verifying every file's digest and the signature on the way.
//!
//! ```text
//! cargo run --release --example quickstart [DIR]
//! ```
//!
//! `DIR` defaults to `examples/manifests`. The Parquet files, the page and the
//! saved study, the lineage database and the artifact store go to
//! `keelson-quickstart/` under the system's temporary directory. Exits with
//! status 1 when a manifest cannot be read at all or a later step fails, so
//! the command can gate a CI step.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use keelson::artifact::{ArtifactStore, LocalCache};
use keelson::crd::{self, validate::validate};
use keelson::drift::report::{ReportConfig, drift_report_parquet};
use keelson::hpo::testfns::TestFunction;
use keelson::hpo::{Direction, OptimizeOptions, Study, TpeSampler};
use keelson::lineage::{
    Artifact, Context, Event, EventType, Execution, ExecutionState, LineageQuery, MetadataStore,
    NodeType, PropertyType, SqliteStore, TypeOptions,
};
use keelson::sched::manifests::Manifests;
use keelson::sched::{Cluster, Decision, Node, Resources, Scheduler, Strategy};
use parquet::arrow::ArrowWriter;

fn main() -> ExitCode {
    let manifests = check_manifests();
    let dir = std::env::temp_dir().join("keelson-quickstart");
    println!();
    let drift = step("drift", check_drift(&dir));
    println!();
    let tuning = step("tuning", tune(&dir));
    println!();
    let scheduling = step("scheduling", schedule());
    println!();
    let lineage = step("lineage", record_lineage(&dir));
    println!();
    let artifacts = step("artifacts", store_model(&dir));
    [manifests, drift, tuning, scheduling, lineage, artifacts]
        .into_iter()
        .find(|code| *code != ExitCode::SUCCESS)
        .unwrap_or(ExitCode::SUCCESS)
}

fn step(name: &str, result: Result<(), Box<dyn std::error::Error>>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{name} step failed: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Step 6: a model directory published as an immutable, signed version,
/// then downloaded through an alias with every byte verified.
fn store_model(dir: &Path) -> Result<(), Box<dyn std::error::Error>> {
    // Versions are immutable, so each run starts from an empty store.
    let root = dir.join("artifacts");
    if root.exists() {
        std::fs::remove_dir_all(&root)?;
    }
    let model = root.join("training-output");
    std::fs::create_dir_all(&model)?;
    std::fs::write(model.join("weights.bin"), vec![7u8; 1 << 20])?;
    std::fs::write(
        model.join("config.json"),
        br#"{"sampler": "tpe", "trials": 60}"#,
    )?;
    let objects = root.join("objects");
    std::fs::create_dir_all(&objects)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let fs = object_store::local::LocalFileSystem::new_with_prefix(&objects)?;
        let store = ArtifactStore::new(Arc::new(fs), "quickstart")?;
        let manifest = store
            .publish(&model, "models/branin-tpe", "v1", Default::default())
            .await?;
        // A fixed demo key; a real publisher keeps a generated one secret.
        let key = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
        store.sign_manifest(&manifest, &key).await?;
        store
            .move_alias("models/branin-tpe", "production", "v1", None)
            .await?;
        println!("artifacts: published models/branin-tpe@v1 (manifest {manifest}), alias production -> v1");

        let cache = LocalCache::new(root.join("cache"));
        let serving = root.join("serving");
        let verified = store
            .download("models/branin-tpe@production", &serving, &cache, Some(&key.verifying_key()))
            .await?;
        for file in &verified.files {
            println!("  {:<12} {:>8} bytes  {}", file.path, file.size, file.digest);
        }
        println!("  downloaded to {}, digests and signature verified", serving.display());
        Ok::<_, Box<dyn std::error::Error>>(())
    })
}

/// Step 5: a pipeline run recorded in a lineage store, then traced back
/// from its last output.
fn record_lineage(dir: &Path) -> Result<(), Box<dyn std::error::Error>> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join("lineage.db");
    for stale in ["", "-wal", "-shm"] {
        let file = PathBuf::from(format!("{}{stale}", path.display()));
        if file.exists() {
            std::fs::remove_file(file)?;
        }
    }
    // The store is async (its I/O runs off the caller's thread); a
    // current-thread runtime is all a small program needs.
    let runtime = tokio::runtime::Builder::new_current_thread().build()?;
    let graph = runtime.block_on(async {
        let first = |mut artifacts: Vec<Artifact>| {
            artifacts
                .pop()
                .ok_or("the store returned no artifact for a recorded id")
        };
        let store = SqliteStore::open(&path).await?;
        let opts = TypeOptions::default();
        let dataset = store.put_type(&NodeType::artifact("Dataset"), opts).await?;
        let model = store.put_type(&NodeType::artifact("Model"), opts).await?;
        let metrics = store
            .put_type(
                &NodeType::artifact("Metrics").with_property("accuracy", PropertyType::Double),
                opts,
            )
            .await?;
        let step = store.put_type(&NodeType::execution("Step"), opts).await?;
        let run = store
            .put_type(&NodeType::context("PipelineRun"), opts)
            .await?;
        let named = |name: &str| Execution {
            name: Some(name.to_owned()),
            ..Execution::new(step, ExecutionState::Complete)
        };
        let output = |key: &str| Some(Event::new(EventType::Output).with_key(key));
        let input = |key: &str| Some(Event::new(EventType::Input).with_key(key));

        // Each step is one transaction: the execution, its artifacts, the
        // events between them and the run they belong to.
        let mut ctx = Context::new(run, "quickstart-run-1");
        let ingest = store
            .put_execution(
                &named("ingest"),
                &[(
                    Artifact::new(dataset, "file:///data/train.parquet"),
                    output("data"),
                )],
                &[ctx.clone()],
            )
            .await?;
        ctx.id = ingest.context_ids.first().copied();
        let data = first(store.get_artifacts_by_id(&ingest.artifact_ids).await?)?;
        let train = store
            .put_execution(
                &named("train"),
                &[
                    (data, input("data")),
                    (
                        Artifact::new(model, "file:///models/branin-tpe"),
                        output("model"),
                    ),
                ],
                &[ctx.clone()],
            )
            .await?;
        let trained = first(store.get_artifacts_by_id(&train.artifact_ids).await?)?;
        let evaluate = store
            .put_execution(
                &named("evaluate"),
                &[
                    (trained, input("model")),
                    (
                        Artifact::new(metrics, "file:///metrics/run-1.json")
                            .with_property("accuracy", 0.97),
                        output("metrics"),
                    ),
                ],
                &[ctx],
            )
            .await?;
        let metrics_id = *evaluate.artifact_ids.last().ok_or("no metrics id")?;
        let graph = store
            .lineage_subgraph(&LineageQuery::upstream_of_artifact(metrics_id, 10))
            .await?;
        Ok::<_, Box<dyn std::error::Error>>(graph)
    })?;
    println!(
        "lineage: upstream of the run's metrics: {} artifacts, {} executions, {} events (store: {})",
        graph.artifacts.len(),
        graph.executions.len(),
        graph.events.len(),
        path.display()
    );
    for artifact in &graph.artifacts {
        let uri = artifact.uri.as_deref().unwrap_or("(no uri)");
        println!("  artifact {:>2}  {uri}", artifact.id.unwrap_or_default());
    }
    print!("{}", graph.to_mermaid());
    Ok(())
}

/// Step 4: queues and jobs from the example manifests, one admission cycle,
/// then gang placement of what was admitted.
fn schedule() -> Result<(), Box<dyn std::error::Error>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/manifests");
    let mut manifests = Manifests::new();
    for file in crd::manifest_files(&dir)? {
        for document in crd::load(
            &file.display().to_string(),
            &std::fs::read_to_string(&file)?,
        )? {
            manifests.add(&document.resource)?;
        }
    }
    let setup = manifests.setup()?;
    let flavor_labels: BTreeMap<String, BTreeMap<String, String>> = setup
        .flavors
        .iter()
        .map(|f| (f.name.clone(), f.node_labels.clone()))
        .collect();
    let mut scheduler = Scheduler::new(setup)?;
    // Two nodes of the gpu-a100 flavor (its node label), four GPUs each.
    let node = |name: &str| -> keelson::sched::Result<Node> {
        let capacity = [("cpu", "96"), ("memory", "512Gi"), ("nvidia.com/gpu", "4")];
        Ok(Node::new(name, Resources::parse(capacity)?)
            .with_label("cloud.example.com/accelerator", "nvidia-a100"))
    };
    let mut cluster = Cluster::new(vec![node("a100-0")?, node("a100-1")?])?;
    let mut jobs = BTreeMap::new();
    for (order, job) in manifests.workloads().into_iter().enumerate() {
        // The manifests carry no creation time: file order stands for it.
        let job = job?.with_created(order as u64);
        jobs.insert(job.name.clone(), job.clone());
        scheduler.submit(job)?;
    }
    println!(
        "scheduling: {} gang jobs from examples/manifests, one admission cycle, 2 nodes with 4 GPUs each",
        jobs.len()
    );
    let width = jobs.keys().map(String::len).max().unwrap_or(0);
    for decision in scheduler.cycle() {
        let name = decision.workload().to_owned();
        let line = match &decision {
            Decision::Admitted(admission) => {
                let mut job = jobs.get(&name).ok_or("unknown job")?.clone();
                // Admitted pods run on their flavor's nodes: Kueue adds the
                // flavor's node labels to the pods' node selector.
                for (pods, admitted) in job.pod_sets.iter_mut().zip(&admission.pod_sets) {
                    pods.count = admitted.count;
                    for flavor in admitted.flavors.values() {
                        if let Some(labels) = flavor_labels.get(flavor) {
                            pods.node_selector.extend(labels.clone());
                        }
                    }
                }
                match cluster.place(&job, Strategy::BinPack) {
                    Ok(placement) => {
                        let mut nodes: BTreeMap<String, u32> = BTreeMap::new();
                        for ps in &placement.pod_sets {
                            for (node, pods) in &ps.nodes {
                                *nodes.entry(node.clone()).or_default() += pods;
                            }
                        }
                        cluster.bind(placement)?;
                        let nodes: Vec<String> =
                            nodes.iter().map(|(n, p)| format!("{n} ×{p}")).collect();
                        format!("admitted, pods on {}", nodes.join(", "))
                    }
                    Err(why) => format!("admitted, but not placed: {why}"),
                }
            }
            Decision::Waiting { reason, .. } => format!("waits: {reason}"),
            Decision::Preempted { by, .. } => format!("preempted by {by}"),
        };
        println!("  {name:<width$}  {line}");
    }
    Ok(())
}

/// Step 3: 60 trials of TPE on Branin, then save and resume the study.
fn tune(dir: &Path) -> Result<(), Box<dyn std::error::Error>> {
    std::fs::create_dir_all(dir)?;
    let branin = TestFunction::by_name("branin")?;
    let mut study = Study::new(branin.space()?, Direction::Minimize, TpeSampler::new(7))?;
    let options = OptimizeOptions::new().progress(false);
    let summary = study.optimize_with(60, &options, |trial| branin.evaluate(trial.params()))?;
    let best = study
        .best_trial()
        .and_then(|t| t.value)
        .ok_or("no trial completed")?;
    println!(
        "tuning: {} trials of TPE on branin, best {best:.4} (the optimum is {:.4})",
        summary.completed,
        branin.optimum().value
    );
    let saved = dir.join("study.json");
    std::fs::write(&saved, study.save()?)?;
    let mut resumed: Study<TpeSampler> = Study::restore(&std::fs::read_to_string(&saved)?)?;
    let same = resumed.ask()? == study.ask()?;
    println!(
        "study saved to {}; restored, it suggests the same next trial: {same}",
        saved.display()
    );
    if same {
        Ok(())
    } else {
        Err("the restored study diverged".into())
    }
}

/// Step 2: two Parquet files, a drift report, an HTML page.
fn check_drift(dir: &Path) -> Result<(), Box<dyn std::error::Error>> {
    std::fs::create_dir_all(dir)?;
    let (training, today) = (dir.join("training.parquet"), dir.join("today.parquet"));
    write_parquet(&training, &table(5_000, 0.0, 1))?;
    write_parquet(&today, &table(2_000, 1.0, 2))?;
    let report = drift_report_parquet(&training, &today, &ReportConfig::default())?;
    println!(
        "drift report: {} vs {}",
        training.display(),
        today.display()
    );
    for column in &report.columns {
        let verdict = match (column.test(), column.error()) {
            (Some(test), _) => format!(
                "{:<18} statistic {:>9.4}  {}",
                test.method.to_string(),
                test.statistic,
                if test.drifted { "DRIFT" } else { "ok" }
            ),
            (None, Some(error)) => format!("error: {error}"),
            (None, None) => "not tested".to_string(),
        };
        println!("  {:<10} {verdict}", column.name);
    }
    println!(
        "{} of {} columns drifted: dataset drift = {}",
        report.drifted_columns, report.tested_columns, report.dataset_drift
    );
    let page = dir.join("drift_report.html");
    std::fs::write(&page, report.to_html())?;
    println!("HTML report: {}", page.display());
    Ok(())
}

/// A small synthetic table. `shift` moves `age` and the mix of `country`; the
/// other columns keep their distribution.
fn table(rows: usize, shift: f64, seed: u64) -> RecordBatch {
    // A tiny deterministic generator keeps the example free of extra crates.
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut uniform = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut age = Vec::with_capacity(rows);
    let mut income = Vec::with_capacity(rows);
    let mut country = Vec::with_capacity(rows);
    let mut clicks = Vec::with_capacity(rows);
    for _ in 0..rows {
        let (u1, u2) = (uniform().max(1e-12), uniform());
        let normal = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
        age.push(40.0 + 8.0 * normal + 6.0 * shift);
        income.push(30_000.0 + 40_000.0 * uniform());
        let u = uniform();
        country.push(if u < 0.5 - 0.3 * shift {
            "DE"
        } else if u < 0.8 {
            "FR"
        } else {
            "US"
        });
        clicks.push((uniform() * 10.0) as i64);
    }
    let schema = Schema::new(vec![
        Field::new("age", DataType::Float64, false),
        Field::new("income", DataType::Float64, false),
        Field::new("country", DataType::Utf8, false),
        Field::new("clicks", DataType::Int64, false),
    ]);
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Float64Array::from(age)),
        Arc::new(Float64Array::from(income)),
        Arc::new(StringArray::from(country)),
        Arc::new(Int64Array::from(clicks)),
    ];
    RecordBatch::try_new(Arc::new(schema), columns)
        .unwrap_or_else(|e| unreachable!("fixed schema: {e}"))
}

fn write_parquet(path: &Path, batch: &RecordBatch) -> Result<(), Box<dyn std::error::Error>> {
    let file = std::fs::File::create(path)?;
    let mut writer = ArrowWriter::try_new(file, batch.schema(), None)?;
    writer.write(batch)?;
    writer.close()?;
    Ok(())
}

/// Step 1: validate the manifests.
fn check_manifests() -> ExitCode {
    let dir = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/manifests"));
    let files = match crd::manifest_files(&dir) {
        Ok(files) => files,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut rows: Vec<[String; 3]> = Vec::new();
    let mut unreadable = 0;
    let (mut objects, mut clean) = (0, 0);
    for file in &files {
        let shown = file
            .strip_prefix(&dir)
            .unwrap_or(file)
            .display()
            .to_string();
        for result in crd::Loader::new().load_all(&shown, &read(file)) {
            match result {
                Ok(document) => {
                    objects += 1;
                    let meta = document.resource.metadata();
                    let name = match &meta.namespace {
                        Some(ns) => format!("{ns}/{}", meta.name.as_deref().unwrap_or("?")),
                        None => meta.name.clone().unwrap_or_else(|| "?".into()),
                    };
                    let problems = validate(&document);
                    if problems.is_empty() {
                        clean += 1;
                    }
                    let problems = if problems.is_empty() {
                        "ok".to_owned()
                    } else {
                        problems
                            .iter()
                            .map(ToString::to_string)
                            .collect::<Vec<_>>()
                            .join("; ")
                    };
                    rows.push([document.resource.kind(), name, problems]);
                }
                Err(e) => {
                    unreadable += 1;
                    rows.push(["(unreadable)".into(), shown.clone(), e.to_string()]);
                }
            }
        }
    }
    print_table(&["KIND", "NAMESPACE/NAME", "PROBLEMS"], &rows);
    println!(
        "\n{} files, {objects} objects: {clean} ok, {} with problems, {unreadable} unreadable",
        files.len(),
        objects - clean
    );
    if unreadable > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn read(path: &std::path::Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| format!("{{\"error\": {:?}}}", e.to_string()))
}

fn print_table(header: &[&str; 3], rows: &[[String; 3]]) {
    let mut widths = header.map(str::len);
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row).take(2) {
            *w = (*w).max(cell.len());
        }
    }
    println!(
        "{:w0$}  {:w1$}  {}",
        header[0],
        header[1],
        header[2],
        w0 = widths[0],
        w1 = widths[1]
    );
    for row in rows {
        println!(
            "{:w0$}  {:w1$}  {}",
            row[0],
            row[1],
            row[2],
            w0 = widths[0],
            w1 = widths[1]
        );
    }
}
