//! Kolmogorov–Smirnov and Cramér–von Mises through the public API: scipy's
//! numbers on deterministic inputs of sizes that pick the exact and the
//! asymptotic p-values, and the properties the definitions promise.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use keelson_drift::SortedSample;
use keelson_drift::cvm::{CvmMethod, cramervonmises_2samp};
use keelson_drift::ks::{Alternative, KsMethod, ks_2samp, ks_2samp_with};
use proptest::prelude::*;

/// Inputs both sides can generate bit for bit (integer arithmetic, one division).
fn inputs(n: usize, m: usize, seed: usize) -> (SortedSample, SortedSample) {
    let x: Vec<f64> = (0..n)
        .map(|i| ((i * 7919 + seed * 104_729) % 10_007) as f64 / 1000.0 - 5.0)
        .collect();
    let y: Vec<f64> = (0..m)
        .map(|j| (((j * 7907 + seed * 13) % 10_009) as f64 / 1000.0 - 4.8) * 0.9)
        .collect();
    (
        SortedSample::new(&x, "x").unwrap(),
        SortedSample::new(&y, "y").unwrap(),
    )
}

fn close(got: f64, want: f64, rtol: f64) -> bool {
    got == want || (got - want).abs() <= rtol * want.abs()
}

#[test]
fn match_scipy_on_exact_and_asymptotic_sizes() {
    // (n, m, seed, ks D, ks p (auto), cvm T, cvm p (auto)) from scipy 1.17.1:
    // stats.ks_2samp(x, y), stats.cramervonmises_2samp(x, y) on the inputs above.
    let cases = [
        (
            3,
            4,
            1,
            0.5,
            0.6571428571428571,
            0.15476190476190466,
            0.4857142857142857,
        ),
        (
            30,
            17,
            2,
            0.09803921568627451,
            0.9992210498363862,
            0.01935753024614062,
            0.9998307490648015,
        ),
        (
            100,
            100,
            3,
            0.06,
            0.9942356257694902,
            0.05019999999999669,
            0.8819095996713637,
        ),
        (
            1000,
            700,
            4,
            0.07,
            0.03353608429708718,
            0.46518189075629834,
            0.048882410350874816,
        ),
        (
            12000,
            9000,
            5,
            0.06791666666666667,
            4.5241570099126684e-21,
            5.924309062169414,
            5.72930591857812e-12,
        ),
    ];
    for (n, m, seed, d, p, t, pt) in cases {
        let (x, y) = inputs(n, m, seed);
        let ks = ks_2samp(&x, &y, KsMethod::Auto).unwrap();
        assert!(
            close(ks.statistic, d, 1e-12),
            "ks D {n}x{m}: {} != {d}",
            ks.statistic
        );
        assert!(
            close(ks.pvalue.unwrap(), p, 1e-9),
            "ks p {n}x{m}: {:?} != {p}",
            ks.pvalue
        );
        let cvm = cramervonmises_2samp(&x, &y, CvmMethod::Auto).unwrap();
        assert!(
            close(cvm.statistic, t, 1e-12),
            "cvm T {n}x{m}: {} != {t}",
            cvm.statistic
        );
        assert!(
            close(cvm.pvalue.unwrap(), pt, 1e-9),
            "cvm p {n}x{m}: {:?} != {pt}",
            cvm.pvalue
        );
    }
}

#[test]
fn empty_samples_are_rejected_by_name() {
    let (x, _) = inputs(5, 1, 1);
    let empty = SortedSample::new(&[], "current").unwrap();
    let err = ks_2samp(&x, &empty, KsMethod::Auto)
        .unwrap_err()
        .to_string();
    assert!(err.contains("current"), "{err}");
    assert!(cramervonmises_2samp(&empty, &x, CvmMethod::Auto).is_err());
}

/// At least two values: Cramér–von Mises needs two per sample, as in scipy.
fn sample() -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(
        prop_oneof![(-50i32..50).prop_map(|v| f64::from(v) / 4.0), -1e3f64..1e3],
        2..60,
    )
}

