//! Early stopping on intermediate values: Katib's `medianstop` and a
//! successive-halving pruner.
//!
//! A pruner is consulted by [`Study::report`](crate::Study::report) each
//! time a running trial reports a value. It reads only the study's trials,
//! so it has no state of its own to save.

use serde::{Deserialize, Serialize};

use crate::study::{Direction, TrialRecord, TrialState};
use crate::{Error, Result};

/// What [`Study::report`](crate::Study::report) tells the caller.
///
/// ```
/// assert_ne!(keelson_hpo::Decision::Continue, keelson_hpo::Decision::Prune);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Keep running the trial.
    Continue,
    /// Stop it and tell [`Outcome::Pruned`](crate::Outcome::Pruned).
    Prune,
}

/// The early-stopping rule of a study, tagged by `algorithm` in JSON.
///
/// ```
/// use keelson_hpo::{MedianStop, Pruner};
/// let p = Pruner::MedianStop(MedianStop::default());
/// let json = serde_json::to_string(&p).unwrap();
/// assert_eq!(json, r#"{"algorithm":"medianstop","min_trials_required":3,"start_step":4,"reference":"median"}"#);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "algorithm")]
#[non_exhaustive]
pub enum Pruner {
    /// Katib's `medianstop`.
    #[serde(rename = "medianstop")]
    MedianStop(MedianStop),
    /// Successive halving over the reported steps.
    #[serde(rename = "successive_halving")]
    SuccessiveHalving(SuccessiveHalving),
}

impl Pruner {
    /// Checks the settings; an error names the first one out of range.
    ///
    /// ```
    /// use keelson_hpo::{MedianStop, Pruner};
    /// let p = Pruner::MedianStop(MedianStop { start_step: 0, ..MedianStop::default() });
    /// assert!(p.validate().unwrap_err().to_string().contains("start_step"));
    /// ```
    pub fn validate(&self) -> Result<()> {
        match self {
            Pruner::MedianStop(m) => m.validate(),
            Pruner::SuccessiveHalving(s) => s.validate(),
        }
    }

    /// Whether trial `id`, which just reported `step`, should stop, given
    /// every trial of the study. An unknown id, or settings that
    /// [`Pruner::validate`] rejects, continue.
    ///
    /// ```
    /// use keelson_hpo::{Decision, Direction, MedianStop, Pruner};
    /// let p = Pruner::MedianStop(MedianStop::default());
    /// assert_eq!(p.decide(&[], 0, 1, Direction::Minimize), Decision::Continue);
    /// ```
    pub fn decide(
        &self,
        trials: &[TrialRecord],
        id: u64,
        step: u64,
        direction: Direction,
    ) -> Decision {
        let Some(trial) = usize::try_from(id).ok().and_then(|i| trials.get(i)) else {
            return Decision::Continue;
        };
        // Out-of-range settings would divide by zero or never leave the rung
        // loop; a study never holds such a pruner, but `decide` is public.
        if self.validate().is_err() {
            return Decision::Continue;
        }
        let prune = match self {
            Pruner::MedianStop(m) => m.should_prune(trials, trial, direction),
            Pruner::SuccessiveHalving(s) => s.should_prune(trials, trial, step, direction),
        };
        if prune {
            Decision::Prune
        } else {
            Decision::Continue
        }
    }
}

/// Which statistic of the finished trials' early averages a running trial
/// is compared with.
///
/// ```
/// use keelson_hpo::Reference;
/// assert_eq!(serde_json::to_string(&Reference::Mean).unwrap(), "\"mean\"");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Reference {
    /// The median, as the rule's name and Katib's documentation say.
    #[default]
    Median,
    /// The mean, which is what Katib's `medianstop` service computes
    /// (v1beta1): choose it to reproduce Katib's rules exactly.
    Mean,
}

/// Katib's median stopping rule.
///
/// For every complete trial that reported intermediate values, take the
/// mean of its first `start_step` values (by step). Once at least
/// `min_trials_required` such trials exist, a running trial that has
/// reported at least `start_step` values is pruned when its latest value
/// (at its highest step) is worse than the median of those means.
///
/// ```
/// use keelson_hpo::MedianStop;
/// let m = MedianStop::default();
/// assert_eq!((m.min_trials_required, m.start_step), (3, 4)); // Katib's defaults
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MedianStop {
    /// Complete trials needed before any pruning (Katib: > 0, default 3).
    pub min_trials_required: usize,
    /// Reports a trial must have made before it can be pruned, and how many
    /// early values of each complete trial are averaged (Katib: >= 1,
    /// default 4).
    pub start_step: usize,
    /// Median (default) or, as Katib's service computes, mean.
    #[serde(default)]
    pub reference: Reference,
}

impl Default for MedianStop {
    fn default() -> Self {
        MedianStop {
            min_trials_required: 3,
            start_step: 4,
            reference: Reference::Median,
        }
    }
}

