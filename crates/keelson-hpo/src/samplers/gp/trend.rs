//! A separable quadratic prior mean for the Gaussian process.
//!
//! A stationary kernel with a constant mean reverts to that mean away from
//! the data, so once the search has settled in one basin, every point not
//! yet visited looks alike to the model, and the global shape the trials
//! already show (values falling towards the middle of a bowl, as on
//! Rastrigin's, Levy's or Styblinski–Tang's functions, or on a learning rate
//! that is bad at both ends) is lost. Fitting
//!
//! ```text
//! m(x) = c + Σᵢ (bᵢ vᵢ + aᵢ vᵢ²),   vᵢ = xᵢ - ½,
//! ```
//!
//! over the numeric inputs by ridge least squares and modelling the
//! residuals with the GP keeps that shape where the GP knows nothing. Only
//! one quadratic term per input (no cross terms) keeps the coefficients at
//! `2d + 1`, few enough for the ten points of a first fit; categorical
//! inputs take no part.
//!
//! Whether the trend is used at all is decided per suggestion by the GP's
//! leave-one-out predictive density (see the sampler's docs), so a function
//! without such a shape, such as Hartmann's, is modelled as before.

use nalgebra::{Cholesky, DMatrix, DVector};

/// The ridge penalty on every coefficient but the constant, in units of the
/// standardized values: enough to keep a first fit on ten points (fewer
/// than the coefficients beyond five inputs) well posed.
const RIDGE: f64 = 1e-2;

/// A fitted quadratic trend; the default is the zero function.
#[derive(Clone, Debug, Default, PartialEq)]
pub(super) struct Trend {
    /// Per numeric input: (input index, linear coefficient, quadratic one).
    terms: Vec<(usize, f64, f64)>,
    constant: f64,
}

impl Trend {
    /// The ridge fit of the trend to values `y` at inputs `x`, over the
    /// inputs not marked `categorical`; the zero trend if the normal
    /// equations cannot be solved (non-finite data).
    pub fn fit(x: &[Vec<f64>], y: &[f64], categorical: &[bool]) -> Trend {
        let numeric: Vec<usize> = (0..categorical.len())
            .filter(|&i| !categorical[i])
            .collect();
        let p = 1 + 2 * numeric.len();
        let mut a = DMatrix::<f64>::zeros(x.len(), p);
        for (r, point) in x.iter().enumerate() {
            a[(r, 0)] = 1.0;
            for (k, &i) in numeric.iter().enumerate() {
                let v = point.get(i).copied().unwrap_or(0.5) - 0.5;
                a[(r, 1 + 2 * k)] = v;
                a[(r, 2 + 2 * k)] = v * v;
            }
        }
        let mut normal = a.transpose() * &a;
        for d in 1..p {
            normal[(d, d)] += RIDGE;
        }
        // The constant is not penalized; a tiny jitter keeps a lone point
        // (or repeated ones) solvable.
        normal[(0, 0)] += 1e-12;
        let rhs = a.transpose() * DVector::from_column_slice(y);
        let Some(b) = Cholesky::new(normal).map(|c| c.solve(&rhs)) else {
            return Trend::default();
        };
        if b.iter().any(|v| !v.is_finite()) {
            return Trend::default();
        }
        Trend {
            terms: numeric
                .iter()
                .enumerate()
                .map(|(k, &i)| (i, b[1 + 2 * k], b[2 + 2 * k]))
                .collect(),
            constant: b[0],
        }
    }

    /// `m(x)`.
    pub fn value(&self, x: &[f64]) -> f64 {
        self.terms
            .iter()
            .fold(self.constant, |acc, &(i, lin, quad)| {
                let v = x.get(i).copied().unwrap_or(0.5) - 0.5;
                acc + v * (lin + quad * v)
            })
    }

    /// `y - m(x)` at every point of `x`: what the GP models.
    pub fn residuals(&self, x: &[Vec<f64>], y: &[f64]) -> Vec<f64> {
        x.iter().zip(y).map(|(p, v)| v - self.value(p)).collect()
    }

    /// `∂m/∂xᵢ` at `x`.
    pub fn gradient(&self, x: &[f64], i: usize) -> f64 {
        self.terms
            .iter()
            .find(|t| t.0 == i)
            .map_or(0.0, |&(_, lin, quad)| {
                lin + 2.0 * quad * (x.get(i).copied().unwrap_or(0.5) - 0.5)
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid(n: usize) -> Vec<Vec<f64>> {
        (0..n)
            .map(|k| {
                let t = k as f64;
                vec![
                    (t * 0.618).fract(),
                    (t * 0.414 + 0.1).fract(),
                    (k % 3) as f64,
                ]
            })
            .collect()
    }

    #[test]
    fn a_separable_quadratic_is_recovered() {
        let x = grid(40);
        let f = |p: &[f64]| {
            1.5 - 2.0 * (p[0] - 0.5) + 4.0 * (p[0] - 0.5).powi(2) + 3.0 * (p[1] - 0.5).powi(2)
        };
        let y: Vec<f64> = x.iter().map(|p| f(p)).collect();
        let trend = Trend::fit(&x, &y, &[false, false, true]);
        for p in &x {
            // The ridge shrinks the coefficients a little.
            assert!(
                (trend.value(p) - f(p)).abs() < 0.05,
                "{} vs {}",
                trend.value(p),
                f(p)
            );
        }
        // The categorical input takes no part.
        assert_eq!(trend.value(&[0.2, 0.7, 0.0]), trend.value(&[0.2, 0.7, 2.0]));
    }

    #[test]
    fn the_gradient_matches_finite_differences() {
        let x = grid(12);
        let y: Vec<f64> = x.iter().map(|p| (5.0 * p[0]).sin() + p[1]).collect();
        let trend = Trend::fit(&x, &y, &[false, false, true]);
        let at = [0.3, 0.8, 1.0];
        for i in 0..3 {
            let h = 1e-6;
            let (mut hi, mut lo) = (at, at);
            hi[i] += h;
            lo[i] -= h;
            let fd = if i == 2 {
                0.0
            } else {
                (trend.value(&hi) - trend.value(&lo)) / (2.0 * h)
            };
            assert!((fd - trend.gradient(&at, i)).abs() < 1e-6, "input {i}");
        }
    }

    #[test]
    fn degenerate_data_gives_a_usable_trend() {
        // One point, fewer than the coefficients: the constant fits it.
        let trend = Trend::fit(&[vec![0.2, 0.9]], &[3.0], &[false, false]);
        assert!((trend.value(&[0.2, 0.9]) - 3.0).abs() < 0.1);
        // Non-finite values: no trend.
        let bad = Trend::fit(&[vec![0.2], vec![0.4]], &[f64::NAN, 1.0], &[false]);
        assert_eq!(bad, Trend::default());
        // Only categorical inputs: a constant.
        let cat = Trend::fit(&[vec![0.0], vec![1.0]], &[1.0, 3.0], &[true]);
        assert!((cat.value(&[0.0]) - 2.0).abs() < 1e-9);
    }
}
