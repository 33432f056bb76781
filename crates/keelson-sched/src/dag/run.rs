//! One execution of a [`Dag`], driven by the caller's events and clock.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{Value as Json, json};

use super::cache::{StepCache, cache_key};
use super::{Dag, FanOut, Input, Items, OutputKind, Step, Trigger, Value, Work};
use crate::{Error, Result};

/// A run of a [`Dag`]: which steps may start, and what happened to each.
///
/// Step instances are named by path: `train` at the top level,
/// `loop[2]/eval` for step `eval` in the third iteration of group `loop`.
///
/// Time is the caller's: milliseconds passed to [`Run::ready`]. A retry's
/// backoff counts from the first `ready` call after the failure, and cache
/// entries are stamped with the latest time `ready` was given.
#[derive(Clone, Debug)]
pub struct Run {
    dag: Arc<Dag>,
    root: Scope,
    now: u64,
    cache: StepCache,
    events: Vec<LineageEvent>,
}

/// A task instance that can start now.
#[derive(Clone, Debug, PartialEq)]
pub struct ReadyStep {
    /// The instance's path, the handle for the event methods.
    pub id: String,
    /// The step's name.
    pub step: String,
    /// The component it runs.
    pub component: String,
    /// Its resolved inputs (an input whose source has no value is absent).
    pub inputs: BTreeMap<String, Value>,
    /// 1 for the first attempt, 2 for the first retry, …
    pub attempt: u32,
    /// The cache key its outputs will be stored under, if it is cached.
    pub cache_key: Option<String>,
    /// The outputs the component declares.
    pub outputs: BTreeMap<String, OutputKind>,
}

/// A question the run could not answer: a condition it could not evaluate
/// (an absent input, a type mismatch) or a loop whose items input has no
/// value. The step waits until [`Run::decide`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Undecided {
    /// The step instance's path.
    pub id: String,
    /// The condition's text, or `loop over input <name>`.
    pub condition: String,
    /// Why it could not be evaluated.
    pub reason: String,
}

/// Whether the run is over.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RunStatus {
    /// Steps remain.
    Running,
    /// Every step finished and none failed.
    Succeeded,
    /// Every step finished and at least one failed.
    Failed,
}

/// Why a step did not run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SkipReason {
    /// Its condition was false.
    Condition,
    /// This dependency failed (or was skipped because its own did).
    UpstreamFailed(String),
}

/// Where a step instance stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum StepState {
    /// Waiting for its dependencies.
    Waiting,
    /// Waiting for [`Run::decide`].
    Undecided,
    /// Can start (attempt number).
    Ready(u32),
    /// Started (attempt number).
    Running(u32),
    /// Failed, waiting to retry (the attempt to come).
    Backoff(u32),
    /// A group or loop with steps still in progress.
    InProgress,
    /// Finished.
    Succeeded,
    /// Reused a cached result.
    Cached,
    /// Failed for good.
    Failed(String),
    /// Did not run.
    Skipped(SkipReason),
}

/// A step instance and its state, from [`Run::steps`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepView {
    /// The instance's path.
    pub id: String,
    /// Its state.
    pub state: StepState,
    /// For a loop: how many items it has, once known.
    pub iterations: Option<usize>,
}

/// How an execution ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExecutionState {
    /// It ran and succeeded.
    Complete,
    /// Its outputs came from the cache.
    Cached,
    /// It ran and failed (it may be retried).
    Failed,
}

/// One execution, shaped as a lineage store records it: the execution, its
/// input and output parameters and artifacts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LineageEvent {
    /// The step instance's path.
    pub execution: String,
    /// Which attempt.
    pub attempt: u32,
    /// The component it ran (the execution's type).
    pub component: String,
    /// How it ended.
    pub state: ExecutionState,
    /// Its cache key, if cached.
    pub cache_key: Option<String>,
    /// What it consumed.
    pub inputs: BTreeMap<String, Value>,
    /// What it produced.
    pub outputs: BTreeMap<String, Value>,
    /// The error it failed with.
    pub error: Option<String>,
    /// The run's clock when it was recorded.
    pub time_ms: u64,
}

#[derive(Clone, Debug)]
struct Scope {
    inputs: BTreeMap<String, Value>,
    nodes: BTreeMap<String, Node>,
}

