//! Multivariate drift by PCA reconstruction error, as NannyML's
//! `DataReconstructionDriftCalculator` computes it for continuous columns.
//!
//! # Fitting ([`PcaDriftModel::fit`])
//!
//! 1. **Impute**: a NaN is replaced by its column's mean over the reference's
//!    non-NaN values (scikit-learn `SimpleImputer(strategy="mean")`, NannyML's
//!    default for continuous columns), in the reference and in every later
//!    evaluation. A reference column with no value at all is an error.
//! 2. **Standardize** with the imputed reference's column mean and population
//!    standard deviation (ddof 0, scikit-learn `StandardScaler`, with its
//!    corrected two-pass variance); a column whose variance is within rounding
//!    of zero keeps scale 1, as scikit-learn does.
//! 3. **PCA** on the standardized reference: the eigenvectors of its
//!    covariance matrix (what scikit-learn's `covariance_eigh` solver computes;
//!    the `full` SVD solver spans the same subspace), keeping the fewest
//!    components whose cumulative explained-variance ratio exceeds
//!    [`PcaConfig::variance_explained`] (scikit-learn's `n_components=0.65`:
//!    `searchsorted(cumsum(ratio), 0.65, side="right") + 1`).
//! 4. **Thresholds**: the reference is cut into chunks as NannyML's
//!    `DefaultChunker` does (`⌊n / chunks⌋` rows each, any remainder as one
//!    more, smaller chunk), the reconstruction error of each chunk is taken,
//!    and the thresholds are `mean ± 3·std` of those (NannyML's
//!    `StandardDeviationThreshold(3, 3)`, numpy's `std`, ddof 0). A lower
//!    threshold below 0 is dropped (NannyML's lower limit of 0).
//!
//! # The error ([`PcaDriftModel::reconstruction_error`])
//!
//! Each row is imputed and standardized to `z`, projected and mapped back
//! (`z' = ((z − μ)·Vᵀ)·V + μ`, scikit-learn's `transform` then
//! `inverse_transform`), and its error is the Euclidean norm `‖z − z'‖`. The
//! reconstruction error of a set of rows is the mean of these norms.
//! [`PcaDriftModel::evaluate`] flags drift when the error is not strictly
//! between the thresholds (NannyML's alert rule).
//!
//! Fitting is `O(n·p²)` for `n` rows of `p` columns plus an eigen
//! decomposition of a `p × p` matrix; evaluating is `O(n·p·k)` for `k`
//! components. Neither copies the data.

use std::ops::Range;

use nalgebra::{DMatrix, SymmetricEigen};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

const METHOD: &str = "PCA reconstruction error";

/// Settings of [`PcaDriftModel::fit_with`]; the defaults are NannyML's.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PcaConfig {
    /// Share of the variance the kept components must explain, in (0, 1).
    pub variance_explained: f64,
    /// Number of chunks the reference is cut into for the thresholds.
    pub chunks: usize,
    /// Multiple of the chunk errors' standard deviation on each side of their mean.
    pub std_multiplier: f64,
}

impl Default for PcaConfig {
    fn default() -> Self {
        PcaConfig {
            variance_explained: 0.65,
            chunks: 10,
            std_multiplier: 3.0,
        }
    }
}

/// The reconstruction error of evaluated rows against the reference's thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PcaDrift {
    /// Mean reconstruction error of the evaluated rows.
    pub error: f64,
    /// Lower threshold; `None` when `mean − 3·std` of the reference chunks is below 0.
    pub lower: Option<f64>,
    /// Upper threshold.
    pub upper: f64,
    /// Whether `error` is outside the open interval `(lower, upper)`.
    pub drifted: bool,
}

/// A PCA model fitted on reference rows, with its drift thresholds.
#[derive(Debug, Clone, PartialEq)]
pub struct PcaDriftModel {
    columns: usize,
    /// Per-column value substituted for NaN.
    impute: Vec<f64>,
    /// StandardScaler's mean and scale.
    center: Vec<f64>,
    scale: Vec<f64>,
    /// PCA's mean of the standardized reference.
    pca_mean: Vec<f64>,
    /// Kept components, row-major `k × columns`.
    components: Vec<f64>,
    explained_variance_ratio: Vec<f64>,
    chunk_errors: Vec<f64>,
    lower: Option<f64>,
    upper: f64,
    chunks: usize,
}

