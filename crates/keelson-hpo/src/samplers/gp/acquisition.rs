//! Log expected improvement, and its maximization over the space.
//!
//! # Log EI
//!
//! For a minimized, standardized objective with posterior mean `μ`,
//! standard deviation `σ` and value to improve on `f*` (the lowest
//! posterior mean at a complete trial, see the parent module), with
//! `z = (f* - μ)/σ`,
//! `EI = σ h(z)` where `h(z) = φ(z) + z Φ(z)`. Far from the data `h`
//! underflows (it is below 1e-300 at `z = -37`) and plain EI is then flat
//! zero with a zero gradient: no search can climb it. Following Ament et al.
//! (2023), "Unexpected improvements to expected improvement for Bayesian
//! optimization", [`log_h`] computes `ln h` without forming `h`: for `z < 0`,
//! `h(z) = φ(z) (1 - |z| Φ(z)/φ(z))` and `Φ(z)/φ(z) = √(π/2) erfcx(|z|/√2)`,
//! with the scaled complementary error function `erfcx(t) = e^{t²} erfc(t)`
//! computed without overflow; and for `z < -100`, from the asymptotic series
//! of `1 - |z| Φ/φ` whose leading terms cancel in floating point.
//!
//! # The search
//!
//! Every suggestion scores `n_candidates` uniform random points of its
//! [`Region`] (the unit cube, or a box around the best trial for the local
//! model; their discrete inputs snapped onto values), keeps the
//! `n_local_searches` best plus the best trial so far, and improves each
//! by alternating, until neither helps:
//!
//! * L-BFGS over the active continuous inputs (and ordinals with too many
//!   values to try each, relaxed to continuous and rounded after). The unit
//!   box is kept by the smooth map `u = (1 + sin t)/2`: every `t` is
//!   feasible, and a bound is reached where `cos t = 0`, a stationary point
//!   the search converges to exactly, where clamping would leave a kink.
//! * A local search over each active discrete input: every other choice of
//!   a categorical or small ordinal, 1, 2, 4, ... steps either side for a
//!   large ordinal, keeping any improvement.

use nalgebra::DMatrix;
use rand::Rng;

use super::encoding::Encoding;
use super::fit::{Posterior, dot};
use super::lbfgs::{Smooth, Tolerance, minimize};
use crate::Result;

/// ln √(2π).
const LN_SQRT_2PI: f64 = 0.918_938_533_204_672_8;
/// ln √(π/2).
const LN_SQRT_HALF_PI: f64 = 0.225_791_352_644_727_4;
/// 1/√π.
const FRAC_1_SQRT_PI: f64 = 0.564_189_583_547_756_3;
/// The smallest posterior variance, relative to the signal variance:
/// rounding can make the computed variance zero or negative at a data point.
const MIN_VARIANCE: f64 = 1e-12;
/// L-BFGS iterations per continuous step of a local search.
const LOCAL_ITERS: u64 = 30;
/// When a continuous step stops.
const LOCAL_TOLERANCE: Tolerance = Tolerance {
    grad: 1e-6,
    cost: 1e-9,
};
/// Rounds of (continuous step, discrete step) per local search.
const ROUNDS: usize = 3;

/// `erfcx(x) = e^{x²} erfc(x)` for `x >= 0`, to about 1e-13 relative:
/// below 2 from the power series of `e^{x²} erf(x)` (all terms positive),
/// above from Laplace's continued fraction for erfc, evaluated bottom-up.
pub(super) fn erfcx(x: f64) -> f64 {
    if x < 2.0 {
        let (mut sum, mut term, mut n) = (0.0, x, 0.0);
        while term > 1e-17 * sum || sum == 0.0 {
            sum += term;
            n += 1.0;
            term *= 2.0 * x * x / (2.0 * n + 1.0);
            if n > 200.0 {
                break;
            }
        }
        (x * x).exp() - 2.0 * FRAC_1_SQRT_PI * sum
    } else {
        let terms = if x < 4.0 { 60 } else { 20 };
        let mut t = x;
        for k in (1..=terms).rev() {
            t = x + 0.5 * f64::from(k) / t;
        }
        FRAC_1_SQRT_PI / t
    }
}

/// `ln(1 - e^a)` for `a <= 0`, accurate at both ends (Mächler 2012).
fn log1mexp(a: f64) -> f64 {
    if a > -std::f64::consts::LN_2 {
        (-a.exp_m1()).ln()
    } else {
        (-a.exp()).ln_1p()
    }
}

