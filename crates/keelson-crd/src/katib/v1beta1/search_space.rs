//! An experiment's search space, objective and trial budget as plain Rust values,
//! checked the way Katib's admission webhook checks them.

use std::collections::BTreeMap;

use super::common::{MetricStrategyType, ObjectiveType};
use super::experiment::{Distribution, Experiment, ExperimentSpec, FeasibleSpace, ParameterType};
use crate::error::{Error, Result};

/// The parameters an experiment searches, in the order the spec lists them.
#[derive(Clone, Debug, PartialEq)]
pub struct SearchSpace {
    /// One entry per `spec.parameters[]`.
    pub parameters: Vec<Parameter>,
}

impl SearchSpace {
    /// The parameter called `name`, if any.
    ///
    /// ```
    /// use keelson_crd::katib::v1beta1::{Parameter, ParameterKind, SearchSpace};
    ///
    /// let space = SearchSpace {
    ///     parameters: vec![Parameter {
    ///         name: "optimizer".into(),
    ///         kind: ParameterKind::Categorical { values: vec!["sgd".into(), "adam".into()] },
    ///     }],
    /// };
    /// assert!(space.get("optimizer").is_some());
    /// assert!(space.get("lr").is_none());
    /// ```
    pub fn get(&self, name: &str) -> Option<&Parameter> {
        self.parameters.iter().find(|p| p.name == name)
    }
}

/// One parameter of a search space.
#[derive(Clone, Debug, PartialEq)]
pub struct Parameter {
    /// The parameter's name.
    pub name: String,
    /// Its type and feasible values.
    pub kind: ParameterKind,
}

/// The type of a parameter and the values it may take, parsed from Katib's strings.
#[derive(Clone, Debug, PartialEq)]
pub enum ParameterKind {
    /// A real number in `[min, max]`.
    Double {
        /// Lower bound.
        min: f64,
        /// Upper bound.
        max: f64,
        /// Grid step or quantization, when given.
        step: Option<f64>,
        /// How values are sampled; `Uniform` when the spec does not say.
        distribution: Distribution,
    },
    /// An integer in `[min, max]`.
    Int {
        /// Lower bound.
        min: i64,
        /// Upper bound.
        max: i64,
        /// Grid step or quantization, when given.
        step: Option<i64>,
        /// How values are sampled; `Uniform` when the spec does not say.
        distribution: Distribution,
    },
    /// One of a list of numbers.
    Discrete {
        /// The allowed values, in the spec's order.
        values: Vec<f64>,
    },
    /// One of a list of strings.
    Categorical {
        /// The allowed values, in the spec's order.
        values: Vec<String>,
    },
}

/// The direction of optimization, without Katib's open set of spellings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ObjectiveKind {
    /// Smaller values are better.
    Minimize,
    /// Larger values are better.
    Maximize,
}

/// An experiment's objective as plain values.
#[derive(Clone, Debug, PartialEq)]
pub struct Objective {
    /// Minimize or maximize.
    pub kind: ObjectiveKind,
    /// The metric being optimized.
    pub metric: String,
    /// The value at which the experiment succeeds, if any.
    pub goal: Option<f64>,
    /// Further metrics collected from each trial.
    pub additional_metrics: Vec<String>,
    /// How one value is taken from each metric's series, for the objective metric
    /// and every additional metric, with Katib's defaults filled in: `min` when
    /// minimizing and `max` when maximizing, unless the spec says otherwise.
    pub metric_strategies: BTreeMap<String, MetricStrategyType>,
}

impl Objective {
    /// `true` when `candidate` is strictly better than `incumbent` in this
    /// objective's direction.
    ///
    /// ```
    /// use keelson_crd::katib::v1beta1::{Objective, ObjectiveKind};
    ///
    /// let objective = Objective {
    ///     kind: ObjectiveKind::Minimize,
    ///     metric: "loss".into(),
    ///     goal: Some(0.01),
    ///     additional_metrics: vec![],
    ///     metric_strategies: Default::default(),
    /// };
    /// assert!(objective.is_better(0.2, 0.3));
    /// assert!(!objective.is_better(0.3, 0.3));
    /// ```
    pub fn is_better(&self, candidate: f64, incumbent: f64) -> bool {
        match self.kind {
            ObjectiveKind::Minimize => candidate < incumbent,
            ObjectiveKind::Maximize => candidate > incumbent,
        }
    }

