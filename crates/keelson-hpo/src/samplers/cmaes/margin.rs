//! How a coordinate of the search vector becomes a parameter's value, and
//! integer handling by margin (CMA-ES with Margin: Hamano, Saito, Nomura and
//! Shirakawa, "CMA-ES with Margin: Lower-Bounding Marginal Probability for
//! Mixed-Integer Black-Box Optimization", GECCO 2022).
//!
//! A parameter with a few values (an `int`, a stepped `double`, a
//! `discrete` list) splits its coordinate into cells, one per value. Once
//! the distribution is narrower than a cell, plain CMA-ES sees a flat
//! function along that coordinate and stops moving it: the parameter is
//! stuck. The margin keeps, after every update, the probability of drawing
//! another value than the mean's at least α (1/(nλ)) per coordinate:
//!
//! * when the mean's cell is an end cell (one neighbour), the mean moves
//!   toward the neighbour until that probability is α;
//! * otherwise the coordinate's spread gets a factor A (used only to pick
//!   the cell, not by the update) and the mean shifts within its cell so
//!   that each neighbour has at least α/2, the mass taken from the cells
//!   that have more in proportion to their excess.

use serde::{Deserialize, Serialize};

use super::strategy::Strategy;
use crate::normal;
use crate::space::{Param, ParamKind, Value};
use crate::{Error, Result};

/// Lattices with more values than this are searched as continuous: their
/// cells are far narrower than any spread that matters, and the unit
/// coordinates of their bounds would run out of precision.
const MAX_MARGIN_CELLS: u64 = 1 << 16;
/// Tail probabilities are kept inside (0, 1/2) by this much, so that their
/// quantiles stay finite and positive.
const TAIL_GUARD: f64 = 1e-10;

/// How one coordinate maps to a value of its parameter.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum Axis {
    /// The coordinate is the parameter's unit coordinate, decoded by the
    /// space (which rounds an `int` to its cell when the margin is off).
    Continuous,
    /// An `int` or stepped `double` under the margin: the space's unit
    /// coordinate, cut into `values` cells.
    Lattice {
        /// How many values.
        values: u64,
    },
    /// A `discrete` list, its values in increasing order so that
    /// neighbouring cells hold neighbouring numbers: rank `k` owns
    /// `[k/m, (k+1)/m)` and is list entry `by_size[k]`.
    List {
        /// List indices by increasing value.
        by_size: Vec<usize>,
    },
}

impl Axis {
    /// The axis of `param`; lattices are cut into cells only under the
    /// margin (the space's decoding rounds them otherwise).
    pub(super) fn of(param: &Param, margin: bool) -> Axis {
        match param.kind() {
            ParamKind::Discrete { values } if values.len() > 1 => {
                let mut by_size: Vec<usize> = (0..values.len()).collect();
                by_size.sort_by(|&a, &b| {
                    let key = |i: usize| values.get(i).copied().unwrap_or(0.0);
                    key(a).total_cmp(&key(b))
                });
                Axis::List { by_size }
            }
            ParamKind::Double { .. } | ParamKind::Int { .. } if margin => {
                match param.cardinality() {
                    Some(values @ 2..=MAX_MARGIN_CELLS) => Axis::Lattice { values },
                    _ => Axis::Continuous,
                }
            }
            _ => Axis::Continuous,
        }
    }

    /// Whether the axis has cells for the margin to act on.
    pub(super) fn is_discrete(&self) -> bool {
        !matches!(self, Axis::Continuous)
    }

    /// Whether the axis fits `param` (a check of a restored state).
    pub(super) fn fits(&self, param: &Param) -> bool {
        match (self, param.kind()) {
            (Axis::Continuous, ParamKind::Categorical { .. }) => false,
            (Axis::Continuous, _) => true,
            (Axis::Lattice { values }, ParamKind::Double { .. } | ParamKind::Int { .. }) => {
                param.cardinality() == Some(*values)
            }
            (Axis::List { by_size }, ParamKind::Discrete { values }) => {
                let mut seen = vec![false; values.len()];
                by_size.len() == values.len()
                    && by_size
                        .iter()
                        .all(|&i| seen.get_mut(i).is_some_and(|s| !std::mem::replace(s, true)))
            }
            _ => false,
        }
    }

    /// The unit coordinate where the search starts for `value`: inside the
    /// value's cell.
    pub(super) fn coordinate(&self, param: &Param, value: &Value) -> Result<f64> {
        match self {
            Axis::List { by_size } => {
                let ParamKind::Discrete { values } = param.kind() else {
                    return Err(Error::params(param.name(), "is not a discrete parameter"));
                };
                let rank = by_size
                    .iter()
                    .position(|&i| values.get(i).is_some_and(|v| Some(*v) == value.as_f64()))
                    .ok_or_else(|| {
                        Error::params(param.name(), format!("{value} is not in the list"))
                    })?;
                Ok((rank as f64 + 0.5) / by_size.len() as f64)
            }
            Axis::Continuous | Axis::Lattice { .. } => param.encode(value),
        }
    }

