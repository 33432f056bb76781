//! [`Study::optimize`]: the ask/run/tell loop for offline use, on one or
//! several threads, with a progress bar.
//!
//! The objective gets a [`TrialRun`] (the trial's parameters, and
//! [`TrialRun::report`] for intermediate values) and returns an `f64` or a
//! `Result<f64, E>`. An error, a NaN or infinite value and a panic all make
//! the trial `Failed` with the reason kept in
//! [`TrialRecord::failure`](crate::TrialRecord::failure); the loop goes on.
//! (A panic still goes through the process's panic hook, which by default
//! prints it.)
//!
//! With one thread (the default) the run is deterministic for a seed. With
//! several, the trials finish in a nondeterministic order, which model-based
//! samplers see.
//!
//! A multi-objective study ([`Study::multi`]) runs with
//! [`Study::optimize_multi`], whose objective returns one value per
//! objective ([`ObjectiveValues`]); a wrong number of values fails the trial
//! like a NaN does.
//!
//! A sampler that has to wait ([`Error::Waiting`]: Hyperband until a rung
//! finishes) puts a worker to sleep until another worker's trial is told.
//! When none of this run's trials is running, nothing could wake it, so the
//! run ends with that error (trials left running before a restore are the
//! caller's to tell).

use std::fmt;
use std::num::NonZeroUsize;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

use crate::pruner::Decision;
use crate::samplers::Sampler;
use crate::space::Params;
use crate::study::{Outcome, Study};
use crate::{Error, Result};

/// What an objective may return: a value, or a `Result` whose error becomes
/// the failed trial's reason.
///
/// ```
/// use keelson_hpo::ObjectiveValue;
/// assert_eq!(1.5.into_objective(), Ok(1.5));
/// assert_eq!(Err::<f64, _>("diverged").into_objective(), Err("diverged".to_string()));
/// ```
pub trait ObjectiveValue {
    /// The value, or why there is none.
    fn into_objective(self) -> std::result::Result<f64, String>;
}

impl ObjectiveValue for f64 {
    fn into_objective(self) -> std::result::Result<f64, String> {
        Ok(self)
    }
}

impl<E: fmt::Display> ObjectiveValue for std::result::Result<f64, E> {
    fn into_objective(self) -> std::result::Result<f64, String> {
        self.map_err(|e| e.to_string())
    }
}

/// What a multi-objective objective may return: one value per objective
/// (a `Vec` or an array), or a `Result` whose error becomes the failed
/// trial's reason.
///
/// ```
/// use keelson_hpo::ObjectiveValues;
/// assert_eq!([0.5, 2.0].into_objectives(), Ok(vec![0.5, 2.0]));
/// assert_eq!(Err::<Vec<f64>, _>("diverged").into_objectives(), Err("diverged".to_string()));
/// ```
pub trait ObjectiveValues {
    /// The values, or why there are none.
    fn into_objectives(self) -> std::result::Result<Vec<f64>, String>;
}

impl ObjectiveValues for Vec<f64> {
    fn into_objectives(self) -> std::result::Result<Vec<f64>, String> {
        Ok(self)
    }
}

impl<const N: usize> ObjectiveValues for [f64; N] {
    fn into_objectives(self) -> std::result::Result<Vec<f64>, String> {
        Ok(self.to_vec())
    }
}

impl<T: ObjectiveValues, E: fmt::Display> ObjectiveValues for std::result::Result<T, E> {
    fn into_objectives(self) -> std::result::Result<Vec<f64>, String> {
        self.map_err(|e| e.to_string())?.into_objectives()
    }
}

/// Settings of [`Study::optimize_with`] and [`Study::optimize_multi_with`].
///
/// ```
/// use keelson_hpo::OptimizeOptions;
/// let options = OptimizeOptions::new().threads(4).progress(false);
/// assert_eq!(options.thread_count(), 4);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OptimizeOptions {
    threads: NonZeroUsize,
    progress: bool,
}

impl Default for OptimizeOptions {
    fn default() -> Self {
        OptimizeOptions {
            threads: NonZeroUsize::MIN,
            progress: true,
        }
    }
}

