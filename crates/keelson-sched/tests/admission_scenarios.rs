//! Admission scenarios transcribed from Kueue's documentation; each test
//! names the page (and section) it follows.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use keelson_sched::*;

fn q(n: i64) -> Quantity {
    Quantity::from_units(n)
}

fn cpu_group(flavor: &str, quota: ResourceQuota) -> ResourceGroup {
    ResourceGroup::new(&["cpu"], vec![FlavorQuotas::new(flavor, vec![quota])])
}

fn cpu_queue(name: &str, cohort: &str, quota: ResourceQuota) -> ClusterQueue {
    ClusterQueue::new(name)
        .in_cohort(cohort)
        .with_group(cpu_group("default-flavor", quota))
}

/// Every queue `x` gets a LocalQueue `x` in namespace `x`.
fn setup(queues: Vec<ClusterQueue>) -> Setup {
    let local_queues = queues
        .iter()
        .map(|cq| LocalQueue::new(&cq.name, &cq.name, &cq.name))
        .collect();
    Setup {
        flavors: vec![ResourceFlavor::new("default-flavor")],
        cluster_queues: queues,
        local_queues,
        ..Setup::default()
    }
}

/// A one-pod workload `queue/name` asking for `cpus` CPUs.
fn job(queue: &str, name: &str, cpus: i64) -> Workload {
    let req = Resources::new().with("cpu", q(cpus)).unwrap();
    Workload::new(
        format!("{queue}/{name}"),
        queue,
        vec![PodSet::new("main", 1, req)],
    )
    .unwrap()
}

fn admitted(decisions: &[Decision]) -> Vec<String> {
    decisions
        .iter()
        .filter_map(|d| match d {
            Decision::Admitted(a) => Some(a.workload.clone()),
            _ => None,
        })
        .collect()
}

fn preempted(decisions: &[Decision]) -> Vec<String> {
    decisions
        .iter()
        .filter_map(|d| match d {
            Decision::Preempted { workload, .. } => Some(workload.clone()),
            _ => None,
        })
        .collect()
}