    /// `true` when `value` reaches the goal (at or below it when minimizing, at or
    /// above it when maximizing); always `false` without a goal.
    ///
    /// ```
    /// use keelson_crd::katib::v1beta1::{Objective, ObjectiveKind};
    ///
    /// let objective = Objective {
    ///     kind: ObjectiveKind::Maximize,
    ///     metric: "accuracy".into(),
    ///     goal: Some(0.99),
    ///     additional_metrics: vec![],
    ///     metric_strategies: Default::default(),
    /// };
    /// assert!(objective.goal_reached(0.99));
    /// assert!(!objective.goal_reached(0.98));
    /// ```
    pub fn goal_reached(&self, value: f64) -> bool {
        match (self.goal, self.kind) {
            (None, _) => false,
            (Some(goal), ObjectiveKind::Minimize) => value <= goal,
            (Some(goal), ObjectiveKind::Maximize) => value >= goal,
        }
    }
}

/// Katib's default for `spec.parallelTrialCount`.
pub const DEFAULT_PARALLEL_TRIAL_COUNT: u32 = 3;

/// An experiment's trial budget, with Katib's defaults applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TrialCounts {
    /// How many trials may run at once: `spec.parallelTrialCount`, or
    /// [`DEFAULT_PARALLEL_TRIAL_COUNT`] when unset.
    pub parallel: u32,
    /// How many trials run in total: `spec.maxTrialCount`. `None` means no limit:
    /// the experiment runs until its goal is reached.
    pub max: Option<u32>,
    /// How many trials may fail before the experiment fails:
    /// `spec.maxFailedTrialCount`. `None` means failures never fail the
    /// experiment.
    pub max_failed: Option<u32>,
}