impl PcaDriftModel {
    /// Fit on reference rows with NannyML's defaults ([`PcaConfig::default`]).
    /// Every row is one observation with the same number of columns; a
    /// row-major buffer `data` with `p` columns can be passed as
    /// `data.chunks_exact(p).collect::<Vec<_>>()`.
    ///
    /// # Errors
    /// As [`fit_with`](Self::fit_with).
    pub fn fit<R: AsRef<[f64]>>(reference: &[R]) -> Result<Self> {
        Self::fit_with(reference, &PcaConfig::default())
    }

    /// Fit on reference rows; see the [module documentation](self) for the steps.
    ///
    /// # Errors
    /// [`Error::Empty`] for no rows or a column with no non-NaN value;
    /// [`Error::InvalidParameter`] for rows of differing lengths, no columns, an
    /// infinite value or a bad `config`; [`Error::Undefined`] when there are
    /// fewer rows than chunks (or than 2), or when no column varies.
    pub fn fit_with<R: AsRef<[f64]>>(reference: &[R], config: &PcaConfig) -> Result<Self> {
        if !(config.variance_explained > 0.0 && config.variance_explained < 1.0) {
            return Err(Error::invalid(
                "variance_explained",
                format!("must be in (0, 1), got {}", config.variance_explained),
            ));
        }
        if config.chunks == 0 {
            return Err(Error::invalid("chunks", "must be at least 1"));
        }
        if !(config.std_multiplier.is_finite() && config.std_multiplier >= 0.0) {
            return Err(Error::invalid(
                "std_multiplier",
                format!(
                    "must be finite and non-negative, got {}",
                    config.std_multiplier
                ),
            ));
        }
        let columns = reference.first().map_or(0, |row| row.as_ref().len());
        if reference.is_empty() {
            return Err(Error::Empty {
                what: "reference".to_string(),
            });
        }
        if columns == 0 {
            return Err(Error::invalid("reference", "rows have no values"));
        }
        check_rows(reference, columns, "reference")?;
        let n = reference.len();
        if n < config.chunks.max(2) {
            return Err(Error::undefined(
                METHOD,
                format!(
                    "the reference has {n} rows, fewer than {} chunks (or 2)",
                    config.chunks
                ),
            ));
        }
        let nf = n as f64;

        // Imputation means over the non-NaN values.
        let mut sums = vec![0.0; columns];
        let mut counts = vec![0usize; columns];
        for row in reference {
            for ((s, c), &v) in sums.iter_mut().zip(counts.iter_mut()).zip(row.as_ref()) {
                if !v.is_nan() {
                    *s += v;
                    *c += 1;
                }
            }
        }
        let mut impute = Vec::with_capacity(columns);
        for (j, (s, c)) in sums.iter().zip(&counts).enumerate() {
            if *c == 0 {
                return Err(Error::Empty {
                    what: format!("reference column {j}"),
                });
            }
            impute.push(s / *c as f64);
        }
        let impute_into = |row: &R, out: &mut [f64]| {
            for (o, (&v, &m)) in out.iter_mut().zip(row.as_ref().iter().zip(&impute)) {
                *o = if v.is_nan() { m } else { v };
            }
        };
        let mut buffer = vec![0.0; columns];

        // StandardScaler on the imputed data.
        let mut center = vec![0.0; columns];
        for row in reference {
            impute_into(row, &mut buffer);
            for (c, v) in center.iter_mut().zip(&buffer) {
                *c += v;
            }
        }
        center.iter_mut().for_each(|c| *c /= nf);
        let mut deviation = vec![0.0; columns];
        let mut squares = vec![0.0; columns];
        for row in reference {
            impute_into(row, &mut buffer);
            for ((d, s), (v, c)) in deviation
                .iter_mut()
                .zip(squares.iter_mut())
                .zip(buffer.iter().zip(&center))
            {
                let t = v - c;
                *d += t;
                *s += t * t;
            }
        }
        let mut scale = Vec::with_capacity(columns);
        for (j, ((d, s), c)) in deviation.iter().zip(&squares).zip(&center).enumerate() {
            let var = (s - d * d / nf) / nf;
            if !var.is_finite() {
                return Err(Error::invalid(
                    "reference",
                    format!("column {j} overflows the variance"),
                ));
            }
            let constant = var <= nf * f64::EPSILON * var + (nf * c * f64::EPSILON).powi(2);
            scale.push(if constant { 1.0 } else { var.sqrt() });
        }
        let standardize_into = |row: &R, out: &mut [f64]| {
            impute_into(row, out);
            for (o, (c, s)) in out.iter_mut().zip(center.iter().zip(&scale)) {
                *o = (*o - c) / s;
            }
        };

        // PCA mean and covariance (upper triangle, then mirrored) of the
        // standardized reference.
        let mut pca_mean = vec![0.0; columns];
        for row in reference {
            standardize_into(row, &mut buffer);
            for (m, z) in pca_mean.iter_mut().zip(&buffer) {
                *m += z;
            }
        }
        pca_mean.iter_mut().for_each(|m| *m /= nf);
        let mut covariance = DMatrix::<f64>::zeros(columns, columns);
        for row in reference {
            standardize_into(row, &mut buffer);
            for (z, m) in buffer.iter_mut().zip(&pca_mean) {
                *z -= m;
            }
            for (j, a) in buffer.iter().enumerate() {
                for (k, b) in buffer.iter().enumerate().skip(j) {
                    if let Some(c) = covariance.get_mut((j, k)) {
                        *c += a * b;
                    }
                }
            }
        }
        for j in 0..columns {
            for k in j..columns {
                let value = covariance.get((j, k)).copied().unwrap_or(0.0) / (nf - 1.0);
                if let Some(c) = covariance.get_mut((j, k)) {
                    *c = value;
                }
                if let Some(c) = covariance.get_mut((k, j)) {
                    *c = value;
                }
            }
        }

        let eigen = SymmetricEigen::try_new(covariance, f64::EPSILON, 1000 * columns.max(10))
            .ok_or_else(|| Error::undefined(METHOD, "the eigen decomposition did not converge"))?;
        let mut order: Vec<(f64, usize)> = eigen
            .eigenvalues
            .iter()
            .map(|&l| l.max(0.0))
            .zip(0..columns)
            .collect();
        order.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let total: f64 = order.iter().map(|(l, _)| l).sum();
        if !(total > 0.0 && total.is_finite()) {
            return Err(Error::undefined(METHOD, "no reference column varies"));
        }
        let explained_variance_ratio: Vec<f64> = order.iter().map(|(l, _)| l / total).collect();
        let mut cumulative = 0.0;
        let below = explained_variance_ratio
            .iter()
            .take_while(|r| {
                cumulative += **r;
                cumulative <= config.variance_explained
            })
            .count();
        let kept = (below + 1).min(columns);
        let mut components = Vec::with_capacity(kept * columns);
        for &(_, index) in order.iter().take(kept) {
            components.extend(eigen.eigenvectors.column(index).iter());
        }

        let mut model = PcaDriftModel {
            columns,
            impute,
            center,
            scale,
            pca_mean,
            components,
            explained_variance_ratio,
            chunk_errors: Vec::new(),
            lower: None,
            upper: f64::INFINITY,
            chunks: config.chunks,
        };
        let chunk_errors: Vec<f64> = chunk_ranges(n, config.chunks)
            .into_iter()
            .map(|range| model.mean_error(reference.get(range).unwrap_or(&[])))
            .collect();
        let count = chunk_errors.len() as f64;
        let mean = chunk_errors.iter().sum::<f64>() / count;
        let std = (chunk_errors
            .iter()
            .map(|e| (e - mean) * (e - mean))
            .sum::<f64>()
            / count)
            .sqrt();
        let lower = mean - config.std_multiplier * std;
        model.lower = (lower >= 0.0).then_some(lower);
        model.upper = mean + config.std_multiplier * std;
        model.chunk_errors = chunk_errors;
        Ok(model)
    }

