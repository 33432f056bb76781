//! Bin edges and two-sample histograms with numpy's exact semantics.
//!
//! Every histogram follows `np.histogram`'s rule for an array of edges: bin
//! `i` is `[e_i, e_{i+1})` except the last, `[e_{B-1}, e_B]`, which is closed;
//! values outside `[e_0, e_B]` are not counted. Quantile bins get outer edges
//! −∞ and +∞, so under that rule they reproduce
//! `np.searchsorted(inner_edges, x, side="right")`.
//!
//! On a [`SortedSample`], counting walks the edges over the sorted values with
//! binary searches, so a histogram costs O(B log n). When the samples are not
//! sorted yet, [`histogram_unsorted`] gives the same histogram, bit for bit,
//! in one or two linear passes per sample and without sorting. Histograms
//! built with the same edges on shards of the data merge (by adding counts)
//! into exactly the histogram of the whole.

mod bin_index;
mod select;

use bin_index::BinCounter;

use crate::divergence::pairwise_sum_by;
use crate::error::{Error, Result};
use crate::sample::{SortedSample, reject_nan};

/// How bin edges are chosen.
#[derive(Debug, Clone, PartialEq)]
pub enum Binning {
    /// The anchor's PSI bins: inner edges at the reference's quantiles
    /// `k/bins`, k = 1..bins−1 (`numpy.quantile`, method `linear`),
    /// de-duplicated (`np.unique`), with outer edges −∞ and +∞. Ties or
    /// constant data give fewer than `bins` bins.
    ReferenceQuantiles {
        /// Number of quantile bins before de-duplication.
        bins: usize,
    },
    /// `bins` equal-width bins spanning `[min, max]` of reference ∪ current
    /// (`np.histogram_bin_edges` on that range; `[v − 0.5, v + 0.5]` when
    /// every value is `v`).
    EqualWidth {
        /// Number of bins.
        bins: usize,
    },
    /// numpy's `'sturges'` rule on the concatenation of reference and current
    /// (Evidently's numeric binning).
    Sturges,
    /// numpy's `'doane'` rule on the **reference only** (NannyML's continuous
    /// binning). Values are treated as floats: numpy's rule that integer data
    /// get bins at least 1 wide does not apply.
    Doane,
    /// Fixed edges, non-decreasing, at least two.
    Edges(Vec<f64>),
}

/// Reference and current counts over shared bin edges.
#[derive(Debug, Clone, PartialEq)]
pub struct Histogram {
    edges: Vec<f64>,
    reference: Vec<u64>,
    current: Vec<u64>,
    n_reference: u64,
    n_current: u64,
}

impl Histogram {
    /// Count both samples into the bins given by `edges`.
    ///
    /// Empty samples are allowed (a shard may hold no current rows); their
    /// proportions are NaN.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] when `edges` has fewer than two entries, a
    /// NaN, or decreases somewhere.
    pub fn with_edges(
        edges: Vec<f64>,
        reference: &SortedSample,
        current: &SortedSample,
    ) -> Result<Self> {
        check_edges(&edges)?;
        let reference_counts = count_sorted(&edges, reference.values());
        let current_counts = count_sorted(&edges, current.values());
        Ok(Histogram {
            edges,
            reference: reference_counts,
            current: current_counts,
            n_reference: reference.len() as u64,
            n_current: current.len() as u64,
        })
    }

    /// [`Histogram::with_edges`] on unsorted samples, without sorting them:
    /// the same histogram as with `SortedSample::new(reference, "reference")`
    /// and `SortedSample::new(current, "current")`.
    ///
    /// # Errors
    /// [`Error::NaN`] naming `reference` or `current` (checked first, in that
    /// order), then the errors of [`Histogram::with_edges`].
    pub fn with_edges_unsorted(
        edges: Vec<f64>,
        reference: &[f64],
        current: &[f64],
    ) -> Result<Self> {
        let counted = check_edges(&edges).and_then(|()| {
            let counter = BinCounter::new(&edges);
            let r = count_values(&counter, reference, "reference", false)?;
            let c = count_values(&counter, current, "current", false)?;
            Ok((r, c))
        });
        let (reference_counts, current_counts) =
            counted.map_err(|e| nan_first(reference, current, e))?;
        Ok(Histogram {
            edges,
            reference: reference_counts,
            current: current_counts,
            n_reference: reference.len() as u64,
            n_current: current.len() as u64,
        })
    }

