//! The Gaussian-process model: hyperparameters fitted by maximum a
//! posteriori with argmin's L-BFGS, and the posterior the acquisition reads.
//!
//! The hyperparameters live in log space as one vector
//! `θ = [ln ℓ₀ … ln ℓ_{D-1}, ln s, ln(σ²ₙ - NOISE_FLOOR)]`: a lengthscale per
//! input, the signal variance and the noise variance above its floor; for
//! the additive kernel, `ln s₀ … ln s_{D-1}` (a variance per input) in place
//! of `ln s`, which is how [`kernel_at`] tells the two apart. The
//! fit minimizes the negative log marginal likelihood of the standardized
//! values plus three weak priors that keep it well posed on a handful of
//! points (where the likelihood alone is often unbounded):
//!
//! * `ln ℓᵢ ~ Normal(LS_PRIOR_MEAN, LS_PRIOR_SD²)`: lengthscales of the order
//!   of the unit cube, wide enough to let an input be irrelevant;
//! * `s ~ Gamma(2, 1)`: a signal variance of the order of the standardized
//!   values' variance, 1 (each of the additive kernel's `D` variances
//!   `~ Gamma(2, D)`, so that their sum has the same mean);
//! * `σ²ₙ ~ Gamma(1.1, 30)`: little noise, as Optuna's `GPSampler` assumes,
//!   but still learnable for noisy objectives.
//!
//! Outside a generous box (`BOUNDS`) the cost is evaluated at the box's edge
//! plus a quadratic penalty, so that a long first L-BFGS step cannot
//! overflow `exp` and the cost stays continuously differentiable.

use nalgebra::{Cholesky, DMatrix, DVector, Dyn};

use super::kernel::{Kernel, matern52, sq_diff};
use super::lbfgs::{Smooth, Tolerance, minimize};
use super::trend::Trend;

/// The smallest noise variance, in standardized units: it keeps the kernel
/// matrix invertible when points repeat and costs nothing measurable on
/// noiseless objectives.
pub(super) const NOISE_FLOOR: f64 = 1e-6;
/// The noise variance of a running trial's believed value, relative to the
/// signal variance: next to nothing, so that the posterior variance at a
/// running trial's point, and with it the expected improvement there,
/// vanishes. With the fitted noise instead, the point would keep an EI of
/// about `0.4 σₙ` and, where the model is confident elsewhere, be
/// suggested again.
const BELIEVER_NOISE: f64 = 1e-8;
/// Prior mean of `ln ℓ` (ℓ = 0.5 of the unit cube).
const LS_PRIOR_MEAN: f64 = -std::f64::consts::LN_2;
/// Prior standard deviation of `ln ℓ`.
const LS_PRIOR_SD: f64 = 1.5;
/// `(shape, rate)` of the Gamma prior on the signal variance.
const SCALE_PRIOR: (f64, f64) = (2.0, 1.0);
/// `(shape, rate)` of the Gamma prior on the noise variance.
const NOISE_PRIOR: (f64, f64) = (1.1, 30.0);
/// Box of `[ln ℓ, ln s, ln(σ²ₙ - floor)]`: ℓ and s in [1e-3, 1e3], the
/// noise above the floor in [1e-9, 10].
const BOUNDS: [(f64, f64); 3] = [(-6.9, 6.9), (-6.9, 6.9), (-20.7, 2.3)];
/// Curvature of the penalty outside the box.
const BOX_PENALTY: f64 = 100.0;
/// When a fit stops: the hyperparameters then move the marginal likelihood
/// by far less than a new observation does.
const FIT_TOLERANCE: Tolerance = Tolerance {
    grad: 1e-3,
    cost: 1e-7,
};
/// ln √(2π).
const LN_SQRT_2PI: f64 = 0.918_938_533_204_672_8;

/// The starting hyperparameters of a first fit of a joint (`additive`
/// false) or additive kernel over `dims` inputs: the prior's modes.
pub(super) fn initial_theta(dims: usize, additive: bool) -> Vec<f64> {
    let scales = n_scales(dims, additive);
    let mut theta = vec![LS_PRIOR_MEAN; dims];
    theta.extend(std::iter::repeat_n(-(scales as f64).ln(), scales));
    theta.push(-9.2);
    theta
}

/// The start of the additive fit's restart (see `RESTART_EVERY` in the
/// parent module) and of the local model's second fit ([`super::local`]):
/// the prior's modes but every lengthscale `e^-2.5 ≈ 0.08` of the unit cube.
/// (For the additive restarts, e^-2 and e^-3.5 did about as well; e^-3 and
/// e^-4 slightly worse.)
pub(super) fn short_theta(dims: usize, additive: bool) -> Vec<f64> {
    let mut theta = initial_theta(dims, additive);
    for t in theta.iter_mut().take(dims) {
        *t = SHORT_LN_LS;
    }
    theta
}

