//! Evidently 0.7's drift statistics (`evidently/legacy/calculations/stattests`),
//! reproduced with its binning and zero handling.
//!
//! Binning (`get_binned_data`): a numeric column whose reference has more
//! than 20 distinct values gets numpy's Sturges equal-width bins over the
//! concatenation of reference and current; otherwise, and for categorical
//! columns, there is one bin per distinct value of reference ∪ current.
//! Proportions divide by the sample size. Evidently's `n_bins` argument
//! (default 30) is ignored for numeric data, so it is not a parameter here.
//!
//! For PSI and KL, zero proportions are filled per vector with `1e-4`, or
//! `min_nonzero / 1e6` when the smallest non-zero proportion is at most
//! `1e-4` ([`fill_zeros_evidently`]); Jensen–Shannon uses the raw proportions
//! and the natural logarithm.

pub use crate::categorical::{chisquare_gof as chisquare, g_test, z_test};

use crate::categorical::CategoryCounts;
use crate::distance::{wasserstein_distance, wasserstein_distance_unsorted};
use crate::divergence::{
    fill_zeros_evidently, jensen_shannon, kl_divergence, pairwise_sum, pairwise_sum_by,
};
use crate::error::{Error, Result};
use crate::histogram::{Histogram, sturges_edges};
use crate::sample::SortedSample;

/// More distinct reference values than this switch numeric data to Sturges bins.
const DISTINCT_LIMIT: usize = 20;

/// Evidently's reference and current proportions for a numeric column,
/// zero-filled when `fill_zeroes` is set (PSI and KL) and raw otherwise
/// (Jensen–Shannon).
///
/// # Errors
/// [`Error::Empty`] when either sample is empty; [`Error::Undefined`] when
/// the data range is not finite.
pub fn binned_proportions(
    reference: &SortedSample,
    current: &SortedSample,
    fill_zeroes: bool,
) -> Result<(Vec<f64>, Vec<f64>)> {
    let r = reference.require_non_empty("reference")?;
    let c = current.require_non_empty("current")?;
    let (p, q) = if more_distinct_than(r, DISTINCT_LIMIT) {
        let lo = first(r).min(first(c));
        let hi = last(r).max(last(c));
        let edges = sturges_edges(lo, hi, r.len() + c.len())?;
        let h = Histogram::with_edges(edges, reference, current)?;
        (h.reference_proportions(), h.current_proportions())
    } else {
        per_value_proportions(r, c)
    };
    finish(p, q, fill_zeroes)
}

/// Evidently's proportions for a categorical column: one bin per category of
/// the union.
///
/// # Errors
/// [`Error::Empty`] when either sample is empty.
pub fn categorical_proportions(
    counts: &CategoryCounts,
    fill_zeroes: bool,
) -> Result<(Vec<f64>, Vec<f64>)> {
    if counts.n_reference() == 0 {
        return Err(Error::Empty {
            what: "reference".to_string(),
        });
    }
    if counts.n_current() == 0 {
        return Err(Error::Empty {
            what: "current".to_string(),
        });
    }
    finish(
        counts.reference_proportions(),
        counts.current_proportions(),
        fill_zeroes,
    )
}

fn finish(p: Vec<f64>, q: Vec<f64>, fill_zeroes: bool) -> Result<(Vec<f64>, Vec<f64>)> {
    if fill_zeroes {
        Ok((fill_zeros_evidently(&p)?, fill_zeros_evidently(&q)?))
    } else {
        Ok((p, q))
    }
}

fn first(v: &[f64]) -> f64 {
    v.first().copied().unwrap_or(f64::NAN)
}

fn last(v: &[f64]) -> f64 {
    v.last().copied().unwrap_or(f64::NAN)
}

/// Runs of equal values (`==`, so `-0.0` joins `0.0`) in sorted data.
fn runs(sorted: &[f64]) -> impl Iterator<Item = (f64, u64)> + '_ {
    sorted
        .chunk_by(|a, b| a == b)
        .map(|run| (first(run), run.len() as u64))
}