    /// All bin edges, `bins() + 1` of them (outer edges included).
    pub fn edges(&self) -> &[f64] {
        &self.edges
    }

    /// The edges between bins (without the first and last edge); for
    /// [`Binning::ReferenceQuantiles`] these are the de-duplicated quantiles.
    pub fn inner_edges(&self) -> &[f64] {
        let end = self.edges.len().saturating_sub(1);
        self.edges.get(1..end).unwrap_or(&[])
    }

    /// Number of bins.
    pub fn bins(&self) -> usize {
        self.reference.len()
    }

    /// Reference counts per bin.
    pub fn reference(&self) -> &[u64] {
        &self.reference
    }

    /// Current counts per bin.
    pub fn current(&self) -> &[u64] {
        &self.current
    }

    /// Size of the reference sample, including values outside the edges.
    pub fn n_reference(&self) -> u64 {
        self.n_reference
    }

    /// Size of the current sample, including values outside the edges.
    pub fn n_current(&self) -> u64 {
        self.n_current
    }

    /// Reference proportions `count / n_reference` (numpy's
    /// `np.histogram(ref, edges)[0] / len(ref)`); they sum to less than 1 when
    /// values fall outside the edges.
    pub fn reference_proportions(&self) -> Vec<f64> {
        proportions(&self.reference, self.n_reference)
    }

    /// Current proportions `count / n_current`.
    pub fn current_proportions(&self) -> Vec<f64> {
        proportions(&self.current, self.n_current)
    }

    /// Add the counts of a histogram with bitwise identical edges (e.g. built
    /// on another shard with [`Histogram::with_edges`]).
    ///
    /// # Errors
    /// [`Error::Merge`] when the edges differ.
    pub fn merge(&mut self, other: &Histogram) -> Result<()> {
        let same = self.edges.len() == other.edges.len()
            && self
                .edges
                .iter()
                .zip(&other.edges)
                .all(|(a, b)| a.to_bits() == b.to_bits());
        if !same {
            return Err(Error::Merge {
                reason: "histograms have different bin edges".to_string(),
            });
        }
        for (a, b) in self.reference.iter_mut().zip(&other.reference) {
            *a = a.saturating_add(*b);
        }
        for (a, b) in self.current.iter_mut().zip(&other.current) {
            *a = a.saturating_add(*b);
        }
        self.n_reference = self.n_reference.saturating_add(other.n_reference);
        self.n_current = self.n_current.saturating_add(other.n_current);
        Ok(())
    }
}

fn proportions(counts: &[u64], n: u64) -> Vec<f64> {
    let n = n as f64;
    counts.iter().map(|&c| c as f64 / n).collect()
}

/// Bin the two samples as `binning` says.
///
/// # Errors
/// [`Error::Empty`] when either sample is empty; [`Error::InvalidParameter`]
/// for zero bins or bad fixed edges; [`Error::Undefined`] where numpy raises
/// (non-finite data range, too many bins for the range) or quantiles of
/// infinite values are NaN.
pub fn histogram(
    reference: &SortedSample,
    current: &SortedSample,
    binning: &Binning,
) -> Result<Histogram> {
    let edges = bin_edges(reference, current, binning)?;
    Histogram::with_edges(edges, reference, current)
}

