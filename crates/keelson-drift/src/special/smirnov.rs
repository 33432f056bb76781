//! The one-sided Kolmogorov–Smirnov distribution (Smirnov's `D_n^+`), exact
//! for finite `n`.
//!
//! The survival function is the Birnbaum–Tingey sum
//! `P(D_n^+ >= x) = x Σ_{v=0}^{⌊n(1-x)⌋} C(n,v) (x + v/n)^(v-1) (1 - x - v/n)^(n-v)`,
//! evaluated in double-double arithmetic with the binomial coefficient kept
//! as (mantissa, exponent) so nothing overflows, and summed from whichever
//! end needs fewer terms. The operation order follows scipy's `smirnov`
//! (van Mulbregt's algorithm) step for step.

use super::double_double::DoubleDouble;

/// Above this `n` the sum is replaced by the approximation
/// `exp(-(6nx + 1)^2 / (18 n))`.
const MAX_COMPUTE_N: i64 = 1_000_000;
/// The upper sum is used when it has at most this many terms...
const UPPER_MAX_TERMS: i64 = 3;
/// ... and `n` is at least this.
const UPPER_SUM_MIN_N: i64 = 10;
/// ln of the smallest subnormal, below which `exp` gives 0.
const MIN_LOG: f64 = -745.1332191019412;
/// Largest binary exponent kept in one piece by [`pow_scaled`].
const MAX_EXPONENT: i32 = 960;

/// Survival function `P(D_n^+ >= x)` of the one-sided KS statistic for a
/// sample of size `n`.
///
/// Domain `n >= 1`, `0 <= x <= 1`; NaN outside. Accuracy: the sum is formed
/// in double-double arithmetic, so the result is good to a few ulps, and it
/// reproduces `scipy.special.smirnov(n, x)` (to within an ulp in our tests)
/// for `n <= 10^6`; above that, as scipy, an asymptotic approximation with
/// relative error `O(1/n)`.
pub fn smirnov_sf(n: i64, x: f64) -> f64 {
    if !(n > 0 && (0.0..=1.0).contains(&x)) {
        return f64::NAN;
    }
    if n == 1 {
        return 1.0 - x;
    }
    if x == 0.0 {
        return 1.0;
    }
    if x == 1.0 {
        return 0.0;
    }
    let nf = n as f64;
    let (alpha, nxfl) = mod_nx(n, x);
    let mut n1mxfl = n - nxfl - if alpha == 0.0 { 0 } else { 1 };
    let mut n1mxceil = n - nxfl;
    if alpha == 0.0 {
        n1mxfl -= 1;
        n1mxceil += 1;
    }
    if nxfl == 0 || (nxfl == 1 && alpha == 0.0) {
        let t = pow_dd(DoubleDouble::new(1.0) + x, n - 1).hi;
        return (1.0 - x * t).clamp(0.0, 1.0);
    }
    if (-2 * n) as f64 * x * x < MIN_LOG {
        return 0.0;
    }
    if nxfl >= n - 1 {
        return pow_dd(DoubleDouble::new(1.0) + -x, n).hi.clamp(0.0, 1.0);
    }
    if n > MAX_COMPUTE_N {
        let log_p = -(6.0 * nf * x + 1.0).powf(2.0) / 18.0 / nf;
        let sf = if log_p < -std::f64::consts::LN_2 {
            log_p.exp()
        } else {
            1.0 - -cephes_expm1(log_p)
        };
        return sf.clamp(0.0, 1.0);
    }

    let upper_terms = n - n1mxceil + 1;
    let use_upper = (upper_terms <= 1 && x < 0.5)
        || (n >= UPPER_SUM_MIN_N && upper_terms <= UPPER_MAX_TERMS && x <= 0.5 / nf.sqrt());
    let (start, step, n_terms, first) = if use_upper {
        (n, -1, upper_terms, pow_ratio(1.0, x, 1.0, 0.0, n - 1))
    } else {
        (0, 1, n1mxfl + 1, pow_ratio(1.0, -x, 1.0, 0.0, n) / x)
    };
    let mut sum = DoubleDouble::ZERO + first;
    let mut binom = DoubleDouble::ONE;
    let mut binom_exp = 0;
    update_binomial(&mut binom, &mut binom_exp, n, 0);
    let v_mid = n / 2;
    let mut j = 1;
    while j < n_terms {
        let v = start + j * step;
        let term = term_av(n, x, v, binom, binom_exp);
        if term.is_finite() && !term.eq_f64(0.0) {
            sum = sum + term;
        }
        if !term.eq_f64(0.0) {
            let small = (4 * (n_terms - j)) as f64 * term.hi.abs() < f64::EPSILON * sum.hi;
            if small && j != n_terms - 1 {
                break;
            }
        } else if j > v_mid {
            break;
        }
        update_binomial(&mut binom, &mut binom_exp, n, j);
        j += 1;
    }
    let prob = (x * sum).hi;
    let sf = if step < 0 { 1.0 - prob } else { prob };
    sf.clamp(0.0, 1.0)
}

