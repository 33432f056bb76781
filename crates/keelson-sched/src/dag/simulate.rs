//! A simulated executor: runs a DAG to the end with placeholder outputs,
//! so that a pipeline's structure can be checked without running anything.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value as Json;

use super::run::{
    LineageEvent, ReadyStep, Run, RunStatus, SkipReason, StepState, StepView, Undecided,
};
use super::{Artifact, Dag, OutputKind, Value, Work};
use crate::{Error, Result};

/// How [`simulate`] settles conditions it cannot decide.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Branches {
    /// Run every step whose condition is undecidable.
    Taken,
    /// Skip them.
    NotTaken,
}

/// What a simulated run did.
#[derive(Clone, Debug)]
pub struct Simulation {
    /// False if the run was cut at `max_executions`.
    pub complete: bool,
    /// How the run ended (`Running` if cut).
    pub status: RunStatus,
    /// Task instances in the order they ran, each with its round (tasks of
    /// one round ran side by side, after everything of earlier rounds).
    pub executions: Vec<(String, u32)>,
    /// Every step instance at the end.
    pub steps: Vec<StepView>,
    /// The lineage events recorded.
    pub events: Vec<LineageEvent>,
    /// The conditions settled by the [`Branches`] policy.
    pub undecided: Vec<Undecided>,
}

/// Runs `dag` with `inputs`: each round starts every ready task and
/// completes it with placeholder outputs (a two-item list for a list
/// output, an artifact at `sim://<instance>/<output>` for artifacts, no
/// value for other parameters, so that conditions on them are
/// undecidable), and settles undecidable conditions by `branches`.
/// The run is cut (`complete` false) once `max_executions` tasks ran. An
/// error is a bug: a run that stops with steps left.
///
/// ```
/// use std::collections::BTreeMap;
/// use keelson_sched::cel::Expr;
/// use keelson_sched::dag::{Branches, Dag, Input, OutputKind, Step, simulate};
///
/// let dag = Dag::new([
///     Step::task("flip", "comp-flip", "").with_output("side", OutputKind::Scalar),
///     Step::task("heads", "comp-print", "")
///         .with_input("side", Input::output("flip", "side"))
///         .when(Expr::parse("inputs.parameter_values['side'] == 'heads'")?),
/// ])?;
/// let taken = simulate(dag.clone(), BTreeMap::new(), Branches::Taken, 100)?;
/// assert_eq!(taken.executions, [("flip".to_owned(), 0), ("heads".to_owned(), 1)]);
/// taken.verify(&dag).unwrap();
/// let not_taken = simulate(dag.clone(), BTreeMap::new(), Branches::NotTaken, 100)?;
/// assert_eq!(not_taken.executions.len(), 1);
/// not_taken.verify(&dag).unwrap();
/// # Ok::<(), keelson_sched::Error>(())
/// ```
pub fn simulate(
    dag: impl Into<Arc<Dag>>,
    inputs: BTreeMap<String, Value>,
    branches: Branches,
    max_executions: usize,
) -> Result<Simulation> {
    let mut run = Run::new(dag, inputs);
    let mut executions = Vec::new();
    let mut settled = Vec::new();
    let mut round: u32 = 0;
    let mut complete = true;
    'rounds: loop {
        let now = u64::from(round) * 1000;
        let mut ready = run.ready(now);
        // Settling a question may start steps, or nested questions: settle
        // all of them before this round's tasks start.
        loop {
            let undecided = run.undecided();
            if undecided.is_empty() {
                break;
            }
            for u in undecided {
                run.decide(&u.id, branches == Branches::Taken)?;
                settled.push(u);
            }
            ready = run.ready(now);
        }
        if ready.is_empty() {
            break;
        }
        for step in ready {
            if executions.len() >= max_executions {
                complete = false;
                break 'rounds;
            }
            run.started(&step.id)?;
            let outputs = placeholders(&step);
            executions.push((step.id.clone(), round));
            run.completed(&step.id, outputs)?;
        }
        round = round.saturating_add(1);
    }
    let status = run.status();
    let steps = run.steps();
    if complete && status == RunStatus::Running {
        let left: Vec<&str> = steps
            .iter()
            .filter(|s| !is_final(&s.state))
            .map(|s| s.id.as_str())
            .take(5)
            .collect();
        return Err(Error::invalid(
            "simulation",
            format!("stopped with steps left: {}", left.join(", ")),
        ));
    }
    Ok(Simulation {
        complete,
        status,
        executions,
        steps,
        events: run.take_events(),
        undecided: settled,
    })
}