/// Whether sorted data has more than `limit` distinct values; stops counting
/// at `limit + 1`.
fn more_distinct_than(sorted: &[f64], limit: usize) -> bool {
    sorted.chunk_by(|a, b| a == b).take(limit + 1).count() > limit
}

/// One bin per distinct value of `r ∪ c`, proportions over each sample's size.
fn per_value_proportions(r: &[f64], c: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let (n, m) = (r.len() as f64, c.len() as f64);
    let (mut p, mut q) = (Vec::new(), Vec::new());
    let (mut a, mut b) = (runs(r).peekable(), runs(c).peekable());
    loop {
        let (rc, cc) = match (a.peek().copied(), b.peek().copied()) {
            (Some((x, k)), Some((y, l))) => {
                if x < y {
                    a.next();
                    (k, 0)
                } else if y < x {
                    b.next();
                    (0, l)
                } else {
                    a.next();
                    b.next();
                    (k, l)
                }
            }
            (Some((_, k)), None) => {
                a.next();
                (k, 0)
            }
            (None, Some((_, l))) => {
                b.next();
                (0, l)
            }
            (None, None) => break,
        };
        p.push(rc as f64 / n);
        q.push(cc as f64 / m);
    }
    (p, q)
}

/// Evidently's PSI, `Σ (p − q) ln(p / q)` on zero-filled proportions.
fn psi_of(p: &[f64], q: &[f64]) -> f64 {
    pairwise_sum_by(p.len(), &|i| {
        let (a, b) = (
            p.get(i).copied().unwrap_or(0.0),
            q.get(i).copied().unwrap_or(0.0),
        );
        (a - b) * (a / b).ln()
    })
}

/// Evidently's `psi` for a numeric column.
///
/// # Errors
/// As [`binned_proportions`].
pub fn psi(reference: &SortedSample, current: &SortedSample) -> Result<f64> {
    let (p, q) = binned_proportions(reference, current, true)?;
    Ok(psi_of(&p, &q))
}

/// Evidently's `kl_div` for a numeric column: `scipy.stats.entropy` of the
/// zero-filled proportions, KL(reference ‖ current) in nats.
///
/// # Errors
/// As [`binned_proportions`].
pub fn kl_div(reference: &SortedSample, current: &SortedSample) -> Result<f64> {
    let (p, q) = binned_proportions(reference, current, true)?;
    kl_divergence(&p, &q)
}

/// Evidently's `jensenshannon` for a numeric column: the Jensen–Shannon
/// distance with the **natural** logarithm on the raw proportions.
///
/// # Errors
/// As [`binned_proportions`].
pub fn jensenshannon(reference: &SortedSample, current: &SortedSample) -> Result<f64> {
    let (p, q) = binned_proportions(reference, current, false)?;
    jensen_shannon(&p, &q, None)
}

/// Evidently's normed `wasserstein`: the Wasserstein-1 distance divided by
/// `max(std(reference), 0.001)` (population standard deviation).
///
/// # Errors
/// [`Error::Empty`] when either sample is empty.
pub fn wasserstein_norm(reference: &SortedSample, current: &SortedSample) -> Result<f64> {
    let r = reference.require_non_empty("reference")?;
    let n = r.len() as f64;
    let mean = pairwise_sum(r) / n;
    let variance = pairwise_sum_by(r.len(), &|i| {
        let d = r.get(i).copied().unwrap_or(mean) - mean;
        d * d
    }) / n;
    let norm = variance.sqrt().max(0.001);
    Ok(wasserstein_distance(reference, current)? / norm)
}

