//! KServe: `InferenceService` (`serving.kserve.io/v1beta1`) and `ServingRuntime`, `ClusterServingRuntime`, `InferenceGraph`, `TrainedModel` (`serving.kserve.io/v1alpha1`).
//!
//! The version modules are generated from the upstream CRD schemas (see `docs/crd.md`);
//! helpers written by hand live beside them.

pub mod v1alpha1;
pub mod v1beta1;
