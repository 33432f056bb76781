//! The order `numpy.argsort` (its default, unstable `quicksort`) gives
//! float64 values on x86-64 with AVX2, equal values included: Optuna's TPE
//! computes each kernel's bandwidth from its neighbours in that order, so
//! where observations tie (`int` and stepped parameters) the order decides
//! which of the tied kernels get the wide gaps and which the narrow ones,
//! and with it every later suggestion.
//!
//! numpy 2 sorts there with x86-simd-sort's AVX2 argsort: arrays of up to
//! 256 go through a bitonic network over vectors of four lanes; longer ones
//! are partitioned around a median of four, sixteen at a time, and a range
//! that keeps failing to shrink (many equal values) falls back to the C++
//! library's `std::sort` (libstdc++'s introsort, which numpy's Linux wheels
//! are built with). This module replays those moves on the indices; it was
//! checked against numpy 2.4.6 on 2,000 random arrays of 1 to 3,000 values
//! with few, some and no ties (every index the same); the tests pin each
//! path. A machine without AVX2,
//! or with AVX-512, orders numpy's ties differently: the anchor Optuna
//! numbers this reproduces were measured with AVX2.

/// Lanes of a 256-bit vector of float64.
const LANES: usize = 4;
/// The longest range sorted by the network alone.
const NETWORK_MAX: usize = 256;
/// Vectors partitioned per step (x86-simd-sort's unroll factor).
const UNROLL: usize = 4;
/// libstdc++'s `_S_threshold`: ranges this short are left to the final
/// insertion sort.
const INSERTION_MAX: usize = 16;

/// The indices that sort `values` ascending, as numpy orders them (above).
/// A NaN sorts last, as numpy puts it.
pub(crate) fn numpy_argsort(values: &[f64]) -> Vec<usize> {
    let n = values.len();
    let mut arg: Vec<usize> = (0..n).collect();
    if n < 2 {
        return arg;
    }
    if values.iter().any(|v| v.is_nan()) {
        let nan_last = |a: usize, b: usize| {
            let (x, y) = (values[a], values[b]);
            if x.is_nan() {
                false
            } else {
                y.is_nan() || x < y
            }
        };
        std_sort(&mut arg, &nan_last);
        return arg;
    }
    // An already sorted array keeps the identity, ties in input order
    // (no NaN is left, so `<=` is "not out of order").
    if values.windows(2).all(|w| w[0] <= w[1]) {
        return arg;
    }
    quicksort(values, &mut arg, 0, n - 1, 2 * n.ilog2() as usize);
    arg
}

/// x86-simd-sort's `argsort_` on `arg[left..=right]`.
fn quicksort(values: &[f64], arg: &mut [usize], left: usize, right: usize, iters: usize) {
    let less = |a: usize, b: usize| values[a] < values[b];
    if iters == 0 {
        std_sort(&mut arg[left..=right], &less);
        return;
    }
    if right + 1 - left <= NETWORK_MAX {
        network(values, &mut arg[left..=right]);
        return;
    }
    let pivot = pivot(values, arg, left, right);
    let (at, smallest, biggest) = partition(values, arg, left, right + 1, pivot);
    if pivot != smallest {
        quicksort(values, arg, left, at - 1, iters - 1);
    }
    if pivot != biggest {
        quicksort(values, arg, at, right, iters - 1);
    }
}

/// The third smallest of four values spread over the range.
fn pivot(values: &[f64], arg: &[usize], left: usize, right: usize) -> f64 {
    let size = (right - left) / LANES;
    let mut four = [1, 2, 3, 4].map(|i| values[arg[left + i * size]]);
    four.sort_by(f64::total_cmp);
    four[2]
}

