//! Gaussian-process Bayesian optimization (Optuna's `GPSampler`, Katib's
//! `bayesianoptimization`): a Matérn-5/2 ARD Gaussian process over the
//! space's unit cube, fitted by maximum a posteriori with L-BFGS, and the
//! next point where the log expected improvement is largest.
//!
//! * [`encoding`]: parameters to model inputs (log scales, lattices,
//!   categorical choices, inactive parameters);
//! * [`kernel`]: Matérn-5/2 with one lengthscale per input and a Hamming
//!   distance for categorical inputs, joint or additive;
//! * [`fit`]: the hyperparameters' fit and the posterior;
//! * [`output`]: the values' transform;
//! * [`trend`]: a separable quadratic prior mean;
//! * [`acquisition`]: log EI and its maximization;
//! * [`local`]: a model of the trials nearest the best one, for ripples
//!   the global model fits as noise;
//! * [`lbfgs`]: argmin's L-BFGS on functions with a gradient.
//!
//! Each suggestion, once `n_startup_trials` trials are complete:
//!
//! 1. The complete trials' values (negated when maximizing) are warped by
//!    `v ↦ ln(1 + (v - min)/(median - min))`, which tames heavy tails, or
//!    left as they are, whichever the constant-mean model explains better
//!    ([`output`], chosen on every refit), then standardized to mean 0 and
//!    variance 1. Failed and pruned trials are ignored: they have no value
//!    to learn from.
//! 2. Up to three models are fitted: one with a constant prior mean; unless
//!    `quadratic_trend` is off, one whose prior mean is a separable
//!    quadratic fitted by ridge least squares ([`trend`]), the GP modelling
//!    what it leaves; and unless `additive` is off (or there is one input),
//!    one whose kernel is a sum of one Matérn per input ([`kernel`]), over
//!    the same residuals. Each model's hyperparameters are warm-started
//!    from its previous fit, which the sampler keeps in its saved state so
//!    that a restored study fits exactly as the uninterrupted one; the
//!    additive fit is also restarted from short lengthscales now and then
//!    ([`RESTART_EVERY`]). The trend
//!    model is used if its leave-one-out predictive density of the trials is
//!    higher by more than [`TREND_MARGIN`]: where the values have a bowl's
//!    shape, not where they do not. The additive one replaces the winner if
//!    it beats it by more than [`ADDITIVE_MARGIN`]: where the inputs act
//!    separately. A model that falls more than [`REST_GAP`] behind the one
//!    used rests, unfitted, for a few trials. Past
//!    [`GpOptions::refit_every_trial_until`] complete trials the
//!    hyperparameters are refitted only every `n/20` trials ([`refit_due`])
//!    and each posterior is extended by the new trials in between
//!    ([`Grown`]).
//! 3. The value to improve on is the lowest posterior mean at a complete
//!    trial ("plug-in" EI), not the lowest value: where the model explains
//!    part of the values as noise (Ackley's and Rastrigin's ripples, which
//!    50 trials cannot resolve), the lowest value is partly that noise's
//!    luck, and EI against it credits the basin around the best trial with
//!    no more than its variance, which the noise's averaging shrinks: the
//!    search leaves a basin it has found instead of refining it. Against
//!    the mean, ackley2's median regret at 50 trials fell from 1.62 to
//!    0.36 (20 seeds); without noise the two are the same.
//! 4. On every other suggestion from 30 complete trials, where the model
//!    in use is not the additive one and leaves more than 1e-4 of its
//!    variance as noise, and no trial is running, a *local model* takes
//!    over: a Gaussian process of the 15 trials nearest the best one, whose
//!    log EI (against its own lowest mean) is maximized in a box around that
//!    trial ([`local`]). The global model learns a funnel's or a bowl's
//!    shape and fits ripples shorter than the trials' spacing as noise; the
//!    neighbours, denser, resolve the ripple the best trial is in. Over the
//!    40 test functions at 50 trials it took Ackley 2 and 3 and Griewank 2
//!    well past 10x random (ackley2 0.36 → 0.016, griewank2 0.36 → 0.037).
//! 5. Running trials enter as *Kriging believers*: each is added to the
//!    data, without noise, with the posterior mean at its point as its
//!    value, or the value to improve on if the mean is lower. The variance
//!    there vanishes and the mean promises no improvement, so the EI of a
//!    point already being evaluated drops to zero, and a batch from `ask_n`
//!    spreads out. (A plain believer keeps a positive EI wherever the mean
//!    beats the best value, and a noisy one of about the noise's standard
//!    deviation: on a confident model the batch then piles up on one point.)
//! 6. Log EI against that value is maximized (see [`acquisition`]) and the
//!    point decoded.
//!
//! Where the model cannot be built (a kernel matrix that stays singular
//! even with jitter), the suggestion is a uniform random point instead.

