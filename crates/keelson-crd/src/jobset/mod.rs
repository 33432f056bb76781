//! JobSet (`jobset.x-k8s.io/v1alpha2`): a group of Jobs run as one unit, which
//! Trainer's runtimes embed.
//!
//! The version module is generated from the upstream CRD schema (see `docs/crd.md`).

pub mod v1alpha2;

crate::conditions::meta_conditions! {
    v1alpha2::JobSet => &["Completed"],
}

impl v1alpha2::JobSet {
    /// Total pods the JobSet asks for: for each replicated job, `replicas` (default 1)
    /// × the Job's `parallelism` (default 1).
    pub fn total_pods(&self) -> i64 {
        self.spec
            .iter()
            .flat_map(|s| s.replicated_jobs.iter().flatten())
            .map(|rj| {
                let parallelism = rj
                    .template
                    .spec
                    .as_ref()
                    .and_then(|s| s.parallelism)
                    .unwrap_or(1);
                i64::from(rj.replicas.unwrap_or(1)) * i64::from(parallelism)
            })
            .sum()
    }
}