/// The log lengthscale of [`short_theta`].
const SHORT_LN_LS: f64 = -2.5;

/// How many signal variances a kernel over `dims` inputs has.
fn n_scales(dims: usize, additive: bool) -> usize {
    if additive { dims.max(1) } else { 1 }
}

/// How many signal variances `theta` holds for `dims` inputs (what follows
/// the lengthscales, less the noise).
fn scales_in(theta: &[f64], dims: usize) -> usize {
    theta.len().saturating_sub(dims + 1).max(1)
}

/// The box of `θᵢ` when there are `dims` inputs and `scales` variances.
fn bounds(i: usize, dims: usize, scales: usize) -> (f64, f64) {
    let [ls, scale, noise] = BOUNDS;
    if i < dims {
        ls
    } else if i < dims + scales {
        scale
    } else {
        noise
    }
}

/// The kernel and noise variance at `theta` (clamped to the box); the
/// kernel is additive if `theta` has a variance per input.
pub(super) fn kernel_at(theta: &[f64], categorical: &[bool]) -> (Kernel, f64) {
    let dims = categorical.len();
    let scales = scales_in(theta, dims);
    let t = |i: usize| {
        let (lo, hi) = bounds(i, dims, scales);
        theta.get(i).copied().unwrap_or(0.0).clamp(lo, hi)
    };
    let kernel = Kernel {
        inv_ls2: (0..dims).map(|i| (-2.0 * t(i)).exp()).collect(),
        scales: (dims..dims + scales).map(|i| t(i).exp()).collect(),
        categorical: categorical.to_vec(),
    };
    (kernel, NOISE_FLOOR + t(dims + scales).exp())
}

/// The data of a fit, with every pair's per-input squared differences
/// computed once: they do not change while the hyperparameters do.
pub(super) struct Data<'a> {
    y: &'a [f64],
    categorical: &'a [bool],
    /// `δᵢ` of pair `(j, k)`, `j < k`, at `(pair index) * dims + i`, pairs
    /// in the order `(0,1), (0,2), (1,2), (0,3), ...`.
    deltas: Vec<f64>,
}

impl<'a> Data<'a> {
    /// The data of points `x` (each of `categorical.len()` inputs) with
    /// standardized values `y`.
    pub fn new(x: &[Vec<f64>], y: &'a [f64], categorical: &'a [bool]) -> Self {
        let dims = categorical.len();
        let n = x.len();
        let mut deltas = Vec::with_capacity(n * n.saturating_sub(1) / 2 * dims);
        for k in 0..n {
            for j in 0..k {
                for (i, &cat) in categorical.iter().enumerate() {
                    deltas.push(sq_diff(x[j][i], x[k][i], cat));
                }
            }
        }
        Data {
            y,
            categorical,
            deltas,
        }
    }

    /// The negative log posterior of `theta`, infinite where it cannot be
    /// computed.
    pub fn cost(&self, theta: &[f64]) -> f64 {
        self.cost_and_gradient(theta)
            .map_or(f64::INFINITY, |(c, _)| c)
    }