fn is_final(state: &StepState) -> bool {
    matches!(
        state,
        StepState::Succeeded | StepState::Cached | StepState::Failed(_) | StepState::Skipped(_)
    )
}

fn placeholders(step: &ReadyStep) -> BTreeMap<String, Value> {
    step.outputs
        .iter()
        .filter_map(|(name, kind)| {
            let v = match kind {
                OutputKind::Scalar => return None,
                OutputKind::List => Value::Parameter(Json::Array(vec![
                    Json::String(format!("{name}-0")),
                    Json::String(format!("{name}-1")),
                ])),
                OutputKind::Artifacts => {
                    Value::Artifacts(vec![Artifact::new(format!("sim://{}/{name}", step.id))])
                }
            };
            Some((name.clone(), v))
        })
        .collect()
}

impl Simulation {
    /// Checks the run against `dag`: it is complete and succeeded; every step instance
    /// ended succeeded, cached or skipped by a false condition (a task in a
    /// skipped group never gets an instance); every execution is a task of
    /// the DAG and ran in a later round than every task under each of its
    /// dependencies, at every level of nesting. Returns what is wrong.
    pub fn verify(&self, dag: &Dag) -> std::result::Result<(), String> {
        for view in &self.steps {
            match &view.state {
                StepState::Succeeded
                | StepState::Cached
                | StepState::Skipped(SkipReason::Condition) => {}
                other => return Err(format!("step {} ended {other:?}", view.id)),
            }
        }
        if !self.complete || self.status != RunStatus::Succeeded {
            return Err(format!("run ended {:?}", self.status));
        }
        self.verify_order(dag)
    }

    /// Checks only that every execution is a task of `dag` that ran in a
    /// later round than every task under each of its dependencies, at
    /// every level of nesting (a run may have failed).
    pub fn verify_order(&self, dag: &Dag) -> std::result::Result<(), String> {
        let rounds: BTreeMap<&str, u32> = self
            .executions
            .iter()
            .map(|(id, r)| (id.as_str(), *r))
            .collect();
        if rounds.len() != self.executions.len() {
            return Err("a task instance ran twice".to_owned());
        }
        for (id, round) in &self.executions {
            check_order(dag, id, *round, &rounds)?;
        }
        Ok(())
    }
}

fn check_order(
    dag: &Dag,
    id: &str,
    round: u32,
    rounds: &BTreeMap<&str, u32>,
) -> std::result::Result<(), String> {
    let mut dag = dag;
    let mut prefix = String::new();
    let segs: Vec<&str> = id.split('/').collect();
    for (k, seg) in segs.iter().enumerate() {
        let name = seg.split_once('[').map_or(*seg, |(n, _)| n);
        let step = dag
            .step(name)
            .ok_or_else(|| format!("{id}: no step {name} in the DAG"))?;
        for dep in step.dependencies() {
            let dep_id = if prefix.is_empty() {
                dep.to_owned()
            } else {
                format!("{prefix}/{dep}")
            };
            let under = rounds
                .range(dep_id.as_str()..)
                .take_while(|(other, _)| other.starts_with(dep_id.as_str()))
                .filter(|(other, _)| {
                    other
                        .get(dep_id.len()..)
                        .is_some_and(|rest| rest.is_empty() || rest.starts_with(['/', '[']))
                });
            for (other, r) in under {
                if *r >= round {
                    return Err(format!(
                        "{id} ran in round {round}, not after {other} (round {r})"
                    ));
                }
            }
        }
        prefix = if prefix.is_empty() {
            (*seg).to_owned()
        } else {
            format!("{prefix}/{seg}")
        };
        match (&step.work, k + 1 == segs.len()) {
            (Work::Group(inner), false) => dag = inner,
            (Work::Task { .. }, true) => {}
            _ => return Err(format!("{id} does not name a task of the DAG")),
        }
    }
    Ok(())
}
