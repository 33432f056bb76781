//! Reference-quantile bins without sorting the reference.
//!
//! `numpy.quantile` needs only a few order statistics. One pass counts the
//! reference by the top 16 bits of each value's order key (a bucket); the
//! buckets holding the wanted ranks are copied out and searched with
//! selection. Every other bucket lies wholly between two edges, because an
//! edge falls between two adjacent order statistics that both sit in copied
//! buckets, so the reference counts come from the bucket counts plus an exact
//! count of the copied values.

use super::bin_index::BinCounter;
use super::{count_sorted, quantile_edges, quantile_edges_by};
use crate::error::Result;
use crate::sample::{SortedSample, from_order_key, order_key, reject_nan};

const BUCKET_SHIFT: u32 = 48;
const BUCKETS: usize = 1 << (64 - BUCKET_SHIFT);
/// Buckets of `-0.0` and `+0.0`: equal as floats but apart in key order, so
/// their values are always counted one by one.
const ZERO_BUCKETS: [usize; 2] = [0x7FFF, 0x8000];

/// Edges (outer ones infinite) and reference counts for
/// [`super::Binning::ReferenceQuantiles`], identical to the sorted path.
pub(super) struct QuantileBins {
    pub(super) edges: Vec<f64>,
    pub(super) counts: Vec<u64>,
}

/// Quantile bin edges and reference counts of a non-empty reference.
///
/// # Errors
/// NaN in `reference` (named `"reference"`), and the errors of
/// `quantile_edges`.
pub(super) fn quantile_bins(reference: &[f64], bins: usize) -> Result<QuantileBins> {
    let n = reference.len();
    let mut ranks = Vec::new();
    quantile_edges_by(n, bins, &mut |i| {
        ranks.push(i);
        Some(0.0)
    })?;
    ranks.sort_unstable();
    ranks.dedup();
    if n > u32::MAX as usize {
        return sorted_bins(reference, bins);
    }

    let mut histogram = vec![0u32; BUCKETS];
    for &x in reference {
        if let Some(c) = histogram.get_mut(bucket(order_key(x))) {
            *c += 1;
        }
    }
    // NaN keys sort beyond the infinities, into the outermost buckets.
    let outermost = histogram
        .iter()
        .take(0x10)
        .chain(histogram.iter().skip(0xFFF0));
    if outermost.into_iter().any(|&c| c > 0) {
        reject_nan(reference, "reference")?;
    }
    let mut starts = Vec::with_capacity(BUCKETS + 1);
    let mut total = 0usize;
    starts.push(0);
    for &c in &histogram {
        total += c as usize;
        starts.push(total);
    }
    let bucket_of_rank = |r: usize| starts.partition_point(|&s| s <= r).saturating_sub(1);

    let mut targets: Vec<usize> = ranks.iter().map(|&r| bucket_of_rank(r)).collect();
    targets.extend(
        ZERO_BUCKETS
            .iter()
            .filter(|&&b| histogram.get(b).is_some_and(|&c| c > 0)),
    );
    targets.sort_unstable();
    targets.dedup();
    if targets.len() >= u16::MAX as usize {
        return sorted_bins(reference, bins);
    }
    let mut slot = vec![0u16; BUCKETS];
    let mut copies: Vec<Vec<u64>> = Vec::with_capacity(targets.len());
    for (i, &b) in targets.iter().enumerate() {
        if let Some(s) = slot.get_mut(b) {
            *s = (i + 1) as u16;
        }
        copies.push(Vec::with_capacity(
            histogram.get(b).map_or(0, |&c| c as usize),
        ));
    }
    for &x in reference {
        let key = order_key(x);
        let s = slot.get(bucket(key)).copied().unwrap_or(0);
        if s != 0
            && let Some(copy) = copies.get_mut(usize::from(s) - 1)
        {
            copy.push(key);
        }
    }

    let mut found: Vec<(usize, u64)> = Vec::with_capacity(ranks.len());
    for (&b, copy) in targets.iter().zip(copies.iter_mut()) {
        let first = starts.get(b).copied().unwrap_or(0);
        let lo = ranks.partition_point(|&r| r < first);
        let hi = ranks.partition_point(|&r| r < first + copy.len());
        select_ranks(copy, ranks.get(lo..hi).unwrap_or(&[]), first, &mut found);
    }
    found.sort_unstable_by_key(|&(r, _)| r);
    let value_at = |i: usize| {
        found
            .binary_search_by_key(&i, |&(r, _)| r)
            .ok()
            .and_then(|j| found.get(j))
            .map(|&(_, k)| from_order_key(k))
    };
    let edges = quantile_edges_by(n, bins, &mut |i| value_at(i))?;

    let counter = BinCounter::new(&edges);
    let end = edges.len().saturating_sub(1);
    let inner = edges.get(1..end).unwrap_or(&[]);
    let is_target = |b: usize| targets.binary_search(&b).is_ok();
    let settled = inner.iter().all(|&e| {
        let b = bucket(order_key(e));
        is_target(b) || histogram.get(b).is_some_and(|&c| c == 0)
    });
    if !settled {
        // Only reachable if interpolation rounded an edge out of the gap between
        // its order statistics; count every value instead.
        let counts = counter.count(reference, true, true).0;
        return Ok(QuantileBins { edges, counts });
    }

    let mut counts = vec![0u64; end];
    let mut edge = 0usize;
    let edge_buckets: Vec<usize> = inner.iter().map(|&e| bucket(order_key(e))).collect();
    for (b, &c) in histogram.iter().enumerate() {
        while edge_buckets.get(edge).is_some_and(|&eb| eb < b) {
            edge += 1;
        }
        if c > 0
            && !is_target(b)
            && let Some(slot) = counts.get_mut(edge)
        {
            *slot += u64::from(c);
        }
    }
    for copy in copies {
        let values: Vec<f64> = copy.into_iter().map(from_order_key).collect();
        let exact = counter.count(&values, true, true).0;
        for (total, c) in counts.iter_mut().zip(exact) {
            *total += c;
        }
    }
    Ok(QuantileBins { edges, counts })
}