proptest! {
    #[test]
    fn ks_is_symmetric_and_order_free(x in sample(), y in sample(), rot in 0usize..60) {
        let (sx, sy) = (SortedSample::new(&x, "x").unwrap(), SortedSample::new(&y, "y").unwrap());
        let a = ks_2samp(&sx, &sy, KsMethod::Auto).unwrap();
        let b = ks_2samp(&sy, &sx, KsMethod::Auto).unwrap();
        prop_assert_eq!(a.statistic, b.statistic);
        prop_assert!(close(a.pvalue.unwrap(), b.pvalue.unwrap(), 1e-12));
        let p = a.pvalue.unwrap();
        prop_assert!((0.0..=1.0).contains(&p));
        let mut rotated = x.clone();
        rotated.rotate_left(rot % x.len());
        let r = ks_2samp(&SortedSample::new(&rotated, "x").unwrap(), &sy, KsMethod::Auto).unwrap();
        prop_assert_eq!(r, a);
    }

    #[test]
    fn identical_samples_do_not_drift(x in sample()) {
        let s = SortedSample::new(&x, "x").unwrap();
        let ks = ks_2samp(&s, &s, KsMethod::Auto).unwrap();
        prop_assert_eq!(ks.statistic, 0.0);
        prop_assert_eq!(ks.pvalue, Some(1.0));
        let cvm = cramervonmises_2samp(&s, &s, CvmMethod::Asymptotic).unwrap();
        prop_assert!(cvm.pvalue.unwrap() > 0.5);
    }

    #[test]
    fn cvm_is_symmetric(x in sample(), y in sample()) {
        let (sx, sy) = (SortedSample::new(&x, "x").unwrap(), SortedSample::new(&y, "y").unwrap());
        let a = cramervonmises_2samp(&sx, &sy, CvmMethod::Auto).unwrap();
        let b = cramervonmises_2samp(&sy, &sx, CvmMethod::Auto).unwrap();
        prop_assert!(close(a.statistic, b.statistic, 1e-12));
        prop_assert!(close(a.pvalue.unwrap(), b.pvalue.unwrap(), 1e-9));
    }
}

#[test]
fn auto_switches_to_asymptotic_above_ten_thousand() {
    let (x, y) = inputs(10_000, 300, 6);
    let r = ks_2samp_with(&x, &y, KsMethod::Auto, Alternative::TwoSided).unwrap();
    assert_eq!(r.method, KsMethod::Exact);
    let (x, y) = inputs(10_001, 300, 6);
    let r = ks_2samp_with(&x, &y, KsMethod::Auto, Alternative::TwoSided).unwrap();
    assert_eq!(r.method, KsMethod::Asymptotic);
}

proptest! {
    #[test]
    /// `less` of (x, y) is `greater` of (y, x). The location may differ where
    /// the extreme is attained more than once: scipy prefers the first
    /// sample's values.
    fn one_sided_tests_mirror_each_other(x in sample(), y in sample()) {
        let (sx, sy) = (SortedSample::new(&x, "x").unwrap(), SortedSample::new(&y, "y").unwrap());
        for method in [KsMethod::Exact, KsMethod::Asymptotic] {
            let less = ks_2samp_with(&sx, &sy, method, Alternative::Less).unwrap();
            let greater = ks_2samp_with(&sy, &sx, method, Alternative::Greater).unwrap();
            prop_assert_eq!(less.statistic, greater.statistic);
            prop_assert!(close(less.pvalue, greater.pvalue, 1e-12));
            prop_assert!((0.0..=1.0).contains(&less.pvalue));
            let two = ks_2samp_with(&sx, &sy, method, Alternative::TwoSided).unwrap();
            prop_assert!(two.statistic >= less.statistic && two.statistic >= greater.statistic);
            prop_assert!(x.contains(&two.statistic_location) || y.contains(&two.statistic_location));
        }
    }

    #[test]
    fn cvm_is_order_free_and_bounded(x in sample(), y in sample(), rot in 0usize..60) {
        let (sx, sy) = (SortedSample::new(&x, "x").unwrap(), SortedSample::new(&y, "y").unwrap());
        let mut rotated = y.clone();
        rotated.rotate_left(rot % y.len());
        let sr = SortedSample::new(&rotated, "y").unwrap();
        for method in [CvmMethod::Auto, CvmMethod::Asymptotic] {
            let a = cramervonmises_2samp(&sx, &sy, method).unwrap();
            let b = cramervonmises_2samp(&sx, &sr, method).unwrap();
            prop_assert_eq!(a, b);
            let p = a.pvalue.unwrap();
            prop_assert!((0.0..=1.0).contains(&p));
            prop_assert!(a.statistic > -1e-12);
        }
    }
}
