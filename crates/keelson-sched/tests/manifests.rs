//! Set-ups and workloads from manifests (feature `crd`): unit tests of the
//! conversions and of bad input, a property test of the pod-request
//! arithmetic.
#![cfg(feature = "crd")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use k8s_openapi::api::core::v1::PodSpec;
use keelson_sched::manifests::{Manifests, pod_requests};
use keelson_sched::{
    Decision, Error, FungibilityPolicy, QueueingStrategy, ReclaimWithinCohort, Scheduler,
    TaintEffect, TolerationOperator, WithinClusterQueue,
};
use proptest::prelude::*;
use serde_json::json;

fn manifests(text: &str) -> Manifests {
    Manifests::from_documents(&keelson_crd::load("test.yaml", text).unwrap()).unwrap()
}

fn spec(value: serde_json::Value) -> PodSpec {
    serde_json::from_value(value).unwrap()
}

/// The manifest and field of an [`Error::Manifest`].
fn at(e: &Error) -> (&str, &str) {
    match e {
        Error::Manifest {
            manifest, field, ..
        } => (manifest, field),
        other => panic!("not a manifest error: {other}"),
    }
}

const SETUP: &str = r#"
apiVersion: kueue.x-k8s.io/v1beta2
kind: ResourceFlavor
metadata: { name: spot }
spec:
  nodeLabels: { instance-type: spot }
  nodeTaints: [{ key: spot, value: "true", effect: NoSchedule }]
  tolerations: [{ key: nvidia.com/gpu, operator: Exists, effect: NoSchedule }]
---
apiVersion: kueue.x-k8s.io/v1beta2
kind: ResourceFlavor
metadata: { name: on-demand }
spec: { nodeLabels: { instance-type: on-demand } }
---
apiVersion: kueue.x-k8s.io/v1beta2
kind: Cohort
metadata: { name: research }
spec:
  parentName: company
  fairSharing: { weight: "2" }
---
apiVersion: kueue.x-k8s.io/v1beta2
kind: ClusterQueue
metadata: { name: team-a }
spec:
  cohortName: research
  queueingStrategy: StrictFIFO
  namespaceSelector: {}
  preemption: { withinClusterQueue: LowerPriority, reclaimWithinCohort: Any }
  flavorFungibility: { whenCanBorrow: TryNextFlavor }
  resourceGroups:
  - coveredResources: [cpu, memory]
    flavors:
    - name: on-demand
      resources:
      - { name: cpu, nominalQuota: 9, borrowingLimit: 3 }
      - { name: memory, nominalQuota: 36Gi, lendingLimit: 12Gi }
    - name: spot
      resources:
      - { name: cpu, nominalQuota: 500m }
      - { name: memory, nominalQuota: 1Gi }
---
apiVersion: kueue.x-k8s.io/v1beta2
kind: LocalQueue
metadata: { name: main, namespace: team-a }
spec: { clusterQueue: team-a }
"#;

#[test]
fn setup_carries_quotas_policies_and_flavors() {
    let setup = manifests(SETUP).setup().unwrap();
    let spot = &setup.flavors[0];
    assert_eq!(spot.node_labels["instance-type"], "spot");
    assert_eq!(spot.taints[0].effect, TaintEffect::NoSchedule);
    assert_eq!(spot.tolerations[0].operator, TolerationOperator::Exists);
    assert_eq!(setup.cohorts[0].parent.as_deref(), Some("company"));
    assert_eq!(setup.cohorts[0].fair_sharing.unwrap().weight.milli(), 2000);
    let cq = &setup.cluster_queues[0];
    assert_eq!(cq.cohort.as_deref(), Some("research"));
    assert_eq!(cq.queueing_strategy, QueueingStrategy::StrictFifo);
    assert_eq!(
        cq.preemption.within_cluster_queue,
        WithinClusterQueue::LowerPriority
    );
    assert_eq!(
        cq.preemption.reclaim_within_cohort,
        ReclaimWithinCohort::Any
    );
    assert_eq!(
        cq.flavor_fungibility.when_can_borrow,
        FungibilityPolicy::TryNextFlavor
    );
    let on_demand = &cq.resource_groups[0].flavors[0];
    assert_eq!(on_demand.name, "on-demand");
    assert_eq!(on_demand.resources[0].nominal_quota.milli(), 9000);
    assert_eq!(
        on_demand.resources[0].borrowing_limit.unwrap().milli(),
        3000
    );
    assert_eq!(
        on_demand.resources[1].lending_limit.unwrap().units_ceil(),
        12 << 30
    );
    assert_eq!(
        cq.resource_groups[0].flavors[1].resources[0]
            .nominal_quota
            .milli(),
        500
    );
    assert_eq!(setup.local_queues[0].namespace, "team-a");
    Scheduler::new(setup).unwrap();
}

