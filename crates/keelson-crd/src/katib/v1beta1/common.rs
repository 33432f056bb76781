//! Types shared by Experiment, Trial and Suggestion (Katib's `common/v1beta1`).

use k8s_openapi::api::core::v1::{Container, HTTPGetAction};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::conditions::ConditionView;

/// Which suggestion algorithm (hyperparameter search or NAS) produces the trials,
/// and its settings.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AlgorithmSpec {
    /// Algorithm name as Katib's suggestion services know it: `random`, `tpe`,
    /// `grid`, `bayesianoptimization`, `enas`, `pbt`, ...
    #[serde(skip_serializing_if = "Option::is_none")]
    pub algorithm_name: Option<String>,
    /// Algorithm-specific settings as name/value pairs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub algorithm_settings: Option<Vec<AlgorithmSetting>>,
}

/// One setting of a suggestion algorithm; the value is always a string.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AlgorithmSetting {
    /// Setting name, e.g. `random_state`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Setting value, e.g. `"10"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// Which early-stopping algorithm watches running trials, and its settings.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EarlyStoppingSpec {
    /// Early-stopping algorithm name, e.g. `medianstop`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub algorithm_name: Option<String>,
    /// Algorithm-specific settings as name/value pairs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub algorithm_settings: Option<Vec<EarlyStoppingSetting>>,
}

/// One setting of an early-stopping algorithm; the value is always a string.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EarlyStoppingSetting {
    /// Setting name, e.g. `min_trials_required`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Setting value, e.g. `"3"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// A rule under which a running trial is stopped early: metric `name` compared
/// with `value`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EarlyStoppingRule {
    /// The metric the rule looks at.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The threshold, as a string.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// How the metric is compared with the threshold.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comparison: Option<ComparisonType>,
    /// How many intermediate values must be reported before the rule applies; when
    /// unset it applies from the first one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_step: Option<i64>,
}

crate::string_enum::string_enum! {
    /// How an early-stopping rule compares a metric with its threshold.
    pub enum ComparisonType {
        /// The metric equals the threshold.
        Equal = "equal",
        /// The metric is below the threshold.
        Less = "less",
        /// The metric is above the threshold.
        Greater = "greater",
    }
}

/// What an experiment optimizes: the metric, the direction and an optional goal.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ObjectiveSpec {
    /// Minimize or maximize the objective metric.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<ObjectiveType>,
    /// The value at which the experiment succeeds. Without a goal the experiment
    /// runs until `maxTrialCount` trials have succeeded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub goal: Option<f64>,
    /// The metric that is optimized.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub objective_metric_name: Option<String>,
    /// Further metrics collected from each trial but not optimized.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub additional_metric_names: Option<Vec<String>>,
    /// How a single value is taken from each metric's reported series; Katib's
    /// defaulting webhook fills in what is missing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metric_strategies: Option<Vec<MetricStrategy>>,
}

crate::string_enum::string_enum! {
    /// The direction of optimization.
    pub enum ObjectiveType {
        /// Smaller values are better.
        Minimize = "minimize",
        /// Larger values are better.
        Maximize = "maximize",
    }
}

/// The value a trial gives one parameter.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ParameterAssignment {
    /// Parameter name, as in the experiment's search space.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The assigned value, as a string.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

crate::string_enum::string_enum! {
    /// How one value is taken from the series a trial reports for a metric.
    pub enum MetricStrategyType {
        /// The smallest reported value.
        Min = "min",
        /// The largest reported value.
        Max = "max",
        /// The last reported value.
        Latest = "latest",
    }
}

/// The strategy used for one metric.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MetricStrategy {
    /// Metric name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The strategy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<MetricStrategyType>,
}

/// What was observed of one metric during a trial. The values are strings; Katib
/// writes `unavailable` when a metric was never reported.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Metric {
    /// Metric name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Smallest reported value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min: Option<String>,
    /// Largest reported value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<String>,
    /// Last reported value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latest: Option<String>,
}

