//! Kubeflow Trainer v2: `TrainJob`, `TrainingRuntime`, `ClusterTrainingRuntime` and
//! `OptimizationJob` (`trainer.kubeflow.org/v1alpha1`).
//!
//! The version module is generated from the upstream CRD schemas (see `docs/crd.md`);
//! [`runtime`] resolves a TrainJob against its runtime, as Trainer's controller does.

pub mod runtime;
pub mod v1alpha1;

pub use runtime::{EffectiveTrainer, ResolvedRuntime, RuntimeKind};

crate::conditions::meta_conditions! {
    v1alpha1::TrainJob => &["Complete"],
    v1alpha1::OptimizationJob => &["Complete", "Succeeded"],
}
