//! The Tree-structured Parzen Estimator (TPE), with the semantics and
//! defaults of Optuna's `TPESampler`.
//!
//! After `n_startup_trials` finished trials drawn at random, each suggestion
//! splits the history into the best `gamma(n)` trials ("below") and the rest
//! ("above"), fits a Parzen mixture to each — one kernel per trial plus a
//! prior kernel — draws `n_ei_candidates` points from the "below" mixture
//! and keeps the one with the largest density ratio l(x) / g(x).
//!
//! Everything happens in the space's unit cube (see [`crate::space`]): a
//! coordinate is the parameter's prior CDF, so the prior kernel (centred,
//! as wide as the range) is the declared distribution, log scales are
//! handled by the cube, and a uniform `int` or stepped `double` — or a
//! `discrete` list — is a row of equal cells whose kernels are integrated
//! over the cell, as Optuna's discrete kernels are. `categorical` parameters
//! get Optuna's categorical kernels (one-hot plus the prior's share).
//!
//! Speed: the scored mixture ("above") has about one kernel per trial, and
//! every ask evaluates it at every candidate, so the inner loops are kept
//! branch-free over kernel-major arrays with an inlined `exp` the compiler
//! can vectorize; the trials' unit coordinates (and, for the univariate
//! bandwidth rule, their per-parameter sorted order) are cached between
//! asks instead of being re-encoded.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};

use super::{Context, Sampler};
use crate::space::{Distribution, ParamKind, Params, SearchSpace};
use crate::study::{Direction, TrialRecord, TrialState};
use crate::{Error, Result};

/// Optuna's `EPS`: the smallest bandwidth without the magic clip.
const EPS: f64 = 1e-12;
/// Above this many cells a stepped parameter is treated as continuous: the
/// cells are then far narrower than any kernel and a kernel's mass over a
/// cell is its density times the cell width, the same for every kernel.
const MAX_CELLS: u64 = 1 << 16;
/// Optuna's bandwidth factor for the multivariate rule.
const SIGMA0_MAGNITUDE: f64 = 0.2;

/// How many of the `n` finished trials form the "below" (good) group.
///
/// ```
/// use keelson_hpo::samplers::Gamma;
/// assert_eq!(Gamma::default().below(95), 10);   // ceil(0.1 * 95)
/// assert_eq!(Gamma::default().below(1000), 25); // capped
/// assert_eq!(Gamma::Sqrt { factor: 0.25, max: 25 }.below(100), 3);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Gamma {
    /// `min(ceil(fraction * n), max)`; Optuna's default is (0.1, 25).
    Linear {
        /// The share of trials that are "below".
        fraction: f64,
        /// The cap.
        max: usize,
    },
    /// `min(ceil(factor * sqrt(n)), max)`; hyperopt's (Katib's `tpe`) is (0.25, 25).
    Sqrt {
        /// The factor on √n.
        factor: f64,
        /// The cap.
        max: usize,
    },
}

impl Default for Gamma {
    fn default() -> Self {
        Gamma::Linear {
            fraction: 0.1,
            max: 25,
        }
    }
}

impl Gamma {
    /// The size of the "below" group among `n` finished trials.
    ///
    /// ```
    /// assert_eq!(keelson_hpo::samplers::Gamma::default().below(10), 1);
    /// ```
    pub fn below(&self, n: usize) -> usize {
        let (x, max) = match *self {
            Gamma::Linear { fraction, max } => (fraction * n as f64, max),
            Gamma::Sqrt { factor, max } => (factor * (n as f64).sqrt(), max),
        };
        // Validated finite and non-negative; `as` saturates anyway.
        (x.ceil() as usize).min(max)
    }

    fn validate(&self) -> Result<()> {
        let (name, x) = match *self {
            Gamma::Linear { fraction, .. } => ("tpe.gamma.fraction", fraction),
            Gamma::Sqrt { factor, .. } => ("tpe.gamma.factor", factor),
        };
        if x.is_finite() && x >= 0.0 {
            Ok(())
        } else {
            Err(Error::setting(
                name,
                format!("must be finite and >= 0, got {x}"),
            ))
        }
    }
}

/// The weights of the trials' kernels within each group, oldest first.
///
/// ```
/// use keelson_hpo::samplers::Weights;
/// assert_eq!(Weights::Ramp.weights(3), [1.0, 1.0, 1.0]);
/// let w = Weights::Ramp.weights(30);
/// assert_eq!((w[0], w[4], w[5], w[29]), (1.0 / 30.0, 1.0, 1.0, 1.0));
/// assert_eq!(Weights::Uniform.weights(30), [1.0; 30]);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Weights {
    /// Optuna's default: all 1 below 25 trials; beyond, the newest 25 weigh
    /// 1 and the older ones ramp linearly from `1/n` up to 1.
    #[default]
    Ramp,
    /// Every kernel weighs 1.
    Uniform,
}

impl Weights {
    /// The weights of `n` kernels in trial order.
    ///
    /// ```
    /// assert!(keelson_hpo::samplers::Weights::Ramp.weights(0).is_empty());
    /// ```
    pub fn weights(&self, n: usize) -> Vec<f64> {
        (0..n).map(|i| self.weight(i, n)).collect()
    }

