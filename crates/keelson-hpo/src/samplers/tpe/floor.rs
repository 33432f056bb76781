//! The candidates' bounds in single precision.
//!
//! Before a candidate is scored, a lower bound of the "above" density at it
//! (the kernels of the runs whose core boxes hold it) says whether it can
//! still beat the best score; on a long history these bounds are a third of
//! an ask's work, since the trials crowd where the candidates are drawn. A
//! bound needs no more than a few digits, and any smaller value is still a
//! bound: so it is summed in `f32` (twice the lanes per vector, and a
//! shorter `exp`), then lowered by [`MARGIN`], which covers the rounding of
//! the inputs, the terms and the sum many times over. The scored densities
//! stay in `f64`.
//!
//! Only for continuous dimensions (a stepped one's cell masses need erfc)
//! and factors well inside `f32`'s range; otherwise the bound is summed in
//! `f64` as before.

use super::Kernels;

/// The bound's relative lowering. Rounding a centre, the point and 1/σ
/// (at most 100 on a windowed mixture) to `f32` moves `z` by at most
/// `1.2e-5 + 1.8e-7 |z|`, so a term's exponent `-Σ z²/2 = -E` by at most
/// `1.2e-5 √(2 d E) + 3.6e-7 E`: under 5e-4 for the `exp`'s whole range
/// (E ≤ 87; beyond, the term counts as 0) over [`MAX_DIMS`] dimensions.
/// The `exp` adds 4e-7, a sum of a few thousand terms in eight lanes
/// under 1e-5. (1e-2 ruled out fewer candidates: 4% more instructions on
/// branin at 1,000 trials.)
const MARGIN: f64 = 1e-3;
/// The most dimensions a window may have for its bound in `f32`
/// ([`MARGIN`]'s reasoning holds up to here).
const MAX_DIMS: usize = 8;
/// The largest factor kept in `f32`: far enough below `f32::MAX` that sums
/// of thousands of terms stay finite.
const MAX_FACTOR: f64 = 1e30;
/// The smallest: far enough above `f32`'s normal range that terms near
/// their kernels' centres keep their precision.
const MIN_FACTOR: f64 = 1e-30;

/// A mixture's trial kernels in `f32`, per continuous dimension of a
/// window (centres and inverse bandwidths, kernel-major) and their factors.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Floor32 {
    /// The window's dimensions: indices into a point and the kernels.
    dims: Vec<usize>,
    mu: Vec<Vec<f32>>,
    inv_sigma: Vec<Vec<f32>>,
    factor: Vec<f32>,
}

impl Floor32 {
    /// The `f32` copy of `kernels` along `dims` and of `factor`; `None`
    /// where a dimension is not continuous, there are more than
    /// [`MAX_DIMS`], or a factor is out of range.
    pub fn new(dims: &[usize], kernels: &[Kernels], factor: &[f64]) -> Option<Floor32> {
        if dims.len() > MAX_DIMS {
            return None;
        }
        let mut mu = Vec::with_capacity(dims.len());
        let mut inv_sigma = Vec::with_capacity(dims.len());
        for &d in dims {
            let Some(Kernels::Numeric {
                mu: m,
                inv_sigma: is,
                cells: None,
                ..
            }) = kernels.get(d)
            else {
                return None;
            };
            mu.push(m.iter().map(|&v| v as f32).collect());
            inv_sigma.push(is.iter().map(|&v| v as f32).collect());
        }
        if factor
            .iter()
            .any(|&f| !(MIN_FACTOR..=MAX_FACTOR).contains(&f))
        {
            return None;
        }
        Some(Floor32 {
            dims: dims.to_vec(),
            mu,
            inv_sigma,
            factor: factor.iter().map(|&f| f as f32).collect(),
        })
    }

    /// A lower bound of the terms' sum over the kernels in `range` at `x`.
    pub fn sum(&self, x: &[f64], range: std::ops::Range<usize>, acc: &mut Vec<f32>) -> f64 {
        acc.clear();
        acc.resize(range.len(), 0.0);
        for ((&d, mu), inv_sigma) in self.dims.iter().zip(&self.mu).zip(&self.inv_sigma) {
            let xi = x.get(d).copied().unwrap_or(f64::NAN) as f32;
            let (mu, inv_sigma) = (&mu[range.clone()], &inv_sigma[range.clone()]);
            for ((a, &m), &is) in acc.iter_mut().zip(mu).zip(inv_sigma) {
                let z = (xi - m) * is;
                *a -= 0.5 * z * z;
            }
        }
        for (a, &f) in acc.iter_mut().zip(&self.factor[range]) {
            *a = f * fast_exp(*a);
        }
        let mut lanes = [0.0_f32; 8];
        let chunks = acc.chunks_exact(8);
        let tail: f32 = chunks.remainder().iter().sum();
        for c in chunks {
            for (l, &v) in lanes.iter_mut().zip(c) {
                *l += v;
            }
        }
        f64::from(lanes.iter().sum::<f32>() + tail) * (1.0 - MARGIN)
    }
}

