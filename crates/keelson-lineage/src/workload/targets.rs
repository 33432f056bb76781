//! What the seven benchmark queries target, and the result sizes they
//! must give, computed from the file alone.

use std::collections::HashSet;
use std::sync::Arc;

use super::formula::Number;
use super::generate::{PropertyValue, artifact_env, run_index, value};
use super::spec::{PropertyKind, Threshold, Workload};
use super::{WorkloadError, err};

/// Unmeasured queries run before the measured ones, per query kind.
pub const WARMUP_QUERIES: u64 = 5;

/// Measured queries per query kind.
pub const MEASURED_QUERIES: u64 = 100;

/// The run the `k`-th query of a kind targets among `runs` runs:
/// `(k * 9973 + 17) % runs`; `None` when there are no runs.
pub fn query_run(k: u64, runs: u64) -> Option<u64> {
    let r = (u128::from(k) * 9973 + 17).checked_rem(u128::from(runs))?;
    u64::try_from(r).ok()
}

/// What the `k`-th query of each kind reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryTargets {
    /// The targeted run `r_k`.
    pub run: u64,
    /// The name of `r_k`'s context (`artifacts_by_context`,
    /// `executions_by_context`).
    pub context_name: String,
    /// The uri of output `uri_output_key` in `r_k` (`artifact_by_uri`).
    pub uri: String,
    /// `contexts_a.name = '<context name>' AND type = '<type>'`
    /// (`filter_by_context_name`).
    pub filter_by_context_name: String,
    /// The output key whose artifact in `r_k` starts the UPSTREAM lineage
    /// query.
    pub upstream_start_key: Arc<str>,
    /// The output key whose artifact in `r_k` starts the BIDIRECTIONAL
    /// lineage query.
    pub bidirectional_start_key: Arc<str>,
    /// `max_num_hops` of both lineage queries.
    pub max_num_hops: u32,
}

/// The size of a lineage subgraph.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LineageSize {
    /// Artifacts in the subgraph, the start included.
    pub artifacts: u64,
    /// Executions in the subgraph.
    pub executions: u64,
    /// Events whose artifact and execution are both in the subgraph.
    pub events: u64,
    /// Contexts of the subgraph's nodes.
    pub contexts: u64,
}

/// The result size every query must give for a number of runs, in the
/// shape of the reference runner's `--expected` output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ExpectedSizes {
    /// Artifacts of one run's context.
    pub artifacts_by_context: u64,
    /// Executions of one run's context.
    pub executions_by_context: u64,
    /// Artifacts with one uri.
    pub artifact_by_uri: u64,
    /// Artifacts of the filter type whose filter property is above the
    /// threshold, over all runs.
    pub filter_model_score: u64,
    /// Artifacts of the context filter type in one run.
    pub filter_by_context_name: u64,
    /// The UPSTREAM lineage subgraph.
    pub lineage_upstream_from_pushed_model: LineageSize,
    /// The BIDIRECTIONAL lineage subgraph.
    pub lineage_bidirectional_from_model: LineageSize,
}

#[derive(Clone, Copy, PartialEq)]
enum Direction {
    Upstream,
    Bidirectional,
}

impl Workload {
    /// The `filter_model_score` query, the same for every `k`:
    /// `type = '<type>' AND properties.<property>.double_value > <threshold>`
    /// (`int_value` for an INT property), the threshold printed as Python
    /// prints it, quotes in names doubled and a property name that is not a
    /// plain identifier backquoted.
    pub fn filter_model_score(&self) -> String {
        let t = &self.targets;
        let field = match t.filter_property_kind {
            PropertyKind::Int => "int_value",
            _ => "double_value",
        };
        let threshold = match t.filter_threshold {
            Threshold::Int(v) => v.to_string(),
            Threshold::Double(v) => python_float_repr(v),
        };
        format!(
            "type = {} AND properties.{}.{field} > {threshold}",
            quote(&t.filter_artifact_type),
            property_name(&t.filter_property)
        )
    }