    /// Number of columns the model was fitted on.
    pub fn columns(&self) -> usize {
        self.columns
    }

    /// Number of principal components kept.
    pub fn n_components(&self) -> usize {
        self.components.len() / self.columns.max(1)
    }

    /// Explained-variance ratio of every component, largest first.
    pub fn explained_variance_ratio(&self) -> &[f64] {
        &self.explained_variance_ratio
    }

    /// Reconstruction error of each reference chunk, in order.
    pub fn reference_chunk_errors(&self) -> &[f64] {
        &self.chunk_errors
    }

    /// `(lower, upper)` thresholds; see [`PcaDrift::lower`].
    pub fn thresholds(&self) -> (Option<f64>, f64) {
        (self.lower, self.upper)
    }

    /// Mean reconstruction error of `rows` (NaNs imputed with the reference means).
    ///
    /// # Errors
    /// [`Error::Empty`] for no rows; [`Error::InvalidParameter`] for a row of
    /// the wrong length or with an infinite value.
    pub fn reconstruction_error<R: AsRef<[f64]>>(&self, rows: &[R]) -> Result<f64> {
        if rows.is_empty() {
            return Err(Error::Empty {
                what: "current".to_string(),
            });
        }
        check_rows(rows, self.columns, "current")?;
        Ok(self.mean_error(rows))
    }

