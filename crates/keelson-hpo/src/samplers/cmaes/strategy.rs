//! The search distribution N(m, σ²C) of CMA-ES and its update from one
//! ranked generation, after Hansen's tutorial ("The CMA Evolution Strategy:
//! A Tutorial", 2016) with its default negative ("active") weights; the
//! separable variant keeps C diagonal and learns it faster, as in Ros and
//! Hansen ("A Simple Modification in CMA-ES Achieving Linear Time and Space
//! Complexity", 2008); learning-rate adaptation is in [`super::lr_adapt`].
//!
//! Matrices are row-major `Vec<f64>` so that the state is plain serde
//! data; nalgebra only computes the eigendecomposition, once per
//! generation.

use nalgebra::{DMatrix, SymmetricEigen};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};

use super::lr_adapt::LrAdapt;

/// Hansen's termination thresholds; they only matter with restarts on.
const TOL_FUN: f64 = 1e-12;
/// σ times every coordinate's spread and evolution path below this times σ0.
const TOL_X: f64 = 1e-12;
/// σ times the largest axis above this times σ0: divergence.
const TOL_X_UP: f64 = 1e4;
/// The condition number of C above which it is no longer trustworthy.
const TOL_CONDITION: f64 = 1e14;
/// Eigenvalues of C are kept above this fraction of the largest one:
/// rounding can turn a tiny one negative.
const MIN_EIGEN_RATIO: f64 = 1e-20;
/// Sweeps the eigensolver may take before it reports failure (it converges
/// in a few dozen on any finite symmetric matrix).
const EIGEN_SWEEPS: usize = 10_000;
/// Guards the division by ‖C^(-1/2) y‖² of the negative weights.
const MIN_SQUARED_NORM: f64 = 1e-8;

/// The learning rates and recombination weights of a dimension and
/// population size; derived on demand, never stored.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Rates {
    /// The number of positively weighted (selected) solutions.
    pub(super) mu: usize,
    /// One weight per rank, best first: positive for the best `mu` (summing
    /// to 1), negative or zero for the rest.
    pub(super) weights: Vec<f64>,
    pub(super) mu_eff: f64,
    c_sigma: f64,
    d_sigma: f64,
    c_c: f64,
    c_1: f64,
    c_mu: f64,
    /// E‖N(0, I)‖.
    chi_n: f64,
}

impl Rates {
    /// The tutorial's defaults (its Table 1) for `n` dimensions and `lambda`
    /// solutions per generation; `separable` multiplies the covariance
    /// learning rates by (n + 2) / 3 and drops the negative weights.
    pub(super) fn new(n: usize, lambda: usize, separable: bool) -> Rates {
        let nf = n as f64;
        let mu = lambda / 2;
        let centre = ((lambda + 1) as f64 / 2.0).ln();
        let raw: Vec<f64> = (1..=lambda).map(|i| centre - (i as f64).ln()).collect();
        let (best, rest) = raw.split_at(mu);
        let sum_best: f64 = best.iter().sum();
        let mu_eff = effective_size(best);
        let c_sigma = (mu_eff + 2.0) / (nf + mu_eff + 5.0);
        let d_sigma = 1.0 + 2.0 * (((mu_eff - 1.0) / (nf + 1.0)).sqrt() - 1.0).max(0.0) + c_sigma;
        let c_c = (4.0 + mu_eff / nf) / (nf + 4.0 + 2.0 * mu_eff / nf);
        let mut c_1 = 2.0 / ((nf + 1.3).powi(2) + mu_eff);
        let mut c_mu = (1.0 - c_1)
            .min(2.0 * (0.25 + mu_eff + 1.0 / mu_eff - 2.0) / ((nf + 2.0).powi(2) + mu_eff));
        let weights = if separable {
            c_1 *= (nf + 2.0) / 3.0;
            c_mu = (c_mu * (nf + 2.0) / 3.0).min(1.0 - c_1);
            raw.iter()
                .enumerate()
                .map(|(i, w)| if i < mu { w / sum_best } else { 0.0 })
                .collect()
        } else {
            // The negative weights' total, bounded so that C stays positive
            // definite (the tutorial's α⁻ terms).
            let negative_total: f64 = rest.iter().map(|w| w.min(0.0).abs()).sum();
            let alpha = (1.0 + c_1 / c_mu)
                .min(1.0 + 2.0 * effective_size(rest) / (mu_eff + 2.0))
                .min((1.0 - c_1 - c_mu) / (nf * c_mu))
                .max(0.0);
            raw.iter()
                .enumerate()
                .map(|(i, &w)| {
                    if i < mu {
                        w / sum_best
                    } else if negative_total > 0.0 {
                        alpha * w.min(0.0) / negative_total
                    } else {
                        0.0
                    }
                })
                .collect()
        };
        Rates {
            mu,
            weights,
            mu_eff,
            c_sigma,
            d_sigma,
            c_c,
            c_1,
            c_mu,
            chi_n: nf.sqrt() * (1.0 - 1.0 / (4.0 * nf) + 1.0 / (21.0 * nf * nf)),
        }
    }
}

