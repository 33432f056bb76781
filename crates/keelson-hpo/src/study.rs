//! The study: ask for a trial's parameters, tell its outcome, report
//! intermediate values, and save and restore the whole state.
//!
//! # Resuming
//!
//! A [`Study`] is a serde type holding the space, the direction, the sampler
//! with its random state, the pruner and every trial. [`Study::save`] writes
//! it as JSON and [`Study::restore`] reads it back, checking it; the restored
//! study's next [`Study::ask`] returns exactly what the saved one would have
//! returned. Trials that were running when the study was saved are still
//! running after restore: tell their outcome as usual. That is how a
//! controller survives a restart (Katib's `resumePolicy`).
//!
//! # Several objectives
//!
//! [`Study::multi`] makes a study with one [`Direction`] per objective
//! (Katib has a single objective metric, kubeflow/katib#1549). Its trials
//! are told [`Outcome::Values`], one value per objective, kept in
//! [`TrialRecord::values`] ([`TrialRecord::value`] stays `None`), and
//! [`Study::pareto_front`] returns the complete trials no other dominates
//! ([`Study::best_trial`] is `None`: there is no single best). Only samplers
//! whose [`Sampler::multi_objective`] is true serve such a study —
//! [`Nsga2Sampler`](crate::Nsga2Sampler), and random, Sobol and grid search,
//! which ignore values — and pruning ([`Study::with_pruner`],
//! [`Study::report`]) is refused, as Optuna does: a trial is stopped early
//! on one intermediate value, and there is no one value to compare.
//!
//! ```
//! use keelson_hpo::{Direction, Nsga2Sampler, Outcome, ParamSpec, SearchSpace, Study};
//!
//! let space = SearchSpace::new([ParamSpec::double("x", 0.0, 2.0)])?;
//! let directions = [Direction::Minimize, Direction::Minimize];
//! let mut study = Study::multi(space, directions, Nsga2Sampler::new(7))?;
//! for _ in 0..20 {
//!     let trial = study.ask()?;
//!     let x = trial.params.f64("x")?;
//!     study.tell(trial.id, Outcome::Values(vec![x * x, (x - 2.0).powi(2)]))?;
//! }
//! // Every x in [0, 2] is a trade-off between the two: all are on the front.
//! assert_eq!(study.pareto_front().len(), 20);
//! assert!(study.best_trial().is_none());
//! # Ok::<(), keelson_hpo::Error>(())
//! ```

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::pareto;
use crate::pruner::{Decision, Pruner};
use crate::samplers::{AnySampler, Context, Sampler};
use crate::space::{Params, SearchSpace};
use crate::{Error, Result};

/// The version of the JSON form [`Study::save`] writes and [`Study::restore`] reads.
pub const FORMAT_VERSION: u32 = 1;

/// Whether smaller or larger objective values are better.
///
/// ```
/// use keelson_hpo::Direction;
/// assert_eq!(serde_json::to_string(&Direction::Maximize).unwrap(), "\"maximize\"");
/// assert!(Direction::Minimize.is_better(1.0, 2.0));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Smaller is better.
    Minimize,
    /// Larger is better.
    Maximize,
}

impl Direction {
    /// Whether `a` is strictly better than `b`.
    ///
    /// ```
    /// assert!(keelson_hpo::Direction::Maximize.is_better(2.0, 1.0));
    /// ```
    pub fn is_better(self, a: f64, b: f64) -> bool {
        match self {
            Direction::Minimize => a < b,
            Direction::Maximize => a > b,
        }
    }
}

/// Where a trial is in its life.
///
/// ```
/// use keelson_hpo::TrialState;
/// assert_eq!(serde_json::to_string(&TrialState::Pruned).unwrap(), "\"pruned\"");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TrialState {
    /// Asked for, not yet told.
    Running,
    /// Finished with an objective value.
    Complete,
    /// Finished without a value.
    Failed,
    /// Stopped early (Katib's `EarlyStopped`).
    Pruned,
}

