//! CMA-ES behind the [`Sampler`] trait: [`CmaEsSampler`] and its options.
//! The distribution and its update are in `strategy`, learning-rate
//! adaptation in `lr_adapt`, the margin for integers in `margin`.

mod lr_adapt;
mod margin;
mod strategy;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::{Context, Sampler};
use crate::space::{ParamKind, Params, SearchSpace, Value};
use crate::study::{Direction, TrialState};
use crate::{Error, Result};
use margin::Axis;
use strategy::Strategy;

/// Draws outside the unit cube are redrawn at most this many times before
/// the last one is projected onto it.
const MAX_RESAMPLES: usize = 100;
/// The largest population, given or grown by restarts.
const MAX_POPSIZE: usize = 1 << 20;

/// What to do when a run of CMA-ES has converged or stalled (Katib's
/// `restart_strategy`).
///
/// ```
/// use keelson_hpo::samplers::Restart;
/// let r: Restart = serde_json::from_str(r#"{"ipop": {"inc_popsize": 2}}"#).unwrap();
/// assert_eq!(r, Restart::Ipop { inc_popsize: 2 });
/// assert_eq!(serde_json::to_string(&Restart::None).unwrap(), "\"none\"");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Restart {
    /// Keep going (Optuna's default); only a numerically degenerate
    /// distribution is restarted.
    #[default]
    None,
    /// IPOP-CMA-ES (Auger and Hansen 2005): restart from a random point with
    /// the population multiplied by `inc_popsize` each time.
    Ipop {
        /// The population's growth factor per restart (2; at least 1).
        inc_popsize: usize,
    },
    /// BIPOP-CMA-ES (Hansen 2009): IPOP restarts alternating with runs of a
    /// random smaller population and step size, whichever regime has used
    /// fewer trials so far.
    Bipop {
        /// The large regime's growth factor per restart (2; at least 1).
        inc_popsize: usize,
    },
}

/// The settings of [`CmaEsSampler`]; `Default` gives Optuna's defaults,
/// plus the margin for integer parameters.
///
/// ```
/// use keelson_hpo::samplers::{CmaEsOptions, Restart};
/// let o = CmaEsOptions { restart: Restart::Ipop { inc_popsize: 2 }, ..CmaEsOptions::default() };
/// assert!(o.validate().is_ok());
/// assert!((o.sigma0 - 1.0 / 6.0).abs() < 1e-15);
/// let bad = CmaEsOptions { popsize: Some(1), ..CmaEsOptions::default() };
/// assert!(bad.validate().unwrap_err().to_string().contains("cmaes.popsize"));
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CmaEsOptions {
    /// The initial step size in unit-cube units (1/6: the cube's width is
    /// ±3σ₀; Katib's `sigma`).
    pub sigma0: f64,
    /// Solutions per generation (λ); `None` for 4 + ⌊3 ln n⌋. At least 2.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub popsize: Option<usize>,
    /// Where the search starts: a value for every parameter; `None` for the
    /// middle of the cube.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub x0: Option<Params>,
    /// Restarts (none).
    pub restart: Restart,
    /// A diagonal covariance (sep-CMA-ES) with its faster learning rates
    /// (false).
    pub separable: bool,
    /// Learning-rate adaptation (LRA-CMA-ES) (false); not with `separable`.
    pub lr_adapt: bool,
    /// The margin for `int`, stepped `double` and `discrete` parameters
    /// (true; it only acts when the space has some).
    pub with_margin: bool,
}

impl Default for CmaEsOptions {
    fn default() -> Self {
        CmaEsOptions {
            sigma0: 1.0 / 6.0,
            popsize: None,
            x0: None,
            restart: Restart::None,
            separable: false,
            lr_adapt: false,
            with_margin: true,
        }
    }
}

