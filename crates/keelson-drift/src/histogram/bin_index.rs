//! Counting unsorted values into bins without sorting them.
//!
//! With inner edges `e_1 <= ... <= e_{B-1}`, a value's bin is the number of
//! inner edges `<= x`; numpy's rule then only adds the range check
//! `e_0 <= x <= e_B`. A monotone map sends every float to one of a few thousand
//! cells. Evaluating it at each edge and at the float just below the edge
//! tells, for every cell, how many edges lie below all of its values, and
//! leaves at most one edge value that splits the cell. So a value's bin is one
//! table lookup, plus one comparison in the rare cells an edge splits, exact
//! whatever rounding the map does. With few bins, values are counted in pairs:
//! one memory increment per two values, the increments being what bounds the
//! loop.

use crate::sample::order_key;

/// Adding this rounds a value in `[0, 2^31)` to an integer held in the low
/// mantissa bits: a float-to-index conversion without `as`, whose saturation
/// costs several instructions.
const ROUND: f64 = 4_503_599_627_370_496.0;

/// Bin assignment for checked edges (at least two, NaN-free, non-decreasing).
pub(super) struct BinCounter<'a> {
    edges: &'a [f64],
    lookup: Lookup<'a>,
}

enum Lookup<'a> {
    /// Cells of equal width in value: suits equal-width and most quantile edges.
    Linear(Narrow<LinearMap>),
    /// As `Linear`, for more than 127 bins.
    LinearWide(Wide<LinearMap>),
    /// Cells of equal width in order key, roughly logarithmic in value: suits
    /// edges of skewed data.
    Key(Narrow<KeyMap>),
    /// As `Key`, for more than 127 bins.
    KeyWide(Wide<KeyMap>),
    /// Edges too dense for either table: binary search per value.
    Search(&'a [f64]),
}

impl<'a> BinCounter<'a> {
    pub(super) fn new(edges: &'a [f64]) -> Self {
        let end = edges.len().saturating_sub(1);
        let inner = edges.get(1..end).unwrap_or(&[]);
        let lookup = None
            .or_else(|| CellTable::build(inner, LinearMap::new).map(Lookup::Linear))
            .or_else(|| CellTable::build(inner, LinearMap::new).map(Lookup::LinearWide))
            .or_else(|| CellTable::build(inner, KeyMap::new).map(Lookup::Key))
            .or_else(|| CellTable::build(inner, KeyMap::new).map(Lookup::KeyWide))
            .unwrap_or(Lookup::Search(inner));
        BinCounter { edges, lookup }
    }

    /// Counts per bin and whether `values` holds a NaN, in which case the
    /// counts are left empty. With `nan_free` the caller vouches there is none
    /// and the check is skipped; with `in_range` every value is known to lie in
    /// `[e_0, e_B]` and the range check is skipped.
    pub(super) fn count(&self, values: &[f64], in_range: bool, nan_free: bool) -> (Vec<u64>, bool) {
        match &self.lookup {
            Lookup::Linear(t) => self.tally_with(values, in_range, nan_free, t),
            Lookup::LinearWide(t) => self.tally_with(values, in_range, nan_free, t),
            Lookup::Key(t) => self.tally_with(values, in_range, nan_free, t),
            Lookup::KeyWide(t) => self.tally_with(values, in_range, nan_free, t),
            Lookup::Search(inner) => self.tally_with(values, in_range, nan_free, &Search(inner)),
        }
    }

    fn tally_with(
        &self,
        values: &[f64],
        in_range: bool,
        nan_free: bool,
        lookup: &impl BinLookup,
    ) -> (Vec<u64>, bool) {
        match (in_range, nan_free) {
            (true, true) => self.tally::<false, false>(values, lookup),
            (true, false) => self.tally::<false, true>(values, lookup),
            (false, true) => self.tally::<true, false>(values, lookup),
            (false, false) => self.tally::<true, true>(values, lookup),
        }
    }