#[test]
fn requests_default_to_limits_per_resource() {
    let pod = pod_requests(&spec(json!({
        "containers": [
            { "name": "a", "resources": {
                "limits": { "cpu": "2", "memory": "4Gi", "nvidia.com/gpu": "1" },
                "requests": { "cpu": "1" } } },
            { "name": "b", "resources": { "limits": { "cpu": "250m" } } },
            { "name": "c" }
        ]
    })))
    .unwrap();
    assert_eq!(pod.get("cpu").milli(), 1250);
    assert_eq!(pod.get("memory").units_ceil(), 4 << 30);
    assert_eq!(pod.get("nvidia.com/gpu").milli(), 1000);
}

#[test]
fn init_containers_sidecars_and_overhead() {
    let pod = pod_requests(&spec(json!({
        "containers": [ { "name": "app", "resources": { "requests": { "cpu": "1", "memory": "1Gi" } } } ],
        "initContainers": [
            { "name": "proxy", "restartPolicy": "Always", "resources": { "requests": { "cpu": "500m" } } },
            { "name": "fetch", "resources": { "requests": { "cpu": "2", "memory": "512Mi" } } }
        ],
        "overhead": { "cpu": "100m" }
    })))
    .unwrap();
    // fetch runs beside the proxy: 2.5 CPUs > app + proxy = 1.5; + overhead.
    assert_eq!(pod.get("cpu").milli(), 2600);
    assert_eq!(pod.get("memory").units_ceil(), 1 << 30);
}

#[test]
fn negative_or_malformed_request_names_the_field() {
    let err = pod_requests(&spec(json!({
        "containers": [ { "name": "a" }, { "name": "b", "resources": { "requests": { "cpu": "-1" } } } ]
    })))
    .unwrap_err();
    assert_eq!(at(&err).1, "spec.containers[1].resources.requests[cpu]");
    assert!(err.to_string().contains("negative"), "{err}");
    let err = pod_requests(&spec(json!({
        "containers": [ { "name": "a", "resources": { "limits": { "memory": "12 Gi" } } } ]
    })))
    .unwrap_err();
    assert_eq!(at(&err).1, "spec.containers[0].resources.limits[memory]");
}

#[test]
fn negative_quota_names_queue_and_field() {
    let text = SETUP.replace("nominalQuota: 9,", "nominalQuota: -9,");
    let err = manifests(&text).setup().unwrap_err();
    assert_eq!(
        at(&err),
        (
            "ClusterQueue/team-a",
            "spec.resourceGroups[0].flavors[0].resources[0].nominalQuota"
        )
    );
}

#[test]
fn unknown_flavor_names_queue_and_field() {
    let text = SETUP.replace(
        "- name: spot\n      resources:",
        "- name: h100\n      resources:",
    );
    let err = manifests(&text).setup().unwrap_err();
    assert_eq!(
        at(&err),
        (
            "ClusterQueue/team-a",
            "spec.resourceGroups[0].flavors[1].name"
        )
    );
    assert!(err.to_string().contains("ResourceFlavor h100"), "{err}");
}