/// The edges `binning` gives for these samples (outer edges included).
///
/// # Errors
/// As [`histogram`].
pub fn bin_edges(
    reference: &SortedSample,
    current: &SortedSample,
    binning: &Binning,
) -> Result<Vec<f64>> {
    let r = reference.require_non_empty("reference")?;
    let c = current.require_non_empty("current")?;
    match binning {
        Binning::ReferenceQuantiles { bins } => quantile_edges(r, *bins),
        Binning::EqualWidth { bins } => {
            if *bins == 0 {
                return Err(Error::invalid("bins", "must be at least 1"));
            }
            let (lo, hi) = joint_range(sorted_ends(r), sorted_ends(c));
            let (first, last) = outer_edges(lo, hi)?;
            linspace_edges(first, last, *bins)
        }
        Binning::Sturges => {
            let (lo, hi) = joint_range(sorted_ends(r), sorted_ends(c));
            sturges_edges(lo, hi, r.len() + c.len())
        }
        Binning::Doane => doane_edges(r),
        Binning::Edges(edges) => {
            check_edges(edges)?;
            Ok(edges.clone())
        }
    }
}

fn sorted_ends(v: &[f64]) -> (f64, f64) {
    let first = v.first().copied().unwrap_or(f64::NAN);
    let last = v.last().copied().unwrap_or(f64::NAN);
    (first, last)
}

/// The data range of both samples from each one's (smallest, largest).
fn joint_range(r: (f64, f64), c: (f64, f64)) -> (f64, f64) {
    (r.0.min(c.0), r.1.max(c.1))
}

fn check_edges(edges: &[f64]) -> Result<()> {
    if edges.len() < 2 {
        return Err(Error::invalid("edges", "need at least two bin edges"));
    }
    if let Some(i) = edges.iter().position(|e| e.is_nan()) {
        return Err(Error::invalid("edges", format!("edge {i} is NaN")));
    }
    if edges.windows(2).any(|w| matches!(w, [a, b] if a > b)) {
        return Err(Error::invalid(
            "edges",
            "bin edges must increase monotonically",
        ));
    }
    Ok(())
}

/// Counts per bin of sorted, NaN-free values under numpy's histogram rule.
/// Each boundary is a binary search over the values not yet passed.
fn count_sorted(edges: &[f64], sorted: &[f64]) -> Vec<u64> {
    let bins = edges.len().saturating_sub(1);
    let mut counts = Vec::with_capacity(bins);
    let Some(&first) = edges.first() else {
        return counts;
    };
    let mut boundary = sorted.partition_point(|&x| x < first);
    for (i, &edge) in edges.iter().enumerate().skip(1) {
        let rest = sorted.get(boundary..).unwrap_or(&[]);
        let advance = if i == bins {
            rest.partition_point(|&x| x <= edge)
        } else {
            rest.partition_point(|&x| x < edge)
        };
        counts.push(advance as u64);
        boundary += advance;
    }
    counts
}

/// numpy's `_get_outer_edges` on data spanning `[lo, hi]`.
pub(crate) fn outer_edges(lo: f64, hi: f64) -> Result<(f64, f64)> {
    if !(lo.is_finite() && hi.is_finite()) {
        return Err(Error::undefined(
            "histogram",
            format!("autodetected range of [{lo}, {hi}] is not finite"),
        ));
    }
    if lo == hi {
        Ok((lo - 0.5, hi + 0.5))
    } else {
        Ok((lo, hi))
    }
}

/// `np.linspace(first, last, bins + 1)` with numpy's rounding, then numpy's
/// check that the edges strictly increase.
pub(crate) fn linspace_edges(first: f64, last: f64, bins: usize) -> Result<Vec<f64>> {
    let div = bins as f64;
    let delta = last - first;
    let step = delta / div;
    let mut edges: Vec<f64> = (0..=bins)
        .map(|k| {
            let k = k as f64;
            if step == 0.0 {
                k / div * delta + first
            } else {
                k * step + first
            }
        })
        .collect();
    if let Some(end) = edges.last_mut() {
        *end = last;
    }
    if edges.windows(2).any(|w| matches!(w, [a, b] if a >= b)) {
        return Err(Error::undefined(
            "histogram",
            format!("Too many bins for data range. Cannot create {bins} finite-sized bins."),
        ));
    }
    Ok(edges)
}

