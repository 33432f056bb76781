//! Hyperband (Li, Jamieson, DeSalvo, Rostamizadeh and Talwalkar, "Hyperband:
//! A Novel Bandit-Based Approach to Hyperparameter Optimization", JMLR 18,
//! 2018): successive halving, run in brackets that trade the number of
//! configurations against the resource each one gets.
//!
//! The resource (epochs, steps, a fraction of the data) is a parameter of
//! the search space, named in the options, and the sampler sets it: the
//! objective must train for that much and return the value reached there.
//! With `R` the maximum resource, `eta` the reduction factor and
//! `s_max = floor(log_eta(R / min_resource))`, bracket `s = s_max, ..., 0`
//! starts `n = ceil((s_max + 1) / (s + 1) * eta^s)` random configurations at
//! resource `R / eta^s`; rung `i` keeps the best `floor(n / eta^i)` of the
//! rung below and runs them again at `R / eta^(s - i)`.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::rungs::{self, Ladder, Pending, ResourceSpec};
use super::{Context, Sampler};
use crate::space::{Params, SearchSpace, Value};
use crate::{Error, Result};

/// The settings of [`HyperbandSampler`], named after Katib's `hyperband`
/// algorithm settings where it has them.
///
/// ```
/// use keelson_hpo::samplers::HyperbandOptions;
/// let o = HyperbandOptions { max_resource: Some(81.0), ..HyperbandOptions::new("epochs") };
/// assert_eq!((o.eta, o.repeat), (3, false));
/// assert!(o.validate().is_ok());
/// assert!(HyperbandOptions { eta: 1, ..o }.validate().is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HyperbandOptions {
    /// The resource parameter (Katib's `resource_name`): an unconditional
    /// `int` or `double` of the space.
    pub resource_name: String,
    /// The most resource a configuration gets, `R` (Katib's `r_l`); the
    /// parameter's `max` when `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_resource: Option<f64>,
    /// The least resource a configuration gets; the parameter's `min` when
    /// `None` (which must then be positive). Katib has no such setting and
    /// behaves as 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_resource: Option<f64>,
    /// The reduction factor: each rung keeps `1 / eta` of the one below and
    /// gives it `eta` times the resource (Katib's `eta`, 3; at least 2).
    #[serde(default = "default_eta")]
    pub eta: u32,
    /// After the last bracket, start again with the first (the paper's
    /// "infinite horizon" use) instead of ending the study (false).
    #[serde(default)]
    pub repeat: bool,
}

fn default_eta() -> u32 {
    3
}

impl HyperbandOptions {
    /// The defaults for the resource parameter `resource_name`: its bounds
    /// as the resource range, `eta` 3, no repeat.
    ///
    /// ```
    /// let o = keelson_hpo::samplers::HyperbandOptions::new("epochs");
    /// assert_eq!((o.max_resource, o.min_resource), (None, None));
    /// ```
    pub fn new(resource_name: impl Into<String>) -> Self {
        HyperbandOptions {
            resource_name: resource_name.into(),
            max_resource: None,
            min_resource: None,
            eta: default_eta(),
            repeat: false,
        }
    }

    /// Checks the settings that do not depend on the space; the error names
    /// the offending one (`hyperband.eta`, `hyperband.max_resource`,
    /// `hyperband.min_resource`).
    ///
    /// ```
    /// use keelson_hpo::samplers::HyperbandOptions;
    /// let o = HyperbandOptions { max_resource: Some(-1.0), ..HyperbandOptions::new("epochs") };
    /// assert!(o.validate().unwrap_err().to_string().contains("hyperband.max_resource"));
    /// ```
    pub fn validate(&self) -> Result<()> {
        self.resource().validate()
    }

    fn resource(&self) -> ResourceSpec<'_> {
        ResourceSpec {
            sampler: "hyperband",
            name: &self.resource_name,
            min: self.min_resource,
            max: self.max_resource,
            eta: self.eta,
            eta_setting: "eta",
        }
    }
}

/// One rung of a Hyperband bracket: how many configurations run at which
/// value of the resource parameter.
///
/// ```
/// use keelson_hpo::{samplers::Rung, Value};
/// let r = Rung { trials: 81, resource: Value::Int(1) };
/// assert_eq!(r.trials, 81);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Rung {
    /// The configurations run at this rung (at most; fewer when trials of
    /// the rung below failed).
    pub trials: u64,
    /// The resource parameter's value.
    pub resource: Value,
}

