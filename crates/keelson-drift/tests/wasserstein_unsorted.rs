//! `wasserstein_distance_unsorted` agrees with sorting both samples and
//! calling `wasserstein_distance`: on shifted and identical distributions,
//! heavy ties, large offsets, narrow ranges and heavy tails, and falls back
//! to the sorted path's errors and infinities.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use keelson_drift::distance::{wasserstein_distance, wasserstein_distance_unsorted};
use keelson_drift::{Error, SortedSample};
use proptest::prelude::*;

use common::{normalish, stream};

fn sorted_path(x: &[f64], y: &[f64]) -> f64 {
    wasserstein_distance(
        &SortedSample::new(x, "x").unwrap(),
        &SortedSample::new(y, "y").unwrap(),
    )
    .unwrap()
}

fn assert_close(x: &[f64], y: &[f64]) {
    let want = sorted_path(x, y);
    let got = wasserstein_distance_unsorted(x, y).unwrap();
    let tol = 1e-11 * want.abs().max(f64::MIN_POSITIVE);
    assert!(
        (got - want).abs() <= tol || got == want,
        "unsorted {got:e}, sorted {want:e}, diff {:e}",
        got - want
    );
}

#[test]
fn shifted_and_identical_distributions() {
    for (n, m, shift) in [
        (20_000, 30_000, 0.05),
        (50_000, 50_000, 0.0),
        (40_000, 5_000, 0.3),
        (16_000, 500, 2.0),
    ] {
        assert_close(&normalish(n, 0.0, 1), &normalish(m, shift, 2));
    }
    let x = normalish(30_000, 0.0, 3);
    assert_eq!(wasserstein_distance_unsorted(&x, &x).unwrap(), 0.0);
}

#[test]
fn offsets_ties_and_tails() {
    let base = normalish(30_000, 0.0, 4);
    let far: Vec<f64> = base.iter().map(|x| 1e6 + x * 1e-3).collect();
    let far2: Vec<f64> = normalish(30_000, 0.1, 5)
        .iter()
        .map(|x| 1e6 + x * 1e-3)
        .collect();
    assert_close(&far, &far2);
    let mut u = stream(6);
    let ties: Vec<f64> = (0..40_000).map(|_| (u() * 12.0).floor() - 6.0).collect();
    let ties2: Vec<f64> = (0..30_000).map(|_| (u() * 11.0).floor() - 5.0).collect();
    assert_close(&ties, &ties2);
    let cauchy: Vec<f64> = (0..30_000)
        .map(|_| (std::f64::consts::PI * (u() - 0.5)).tan())
        .collect();
    let cauchy2: Vec<f64> = (0..30_000)
        .map(|_| (std::f64::consts::PI * (u() - 0.5)).tan() * 1.2)
        .collect();
    assert_close(&cauchy, &cauchy2);
    let zeros: Vec<f64> = (0..20_000)
        .map(|i| if i % 2 == 0 { -0.0 } else { 0.0 })
        .collect();
    assert_close(&zeros, &ties2);
}

#[test]
fn errors_and_infinities_follow_the_sorted_path() {
    let mut x = normalish(20_000, 0.0, 7);
    let y = normalish(20_000, 0.0, 8);
    assert!(matches!(
        wasserstein_distance_unsorted(&[], &y),
        Err(Error::Empty { .. })
    ));
    x[12_345] = f64::NAN;
    assert!(matches!(
        wasserstein_distance_unsorted(&x, &y),
        Err(Error::NaN { index: 12_345, .. })
    ));
    x[12_345] = f64::INFINITY;
    let got = wasserstein_distance_unsorted(&x, &y).unwrap();
    assert!(got.is_infinite() || got.is_nan());
    assert_eq!(got.to_bits(), sorted_path(&x, &y).to_bits());
}

fn values() -> impl Strategy<Value = Vec<f64>> {
    let value = prop_oneof![
        (-40i32..40).prop_map(|v| f64::from(v) / 8.0),
        -1e3f64..1e3,
        (-1.0f64..1.0).prop_map(|v| 5e4 + v),
    ];
    prop::collection::vec(value, 1..12_000)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn agrees_with_the_sorted_path(x in values(), y in values()) {
        assert_close(&x, &y);
    }
}
