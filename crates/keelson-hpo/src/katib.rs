//! Katib's `Experiment` as a study, and its `trialTemplate` rendered for a
//! trial (feature `crd`).
//!
//! A controller that plays Katib's Suggestion service reads an
//! [`Experiment`] with keelson-crd, builds a [`KatibStudy`] from it with
//! [`KatibStudy::from_experiment`], asks the study for trials, renders each
//! one's run spec with [`render_trial_spec`] and tells the study what the
//! metrics collector reported. The study saves to JSON (Katib's
//! `resumePolicy`): a restored one continues with exactly the suggestions it
//! would have made.
//!
//! ```
//! use keelson_crd::katib::v1beta1::Experiment;
//! use keelson_hpo::katib::{KatibStudy, TrialMeta, render_trial_spec};
//! use keelson_hpo::Outcome;
//!
//! let experiment: Experiment = serde_yaml_ng::from_str(r#"
//! apiVersion: kubeflow.org/v1beta1
//! kind: Experiment
//! metadata: {name: tune, namespace: team-a}
//! spec:
//!   objective: {type: maximize, goal: 0.99, objectiveMetricName: accuracy}
//!   algorithm:
//!     algorithmName: tpe
//!     algorithmSettings: [{name: random_state, value: "7"}]
//!   parallelTrialCount: 2
//!   maxTrialCount: 10
//!   parameters:
//!     - {name: lr, parameterType: double, feasibleSpace: {min: "0.01", max: "0.05"}}
//!     - {name: optimizer, parameterType: categorical, feasibleSpace: {list: [sgd, adam]}}
//!   trialTemplate:
//!     primaryContainerName: training
//!     trialParameters:
//!       - {name: learningRate, reference: lr}
//!       - {name: optimizer, reference: optimizer}
//!       - {name: trialName, reference: "${trialSpec.Name}"}
//!     trialSpec:
//!       apiVersion: batch/v1
//!       kind: Job
//!       spec:
//!         template:
//!           spec:
//!             containers:
//!               - name: training
//!                 image: docker.io/kubeflowkatib/mxnet-mnist
//!                 command: [python3, train.py, "--lr=${trialParameters.learningRate}",
//!                           "--optimizer=${trialParameters.optimizer}",
//!                           "--out=/models/${trialParameters.trialName}"]
//! "#).unwrap();
//!
//! let mut katib = KatibStudy::from_experiment(&experiment, 0)?;
//! assert_eq!(katib.trials_to_create(), 2); // parallelTrialCount
//! let trial = katib.study.ask()?;
//! let meta = TrialMeta::new("tune-abc12", "team-a");
//! let job = render_trial_spec(&experiment, &meta, &trial.params)?;
//! let command = &job["spec"]["template"]["spec"]["containers"][0]["command"];
//! assert_eq!(command[2], format!("--lr={}", trial.params.get("lr").unwrap()));
//! assert_eq!(command[4], "--out=/models/tune-abc12");
//! katib.study.tell(trial.id, Outcome::Value(0.995))?;
//! assert_eq!(katib.progress(), keelson_hpo::katib::Progress::GoalReached);
//! # Ok::<(), keelson_hpo::Error>(())
//! ```
//!
//! What is mapped, and how:
//!
//! | Katib | keelson |
//! |---|---|
//! | `parameters` | [`SearchSpace`], validated by this crate (errors name the parameter) |
//! | `objective.type`, `goal`, `objectiveMetricName` | [`Direction`], [`KatibStudy::goal`], [`KatibStudy::objective_metric`] |
//! | `random` (`random_state`) | [`RandomSampler`] |
//! | `grid` (`random_state`) | [`GridSampler`]; refused if `maxTrialCount` exceeds the grid, as Katib does |
//! | `sobol` | [`SobolSampler`] |
//! | `tpe` (`gamma`, `prior_weight`, `n_EI_candidates`, `random_state`) | [`TpeSampler`], univariate, hyperopt's γ = `gamma`·√n (capped at 25) and its 20 startup trials |
//! | `multivariate-tpe` (`n_startup_trials`, `n_ei_candidates`, `random_state`) | [`TpeSampler`], multivariate with a constant liar, as Katib's Optuna service |
//! | `bayesianoptimization` (`base_estimator` GP, `n_initial_points`, `acq_func` EI or gp_hedge, `acq_optimizer`, `random_state`) | [`GpSampler`]: Matérn-5/2 GP with log EI, whatever the acquisition optimizer named (random candidates refined by L-BFGS); other estimators and acquisitions are refused |
//! | `cmaes` (`random_state`, `sigma`, `restart_strategy` none/ipop/bipop) | [`CmaEsSampler`]; `sigma` is the initial step in the unit cube the parameters are mapped to (Goptuna's is in parameter units: divide by the range) |
//! | `hyperband` (`resource_name`, `r_l`, `eta`) | [`HyperbandSampler`] from resource 1 up to `r_l`, as Katib's rungs |
//! | `pbt` (`n_population`, `truncation_threshold`, `resample_probability`) | not a study: [`pbt`] builds a [`Pbt`] |
//! | `earlyStopping` `medianstop` (`min_trials_required`, `start_step`) | [`Pruner::MedianStop`], with the mean of the averages as Katib's service computes it ([`Reference::Mean`]) |
//! | `parallelTrialCount`, `maxTrialCount`, `maxFailedTrialCount` | [`KatibStudy::trials_to_create`] and [`KatibStudy::progress`] |
//!
//! Every setting value is a string in Katib; a value that does not parse,
//! an unknown setting or an unknown algorithm is an
//! [`Error::Experiment`] naming the field. A missing `random_state` takes
//! the `default_seed` the caller passes, so the study stays reproducible.
//! `enas` and `darts` (neural architecture search) are not search
//! algorithms over a parameter space and are refused.

