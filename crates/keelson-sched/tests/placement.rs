//! Gang placement scenarios through the public API: strategies,
//! topology, selectors and taints, partial admission, the reasons given
//! for unplaceable gangs, bind/release, and fragmentation on a
//! hand-computed example.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use keelson_sched::{
    Blocker, Cluster, Error, Node, Placement, PodSet, PodSetPlacement, Quantity, Resources,
    Strategy, Taint, TaintEffect, Toleration, TolerationOperator, TopologyRequest, Workload,
};

fn res(pairs: &[(&str, &str)]) -> Resources {
    Resources::parse(pairs.iter().copied()).unwrap()
}

fn gpu_node(name: &str, gpus: &str) -> Node {
    Node::new(name, res(&[("cpu", "64"), ("nvidia.com/gpu", gpus)]))
}

fn workers(count: u32, gpus: &str) -> PodSet {
    PodSet::new(
        "worker",
        count,
        res(&[("cpu", "1"), ("nvidia.com/gpu", gpus)]),
    )
}

fn job(name: &str, sets: Vec<PodSet>) -> Workload {
    Workload::new(name, "q", sets).unwrap()
}

fn nodes_of(cluster: &Cluster, w: &Workload, s: Strategy) -> BTreeMap<String, u32> {
    let p = cluster.place(w, s).unwrap();
    p.pod_sets[0].nodes.clone()
}

fn map(pairs: &[(&str, u32)]) -> BTreeMap<String, u32> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
}

fn gpus_free(cluster: &Cluster, node: &str) -> i128 {
    cluster
        .free(node)
        .unwrap()
        .get("nvidia.com/gpu")
        .units_ceil()
}

#[test]
fn bin_packing_fills_the_fullest_node_and_spreading_the_emptiest() {
    let mut cluster = Cluster::new(vec![
        gpu_node("a", "8"),
        gpu_node("b", "8"),
        gpu_node("c", "8"),
    ])
    .unwrap();
    let four = job("four", vec![workers(4, "1")]);
    assert_eq!(
        nodes_of(&cluster, &four, Strategy::BinPack),
        map(&[("a", 4)])
    );
    assert_eq!(
        nodes_of(&cluster, &four, Strategy::Spread),
        map(&[("a", 2), ("b", 1), ("c", 1)])
    );

    // With a partly used, bin-packing prefers a (fullest that fits) and
    // spreading avoids it.
    let used = cluster
        .place(&job("used", vec![workers(6, "1")]), Strategy::BinPack)
        .unwrap();
    assert_eq!(used.pod_sets[0].nodes, map(&[("a", 6)]));
    cluster.bind(used).unwrap();
    let two = job("two", vec![workers(2, "1")]);
    assert_eq!(
        nodes_of(&cluster, &two, Strategy::BinPack),
        map(&[("a", 2)])
    );
    assert_eq!(
        nodes_of(&cluster, &two, Strategy::Spread),
        map(&[("b", 1), ("c", 1)])
    );
    // Three GPUs do not fit on a (2 free): bin-packing takes the next
    // fullest, b, whole nodes being equal, by name.
    let three = job("three", vec![workers(1, "3")]);
    assert_eq!(
        nodes_of(&cluster, &three, Strategy::BinPack),
        map(&[("b", 1)])
    );
}

#[test]
fn bin_packing_leaves_whole_nodes_free_where_spreading_does_not() {
    let cluster = Cluster::new((0..4).map(|i| gpu_node(&format!("n{i}"), "8")).collect()).unwrap();
    let small = job("small", vec![workers(8, "1")]);
    let big = job("big", vec![workers(1, "8")]);
    for (strategy, big_fits) in [(Strategy::BinPack, true), (Strategy::Spread, false)] {
        let mut c = cluster.clone();
        c.bind(c.place(&small, strategy).unwrap()).unwrap();
        c.bind(c.place(&small.clone_named("small-2"), strategy).unwrap())
            .unwrap();
        c.bind(c.place(&small.clone_named("small-3"), strategy).unwrap())
            .unwrap();
        // 24 of 32 GPUs used: bin-packing left one node whole.
        assert_eq!(c.place(&big, strategy).is_ok(), big_fits, "{strategy:?}");
        let f = c
            .fragmentation(&[(res(&[("nvidia.com/gpu", "8")]), 1.0)])
            .unwrap();
        assert_eq!(f.free, 8.0);
        assert_eq!(f.unusable, if big_fits { 0.0 } else { 8.0 });
    }
}

trait CloneNamed {
    fn clone_named(&self, name: &str) -> Workload;
}

