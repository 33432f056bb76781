//! From the space's unit cube to the Gaussian process's inputs, and the
//! values the acquisition search may try along each input.
//!
//! A point is kept as a full unit point `u` (one coordinate per parameter,
//! every one valid, as [`SearchSpace::decode`] takes it) and turned into the
//! model's input `x` by [`Encoding::features`]:
//!
//! * a `double` without a step: its unit coordinate (the prior's CDF, so
//!   log parameters are in log space);
//! * an `int`, a stepped `double` or a `discrete` list (an *ordinal*): the
//!   unit coordinate of its value, so only lattice points are ever inputs;
//! * a `categorical`: the index of its choice, compared by equality in the
//!   kernel;
//! * an inactive parameter (its condition does not hold): a fixed
//!   coordinate, `0.5` for numbers and `-1` (no choice) for a categorical,
//!   so that all points where it is inactive agree on it. Whether it is
//!   active is told apart by its parent's own input.

use crate::space::{Param, ParamKind, Params, SearchSpace, Value};
use crate::{Error, Result};

/// Ordinals with at most this many values are searched by trying each;
/// larger ones are relaxed to a continuous coordinate for L-BFGS, rounded to
/// the lattice, then searched around the rounded value.
const EXHAUSTIVE_MAX: u64 = 16;
/// The input of an inactive numeric parameter.
const INACTIVE_NUMERIC: f64 = 0.5;
/// The input of an inactive categorical parameter.
const INACTIVE_CATEGORICAL: f64 = -1.0;

/// How the search moves along one input.
#[derive(Clone, Debug, PartialEq)]
enum Kind {
    /// A continuous `double`.
    Continuous,
    /// An ordinal: `coords` holds every value's unit coordinate in index
    /// order when there are at most [`EXHAUSTIVE_MAX`], else it is `None`
    /// and the input is relaxed to continuous for L-BFGS.
    Ordinal {
        count: u64,
        coords: Option<Vec<f64>>,
    },
    /// A categorical with `n` choices.
    Categorical { n: usize },
}

#[derive(Clone, Debug)]
struct Dim {
    kind: Kind,
    /// The parent's input and, per parent choice, whether it activates this one.
    parent: Option<(usize, Vec<bool>)>,
}

/// A space's parameters as the Gaussian process sees them.
#[derive(Clone, Debug)]
pub(super) struct Encoding<'s> {
    space: &'s SearchSpace,
    dims: Vec<Dim>,
}

impl<'s> Encoding<'s> {
    /// The encoding of `space`.
    pub fn new(space: &'s SearchSpace) -> Result<Self> {
        let params = space.params();
        let mut dims = Vec::with_capacity(params.len());
        for param in params {
            let kind = match (param.kind(), param.cardinality()) {
                (ParamKind::Categorical { choices }, _) => Kind::Categorical { n: choices.len() },
                (_, None) => Kind::Continuous,
                (_, Some(count)) => {
                    let coords = if count <= EXHAUSTIVE_MAX {
                        let mut coords = Vec::with_capacity(count as usize);
                        for k in 0..count {
                            coords.push(coordinate(param, k)?);
                        }
                        Some(coords)
                    } else {
                        None
                    };
                    Kind::Ordinal { count, coords }
                }
            };
            let parent = match param.condition() {
                None => None,
                Some(c) => {
                    let p = params
                        .iter()
                        .position(|q| q.name() == c.parent)
                        .ok_or_else(|| Error::space(param.name(), "unknown condition parent"))?;
                    let allowed = match params.get(p).map(|q| q.kind()) {
                        Some(ParamKind::Categorical { choices }) => {
                            choices.iter().map(|ch| c.values.contains(ch)).collect()
                        }
                        _ => Vec::new(),
                    };
                    Some((p, allowed))
                }
            };
            dims.push(Dim { kind, parent });
        }
        Ok(Encoding { space, dims })
    }

    /// The number of inputs (the space's dimension).
    pub fn len(&self) -> usize {
        self.dims.len()
    }

    /// Which inputs are categorical, for the kernel.
    pub fn categorical(&self) -> Vec<bool> {
        self.dims
            .iter()
            .map(|d| matches!(d.kind, Kind::Categorical { .. }))
            .collect()
    }

    /// Whether input `i` is one that L-BFGS moves (a continuous `double`, or
    /// an ordinal with too many values to try each).
    pub fn relaxed(&self, i: usize) -> bool {
        matches!(
            self.dims.get(i).map(|d| &d.kind),
            Some(Kind::Continuous | Kind::Ordinal { coords: None, .. })
        )
    }