    /// The targets of the `k`-th query of each kind among `runs` runs.
    pub fn query_targets(&self, k: u64, runs: u64) -> Result<QueryTargets, crate::Error> {
        let run = query_run(k, runs)
            .ok_or_else(|| crate::Error::Workload(err("(runs)", "no runs to query")))?;
        let context_name = self.context_name(run)?;
        let t = &self.targets;
        let uri = self.artifact_uri(run, &t.uri_output_key)?.ok_or_else(|| {
            crate::Error::Workload(err("query_targets.uri_output_key", "internal: unknown key"))
        })?;
        Ok(QueryTargets {
            run,
            filter_by_context_name: format!(
                "contexts_a.name = {} AND type = {}",
                quote(&context_name),
                quote(&t.context_filter_artifact_type)
            ),
            context_name,
            uri,
            upstream_start_key: t.upstream_start_output_key.clone(),
            bidirectional_start_key: t.bidirectional_start_output_key.clone(),
            max_num_hops: t.lineage_max_num_hops,
        })
    }

    /// The result size of every query for `runs` runs, from the file
    /// alone. Evaluates the filter property of each filtered output of each
    /// run, so it fails where ingesting would.
    pub fn expected(&self, runs: u64) -> Result<ExpectedSizes, crate::Error> {
        self.expected_inner(runs).map_err(crate::Error::Workload)
    }

    fn expected_inner(&self, runs: u64) -> Result<ExpectedSizes, WorkloadError> {
        let t = &self.targets;
        let formula = self
            .artifact
            .properties
            .iter()
            .find(|p| p.name == t.filter_property)
            .ok_or_else(|| err("query_targets.filter_property", "internal: no formula"))?;
        let filtered: Vec<(usize, usize)> = self
            .steps
            .iter()
            .flat_map(|step| {
                step.outputs
                    .iter()
                    .enumerate()
                    .filter(|(_, o)| o.artifact_type == t.filter_artifact_type)
                    .map(move |(j, _)| (step.s, j))
            })
            .collect();
        let mut above = 0u64;
        for run in 0..runs {
            let i = run_index(run)?;
            for &(s, j) in &filtered {
                let Some(step) = self.steps.get(s) else {
                    continue;
                };
                let env = artifact_env(i, step, j);
                let v = match value(&formula.formula, &env)
                    .map_err(|e| err(&formula.path, format!("run {run}: {}", e.0)))?
                {
                    PropertyValue::Int(v) => Number::Int(v),
                    PropertyValue::Double(v) => Number::Double(v),
                    PropertyValue::String(_) => continue,
                };
                if greater(v, t.filter_threshold) {
                    above += 1;
                }
            }
        }
        let per_type = |name: &str| -> u64 {
            let n = self
                .steps
                .iter()
                .flat_map(|s| &s.outputs)
                .filter(|o| *o.artifact_type == *name)
                .count();
            u64::try_from(n).unwrap_or(u64::MAX)
        };
        Ok(ExpectedSizes {
            artifacts_by_context: self.per_run.artifacts,
            executions_by_context: self.per_run.executions,
            artifact_by_uri: 1,
            filter_model_score: above,
            filter_by_context_name: per_type(&t.context_filter_artifact_type),
            lineage_upstream_from_pushed_model: self
                .lineage(&t.upstream_start_output_key, Direction::Upstream),
            lineage_bidirectional_from_model: self
                .lineage(&t.bidirectional_start_output_key, Direction::Bidirectional),
        })
    }