    fn tally<const RANGE: bool, const NAN: bool>(
        &self,
        values: &[f64],
        lookup: &impl BinLookup,
    ) -> (Vec<u64>, bool) {
        let bins = self.edges.len().saturating_sub(1);
        let scanned = if let Some(counts) = Pairs::new(bins) {
            self.scan::<RANGE, NAN>(values, lookup, counts, bins)
        } else if let Some(counts) = fixed_counts(bins) {
            self.scan::<RANGE, NAN>(values, lookup, counts, bins)
        } else {
            self.scan::<RANGE, NAN>(values, lookup, vec![0u64; bins], bins)
        };
        let Some((mut counts, (below, above))) = scanned else {
            return (Vec::new(), true);
        };
        if RANGE {
            // A value below e_0 has no inner edge under it and lands in bin 0;
            // one above e_B lands in the last bin: take both back out.
            if let Some(c) = counts.first_mut() {
                *c -= below;
            }
            if let Some(c) = counts.last_mut() {
                *c -= above;
            }
        }
        (counts, false)
    }

    /// Adds every value to its bin; returns the counts and the numbers of
    /// values below e_0 and above e_B, or `None` on a NaN.
    fn scan<const RANGE: bool, const NAN: bool>(
        &self,
        values: &[f64],
        lookup: &impl BinLookup,
        mut counts: impl Counts,
        bins: usize,
    ) -> Option<(Vec<u64>, (u64, u64))> {
        let first = self.edges.first().copied().unwrap_or(f64::NEG_INFINITY);
        let last = self.edges.last().copied().unwrap_or(f64::INFINITY);
        let (mut below, mut above, mut nan) = (0usize, 0usize, 0usize);
        // Cells are computed a block at a time, so that the map from value to
        // cell runs as vector arithmetic apart from the counting.
        let mut cells = [0usize; BLOCK];
        for block in values.chunks(BLOCK) {
            lookup.cells(block, &mut cells);
            let xs = block.chunks_exact(2);
            let odd = xs.remainder().first().copied();
            for (c, x) in cells.chunks_exact(2).zip(xs) {
                if let ([c0, c1], [x0, x1]) = (c, x) {
                    counts.bump_pair(lookup.bin(*c0, *x0), lookup.bin(*c1, *x1));
                }
            }
            if let (Some(x), Some(&c)) = (odd, cells.get(block.len() - 1)) {
                counts.bump(lookup.bin(c, x));
            }
            if RANGE {
                below += block.iter().filter(|&&x| x < first).count();
                above += block.iter().filter(|&&x| x > last).count();
            }
            if NAN {
                nan += block.iter().filter(|x| x.is_nan()).count();
            }
        }
        (nan == 0).then(|| (counts.totals(bins), (below as u64, above as u64)))
    }
}

/// Values whose cells are computed together.
const BLOCK: usize = 64;

/// From values to bins in two steps: a cell for each value of a block, then
/// each value's bin from its cell.
trait BinLookup {
    fn cells(&self, xs: &[f64], out: &mut [usize]);
    fn bin(&self, cell: usize, x: f64) -> usize;
}

/// Edges too dense for a cell table: the cell is the bin.
struct Search<'a>(&'a [f64]);

impl BinLookup for Search<'_> {
    fn cells(&self, xs: &[f64], out: &mut [usize]) {
        for (o, &x) in out.iter_mut().zip(xs) {
            *o = self.0.partition_point(|&e| e <= x);
        }
    }

    #[inline]
    fn bin(&self, cell: usize, _: f64) -> usize {
        cell
    }
}

/// Counters per bin.
trait Counts {
    fn bump(&mut self, bin: usize);
    fn bump_pair(&mut self, a: usize, b: usize) {
        self.bump(a);
        self.bump(b);
    }
    fn totals(self, bins: usize) -> Vec<u64>;
}

/// Counts of pairs of bins, for few bins: one memory increment per two
/// values.
struct Pairs {
    shift: u32,
    pairs: Box<[u64; PAIR_CELLS]>,
    singles: [u64; PAIR_SIDE],
}

/// Bins at most, for pair counts: their table stays in the first-level cache.
const PAIR_SIDE: usize = 32;
const PAIR_CELLS: usize = PAIR_SIDE * PAIR_SIDE;

impl Pairs {
    fn new(bins: usize) -> Option<Self> {
        if bins > PAIR_SIDE {
            return None;
        }
        let pairs = vec![0u64; PAIR_CELLS].into_boxed_slice().try_into().ok()?;
        Some(Pairs {
            shift: bins.next_power_of_two().trailing_zeros(),
            pairs,
            singles: [0; PAIR_SIDE],
        })
    }
}

impl Counts for Pairs {
    #[inline]
    fn bump(&mut self, bin: usize) {
        if let Some(c) = self.singles.get_mut(bin) {
            *c += 1;
        }
    }

