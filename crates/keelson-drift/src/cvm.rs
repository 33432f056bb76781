//! Two-sample Cramér–von Mises test, reproducing
//! `scipy.stats.cramervonmises_2samp`.
//!
//! The statistic `T = U / (n m (n+m)) - (4nm - 1)/(6(n+m))` with
//! `U = n Σ (r(x_i) - i)² + m Σ (r(y_j) - j)²` and mid-ranks `r` in the
//! pooled sample is accumulated exactly in integers (four times `U`) in one
//! pass over the merged sorted samples (branch-free when there are no ties,
//! and on several threads for samples of millions of values).
//!
//! The p-value is exact for samples of at most 20 values (`Auto`), by
//! enumeration of the lattice paths; otherwise it comes from the limiting
//! distribution of the normalised statistic, `1 - Σ_k term_k` (Csörgő &
//! Faraway 1996), summed with the same terms in the same order as scipy,
//! each term bit for bit scipy's (the Bessel function is Amos's algorithm,
//! see [`bessel_k`]), so that even p-values near `1e-11`, where the sum's
//! rounding dominates, agree.

mod exact;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::ks::pieces::{self, Piece};
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

/// Steps per block of the tie-free sweep (its `u64` block sums cannot
/// overflow for samples below [`FAST_MAX_LEN`]).
const BLOCK: usize = 512;
/// Largest sample size for the `u64` block sums: `BLOCK · FAST_MAX_LEN² < 2^64`.
const FAST_MAX_LEN: usize = 1 << 27;
/// Pieces swept in lockstep by one thread.
const LANES: usize = 4;
/// Below this many values one piece is swept alone.
const LANES_MIN: usize = 1 << 14;

/// Four times `Σ_i (r(x_i) - i)²` and four times `Σ_j (r(y_j) - j)²`, with
/// mid-ranks in the pooled sample; both are integers.
///
/// Without ties the rank of a value is its index plus the number of smaller
/// values in the other sample, so the deviations are exactly those counts;
/// they are summed in a branch-free sweep, four pieces in lockstep (and
/// groups of pieces on several threads for large samples). A tie anywhere in
/// a group sends it to the general mid-rank computation.
fn rank_deviations(x: &[f64], y: &[f64]) -> (u128, u128) {
    let total = x.len() + y.len();
    let fast = x.len().max(y.len()) < FAST_MAX_LEN;
    if total < LANES_MIN || !fast {
        let piece = ((0, 0), (x.len(), y.len()));
        return if fast {
            sweep_group(x, y, [piece]).unwrap_or_else(|| tied_deviations(x, y, piece))
        } else {
            tied_deviations(x, y, piece)
        };
    }
    let all = pieces::split(x, y, pieces::thread_count(total) * LANES);
    let groups: Vec<&[Piece]> = all.chunks(LANES).collect();
    let parts = pieces::map_groups(&groups, |group| {
        let swept = match <[Piece; LANES]>::try_from(group) {
            Ok(lanes) => sweep_group(x, y, lanes),
            Err(_) => group.iter().try_fold((0u128, 0u128), |(sx, sy), &p| {
                sweep_group(x, y, [p]).map(|(px, py)| (sx + px, sy + py))
            }),
        };
        swept.unwrap_or_else(|| {
            group.iter().fold((0, 0), |(sx, sy), &p| {
                let (px, py) = tied_deviations(x, y, p);
                (sx + px, sy + py)
            })
        })
    });
    parts
        .iter()
        .fold((0, 0), |(sx, sy), &(px, py)| (sx + px, sy + py))
}

/// Sweep state of one piece.
#[derive(Clone, Copy)]
struct Lane {
    i: usize,
    j: usize,
    end: (usize, usize),
    /// The value taken last (NaN at the start: pieces end at value
    /// boundaries, so a piece's first value cannot tie with the last one).
    prev: f64,
    sx: u128,
    sy: u128,
}

impl Lane {
    fn safe_steps(&self) -> usize {
        (self.end.0 - self.i).min(self.end.1 - self.j)
    }
}

/// Tie-free deviations (times four) of `L` pieces swept in lockstep, or
/// `None` if a tie shows up.
fn sweep_group<const L: usize>(x: &[f64], y: &[f64], pieces: [Piece; L]) -> Option<(u128, u128)> {
    let mut lanes = pieces.map(|((i, j), end)| Lane {
        i,
        j,
        end,
        prev: f64::NAN,
        sx: 0,
        sy: 0,
    });
    if !sweep(x, y, &mut lanes) {
        return None;
    }
    let mut total = (0u128, 0u128);
    for lane in lanes {
        let mut one = [lane];
        if !sweep(x, y, &mut one) {
            return None;
        }
        let [mut lane] = one;
        // One part is used up; every value left in the other has all of the
        // used-up part's values below it.
        let ((i1, j1), (i, j)) = (lane.end, (lane.i, lane.j));
        let (rest, below, sum) = if i < i1 {
            (&x[i..i1], j, &mut lane.sx)
        } else {
            (&y[j..j1], i, &mut lane.sy)
        };
        if rest.first() == Some(&lane.prev) || rest.windows(2).any(|w| w[0] == w[1]) {
            return None;
        }
        let below = below as u128;
        *sum += rest.len() as u128 * below * below;
        total = (total.0 + lane.sx, total.1 + lane.sy);
    }
    Some((4 * total.0, 4 * total.1))
}

