//! `ks_2samp_unsorted` gives exactly what sorting both samples and calling
//! `ks_2samp_with` gives: statistic, location, sign and p-value, for every
//! alternative, on samples large enough to be bucketed and refined, with
//! ties, signed zeros, infinities and shifted or identical distributions.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use keelson_drift::Error;
use keelson_drift::SortedSample;
use keelson_drift::ks::{Alternative, KsMethod, KsResult, ks_2samp_unsorted, ks_2samp_with};
use proptest::prelude::*;

use common::{normalish, stream};

fn sorted_path(x: &[f64], y: &[f64], method: KsMethod, alt: Alternative) -> KsResult {
    let (sx, sy) = (
        SortedSample::new(x, "x").unwrap(),
        SortedSample::new(y, "y").unwrap(),
    );
    ks_2samp_with(&sx, &sy, method, alt).unwrap()
}

fn assert_same(x: &[f64], y: &[f64]) {
    for alt in [
        Alternative::TwoSided,
        Alternative::Less,
        Alternative::Greater,
    ] {
        for method in [KsMethod::Auto, KsMethod::Asymptotic] {
            let want = sorted_path(x, y, method, alt);
            let got = ks_2samp_unsorted(x, y, method, alt).unwrap();
            assert_eq!(
                got.statistic.to_bits(),
                want.statistic.to_bits(),
                "{alt:?} {method:?}"
            );
            assert_eq!(
                got.pvalue.to_bits(),
                want.pvalue.to_bits(),
                "{alt:?} {method:?}"
            );
            // -0.0 and 0.0 are one value; compare numerically.
            assert_eq!(
                got.statistic_location, want.statistic_location,
                "{alt:?} {method:?}"
            );
            assert_eq!(
                got.statistic_sign, want.statistic_sign,
                "{alt:?} {method:?}"
            );
            assert_eq!(got.method, want.method);
        }
    }
}

#[test]
fn shifted_samples_of_many_sizes() {
    for (n, m, shift) in [
        (300, 500, 0.05),
        (5_000, 7_000, 0.02),
        (20_000, 20_000, 0.01),
        (60_000, 40_000, 0.3),
        (100_000, 3, 0.0),
    ] {
        assert_same(&normalish(n, 0.0, 1), &normalish(m, shift, 2));
    }
}

#[test]
fn same_distribution_refines_everything() {
    let x = normalish(30_000, 0.0, 3);
    let y = normalish(30_000, 0.0, 4);
    assert_same(&x, &y);
    assert_same(&x, &x);
    let mut reversed = x.clone();
    reversed.reverse();
    assert_same(&x, &reversed);
}

#[test]
fn heavy_ties_zeros_and_infinities() {
    let mut u = stream(9);
    let pool = [
        f64::NEG_INFINITY,
        -1e300,
        -2.5,
        -0.0,
        0.0,
        5e-324,
        1.0,
        1.0 + f64::EPSILON,
        3.0,
        f64::INFINITY,
    ];
    let x: Vec<f64> = (0..20_000).map(|_| pool[(u() * 10.0) as usize]).collect();
    let y: Vec<f64> = (0..15_000)
        .map(|_| pool[(u() * 9.0) as usize + 1])
        .collect();
    assert_same(&x, &y);
    let constant = vec![2.0; 50_000];
    assert_same(&constant, &y);
    assert_same(&constant, &constant);
}

#[test]
fn values_in_a_narrow_range() {
    // All keys share their leading bits; the digits come from the low bits.
    let mut u = stream(11);
    let x: Vec<f64> = (0..40_000).map(|_| 1000.0 + u() * 1e-9).collect();
    let y: Vec<f64> = (0..40_000).map(|_| 1000.0 + u() * 1.1e-9).collect();
    assert_same(&x, &y);
}

#[test]
fn bad_input_is_named() {
    let ok = [1.0, 2.0];
    let err = ks_2samp_unsorted(&[], &ok, KsMethod::Auto, Alternative::TwoSided).unwrap_err();
    assert!(matches!(err, Error::Empty { ref what } if what == "reference"));
    let err = ks_2samp_unsorted(&ok, &[0.5, f64::NAN], KsMethod::Auto, Alternative::TwoSided)
        .unwrap_err();
    assert!(matches!(err, Error::NaN { ref what, index: 1 } if what == "current"));
    // Large enough to take the bucketed path, where NaN is caught while counting.
    let mut big = normalish(50_000, 0.0, 5);
    big[31_337] = f64::NAN;
    let err = ks_2samp_unsorted(
        &normalish(1_000, 0.0, 6),
        &big,
        KsMethod::Auto,
        Alternative::Less,
    )
    .unwrap_err();
    assert!(matches!(err, Error::NaN { ref what, index: 31_337 } if what == "current"));
}

fn values() -> impl Strategy<Value = Vec<f64>> {
    let value = prop_oneof![
        (-40i32..40).prop_map(|v| f64::from(v) / 8.0),
        -1e3f64..1e3,
        Just(-0.0),
        Just(f64::INFINITY),
    ];
    prop::collection::vec(value, 1..3_000)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn equals_the_sorted_path(x in values(), y in values()) {
        assert_same(&x, &y);
    }
}