impl CloneNamed for Workload {
    fn clone_named(&self, name: &str) -> Workload {
        let mut w = self.clone();
        w.name = name.to_owned();
        w
    }
}

fn racked(name: &str, block: &str, rack: &str) -> Node {
    gpu_node(name, "8").with_topology([("block", block), ("rack", rack)])
}

/// Rack b1/r1: 2 nodes (16 GPUs); rack b1/r2: 4 nodes (32 GPUs).
fn two_racks() -> Cluster {
    Cluster::new(vec![
        racked("n1", "b1", "r1"),
        racked("n2", "b1", "r1"),
        racked("n3", "b1", "r2"),
        racked("n4", "b1", "r2"),
        racked("n5", "b1", "r2"),
        racked("n6", "b1", "r2"),
    ])
    .unwrap()
}

fn topo(mut set: PodSet, level: &str, required: bool) -> PodSet {
    set.topology = Some(TopologyRequest {
        level: level.into(),
        required,
    });
    set
}

#[test]
fn required_topology_takes_the_domain_with_least_left_over() {
    let cluster = two_racks();
    for strategy in [Strategy::BinPack, Strategy::Spread] {
        let twelve = job("twelve", vec![topo(workers(12, "1"), "rack", true)]);
        let p = cluster.place(&twelve, strategy).unwrap();
        assert_eq!(p.pod_sets[0].domain.as_deref(), Some("b1/r1"));
        assert!(p.pod_sets[0].nodes.keys().all(|n| n == "n1" || n == "n2"));

        let twenty = job("twenty", vec![topo(workers(20, "1"), "rack", true)]);
        let p = cluster.place(&twenty, strategy).unwrap();
        assert_eq!(p.pod_sets[0].domain.as_deref(), Some("b1/r2"));
        assert_eq!(p.pod_sets[0].nodes.values().sum::<u32>(), 20);
    }
    let forty = job("forty", vec![topo(workers(40, "1"), "rack", true)]);
    let err = cluster.place(&forty, Strategy::BinPack).unwrap_err();
    assert_eq!(err.pod_set.as_deref(), Some("worker"));
    assert_eq!(
        err.blocker,
        Blocker::NoSingleDomain {
            level: "rack".into(),
            most: 32,
            wanted: 40
        }
    );
    assert_eq!(
        err.to_string(),
        "workload forty, pod set worker: no single rack has room for 40 pods (at most 32 fit in one)"
    );
    // The block holds both racks.
    let in_block = job("block", vec![topo(workers(40, "1"), "block", true)]);
    let p = cluster.place(&in_block, Strategy::BinPack).unwrap();
    assert_eq!(p.pod_sets[0].domain.as_deref(), Some("b1"));
}

#[test]
fn preferred_topology_uses_one_domain_when_it_can_and_few_otherwise() {
    let cluster = two_racks();
    let twelve = job("twelve", vec![topo(workers(12, "1"), "rack", false)]);
    let p = cluster.place(&twelve, Strategy::Spread).unwrap();
    assert_eq!(p.pod_sets[0].domain.as_deref(), Some("b1/r1"));

    // 40 pods: the freest rack (r2, 32) is filled, 8 spill into r1.
    let forty = job("forty", vec![topo(workers(40, "1"), "rack", false)]);
    let p = cluster.place(&forty, Strategy::BinPack).unwrap();
    let set = &p.pod_sets[0];
    assert_eq!(set.domain, None);
    let in_r1: u32 = ["n1", "n2"].iter().filter_map(|n| set.nodes.get(*n)).sum();
    assert_eq!(in_r1, 8);
    assert_eq!(set.nodes.values().sum::<u32>(), 40);

    let too_many = job("fifty", vec![topo(workers(50, "1"), "rack", false)]);
    let err = cluster.place(&too_many, Strategy::BinPack).unwrap_err();
    assert!(matches!(
        err.blocker,
        Blocker::Capacity { ref resource, placed: 48, wanted: 50, .. } if resource == "nvidia.com/gpu"
    ));
}

#[test]
fn racks_of_the_same_name_in_two_blocks_are_two_domains() {
    let cluster = Cluster::new(vec![racked("a", "b1", "r1"), racked("b", "b2", "r1")]).unwrap();
    let ten = job("ten", vec![topo(workers(10, "1"), "rack", true)]);
    let err = cluster.place(&ten, Strategy::BinPack).unwrap_err();
    assert!(matches!(
        err.blocker,
        Blocker::NoSingleDomain { most: 8, .. }
    ));
    let unknown = job("u", vec![topo(workers(1, "1"), "zone", true)]);
    assert_eq!(
        cluster
            .place(&unknown, Strategy::BinPack)
            .unwrap_err()
            .blocker,
        Blocker::UnknownLevel {
            level: "zone".into()
        }
    );
    // Preferred at an unknown level is no constraint.
    let preferred = job("p", vec![topo(workers(10, "1"), "zone", false)]);
    assert!(cluster.place(&preferred, Strategy::BinPack).is_ok());
}

