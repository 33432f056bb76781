//! Exact null distribution of the two-sample Cramér–von Mises statistic
//! (Xiao, Gordon & Yakovlev 2006; Anderson 1962), as scipy computes it.
//!
//! With `a = lcm/m`, `b = lcm/n`, every arrangement of the pooled sample is
//! a lattice path from (0,0) to (n,m), and `U` is an affine function of
//! `Σ (a v - b u)²` over the path's points. The frequency table of that sum
//! is built cell by cell: the table at `(u, v)` is the union of the tables
//! at `(u-1, v)` and `(u, v-1)`, shifted by `(a v - b u)²`.

use crate::error::{Error, Result};

/// Largest number of distinct values allowed in one cell's table before
/// the exact method gives up (memory and time grow with it).
const MAX_TABLE: usize = 5_000_000;

/// Sorted `(value, frequency)` table.
type Table = Vec<(u64, u128)>;

/// `out = merge(left, right)` with frequencies of equal values added, then
/// every value shifted by `shift`.
fn merge_shifted(left: &[(u64, u128)], right: &[(u64, u128)], shift: u64, out: &mut Table) {
    out.clear();
    out.reserve(left.len() + right.len());
    let (mut i, mut j) = (0, 0);
    while i < left.len() && j < right.len() {
        let (lv, lf) = left[i];
        let (rv, rf) = right[j];
        if lv < rv {
            out.push((lv + shift, lf));
            i += 1;
        } else if rv < lv {
            out.push((rv + shift, rf));
            j += 1;
        } else {
            out.push((lv + shift, lf + rf));
            i += 1;
            j += 1;
        }
    }
    out.extend(left[i..].iter().map(|&(v, f)| (v + shift, f)));
    out.extend(right[j..].iter().map(|&(v, f)| (v + shift, f)));
}

/// `C(n, k)` exactly, `None` on overflow.
fn binomial_u128(n: u64, k: u64) -> Option<u128> {
    let k = k.min(n - k);
    let mut c: u128 = 1;
    for i in 0..k {
        // c * (n - i) / (i + 1) is exact at every step.
        c = c.checked_mul(u128::from(n - i))? / u128::from(i + 1);
    }
    Some(c)
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// Python's (and numpy's) float floor division.
fn floor_div(a: f64, b: f64) -> f64 {
    let m = a % b;
    let mut div = (a - m) / b;
    if m != 0.0 && ((b < 0.0) != (m < 0.0)) {
        div -= 1.0;
    }
    if div != 0.0 {
        let f = div.floor();
        if div - f > 0.5 { f + 1.0 } else { f }
    } else {
        (0.0f64).copysign(a / b)
    }
}

/// `P(U >= u)` for samples of sizes `m` and `n` (scipy's
/// `_pval_cvm_2samp_exact(u, m, n)`).
///
/// # Errors
/// [`Error::Undefined`] when the sizes are too large for exact enumeration.
pub(super) fn pvalue(u: f64, m: u64, n: u64) -> Result<f64> {
    let too_large = || {
        Error::undefined(
            "cramervonmises_2samp",
            "samples too large for the exact p-value; use the asymptotic method",
        )
    };
    let combinations = binomial_u128(m + n, m).ok_or_else(too_large)?;
    let lcm = m / gcd(m, n) * n;
    let (a, b) = (lcm / m, lcm / n);
    let mn = m * n;
    let zeta_bound = u128::from(lcm) * u128::from(lcm) * u128::from(m + n);
    let scale = (lcm as f64 * lcm as f64) * (m + n) as f64;
    let offset = (u128::from(mn) * (4 * u128::from(mn) - 1)) as f64;
    let zeta = floor_div(
        scale * (6.0 * u - offset),
        (6 * u128::from(mn) * u128::from(mn)) as f64,
    );
    if zeta_bound > u128::from(u64::MAX) {
        return Err(too_large());
    }

    let mut gs: Vec<Table> = vec![Vec::new(); m as usize + 1];
    if let Some(first) = gs.first_mut() {
        first.push((0, 1));
    }
    let mut next: Vec<Table> = vec![Vec::new(); m as usize + 1];
    let mut tmp: Table = Vec::new();
    let mut merged: Table = Vec::new();
    for uu in 0..=n {
        tmp.clear();
        for (v, (g, out)) in gs.iter().zip(next.iter_mut()).enumerate() {
            let d = (a * v as u64).abs_diff(b * uu);
            merge_shifted(&tmp, g, d * d, &mut merged);
            if merged.len() > MAX_TABLE {
                return Err(too_large());
            }
            std::mem::swap(&mut tmp, &mut merged);
            out.clear();
            out.extend_from_slice(&tmp);
        }
        std::mem::swap(&mut gs, &mut next);
    }
    let last = gs.last().map(Vec::as_slice).unwrap_or(&[]);
    let count: u128 = last
        .iter()
        .filter(|&&(v, _)| v as f64 >= zeta)
        .map(|&(_, f)| f)
        .sum();
    if zeta_bound.max(combinations) <= u128::from(u64::MAX) {
        Ok(count as f64 / combinations as f64)
    } else {
        Ok(super::div_round(count, combinations))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floor_division_is_pythons() {
        // np.float64(a) // np.float64(b)
        assert_eq!(floor_div(-7.5, 2.0), -4.0);
        assert_eq!(floor_div(7.5, -2.0), -4.0);
        assert_eq!(floor_div(1e16, 3.0), 3333333333333333.0);
    }

    #[test]
    fn matches_scipy_exact_pvalue() {
        // scipy.stats._hypotests._pval_cvm_2samp_exact(1234.0, 7, 9)
        assert_eq!(pvalue(1234.0, 7, 9).ok(), Some(1.0));
        assert!(pvalue(1.0, 200, 200).is_err());
        assert_eq!(binomial_u128(40, 20), Some(137_846_528_820));
    }
}
