//! Logarithms of binomial coefficients and of the hypergeometric
//! probability mass function, by Loader's saddle-point decomposition
//! ("Fast and accurate computation of binomial probabilities", 2000), which
//! avoids the cancellation of differences of `ln Γ` values.

use super::gamma::{ln_gamma, stirling_correction};
use std::f64::consts::PI;

/// `ln Γ(n+1) - [(n + 1/2) ln n - n + ln √(2π)]` at `n = k/2`, `k = 0..30`.
const STIRLERR_HALVES: [f64; 31] = [
    0.0,
    0.15342640972002736,
    0.08106146679532726,
    0.05481412105191765,
    0.0413406959554093,
    0.03316287351993629,
    0.02767792568499834,
    0.023746163656297496,
    0.020790672103765093,
    0.018488450532673187,
    0.016644691189821193,
    0.015134973221917378,
    0.013876128823070748,
    0.012810465242920227,
    0.01189670994589177,
    0.011104559758206917,
    0.010411265261972096,
    0.009799416126158804,
    0.009255462182712733,
    0.008768700134139386,
    0.00833056343336287,
    0.00793411456431402,
    0.007573675487951841,
    0.007244554301320383,
    0.00694284010720953,
    0.006665247032707682,
    0.006408994188004207,
    0.006171712263039458,
    0.0059513701127588475,
    0.0057462165130101155,
    0.005554733551962801,
];

/// Stirling's error `ln n! - [(n + 1/2) ln n - n + ln √(2π)]`, `n >= 0`.
fn stirlerr(n: f64) -> f64 {
    if n <= 15.0 {
        let twice = n + n;
        if twice == twice.floor()
            && let Some(&v) = STIRLERR_HALVES.get(twice as usize)
        {
            return v;
        }
        if n == 0.0 {
            return 0.0;
        }
        return ln_gamma(n + 1.0) - (n + 0.5) * n.ln() + n - 0.5 * (2.0 * PI).ln();
    }
    stirling_correction(n)
}

/// The deviance term `x ln(x / m) + m - x`, accurate when `x ≈ m`.
fn bd0(x: f64, m: f64) -> f64 {
    if (x - m).abs() < 0.1 * (x + m) {
        let v = (x - m) / (x + m);
        let mut s = (x - m) * v;
        let mut ej = 2.0 * x * v;
        let v2 = v * v;
        let mut j = 1.0;
        loop {
            ej *= v2;
            let s1 = s + ej / (2.0 * j + 1.0);
            if s1 == s {
                return s1;
            }
            s = s1;
            j += 1.0;
            if j > 1000.0 {
                return s;
            }
        }
    }
    x * (x / m).ln() + m - x
}

/// `ln` of the binomial probability `C(n, x) p^x q^(n-x)`, `q = 1 - p`.
fn ln_binom_prob(x: f64, n: f64, p: f64, q: f64) -> f64 {
    if p == 0.0 {
        return if x == 0.0 { 0.0 } else { f64::NEG_INFINITY };
    }
    if q == 0.0 {
        return if x == n { 0.0 } else { f64::NEG_INFINITY };
    }
    if x == 0.0 {
        return if p < 0.1 {
            -bd0(n, n * q) - n * p
        } else {
            n * q.ln()
        };
    }
    if x == n {
        return if q < 0.1 {
            -bd0(n, n * p) - n * q
        } else {
            n * p.ln()
        };
    }
    if x < 0.0 || x > n {
        return f64::NEG_INFINITY;
    }
    let lc = stirlerr(n) - stirlerr(x) - stirlerr(n - x) - bd0(x, n * p) - bd0(n - x, n * q);
    let lf = (2.0 * PI).ln() + x.ln() + (-x / n).ln_1p();
    lc - 0.5 * lf
}

