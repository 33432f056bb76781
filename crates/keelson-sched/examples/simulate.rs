//! Replays a job trace on a cluster under a policy, prints the summary
//! JSON on stdout and writes SVG plots; or writes a synthetic trace.
//!
//! ```text
//! simulate --trace T.csv --cluster C.csv [--queues Q.yaml]
//!          --policy fifo|kueue|fair|backfill|las --out DIR [--report FILE]
//! simulate --generate N --seed S --out-trace T.csv [--out-cluster C.csv] [--nodes N] [--load L]
//! simulate --scenario kueue-baseline --out-trace T.csv --out-cluster C.csv --out-queues Q.yaml
//! ```
//!
//! `DIR` receives `utilization.svg` (GPUs in use over time) and
//! `jct_cdf.svg` (the CDF of job completion times, log scale);
//! `--report FILE` writes the whole report (per queue, per size class,
//! skipped jobs) as JSON. The wall time goes to stderr, so stdout is the
//! same for the same inputs.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::collections::BTreeMap;
use std::error::Error;
use std::path::{Path, PathBuf};
use std::time::Instant;

use keelson_sched::sim::{
    self, GeneratorConfig, Options, Policy, Report, Simulator, UtilizationPoint,
};
use plotters::prelude::*;

type Res<T> = Result<T, Box<dyn Error>>;

/// Most points drawn per plot: longer series are averaged over buckets.
const MAX_POINTS: usize = 2_000;

fn main() -> Res<()> {
    let args = parse_args()?;
    if let Some(n) = args.get("generate") {
        return write_generated(&args, n.parse()?);
    }
    if let Some(name) = args.get("scenario") {
        return write_scenario(&args, name);
    }
    let need = |k: &str| -> Res<&String> {
        args.get(k)
            .ok_or_else(|| format!("--{k} is required (see the file's doc comment)").into())
    };
    let trace_path = need("trace")?;
    let cluster_path = need("cluster")?;
    let policy: Policy = need("policy")?.parse()?;
    let out = PathBuf::from(need("out")?);
    let jobs = sim::parse_trace(trace_path, &std::fs::read_to_string(trace_path)?)?;
    let nodes = sim::parse_cluster(cluster_path, &std::fs::read_to_string(cluster_path)?)?;
    let mut options = Options::new(policy);
    if let Some(q) = args.get("queues") {
        options = options.with_queues(sim::parse_queues(q, &std::fs::read_to_string(q)?)?);
    }
    let started = Instant::now();
    let report = Simulator::new(jobs, &nodes, options)?.run()?;
    let wall = started.elapsed().as_secs_f64();
    eprintln!(
        "{policy}: {} jobs simulated in {wall:.3} s ({:.0} jobs/s)",
        report.summary.jobs,
        report.summary.jobs as f64 / wall.max(1e-9)
    );
    for s in report.skipped.iter().take(10) {
        eprintln!("skipped {}: {}", s.id, s.reason);
    }
    println!("{}", serde_json::to_string_pretty(&report.summary)?);
    std::fs::create_dir_all(&out)?;
    plot_utilization(&report, &out.join("utilization.svg"))?;
    plot_jct_cdf(&report, &out.join("jct_cdf.svg"))?;
    if let Some(path) = args.get("report") {
        std::fs::write(path, serde_json::to_string_pretty(&report)?)?;
    }
    Ok(())
}

fn parse_args() -> Res<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let key = flag
            .strip_prefix("--")
            .ok_or_else(|| format!("unexpected argument {flag:?}"))?;
        let value = args
            .next()
            .ok_or_else(|| format!("--{key} needs a value"))?;
        out.insert(key.to_owned(), value);
    }
    Ok(out)
}

fn write_generated(args: &BTreeMap<String, String>, n: usize) -> Res<()> {
    let seed: u64 = args.get("seed").map_or(Ok(1), |s| s.parse())?;
    let mut config = GeneratorConfig::default();
    if let Some(nodes) = args.get("nodes") {
        config.nodes = nodes.parse()?;
    }
    if let Some(load) = args.get("load") {
        config.load = load.parse()?;
    }
    let trace = args.get("out-trace").ok_or("--out-trace is required")?;
    let cluster = args
        .get("out-cluster")
        .cloned()
        .unwrap_or_else(|| sibling(trace, "cluster.csv"));
    let (jobs, nodes) = sim::generate(&config, n, seed)?;
    std::fs::write(trace, sim::write_trace(&jobs))?;
    std::fs::write(&cluster, sim::write_cluster(&nodes))?;
    eprintln!(
        "wrote {n} jobs to {trace} and {} nodes to {cluster}",
        nodes.len()
    );
    Ok(())
}