    /// The negative log posterior of `theta` and its gradient.
    pub fn cost_and_gradient(&self, theta: &[f64]) -> Option<(f64, Vec<f64>)> {
        let dims = self.categorical.len();
        let n = self.y.len();
        let (kernel, noise) = kernel_at(theta, self.categorical);
        let scales = kernel.scales.len();
        let additive = kernel.additive();
        let variance = kernel.variance();
        let mut kmat = DMatrix::<f64>::zeros(n, n);
        let pairs = n * n.saturating_sub(1) / 2;
        // (m, g) per pair and per variance.
        let mut m_g = Vec::with_capacity(pairs * scales);
        let mut p = 0;
        for k in 0..n {
            for j in 0..k {
                let d = &self.deltas[p * dims..(p + 1) * dims];
                let v = if additive {
                    let mut v = 0.0;
                    for ((&di, &wi), &si) in d.iter().zip(&kernel.inv_ls2).zip(&kernel.scales) {
                        let (m, g) = matern52(di * wi);
                        v += si * m;
                        m_g.push((m, g));
                    }
                    v
                } else {
                    let r2: f64 = d.iter().zip(&kernel.inv_ls2).map(|(a, b)| a * b).sum();
                    let (m, g) = matern52(r2);
                    m_g.push((m, g));
                    kernel.scales[0] * m
                };
                kmat[(j, k)] = v;
                kmat[(k, j)] = v;
                p += 1;
            }
            kmat[(k, k)] = variance + noise;
        }
        let chol = Cholesky::new(kmat)?;
        let y = DVector::from_column_slice(self.y);
        let alpha = chol.solve(&y);
        let l = chol.l_dirty();
        let kinv = inverse(l);
        let log_det_half: f64 = (0..n).map(|i| l[(i, i)].ln()).sum();
        let mut cost = 0.5 * y.dot(&alpha) + log_det_half + n as f64 * LN_SQRT_2PI;

        // d(cost)/dθ = -½ tr(W ∂K/∂θ) with W = ααᵀ - K⁻¹.
        let mut grad = vec![0.0; dims + scales + 1];
        let mut w_m = vec![0.0; scales];
        let mut p = 0;
        for k in 0..n {
            for j in 0..k {
                let w = alpha[j] * alpha[k] - kinv[(j, k)];
                let d = &self.deltas[p * dims..(p + 1) * dims];
                let mg = &m_g[p * scales..(p + 1) * scales];
                if additive {
                    for i in 0..dims {
                        let (m, g) = mg[i];
                        w_m[i] += w * m;
                        grad[i] -= w * kernel.scales[i] * g * d[i] * kernel.inv_ls2[i];
                    }
                } else {
                    let (m, g) = mg[0];
                    w_m[0] += w * m;
                    let wg = w * kernel.scales[0] * g;
                    for ((gi, &di), &wi) in grad.iter_mut().zip(d).zip(&kernel.inv_ls2) {
                        *gi -= wg * di * wi;
                    }
                }
                p += 1;
            }
        }
        let trace_w: f64 = (0..n).map(|j| alpha[j] * alpha[j] - kinv[(j, j)]).sum();
        for (c, (&s, &wm)) in kernel.scales.iter().zip(&w_m).enumerate() {
            grad[dims + c] = -0.5 * s * (trace_w + 2.0 * wm);
        }
        let excess = noise - NOISE_FLOOR;
        grad[dims + scales] = -0.5 * trace_w * excess;

        // Priors (negative logs, constants dropped), in terms of the clamped θ.
        for (g, &w) in grad.iter_mut().zip(&kernel.inv_ls2) {
            let z = (-0.5 * w.ln() - LS_PRIOR_MEAN) / LS_PRIOR_SD;
            cost += 0.5 * z * z;
            *g += z / LS_PRIOR_SD;
        }
        // The variances share the joint kernel's prior mean between them.
        let (a, b) = SCALE_PRIOR;
        let b = b * scales as f64;
        for (c, &s) in kernel.scales.iter().enumerate() {
            cost += b * s - (a - 1.0) * s.ln();
            grad[dims + c] += b * s - (a - 1.0);
        }
        let (a, b) = NOISE_PRIOR;
        cost += b * noise - (a - 1.0) * noise.ln();
        grad[dims + scales] += (b - (a - 1.0) / noise) * excess;

        // Outside the box the cost above is flat in θ: add the penalty.
        for (i, g) in grad.iter_mut().enumerate() {
            let (lo, hi) = bounds(i, dims, scales);
            let t = theta.get(i).copied().unwrap_or(0.0);
            let out = t - t.clamp(lo, hi);
            if out != 0.0 {
                cost += 0.5 * BOX_PENALTY * out * out;
                *g = BOX_PENALTY * out;
            }
        }
        (cost.is_finite() && grad.iter().all(|g| g.is_finite())).then_some((cost, grad))
    }
}

impl Smooth for Data<'_> {
    fn eval(&self, theta: &[f64]) -> Option<(f64, Vec<f64>)> {
        self.cost_and_gradient(theta)
    }
}

/// Fits the hyperparameters to `data` by at most `max_iters` L-BFGS
/// iterations from `start` (the previous fit's, or [`initial_theta`]);
/// `start` itself if no evaluation succeeds.
pub(super) fn fit(data: &Data<'_>, start: Vec<f64>, max_iters: u64) -> Vec<f64> {
    minimize(data, &start, max_iters, FIT_TOLERANCE).map_or(start, |(_, theta)| theta)
}

/// The posterior of the latent function given the data, for fixed
/// hyperparameters and prior mean: what the acquisition evaluates.
#[derive(Clone, Debug)]
pub(super) struct Posterior {
    /// The prior mean (zero, or a fitted quadratic trend).
    pub trend: Trend,
    pub kernel: Kernel,
    /// The data points, row after row (`n × dims`).
    pub x: Vec<f64>,
    /// `K⁻¹ (y - m(x))`.
    pub alpha: DVector<f64>,
    /// `K⁻¹`, for the variance.
    pub kinv: DMatrix<f64>,
    /// The noise variance on the observed points' diagonal of `K`: the
    /// fitted noise, plus the jitter the factorization needed, if any.
    noise: f64,
}