/// `ln C(n, k)`, the log of the binomial coefficient.
///
/// Domain: `0 <= k <= n`, finite (non-integers follow the gamma-function
/// extension); `-inf` for `k` outside `[0, n]`, NaN for NaN or negative `n`.
/// Accuracy: relative error about `1e-15` for all sizes (the usual
/// `ln Γ(n+1) - ln Γ(k+1) - ln Γ(n-k+1)` loses `log10(n)` digits).
pub fn ln_binomial(n: f64, k: f64) -> f64 {
    if n.is_nan() || k.is_nan() || n < 0.0 || n.is_infinite() {
        return f64::NAN;
    }
    if k < 0.0 || k > n {
        return f64::NEG_INFINITY;
    }
    if k == 0.0 || k == n {
        return 0.0;
    }
    let rest = n - k;
    k * (n / k).ln() + rest * (k / rest).ln_1p() + stirlerr(n)
        - stirlerr(k)
        - stirlerr(rest)
        - 0.5 * (2.0 * PI * k * (rest / n)).ln()
}

/// `ln P(X = k)` for the hypergeometric distribution: `k` successes in `n`
/// draws without replacement from a population of `total` items of which
/// `successes` are successes (scipy's `hypergeom.logpmf(k, total, successes, n)`).
///
/// Domain: non-negative integers with `successes <= total`, `n <= total`;
/// `-inf` where the probability is 0, NaN for invalid parameters.
/// Accuracy: relative error of the probability about `1e-14`, also far in
/// the tails, because each factor is a binomial probability evaluated at
/// the same `p = n / total` by Loader's method.
pub fn hypergeom_ln_pmf(k: u64, total: u64, successes: u64, n: u64) -> f64 {
    if successes > total || n > total {
        return f64::NAN;
    }
    let failures = total - successes;
    if k > successes || k > n || n - k > failures {
        return f64::NEG_INFINITY;
    }
    if n == 0 || n == total {
        return 0.0;
    }
    let (k, total, successes, n) = (k as f64, total as f64, successes as f64, n as f64);
    let p = n / total;
    let q = (total - n) / total;
    ln_binom_prob(k, successes, p, q) + ln_binom_prob(n - k, total - successes, p, q)
        - ln_binom_prob(n, total, p, q)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(got: f64, want: f64, rtol: f64) -> bool {
        (got - want).abs() <= rtol * want.abs()
    }

    #[test]
    fn ln_binomial_matches_exact_values() {
        // math.log(math.comb(n, k)) in Python (exact integers)
        let cases = [
            (10.0, 3.0, 4.787491742782046),
            (1e6, 1.0, 13.815510557964274),
            (1e6, 5e5, 693140.0470130637),
            (60.0, 30.0, 39.31170072601126),
        ];
        for (n, k, v) in cases {
            assert!(
                close(ln_binomial(n, k), v, 1e-14),
                "ln C({n}, {k}) = {}",
                ln_binomial(n, k)
            );
        }
        assert_eq!(ln_binomial(5.0, 0.0), 0.0);
        assert_eq!(ln_binomial(5.0, 6.0), f64::NEG_INFINITY);
    }

    #[test]
    fn hypergeometric_matches_exact_values() {
        // Exact values from Python integers, log(comb(successes, k) *
        // comb(total - successes, n - k)) - log(comb(total, n)) in mpmath;
        // scipy.stats.hypergeom.logpmf agrees to 1e-12 (it gives
        // -4.484425448346883 for the third case).
        let cases = [
            (3, 20, 7, 12, -1.6161684581629274),
            (0, 100, 50, 10, -7.4296086983385266),
            (5000, 20000, 10000, 10000, -4.484425448352768),
            (1, 1000, 10, 10, -2.3843630917143925),
        ];
        for (k, total, successes, n, v) in cases {
            let got = hypergeom_ln_pmf(k, total, successes, n);
            assert!(
                close(got, v, 1e-13),
                "hypergeom({k}, {total}, {successes}, {n}) = {got}"
            );
        }
        assert_eq!(hypergeom_ln_pmf(8, 20, 7, 12), f64::NEG_INFINITY);
        assert!(hypergeom_ln_pmf(1, 5, 7, 2).is_nan());
    }
}
