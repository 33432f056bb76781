//! Maximum Mean Discrepancy (MMD) two-sample test with a Gaussian RBF kernel
//! `k(a, b) = exp(−‖a − b‖² / (2σ²))` and a permutation p-value.
//!
//! # What is computed
//!
//! With `X` the `n` reference rows and `Y` the `m` current rows, the default
//! [`MmdEstimator::Unbiased`] statistic is Evidently's `empirical_mmd` (its
//! `mmd_2samp` on the kernel matrix with a zeroed diagonal):
//!
//! ```text
//! MMD²_u = Σ_{i≠j} k(x_i, x_j) / (n(n−1)) + Σ_{i≠j} k(y_i, y_j) / (m(m−1)) − 2 Σ_{i,j} k(x_i, y_j) / (nm)
//! ```
//!
//! It can be slightly negative. [`MmdEstimator::Biased`] keeps the diagonal
//! (`/n²`, `/m²`): the squared RKHS distance between the two empirical kernel
//! mean embeddings, which is ≥ 0 and exactly 0 in exact arithmetic for
//! identical samples.
//!
//! σ is [`MmdConfig::sigma`], or by default a median heuristic on the
//! reference alone: `σ = sqrt(0.5 · d²_(r))`, where `d²_(r)` is the element of
//! rank `r` (0-based) among all `n²` squared distances of the reference with
//! itself, diagonal zeros included, and `σ = sqrt(0.5)` when it is 0.
//! [`MedianRule::Evidently`] (the default) takes Evidently's rank, numpy's
//! `percentile(d², 50, method="nearest")`, i.e. `r = ⌊n²/2⌋`;
//! [`MedianRule::Alibi`] takes alibi-detect's `sigma_median` rank
//! `r = n + ⌊(n² − n)/2⌋ − 1` (alibi's `MMDDrift` also infers σ from `x_ref`
//! alone). Distances are computed as `Σ (a_k − b_k)²`, which is
//! Evidently's `x² − 2xy + y²` without its cancellation, and in any number of
//! dimensions (Evidently's formula is only right in one).
//!
//! The p-value is `(1 + #{b : MMD²_b ≥ MMD²}) / (1 + B)` over `B`
//! [`permutations`](MmdConfig::permutations) of the pooled rows, drawn from a
//! `ChaCha8Rng` seeded with [`MmdConfig::seed`], so it is reproducible and
//! never 0. Evidently reports `#{b : MMD²_b ≥ MMD²} / B` with an unseeded
//! generator, so its p-values differ by design; the statistic matches.
//!
//! # Cost
//!
//! The test is quadratic: it keeps the upper triangle of the pooled kernel
//! matrix (`N(N−1)/2` values, `N = n + m`) and every permutation is one pass
//! over it. A sample with more than [`MmdConfig::max_rows`] rows is first
//! subsampled without replacement (seeded by the same generator), so the
//! default of 2000 bounds the work at about 8·10⁶ kernel values (64 MB) and
//! `8·10⁸` multiply-adds for 100 permutations whatever the input size.

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::outcome::TestResult;

/// The largest [`MmdConfig::max_rows`] accepted: the pooled kernel of two
/// samples this size is 1.6 GB.
pub const MAX_ROWS_LIMIT: usize = 10_000;

/// Which MMD² estimator is the statistic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MmdEstimator {
    /// Within-sample sums without the diagonal, over `n(n−1)` and `m(m−1)`
    /// (Evidently's `empirical_mmd`, alibi's `mmd2`). Needs 2 rows per sample.
    #[default]
    Unbiased,
    /// Within-sample sums with the diagonal, over `n²` and `m²`: the V-statistic.
    Biased,
}

/// The rank of the median heuristic's "median" (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MedianRule {
    /// numpy's nearest-rank median, `⌊n²/2⌋` (Evidently).
    #[default]
    Evidently,
    /// `n + ⌊(n² − n)/2⌋ − 1` (alibi-detect's `sigma_median`).
    Alibi,
}

