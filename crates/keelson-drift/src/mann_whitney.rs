//! The Mann–Whitney U (Wilcoxon rank-sum) test, as
//! `scipy.stats.mannwhitneyu(x=reference, y=current, use_continuity=True)`.
//!
//! Ranks come from one linear merge of the two sorted samples: a run of tied
//! values gets the average of the ranks it spans, so the reference's rank sum
//! and the tie correction are accumulated exactly in integers.

use serde::{Deserialize, Serialize};

use crate::distance::TieGroups;
use crate::error::{Error, Result};
use crate::outcome::TestResult;
use crate::sample::SortedSample;
use crate::special::norm_cdf;

/// The alternative hypothesis, about the reference relative to the current
/// sample (scipy's `alternative` with `x = reference`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Alternative {
    /// The distributions differ.
    #[default]
    TwoSided,
    /// The reference is stochastically smaller than the current sample.
    Less,
    /// The reference is stochastically larger than the current sample.
    Greater,
}

/// How the Mann–Whitney p-value is computed (scipy's `method`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MwuMethod {
    /// Exact when a sample has at most 8 values and there are no ties,
    /// asymptotic otherwise (scipy's rule).
    #[default]
    Auto,
    /// The exact null distribution of U, which assumes no ties (with ties the
    /// statistic is truncated to an integer, as scipy does).
    Exact,
    /// The normal approximation with tie correction and continuity correction.
    Asymptotic,
}

/// Above this many probability-table entries (256 MiB of `f64`) the exact
/// distribution is refused instead of exhausting memory.
const MAX_EXACT_ENTRIES: u128 = 1 << 25;

/// Above this many table updates the exact distribution is refused instead
/// of running for minutes; scipy's quadratic recursion would not finish.
const MAX_EXACT_WORK: u128 = 1 << 34;

/// Mann–Whitney U test of `reference` against `current`.
///
/// The statistic is U of the reference (scipy's `U1`): the number of pairs in
/// which the reference value is larger, ties counting one half. `U1 + U2 =
/// n·m`. The p-value of [`Alternative::TwoSided`] is twice the one-sided tail
/// of `max(U1, U2)`, clipped to 1.
///
/// # Errors
/// [`Error::Empty`] if a sample is empty (scipy returns NaN);
/// [`Error::InvalidParameter`] if the exact distribution is requested (or
/// chosen by [`MwuMethod::Auto`] for a sample of at most 8 values) at a size
/// whose table would not fit in 2^25 entries, i.e. more than about 8 million
/// values against 8 — scipy's own computation does not finish there.
pub fn mann_whitney_u(
    reference: &SortedSample,
    current: &SortedSample,
    alternative: Alternative,
    method: MwuMethod,
) -> Result<TestResult> {
    let x = reference.require_non_empty("reference")?;
    let y = current.require_non_empty("current")?;
    let ranks = RankSummary::of(x, y);
    let n1 = x.len() as u128;
    let n2 = y.len() as u128;
    let n1n2 = n1 * n2;
    let u1 = ranks.twice_rank_sum as f64 / 2.0 - (n1 * (n1 + 1)) as f64 / 2.0;
    let u2 = n1n2 as f64 - u1;
    let (u, factor) = match alternative {
        Alternative::Greater => (u1, 1.0),
        Alternative::Less => (u2, 1.0),
        Alternative::TwoSided => (u1.max(u2), 2.0),
    };
    let exact = match method {
        MwuMethod::Exact => true,
        MwuMethod::Asymptotic => false,
        MwuMethod::Auto => (n1 <= 8 || n2 <= 8) && !ranks.has_ties,
    };
    let p = if exact {
        // scipy casts U to int64 here, truncating the half of a tie.
        exact_sf(u as u128, n1, n2)?
    } else {
        let n = n1 + n2;
        let mu = n1n2 as f64 / 2.0;
        let tie_term = ranks.tie_term as f64;
        let s = (n1n2 as f64 / 12.0 * ((n + 1) as f64 - tie_term / (n * (n - 1)) as f64)).sqrt();
        let z = (u - mu - 0.5) / s;
        norm_cdf(-z)
    };
    Ok(TestResult::test(u1, (p * factor).clamp(0.0, 1.0)))
}

