//! Distances between the empirical distributions of two samples:
//! Wasserstein-1 (`scipy.stats.wasserstein_distance`) and the energy distance
//! (`scipy.stats.energy_distance`), unweighted.
//!
//! Both are integrals over the real line of a power of `|F_ref - F_cur|`, a
//! step function that only changes at the pooled values. scipy concatenates,
//! sorts and binary-searches; here one linear walk over the two sorted
//! samples visits every gap between consecutive pooled values once, with the
//! same per-gap arithmetic as scipy, and adds the gaps with a compensated sum.

mod bucketed;

use crate::error::Result;
use crate::sample::SortedSample;

/// From this many values in all, [`wasserstein_distance_unsorted`] buckets
/// instead of sorting.
const BUCKETED_MIN: usize = 1 << 14;

/// Wasserstein-1 distance `∫ |F_ref(x) − F_cur(x)| dx` between the empirical
/// distributions, in the units of the data. Symmetric; zero for identical
/// samples.
///
/// Infinite values behave as in scipy: an infinity that is not matched by the
/// other sample gives ∞, and an infinity repeated in the pooled data gives NaN.
///
/// # Errors
/// [`Error::Empty`](crate::Error::Empty) if either sample is empty.
pub fn wasserstein_distance(reference: &SortedSample, current: &SortedSample) -> Result<f64> {
    let u = reference.require_non_empty("reference")?;
    let v = current.require_non_empty("current")?;
    Ok(cdf_gap_integral(u, v, f64::abs))
}

/// [`wasserstein_distance`] on samples in any order.
///
/// Large samples are not sorted: one pass counts them into fine buckets and
/// sums them per bucket, which gives the integral exactly over every bucket
/// where `F_ref - F_cur` keeps its sign, and only the buckets where it may
/// change sign are sorted (see `distance::bucketed` in the source). The
/// result agrees with the sorted path to about 1e-12 relative (a different
/// order of additions), not bit for bit. Samples with infinite values, and
/// small samples, take the sorted path.
///
/// ```
/// use keelson_drift::distance::wasserstein_distance_unsorted;
///
/// let reference = [3.0, 0.0, 1.0, 2.0];
/// let current = [5.0, 2.0, 4.0, 3.0];
/// assert_eq!(wasserstein_distance_unsorted(&reference, &current)?, 2.0);
/// # Ok::<(), keelson_drift::Error>(())
/// ```
///
/// # Errors
/// [`Error::Empty`](crate::Error::Empty) if either sample is empty,
/// [`Error::NaN`](crate::Error::NaN) at the first NaN.
pub fn wasserstein_distance_unsorted(reference: &[f64], current: &[f64]) -> Result<f64> {
    let large = reference.len() + current.len() >= BUCKETED_MIN
        && reference.len().max(current.len()) <= u32::MAX as usize;
    if large
        && !reference.is_empty()
        && !current.is_empty()
        && let Some(w) = bucketed::wasserstein(reference, current)
    {
        return Ok(w);
    }
    let reference = SortedSample::new(reference, "reference")?;
    let current = SortedSample::new(current, "current")?;
    wasserstein_distance(&reference, &current)
}

/// Energy distance `√2 · (∫ (F_ref(x) − F_cur(x))² dx)^½` between the empirical
/// distributions (scipy's definition, via the CDFs). Symmetric; zero for
/// identical samples.
///
/// # Errors
/// [`Error::Empty`](crate::Error::Empty) if either sample is empty.
pub fn energy_distance(reference: &SortedSample, current: &SortedSample) -> Result<f64> {
    let u = reference.require_non_empty("reference")?;
    let v = current.require_non_empty("current")?;
    let integral = cdf_gap_integral(u, v, |d| d * d);
    Ok(std::f64::consts::SQRT_2 * integral.sqrt())
}