impl CmaEsOptions {
    /// Checks the settings; the error names the offending one
    /// (`cmaes.sigma0`, `cmaes.popsize`, `cmaes.restart.inc_popsize`,
    /// `cmaes.lr_adapt`). `x0` is checked against the space by
    /// [`Sampler::check_space`].
    ///
    /// ```
    /// use keelson_hpo::samplers::CmaEsOptions;
    /// let err = CmaEsOptions { sigma0: 0.0, ..CmaEsOptions::default() }.validate().unwrap_err();
    /// assert!(err.to_string().contains("cmaes.sigma0"));
    /// ```
    pub fn validate(&self) -> Result<()> {
        if !(self.sigma0.is_finite() && self.sigma0 > 0.0) {
            return Err(Error::setting(
                "cmaes.sigma0",
                format!("must be finite and > 0, got {}", self.sigma0),
            ));
        }
        if let Some(p) = self.popsize
            && !(2..=MAX_POPSIZE).contains(&p)
        {
            return Err(Error::setting(
                "cmaes.popsize",
                format!("must be between 2 and {MAX_POPSIZE}, got {p}"),
            ));
        }
        if let Restart::Ipop { inc_popsize: 0 } | Restart::Bipop { inc_popsize: 0 } = self.restart {
            return Err(Error::setting(
                "cmaes.restart.inc_popsize",
                "must be at least 1",
            ));
        }
        if self.lr_adapt && self.separable {
            return Err(Error::setting(
                "cmaes.lr_adapt",
                "is not available with separable (the adaptation is defined for a full covariance)",
            ));
        }
        Ok(())
    }
}

/// CMA-ES, the covariance matrix adaptation evolution strategy (Hansen,
/// "The CMA Evolution Strategy: A Tutorial", 2016), behind the ask/tell
/// [`Sampler`] trait, with the defaults of Optuna's `CmaEsSampler`.
///
/// # The search
///
/// CMA-ES samples generations of λ solutions from a normal distribution
/// N(m, σ²C) and, once a generation's solutions have finished, moves m
/// toward the best of them and adapts σ and C from the steps that worked.
/// It searches the space's unit cube ([`crate::space`]): a coordinate is
/// the parameter's prior CDF, so log-scale parameters are searched in log
/// space, as Optuna does. The start is the middle of the cube (or
/// [`CmaEsOptions::x0`]) with σ₀ = 1/6 of the unit range and
/// λ = 4 + ⌊3 ln n⌋ for n parameters.
///
/// * **Bounds.** A draw outside the cube is drawn again, up to 100 times,
///   then projected onto the cube (each coordinate clamped); the update
///   sees the projected point.
/// * **Integers and lists.** `int`, stepped `double` and `discrete`
///   parameters are searched as coordinates cut into one cell per value
///   (`discrete` values ordered by size). With
///   [`CmaEsOptions::with_margin`] (the default) the margin of Hamano et
///   al. (2022) keeps each such coordinate exploring its neighbouring
///   values once the distribution is narrower than a cell; without it,
///   the space's decoding rounds to the nearest value and a parameter can
///   freeze.
/// * **Categorical and conditional parameters** are not supported:
///   [`Sampler::check_space`] rejects them with
///   [`Error::UnsupportedSpace`] naming the parameter.
/// * **Variants.** [`CmaEsOptions::separable`] keeps C diagonal (sep-CMA,
///   Ros and Hansen 2008: linear cost per sample and faster learning);
///   [`CmaEsOptions::lr_adapt`] adapts the learning rates of m and σ²C to
///   the update's signal-to-noise ratio (LRA-CMA-ES, Nomura et al. 2023),
///   for multimodal and noisy functions.
/// * **Restarts.** With [`Restart::Ipop`] a run that meets one of Hansen's
///   termination criteria (TolFun and TolHistFun 1e-12, TolX 1e-12·σ₀,
///   TolXUp 1e4·σ₀, NoEffectAxis, NoEffectCoord, ConditionCov 1e14)
///   restarts from a uniformly random point with σ₀ and the population
///   multiplied by `inc_popsize`; [`Restart::Bipop`] alternates those runs
///   with runs of smaller populations and step sizes, whichever regime has
///   used fewer trials (Hansen 2009). Without restarts the run goes on past
///   those criteria, as Optuna's does; only a distribution that degenerates
///   numerically is restarted (same population).
///
/// # Trials and generations
///
/// Each suggestion is one solution of the current generation. The sampler
/// keeps the solutions it issued with their internal vectors and
/// recognizes each new trial of [`Context::trials`] as the earliest issued
/// solution with the same parameter values (normally trial n is the n-th
/// suggestion), reading each new trial once: a cursor, no rescan of the
/// history. A generation updates the distribution as soon as λ of its
/// solutions have finished, the first λ in the order issued.
///
/// * **Failed and pruned trials** rank as the worst of their generation
///   (ties in the order issued), so the search moves away from settings
///   that fail instead of sampling them again; a generation whose trials
///   all fail still updates.
/// * **Parallel trials.** Asking beyond a generation never blocks: the
///   extra solutions come from the current distribution (as Optuna does)
///   and count toward it if they finish in time; those still running when
///   the generation updates are ignored.
/// * **Direction.** Values are negated for [`Direction::Maximize`].
///
/// Every random draw comes from the sampler's ChaCha8 generator and the
/// whole state (distribution, evolution paths, issued solutions, restart
/// counters) is serde data: a saved and restored study continues with
/// exactly the suggestions of the uninterrupted one, running trials and
/// half-finished generations included.
///
/// # Cost
///
/// An ask draws one normal vector and multiplies it by B·D (O(n²)); each
/// generation's update costs O(λ n²) plus one symmetric eigendecomposition
/// (nalgebra, O(n³)); nothing depends on the length of the history.
///
/// # Katib
///
/// Katib's `cmaes` settings map to `random_state` → the seed,
/// `sigma` → [`CmaEsOptions::sigma0`] (in unit-cube units: a fraction of
/// each parameter's range), `restart_strategy` `none` | `ipop` | `bipop` →
/// [`Restart::None`], [`Restart::Ipop`] / [`Restart::Bipop`] with
/// `inc_popsize` 2.
///
/// ```
/// use keelson_hpo::{CmaEsSampler, Direction, Outcome, ParamSpec, SearchSpace, Study};
///
/// let space = SearchSpace::new([
///     ParamSpec::double("x", -5.0, 5.0),
///     ParamSpec::double("y", -5.0, 5.0),
/// ])?;
/// let mut study = Study::new(space, Direction::Minimize, CmaEsSampler::new(7))?;
/// for _ in 0..300 {
///     let trial = study.ask()?;
///     let (x, y) = (trial.params.f64("x")?, trial.params.f64("y")?);
///     study.tell(trial.id, Outcome::Value((x - 1.0).powi(2) + 10.0 * (y + 2.0).powi(2)))?;
/// }
/// assert!(study.best_trial().unwrap().value.unwrap() < 1e-6);
/// # Ok::<(), keelson_hpo::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CmaEsSampler {
    rng: ChaCha8Rng,
    options: CmaEsOptions,
    /// Created by the first suggestion, when the space is known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    run: Option<Run>,
}