#[test]
fn taints_and_selectors_are_honoured() {
    let taint = Taint {
        key: "dedicated".into(),
        value: "training".into(),
        effect: TaintEffect::NoSchedule,
    };
    let soft = Taint {
        key: "spot".into(),
        value: String::new(),
        effect: TaintEffect::PreferNoSchedule,
    };
    let cluster = Cluster::new(vec![
        gpu_node("h100-a", "8")
            .with_label("gpu-model", "h100")
            .with_taint(taint.clone()),
        gpu_node("a100-a", "8")
            .with_label("gpu-model", "a100")
            .with_taint(soft),
    ])
    .unwrap();
    let mut h100 = workers(4, "1");
    h100.node_selector.insert("gpu-model".into(), "h100".into());
    let untolerated = job("j", vec![h100.clone()]);
    let err = cluster.place(&untolerated, Strategy::BinPack).unwrap_err();
    assert_eq!(err.blocker, Blocker::NoMatchingNode);
    assert!(err.to_string().contains("pod set worker"));

    h100.tolerations.push(Toleration {
        key: "dedicated".into(),
        operator: TolerationOperator::Exists,
        ..Default::default()
    });
    let tolerated = job("j", vec![h100]);
    assert_eq!(
        nodes_of(&cluster, &tolerated, Strategy::BinPack),
        map(&[("h100-a", 4)])
    );
    // No selector and no toleration: only the softly tainted node.
    let any = job("k", vec![workers(12, "1")]);
    let err = cluster.place(&any, Strategy::Spread).unwrap_err();
    assert!(matches!(err.blocker, Blocker::Capacity { placed: 8, .. }));
}

#[test]
fn capacity_reasons_name_the_resource_and_the_amount() {
    let cluster = Cluster::new(vec![
        gpu_node("a", "3"),
        gpu_node("b", "3"),
        gpu_node("c", "3"),
    ])
    .unwrap();
    // 9 GPUs free, 12 asked: short by 3.
    let short = job("short", vec![workers(3, "4")]);
    let err = cluster.place(&short, Strategy::BinPack).unwrap_err();
    assert_eq!(
        err.blocker,
        Blocker::Capacity {
            resource: "nvidia.com/gpu".into(),
            needed: Quantity::from_units(12),
            free: Quantity::from_units(9),
            placed: 0,
            wanted: 3,
        }
    );
    assert_eq!(
        err.to_string(),
        "workload short, pod set worker: 0 of 3 pods fit; the other 3 need nvidia.com/gpu 12, \
         matching nodes have 9 free (short by 3)"
    );
    // 9 GPUs free, 8 asked, but no node has 4.
    let fragmented = job("frag", vec![workers(2, "4")]);
    let err = cluster.place(&fragmented, Strategy::BinPack).unwrap_err();
    assert!(
        err.to_string().ends_with("in pieces too small for one pod"),
        "{err}"
    );
    // Memory, not GPUs, is what runs out.
    let hungry = job(
        "hungry",
        vec![PodSet::new(
            "worker",
            2,
            res(&[("cpu", "40"), ("nvidia.com/gpu", "1")]),
        )],
    );
    let placement = cluster.place(&hungry, Strategy::BinPack).unwrap();
    assert_eq!(placement.pod_sets[0].nodes.len(), 2);
    let err = cluster
        .place(
            &hungry.clone_named("hungrier").with_count(4),
            Strategy::BinPack,
        )
        .unwrap_err();
    assert!(
        matches!(err.blocker, Blocker::Capacity { ref resource, placed: 3, .. } if resource == "cpu")
    );
    // Through `?`, as the crate's error.
    let as_error: Error = err.into();
    assert!(as_error.to_string().contains("hungrier"));
}

trait WithCount {
    fn with_count(self, count: u32) -> Workload;
}

impl WithCount for Workload {
    fn with_count(mut self, count: u32) -> Workload {
        self.pod_sets[0].count = count;
        self
    }
}