/// numpy's equal-width estimators: `ceil(range / width)` bins, or one bin when
/// the width is zero.
fn estimator_edges(lo: f64, hi: f64, width: f64) -> Result<Vec<f64>> {
    let (first, last) = outer_edges(lo, hi)?;
    linspace_edges(first, last, estimator_bins(first, last, width)?)
}

fn estimator_bins(first: f64, last: f64, width: f64) -> Result<usize> {
    if width == 0.0 {
        return Ok(1);
    }
    let n = ((last - first) / width).ceil();
    if !(1.0..1e9).contains(&n) {
        return Err(Error::undefined(
            "histogram",
            format!("bin estimator gave {n} bins"),
        ));
    }
    Ok(n as usize)
}

/// numpy's `'sturges'` edges for `size` values spanning `[lo, hi]`.
pub(crate) fn sturges_edges(lo: f64, hi: f64, size: usize) -> Result<Vec<f64>> {
    let width = (hi - lo) / ((size as f64).log2() + 1.0);
    estimator_edges(lo, hi, width)
}

/// numpy's `'doane'` edges for a sorted, non-empty sample.
///
/// numpy sums in the data's original order and cubes with `pow`; the sorted
/// order and the multiplications used here can change the last bits of the
/// skewness, which matters only when `range / width` lands within rounding
/// of an integer.
pub(crate) fn doane_edges(sorted: &[f64]) -> Result<Vec<f64>> {
    let lo = sorted.first().copied().unwrap_or(f64::NAN);
    let hi = sorted.last().copied().unwrap_or(f64::NAN);
    let n = sorted.len();
    let at = |i: usize| sorted.get(i).copied().unwrap_or(f64::NAN);
    let skew = doane_moments(n, &at)
        .filter(|&(_, sigma)| sigma > 0.0)
        .map(|(mean, sigma)| doane_skew(n, mean, sigma, &at));
    estimator_edges(lo, hi, doane_width(lo, hi, n, skew))
}

/// Mean and standard deviation summed over `at(0..n)` in that order; `None`
/// for n ≤ 2, where numpy's rule uses no skewness.
fn doane_moments(n: usize, at: &impl Fn(usize) -> f64) -> Option<(f64, f64)> {
    if n <= 2 {
        return None;
    }
    let nf = n as f64;
    let mean = pairwise_sum_by(n, at) / nf;
    let sigma = (pairwise_sum_by(n, &|i| {
        let d = at(i) - mean;
        d * d
    }) / nf)
        .sqrt();
    Some((mean, sigma))
}

fn doane_skew(n: usize, mean: f64, sigma: f64, at: &impl Fn(usize) -> f64) -> f64 {
    pairwise_sum_by(n, &|i| {
        let z = (at(i) - mean) / sigma;
        z * z * z
    }) / n as f64
}

/// The bin width numpy's `'doane'` rule derives from `|g1|` (0 without one).
fn doane_width(lo: f64, hi: f64, n: usize, skew: Option<f64>) -> f64 {
    let Some(g1) = skew else {
        return 0.0;
    };
    let nf = n as f64;
    let sg1 = (6.0 * n.saturating_sub(2) as f64 / ((nf + 1.0) * (n + 3) as f64)).sqrt();
    (hi - lo) / (1.0 + nf.log2() + (1.0 + g1.abs() / sg1).log2())
}