impl Posterior {
    /// The posterior of the data `x`, `y` under `theta` and the prior mean
    /// `trend`, the last `believers` points taken as observed without noise
    /// (see [`BELIEVER_NOISE`]); `None` if the kernel matrix is not
    /// positive definite even with added jitter.
    pub fn new(
        theta: &[f64],
        categorical: &[bool],
        x: &[Vec<f64>],
        y: &[f64],
        believers: usize,
        trend: Trend,
    ) -> Option<Self> {
        let (kernel, noise) = kernel_at(theta, categorical);
        let variance = kernel.variance();
        let n = x.len();
        let observed = n.saturating_sub(believers);
        let mut kmat = DMatrix::<f64>::zeros(n, n);
        for k in 0..n {
            for j in 0..k {
                let v = kernel.k(&x[j], &x[k]);
                kmat[(j, k)] = v;
                kmat[(k, j)] = v;
            }
            kmat[(k, k)] = variance
                + if k < observed {
                    noise
                } else {
                    BELIEVER_NOISE * variance
                };
        }
        let (chol, jitter) = cholesky_with_jitter(kmat, variance)?;
        let alpha = chol.solve(&DVector::from_column_slice(&trend.residuals(x, y)));
        let kinv = inverse(chol.l_dirty());
        Some(Posterior {
            trend,
            x: x.iter().flatten().copied().collect(),
            kernel,
            alpha,
            kinv,
            noise: noise + jitter,
        })
    }

    /// The posterior of no data under `theta` (prior mean zero), to be
    /// grown by [`Posterior::extend`].
    pub fn empty(theta: &[f64], categorical: &[bool]) -> Self {
        let (kernel, noise) = kernel_at(theta, categorical);
        Posterior {
            trend: Trend::default(),
            kernel,
            x: Vec::new(),
            alpha: DVector::zeros(0),
            kinv: DMatrix::zeros(0, 0),
            noise,
        }
    }

    /// Adds `points`, each observed with noise variance `noise`, to the
    /// data by bordering `K⁻¹`: with `k` the new point's kernel against
    /// the others, `b = K⁻¹ k` and `s = κ - kᵀ b` (its variance given the
    /// others, plus the noise), the new inverse is
    /// `[[K⁻¹ + b bᵀ/s, -b/s], [-bᵀ/s, 1/s]]`: O(n²) a point where a
    /// factorization is O(n³). Building from [`Posterior::empty`] point by
    /// point and extending a built one run the same arithmetic, so they give
    /// the same bits. `false` if some `s` falls below half the noise it
    /// cannot be less than (rounding has taken over): the data are then
    /// those before the point, and `alpha` is stale until
    /// [`Posterior::set_values`].
    pub fn extend(&mut self, points: &[Vec<f64>], noise: f64) -> bool {
        let kappa = self.kernel.variance() + noise;
        for p in points {
            let n = self.kinv.nrows();
            let k: Vec<f64> = self.points().map(|q| self.kernel.k(q, p)).collect();
            let b = self.kinv_times(&k);
            let schur = kappa - dot(&k, &b);
            if schur.is_nan() || schur <= 0.5 * noise {
                return false;
            }
            let inv_s = 1.0 / schur;
            let mut grown = DMatrix::<f64>::zeros(n + 1, n + 1);
            for j in 0..n {
                let column = &self.kinv.as_slice()[j * n..(j + 1) * n];
                let target = &mut grown.as_mut_slice()[j * (n + 1)..j * (n + 1) + n];
                let bj = b[j] * inv_s;
                for ((t, &c), &bi) in target.iter_mut().zip(column).zip(&b) {
                    *t = c + bi * bj;
                }
                grown[(n, j)] = -bj;
                grown[(j, n)] = -bj;
            }
            grown[(n, n)] = inv_s;
            self.kinv = grown;
            self.x.extend_from_slice(p);
        }
        true
    }

    /// Sets the values the posterior is conditioned on (one per data
    /// point) and the prior mean: `alpha = K⁻¹ (y - m(x))`.
    pub fn set_values(&mut self, y: &[f64], trend: Trend) {
        let residuals: Vec<f64> = self
            .points()
            .zip(y)
            .map(|(p, v)| v - trend.value(p))
            .collect();
        self.alpha = DVector::from_vec(self.kinv_times(&residuals));
        self.trend = trend;
    }