#[derive(Clone, Debug)]
enum Node {
    Waiting,
    Undecided {
        inputs: BTreeMap<String, Value>,
        question: String,
        reason: String,
    },
    /// To start; `decided` when the caller settled an undecidable question.
    Go(BTreeMap<String, Value>, bool),
    Active(Body),
    Done(Outcome, Option<Body>),
}

#[derive(Clone, Debug)]
enum Body {
    Single(Unit),
    Loop(Loop),
}

#[derive(Clone, Debug)]
struct Loop {
    inputs: BTreeMap<String, Value>,
    /// `None`: an item nobody knows (a dry run of a loop over an absent list).
    items: Vec<Option<Value>>,
    parallelism: usize,
    units: Vec<Unit>,
}

#[derive(Clone, Debug)]
enum Unit {
    Task(TaskRun),
    Group(Scope, Option<Outcome>),
    Done(Outcome),
}

#[derive(Clone, Debug)]
struct TaskRun {
    inputs: BTreeMap<String, Value>,
    attempt: u32,
    phase: Phase,
    cache_key: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Ready,
    Running,
    Backoff { delay: u64, since: Option<u64> },
}

#[derive(Clone, Debug, PartialEq)]
enum Outcome {
    Succeeded(BTreeMap<String, Value>),
    Cached(BTreeMap<String, Value>),
    Failed(String),
    Skipped(SkipReason),
}

impl Outcome {
    fn outputs(&self) -> Option<&BTreeMap<String, Value>> {
        match self {
            Outcome::Succeeded(o) | Outcome::Cached(o) => Some(o),
            Outcome::Failed(_) | Outcome::Skipped(_) => None,
        }
    }

    fn blocks(&self) -> bool {
        matches!(
            self,
            Outcome::Failed(_) | Outcome::Skipped(SkipReason::UpstreamFailed(_))
        )
    }
}

struct Ctx<'a> {
    now: u64,
    cache: &'a mut StepCache,
    events: &'a mut Vec<LineageEvent>,
}

impl Unit {
    fn outcome(&self) -> Option<&Outcome> {
        match self {
            Unit::Task(_) | Unit::Group(_, None) => None,
            Unit::Group(_, Some(o)) | Unit::Done(o) => Some(o),
        }
    }
}

impl Scope {
    fn new(dag: &Dag, given: BTreeMap<String, Value>) -> Scope {
        let mut inputs = dag.defaults.clone();
        inputs.extend(given);
        Scope {
            inputs,
            nodes: dag
                .steps
                .keys()
                .map(|k| (k.clone(), Node::Waiting))
                .collect(),
        }
    }

    fn done(&self, name: &str) -> Option<&Outcome> {
        match self.nodes.get(name) {
            Some(Node::Done(o, _)) => Some(o),
            _ => None,
        }
    }
}

impl Run {
    /// Starts a run of `dag` with the pipeline's `inputs` (the DAG's
    /// defaults fill the others).
    pub fn new(dag: impl Into<Arc<Dag>>, inputs: BTreeMap<String, Value>) -> Run {
        let dag = dag.into();
        let root = Scope::new(&dag, inputs);
        Run {
            dag,
            root,
            now: 0,
            cache: StepCache::default(),
            events: Vec::new(),
        }
    }

    /// Uses `cache` for steps with a [`super::CachePolicy`].
    pub fn with_cache(mut self, cache: StepCache) -> Run {
        self.cache = cache;
        self
    }

    /// The cache, with this run's results added.
    pub fn cache(&self) -> &StepCache {
        &self.cache
    }

    /// Ends the run's use of the cache, handing it back.
    pub fn into_cache(self) -> StepCache {
        self.cache
    }

    /// The DAG being run.
    pub fn dag(&self) -> &Dag {
        &self.dag
    }