/// [`wasserstein_norm`] on samples in any order (see
/// [`wasserstein_distance_unsorted`]):
/// what a drift report runs on a large numeric column, without sorting it.
/// The standard deviation is summed in row order, as numpy does.
///
/// ```
/// use keelson_drift::evidently::wasserstein_norm_unsorted;
///
/// let w = wasserstein_norm_unsorted(&[1.0, 3.0, 2.0, 4.0], &[2.0, 4.0, 3.0, 5.0])?;
/// assert!((w - 1.0 / 1.25f64.sqrt()).abs() < 1e-15);
/// # Ok::<(), keelson_drift::Error>(())
/// ```
///
/// # Errors
/// [`Error::Empty`] when either sample is empty, [`Error::NaN`] on a NaN.
pub fn wasserstein_norm_unsorted(reference: &[f64], current: &[f64]) -> Result<f64> {
    let w = wasserstein_distance_unsorted(reference, current)?;
    let n = reference.len() as f64;
    let mean = pairwise_sum(reference) / n;
    let variance = pairwise_sum_by(reference.len(), &|i| {
        let d = reference.get(i).copied().unwrap_or(mean) - mean;
        d * d
    }) / n;
    Ok(w / variance.sqrt().max(0.001))
}

/// Evidently's `psi` for a categorical column.
///
/// # Errors
/// [`Error::Empty`] when either sample is empty.
pub fn psi_cat(counts: &CategoryCounts) -> Result<f64> {
    let (p, q) = categorical_proportions(counts, true)?;
    Ok(psi_of(&p, &q))
}

/// Evidently's `kl_div` for a categorical column.
///
/// # Errors
/// [`Error::Empty`] when either sample is empty.
pub fn kl_div_cat(counts: &CategoryCounts) -> Result<f64> {
    let (p, q) = categorical_proportions(counts, true)?;
    kl_divergence(&p, &q)
}

/// Evidently's `jensenshannon` for a categorical column (natural logarithm).
///
/// # Errors
/// [`Error::Empty`] when either sample is empty.
pub fn jensenshannon_cat(counts: &CategoryCounts) -> Result<f64> {
    let (p, q) = categorical_proportions(counts, false)?;
    jensen_shannon(&p, &q, None)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::categorical::Category;
    use crate::testing::{rel, sample};

    #[test]
    fn few_values_get_one_bin_each() {
        // drift_defs.evidently_binned([1,1,2,3], [2,2,4], True)
        // -> rp [0.5, 0.25, 0.25, 1e-4], cp [1e-4, 2/3, 1e-4, 1/3]
        let (p, q) = binned_proportions(
            &sample(&[1.0, 1.0, 2.0, 3.0]),
            &sample(&[2.0, 2.0, 4.0]),
            true,
        )
        .unwrap();
        assert_eq!(p, vec![0.5, 0.25, 0.25, 1e-4]);
        assert_eq!(q, vec![1e-4, 2.0 / 3.0, 1e-4, 1.0 / 3.0]);
    }

    #[test]
    fn matches_the_port() {
        // ref = np.arange(30.)**1.5; cur = np.arange(25.) * 5.5 + 3
        // psi_evidently(ref, cur) -> 0.17586190894945586
        // kl_div_evidently(ref, cur) -> 0.09203309761752071
        // jensenshannon_evidently(ref, cur) -> 0.1470136843282135
        let r: Vec<f64> = (0..30).map(|i| f64::from(i).powf(1.5)).collect();
        let c: Vec<f64> = (0..25).map(|i| f64::from(i) * 5.5 + 3.0).collect();
        let (r, c) = (sample(&r), sample(&c));
        assert!(rel(psi(&r, &c).unwrap(), 0.17586190894945586) < 1e-14);
        assert!(rel(kl_div(&r, &c).unwrap(), 0.09203309761752071) < 1e-14);
        assert!(rel(jensenshannon(&r, &c).unwrap(), 0.1470136843282135) < 1e-14);
    }

    #[test]
    fn categorical_variants() {
        // psi_evidently(['a']*3+['b'], ['b']*2+['c'], numerical=False) -> 9.80287850252926
        let counts = CategoryCounts::from_values(
            ["a", "a", "a", "b"].map(Category::from),
            ["b", "b", "c"].map(Category::from),
        );
        assert!(rel(psi_cat(&counts).unwrap(), 9.80287850252926) < 1e-14);
        // jensenshannon_evidently(..., numerical=False) -> 0.6516023049663686
        assert!(rel(jensenshannon_cat(&counts).unwrap(), 0.6516023049663686) < 1e-14);
        assert!(psi_cat(&CategoryCounts::default()).is_err());
    }
}
