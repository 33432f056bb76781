//! Synthetic traces: a seeded generator with heavy-tailed durations,
//! diurnal arrivals and gang sizes of 1–64 GPUs, and the shape of Kueue's
//! baseline scheduler-performance scenario.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Exp, LogNormal};
use serde::{Deserialize, Serialize};

use super::cluster_spec::NodeSpec;
use super::queues::NAMESPACE;
use super::trace::TraceJob;
use crate::admission::Setup;
use crate::cluster_queue::{
    ClusterQueue, FlavorQuotas, Preemption, ReclaimWithinCohort, ResourceGroup, ResourceQuota,
    WithinClusterQueue,
};
use crate::flavor::ResourceFlavor;
use crate::local_queue::LocalQueue;
use crate::placement::GPU;
use crate::quantity::Quantity;
use crate::{Error, Result};

/// Gang sizes in GPUs and their weights (out of 100): mostly single-GPU
/// jobs, a few whole-node and multi-node gangs, up to 64 GPUs.
pub const GANG_SIZES: [(u32, u32); 7] = [
    (1, 40),
    (2, 10),
    (4, 15),
    (8, 20),
    (16, 8),
    (32, 5),
    (64, 2),
];

/// Seconds in a day: the period of the diurnal arrival rate.
const DAY_S: f64 = 86_400.0;

/// What [`generate`] produces. The defaults describe 1,000 nodes of 8 GPUs
/// at 90% offered load.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GeneratorConfig {
    /// Nodes in the cluster.
    pub nodes: u32,
    /// GPUs per node.
    pub gpus_per_node: u32,
    /// CPU per node, in thousandths of a core.
    pub cpu_milli_per_node: u64,
    /// Memory per node, in MiB.
    pub memory_mib_per_node: u64,
    /// Nodes per rack (racks are named `rack-N`).
    pub nodes_per_rack: u32,
    /// Racks per block (blocks are named `block-N`).
    pub racks_per_block: u32,
    /// Queues `team-0` … ; queue `i` of `k` gets weight `k − i`.
    pub queues: u32,
    /// Offered load: GPU-time submitted over GPU-time available over the
    /// arrival span (0.9: 90%).
    pub load: f64,
    /// Median job duration, in seconds (the lognormal's `e^μ`).
    pub median_duration_s: f64,
    /// The lognormal's σ: 1.8 gives a mean about five times the median.
    pub duration_sigma: f64,
    /// Durations are clamped to 1 s ..= this.
    pub max_duration_s: u64,
    /// Arrival rate swings by ± this fraction over a day (0 ≤ a < 1).
    pub diurnal_amplitude: f64,
}

impl Default for GeneratorConfig {
    fn default() -> Self {
        GeneratorConfig {
            nodes: 1_000,
            gpus_per_node: 8,
            cpu_milli_per_node: 96_000,
            memory_mib_per_node: 786_432,
            nodes_per_rack: 32,
            racks_per_block: 8,
            queues: 4,
            load: 0.9,
            median_duration_s: 900.0,
            duration_sigma: 1.8,
            max_duration_s: 7 * 86_400,
            diurnal_amplitude: 0.5,
        }
    }
}

impl GeneratorConfig {
    fn validate(&self) -> Result<()> {
        let bad = |field: &str, why: &str| Err(Error::invalid(format!("generator {field}"), why));
        if self.nodes == 0 || self.gpus_per_node == 0 {
            return bad("nodes", "need at least one node with a GPU");
        }
        if self.nodes_per_rack == 0 || self.racks_per_block == 0 || self.queues == 0 {
            return bad("nodesPerRack/racksPerBlock/queues", "must be at least 1");
        }
        if !(self.load > 0.0 && self.load.is_finite()) {
            return bad("load", "must be positive");
        }
        if !(self.median_duration_s > 0.0 && self.median_duration_s.is_finite()) {
            return bad("medianDurationS", "must be positive");
        }
        if !(self.duration_sigma >= 0.0 && self.duration_sigma.is_finite()) {
            return bad("durationSigma", "must be non-negative");
        }
        if !(0.0..1.0).contains(&self.diurnal_amplitude) {
            return bad("diurnalAmplitude", "must be in [0, 1)");
        }
        if self.max_duration_s == 0 {
            return bad("maxDurationS", "must be at least 1");
        }
        Ok(())
    }
}