    fn weight(&self, i: usize, n: usize) -> f64 {
        const FLAT: usize = 25;
        match self {
            Weights::Ramp if n >= FLAT && i < n - FLAT => {
                let ramp = n - FLAT;
                let lo = 1.0 / n as f64;
                if ramp == 1 {
                    lo
                } else {
                    lo + (1.0 - lo) * i as f64 / (ramp - 1) as f64
                }
            }
            _ => 1.0,
        }
    }
}

/// The settings of [`TpeSampler`]; `Default` gives Optuna's defaults except
/// that `multivariate` is off (Optuna 5 turns it on; Katib's `tpe` is
/// univariate, its `multivariate-tpe` is not).
///
/// ```
/// use keelson_hpo::samplers::TpeOptions;
/// let o = TpeOptions { multivariate: true, constant_liar: true, ..TpeOptions::default() };
/// assert_eq!((o.n_startup_trials, o.n_ei_candidates, o.prior_weight), (10, 24, 1.0));
/// assert!(o.validate().is_ok());
/// assert!(TpeOptions { group: true, ..TpeOptions::default() }.validate().is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TpeOptions {
    /// Trials drawn at random before TPE starts, counted among complete and
    /// pruned trials (10).
    pub n_startup_trials: usize,
    /// Points drawn from the "below" mixture per suggestion (24).
    pub n_ei_candidates: usize,
    /// The size of the "below" group ([`Gamma::default`]: 10%, at most 25).
    pub gamma: Gamma,
    /// Kernel weights by age ([`Weights::Ramp`]).
    pub weights: Weights,
    /// The prior kernel's weight relative to a trial's (1.0).
    pub prior_weight: f64,
    /// Keep bandwidths above `range / min(100, kernels + 1)` (true).
    pub consider_magic_clip: bool,
    /// Let the outermost kernels' bandwidths reach to the bounds (false).
    pub consider_endpoints: bool,
    /// Model the parameters jointly, with one bandwidth per dimension from
    /// Scott's rule, instead of one mixture per parameter (false).
    pub multivariate: bool,
    /// With `multivariate`: one joint model per group of parameters that are
    /// active together (the same condition), instead of one for the
    /// unconditional parameters and a univariate model for each conditional
    /// one (false).
    pub group: bool,
    /// Count running trials as "above" (as bad as can be), so that parallel
    /// workers are steered away from each other's points (false).
    pub constant_liar: bool,
}

impl Default for TpeOptions {
    fn default() -> Self {
        TpeOptions {
            n_startup_trials: 10,
            n_ei_candidates: 24,
            gamma: Gamma::default(),
            weights: Weights::default(),
            prior_weight: 1.0,
            consider_magic_clip: true,
            consider_endpoints: false,
            multivariate: false,
            group: false,
            constant_liar: false,
        }
    }
}

impl TpeOptions {
    /// Checks the settings; the error names the offending one
    /// (`tpe.n_ei_candidates`, `tpe.prior_weight`, `tpe.gamma.fraction`,
    /// `tpe.group`).
    ///
    /// ```
    /// use keelson_hpo::samplers::TpeOptions;
    /// let err = TpeOptions { prior_weight: 0.0, ..TpeOptions::default() }.validate().unwrap_err();
    /// assert!(err.to_string().contains("tpe.prior_weight"));
    /// ```
    pub fn validate(&self) -> Result<()> {
        if self.n_ei_candidates == 0 {
            return Err(Error::setting("tpe.n_ei_candidates", "must be at least 1"));
        }
        if !(self.prior_weight.is_finite() && self.prior_weight > 0.0) {
            return Err(Error::setting(
                "tpe.prior_weight",
                format!("must be finite and > 0, got {}", self.prior_weight),
            ));
        }
        if self.group && !self.multivariate {
            return Err(Error::setting(
                "tpe.group",
                "needs multivariate (groups are modelled jointly)",
            ));
        }
        self.gamma.validate()
    }
}

/// Tree-structured Parzen Estimator search (Optuna's `TPESampler`, Katib's
/// `tpe` and, with [`TpeOptions::multivariate`] and
/// [`TpeOptions::constant_liar`], `multivariate-tpe`).
///
/// The state that saves with the study is the ChaCha8 generator's position
/// and the options; every random draw comes from that generator, so a
/// restored study continues exactly.
///
/// ```
/// use keelson_hpo::{Direction, Outcome, ParamSpec, SearchSpace, Study, TpeSampler};
///
/// let space = SearchSpace::new([ParamSpec::double("x", -5.0, 5.0)])?;
/// let mut study = Study::new(space, Direction::Minimize, TpeSampler::new(7))?;
/// for _ in 0..60 {
///     let trial = study.ask()?;
///     let x = trial.params.f64("x")?;
///     study.tell(trial.id, Outcome::Value((x - 1.0).powi(2)))?;
/// }
/// assert!(study.best_trial().unwrap().value.unwrap() < 0.01);
/// # Ok::<(), keelson_hpo::Error>(())
/// ```
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TpeSampler {
    rng: ChaCha8Rng,
    options: TpeOptions,
    /// Derived from the trials only, so it is neither saved nor compared.
    #[serde(skip)]
    cache: Cache,
}

