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

/// Per-bucket totals of one sample: the sum of `x − edge` and the count,
/// side by side so that a value touches one cache line.
#[derive(Clone, Copy, Default)]
struct Cell {
    sum: f64,
    count: f64,
}

/// What one pass over a sample saw: `None` on a value that is not finite.
fn tally(values: &[f64], buckets: &LinearBuckets) -> Option<(Vec<Cell>, f64, f64)> {
    let mut cells = vec![Cell::default(); buckets.len()];
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    let mut finite = true;
    for &x in values {
        finite &= x.is_finite();
        lo = lo.min(x);
        hi = hi.max(x);
        let b = buckets.index(x);
        if let Some(cell) = cells.get_mut(b) {
            cell.sum += x - buckets.nominal_edge(b);
            // Exact: counts stay far below 2^53.
            cell.count += 1.0;
        }
    }
    finite.then_some((cells, lo, hi))
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
        let (ka, kb) = (tu[b].count as i64, tv[b].count as i64);
        let (from, to) = (start[b], start[b + 1]);
        let num = i * n2 - j * n1;
        if num - kb * n1 >= 0 || num + ka * n2 <= 0 {
            let edge = buckets.nominal_edge(b);
            let gap = i as f64 / f1 - j as f64 / f2;
            let in_u = (ka as f64 * (to - edge) - tu[b].sum) / f1;
            let in_v = (kb as f64 * (to - edge) - tv[b].sum) / f2;
            total.add((gap * (to - from) + in_u - in_v).abs());
        } else {
            crossing.push(Crossing {
                bucket: b,
                i,
                j,
                len_u: ka as usize,
                len_v: kb as usize,
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
    len_u: usize,
    len_v: usize,
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
    // One bit per bucket marks the crossing ones, so the many values of
    // other buckets cost one L1 lookup; the crossing buckets' values go
    // straight to their slots in one flat buffer per sample.
    let mut marked = vec![0u64; buckets.len().div_ceil(64)];
    for c in crossing {
        marked[c.bucket / 64] |= 1 << (c.bucket % 64);
    }
    let gather = |values: &[f64], len: fn(&Crossing) -> usize| {
        let mut next = vec![0usize; buckets.len()];
        let mut bounds = Vec::with_capacity(crossing.len() + 1);
        let mut total = 0;
        bounds.push(0);
        for c in crossing {
            next[c.bucket] = total;
            total += len(c);
            bounds.push(total);
        }
        let mut flat = vec![0.0f64; total];
        for &x in values {
            let b = buckets.index(x);
            if marked.get(b / 64).is_some_and(|w| w >> (b % 64) & 1 == 1)
                && let Some(at) = next.get_mut(b)
                && let Some(slot) = flat.get_mut(*at)
            {
                *slot = x + 0.0;
                *at += 1;
            }
        }
        for w in bounds.windows(2) {
            if let Some(part) = flat.get_mut(w[0]..w[1]) {
                part.sort_unstable_by(f64::total_cmp);
            }
        }
        (flat, bounds)
    };
    let ((fu, bu), (fv, bv)) = (gather(u, |c| c.len_u), gather(v, |c| c.len_v));
    for ((c, ru), rv) in crossing.iter().zip(bu.windows(2)).zip(bv.windows(2)) {
        let a = fu.get(ru[0]..ru[1]).unwrap_or_default();
        let b = fv.get(rv[0]..rv[1]).unwrap_or_default();
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
