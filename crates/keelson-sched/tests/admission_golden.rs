//! Golden digests of whole decision sequences: the admission benchmark's
//! workload, a seeded mix of every admission feature (hierarchical cohorts,
//! lending and borrowing limits, StrictFIFO, fungibility, flavor taints and
//! selectors, partial admission, preemption policies, fair sharing) over
//! several cycles with finishes and evictions in between, and the
//! simulator's Kueue and fair-sharing replays. The digests were recorded
//! before admission was optimised; a change that alters any decision, wait
//! reason, admission detail, usage or share changes them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

// Only `loaded` is used here; the constants serve the bench and example.
#[path = "../benches/common/mod.rs"]
#[allow(dead_code)]
mod common;

use std::fmt::Write as _;

use keelson_sched::sim::{GeneratorConfig, Options, Policy, Simulator, generate};
use keelson_sched::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sha2::{Digest, Sha256};

/// Every public detail of a decision, one line.
fn render(d: &Decision, out: &mut String) {
    writeln!(out, "{d}").unwrap();
    if let Decision::Admitted(a) = d {
        for ps in &a.pod_sets {
            write!(out, "  {} {}", ps.name, ps.count).unwrap();
            for (r, f) in &ps.flavors {
                write!(out, " {r}={f}").unwrap();
            }
            for (r, q) in ps.usage.iter() {
                write!(out, " {r}:{}", q.milli()).unwrap();
            }
            writeln!(out).unwrap();
        }
    }
}

/// Usage of every (queue, flavor, resource) and every queue's share.
fn render_state(s: &Scheduler, setup: &Setup, out: &mut String) {
    writeln!(out, "pending {}", s.pending_count()).unwrap();
    for cq in &setup.cluster_queues {
        write!(
            out,
            "{} share {}",
            cq.name,
            s.weighted_share(&cq.name).unwrap()
        )
        .unwrap();
        for f in &setup.flavors {
            for r in ["cpu", "memory", "nvidia.com/gpu", "example.com/fpga"] {
                let u = s.usage(&cq.name, &f.name, r).unwrap();
                write!(out, " {}", u.milli()).unwrap();
            }
        }
        writeln!(out).unwrap();
    }
}

