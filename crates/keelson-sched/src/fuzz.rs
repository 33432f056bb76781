//! Entry points for the `sched_quantity`, `sched_kfp` and `sched_trace` fuzz targets under `fuzz/`, public
//! so that an ordinary test replays the checked-in seeds through exactly the
//! code the fuzzer runs.

use crate::Quantity;

/// Reads arbitrary bytes (lossily as UTF-8) as quantity strings, one per
/// line. Rejections are fine; `Err` reports a broken invariant (a bug): an
/// accepted quantity whose canonical text does not parse back to it. It
/// must never panic, whatever the input.
///
/// ```
/// keelson_sched::fuzz::quantity(b"500m\n16Gi\n1.5e3\nnot a quantity").unwrap();
/// ```
pub fn quantity(data: &[u8]) -> Result<(), String> {
    let text = String::from_utf8_lossy(data.get(..4096).unwrap_or(data));
    for line in text.lines() {
        if let Ok(q) = Quantity::parse(line) {
            let canonical = q.to_string();
            match Quantity::parse(&canonical) {
                Ok(back) if back == q => {}
                other => {
                    return Err(format!(
                        "{line:?} parsed as {q:?}, whose text {canonical:?} reads back as {other:?}"
                    ));
                }
            }
            let _ = q.checked_mul(u64::MAX).map(|m| m.checked_add(q));
            let _ = q.units_ceil();
        }
    }
    Ok(())
}

/// Most task executions one simulated run of a fuzzed pipeline may take;
/// beyond it the input is set aside (a big loop is not a bug).
const MAX_FUZZ_EXECUTIONS: usize = 2_000;

/// Reads arbitrary bytes (lossily as UTF-8, at most 64 KiB) as a compiled
/// KFP pipeline. Refusals are fine; an accepted pipeline is run by the
/// simulated executor with undecidable conditions taken and not taken.
/// `Err` reports a broken invariant (a bug): a run that stops with steps
/// left, or a task that ran before one of its dependencies finished.
///
/// ```
/// keelson_sched::fuzz::kfp_pipeline(b"root: {dag: {tasks: {}}}").unwrap();
/// keelson_sched::fuzz::kfp_pipeline(b"not: [a pipeline").unwrap();
/// ```
pub fn kfp_pipeline(data: &[u8]) -> Result<(), String> {
    let text = String::from_utf8_lossy(data.get(..65_536).unwrap_or(data));
    let Ok(pipeline) = crate::kfp::KfpPipeline::from_yaml(&text) else {
        return Ok(());
    };
    for branches in [crate::dag::Branches::Taken, crate::dag::Branches::NotTaken] {
        let sim = pipeline
            .simulate(branches, MAX_FUZZ_EXECUTIONS)
            .map_err(|e| format!("{branches:?}: {e}"))?;
        if sim.complete {
            sim.verify_order(&pipeline.dag)
                .map_err(|bug| format!("{branches:?}: {bug}"))?;
        }
    }
    Ok(())
}

/// Jobs of a fuzzed trace that are simulated (the rest are only parsed).
const MAX_FUZZ_JOBS: usize = 32;

/// Reads arbitrary bytes (lossily as UTF-8, at most 64 KiB) as a trace CSV
/// and as a cluster CSV. Refusals are fine. An accepted file must write
/// back to text that reads as the same jobs or nodes; an accepted trace's
/// first jobs are then simulated on a small fixed cluster under `fifo`
/// and `las`, and every job must be finished or skipped, never before
/// its submission plus its duration. `Err` reports a broken invariant.
///
/// ```
/// keelson_sched::fuzz::trace(b"id,submit_s,duration_s,pods,gpus_per_pod,cpu_milli_per_pod,memory_mib_per_pod,queue,priority\nj,0,1.5,1,1,0,0,q,0\n").unwrap();
/// keelson_sched::fuzz::trace(b"not,a,trace").unwrap();
/// ```
pub fn trace(data: &[u8]) -> Result<(), String> {
    use crate::sim::{self, Options, Policy, Simulator};
    let text = String::from_utf8_lossy(data.get(..65_536).unwrap_or(data));
    if let Ok(nodes) = sim::parse_cluster("fuzz", &text) {
        let back = sim::parse_cluster("fuzz", &sim::write_cluster(&nodes))
            .map_err(|e| format!("written cluster does not read back: {e}"))?;
        if back != nodes {
            return Err("cluster changed on write and read".into());
        }
    }
    let Ok(mut jobs) = sim::parse_trace("fuzz", &text) else {
        return Ok(());
    };
    let back = sim::parse_trace("fuzz", &sim::write_trace(&jobs))
        .map_err(|e| format!("written trace does not read back: {e}"))?;
    if back != jobs {
        return Err("trace changed on write and read".into());
    }
    jobs.truncate(MAX_FUZZ_JOBS);
    let nodes = sim::parse_cluster(
        "fixed",
        "node,gpus,cpu_milli,memory_mib,gpu_model,zone,block,rack\n\
         a,8,64000,262144,H100,z,b,r1\nb,4,32000,131072,H100,z,b,r2\n",
    )
    .map_err(|e| e.to_string())?;
    for policy in [Policy::Fifo, Policy::Las] {
        let Ok(simulator) = Simulator::new(jobs.clone(), &nodes, Options::new(policy)) else {
            continue;
        };
        let report = simulator.run().map_err(|e| format!("{policy}: {e}"))?;
        let s = &report.summary;
        if s.finished + s.skipped != jobs.len() {
            return Err(format!("{policy}: {s:?} leaves jobs behind"));
        }
        for o in &report.jobs {
            if o.finish_ms.is_some_and(|f| f < o.submit_ms + o.duration_ms) {
                return Err(format!("{policy}: job {} finished too early", o.id));
            }
        }
    }
    Ok(())
}
