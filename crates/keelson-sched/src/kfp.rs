//! Kubeflow Pipelines' compiled pipeline spec (the IR YAML the KFP SDK
//! writes, `api/v2alpha1/pipeline_spec.proto` in kubeflow/pipelines) read
//! into a [`Dag`].
//!
//! | pipeline spec | DAG |
//! |---|---|
//! | `root.dag`, components with a `dag` | the top-level [`Dag`], groups ([`crate::dag::Work::Group`]) |
//! | components with an `executorLabel` | tasks; the component and its `deploymentSpec` executor are the spec text of the cache key |
//! | `dependentTasks`, `taskOutputParameter`, `taskOutputArtifact` | [`Step::after`], [`Input::Output`] |
//! | `componentInputParameter`, `componentInputArtifact`, `runtimeValue` | [`Input::Parent`], [`Input::Constant`] |
//! | `taskFinalStatus` | [`Input::Status`] |
//! | `parameterExpressionSelector` | [`Input::Selected`] |
//! | `triggerPolicy.condition`, `.strategy` | [`Step::condition`] (CEL), [`Trigger`] |
//! | `parameterIterator` (`raw`, `inputParameter`), `artifactIterator`, `iteratorPolicy.parallelismLimit` | [`FanOut`] |
//! | `dag.outputs` (`valueFromParameter`, `valueFromOneof`, `artifactSelectors`) | [`DagOutput`] |
//! | `cachingOptions.enableCache` | [`CachePolicy`] with no staleness limit |
//! | `retryPolicy` | [`Retry`]; the backoff defaults to factor 2 and is capped at one hour, as the proto says |
//! | `inputDefinitions…defaultValue` | [`Dag::with_defaults`] |
//!
//! Exit handlers need nothing more: the SDK compiles `dsl.ExitHandler` to a
//! group plus a task that depends on it with `ALL_UPSTREAM_TASKS_COMPLETED`.
//! Platform documents (`platforms:`, Kubernetes volumes, secrets) do not
//! affect scheduling and are ignored. A task or input field this module
//! does not know, or a condition outside its CEL subset, is an
//! [`Error::Unsupported`] naming the feature; a dangling reference is
//! [`Error::MissingStep`]; components that contain themselves are
//! [`Error::Cycle`].
//!
//! ```
//! use keelson_sched::dag::Branches;
//! use keelson_sched::kfp::KfpPipeline;
//!
//! let pipeline = KfpPipeline::from_yaml(r#"
//! pipelineInfo: {name: coin}
//! components:
//!   comp-flip: {executorLabel: exec-flip, outputDefinitions: {parameters: {Output: {parameterType: STRING}}}}
//!   comp-print: {executorLabel: exec-print}
//!   comp-condition-1:
//!     dag:
//!       tasks:
//!         print: {componentRef: {name: comp-print}, taskInfo: {name: print}}
//! root:
//!   dag:
//!     tasks:
//!       flip: {componentRef: {name: comp-flip}, taskInfo: {name: flip}}
//!       condition-1:
//!         componentRef: {name: comp-condition-1}
//!         dependentTasks: [flip]
//!         inputs:
//!           parameters:
//!             side: {taskOutputParameter: {producerTask: flip, outputParameterKey: Output}}
//!         triggerPolicy: {condition: "inputs.parameter_values['side'] == 'heads'"}
//! "#)?;
//! assert_eq!(pipeline.name, "coin");
//! assert_eq!(pipeline.dag.task_count(), 2);
//! let sim = pipeline.simulate(Branches::Taken, 1000)?;
//! assert_eq!(sim.executions.len(), 2);
//! sim.verify(&pipeline.dag).unwrap();
//! # Ok::<(), keelson_sched::Error>(())
//! ```

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value as Json;

use crate::cel::Expr;
use crate::dag::{
    Artifact, Branches, CachePolicy, Dag, DagOutput, FanOut, Input, Items, OutputKind, Retry,
    Simulation, Step, Trigger, Value, simulate,
};
use crate::{Error, Result};