/// Hyperband (Katib's `hyperband`): brackets of successive halving over a
/// resource parameter.
///
/// New configurations are drawn at random from the seeded ChaCha8 generator
/// (one coordinate per parameter, as [`RandomSampler`](crate::RandomSampler));
/// a promotion re-issues an earlier trial's parameters with the resource of
/// the next rung, as a new trial. The resource parameter is the only one
/// the sampler changes, so **the objective must read it** (train for that
/// many epochs, say) and tell the value reached at that resource.
///
/// Brackets go from the most exploratory (`s = s_max`) to plain random
/// search at full resource (`s = 0`). A rung is promoted once every trial in
/// it has finished; failed and pruned trials are never promoted. When the
/// open brackets all wait for running trials, the next bracket starts, as
/// Katib does with parallel trials. When every bracket has started and all
/// of them wait, [`Sampler::suggest`] answers [`Error::Waiting`] (the study
/// is not finished: tell outcomes, ask again) rather than inventing work
/// outside the schedule. Once the last bracket's last rung is issued the
/// sampler is exhausted (`None`, so the study reports [`Error::Exhausted`];
/// its trials may still be running) unless [`HyperbandOptions::repeat`].
///
/// The sampler keeps, per open bracket, the current rung's trial ids and the
/// trials promoted into it; it counts a suggestion only once the study's
/// history holds it as the expected trial, so it must be driven by one
/// study's asks (as a study does).
///
/// ```
/// use keelson_hpo::{Direction, Error, Outcome, ParamSpec, SearchSpace, Study};
/// use keelson_hpo::samplers::{HyperbandOptions, HyperbandSampler};
///
/// let space = SearchSpace::new([
///     ParamSpec::double("lr", 1e-3, 1.0),
///     ParamSpec::int("epochs", 1, 9), // the resource: 1, 3 and 9 epochs
/// ])?;
/// let sampler = HyperbandSampler::new(0, HyperbandOptions::new("epochs"));
/// let mut study = Study::new(space, Direction::Minimize, sampler)?;
/// loop {
///     let trial = match study.ask() {
///         Ok(trial) => trial,
///         Err(Error::Exhausted { .. }) => break,
///         Err(e) => return Err(e),
///     };
///     let (lr, epochs) = (trial.params.f64("lr")?, trial.params.i64("epochs")?);
///     let loss = (lr - 0.1).abs() + 1.0 / epochs as f64; // the loss after `epochs`
///     study.tell(trial.id, Outcome::Value(loss))?;
/// }
/// // Brackets of 9 + 3 + 1, 5 + 1 and 3 trials.
/// assert_eq!(study.trials().len(), 22);
/// assert_eq!(study.best_trial().unwrap().params.i64("epochs")?, 9);
/// # Ok::<(), keelson_hpo::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HyperbandSampler {
    rng: ChaCha8Rng,
    options: HyperbandOptions,
    /// Brackets started so far, over every round.
    started: u64,
    /// The brackets started and not finished, oldest first.
    open: Vec<Bracket>,
    /// The last suggestion, until the study is seen to hold it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pending: Option<Pending<u64>>,
}

/// A bracket's progress: the rung it is at and that rung's trials.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Bracket {
    /// The bracket's number among all started: its `s` is
    /// `s_max - number % (s_max + 1)`.
    number: u64,
    /// The current rung, 0 for the random configurations.
    rung: u32,
    /// The current rung's trials so far, in the order issued.
    trials: Vec<u64>,
    /// Above rung 0: the previous rung's trials to run again here, best
    /// first; the rung is fully issued once it has as many trials.
    promoted: Vec<u64>,
}

/// What a bracket can do now.
enum Step {
    Issue(Params),
    Wait,
    Done,
}

impl HyperbandSampler {
    /// A Hyperband sampler seeded with `seed` (options checked when a study
    /// is created or restored).
    ///
    /// ```
    /// use keelson_hpo::samplers::{HyperbandOptions, HyperbandSampler};
    /// let s = HyperbandSampler::new(1, HyperbandOptions::new("epochs"));
    /// assert_eq!(s.options().resource_name, "epochs");
    /// assert_ne!(s, HyperbandSampler::new(2, HyperbandOptions::new("epochs")));
    /// ```
    pub fn new(seed: u64, options: HyperbandOptions) -> Self {
        HyperbandSampler {
            rng: ChaCha8Rng::seed_from_u64(seed),
            options,
            started: 0,
            open: Vec::new(),
            pending: None,
        }
    }

