//! keelson-sched: scheduling logic for an ML platform, as pure,
//! deterministic, synchronous Rust: the caller owns I/O and time.
//!
//! ```
//! use keelson_sched::{Quantity, Resources};
//!
//! // A worker pod of a training job, and a GPU node.
//! let worker = Resources::parse([("cpu", "4"), ("memory", "32Gi"), ("nvidia.com/gpu", "1")])?;
//! let node = Resources::parse([("cpu", "96"), ("memory", "1Ti"), ("nvidia.com/gpu", "8")])?;
//!
//! // Eight workers fit on one node; a ninth finds no GPU.
//! let eight = worker.checked_mul(8)?;
//! assert!(eight.fits(&node));
//! let nine = worker.checked_mul(9)?;
//! let short = nine.shortfall(&node).expect("9 GPUs > 8");
//! assert_eq!(short.to_string(), "nvidia.com/gpu needs 9, 8 available");
//! let left = node.checked_sub(&eight)?;
//! assert_eq!(left.get("cpu"), Quantity::from_units(64));
//! # Ok::<(), keelson_sched::Error>(())
//! ```
//!
//! # What is here
//!
//! * [`quantity`]: Kubernetes quantities (`500m`, `16Gi`, `1.5e3`), parsed
//!   exactly into thousandths.
//! * [`resources`]: resource lists with checked sums, differences and
//!   multiples, and a fit test that names the first resource short.
//! * [`workload`]: workloads as pod sets (count × requests, `minCount`,
//!   node selector, tolerations, topology request) with a priority.
//! * [`node`]: nodes with capacity, labels, taints and topology domains.
//! * [`placement`]: all-or-nothing gang placement onto a [`Cluster`]:
//!   bin-packing or spreading, selectors and taints, required or
//!   preferred topology domains, partial admission, bind and release.
//! * [`fragmentation`]: how much free GPU a job mix could not use.
//! * Kueue-style admission: [`flavor`], [`cluster_queue`], [`cohort`],
//!   [`local_queue`] describe the quota; [`admission`]'s [`Scheduler`]
//!   admits workloads cycle by cycle and says why the others wait
//!   ([`decision`]).
//! * [`dag`]: a pipeline DAG with Kubeflow Pipelines' semantics
//!   (dependencies, conditions, loops with a parallelism limit, exit
//!   handlers, retries with backoff, caching), run by events, recording
//!   lineage; and a simulated executor.
//! * [`kfp`]: Kubeflow Pipelines' compiled pipeline spec (IR YAML) read into
//!   a [`dag::Dag`].
//! * `manifests` (feature `crd`): a [`Setup`] from Kueue ResourceFlavor,
//!   Cohort, ClusterQueue and LocalQueue manifests, and [`Workload`]s from
//!   Kueue Workloads, JobSets and Trainer TrainJobs (keelson-crd's types).
//! * [`cel`]: the subset of CEL that KFP conditions and selectors use.
//! * [`trials`]: Katib's trial pacing as a state machine.
//! * [`sim`]: a trace-driven discrete-event simulator replaying a job
//!   trace on a cluster under `fifo`, `kueue`, `fair`, `backfill` or `las`,
//!   with a seeded synthetic trace generator.
//! * [`fuzz`]: the entry points of the `sched_quantity`, `sched_kfp` and
//!   `sched_trace` fuzz targets.
//!
//! # Dependencies, and why
//!
//! * `serde` — every model type reads and writes the JSON/YAML users keep
//!   their cluster and queue descriptions in.
//! * `thiserror` — the crate's one [`Error`] enum.
//! * `serde_json` — pipeline parameters are JSON values, and CEL conditions
//!   evaluate over them.
//! * `serde_yaml_ng`, `serde_path_to_error` — compiled KFP pipelines are
//!   (multi-document) YAML; errors say where in the spec they are.
//! * `sha2` — the cache key of a pipeline step is a SHA-256 digest of its
//!   component spec and resolved inputs, as KFP's cache fingerprint is.
//! * `rand`, `rand_chacha`, `rand_distr` — the simulator's synthetic trace
//!   generator: a seeded, portable PRNG, lognormal durations and
//!   exponential inter-arrival gaps (also the admission bench's workloads).
//! * `smallvec` — a workload's quota usage and flavor choice (a few
//!   resources each) live inline, so a cycle that decides on every pending
//!   workload allocates only for the ones it admits.
//! * `keelson-crd`, `k8s-openapi` (optional, feature `crd`) — the typed
//!   Kueue, JobSet and Trainer objects (and the Kubernetes pod types inside
//!   them) that set-ups and workloads are read from; the same versions
//!   keelson-crd already builds, so nothing new is compiled.
//! * Development only: `criterion` (the `admission` and `placement`
//!   benches), `plotters` (the `simulate` example's SVG plots), `proptest`.
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod admission;
pub mod cel;
pub mod cluster_queue;
pub mod cohort;
pub mod dag;
pub mod decision;
mod error;
pub mod flavor;
pub mod fragmentation;
pub mod fuzz;
pub mod kfp;
pub mod local_queue;
#[cfg(feature = "crd")]
#[cfg_attr(docsrs, doc(cfg(feature = "crd")))]
pub mod manifests;
pub mod node;
pub mod placement;
pub mod quantity;
pub mod resources;
pub mod sim;
mod topology;
pub mod trials;
pub mod workload;

mod heads;
mod preemption;
mod quota;

pub use admission::{FairSharingConfig, PreemptionStrategy, Scheduler, Setup};
pub use cluster_queue::{
    BorrowWithinCohort, BorrowWithinCohortPolicy, ClusterQueue, FairSharing, FlavorFungibility,
    FlavorQuotas, FungibilityPolicy, Preemption, QueueingStrategy, ReclaimWithinCohort,
    ResourceGroup, ResourceQuota, WithinClusterQueue,
};
pub use cohort::Cohort;
pub use decision::{Admission, Decision, FlavorMiss, MissReason, PodSetAdmission, WaitReason};
pub use error::{Error, Result};
pub use flavor::{FlavorMismatch, ResourceFlavor};
pub use fragmentation::Fragmentation;
pub use local_queue::LocalQueue;
pub use node::Node;
pub use placement::{Blocker, Cluster, Placement, PodSetPlacement, Strategy, Unplaceable};
pub use quantity::Quantity;
pub use resources::{Resources, Shortfall};
pub use workload::{
    PodSet, Taint, TaintEffect, Toleration, TolerationOperator, TopologyRequest, Workload,
};
