//! Property tests of the mergeable sketches (`sketch`), the MMD test (`mmd`)
//! and PCA reconstruction drift (`pca`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use keelson_drift::SortedSample;
use keelson_drift::distance::wasserstein_distance;
use keelson_drift::mmd::{MmdConfig, MmdEstimator, mmd_permutation_test, mmd_permutation_test_1d};
use keelson_drift::pca::PcaDriftModel;
use keelson_drift::sketch::{MomentState, QuantileSketch, ks_statistic, wasserstein};
use proptest::prelude::*;
use proptest::sample::Index;

/// Values over many magnitudes and both signs, with exact zeros and ties.
fn value() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => -1e3..1e3f64,
        2 => -1e-4..1e-4f64,
        1 => Just(0.0),
        1 => Just(-0.0),
        1 => (-20i32..20).prop_map(|i| i as f64 * 0.25),
        1 => -1e120..1e120f64,
    ]
}

/// Any bit pattern, NaNs, infinities and subnormals included.
fn any_value() -> impl Strategy<Value = f64> {
    prop_oneof![3 => value(), 1 => any::<f64>(), 1 => prop::num::f64::SUBNORMAL, 1 => Just(f64::NAN)]
}

fn alpha() -> impl Strategy<Value = f64> {
    prop_oneof![Just(0.1), Just(0.01), Just(0.001), 1e-5..0.9f64]
}

/// Cut `data` at the given points, then order the shards by `keys`.
fn shards<'a>(data: &'a [f64], cuts: &[Index], keys: &[u64]) -> Vec<&'a [f64]> {
    let mut points: Vec<usize> = cuts.iter().map(|c| c.index(data.len() + 1)).collect();
    points.push(0);
    points.push(data.len());
    points.sort_unstable();
    let mut pieces: Vec<(u64, &[f64])> = points
        .windows(2)
        .enumerate()
        .map(|(i, w)| (keys.get(i).copied().unwrap_or(0), &data[w[0]..w[1]]))
        .collect();
    pieces.sort_by_key(|(k, _)| *k);
    pieces.into_iter().map(|(_, p)| p).collect()
}

/// `sup_t |F_a(t) − F_b(t)|` straight from the definition.
fn exact_ks(a: &[f64], b: &[f64]) -> f64 {
    let mut a: Vec<f64> = a.to_vec();
    let mut b: Vec<f64> = b.to_vec();
    a.sort_by(f64::total_cmp);
    b.sort_by(f64::total_cmp);
    let (na, nb) = (a.len() as f64, b.len() as f64);
    let (mut i, mut j, mut d) = (0, 0, 0.0f64);
    while i < a.len() || j < b.len() {
        let t = match (a.get(i), b.get(j)) {
            (Some(&x), Some(&y)) => x.min(y),
            (Some(&x), None) => x,
            (None, Some(&y)) => y,
            (None, None) => break,
        };
        while a.get(i).is_some_and(|&x| x <= t) {
            i += 1;
        }
        while b.get(j).is_some_and(|&y| y <= t) {
            j += 1;
        }
        d = d.max((i as f64 / na - j as f64 / nb).abs());
    }
    d
}

/// `∫ |F_a − F_b|` straight from the definition.
fn exact_wasserstein(a: &[f64], b: &[f64]) -> f64 {
    let mut all: Vec<f64> = a.iter().chain(b).copied().collect();
    all.sort_by(f64::total_cmp);
    let cdf = |s: &[f64], t: f64| s.iter().filter(|&&x| x <= t).count() as f64 / s.len() as f64;
    all.windows(2)
        .map(|w| (cdf(a, w[0]) - cdf(b, w[0])).abs() * (w[1] - w[0]))
        .sum()
}

