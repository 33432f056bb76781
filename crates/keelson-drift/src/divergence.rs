//! Divergences and distances between two discrete distributions given as
//! proportion vectors: `p` is the reference, `q` the current.
//!
//! Every sum here is numpy's pairwise summation in numpy's order, so results
//! agree with numpy/scipy to the last bits rather than merely to 1e-12: the
//! Hellinger distance of two close histograms is `sqrt(1 - sum)`, where a
//! different summation order would show up in the cancellation.

use crate::error::{Error, Result};

/// Zero proportions become this in the anchor PSI (no renormalisation).
pub const PSI_EPS: f64 = 1e-4;

/// numpy's `np.add.reduce` on a contiguous float64 vector: pairwise summation
/// with an 8-way unrolled leaf of at most 128 elements.
pub(crate) fn pairwise_sum(values: &[f64]) -> f64 {
    pairwise_sum_by(values.len(), &|i| values.get(i).copied().unwrap_or(0.0))
}

/// [`pairwise_sum`] over `term(0..len)` without materialising the terms.
pub(crate) fn pairwise_sum_by<F: Fn(usize) -> f64>(len: usize, term: &F) -> f64 {
    pairwise_range(0, len, term)
}

fn pairwise_range<F: Fn(usize) -> f64>(start: usize, len: usize, term: &F) -> f64 {
    const BLOCK: usize = 128;
    if len < 8 {
        let mut sum = 0.0;
        for i in start..start + len {
            sum += term(i);
        }
        sum
    } else if len <= BLOCK {
        let mut r = [0.0f64; 8];
        for (j, slot) in r.iter_mut().enumerate() {
            *slot = term(start + j);
        }
        let whole = len - len % 8;
        let mut i = 8;
        while i < whole {
            for (j, slot) in r.iter_mut().enumerate() {
                *slot += term(start + i + j);
            }
            i += 8;
        }
        let [r0, r1, r2, r3, r4, r5, r6, r7] = r;
        let mut sum = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7));
        for k in whole..len {
            sum += term(start + k);
        }
        sum
    } else {
        let mut half = len / 2;
        half -= half % 8;
        pairwise_range(start, half, term) + pairwise_range(start + half, len - half, term)
    }
}

/// scipy's `rel_entr(x, y)`: `x ln(x/y)`, 0 when `x == 0`, ∞ when `y == 0 < x`.
///
/// Like scipy 1.17, the logarithm is taken as `ln_1p((x − y)/y)` when the
/// ratio is within (½, 2), where it is more accurate, and as `ln x − ln y`
/// when the ratio over- or underflows.
pub(crate) fn rel_entr(x: f64, y: f64) -> f64 {
    if x.is_nan() || y.is_nan() {
        f64::NAN
    } else if x > 0.0 && y > 0.0 {
        let ratio = x / y;
        if ratio > 0.5 && ratio < 2.0 {
            x * ((x - y) / y).ln_1p()
        } else if ratio > f64::MIN_POSITIVE && ratio < f64::INFINITY {
            x * ratio.ln()
        } else {
            x * (x.ln() - y.ln())
        }
    } else if x == 0.0 && y >= 0.0 {
        0.0
    } else {
        f64::INFINITY
    }
}

/// Check that `p` and `q` are proportion vectors of the same, non-zero length.
fn check_pair(p: &[f64], q: &[f64]) -> Result<()> {
    if p.is_empty() {
        return Err(Error::Empty {
            what: "reference proportions".to_string(),
        });
    }
    if p.len() != q.len() {
        return Err(Error::invalid(
            "current proportions",
            format!(
                "length {} differs from the reference's {}",
                q.len(),
                p.len()
            ),
        ));
    }
    for (what, v) in [("reference proportions", p), ("current proportions", q)] {
        if let Some(index) = v.iter().position(|x| x.is_nan()) {
            return Err(Error::NaN {
                what: what.to_string(),
                index,
            });
        }
        if let Some(i) = v.iter().position(|&x| x < 0.0 || x.is_infinite()) {
            return Err(Error::invalid(
                what,
                format!("entry {i} is negative or infinite"),
            ));
        }
    }
    Ok(())
}

/// The anchor's zero fill for PSI: every proportion equal to zero becomes
/// `eps`; the others are kept, and the vector is not renormalised.
pub fn fill_zeros_eps(p: &[f64], eps: f64) -> Vec<f64> {
    p.iter().map(|&x| if x == 0.0 { eps } else { x }).collect()
}

/// Evidently's zero fill: zeros become `1e-4`, or `min_nonzero / 1e6` when the
/// smallest non-zero proportion is at most `1e-4`; no renormalisation.
///
/// # Errors
/// [`Error::Undefined`] when every entry is zero (numpy's `min` of an empty
/// selection raises there).
pub fn fill_zeros_evidently(p: &[f64]) -> Result<Vec<f64>> {
    let smallest = p
        .iter()
        .copied()
        .filter(|&x| x != 0.0)
        .fold(None, |acc: Option<f64>, x| {
            Some(acc.map_or(x, |a| if x < a { x } else { a }))
        })
        .ok_or_else(|| Error::undefined("evidently zero fill", "every proportion is zero"))?;
    let fill = if smallest <= 1e-4 {
        smallest / 1e6
    } else {
        1e-4
    };
    Ok(p.iter().map(|&x| if x == 0.0 { fill } else { x }).collect())
}