#[test]
fn cyclic_cohort_names_the_cohort() {
    let text = format!(
        "{SETUP}---\napiVersion: kueue.x-k8s.io/v1beta2\nkind: Cohort\nmetadata: {{ name: company }}\nspec: {{ parentName: research }}\n"
    );
    let err = manifests(&text).setup().unwrap_err();
    assert_eq!(at(&err).1, "spec.parentName");
    assert!(at(&err).0.starts_with("Cohort/"), "{err}");
    assert!(
        err.to_string()
            .contains("cohort cycle research -> company -> research"),
        "{err}"
    );
}

#[test]
fn dangling_local_queue_and_duplicates_are_refused() {
    let err = manifests(&SETUP.replace("clusterQueue: team-a", "clusterQueue: team-b"))
        .setup()
        .unwrap_err();
    assert_eq!(at(&err), ("LocalQueue/team-a/main", "spec.clusterQueue"));
    let twice = format!(
        "{SETUP}---\napiVersion: kueue.x-k8s.io/v1beta2\nkind: ResourceFlavor\nmetadata: {{ name: spot }}\n"
    );
    let err = manifests(&twice).setup().unwrap_err();
    assert_eq!(at(&err), ("ResourceFlavor/spot", "metadata.name"));
}

#[test]
fn stop_policy_is_unsupported() {
    let text = SETUP.replace("queueingStrategy: StrictFIFO", "stopPolicy: Hold");
    let err = manifests(&text).setup().unwrap_err();
    assert!(
        matches!(&err, Error::Unsupported { item, feature }
            if item == "ClusterQueue/team-a" && feature == "spec.stopPolicy"),
        "{err}"
    );
}

const JOBSET: &str = r#"
apiVersion: jobset.x-k8s.io/v1alpha2
kind: JobSet
metadata:
  name: pretrain
  namespace: team-a
  labels: { kueue.x-k8s.io/queue-name: main, kueue.x-k8s.io/priority-class: high }
spec:
  replicatedJobs:
  - name: driver
    template:
      spec:
        template:
          spec:
            containers: [{ name: d, image: i, resources: { requests: { cpu: 500m } } }]
  - name: workers
    replicas: 3
    template:
      spec:
        parallelism: 4
        completions: 2
        template:
          metadata:
            annotations: { kueue.x-k8s.io/podset-required-topology: cloud.example.com/rack }
          spec:
            nodeSelector: { instance-type: spot }
            tolerations: [{ key: spot, operator: Equal, value: "true", effect: NoSchedule }]
            containers: [{ name: w, image: i, resources: { limits: { cpu: 250m, memory: 128Mi } } }]
  - name: idle
    replicas: 2
    template:
      spec:
        parallelism: 0
        template:
          spec:
            containers: [{ name: x, image: i }]
---
apiVersion: kueue.x-k8s.io/v1beta2
kind: WorkloadPriorityClass
metadata: { name: high }
value: 1000
"#;

#[test]
fn jobset_pod_sets_counts_selectors_topology_priority() {
    let m = manifests(&format!("{SETUP}---{JOBSET}"));
    let w = m.workloads().remove(0).unwrap();
    assert_eq!(w.name, "team-a/pretrain");
    assert_eq!(w.queue, "main");
    assert_eq!(w.priority, 1000);
    let names: Vec<_> = w.pod_sets.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["driver", "workers"], "the zero-pod job is left out");
    let workers = &w.pod_sets[1];
    // 3 Jobs, each at most min(parallelism 4, completions 2) pods at once.
    assert_eq!(workers.count, 6);
    assert_eq!(workers.requests.get("cpu").milli(), 250);
    assert_eq!(workers.node_selector["instance-type"], "spot");
    let topology = workers.topology.as_ref().unwrap();
    assert!(topology.required);
    assert_eq!(topology.level, "cloud.example.com/rack");

    // The workers need spot (their selector), which they tolerate; 6 × 250m
    // exceeds its 500m of CPU quota, so the StrictFIFO queue waits.
    let mut scheduler = Scheduler::new(m.setup().unwrap()).unwrap();
    scheduler.submit(w).unwrap();
    let decision = scheduler.cycle().remove(0);
    assert!(matches!(decision, Decision::Waiting { .. }), "{decision}");
    assert!(decision.to_string().contains("flavor spot"), "{decision}");
}

