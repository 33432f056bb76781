//! Katib Experiment, Trial and Suggestion through the public API: the upstream
//! example corpus round-trips, the search-space and objective helpers, conditions,
//! and field parity with Katib's Go API.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use keelson_crd::katib::v1beta1::{
    Distribution, Experiment, MetricStrategyType, ObjectiveKind, ParameterKind, Suggestion, Trial,
    TrialCounts,
};
use keelson_crd::{CustomResource, Error, HasConditions};
use serde_json::Value;

// ---------------------------------------------------------------------------
// Corpus
// ---------------------------------------------------------------------------

fn corpus_dir() -> PathBuf {
    match std::env::var("KEELSON_CRD_CORPUS") {
        Ok(dir) => PathBuf::from(dir),
        Err(_) => PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/corpus/crd"
        )),
    }
}

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            yaml_files(&path, out);
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml")
        ) {
            out.push(path);
        }
    }
}

/// Every YAML document of the Katib corpus whose kind is `kind`, with its file.
fn corpus_docs(kind: &str) -> Vec<(PathBuf, serde_yaml_ng::Value)> {
    let mut files = Vec::new();
    yaml_files(&corpus_dir().join("katib"), &mut files);
    let mut docs = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for doc in serde_yaml_ng::Deserializer::from_str(&text) {
            let value: serde_yaml_ng::Value = serde::Deserialize::deserialize(doc)
                .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            if value.get("kind").and_then(|k| k.as_str()) == Some(kind) {
                docs.push((file.clone(), value));
            }
        }
    }
    docs
}

fn corpus_experiment(file_suffix: &str) -> Experiment {
    let (_, doc) = corpus_docs("Experiment")
        .into_iter()
        .find(|(path, _)| path.ends_with(file_suffix))
        .unwrap_or_else(|| panic!("no Experiment in {file_suffix}"));
    serde_yaml_ng::from_value(doc).unwrap()
}

