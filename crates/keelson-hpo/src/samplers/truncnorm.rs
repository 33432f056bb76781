//! The quantile function of a standard normal truncated to `[a, b]`, the
//! way Optuna's TPE draws a candidate from a kernel: it solves
//! `Φ(x) = Φ(a) + q (Φ(b) − Φ(a))` for `x`, on the side of the lower tail
//! where `Φ` keeps its relative precision. Given the same uniform number
//! `q`, the result is Optuna's `_truncnorm.ppf` to rounding, so a TPE
//! candidate lands on Optuna's point.
//!
//! Optuna solves it in log probabilities by Newton's method on `ln Φ`,
//! about ten logarithms and error functions per draw; here the equation
//! is solved for the probability itself by one Halley step from a
//! rational first guess, several times cheaper, which keeps TPE's cost
//! per suggestion within its budget. `erf` and `erfc` come from
//! `libm` (FreeBSD's `s_erf.c`, as behind CPython's `math.erf` on glibc).

use std::f64::consts::{PI, SQRT_2};

/// Φ(x), from erfc in the tails (relative precision there) and erf near 0.
fn ndtr(x: f64) -> f64 {
    let z = x / SQRT_2;
    if z < -0.5 {
        0.5 * libm::erfc(-z)
    } else if z < 0.5 {
        0.5 + 0.5 * libm::erf(z)
    } else {
        1.0 - 0.5 * libm::erfc(z)
    }
}

/// A first guess of Φ⁻¹(p) for 0 < p <= 0.5, within 2e-9 for p >= 4e-17
/// (the least a TPE draw asks for): rational least-squares fits to Φ⁻¹
/// made for this module, in `p - ½` near the middle and in `√(-2 ln p)` in
/// the tail, the variables of Wichura's AS 241.
fn first_guess(p: f64) -> f64 {
    let poly = |c: &[f64], x: f64| c.iter().rev().fold(0.0, |acc, &k| acc * x + k);
    if p >= 0.075 {
        const P: [f64; 5] = [
            2.506_628_275_103_661_3,
            -21.495_725_570_366_11,
            59.939_709_184_406_76,
            -57.654_208_310_164_6,
            10.663_183_456_134_99,
        ];
        const Q: [f64; 5] = [
            1.0,
            -9.622_751_224_799_984,
            31.686_488_289_226_26,
            -40.272_526_154_575_32,
            14.832_389_949_806_789,
        ];
        let r = p - 0.5;
        r * poly(&P, r * r) / poly(&Q, r * r)
    } else {
        const P: [f64; 5] = [
            3.119_446_669_119_316,
            7.766_596_599_038_111,
            2.104_419_951_641_802_3,
            0.092_067_828_860_083_13,
            0.000_143_200_031_011_758_7,
        ];
        const Q: [f64; 5] = [
            1.0,
            4.900_638_095_441_824,
            3.792_927_806_289_805_7,
            0.589_404_447_740_177_4,
            0.016_443_642_617_495_424,
        ];
        let t = (-2.0 * p.ln()).sqrt();
        -(t - poly(&P, t) / poly(&Q, t))
    }
}

/// The x <= 0 with Φ(x) = p, for 0 < p <= 0.5: one Halley step (which
/// triples the correct digits) from [`first_guess`], so rounding is all
/// that is left.
fn lower_quantile(p: f64) -> f64 {
    let x = first_guess(p);
    let u = (0.5 * libm::erfc(-x / SQRT_2) - p) * (2.0 * PI).sqrt() * (0.5 * x * x).exp();
    let step = u / (1.0 + 0.5 * x * u);
    if step.is_finite() {
        (x - step).min(0.0)
    } else {
        x.min(0.0)
    }
}

/// The x with Φ(x) = p: through the lower tail on both sides (1 - p is
/// exact for p >= 0.5). A p rounded onto or past 0 or 1 gives the infinity
/// on that side, for the caller to clip to its bound.
fn quantile(p: f64) -> f64 {
    if p <= 0.0 {
        f64::NEG_INFINITY
    } else if p >= 1.0 {
        f64::INFINITY
    } else if p > 0.5 {
        -lower_quantile(1.0 - p)
    } else {
        lower_quantile(p)
    }
}

/// A standard normal truncated to `[a, b]`, `a < b`, with what its
/// quantiles share computed once: a TPE kernel is drawn from many times.
#[derive(Clone, Copy, Debug)]
pub(super) struct Truncated {
    a: f64,
    b: f64,
    /// Φ at the bound the quantile is measured from (the lower one when
    /// `a < 0`, like Optuna's, else the mirrored upper one).
    base: f64,
    mass: f64,
}