/// Settings of [`mmd_permutation_test`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MmdConfig {
    /// Number of permutations for the p-value (Evidently and alibi use 100).
    pub permutations: usize,
    /// Seed of the `ChaCha8Rng` drawing the subsamples and permutations.
    pub seed: u64,
    /// Kernel bandwidth σ; `None` for the median heuristic on the reference.
    pub sigma: Option<f64>,
    /// Which rank the median heuristic takes when `sigma` is `None`.
    pub median_rule: MedianRule,
    /// Samples with more rows are subsampled to this many (at most [`MAX_ROWS_LIMIT`]).
    pub max_rows: usize,
    /// The statistic's estimator.
    pub estimator: MmdEstimator,
}

impl Default for MmdConfig {
    fn default() -> Self {
        MmdConfig {
            permutations: 100,
            seed: 0,
            sigma: None,
            median_rule: MedianRule::Evidently,
            max_rows: 2000,
            estimator: MmdEstimator::Unbiased,
        }
    }
}

/// MMD² permutation test between two samples of rows (each row one point, all
/// rows the same length). A row-major buffer `data` with `d` columns can be
/// passed as `data.chunks_exact(d).collect::<Vec<_>>()`.
///
/// Returns the MMD² statistic of the (possibly subsampled) data and the
/// permutation p-value; see the [module documentation](self).
///
/// # Errors
/// [`Error::Empty`] for a sample with no rows; [`Error::InvalidParameter`] for
/// rows of differing lengths or no columns, infinite values, a σ that is not
/// finite and positive, `permutations == 0`, or `max_rows` outside
/// `2..=MAX_ROWS_LIMIT`; [`Error::NaN`] (with the row index) for a NaN;
/// [`Error::Undefined`] for the unbiased estimator on a sample of one row.
pub fn mmd_permutation_test<A: AsRef<[f64]>, B: AsRef<[f64]>>(
    reference: &[A],
    current: &[B],
    config: &MmdConfig,
) -> Result<TestResult> {
    let dim = reference.first().map_or(0, |row| row.as_ref().len());
    run(
        Sample {
            len: reference.len(),
            row: |i| reference.get(i).map(AsRef::as_ref),
            what: "reference",
        },
        Sample {
            len: current.len(),
            row: |i| current.get(i).map(AsRef::as_ref),
            what: "current",
        },
        dim,
        config,
    )
}

/// [`mmd_permutation_test`] for one-dimensional samples (Evidently's case).
///
/// # Errors
/// As [`mmd_permutation_test`].
pub fn mmd_permutation_test_1d(
    reference: &[f64],
    current: &[f64],
    config: &MmdConfig,
) -> Result<TestResult> {
    run(
        Sample {
            len: reference.len(),
            row: |i| reference.get(i..=i),
            what: "reference",
        },
        Sample {
            len: current.len(),
            row: |i| current.get(i..=i),
            what: "current",
        },
        1,
        config,
    )
}

/// Rows reached through an accessor, so slices of rows and flat 1-D slices share one path.
struct Sample<'a, F: Fn(usize) -> Option<&'a [f64]>> {
    len: usize,
    row: F,
    what: &'static str,
}

impl<'a, F: Fn(usize) -> Option<&'a [f64]>> Sample<'a, F> {
    /// Check every row, then copy the chosen ones (all, or a seeded subsample)
    /// into one row-major buffer.
    fn gather(&self, dim: usize, max_rows: usize, rng: &mut ChaCha8Rng) -> Result<Vec<f64>> {
        if self.len == 0 {
            return Err(Error::Empty {
                what: self.what.to_string(),
            });
        }
        for i in 0..self.len {
            let row = (self.row)(i).unwrap_or(&[]);
            if row.len() != dim {
                return Err(Error::invalid(
                    self.what,
                    format!("row {i} has {} values, expected {dim}", row.len()),
                ));
            }
            if row.iter().any(|v| v.is_nan()) {
                return Err(Error::NaN {
                    what: self.what.to_string(),
                    index: i,
                });
            }
            if row.iter().any(|v| v.is_infinite()) {
                return Err(Error::invalid(
                    self.what,
                    format!("row {i} holds an infinite value"),
                ));
            }
        }
        let chosen: Vec<usize> = if self.len > max_rows {
            let mut chosen = rand::seq::index::sample(rng, self.len, max_rows).into_vec();
            chosen.sort_unstable();
            chosen
        } else {
            (0..self.len).collect()
        };
        let mut out = Vec::with_capacity(chosen.len() * dim);
        for i in chosen {
            out.extend_from_slice((self.row)(i).unwrap_or(&[]));
        }
        Ok(out)
    }
}

