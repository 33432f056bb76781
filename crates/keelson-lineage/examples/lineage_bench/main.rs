//! The lineage benchmark runner: replays any `lineage-workload/2` file
//! into a fresh store per scale (a SQLite file, or a new schema of a
//! PostgreSQL database), times every `put_execution` call
//! and the seven queries, checks every result size against the workload,
//! and prints the results JSON in the shape of the MLMD anchor's
//! `results.json`.
//!
//! ```text
//! cargo run --release -p keelson-lineage --example lineage_bench -- WORKLOAD.json \
//!     --runs N [--runs M ...] [--dbdir DIR] [--backend sqlite|postgres] [--pg-url URL] \
//!     [--concurrency K] [--durability wal|wal-sync|mlmd] [--ingest-only] [--keep]
//! ```
//!
//! Defaults: `--dbdir /dev/shm`, `--backend sqlite`, `--concurrency 1`,
//! `--durability wal`. `--backend postgres` (built with the `postgres`
//! feature) replays into a new schema `keelson_lineage_bench_<runs>_<pid>` of
//! the database at `--pg-url` (default: `KEELSON_PG_URL`), dropped
//! afterwards unless `--keep`; its size is the schema's tables with their
//! indexes, and `--dbdir`/`--durability` do not apply (the server's own
//! settings are reported); its tables are analyzed, untimed, between the
//! ingest and the queries, as autovacuum would have them soon after a bulk
//! load. Progress goes to stderr, the JSON to stdout; a
//! result size other than the workload's is an error (exit status 1).
//! See docs/lineage.md, section "Benchmark runner".

mod replay;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use keelson_lineage::workload::{
    BenchReport, EdgeCounts, Ingest, Machine, Mode, NodeCounts, Scale, Workload,
};
use keelson_lineage::{Durability, MetadataStore, SqliteOptions, SqliteStore};
use serde_json::{Value, json};

const USAGE: &str = "usage: lineage_bench WORKLOAD.json --runs N [--runs M ...] [--dbdir DIR] \
[--backend sqlite|postgres] [--pg-url URL] [--concurrency K] [--durability wal|wal-sync|mlmd] \
[--ingest-only] [--keep]";

/// Where the runs are replayed.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Backend {
    /// A SQLite file under `--dbdir`.
    Sqlite,
    /// A new schema of the PostgreSQL database at this URL.
    Postgres(String),
}

/// The command line.
struct Args {
    workload: PathBuf,
    runs: Vec<u64>,
    dbdir: PathBuf,
    backend: Backend,
    concurrency: usize,
    durability: Durability,
    ingest_only: bool,
    keep: bool,
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut workload = None;
    let mut runs = Vec::new();
    let mut dbdir = PathBuf::from("/dev/shm");
    let mut postgres = false;
    let mut pg_url = None;
    let mut concurrency = 1;
    let mut durability = Durability::Wal;
    let mut ingest_only = false;
    let mut keep = false;
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--runs" => {
                let v = value("--runs")?;
                let n: u64 = v.parse().map_err(|_| format!("--runs {v}: not a count"))?;
                if n == 0 {
                    return Err("--runs must be at least 1".into());
                }
                runs.push(n);
            }
            "--dbdir" => dbdir = PathBuf::from(value("--dbdir")?),
            "--backend" => {
                let v = value("--backend")?;
                postgres = match v.as_str() {
                    "sqlite" => false,
                    "postgres" => true,
                    other => return Err(format!("--backend {other}: sqlite or postgres")),
                };
            }
            "--pg-url" => pg_url = Some(value("--pg-url")?),
            "--concurrency" => {
                let v = value("--concurrency")?;
                concurrency = v
                    .parse()
                    .ok()
                    .filter(|&k| k >= 1)
                    .ok_or_else(|| format!("--concurrency {v}: not a count of at least 1"))?;
            }
            "--durability" => {
                durability = match value("--durability")?.as_str() {
                    "wal" => Durability::Wal,
                    "wal-sync" => Durability::WalSync,
                    "mlmd" => Durability::MlmdDefaults,
                    other => return Err(format!("--durability {other}: wal, wal-sync or mlmd")),
                }
            }
            "--ingest-only" => ingest_only = true,
            "--keep" => keep = true,
            "-h" | "--help" => return Err(USAGE.into()),
            flag if flag.starts_with("--") => return Err(format!("unknown option {flag}")),
            path if workload.is_none() => workload = Some(PathBuf::from(path)),
            extra => return Err(format!("unexpected argument {extra}")),
        }
    }
    let workload = workload.ok_or("no workload file given")?;
    if runs.is_empty() {
        return Err("no --runs given".into());
    }
    let backend = if postgres {
        let url = pg_url
            .or_else(|| std::env::var("KEELSON_PG_URL").ok())
            .filter(|u| !u.is_empty())
            .ok_or("--backend postgres needs --pg-url or KEELSON_PG_URL")?;
        Backend::Postgres(url)
    } else {
        Backend::Sqlite
    };
    Ok(Args {
        workload,
        runs,
        dbdir,
        backend,
        concurrency,
        durability,
        ingest_only,
        keep,
    })
}