#[test]
fn a_gang_is_placed_whole_or_not_at_all() {
    let mut cluster = Cluster::new(vec![gpu_node("a", "8"), gpu_node("b", "8")]).unwrap();
    let launcher = PodSet::new("launcher", 1, res(&[("cpu", "2")]));
    let gang = job("gang", vec![launcher, workers(17, "1")]);
    let before = cluster.clone();
    let err = cluster.place(&gang, Strategy::BinPack).unwrap_err();
    assert_eq!(err.pod_set.as_deref(), Some("worker"));
    assert_eq!(cluster, before);

    let fits = job("fits", vec![gang.pod_sets[0].clone(), workers(16, "1")]);
    let p = cluster.place(&fits, Strategy::BinPack).unwrap();
    assert_eq!(p.pod_sets.len(), 2);
    cluster.bind(p).unwrap();
    assert_eq!(gpus_free(&cluster, "a") + gpus_free(&cluster, "b"), 0);
}

#[test]
fn partial_admission_places_the_largest_count_at_least_min_count() {
    let cluster = Cluster::new(vec![gpu_node("a", "8"), gpu_node("b", "2")]).unwrap();
    let partial = job("p", vec![workers(16, "1").with_min_count(4)]);
    let p = cluster.place(&partial, Strategy::BinPack).unwrap();
    assert_eq!(p.pod_sets[0].count, 10);
    assert_eq!(p.pod_sets[0].nodes, map(&[("a", 8), ("b", 2)]));

    let too_few = job("q", vec![workers(16, "1").with_min_count(11)]);
    let err = cluster.place(&too_few, Strategy::BinPack).unwrap_err();
    assert!(matches!(
        err.blocker,
        Blocker::Capacity {
            placed: 10,
            wanted: 11,
            ..
        }
    ));

    // Two partial sets shrink together; the fixed launcher keeps its pod.
    let gang = job(
        "g",
        vec![
            PodSet::new("launcher", 1, res(&[("nvidia.com/gpu", "2")])),
            PodSet::new("a", 8, res(&[("nvidia.com/gpu", "1")])).with_min_count(2),
            PodSet::new("b", 8, res(&[("nvidia.com/gpu", "1")])).with_min_count(2),
        ],
    );
    let p = cluster.place(&gang, Strategy::BinPack).unwrap();
    let counts: Vec<u32> = p.pod_sets.iter().map(|s| s.count).collect();
    assert_eq!(counts, vec![1, 4, 4]);
}

#[test]
fn bind_and_release_update_free_capacity_and_refuse_bad_calls() {
    let mut cluster = Cluster::new(vec![gpu_node("a", "8"), gpu_node("b", "8")]).unwrap();
    let initial = cluster.clone();
    let first = job("first", vec![workers(6, "1")]);
    let second = job("second", vec![workers(6, "1")]);
    let p1 = cluster.place(&first, Strategy::BinPack).unwrap();
    let p2 = cluster.place(&second, Strategy::BinPack).unwrap();
    assert_eq!(p1.pod_sets[0].nodes, p2.pod_sets[0].nodes);
    cluster.bind(p1.clone()).unwrap();
    assert_eq!(gpus_free(&cluster, "a"), 2);
    assert_eq!(cluster.placement("first"), Some(&p1));

    let err = cluster.bind(p1.clone()).unwrap_err();
    assert_eq!(err.to_string(), "workload first: already bound");
    // Placed before `first` was bound: no longer fits, and nothing changes.
    let snapshot = cluster.clone();
    let err = cluster.bind(p2).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("node a: no room for workload second"),
        "{err}"
    );
    assert_eq!(cluster, snapshot);

    let p2 = cluster.place(&second, Strategy::BinPack).unwrap();
    assert_eq!(p2.pod_sets[0].nodes, map(&[("a", 2), ("b", 4)]));
    cluster.bind(p2).unwrap();
    assert_eq!(cluster.bound().count(), 2);
    assert_eq!(cluster.release("first").unwrap(), p1);
    assert_eq!(
        cluster.release("first").unwrap_err().to_string(),
        "workload first: not bound"
    );
    cluster.release("second").unwrap();
    assert_eq!(cluster, initial);
}

#[test]
fn placement_does_not_depend_on_node_order() {
    let nodes = vec![
        racked("z", "b2", "r1"),
        racked("m", "b1", "r2"),
        racked("a", "b1", "r1"),
        racked("k", "b2", "r2"),
    ];
    let mut reversed = nodes.clone();
    reversed.reverse();
    let one = Cluster::new(nodes).unwrap();
    let two = Cluster::new(reversed).unwrap();
    assert_eq!(one, two);
    let w = job("w", vec![topo(workers(12, "1"), "block", false)]);
    for s in [Strategy::BinPack, Strategy::Spread] {
        assert_eq!(one.place(&w, s), two.place(&w, s));
    }
}