    /// The reconstruction error of all of `current` as one chunk, against the thresholds.
    ///
    /// # Errors
    /// As [`reconstruction_error`](Self::reconstruction_error).
    pub fn evaluate<R: AsRef<[f64]>>(&self, current: &[R]) -> Result<PcaDrift> {
        let error = self.reconstruction_error(current)?;
        Ok(self.judge(error))
    }

    /// `current` cut into chunks the way the reference was (NannyML evaluates
    /// analysis data chunk by chunk), each judged against the thresholds.
    ///
    /// # Errors
    /// As [`reconstruction_error`](Self::reconstruction_error), and
    /// [`Error::Undefined`] when `current` has fewer rows than chunks.
    pub fn evaluate_chunks<R: AsRef<[f64]>>(&self, current: &[R]) -> Result<Vec<PcaDrift>> {
        if current.is_empty() {
            return Err(Error::Empty {
                what: "current".to_string(),
            });
        }
        check_rows(current, self.columns, "current")?;
        if current.len() < self.chunks {
            return Err(Error::undefined(
                METHOD,
                format!(
                    "current has {} rows, fewer than {} chunks",
                    current.len(),
                    self.chunks
                ),
            ));
        }
        Ok(chunk_ranges(current.len(), self.chunks)
            .into_iter()
            .map(|range| self.judge(self.mean_error(current.get(range).unwrap_or(&[]))))
            .collect())
    }

    fn judge(&self, error: f64) -> PcaDrift {
        let inside = self.lower.unwrap_or(f64::NEG_INFINITY) < error && error < self.upper;
        PcaDrift {
            error,
            lower: self.lower,
            upper: self.upper,
            drifted: !inside,
        }
    }

    /// Mean of the rows' reconstruction errors; rows are already checked.
    fn mean_error<R: AsRef<[f64]>>(&self, rows: &[R]) -> f64 {
        let mut z = vec![0.0; self.columns];
        let mut scores = vec![0.0; self.n_components()];
        let total: f64 = rows
            .iter()
            .map(|row| self.row_error(row.as_ref(), &mut z, &mut scores))
            .sum();
        total / rows.len() as f64
    }

    fn row_error(&self, row: &[f64], z: &mut [f64], scores: &mut [f64]) -> f64 {
        for (z, (&v, (&fill, (&c, &s)))) in z.iter_mut().zip(
            row.iter()
                .zip(self.impute.iter().zip(self.center.iter().zip(&self.scale))),
        ) {
            let v = if v.is_nan() { fill } else { v };
            *z = (v - c) / s;
        }
        let components = self.components.chunks_exact(self.columns.max(1));
        for (score, component) in scores.iter_mut().zip(components.clone()) {
            *score = z
                .iter()
                .zip(&self.pca_mean)
                .zip(component)
                .map(|((z, m), v)| (z - m) * v)
                .sum();
        }
        let mut squared = 0.0;
        for (j, (&zj, &mj)) in z.iter().zip(&self.pca_mean).enumerate() {
            let projected: f64 = scores
                .iter()
                .zip(components.clone())
                .map(|(t, v)| t * v.get(j).copied().unwrap_or(0.0))
                .sum();
            let residual = zj - (projected + mj);
            squared += residual * residual;
        }
        squared.sqrt()
    }
}

