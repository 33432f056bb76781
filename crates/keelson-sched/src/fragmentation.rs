//! How much of the free key resource (GPUs) the jobs a cluster expects
//! could not use: a whole-GPU reading of the fragmentation measure of
//! Weng et al., "Beware of Fragmentation: Scheduling GPU-Sharing Workloads
//! with Fragmentation Gradient Descent" (USENIX ATC '23), defined in
//! `docs/sched.md`.

use serde::{Deserialize, Serialize};

use crate::placement::Cluster;
use crate::resources::Resources;
use crate::{Error, Result};

/// The fragmentation of a cluster's free key resource for a mix of jobs.
///
/// For a job class `m` asking for `g_m > 0` of the key resource on one
/// node, the free amount `f_n` of node `n` is unusable when the job does
/// not fit on `n` (too few free GPUs, or too little of another resource);
/// `unusable = Σ_m p_m Σ_n [m does not fit n] f_n`, with `p_m` the
/// class's share of the mix. Classes asking for none of the key resource
/// leave nothing unusable.
///
/// ```
/// use keelson_sched::{Cluster, Node, Resources};
///
/// let gpus = |n: &str| Resources::parse([("nvidia.com/gpu", n)]);
/// let cluster = Cluster::new(vec![
///     Node::new("a", gpus("8")?),
///     Node::new("b", gpus("3")?),
///     Node::new("c", gpus("1")?),
/// ])?;
/// // Half the jobs take 1 GPU, half take 4: only the 4-GPU jobs are
/// // stranded, by the 3 + 1 GPUs of b and c.
/// let f = cluster.fragmentation(&[(gpus("1")?, 1.0), (gpus("4")?, 1.0)])?;
/// assert_eq!(f.free, 12.0);
/// assert_eq!(f.unusable, 2.0);
/// assert!((f.share - 2.0 / 12.0).abs() < 1e-12);
/// # Ok::<(), keelson_sched::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Fragmentation {
    /// Free key resource on all nodes together, in units (GPUs).
    pub free: f64,
    /// Expected free key resource a job of the mix cannot use, in units.
    pub unusable: f64,
    /// `unusable / free`; 0 when nothing is free.
    pub share: f64,
}

impl Cluster {
    /// The fragmentation left by what is bound, for a mix of job classes
    /// (per-pod requests, weight); weights need not sum to 1. An error if
    /// the mix is empty or a weight is negative, not finite, or all are 0.
    pub fn fragmentation(&self, mix: &[(Resources, f64)]) -> Result<Fragmentation> {
        let item = "fragmentation job mix";
        if let Some((_, w)) = mix.iter().find(|(_, w)| !w.is_finite() || *w < 0.0) {
            return Err(Error::invalid(
                item,
                format!("weight {w} is not a finite non-negative number"),
            ));
        }
        let total_weight: f64 = mix.iter().map(|(_, w)| w).sum();
        if total_weight <= 0.0 {
            return Err(Error::invalid(item, "no job class with a positive weight"));
        }
        let key = self.key_resource();
        let units = |free: &Resources| free.get(key).milli() as f64 / 1000.0;
        let mut free = 0.0;
        let mut unusable = 0.0;
        for (_, node_free) in self.nodes() {
            let f = units(node_free);
            free += f;
            let stranded: f64 = mix
                .iter()
                .filter(|(job, _)| !job.get(key).is_zero() && !job.fits(node_free))
                .map(|(_, w)| w / total_weight)
                .sum();
            unusable += stranded * f;
        }
        let share = if free > 0.0 { unusable / free } else { 0.0 };
        Ok(Fragmentation {
            free,
            unusable,
            share,
        })
    }
}