/// How a trial ended, for [`Study::tell`].
///
/// ```
/// use keelson_hpo::Outcome;
/// let o = Outcome::Value(0.25);
/// assert_ne!(o, Outcome::Failed);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// The objective's value (finite).
    Value(f64),
    /// One finite value per objective, in the order of
    /// [`Study::directions`]; in a single-objective study, a one-element
    /// `Values` is the same as [`Outcome::Value`].
    Values(Vec<f64>),
    /// The trial failed; see also [`Study::fail`], which keeps a reason.
    Failed,
    /// The trial was stopped early.
    Pruned,
}

/// A trial handed out by [`Study::ask`]: run it with `params`, then tell the
/// study its outcome under `id`.
///
/// ```
/// # use keelson_hpo::{Direction, ParamSpec, RandomSampler, SearchSpace, Study};
/// # let space = SearchSpace::new([ParamSpec::int("n", 0, 9)])?;
/// # let mut study = Study::new(space, Direction::Minimize, RandomSampler::new(1))?;
/// let trial = study.ask()?;
/// assert_eq!(trial.id, 0);
/// assert!((0..=9).contains(&trial.params.i64("n")?));
/// # Ok::<(), keelson_hpo::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Trial {
    /// The trial's id: 0, 1, 2, ... in the order asked.
    pub id: u64,
    /// The values of the active parameters.
    pub params: Params,
}

/// Everything a study knows about one trial; what samplers and pruners read.
///
/// ```
/// # use keelson_hpo::{Direction, Outcome, ParamSpec, RandomSampler, SearchSpace, Study, TrialState};
/// # let space = SearchSpace::new([ParamSpec::int("n", 0, 9)])?;
/// # let mut study = Study::new(space, Direction::Minimize, RandomSampler::new(1))?;
/// let trial = study.ask()?;
/// study.report(trial.id, 1, 0.9)?;
/// study.tell(trial.id, Outcome::Value(0.5))?;
/// let record = &study.trials()[0];
/// assert_eq!(record.state, TrialState::Complete);
/// assert_eq!(record.intermediate.get(&1), Some(&0.9));
/// # Ok::<(), keelson_hpo::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrialRecord {
    /// The trial's id, equal to its index in [`Study::trials`].
    pub id: u64,
    /// The values of the active parameters.
    pub params: Params,
    /// Its state.
    pub state: TrialState,
    /// The objective value, for complete trials of a single-objective
    /// study; `None` in a multi-objective study (see [`TrialRecord::values`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
    /// One value per objective, for complete trials of a multi-objective
    /// study; empty otherwise (so a single-objective study saves as before).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<f64>,
    /// Intermediate values by step.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub intermediate: BTreeMap<u64, f64>,
    /// Why the trial failed, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
}

impl TrialRecord {
    /// The objective values of a complete trial, whatever the number of
    /// objectives: [`TrialRecord::values`] in a multi-objective study, the
    /// one [`TrialRecord::value`] otherwise; empty until the trial completes.
    ///
    /// ```
    /// # use keelson_hpo::{Direction, Outcome, ParamSpec, RandomSampler, SearchSpace, Study};
    /// # let space = SearchSpace::new([ParamSpec::int("n", 0, 9)])?;
    /// let mut study = Study::new(space, Direction::Minimize, RandomSampler::new(1))?;
    /// let t = study.ask()?;
    /// assert!(study.trials()[0].objectives().is_empty());
    /// study.tell(t.id, Outcome::Value(0.5))?;
    /// assert_eq!(study.trials()[0].objectives(), [0.5]);
    /// # Ok::<(), keelson_hpo::Error>(())
    /// ```
    pub fn objectives(&self) -> &[f64] {
        match &self.value {
            Some(v) => std::slice::from_ref(v),
            None => &self.values,
        }
    }
}