/// [`doane_edges`] of an unsorted, NaN-free, non-empty sample whose sorted
/// ends are `lo` and `hi`, without sorting when possible.
///
/// The sorted path sums in sorted order; summing in the given order moves the
/// skewness by at most a rounding bound, and the edges depend on the skewness
/// only through the bin count. When the bin count is the same at both ends of
/// that bound, it is the sorted path's count; otherwise sort.
fn doane_edges_unsorted(values: &[f64], lo: f64, hi: f64) -> Result<Vec<f64>> {
    let n = values.len();
    let at = |i: usize| values.get(i).copied().unwrap_or(f64::NAN);
    let sorted_fallback = || {
        let sorted = SortedSample::new(values, "reference")?;
        doane_edges(sorted.values())
    };
    let Ok((first, last)) = outer_edges(lo, hi) else {
        // The sorted path fails on this range whatever the width.
        return estimator_edges(lo, hi, 0.0);
    };
    if lo == hi {
        // Zero range: the width is zero whatever the skewness.
        return estimator_edges(lo, hi, 0.0);
    }
    let Some((mean, sigma)) = doane_moments(n, &at) else {
        return estimator_edges(lo, hi, 0.0);
    };
    let magnitude = lo.abs().max(hi.abs());
    let gamma = ((n as f64).log2() + 1.0) * f64::EPSILON;
    // The bound below is first order in the mean's error over sigma.
    // Zero or tiny deviations (squares underflowing) are order-sensitive.
    if !(sigma.is_finite() && sigma > 0.0 && gamma * magnitude / sigma < 1e-4) {
        return sorted_fallback();
    }
    let g1 = doane_skew(n, mean, sigma, &at).abs();
    // Pairwise sums err by at most (log2 n + 1) eps times the sum of |terms|;
    // through the mean, the deviation and the cubes that bounds the skewness
    // error by about that factor times (|mean| / sigma + |g1| + max |z|),
    // taken 8 times over.
    let max_z = (hi - mean).abs().max((lo - mean).abs()) / sigma;
    let slack = 8.0 * gamma * (magnitude / sigma + g1 + max_z);
    let bins = |g: f64| estimator_bins(first, last, doane_width(lo, hi, n, Some(g))).ok();
    match (bins((g1 - slack).max(0.0)), bins(g1 + slack)) {
        (Some(a), Some(b)) if a == b && g1.is_finite() => linspace_edges(first, last, a),
        _ => sorted_fallback(),
    }
}

/// Order statistic `i` (0-based) of a sample, `None` past its end.
type OrderStatistic<'a> = dyn FnMut(usize) -> Option<f64> + 'a;

/// `numpy.quantile(x, q)` with the default `linear` method, for `n` values
/// whose order statistics `at` gives. Which statistics it reads depends on
/// `n` and `q` only.
fn quantile_linear_by(n: usize, q: f64, at: &mut OrderStatistic<'_>) -> f64 {
    let mut at = |i: usize| if i < n { at(i) } else { None };
    let last_index = n.saturating_sub(1);
    let virtual_index = last_index as f64 * q;
    if virtual_index >= last_index as f64 {
        return at(last_index).unwrap_or(f64::NAN);
    }
    let below = virtual_index.floor();
    let i = below as usize;
    let (Some(a), Some(b)) = (at(i), at(i + 1)) else {
        return at(last_index).unwrap_or(f64::NAN);
    };
    let t = virtual_index - below;
    let diff = b - a;
    if t >= 0.5 {
        b - diff * (1.0 - t)
    } else {
        a + diff * t
    }
}

fn quantile_edges(sorted: &[f64], bins: usize) -> Result<Vec<f64>> {
    quantile_edges_by(sorted.len(), bins, &mut |i| sorted.get(i).copied())
}

/// Quantile bin edges of `n` values given by their order statistics.
fn quantile_edges_by(n: usize, bins: usize, at: &mut OrderStatistic<'_>) -> Result<Vec<f64>> {
    if bins == 0 {
        return Err(Error::invalid("bins", "must be at least 1"));
    }
    let step = 1.0 / bins as f64;
    let mut inner: Vec<f64> = (1..bins)
        .map(|k| quantile_linear_by(n, k as f64 * step, at))
        .collect();
    if inner.iter().any(|e| e.is_nan()) {
        return Err(Error::undefined(
            "quantile bins",
            "a reference quantile is NaN (infinite values)",
        ));
    }
    inner.sort_by(f64::total_cmp);
    inner.dedup_by(|a, b| a == b);
    let mut edges = Vec::with_capacity(inner.len() + 2);
    edges.push(f64::NEG_INFINITY);
    edges.extend(inner);
    edges.push(f64::INFINITY);
    Ok(edges)
}

