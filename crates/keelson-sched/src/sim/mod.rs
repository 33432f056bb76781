//! A trace-driven cluster simulator: replays a job trace on a cluster
//! under a policy and reports job completion times, queueing delay, GPU
//! utilization, makespan and fairness.
//!
//! * [`trace`]: the trace CSV (`id,submit_s,duration_s,pods,gpus_per_pod,
//!   cpu_milli_per_pod,memory_mib_per_pod,queue,priority`).
//! * [`cluster_spec`]: the cluster CSV (`node,gpus,cpu_milli,memory_mib,
//!   gpu_model,zone,block,rack`); queues, cohorts and quotas are the
//!   admission [`Setup`](crate::Setup) in YAML or JSON ([`parse_queues`]).
//! * [`policy`]: `fifo`, `kueue`, `fair`, `backfill`, `las`.
//! * [`Simulator`]: the event loop; [`metrics`]: what it reports.
//! * [`generate`](mod@generate): a seeded synthetic trace, and Kueue's
//!   baseline performance scenario.
//!
//! `docs/sched.md` ("Simulator") states every rule.
//!
//! ```
//! use keelson_sched::sim::{generate, GeneratorConfig, Options, Policy, Simulator};
//!
//! let config = GeneratorConfig { nodes: 8, ..GeneratorConfig::default() };
//! let (jobs, nodes) = generate(&config, 200, 1)?;
//! let fifo = Simulator::new(jobs.clone(), &nodes, Options::new(Policy::Fifo))?.run()?;
//! let las = Simulator::new(jobs, &nodes, Options::new(Policy::Las))?.run()?;
//! assert_eq!(fifo.summary.finished + fifo.summary.skipped, 200);
//! assert!(las.summary.avg_jct_s < fifo.summary.avg_jct_s);
//! # Ok::<(), keelson_sched::Error>(())
//! ```

pub mod cluster_spec;
mod csv;
mod engine;
pub mod generate;
pub mod metrics;
pub mod policy;
mod queues;
pub mod trace;

pub use cluster_spec::{CLUSTER_HEADER, NodeSpec, parse_cluster, write_cluster};
pub use engine::Simulator;
pub use generate::{GeneratorConfig, Scenario, generate, kueue_baseline};
pub use metrics::{
    Outcome, QueueStats, Report, SizeClassStats, Skipped, Summary, UtilizationPoint,
};
pub use policy::{LasConfig, Options, Policy, parse_queues};
pub use trace::{TRACE_HEADER, TraceJob, parse_trace, write_trace};
