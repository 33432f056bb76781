//! Population based training, PBT (Jaderberg, Dalibard, Osindero,
//! Czarnecki, Donahue, Razavi, Vinyals, Green, Dunning, Simonyan, Fernando
//! and Kavukcuoglu, "Population Based Training of Neural Networks", 2017,
//! arXiv:1711.09846), as Katib's `pbt` algorithm.
//!
//! A population of `n_population` members trains in intervals. Each
//! interval is a trial: it resumes from a [`Checkpoint`] (none at first),
//! trains with the trial's parameters, and is told the value it reached and
//! the checkpoint it left. When a member is ready for its next interval and
//! its latest value is in the bottom `truncation_threshold` of the
//! population, it **exploits**: it copies the parameters and the checkpoint
//! of a member drawn uniformly from the top `truncation_threshold`, then
//! **explores**: every parameter is redrawn from its prior with probability
//! `resample_probability`, otherwise a numeric one is multiplied by 0.8 or
//! 1.2 and a categorical one is redrawn. Other members go on from their own
//! checkpoint with their own parameters.
//!
//! Trials carry checkpoints, which a plain [`Sampler`](crate::Sampler)
//! suggestion cannot, so PBT is its own resumable ask/tell type, [`Pbt`],
//! rather than a sampler of a [`Study`](crate::Study).
//!
//! # Differences from Katib's `pbt`
//!
//! * Asynchronous, as the paper: a member moves on as soon as its interval
//!   is told, ranked against the latest values of the others, instead of
//!   waiting for a whole generation.
//! * An exploiting member resumes from the *top member's* checkpoint, as the
//!   paper's exploit copies weights; Katib (v1beta1) copies the top member's
//!   parameters but hands out the weak member's own checkpoint directory.
//! * With `resample_probability` set, a parameter that is not resampled is
//!   still perturbed (Katib keeps it as is).
//! * `suggestion_trial_dir` has no counterpart: checkpoints are the
//!   caller's handles (a path under that directory, an artifact URI).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::space::{Param, ParamKind, Params, SearchSpace, Value};
use crate::study::{Direction, TrialState};
use crate::{Error, Result};

/// The version of the JSON form [`Pbt::save`] writes and [`Pbt::restore`] reads.
pub const FORMAT_VERSION: u32 = 1;

/// The paper's perturbation factors.
const PERTURB_DOWN: f64 = 0.8;
const PERTURB_UP: f64 = 1.2;

/// Where a trial left its model: an opaque handle of the caller's (a path,
/// an artifact URI) that a later trial resumes from.
///
/// ```
/// use keelson_hpo::pbt::Checkpoint;
/// let c = Checkpoint::from("s3://runs/member-3/step-400");
/// assert_eq!(c.as_str(), "s3://runs/member-3/step-400");
/// assert_eq!(serde_json::to_string(&c).unwrap(), r#""s3://runs/member-3/step-400""#);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Checkpoint(String);

impl Checkpoint {
    /// A checkpoint handle.
    ///
    /// ```
    /// assert_eq!(keelson_hpo::pbt::Checkpoint::new("/ckpt/7").to_string(), "/ckpt/7");
    /// ```
    pub fn new(handle: impl Into<String>) -> Self {
        Checkpoint(handle.into())
    }

    /// The handle.
    ///
    /// ```
    /// assert_eq!(keelson_hpo::pbt::Checkpoint::new("a").as_str(), "a");
    /// ```
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Checkpoint {
    fn from(handle: &str) -> Self {
        Checkpoint::new(handle)
    }
}

impl From<String> for Checkpoint {
    fn from(handle: String) -> Self {
        Checkpoint(handle)
    }
}

impl std::fmt::Display for Checkpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The settings of [`Pbt`], as Katib's `pbt` algorithm settings.
///
/// ```
/// use keelson_hpo::pbt::PbtOptions;
/// let o = PbtOptions::default();
/// assert_eq!((o.n_population, o.truncation_threshold, o.resample_probability), (10, 0.2, None));
/// assert!(PbtOptions { n_population: 4, ..o }.validate().is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PbtOptions {
    /// Members training side by side: also the most trials running at once
    /// (Katib's `n_population`, at least 5; 10).
    pub n_population: usize,
    /// The share of the ranked population that exploits (the bottom) and
    /// is copied (the top), each at most half of it (Katib's
    /// `truncation_threshold`, in `[0, 1]`; 0.2 as the paper; 0 never
    /// exploits).
    pub truncation_threshold: f64,
    /// When exploring, the probability that a parameter is redrawn from its
    /// prior instead of perturbed (Katib's `resample_probability`, in
    /// `[0, 1]`; `None`: always perturbed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resample_probability: Option<f64>,
}