impl CmaEsSampler {
    /// A CMA-ES sampler with the default options, seeded with `seed`
    /// (Katib's `random_state`).
    ///
    /// ```
    /// use keelson_hpo::CmaEsSampler;
    /// assert_ne!(CmaEsSampler::new(1), CmaEsSampler::new(2));
    /// assert!(CmaEsSampler::new(1).options().with_margin);
    /// ```
    pub fn new(seed: u64) -> Self {
        Self::with_options(seed, CmaEsOptions::default())
    }

    /// A CMA-ES sampler with the given options (checked when a study is
    /// created or restored).
    ///
    /// ```
    /// use keelson_hpo::{samplers::CmaEsOptions, CmaEsSampler};
    /// let s = CmaEsSampler::with_options(0, CmaEsOptions { separable: true, ..CmaEsOptions::default() });
    /// assert!(s.options().separable);
    /// ```
    pub fn with_options(seed: u64, options: CmaEsOptions) -> Self {
        CmaEsSampler {
            rng: ChaCha8Rng::seed_from_u64(seed),
            options,
            run: None,
        }
    }

    /// The options.
    ///
    /// ```
    /// assert_eq!(keelson_hpo::CmaEsSampler::new(0).options().popsize, None);
    /// ```
    pub fn options(&self) -> &CmaEsOptions {
        &self.options
    }

    /// The current population size λ; `None` before the first suggestion.
    ///
    /// ```
    /// use keelson_hpo::{CmaEsSampler, Direction, ParamSpec, SearchSpace, Study};
    /// let space = SearchSpace::new((0..10).map(|i| ParamSpec::double(&format!("x{i}"), 0.0, 1.0)))?;
    /// let mut study = Study::new(space, Direction::Minimize, CmaEsSampler::new(0))?;
    /// assert_eq!(study.sampler().population_size(), None);
    /// study.ask()?;
    /// assert_eq!(study.sampler().population_size(), Some(10)); // 4 + ⌊3 ln 10⌋
    /// # Ok::<(), keelson_hpo::Error>(())
    /// ```
    pub fn population_size(&self) -> Option<usize> {
        self.run.as_ref().map(|r| r.es.lambda)
    }

