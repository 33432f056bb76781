//! Counting unsorted values into bins without sorting them.
//!
//! With inner edges `e_1 <= ... <= e_{B-1}`, a value's bin is the number of
//! inner edges `<= x`; numpy's rule then only adds the range check
//! `e_0 <= x <= e_B`. A monotone map sends every float to one of a few thousand
//! cells. Evaluating it at each edge and at the float just below the edge
//! tells, for every cell, how many edges lie below all of its values, and
//! leaves at most one edge value that splits the cell. So a value's bin is one
//! table lookup and one comparison, exact whatever rounding the map does.

use crate::sample::order_key;

/// Adding this rounds a value in `[0, 2^31)` to an integer held in the low
/// mantissa bits: a float-to-index conversion without `as`, whose saturation
/// costs several instructions.
const ROUND: f64 = 4_503_599_627_370_496.0;

/// Values per group of independent counters, so that runs of equal bins do not
/// serialise on one memory increment.
const LANES: usize = 4;

/// Bin assignment for checked edges (at least two, NaN-free, non-decreasing).
pub(super) struct BinCounter<'a> {
    edges: &'a [f64],
    lookup: Lookup<'a>,
}

enum Lookup<'a> {
    /// Cells of equal width in value: suits equal-width and most quantile edges.
    Linear(CellTable<LinearMap>),
    /// Cells of equal width in order key, roughly logarithmic in value: suits
    /// edges of skewed data.
    Key(CellTable<KeyMap>),
    /// Edges too dense for either table: binary search per value.
    Search(&'a [f64]),
}

impl<'a> BinCounter<'a> {
    pub(super) fn new(edges: &'a [f64]) -> Self {
        let end = edges.len().saturating_sub(1);
        let inner = edges.get(1..end).unwrap_or(&[]);
        let lookup = if let Some(t) = CellTable::build(inner, LinearMap::new) {
            Lookup::Linear(t)
        } else if let Some(t) = CellTable::build(inner, KeyMap::new) {
            Lookup::Key(t)
        } else {
            Lookup::Search(inner)
        };
        BinCounter { edges, lookup }
    }

    /// Counts per bin and whether `values` holds a NaN, in which case the
    /// counts are left empty. With `nan_free` the caller vouches there is none
    /// and the check is skipped; with `in_range` every value is known to lie in
    /// `[e_0, e_B]` and the range check is skipped.
    pub(super) fn count(&self, values: &[f64], in_range: bool, nan_free: bool) -> (Vec<u64>, bool) {
        match &self.lookup {
            Lookup::Linear(t) => self.tally_with(values, in_range, nan_free, |x| t.bin(x)),
            Lookup::Key(t) => self.tally_with(values, in_range, nan_free, |x| t.bin(x)),
            Lookup::Search(inner) => self.tally_with(values, in_range, nan_free, |x| {
                inner.partition_point(|&e| e <= x)
            }),
        }
    }

    fn tally_with(
        &self,
        values: &[f64],
        in_range: bool,
        nan_free: bool,
        bin_of: impl Fn(f64) -> usize,
    ) -> (Vec<u64>, bool) {
        match (in_range, nan_free) {
            (true, true) => self.tally::<false, false>(values, bin_of),
            (true, false) => self.tally::<false, true>(values, bin_of),
            (false, true) => self.tally::<true, false>(values, bin_of),
            (false, false) => self.tally::<true, true>(values, bin_of),
        }
    }

