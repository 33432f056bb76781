//! Two-sample Kolmogorov–Smirnov test, reproducing
//! `scipy.stats.ks_2samp` (statistic, location, sign and p-value).
//!
//! The statistic is the largest gap between the two empirical CDFs,
//! found in one merge-like pass over the sorted samples (O(n + m), on
//! several threads for samples of millions of values), evaluated as scipy
//! does, `i/n - j/m` in floating point, with scipy's tie-breaking for its
//! location.
//!
//! The p-value follows scipy's choice: the exact lattice-path distribution
//! when both samples have at most 10 000 values (`Auto`), otherwise the
//! asymptotic one — for the two-sided test the finite-`n` Kolmogorov
//! distribution at `n = round(n1 n2 / (n1 + n2))`
//! ([`kstwo_sf`]), for one-sided tests scipy's
//! corrected exponential. As in scipy, an exact computation that fails
//! (overflow) falls back to the asymptotic value, and in exact mode the
//! reported statistic is the lattice value `h / lcm(n1, n2)`.

mod bucketed;
mod exact;
mod gap;
pub(crate) mod pieces;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::outcome::TestResult;
use crate::sample::SortedSample;
use crate::special::kstwo_sf;

/// Above this size (of the larger sample) `Auto` switches from the exact to
/// the asymptotic p-value, as scipy does.
const MAX_AUTO_N: usize = 10_000;

/// How the p-value is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KsMethod {
    /// Exact when both samples have at most 10 000 values, else asymptotic.
    #[default]
    Auto,
    /// The exact null distribution (falls back to asymptotic, as scipy
    /// does, when `lcm(n1, n2)` is too large or the computation overflows).
    Exact,
    /// The asymptotic (large-sample) distribution.
    Asymptotic,
}

/// The alternative hypothesis, in scipy's terms (`F` is the reference's
/// CDF, `G` the current sample's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Alternative {
    /// `F != G`; statistic `max |F - G|`.
    #[default]
    TwoSided,
    /// `F < G` somewhere; statistic `max (G - F)`.
    Less,
    /// `F > G` somewhere; statistic `max (F - G)`.
    Greater,
}

/// Full result of [`ks_2samp_with`], matching scipy's `KstestResult`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct KsResult {
    /// The KS statistic `D`.
    pub statistic: f64,
    /// The p-value.
    pub pvalue: f64,
    /// The value (from either sample) at which the ECDF gap is attained.
    pub statistic_location: f64,
    /// +1 if the reference's ECDF is above the current's there, -1 if below.
    pub statistic_sign: i8,
    /// The method that produced the p-value (`Exact` or `Asymptotic`).
    pub method: KsMethod,
}

impl KsResult {
    /// The statistic and p-value as a [`TestResult`].
    pub fn test_result(&self) -> TestResult {
        TestResult::test(self.statistic, self.pvalue)
    }
}

/// Two-sided two-sample KS test (`scipy.stats.ks_2samp(reference, current,
/// method=...)`).
///
/// # Errors
/// [`Error::Empty`] if either sample is empty.
pub fn ks_2samp(
    reference: &SortedSample,
    current: &SortedSample,
    method: KsMethod,
) -> Result<TestResult> {
    ks_2samp_with(reference, current, method, Alternative::TwoSided).map(|r| r.test_result())
}

/// Two-sample KS test with the alternative chosen, returning the location
/// and sign of the statistic as well.
///
/// # Errors
/// [`Error::Empty`] if either sample is empty; [`Error::InvalidParameter`]
/// if the product of the sample sizes exceeds `2^62`.
pub fn ks_2samp_with(
    reference: &SortedSample,
    current: &SortedSample,
    method: KsMethod,
    alternative: Alternative,
) -> Result<KsResult> {
    let a = reference.require_non_empty("reference")?;
    let b = current.require_non_empty("current")?;
    check_sizes(a.len(), b.len())?;
    Ok(finish(
        gap::ecdf_extremes(a, b),
        a.len() as u64,
        b.len() as u64,
        method,
        alternative,
    ))
}

