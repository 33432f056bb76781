//! Katib's trial pacing as a state machine a controller drives: how many
//! trials to create now, and when the experiment is over and why.
//!
//! The rules follow Katib's experiment controller (kubeflow/katib,
//! `pkg/controller.v1beta1/experiment`), as its docs describe
//! (<https://www.kubeflow.org/docs/components/katib/user-guides/hp-tuning/configure-experiment/>):
//! at most `parallelTrialCount` trials are active (created, not finished)
//! at once, and no more are created than `maxTrialCount` allows counting
//! the finished ones. After every event the experiment is checked, in
//! Katib's order: a succeeded trial whose objective reaches the goal
//! succeeds it (`ExperimentGoalReached`); more than `maxFailedTrialCount`
//! failed trials fail it (`ExperimentFailed`); `maxTrialCount` finished
//! trials (succeeded, failed or early stopped) succeed it
//! (`ExperimentMaxTrialsReached`); a search with nothing left to suggest
//! and no active trial succeeds it (`ExperimentSuggestionEndReached`).
//!
//! ```
//! use keelson_sched::trials::{Experiment, Goal, Objective, Pacing, Phase};
//!
//! let mut exp = Experiment::new(Pacing {
//!     parallel_trial_count: 2,
//!     max_trial_count: Some(10),
//!     max_failed_trial_count: Some(1),
//!     goal: Some(Goal { objective: Objective::Minimize, value: 0.05 }),
//! })?;
//! assert_eq!(exp.trials_to_create(), 2);
//! exp.trial_created("t1")?;
//! exp.trial_created("t2")?;
//! assert_eq!(exp.trials_to_create(), 0);
//! exp.trial_succeeded("t1", 0.2)?;
//! assert_eq!(exp.trials_to_create(), 1);
//! exp.trial_succeeded("t2", 0.04)?;
//! assert_eq!(exp.phase(), Phase::Succeeded);
//! assert_eq!(exp.reason(), "ExperimentGoalReached");
//! assert_eq!(exp.best(), Some(("t2", 0.04)));
//! assert_eq!(exp.trials_to_create(), 0);
//! # Ok::<(), keelson_sched::Error>(())
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// Whether lower or higher objective values are better.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Objective {
    /// Lower is better; the goal is reached at or below it.
    Minimize,
    /// Higher is better; the goal is reached at or above it.
    Maximize,
}

/// An objective value that ends the experiment once a trial reaches it.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Goal {
    /// The direction.
    pub objective: Objective,
    /// The value to reach.
    pub value: f64,
}

/// An experiment's trial budget (Katib's `spec` counts).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Pacing {
    /// `parallelTrialCount`: most trials active at once (Katib's default 3).
    pub parallel_trial_count: u32,
    /// `maxTrialCount`: most trials to finish.
    pub max_trial_count: Option<u32>,
    /// `maxFailedTrialCount`: more failures than this fail the experiment.
    pub max_failed_trial_count: Option<u32>,
    /// `objective.goal`, with `objective.type`.
    pub goal: Option<Goal>,
}

/// Where the experiment is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Phase {
    /// Created, no trial yet.
    Created,
    /// Trials are being run.
    Running,
    /// Over, successfully ([`Experiment::reason`] says why).
    Succeeded,
    /// Over, failed.
    Failed,
}

/// A trial's state.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum TrialState {
    /// Created, not finished.
    Active,
    /// Finished with this objective value.
    Succeeded(f64),
    /// Failed.
    Failed,
    /// Stopped early by the early-stopping rule.
    EarlyStopped,
}

/// An experiment condition, as Katib lists them in `status.conditions`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Condition {
    /// `Created`, `Running`, `Succeeded` or `Failed`.
    pub kind: Phase,
    /// Whether it holds now (`Running` turns false when the experiment ends).
    pub status: bool,
    /// Katib's reason, e.g. `ExperimentMaxTrialsReached`.
    pub reason: String,
}

/// The pacing state of one experiment.
#[derive(Clone, Debug, PartialEq)]
pub struct Experiment {
    pacing: Pacing,
    trials: BTreeMap<String, TrialState>,
    /// Creation order, for Katib's tie rule on the best trial (the first).
    order: Vec<String>,
    suggestions_exhausted: bool,
    conditions: Vec<Condition>,
}

impl Experiment {
    /// A new experiment. `parallel_trial_count` must be at least 1 and a
    /// `max_trial_count` at least 1; the goal must be a finite number.
    pub fn new(pacing: Pacing) -> Result<Experiment> {
        if pacing.parallel_trial_count == 0 {
            return Err(Error::invalid("parallelTrialCount", "must be at least 1"));
        }
        if pacing.max_trial_count == Some(0) {
            return Err(Error::invalid("maxTrialCount", "must be at least 1"));
        }
        if let Some(goal) = pacing.goal
            && !goal.value.is_finite()
        {
            return Err(Error::invalid(
                "objective.goal",
                format!("{} is not a finite number", goal.value),
            ));
        }
        Ok(Experiment {
            pacing,
            trials: BTreeMap::new(),
            order: Vec::new(),
            suggestions_exhausted: false,
            conditions: vec![condition(Phase::Created, "ExperimentCreated")],
        })
    }

    /// How many trials the controller should create now: enough to have
    /// `parallelTrialCount` active, no more than `maxTrialCount` minus the
    /// trials finished, none once the experiment is over or the search is
    /// exhausted.
    pub fn trials_to_create(&self) -> u32 {
        if self.is_over() || self.suggestions_exhausted {
            return 0;
        }
        let active = self.count(|s| matches!(s, TrialState::Active));
        let mut wanted = self.pacing.parallel_trial_count;
        if let Some(max) = self.pacing.max_trial_count {
            let finished = self.count(|s| !matches!(s, TrialState::Active));
            wanted = wanted.min(max.saturating_sub(finished));
        }
        wanted.saturating_sub(active)
    }