impl Experiment {
    /// The search space of `spec.parameters` with every number parsed.
    ///
    /// Fails with [`Error::Invalid`] naming the offending field (e.g.
    /// `spec.parameters[2].feasibleSpace.min`) when a parameter has no name or a
    /// duplicate one, no or an unknown type, no feasible space, a bound or step that
    /// is not a number of its type, `min` greater than `max`, an empty list, or fields
    /// its type does not use. A NAS experiment, whose search space is in
    /// `spec.nasConfig`, has no `spec.parameters` and gets an error too.
    ///
    /// ```
    /// use keelson_crd::katib::v1beta1::{Distribution, Experiment, ParameterKind};
    ///
    /// let exp: Experiment = serde_yaml_ng::from_str(r#"
    /// apiVersion: kubeflow.org/v1beta1
    /// kind: Experiment
    /// metadata: { name: tune }
    /// spec:
    ///   parameters:
    ///   - { name: lr, parameterType: double, feasibleSpace: { min: "0.001", max: "0.1", distribution: logUniform } }
    ///   - { name: layers, parameterType: int, feasibleSpace: { min: "2", max: "8", step: "2" } }
    ///   - { name: optimizer, parameterType: categorical, feasibleSpace: { list: [sgd, adam] } }
    /// "#)?;
    /// let space = exp.search_space()?;
    /// assert_eq!(
    ///     space.get("layers").map(|p| &p.kind),
    ///     Some(&ParameterKind::Int { min: 2, max: 8, step: Some(2), distribution: Distribution::Uniform })
    /// );
    /// assert!(matches!(&space.parameters[0].kind,
    ///     ParameterKind::Double { distribution: Distribution::LogUniform, .. }));
    ///
    /// let bad: Experiment = serde_yaml_ng::from_str(r#"
    /// apiVersion: kubeflow.org/v1beta1
    /// kind: Experiment
    /// metadata: { name: bad }
    /// spec:
    ///   parameters:
    ///   - { name: lr, parameterType: double, feasibleSpace: { min: "fast", max: "0.1" } }
    /// "#)?;
    /// let err = bad.search_space().unwrap_err();
    /// assert_eq!(err.location().and_then(|l| l.path.as_deref()), Some("spec.parameters[0].feasibleSpace.min"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn search_space(&self) -> Result<SearchSpace> {
        let spec = self.spec_or_err()?;
        let specs = match spec.parameters.as_deref() {
            Some(list) if !list.is_empty() => list,
            _ if spec.nas_config.is_some() => {
                return Err(Error::invalid(
                    "spec.parameters",
                    "no parameters: this is a NAS experiment, its search space is in spec.nasConfig",
                ));
            }
            _ => {
                return Err(Error::invalid(
                    "spec.parameters",
                    "at least one parameter must be specified",
                ));
            }
        };
        let mut parameters: Vec<Parameter> = Vec::with_capacity(specs.len());
        for (i, p) in specs.iter().enumerate() {
            let base = format!("spec.parameters[{i}]");
            let name = match p.name.as_deref() {
                Some(n) if !n.is_empty() => n.to_owned(),
                _ => {
                    return Err(Error::invalid(
                        format!("{base}.name"),
                        "name must be specified",
                    ));
                }
            };
            if let Some(first) = parameters.iter().position(|q| q.name == name) {
                return Err(Error::invalid(
                    format!("{base}.name"),
                    format!("duplicate parameter name {name:?} (also spec.parameters[{first}])"),
                ));
            }
            let kind = parse_kind(&base, p.parameter_type.as_ref(), p.feasible_space.as_ref())?;
            parameters.push(Parameter { name, kind });
        }
        Ok(SearchSpace { parameters })
    }

    /// The objective of `spec.objective` as plain values, with Katib's default
    /// metric strategies filled in.
    ///
    /// Fails with [`Error::Invalid`] naming the field when the objective, its type
    /// (which must be `minimize` or `maximize`) or its metric name is missing, when
    /// the goal is not finite, when an additional metric repeats the objective
    /// metric, or when a metric strategy has no name or an unknown value.
    ///
    /// ```
    /// use keelson_crd::katib::v1beta1::{Experiment, MetricStrategyType, ObjectiveKind};
    ///
    /// let exp: Experiment = serde_yaml_ng::from_str(r#"
    /// apiVersion: kubeflow.org/v1beta1
    /// kind: Experiment
    /// metadata: { name: tune }
    /// spec:
    ///   objective:
    ///     type: maximize
    ///     goal: 0.99
    ///     objectiveMetricName: accuracy
    ///     additionalMetricNames: [loss]
    ///     metricStrategies: [{ name: loss, value: latest }]
    /// "#)?;
    /// let objective = exp.objective()?;
    /// assert_eq!(objective.kind, ObjectiveKind::Maximize);
    /// assert_eq!(objective.metric, "accuracy");
    /// assert_eq!(objective.goal, Some(0.99));
    /// assert_eq!(objective.additional_metrics, vec!["loss".to_owned()]);
    /// assert_eq!(objective.metric_strategies["accuracy"], MetricStrategyType::Max);
    /// assert_eq!(objective.metric_strategies["loss"], MetricStrategyType::Latest);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn objective(&self) -> Result<Objective> {
        let spec = self.spec_or_err()?;
        let Some(obj) = spec.objective.as_ref() else {
            return Err(Error::invalid(
                "spec.objective",
                "objective must be specified",
            ));
        };
        let kind = match obj.type_.as_ref() {
            Some(ObjectiveType::Minimize) => ObjectiveKind::Minimize,
            Some(ObjectiveType::Maximize) => ObjectiveKind::Maximize,
            Some(ObjectiveType::Other(other)) => {
                return Err(Error::invalid(
                    "spec.objective.type",
                    format!("type {other:?} is neither \"minimize\" nor \"maximize\""),
                ));
            }
            None => {
                return Err(Error::invalid(
                    "spec.objective.type",
                    "type must be \"minimize\" or \"maximize\"",
                ));
            }
        };
        let metric = match obj.objective_metric_name.as_deref() {
            Some(m) if !m.is_empty() => m.to_owned(),
            _ => {
                return Err(Error::invalid(
                    "spec.objective.objectiveMetricName",
                    "objectiveMetricName must be specified",
                ));
            }
        };
        if let Some(goal) = obj.goal
            && !goal.is_finite()
        {
            return Err(Error::invalid(
                "spec.objective.goal",
                format!("goal {goal} is not a finite number"),
            ));
        }
        let additional_metrics: Vec<String> =
            obj.additional_metric_names.clone().unwrap_or_default();
        if let Some(j) = additional_metrics.iter().position(|m| *m == metric) {
            return Err(Error::invalid(
                format!("spec.objective.additionalMetricNames[{j}]"),
                format!("{metric:?} is already the objective metric"),
            ));
        }
        let mut metric_strategies = BTreeMap::new();
        for (j, s) in obj.metric_strategies.iter().flatten().enumerate() {
            let base = format!("spec.objective.metricStrategies[{j}]");
            let name = match s.name.as_deref() {
                Some(n) if !n.is_empty() => n.to_owned(),
                _ => {
                    return Err(Error::invalid(
                        format!("{base}.name"),
                        "name must be specified",
                    ));
                }
            };
            let value = match &s.value {
                Some(MetricStrategyType::Other(other)) => {
                    return Err(Error::invalid(
                        format!("{base}.value"),
                        format!("strategy {other:?} is not one of \"min\", \"max\", \"latest\""),
                    ));
                }
                Some(v) => v.clone(),
                None => {
                    return Err(Error::invalid(
                        format!("{base}.value"),
                        "value must be \"min\", \"max\" or \"latest\"",
                    ));
                }
            };
            metric_strategies.insert(name, value);
        }
        let default = match kind {
            ObjectiveKind::Minimize => MetricStrategyType::Min,
            ObjectiveKind::Maximize => MetricStrategyType::Max,
        };
        for m in std::iter::once(&metric).chain(&additional_metrics) {
            metric_strategies
                .entry(m.clone())
                .or_insert_with(|| default.clone());
        }
        Ok(Objective {
            kind,
            metric,
            goal: obj.goal,
            additional_metrics,
            metric_strategies,
        })
    }

    /// The trial budget: parallel, total and failed trial counts, with Katib's
    /// default of [`DEFAULT_PARALLEL_TRIAL_COUNT`] parallel trials.
    ///
    /// Fails with [`Error::Invalid`] naming the field, as Katib's webhook does, when
    /// a count is not positive (`maxFailedTrialCount` may be 0) or when the
    /// (possibly defaulted) `parallelTrialCount` exceeds `maxTrialCount`. A
    /// `maxFailedTrialCount` above `maxTrialCount` is accepted, as Katib's own
    /// `simple-pbt` example has one: it can simply never be reached.
    ///
    /// ```
    /// use keelson_crd::katib::v1beta1::{Experiment, TrialCounts};
    ///
    /// let exp: Experiment = serde_yaml_ng::from_str(r#"
    /// apiVersion: kubeflow.org/v1beta1
    /// kind: Experiment
    /// metadata: { name: tune }
    /// spec: { maxTrialCount: 12, maxFailedTrialCount: 3 }
    /// "#)?;
    /// assert_eq!(exp.trial_counts()?, TrialCounts { parallel: 3, max: Some(12), max_failed: Some(3) });
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn trial_counts(&self) -> Result<TrialCounts> {
        let spec = self.spec_or_err()?;
        let parallel = match spec.parallel_trial_count {
            None => DEFAULT_PARALLEL_TRIAL_COUNT,
            Some(n) => positive("spec.parallelTrialCount", n)?,
        };
        let max = spec
            .max_trial_count
            .map(|n| positive("spec.maxTrialCount", n))
            .transpose()?;
        let max_failed = spec
            .max_failed_trial_count
            .map(|n| {
                u32::try_from(n).map_err(|_| {
                    Error::invalid("spec.maxFailedTrialCount", format!("{n} is negative"))
                })
            })
            .transpose()?;
        if let Some(max) = max
            && parallel > max
        {
            let defaulted = if spec.parallel_trial_count.is_none() {
                " (Katib's default)"
            } else {
                ""
            };
            return Err(Error::invalid(
                "spec.parallelTrialCount",
                format!("{parallel}{defaulted} exceeds spec.maxTrialCount ({max})"),
            ));
        }
        Ok(TrialCounts {
            parallel,
            max,
            max_failed,
        })
    }

    fn spec_or_err(&self) -> Result<&ExperimentSpec> {
        self.spec
            .as_ref()
            .ok_or_else(|| Error::invalid("spec", "the Experiment has no spec"))
    }
}