/// An optimization study: a search space, a direction, a [`Sampler`], an
/// optional [`Pruner`] and the trials so far.
///
/// The sampler type defaults to [`AnySampler`], the serializable choice of
/// every sampler in this crate; a study over one concrete sampler type works
/// the same.
///
/// ```
/// use keelson_hpo::{Direction, Outcome, ParamSpec, SearchSpace, SobolSampler, Study};
///
/// let space = SearchSpace::new([ParamSpec::double("x", -2.0, 2.0)])?;
/// let mut study = Study::new(space, Direction::Minimize, SobolSampler::new(3))?;
/// for trial in study.ask_n(4)? {
///     let x = trial.params.f64("x")?;
///     study.tell(trial.id, Outcome::Value((x - 1.0).powi(2)))?;
/// }
/// let saved = study.save()?;
/// let mut resumed: Study<SobolSampler> = Study::restore(&saved)?;
/// assert_eq!(resumed.ask()?, study.ask()?);
/// # Ok::<(), keelson_hpo::Error>(())
/// ```
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Study<S = AnySampler> {
    format: u32,
    space: SearchSpace,
    /// The first objective's direction.
    direction: Direction,
    /// Every objective's direction when there are two or more; empty for a
    /// single-objective study, which thus saves as before.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    directions: Vec<Direction>,
    sampler: S,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pruner: Option<Pruner>,
    trials: Vec<TrialRecord>,
}

/// Every objective's direction, from a study's two fields (`directions`
/// is empty for a single-objective study).
fn directions<'a>(direction: &'a Direction, directions: &'a [Direction]) -> &'a [Direction] {
    if directions.is_empty() {
        std::slice::from_ref(direction)
    } else {
        directions
    }
}

impl<S: Sampler> Study<S> {
    /// A new study; an error if the sampler cannot search the space (e.g.
    /// the grid sampler and a double with neither a step nor a count).
    ///
    /// ```
    /// use keelson_hpo::{Direction, GridSampler, ParamSpec, SearchSpace, Study};
    /// let space = SearchSpace::new([ParamSpec::double("x", 0.0, 1.0)])?;
    /// assert!(Study::new(space.clone(), Direction::Minimize, GridSampler::new(0)).is_err());
    /// assert!(Study::new(space, Direction::Minimize, GridSampler::new(0).with_default_count(5)).is_ok());
    /// # Ok::<(), keelson_hpo::Error>(())
    /// ```
    pub fn new(space: SearchSpace, direction: Direction, sampler: S) -> Result<Study<S>> {
        sampler.check_space(&space)?;
        Ok(Study {
            format: FORMAT_VERSION,
            space,
            direction,
            directions: Vec::new(),
            sampler,
            pruner: None,
            trials: Vec::new(),
        })
    }

    /// A study with one objective per direction (see the [module
    /// docs](self)); one direction makes a single-objective study, as
    /// [`Study::new`]. Errors: no direction, a sampler that cannot search
    /// the space, or, for two objectives or more, a sampler that handles
    /// one only ([`Error::SingleObjectiveOnly`], naming it).
    ///
    /// ```
    /// use keelson_hpo::{Direction, Error, Nsga2Sampler, ParamSpec, SearchSpace, Study, TpeSampler};
    /// let space = SearchSpace::new([ParamSpec::double("x", 0.0, 1.0)])?;
    /// let both = [Direction::Minimize, Direction::Maximize];
    /// let study = Study::multi(space.clone(), both, Nsga2Sampler::new(0))?;
    /// assert_eq!(study.directions(), both);
    /// let err = Study::multi(space, both, TpeSampler::new(0)).unwrap_err();
    /// assert!(matches!(err, Error::SingleObjectiveOnly { .. }));
    /// assert_eq!(err.to_string(), "sampler tpe supports a single objective only, and the study has 2");
    /// # Ok::<(), keelson_hpo::Error>(())
    /// ```
    pub fn multi(
        space: SearchSpace,
        directions: impl IntoIterator<Item = Direction>,
        sampler: S,
    ) -> Result<Study<S>> {
        let directions: Vec<Direction> = directions.into_iter().collect();
        let Some(&first) = directions.first() else {
            return Err(Error::setting("directions", "needs at least one objective"));
        };
        let mut study = Study::new(space, first, sampler)?;
        if directions.len() > 1 {
            study.directions = directions;
            study.check_objectives()?;
        }
        Ok(study)
    }

    /// An error unless the sampler can serve this study's number of objectives.
    fn check_objectives(&self) -> Result<()> {
        if self.directions.len() > 1 && !self.sampler.multi_objective() {
            return Err(Error::SingleObjectiveOnly {
                what: format!("sampler {}", self.sampler.name()),
                objectives: self.directions.len(),
            });
        }
        Ok(())
    }