fn run<'a, 'b, F, G>(
    reference: Sample<'a, F>,
    current: Sample<'b, G>,
    dim: usize,
    config: &MmdConfig,
) -> Result<TestResult>
where
    F: Fn(usize) -> Option<&'a [f64]>,
    G: Fn(usize) -> Option<&'b [f64]>,
{
    if config.permutations == 0 {
        return Err(Error::invalid("permutations", "must be at least 1"));
    }
    if !(2..=MAX_ROWS_LIMIT).contains(&config.max_rows) {
        return Err(Error::invalid(
            "max_rows",
            format!("must be in 2..={MAX_ROWS_LIMIT}, got {}", config.max_rows),
        ));
    }
    if let Some(sigma) = config.sigma
        && !(sigma.is_finite() && sigma > 0.0)
    {
        return Err(Error::invalid(
            "sigma",
            format!("must be finite and positive, got {sigma}"),
        ));
    }
    if reference.len > 0 && dim == 0 {
        return Err(Error::invalid("reference", "rows have no values"));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    let x = reference.gather(dim, config.max_rows, &mut rng)?;
    let y = current.gather(dim, config.max_rows, &mut rng)?;
    let (n, m) = (x.len() / dim, y.len() / dim);
    if config.estimator == MmdEstimator::Unbiased && (n < 2 || m < 2) {
        return Err(Error::undefined(
            "MMD",
            format!("the unbiased estimator needs 2 rows per sample, got {n} and {m}"),
        ));
    }
    let sigma = config
        .sigma
        .unwrap_or_else(|| median_heuristic_sigma(&x, dim, config.median_rule));
    let gamma = 1.0 / (2.0 * sigma * sigma);

    let mut pooled = x;
    pooled.extend_from_slice(&y);
    let kernel = packed_kernel(&pooled, dim, gamma);
    let total = n + m;

    let mut labels: Vec<f64> = std::iter::repeat_n(1.0, n)
        .chain(std::iter::repeat_n(0.0, m))
        .collect();
    let statistic = |labels: &[f64]| {
        let (sxx, syy, sxy) = split_sums(&kernel, total, labels);
        estimate(config.estimator, n as f64, m as f64, sxx, syy, sxy)
    };
    let observed = statistic(&labels);
    let mut at_least = 0usize;
    for _ in 0..config.permutations {
        labels.shuffle(&mut rng);
        if statistic(&labels) >= observed {
            at_least += 1;
        }
    }
    let pvalue = (1 + at_least) as f64 / (1 + config.permutations) as f64;
    Ok(TestResult::test(observed, pvalue))
}

fn squared_distance(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(u, v)| (u - v) * (u - v)).sum()
}

/// The median heuristic on the row-major points `x` (see the module docs).
fn median_heuristic_sigma(x: &[f64], dim: usize, rule: MedianRule) -> f64 {
    let rows: Vec<&[f64]> = x.chunks_exact(dim).collect();
    let n = rows.len();
    // numpy's "nearest" rank of the median of n² values is ⌊n²/2⌋ (round half
    // to even lands there for both parities). The sorted n² values are the n
    // diagonal zeros followed by each off-diagonal pair twice.
    let rank = match rule {
        MedianRule::Evidently => n * n / 2,
        MedianRule::Alibi => (n + (n * n - n) / 2).saturating_sub(1),
    };
    let median = if rank < n {
        0.0
    } else {
        let mut pairs = Vec::with_capacity(n * (n - 1) / 2);
        for (i, a) in rows.iter().enumerate() {
            for b in rows.iter().skip(i + 1) {
                pairs.push(squared_distance(a, b));
            }
        }
        let index = (rank - n) / 2;
        if index < pairs.len() {
            let (_, median, _) = pairs.select_nth_unstable_by(index, f64::total_cmp);
            *median
        } else {
            0.0
        }
    };
    let sigma = (0.5 * median).sqrt();
    if sigma == 0.0 { 0.5f64.sqrt() } else { sigma }
}