impl PartialEq for TpeSampler {
    fn eq(&self, other: &Self) -> bool {
        self.rng == other.rng && self.options == other.options
    }
}

impl TpeSampler {
    /// A TPE sampler with the default options, seeded with `seed`.
    ///
    /// ```
    /// use keelson_hpo::TpeSampler;
    /// assert_eq!(TpeSampler::new(3).options().n_ei_candidates, 24);
    /// assert_ne!(TpeSampler::new(1), TpeSampler::new(2));
    /// ```
    pub fn new(seed: u64) -> Self {
        Self::with_options(seed, TpeOptions::default())
    }

    /// A TPE sampler with the given options (checked when a study is
    /// created or restored).
    ///
    /// ```
    /// use keelson_hpo::{samplers::TpeOptions, TpeSampler};
    /// let s = TpeSampler::with_options(0, TpeOptions { multivariate: true, ..TpeOptions::default() });
    /// assert!(s.options().multivariate);
    /// ```
    pub fn with_options(seed: u64, options: TpeOptions) -> Self {
        TpeSampler {
            rng: ChaCha8Rng::seed_from_u64(seed),
            options,
            cache: Cache::default(),
        }
    }

    /// The options.
    ///
    /// ```
    /// assert!(!keelson_hpo::TpeSampler::new(0).options().constant_liar);
    /// ```
    pub fn options(&self) -> &TpeOptions {
        &self.options
    }
}

impl Sampler for TpeSampler {
    fn name(&self) -> &str {
        "tpe"
    }

    fn check_space(&self, _space: &SearchSpace) -> Result<()> {
        self.options.validate()
    }

    fn suggest(&mut self, ctx: &Context<'_>) -> Result<Option<Params>> {
        self.options.validate()?;
        let dims: Vec<Dim> = ctx.space.params().iter().map(Dim::of).collect();
        self.cache.sync(ctx.space, &dims, ctx.trials)?;
        let finished = ctx
            .trials
            .iter()
            .filter(|t| matches!(t.state, TrialState::Complete | TrialState::Pruned))
            .count();
        let mut point: Vec<f64> = vec![0.5; dims.len()];
        if finished < self.options.n_startup_trials {
            for u in &mut point {
                *u = self.rng.random::<f64>();
            }
            return ctx.space.decode(&point).map(Some);
        }
        let labels = split(
            ctx.trials,
            ctx.direction,
            self.options.gamma.below(finished),
            self.options.constant_liar,
        );
        for block in blocks(ctx.space, &dims, &self.options) {
            self.sample_block(&block, &dims, &labels, &mut point);
        }
        ctx.space.decode(&point).map(Some)
    }
}

/// How TPE models one coordinate of the unit cube.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Dim {
    /// One value only: nothing to learn.
    Constant,
    /// A density on `[0, 1]`.
    Continuous,
    /// `cells` equal cells; kernels are integrated over a cell.
    Stepped { cells: usize },
    /// `choices` unordered values.
    Categorical { choices: usize },
}

impl Dim {
    fn of(param: &crate::space::Param) -> Dim {
        let cells = param.cardinality();
        match (param.kind(), cells) {
            (_, Some(n)) if n <= 1 => Dim::Constant,
            (ParamKind::Categorical { choices }, _) => Dim::Categorical {
                choices: choices.len(),
            },
            (ParamKind::Discrete { values }, _) => Dim::Stepped {
                cells: values.len(),
            },
            // Only uniform linear lattices have equal cells in the cube.
            (
                ParamKind::Int {
                    distribution: Distribution::Uniform,
                    ..
                }
                | ParamKind::Double {
                    distribution: Distribution::Uniform,
                    ..
                },
                Some(n),
            ) if n <= MAX_CELLS => Dim::Stepped { cells: n as usize },
            _ => Dim::Continuous,
        }
    }

    /// The cached coordinate of a unit-cube value: cell centre, category
    /// index, or the value itself.
    fn internal(self, u: f64) -> f64 {
        match self {
            Dim::Constant => 0.5,
            Dim::Continuous => u,
            Dim::Stepped { cells } => cell_centre(u, cells),
            Dim::Categorical { choices } => cell_index(u, choices) as f64,
        }
    }

    /// Back from the internal coordinate to the unit cube.
    fn unit(self, x: f64) -> f64 {
        match self {
            Dim::Categorical { choices } => (x + 0.5) / choices as f64,
            _ => x,
        }
    }
}

fn cell_index(u: f64, cells: usize) -> usize {
    // `as` saturates: a NaN or negative u lands in cell 0.
    ((u * cells as f64) as usize).min(cells.saturating_sub(1))
}

fn cell_centre(u: f64, cells: usize) -> f64 {
    (cell_index(u, cells) as f64 + 0.5) / cells as f64
}

/// The trials' internal coordinates, kept between asks. Trials never change
/// their parameters, so only new trials are encoded; the first and last
/// cached assignments are compared on every ask so that a sampler handed a
/// different history rebuilds instead of using stale coordinates.
#[derive(Clone, Debug, Default)]
struct Cache {
    dims: Vec<Dim>,
    n: usize,
    first: Option<Params>,
    last: Option<Params>,
    /// `n * dims` internal coordinates, NaN for an inactive parameter.
    coords: Vec<f64>,
    /// Per dimension, (coordinate, trial) of the trials where it is active,
    /// sorted: the univariate bandwidth rule needs neighbours.
    sorted: Vec<Vec<(f64, u32)>>,
}

