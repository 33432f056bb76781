//! Katib: Experiment, Trial and Suggestion (`kubeflow.org/v1beta1`).
//!
//! Katib's `CustomResourceDefinition`s declare no schema at all: every object is
//! `x-kubernetes-preserve-unknown-fields`. The types here therefore follow Katib's Go
//! API (`pkg/apis/controller/{experiments,trials,suggestions,common}/v1beta1`) field
//! by field, with the JSON names of its struct tags. Every field Go marks `omitempty`
//! is an [`Option`], so a manifest read and written back keeps exactly the fields it
//! had.
//!
//! Katib stores numbers of a search space as strings (`min: "0.01"`); the helpers in
//! [`v1beta1`] ([`Experiment::search_space`](v1beta1::Experiment::search_space),
//! [`Experiment::objective`](v1beta1::Experiment::objective),
//! [`Experiment::trial_counts`](v1beta1::Experiment::trial_counts)) turn them into
//! plain Rust values, check them the way Katib's admission webhook does, and name the
//! offending field when they are wrong.
//!
//! ```
//! use keelson_crd::katib::v1beta1::{Experiment, ObjectiveKind, ParameterKind};
//!
//! let exp: Experiment = serde_yaml_ng::from_str(r#"
//! apiVersion: kubeflow.org/v1beta1
//! kind: Experiment
//! metadata: { name: random, namespace: kubeflow }
//! spec:
//!   objective: { type: minimize, goal: 0.001, objectiveMetricName: loss }
//!   algorithm: { algorithmName: random }
//!   parameters:
//!   - name: lr
//!     parameterType: double
//!     feasibleSpace: { min: "0.01", max: "0.05" }
//! "#)?;
//! let space = exp.search_space()?;
//! assert!(matches!(space.parameters[0].kind, ParameterKind::Double { min, max, .. } if min == 0.01 && max == 0.05));
//! assert_eq!(exp.objective()?.kind, ObjectiveKind::Minimize);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod v1beta1;
