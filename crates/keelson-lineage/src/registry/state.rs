//! The states of registry entities that MLMD has no column for: stored as
//! string properties, spelled as Kubeflow Model Registry spells them.

use serde::{Deserialize, Serialize};

/// The state of a registered model or a model version (Kubeflow Model
/// Registry's `RegisteredModelState` and `ModelVersionState`), stored as the
/// string property `state`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ModelState {
    /// In use; the state of a new model or version.
    #[default]
    Live,
    /// Retired: kept for the record, hidden from default views.
    Archived,
}

impl ModelState {
    /// The stored spelling: `LIVE` or `ARCHIVED`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Live => "LIVE",
            Self::Archived => "ARCHIVED",
        }
    }

    /// The state spelled `s`, if there is one.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "LIVE" => Some(Self::Live),
            "ARCHIVED" => Some(Self::Archived),
            _ => None,
        }
    }
}

/// What an inference service should be (Kubeflow Model Registry's
/// `InferenceServiceState`), stored as the string property `desired_state`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum InferenceServiceState {
    /// Serving; the state of a new inference service.
    #[default]
    Deployed,
    /// To be taken down.
    Undeployed,
}

impl InferenceServiceState {
    /// The stored spelling: `DEPLOYED` or `UNDEPLOYED`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Deployed => "DEPLOYED",
            Self::Undeployed => "UNDEPLOYED",
        }
    }

    /// The state spelled `s`, if there is one.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "DEPLOYED" => Some(Self::Deployed),
            "UNDEPLOYED" => Some(Self::Undeployed),
            _ => None,
        }
    }
}