use std::collections::BTreeMap;

use keelson_crd::katib::v1beta1::{
    AlgorithmSpec, EarlyStoppingSpec, Experiment, ExperimentSpec, ObjectiveKind, TrialTemplate,
};
use serde_json::Value as Json;

use crate::pbt::{Pbt, PbtOptions};
use crate::pruner::{MedianStop, Pruner, Reference};
use crate::samplers::{
    AnySampler, CmaEsOptions, CmaEsSampler, Gamma, GpOptions, GpSampler, GridSampler,
    HyperbandOptions, HyperbandSampler, RandomSampler, Restart, SobolSampler, TpeOptions,
    TpeSampler,
};
use crate::space::{Params, SearchSpace, SpaceSpec};
use crate::study::{Direction, Study, TrialState};
use crate::{Error, Result};

/// A study built from a Katib `Experiment`, with the experiment's objective
/// and trial budget beside it.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct KatibStudy {
    /// The study: space, direction, sampler and pruner from the experiment.
    pub study: Study<AnySampler>,
    /// `objective.objectiveMetricName`: the metric told to the study.
    pub objective_metric: String,
    /// `objective.goal`: the experiment succeeds once a trial reaches it.
    pub goal: Option<f64>,
    /// `parallelTrialCount` (Katib's default 3).
    pub parallel_trial_count: u32,
    /// `maxTrialCount`, if set.
    pub max_trial_count: Option<u32>,
    /// `maxFailedTrialCount`, if set.
    pub max_failed_trial_count: Option<u32>,
}

/// Where an experiment stands, as Katib's experiment controller decides it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Progress {
    /// More trials are to be run.
    Running,
    /// A complete trial reached `objective.goal`: the experiment succeeded.
    GoalReached,
    /// `maxTrialCount` trials have finished: the experiment succeeded.
    MaxTrialsReached,
    /// More than `maxFailedTrialCount` trials failed: the experiment failed.
    TooManyFailures,
    /// The sampler has nothing left to suggest (an exhausted grid).
    Exhausted,
}