fn mean_abs(values: &[f64]) -> f64 {
    values.iter().map(|v| v.abs()).sum::<f64>() / values.len() as f64
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn merged_shards_equal_the_whole(
        alpha in alpha(),
        data in prop::collection::vec(any_value(), 0..300),
        cuts in prop::collection::vec(any::<Index>(), 0..6),
        keys in prop::collection::vec(any::<u64>(), 7),
    ) {
        let whole = QuantileSketch::from_slice(alpha, &data).unwrap();
        let mut merged = QuantileSketch::new(alpha).unwrap();
        for shard in shards(&data, &cuts, &keys) {
            let mut part = QuantileSketch::new(alpha).unwrap();
            shard.iter().for_each(|&x| part.insert(x));
            merged.merge(&part).unwrap();
        }
        prop_assert_eq!(&merged, &whole);
        prop_assert_eq!(serde_json::to_string(&merged).unwrap(), serde_json::to_string(&whole).unwrap());
        let back: QuantileSketch = serde_json::from_str(&serde_json::to_string(&whole).unwrap()).unwrap();
        prop_assert_eq!(&back, &whole);
        prop_assert_eq!(whole.count() + whole.nan_count(), data.len() as u64);
        if !whole.is_empty() {
            for q in [0.0, 0.1, 0.5, 0.9, 1.0] {
                prop_assert_eq!(merged.quantile(q).unwrap().to_bits(), whole.quantile(q).unwrap().to_bits());
            }
            let other = QuantileSketch::from_slice(alpha, &[1.0, -2.0, 3.5]).unwrap();
            prop_assert_eq!(ks_statistic(&merged, &other).unwrap(), ks_statistic(&whole, &other).unwrap());
            if whole.infinite_count() == 0 {
                prop_assert_eq!(wasserstein(&merged, &other).unwrap(), wasserstein(&whole, &other).unwrap());
            }
        }
    }

    #[test]
    fn ks_estimate_brackets_the_exact_statistic(
        alpha in alpha(),
        a in prop::collection::vec(value(), 1..200),
        b in prop::collection::vec(value(), 1..200),
    ) {
        let (sa, sb) = (QuantileSketch::from_slice(alpha, &a).unwrap(), QuantileSketch::from_slice(alpha, &b).unwrap());
        let estimate = ks_statistic(&sa, &sb).unwrap();
        let exact = exact_ks(&a, &b);
        prop_assert!(estimate.value <= exact, "{estimate:?} > {exact}");
        prop_assert!(exact <= estimate.value + estimate.error_bound, "{estimate:?} < {exact}");
        prop_assert!(estimate.error_bound >= 0.0);
    }

    #[test]
    fn wasserstein_estimate_is_within_its_bound(
        alpha in alpha(),
        a in prop::collection::vec(value(), 1..200),
        b in prop::collection::vec(value(), 1..200),
    ) {
        let (sa, sb) = (QuantileSketch::from_slice(alpha, &a).unwrap(), QuantileSketch::from_slice(alpha, &b).unwrap());
        let estimate = wasserstein(&sa, &sb).unwrap();
        let exact = exact_wasserstein(&a, &b);
        // The reference's own summation rounding, a few ulps of its value.
        let slack = 1e-12 * exact;
        prop_assert!((estimate.value - exact).abs() <= estimate.error_bound + slack, "{estimate:?} vs {exact}");
        // The stated bound in terms of alpha.
        let alpha_bound = sa.alpha() * (mean_abs(&a) + mean_abs(&b));
        prop_assert!(estimate.error_bound <= alpha_bound * (1.0 + 1e-9) + 1e-12 * estimate.value, "{estimate:?} vs {alpha_bound}");
        let crate_value = wasserstein_distance(
            &SortedSample::new(&a, "reference").unwrap(),
            &SortedSample::new(&b, "current").unwrap(),
        ).unwrap();
        prop_assert!((crate_value - exact).abs() <= 1e-9 * exact.max(1e-300), "{crate_value} vs {exact}");
    }

    #[test]
    fn quantiles_are_within_alpha_of_the_order_statistic(
        alpha in alpha(),
        data in prop::collection::vec(value(), 1..300),
        q in 0.0..=1.0f64,
    ) {
        let sketch = QuantileSketch::from_slice(alpha, &data).unwrap();
        let mut sorted = data.clone();
        sorted.sort_by(f64::total_cmp);
        let rank = (q * (sorted.len() - 1) as f64).floor() as usize;
        let x = sorted[rank];
        let r = sketch.quantile(q).unwrap();
        prop_assert!((r - x).abs() <= sketch.alpha() * x.abs().max(f64::MIN_POSITIVE), "{r} vs {x}");
    }

    #[test]
    fn merged_moments_match_the_whole(
        data in prop::collection::vec(-1e6..1e6f64, 2..300),
        cuts in prop::collection::vec(any::<Index>(), 0..6),
        keys in prop::collection::vec(any::<u64>(), 7),
    ) {
        let whole = MomentState::from_slice(&data);
        let mut merged = MomentState::new();
        for shard in shards(&data, &cuts, &keys) {
            merged.merge(&MomentState::from_slice(shard));
        }
        prop_assert_eq!(merged.count(), whole.count());
        let scale = mean_abs(&data).max(1e-300);
        prop_assert!((merged.mean().unwrap() - whole.mean().unwrap()).abs() <= 1e-12 * scale);
        let (v, w) = (merged.variance(0).unwrap(), whole.variance(0).unwrap());
        prop_assert!((v - w).abs() <= 1e-9 * w + 1e-12 * scale * scale, "{v} vs {w}");
    }
}