fn durability_name(d: Durability) -> &'static str {
    match d {
        Durability::Wal => "wal (synchronous=NORMAL)",
        Durability::WalSync => "wal-sync fsync per commit",
        Durability::MlmdDefaults => "mlmd-defaults (journal DELETE, synchronous=FULL)",
    }
}

/// The file system type of the longest mount point `dir` is under.
fn fs_type(dir: &Path) -> String {
    let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    let mounts = std::fs::read_to_string("/proc/mounts").unwrap_or_default();
    let mut best: Option<(usize, String)> = None;
    for line in mounts.lines() {
        let mut fields = line.split_whitespace().skip(1);
        let (Some(mount), Some(fs)) = (fields.next(), fields.next()) else {
            continue;
        };
        let len = Path::new(mount).components().count();
        if dir.starts_with(mount) && best.as_ref().is_none_or(|(l, _)| len >= *l) {
            best = Some((len, fs.to_owned()));
        }
    }
    best.map_or_else(|| "?".to_owned(), |(_, fs)| fs)
}

fn load1() -> Value {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(Value::Null, |l| json!(l))
}

fn machine() -> Machine {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map_or_else(String::new, |(_, v)| v.trim().to_owned());
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let mut extra = BTreeMap::new();
    extra.insert(
        "profile".to_owned(),
        json!(if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }),
    );
    Machine {
        cpu,
        cores: std::thread::available_parallelism().map_or(0, |n| n.get() as u64),
        os: format!(
            "{}-{}-{}",
            std::env::consts::OS,
            release.trim(),
            std::env::consts::ARCH
        ),
        extra,
    }
}

fn db_files(path: &Path) -> Vec<PathBuf> {
    ["", "-wal", "-shm", "-journal"]
        .iter()
        .map(|suffix| PathBuf::from(format!("{}{suffix}", path.display())))
        .collect()
}

/// The database file plus its WAL (or rollback journal), as MLMD's runner
/// counts them.
fn db_bytes(path: &Path) -> u64 {
    db_files(path)
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum()
}

async fn bench_scale(
    args: &Args,
    workload: &Arc<Workload>,
    runs: u64,
) -> Result<Scale, Box<dyn std::error::Error>> {
    match &args.backend {
        Backend::Sqlite => bench_sqlite(args, workload, runs).await,
        Backend::Postgres(url) => bench_postgres(args, workload, runs, url).await,
    }
}

async fn bench_sqlite(
    args: &Args,
    workload: &Arc<Workload>,
    runs: u64,
) -> Result<Scale, Box<dyn std::error::Error>> {
    std::fs::create_dir_all(&args.dbdir)?;
    let path = args.dbdir.join(format!(
        "keelson_lineage_bench_{runs}_{}.sqlite",
        std::process::id()
    ));
    for file in db_files(&path) {
        if file.exists() {
            std::fs::remove_file(file)?;
        }
    }
    let store = SqliteStore::open_with(
        &path,
        SqliteOptions {
            durability: args.durability,
            ..SqliteOptions::default()
        },
    )
    .await?;
    let mut extra = BTreeMap::new();
    extra.insert("dbdir".to_owned(), json!(args.dbdir.display().to_string()));
    extra.insert(
        "durability".to_owned(),
        json!(durability_name(args.durability)),
    );
    let setting = Setting {
        fs: fs_type(&args.dbdir),
        durability: durability_name(args.durability).to_owned(),
        extra,
    };
    let result = measure(args, workload, runs, &store, setting, async || {
        Ok(db_bytes(&path))
    })
    .await;
    drop(store);
    if !args.keep {
        for file in db_files(&path) {
            if file.exists() {
                std::fs::remove_file(file)?;
            }
        }
    }
    result
}

#[cfg(not(feature = "postgres"))]
async fn bench_postgres(
    _args: &Args,
    _workload: &Arc<Workload>,
    _runs: u64,
    _url: &str,
) -> Result<Scale, Box<dyn std::error::Error>> {
    Err(
        "--backend postgres: this build lacks the `postgres` feature \
         (cargo run --features postgres ...)"
            .into(),
    )
}

/// One admin connection to the benchmark's PostgreSQL server.
#[cfg(feature = "postgres")]
async fn pg_admin(url: &str) -> Result<tokio_postgres::Client, Box<dyn std::error::Error>> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
    tokio::spawn(connection);
    Ok(client)
}