#[test]
fn queue_label_default_queue_and_unknown_priority_class() {
    let unlabelled = JOBSET.replace("kueue.x-k8s.io/queue-name: main, ", "");
    let err = manifests(&unlabelled).workloads().remove(0).unwrap_err();
    assert_eq!(at(&err), ("JobSet/team-a/pretrain", "metadata.labels"));
    let docs = keelson_crd::load("t.yaml", &unlabelled).unwrap();
    let w = Manifests::from_documents(&docs)
        .unwrap()
        .with_default_queue("default")
        .workloads()
        .remove(0)
        .unwrap();
    assert_eq!(w.queue, "default");

    let unknown = JOBSET.replace("priority-class: high", "priority-class: urgent");
    let err = manifests(&unknown).workloads().remove(0).unwrap_err();
    assert_eq!(at(&err).1, "metadata.labels[kueue.x-k8s.io/priority-class]");
}

#[test]
fn negative_replicas_names_the_field() {
    let err = manifests(&JOBSET.replace("replicas: 3", "replicas: -3"))
        .workloads()
        .remove(0)
        .unwrap_err();
    assert_eq!(at(&err).1, "spec.replicatedJobs[1].replicas");
}

const RUNTIME: &str = r#"
apiVersion: trainer.kubeflow.org/v1alpha1
kind: ClusterTrainingRuntime
metadata: { name: mpi }
spec:
  mlPolicy: { numNodes: 1, mpi: { runLauncherAsNode: true } }
  template:
    spec:
      replicatedJobs:
      - name: launcher
        template:
          spec:
            template:
              spec:
                containers: [{ name: node, image: i, resources: { requests: { cpu: "1" } } }]
      - name: node
        template:
          metadata: { labels: { trainer.kubeflow.org/trainjob-ancestor-step: trainer } }
          spec:
            template:
              spec:
                priorityClassName: batch
                containers:
                - { name: sidecar, image: s, resources: { requests: { cpu: 100m } } }
                - { name: node, image: i, resources: { requests: { cpu: "8" } } }
---
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: { name: batch }
value: 10
---
apiVersion: trainer.kubeflow.org/v1alpha1
kind: TrainJob
metadata: { name: llm, namespace: team-a, labels: { kueue.x-k8s.io/queue-name: main } }
spec:
  runtimeRef: { name: mpi }
  trainer:
    numNodes: 4
    resourcesPerNode: { limits: { cpu: "16", nvidia.com/gpu: "8" } }
"#;

#[test]
fn train_job_takes_nodes_and_resources_from_the_trainer() {
    let w = manifests(RUNTIME).workloads().remove(0).unwrap();
    assert_eq!(w.name, "team-a/llm");
    assert_eq!(w.priority, 10, "from the pod template's PriorityClass");
    assert_eq!(w.pod_sets[0].name, "launcher");
    assert_eq!(w.pod_sets[0].count, 1);
    let node = &w.pod_sets[1];
    // The launcher is one of the 4 nodes.
    assert_eq!(node.count, 3);
    // resourcesPerNode replaces the trainer container's; the sidecar stays.
    assert_eq!(node.requests.get("cpu").milli(), 16_100);
    assert_eq!(node.requests.get("nvidia.com/gpu").units_ceil(), 8);
}

#[test]
fn train_job_with_a_missing_runtime_names_the_field() {
    let text = RUNTIME.replace("runtimeRef: { name: mpi }", "runtimeRef: { name: jax }");
    let err = manifests(&text).workloads().remove(0).unwrap_err();
    assert_eq!(at(&err), ("TrainJob/team-a/llm", "spec.runtimeRef"));
}

