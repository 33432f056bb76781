//! Two-sample Kolmogorov–Smirnov test, reproducing
//! `scipy.stats.ks_2samp` (statistic, location, sign and p-value).
//!
//! The statistic is the largest gap between the two empirical CDFs,
//! found in one merge-like pass over the sorted samples (O(n + m), see
//! [`gap`]), evaluated as scipy does, `i/n - j/m` in floating point, with
//! scipy's tie-breaking for its location.
//!
//! The p-value follows scipy's choice: the exact lattice-path distribution
//! when both samples have at most 10 000 values (`Auto`), otherwise the
//! asymptotic one — for the two-sided test the finite-`n` Kolmogorov
//! distribution at `n = round(n1 n2 / (n1 + n2))`
//! ([`kstwo_sf`](crate::special::kstwo_sf)), for one-sided tests scipy's
//! corrected exponential. As in scipy, an exact computation that fails
//! (overflow) falls back to the asymptotic value, and in exact mode the
//! reported statistic is the lattice value `h / lcm(n1, n2)`.

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
    let (n1, n2) = (a.len() as u64, b.len() as u64);
    if u128::from(n1) * u128::from(n2) > 1 << 62 {
        return Err(Error::invalid(
            "reference",
            "the product of the sample sizes is too large",
        ));
    }
    let ext = gap::ecdf_extremes(a, b);
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
        KsMethod::Auto => a.len().max(b.len()) <= MAX_AUTO_N,
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
    Ok(KsResult {
        statistic: d,
        pvalue: pvalue.clamp(0.0, 1.0),
        statistic_location: location,
        statistic_sign: sign,
        method: if use_exact {
            KsMethod::Exact
        } else {
            KsMethod::Asymptotic
        },
    })
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