/// (Σw)² / Σw², the variance-effective number of weights; 0 for none.
fn effective_size(weights: &[f64]) -> f64 {
    let sum: f64 = weights.iter().sum();
    let squares: f64 = weights.iter().map(|w| w * w).sum();
    if squares > 0.0 {
        sum * sum / squares
    } else {
        0.0
    }
}

/// The distribution and everything its update carries from one generation
/// to the next.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(super) struct Strategy {
    /// Solutions per generation (λ).
    pub(super) lambda: usize,
    separable: bool,
    /// The mean m.
    pub(super) mean: Vec<f64>,
    /// The step size σ.
    pub(super) sigma: f64,
    /// σ at the start of this run, the scale of the termination tests.
    sigma0: f64,
    /// C: n×n row-major, or its diagonal when separable.
    cov: Vec<f64>,
    /// C's eigenvectors as the columns of an n×n row-major matrix B (empty
    /// when separable: B = I).
    basis: Vec<f64>,
    /// The square roots of C's eigenvalues (D), in `basis`' column order.
    scale: Vec<f64>,
    p_sigma: Vec<f64>,
    p_c: Vec<f64>,
    /// Updates so far in this run.
    pub(super) generation: u64,
    /// Best and worst value of each of the last generations, for TolFun.
    history: Vec<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    lr_adapt: Option<LrAdapt>,
}

impl Strategy {
    /// N(mean, σ²I) with λ solutions per generation.
    pub(super) fn new(
        mean: Vec<f64>,
        sigma: f64,
        lambda: usize,
        separable: bool,
        lr_adapt: bool,
    ) -> Strategy {
        let n = mean.len();
        let (cov, basis) = if separable {
            (vec![1.0; n], Vec::new())
        } else {
            let identity: Vec<f64> = (0..n * n)
                .map(|k| if k / n == k % n { 1.0 } else { 0.0 })
                .collect();
            (identity.clone(), identity)
        };
        Strategy {
            lambda,
            separable,
            mean,
            sigma,
            sigma0: sigma,
            cov,
            basis,
            scale: vec![1.0; n],
            p_sigma: vec![0.0; n],
            p_c: vec![0.0; n],
            generation: 0,
            history: Vec::new(),
            lr_adapt: lr_adapt.then(|| LrAdapt::new(n)),
        }
    }

    /// Whether the vectors have the lengths the dimension asks for and the
    /// numbers are usable: a state read back from JSON is checked before use.
    pub(super) fn is_consistent(&self, n: usize) -> bool {
        let (cov_len, basis_len) = if self.separable {
            (n, 0)
        } else {
            (n * n, n * n)
        };
        self.mean.len() == n
            && self.cov.len() == cov_len
            && self.basis.len() == basis_len
            && self.scale.len() == n
            && self.p_sigma.len() == n
            && self.p_c.len() == n
            && self.lambda >= 2
            && self.sigma.is_finite()
            && self.sigma > 0.0
            && self.sigma0.is_finite()
            && self.sigma0 > 0.0
            && self.scale.iter().all(|d| d.is_finite() && *d > 0.0)
            && self.lr_adapt.as_ref().is_none_or(|lr| lr.is_consistent(n))
            && !(self.separable && self.lr_adapt.is_some())
    }

