//! One admission cycle over 1,000, 10,000 and 100,000 pending workloads in
//! 100 ClusterQueues and 10 cohorts (a 10,000-node cluster's quota); prints
//! one JSON line per size.
//!
//! `cargo run --release -p keelson-sched --example sched_bench`

#[path = "../benches/common/mod.rs"]
mod common;

use std::time::Instant;

use keelson_sched::Decision;

fn main() -> keelson_sched::Result<()> {
    for pending in [1_000, 10_000, 100_000] {
        let mut sched = common::loaded(pending)?;
        let start = Instant::now();
        let decisions = sched.cycle();
        let seconds = start.elapsed().as_secs_f64();
        let decided = decisions
            .iter()
            .filter(|d| !matches!(d, Decision::Preempted { .. }))
            .count();
        let admitted = decisions
            .iter()
            .filter(|d| matches!(d, Decision::Admitted(_)))
            .count();
        println!(
            "{}",
            serde_json::json!({
                "pending": pending,
                "cluster_queues": common::CLUSTER_QUEUES,
                "cohorts": common::COHORTS,
                "nodes": common::NODES,
                "cycle_seconds": seconds,
                "decisions_per_s": decided as f64 / seconds,
                "admitted": admitted,
            })
        );
    }
    Ok(())
}