    /// Adds a pruner that [`Study::report`] consults; an error naming the
    /// setting if the pruner's settings are out of range, and
    /// [`Error::SingleObjectiveOnly`] in a multi-objective study.
    ///
    /// ```
    /// use keelson_hpo::{Direction, MedianStop, ParamSpec, Pruner, RandomSampler, SearchSpace, Study};
    /// let space = SearchSpace::new([ParamSpec::int("n", 0, 9)])?;
    /// let study = Study::new(space, Direction::Maximize, RandomSampler::new(0))?
    ///     .with_pruner(Pruner::MedianStop(MedianStop::default()))?;
    /// assert!(study.pruner().is_some());
    /// # Ok::<(), keelson_hpo::Error>(())
    /// ```
    pub fn with_pruner(mut self, pruner: Pruner) -> Result<Study<S>> {
        pruner.validate()?;
        if self.directions.len() > 1 {
            return Err(Error::SingleObjectiveOnly {
                what: "pruner".into(),
                objectives: self.directions.len(),
            });
        }
        self.pruner = Some(pruner);
        Ok(self)
    }

    /// The search space.
    ///
    /// ```
    /// # use keelson_hpo::{Direction, ParamSpec, RandomSampler, SearchSpace, Study};
    /// # let study = Study::new(SearchSpace::new([ParamSpec::int("n", 0, 9)])?, Direction::Minimize, RandomSampler::new(0))?;
    /// assert_eq!(study.space().dims(), 1);
    /// # Ok::<(), keelson_hpo::Error>(())
    /// ```
    pub fn space(&self) -> &SearchSpace {
        &self.space
    }

    /// The direction (of the first objective, in a multi-objective study).
    ///
    /// ```
    /// # use keelson_hpo::{Direction, ParamSpec, RandomSampler, SearchSpace, Study};
    /// # let study = Study::new(SearchSpace::new([ParamSpec::int("n", 0, 9)])?, Direction::Minimize, RandomSampler::new(0))?;
    /// assert_eq!(study.direction(), Direction::Minimize);
    /// # Ok::<(), keelson_hpo::Error>(())
    /// ```
    pub fn direction(&self) -> Direction {
        self.direction
    }

    /// Every objective's direction: one for a single-objective study.
    ///
    /// ```
    /// # use keelson_hpo::{Direction, ParamSpec, RandomSampler, SearchSpace, Study};
    /// # let study = Study::new(SearchSpace::new([ParamSpec::int("n", 0, 9)])?, Direction::Minimize, RandomSampler::new(0))?;
    /// assert_eq!(study.directions(), [Direction::Minimize]);
    /// # Ok::<(), keelson_hpo::Error>(())
    /// ```
    pub fn directions(&self) -> &[Direction] {
        directions(&self.direction, &self.directions)
    }

    /// The sampler, with its current state.
    ///
    /// ```
    /// # use keelson_hpo::{Direction, ParamSpec, RandomSampler, Sampler, SearchSpace, Study};
    /// # let study = Study::new(SearchSpace::new([ParamSpec::int("n", 0, 9)])?, Direction::Minimize, RandomSampler::new(0))?;
    /// assert_eq!(study.sampler().name(), "random");
    /// # Ok::<(), keelson_hpo::Error>(())
    /// ```
    pub fn sampler(&self) -> &S {
        &self.sampler
    }

    /// The pruner, if any.
    ///
    /// ```
    /// # use keelson_hpo::{Direction, ParamSpec, RandomSampler, SearchSpace, Study};
    /// # let study = Study::new(SearchSpace::new([ParamSpec::int("n", 0, 9)])?, Direction::Minimize, RandomSampler::new(0))?;
    /// assert!(study.pruner().is_none());
    /// # Ok::<(), keelson_hpo::Error>(())
    /// ```
    pub fn pruner(&self) -> Option<&Pruner> {
        self.pruner.as_ref()
    }

    /// Every trial so far, by id.
    ///
    /// ```
    /// # use keelson_hpo::{Direction, ParamSpec, RandomSampler, SearchSpace, Study};
    /// # let mut study = Study::new(SearchSpace::new([ParamSpec::int("n", 0, 9)])?, Direction::Minimize, RandomSampler::new(0))?;
    /// study.ask_n(3)?;
    /// assert_eq!(study.trials().len(), 3);
    /// # Ok::<(), keelson_hpo::Error>(())
    /// ```
    pub fn trials(&self) -> &[TrialRecord] {
        &self.trials
    }

