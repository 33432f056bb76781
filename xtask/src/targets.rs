//! Which upstream CRD files feed which keelson-crd module.

/// One module of keelson-crd and the CRD files (relative to the corpus) it is generated from.
pub struct Target {
    /// Module and cargo feature name.
    pub module: &'static str,
    /// The upstream project, for docs.
    pub project: &'static str,
    /// CRD files, relative to the corpus root.
    pub files: &'static [&'static str],
}

pub const TARGETS: &[Target] = &[
    Target {
        module: "trainer",
        project: "Kubeflow Trainer (github.com/kubeflow/trainer)",
        files: &[
            "trainer/manifests/base/crds/trainer.kubeflow.org_trainjobs.yaml",
            "trainer/manifests/base/crds/trainer.kubeflow.org_trainingruntimes.yaml",
            "trainer/manifests/base/crds/trainer.kubeflow.org_clustertrainingruntimes.yaml",
            "trainer/manifests/base/crds/trainer.kubeflow.org_optimizationjobs.yaml",
        ],
    },
    Target {
        module: "training_operator",
        project: "Kubeflow training-operator v1 (github.com/kubeflow/training-operator, release-1.9)",
        files: &[
            "training-operator/manifests/base/crds/kubeflow.org_pytorchjobs.yaml",
            "training-operator/manifests/base/crds/kubeflow.org_tfjobs.yaml",
            "training-operator/manifests/base/crds/kubeflow.org_mpijobs.yaml",
            "training-operator/manifests/base/crds/kubeflow.org_xgboostjobs.yaml",
            "training-operator/manifests/base/crds/kubeflow.org_jaxjobs.yaml",
            "training-operator/manifests/base/crds/kubeflow.org_paddlejobs.yaml",
        ],
    },
    Target {
        module: "notebook",
        project: "Kubeflow Notebooks (github.com/kubeflow/notebooks, notebooks-v1)",
        files: &[
            "notebooks/components/notebook-controller/config/crd/bases/kubeflow.org_notebooks.yaml",
        ],
    },
    Target {
        module: "profile",
        project: "Kubeflow Dashboard profile controller (github.com/kubeflow/dashboard)",
        files: &[
            "dashboard/components/profile-controller/manifests/kustomize/base/crd/kubeflow.org_profiles.yaml",
        ],
    },
    Target {
        module: "poddefault",
        project: "Kubeflow Dashboard PodDefault webhook (github.com/kubeflow/dashboard)",
        files: &["dashboard/components/poddefaults-webhooks/manifests/kustomize/base/crd.yaml"],
    },
    Target {
        module: "tensorboard",
        project: "Kubeflow Notebooks tensorboard controller (github.com/kubeflow/notebooks, notebooks-v1)",
        files: &[
            "notebooks/components/tensorboard-controller/config/crd/bases/tensorboard.kubeflow.org_tensorboards.yaml",
        ],
    },
    Target {
        module: "kserve",
        project: "KServe (github.com/kserve/kserve)",
        files: &[
            "kserve/config/crd/full/serving.kserve.io_inferenceservices.yaml",
            "kserve/config/crd/full/serving.kserve.io_servingruntimes.yaml",
            "kserve/config/crd/full/serving.kserve.io_clusterservingruntimes.yaml",
            "kserve/config/crd/full/serving.kserve.io_inferencegraphs.yaml",
            "kserve/config/crd/full/serving.kserve.io_trainedmodels.yaml",
        ],
    },
    Target {
        module: "spark",
        project: "Kubeflow Spark operator (github.com/kubeflow/spark-operator)",
        files: &[
            "spark-operator/config/crd/bases/sparkoperator.k8s.io_sparkapplications.yaml",
            "spark-operator/config/crd/bases/sparkoperator.k8s.io_scheduledsparkapplications.yaml",
        ],
    },
    Target {
        module: "pipelines",
        project: "Kubeflow Pipelines (github.com/kubeflow/pipelines)",
        files: &[
            "pipelines/manifests/kustomize/base/crds/pipelines.kubeflow.org_pipelines.yaml",
            "pipelines/manifests/kustomize/base/crds/pipelines.kubeflow.org_pipelineversions.yaml",
        ],
    },
    Target {
        module: "jobset",
        project: "JobSet (github.com/kubernetes-sigs/jobset)",
        files: &["jobset/config/components/crd/bases/jobset.x-k8s.io_jobsets.yaml"],
    },
    Target {
        module: "kueue",
        project: "Kueue (github.com/kubernetes-sigs/kueue)",
        files: &[
            "kueue/config/components/crd/bases/kueue.x-k8s.io_clusterqueues.yaml",
            "kueue/config/components/crd/bases/kueue.x-k8s.io_localqueues.yaml",
            "kueue/config/components/crd/bases/kueue.x-k8s.io_resourceflavors.yaml",
            "kueue/config/components/crd/bases/kueue.x-k8s.io_admissionchecks.yaml",
            "kueue/config/components/crd/bases/kueue.x-k8s.io_workloads.yaml",
            "kueue/config/components/crd/bases/kueue.x-k8s.io_cohorts.yaml",
            "kueue/config/components/crd/bases/kueue.x-k8s.io_topologies.yaml",
        ],
    },
];

/// Kinds written by hand (Katib's CRDs carry no typed schema), listed so the
/// generated `AnyResource` dispatches to them too: (module, version, kind).
pub const HAND_WRITTEN: &[(&str, &str, &str, &str)] = &[
    ("katib", "kubeflow.org", "v1beta1", "Experiment"),
    ("katib", "kubeflow.org", "v1beta1", "Trial"),
    ("katib", "kubeflow.org", "v1beta1", "Suggestion"),
];

/// Types whose generated name reads wrong because several kinds share them:
/// (module, generated name, name upstream's Go API uses).
pub const RENAMES: &[(&str, &str, &str)] = &[
    ("training_operator", "PyTorchJobStatus", "JobStatus"),
    ("training_operator", "PytorchReplicaSpec", "ReplicaSpec"),
];
