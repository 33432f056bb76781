//! Two-sample Cramér–von Mises test, reproducing
//! `scipy.stats.cramervonmises_2samp`.
//!
//! The statistic `T = U / (n m (n+m)) - (4nm - 1)/(6(n+m))` with
//! `U = n Σ (r(x_i) - i)² + m Σ (r(y_j) - j)²` and mid-ranks `r` in the
//! pooled sample is accumulated exactly in integers (four times `U`) in one
//! pass over the merged sorted samples. The p-value is exact for samples of
//! at most 20 values (`Auto`), by enumeration of the lattice paths;
//! otherwise it comes from the limiting distribution of the normalised
//! statistic, `1 - Σ_k term_k` (Csörgő & Faraway 1996), summed with the
//! same terms in the same order as scipy so that even p-values near
//! `1e-11`, where the sum's rounding dominates, agree.

mod exact;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::outcome::TestResult;
use crate::sample::SortedSample;
use crate::special::{bessel_k, ln_gamma};

/// Largest sample size for which `Auto` uses the exact p-value (scipy's rule).
const MAX_AUTO_EXACT: usize = 20;

/// How the p-value is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CvmMethod {
    /// Exact when both samples have at most 20 values, else asymptotic.
    #[default]
    Auto,
    /// Exact enumeration (practical up to a few dozen values per sample).
    Exact,
    /// The limiting distribution.
    Asymptotic,
}

/// Two-sample Cramér–von Mises test of `reference` against `current`.
///
/// # Errors
/// [`Error::Empty`] if a sample is empty; [`Error::Undefined`] if a sample
/// has a single value (scipy returns NaN there), or if `Exact` is asked for
/// samples too large to enumerate.
pub fn cramervonmises_2samp(
    reference: &SortedSample,
    current: &SortedSample,
    method: CvmMethod,
) -> Result<TestResult> {
    let x = reference.require_non_empty("reference")?;
    let y = current.require_non_empty("current")?;
    for (what, s) in [("reference", x), ("current", y)] {
        if s.len() < 2 {
            return Err(Error::undefined(
                "cramervonmises_2samp",
                format!("{what} needs at least two values"),
            ));
        }
    }
    let (nx, ny) = (x.len() as u64, y.len() as u64);
    let (sum_x4, sum_y4) = rank_deviations(x, y);
    let u = nx as f64 * (sum_x4 as f64 / 4.0) + ny as f64 * (sum_y4 as f64 / 4.0);
    let k = u128::from(nx) * u128::from(ny);
    let big_n = u128::from(nx + ny);
    let t = u / (k * big_n) as f64 - div_round(4 * k - 1, 6 * big_n);

    let use_exact = match method {
        CvmMethod::Auto => x.len().max(y.len()) <= MAX_AUTO_EXACT,
        CvmMethod::Exact => true,
        CvmMethod::Asymptotic => false,
    };
    let p = if use_exact {
        exact::pvalue(u, nx, ny)?
    } else {
        asymptotic_pvalue(t, nx, ny)
    };
    Ok(TestResult::test(t, p))
}

/// Four times `Σ_i (r(x_i) - i)²` and four times `Σ_j (r(y_j) - j)²`, with
/// mid-ranks in the pooled sample; both are integers.
fn rank_deviations(x: &[f64], y: &[f64]) -> (u128, u128) {
    let (mut i, mut j) = (0usize, 0usize);
    let (mut sx, mut sy) = (0u128, 0u128);
    while i < x.len() || j < y.len() {
        let v = match (x.get(i), y.get(j)) {
            (Some(&a), Some(&b)) => a.min(b),
            (Some(&a), None) | (None, Some(&a)) => a,
            (None, None) => break,
        };
        let i0 = i;
        while x.get(i).is_some_and(|&a| a == v) {
            i += 1;
        }
        let j0 = j;
        while y.get(j).is_some_and(|&b| b == v) {
            j += 1;
        }
        let (cx, cy) = ((i - i0) as u128, (j - j0) as u128);
        // For the k-th copy in x (k = 1..cx): 2 (r - i) = 2 j0 + cx + cy + 1 - 2k.
        sx += squares_sum(2 * j0 as u128 + cx + cy + 1, cx);
        sy += squares_sum(2 * i0 as u128 + cx + cy + 1, cy);
    }
    (sx, sy)
}