impl KatibStudy {
    /// Builds the study an experiment describes; `default_seed` seeds the
    /// sampler when the algorithm settings have no `random_state`.
    ///
    /// Errors name the experiment field at fault: a missing objective, a
    /// bad parameter, an unknown algorithm or setting, a setting value that
    /// does not parse.
    ///
    /// ```
    /// use keelson_crd::katib::v1beta1::Experiment;
    /// use keelson_hpo::katib::KatibStudy;
    ///
    /// let experiment: Experiment = serde_yaml_ng::from_str(r#"
    /// apiVersion: kubeflow.org/v1beta1
    /// kind: Experiment
    /// metadata: {name: tune}
    /// spec:
    ///   objective: {type: minimize, objectiveMetricName: loss}
    ///   algorithm: {algorithmName: simulated-annealing}
    ///   parameters:
    ///     - {name: lr, parameterType: double, feasibleSpace: {min: "0.01", max: "0.05"}}
    /// "#).unwrap();
    /// let err = KatibStudy::from_experiment(&experiment, 0).unwrap_err();
    /// assert!(err.to_string().contains("spec.algorithm.algorithmName"));
    /// assert!(err.to_string().contains("simulated-annealing"));
    /// ```
    pub fn from_experiment(experiment: &Experiment, default_seed: u64) -> Result<KatibStudy> {
        let spec = experiment
            .spec
            .as_ref()
            .ok_or_else(|| Error::experiment("spec", "the Experiment has no spec"))?;
        let objective = experiment.objective().map_err(crd_error)?;
        let counts = experiment.trial_counts().map_err(crd_error)?;
        let space = search_space(spec)?;
        let direction = match objective.kind {
            ObjectiveKind::Minimize => Direction::Minimize,
            ObjectiveKind::Maximize => Direction::Maximize,
        };
        let algorithm = spec
            .algorithm
            .as_ref()
            .ok_or_else(|| Error::experiment("spec.algorithm", "an algorithm must be specified"))?;
        let sampler = sampler(algorithm, default_seed)?;
        if let AnySampler::Grid(grid) = &sampler
            && let Some(max) = counts.max
        {
            let size = grid.grid_size(&space)?;
            if u64::from(max) > size {
                return Err(Error::experiment(
                    "spec.maxTrialCount",
                    format!("{max} exceeds the grid's {size} points"),
                ));
            }
        }
        let mut study = Study::new(space, direction, sampler)?;
        if let Some(early) = &spec.early_stopping {
            study = study.with_pruner(pruner(early)?)?;
        }
        Ok(KatibStudy {
            study,
            objective_metric: objective.metric,
            goal: objective.goal,
            parallel_trial_count: counts.parallel,
            max_trial_count: counts.max,
            max_failed_trial_count: counts.max_failed,
        })
    }

    /// How many new trials to ask for now: `parallelTrialCount` less the
    /// running ones, and no more than `maxTrialCount` allows in all; zero
    /// once the experiment is no longer [`Progress::Running`].
    pub fn trials_to_create(&self) -> usize {
        if self.progress() != Progress::Running {
            return 0;
        }
        let trials = self.study.trials();
        let running = count(trials, TrialState::Running);
        let parallel = (self.parallel_trial_count as usize).saturating_sub(running);
        match self.max_trial_count {
            Some(max) => parallel.min((max as usize).saturating_sub(trials.len())),
            None => parallel,
        }
    }

    /// Whether the experiment is done, and why, by Katib's rules: the goal
    /// reached by a complete trial, more failures than
    /// `maxFailedTrialCount`, or `maxTrialCount` trials finished (complete,
    /// failed or early stopped).
    pub fn progress(&self) -> Progress {
        let trials = self.study.trials();
        let direction = self.study.direction();
        if let Some(goal) = self.goal {
            let reached = trials
                .iter()
                .filter_map(|t| t.value)
                .any(|v| v == goal || direction.is_better(v, goal));
            if reached {
                return Progress::GoalReached;
            }
        }
        if let Some(max_failed) = self.max_failed_trial_count
            && count(trials, TrialState::Failed) > max_failed as usize
        {
            return Progress::TooManyFailures;
        }
        if let Some(max) = self.max_trial_count {
            let finished = trials.len() - count(trials, TrialState::Running);
            if finished >= max as usize {
                return Progress::MaxTrialsReached;
            }
        }
        Progress::Running
    }
}

fn count(trials: &[crate::TrialRecord], state: TrialState) -> usize {
    trials.iter().filter(|t| t.state == state).count()
}

fn crd_error(e: keelson_crd::Error) -> Error {
    match e {
        keelson_crd::Error::Invalid { location, message } => Error::Experiment {
            field: location.path.unwrap_or_else(|| "spec".to_owned()),
            reason: message,
        },
        other => Error::experiment("spec", other.to_string()),
    }
}

/// The experiment's `parameters` as a search space, validated by this crate.
fn search_space(spec: &ExperimentSpec) -> Result<SearchSpace> {
    let parameters = spec.parameters.as_deref().unwrap_or_default();
    if parameters.is_empty() {
        let reason = if spec.nas_config.is_some() {
            "no parameters: neural architecture search (spec.nasConfig) is not supported"
        } else {
            "at least one parameter must be specified"
        };
        return Err(Error::experiment("spec.parameters", reason));
    }
    let document = serde_json::json!({ "parameters": parameters });
    let spec: SpaceSpec = serde_json::from_value(document)
        .map_err(|e| Error::experiment("spec.parameters", e.to_string()))?;
    SearchSpace::try_from(spec)
}