    /// Generations completed (distribution updates), over all runs.
    ///
    /// ```
    /// assert_eq!(keelson_hpo::CmaEsSampler::new(0).generations(), 0);
    /// ```
    pub fn generations(&self) -> u64 {
        self.run.as_ref().map_or(0, |r| r.generations)
    }

    /// Restarts so far.
    ///
    /// ```
    /// assert_eq!(keelson_hpo::CmaEsSampler::new(0).restarts(), 0);
    /// ```
    pub fn restarts(&self) -> u32 {
        self.run.as_ref().map_or(0, |r| r.restarts.count)
    }
}

impl Sampler for CmaEsSampler {
    fn name(&self) -> &str {
        "cmaes"
    }

    fn check_space(&self, space: &SearchSpace) -> Result<()> {
        self.options.validate()?;
        for param in space.params() {
            let reason = if matches!(param.kind(), ParamKind::Categorical { .. }) {
                "categorical parameters have no order for a normal distribution to search; use tpe, random, sobol or grid"
            } else if param.condition().is_some() {
                "conditional parameters are not supported: CMA-ES needs every parameter in every trial"
            } else {
                continue;
            };
            return Err(Error::UnsupportedSpace {
                sampler: self.name().to_owned(),
                param: param.name().to_owned(),
                reason: reason.to_owned(),
            });
        }
        if let Some(x0) = &self.options.x0 {
            space
                .check(x0)
                .map_err(|e| Error::setting("cmaes.x0", e.to_string()))?;
        }
        match &self.run {
            Some(run) => run.check(space),
            None => Ok(()),
        }
    }

    fn suggest(&mut self, ctx: &Context<'_>) -> Result<Option<Params>> {
        self.options.validate()?;
        if self.run.is_none() {
            self.run = Some(Run::start(&self.options, ctx.space)?);
        }
        let Some(run) = self.run.as_mut() else {
            return Err(Error::Restore("cmaes state: no run".into()));
        };
        if run.axes.len() != ctx.space.dims() {
            return Err(Error::Restore(format!(
                "cmaes state: {} coordinates for a space of {} parameters",
                run.axes.len(),
                ctx.space.dims()
            )));
        }
        run.observe(ctx);
        if run.generation_done() {
            run.advance(&self.options, ctx.space, &mut self.rng);
        }
        run.propose(ctx.space, &mut self.rng).map(Some)
    }
}

/// A finished solution's outcome, direction-adjusted: smaller is better.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Told {
    /// The objective value (negated when maximizing).
    Value(f64),
    /// Failed or pruned: worse than any value.
    Worst,
}

impl Told {
    fn key(self) -> f64 {
        match self {
            Told::Value(v) => v,
            Told::Worst => f64::INFINITY,
        }
    }
}

/// A solution issued in the current generation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Solution {
    /// Its index in the trials, once a trial with its values has appeared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    trial: Option<usize>,
    /// The vector the update sees (bounded coordinates projected).
    x: Vec<f64>,
    /// The parameter values suggested, in space order: how its trial is
    /// recognized.
    values: Vec<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    told: Option<Told>,
}

impl Solution {
    fn is_for(&self, space: &SearchSpace, params: &Params) -> bool {
        params.len() == self.values.len()
            && space
                .params()
                .iter()
                .zip(&self.values)
                .all(|(p, v)| params.get(p.name()) == Some(v))
    }
}

/// Restart bookkeeping; trial counts per regime are BIPOP's budgets.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
struct Restarts {
    count: u32,
    /// Restarts of the large (IPOP) regime: λ = λ₀ · inc^large.
    large: u32,
    trials_large: u64,
    trials_small: u64,
    /// Whether the current run is one of BIPOP's small ones.
    small: bool,
}

/// Everything after the first suggestion.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Run {
    axes: Vec<Axis>,
    /// The margin's encoding factors A, when the margin acts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    margin: Option<Vec<f64>>,
    es: Strategy,
    /// λ of the first run, which restarts grow from.
    base_popsize: usize,
    restarts: Restarts,
    generations: u64,
    solutions: Vec<Solution>,
    /// Trials already examined for issued solutions.
    seen: usize,
}

