//! What Hyperband and ASHA share: the resource parameter, its ladder of
//! rungs, ranking a rung's trials, and confirming a suggestion against the
//! history before counting it.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::space::{ParamKind, Params, SearchSpace, Value};
use crate::study::{Direction, TrialRecord, TrialState};
use crate::{Error, Result};

/// Relative slack when comparing resources computed with powers of eta, so
/// that `min * eta^s` lands on `max` when the ratio is an exact power.
const SLACK: f64 = 1e-9;

/// The rungs' resources, lowest first, as values of the resource parameter.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Ladder {
    /// One value per rung, strictly increasing; the last is the maximum.
    /// `eta^(rungs - 1)` fits a `u64` (checked), which bounds Hyperband's
    /// bracket sizes.
    pub values: Vec<Value>,
}

impl Ladder {
    /// The highest rung's index (Hyperband's `s_max`).
    pub fn s_max(&self) -> u32 {
        // At most 64 rungs: eta^(rungs - 1) fits a u64 and eta >= 2.
        u32::try_from(self.values.len().saturating_sub(1)).unwrap_or(u32::MAX)
    }
}

/// The resource settings of a sampler, checked against the space: `sampler`
/// names errors (`hyperband`, `asha`), `min`/`max` default to the resource
/// parameter's bounds.
pub(crate) struct ResourceSpec<'a> {
    pub sampler: &'a str,
    pub name: &'a str,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub eta: u32,
    /// The option holding `eta` (`eta`, `reduction_factor`).
    pub eta_setting: &'a str,
}

impl ResourceSpec<'_> {
    fn setting(&self, field: &str) -> String {
        format!("{}.{field}", self.sampler)
    }

    /// Checks the settings that do not depend on the space.
    pub fn validate(&self) -> Result<()> {
        if self.eta < 2 {
            return Err(Error::setting(
                self.setting(self.eta_setting),
                format!("must be at least 2, got {}", self.eta),
            ));
        }
        for (field, value) in [("min_resource", self.min), ("max_resource", self.max)] {
            if let Some(x) = value
                && !(x.is_finite() && x > 0.0)
            {
                return Err(Error::setting(
                    self.setting(field),
                    format!("must be finite and > 0, got {x}"),
                ));
            }
        }
        if let (Some(min), Some(max)) = (self.min, self.max)
            && min > max
        {
            return Err(Error::setting(
                self.setting("min_resource"),
                format!("{min} is greater than max_resource {max}"),
            ));
        }
        Ok(())
    }

    fn unsupported(&self, reason: impl Into<String>) -> Error {
        Error::UnsupportedSpace {
            sampler: self.sampler.to_owned(),
            param: self.name.to_owned(),
            reason: reason.into(),
        }
    }

    /// The ladder: the top rung at the maximum resource, each rung below it
    /// `eta` times smaller, down to the minimum; every resource snapped to
    /// the parameter's nearest value. Errors name the parameter (missing,
    /// not numeric, conditional, rungs that collapse onto one value) or the
    /// setting (outside the parameter's bounds).
    pub fn ladder(&self, space: &SearchSpace) -> Result<Ladder> {
        self.validate()?;
        let param = space.param(self.name).ok_or_else(|| {
            self.unsupported("is not a parameter of the space; the resource (epochs, steps, ...) must be one, an int or a double")
        })?;
        let (lo, hi) = match param.kind() {
            ParamKind::Int { min, max, .. } => (*min as f64, *max as f64),
            ParamKind::Double { min, max, .. } => (*min, *max),
            ParamKind::Discrete { .. } | ParamKind::Categorical { .. } => {
                return Err(self
                    .unsupported("is a list parameter; the resource must be an int or a double"));
            }
        };
        if param.condition().is_some() {
            return Err(self.unsupported("is conditional; the resource must be set in every trial"));
        }
        let max = self.max.unwrap_or(hi);
        let min = match self.min {
            Some(min) => min,
            None if lo > 0.0 => lo,
            None => {
                return Err(Error::setting(
                    self.setting("min_resource"),
                    format!(
                        "must be given: the min {lo} of resource parameter {:?} is not positive",
                        self.name
                    ),
                ));
            }
        };
        if max > hi * (1.0 + SLACK) {
            return Err(Error::setting(
                self.setting("max_resource"),
                format!(
                    "{max} is above the max {hi} of resource parameter {:?}",
                    self.name
                ),
            ));
        }
        if min < lo * (1.0 - SLACK) || min > max {
            return Err(Error::setting(
                self.setting("min_resource"),
                format!(
                    "{min} is outside [{lo}, {max}] (the min of resource parameter {:?}, max_resource)",
                    self.name
                ),
            ));
        }
        let eta = f64::from(self.eta);
        let mut s_max = 0_u32;
        while min * eta.powi(s_max as i32 + 1) <= max * (1.0 + SLACK) {
            s_max += 1;
        }
        if u64::from(self.eta).checked_pow(s_max).is_none() {
            return Err(Error::setting(
                self.setting("min_resource"),
                format!(
                    "{min} gives {s_max} rungs of factor {eta} below {max}, too many: raise it"
                ),
            ));
        }
        let mut values: Vec<Value> = Vec::with_capacity(s_max as usize + 1);
        for k in 0..=s_max {
            let raw = max / eta.powi((s_max - k) as i32);
            let value = param.nearest(raw)?;
            if let Some(below) = values.last()
                && below.as_f64() >= value.as_f64()
            {
                return Err(self.unsupported(format!(
                    "rungs {} and {k} both get the value {value} (resources {} and {raw}); use a smaller {}, a finer step or a wider range",
                    k - 1,
                    max / eta.powi((s_max - k + 1) as i32),
                    self.eta_setting,
                )));
            }
            values.push(value);
        }
        Ok(Ladder { values })
    }
}

