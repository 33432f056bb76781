//! Criterion benches of the main drift statistics at n = 1e5 per side.
//! `cargo bench -p keelson-drift`; the anchor comparison table comes from
//! `cargo run --release --example drift_bench` (see docs/BENCHMARKS.md).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use keelson_drift::SortedSample;
use keelson_drift::categorical::{CategoryCounts, chi2_contingency};
use keelson_drift::column::CategoricalColumn;
use keelson_drift::distance::wasserstein_distance;
use keelson_drift::divergence;
use keelson_drift::histogram::{Binning, histogram};
use keelson_drift::ks::{KsMethod, ks_2samp};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

const N: usize = 100_000;

fn normal(shift: f64, seed: u64) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..N)
        .map(|_| StandardNormal.sample(&mut rng))
        .map(|x: f64| x + shift)
        .collect()
}

fn bench(c: &mut Criterion) {
    let (r, cur) = (normal(0.0, 1), normal(0.05, 2));
    let sorted = |v: &[f64]| SortedSample::new(v, "bench").unwrap();
    c.bench_function("sort 1e5", |b| b.iter(|| sorted(black_box(&r))));
    c.bench_function("ks_2samp asymp 1e5 (with sort)", |b| {
        b.iter(|| ks_2samp(&sorted(&r), &sorted(&cur), KsMethod::Asymptotic).unwrap())
    });
    let (sr, sc) = (sorted(&r), sorted(&cur));
    c.bench_function("ks_2samp asymp 1e5 (sorted)", |b| {
        b.iter(|| ks_2samp(&sr, &sc, KsMethod::Asymptotic).unwrap())
    });
    c.bench_function("wasserstein 1e5 (sorted)", |b| {
        b.iter(|| wasserstein_distance(&sr, &sc).unwrap())
    });
    c.bench_function("psi quantile10 1e5 (sorted)", |b| {
        b.iter(|| {
            let h = histogram(&sr, &sc, &Binning::ReferenceQuantiles { bins: 10 }).unwrap();
            divergence::psi(&h.reference_proportions(), &h.current_proportions(), 1e-4).unwrap()
        })
    });
    c.bench_function("jensenshannon hist100 1e5 (sorted)", |b| {
        b.iter(|| {
            let h = histogram(&sr, &sc, &Binning::EqualWidth { bins: 100 }).unwrap();
            divergence::jensen_shannon(
                &h.reference_proportions(),
                &h.current_proportions(),
                Some(2.0),
            )
            .unwrap()
        })
    });
    let codes: Vec<i64> = r.iter().map(|x| (x.abs() * 7.0) as i64 % 20).collect();
    let codes_cur: Vec<i64> = cur.iter().map(|x| (x.abs() * 7.0) as i64 % 20).collect();
    let (ra, ca) = (
        arrow::array::Int64Array::from(codes),
        arrow::array::Int64Array::from(codes_cur),
    );
    c.bench_function("chi2 20 categories from Int64Array 1e5", |b| {
        b.iter(|| {
            let rc = CategoricalColumn::from_array("r", &ra).unwrap();
            let cc = CategoricalColumn::from_array("c", &ca).unwrap();
            chi2_contingency(
                &CategoryCounts::from_counts(rc.categories, cc.categories),
                false,
            )
            .unwrap()
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
