//! Lineage queries with MLMD's semantics, and drawing their answers.
//!
//! A hop is one step between an artifact and an execution along an event.
//! [`Direction::Upstream`] goes from an artifact to the execution that
//! output it and from an execution to the artifacts it read;
//! [`Direction::Downstream`] goes the other way; [`Direction::Both`] follows
//! every event. The answer holds the start nodes and every node at most
//! `max_hops` hops away, every event whose artifact and execution are both
//! in it, and the contexts of those nodes with their attributions and
//! associations.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::event::Event;
use crate::limits;
use crate::link::{Association, Attribution};
use crate::node::{Artifact, Context, Execution};
use crate::types::NodeType;

/// Which way a lineage query walks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Direction {
    /// Towards the inputs: what was this made from?
    #[default]
    Upstream,
    /// Towards the outputs: what was made from this?
    Downstream,
    /// Both ways at every node (MLMD's BIDIRECTIONAL).
    Both,
}

/// The start nodes of a lineage query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineageStart {
    /// Artifact ids.
    Artifacts(Vec<i64>),
    /// Execution ids.
    Executions(Vec<i64>),
}

/// A lineage query (MLMD's `LineageSubgraphQueryOptions`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineageQuery {
    /// Where to start (at most [`limits::MAX_LINEAGE_START_NODES`] nodes).
    pub start: LineageStart,
    /// How many hops to walk.
    pub max_hops: u32,
    /// Which way.
    pub direction: Direction,
}

impl LineageQuery {
    /// What was `artifact_id` made from, up to `max_hops` hops away?
    pub fn upstream_of_artifact(artifact_id: i64, max_hops: u32) -> Self {
        Self {
            start: LineageStart::Artifacts(vec![artifact_id]),
            max_hops,
            direction: Direction::Upstream,
        }
    }

    pub(crate) fn validate(&self) -> Result<()> {
        let n = match &self.start {
            LineageStart::Artifacts(ids) | LineageStart::Executions(ids) => ids.len(),
        };
        if n == 0 {
            return Err(Error::invalid("lineage_query.start", "no start nodes"));
        }
        if n > limits::MAX_LINEAGE_START_NODES {
            return Err(Error::invalid(
                "lineage_query.start",
                format!(
                    "{n} start nodes exceed the limit of {}",
                    limits::MAX_LINEAGE_START_NODES
                ),
            ));
        }
        Ok(())
    }
}

/// The answer of a lineage query (MLMD's `LineageGraph`), nodes sorted by id.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LineageGraph {
    /// The types of the nodes and contexts.
    pub types: Vec<NodeType>,
    /// The artifacts.
    pub artifacts: Vec<Artifact>,
    /// The executions.
    pub executions: Vec<Execution>,
    /// The contexts of the artifacts and executions.
    pub contexts: Vec<Context>,
    /// The events between the artifacts and executions.
    pub events: Vec<Event>,
    /// The artifacts' memberships in the contexts.
    pub attributions: Vec<Attribution>,
    /// The executions' memberships in the contexts.
    pub associations: Vec<Association>,
}

/// Where a synchronous backend finds the events of a set of nodes; paths
/// may be left empty.
pub(crate) trait EventSource {
    fn events_of_artifacts(&mut self, ids: &[i64]) -> Result<Vec<Event>>;
    fn events_of_executions(&mut self, ids: &[i64]) -> Result<Vec<Event>>;
}

/// The lineage walk, one hop at a time, independent of how a backend
/// fetches events (synchronously or not): ask [`Walk::frontier`] for the
/// nodes whose events the next hop needs, fetch them, [`Walk::advance`].
pub(crate) struct Walk {
    direction: Direction,
    hops_left: u32,
    artifacts: BTreeSet<i64>,
    executions: BTreeSet<i64>,
    frontier_artifacts: Vec<i64>,
    frontier_executions: Vec<i64>,
}

impl Walk {
    /// A walk from the query's start nodes (which must exist: the caller
    /// checks).
    pub(crate) fn new(query: &LineageQuery) -> Self {
        let (frontier_artifacts, frontier_executions) = match &query.start {
            LineageStart::Artifacts(ids) => (ids.clone(), Vec::new()),
            LineageStart::Executions(ids) => (Vec::new(), ids.clone()),
        };
        Self {
            direction: query.direction,
            hops_left: query.max_hops,
            artifacts: frontier_artifacts.iter().copied().collect(),
            executions: frontier_executions.iter().copied().collect(),
            frontier_artifacts,
            frontier_executions,
        }
    }

    /// The artifacts and executions whose events the next hop follows, or
    /// `None` when the walk is over.
    pub(crate) fn frontier(&self) -> Option<(&[i64], &[i64])> {
        let idle = self.frontier_artifacts.is_empty() && self.frontier_executions.is_empty();
        (self.hops_left > 0 && !idle)
            .then_some((&self.frontier_artifacts, &self.frontier_executions))
    }

    /// One hop: the events of the frontier's artifacts and of its
    /// executions.
    pub(crate) fn advance(&mut self, artifact_events: &[Event], execution_events: &[Event]) {
        let mut next_a = Vec::new();
        let mut next_e = Vec::new();
        for e in artifact_events {
            // From an artifact, upstream is its producer, downstream its readers.
            let follow = match self.direction {
                Direction::Upstream => e.event_type.is_output(),
                Direction::Downstream => e.event_type.is_input(),
                Direction::Both => true,
            };
            if follow && self.executions.insert(e.execution_id) {
                next_e.push(e.execution_id);
            }
        }
        for e in execution_events {
            let follow = match self.direction {
                Direction::Upstream => e.event_type.is_input(),
                Direction::Downstream => e.event_type.is_output(),
                Direction::Both => true,
            };
            if follow && self.artifacts.insert(e.artifact_id) {
                next_a.push(e.artifact_id);
            }
        }
        self.frontier_artifacts = next_a;
        self.frontier_executions = next_e;
        self.hops_left = self.hops_left.saturating_sub(1);
    }

