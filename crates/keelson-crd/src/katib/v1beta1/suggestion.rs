//! The Suggestion kind: the experiment controller's request to the suggestion
//! service for parameter sets, and the sets it got back.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::{
    AlgorithmSetting, AlgorithmSpec, EarlyStoppingRule, EarlyStoppingSpec, ParameterAssignment,
    view,
};
use super::experiment::ResumePolicy;
use crate::conditions::{ConditionView, HasConditions};

/// The suggestion state of one experiment: how many parameter sets were asked for
/// and those the algorithm produced. Katib creates one per experiment.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, JsonSchema)]
pub struct Suggestion {
    /// Standard object metadata.
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// The request.
    pub spec: Option<SuggestionSpec>,
    /// The answers.
    pub status: Option<SuggestionStatus>,
}

crate::resource::custom_resource!(
    Suggestion,
    k8s_openapi::NamespaceResourceScope,
    crate::resource::KindInfo {
        group: "kubeflow.org",
        version: "v1beta1",
        kind: "Suggestion",
        plural: "suggestions",
        scope: crate::resource::Scope::Namespaced,
        short_names: &[],
        storage: true,
        status_subresource: true,
        scale: None,
    };
    required {}
    optional { spec => "spec", status => "status" }
);

/// The desired state of a suggestion.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SuggestionSpec {
    /// The suggestion algorithm.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub algorithm: Option<AlgorithmSpec>,
    /// The early-stopping algorithm, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub early_stopping: Option<EarlyStoppingSpec>,
    /// How many parameter sets have been requested in total.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requests: Option<i32>,
    /// The experiment's resume policy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resume_policy: Option<ResumePolicy>,
}

/// The observed state of a suggestion.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SuggestionStatus {
    /// Algorithm settings as changed by the suggestion service; they override the
    /// experiment's settings in later requests.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub algorithm_settings: Option<Vec<AlgorithmSetting>>,
    /// How many parameter sets have been produced.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggestion_count: Option<i32>,
    /// The parameter sets, one per trial.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggestions: Option<Vec<TrialAssignment>>,
    /// When the controller first saw the suggestion.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_time: Option<Time>,
    /// When the suggestion finished.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completion_time: Option<Time>,
    /// When the controller last reconciled the suggestion.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_reconcile_time: Option<Time>,
    /// The suggestion's conditions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Vec<SuggestionCondition>>,
}

/// One parameter set produced for one trial.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TrialAssignment {
    /// The parameter values.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameter_assignments: Option<Vec<ParameterAssignment>>,
    /// The name of the trial to create.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Early-stopping rules for that trial.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub early_stopping_rules: Option<Vec<EarlyStoppingRule>>,
    /// Labels to put on the trial's workload.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,
}

/// One condition of a suggestion.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SuggestionCondition {
    /// The condition type.
    #[serde(rename = "type", default)]
    pub type_: SuggestionConditionType,
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
    /// The condition types of a suggestion.
    pub enum SuggestionConditionType {
        /// The suggestion was accepted.
        Created = "Created",
        /// The suggestion service's Deployment is ready.
        DeploymentReady = "DeploymentReady",
        /// The suggestion service is answering requests.
        Running = "Running",
        /// The suggestion finished (its experiment is done).
        Succeeded = "Succeeded",
        /// The suggestion service failed.
        Failed = "Failed",
    }
}

impl HasConditions for Suggestion {
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
