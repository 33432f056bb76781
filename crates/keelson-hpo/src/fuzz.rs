//! Entry points for the `hpo_space`, `hpo_katib` and `hpo_protocol` fuzz targets under
//! `fuzz/`, public so that an ordinary test replays the checked-in seeds
//! through exactly the code the fuzzer runs.

use crate::protocol::{self, Protocol};
use crate::samplers::{
    AnySampler, CmaEsOptions, CmaEsSampler, GridSampler, RandomSampler, SobolSampler,
};
use crate::space::{ParamKind, Value};
use crate::study::{Direction, Outcome, Study};
use crate::{Error, SearchSpace};

/// Inputs are cut here, so that one input cannot make a run slow.
const MAX_INPUT: usize = 64 * 1024;

/// Reads arbitrary bytes (lossily as UTF-8) as a JSON and as a YAML search
/// space document. Rejected documents are fine; for every accepted one it
/// checks that the space survives its document round trip, asks random,
/// Sobol, grid and CMA-ES (a population of 2, so that it updates) samplers
/// for a few suggestions, tells each a value, maps each to the unit cube
/// and back, and checks that a saved and restored study continues with the
/// same suggestion.
///
/// Returns `Err` with a description only when one of those invariants is
/// broken (a bug); it must never panic, whatever the input.
///
/// ```
/// keelson_hpo::fuzz::space(br#"{"parameters": [{"name": "x", "parameterType": "int", "feasibleSpace": {"min": 0, "max": 3}}]}"#)
///     .unwrap();
/// keelson_hpo::fuzz::space(b"\xff not a space").unwrap();
/// ```
pub fn space(data: &[u8]) -> Result<(), String> {
    let text = String::from_utf8_lossy(data.get(..MAX_INPUT).unwrap_or(data));
    let parsed = [SearchSpace::from_json(&text), SearchSpace::from_yaml(&text)];
    for space in parsed.into_iter().flatten() {
        check_space(&space)?;
    }
    Ok(())
}

fn check_space(space: &SearchSpace) -> Result<(), String> {
    match SearchSpace::try_from(space.to_spec()) {
        Ok(back) if back == *space => {}
        Ok(back) => {
            return Err(format!(
                "the document round trip changed {space:?} into {back:?}"
            ));
        }
        Err(e) => return Err(format!("the space's own document is rejected: {e}")),
    }
    let cmaes = CmaEsOptions {
        popsize: Some(2),
        ..CmaEsOptions::default()
    };
    let samplers: [AnySampler; 4] = [
        RandomSampler::new(1).into(),
        SobolSampler::new(2).into(),
        GridSampler::new(3).with_default_count(3).into(),
        CmaEsSampler::with_options(4, cmaes).into(),
    ];
    for sampler in samplers {
        let is_grid = matches!(sampler, AnySampler::Grid(_));
        let is_cmaes = matches!(sampler, AnySampler::CmaEs(_));
        let mut study = match Study::new(space.clone(), Direction::Minimize, sampler) {
            Ok(study) => study,
            // Only the grid may refuse a valid space (2^64 points or more),
            // and CMA-ES one with categorical or conditional parameters.
            Err(_) if is_grid => continue,
            Err(Error::UnsupportedSpace { .. }) if is_cmaes => continue,
            Err(e) => return Err(format!("a valid space is refused: {e}")),
        };
        for _ in 0..5 {
            let trial = match study.ask() {
                Ok(trial) => trial,
                Err(Error::Exhausted { .. }) if is_grid => break,
                Err(e) => return Err(format!("ask failed on a valid space: {e}")),
            };
            let unit = space
                .encode(&trial.params)
                .map_err(|e| format!("a suggestion has no unit coordinates: {e}"))?;
            let point: Vec<f64> = unit.iter().map(|u| u.unwrap_or(0.5)).collect();
            space
                .decode(&point)
                .map_err(|e| format!("unit coordinates {point:?} do not map back: {e}"))?;
            study
                .tell(trial.id, Outcome::Value(point.iter().sum()))
                .map_err(|e| format!("tell failed: {e}"))?;
        }
        let saved = study.save().map_err(|e| e.to_string())?;
        let mut restored: Study =
            Study::restore(&saved).map_err(|e| format!("restore failed: {e}"))?;
        let (a, b) = (study.ask(), restored.ask());
        match (&a, &b) {
            (Ok(a), Ok(b)) if a == b => {}
            (Err(Error::Exhausted { .. }), Err(Error::Exhausted { .. })) => {}
            _ => return Err(format!("the restored study diverged: {a:?} vs {b:?}")),
        }
    }
    Ok(())
}