    fn tally<const RANGE: bool, const NAN: bool>(
        &self,
        values: &[f64],
        bin_of: impl Fn(f64) -> usize,
    ) -> (Vec<u64>, bool) {
        let bins = self.edges.len().saturating_sub(1);
        let per_lane = match FixedLanes::new().filter(|_| bins <= FIXED_BINS) {
            Some(mut lanes) => {
                let tally = self.scan::<RANGE, NAN>(values, &bin_of, &mut lanes);
                tally.map(|outside| (lanes.totals(bins), outside))
            }
            None => {
                let mut lanes = vec![[0u64; LANES]; bins];
                let tally = self.scan::<RANGE, NAN>(values, &bin_of, &mut lanes);
                tally.map(|outside| (lanes.totals(bins), outside))
            }
        };
        let Some((mut counts, (below, above))) = per_lane else {
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

    /// Adds every value to its bin; returns the numbers of values below e_0
    /// and above e_B, or `None` on a NaN.
    fn scan<const RANGE: bool, const NAN: bool>(
        &self,
        values: &[f64],
        bin_of: &impl Fn(f64) -> usize,
        lanes: &mut impl Lanes,
    ) -> Option<(u64, u64)> {
        let first = self.edges.first().copied().unwrap_or(f64::NEG_INFINITY);
        let last = self.edges.last().copied().unwrap_or(f64::INFINITY);
        // Register counters: only the memory increments need lanes.
        let (mut below, mut above, mut nan) = (0u64, 0u64, 0u64);
        let mut add = |lane: usize, x: f64| {
            lanes.bump(bin_of(x), lane);
            if RANGE {
                below += u64::from(x < first);
                above += u64::from(x > last);
            }
            if NAN {
                nan += u64::from(x.is_nan());
            }
        };
        let quads = values.chunks_exact(LANES);
        let rest = quads.remainder();
        for quad in quads {
            for (lane, &x) in quad.iter().enumerate() {
                add(lane, x);
            }
        }
        for &x in rest {
            add(0, x);
        }
        (nan == 0).then_some((below, above))
    }
}

/// Most bin counts fit a fixed, power-of-two table, whose masked indices
/// need no bounds checks in the hot loop.
const FIXED_BINS: usize = 1 << 12;

trait Lanes {
    fn bump(&mut self, bin: usize, lane: usize);
    fn totals(&self, bins: usize) -> Vec<u64>;
}

struct FixedLanes(Box<[[u64; LANES]; FIXED_BINS]>);

impl FixedLanes {
    fn new() -> Option<Self> {
        let zeros = vec![[0u64; LANES]; FIXED_BINS].into_boxed_slice();
        zeros.try_into().ok().map(FixedLanes)
    }
}

impl Lanes for FixedLanes {
    #[inline]
    fn bump(&mut self, bin: usize, lane: usize) {
        let slot = self.0.get_mut(bin & (FIXED_BINS - 1));
        if let Some(c) = slot.and_then(|s| s.get_mut(lane & (LANES - 1))) {
            *c += 1;
        }
    }

    fn totals(&self, bins: usize) -> Vec<u64> {
        self.0.iter().take(bins).map(|l| l.iter().sum()).collect()
    }
}

impl Lanes for Vec<[u64; LANES]> {
    #[inline]
    fn bump(&mut self, bin: usize, lane: usize) {
        if let Some(c) = self.get_mut(bin).and_then(|s| s.get_mut(lane)) {
            *c += 1;
        }
    }

    fn totals(&self, bins: usize) -> Vec<u64> {
        self.iter().take(bins).map(|l| l.iter().sum()).collect()
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

/// Per cell: edges below every value of the cell, plus the one edge value
/// (with its multiplicity) that may split it.
#[derive(Debug, Clone, Copy)]
struct Cell {
    threshold: f64,
    base: u32,
    step: u32,
}

/// Cells are at most this many; a fixed, power-of-two table lets the hot loop
/// index it with a mask instead of a bounds check.
const MAX_CELLS: usize = 1 << 12;

struct CellTable<M> {
    map: M,
    cells: Box<[Cell; MAX_CELLS]>,
}

impl<M: CellMap> CellTable<M> {
    /// `None` when two different edge values split one cell (edges much denser
    /// somewhere than the cells) or there are too many edges.
    fn build(inner: &[f64], new_map: impl Fn(f64, f64, usize) -> M) -> Option<Self> {
        if inner.len() > MAX_CELLS {
            return None;
        }
        let size = (inner.len() * 16).next_power_of_two().clamp(64, MAX_CELLS);
        let lo = inner.iter().copied().find(|e| e.is_finite());
        let hi = inner.iter().rev().copied().find(|e| e.is_finite());
        let map = match (lo, hi) {
            (Some(lo), Some(hi)) if hi > lo => new_map(lo, hi, size - 1),
            (Some(v), _) => new_map(v - 1.0, v + 1.0, size - 1),
            _ => new_map(-1.0, 1.0, size - 1),
        };
        let empty = Cell {
            threshold: f64::INFINITY,
            base: 0,
            step: 0,
        };
        let mut cells: Box<[Cell; MAX_CELLS]> =
            vec![empty; MAX_CELLS].into_boxed_slice().try_into().ok()?;
        // below_ends[c + 1] counts edges whose float just below lands in cell c:
        // every value of a later cell is at least that edge.
        let mut below_ends = vec![0u32; size + 1];
        for &edge in inner {
            let below = map.cell(edge.next_down());
            let at = map.cell(edge);
            if below == at {
                let cell = cells.get_mut(at)?;
                if cell.step == 0 {
                    cell.threshold = edge;
                    cell.step = 1;
                } else if cell.threshold == edge {
                    cell.step += 1;
                } else {
                    return None;
                }
            }
            *below_ends.get_mut(below + 1)? += 1;
        }
        let mut base = 0u32;
        for (cell, &ending) in cells.iter_mut().zip(&below_ends) {
            base += ending;
            cell.base = base;
        }
        Some(CellTable { map, cells })
    }

    #[inline]
    fn bin(&self, x: f64) -> usize {
        match self.cells.get(self.map.cell(x) & (MAX_CELLS - 1)) {
            Some(c) => c.base as usize + c.step as usize * usize::from(x >= c.threshold),
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

    fn check<M: CellMap>(inner: &[f64], new_map: impl Fn(f64, f64, usize) -> M) {
        let table =
            CellTable::build(inner, new_map).unwrap_or_else(|| panic!("no table for {inner:?}"));
        for x in probes(inner) {
            assert_eq!(table.bin(x), reference_bin(inner, x), "x = {x:e}");
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
        assert!(CellTable::build(&skewed, LinearMap::new).is_none());
        check(&skewed, KeyMap::new);
        check(&[-1e-10, -0.0, 1e-10, 1e300], KeyMap::new);
        check(&[f64::NEG_INFINITY, 0.0, f64::INFINITY], KeyMap::new);
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
