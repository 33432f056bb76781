//! Cutting two sorted samples into consecutive pieces at value boundaries
//! (every copy of a value lands in the same piece), and running a
//! computation on the pieces on scoped threads. Results come back in piece
//! order, so callers combine them the same way whatever the thread count.

use std::thread;

/// Below this many values in total everything runs on the calling thread.
const PARALLEL_MIN: usize = 1 << 21;
/// Smallest share of the values handed to one thread.
const THREAD_MIN: usize = 1 << 20;
/// At most this many threads.
const MAX_THREADS: usize = 8;

/// A piece: from `start` (exclusive, a valid position or the origin) to
/// `end` (inclusive), as (reference count, current count) pairs.
pub(crate) type Piece = ((usize, usize), (usize, usize));

/// How many threads to use for `total` values.
pub(crate) fn thread_count(total: usize) -> usize {
    if total < PARALLEL_MIN {
        return 1;
    }
    thread::available_parallelism()
        .map_or(1, |p| p.get())
        .min(MAX_THREADS)
        .min(total / THREAD_MIN)
        .max(1)
}

/// Up to `count` consecutive pieces of roughly equal merged size, each
/// ending after the last copy of a value.
pub(crate) fn split(a: &[f64], b: &[f64], count: usize) -> Vec<Piece> {
    let (n1, n2) = (a.len(), b.len());
    let mut bounds = vec![(0, 0)];
    for k in 1..count {
        let r = k * (n1 + n2) / count;
        // i = how many of the r smallest values come from `a`.
        let (mut lo, mut hi) = (r.saturating_sub(n2), r.min(n1));
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let j = r - mid;
            if j > 0 && mid < n1 && b[j - 1] > a[mid] {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        let (i, j) = (lo, r - lo);
        let last = match (
            i.checked_sub(1).map(|k| a[k]),
            j.checked_sub(1).map(|k| b[k]),
        ) {
            (Some(x), Some(y)) => x.max(y),
            (Some(x), None) | (None, Some(x)) => x,
            (None, None) => continue,
        };
        let bound = (
            a.partition_point(|&x| x <= last),
            b.partition_point(|&y| y <= last),
        );
        if bounds
            .last()
            .is_some_and(|&(pi, pj)| bound.0 + bound.1 > pi + pj)
            && bound != (n1, n2)
        {
            bounds.push(bound);
        }
    }
    bounds.push((n1, n2));
    bounds.windows(2).map(|w| (w[0], w[1])).collect()
}

/// `f` on each group of consecutive pieces, the first group on this thread
/// and the others on scoped threads (or inline if a thread cannot be
/// started); results in group order.
pub(crate) fn map_groups<T, F>(groups: &[&[Piece]], f: F) -> Vec<T>
where
    T: Send,
    F: Fn(&[Piece]) -> T + Sync,
{
    if groups.len() <= 1 {
        return groups.iter().map(|g| f(g)).collect();
    }
    let f = &f;
    thread::scope(|scope| {
        let handles: Vec<_> = groups
            .iter()
            .skip(1)
            .map(|&g| thread::Builder::new().spawn_scoped(scope, move || f(g)))
            .collect();
        let mut out = Vec::with_capacity(groups.len());
        if let Some(first) = groups.first() {
            out.push(f(first));
        }
        for (handle, &g) in handles.into_iter().zip(groups.iter().skip(1)) {
            out.push(match handle {
                Ok(h) => h.join().unwrap_or_else(|_| f(g)),
                Err(_) => f(g),
            });
        }
        out
    })
}