/// Bin two unsorted samples as `binning` says, without sorting them.
///
/// The result equals, bit for bit, `histogram(&SortedSample::new(reference,
/// "reference")?, &SortedSample::new(current, "current")?, binning)`, errors
/// included. Equal-width binnings cost one min/max pass and one counting pass
/// per sample; Doane three more summing passes over the reference (and a
/// sort in the rare case where rounding could change its bin count);
/// reference quantiles two passes over the reference (a bucket count and a
/// copy of the few buckets holding the wanted order statistics) and one
/// counting pass over the current sample.
///
/// # Errors
/// [`Error::NaN`] naming `reference` or `current`, then as [`histogram`].
pub fn histogram_unsorted(
    reference: &[f64],
    current: &[f64],
    binning: &Binning,
) -> Result<Histogram> {
    unsorted_histogram(reference, current, binning).map_err(|e| nan_first(reference, current, e))
}

fn unsorted_histogram(reference: &[f64], current: &[f64], binning: &Binning) -> Result<Histogram> {
    let parts = |edges: Vec<f64>, reference_counts: Vec<u64>, current_counts: Vec<u64>| Histogram {
        edges,
        reference: reference_counts,
        current: current_counts,
        n_reference: reference.len() as u64,
        n_current: current.len() as u64,
    };
    match binning {
        Binning::ReferenceQuantiles { bins } => {
            require_values(reference, "reference")?;
            require_values(current, "current")?;
            let bins = select::quantile_bins(reference, *bins)?;
            let counter = BinCounter::new(&bins.edges);
            let current_counts = count_values(&counter, current, "current", true)?;
            Ok(parts(bins.edges, bins.counts, current_counts))
        }
        Binning::EqualWidth { .. } | Binning::Sturges => {
            let r = extremes(reference, "reference")?;
            let c = extremes(current, "current")?;
            let r = r.ok_or_else(|| empty("reference"))?;
            let c = c.ok_or_else(|| empty("current"))?;
            let (lo, hi) = joint_range(r, c);
            let edges = match binning {
                Binning::EqualWidth { bins } => {
                    if *bins == 0 {
                        return Err(Error::invalid("bins", "must be at least 1"));
                    }
                    let (first, last) = outer_edges(lo, hi)?;
                    linspace_edges(first, last, *bins)?
                }
                _ => sturges_edges(lo, hi, reference.len() + current.len())?,
            };
            check_edges(&edges)?;
            let counter = BinCounter::new(&edges);
            let in_range = covers(&edges, lo, hi);
            let reference_counts = counter.count(reference, in_range, true).0;
            let current_counts = counter.count(current, in_range, true).0;
            Ok(parts(edges, reference_counts, current_counts))
        }
        Binning::Doane => {
            let r = extremes(reference, "reference")?;
            let (lo, hi) = r.ok_or_else(|| empty("reference"))?;
            require_values(current, "current")?;
            let edges = doane_edges_unsorted(reference, lo, hi)?;
            check_edges(&edges)?;
            let counter = BinCounter::new(&edges);
            let reference_counts = counter.count(reference, covers(&edges, lo, hi), true).0;
            let current_counts = count_values(&counter, current, "current", false)?;
            Ok(parts(edges, reference_counts, current_counts))
        }
        Binning::Edges(edges) => {
            require_values(reference, "reference")?;
            require_values(current, "current")?;
            check_edges(edges)?;
            let counter = BinCounter::new(edges);
            let reference_counts = count_values(&counter, reference, "reference", false)?;
            let current_counts = count_values(&counter, current, "current", false)?;
            Ok(parts(edges.clone(), reference_counts, current_counts))
        }
    }
}

/// Whether every value in `[lo, hi]` lies within the outer edges.
fn covers(edges: &[f64], lo: f64, hi: f64) -> bool {
    matches!((edges.first(), edges.last()), (Some(&a), Some(&b)) if a <= lo && b >= hi)
}

fn empty(what: &str) -> Error {
    Error::Empty {
        what: what.to_string(),
    }
}

fn require_values(values: &[f64], what: &str) -> Result<()> {
    if values.is_empty() {
        Err(empty(what))
    } else {
        Ok(())
    }
}

