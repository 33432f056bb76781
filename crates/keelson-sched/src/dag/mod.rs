//! A pipeline DAG with Kubeflow Pipelines' semantics, driven by events.
//!
//! A [`Dag`] is a set of named [`Step`]s. A step is a task (one execution
//! the caller runs, e.g. a container) or a group (a nested `Dag`, as KFP's
//! DAG components). Steps depend on siblings explicitly ([`Step::after`])
//! and through their inputs ([`Input::Output`]); a step may carry a
//! condition (a [`crate::cel::Expr`] over its inputs), a fan-out over a
//! list ([`FanOut`], with a parallelism limit), a [`Trigger`] (exit
//! handlers run whatever their upstream's outcome), a [`Retry`] policy with
//! exponential backoff, and a [`CachePolicy`]. [`Dag::new`] refuses a
//! cycle, a dependency on a missing step and a duplicate name, naming them.
//!
//! A [`Run`] executes a `Dag`: the caller asks [`Run::ready`] which steps
//! can start now, and reports [`Run::started`], [`Run::completed`] and
//! [`Run::failed`]. Conditions the run cannot decide are listed by
//! [`Run::undecided`] for the caller to [`Run::decide`]. Every execution is
//! recorded as a [`LineageEvent`].
//!
//! ```
//! use std::collections::BTreeMap;
//! use keelson_sched::dag::{Dag, Input, Run, RunStatus, Step, Value};
//!
//! let dag = Dag::new([
//!     Step::task("prepare", "comp-prepare", "image: prep:1"),
//!     Step::task("train", "comp-train", "image: train:1")
//!         .with_input("data", Input::output("prepare", "dataset")),
//!     Step::task("notify", "comp-notify", "image: notify:1")
//!         .after("train")
//!         .run_always(),
//! ])?;
//! let mut run = Run::new(dag, BTreeMap::new());
//! let ready = run.ready(0);
//! assert_eq!(ready.len(), 1);
//! assert_eq!(ready[0].id, "prepare");
//! run.started("prepare")?;
//! let outputs = BTreeMap::from([("dataset".to_owned(), Value::artifact("s3://b/data"))]);
//! run.completed("prepare", outputs)?;
//! assert_eq!(run.ready(10)[0].inputs["data"], Value::artifact("s3://b/data"));
//! run.failed("train", "out of memory")?;
//! // The exit handler runs even though train failed.
//! assert_eq!(run.ready(20)[0].id, "notify");
//! run.completed("notify", BTreeMap::new())?;
//! assert_eq!(run.status(), RunStatus::Failed);
//! assert_eq!(run.take_events().len(), 3);
//! # Ok::<(), keelson_sched::Error>(())
//! ```

mod cache;
mod run;
mod simulate;

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use crate::cel::Expr;
use crate::{Error, Result};

pub use cache::{StepCache, cache_key};
pub use run::{
    ExecutionState, LineageEvent, ReadyStep, Run, RunStatus, SkipReason, StepState, StepView,
    Undecided,
};
pub use simulate::{Branches, Simulation, simulate};

/// A value passed between steps: a parameter (any JSON value) or artifacts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Value {
    /// A small value stored by the engine (a KFP parameter).
    Parameter(Json),
    /// References to artifacts (KFP passes one artifact as a list of one).
    Artifacts(Vec<Artifact>),
}

impl Value {
    /// A parameter.
    pub fn parameter(v: impl Into<Json>) -> Value {
        Value::Parameter(v.into())
    }

    /// One artifact at `uri`, without a schema or metadata.
    pub fn artifact(uri: impl Into<String>) -> Value {
        Value::Artifacts(vec![Artifact::new(uri)])
    }
}

/// An artifact: where it is, what it is, and what is known about it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Artifact {
    /// Where the bytes are (e.g. `s3://bucket/run/step/model`).
    pub uri: String,
    /// The artifact type (e.g. KFP's `system.Model`), empty if unknown.
    #[serde(default)]
    pub schema: String,
    /// Properties (metrics, framework, …).
    #[serde(default)]
    pub metadata: BTreeMap<String, Json>,
}

