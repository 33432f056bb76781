//! The nodes of one run, as plain data.

use std::sync::Arc;

use super::formula::{Env, Number};
use super::spec::{Formula, Instance, PerRunCounts, Step, TypeDef, Workload};
use super::{WorkloadError, err};

/// A property value.
#[derive(Debug, Clone, PartialEq)]
pub enum PropertyValue {
    /// A STRING property.
    String(String),
    /// An INT property.
    Int(i64),
    /// A DOUBLE property.
    Double(f64),
}

/// A property of a generated node.
#[derive(Debug, Clone, PartialEq)]
pub struct Property {
    /// The property name.
    pub name: Arc<str>,
    /// Its value.
    pub value: PropertyValue,
}

/// The context of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct ContextNode {
    /// The context type name.
    pub type_name: Arc<str>,
    /// The context name.
    pub name: String,
    /// Its properties, sorted by name.
    pub properties: Vec<Property>,
}

/// The execution of one step of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct ExecutionNode {
    /// The execution type name.
    pub type_name: Arc<str>,
    /// The execution name.
    pub name: String,
    /// The MLMD `Execution.State` name, e.g. `COMPLETE`.
    pub last_known_state: &'static str,
    /// Its MLMD code (the index in [`crate::filter::EXECUTION_STATES`]).
    pub last_known_state_code: i32,
    /// Its properties, sorted by name.
    pub properties: Vec<Property>,
}

/// An output artifact of one step of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct ArtifactNode {
    /// The output key (the event path key).
    pub key: Arc<str>,
    /// The artifact type name.
    pub type_name: Arc<str>,
    /// The artifact name.
    pub name: String,
    /// The artifact uri.
    pub uri: String,
    /// The MLMD `Artifact.State` name, e.g. `LIVE`.
    pub state: &'static str,
    /// Its MLMD code (the index in [`crate::filter::ARTIFACT_STATES`]).
    pub state_code: i32,
    /// Its properties, sorted by name.
    pub properties: Vec<Property>,
}

/// One step of a run: what its one atomic `put_execution` call writes.
#[derive(Debug, Clone, PartialEq)]
pub struct StepNodes {
    /// The step index `s`.
    pub s: usize,
    /// The step name.
    pub step: Arc<str>,
    /// The execution, associated with the run's context.
    pub execution: ExecutionNode,
    /// The output keys of step `s-1` this step reads (INPUT events, path
    /// key = output key); empty for step 0.
    pub inputs: Vec<Arc<str>>,
    /// The new artifacts (OUTPUT events, path key = their key), attributed
    /// to the run's context.
    pub outputs: Vec<ArtifactNode>,
}

/// Everything run `i` writes.
#[derive(Debug, Clone, PartialEq)]
pub struct RunNodes {
    /// The run index `i`.
    pub run: u64,
    /// The run's context.
    pub context: ContextNode,
    /// The steps in order.
    pub steps: Vec<StepNodes>,
}

impl Workload {
    /// The workload's `name`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The context type.
    pub fn context_type(&self) -> &TypeDef {
        &self.context_type
    }

    /// The execution types, each once, in the order of first use.
    pub fn execution_types(&self) -> &[TypeDef] {
        &self.execution_types
    }

    /// The artifact types, each once, in the order of first use.
    pub fn artifact_types(&self) -> &[TypeDef] {
        &self.artifact_types
    }

    /// The steps in order.
    pub fn steps(&self) -> &[Step] {
        &self.steps
    }

    /// Where output `key` is made: `(s, j)`.
    pub fn output_position(&self, key: &str) -> Option<(usize, usize)> {
        self.outputs.get(key).copied()
    }

    /// The nodes and edges of one run.
    pub fn per_run_counts(&self) -> PerRunCounts {
        self.per_run
    }

    /// Everything run `run` writes: its context, and per step the
    /// execution, the inputs it reads and the artifacts it makes.
    ///
    /// Fails when a formula cannot be evaluated for this run (an integer
    /// overflow, a division by zero), naming the formula's field.
    pub fn run(&self, run: u64) -> Result<RunNodes, crate::Error> {
        self.run_inner(run).map_err(crate::Error::Workload)
    }

    fn run_inner(&self, run: u64) -> Result<RunNodes, WorkloadError> {
        let i = run_index(run)?;
        let env = Env {
            i,
            ..Env::default()
        };
        let context = ContextNode {
            type_name: self.context_type.name.clone(),
            name: self.render_name(&self.context, &env, run)?,
            properties: properties(&self.context, &env, run)?,
        };
        let mut steps = Vec::with_capacity(self.steps.len());
        let mut previous: Option<&Step> = None;
        for step in &self.steps {
            let env = step_env(i, step);
            let execution = ExecutionNode {
                type_name: step.execution_type.clone(),
                name: self.render_name(&self.execution, &env, run)?,
                last_known_state: self.execution.state,
                last_known_state_code: self.execution.state_code,
                properties: properties(&self.execution, &env, run)?,
            };
            let mut outputs = Vec::with_capacity(step.outputs.len());
            for j in 0..step.outputs.len() {
                outputs.push(self.artifact_at(run, i, step, j)?);
            }
            steps.push(StepNodes {
                s: step.s,
                step: step.name.clone(),
                execution,
                inputs: previous
                    .map(|p| p.outputs.iter().map(|o| o.key.clone()).collect())
                    .unwrap_or_default(),
                outputs,
            });
            previous = Some(step);
        }
        Ok(RunNodes {
            run,
            context,
            steps,
        })
    }