    /// This posterior, whose data are the first points of `x`, with the
    /// rest of `x` added as believers (see [`BELIEVER_NOISE`]) and
    /// conditioned on `y`, by [`Posterior::extend`]; where that fails, built
    /// anew as [`Posterior::new`] builds it.
    pub fn believe(
        &self,
        theta: &[f64],
        categorical: &[bool],
        x: &[Vec<f64>],
        y: &[f64],
    ) -> Option<Posterior> {
        let n = self.kinv.nrows();
        let mut post = self.clone();
        if n <= x.len() && post.extend(&x[n..], BELIEVER_NOISE * post.kernel.variance()) {
            post.set_values(y, self.trend.clone());
            return Some(post);
        }
        Posterior::new(
            theta,
            categorical,
            x,
            y,
            x.len().saturating_sub(n),
            self.trend.clone(),
        )
    }

    /// The data points, one input vector each.
    pub fn points(&self) -> impl Iterator<Item = &[f64]> {
        self.x.chunks_exact(self.kernel.inv_ls2.len().max(1))
    }

    /// The number of data points (`K⁻¹`'s order: `alpha` lags behind it
    /// after [`Posterior::extend`] until [`Posterior::set_values`]).
    pub fn len(&self) -> usize {
        self.kinv.nrows()
    }

    /// The kernel between `x` and every data point, into `k`.
    pub fn cross(&self, x: &[f64], k: &mut [f64]) {
        let dims = self.kernel.inv_ls2.len();
        for (kj, row) in k.iter_mut().zip(self.x.chunks_exact(dims.max(1))) {
            *kj = self.kernel.k(x, row);
        }
    }

    /// The posterior mean and variance at `x`.
    pub fn mean_var(&self, x: &[f64]) -> (f64, f64) {
        let mut k = vec![0.0; self.len()];
        self.cross(x, &mut k);
        let mean = self.trend.value(x) + dot(&k, self.alpha.as_slice());
        let var = self.kernel.variance() - dot(&k, &self.kinv_times(&k));
        (mean, var)
    }

    /// The noise variance on the observed points (the fitted noise plus any
    /// jitter) over the prior variance: how much of the values the model
    /// leaves unexplained.
    pub fn noise_ratio(&self) -> f64 {
        self.noise / self.kernel.variance()
    }

    /// The posterior mean at each of the first `y.len()` data points, which
    /// must be observed ones (not believers) with values `y`, in O(n): as
    /// `K α = y - m(x)` with `K` the kernel matrix plus the noise `N` on its
    /// diagonal, the mean there, `m(x) + (K - N) α`, is `y - N α`.
    pub fn means_at_data<'a>(&'a self, y: &'a [f64]) -> impl Iterator<Item = f64> + 'a {
        y.iter()
            .zip(self.alpha.iter())
            .map(|(v, a)| v - self.noise * a)
    }

    /// The leave-one-out log predictive density of the data, up to a
    /// constant: `Σ ½ ln [K⁻¹]ᵢᵢ - αᵢ² / (2 [K⁻¹]ᵢᵢ)` (Rasmussen and
    /// Williams, §5.4.2), the prediction of each point from all the others
    /// under the same hyperparameters, without refitting anything.
    pub fn loo_log_density(&self) -> f64 {
        (0..self.len())
            .map(|i| {
                let d = self.kinv[(i, i)];
                0.5 * d.ln() - 0.5 * self.alpha[i] * self.alpha[i] / d
            })
            .sum()
    }

    /// `K⁻¹ k`, as dot products with `K⁻¹`'s contiguous columns (it is
    /// symmetric). nalgebra's `&matrix * &vector` goes through its general
    /// matrix product, which repacks the whole matrix on every call.
    pub fn kinv_times(&self, k: &[f64]) -> Vec<f64> {
        let n = self.kinv.nrows();
        self.kinv
            .as_slice()
            .chunks_exact(n.max(1))
            .map(|column| dot(column, k))
            .collect()
    }
}

