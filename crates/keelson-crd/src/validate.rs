//! Checks that go beyond "it parses": what a reviewer of a manifest wants to know
//! before applying it.

use std::fmt;

use crate::AnyResource;
use crate::loader::Document;
use crate::roundtrip::{DifferenceKind, diff};

/// One problem found in a document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The field it is about (empty for the whole object).
    pub path: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// Problems in a loaded document: fields the upstream schema does not declare
/// (the API server would prune them), required fields left out, a missing name,
/// kinds this crate does not type, and kind-specific checks (a Katib Experiment's
/// search space and objective, a TrainJob's runtime reference).
///
/// ```
/// let docs = keelson_crd::load("job.yaml", r#"
/// apiVersion: kubeflow.org/v1
/// kind: TFJob
/// metadata: { name: mnist }
/// spec:
///   tfReplicaSpecs:
///     Worker: { replicaz: 2, template: { spec: { containers: [{ name: tf, image: tf }] } } }
/// "#).unwrap();
/// let problems = keelson_crd::validate::validate(&docs[0]);
/// assert_eq!(problems[0].path, "spec.tfReplicaSpecs.Worker.replicaz");
/// ```
pub fn validate(document: &Document) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut push = |path: &str, message: String| {
        problems.push(Problem {
            path: path.to_owned(),
            message,
        })
    };
    let resource = &document.resource;
    let meta = resource.metadata();
    if meta.name.as_deref().is_none_or(str::is_empty)
        && meta.generate_name.as_deref().is_none_or(str::is_empty)
    {
        push("metadata.name", "is missing".into());
    }
    if let AnyResource::Unknown(_) = resource {
        push(
            "",
            format!(
                "{} {} is not a kind keelson-crd types; passed through unchecked",
                resource.api_version(),
                resource.kind()
            ),
        );
        return problems;
    }
    for field in &document.ignored_fields {
        push(
            field,
            format!(
                "unknown field: the {} schema does not declare it (the API server prunes it)",
                resource.kind()
            ),
        );
    }
    if resource.is_typed() {
        match resource.to_value() {
            Ok(written) => {
                for d in diff(&document.raw, &written, &document.ignored_fields) {
                    match d.kind {
                        DifferenceKind::DefaultAdded => {
                            push(&d.path, "required field is missing".into())
                        }
                        DifferenceKind::Changed => push(
                            &d.path,
                            "would change when written back (a keelson-crd bug: please report it)"
                                .into(),
                        ),
                        _ => {}
                    }
                }
            }
            Err(e) => push("", format!("cannot be written back: {e}")),
        }
    }
    kind_checks(resource, &mut push);
    problems
}

#[allow(unused_variables)]
fn kind_checks(resource: &AnyResource, push: &mut impl FnMut(&str, String)) {
    let mut report = |e: crate::Error| {
        let path = e
            .location()
            .and_then(|l| l.path.clone())
            .unwrap_or_default();
        let message = match &e {
            crate::Error::Invalid { message, .. } => message.clone(),
            other => other.to_string(),
        };
        push(&path, message);
    };
    match resource {
        #[cfg(feature = "katib")]
        AnyResource::Experiment(experiment) => {
            if let Err(e) = experiment.search_space() {
                report(e);
            }
            if let Err(e) = experiment.objective() {
                report(e);
            }
        }
        #[cfg(feature = "trainer")]
        AnyResource::TrainJob(job) => {
            if let Err(e) = job.runtime_kind() {
                report(e);
            }
        }
        _ => {}
    }
}
