//! Double-double arithmetic (an unevaluated sum `hi + lo` of two doubles,
//! about 106 bits), with the same operation sequences as the QD library that
//! scipy's one-sided Kolmogorov–Smirnov code uses, so our sums round the way
//! scipy's do.

use std::ops::{Add, Div, Mul, Neg, Sub};

/// `hi + lo` with `|lo| <= ulp(hi) / 2`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct DoubleDouble {
    pub(crate) hi: f64,
    pub(crate) lo: f64,
}

/// `(s, e)` with `s = fl(a + b)` and `a + b = s + e` exactly, assuming `|a| >= |b|`.
fn quick_two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    let c = s - a;
    (s, b - c)
}

/// `(s, e)` with `s = fl(a + b)` and `a + b = s + e` exactly.
fn two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    let c = s - a;
    let d = b - c;
    let e = s - c;
    (s, (a - e) + d)
}

/// `(p, e)` with `p = fl(a b)` and `a b = p + e` exactly.
fn two_prod(a: f64, b: f64) -> (f64, f64) {
    let p = a * b;
    (p, a.mul_add(b, -p))
}

impl DoubleDouble {
    pub(crate) const ONE: DoubleDouble = DoubleDouble { hi: 1.0, lo: 0.0 };
    pub(crate) const ZERO: DoubleDouble = DoubleDouble { hi: 0.0, lo: 0.0 };

    pub(crate) const fn new(hi: f64) -> Self {
        DoubleDouble { hi, lo: 0.0 }
    }

    pub(crate) fn is_finite(self) -> bool {
        self.hi.is_finite()
    }

    /// Whether the value is exactly the double `x`.
    pub(crate) fn eq_f64(self, x: f64) -> bool {
        self.hi == x && self.lo == 0.0
    }

    pub(crate) fn floor(self) -> Self {
        let hi = self.hi.floor();
        if hi == self.hi {
            let (hi, lo) = quick_two_sum(hi, self.lo.floor());
            DoubleDouble { hi, lo }
        } else {
            DoubleDouble { hi, lo: 0.0 }
        }
    }

    /// `self * 2^e`, component-wise.
    pub(crate) fn ldexp(self, e: i32) -> Self {
        DoubleDouble {
            hi: ldexp(self.hi, e),
            lo: ldexp(self.lo, e),
        }
    }

    /// Mantissa in `[0.5, 1)` (or exactly 0.5 with a negative tail folded to 1)
    /// and the binary exponent.
    pub(crate) fn frexp(self) -> (Self, i32) {
        let (mut man, mut exponent) = frexp(self.hi);
        let mut lo = ldexp(self.lo, -exponent);
        if man.abs() == 0.5 && man * lo < 0.0 {
            man *= 2.0;
            lo *= 2.0;
            exponent -= 1;
        }
        (DoubleDouble { hi: man, lo }, exponent)
    }
}

impl Neg for DoubleDouble {
    type Output = DoubleDouble;
    fn neg(self) -> Self {
        DoubleDouble {
            hi: -self.hi,
            lo: -self.lo,
        }
    }
}

impl Add for DoubleDouble {
    type Output = DoubleDouble;
    fn add(self, rhs: Self) -> Self {
        let (s1, s2) = two_sum(self.hi, rhs.hi);
        let (t1, t2) = two_sum(self.lo, rhs.lo);
        let (s1, s2) = quick_two_sum(s1, s2 + t1);
        let (hi, lo) = quick_two_sum(s1, s2 + t2);
        DoubleDouble { hi, lo }
    }
}

impl Add<f64> for DoubleDouble {
    type Output = DoubleDouble;
    fn add(self, rhs: f64) -> Self {
        let (s1, s2) = two_sum(self.hi, rhs);
        let (hi, lo) = quick_two_sum(s1, s2 + self.lo);
        DoubleDouble { hi, lo }
    }
}

impl Add<DoubleDouble> for f64 {
    type Output = DoubleDouble;
    fn add(self, rhs: DoubleDouble) -> DoubleDouble {
        let (s1, s2) = two_sum(self, rhs.hi);
        let (hi, lo) = quick_two_sum(s1, s2 + rhs.lo);
        DoubleDouble { hi, lo }
    }
}

impl Sub for DoubleDouble {
    type Output = DoubleDouble;
    fn sub(self, rhs: Self) -> Self {
        self + (-rhs)
    }
}

impl Sub<f64> for DoubleDouble {
    type Output = DoubleDouble;
    fn sub(self, rhs: f64) -> Self {
        let (s1, s2) = two_sum(self.hi, -rhs);
        let (hi, lo) = quick_two_sum(s1, s2 + self.lo);
        DoubleDouble { hi, lo }
    }
}

impl Sub<DoubleDouble> for f64 {
    type Output = DoubleDouble;
    fn sub(self, rhs: DoubleDouble) -> DoubleDouble {
        let (s1, s2) = two_sum(self, -rhs.hi);
        let (hi, lo) = quick_two_sum(s1, s2 - rhs.lo);
        DoubleDouble { hi, lo }
    }
}