    /// Advances the run to `now_ms` and returns the task instances that can
    /// start: dependencies final, condition true, within their loop's
    /// parallelism, backoff over. A step stays in the list until
    /// [`Run::started`] (or an outcome) is reported for it. Cached steps
    /// finish here, without being returned.
    pub fn ready(&mut self, now_ms: u64) -> Vec<ReadyStep> {
        self.now = self.now.max(now_ms);
        self.advance();
        let now = self.now;
        let mut out = Vec::new();
        walk_tasks(&self.dag, &mut self.root, "", &mut |step, id, task| {
            if let Phase::Backoff { delay, since } = task.phase {
                let since = since.unwrap_or(now);
                task.phase = if now >= since.saturating_add(delay) {
                    Phase::Ready
                } else {
                    Phase::Backoff {
                        delay,
                        since: Some(since),
                    }
                };
            }
            if task.phase == Phase::Ready
                && let Work::Task {
                    component, outputs, ..
                } = &step.work
            {
                out.push(ReadyStep {
                    id: id.to_owned(),
                    step: step.name.clone(),
                    component: component.clone(),
                    inputs: task.inputs.clone(),
                    attempt: task.attempt,
                    cache_key: task.cache_key.clone(),
                    outputs: outputs.clone(),
                });
            }
        });
        out
    }

    /// Reports that task instance `id` started.
    pub fn started(&mut self, id: &str) -> Result<()> {
        let (_, unit) = self.unit(id)?;
        match unit {
            Unit::Task(task) if task.phase == Phase::Ready => {
                task.phase = Phase::Running;
                Ok(())
            }
            _ => Err(not_ready(id)),
        }
    }

    /// Reports that task instance `id` (ready or started) succeeded with
    /// `outputs`.
    pub fn completed(&mut self, id: &str, outputs: BTreeMap<String, Value>) -> Result<()> {
        let now = self.now;
        let (step, unit) =
            locate(&self.dag, &mut self.root, &segments(id)).ok_or_else(|| unknown(id))?;
        let Unit::Task(task) = unit else {
            return Err(not_ready(id));
        };
        if !matches!(task.phase, Phase::Ready | Phase::Running) {
            return Err(not_ready(id));
        }
        if let Some(key) = &task.cache_key {
            self.cache.insert(key.clone(), outputs.clone(), now);
        }
        self.events.push(LineageEvent {
            execution: id.to_owned(),
            attempt: task.attempt,
            component: component(step),
            state: ExecutionState::Complete,
            cache_key: task.cache_key.clone(),
            inputs: task.inputs.clone(),
            outputs: outputs.clone(),
            error: None,
            time_ms: now,
        });
        *unit = Unit::Done(Outcome::Succeeded(outputs));
        self.advance();
        Ok(())
    }

    /// Reports that task instance `id` (ready or started) failed. It is
    /// retried if its [`super::Retry`] allows; otherwise it fails for good,
    /// and the steps that need it are skipped.
    pub fn failed(&mut self, id: &str, error: &str) -> Result<()> {
        let now = self.now;
        let (step, unit) =
            locate(&self.dag, &mut self.root, &segments(id)).ok_or_else(|| unknown(id))?;
        let Unit::Task(task) = unit else {
            return Err(not_ready(id));
        };
        if !matches!(task.phase, Phase::Ready | Phase::Running) {
            return Err(not_ready(id));
        }
        self.events.push(LineageEvent {
            execution: id.to_owned(),
            attempt: task.attempt,
            component: component(step),
            state: ExecutionState::Failed,
            cache_key: task.cache_key.clone(),
            inputs: task.inputs.clone(),
            outputs: BTreeMap::new(),
            error: Some(error.to_owned()),
            time_ms: now,
        });
        match step.retry {
            Some(retry) if task.attempt <= retry.max_retries => {
                task.phase = Phase::Backoff {
                    delay: retry.delay_ms(task.attempt),
                    since: None,
                };
                task.attempt += 1;
            }
            _ => *unit = Unit::Done(Outcome::Failed(error.to_owned())),
        }
        self.advance();
        Ok(())
    }

    /// Conditions waiting for [`Run::decide`].
    pub fn undecided(&self) -> Vec<Undecided> {
        let mut out = Vec::new();
        walk_nodes(&self.dag, &self.root, "", &mut |id, node| {
            if let Node::Undecided {
                question, reason, ..
            } = node
            {
                out.push(Undecided {
                    id: id.to_owned(),
                    condition: question.clone(),
                    reason: reason.clone(),
                });
            }
        });
        out
    }