/// The sampler for `spec.algorithm`.
///
/// ```
/// use keelson_crd::katib::v1beta1::{AlgorithmSetting, AlgorithmSpec};
/// use keelson_hpo::{Sampler, katib};
///
/// let spec = AlgorithmSpec {
///     algorithm_name: Some("multivariate-tpe".into()),
///     algorithm_settings: Some(vec![AlgorithmSetting {
///         name: Some("n_startup_trials".into()),
///         value: Some("five".into()),
///     }]),
/// };
/// let err = katib::sampler(&spec, 0).unwrap_err();
/// assert!(err.to_string().contains("algorithmSettings[n_startup_trials]"));
/// ```
pub fn sampler(algorithm: &AlgorithmSpec, default_seed: u64) -> Result<AnySampler> {
    let name = algorithm.algorithm_name.as_deref().unwrap_or_default();
    let pairs = algorithm
        .algorithm_settings
        .iter()
        .flatten()
        .map(|s| (s.name.as_deref(), s.value.as_deref()));
    let mut settings = Settings::new("spec.algorithm.algorithmSettings", pairs)?;
    let seed = settings.take("random_state")?.unwrap_or(default_seed);
    let sampler: AnySampler = match name {
        "random" => RandomSampler::new(seed).into(),
        "grid" => GridSampler::new(seed).into(),
        "sobol" => SobolSampler::new(seed).into(),
        "tpe" => {
            let defaults = TpeOptions::default();
            let options = TpeOptions {
                n_startup_trials: HYPEROPT_STARTUP_TRIALS,
                n_ei_candidates: settings
                    .take("n_EI_candidates")?
                    .unwrap_or(defaults.n_ei_candidates),
                gamma: Gamma::Sqrt {
                    factor: settings.take("gamma")?.unwrap_or(HYPEROPT_GAMMA),
                    max: 25,
                },
                prior_weight: settings
                    .take("prior_weight")?
                    .unwrap_or(defaults.prior_weight),
                // Katib's suggestion services hand `discrete` lists to
                // hyperopt (`hp.choice`) and Optuna as categorical.
                discrete_as_categorical: true,
                ..defaults
            };
            settings.checked_options(options.validate())?;
            TpeSampler::with_options(seed, options).into()
        }
        "multivariate-tpe" => {
            let defaults = TpeOptions::default();
            let options = TpeOptions {
                n_startup_trials: settings
                    .take("n_startup_trials")?
                    .unwrap_or(defaults.n_startup_trials),
                n_ei_candidates: settings
                    .take("n_ei_candidates")?
                    .unwrap_or(defaults.n_ei_candidates),
                multivariate: true,
                constant_liar: true,
                discrete_as_categorical: true,
                ..defaults
            };
            settings.checked_options(options.validate())?;
            TpeSampler::with_options(seed, options).into()
        }
        "bayesianoptimization" => {
            let path = "spec.algorithm.algorithmSettings";
            match settings.take::<String>("base_estimator")?.as_deref() {
                None | Some("GP") => {}
                Some(other) => {
                    return Err(Error::experiment(
                        format!("{path}[base_estimator]"),
                        format!("{other:?}: only GP (a Gaussian process) is implemented"),
                    ));
                }
            }
            match settings.take::<String>("acq_func")?.as_deref() {
                None | Some("gp_hedge" | "EI") => {}
                Some(other) => {
                    return Err(Error::experiment(
                        format!("{path}[acq_func]"),
                        format!(
                            "{other:?}: the acquisition is (log) expected improvement; use EI or gp_hedge"
                        ),
                    ));
                }
            }
            match settings.take::<String>("acq_optimizer")?.as_deref() {
                None | Some("auto" | "sampling" | "lbfgs") => {}
                Some(other) => {
                    return Err(Error::experiment(
                        format!("{path}[acq_optimizer]"),
                        format!("{other:?} is not one of auto, sampling, lbfgs"),
                    ));
                }
            }
            let defaults = GpOptions::default();
            let options = GpOptions {
                n_startup_trials: settings
                    .take("n_initial_points")?
                    .unwrap_or(defaults.n_startup_trials),
                ..defaults
            };
            settings.checked_options(options.validate())?;
            GpSampler::with_options(seed, options).into()
        }
        "cmaes" => {
            let defaults = CmaEsOptions::default();
            let restart = match settings.take::<String>("restart_strategy")?.as_deref() {
                None | Some("none") => Restart::None,
                Some("ipop") => Restart::Ipop { inc_popsize: 2 },
                Some("bipop") => Restart::Bipop { inc_popsize: 2 },
                Some(other) => {
                    return Err(Error::experiment(
                        "spec.algorithm.algorithmSettings[restart_strategy]",
                        format!("{other:?} is not one of none, ipop, bipop"),
                    ));
                }
            };
            let sigma0: f64 = settings.take("sigma")?.unwrap_or(defaults.sigma0);
            if !(sigma0.is_finite() && sigma0 > 0.0) {
                return Err(Error::experiment(
                    "spec.algorithm.algorithmSettings[sigma]",
                    format!("must be a positive number, got {sigma0}"),
                ));
            }
            let options = CmaEsOptions {
                sigma0,
                restart,
                ..defaults
            };
            settings.checked_options(options.validate())?;
            CmaEsSampler::with_options(seed, options).into()
        }
        "hyperband" => {
            let resource_name: String = settings.take("resource_name")?.ok_or_else(|| {
                Error::experiment(
                    "spec.algorithm.algorithmSettings[resource_name]",
                    "hyperband needs the resource parameter's name",
                )
            })?;
            let r_l: f64 = settings.take("r_l")?.ok_or_else(|| {
                Error::experiment(
                    "spec.algorithm.algorithmSettings[r_l]",
                    "hyperband needs r_l, the largest resource",
                )
            })?;
            let defaults = HyperbandOptions::new(resource_name);
            let options = HyperbandOptions {
                max_resource: Some(r_l),
                // Katib's smallest rung is r_l / eta^s_max, which is about 1.
                min_resource: Some(1.0),
                eta: settings.take("eta")?.unwrap_or(defaults.eta),
                ..defaults
            };
            settings.checked_options(options.validate())?;
            HyperbandSampler::new(seed, options).into()
        }
        "pbt" => {
            return Err(Error::experiment(
                "spec.algorithm.algorithmName",
                "pbt trains a population from checkpoints and is not a study: use katib::pbt",
            ));
        }
        "enas" | "darts" => {
            return Err(Error::experiment(
                "spec.algorithm.algorithmName",
                format!("{name:?} is neural architecture search, which keelson-hpo does not do"),
            ));
        }
        "" => {
            return Err(Error::experiment(
                "spec.algorithm.algorithmName",
                "an algorithm name must be specified",
            ));
        }
        other => {
            return Err(Error::experiment(
                "spec.algorithm.algorithmName",
                format!(
                    "unknown algorithm {other:?} (known: random, grid, sobol, tpe, multivariate-tpe, bayesianoptimization, cmaes, hyperband, pbt)"
                ),
            ));
        }
    };
    settings.finish()?;
    Ok(sampler)
}