/// Splits `arg[left..right]` into the values below `pivot` and the rest,
/// vector by vector as the AVX2 code stores them; returns where the rest
/// begins and the range's smallest and largest values.
fn partition(
    values: &[f64],
    arg: &mut [usize],
    mut left: usize,
    mut right: usize,
    pivot: f64,
) -> (usize, f64, f64) {
    // Every value in the range is read once below, so these are the
    // smallest and largest the vector code reduces to.
    let (smallest, biggest) = arg[left..right]
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &i| {
            (lo.min(values[i]), hi.max(values[i]))
        });
    // One at a time until the rest is whole steps.
    for _ in 0..(right - left) % (UNROLL * LANES) {
        if values[arg[left]] < pivot {
            left += 1;
        } else {
            right -= 1;
            arg.swap(left, right);
        }
    }
    if left == right {
        return (left, smallest, biggest);
    }
    let load = |arg: &[usize], at: usize| -> [usize; LANES] {
        let mut v = [0; LANES];
        v.copy_from_slice(&arg[at..at + LANES]);
        v
    };
    // The first and last step are loaded first and stored last, which
    // leaves room on both sides for everything between.
    let first: Vec<[usize; LANES]> = (0..UNROLL).map(|i| load(arg, left + LANES * i)).collect();
    let last: Vec<[usize; LANES]> = (0..UNROLL)
        .map(|i| load(arg, right - LANES * (UNROLL - i)))
        .collect();
    let mut l_store = left;
    let mut r_store = right - LANES;
    left += UNROLL * LANES;
    right -= UNROLL * LANES;
    let store = |arg: &mut [usize], vector: [usize; LANES], l: &mut usize, r: &mut usize| {
        let high = store_vector(values, arg, *l, *r, vector, pivot);
        *l += LANES - high;
        // Past the front only after the last store, never read again (the
        // C code's unsigned index wraps the same way).
        *r = r.wrapping_sub(high);
    };
    while right != left {
        // Read from the side with less room stored so far.
        let from = if (r_store + LANES) - right < left - l_store {
            right -= UNROLL * LANES;
            right
        } else {
            left += UNROLL * LANES;
            left - UNROLL * LANES
        };
        let step: Vec<[usize; LANES]> = (0..UNROLL).map(|i| load(arg, from + LANES * i)).collect();
        for vector in step {
            store(arg, vector, &mut l_store, &mut r_store);
        }
    }
    for vector in first.into_iter().chain(last) {
        store(arg, vector, &mut l_store, &mut r_store);
    }
    (l_store, smallest, biggest)
}

/// One vector's store: the lanes below the pivot packed to the front in
/// lane order, the others from the back in lane order (so reversed), the
/// whole vector written at `l` and again at `r`; returns how many were not
/// below.
fn store_vector(
    values: &[f64],
    arg: &mut [usize],
    l: usize,
    r: usize,
    vector: [usize; LANES],
    pivot: f64,
) -> usize {
    let mut packed = [0; LANES];
    let (mut low, mut high) = (0, LANES);
    for i in vector {
        if values[i] >= pivot {
            high -= 1;
            packed[high] = i;
        } else {
            packed[low] = i;
            low += 1;
        }
    }
    arg[l..l + LANES].copy_from_slice(&packed);
    arg[r..r + LANES].copy_from_slice(&packed);
    LANES - high
}

/// The bitonic network over vectors of four lanes, on at most 256 indices:
/// padded to a power of two vectors with +inf, each vector sorted, then
/// merged in pairs, fours, ... A comparator swaps only values strictly out
/// of order, so where equal values end up follows from the network's
/// shape alone.
fn network(values: &[f64], arg: &mut [usize]) {
    let n = arg.len();
    let mut vectors = NETWORK_MAX / LANES;
    while vectors > 1 && n * 2 <= vectors * LANES {
        vectors /= 2;
    }
    let slots = vectors * LANES;
    let mut key: Vec<f64> = (0..slots)
        .map(|s| arg.get(s).map_or(f64::INFINITY, |&i| values[i]))
        .collect();
    let mut index: Vec<usize> = (0..slots)
        .map(|s| arg.get(s).copied().unwrap_or(usize::MAX))
        .collect();
    let mut exchange = |a: usize, b: usize| {
        if key[a] > key[b] {
            key.swap(a, b);
            index.swap(a, b);
        }
    };
    const SORT_VECTOR: [(usize, usize); 6] = [(0, 1), (2, 3), (0, 3), (1, 2), (0, 1), (2, 3)];
    const MERGE_VECTOR: [(usize, usize); 4] = [(0, 2), (1, 3), (0, 1), (2, 3)];
    for v in 0..vectors {
        for (p, q) in SORT_VECTOR {
            exchange(LANES * v + p, LANES * v + q);
        }
    }
    let mut group = 2;
    while group <= vectors {
        for base in (0..vectors).step_by(group) {
            // The group's upper half reversed against its lower half...
            for i in 0..group / 2 {
                let (a, b) = (base + i, base + group - 1 - i);
                for lane in 0..LANES {
                    exchange(LANES * a + lane, LANES * b + LANES - 1 - lane);
                }
            }
            // ... then half cleaners between vectors ...
            let mut span = group / 2;
            while span >= 2 {
                for j in (0..group).step_by(span) {
                    for i in 0..span / 2 {
                        let (a, b) = (base + j + i, base + j + i + span / 2);
                        for lane in 0..LANES {
                            exchange(LANES * a + lane, LANES * b + lane);
                        }
                    }
                }
                span /= 2;
            }
            // ... and within each vector.
            for v in base..base + group {
                for (p, q) in MERGE_VECTOR {
                    exchange(LANES * v + p, LANES * v + q);
                }
            }
        }
        group *= 2;
    }
    arg.copy_from_slice(&index[..n]);
}