/// Lockstep blocks while every lane can step; `false` on a tie.
fn sweep<const L: usize>(x: &[f64], y: &[f64], lanes: &mut [Lane; L]) -> bool {
    loop {
        let steps = lanes
            .iter()
            .map(Lane::safe_steps)
            .min()
            .unwrap_or(0)
            .min(BLOCK);
        if steps == 0 {
            return true;
        }
        let mut bx = [0u64; L];
        let mut by = [0u64; L];
        let mut tie = false;
        for _ in 0..steps {
            for k in 0..L {
                let lane = &mut lanes[k];
                let (a, b) = (x[lane.i], y[lane.j]);
                let v = a.min(b);
                // Equal values are adjacent in the merged order.
                tie |= v == lane.prev;
                lane.prev = v;
                let take = u64::from(a < b);
                let (ii, jj) = (lane.i as u64, lane.j as u64);
                bx[k] += take * (jj * jj);
                by[k] += (1 - take) * (ii * ii);
                lane.i += take as usize;
                lane.j += 1 - take as usize;
            }
        }
        if tie {
            return false;
        }
        for k in 0..L {
            lanes[k].sx += u128::from(bx[k]);
            lanes[k].sy += u128::from(by[k]);
        }
    }
}

/// [`rank_deviations`] over one piece with mid-ranks for tied values.
fn tied_deviations(x: &[f64], y: &[f64], piece: Piece) -> (u128, u128) {
    let ((mut i, mut j), (i1, j1)) = piece;
    let (mut sx, mut sy) = (0u128, 0u128);
    while i < i1 || j < j1 {
        let v = match (x.get(i).filter(|_| i < i1), y.get(j).filter(|_| j < j1)) {
            (Some(&a), Some(&b)) => a.min(b),
            (Some(&a), None) | (None, Some(&a)) => a,
            (None, None) => break,
        };
        let i0 = i;
        while i < i1 && x[i] == v {
            i += 1;
        }
        let j0 = j;
        while j < j1 && y[j] == v {
            j += 1;
        }
        let (cx, cy) = ((i - i0) as u128, (j - j0) as u128);
        // For the k-th copy in x (k = 1..cx): 2 (r - i) = 2 j0 + cx + cy + 1 - 2k.
        sx += squares_sum(2 * j0 as u128 + cx + cy + 1, cx);
        sy += squares_sum(2 * i0 as u128 + cx + cy + 1, cy);
    }
    (sx, sy)
}

/// `Σ_{k=1..c} (b - 2k)² = c b² + 2 c (c+1) (2c+1) / 3 - 2 b c (c+1)`
/// (the first two terms together are never below the third).
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::sample;

    #[test]
    fn ties_exact_and_asymptotic_match_scipy() {
        // stats.cramervonmises_2samp([1, 2, 2, 3, 5], [0, 2, 2, 4, 4.5, 6], method=m)
        let (x, y) = (
            sample(&[1.0, 2.0, 2.0, 3.0, 5.0]),
            sample(&[0.0, 2.0, 2.0, 4.0, 4.5, 6.0]),
        );
        let exact =
            cramervonmises_2samp(&x, &y, CvmMethod::Exact).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(exact.statistic, 0.046969696969697106);
        assert_eq!(exact.pvalue, Some(0.9696969696969697));
        let asym =
            cramervonmises_2samp(&x, &y, CvmMethod::Asymptotic).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(asym.pvalue, Some(0.9920125520862126));
        // x = np.arange(25) * 0.37 % 5, y = np.arange(23) * 0.53 % 4.7: 25 > 20, so
        // auto is asymptotic.
        let x: Vec<f64> = (0..25).map(|i| (f64::from(i) * 0.37) % 5.0).collect();
        let y: Vec<f64> = (0..23).map(|i| (f64::from(i) * 0.53) % 4.7).collect();
        let (x, y) = (sample(&x), sample(&y));
        let auto = cramervonmises_2samp(&x, &y, CvmMethod::Auto).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (auto.statistic, auto.pvalue),
            (0.06040458937198068, Some(0.84092691118402))
        );
        let exact =
            cramervonmises_2samp(&x, &y, CvmMethod::Exact).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(exact.pvalue, Some(0.8323873018434884));
    }

    #[test]
    fn limiting_cdf_matches_scipy() {
        // scipy.stats._hypotests._cdf_cvm_inf(t)
        let cases = [
            (0.1, 0.4151265615932029),
            (0.5, 0.9601667824343908),
            (2.0, 0.9999872192637342),
            (5.0, 0.9999999999513484),
        ];
        for (t, c) in cases {
            assert_eq!(cdf_cvm_inf(t), c, "cdf({t})");
        }
    }

    #[test]
    fn integer_division_rounds_like_python() {
        // (10**30 + 7) / (3 * 10**20 + 1), (2**60 + 1) / 3 and 7 / 3 in Python
        assert_eq!(
            div_round(10u128.pow(30) + 7, 3 * 10u128.pow(20) + 1),
            3333333333.3333335
        );
        assert_eq!(div_round((1u128 << 60) + 1, 3), 3.843071682022823e17);
        assert_eq!(div_round(7, 3), 2.3333333333333335);
        assert_eq!(div_round(0, 3), 0.0);
    }

    #[test]
    fn small_samples_are_rejected() {
        let (one, two) = (sample(&[1.0]), sample(&[1.0, 2.0]));
        assert!(matches!(
            cramervonmises_2samp(&one, &two, CvmMethod::Auto),
            Err(Error::Undefined { .. })
        ));
        let empty = sample(&[]);
        assert!(matches!(
            cramervonmises_2samp(&two, &empty, CvmMethod::Auto),
            Err(Error::Empty { .. })
        ));
    }
}