    /// The variance of coordinate `i` under C (without σ²).
    pub(super) fn variance(&self, i: usize) -> f64 {
        let n = self.mean.len();
        let k = if self.separable { i } else { i * n + i };
        self.cov.get(k).copied().unwrap_or(1.0)
    }

    /// One draw x = m + σ B D z with z ~ N(0, I).
    pub(super) fn sample(&self, rng: &mut ChaCha8Rng) -> Vec<f64> {
        let dz: Vec<f64> = self
            .scale
            .iter()
            .map(|d| d * rng.sample::<f64, _>(StandardNormal))
            .collect();
        let y = if self.separable {
            dz
        } else {
            mat_vec(&self.basis, &dz)
        };
        self.mean
            .iter()
            .zip(&y)
            .map(|(m, y)| m + self.sigma * y)
            .collect()
    }

    /// C^(-1/2) v = B D⁻¹ Bᵀ v.
    fn whiten(&self, v: &[f64]) -> Vec<f64> {
        if self.separable {
            return v.iter().zip(&self.scale).map(|(v, d)| v / d).collect();
        }
        let t: Vec<f64> = mat_t_vec(&self.basis, v)
            .iter()
            .zip(&self.scale)
            .map(|(t, d)| t / d)
            .collect();
        mat_vec(&self.basis, &t)
    }

    /// The update from one generation: `ranked` holds its λ solutions best
    /// first, `best` and `worst` its extreme values. `false` when the
    /// distribution degenerated numerically (the caller restarts).
    pub(super) fn update(&mut self, ranked: &[&[f64]], best: f64, worst: f64) -> bool {
        let n = self.mean.len();
        let r = Rates::new(n, self.lambda, self.separable);
        let sigma = self.sigma;
        let ys: Vec<Vec<f64>> = ranked
            .iter()
            .map(|x| {
                x.iter()
                    .zip(&self.mean)
                    .map(|(x, m)| (x - m) / sigma)
                    .collect()
            })
            .collect();
        let mut y_w = vec![0.0; n];
        for (y, w) in ys.iter().zip(&r.weights).take(r.mu) {
            for (acc, yi) in y_w.iter_mut().zip(y) {
                *acc += w * yi;
            }
        }
        let before = self.lr_adapt.is_some().then(|| Before {
            mean: self.mean.clone(),
            sigma: self.sigma,
            cov: self.cov.clone(),
            inv_sqrt: self.inverse_sqrt(),
        });

        for (m, d) in self.mean.iter_mut().zip(&y_w) {
            *m += sigma * d;
        }
        let white = self.whiten(&y_w);
        let k_sigma = (r.c_sigma * (2.0 - r.c_sigma) * r.mu_eff).sqrt();
        for (p, w) in self.p_sigma.iter_mut().zip(&white) {
            *p = (1.0 - r.c_sigma) * *p + k_sigma * w;
        }
        let norm = norm2(&self.p_sigma).sqrt();
        self.sigma *= ((r.c_sigma / r.d_sigma) * (norm / r.chi_n - 1.0)).exp();
        let fade = (1.0 - r.c_sigma).powf(2.0 * (self.generation as f64 + 1.0));
        let h_sigma = norm / (1.0 - fade).sqrt() < (1.4 + 2.0 / (n as f64 + 1.0)) * r.chi_n;
        let k_c = if h_sigma {
            (r.c_c * (2.0 - r.c_c) * r.mu_eff).sqrt()
        } else {
            0.0
        };
        for (p, y) in self.p_c.iter_mut().zip(&y_w) {
            *p = (1.0 - r.c_c) * *p + k_c * y;
        }
        let lost_h = if h_sigma { 0.0 } else { r.c_c * (2.0 - r.c_c) };
        let weight_sum: f64 = r.weights.iter().sum();
        let keep = 1.0 + r.c_1 * lost_h - r.c_1 - r.c_mu * weight_sum;
        if self.separable {
            for (i, c) in self.cov.iter_mut().enumerate() {
                let rank_mu: f64 = ys
                    .iter()
                    .zip(&r.weights)
                    .map(|(y, w)| w * y.get(i).map_or(0.0, |v| v * v))
                    .sum();
                let p = self.p_c.get(i).copied().unwrap_or(0.0);
                *c = keep * *c + r.c_1 * p * p + r.c_mu * rank_mu;
            }
        } else {
            // Negative weights act on directions rescaled to length √n, so
            // that a far-off bad solution cannot shrink C too much.
            let w_eff: Vec<f64> = ys
                .iter()
                .zip(&r.weights)
                .map(|(y, &w)| {
                    if w >= 0.0 {
                        w
                    } else {
                        w * n as f64 / norm2(&self.whiten(y)).max(MIN_SQUARED_NORM)
                    }
                })
                .collect();
            for i in 0..n {
                for j in 0..=i {
                    let rank_mu: f64 = ys.iter().zip(&w_eff).map(|(y, w)| w * y[i] * y[j]).sum();
                    let v = keep * self.cov[i * n + j]
                        + r.c_1 * self.p_c[i] * self.p_c[j]
                        + r.c_mu * rank_mu;
                    self.cov[i * n + j] = v;
                    self.cov[j * n + i] = v;
                }
            }
        }
        self.generation += 1;
        if best.is_finite() && worst.is_finite() {
            let kept = 2 * history_length(n, self.lambda);
            self.history.extend([best, worst]);
            if self.history.len() > kept {
                self.history.drain(..self.history.len() - kept);
            }
        } else {
            // A failed trial: this run's values are not flat (and the
            // state must hold finite numbers to serialize).
            self.history.clear();
        }
        match (before, self.lr_adapt.take()) {
            (Some(before), Some(mut lr)) => {
                let healthy = self.adapt_rates(&before, &mut lr);
                self.lr_adapt = Some(lr);
                healthy
            }
            (_, lr) => {
                self.lr_adapt = lr;
                self.decompose()
            }
        }
    }