/// Population based training for an experiment whose algorithm is `pbt`:
/// its parameters, objective direction and settings (`n_population`,
/// `truncation_threshold`, `resample_probability`, `random_state`).
/// `suggestion_trial_dir` is accepted and not used: where Katib keeps
/// checkpoints, [`Pbt`] hands out the caller's own checkpoint handles.
///
/// ```
/// use keelson_crd::katib::v1beta1::Experiment;
/// use keelson_hpo::katib;
///
/// let experiment: Experiment = serde_yaml_ng::from_str(r#"
/// apiVersion: kubeflow.org/v1beta1
/// kind: Experiment
/// metadata: {name: pbt}
/// spec:
///   objective: {type: maximize, objectiveMetricName: accuracy}
///   algorithm:
///     algorithmName: pbt
///     algorithmSettings: [{name: n_population, value: "8"}, {name: truncation_threshold, value: "0.3"}]
///   parameters:
///     - {name: lr, parameterType: double, feasibleSpace: {min: "0.0001", max: "0.02"}}
/// "#).unwrap();
/// let mut pbt = katib::pbt(&experiment, 0)?;
/// let first = pbt.ask()?;
/// assert!(first.parent.is_none()); // a fresh member starts from scratch
/// # Ok::<(), keelson_hpo::Error>(())
/// ```
pub fn pbt(experiment: &Experiment, default_seed: u64) -> Result<Pbt> {
    let spec = experiment
        .spec
        .as_ref()
        .ok_or_else(|| Error::experiment("spec", "the Experiment has no spec"))?;
    let objective = experiment.objective().map_err(crd_error)?;
    let direction = match objective.kind {
        ObjectiveKind::Minimize => Direction::Minimize,
        ObjectiveKind::Maximize => Direction::Maximize,
    };
    let algorithm = spec.algorithm.as_ref();
    let name = algorithm
        .and_then(|a| a.algorithm_name.as_deref())
        .unwrap_or_default();
    if name != "pbt" {
        return Err(Error::experiment(
            "spec.algorithm.algorithmName",
            format!("{name:?} is not pbt"),
        ));
    }
    let pairs = algorithm
        .and_then(|a| a.algorithm_settings.as_ref())
        .into_iter()
        .flatten()
        .map(|s| (s.name.as_deref(), s.value.as_deref()));
    let mut settings = Settings::new("spec.algorithm.algorithmSettings", pairs)?;
    let seed = settings.take("random_state")?.unwrap_or(default_seed);
    let defaults = PbtOptions::default();
    let options = PbtOptions {
        n_population: settings
            .take("n_population")?
            .unwrap_or(defaults.n_population),
        truncation_threshold: settings
            .take("truncation_threshold")?
            .unwrap_or(defaults.truncation_threshold),
        resample_probability: settings.take("resample_probability")?,
    };
    settings.take::<String>("suggestion_trial_dir")?;
    settings.checked_options(options.validate())?;
    settings.finish()?;
    Pbt::new(search_space(spec)?, direction, options, seed)
}

