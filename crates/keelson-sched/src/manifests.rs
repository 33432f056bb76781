//! Admission set-ups and workloads from real manifests (feature `crd`).
//!
//! Kueue's `ResourceFlavor`, `Cohort`, `ClusterQueue` and `LocalQueue`
//! objects become a [`Setup`]; Kueue `Workload`s, `JobSet`s and Trainer
//! `TrainJob`s (resolved against their `TrainingRuntime` or
//! `ClusterTrainingRuntime`) become [`Workload`]s. The objects are
//! keelson-crd's typed kinds, as its loader reads them; `v1beta1` Kueue
//! objects are read as `v1beta2`, the way Kueue's conversion does
//! (`cohort` → `cohortName`, fungibility `Borrow`/`Preempt` →
//! `MayStopSearch`).
//!
//! Errors are [`Error::Manifest`], naming the object (`kind/namespace/name`)
//! and the field, or [`Error::Unsupported`] for a field whose meaning this
//! crate does not model (`docs/sched.md`, "From manifests", lists both).
//!
//! ```
//! use keelson_sched::manifests::Manifests;
//! use keelson_sched::{Decision, Scheduler};
//!
//! let docs = keelson_crd::load("team.yaml", r#"
//! apiVersion: kueue.x-k8s.io/v1beta2
//! kind: ResourceFlavor
//! metadata: { name: a100 }
//! ---
//! apiVersion: kueue.x-k8s.io/v1beta2
//! kind: ClusterQueue
//! metadata: { name: team-a }
//! spec:
//!   resourceGroups:
//!   - coveredResources: [cpu, nvidia.com/gpu]
//!     flavors:
//!     - name: a100
//!       resources: [{ name: cpu, nominalQuota: 32 }, { name: nvidia.com/gpu, nominalQuota: 4 }]
//! ---
//! apiVersion: kueue.x-k8s.io/v1beta2
//! kind: LocalQueue
//! metadata: { name: main, namespace: team-a }
//! spec: { clusterQueue: team-a }
//! ---
//! apiVersion: jobset.x-k8s.io/v1alpha2
//! kind: JobSet
//! metadata: { name: train, namespace: team-a, labels: { kueue.x-k8s.io/queue-name: main } }
//! spec:
//!   replicatedJobs:
//!   - name: workers
//!     replicas: 2
//!     template:
//!       spec:
//!         parallelism: 2
//!         template:
//!           spec:
//!             containers:
//!             - name: trainer
//!               image: trainer:1
//!               resources: { limits: { cpu: 2, nvidia.com/gpu: 1 } }
//! "#).unwrap();
//! let manifests = Manifests::from_documents(&docs)?;
//! let mut scheduler = Scheduler::new(manifests.setup()?)?;
//! let jobs = manifests.workloads().into_iter().collect::<Result<Vec<_>, _>>()?;
//! // 2 replicas × parallelism 2; requests default to the limits.
//! assert_eq!(jobs[0].pod_sets[0].count, 4);
//! assert_eq!(jobs[0].total()?.get("nvidia.com/gpu").units_ceil(), 4);
//! for job in jobs {
//!     scheduler.submit(job)?;
//! }
//! assert!(matches!(&scheduler.cycle()[0], Decision::Admitted(a) if a.workload == "team-a/train"));
//! # Ok::<(), keelson_sched::Error>(())
//! ```

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity as KubeQuantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use keelson_crd::jobset::v1alpha2::JobSet;
use keelson_crd::kueue::v1beta2;
use keelson_crd::trainer::v1alpha1::{ClusterTrainingRuntime, TrainJob, TrainingRuntime};
use keelson_crd::{AnyResource, Document};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::admission::Setup;
use crate::cluster_queue::{
    BorrowWithinCohort, BorrowWithinCohortPolicy, ClusterQueue, FairSharing, FlavorFungibility,
    FlavorQuotas, FungibilityPolicy, Preemption, QueueingStrategy, ReclaimWithinCohort,
    ResourceGroup, ResourceQuota, WithinClusterQueue,
};
use crate::cohort::Cohort;
use crate::flavor::ResourceFlavor;
use crate::local_queue::LocalQueue;
use crate::quantity::Quantity;
use crate::resources::Resources;
use crate::workload::{
    PodSet, Taint, TaintEffect, Toleration, TolerationOperator, TopologyRequest, Workload,
};
use crate::{Error, Result};

/// The label that names a job's LocalQueue.
pub const QUEUE_LABEL: &str = "kueue.x-k8s.io/queue-name";
/// The label that names a job's `WorkloadPriorityClass`.
pub const PRIORITY_CLASS_LABEL: &str = "kueue.x-k8s.io/priority-class";
/// Pod-template annotation: every pod of the set in one domain of this
/// topology level (a node label).
pub const REQUIRED_TOPOLOGY: &str = "kueue.x-k8s.io/podset-required-topology";
/// Pod-template annotation: the pods of the set in as few domains of this
/// topology level as possible.
pub const PREFERRED_TOPOLOGY: &str = "kueue.x-k8s.io/podset-preferred-topology";

/// The Kueue, Trainer and JobSet objects of a set of manifests, ready to
/// become a [`Setup`] and [`Workload`]s.
///
/// Objects are kept in the order they were added; other kinds are skipped.
/// `WorkloadPriorityClass` (Kueue) and `PriorityClass` (Kubernetes) objects
/// give the priorities their names stand for.
#[derive(Clone, Debug, Default)]
pub struct Manifests {
    flavors: Vec<v1beta2::ResourceFlavor>,
    cohorts: Vec<v1beta2::Cohort>,
    cluster_queues: Vec<v1beta2::ClusterQueue>,
    local_queues: Vec<v1beta2::LocalQueue>,
    jobs: Vec<JobObject>,
    training_runtimes: Vec<TrainingRuntime>,
    cluster_training_runtimes: Vec<ClusterTrainingRuntime>,
    workload_priority_classes: BTreeMap<String, i32>,
    priority_classes: BTreeMap<String, i32>,
    default_queue: Option<String>,
}

/// An object that becomes a workload.
#[derive(Clone, Debug)]
enum JobObject {
    Kueue(Box<v1beta2::Workload>),
    JobSet(Box<JobSet>),
    TrainJob(Box<TrainJob>),
}