/// `frac(n x)` and `floor(n x)`, computed exactly in double-double; a
/// fractional part that rounds to 1 is carried into the integer part.
fn mod_nx(n: i64, x: f64) -> (f64, i64) {
    let nx = n as f64 * DoubleDouble::new(x);
    let floor = nx.floor();
    let mut alpha = (nx - floor).hi;
    let mut nxfl = floor.hi as i64;
    if alpha == 1.0 {
        nxfl += 1;
        alpha = 0.0;
    }
    (alpha, nxfl)
}

/// `C(n, j+1)` from `C(n, j)`, kept as a mantissa in `[0.5, 1)` and an exponent.
fn update_binomial(mantissa: &mut DoubleDouble, exponent: &mut i32, n: i64, j: i64) {
    let ratio = DoubleDouble::new((n - j) as f64) / ((j + 1) as f64);
    let (m, e) = (*mantissa * ratio).frexp();
    *exponent += e;
    *mantissa = m;
}

/// `a^m` for a double-double `a`: `pow` on the high part, corrected to first
/// order for the low part.
fn pow_dd(a: DoubleDouble, m: i64) -> DoubleDouble {
    if m <= 0 {
        if m == 0 {
            return DoubleDouble::ONE;
        }
        return 1.0 / pow_dd(a, -m);
    }
    if a.eq_f64(0.0) {
        return DoubleDouble::ZERO;
    }
    let mf = m as f64;
    let ans = a.hi.powf(mf);
    let r = a.lo / a.hi;
    let mut adj = mf * r;
    if adj.abs() > 1e-8 {
        if adj.abs() < 1e-4 {
            adj += (mf * r) * ((m - 1) as f64 / 2.0 * r);
        } else {
            adj = cephes_expm1(mf * r.ln_1p());
        }
    }
    DoubleDouble::new(ans) + ans * adj
}

/// `((a + b) / (c + d))^m` in double-double.
fn pow_ratio(a: f64, b: f64, c: f64, d: f64, m: i64) -> DoubleDouble {
    if m <= 0 {
        if m == 0 {
            return DoubleDouble::ONE;
        }
        return pow_ratio(c, d, a, b, -m);
    }
    let num = DoubleDouble::new(a) + b;
    let den = DoubleDouble::new(c) + d;
    if num.eq_f64(0.0) {
        return if den.eq_f64(0.0) {
            DoubleDouble {
                hi: f64::NAN,
                lo: f64::NAN,
            }
        } else {
            DoubleDouble::ZERO
        };
    }
    if den.eq_f64(0.0) {
        let inf = if num.hi < 0.0 {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        };
        return DoubleDouble { hi: inf, lo: inf };
    }
    pow_dd(num / den, m)
}

/// The smallest power of two at least `x` (for `x` not already a power of
/// two), as scipy computes it.
fn next_power_of_two(x: f64) -> f64 {
    let q = super::double_double::ldexp(x, 1 - 53);
    let mut l = (q + x).abs();
    if l == 0.0 {
        l = x.abs();
    } else {
        let li = l as i64;
        if li as f64 == l {
            l = li as f64;
        }
    }
    l
}