impl Default for PbtOptions {
    fn default() -> Self {
        PbtOptions {
            n_population: 10,
            truncation_threshold: 0.2,
            resample_probability: None,
        }
    }
}

impl PbtOptions {
    /// Checks the settings with Katib's bounds; the error names the
    /// offending one (`pbt.n_population`, `pbt.truncation_threshold`,
    /// `pbt.resample_probability`).
    ///
    /// ```
    /// use keelson_hpo::pbt::PbtOptions;
    /// let err = PbtOptions { truncation_threshold: 1.5, ..PbtOptions::default() }.validate().unwrap_err();
    /// assert!(err.to_string().contains("pbt.truncation_threshold"));
    /// ```
    pub fn validate(&self) -> Result<()> {
        if self.n_population < 5 {
            return Err(Error::setting(
                "pbt.n_population",
                format!("must be at least 5, got {}", self.n_population),
            ));
        }
        let unit = |name: &str, x: f64| {
            if (0.0..=1.0).contains(&x) {
                Ok(())
            } else {
                Err(Error::setting(name, format!("must be in [0, 1], got {x}")))
            }
        };
        unit("pbt.truncation_threshold", self.truncation_threshold)?;
        if let Some(p) = self.resample_probability {
            unit("pbt.resample_probability", p)?;
        }
        Ok(())
    }

    /// How many of `ranked` members form the bottom (and the top): the
    /// threshold's share rounded up, at most half.
    fn cut(&self, ranked: usize) -> usize {
        // The slack keeps 0.3 * 10 at 3 despite its rounding to 3.0000000000000004.
        let share = (self.truncation_threshold * ranked as f64 - 1e-9).ceil();
        (share.max(0.0) as usize).min(ranked / 2)
    }
}

/// An interval to train, handed out by [`Pbt::ask`]: resume `member` from
/// `parent` (from scratch when `None`), train with `params`, then tell
/// [`Pbt::tell`] the value and the new checkpoint under `id`.
///
/// ```
/// use keelson_hpo::{Direction, ParamSpec, SearchSpace};
/// use keelson_hpo::pbt::{Pbt, PbtOptions};
/// let space = SearchSpace::new([ParamSpec::double("lr", 1e-4, 1e-1)])?;
/// let mut pbt = Pbt::new(space, Direction::Maximize, PbtOptions::default(), 0)?;
/// let trial = pbt.ask()?;
/// assert_eq!((trial.id, trial.member, trial.generation, trial.parent), (0, 0, 0, None));
/// # Ok::<(), keelson_hpo::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct PbtTrial {
    /// The trial's id: 0, 1, 2, ... in the order asked.
    pub id: u64,
    /// The member of the population it trains, `0..n_population`.
    pub member: usize,
    /// How many intervals the model behind `parent` has trained: 0 from
    /// scratch, the parent trial's generation + 1 otherwise.
    pub generation: u64,
    /// The parameters to train with.
    pub params: Params,
    /// The checkpoint to resume from; `None`: start from scratch.
    pub parent: Option<Checkpoint>,
    /// The trial that left `parent`: this member's previous trial, or the
    /// top member's trial it exploited.
    pub parent_trial: Option<u64>,
}

