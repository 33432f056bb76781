//! Kubeflow `Profile` (`kubeflow.org/v1`, cluster-scoped; `v1beta1` still served): a user's namespace, its owner and resource quota.
//!
//! The version modules are generated from the upstream CRD schemas (see `docs/crd.md`);
//! helpers written by hand live beside them.

pub mod v1;
pub mod v1beta1;