    /// Whether input `i` is one the local search tries values of.
    pub fn discrete(&self, i: usize) -> bool {
        !matches!(
            self.dims.get(i).map(|d| &d.kind),
            Some(Kind::Continuous) | None
        )
    }

    /// Which parameters are active at `u`.
    pub fn active(&self, u: &[f64]) -> Vec<bool> {
        let mut active = vec![true; self.dims.len()];
        for &i in self.space.order() {
            let Some(dim) = self.dims.get(i) else {
                continue;
            };
            if let Some((p, allowed)) = &dim.parent {
                let parent_active = active.get(*p).copied().unwrap_or(false);
                let choice = choice(u.get(*p).copied().unwrap_or(0.0), allowed.len());
                let on = parent_active && allowed.get(choice).copied().unwrap_or(false);
                if let Some(a) = active.get_mut(i) {
                    *a = on;
                }
            }
        }
        active
    }

    /// The model's input at unit point `u`.
    pub fn features(&self, u: &[f64]) -> Vec<f64> {
        let active = self.active(u);
        self.dims
            .iter()
            .zip(u)
            .zip(active)
            .map(|((dim, &ui), on)| match (&dim.kind, on) {
                (Kind::Categorical { .. }, false) => INACTIVE_CATEGORICAL,
                (_, false) => INACTIVE_NUMERIC,
                (Kind::Categorical { n }, true) => choice(ui, *n) as f64,
                (_, true) => ui,
            })
            .collect()
    }

    /// The unit point of a trial's assignment; inactive parameters get the
    /// middle of the cube (any coordinate would do).
    pub fn unit(&self, params: &Params) -> Result<Vec<f64>> {
        Ok(self
            .space
            .encode(params)?
            .into_iter()
            .map(|u| u.unwrap_or(0.5))
            .collect())
    }

    /// `u[i]` moved onto the nearest value of its parameter: a lattice
    /// point's coordinate for an ordinal, a choice's slot centre for a
    /// categorical, unchanged for a continuous `double`.
    pub fn snap(&self, i: usize, ui: f64) -> Result<f64> {
        let ui = ui.clamp(0.0, 1.0);
        match self.dims.get(i).map(|d| &d.kind) {
            Some(Kind::Categorical { n }) => Ok(slot(choice(ui, *n), *n)),
            Some(Kind::Ordinal { .. }) => {
                let param = self.param(i)?;
                param.encode(&param.decode(ui)?)
            }
            Some(Kind::Continuous) | None => Ok(ui),
        }
    }

    /// Every input of `u` snapped with [`Encoding::snap`].
    pub fn snap_all(&self, u: &mut [f64]) -> Result<()> {
        for (i, ui) in u.iter_mut().enumerate() {
            if self.discrete(i) {
                *ui = self.snap(i, *ui)?;
            }
        }
        Ok(())
    }

    /// The coordinates the local search tries for input `i` from `ui` (a
    /// snapped coordinate): every other value of a categorical or a small
    /// ordinal; for a large ordinal the values 1, 2, 4, ... steps away on
    /// either side.
    pub fn neighbours(&self, i: usize, ui: f64) -> Result<Vec<f64>> {
        Ok(match self.dims.get(i).map(|d| &d.kind) {
            Some(Kind::Categorical { n }) => {
                let current = choice(ui, *n);
                (0..*n)
                    .filter(|&k| k != current)
                    .map(|k| slot(k, *n))
                    .collect()
            }
            Some(Kind::Ordinal {
                coords: Some(coords),
                ..
            }) => coords.iter().copied().filter(|&c| c != ui).collect(),
            Some(Kind::Ordinal {
                count,
                coords: None,
            }) => {
                let param = self.param(i)?;
                let k = lattice_index(param.kind(), &param.decode(ui)?);
                let mut out = Vec::new();
                let mut step = 1_u64;
                while step < *count {
                    for j in [k.checked_sub(step), k.checked_add(step)]
                        .into_iter()
                        .flatten()
                    {
                        if j < *count {
                            out.push(coordinate(param, j)?);
                        }
                    }
                    step = step.saturating_mul(2);
                }
                out
            }
            Some(Kind::Continuous) | None => Vec::new(),
        })
    }