/// Everything [`Pbt`] knows about one trial.
///
/// ```
/// use keelson_hpo::{Direction, ParamSpec, SearchSpace, TrialState};
/// use keelson_hpo::pbt::{Pbt, PbtOptions};
/// let space = SearchSpace::new([ParamSpec::double("lr", 1e-4, 1e-1)])?;
/// let mut pbt = Pbt::new(space, Direction::Maximize, PbtOptions::default(), 0)?;
/// let trial = pbt.ask()?;
/// pbt.tell(trial.id, 0.7, "ckpt/0".into())?;
/// let record = &pbt.trials()[0];
/// assert_eq!((record.state, record.value), (TrialState::Complete, Some(0.7)));
/// assert_eq!(record.checkpoint.as_ref().map(|c| c.as_str()), Some("ckpt/0"));
/// # Ok::<(), keelson_hpo::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PbtRecord {
    /// The trial's id, equal to its index in [`Pbt::trials`].
    pub id: u64,
    /// The member it trained.
    pub member: usize,
    /// See [`PbtTrial::generation`].
    pub generation: u64,
    /// The parameters it trained with.
    pub params: Params,
    /// The checkpoint it resumed from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<Checkpoint>,
    /// The trial that left `parent`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_trial: Option<u64>,
    /// Running, complete or failed.
    pub state: TrialState,
    /// The value it reached, once complete.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
    /// The checkpoint it left, once complete.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<Checkpoint>,
    /// Why it failed, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
}

/// Population based training: ask for an interval, train it, tell its value
/// and checkpoint. The whole state (random generator included) is serde
/// data: [`Pbt::save`] and [`Pbt::restore`] continue with exactly the same
/// trials, and the same seed gives the same trials for the same tells.
///
/// [`Pbt::ask`] serves the member that has waited longest for its next
/// interval (whose last trial is the oldest; members never started first,
/// lowest number first), so one worker asking and telling in turn trains
/// the members round robin: first every member from scratch with
/// parameters drawn from the priors, then each member's next interval as
/// told in the [module docs](self). When
/// every member is training, the answer is [`Error::Waiting`]. The
/// population ranks each member by its latest finished interval; a member
/// whose latest interval **failed** is out of the ranking and, on its next
/// interval, is re-seeded from a member drawn from the top (copied and
/// explored, as an exploit), or from scratch while no member has a value.
/// There is no last generation: stop asking when the budget is spent and
/// take [`Pbt::best`].
///
/// A continuous `double` is perturbed by multiplying its value, clamped to
/// the bounds: a value of exactly 0 stays 0 unless resampled. An `int`, a
/// stepped `double` or a `discrete` moves to the value nearest to the
/// product, and to the next value in that direction when rounding would
/// leave it in place. Parameters that become active are drawn from their
/// prior; those that become inactive are dropped.
///
/// ```
/// use keelson_hpo::{Direction, Distribution, ParamSpec, SearchSpace};
/// use keelson_hpo::pbt::{Pbt, PbtOptions};
///
/// // A "model" is one number that each interval pulls towards 3 at rate `lr`;
/// // the checkpoint handle stores it.
/// let space = SearchSpace::new([
///     ParamSpec::double("lr", 0.01, 0.5).distribution(Distribution::LogUniform),
/// ])?;
/// let mut pbt = Pbt::new(space, Direction::Minimize, PbtOptions::default(), 7)?;
/// for _ in 0..200 {
///     let trial = pbt.ask()?;
///     let mut w: f64 = trial.parent.map_or(Ok(0.0), |c| c.as_str().parse()).unwrap();
///     w += trial.params.f64("lr")? * (3.0 - w);
///     pbt.tell(trial.id, (w - 3.0).abs(), w.to_string().into())?;
/// }
/// let best = pbt.best().unwrap();
/// assert!(best.value.unwrap() < 1e-3);
/// // Resume after a restart with the same next trials.
/// let mut resumed = Pbt::restore(&pbt.save()?)?;
/// assert_eq!(resumed.ask()?, pbt.ask()?);
/// # Ok::<(), keelson_hpo::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Pbt {
    format: u32,
    space: SearchSpace,
    direction: Direction,
    options: PbtOptions,
    rng: ChaCha8Rng,
    trials: Vec<PbtRecord>,
}

/// A member's trials as [`Pbt::ask`] needs them: indices into the trials.
#[derive(Clone, Copy, Debug, Default)]
struct Member {
    /// Its newest trial.
    last: Option<usize>,
    /// Its newest finished trial.
    finished: Option<usize>,
}

