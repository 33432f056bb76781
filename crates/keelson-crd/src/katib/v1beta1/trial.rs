//! The Trial kind: one run of an experiment's workload with one set of parameter
//! values.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::{
    EarlyStoppingRule, MetricsCollectorSpec, ObjectiveSpec, Observation, ParameterAssignment, view,
};
use crate::conditions::{ConditionView, HasConditions};

/// One run of an experiment's workload with one set of parameter values. Katib's
/// experiment controller creates trials; users rarely write them.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, JsonSchema)]
pub struct Trial {
    /// Standard object metadata.
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// What the trial runs.
    pub spec: Option<TrialSpec>,
    /// What the trial controller observed.
    pub status: Option<TrialStatus>,
}

crate::resource::custom_resource!(
    Trial,
    k8s_openapi::NamespaceResourceScope,
    crate::resource::KindInfo {
        group: "kubeflow.org",
        version: "v1beta1",
        kind: "Trial",
        plural: "trials",
        scope: crate::resource::Scope::Namespaced,
        short_names: &[],
        storage: true,
        status_subresource: true,
        scale: None,
    };
    required {}
    optional { spec => "spec", status => "status" }
);

/// The desired state of a trial.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TrialSpec {
    /// The experiment's objective, copied into the trial.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub objective: Option<ObjectiveSpec>,
    /// The parameter values of this trial.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameter_assignments: Option<Vec<ParameterAssignment>>,
    /// Rules under which the trial is stopped early; all must hold.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub early_stopping_rules: Option<Vec<EarlyStoppingRule>>,
    /// The workload, with the parameter values substituted: any Kubernetes object,
    /// kept verbatim.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-kubernetes-preserve-unknown-fields" = true))]
    pub run_spec: Option<BTreeMap<String, serde_json::Value>>,
    /// Keep the workload after the trial finishes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retain_run: Option<bool>,
    /// How metrics are collected from the workload.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metrics_collector: Option<MetricsCollectorSpec>,
    /// Labels of the pods into which the metrics collector is injected.
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
    /// Extra labels, e.g. set by the suggestion service to track its trials.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,
}

/// The observed state of a trial.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TrialStatus {
    /// When the controller first saw the trial.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_time: Option<Time>,
    /// When the trial finished.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completion_time: Option<Time>,
    /// When the controller last reconciled the trial.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_reconcile_time: Option<Time>,
    /// The trial's conditions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Vec<TrialCondition>>,
    /// The metrics observed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub observation: Option<Observation>,
}

/// One condition of a trial.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TrialCondition {
    /// The condition type.
    #[serde(rename = "type", default)]
    pub type_: TrialConditionType,
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
    /// The condition types of a trial.
    pub enum TrialConditionType {
        /// The trial was accepted.
        Created = "Created",
        /// The workload is running.
        Running = "Running",
        /// The workload succeeded. With status `False` it means the workload
        /// succeeded but its metrics could not be collected.
        Succeeded = "Succeeded",
        /// The trial was deleted by the experiment before it finished, e.g. because
        /// the goal was reached.
        Killed = "Killed",
        /// The workload failed.
        Failed = "Failed",
        /// The metrics of the workload could not be collected.
        MetricsUnavailable = "MetricsUnavailable",
        /// An early-stopping rule stopped the trial; Katib counts it as a finished,
        /// usable trial.
        EarlyStopped = "EarlyStopped",
    }
}

impl HasConditions for Trial {
    /// `Succeeded` and `EarlyStopped`: Katib treats an early-stopped trial as a
    /// completed one whose observation is usable.
    const SUCCEEDED: &'static [&'static str] = &["Succeeded", "EarlyStopped"];
    /// `Failed` and `Killed`: a killed trial is finished without a result.
    const FAILED: &'static [&'static str] = &["Failed", "Killed"];

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

impl Trial {
    /// `true` when Katib would say the trial's metrics are unavailable: its
    /// `Succeeded` condition is `False` (or a `MetricsUnavailable` condition is
    /// `True`).
    ///
    /// ```
    /// use keelson_crd::HasConditions;
    /// use keelson_crd::katib::v1beta1::Trial;
    ///
    /// let trial: Trial = serde_yaml_ng::from_str(r#"
    /// apiVersion: kubeflow.org/v1beta1
    /// kind: Trial
    /// metadata: { name: random-abc }
    /// status:
    ///   conditions:
    ///   - { type: Succeeded, status: "False", reason: MetricsUnavailable }
    /// "#)?;
    /// assert!(trial.is_metrics_unavailable());
    /// assert!(!trial.is_succeeded());
    /// # Ok::<(), serde_yaml_ng::Error>(())
    /// ```
    pub fn is_metrics_unavailable(&self) -> bool {
        self.conditions().iter().any(|c| {
            (c.type_ == "Succeeded" && c.status.eq_ignore_ascii_case("false"))
                || (c.type_ == "MetricsUnavailable" && c.is_true())
        })
    }

    /// The parameter values of this trial as name → value, in name order.
    ///
    /// ```
    /// use keelson_crd::katib::v1beta1::Trial;
    ///
    /// let trial: Trial = serde_yaml_ng::from_str(r#"
    /// apiVersion: kubeflow.org/v1beta1
    /// kind: Trial
    /// metadata: { name: random-abc }
    /// spec:
    ///   parameterAssignments:
    ///   - { name: lr, value: "0.02" }
    ///   - { name: momentum, value: "0.7" }
    /// "#)?;
    /// let values = trial.assignments();
    /// assert_eq!(values.get("lr"), Some(&"0.02"));
    /// assert_eq!(values.len(), 2);
    /// # Ok::<(), serde_yaml_ng::Error>(())
    /// ```
    pub fn assignments(&self) -> BTreeMap<&str, &str> {
        self.spec
            .iter()
            .flat_map(|s| s.parameter_assignments.iter().flatten())
            .filter_map(|a| Some((a.name.as_deref()?, a.value.as_deref().unwrap_or(""))))
            .collect()
    }
}