    /// The artifact and execution ids reached.
    pub(crate) fn finish(self) -> (BTreeSet<i64>, BTreeSet<i64>) {
        (self.artifacts, self.executions)
    }
}

/// The artifact and execution ids within `query.max_hops` of the start
/// nodes (which must exist: the caller checks).
pub(crate) fn walk(
    query: &LineageQuery,
    source: &mut dyn EventSource,
) -> Result<(BTreeSet<i64>, BTreeSet<i64>)> {
    let mut walk = Walk::new(query);
    while let Some((artifacts, executions)) = walk.frontier() {
        let from_artifacts = if artifacts.is_empty() {
            Vec::new()
        } else {
            source.events_of_artifacts(artifacts)?
        };
        let from_executions = if executions.is_empty() {
            Vec::new()
        } else {
            source.events_of_executions(executions)?
        };
        walk.advance(&from_artifacts, &from_executions);
    }
    Ok(walk.finish())
}

impl LineageGraph {
    fn type_names(&self) -> BTreeMap<i64, &str> {
        self.types
            .iter()
            .filter_map(|t| t.id.map(|id| (id, t.name.as_str())))
            .collect()
    }

    fn labels(&self) -> Vec<(String, String, &'static str)> {
        let types = self.type_names();
        let ty = |id: i64| types.get(&id).copied().unwrap_or("?");
        let mut out = Vec::new();
        for a in &self.artifacts {
            let id = a.id.unwrap_or_default();
            let what = a
                .name
                .as_deref()
                .or(a.uri.as_deref())
                .map_or_else(|| format!("#{id}"), str::to_owned);
            out.push((
                format!("a{id}"),
                format!("{}: {what}", ty(a.type_id)),
                "artifact",
            ));
        }
        for e in &self.executions {
            let id = e.id.unwrap_or_default();
            let what = e.name.clone().unwrap_or_else(|| format!("#{id}"));
            out.push((
                format!("e{id}"),
                format!("{}: {what}", ty(e.type_id)),
                "execution",
            ));
        }
        for c in &self.contexts {
            let id = c.id.unwrap_or_default();
            out.push((
                format!("c{id}"),
                format!("{}: {}", ty(c.type_id), c.name),
                "context",
            ));
        }
        out
    }

    fn edges(&self) -> Vec<(String, String, &'static str)> {
        let mut out = Vec::new();
        for e in &self.events {
            let (a, x) = (
                format!("a{}", e.artifact_id),
                format!("e{}", e.execution_id),
            );
            if e.event_type.is_input() {
                out.push((a, x, "event"));
            } else {
                out.push((x, a, "event"));
            }
        }
        for l in &self.attributions {
            out.push((
                format!("c{}", l.context_id),
                format!("a{}", l.artifact_id),
                "member",
            ));
        }
        for l in &self.associations {
            out.push((
                format!("c{}", l.context_id),
                format!("e{}", l.execution_id),
                "member",
            ));
        }
        out
    }

    /// The graph in Graphviz DOT: artifacts as boxes, executions as
    /// ellipses, contexts as folders; events point the way data flowed,
    /// context memberships are dotted.
    ///
    /// ```
    /// let dot = keelson_lineage::LineageGraph::default().to_dot();
    /// assert!(dot.starts_with("digraph lineage {"));
    /// ```
    pub fn to_dot(&self) -> String {
        let mut s = String::from("digraph lineage {\n  rankdir=LR;\n");
        for (id, label, kind) in self.labels() {
            let shape = match kind {
                "artifact" => "box",
                "execution" => "ellipse",
                _ => "folder",
            };
            let _ = writeln!(
                s,
                "  {id} [shape={shape}, label=\"{}\"];",
                dot_escape(&label)
            );
        }
        for (from, to, kind) in self.edges() {
            let style = if kind == "member" {
                " [style=dotted, arrowhead=none]"
            } else {
                ""
            };
            let _ = writeln!(s, "  {from} -> {to}{style};");
        }
        s.push_str("}\n");
        s
    }

    /// The graph as a Mermaid flowchart (same conventions as
    /// [`to_dot`](Self::to_dot)).
    ///
    /// ```
    /// let m = keelson_lineage::LineageGraph::default().to_mermaid();
    /// assert!(m.starts_with("flowchart LR"));
    /// ```
    pub fn to_mermaid(&self) -> String {
        let mut s = String::from("flowchart LR\n");
        for (id, label, kind) in self.labels() {
            let label = mermaid_escape(&label);
            let _ = match kind {
                "artifact" => writeln!(s, "  {id}[\"{label}\"]"),
                "execution" => writeln!(s, "  {id}([\"{label}\"])"),
                _ => writeln!(s, "  {id}[/\"{label}\"/]"),
            };
        }
        for (from, to, kind) in self.edges() {
            let arrow = if kind == "member" { "-.-" } else { "-->" };
            let _ = writeln!(s, "  {from} {arrow} {to}");
        }
        s
    }
}

fn dot_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Mermaid labels take HTML entities; quotes and brackets would end them.
fn mermaid_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("#quot;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '#' => out.push_str("#35;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}