impl Artifact {
    /// An artifact at `uri` with no schema or metadata.
    pub fn new(uri: impl Into<String>) -> Artifact {
        Artifact {
            uri: uri.into(),
            schema: String::new(),
            metadata: BTreeMap::new(),
        }
    }
}

/// Where a step input comes from.
#[derive(Clone, Debug, PartialEq)]
pub enum Input {
    /// A constant.
    Constant(Value),
    /// An input of the enclosing DAG (a pipeline input at the top level).
    Parent(String),
    /// An output of a sibling step (a dependency).
    Output {
        /// The producing step.
        step: String,
        /// The output's name.
        output: String,
    },
    /// The final status of a sibling step (a dependency), as a parameter
    /// `{"state": "SUCCEEDED" | "FAILED" | "SKIPPED", "pipelineTaskName": …,
    /// "error": {"message": …}}`, as KFP's `taskFinalStatus`.
    Status(String),
    /// A value computed from another source by a CEL selector evaluated
    /// with `string_value` (the value as text, JSON for non-strings),
    /// `number_value`, `bool_value`, `list_value` and `struct_value`.
    Selected(Box<Input>, Expr),
}

impl Input {
    /// A parameter constant.
    pub fn constant(v: impl Into<Json>) -> Input {
        Input::Constant(Value::Parameter(v.into()))
    }

    /// An input of the enclosing DAG.
    pub fn parent(name: impl Into<String>) -> Input {
        Input::Parent(name.into())
    }

    /// Output `output` of sibling `step`.
    pub fn output(step: impl Into<String>, output: impl Into<String>) -> Input {
        Input::Output {
            step: step.into(),
            output: output.into(),
        }
    }

    /// The sibling step this input depends on, if any.
    pub fn producer(&self) -> Option<&str> {
        match self {
            Input::Output { step, .. } | Input::Status(step) => Some(step),
            Input::Selected(inner, _) => inner.producer(),
            Input::Constant(_) | Input::Parent(_) => None,
        }
    }
}

/// The kind of a declared output, which lets a simulator make placeholders.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum OutputKind {
    /// A string, number, bool or struct parameter.
    Scalar,
    /// A list parameter (something a loop can iterate over).
    List,
    /// Artifacts.
    Artifacts,
}

/// What a step runs.
#[derive(Clone, Debug, PartialEq)]
pub enum Work {
    /// One execution the caller runs.
    Task {
        /// The component's name (the execution's type in lineage).
        component: String,
        /// The component's full spec as text; with the resolved inputs it
        /// makes the cache key.
        spec: String,
        /// The outputs the component declares.
        outputs: BTreeMap<String, OutputKind>,
    },
    /// A nested DAG, run in its own scope.
    Group(Dag),
}

/// When a step may run once its dependencies are final.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Trigger {
    /// Only if every dependency succeeded (or was skipped by its
    /// condition); otherwise the step is skipped. KFP's default
    /// `ALL_UPSTREAM_TASKS_SUCCEEDED`.
    #[default]
    AllSucceeded,
    /// Whatever the dependencies' outcome: exit handlers. KFP's
    /// `ALL_UPSTREAM_TASKS_COMPLETED`.
    AllDone,
}

/// Where a fan-out's items come from.
#[derive(Clone, Debug, PartialEq)]
pub enum Items {
    /// A fixed list.
    Raw(Vec<Json>),
    /// One of the step's own inputs (by name): a list parameter, a string
    /// holding a JSON array, or artifacts (one iteration per artifact).
    Input(String),
}

/// Run a step once per item, at most `parallelism` iterations at a time.
#[derive(Clone, Debug, PartialEq)]
pub struct FanOut {
    /// The items.
    pub items: Items,
    /// The input through which each iteration receives its item.
    pub item_input: String,
    /// How many iterations may be in progress at once (`None`: all).
    pub parallelism: Option<u32>,
}