/// Φ(z), from erfcx so that the lower tail keeps its relative accuracy.
fn normal_cdf(z: f64) -> f64 {
    let t = z.abs() * std::f64::consts::FRAC_1_SQRT_2;
    let tail = 0.5 * erfcx(t) * (-t * t).exp();
    if z < 0.0 { tail } else { 1.0 - tail }
}

/// `(ln h(z), d ln h / dz)` with `h(z) = φ(z) + z Φ(z)`, finite for every
/// finite `z` (see the module docs). `d ln h/dz = Φ(z)/h(z)`.
pub(super) fn log_h(z: f64) -> (f64, f64) {
    let ln_phi = -0.5 * z * z - LN_SQRT_2PI;
    if z >= 0.0 {
        let phi = ln_phi.exp();
        let h = phi + z * normal_cdf(z);
        (h.ln(), normal_cdf(z) / h)
    } else if z > -100.0 {
        // Φ/φ = √(π/2) erfcx(|z|/√2) =: r; h = φ (1 - |z| r).
        let ln_r = erfcx(-z * std::f64::consts::FRAC_1_SQRT_2).ln() + LN_SQRT_HALF_PI;
        let ln_rest = log1mexp(ln_r + (-z).ln());
        (ln_phi + ln_rest, (ln_r - ln_rest).exp())
    } else {
        // |z| Φ/φ = 1 - 1/z² + 3/z⁴ - 15/z⁶ + ..., so
        // 1 - |z| Φ/φ = (1/z²)(1 - 3/z² + 15/z⁴ - 105/z⁶ + ...).
        let w = 1.0 / (z * z);
        let rest = 1.0 - w * (3.0 - w * (15.0 - 105.0 * w));
        let ratio = 1.0 - w * (1.0 - w * (3.0 - 15.0 * w));
        (ln_phi + w.ln() + rest.ln(), -z * ratio / rest)
    }
}

/// Log EI of a posterior against the best standardized value `best`.
pub(super) struct LogEi<'p> {
    pub post: &'p Posterior,
    pub best: f64,
}

impl LogEi<'_> {
    fn floor(&self) -> f64 {
        MIN_VARIANCE * self.post.kernel.variance()
    }

    /// Log EI from a posterior mean and variance.
    fn of_moments(&self, mean: f64, var: f64) -> f64 {
        let sd = var.max(self.floor()).sqrt();
        sd.ln() + log_h((self.best - mean) / sd).0
    }

    /// Log EI at input `x`.
    pub fn value(&self, x: &[f64]) -> f64 {
        let (mean, var) = self.post.mean_var(x);
        self.of_moments(mean, var)
    }

    /// Log EI at every row of `xs` at once: the variances' quadratic forms
    /// become one matrix product.
    pub fn values(&self, xs: &[Vec<f64>]) -> Vec<f64> {
        let (m, n) = (xs.len(), self.post.len());
        let mut kc = DMatrix::<f64>::zeros(m, n);
        let mut row = vec![0.0; n];
        for (i, x) in xs.iter().enumerate() {
            self.post.cross(x, &mut row);
            for (j, &k) in row.iter().enumerate() {
                kc[(i, j)] = k;
            }
        }
        let means = &kc * &self.post.alpha;
        let trend = &self.post.trend;
        let v = &kc * &self.post.kinv;
        (0..m)
            .map(|i| {
                let quad = kc.row(i).dot(&v.row(i));
                self.of_moments(
                    means[i] + trend.value(&xs[i]),
                    self.post.kernel.variance() - quad,
                )
            })
            .collect()
    }

    /// Log EI at `x` and its gradient along the numeric inputs `along`.
    pub fn value_and_gradient(&self, x: &[f64], along: &[usize]) -> (f64, Vec<f64>) {
        let post = self.post;
        let kernel = &post.kernel;
        let dims = kernel.inv_ls2.len().max(1);
        let n = post.len();
        // k_j, and c_j = -s g_j per variance: ∂k_j/∂xᵢ = c_j wᵢ (xᵢ - x_jᵢ).
        let scales = kernel.scales.len();
        let mut k = vec![0.0; n];
        let mut c = vec![0.0; n * scales];
        for ((kj, cj), row) in k
            .iter_mut()
            .zip(c.chunks_exact_mut(scales))
            .zip(post.x.chunks_exact(dims))
        {
            *kj = kernel.k_and_factors(x, row, cj);
        }
        let mean = post.trend.value(x) + dot(&k, post.alpha.as_slice());
        let v = post.kinv_times(&k);
        let raw_var = kernel.variance() - dot(&k, &v);
        let var = raw_var.max(self.floor());
        let sd = var.sqrt();
        let z = (self.best - mean) / sd;
        let (lh, dlh) = log_h(z);
        let grad = along
            .iter()
            .map(|&i| {
                let (mut dmean, mut dvar) = (0.0, 0.0);
                let which = if kernel.additive() { i } else { 0 };
                for (j, row) in post.x.chunks_exact(dims).enumerate() {
                    let dk = c[j * scales + which] * (x[i] - row[i]);
                    dmean += dk * post.alpha[j];
                    dvar += dk * v[j];
                }
                let w = kernel.inv_ls2[i];
                dmean = w * dmean + post.trend.gradient(x, i);
                let dsd = if raw_var > self.floor() {
                    -2.0 * w * dvar / (2.0 * sd)
                } else {
                    0.0
                };
                dsd / sd + dlh * (-dmean - z * dsd) / sd
            })
            .collect();
        (sd.ln() + lh, grad)
    }
}

