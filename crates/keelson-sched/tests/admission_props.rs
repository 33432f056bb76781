//! Admission invariants over random queues, cohorts and workloads: usage
//! never exceeds nominal + borrowing limit, lending limits hold, StrictFIFO
//! never admits past its head, preemption only as the policies allow, every
//! pending workload gets one decision, and the same inputs give the same
//! decisions; `cycle_admissions` and `settled` agree with `cycle`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use keelson_sched::*;
use proptest::prelude::*;
use proptest::strategy::Strategy;

const FLAVORS: [&str; 2] = ["f0", "f1"];

#[derive(Clone, Debug)]
struct QueueSpec {
    cohort: Option<usize>,
    /// Per flavor: (nominal, borrowing limit, lending limit), in CPUs.
    quotas: Vec<(i64, Option<i64>, Option<i64>)>,
    strict: bool,
    within: WithinClusterQueue,
    reclaim: ReclaimWithinCohort,
    borrow: Option<Option<i32>>,
    try_next: bool,
    weight: i64,
}

#[derive(Clone, Debug)]
struct JobSpec {
    queue: usize,
    priority: i32,
    cpus: i64,
    count: u32,
    min_count: Option<u32>,
}

fn queue_spec() -> impl Strategy<Value = QueueSpec> {
    let quota = (
        0i64..12,
        prop::option::of(0i64..8),
        prop::option::of(0i64..12),
    )
        .prop_map(|(n, b, l)| (n, b, l.map(|l| l.min(n))));
    (
        prop::option::of(0usize..2),
        prop::collection::vec(quota, 1..=2),
        any::<bool>(),
        prop::sample::select(vec![
            WithinClusterQueue::Never,
            WithinClusterQueue::LowerPriority,
            WithinClusterQueue::LowerOrNewerEqualPriority,
        ]),
        prop::sample::select(vec![
            ReclaimWithinCohort::Never,
            ReclaimWithinCohort::LowerPriority,
            ReclaimWithinCohort::Any,
        ]),
        prop::option::of(prop::option::of(0i32..4)),
        any::<bool>(),
        0i64..3,
    )
        .prop_map(
            |(cohort, quotas, strict, within, reclaim, borrow, try_next, weight)| QueueSpec {
                cohort,
                quotas,
                strict,
                within,
                reclaim,
                borrow,
                try_next,
                weight,
            },
        )
}

fn job_spec(queues: usize) -> impl Strategy<Value = JobSpec> {
    (0..queues, 0i32..4, 1i64..6, 1u32..4, any::<bool>()).prop_map(
        |(queue, priority, cpus, count, partial)| JobSpec {
            queue,
            priority,
            cpus,
            count,
            min_count: partial.then_some(1),
        },
    )
}

fn build(queues: &[QueueSpec], fair: bool) -> Setup {
    let cluster_queues = queues
        .iter()
        .enumerate()
        .map(|(i, spec)| {
            let flavors = spec
                .quotas
                .iter()
                .enumerate()
                .map(|(f, &(n, b, l))| {
                    let mut rq = ResourceQuota::new("cpu", Quantity::from_units(n));
                    if spec.cohort.is_some() {
                        rq.borrowing_limit = b.map(Quantity::from_units);
                        rq.lending_limit = l.map(Quantity::from_units);
                    }
                    FlavorQuotas::new(FLAVORS[f], vec![rq])
                })
                .collect();
            let mut cq = ClusterQueue::new(format!("q{i}"))
                .with_group(ResourceGroup::new(&["cpu"], flavors))
                .with_strategy(if spec.strict {
                    QueueingStrategy::StrictFifo
                } else {
                    QueueingStrategy::BestEffortFifo
                })
                .with_preemption(Preemption {
                    within_cluster_queue: spec.within,
                    reclaim_within_cohort: spec.reclaim,
                    borrow_within_cohort: match spec.borrow {
                        Some(threshold) => BorrowWithinCohort {
                            policy: BorrowWithinCohortPolicy::LowerPriority,
                            max_priority_threshold: threshold,
                        },
                        None => BorrowWithinCohort::default(),
                    },
                })
                .with_weight(Quantity::from_units(spec.weight));
            if spec.try_next {
                cq = cq.with_fungibility(FlavorFungibility {
                    when_can_borrow: FungibilityPolicy::TryNextFlavor,
                    when_can_preempt: FungibilityPolicy::TryNextFlavor,
                });
            }
            if let Some(c) = spec.cohort {
                cq = cq.in_cohort(format!("c{c}"));
            }
            cq
        })
        .collect::<Vec<_>>();
    let local_queues = (0..queues.len())
        .map(|i| LocalQueue::new("ns", format!("q{i}"), format!("q{i}")))
        .collect();
    Setup {
        flavors: FLAVORS.iter().map(|f| ResourceFlavor::new(*f)).collect(),
        cohorts: Vec::new(),
        cluster_queues,
        local_queues,
        fair_sharing: fair.then(FairSharingConfig::default),
    }
}

