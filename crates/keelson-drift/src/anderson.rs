//! The Anderson–Darling k-sample test (Scholz & Stephens 1987, midrank
//! version for data with ties), as `scipy.stats.anderson_ksamp(samples,
//! midrank=True)` with its interpolated p-value.
//!
//! scipy binary-searches every distinct pooled value in every sample; here a
//! linear merge of the sorted samples visits the distinct values in order, and
//! each sample's sum over them is added in numpy's pairwise order, so the
//! statistic (a difference `A² − (k − 1)` that can cancel) agrees with scipy
//! to the last bits.

use nalgebra::{SMatrix, SVD, SVector};
use serde::{Deserialize, Serialize};

use crate::distance::TieGroups;
use crate::divergence::pairwise_sum;
use crate::error::{Error, Result};
use crate::outcome::TestResult;
use crate::sample::SortedSample;

const METHOD: &str = "anderson_ksamp";

/// The significance levels the critical values belong to, from Table 2 of
/// Scholz & Stephens; the p-value is interpolated between them and clipped to
/// their range.
pub const SIGNIFICANCE_LEVELS: [f64; 7] = [0.25, 0.1, 0.05, 0.025, 0.01, 0.005, 0.001];

/// Interpolation coefficients of the critical values in `k − 1` (Table 2 of
/// Scholz & Stephens): `b0 + b1/√m + b2/m`.
const B0: [f64; 7] = [0.675, 1.281, 1.645, 1.96, 2.326, 2.573, 3.085];
const B1: [f64; 7] = [-0.245, 0.25, 0.678, 1.149, 1.822, 2.364, 3.615];
const B2: [f64; 7] = [-0.105, -0.305, -0.362, -0.391, -0.396, -0.345, -0.154];

/// The result of [`anderson_ksamp`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AndersonResult {
    /// The standardised statistic `(A²akN − (k − 1)) / σ`.
    pub statistic: f64,
    /// The critical values of the statistic at [`SIGNIFICANCE_LEVELS`].
    pub critical_values: [f64; 7],
    /// The p-value, interpolated from the critical values; 0.25 when the
    /// statistic is below every critical value and 0.001 when above every one
    /// (scipy warns that it is capped or floored there).
    pub pvalue: f64,
}

impl AndersonResult {
    /// The statistic and p-value as a [`TestResult`].
    pub fn test_result(&self) -> TestResult {
        TestResult::test(self.statistic, self.pvalue)
    }
}

/// Anderson–Darling test that `samples` come from one distribution, with the
/// midrank empirical distribution function (valid with ties).
///
/// With three observations in total the variance of the statistic is 0/0 and
/// the statistic and p-value are NaN, as in scipy.
///
/// Cost: two merge passes over the pooled data (one counts the distinct
/// values, one computes every sample's terms), each linear in the total size
/// times the number of samples; memory is independent of the sample sizes.
///
/// # Errors
/// Where scipy raises, in scipy's order: [`Error::InvalidParameter`] for
/// fewer than two samples; [`Error::Undefined`] when the pooled data has a
/// single distinct value; [`Error::Empty`] naming the first empty sample;
/// [`Error::Undefined`] with only two observations in total (scipy fails
/// with an `IndexError`) or a negative variance estimate (a math domain
/// error in scipy).
pub fn anderson_ksamp(samples: &[&SortedSample]) -> Result<AndersonResult> {
    if samples.len() < 2 {
        return Err(Error::invalid(
            "samples",
            "anderson_ksamp needs at least two samples",
        ));
    }
    let values: Vec<&[f64]> = samples.iter().map(|s| s.values()).collect();
    if !has_two_distinct(&values) {
        return Err(Error::undefined(
            METHOD,
            "needs more than one distinct observation",
        ));
    }
    if let Some(i) = values.iter().position(|v| v.is_empty()) {
        return Err(Error::Empty {
            what: format!("sample {i} of anderson_ksamp"),
        });
    }
    let sizes: Vec<usize> = values.iter().map(|v| v.len()).collect();
    let n_total: usize = sizes.iter().sum();
    if n_total < 3 {
        return Err(Error::undefined(
            METHOD,
            "needs at least three observations in total",
        ));
    }
    let a2 = midrank_statistic(&values, n_total);
    let variance = statistic_variance(&sizes, n_total);
    if variance < 0.0 {
        return Err(Error::undefined(
            METHOD,
            "the variance estimate of the statistic is negative",
        ));
    }
    let m = (samples.len() - 1) as f64;
    let statistic = (a2 - m) / variance.sqrt();
    let critical_values = critical_values(m);
    let pvalue = interpolated_pvalue(statistic, &critical_values)?;
    Ok(AndersonResult {
        statistic,
        critical_values,
        pvalue,
    })
}