    /// One run's lineage subgraph from output `start`: breadth first, one
    /// hop per artifact-execution step, stopping after `max_num_hops` hops
    /// or when nothing new is reached.
    fn lineage(&self, start: &str, direction: Direction) -> LineageSize {
        let Some(start) = self.output_position(start) else {
            return LineageSize {
                artifacts: 0,
                executions: 0,
                events: 0,
                contexts: 0,
            };
        };
        let outputs_of = |s: usize| -> Vec<(usize, usize)> {
            let n = self.steps.get(s).map_or(0, |st| st.outputs.len());
            (0..n).map(|j| (s, j)).collect()
        };
        // Step s reads every output of step s-1.
        let inputs_of = |s: usize| -> Vec<(usize, usize)> {
            s.checked_sub(1).map(outputs_of).unwrap_or_default()
        };
        let mut artifacts: HashSet<(usize, usize)> = HashSet::from([start]);
        let mut executions: HashSet<usize> = HashSet::new();
        let mut artifact_frontier = vec![start];
        let mut execution_frontier: Vec<usize> = Vec::new();
        for _ in 0..self.targets.lineage_max_num_hops {
            if artifact_frontier.is_empty() && execution_frontier.is_empty() {
                break;
            }
            let mut next_executions = Vec::new();
            for &(s, _) in &artifact_frontier {
                // Upstream: the producer; downstream: the consumer (the
                // next step), if there is one.
                let mut neighbours = vec![s];
                if direction == Direction::Bidirectional && s + 1 < self.steps.len() {
                    neighbours.push(s + 1);
                }
                for e in neighbours {
                    if executions.insert(e) {
                        next_executions.push(e);
                    }
                }
            }
            let mut next_artifacts = Vec::new();
            for &e in &execution_frontier {
                let mut neighbours = inputs_of(e);
                if direction == Direction::Bidirectional {
                    neighbours.extend(outputs_of(e));
                }
                for a in neighbours {
                    if artifacts.insert(a) {
                        next_artifacts.push(a);
                    }
                }
            }
            artifact_frontier = next_artifacts;
            execution_frontier = next_executions;
        }
        let events = executions
            .iter()
            .flat_map(|&e| inputs_of(e).into_iter().chain(outputs_of(e)))
            .filter(|a| artifacts.contains(a))
            .count();
        let count = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
        LineageSize {
            artifacts: count(artifacts.len()),
            executions: count(executions.len()),
            events: count(events),
            contexts: 1,
        }
    }
}

/// Whether `value > threshold`, exactly, as Python compares an int and a
/// float (no rounding of large integers).
fn greater(value: Number, threshold: Threshold) -> bool {
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    match (value, threshold) {
        (Number::Int(v), Threshold::Int(t)) => v > t,
        (Number::Double(v), Threshold::Double(t)) => v > t,
        (Number::Int(v), Threshold::Double(t)) => {
            if t.is_nan() || t >= TWO_63 {
                false
            } else if t < -TWO_63 {
                true
            } else {
                // v > t  <=>  v > floor(t) for an integer v.
                #[allow(clippy::cast_possible_truncation)]
                let floor = t.floor() as i64;
                v > floor
            }
        }
        (Number::Double(v), Threshold::Int(t)) => {
            if v.is_nan() || v < -TWO_63 {
                false
            } else if v >= TWO_63 {
                true
            } else {
                let floor = v.floor();
                #[allow(clippy::cast_possible_truncation)]
                let whole = floor as i64;
                if floor == v { whole > t } else { whole >= t }
            }
        }
    }
}

/// A filter string literal: single quotes, inner quotes doubled.
fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// A property name as a filter path segment: bare when it is a plain
/// identifier, else backquoted with inner backquotes doubled.
fn property_name(name: &str) -> String {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if plain {
        name.to_owned()
    } else {
        format!("`{}`", name.replace('`', "``"))
    }
}

/// A double as Python's `repr` prints it: the shortest digits that read
/// back, fixed notation for exponents -4..16 (with at least one decimal),
/// else `d.ddde±XX`.
pub fn python_float_repr(value: f64) -> String {
    if value.is_nan() {
        return "nan".into();
    }
    if value.is_infinite() {
        return if value > 0.0 {
            "inf".into()
        } else {
            "-inf".into()
        };
    }
    // `{:e}` gives the shortest round-trip digits: "-1.2345e-7".
    let scientific = format!("{value:e}");
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let n = i32::try_from(digits.len()).unwrap_or(i32::MAX);
    if (-4..16).contains(&exponent) {
        if exponent < 0 {
            let zeros = "0".repeat(usize::try_from(-exponent - 1).unwrap_or(0));
            format!("{sign}0.{zeros}{digits}")
        } else if exponent + 1 >= n {
            let zeros = "0".repeat(usize::try_from(exponent + 1 - n).unwrap_or(0));
            format!("{sign}{digits}{zeros}.0")
        } else {
            let split = usize::try_from(exponent + 1).unwrap_or(0);
            let (whole, fraction) = digits.split_at(split.min(digits.len()));
            format!("{sign}{whole}.{fraction}")
        }
    } else {
        let (first, rest) = digits.split_at(1.min(digits.len()));
        let dot = if rest.is_empty() { "" } else { "." };
        let exp_sign = if exponent < 0 { '-' } else { '+' };
        format!(
            "{sign}{first}{dot}{rest}e{exp_sign}{:02}",
            exponent.unsigned_abs()
        )
    }
}