fn check_rows<R: AsRef<[f64]>>(rows: &[R], columns: usize, what: &str) -> Result<()> {
    for (i, row) in rows.iter().enumerate() {
        let row = row.as_ref();
        if row.len() != columns {
            return Err(Error::invalid(
                what,
                format!("row {i} has {} values, expected {columns}", row.len()),
            ));
        }
        if row.iter().any(|v| v.is_infinite()) {
            return Err(Error::invalid(
                what,
                format!("row {i} holds an infinite value"),
            ));
        }
    }
    Ok(())
}

/// NannyML's `DefaultChunker`: chunks of `⌊n / chunks⌋` rows, then the
/// remainder as one more chunk. `n ≥ chunks ≥ 1` is checked by the callers.
fn chunk_ranges(n: usize, chunks: usize) -> Vec<Range<usize>> {
    let size = (n / chunks.max(1)).max(1);
    let full = n / size;
    let mut ranges: Vec<Range<usize>> = (0..full).map(|c| c * size..(c + 1) * size).collect();
    if !n.is_multiple_of(size) {
        ranges.push(full * size..n);
    }
    ranges
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    /// The fixed dataset of the numpy reimplementation (see `reference_model`).
    fn reference_rows() -> Vec<[f64; 4]> {
        (0..103)
            .map(|i| {
                let c0 = ((i * 37) % 101) as f64 / 10.0;
                let mut c1 = c0 * 0.5 + ((i * 11) % 23) as f64 / 4.0;
                let c2 = ((i * 53) % 97) as f64 / 8.0 - c0 * 0.3;
                let mut c3 = ((i * 13) % 29) as f64 / 5.0;
                if i % 17 == 3 {
                    c1 = f64::NAN;
                }
                if i % 23 == 5 {
                    c3 = f64::NAN;
                }
                [c0, c1, c2, c3]
            })
            .collect()
    }

    fn current_rows() -> Vec<[f64; 4]> {
        (0..37)
            .map(|i| {
                let mut c0 = ((i * 41) % 89) as f64 / 9.0;
                let c1 = -c0 * 0.4 + ((i * 7) % 19) as f64 / 3.0;
                let c2 = ((i * 31) % 83) as f64 / 7.0 + c0 * 0.2;
                let c3 = ((i * 17) % 31) as f64 / 4.0;
                if i % 11 == 4 {
                    c0 = f64::NAN;
                }
                [c0, c1, c2, c3]
            })
            .collect()
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * b.abs()
    }

    // Expected values from a numpy reimplementation of NannyML's steps
    // (nanmean imputation; StandardScaler's corrected two-pass variance;
    // PCA by np.linalg.svd of the centered standardized data, ratio = S²/ΣS²,
    // k = searchsorted(cumsum(ratio), 0.65, 'right') + 1; error = mean of
    // np.linalg.norm(z - ((z - mu) @ V.T @ V + mu), axis=1); DefaultChunker
    // with 103 rows -> 10 chunks of 10 and one of 3; thresholds
    // mean ± 3 * np.std(chunk_errors)).
    #[test]
    fn matches_numpy_reimplementation() {
        let model = PcaDriftModel::fit(&reference_rows()).unwrap();
        assert_eq!(model.n_components(), 2);
        let ratio = [
            0.41514731196226706,
            0.25041471027609546,
            0.24509715949895536,
            0.08934081826268209,
        ];
        for (a, b) in model.explained_variance_ratio().iter().zip(ratio) {
            assert!(close(*a, b), "{a} {b}");
        }
        let chunks = [
            1.1618935001480235,
            1.2904195634352384,
            1.3158458857965938,
            1.040662722870205,
            1.0525837978629817,
            1.186272774843526,
            0.9310380417898324,
            0.8954820199719145,
            0.7875607579994792,
            1.0549939150824463,
            0.7027912845996429,
        ];
        assert_eq!(model.reference_chunk_errors().len(), chunks.len());
        for (a, b) in model.reference_chunk_errors().iter().zip(chunks) {
            assert!(close(*a, b), "{a} {b}");
        }
        let (lower, upper) = model.thresholds();
        assert!(close(lower.unwrap(), 0.4764592215140244));
        assert!(close(upper, 1.599821553831409));
        assert!(close(
            model.reconstruction_error(&reference_rows()).unwrap(),
            1.0609311034155469
        ));
        let drift = model.evaluate(&current_rows()).unwrap();
        assert!(close(drift.error, 1.9259568594687946), "{}", drift.error);
        assert!(drift.drifted);
        assert!(!model.evaluate(&reference_rows()).unwrap().drifted);
    }

    #[test]
    fn more_variance_keeps_more_components() {
        // Same steps with n_components = 0.9: k = 3, current error
        // 1.5326157636578326, thresholds 0.291642073677448 .. 0.684983302770527.
        let config = PcaConfig {
            variance_explained: 0.9,
            ..PcaConfig::default()
        };
        let model = PcaDriftModel::fit_with(&reference_rows(), &config).unwrap();
        assert_eq!(model.n_components(), 3);
        let drift = model.evaluate(&current_rows()).unwrap();
        assert!(close(drift.error, 1.5326157636578326));
        assert!(close(drift.lower.unwrap(), 0.291642073677448));
        assert!(close(drift.upper, 0.684983302770527));
    }

    #[test]
    fn chunking_follows_nannyml() {
        assert_eq!(chunk_ranges(103, 10).len(), 11);
        assert_eq!(
            chunk_ranges(100, 10),
            (0..10).map(|c| c * 10..c * 10 + 10).collect::<Vec<_>>()
        );
        assert_eq!(chunk_ranges(19, 10).len(), 19);
        let model = PcaDriftModel::fit(&reference_rows()).unwrap();
        let per_chunk = model.evaluate_chunks(&current_rows()).unwrap();
        // 37 rows: chunks of 3, twelve full ones plus a remainder of 1.
        assert_eq!(per_chunk.len(), 13);
        assert!(matches!(
            model.evaluate_chunks(&current_rows()[..5]),
            Err(Error::Undefined { .. })
        ));
    }

    #[test]
    fn bad_input_is_rejected() {
        let rows = reference_rows();
        let empty: [[f64; 4]; 0] = [];
        assert!(matches!(
            PcaDriftModel::fit(&empty),
            Err(Error::Empty { .. })
        ));
        assert!(matches!(
            PcaDriftModel::fit(&rows[..5]),
            Err(Error::Undefined { .. })
        ));
        let ragged = vec![vec![1.0, 2.0]; 20]
            .into_iter()
            .chain([vec![1.0]])
            .collect::<Vec<_>>();
        assert!(matches!(
            PcaDriftModel::fit(&ragged),
            Err(Error::InvalidParameter { .. })
        ));
        let constant = vec![[1.0, 2.0]; 20];
        assert!(matches!(
            PcaDriftModel::fit(&constant),
            Err(Error::Undefined { .. })
        ));
        let mut no_values = vec![[1.0, f64::NAN]; 20];
        no_values[3][0] = 2.0;
        assert!(
            matches!(PcaDriftModel::fit(&no_values), Err(Error::Empty { what }) if what == "reference column 1")
        );
        let mut infinite = rows.clone();
        infinite[7][2] = f64::INFINITY;
        assert!(matches!(
            PcaDriftModel::fit(&infinite),
            Err(Error::InvalidParameter { .. })
        ));
        for config in [
            PcaConfig {
                variance_explained: 1.0,
                ..PcaConfig::default()
            },
            PcaConfig {
                chunks: 0,
                ..PcaConfig::default()
            },
            PcaConfig {
                std_multiplier: -1.0,
                ..PcaConfig::default()
            },
        ] {
            assert!(matches!(
                PcaDriftModel::fit_with(&rows, &config),
                Err(Error::InvalidParameter { .. })
            ));
        }
        let model = PcaDriftModel::fit(&rows).unwrap();
        assert!(matches!(
            model.reconstruction_error(&[[1.0, 2.0]]),
            Err(Error::InvalidParameter { .. })
        ));
        assert!(matches!(
            model.reconstruction_error(&empty),
            Err(Error::Empty { .. })
        ));
    }

    #[test]
    fn one_column_reconstructs_exactly() {
        let rows: Vec<[f64; 1]> = (0..30).map(|i| [i as f64]).collect();
        let model = PcaDriftModel::fit(&rows).unwrap();
        assert_eq!(model.n_components(), 1);
        assert!(model.reconstruction_error(&rows).unwrap() < 1e-14);
    }
}
