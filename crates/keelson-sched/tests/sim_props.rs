//! Simulator invariants over random clusters and traces, under every
//! policy: no node is over-committed after any instant, every job that
//! fits the cluster finishes, no job finishes before its submission plus
//! its duration or starts before its submission, and utilization stays
//! in [0, 1].
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use keelson_sched::Resources;
use keelson_sched::sim::{NodeSpec, Options, Policy, Simulator, TraceJob};
use proptest::prelude::*;

fn node() -> impl Strategy<Value = (u32, u64, u64)> {
    (0u32..=8, 1_000u64..=16_000, 1_024u64..=32_768)
}

fn job() -> impl Strategy<Value = TraceJob> {
    (
        0u64..60_000,
        0u64..30_000,
        1u32..=4,
        0u32..=4,
        0u64..=4_000,
        0u64..=4_096,
        0usize..3,
        0i32..3,
    )
        .prop_map(
            |(submit, duration, pods, gpus, cpu, mem, queue, priority)| TraceJob {
                id: String::new(),
                submit_ms: submit,
                duration_ms: duration,
                pods,
                gpus_per_pod: gpus,
                cpu_milli_per_pod: cpu,
                memory_mib_per_pod: mem,
                queue: ["a", "b", "c"][queue].to_owned(),
                priority,
            },
        )
}

fn scenario() -> impl Strategy<Value = (Vec<NodeSpec>, Vec<TraceJob>)> {
    (
        prop::collection::vec(node(), 1..=5),
        prop::collection::vec(job(), 1..=25),
    )
        .prop_map(|(nodes, mut jobs)| {
            for (i, j) in jobs.iter_mut().enumerate() {
                j.id = format!("j{i}");
            }
            let nodes = nodes
                .into_iter()
                .enumerate()
                .map(|(i, (gpus, cpu_milli, memory_mib))| NodeSpec {
                    node: format!("n{i}"),
                    gpus,
                    cpu_milli,
                    memory_mib,
                    gpu_model: String::new(),
                    zone: "z".into(),
                    block: format!("b{}", i / 2),
                    rack: format!("r{i}"),
                })
                .collect();
            (nodes, jobs)
        })
}

fn check_no_overcommit(sim: &Simulator) -> Result<(), TestCaseError> {
    let cluster = sim.cluster();
    let mut used: BTreeMap<String, Resources> = BTreeMap::new();
    for p in cluster.bound() {
        for (node, r) in p.usage().unwrap() {
            let sum = used.entry(node).or_default();
            *sum = sum.checked_add(&r).unwrap();
        }
    }
    for (node, r) in used {
        let capacity = &cluster.node(&node).unwrap().capacity;
        prop_assert!(
            r.fits(capacity),
            "node {node} over-committed at {}",
            sim.now()
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn every_policy_keeps_the_invariants((nodes, jobs) in scenario()) {
        for policy in Policy::ALL {
            let mut sim = Simulator::new(jobs.clone(), &nodes, Options::new(policy)).unwrap();
            while sim.step().unwrap().is_some() {
                check_no_overcommit(&sim)?;
            }
            let report = sim.run().unwrap();
            let s = &report.summary;
            prop_assert_eq!(s.finished + s.skipped, jobs.len(), "{} left jobs behind", policy);
            prop_assert!((0.0..=1.0).contains(&s.gpu_utilization), "{}: {}", policy, s.gpu_utilization);
            prop_assert!(report.utilization.iter().all(|p| p.used_gpus <= s.total_gpus));
            for o in &report.jobs {
                let finish = o.finish_ms.unwrap();
                let start = o.start_ms.unwrap();
                prop_assert!(start >= o.submit_ms, "{}: {} started early", policy, o.id);
                prop_assert!(finish >= start + o.duration_ms, "{}: {} finished early", policy, o.id);
                prop_assert!(o.admitted_ms.unwrap() <= start);
                if matches!(policy, Policy::Fifo | Policy::Backfill) {
                    prop_assert_eq!(finish, start + o.duration_ms, "no preemption under {}", policy);
                }
            }
            for sk in &report.skipped {
                let j = jobs.iter().find(|j| j.id == sk.id).unwrap();
                let fits_somewhere = nodes.iter().any(|n| {
                    n.gpus >= j.gpus_per_pod
                        && n.cpu_milli >= j.cpu_milli_per_pod
                        && n.memory_mib >= j.memory_mib_per_pod
                });
                let total_gpus: u64 = nodes.iter().map(|n| u64::from(n.gpus)).sum();
                prop_assert!(
                    !fits_somewhere || j.gpus() > total_gpus || j.pods > 1,
                    "{}: {} skipped though one pod fits and the gang might", policy, sk.id
                );
            }
        }
    }

    #[test]
    fn fifo_starts_jobs_in_submission_order((nodes, jobs) in scenario()) {
        let report = Simulator::new(jobs, &nodes, Options::new(Policy::Fifo)).unwrap().run().unwrap();
        let starts: Vec<u64> = report.jobs.iter().map(|o| o.start_ms.unwrap()).collect();
        prop_assert!(starts.windows(2).all(|w| w[0] <= w[1]), "{:?}", starts);
    }
}