impl Cache {
    fn sync(&mut self, space: &SearchSpace, dims: &[Dim], trials: &[TrialRecord]) -> Result<()> {
        let valid = self.dims == dims
            && self.n <= trials.len()
            && (self.n == 0
                || (self.first.as_ref() == trials.first().map(|t| &t.params)
                    && self.last.as_ref() == trials.get(self.n - 1).map(|t| &t.params)));
        if !valid {
            *self = Cache {
                dims: dims.to_vec(),
                sorted: vec![Vec::new(); dims.len()],
                ..Cache::default()
            };
        }
        for (t, trial) in trials.iter().enumerate().skip(self.n) {
            let unit = space.encode(&trial.params)?;
            for (j, (u, dim)) in unit.iter().zip(dims).enumerate() {
                let x = u.map_or(f64::NAN, |u| dim.internal(u));
                self.coords.push(x);
                if let (Some(_), Some(sorted)) = (u, self.sorted.get_mut(j)) {
                    let at = sorted.partition_point(|e| e.0 <= x);
                    sorted.insert(at, (x, t as u32));
                }
            }
        }
        if trials.len() > self.n || self.first.is_none() {
            self.first = trials.first().map(|t| t.params.clone());
            self.last = trials.last().map(|t| t.params.clone());
        }
        self.n = trials.len();
        Ok(())
    }

    fn coord(&self, trial: usize, dim: usize) -> f64 {
        self.coords
            .get(trial * self.dims.len() + dim)
            .copied()
            .unwrap_or(f64::NAN)
    }
}

/// A trial's role in this suggestion.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Label {
    /// Failed, or running without the constant liar.
    Ignored,
    Below,
    Above,
}

/// Optuna's split: the best complete trials are "below"; if fewer than
/// `n_below` completed, the pruned trials that got furthest (then had the
/// best last intermediate value) fill up; everything else that finished is
/// "above", with the running trials when lying.
fn split(trials: &[TrialRecord], direction: Direction, n_below: usize, liar: bool) -> Vec<Label> {
    let sign = match direction {
        Direction::Minimize => 1.0,
        Direction::Maximize => -1.0,
    };
    let mut labels = vec![Label::Ignored; trials.len()];
    let mut complete: Vec<(f64, u32)> = Vec::with_capacity(trials.len());
    let mut pruned: Vec<((i128, f64), u32)> = Vec::new();
    for (i, t) in trials.iter().enumerate() {
        match (t.state, t.value) {
            (TrialState::Complete, Some(v)) => complete.push((sign * v, i as u32)),
            (TrialState::Pruned, _) => {
                // Further is better; no report at all is worst.
                let key = match t.intermediate.iter().next_back() {
                    Some((&step, &v)) => (-i128::from(step), sign * v),
                    None => (1, 0.0),
                };
                pruned.push((key, i as u32));
            }
            (TrialState::Running, _) if liar => labels[i] = Label::Above,
            _ => {}
        }
    }
    let by_key = |a: &(f64, u32), b: &(f64, u32)| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1));
    let from_complete = n_below.min(complete.len());
    if from_complete > 0 && from_complete < complete.len() {
        complete.select_nth_unstable_by(from_complete - 1, by_key);
    }
    for (k, &(_, i)) in complete.iter().enumerate() {
        labels[i as usize] = if k < from_complete {
            Label::Below
        } else {
            Label::Above
        };
    }
    pruned.sort_by(|a, b| {
        (a.0.0.cmp(&b.0.0))
            .then(a.0.1.total_cmp(&b.0.1))
            .then(a.1.cmp(&b.1))
    });
    let from_pruned = n_below - from_complete;
    for (k, &(_, i)) in pruned.iter().enumerate() {
        labels[i as usize] = if k < from_pruned {
            Label::Below
        } else {
            Label::Above
        };
    }
    labels
}

/// A parameter's condition (parent, sorted values), `None` for always active:
/// parameters with equal keys are active in exactly the same trials.
type ActivationKey = Option<(String, Vec<String>)>;

/// The groups of parameters modelled jointly, in the order they are sampled.
fn blocks(space: &SearchSpace, dims: &[Dim], options: &TpeOptions) -> Vec<Vec<usize>> {
    let free = |j: &usize| dims.get(*j).is_some_and(|d| *d != Dim::Constant);
    let conditions: Vec<ActivationKey> = space
        .params()
        .iter()
        .map(|p| {
            p.condition().map(|c| {
                let mut values = c.values.clone();
                values.sort();
                (c.parent.clone(), values)
            })
        })
        .collect();
    let all = 0..dims.len();
    if !options.multivariate {
        return all.filter(free).map(|j| vec![j]).collect();
    }
    if !options.group {
        let joint: Vec<usize> = all
            .clone()
            .filter(|j| free(j) && conditions[*j].is_none())
            .collect();
        let single = all
            .filter(|j| free(j) && conditions[*j].is_some())
            .map(|j| vec![j]);
        return std::iter::once(joint)
            .filter(|b| !b.is_empty())
            .chain(single)
            .collect();
    }
    let mut groups: Vec<(&ActivationKey, Vec<usize>)> = Vec::new();
    for j in all.filter(free) {
        match groups.iter_mut().find(|(key, _)| **key == conditions[j]) {
            Some((_, members)) => members.push(j),
            None => groups.push((&conditions[j], vec![j])),
        }
    }
    groups.into_iter().map(|(_, members)| members).collect()
}

