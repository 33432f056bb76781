//! Exact null distribution of the two-sample KS statistic by lattice-path
//! counting (Hodges 1958), as scipy's `ks_2samp(method="exact")` computes
//! it: each function below follows the corresponding scipy routine's
//! recursion and operation order, so the p-values agree to the last bits.

use crate::special::ln_binomial;

/// `P(D_{n,n} >= h/n)` for equal sample sizes:
/// `2 Σ_k (-1)^k C(2n, n - k h) / C(2n, n)`, evaluated as nested products
/// `2 A0 (1 - A1 (1 - A2 (1 - ...)))` so the alternating sum never cancels.
pub(super) fn prob_outside_square(n: u64, h: u64) -> f64 {
    let mut p = 0.0;
    let mut k = n / h;
    loop {
        let mut p1 = 1.0;
        for j in 0..h {
            let num = n as f64 - (k * h) as f64 - j as f64;
            p1 = num * p1 / (n + k * h + j + 1) as f64;
        }
        p = p1 * (1.0 - p);
        if k == 0 {
            break;
        }
        k -= 1;
    }
    2.0 * p
}

/// `P(D_{m,n} >= h/lcm(m,n))` for unequal sizes: one minus the share of
/// lattice paths from (0,0) to (m,n) staying strictly inside the band
/// `|x/m - y/n| < h/lcm`, computed column by column as a running
/// complement probability (Viehmann's recursion), so no binomial ever
/// overflows. `None` if the band bookkeeping leaves the working vector.
pub(super) fn outer_prob_inside(m: u64, n: u64, g: u64, h: u64) -> Option<f64> {
    let (m, n) = if m < n { (n, m) } else { (m, n) };
    let (m, n, g, h) = (m as i64, n as i64, g as i64, h as i64);
    let mg = m / g;
    let ng = n / g;
    let mut minj: i64 = 0;
    let mut maxj: i64 = ((h as f64 / mg as f64).ceil() as i64).min(n + 1);
    let mut curlen = maxj - minj;
    let len_a = (2 * maxj + 2).min(n + 1);
    let mut a = vec![1.0f64; usize::try_from(len_a).ok()?];
    let zero_end = usize::try_from(maxj).ok()?.min(a.len());
    for v in a.get_mut(0..zero_end)? {
        *v = 0.0;
    }
    for i in 1..=m {
        let lastminj = minj;
        let lastlen = curlen;
        minj = ((((ng * i - h) as f64 / mg as f64).floor() as i64) + 1)
            .max(0)
            .min(n);
        maxj = (((ng * i + h) as f64 / mg as f64).ceil() as i64).min(n + 1);
        if maxj <= minj {
            return Some(1.0);
        }
        let fi = i as f64;
        let mut val = if minj == 0 { 0.0 } else { 1.0 };
        for jj in 0..(maxj - minj) {
            let j = jj + minj;
            let prev = *a.get(usize::try_from(jj + minj - lastminj).ok()?)?;
            val = (prev * fi + val * j as f64) / (i + j) as f64;
            *a.get_mut(usize::try_from(jj).ok()?)? = val;
        }
        curlen = maxj - minj;
        if lastlen > curlen {
            let start = usize::try_from(maxj - minj).ok()?.min(a.len());
            let end = usize::try_from(maxj - minj + (lastlen - curlen))
                .ok()?
                .min(a.len());
            for v in a.get_mut(start..end)? {
                *v = 1.0;
            }
        }
    }
    a.get(usize::try_from(maxj - minj - 1).ok()?).copied()
}

/// `P(D^+_{n,n} >= h/n) = C(2n, n-h) / C(2n, n)` as a product of ratios.
pub(super) fn one_sided_equal(n: u64, h: u64) -> f64 {
    (0..h).fold(1.0, |p, j| {
        p * ((n - j) as f64 / (n as f64 + j as f64 + 1.0))
    })
}

/// `C(n, k)` as a double: scipy's product loop for `k < 20` (after using
/// the symmetry), so small coefficients are exact; otherwise from
/// `ln C(n, k)` (relative error about `|ln C| · 1e-16`).
fn binomial(n: u64, k: u64) -> f64 {
    if k > n {
        return 0.0;
    }
    let kk = if k > n / 2 { n - k } else { k };
    if kk < 20 {
        let (nf, kf) = (n as f64, kk as f64);
        let mut num = 1.0;
        let mut den = 1.0;
        for i in 1..=kk {
            num *= i as f64 + nf - kf;
            den *= i as f64;
            if num.abs() > 1e50 {
                num /= den;
                den = 1.0;
            }
        }
        return num / den;
    }
    ln_binomial(n as f64, kk as f64).exp()
}

/// `P(D^+_{m,n} >= h/lcm)` for unequal sizes: the number of lattice paths
/// that touch the line `m y = n x - h g`, counted by Hodges' first-passage
/// decomposition, over `C(m+n, n)`. `None` when a count overflows the
/// double range (scipy then falls back to the asymptotic formula).
pub(super) fn one_sided_unequal(m: u64, n: u64, g: u64, h: u64) -> Option<f64> {
    let (m, n) = if m < n { (n, m) } else { (m, n) };
    let total = binomial(m + n, n);
    if !total.is_finite() {
        return None;
    }
    let mg = (m / g) as i64;
    let ng = (n / g) as i64;
    let (mi, ni, hi) = (m as i64, n as i64, h as i64);
    let lxj = ni + (mg - hi).div_euclid(mg);
    let paths = if lxj <= 0 {
        binomial(m + n, n)
    } else {
        let xj: Vec<i64> = (0..lxj)
            .map(|j| (hi + mg * j + ng - 1).div_euclid(ng))
            .collect();
        let mut b = vec![0.0f64; xj.len()];
        if let Some(first) = b.first_mut() {
            *first = 1.0;
        }
        for j in 1..xj.len() {
            let mut bj = binomial((xj[j] + j as i64) as u64, j as u64);
            for i in 0..j {
                let c = binomial((xj[j] - xj[i] + (j - i) as i64) as u64, (j - i) as u64);
                bj -= c * b[i];
            }
            if !bj.is_finite() {
                return None;
            }
            b[j] = bj;
        }
        let mut sum = 0.0;
        for (j, (&x, &bj)) in xj.iter().zip(&b).enumerate() {
            let j = j as i64;
            sum += bj * binomial(((mi - x) + (ni - j)) as u64, (ni - j) as u64);
        }
        sum
    };
    if !paths.is_finite() || paths > total {
        return None;
    }
    Some(paths / total)
}
