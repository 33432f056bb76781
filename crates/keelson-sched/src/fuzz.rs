//! Entry points for the `sched_quantity` and `sched_kfp` fuzz targets under `fuzz/`, public
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