    /// The options.
    ///
    /// ```
    /// use keelson_hpo::samplers::{HyperbandOptions, HyperbandSampler};
    /// assert_eq!(HyperbandSampler::new(0, HyperbandOptions::new("epochs")).options().eta, 3);
    /// ```
    pub fn options(&self) -> &HyperbandOptions {
        &self.options
    }

    /// The schedule over `space`: the brackets in the order they run
    /// (`s = s_max` first), each a list of rungs. With `R = 81` and
    /// `eta = 3` it is the paper's Table 1.
    ///
    /// ```
    /// use keelson_hpo::{ParamSpec, SearchSpace, Value};
    /// use keelson_hpo::samplers::{HyperbandOptions, HyperbandSampler};
    /// let space = SearchSpace::new([ParamSpec::int("epochs", 1, 81)])?;
    /// let brackets = HyperbandSampler::new(0, HyperbandOptions::new("epochs")).brackets(&space)?;
    /// let sizes: Vec<Vec<u64>> = brackets.iter().map(|b| b.iter().map(|r| r.trials).collect()).collect();
    /// assert_eq!(sizes, [vec![81, 27, 9, 3, 1], vec![34, 11, 3, 1], vec![15, 5, 1], vec![8, 2], vec![5]]);
    /// assert_eq!(brackets[1][0].resource, Value::Int(3));
    /// # Ok::<(), keelson_hpo::Error>(())
    /// ```
    pub fn brackets(&self, space: &SearchSpace) -> Result<Vec<Vec<Rung>>> {
        let plan = Plan::new(&self.options, space)?;
        Ok((0..=plan.s_max())
            .rev()
            .map(|s| {
                (0..=s)
                    .filter_map(|i| {
                        Some(Rung {
                            trials: plan.size(s, i),
                            resource: plan.resource(s, i)?.clone(),
                        })
                    })
                    .collect()
            })
            .collect())
    }

    /// Counts the last suggestion if the study recorded it.
    fn confirm(&mut self, ctx: &Context<'_>) {
        let Some(pending) = self.pending.take() else {
            return;
        };
        if pending.confirmed(ctx.trials)
            && let Some(bracket) = self.open.iter_mut().find(|b| b.number == pending.slot)
        {
            bracket.trials.push(pending.id);
        }
    }

    /// Remembers a suggestion of bracket `number` until the study is seen
    /// to hold it.
    fn issue(&mut self, ctx: &Context<'_>, number: u64, params: Params) -> Option<Params> {
        self.pending = Some(Pending {
            id: ctx.trials.len() as u64,
            params: params.clone(),
            slot: number,
        });
        Some(params)
    }
}

/// The schedule's numbers for one space.
struct Plan {
    ladder: Ladder,
    eta: u64,
}

impl Plan {
    fn new(options: &HyperbandOptions, space: &SearchSpace) -> Result<Plan> {
        Ok(Plan {
            ladder: options.resource().ladder(space)?,
            eta: u64::from(options.eta),
        })
    }

    fn s_max(&self) -> u32 {
        self.ladder.s_max()
    }

    /// The `s` of the bracket with this number.
    fn s(&self, number: u64) -> u32 {
        let s_max = self.s_max();
        // The remainder is at most s_max, a u32.
        s_max - u32::try_from(number % (u64::from(s_max) + 1)).unwrap_or(0)
    }

    /// Configurations at rung `i` of bracket `s`:
    /// `floor(ceil((s_max + 1) eta^s / (s + 1)) / eta^i)`.
    fn size(&self, s: u32, i: u32) -> u64 {
        let s_max = u128::from(self.s_max());
        // eta^s <= eta^s_max fits a u64, so these fit a u128.
        let eta_s = u128::from(self.eta).pow(s);
        let n = ((s_max + 1) * eta_s).div_ceil(u128::from(s) + 1);
        u64::try_from(n / u128::from(self.eta).pow(i)).unwrap_or(u64::MAX)
    }

    /// The resource at rung `i <= s` of bracket `s`: ladder rung
    /// `s_max - s + i` (the ladder has `s_max + 1` rungs, so always `Some`).
    fn resource(&self, s: u32, i: u32) -> Option<&Value> {
        let k = (self.s_max().saturating_sub(s) + i) as usize;
        self.ladder.values.get(k)
    }

    fn brackets_per_round(&self) -> u64 {
        u64::from(self.s_max()) + 1
    }
}