/// Upper triangle (without the diagonal) of the kernel matrix of the
/// row-major points, row by row.
fn packed_kernel(points: &[f64], dim: usize, gamma: f64) -> Vec<f64> {
    let rows: Vec<&[f64]> = points.chunks_exact(dim).collect();
    let n = rows.len();
    let mut kernel = Vec::with_capacity(n * n.saturating_sub(1) / 2);
    for (i, a) in rows.iter().enumerate() {
        kernel.extend(
            rows.iter()
                .skip(i + 1)
                .map(|b| (-gamma * squared_distance(a, b)).exp()),
        );
    }
    kernel
}

/// Sums of the kernel over pairs `i < j` within the first sample, within the
/// second, and across, for labels 1.0 (first sample) / 0.0 (second).
fn split_sums(kernel: &[f64], total: usize, labels: &[f64]) -> (f64, f64, f64) {
    let (mut sxx, mut syy, mut sxy) = (0.0, 0.0, 0.0);
    let mut rest = kernel;
    for (i, &label) in labels.iter().enumerate().take(total) {
        let width = total - 1 - i;
        let Some((row, tail)) = rest.split_at_checked(width) else {
            break;
        };
        rest = tail;
        let (to_x, to_y) = labelled_row_sums(row, labels.get(i + 1..).unwrap_or(&[]));
        if label == 1.0 {
            sxx += to_x;
            sxy += to_y;
        } else {
            syy += to_y;
            sxy += to_x;
        }
    }
    (sxx, syy, sxy)
}

/// `(Σ k·w, Σ k·(1 − w))` for 0/1 weights `w`, in four lanes so the compiler
/// vectorizes it. `k − k·w` is exact for such weights, so neither sum carries
/// cancellation error.
fn labelled_row_sums(row: &[f64], weights: &[f64]) -> (f64, f64) {
    let mut to_x = [0.0f64; 4];
    let mut to_y = [0.0f64; 4];
    let rows = row.chunks_exact(4);
    let weight_chunks = weights.chunks_exact(4);
    let (row_tail, weight_tail) = (rows.remainder(), weight_chunks.remainder());
    for (k, w) in rows.zip(weight_chunks) {
        if let (Ok(k), Ok(w)) = (<&[f64; 4]>::try_from(k), <&[f64; 4]>::try_from(w)) {
            for ((k, w), (x, y)) in k.iter().zip(w).zip(to_x.iter_mut().zip(to_y.iter_mut())) {
                let kw = k * w;
                *x += kw;
                *y += k - kw;
            }
        }
    }
    let (mut sx, mut sy) = (
        (to_x[0] + to_x[1]) + (to_x[2] + to_x[3]),
        (to_y[0] + to_y[1]) + (to_y[2] + to_y[3]),
    );
    for (k, w) in row_tail.iter().zip(weight_tail) {
        let kw = k * w;
        sx += kw;
        sy += k - kw;
    }
    (sx, sy)
}