/// One dimension of a Parzen mixture, kernel-major.
#[derive(Debug)]
enum Kernels {
    /// Truncated normals on [0, 1]; `cells` for a stepped coordinate.
    Numeric {
        mu: Vec<f64>,
        sigma: Vec<f64>,
        inv_sigma: Vec<f64>,
        cells: Option<usize>,
    },
    /// Categorical rows: the observed index (`u32::MAX` for the prior's
    /// uniform row) and the log-probabilities of hitting it or another one.
    Categorical {
        observed: Vec<u32>,
        log_hit: Vec<f64>,
        log_miss: Vec<f64>,
        choices: usize,
    },
}

/// A Parzen mixture over one block: the trials' kernels and the prior's (last).
///
/// A kernel's density is `factor * exp(shape)`: the factor holds its weight
/// and normalizers, the shape term (<= 0) what depends on the point. Adding
/// up `factor * exp(shape)` needs no logarithm per kernel; only when that
/// sum under- or overflows (hundreds of dimensions) is it redone in logs.
#[derive(Debug)]
struct Mixture {
    /// Normalized weights, cumulative, for drawing a kernel.
    cumulative: Vec<f64>,
    /// Per kernel: weight over the normalizers of its numeric dimensions.
    factor: Vec<f64>,
    /// ln of `factor`, built only when `factor` over- or underflows.
    log_factor: Option<Vec<f64>>,
    dims: Vec<Kernels>,
}

impl TpeSampler {
    fn sample_block(&mut self, block: &[usize], dims: &[Dim], labels: &[Label], point: &mut [f64]) {
        let lead = block.first().copied().unwrap_or(0);
        let active = |t: usize| !self.cache.coord(t, lead).is_nan();
        let below = self.members(labels, Label::Below, block, dims, &active);
        let above = self.members(labels, Label::Above, block, dims, &active);
        let below = self.mixture(block, dims, &below);
        let above = self.mixture(block, dims, &above);
        let n = self.options.n_ei_candidates;
        let mut candidates = vec![0.0; n * block.len()];
        for candidate in candidates.chunks_exact_mut(block.len()) {
            below.draw(&mut self.rng, candidate);
        }
        let mut scratch = Vec::new();
        let mut best = (f64::NEG_INFINITY, 0);
        for (i, candidate) in candidates.chunks_exact(block.len()).enumerate() {
            let score = below.log_density(candidate, &mut scratch)
                - above.log_density(candidate, &mut scratch);
            // NaN (both densities zero) never wins; ties keep the first.
            if score > best.0 {
                best = (score, i);
            }
        }
        let chosen = candidates
            .chunks_exact(block.len())
            .nth(best.1)
            .unwrap_or(&[]);
        for (&j, &x) in block.iter().zip(chosen) {
            if let (Some(u), Some(dim)) = (point.get_mut(j), dims.get(j)) {
                *u = dim.unit(x).clamp(0.0, 1.0);
            }
        }
    }

    /// The trials of one group active in this block, in kernel order (by
    /// coordinate for the univariate rule, which needs neighbours; by id
    /// otherwise), with their age weights.
    fn members(
        &self,
        labels: &[Label],
        side: Label,
        block: &[usize],
        dims: &[Dim],
        active: &dyn Fn(usize) -> bool,
    ) -> Vec<(u32, f64)> {
        let n = labels
            .iter()
            .enumerate()
            .filter(|&(t, l)| *l == side && active(t))
            .count();
        let mut weight = vec![0.0; labels.len()];
        let mut rank = 0;
        for (t, l) in labels.iter().enumerate() {
            if *l == side && active(t) {
                weight[t] = self.options.weights.weight(rank, n);
                rank += 1;
            }
        }
        let numeric_single = match block {
            [j] => matches!(dims.get(*j), Some(Dim::Continuous | Dim::Stepped { .. })),
            _ => false,
        };
        if !self.options.multivariate && numeric_single {
            let sorted = self.cache.sorted.get(block[0]).map_or(&[][..], |s| s);
            sorted
                .iter()
                .filter(|(_, t)| weight[*t as usize] > 0.0)
                .map(|&(_, t)| (t, weight[t as usize]))
                .collect()
        } else {
            (0..labels.len())
                .filter(|&t| weight[t] > 0.0)
                .map(|t| (t as u32, weight[t]))
                .collect()
        }
    }