fn rows(dim: usize) -> impl Strategy<Value = Vec<Vec<f64>>> {
    prop::collection::vec(prop::collection::vec(-10.0..10.0f64, dim), 2..25)
}

fn reversed<T: Clone>(rows: &[T], rotate: usize) -> Vec<T> {
    let mut out: Vec<T> = rows.iter().rev().cloned().collect();
    let k = rotate % out.len().max(1);
    out.rotate_left(k);
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn mmd_is_symmetric_with_a_fixed_sigma(
        (x, y) in (1usize..4).prop_flat_map(|d| (rows(d), rows(d))),
        sigma in 0.1..10.0f64,
        biased in any::<bool>(),
    ) {
        let estimator = if biased { MmdEstimator::Biased } else { MmdEstimator::Unbiased };
        let config = MmdConfig { sigma: Some(sigma), estimator, permutations: 10, ..MmdConfig::default() };
        let xy = mmd_permutation_test(&x, &y, &config).unwrap();
        let yx = mmd_permutation_test(&y, &x, &config).unwrap();
        prop_assert!((xy.statistic - yx.statistic).abs() <= 1e-12, "{xy:?} {yx:?}");
    }

    #[test]
    fn mmd_of_identical_samples(x in (1usize..4).prop_flat_map(rows)) {
        let biased = MmdConfig { estimator: MmdEstimator::Biased, permutations: 10, ..MmdConfig::default() };
        let r = mmd_permutation_test(&x, &x, &biased).unwrap();
        prop_assert!(r.statistic.abs() <= 1e-12, "{r:?}");
        // The unbiased estimate of identical samples is 4S/(n²(n−1)) − 2/n ≤ 0.
        let unbiased = MmdConfig { permutations: 10, ..MmdConfig::default() };
        let r = mmd_permutation_test(&x, &x, &unbiased).unwrap();
        prop_assert!(r.statistic <= 1e-12, "{r:?}");
    }

    #[test]
    fn mmd_ignores_row_order_and_p_is_a_probability(
        (x, y) in (1usize..4).prop_flat_map(|d| (rows(d), rows(d))),
        rotate in any::<usize>(),
        seed in any::<u64>(),
    ) {
        let config = MmdConfig { seed, permutations: 30, ..MmdConfig::default() };
        let a = mmd_permutation_test(&x, &y, &config).unwrap();
        let b = mmd_permutation_test(&reversed(&x, rotate), &reversed(&y, rotate / 3), &config).unwrap();
        prop_assert!((a.statistic - b.statistic).abs() <= 1e-12 * a.statistic.abs().max(1.0), "{a:?} {b:?}");
        for p in [a.pvalue.unwrap(), b.pvalue.unwrap()] {
            prop_assert!(p > 0.0 && p <= 1.0, "{p}");
        }
        prop_assert_eq!(a, mmd_permutation_test(&x, &y, &config).unwrap());
    }

    #[test]
    fn mmd_1d_agrees_with_rows(
        x in prop::collection::vec(-10.0..10.0f64, 2..30),
        y in prop::collection::vec(-10.0..10.0f64, 2..30),
    ) {
        let config = MmdConfig { permutations: 20, ..MmdConfig::default() };
        let rx: Vec<[f64; 1]> = x.iter().map(|&v| [v]).collect();
        let ry: Vec<[f64; 1]> = y.iter().map(|&v| [v]).collect();
        prop_assert_eq!(mmd_permutation_test_1d(&x, &y, &config).unwrap(), mmd_permutation_test(&rx, &ry, &config).unwrap());
    }

    #[test]
    fn pca_error_ignores_row_order(
        (reference, current) in (2usize..5).prop_flat_map(|d| (
            prop::collection::vec(prop::collection::vec(-10.0..10.0f64, d), 20..60),
            prop::collection::vec(prop::collection::vec(prop_oneof![9 => -10.0..10.0f64, 1 => Just(f64::NAN)], d), 1..40),
        )),
        rotate in any::<usize>(),
    ) {
        let model = PcaDriftModel::fit(&reference).unwrap();
        let a = model.reconstruction_error(&current).unwrap();
        let b = model.reconstruction_error(&reversed(&current, rotate)).unwrap();
        prop_assert!(a >= 0.0);
        prop_assert!((a - b).abs() <= 1e-12 * a.max(1.0), "{a} {b}");
        let refit = PcaDriftModel::fit(&reversed(&reference, 0)).unwrap();
        prop_assert_eq!(refit.n_components(), model.n_components());
        let c = refit.reconstruction_error(&current).unwrap();
        // Standardized data is O(1), so an absolute tolerance covers near-zero errors.
        prop_assert!((a - c).abs() <= 1e-9 * a.max(1.0), "{a} {c}");
    }
}