impl Truncated {
    pub(super) fn new(a: f64, b: f64) -> Truncated {
        // Φ(b) - Φ(a), each term taken where Φ is precise; the term at the
        // bound the quantile is measured from is `base`.
        let (base, mass) = if b <= 0.0 {
            let lower = ndtr(a);
            (lower, ndtr(b) - lower)
        } else if a > 0.0 {
            let upper = ndtr(-b);
            (upper, ndtr(-a) - upper)
        } else if a < 0.0 {
            let (lower, upper) = (ndtr(a), ndtr(-b));
            (lower, 1.0 - lower - upper)
        } else {
            let upper = ndtr(-b);
            (upper, 1.0 - ndtr(a) - upper)
        };
        Truncated { a, b, base, mass }
    }

    /// The `q`-quantile, `q` in `[0, 1]`.
    pub(super) fn ppf(&self, q: f64) -> f64 {
        let (a, b) = (self.a, self.b);
        if q == 0.0 {
            return a;
        }
        if q == 1.0 {
            return b;
        }
        let x = if a < 0.0 {
            quantile(self.base + q * self.mass)
        } else {
            -quantile(self.base + (1.0 - q) * self.mass)
        };
        // max/min, not clamp: a NaN bound (a degenerate kernel) must not panic.
        x.max(a).min(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_optunas_truncnorm_ppf() {
        // optuna.samplers._tpe._truncnorm.ppf(q, a, b), Optuna 5.0.0.
        let cases = [
            (0.3, -1.0, 2.0, -0.24240381788922705),
            (0.9, -0.5, 0.5, 0.3938929684383989),
            (0.01, -30.0, 1.0, -2.3904684477529448),
            (0.999, -2.0, 25.0, 3.097060509598474),
            (0.5, 0.0, 3.0, 0.6723672950630586),
            (1e-12, -100.0, -0.0001 + 100.0, -7.034483825301133),
        ];
        for (q, a, b, want) in cases {
            let got = Truncated::new(a, b).ppf(q);
            assert!(
                (got - want).abs() <= 1e-13 * want.abs().max(1.0),
                "ppf({q}, {a}, {b}) = {got}, Optuna {want}"
            );
        }
    }

    #[test]
    fn inverts_the_truncated_cdf() {
        for &(a, b) in &[(-3.0, 0.5), (-0.2, 8.0), (0.0, 1.0), (-40.0, 40.0)] {
            for i in 1..100 {
                let q = f64::from(i) / 100.0;
                let x = Truncated::new(a, b).ppf(q);
                assert!((a..=b).contains(&x), "{q} {a} {b}: {x}");
                let t = Truncated::new(a, b);
                let back = (ndtr(x) - ndtr(a)) / t.mass;
                assert!((back - q).abs() < 1e-12, "{q} {a} {b}: {back}");
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn every_kernel_on_the_unit_interval_inverts(
            q in 0.0..1.0_f64,
            mu in 0.0..=1.0_f64,
            sigma in 0.01..=1.0_f64,
        ) {
            // A TPE kernel: centre in [0, 1], bandwidth at most the range.
            let (a, b) = (-mu / sigma, (1.0 - mu) / sigma);
            let t = Truncated::new(a, b);
            let x = t.ppf(q);
            proptest::prop_assert!(a <= x && x <= b, "{x} outside [{a}, {b}]");
            let back = if a < 0.0 {
                (ndtr(x) - ndtr(a)) / t.mass
            } else {
                1.0 - (ndtr(-x) - ndtr(-b)) / t.mass
            };
            proptest::prop_assert!((back - q).abs() < 1e-12, "q {q}: {back}");
        }
    }

    #[test]
    fn a_probability_rounded_past_the_ends_clips_to_the_bounds() {
        assert_eq!(quantile(1.0 + f64::EPSILON), f64::INFINITY);
        assert_eq!(quantile(-0.0), f64::NEG_INFINITY);
        let t = Truncated::new(-0.5, 0.5);
        assert_eq!(t.ppf(0.0), -0.5);
        assert_eq!(t.ppf(1.0), 0.5);
    }

    #[test]
    fn quantile_of_the_standard_normal() {
        // scipy.stats.norm.ppf
        assert!(quantile(0.5).abs() < 1e-15);
        assert!((quantile(0.975) - 1.959_963_984_540_054).abs() < 1e-15);
        assert!((quantile(1e-10) + 6.361_340_902_404_056).abs() < 1e-13);
    }
}