/// Population stability index `Σ (q − p) ln(q / p)` after replacing zero
/// proportions of both vectors by `eps` ([`fill_zeros_eps`]). Symmetric in
/// `p` and `q` by its formula.
///
/// # Errors
/// [`Error::Empty`], [`Error::InvalidParameter`] for mismatched lengths,
/// negative entries or `eps` not in (0, 1], [`Error::NaN`] for NaN entries.
pub fn psi(p: &[f64], q: &[f64], eps: f64) -> Result<f64> {
    check_pair(p, q)?;
    if !(eps > 0.0 && eps <= 1.0) {
        return Err(Error::invalid("eps", format!("{eps} is not in (0, 1]")));
    }
    let fill = |x: f64| if x == 0.0 { eps } else { x };
    Ok(pairwise_sum_by(p.len(), &|i| {
        let (a, b) = (
            fill(p.get(i).copied().unwrap_or(0.0)),
            fill(q.get(i).copied().unwrap_or(0.0)),
        );
        (b - a) * (b / a).ln()
    }))
}

/// Kullback–Leibler divergence KL(p ‖ q) in nats, as `scipy.stats.entropy(p, q)`:
/// both vectors are normalised to sum 1 first; ∞ when some `q_i = 0 < p_i`.
///
/// # Errors
/// As [`psi`]; also [`Error::Undefined`] when a vector sums to zero.
pub fn kl_divergence(p: &[f64], q: &[f64]) -> Result<f64> {
    check_pair(p, q)?;
    let (sp, sq) = (
        positive_sum(p, "reference proportions")?,
        positive_sum(q, "current proportions")?,
    );
    Ok(pairwise_sum_by(p.len(), &|i| {
        rel_entr(
            p.get(i).copied().unwrap_or(0.0) / sp,
            q.get(i).copied().unwrap_or(0.0) / sq,
        )
    }))
}

fn positive_sum(v: &[f64], what: &str) -> Result<f64> {
    let s = pairwise_sum(v);
    if s > 0.0 {
        Ok(s)
    } else {
        Err(Error::undefined(what, "the proportions sum to zero"))
    }
}

/// Jensen–Shannon **distance** (the square root of the divergence), as
/// `scipy.spatial.distance.jensenshannon(p, q, base)`: both vectors are
/// normalised to sum 1, the divergence is in nats, divided by `ln(base)` when
/// a base is given. Symmetric; in [0, 1] for base 2.
///
/// # Errors
/// As [`kl_divergence`]; [`Error::InvalidParameter`] for a base that is not
/// positive and finite or equals 1.
pub fn jensen_shannon(p: &[f64], q: &[f64], base: Option<f64>) -> Result<f64> {
    check_pair(p, q)?;
    if let Some(b) = base
        && !(b > 0.0 && b.is_finite() && b != 1.0)
    {
        return Err(Error::invalid(
            "base",
            format!("{b} is not a valid logarithm base"),
        ));
    }
    let (sp, sq) = (
        positive_sum(p, "reference proportions")?,
        positive_sum(q, "current proportions")?,
    );
    let pn = |i: usize| p.get(i).copied().unwrap_or(0.0) / sp;
    let qn = |i: usize| q.get(i).copied().unwrap_or(0.0) / sq;
    let left = pairwise_sum_by(p.len(), &|i| rel_entr(pn(i), (pn(i) + qn(i)) / 2.0));
    let right = pairwise_sum_by(p.len(), &|i| rel_entr(qn(i), (pn(i) + qn(i)) / 2.0));
    let mut js = left + right;
    if let Some(b) = base {
        js /= b.ln();
    }
    Ok((js / 2.0).sqrt())
}

/// Hellinger distance `sqrt(max(0, 1 − Σ sqrt(p_i q_i)))` on proportions as
/// given (not renormalised). Symmetric; in [0, 1] for proportion vectors.
///
/// # Errors
/// As [`psi`] (without `eps`).
pub fn hellinger(p: &[f64], q: &[f64]) -> Result<f64> {
    check_pair(p, q)?;
    let bc = pairwise_sum_by(p.len(), &|i| {
        (p.get(i).copied().unwrap_or(0.0) * q.get(i).copied().unwrap_or(0.0)).sqrt()
    });
    Ok((1.0 - bc).max(0.0).sqrt())
}

/// L∞ distance `max |p_i − q_i|`. Symmetric.
///
/// # Errors
/// As [`hellinger`].
pub fn l_infinity(p: &[f64], q: &[f64]) -> Result<f64> {
    check_pair(p, q)?;
    Ok(p.iter()
        .zip(q)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max))
}