impl Run {
    fn start(options: &CmaEsOptions, space: &SearchSpace) -> Result<Run> {
        let params = space.params();
        let axes: Vec<Axis> = params
            .iter()
            .map(|p| Axis::of(p, options.with_margin))
            .collect();
        let margin = (options.with_margin && axes.iter().any(Axis::is_discrete))
            .then(|| vec![1.0; axes.len()]);
        let mean = match &options.x0 {
            Some(x0) => params
                .iter()
                .zip(&axes)
                .map(|(p, axis)| {
                    let value = x0.get(p.name()).ok_or_else(|| {
                        Error::setting("cmaes.x0", format!("{:?} is not set", p.name()))
                    })?;
                    axis.coordinate(p, value)
                        .map_err(|e| Error::setting("cmaes.x0", e.to_string()))
                })
                .collect::<Result<Vec<f64>>>()?,
            None => vec![0.5; axes.len()],
        };
        let popsize = options
            .popsize
            .unwrap_or_else(|| default_popsize(axes.len()));
        let es = Strategy::new(
            mean,
            options.sigma0,
            popsize,
            options.separable,
            options.lr_adapt,
        );
        Ok(Run {
            axes,
            margin,
            es,
            base_popsize: popsize,
            restarts: Restarts::default(),
            generations: 0,
            solutions: Vec::new(),
            seen: 0,
        })
    }

    /// Checks a restored state against the space it is to search.
    fn check(&self, space: &SearchSpace) -> Result<()> {
        let n = space.dims();
        let bad = |what: String| Err(Error::Restore(format!("cmaes state: {what}")));
        if self.axes.len() != n {
            return bad(format!("{} axes for {n} parameters", self.axes.len()));
        }
        if let Some((p, _)) = space
            .params()
            .iter()
            .zip(&self.axes)
            .find(|(p, axis)| !axis.fits(p))
        {
            return bad(format!("the axis of {:?} does not fit it", p.name()));
        }
        if let Some(a) = &self.margin
            && (a.len() != n || !a.iter().all(|v| v.is_finite() && *v > 0.0))
        {
            return bad("margin factors do not fit the space".into());
        }
        if !self.es.is_consistent(n) || self.es.lambda > MAX_POPSIZE {
            return bad("the distribution does not fit the space".into());
        }
        if !(2..=MAX_POPSIZE).contains(&self.base_popsize) {
            return bad(format!("base popsize {}", self.base_popsize));
        }
        if let Some(i) = self.solutions.iter().position(|s| {
            s.x.len() != n || s.values.len() != n || !s.x.iter().all(|v| v.is_finite())
        }) {
            return bad(format!("solution {i} does not fit the space"));
        }
        Ok(())
    }

    /// Recognizes the trials added since the last call and reads the
    /// outcomes of the issued solutions' trials.
    fn observe(&mut self, ctx: &Context<'_>) {
        for (index, trial) in ctx.trials.iter().enumerate().skip(self.seen) {
            if let Some(s) = self
                .solutions
                .iter_mut()
                .find(|s| s.trial.is_none() && s.is_for(ctx.space, &trial.params))
            {
                s.trial = Some(index);
            }
        }
        self.seen = self.seen.max(ctx.trials.len());
        for s in &mut self.solutions {
            if s.told.is_some() {
                continue;
            }
            let Some(trial) = s.trial.and_then(|i| ctx.trials.get(i)) else {
                continue;
            };
            s.told = match (trial.state, trial.value) {
                (TrialState::Complete, Some(v)) => Some(Told::Value(match ctx.direction {
                    Direction::Minimize => v,
                    Direction::Maximize => -v,
                })),
                (TrialState::Running, _) => None,
                _ => Some(Told::Worst),
            };
        }
    }

    fn generation_done(&self) -> bool {
        self.solutions.iter().filter(|s| s.told.is_some()).count() >= self.es.lambda
    }