/// Differences between `input` and `output`, where numbers compare by value and a
/// `null` in the input may be missing from the output.
fn json_diff(path: &str, input: &Value, output: &Value, diffs: &mut Vec<String>) {
    match (input, output) {
        (Value::Number(a), Value::Number(b)) => {
            let same = match (a.as_i64(), b.as_i64()) {
                (Some(x), Some(y)) => x == y,
                _ => a.as_f64() == b.as_f64(),
            };
            if !same {
                diffs.push(format!("{path}: {a} became {b}"));
            }
        }
        (Value::Object(a), Value::Object(b)) => {
            for (key, av) in a {
                let child = format!("{path}.{key}");
                match b.get(key) {
                    Some(bv) => json_diff(&child, av, bv, diffs),
                    None if av.is_null() => {}
                    None => diffs.push(format!("{child}: dropped ({av})")),
                }
            }
            for key in b.keys().filter(|k| !a.contains_key(*k)) {
                diffs.push(format!("{path}.{key}: added ({})", b[key]));
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            if a.len() != b.len() {
                diffs.push(format!("{path}: {} items became {}", a.len(), b.len()));
            }
            for (i, (av, bv)) in a.iter().zip(b).enumerate() {
                json_diff(&format!("{path}[{i}]"), av, bv, diffs);
            }
        }
        (a, b) if a == b => {}
        (a, b) => diffs.push(format!("{path}: {a} became {b}")),
    }
}

#[test]
fn every_corpus_experiment_round_trips() {
    let docs = corpus_docs("Experiment");
    assert!(
        docs.len() >= 20,
        "expected the 20 upstream example Experiments under {}, found {}",
        corpus_dir().display(),
        docs.len()
    );
    let mut failures = Vec::new();
    for (file, doc) in &docs {
        let experiment: Experiment = match serde_yaml_ng::from_value(doc.clone()) {
            Ok(e) => e,
            Err(e) => {
                failures.push(format!("{}: {e}", file.display()));
                continue;
            }
        };
        let input: Value = serde_yaml_ng::from_value(doc.clone()).unwrap();
        let output = serde_json::to_value(&experiment).unwrap();
        let mut diffs = Vec::new();
        json_diff("", &input, &output, &mut diffs);
        for d in diffs {
            failures.push(format!("{}: {d}", file.display()));
        }
        // The typed value survives a second trip through JSON unchanged.
        let again: Experiment = serde_json::from_value(output).unwrap();
        assert_eq!(again, experiment, "{}", file.display());
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn corpus_experiments_have_the_expected_shape() {
    let exp = corpus_experiment("argo/argo-workflow.yaml");
    let template = exp.spec.as_ref().unwrap().trial_template.as_ref().unwrap();
    assert_eq!(template.retain, Some(true));
    assert_eq!(template.primary_container_name.as_deref(), Some("main"));
    assert_eq!(
        template.success_condition.as_deref(),
        Some(r#"status.[@this].#(phase=="Succeeded")#"#)
    );
    assert_eq!(
        template.trial_spec.as_ref().unwrap()["kind"],
        Value::from("Workflow")
    );
    assert_eq!(
        template
            .primary_pod_labels
            .as_ref()
            .unwrap()
            .get("katib.kubeflow.org/model-training")
            .map(String::as_str),
        Some("true")
    );

    let pbt = corpus_experiment("hp-tuning/simple-pbt.yaml");
    assert_eq!(
        pbt.spec
            .as_ref()
            .unwrap()
            .resume_policy
            .as_ref()
            .map(|r| r.as_str()),
        Some("FromVolume")
    );

    let median = corpus_experiment("early-stopping/median-stop.yaml");
    let early = median
        .spec
        .as_ref()
        .unwrap()
        .early_stopping
        .as_ref()
        .unwrap();
    assert_eq!(early.algorithm_name.as_deref(), Some("medianstop"));
    assert_eq!(early.algorithm_settings.as_ref().unwrap().len(), 2);

    let enas = corpus_experiment("nas/enas-cpu.yaml");
    let nas = enas.spec.as_ref().unwrap().nas_config.as_ref().unwrap();
    let graph = nas.graph_config.as_ref().unwrap();
    assert_eq!(graph.num_layers, Some(1));
    assert_eq!(graph.input_sizes.as_deref(), Some(&[32, 32, 3][..]));
    assert_eq!(nas.operations.as_ref().unwrap().len(), 4);

    let xgb = corpus_experiment("kubeflow-training-operator/xgboostjob-lightgbm.yaml");
    let formats = xgb
        .spec
        .as_ref()
        .unwrap()
        .metrics_collector_spec
        .as_ref()
        .unwrap();
    assert_eq!(
        formats
            .source
            .as_ref()
            .unwrap()
            .filter
            .as_ref()
            .unwrap()
            .metrics_format
            .as_deref(),
        Some(&[r"(\w+\s\w+)\s:\s((-?\d+)(\.\d+)?)".to_owned()][..])
    );
}

#[test]
fn kind_facts_and_wire_form() {
    assert_eq!(Experiment::INFO.api_version(), "kubeflow.org/v1beta1");
    assert_eq!(Trial::INFO.plural, "trials");
    assert_eq!(Suggestion::INFO.kind, "Suggestion");
    let crd = Experiment::crd();
    assert_eq!(
        crd.metadata.name.as_deref(),
        Some("experiments.kubeflow.org")
    );
    let schema = serde_json::to_value(&crd.spec.versions[0].schema).unwrap();
    let template = &schema["openAPIV3Schema"]["properties"]["spec"]["properties"]["trialTemplate"];
    assert_eq!(
        template["properties"]["trialSpec"]["x-kubernetes-preserve-unknown-fields"],
        Value::Bool(true),
        "{template:#}"
    );

    let value = serde_json::to_value(Trial::default()).unwrap();
    assert_eq!(
        value,
        serde_json::json!({ "apiVersion": "kubeflow.org/v1beta1", "kind": "Trial" })
    );
}

// ---------------------------------------------------------------------------
// Search space, objective, trial counts
// ---------------------------------------------------------------------------

#[test]
fn search_space_of_corpus_experiments() {
    let exp = corpus_experiment("hp-tuning/optuna-distribution.yaml");
    let space = exp.search_space().unwrap();
    let names: Vec<_> = space.parameters.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["lr", "momentum", "epochs", "batch_size"]);
    assert_eq!(
        space.parameters[0].kind,
        ParameterKind::Double {
            min: 1.0,
            max: 5.0,
            step: Some(0.1),
            distribution: Distribution::Uniform
        }
    );
    assert_eq!(
        space.parameters[1].kind,
        ParameterKind::Double {
            min: 0.001,
            max: 3.0,
            step: None,
            distribution: Distribution::LogUniform
        }
    );
    assert_eq!(
        space.get("epochs").unwrap().kind,
        ParameterKind::Int {
            min: 1,
            max: 3,
            step: None,
            distribution: Distribution::Uniform
        }
    );
    assert_eq!(
        space.get("batch_size").unwrap().kind,
        ParameterKind::Int {
            min: 32,
            max: 64,
            step: None,
            distribution: Distribution::LogUniform
        }
    );

    let grid = corpus_experiment("hp-tuning/grid.yaml")
        .search_space()
        .unwrap();
    assert_eq!(
        grid.get("lr").unwrap().kind,
        ParameterKind::Double {
            min: 0.01,
            max: 0.05,
            step: Some(0.005),
            distribution: Distribution::Uniform
        }
    );

    let fpga = corpus_experiment("fpga/xgboost-example.yaml")
        .search_space()
        .unwrap();
    assert!(matches!(
        fpga.get("alpha").unwrap().kind,
        ParameterKind::Double { min, max, .. } if min == 0.0 && max == 0.05
    ));

    let xgb = corpus_experiment("kubeflow-training-operator/xgboostjob-lightgbm.yaml")
        .search_space()
        .unwrap();
    assert_eq!(
        xgb.get("num-leaves").unwrap().kind,
        ParameterKind::Int {
            min: 50,
            max: 60,
            step: Some(1),
            distribution: Distribution::Uniform
        }
    );

    // A NAS experiment keeps its search space in spec.nasConfig.
    let err = corpus_experiment("nas/enas-cpu.yaml")
        .search_space()
        .unwrap_err();
    assert_eq!(invalid_path(&err), "spec.parameters");

    // Every HP experiment of the corpus has a valid search space, objective and budget.
    for (file, doc) in corpus_docs("Experiment") {
        let exp: Experiment = serde_yaml_ng::from_value(doc).unwrap();
        let is_nas = exp.spec.as_ref().unwrap().nas_config.is_some();
        assert_eq!(exp.search_space().is_ok(), !is_nas, "{}", file.display());
        exp.objective()
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        exp.trial_counts()
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    }
}

#[test]
fn objective_and_trial_counts_of_corpus_experiments() {
    let exp = corpus_experiment("metrics-collector/metrics-collection-strategy.yaml");
    let objective = exp.objective().unwrap();
    assert_eq!(objective.kind, ObjectiveKind::Minimize);
    assert_eq!(objective.metric, "loss");
    assert_eq!(objective.goal, Some(0.001));
    assert_eq!(objective.additional_metrics, ["accuracy"]);
    assert_eq!(
        objective.metric_strategies["accuracy"],
        MetricStrategyType::Max
    );
    assert_eq!(objective.metric_strategies["loss"], MetricStrategyType::Min);
    assert!(objective.goal_reached(0.0005));
    assert!(!objective.goal_reached(0.01));
    assert!(objective.is_better(0.1, 0.2));

    let xgb = corpus_experiment("kubeflow-training-operator/xgboostjob-lightgbm.yaml");
    let objective = xgb.objective().unwrap();
    assert_eq!(objective.kind, ObjectiveKind::Maximize);
    assert_eq!(objective.metric, "valid_1 auc");
    assert_eq!(objective.additional_metrics.len(), 3);
    // Katib's default: every metric follows the objective's direction.
    assert_eq!(
        objective.metric_strategies["training binary_logloss"],
        MetricStrategyType::Max
    );
    assert_eq!(objective.metric_strategies.len(), 4);

    assert_eq!(
        corpus_experiment("hp-tuning/random.yaml")
            .trial_counts()
            .unwrap(),
        TrialCounts {
            parallel: 3,
            max: Some(12),
            max_failed: Some(3)
        }
    );
    assert_eq!(
        corpus_experiment("hp-tuning/simple-pbt.yaml")
            .trial_counts()
            .unwrap(),
        TrialCounts {
            parallel: 2,
            max: Some(2),
            max_failed: Some(3)
        }
    );
}

const BASE: &str = r#"
apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata: { name: t, namespace: default }
spec:
  objective: { type: minimize, goal: 0.1, objectiveMetricName: loss }
  maxTrialCount: 10
  parameters:
  - { name: lr, parameterType: double, feasibleSpace: { min: "0.01", max: "0.1" } }
  - { name: layers, parameterType: int, feasibleSpace: { min: "1", max: "4" } }
  - { name: opt, parameterType: categorical, feasibleSpace: { list: [sgd, adam] } }
  - { name: batch, parameterType: discrete, feasibleSpace: { list: ["16", "32"] } }
"#;

/// The base experiment with `edit` applied to its JSON form.
fn edited(edit: impl FnOnce(&mut Value)) -> Experiment {
    let mut value: Value = serde_yaml_ng::from_str(BASE).unwrap();
    edit(&mut value);
    serde_json::from_value(value).unwrap()
}

fn invalid_path(err: &Error) -> String {
    assert!(matches!(err, Error::Invalid { .. }), "not Invalid: {err:?}");
    err.location().unwrap().path.clone().unwrap()
}

#[track_caller]
fn assert_search_space_error(edit: impl FnOnce(&mut Value), path: &str) {
    let err = edited(edit).search_space().unwrap_err();
    assert_eq!(invalid_path(&err), path, "{err}");
    assert!(err.to_string().contains(path), "{err}");
}

#[test]
fn the_base_experiment_is_valid() {
    let exp = edited(|_| {});
    let space = exp.search_space().unwrap();
    assert_eq!(space.parameters.len(), 4);
    assert_eq!(
        space.get("opt").unwrap().kind,
        ParameterKind::Categorical {
            values: vec!["sgd".into(), "adam".into()]
        }
    );
    assert_eq!(
        space.get("batch").unwrap().kind,
        ParameterKind::Discrete {
            values: vec![16.0, 32.0]
        }
    );
    assert!(exp.objective().is_ok());
    assert!(exp.trial_counts().is_ok());
}

#[test]
fn search_space_errors_name_the_field() {
    // min greater than max on an int parameter
    assert_search_space_error(
        |v| {
            v["spec"]["parameters"][1]["feasibleSpace"]["min"] = "5".into();
        },
        "spec.parameters[1].feasibleSpace.min",
    );
    // min greater than max on a double parameter
    assert_search_space_error(
        |v| v["spec"]["parameters"][0]["feasibleSpace"]["min"] = "0.5".into(),
        "spec.parameters[0].feasibleSpace.min",
    );
    // not a number
    assert_search_space_error(
        |v| v["spec"]["parameters"][0]["feasibleSpace"]["max"] = "lots".into(),
        "spec.parameters[0].feasibleSpace.max",
    );
    // not finite
    assert_search_space_error(
        |v| v["spec"]["parameters"][0]["feasibleSpace"]["max"] = "inf".into(),
        "spec.parameters[0].feasibleSpace.max",
    );
    // an int bound with a fraction
    assert_search_space_error(
        |v| v["spec"]["parameters"][1]["feasibleSpace"]["min"] = "1.5".into(),
        "spec.parameters[1].feasibleSpace.min",
    );
    // missing bound
    assert_search_space_error(
        |v| {
            v["spec"]["parameters"][1]["feasibleSpace"]
                .as_object_mut()
                .unwrap()
                .remove("max");
        },
        "spec.parameters[1].feasibleSpace.max",
    );
    // non-positive step
    assert_search_space_error(
        |v| v["spec"]["parameters"][0]["feasibleSpace"]["step"] = "0".into(),
        "spec.parameters[0].feasibleSpace.step",
    );
    // empty categorical list
    assert_search_space_error(
        |v| v["spec"]["parameters"][2]["feasibleSpace"]["list"] = serde_json::json!([]),
        "spec.parameters[2].feasibleSpace.list",
    );
    // categorical without list
    assert_search_space_error(
        |v| v["spec"]["parameters"][2]["feasibleSpace"] = serde_json::json!({}),
        "spec.parameters[2].feasibleSpace.list",
    );
    // a bound on a list parameter
    assert_search_space_error(
        |v| v["spec"]["parameters"][2]["feasibleSpace"]["min"] = "1".into(),
        "spec.parameters[2].feasibleSpace.min",
    );
    // a list on a bounded parameter
    assert_search_space_error(
        |v| v["spec"]["parameters"][0]["feasibleSpace"]["list"] = serde_json::json!(["1"]),
        "spec.parameters[0].feasibleSpace.list",
    );
    // a discrete value that is not a number
    assert_search_space_error(
        |v| v["spec"]["parameters"][3]["feasibleSpace"]["list"][1] = "big".into(),
        "spec.parameters[3].feasibleSpace.list[1]",
    );
    // duplicate names
    assert_search_space_error(
        |v| v["spec"]["parameters"][2]["name"] = "lr".into(),
        "spec.parameters[2].name",
    );
    // missing name
    assert_search_space_error(
        |v| {
            v["spec"]["parameters"][3]
                .as_object_mut()
                .unwrap()
                .remove("name");
        },
        "spec.parameters[3].name",
    );
    // missing feasible space
    assert_search_space_error(
        |v| {
            v["spec"]["parameters"][0]
                .as_object_mut()
                .unwrap()
                .remove("feasibleSpace");
        },
        "spec.parameters[0].feasibleSpace",
    );
    // unknown or missing type
    assert_search_space_error(
        |v| v["spec"]["parameters"][1]["parameterType"] = "float".into(),
        "spec.parameters[1].parameterType",
    );
    assert_search_space_error(
        |v| v["spec"]["parameters"][1]["parameterType"] = "unknown".into(),
        "spec.parameters[1].parameterType",
    );
    assert_search_space_error(
        |v| {
            v["spec"]["parameters"][1]
                .as_object_mut()
                .unwrap()
                .remove("parameterType");
        },
        "spec.parameters[1].parameterType",
    );
    // unknown distribution; log-uniform needs a positive lower bound
    assert_search_space_error(
        |v| v["spec"]["parameters"][0]["feasibleSpace"]["distribution"] = "cauchy".into(),
        "spec.parameters[0].feasibleSpace.distribution",
    );
    assert_search_space_error(
        |v| {
            v["spec"]["parameters"][1]["feasibleSpace"]["distribution"] = "logUniform".into();
            v["spec"]["parameters"][1]["feasibleSpace"]["min"] = "0".into();
        },
        "spec.parameters[1].feasibleSpace.min",
    );
    // no parameters at all
    assert_search_space_error(
        |v| v["spec"]["parameters"] = serde_json::json!([]),
        "spec.parameters",
    );
    assert_search_space_error(
        |v| {
            v.as_object_mut().unwrap().remove("spec");
        },
        "spec",
    );
}

#[track_caller]
fn assert_objective_error(edit: impl FnOnce(&mut Value), path: &str) {
    let err = edited(edit).objective().unwrap_err();
    assert_eq!(invalid_path(&err), path, "{err}");
}

#[test]
fn objective_errors_name_the_field() {
    assert_objective_error(
        |v| {
            v["spec"].as_object_mut().unwrap().remove("objective");
        },
        "spec.objective",
    );
    assert_objective_error(
        |v| {
            v["spec"]["objective"]
                .as_object_mut()
                .unwrap()
                .remove("type");
        },
        "spec.objective.type",
    );
    assert_objective_error(
        |v| v["spec"]["objective"]["type"] = "minimise".into(),
        "spec.objective.type",
    );
    assert_objective_error(
        |v| v["spec"]["objective"]["objectiveMetricName"] = "".into(),
        "spec.objective.objectiveMetricName",
    );
    assert_objective_error(
        |v| v["spec"]["objective"]["additionalMetricNames"] = serde_json::json!(["acc", "loss"]),
        "spec.objective.additionalMetricNames[1]",
    );
    assert_objective_error(
        |v| {
            v["spec"]["objective"]["metricStrategies"] =
                serde_json::json!([{ "name": "loss", "value": "median" }])
        },
        "spec.objective.metricStrategies[0].value",
    );
    assert_objective_error(
        |v| v["spec"]["objective"]["metricStrategies"] = serde_json::json!([{ "value": "min" }]),
        "spec.objective.metricStrategies[0].name",
    );
}

#[test]
fn trial_counts_apply_defaults_and_check_limits() {
    let counts = edited(|v| {
        v["spec"].as_object_mut().unwrap().remove("maxTrialCount");
    })
    .trial_counts()
    .unwrap();
    assert_eq!(
        counts,
        TrialCounts {
            parallel: keelson_crd::katib::v1beta1::DEFAULT_PARALLEL_TRIAL_COUNT,
            max: None,
            max_failed: None
        }
    );

    let path = |edit: fn(&mut Value)| invalid_path(&edited(edit).trial_counts().unwrap_err());
    assert_eq!(
        path(|v| v["spec"]["parallelTrialCount"] = 0.into()),
        "spec.parallelTrialCount"
    );
    assert_eq!(
        path(|v| v["spec"]["maxTrialCount"] = (-1).into()),
        "spec.maxTrialCount"
    );
    assert_eq!(
        path(|v| v["spec"]["maxFailedTrialCount"] = (-1).into()),
        "spec.maxFailedTrialCount"
    );
    // More allowed failures than trials can never be reached, but is accepted
    // (Katib's own simple-pbt example has it).
    assert_eq!(
        edited(|v| v["spec"]["maxFailedTrialCount"] = 11.into())
            .trial_counts()
            .unwrap()
            .max_failed,
        Some(11)
    );
    // The default of 3 parallel trials exceeds a budget of 2.
    assert_eq!(
        path(|v| v["spec"]["maxTrialCount"] = 2.into()),
        "spec.parallelTrialCount"
    );
    assert_eq!(
        edited(|v| {
            v["spec"]["maxTrialCount"] = 2.into();
            v["spec"]["parallelTrialCount"] = 1.into();
            v["spec"]["maxFailedTrialCount"] = 0.into();
        })
        .trial_counts()
        .unwrap(),
        TrialCounts {
            parallel: 1,
            max: Some(2),
            max_failed: Some(0)
        }
    );
}

// ---------------------------------------------------------------------------
// Conditions
// ---------------------------------------------------------------------------

#[test]
fn experiment_conditions() {
    let yaml = r#"
apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata: { name: random, namespace: kubeflow }
spec: { maxTrialCount: 2 }
status:
  startTime: "2026-01-01T00:00:00Z"
  completionTime: "2026-01-01T02:00:00Z"
  conditions:
  - type: Created
    status: "True"
    reason: ExperimentCreated
    message: Experiment is created
    lastUpdateTime: "2026-01-01T00:00:00Z"
    lastTransitionTime: "2026-01-01T00:00:00Z"
  - type: Running
    status: "False"
    reason: ExperimentRunning
    lastUpdateTime: "2026-01-01T02:00:00Z"
    lastTransitionTime: "2026-01-01T02:00:00Z"
  - type: Succeeded
    status: "True"
    reason: ExperimentMaxTrialsReached
    message: Experiment has succeeded because max trial count has reached
    lastUpdateTime: "2026-01-01T02:00:00Z"
    lastTransitionTime: "2026-01-01T02:00:00Z"
  currentOptimalTrial:
    bestTrialName: random-abc
    parameterAssignments: [{ name: lr, value: "0.02" }]
    observation:
      metrics: [{ name: loss, min: "0.1", max: "0.9", latest: "0.2" }]
  succeededTrialList: [random-abc, random-def]
  trials: 2
  trialsSucceeded: 2
"#;
    let exp: Experiment = serde_yaml_ng::from_str(yaml).unwrap();
    assert!(exp.is_succeeded());
    assert!(!exp.is_failed());
    assert!(exp.is_finished());
    let latest = exp.latest_condition().unwrap();
    assert_eq!(latest.type_, "Succeeded");
    assert_eq!(latest.reason, Some("ExperimentMaxTrialsReached"));
    assert_eq!(
        latest.last_update_time.as_deref(),
        Some("2026-01-01T02:00:00Z")
    );
    assert_eq!(exp.conditions().len(), 3);
    assert!(!exp.condition("Running").unwrap().is_true());
    let best = exp
        .status
        .as_ref()
        .unwrap()
        .current_optimal_trial
        .as_ref()
        .unwrap();
    assert_eq!(
        best.observation
            .as_ref()
            .unwrap()
            .metric("loss")
            .unwrap()
            .latest
            .as_deref(),
        Some("0.2")
    );

    // Status round-trips too, times included.
    let input: Value = serde_yaml_ng::from_str(yaml).unwrap();
    let mut diffs = Vec::new();
    json_diff("", &input, &serde_json::to_value(&exp).unwrap(), &mut diffs);
    assert!(diffs.is_empty(), "{diffs:?}");

    let failed: Experiment = serde_yaml_ng::from_str(
        r#"
apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata: { name: random }
status:
  conditions:
  - { type: Failed, status: "True", reason: ExperimentMaxFailedTrialsReached }
"#,
    )
    .unwrap();
    assert!(failed.is_failed());
    assert!(!failed.is_succeeded());
    assert!(Experiment::default().latest_condition().is_none());
}

fn trial_with(conditions: &str) -> Trial {
    serde_yaml_ng::from_str(&format!(
        "apiVersion: kubeflow.org/v1beta1\nkind: Trial\nmetadata: {{ name: t }}\nstatus:\n  conditions: {conditions}\n"
    ))
    .unwrap()
}

#[test]
fn trial_conditions() {
    let early = trial_with(
        r#"[{ type: Created, status: "True" }, { type: Running, status: "False" }, { type: EarlyStopped, status: "True", reason: TrialEarlyStopped }]"#,
    );
    assert!(early.is_succeeded(), "EarlyStopped counts as success");
    assert!(early.is_finished());
    assert!(!early.is_failed());

    let killed = trial_with(r#"[{ type: Killed, status: "True" }]"#);
    assert!(killed.is_failed());
    assert!(killed.is_finished());

    let failed = trial_with(r#"[{ type: Failed, status: "True" }]"#);
    assert!(failed.is_failed());

    let running =
        trial_with(r#"[{ type: Created, status: "True" }, { type: Running, status: "True" }]"#);
    assert!(!running.is_finished());
    assert_eq!(running.latest_condition().unwrap().type_, "Running");

    let unavailable =
        trial_with(r#"[{ type: Succeeded, status: "False", reason: MetricsUnavailable }]"#);
    assert!(unavailable.is_metrics_unavailable());
    assert!(!unavailable.is_succeeded());
    assert!(!running.is_metrics_unavailable());

    let full: Trial = serde_yaml_ng::from_str(
        r#"
apiVersion: kubeflow.org/v1beta1
kind: Trial
metadata: { name: random-abc, namespace: kubeflow }
spec:
  objective: { type: minimize, goal: 0.001, objectiveMetricName: loss }
  parameterAssignments: [{ name: lr, value: "0.02" }, { name: momentum, value: "0.6" }]
  earlyStoppingRules: [{ name: loss, value: "0.5", comparison: greater, startStep: 4 }]
  runSpec: { apiVersion: batch/v1, kind: Job, spec: { template: { spec: { restartPolicy: Never } } } }
  retainRun: true
  metricsCollector: { collector: { kind: StdOut } }
  primaryContainerName: training-container
  successCondition: status.conditions.#(type=="Complete")#|#(status=="True")#
  labels: { katib.kubeflow.org/pbt-generation: "1" }
status:
  observation: { metrics: [{ name: loss, latest: unavailable }] }
"#,
    )
    .unwrap();
    assert_eq!(full.assignments()["momentum"], "0.6");
    let rule = &full
        .spec
        .as_ref()
        .unwrap()
        .early_stopping_rules
        .as_ref()
        .unwrap()[0];
    assert_eq!(rule.start_step, Some(4));
    assert_eq!(rule.comparison.as_ref().unwrap().as_str(), "greater");
    let out = serde_json::to_value(&full).unwrap();
    assert_eq!(out["spec"]["runSpec"]["kind"], "Job");
    assert_eq!(
        out["status"]["observation"]["metrics"][0]["latest"],
        "unavailable"
    );
}

#[test]
fn suggestion_conditions_and_assignments() {
    let suggestion: Suggestion = serde_yaml_ng::from_str(
        r#"
apiVersion: kubeflow.org/v1beta1
kind: Suggestion
metadata: { name: random, namespace: kubeflow }
spec:
  algorithm: { algorithmName: random }
  requests: 3
  resumePolicy: LongRunning
status:
  suggestionCount: 1
  suggestions:
  - name: random-abc
    parameterAssignments: [{ name: lr, value: "0.02" }]
    labels: { a: b }
  conditions:
  - { type: Created, status: "True", lastTransitionTime: "2026-01-01T00:00:00Z" }
  - { type: DeploymentReady, status: "True", lastTransitionTime: "2026-01-01T00:01:00Z" }
  - { type: Running, status: "True", lastTransitionTime: "2026-01-01T00:02:00Z" }
  - { type: Failed, status: "True", lastTransitionTime: "2026-01-01T00:03:00Z" }
"#,
    )
    .unwrap();
    assert!(suggestion.is_failed());
    assert!(!suggestion.is_succeeded());
    assert_eq!(suggestion.latest_condition().unwrap().type_, "Failed");
    assert_eq!(
        suggestion
            .condition("Running")
            .unwrap()
            .last_transition_time
            .as_deref(),
        Some("2026-01-01T00:02:00Z")
    );
    let status = suggestion.status.as_ref().unwrap();
    assert_eq!(
        status.suggestions.as_ref().unwrap()[0].name.as_deref(),
        Some("random-abc")
    );
    assert_eq!(
        suggestion
            .spec
            .as_ref()
            .unwrap()
            .resume_policy
            .as_ref()
            .unwrap()
            .as_str(),
        "LongRunning"
    );
}

// ---------------------------------------------------------------------------
// Go-field parity
// ---------------------------------------------------------------------------

struct Schema {
    root: Value,
}

impl Schema {
    fn of<T: schemars::JsonSchema>() -> Self {
        Schema {
            root: serde_json::to_value(schemars::schema_for!(T)).unwrap(),
        }
    }

    /// Follows `$ref`s and drops the `null` branch of an optional field's `anyOf`.
    /// Returns the schema and the name of the last definition it went through.
    fn resolve<'a>(&'a self, mut node: &'a Value) -> (&'a Value, Option<&'a str>) {
        let mut name = None;
        for _ in 0..64 {
            if let Some(r) = node.get("$ref").and_then(Value::as_str) {
                let key = r.strip_prefix("#/$defs/").expect("local $ref");
                name = Some(key);
                let key = key.replace("~1", "/").replace("~0", "~");
                node = &self.root["$defs"][key.as_str()];
                assert!(!node.is_null(), "dangling $ref {r}");
                continue;
            }
            let branches = node
                .get("anyOf")
                .or_else(|| node.get("oneOf"))
                .or_else(|| node.get("allOf"))
                .and_then(Value::as_array);
            if let Some(branches) = branches {
                let non_null: Vec<_> = branches
                    .iter()
                    .filter(|b| b.get("type").and_then(Value::as_str) != Some("null"))
                    .collect();
                if non_null.len() == 1 {
                    node = non_null[0];
                    continue;
                }
            }
            break;
        }
        (node, name)
    }

    /// The JSON types a schema allows, without `null`.
    fn types(&self, node: &Value) -> BTreeSet<String> {
        let (node, _) = self.resolve(node);
        match node.get("type") {
            Some(Value::String(t)) => [t.clone()].into(),
            Some(Value::Array(ts)) => ts
                .iter()
                .filter_map(Value::as_str)
                .filter(|t| *t != "null")
                .map(str::to_owned)
                .collect(),
            _ if node.get("properties").is_some() => ["object".to_owned()].into(),
            _ => BTreeSet::new(), // anything goes
        }
    }

    /// The schema at a `spec.parameters[].name` style path.
    fn at(&self, path: &str) -> Option<&Value> {
        let mut node = &self.root;
        for seg in path.split('.') {
            let name = seg.trim_end_matches("[]");
            let (resolved, _) = self.resolve(node);
            node = resolved.get("properties")?.get(name)?;
            for _ in 0..(seg.len() - name.len()) / 2 {
                let (resolved, _) = self.resolve(node);
                node = resolved.get("items")?;
            }
        }
        Some(node)
    }

    /// Every field path of the Rust type, stopping at Kubernetes types and maps.
    fn paths(&self, prefix: &str, node: &Value, out: &mut BTreeMap<String, BTreeSet<String>>) {
        let (resolved, def) = self.resolve(node);
        if def.is_some_and(|d| d.starts_with("io.k8s.")) {
            return;
        }
        let Some(props) = resolved.get("properties").and_then(Value::as_object) else {
            return;
        };
        for (name, child) in props {
            let mut path = if prefix.is_empty() {
                name.clone()
            } else {
                format!("{prefix}.{name}")
            };
            out.insert(path.clone(), self.types(child));
            let mut child = child;
            loop {
                let (resolved, _) = self.resolve(child);
                match resolved.get("items") {
                    Some(items)
                        if self.resolve(items).0.get("properties").is_none()
                            && !self
                                .resolve(items)
                                .1
                                .is_some_and(|d| d.starts_with("io.k8s.")) =>
                    {
                        path.push_str("[]");
                        out.insert(path.clone(), self.types(items));
                        break;
                    }
                    Some(items) => {
                        path.push_str("[]");
                        child = items;
                    }
                    None => break,
                }
            }
            self.paths(&path, child, out);
        }
    }
}

#[test]
fn go_field_parity() {
    let text = include_str!("katib_go_fields.txt");
    let mut go: BTreeMap<&str, Vec<(&str, &str)>> = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (path, ty) = line
            .split_once(' ')
            .unwrap_or_else(|| panic!("line {}: expected `PATH TYPE`", n + 1));
        let (kind, field) = path.split_once('.').unwrap();
        go.entry(kind).or_default().push((field, ty.trim()));
    }
    assert_eq!(
        go.keys().copied().collect::<Vec<_>>(),
        ["Experiment", "Suggestion", "Trial"]
    );

    let mut problems = Vec::new();
    println!(
        "{:<12} {:>9} {:>8} {:>6}",
        "kind", "Go fields", "covered", "extra"
    );
    for (kind, fields) in &go {
        let schema = match *kind {
            "Experiment" => Schema::of::<Experiment>(),
            "Trial" => Schema::of::<Trial>(),
            "Suggestion" => Schema::of::<Suggestion>(),
            other => panic!("unknown kind {other}"),
        };
        let mut covered = 0;
        for (field, ty) in fields {
            match schema.at(field) {
                None => problems.push(format!("{kind}.{field}: missing from the Rust type")),
                Some(node) => {
                    let types = schema.types(node);
                    if types.is_empty() || types.contains(*ty) {
                        covered += 1;
                    } else {
                        problems.push(format!(
                            "{kind}.{field}: Go type {ty}, Rust schema allows {types:?}"
                        ));
                    }
                }
            }
        }
        // The other way round: every field of the Rust type exists in Go.
        let mut rust = BTreeMap::new();
        schema.paths("", &schema.root, &mut rust);
        let known: BTreeSet<&str> = fields.iter().map(|(f, _)| *f).collect();
        let extra: Vec<_> = rust
            .keys()
            .filter(|p| !known.contains(p.as_str()))
            .collect();
        for p in &extra {
            problems.push(format!("{kind}.{p}: in the Rust type but not in Go"));
        }
        println!(
            "{:<12} {:>9} {:>8} {:>6}",
            kind,
            fields.len(),
            covered,
            extra.len()
        );
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
