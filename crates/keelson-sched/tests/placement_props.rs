//! Gang placement over random clusters and workloads: no node is ever
//! over-committed, gangs are placed whole or not at all, selectors, taints
//! and required topologies hold, failures are real (a brute-force count
//! agrees no assignment exists), and release restores the cluster exactly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use keelson_sched::{
    Blocker, Cluster, Node, PodSet, Resources, Strategy as Placing, Taint, TaintEffect, Toleration,
    TolerationOperator, TopologyRequest, Workload,
};
use proptest::prelude::*;

type NodeSpec = (u32, u32, bool, bool, Option<(u8, u8)>);

fn res(pairs: &[(&str, u32)]) -> Resources {
    let text: Vec<(&str, String)> = pairs.iter().map(|(k, v)| (*k, v.to_string())).collect();
    Resources::parse(text.iter().map(|(k, v)| (*k, v.as_str()))).unwrap()
}

fn build_node(i: usize, (gpus, cpu, h100, tainted, place): NodeSpec) -> Node {
    let mut node = Node::new(
        format!("n{i:02}"),
        res(&[("cpu", cpu), ("nvidia.com/gpu", gpus)]),
    )
    .with_label("gpu-model", if h100 { "h100" } else { "a100" });
    if tainted {
        node = node.with_taint(Taint {
            key: "dedicated".into(),
            value: "train".into(),
            effect: TaintEffect::NoSchedule,
        });
    }
    if let Some((block, rack)) = place {
        let (b, r) = (format!("b{block}"), format!("r{rack}"));
        node = node.with_topology([("block", b.as_str()), ("rack", r.as_str())]);
    }
    node
}

fn nodes() -> impl Strategy<Value = Vec<Node>> {
    prop::collection::vec(
        (
            0u32..=8,
            1u32..=32,
            any::<bool>(),
            prop::bool::weighted(0.25),
            prop::option::weighted(0.85, (0u8..2, 0u8..3)),
        ),
        1..24,
    )
    .prop_map(|specs| {
        specs
            .into_iter()
            .enumerate()
            .map(|(i, s)| build_node(i, s))
            .collect()
    })
}

type SetSpec = (
    u32,
    Option<u32>,
    u32,
    u32,
    Option<bool>,
    bool,
    Option<(bool, bool)>,
);

fn build_set(i: usize, (count, min, gpus, cpu, model, tolerate, topo): SetSpec) -> PodSet {
    let mut set = PodSet::new(
        format!("s{i}"),
        count,
        res(&[("cpu", cpu), ("nvidia.com/gpu", gpus)]),
    );
    set.min_count = min.map(|m| m.min(count));
    if let Some(h100) = model {
        set.node_selector.insert(
            "gpu-model".into(),
            if h100 { "h100" } else { "a100" }.into(),
        );
    }
    if tolerate {
        set.tolerations.push(Toleration {
            key: "dedicated".into(),
            operator: TolerationOperator::Exists,
            ..Default::default()
        });
    }
    set.topology = topo.map(|(rack, required)| TopologyRequest {
        level: if rack { "rack" } else { "block" }.into(),
        required,
    });
    set
}

fn workloads() -> impl Strategy<Value = Vec<(Workload, bool)>> {
    let set = (
        1u32..=10,
        prop::option::weighted(0.3, 1u32..=10),
        0u32..=3,
        0u32..=6,
        prop::option::weighted(0.3, any::<bool>()),
        prop::bool::weighted(0.5),
        prop::option::weighted(0.4, (any::<bool>(), any::<bool>())),
    );
    prop::collection::vec((prop::collection::vec(set, 1..=3), any::<bool>()), 1..8).prop_map(|ws| {
        ws.into_iter()
            .enumerate()
            .map(|(i, (sets, spread))| {
                let sets = sets
                    .into_iter()
                    .enumerate()
                    .map(|(j, s)| build_set(j, s))
                    .collect();
                (Workload::new(format!("w{i}"), "q", sets).unwrap(), spread)
            })
            .collect()
    })
}

