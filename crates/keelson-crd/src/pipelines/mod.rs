//! Kubeflow Pipelines' Kubernetes-native API: `Pipeline` and `PipelineVersion` (`pipelines.kubeflow.org/v2beta1`). The pipeline spec itself is KFP's IR, kept as JSON.
//!
//! The version modules are generated from the upstream CRD schemas (see `docs/crd.md`);
//! helpers written by hand live beside them.

pub mod v2beta1;