impl Pbt {
    /// A new population over `space`, seeded with `seed`; an error naming
    /// the setting if the options are out of Katib's bounds.
    ///
    /// ```
    /// use keelson_hpo::{Direction, ParamSpec, SearchSpace};
    /// use keelson_hpo::pbt::{Pbt, PbtOptions};
    /// let space = SearchSpace::new([ParamSpec::categorical("opt", ["sgd", "adam"])])?;
    /// let bad = PbtOptions { resample_probability: Some(2.0), ..PbtOptions::default() };
    /// assert!(Pbt::new(space, Direction::Minimize, bad, 0).is_err());
    /// # Ok::<(), keelson_hpo::Error>(())
    /// ```
    pub fn new(
        space: SearchSpace,
        direction: Direction,
        options: PbtOptions,
        seed: u64,
    ) -> Result<Pbt> {
        options.validate()?;
        Ok(Pbt {
            format: FORMAT_VERSION,
            space,
            direction,
            options,
            rng: ChaCha8Rng::seed_from_u64(seed),
            trials: Vec::new(),
        })
    }

    /// The search space.
    ///
    /// ```
    /// # use keelson_hpo::{Direction, ParamSpec, SearchSpace, pbt::{Pbt, PbtOptions}};
    /// # let pbt = Pbt::new(SearchSpace::new([ParamSpec::int("n", 0, 9)])?, Direction::Minimize, PbtOptions::default(), 0)?;
    /// assert_eq!(pbt.space().dims(), 1);
    /// # Ok::<(), keelson_hpo::Error>(())
    /// ```
    pub fn space(&self) -> &SearchSpace {
        &self.space
    }

    /// The direction.
    ///
    /// ```
    /// # use keelson_hpo::{Direction, ParamSpec, SearchSpace, pbt::{Pbt, PbtOptions}};
    /// # let pbt = Pbt::new(SearchSpace::new([ParamSpec::int("n", 0, 9)])?, Direction::Minimize, PbtOptions::default(), 0)?;
    /// assert_eq!(pbt.direction(), Direction::Minimize);
    /// # Ok::<(), keelson_hpo::Error>(())
    /// ```
    pub fn direction(&self) -> Direction {
        self.direction
    }

    /// The options.
    ///
    /// ```
    /// # use keelson_hpo::{Direction, ParamSpec, SearchSpace, pbt::{Pbt, PbtOptions}};
    /// # let pbt = Pbt::new(SearchSpace::new([ParamSpec::int("n", 0, 9)])?, Direction::Minimize, PbtOptions::default(), 0)?;
    /// assert_eq!(pbt.options().n_population, 10);
    /// # Ok::<(), keelson_hpo::Error>(())
    /// ```
    pub fn options(&self) -> &PbtOptions {
        &self.options
    }

    /// Every trial so far, by id.
    ///
    /// ```
    /// # use keelson_hpo::{Direction, ParamSpec, SearchSpace, pbt::{Pbt, PbtOptions}};
    /// # let mut pbt = Pbt::new(SearchSpace::new([ParamSpec::int("n", 0, 9)])?, Direction::Minimize, PbtOptions::default(), 0)?;
    /// pbt.ask()?;
    /// assert_eq!(pbt.trials().len(), 1);
    /// # Ok::<(), keelson_hpo::Error>(())
    /// ```
    pub fn trials(&self) -> &[PbtRecord] {
        &self.trials
    }

    /// The complete trial with the best value (the earliest among equals),
    /// with the checkpoint it left; `None` before any trial completed.
    ///
    /// ```
    /// # use keelson_hpo::{Direction, ParamSpec, SearchSpace, pbt::{Pbt, PbtOptions}};
    /// # let mut pbt = Pbt::new(SearchSpace::new([ParamSpec::int("n", 0, 9)])?, Direction::Minimize, PbtOptions::default(), 0)?;
    /// assert!(pbt.best().is_none());
    /// let t = pbt.ask()?;
    /// pbt.tell(t.id, 0.5, "c0".into())?;
    /// assert_eq!(pbt.best().map(|r| r.id), Some(0));
    /// # Ok::<(), keelson_hpo::Error>(())
    /// ```
    pub fn best(&self) -> Option<&PbtRecord> {
        self.trials
            .iter()
            .filter_map(|t| t.value.map(|v| (t, v)))
            .fold(None, |best: Option<(&PbtRecord, f64)>, (t, v)| match best {
                Some((_, b)) if !self.direction.is_better(v, b) => best,
                _ => Some((t, v)),
            })
            .map(|(t, _)| t)
    }