impl OptimizeOptions {
    /// One thread, with the progress bar.
    ///
    /// ```
    /// assert_eq!(keelson_hpo::OptimizeOptions::new().thread_count(), 1);
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Runs trials on `threads` threads at once (0 counts as 1).
    ///
    /// ```
    /// assert_eq!(keelson_hpo::OptimizeOptions::new().threads(0).thread_count(), 1);
    /// ```
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = NonZeroUsize::new(threads).unwrap_or(NonZeroUsize::MIN);
        self
    }

    /// The number of threads.
    ///
    /// ```
    /// assert_eq!(keelson_hpo::OptimizeOptions::new().threads(3).thread_count(), 3);
    /// ```
    pub fn thread_count(&self) -> usize {
        self.threads.get()
    }

    /// Shows (the default) or hides the progress bar: trials done and the
    /// best value so far (single-objective studies), on stderr when it is a
    /// terminal. Without the
    /// `progress` feature there is never a bar.
    ///
    /// ```
    /// let quiet = keelson_hpo::OptimizeOptions::new().progress(false);
    /// assert_ne!(quiet, keelson_hpo::OptimizeOptions::new());
    /// ```
    pub fn progress(mut self, show: bool) -> Self {
        self.progress = show;
        self
    }
}

/// What [`Study::optimize`] did.
///
/// ```
/// use keelson_hpo::{Direction, ParamSpec, RandomSampler, SearchSpace, Study};
/// let space = SearchSpace::new([ParamSpec::double("x", 0.0, 1.0)])?;
/// let mut study = Study::new(space, Direction::Minimize, RandomSampler::new(0))?;
/// let summary = study.optimize(5, |t| t.params().f64("x"))?;
/// assert_eq!((summary.completed, summary.failed, summary.exhausted), (5, 0, false));
/// # Ok::<(), keelson_hpo::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OptimizeSummary {
    /// Trials that returned a value.
    pub completed: usize,
    /// Trials whose objective returned an error, a non-finite value or panicked.
    pub failed: usize,
    /// Trials stopped by the pruner.
    pub pruned: usize,
    /// Whether the sampler ran out before `n_trials` (an exhausted grid).
    pub exhausted: bool,
}

/// One trial as the objective sees it.
///
/// ```
/// use keelson_hpo::{Decision, Direction, ParamSpec, RandomSampler, SearchSpace, Study};
/// let space = SearchSpace::new([ParamSpec::double("lr", 0.01, 0.1)])?;
/// let mut study = Study::new(space, Direction::Minimize, RandomSampler::new(0))?;
/// study.optimize(3, |trial| {
///     let mut loss = 1.0;
///     for epoch in 0..5 {
///         loss *= 1.0 - trial.params().f64("lr")?;
///         if trial.report(epoch, loss)? == Decision::Prune {
///             break;
///         }
///     }
///     Ok::<f64, keelson_hpo::Error>(loss)
/// })?;
/// assert_eq!(study.trials()[2].intermediate.len(), 5);
/// # Ok::<(), keelson_hpo::Error>(())
/// ```
pub struct TrialRun<'a> {
    id: u64,
    params: Params,
    reporter: &'a dyn Reporter,
    pruned: AtomicBool,
}

impl TrialRun<'_> {
    /// The trial's id.
    ///
    /// ```
    /// # use keelson_hpo::{Direction, ParamSpec, RandomSampler, SearchSpace, Study};
    /// # let mut study = Study::new(SearchSpace::new([ParamSpec::int("n", 0, 9)])?, Direction::Minimize, RandomSampler::new(0))?;
    /// study.optimize(2, |t| t.id() as f64)?;
    /// assert_eq!(study.trials()[1].value, Some(1.0));
    /// # Ok::<(), keelson_hpo::Error>(())
    /// ```
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The trial's parameters.
    ///
    /// ```
    /// # use keelson_hpo::{Direction, ParamSpec, RandomSampler, SearchSpace, Study};
    /// # let mut study = Study::new(SearchSpace::new([ParamSpec::int("n", 0, 9)])?, Direction::Minimize, RandomSampler::new(0))?;
    /// study.optimize(1, |t| t.params().f64("n"))?;
    /// # Ok::<(), keelson_hpo::Error>(())
    /// ```
    pub fn params(&self) -> &Params {
        &self.params
    }

    /// Reports an intermediate value (see [`Study::report`]). Once this has
    /// answered [`Decision::Prune`], the trial is recorded as pruned whatever
    /// the objective returns, so return early.
    ///
    /// ```
    /// # use keelson_hpo::{Direction, ParamSpec, RandomSampler, SearchSpace, Study};
    /// # let mut study = Study::new(SearchSpace::new([ParamSpec::int("n", 0, 9)])?, Direction::Minimize, RandomSampler::new(0))?;
    /// study.optimize(1, |t| { t.report(0, 0.5)?; Ok::<_, keelson_hpo::Error>(0.25) })?;
    /// # Ok::<(), keelson_hpo::Error>(())
    /// ```
    pub fn report(&self, step: u64, value: f64) -> Result<Decision> {
        let decision = self.reporter.report(self.id, step, value)?;
        if decision == Decision::Prune {
            self.pruned.store(true, Ordering::Relaxed);
        }
        Ok(decision)
    }
}