/// Where in the unit cube the acquisition is maximized: a box, `lo[i]` to
/// `hi[i]` along input `i`.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Region {
    lo: Vec<f64>,
    hi: Vec<f64>,
}

impl Region {
    /// The whole unit cube of `dims` inputs.
    pub fn whole(dims: usize) -> Region {
        Region {
            lo: vec![0.0; dims],
            hi: vec![1.0; dims],
        }
    }

    /// The box `centre ± half_width` clipped to the unit cube; an input
    /// whose half-width is not positive keeps the whole of `[0, 1]`.
    pub fn around(centre: &[f64], half_width: &[f64]) -> Region {
        let (lo, hi) = centre
            .iter()
            .zip(half_width)
            .map(|(&c, &h)| {
                let (lo, hi) = ((c - h).max(0.0), (c + h).min(1.0));
                if h > 0.0 && lo < hi {
                    (lo, hi)
                } else {
                    (0.0, 1.0)
                }
            })
            .unzip();
        Region { lo, hi }
    }

    /// Whether `u` lies in the box.
    #[cfg(test)]
    pub fn contains(&self, u: &[f64]) -> bool {
        u.iter()
            .zip(self.lo.iter().zip(&self.hi))
            .all(|(&x, (&lo, &hi))| lo <= x && x <= hi)
    }

    fn width(&self, i: usize) -> f64 {
        self.hi[i] - self.lo[i]
    }

    /// A uniform random point of the box.
    fn sample<R: Rng>(&self, rng: &mut R) -> Vec<f64> {
        (0..self.lo.len())
            .map(|i| self.lo[i] + self.width(i) * rng.random::<f64>())
            .collect()
    }

    /// The coordinate of input `i` at angle `t`.
    fn at(&self, i: usize, t: f64) -> f64 {
        self.lo[i] + self.width(i) * 0.5 * (1.0 + t.sin())
    }

    /// The angle of coordinate `u` of input `i` (an end of the box if `u`
    /// lies outside it).
    fn angle(&self, i: usize, u: f64) -> f64 {
        let width = self.width(i);
        if width > 0.0 {
            (2.0 * (u - self.lo[i]) / width - 1.0)
                .clamp(-1.0, 1.0)
                .asin()
        } else {
            0.0
        }
    }
}

/// Negative log EI as a function of the angles `t` of the relaxed inputs
/// `along`, with `u = lo + (hi - lo)(1 + sin t)/2` in the region, the other
/// coordinates held at `base`.
struct Continuous<'a, 'p> {
    acq: &'a LogEi<'p>,
    enc: &'a Encoding<'a>,
    base: &'a [f64],
    along: &'a [usize],
    region: &'a Region,
}

impl Continuous<'_, '_> {
    fn unit(&self, t: &[f64]) -> Vec<f64> {
        let mut u = self.base.to_vec();
        for (&i, &ti) in self.along.iter().zip(t) {
            u[i] = self.region.at(i, ti);
        }
        u
    }
}

impl Smooth for Continuous<'_, '_> {
    fn eval(&self, t: &[f64]) -> Option<(f64, Vec<f64>)> {
        let x = self.enc.features(&self.unit(t));
        let (value, grad) = self.acq.value_and_gradient(&x, self.along);
        let grad = grad
            .iter()
            .zip(t)
            .zip(self.along)
            .map(|((g, ti), &i)| -g * self.region.width(i) * 0.5 * ti.cos())
            .collect();
        Some((-value, grad))
    }
}