    /// The next interval to train; [`Error::Waiting`] while every member is
    /// training.
    ///
    /// ```
    /// use keelson_hpo::{Direction, Error, ParamSpec, SearchSpace};
    /// use keelson_hpo::pbt::{Pbt, PbtOptions};
    /// let space = SearchSpace::new([ParamSpec::int("n", 0, 9)])?;
    /// let mut pbt = Pbt::new(space, Direction::Minimize, PbtOptions { n_population: 5, ..PbtOptions::default() }, 0)?;
    /// let first: Vec<usize> = (0..5).map(|_| pbt.ask().map(|t| t.member)).collect::<Result<_, _>>()?;
    /// assert_eq!(first, [0, 1, 2, 3, 4]);
    /// assert!(matches!(pbt.ask(), Err(Error::Waiting { running: 5, .. })));
    /// pbt.tell(3, 1.0, "c3".into())?;
    /// let next = pbt.ask()?;
    /// assert_eq!((next.member, next.generation, next.parent_trial), (3, 1, Some(3)));
    /// # Ok::<(), keelson_hpo::Error>(())
    /// ```
    pub fn ask(&mut self) -> Result<PbtTrial> {
        self.options.validate()?;
        let members = self.members();
        // The idle member that has waited longest: never started ones first,
        // then by their last trial; one worker then cycles the population.
        let Some(member) = members
            .iter()
            .enumerate()
            .filter(|(_, m)| m.last.is_none_or(|i| self.state(i) != TrialState::Running))
            .min_by_key(|(index, m)| (m.last.map_or(0, |i| i + 1), *index))
            .map(|(index, _)| index)
        else {
            return Err(Error::Waiting {
                sampler: "pbt".to_owned(),
                running: members.len() as u64,
            });
        };
        let ranked = self.ranked(&members);
        let cut = self.options.cut(ranked.len());
        let last = members.get(member).and_then(|m| m.last);
        let source = match last {
            None => None,
            Some(i) if self.state(i) == TrialState::Complete => {
                let position = ranked.iter().position(|&r| r == i);
                if cut > 0 && position.is_some_and(|p| p + cut >= ranked.len()) {
                    Some(self.pick(&ranked, cut))
                } else {
                    // Goes on from its own checkpoint, unchanged.
                    return Ok(self.push(member, i, None));
                }
            }
            // Failed: re-seeded from the top, or from scratch.
            Some(_) if ranked.is_empty() => None,
            Some(_) => Some(self.pick(&ranked, cut.max(1))),
        };
        match source {
            Some(from) => {
                let params = self.explore(from)?;
                Ok(self.push(member, from, Some(params)))
            }
            None => {
                let point: Vec<f64> = (0..self.space.dims())
                    .map(|_| self.rng.random::<f64>())
                    .collect();
                let params = self.space.decode(&point)?;
                Ok(self.record(PbtTrial {
                    id: self.trials.len() as u64,
                    member,
                    generation: 0,
                    params,
                    parent: None,
                    parent_trial: None,
                }))
            }
        }
    }