impl Mul for DoubleDouble {
    type Output = DoubleDouble;
    fn mul(self, rhs: Self) -> Self {
        let (p1, p2) = two_prod(self.hi, rhs.hi);
        let p2 = p2 + (self.hi * rhs.lo + self.lo * rhs.hi);
        let (hi, lo) = quick_two_sum(p1, p2);
        DoubleDouble { hi, lo }
    }
}

impl Mul<f64> for DoubleDouble {
    type Output = DoubleDouble;
    fn mul(self, rhs: f64) -> Self {
        let (p1, e1) = two_prod(self.hi, rhs);
        let (p2, e2) = two_prod(self.lo, rhs);
        let (hi, lo) = quick_two_sum(p1, e2 + p2 + e1);
        DoubleDouble { hi, lo }
    }
}

impl Mul<DoubleDouble> for f64 {
    type Output = DoubleDouble;
    fn mul(self, rhs: DoubleDouble) -> DoubleDouble {
        let (p1, e1) = two_prod(self, rhs.hi);
        let (p2, e2) = two_prod(self, rhs.lo);
        let (hi, lo) = quick_two_sum(p1, e2 + p2 + e1);
        DoubleDouble { hi, lo }
    }
}

impl Div for DoubleDouble {
    type Output = DoubleDouble;
    fn div(self, rhs: Self) -> Self {
        let q1 = self.hi / rhs.hi;
        let r = self - rhs * q1;
        let q2 = r.hi / rhs.hi;
        let r = r - rhs * q2;
        let q3 = r.hi / rhs.hi;
        let (q1, q2) = quick_two_sum(q1, q2);
        DoubleDouble { hi: q1, lo: q2 } + q3
    }
}

impl Div<f64> for DoubleDouble {
    type Output = DoubleDouble;
    fn div(self, rhs: f64) -> Self {
        self / DoubleDouble::new(rhs)
    }
}

impl Div<DoubleDouble> for f64 {
    type Output = DoubleDouble;
    fn div(self, rhs: DoubleDouble) -> DoubleDouble {
        DoubleDouble::new(self) / rhs
    }
}

/// `x * 2^e`, rounded once even when the result is subnormal (as C's `ldexp`).
pub(crate) fn ldexp(x: f64, e: i32) -> f64 {
    // 2^1023 and 2^-969 (= 2^-1022 * 2^53): scaling in steps that keep the
    // intermediate normal, so only the last multiplication rounds.
    const TWO_1023: f64 = 8.98846567431158e307;
    const TWO_M969: f64 = 2.004168360008973e-292;
    let mut y = x;
    let mut n = e;
    if n > 1023 {
        y *= TWO_1023;
        n -= 1023;
        if n > 1023 {
            y *= TWO_1023;
            n = (n - 1023).min(1023);
        }
    } else if n < -1022 {
        y *= TWO_M969;
        n += 969;
        if n < -1022 {
            y *= TWO_M969;
            n = (n + 969).max(-1022);
        }
    }
    // `n` is now in [-1022, 1023], so 2^n is a normal double.
    y * f64::from_bits(((n + 1023) as u64) << 52)
}

/// `(m, e)` with `x = m 2^e` and `0.5 <= |m| < 1` (as C's `frexp`); zero,
/// infinities and NaN come back unchanged with exponent 0.
pub(crate) fn frexp(x: f64) -> (f64, i32) {
    if x == 0.0 || !x.is_finite() {
        return (x, 0);
    }
    let bits = x.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i32;
    if biased == 0 {
        // Subnormal: normalise first.
        let (m, e) = frexp(x * 18014398509481984.0); // 2^54
        return (m, e - 54);
    }
    let mantissa = f64::from_bits((bits & !(0x7ff << 52)) | (1022 << 52));
    (mantissa, biased - 1022)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ldexp_and_frexp_round_trip() {
        for &x in &[1.0, -3.5, 1e-310, 5e-324, 1.7e308, 0.1] {
            let (m, e) = frexp(x);
            assert!(m.abs() >= 0.5 && m.abs() < 1.0);
            assert_eq!(ldexp(m, e), x);
        }
        assert_eq!(ldexp(1.0, -1074), 5e-324);
        assert_eq!(ldexp(1.0, -1075), 0.0);
        assert_eq!(ldexp(1.5, -1074), 1e-323); // rounds half to even
        assert_eq!(ldexp(1.0, 1024), f64::INFINITY);
    }

    #[test]
    fn products_are_exact_to_106_bits() {
        let third = DoubleDouble::ONE / 3.0;
        let back = third * 3.0;
        assert_eq!(back.hi, 1.0);
        assert!(back.lo.abs() < 1e-31);
        let sum = DoubleDouble::new(1.0) + 1e-20;
        assert_eq!(sum.hi, 1.0);
        assert_eq!(sum.lo, 1e-20);
    }
}