/// e^x in `f32` for -87 <= x <= 0 within 4e-7 relative, and 0 below -87
/// (never more than e^x: the bound stays a bound); plain arithmetic, so the
/// loop over it vectorizes.
#[inline(always)]
fn fast_exp(x: f32) -> f32 {
    // 1.5 * 2^23: adding it rounds to an integer held in the low bits.
    const SHIFT: f32 = 12_582_912.0;
    const LN2_HI: f32 = 0.693_145_75;
    const LN2_LO: f32 = 1.428_606_8e-6;
    let beyond = x < -87.0;
    let x = if beyond { -87.0 } else { x };
    let x = if x > 0.0 { 0.0 } else { x };
    let shifted = x * std::f32::consts::LOG2_E + SHIFT;
    let k = shifted - SHIFT;
    let r = x - k * LN2_HI - k * LN2_LO;
    // Taylor to r^6 on |r| <= ln2 / 2: truncation error below 3e-8.
    let mut p = 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    // 2^k from k's low bits: k + 127 is in 1..=127 after the clamp.
    let scale = f32::from_bits(shifted.to_bits().wrapping_add(127) << 23);
    if beyond { 0.0 } else { p * scale }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_exp_is_within_4e_7_down_to_the_clamp() {
        for i in 0..=8_700 {
            let x = -(i as f32) * 0.01;
            let (got, want) = (f64::from(fast_exp(x)), f64::from(x).exp());
            assert!(((got - want) / want).abs() < 4e-7, "{x}: {got} vs {want}");
        }
        assert_eq!(fast_exp(-87.5), 0.0);
        assert_eq!(fast_exp(-1e4), 0.0);
    }

    #[test]
    fn the_bound_is_below_the_sum_and_close_to_it() {
        // 500 kernels at the magic clip's bandwidth around the point, and
        // the f64 sum of their terms.
        let k = 500;
        let mu: Vec<f64> = (0..k).map(|i| (f64::from(i) * 0.618_034) % 1.0).collect();
        let nu: Vec<f64> = (0..k).map(|i| (f64::from(i) * 0.414_214) % 1.0).collect();
        let inv_sigma = vec![100.0; k as usize];
        let factor: Vec<f64> = (0..k).map(|i| 1.0 + f64::from(i % 7)).collect();
        let kernels = [
            Kernels::Numeric {
                mu: mu.clone(),
                sigma: vec![0.01; k as usize],
                inv_sigma: inv_sigma.clone(),
                cells: None,
            },
            Kernels::Numeric {
                mu: nu.clone(),
                sigma: vec![0.01; k as usize],
                inv_sigma,
                cells: None,
            },
        ];
        let floor = Floor32::new(&[0, 1], &kernels, &factor).unwrap_or_else(|| unreachable!());
        let mut acc = Vec::new();
        for p in 0..200 {
            let x = [
                (f64::from(p) * 0.754_878) % 1.0,
                (f64::from(p) * 0.569_840) % 1.0,
            ];
            let exact: f64 = (0..k as usize)
                .map(|i| {
                    let (a, b) = ((x[0] - mu[i]) * 100.0, (x[1] - nu[i]) * 100.0);
                    factor[i] * (-0.5 * (a * a + b * b)).exp()
                })
                .sum();
            let bound = floor.sum(&x, 0..k as usize, &mut acc);
            assert!(bound <= exact, "at {x:?}: {bound} > {exact}");
            assert!(bound >= 0.98 * exact, "at {x:?}: {bound} far below {exact}");
        }
    }

    #[test]
    fn stepped_dimensions_and_huge_factors_stay_in_f64() {
        let numeric = |cells| Kernels::Numeric {
            mu: vec![0.5, 0.5],
            sigma: vec![1.0, 1.0],
            inv_sigma: vec![1.0, 1.0],
            cells,
        };
        assert!(Floor32::new(&[0], &[numeric(None)], &[1.0, 1.0]).is_some());
        assert!(Floor32::new(&[0], &[numeric(Some(8))], &[1.0, 1.0]).is_none());
        assert!(Floor32::new(&[0], &[numeric(None)], &[1.0, 1e40]).is_none());
        let nine: Vec<Kernels> = (0..9).map(|_| numeric(None)).collect();
        let all: Vec<usize> = (0..9).collect();
        assert!(Floor32::new(&all[..8], &nine, &[1.0, 1.0]).is_some());
        assert!(Floor32::new(&all, &nine, &[1.0, 1.0]).is_none());
    }
}