/// What the test needs from the ranks of the pooled sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct RankSummary {
    /// Twice the sum of the reference's (average) ranks: an integer.
    twice_rank_sum: u128,
    /// `Σ (t³ − t)` over tie groups of size `t`.
    tie_term: u128,
    /// Whether any value occurs more than once in the pooled sample.
    has_ties: bool,
}

impl RankSummary {
    fn of(x: &[f64], y: &[f64]) -> Self {
        let mut summary = RankSummary {
            twice_rank_sum: 0,
            tie_term: 0,
            has_ties: false,
        };
        let mut below = 0u128;
        for group in TieGroups::new(x, y) {
            let t = (group.in_a + group.in_b) as u128;
            // The group spans ranks below+1 ..= below+t; each member gets their mean.
            summary.twice_rank_sum += group.in_a as u128 * (2 * below + t + 1);
            if t > 1 {
                summary.has_ties = true;
                summary.tie_term += t * t * t - t;
            }
            below += t;
        }
        summary
    }
}

/// P(U ≥ k) under the null for sample sizes `n1`, `n2` with no ties, in
/// scipy's arithmetic: the lower tail is summed from the probability mass
/// function, and the upper tail uses the symmetry `U ↦ n1·n2 − U` when that
/// is the shorter sum.
fn exact_sf(k: u128, n1: u128, n2: u128) -> Result<f64> {
    let complement = (n1 * n2).saturating_sub(k);
    let (index, upper) = if k < complement {
        (k, true)
    } else {
        (complement, false)
    };
    let table = CountTable::up_to(index, n1.min(n2), n1.max(n2))?;
    let mut cdf = 0.0;
    let mut pmf = 0.0;
    for &count in &table.counts {
        pmf = count / table.total;
        cdf += pmf;
    }
    Ok(if upper { 1.0 - cdf + pmf } else { cdf })
}

/// The number of arrangements with `U = u` for `u = 0..=max_u`, and their
/// total `C(n1 + n2, n1)`.
#[derive(Debug, Clone, PartialEq)]
struct CountTable {
    counts: Vec<f64>,
    total: f64,
}

impl CountTable {
    /// The counts are the coefficients of the Gaussian binomial
    /// `[small + big choose small]_q = Π_{i=1..small} (1 − q^(big+i)) / (1 − q^i)`,
    /// built one factor at a time. After factor `i` the table holds the
    /// coefficients of `[big + i choose i]_q`, non-negative integers, so while
    /// they stay below 2^53 every count is exact and the p-value is scipy's to
    /// the last bit. Beyond f64's range the table holds probabilities instead
    /// (each step rescaled by `i / (big + i)`). Both operations only look at
    /// lower powers, so the table can stop at `max_u`.
    fn up_to(max_u: u128, small: u128, big: u128) -> Result<Self> {
        let len = max_u + 1;
        if len > MAX_EXACT_ENTRIES || len.saturating_mul(small) > MAX_EXACT_WORK {
            return Err(Error::invalid(
                "method",
                format!(
                    "the exact Mann-Whitney distribution for sample sizes {small} and {big} \
                     is too large to tabulate; use the asymptotic method"
                ),
            ));
        }
        let total = binomial(small + big, small);
        Ok(Self::tabulate(
            len as usize,
            small,
            big,
            total,
            total >= 1e300,
        ))
    }

