//! The training-operator's v1 jobs: `PyTorchJob`, `TFJob`, `MPIJob`, `XGBoostJob`, `JAXJob`, `PaddleJob` (`kubeflow.org/v1`).
//!
//! The version modules are generated from the upstream CRD schemas (see `docs/crd.md`);
//! helpers written by hand live beside them.

pub mod v1;