mod acquisition;
mod encoding;
mod fit;
mod kernel;
mod lbfgs;
mod local;
mod output;
mod trend;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::{Context, Sampler};
use crate::space::{Params, SearchSpace};
use crate::study::{Direction, TrialState};
use crate::{Error, Result};

use acquisition::{LogEi, Region, Search};
use encoding::Encoding;
use fit::{Data, Posterior};
use local::Local;
pub use output::GpOutput;
use output::Output;
use trend::Trend;

/// How much higher (in nats) the leave-one-out log predictive density of
/// the trials must be with the quadratic trend than without it for the
/// trend to be used: the trend has `2d + 1` more parameters fitted to the
/// same points, and on functions without a bowl's shape (Hartmann's) a
/// near tie is noise. Hartmann6's median regret at 50 trials (20 seeds):
/// 0.023 with no margin, 0.0059 with this one, 0.0125 without the trend.
const TREND_MARGIN: f64 = 2.0;
/// The same margin for the additive model over the better of the other two.
/// An additive kernel has a variance per input more, and where the inputs
/// interact (Rosenbrock's, Hartmann's) it still often fits a few dozen
/// points as well; at a 2-nat margin it was chosen there and cost
/// rosenbrock5 and hartmann6 about 2x in median regret at 50 trials, at 10
/// nats nothing measurable, while the separable functions keep the gain.
const ADDITIVE_MARGIN: f64 = 10.0;
/// How often (in complete trials) the additive model's fit is also run
/// from short lengthscales ([`fit::short_theta`]), keeping the better
/// optimum, up to 50 trials; from then on every `n/10` trials, so that the
/// restarts' cost grows no faster than the fits'. It is also run on the
/// model's first fit. An additive model's posterior has a second mode
/// where each input's curve is wiggly (ten of Rastrigin's ripples,
/// Michalewicz's thin valleys) rather than smooth plus noise, and a fit
/// warm-started in the smooth one stays there. Every fifth trial catches
/// most of it at a fifth of the cost of every trial: the geometric mean of
/// gp/random over the 40 test functions at 50 trials fell from 0.0073 to
/// 0.0064 (every trial: 0.0068; every tenth: 0.0067).
const RESTART_EVERY: usize = 5;
/// How far (in nats of leave-one-out log density) a model must fall behind
/// the one used for it to rest: it is not fitted again for as many trials
/// as the additive restarts' period ([`RESTART_EVERY`], then `n/10`), then
/// fitted, warm, as before. A model that far behind rarely catches up
/// within a few trials: at 50 trials 10 of the 1,600 runs on the 40 test
/// functions (seeds 0 to 39) end differently, and the geometric mean of
/// gp/random and the functions at 10x random stay the same, while at 200
/// trials on branin the optimizer's time falls from 39.9 to 24.3 ms per
/// trial. (At 20 nats: the same time, a slightly worse geometric mean.)
const REST_GAP: f64 = 40.0;
/// Past [`GpOptions::refit_every_trial_until`], refits are
/// `n / REFIT_SPACING` trials apart: every 10th trial from 200, every 50th
/// at 1,000.
const REFIT_SPACING: usize = 20;
/// L-BFGS iterations of the first hyperparameter fit.
const FIRST_FIT_ITERS: u64 = 100;
/// L-BFGS iterations of a fit warm-started from the previous one: a new
/// point moves the optimum little, and what is left is done next time.
const WARM_FIT_ITERS: u64 = 30;