/// [`ks_2samp_with`] on samples in any order, without sorting them first.
///
/// Both samples are bucketed by the leading bits of their values and only
/// the buckets where the largest gap between the ECDFs can fall are
/// refined and sorted, so a test on two large samples that really differ
/// costs little more than two counting passes. The result is identical to
/// sorting both samples and calling [`ks_2samp_with`], ties and location
/// included (`-0.0` and `0.0` count as one value, as in scipy; the
/// location of such a tie is reported as `0.0`). When the two samples have
/// the same distribution every bucket may hold the maximum, and the cost
/// approaches that of a radix sort.
///
/// ```
/// use keelson_drift::ks::{Alternative, KsMethod, ks_2samp_unsorted};
///
/// let reference = [0.3, 0.1, 0.4, 0.15, 0.9, 0.26];
/// let current = [1.5, 0.35, 2.8, 0.97, 1.9, 1.2];
/// let r = ks_2samp_unsorted(&reference, &current, KsMethod::Auto, Alternative::TwoSided)?;
/// assert_eq!(r.statistic, 5.0 / 6.0);
/// assert_eq!(r.statistic_location, 0.9);
/// # Ok::<(), keelson_drift::Error>(())
/// ```
///
/// # Errors
/// [`Error::Empty`] if either sample is empty, [`Error::NaN`] at the first
/// NaN, [`Error::InvalidParameter`] if the product of the sample sizes
/// exceeds `2^62`.
pub fn ks_2samp_unsorted(
    reference: &[f64],
    current: &[f64],
    method: KsMethod,
    alternative: Alternative,
) -> Result<KsResult> {
    for (values, what) in [(reference, "reference"), (current, "current")] {
        if values.is_empty() {
            return Err(Error::Empty {
                what: what.to_string(),
            });
        }
    }
    check_sizes(reference.len(), current.len())?;
    let bucketed = (reference.len().max(current.len()) <= u32::MAX as usize)
        .then(|| bucketed::ecdf_extremes(reference, current))
        .flatten();
    let ext = match bucketed {
        Some(ext) => ext,
        // A NaN, or samples too large for 32-bit bucket counts.
        None => {
            let a = SortedSample::new(reference, "reference")?;
            let b = SortedSample::new(current, "current")?;
            gap::ecdf_extremes(a.values(), b.values())
        }
    };
    Ok(finish(
        ext,
        reference.len() as u64,
        current.len() as u64,
        method,
        alternative,
    ))
}

fn check_sizes(n1: usize, n2: usize) -> Result<()> {
    if n1 as u128 * n2 as u128 > 1 << 62 {
        return Err(Error::invalid(
            "reference",
            "the product of the sample sizes is too large",
        ));
    }
    Ok(())
}

/// The statistic, its location and the p-value from the gap's extremes.
fn finish(
    ext: gap::Extremes,
    n1: u64,
    n2: u64,
    method: KsMethod,
    alternative: Alternative,
) -> KsResult {
    let min_s = (-ext.min.diff).clamp(0.0, 1.0);
    let max_s = ext.max.diff;
    let (mut d, location, sign) = match alternative {
        Alternative::Less => (min_s, ext.min.value, -1),
        Alternative::Greater => (max_s, ext.max.value, 1),
        Alternative::TwoSided if min_s > max_s => (min_s, ext.min.value, -1),
        Alternative::TwoSided => (max_s, ext.max.value, 1),
    };

    let g = gcd(n1, n2);
    let (n1g, n2g) = (n1 / g, n2 / g);
    let mut use_exact = match method {
        KsMethod::Auto => n1.max(n2) <= MAX_AUTO_N as u64,
        KsMethod::Exact => (n1g as f64) < f64::from(i32::MAX) / n2g as f64,
        KsMethod::Asymptotic => false,
    };
    let mut pvalue = f64::NAN;
    if use_exact {
        let lcm = n1g * n2;
        let h = (d * lcm as f64).round_ties_even() as u64;
        d = h as f64 / lcm as f64;
        match exact_pvalue(n1, n2, g, h, alternative) {
            Some(p) => pvalue = p,
            None => use_exact = false,
        }
    }
    if !use_exact {
        pvalue = asymptotic_pvalue(n1 as f64, n2 as f64, d, alternative);
    }
    KsResult {
        statistic: d,
        pvalue: pvalue.clamp(0.0, 1.0),
        statistic_location: location,
        statistic_sign: sign,
        method: if use_exact {
            KsMethod::Exact
        } else {
            KsMethod::Asymptotic
        },
    }
}

/// The exact p-value for the lattice statistic `h / lcm`, or `None` where
/// scipy's exact computation fails.
fn exact_pvalue(n1: u64, n2: u64, g: u64, h: u64, alternative: Alternative) -> Option<f64> {
    if h == 0 {
        return Some(1.0);
    }
    let p = match alternative {
        Alternative::TwoSided if n1 == n2 => exact::prob_outside_square(n1, h),
        Alternative::TwoSided => exact::outer_prob_inside(n1, n2, g, h)?,
        _ if n1 == n2 => exact::one_sided_equal(n1, h),
        _ => exact::one_sided_unequal(n1, n2, g, h)?,
    };
    (0.0..=1.0).contains(&p).then_some(p)
}