/// MMD² from the pair sums (each unordered pair counted once).
fn estimate(estimator: MmdEstimator, n: f64, m: f64, sxx: f64, syy: f64, sxy: f64) -> f64 {
    match estimator {
        MmdEstimator::Unbiased => {
            (1.0 / (n * (n - 1.0))) * (2.0 * sxx) + (1.0 / (m * (m - 1.0))) * (2.0 * syy)
                - 2.0 * (sxy / (n * m))
        }
        MmdEstimator::Biased => {
            (n + 2.0 * sxx) / (n * n) + (m + 2.0 * syy) / (m * m) - 2.0 * (sxy / (n * m))
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn config() -> MmdConfig {
        MmdConfig {
            seed: 7,
            ..MmdConfig::default()
        }
    }

    #[test]
    fn median_rank_matches_numpy_nearest() {
        // numpy: sigma = (0.5*np.percentile(d.flatten(), 50, method="nearest"))**0.5
        // with d the full 4x4 squared-distance matrix of [0, 1, 3, 7]:
        // sorted values 0,0,0,0,1,1,4,4,9,9,16,16,36,36,49,49 -> index 8 -> 9.
        let sigma = median_heuristic_sigma(&[0.0, 1.0, 3.0, 7.0], 1, MedianRule::Evidently);
        assert_eq!(sigma, (0.5f64 * 9.0).sqrt());
        // 3 points [0, 2, 5]: 9 values 0,0,0,4,4,9,9,25,25 -> index 4 -> 4.
        assert_eq!(
            median_heuristic_sigma(&[0.0, 2.0, 5.0], 1, MedianRule::Evidently),
            2.0f64.sqrt()
        );
        // alibi: np.sort(d.reshape(-1))[n + (d.size - n) // 2 - 1] is rank 9
        // (value 9) for [0, 1, 3, 7] and rank 5 (value 9, where Evidently's
        // rank 4 gives 4) for [0, 2, 5].
        assert_eq!(
            median_heuristic_sigma(&[0.0, 1.0, 3.0, 7.0], 1, MedianRule::Alibi),
            (0.5f64 * 9.0).sqrt()
        );
        assert_eq!(
            median_heuristic_sigma(&[0.0, 2.0, 5.0], 1, MedianRule::Alibi),
            (0.5f64 * 9.0).sqrt()
        );
        // Constant data: median 0 falls back to sqrt(0.5).
        assert_eq!(
            median_heuristic_sigma(&[1.0, 1.0, 1.0], 1, MedianRule::Evidently),
            0.5f64.sqrt()
        );
        assert_eq!(
            median_heuristic_sigma(&[1.0], 1, MedianRule::Alibi),
            0.5f64.sqrt()
        );
    }

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * b.abs()
    }

    fn sample_1d() -> (Vec<f64>, Vec<f64>) {
        let x = (0..60)
            .map(|i| ((i * 37) % 101) as f64 / 10.0 - 5.0)
            .collect();
        let y = (0..45)
            .map(|i| ((i * 53) % 97) as f64 / 8.0 - 4.5)
            .collect();
        (x, y)
    }

    fn sample_2d() -> (Vec<[f64; 2]>, Vec<[f64; 2]>) {
        let x = (0..50)
            .map(|i| {
                [
                    ((i * 37) % 101) as f64 / 10.0 - 5.0,
                    ((i * 11) % 23) as f64 / 4.0,
                ]
            })
            .collect();
        let y = (0..40)
            .map(|i| {
                [
                    ((i * 53) % 97) as f64 / 8.0 - 4.5,
                    ((i * 13) % 29) as f64 / 5.0 + 0.5,
                ]
            })
            .collect();
        (x, y)
    }

    #[test]
    fn one_dimensional_statistic_matches_evidently() {
        // Evidently's mmd_stattest (kernel_matrix, zeroed diagonal, mmd_2samp
        // without permutation) on x = [((i*37) % 101)/10 - 5 for i in range(60)],
        // y = [((i*53) % 97)/8 - 4.5 for i in range(45)]: 0.01166225810044419,
        // sigma 2.1213203435596424. The cancellation-free numpy reference gives
        // 0.011662258100444411 (biased: 0.035437414337229134).
        let (x, y) = sample_1d();
        let r = mmd_permutation_test_1d(&x, &y, &config()).unwrap();
        assert!(
            close(r.statistic, 0.011662258100444411, 1e-12),
            "{}",
            r.statistic
        );
        assert!(close(r.statistic, 0.01166225810044419, 1e-12));
        let biased = MmdConfig {
            estimator: MmdEstimator::Biased,
            ..config()
        };
        let r = mmd_permutation_test_1d(&x, &y, &biased).unwrap();
        assert!(
            close(r.statistic, 0.035437414337229134, 1e-12),
            "{}",
            r.statistic
        );
        assert_eq!(
            median_heuristic_sigma(&x, 1, MedianRule::Evidently),
            2.1213203435596424
        );
    }

    #[test]
    fn multivariate_statistic_matches_numpy() {
        // numpy: sum over columns of squared differences, same median heuristic:
        // unbiased 0.03216029716947055, biased 0.05865537732430748, sigma 2.9274562336608896;
        // with sigma = 1.5: unbiased 0.05271096685102955, biased 0.08946432032150597.
        let (x, y) = sample_2d();
        let expect = [
            (None, MmdEstimator::Unbiased, 0.03216029716947055),
            (None, MmdEstimator::Biased, 0.05865537732430748),
            (Some(1.5), MmdEstimator::Unbiased, 0.05271096685102955),
            (Some(1.5), MmdEstimator::Biased, 0.08946432032150597),
        ];
        for (sigma, estimator, value) in expect {
            let c = MmdConfig {
                sigma,
                estimator,
                ..config()
            };
            let r = mmd_permutation_test(&x, &y, &c).unwrap();
            assert!(
                close(r.statistic, value, 1e-12),
                "{sigma:?} {estimator:?}: {}",
                r.statistic
            );
        }
    }

    #[test]
    fn pvalue_is_seeded_and_detects_a_shift() {
        let (x, _) = sample_1d();
        let shifted: Vec<f64> = x.iter().map(|v| v + 3.0).collect();
        let a = mmd_permutation_test_1d(&x, &shifted, &config()).unwrap();
        let b = mmd_permutation_test_1d(&x, &shifted, &config()).unwrap();
        assert_eq!(a, b);
        // No permutation beats a 3-unit shift: p = 1/101.
        assert_eq!(a.pvalue, Some(1.0 / 101.0));
        let same = mmd_permutation_test_1d(&x, &x, &config()).unwrap();
        assert!(same.pvalue.unwrap() > 0.5, "{same:?}");
    }

    #[test]
    fn large_inputs_are_subsampled() {
        let x: Vec<f64> = (0..50_000)
            .map(|i| ((i * 7919) % 10007) as f64 / 1000.0)
            .collect();
        let y: Vec<f64> = x.iter().map(|v| v * 1.01).collect();
        let c = MmdConfig {
            max_rows: 300,
            permutations: 20,
            ..config()
        };
        let a = mmd_permutation_test_1d(&x, &y, &c).unwrap();
        assert_eq!(a, mmd_permutation_test_1d(&x, &y, &c).unwrap());
        let other_seed = mmd_permutation_test_1d(&x, &y, &MmdConfig { seed: 8, ..c }).unwrap();
        assert_ne!(a.statistic, other_seed.statistic);
    }

    #[test]
    fn errors_name_the_sample() {
        let c = config();
        let empty: [f64; 0] = [];
        assert!(
            matches!(mmd_permutation_test_1d(&empty, &[1.0, 2.0], &c), Err(Error::Empty { what }) if what == "reference")
        );
        assert!(
            matches!(mmd_permutation_test_1d(&[1.0, 2.0], &[f64::NAN, 1.0], &c), Err(Error::NaN { what, index: 0 }) if what == "current")
        );
        assert!(matches!(
            mmd_permutation_test_1d(&[1.0, f64::INFINITY], &[1.0, 2.0], &c),
            Err(Error::InvalidParameter { .. })
        ));
        assert!(matches!(
            mmd_permutation_test_1d(&[1.0], &[1.0, 2.0], &c),
            Err(Error::Undefined { .. })
        ));
        let ragged = [vec![1.0, 2.0], vec![3.0]];
        assert!(matches!(
            mmd_permutation_test(&ragged, &ragged, &c),
            Err(Error::InvalidParameter { .. })
        ));
        for bad in [
            MmdConfig {
                permutations: 0,
                ..c
            },
            MmdConfig { max_rows: 1, ..c },
            MmdConfig {
                max_rows: MAX_ROWS_LIMIT + 1,
                ..c
            },
            MmdConfig {
                sigma: Some(0.0),
                ..c
            },
            MmdConfig {
                sigma: Some(f64::NAN),
                ..c
            },
        ] {
            assert!(matches!(
                mmd_permutation_test_1d(&[1.0, 2.0], &[1.0, 2.0], &bad),
                Err(Error::InvalidParameter { .. })
            ));
        }
        let biased = MmdConfig {
            estimator: MmdEstimator::Biased,
            ..c
        };
        assert!(mmd_permutation_test_1d(&[1.0], &[2.0], &biased).is_ok());
    }
}