/// The acquisition search's settings.
pub(super) struct Search {
    pub n_candidates: usize,
    pub n_local_searches: usize,
    pub region: Region,
}

impl Search {
    /// The unit point with the largest log EI found; `incumbent` (the best
    /// trial's unit point) is always one of the local searches' starts.
    pub fn maximize<R: Rng>(
        &self,
        acq: &LogEi<'_>,
        enc: &Encoding<'_>,
        rng: &mut R,
        incumbent: &[f64],
    ) -> Result<Vec<f64>> {
        let mut units = Vec::with_capacity(self.n_candidates + 1);
        for _ in 0..self.n_candidates {
            let mut u = self.region.sample(rng);
            enc.snap_all(&mut u)?;
            units.push(u);
        }
        let features: Vec<Vec<f64>> = units.iter().map(|u| enc.features(u)).collect();
        let scores = acq.values(&features);
        let mut order: Vec<usize> = (0..units.len()).collect();
        order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
        let mut starts: Vec<(f64, Vec<f64>)> = order
            .iter()
            .take(self.n_local_searches)
            .map(|&i| (scores[i], units[i].clone()))
            .collect();
        starts.push((acq.value(&enc.features(incumbent)), incumbent.to_vec()));
        let mut best = order
            .first()
            .map(|&i| (scores[i], units[i].clone()))
            .unwrap_or_else(|| starts[starts.len() - 1].clone());
        for (score, u) in starts {
            let (score, u) = local_search(acq, enc, score, u, &self.region)?;
            if score > best.0 {
                best = (score, u);
            }
        }
        Ok(best.1)
    }
}

/// Improves `u` (log EI `score`) by alternating a continuous and a
/// discrete step, [`ROUNDS`] times at most: the continuous step is repeated
/// only after the discrete one moved, since it starts where it stopped.
fn local_search(
    acq: &LogEi<'_>,
    enc: &Encoding<'_>,
    mut score: f64,
    mut u: Vec<f64>,
    region: &Region,
) -> Result<(f64, Vec<f64>)> {
    for _ in 0..ROUNDS {
        if let Some((s, next)) = continuous_step(acq, enc, &u, region)?
            && s > score
        {
            (score, u) = (s, next);
        }
        let mut moved = false;
        for i in 0..enc.len() {
            if !enc.discrete(i) || !enc.active(&u)[i] {
                continue;
            }
            for c in enc.neighbours(i, u[i])? {
                let mut next = u.clone();
                next[i] = c;
                let s = acq.value(&enc.features(&next));
                if s > score {
                    (score, u, moved) = (s, next, true);
                }
            }
        }
        if !moved {
            break;
        }
    }
    Ok((score, u))
}