impl MedianStop {
    fn validate(&self) -> Result<()> {
        if self.min_trials_required == 0 {
            return Err(Error::setting(
                "min_trials_required",
                "must be greater than zero",
            ));
        }
        if self.start_step == 0 {
            return Err(Error::setting("start_step", "must be at least 1"));
        }
        Ok(())
    }

    fn should_prune(
        &self,
        trials: &[TrialRecord],
        trial: &TrialRecord,
        direction: Direction,
    ) -> bool {
        if trial.intermediate.len() < self.start_step {
            return false;
        }
        let Some((_, &latest)) = trial.intermediate.iter().next_back() else {
            return false;
        };
        let mut averages: Vec<f64> = trials
            .iter()
            .filter(|t| t.state == TrialState::Complete && !t.intermediate.is_empty())
            .map(|t| {
                let first: Vec<f64> = t
                    .intermediate
                    .values()
                    .take(self.start_step)
                    .copied()
                    .collect();
                first.iter().sum::<f64>() / first.len() as f64
            })
            .collect();
        if averages.len() < self.min_trials_required {
            return false;
        }
        let reference = match self.reference {
            Reference::Mean => averages.iter().sum::<f64>() / averages.len() as f64,
            Reference::Median => {
                averages.sort_by(f64::total_cmp);
                let mid = averages.len() / 2;
                match (averages.get(mid.wrapping_sub(1)), averages.get(mid)) {
                    (Some(a), Some(b)) if averages.len().is_multiple_of(2) => 0.5 * (a + b),
                    (_, Some(b)) => *b,
                    _ => return false,
                }
            }
        };
        direction.is_better(reference, latest)
    }
}

/// Successive halving (asynchronous, as Optuna's `SuccessiveHalvingPruner`).
///
/// Rung `r` sits at step `min_resource * reduction_factor^(min_early_stopping_rate + r)`.
/// A trial's value at a rung is its first reported value at or after the
/// rung's step. When a report takes a trial past a rung, it competes with
/// every other non-failed trial's value at that rung: it continues only if
/// it is among the best `1 / reduction_factor` of them (or is the best, while
/// fewer than `reduction_factor` trials have reached the rung).
///
/// ```
/// use keelson_hpo::SuccessiveHalving;
/// let s = SuccessiveHalving::default();
/// assert_eq!((s.min_resource, s.reduction_factor, s.min_early_stopping_rate), (1, 4, 0));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuccessiveHalving {
    /// The step of the first rung (at least 1).
    pub min_resource: u64,
    /// How much the field shrinks per rung (at least 2).
    pub reduction_factor: u64,
    /// Skips the first rungs: the first is at `min_resource * reduction_factor^this`.
    pub min_early_stopping_rate: u32,
}

impl Default for SuccessiveHalving {
    fn default() -> Self {
        SuccessiveHalving {
            min_resource: 1,
            reduction_factor: 4,
            min_early_stopping_rate: 0,
        }
    }
}

impl SuccessiveHalving {
    fn validate(&self) -> Result<()> {
        if self.min_resource == 0 {
            return Err(Error::setting("min_resource", "must be at least 1"));
        }
        if self.reduction_factor < 2 {
            return Err(Error::setting("reduction_factor", "must be at least 2"));
        }
        Ok(())
    }

    /// The step of rung `r`, or `None` past `u64::MAX`.
    fn rung_step(&self, r: u32) -> Option<u64> {
        let exponent = self.min_early_stopping_rate.checked_add(r)?;
        self.reduction_factor
            .checked_pow(exponent)?
            .checked_mul(self.min_resource)
    }

    fn should_prune(
        &self,
        trials: &[TrialRecord],
        trial: &TrialRecord,
        step: u64,
        direction: Direction,
    ) -> bool {
        let at_rung = |t: &TrialRecord, rung_step: u64| {
            t.intermediate
                .range(rung_step..)
                .next()
                .map(|(s, v)| (*s, *v))
        };
        let mut r = 0;
        while let Some(rung_step) = self.rung_step(r) {
            if rung_step > step {
                break;
            }
            r += 1;
            // Only the report that first reaches a rung is judged there.
            let Some((first_step, value)) = at_rung(trial, rung_step) else {
                continue;
            };
            if first_step != step {
                continue;
            }
            let mut rivals: Vec<f64> = trials
                .iter()
                .filter(|t| t.id != trial.id && t.state != TrialState::Failed)
                .filter_map(|t| at_rung(t, rung_step).map(|(_, v)| v))
                .collect();
            rivals.push(value);
            rivals.sort_by(|a, b| match direction {
                Direction::Minimize => a.total_cmp(b),
                Direction::Maximize => b.total_cmp(a),
            });
            let keep = (rivals.len() as u64 / self.reduction_factor).max(1);
            let cutoff = usize::try_from(keep - 1)
                .ok()
                .and_then(|i| rivals.get(i))
                .copied()
                .unwrap_or(value);
            if direction.is_better(cutoff, value) {
                return true;
            }
        }
        false
    }
}
