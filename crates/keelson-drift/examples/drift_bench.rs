//! Time keelson-drift on the drift anchors' workloads and print the same table
//! as `../shared/anchors/drift/RESULTS.md`, single-threaded.
//!
//! ```text
//! cargo run --release --example drift_bench [-- --sizes 1e5,1e6,1e7 --reps 3 --report-rows 1e6 --report-cols 10]
//! cargo run --release --example drift_bench -- --write-parquet DIR --rows 1e7 --cols 20
//! /usr/bin/time -v target/release/examples/drift_bench --report-parquet DIR
//! ```
//!
//! Data as the anchors: reference ~ N(0, 1), current ~ N(0.05, 1), n rows
//! each (a seeded ChaCha8 generator, not numpy's); the categorical column has
//! 20 categories, uniform in the reference and with p_k ∝ 1 + 0.05·k/19 in the
//! current. Each time is the median of `reps` runs and includes sorting and
//! binning, as scipy's does. `--report-rows`/`--report-cols` also time the
//! whole per-column report (Evidently's default methods) on a table of that
//! shape, with one thread and with every core.
//!
//! `--write-parquet DIR` writes `reference.parquet` and `current.parquet`
//! (float64 columns of the same data, in row groups of 2^20 rows, Snappy)
//! and exits; `--report-parquet DIR` runs `drift_report_parquet` on them once
//! with every core and prints the time, so that `/usr/bin/time -v` around it
//! measures the report's peak memory alone.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow::array::{ArrayRef, Float64Array, Int64Array, RecordBatch};
use arrow::datatypes::{DataType, Field, Schema};
use keelson_drift::categorical::{CategoryCounts, chi2_contingency};
use keelson_drift::column::CategoricalColumn;
use keelson_drift::cvm::{CvmMethod, cramervonmises_2samp};
use keelson_drift::distance::{energy_distance, wasserstein_distance_unsorted};
use keelson_drift::divergence;
use keelson_drift::histogram::{Binning, histogram_unsorted};
use keelson_drift::ks::{Alternative, KsMethod, ks_2samp, ks_2samp_unsorted};
use keelson_drift::report::{ReportConfig, drift_report, drift_report_parquet};
use keelson_drift::{SortedSample, anderson::anderson_ksamp};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

fn normal(n: usize, shift: f64, seed: u64) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n)
        .map(|_| StandardNormal.sample(&mut rng))
        .map(|x: f64| x + shift)
        .collect()
}

fn categories(n: usize, weights: &[f64], seed: u64) -> Vec<i64> {
    let total: f64 = weights.iter().sum();
    let mut cdf = Vec::with_capacity(weights.len());
    let mut acc = 0.0;
    for w in weights {
        acc += w / total;
        cdf.push(acc);
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            let u: f64 = rng.random();
            cdf.iter().position(|&c| u < c).unwrap_or(weights.len() - 1) as i64
        })
        .collect()
}

fn median_time(reps: usize, mut f: impl FnMut() -> f64) -> (Duration, f64) {
    let mut times = Vec::with_capacity(reps);
    let mut out = 0.0;
    for _ in 0..reps {
        let t = Instant::now();
        out = std::hint::black_box(f());
        times.push(t.elapsed());
    }
    times.sort();
    (times[times.len() / 2], out)
}

fn fmt(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 1.0 {
        format!("{s:.2} s")
    } else {
        format!("{:.2} ms", s * 1e3)
    }
}

fn sorted(v: &[f64]) -> SortedSample {
    SortedSample::new(v, "bench").unwrap()
}

type Bench = (
    &'static str,
    fn(&[f64], &[f64], &Int64Array, &Int64Array) -> f64,
    fn(usize) -> bool,
);

fn hist(r: &[f64], c: &[f64], binning: Binning, metric: fn(&[f64], &[f64]) -> f64) -> f64 {
    let h = histogram_unsorted(r, c, &binning).unwrap();
    metric(&h.reference_proportions(), &h.current_proportions())
}