    /// The table of `len` entries; `scaled` keeps probabilities rather than
    /// counts (needed once `total` nears the top of f64's range).
    fn tabulate(len: usize, small: u128, big: u128, total: f64, scaled: bool) -> Self {
        let mut counts = vec![0.0f64; len];
        if let Some(first) = counts.first_mut() {
            *first = 1.0;
        }
        for i in 1..=small {
            subtract_shifted(&mut counts, (big + i) as usize);
            add_shifted_running(&mut counts, i as usize);
            if scaled {
                let rescale = i as f64 / (big + i) as f64;
                counts.iter_mut().for_each(|c| *c *= rescale);
            }
        }
        CountTable {
            counts,
            total: if scaled { 1.0 } else { total },
        }
    }
}

/// Multiply the polynomial by `1 − q^shift`: `c[u] −= c[u − shift]`, from the
/// top down in blocks of `shift` so that every block reads a lower block not
/// yet changed.
fn subtract_shifted(coefficients: &mut [f64], shift: usize) {
    let mut end = coefficients.len();
    while end > shift {
        let start = (end - shift).max(shift);
        let (lower, upper) = coefficients.split_at_mut(start);
        let source = lower.get(start - shift..end - shift).unwrap_or_default();
        let target = upper.get_mut(..end - start).unwrap_or_default();
        target.iter_mut().zip(source).for_each(|(c, s)| *c -= s);
        end = start;
    }
}

/// Divide the polynomial by `1 − q^step`, which it is divisible by: the
/// running sum `c[u] += c[u − step]`, from the bottom up in blocks of `step`,
/// each reading the finished block below it.
fn add_shifted_running(coefficients: &mut [f64], step: usize) {
    let mut start = step;
    while start < coefficients.len() {
        let end = (start + step).min(coefficients.len());
        let (lower, upper) = coefficients.split_at_mut(start);
        let source = lower.get(start - step..end - step).unwrap_or_default();
        let target = upper.get_mut(..end - start).unwrap_or_default();
        target.iter_mut().zip(source).for_each(|(c, s)| *c += s);
        start = end;
    }
}

