//! Every combination of parameter values, each exactly once (Katib's `grid`).
//!
//! Integers, stepped doubles, `discrete` and `categorical` parameters take
//! all their values; a double without a step needs a count of evenly spaced
//! values (geometrically spaced for log distributions), given per parameter
//! or as a default. Conditional parameters enter the grid only under the
//! parent values that activate them, so no two grid points are the same
//! assignment. Once every point has been handed out, [`Study::ask`] returns
//! [`Error::Exhausted`]: the study is finished.
//!
//! By default the points come in a seeded pseudo-random order (an affine
//! permutation of the grid's indices), so that a study stopped early has
//! spread its trials over the whole grid, as Katib's grid (Optuna's
//! `GridSampler`) does.
//!
//! [`Study::ask`]: crate::Study::ask
//! [`Error::Exhausted`]: crate::Error::Exhausted

use std::collections::BTreeMap;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::{Context, Sampler};
use crate::space::{Distribution, Param, ParamKind, Params, SearchSpace, Value};
use crate::{Error, Result};

/// Grid search.
///
/// ```
/// use keelson_hpo::{Direction, Error, GridSampler, ParamSpec, SearchSpace, Study};
///
/// let space = SearchSpace::new([
///     ParamSpec::categorical("opt", ["sgd", "adam"]),
///     ParamSpec::double("momentum", 0.0, 0.9).step(0.45).active_when("opt", ["sgd"]),
///     ParamSpec::double("lr", 1e-3, 1e-1),
/// ])?;
/// let grid = GridSampler::new(7).with_count("lr", 3);
/// // (sgd: 3 momenta + adam: 1) x 3 learning rates
/// assert_eq!(grid.grid_size(&space)?, 12);
/// let mut study = Study::new(space, Direction::Minimize, grid)?;
/// let trials = study.ask_n(100)?;
/// assert_eq!(trials.len(), 12);
/// assert!(matches!(study.ask(), Err(Error::Exhausted { .. })));
/// # Ok::<(), keelson_hpo::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GridSampler {
    seed: u64,
    shuffle: bool,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    counts: BTreeMap<String, u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    default_count: Option<u64>,
    issued: u64,
}

impl GridSampler {
    /// A grid visited in an order shuffled by `seed` (Katib's `random_state`).
    ///
    /// ```
    /// let grid = keelson_hpo::GridSampler::new(0);
    /// assert_ne!(grid, keelson_hpo::GridSampler::new(1));
    /// ```
    pub fn new(seed: u64) -> Self {
        GridSampler {
            seed,
            shuffle: true,
            counts: BTreeMap::new(),
            default_count: None,
            issued: 0,
        }
    }

    /// Visits the grid in index order instead, the first parameter varying
    /// fastest.
    ///
    /// ```
    /// use keelson_hpo::{Direction, GridSampler, ParamSpec, SearchSpace, Study};
    /// let space = SearchSpace::new([ParamSpec::int("a", 0, 1), ParamSpec::int("b", 0, 1)])?;
    /// let mut study = Study::new(space, Direction::Minimize, GridSampler::new(0).in_order())?;
    /// let ab: Vec<(i64, i64)> = study.ask_n(4)?.iter()
    ///     .map(|t| (t.params.i64("a").unwrap(), t.params.i64("b").unwrap()))
    ///     .collect();
    /// assert_eq!(ab, [(0, 0), (1, 0), (0, 1), (1, 1)]);
    /// # Ok::<(), keelson_hpo::Error>(())
    /// ```
    pub fn in_order(mut self) -> Self {
        self.shuffle = false;
        self
    }

    /// `count` evenly spaced values (from min to max inclusive) for the
    /// continuous double `name`.
    ///
    /// ```
    /// use keelson_hpo::{GridSampler, ParamSpec, SearchSpace};
    /// let space = SearchSpace::new([ParamSpec::double("x", 0.0, 1.0)])?;
    /// assert_eq!(GridSampler::new(0).with_count("x", 11).grid_size(&space)?, 11);
    /// # Ok::<(), keelson_hpo::Error>(())
    /// ```
    pub fn with_count(mut self, name: &str, count: u64) -> Self {
        self.counts.insert(name.to_owned(), count);
        self
    }

    /// `count` evenly spaced values for every continuous double without its
    /// own count.
    ///
    /// ```
    /// use keelson_hpo::{GridSampler, ParamSpec, SearchSpace};
    /// let space = SearchSpace::new([ParamSpec::double("x", 0.0, 1.0), ParamSpec::double("y", 0.0, 1.0)])?;
    /// assert_eq!(GridSampler::new(0).with_default_count(4).grid_size(&space)?, 16);
    /// # Ok::<(), keelson_hpo::Error>(())
    /// ```
    pub fn with_default_count(mut self, count: u64) -> Self {
        self.default_count = Some(count);
        self
    }