fn benches() -> Vec<Bench> {
    let all = |_: usize| true;
    vec![
        (
            "ks_2samp(asymp)",
            |r, c, _, _| {
                ks_2samp_unsorted(r, c, KsMethod::Asymptotic, Alternative::TwoSided)
                    .unwrap()
                    .statistic
            },
            all,
        ),
        (
            "anderson_ksamp",
            |r, c, _, _| anderson_ksamp(&[&sorted(r), &sorted(c)]).unwrap().statistic,
            |n| n <= 1_000_000,
        ),
        (
            "cramervonmises_2samp(auto)",
            |r, c, _, _| {
                cramervonmises_2samp(&sorted(r), &sorted(c), CvmMethod::Auto)
                    .unwrap()
                    .statistic
            },
            |n| n <= 1_000_000,
        ),
        (
            "wasserstein_distance",
            |r, c, _, _| wasserstein_distance_unsorted(r, c).unwrap(),
            all,
        ),
        (
            "energy_distance",
            |r, c, _, _| energy_distance(&sorted(r), &sorted(c)).unwrap(),
            all,
        ),
        (
            "jensenshannon_hist10(base2)",
            |r, c, _, _| {
                hist(r, c, Binning::EqualWidth { bins: 10 }, |p, q| {
                    divergence::jensen_shannon(p, q, Some(2.0)).unwrap()
                })
            },
            all,
        ),
        (
            "jensenshannon_hist100(base2)",
            |r, c, _, _| {
                hist(r, c, Binning::EqualWidth { bins: 100 }, |p, q| {
                    divergence::jensen_shannon(p, q, Some(2.0)).unwrap()
                })
            },
            all,
        ),
        (
            "hellinger_hist10",
            |r, c, _, _| {
                hist(r, c, Binning::EqualWidth { bins: 10 }, |p, q| {
                    divergence::hellinger(p, q).unwrap()
                })
            },
            all,
        ),
        (
            "hellinger_hist100",
            |r, c, _, _| {
                hist(r, c, Binning::EqualWidth { bins: 100 }, |p, q| {
                    divergence::hellinger(p, q).unwrap()
                })
            },
            all,
        ),
        (
            "psi_quantile10(eps=1e-4)",
            |r, c, _, _| {
                hist(r, c, Binning::ReferenceQuantiles { bins: 10 }, |p, q| {
                    divergence::psi(p, q, 1e-4).unwrap()
                })
            },
            all,
        ),
        (
            "chi2_contingency(20cat, from raw)",
            |_, _, rc, cc| {
                let r = CategoricalColumn::from_array("ref", rc).unwrap();
                let c = CategoricalColumn::from_array("cur", cc).unwrap();
                chi2_contingency(
                    &CategoryCounts::from_counts(r.categories, c.categories),
                    false,
                )
                .unwrap()
                .statistic
            },
            all,
        ),
        (
            "sort(ref) baseline",
            |r, _, _, _| sorted(r).values()[0],
            all,
        ),
    ]
}

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

fn parse_n(s: &str) -> usize {
    s.parse::<f64>()
        .map(|x| x as usize)
        .unwrap_or_else(|_| panic!("not a size: {s}"))
}