    fn mixture(&self, block: &[usize], dims: &[Dim], members: &[(u32, f64)]) -> Mixture {
        let o = &self.options;
        let n_obs = members.len();
        let k = n_obs + 1;
        let mut weights: Vec<f64> = members.iter().map(|m| m.1).collect();
        weights.push(if n_obs == 0 { 1.0 } else { o.prior_weight });
        let total: f64 = weights.iter().sum();
        // Each kernel's weight over its normalizers, as a product and (in
        // case the product leaves f64's range) as a sum of logs.
        let mut factor: Vec<f64> = weights.iter().map(|w| w / total).collect();
        let mut log_norms: Vec<Vec<f64>> = Vec::new();
        let mut acc = 0.0;
        let cumulative = weights
            .iter()
            .map(|w| {
                acc += w / total;
                acc
            })
            .collect();
        let mut kernels = Vec::with_capacity(block.len());
        for &j in block {
            let dim = dims.get(j).copied().unwrap_or(Dim::Constant);
            let obs = || {
                members
                    .iter()
                    .map(|&(t, _)| self.cache.coord(t as usize, j))
            };
            if let Dim::Categorical { choices } = dim {
                let m = choices as f64;
                let share = o.prior_weight / k as f64;
                let norm = (share * m + 1.0).ln();
                let mut observed: Vec<u32> = obs().map(|x| x as u32).collect();
                let mut log_hit = vec![(share + 1.0).ln() - norm; n_obs];
                let mut log_miss = vec![share.ln() - norm; n_obs];
                observed.push(u32::MAX);
                log_hit.push(-m.ln());
                log_miss.push(-m.ln());
                kernels.push(Kernels::Categorical {
                    observed,
                    log_hit,
                    log_miss,
                    choices,
                });
                continue;
            }
            let mut mu: Vec<f64> = obs().collect();
            let mut sigma = if o.multivariate {
                let s = SIGMA0_MAGNITUDE
                    * (n_obs.max(1) as f64).powf(-1.0 / (block.len() as f64 + 4.0));
                vec![s; n_obs]
            } else {
                neighbour_sigmas(&mu, o.consider_endpoints)
            };
            let min_sigma = if o.consider_magic_clip {
                1.0 / (1.0 + k as f64).min(100.0)
            } else {
                EPS
            };
            for s in &mut sigma {
                *s = s.clamp(min_sigma, 1.0);
            }
            mu.push(0.5);
            sigma.push(1.0);
            let cells = match dim {
                Dim::Stepped { cells } => Some(cells),
                _ => None,
            };
            // Every kernel's centre lies in [0, 1]: its mass inside is
            // 1 - Φ(-m/s) - Φ(-(1 - m)/s), both tails evaluated branch-free.
            let norms: Vec<f64> = mu
                .iter()
                .zip(&sigma)
                .map(|(&m, &s)| {
                    let mass = 1.0 - lower_tail(-m / s) - lower_tail(-(1.0 - m) / s);
                    if cells.is_none() {
                        mass * s * SQRT_2PI
                    } else {
                        mass
                    }
                })
                .collect();
            for (f, n) in factor.iter_mut().zip(&norms) {
                *f /= n;
            }
            log_norms.push(norms);
            let inv_sigma = sigma.iter().map(|s| 1.0 / s).collect();
            kernels.push(Kernels::Numeric {
                mu,
                sigma,
                inv_sigma,
                cells,
            });
        }
        let log_factor = factor.iter().any(|f| !f.is_normal()).then(|| {
            (0..k)
                .map(|i| {
                    let norms: f64 = log_norms.iter().map(|n| n[i].ln()).sum();
                    (weights[i] / total).ln() - norms
                })
                .collect()
        });
        Mixture {
            cumulative,
            factor,
            log_factor,
            dims: kernels,
        }
    }
}

const SQRT_2PI: f64 = 2.506_628_274_631_000_2;

/// Optuna's univariate bandwidths: each kernel as wide as the larger gap to
/// its neighbours among the sorted observations, the prior's centre and the
/// bounds; without `consider_endpoints` the outermost ones look inward only.
/// `sorted` must be ascending.
fn neighbour_sigmas(sorted: &[f64], consider_endpoints: bool) -> Vec<f64> {
    let n = sorted.len();
    let prior_at = sorted.partition_point(|&x| x <= 0.5);
    // Observations, the prior's centre among them, and the bounds.
    let mut e = Vec::with_capacity(n + 3);
    e.push(0.0);
    e.extend_from_slice(&sorted[..prior_at]);
    e.push(0.5);
    e.extend_from_slice(&sorted[prior_at..]);
    e.push(1.0);
    let mut sigmas: Vec<f64> = e
        .windows(3)
        .map(|w| (w[1] - w[0]).max(w[2] - w[1]))
        .collect();
    if !consider_endpoints && e.len() >= 4 {
        let last = sigmas.len() - 1;
        sigmas[0] = e[2] - e[1];
        sigmas[last] = e[last + 1] - e[last];
    }
    sigmas.remove(prior_at);
    sigmas
}