    /// The number of grid points for `space`: an error if a double has
    /// neither a step nor a count, or the grid has 2^64 points or more.
    ///
    /// ```
    /// use keelson_hpo::{GridSampler, ParamSpec, SearchSpace};
    /// let space = SearchSpace::new([ParamSpec::int("n", 1, 10), ParamSpec::discrete("bs", [16.0, 32.0])])?;
    /// assert_eq!(GridSampler::new(0).grid_size(&space)?, 20);
    /// # Ok::<(), keelson_hpo::Error>(())
    /// ```
    pub fn grid_size(&self, space: &SearchSpace) -> Result<u64> {
        Plan::new(space, self).map(|plan| plan.total)
    }

    /// The grid index of the `k`-th suggestion.
    fn index(&self, k: u64, total: u64) -> u64 {
        if !self.shuffle || total < 2 {
            return k;
        }
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let offset = rng.random_range(0..total);
        // A multiplier coprime to the size makes the map a bijection; 1
        // always is, so the loop bound only caps the search for another.
        let mut multiplier = 1;
        for _ in 0..64 {
            let candidate = rng.random_range(1..total);
            if gcd(candidate, total) == 1 {
                multiplier = candidate;
                break;
            }
        }
        ((u128::from(multiplier) * u128::from(k) + u128::from(offset)) % u128::from(total)) as u64
    }
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// How one parameter's grid values are produced.
enum Values {
    /// The parameter's own distinct values ([`Param::nth_value`]).
    Own,
    /// `count` values spaced evenly in the value (or its log).
    Spaced {
        min: f64,
        max: f64,
        log: bool,
        count: u64,
    },
}

/// The grid of a space as a tree: root parameters combine as a mixed-radix
/// number; a categorical parent's values each carry the combinations of the
/// children they activate.
struct Plan<'a> {
    space: &'a SearchSpace,
    values: Vec<Values>,
    children: Vec<Vec<usize>>,
    sizes: Vec<u64>,
    roots: Vec<usize>,
    total: u64,
}

