//! The benchmark workload format `lineage-workload/2`: a JSON file that
//! describes, as formulas of the run `i`, step `s` and output `j`, the
//! nodes and edges of N pipeline runs and the seven queries run against
//! them.
//!
//! [`Workload::from_json`] reads and checks a file and compiles every
//! formula once; [`Workload::run`] then gives the nodes of any run as plain
//! data, [`Workload::query_targets`] what the `k`-th query reads, and
//! [`Workload::expected`] the result size each query must give. The
//! output of a benchmark is a [`BenchReport`].
//!
//! ```
//! use keelson_lineage::workload::Workload;
//!
//! let file = r#"{
//!   "format": "lineage-workload/2", "name": "tiny",
//!   "context_type": {"name": "Run", "properties": {"index": "INT"},
//!                    "instance": {"name": "run-{i:03d}", "index": "i"}},
//!   "execution_types": {"properties": {}, "instance": {"name": "run-{i}-{step}"}},
//!   "artifact_types": {"properties": {"score": "DOUBLE"}, "base_types": {"Model": "MODEL"},
//!                      "instance": {"name": "run-{i}-{key}", "uri": "mem://{i}/{key}",
//!                                   "score": "(i % 10) / 10.0"}},
//!   "steps": [
//!     {"s": 0, "step": "prep", "execution_type": "Prep", "outputs": [["data", "Dataset"]]},
//!     {"s": 1, "step": "train", "execution_type": "Train", "outputs": [["model", "Model"]]}
//!   ],
//!   "query_targets": {"uri_output_key": "model", "filter_artifact_type": "Model",
//!     "filter_property": "score", "filter_threshold": 0.75,
//!     "context_filter_artifact_type": "Model", "upstream_start_output_key": "model",
//!     "bidirectional_start_output_key": "data", "lineage_max_num_hops": 10}
//! }"#;
//! let workload = Workload::from_json(file.as_bytes())?;
//!
//! let run = workload.run(7)?;
//! assert_eq!(run.context.name, "run-007");
//! assert_eq!(run.steps[1].inputs, vec!["data".into()]);
//! assert_eq!(run.steps[1].outputs[0].uri, "mem://7/model");
//!
//! assert_eq!(
//!     workload.filter_model_score(),
//!     "type = 'Model' AND properties.score.double_value > 0.75"
//! );
//! let targets = workload.query_targets(0, 50)?;
//! assert_eq!(targets.run, 17);
//! assert_eq!(targets.filter_by_context_name, "contexts_a.name = 'run-017' AND type = 'Model'");
//! // Runs 8, 9, 18, 19, 28, 29, ... score 0.8 or 0.9.
//! assert_eq!(workload.expected(50)?.filter_model_score, 10);
//!
//! // Errors name the field.
//! let bad = file.replace("\"INT\"", "\"FLOAT\"");
//! let err = Workload::from_json(bad.as_bytes()).unwrap_err();
//! assert!(err.to_string().contains("context_type.properties.index"), "{err}");
//! # Ok::<(), keelson_lineage::Error>(())
//! ```
//!
//! The format, the formula language and the checks are described in
//! `docs/lineage.md`, section "Benchmark workloads".

mod formula;
pub mod fuzz;
mod generate;
mod results;
mod spec;
mod targets;

pub use formula::{
    Env, Expr, FormulaError, MAX_FORMULA_LEN, MAX_FORMULA_NESTING, MAX_PAD_WIDTH, NameField,
    Number, NumberType, Scope, Template, Var,
};
pub use generate::{
    ArtifactNode, ContextNode, ExecutionNode, Property, PropertyValue, RunNodes, StepNodes,
};
pub use results::{
    BenchReport, EdgeCounts, Ingest, LatencySummary, Machine, Mode, NodeCounts, Queries,
    QueryStats, ResultSize, Scale,
};
pub use spec::{
    ARTIFACT_BASE_TYPES, FORMAT, MAX_FILE_BYTES, Output, PerRunCounts, PropertyKind, Step, TypeDef,
    Workload,
};
pub use targets::{
    ExpectedSizes, LineageSize, MEASURED_QUERIES, QueryTargets, WARMUP_QUERIES, python_float_repr,
    query_run,
};

use std::fmt;

/// Why a workload file was refused, or a formula could not be evaluated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkloadError {
    /// The offending field as a path into the file, e.g.
    /// `steps[2].outputs[1]` or `artifact_types.instance.score`; `(file)`
    /// for the file as a whole.
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

impl fmt::Display for WorkloadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "workload {}: {}", self.field, self.message)
    }
}

impl std::error::Error for WorkloadError {}

fn err(field: &str, message: impl Into<String>) -> WorkloadError {
    WorkloadError {
        field: field.to_owned(),
        message: message.into(),
    }
}