    /// Settles the undecided question of step instance `id`: `run` true
    /// runs the step, false skips it (as a false condition would). A loop
    /// whose items input has no value, run anyway, runs one iteration
    /// without an item: a dry run of its body.
    pub fn decide(&mut self, id: &str, run: bool) -> Result<()> {
        let segs = segments(id);
        let (last, parent) = segs.split_last().ok_or_else(|| unknown(id))?;
        let (_, scope) = scope_at(&self.dag, &mut self.root, parent).ok_or_else(|| unknown(id))?;
        let node = scope.nodes.get_mut(*last).ok_or_else(|| unknown(id))?;
        let Node::Undecided { inputs, .. } = node else {
            return Err(Error::invalid(
                format!("step {id}"),
                "has no undecided condition",
            ));
        };
        *node = if run {
            Node::Go(std::mem::take(inputs), true)
        } else {
            Node::Done(Outcome::Skipped(SkipReason::Condition), None)
        };
        self.advance();
        Ok(())
    }

    /// Whether the run is over, and how.
    pub fn status(&self) -> RunStatus {
        if !self
            .root
            .nodes
            .values()
            .all(|n| matches!(n, Node::Done(..)))
        {
            return RunStatus::Running;
        }
        if self
            .root
            .nodes
            .values()
            .any(|n| matches!(n, Node::Done(o, _) if o.blocks()))
        {
            RunStatus::Failed
        } else {
            RunStatus::Succeeded
        }
    }

    /// Every step instance created so far, with its state, parents before
    /// children.
    pub fn steps(&self) -> Vec<StepView> {
        let mut out = Vec::new();
        views(&self.root, &self.dag, "", &mut out);
        out
    }

    /// The executions recorded since the last call.
    pub fn take_events(&mut self) -> Vec<LineageEvent> {
        std::mem::take(&mut self.events)
    }

    fn unit(&mut self, id: &str) -> Result<(&Step, &mut Unit)> {
        locate(&self.dag, &mut self.root, &segments(id)).ok_or_else(|| unknown(id))
    }

    fn advance(&mut self) {
        let mut ctx = Ctx {
            now: self.now,
            cache: &mut self.cache,
            events: &mut self.events,
        };
        advance_scope(&self.dag, &mut self.root, "", &mut ctx);
    }
}

fn unknown(id: &str) -> Error {
    Error::invalid(format!("step {id}"), "no such step instance in this run")
}

fn not_ready(id: &str) -> Error {
    Error::invalid(format!("step {id}"), "is not a ready or running task")
}

fn component(step: &Step) -> String {
    match &step.work {
        Work::Task { component, .. } => component.clone(),
        Work::Group(_) => String::new(),
    }
}

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_owned()
    } else {
        format!("{prefix}/{name}")
    }
}

fn segments(id: &str) -> Vec<&str> {
    id.split('/').collect()
}

/// `name` or `name[i]`.
fn parse_segment(seg: &str) -> Option<(&str, Option<usize>)> {
    match seg.strip_suffix(']') {
        Some(rest) => {
            let (name, index) = rest.split_once('[')?;
            Some((name, Some(index.parse().ok()?)))
        }
        None => Some((seg, None)),
    }
}

fn scope_at<'a>(
    dag: &'a Dag,
    scope: &'a mut Scope,
    segs: &[&str],
) -> Option<(&'a Dag, &'a mut Scope)> {
    if segs.is_empty() {
        return Some((dag, scope));
    }
    let (step, unit) = locate(dag, scope, segs)?;
    match (&step.work, unit) {
        (Work::Group(inner), Unit::Group(s, _)) => Some((inner, s)),
        _ => None,
    }
}

fn locate<'a>(
    dag: &'a Dag,
    scope: &'a mut Scope,
    segs: &[&str],
) -> Option<(&'a Step, &'a mut Unit)> {
    let (last, parent) = segs.split_last()?;
    let (dag, scope) = scope_at(dag, scope, parent)?;
    let (name, index) = parse_segment(last)?;
    let step = dag.step(name)?;
    let body = match scope.nodes.get_mut(name)? {
        Node::Active(b) | Node::Done(_, Some(b)) => b,
        _ => return None,
    };
    let unit = match (body, index) {
        (Body::Single(u), None) => u,
        (Body::Loop(l), Some(i)) => l.units.get_mut(i)?,
        _ => return None,
    };
    Some((step, unit))
}

