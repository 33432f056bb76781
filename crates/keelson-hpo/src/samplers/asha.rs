//! Asynchronous successive halving, ASHA (Li, Jamieson, Rostamizadeh,
//! Gonina, Ben-tzur, Hardt, Recht and Talwalkar, "A System for Massively
//! Parallel Hyperparameter Tuning", MLSys 2020).
//!
//! Successive halving without its synchronization: on every ask, promote a
//! configuration that is in the top `1 / eta` of the finished trials of its
//! rung and has not been promoted yet (the highest rung first), else start a
//! new random configuration at the lowest rung. Workers never wait, and the
//! sampler never runs out: the number of trials asked is the budget.

use std::collections::BTreeSet;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::rungs::{self, Pending, ResourceSpec};
use super::{Context, Sampler};
use crate::Result;
use crate::space::{Params, SearchSpace, Value};

/// The settings of [`AshaSampler`].
///
/// ```
/// use keelson_hpo::samplers::AshaOptions;
/// let o = AshaOptions { min_resource: Some(1.0), ..AshaOptions::new("epochs") };
/// assert_eq!(o.reduction_factor, 4);
/// assert!(o.validate().is_ok());
/// assert!(AshaOptions { reduction_factor: 1, ..o }.validate().is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AshaOptions {
    /// The resource parameter: an unconditional `int` or `double` of the
    /// space.
    pub resource_name: String,
    /// The resource of the lowest rung; the parameter's `min` when `None`
    /// (which must then be positive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_resource: Option<f64>,
    /// The resource of the highest rung; the parameter's `max` when `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_resource: Option<f64>,
    /// `eta`: a rung promotes the best `1 / eta` of its trials, each rung
    /// has `eta` times the resource of the one below (4, as Optuna's and
    /// this crate's successive-halving pruner; at least 2).
    #[serde(default = "default_reduction_factor")]
    pub reduction_factor: u32,
}

fn default_reduction_factor() -> u32 {
    4
}

impl AshaOptions {
    /// The defaults for the resource parameter `resource_name`: its bounds
    /// as the resource range, reduction factor 4.
    ///
    /// ```
    /// let o = keelson_hpo::samplers::AshaOptions::new("epochs");
    /// assert_eq!((o.min_resource, o.max_resource), (None, None));
    /// ```
    pub fn new(resource_name: impl Into<String>) -> Self {
        AshaOptions {
            resource_name: resource_name.into(),
            min_resource: None,
            max_resource: None,
            reduction_factor: default_reduction_factor(),
        }
    }

    /// Checks the settings that do not depend on the space; the error names
    /// the offending one (`asha.reduction_factor`, `asha.min_resource`,
    /// `asha.max_resource`).
    ///
    /// ```
    /// use keelson_hpo::samplers::AshaOptions;
    /// let o = AshaOptions { min_resource: Some(9.0), max_resource: Some(3.0), ..AshaOptions::new("epochs") };
    /// assert!(o.validate().unwrap_err().to_string().contains("asha.min_resource"));
    /// ```
    pub fn validate(&self) -> Result<()> {
        self.resource().validate()
    }

    fn resource(&self) -> ResourceSpec<'_> {
        ResourceSpec {
            sampler: "asha",
            name: &self.resource_name,
            min: self.min_resource,
            max: self.max_resource,
            eta: self.reduction_factor,
            eta_setting: "reduction_factor",
        }
    }
}

/// ASHA: asynchronous successive halving over a resource parameter.
///
/// The rungs' resources run from `max_resource` down by factors of `eta`
/// while they stay at or above `min_resource` (so the top rung is the full
/// resource), each snapped to the parameter's nearest value. New
/// configurations come from the seeded ChaCha8 generator (one coordinate per
/// parameter, as [`RandomSampler`](crate::RandomSampler)); a promotion
/// re-issues a finished trial's parameters with the next rung's resource,
/// as a new trial. Like [`HyperbandSampler`](super::HyperbandSampler), the
/// sampler only sets the resource parameter: **the objective must read it**
/// and tell the value reached at that resource.
///
/// A rung's candidates are its complete trials (failed, pruned and running
/// ones have no value there): with `k` of them, the best `floor(k / eta)`
/// may be promoted, each once. Running trials never block an ask.
///
/// ```
/// use keelson_hpo::{Direction, Outcome, ParamSpec, SearchSpace, Study};
/// use keelson_hpo::samplers::{AshaOptions, AshaSampler};
///
/// let space = SearchSpace::new([
///     ParamSpec::double("lr", 1e-3, 1.0),
///     ParamSpec::int("epochs", 1, 27),
/// ])?;
/// let options = AshaOptions { reduction_factor: 3, ..AshaOptions::new("epochs") };
/// let mut study = Study::new(space, Direction::Minimize, AshaSampler::new(0, options))?;
/// for _ in 0..60 {
///     let trial = study.ask()?;
///     let (lr, epochs) = (trial.params.f64("lr")?, trial.params.i64("epochs")?);
///     study.tell(trial.id, Outcome::Value((lr - 0.1).abs() + 1.0 / epochs as f64))?;
/// }
/// let epochs: Vec<i64> = study.trials().iter().map(|t| t.params.i64("epochs").unwrap()).collect();
/// assert!(epochs.iter().all(|e| [1, 3, 9, 27].contains(e)));
/// assert!(epochs.contains(&27));
/// # Ok::<(), keelson_hpo::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AshaSampler {
    rng: ChaCha8Rng,
    options: AshaOptions,
    /// Per rung, lowest first; grown to the ladder's length on the first ask.
    rungs: Vec<AshaRung>,
    /// The last suggestion, until the study is seen to hold it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pending: Option<Pending<Slot>>,
}

