//! keelson: the reusable parts of an ML platform in the spirit of Kubeflow, as an
//! embedded Rust library.
//!
//! This umbrella crate only re-exports the component crates, each behind a
//! feature of the same name, so one dependency line brings in what you need:
//!
//! | feature | crate | what it is |
//! |---|---|---|
//! | `artifact` (default) | [`keelson-artifact`](artifact) | a content-addressed, immutable, verified artifact store for models and datasets on any object_store backend |
//! | `crd` (default) | [`keelson-crd`](crd) | typed Kubeflow custom resources and a lossless manifest loader |
//! | `drift` (default) | [`keelson-drift`](drift) | drift statistics over Arrow arrays and Parquet files, with scipy's numbers |
//! | `hpo` (default) | [`keelson-hpo`](hpo) | search spaces, ask/tell search algorithms (random, grid, Sobol, TPE, CMA-ES, NSGA-II, Hyperband, ASHA), PBT and early stopping, resumable; studies from Katib Experiments |
//! | `lineage` (default) | [`keelson-lineage`](lineage) | a metadata and lineage store with ML Metadata's data model on SQLite: typed artifacts, executions, contexts and events, MLMD filter queries compiled to parameterized SQL, lineage subgraphs drawn as DOT or Mermaid, deletion, namespaces, schema migrations, a reader for MLMD databases |
//! | `sched` (default) | [`keelson-sched`](sched) | Kueue-style admission, gang placement, the pipeline DAG over compiled KFP pipelines, Katib trial pacing and a trace-driven cluster simulator; queues and jobs read from Kueue, JobSet and Trainer manifests |
//!
//! It holds no logic of its own. Vendors who want one component depend on that
//! crate directly; the components do not depend on each other, except that
//! keelson-hpo reads keelson-crd's Katib types and keelson-sched its Kueue,
//! JobSet and Trainer types, each behind its own `crd` feature (on here when
//! `crd` and that component's feature both are).
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
//! ## Checking data for drift
//!
//! [`drift::report::drift_report`] runs Evidently's default test on every column
//! of two Arrow record batches ([`drift::report::drift_report_parquet`] reads
//! Parquet files column by column); each statistic is also a plain function.
//!
//! ```
//! # #[cfg(feature = "drift")] {
//! use keelson::drift::{SortedSample, ks::{KsMethod, ks_2samp}};
//!
//! let reference = SortedSample::new(&[0.1, 0.4, 0.35, 0.8, 0.55], "reference").unwrap();
//! let current = SortedSample::new(&[1.1, 1.4, 0.9, 1.8], "current").unwrap();
//! let ks = ks_2samp(&reference, &current, KsMethod::Auto).unwrap();
//! assert_eq!(ks.statistic, 1.0);
//! assert!(ks.pvalue.unwrap() < 0.05);
//! # }
//! ```
//!
//! ## Tuning hyperparameters
//!
//! [`hpo::Study`] asks a sampler for the next trial's parameters and is told
//! how the trial went; its whole state, sampler included, saves to JSON and
//! resumes with exactly the suggestions it would have made.
//!
//! ```
//! # #[cfg(feature = "hpo")] {
//! use keelson::hpo::{Direction, Outcome, ParamSpec, RandomSampler, SearchSpace, Study};
//!
//! let space = SearchSpace::new([ParamSpec::double("x", -5.0, 5.0)]).unwrap();
//! let mut study = Study::new(space, Direction::Minimize, RandomSampler::new(7)).unwrap();
//! for _ in 0..20 {
//!     let trial = study.ask().unwrap();
//!     let x = trial.params.f64("x").unwrap();
//!     study.tell(trial.id, Outcome::Value(x * x)).unwrap();
//! }
//! assert!(study.best_trial().unwrap().value.unwrap() < 1.0);
//! # }
//! ```
//!
//! ## Examples
//!
//! - `cargo run --release --example quickstart [DIR]`: validate every manifest under
//!   a directory and print a table.
//! - `cargo run --example print_crds`: every CRD as YAML.
//! - `cargo run --release --example drift_conformance -- CASES.json`: keelson-drift
//!   on a drift reference-case file, one JSON record per (case, method).
//! - `cargo run --release --example drift_bench`: keelson-drift's timings on the
//!   drift anchors' workloads.

#[cfg(feature = "artifact")]
pub use keelson_artifact as artifact;
#[cfg(feature = "crd")]
pub use keelson_crd as crd;
#[cfg(feature = "drift")]
pub use keelson_drift as drift;
#[cfg(feature = "hpo")]
pub use keelson_hpo as hpo;
#[cfg(feature = "lineage")]
pub use keelson_lineage as lineage;
#[cfg(feature = "sched")]
pub use keelson_sched as sched;