/// Retries with exponential backoff: after the `n`-th failed attempt
/// (`n` from 1) the step waits `min(backoff_ms · factorⁿ⁻¹, max_backoff_ms)`
/// and runs again, at most `max_retries` times.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Retry {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// The first delay, in milliseconds.
    pub backoff_ms: u64,
    /// The growth of the delay from one retry to the next (≥ 1).
    pub factor: f64,
    /// The longest delay, in milliseconds.
    pub max_backoff_ms: u64,
}

impl Retry {
    /// The delay before the retry that follows failed attempt `attempt`
    /// (1 for the first attempt).
    pub fn delay_ms(&self, attempt: u32) -> u64 {
        let exponent = i32::try_from(attempt.saturating_sub(1)).unwrap_or(i32::MAX);
        let delay = self.backoff_ms as f64 * self.factor.powi(exponent);
        if delay.is_finite() {
            // `as` saturates; the cap keeps the result in range anyway.
            (delay as u64).min(self.max_backoff_ms)
        } else {
            self.max_backoff_ms
        }
    }
}

/// Reuse a previous execution's outputs when the component spec and the
/// resolved inputs are the same and the entry is fresh enough.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CachePolicy {
    /// The oldest entry to reuse, in milliseconds (`None`: any age).
    pub max_staleness_ms: Option<u64>,
}

/// A step of a [`Dag`].
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    /// The step's name, unique among its siblings.
    pub name: String,
    /// What it runs.
    pub work: Work,
    /// Its inputs, by name.
    pub inputs: BTreeMap<String, Input>,
    /// Siblings it waits for besides those its inputs name.
    pub after: BTreeSet<String>,
    /// Run only if this evaluates to `true` over the step's inputs
    /// (`inputs.parameter_values['name']`, `inputs.artifacts['name']`).
    pub condition: Option<Expr>,
    /// When it may run.
    pub trigger: Trigger,
    /// Run once per item.
    pub fan_out: Option<FanOut>,
    /// Retries (tasks only).
    pub retry: Option<Retry>,
    /// Caching (tasks only).
    pub cache: Option<CachePolicy>,
}

impl Step {
    /// A task running `component`, whose spec text is `spec`.
    pub fn task(
        name: impl Into<String>,
        component: impl Into<String>,
        spec: impl Into<String>,
    ) -> Step {
        Step::new(
            name,
            Work::Task {
                component: component.into(),
                spec: spec.into(),
                outputs: BTreeMap::new(),
            },
        )
    }

    /// A group running `dag` in its own scope.
    pub fn group(name: impl Into<String>, dag: Dag) -> Step {
        Step::new(name, Work::Group(dag))
    }

    fn new(name: impl Into<String>, work: Work) -> Step {
        Step {
            name: name.into(),
            work,
            inputs: BTreeMap::new(),
            after: BTreeSet::new(),
            condition: None,
            trigger: Trigger::AllSucceeded,
            fan_out: None,
            retry: None,
            cache: None,
        }
    }

    /// Adds an input.
    pub fn with_input(mut self, name: impl Into<String>, input: Input) -> Step {
        self.inputs.insert(name.into(), input);
        self
    }

    /// Declares an output of a task (ignored for groups).
    pub fn with_output(mut self, name: impl Into<String>, kind: OutputKind) -> Step {
        if let Work::Task { outputs, .. } = &mut self.work {
            outputs.insert(name.into(), kind);
        }
        self
    }

    /// Waits for sibling `step`.
    pub fn after(mut self, step: impl Into<String>) -> Step {
        self.after.insert(step.into());
        self
    }

    /// Runs only when `condition` holds.
    pub fn when(mut self, condition: Expr) -> Step {
        self.condition = Some(condition);
        self
    }

    /// Runs once its dependencies are final, whatever their outcome.
    pub fn run_always(mut self) -> Step {
        self.trigger = Trigger::AllDone;
        self
    }

    /// Runs once per item.
    pub fn for_each(mut self, fan_out: FanOut) -> Step {
        self.fan_out = Some(fan_out);
        self
    }