/// scipy's asymptotic p-value: `kstwo.sf(d, round(n1 n2/(n1 + n2)))` for
/// the two-sided test, `exp(-2z² - 2z(m + 2n)/(3√(mn(m+n))))`,
/// `z = d √(mn/(m+n))`, for one-sided tests (`m >= n`).
fn asymptotic_pvalue(n1: f64, n2: f64, d: f64, alternative: Alternative) -> f64 {
    let (m, n) = if n1 >= n2 { (n1, n2) } else { (n2, n1) };
    let en = m * n / (m + n);
    match alternative {
        Alternative::TwoSided => {
            let size = en.round_ties_even();
            if size < 1.0 {
                return f64::NAN;
            }
            kstwo_sf(size as u64, d)
        }
        _ => {
            let z = en.sqrt() * d;
            let expt =
                -2.0 * z.powf(2.0) - 2.0 * z * (m + 2.0 * n) / (m * n * (m + n)).sqrt() / 3.0;
            expt.exp()
        }
    }
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::sample;

    #[test]
    fn exact_path_counts_match_scipy() {
        // scipy.stats._stats_py._compute_prob_outside_square(n, h),
        // scipy.stats._stats_pythran._compute_outer_prob_inside_method(m, n, g, h),
        // _count_paths_outside_method(30, 17, 1, 200) / special.binom(47, 17)
        assert_eq!(exact::prob_outside_square(50, 12), 0.11238524845512393);
        assert_eq!(exact::prob_outside_square(1, 1), 1.0);
        assert_eq!(
            exact::outer_prob_inside(30, 17, 1, 200),
            Some(0.04852066690403172)
        );
        assert_eq!(
            exact::outer_prob_inside(400, 300, 100, 60),
            Some(0.7679295633969827)
        );
        let p = exact::one_sided_unequal(30, 17, 1, 200).unwrap_or(f64::NAN);
        assert!((p - 0.024260413730504506).abs() < 1e-15);
    }

    #[test]
    fn location_sign_and_ties_follow_scipy() {
        // r = stats.ks_2samp([1, 2, 2, 3, 5], [0, 2, 2, 4, 4.5, 6], alternative=a, method=m)
        // -> (statistic, pvalue, statistic_location, statistic_sign)
        let (x, y) = (
            sample(&[1.0, 2.0, 2.0, 3.0, 5.0]),
            sample(&[0.0, 2.0, 2.0, 4.0, 4.5, 6.0]),
        );
        let cases = [
            (
                Alternative::TwoSided,
                KsMethod::Exact,
                0.3,
                0.8961038961038962,
                3.0,
                1,
            ),
            (
                Alternative::TwoSided,
                KsMethod::Asymptotic,
                0.30000000000000004,
                0.8862222222222221,
                3.0,
                1,
            ),
            (
                Alternative::Less,
                KsMethod::Exact,
                0.16666666666666666,
                0.8051948051948052,
                0.0,
                -1,
            ),
            (
                Alternative::Less,
                KsMethod::Asymptotic,
                0.16666666666666666,
                0.731153896157336,
                0.0,
                -1,
            ),
            (
                Alternative::Greater,
                KsMethod::Exact,
                0.3,
                0.5086580086580087,
                3.0,
                1,
            ),
            (
                Alternative::Greater,
                KsMethod::Asymptotic,
                0.30000000000000004,
                0.45757330306700855,
                3.0,
                1,
            ),
        ];
        for (alt, method, d, p, location, sign) in cases {
            let r = ks_2samp_with(&x, &y, method, alt).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(
                (r.statistic, r.statistic_location, r.statistic_sign),
                (d, location, sign),
                "{alt:?} {method:?}"
            );
            assert!(
                (r.pvalue - p).abs() <= 1e-15 * p,
                "{alt:?} {method:?}: {} vs {p}",
                r.pvalue
            );
            assert_eq!(r.method, method);
        }
    }

    #[test]
    fn degenerate_sizes() {
        // stats.ks_2samp([1.0], [2.0], method="asymp"): round(1/2) = 0 -> NaN
        let (x, y) = (sample(&[1.0]), sample(&[2.0]));
        let r = ks_2samp_with(&x, &y, KsMethod::Asymptotic, Alternative::TwoSided)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.statistic, 1.0);
        assert!(r.pvalue.is_nan());
        let r = ks_2samp(&x, &y, KsMethod::Exact).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.pvalue, Some(1.0));
        let empty = sample(&[]);
        assert!(matches!(
            ks_2samp(&empty, &y, KsMethod::Auto),
            Err(Error::Empty { .. })
        ));
    }
}