/// `Σ weight(F_u(z) − F_v(z)) · (z' − z)` over consecutive distinct pooled
/// values `z < z'`, both samples sorted and non-empty.
///
/// scipy also has a term for every repeated value, with a gap of zero; those
/// vanish except for a repeated infinity, where the gap `∞ − ∞` is NaN.
fn cdf_gap_integral(u: &[f64], v: &[f64], weight: impl Fn(f64) -> f64) -> f64 {
    let mut gaps = Gaps {
        nu: u.len() as f64,
        nv: v.len() as f64,
        previous: None,
        sum: CompensatedSum::default(),
        weight,
    };
    let mut repeated_infinity = false;
    // While both samples have values left, the next distinct value is the
    // smaller head, taken by a select and a comparison per sample rather
    // than a branch on which sample holds it: interleaved samples would make
    // that branch unpredictable. Only a further tie loops.
    let (mut i, mut j) = (0usize, 0usize);
    while let (Some(&x), Some(&y)) = (u.get(i), v.get(j)) {
        let z = if y < x { y } else { x };
        gaps.reach(z, i, j);
        let next_i = run_end(u, i + usize::from(x == z), z);
        let next_j = run_end(v, j + usize::from(y == z), z);
        repeated_infinity |= z.is_infinite() && next_i - i + next_j - j > 1;
        (i, j) = (next_i, next_j);
    }
    while let Some(&z) = u.get(i) {
        gaps.reach(z, i, j);
        let next_i = run_end(u, i + 1, z);
        repeated_infinity |= z.is_infinite() && next_i - i > 1;
        i = next_i;
    }
    while let Some(&z) = v.get(j) {
        gaps.reach(z, i, j);
        let next_j = run_end(v, j + 1, z);
        repeated_infinity |= z.is_infinite() && next_j - j > 1;
        j = next_j;
    }
    if repeated_infinity {
        f64::NAN
    } else {
        gaps.sum.total()
    }
}

/// The end of the run of `z` in sorted `s` from `k` on.
fn run_end(s: &[f64], mut k: usize, z: f64) -> usize {
    while s.get(k) == Some(&z) {
        k += 1;
    }
    k
}

/// The integral's running sum over the gaps between consecutive distinct
/// pooled values.
struct Gaps<W> {
    nu: f64,
    nv: f64,
    previous: Option<f64>,
    sum: CompensatedSum,
    weight: W,
}

impl<W: Fn(f64) -> f64> Gaps<W> {
    /// The walk reached the distinct value `z`, with `below_u` and
    /// `below_v` values of the samples under it: adds the gap from the
    /// previous value, weighted by the CDFs' difference over it.
    fn reach(&mut self, z: f64, below_u: usize, below_v: usize) {
        if let Some(p) = self.previous {
            let diff = below_u as f64 / self.nu - below_v as f64 / self.nv;
            self.sum.add((self.weight)(diff) * (z - p));
        }
        self.previous = Some(z);
    }
}

/// One distinct value of two pooled sorted samples and how often each holds it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct TieGroup {
    /// The value.
    pub(crate) value: f64,
    /// Its multiplicity in the first sample.
    pub(crate) in_a: usize,
    /// Its multiplicity in the second sample.
    pub(crate) in_b: usize,
}

/// The distinct values of two sorted samples in increasing order, by a linear
/// merge. Values comparing equal (`-0.0` and `0.0`) form one group, as they do
/// in scipy's sort and search.
#[derive(Debug, Clone)]
pub(crate) struct TieGroups<'a> {
    a: &'a [f64],
    b: &'a [f64],
}

impl<'a> TieGroups<'a> {
    /// Walk `a` and `b`, both sorted ascending.
    pub(crate) fn new(a: &'a [f64], b: &'a [f64]) -> Self {
        TieGroups { a, b }
    }
}

impl TieGroups<'_> {
    /// The smallest remaining value and whether it is taken from `b` (equal
    /// heads take `a` first).
    fn head(&self) -> Option<(f64, bool)> {
        match (self.a.first(), self.b.first()) {
            (Some(&x), Some(&y)) => {
                let from_b = y < x;
                Some((if from_b { y } else { x }, from_b))
            }
            (Some(&x), None) => Some((x, false)),
            (None, Some(&y)) => Some((y, true)),
            (None, None) => None,
        }
    }
}

