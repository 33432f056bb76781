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
//! get Optuna's categorical kernels (one-hot plus the prior's share); a
//! block of categorical parameters only is scored with Optuna's own
//! floating-point arithmetic, since two of its choices often score alike
//! in exact arithmetic and Optuna's rounding picks between them.
//!
//! Bandwidths follow Optuna 5 in both modes: along each dimension, the
//! larger gap to the neighbouring observations (Optuna 4's Scott's rule for
//! the multivariate mode, and the prior's centre as a neighbour, are gone).
//!
//! Speed: the scored mixture ("above") has about one kernel per trial, and
//! every ask evaluates it at every candidate, so the inner loops are kept
//! branch-free over kernel-major arrays with an inlined `exp` the compiler
//! can vectorize; the trials' unit coordinates, their per-parameter sorted
//! order and their Z-order are cached between asks instead of being
//! re-encoded, and so is each trial kernel's normalizer (an erfc near a
//! bound) while its bandwidth stays the same. On a long history a density
//! sums only the runs of kernels near the point ([`Window`]), and
//! candidates whose score is bounded below the best so far are not scored
//! (the bounds summed in `f32` where they fit, [`floor`]);
//! all of these leave the choice unchanged. The buffers that order a
//! mixture's kernels are kept between asks ([`Scratch`]), and so is each
//! block's "above" mixture, updated rather than rebuilt where an ask only
//! adds trials to it ([`kept`]); the "below" group is the best `n_below`
//! trials found in one pass, not a selection over all of them.

mod floor;
mod kept;

use serde::{Deserialize, Serialize};

use floor::Floor32;

use super::numpy_argsort::numpy_argsort;
use super::numpy_random::RandomState;
use super::numpy_sum::pairwise_sum;
use super::truncnorm::Truncated;
use super::{Context, Sampler};
use crate::space::{Distribution, ParamKind, Params, SearchSpace};
use crate::study::{Direction, TrialRecord, TrialState};
use crate::{Error, Result};

/// Optuna's `EPS`: the smallest bandwidth without the magic clip.
const EPS: f64 = 1e-12;
/// A kernel further than this many bandwidths from a point, along the
/// dimension a mixture's kernels are sorted by, adds at most
/// `WINDOW_TAIL` times its factor to the density there.
const WINDOW_SIGMAS: f64 = 8.0;
/// e^(-WINDOW_SIGMAS² / 2), which also bounds Φ(-WINDOW_SIGMAS).
const WINDOW_TAIL: f64 = 1.266_416_554_909_417e-14;
/// Kernels per run, the unit a window keeps or skips.
const RUN: usize = 16;
/// Mixtures with fewer trial kernels are always summed whole.
const WINDOW_MIN: usize = 4 * RUN;
/// The core of a window: kernels within this many bandwidths of a point
/// give a quick lower bound of the density there, enough to rule out most
/// candidates without summing everything (see `TpeSampler::sample_block`).
/// Any lower bound leaves the choice the same; 2 did the least work on the
/// protocol's branin runs (3 sums more kernels per bound, 1.5 rules out
/// fewer candidates; with the bounds in `f32`, 2.5 did 1.5% less work
/// there and 3 the same as 2).
const CORE_SIGMAS: f64 = 2.0;
/// The core of a window along one dimension (univariate TPE, or a block
/// with one numeric parameter). Along one dimension the kernels between 2
/// and 3 bandwidths from a point hold a larger share of its density than
/// over several, so a 2-bandwidth bound sits further below the density and
/// rules out fewer candidates: with 2, about 17 of 24 were scored per
/// block at 1,000 trials on branin. With 3, the univariate 1,000-trial
/// runs cost 31% fewer instructions on branin, 28% on hartmann6, 31% on
/// levy4 and 11% on ackley10 (4: 33%, 28%, 32%, 9%).
const CORE_SIGMAS_1D: f64 = 3.0;
/// Added to a candidate's score bound against rounding: the bound and the
/// score add the same terms in different groupings.
const BOUND_SLACK: f64 = 1e-9;
/// The most, relative to the density, that skipped kernels may add before
/// the whole sum is taken instead (a log-density error of 1e-7, as the erfc's).
const WINDOW_TOLERANCE: f64 = 1e-7;
/// Above this many cells a stepped parameter is treated as continuous: the
/// cells are then far narrower than any kernel and a kernel's mass over a
/// cell is its density times the cell width, the same for every kernel.
const MAX_CELLS: u64 = 1 << 16;

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
                // numpy's `linspace(1 / n, 1, n - 25)`, rounded as it
                // rounds: i steps from the start, the last exactly 1.
                let ramp = n - FLAT;
                let lo = 1.0 / n as f64;
                if ramp == 1 {
                    lo
                } else if i + 1 == ramp {
                    1.0
                } else {
                    i as f64 * ((1.0 - lo) / (ramp - 1) as f64) + lo
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
    /// Model the parameters jointly (one kernel per trial across all
    /// dimensions, each with its own neighbour bandwidth, as Optuna 5)
    /// instead of one mixture per parameter (false).
    pub multivariate: bool,
    /// With `multivariate`: one joint model per group of parameters that are
    /// active together (the same condition), instead of one for the
    /// unconditional parameters and a univariate model for each conditional
    /// one (false).
    pub group: bool,
    /// Count running trials as "above" (as bad as can be), so that parallel
    /// workers are steered away from each other's points (false).
    pub constant_liar: bool,
    /// Model `discrete` lists as unordered choices, as Optuna's
    /// `suggest_categorical` and Katib's Optuna-backed suggestion service
    /// do, instead of as ordered cells (false).
    pub discrete_as_categorical: bool,
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
            discrete_as_categorical: false,
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
/// Every random draw comes from numpy's MT19937 stream, in the order
/// Optuna's `TPESampler` draws (its `RandomSampler`'s stream for the
/// startup trials, its own for the candidates, both seeded with the seed),
/// and candidates are drawn by the truncated normal's quantile as Optuna
/// draws them: on a space Optuna can express, the same seed gives Optuna
/// 5's suggestions, to rounding (with `multivariate` for Optuna's default
/// sampler, and `discrete_as_categorical` for lists it was given as
/// categorical). Where trials share an `int` or stepped coordinate,
/// Optuna's bandwidths depend on the order numpy's unstable argsort leaves
/// them in, which depends on the CPU: keelson replays the order numpy
/// gives on x86-64 with AVX2 (where the anchor was measured), so a history
/// with such ties agrees with Optuna there and may part ways with an
/// Optuna run on a machine without AVX2 or with AVX-512. The saved state
/// is both streams' positions and the options, so a restored study
/// continues exactly.
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
    /// The startup trials' stream (Optuna's `RandomSampler`'s).
    startup: RandomState,
    /// The candidates' stream (Optuna's `TPESampler`'s own).
    rng: RandomState,
    options: TpeOptions,
    /// Derived from the trials only, so it is neither saved nor compared.
    #[serde(skip)]
    cache: Cache,
}