    /// Records that trial `name` was created.
    pub fn trial_created(&mut self, name: &str) -> Result<()> {
        if self.is_over() {
            return Err(Error::invalid(
                format!("trial {name}"),
                "the experiment is over",
            ));
        }
        if self.trials.contains_key(name) {
            return Err(Error::invalid(format!("trial {name}"), "created twice"));
        }
        self.trials.insert(name.to_owned(), TrialState::Active);
        self.order.push(name.to_owned());
        self.update();
        Ok(())
    }

    /// Records that trial `name` succeeded with objective value `value`.
    pub fn trial_succeeded(&mut self, name: &str, value: f64) -> Result<()> {
        if !value.is_finite() {
            return Err(Error::invalid(
                format!("trial {name}"),
                format!("objective value {value} is not finite"),
            ));
        }
        self.finish(name, TrialState::Succeeded(value))
    }

    /// Records that trial `name` failed.
    pub fn trial_failed(&mut self, name: &str) -> Result<()> {
        self.finish(name, TrialState::Failed)
    }

    /// Records that trial `name` was stopped early.
    pub fn trial_early_stopped(&mut self, name: &str) -> Result<()> {
        self.finish(name, TrialState::EarlyStopped)
    }

    /// Records that the search algorithm has nothing more to suggest (an
    /// exhausted grid): no more trials, and the experiment succeeds once
    /// the active ones finish.
    pub fn suggestions_exhausted(&mut self) {
        self.suggestions_exhausted = true;
        self.update();
    }

    /// The phase.
    pub fn phase(&self) -> Phase {
        self.conditions
            .iter()
            .rev()
            .find(|c| c.status)
            .map_or(Phase::Created, |c| c.kind)
    }

    /// The reason of the current phase (Katib's reason strings).
    pub fn reason(&self) -> &str {
        self.conditions
            .iter()
            .rev()
            .find(|c| c.status)
            .map_or("", |c| c.reason.as_str())
    }

    /// The conditions, oldest first.
    pub fn conditions(&self) -> &[Condition] {
        &self.conditions
    }

    /// Each trial's state, by name.
    pub fn trials(&self) -> &BTreeMap<String, TrialState> {
        &self.trials
    }

    /// The best succeeded trial and its value (the earliest created on a tie).
    pub fn best(&self) -> Option<(&str, f64)> {
        let minimize = !matches!(
            self.pacing.goal.map(|g| g.objective),
            Some(Objective::Maximize)
        );
        let mut best: Option<(&str, f64)> = None;
        for name in &self.order {
            if let Some(TrialState::Succeeded(v)) = self.trials.get(name) {
                let better = best.is_none_or(|(_, b)| if minimize { *v < b } else { *v > b });
                if better {
                    best = Some((name, *v));
                }
            }
        }
        best
    }

    fn is_over(&self) -> bool {
        matches!(self.phase(), Phase::Succeeded | Phase::Failed)
    }

    fn count(&self, f: impl Fn(&TrialState) -> bool) -> u32 {
        let n = self.trials.values().filter(|s| f(s)).count();
        u32::try_from(n).unwrap_or(u32::MAX)
    }

    fn finish(&mut self, name: &str, state: TrialState) -> Result<()> {
        match self.trials.get_mut(name) {
            Some(s @ TrialState::Active) => *s = state,
            Some(_) => return Err(Error::invalid(format!("trial {name}"), "already finished")),
            None => return Err(Error::invalid(format!("trial {name}"), "was never created")),
        }
        self.update();
        Ok(())
    }

    /// Katib's checks, in its order; the first that holds ends the
    /// experiment. Trials finishing after the end change nothing.
    fn update(&mut self) {
        if self.is_over() {
            return;
        }
        let goal_reached = self.pacing.goal.is_some_and(|g| {
            self.trials.values().any(|s| match (s, g.objective) {
                (TrialState::Succeeded(v), Objective::Minimize) => *v <= g.value,
                (TrialState::Succeeded(v), Objective::Maximize) => *v >= g.value,
                _ => false,
            })
        });
        let failed = self.count(|s| matches!(s, TrialState::Failed));
        let finished = self.count(|s| !matches!(s, TrialState::Active));
        let active = self.count(|s| matches!(s, TrialState::Active));
        let end = if goal_reached {
            Some((Phase::Succeeded, "ExperimentGoalReached"))
        } else if self
            .pacing
            .max_failed_trial_count
            .is_some_and(|max| failed > max)
        {
            Some((Phase::Failed, "ExperimentFailed"))
        } else if self
            .pacing
            .max_trial_count
            .is_some_and(|max| finished >= max)
        {
            Some((Phase::Succeeded, "ExperimentMaxTrialsReached"))
        } else if self.suggestions_exhausted && active == 0 {
            Some((Phase::Succeeded, "ExperimentSuggestionEndReached"))
        } else {
            None
        };
        match end {
            Some((phase, reason)) => {
                for c in &mut self.conditions {
                    if c.kind == Phase::Running {
                        c.status = false;
                    }
                }
                self.conditions.push(condition(phase, reason));
            }
            None if self.phase() == Phase::Created && !self.trials.is_empty() => {
                self.conditions
                    .push(condition(Phase::Running, "ExperimentRunning"));
            }
            None => {}
        }
    }
}

fn condition(kind: Phase, reason: &str) -> Condition {
    Condition {
        kind,
        status: true,
        reason: reason.to_owned(),
    }
}