/// hyperopt's `n_startup_jobs`, which Katib's `tpe` keeps.
const HYPEROPT_STARTUP_TRIALS: usize = 20;
/// hyperopt's default `gamma`.
const HYPEROPT_GAMMA: f64 = 0.25;

/// The pruner for `spec.earlyStopping`.
///
/// ```
/// use keelson_crd::katib::v1beta1::{EarlyStoppingSetting, EarlyStoppingSpec};
/// use keelson_hpo::{Pruner, katib};
///
/// let spec = EarlyStoppingSpec {
///     algorithm_name: Some("medianstop".into()),
///     algorithm_settings: Some(vec![EarlyStoppingSetting {
///         name: Some("start_step".into()),
///         value: Some("5".into()),
///     }]),
/// };
/// let Pruner::MedianStop(rule) = katib::pruner(&spec)? else { unreachable!() };
/// assert_eq!((rule.min_trials_required, rule.start_step), (3, 5));
/// # Ok::<(), keelson_hpo::Error>(())
/// ```
pub fn pruner(early_stopping: &EarlyStoppingSpec) -> Result<Pruner> {
    let name = early_stopping.algorithm_name.as_deref().unwrap_or_default();
    let pairs = early_stopping
        .algorithm_settings
        .iter()
        .flatten()
        .map(|s| (s.name.as_deref(), s.value.as_deref()));
    let mut settings = Settings::new("spec.earlyStopping.algorithmSettings", pairs)?;
    let pruner = match name {
        "medianstop" => {
            let defaults = MedianStop::default();
            Pruner::MedianStop(MedianStop {
                min_trials_required: settings
                    .take("min_trials_required")?
                    .unwrap_or(defaults.min_trials_required),
                start_step: settings.take("start_step")?.unwrap_or(defaults.start_step),
                reference: Reference::Mean,
            })
        }
        other => {
            return Err(Error::experiment(
                "spec.earlyStopping.algorithmName",
                format!("unknown early stopping algorithm {other:?} (known: medianstop)"),
            ));
        }
    };
    settings.checked_options(pruner.validate())?;
    settings.finish()?;
    Ok(pruner)
}

/// Katib's `algorithmSettings`: names to string values, each taken once by
/// the algorithm that knows it; whatever is left over is unknown.
struct Settings {
    path: &'static str,
    values: BTreeMap<String, String>,
}

