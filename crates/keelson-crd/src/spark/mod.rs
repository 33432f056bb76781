//! Kubeflow Spark operator: `SparkApplication` and `ScheduledSparkApplication` (`sparkoperator.k8s.io/v1beta2`).
//!
//! The version modules are generated from the upstream CRD schemas (see `docs/crd.md`);
//! helpers written by hand live beside them.

pub mod v1beta2;