#[cfg(feature = "postgres")]
async fn bench_postgres(
    args: &Args,
    workload: &Arc<Workload>,
    runs: u64,
    url: &str,
) -> Result<Scale, Box<dyn std::error::Error>> {
    use keelson_lineage::{PostgresOptions, PostgresStore};

    let schema = format!("keelson_lineage_bench_{runs}_{}", std::process::id());
    let admin = pg_admin(url).await?;
    admin
        .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
        .await?;
    let options = PostgresOptions {
        schema: Some(schema.clone()),
        max_connections: args.concurrency.max(4),
        ..PostgresOptions::default()
    };
    let store = PostgresStore::open_with(url, options).await?;
    let mut extra = BTreeMap::new();
    let mut settings = Vec::new();
    for name in [
        "server_version",
        "synchronous_commit",
        "fsync",
        "shared_buffers",
    ] {
        let row = admin.query_one(&format!("SHOW {name}"), &[]).await?;
        let value: String = row.try_get(0)?;
        extra.insert(format!("pg_{name}"), json!(value));
        settings.push(format!("{name}={value}"));
    }
    extra.insert("pg_schema".to_owned(), json!(schema));
    let setting = Setting {
        fs: "postgresql".to_owned(),
        durability: format!("postgresql server ({})", settings.join(", ")),
        extra,
    };
    let tables = "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
        WHERE n.nspname = $1 AND c.relkind = 'r'";
    let size_sql =
        format!("SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint {tables}");
    let result = measure(args, workload, runs, &store, setting, async || {
        // Between the ingest and the queries, untimed: the planner's
        // statistics as autovacuum leaves them within a minute of a bulk
        // load. Queries started right after the ingest otherwise run on
        // empty-table estimates (at 1,000 runs the upstream lineage took
        // 59 ms instead of 8).
        for row in admin
            .query(&format!("SELECT c.relname {tables}"), &[&schema])
            .await?
        {
            let table: String = row.try_get(0)?;
            admin
                .batch_execute(&format!("ANALYZE {schema}.{table}"))
                .await?;
        }
        let row = admin.query_one(&size_sql, &[&schema]).await?;
        let bytes: i64 = row.try_get(0)?;
        Ok(u64::try_from(bytes).unwrap_or_default())
    })
    .await;
    drop(store);
    if !args.keep {
        admin
            .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
            .await?;
    }
    result
}

/// What a backend reports about where and how it stores.
struct Setting {
    fs: String,
    durability: String,
    extra: BTreeMap<String, Value>,
}

async fn measure<S, F>(
    args: &Args,
    workload: &Arc<Workload>,
    runs: u64,
    store: &S,
    setting: Setting,
    size: F,
) -> Result<Scale, Box<dyn std::error::Error>>
where
    S: MetadataStore + Clone + 'static,
    F: AsyncFn() -> Result<u64, Box<dyn std::error::Error>>,
{
    let types = Arc::new(replay::register_types(store, workload).await?);
    let mut extra = setting.extra;
    extra.insert("concurrency".to_owned(), json!(args.concurrency));
    extra.insert("loadavg_1m_at_ingest_start".to_owned(), load1());
    eprintln!(
        "scale {runs}: ingest from {} caller(s), {}",
        args.concurrency, setting.durability
    );
    let timing = replay::ingest(store, workload.clone(), types, runs, args.concurrency).await?;
    extra.insert("loadavg_1m_after_ingest".to_owned(), load1());
    let per_run = workload.per_run_counts();
    let nodes = NodeCounts::for_runs(&per_run, runs);
    let edges = EdgeCounts::for_runs(&per_run, runs);
    let ingest = Ingest::new(timing.seconds, runs, &nodes, &edges, &timing.call_seconds)
        .ok_or("the ingest made no calls")?;
    eprintln!(
        "  {} calls in {:.3} s: {} calls/s",
        ingest.put_execution_calls, ingest.seconds, ingest.calls_per_s
    );
    let db_bytes = size().await?;
    let queries = if args.ingest_only {
        None
    } else {
        eprintln!("  queries...");
        let q = replay::run_queries(store, workload, runs).await?;
        extra.insert("loadavg_1m_after_queries".to_owned(), load1());
        Some(q)
    };
    #[allow(clippy::cast_precision_loss)]
    let per_run_bytes = (db_bytes as f64 / runs as f64 * 10.0).round() / 10.0;
    Ok(Scale {
        runs,
        mode: if args.ingest_only {
            Mode::IngestOnly
        } else {
            Mode::Full
        },
        fs: setting.fs,
        nodes,
        edges,
        ingest,
        db_bytes,
        db_bytes_per_run: per_run_bytes,
        queries,
        extra,
    })
}

async fn run(args: Args) -> Result<BenchReport, Box<dyn std::error::Error>> {
    let bytes =
        std::fs::read(&args.workload).map_err(|e| format!("{}: {e}", args.workload.display()))?;
    let workload = Arc::new(Workload::from_json(&bytes)?);
    let mut report = BenchReport {
        system: "keelson-lineage".to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        backend: match args.backend {
            Backend::Sqlite => "sqlite-file",
            Backend::Postgres(_) => "postgresql",
        }
        .to_owned(),
        workload: workload.name().to_owned(),
        machine: machine(),
        scales: Vec::new(),
    };
    for &runs in &args.runs {
        report
            .scales
            .push(bench_scale(&args, &workload, runs).await?);
    }
    Ok(report)
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(message) => {
            eprintln!("lineage_bench: {message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(args).await {
        Ok(report) => match serde_json::to_string_pretty(&report) {
            Ok(text) => {
                println!("{text}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("lineage_bench: {e}");
                ExitCode::FAILURE
            }
        },
        Err(e) => {
            eprintln!("lineage_bench: {e}");
            ExitCode::FAILURE
        }
    }
}