/// A synthetic trace of `jobs` jobs and the cluster it was sized for,
/// drawn from a ChaCha8 generator seeded with `seed`.
///
/// * Gang size: [`GANG_SIZES`]; a gang up to a node's GPUs is one pod,
///   a larger one is whole-node pods (`ceil(size / gpus_per_node)` pods of
///   `gpus_per_node` GPUs). Each pod asks for half a node's CPU and memory
///   per GPU, so GPUs are what binds.
/// * Duration: lognormal with median `median_duration_s` and σ
///   `duration_sigma`, clamped to 1 s ..= `max_duration_s`, in whole ms.
/// * Arrivals: a Poisson process whose rate follows
///   `λ(t) = λ̄·(1 + a·sin(2πt / 1 day))`, drawn by thinning; `λ̄` makes the
///   submitted GPU-time `load` times the cluster's GPU-time over the span.
/// * Queue: `team-i` with weight `queues − i`; priority 0.
///
/// The same config, count and seed give the same trace on a platform
/// (the lognormal uses floating-point `exp`/`ln`; keep the CSV to replay
/// elsewhere).
///
/// ```
/// use keelson_sched::sim::{generate, GeneratorConfig};
///
/// let config = GeneratorConfig { nodes: 16, ..GeneratorConfig::default() };
/// let (jobs, nodes) = generate(&config, 100, 7)?;
/// assert_eq!((jobs.len(), nodes.len()), (100, 16));
/// assert!(jobs.iter().all(|j| (1..=64).contains(&j.gpus())));
/// assert_eq!(generate(&config, 100, 7)?.0, jobs);
/// # Ok::<(), keelson_sched::Error>(())
/// ```
pub fn generate(
    config: &GeneratorConfig,
    jobs: usize,
    seed: u64,
) -> Result<(Vec<TraceJob>, Vec<NodeSpec>)> {
    config.validate()?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let durations = LogNormal::new(config.median_duration_s.ln(), config.duration_sigma)
        .map_err(|e| Error::invalid("generator durationSigma", e.to_string()))?;
    let gpn = config.gpus_per_node;
    let cpu_per_gpu = config.cpu_milli_per_node / u64::from(gpn) / 2;
    let mem_per_gpu = config.memory_mib_per_node / u64::from(gpn) / 2;
    let queue_weights: u32 = (1..=config.queues).sum();
    let mut shapes = Vec::with_capacity(jobs);
    let mut work_gpu_s = 0.0;
    for _ in 0..jobs {
        let mut pick = rng.random_range(0..100);
        let size = GANG_SIZES
            .iter()
            .find(|(_, w)| {
                let hit = pick < *w;
                pick = pick.saturating_sub(*w);
                hit
            })
            .map_or(1, |(s, _)| *s);
        let (pods, per_pod) = if size <= gpn {
            (1, size)
        } else {
            (size.div_ceil(gpn), gpn)
        };
        let seconds = durations
            .sample(&mut rng)
            .clamp(1.0, config.max_duration_s as f64);
        let mut q = rng.random_range(0..queue_weights);
        let queue = (0..config.queues)
            .find(|i| {
                let w = config.queues - i;
                let hit = q < w;
                q = q.saturating_sub(w);
                hit
            })
            .unwrap_or(0);
        work_gpu_s += seconds * f64::from(pods * per_pod);
        shapes.push((pods, per_pod, (seconds * 1000.0).round() as u64, queue));
    }
    let total_gpus = f64::from(config.nodes) * f64::from(gpn);
    let mean_rate = if work_gpu_s > 0.0 {
        jobs as f64 * config.load * total_gpus / work_gpu_s
    } else {
        1.0
    };
    let peak = mean_rate * (1.0 + config.diurnal_amplitude);
    let gaps = Exp::new(peak).map_err(|e| Error::invalid("generator load", e.to_string()))?;
    let mut t = 0.0f64;
    let mut trace = Vec::with_capacity(jobs);
    for (i, (pods, per_pod, duration_ms, queue)) in shapes.into_iter().enumerate() {
        loop {
            t += gaps.sample(&mut rng);
            let rate = mean_rate
                * (1.0 + config.diurnal_amplitude * (std::f64::consts::TAU * t / DAY_S).sin());
            if rng.random::<f64>() * peak <= rate {
                break;
            }
        }
        trace.push(TraceJob {
            id: format!("job-{i:06}"),
            submit_ms: (t * 1000.0).round() as u64,
            duration_ms,
            pods,
            gpus_per_pod: per_pod,
            cpu_milli_per_pod: u64::from(per_pod) * cpu_per_gpu,
            memory_mib_per_pod: u64::from(per_pod) * mem_per_gpu,
            queue: format!("team-{queue}"),
            priority: 0,
        });
    }
    let per_block = config.nodes_per_rack * config.racks_per_block;
    let nodes = (0..config.nodes)
        .map(|i| NodeSpec {
            node: format!("node-{i:05}"),
            gpus: gpn,
            cpu_milli: config.cpu_milli_per_node,
            memory_mib: config.memory_mib_per_node,
            gpu_model: "H100".to_owned(),
            zone: "zone-a".to_owned(),
            block: format!("block-{}", i / per_block),
            rack: format!("rack-{}", i / config.nodes_per_rack),
        })
        .collect();
    Ok((trace, nodes))
}