fn strategy(spread: bool) -> Placing {
    if spread {
        Placing::Spread
    } else {
        Placing::BinPack
    }
}

fn path(node: &Node, level: &str) -> Option<String> {
    let end = node.topology.iter().position(|(l, _)| l == level)?;
    Some(
        node.topology[..=end]
            .iter()
            .map(|(_, d)| d.as_str())
            .collect::<Vec<_>>()
            .join("/"),
    )
}

/// How many pods asking `req` fit in `free` (many when it asks nothing).
fn max_fit(free: &Resources, req: &Resources) -> u64 {
    req.iter()
        .map(|(r, q)| u64::try_from(free.get(r).milli() / q.milli()).unwrap())
        .min()
        .unwrap_or(u64::MAX / 1024)
}

/// Pods of `set` the nodes passing `keep` can hold, by brute force.
fn room(cluster: &Cluster, set: &PodSet, keep: impl Fn(&Node) -> bool) -> u64 {
    cluster
        .nodes()
        .filter(|(n, _)| n.admits(set) && keep(n))
        .map(|(_, free)| max_fit(free, &set.requests))
        .sum()
}

/// Free capacity recomputed from scratch: capacity minus every bound pod.
fn check_accounting(cluster: &Cluster) -> Result<(), TestCaseError> {
    let mut used: BTreeMap<String, Resources> = BTreeMap::new();
    for p in cluster.bound() {
        for (node, take) in p.usage().unwrap() {
            let e = used.entry(node).or_default();
            *e = e.checked_add(&take).unwrap();
        }
    }
    for (node, free) in cluster.nodes() {
        let u = used.remove(&node.name).unwrap_or_default();
        prop_assert!(u.fits(&node.capacity), "node {} over-committed", node.name);
        prop_assert_eq!(&node.capacity.checked_sub(&u).unwrap(), free);
    }
    prop_assert!(used.is_empty());
    Ok(())
}