    /// Records that a running trial reached `value` and left `checkpoint`.
    /// Errors: an unknown id, a trial already told, a NaN or infinite
    /// value (use [`Pbt::fail`] instead).
    ///
    /// ```
    /// use keelson_hpo::{Direction, Error, ParamSpec, SearchSpace};
    /// use keelson_hpo::pbt::{Pbt, PbtOptions};
    /// # let mut pbt = Pbt::new(SearchSpace::new([ParamSpec::int("n", 0, 9)])?, Direction::Minimize, PbtOptions::default(), 0)?;
    /// let t = pbt.ask()?;
    /// assert!(matches!(pbt.tell(t.id, f64::NAN, "c".into()), Err(Error::NonFiniteValue { .. })));
    /// pbt.tell(t.id, 1.0, "c".into())?;
    /// assert!(matches!(pbt.tell(t.id, 1.0, "c".into()), Err(Error::TrialFinished { .. })));
    /// assert!(matches!(pbt.tell(9, 1.0, "c".into()), Err(Error::UnknownTrial { id: 9 })));
    /// # Ok::<(), keelson_hpo::Error>(())
    /// ```
    pub fn tell(&mut self, id: u64, value: f64, checkpoint: Checkpoint) -> Result<()> {
        let record = self.running(id)?;
        if !value.is_finite() {
            return Err(Error::NonFiniteValue {
                trial: id,
                what: "value".into(),
                value,
            });
        }
        record.state = TrialState::Complete;
        record.value = Some(value);
        record.checkpoint = Some(checkpoint);
        Ok(())
    }

    /// Marks a running trial failed and keeps the reason; the member is
    /// re-seeded on its next interval.
    ///
    /// ```
    /// use keelson_hpo::{Direction, ParamSpec, SearchSpace, TrialState};
    /// use keelson_hpo::pbt::{Pbt, PbtOptions};
    /// # let mut pbt = Pbt::new(SearchSpace::new([ParamSpec::int("n", 0, 9)])?, Direction::Minimize, PbtOptions::default(), 0)?;
    /// let t = pbt.ask()?;
    /// pbt.fail(t.id, "diverged")?;
    /// assert_eq!(pbt.trials()[0].state, TrialState::Failed);
    /// # Ok::<(), keelson_hpo::Error>(())
    /// ```
    pub fn fail(&mut self, id: u64, reason: impl Into<String>) -> Result<()> {
        let record = self.running(id)?;
        record.state = TrialState::Failed;
        record.failure = Some(reason.into());
        Ok(())
    }

    /// The whole population as JSON, random state included.
    ///
    /// ```
    /// # use keelson_hpo::{Direction, ParamSpec, SearchSpace, pbt::{Pbt, PbtOptions}};
    /// # let pbt = Pbt::new(SearchSpace::new([ParamSpec::int("n", 0, 9)])?, Direction::Minimize, PbtOptions::default(), 0)?;
    /// assert!(pbt.save()?.starts_with(r#"{"format":1"#));
    /// # Ok::<(), keelson_hpo::Error>(())
    /// ```
    pub fn save(&self) -> Result<String> {
        serde_json::to_string(self).map_err(|e| Error::Restore(format!("cannot serialize: {e}")))
    }

    /// Reads a population written by [`Pbt::save`] and checks it: the format
    /// version, the options, trial ids 0, 1, 2, ..., members in range and
    /// training one interval at a time, parameters inside the space, values
    /// and checkpoints matching each trial's state, parents that exist and
    /// left the named checkpoint. Running trials stay running: tell them.
    ///
    /// ```
    /// use keelson_hpo::{Error, pbt::Pbt};
    /// assert!(matches!(Pbt::restore("{}"), Err(Error::Restore(_))));
    /// ```
    pub fn restore(json: &str) -> Result<Pbt> {
        let pbt: Pbt = serde_json::from_str(json).map_err(|e| Error::Restore(e.to_string()))?;
        pbt.validate()?;
        Ok(pbt)
    }

