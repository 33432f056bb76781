//! Typed Rust models of Kubeflow's custom resources, and a loader that reads
//! real manifests into them without losing a field.
//!
//! This crate is types and pure logic: it has no Kubernetes client and does no
//! I/O beyond reading files you name. Use it with kube-rs (every kind implements
//! `kube_core::Resource`), in an admission webhook, in a CI check over a
//! directory of manifests, or in a program that never sees a cluster.
//!
//! ```
//! use keelson_crd::{AnyResource, HasConditions};
//!
//! let docs = keelson_crd::load("train.yaml", r#"
//! apiVersion: kubeflow.org/v1
//! kind: PyTorchJob
//! metadata: { name: mnist, namespace: team-a }
//! spec:
//!   pytorchReplicaSpecs:
//!     Master: { replicas: 1, template: { spec: { containers: [{ name: pytorch, image: mnist:1 }] } } }
//!     Worker: { replicas: 3, template: { spec: { containers: [{ name: pytorch, image: mnist:1 }] } } }
//! "#)?;
//! let AnyResource::PyTorchJob(job) = &docs[0].resource else { unreachable!() };
//! assert_eq!(job.total_replicas(), 4);
//! assert!(!job.is_finished());
//! // Written back, it is the object that was read.
//! assert_eq!(docs[0].resource.to_value()?, docs[0].raw);
//! # Ok::<(), keelson_crd::Error>(())
//! ```
//!
//! # What is here
//!
//! | module | kinds | group/version |
//! |---|---|---|
//! | [`katib`] | Experiment, Trial, Suggestion (written after Katib's Go API) | `kubeflow.org/v1beta1` |
//! | [`trainer`] | TrainJob, TrainingRuntime, ClusterTrainingRuntime, OptimizationJob | `trainer.kubeflow.org/v1alpha1` |
//! | [`training_operator`] | PyTorchJob, TFJob, MPIJob, XGBoostJob, JAXJob, PaddleJob | `kubeflow.org/v1` |
//! | [`notebook`] | Notebook | `kubeflow.org/v1`, `v1beta1`, `v1alpha1` |
//! | [`profile`] | Profile | `kubeflow.org/v1`, `v1beta1` |
//! | [`poddefault`] | PodDefault | `kubeflow.org/v1alpha1` |
//! | [`tensorboard`] | Tensorboard | `tensorboard.kubeflow.org/v1alpha1` |
//! | [`kserve`] | InferenceService; ServingRuntime, ClusterServingRuntime, InferenceGraph, TrainedModel | `serving.kserve.io/v1beta1`; `v1alpha1` |
//! | [`spark`] | SparkApplication, ScheduledSparkApplication | `sparkoperator.k8s.io/v1beta2` |
//! | [`pipelines`] | Pipeline, PipelineVersion | `pipelines.kubeflow.org/v2beta1` |
//! | [`jobset`] | JobSet | `jobset.x-k8s.io/v1alpha2` |
//! | [`kueue`] | ClusterQueue, LocalQueue, ResourceFlavor, AdmissionCheck, Workload, Cohort, Topology | `kueue.x-k8s.io/v1beta2`, `v1beta1` |
//!
//! Each module is a cargo feature of the same name (all on by default). Except
//! for Katib, whose CRDs carry no schema, the types are generated from the
//! upstream `openAPIV3Schema`s by `cargo run -p xtask -- codegen` and checked in;
//! embedded Kubernetes types (PodSpec, Container, ObjectMeta, Condition...) are
//! `k8s-openapi`'s. The design, the round-trip guarantees and how to add a kind
//! are in `docs/crd.md`.
//!
//! # Dependencies, and why
//!
//! - `k8s-openapi`, `kube-core`: the Kubernetes types and the `Resource` trait
//!   controllers already use.
//! - `serde`, `serde_json`, `schemars`: the wire form and the JSON schemas the
//!   CRDs are printed from and parity is checked against.
//! - `serde_yaml_ng`: YAML, maintained fork of `serde_yaml`.
//! - `serde_path_to_error`, `serde_ignored`: the field path in errors, and the
//!   fields a kind does not declare.
//! - `stacker`: grows the stack for the largest kinds in unoptimized builds,
//!   where serde's derived code would overflow a 2 MiB thread.
//! - `thiserror`: the [`Error`] enum.
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod any;
pub mod conditions;
pub mod error;
pub mod fuzz;
pub mod loader;
pub mod resource;
pub mod roundtrip;
mod string_enum;
pub mod validate;

#[cfg(feature = "jobset")]
pub mod jobset;
#[cfg(feature = "katib")]
pub mod katib;
#[cfg(feature = "kserve")]
pub mod kserve;
#[cfg(feature = "kueue")]
pub mod kueue;
#[cfg(feature = "notebook")]
pub mod notebook;
#[cfg(feature = "pipelines")]
pub mod pipelines;
#[cfg(feature = "poddefault")]
pub mod poddefault;
#[cfg(feature = "profile")]
pub mod profile;
#[cfg(feature = "spark")]
pub mod spark;
#[cfg(feature = "tensorboard")]
pub mod tensorboard;
#[cfg(feature = "trainer")]
pub mod trainer;
#[cfg(feature = "training_operator")]
pub mod training_operator;

pub use any::{AnyResource, KindEntry, kinds};
pub use conditions::{ConditionView, HasConditions};
pub use error::{Error, Location, Result};
pub use loader::{Document, Limits, Loader, load, load_file, manifest_files};
pub use resource::{CustomResource, KindInfo, Scope};
