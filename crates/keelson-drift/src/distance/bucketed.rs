//! Wasserstein-1 on unsorted samples, ordering only the buckets where
//! `F_ref - F_cur` can change sign.
//!
//! `W1 = ∫ |F_u − F_v| dx`. Split the line into the intervals of
//! [`LinearBuckets`]; where the gap keeps one sign over a whole interval,
//! `∫ |F_u − F_v|` there is `±∫ (F_u − F_v)`, and `∫ F_u` over `[lo, hi)`
//! needs no order: it is `i/n · (hi − lo) + Σ (hi − x) / n` over the
//! interval's values `x`, `i` being the values below it. So one pass keeps
//! per bucket the count and the sum of `x − edge` (a nearby reference
//! point, which keeps the sums small and exact to a few ulps), the sign of
//! the gap inside a bucket is bounded by the counts as in the KS search,
//! and only the buckets where it can cross zero are gathered, sorted and
//! walked value by value. The answer is scipy's to about 1e-12 relative
//! (a different order of additions), not bit for bit.

use crate::buckets::LinearBuckets;
use crate::distance::CompensatedSum;

/// Buckets in the pass (2^16: counts and sums stay in L2).
const WIDTH: u32 = 16;

/// Per-bucket totals of one sample.
struct Tally {
    counts: Vec<u32>,
    sums: Vec<f64>,
}

/// What one pass over a sample saw: `None` on a value that is not finite.
fn tally(values: &[f64], buckets: &LinearBuckets) -> Option<(Tally, f64, f64)> {
    let mut t = Tally {
        counts: vec![0; buckets.len()],
        sums: vec![0.0; buckets.len()],
    };
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    let mut finite = true;
    for &x in values {
        finite &= x.is_finite();
        lo = lo.min(x);
        hi = hi.max(x);
        let b = buckets.index(x);
        if let (Some(c), Some(s)) = (t.counts.get_mut(b), t.sums.get_mut(b)) {
            *c += 1;
            *s += x - buckets.nominal_edge(b);
        }
    }
    finite.then_some((t, lo, hi))
}

/// `W1` for non-empty `u` and `v` with fewer than 2^32 values each, or
/// `None` where this path does not apply (a NaN or infinite value, or a
/// range the buckets cannot split): the caller then sorts.
pub(super) fn wasserstein(u: &[f64], v: &[f64]) -> Option<f64> {
    let buckets = LinearBuckets::fit(u, v, WIDTH)?;
    let (tu, lo_u, hi_u) = tally(u, &buckets)?;
    let (tv, lo_v, hi_v) = tally(v, &buckets)?;
    let (lo, hi) = (lo_u.min(lo_v), hi_u.max(hi_v));
    let (n1, n2) = (u.len() as i64, v.len() as i64);
    let (f1, f2) = (n1 as f64, n2 as f64);
    // Interval of bucket b: [start[b], start[b + 1]), clipped to [lo, hi].
    let mut start = Vec::with_capacity(buckets.len() + 1);
    start.push(lo);
    for b in 1..buckets.len() {
        start.push(buckets.threshold(b)?.clamp(lo, hi));
    }
    start.push(hi);

    let mut total = CompensatedSum::default();
    let mut crossing = Vec::new();
    let (mut i, mut j) = (0i64, 0i64);
    for b in 0..buckets.len() {
        let (ka, kb) = (i64::from(tu.counts[b]), i64::from(tv.counts[b]));
        let (from, to) = (start[b], start[b + 1]);
        let num = i * n2 - j * n1;
        if num - kb * n1 >= 0 || num + ka * n2 <= 0 {
            let edge = buckets.nominal_edge(b);
            let gap = i as f64 / f1 - j as f64 / f2;
            let in_u = (ka as f64 * (to - edge) - tu.sums[b]) / f1;
            let in_v = (kb as f64 * (to - edge) - tv.sums[b]) / f2;
            total.add((gap * (to - from) + in_u - in_v).abs());
        } else {
            crossing.push(Crossing {
                bucket: b,
                i,
                j,
                from,
                to,
            });
        }
        i += ka;
        j += kb;
    }
    if !crossing.is_empty() {
        walk_crossings(u, v, &buckets, &crossing, (f1, f2), &mut total);
    }
    Some(total.total())
}

/// A bucket where the gap may change sign: walked value by value.
struct Crossing {
    bucket: usize,
    i: i64,
    j: i64,
    from: f64,
    to: f64,
}

/// Gather the values of the crossing buckets, sort each bucket's, and add
/// `|gap| · length` for every piece between consecutive values.
fn walk_crossings(
    u: &[f64],
    v: &[f64],
    buckets: &LinearBuckets,
    crossing: &[Crossing],
    (f1, f2): (f64, f64),
    total: &mut CompensatedSum,
) {
    let mut slot = vec![usize::MAX; buckets.len()];
    for (k, c) in crossing.iter().enumerate() {
        slot[c.bucket] = k;
    }
    let gather = |values: &[f64]| {
        let mut per: Vec<Vec<f64>> = vec![Vec::new(); crossing.len()];
        for &x in values {
            if let Some(&k) = slot.get(buckets.index(x))
                && let Some(list) = per.get_mut(k)
            {
                list.push(x + 0.0);
            }
        }
        for list in &mut per {
            list.sort_unstable_by(f64::total_cmp);
        }
        per
    };
    let (pu, pv) = (gather(u), gather(v));
    for ((c, a), b) in crossing.iter().zip(&pu).zip(&pv) {
        let (mut i, mut j) = (c.i as f64, c.j as f64);
        let (mut p, mut q) = (0, 0);
        let mut at = c.from;
        while p < a.len() || q < b.len() {
            let z = match (a.get(p), b.get(q)) {
                (Some(&x), Some(&y)) => x.min(y),
                (Some(&x), None) | (None, Some(&x)) => x,
                (None, None) => break,
            };
            total.add((i / f1 - j / f2).abs() * (z - at));
            while a.get(p) == Some(&z) {
                p += 1;
                i += 1.0;
            }
            while b.get(q) == Some(&z) {
                q += 1;
                j += 1.0;
            }
            at = z;
        }
        total.add((i / f1 - j / f2).abs() * (c.to - at));
    }
}