/// Counts of NaN-checked `values`; a NaN is an error naming `what`.
fn count_values(
    counter: &BinCounter<'_>,
    values: &[f64],
    what: &str,
    in_range: bool,
) -> Result<Vec<u64>> {
    let (counts, nan) = counter.count(values, in_range, false);
    if nan {
        reject_nan(values, what)?;
    }
    Ok(counts)
}

/// The sorted path rejects NaN while building the samples, before any other
/// check; the unsorted path finds it later, so its other errors defer to it.
fn nan_first(reference: &[f64], current: &[f64], error: Error) -> Error {
    if matches!(error, Error::NaN { .. }) {
        return error;
    }
    match reject_nan(reference, "reference").and_then(|()| reject_nan(current, "current")) {
        Err(nan) => nan,
        Ok(()) => error,
    }
}

/// The ends a sorted copy of `values` would have, `(first, last)` in
/// `total_cmp` order; `None` when empty.
///
/// # Errors
/// [`Error::NaN`] naming `what`.
fn extremes(values: &[f64], what: &str) -> Result<Option<(f64, f64)>> {
    const LANES: usize = 4;
    let mut lo = [f64::INFINITY; LANES];
    let mut hi = [f64::NEG_INFINITY; LANES];
    // `x * 0.0` is NaN exactly for NaN and infinite `x`, and NaN sticks: a
    // vectorisable probe; infinities alone cost a needless scan.
    let mut nan = [0.0f64; LANES];
    let chunks = values.chunks_exact(LANES);
    let rest = chunks.remainder();
    let see = |x: f64, l: &mut f64, h: &mut f64, n: &mut f64| {
        *l = if x < *l { x } else { *l };
        *h = if x > *h { x } else { *h };
        *n += x * 0.0;
    };
    for chunk in chunks {
        for (((&x, l), h), n) in chunk.iter().zip(&mut lo).zip(&mut hi).zip(&mut nan) {
            see(x, l, h, n);
        }
    }
    let ([l, ..], [h, ..], [n, ..]) = (&mut lo, &mut hi, &mut nan);
    for &x in rest {
        see(x, l, h, n);
    }
    if nan.iter().any(|n| n.is_nan()) {
        reject_nan(values, what)?;
    }
    if values.is_empty() {
        return Ok(None);
    }
    let mut min = lo
        .iter()
        .fold(f64::INFINITY, |a, &b| if b < a { b } else { a });
    let mut max = hi
        .iter()
        .fold(f64::NEG_INFINITY, |a, &b| if b > a { b } else { a });
    // `<` does not order the zeros; total_cmp puts -0.0 first.
    let has = |bits: u64| values.iter().any(|x| x.to_bits() == bits);
    if min == 0.0 {
        min = if has((-0.0f64).to_bits()) { -0.0 } else { 0.0 };
    }
    if max == 0.0 {
        max = if has(0.0f64.to_bits()) { 0.0 } else { -0.0 };
    }
    Ok(Some((min, max)))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::testing::sample;

    #[test]
    fn quantile_matches_numpy() {
        // np.quantile([1., 2., 4., 8., 16.], [0.1, 0.3, 0.5, 0.7, 0.9])
        // -> [1.4, 2.4000000000000004, 4.0, 7.200000000000001, 12.800000000000004]
        let v = [1.0, 2.0, 4.0, 8.0, 16.0];
        let got: Vec<f64> = [0.1, 0.30000000000000004, 0.5, 0.7000000000000001, 0.9]
            .iter()
            .map(|&q| quantile_linear_by(v.len(), q, &mut |i| v.get(i).copied()))
            .collect();
        assert_eq!(
            got,
            vec![1.4, 2.4000000000000004, 4.0, 7.200000000000001, 12.8]
        );
    }

    #[test]
    fn quantile_bins_count_left_closed() {
        // inner = np.unique(np.quantile(ref, [.25, .5, .75])) = [1.75, 2.5, 3.25]
        let r = sample(&[1.0, 2.0, 3.0, 4.0]);
        let c = sample(&[1.75, 1.75, 2.5, 9.0, -9.0]);
        let h = histogram(&r, &c, &Binning::ReferenceQuantiles { bins: 4 }).unwrap();
        assert_eq!(h.inner_edges(), &[1.75, 2.5, 3.25]);
        assert_eq!(h.reference(), &[1, 1, 1, 1]);
        // np.bincount(np.searchsorted(inner, cur, side="right"), minlength=4)
        assert_eq!(h.current(), &[1, 2, 1, 1]);
    }

    #[test]
    fn constant_reference_collapses_quantiles() {
        let r = sample(&[3.0; 5]);
        let c = sample(&[2.0, 3.0, 4.0]);
        let h = histogram(&r, &c, &Binning::ReferenceQuantiles { bins: 10 }).unwrap();
        assert_eq!(h.inner_edges(), &[3.0]);
        assert_eq!(h.reference(), &[0, 5]);
        assert_eq!(h.current(), &[1, 2]);
    }

    #[test]
    fn equal_width_matches_numpy() {
        // np.histogram_bin_edges([0., 1.], bins=3) -> [0., 0.3333333333333333, 0.6666666666666666, 1.]
        let r = sample(&[0.0, 0.5, 1.0]);
        let c = sample(&[0.25, 1.0]);
        let h = histogram(&r, &c, &Binning::EqualWidth { bins: 3 }).unwrap();
        assert_eq!(
            h.edges(),
            &[0.0, 0.3333333333333333, 0.6666666666666666, 1.0]
        );
        assert_eq!(h.reference(), &[1, 1, 1]);
        assert_eq!(h.current(), &[1, 0, 1]);
        // constant data: np.histogram_bin_edges([2., 2.], bins=2) -> [1.5, 2., 2.5]
        let k = sample(&[2.0, 2.0]);
        let h = histogram(&k, &k, &Binning::EqualWidth { bins: 2 }).unwrap();
        assert_eq!(h.edges(), &[1.5, 2.0, 2.5]);
        assert_eq!(h.reference(), &[0, 2]);
    }

    #[test]
    fn sturges_and_doane_bin_counts() {
        // np.histogram_bin_edges(np.arange(100.), bins='sturges').size - 1 == 8
        let v: Vec<f64> = (0..100).map(f64::from).collect();
        let s = sample(&v);
        let e = bin_edges(&sample(&v[..50]), &sample(&v[50..]), &Binning::Sturges).unwrap();
        assert_eq!(e.len(), 9);
        // np.histogram_bin_edges(np.arange(100.), bins='doane').size - 1 == 8
        let e = bin_edges(&s, &s, &Binning::Doane).unwrap();
        assert_eq!(e.len(), 9);
        // skewed: x = np.arange(100.)**3; np.histogram_bin_edges(x, bins='doane').size - 1 == 11
        let cubes: Vec<f64> = (0..100).map(|i| f64::from(i).powi(3)).collect();
        let e = bin_edges(&sample(&cubes), &s, &Binning::Doane).unwrap();
        assert_eq!(e.len(), 12);
    }

    #[test]
    fn merge_checks_edges() {
        let a = sample(&[0.1, 0.2]);
        let mut h = Histogram::with_edges(vec![0.0, 0.5, 1.0], &a, &a).unwrap();
        let g = Histogram::with_edges(vec![0.0, 0.6, 1.0], &a, &a).unwrap();
        assert!(matches!(h.merge(&g), Err(Error::Merge { .. })));
        assert!(Histogram::with_edges(vec![1.0, 0.0], &a, &a).is_err());
        assert!(histogram(&a, &a, &Binning::EqualWidth { bins: 0 }).is_err());
    }

    #[test]
    fn values_outside_fixed_edges_are_dropped() {
        let r = sample(&[-1.0, 0.0, 0.5, 1.0, 2.0]);
        let h = Histogram::with_edges(vec![0.0, 0.5, 1.0], &r, &r).unwrap();
        assert_eq!(h.reference(), &[1, 2]);
        assert_eq!(h.n_reference(), 5);
        assert_eq!(h.reference_proportions(), vec![0.2, 0.4]);
    }
}