    /// Updates the distribution from the first λ finished solutions, applies
    /// the margin, and restarts when the run is over.
    fn advance(&mut self, options: &CmaEsOptions, space: &SearchSpace, rng: &mut ChaCha8Rng) {
        let lambda = self.es.lambda;
        let mut ranked: Vec<(f64, &[f64])> = self
            .solutions
            .iter()
            .filter_map(|s| s.told.map(|t| (t.key(), s.x.as_slice())))
            .take(lambda)
            .collect();
        ranked.sort_by(|a, b| a.0.total_cmp(&b.0));
        let best = ranked.first().map_or(f64::INFINITY, |r| r.0);
        let worst = ranked.last().map_or(f64::INFINITY, |r| r.0);
        let xs: Vec<&[f64]> = ranked.iter().map(|r| r.1).collect();
        let healthy = self.es.update(&xs, best, worst);
        if healthy && let Some(a) = &mut self.margin {
            let alpha = 1.0 / (self.axes.len() * lambda) as f64;
            margin::correct(&self.axes, space.params(), &mut self.es, a, alpha);
        }
        self.generations += 1;
        let trials = lambda as u64;
        if self.restarts.small {
            self.restarts.trials_small += trials;
        } else {
            self.restarts.trials_large += trials;
        }
        self.solutions.clear();
        let over = match options.restart {
            Restart::None => false,
            Restart::Ipop { .. } | Restart::Bipop { .. } => self.es.should_stop(),
        };
        if over || !healthy {
            self.restart(options, rng);
        }
    }

    /// A new run from a random point, its population and step size chosen
    /// by the restart strategy.
    fn restart(&mut self, options: &CmaEsOptions, rng: &mut ChaCha8Rng) {
        let base = self.base_popsize;
        let r = &mut self.restarts;
        let (lambda, sigma) = match options.restart {
            Restart::None => (self.es.lambda, options.sigma0),
            Restart::Ipop { inc_popsize } => {
                r.large += 1;
                (grown(base, inc_popsize, r.large), options.sigma0)
            }
            Restart::Bipop { inc_popsize } if r.trials_small < r.trials_large => {
                r.small = true;
                let large = grown(base, inc_popsize, r.large) as f64;
                let (u, v) = (rng.random::<f64>(), rng.random::<f64>());
                let lambda = (base as f64 * (0.5 * large / base as f64).powf(u * u)).floor();
                (
                    (lambda as usize).clamp(2, MAX_POPSIZE),
                    options.sigma0 * 10f64.powf(-2.0 * v),
                )
            }
            Restart::Bipop { inc_popsize } => {
                r.small = false;
                r.large += 1;
                (grown(base, inc_popsize, r.large), options.sigma0)
            }
        };
        r.count += 1;
        let mean: Vec<f64> = (0..self.axes.len()).map(|_| rng.random::<f64>()).collect();
        self.es = Strategy::new(mean, sigma, lambda, options.separable, options.lr_adapt);
        if let Some(a) = &mut self.margin {
            a.fill(1.0);
        }
    }

    /// Draws the next solution, records it, and returns its parameters.
    fn propose(&mut self, space: &SearchSpace, rng: &mut ChaCha8Rng) -> Result<Params> {
        let margin = self.margin.as_deref();
        // Under the margin, discrete coordinates are unbounded: their end
        // cells extend to infinity.
        let bounded: Vec<bool> = self
            .axes
            .iter()
            .map(|a| margin.is_none() || !a.is_discrete())
            .collect();
        let inside = |x: &[f64]| {
            x.iter()
                .zip(&bounded)
                .all(|(v, &b)| !b || (0.0..=1.0).contains(v))
        };
        let mut x = self.es.sample(rng);
        for _ in 1..MAX_RESAMPLES {
            if inside(&x) {
                break;
            }
            x = self.es.sample(rng);
        }
        for (v, &b) in x.iter_mut().zip(&bounded) {
            if b {
                *v = v.clamp(0.0, 1.0);
            }
        }
        let mut params = Params::new();
        let mut values = Vec::with_capacity(x.len());
        for (i, ((param, axis), &xi)) in space.params().iter().zip(&self.axes).zip(&x).enumerate() {
            let u = match (margin, axis.is_discrete()) {
                (Some(a), true) => {
                    let m = self.es.mean.get(i).copied().unwrap_or(0.5);
                    m + a.get(i).copied().unwrap_or(1.0) * (xi - m)
                }
                _ => xi,
            };
            let value = axis.value(param, u)?;
            params.insert(param.name(), value.clone());
            values.push(value);
        }
        self.solutions.push(Solution {
            trial: None,
            x,
            values,
            told: None,
        });
        Ok(params)
    }
}

/// 4 + ⌊3 ln n⌋, the tutorial's default population.
fn default_popsize(n: usize) -> usize {
    4 + (3.0 * (n.max(1) as f64).ln()).floor() as usize
}

/// `base · inc^k`, at most [`MAX_POPSIZE`].
fn grown(base: usize, inc: usize, k: u32) -> usize {
    base.saturating_mul(inc.saturating_pow(k)).min(MAX_POPSIZE)
}
