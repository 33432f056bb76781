//! The admission benchmark's cluster and workloads, shared by
//! `benches/admission.rs` and `examples/sched_bench.rs`.
//!
//! 100 ClusterQueues in 10 cohorts share the quota of a 10,000-node
//! cluster (half H100, half A100 nodes of 8 GPUs, 96 CPUs, 768Gi each),
//! with Kueue's baseline policies (withinClusterQueue LowerPriority,
//! reclaimWithinCohort Any, a borrowing limit). A warm-up cycle over 2,000
//! workloads fills the quota; the measured cycle then decides `pending` new ones:
//! gang jobs of a launcher and 1–64 GPU workers, some with `minCount`.

use keelson_sched::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Queues, cohorts and nodes of the benchmark.
pub const CLUSTER_QUEUES: usize = 100;
/// Cohorts, each of `CLUSTER_QUEUES / COHORTS` queues.
pub const COHORTS: usize = 10;
/// Nodes whose capacity the quotas add up to.
pub const NODES: i64 = 10_000;
const WARM_UP: usize = 2_000;

fn units(n: i64) -> Quantity {
    Quantity::from_units(n)
}

fn setup() -> Setup {
    let per_queue = NODES / CLUSTER_QUEUES as i64;
    let gib = 1i64 << 30;
    let cluster_queues = (0..CLUSTER_QUEUES)
        .map(|i| {
            let gpu = |flavor: &str| {
                FlavorQuotas::new(
                    flavor,
                    vec![
                        ResourceQuota::new("nvidia.com/gpu", units(per_queue / 2 * 8))
                            .borrowing(units(per_queue * 2)),
                    ],
                )
            };
            ClusterQueue::new(format!("cq-{i:03}"))
                .in_cohort(format!("cohort-{}", i % COHORTS))
                .with_group(ResourceGroup::new(
                    &["cpu", "memory"],
                    vec![FlavorQuotas::new(
                        "default",
                        vec![
                            ResourceQuota::new("cpu", units(per_queue * 96)),
                            ResourceQuota::new("memory", units(per_queue * 768 * gib)),
                        ],
                    )],
                ))
                .with_group(ResourceGroup::new(
                    &["nvidia.com/gpu"],
                    vec![gpu("h100"), gpu("a100")],
                ))
                .with_preemption(Preemption {
                    within_cluster_queue: WithinClusterQueue::LowerPriority,
                    reclaim_within_cohort: ReclaimWithinCohort::Any,
                    ..Preemption::default()
                })
        })
        .collect();
    let local_queues = (0..CLUSTER_QUEUES)
        .map(|i| LocalQueue::new(format!("ns-{i:03}"), "main", format!("cq-{i:03}")))
        .collect();
    Setup {
        flavors: ["default", "h100", "a100"]
            .into_iter()
            .map(ResourceFlavor::new)
            .collect(),
        cohorts: Vec::new(),
        cluster_queues,
        local_queues,
        fair_sharing: None,
    }
}

fn workload(rng: &mut ChaCha8Rng, id: usize, max_priority: i32) -> Workload {
    let queue = rng.random_range(0..CLUSTER_QUEUES);
    let workers = [1, 1, 2, 4, 8, 16, 32, 64][rng.random_range(0..8)];
    let gpus = [1, 2, 4, 8][rng.random_range(0..4)];
    let launcher = Resources::new()
        .with("cpu", units(2))
        .and_then(|r| r.with("memory", units(4 << 30)));
    let worker = Resources::new()
        .with("cpu", units(8))
        .and_then(|r| r.with("memory", units(64 << 30)))
        .and_then(|r| r.with("nvidia.com/gpu", units(gpus)));
    let (Ok(launcher), Ok(worker)) = (launcher, worker) else {
        unreachable!("constant requests are valid")
    };
    let mut worker_set = PodSet::new("worker", workers, worker);
    if workers > 1 && rng.random_bool(0.2) {
        worker_set = worker_set.with_min_count(workers / 2);
    }
    let pod_sets = vec![PodSet::new("launcher", 1, launcher), worker_set];
    match Workload::new(format!("ns-{queue:03}/job-{id}"), "main", pod_sets) {
        Ok(w) => w
            .with_priority(rng.random_range(0..=max_priority))
            .with_created(id as u64),
        Err(e) => unreachable!("generated workload is valid: {e}"),
    }
}

/// The scheduler after the warm-up cycle (warm-up workloads it left
/// pending removed), with `pending` new workloads submitted.
pub fn loaded(pending: usize) -> Result<Scheduler> {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let mut s = Scheduler::new(setup())?;
    let mut warm_up = Vec::with_capacity(WARM_UP);
    for id in 0..WARM_UP {
        let w = workload(&mut rng, id, 2);
        warm_up.push(w.name.clone());
        s.submit(w)?;
    }
    s.cycle();
    // Only the new workloads are pending in the measured cycle.
    for name in warm_up {
        if s.admission(&name).is_none() {
            s.finish(&name)?;
        }
    }
    for id in WARM_UP..WARM_UP + pending {
        s.submit(workload(&mut rng, id, 4))?;
    }
    Ok(s)
}
