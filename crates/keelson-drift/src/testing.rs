//! Helpers shared by the unit tests of the statistics modules.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::sample::SortedSample;

/// Sort test values; the tests' inputs are NaN-free.
pub(crate) fn sample(values: &[f64]) -> SortedSample {
    SortedSample::new(values, "test").unwrap()
}

/// `actual` equals `expected` to a relative `rtol`.
pub(crate) fn close(actual: f64, expected: f64, rtol: f64) -> bool {
    actual == expected || (actual - expected).abs() <= rtol * expected.abs()
}

/// Relative difference of `a` from `b` (0 when equal).
pub(crate) fn rel(a: f64, b: f64) -> f64 {
    if a == b { 0.0 } else { (a - b).abs() / b.abs() }
}
