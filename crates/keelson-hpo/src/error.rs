//! The one error type of keelson-hpo.

use crate::study::TrialState;

/// Everything that can go wrong in keelson-hpo.
///
/// Each variant names what the caller has to fix: the parameter of a search
/// space, the setting of a sampler or pruner, the trial of a study.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A search space is malformed: min > max, the log of a non-positive
    /// bound, an empty list, a duplicate name, a step that does not fit, an
    /// unknown or cyclic condition parent, ...
    #[error("parameter {param:?}: {reason}")]
    InvalidSpace {
        /// The offending parameter (`parameters` when the list itself is wrong).
        param: String,
        /// Why it is rejected.
        reason: String,
    },
    /// A search-space document could not be read at all (bad JSON or YAML,
    /// an unknown field, a wrong type). The message carries the position.
    #[error("cannot parse the search space as {format}: {message}")]
    Parse {
        /// `JSON` or `YAML`.
        format: &'static str,
        /// The parser's message.
        message: String,
    },
    /// An assignment does not belong to its search space, or a parameter was
    /// read as the wrong type.
    #[error("parameter {param:?}: {reason}")]
    InvalidParams {
        /// The offending parameter.
        param: String,
        /// Why.
        reason: String,
    },
    /// A setting of a sampler, pruner or optimizer is out of its domain.
    #[error("invalid setting {name}: {reason}")]
    InvalidSetting {
        /// The setting, e.g. `reduction_factor`.
        name: String,
        /// Why it is rejected.
        reason: String,
    },
    /// A sampler cannot search this space (e.g. the grid sampler and a
    /// double without a step or a count).
    #[error("sampler {sampler} cannot search parameter {param:?}: {reason}")]
    UnsupportedSpace {
        /// The sampler's name.
        sampler: String,
        /// The parameter it cannot handle.
        param: String,
        /// Why, and what would make it work.
        reason: String,
    },
    /// The sampler has no new point left (every grid point has been asked
    /// for). The study is finished, not broken: tell the running trials and
    /// read the results.
    #[error("sampler {sampler} is exhausted after {trials} trials")]
    Exhausted {
        /// The sampler's name.
        sampler: String,
        /// How many trials the study holds.
        trials: u64,
    },
    /// The sampler has nothing to suggest until some running trials finish:
    /// every open Hyperband bracket waits for the rest of its rung, every
    /// PBT member is training. Not a failure, and not the end: tell the
    /// running trials' outcomes and ask again.
    #[error(
        "sampler {sampler} has nothing to suggest until some of the {running} running trials finish"
    )]
    Waiting {
        /// The sampler's name.
        sampler: String,
        /// How many trials are running.
        running: u64,
    },
    /// No trial with this id was ever asked for.
    #[error("trial {id} does not exist in this study")]
    UnknownTrial {
        /// The id given.
        id: u64,
    },
    /// The trial was already told its outcome.
    #[error("trial {id} is already finished ({state:?})")]
    TrialFinished {
        /// The trial.
        id: u64,
        /// Its final state.
        state: TrialState,
    },
    /// An objective or intermediate value is NaN or infinite.
    #[error("trial {trial}: {what} must be finite, got {value}")]
    NonFiniteValue {
        /// The trial.
        trial: u64,
        /// `value` or `intermediate value at step N`.
        what: String,
        /// The value given.
        value: f64,
    },
    /// An intermediate value was reported twice for the same step with
    /// different values.
    #[error("trial {trial}: step {step} was already reported as {previous}, now {value}")]
    ConflictingReport {
        /// The trial.
        trial: u64,
        /// The step.
        step: u64,
        /// The value reported first.
        previous: f64,
        /// The new, different value.
        value: f64,
    },
    /// A trial of a multi-objective study was told a number of values other
    /// than its number of objectives (one [`Outcome::Value`] counts as one).
    ///
    /// [`Outcome::Value`]: crate::Outcome::Value
    #[error("trial {trial}: the study has {expected} objectives, got {got} values")]
    ObjectiveCount {
        /// The trial.
        trial: u64,
        /// The study's number of objectives.
        expected: usize,
        /// The number of values told.
        got: usize,
    },
    /// Something that needs a single objective was used with a
    /// multi-objective study: a sampler that optimizes one objective only
    /// (named), a pruner, or [`Study::report`](crate::Study::report) (which
    /// names the trial).
    #[error("{what} supports a single objective only, and the study has {objectives}")]
    SingleObjectiveOnly {
        /// `sampler tpe`, `pruner`, `trial 3: report`, ...
        what: String,
        /// The study's number of objectives.
        objectives: usize,
    },
    /// Objective vectors given to [`pareto`](crate::pareto) do not fit
    /// together: vectors of different lengths, no objective at all, or a
    /// value that is not finite.
    #[error("objective vector {name}: {reason}")]
    InvalidObjectives {
        /// `points[3]` or `reference`.
        name: String,
        /// Why.
        reason: String,
    },
    /// A saved study could not be restored: malformed JSON, another format
    /// version, or a state that contradicts itself (the message says which
    /// field).
    #[error("cannot restore the study: {0}")]
    Restore(String),
    /// [`testfns::TestFunction::by_name`](crate::testfns::TestFunction::by_name)
    /// does not know the name.
    #[error("unknown test function {name:?}: {reason}")]
    UnknownTestFunction {
        /// The name given.
        name: String,
        /// What is known instead.
        reason: String,
    },
    /// A protocol file for [`protocol`](crate::protocol) is malformed or
    /// contradicts the test functions.
    #[error("protocol field {field}: {reason}")]
    Protocol {
        /// The offending field, e.g. `functions[2]` or `branin.f_star`.
        field: String,
        /// Why.
        reason: String,
    },
    /// A Katib `Experiment` cannot become a study (feature `crd`): a bad
    /// or unknown algorithm, setting, objective or trial template.
    #[error("experiment field {field}: {reason}")]
    Experiment {
        /// The offending field, e.g. `spec.algorithm.algorithmSettings[gamma]`.
        field: String,
        /// Why.
        reason: String,
    },
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn space(param: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::InvalidSpace {
            param: param.into(),
            reason: reason.into(),
        }
    }

    pub(crate) fn params(param: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::InvalidParams {
            param: param.into(),
            reason: reason.into(),
        }
    }

    #[cfg(feature = "crd")]
    pub(crate) fn experiment(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Experiment {
            field: field.into(),
            reason: reason.into(),
        }
    }

    pub(crate) fn setting(name: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::InvalidSetting {
            name: name.into(),
            reason: reason.into(),
        }
    }
}