#[test]
fn invalid_clusters_and_workloads_are_refused_by_name() {
    let err = Cluster::new(vec![gpu_node("a", "8"), gpu_node("a", "4")]).unwrap_err();
    assert_eq!(err.to_string(), "node a: given twice");
    assert!(Cluster::with_key_resource(vec![], "not a name!").is_err());
    let cluster = Cluster::new(vec![gpu_node("a", "8")]).unwrap();
    let mut empty = job("e", vec![workers(1, "1")]);
    empty.pod_sets[0].count = 0;
    let err = cluster.place(&empty, Strategy::BinPack).unwrap_err();
    assert_eq!(err.pod_set, None);
    assert!(matches!(err.blocker, Blocker::Invalid { .. }));
    assert!(err.to_string().contains("pod set worker has no pods"));
}

#[test]
fn a_key_resource_other_than_gpus_orders_the_nodes() {
    let cluster = Cluster::with_key_resource(
        vec![
            Node::new("a", res(&[("google.com/tpu", "4")])),
            Node::new("b", res(&[("google.com/tpu", "2")])),
        ],
        "google.com/tpu",
    )
    .unwrap();
    assert_eq!(cluster.key_resource(), "google.com/tpu");
    let one = job(
        "t",
        vec![PodSet::new("w", 1, res(&[("google.com/tpu", "1")]))],
    );
    assert_eq!(
        nodes_of(&cluster, &one, Strategy::BinPack),
        map(&[("b", 1)])
    );
    assert_eq!(nodes_of(&cluster, &one, Strategy::Spread), map(&[("a", 1)]));
}

#[test]
fn pods_without_gpus_spread_round_robin_and_pack_together() {
    let cluster = Cluster::new(vec![gpu_node("a", "8"), gpu_node("b", "8")]).unwrap();
    let cpu = job("cpu", vec![PodSet::new("w", 4, res(&[("cpu", "1")]))]);
    assert_eq!(
        nodes_of(&cluster, &cpu, Strategy::Spread),
        map(&[("a", 2), ("b", 2)])
    );
    assert_eq!(
        nodes_of(&cluster, &cpu, Strategy::BinPack),
        map(&[("a", 4)])
    );
}

/// Free GPUs 8, 3, 1 and 0 after binding; job mix: 1 GPU (weight 1), 4
/// GPUs (weight 1), and 1 GPU with 40 CPUs (weight 2).
/// * 1 GPU: fits wherever a GPU is free → 0 unusable.
/// * 4 GPUs: stranded on the 3- and 1-GPU nodes → 4.
/// * 1 GPU + 40 CPU: the 3-GPU node has 64 − 30 = 34 CPUs → 3 unusable;
///   others fit or have nothing free → 3.
///
/// Expected: (1·0 + 1·4 + 2·3) / 4 = 2.5 of 12 free GPUs.
#[test]
fn fragmentation_on_a_hand_computed_example() {
    let mut cluster = Cluster::new(vec![
        gpu_node("a", "8"),
        gpu_node("b", "8"),
        gpu_node("c", "8"),
        gpu_node("d", "8"),
    ])
    .unwrap();
    let mut bind = |name: &str, node: &str, pods: u32, cpu: &str| {
        let placement = Placement {
            workload: name.into(),
            pod_sets: vec![PodSetPlacement {
                name: "w".into(),
                count: pods,
                requests: res(&[("cpu", cpu), ("nvidia.com/gpu", "1")]),
                domain: None,
                nodes: map(&[(node, pods)]),
            }],
        };
        cluster.bind(placement).unwrap();
    };
    bind("jb", "b", 5, "6");
    bind("jc", "c", 7, "1");
    bind("jd", "d", 8, "1");
    let one = res(&[("nvidia.com/gpu", "1")]);
    let four = res(&[("nvidia.com/gpu", "4")]);
    let wide = res(&[("cpu", "40"), ("nvidia.com/gpu", "1")]);
    let f = cluster
        .fragmentation(&[(one.clone(), 1.0), (four, 1.0), (wide, 2.0)])
        .unwrap();
    assert_eq!(f.free, 12.0);
    assert_eq!(f.unusable, 2.5);
    assert!((f.share - 2.5 / 12.0).abs() < 1e-12);

    let none = cluster
        .fragmentation(&[(res(&[("cpu", "1")]), 1.0)])
        .unwrap();
    assert_eq!(none.unusable, 0.0);
    assert!(cluster.fragmentation(&[]).is_err());
    assert!(cluster.fragmentation(&[(one.clone(), -1.0)]).is_err());
    assert!(cluster.fragmentation(&[(one, f64::NAN)]).is_err());
}