fn workload(i: usize, j: &JobSpec, created: u64) -> Workload {
    let mut ps = PodSet::new(
        "main",
        j.count,
        Resources::new()
            .with("cpu", Quantity::from_units(j.cpus))
            .unwrap(),
    );
    ps.min_count = j.min_count;
    Workload::new(format!("ns/w{i}"), format!("q{}", j.queue), vec![ps])
        .unwrap()
        .with_priority(j.priority)
        .with_created(created)
}

struct Run {
    decisions: Vec<Vec<Decision>>,
}

/// Submits the jobs in rounds, runs a cycle after each and finishes every
/// third admitted workload, checking the invariants after every cycle.
fn run(queues: &[QueueSpec], jobs: &[JobSpec], fair: bool) -> Result<Run, TestCaseError> {
    let mut s = Scheduler::new(build(queues, fair)).unwrap();
    let mut info: BTreeMap<String, (usize, i32, u64)> = BTreeMap::new();
    let mut pending: BTreeMap<String, ()> = BTreeMap::new();
    let mut decisions = Vec::new();
    for (round, chunk) in jobs.chunks(6).enumerate() {
        for (k, j) in chunk.iter().enumerate() {
            let i = round * 6 + k;
            // Creation times collide on purpose, to exercise tie-breaking.
            let w = workload(i, j, (i / 2) as u64);
            info.insert(w.name.clone(), (j.queue, j.priority, w.created));
            pending.insert(w.name.clone(), ());
            s.submit(w).unwrap();
        }
        let d = s.cycle();
        check_cycle(queues, &s, &info, &pending, &d)?;
        for dec in &d {
            match dec {
                Decision::Admitted(a) => {
                    pending.remove(&a.workload);
                }
                Decision::Preempted { workload, .. } => {
                    pending.insert(workload.clone(), ());
                }
                Decision::Waiting { .. } => {}
            }
        }
        let admitted: Vec<String> = info
            .keys()
            .filter(|n| s.admission(n).is_some())
            .cloned()
            .collect();
        for name in admitted.iter().step_by(3) {
            s.finish(name).unwrap();
            info.remove(name);
        }
        decisions.push(d);
    }
    Ok(Run { decisions })
}