    /// One trial by id.
    ///
    /// ```
    /// # use keelson_hpo::{Direction, ParamSpec, RandomSampler, SearchSpace, Study, TrialState};
    /// # let mut study = Study::new(SearchSpace::new([ParamSpec::int("n", 0, 9)])?, Direction::Minimize, RandomSampler::new(0))?;
    /// let t = study.ask()?;
    /// assert_eq!(study.trial(t.id).map(|r| r.state), Some(TrialState::Running));
    /// assert!(study.trial(7).is_none());
    /// # Ok::<(), keelson_hpo::Error>(())
    /// ```
    pub fn trial(&self, id: u64) -> Option<&TrialRecord> {
        usize::try_from(id).ok().and_then(|i| self.trials.get(i))
    }

    /// The next trial. When the sampler has nothing left (an exhausted grid)
    /// the error is [`Error::Exhausted`]: the study is finished, not broken.
    /// When it has nothing yet (Hyperband waiting for a rung to finish) the
    /// error is [`Error::Waiting`]: tell running trials' outcomes, then ask
    /// again.
    ///
    /// ```
    /// use keelson_hpo::{Direction, Error, GridSampler, ParamSpec, SearchSpace, Study};
    /// let space = SearchSpace::new([ParamSpec::categorical("c", ["a", "b"])])?;
    /// let mut study = Study::new(space, Direction::Minimize, GridSampler::new(0))?;
    /// study.ask()?;
    /// study.ask()?;
    /// assert!(matches!(study.ask(), Err(Error::Exhausted { .. })));
    /// # Ok::<(), keelson_hpo::Error>(())
    /// ```
    pub fn ask(&mut self) -> Result<Trial> {
        let directions = directions(&self.direction, &self.directions);
        let context = Context::with_directions(&self.space, &self.trials, directions);
        let Some(params) = self.sampler.suggest(&context)? else {
            return Err(Error::Exhausted {
                sampler: self.sampler.name().to_owned(),
                trials: self.trials.len() as u64,
            });
        };
        // A sampler bug must not leave a trial the space rejects in the study.
        self.space.check(&params)?;
        let id = self.trials.len() as u64;
        self.trials.push(TrialRecord {
            id,
            params: params.clone(),
            state: TrialState::Running,
            value: None,
            values: Vec::new(),
            intermediate: BTreeMap::new(),
            failure: None,
        });
        Ok(Trial { id, params })
    }

    /// Up to `k` trials at once, for `k` parallel workers. Fewer come back
    /// when the sampler runs out or has to wait on the way;
    /// [`Error::Exhausted`] or [`Error::Waiting`] only when not even one
    /// trial could be asked.
    ///
    /// ```
    /// use keelson_hpo::{Direction, GridSampler, ParamSpec, SearchSpace, Study};
    /// let space = SearchSpace::new([ParamSpec::int("n", 1, 3)])?;
    /// let mut study = Study::new(space, Direction::Minimize, GridSampler::new(0))?;
    /// assert_eq!(study.ask_n(5)?.len(), 3);
    /// assert!(study.ask_n(1).is_err());
    /// # Ok::<(), keelson_hpo::Error>(())
    /// ```
    pub fn ask_n(&mut self, k: usize) -> Result<Vec<Trial>> {
        let mut trials = Vec::with_capacity(k.min(1024));
        for _ in 0..k {
            match self.ask() {
                Ok(trial) => trials.push(trial),
                Err(Error::Exhausted { .. } | Error::Waiting { .. }) if !trials.is_empty() => {
                    break;
                }
                Err(e) => return Err(e),
            }
        }
        Ok(trials)
    }

    fn running(&mut self, id: u64) -> Result<&mut TrialRecord> {
        let record = usize::try_from(id)
            .ok()
            .and_then(|i| self.trials.get_mut(i))
            .ok_or(Error::UnknownTrial { id })?;
        if record.state != TrialState::Running {
            return Err(Error::TrialFinished {
                id,
                state: record.state,
            });
        }
        Ok(record)
    }