/// A fresh configuration at `resource`: one uniform coordinate per
/// parameter (as the random sampler), then the resource set.
pub(crate) fn random_config(
    rng: &mut ChaCha8Rng,
    space: &SearchSpace,
    name: &str,
    resource: &Value,
) -> Result<Params> {
    let point: Vec<f64> = (0..space.dims()).map(|_| rng.random::<f64>()).collect();
    let mut params = space.decode(&point)?;
    params.insert(name, resource.clone());
    Ok(params)
}

/// Trial `id`'s configuration, moved to `resource`.
pub(crate) fn promote(
    trials: &[TrialRecord],
    id: u64,
    name: &str,
    resource: &Value,
    sampler: &str,
) -> Result<Params> {
    let mut params = trial(trials, id)
        .ok_or_else(|| {
            Error::Restore(format!(
                "the {sampler} sampler's state names trial {id}, which the study does not have"
            ))
        })?
        .params
        .clone();
    params.insert(name, resource.clone());
    Ok(params)
}

fn trial(trials: &[TrialRecord], id: u64) -> Option<&TrialRecord> {
    usize::try_from(id).ok().and_then(|i| trials.get(i))
}

/// Whether every one of `ids` has finished (complete, failed or pruned).
pub(crate) fn all_finished(trials: &[TrialRecord], ids: &[u64]) -> bool {
    ids.iter()
        .all(|&id| trial(trials, id).is_some_and(|t| t.state != TrialState::Running))
}

/// How many trials are running.
pub(crate) fn running(trials: &[TrialRecord]) -> u64 {
    trials
        .iter()
        .filter(|t| t.state == TrialState::Running)
        .count() as u64
}

/// The best `m(k)` of the `k` complete trials among `ids`, best first (the
/// earlier among equals). Failed, pruned and running trials have no value at
/// the rung's resource, so they are never promoted.
pub(crate) fn best(
    trials: &[TrialRecord],
    ids: &[u64],
    direction: Direction,
    m: impl FnOnce(usize) -> usize,
) -> Vec<u64> {
    let mut scored: Vec<(f64, u64)> = ids
        .iter()
        .filter_map(|&id| {
            let t = trial(trials, id)?;
            match (t.state, t.value) {
                (TrialState::Complete, Some(v)) => Some((v, id)),
                _ => None,
            }
        })
        .collect();
    let order = |a: &(f64, u64), b: &(f64, u64)| {
        let by_value = match direction {
            Direction::Minimize => a.0.total_cmp(&b.0),
            Direction::Maximize => b.0.total_cmp(&a.0),
        };
        by_value.then(a.1.cmp(&b.1))
    };
    let m = m(scored.len());
    // Ids are distinct, so the order is total and the selection exact.
    if m < scored.len() {
        scored.select_nth_unstable_by(m, order);
        scored.truncate(m);
    }
    scored.sort_unstable_by(order);
    scored.into_iter().map(|(_, id)| id).collect()
}

/// The last suggestion, counted only once the study holds it as the trial
/// it was meant to become: the next suggestion's context is checked, so a
/// suggestion the study never recorded is not waited for.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Pending<S> {
    /// The id the suggestion gets if the study records it.
    pub id: u64,
    /// What was suggested.
    pub params: Params,
    /// Where it belongs in the sampler's bookkeeping.
    pub slot: S,
}

impl<S> Pending<S> {
    /// Whether the study recorded the suggestion.
    pub fn confirmed(&self, trials: &[TrialRecord]) -> bool {
        trial(trials, self.id).is_some_and(|t| t.params == self.params)
    }
}
