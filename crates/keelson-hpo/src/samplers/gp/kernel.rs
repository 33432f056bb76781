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

/// A Matérn-5/2 ARD kernel with fixed hyperparameters.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Kernel {
    /// `1 / ℓᵢ²` per input.
    pub inv_ls2: Vec<f64>,
    /// The signal variance `s`.
    pub scale: f64,
    /// Which inputs are categorical (Hamming) rather than numeric.
    pub categorical: Vec<bool>,
}

impl Kernel {
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
        self.scale * matern52(self.r2(a, b)).0
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
            scale: 2.0,
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
}
