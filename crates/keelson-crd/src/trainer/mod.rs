//! Kubeflow Trainer v2: `TrainJob`, `TrainingRuntime`, `ClusterTrainingRuntime` and
//! `OptimizationJob` (`trainer.kubeflow.org/v1alpha1`).
//!
//! The version module is generated from the upstream CRD schemas (see `docs/crd.md`);
//! [`runtime`] resolves a TrainJob against its runtime, as Trainer's controller does.

pub mod runtime;
pub mod v1alpha1;

pub use runtime::{EffectiveTrainer, ResolvedRuntime, RuntimeKind};

use crate::conditions::{ConditionView, HasConditions, view_meta_condition};

impl HasConditions for v1alpha1::TrainJob {
    const SUCCEEDED: &'static [&'static str] = &["Complete"];

    fn conditions(&self) -> Vec<ConditionView<'_>> {
        self.status
            .iter()
            .flat_map(|s| s.conditions.iter().flatten())
            .map(view_meta_condition)
            .collect()
    }
}

impl HasConditions for v1alpha1::OptimizationJob {
    const SUCCEEDED: &'static [&'static str] = &["Complete", "Succeeded"];

    fn conditions(&self) -> Vec<ConditionView<'_>> {
        self.status
            .iter()
            .flat_map(|s| s.conditions.iter().flatten())
            .map(view_meta_condition)
            .collect()
    }
}
