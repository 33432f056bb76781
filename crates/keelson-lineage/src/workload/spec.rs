//! Reading and checking a `lineage-workload/2` file into a [`Workload`].

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use serde::Deserialize;

use super::formula::{Expr, NumberType, Scope, Template};
use super::{WorkloadError, err};
use crate::filter::{ARTIFACT_STATES, EXECUTION_STATES};

/// The `format` a file must declare.
pub const FORMAT: &str = "lineage-workload/2";

/// MLMD's `ArtifactType.SystemDefinedBaseType` names (UNSET means none,
/// which a file says by leaving the type out of `base_types`).
pub const ARTIFACT_BASE_TYPES: &[&str] = &["DATASET", "MODEL", "METRICS", "STATISTICS"];

/// Largest file accepted, in bytes.
pub const MAX_FILE_BYTES: usize = 16 << 20;

/// The kind of a property, as the file spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum PropertyKind {
    /// `STRING`: a template.
    String,
    /// `INT`: an integer expression.
    Int,
    /// `DOUBLE`: any expression, converted to a double.
    Double,
}

/// A type to register before ingesting: its name, MLMD base type and
/// properties.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeDef {
    /// The type name.
    pub name: Arc<str>,
    /// The MLMD base type name (artifact types only), e.g. `MODEL`.
    pub base_type: Option<&'static str>,
    /// Property names and kinds, sorted by name.
    pub properties: Vec<(Arc<str>, PropertyKind)>,
}

/// One output of a step: an artifact per run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    /// The output key, unique in the file; also the event path key.
    pub key: Arc<str>,
    /// The artifact type name.
    pub artifact_type: Arc<str>,
    pub(super) artifact_type_lowercase: Arc<str>,
}

/// One step of the chain: an execution per run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The step index `s`.
    pub s: usize,
    /// The step name (`{step}`).
    pub name: Arc<str>,
    /// The execution type name.
    pub execution_type: Arc<str>,
    pub(super) execution_type_lowercase: Arc<str>,
    /// The outputs, `j` = position.
    pub outputs: Vec<Output>,
}

/// The per-run node and edge counts, derived from the steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PerRunCounts {
    /// Always 1.
    pub contexts: u64,
    /// One per step.
    pub executions: u64,
    /// One per output.
    pub artifacts: u64,
    /// contexts + executions + artifacts.
    pub nodes: u64,
    /// One OUTPUT event per artifact and one INPUT event per output of
    /// every step but the last.
    pub events: u64,
    /// One per artifact.
    pub attributions: u64,
    /// One per execution.
    pub associations: u64,
    /// events + attributions + associations.
    pub edges: u64,
    /// nodes + edges.
    pub nodes_plus_edges: u64,
}

/// How a property value is made.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Formula {
    Text(Template),
    Int(Expr),
    Double(Expr),
}

/// A property and its formula, with the file path naming it in errors.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct PropertyFormula {
    pub name: Arc<str>,
    pub path: String,
    pub formula: Formula,
}

/// The compiled `instance` of one node kind.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Instance {
    pub name: Template,
    pub uri: Option<Template>,
    pub state: &'static str,
    pub state_code: i32,
    pub properties: Vec<PropertyFormula>,
    /// The file path of the instance object, for errors.
    pub path: &'static str,
}

/// A threshold as written: Python prints an integer and a double
/// differently, and the filter text follows the reference runner.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Threshold {
    Int(i64),
    Double(f64),
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct Targets {
    pub uri_output_key: Arc<str>,
    pub filter_artifact_type: Arc<str>,
    pub filter_property: Arc<str>,
    pub filter_property_kind: PropertyKind,
    pub filter_threshold: Threshold,
    pub context_filter_artifact_type: Arc<str>,
    pub upstream_start_output_key: Arc<str>,
    pub bidirectional_start_output_key: Arc<str>,
    pub lineage_max_num_hops: u32,
}