/// `Σ_{k=1..c} (b - 2k)²` for `b >= 2c` (so every term is non-negative
/// before squaring): `c b² - 2 b c (c+1) + 2 c (c+1) (2c+1) / 3`.
fn squares_sum(b: u128, c: u128) -> u128 {
    if c == 0 {
        return 0;
    }
    c * b * b + 2 * c * (c + 1) * (2 * c + 1) / 3 - 2 * b * c * (c + 1)
}

/// `p / q` rounded correctly to the nearest double (what Python's integer
/// true division gives), for `q > 0`.
pub(crate) fn div_round(p: u128, q: u128) -> f64 {
    if p == 0 {
        return 0.0;
    }
    if p < (1 << 53) && q < (1 << 53) {
        return p as f64 / q as f64;
    }
    // Scale so the integer quotient has at least 55 bits, then fold the
    // remainder into a sticky bit: one correctly rounded conversion.
    let lp = 128 - p.leading_zeros() as i32;
    let lq = 128 - q.leading_zeros() as i32;
    let shift = 56 + lq - lp;
    let (num, den) = if shift >= 0 {
        if lp + shift > 127 {
            return p as f64 / q as f64;
        }
        (p << shift, q)
    } else {
        if lq - shift > 127 {
            return p as f64 / q as f64;
        }
        (p, q << -shift)
    };
    let quot = num / den;
    let sticky = u128::from(num % den != 0);
    let value = (quot | sticky) as f64;
    value * 2f64.powi(-shift)
}

/// scipy's `_pval_cvm_2samp_asymptotic`: normalise `T` by its exact mean
/// and variance and evaluate the limiting CDF.
fn asymptotic_pvalue(t: f64, nx: u64, ny: u64) -> f64 {
    let big_n = nx + ny;
    let nf = big_n as f64;
    let et = (1.0 + 1.0 / nf) / 6.0;
    let vt = variance_ratio(nx, ny);
    let tn = 1.0 / 6.0 + (t - et) / (45.0 * vt).sqrt();
    if tn >= 0.003 {
        (1.0 - cdf_cvm_inf(tn)).max(0.0)
    } else {
        1.0
    }
}

/// `(N+1)(4kN - 3(nx² + ny²) - 2k) / (45 N² 4k)`, `k = nx ny`, correctly
/// rounded as scipy's integer arithmetic gives it.
fn variance_ratio(nx: u64, ny: u64) -> f64 {
    let (a, b) = (u128::from(nx), u128::from(ny));
    let k = a * b;
    let n = a + b;
    let exact = (|| {
        let num = (n + 1).checked_mul(
            4u128
                .checked_mul(k)?
                .checked_mul(n)?
                .checked_sub(3 * (a * a + b * b) + 2 * k)?,
        )?;
        let den = 45u128
            .checked_mul(n.checked_mul(n)?)?
            .checked_mul(4u128.checked_mul(k)?)?;
        Some(div_round(num, den))
    })();
    exact.unwrap_or_else(|| {
        let (kf, nf) = (k as f64, n as f64);
        (nf + 1.0) * (4.0 * kf * nf - 3.0 * (a as f64 * a as f64 + b as f64 * b as f64) - 2.0 * kf)
            / (45.0 * nf * nf * 4.0 * kf)
    })
}

/// CDF of the limiting one-sample Cramér–von Mises distribution,
/// `Σ_k Γ(k+1/2)/(Γ(k+1) π^{3/2} √x) √(4k+1) e^{-q} K_{1/4}(q)`,
/// `q = (4k+1)²/(16x)`, summed until a term drops below `1e-7` (scipy's
/// `_cdf_cvm_inf`, term for term).
fn cdf_cvm_inf(x: f64) -> f64 {
    let pi15 = std::f64::consts::PI.powf(1.5);
    let sqrt_x = x.sqrt();
    let mut total = 0.0;
    let mut k = 0u32;
    loop {
        let kf = f64::from(k);
        let u = (ln_gamma(kf + 0.5) - ln_gamma(kf + 1.0)).exp() / (pi15 * sqrt_x);
        let y = 4 * u64::from(k) + 1;
        let q = (y * y) as f64 / (16.0 * x);
        let term = u * (y as f64).sqrt() * (-q).exp() * bessel_k(0.25, q);
        total += term;
        if term.abs() < 1e-7 || term.is_nan() || k > 1_000_000 {
            break;
        }
        k += 1;
    }
    total
}
