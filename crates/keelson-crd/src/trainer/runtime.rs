//! Resolving a `TrainJob` against the runtime it references.
//!
//! A TrainJob names a `ClusterTrainingRuntime` (the default) or a `TrainingRuntime`
//! in its own namespace; the runtime holds the JobSet template and the ML policy,
//! and the TrainJob's `trainer` block overrides parts of it. This module does that
//! merge for the questions a scheduler or admission controller asks first: how
//! many nodes, and what each node requests.

use k8s_openapi::api::core::v1::{Container, ResourceRequirements};

use super::v1alpha1::{
    ClusterTrainingRuntime, TrainJob, TrainingRuntime, TrainingRuntimeReplicatedJob,
    TrainingRuntimeSpec,
};
use crate::error::{Error, Result};

/// The API group of Trainer's kinds.
pub const GROUP: &str = "trainer.kubeflow.org";
/// Label that marks the replicated job running the trainer, on its template.
pub const ANCESTOR_LABEL: &str = "trainer.kubeflow.org/trainjob-ancestor-step";
/// Value of [`ANCESTOR_LABEL`] on the trainer's replicated job.
pub const TRAINER_ANCESTOR: &str = "trainer";
/// Name of the replicated job (and its container) that runs the trainer when no
/// job carries [`ANCESTOR_LABEL`].
pub const NODE: &str = "node";

/// Which kind of runtime a TrainJob references.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuntimeKind {
    /// A namespaced `TrainingRuntime`, in the TrainJob's namespace.
    TrainingRuntime,
    /// A cluster-scoped `ClusterTrainingRuntime` (upstream's default).
    ClusterTrainingRuntime,
}

/// A runtime found for a TrainJob.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ResolvedRuntime<'a> {
    /// Its kind.
    pub kind: RuntimeKind,
    /// Its name.
    pub name: &'a str,
    /// Its spec.
    pub spec: &'a TrainingRuntimeSpec,
}

/// What the trainer will run with once the TrainJob's overrides are applied.
#[derive(Clone, Debug, PartialEq)]
pub struct EffectiveTrainer {
    /// Name of the runtime's replicated job that runs the trainer.
    pub replicated_job: String,
    /// Number of training nodes (pods).
    pub num_nodes: i32,
    /// Resources each node's trainer container requests, if any are set.
    pub resources_per_node: Option<ResourceRequirements>,
    /// The trainer image.
    pub image: Option<String>,
    /// Processes per node, where the TrainJob or the MPI policy sets it.
    pub num_proc_per_node: Option<i32>,
}

impl TrainJob {
    /// The kind of runtime `spec.runtimeRef` names, with upstream's default.
    pub fn runtime_kind(&self) -> Result<RuntimeKind> {
        let reference = self.spec.as_ref().map(|s| &s.runtime_ref);
        if let Some(group) = reference.and_then(|r| r.api_group.as_deref())
            && group != GROUP
        {
            return Err(Error::invalid(
                "spec.runtimeRef.apiGroup",
                format!("`{group}` is not `{GROUP}`"),
            ));
        }
        match reference.and_then(|r| r.kind.as_deref()) {
            None | Some("ClusterTrainingRuntime") => Ok(RuntimeKind::ClusterTrainingRuntime),
            Some("TrainingRuntime") => Ok(RuntimeKind::TrainingRuntime),
            Some(other) => Err(Error::invalid(
                "spec.runtimeRef.kind",
                format!("`{other}` is neither TrainingRuntime nor ClusterTrainingRuntime"),
            )),
        }
    }