    /// Retries on failure.
    pub fn with_retry(mut self, retry: Retry) -> Step {
        self.retry = Some(retry);
        self
    }

    /// Caches its outputs.
    pub fn with_cache(mut self, cache: CachePolicy) -> Step {
        self.cache = Some(cache);
        self
    }

    /// Every sibling this step waits for: [`Step::after`], the producers
    /// its inputs name, and its items' producer.
    pub fn dependencies(&self) -> BTreeSet<&str> {
        let mut deps: BTreeSet<&str> = self.after.iter().map(String::as_str).collect();
        deps.extend(self.inputs.values().filter_map(Input::producer));
        deps
    }
}

/// How a group's output is chosen from its steps' outputs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DagOutput {
    /// `(step, output)` pairs, in order. A parameter output takes the first
    /// that has a value (KFP's one-of for `if`/`else` branches); an
    /// artifact output gathers all of them.
    pub sources: Vec<(String, String)>,
}

/// A validated set of steps: names unique, every dependency present, no
/// cycle.
#[derive(Clone, Debug, PartialEq)]
pub struct Dag {
    steps: BTreeMap<String, Step>,
    order: Vec<String>,
    outputs: BTreeMap<String, DagOutput>,
    defaults: BTreeMap<String, Value>,
}

impl Dag {
    /// Validates `steps` into a DAG. Errors: [`Error::Invalid`] for a bad or
    /// duplicate name, a fan-out over an input the step does not have, a
    /// retry factor below 1; [`Error::MissingStep`] for a dependency on a
    /// step that is not there; [`Error::Cycle`] with the steps of a cycle.
    ///
    /// ```
    /// use keelson_sched::{Error, dag::{Dag, Step}};
    ///
    /// let err = Dag::new([
    ///     Step::task("a", "c", "").after("b"),
    ///     Step::task("b", "c", "").after("a"),
    /// ]).unwrap_err();
    /// assert_eq!(err, Error::Cycle { steps: vec!["a".into(), "b".into(), "a".into()] });
    /// let err = Dag::new([Step::task("a", "c", "").after("ghost")]).unwrap_err();
    /// assert_eq!(err.to_string(), "step a depends on missing step ghost");
    /// ```
    pub fn new(steps: impl IntoIterator<Item = Step>) -> Result<Dag> {
        let mut map = BTreeMap::new();
        for step in steps {
            check_name(&step.name)?;
            check_step(&step)?;
            if map.contains_key(&step.name) {
                return Err(Error::invalid(
                    format!("step {}", step.name),
                    "defined twice",
                ));
            }
            map.insert(step.name.clone(), step);
        }
        for step in map.values() {
            for dep in step.dependencies() {
                if !map.contains_key(dep) {
                    return Err(Error::MissingStep {
                        step: step.name.clone(),
                        missing: dep.to_owned(),
                    });
                }
            }
        }
        let order = topological_order(&map)?;
        Ok(Dag {
            steps: map,
            order,
            outputs: BTreeMap::new(),
            defaults: BTreeMap::new(),
        })
    }

    /// Declares the DAG's outputs (for a group); every source must be a
    /// step of this DAG.
    pub fn with_outputs(mut self, outputs: BTreeMap<String, DagOutput>) -> Result<Dag> {
        for (name, out) in &outputs {
            for (step, _) in &out.sources {
                if !self.steps.contains_key(step) {
                    return Err(Error::MissingStep {
                        step: format!("output {name}"),
                        missing: step.clone(),
                    });
                }
            }
        }
        self.outputs = outputs;
        Ok(self)
    }

    /// Values the DAG's inputs take when its caller gives none.
    pub fn with_defaults(mut self, defaults: BTreeMap<String, Value>) -> Dag {
        self.defaults = defaults;
        self
    }

    /// The step named `name`.
    pub fn step(&self, name: &str) -> Option<&Step> {
        self.steps.get(name)
    }

    /// The steps, in a topological order (ties by name).
    pub fn steps(&self) -> impl Iterator<Item = &Step> {
        self.order.iter().filter_map(|n| self.steps.get(n))
    }