/// A checked `lineage-workload/2` file with every formula compiled.
///
/// Made by [`Workload::from_json`]; generates the nodes of any run
/// ([`Workload::run`]), the targets of any query
/// ([`Workload::query_targets`]) and the expected result sizes
/// ([`Workload::expected`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Workload {
    pub(super) name: String,
    pub(super) context_type: TypeDef,
    pub(super) execution_types: Vec<TypeDef>,
    pub(super) artifact_types: Vec<TypeDef>,
    pub(super) steps: Vec<Step>,
    pub(super) outputs: HashMap<Arc<str>, (usize, usize)>,
    pub(super) context: Instance,
    pub(super) execution: Instance,
    pub(super) artifact: Instance,
    pub(super) targets: Targets,
    pub(super) per_run: PerRunCounts,
}

#[derive(Deserialize)]
struct RawWorkload {
    format: String,
    name: String,
    context_type: RawContextType,
    execution_types: RawKind,
    artifact_types: RawArtifactKind,
    steps: Vec<RawStep>,
    query_targets: RawTargets,
    #[serde(default)]
    per_run_counts: Option<BTreeMap<String, serde_json::Value>>,
}

#[derive(Deserialize)]
struct RawContextType {
    name: String,
    properties: BTreeMap<String, String>,
    instance: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct RawKind {
    properties: BTreeMap<String, String>,
    instance: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct RawArtifactKind {
    properties: BTreeMap<String, String>,
    #[serde(default)]
    base_types: BTreeMap<String, String>,
    instance: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct RawStep {
    s: u64,
    step: String,
    execution_type: String,
    outputs: Vec<(String, String)>,
}

#[derive(Deserialize)]
struct RawTargets {
    uri_output_key: String,
    filter_artifact_type: String,
    filter_property: String,
    filter_threshold: serde_json::Number,
    context_filter_artifact_type: String,
    upstream_start_output_key: String,
    bidirectional_start_output_key: String,
    lineage_max_num_hops: u32,
}

impl Workload {
    /// Reads and checks a workload file's bytes (JSON).
    ///
    /// Every error names the offending field as a path into the file, e.g.
    /// `steps[2].outputs[1]` or `artifact_types.instance.score`.
    pub fn from_json(bytes: &[u8]) -> Result<Workload, crate::Error> {
        Self::from_json_inner(bytes).map_err(crate::Error::Workload)
    }

    fn from_json_inner(bytes: &[u8]) -> Result<Workload, WorkloadError> {
        if bytes.len() > MAX_FILE_BYTES {
            return Err(err(
                "(file)",
                format!(
                    "{} bytes, more than the {MAX_FILE_BYTES} accepted",
                    bytes.len()
                ),
            ));
        }
        let mut de = serde_json::Deserializer::from_slice(bytes);
        let raw: RawWorkload = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let path = e.path().to_string();
            err(
                if path == "." || path == "?" {
                    "(file)"
                } else {
                    &path
                },
                e.into_inner().to_string(),
            )
        })?;
        de.end()
            .map_err(|e| err("(file)", format!("trailing data: {e}")))?;
        check(raw)
    }
}

fn check(raw: RawWorkload) -> Result<Workload, WorkloadError> {
    if raw.format != FORMAT {
        return Err(err("format", format!("{:?} is not {FORMAT:?}", raw.format)));
    }
    let steps = check_steps(&raw.steps)?;
    let mut outputs = HashMap::new();
    for step in &steps {
        for (j, output) in step.outputs.iter().enumerate() {
            if let Some((s0, j0)) = outputs.insert(output.key.clone(), (step.s, j)) {
                return Err(err(
                    &format!("steps[{}].outputs[{j}]", step.s),
                    format!(
                        "output key {:?} is already used by steps[{s0}].outputs[{j0}]",
                        output.key
                    ),
                ));
            }
        }
    }

    let context_props = kinds("context_type.properties", &raw.context_type.properties)?;
    let execution_props = kinds(
        "execution_types.properties",
        &raw.execution_types.properties,
    )?;
    let artifact_props = kinds("artifact_types.properties", &raw.artifact_types.properties)?;

    let artifact_type_names: Vec<Arc<str>> = unique(
        steps
            .iter()
            .flat_map(|s| s.outputs.iter().map(|o| o.artifact_type.clone())),
    );
    let mut base_types = HashMap::new();
    for (type_name, base) in &raw.artifact_types.base_types {
        let path = format!("artifact_types.base_types.{type_name}");
        if !artifact_type_names.iter().any(|t| **t == **type_name) {
            return Err(err(&path, "not the artifact type of any step output"));
        }
        let known = ARTIFACT_BASE_TYPES
            .iter()
            .find(|b| **b == base)
            .ok_or_else(|| {
                err(
                    &path,
                    format!("{base:?} is not an MLMD artifact base type ({ARTIFACT_BASE_TYPES:?})"),
                )
            })?;
        base_types.insert(type_name.as_str(), *known);
    }

    if raw.context_type.name.is_empty() {
        return Err(err("context_type.name", "empty"));
    }
    let context_type = TypeDef {
        name: raw.context_type.name.as_str().into(),
        base_type: None,
        properties: context_props.clone(),
    };
    let execution_types = unique(steps.iter().map(|s| s.execution_type.clone()))
        .into_iter()
        .map(|name| TypeDef {
            name,
            base_type: None,
            properties: execution_props.clone(),
        })
        .collect();
    let artifact_types = artifact_type_names
        .into_iter()
        .map(|name| TypeDef {
            base_type: base_types.get(&*name).copied(),
            name,
            properties: artifact_props.clone(),
        })
        .collect();

    let context = instance(
        "context_type.instance",
        &raw.context_type.instance,
        &context_props,
        Scope::CONTEXT,
        None,
    )?;
    let execution = instance(
        "execution_types.instance",
        &raw.execution_types.instance,
        &execution_props,
        Scope::EXECUTION,
        Some(("last_known_state", EXECUTION_STATES, "COMPLETE")),
    )?;
    let artifact = instance(
        "artifact_types.instance",
        &raw.artifact_types.instance,
        &artifact_props,
        Scope::ARTIFACT,
        Some(("state", ARTIFACT_STATES, "LIVE")),
    )?;

    let targets = check_targets(&raw.query_targets, &outputs, &steps, &artifact_props)?;
    let per_run = per_run_counts(&steps);
    if let Some(given) = &raw.per_run_counts {
        check_per_run(given, &per_run)?;
    }
    let workload = Workload {
        name: raw.name,
        context_type,
        execution_types,
        artifact_types,
        steps,
        outputs,
        context,
        execution,
        artifact,
        targets,
        per_run,
    };
    let filter = workload.filter_model_score();
    crate::filter::parse(&filter).map_err(|e| {
        err(
            "query_targets",
            format!("the filter_model_score query {filter:?} does not parse: {e}"),
        )
    })?;
    Ok(workload)
}

fn unique(names: impl Iterator<Item = Arc<str>>) -> Vec<Arc<str>> {
    let mut seen = HashSet::new();
    names.filter(|n| seen.insert(n.clone())).collect()
}

fn check_steps(raw: &[RawStep]) -> Result<Vec<Step>, WorkloadError> {
    if raw.is_empty() {
        return Err(err("steps", "no steps: at least one is needed"));
    }
    // The file lists steps in order, but the reference runner sorts them by
    // `s`; accept any order of 0..S-1 as it does.
    let mut order: Vec<usize> = (0..raw.len()).collect();
    order.sort_by_key(|&at| raw.get(at).map_or(u64::MAX, |step| step.s));
    let mut steps = Vec::with_capacity(raw.len());
    for (s, &at) in order.iter().enumerate() {
        let Some(step) = raw.get(at) else { continue };
        let path = format!("steps[{at}]");
        if usize::try_from(step.s).ok() != Some(s) {
            return Err(err(
                &format!("{path}.s"),
                format!(
                    "{} breaks the numbering: the steps' `s` must be 0..{} once each",
                    step.s,
                    raw.len() - 1
                ),
            ));
        }
        if step.step.is_empty() {
            return Err(err(&format!("{path}.step"), "empty step name"));
        }
        if step.execution_type.is_empty() {
            return Err(err(&format!("{path}.execution_type"), "empty type name"));
        }
        if step.outputs.is_empty() {
            return Err(err(
                &format!("{path}.outputs"),
                "no outputs: at least one is needed",
            ));
        }
        let mut outputs = Vec::with_capacity(step.outputs.len());
        for (j, (key, artifact_type)) in step.outputs.iter().enumerate() {
            if key.is_empty() {
                return Err(err(&format!("{path}.outputs[{j}][0]"), "empty output key"));
            }
            if artifact_type.is_empty() {
                return Err(err(
                    &format!("{path}.outputs[{j}][1]"),
                    "empty artifact type name",
                ));
            }
            outputs.push(Output {
                key: key.as_str().into(),
                artifact_type: artifact_type.as_str().into(),
                artifact_type_lowercase: artifact_type.to_lowercase().into(),
            });
        }
        steps.push(Step {
            s,
            name: step.step.as_str().into(),
            execution_type: step.execution_type.as_str().into(),
            execution_type_lowercase: step.execution_type.to_lowercase().into(),
            outputs,
        });
    }
    Ok(steps)
}

fn kinds(
    path: &str,
    raw: &BTreeMap<String, String>,
) -> Result<Vec<(Arc<str>, PropertyKind)>, WorkloadError> {
    raw.iter()
        .map(|(name, kind)| {
            if name.is_empty() {
                return Err(err(path, "empty property name"));
            }
            let kind = match kind.as_str() {
                "STRING" => PropertyKind::String,
                "INT" => PropertyKind::Int,
                "DOUBLE" => PropertyKind::Double,
                other => {
                    return Err(err(
                        &format!("{path}.{name}"),
                        format!("property kind {other:?} is not STRING, INT or DOUBLE"),
                    ));
                }
            };
            Ok((name.as_str().into(), kind))
        })
        .collect()
}

fn instance(
    path: &'static str,
    raw: &BTreeMap<String, String>,
    properties: &[(Arc<str>, PropertyKind)],
    scope: Scope,
    state: Option<(&'static str, &'static [&'static str], &'static str)>,
) -> Result<Instance, WorkloadError> {
    let with_uri = scope == Scope::ARTIFACT;
    let fields: &[&str] = match (with_uri, state) {
        (true, Some((state_field, _, _))) => &["name", "uri", state_field],
        (false, Some((state_field, _, _))) => &["name", state_field],
        _ => &["name"],
    };
    let fields: Vec<&str> = fields.to_vec();
    for (name, _) in properties {
        if fields.contains(&&**name) {
            return Err(err(
                &format!("{}.properties.{name}", path.trim_end_matches(".instance")),
                format!("a property may not be named like the node field `{name}` of {path}"),
            ));
        }
    }
    for key in raw.keys() {
        if !fields.contains(&key.as_str()) && !properties.iter().any(|(p, _)| **p == **key) {
            return Err(err(
                &format!("{path}.{key}"),
                format!("neither a property nor one of the node fields {fields:?}"),
            ));
        }
    }
    let template = |field: &str| -> Result<Template, WorkloadError> {
        let text = raw
            .get(field)
            .ok_or_else(|| err(&format!("{path}.{field}"), "missing"))?;
        Template::parse(text, scope).map_err(|e| err(&format!("{path}.{field}"), e.0))
    };
    let name = template("name")?;
    let uri = if with_uri {
        Some(template("uri")?)
    } else {
        None
    };
    let (state, state_code) = match state {
        None => ("", 0),
        Some((field, names, default)) => {
            let given = raw.get(field).map_or(default, String::as_str);
            let code = names.iter().position(|n| *n == given).ok_or_else(|| {
                err(
                    &format!("{path}.{field}"),
                    format!("{given:?} is not one of {names:?}"),
                )
            })?;
            let name = names.get(code).copied().unwrap_or(default);
            (name, i32::try_from(code).unwrap_or(0))
        }
    };
    let mut formulas = Vec::with_capacity(properties.len());
    for (name, kind) in properties {
        let at = format!("{path}.{name}");
        let text = raw
            .get(&**name)
            .ok_or_else(|| err(&at, "missing: every property needs a formula"))?;
        let formula = match kind {
            PropertyKind::String => {
                Formula::Text(Template::parse(text, scope).map_err(|e| err(&at, e.0))?)
            }
            PropertyKind::Int => {
                let expr = Expr::parse(text, scope).map_err(|e| err(&at, e.0))?;
                if expr.number_type() != NumberType::Int {
                    return Err(err(
                        &at,
                        "an INT property needs an integer expression (a decimal literal or `/` makes a double)",
                    ));
                }
                Formula::Int(expr)
            }
            PropertyKind::Double => {
                Formula::Double(Expr::parse(text, scope).map_err(|e| err(&at, e.0))?)
            }
        };
        formulas.push(PropertyFormula {
            name: name.clone(),
            path: at,
            formula,
        });
    }
    Ok(Instance {
        name,
        uri,
        state,
        state_code,
        properties: formulas,
        path,
    })
}

fn check_targets(
    raw: &RawTargets,
    outputs: &HashMap<Arc<str>, (usize, usize)>,
    steps: &[Step],
    artifact_props: &[(Arc<str>, PropertyKind)],
) -> Result<Targets, WorkloadError> {
    let key = |field: &str, value: &str| -> Result<Arc<str>, WorkloadError> {
        outputs
            .get_key_value(value)
            .map(|(k, _)| k.clone())
            .ok_or_else(|| {
                err(
                    &format!("query_targets.{field}"),
                    format!("{value:?} is not an output key of any step"),
                )
            })
    };
    let artifact_type = |field: &str, value: &str| -> Result<Arc<str>, WorkloadError> {
        steps
            .iter()
            .flat_map(|s| &s.outputs)
            .find(|o| *o.artifact_type == *value)
            .map(|o| o.artifact_type.clone())
            .ok_or_else(|| {
                err(
                    &format!("query_targets.{field}"),
                    format!("{value:?} is not the artifact type of any step output"),
                )
            })
    };
    let (filter_property, filter_property_kind) = artifact_props
        .iter()
        .find(|(name, _)| **name == *raw.filter_property)
        .filter(|(_, kind)| *kind != PropertyKind::String)
        .cloned()
        .ok_or_else(|| {
            err(
                "query_targets.filter_property",
                format!(
                    "{:?} is not an INT or DOUBLE property of artifact_types.properties",
                    raw.filter_property
                ),
            )
        })?;
    let n = &raw.filter_threshold;
    let filter_threshold = if let Some(v) = n.as_i64() {
        Threshold::Int(v)
    } else if n.is_f64() {
        Threshold::Double(n.as_f64().unwrap_or(f64::NAN))
    } else {
        return Err(err(
            "query_targets.filter_threshold",
            format!("{n} does not fit in a 64-bit integer"),
        ));
    };
    Ok(Targets {
        uri_output_key: key("uri_output_key", &raw.uri_output_key)?,
        filter_artifact_type: artifact_type("filter_artifact_type", &raw.filter_artifact_type)?,
        filter_property,
        filter_property_kind,
        filter_threshold,
        context_filter_artifact_type: artifact_type(
            "context_filter_artifact_type",
            &raw.context_filter_artifact_type,
        )?,
        upstream_start_output_key: key(
            "upstream_start_output_key",
            &raw.upstream_start_output_key,
        )?,
        bidirectional_start_output_key: key(
            "bidirectional_start_output_key",
            &raw.bidirectional_start_output_key,
        )?,
        lineage_max_num_hops: raw.lineage_max_num_hops,
    })
}

fn per_run_counts(steps: &[Step]) -> PerRunCounts {
    let count = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
    let executions = count(steps.len());
    let artifacts: u64 = steps.iter().map(|s| count(s.outputs.len())).sum();
    let consumed: u64 = steps
        .iter()
        .take(steps.len().saturating_sub(1))
        .map(|s| count(s.outputs.len()))
        .sum();
    let events = artifacts + consumed;
    let nodes = 1 + executions + artifacts;
    let edges = events + artifacts + executions;
    PerRunCounts {
        contexts: 1,
        executions,
        artifacts,
        nodes,
        events,
        attributions: artifacts,
        associations: executions,
        edges,
        nodes_plus_edges: nodes + edges,
    }
}

fn check_per_run(
    given: &BTreeMap<String, serde_json::Value>,
    derived: &PerRunCounts,
) -> Result<(), WorkloadError> {
    let derived = serde_json::to_value(derived)
        .map_err(|e| err("per_run_counts", format!("internal: {e}")))?;
    for (key, value) in given {
        if let Some(expected) = derived.get(key)
            && value != expected
        {
            return Err(err(
                &format!("per_run_counts.{key}"),
                format!("the file says {value}, its steps give {expected}"),
            ));
        }
    }
    Ok(())
}
