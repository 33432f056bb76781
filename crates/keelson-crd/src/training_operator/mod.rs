//! The training-operator's v1 jobs: `PyTorchJob`, `TFJob`, `MPIJob`, `XGBoostJob`,
//! `JAXJob`, `PaddleJob` (`kubeflow.org/v1`).
//!
//! The version module is generated from the upstream CRD schemas (see `docs/crd.md`);
//! the helpers below are written by hand. All six kinds share one status type,
//! [`v1::JobStatus`], as they do upstream.

pub mod v1;

use crate::conditions::{ConditionView, HasConditions};

fn view(c: &v1::Condition) -> ConditionView<'_> {
    ConditionView {
        type_: &c.type_,
        status: &c.status,
        reason: c.reason.as_deref(),
        message: c.message.as_deref(),
        last_transition_time: c.last_transition_time.clone(),
        last_update_time: c.last_update_time.clone(),
    }
}

macro_rules! job_helpers {
    ($($kind:ident => $replicas:ident),* $(,)?) => {$(
        impl HasConditions for v1::$kind {
            fn conditions(&self) -> Vec<ConditionView<'_>> {
                self.status
                    .iter()
                    .flat_map(|s| s.conditions.iter().flatten())
                    .map(view)
                    .collect()
            }
        }

        impl v1::$kind {
            /// The replica specs by replica type (`Master`, `Worker`, `Chief`, `PS`...).
            pub fn replica_specs(&self) -> Option<&std::collections::BTreeMap<String, v1::ReplicaSpec>> {
                self.spec.as_ref().map(|s| &s.$replicas)
            }

            /// Total pods the job asks for: the sum of every replica type's
            /// `replicas`, where a replica type without a count runs one pod, as
            /// the training-operator defaults it.
            pub fn total_replicas(&self) -> i64 {
                self.replica_specs()
                    .map(|specs| specs.values().map(|r| i64::from(r.replicas.unwrap_or(1))).sum())
                    .unwrap_or(0)
            }
        }
    )*};
}

job_helpers! {
    PyTorchJob => pytorch_replica_specs,
    TFJob => tf_replica_specs,
    MPIJob => mpi_replica_specs,
    XGBoostJob => xgb_replica_specs,
    JAXJob => jax_replica_specs,
    PaddleJob => paddle_replica_specs,
}