/// Runs two schedulers side by side, one job submitted at a time with
/// finishes in between: one calls `cycle`, the other `cycle_admissions`,
/// skipped when `settled`. Their admissions and preemptions must agree, and
/// a settled scheduler's cycle must admit nothing.
fn lean_agrees(queues: &[QueueSpec], jobs: &[JobSpec], fair: bool) -> Result<usize, TestCaseError> {
    let mut full = Scheduler::new(build(queues, fair)).unwrap();
    let mut lean = full.clone();
    let mut names = Vec::new();
    let mut skipped = 0;
    for (i, j) in jobs.iter().enumerate() {
        let w = workload(i, j, i as u64 / 2);
        names.push(w.name.clone());
        full.submit(w.clone()).unwrap();
        lean.submit(w).unwrap();
        let done = names.iter().find(|n| full.admission(n).is_some()).cloned();
        if let (2, Some(name)) = (i % 3, done) {
            full.finish(&name).unwrap();
            lean.finish(&name).unwrap();
            names.retain(|n| *n != name);
        }
        let expected: Vec<Decision> = full
            .cycle()
            .into_iter()
            .filter(|d| !matches!(d, Decision::Waiting { .. }))
            .collect();
        let got = if lean.settled() {
            skipped += 1;
            Vec::new()
        } else {
            lean.cycle_admissions()
        };
        prop_assert_eq!(got, expected);
    }
    Ok(skipped)
}

