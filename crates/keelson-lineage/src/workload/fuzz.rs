//! The entry point of the `lineage_workload` fuzz target, also replayed
//! over the seed corpus by an ordinary test.

use super::Workload;

/// Runs generated per accepted input: enough to exercise every formula.
const RUNS: u64 = 3;

/// Reads `data` as a workload file; when it is accepted, generates a few
/// runs, the query targets and the expected sizes, and checks that the
/// generated nodes agree with the per-run counts and that both filter
/// queries parse.
///
/// Returns a description of the broken invariant; a refused file, or a
/// formula that overflows, is fine.
pub fn workload(data: &[u8]) -> Result<(), String> {
    let Ok(workload) = Workload::from_json(data) else {
        return Ok(());
    };
    let counts = workload.per_run_counts();
    for run in 0..RUNS {
        let Ok(nodes) = workload.run(run) else {
            continue;
        };
        let executions = nodes.steps.len() as u64;
        let artifacts: u64 = nodes.steps.iter().map(|s| s.outputs.len() as u64).sum();
        let inputs: u64 = nodes.steps.iter().map(|s| s.inputs.len() as u64).sum();
        if (executions, artifacts, artifacts + inputs)
            != (counts.executions, counts.artifacts, counts.events)
        {
            return Err(format!(
                "run {run}: {executions} executions, {artifacts} artifacts, {} events; the counts say {counts:?}",
                artifacts + inputs
            ));
        }
    }
    let filter = workload.filter_model_score();
    crate::filter::parse(&filter).map_err(|e| format!("{filter:?} does not parse: {e}"))?;
    for k in 0..RUNS {
        if let Ok(targets) = workload.query_targets(k, RUNS) {
            crate::filter::parse(&targets.filter_by_context_name)
                .map_err(|e| format!("{:?} does not parse: {e}", targets.filter_by_context_name))?;
        }
    }
    if let Ok(expected) = workload.expected(RUNS) {
        let lineage = expected.lineage_bidirectional_from_model;
        if lineage.artifacts > counts.artifacts || lineage.executions > counts.executions {
            return Err(format!(
                "lineage {lineage:?} is larger than a run {counts:?}"
            ));
        }
    }
    Ok(())
}