fn positive(path: &str, n: i32) -> Result<u32> {
    match u32::try_from(n) {
        Ok(v) if v > 0 => Ok(v),
        _ => Err(Error::invalid(path, format!("{n} must be greater than 0"))),
    }
}

/// Parses one parameter's type and feasible space; `base` is `spec.parameters[i]`.
fn parse_kind(
    base: &str,
    type_: Option<&ParameterType>,
    space: Option<&FeasibleSpace>,
) -> Result<ParameterKind> {
    let type_ = match type_ {
        Some(t @ (ParameterType::Double | ParameterType::Int)) => t,
        Some(t @ (ParameterType::Discrete | ParameterType::Categorical)) => t,
        Some(other) => {
            return Err(Error::invalid(
                format!("{base}.parameterType"),
                format!(
                    "parameterType {:?} is not one of \"double\", \"int\", \"discrete\", \"categorical\"",
                    other.as_str()
                ),
            ));
        }
        None => {
            return Err(Error::invalid(
                format!("{base}.parameterType"),
                "parameterType must be specified",
            ));
        }
    };
    let Some(space) = space else {
        return Err(Error::invalid(
            format!("{base}.feasibleSpace"),
            "feasibleSpace must be specified",
        ));
    };
    let fs = format!("{base}.feasibleSpace");
    match type_ {
        ParameterType::Double | ParameterType::Int => {
            if space.list.is_some() {
                return Err(Error::invalid(
                    format!("{fs}.list"),
                    format!(
                        "list is not used by {} parameters; give min and max",
                        type_.as_str()
                    ),
                ));
            }
            let distribution = match &space.distribution {
                None => Distribution::Uniform,
                Some(Distribution::Other(other)) => {
                    return Err(Error::invalid(
                        format!("{fs}.distribution"),
                        format!(
                            "distribution {other:?} is not one of \"uniform\", \"logUniform\", \"normal\", \"logNormal\""
                        ),
                    ));
                }
                Some(d) => d.clone(),
            };
            let min_raw = required(&fs, "min", space.min.as_deref())?;
            let max_raw = required(&fs, "max", space.max.as_deref())?;
            if *type_ == ParameterType::Double {
                let min = parse_f64(&format!("{fs}.min"), min_raw)?;
                let max = parse_f64(&format!("{fs}.max"), max_raw)?;
                check_bounds(&fs, min, max, min_raw, max_raw)?;
                let step = match space.step.as_deref() {
                    None => None,
                    Some(s) => {
                        let step = parse_f64(&format!("{fs}.step"), s)?;
                        if step <= 0.0 {
                            return Err(Error::invalid(
                                format!("{fs}.step"),
                                format!("step {s:?} must be greater than 0"),
                            ));
                        }
                        Some(step)
                    }
                };
                check_log(&fs, &distribution, min <= 0.0, min_raw)?;
                Ok(ParameterKind::Double {
                    min,
                    max,
                    step,
                    distribution,
                })
            } else {
                let min = parse_i64(&format!("{fs}.min"), min_raw)?;
                let max = parse_i64(&format!("{fs}.max"), max_raw)?;
                check_bounds(&fs, min, max, min_raw, max_raw)?;
                let step = match space.step.as_deref() {
                    None => None,
                    Some(s) => {
                        let step = parse_i64(&format!("{fs}.step"), s)?;
                        if step <= 0 {
                            return Err(Error::invalid(
                                format!("{fs}.step"),
                                format!("step {s:?} must be greater than 0"),
                            ));
                        }
                        Some(step)
                    }
                };
                check_log(&fs, &distribution, min <= 0, min_raw)?;
                Ok(ParameterKind::Int {
                    min,
                    max,
                    step,
                    distribution,
                })
            }
        }
        _ => {
            for (field, value) in [
                ("min", &space.min),
                ("max", &space.max),
                ("step", &space.step),
            ] {
                if value.is_some() {
                    return Err(Error::invalid(
                        format!("{fs}.{field}"),
                        format!(
                            "{field} is not used by {} parameters; give list",
                            type_.as_str()
                        ),
                    ));
                }
            }
            let list = match space.list.as_deref() {
                Some(list) if !list.is_empty() => list,
                _ => {
                    return Err(Error::invalid(
                        format!("{fs}.list"),
                        format!("list of a {} parameter must not be empty", type_.as_str()),
                    ));
                }
            };
            if *type_ == ParameterType::Discrete {
                let values = list
                    .iter()
                    .enumerate()
                    .map(|(j, v)| parse_f64(&format!("{fs}.list[{j}]"), v))
                    .collect::<Result<Vec<_>>>()?;
                Ok(ParameterKind::Discrete { values })
            } else {
                Ok(ParameterKind::Categorical {
                    values: list.to_vec(),
                })
            }
        }
    }
}