impl Settings {
    fn new<'a>(
        path: &'static str,
        pairs: impl Iterator<Item = (Option<&'a str>, Option<&'a str>)>,
    ) -> Result<Settings> {
        let mut values = BTreeMap::new();
        for (i, (name, value)) in pairs.enumerate() {
            let Some(name) = name.filter(|n| !n.is_empty()) else {
                return Err(Error::experiment(
                    format!("{path}[{i}].name"),
                    "a setting needs a name",
                ));
            };
            let value = value.unwrap_or_default().to_owned();
            if values.insert(name.to_owned(), value).is_some() {
                return Err(Error::experiment(
                    format!("{path}[{name}]"),
                    "the setting is given twice",
                ));
            }
        }
        Ok(Settings { path, values })
    }

    /// The setting's value parsed as `T`, if it is there.
    fn take<T: std::str::FromStr>(&mut self, name: &str) -> Result<Option<T>> {
        let Some(text) = self.values.remove(name) else {
            return Ok(None);
        };
        text.trim().parse().map(Some).map_err(|_| {
            Error::experiment(
                format!("{}[{name}]", self.path),
                format!("cannot parse {text:?} as {}", std::any::type_name::<T>()),
            )
        })
    }

    /// An option struct's own validation error, named as the setting.
    fn checked_options(&self, checked: Result<()>) -> Result<()> {
        checked.map_err(|e| match e {
            Error::InvalidSetting { name, reason } => {
                let setting = name.rsplit('.').next().unwrap_or(&name).to_owned();
                Error::experiment(format!("{}[{setting}]", self.path), reason)
            }
            other => other,
        })
    }

    /// An error naming the first setting no one took.
    fn finish(self) -> Result<()> {
        match self.values.into_keys().next() {
            None => Ok(()),
            Some(name) => Err(Error::experiment(
                format!("{}[{name}]", self.path),
                "unknown setting for this algorithm",
            )),
        }
    }
}

/// The trial's name and namespace, which `trialParameters` may reference
/// as `${trialSpec.Name}` and `${trialSpec.Namespace}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrialMeta {
    /// The trial's name.
    pub name: String,
    /// The trial's namespace (the experiment's).
    pub namespace: String,
}

impl TrialMeta {
    /// A trial's name and namespace.
    ///
    /// ```
    /// let meta = keelson_hpo::katib::TrialMeta::new("tune-x7k2", "team-a");
    /// assert_eq!(meta.namespace, "team-a");
    /// ```
    pub fn new(name: impl Into<String>, namespace: impl Into<String>) -> Self {
        TrialMeta {
            name: name.into(),
            namespace: namespace.into(),
        }
    }
}

/// The run spec of one trial: the experiment's `trialTemplate.trialSpec`
/// with every `${trialParameters.NAME}` replaced, as Katib's experiment
/// controller does.
///
/// Each entry of `trialParameters` names a placeholder and a `reference`:
/// a parameter of the search space (replaced by its value in `params`,
/// written as Katib writes assignments), or trial metadata —
/// `${trialSpec.Name}`, `${trialSpec.Namespace}`, `${trialSpec.Kind}`,
/// `${trialSpec.APIVersion}`, `${trialSpec.Labels[KEY]}`,
/// `${trialSpec.Annotations[KEY]}` (the last four read from the template
/// itself). Replacement happens inside strings only, so a value can never
/// change the document's structure.
///
/// Errors name the field: no `trialSpec` (a `configMap` source must be
/// fetched by the caller and passed to [`render_template`]), a reference
/// to nothing, or a placeholder the template uses but `trialParameters`
/// does not define. A trial parameter the template never uses is not an
/// error: Katib's own Tekton example has one.
pub fn render_trial_spec(
    experiment: &Experiment,
    meta: &TrialMeta,
    params: &Params,
) -> Result<Json> {
    let template = experiment
        .spec
        .as_ref()
        .and_then(|s| s.trial_template.as_ref())
        .ok_or_else(|| Error::experiment("spec.trialTemplate", "no trial template"))?;
    let trial_spec = template.trial_spec.as_ref().ok_or_else(|| {
        let reason = if template.config_map.is_some() {
            "the template is in a ConfigMap: fetch it and call render_template"
        } else {
            "neither trialSpec nor configMap is set"
        };
        Error::experiment("spec.trialTemplate.trialSpec", reason)
    })?;
    let trial_spec = Json::Object(trial_spec.clone().into_iter().collect());
    render_template(&trial_spec, template, meta, params)
}