/// The settings of [`GpSampler`].
///
/// ```
/// use keelson_hpo::samplers::GpOptions;
/// let o = GpOptions::default();
/// assert_eq!((o.n_startup_trials, o.n_candidates, o.n_local_searches), (10, 1024, 10));
/// assert!(o.quadratic_trend && o.additive && o.local_model);
/// assert_eq!(o.refit_every_trial_until, 200);
/// assert!(GpOptions { n_candidates: 0, ..o }.validate().is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GpOptions {
    /// Uniform random points before the model starts, counted among
    /// complete trials (10, as Optuna). The model needs at least one.
    pub n_startup_trials: usize,
    /// Random points whose log EI is computed per suggestion (1024).
    pub n_candidates: usize,
    /// How many of the best candidates are refined by local search (10);
    /// the best trial so far is always refined too.
    pub n_local_searches: usize,
    /// Whether to also fit a model whose prior mean is a separable
    /// quadratic in the numeric inputs, used on a suggestion when it
    /// predicts the trials better than the constant mean, each left out in
    /// turn (true). It keeps a bowl's shape visible away from the data,
    /// which finds the global basin of multimodal functions far more often,
    /// at twice the fitting time.
    pub quadratic_trend: bool,
    /// Whether to also fit a model with an additive kernel, one Matérn per
    /// input with its own variance (over the quadratic trend's residuals
    /// when that is on), used on a suggestion when it predicts the trials
    /// clearly better than the other models (true). Where the objective is
    /// a sum of what each input does alone, it learns each input's curve
    /// from every trial and combines the best of each, which a joint
    /// kernel cannot extrapolate to, at one more fit per suggestion.
    pub additive: bool,
    /// Whether every other suggestion from 30 complete trials may come from
    /// a model of the 15 trials nearest the best one, searched in a box
    /// around it, where the model in use fits part of the values as noise
    /// (true; see the module docs, step 4). It refines the ripple the best
    /// trial is in, which the global model cannot resolve (Ackley's,
    /// Griewank's functions), at the cost of half the exploration there.
    pub local_model: bool,
    /// Complete trials up to which every suggestion refits the models'
    /// hyperparameters (200). Past it they are refitted on every
    /// `n/20`-th trial (every 10th at 200, every 50th at 1,000) and kept in
    /// between, where each posterior is extended by the new trials in
    /// O(n²): a fit evaluates the marginal likelihood, an O(n³)
    /// factorization, 12 to 20 times, while one more trial among hundreds
    /// moves its optimum little. At 400 trials on Branin this takes a
    /// suggestion from 0.65 s to 0.064 s (docs/hpo.md, "Long studies").
    pub refit_every_trial_until: usize,
    /// How the values are transformed before they are modelled
    /// ([`GpOutput::Choose`]: the log warp or the values as they are,
    /// whichever the model explains better).
    pub output: GpOutput,
}

impl Default for GpOptions {
    fn default() -> Self {
        GpOptions {
            n_startup_trials: 10,
            n_candidates: 1024,
            n_local_searches: 10,
            quadratic_trend: true,
            additive: true,
            local_model: true,
            refit_every_trial_until: 200,
            output: GpOutput::Choose,
        }
    }
}

impl GpOptions {
    /// Checks the settings; the error names the offending one
    /// (`gp.n_candidates`, `gp.n_local_searches`).
    ///
    /// ```
    /// use keelson_hpo::samplers::GpOptions;
    /// let bad = GpOptions { n_local_searches: 2000, ..GpOptions::default() };
    /// assert!(bad.validate().unwrap_err().to_string().contains("gp.n_local_searches"));
    /// ```
    pub fn validate(&self) -> Result<()> {
        if self.n_candidates == 0 {
            return Err(Error::setting("gp.n_candidates", "must be at least 1"));
        }
        if self.n_local_searches > self.n_candidates {
            return Err(Error::setting(
                "gp.n_local_searches",
                format!(
                    "must be at most gp.n_candidates ({}), got {}",
                    self.n_candidates, self.n_local_searches
                ),
            ));
        }
        Ok(())
    }
}

