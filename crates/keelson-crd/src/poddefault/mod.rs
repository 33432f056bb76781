//! Kubeflow `PodDefault` (`kubeflow.org/v1alpha1`): env, volumes and sidecars injected into matching pods.
//!
//! The version modules are generated from the upstream CRD schemas (see `docs/crd.md`);
//! helpers written by hand live beside them.

pub mod v1alpha1;
