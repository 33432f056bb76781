//! Cost of deciding where a gang goes: `Cluster::place` for a 64-pod ×
//! 1-GPU gang (bin-packing, spreading, a required rack, a preferred block)
//! and an 8-pod × 8-GPU gang on clusters of 1,000 and 10,000 8-GPU nodes
//! (32 nodes a rack, 8 racks a block) that are already partly used, and
//! one place + bind + release round. See docs/BENCHMARKS.md for the
//! numbers and the machine.

// criterion_group! defines undocumented functions; a bench has no public API.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use keelson_sched::{
    Cluster, Node, Placement, PodSet, PodSetPlacement, Resources, Strategy, TopologyRequest,
    Workload,
};

/// `n` nodes, with 0–8 GPUs (and 12 CPUs per GPU) already taken on each
/// in a fixed scattered pattern, so the free-GPU index has every key.
fn cluster(n: usize) -> Cluster {
    let capacity = Resources::parse([("cpu", "96"), ("nvidia.com/gpu", "8")]).unwrap();
    let nodes = (0..n)
        .map(|i| {
            let (block, rack) = (format!("b{}", i / 256), format!("r{}", i / 32));
            Node::new(format!("node-{i:05}"), capacity.clone())
                .with_topology([("block", block.as_str()), ("rack", rack.as_str())])
        })
        .collect();
    let mut cluster = Cluster::new(nodes).unwrap();
    let used: BTreeMap<String, u32> = (0..n)
        .filter_map(|i| {
            let pods = u32::try_from((i * 7919) % 9).unwrap();
            (pods > 0).then(|| (format!("node-{i:05}"), pods))
        })
        .collect();
    let count = used.values().sum();
    cluster
        .bind(Placement {
            workload: "background".into(),
            pod_sets: vec![PodSetPlacement {
                name: "pods".into(),
                count,
                requests: Resources::parse([("cpu", "12"), ("nvidia.com/gpu", "1")]).unwrap(),
                domain: None,
                nodes: used,
            }],
        })
        .unwrap();
    cluster
}

fn gang(pods: u32, gpus: &str, topology: Option<(&str, bool)>) -> Workload {
    let mut set = PodSet::new(
        "worker",
        pods,
        Resources::parse([("cpu", "8"), ("nvidia.com/gpu", gpus)]).unwrap(),
    );
    set.topology = topology.map(|(level, required)| TopologyRequest {
        level: level.into(),
        required,
    });
    Workload::new("gang", "q", vec![set]).unwrap()
}

fn place(c: &mut Criterion) {
    let cases = [
        ("64x1gpu_binpack", gang(64, "1", None), Strategy::BinPack),
        ("64x1gpu_spread", gang(64, "1", None), Strategy::Spread),
        (
            "64x1gpu_rack_required",
            gang(64, "1", Some(("rack", true))),
            Strategy::BinPack,
        ),
        (
            "64x1gpu_block_preferred",
            gang(64, "1", Some(("block", false))),
            Strategy::BinPack,
        ),
        ("8x8gpu_binpack", gang(8, "8", None), Strategy::BinPack),
    ];
    for n in [1_000, 10_000] {
        let cluster = cluster(n);
        let mut group = c.benchmark_group(format!("placement/{n}_nodes"));
        group.sample_size(30);
        for (name, workload, strategy) in &cases {
            group.throughput(Throughput::Elements(u64::from(workload.pod_sets[0].count)));
            // Check once that the case places, so the bench times success.
            assert!(cluster.place(workload, *strategy).is_ok(), "{name}");
            group.bench_with_input(BenchmarkId::new("place", name), workload, |b, w| {
                b.iter(|| cluster.place(w, *strategy).unwrap())
            });
        }
        let workload = &cases[0].1;
        let mut working = cluster.clone();
        group.bench_function("place_bind_release/64x1gpu_binpack", |b| {
            b.iter(|| {
                let p = working.place(workload, Strategy::BinPack).unwrap();
                working.bind(p).unwrap();
                working.release("gang").unwrap()
            })
        });
        group.finish();
    }
}

criterion_group!(benches, place);
criterion_main!(benches);
