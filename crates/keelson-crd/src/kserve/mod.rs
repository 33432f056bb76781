//! KServe: `InferenceService` (`serving.kserve.io/v1beta1`) and `ServingRuntime`,
//! `ClusterServingRuntime`, `InferenceGraph`, `TrainedModel`
//! (`serving.kserve.io/v1alpha1`).
//!
//! The version modules are generated from the upstream CRD schemas (see
//! `docs/crd.md`). KServe reports Knative-style conditions; a serving resource has
//! no "succeeded", so [`HasConditions::is_succeeded`] means `Ready` is `True` and
//! [`HasConditions::is_failed`] means `Ready` is `False`.

pub mod v1alpha1;
pub mod v1beta1;

use crate::conditions::{ConditionView, HasConditions};

macro_rules! knative_conditions {
    ($($ty:ty => $condition:ty),* $(,)?) => {$(
        impl HasConditions for $ty {
            const SUCCEEDED: &'static [&'static str] = &["Ready"];
            const FAILED: &'static [&'static str] = &[];

            fn conditions(&self) -> Vec<ConditionView<'_>> {
                self.status
                    .iter()
                    .flat_map(|s| s.conditions.iter().flatten())
                    .map(|c: &$condition| ConditionView {
                        type_: &c.type_,
                        status: &c.status,
                        reason: c.reason.as_deref(),
                        message: c.message.as_deref(),
                        last_transition_time: c.last_transition_time.clone(),
                        last_update_time: None,
                    })
                    .collect()
            }

            fn is_failed(&self) -> bool {
                self.condition("Ready").is_some_and(|c| c.status.eq_ignore_ascii_case("false"))
            }
        }
    )*};
}

knative_conditions! {
    v1beta1::InferenceService => v1beta1::Condition,
    v1alpha1::InferenceGraph => v1alpha1::Condition,
    v1alpha1::TrainedModel => v1alpha1::Condition,
}
