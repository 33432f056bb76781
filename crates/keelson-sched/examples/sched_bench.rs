//! One admission cycle over 1,000, 10,000 and 100,000 pending workloads in
//! 100 ClusterQueues and 10 cohorts (a 10,000-node cluster's quota); prints
//! one JSON line per size.
//!
//! `cargo run --release -p keelson-sched --example sched_bench [-- --runs N] [--sizes 1000,10000]`
//!
//! Each size is timed `--runs` times (default 5), each run on a fresh copy
//! of the loaded scheduler made outside the timing; `cycle_seconds` is the
//! median run and `cycle_seconds_min` the fastest (on a shared machine the
//! fastest is the least disturbed by other processes). `first_cycle_seconds`
//! is the first run alone, as a controller would see a one-shot cycle.

#[path = "../benches/common/mod.rs"]
mod common;

use std::time::Instant;

use keelson_sched::Decision;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut runs = 5usize;
    let mut sizes = vec![1_000usize, 10_000, 100_000];
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args.next().ok_or_else(|| format!("{arg} needs a value"))?;
        match arg.as_str() {
            "--runs" => runs = value.parse::<usize>()?.max(1),
            "--sizes" => sizes = value.split(',').map(str::parse).collect::<Result<_, _>>()?,
            _ => return Err(format!("unknown argument {arg}").into()),
        }
    }
    for pending in sizes {
        let loaded = common::loaded(pending)?;
        let mut times = Vec::with_capacity(runs);
        let (mut decided, mut admitted) = (0, 0);
        for _ in 0..runs {
            let mut sched = loaded.clone();
            let start = Instant::now();
            let decisions = sched.cycle();
            times.push(start.elapsed().as_secs_f64());
            decided = decisions
                .iter()
                .filter(|d| !matches!(d, Decision::Preempted { .. }))
                .count();
            admitted = decisions
                .iter()
                .filter(|d| matches!(d, Decision::Admitted(_)))
                .count();
        }
        let first = times[0];
        times.sort_by(f64::total_cmp);
        let median = times[times.len() / 2];
        println!(
            "{}",
            serde_json::json!({
                "pending": pending,
                "cluster_queues": common::CLUSTER_QUEUES,
                "cohorts": common::COHORTS,
                "nodes": common::NODES,
                "cycle_seconds": median,
                "decisions_per_s": decided as f64 / median,
                "admitted": admitted,
                "runs": runs,
                "cycle_seconds_min": times[0],
                "first_cycle_seconds": first,
            })
        );
    }
    Ok(())
}