impl Mixture {
    /// Draws a point: a kernel by weight, then each dimension from it.
    fn draw(&self, rng: &mut ChaCha8Rng, out: &mut [f64]) {
        let r = rng.random::<f64>();
        let last = self.cumulative.len().saturating_sub(1);
        let k = self.cumulative.partition_point(|&c| c <= r).min(last);
        for (x, dim) in out.iter_mut().zip(&self.dims) {
            *x = match dim {
                Kernels::Numeric {
                    mu, sigma, cells, ..
                } => {
                    let y = truncated_normal(rng, mu[k], sigma[k]);
                    match cells {
                        Some(c) => cell_centre(y, *c),
                        None => y,
                    }
                }
                Kernels::Categorical {
                    observed,
                    log_hit,
                    choices,
                    ..
                } => {
                    let r = rng.random::<f64>();
                    let m = *choices;
                    let seen = observed[k] as usize;
                    if seen >= m {
                        cell_index(r, m) as f64
                    } else {
                        let p_hit = log_hit[k].exp();
                        if r < p_hit {
                            seen as f64
                        } else {
                            // The other m - 1 values are equally likely.
                            let other = cell_index((r - p_hit) / (1.0 - p_hit), m - 1);
                            (other + usize::from(other >= seen)) as f64
                        }
                    }
                }
            };
        }
    }

    /// ln of the mixture's density (mass, for stepped and categorical
    /// dimensions) at `x`.
    fn log_density(&self, x: &[f64], acc: &mut Vec<f64>) -> f64 {
        self.shape(x, acc);
        let sum = sum_scaled_exp(&self.factor, acc);
        if sum.is_finite() && sum > 1e-290 {
            return sum.ln();
        }
        // Far from every kernel, or factors beyond f64: shift by the top term.
        self.shape(x, acc);
        match &self.log_factor {
            Some(log_factor) => acc.iter_mut().zip(log_factor).for_each(|(a, l)| *a += l),
            None => acc
                .iter_mut()
                .zip(&self.factor)
                .for_each(|(a, f)| *a += f.ln()),
        }
        let top = acc.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if !top.is_finite() {
            return top;
        }
        for a in acc.iter_mut() {
            *a -= top;
        }
        let ones = vec![1.0; acc.len()];
        top + sum_scaled_exp(&ones, acc).ln()
    }

    /// Each kernel's shape term at `x` into `acc`.
    fn shape(&self, x: &[f64], acc: &mut Vec<f64>) {
        acc.clear();
        acc.resize(self.factor.len(), 0.0);
        for (&xi, dim) in x.iter().zip(&self.dims) {
            match dim {
                Kernels::Numeric {
                    mu,
                    inv_sigma,
                    cells: None,
                    ..
                } => {
                    for ((a, &m), &is) in acc.iter_mut().zip(mu).zip(inv_sigma) {
                        let z = (xi - m) * is;
                        *a -= 0.5 * z * z;
                    }
                }
                Kernels::Numeric {
                    mu,
                    inv_sigma,
                    cells: Some(c),
                    ..
                } => {
                    let half = 0.5 / *c as f64;
                    for ((a, &m), &is) in acc.iter_mut().zip(mu).zip(inv_sigma) {
                        *a += log_cell_mass((xi - half - m) * is, (xi + half - m) * is);
                    }
                }
                Kernels::Categorical {
                    observed,
                    log_hit,
                    log_miss,
                    ..
                } => {
                    let xi = xi as u32;
                    for (((a, &o), &h), &m) in
                        acc.iter_mut().zip(observed).zip(log_hit).zip(log_miss)
                    {
                        *a += if o == xi { h } else { m };
                    }
                }
            }
        }
    }
}

/// Σ factor · exp(shape): the exponentials in one pass the compiler can
/// vectorize, then the sum with four partial sums.
fn sum_scaled_exp(factor: &[f64], shape: &mut [f64]) -> f64 {
    for (a, &f) in shape.iter_mut().zip(factor) {
        *a = f * fast_exp(*a);
    }
    let mut lanes = [0.0; 4];
    let chunks = shape.chunks_exact(4);
    let tail: f64 = chunks.remainder().iter().sum();
    for c in chunks {
        for (l, &v) in lanes.iter_mut().zip(c) {
            *l += v;
        }
    }
    lanes.iter().sum::<f64>() + tail
}

/// A draw from N(mu, sigma) truncated to [0, 1], by rejection: mu lies in
/// [0, 1] and sigma <= 1, so at least about a third of the draws land
/// inside; after 200 misses (probability below 1e-35) the last is clamped.
fn truncated_normal(rng: &mut ChaCha8Rng, mu: f64, sigma: f64) -> f64 {
    let mut y = mu;
    for _ in 0..200 {
        let z: f64 = rng.sample(StandardNormal);
        y = mu + sigma * z;
        if (0.0..=1.0).contains(&y) {
            return y;
        }
    }
    y.clamp(0.0, 1.0)
}

/// e^x for x <= 709, to about 3e-10 relative, in plain arithmetic: no call
/// into libm, so loops over it vectorize, and the same bits everywhere.
/// Below -708 it returns about 1e-308 rather than underflowing.
#[inline(always)]
fn fast_exp(x: f64) -> f64 {
    // 1.5 * 2^52: adding it rounds to an integer held in the low bits.
    const SHIFT: f64 = 6_755_399_441_055_744.0;
    const LN2_HI: f64 = 6.931_471_803_691_238e-1;
    const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
    // Comparisons rather than f64::max/min, which carry NaN rules that cost
    // instructions; a NaN stays NaN.
    let x = if x < -708.0 { -708.0 } else { x };
    let x = if x > 709.0 { 709.0 } else { x };
    let shifted = x * std::f64::consts::LOG2_E + SHIFT;
    let k = shifted - SHIFT;
    let r = x - k * LN2_HI - k * LN2_LO;
    // Taylor to r^8 on |r| <= ln2 / 2: truncation error below 3e-10, far
    // finer than ranking candidates needs.
    let mut p = 1.0 / 40_320.0;
    p = p * r + 1.0 / 5_040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    // 2^k from k's low bits: k + 1023 is in 1..=2046 after the clamp.
    let scale = f64::from_bits(shifted.to_bits().wrapping_add(1023) << 52);
    p * scale
}