/// `C(n, k)` as scipy's `special.binom` computes it for integer arguments:
/// a running product of `(n − k + i) / i`, renormalised when it grows large.
fn binomial(n: u128, k: u128) -> f64 {
    let k = k.min(n - k);
    let n = n as f64;
    let kf = k as f64;
    let mut num = 1.0f64;
    let mut den = 1.0f64;
    for i in 1..=k {
        num *= i as f64 + n - kf;
        den *= i as f64;
        if num.abs() > 1e50 {
            num /= den;
            den = 1.0;
        }
    }
    num / den
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::testing::{close, sample};

    fn mwu(x: &[f64], y: &[f64], alternative: Alternative, method: MwuMethod) -> TestResult {
        mann_whitney_u(&sample(x), &sample(y), alternative, method).unwrap()
    }

    #[test]
    fn counts_are_gaussian_binomial_coefficients() {
        // [5 choose 2]_q = 1 + q + 2q^2 + 2q^3 + 2q^4 + q^5 + q^6
        let table = CountTable::up_to(6, 2, 3).unwrap();
        assert_eq!(table.counts, vec![1.0, 1.0, 2.0, 2.0, 2.0, 1.0, 1.0]);
        assert_eq!(table.total, 10.0);
    }

    #[test]
    fn exact_small_samples_match_scipy() {
        let x = [0.8, 2.9, 1.7, 4.4, 3.1];
        let y = [0.2, 1.1, 2.3, 0.5, 1.9, 0.9];
        // mannwhitneyu(x, y) -> (24.0, 0.12554112554112554), method exact (auto)
        let r = mwu(&x, &y, Alternative::TwoSided, MwuMethod::Auto);
        assert_eq!(r.statistic, 24.0);
        assert!(
            close(r.pvalue.unwrap(), 0.12554112554112554, 1e-15),
            "{:?}",
            r.pvalue
        );
        // alternative='less' -> 0.9588744588744589 (the 1 - cdf + pmf branch)
        let r = mwu(&x, &y, Alternative::Less, MwuMethod::Auto);
        assert!(
            close(r.pvalue.unwrap(), 0.9588744588744589, 1e-15),
            "{:?}",
            r.pvalue
        );
        // alternative='greater' -> 0.06277056277056277
        let r = mwu(&x, &y, Alternative::Greater, MwuMethod::Auto);
        assert!(
            close(r.pvalue.unwrap(), 0.06277056277056277, 1e-15),
            "{:?}",
            r.pvalue
        );
    }

    #[test]
    fn ties_switch_auto_to_asymptotic() {
        let x = [1.0, 2.0, 2.0, 3.0];
        let y = [2.0, 3.0, 4.0, 5.0, 5.0];
        // mannwhitneyu(x, y) -> (2.5, 0.07854585095119067)
        let r = mwu(&x, &y, Alternative::TwoSided, MwuMethod::Auto);
        assert_eq!(r.statistic, 2.5);
        assert!(
            close(r.pvalue.unwrap(), 0.07854585095119067, 1e-9),
            "{:?}",
            r.pvalue
        );
        // method='exact' truncates U: -> (2.5, 0.1111111111111111)
        let r = mwu(&x, &y, Alternative::TwoSided, MwuMethod::Exact);
        assert!(
            close(r.pvalue.unwrap(), 0.1111111111111111, 1e-15),
            "{:?}",
            r.pvalue
        );
    }

    #[test]
    fn all_tied_gives_one() {
        // mannwhitneyu([1]*50, [1]*40) -> (1000.0, 1.0)
        let r = mwu(
            &[1.0; 50],
            &[1.0; 40],
            Alternative::TwoSided,
            MwuMethod::Auto,
        );
        assert_eq!((r.statistic, r.pvalue), (1000.0, Some(1.0)));
    }

    #[test]
    fn huge_exact_tables_are_refused() {
        let big: Vec<f64> = (0..10_000).map(f64::from).collect();
        let other: Vec<f64> = (0..10_000).map(|i| f64::from(i) + 0.5).collect();
        let r = mann_whitney_u(
            &sample(&big),
            &sample(&other),
            Alternative::TwoSided,
            MwuMethod::Exact,
        );
        assert!(matches!(r, Err(Error::InvalidParameter { .. })), "{r:?}");
    }

    #[test]
    fn blocked_polynomial_steps_match_the_plain_recurrences() {
        let start: Vec<f64> = (0..23).map(|i| f64::from(i * i % 7)).collect();
        for shift in 1..25 {
            let mut blocked = start.clone();
            subtract_shifted(&mut blocked, shift);
            let mut plain = start.clone();
            for u in (shift..plain.len()).rev() {
                plain[u] -= plain[u - shift];
            }
            assert_eq!(blocked, plain, "subtract, shift {shift}");
            let mut blocked = start.clone();
            add_shifted_running(&mut blocked, shift);
            let mut plain = start.clone();
            for u in shift..plain.len() {
                plain[u] += plain[u - shift];
            }
            assert_eq!(blocked, plain, "running sum, step {shift}");
        }
    }

    #[test]
    fn probability_table_agrees_with_count_table() {
        // The scaled path serves sizes whose counts overflow f64; on sizes
        // where both work they must agree.
        let (small, big) = (40u128, 60u128);
        let total = binomial(small + big, small);
        let counts = CountTable::tabulate(1201, small, big, total, false);
        let probabilities = CountTable::tabulate(1201, small, big, total, true);
        for (c, p) in counts.counts.iter().zip(&probabilities.counts) {
            let expected = c / counts.total;
            assert!(
                close(*p, expected, 1e-11) || expected < 1e-290,
                "{p} vs {expected}"
            );
        }
    }

    #[test]
    fn binomial_matches_scipy() {
        // scipy.special.binom(108, 8) == 352025629371.0, binom(60, 30)
        assert_eq!(binomial(108, 8), 352025629371.0);
        assert!(close(binomial(60, 30), 1.182645815648614e17, 1e-15));
    }
}