/// The trials run at one rung, and those of them already promoted.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
struct AshaRung {
    trials: Vec<u64>,
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    promoted: BTreeSet<u64>,
}

/// Where a suggestion goes: its rung, and the trial it promotes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Slot {
    rung: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    from: Option<u64>,
}

impl AshaSampler {
    /// An ASHA sampler seeded with `seed` (options checked when a study is
    /// created or restored).
    ///
    /// ```
    /// use keelson_hpo::samplers::{AshaOptions, AshaSampler};
    /// let s = AshaSampler::new(1, AshaOptions::new("epochs"));
    /// assert_ne!(s, AshaSampler::new(2, AshaOptions::new("epochs")));
    /// ```
    pub fn new(seed: u64, options: AshaOptions) -> Self {
        AshaSampler {
            rng: ChaCha8Rng::seed_from_u64(seed),
            options,
            rungs: Vec::new(),
            pending: None,
        }
    }

    /// The options.
    ///
    /// ```
    /// use keelson_hpo::samplers::{AshaOptions, AshaSampler};
    /// assert_eq!(AshaSampler::new(0, AshaOptions::new("epochs")).options().resource_name, "epochs");
    /// ```
    pub fn options(&self) -> &AshaOptions {
        &self.options
    }

    /// The rungs' resources over `space`, lowest first.
    ///
    /// ```
    /// use keelson_hpo::{ParamSpec, SearchSpace, Value};
    /// use keelson_hpo::samplers::{AshaOptions, AshaSampler};
    /// let space = SearchSpace::new([ParamSpec::int("epochs", 1, 100)])?;
    /// let asha = AshaSampler::new(0, AshaOptions { reduction_factor: 3, ..AshaOptions::new("epochs") });
    /// // 100 / 81, 100 / 27, ... rounded to the nearest epoch.
    /// assert_eq!(asha.rungs(&space)?, [1, 4, 11, 33, 100].map(Value::Int));
    /// # Ok::<(), keelson_hpo::Error>(())
    /// ```
    pub fn rungs(&self, space: &SearchSpace) -> Result<Vec<Value>> {
        Ok(self.options.resource().ladder(space)?.values)
    }

    /// Remembers a suggestion until the study is seen to hold it.
    fn issue(
        &mut self,
        ctx: &Context<'_>,
        rung: usize,
        from: Option<u64>,
        params: Params,
    ) -> Params {
        self.pending = Some(Pending {
            id: ctx.trials.len() as u64,
            params: params.clone(),
            slot: Slot { rung, from },
        });
        params
    }
}

impl Sampler for AshaSampler {
    fn name(&self) -> &str {
        "asha"
    }

    fn check_space(&self, space: &SearchSpace) -> Result<()> {
        self.options.resource().ladder(space).map(|_| ())
    }

    fn suggest(&mut self, ctx: &Context<'_>) -> Result<Option<Params>> {
        let ladder = self.options.resource().ladder(ctx.space)?.values;
        if self.rungs.len() < ladder.len() {
            self.rungs.resize_with(ladder.len(), AshaRung::default);
        }
        if let Some(p) = self.pending.take()
            && p.confirmed(ctx.trials)
        {
            if let Some(rung) = self.rungs.get_mut(p.slot.rung) {
                rung.trials.push(p.id);
            }
            if let (Some(from), Some(below)) = (
                p.slot.from,
                p.slot
                    .rung
                    .checked_sub(1)
                    .and_then(|k| self.rungs.get_mut(k)),
            ) {
                below.promoted.insert(from);
            }
        }
        let eta = self.options.reduction_factor as usize;
        let name = self.options.resource_name.clone();
        // The top rung's trials have nowhere to go.
        for k in (0..ladder.len().saturating_sub(1)).rev() {
            let Some(rung) = self.rungs.get(k) else {
                continue;
            };
            let top = rungs::best(ctx.trials, &rung.trials, ctx.direction, |k| k / eta);
            if let (Some(&from), Some(resource)) = (
                top.iter().find(|id| !rung.promoted.contains(id)),
                ladder.get(k + 1),
            ) {
                let params = rungs::promote(ctx.trials, from, &name, resource, "asha")?;
                return Ok(Some(self.issue(ctx, k + 1, Some(from), params)));
            }
        }
        let Some(lowest) = ladder.first() else {
            return Ok(None);
        };
        let params = rungs::random_config(&mut self.rng, ctx.space, &name, lowest)?;
        Ok(Some(self.issue(ctx, 0, None, params)))
    }
}