impl Bracket {
    /// The bracket's next suggestion, promoting its rung when every trial
    /// of it has finished.
    fn step(
        &mut self,
        plan: &Plan,
        ctx: &Context<'_>,
        rng: &mut ChaCha8Rng,
        name: &str,
    ) -> Result<Step> {
        let s = plan.s(self.number);
        loop {
            let target = if self.rung == 0 {
                plan.size(s, 0)
            } else {
                self.promoted.len() as u64
            };
            let issued = self.trials.len();
            if (issued as u64) < target {
                let Some(resource) = plan.resource(s, self.rung) else {
                    return Ok(Step::Done);
                };
                let params = match self.promoted.get(issued) {
                    Some(&source) if self.rung > 0 => {
                        rungs::promote(ctx.trials, source, name, resource, "hyperband")?
                    }
                    _ => rungs::random_config(rng, ctx.space, name, resource)?,
                };
                return Ok(Step::Issue(params));
            }
            // The last rung promotes nowhere: done once issued, running or not.
            if self.rung >= s {
                return Ok(Step::Done);
            }
            if !rungs::all_finished(ctx.trials, &self.trials) {
                return Ok(Step::Wait);
            }
            let keep = usize::try_from(plan.size(s, self.rung + 1)).unwrap_or(usize::MAX);
            let promoted = rungs::best(ctx.trials, &self.trials, ctx.direction, |_| keep);
            if promoted.is_empty() {
                return Ok(Step::Done);
            }
            self.promoted = promoted;
            self.trials.clear();
            self.rung += 1;
        }
    }
}

impl Sampler for HyperbandSampler {
    fn name(&self) -> &str {
        "hyperband"
    }

    fn check_space(&self, space: &SearchSpace) -> Result<()> {
        Plan::new(&self.options, space).map(|_| ())
    }

    fn suggest(&mut self, ctx: &Context<'_>) -> Result<Option<Params>> {
        let plan = Plan::new(&self.options, ctx.space)?;
        self.confirm(ctx);
        let name = self.options.resource_name.clone();
        let mut i = 0;
        while let Some(bracket) = self.open.get_mut(i) {
            match bracket.step(&plan, ctx, &mut self.rng, &name)? {
                Step::Issue(params) => {
                    let number = bracket.number;
                    return Ok(self.issue(ctx, number, params));
                }
                Step::Wait => i += 1,
                Step::Done => {
                    self.open.remove(i);
                }
            }
        }
        if self.options.repeat || self.started < plan.brackets_per_round() {
            let mut bracket = Bracket {
                number: self.started,
                rung: 0,
                trials: Vec::new(),
                promoted: Vec::new(),
            };
            self.started += 1;
            // A new bracket's first rung has at least one configuration to issue.
            if let Step::Issue(params) = bracket.step(&plan, ctx, &mut self.rng, &name)? {
                let number = bracket.number;
                self.open.push(bracket);
                return Ok(self.issue(ctx, number, params));
            }
        }
        if self.open.is_empty() {
            Ok(None)
        } else {
            Err(Error::Waiting {
                sampler: self.name().to_owned(),
                running: rungs::running(ctx.trials),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::space::ParamSpec;

    fn plan(min: i64, max: i64, eta: u32) -> Plan {
        let space = SearchSpace::new([ParamSpec::int("r", min, max)]).unwrap();
        Plan::new(
            &HyperbandOptions {
                eta,
                ..HyperbandOptions::new("r")
            },
            &space,
        )
        .unwrap()
    }

    #[test]
    fn bracket_numbers_cycle_from_the_most_exploratory() {
        let p = plan(1, 81, 3);
        let s: Vec<u32> = (0..7).map(|n| p.s(n)).collect();
        assert_eq!(s, [4, 3, 2, 1, 0, 4, 3]);
    }

    #[test]
    fn sizes_follow_the_paper_for_other_etas() {
        // R = 16, eta = 2: s_max = 4, n = ceil(5 * 2^s / (s + 1)).
        let p = plan(1, 16, 2);
        let n: Vec<u64> = (0..=4).rev().map(|s| p.size(s, 0)).collect();
        assert_eq!(n, [16, 10, 7, 5, 5]);
        assert_eq!(p.size(3, 3), 1); // 10 / 8
        assert_eq!(p.size(2, 1), 3); // 7 / 2
        let resources: Vec<f64> = (0..=4)
            .map(|i| p.resource(4, i).unwrap().as_f64().unwrap())
            .collect();
        assert_eq!(resources, [1.0, 2.0, 4.0, 8.0, 16.0]);
    }

    #[test]
    fn a_range_narrower_than_eta_is_one_bracket_of_one() {
        let p = plan(5, 10, 3);
        assert_eq!((p.s_max(), p.size(0, 0)), (0, 1));
        assert_eq!(p.resource(0, 0), Some(&Value::Int(10)));
    }
}