    fn param(&self, i: usize) -> Result<&'s Param> {
        self.space
            .params()
            .get(i)
            .ok_or_else(|| Error::params("parameters", format!("no parameter {i}")))
    }
}

/// The unit coordinate of `param`'s `k`-th value.
fn coordinate(param: &Param, k: u64) -> Result<f64> {
    let value = param
        .nth_value(k)
        .ok_or_else(|| Error::params(param.name(), format!("has no value number {k}")))?;
    param.encode(&value)
}

/// The choice a categorical coordinate selects (as [`SearchSpace::decode`] does).
fn choice(u: f64, n: usize) -> usize {
    ((u.max(0.0) * n as f64) as usize).min(n.saturating_sub(1))
}

/// The centre of choice `k`'s slot.
fn slot(k: usize, n: usize) -> f64 {
    (k as f64 + 0.5) / n.max(1) as f64
}

/// The index of an ordinal value among its parameter's values.
fn lattice_index(kind: &ParamKind, value: &Value) -> u64 {
    match (kind, value) {
        (ParamKind::Int { min, step, .. }, Value::Int(v)) => {
            let k = (i128::from(*v) - i128::from(*min)) / i128::from((*step).max(1));
            u64::try_from(k).unwrap_or(0)
        }
        (
            ParamKind::Double {
                min,
                step: Some(step),
                ..
            },
            Value::Double(v),
        ) => ((v - min) / step).round().max(0.0) as u64,
        (ParamKind::Discrete { values }, Value::Discrete(v)) => {
            values.iter().position(|x| x == v).unwrap_or(0) as u64
        }
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::space::{Distribution, ParamSpec};

    fn space() -> SearchSpace {
        SearchSpace::new([
            ParamSpec::double("lr", 1e-4, 1e-1).distribution(Distribution::LogUniform),
            ParamSpec::int("width", 1, 1000),
            ParamSpec::categorical("opt", ["sgd", "adam", "rmsprop"]),
            ParamSpec::double("momentum", 0.0, 0.9)
                .step(0.1)
                .active_when("opt", ["sgd", "rmsprop"]),
        ])
        .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn features_follow_kinds_and_activity() -> Result<()> {
        let space = space();
        let enc = Encoding::new(&space)?;
        assert_eq!(enc.categorical(), [false, false, true, false]);
        assert!(enc.relaxed(0) && enc.relaxed(1) && !enc.relaxed(2) && !enc.relaxed(3));
        // opt = adam: momentum is inactive.
        let x = enc.features(&[0.25, 0.5, 0.5, 0.33]);
        assert_eq!(x, [0.25, 0.5, 1.0, INACTIVE_NUMERIC]);
        // opt = rmsprop: active.
        let x = enc.features(&[0.25, 0.5, 0.9, 0.33]);
        assert_eq!(x, [0.25, 0.5, 2.0, 0.33]);
        Ok(())
    }

    #[test]
    fn snapping_lands_on_values_and_neighbours_are_values() -> Result<()> {
        let space = space();
        let enc = Encoding::new(&space)?;
        let width = &space.params()[1];
        let snapped = enc.snap(1, 0.123_456)?;
        let v = width.decode(snapped)?;
        assert_eq!(width.encode(&v)?, snapped);
        let around: Vec<i64> = enc
            .neighbours(1, snapped)?
            .iter()
            .filter_map(|&c| width.decode(c).ok().and_then(|v| v.as_i64()))
            .collect();
        let k = v.as_i64().unwrap_or(0);
        assert!(around.contains(&(k - 1)) && around.contains(&(k + 1)));
        assert!(around.contains(&(k + 64)) && around.contains(&(k - 64)));
        assert!(around.iter().all(|w| (1..=1000).contains(w)));
        // A small lattice lists every other value.
        let m = enc.snap(3, 0.5)?;
        assert_eq!(enc.neighbours(3, m)?.len(), 9);
        assert_eq!(enc.neighbours(2, enc.snap(2, 0.1)?)?, [0.5, 5.0 / 6.0]);
        Ok(())
    }

    #[test]
    fn trials_encode_to_the_unit_point_that_decodes_back() -> Result<()> {
        let space = space();
        let enc = Encoding::new(&space)?;
        let mut u = vec![0.3, 0.77, 0.1, 0.61];
        enc.snap_all(&mut u)?;
        let params = space.decode(&u)?;
        assert_eq!(space.decode(&enc.unit(&params)?)?, params);
        Ok(())
    }
}