/// The SHA-256 of `text`; with `KEELSON_GOLDEN_DUMP` set to a folder, the
/// text is also written there as `<name>.txt`, to diff two versions.
fn digest(name: &str, text: &str) -> String {
    if let Some(dir) = std::env::var_os("KEELSON_GOLDEN_DUMP") {
        std::fs::write(std::path::Path::new(&dir).join(format!("{name}.txt")), text).unwrap();
    }
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The first admitted workloads of a decision list, every `step`th.
fn admitted_names(decisions: &[Decision], step: usize) -> Vec<String> {
    decisions
        .iter()
        .filter_map(|d| match d {
            Decision::Admitted(a) => Some(a.workload.clone()),
            _ => None,
        })
        .step_by(step)
        .collect()
}

#[test]
fn benchmark_workload_decisions_are_unchanged() {
    let mut s = common::loaded(2_000).unwrap();
    let mut text = String::new();
    for round in 0..3 {
        let decisions = s.cycle();
        for d in &decisions {
            render(d, &mut text);
        }
        for name in admitted_names(&decisions, 3) {
            s.finish(&name).unwrap();
        }
        writeln!(text, "round {round} pending {}", s.pending_count()).unwrap();
    }
    assert_eq!(
        digest("bench", &text),
        "6d90d778a8936edf7e90b3a2ccd0733e8a5c53308fc1546cdf35ff6d56452a7b",
        "benchmark decisions changed"
    );
}

fn gpu_quota(n: i64) -> ResourceQuota {
    ResourceQuota::new("nvidia.com/gpu", Quantity::from_units(n))
}

/// Eight queues in a two-level cohort tree with mixed policies.
fn mixed_setup(fair: bool) -> Setup {
    let taint = Taint {
        key: "spot".into(),
        value: "true".into(),
        effect: TaintEffect::NoSchedule,
    };
    let flavors = vec![
        ResourceFlavor::new("default"),
        ResourceFlavor::new("h100").with_label("gpu", "h100"),
        ResourceFlavor::new("a100").with_label("gpu", "a100"),
        ResourceFlavor::new("spot").with_taint(taint),
    ];
    let cohorts = vec![
        Cohort::new("root"),
        Cohort::new("left").with_parent("root"),
        Cohort::new("right")
            .with_parent("root")
            .with_group(ResourceGroup::new(
                &["nvidia.com/gpu"],
                vec![
                    FlavorQuotas::new("h100", vec![gpu_quota(8)]),
                    FlavorQuotas::new("a100", vec![gpu_quota(0)]),
                    FlavorQuotas::new("spot", vec![gpu_quota(4)]),
                ],
            )),
    ];
    let cluster_queues = (0..8)
        .map(|i| {
            let cpu = ResourceQuota::new("cpu", Quantity::from_units(32));
            let mem = ResourceQuota::new("memory", Quantity::from_units(128 << 30));
            let (cpu, mem) = if i % 4 == 3 {
                (cpu, mem)
            } else {
                (
                    cpu.borrowing(Quantity::from_units(16)),
                    mem.lending(Quantity::from_units(64 << 30)),
                )
            };
            let g = |n: i64| {
                let q = gpu_quota(n);
                match i % 3 {
                    0 => q.borrowing(Quantity::from_units(8)),
                    1 => q.lending(Quantity::from_units(n / 2)),
                    _ => q,
                }
            };
            let mut cq = ClusterQueue::new(format!("cq-{i}"))
                .in_cohort(if i < 4 { "left" } else { "right" })
                .with_group(ResourceGroup::new(
                    &["cpu", "memory"],
                    vec![FlavorQuotas::new("default", vec![cpu, mem])],
                ))
                .with_group(ResourceGroup::new(
                    &["nvidia.com/gpu"],
                    vec![
                        FlavorQuotas::new("h100", vec![g(8)]),
                        FlavorQuotas::new("a100", vec![g(4 + i)]),
                        FlavorQuotas::new("spot", vec![g(2)]),
                    ],
                ))
                .with_preemption(Preemption {
                    within_cluster_queue: [
                        WithinClusterQueue::LowerPriority,
                        WithinClusterQueue::LowerOrNewerEqualPriority,
                        WithinClusterQueue::Never,
                    ][i as usize % 3],
                    reclaim_within_cohort: [
                        ReclaimWithinCohort::Any,
                        ReclaimWithinCohort::LowerPriority,
                        ReclaimWithinCohort::Never,
                    ][i as usize % 3],
                    borrow_within_cohort: BorrowWithinCohort {
                        policy: if i % 2 == 0 {
                            BorrowWithinCohortPolicy::LowerPriority
                        } else {
                            BorrowWithinCohortPolicy::Never
                        },
                        max_priority_threshold: (i == 2).then_some(2),
                    },
                })
                .with_weight(Quantity::from_milli(500 + 250 * i128::from(i)));
            if i == 5 {
                cq = cq.with_strategy(QueueingStrategy::StrictFifo);
            }
            if i % 2 == 1 {
                cq = cq.with_fungibility(FlavorFungibility {
                    when_can_borrow: FungibilityPolicy::TryNextFlavor,
                    when_can_preempt: FungibilityPolicy::TryNextFlavor,
                });
            }
            cq
        })
        .collect();
    let local_queues = (0..8)
        .map(|i| LocalQueue::new(format!("ns-{i}"), "main", format!("cq-{i}")))
        .collect();
    Setup {
        flavors,
        cohorts,
        cluster_queues,
        local_queues,
        fair_sharing: fair.then(FairSharingConfig::default),
    }
}

fn mixed_workload(rng: &mut ChaCha8Rng, id: usize) -> Workload {
    let queue = rng.random_range(0..8);
    let cpu = |n: i64| Quantity::from_units(n);
    let gpus = [0, 1, 2, 4, 8][rng.random_range(0..5)];
    let mut worker = Resources::new()
        .with("cpu", cpu(rng.random_range(1..8)))
        .unwrap()
        .with(
            "memory",
            Quantity::from_units(rng.random_range(1..32) << 30),
        )
        .unwrap();
    if gpus > 0 {
        worker = worker.with("nvidia.com/gpu", cpu(gpus)).unwrap();
    }
    if rng.random_bool(0.02) {
        worker = worker.with("example.com/fpga", cpu(1)).unwrap();
    }
    let count = rng.random_range(1..6);
    let mut set = PodSet::new("worker", count, worker);
    if count > 1 && rng.random_bool(0.3) {
        set = set.with_min_count(1);
    }
    match rng.random_range(0..10) {
        0 => {
            set.node_selector.insert("gpu".into(), "a100".into());
        }
        1 => set.tolerations.push(Toleration {
            key: "spot".into(),
            operator: TolerationOperator::Exists,
            ..Default::default()
        }),
        _ => {}
    }
    let mut sets = vec![set];
    if rng.random_bool(0.5) {
        let launcher = Resources::new().with("cpu", cpu(1)).unwrap();
        sets.insert(0, PodSet::new("launcher", 1, launcher));
    }
    Workload::new(format!("ns-{queue}/w-{id}"), "main", sets)
        .unwrap()
        .with_priority(rng.random_range(0..4))
        .with_created(id as u64 / 3)
}

fn mixed_text(fair: bool) -> String {
    let setup = mixed_setup(fair);
    let mut s = Scheduler::new(setup.clone()).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(if fair { 21 } else { 20 });
    let mut text = String::new();
    let mut next = 0;
    for round in 0..12 {
        for _ in 0..60 {
            s.submit(mixed_workload(&mut rng, next)).unwrap();
            next += 1;
        }
        let decisions = s.cycle();
        for d in &decisions {
            render(d, &mut text);
        }
        let admitted = admitted_names(&decisions, 1);
        for (i, name) in admitted.iter().enumerate() {
            match i % 4 {
                0 => s.finish(name).unwrap(),
                1 if round % 3 == 2 => s.evict(name).unwrap(),
                _ => {}
            }
        }
        render_state(&s, &setup, &mut text);
    }
    text
}

#[test]
fn mixed_policy_decisions_are_unchanged() {
    assert_eq!(
        digest("mixed", &mixed_text(false)),
        "52618437f678a3b5758504a24cf224b46ecf74b35d1f08f22048e5aaec1a58aa",
        "classic decisions changed"
    );
}

#[test]
fn fair_sharing_decisions_are_unchanged() {
    assert_eq!(
        digest("fair", &mixed_text(true)),
        "7544bcea3208e3e374e268f94108ac80fc0d4ba01734b534f42ea61e6f0df0f3",
        "fair-sharing decisions changed"
    );
}

#[test]
fn simulator_admission_replays_are_unchanged() {
    let config = GeneratorConfig {
        nodes: 24,
        ..GeneratorConfig::default()
    };
    let (jobs, nodes) = generate(&config, 2_000, 5).unwrap();
    let mut text = String::new();
    for policy in [Policy::Kueue, Policy::Fair] {
        let report = Simulator::new(jobs.clone(), &nodes, Options::new(policy))
            .unwrap()
            .run()
            .unwrap();
        writeln!(text, "{}", serde_json::to_string(&report).unwrap()).unwrap();
    }
    assert_eq!(
        digest("sim", &text),
        "479fde63701779faad4d653ea34a89e2366ee5a32c3d48babadca67d0b211453",
        "simulator replays changed"
    );
}