/// Gaussian-process Bayesian optimization with log expected improvement
/// (Optuna's `GPSampler`, Katib's `bayesianoptimization`).
///
/// After `n_startup_trials` uniform random points, each suggestion fits a
/// Gaussian process with a Matérn-5/2 kernel (one lengthscale per
/// parameter, a Hamming distance for categorical ones) to the complete
/// trials' standardized values (log-warped where that explains them
/// better), its hyperparameters by maximum
/// a posteriori with argmin's L-BFGS (alongside a model whose prior mean is
/// a fitted separable quadratic and one whose kernel is additive, each used
/// when it predicts the trials clearly better), and returns the point of largest log
/// expected improvement (Ament et al. 2023), found from many random
/// candidates refined by L-BFGS and a local search over discrete values.
/// Failed and pruned trials are ignored; running ones count as observed at
/// the model's mean there, capped at the value EI improves on (the lowest
/// posterior mean at a complete trial; a Kriging believer that promises no
/// improvement), so `ask_n` batches spread out.
/// `docs/hpo.md` has the details.
///
/// Every kind of parameter works, conditional ones included: an inactive
/// parameter takes a fixed input (the cube's middle, or "no choice" for a
/// categorical). The state that
/// saves with the study is the ChaCha8 generator's position, the options,
/// every model's last hyperparameters (floats that JSON round-trips
/// exactly) and the values' transform last chosen, so a restored study
/// continues exactly.
///
/// ```
/// use keelson_hpo::{Direction, GpSampler, Outcome, ParamSpec, SearchSpace, Study};
///
/// let space = SearchSpace::new([ParamSpec::double("x", -5.0, 5.0), ParamSpec::int("n", 0, 4)])?;
/// let mut study = Study::new(space, Direction::Minimize, GpSampler::new(7))?;
/// for _ in 0..20 {
///     let trial = study.ask()?;
///     let (x, n) = (trial.params.f64("x")?, trial.params.i64("n")?);
///     study.tell(trial.id, Outcome::Value((x - 1.0).powi(2) + (n - 3).pow(2) as f64))?;
/// }
/// assert!(study.best_trial().unwrap().value.unwrap() < 0.05);
/// # Ok::<(), keelson_hpo::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GpSampler {
    rng: ChaCha8Rng,
    options: GpOptions,
    /// The constant-mean model's last log-hyperparameters fitted to the
    /// log-warped values ([`Output::Log`]), the next fit's start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    theta: Option<Vec<f64>>,
    /// The same fitted to the values as they are ([`Output::Linear`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    theta_linear: Option<Vec<f64>>,
    /// The same for the model with the quadratic trend.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    theta_trend: Option<Vec<f64>>,
    /// The same for the additive model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    theta_additive: Option<Vec<f64>>,
    /// Per model (in [`Fit::ALL`]'s order), the number of complete trials
    /// before which it is not fitted again, after losing clearly.
    #[serde(default)]
    resting_until: [usize; 3],
    /// The transform of the values chosen on the last refit (see
    /// [`output`]), kept until the next.
    #[serde(default)]
    output: Output,
    /// Past `refit_every_trial_until`, per model, the posterior last built
    /// and the hyperparameters it was built with.
    #[serde(skip)]
    grown: Grown,
}

/// Per model (in [`Fit::ALL`]'s order), a posterior built by
/// [`Posterior::extend`] and its hyperparameters: while they stay the same
/// (between refits, see [`refit_due`]), the next suggestion extends it by
/// the trials completed since, in O(n²), instead of factoring the kernel
/// matrix anew, O(n³). Extending gives the same bits as building from
/// nothing, so this is derived state: neither saved nor compared, and a
/// restored study rebuilds it and suggests the same.
#[derive(Clone, Debug, Default)]
struct Grown([Option<(Vec<f64>, Posterior)>; 3]);