impl<'a> Plan<'a> {
    fn new(space: &'a SearchSpace, grid: &GridSampler) -> Result<Plan<'a>> {
        let params = space.params();
        if grid.default_count == Some(0) {
            return Err(Error::setting("default_count", "must be at least 1"));
        }
        for (name, &count) in &grid.counts {
            let continuous = matches!(
                space.param(name).map(Param::kind),
                Some(ParamKind::Double { step: None, min, max, .. }) if min < max
            );
            if !continuous {
                return Err(Error::setting(
                    format!("counts.{name}"),
                    "is not a double parameter without a step",
                ));
            }
            if count == 0 {
                return Err(Error::setting(
                    format!("counts.{name}"),
                    "must be at least 1",
                ));
            }
        }
        let mut values = Vec::with_capacity(params.len());
        let mut own_sizes = Vec::with_capacity(params.len());
        for param in params {
            if let Some(n) = param.cardinality() {
                values.push(Values::Own);
                own_sizes.push(n);
                continue;
            }
            let ParamKind::Double {
                min,
                max,
                distribution,
                ..
            } = *param.kind()
            else {
                own_sizes.push(1);
                values.push(Values::Own);
                continue;
            };
            let count = grid.counts.get(param.name()).copied().or(grid.default_count).ok_or_else(|| {
                Error::UnsupportedSpace {
                    sampler: "grid".into(),
                    param: param.name().to_owned(),
                    reason: "a double needs a step, or a count from GridSampler::with_count or with_default_count".into(),
                }
            })?;
            let log = matches!(
                distribution,
                Distribution::LogUniform | Distribution::LogNormal
            );
            values.push(Values::Spaced {
                min,
                max,
                log,
                count,
            });
            own_sizes.push(count);
        }

        let mut children = vec![Vec::new(); params.len()];
        let mut roots = Vec::new();
        for (i, param) in params.iter().enumerate() {
            let parent = param
                .condition()
                .and_then(|c| params.iter().position(|p| p.name() == c.parent));
            match parent.and_then(|p| children.get_mut(p)) {
                Some(list) => list.push(i),
                None => roots.push(i),
            }
        }

        let too_large = |param: &Param| Error::UnsupportedSpace {
            sampler: "grid".into(),
            param: param.name().to_owned(),
            reason: "the grid has 2^64 points or more".into(),
        };
        let mut sizes = own_sizes.clone();
        // Children come after their parents in `order`, so walking it
        // backwards sizes every child before its parent.
        for &i in space.order().iter().rev() {
            let (Some(param), Some(kids)) = (params.get(i), children.get(i)) else {
                continue;
            };
            let ParamKind::Categorical { choices } = param.kind() else {
                continue;
            };
            if kids.is_empty() {
                continue;
            }
            let mut size = 0_u64;
            for choice in choices {
                let mut branch = 1_u64;
                for &c in kids.iter().filter(|&&c| activates(params, c, choice)) {
                    branch = branch
                        .checked_mul(sizes.get(c).copied().unwrap_or(1))
                        .ok_or_else(|| too_large(param))?;
                }
                size = size.checked_add(branch).ok_or_else(|| too_large(param))?;
            }
            if let Some(slot) = sizes.get_mut(i) {
                *slot = size;
            }
        }
        let mut total = 1_u64;
        for &r in &roots {
            let (Some(param), Some(&size)) = (params.get(r), sizes.get(r)) else {
                continue;
            };
            total = total.checked_mul(size).ok_or_else(|| too_large(param))?;
        }
        Ok(Plan {
            space,
            values,
            children,
            sizes,
            roots,
            total,
        })
    }

    fn size(&self, i: usize) -> u64 {
        self.sizes.get(i).copied().unwrap_or(1).max(1)
    }

    /// The assignment at grid index `index < total`.
    fn decode(&self, index: u64) -> Result<Params> {
        let params = self.space.params();
        let mut out = Params::new();
        let mut work: Vec<(usize, u64)> = Vec::with_capacity(params.len());
        let mut rest = index;
        for &r in &self.roots {
            work.push((r, rest % self.size(r)));
            rest /= self.size(r);
        }
        while let Some((i, mut j)) = work.pop() {
            let Some(param) = params.get(i) else { continue };
            let kids = self.children.get(i).map(Vec::as_slice).unwrap_or_default();
            match (param.kind(), kids.is_empty()) {
                (ParamKind::Categorical { choices }, false) => {
                    for choice in choices {
                        let active: Vec<usize> = kids
                            .iter()
                            .copied()
                            .filter(|&c| activates(params, c, choice))
                            .collect();
                        let width = active.iter().map(|&c| self.size(c)).product::<u64>();
                        if j < width {
                            out.insert(param.name(), Value::Categorical(choice.clone()));
                            for c in active {
                                work.push((c, j % self.size(c)));
                                j /= self.size(c);
                            }
                            break;
                        }
                        j -= width;
                    }
                }
                _ => {
                    out.insert(param.name(), self.value(i, param, j)?);
                }
            }
        }
        Ok(out)
    }

    fn value(&self, i: usize, param: &Param, j: u64) -> Result<Value> {
        let missing = || Error::params(param.name(), format!("grid value {j} is out of range"));
        match self.values.get(i) {
            Some(&Values::Spaced {
                min,
                max,
                log,
                count,
            }) => {
                if j.saturating_add(1) >= count {
                    return Ok(Value::Double(if count == 1 { min } else { max }));
                }
                let t = |x: f64| if log { x.ln() } else { x };
                let at = t(min) + j as f64 * (t(max) - t(min)) / (count - 1) as f64;
                let x = if log { at.exp() } else { at };
                Ok(Value::Double(x.clamp(min, max)))
            }
            Some(Values::Own) => param.nth_value(j).ok_or_else(missing),
            None => Err(missing()),
        }
    }
}

/// Whether parameter `child` is active when its parent takes `choice`.
fn activates(params: &[Param], child: usize, choice: &str) -> bool {
    params
        .get(child)
        .and_then(Param::condition)
        .is_some_and(|c| c.values.iter().any(|v| v == choice))
}

impl Sampler for GridSampler {
    fn name(&self) -> &str {
        "grid"
    }

    /// Suggestions do not depend on the values, so any number of
    /// objectives will do.
    fn multi_objective(&self) -> bool {
        true
    }

    fn check_space(&self, space: &SearchSpace) -> Result<()> {
        Plan::new(space, self).map(|_| ())
    }

    fn suggest(&mut self, ctx: &Context<'_>) -> Result<Option<Params>> {
        let plan = Plan::new(ctx.space, self)?;
        if self.issued >= plan.total {
            return Ok(None);
        }
        let params = plan.decode(self.index(self.issued, plan.total))?;
        self.issued += 1;
        Ok(Some(params))
    }
}