/// `K⁻¹ = L⁻ᵀ L⁻¹` from the Cholesky factor `L` (the lower triangle of
/// `l`; what lies above it is ignored).
///
/// nalgebra's `Cholesky::inverse` solves against the identity one column
/// at a time through its generic triangular solver; here both steps run
/// over contiguous columns (nalgebra is column-major), which the compiler
/// vectorizes, and the second uses the result's symmetry: several times
/// faster, and this is most of a hyperparameter fit's time.
fn inverse(l: &DMatrix<f64>) -> DMatrix<f64> {
    let n = l.nrows();
    let lower = l.as_slice();
    // L⁻¹ column by column: L x = e_c by forward substitution, as axpys
    // down the columns of L. Column c of L⁻¹ is zero above row c.
    let mut linv = vec![0.0; n * n];
    for c in 0..n {
        let x = &mut linv[c * n..(c + 1) * n];
        x[c] = 1.0;
        for i in c..n {
            let xi = x[i] / lower[i * n + i];
            x[i] = xi;
            let column = &lower[i * n + i + 1..(i + 1) * n];
            for (xr, &lr) in x[i + 1..].iter_mut().zip(column) {
                *xr -= xi * lr;
            }
        }
    }
    // (K⁻¹)_jk = Σ_{i >= k} (L⁻¹)_ij (L⁻¹)_ik for j <= k.
    let mut kinv = DMatrix::<f64>::zeros(n, n);
    for k in 0..n {
        let ck = &linv[k * n + k..(k + 1) * n];
        for j in 0..=k {
            let cj = &linv[j * n + k..(j + 1) * n];
            let v = dot(cj, ck);
            kinv[(j, k)] = v;
            kinv[(k, j)] = v;
        }
    }
    kinv
}