fn check_placement(
    cluster: &Cluster,
    w: &Workload,
    p: &keelson_sched::Placement,
) -> Result<(), TestCaseError> {
    prop_assert_eq!(&p.workload, &w.name);
    prop_assert_eq!(p.pod_sets.len(), w.pod_sets.len());
    for (set, placed) in w.pod_sets.iter().zip(&p.pod_sets) {
        prop_assert_eq!(&placed.name, &set.name);
        prop_assert_eq!(&placed.requests, &set.requests);
        prop_assert!(placed.count >= set.min_pods() && placed.count <= set.count);
        prop_assert_eq!(placed.nodes.values().sum::<u32>(), placed.count);
        for name in placed.nodes.keys() {
            let node = cluster.node(name).unwrap();
            prop_assert!(node.admits(set), "{} does not admit {}", name, set.name);
        }
        if let Some(TopologyRequest {
            level,
            required: true,
        }) = &set.topology
        {
            let domain = placed.domain.clone();
            prop_assert!(domain.is_some());
            for name in placed.nodes.keys() {
                prop_assert_eq!(path(cluster.node(name).unwrap(), level), domain.clone());
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn placement_keeps_every_invariant(
        nodes in nodes(), jobs in workloads(), order in any::<u64>(),
    ) {
        let mut cluster = Cluster::new(nodes).unwrap();
        let initial = cluster.clone();
        for (w, spread) in &jobs {
            let before = cluster.clone();
            match cluster.place(w, strategy(*spread)) {
                Ok(p) => {
                    check_placement(&cluster, w, &p)?;
                    prop_assert_eq!(cluster.place(w, strategy(*spread)), Ok(p.clone()));
                    cluster.bind(p.clone()).unwrap();
                    check_accounting(&cluster)?;
                    // Release gives back exactly what bind took.
                    cluster.release(&w.name).unwrap();
                    prop_assert_eq!(&cluster, &before);
                    cluster.bind(p.clone()).unwrap();
                    // A second copy binds whole or not at all.
                    let mut copy = p;
                    copy.workload = format!("{}-copy", w.name);
                    let snapshot = cluster.clone();
                    if cluster.bind(copy.clone()).is_ok() {
                        check_accounting(&cluster)?;
                        cluster.release(&copy.workload).unwrap();
                    }
                    prop_assert_eq!(&cluster, &snapshot);
                }
                Err(e) => {
                    prop_assert_eq!(&cluster, &before);
                    prop_assert_eq!(e.workload.clone(), w.name.clone());
                    prop_assert!(e.pod_set.is_some());
                    // A lone set: not even its minimum fits anywhere.
                    if let [set] = w.pod_sets.as_slice() {
                        let count = u64::from(set.min_pods());
                        match &set.topology {
                            None | Some(TopologyRequest { required: false, .. }) => {
                                prop_assert!(room(&cluster, set, |_| true) < count, "{}", e);
                            }
                            Some(TopologyRequest { level, required: true }) => {
                                let domains: Vec<String> =
                                    cluster.nodes().filter_map(|(n, _)| path(n, level)).collect();
                                for d in domains {
                                    let inside =
                                        room(&cluster, set, |n| path(n, level).as_ref() == Some(&d));
                                    prop_assert!(inside < count, "fits in {}: {}", d, e);
                                }
                            }
                        }
                    }
                }
            }
        }
        check_accounting(&cluster)?;
        // Release in an order drawn from `order`.
        let mut names: Vec<String> = cluster.bound().map(|p| p.workload.clone()).collect();
        let mut seed = order;
        while !names.is_empty() {
            let k = usize::try_from(seed % names.len() as u64).unwrap();
            seed = seed.rotate_left(7) ^ 0x9e37_79b9_7f4a_7c15;
            cluster.release(&names.remove(k)).unwrap();
            check_accounting(&cluster)?;
        }
        prop_assert_eq!(cluster, initial);
    }

    /// A single set with a required topology goes into the domain that
    /// fits it with the least GPU left over, ties by path.
    #[test]
    fn required_topology_chooses_the_tightest_domain(
        nodes in nodes(), count in 1u32..=12, gpus in 0u32..=3, rack: bool, spread: bool,
    ) {
        let cluster = Cluster::new(nodes).unwrap();
        let level = if rack { "rack" } else { "block" };
        let mut set = PodSet::new("s", count, res(&[("nvidia.com/gpu", gpus)]));
        set.tolerations.push(Toleration {
            operator: TolerationOperator::Exists,
            ..Default::default()
        });
        set.topology = Some(TopologyRequest { level: level.into(), required: true });
        let w = Workload::new("w", "q", vec![set.clone()]).unwrap();
        let mut fitting: Vec<(i128, String)> = Vec::new();
        let mut domains: Vec<String> =
            cluster.nodes().filter_map(|(n, _)| path(n, level)).collect();
        domains.sort();
        domains.dedup();
        for d in &domains {
            let inside = |n: &Node| path(n, level).as_ref() == Some(d);
            if room(&cluster, &set, inside) >= u64::from(count) {
                let free: i128 = cluster
                    .nodes()
                    .filter(|(n, _)| inside(n))
                    .map(|(_, f)| f.get("nvidia.com/gpu").milli())
                    .sum();
                fitting.push((free, d.clone()));
            }
        }
        fitting.sort();
        match cluster.place(&w, strategy(spread)) {
            Ok(p) => {
                let tightest = fitting.first().map(|f| f.1.clone());
                prop_assert_eq!(p.pod_sets[0].domain.clone(), tightest);
            }
            Err(e) => {
                prop_assert!(fitting.is_empty(), "{}", e);
                let unknown = domains.is_empty();
                prop_assert!(
                    matches!(e.blocker, Blocker::NoSingleDomain { .. }) || unknown,
                    "{}", e
                );
            }
        }
    }
}