    #[inline]
    fn bump_pair(&mut self, a: usize, b: usize) {
        if let Some(c) = self
            .pairs
            .get_mut(((a << self.shift) | b) & (PAIR_CELLS - 1))
        {
            *c += 1;
        }
    }

    fn totals(self, bins: usize) -> Vec<u64> {
        let mut totals: Vec<u64> = self.singles.iter().take(bins).copied().collect();
        let side = 1 << self.shift;
        for (a, row) in self.pairs.chunks_exact(side).take(bins).enumerate() {
            for (b, &n) in row.iter().take(bins).enumerate() {
                if let Some(t) = totals.get_mut(a) {
                    *t += n;
                }
                if let Some(t) = totals.get_mut(b) {
                    *t += n;
                }
            }
        }
        totals
    }
}

/// Most bin counts fit a fixed, power-of-two table, whose masked indices
/// need no bounds checks in the hot loop.
const FIXED_BINS: usize = 1 << 12;

fn fixed_counts(bins: usize) -> Option<Box<[u64; FIXED_BINS]>> {
    if bins > FIXED_BINS {
        return None;
    }
    vec![0u64; FIXED_BINS].into_boxed_slice().try_into().ok()
}

impl Counts for Box<[u64; FIXED_BINS]> {
    #[inline]
    fn bump(&mut self, bin: usize) {
        if let Some(c) = self.get_mut(bin & (FIXED_BINS - 1)) {
            *c += 1;
        }
    }

    fn totals(self, bins: usize) -> Vec<u64> {
        self.iter().take(bins).copied().collect()
    }
}

impl Counts for Vec<u64> {
    #[inline]
    fn bump(&mut self, bin: usize) {
        if let Some(c) = self.get_mut(bin) {
            *c += 1;
        }
    }

    fn totals(mut self, bins: usize) -> Vec<u64> {
        self.truncate(bins);
        self
    }
}

/// A map from floats onto cells `0..=top`, monotone in `x` with `-0.0` and
/// `0.0` mapped alike. Finite edges go to cells `1..top`, so that infinite
/// edges (cells 0 and `top`) never share a cell with a finite one.
trait CellMap: Sized {
    /// A map spreading the finite edges between `lo` and `hi` over the cells.
    fn new(lo: f64, hi: f64, top: usize) -> Self;
    fn cell(&self, x: f64) -> usize;
}

struct LinearMap {
    origin: f64,
    scale: f64,
    top: f64,
}

impl CellMap for LinearMap {
    fn new(lo: f64, hi: f64, top: usize) -> Self {
        let top = top as f64;
        // Halved so that a span wider than f64::MAX does not overflow.
        let scale = ((top - 2.0) / 2.0) / (hi / 2.0 - lo / 2.0);
        let scale = if scale.is_finite() && scale > 0.0 {
            scale
        } else {
            1.0
        };
        let origin = lo - 1.0 / scale;
        let origin = if origin.is_finite() { origin } else { lo };
        LinearMap { origin, scale, top }
    }

    /// Every step rounds monotonically, so the map is monotone.
    #[inline]
    fn cell(&self, x: f64) -> usize {
        let t = (x - self.origin) * self.scale;
        let t = if t > 0.0 { t } else { 0.0 };
        let t = if t < self.top { t } else { self.top };
        ((t + ROUND).to_bits() & 0xFFFF_FFFF) as usize
    }
}

struct KeyMap {
    origin: u64,
    shift: u32,
    top: u64,
}

impl CellMap for KeyMap {
    fn new(lo: f64, hi: f64, top: usize) -> Self {
        let (lo, hi) = (order_key(lo + 0.0), order_key(hi + 0.0));
        let span = hi.saturating_sub(lo);
        let room = (top as u64).saturating_sub(2).max(1);
        let mut shift = 0;
        while shift < 63 && (span >> shift) > room {
            shift += 1;
        }
        KeyMap {
            origin: lo.saturating_sub(1 << shift),
            shift,
            top: top as u64,
        }
    }

    /// Adding `0.0` turns `-0.0` into `0.0`, whose keys differ.
    #[inline]
    fn cell(&self, x: f64) -> usize {
        let k = order_key(x + 0.0).saturating_sub(self.origin) >> self.shift;
        k.min(self.top) as usize
    }
}