fn advance_scope(dag: &Dag, scope: &mut Scope, prefix: &str, ctx: &mut Ctx<'_>) {
    loop {
        let mut changed = false;
        for step in dag.steps() {
            let id = join(prefix, &step.name);
            let next = match scope.nodes.get(&step.name) {
                Some(Node::Waiting) => triggered(step, scope),
                Some(Node::Go(inputs, decided)) => {
                    Some(activate(step, inputs.clone(), *decided, &id, ctx))
                }
                _ => None,
            };
            if let Some(next) = next {
                scope.nodes.insert(step.name.clone(), next);
                changed = true;
            }
            let finished = match scope.nodes.get_mut(&step.name) {
                Some(Node::Active(body)) => {
                    changed |= advance_body(step, body, &id, ctx);
                    body_outcome(body)
                }
                _ => None,
            };
            if let Some(outcome) = finished
                && let Some(Node::Active(body)) = scope.nodes.remove(&step.name)
            {
                scope
                    .nodes
                    .insert(step.name.clone(), Node::Done(outcome, Some(body)));
                changed = true;
            }
        }
        if !changed {
            return;
        }
    }
}

/// The next state of a waiting step, once all its dependencies are final.
fn triggered(step: &Step, scope: &Scope) -> Option<Node> {
    let mut blocked_by = None;
    for dep in step.dependencies() {
        let outcome = scope.done(dep)?;
        if outcome.blocks() && blocked_by.is_none() {
            blocked_by = Some(dep);
        }
    }
    if let (Some(dep), Trigger::AllSucceeded) = (blocked_by, step.trigger) {
        let reason = SkipReason::UpstreamFailed(dep.to_owned());
        return Some(Node::Done(Outcome::Skipped(reason), None));
    }
    let inputs: BTreeMap<String, Value> = step
        .inputs
        .iter()
        .filter_map(|(name, input)| resolve(input, scope).map(|v| (name.clone(), v)))
        .collect();
    let Some(condition) = &step.condition else {
        return Some(Node::Go(inputs, false));
    };
    let decided = match condition.eval(&condition_env(&inputs)) {
        Ok(Json::Bool(b)) => Ok(b),
        Ok(other) => Err(format!("evaluates to {other}, not a bool")),
        Err(e) => Err(e.to_string()),
    };
    Some(match decided {
        Ok(true) => Node::Go(inputs, false),
        Ok(false) => Node::Done(Outcome::Skipped(SkipReason::Condition), None),
        Err(reason) => Node::Undecided {
            inputs,
            question: condition.source().to_owned(),
            reason,
        },
    })
}

fn resolve(input: &Input, scope: &Scope) -> Option<Value> {
    match input {
        Input::Constant(v) => Some(v.clone()),
        Input::Parent(name) => scope.inputs.get(name).cloned(),
        Input::Output { step, output } => scope.done(step)?.outputs()?.get(output).cloned(),
        Input::Status(step) => {
            let (state, error) = match scope.done(step)? {
                Outcome::Succeeded(_) | Outcome::Cached(_) => ("SUCCEEDED", String::new()),
                Outcome::Failed(e) => ("FAILED", e.clone()),
                Outcome::Skipped(SkipReason::UpstreamFailed(dep)) => {
                    ("FAILED", format!("upstream step {dep} failed"))
                }
                Outcome::Skipped(SkipReason::Condition) => ("SKIPPED", String::new()),
            };
            Some(Value::Parameter(json!({
                "state": state,
                "pipelineTaskName": step,
                "error": {"message": error},
            })))
        }
        Input::Selected(inner, selector) => {
            let Value::Parameter(v) = resolve(inner, scope)? else {
                return None;
            };
            selector.eval(&selector_env(v)).ok().map(Value::Parameter)
        }
    }
}

fn selector_env(v: Json) -> Json {
    let text = match &v {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    };
    let typed = match &v {
        Json::Number(_) => Some("number_value"),
        Json::Bool(_) => Some("bool_value"),
        Json::Array(_) => Some("list_value"),
        Json::Object(_) => Some("struct_value"),
        Json::String(_) | Json::Null => None,
    };
    let mut env = serde_json::Map::new();
    env.insert("string_value".to_owned(), Json::String(text));
    if let Some(name) = typed {
        env.insert(name.to_owned(), v);
    }
    Json::Object(env)
}