    /// Records how a running trial ended. Errors: an unknown id, a trial
    /// already told, a NaN or infinite value (tell `Failed` instead), and a
    /// number of values other than the study's number of objectives
    /// ([`Error::ObjectiveCount`]).
    ///
    /// ```
    /// use keelson_hpo::{Direction, Error, Outcome, ParamSpec, RandomSampler, SearchSpace, Study};
    /// # let mut study = Study::new(SearchSpace::new([ParamSpec::int("n", 0, 9)])?, Direction::Minimize, RandomSampler::new(0))?;
    /// let t = study.ask()?;
    /// assert!(matches!(study.tell(t.id, Outcome::Value(f64::NAN)), Err(Error::NonFiniteValue { .. })));
    /// study.tell(t.id, Outcome::Value(1.0))?;
    /// assert!(matches!(study.tell(t.id, Outcome::Pruned), Err(Error::TrialFinished { .. })));
    /// assert!(matches!(study.tell(42, Outcome::Failed), Err(Error::UnknownTrial { id: 42 })));
    /// # Ok::<(), keelson_hpo::Error>(())
    /// ```
    pub fn tell(&mut self, id: u64, outcome: Outcome) -> Result<()> {
        let objectives = self.directions().len();
        let miscount = |got| Error::ObjectiveCount {
            trial: id,
            expected: objectives,
            got,
        };
        let record = self.running(id)?;
        match outcome {
            Outcome::Value(value) if objectives == 1 => {
                if !value.is_finite() {
                    return Err(Error::NonFiniteValue {
                        trial: id,
                        what: "value".into(),
                        value,
                    });
                }
                record.state = TrialState::Complete;
                record.value = Some(value);
            }
            Outcome::Values(values) if values.len() == objectives => {
                if let Some((i, &value)) = values.iter().enumerate().find(|(_, v)| !v.is_finite()) {
                    return Err(Error::NonFiniteValue {
                        trial: id,
                        what: format!("value {i}"),
                        value,
                    });
                }
                record.state = TrialState::Complete;
                if objectives == 1 {
                    record.value = values.first().copied();
                } else {
                    record.values = values;
                }
            }
            Outcome::Value(_) => return Err(miscount(1)),
            Outcome::Values(values) => return Err(miscount(values.len())),
            Outcome::Failed => record.state = TrialState::Failed,
            Outcome::Pruned => record.state = TrialState::Pruned,
        }
        Ok(())
    }

    /// Marks a running trial failed and keeps the reason.
    ///
    /// ```
    /// # use keelson_hpo::{Direction, ParamSpec, RandomSampler, SearchSpace, Study, TrialState};
    /// # let mut study = Study::new(SearchSpace::new([ParamSpec::int("n", 0, 9)])?, Direction::Minimize, RandomSampler::new(0))?;
    /// let t = study.ask()?;
    /// study.fail(t.id, "out of memory")?;
    /// assert_eq!(study.trials()[0].failure.as_deref(), Some("out of memory"));
    /// assert_eq!(study.trials()[0].state, TrialState::Failed);
    /// # Ok::<(), keelson_hpo::Error>(())
    /// ```
    pub fn fail(&mut self, id: u64, reason: impl Into<String>) -> Result<()> {
        let record = self.running(id)?;
        record.state = TrialState::Failed;
        record.failure = Some(reason.into());
        Ok(())
    }