/// A cell that one edge value (with its multiplicity) splits: its values
/// below `threshold` are in bin `base`, the others in `base + step`.
#[derive(Debug, Clone, Copy)]
struct Split {
    threshold: f64,
    base: usize,
    step: usize,
}

/// Cells per inner edge: with this many, values rarely fall in a split cell,
/// so the branch to the split's comparison is rarely taken and well predicted.
const CELLS_PER_EDGE: usize = 256;

/// A cell's slot: the bin of all its values, or, with the top bit set, the
/// index of the split that divides it. Narrow slots keep the table in the
/// first-level cache with more cells; wide ones serve many bins.
trait Slot: Copy + Default + TryFrom<usize> + Into<usize> {
    const SPLIT: usize;
}

impl Slot for u8 {
    const SPLIT: usize = 1 << 7;
}

impl Slot for u16 {
    const SPLIT: usize = 1 << 15;
}

/// A table of `CELLS` cells, a power of two, so that the hot loop indexes it
/// with a mask instead of a bounds check.
struct CellTable<M, S, const CELLS: usize> {
    map: M,
    slots: Box<[S; CELLS]>,
    splits: Vec<Split>,
}

/// Up to 127 bins, in 32 KiB.
type Narrow<M> = CellTable<M, u8, { 1 << 14 }>;
/// Up to 32767 bins, in 16 KiB.
type Wide<M> = CellTable<M, u16, { 1 << 13 }>;

impl<M: CellMap, S: Slot, const CELLS: usize> CellTable<M, S, CELLS> {
    /// `None` when two different edge values split one cell (edges much denser
    /// somewhere than the cells), or the bins or splits overflow a slot.
    fn build(inner: &[f64], new_map: impl Fn(f64, f64, usize) -> M) -> Option<Self> {
        if inner.len() >= S::SPLIT {
            return None;
        }
        let size = inner
            .len()
            .saturating_mul(CELLS_PER_EDGE)
            .next_power_of_two()
            .clamp(64, CELLS);
        let lo = inner.iter().copied().find(|e| e.is_finite());
        let hi = inner.iter().rev().copied().find(|e| e.is_finite());
        let map = match (lo, hi) {
            (Some(lo), Some(hi)) if hi > lo => new_map(lo, hi, size - 1),
            (Some(v), _) => new_map(v - 1.0, v + 1.0, size - 1),
            _ => new_map(-1.0, 1.0, size - 1),
        };
        // Per split cell, its edge value and that value's multiplicity.
        let mut split_at: Vec<(usize, f64, u32)> = Vec::new();
        // below_ends[c + 1] counts edges whose float just below lands in cell c:
        // every value of a later cell is at least that edge.
        let mut below_ends = vec![0usize; size + 1];
        for &edge in inner {
            let below = map.cell(edge.next_down());
            let at = map.cell(edge);
            if below == at {
                match split_at.last_mut() {
                    Some((cell, value, step)) if *cell == at => {
                        if *value != edge {
                            return None;
                        }
                        *step += 1;
                    }
                    _ => split_at.push((at, edge, 1)),
                }
            }
            *below_ends.get_mut(below + 1)? += 1;
        }
        let mut slots: Box<[S; CELLS]> = vec![S::default(); CELLS]
            .into_boxed_slice()
            .try_into()
            .ok()?;
        let mut splits = Vec::with_capacity(split_at.len());
        let mut pending = split_at.iter().peekable();
        let mut base = 0;
        for (cell, (slot, &ending)) in slots.iter_mut().zip(&below_ends).enumerate() {
            base += ending;
            *slot = match pending.next_if(|(at, _, _)| *at == cell) {
                Some(&(_, threshold, step)) => {
                    splits.push(Split {
                        threshold,
                        base,
                        step: step as usize,
                    });
                    S::try_from(S::SPLIT | (splits.len() - 1)).ok()?
                }
                None => S::try_from(base).ok()?,
            };
        }
        Some(CellTable { map, slots, splits })
    }
}

impl<M: CellMap, S: Slot, const CELLS: usize> BinLookup for CellTable<M, S, CELLS> {
    #[inline]
    fn cells(&self, xs: &[f64], out: &mut [usize]) {
        for (o, &x) in out.iter_mut().zip(xs) {
            *o = self.map.cell(x) & (CELLS - 1);
        }
    }