impl PartialEq for Grown {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

/// Which of the models a fit is for.
#[derive(Clone, Copy)]
enum Fit {
    /// A constant prior mean.
    Plain,
    /// A fitted quadratic trend as the prior mean ([`trend`]).
    Trend,
    /// An additive kernel over the trend's residuals (see [`kernel`]).
    Additive,
}

impl Fit {
    /// Every model, in the order they are compared.
    const ALL: [Fit; 3] = [Fit::Plain, Fit::Trend, Fit::Additive];
}

impl GpSampler {
    /// A GP sampler with the default options, seeded with `seed`.
    ///
    /// ```
    /// use keelson_hpo::GpSampler;
    /// assert_eq!(GpSampler::new(3).options().n_startup_trials, 10);
    /// assert_ne!(GpSampler::new(1), GpSampler::new(2));
    /// ```
    pub fn new(seed: u64) -> Self {
        Self::with_options(seed, GpOptions::default())
    }

    /// A GP sampler with the given options (checked when a study is
    /// created or restored).
    ///
    /// ```
    /// use keelson_hpo::{samplers::GpOptions, GpSampler};
    /// let s = GpSampler::with_options(0, GpOptions { n_startup_trials: 4, ..GpOptions::default() });
    /// assert_eq!(s.options().n_startup_trials, 4);
    /// ```
    pub fn with_options(seed: u64, options: GpOptions) -> Self {
        GpSampler {
            rng: ChaCha8Rng::seed_from_u64(seed),
            options,
            theta: None,
            theta_linear: None,
            theta_trend: None,
            theta_additive: None,
            resting_until: [0; 3],
            output: Output::Log,
            grown: Grown::default(),
        }
    }

    /// The options.
    ///
    /// ```
    /// assert_eq!(keelson_hpo::GpSampler::new(0).options().n_local_searches, 10);
    /// ```
    pub fn options(&self) -> &GpOptions {
        &self.options
    }

    /// The hyperparameters fitted to `y` under the model's prior mean (the
    /// constant, or `trend` for the other models)
    /// (warm-started from the same model's previous fit, which is kept for
    /// the next one), and the posterior; `None` if the kernel matrix cannot
    /// be factored.
    fn fitted(
        &mut self,
        which: Fit,
        x: &[Vec<f64>],
        y: &[f64],
        categorical: &[bool],
        trend: &Trend,
    ) -> Option<(Vec<f64>, Posterior)> {
        let trend = match which {
            Fit::Plain => Trend::default(),
            Fit::Trend | Fit::Additive => trend.clone(),
        };
        let until = self.options.refit_every_trial_until;
        let slot = match which {
            Fit::Plain => self.plain_theta(self.output),
            Fit::Trend => &mut self.theta_trend,
            Fit::Additive => &mut self.theta_additive,
        };
        let additive = matches!(which, Fit::Additive);
        let fresh = fit::initial_theta(categorical.len(), additive);
        let theta = match slot.take() {
            Some(theta) if theta.len() == fresh.len() && !refit_due(x.len(), until) => theta,
            warm => {
                let (start, iters) = fit_start(warm, fresh);
                let residuals = trend.residuals(x, y);
                let data = Data::new(x, &residuals, categorical);
                let mut theta = fit::fit(&data, start, iters);
                if additive && (iters == FIRST_FIT_ITERS || x.len().is_multiple_of(period(x.len())))
                {
                    let restart = fit::fit(
                        &data,
                        fit::short_theta(categorical.len(), true),
                        FIRST_FIT_ITERS,
                    );
                    if data.cost(&restart) < data.cost(&theta) {
                        theta = restart;
                    }
                }
                theta
            }
        };
        if theta.iter().all(|t| t.is_finite()) {
            *slot = Some(theta.clone());
        }
        let post = if self.grows(x.len()) {
            self.grown(which, &theta, categorical, x, y, trend)?
        } else {
            Posterior::new(&theta, categorical, x, y, 0, trend)?
        };
        Some((theta, post))
    }