/// A trace, a cluster and queues to simulate together.
#[derive(Clone, Debug, PartialEq)]
pub struct Scenario {
    /// The jobs.
    pub jobs: Vec<TraceJob>,
    /// The nodes.
    pub nodes: Vec<NodeSpec>,
    /// Queues, cohorts and quotas.
    pub queues: Setup,
}

/// The shape of Kueue's baseline scheduler-performance scenario
/// (`test/performance/scheduler/configs/baseline/generator.yaml` in
/// kubernetes-sigs/kueue): 5 cohorts × 6 ClusterQueues (nominal quota 20,
/// borrowing limit 100, `reclaimWithinCohort: Any`,
/// `withinClusterQueue: LowerPriority`), each receiving 350 small
/// workloads (1 unit, 200 ms, priority 50, one every 100 ms), 100 medium
/// (5 units, 500 ms, priority 100, every 500 ms) and 50 large (20 units,
/// 1 s, priority 200, every 1,200 ms): 15,000 workloads. A unit is one GPU
/// here; the cluster is 30 nodes of 40 GPUs, twice the total quota, so
/// some node always has room for a 20-GPU pod while quota allows it and
/// only quota decides.
pub fn kueue_baseline() -> Scenario {
    const CLASSES: [(&str, u32, u32, u64, u64, i32); 3] = [
        ("small", 350, 1, 100, 200, 50),
        ("medium", 100, 5, 500, 500, 100),
        ("large", 50, 20, 1_200, 1_000, 200),
    ];
    let mut setup = Setup {
        flavors: vec![ResourceFlavor::new("default")],
        ..Setup::default()
    };
    let mut jobs = Vec::with_capacity(15_000);
    for cohort in 0..5 {
        for q in 0..6 {
            let name = format!("cohort-{cohort}-cq-{q}");
            setup.cluster_queues.push(
                ClusterQueue::new(name.clone())
                    .in_cohort(format!("cohort-{cohort}"))
                    .with_group(ResourceGroup::new(
                        &[GPU],
                        vec![FlavorQuotas::new(
                            "default",
                            vec![
                                ResourceQuota::new(GPU, Quantity::from_units(20))
                                    .borrowing(Quantity::from_units(100)),
                            ],
                        )],
                    ))
                    .with_preemption(Preemption {
                        within_cluster_queue: WithinClusterQueue::LowerPriority,
                        reclaim_within_cohort: ReclaimWithinCohort::Any,
                        ..Preemption::default()
                    }),
            );
            setup
                .local_queues
                .push(LocalQueue::new(NAMESPACE, name.clone(), name.clone()));
            for (class, count, units, every_ms, run_ms, priority) in CLASSES {
                for i in 0..count {
                    jobs.push(TraceJob {
                        id: format!("{name}-{class}-{i}"),
                        submit_ms: u64::from(i) * every_ms,
                        duration_ms: run_ms,
                        pods: 1,
                        gpus_per_pod: units,
                        cpu_milli_per_pod: 0,
                        memory_mib_per_pod: 0,
                        queue: name.clone(),
                        priority,
                    });
                }
            }
        }
    }
    jobs.sort_by_key(|j| j.submit_ms);
    let nodes = (0..30)
        .map(|i| NodeSpec {
            node: format!("node-{i:02}"),
            gpus: 40,
            cpu_milli: 64_000,
            memory_mib: 262_144,
            gpu_model: String::new(),
            zone: String::new(),
            block: String::new(),
            rack: String::new(),
        })
        .collect();
    Scenario {
        jobs,
        nodes,
        queues: setup,
    }
}