fn condition_env(inputs: &BTreeMap<String, Value>) -> Json {
    let mut params = serde_json::Map::new();
    let mut artifacts = serde_json::Map::new();
    for (name, value) in inputs {
        match value {
            Value::Parameter(p) => {
                params.insert(name.clone(), p.clone());
            }
            Value::Artifacts(list) => {
                let list = list
                    .iter()
                    .map(|a| json!({"uri": a.uri, "schema": a.schema, "metadata": a.metadata}))
                    .collect();
                artifacts.insert(name.clone(), Json::Array(list));
            }
        }
    }
    json!({"inputs": {
        "parameter_values": params.clone(),
        "parameters": params,
        "artifacts": artifacts,
    }})
}

fn activate(
    step: &Step,
    inputs: BTreeMap<String, Value>,
    decided: bool,
    id: &str,
    ctx: &mut Ctx<'_>,
) -> Node {
    let Some(fan) = &step.fan_out else {
        return Node::Active(Body::Single(new_unit(step, inputs, id, ctx)));
    };
    let items = match items(fan, &inputs) {
        Ok(Some(list)) => Ok(list.into_iter().map(Some).collect()),
        Ok(None) if decided => Ok(vec![None]),
        Ok(None) => {
            let name = match &fan.items {
                Items::Input(name) => name.as_str(),
                Items::Raw(_) => "",
            };
            return Node::Undecided {
                inputs,
                question: format!("loop over input {name}"),
                reason: format!("loop items input {name} has no value"),
            };
        }
        Err(reason) => Err(reason),
    };
    match items {
        Ok(items) => Node::Active(Body::Loop(Loop {
            inputs,
            items,
            parallelism: fan
                .parallelism
                .and_then(|p| usize::try_from(p).ok())
                .unwrap_or(usize::MAX),
            units: Vec::new(),
        })),
        Err(reason) => Node::Done(Outcome::Failed(reason), None),
    }
}

/// The loop's items; `None` if its items input has no value.
fn items(
    fan: &FanOut,
    inputs: &BTreeMap<String, Value>,
) -> std::result::Result<Option<Vec<Value>>, String> {
    let name = match &fan.items {
        Items::Raw(list) => return Ok(Some(list.iter().cloned().map(Value::Parameter).collect())),
        Items::Input(name) => name,
    };
    let list = match inputs.get(name) {
        None => return Ok(None),
        Some(Value::Parameter(Json::Array(list))) => {
            list.iter().cloned().map(Value::Parameter).collect()
        }
        Some(Value::Parameter(Json::String(text))) => match serde_json::from_str::<Json>(text) {
            Ok(Json::Array(list)) => list.into_iter().map(Value::Parameter).collect(),
            _ => return Err(format!("loop items input {name} is not a JSON list")),
        },
        Some(Value::Artifacts(list)) => list
            .iter()
            .map(|a| Value::Artifacts(vec![a.clone()]))
            .collect(),
        Some(Value::Parameter(other)) => {
            return Err(format!("loop items input {name} is {other}, not a list"));
        }
    };
    Ok(Some(list))
}

fn new_unit(step: &Step, inputs: BTreeMap<String, Value>, id: &str, ctx: &mut Ctx<'_>) -> Unit {
    match &step.work {
        Work::Group(dag) => Unit::Group(Scope::new(dag, inputs), None),
        Work::Task {
            component, spec, ..
        } => {
            let cache_key = step.cache.map(|_| cache_key(spec, &inputs));
            if let (Some(policy), Some(key)) = (step.cache, &cache_key)
                && let Some(outputs) = ctx.cache.lookup(key, ctx.now, policy.max_staleness_ms)
            {
                let outputs = outputs.clone();
                ctx.events.push(LineageEvent {
                    execution: id.to_owned(),
                    attempt: 1,
                    component: component.clone(),
                    state: ExecutionState::Cached,
                    cache_key: cache_key.clone(),
                    inputs,
                    outputs: outputs.clone(),
                    error: None,
                    time_ms: ctx.now,
                });
                return Unit::Done(Outcome::Cached(outputs));
            }
            Unit::Task(TaskRun {
                inputs,
                attempt: 1,
                phase: Phase::Ready,
                cache_key,
            })
        }
    }
}