impl PartialEq for TpeSampler {
    fn eq(&self, other: &Self) -> bool {
        self.startup == other.startup && self.rng == other.rng && self.options == other.options
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
            startup: RandomState::new(seed),
            rng: RandomState::new(seed),
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
        let as_categorical = self.options.discrete_as_categorical;
        let dims: Vec<Dim> = ctx
            .space
            .params()
            .iter()
            .map(|p| Dim::of(p, as_categorical))
            .collect();
        self.cache.sync(ctx.space, &dims, ctx.trials)?;
        let finished = ctx
            .trials
            .iter()
            .filter(|t| matches!(t.state, TrialState::Complete | TrialState::Pruned))
            .count();
        let mut point: Vec<f64> = vec![0.5; dims.len()];
        if finished < self.options.n_startup_trials {
            // As Optuna's `RandomSampler`: one draw per numeric parameter,
            // and one per choice of a categorical one (the highest wins).
            for (u, dim) in point.iter_mut().zip(&dims) {
                *u = match *dim {
                    Dim::Categorical { choices } => {
                        let mut best = (f64::NEG_INFINITY, 0);
                        for i in 0..choices {
                            let r = self.startup.random_sample();
                            if r > best.0 {
                                best = (r, i);
                            }
                        }
                        (best.1 as f64 + 0.5) / choices as f64
                    }
                    _ => self.startup.random_sample(),
                };
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
    fn of(param: &crate::space::Param, discrete_as_categorical: bool) -> Dim {
        let cells = param.cardinality();
        match (param.kind(), cells) {
            (_, Some(n)) if n <= 1 => Dim::Constant,
            (ParamKind::Categorical { choices }, _) => Dim::Categorical {
                choices: choices.len(),
            },
            (ParamKind::Discrete { values }, _) if discrete_as_categorical => Dim::Categorical {
                choices: values.len(),
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
    /// sorted (ties in trial order): the bandwidth rule needs neighbours.
    sorted: Vec<Vec<(f64, u32)>>,
    /// Per dimension, whether two trials share a coordinate there: a
    /// group's bandwidths then follow numpy's order among the equal ones
    /// ([`numpy_argsort`]) instead of `sorted`'s.
    tied: Vec<bool>,
    /// (Z-order key, trial) of every trial, sorted: nearby trials are
    /// mostly adjacent, so runs of kernels in this order have small boxes
    /// (see [`Window`]).
    zorder: Vec<(u64, u32)>,
    /// Per trial and dimension (`n * dims`), the last kernel normalizer
    /// that needed an erfc ([`inverse_kernel_norm`]) and the 1/σ it was
    /// for (NaN: none yet). The coordinate and cells are the trial's and
    /// the dimension's, so an equal 1/σ gives the same value: on a long
    /// history most bandwidths sit at the magic clip and do not change
    /// between asks.
    norms: Vec<(f64, f64)>,
    /// Per trial and dimension (`n * dims`), the truncation of the last
    /// kernel drawn from there, with the bits of the σ it was for: the
    /// same σ gives the same truncation, and the "below" kernels drawn from
    /// keep theirs between asks on a long history.
    truncations: Vec<Option<(u64, Truncated)>>,
    /// Buffers reused by every mixture build instead of allocated per ask.
    scratch: Scratch,
    /// Per block, the "above" mixture of the last ask, updated rather than
    /// rebuilt where the next ask only adds trials to it ([`kept`]).
    kept: Vec<kept::Kept>,
}

/// Working buffers of [`TpeSampler::mixture`]: no state, only capacity kept
/// between asks (their contents are rebuilt on every build).
#[derive(Clone, Debug, Default)]
struct Scratch {
    /// The group's trials active in the block, in trial order.
    ids: Vec<u32>,
    /// Per trial: 1 + its kernel's index in the mixture being built; 0 for
    /// none, or `PENDING` plus its rank while the kernel order is being
    /// read. All 0 between builds.
    slot: Vec<u32>,
    /// The kernels' (trial, weight), in kernel order.
    kernels: Vec<(u32, f64)>,
    /// Per dimension of the block, the factor each kernel's normalizer put
    /// on its weight, in kernel order (the prior's last); what a
    /// kept mixture needs to redo the weights alone.
    norms: Vec<Vec<f64>>,
}

/// Marks a member whose kernel index is not known yet in [`Scratch::slot`].
const PENDING: u32 = 1 << 31;

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
                tied: vec![false; dims.len()],
                ..Cache::default()
            };
        }
        for (t, trial) in trials.iter().enumerate().skip(self.n) {
            let unit = space.encode(&trial.params)?;
            for (j, (u, dim)) in unit.iter().zip(dims).enumerate() {
                let x = u.map_or(f64::NAN, |u| dim.internal(u));
                self.coords.push(x);
                self.norms.push((f64::NAN, f64::NAN));
                self.truncations.push(None);
                if let (Some(_), Some(sorted), Some(tied)) =
                    (u, self.sorted.get_mut(j), self.tied.get_mut(j))
                {
                    // Later trials go after equal coordinates.
                    let at = sorted.partition_point(|e| e.0 <= x);
                    *tied |= at > 0 && sorted[at - 1].0 == x;
                    sorted.insert(at, (x, t as u32));
                }
            }
            let row = self.coords.len() - dims.len();
            let key = (zorder_key(&self.coords[row..], dims), t as u32);
            let at = self.zorder.partition_point(|e| *e <= key);
            self.zorder.insert(at, key);
        }
        if trials.len() > self.n || self.first.is_none() {
            self.first = trials.first().map(|t| t.params.clone());
            self.last = trials.last().map(|t| t.params.clone());
        }
        self.n = trials.len();
        Ok(())
    }

    /// (coordinate, trial) of `trials` (in trial order) along `dim`, in the
    /// order Optuna's bandwidth rule sees them: numpy's argsort of the
    /// coordinates in trial order. The rule gives a run of equal
    /// coordinates' outer kernels the gaps to the next values and the inner
    /// ones nothing (the clip), so which is which matters.
    fn in_numpy_order(&self, trials: &[u32], dim: usize) -> Vec<(f64, u32)> {
        let xs: Vec<f64> = trials
            .iter()
            .map(|&t| self.coord(t as usize, dim))
            .collect();
        numpy_argsort(&xs)
            .into_iter()
            .filter_map(|r| Some((*xs.get(r)?, *trials.get(r)?)))
            .collect()
    }

    fn coord(&self, trial: usize, dim: usize) -> f64 {
        self.coords
            .get(trial * self.dims.len() + dim)
            .copied()
            .unwrap_or(f64::NAN)
    }
}

/// The Z-order (Morton) key of a trial's internal coordinates: the bits of
/// its first (up to) four numeric coordinates, interleaved from the top;
/// an inactive coordinate counts as 0.
fn zorder_key(coords: &[f64], dims: &[Dim]) -> u64 {
    let numeric: Vec<f64> = coords
        .iter()
        .zip(dims)
        .filter(|(_, d)| matches!(d, Dim::Continuous | Dim::Stepped { .. }))
        .map(|(&x, _)| x)
        .take(4)
        .collect();
    let Some(bits) = 64_u32.checked_div(numeric.len() as u32) else {
        return 0;
    };
    let bits = bits.min(32);
    let scale = (1_u64 << bits) as f64;
    // `as` saturates, and sends NaN to 0.
    let q: Vec<u64> = numeric
        .iter()
        .map(|&x| ((x * scale) as u64).min((1 << bits) - 1))
        .collect();
    let mut key = 0_u64;
    for b in (0..bits).rev() {
        for &qi in &q {
            key = (key << 1) | ((qi >> b) & 1);
        }
    }
    key
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
    // The best `n_below` complete trials, best first: a total order, so the
    // same set as any full sort, and most trials cost one comparison.
    let mut best: Vec<(f64, u32)> = Vec::with_capacity(n_below + 1);
    let by_key = |a: &(f64, u32), b: &(f64, u32)| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1));
    let mut pruned: Vec<((i128, f64), u32)> = Vec::new();
    for (i, t) in trials.iter().enumerate() {
        match (t.state, t.value) {
            (TrialState::Complete, Some(v)) => {
                labels[i] = Label::Above;
                let key = (sign * v, i as u32);
                let fits = best.len() < n_below
                    || best.last().is_some_and(|worst| by_key(&key, worst).is_lt());
                if fits {
                    let at = best.partition_point(|b| by_key(b, &key).is_lt());
                    best.insert(at, key);
                    best.truncate(n_below);
                }
            }
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
    let from_complete = best.len();
    for &(_, i) in &best {
        labels[i as usize] = Label::Below;
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

/// The groups of parameters modelled jointly, in the order they are
/// sampled; within a group, by name, the order in which Optuna draws a
/// joint search space's parameters.
fn blocks(space: &SearchSpace, dims: &[Dim], options: &TpeOptions) -> Vec<Vec<usize>> {
    let params = space.params();
    let name = |j: usize| params.get(j).map_or("", |p| p.name());
    let mut blocks = groups(space, dims, options);
    for block in &mut blocks {
        block.sort_by(|&a, &b| name(a).cmp(name(b)));
    }
    blocks
}

/// The groups of [`blocks`], each in the space's order.
fn groups(space: &SearchSpace, dims: &[Dim], options: &TpeOptions) -> Vec<Vec<usize>> {
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
#[derive(Clone, Debug, PartialEq)]
enum Kernels {
    /// Truncated normals on [0, 1]; `cells` for a stepped coordinate.
    Numeric {
        mu: Vec<f64>,
        sigma: Vec<f64>,
        inv_sigma: Vec<f64>,
        cells: Option<usize>,
    },
    /// Categorical rows: the observed index (`u32::MAX` for the prior's
    /// uniform row), the probabilities of hitting it or another one, and
    /// their logarithms.
    Categorical {
        observed: Vec<u32>,
        hit: Vec<f64>,
        miss: Vec<f64>,
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
#[derive(Clone, Debug, PartialEq)]
struct Mixture {
    /// Normalized weights, cumulative, for drawing a kernel.
    cumulative: Vec<f64>,
    /// Per kernel: weight over the normalizers of its numeric dimensions.
    factor: Vec<f64>,
    /// ln of `factor`, built only when `factor` over- or underflows.
    log_factor: Option<Vec<f64>>,
    dims: Vec<Kernels>,
    /// For a long history: the trials' kernels are in runs of neighbours, so
    /// a density sums only the runs near the point.
    window: Option<Window>,
}

/// Runs of `RUN` consecutive trial kernels of a mixture, ordered so that a
/// run's kernels lie close together (sorted along the one numeric
/// dimension, or in Z-order over several), with the box in which each run
/// can matter. The prior's kernel (last) is always summed.
#[derive(Clone, Debug, PartialEq)]
struct Window {
    /// Indices into `Mixture::dims` of the numeric dimensions.
    dims: Vec<usize>,
    /// Per run and numeric dimension (run-major), the lowest and highest
    /// coordinate within `WINDOW_SIGMAS` bandwidths of one of the run's
    /// kernels (of its cell, for a stepped one). A point outside the box
    /// along any dimension is that far from every kernel of the run.
    lo: Vec<f64>,
    hi: Vec<f64>,
    /// The same boxes at `CORE_SIGMAS` bandwidths (`CORE_SIGMAS_1D` along
    /// one dimension).
    core_lo: Vec<f64>,
    core_hi: Vec<f64>,
    /// Per run, the sum of its kernels' factors: a skipped run adds at
    /// most this times `WINDOW_TAIL`.
    factor: Vec<f64>,
    /// The kernels in `f32` for the candidates' bounds, where they fit
    /// ([`floor`]).
    floor: Option<Floor32>,
}

impl TpeSampler {
    fn sample_block(&mut self, block: &[usize], dims: &[Dim], labels: &[Label], point: &mut [f64]) {
        let below = self.mixture(block, dims, labels, Label::Below);
        // Drawn before the "above" mixture is built, while the scratch
        // still lists the "below" kernels' trials.
        let n = self.options.n_ei_candidates;
        let candidates = below.draw(&mut self.rng, n, block, &mut self.cache);
        let above = self.above(block, dims, labels);
        let categorical = !block.is_empty()
            && block
                .iter()
                .all(|&j| matches!(dims.get(j), Some(Dim::Categorical { .. })));
        let best = if categorical {
            best_categorical(&candidates, block.len(), &below, &above)
        } else {
            best_candidate(&candidates, block.len(), &below, &above)
        };
        let chosen = candidates
            .chunks_exact(block.len())
            .nth(best)
            .unwrap_or(&[]);
        for (&j, &x) in block.iter().zip(chosen) {
            if let (Some(u), Some(dim)) = (point.get_mut(j), dims.get(j)) {
                *u = dim.unit(x).clamp(0.0, 1.0);
            }
        }
        self.keep(block, above);
    }

    /// The Parzen mixture of the trials of one group active in this block
    /// (all of a block's parameters are active in the same trials) and the
    /// prior. Kernels go in trial order, the order of their age weights;
    /// a long history's go in an order that keeps neighbours together
    /// (along the block's one numeric dimension, or the cached Z-order),
    /// for windowed sums. Not without the magic clip: bandwidths could then
    /// be tiny, and the skipped runs' bound useless.
    fn mixture(&mut self, block: &[usize], dims: &[Dim], labels: &[Label], side: Label) -> Mixture {
        let mut scratch = std::mem::take(&mut self.cache.scratch);
        let mixture = self.build_mixture(block, dims, labels, side, &mut scratch);
        for &t in &scratch.ids {
            if let Some(slot) = scratch.slot.get_mut(t as usize) {
                *slot = 0;
            }
        }
        self.cache.scratch = scratch;
        mixture
    }

    fn build_mixture(
        &mut self,
        block: &[usize],
        dims: &[Dim],
        labels: &[Label],
        side: Label,
        scratch: &mut Scratch,
    ) -> Mixture {
        let o = &self.options;
        let lead = block.first().copied().unwrap_or(0);
        scratch.ids.clear();
        scratch.ids.extend(
            labels
                .iter()
                .enumerate()
                .filter(|&(t, l)| *l == side && !self.cache.coord(t, lead).is_nan())
                .map(|(t, _)| t as u32),
        );
        let n_side = scratch.ids.len();
        scratch.slot.resize(self.cache.n, 0);
        scratch.kernels.clear();
        let numeric: Vec<usize> = (0..block.len())
            .filter(|&i| {
                let dim = block.get(i).and_then(|&j| dims.get(j));
                matches!(dim, Some(Dim::Continuous | Dim::Stepped { .. }))
            })
            .collect();
        let windowed = !numeric.is_empty() && n_side >= WINDOW_MIN && o.consider_magic_clip;
        if windowed {
            for (rank, &t) in scratch.ids.iter().enumerate() {
                if let Some(slot) = scratch.slot.get_mut(t as usize) {
                    *slot = PENDING | rank as u32;
                }
            }
            let mut visit = |t: u32| {
                if let Some(slot) = scratch.slot.get_mut(t as usize)
                    && *slot & PENDING != 0
                {
                    let rank = (*slot & !PENDING) as usize;
                    scratch.kernels.push((t, o.weights.weight(rank, n_side)));
                    *slot = scratch.kernels.len() as u32;
                }
            };
            match numeric[..] {
                [i] => {
                    let sorted = self.cache.sorted.get(block[i]).map_or(&[][..], |s| s);
                    sorted.iter().for_each(|&(_, t)| visit(t));
                }
                _ => self.cache.zorder.iter().for_each(|&(_, t)| visit(t)),
            }
        } else {
            for (rank, &t) in scratch.ids.iter().enumerate() {
                scratch.kernels.push((t, o.weights.weight(rank, n_side)));
                if let Some(slot) = scratch.slot.get_mut(t as usize) {
                    *slot = rank as u32 + 1;
                }
            }
        }
        let members = &scratch.kernels[..];
        let kernel_of = &scratch.slot[..];
        let n_obs = members.len();
        let k = n_obs + 1;
        let mut weights: Vec<f64> = members.iter().map(|m| m.1).collect();
        weights.push(if n_obs == 0 { 1.0 } else { o.prior_weight });
        // numpy's sum, as Optuna adds the weights up: its rounding decides
        // between categorical choices that score alike. (A windowed
        // mixture's kernels are not in trial order, but only the "above"
        // side of a numeric block is windowed, whose densities are summed
        // to 1e-7 anyway.)
        let total = pairwise_sum(&weights);
        // Each kernel's weight over its normalizers, as a product (and, in
        // case the product leaves f64's range, as a sum of logs below).
        let mut factor: Vec<f64> = weights.iter().map(|w| w / total).collect();
        // numpy's `choice(p=...)`: the normalized weights summed up, then
        // divided by their total once more, so the last is exactly 1.
        let mut acc = 0.0;
        let mut cumulative: Vec<f64> = weights
            .iter()
            .map(|w| {
                acc += w / total;
                acc
            })
            .collect();
        if acc > 0.0 {
            cumulative.iter_mut().for_each(|c| *c /= acc);
        }
        let mut kernels = Vec::with_capacity(block.len());
        scratch.norms.resize_with(block.len(), Vec::new);
        for (dim_index, &j) in block.iter().enumerate() {
            let dim = dims.get(j).copied().unwrap_or(Dim::Constant);
            let obs = || {
                members
                    .iter()
                    .map(|&(t, _)| self.cache.coord(t as usize, j))
            };
            if let Dim::Categorical { choices } = dim {
                let rows = categorical_rows(obs(), choices, o.prior_weight, k);
                kernels.push(Kernels::Categorical {
                    observed: rows.observed,
                    hit: rows.hit,
                    miss: rows.miss,
                    log_hit: rows.log_hit,
                    log_miss: rows.log_miss,
                    choices,
                });
                continue;
            }
            // Optuna 5's rule in both modes (its multivariate Scott's rule
            // is gone): each kernel's bandwidth from its neighbours along
            // this dimension. The cache keeps every dimension sorted, so the
            // members' order is a filter away, unless equal coordinates
            // need numpy's order.
            let numpy_order;
            let sorted = if self.cache.tied.get(j).copied().unwrap_or(false) {
                numpy_order = self.cache.in_numpy_order(&scratch.ids, j);
                &numpy_order[..]
            } else {
                self.cache.sorted.get(j).map_or(&[][..], |s| s)
            };
            let members_sorted = sorted.iter().filter_map(|&(x, t)| {
                // 1 + the kernel index; 0 (none) and `PENDING` (never
                // reached by the kernel order) are not kernels.
                let slot = kernel_of.get(t as usize).copied().unwrap_or(0);
                (slot != 0 && slot & PENDING == 0).then(|| (x, slot as usize - 1))
            });
            // Kernel order; the prior's (last) is centred, as wide as the range.
            let (mut mu, mut sigma) = (vec![0.5; k], vec![1.0; k]);
            neighbour_rule(members_sorted, o.consider_endpoints, |kernel, x, s| {
                if let (Some(m), Some(slot)) = (mu.get_mut(kernel), sigma.get_mut(kernel)) {
                    (*m, *slot) = (x, s);
                }
            });
            let min_sigma = if o.consider_magic_clip {
                1.0 / (1.0 + k as f64).min(100.0)
            } else {
                EPS
            };
            let cells = match dim {
                Dim::Stepped { cells } => Some(cells),
                _ => None,
            };
            // One pass per kernel: clip, normalizer into the factor, 1/σ.
            let mut inv_sigma = Vec::with_capacity(k);
            let n_dims = self.cache.dims.len();
            let clip = Clip::new(min_sigma);
            let mut norms = std::mem::take(&mut scratch.norms[dim_index]);
            norms.clear();
            for (i, ((s, &m), f)) in sigma.iter_mut().zip(&mu).zip(factor.iter_mut()).enumerate() {
                let slot = members
                    .get(i)
                    .map(|&(t, _)| (&mut self.cache.norms[..], t as usize * n_dims + j));
                let (clipped, is, norm) = clip.kernel(*s, m, cells, slot);
                *s = clipped;
                *f *= norm;
                norms.push(norm);
                inv_sigma.push(is);
            }
            scratch.norms[dim_index] = norms;
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
                    let norms: f64 = kernels
                        .iter()
                        .map(|d| match d {
                            Kernels::Numeric {
                                mu, sigma, cells, ..
                            } => -inverse_kernel_norm(mu[i], 1.0 / sigma[i], *cells).ln(),
                            Kernels::Categorical { .. } => 0.0,
                        })
                        .sum();
                    (weights[i] / total).ln() - norms
                })
                .collect()
        });
        let window = windowed.then(|| Window::new(numeric, &kernels, &factor));
        Mixture {
            cumulative,
            factor,
            log_factor,
            dims: kernels,
            window,
        }
    }
}

impl Window {
    /// The runs of the trial kernels (all but the last) of a mixture, with
    /// their boxes along the numeric dimensions `dims` (into `kernels`).
    fn new(dims: Vec<usize>, kernels: &[Kernels], factor: &[f64]) -> Window {
        let runs = factor.len().saturating_sub(1).div_ceil(RUN);
        let mut window = Window {
            lo: Vec::with_capacity(runs * dims.len()),
            hi: Vec::with_capacity(runs * dims.len()),
            core_lo: Vec::with_capacity(runs * dims.len()),
            core_hi: Vec::with_capacity(runs * dims.len()),
            factor: Vec::with_capacity(runs),
            dims,
            floor: None,
        };
        window.refresh(0, kernels, factor);
        window
    }

    /// Redoes the boxes of the runs from the one holding kernel `from` on
    /// (the kernels before it kept their centres and bandwidths), and every
    /// run's factor.
    fn refresh(&mut self, from: usize, kernels: &[Kernels], factor: &[f64]) {
        let trials = factor.len().saturating_sub(1);
        let core = if self.dims.len() == 1 {
            CORE_SIGMAS_1D
        } else {
            CORE_SIGMAS
        };
        let first = from / RUN;
        let kept = (first * self.dims.len()).min(self.lo.len());
        for boxes in [
            &mut self.lo,
            &mut self.hi,
            &mut self.core_lo,
            &mut self.core_hi,
        ] {
            boxes.truncate(kept);
        }
        self.factor.clear();
        for start in (0..trials).step_by(RUN) {
            let end = (start + RUN).min(trials);
            self.factor.push(factor[start..end].iter().sum());
            if start < first * RUN {
                continue;
            }
            for &d in &self.dims {
                let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
                let (mut core_lo, mut core_hi) = (f64::INFINITY, f64::NEG_INFINITY);
                if let Some(Kernels::Numeric {
                    mu, sigma, cells, ..
                }) = kernels.get(d)
                {
                    let half = cells.map_or(0.0, |c| 0.5 / c as f64);
                    // Comparisons rather than f64::min/max and their NaN rules:
                    // centres and bandwidths are finite here.
                    let low = |a: f64, b: f64| if b < a { b } else { a };
                    let high = |a: f64, b: f64| if b > a { b } else { a };
                    for (&m, &s) in mu[start..end].iter().zip(&sigma[start..end]) {
                        lo = low(lo, m - WINDOW_SIGMAS * s - half);
                        hi = high(hi, m + WINDOW_SIGMAS * s + half);
                        core_lo = low(core_lo, m - core * s - half);
                        core_hi = high(core_hi, m + core * s + half);
                    }
                } else {
                    // Not numeric after all: never rule the run out.
                    (lo, hi) = (f64::NEG_INFINITY, f64::INFINITY);
                    (core_lo, core_hi) = (lo, hi);
                }
                self.lo.push(lo);
                self.hi.push(hi);
                self.core_lo.push(core_lo);
                self.core_hi.push(core_hi);
            }
        }
        self.floor = Floor32::new(&self.dims, kernels, factor);
    }
}

/// The magic clip of a mixture's bandwidths: each is kept within
/// `[min, 1]`, and a clipped one reuses the one division by the clip.
#[derive(Clone, Copy)]
struct Clip {
    min: f64,
    inv_min: f64,
}

impl Clip {
    fn new(min: f64) -> Clip {
        Clip {
            min,
            inv_min: 1.0 / min,
        }
    }

    /// A kernel's bandwidth `s` (from the neighbour rule) clipped, its
    /// inverse and the factor its normalizer puts on the kernel's weight,
    /// for a kernel centred at `m`. `slot` is [`Cache::norms`] and the
    /// trial kernel's index there (`None` for the prior's kernel): the entry
    /// is read when it holds the same 1/σ and written when it does not, and
    /// not looked up where no erfc is needed.
    #[inline]
    fn kernel(
        self,
        s: f64,
        m: f64,
        cells: Option<usize>,
        slot: Option<(&mut [(f64, f64)], usize)>,
    ) -> (f64, f64, f64) {
        // Comparisons, not f64::clamp: it checks its bounds on every call.
        // A clipped σ (most, on a long history) reuses the one division by
        // the clip: the same 1/σ, bit for bit.
        let (s, is) = if s < self.min {
            (self.min, self.inv_min)
        } else if s > 1.0 {
            (1.0, 1.0)
        } else {
            (s, 1.0 / s)
        };
        // Both bounds beyond 8.5 σ: no erfc, nothing to cache.
        let far = m * is > 8.5 && (1.0 - m) * is > 8.5;
        let slot = slot
            .filter(|_| !far)
            .and_then(|(norms, at)| norms.get_mut(at));
        let norm = match slot {
            // The same trial (so centre) and dimension, the same 1/σ.
            Some(&mut (was, norm)) if was.to_bits() == is.to_bits() => norm,
            Some(slot) => {
                let norm = inverse_kernel_norm(m, is, cells);
                *slot = (is, norm);
                norm
            }
            // Both tails round to 0, the mass to 1: `inverse_kernel_norm`'s
            // density alone.
            None if far && cells.is_none() => is * FRAC_1_SQRT_2PI,
            None if far => 1.0,
            // The prior's kernel.
            None => inverse_kernel_norm(m, is, cells),
        };
        (s, is, norm)
    }
}

const SQRT_2PI: f64 = 2.506_628_274_631_000_2;
const FRAC_1_SQRT_2PI: f64 = 0.398_942_280_401_432_7;

/// One over a kernel's normalizer on `[0, 1]` (its centre `m` lies inside,
/// `is` is 1/σ): the normalizer is the mass inside, times σ√(2π) for a
/// density (`cells` is `None`); a cell's mass needs no more. Written with a
/// single division, and none in the common case of a mass of 1: this runs
/// once per kernel and dimension on every suggestion.
#[inline]
fn inverse_kernel_norm(m: f64, is: f64, cells: Option<usize>) -> f64 {
    // A bound beyond 8.5 σ: its tail is below 1e-17, the mass rounds as if
    // it were 0, and it needs no erfc (most kernels of a long history,
    // whose bandwidths are narrow).
    let tail = |z: f64| if z > 8.5 { 0.0 } else { lower_tail(-z) };
    let mass = 1.0 - tail(m * is) - tail((1.0 - m) * is);
    let density = if cells.is_none() {
        is * FRAC_1_SQRT_2PI
    } else {
        1.0
    };
    if mass == 1.0 { density } else { density / mass }
}

/// The index of the candidate (`width` coordinates each) with the highest
/// score ln l − ln g; ties keep the first, and NaN (both densities zero)
/// never wins. A lower bound of g (from the kernels nearest each
/// candidate) bounds a score from above; candidates are scored in the
/// order of their bounds, and one whose bound cannot beat the best score
/// so far is skipped: the same choice, a fraction of the work on a long
/// history.
fn best_candidate(candidates: &[f64], width: usize, below: &Mixture, above: &Mixture) -> usize {
    let (mut scratch, mut scratch32) = (Vec::new(), Vec::new());
    let chunks = || candidates.chunks_exact(width);
    let log_l: Vec<f64> = chunks()
        .map(|c| below.log_density(c, &mut scratch))
        .collect();
    let bounds: Vec<f64> = chunks()
        .zip(&log_l)
        .map(
            |(c, l)| match above.log_density_floor(c, &mut scratch, &mut scratch32) {
                Some(floor) => l - floor + BOUND_SLACK,
                None => f64::INFINITY,
            },
        )
        .collect();
    let mut order: Vec<usize> = (0..bounds.len()).collect();
    order.sort_by(|&a, &b| bounds[b].total_cmp(&bounds[a]).then(a.cmp(&b)));
    let mut best = (f64::NEG_INFINITY, 0);
    for i in order {
        // A NaN bound rules nothing out.
        let bound = bounds[i];
        if bound < best.0 || (bound == best.0 && i > best.1) {
            continue;
        }
        let Some(candidate) = chunks().nth(i) else {
            continue;
        };
        let score = log_l[i] - above.log_density(candidate, &mut scratch);
        if score > best.0 || (score == best.0 && i < best.1) {
            best = (score, i);
        }
    }
    best.1
}

/// [`best_candidate`] for a block of categorical dimensions only, scored
/// with Optuna's own arithmetic ([`Mixture::categorical_log_density`]):
/// the first of the best scores wins, as in numpy's argmax.
///
/// Candidates repeat (a few choices among 24 draws): each distinct one is
/// scored once, and each mixture's log weights are taken once, not per
/// candidate; the arithmetic per score is the same.
fn best_categorical(candidates: &[f64], width: usize, below: &Mixture, above: &Mixture) -> usize {
    let ln_below: Vec<f64> = below.factor.iter().map(|f| f.ln()).collect();
    let ln_above: Vec<f64> = above.factor.iter().map(|f| f.ln()).collect();
    let mut scored: Vec<(&[f64], f64)> = Vec::new();
    let mut best = (f64::NEG_INFINITY, 0);
    for (i, c) in candidates.chunks_exact(width).enumerate() {
        let score = match scored.iter().find(|(seen, _)| *seen == c) {
            Some(&(_, score)) => score,
            None => {
                let score = below.categorical_log_density(c, &ln_below)
                    - above.categorical_log_density(c, &ln_above);
                scored.push((c, score));
                score
            }
        };
        if score > best.0 {
            best = (score, i);
        }
    }
    best.1
}

/// Optuna's categorical kernels: a trial's row puts `prior_weight /
/// kernels` on every choice and 1 more on its own, the prior's row the
/// share alone, and each row is divided by its own sum, numpy's (whose
/// rounding depends on where the 1 sits, so it is worked out per choice).
/// Per kernel (the trials', then the prior's): the observed choice
/// (`u32::MAX` for the prior), the probability of that choice and of any
/// other one. With no trial, the prior's row is `1 / choices` throughout,
/// as Optuna builds it.
fn categorical_rows(
    observed: impl Iterator<Item = f64>,
    choices: usize,
    prior_weight: f64,
    kernels: usize,
) -> CategoricalRows {
    let share = prior_weight / kernels as f64;
    let row = |seen: Option<usize>| {
        let cells: Vec<f64> = (0..choices)
            .map(|c| if Some(c) == seen { share + 1.0 } else { share })
            .collect();
        // numpy's division leaves a row that sums to 0 as it is.
        let sum = match pairwise_sum(&cells) {
            0.0 => 1.0,
            sum => sum,
        };
        let (hit, miss) = ((share + 1.0) / sum, share / sum);
        [hit, miss, hit.ln(), miss.ln()]
    };
    // Each choice's row, logarithms included, once: the kernels only pick.
    let per_choice: Vec<[f64; 4]> = (0..choices).map(|c| row(Some(c))).collect();
    // A coordinate past the choices (never from `encode`) gets the prior's row.
    let prior_row = row(None);
    let mut rows = CategoricalRows::default();
    for x in observed {
        // `as` saturates, and sends NaN to 0.
        let c = x as u32;
        let [h, m, log_h, log_m] = per_choice.get(c as usize).copied().unwrap_or(prior_row);
        rows.observed.push(c);
        rows.hit.push(h);
        rows.miss.push(m);
        rows.log_hit.push(log_h);
        rows.log_miss.push(log_m);
    }
    let prior = if rows.observed.is_empty() {
        1.0 / choices as f64
    } else {
        prior_row[1]
    };
    rows.observed.push(u32::MAX);
    rows.hit.push(prior);
    rows.miss.push(prior);
    rows.log_hit.push(prior.ln());
    rows.log_miss.push(prior.ln());
    rows
}

/// The rows of [`categorical_rows`], kernel by kernel (the prior's last):
/// the observed choice, the probabilities of hitting it or another one,
/// and their logarithms.
#[derive(Default)]
struct CategoricalRows {
    observed: Vec<u32>,
    hit: Vec<f64>,
    miss: Vec<f64>,
    log_hit: Vec<f64>,
    log_miss: Vec<f64>,
}

/// Optuna 5's neighbour bandwidths: each kernel as wide as the larger gap
/// to its neighbours among the sorted observations and the bounds 0 and 1;
/// without `consider_endpoints` the outermost ones (when there are two or
/// more) look inward only. The prior's centre is not a neighbour (Optuna 4
/// counted it; Optuna 5 dropped it). `sorted` yields (coordinate, key)
/// ascending; `set(key, coordinate, bandwidth)` gets each in turn, in one
/// pass and without buffers (this runs per dimension on every suggestion).
fn neighbour_rule<K>(
    sorted: impl Iterator<Item = (f64, K)>,
    consider_endpoints: bool,
    mut set: impl FnMut(K, f64, f64),
) {
    // The point before the pending one (0, the lower bound, at first), and
    // the pending one, whose right-hand gap is not known yet.
    let mut before = 0.0;
    let mut pending: Option<(f64, K, bool)> = None;
    for (x, key) in sorted {
        if let Some((p, pkey, first)) = pending.take() {
            let (left, right) = (p - before, x - p);
            let s = if (first && !consider_endpoints) || right > left {
                right
            } else {
                left
            };
            set(pkey, p, s);
            before = p;
            pending = Some((x, key, false));
        } else {
            pending = Some((x, key, true));
        }
    }
    if let Some((p, pkey, first)) = pending {
        // The last: a lone observation sees both bounds either way.
        let (left, right) = (p - before, 1.0 - p);
        let s = if !first && !consider_endpoints {
            left
        } else {
            left.max(right)
        };
        set(pkey, p, s);
    }
}

impl Mixture {
    /// Draws `n` points (point-major) in Optuna's order of draws: a kernel
    /// for each by weight, then each categorical dimension's values, then
    /// each numeric dimension's, by the truncated normal's quantile.
    /// `block` holds the space's dimension of each of the mixture's, and
    /// `cache.scratch` its trial kernels (the mixture was the last built).
    fn draw(
        &self,
        rng: &mut RandomState,
        n: usize,
        block: &[usize],
        cache: &mut Cache,
    ) -> Vec<f64> {
        let n_dims = cache.dims.len();
        let (trials, truncations) = (&cache.scratch.kernels, &mut cache.truncations);
        let width = self.dims.len();
        let last = self.cumulative.len().saturating_sub(1);
        let picks: Vec<usize> = (0..n)
            .map(|_| {
                let r = rng.random_sample();
                self.cumulative.partition_point(|&c| c <= r).min(last)
            })
            .collect();
        let mut out = vec![0.0; n * width];
        for (i, dim) in self.dims.iter().enumerate() {
            let Kernels::Categorical {
                observed,
                hit,
                miss,
                choices,
                ..
            } = dim
            else {
                continue;
            };
            for (c, &k) in picks.iter().enumerate() {
                let r = rng.random_sample();
                let (hit, miss) = (hit[k], miss[k]);
                let seen = observed[k] as usize;
                // The first choice whose cumulative probability reaches r;
                // the last one's is 1 by definition.
                let mut cumulative = 0.0;
                let mut index = 0;
                for j in 0..choices.saturating_sub(1) {
                    cumulative += if j == seen { hit } else { miss };
                    if cumulative < r {
                        index += 1;
                    }
                }
                out[c * width + i] = index as f64;
            }
        }
        for (i, dim) in self.dims.iter().enumerate() {
            let Kernels::Numeric {
                mu, sigma, cells, ..
            } = dim
            else {
                continue;
            };
            let j = block.get(i).copied().unwrap_or(0);
            let mut prior = None;
            for (c, &k) in picks.iter().enumerate() {
                let q = rng.random_sample();
                let (m, s) = (mu[k], sigma[k]);
                let fresh = || Truncated::new(-m / s, (1.0 - m) / s);
                // Kernels past the trials' are the prior's.
                let kernel = match trials.get(k) {
                    None => *prior.get_or_insert_with(fresh),
                    Some(&(trial, _)) => match truncations.get_mut(trial as usize * n_dims + j) {
                        // The same trial (so centre) and dimension, the same σ.
                        Some(Some((bits, t))) if *bits == s.to_bits() => *t,
                        Some(slot) => slot.insert((s.to_bits(), fresh())).1,
                        None => fresh(),
                    },
                };
                let y = kernel.ppf(q) * s + m;
                out[c * width + i] = match cells {
                    Some(cells) => cell_centre(y, *cells),
                    None => y,
                };
            }
        }
        out
    }

    /// The log density at a point of a block of categorical dimensions
    /// only, computed as Optuna computes it, to the bit: per kernel the
    /// rows' log probabilities plus its log weight, then the largest term
    /// plus ln Σ exp(term − largest), with numpy's sum. Two choices that
    /// score alike in exact arithmetic (the same counts among a group's
    /// trials) then tie, or part by rounding, as they do in Optuna, which
    /// decides which of them it suggests. `ln_factor` holds the logarithms
    /// of the mixture's factors.
    fn categorical_log_density(&self, x: &[f64], ln_factor: &[f64]) -> f64 {
        let mut terms = vec![0.0; self.factor.len()];
        for (dim, &xi) in self.dims.iter().zip(x) {
            if let Kernels::Categorical {
                observed,
                log_hit,
                log_miss,
                ..
            } = dim
            {
                let xi = xi as u32;
                for (((t, &o), &h), &m) in terms.iter_mut().zip(observed).zip(log_hit).zip(log_miss)
                {
                    *t += if o == xi { h } else { m };
                }
            }
        }
        // With no numeric dimension the factors are the normalized weights.
        for (t, ln_f) in terms.iter_mut().zip(ln_factor) {
            *t += ln_f;
        }
        let top = match terms.iter().copied().fold(f64::NEG_INFINITY, f64::max) {
            f64::NEG_INFINITY => 0.0,
            top => top,
        };
        for t in &mut terms {
            *t = (*t - top).exp();
        }
        pairwise_sum(&terms).ln() + top
    }

    /// ln of the mixture's density (mass, for stepped and categorical
    /// dimensions) at `x`.
    fn log_density(&self, x: &[f64], acc: &mut Vec<f64>) -> f64 {
        if let Some(v) = self.window.as_ref().and_then(|w| self.windowed(w, x, acc)) {
            return v;
        }
        let all = 0..self.factor.len();
        self.shape(x, all.clone(), acc);
        let sum = sum_scaled_exp(&self.factor, acc);
        if sum.is_finite() && sum > 1e-290 {
            return sum.ln();
        }
        // Far from every kernel, or factors beyond f64: shift by the top term.
        self.shape(x, all, acc);
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

    /// [`Mixture::log_density`] from the runs of kernels whose boxes hold
    /// `x` and the prior's kernel; `None` when what the skipped runs could
    /// add is not negligible (then sum them all).
    fn windowed(&self, w: &Window, x: &[f64], acc: &mut Vec<f64>) -> Option<f64> {
        let (sum, skipped) = self.sum_near(w, (&w.lo, &w.hi), x, |range| {
            self.shape(x, range.clone(), acc);
            sum_scaled_exp(&self.factor[range], acc)
        })?;
        let negligible = skipped * WINDOW_TAIL <= WINDOW_TOLERANCE * sum;
        (sum.is_finite() && sum > 1e-290 && negligible).then(|| sum.ln())
    }

    /// A lower bound of [`Mixture::log_density`] at `x`, from the prior's
    /// kernel and the runs whose core boxes hold `x` (a part of a sum of
    /// positive terms), in `f32` where the window has its kernels so
    /// ([`floor`]); `None` without a window, or when the factors leave
    /// f64's range (the sum is then no bound of anything).
    fn log_density_floor(
        &self,
        x: &[f64],
        acc: &mut Vec<f64>,
        acc32: &mut Vec<f32>,
    ) -> Option<f64> {
        let w = self.window.as_ref().filter(|_| self.log_factor.is_none())?;
        let core = (&w.core_lo[..], &w.core_hi[..]);
        let (sum, _) = match &w.floor {
            Some(floor) => self.sum_near(w, core, x, |range| floor.sum(x, range, acc32))?,
            None => self.sum_near(w, core, x, |range| {
                self.shape(x, range.clone(), acc);
                sum_scaled_exp(&self.factor[range], acc)
            })?,
        };
        sum.is_finite().then(|| sum.ln())
    }

    /// The sum, by `terms` (the sum of the terms of the kernels in a
    /// range), over the prior's kernel and the runs whose boxes (run-major,
    /// per numeric dimension of `w`) hold `x`, and the factors of the runs
    /// left out.
    fn sum_near(
        &self,
        w: &Window,
        (lo, hi): (&[f64], &[f64]),
        x: &[f64],
        mut terms: impl FnMut(std::ops::Range<usize>) -> f64,
    ) -> Option<(f64, f64)> {
        let trials = self.factor.len().checked_sub(1)?;
        // Indexing `x` in place: this runs for every density of a long
        // history, and a copy of the point would be an allocation each time.
        if w.dims.iter().any(|&d| d >= x.len()) {
            return None;
        }
        let nd = w.dims.len();
        let near = |r: usize| {
            let (lo, hi) = (&lo[r * nd..(r + 1) * nd], &hi[r * nd..(r + 1) * nd]);
            w.dims
                .iter()
                .zip(lo.iter().zip(hi))
                .all(|(&d, (&l, &h))| l <= x[d] && x[d] <= h)
        };
        let (mut sum, mut skipped) = (0.0, 0.0);
        let mut r = 0;
        while r < w.factor.len() {
            if !near(r) {
                skipped += w.factor[r];
                r += 1;
                continue;
            }
            // Neighbouring runs that matter are summed as one slice.
            let start = r;
            while r < w.factor.len() && near(r) {
                r += 1;
            }
            sum += terms(start * RUN..(r * RUN).min(trials));
        }
        sum += terms(trials..trials + 1);
        Some((sum, skipped))
    }

    /// The shape terms at `x` of the kernels in `range` into `acc`.
    fn shape(&self, x: &[f64], range: std::ops::Range<usize>, acc: &mut Vec<f64>) {
        acc.clear();
        let mut dims = x.iter().zip(&self.dims).peekable();
        // A continuous first dimension writes its terms instead of adding
        // them to zeros: one pass less, and `0.0 - t` is the same sum.
        if let Some(&(
            &xi,
            Kernels::Numeric {
                mu,
                inv_sigma,
                cells: None,
                ..
            },
        )) = dims.peek()
        {
            let (mu, inv_sigma) = (&mu[range.clone()], &inv_sigma[range.clone()]);
            acc.extend(mu.iter().zip(inv_sigma).map(|(&m, &is)| {
                let z = (xi - m) * is;
                0.0 - 0.5 * z * z
            }));
            dims.next();
        } else {
            acc.resize(range.len(), 0.0);
        }
        for (&xi, dim) in dims {
            match dim {
                Kernels::Numeric {
                    mu,
                    inv_sigma,
                    cells: None,
                    ..
                } => {
                    let (mu, inv_sigma) = (&mu[range.clone()], &inv_sigma[range.clone()]);
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
                    let (mu, inv_sigma) = (&mu[range.clone()], &inv_sigma[range.clone()]);
                    // The centres are cells' centres and most bandwidths sit
                    // at the clip: a handful of distinct kernels, each
                    // kernel's mass at `xi` worked out once.
                    let mut memo = CellMemo::default();
                    for ((a, &m), &is) in acc.iter_mut().zip(mu).zip(inv_sigma) {
                        *a += memo.get(m, is, || {
                            log_cell_mass((xi - half - m) * is, (xi + half - m) * is)
                        });
                    }
                }
                Kernels::Categorical {
                    observed,
                    log_hit,
                    log_miss,
                    ..
                } => {
                    let xi = xi as u32;
                    let observed = &observed[range.clone()];
                    let (log_hit, log_miss) = (&log_hit[range.clone()], &log_miss[range.clone()]);
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

/// The log cell masses of one point's stepped coordinate under kernels
/// already met, by the bits of (centre, 1/σ): a direct-mapped table, where
/// a collision only means working one out again.
struct CellMemo {
    keys: [(u64, u64); CellMemo::SLOTS],
    values: [f64; CellMemo::SLOTS],
}

impl Default for CellMemo {
    fn default() -> Self {
        // A NaN's bits: no kernel has a NaN centre.
        CellMemo {
            keys: [(u64::MAX, u64::MAX); CellMemo::SLOTS],
            values: [0.0; CellMemo::SLOTS],
        }
    }
}

impl CellMemo {
    const SLOTS: usize = 32;

    /// The mass of the kernel at `m` with 1/σ `is`, from `mass` the first
    /// time.
    #[inline]
    fn get(&mut self, m: f64, is: f64, mass: impl FnOnce() -> f64) -> f64 {
        let key = (m.to_bits(), is.to_bits());
        let hash = (key.0 ^ key.1.rotate_left(29)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        let slot = (hash >> 59) as usize;
        if self.keys[slot] == key {
            return self.values[slot];
        }
        let value = mass();
        self.keys[slot] = key;
        self.values[slot] = value;
        value
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
    fn the_cell_memo_returns_what_it_was_given_collisions_or_not() {
        let mut memo = CellMemo::default();
        let mut computed = 0;
        // 200 kernels over 40 distinct (centre, 1/σ) pairs: more pairs than
        // slots, so some collide and are worked out again.
        for round in 0..5 {
            for i in 0..40_u32 {
                let (m, is) = ((f64::from(i) + 0.5) / 40.0, 10.0 + f64::from(i % 3));
                let got = memo.get(m, is, || {
                    computed += 1;
                    log_cell_mass((0.3 - m) * is, (0.325 - m) * is)
                });
                let want = log_cell_mass((0.3 - m) * is, (0.325 - m) * is);
                assert_eq!(got.to_bits(), want.to_bits(), "round {round}, kernel {i}");
            }
        }
        assert!(
            (40..200).contains(&computed),
            "{computed} masses worked out"
        );
    }

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
    fn the_ramp_rounds_as_numpy_linspace_does() {
        // numpy 2.4.6: np.linspace(1 / 100, 1, 75), whose i-th value is
        // i * step + start (the 17th here differs in its last bit from
        // start + (1 - start) * i / 74), and the last exactly 1.
        let w = Weights::Ramp.weights(100);
        assert_eq!(w[0], 0.01);
        assert_eq!(w[1], 0.02337837837837838);
        assert_eq!(w[17], 0.23743243243243245);
        assert_eq!(w[73], 0.9866216216216217);
        assert_eq!(&w[74..], [1.0; 26]);
    }

    fn neighbour_sigmas(sorted: &[f64], consider_endpoints: bool) -> Vec<f64> {
        let mut out = vec![f64::NAN; sorted.len()];
        let keyed = sorted.iter().enumerate().map(|(i, &x)| (x, i));
        neighbour_rule(keyed, consider_endpoints, |i, _, s| out[i] = s);
        out
    }

    #[test]
    fn neighbour_sigmas_follow_optunas_rule() {
        // Optuna 5: observations 0.3, 0.4, 0.95 between the bounds 0 and 1
        // (the prior's centre is not a neighbour). Gaps: 0.3, 0.1, 0.55, 0.05.
        let s = neighbour_sigmas(&[0.3, 0.4, 0.95], true);
        let close = |s: &[f64], want: [f64; 3]| {
            s.iter()
                .zip(want)
                .all(|(got, want)| (got - want).abs() < 1e-12)
        };
        assert!(close(&s, [0.3, 0.55, 0.55]), "{s:?}");
        // Without endpoints the outermost look inward only.
        let s = neighbour_sigmas(&[0.3, 0.4, 0.95], false);
        assert!(close(&s, [0.1, 0.55, 0.55]), "{s:?}");
        // A single observation sees both bounds either way.
        assert_eq!(neighbour_sigmas(&[0.25], false), [0.75]);
        assert!(neighbour_sigmas(&[], false).is_empty());
    }

    /// The history of `mixture_matches_optuna_5`: 40 trials of a
    /// low-discrepancy walk over x in [-5, 10] and an int n in [0, 63]
    /// (no two trials share an n, so no tie order is involved).
    fn walk_history(n: u32) -> Result<(SearchSpace, Vec<TrialRecord>)> {
        use crate::space::{ParamSpec, Value};
        let space = SearchSpace::new([
            ParamSpec::double("x", -5.0, 10.0),
            ParamSpec::int("n", 0, 63),
        ])?;
        let trials = (0..n)
            .map(|i| {
                let x = -5.0 + 15.0 * ((f64::from(i) * 0.618_033_988_7) % 1.0);
                let n = (64.0 * ((f64::from(i) * 0.414_213_562_3 + 0.1) % 1.0)) as i64;
                let mut params = Params::new();
                params.insert("x", Value::Double(x));
                params.insert("n", Value::Int(n));
                TrialRecord {
                    id: u64::from(i),
                    params,
                    state: TrialState::Complete,
                    value: Some((x - 1.5).powi(2) + ((n as f64 - 24.0) / 8.0).powi(2)),
                    values: Vec::new(),
                    intermediate: Default::default(),
                    failure: None,
                }
            })
            .collect();
        Ok((space, trials))
    }

    /// A multivariate sampler whose cache is synced to [`walk_history`].
    fn multivariate_on_walk(n: u32) -> Result<(Vec<TrialRecord>, TpeSampler, Vec<Dim>)> {
        let (space, trials) = walk_history(n)?;
        let mut tpe = TpeSampler::with_options(
            0,
            TpeOptions {
                multivariate: true,
                ..TpeOptions::default()
            },
        );
        let dims: Vec<Dim> = space.params().iter().map(|p| Dim::of(p, false)).collect();
        tpe.cache.sync(&space, &dims, &trials)?;
        Ok((trials, tpe, dims))
    }

    #[test]
    fn mixture_matches_optuna_5() -> Result<()> {
        // Reference: Optuna 5.0's `_ParzenEstimator` (multivariate) on the
        // same history and split, its `log_pdf` at the points below plus
        // ln 15 (keelson's densities are per unit of the cube; the int's
        // cell masses need no change). Neighbour bandwidths per dimension:
        // below, x's are 2.5 (of 15) and n's 15, 15, 32/3, 32/3 (of 64).
        let (trials, mut tpe, dims) = multivariate_on_walk(40)?;
        let labels = split(&trials, Direction::Minimize, 4, false);
        let below_ids: Vec<usize> = (0..40).filter(|&t| labels[t] == Label::Below).collect();
        assert_eq!(below_ids, [17, 20, 25, 30]);
        let block = [0, 1];
        let points = [
            [-4.0, 0.0],
            [0.0, 24.0],
            [1.5, 30.0],
            [7.25, 50.0],
            [9.9, 63.0],
        ];
        let cube = |p: &[f64; 2]| [(p[0] + 5.0) / 15.0, (p[1] + 0.5) / 64.0];
        let expected = [
            (
                Label::Below,
                [
                    -5.517_107_337,
                    -3.185_494_826,
                    -2.943_374_544,
                    -5.346_848_145,
                    -5.925_437_67,
                ],
            ),
            (
                Label::Above,
                [
                    -7.554_601_752,
                    -6.009_785_75,
                    -7.534_260_431,
                    -6.350_926_899,
                    -7.774_569_628,
                ],
            ),
        ];
        let mut scratch = Vec::new();
        for (side, want) in expected {
            let mixture = tpe.mixture(&block, &dims, &labels, side);
            if let (
                Label::Below,
                [
                    Kernels::Numeric { sigma: sx, .. },
                    Kernels::Numeric { sigma: sn, .. },
                ],
            ) = (side, &mixture.dims[..])
            {
                let want_n = [15.0, 15.0, 32.0 / 3.0, 32.0 / 3.0, 64.0];
                assert!(
                    sx[..4].iter().all(|s| (s - 2.5 / 15.0).abs() < 1e-12),
                    "{sx:?}"
                );
                assert!(
                    sn.iter()
                        .zip(want_n)
                        .all(|(s, w)| (s - w / 64.0).abs() < 1e-12),
                    "{sn:?}"
                );
            }
            for (p, want) in points.iter().zip(want) {
                let x = cube(p);
                let internal = [x[0], cell_centre(x[1], 64)];
                let got = mixture.log_density(&internal, &mut scratch);
                let brute = brute_log_density(&mixture, &internal);
                // Narrow cells use the density at their middle (relative
                // error about width^2 / 24), hence 1e-4.
                assert!(
                    (got - want).abs() < 1e-4,
                    "{side:?} at {p:?}: {got} vs Optuna {want}"
                );
                assert!(
                    (got - brute).abs() < 1e-4,
                    "{side:?} at {p:?}: {got} vs {brute}"
                );
            }
        }
        Ok(())
    }

    #[test]
    fn windowed_density_matches_the_whole_sum() -> Result<()> {
        // 400 trials: "above" is long enough for runs and windows.
        let (trials, mut tpe, dims) = multivariate_on_walk(400)?;
        let labels = split(&trials, Direction::Minimize, 25, false);
        let windowed = tpe.mixture(&[0, 1], &dims, &labels, Label::Above);
        let mut whole = tpe.mixture(&[0, 1], &dims, &labels, Label::Above);
        assert!(windowed.window.is_some());
        whole.window = None;
        let mut scratch = Vec::new();
        let mut floors_below = 0;
        for i in 0..500_u32 {
            // Points everywhere, near kernels and in the gaps between them.
            let x0 = (f64::from(i) * 0.754_877_666_2) % 1.0;
            let x1 = cell_centre((f64::from(i) * 0.569_840_291) % 1.0, 64);
            let x = [x0, x1];
            let got = windowed.log_density(&x, &mut scratch);
            let want = whole.log_density(&x, &mut scratch);
            assert!((got - want).abs() < 1e-7, "at {x:?}: {got} vs {want}");
            let brute = brute_log_density(&whole, &x);
            assert!((want - brute).abs() < 1e-4, "at {x:?}: {want} vs {brute}");
            // The floor that rules candidates out never exceeds the density.
            let floor = windowed
                .log_density_floor(&x, &mut scratch, &mut Vec::new())
                .unwrap_or(f64::INFINITY);
            assert!(floor <= want + 1e-12, "at {x:?}: floor {floor} > {want}");
            floors_below += usize::from(floor < want - 1e-3);
        }
        // And it is a real saving only if it leaves kernels out somewhere.
        assert!(floors_below > 0);
        Ok(())
    }

    #[test]
    fn the_f32_floor_bounds_the_density_of_continuous_mixtures() -> Result<()> {
        use crate::space::{ParamSpec, Value};
        let space = SearchSpace::new([
            ParamSpec::double("x", -5.0, 10.0),
            ParamSpec::double("y", 0.0, 15.0),
        ])?;
        let trials: Vec<TrialRecord> = (0..400_u32)
            .map(|i| {
                let u = (f64::from(i) * 0.618_033_988_7) % 1.0;
                let v = (f64::from(i) * 0.414_213_562_3 + 0.1) % 1.0;
                let mut params = Params::new();
                params.insert("x", Value::Double(-5.0 + 15.0 * u));
                params.insert("y", Value::Double(15.0 * v));
                TrialRecord {
                    id: u64::from(i),
                    params,
                    state: TrialState::Complete,
                    value: Some((u - 0.3).powi(2) + (v - 0.6).powi(2)),
                    values: Vec::new(),
                    intermediate: Default::default(),
                    failure: None,
                }
            })
            .collect();
        let mut tpe = TpeSampler::new(0);
        let dims: Vec<Dim> = space.params().iter().map(|p| Dim::of(p, false)).collect();
        tpe.cache.sync(&space, &dims, &trials)?;
        let labels = split(&trials, Direction::Minimize, 25, false);
        let above = tpe.mixture(&[0, 1], &dims, &labels, Label::Above);
        assert!(above.window.as_ref().is_some_and(|w| w.floor.is_some()));
        let (mut scratch, mut scratch32) = (Vec::new(), Vec::new());
        let mut floors_below = 0;
        for i in 0..500_u32 {
            let x = [
                (f64::from(i) * 0.754_877_666_2) % 1.0,
                (f64::from(i) * 0.569_840_291) % 1.0,
            ];
            let density = above.log_density(&x, &mut scratch);
            let floor = above
                .log_density_floor(&x, &mut scratch, &mut scratch32)
                .unwrap_or(f64::INFINITY);
            assert!(floor <= density, "at {x:?}: floor {floor} > {density}");
            floors_below += usize::from(floor < density - 1e-3);
        }
        assert!(floors_below > 0);
        Ok(())
    }

    #[test]
    fn cached_normalizers_are_the_computed_ones() -> Result<()> {
        let (space, trials) = walk_history(400)?;
        let dims: Vec<Dim> = space.params().iter().map(|p| Dim::of(p, false)).collect();
        let options = TpeOptions {
            multivariate: true,
            ..TpeOptions::default()
        };
        let factors = |tpe: &mut TpeSampler, n: usize| -> Result<Vec<Vec<u64>>> {
            let history = &trials[..n];
            tpe.cache.sync(&space, &dims, history)?;
            let n_below = Gamma::default().below(n);
            let labels = split(history, Direction::Minimize, n_below, false);
            let mut bits = Vec::new();
            for side in [Label::Below, Label::Above] {
                let mixture = tpe.mixture(&[0, 1], &dims, &labels, side);
                bits.push(mixture.factor.iter().map(|f| f.to_bits()).collect());
            }
            Ok(bits)
        };
        // A sampler whose normalizer cache grew with the history, as in a
        // study, gives the same factors, bit for bit, as a fresh one.
        let mut warm = TpeSampler::with_options(0, options.clone());
        for n in [20, 60, 99, 100, 101, 150, 250, 399, 400] {
            let got = factors(&mut warm, n)?;
            let want = factors(&mut TpeSampler::with_options(0, options.clone()), n)?;
            assert_eq!(got, want, "after {n} trials");
        }
        Ok(())
    }

    /// ln of a mixture's density computed the slow way: every kernel's
    /// truncated normal (continuous) or cell mass (stepped) from `libm`'s
    /// exp and the crate's reference normal CDF, summed without shortcuts.
    fn brute_log_density(mixture: &Mixture, x: &[f64]) -> f64 {
        let cdf = crate::normal::cdf;
        let k = mixture.factor.len();
        let weights: Vec<f64> = (0..k)
            .map(|i| {
                mixture.cumulative[i]
                    - if i == 0 {
                        0.0
                    } else {
                        mixture.cumulative[i - 1]
                    }
            })
            .collect();
        let mut total = 0.0;
        for (i, w) in weights.iter().enumerate() {
            let mut density = *w;
            for (&xi, dim) in x.iter().zip(&mixture.dims) {
                let Kernels::Numeric {
                    mu, sigma, cells, ..
                } = dim
                else {
                    unreachable!("numeric only")
                };
                let (m, s) = (mu[i], sigma[i]);
                let inside = cdf((1.0 - m) / s) - cdf(-m / s);
                density *= match cells {
                    None => (-0.5 * ((xi - m) / s).powi(2)).exp() / (s * SQRT_2PI) / inside,
                    Some(c) => {
                        let half = 0.5 / *c as f64;
                        (cdf((xi + half - m) / s) - cdf((xi - half - m) / s)) / inside
                    }
                };
            }
            total += density;
        }
        total.ln()
    }

    #[test]
    fn split_ranks_complete_then_pruned_and_lies_about_running() {
        let record = |id: u64, state, value, step: Option<(u64, f64)>| TrialRecord {
            id,
            params: Params::new(),
            state,
            value,
            values: Vec::new(),
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
