//! JobSet (`jobset.x-k8s.io/v1alpha2`): a group of Jobs run as one unit, which Trainer's runtimes embed.
//!
//! The version modules are generated from the upstream CRD schemas (see `docs/crd.md`);
//! helpers written by hand live beside them.

pub mod v1alpha2;