fn item_id(id: &str, i: usize) -> String {
    format!("{id}[{i}]")
}

/// Starts what the body may start and advances nested groups; true if
/// anything changed.
fn advance_body(step: &Step, body: &mut Body, id: &str, ctx: &mut Ctx<'_>) -> bool {
    match body {
        Body::Single(unit) => advance_unit(step, unit, id, ctx),
        Body::Loop(l) => {
            let mut changed = false;
            let mut active = l.units.iter().filter(|u| u.outcome().is_none()).count();
            while active < l.parallelism
                && let Some(item) = l.items.get(l.units.len())
            {
                let mut inputs = l.inputs.clone();
                if let (Some(fan), Some(item)) = (&step.fan_out, item) {
                    inputs.insert(fan.item_input.clone(), item.clone());
                }
                let unit_id = item_id(id, l.units.len());
                let mut unit = new_unit(step, inputs, &unit_id, ctx);
                advance_unit(step, &mut unit, &unit_id, ctx);
                if unit.outcome().is_none() {
                    active += 1;
                }
                l.units.push(unit);
                changed = true;
            }
            for (i, unit) in l.units.iter_mut().enumerate() {
                changed |= advance_unit(step, unit, &item_id(id, i), ctx);
            }
            changed
        }
    }
}

fn advance_unit(step: &Step, unit: &mut Unit, id: &str, ctx: &mut Ctx<'_>) -> bool {
    let (Work::Group(dag), Unit::Group(scope, outcome @ None)) = (&step.work, unit) else {
        return false;
    };
    advance_scope(dag, scope, id, ctx);
    if scope.nodes.values().all(|n| matches!(n, Node::Done(..))) {
        *outcome = Some(group_outcome(dag, scope));
        return true;
    }
    false
}

fn group_outcome(dag: &Dag, scope: &Scope) -> Outcome {
    for step in dag.steps() {
        if let Some(Outcome::Failed(e)) = scope.done(&step.name) {
            return Outcome::Failed(format!("step {} failed: {e}", step.name));
        }
    }
    let mut outputs = BTreeMap::new();
    for (name, out) in &dag.outputs {
        let values = out
            .sources
            .iter()
            .filter_map(|(step, key)| scope.done(step)?.outputs()?.get(key));
        if let Some(v) = merge(values) {
            outputs.insert(name.clone(), v);
        }
    }
    Outcome::Succeeded(outputs)
}

/// The first parameter, or all the artifacts.
fn merge<'a>(values: impl Iterator<Item = &'a Value>) -> Option<Value> {
    let mut merged: Option<Value> = None;
    for v in values {
        match (&mut merged, v) {
            (None, v) => merged = Some(v.clone()),
            (Some(Value::Artifacts(all)), Value::Artifacts(more)) => {
                all.extend(more.iter().cloned())
            }
            _ => {}
        }
    }
    merged
}

fn body_outcome(body: &Body) -> Option<Outcome> {
    match body {
        Body::Single(unit) => unit.outcome().cloned(),
        Body::Loop(l) => {
            if l.units.len() < l.items.len() {
                return None;
            }
            let mut outcomes = Vec::with_capacity(l.units.len());
            for unit in &l.units {
                outcomes.push(unit.outcome()?);
            }
            Some(loop_outcome(&outcomes))
        }
    }
}

/// Fails if an iteration failed; otherwise each output gathers the
/// iterations' values in order: parameters into a list, artifacts into one
/// list of artifacts (KFP's iterator convention).
fn loop_outcome(outcomes: &[&Outcome]) -> Outcome {
    for (i, o) in outcomes.iter().enumerate() {
        if let Outcome::Failed(e) = o {
            return Outcome::Failed(format!("iteration {i} failed: {e}"));
        }
    }
    let mut outputs: BTreeMap<String, Value> = BTreeMap::new();
    for outs in outcomes.iter().filter_map(|o| o.outputs()) {
        for (name, v) in outs {
            let slot = outputs.entry(name.clone()).or_insert_with(|| match v {
                Value::Parameter(_) => Value::Parameter(Json::Array(Vec::new())),
                Value::Artifacts(_) => Value::Artifacts(Vec::new()),
            });
            match (slot, v) {
                (Value::Parameter(Json::Array(all)), Value::Parameter(p)) => all.push(p.clone()),
                (Value::Artifacts(all), Value::Artifacts(more)) => all.extend(more.iter().cloned()),
                _ => {}
            }
        }
    }
    Outcome::Succeeded(outputs)
}

