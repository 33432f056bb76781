//! Katib's `kubeflow.org/v1beta1` API: [`Experiment`], [`Trial`] and [`Suggestion`],
//! the types they share, and helpers that read an experiment's search space,
//! objective and trial budget as plain Rust values.

mod common;
mod experiment;
mod search_space;
mod suggestion;
mod trial;

pub use common::{
    AlgorithmSetting, AlgorithmSpec, CollectorKind, CollectorSpec, ComparisonType,
    EarlyStoppingRule, EarlyStoppingSetting, EarlyStoppingSpec, FileFormat, FileSystemKind,
    FileSystemPath, FilterSpec, Metric, MetricStrategy, MetricStrategyType, MetricsCollectorSpec,
    ObjectiveSpec, ObjectiveType, Observation, ParameterAssignment, SourceSpec,
};
pub use experiment::{
    ConfigMapSource, Distribution, Experiment, ExperimentCondition, ExperimentConditionType,
    ExperimentSpec, ExperimentStatus, FeasibleSpace, GraphConfig, NasConfig, Operation,
    OptimalTrial, ParameterSpec, ParameterType, ResumePolicy, TrialParameterSpec, TrialTemplate,
};
pub use search_space::{
    DEFAULT_PARALLEL_TRIAL_COUNT, Objective, ObjectiveKind, Parameter, ParameterKind, SearchSpace,
    TrialCounts,
};
pub use suggestion::{
    Suggestion, SuggestionCondition, SuggestionConditionType, SuggestionSpec, SuggestionStatus,
    TrialAssignment,
};
pub use trial::{Trial, TrialCondition, TrialConditionType, TrialSpec, TrialStatus};