/// Write a table of `cols` float64 columns, `rows` rows, in row groups.
fn write_parquet(path: &Path, rows: usize, cols: usize, shift: f64, seed: u64) {
    const GROUP: usize = 1 << 20;
    let fields: Vec<Field> = (0..cols)
        .map(|i| Field::new(format!("f{i}"), DataType::Float64, false))
        .collect();
    let schema = Arc::new(Schema::new(fields));
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(GROUP))
        .build();
    let file = std::fs::File::create(path).unwrap();
    let mut writer = ArrowWriter::try_new(file, schema.clone(), Some(props)).unwrap();
    let mut rngs: Vec<ChaCha8Rng> = (0..cols)
        .map(|i| ChaCha8Rng::seed_from_u64(seed + i as u64))
        .collect();
    let mut done = 0;
    while done < rows {
        let n = GROUP.min(rows - done);
        let arrays: Vec<ArrayRef> = rngs
            .iter_mut()
            .map(|rng| {
                let v: Vec<f64> = (0..n)
                    .map(|_| StandardNormal.sample(rng))
                    .map(|x: f64| x + shift)
                    .collect();
                Arc::new(Float64Array::from(v)) as ArrayRef
            })
            .collect();
        writer
            .write(&RecordBatch::try_new(schema.clone(), arrays).unwrap())
            .unwrap();
        done += n;
    }
    writer.close().unwrap();
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(dir) = arg(&args, "--write-parquet") {
        let rows = arg(&args, "--rows").map_or(10_000_000, |s| parse_n(&s));
        let cols = arg(&args, "--cols").map_or(20, |s| parse_n(&s));
        let dir = Path::new(&dir);
        std::fs::create_dir_all(dir).unwrap();
        write_parquet(&dir.join("reference.parquet"), rows, cols, 0.0, 11);
        write_parquet(&dir.join("current.parquet"), rows, cols, 0.05, 1011);
        println!("wrote {rows} x {cols} to {}", dir.display());
        return;
    }
    if let Some(dir) = arg(&args, "--report-parquet") {
        let dir = Path::new(&dir);
        let t = Instant::now();
        let report = drift_report_parquet(
            &dir.join("reference.parquet"),
            &dir.join("current.parquet"),
            &ReportConfig::default(),
        )
        .unwrap();
        let drifted = report.columns.iter().filter(|c| c.drifted()).count();
        println!(
            "drift_report_parquet, {} columns ({drifted} drifted), every core: {}",
            report.columns.len(),
            fmt(t.elapsed())
        );
        return;
    }
    let sizes: Vec<usize> = arg(&args, "--sizes")
        .unwrap_or_else(|| "1e5,1e6,1e7".into())
        .split(',')
        .map(parse_n)
        .collect();
    let reps = arg(&args, "--reps").map(|s| parse_n(&s)).unwrap_or(3);
    println!(
        "keelson-drift {} — median of {reps} runs, wall clock, one thread",
        env!("CARGO_PKG_VERSION")
    );
    println!();
    let header: Vec<String> = sizes
        .iter()
        .map(|n| format!("n={:.0e}", *n as f64))
        .collect();
    println!("| method | {} |", header.join(" | "));
    println!("|---|{}", "---|".repeat(sizes.len()));

    let data: Vec<_> = sizes
        .iter()
        .map(|&n| {
            let weights_cur: Vec<f64> = (0..20).map(|k| 1.0 + 0.05 * k as f64 / 19.0).collect();
            (
                normal(n, 0.0, 20240601),
                normal(n, 0.05, 20240602),
                Int64Array::from(categories(n, &[1.0; 20], 20240603)),
                Int64Array::from(categories(n, &weights_cur, 20240604)),
            )
        })
        .collect();
    let exact = (normal(10_000, 0.0, 7), normal(10_000, 0.05, 8));
    let (t, _) = median_time(reps, || {
        ks_2samp(&sorted(&exact.0), &sorted(&exact.1), KsMethod::Exact)
            .unwrap()
            .pvalue
            .unwrap_or(0.0)
    });
    println!("| ks_2samp(exact) n=1e4 | {} |", fmt(t));
    for (name, f, applies) in benches() {
        let cells: Vec<String> = sizes
            .iter()
            .zip(&data)
            .map(|(&n, (r, c, rc, cc))| {
                if applies(n) {
                    fmt(median_time(reps, || f(r, c, rc, cc)).0)
                } else {
                    "—".into()
                }
            })
            .collect();
        println!("| {name} | {} |", cells.join(" | "));
    }

    if let Some(rows) = arg(&args, "--report-rows").map(|s| parse_n(&s)) {
        let cols = arg(&args, "--report-cols")
            .map(|s| parse_n(&s))
            .unwrap_or(10);
        let batch = |shift: f64, seed: u64| {
            let fields: Vec<Field> = (0..cols)
                .map(|i| Field::new(format!("f{i}"), DataType::Float64, false))
                .collect();
            let arrays: Vec<ArrayRef> = (0..cols)
                .map(|i| {
                    Arc::new(Float64Array::from(normal(rows, shift, seed + i as u64))) as ArrayRef
                })
                .collect();
            RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).unwrap()
        };
        let (reference, current) = (batch(0.0, 11), batch(0.05, 1011));
        println!();
        let all = std::thread::available_parallelism().unwrap_or(std::num::NonZeroUsize::MIN);
        for threads in [std::num::NonZeroUsize::MIN, all] {
            let config = ReportConfig::default().with_threads(threads);
            let (t, _) = median_time(reps, || {
                let report = drift_report(&reference, &current, &config).unwrap();
                report.columns.len() as f64
            });
            println!(
                "drift_report {rows} x {cols} float64, default methods, {threads} thread(s): {}",
                fmt(t)
            );
        }
    }
}