fn bucket(key: u64) -> usize {
    (key >> BUCKET_SHIFT) as usize
}

/// The sorted path, for inputs too large for 32-bit bucket counts or with
/// thousands of quantiles.
fn sorted_bins(reference: &[f64], bins: usize) -> Result<QuantileBins> {
    let sorted = SortedSample::new(reference, "reference")?;
    let edges = quantile_edges(sorted.values(), bins)?;
    let counts = count_sorted(&edges, sorted.values());
    Ok(QuantileBins { edges, counts })
}

/// Slices longer than this are split by a radix pass before selecting, so
/// that heavy buckets (a narrow range, many ties) cost a few linear passes
/// rather than repeated partitioning.
const RADIX_SPLIT: usize = 1 << 16;

/// Push `(rank, key)` for each of `ranks` (absolute, ascending, all within
/// `base..base + keys.len()`), where `keys[0]` has absolute rank `base` once
/// sorted. Reorders `keys`.
fn select_ranks(keys: &mut [u64], ranks: &[usize], base: usize, found: &mut Vec<(usize, u64)>) {
    if ranks.is_empty() {
        return;
    }
    if keys.len() > RADIX_SPLIT {
        split_ranks(keys, ranks, base, found);
        return;
    }
    if keys.len() <= 32 {
        keys.sort_unstable();
        for &r in ranks {
            if let Some(&k) = keys.get(r - base) {
                found.push((r, k));
            }
        }
        return;
    }
    let mid = ranks.len() / 2;
    let Some(&r) = ranks.get(mid) else {
        return;
    };
    let local = r - base;
    if local >= keys.len() {
        return;
    }
    let (left, pivot, right) = keys.select_nth_unstable(local);
    found.push((r, *pivot));
    select_ranks(left, ranks.get(..mid).unwrap_or(&[]), base, found);
    select_ranks(right, ranks.get(mid + 1..).unwrap_or(&[]), r + 1, found);
}

/// [`select_ranks`] by one radix level: the keys agree on every bit above
/// their highest differing one, so the 16 bits from there down order them
/// into buckets; the buckets holding ranks are copied out and searched.
fn split_ranks(keys: &[u64], ranks: &[usize], base: usize, found: &mut Vec<(usize, u64)>) {
    let (lo, hi) = keys
        .iter()
        .fold((u64::MAX, 0), |(lo, hi), &k| (lo.min(k), hi.max(k)));
    if lo == hi {
        found.extend(ranks.iter().map(|&r| (r, lo)));
        return;
    }
    let shift = (64 - (lo ^ hi).leading_zeros()).saturating_sub(16);
    let digit = |k: u64| ((k >> shift) & 0xFFFF) as usize;
    let mut counts = vec![0usize; 1 << 16];
    for &k in keys {
        if let Some(c) = counts.get_mut(digit(k)) {
            *c += 1;
        }
    }
    let mut starts = Vec::with_capacity(counts.len() + 1);
    let mut total = base;
    starts.push(total);
    for &c in &counts {
        total += c;
        starts.push(total);
    }
    let mut targets: Vec<usize> = ranks
        .iter()
        .map(|&r| starts.partition_point(|&s| s <= r).saturating_sub(1))
        .collect();
    targets.dedup();
    let mut slot = vec![0u16; 1 << 16];
    for (i, &d) in targets.iter().enumerate() {
        if let Some(s) = slot.get_mut(d) {
            *s = u16::try_from(i + 1).unwrap_or(0);
        }
    }
    let mut copies: Vec<Vec<u64>> = targets
        .iter()
        .map(|&d| Vec::with_capacity(counts.get(d).copied().unwrap_or(0)))
        .collect();
    for &k in keys {
        let s = slot.get(digit(k)).copied().unwrap_or(0);
        if s != 0
            && let Some(copy) = copies.get_mut(usize::from(s) - 1)
        {
            copy.push(k);
        }
    }
    for (&d, copy) in targets.iter().zip(copies.iter_mut()) {
        let first = starts.get(d).copied().unwrap_or(base);
        let from = ranks.partition_point(|&r| r < first);
        let to = ranks.partition_point(|&r| r < first + copy.len());
        select_ranks(copy, ranks.get(from..to).unwrap_or(&[]), first, found);
    }
}