    /// Learning-rate adaptation (Nomura, Akimoto and Ono 2023): moves only
    /// η_m and η_Σ of the way from the old distribution to the one the plain
    /// update produced, with η's that follow the update's signal-to-noise
    /// ratio; then splits Σ back into σ²C.
    fn adapt_rates(&mut self, before: &Before, lr: &mut LrAdapt) -> bool {
        let n = self.mean.len();
        let delta_mean: Vec<f64> = self
            .mean
            .iter()
            .zip(&before.mean)
            .map(|(a, b)| a - b)
            .collect();
        let (s_new, s_old) = (self.sigma * self.sigma, before.sigma * before.sigma);
        let delta_cov: Vec<f64> = self
            .cov
            .iter()
            .zip(&before.cov)
            .map(|(a, b)| s_new * a - s_old * b)
            .collect();
        // Σ_old^(-1/2) = C_old^(-1/2) / σ_old.
        let inv: Vec<f64> = before.inv_sqrt.iter().map(|v| v / before.sigma).collect();
        let local_mean = mat_vec(&inv, &delta_mean);
        let local_cov: Vec<f64> = mat_mul(&mat_mul(&inv, &delta_cov, n), &inv, n)
            .iter()
            .map(|v| v * std::f64::consts::FRAC_1_SQRT_2)
            .collect();
        let eta_mean_before = lr.eta_mean();
        let (eta_mean, eta_cov) = lr.adapt(&local_mean, &local_cov);
        for ((m, old), d) in self.mean.iter_mut().zip(&before.mean).zip(&delta_mean) {
            *m = old + eta_mean * d;
        }
        for ((c, old), d) in self.cov.iter_mut().zip(&before.cov).zip(&delta_cov) {
            *c = s_old * old + eta_cov * d;
        }
        // C now holds Σ: its decomposition gives σ = det(Σ)^(1/2n) and C = Σ/σ².
        if !self.decompose() {
            return false;
        }
        let log_det_half: f64 = self.scale.iter().map(|d| d.ln()).sum();
        let sigma = (log_det_half / n as f64).exp();
        if !(sigma.is_finite() && sigma > 0.0) {
            return false;
        }
        for c in &mut self.cov {
            *c /= sigma * sigma;
        }
        for d in &mut self.scale {
            *d /= sigma;
        }
        self.sigma = sigma * eta_mean_before / eta_mean;
        self.sigma.is_finite() && self.sigma > 0.0
    }