/// libstdc++'s `std::sort` (introsort: median-of-three quicksort down to
/// ranges of 16, heapsort past twice log2 n levels, then one insertion
/// sort), whose moves decide where equal elements end up.
fn std_sort(a: &mut [usize], less: &impl Fn(usize, usize) -> bool) {
    let n = a.len();
    if n < 2 {
        return;
    }
    introsort(a, 2 * n.ilog2() as usize, less);
    if n > INSERTION_MAX {
        insertion_sort(&mut a[..INSERTION_MAX], less);
        for i in INSERTION_MAX..n {
            linear_insert(a, i, less);
        }
    } else {
        insertion_sort(a, less);
    }
}

fn introsort(a: &mut [usize], mut depth: usize, less: &impl Fn(usize, usize) -> bool) {
    let mut last = a.len();
    while last > INSERTION_MAX {
        if depth == 0 {
            heap_sort(&mut a[..last], less);
            return;
        }
        depth -= 1;
        let cut = partition_pivot(&mut a[..last], less);
        introsort(&mut a[cut..last], depth, less);
        last = cut;
    }
}

/// The median of the second, middle and last elements moved to the front,
/// then Hoare's partition around it.
fn partition_pivot(a: &mut [usize], less: &impl Fn(usize, usize) -> bool) -> usize {
    let n = a.len();
    let (x, y, z) = (1, n / 2, n - 1);
    let median = if less(a[x], a[y]) {
        if less(a[y], a[z]) {
            y
        } else if less(a[x], a[z]) {
            z
        } else {
            x
        }
    } else if less(a[x], a[z]) {
        x
    } else if less(a[y], a[z]) {
        z
    } else {
        y
    };
    a.swap(0, median);
    let (mut first, mut last) = (1, n);
    loop {
        while less(a[first], a[0]) {
            first += 1;
        }
        last -= 1;
        while less(a[0], a[last]) {
            last -= 1;
        }
        if first >= last {
            return first;
        }
        a.swap(first, last);
        first += 1;
    }
}

fn insertion_sort(a: &mut [usize], less: &impl Fn(usize, usize) -> bool) {
    for i in 1..a.len() {
        if less(a[i], a[0]) {
            a[..=i].rotate_right(1);
        } else {
            linear_insert(a, i, less);
        }
    }
}

/// Moves `a[i]` down past the larger elements before it; something no
/// larger lies before it.
fn linear_insert(a: &mut [usize], mut i: usize, less: &impl Fn(usize, usize) -> bool) {
    let value = a[i];
    while less(value, a[i - 1]) {
        a[i] = a[i - 1];
        i -= 1;
    }
    a[i] = value;
}

fn heap_sort(a: &mut [usize], less: &impl Fn(usize, usize) -> bool) {
    let n = a.len();
    if n >= 2 {
        let mut parent = (n - 2) / 2;
        loop {
            adjust_heap(a, parent, n, a[parent], less);
            if parent == 0 {
                break;
            }
            parent -= 1;
        }
    }
    for last in (1..n).rev() {
        let value = a[last];
        a[last] = a[0];
        adjust_heap(a, 0, last, value, less);
    }
}