    fn validate(&self) -> Result<()> {
        if self.format != FORMAT_VERSION {
            return Err(Error::Restore(format!(
                "format is {}, this version reads {FORMAT_VERSION}",
                self.format
            )));
        }
        self.options.validate()?;
        let mut training = vec![false; self.options.n_population];
        for (i, t) in self.trials.iter().enumerate() {
            let bad = |what: String| Err(Error::Restore(format!("trials[{i}]: {what}")));
            if t.id != i as u64 {
                return bad(format!("id is {}, expected {i}", t.id));
            }
            let Some(busy) = training.get_mut(t.member) else {
                return bad(format!(
                    "member {} is outside the population of {}",
                    t.member, self.options.n_population
                ));
            };
            if *busy {
                return bad(format!("member {} already has a running trial", t.member));
            }
            *busy = t.state == TrialState::Running;
            if let Err(e) = self.space.check(&t.params) {
                return bad(format!("params: {e}"));
            }
            match (t.state, t.value, &t.checkpoint) {
                (TrialState::Complete, Some(v), Some(_)) if v.is_finite() => {}
                (TrialState::Complete, _, _) => {
                    return bad("a complete trial needs a finite value and a checkpoint".into());
                }
                (TrialState::Running | TrialState::Failed, None, None) => {}
                (state, _, _) => {
                    return bad(format!(
                        "a {state:?} trial has a value or a checkpoint (or PBT has no {state:?} trials)"
                    ));
                }
            }
            let parent = t.parent_trial.map(|p| {
                usize::try_from(p)
                    .ok()
                    .filter(|&p| p < i)
                    .and_then(|p| self.trials.get(p))
            });
            match parent {
                None if t.parent.is_none() && t.generation == 0 => {}
                Some(Some(p))
                    if p.checkpoint.is_some()
                        && p.checkpoint == t.parent
                        && p.generation.checked_add(1) == Some(t.generation) => {}
                _ => {
                    return bad(
                        "parent_trial, parent and generation disagree (the parent must be an earlier complete trial whose checkpoint is parent, one generation before)".into(),
                    );
                }
            }
        }
        Ok(())
    }