/// Whether the pooled non-empty samples hold two different values.
fn has_two_distinct(samples: &[&[f64]]) -> bool {
    let lowest = samples
        .iter()
        .filter_map(|s| s.first())
        .copied()
        .reduce(f64::min);
    let highest = samples
        .iter()
        .filter_map(|s| s.last())
        .copied()
        .reduce(f64::max);
    matches!((lowest, highest), (Some(lo), Some(hi)) if lo < hi)
}

/// `A²akN`, equation 7 of Scholz & Stephens, in scipy's arithmetic: for each
/// sample a sum over the distinct pooled values `z_j` of
/// `l_j/N · (N·M_ij − B_j·n_i)² / (B_j·(N − B_j) − N·l_j/4)`, where `l_j` is
/// the multiplicity of `z_j`, `B_j` the pooled midrank count below it and
/// `M_ij` the sample's.
fn midrank_statistic(samples: &[&[f64]], n_total: usize) -> f64 {
    match samples {
        [a, b] => midrank_statistic_two(a, b, n_total),
        _ => midrank_statistic_any(samples, n_total),
    }
}

/// [`midrank_statistic`] for any number of samples. One pass counts the
/// distinct values (the shape of numpy's summation tree depends on it), a
/// second computes every sample's terms and sums them side by side.
fn midrank_statistic_any(samples: &[&[f64]], n_total: usize) -> f64 {
    let distinct = {
        let mut walk = DistinctWalk::new(samples);
        std::iter::from_fn(|| walk.advance()).count()
    };
    let n = n_total as f64;
    let sizes: Vec<f64> = samples.iter().map(|s| s.len() as f64).collect();
    let lanes = samples.len();
    let mut walk = DistinctWalk::new(samples);
    let mut below = 0usize;
    let mut fill = |count: usize, leaf: &mut [f64]| {
        for j in 0..count {
            let Some(multiplicity) = walk.advance() else {
                leaf.fill(f64::NAN);
                return;
            };
            let l = multiplicity as f64;
            let b = below as f64 + l / 2.0;
            below += multiplicity;
            let weight = l / n;
            let denominator = b * (n - b) - (n_total * multiplicity) as f64 / 4.0;
            for (lane, ((after, run), &n_i)) in walk.steps().zip(&sizes).enumerate() {
                let m_ij = after as f64 - run as f64 / 2.0;
                let d = n * m_ij - b * n_i;
                if let Some(slot) = leaf.get_mut(lane * LEAF + j) {
                    *slot = weight * (d * d) / denominator;
                }
            }
        }
    };
    let mut sums = vec![0.0; lanes];
    LaneSums::new(lanes).sum(distinct, &mut fill, &mut sums);
    let total = sums
        .iter()
        .zip(&sizes)
        .fold(0.0, |acc, (s, n_i)| acc + s / n_i);
    total * ((n - 1.0) / n)
}

/// [`midrank_statistic`] of two samples, bit for bit. With two samples
/// `M_2j = B_j − M_1j` and `n_2 = N − n_1`, so `d_2 = −d_1` exactly (the
/// operands are integers and halves far below 2^53) and both samples' terms
/// are equal: one stream of terms, summed once, divided by each size.
///
/// While both samples have values left, a step takes the smaller head by
/// `min`, and whether each sample holds it by a comparison, rather than a
/// branch on which sample holds it: interleaved samples make such a branch
/// unpredictable. Only further ties loop.
fn midrank_statistic_two(a: &[f64], b: &[f64], n_total: usize) -> f64 {
    let term = Terms::new(a.len(), n_total);
    let mut terms = Vec::with_capacity(n_total);
    let (mut i, mut j, mut below) = (0usize, 0usize, 0usize);
    let run_end = |s: &[f64], mut k: usize, z: f64| {
        while s.get(k) == Some(&z) {
            k += 1;
        }
        k
    };
    while let (Some(&x), Some(&y)) = (a.get(i), b.get(j)) {
        let z = x.min(y);
        let after_a = run_end(a, i + usize::from(x == z), z);
        let after_b = run_end(b, j + usize::from(y == z), z);
        let (run_a, multiplicity) = (after_a - i, after_a - i + after_b - j);
        terms.push(term.at(below, after_a, run_a, multiplicity));
        (i, j, below) = (after_a, after_b, below + multiplicity);
    }
    while let Some(&z) = a.get(i) {
        let after = run_end(a, i + 1, z);
        terms.push(term.at(below, after, after - i, after - i));
        (i, below) = (after, below + after - i);
    }
    while let Some(&z) = b.get(j) {
        let after = run_end(b, j + 1, z);
        terms.push(term.at(below, i, 0, after - j));
        (j, below) = (after, below + after - j);
    }
    let sum = pairwise_sum(&terms);
    let total = sum / a.len() as f64 + sum / b.len() as f64;
    let n = n_total as f64;
    total * ((n - 1.0) / n)
}