/// Sifts the hole at `hole` down to a leaf along the larger children, then
/// `value` back up from there.
fn adjust_heap(
    a: &mut [usize],
    mut hole: usize,
    len: usize,
    value: usize,
    less: &impl Fn(usize, usize) -> bool,
) {
    let top = hole;
    let mut child = hole;
    while child < (len - 1) / 2 {
        child = 2 * (child + 1);
        if less(a[child], a[child - 1]) {
            child -= 1;
        }
        a[hole] = a[child];
        hole = child;
    }
    if len.is_multiple_of(2) && child == (len - 2) / 2 {
        child = 2 * (child + 1);
        a[hole] = a[child - 1];
        hole = child - 1;
    }
    while hole > top {
        let parent = (hole - 1) / 2;
        if !less(a[parent], value) {
            break;
        }
        a[hole] = a[parent];
        hole = parent;
    }
    a[hole] = value;
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// FNV-1a over the indices: a compact pin of a long order.
    fn fnv(order: &[usize]) -> u64 {
        order.iter().fold(0xcbf2_9ce4_8422_2325, |h, &i| {
            (h ^ i as u64).wrapping_mul(0x0000_0100_0000_01b3)
        })
    }

    /// Deterministic values with `distinct` levels: `(i * 7919 + 13) % distinct`.
    fn lattice(n: usize, distinct: usize) -> Vec<f64> {
        (0..n)
            .map(|i| ((i * 7919 + 13) % distinct) as f64)
            .collect()
    }

    #[test]
    fn small_arrays_order_ties_as_numpy_does() {
        // numpy 2.4.6, AVX2: np.argsort([3, 1, 3, 1, 2, 1, 3, 2, 1]); a
        // stable sort would give [1, 3, 5, 8, 4, 7, 0, 2, 6].
        let v = [3.0, 1.0, 3.0, 1.0, 2.0, 1.0, 3.0, 2.0, 1.0];
        assert_eq!(numpy_argsort(&v), [1, 3, 5, 8, 7, 4, 2, 0, 6]);
    }

    #[test]
    fn every_path_matches_numpy() {
        // (n, distinct levels, numpy's FNV-1a of np.argsort(lattice(n, distinct))):
        // the network alone (up to 256), partitioning (300 and more), and
        // the std::sort fallback (1000 values on 2 levels).
        let cases = [
            (9, 3, 0x212f_d668_b84c_6163),
            (200, 7, 0xb74b_e129_de06_28bf),
            (256, 5, 0x185b_dcbb_e304_ef3b),
            (300, 11, 0xeeea_9089_8b8e_174b),
            (1000, 6, 0x10a1_5daf_860c_4077),
            (1000, 2, 0x2d6b_5508_df55_0a81),
            (2999, 997, 0x905e_fab1_9a14_31f2),
        ];
        for (n, distinct, want) in cases {
            let got = fnv(&numpy_argsort(&lattice(n, distinct)));
            assert_eq!(got, want, "n = {n}, distinct = {distinct}");
        }
    }

    #[test]
    fn std_sort_and_its_heapsort_move_ties_as_libstdcxx_does() {
        // g++ 12: std::sort and std::partial_sort(first, last, last) (the
        // heapsort introsort falls back to) of the indices of lattice(40, 3).
        let v = lattice(40, 3);
        let less = |a: usize, b: usize| v[a] < v[b];
        let mut a: Vec<usize> = (0..v.len()).collect();
        std_sort(&mut a, &less);
        let want = [
            1, 19, 22, 16, 25, 13, 28, 10, 31, 7, 34, 4, 37, 33, 30, 36, 27, 24, 0, 39, 21, 18, 15,
            3, 12, 6, 9, 2, 20, 38, 5, 35, 8, 32, 11, 29, 14, 26, 17, 23,
        ];
        assert_eq!(a, want);
        let mut b: Vec<usize> = (0..v.len()).collect();
        heap_sort(&mut b, &less);
        let want = [
            31, 22, 16, 7, 37, 19, 28, 4, 1, 10, 34, 25, 13, 15, 33, 18, 39, 9, 21, 24, 36, 3, 12,
            27, 6, 0, 30, 32, 35, 8, 38, 20, 17, 11, 23, 5, 26, 2, 14, 29,
        ];
        assert_eq!(b, want);
    }

    #[test]
    fn sorted_input_keeps_its_order_and_nan_goes_last() {
        assert_eq!(numpy_argsort(&[1.0, 1.0, 2.0, 2.0]), [0, 1, 2, 3]);
        assert_eq!(numpy_argsort(&[f64::NAN, 2.0, 1.0]), [2, 1, 0]);
        // np.argsort([1, nan, 3, 1, nan, 0, 1] * 5)
        let v: Vec<f64> = [1.0, f64::NAN, 3.0, 1.0, f64::NAN, 0.0, 1.0].repeat(5);
        let want = [
            33, 5, 26, 19, 12, 17, 34, 31, 28, 27, 24, 21, 20, 0, 13, 10, 3, 14, 7, 6, 16, 2, 9,
            23, 30, 8, 1, 32, 29, 4, 25, 22, 11, 18, 15,
        ];
        assert_eq!(numpy_argsort(&v), want);
        assert!(numpy_argsort(&[]).is_empty());
    }

    proptest! {
        #[test]
        fn the_order_sorts_and_is_a_permutation(
            values in prop::collection::vec(0_u8..6, 0..700),
        ) {
            let values: Vec<f64> = values.into_iter().map(f64::from).collect();
            let order = numpy_argsort(&values);
            let mut seen = order.clone();
            seen.sort_unstable();
            prop_assert_eq!(seen, (0..values.len()).collect::<Vec<_>>());
            prop_assert!(order.windows(2).all(|w| values[w[0]] <= values[w[1]]));
        }
    }
}