    /// C^(-1/2) as an n×n row-major matrix (full covariance only).
    fn inverse_sqrt(&self) -> Vec<f64> {
        let n = self.mean.len();
        let mut out = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..=i {
                let v: f64 = (0..n)
                    .map(|k| self.basis[i * n + k] * self.basis[j * n + k] / self.scale[k])
                    .sum();
                out[i * n + j] = v;
                out[j * n + i] = v;
            }
        }
        out
    }

    /// Recomputes B and D from C, raising eigenvalues that rounding pushed
    /// to (or below) zero; `false` when C or m is no longer finite or C has
    /// no positive eigenvalue.
    fn decompose(&mut self) -> bool {
        let finite = self.mean.iter().chain(&self.cov).all(|v| v.is_finite())
            && self.sigma.is_finite()
            && self.sigma > 0.0;
        if !finite {
            return false;
        }
        let n = self.mean.len();
        if self.separable {
            let max = self.cov.iter().copied().fold(0.0_f64, f64::max);
            if max <= 0.0 {
                return false;
            }
            for (c, d) in self.cov.iter_mut().zip(&mut self.scale) {
                *c = c.max(max * MIN_EIGEN_RATIO);
                *d = c.sqrt();
            }
            return true;
        }
        let matrix = DMatrix::from_row_slice(n, n, &self.cov);
        let Some(eigen) = SymmetricEigen::try_new(matrix, f64::EPSILON, EIGEN_SWEEPS) else {
            return false;
        };
        let max = eigen.eigenvalues.iter().copied().fold(0.0_f64, f64::max);
        if !(max.is_finite() && max > 0.0) {
            return false;
        }
        let floor = max * MIN_EIGEN_RATIO;
        let raised = eigen.eigenvalues.iter().any(|&e| e < floor);
        for (d, &e) in self.scale.iter_mut().zip(eigen.eigenvalues.iter()) {
            *d = e.max(floor).sqrt();
        }
        for i in 0..n {
            for j in 0..n {
                self.basis[i * n + j] = eigen.eigenvectors[(i, j)];
            }
        }
        if raised {
            // Keep C equal to B D² Bᵀ, which is what sampling uses.
            for i in 0..n {
                for j in 0..=i {
                    let v: f64 = (0..n)
                        .map(|k| {
                            self.basis[i * n + k] * self.basis[j * n + k] * self.scale[k].powi(2)
                        })
                        .sum();
                    self.cov[i * n + j] = v;
                    self.cov[j * n + i] = v;
                }
            }
        }
        true
    }

    /// Hansen's termination criteria (TolFun with TolHistFun, TolX,
    /// TolXUp, NoEffectAxis, NoEffectCoord, ConditionCov): whether this run
    /// has stalled and a restart would do better.
    pub(super) fn should_stop(&self) -> bool {
        let n = self.mean.len();
        if n == 0 {
            return false;
        }
        let full = self.history.len() >= 2 * history_length(n, self.lambda);
        if full {
            let lo = self.history.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = self
                .history
                .iter()
                .copied()
                .fold(f64::NEG_INFINITY, f64::max);
            if hi - lo < TOL_FUN {
                return true;
            }
        }
        let spread = |i: usize| self.sigma * self.variance(i).sqrt();
        let tiny = (0..n).all(|i| {
            let p = self.p_c.get(i).map_or(0.0, |p| p.abs());
            spread(i) < TOL_X * self.sigma0 && self.sigma * p < TOL_X * self.sigma0
        });
        let max_d = self.scale.iter().copied().fold(0.0_f64, f64::max);
        let min_d = self.scale.iter().copied().fold(f64::INFINITY, f64::min);
        if tiny || self.sigma * max_d > TOL_X_UP * self.sigma0 {
            return true;
        }
        let no_effect_coord = self
            .mean
            .iter()
            .enumerate()
            .any(|(i, &m)| m + 0.2 * spread(i) == m);
        let axis = (self.generation % n as u64) as usize;
        let d = self.scale.get(axis).copied().unwrap_or(0.0);
        let no_effect_axis = self.mean.iter().enumerate().all(|(j, &m)| {
            let b = if self.separable {
                if j == axis { 1.0 } else { 0.0 }
            } else {
                self.basis.get(j * n + axis).copied().unwrap_or(0.0)
            };
            m + 0.1 * self.sigma * d * b == m
        });
        no_effect_coord || no_effect_axis || (max_d / min_d).powi(2) > TOL_CONDITION
    }
}