    /// Records an intermediate value of a running trial at `step` and asks
    /// the pruner whether to stop it; [`Decision::Continue`] without a
    /// pruner. Reporting a step again with the same value is a no-op, with
    /// another value an error. The study does not prune by itself: on
    /// [`Decision::Prune`], stop the trial and tell [`Outcome::Pruned`].
    /// A multi-objective study takes no intermediate values
    /// ([`Error::SingleObjectiveOnly`], naming the trial).
    ///
    /// ```
    /// use keelson_hpo::{Decision, Direction, Outcome, ParamSpec, Pruner, MedianStop, RandomSampler, SearchSpace, Study};
    /// let space = SearchSpace::new([ParamSpec::int("n", 0, 9)])?;
    /// let pruner = Pruner::MedianStop(MedianStop { min_trials_required: 1, start_step: 1, ..MedianStop::default() });
    /// let mut study = Study::new(space, Direction::Minimize, RandomSampler::new(0))?.with_pruner(pruner)?;
    /// let good = study.ask()?;
    /// study.report(good.id, 1, 0.2)?;
    /// study.tell(good.id, Outcome::Value(0.1))?;
    /// let bad = study.ask()?;
    /// assert_eq!(study.report(bad.id, 1, 0.9)?, Decision::Prune);
    /// study.tell(bad.id, Outcome::Pruned)?;
    /// # Ok::<(), keelson_hpo::Error>(())
    /// ```
    pub fn report(&mut self, id: u64, step: u64, value: f64) -> Result<Decision> {
        if self.directions.len() > 1 {
            return Err(Error::SingleObjectiveOnly {
                what: format!("trial {id}: report"),
                objectives: self.directions.len(),
            });
        }
        let record = self.running(id)?;
        if !value.is_finite() {
            return Err(Error::NonFiniteValue {
                trial: id,
                what: format!("intermediate value at step {step}"),
                value,
            });
        }
        match record.intermediate.get(&step) {
            Some(&previous) if previous != value => {
                return Err(Error::ConflictingReport {
                    trial: id,
                    step,
                    previous,
                    value,
                });
            }
            Some(_) => {}
            None => {
                record.intermediate.insert(step, value);
            }
        }
        Ok(match &self.pruner {
            Some(pruner) => pruner.decide(&self.trials, id, step, self.direction),
            None => Decision::Continue,
        })
    }

    /// The complete trial with the best value (the earliest among equals);
    /// `None` before any trial completed, and always in a multi-objective
    /// study, where [`Study::pareto_front`] takes its place.
    ///
    /// ```
    /// # use keelson_hpo::{Direction, Outcome, ParamSpec, RandomSampler, SearchSpace, Study};
    /// # let mut study = Study::new(SearchSpace::new([ParamSpec::int("n", 0, 9)])?, Direction::Maximize, RandomSampler::new(0))?;
    /// assert!(study.best_trial().is_none());
    /// for v in [1.0, 3.0, 2.0] {
    ///     let t = study.ask()?;
    ///     study.tell(t.id, Outcome::Value(v))?;
    /// }
    /// assert_eq!(study.best_trial().map(|t| t.id), Some(1));
    /// # Ok::<(), keelson_hpo::Error>(())
    /// ```
    pub fn best_trial(&self) -> Option<&TrialRecord> {
        if self.directions.len() > 1 {
            return None;
        }
        self.trials
            .iter()
            .filter_map(|t| t.value.map(|v| (t, v)))
            .fold(
                None,
                |best: Option<(&TrialRecord, f64)>, (t, v)| match best {
                    Some((_, b)) if !self.direction.is_better(v, b) => best,
                    _ => Some((t, v)),
                },
            )
            .map(|(t, _)| t)
    }

    /// The complete trials that no other complete trial dominates (no worse
    /// in every objective, better in one), in id order. Trials with equal
    /// values are all kept. In a single-objective study, the best trial and
    /// its ties.
    ///
    /// ```
    /// use keelson_hpo::{Direction, Outcome, ParamSpec, RandomSampler, SearchSpace, Study};
    /// let space = SearchSpace::new([ParamSpec::int("n", 0, 9)])?;
    /// // Accuracy up, latency down.
    /// let mut study = Study::multi(space, [Direction::Maximize, Direction::Minimize], RandomSampler::new(0))?;
    /// for (accuracy, latency) in [(0.9, 30.0), (0.8, 10.0), (0.85, 40.0), (0.95, 50.0)] {
    ///     let t = study.ask()?;
    ///     study.tell(t.id, Outcome::Values(vec![accuracy, latency]))?;
    /// }
    /// let front: Vec<u64> = study.pareto_front().iter().map(|t| t.id).collect();
    /// assert_eq!(front, [0, 1, 3]); // (0.85, 40) is worse than (0.9, 30) in both
    /// # Ok::<(), keelson_hpo::Error>(())
    /// ```
    pub fn pareto_front(&self) -> Vec<&TrialRecord> {
        let directions = self.directions();
        let complete: Vec<&TrialRecord> = self
            .trials
            .iter()
            .filter(|t| t.state == TrialState::Complete)
            .collect();
        let points: Vec<Vec<f64>> = complete
            .iter()
            .map(|t| pareto::minimized(t.objectives(), directions))
            .collect();
        pareto::non_dominated(&points)
            .into_iter()
            .filter_map(|i| complete.get(i).copied())
            .collect()
    }
}