    fn running(&mut self, id: u64) -> Result<&mut PbtRecord> {
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

    fn state(&self, i: usize) -> TrialState {
        self.trials.get(i).map_or(TrialState::Running, |t| t.state)
    }

    fn members(&self) -> Vec<Member> {
        let mut members = vec![Member::default(); self.options.n_population];
        for (i, t) in self.trials.iter().enumerate() {
            if let Some(m) = members.get_mut(t.member) {
                m.last = Some(i);
                if t.state != TrialState::Running {
                    m.finished = Some(i);
                }
            }
        }
        members
    }

    /// Each member's newest finished trial when it is complete, best first
    /// (the older trial among equal values).
    fn ranked(&self, members: &[Member]) -> Vec<usize> {
        let mut ranked: Vec<(f64, usize)> = members
            .iter()
            .filter_map(|m| {
                let i = m.finished?;
                Some((self.trials.get(i)?.value?, i))
            })
            .collect();
        ranked.sort_by(|a, b| {
            let by_value = match self.direction {
                Direction::Minimize => a.0.total_cmp(&b.0),
                Direction::Maximize => b.0.total_cmp(&a.0),
            };
            by_value.then(a.1.cmp(&b.1))
        });
        ranked.into_iter().map(|(_, i)| i).collect()
    }

    /// A trial drawn uniformly from the best `top` of `ranked` (not empty).
    fn pick(&mut self, ranked: &[usize], top: usize) -> usize {
        let k = top.clamp(1, ranked.len().max(1));
        let i = self.rng.random_range(0..k);
        ranked.get(i).copied().unwrap_or_default()
    }

    /// Starts `member`'s next interval from trial `from`'s checkpoint, with
    /// `params` or, when `None`, `from`'s own parameters.
    fn push(&mut self, member: usize, from: usize, params: Option<Params>) -> PbtTrial {
        let (params, parent, parent_trial, generation) = match self.trials.get(from) {
            Some(t) => (
                params.unwrap_or_else(|| t.params.clone()),
                t.checkpoint.clone(),
                Some(t.id),
                t.generation.saturating_add(1),
            ),
            None => (params.unwrap_or_default(), None, None, 0),
        };
        self.record(PbtTrial {
            id: self.trials.len() as u64,
            member,
            generation,
            params,
            parent,
            parent_trial,
        })
    }

    fn record(&mut self, trial: PbtTrial) -> PbtTrial {
        self.trials.push(PbtRecord {
            id: trial.id,
            member: trial.member,
            generation: trial.generation,
            params: trial.params.clone(),
            parent: trial.parent.clone(),
            parent_trial: trial.parent_trial,
            state: TrialState::Running,
            value: None,
            checkpoint: None,
            failure: None,
        });
        trial
    }

    /// Trial `from`'s parameters, explored: parents before children, each
    /// active parameter resampled or perturbed, newly active ones drawn
    /// from their prior.
    fn explore(&mut self, from: usize) -> Result<Params> {
        let source = self
            .trials
            .get(from)
            .map(|t| t.params.clone())
            .unwrap_or_default();
        let resample = self.options.resample_probability.unwrap_or(0.0);
        let mut params = Params::new();
        for &i in self.space.order() {
            let Some(param) = self.space.params().get(i) else {
                continue;
            };
            let active = param.condition().is_none_or(|c| {
                matches!(params.get(&c.parent), Some(Value::Categorical(v)) if c.values.contains(v))
            });
            if !active {
                continue;
            }
            let redraw = self.rng.random::<f64>() < resample;
            let value = match source.get(param.name()) {
                Some(value) if !redraw => perturb(param, value, &mut self.rng)?,
                _ => param.decode(self.rng.random::<f64>())?,
            };
            params.insert(param.name(), value);
        }
        Ok(params)
    }
}

/// `value` multiplied by 0.8 or 1.2 (a fair coin) and brought back into the
/// parameter; a categorical value is redrawn.
fn perturb(param: &Param, value: &Value, rng: &mut ChaCha8Rng) -> Result<Value> {
    let up = rng.random_bool(0.5);
    let Some(x) = value.as_f64() else {
        return param.decode(rng.random::<f64>());
    };
    let target = x * if up { PERTURB_UP } else { PERTURB_DOWN };
    let moved = param.nearest(target)?;
    if moved != *value {
        return Ok(moved);
    }
    // Rounding (or a zero) kept a lattice value in place: take the next
    // value in the direction of the product.
    let rising = if target == x { up } else { target > x };
    let next = match param.kind() {
        ParamKind::Int { step, .. } => {
            let step = *step as f64;
            param.nearest(if rising { x + step } else { x - step })?
        }
        ParamKind::Double {
            step: Some(step), ..
        } => param.nearest(if rising { x + step } else { x - step })?,
        ParamKind::Discrete { values } => {
            let beyond = values
                .iter()
                .copied()
                .filter(|v| if rising { *v > x } else { *v < x });
            let closest = if rising {
                beyond.min_by(f64::total_cmp)
            } else {
                beyond.max_by(f64::total_cmp)
            };
            closest.map_or(moved, Value::Discrete)
        }
        ParamKind::Double { step: None, .. } | ParamKind::Categorical { .. } => moved,
    };
    Ok(next)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::space::ParamSpec;

    #[test]
    fn cut_rounds_up_and_stays_at_most_half() {
        let o = |q| PbtOptions {
            truncation_threshold: q,
            ..PbtOptions::default()
        };
        assert_eq!(o(0.2).cut(10), 2);
        assert_eq!(o(0.3).cut(10), 3);
        assert_eq!(o(0.2).cut(5), 1);
        assert_eq!(o(0.2).cut(7), 2);
        assert_eq!(o(0.9).cut(7), 3);
        assert_eq!(o(0.0).cut(10), 0);
        assert_eq!(o(0.2).cut(1), 0);
    }

    #[test]
    fn perturbation_moves_lattice_values_off_rounding() {
        let space = SearchSpace::new([
            ParamSpec::int("n", 1, 10),
            ParamSpec::discrete("bs", [16.0, 32.0, 64.0]),
            ParamSpec::double("x", 0.0, 1.0),
        ])
        .unwrap();
        let [n, bs, x] = space.params() else {
            unreachable!()
        };
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..50 {
            // 2 * 0.8 and 2 * 1.2 both round to 2: the neighbours instead.
            let v = perturb(n, &Value::Int(2), &mut rng).unwrap();
            assert!(matches!(v, Value::Int(1 | 3)), "{v:?}");
            seen.insert(v.as_i64().unwrap());
            let b = perturb(bs, &Value::Discrete(32.0), &mut rng).unwrap();
            assert!(matches!(b, Value::Discrete(16.0 | 64.0)), "{b:?}");
            let y = perturb(x, &Value::Double(0.9), &mut rng).unwrap();
            assert!(
                y == Value::Double(1.0) || y == Value::Double(0.9 * 0.8),
                "{y:?}"
            );
        }
        assert_eq!(seen.len(), 2, "both directions");
    }
}