    /// The constant-mean model's hyperparameters for the values under
    /// `output`.
    fn plain_theta(&mut self, output: Output) -> &mut Option<Vec<f64>> {
        match output {
            Output::Log => &mut self.theta,
            Output::Linear => &mut self.theta_linear,
        }
    }

    /// The transform of the values to model ([`GpOptions::output`]): under
    /// [`GpOutput::Choose`], on a refit ([`refit_due`]), the one whose
    /// values the constant-mean model predicts better, each left out in
    /// turn, under that model's hyperparameters for that transform (see
    /// [`output`]); in between, the last one chosen. Each transform is
    /// scored under its own hyperparameters, or the model fitted to one
    /// would favour it: those of the transform in use come from its last
    /// fit, and the other's are refitted every [`period`] trials.
    fn transform(&mut self, x: &[Vec<f64>], values: &[f64], categorical: &[bool]) -> Output {
        let n = x.len();
        match self.options.output {
            GpOutput::Log => return Output::Log,
            GpOutput::Linear => return Output::Linear,
            GpOutput::Choose if !refit_due(n, self.options.refit_every_trial_until) => {
                return self.output;
            }
            GpOutput::Choose => {}
        }
        let fresh = fit::initial_theta(categorical.len(), false);
        let mut best: Option<(f64, Output)> = None;
        for output in [Output::Log, Output::Linear] {
            let transformed = output.apply(values);
            let stale = output != self.output && n.is_multiple_of(period(n));
            let slot = self.plain_theta(output);
            let theta = match slot.take() {
                Some(theta) if theta.len() == fresh.len() && !stale => theta,
                warm => {
                    let (start, iters) = fit_start(warm, fresh.clone());
                    fit::fit(&Data::new(x, &transformed.y, categorical), start, iters)
                }
            };
            let score = transformed.score(&theta, categorical, x);
            if theta.iter().all(|t| t.is_finite()) {
                *slot = Some(theta);
            }
            if let Some(score) = score
                && best.is_none_or(|(b, _)| score > b)
            {
                best = Some((score, output));
            }
        }
        best.map_or(Output::Log, |(_, output)| output)
    }

    /// Whether posteriors from `n` complete trials are built by
    /// [`Posterior::extend`] (past `refit_every_trial_until`, where the
    /// hyperparameters stay between refits) rather than factored.
    fn grows(&self, n: usize) -> bool {
        n > self.options.refit_every_trial_until
    }

    /// The posterior of `x`, `y` under `theta` by extending the model's
    /// [`Grown`] posterior when it was built with the same `theta` on the
    /// first points of `x`, else from nothing (by the same extension, so
    /// with the same bits); by [`Posterior::new`] where extending fails.
    fn grown(
        &mut self,
        which: Fit,
        theta: &[f64],
        categorical: &[bool],
        x: &[Vec<f64>],
        y: &[f64],
        trend: Trend,
    ) -> Option<Posterior> {
        let slot = &mut self.grown.0[which as usize];
        let extends = slot.as_ref().is_some_and(|(t, post)| {
            t.as_slice() == theta
                && post.len() <= x.len()
                && post.points().zip(x).all(|(a, b)| a == b.as_slice())
        });
        if !extends {
            *slot = Some((theta.to_vec(), Posterior::empty(theta, categorical)));
        }
        let (_, noise) = fit::kernel_at(theta, categorical);
        let extended = slot.as_mut().is_some_and(|(_, post)| {
            let from = post.len().min(x.len());
            post.extend(&x[from..], noise)
        });
        let Some((_, grown)) = slot.as_ref().filter(|_| extended) else {
            *slot = None;
            return Posterior::new(theta, categorical, x, y, 0, trend);
        };
        let mut post = grown.clone();
        post.set_values(y, trend);
        Some(post)
    }