/// The first sample's term of `A²akN` at one distinct value, in scipy's
/// arithmetic.
struct Terms {
    n: f64,
    n_total: usize,
    n_1: f64,
    /// `l / n` for the usual multiplicity 1, the same division done once.
    single: f64,
}

impl Terms {
    fn new(n_1: usize, n_total: usize) -> Self {
        let n = n_total as f64;
        Terms {
            n,
            n_total,
            n_1: n_1 as f64,
            single: 1.0 / n,
        }
    }

    /// With `below` pooled values under it, `after` of the first sample at
    /// or under it, `run` of those equal to it, `multiplicity` in all.
    #[inline]
    fn at(&self, below: usize, after: usize, run: usize, multiplicity: usize) -> f64 {
        let n = self.n;
        let l = multiplicity as f64;
        let b_j = below as f64 + l / 2.0;
        let weight = if multiplicity == 1 {
            self.single
        } else {
            l / n
        };
        let denominator = b_j * (n - b_j) - (self.n_total * multiplicity) as f64 / 4.0;
        let m_1j = after as f64 - run as f64 / 2.0;
        let d = n * m_1j - b_j * self.n_1;
        weight * (d * d) / denominator
    }
}

/// The variance of `A²akN` under the null (Scholz & Stephens, eq. 4), in
/// scipy's order of operations; `n_total ≥ 3`.
fn statistic_variance(sizes: &[usize], n_total: usize) -> f64 {
    let k = sizes.len() as f64;
    let n = n_total as f64;
    let mut sizes_iter = sizes.iter();
    let h_small = numpy_sum_stream(sizes.len(), || {
        sizes_iter.next().map_or(0.0, |&s| 1.0 / s as f64)
    });
    // g sums, over j = 2..N-1, the harmonic tail 1/(N-1) + ... + 1/(N-j+1)
    // divided by j; the last tail plus 1 is h.
    // Filled a leaf at a time in three loops, so that the divisions, which
    // do not depend on each other, run as vector instructions: only the
    // running sum is serial.
    // The integers are formed in floating point (exactly, far below 2^53)
    // from a table of offsets, since integer-to-float conversion of a
    // `usize` has no vector instruction.
    let offsets: [f64; LEAF] = std::array::from_fn(|t| t as f64);
    let mut harmonic = 0.0;
    let mut j = 0usize;
    let mut fill = |count: usize, leaf: &mut [f64]| {
        let leaf = leaf.get_mut(..count).unwrap_or_default();
        let from = (n_total - 1 - j) as f64;
        for (slot, t) in leaf.iter_mut().zip(&offsets) {
            *slot = 1.0 / (from - t);
        }
        // A local copy keeps the running sum in a register, not in the
        // captured variable.
        let mut running = harmonic;
        for slot in leaf.iter_mut() {
            running += *slot;
            *slot = running;
        }
        harmonic = running;
        let to = (j + 2) as f64;
        for (slot, t) in leaf.iter_mut().zip(&offsets) {
            *slot /= to + t;
        }
        j += count;
    };
    let mut out = [0.0];
    LaneSums::new(1).sum(n_total - 2, &mut fill, &mut out);
    let [g] = out;
    let h = harmonic + 1.0;
    let k2 = k * k;
    let a = (4.0 * g - 6.0) * (k - 1.0) + (10.0 - 6.0 * g) * h_small;
    let b = (2.0 * g - 4.0) * k2 + 8.0 * h * k + (2.0 * g - 14.0 * h - 4.0) * h_small - 8.0 * h
        + 4.0 * g
        - 6.0;
    let c = (6.0 * h + 2.0 * g - 2.0) * k2
        + (4.0 * h - 4.0 * g + 6.0) * k
        + (2.0 * h - 6.0) * h_small
        + 4.0 * h;
    let d = (2.0 * h + 6.0) * k2 - 4.0 * h * k;
    let n_wide = n_total as u128;
    let n2 = (n_wide * n_wide) as f64;
    let n3 = (n_wide * n_wide * n_wide) as f64;
    (a * n3 + b * n2 + c * n + d) / ((n - 1.0) * (n - 2.0) * (n - 3.0))
}