    /// Finds the runtime this TrainJob references among those given. A
    /// `TrainingRuntime` must be in the TrainJob's namespace.
    ///
    /// ```
    /// use keelson_crd::trainer::v1alpha1::{ClusterTrainingRuntime, TrainJob};
    ///
    /// let runtime: ClusterTrainingRuntime = serde_yaml_ng::from_str(r#"
    /// apiVersion: trainer.kubeflow.org/v1alpha1
    /// kind: ClusterTrainingRuntime
    /// metadata: { name: torch-distributed }
    /// spec:
    ///   mlPolicy: { numNodes: 1, torch: {} }
    ///   template:
    ///     spec:
    ///       replicatedJobs:
    ///       - name: node
    ///         template:
    ///           spec:
    ///             template:
    ///               spec:
    ///                 containers:
    ///                 - name: node
    ///                   image: pytorch/pytorch:2.5.0
    ///                   resources: { limits: { nvidia.com/gpu: 1 } }
    /// "#).unwrap();
    /// let job: TrainJob = serde_yaml_ng::from_str(r#"
    /// apiVersion: trainer.kubeflow.org/v1alpha1
    /// kind: TrainJob
    /// metadata: { name: fine-tune, namespace: team-a }
    /// spec:
    ///   runtimeRef: { name: torch-distributed }
    ///   trainer: { numNodes: 4 }
    /// "#).unwrap();
    ///
    /// let resolved = job.resolve_runtime(&[], std::slice::from_ref(&runtime)).unwrap();
    /// let trainer = job.effective_trainer(&resolved).unwrap();
    /// assert_eq!(trainer.num_nodes, 4);
    /// assert_eq!(trainer.image.as_deref(), Some("pytorch/pytorch:2.5.0"));
    /// let limits = trainer.resources_per_node.unwrap().limits.unwrap();
    /// assert_eq!(limits["nvidia.com/gpu"].0, "1");
    /// ```
    pub fn resolve_runtime<'a>(
        &self,
        runtimes: &'a [TrainingRuntime],
        cluster_runtimes: &'a [ClusterTrainingRuntime],
    ) -> Result<ResolvedRuntime<'a>> {
        let name = self
            .spec
            .as_ref()
            .map(|s| s.runtime_ref.name.as_str())
            .filter(|n| !n.is_empty())
            .ok_or_else(|| Error::invalid("spec.runtimeRef.name", "is missing"))?;
        let missing = |kind: &str| {
            Error::invalid(
                "spec.runtimeRef.name",
                format!("no {kind} named `{name}` among the runtimes given"),
            )
        };
        let spec_of = |spec: Option<&'a TrainingRuntimeSpec>,
                       kind: &str|
         -> Result<&'a TrainingRuntimeSpec> {
            spec.ok_or_else(|| {
                Error::invalid(
                    "spec.runtimeRef.name",
                    format!("{kind} `{name}` has no spec"),
                )
            })
        };
        match self.runtime_kind()? {
            RuntimeKind::ClusterTrainingRuntime => {
                let runtime = cluster_runtimes
                    .iter()
                    .find(|r| r.metadata.name.as_deref() == Some(name))
                    .ok_or_else(|| missing("ClusterTrainingRuntime"))?;
                Ok(ResolvedRuntime {
                    kind: RuntimeKind::ClusterTrainingRuntime,
                    name: runtime.metadata.name.as_deref().unwrap_or_default(),
                    spec: spec_of(runtime.spec.as_ref(), "ClusterTrainingRuntime")?,
                })
            }
            RuntimeKind::TrainingRuntime => {
                let namespace = self.metadata.namespace.as_deref();
                let runtime = runtimes
                    .iter()
                    .find(|r| {
                        r.metadata.name.as_deref() == Some(name)
                            && r.metadata.namespace.as_deref() == namespace
                    })
                    .ok_or_else(|| missing("TrainingRuntime in the TrainJob's namespace"))?;
                Ok(ResolvedRuntime {
                    kind: RuntimeKind::TrainingRuntime,
                    name: runtime.metadata.name.as_deref().unwrap_or_default(),
                    spec: spec_of(runtime.spec.as_ref(), "TrainingRuntime")?,
                })
            }
        }
    }

    /// The trainer's effective node count and per-node resources: the TrainJob's
    /// `trainer` values where set, else the runtime's (`mlPolicy.numNodes`, the
    /// trainer container's resources), else one node.
    pub fn effective_trainer(&self, runtime: &ResolvedRuntime<'_>) -> Result<EffectiveTrainer> {
        let job = trainer_job(runtime.spec).ok_or_else(|| {
            Error::invalid(
                "spec.template.spec.replicatedJobs",
                format!(
                    "runtime `{}` has no replicated job labelled {ANCESTOR_LABEL}={TRAINER_ANCESTOR} or named `{NODE}`",
                    runtime.name
                ),
            )
        })?;
        let container = trainer_container(job);
        let overrides = self.spec.as_ref().and_then(|s| s.trainer.as_ref());
        let policy = runtime.spec.ml_policy.as_ref();
        let num_nodes = overrides
            .and_then(|t| t.num_nodes)
            .or_else(|| policy.and_then(|p| p.num_nodes))
            .unwrap_or(1);
        if num_nodes < 1 {
            return Err(Error::invalid(
                "spec.trainer.numNodes",
                format!("must be at least 1, got {num_nodes}"),
            ));
        }
        Ok(EffectiveTrainer {
            replicated_job: job.name.clone(),
            num_nodes,
            resources_per_node: overrides
                .and_then(|t| t.resources_per_node.clone())
                .or_else(|| container.and_then(|c| c.resources.clone())),
            image: overrides
                .and_then(|t| t.image.clone())
                .or_else(|| container.and_then(|c| c.image.clone())),
            num_proc_per_node: overrides.and_then(|t| t.num_proc_per_node).or_else(|| {
                policy
                    .and_then(|p| p.mpi.as_ref())
                    .and_then(|m| m.num_proc_per_node)
            }),
        })
    }
}

/// The runtime's replicated job that runs the trainer.
fn trainer_job(spec: &TrainingRuntimeSpec) -> Option<&TrainingRuntimeReplicatedJob> {
    let jobs = spec
        .template
        .as_ref()?
        .spec
        .as_ref()?
        .replicated_jobs
        .as_ref()?;
    jobs.iter()
        .find(|j| {
            j.template
                .metadata
                .as_ref()
                .and_then(|m| m.labels.as_ref())
                .and_then(|l| l.get(ANCESTOR_LABEL))
                .is_some_and(|v| v == TRAINER_ANCESTOR)
        })
        .or_else(|| jobs.iter().find(|j| j.name == NODE))
}

/// The trainer container: the one named `node`, else the first.
fn trainer_container(job: &TrainingRuntimeReplicatedJob) -> Option<&Container> {
    let containers = &job
        .template
        .spec
        .as_ref()?
        .template
        .spec
        .as_ref()?
        .containers;
    containers
        .iter()
        .find(|c| c.name == NODE)
        .or_else(|| containers.first())
}