    fn random_point(&mut self, space: &SearchSpace) -> Result<Option<Params>> {
        let point: Vec<f64> = (0..space.dims())
            .map(|_| self.rng.random::<f64>())
            .collect();
        space.decode(&point).map(Some)
    }
}

impl Sampler for GpSampler {
    fn name(&self) -> &str {
        "gp"
    }

    fn check_space(&self, _space: &SearchSpace) -> Result<()> {
        self.options.validate()
    }

    fn suggest(&mut self, ctx: &Context<'_>) -> Result<Option<Params>> {
        self.options.validate()?;
        let enc = Encoding::new(ctx.space)?;
        let sign = match ctx.direction {
            Direction::Minimize => 1.0,
            Direction::Maximize => -1.0,
        };
        let mut units = Vec::new();
        let mut values = Vec::new();
        let mut pending = Vec::new();
        for t in ctx.trials {
            match (t.state, t.value) {
                (TrialState::Complete, Some(v)) => {
                    units.push(enc.unit(&t.params)?);
                    values.push(sign * v);
                }
                (TrialState::Running, _) => pending.push(enc.unit(&t.params)?),
                _ => {}
            }
        }
        if values.len() < self.options.n_startup_trials.max(1) {
            return self.random_point(ctx.space);
        }
        let categorical = enc.categorical();
        let mut x: Vec<Vec<f64>> = units.iter().map(|u| enc.features(u)).collect();
        self.output = self.transform(&x, &values, &categorical);
        let y = self.output.apply(&values).y;
        let trend = if self.options.quadratic_trend {
            Trend::fit(&x, &y, &categorical)
        } else {
            Trend::default()
        };
        let n = x.len();
        // One input alone is the additive model's joint model again.
        let enabled = [
            true,
            self.options.quadratic_trend,
            self.options.additive && categorical.len() > 1,
        ];
        let mut fits: [Option<(Vec<f64>, Posterior)>; 3] = [None, None, None];
        for pass in 0..2 {
            for (i, fit) in fits.iter_mut().enumerate() {
                // A model resting after a clear loss is fitted anyway if
                // none of the others could be.
                let due = pass == 1 || self.resting_until[i] <= n;
                if enabled[i] && due && fit.is_none() {
                    *fit = self.fitted(Fit::ALL[i], &x, &y, &categorical, &trend);
                }
            }
            if fits.iter().any(Option::is_some) {
                break;
            }
        }
        let loo = fits
            .each_ref()
            .map(|f| f.as_ref().map(|(_, post)| post.loo_log_density()));
        let Some(pick) = choose(&loo) else {
            return self.random_point(ctx.space);
        };
        if let Some(winner) = loo[pick] {
            for (i, l) in loo.iter().enumerate() {
                if let Some(l) = l {
                    self.resting_until[i] = if winner - l > REST_GAP {
                        n + period(n)
                    } else {
                        0
                    };
                }
            }
        }
        let Some((theta, mut post)) = fits[pick].take() else {
            return self.random_point(ctx.space);
        };
        let observed_best = y.iter().copied().fold(f64::INFINITY, f64::min);
        let best_index = y.iter().position(|&v| v == observed_best).unwrap_or(0);
        let best = post.means_at_data(&y).fold(f64::INFINITY, f64::min);
        let incumbent = units
            .get(best_index)
            .cloned()
            .unwrap_or_else(|| vec![0.5; enc.len()]);
        let additive = matches!(Fit::ALL[pick], Fit::Additive);
        if self.options.local_model
            && local::due(n, additive, post.noise_ratio(), !pending.is_empty())
            && let Some(local) =
                Local::fit(&units, &x, &y, &categorical, best_index, |i| enc.relaxed(i))
        {
            let search = Search {
                n_candidates: self.options.n_candidates,
                n_local_searches: self.options.n_local_searches,
                region: local.region,
            };
            let acq = LogEi {
                post: &local.post,
                best: local.best,
            };
            let point = search.maximize(&acq, &enc, &mut self.rng, &incumbent)?;
            return ctx.space.decode(&point).map(Some);
        }
        if !pending.is_empty() {
            let mut y = y.clone();
            for u in &pending {
                let xp = enc.features(u);
                y.push(post.mean_var(&xp).0.max(best));
                x.push(xp);
            }
            let believed = if self.grows(n) {
                post.believe(&theta, &categorical, &x, &y)
            } else {
                Posterior::new(
                    &theta,
                    &categorical,
                    &x,
                    &y,
                    pending.len(),
                    post.trend.clone(),
                )
            };
            match believed {
                Some(p) => post = p,
                None => return self.random_point(ctx.space),
            }
        }
        let search = Search {
            n_candidates: self.options.n_candidates,
            n_local_searches: self.options.n_local_searches,
            region: Region::whole(enc.len()),
        };
        let acq = LogEi { post: &post, best };
        let point = search.maximize(&acq, &enc, &mut self.rng, &incumbent)?;
        ctx.space.decode(&point).map(Some)
    }
}

/// Where a fit of hyperparameters shaped like `fresh` starts, and for how
/// many L-BFGS iterations: from `warm`, the model's last fit, for
/// [`WARM_FIT_ITERS`], or from `fresh` for [`FIRST_FIT_ITERS`] where there
/// is none of that shape (a first fit, or a space that changed).
fn fit_start(warm: Option<Vec<f64>>, fresh: Vec<f64>) -> (Vec<f64>, u64) {
    match warm {
        Some(theta) if theta.len() == fresh.len() => (theta, WARM_FIT_ITERS),
        _ => (fresh, FIRST_FIT_ITERS),
    }
}

/// Whether a suggestion from `n` complete trials refits the models'
/// hyperparameters: always up to `until`
/// ([`GpOptions::refit_every_trial_until`]), then on every
/// `n / REFIT_SPACING`-th trial; in between, each model keeps its last
/// hyperparameters and its posterior is extended by the new trials. A pure function
/// of `n`, so a restored study refits on the same trials as the
/// uninterrupted one.
fn refit_due(n: usize, until: usize) -> bool {
    n <= until || n.is_multiple_of((n / REFIT_SPACING).max(1))
}

/// The additive restarts' period, which is also how long a model rests:
/// [`RESTART_EVERY`] trials up to 50 complete trials, `n/10` after.
fn period(n: usize) -> usize {
    (n / 10).max(RESTART_EVERY)
}

/// Which model to use, from the leave-one-out log predictive densities of
/// the trials of those fitted (in [`Fit::ALL`]'s order): the constant
/// mean, unless the trend model beats it by [`TREND_MARGIN`], unless the
/// additive model beats the winner by [`ADDITIVE_MARGIN`]; a model wins by
/// default where the one before could not be fitted.
fn choose(loo: &[Option<f64>]) -> Option<usize> {
    let margins = [0.0, TREND_MARGIN, ADDITIVE_MARGIN];
    let mut pick: Option<(usize, f64)> = None;
    for (i, (l, margin)) in loo.iter().zip(margins).enumerate() {
        if let Some(l) = *l
            && pick.is_none_or(|(_, best)| l > best + margin)
        {
            pick = Some((i, l));
        }
    }
    pick.map(|(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_model_wins_only_by_its_margin() {
        // The trend needs 2 nats over the constant mean, the additive model
        // 10 over the winner.
        assert_eq!(choose(&[Some(0.0), Some(1.9), Some(11.0)]), Some(2));
        assert_eq!(choose(&[Some(0.0), Some(2.1), Some(11.0)]), Some(1));
        assert_eq!(choose(&[Some(0.0), Some(2.1), Some(12.2)]), Some(2));
        assert_eq!(choose(&[Some(0.0), Some(1.0), Some(9.0)]), Some(0));
        // A model that could not be fitted, or rests, is passed over.
        assert_eq!(choose(&[None, Some(-50.0), None]), Some(1));
        assert_eq!(choose(&[Some(0.0), None, Some(10.5)]), Some(2));
        assert_eq!(choose(&[None, None, None]), None);
    }
}