    /// The name of run `run`'s context.
    pub fn context_name(&self, run: u64) -> Result<String, crate::Error> {
        let env = Env {
            i: run_index(run).map_err(crate::Error::Workload)?,
            ..Env::default()
        };
        self.render_name(&self.context, &env, run)
            .map_err(crate::Error::Workload)
    }

    /// The artifact that output `key` makes in run `run`; `None` for a key
    /// no step has.
    pub fn artifact(&self, run: u64, key: &str) -> Result<Option<ArtifactNode>, crate::Error> {
        let Some((s, j)) = self.output_position(key) else {
            return Ok(None);
        };
        let Some(step) = self.steps.get(s) else {
            return Ok(None);
        };
        let i = run_index(run).map_err(crate::Error::Workload)?;
        self.artifact_at(run, i, step, j)
            .map(Some)
            .map_err(crate::Error::Workload)
    }

    /// The uri of output `key` in run `run`; `None` for a key no step has.
    pub fn artifact_uri(&self, run: u64, key: &str) -> Result<Option<String>, crate::Error> {
        let Some((s, j)) = self.output_position(key) else {
            return Ok(None);
        };
        let (Some(step), Some(uri)) = (self.steps.get(s), &self.artifact.uri) else {
            return Ok(None);
        };
        let i = run_index(run).map_err(crate::Error::Workload)?;
        let env = artifact_env(i, step, j);
        uri.to_string_at(&env)
            .map(Some)
            .map_err(|e| err(&format!("{}.uri", self.artifact.path), at(run, &env, e.0)))
            .map_err(crate::Error::Workload)
    }

    fn artifact_at(
        &self,
        run: u64,
        i: i64,
        step: &Step,
        j: usize,
    ) -> Result<ArtifactNode, WorkloadError> {
        let output = step.outputs.get(j).ok_or_else(|| {
            err(
                "steps",
                format!("internal: no output {j} in step {}", step.s),
            )
        })?;
        let env = artifact_env(i, step, j);
        let uri = match &self.artifact.uri {
            Some(uri) => uri
                .to_string_at(&env)
                .map_err(|e| err(&format!("{}.uri", self.artifact.path), at(run, &env, e.0)))?,
            None => String::new(),
        };
        Ok(ArtifactNode {
            key: output.key.clone(),
            type_name: output.artifact_type.clone(),
            name: self.render_name(&self.artifact, &env, run)?,
            uri,
            state: self.artifact.state,
            state_code: self.artifact.state_code,
            properties: properties(&self.artifact, &env, run)?,
        })
    }

    fn render_name(
        &self,
        instance: &Instance,
        env: &Env<'_>,
        run: u64,
    ) -> Result<String, WorkloadError> {
        instance
            .name
            .to_string_at(env)
            .map_err(|e| err(&format!("{}.name", instance.path), at(run, env, e.0)))
    }
}

/// Converts a run number into the formula variable `i`.
pub(super) fn run_index(run: u64) -> Result<i64, WorkloadError> {
    i64::try_from(run).map_err(|_| err("(run)", format!("run {run} exceeds a 64-bit integer")))
}

fn step_env(i: i64, step: &Step) -> Env<'_> {
    Env {
        i,
        s: i64::try_from(step.s).unwrap_or(i64::MAX),
        j: 0,
        step: &step.name,
        key: "",
        type_name: &step.execution_type,
        type_name_lowercase: &step.execution_type_lowercase,
    }
}

pub(super) fn artifact_env(i: i64, step: &Step, j: usize) -> Env<'_> {
    let output = step.outputs.get(j);
    Env {
        i,
        s: i64::try_from(step.s).unwrap_or(i64::MAX),
        j: i64::try_from(j).unwrap_or(i64::MAX),
        step: &step.name,
        key: output.map_or("", |o| &o.key),
        type_name: output.map_or("", |o| &o.artifact_type),
        type_name_lowercase: output.map_or("", |o| &o.artifact_type_lowercase),
    }
}

fn at(run: u64, env: &Env<'_>, message: String) -> String {
    if env.key.is_empty() && env.step.is_empty() {
        format!("run {run}: {message}")
    } else if env.key.is_empty() {
        format!("run {run}, step {} ({}): {message}", env.s, env.step)
    } else {
        format!(
            "run {run}, step {} ({}), output {} ({}): {message}",
            env.s, env.step, env.j, env.key
        )
    }
}

/// Evaluates one property formula.
pub(super) fn value(
    formula: &Formula,
    env: &Env<'_>,
) -> Result<PropertyValue, super::formula::FormulaError> {
    Ok(match formula {
        Formula::Text(template) => PropertyValue::String(template.to_string_at(env)?),
        Formula::Int(expr) => match expr.eval(env)? {
            Number::Int(v) => PropertyValue::Int(v),
            Number::Double(_) => {
                return Err(super::formula::FormulaError(
                    "internal: INT property gave a double".into(),
                ));
            }
        },
        Formula::Double(expr) => PropertyValue::Double(expr.eval(env)?.as_f64()),
    })
}

fn properties(
    instance: &Instance,
    env: &Env<'_>,
    run: u64,
) -> Result<Vec<Property>, WorkloadError> {
    instance
        .properties
        .iter()
        .map(|p| {
            Ok(Property {
                name: p.name.clone(),
                value: value(&p.formula, env).map_err(|e| err(&p.path, at(run, env, e.0)))?,
            })
        })
        .collect()
}
