//! The Experiment kind: a search space, an objective, an algorithm and a template
//! from which Katib creates trials.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::{
    AlgorithmSpec, EarlyStoppingSpec, MetricsCollectorSpec, ObjectiveSpec, Observation,
    ParameterAssignment, view,
};
use crate::conditions::{ConditionView, HasConditions};

/// A Katib hyperparameter-tuning or neural-architecture-search experiment.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, JsonSchema)]
pub struct Experiment {
    /// Standard object metadata.
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// What to search and how.
    pub spec: Option<ExperimentSpec>,
    /// What the experiment controller observed.
    pub status: Option<ExperimentStatus>,
}

crate::resource::custom_resource!(
    Experiment,
    k8s_openapi::NamespaceResourceScope,
    crate::resource::KindInfo {
        group: "kubeflow.org",
        version: "v1beta1",
        kind: "Experiment",
        plural: "experiments",
        scope: crate::resource::Scope::Namespaced,
        short_names: &[],
        storage: true,
        status_subresource: true,
        scale: None,
    };
    required {}
    optional { spec => "spec", status => "status" }
);

/// The desired state of an experiment.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExperimentSpec {
    /// The hyperparameters to tune and their feasible values.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Vec<ParameterSpec>>,
    /// The metric to optimize and in which direction.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub objective: Option<ObjectiveSpec>,
    /// The suggestion algorithm.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub algorithm: Option<AlgorithmSpec>,
    /// The early-stopping algorithm, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub early_stopping: Option<EarlyStoppingSpec>,
    /// The template every trial's workload is created from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trial_template: Option<TrialTemplate>,
    /// How many trials may run at once; Katib defaults it to 3.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parallel_trial_count: Option<i32>,
    /// How many trials to run in total before the experiment succeeds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_trial_count: Option<i32>,
    /// How many trials may fail before the experiment fails.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_failed_trial_count: Option<i32>,
    /// How metrics are collected from the trials.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metrics_collector_spec: Option<MetricsCollectorSpec>,
    /// The search space of a neural-architecture-search experiment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nas_config: Option<NasConfig>,
    /// What happens to the suggestion service once the experiment is done, i.e.
    /// whether it can be resumed; Katib defaults it to `Never`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resume_policy: Option<ResumePolicy>,
}

/// The observed state of an experiment.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExperimentStatus {
    /// When the controller first saw the experiment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_time: Option<Time>,
    /// When the experiment finished.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completion_time: Option<Time>,
    /// When the controller last reconciled the experiment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_reconcile_time: Option<Time>,
    /// The experiment's conditions, oldest first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Vec<ExperimentCondition>>,
    /// The best trial so far.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_optimal_trial: Option<OptimalTrial>,
    /// Names of the running trials.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub running_trial_list: Option<Vec<String>>,
    /// Names of the pending trials.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pending_trial_list: Option<Vec<String>>,
    /// Names of the failed trials.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failed_trial_list: Option<Vec<String>>,
    /// Names of the succeeded trials.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub succeeded_trial_list: Option<Vec<String>>,
    /// Names of the killed trials.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub killed_trial_list: Option<Vec<String>>,
    /// Names of the trials stopped early.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub early_stopped_trial_list: Option<Vec<String>>,
    /// Names of the trials whose metrics could not be collected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metrics_unavailable_trial_list: Option<Vec<String>>,
    /// Number of trials the experiment owns.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trials: Option<i32>,
    /// Number of succeeded trials.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trials_succeeded: Option<i32>,
    /// Number of failed trials.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trials_failed: Option<i32>,
    /// Number of killed trials.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trials_killed: Option<i32>,
    /// Number of pending trials.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trials_pending: Option<i32>,
    /// Number of running trials.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trials_running: Option<i32>,
    /// Number of trials stopped early.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trials_early_stopped: Option<i32>,
    /// Number of trials whose metrics could not be collected (note Katib's
    /// spelling, without the `s` of the other counters).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trial_metrics_unavailable: Option<i32>,
}

/// The best trial so far: its parameters and what was observed.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OptimalTrial {
    /// The trial's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub best_trial_name: Option<String>,
    /// The parameter values of that trial.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameter_assignments: Option<Vec<ParameterAssignment>>,
    /// The metrics observed in that trial.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub observation: Option<Observation>,
}

/// One condition of an experiment.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExperimentCondition {
    /// The condition type.
    #[serde(rename = "type", default)]
    pub type_: ExperimentConditionType,
    /// `True`, `False` or `Unknown`.
    #[serde(default)]
    pub status: String,
    /// Machine-readable reason of the last transition.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Human-readable details of the last transition.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// When the condition was last updated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_update_time: Option<Time>,
    /// When the status last changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_transition_time: Option<Time>,
}

crate::string_enum::string_enum! {
    /// The condition types of an experiment.
    pub enum ExperimentConditionType {
        /// The experiment was accepted.
        Created = "Created",
        /// Trials are being created and run.
        Running = "Running",
        /// A finished experiment is being resumed.
        Restarting = "Restarting",
        /// The goal or the maximum trial count was reached.
        Succeeded = "Succeeded",
        /// Too many trials failed, or the experiment could not run.
        Failed = "Failed",
    }
}