fn waiting(decisions: &[Decision], name: &str) -> WaitReason {
    decisions
        .iter()
        .find_map(|d| match d {
            Decision::Waiting {
                workload, reason, ..
            } if workload == name => Some(reason.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("{name} does not wait: {decisions:?}"))
}

/// cluster_queue "Borrowing example": team-a-cq (9 CPUs) and team-b-cq (12
/// CPUs) in cohort team-ab; with team-b-cq idle, team-a-cq admits up to
/// 9+12=21 CPUs.
/// <https://kueue.sigs.k8s.io/docs/concepts/cluster_queue/#borrowing-example>
#[test]
fn borrowing_up_to_the_cohort() {
    let mut s = Scheduler::new(setup(vec![
        cpu_queue("team-a-cq", "team-ab", ResourceQuota::new("cpu", q(9))),
        cpu_queue("team-b-cq", "team-ab", ResourceQuota::new("cpu", q(12))),
    ]))
    .unwrap();
    for (i, n) in [7, 7, 7, 1].into_iter().enumerate() {
        s.submit(job("team-a-cq", &format!("j{i}"), n).with_created(i as u64))
            .unwrap();
    }
    let d = s.cycle();
    assert_eq!(
        admitted(&d),
        ["team-a-cq/j0", "team-a-cq/j1", "team-a-cq/j2"]
    );
    assert_eq!(
        s.usage("team-a-cq", "default-flavor", "cpu").unwrap(),
        q(21)
    );
    assert!(s.admission("team-a-cq/j2").unwrap().borrowing);
    assert_eq!(
        waiting(&d, "team-a-cq/j3").to_string(),
        "pod set main: no flavor fits (flavor default-flavor: cpu needs 1, 0 available)"
    );
}

/// Same page: when team-a-cq has used its nominal quota and team-b-cq has
/// pending workloads, team-b-cq's are admitted before any new ones of
/// team-a-cq, so team-b-cq gets its nominal quota.
#[test]
fn nominal_quota_before_borrowing() {
    let mut s = Scheduler::new(setup(vec![
        cpu_queue("team-a-cq", "team-ab", ResourceQuota::new("cpu", q(9))),
        cpu_queue("team-b-cq", "team-ab", ResourceQuota::new("cpu", q(12))),
    ]))
    .unwrap();
    s.submit(job("team-a-cq", "base", 9)).unwrap();
    s.cycle();
    // The older team-a workload would borrow; the newer team-b one fits.
    s.submit(job("team-a-cq", "more", 4).with_created(1))
        .unwrap();
    s.submit(job("team-b-cq", "own", 10).with_created(2))
        .unwrap();
    let d = s.cycle();
    assert_eq!(admitted(&d), ["team-b-cq/own"]);
    assert!(matches!(
        waiting(&d, "team-a-cq/more"),
        WaitReason::NoFlavorFits { .. }
    ));
}

/// cluster_queue "BorrowingLimit": team-a-cq with borrowingLimit 1 admits
/// up to 9+1=10 CPUs; team-b-cq, without one, up to 12+9.
/// <https://kueue.sigs.k8s.io/docs/concepts/cluster_queue/#borrowinglimit>
#[test]
fn borrowing_limit() {
    let mut s = Scheduler::new(setup(vec![
        cpu_queue(
            "team-a-cq",
            "team-ab",
            ResourceQuota::new("cpu", q(9)).borrowing(q(1)),
        ),
        cpu_queue("team-b-cq", "team-ab", ResourceQuota::new("cpu", q(12))),
    ]))
    .unwrap();
    s.submit(job("team-a-cq", "a", 10)).unwrap();
    s.submit(job("team-a-cq", "b", 1).with_created(1)).unwrap();
    let d = s.cycle();
    assert_eq!(admitted(&d), ["team-a-cq/a"]);
    s.finish("team-a-cq/a").unwrap();
    s.finish("team-a-cq/b").unwrap();
    s.submit(job("team-b-cq", "c", 21)).unwrap();
    assert_eq!(admitted(&s.cycle()), ["team-b-cq/c"]);
}

/// cluster_queue "LendingLimit": team-b-cq (12 CPUs) lends at most 1, so
/// team-a-cq (9 CPUs) admits up to 9+1=10; team-a-cq lends all of its
/// quota, so team-b-cq can use 9+12.
/// <https://kueue.sigs.k8s.io/docs/concepts/cluster_queue/#lendinglimit>
#[test]
fn lending_limit() {
    let mut s = Scheduler::new(setup(vec![
        cpu_queue("team-a-cq", "team-ab", ResourceQuota::new("cpu", q(9))),
        cpu_queue(
            "team-b-cq",
            "team-ab",
            ResourceQuota::new("cpu", q(12)).lending(q(1)),
        ),
    ]))
    .unwrap();
    s.submit(job("team-a-cq", "a", 11)).unwrap();
    s.submit(job("team-a-cq", "b", 10).with_created(1)).unwrap();
    let d = s.cycle();
    assert_eq!(admitted(&d), ["team-a-cq/b"]);
    assert_eq!(
        waiting(&d, "team-a-cq/a").to_string(),
        "pod set main: no flavor fits (flavor default-flavor: cpu needs 11, 10 available)"
    );
    s.finish("team-a-cq/a").unwrap();
    s.finish("team-a-cq/b").unwrap();
    s.submit(job("team-b-cq", "c", 21)).unwrap();
    assert_eq!(admitted(&s.cycle()), ["team-b-cq/c"]);
}

/// cluster_queue "Queueing strategy": under StrictFIFO an older workload
/// that cannot be admitted blocks newer ones that would fit; under
/// BestEffortFIFO it does not.
/// <https://kueue.sigs.k8s.io/docs/concepts/cluster_queue/#queueing-strategy>
#[test]
fn strict_and_best_effort_fifo() {
    for (strategy, expect) in [
        (QueueingStrategy::StrictFifo, vec![]),
        (QueueingStrategy::BestEffortFifo, vec!["cq/small"]),
    ] {
        let cq = ClusterQueue::new("cq")
            .with_group(cpu_group("default-flavor", ResourceQuota::new("cpu", q(4))))
            .with_strategy(strategy);
        let mut s = Scheduler::new(setup(vec![cq])).unwrap();
        s.submit(job("cq", "big", 8).with_created(1)).unwrap();
        s.submit(job("cq", "small", 2).with_created(2)).unwrap();
        let d = s.cycle();
        assert_eq!(admitted(&d), expect, "{strategy:?}");
        if strategy == QueueingStrategy::StrictFifo {
            assert_eq!(
                waiting(&d, "cq/small"),
                WaitReason::BehindStrictFifoHead {
                    head: "cq/big".into()
                }
            );
        }
    }
}

/// cluster_queue "Preemption", withinClusterQueue: LowerPriority; and
/// preemption "Classic Preemption": the fewest victims, lowest priority
/// and most recently admitted first.
/// <https://kueue.sigs.k8s.io/docs/concepts/preemption/#classic-preemption>
#[test]
fn preemption_within_cluster_queue() {
    let cq = ClusterQueue::new("cq")
        .with_group(cpu_group(
            "default-flavor",
            ResourceQuota::new("cpu", q(10)),
        ))
        .with_preemption(Preemption {
            within_cluster_queue: WithinClusterQueue::LowerPriority,
            ..Preemption::default()
        });
    let mut s = Scheduler::new(setup(vec![cq])).unwrap();
    s.submit(job("cq", "low-old", 4).with_created(1)).unwrap();
    s.cycle();
    s.submit(job("cq", "low-new", 4).with_created(2)).unwrap();
    s.cycle();
    s.submit(job("cq", "mid", 2).with_priority(5).with_created(3))
        .unwrap();
    s.cycle();
    // Needs 3 CPUs of 10, all used: one low-priority victim is enough, and
    // the most recently admitted goes.
    s.submit(job("cq", "high", 3).with_priority(10).with_created(4))
        .unwrap();
    let d = s.cycle();
    assert_eq!(preempted(&d), ["cq/low-new"]);
    assert_eq!(admitted(&d), ["cq/high"]);
    assert_eq!(
        s.admission("cq/high").unwrap().preempted,
        vec!["cq/low-new".to_owned()]
    );
    // An equal-priority workload may not preempt under LowerPriority.
    s.submit(job("cq", "peer", 4).with_created(5)).unwrap();
    let d = s.cycle();
    assert!(preempted(&d).is_empty());
    assert!(matches!(
        waiting(&d, "cq/peer"),
        WaitReason::NoFlavorFits { .. } | WaitReason::PreemptionInsufficient { .. }
    ));
}

/// cluster_queue "Preemption", withinClusterQueue:
/// LowerOrNewerEqualPriority lets an older workload preempt a newer one of
/// equal priority.
/// <https://kueue.sigs.k8s.io/docs/concepts/cluster_queue/#preemption>
#[test]
fn preemption_of_newer_equal_priority() {
    let cq = ClusterQueue::new("cq")
        .with_group(cpu_group("default-flavor", ResourceQuota::new("cpu", q(4))))
        .with_preemption(Preemption {
            within_cluster_queue: WithinClusterQueue::LowerOrNewerEqualPriority,
            ..Preemption::default()
        });
    let mut s = Scheduler::new(setup(vec![cq])).unwrap();
    s.submit(job("cq", "newer", 4).with_created(10)).unwrap();
    s.cycle();
    s.submit(job("cq", "older", 4).with_created(5)).unwrap();
    let d = s.cycle();
    assert_eq!(preempted(&d), ["cq/newer"]);
    assert_eq!(admitted(&d), ["cq/older"]);
}

/// cluster_queue "Preemption", reclaimWithinCohort: a workload that fits
/// its queue's nominal quota reclaims it from a borrowing queue of the
/// cohort; workloads within their own queue's nominal quota are safe.
/// <https://kueue.sigs.k8s.io/docs/concepts/preemption/#reasons-for-preemption>
#[test]
fn reclaim_within_cohort() {
    let reclaim = Preemption {
        reclaim_within_cohort: ReclaimWithinCohort::Any,
        ..Preemption::default()
    };
    let mut s = Scheduler::new(setup(vec![
        cpu_queue("team-a-cq", "team-ab", ResourceQuota::new("cpu", q(9))).with_preemption(reclaim),
        cpu_queue("team-b-cq", "team-ab", ResourceQuota::new("cpu", q(12))),
    ]))
    .unwrap();
    // team-b uses its 12 and borrows 6 of team-a's 9, at high priority.
    s.submit(job("team-b-cq", "own", 12).with_priority(100))
        .unwrap();
    s.submit(
        job("team-b-cq", "borrowed", 6)
            .with_priority(100)
            .with_created(1),
    )
    .unwrap();
    assert_eq!(admitted(&s.cycle()).len(), 2);
    // team-a asks for 5 of its own 9: Any reclaims regardless of priority.
    s.submit(job("team-a-cq", "mine", 5).with_created(2))
        .unwrap();
    let d = s.cycle();
    assert_eq!(preempted(&d), ["team-b-cq/borrowed"]);
    assert_eq!(admitted(&d), ["team-a-cq/mine"]);
    // More than its nominal quota would mean borrowing: no reclaim then.
    s.finish("team-a-cq/mine").unwrap();
    s.cycle();
    s.submit(job("team-a-cq", "greedy", 10).with_created(3))
        .unwrap();
    let d = s.cycle();
    assert!(preempted(&d).is_empty());
}

/// cluster_queue "Preemption", borrowWithinCohort with
/// maxPriorityThreshold: a workload that must borrow may preempt
/// lower-priority borrowers, but only up to the threshold.
/// <https://kueue.sigs.k8s.io/docs/concepts/cluster_queue/#preemption>
#[test]
fn borrow_within_cohort_threshold() {
    let policy = Preemption {
        reclaim_within_cohort: ReclaimWithinCohort::LowerPriority,
        borrow_within_cohort: BorrowWithinCohort {
            policy: BorrowWithinCohortPolicy::LowerPriority,
            max_priority_threshold: Some(100),
        },
        ..Preemption::default()
    };
    let run = |victim_priority: i32| {
        let mut s = Scheduler::new(setup(vec![
            cpu_queue("team-a-cq", "team-ab", ResourceQuota::new("cpu", q(4)))
                .with_preemption(policy),
            cpu_queue("team-b-cq", "team-ab", ResourceQuota::new("cpu", q(4))),
            cpu_queue("team-c-cq", "team-ab", ResourceQuota::new("cpu", q(4))),
        ]))
        .unwrap();
        s.submit(job("team-b-cq", "borrower", 8).with_priority(victim_priority))
            .unwrap();
        s.submit(job("team-c-cq", "own", 4).with_created(1))
            .unwrap();
        assert_eq!(admitted(&s.cycle()).len(), 2);
        // 6 CPUs: 2 above team-a's nominal, so it must borrow.
        s.submit(
            job("team-a-cq", "urgent", 6)
                .with_priority(1000)
                .with_created(2),
        )
        .unwrap();
        s.cycle()
    };
    let d = run(50);
    assert_eq!(preempted(&d), ["team-b-cq/borrower"]);
    assert_eq!(admitted(&d), ["team-a-cq/urgent"]);
    let d = run(500);
    assert!(preempted(&d).is_empty());
    assert!(admitted(&d).is_empty());
}

/// cluster_queue "FlavorFungibility": with whenCanBorrow MayStopSearch
/// (Kueue's `Borrow`, the default) the first flavor that fits by borrowing
/// is taken; with TryNextFlavor a later flavor that fits without borrowing
/// wins.
/// <https://kueue.sigs.k8s.io/docs/concepts/cluster_queue/#flavorfungibility>
#[test]
fn flavor_fungibility() {
    for (when_can_borrow, flavor) in [
        (FungibilityPolicy::MayStopSearch, "spot"),
        (FungibilityPolicy::TryNextFlavor, "on-demand"),
    ] {
        let group = ResourceGroup::new(
            &["cpu"],
            vec![
                FlavorQuotas::new("spot", vec![ResourceQuota::new("cpu", q(2))]),
                FlavorQuotas::new("on-demand", vec![ResourceQuota::new("cpu", q(8))]),
            ],
        );
        let mine = ClusterQueue::new("mine")
            .in_cohort("c")
            .with_group(group)
            .with_fungibility(FlavorFungibility {
                when_can_borrow,
                ..FlavorFungibility::default()
            });
        let lender = ClusterQueue::new("lender")
            .in_cohort("c")
            .with_group(ResourceGroup::new(
                &["cpu"],
                vec![FlavorQuotas::new(
                    "spot",
                    vec![ResourceQuota::new("cpu", q(8))],
                )],
            ));
        let mut st = setup(vec![mine, lender]);
        st.flavors = vec![
            ResourceFlavor::new("spot"),
            ResourceFlavor::new("on-demand"),
        ];
        let mut s = Scheduler::new(st).unwrap();
        s.submit(job("mine", "w", 4)).unwrap();
        s.cycle();
        let a = s.admission("mine/w").unwrap();
        assert_eq!(a.pod_sets[0].flavors["cpu"], flavor, "{when_can_borrow:?}");
        assert_eq!(a.borrowing, flavor == "spot");
    }
}

/// resource_flavor: a flavor's taints must be tolerated and its labels
/// must agree with the pod set's node selector; otherwise the next flavor
/// is tried, and the reason names the flavor.
/// <https://kueue.sigs.k8s.io/docs/concepts/resource_flavor/>
#[test]
fn flavor_labels_and_taints() {
    let group = ResourceGroup::new(
        &["nvidia.com/gpu"],
        vec![
            FlavorQuotas::new("tainted", vec![ResourceQuota::new("nvidia.com/gpu", q(8))]),
            FlavorQuotas::new("a100", vec![ResourceQuota::new("nvidia.com/gpu", q(8))]),
        ],
    );
    let mut st = setup(vec![ClusterQueue::new("cq").with_group(group)]);
    st.flavors = vec![
        ResourceFlavor::new("tainted").with_taint(Taint {
            key: "reserved".into(),
            value: "yes".into(),
            effect: TaintEffect::NoSchedule,
        }),
        ResourceFlavor::new("a100").with_label("gpu", "a100"),
    ];
    let mut s = Scheduler::new(st).unwrap();
    let mut ps = PodSet::new("w", 1, Resources::parse([("nvidia.com/gpu", "1")]).unwrap());
    ps.node_selector.insert("gpu".into(), "h100".into());
    s.submit(Workload::new("cq/h100-job", "cq", vec![ps.clone()]).unwrap())
        .unwrap();
    let d = s.cycle();
    assert_eq!(
        waiting(&d, "cq/h100-job").to_string(),
        "pod set w: no flavor fits (flavor tainted: taint reserved is not tolerated; \
         flavor a100: node label gpu is a100, the pod set asks for h100)"
    );
    ps.node_selector.clear();
    s.submit(Workload::new("cq/any", "cq", vec![ps]).unwrap())
        .unwrap();
    s.cycle();
    assert_eq!(
        s.admission("cq/any").unwrap().pod_sets[0].flavors["nvidia.com/gpu"],
        "a100"
    );
}

/// Partial admission (Kueue's `minCount`): the largest count that fits.
/// <https://kueue.sigs.k8s.io/docs/tasks/run/jobs/#partial-admission>
#[test]
fn partial_admission() {
    let cq = ClusterQueue::new("cq")
        .with_group(cpu_group("default-flavor", ResourceQuota::new("cpu", q(7))));
    let mut s = Scheduler::new(setup(vec![cq])).unwrap();
    let req = Resources::new().with("cpu", q(1)).unwrap();
    let w = Workload::new(
        "cq/elastic",
        "cq",
        vec![
            PodSet::new("launcher", 1, req.clone()),
            PodSet::new("worker", 10, req.clone()).with_min_count(4),
        ],
    )
    .unwrap();
    s.submit(w).unwrap();
    let w = Workload::new(
        "cq/rigid",
        "cq",
        vec![PodSet::new("worker", 10, req).with_min_count(9)],
    )
    .unwrap()
    .with_created(1);
    s.submit(w).unwrap();
    let d = s.cycle();
    assert_eq!(admitted(&d), ["cq/elastic"]);
    let a = s.admission("cq/elastic").unwrap();
    assert_eq!((a.pod_sets[0].count, a.pod_sets[1].count), (1, 6));
    assert_eq!(a.pod_sets[1].usage.get("cpu"), q(6));
}

/// cohort "Configuring Quotas" and "Hierarchical Cohorts": quota of a
/// cohort is shared by its members on top of their own, and a queue with
/// nominal quota 0 can use it; quota flows through a tree of cohorts.
/// <https://kueue.sigs.k8s.io/docs/concepts/cohort/>
#[test]
fn hierarchical_cohorts() {
    let shared = |n: &str, cpus| cpu_group(n, ResourceQuota::new("cpu", q(cpus)));
    let mut st = setup(vec![
        cpu_queue("a", "important-org", ResourceQuota::new("cpu", q(0))),
        cpu_queue("b", "regular-org", ResourceQuota::new("cpu", q(2))),
    ]);
    st.cohorts = vec![
        Cohort::new("root-cohort").with_group(shared("default-flavor", 12)),
        Cohort::new("important-org").with_parent("root-cohort"),
        Cohort::new("regular-org").with_parent("root-cohort"),
    ];
    let mut s = Scheduler::new(st).unwrap();
    s.submit(job("a", "x", 12)).unwrap();
    s.submit(job("b", "y", 3).with_created(1)).unwrap();
    let d = s.cycle();
    assert_eq!(admitted(&d), ["a/x"]);
    assert_eq!(
        waiting(&d, "b/y").to_string(),
        "pod set main: no flavor fits (flavor default-flavor: cpu needs 3, 2 available)"
    );
}

/// preemption "Fair Sharing": queues with equal weights in a cohort
/// converge to equal shares of the borrowable quota; preemption stops once
/// the preempting queue's share would exceed the target's.
/// <https://kueue.sigs.k8s.io/docs/concepts/preemption/#fair-sharing>
#[test]
fn fair_sharing_converges_to_weighted_shares() {
    for (weight, expect_b) in [(1, 6), (2, 8)] {
        let policy = Preemption {
            reclaim_within_cohort: ReclaimWithinCohort::Any,
            ..Preemption::default()
        };
        let mut st = setup(vec![
            cpu_queue("a", "pool", ResourceQuota::new("cpu", q(0))).with_preemption(policy),
            cpu_queue("b", "pool", ResourceQuota::new("cpu", q(0)))
                .with_preemption(policy)
                .with_weight(q(weight)),
        ]);
        st.cohorts = vec![Cohort::new("pool").with_group(cpu_group(
            "default-flavor",
            ResourceQuota::new("cpu", q(12)),
        ))];
        st.fair_sharing = Some(FairSharingConfig::default());
        let mut s = Scheduler::new(st).unwrap();
        for i in 0..6 {
            s.submit(job("a", &format!("a{i}"), 2).with_created(i))
                .unwrap();
        }
        assert_eq!(admitted(&s.cycle()).len(), 6);
        for i in 0..6 {
            s.submit(job("b", &format!("b{i}"), 2).with_created(10 + i))
                .unwrap();
        }
        let d = s.cycle();
        let b_cpus = 2 * admitted(&d).len() as i64;
        assert_eq!(b_cpus, expect_b, "weight {weight}");
        assert_eq!(preempted(&d).len() as i64 * 2, expect_b);
        assert_eq!(
            s.usage("a", "default-flavor", "cpu").unwrap(),
            q(12 - expect_b)
        );
        // The newest of a's workloads go first.
        assert_eq!(preempted(&d)[0], "a/a5");
    }
}

/// Fair sharing orders heads by weighted share: the queue that borrows
/// less goes first.
/// <https://kueue.sigs.k8s.io/docs/concepts/preemption/#clusterqueue-share-value>
#[test]
fn fair_sharing_admits_lowest_share_first() {
    let mut st = setup(vec![
        cpu_queue("a", "pool", ResourceQuota::new("cpu", q(0))),
        cpu_queue("b", "pool", ResourceQuota::new("cpu", q(0))),
    ]);
    st.cohorts = vec![Cohort::new("pool").with_group(cpu_group(
        "default-flavor",
        ResourceQuota::new("cpu", q(10)),
    ))];
    st.fair_sharing = Some(FairSharingConfig::default());
    let mut s = Scheduler::new(st).unwrap();
    for i in 0..5 {
        s.submit(job("a", &format!("a{i}"), 2).with_created(i))
            .unwrap();
        s.submit(job("b", &format!("b{i}"), 2).with_created(100 + i))
            .unwrap();
    }
    s.cycle();
    assert_eq!(s.usage("a", "default-flavor", "cpu").unwrap(), q(6));
    assert_eq!(s.usage("b", "default-flavor", "cpu").unwrap(), q(4));
    assert!(s.weighted_share("a").unwrap() > s.weighted_share("b").unwrap());
}

#[test]
fn setup_errors_name_the_item() {
    let err = |st: Setup| Scheduler::new(st).unwrap_err().to_string();
    let mut st = setup(vec![cpu_queue("a", "x", ResourceQuota::new("cpu", q(1)))]);
    st.cohorts = vec![
        Cohort::new("x").with_parent("y"),
        Cohort::new("y").with_parent("z"),
        Cohort::new("z").with_parent("x"),
    ];
    assert_eq!(err(st), "cohort x: cohort cycle x -> y -> z -> x");

    let st =
        setup(vec![ClusterQueue::new("a").with_group(cpu_group(
            "gpu-h200",
            ResourceQuota::new("cpu", q(1)),
        ))]);
    assert_eq!(
        err(st),
        "clusterQueue a: resourceFlavor gpu-h200 does not exist"
    );

    let st = setup(vec![ClusterQueue::new("a").with_group(cpu_group(
        "default-flavor",
        ResourceQuota::new("cpu", Quantity::from_milli(-1)),
    ))]);
    assert_eq!(
        err(st),
        "clusterQueue a: flavor default-flavor resource cpu: negative quota"
    );

    let st = setup(vec![ClusterQueue::new("a").with_group(cpu_group(
        "default-flavor",
        ResourceQuota::new("cpu", q(1)).borrowing(q(1)),
    ))]);
    assert!(err(st).contains("need a cohort"));

    let st = setup(vec![cpu_queue(
        "a",
        "c",
        ResourceQuota::new("cpu", q(1)).lending(q(2)),
    )]);
    assert!(err(st).contains("lendingLimit above nominalQuota"));

    let mut st = setup(vec![cpu_queue("a", "c", ResourceQuota::new("cpu", q(1)))]);
    st.local_queues.push(LocalQueue::new("ns", "q", "missing"));
    assert_eq!(
        err(st),
        "localQueue ns/q: clusterQueue missing does not exist"
    );
}

#[test]
fn submit_finish_and_evict_errors() {
    let mut s = Scheduler::new(setup(vec![cpu_queue(
        "a",
        "c",
        ResourceQuota::new("cpu", q(4)),
    )]))
    .unwrap();
    assert_eq!(
        s.submit(job("nowhere", "x", 1)).unwrap_err().to_string(),
        "workload nowhere/x: localQueue nowhere/nowhere does not exist"
    );
    s.submit(job("a", "x", 1)).unwrap();
    assert!(
        s.submit(job("a", "x", 1))
            .unwrap_err()
            .to_string()
            .contains("twice")
    );
    assert!(
        s.evict("a/x")
            .unwrap_err()
            .to_string()
            .contains("not admitted")
    );
    s.cycle();
    s.evict("a/x").unwrap();
    assert_eq!(s.pending_count(), 1);
    assert_eq!(
        s.usage("a", "default-flavor", "cpu").unwrap(),
        Quantity::ZERO
    );
    assert_eq!(admitted(&s.cycle()), ["a/x"]);
    s.finish("a/x").unwrap();
    assert!(s.finish("a/x").is_err());
    let gpu = Workload::new(
        "a/gpu",
        "a",
        vec![PodSet::new(
            "w",
            1,
            Resources::parse([("nvidia.com/gpu", "1")]).unwrap(),
        )],
    )
    .unwrap();
    s.submit(gpu).unwrap();
    assert_eq!(
        waiting(&s.cycle(), "a/gpu"),
        WaitReason::ResourceNotCovered {
            pod_set: "w".into(),
            resource: "nvidia.com/gpu".into()
        }
    );
}

#[test]
fn setup_reads_from_yaml_shape() {
    let json = r#"{
      "flavors": [{"name": "default-flavor"}],
      "clusterQueues": [{
        "name": "team-a-cq", "cohortName": "team-ab", "queueingStrategy": "StrictFIFO",
        "preemption": {"withinClusterQueue": "LowerPriority", "borrowWithinCohort": {"policy": "LowerPriority", "maxPriorityThreshold": 100}},
        "flavorFungibility": {"whenCanBorrow": "Borrow", "whenCanPreempt": "Preempt"},
        "resourceGroups": [{"coveredResources": ["cpu"], "flavors": [{"name": "default-flavor",
          "resources": [{"name": "cpu", "nominalQuota": 9, "borrowingLimit": "1"}]}]}]
      }],
      "localQueues": [{"namespace": "team-a", "name": "main", "clusterQueue": "team-a-cq"}],
      "fairSharing": {}
    }"#;
    let st: Setup = serde_json::from_str(json).unwrap();
    let cq = &st.cluster_queues[0];
    assert_eq!(cq.queueing_strategy, QueueingStrategy::StrictFifo);
    assert_eq!(
        cq.flavor_fungibility.when_can_preempt,
        FungibilityPolicy::MayStopSearch
    );
    assert_eq!(
        cq.resource_groups[0].flavors[0].resources[0].borrowing_limit,
        Some(q(1))
    );
    assert_eq!(
        st.fair_sharing
            .as_ref()
            .unwrap()
            .preemption_strategies
            .len(),
        2
    );
    Scheduler::new(st).unwrap();
}
