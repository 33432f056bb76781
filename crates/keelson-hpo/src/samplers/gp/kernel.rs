//! The Matérn-5/2 kernel with one lengthscale per input (ARD), and a
//! Hamming distance for categorical inputs.
//!
//! With `r² = Σᵢ δᵢ(a, b) / ℓᵢ²`, where `δᵢ` is `(aᵢ - bᵢ)²` for a numeric
//! input and `0` or `1` (equal or not) for a categorical one,
//!
//! ```text
//! k(a, b) = s · (1 + √5 r + 5r²/3) · exp(-√5 r)
//! ```
//!
//! That is the joint kernel. The additive kernel sums one such kernel per
//! input, each with its own variance `sᵢ` (Duvenaud et al. 2011, "Additive
//! Gaussian processes"; Kandasamy et al. 2015 for Bayesian optimization):
//!
//! ```text
//! k(a, b) = Σᵢ sᵢ m(δᵢ(a, b) / ℓᵢ²)
//! ```
//!
//! It assumes the objective is a sum of what each input does alone. Where
//! that holds, every trial teaches each input's curve, and the model
//! predicts combinations of each input's best value that no trial has come
//! near, which the joint kernel, reverting to its mean away from the data,
//! cannot.
//!
//! Every derivative the model needs goes through `g(r) = (5/3)(1 + √5 r)
//! exp(-√5 r)`, which satisfies `∂k/∂(r²) = -s g / 2`; unlike `∂k/∂r`, it
//! has no `1/r` to blow up where two points coincide.

const SQRT_5: f64 = 2.236_067_977_499_79;

/// The kernel's correlation `m(r)` and its derivative factor `g(r)` (see
/// the module docs), from the squared distance `r²`.
#[inline]
pub(super) fn matern52(r2: f64) -> (f64, f64) {
    let r = r2.max(0.0).sqrt();
    let e = (-SQRT_5 * r).exp();
    let m = (1.0 + SQRT_5 * r + 5.0 / 3.0 * r2) * e;
    let g = 5.0 / 3.0 * (1.0 + SQRT_5 * r) * e;
    (m, g)
}

/// The per-input squared difference `δ` of the module docs.
#[inline]
pub(super) fn sq_diff(a: f64, b: f64, categorical: bool) -> f64 {
    if categorical {
        if a == b { 0.0 } else { 1.0 }
    } else {
        (a - b) * (a - b)
    }
}

/// A Matérn-5/2 ARD kernel with fixed hyperparameters: either joint, one
/// Matérn of the distance over all inputs, or additive, a sum of one
/// Matérn per input with its own variance (see [`Kernel::additive`]).
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Kernel {
    /// `1 / ℓᵢ²` per input.
    pub inv_ls2: Vec<f64>,
    /// The signal variances: one for a joint kernel, one per input for an
    /// additive one.
    pub scales: Vec<f64>,
    /// Which inputs are categorical (Hamming) rather than numeric.
    pub categorical: Vec<bool>,
}

impl Kernel {
    /// Whether the kernel is the additive `Σᵢ sᵢ m(δᵢ/ℓᵢ²)`, which
    /// extrapolates what each input does alone to combinations never
    /// tried, rather than the joint `s m(r²)`.
    #[inline]
    pub fn additive(&self) -> bool {
        self.scales.len() > 1
    }

    /// The prior variance `k(x, x)`.
    pub fn variance(&self) -> f64 {
        self.scales.iter().sum()
    }

    /// `r²` between two inputs.
    #[inline]
    pub fn r2(&self, a: &[f64], b: &[f64]) -> f64 {
        let mut r2 = 0.0;
        for (((&ai, &bi), &w), &cat) in a.iter().zip(b).zip(&self.inv_ls2).zip(&self.categorical) {
            r2 += w * sq_diff(ai, bi, cat);
        }
        r2
    }

    /// `k(a, b)`.
    #[inline]
    pub fn k(&self, a: &[f64], b: &[f64]) -> f64 {
        if !self.additive() {
            return self.scales[0] * matern52(self.r2(a, b)).0;
        }
        let mut k = 0.0;
        for ((((&ai, &bi), &w), &cat), &s) in a
            .iter()
            .zip(b)
            .zip(&self.inv_ls2)
            .zip(&self.categorical)
            .zip(&self.scales)
        {
            k += s * matern52(w * sq_diff(ai, bi, cat)).0;
        }
        k
    }