/// Total variation distance `½ Σ |p_i − q_i|`. Symmetric.
///
/// # Errors
/// As [`hellinger`].
pub fn total_variation(p: &[f64], q: &[f64]) -> Result<f64> {
    check_pair(p, q)?;
    Ok(0.5
        * pairwise_sum_by(p.len(), &|i| {
            (p.get(i).copied().unwrap_or(0.0) - q.get(i).copied().unwrap_or(0.0)).abs()
        }))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, rtol: f64) -> bool {
        a == b || (a - b).abs() <= rtol * b.abs()
    }

    #[test]
    fn pairwise_matches_numpy_order() {
        // np.sum(np.array([1e16, 1.0, -1e16] + [1.0]*10)) == 9.0 (unrolled
        // block); a left-to-right loop gives 10.0.
        let mut v = vec![1e16, 1.0, -1e16];
        v.extend(std::iter::repeat_n(1.0, 10));
        assert_eq!(pairwise_sum(&v), 9.0);
        // np.sum(1.0 / np.arange(1, 1001)) == 7.485470860550345; a loop gives ...343.
        let w: Vec<f64> = (1..=1000).map(|i| 1.0 / f64::from(i)).collect();
        assert_eq!(pairwise_sum(&w), 7.485470860550345);
    }

    #[test]
    fn jensen_shannon_matches_scipy() {
        // scipy.spatial.distance.jensenshannon([1.0, 0.0], [0.5, 0.5], base=2)
        let d = jensen_shannon(&[1.0, 0.0], &[0.5, 0.5], Some(2.0)).unwrap();
        assert!(close(d, 0.5579230452841438, 1e-15), "{d}");
        // jensenshannon([0.1, 0.2, 0.7], [0.3, 0.3, 0.4])  (natural log)
        let d = jensen_shannon(&[0.1, 0.2, 0.7], &[0.3, 0.3, 0.4], None).unwrap();
        assert!(close(d, 0.22784261945058354, 1e-15), "{d}");
        // unnormalised inputs are normalised: jensenshannon([1, 2, 7], [3, 3, 4])
        let d2 = jensen_shannon(&[1.0, 2.0, 7.0], &[3.0, 3.0, 4.0], None).unwrap();
        assert!(close(d2, d, 1e-15));
        assert!(jensen_shannon(&[0.5, 0.5], &[0.5, 0.5], Some(1.0)).is_err());
    }

    #[test]
    fn kl_and_psi_match_scipy() {
        // scipy.stats.entropy([0.1, 0.2, 0.7], [0.3, 0.3, 0.4])
        let k = kl_divergence(&[0.1, 0.2, 0.7], &[0.3, 0.3, 0.4]).unwrap();
        assert!(close(k, 0.20077680106635193, 1e-15), "{k}");
        assert_eq!(
            kl_divergence(&[0.5, 0.5], &[1.0, 0.0]).unwrap(),
            f64::INFINITY
        );
        // p=[.1,.2,.7]; q=[.3,.3,.4]; np.sum((q-p)*np.log(q/p))
        let s = psi(&[0.1, 0.2, 0.7], &[0.3, 0.3, 0.4], PSI_EPS).unwrap();
        assert!(close(s, 0.42815370492506505, 1e-15), "{s}");
        // zero filled with 1e-4: p=[1e-4, 1.0], q=[0.5, 0.5]
        let s = psi(&[0.0, 1.0], &[0.5, 0.5], PSI_EPS).unwrap();
        let want = (0.5 - 1e-4) * (0.5f64 / 1e-4).ln() + (0.5 - 1.0) * 0.5f64.ln();
        assert!(close(s, want, 1e-15));
        assert!(psi(&[0.5], &[0.5, 0.5], PSI_EPS).is_err());
        assert!(psi(&[0.5, 0.5], &[0.5, 0.5], 0.0).is_err());
    }

    #[test]
    fn hellinger_and_friends() {
        // hellinger_from_probs([.1,.2,.7], [.3,.3,.4])
        let h = hellinger(&[0.1, 0.2, 0.7], &[0.3, 0.3, 0.4]).unwrap();
        assert!(close(h, 0.22955540235829, 1e-15), "{h}");
        assert_eq!(
            l_infinity(&[0.1, 0.2, 0.7], &[0.3, 0.3, 0.4]).unwrap(),
            0.29999999999999993
        );
        let t = total_variation(&[0.1, 0.2, 0.7], &[0.3, 0.3, 0.4]).unwrap();
        assert_eq!(t, 0.29999999999999993);
    }

    #[test]
    fn zero_fills() {
        assert_eq!(fill_zeros_eps(&[0.0, 0.5, 0.5], 1e-4), vec![1e-4, 0.5, 0.5]);
        assert_eq!(
            fill_zeros_evidently(&[0.0, 0.5, 0.5]).unwrap(),
            vec![1e-4, 0.5, 0.5]
        );
        assert_eq!(
            fill_zeros_evidently(&[0.0, 5e-5, 1.0]).unwrap(),
            vec![5e-5 / 1e6, 5e-5, 1.0]
        );
        assert!(fill_zeros_evidently(&[0.0, 0.0]).is_err());
    }
}