impl Manifests {
    /// No objects.
    pub fn new() -> Manifests {
        Manifests::default()
    }

    /// The objects of loaded documents, in order.
    pub fn from_documents(documents: &[Document]) -> Result<Manifests> {
        let mut manifests = Manifests::new();
        for document in documents {
            manifests.add(&document.resource)?;
        }
        Ok(manifests)
    }

    /// Jobs without a [`QUEUE_LABEL`] go to the LocalQueue `name` of their
    /// namespace, as with Kueue's `manageJobsWithoutQueueName` and a
    /// namespace's default LocalQueue. Without it they are refused: Kueue
    /// leaves them alone.
    pub fn with_default_queue(mut self, name: impl Into<String>) -> Manifests {
        self.default_queue = Some(name.into());
        self
    }

    /// Adds one object; `Ok(false)` when its kind plays no part here. An
    /// error names a `v1beta1` object that cannot be read as `v1beta2`, or
    /// a priority class without an integer `value`.
    pub fn add(&mut self, resource: &AnyResource) -> Result<bool> {
        match resource {
            AnyResource::ResourceFlavor(f) => self.flavors.push((**f).clone()),
            AnyResource::Cohort(c) => self.cohorts.push((**c).clone()),
            AnyResource::ClusterQueue(q) => self.cluster_queues.push((**q).clone()),
            AnyResource::LocalQueue(q) => self.local_queues.push((**q).clone()),
            AnyResource::Workload(w) => self.jobs.push(JobObject::Kueue(w.clone())),
            AnyResource::ResourceFlavorV1beta1(f) => self.flavors.push(v1beta2::ResourceFlavor {
                metadata: f.metadata.clone(),
                spec: upgrade("ResourceFlavor", &f.metadata, &f.spec, |_| {})?,
            }),
            AnyResource::CohortV1beta1(c) => self.cohorts.push(v1beta2::Cohort {
                metadata: c.metadata.clone(),
                spec: upgrade("Cohort", &c.metadata, &c.spec, |_| {})?,
                status: None,
            }),
            AnyResource::ClusterQueueV1beta1(q) => {
                self.cluster_queues.push(v1beta2::ClusterQueue {
                    metadata: q.metadata.clone(),
                    spec: upgrade("ClusterQueue", &q.metadata, &q.spec, |spec| {
                        rename(spec, "cohort", "cohortName");
                        upgrade_fungibility(spec);
                    })?,
                    status: None,
                })
            }
            AnyResource::LocalQueueV1beta1(q) => self.local_queues.push(v1beta2::LocalQueue {
                metadata: q.metadata.clone(),
                spec: upgrade("LocalQueue", &q.metadata, &q.spec, |_| {})?,
                status: None,
            }),
            AnyResource::WorkloadV1beta1(w) => {
                self.jobs.push(JobObject::Kueue(Box::new(v1beta2::Workload {
                    metadata: w.metadata.clone(),
                    spec: upgrade("Workload", &w.metadata, &w.spec, upgrade_priority_class)?,
                    status: None,
                })))
            }
            AnyResource::JobSet(j) => self.jobs.push(JobObject::JobSet(j.clone())),
            AnyResource::TrainJob(j) => self.jobs.push(JobObject::TrainJob(j.clone())),
            AnyResource::TrainingRuntime(r) => self.training_runtimes.push((**r).clone()),
            AnyResource::ClusterTrainingRuntime(r) => {
                self.cluster_training_runtimes.push((**r).clone())
            }
            AnyResource::Core(o) | AnyResource::Unknown(o) => {
                let Some(types) = &o.types else {
                    return Ok(false);
                };
                let group = types.api_version.rsplit_once('/').map(|(g, _)| g);
                let classes = match (group, types.kind.as_str()) {
                    (Some("kueue.x-k8s.io"), "WorkloadPriorityClass") => {
                        &mut self.workload_priority_classes
                    }
                    (Some("scheduling.k8s.io"), "PriorityClass") => &mut self.priority_classes,
                    _ => return Ok(false),
                };
                let ctx = Ctx::new(&types.kind, &o.metadata);
                let name = ctx.name(&o.metadata)?;
                let value = o
                    .data
                    .get("value")
                    .and_then(serde_json::Value::as_i64)
                    .and_then(|v| i32::try_from(v).ok())
                    .ok_or_else(|| ctx.err("value", "must be a 32-bit integer"))?;
                classes.insert(name, value);
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// The admission set-up: every ResourceFlavor, Cohort, ClusterQueue and
    /// LocalQueue, converted and cross-checked. Errors name the object and
    /// field: a name given twice, a flavor no ResourceFlavor defines, a
    /// cohort cycle, a LocalQueue whose ClusterQueue is missing, and every
    /// per-object error of [`cluster_queue`] and the others.
    /// [`Scheduler::new`](crate::Scheduler::new) checks the rest (quotas
    /// against their groups). Fair sharing is a setting of Kueue's
    /// configuration, not of an object: set [`Setup::fair_sharing`].
    pub fn setup(&self) -> Result<Setup> {
        let mut names = BTreeSet::new();
        let mut flavors = Vec::with_capacity(self.flavors.len());
        for f in &self.flavors {
            let flavor = resource_flavor(f)?;
            unique(&mut names, "ResourceFlavor", &f.metadata, &flavor.name)?;
            flavors.push(flavor);
        }
        let flavor_names = names;

        let mut names = BTreeSet::new();
        let mut cohorts = Vec::with_capacity(self.cohorts.len());
        for c in &self.cohorts {
            let converted = cohort(c)?;
            unique(&mut names, "Cohort", &c.metadata, &converted.name)?;
            let groups = c.spec.as_ref().and_then(|s| s.resource_groups.as_ref());
            known_flavors(&Ctx::new("Cohort", &c.metadata), groups, &flavor_names)?;
            cohorts.push(converted);
        }
        check_cohort_cycles(&self.cohorts, &cohorts)?;

        let mut names = BTreeSet::new();
        let mut cluster_queues = Vec::with_capacity(self.cluster_queues.len());
        for q in &self.cluster_queues {
            let converted = cluster_queue(q)?;
            unique(&mut names, "ClusterQueue", &q.metadata, &converted.name)?;
            let groups = q.spec.as_ref().and_then(|s| s.resource_groups.as_ref());
            known_flavors(
                &Ctx::new("ClusterQueue", &q.metadata),
                groups,
                &flavor_names,
            )?;
            cluster_queues.push(converted);
        }
        let queue_names = names;

        let mut names = BTreeSet::new();
        let mut local_queues = Vec::with_capacity(self.local_queues.len());
        for q in &self.local_queues {
            let converted = local_queue(q)?;
            let ctx = Ctx::new("LocalQueue", &q.metadata);
            let key = format!("{}/{}", converted.namespace, converted.name);
            if !names.insert(key) {
                return Err(ctx.err("metadata.name", "LocalQueue given twice"));
            }
            if !queue_names.contains(&converted.cluster_queue) {
                return Err(ctx.err(
                    "spec.clusterQueue",
                    format!(
                        "ClusterQueue {} is not among the manifests",
                        converted.cluster_queue
                    ),
                ));
            }
            local_queues.push(converted);
        }
        Ok(Setup {
            flavors,
            cohorts,
            cluster_queues,
            local_queues,
            fair_sharing: None,
        })
    }

    /// One result per Kueue Workload, JobSet and TrainJob, in the order
    /// they were added; each error names its object.
    ///
    /// * The workload is `namespace/name` (namespace `default` when none),
    ///   created at the object's `creationTimestamp` in Unix seconds (0 when
    ///   unset: the scheduler then orders by name).
    /// * Queue: a Workload's `spec.queueName`, else the [`QUEUE_LABEL`],
    ///   else the default queue ([`Manifests::with_default_queue`]).
    /// * Priority: a Workload's `spec.priority`; else the priority class its
    ///   `priorityClassRef` or [`PRIORITY_CLASS_LABEL`] names; else the
    ///   `priority` or `priorityClassName` of the first pod template that
    ///   sets one; else 0.
    /// * A JobSet has one pod set per replicated job, of `replicas` ×
    ///   `parallelism` pods (fewer when `completions` is lower); a TrainJob
    ///   has its runtime's replicated jobs, the trainer's with `numNodes`
    ///   pods and the TrainJob's `resourcesPerNode`. Replicated jobs of no
    ///   pods are left out.
    /// * Per-pod requests are what Kubernetes schedules a pod by: see
    ///   [`pod_requests`].
    pub fn workloads(&self) -> Vec<Result<Workload>> {
        self.jobs
            .iter()
            .map(|job| match job {
                JobObject::Kueue(w) => self.kueue_workload(w),
                JobObject::JobSet(j) => self.jobset_workload(j),
                JobObject::TrainJob(j) => self.train_job_workload(j),
            })
            .collect()
    }

    fn kueue_workload(&self, wl: &v1beta2::Workload) -> Result<Workload> {
        let ctx = Ctx::new("Workload", &wl.metadata);
        let default = v1beta2::WorkloadSpec::default();
        let spec = wl.spec.as_ref().unwrap_or(&default);
        let mut pod_sets = Vec::new();
        for (i, ps) in spec.pod_sets.iter().flatten().enumerate() {
            let field = format!("spec.podSets[{i}]");
            let pods = count(&ctx, &format!("{field}.count"), ps.count.unwrap_or(1))?;
            let name = ps.name.clone().unwrap_or_else(|| "main".to_owned());
            let mut pod_set =
                pod_set(&ctx, &format!("{field}.template"), name, pods, &ps.template)?;
            if let Some(min) = ps.min_count {
                pod_set.min_count = Some(count(&ctx, &format!("{field}.minCount"), min)?);
            }
            if let Some(t) = &ps.topology_request {
                pod_set.topology = topology_request(t.required.as_ref(), t.preferred.as_ref());
            }
            pod_sets.push(pod_set);
        }
        let priority = match (spec.priority, &spec.priority_class_ref) {
            (Some(p), _) => p,
            (None, Some(class)) => {
                let classes = match class.kind {
                    v1beta2::Kind::PriorityClass => &self.priority_classes,
                    _ => &self.workload_priority_classes,
                };
                lookup(&ctx, "spec.priorityClassRef.name", classes, &class.name)?
            }
            (None, None) => 0,
        };
        let labels = wl.metadata.labels.as_ref();
        let queue = match spec.queue_name.as_deref().filter(|q| !q.is_empty()) {
            Some(q) => q.to_owned(),
            None => self.queue(&ctx, labels)?,
        };
        finish(&ctx, &wl.metadata, queue, priority, pod_sets)
    }

    fn jobset_workload(&self, js: &JobSet) -> Result<Workload> {
        let ctx = Ctx::new("JobSet", &js.metadata);
        let mut pod_sets = Vec::new();
        let mut templates = Vec::new();
        let jobs = js
            .spec
            .iter()
            .flat_map(|s| s.replicated_jobs.iter().flatten());
        for (i, rj) in jobs.enumerate() {
            let field = format!("spec.replicatedJobs[{i}]");
            let job = rj.template.spec.as_ref();
            let pods = job_pods(&ctx, &field, rj.replicas, job)?;
            if pods == 0 {
                continue;
            }
            let template = job
                .map(|j| &j.template)
                .ok_or_else(|| ctx.err(format!("{field}.template.spec"), "no Job spec"))?;
            let tfield = format!("{field}.template.spec.template");
            pod_sets.push(pod_set(&ctx, &tfield, rj.name.clone(), pods, template)?);
            templates.push(template);
        }
        let priority = self.job_priority(&ctx, js.metadata.labels.as_ref(), &templates)?;
        let queue = self.queue(&ctx, js.metadata.labels.as_ref())?;
        finish(&ctx, &js.metadata, queue, priority, pod_sets)
    }

    fn train_job_workload(&self, tj: &TrainJob) -> Result<Workload> {
        let ctx = Ctx::new("TrainJob", &tj.metadata);
        if tj
            .spec
            .as_ref()
            .and_then(|s| s.runtime_patches.as_ref())
            .is_some_and(|p| !p.is_empty())
        {
            return Err(ctx.unsupported("spec.runtimePatches"));
        }
        let runtime = tj
            .resolve_runtime(&self.training_runtimes, &self.cluster_training_runtimes)
            .map_err(|e| ctx.err("spec.runtimeRef", e.to_string()))?;
        let trainer = tj
            .effective_trainer(&runtime)
            .map_err(|e| ctx.err("spec.trainer", e.to_string()))?;
        let launcher_is_node = runtime
            .spec
            .ml_policy
            .as_ref()
            .and_then(|p| p.mpi.as_ref())
            .and_then(|m| m.run_launcher_as_node)
            .unwrap_or(false);
        let jobs = runtime
            .spec
            .template
            .iter()
            .filter_map(|t| t.spec.as_ref())
            .flat_map(|s| s.replicated_jobs.iter().flatten());
        let mut pod_sets = Vec::new();
        let mut owned = Vec::new();
        for (i, rj) in jobs.enumerate() {
            let field = format!(
                "{} {}: spec.template.spec.replicatedJobs[{i}]",
                kind_name(runtime.kind),
                runtime.name
            );
            let job = rj.template.spec.as_ref();
            let Some(job_spec) = job else {
                return Err(ctx.err(format!("{field}.template.spec"), "no Job spec"));
            };
            let mut template = job_spec.template.clone();
            let pods = if rj.name == trainer.replicated_job {
                // The trainer's Job runs one pod per node; with an MPI launcher
                // that trains too, the launcher is one of the nodes.
                let nodes = i64::from(trainer.num_nodes) - i64::from(launcher_is_node);
                if let (Some(resources), Some(spec)) =
                    (&trainer.resources_per_node, template.spec.as_mut())
                {
                    let at = spec
                        .containers
                        .iter()
                        .position(|c| c.name == keelson_crd::trainer::runtime::NODE)
                        .unwrap_or(0);
                    if let Some(container) = spec.containers.get_mut(at) {
                        container.resources = Some(resources.clone());
                    }
                }
                u32::try_from(nodes.max(0))
                    .map_err(|_| ctx.err("spec.trainer.numNodes", "too many nodes"))?
            } else {
                job_pods(&ctx, &field, rj.replicas, job)?
            };
            if pods == 0 {
                continue;
            }
            let tfield = format!("{field}.template.spec.template");
            pod_sets.push(pod_set(&ctx, &tfield, rj.name.clone(), pods, &template)?);
            owned.push(template);
        }
        let templates: Vec<&core::PodTemplateSpec> = owned.iter().collect();
        let priority = self.job_priority(&ctx, tj.metadata.labels.as_ref(), &templates)?;
        let queue = self.queue(&ctx, tj.metadata.labels.as_ref())?;
        finish(&ctx, &tj.metadata, queue, priority, pod_sets)
    }

    fn queue(&self, ctx: &Ctx, labels: Option<&BTreeMap<String, String>>) -> Result<String> {
        match labels.and_then(|l| l.get(QUEUE_LABEL)) {
            Some(q) if !q.is_empty() => Ok(q.clone()),
            Some(_) => Err(ctx.err(format!("metadata.labels[{QUEUE_LABEL}]"), "is empty")),
            None => self.default_queue.clone().ok_or_else(|| {
                ctx.err(
                    "metadata.labels",
                    format!("no {QUEUE_LABEL} label: Kueue does not manage the job"),
                )
            }),
        }
    }

    fn job_priority(
        &self,
        ctx: &Ctx,
        labels: Option<&BTreeMap<String, String>>,
        templates: &[&core::PodTemplateSpec],
    ) -> Result<i32> {
        if let Some(class) = labels.and_then(|l| l.get(PRIORITY_CLASS_LABEL)) {
            let field = format!("metadata.labels[{PRIORITY_CLASS_LABEL}]");
            return lookup(ctx, &field, &self.workload_priority_classes, class);
        }
        for t in templates {
            let Some(spec) = &t.spec else { continue };
            if let Some(p) = spec.priority {
                return Ok(p);
            }
            if let Some(class) = &spec.priority_class_name {
                return lookup(ctx, "priorityClassName", &self.priority_classes, class);
            }
        }
        Ok(0)
    }
}

/// A ResourceFlavor: its node labels, node taints and tolerations
/// (`topologyName` is left to placement, which takes topology from nodes).
pub fn resource_flavor(flavor: &v1beta2::ResourceFlavor) -> Result<ResourceFlavor> {
    let ctx = Ctx::new("ResourceFlavor", &flavor.metadata);
    let mut out = ResourceFlavor::new(ctx.name(&flavor.metadata)?);
    let Some(spec) = &flavor.spec else {
        return Ok(out);
    };
    out.node_labels = spec.node_labels.clone().unwrap_or_default();
    for (i, t) in spec.node_taints.iter().flatten().enumerate() {
        let field = format!("spec.nodeTaints[{i}]");
        out.taints.push(Taint {
            key: t.key.clone(),
            value: t.value.clone().unwrap_or_default(),
            effect: taint_effect(&ctx, &format!("{field}.effect"), &t.effect)?,
        });
    }
    for (i, t) in spec.tolerations.iter().flatten().enumerate() {
        out.tolerations
            .push(toleration(&ctx, &format!("spec.tolerations[{i}]"), t)?);
    }
    Ok(out)
}

/// A Cohort: its parent, its own quota and its fair-sharing weight.
pub fn cohort(cohort: &v1beta2::Cohort) -> Result<Cohort> {
    let ctx = Ctx::new("Cohort", &cohort.metadata);
    let mut out = Cohort::new(ctx.name(&cohort.metadata)?);
    let Some(spec) = &cohort.spec else {
        return Ok(out);
    };
    out.parent = spec.parent_name.clone().filter(|p| !p.is_empty());
    out.resource_groups = resource_groups(&ctx, spec.resource_groups.as_ref())?;
    out.fair_sharing = fair_sharing(&ctx, spec.fair_sharing.as_ref())?;
    Ok(out)
}

/// A ClusterQueue: cohort, resource groups with their flavors and quotas,
/// queueing strategy, preemption, flavor fungibility and fair-sharing
/// weight. `namespaceSelector`, admission checks, `admissionScope` and
/// `concurrentAdmissionPolicy` are read and ignored (they act outside quota
/// reservation); a `stopPolicy` other than `None` and a fungibility
/// `preference` of `PreemptionOverBorrowing` are [`Error::Unsupported`].
pub fn cluster_queue(queue: &v1beta2::ClusterQueue) -> Result<ClusterQueue> {
    let ctx = Ctx::new("ClusterQueue", &queue.metadata);
    let mut out = ClusterQueue::new(ctx.name(&queue.metadata)?);
    let Some(spec) = &queue.spec else {
        return Ok(out);
    };
    stop_policy(&ctx, spec.stop_policy.as_ref())?;
    out.cohort = spec.cohort_name.clone().filter(|c| !c.is_empty());
    out.resource_groups = resource_groups(&ctx, spec.resource_groups.as_ref())?;
    out.queueing_strategy = match &spec.queueing_strategy {
        None => QueueingStrategy::default(),
        Some(v1beta2::QueueingStrategy::StrictFifo) => QueueingStrategy::StrictFifo,
        Some(v1beta2::QueueingStrategy::BestEffortFifo) => QueueingStrategy::BestEffortFifo,
        Some(other) => return Err(unknown(&ctx, "spec.queueingStrategy", other)),
    };
    if let Some(p) = &spec.preemption {
        out.preemption = preemption(&ctx, p)?;
    }
    if let Some(f) = &spec.flavor_fungibility {
        out.flavor_fungibility = fungibility(&ctx, f)?;
    }
    out.fair_sharing = fair_sharing(&ctx, spec.fair_sharing.as_ref())?;
    Ok(out)
}

/// A LocalQueue: `namespace/name` (namespace `default` when none) and its
/// ClusterQueue. Its `fairSharing` (admission fair sharing) is ignored; a
/// `stopPolicy` other than `None` is [`Error::Unsupported`].
pub fn local_queue(queue: &v1beta2::LocalQueue) -> Result<LocalQueue> {
    let ctx = Ctx::new("LocalQueue", &queue.metadata);
    let name = ctx.name(&queue.metadata)?;
    let namespace = namespace(&queue.metadata);
    let spec = queue.spec.as_ref();
    stop_policy(&ctx, spec.and_then(|s| s.stop_policy.as_ref()))?;
    let cluster_queue = spec
        .and_then(|s| s.cluster_queue.clone())
        .filter(|c| !c.is_empty())
        .ok_or_else(|| ctx.err("spec.clusterQueue", "is required"))?;
    Ok(LocalQueue::new(namespace, name, cluster_queue))
}

/// What one pod of `spec` asks the scheduler for, as Kubernetes computes
/// it: each container's requests, a limit standing in for a request the
/// container leaves out; the largest of (the app containers plus the
/// sidecars, i.e. init containers with `restartPolicy: Always`) and each
/// init container's phase (itself plus the sidecars started before it);
/// plus the pod's `overhead`. Errors name the field: a quantity that is
/// not one, or negative, or a bad resource name.
///
/// ```
/// use k8s_openapi::api::core::v1::PodSpec;
/// let spec: PodSpec = serde_json::from_value(serde_json::json!({
///     "containers": [
///         { "name": "a", "resources": { "requests": { "cpu": "1" }, "limits": { "cpu": "2", "memory": "1Gi" } } },
///         { "name": "b", "resources": { "requests": { "cpu": "500m" } } }
///     ],
///     "initContainers": [ { "name": "fetch", "resources": { "requests": { "cpu": "4" } } } ]
/// })).unwrap();
/// let pod = keelson_sched::manifests::pod_requests(&spec)?;
/// assert_eq!(pod.get("cpu").milli(), 4000); // the init container's phase is larger
/// assert_eq!(pod.get("memory").units_ceil(), 1 << 30); // the limit stands in
/// # Ok::<(), keelson_sched::Error>(())
/// ```
pub fn pod_requests(spec: &core::PodSpec) -> Result<Resources> {
    pod_spec_requests(&Ctx("PodSpec".to_owned()), "spec", spec)
}

/// The object an error is about, as `kind/namespace/name`.
#[derive(Clone, Debug)]
struct Ctx(String);

impl Ctx {
    fn new(kind: &str, meta: &ObjectMeta) -> Ctx {
        let name = meta
            .name
            .as_deref()
            .or(meta.generate_name.as_deref())
            .unwrap_or("?");
        match &meta.namespace {
            Some(ns) => Ctx(format!("{kind}/{ns}/{name}")),
            None => Ctx(format!("{kind}/{name}")),
        }
    }

    fn err(&self, field: impl Into<String>, reason: impl Into<String>) -> Error {
        Error::Manifest {
            manifest: self.0.clone(),
            field: field.into(),
            reason: reason.into(),
        }
    }

    fn unsupported(&self, field: &str) -> Error {
        Error::Unsupported {
            item: self.0.clone(),
            feature: field.to_owned(),
        }
    }

    fn name(&self, meta: &ObjectMeta) -> Result<String> {
        meta.name
            .clone()
            .filter(|n| !n.is_empty())
            .ok_or_else(|| self.err("metadata.name", "is required"))
    }
}

fn namespace(meta: &ObjectMeta) -> String {
    meta.namespace
        .clone()
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "default".to_owned())
}

fn kind_name(kind: keelson_crd::trainer::RuntimeKind) -> &'static str {
    match kind {
        keelson_crd::trainer::RuntimeKind::TrainingRuntime => "TrainingRuntime",
        keelson_crd::trainer::RuntimeKind::ClusterTrainingRuntime => "ClusterTrainingRuntime",
    }
}

fn unknown(ctx: &Ctx, field: &str, value: impl std::fmt::Display) -> Error {
    ctx.err(field, format!("unknown value {:?}", value.to_string()))
}

fn unique(names: &mut BTreeSet<String>, kind: &str, meta: &ObjectMeta, name: &str) -> Result<()> {
    if names.insert(name.to_owned()) {
        Ok(())
    } else {
        Err(Ctx::new(kind, meta).err("metadata.name", format!("{kind} given twice")))
    }
}

fn lookup(ctx: &Ctx, field: &str, classes: &BTreeMap<String, i32>, name: &str) -> Result<i32> {
    classes.get(name).copied().ok_or_else(|| {
        ctx.err(
            field,
            format!("priority class {name} is not among the manifests"),
        )
    })
}

fn count(ctx: &Ctx, field: &str, n: i32) -> Result<u32> {
    u32::try_from(n).map_err(|_| ctx.err(field, format!("negative count {n}")))
}

/// Pods a Job runs at once: `replicas` × `parallelism` (default 1 each),
/// no more than `completions` per Job.
fn job_pods(
    ctx: &Ctx,
    field: &str,
    replicas: Option<i32>,
    job: Option<&k8s_openapi::api::batch::v1::JobSpec>,
) -> Result<u32> {
    let replicas = count(ctx, &format!("{field}.replicas"), replicas.unwrap_or(1))?;
    let spec = |f: &str| format!("{field}.template.spec.{f}");
    let parallelism = count(
        ctx,
        &spec("parallelism"),
        job.and_then(|j| j.parallelism).unwrap_or(1),
    )?;
    let per_job = match job.and_then(|j| j.completions) {
        Some(c) => parallelism.min(count(ctx, &spec("completions"), c)?),
        None => parallelism,
    };
    replicas.checked_mul(per_job).ok_or_else(|| {
        ctx.err(
            format!("{field}.replicas"),
            "replicas × parallelism overflows",
        )
    })
}

fn finish(
    ctx: &Ctx,
    meta: &ObjectMeta,
    queue: String,
    priority: i32,
    pod_sets: Vec<PodSet>,
) -> Result<Workload> {
    let name = format!(
        "{}/{}",
        namespace(meta),
        ctx.name(meta).or_else(|_| {
            meta.generate_name
                .clone()
                .filter(|n| !n.is_empty())
                .ok_or_else(|| ctx.err("metadata.name", "is required"))
        })?
    );
    if pod_sets.is_empty() {
        return Err(ctx.err("spec", "no pods to run"));
    }
    let created = meta
        .creation_timestamp
        .as_ref()
        .map_or(0, |t| u64::try_from(t.0.as_second()).unwrap_or(0));
    let workload = Workload {
        name,
        queue,
        priority,
        created,
        pod_sets,
    };
    workload
        .validate()
        .map_err(|e| ctx.err("spec", e.to_string()))?;
    Ok(workload)
}

fn pod_set(
    ctx: &Ctx,
    field: &str,
    name: String,
    count: u32,
    template: &core::PodTemplateSpec,
) -> Result<PodSet> {
    let spec = template
        .spec
        .as_ref()
        .ok_or_else(|| ctx.err(format!("{field}.spec"), "no pod spec"))?;
    let requests = pod_spec_requests(ctx, &format!("{field}.spec"), spec)?;
    let mut out = PodSet::new(name, count, requests);
    out.node_selector = spec.node_selector.clone().unwrap_or_default();
    for (i, t) in spec.tolerations.iter().flatten().enumerate() {
        out.tolerations.push(toleration(
            ctx,
            &format!("{field}.spec.tolerations[{i}]"),
            t,
        )?);
    }
    let annotations = template
        .metadata
        .as_ref()
        .and_then(|m| m.annotations.as_ref());
    let topology = |key: &str| {
        annotations
            .and_then(|a| a.get(key))
            .filter(|l| !l.is_empty())
    };
    out.topology = topology_request(topology(REQUIRED_TOPOLOGY), topology(PREFERRED_TOPOLOGY));
    Ok(out)
}

/// Kueue's webhook rejects a pod set naming both; here the required level wins.
fn topology_request(
    required: Option<&String>,
    preferred: Option<&String>,
) -> Option<TopologyRequest> {
    match (required, preferred) {
        (Some(level), _) => Some(TopologyRequest {
            level: level.clone(),
            required: true,
        }),
        (None, Some(level)) => Some(TopologyRequest {
            level: level.clone(),
            required: false,
        }),
        (None, None) => None,
    }
}

type Amounts = BTreeMap<String, Quantity>;

fn pod_spec_requests(ctx: &Ctx, field: &str, spec: &core::PodSpec) -> Result<Resources> {
    let mut app = Amounts::new();
    for (i, c) in spec.containers.iter().enumerate() {
        let amounts = container_requests(ctx, &format!("{field}.containers[{i}]"), c)?;
        add(ctx, field, &mut app, &amounts)?;
    }
    let mut sidecars = Amounts::new();
    let mut peak = Amounts::new();
    for (i, c) in spec.init_containers.iter().flatten().enumerate() {
        let amounts = container_requests(ctx, &format!("{field}.initContainers[{i}]"), c)?;
        let mut phase = sidecars.clone();
        add(ctx, field, &mut phase, &amounts)?;
        if c.restart_policy.as_deref() == Some("Always") {
            sidecars = phase.clone();
        }
        max(&mut peak, &phase);
    }
    add(ctx, field, &mut app, &sidecars)?;
    max(&mut peak, &app);
    if let Some(overhead) = &spec.overhead {
        let amounts = quantities(ctx, &format!("{field}.overhead"), overhead)?;
        add(ctx, field, &mut peak, &amounts)?;
    }
    let mut out = Resources::new();
    for (name, q) in peak {
        out.set(&name, q)
            .map_err(|e| ctx.err(field.to_owned(), e.to_string()))?;
    }
    Ok(out)
}

fn container_requests(ctx: &Ctx, field: &str, c: &core::Container) -> Result<Amounts> {
    let Some(resources) = &c.resources else {
        return Ok(Amounts::new());
    };
    let mut out = match &resources.limits {
        Some(limits) => quantities(ctx, &format!("{field}.resources.limits"), limits)?,
        None => Amounts::new(),
    };
    if let Some(requests) = &resources.requests {
        out.extend(quantities(
            ctx,
            &format!("{field}.resources.requests"),
            requests,
        )?);
    }
    Ok(out)
}

fn quantities(ctx: &Ctx, field: &str, list: &BTreeMap<String, KubeQuantity>) -> Result<Amounts> {
    list.iter()
        .map(|(name, q)| Ok((name.clone(), quantity(ctx, &format!("{field}[{name}]"), q)?)))
        .collect()
}

fn quantity(ctx: &Ctx, field: &str, q: &KubeQuantity) -> Result<Quantity> {
    let value = Quantity::parse(&q.0).map_err(|e| ctx.err(field, e.to_string()))?;
    if value.is_negative() {
        return Err(ctx.err(field, format!("negative quantity {}", q.0)));
    }
    Ok(value)
}

fn add(ctx: &Ctx, field: &str, into: &mut Amounts, amounts: &Amounts) -> Result<()> {
    for (name, q) in amounts {
        let sum = into.get(name).copied().unwrap_or(Quantity::ZERO);
        let sum = sum
            .checked_add(*q)
            .ok_or_else(|| ctx.err(field, format!("{name} overflows")))?;
        into.insert(name.clone(), sum);
    }
    Ok(())
}

fn max(into: &mut Amounts, amounts: &Amounts) {
    for (name, q) in amounts {
        let entry = into.entry(name.clone()).or_insert(*q);
        *entry = (*entry).max(*q);
    }
}

fn toleration(ctx: &Ctx, field: &str, t: &core::Toleration) -> Result<Toleration> {
    let operator = match t.operator.as_deref() {
        None | Some("" | "Equal") => TolerationOperator::Equal,
        Some("Exists") => TolerationOperator::Exists,
        Some(other) => return Err(unknown(ctx, &format!("{field}.operator"), other)),
    };
    let effect = match t.effect.as_deref() {
        None | Some("") => None,
        Some(e) => Some(taint_effect(ctx, &format!("{field}.effect"), e)?),
    };
    Ok(Toleration {
        key: t.key.clone().unwrap_or_default(),
        operator,
        value: t.value.clone().unwrap_or_default(),
        effect,
    })
}

fn taint_effect(ctx: &Ctx, field: &str, effect: &str) -> Result<TaintEffect> {
    match effect {
        "NoSchedule" => Ok(TaintEffect::NoSchedule),
        "PreferNoSchedule" => Ok(TaintEffect::PreferNoSchedule),
        "NoExecute" => Ok(TaintEffect::NoExecute),
        other => Err(unknown(ctx, field, other)),
    }
}

fn resource_groups(
    ctx: &Ctx,
    groups: Option<&Vec<v1beta2::ResourceGroup>>,
) -> Result<Vec<ResourceGroup>> {
    let mut out = Vec::new();
    for (g, group) in groups.into_iter().flatten().enumerate() {
        let mut flavors = Vec::new();
        for (f, flavor) in group.flavors.iter().enumerate() {
            let mut quotas = Vec::new();
            for (r, res) in flavor.resources.iter().enumerate() {
                let field = |name: &str| {
                    format!("spec.resourceGroups[{g}].flavors[{f}].resources[{r}].{name}")
                };
                let limit = |q: &Option<KubeQuantity>, name: &str| {
                    q.as_ref()
                        .map(|q| quantity(ctx, &field(name), q))
                        .transpose()
                };
                quotas.push(ResourceQuota {
                    name: res.name.clone(),
                    nominal_quota: quantity(ctx, &field("nominalQuota"), &res.nominal_quota)?,
                    borrowing_limit: limit(&res.borrowing_limit, "borrowingLimit")?,
                    lending_limit: limit(&res.lending_limit, "lendingLimit")?,
                });
            }
            flavors.push(FlavorQuotas::new(flavor.name.clone(), quotas));
        }
        out.push(ResourceGroup {
            covered_resources: group.covered_resources.clone(),
            flavors,
        });
    }
    Ok(out)
}

fn known_flavors(
    ctx: &Ctx,
    groups: Option<&Vec<v1beta2::ResourceGroup>>,
    flavors: &BTreeSet<String>,
) -> Result<()> {
    for (g, group) in groups.into_iter().flatten().enumerate() {
        for (f, flavor) in group.flavors.iter().enumerate() {
            if !flavors.contains(&flavor.name) {
                return Err(ctx.err(
                    format!("spec.resourceGroups[{g}].flavors[{f}].name"),
                    format!("ResourceFlavor {} is not among the manifests", flavor.name),
                ));
            }
        }
    }
    Ok(())
}

/// Follows every cohort's parents; a cohort met twice on one path closes
/// a cycle, reported on the cohort whose `parentName` closes it.
fn check_cohort_cycles(objects: &[v1beta2::Cohort], cohorts: &[Cohort]) -> Result<()> {
    let parent: BTreeMap<&str, &str> = cohorts
        .iter()
        .filter_map(|c| Some((c.name.as_str(), c.parent.as_deref()?)))
        .collect();
    for start in cohorts {
        let mut path = vec![start.name.as_str()];
        let mut at = start.name.as_str();
        while let Some(&p) = parent.get(at) {
            if let Some(i) = path.iter().position(|n| *n == p) {
                let mut cycle = path[i..].to_vec();
                cycle.push(p);
                let meta = objects
                    .iter()
                    .find(|o| o.metadata.name.as_deref() == Some(at))
                    .map(|o| o.metadata.clone())
                    .unwrap_or_default();
                return Err(Ctx::new("Cohort", &meta).err(
                    "spec.parentName",
                    format!("cohort cycle {}", cycle.join(" -> ")),
                ));
            }
            path.push(p);
            at = p;
        }
    }
    Ok(())
}

fn stop_policy(ctx: &Ctx, policy: Option<&v1beta2::StopPolicy>) -> Result<()> {
    match policy {
        None | Some(v1beta2::StopPolicy::None) => Ok(()),
        Some(_) => Err(ctx.unsupported("spec.stopPolicy")),
    }
}

fn fair_sharing(ctx: &Ctx, fs: Option<&v1beta2::FairSharing>) -> Result<Option<FairSharing>> {
    fs.and_then(|f| f.weight.as_ref())
        .map(|w| {
            Ok(FairSharing {
                weight: quantity(ctx, "spec.fairSharing.weight", w)?,
            })
        })
        .transpose()
}

fn preemption(ctx: &Ctx, p: &v1beta2::Preemption) -> Result<Preemption> {
    let within_cluster_queue = match &p.within_cluster_queue {
        None | Some(v1beta2::WithinClusterQueue::Never) => WithinClusterQueue::Never,
        Some(v1beta2::WithinClusterQueue::LowerPriority) => WithinClusterQueue::LowerPriority,
        Some(v1beta2::WithinClusterQueue::LowerOrNewerEqualPriority) => {
            WithinClusterQueue::LowerOrNewerEqualPriority
        }
        Some(other) => return Err(unknown(ctx, "spec.preemption.withinClusterQueue", other)),
    };
    let reclaim_within_cohort = match &p.reclaim_within_cohort {
        None | Some(v1beta2::ReclaimWithinCohort::Never) => ReclaimWithinCohort::Never,
        Some(v1beta2::ReclaimWithinCohort::LowerPriority) => ReclaimWithinCohort::LowerPriority,
        Some(v1beta2::ReclaimWithinCohort::Any) => ReclaimWithinCohort::Any,
        Some(other) => return Err(unknown(ctx, "spec.preemption.reclaimWithinCohort", other)),
    };
    let borrow = p.borrow_within_cohort.as_ref();
    let policy = match borrow.and_then(|b| b.policy.as_ref()) {
        None | Some(v1beta2::Policy::Never) => BorrowWithinCohortPolicy::Never,
        Some(v1beta2::Policy::LowerPriority) => BorrowWithinCohortPolicy::LowerPriority,
        Some(other) => {
            return Err(unknown(
                ctx,
                "spec.preemption.borrowWithinCohort.policy",
                other,
            ));
        }
    };
    Ok(Preemption {
        within_cluster_queue,
        reclaim_within_cohort,
        borrow_within_cohort: BorrowWithinCohort {
            policy,
            max_priority_threshold: borrow.and_then(|b| b.max_priority_threshold),
        },
    })
}

fn fungibility(ctx: &Ctx, f: &v1beta2::FlavorFungibility) -> Result<FlavorFungibility> {
    if let Some(v1beta2::Preference::PreemptionOverBorrowing) = &f.preference {
        return Err(ctx.unsupported("spec.flavorFungibility.preference"));
    }
    if let Some(v1beta2::Preference::Other(other)) = &f.preference {
        return Err(unknown(ctx, "spec.flavorFungibility.preference", other));
    }
    let policy = |value: &Option<v1beta2::WhenCanBorrow>, field: &str, default| match value {
        None => Ok(default),
        Some(v1beta2::WhenCanBorrow::MayStopSearch) => Ok(FungibilityPolicy::MayStopSearch),
        Some(v1beta2::WhenCanBorrow::TryNextFlavor) => Ok(FungibilityPolicy::TryNextFlavor),
        Some(other) => Err(unknown(ctx, field, other)),
    };
    let defaults = FlavorFungibility::default();
    Ok(FlavorFungibility {
        when_can_borrow: policy(
            &f.when_can_borrow,
            "spec.flavorFungibility.whenCanBorrow",
            defaults.when_can_borrow,
        )?,
        when_can_preempt: policy(
            &f.when_can_preempt,
            "spec.flavorFungibility.whenCanPreempt",
            defaults.when_can_preempt,
        )?,
    })
}

/// Reads a `v1beta1` spec as its `v1beta2` type after `patch` renames what
/// the versions spell differently.
fn upgrade<A: Serialize, B: DeserializeOwned>(
    kind: &str,
    meta: &ObjectMeta,
    spec: &Option<A>,
    patch: impl FnOnce(&mut serde_json::Value),
) -> Result<Option<B>> {
    let ctx = Ctx::new(kind, meta);
    let Some(spec) = spec else {
        return Ok(None);
    };
    let mut value = serde_json::to_value(spec).map_err(|e| ctx.err("spec", e.to_string()))?;
    patch(&mut value);
    serde_json::from_value(value)
        .map(Some)
        .map_err(|e| ctx.err("spec", format!("not readable as v1beta2: {e}")))
}

fn rename(value: &mut serde_json::Value, from: &str, to: &str) {
    if let Some(object) = value.as_object_mut()
        && let Some(v) = object.remove(from)
    {
        object.insert(to.to_owned(), v);
    }
}

/// `v1beta1`'s `Borrow` and `Preempt` are `v1beta2`'s `MayStopSearch`.
fn upgrade_fungibility(spec: &mut serde_json::Value) {
    let Some(f) = spec
        .get_mut("flavorFungibility")
        .and_then(|f| f.as_object_mut())
    else {
        return;
    };
    for (key, old) in [("whenCanBorrow", "Borrow"), ("whenCanPreempt", "Preempt")] {
        if f.get(key).and_then(|v| v.as_str()) == Some(old) {
            f.insert(key.to_owned(), "MayStopSearch".into());
        }
    }
}

/// `v1beta1`'s `priorityClassName` + `priorityClassSource` are `v1beta2`'s
/// `priorityClassRef`.
fn upgrade_priority_class(spec: &mut serde_json::Value) {
    let Some(object) = spec.as_object_mut() else {
        return;
    };
    let source = object.remove("priorityClassSource");
    let Some(name) = object.remove("priorityClassName") else {
        return;
    };
    let (group, kind) = match source.as_ref().and_then(|s| s.as_str()) {
        Some("scheduling.k8s.io/priorityclass") => ("scheduling.k8s.io", "PriorityClass"),
        _ => ("kueue.x-k8s.io", "WorkloadPriorityClass"),
    };
    object.insert(
        "priorityClassRef".to_owned(),
        serde_json::json!({ "group": group, "kind": kind, "name": name }),
    );
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn one(text: &str) -> AnyResource {
        keelson_crd::load("t.yaml", text)
            .unwrap()
            .remove(0)
            .resource
    }

    #[test]
    fn v1beta1_cluster_queue_reads_as_v1beta2() {
        let mut m = Manifests::new();
        m.add(&one(
            "apiVersion: kueue.x-k8s.io/v1beta1\nkind: ClusterQueue\nmetadata: {name: q}\n\
             spec: {cohort: c, flavorFungibility: {whenCanBorrow: Borrow, whenCanPreempt: Preempt}}",
        ))
        .unwrap();
        let cq = cluster_queue(&m.cluster_queues[0]).unwrap();
        assert_eq!(cq.cohort.as_deref(), Some("c"));
        assert_eq!(
            cq.flavor_fungibility.when_can_preempt,
            FungibilityPolicy::MayStopSearch
        );
    }

    #[test]
    fn v1beta1_workload_priority_class_becomes_a_ref() {
        let mut m = Manifests::new();
        m.add(&one(
            "apiVersion: kueue.x-k8s.io/v1beta1\nkind: WorkloadPriorityClass\nmetadata: {name: high}\nvalue: 1000",
        ))
        .unwrap();
        m.add(&one(
            "apiVersion: kueue.x-k8s.io/v1beta1\nkind: Workload\nmetadata: {name: w, namespace: ns}\n\
             spec:\n  queueName: q\n  priorityClassName: high\n  priorityClassSource: kueue.x-k8s.io/workloadpriorityclass\n\
             \x20 podSets: [{name: main, count: 2, template: {spec: {containers: [{name: c, image: i}]}}}]",
        ))
        .unwrap();
        let w = m.workloads().remove(0).unwrap();
        assert_eq!(w.priority, 1000);
        assert_eq!(w.name, "ns/w");
        assert_eq!(w.pod_sets[0].count, 2);
    }
}