/// Critical values for `m = k − 1` degrees of freedom.
fn critical_values(m: f64) -> [f64; 7] {
    let root = m.sqrt();
    std::array::from_fn(|i| B0[i] + B1[i] / root + B2[i] / m)
}

/// scipy's p-value: a quadratic least-squares fit of `ln(significance)` on the
/// critical values, evaluated at the statistic, and capped at the ends of the
/// table.
fn interpolated_pvalue(statistic: f64, critical: &[f64; 7]) -> Result<f64> {
    let lowest = critical.iter().copied().fold(f64::INFINITY, f64::min);
    let highest = critical.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if statistic < lowest {
        return Ok(0.25);
    }
    if statistic > highest {
        return Ok(0.001);
    }
    let [c2, c1, c0] = quadratic_fit(critical)?;
    Ok(((c2 * statistic + c1) * statistic + c0).exp())
}

/// `numpy.polyfit(critical, log(SIGNIFICANCE_LEVELS), 2)`: least squares on
/// the column-scaled Vandermonde matrix through its SVD, highest power first.
fn quadratic_fit(critical: &[f64; 7]) -> Result<[f64; 3]> {
    let mut lhs = SMatrix::<f64, 7, 3>::from_fn(|r, c| {
        let x = critical[r];
        [x * x, x, 1.0][c]
    });
    let mut scale = [0.0f64; 3];
    for (c, s) in scale.iter_mut().enumerate() {
        *s = lhs.column(c).iter().fold(0.0, |acc, v| acc + v * v).sqrt();
        lhs.column_mut(c).iter_mut().for_each(|v| *v /= *s);
    }
    let rhs = SVector::<f64, 7>::from_fn(|r, _| SIGNIFICANCE_LEVELS[r].ln());
    let svd = SVD::try_new(lhs, true, true, f64::EPSILON, 200)
        .ok_or_else(|| Error::undefined(METHOD, "the p-value interpolation did not converge"))?;
    let cutoff = 7.0 * f64::EPSILON * svd.singular_values.max();
    let solution = svd
        .solve(&rhs, cutoff)
        .map_err(|e| Error::undefined(METHOD, format!("the p-value interpolation failed: {e}")))?;
    Ok(std::array::from_fn(|c| solution[c] / scale[c]))
}

/// Walks the distinct values of several sorted samples in increasing order,
/// keeping the part of each sample not yet visited. Two samples (the common
/// case) go through the branch-free two-way merge of [`TieGroups`].
struct DistinctWalk<'a> {
    rest: Vec<&'a [f64]>,
    pair: Option<TieGroups<'a>>,
    consumed: Vec<usize>,
    runs: Vec<usize>,
}

impl<'a> DistinctWalk<'a> {
    fn new(samples: &[&'a [f64]]) -> Self {
        let pair = match samples {
            [a, b] => Some(TieGroups::new(a, b)),
            _ => None,
        };
        DistinctWalk {
            rest: samples.to_vec(),
            pair,
            consumed: vec![0; samples.len()],
            runs: vec![0; samples.len()],
        }
    }

    /// For each sample, how many of its values lie at or below the last visited
    /// value, and how many equal it.
    fn steps(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        self.consumed.iter().copied().zip(self.runs.iter().copied())
    }

    /// Step past the next distinct value; returns its pooled multiplicity.
    fn advance(&mut self) -> Option<usize> {
        if let Some(pair) = self.pair.as_mut() {
            let group = pair.next()?;
            self.runs.copy_from_slice(&[group.in_a, group.in_b]);
        } else {
            self.advance_general()?;
        }
        self.consumed
            .iter_mut()
            .zip(&self.runs)
            .for_each(|(c, r)| *c += r);
        Some(self.runs.iter().sum())
    }

    /// [`advance`](Self::advance) for any number of samples: a run of the
    /// next value is cut off the front of every sample.
    fn advance_general(&mut self) -> Option<()> {
        let z = self
            .rest
            .iter()
            .filter_map(|r| r.first())
            .copied()
            .reduce(|a, b| if b < a { b } else { a })?;
        for (rest, run) in self.rest.iter_mut().zip(self.runs.iter_mut()) {
            *run = rest.iter().take_while(|&&v| v == z).count();
            *rest = rest.get(*run..).unwrap_or_default();
        }
        Some(())
    }
}

/// Leaves of numpy's pairwise summation tree hold at most this many terms.
const LEAF: usize = 128;

/// numpy's pairwise summation (`np.add.reduce` on a contiguous float64 array)
/// of several equally long streams of terms at once, storing one leaf of
/// terms per stream at a time: each stream's sum is bit for bit numpy's sum of
/// the stored array.
struct LaneSums {
    leaf: Vec<f64>,
}

impl LaneSums {
    fn new(lanes: usize) -> Self {
        LaneSums {
            leaf: vec![0.0; lanes * LEAF],
        }
    }