    #[inline]
    fn bin(&self, cell: usize, x: f64) -> usize {
        let slot = self.slots.get(cell & (CELLS - 1)).map_or(0, |&s| s.into());
        if slot & S::SPLIT == 0 {
            return slot;
        }
        match self.splits.get(slot & !S::SPLIT) {
            Some(s) => s.base + s.step * usize::from(x >= s.threshold),
            None => 0,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn reference_bin(inner: &[f64], x: f64) -> usize {
        inner.iter().filter(|&&e| e <= x).count()
    }

    fn probes(inner: &[f64]) -> Vec<f64> {
        let mut xs = vec![
            f64::NEG_INFINITY,
            -f64::MAX,
            -1.0,
            -0.0,
            0.0,
            3.0,
            1e308,
            f64::INFINITY,
        ];
        for &e in inner {
            xs.extend([e.next_down(), e, e.next_up(), -e]);
        }
        xs
    }

    fn check<M: CellMap>(inner: &[f64], new_map: impl Fn(f64, f64, usize) -> M + Copy) {
        let narrow: Narrow<M> =
            CellTable::build(inner, new_map).unwrap_or_else(|| panic!("no table for {inner:?}"));
        expect_bins(&narrow, inner);
        let wide: Wide<M> =
            CellTable::build(inner, new_map).unwrap_or_else(|| panic!("no table for {inner:?}"));
        expect_bins(&wide, inner);
    }

    fn expect_bins(table: &impl BinLookup, inner: &[f64]) {
        let xs = probes(inner);
        let mut cells = vec![0; xs.len()];
        table.cells(&xs, &mut cells);
        for (x, cell) in xs.into_iter().zip(cells) {
            assert_eq!(table.bin(cell, x), reference_bin(inner, x), "x = {x:e}");
        }
    }

    #[test]
    fn linear_cells_match_edge_count_around_edges() {
        check(&[-2.5, -0.0, 0.5, 1.0, 1.5, 7.0, 7.0], LinearMap::new);
        check(
            &[f64::NEG_INFINITY, -1.0, 0.0, 2.0, f64::INFINITY],
            LinearMap::new,
        );
        check(&[-f64::MAX, f64::MAX], LinearMap::new);
        check(&[5e-324], LinearMap::new);
    }

    #[test]
    fn key_cells_handle_skewed_edges() {
        let skewed = [1.2, 1.6, 2.0, 2.8, 4.0, 6.25, 11.1, 25.0, 100.0, 1e6];
        assert!(Narrow::build(&skewed, LinearMap::new).is_none());
        assert!(Wide::build(&skewed, LinearMap::new).is_none());
        check(&skewed, KeyMap::new);
        check(&[-1e-10, -0.0, 1e-10, 1e300], KeyMap::new);
        check(&[f64::NEG_INFINITY, 0.0, f64::INFINITY], KeyMap::new);
    }

    #[test]
    fn many_bins_take_wide_slots() {
        let edges: Vec<f64> = (0..=300).map(|i| f64::from(i) * 0.5).collect();
        let counter = BinCounter::new(&edges);
        assert!(matches!(counter.lookup, Lookup::LinearWide(_)));
        let values: Vec<f64> = (0..1000).map(|i| f64::from(i) * 0.151).collect();
        let (counts, nan) = counter.count(&values, false, false);
        assert!(!nan);
        for (bin, &n) in counts.iter().enumerate() {
            let (lo, hi) = (edges[bin], edges[bin + 1]);
            let last = bin + 2 == edges.len();
            let expected = values
                .iter()
                .filter(|&&x| lo <= x && (x < hi || (last && x == hi)))
                .count();
            assert_eq!(n, expected as u64, "bin {bin}");
        }
    }

    #[test]
    fn dense_edges_fall_back_to_search() {
        let edges = [
            0.0,
            1.0,
            1.0 + f64::EPSILON,
            1.0 + 2.0 * f64::EPSILON,
            1e9,
            2e9,
        ];
        let counter = BinCounter::new(&edges);
        assert!(matches!(counter.lookup, Lookup::Search(_)));
        let values = [1.0, 1.0 + f64::EPSILON, 5.0, 2e9, 3e9, -1.0];
        assert_eq!(
            counter.count(&values, false, false),
            (vec![0, 1, 1, 1, 1], false)
        );
        assert!(counter.count(&[1.0, f64::NAN], false, false).1);
    }
}