crate::string_enum::string_enum! {
    /// Whether and how a finished experiment can be resumed.
    pub enum ResumePolicy {
        /// It cannot; the suggestion service is removed when the experiment ends
        /// (Katib's default).
        Never = "Never",
        /// The suggestion service keeps running so that the experiment can be
        /// resumed by raising its trial count.
        LongRunning = "LongRunning",
        /// The suggestion service's state is kept in a volume; the service is removed
        /// when the experiment ends and restored from the volume on resume.
        FromVolume = "FromVolume",
    }
}

/// One hyperparameter of the search space.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ParameterSpec {
    /// Parameter name, referred to by `trialParameters[].reference`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The kind of values the parameter takes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameter_type: Option<ParameterType>,
    /// The values the parameter may take.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub feasible_space: Option<FeasibleSpace>,
}

crate::string_enum::string_enum! {
    /// The kind of values a parameter takes.
    pub enum ParameterType {
        /// Katib's marker for a type it does not know.
        Unknown = "unknown",
        /// A real number between `min` and `max`.
        Double = "double",
        /// An integer between `min` and `max`.
        Int = "int",
        /// One of the numbers in `list`.
        Discrete = "discrete",
        /// One of the strings in `list`.
        Categorical = "categorical",
    }
}

/// The values a parameter may take. Numbers are written as strings.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FeasibleSpace {
    /// Upper bound (double and int parameters).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<String>,
    /// Lower bound (double and int parameters).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min: Option<String>,
    /// The allowed values (discrete and categorical parameters).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub list: Option<Vec<String>>,
    /// Grid step or quantization (double and int parameters).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    /// How values are sampled between the bounds; Katib defaults it to `uniform`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distribution: Option<Distribution>,
}

crate::string_enum::string_enum! {
    /// How a numeric parameter is sampled between its bounds.
    pub enum Distribution {
        /// Evenly between `min` and `max`.
        Uniform = "uniform",
        /// So that the logarithm is uniform between `log(min)` and `log(max)`.
        LogUniform = "logUniform",
        /// Normally, centred between the bounds.
        Normal = "normal",
        /// So that the logarithm is normally distributed.
        LogNormal = "logNormal",
    }
}

/// The template from which every trial's workload is created.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TrialTemplate {
    /// Keep the trial's workload after it finishes instead of deleting it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retain: Option<bool>,
    /// The workload itself: any Kubernetes object (Job, TFJob, PyTorchJob, TrainJob,
    /// Argo Workflow, Tekton PipelineRun, ...), with `${trialParameters.NAME}`
    /// placeholders. Kept verbatim.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-kubernetes-preserve-unknown-fields" = true))]
    pub trial_spec: Option<BTreeMap<String, serde_json::Value>>,
    /// A ConfigMap holding the workload, instead of `trialSpec`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config_map: Option<ConfigMapSource>,
    /// The placeholders of the template and the search-space parameter (or trial
    /// metadata) each one is replaced with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trial_parameters: Option<Vec<TrialParameterSpec>>,
    /// Labels of the pods into which the metrics collector is injected; without
    /// them, every pod of the trial.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub primary_pod_labels: Option<BTreeMap<String, String>>,
    /// The container that runs the training code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub primary_container_name: Option<String>,
    /// A GJSON path on the workload that is true once it succeeded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub success_condition: Option<String>,
    /// A GJSON path on the workload that is true once it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_condition: Option<String>,
}

/// Where in a ConfigMap a trial template is stored.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConfigMapSource {
    /// The ConfigMap's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config_map_name: Option<String>,
    /// The ConfigMap's namespace.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config_map_namespace: Option<String>,
    /// The key of the template in the ConfigMap.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template_path: Option<String>,
}

/// One placeholder of a trial template.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TrialParameterSpec {
    /// The placeholder name, used as `${trialParameters.NAME}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// What the placeholder is for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The search-space parameter it is replaced with, or trial metadata such as
    /// `${trialSpec.Name}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

/// The search space of a neural-architecture-search experiment.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NasConfig {
    /// The shape of the network.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub graph_config: Option<GraphConfig>,
    /// The operations a layer may use, each with its own parameters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operations: Option<Vec<Operation>>,
}

/// The shape of the network searched by a NAS experiment.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GraphConfig {
    /// Number of layers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub num_layers: Option<i32>,
    /// Dimensions of the input.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input_sizes: Option<Vec<i32>>,
    /// Dimensions of the output.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_sizes: Option<Vec<i32>>,
}

/// One operation a NAS layer may use.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Operation {
    /// Operation name, e.g. `convolution`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation_type: Option<String>,
    /// The operation's parameters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Vec<ParameterSpec>>,
}

impl HasConditions for Experiment {
    fn conditions(&self) -> Vec<ConditionView<'_>> {
        self.status
            .iter()
            .flat_map(|s| s.conditions.iter().flatten())
            .map(|c| {
                view(
                    c.type_.as_str(),
                    &c.status,
                    c.reason.as_ref(),
                    c.message.as_ref(),
                    c.last_update_time.as_ref(),
                    c.last_transition_time.as_ref(),
                )
            })
            .collect()
    }
}