impl Iterator for TieGroups<'_> {
    type Item = TieGroup;

    /// Takes one value at a time, from whichever sample holds the smaller
    /// head, without branching on that choice: interleaved samples would make
    /// such a branch unpredictable, and it would dominate the cost.
    fn next(&mut self) -> Option<TieGroup> {
        let (value, _) = self.head()?;
        let mut group = TieGroup {
            value,
            in_a: 0,
            in_b: 0,
        };
        while let Some((v, from_b)) = self.head() {
            if v != value {
                break;
            }
            let (step_a, step_b) = (usize::from(!from_b), usize::from(from_b));
            self.a = self.a.get(step_a..).unwrap_or_default();
            self.b = self.b.get(step_b..).unwrap_or_default();
            group.in_a += step_a;
            group.in_b += step_b;
        }
        Some(group)
    }
}

/// Neumaier's compensated summation: the error of a long sum of rounded
/// terms stays at a few ulps of the total, independent of the length, so the
/// order in which the gaps are visited does not matter at 1e-12.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct CompensatedSum {
    sum: f64,
    compensation: f64,
}

impl CompensatedSum {
    /// Add one term.
    pub(crate) fn add(&mut self, x: f64) {
        let t = self.sum + x;
        if self.sum.abs() >= x.abs() {
            self.compensation += (self.sum - t) + x;
        } else {
            self.compensation += (x - t) + self.sum;
        }
        self.sum = t;
    }

    /// The sum so far. Non-finite terms make it non-finite, as a plain sum.
    pub(crate) fn total(&self) -> f64 {
        if self.sum.is_finite() {
            self.sum + self.compensation
        } else {
            self.sum
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::Error;
    use crate::testing::{close, sample};

    #[test]
    fn scipy_docstring_examples() {
        // wasserstein_distance([0, 1, 3], [5, 6, 8]) == 5.0
        let w = wasserstein_distance(&sample(&[0.0, 1.0, 3.0]), &sample(&[5.0, 6.0, 8.0])).unwrap();
        assert_eq!(w, 5.0);
        // energy_distance([0], [2]) == 2.0000000000000004
        let e = energy_distance(&sample(&[0.0]), &sample(&[2.0])).unwrap();
        assert_eq!(e, 2.0000000000000004);
    }

    #[test]
    fn ties_and_unequal_sizes_match_scipy() {
        let u = sample(&[3.0, 1.0, 1.0, 2.5, 7.0, 2.5]);
        let v = sample(&[2.5, 0.0, 4.0, 1.0]);
        // scipy.stats.wasserstein_distance(u, v) / energy_distance(u, v)
        let w = wasserstein_distance(&u, &v).unwrap();
        let e = energy_distance(&u, &v).unwrap();
        assert!(close(w, 1.125, 1e-14), "{w}");
        assert!(close(e, 0.6291528696058958, 1e-14), "{e}");
    }

    #[test]
    fn infinities_follow_scipy() {
        // wasserstein_distance([0, inf], [0, 1]) == inf; ([0, inf], [inf, 1]) is nan
        let w = wasserstein_distance(&sample(&[0.0, f64::INFINITY]), &sample(&[0.0, 1.0])).unwrap();
        assert_eq!(w, f64::INFINITY);
        let w = wasserstein_distance(
            &sample(&[0.0, f64::INFINITY]),
            &sample(&[f64::INFINITY, 1.0]),
        )
        .unwrap();
        assert!(w.is_nan());
    }

    #[test]
    fn empty_sample_is_named() {
        match energy_distance(&sample(&[1.0]), &sample(&[])) {
            Err(Error::Empty { what }) => assert_eq!(what, "current"),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn compensated_sum_keeps_small_terms() {
        let mut s = CompensatedSum::default();
        for x in [1e16, 1.0, -1e16, 1.0] {
            s.add(x);
        }
        assert_eq!(s.total(), 2.0);
    }
}
