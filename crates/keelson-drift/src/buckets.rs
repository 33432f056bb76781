//! Equal-width buckets over unsorted values: a monotone map from a value to
//! a bucket index, so that bucket order is value order and copies of a value
//! share a bucket. The KS test and the Wasserstein distance on unsorted
//! samples count values into these buckets and order only the few buckets
//! where their answer depends on the order inside.

/// About this many values pick the range.
const SUBSAMPLE: usize = 1 << 16;
/// Share of the subsample beyond each end of the range (0.5 %).
const TAIL: usize = 200;

use crate::sample::{from_order_key, order_key};

/// `2^width` equal-width buckets between two quantiles of a strided
/// subsample; values beyond the range land in the end buckets.
///
/// Equal width in value puts about the same share of a smooth
/// distribution's mass in each central bucket, far finer than buckets by
/// the bits of a value's key, which spend most of their range on exponents
/// no value has. The subsample only steers the speed: any monotone
/// bucketing gives exact answers.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LinearBuckets {
    origin: f64,
    scale: f64,
    step: f64,
    top: i64,
}

impl LinearBuckets {
    /// `None` where the quantiles coincide or the width is infinite or too
    /// small to scale (the caller then buckets another way).
    pub(crate) fn fit(a: &[f64], b: &[f64], width: u32) -> Option<Self> {
        let stride = ((a.len() + b.len()) / SUBSAMPLE).max(1);
        let mut sample: Vec<f64> = a.iter().chain(b).step_by(stride).copied().collect();
        if sample.is_empty() {
            return None;
        }
        let tail = sample.len() / TAIL;
        let (_, &mut low, _) = sample.select_nth_unstable_by(tail, f64::total_cmp);
        let last = sample.len() - 1 - tail;
        let (_, &mut high, _) = sample.select_nth_unstable_by(last, f64::total_cmp);
        let buckets = (1u64 << width) as f64;
        let scale = buckets / (high - low);
        let step = (high - low) / buckets;
        (high > low && scale.is_finite() && scale > 0.0 && step > 0.0).then_some(LinearBuckets {
            origin: low,
            scale,
            step,
            top: (1i64 << width) - 1,
        })
    }

    /// Number of buckets.
    pub(crate) fn len(&self) -> usize {
        self.top as usize + 1
    }

    /// The bucket of `x` (NaN goes to bucket 0). Monotone: subtraction,
    /// multiplication, the saturating cast and clamping all preserve order,
    /// and the two zeros meet. Clamping the integer is much cheaper than
    /// clamping the float.
    #[inline(always)]
    pub(crate) fn index(&self, x: f64) -> usize {
        (((x - self.origin) * self.scale) as i64).clamp(0, self.top) as usize
    }

    /// A value near the lower end of bucket `b`, cheap to recompute: a
    /// reference point that keeps per-bucket sums of `x - edge` small.
    #[inline(always)]
    pub(crate) fn nominal_edge(&self, b: usize) -> f64 {
        self.origin + b as f64 * self.step
    }

    /// The smallest float in bucket `b` or above, for `b` in `1..len()`:
    /// exactly where bucket `b` starts. Rounding puts it within a few
    /// floats of the nominal edge, so a short walk usually finds it; near
    /// zero, where floats are dense, a bisection over the order keys
    /// between the neighbouring nominal edges does. `None` if the index
    /// does not change sign across that bracket.
    pub(crate) fn threshold(&self, b: usize) -> Option<f64> {
        let mut x = self.nominal_edge(b);
        for _ in 0..4 {
            if self.index(x) >= b {
                let below = x.next_down();
                if self.index(below) < b {
                    return Some(x);
                }
                x = below;
            } else {
                x = x.next_up();
            }
        }
        let (low, high) = (
            self.nominal_edge(b) - self.step,
            self.nominal_edge(b) + self.step,
        );
        if !(self.index(low) < b && self.index(high) >= b) {
            return None;
        }
        let (mut lo, mut hi) = (order_key(low), order_key(high));
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if self.index(from_order_key(mid)) >= b {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        Some(from_order_key(hi))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_split_the_buckets_exactly() {
        let a: Vec<f64> = (0..5_000)
            .map(|i| (f64::from(i) * 0.37).sin() * 3.0 + 1e3)
            .collect();
        let lb = LinearBuckets::fit(&a, &[], 10).unwrap();
        assert_eq!(lb.len(), 1024);
        for b in 1..lb.len() {
            let t = lb.threshold(b).unwrap();
            assert!(lb.index(t) >= b);
            assert!(lb.index(t.next_down()) < b);
        }
        for w in a.windows(2) {
            if w[0] <= w[1] {
                assert!(lb.index(w[0]) <= lb.index(w[1]));
            }
        }
        assert_eq!(lb.index(-0.0), lb.index(0.0));
    }

    #[test]
    fn thresholds_near_zero() {
        let a: Vec<f64> = (0..5_000).map(|i| (f64::from(i) * 0.37).sin()).collect();
        let lb = LinearBuckets::fit(&a, &[], 16).unwrap();
        for b in 1..lb.len() {
            let t = lb.threshold(b).unwrap();
            assert!(
                lb.index(t) >= b && lb.index(t.next_down()) < b,
                "bucket {b}"
            );
        }
    }

    #[test]
    fn degenerate_ranges_are_refused() {
        assert!(LinearBuckets::fit(&[2.0; 1_000], &[2.0; 10], 16).is_none());
        assert!(LinearBuckets::fit(&[], &[], 16).is_none());
        let spread = [f64::NEG_INFINITY, 0.0, f64::INFINITY].repeat(500);
        assert!(LinearBuckets::fit(&spread, &[], 16).is_none());
    }
}