/// Most steps a pipeline may expand to (a component used by several tasks
/// is expanded once per use), so that a small spec cannot blow up.
const MAX_STEPS: usize = 10_000;
/// Deepest nesting of DAG components.
const MAX_DEPTH: usize = 32;
/// KFP caps a retry's backoff at one hour.
const MAX_BACKOFF_MS: u64 = 3_600_000;

/// A compiled KFP pipeline as a DAG.
#[derive(Clone, Debug)]
pub struct KfpPipeline {
    /// `pipelineInfo.name`.
    pub name: String,
    /// The root DAG; group steps are the DAG components.
    pub dag: Dag,
    /// The pipeline's inputs (`root.inputDefinitions`), by name.
    pub inputs: BTreeMap<String, PipelineInput>,
}

/// An input of the pipeline.
#[derive(Clone, Debug, PartialEq)]
pub struct PipelineInput {
    /// The parameter type (`STRING`, `LIST`, …) or `ARTIFACT`.
    pub kind: String,
    /// Its default value.
    pub default: Option<Value>,
    /// Whether it may be left out.
    pub optional: bool,
}

impl KfpPipeline {
    /// Reads a compiled pipeline: YAML or JSON, possibly several documents
    /// (the first with `root`, or a `PipelineJob` with a `pipelineSpec`,
    /// is the pipeline).
    pub fn from_yaml(text: &str) -> Result<KfpPipeline> {
        let mut found = None;
        for doc in serde_yaml_ng::Deserializer::from_str(text) {
            let value = Json::deserialize(doc)
                .map_err(|e| Error::invalid("pipeline spec", e.to_string()))?;
            let spec = match value.get("pipelineSpec") {
                Some(inner) if value.get("root").is_none() => inner.clone(),
                _ => value,
            };
            if spec.get("root").is_some() {
                found = Some(spec);
                break;
            }
        }
        let raw =
            found.ok_or_else(|| Error::invalid("pipeline spec", "no document has a `root`"))?;
        let spec: SpecDoc = serde_path_to_error::deserialize(&raw).map_err(|e| {
            Error::invalid(
                format!("pipeline spec at {}", e.path()),
                e.inner().to_string(),
            )
        })?;
        let mut lower = Lower {
            spec: &spec,
            raw: &raw,
            stack: Vec::new(),
            steps: 0,
        };
        let dag = lower.dag(&spec.root, "root")?;
        let mut inputs = BTreeMap::new();
        if let Some(defs) = &spec.root.input_definitions {
            for (name, p) in &defs.parameters {
                let input = PipelineInput {
                    kind: p
                        .parameter_type
                        .clone()
                        .unwrap_or_else(|| "STRING".to_owned()),
                    default: p.default_value.clone().map(Value::Parameter),
                    optional: p.is_optional,
                };
                inputs.insert(name.clone(), input);
            }
            for (name, a) in &defs.artifacts {
                let input = PipelineInput {
                    kind: "ARTIFACT".to_owned(),
                    default: None,
                    optional: a.is_optional,
                };
                inputs.insert(name.clone(), input);
            }
        }
        Ok(KfpPipeline {
            name: spec.pipeline_info.and_then(|i| i.name).unwrap_or_default(),
            dag,
            inputs,
        })
    }

    /// Inputs for a simulated run: every default, a two-item list for a
    /// `LIST` input without one, an artifact at `sim://input/<name>` for an
    /// artifact input, and no value for the others.
    pub fn simulation_inputs(&self) -> BTreeMap<String, Value> {
        self.inputs
            .iter()
            .filter_map(|(name, input)| {
                let v = match (&input.default, input.kind.as_str()) {
                    (Some(d), _) => d.clone(),
                    (None, "LIST") => Value::Parameter(Json::Array(vec![
                        Json::String(format!("{name}-0")),
                        Json::String(format!("{name}-1")),
                    ])),
                    (None, "ARTIFACT") => {
                        Value::Artifacts(vec![Artifact::new(format!("sim://input/{name}"))])
                    }
                    (None, _) => return None,
                };
                Some((name.clone(), v))
            })
            .collect()
    }