    /// Sum the next `n` terms of every lane into `out`. `fill(count, leaf)`
    /// writes the next `count ≤ LEAF` terms, lane `i`'s `j`-th at
    /// `leaf[i * LEAF + j]`.
    fn sum(&mut self, n: usize, fill: &mut impl FnMut(usize, &mut [f64]), out: &mut [f64]) {
        if n <= LEAF {
            fill(n, &mut self.leaf);
            for (o, lane) in out.iter_mut().zip(self.leaf.chunks(LEAF)) {
                *o = pairwise_sum(lane.get(..n).unwrap_or_default());
            }
        } else {
            let mut half = n / 2;
            half -= half % 8;
            let mut left = vec![0.0; out.len()];
            self.sum(half, fill, &mut left);
            self.sum(n - half, fill, out);
            out.iter_mut().zip(&left).for_each(|(o, l)| *o += l);
        }
    }
}

/// [`LaneSums`] of a single stream drawn term by term from `next`.
fn numpy_sum_stream(n: usize, mut next: impl FnMut() -> f64) -> f64 {
    let mut out = [0.0];
    let mut fill = |count: usize, leaf: &mut [f64]| {
        leaf.iter_mut().take(count).for_each(|slot| *slot = next());
    };
    LaneSums::new(1).sum(n, &mut fill, &mut out);
    let [sum] = out;
    sum
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::testing::{close, sample};

    proptest::proptest! {
        /// The two-sample path is the general one, bit for bit, with ties
        /// within and across the samples.
        #[test]
        fn two_samples_match_the_general_path(
            a in proptest::collection::vec(-20i32..20, 1..300),
            b in proptest::collection::vec(-20i32..20, 1..300),
            scale in proptest::sample::select(vec![1.0, 0.1, 1e-3, 7.5]),
        ) {
            let mut a: Vec<f64> = a.into_iter().map(|v| f64::from(v) * scale).collect();
            let mut b: Vec<f64> = b.into_iter().map(|v| f64::from(v) * scale).collect();
            a.sort_by(f64::total_cmp);
            b.sort_by(f64::total_cmp);
            let n = a.len() + b.len();
            let two = midrank_statistic_two(&a, &b, n);
            let any = midrank_statistic_any(&[&a, &b], n);
            proptest::prop_assert_eq!(two.to_bits(), any.to_bits(), "{} vs {}", two, any);
        }
    }

    fn run(samples: &[&[f64]]) -> Result<AndersonResult> {
        let owned: Vec<SortedSample> = samples.iter().map(|s| sample(s)).collect();
        let refs: Vec<&SortedSample> = owned.iter().collect();
        anderson_ksamp(&refs)
    }

    #[test]
    #[allow(clippy::approx_constant)] // 2.718 is a critical value, not e
    fn interpolated_pvalue_matches_scipy() {
        // anderson_ksamp([[1, 2], [3, 4]]) -> (1.5427784316797186, p 0.07502559142197442)
        let r = run(&[&[1.0, 2.0], &[3.0, 4.0]]).unwrap();
        assert!(
            close(r.statistic, 1.5427784316797186, 1e-15),
            "{}",
            r.statistic
        );
        assert!(close(r.pvalue, 0.07502559142197442, 1e-13), "{}", r.pvalue);
        // scipy prints these rounded; b0 + b1/sqrt(1) + b2/1 in floating point:
        assert_eq!(
            r.critical_values,
            [
                0.32500000000000007,
                1.226,
                1.9609999999999999,
                2.718,
                3.752,
                4.592,
                6.546
            ]
        );
    }

    #[test]
    fn cancelling_small_case_matches_scipy_bits() {
        // anderson_ksamp([[1, 2, 2], [2]]).statistic == -1.499999999999943 (p capped 0.25)
        let r = run(&[&[1.0, 2.0, 2.0], &[2.0]]).unwrap();
        assert_eq!(r.statistic, -1.499999999999943);
        assert_eq!(r.pvalue, 0.25);
    }

    #[test]
    fn three_samples_match_scipy() {
        // anderson_ksamp([[1, 2], [3], [4]]) -> (0.8056897591374665, 0.17073264952978692)
        let r = run(&[&[1.0, 2.0], &[3.0], &[4.0]]).unwrap();
        assert!(
            close(r.statistic, 0.8056897591374665, 1e-15),
            "{}",
            r.statistic
        );
        assert!(close(r.pvalue, 0.17073264952978692, 1e-13), "{}", r.pvalue);
        // critical values for m = 2, scipy: 0.44925884, ..., 5.56419101
        assert!(close(r.critical_values[0], 0.44925884, 1e-8));
        assert!(close(r.critical_values[6], 5.56419101, 1e-8));
    }

    #[test]
    fn floor_applies_above_the_table() {
        // anderson_ksamp([[1..5], [6..10]]) -> (4.726015467264128, 0.004355977966506477)
        let r = run(&[&[1.0, 2.0, 3.0, 4.0, 5.0], &[6.0, 7.0, 8.0, 9.0, 10.0]]).unwrap();
        assert!(
            close(r.statistic, 4.726015467264128, 1e-14),
            "{}",
            r.statistic
        );
        assert!(close(r.pvalue, 0.004355977966506477, 1e-13), "{}", r.pvalue);
        let far: Vec<f64> = (0..40).map(f64::from).collect();
        let farther: Vec<f64> = (100..140).map(f64::from).collect();
        assert_eq!(run(&[&far, &farther]).unwrap().pvalue, 0.001);
    }

    #[test]
    fn three_observations_are_nan_like_scipy() {
        let r = run(&[&[1.0, 2.0], &[3.0]]).unwrap();
        assert!(r.statistic.is_nan() && r.pvalue.is_nan());
    }

    #[test]
    fn errors_follow_scipys_order() {
        assert!(matches!(
            run(&[&[1.0, 2.0]]),
            Err(Error::InvalidParameter { .. })
        ));
        assert!(matches!(
            run(&[&[1.0, 1.0], &[1.0]]),
            Err(Error::Undefined { .. })
        ));
        // A single distinct value is reported before the empty sample.
        assert!(matches!(
            run(&[&[1.0, 1.0], &[]]),
            Err(Error::Undefined { .. })
        ));
        match run(&[&[1.0, 2.0], &[]]) {
            Err(Error::Empty { what }) => assert!(what.contains("sample 1"), "{what}"),
            other => panic!("unexpected {other:?}"),
        }
        assert!(matches!(
            run(&[&[1.0], &[2.0]]),
            Err(Error::Undefined { .. })
        ));
    }

    #[test]
    fn streamed_sums_are_numpys_pairwise_order() {
        // np.sum(np.array([1e16, 1.0, -1e16] + [1.0]*10)) == 9.0
        let values: Vec<f64> = [1e16, 1.0, -1e16].into_iter().chain([1.0; 10]).collect();
        let mut it = values.iter().copied();
        assert_eq!(
            numpy_sum_stream(values.len(), || it.next().unwrap_or(0.0)),
            9.0
        );
        // Lanes of a long sum each match numpy's order on their own.
        let long: Vec<f64> = (0..1000)
            .map(|i| (f64::from(i) * 0.37).sin() * 1e3f64.powi(i % 5))
            .collect();
        let mut i = 0usize;
        let mut sums = [0.0; 2];
        let mut fill = |count: usize, leaf: &mut [f64]| {
            for j in 0..count {
                let v = long[i];
                leaf[j] = v;
                leaf[LEAF + j] = -2.0 * v;
                i += 1;
            }
        };
        LaneSums::new(2).sum(long.len(), &mut fill, &mut sums);
        assert_eq!(sums[0], crate::divergence::pairwise_sum(&long));
        let doubled: Vec<f64> = long.iter().map(|v| -2.0 * v).collect();
        assert_eq!(sums[1], crate::divergence::pairwise_sum(&doubled));
    }
}
