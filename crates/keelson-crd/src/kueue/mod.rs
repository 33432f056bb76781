//! Kueue: `ClusterQueue`, `LocalQueue`, `ResourceFlavor`, `AdmissionCheck`, `Workload`, `Cohort`, `Topology` (`kueue.x-k8s.io`; `v1beta2` is the storage version, `v1beta1` is still served).
//!
//! The version modules are generated from the upstream CRD schemas (see `docs/crd.md`);
//! helpers written by hand live beside them.

pub mod v1beta1;
pub mod v1beta2;