/// erfc(x) for x >= 0 with relative error below 1.2e-7 everywhere, tails
/// included (the Chebyshev fit of Press et al., Numerical Recipes §6.2):
/// kernel masses only rank candidates, and relative accuracy in the tails is
/// what keeps far-away cells from rounding to zero.
#[inline(always)]
fn erfc_pos(x: f64) -> f64 {
    let t = 1.0 / (1.0 + 0.5 * x);
    let poly = -1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    t * fast_exp(-x * x + poly)
}

/// Φ(z) for z <= 0 (the lower tail, accurate relative to its size).
#[inline(always)]
fn lower_tail(z: f64) -> f64 {
    0.5 * erfc_pos(-z * std::f64::consts::FRAC_1_SQRT_2)
}

/// Φ(b) - Φ(a) for a <= b, without cancellation in either tail.
fn normal_mass(a: f64, b: f64) -> f64 {
    if b <= 0.0 {
        lower_tail(b) - lower_tail(a)
    } else if a >= 0.0 {
        lower_tail(-a) - lower_tail(-b)
    } else {
        1.0 - lower_tail(a) - lower_tail(-b)
    }
}

/// ln(Φ(b) - Φ(a)) for a cell [a, b] in standard units. A cell much
/// narrower than the kernel uses the density at its middle (error of order
/// width² / 24), where the difference of two close tail values would lose
/// the digits.
#[inline]
fn log_cell_mass(a: f64, b: f64) -> f64 {
    let width = b - a;
    if width < 0.05 {
        let mid = 0.5 * (a + b);
        return (width / SQRT_2PI).ln() - 0.5 * mid * mid;
    }
    normal_mass(a, b).max(1e-300).ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_exp_matches_std() {
        for i in -7000..=7000 {
            let x = f64::from(i) * 0.1;
            let (got, want) = (fast_exp(x), x.exp());
            assert!(((got - want) / want).abs() < 3e-10, "{x}: {got} vs {want}");
        }
    }

    #[test]
    fn normal_mass_is_accurate_in_both_tails() {
        // Φ(1) - Φ(-1), Φ(-5) - Φ(-6), Φ(6) - Φ(5) (scipy.stats.norm).
        let cases = [
            (-1.0, 1.0, 0.682_689_492_137_085_9),
            (-6.0, -5.0, 2.856_649_842_341_562e-7),
            (5.0, 6.0, 2.856_649_842_341_562e-7),
        ];
        for (a, b, want) in cases {
            let got = normal_mass(a, b);
            assert!(((got - want) / want).abs() < 1e-6, "[{a}, {b}]: {got}");
        }
        let narrow = log_cell_mass(2.0, 2.01);
        let want = (crate::normal::cdf(2.01) - crate::normal::cdf(2.0)).ln();
        assert!((narrow - want).abs() < 1e-3, "{narrow} vs {want}");
    }

    #[test]
    fn neighbour_sigmas_follow_optunas_rule() {
        // Observations 0.1, 0.2, 0.9 with the prior at 0.5 and bounds 0, 1.
        let s = neighbour_sigmas(&[0.1, 0.2, 0.9], false);
        let expected = [0.1, 0.3, 0.4];
        for (got, want) in s.iter().zip(expected) {
            assert!((got - want).abs() < 1e-12, "{s:?}");
        }
        let s = neighbour_sigmas(&[0.1, 0.2, 0.9], true);
        assert!((s[0] - 0.1).abs() < 1e-12 && (s[2] - 0.4).abs() < 1e-12);
        assert!(neighbour_sigmas(&[], false).is_empty());
    }

    #[test]
    fn split_ranks_complete_then_pruned_and_lies_about_running() {
        let record = |id: u64, state, value, step: Option<(u64, f64)>| TrialRecord {
            id,
            params: Params::new(),
            state,
            value,
            intermediate: step.into_iter().collect(),
            failure: None,
        };
        let trials = [
            record(0, TrialState::Complete, Some(3.0), None),
            record(1, TrialState::Complete, Some(1.0), None),
            record(2, TrialState::Pruned, None, Some((5, 0.5))),
            record(3, TrialState::Pruned, None, Some((2, 0.1))),
            record(4, TrialState::Failed, None, None),
            record(5, TrialState::Running, None, None),
        ];
        let labels = split(&trials, Direction::Minimize, 3, true);
        use Label::*;
        assert_eq!(labels, [Below, Below, Below, Above, Ignored, Above]);
        let labels = split(&trials, Direction::Maximize, 1, false);
        assert_eq!(labels, [Below, Above, Above, Above, Ignored, Ignored]);
    }
}