impl<S: Sampler + Serialize> Study<S> {
    /// The whole study as JSON, sampler state included.
    ///
    /// ```
    /// # use keelson_hpo::{Direction, ParamSpec, RandomSampler, SearchSpace, Study};
    /// # let study = Study::new(SearchSpace::new([ParamSpec::int("n", 0, 9)])?, Direction::Minimize, RandomSampler::new(0))?;
    /// assert!(study.save()?.contains("\"format\":1"));
    /// # Ok::<(), keelson_hpo::Error>(())
    /// ```
    pub fn save(&self) -> Result<String> {
        serde_json::to_string(self).map_err(|e| Error::Restore(format!("cannot serialize: {e}")))
    }
}

impl<S: Sampler + DeserializeOwned> Study<S> {
    /// Reads a study written by [`Study::save`] and checks it: the format
    /// version, that the sampler can search the space, that trial ids run
    /// 0, 1, 2, ..., that every trial's parameters belong to the space and
    /// its values are finite and match its state.
    ///
    /// ```
    /// use keelson_hpo::{Error, RandomSampler, Study};
    /// let err = Study::<RandomSampler>::restore("{}").unwrap_err();
    /// assert!(matches!(err, Error::Restore(_)));
    /// ```
    pub fn restore(json: &str) -> Result<Study<S>> {
        let study: Study<S> =
            serde_json::from_str(json).map_err(|e| Error::Restore(e.to_string()))?;
        study.validate()?;
        Ok(study)
    }

    fn validate(&self) -> Result<()> {
        if self.format != FORMAT_VERSION {
            return Err(Error::Restore(format!(
                "format is {}, this version reads {FORMAT_VERSION}",
                self.format
            )));
        }
        self.sampler.check_space(&self.space)?;
        match self.directions.first() {
            Some(&first) if self.directions.len() < 2 || first != self.direction => {
                return Err(Error::Restore(
                    "directions must list two objectives or more, the first being direction".into(),
                ));
            }
            _ => self.check_objectives()?,
        }
        if let Some(pruner) = &self.pruner {
            pruner.validate()?;
            if !self.directions.is_empty() {
                return Err(Error::Restore(
                    "a multi-objective study cannot have a pruner".into(),
                ));
            }
        }
        let objectives = self.directions.len();
        for (i, t) in self.trials.iter().enumerate() {
            let bad = |what: String| Err(Error::Restore(format!("trials[{i}]: {what}")));
            if t.id != i as u64 {
                return bad(format!("id is {}, expected {i}", t.id));
            }
            if let Err(e) = self.space.check(&t.params) {
                return bad(format!("params: {e}"));
            }
            if objectives == 0 {
                match (t.state, t.value) {
                    (TrialState::Complete, Some(v)) if v.is_finite() => {}
                    (TrialState::Complete, _) => {
                        return bad("a complete trial needs a finite value".into());
                    }
                    (_, Some(_)) => return bad(format!("a {:?} trial has a value", t.state)),
                    (_, None) => {}
                }
                if !t.values.is_empty() {
                    return bad("a single-objective trial has values".into());
                }
            } else {
                let finite = t.values.iter().all(|v| v.is_finite());
                match (t.state, t.values.len()) {
                    _ if t.value.is_some() => {
                        return bad("a multi-objective trial has a value (see values)".into());
                    }
                    (TrialState::Complete, n) if n == objectives && finite => {}
                    (TrialState::Complete, _) => {
                        return bad(format!("a complete trial needs {objectives} finite values"));
                    }
                    (_, 0) => {}
                    (_, _) => return bad(format!("a {:?} trial has values", t.state)),
                }
                if !t.intermediate.is_empty() {
                    return bad("a multi-objective trial has intermediate values".into());
                }
            }
            if let Some((step, v)) = t.intermediate.iter().find(|(_, v)| !v.is_finite()) {
                return bad(format!("intermediate value at step {step} is {v}"));
            }
        }
        Ok(())
    }
}