    /// The cell holding coordinate `u` (clamped into `[0, 1]`): its index
    /// among the values by size, the number of cells, and its bounds.
    fn cell(&self, param: &Param, u: f64) -> Option<Cell> {
        match self {
            Axis::Continuous => None,
            Axis::Lattice { values } => {
                let (index, lo, hi) = param.lattice_cell(u)?;
                Some(Cell {
                    index,
                    count: *values,
                    lo,
                    hi,
                })
            }
            Axis::List { by_size } => {
                let m = by_size.len() as u64;
                let index = ((u.clamp(0.0, 1.0) * m as f64) as u64).min(m.saturating_sub(1));
                Some(Cell {
                    index,
                    count: m,
                    lo: index as f64 / m as f64,
                    hi: (index + 1) as f64 / m as f64,
                })
            }
        }
    }

    /// The value at coordinate `u`; outside `[0, 1]` the nearest end.
    pub(super) fn value(&self, param: &Param, u: f64) -> Result<Value> {
        let missing = || Error::params(param.name(), format!("no value at coordinate {u}"));
        match self {
            Axis::Continuous => param.decode(if u.is_nan() { 0.5 } else { u.clamp(0.0, 1.0) }),
            Axis::Lattice { .. } => {
                let cell = self.cell(param, u).ok_or_else(missing)?;
                param.nth_value(cell.index).ok_or_else(missing)
            }
            Axis::List { by_size } => {
                let cell = self.cell(param, u).ok_or_else(missing)?;
                let entry = usize::try_from(cell.index)
                    .ok()
                    .and_then(|k| by_size.get(k))
                    .ok_or_else(missing)?;
                param.nth_value(*entry as u64).ok_or_else(missing)
            }
        }
    }
}

/// One value's cell on a coordinate.
#[derive(Clone, Copy, Debug)]
struct Cell {
    index: u64,
    count: u64,
    lo: f64,
    hi: f64,
}

/// Φ⁻¹(1 - p) for p in (0, 1/2): how many standard deviations leave a
/// tail of mass p.
fn tail_quantile(p: f64) -> f64 {
    -normal::quantile_in(p.clamp(TAIL_GUARD, 0.5 - TAIL_GUARD), -40.0, 0.0)
}

/// Applies the margin after an update: moves `es`'s mean and the encoding
/// factors `scale` (A) of the discrete coordinates so that each keeps a
/// probability of at least `alpha` of leaving its mean's cell.
pub(super) fn correct(
    axes: &[Axis],
    params: &[Param],
    es: &mut Strategy,
    scale: &mut [f64],
    alpha: f64,
) {
    let sigma = es.sigma;
    for (i, ((axis, param), a)) in axes.iter().zip(params).zip(scale.iter_mut()).enumerate() {
        let Some(&m) = es.mean.get(i) else { continue };
        let Some(cell) = axis.cell(param, m) else {
            continue;
        };
        let spread = sigma * es.variance(i).sqrt();
        let s = *a * spread;
        if !(s > 0.0 && s.is_finite()) || cell.count < 2 {
            continue;
        }
        let first = cell.index == 0;
        let last = cell.index + 1 >= cell.count;
        let new_mean = if first || last {
            // One neighbour: keep at least α beyond the one threshold.
            let (threshold, side) = if first {
                (cell.hi, -1.0)
            } else {
                (cell.lo, 1.0)
            };
            let beyond = normal::cdf(-(threshold - m).abs() / s);
            if beyond >= alpha {
                continue;
            }
            threshold + side * s * tail_quantile(alpha)
        } else {
            let below = normal::cdf((cell.lo - m) / s);
            let above = normal::cdf((m - cell.hi) / s);
            if below.min(above) >= alpha / 2.0 {
                continue;
            }
            let (below, above) = rebalance(below, above, alpha / 2.0);
            // Solve for the mean and spread whose tails beyond the two
            // thresholds are `below` and `above`.
            let (z_lo, z_hi) = (tail_quantile(below), tail_quantile(above));
            let width = (cell.hi - cell.lo) / (z_lo + z_hi);
            if spread > 0.0 {
                *a = width / spread;
            }
            cell.lo + z_lo * width
        };
        if let Some(mi) = es.mean.get_mut(i) {
            *mi = new_mean;
        }
    }
}

/// Raises the tails `below` and `above` to at least `floor`, taking the
/// added mass from the three parts (below, inside, above) in proportion to
/// what each has above `floor`, so the three still sum to 1.
fn rebalance(below: f64, above: f64, floor: f64) -> (f64, f64) {
    let inside = 1.0 - below - above;
    let (b, a) = (below.max(floor), above.max(floor));
    let excess = b + a + inside - 1.0;
    let slack = (b - floor) + (a - floor) + (inside - floor).max(0.0);
    if slack <= 0.0 {
        return (b, a);
    }
    (
        b - excess * (b - floor) / slack,
        a - excess * (a - floor) / slack,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rebalance_keeps_the_floor_and_the_total() {
        let (b, a) = rebalance(1e-6, 0.2, 0.01);
        assert!((b - 0.01).abs() < 1e-15, "{b}");
        let inside = 1.0 - 0.2 - 1e-6;
        // The 0.01 - 1e-6 added below comes from `above` and `inside` in
        // proportion to their excess over the floor.
        let taken = (0.01 - 1e-6) * (0.2 - 0.01) / ((0.2 - 0.01) + (inside - 0.01));
        assert!((a - (0.2 - taken)).abs() < 1e-15, "{a}");
    }

    #[test]
    fn tail_quantile_inverts_the_tail() {
        for p in [1e-6, 0.01, 0.1, 0.4] {
            let z = tail_quantile(p);
            assert!(
                (normal::cdf(-z) - p).abs() < 1e-12 * p.max(1e-3),
                "{p}: {z}"
            );
        }
    }
}