/// `a · b` over four running sums, which the compiler can keep in one
/// vector register (a single sum is a chain of dependent additions).
pub(super) fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = [0.0; 4];
    let (a4, b4) = (a.chunks_exact(4), b.chunks_exact(4));
    let tail: f64 = a4
        .remainder()
        .iter()
        .zip(b4.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in a4.zip(b4) {
        for l in 0..4 {
            acc[l] += x[l] * y[l];
        }
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

/// The Cholesky factor of `kmat`, adding `1e-10·scale`, then ten times more,
/// to the diagonal while it fails (rounding on nearly repeated points), and
/// what was added.
fn cholesky_with_jitter(kmat: DMatrix<f64>, scale: f64) -> Option<(Cholesky<f64, Dyn>, f64)> {
    if let Some(c) = Cholesky::new(kmat.clone()) {
        return Some((c, 0.0));
    }
    let mut jitter = 1e-10 * scale;
    for _ in 0..6 {
        let mut m = kmat.clone();
        for i in 0..m.nrows() {
            m[(i, i)] += jitter;
        }
        if let Some(c) = Cholesky::new(m) {
            return Some((c, jitter));
        }
        jitter *= 10.0;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn points() -> (Vec<Vec<f64>>, Vec<f64>, Vec<bool>) {
        // Two numeric inputs and a categorical one with three choices.
        let x: Vec<Vec<f64>> = (0..9)
            .map(|i| {
                let t = f64::from(i);
                vec![
                    (t * 0.618).fract(),
                    (t * 0.414 + 0.2).fract(),
                    f64::from(i % 3),
                ]
            })
            .collect();
        let y: Vec<f64> = x
            .iter()
            .map(|p| (3.0 * p[0]).sin() + p[1] * p[1] - 0.5 * p[2])
            .collect();
        let mean = y.iter().sum::<f64>() / y.len() as f64;
        let y = y.iter().map(|v| v - mean).collect();
        (x, y, vec![false, false, true])
    }

    #[test]
    fn the_gradient_matches_finite_differences() {
        let (x, y, cat) = points();
        let data = Data::new(&x, &y, &cat);
        // Inside the box, and one coordinate outside it (the penalty).
        // Joint kernels, then additive ones (a variance per input).
        for theta in [
            vec![-1.0, 0.3, -0.2, 0.4, -5.0],
            vec![0.5, -2.0, 1.0, -0.3, -12.0],
            vec![-8.0, 0.0, 0.0, 0.0, -3.0],
            vec![-1.0, 0.3, -0.2, -0.4, -1.5, -0.9, -5.0],
            vec![0.5, -2.0, 1.0, 8.0, -1.0, 0.2, -12.0],
        ] {
            let (_, grad) = data.cost_and_gradient(&theta).unwrap_or_default();
            for i in 0..theta.len() {
                let h = 1e-6;
                let at = |d: f64| {
                    let mut t = theta.clone();
                    t[i] += d;
                    data.cost_and_gradient(&t).map_or(f64::NAN, |(c, _)| c)
                };
                let fd = (at(h) - at(-h)) / (2.0 * h);
                assert!(
                    (fd - grad[i]).abs() < 1e-5 * fd.abs().max(1.0),
                    "θ {theta:?}, coordinate {i}: {fd} vs {}",
                    grad[i]
                );
            }
        }
    }

    #[test]
    fn the_inverse_from_the_cholesky_factor_inverts() {
        for additive in [false, true] {
            inverse_inverts(&initial_theta(3, additive));
        }
    }

    fn inverse_inverts(theta: &[f64]) {
        let (x, y, cat) = points();
        let post = Posterior::new(theta, &cat, &x, &y, 0, Trend::default())
            .unwrap_or_else(|| unreachable!());
        let (kernel, noise) = kernel_at(theta, &cat);
        let n = x.len();
        let k = DMatrix::from_fn(n, n, |i, j| {
            kernel.k(&x[i], &x[j]) + if i == j { noise } else { 0.0 }
        });
        let eye = &post.kinv * &k;
        for i in 0..n {
            for j in 0..n {
                let want = if i == j { 1.0 } else { 0.0 };
                assert!(
                    (eye[(i, j)] - want).abs() < 1e-9,
                    "({i}, {j}): {}",
                    eye[(i, j)]
                );
            }
        }
    }

    #[test]
    fn an_extended_posterior_is_the_factored_one_and_the_same_bits_however_grown() {
        let (x, y, cat) = points();
        let trend = Trend::fit(&x, &y, &cat);
        for theta in [
            initial_theta(3, false),
            vec![-1.0, 0.3, -0.2, -0.4, -1.5, -0.9, -5.0],
        ] {
            let factored = Posterior::new(&theta, &cat, &x, &y, 0, trend.clone())
                .unwrap_or_else(|| unreachable!());
            let noise = kernel_at(&theta, &cat).1;
            let mut whole = Posterior::empty(&theta, &cat);
            assert!(whole.extend(&x, noise));
            whole.set_values(&y, trend.clone());
            let mut parts = Posterior::empty(&theta, &cat);
            assert!(parts.extend(&x[..4], noise));
            assert!(parts.extend(&x[4..], noise));
            parts.set_values(&y, trend.clone());
            assert_eq!(whole.kinv, parts.kinv);
            assert_eq!(whole.alpha, parts.alpha);
            for (a, b) in whole.kinv.iter().zip(factored.kinv.iter()) {
                assert!((a - b).abs() < 1e-7 * b.abs().max(1.0), "{a} vs {b}");
            }
            for (a, b) in whole.alpha.iter().zip(factored.alpha.iter()) {
                assert!((a - b).abs() < 1e-7 * b.abs().max(1.0), "{a} vs {b}");
            }
            let at = [0.3, 0.7, 1.0];
            let ((m1, v1), (m2, v2)) = (whole.mean_var(&at), factored.mean_var(&at));
            assert!((m1 - m2).abs() < 1e-9 && (v1 - v2).abs() < 1e-9);
            // Believers added by extension, as `Posterior::new` adds them.
            let mut xb = x.clone();
            xb.push(vec![0.5, 0.5, 2.0]);
            let mut yb = y.clone();
            yb.push(-1.0);
            let believed = whole
                .believe(&theta, &cat, &xb, &yb)
                .unwrap_or_else(|| unreachable!());
            let direct = Posterior::new(&theta, &cat, &xb, &yb, 1, trend.clone())
                .unwrap_or_else(|| unreachable!());
            let (mb, vb) = believed.mean_var(&[0.5, 0.5, 2.0]);
            let (md, vd) = direct.mean_var(&[0.5, 0.5, 2.0]);
            assert!((mb - md).abs() < 1e-6 && vb.abs() < 1e-6 && vd.abs() < 1e-6);
        }
    }

    #[test]
    fn the_means_at_the_data_are_the_posterior_means_there() {
        let (x, y, cat) = points();
        let trend = Trend::fit(&x, &y, &cat);
        // A noise large enough that the means lie clearly off the values.
        let mut theta = initial_theta(3, false);
        if let Some(noise) = theta.last_mut() {
            *noise = -1.0;
        }
        let factored = Posterior::new(&theta, &cat, &x, &y, 0, trend.clone())
            .unwrap_or_else(|| unreachable!());
        let mut grown = Posterior::empty(&theta, &cat);
        assert!(grown.extend(&x, kernel_at(&theta, &cat).1));
        grown.set_values(&y, trend);
        for post in [factored, grown] {
            let means: Vec<f64> = post.means_at_data(&y).collect();
            assert_eq!(means.len(), y.len());
            let mut off = 0.0_f64;
            for ((p, m), v) in x.iter().zip(&means).zip(&y) {
                let want = post.mean_var(p).0;
                assert!((m - want).abs() < 1e-9, "at {p:?}: {m} vs {want}");
                off = off.max((m - v).abs());
            }
            assert!(off > 1e-3, "the means are the values: {off}");
        }
    }

    #[test]
    fn extending_refuses_a_repeated_noiseless_point() {
        let (x, _, cat) = points();
        let mut post = Posterior::empty(&initial_theta(3, false), &cat);
        assert!(post.extend(&x[..1], 0.0));
        // The same point again, neither seen with noise: its variance given
        // the first is exactly zero, and the data stay as they were.
        assert!(!post.extend(&x[..1], 0.0));
        assert_eq!(post.kinv.nrows(), 1);
        assert!(post.extend(&x[1..3], 1e-6));
        assert_eq!(post.kinv.nrows(), 3);
    }

    #[test]
    fn the_fit_interpolates_noiseless_data() {
        let (x, y, cat) = points();
        let data = Data::new(&x, &y, &cat);
        let start = initial_theta(cat.len(), false);
        let (start_cost, _) = data.cost_and_gradient(&start).unwrap_or_default();
        let theta = fit(&data, start, 200);
        let (cost, grad) = data.cost_and_gradient(&theta).unwrap_or_default();
        assert!(cost < start_cost, "{cost} vs {start_cost}");
        assert!(
            grad.iter().all(|g| g.abs() < 1e-3),
            "not stationary: {grad:?}"
        );
        let post = Posterior::new(&theta, &cat, &x, &y, 0, Trend::default())
            .unwrap_or_else(|| unreachable!());
        for (p, &v) in x.iter().zip(&y) {
            let (mean, var) = post.mean_var(p);
            assert!((mean - v).abs() < 1e-2, "at {p:?}: mean {mean} vs {v}");
            assert!(var < 1e-2, "at {p:?}: variance {var}");
        }
        // Away from the data the model is unsure.
        let (_, var) = post.mean_var(&[0.99, 0.01, 1.0]);
        assert!(var > 1e-2, "{var}");
    }

    #[test]
    fn an_additive_fit_predicts_combinations_no_trial_came_near() {
        // A separable function seen only along two lines through (0.1, 0.1).
        let truth = |p: &[f64]| (6.0 * p[0]).sin() + 4.0 * (p[1] - 0.8).powi(2);
        let mut x = Vec::new();
        for i in 0..8 {
            let t = 0.1 + 0.85 * f64::from(i) / 7.0;
            x.push(vec![t, 0.1]);
            x.push(vec![0.1, t]);
        }
        let y: Vec<f64> = x.iter().map(|p| truth(p)).collect();
        let cat = [false, false];
        let error_at_far_corner = |additive: bool| {
            let data = Data::new(&x, &y, &cat);
            let theta = fit(&data, initial_theta(2, additive), 200);
            let post = Posterior::new(&theta, &cat, &x, &y, 0, Trend::default())
                .unwrap_or_else(|| unreachable!());
            let corner = [0.8, 0.8];
            (post.mean_var(&corner).0 - truth(&corner)).abs()
        };
        let (additive, joint) = (error_at_far_corner(true), error_at_far_corner(false));
        assert!(additive < 0.05, "additive: {additive}");
        assert!(joint > 0.3, "joint: {joint}");
    }

    #[test]
    fn a_restart_from_short_lengthscales_finds_the_wiggly_mode() {
        // Rastrigin-like ripples along each input: warm-started from a fit
        // to the first ten points, as the sampler does, the additive fit
        // stays with one input's curve flat and the rest noise; from short
        // lengthscales it finds the ripples, which explain the data better.
        let x: Vec<Vec<f64>> = (0..40)
            .map(|i| {
                let t = f64::from(i);
                vec![(t * 0.618_034 + 0.1).fract(), (t * 0.414_214 + 0.3).fract()]
            })
            .collect();
        let y: Vec<f64> = x
            .iter()
            .map(|p| p.iter().map(|v| (45.0 * v).cos()).sum::<f64>() / 1.5)
            .collect();
        let cat = [false, false];
        let data = Data::new(&x, &y, &cat);
        // Warm-started as the sampler does, from a fit to the first ten.
        let first = Data::new(&x[..10], &y[..10], &cat);
        let smooth = fit(&data, fit(&first, initial_theta(2, true), 100), 30);
        let wiggly = fit(&data, short_theta(2, true), 100);
        assert!(
            data.cost(&wiggly) + 2.0 < data.cost(&smooth),
            "{} vs {}",
            data.cost(&wiggly),
            data.cost(&smooth)
        );
        assert!(wiggly[0] < -2.0 && wiggly[1] < -2.0, "{wiggly:?}");
        assert!(smooth[0] > -1.0, "{smooth:?}");
    }
}