    /// `k(a, b)`, and into `c` the factors of its gradient in `a`:
    /// `∂k/∂aᵢ = c[i or 0] wᵢ (aᵢ - bᵢ)` for numeric inputs, `c` holding
    /// `-s g` per input of an additive kernel and once for a joint one.
    #[inline]
    pub fn k_and_factors(&self, a: &[f64], b: &[f64], c: &mut [f64]) -> f64 {
        if !self.additive() {
            let (m, g) = matern52(self.r2(a, b));
            c[0] = -self.scales[0] * g;
            return self.scales[0] * m;
        }
        let mut k = 0.0;
        for i in 0..self.scales.len() {
            let (m, g) = matern52(self.inv_ls2[i] * sq_diff(a[i], b[i], self.categorical[i]));
            k += self.scales[i] * m;
            c[i] = -self.scales[i] * g;
        }
        k
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matern_is_one_at_zero_and_decays() {
        let (m0, g0) = matern52(0.0);
        assert_eq!((m0, g0), (1.0, 5.0 / 3.0));
        let mut last = 1.0;
        for i in 1..50 {
            let (m, _) = matern52(f64::from(i) * 0.1);
            assert!(m < last && m > 0.0);
            last = m;
        }
    }

    #[test]
    fn g_is_minus_twice_the_derivative_in_r_squared() {
        for &r2 in &[1e-6_f64, 0.01, 0.3, 1.0, 4.0, 25.0] {
            let h = 1e-6 * r2.max(1e-3);
            let fd = (matern52(r2 + h).0 - matern52(r2 - h).0) / (2.0 * h);
            let (_, g) = matern52(r2);
            assert!(
                (fd + g / 2.0).abs() < 1e-6 * g.max(1e-3),
                "r2 {r2}: {fd} vs {}",
                -g / 2.0
            );
        }
    }

    #[test]
    fn categorical_inputs_count_a_mismatch_once() {
        let kernel = Kernel {
            inv_ls2: vec![4.0, 1.0],
            scales: vec![2.0],
            categorical: vec![false, true],
        };
        assert_eq!(kernel.r2(&[0.5, 2.0], &[0.0, 2.0]), 1.0);
        assert_eq!(kernel.r2(&[0.5, 2.0], &[0.5, 0.0]), 1.0);
        assert_eq!(
            kernel.r2(&[0.5, 3.0], &[0.5, 0.0]),
            1.0,
            "far indices are no farther"
        );
        assert_eq!(kernel.k(&[0.1, 1.0], &[0.1, 1.0]), 2.0);
    }

    #[test]
    fn an_additive_kernel_sums_one_input_kernels_and_their_gradients() {
        let additive = Kernel {
            inv_ls2: vec![4.0, 1.0, 9.0],
            scales: vec![0.5, 2.0, 0.25],
            categorical: vec![false, true, false],
        };
        assert!(additive.additive());
        assert_eq!(additive.variance(), 2.75);
        let (a, b) = ([0.2, 1.0, 0.7], [0.6, 2.0, 0.1]);
        let alone = |i: usize| Kernel {
            inv_ls2: vec![additive.inv_ls2[i]],
            scales: vec![additive.scales[i]],
            categorical: vec![additive.categorical[i]],
        };
        let sum: f64 = (0..3).map(|i| alone(i).k(&a[i..=i], &b[i..=i])).sum();
        assert!((additive.k(&a, &b) - sum).abs() < 1e-15);
        let mut c = [0.0; 3];
        assert_eq!(additive.k_and_factors(&a, &b, &mut c), additive.k(&a, &b));
        for i in [0, 2] {
            let h = 1e-6;
            let (mut hi, mut lo) = (a, a);
            hi[i] += h;
            lo[i] -= h;
            let fd = (additive.k(&hi, &b) - additive.k(&lo, &b)) / (2.0 * h);
            let analytic = c[i] * additive.inv_ls2[i] * (a[i] - b[i]);
            assert!(
                (fd - analytic).abs() < 1e-6,
                "input {i}: {fd} vs {analytic}"
            );
        }
    }
}