/// The old distribution, kept for learning-rate adaptation.
struct Before {
    mean: Vec<f64>,
    sigma: f64,
    cov: Vec<f64>,
    inv_sqrt: Vec<f64>,
}

/// Generations whose values TolFun looks at: 10 + ⌈30n/λ⌉.
fn history_length(n: usize, lambda: usize) -> usize {
    10 + (30 * n).div_ceil(lambda.max(1))
}

fn norm2(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum()
}

/// A v for a square row-major A.
fn mat_vec(a: &[f64], v: &[f64]) -> Vec<f64> {
    let n = v.len();
    a.chunks_exact(n.max(1))
        .map(|row| row.iter().zip(v).map(|(a, v)| a * v).sum())
        .collect()
}

/// Aᵀ v for a square row-major A.
fn mat_t_vec(a: &[f64], v: &[f64]) -> Vec<f64> {
    let n = v.len();
    let mut out = vec![0.0; n];
    for (row, vi) in a.chunks_exact(n.max(1)).zip(v) {
        for (o, a) in out.iter_mut().zip(row) {
            *o += a * vi;
        }
    }
    out
}

/// A B for square row-major n×n matrices.
fn mat_mul(a: &[f64], b: &[f64], n: usize) -> Vec<f64> {
    let mut out = vec![0.0; n * n];
    for i in 0..n {
        for k in 0..n {
            let aik = a[i * n + k];
            for j in 0..n {
                out[i * n + j] += aik * b[k * n + j];
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_follow_the_tutorial() {
        let r = Rates::new(10, 10, false);
        assert_eq!(r.mu, 5);
        let positive: f64 = r.weights.iter().take(5).sum();
        assert!((positive - 1.0).abs() < 1e-12);
        assert!(r.weights.iter().skip(5).all(|w| *w <= 0.0));
        // (Σ w'ᵢ)² / Σ w'ᵢ² with w'ᵢ = ln 5.5 - ln i, i = 1..5.
        assert!(
            (r.mu_eff - 3.167_299_281_410_7).abs() < 1e-12,
            "{}",
            r.mu_eff
        );
        let sep = Rates::new(10, 10, true);
        assert!(sep.weights.iter().skip(5).all(|w| *w == 0.0));
        assert!(sep.c_1 > r.c_1 && sep.c_mu > r.c_mu);
    }

    #[test]
    fn decomposition_reproduces_the_covariance() {
        let mut s = Strategy::new(vec![0.5; 3], 0.3, 7, false, false);
        s.cov = vec![2.0, 0.5, 0.1, 0.5, 1.0, 0.2, 0.1, 0.2, 0.5];
        assert!(s.decompose());
        let inv = s.inverse_sqrt();
        // C^(-1/2) C C^(-1/2) = I.
        let i = mat_mul(&mat_mul(&inv, &s.cov, 3), &inv, 3);
        for r in 0..3 {
            for c in 0..3 {
                let want = if r == c { 1.0 } else { 0.0 };
                assert!((i[r * 3 + c] - want).abs() < 1e-12, "{i:?}");
            }
        }
        s.cov[0] = f64::NAN;
        assert!(!s.decompose());
    }
}