fn walk_tasks(
    dag: &Dag,
    scope: &mut Scope,
    prefix: &str,
    f: &mut dyn FnMut(&Step, &str, &mut TaskRun),
) {
    for step in dag.steps() {
        let id = join(prefix, &step.name);
        let Some(Node::Active(body)) = scope.nodes.get_mut(&step.name) else {
            continue;
        };
        let units: Vec<(String, &mut Unit)> = match body {
            Body::Single(u) => vec![(id, u)],
            Body::Loop(l) => l
                .units
                .iter_mut()
                .enumerate()
                .map(|(i, u)| (item_id(&id, i), u))
                .collect(),
        };
        for (uid, unit) in units {
            match (unit, &step.work) {
                (Unit::Task(task), _) => f(step, &uid, task),
                (Unit::Group(inner, None), Work::Group(d)) => walk_tasks(d, inner, &uid, f),
                _ => {}
            }
        }
    }
}

fn walk_nodes(dag: &Dag, scope: &Scope, prefix: &str, f: &mut dyn FnMut(&str, &Node)) {
    for step in dag.steps() {
        let id = join(prefix, &step.name);
        let Some(node) = scope.nodes.get(&step.name) else {
            continue;
        };
        f(&id, node);
        if let (Node::Active(body), Work::Group(d)) = (node, &step.work) {
            for (uid, unit) in body_units(body, &id) {
                if let Unit::Group(inner, None) = unit {
                    walk_nodes(d, inner, &uid, f);
                }
            }
        }
    }
}

fn body_units<'a>(body: &'a Body, id: &str) -> Vec<(String, &'a Unit)> {
    match body {
        Body::Single(u) => vec![(id.to_owned(), u)],
        Body::Loop(l) => l
            .units
            .iter()
            .enumerate()
            .map(|(i, u)| (item_id(id, i), u))
            .collect(),
    }
}

fn outcome_state(o: &Outcome) -> StepState {
    match o {
        Outcome::Succeeded(_) => StepState::Succeeded,
        Outcome::Cached(_) => StepState::Cached,
        Outcome::Failed(e) => StepState::Failed(e.clone()),
        Outcome::Skipped(r) => StepState::Skipped(r.clone()),
    }
}

fn unit_state(unit: &Unit) -> StepState {
    match unit {
        Unit::Task(t) => match t.phase {
            Phase::Ready => StepState::Ready(t.attempt),
            Phase::Running => StepState::Running(t.attempt),
            Phase::Backoff { .. } => StepState::Backoff(t.attempt),
        },
        Unit::Group(_, None) => StepState::InProgress,
        Unit::Group(_, Some(o)) | Unit::Done(o) => outcome_state(o),
    }
}

fn views(scope: &Scope, dag: &Dag, prefix: &str, out: &mut Vec<StepView>) {
    for step in dag.steps() {
        let id = join(prefix, &step.name);
        let Some(node) = scope.nodes.get(&step.name) else {
            continue;
        };
        let (state, body) = match node {
            Node::Waiting | Node::Go(..) => (StepState::Waiting, None),
            Node::Undecided { .. } => (StepState::Undecided, None),
            Node::Active(body) => (
                match body {
                    Body::Single(u) => unit_state(u),
                    Body::Loop(_) => StepState::InProgress,
                },
                Some(body),
            ),
            Node::Done(o, body) => (outcome_state(o), body.as_ref()),
        };
        let iterations = match body {
            Some(Body::Loop(l)) => Some(l.items.len()),
            _ => None,
        };
        out.push(StepView {
            id: id.clone(),
            state,
            iterations,
        });
        let Some(body) = body else {
            continue;
        };
        let looped = matches!(body, Body::Loop(_));
        for (uid, unit) in body_units(body, &id) {
            if looped {
                out.push(StepView {
                    id: uid.clone(),
                    state: unit_state(unit),
                    iterations: None,
                });
            }
            if let (Unit::Group(inner, _), Work::Group(d)) = (unit, &step.work) {
                views(inner, d, &uid, out);
            }
        }
    }
}