/// L-BFGS over the active relaxed inputs of `u`, the result snapped onto
/// the lattices, with its log EI; `None` if there is nothing to move or no
/// evaluation succeeded.
fn continuous_step(
    acq: &LogEi<'_>,
    enc: &Encoding<'_>,
    u: &[f64],
    region: &Region,
) -> Result<Option<(f64, Vec<f64>)>> {
    let active = enc.active(u);
    let along: Vec<usize> = (0..enc.len())
        .filter(|&i| active[i] && enc.relaxed(i))
        .collect();
    if along.is_empty() {
        return Ok(None);
    }
    let problem = Continuous {
        acq,
        enc,
        base: u,
        along: &along,
        region,
    };
    let start: Vec<f64> = along.iter().map(|&i| region.angle(i, u[i])).collect();
    let Some((_, t)) = minimize(&problem, &start, LOCAL_ITERS, LOCAL_TOLERANCE) else {
        return Ok(None);
    };
    let mut next = problem.unit(&t);
    for &i in &along {
        next[i] = enc.snap(i, next[i])?;
    }
    Ok(Some((acq.value(&enc.features(&next)), next)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// ln EI computed naively, where it is representable.
    fn naive_log_h(z: f64) -> f64 {
        let phi = (-0.5 * z * z - LN_SQRT_2PI).exp();
        (phi + z * crate::normal::cdf(z)).ln()
    }

    #[test]
    fn erfcx_matches_references() {
        // mpmath, 40 digits: erfc(x)·exp(x²).
        let cases = [
            (0.0, 1.0),
            (0.5, 0.615_690_344_192_925_9),
            (1.0, 0.427_583_576_155_807),
            (1.999, 0.255_502_514_590_577_9),
            (2.0, 0.255_395_676_310_505_7),
            (5.0, 0.110_704_637_733_068_6),
            (30.0, 0.018_795_888_861_416_75),
            (1e6, 5.641_895_835_474_742e-7),
        ];
        for (x, want) in cases {
            let got = erfcx(x);
            assert!(
                ((got - want) / want).abs() < 1e-12,
                "erfcx({x}) = {got}, want {want}"
            );
        }
    }

    #[test]
    fn log_h_matches_the_log_of_ei_where_ei_is_representable() {
        // Where h is not small, the naive formula is accurate.
        for i in -20..=60 {
            let z = f64::from(i) * 0.1;
            let (got, _) = log_h(z);
            let want = naive_log_h(z);
            assert!((got - want).abs() < 1e-11, "z {z}: {got} vs {want}");
        }
        // Deeper, h is still representable (down to z ≈ -37) but the naive
        // difference φ + zΦ cancels: mpmath at 60 digits, (z, ln h, Φ/h).
        let cases = [
            (-35.0, -620.532_076_675_948, 35.057_003_708_747_5),
            (-20.0, -206.917_838_509_425_1, 20.099_262_811_101_28),
            (-10.0, -55.553_122_036_122_36, 10.194_383_033_412_55),
            (-6.0, -22.578_879_392_169_8, 6.309_840_773_209_832),
            (-3.0, -7.869_686_059_603_029, 3.532_337_517_625_16),
            (-1.0, -2.485_121_025_712_641, 1.904_271_233_329_692),
            (0.5, -0.359_827_683_745_063_8, 0.990_922_718_004_11),
            (2.0, 0.697_383_545_788_228_3, 0.486_559_318_785_283_9),
        ];
        for (z, want, dwant) in cases {
            let (got, d) = log_h(z);
            assert!(
                (got - want).abs() < 1e-11 * want.abs().max(1.0),
                "z {z}: {got} vs {want}"
            );
            assert!((d - dwant).abs() < 1e-11 * dwant, "z {z}: {d} vs {dwant}");
        }
    }

    #[test]
    fn log_h_stays_finite_and_smooth_in_the_far_tail() {
        let mut last = f64::INFINITY;
        for &z in &[-10.0_f64, -37.0, -50.0, -99.9, -100.1, -1e3, -1e6, -1e150] {
            let (v, d) = log_h(z);
            assert!(v.is_finite() && d.is_finite() && d > 0.0, "z {z}: {v}, {d}");
            assert!(v < last);
            last = v;
            // Leading terms: -z²/2 - ln √(2π) - 2 ln|z|.
            let lead = -0.5 * z * z - LN_SQRT_2PI - 2.0 * (-z).ln();
            assert!(
                (v - lead).abs() < 4.0 / (z * z) + 1e-12 * lead.abs(),
                "z {z}: {v} vs {lead}"
            );
        }
        // No jump where the asymptotic branch takes over.
        let (a, da) = log_h(-100.0 + 1e-9);
        let (b, db) = log_h(-100.0 - 1e-9);
        assert!(
            (a - b).abs() < 1e-6 && (da - db).abs() < 1e-6,
            "{a} {b} {da} {db}"
        );
    }

    #[test]
    fn the_derivative_of_log_h_matches_finite_differences() {
        for &z in &[-300.0_f64, -40.0, -5.0, -1.0, -0.3, 0.0, 0.7, 3.0, 20.0] {
            let h = 1e-5 * f64::max(1.0, z.abs());
            let fd = (log_h(z + h).0 - log_h(z - h).0) / (2.0 * h);
            let (_, d) = log_h(z);
            assert!(
                (fd - d).abs() < 1e-5 * d.abs().max(1.0),
                "z {z}: {fd} vs {d}"
            );
        }
    }

    #[test]
    fn the_log_ei_gradient_matches_finite_differences_with_a_trend() {
        // Joint and additive kernels (a variance per input).
        for theta in [
            vec![-1.5, -1.0, 0.0, -9.0],
            vec![-1.5, -1.0, -0.5, -1.0, -9.0],
        ] {
            log_ei_gradient_matches_finite_differences(&theta);
        }
    }

    fn log_ei_gradient_matches_finite_differences(theta: &[f64]) {
        use super::super::fit::kernel_at;
        use super::super::trend::Trend;
        let x: Vec<Vec<f64>> = (0..9)
            .map(|i| {
                let t = f64::from(i);
                vec![(t * 0.618).fract(), (t * 0.414 + 0.2).fract()]
            })
            .collect();
        let y: Vec<f64> = x
            .iter()
            .map(|p| (p[0] - 0.3).powi(2) + 2.0 * (p[1] - 0.6).powi(2) + 0.1 * (9.0 * p[0]).sin())
            .collect();
        let cat = [false, false];
        let trend = Trend::fit(&x, &y, &cat);
        assert_ne!(trend, Trend::default());
        assert_eq!(kernel_at(theta, &cat).0.additive(), theta.len() == 5);
        let post = Posterior::new(theta, &cat, &x, &y, 0, trend).unwrap_or_else(|| unreachable!());
        let best = y.iter().copied().fold(f64::INFINITY, f64::min);
        let acq = LogEi { post: &post, best };
        for at in [[0.1, 0.9], [0.5, 0.5], [0.77, 0.23], [0.02, 0.03]] {
            let (v, g) = acq.value_and_gradient(&at, &[0, 1]);
            assert!((v - acq.value(&at)).abs() < 1e-9, "{at:?}");
            assert!((v - acq.values(&[at.to_vec()])[0]).abs() < 1e-9, "{at:?}");
            for i in 0..2 {
                let h = 1e-6;
                let (mut hi, mut lo) = (at, at);
                hi[i] += h;
                lo[i] -= h;
                let fd = (acq.value(&hi) - acq.value(&lo)) / (2.0 * h);
                assert!(
                    (fd - g[i]).abs() < 1e-4 * fd.abs().max(1.0),
                    "{at:?}, input {i}: {fd} vs {}",
                    g[i]
                );
            }
        }
    }

    #[test]
    fn a_region_is_the_box_around_its_centre_clipped_to_the_cube() {
        let r = Region::around(&[0.5, 0.875, 0.25], &[0.125, 0.25, 0.0]);
        // The second input's box is clipped at 1, the third (no width)
        // keeps the whole of [0, 1].
        assert!(r.contains(&[0.375, 0.625, 0.0]) && r.contains(&[0.625, 1.0, 1.0]));
        assert!(!r.contains(&[0.37, 0.75, 0.5]) && !r.contains(&[0.5, 0.62, 0.5]));
        assert_eq!(Region::around(&[0.25], &[-1.0]), Region::whole(1));
        // Angles map onto the box and back.
        for u in [0.375, 0.5, 0.6] {
            assert!((r.at(0, r.angle(0, u)) - u).abs() < 1e-12);
        }
        assert_eq!(r.at(0, r.angle(0, 0.9)), 0.625);
    }

    #[test]
    fn the_search_stays_in_its_region() {
        use rand::SeedableRng;
        let space = crate::SearchSpace::new([
            crate::ParamSpec::double("a", 0.0, 1.0),
            crate::ParamSpec::double("b", 0.0, 1.0),
        ])
        .unwrap_or_else(|_| unreachable!());
        let enc = Encoding::new(&space).unwrap_or_else(|_| unreachable!());
        let x = vec![
            vec![0.1, 0.1],
            vec![0.9, 0.2],
            vec![0.5, 0.8],
            vec![0.3, 0.6],
        ];
        let y = vec![1.0, 0.5, -0.5, 0.0];
        let cat = [false, false];
        let post = Posterior::new(
            &[-1.0, -1.0, 0.0, -9.0],
            &cat,
            &x,
            &y,
            0,
            Default::default(),
        )
        .unwrap_or_else(|| unreachable!());
        let acq = LogEi {
            post: &post,
            best: -0.5,
        };
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        // The whole cube's maximum lies outside this box.
        let region = Region::around(&[0.25, 0.25], &[0.0625, 0.0625]);
        let whole = Search {
            n_candidates: 256,
            n_local_searches: 4,
            region: Region::whole(2),
        }
        .maximize(&acq, &enc, &mut rng, &[0.3, 0.6])
        .unwrap_or_else(|_| unreachable!());
        assert!(!region.contains(&whole), "{whole:?}");
        let boxed = Search {
            n_candidates: 256,
            n_local_searches: 4,
            region: region.clone(),
        }
        .maximize(&acq, &enc, &mut rng, &[0.25, 0.25])
        .unwrap_or_else(|_| unreachable!());
        assert!(region.contains(&boxed), "{boxed:?}");
    }
}