fn required<'a>(fs: &str, field: &str, value: Option<&'a str>) -> Result<&'a str> {
    value.ok_or_else(|| {
        Error::invalid(
            format!("{fs}.{field}"),
            format!("{field} must be specified"),
        )
    })
}

fn parse_f64(path: &str, raw: &str) -> Result<f64> {
    match raw.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        _ => Err(Error::invalid(
            path,
            format!("{raw:?} is not a finite number"),
        )),
    }
}

fn parse_i64(path: &str, raw: &str) -> Result<i64> {
    raw.parse::<i64>()
        .map_err(|_| Error::invalid(path, format!("{raw:?} is not an integer")))
}

fn check_bounds<T: PartialOrd>(
    fs: &str,
    min: T,
    max: T,
    min_raw: &str,
    max_raw: &str,
) -> Result<()> {
    if min > max {
        return Err(Error::invalid(
            format!("{fs}.min"),
            format!("min {min_raw:?} is greater than max {max_raw:?}"),
        ));
    }
    Ok(())
}

fn check_log(
    fs: &str,
    distribution: &Distribution,
    min_not_positive: bool,
    min_raw: &str,
) -> Result<()> {
    if *distribution == Distribution::LogUniform && min_not_positive {
        return Err(Error::invalid(
            format!("{fs}.min"),
            format!("min {min_raw:?} must be greater than 0 for a logUniform distribution"),
        ));
    }
    Ok(())
}
