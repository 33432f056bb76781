//! Status conditions, read the same way across every kind that reports them.
//!
//! Upstream kinds spell conditions differently: Kubernetes' `metav1.Condition`
//! (TrainJob, Kueue), the training-operator's `JobCondition` with `lastUpdateTime`,
//! Katib's own, KServe's Knative-style ones. [`HasConditions`] views them all as
//! [`ConditionView`]s so a controller asks one question: has it succeeded, has it
//! failed, what happened last.

/// One condition, borrowed from a resource's status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConditionView<'a> {
    /// The condition type, e.g. `Succeeded`, `Complete`, `Ready`.
    pub type_: &'a str,
    /// `True`, `False` or `Unknown`.
    pub status: &'a str,
    /// Machine-readable reason, when set.
    pub reason: Option<&'a str>,
    /// Human-readable message, when set.
    pub message: Option<&'a str>,
    /// RFC 3339 time of the last transition, when set.
    pub last_transition_time: Option<String>,
    /// RFC 3339 time of the last update, when the kind records one.
    pub last_update_time: Option<String>,
}

impl ConditionView<'_> {
    /// `true` when the status is `True` (case-insensitive, as upstream controllers compare).
    pub fn is_true(&self) -> bool {
        self.status.eq_ignore_ascii_case("true")
    }

    /// The later of the update and transition times, for ordering.
    fn time(&self) -> Option<&str> {
        match (&self.last_update_time, &self.last_transition_time) {
            (Some(u), Some(t)) => Some(if u.as_str() >= t.as_str() { u } else { t }),
            (Some(u), None) => Some(u),
            (None, Some(t)) => Some(t),
            (None, None) => None,
        }
    }
}

/// A resource whose status carries conditions.
///
/// ```
/// use keelson_crd::HasConditions;
/// use keelson_crd::training_operator::v1::PyTorchJob;
///
/// let job: PyTorchJob = serde_yaml_ng::from_str(r#"
/// apiVersion: kubeflow.org/v1
/// kind: PyTorchJob
/// metadata: { name: mnist }
/// spec: { pytorchReplicaSpecs: {} }
/// status:
///   conditions:
///   - { type: Created, status: "True", lastTransitionTime: "2026-01-01T00:00:00Z" }
///   - { type: Succeeded, status: "True", lastTransitionTime: "2026-01-01T01:00:00Z" }
/// "#).unwrap();
/// assert!(job.is_succeeded());
/// assert!(!job.is_failed());
/// assert_eq!(job.latest_condition().unwrap().type_, "Succeeded");
/// ```
pub trait HasConditions {
    /// The condition types that mean the resource finished successfully.
    const SUCCEEDED: &'static [&'static str] = &["Succeeded"];
    /// The condition types that mean the resource failed.
    const FAILED: &'static [&'static str] = &["Failed"];

    /// Every condition in the status, in the order the status lists them.
    fn conditions(&self) -> Vec<ConditionView<'_>>;

    /// The condition of the given type, if present.
    fn condition(&self, type_: &str) -> Option<ConditionView<'_>> {
        self.conditions().into_iter().find(|c| c.type_ == type_)
    }

    /// The most recent condition by transition or update time; among equal or
    /// missing times, the last one listed, as controllers append.
    fn latest_condition(&self) -> Option<ConditionView<'_>> {
        let mut latest: Option<ConditionView<'_>> = None;
        for c in self.conditions() {
            let newer = match &latest {
                None => true,
                Some(l) => c.time() >= l.time(),
            };
            if newer {
                latest = Some(c);
            }
        }
        latest
    }

    /// `true` when a success condition is `True`.
    fn is_succeeded(&self) -> bool {
        self.conditions()
            .iter()
            .any(|c| Self::SUCCEEDED.contains(&c.type_) && c.is_true())
    }

    /// `true` when a failure condition is `True`.
    fn is_failed(&self) -> bool {
        self.conditions()
            .iter()
            .any(|c| Self::FAILED.contains(&c.type_) && c.is_true())
    }

    /// `true` when the resource succeeded or failed.
    fn is_finished(&self) -> bool {
        self.is_succeeded() || self.is_failed()
    }
}

/// Views a Kubernetes `metav1.Condition`.
pub fn view_meta_condition(
    c: &k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition,
) -> ConditionView<'_> {
    ConditionView {
        type_: &c.type_,
        status: &c.status,
        reason: Some(c.reason.as_str()).filter(|s| !s.is_empty()),
        message: Some(c.message.as_str()).filter(|s| !s.is_empty()),
        last_transition_time: Some(c.last_transition_time.0.to_string()),
        last_update_time: None,
    }
}

/// Implements [`HasConditions`] for kinds whose `status.conditions` is a list of
/// `metav1.Condition`, with the given success condition types.
#[cfg(any(feature = "trainer", feature = "jobset"))]
macro_rules! meta_conditions {
    ($($ty:ty => $succeeded:expr),* $(,)?) => {$(
        impl $crate::conditions::HasConditions for $ty {
            const SUCCEEDED: &'static [&'static str] = $succeeded;

            fn conditions(&self) -> Vec<$crate::conditions::ConditionView<'_>> {
                self.status
                    .iter()
                    .flat_map(|s| s.conditions.iter().flatten())
                    .map($crate::conditions::view_meta_condition)
                    .collect()
            }
        }
    )*};
}

#[allow(unused_imports)]
#[cfg(any(feature = "trainer", feature = "jobset"))]
pub(crate) use meta_conditions;
