//! keelson: the reusable parts of an ML platform in the spirit of Kubeflow, as an
//! embedded Rust library.
//!
//! This umbrella crate only re-exports the component crates, each behind a
//! feature of the same name, so one dependency line brings in what you need:
//!
//! | feature | crate | what it is |
//! |---|---|---|
//! | `crd` (default) | [`keelson-crd`](crd) | typed Kubeflow custom resources and a lossless manifest loader |
//!
//! It holds no logic of its own. Vendors who want one component depend on that
//! crate directly; the components do not depend on each other.
//!
//! # User guide
//!
//! ## Reading manifests
//!
//! [`crd::load`] reads a multi-document YAML or JSON text into typed resources;
//! [`crd::validate::validate`] lists what a reviewer would want fixed before
//! applying one.
//!
//! ```
//! # #[cfg(feature = "crd")] {
//! use keelson::crd::{self, AnyResource};
//!
//! let docs = crd::load("queue.yaml", r#"
//! apiVersion: kueue.x-k8s.io/v1beta2
//! kind: LocalQueue
//! metadata: { name: team-a, namespace: ml }
//! spec: { clusterQueue: gpu-cluster-queue, priority: high }
//! "#).unwrap();
//! let AnyResource::LocalQueue(queue) = &docs[0].resource else { unreachable!() };
//! assert_eq!(queue.spec.as_ref().unwrap().cluster_queue.as_deref(), Some("gpu-cluster-queue"));
//! let problems = crd::validate::validate(&docs[0]);
//! assert_eq!(problems[0].path, "spec.priority");
//! # }
//! ```
//!
//! ## Writing a controller
//!
//! Every kind implements `kube_core::Resource`, so it works with kube-rs clients
//! and watchers; [`crd::HasConditions`] answers "finished? succeeded?" the same way
//! for every kind, and each module has the helpers its controllers need (Katib's
//! search space, a TrainJob's effective runtime). `cargo run --example print_crds`
//! prints the CRDs.
//!
//! ## Examples
//!
//! - `cargo run --release --example quickstart [DIR]`: validate every manifest under
//!   a directory and print a table.
//! - `cargo run --example print_crds`: every CRD as YAML.

#[cfg(feature = "crd")]
pub use keelson_crd as crd;