/// [`render_trial_spec`] over a template given separately, e.g. read from
/// the ConfigMap that `trialTemplate.configMap` points to; the
/// `trialParameters` come from `template`.
///
/// ```
/// use keelson_crd::katib::v1beta1::{TrialParameterSpec, TrialTemplate};
/// use keelson_hpo::katib::{TrialMeta, render_template};
/// use keelson_hpo::{Params, Value};
///
/// let template = TrialTemplate {
///     trial_parameters: Some(vec![TrialParameterSpec {
///         name: Some("batch".into()),
///         reference: Some("batch_size".into()),
///         ..Default::default()
///     }]),
///     ..Default::default()
/// };
/// let job = serde_json::json!({"kind": "Job", "args": ["--batch=${trialParameters.batch}"]});
/// let mut params = Params::new();
/// params.insert("batch_size", Value::Int(64));
/// let out = render_template(&job, &template, &TrialMeta::new("t1", "ns"), &params)?;
/// assert_eq!(out["args"][0], "--batch=64");
/// # Ok::<(), keelson_hpo::Error>(())
/// ```
pub fn render_template(
    trial_spec: &Json,
    template: &TrialTemplate,
    meta: &TrialMeta,
    params: &Params,
) -> Result<Json> {
    let mut values: BTreeMap<&str, String> = BTreeMap::new();
    for (i, p) in template.trial_parameters.iter().flatten().enumerate() {
        let field = format!("spec.trialTemplate.trialParameters[{i}]");
        let name = p
            .name
            .as_deref()
            .filter(|n| !n.is_empty())
            .ok_or_else(|| Error::experiment(format!("{field}.name"), "a name is required"))?;
        let reference = p
            .reference
            .as_deref()
            .filter(|r| !r.is_empty())
            .ok_or_else(|| {
                Error::experiment(format!("{field}.reference"), "a reference is required")
            })?;
        let value = match reference_value(reference, trial_spec, meta, params) {
            Some(v) => v,
            None => {
                return Err(Error::experiment(
                    format!("{field}.reference"),
                    format!("{reference:?} is neither a parameter of the trial nor trial metadata"),
                ));
            }
        };
        if values.insert(name, value).is_some() {
            return Err(Error::experiment(
                format!("{field}.name"),
                format!("{name:?} is defined twice"),
            ));
        }
    }
    let rendered = substitute(trial_spec, &values)?;
    Ok(rendered)
}

/// The value a `trialParameters[].reference` stands for, if any.
fn reference_value(
    reference: &str,
    trial_spec: &Json,
    meta: &TrialMeta,
    params: &Params,
) -> Option<String> {
    if let Some(value) = params.get(reference) {
        return Some(value.to_string());
    }
    let metadata = |field: &str, key: &str| {
        trial_spec
            .get("metadata")
            .and_then(|m| m.get(field))
            .and_then(|m| m.get(key))
            .and_then(Json::as_str)
            .map(str::to_owned)
    };
    let inner = reference.strip_prefix("${trialSpec.")?.strip_suffix('}')?;
    match inner {
        "Name" => Some(meta.name.clone()),
        "Namespace" => Some(meta.namespace.clone()),
        "Kind" => trial_spec
            .get("kind")
            .and_then(Json::as_str)
            .map(str::to_owned),
        "APIVersion" => trial_spec
            .get("apiVersion")
            .and_then(Json::as_str)
            .map(str::to_owned),
        _ => {
            if let Some(key) = inner
                .strip_prefix("Labels[")
                .and_then(|k| k.strip_suffix(']'))
            {
                metadata("labels", key)
            } else if let Some(key) = inner
                .strip_prefix("Annotations[")
                .and_then(|k| k.strip_suffix(']'))
            {
                metadata("annotations", key)
            } else {
                None
            }
        }
    }
}

const PLACEHOLDER: &str = "${trialParameters.";

/// The JSON value with placeholders replaced inside every string, keys
/// included.
fn substitute(value: &Json, values: &BTreeMap<&str, String>) -> Result<Json> {
    Ok(match value {
        Json::String(s) => Json::String(substitute_str(s, values)?),
        Json::Array(items) => Json::Array(
            items
                .iter()
                .map(|v| substitute(v, values))
                .collect::<Result<_>>()?,
        ),
        Json::Object(map) => {
            let mut out = serde_json::Map::with_capacity(map.len());
            for (k, v) in map {
                out.insert(substitute_str(k, values)?, substitute(v, values)?);
            }
            Json::Object(out)
        }
        other => other.clone(),
    })
}

fn substitute_str(text: &str, values: &BTreeMap<&str, String>) -> Result<String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(PLACEHOLDER) {
        out.push_str(&rest[..start]);
        let after = &rest[start + PLACEHOLDER.len()..];
        let Some(end) = after.find('}') else {
            return Err(Error::experiment(
                "spec.trialTemplate.trialSpec",
                format!("unclosed placeholder in {text:?}"),
            ));
        };
        let name = &after[..end];
        let Some(value) = values.get(name) else {
            return Err(Error::experiment(
                "spec.trialTemplate.trialSpec",
                format!("${{trialParameters.{name}}} is not defined in trialParameters"),
            ));
        };
        out.push_str(value);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}