fn check_cycle(
    queues: &[QueueSpec],
    s: &Scheduler,
    info: &BTreeMap<String, (usize, i32, u64)>,
    pending: &BTreeMap<String, ()>,
    d: &[Decision],
) -> Result<(), TestCaseError> {
    let units = |q: Quantity| q.milli() / 1000;
    // Usage within nominal + borrowing limit; standalone queues within nominal.
    let mut cohort_over: BTreeMap<(usize, usize), (i128, i128)> = BTreeMap::new();
    for (i, spec) in queues.iter().enumerate() {
        for (f, &(n, b, l)) in spec.quotas.iter().enumerate() {
            let used = units(s.usage(&format!("q{i}"), FLAVORS[f], "cpu").unwrap());
            let n = i128::from(n);
            match spec.cohort {
                None => prop_assert!(used <= n, "q{i} {}: {used} > {n}", FLAVORS[f]),
                Some(c) => {
                    if let Some(b) = b {
                        prop_assert!(used <= n + i128::from(b), "q{i}: {used} > {n}+{b}");
                    }
                    let kept = l.map_or(0, |l| n - i128::from(l));
                    let e = cohort_over.entry((c, f)).or_default();
                    e.0 += (used - kept).max(0);
                    e.1 += n - kept;
                }
            }
        }
    }
    // Lending limits: what members use beyond what they keep never exceeds
    // what they lend.
    for ((c, f), (over, lent)) in cohort_over {
        prop_assert!(over <= lent, "cohort c{c} flavor {f}: {over} > {lent}");
    }
    // One Admitted or Waiting decision per workload pending at the start.
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for dec in d {
        if !matches!(dec, Decision::Preempted { .. }) {
            *seen.entry(dec.workload()).or_default() += 1;
        }
    }
    prop_assert_eq!(seen.len(), pending.len());
    prop_assert!(seen.values().all(|&n| n == 1));
    prop_assert!(pending.keys().all(|k| seen.contains_key(k.as_str())));
    // StrictFIFO: what is admitted is a prefix of the queue's order.
    for (i, spec) in queues.iter().enumerate() {
        if !spec.strict {
            continue;
        }
        let mut order: Vec<(&String, i32, u64)> = pending
            .keys()
            .filter(|n| info[*n].0 == i)
            .map(|n| (n, info[n].1, info[n].2))
            .collect();
        order.sort_by(|a, b| b.1.cmp(&a.1).then(a.2.cmp(&b.2)).then(a.0.cmp(b.0)));
        let admitted: Vec<bool> = order
            .iter()
            .map(|(n, _, _)| {
                d.iter()
                    .any(|x| matches!(x, Decision::Admitted(a) if &a.workload == *n))
            })
            .collect();
        let first_wait = admitted.iter().position(|a| !a).unwrap_or(admitted.len());
        prop_assert!(
            admitted[first_wait..].iter().all(|a| !a),
            "q{i} admitted past its head: {order:?} {admitted:?}"
        );
    }
    // Preemption only as the preemptor's queue's policies allow.
    for dec in d {
        let Decision::Preempted { workload, by, .. } = dec else {
            continue;
        };
        let (vq, vp, vc) = info[workload];
        let (bq, bp, bc) = info[by];
        let policy = &queues[bq];
        if vq == bq {
            let ok = match policy.within {
                WithinClusterQueue::Never => false,
                WithinClusterQueue::LowerPriority => vp < bp,
                WithinClusterQueue::LowerOrNewerEqualPriority => vp < bp || (vp == bp && vc > bc),
            };
            prop_assert!(
                ok,
                "{by} preempted {workload} in its queue against {:?}",
                policy.within
            );
        } else {
            prop_assert!(policy.cohort.is_some() && policy.cohort == queues[vq].cohort);
            let reclaim = match policy.reclaim {
                ReclaimWithinCohort::Never => false,
                ReclaimWithinCohort::LowerPriority => vp < bp,
                ReclaimWithinCohort::Any => true,
            };
            let borrow = policy
                .borrow
                .is_some_and(|t| vp < bp && t.is_none_or(|t| vp <= t));
            prop_assert!(reclaim || borrow, "{by} preempted {workload} across queues");
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn invariants_hold(
        queues in prop::collection::vec(queue_spec(), 1..5),
        jobs in prop::collection::vec(job_spec(4), 1..30),
        fair: bool,
    ) {
        let jobs: Vec<JobSpec> = jobs
            .into_iter()
            .map(|mut j| { j.queue %= queues.len(); j })
            .collect();
        let first = run(&queues, &jobs, fair)?;
        let second = run(&queues, &jobs, fair)?;
        prop_assert_eq!(first.decisions, second.decisions);
    }

    /// One cohort; queue 0's jobs come first and borrow, the others' come
    /// later and reclaim or preempt while borrowing.
    #[test]
    fn invariants_hold_when_reclaiming(
        queues in prop::collection::vec(queue_spec(), 2..5),
        jobs in prop::collection::vec(job_spec(4), 6..40),
        fair: bool,
    ) {
        let queues: Vec<QueueSpec> = queues
            .into_iter()
            .map(|mut q| { q.cohort = Some(0); q })
            .collect();
        let mut jobs: Vec<JobSpec> = jobs
            .into_iter()
            .map(|mut j| { j.queue %= queues.len(); j })
            .collect();
        jobs.sort_by_key(|j| j.queue != 0);
        let first = run(&queues, &jobs, fair)?;
        let second = run(&queues, &jobs, fair)?;
        prop_assert_eq!(first.decisions, second.decisions);
    }

    #[test]
    fn settled_and_admission_cycles_agree_with_cycle(
        queues in prop::collection::vec(queue_spec(), 1..5),
        jobs in prop::collection::vec(job_spec(4), 1..40),
        fair: bool,
        one_cohort: bool,
    ) {
        let queues: Vec<QueueSpec> = queues
            .into_iter()
            .map(|mut q| { if one_cohort { q.cohort = Some(0); } q })
            .collect();
        let jobs: Vec<JobSpec> = jobs
            .into_iter()
            .map(|mut j| { j.queue %= queues.len(); j })
            .collect();
        lean_agrees(&queues, &jobs, fair)?;
    }
}

/// The skip is not vacuous: a full queue with a backlog settles.
#[test]
fn a_backlog_settles() {
    let queue = QueueSpec {
        cohort: None,
        quotas: vec![(4, None, None)],
        strict: false,
        within: WithinClusterQueue::Never,
        reclaim: ReclaimWithinCohort::Never,
        borrow: None,
        try_next: false,
        weight: 1,
    };
    let job = JobSpec {
        queue: 0,
        priority: 0,
        cpus: 3,
        count: 1,
        min_count: None,
    };
    let skipped = lean_agrees(&[queue], &vec![job; 12], false).unwrap();
    assert!(skipped > 0);
}