/// The metrics observed during a trial.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Observation {
    /// One entry per metric.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metrics: Option<Vec<Metric>>,
}

impl Observation {
    /// The observation of the metric called `name`, if any.
    ///
    /// ```
    /// use keelson_crd::katib::v1beta1::{Metric, Observation};
    ///
    /// let obs = Observation {
    ///     metrics: Some(vec![Metric {
    ///         name: Some("loss".into()),
    ///         latest: Some("0.25".into()),
    ///         ..Metric::default()
    ///     }]),
    /// };
    /// assert_eq!(obs.metric("loss").and_then(|m| m.latest.as_deref()), Some("0.25"));
    /// assert!(obs.metric("accuracy").is_none());
    /// ```
    pub fn metric(&self, name: &str) -> Option<&Metric> {
        self.metrics
            .iter()
            .flatten()
            .find(|m| m.name.as_deref() == Some(name))
    }
}

/// How Katib collects the metrics of a trial: where they come from and which
/// collector reads them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MetricsCollectorSpec {
    /// Where the training code exposes its metrics.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceSpec>,
    /// Which collector reads them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub collector: Option<CollectorSpec>,
}

/// Where the training code exposes its metrics.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SourceSpec {
    /// An HTTP endpoint, e.g. in Prometheus format.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_get: Option<HTTPGetAction>,
    /// A file or directory the training code writes, e.g. TensorFlow event files.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_system_path: Option<FileSystemPath>,
    /// Regular expressions for metrics printed in a format other than Katib's
    /// default `name=value`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter: Option<FilterSpec>,
}

/// Regular expressions that pick metrics out of the training output.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FilterSpec {
    /// Each expression has two groups: the metric name and its value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metrics_format: Option<Vec<String>>,
}

crate::string_enum::string_enum! {
    /// Whether a metrics path names a file or a directory.
    pub enum FileSystemKind {
        /// A directory (e.g. of TensorFlow event files).
        Directory = "Directory",
        /// A single file.
        File = "File",
        /// Neither; Katib's marker for an invalid path.
        Invalid = "Invalid",
    }
}

crate::string_enum::string_enum! {
    /// The format of a metrics file.
    pub enum FileFormat {
        /// Plain text lines matched by the filter expressions.
        Text = "TEXT",
        /// One JSON object per line.
        Json = "JSON",
    }
}

/// A file or directory holding metrics.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FileSystemPath {
    /// The path inside the training container.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// File or directory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<FileSystemKind>,
    /// Text or JSON (for a file).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<FileFormat>,
}

crate::string_enum::string_enum! {
    /// The kind of metrics collector Katib injects next to the training container.
    pub enum CollectorKind {
        /// Reads the training container's standard output (the default).
        StdOut = "StdOut",
        /// Reads a file the training code writes.
        File = "File",
        /// Reads TensorFlow event files.
        TensorFlowEvent = "TensorFlowEvent",
        /// Scrapes a Prometheus endpoint.
        PrometheusMetric = "PrometheusMetric",
        /// A user-supplied collector container.
        Custom = "Custom",
        /// No collector: the training code reports metrics itself.
        None = "None",
    }
}

/// Which metrics collector runs.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CollectorSpec {
    /// The collector kind.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<CollectorKind>,
    /// The container to run when `kind` is `Custom`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom_collector: Option<Container>,
}

/// Builds a [`ConditionView`] from the fields every Katib condition has.
pub(crate) fn view<'a>(
    type_: &'a str,
    status: &'a str,
    reason: Option<&'a String>,
    message: Option<&'a String>,
    last_update_time: Option<&Time>,
    last_transition_time: Option<&Time>,
) -> ConditionView<'a> {
    ConditionView {
        type_,
        status,
        reason: reason.map(String::as_str).filter(|s| !s.is_empty()),
        message: message.map(String::as_str).filter(|s| !s.is_empty()),
        last_transition_time: last_transition_time.map(|t| t.0.to_string()),
        last_update_time: last_update_time.map(|t| t.0.to_string()),
    }
}