/// Reads arbitrary bytes (lossily as UTF-8) as Kubernetes manifests and
/// turns every Katib `Experiment` among them into a study, as a controller
/// would: [`KatibStudy::from_experiment`](crate::katib::KatibStudy::from_experiment),
/// a first batch of trials, each rendered into its run spec, and a
/// save/restore of the study.
///
/// Rejections are fine; `Err` reports a broken invariant (a bug): a
/// rendered spec that still holds a placeholder, or a restored study that
/// diverges. It must never panic, whatever the input.
///
/// ```
/// keelson_hpo::fuzz::experiment(br#"
/// apiVersion: kubeflow.org/v1beta1
/// kind: Experiment
/// metadata: {name: t}
/// spec:
///   objective: {type: minimize, objectiveMetricName: loss}
///   algorithm: {algorithmName: random}
///   parameters: [{name: x, parameterType: int, feasibleSpace: {min: "0", max: "3"}}]
/// "#).unwrap();
/// keelson_hpo::fuzz::experiment(b"kind: [").unwrap();
/// ```
#[cfg(feature = "crd")]
#[cfg_attr(docsrs, doc(cfg(feature = "crd")))]
pub fn experiment(data: &[u8]) -> Result<(), String> {
    use crate::katib::{KatibStudy, TrialMeta, render_trial_spec};
    use keelson_crd::AnyResource;

    let text = String::from_utf8_lossy(data.get(..MAX_INPUT).unwrap_or(data));
    let Ok(documents) = keelson_crd::load("fuzz", &text) else {
        return Ok(());
    };
    for document in documents {
        let AnyResource::Experiment(experiment) = document.resource else {
            continue;
        };
        let Ok(mut katib) = KatibStudy::from_experiment(&experiment, 1) else {
            continue;
        };
        let batch = katib.trials_to_create().min(4);
        let trials = match katib.study.ask_n(batch) {
            Ok(trials) => trials,
            Err(Error::Exhausted { .. }) => continue,
            Err(e) => return Err(format!("ask failed on an accepted experiment: {e}")),
        };
        for (i, trial) in trials.iter().enumerate() {
            let meta = TrialMeta::new(format!("trial-{i}"), "fuzz");
            if let Ok(spec) = render_trial_spec(&experiment, &meta, &trial.params) {
                let rendered = spec.to_string();
                if rendered.contains("${trialParameters.") {
                    return Err(format!("a placeholder survived rendering: {rendered}"));
                }
            }
        }
        let saved = katib.study.save().map_err(|e| e.to_string())?;
        let mut restored: Study =
            Study::restore(&saved).map_err(|e| format!("restore failed: {e}"))?;
        let (a, b) = (katib.study.ask(), restored.ask());
        match (&a, &b) {
            (Ok(a), Ok(b)) if a == b => {}
            (Err(Error::Exhausted { .. }), Err(Error::Exhausted { .. })) => {}
            _ => return Err(format!("the restored study diverged: {a:?} vs {b:?}")),
        }
    }
    Ok(())
}

/// How many of a fuzzed protocol's functions are run, and for how many
/// trials: enough to reach every sampler's model, little enough to keep an
/// input fast.
const PROTOCOL_FUNCTIONS: usize = 4;
const PROTOCOL_TRIALS: usize = 12;

/// Reads arbitrary bytes (lossily as UTF-8) as a protocol file for the
/// `hpo_protocol` runner ([`Protocol::from_json`] and
/// [`Protocol::resolve`]), then runs the random and TPE samplers on the
/// first few functions it accepts for a few trials, as the runner would.
///
/// Rejections are fine; `Err` reports a broken invariant (a bug): a
/// trial outside the space the protocol states, or a run's records that do
/// not match its budgets. It must never panic, whatever the input.
///
/// ```
/// keelson_hpo::fuzz::protocol(br#"{"budgets": [3], "seeds": [0],
///     "functions": [{"name": "ackley", "dim": 3, "params_uniform_box": {"min": -1, "max": 2}}]}"#)
///     .unwrap();
/// keelson_hpo::fuzz::protocol(b"{\"budgets\": [").unwrap();
/// ```
pub fn protocol(data: &[u8]) -> Result<(), String> {
    let text = String::from_utf8_lossy(data.get(..MAX_INPUT).unwrap_or(data));
    let Ok(protocol) = Protocol::from_json(&text) else {
        return Ok(());
    };
    let Ok(functions) = protocol.resolve() else {
        return Ok(());
    };
    let seed = protocol.seeds.first().copied().unwrap_or(0);
    let budgets: Vec<usize> = protocol
        .budgets
        .iter()
        .map(|&b| b.min(PROTOCOL_TRIALS))
        .collect();
    for function in functions.iter().take(PROTOCOL_FUNCTIONS) {
        for sampler in ["random", "tpe"] {
            let trials = protocol::trace(function, sampler, seed, PROTOCOL_TRIALS)
                .map_err(|e| format!("{sampler} failed on an accepted protocol: {e}"))?;
            let mut best = f64::INFINITY;
            for t in &trials {
                for param in function.space.params() {
                    let json = t.params.get(param.name());
                    let value = match (param.kind(), json) {
                        (_, None) => {
                            return Err(format!("trial {} lacks {}", t.trial, param.name()));
                        }
                        (ParamKind::Categorical { .. }, Some(v)) => {
                            Value::Categorical(v.as_str().unwrap_or_default().to_owned())
                        }
                        (ParamKind::Int { .. }, Some(v)) => {
                            Value::Int(v.as_i64().unwrap_or(i64::MIN))
                        }
                        (ParamKind::Discrete { .. }, Some(v)) => {
                            Value::Discrete(v.as_f64().unwrap_or(f64::NAN))
                        }
                        (ParamKind::Double { .. }, Some(v)) => {
                            Value::Double(v.as_f64().unwrap_or(f64::NAN))
                        }
                    };
                    param.check(&value).map_err(|e| {
                        format!("trial {} lies outside the stated space: {e}", t.trial)
                    })?;
                }
                if t.value.is_finite() {
                    best = best.min(t.value);
                }
            }
            let records = protocol::run(function, sampler, seed, &budgets)
                .map_err(|e| format!("{sampler} failed on an accepted protocol: {e}"))?;
            if records.len() != budgets.len()
                || records.iter().zip(&budgets).any(|(r, &b)| r.budget != b)
            {
                return Err(format!(
                    "records {records:?} do not match budgets {budgets:?}"
                ));
            }
            let last = records
                .iter()
                .max_by_key(|r| r.budget)
                .map(|r| r.best_value);
            if best.is_finite()
                && last.is_some_and(|v| v != best)
                && budgets.contains(&PROTOCOL_TRIALS)
            {
                return Err(format!("the run's best {last:?} is not the trace's {best}"));
            }
        }
    }
    Ok(())
}
