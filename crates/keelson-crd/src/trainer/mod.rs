//! Kubeflow Trainer v2: `TrainJob`, `TrainingRuntime`, `ClusterTrainingRuntime` and `OptimizationJob` (`trainer.kubeflow.org/v1alpha1`).
//!
//! The version modules are generated from the upstream CRD schemas (see `docs/crd.md`);
//! helpers written by hand live beside them.

pub mod v1alpha1;
