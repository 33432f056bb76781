//! Kubeflow `Notebook` (`kubeflow.org`): `v1` is the storage version; `v1beta1` and `v1alpha1` are still served with the same schema.
//!
//! The version modules are generated from the upstream CRD schemas (see `docs/crd.md`);
//! helpers written by hand live beside them.

pub mod v1;
pub mod v1alpha1;
pub mod v1beta1;