    /// The DAG's outputs.
    pub fn outputs(&self) -> &BTreeMap<String, DagOutput> {
        &self.outputs
    }

    /// The DAG's input defaults.
    pub fn defaults(&self) -> &BTreeMap<String, Value> {
        &self.defaults
    }

    /// How many tasks the DAG holds, counting nested groups' tasks once
    /// (before any fan-out).
    pub fn task_count(&self) -> usize {
        self.steps
            .values()
            .map(|s| match &s.work {
                Work::Task { .. } => 1,
                Work::Group(d) => d.task_count(),
            })
            .sum()
    }
}

fn check_name(name: &str) -> Result<()> {
    if name.is_empty() || name.contains(['/', '[', ']']) {
        return Err(Error::invalid(
            format!("step {name:?}"),
            "a step name must be non-empty, without '/', '[' or ']'",
        ));
    }
    Ok(())
}

fn check_step(step: &Step) -> Result<()> {
    let item = || format!("step {}", step.name);
    if let Some(fan) = &step.fan_out {
        if let Items::Input(name) = &fan.items
            && !step.inputs.contains_key(name)
        {
            return Err(Error::invalid(
                item(),
                format!("loops over input {name}, which the step does not have"),
            ));
        }
        if fan.parallelism == Some(0) {
            return Err(Error::invalid(
                item(),
                "loop parallelism must be at least 1",
            ));
        }
    }
    if let Some(retry) = &step.retry
        && !(retry.factor.is_finite() && retry.factor >= 1.0)
    {
        return Err(Error::invalid(
            item(),
            format!("retry backoff factor {} must be a number ≥ 1", retry.factor),
        ));
    }
    Ok(())
}

/// Kahn's algorithm with a BTreeSet as the queue, so ties go by name.
fn topological_order(steps: &BTreeMap<String, Step>) -> Result<Vec<String>> {
    let mut waiting: BTreeMap<&str, usize> = BTreeMap::new();
    let mut dependents: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for step in steps.values() {
        let deps = step.dependencies();
        waiting.insert(&step.name, deps.len());
        for dep in deps {
            dependents.entry(dep).or_default().push(&step.name);
        }
    }
    let mut free: BTreeSet<&str> = waiting
        .iter()
        .filter(|(_, n)| **n == 0)
        .map(|(s, _)| *s)
        .collect();
    let mut order = Vec::with_capacity(steps.len());
    while let Some(name) = free.pop_first() {
        order.push(name.to_owned());
        for &next in dependents.get(name).map(Vec::as_slice).unwrap_or_default() {
            if let Some(n) = waiting.get_mut(next) {
                *n -= 1;
                if *n == 0 {
                    free.insert(next);
                }
            }
        }
    }
    if order.len() == steps.len() {
        return Ok(order);
    }
    Err(Error::Cycle {
        steps: find_cycle(steps, &order),
    })
}

/// A cycle among the steps left out of the order: walk dependencies from
/// the first such step until a step repeats.
fn find_cycle(steps: &BTreeMap<String, Step>, ordered: &[String]) -> Vec<String> {
    let done: BTreeSet<&str> = ordered.iter().map(String::as_str).collect();
    let Some(start) = steps.keys().find(|s| !done.contains(s.as_str())) else {
        return Vec::new();
    };
    let mut path: Vec<&str> = vec![start];
    let mut current = start.as_str();
    loop {
        // Every step left has a dependency also left, or it would be ordered.
        let next = steps
            .get(current)
            .and_then(|s| s.dependencies().into_iter().find(|d| !done.contains(d)));
        let Some(next) = next else {
            return path.iter().map(|s| (*s).to_owned()).collect();
        };
        if let Some(at) = path.iter().position(|p| *p == next) {
            let mut cycle: Vec<String> = path
                .get(at..)
                .unwrap_or_default()
                .iter()
                .map(|s| (*s).to_owned())
                .collect();
            cycle.push(next.to_owned());
            return cycle;
        }
        path.push(next);
        current = next;
    }
}