/// The study behind a mutex, as the objective's [`TrialRun::report`] sees it.
trait Reporter: Sync {
    fn report(&self, id: u64, step: u64, value: f64) -> Result<Decision>;
}

struct Loop<'s, S> {
    study: &'s mut Study<S>,
    n_trials: usize,
    started: usize,
    /// Trials of this run asked and not yet told.
    running: usize,
    summary: OptimizeSummary,
    stop: bool,
    error: Option<Error>,
    best: Option<f64>,
}

struct Shared<'s, S> {
    state: Mutex<Loop<'s, S>>,
    /// Signalled when a trial is told or the run stops: what a waiting
    /// sampler needs to move on.
    changed: Condvar,
}

impl<'s, S> Shared<'s, S> {
    /// The loop state; a panic elsewhere cannot leave it half-updated
    /// (nothing panics while holding the lock), so a poisoned lock is used as is.
    fn lock(&self) -> MutexGuard<'_, Loop<'s, S>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Releases the lock until the next [`Shared::changed`] signal.
    fn wait<'g>(&self, guard: MutexGuard<'g, Loop<'s, S>>) -> MutexGuard<'g, Loop<'s, S>> {
        self.changed
            .wait(guard)
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl<S: Sampler + Send> Reporter for Shared<'_, S> {
    fn report(&self, id: u64, step: u64, value: f64) -> Result<Decision> {
        self.lock().study.report(id, step, value)
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a non-string payload".to_owned())
}

impl<S: Sampler + Send> Study<S> {
    /// Runs `n_trials` trials of `objective` on one thread with the progress
    /// bar; see the [module docs](crate::optimize) for failures and panics.
    /// Stops early, without an error, when the sampler is exhausted. Errors
    /// are the study's own (a sampler failing), not the objective's, and
    /// [`Error::SingleObjectiveOnly`] for a multi-objective study (use
    /// [`Study::optimize_multi`]).
    ///
    /// ```
    /// use keelson_hpo::{Direction, ParamSpec, RandomSampler, SearchSpace, Study, TrialState};
    /// let space = SearchSpace::new([ParamSpec::double("x", -1.0, 1.0)])?;
    /// let mut study = Study::new(space, Direction::Minimize, RandomSampler::new(0))?;
    /// let summary = study.optimize(10, |t| {
    ///     let x = t.params().f64("x").unwrap();
    ///     if x > 0.5 { panic!("x too large") }
    ///     x * x
    /// })?;
    /// assert_eq!(summary.completed + summary.failed, 10);
    /// # Ok::<(), keelson_hpo::Error>(())
    /// ```
    pub fn optimize<F, R>(&mut self, n_trials: usize, objective: F) -> Result<OptimizeSummary>
    where
        F: Fn(&TrialRun<'_>) -> R + Sync,
        R: ObjectiveValue,
    {
        self.optimize_with(n_trials, &OptimizeOptions::default(), objective)
    }

    /// [`Study::optimize`] with explicit [`OptimizeOptions`].
    ///
    /// ```
    /// use keelson_hpo::{Direction, OptimizeOptions, ParamSpec, RandomSampler, SearchSpace, Study};
    /// let space = SearchSpace::new([ParamSpec::double("x", -1.0, 1.0)])?;
    /// let mut study = Study::new(space, Direction::Minimize, RandomSampler::new(0))?;
    /// let options = OptimizeOptions::new().threads(2).progress(false);
    /// let summary = study.optimize_with(20, &options, |t| t.params().f64("x").map(|x| x * x))?;
    /// assert_eq!(summary.completed, 20);
    /// # Ok::<(), keelson_hpo::Error>(())
    /// ```
    pub fn optimize_with<F, R>(
        &mut self,
        n_trials: usize,
        options: &OptimizeOptions,
        objective: F,
    ) -> Result<OptimizeSummary>
    where
        F: Fn(&TrialRun<'_>) -> R + Sync,
        R: ObjectiveValue,
    {
        let objectives = self.directions().len();
        if objectives > 1 {
            return Err(Error::SingleObjectiveOnly {
                what: "Study::optimize (see Study::optimize_multi)".into(),
                objectives,
            });
        }
        self.run(n_trials, options, |run| {
            objective(run).into_objective().map(Outcome::Value)
        })
    }

    /// Runs `n_trials` trials of a multi-objective `objective` (one value
    /// per objective, in the order of [`Study::directions`]) on one thread
    /// with the progress bar; otherwise as [`Study::optimize`].
    ///
    /// ```
    /// use keelson_hpo::{Direction, Nsga2Sampler, ParamSpec, SearchSpace, Study};
    /// let space = SearchSpace::new([ParamSpec::double("x", 0.0, 1.0)])?;
    /// let mut study = Study::multi(space, [Direction::Minimize; 2], Nsga2Sampler::new(0))?;
    /// let summary = study.optimize_multi(10, |t| t.params().f64("x").map(|x| [x, 1.0 - x]))?;
    /// assert_eq!(summary.completed, 10);
    /// assert_eq!(study.pareto_front().len(), 10);
    /// # Ok::<(), keelson_hpo::Error>(())
    /// ```
    pub fn optimize_multi<F, R>(&mut self, n_trials: usize, objective: F) -> Result<OptimizeSummary>
    where
        F: Fn(&TrialRun<'_>) -> R + Sync,
        R: ObjectiveValues,
    {
        self.optimize_multi_with(n_trials, &OptimizeOptions::default(), objective)
    }

    /// [`Study::optimize_multi`] with explicit [`OptimizeOptions`]. A trial
    /// whose objective returns another number of values than the study has
    /// objectives fails, with the counts in its reason.
    ///
    /// ```
    /// use keelson_hpo::{Direction, OptimizeOptions, ParamSpec, RandomSampler, SearchSpace, Study};
    /// let space = SearchSpace::new([ParamSpec::double("x", 0.0, 1.0)])?;
    /// let mut study = Study::multi(space, [Direction::Minimize, Direction::Maximize], RandomSampler::new(0))?;
    /// let quiet = OptimizeOptions::new().progress(false);
    /// let summary = study.optimize_multi_with(4, &quiet, |t| vec![t.id() as f64; t.id() as usize % 3])?;
    /// assert_eq!((summary.completed, summary.failed), (1, 3));
    /// # Ok::<(), keelson_hpo::Error>(())
    /// ```
    pub fn optimize_multi_with<F, R>(
        &mut self,
        n_trials: usize,
        options: &OptimizeOptions,
        objective: F,
    ) -> Result<OptimizeSummary>
    where
        F: Fn(&TrialRun<'_>) -> R + Sync,
        R: ObjectiveValues,
    {
        let objectives = self.directions().len();
        self.run(n_trials, options, |run| {
            let values = objective(run).into_objectives()?;
            if values.len() != objectives {
                return Err(format!(
                    "the objective returned {} values, the study has {objectives} objectives",
                    values.len()
                ));
            }
            Ok(Outcome::Values(values))
        })
    }

    /// The loop behind the `optimize` methods; `objective` gives the
    /// outcome to tell, or why the trial failed.
    fn run<G>(
        &mut self,
        n_trials: usize,
        options: &OptimizeOptions,
        objective: G,
    ) -> Result<OptimizeSummary>
    where
        G: Fn(&TrialRun<'_>) -> std::result::Result<Outcome, String> + Sync,
    {
        let progress = Progress::new(n_trials, options.progress);
        let best = self.best_trial().and_then(|t| t.value);
        let shared = Shared {
            state: Mutex::new(Loop {
                study: self,
                n_trials,
                started: 0,
                running: 0,
                summary: OptimizeSummary::default(),
                stop: false,
                error: None,
                best,
            }),
            changed: Condvar::new(),
        };
        let threads = options.threads.get().min(n_trials.max(1));
        if threads == 1 {
            worker(&shared, &objective, &progress);
        } else {
            std::thread::scope(|scope| {
                for _ in 0..threads {
                    scope.spawn(|| worker(&shared, &objective, &progress));
                }
            });
        }
        progress.finish();
        let state = shared
            .state
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner);
        match state.error {
            Some(e) => Err(e),
            None => Ok(state.summary),
        }
    }
}

fn worker<S, G>(shared: &Shared<'_, S>, objective: &G, progress: &Progress)
where
    S: Sampler + Send,
    G: Fn(&TrialRun<'_>) -> std::result::Result<Outcome, String> + Sync,
{
    loop {
        let trial = {
            let mut state = shared.lock();
            loop {
                if state.stop || state.started >= state.n_trials {
                    return;
                }
                match state.study.ask() {
                    Ok(trial) => {
                        state.started += 1;
                        state.running += 1;
                        break trial;
                    }
                    Err(Error::Waiting { .. }) if state.running > 0 => {
                        state = shared.wait(state);
                    }
                    Err(Error::Exhausted { .. }) => {
                        state.summary.exhausted = true;
                        state.stop = true;
                        shared.changed.notify_all();
                        return;
                    }
                    Err(e) => {
                        state.error.get_or_insert(e);
                        state.stop = true;
                        shared.changed.notify_all();
                        return;
                    }
                }
            }
        };
        let run = TrialRun {
            id: trial.id,
            params: trial.params,
            reporter: shared,
            pruned: AtomicBool::new(false),
        };
        // The study is not borrowed while the objective runs, so a panic
        // inside it cannot leave the study inconsistent.
        let result = catch_unwind(AssertUnwindSafe(|| objective(&run)));
        let ending = match result {
            _ if run.pruned.load(Ordering::Relaxed) => Err(None),
            Ok(Ok(outcome)) => match non_finite(&outcome) {
                None => Ok(outcome),
                Some(value) => Err(Some(format!("the objective returned {value}"))),
            },
            Ok(Err(reason)) => Err(Some(reason)),
            Err(payload) => Err(Some(format!(
                "the objective panicked: {}",
                panic_message(payload.as_ref())
            ))),
        };
        let mut state = shared.lock();
        let told = match ending {
            Ok(outcome) => {
                state.summary.completed += 1;
                let direction = state.study.direction();
                if let Outcome::Value(value) = outcome
                    && state.best.is_none_or(|b| direction.is_better(value, b))
                {
                    state.best = Some(value);
                }
                state.study.tell(run.id, outcome)
            }
            Err(Some(reason)) => {
                state.summary.failed += 1;
                state.study.fail(run.id, reason)
            }
            Err(None) => {
                state.summary.pruned += 1;
                state.study.tell(run.id, Outcome::Pruned)
            }
        };
        state.running -= 1;
        if let Err(e) = told {
            state.error.get_or_insert(e);
            state.stop = true;
        }
        shared.changed.notify_all();
        progress.advance(state.best);
    }
}

/// The first value of `outcome` that is NaN or infinite.
fn non_finite(outcome: &Outcome) -> Option<f64> {
    match outcome {
        Outcome::Value(v) => Some(*v).filter(|v| !v.is_finite()),
        Outcome::Values(values) => values.iter().copied().find(|v| !v.is_finite()),
        Outcome::Failed | Outcome::Pruned => None,
    }
}

/// The progress bar, or nothing.
struct Progress {
    #[cfg(feature = "progress")]
    bar: Option<indicatif::ProgressBar>,
}

impl Progress {
    #[cfg(feature = "progress")]
    fn new(n_trials: usize, show: bool) -> Progress {
        let bar = show.then(|| {
            let bar = indicatif::ProgressBar::new(n_trials as u64);
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "{bar:30} {pos}/{len} trials  {msg}  [{elapsed_precise}, eta {eta}]",
            ) {
                bar.set_style(style);
            }
            bar
        });
        Progress { bar }
    }

    #[cfg(not(feature = "progress"))]
    fn new(_n_trials: usize, _show: bool) -> Progress {
        Progress {}
    }

    #[cfg(feature = "progress")]
    fn advance(&self, best: Option<f64>) {
        if let Some(bar) = &self.bar {
            bar.inc(1);
            if let Some(best) = best {
                bar.set_message(format!("best {best:.6}"));
            }
        }
    }

    #[cfg(not(feature = "progress"))]
    fn advance(&self, _best: Option<f64>) {}

    #[cfg(feature = "progress")]
    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish();
        }
    }

    #[cfg(not(feature = "progress"))]
    fn finish(&self) {}
}
