//! Criterion: one admission cycle over 1,000, 10,000 and 100,000 pending
//! workloads (see `common` for the cluster and workloads).

// criterion_group! defines undocumented functions; a bench has no public API.
#![allow(missing_docs)]

mod common;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};

fn cycle(c: &mut Criterion) {
    let mut group = c.benchmark_group("admission_cycle");
    group.sample_size(10);
    for pending in [1_000usize, 10_000, 100_000] {
        let Ok(loaded) = common::loaded(pending) else {
            panic!("benchmark setup is valid");
        };
        group.throughput(Throughput::Elements(pending as u64));
        group.bench_function(format!("{pending}_pending"), |b| {
            // By reference, so dropping the scheduler copy is not timed
            // (only the cycle is; criterion drops the decisions untimed too).
            b.iter_batched_ref(|| loaded.clone(), |s| s.cycle(), BatchSize::LargeInput)
        });
    }
    group.finish();
}

criterion_group!(benches, cycle);
criterion_main!(benches);