/// `a^m` as `(mantissa, exponent)`, splitting the power so the mantissa never
/// underflows.
fn pow_scaled(a: DoubleDouble, m: i64) -> (DoubleDouble, i64) {
    if m <= 0 {
        if m == 0 {
            return (DoubleDouble::ONE, 0);
        }
        let (ans, e1) = pow_scaled(a, -m);
        let (ans, e2) = (1.0 / ans).frexp();
        return (ans, -e1 + i64::from(e2));
    }
    let (y, y_exp) = a.frexp();
    let y_exp = i64::from(y_exp);
    if m == 1 {
        return (y, y_exp);
    }
    let mut max_expt = i64::from(MAX_EXPONENT);
    let ln2 = std::f64::consts::LN_2;
    if m as f64 * (y.hi - 1.0) / y.hi < -f64::from(MAX_EXPONENT) * ln2 {
        let lg2y = y.hi.ln() / ln2;
        let lg_ans = m as f64 * lg2y;
        if lg_ans <= -f64::from(MAX_EXPONENT) {
            max_expt = (next_power_of_two(-f64::from(MAX_EXPONENT) / lg2y + 1.0) / 2.0) as i64;
        }
    }
    if m <= max_expt {
        let (ans, e) = pow_dd(y, m).frexp();
        return (ans, i64::from(e) + m * y_exp);
    }
    let q = m / max_expt;
    let r = m % max_expt;
    let (y2r, y2r_e) = pow_scaled(y, r);
    let (y2m, y2m_e) = pow_scaled(y, max_expt);
    let (y2mq, y2mq_e) = pow_scaled(y2m, q);
    let (ans, e) = (y2r * y2mq).frexp();
    let y2mq_e = y2mq_e + y2m_e * q;
    (ans, i64::from(e) + y2mq_e + y2r_e + m * y_exp)
}

/// One term `C(n,v) (1 - x - v/n)^(n-v) (x + v/n)^(v-1)` of the sum.
fn term_av(n: i64, x: f64, v: i64, binom: DoubleDouble, binom_exp: i32) -> DoubleDouble {
    let nf = n as f64;
    let t2x = DoubleDouble::new((n - v) as f64) / nf - x;
    let (t2, t2_e) = pow_scaled(t2x, n - v);
    let t1x = DoubleDouble::new(v as f64) / nf + x;
    let (t1, t1_e) = pow_scaled(t1x, v - 1);
    let ans = t1 * t2 * binom;
    let e = i64::from(binom_exp) + t1_e + t2_e;
    ans.ldexp(e.clamp(-4000, 4000) as i32)
}

/// Cephes' `expm1` (scipy's), which differs from libm's in the last bit.
pub(crate) fn cephes_expm1(x: f64) -> f64 {
    const EP: [f64; 3] = [0.00012617719307481058, 0.030299440770744195, 1.0];
    const EQ: [f64; 4] = [
        3.0019850513866446e-06,
        0.002524483403496841,
        0.22726554820815503,
        2.0,
    ];
    if !x.is_finite() {
        if x.is_nan() || x > 0.0 {
            return x;
        }
        return -1.0;
    }
    if !(-0.5..=0.5).contains(&x) {
        return x.exp() - 1.0;
    }
    let xx = x * x;
    let r = x * ((EP[0] * xx + EP[1]) * xx + EP[2]);
    let q = ((EQ[0] * xx + EQ[1]) * xx + EQ[2]) * xx + EQ[3];
    let r = r / (q - r);
    r + r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_scipy_smirnov() {
        // scipy.special.smirnov(n, x)
        let cases = [
            (5, 0.3, 0.34282),
            (10, 0.1, 0.7642052309),
            (100, 0.05, 0.5871453380805337),
            (100, 0.5, 6.065717185908929e-24),
            (20, 0.97, 3.486784401000062e-31),
            (1000, 0.02, 0.44342498843949424),
            (50, 0.01, 0.9837165166154072),
            (2_000_000, 0.001, 0.018303432023617325),
            (2_000_000, 0.0002, 0.8520301537011195),
        ];
        for (n, x, p) in cases {
            let got = smirnov_sf(n, x);
            assert!(
                (got - p).abs() <= 2e-16 * p,
                "smirnov({n}, {x}) = {got:e}, scipy {p:e}"
            );
        }
    }

    #[test]
    fn edges() {
        assert_eq!(smirnov_sf(1, 0.25), 0.75);
        assert_eq!(smirnov_sf(7, 0.0), 1.0);
        assert_eq!(smirnov_sf(7, 1.0), 0.0);
        assert!(smirnov_sf(0, 0.5).is_nan());
        assert!(smirnov_sf(3, 1.5).is_nan());
        assert_eq!(cephes_expm1(0.0), 0.0);
    }
}