#[test]
fn kueue_workload_pod_sets() {
    let m = manifests(
        r#"
apiVersion: kueue.x-k8s.io/v1beta2
kind: Workload
metadata: { name: w, namespace: ns, creationTimestamp: "2025-01-02T03:04:05Z" }
spec:
  queueName: q
  priority: 7
  podSets:
  - name: workers
    count: 8
    minCount: 4
    topologyRequest: { preferred: rack }
    template: { spec: { containers: [{ name: c, image: i, resources: { requests: { nvidia.com/gpu: 1 } } }] } }
"#,
    );
    let w = m.workloads().remove(0).unwrap();
    assert_eq!(
        (w.queue.as_str(), w.priority, w.created),
        ("q", 7, 1_735_787_045)
    );
    let ps = &w.pod_sets[0];
    assert_eq!((ps.count, ps.min_count), (8, Some(4)));
    assert_eq!(ps.topology.as_ref().unwrap().level, "rack");
    assert!(!ps.topology.as_ref().unwrap().required);
}

#[test]
fn kueue_workload_min_count_above_count_is_refused() {
    let m = manifests(
        r#"
apiVersion: kueue.x-k8s.io/v1beta2
kind: Workload
metadata: { name: w, namespace: ns }
spec:
  queueName: q
  podSets: [{ name: main, count: 2, minCount: 3, template: { spec: { containers: [{ name: c, image: i }] } } }]
"#,
    );
    let err = m.workloads().remove(0).unwrap_err();
    assert_eq!(at(&err), ("Workload/ns/w", "spec"));
    assert!(err.to_string().contains("minCount"), "{err}");
}

fn quantity_text() -> impl Strategy<Value = String> {
    prop_oneof![
        (0u32..100_000).prop_map(|m| format!("{m}m")),
        (0u32..64).prop_map(|g| format!("{g}Gi")),
        (0u32..1000).prop_map(|n| n.to_string()),
    ]
}

fn container(name: String) -> impl Strategy<Value = serde_json::Value> {
    (
        proptest::option::of(quantity_text()),
        proptest::option::of(quantity_text()),
    )
        .prop_map(move |(request, limit)| {
            let mut resources = serde_json::Map::new();
            if let Some(r) = request {
                resources.insert("requests".into(), json!({ "cpu": r }));
            }
            if let Some(l) = limit {
                resources.insert("limits".into(), json!({ "cpu": l }));
            }
            json!({ "name": name, "resources": resources })
        })
}

fn effective(c: &serde_json::Value) -> i128 {
    let text = c["resources"]["requests"]["cpu"]
        .as_str()
        .or(c["resources"]["limits"]["cpu"].as_str())
        .unwrap_or("0");
    keelson_sched::Quantity::parse(text).unwrap().milli()
}

proptest! {
    /// The pod asks for at least every app container's sum and every init
    /// phase, and exactly the sum when there are no init containers.
    #[test]
    fn pod_requests_bound_every_phase(
        app in proptest::collection::vec(container("app".into()), 1..4),
        init in proptest::collection::vec((container("init".into()), any::<bool>()), 0..4),
    ) {
        let init_json: Vec<_> = init
            .iter()
            .enumerate()
            .map(|(i, (c, sidecar))| {
                let mut c = c.clone();
                c["name"] = json!(format!("init-{i}"));
                if *sidecar {
                    c["restartPolicy"] = json!("Always");
                }
                c
            })
            .collect();
        let app_json: Vec<_> = app
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let mut c = c.clone();
                c["name"] = json!(format!("app-{i}"));
                c
            })
            .collect();
        let pod = pod_requests(&spec(json!({ "containers": app_json, "initContainers": init_json }))).unwrap();
        let cpu = pod.get("cpu").milli();
        let app_sum: i128 = app.iter().map(effective).sum();
        let sidecars: i128 = init.iter().filter(|(_, s)| *s).map(|(c, _)| effective(c)).sum();
        prop_assert!(cpu >= app_sum + sidecars);
        for (c, _) in &init {
            prop_assert!(cpu >= effective(c));
        }
        if init.is_empty() {
            prop_assert_eq!(cpu, app_sum);
        }
    }
}