fn write_scenario(args: &BTreeMap<String, String>, name: &str) -> Res<()> {
    if name != "kueue-baseline" {
        return Err(format!("unknown scenario {name:?}; known: kueue-baseline").into());
    }
    let s = sim::kueue_baseline();
    let get = |k: &str| args.get(k).ok_or_else(|| format!("--{k} is required"));
    std::fs::write(get("out-trace")?, sim::write_trace(&s.jobs))?;
    std::fs::write(get("out-cluster")?, sim::write_cluster(&s.nodes))?;
    std::fs::write(get("out-queues")?, serde_yaml_ng::to_string(&s.queues)?)?;
    Ok(())
}

fn sibling(path: &str, name: &str) -> String {
    Path::new(path)
        .with_file_name(name)
        .to_string_lossy()
        .into_owned()
}

/// The step function of GPUs in use, averaged over at most `MAX_POINTS`
/// equal time buckets, as (hours since the first submission, fraction).
fn utilization_series(points: &[UtilizationPoint], total: u64, end_ms: u64) -> Vec<(f64, f64)> {
    let Some(first) = points.first() else {
        return Vec::new();
    };
    let t0 = first.t_ms;
    let span = end_ms.saturating_sub(t0).max(1);
    let buckets = MAX_POINTS.min(span as usize).max(1) as u64;
    let width = span.div_ceil(buckets);
    let mut area = vec![0u128; buckets as usize];
    for (i, p) in points.iter().enumerate() {
        let until = points.get(i + 1).map_or(end_ms, |n| n.t_ms).min(end_ms);
        let mut t = p.t_ms;
        while t < until {
            let b = (t - t0) / width;
            let bucket_end = (t0 + (b + 1) * width).min(until);
            area[b as usize] += u128::from(p.used_gpus) * u128::from(bucket_end - t);
            t = bucket_end;
        }
    }
    area.iter()
        .enumerate()
        .map(|(b, a)| {
            let hours = (b as u64 * width) as f64 / 3_600_000.0;
            (hours, *a as f64 / (width as f64 * total.max(1) as f64))
        })
        .collect()
}

fn plot_utilization(report: &Report, path: &Path) -> Res<()> {
    let end = report
        .utilization
        .first()
        .map_or(0, |p| p.t_ms + (report.summary.makespan_s * 1000.0) as u64);
    let series = utilization_series(&report.utilization, report.summary.total_gpus, end);
    let max_h = series.last().map_or(1.0, |p| p.0).max(1e-3);
    let root = SVGBackend::new(path, (900, 420)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!(
                "GPU utilization, {} (mean {:.1}%)",
                report.summary.policy,
                report.summary.gpu_utilization * 100.0
            ),
            ("sans-serif", 20),
        )
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(56)
        .build_cartesian_2d(0.0..max_h, 0.0..1.05)?;
    chart
        .configure_mesh()
        .x_desc("hours since the first submission")
        .y_desc("GPUs in use / all GPUs")
        .draw()?;
    chart.draw_series(LineSeries::new(series, BLUE.stroke_width(1)))?;
    root.present()?;
    Ok(())
}

fn plot_jct_cdf(report: &Report, path: &Path) -> Res<()> {
    let mut jct: Vec<f64> = report
        .jobs
        .iter()
        .filter_map(|o| o.jct_ms())
        .map(|ms| (ms as f64 / 1000.0).max(0.001))
        .collect();
    jct.sort_by(f64::total_cmp);
    let n = jct.len().max(1) as f64;
    let step = (jct.len() / MAX_POINTS).max(1);
    let points: Vec<(f64, f64)> = jct
        .iter()
        .enumerate()
        .filter(|(i, _)| i % step == 0 || *i + 1 == jct.len())
        .map(|(i, &s)| (s, (i + 1) as f64 / n))
        .collect();
    let lo = jct.first().copied().unwrap_or(0.001);
    let hi = jct.last().copied().unwrap_or(1.0).max(lo * 10.0);
    let root = SVGBackend::new(path, (900, 420)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!(
                "JCT CDF, {} (mean {:.0} s, p50 {:.0} s, p99 {:.0} s)",
                report.summary.policy,
                report.summary.avg_jct_s,
                report.summary.p50_jct_s,
                report.summary.p99_jct_s
            ),
            ("sans-serif", 20),
        )
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(56)
        .build_cartesian_2d((lo..hi).log_scale(), 0.0..1.0)?;
    chart
        .configure_mesh()
        .x_desc("job completion time, s (log)")
        .y_desc("fraction of jobs")
        .draw()?;
    chart.draw_series(LineSeries::new(points, RED.stroke_width(2)))?;
    root.present()?;
    Ok(())
}