    /// Runs the pipeline with [`crate::dag::simulate`] on
    /// [`KfpPipeline::simulation_inputs`].
    pub fn simulate(&self, branches: Branches, max_executions: usize) -> Result<Simulation> {
        simulate(
            self.dag.clone(),
            self.simulation_inputs(),
            branches,
            max_executions,
        )
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SpecDoc {
    #[serde(default)]
    pipeline_info: Option<PipelineInfo>,
    #[serde(default)]
    components: BTreeMap<String, ComponentSpec>,
    root: ComponentSpec,
}

#[derive(Deserialize)]
struct PipelineInfo {
    #[serde(default)]
    name: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ComponentSpec {
    #[serde(default)]
    input_definitions: Option<Definitions>,
    #[serde(default)]
    output_definitions: Option<Definitions>,
    #[serde(default)]
    dag: Option<DagSpec>,
    #[serde(default)]
    executor_label: Option<String>,
}

#[derive(Deserialize, Default)]
struct Definitions {
    #[serde(default)]
    parameters: BTreeMap<String, ParameterDef>,
    #[serde(default)]
    artifacts: BTreeMap<String, ArtifactDef>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ParameterDef {
    #[serde(default)]
    parameter_type: Option<String>,
    #[serde(default)]
    default_value: Option<Json>,
    #[serde(default)]
    is_optional: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactDef {
    #[serde(default)]
    is_optional: bool,
}

#[derive(Deserialize)]
struct DagSpec {
    #[serde(default)]
    tasks: BTreeMap<String, TaskSpec>,
    #[serde(default)]
    outputs: Option<DagOutputs>,
}

#[derive(Deserialize)]
struct DagOutputs {
    #[serde(default)]
    parameters: BTreeMap<String, DagOutputParameter>,
    #[serde(default)]
    artifacts: BTreeMap<String, DagOutputArtifact>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DagOutputParameter {
    #[serde(default)]
    value_from_parameter: Option<ParameterSelector>,
    #[serde(default)]
    value_from_oneof: Option<ParameterSelectors>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ParameterSelectors {
    #[serde(default)]
    parameter_selectors: Vec<ParameterSelector>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ParameterSelector {
    producer_subtask: String,
    output_parameter_key: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DagOutputArtifact {
    #[serde(default)]
    artifact_selectors: Vec<ArtifactSelector>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactSelector {
    producer_subtask: String,
    output_artifact_key: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TaskSpec {
    component_ref: ComponentRef,
    #[serde(default)]
    inputs: Option<TaskInputs>,
    #[serde(default)]
    dependent_tasks: Vec<String>,
    #[serde(default)]
    caching_options: Option<CachingOptions>,
    #[serde(default)]
    trigger_policy: Option<TriggerPolicy>,
    #[serde(default)]
    parameter_iterator: Option<ParameterIterator>,
    #[serde(default)]
    artifact_iterator: Option<ArtifactIterator>,
    #[serde(default)]
    iterator_policy: Option<IteratorPolicy>,
    #[serde(default)]
    retry_policy: Option<RetryPolicy>,
    #[serde(default, rename = "taskInfo")]
    _task_info: Option<Json>,
    #[serde(flatten)]
    other: BTreeMap<String, Json>,
}

#[derive(Deserialize)]
struct ComponentRef {
    name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CachingOptions {
    #[serde(default)]
    enable_cache: bool,
}

#[derive(Deserialize)]
struct TriggerPolicy {
    #[serde(default)]
    condition: Option<String>,
    #[serde(default)]
    strategy: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ParameterIterator {
    items: ParameterItems,
    item_input: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ParameterItems {
    #[serde(default)]
    raw: Option<String>,
    #[serde(default)]
    input_parameter: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactIterator {
    items: ArtifactItems,
    item_input: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactItems {
    input_artifact: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct IteratorPolicy {
    #[serde(default)]
    parallelism_limit: i64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RetryPolicy {
    #[serde(default)]
    max_retry_count: i64,
    #[serde(default)]
    backoff_duration: Option<String>,
    #[serde(default)]
    backoff_factor: Option<f64>,
    #[serde(default)]
    backoff_max_duration: Option<String>,
}

#[derive(Deserialize, Default)]
struct TaskInputs {
    #[serde(default)]
    parameters: BTreeMap<String, ParameterInput>,
    #[serde(default)]
    artifacts: BTreeMap<String, ArtifactInput>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ParameterInput {
    #[serde(default)]
    task_output_parameter: Option<TaskOutputParameter>,
    #[serde(default)]
    runtime_value: Option<RuntimeValue>,
    #[serde(default)]
    component_input_parameter: Option<String>,
    #[serde(default)]
    task_final_status: Option<TaskFinalStatus>,
    #[serde(default)]
    parameter_expression_selector: Option<String>,
    #[serde(flatten)]
    other: BTreeMap<String, Json>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TaskOutputParameter {
    producer_task: String,
    output_parameter_key: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TaskFinalStatus {
    producer_task: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RuntimeValue {
    #[serde(default)]
    constant: Option<Json>,
    #[serde(default)]
    constant_value: Option<BTreeMap<String, Json>>,
    #[serde(default)]
    runtime_parameter: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactInput {
    #[serde(default)]
    task_output_artifact: Option<TaskOutputArtifact>,
    #[serde(default)]
    component_input_artifact: Option<String>,
    #[serde(flatten)]
    other: BTreeMap<String, Json>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TaskOutputArtifact {
    producer_task: String,
    output_artifact_key: String,
}

struct Lower<'a> {
    spec: &'a SpecDoc,
    raw: &'a Json,
    /// Components being expanded, outermost first: a repeat is a cycle.
    stack: Vec<String>,
    steps: usize,
}

impl Lower<'_> {
    fn dag(&mut self, component: &ComponentSpec, where_: &str) -> Result<Dag> {
        let spec = component
            .dag
            .as_ref()
            .ok_or_else(|| Error::invalid(format!("component {where_}"), "has no dag"))?;
        let mut steps = Vec::with_capacity(spec.tasks.len());
        for (name, task) in &spec.tasks {
            self.steps += 1;
            if self.steps > MAX_STEPS {
                return Err(Error::invalid(
                    "pipeline",
                    format!("more than {MAX_STEPS} steps once nested components are expanded"),
                ));
            }
            steps.push(self.task(name, task, where_)?);
        }
        let dag = Dag::new(steps).map_err(|e| in_component(e, where_))?;
        let mut outputs = BTreeMap::new();
        if let Some(outs) = &spec.outputs {
            for (name, p) in &outs.parameters {
                let selectors = p.value_from_parameter.iter().chain(
                    p.value_from_oneof
                        .iter()
                        .flat_map(|o| &o.parameter_selectors),
                );
                let sources = selectors
                    .map(|s| (s.producer_subtask.clone(), s.output_parameter_key.clone()))
                    .collect();
                outputs.insert(name.clone(), DagOutput { sources });
            }
            for (name, a) in &outs.artifacts {
                let sources = a
                    .artifact_selectors
                    .iter()
                    .map(|s| (s.producer_subtask.clone(), s.output_artifact_key.clone()))
                    .collect();
                outputs.insert(name.clone(), DagOutput { sources });
            }
        }
        let defaults = component
            .input_definitions
            .iter()
            .flat_map(|d| &d.parameters)
            .filter_map(|(n, p)| Some((n.clone(), Value::Parameter(p.default_value.clone()?))))
            .collect();
        Ok(dag
            .with_outputs(outputs)
            .map_err(|e| in_component(e, where_))?
            .with_defaults(defaults))
    }

    fn task(&mut self, name: &str, task: &TaskSpec, where_: &str) -> Result<Step> {
        let item = || format!("task {where_}/{name}");
        if let Some(field) = task.other.keys().next() {
            return Err(Error::Unsupported {
                item: item(),
                feature: format!("task field `{field}`"),
            });
        }
        let comp_name = &task.component_ref.name;
        let component = self
            .spec
            .components
            .get(comp_name)
            .ok_or_else(|| Error::MissingStep {
                step: format!("{where_}/{name}"),
                missing: format!("component {comp_name}"),
            })?;
        let mut step = if component.dag.is_some() {
            if let Some(at) = self.stack.iter().position(|c| c == comp_name) {
                let mut steps: Vec<String> = self.stack.get(at..).unwrap_or_default().to_vec();
                steps.push(comp_name.clone());
                return Err(Error::Cycle { steps });
            }
            if self.stack.len() >= MAX_DEPTH {
                return Err(Error::invalid(
                    item(),
                    format!("DAG components nested deeper than {MAX_DEPTH}"),
                ));
            }
            self.stack.push(comp_name.clone());
            let inner = self.dag(component, &format!("{where_}/{name}"));
            self.stack.pop();
            Step::group(name, inner?)
        } else if let Some(label) = &component.executor_label {
            let executor = self
                .raw
                .pointer("/deploymentSpec/executors")
                .and_then(|e| e.get(label))
                .cloned()
                .unwrap_or(Json::Null);
            let component_raw = self
                .raw
                .get("components")
                .and_then(|c| c.get(comp_name))
                .cloned()
                .unwrap_or(Json::Null);
            let spec =
                serde_json::json!({"component": component_raw, "executor": executor}).to_string();
            let mut step = Step::task(name, comp_name, spec);
            if let Some(outs) = &component.output_definitions {
                for (out, def) in &outs.parameters {
                    let kind = if def.parameter_type.as_deref() == Some("LIST") {
                        OutputKind::List
                    } else {
                        OutputKind::Scalar
                    };
                    step = step.with_output(out, kind);
                }
                for out in outs.artifacts.keys() {
                    step = step.with_output(out, OutputKind::Artifacts);
                }
            }
            if task
                .caching_options
                .as_ref()
                .is_some_and(|c| c.enable_cache)
            {
                step = step.with_cache(CachePolicy::default());
            }
            step
        } else {
            return Err(Error::invalid(
                format!("component {comp_name}"),
                "has neither a dag nor an executorLabel",
            ));
        };
        let empty = TaskInputs::default();
        let inputs = task.inputs.as_ref().unwrap_or(&empty);
        for (input, p) in &inputs.parameters {
            let source =
                parameter_input(p).map_err(|f| unsupported_or_invalid(f, &item(), input))?;
            step = step.with_input(input, source);
        }
        for (input, a) in &inputs.artifacts {
            let source =
                artifact_input(a).map_err(|f| unsupported_or_invalid(f, &item(), input))?;
            step = step.with_input(input, source);
        }
        for dep in &task.dependent_tasks {
            step = step.after(dep);
        }
        if let Some(policy) = &task.trigger_policy {
            if let Some(text) = policy.condition.as_deref().filter(|c| !c.trim().is_empty()) {
                let condition = Expr::parse(text).map_err(|e| Error::Unsupported {
                    item: item(),
                    feature: format!("condition: {e}"),
                })?;
                step = step.when(condition);
            }
            step.trigger = match policy.strategy.as_deref() {
                None | Some("ALL_UPSTREAM_TASKS_SUCCEEDED" | "TRIGGER_STRATEGY_UNSPECIFIED") => {
                    Trigger::AllSucceeded
                }
                Some("ALL_UPSTREAM_TASKS_COMPLETED") => Trigger::AllDone,
                Some(other) => {
                    return Err(Error::Unsupported {
                        item: item(),
                        feature: format!("trigger strategy {other}"),
                    });
                }
            };
        }
        step.fan_out = fan_out(task).map_err(|reason| Error::invalid(item(), reason))?;
        if let Some(r) = &task.retry_policy {
            step = step.with_retry(retry(r).map_err(|reason| Error::invalid(item(), reason))?);
        }
        Ok(step)
    }
}

/// Prefixes the step names of a DAG error with the component's path.
fn in_component(e: Error, where_: &str) -> Error {
    match e {
        Error::MissingStep { step, missing } => Error::MissingStep {
            step: format!("{where_}/{step}"),
            missing,
        },
        Error::Cycle { steps } => Error::Cycle {
            steps: steps.into_iter().map(|s| format!("{where_}/{s}")).collect(),
        },
        Error::Invalid { item, reason } => Error::Invalid {
            item: format!("{item} in {where_}"),
            reason,
        },
        other => other,
    }
}

enum Fault {
    Unsupported(String),
    Invalid(String),
}

fn unsupported_or_invalid(f: Fault, item: &str, input: &str) -> Error {
    match f {
        Fault::Unsupported(feature) => Error::Unsupported {
            item: format!("{item} input {input}"),
            feature,
        },
        Fault::Invalid(reason) => Error::invalid(format!("{item} input {input}"), reason),
    }
}

fn parameter_input(p: &ParameterInput) -> std::result::Result<Input, Fault> {
    if let Some(field) = p.other.keys().next() {
        return Err(Fault::Unsupported(format!("input field `{field}`")));
    }
    let mut sources = Vec::new();
    if let Some(t) = &p.task_output_parameter {
        sources.push(Input::output(&t.producer_task, &t.output_parameter_key));
    }
    if let Some(name) = &p.component_input_parameter {
        sources.push(Input::parent(name));
    }
    if let Some(s) = &p.task_final_status {
        sources.push(Input::Status(s.producer_task.clone()));
    }
    if let Some(rv) = &p.runtime_value {
        sources.push(runtime_value(rv)?);
    }
    let base = match sources.len() {
        1 => sources
            .pop()
            .ok_or_else(|| Fault::Invalid("no source".to_owned()))?,
        0 => return Err(Fault::Invalid("has no source".to_owned())),
        _ => return Err(Fault::Invalid("has more than one source".to_owned())),
    };
    match p
        .parameter_expression_selector
        .as_deref()
        .filter(|s| !s.trim().is_empty())
    {
        None => Ok(base),
        Some(text) => Expr::parse(text)
            .map(|e| Input::Selected(Box::new(base), e))
            .map_err(|e| Fault::Unsupported(format!("selector: {e}"))),
    }
}

fn runtime_value(rv: &RuntimeValue) -> std::result::Result<Input, Fault> {
    if let Some(c) = &rv.constant {
        return Ok(Input::Constant(Value::Parameter(c.clone())));
    }
    if let Some(name) = &rv.runtime_parameter {
        return Ok(Input::parent(name));
    }
    // The deprecated `constantValue` is a `Value` message: one of
    // intValue (int64, written as a string in JSON), doubleValue, stringValue.
    if let Some(v) = &rv.constant_value {
        let value = match (
            v.get("intValue"),
            v.get("doubleValue"),
            v.get("stringValue"),
        ) {
            (Some(Json::String(s)), None, None) => s
                .parse::<i64>()
                .map(Json::from)
                .map_err(|_| Fault::Invalid(format!("intValue {s:?} is not an integer")))?,
            (Some(i), None, None) | (None, Some(i), None) | (None, None, Some(i)) => i.clone(),
            _ => {
                return Err(Fault::Invalid(
                    "constantValue must hold one value".to_owned(),
                ));
            }
        };
        return Ok(Input::Constant(Value::Parameter(value)));
    }
    Err(Fault::Invalid("runtimeValue has no value".to_owned()))
}

fn artifact_input(a: &ArtifactInput) -> std::result::Result<Input, Fault> {
    if let Some(field) = a.other.keys().next() {
        return Err(Fault::Unsupported(format!("input field `{field}`")));
    }
    match (&a.task_output_artifact, &a.component_input_artifact) {
        (Some(t), None) => Ok(Input::output(&t.producer_task, &t.output_artifact_key)),
        (None, Some(name)) => Ok(Input::parent(name)),
        (None, None) => Err(Fault::Invalid("has no source".to_owned())),
        (Some(_), Some(_)) => Err(Fault::Invalid("has more than one source".to_owned())),
    }
}

fn fan_out(task: &TaskSpec) -> std::result::Result<Option<FanOut>, String> {
    let parallelism = match task.iterator_policy.as_ref().map(|p| p.parallelism_limit) {
        None | Some(0) => None,
        Some(n) => {
            Some(u32::try_from(n).map_err(|_| format!("parallelismLimit {n} is not a count"))?)
        }
    };
    let (items, item_input) = match (&task.parameter_iterator, &task.artifact_iterator) {
        (None, None) => return Ok(None),
        (Some(_), Some(_)) => {
            return Err("has both a parameter and an artifact iterator".to_owned());
        }
        (Some(p), None) => {
            let items = match (&p.items.raw, &p.items.input_parameter) {
                (Some(raw), None) => match serde_json::from_str::<Json>(raw) {
                    Ok(Json::Array(list)) => Items::Raw(list),
                    _ => return Err(format!("iterator items {raw:?} are not a JSON list")),
                },
                (None, Some(name)) => Items::Input(name.clone()),
                _ => return Err("iterator items need one of raw and inputParameter".to_owned()),
            };
            (items, p.item_input.clone())
        }
        (None, Some(a)) => (
            Items::Input(a.items.input_artifact.clone()),
            a.item_input.clone(),
        ),
    };
    Ok(Some(FanOut {
        items,
        item_input,
        parallelism,
    }))
}

fn retry(r: &RetryPolicy) -> std::result::Result<Retry, String> {
    let max_retries = u32::try_from(r.max_retry_count.max(0))
        .map_err(|_| "maxRetryCount is too large".to_owned())?;
    let backoff_ms = r
        .backoff_duration
        .as_deref()
        .map(duration_ms)
        .transpose()?
        .unwrap_or(0);
    let max_backoff_ms = r
        .backoff_max_duration
        .as_deref()
        .map(duration_ms)
        .transpose()?
        .map_or(MAX_BACKOFF_MS, |d| d.min(MAX_BACKOFF_MS));
    let factor = match r.backoff_factor {
        None => 2.0,
        Some(0.0) => 2.0,
        Some(f) if f.is_finite() && f >= 1.0 => f,
        Some(f) => return Err(format!("backoffFactor {f} must be at least 1")),
    };
    Ok(Retry {
        max_retries,
        backoff_ms,
        factor,
        max_backoff_ms,
    })
}

/// A protobuf JSON duration (`"3600s"`, `"0.5s"`) in milliseconds.
fn duration_ms(text: &str) -> std::result::Result<u64, String> {
    let bad = || format!("duration {text:?} is not like \"30s\"");
    let secs = text.trim().strip_suffix('s').ok_or_else(bad)?;
    let (whole, frac) = secs.split_once('.').unwrap_or((secs, ""));
    if whole.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(bad());
    }
    let whole: u64 = whole.parse().map_err(|_| bad())?;
    let millis: u64 = format!("{:0<3}", frac.get(..3.min(frac.len())).unwrap_or_default())
        .parse()
        .map_err(|_| bad())?;
    whole
        .checked_mul(1000)
        .and_then(|w| w.checked_add(millis))
        .ok_or_else(bad)
}
