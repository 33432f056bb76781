//! Katib `Experiment`s as studies: every real upstream example converts (or
//! is refused with the field named), settings map as Katib's services read
//! them, and trial templates render as Katib's controller renders them.
#![cfg(feature = "crd")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use keelson_crd::AnyResource;
use keelson_crd::katib::v1beta1::Experiment;
use keelson_hpo::katib::{self, KatibStudy, Progress, TrialMeta, render_trial_spec};
use keelson_hpo::samplers::Gamma;
use keelson_hpo::{AnySampler, Error, Outcome, Pruner, Reference, Study};

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/crd")
}

/// Every Experiment of the upstream corpus, with its file.
fn corpus_experiments() -> Vec<(String, Experiment)> {
    let dir = corpus_dir();
    let files = keelson_crd::manifest_files(&dir)
        .unwrap_or_else(|e| panic!("corpus {} unreadable: {e}", dir.display()));
    let mut out = Vec::new();
    for file in files {
        let Ok(docs) = keelson_crd::load_file(&file) else {
            continue;
        };
        for doc in docs {
            if let AnyResource::Experiment(exp) = doc.resource {
                out.push((file.display().to_string(), *exp));
            }
        }
    }
    assert!(
        out.len() >= 10,
        "expected Katib's examples under {}, found {}",
        dir.display(),
        out.len()
    );
    out
}

fn experiment(yaml: &str) -> Experiment {
    serde_yaml_ng::from_str(yaml).unwrap()
}

/// An experiment with the given algorithm block and a small mixed space.
fn with_algorithm(algorithm: &str) -> Experiment {
    experiment(&format!(
        r#"
apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata: {{name: t, namespace: ns}}
spec:
  objective: {{type: minimize, goal: 0.1, objectiveMetricName: loss}}
  algorithm: {algorithm}
  parallelTrialCount: 2
  maxTrialCount: 6
  maxFailedTrialCount: 1
  parameters:
    - {{name: lr, parameterType: double, feasibleSpace: {{min: "0.01", max: "0.1", step: "0.01"}}}}
    - {{name: layers, parameterType: int, feasibleSpace: {{min: "1", max: "3"}}}}
    - {{name: opt, parameterType: categorical, feasibleSpace: {{list: [sgd, adam]}}}}
"#
    ))
}

fn field_of(err: &Error) -> &str {
    match err {
        Error::Experiment { field, .. } => field,
        other => panic!("expected an experiment error, got {other}"),
    }
}

#[test]
fn every_upstream_experiment_becomes_a_study_or_is_refused_by_name() {
    let mut converted = 0;
    for (file, exp) in corpus_experiments() {
        let algorithm = exp
            .spec
            .as_ref()
            .and_then(|s| s.algorithm.as_ref())
            .and_then(|a| a.algorithm_name.clone())
            .unwrap_or_default();
        match KatibStudy::from_experiment(&exp, 1) {
            Ok(mut katib) => {
                converted += 1;
                let n = katib.trials_to_create();
                assert!(n >= 1, "{file}: nothing to create");
                let trials = katib.study.ask_n(n).unwrap();
                let namespace = exp.metadata.namespace.clone().unwrap_or_default();
                for (i, trial) in trials.iter().enumerate() {
                    let meta = TrialMeta::new(format!("trial-{i}"), namespace.clone());
                    let spec = render_trial_spec(&exp, &meta, &trial.params)
                        .unwrap_or_else(|e| panic!("{file}: {e}"));
                    let text = serde_json::to_string(&spec).unwrap();
                    assert!(!text.contains("${trialParameters."), "{file}: {text}");
                    let template = exp.spec.as_ref().unwrap().trial_template.as_ref().unwrap();
                    let raw = serde_json::to_string(&template.trial_spec).unwrap();
                    for p in template.trial_parameters.iter().flatten() {
                        let placeholder =
                            format!("${{trialParameters.{}}}", p.name.as_deref().unwrap());
                        let value = p.reference.as_deref().and_then(|r| trial.params.get(r));
                        if let Some(value) = value.filter(|_| raw.contains(&placeholder)) {
                            assert!(
                                text.contains(&value.to_string()),
                                "{file}: {value} not in {text}"
                            );
                        }
                    }
                }
                let saved = katib.study.save().unwrap();
                let mut restored: Study = Study::restore(&saved).unwrap();
                assert_eq!(
                    restored.ask().unwrap(),
                    katib.study.ask().unwrap(),
                    "{file}"
                );
            }
            Err(err) => {
                let field = field_of(&err);
                assert!(
                    matches!(
                        algorithm.as_str(),
                        "enas" | "darts" | "pbt" | "bayesianoptimization"
                    ),
                    "{file}: {algorithm} refused: {err}"
                );
                assert!(field.starts_with("spec."), "{file}: {err}");
            }
        }
    }
    assert!(converted >= 10, "only {converted} experiments converted");
}

#[test]
fn katib_tpe_settings_read_as_hyperopt_reads_them() {
    let exp = with_algorithm(
        r#"{algorithmName: tpe, algorithmSettings: [{name: gamma, value: "0.3"}, {name: n_EI_candidates, value: "12"}, {name: random_state, value: "5"}]}"#,
    );
    let katib = KatibStudy::from_experiment(&exp, 0).unwrap();
    let AnySampler::Tpe(tpe) = katib.study.sampler() else {
        panic!("not tpe")
    };
    let options = tpe.options();
    assert_eq!(
        options.gamma,
        Gamma::Sqrt {
            factor: 0.3,
            max: 25
        }
    );
    assert_eq!(options.n_ei_candidates, 12);
    assert_eq!(options.n_startup_trials, 20);
    assert!(!options.multivariate);

    let exp = with_algorithm(
        r#"{algorithmName: multivariate-tpe, algorithmSettings: [{name: n_startup_trials, value: "4"}]}"#,
    );
    let katib = KatibStudy::from_experiment(&exp, 0).unwrap();
    let AnySampler::Tpe(tpe) = katib.study.sampler() else {
        panic!("not tpe")
    };
    assert!(tpe.options().multivariate && tpe.options().constant_liar);
    assert_eq!(tpe.options().n_startup_trials, 4);
}

#[test]
fn random_state_seeds_the_sampler_and_defaults_to_the_callers_seed() {
    let first = |exp: &Experiment, seed| {
        let mut katib = KatibStudy::from_experiment(exp, seed).unwrap();
        katib.study.ask().unwrap().params
    };
    let seeded = with_algorithm(
        r#"{algorithmName: random, algorithmSettings: [{name: random_state, value: "9"}]}"#,
    );
    assert_eq!(first(&seeded, 1), first(&seeded, 2));
    let unseeded = with_algorithm("{algorithmName: random}");
    let draws: Vec<_> = (0..6).map(|s| first(&unseeded, s)).collect();
    assert!(draws.windows(2).any(|w| w[0] != w[1]));
    assert_eq!(first(&unseeded, 3), first(&unseeded, 3));
}

#[test]
fn bad_algorithms_and_settings_name_the_field() {
    let cases = [
        ("{algorithmName: annealing}", "spec.algorithm.algorithmName"),
        ("{algorithmName: enas}", "spec.algorithm.algorithmName"),
        ("{}", "spec.algorithm.algorithmName"),
        (
            r#"{algorithmName: random, algorithmSettings: [{name: n_EI_candidates, value: "3"}]}"#,
            "spec.algorithm.algorithmSettings[n_EI_candidates]",
        ),
        (
            r#"{algorithmName: tpe, algorithmSettings: [{name: gamma, value: "high"}]}"#,
            "spec.algorithm.algorithmSettings[gamma]",
        ),
        (
            r#"{algorithmName: tpe, algorithmSettings: [{name: prior_weight, value: "-1"}]}"#,
            "spec.algorithm.algorithmSettings[prior_weight]",
        ),
        (
            r#"{algorithmName: tpe, algorithmSettings: [{name: random_state, value: "1"}, {name: random_state, value: "2"}]}"#,
            "spec.algorithm.algorithmSettings[random_state]",
        ),
        (
            r#"{algorithmName: random, algorithmSettings: [{value: "2"}]}"#,
            "spec.algorithm.algorithmSettings[0].name",
        ),
    ];
    for (algorithm, field) in cases {
        let err = KatibStudy::from_experiment(&with_algorithm(algorithm), 0).unwrap_err();
        assert_eq!(field_of(&err), field, "{algorithm}: {err}");
        assert!(err.to_string().contains(field), "{err}");
    }
}

#[test]
fn a_grid_smaller_than_max_trial_count_is_refused_as_katib_does() {
    // 10 × 3 × 2 = 60 points; maxTrialCount 6 fits.
    assert!(KatibStudy::from_experiment(&with_algorithm("{algorithmName: grid}"), 0).is_ok());
    let mut exp = with_algorithm("{algorithmName: grid}");
    exp.spec.as_mut().unwrap().max_trial_count = Some(61);
    let err = KatibStudy::from_experiment(&exp, 0).unwrap_err();
    assert_eq!(field_of(&err), "spec.maxTrialCount", "{err}");
}

#[test]
fn objective_and_parameters_errors_come_from_the_experiment() {
    let mut exp = with_algorithm("{algorithmName: random}");
    exp.spec.as_mut().unwrap().objective = None;
    let err = KatibStudy::from_experiment(&exp, 0).unwrap_err();
    assert_eq!(field_of(&err), "spec.objective");

    let exp = experiment(
        r#"
apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata: {name: t}
spec:
  objective: {type: minimize, objectiveMetricName: loss}
  algorithm: {algorithmName: random}
  parameters:
    - {name: lr, parameterType: double, feasibleSpace: {min: "0.5", max: "0.1"}}
"#,
    );
    let err = KatibStudy::from_experiment(&exp, 0).unwrap_err();
    assert!(err.to_string().contains("lr"), "{err}");
}

#[test]
fn medianstop_maps_to_katibs_rule() {
    let mut exp = with_algorithm("{algorithmName: random}");
    exp.spec.as_mut().unwrap().early_stopping = Some(
        serde_yaml_ng::from_str(
            r#"{algorithmName: medianstop, algorithmSettings: [{name: min_trials_required, value: "2"}, {name: start_step, value: "3"}]}"#,
        )
        .unwrap(),
    );
    let katib = KatibStudy::from_experiment(&exp, 0).unwrap();
    let Some(Pruner::MedianStop(rule)) = katib.study.pruner() else {
        panic!("no medianstop")
    };
    assert_eq!((rule.min_trials_required, rule.start_step), (2, 3));
    assert_eq!(rule.reference, Reference::Mean);

    for (settings, field) in [
        (
            r#"{algorithmName: medianstop, algorithmSettings: [{name: start_step, value: "0"}]}"#,
            "spec.earlyStopping.algorithmSettings[start_step]",
        ),
        (
            r#"{algorithmName: medianstop, algorithmSettings: [{name: patience, value: "3"}]}"#,
            "spec.earlyStopping.algorithmSettings[patience]",
        ),
        (
            "{algorithmName: hyperband}",
            "spec.earlyStopping.algorithmName",
        ),
    ] {
        let mut exp = with_algorithm("{algorithmName: random}");
        exp.spec.as_mut().unwrap().early_stopping =
            Some(serde_yaml_ng::from_str(settings).unwrap());
        let err = KatibStudy::from_experiment(&exp, 0).unwrap_err();
        assert_eq!(field_of(&err), field, "{settings}: {err}");
    }
}

#[test]
fn trial_budget_follows_katibs_controller() {
    let mut katib =
        KatibStudy::from_experiment(&with_algorithm("{algorithmName: random}"), 0).unwrap();
    assert_eq!(katib.trials_to_create(), 2);
    let a = katib.study.ask().unwrap();
    assert_eq!(katib.trials_to_create(), 1);
    let b = katib.study.ask().unwrap();
    assert_eq!(katib.trials_to_create(), 0);
    katib.study.tell(a.id, Outcome::Value(0.5)).unwrap();
    katib.study.fail(b.id, "OOMKilled").unwrap();
    assert_eq!(katib.progress(), Progress::Running);
    // Two slots free again, 4 of the 6 trials left.
    assert_eq!(katib.trials_to_create(), 2);
    let c = katib.study.ask().unwrap();
    katib.study.fail(c.id, "OOMKilled").unwrap();
    // Two failures exceed maxFailedTrialCount 1.
    assert_eq!(katib.progress(), Progress::TooManyFailures);
    assert_eq!(katib.trials_to_create(), 0);

    let mut katib =
        KatibStudy::from_experiment(&with_algorithm("{algorithmName: random}"), 0).unwrap();
    let t = katib.study.ask().unwrap();
    katib.study.tell(t.id, Outcome::Value(0.1)).unwrap();
    assert_eq!(
        katib.progress(),
        Progress::GoalReached,
        "the goal itself counts"
    );

    let mut katib =
        KatibStudy::from_experiment(&with_algorithm("{algorithmName: random}"), 0).unwrap();
    for _ in 0..6 {
        let t = katib.study.ask().unwrap();
        assert!(katib.trials_to_create() <= 6 - katib.study.trials().len());
        katib.study.tell(t.id, Outcome::Value(1.0)).unwrap();
    }
    assert_eq!(katib.progress(), Progress::MaxTrialsReached);
    assert_eq!(katib.trials_to_create(), 0);
}

const TEMPLATED: &str = r#"
apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata: {name: t, namespace: ns}
spec:
  objective: {type: maximize, objectiveMetricName: acc}
  algorithm: {algorithmName: random}
  parameters:
    - {name: opt, parameterType: categorical, feasibleSpace: {list: ["a\"b", "c,d"]}}
    - {name: units, parameterType: int, feasibleSpace: {min: "8", max: "8"}}
  trialTemplate:
    trialParameters:
      - {name: optimizer, reference: opt}
      - {name: units, reference: units}
      - {name: name, reference: "${trialSpec.Name}"}
      - {name: ns, reference: "${trialSpec.Namespace}"}
      - {name: kind, reference: "${trialSpec.Kind}"}
      - {name: api, reference: "${trialSpec.APIVersion}"}
      - {name: team, reference: "${trialSpec.Labels[team]}"}
      - {name: owner, reference: "${trialSpec.Annotations[owner]}"}
    trialSpec:
      apiVersion: batch/v1
      kind: Job
      metadata:
        labels: {team: vision}
        annotations: {owner: ana}
      spec:
        units: "${trialParameters.units}"
        args: ["--opt=${trialParameters.optimizer}", "${trialParameters.name}.${trialParameters.ns}",
               "${trialParameters.kind}/${trialParameters.api}", "${trialParameters.team}-${trialParameters.owner}"]
"#;

#[test]
fn templates_render_values_and_metadata_inside_strings_only() {
    let exp = experiment(TEMPLATED);
    let mut katib = KatibStudy::from_experiment(&exp, 4).unwrap();
    let trial = katib.study.ask().unwrap();
    let out = render_trial_spec(&exp, &TrialMeta::new("t-1", "ns"), &trial.params).unwrap();
    let opt = trial.params.str("opt").unwrap();
    assert_eq!(out["spec"]["args"][0], format!("--opt={opt}"));
    assert_eq!(out["spec"]["args"][1], "t-1.ns");
    assert_eq!(out["spec"]["args"][2], "Job/batch/v1");
    assert_eq!(out["spec"]["args"][3], "vision-ana");
    assert_eq!(out["spec"]["units"], "8");
    assert_eq!(out["spec"]["args"].as_array().unwrap().len(), 4);
}

#[test]
fn template_errors_name_the_field() {
    let params = {
        let exp = experiment(TEMPLATED);
        let mut katib = KatibStudy::from_experiment(&exp, 4).unwrap();
        katib.study.ask().unwrap().params
    };
    let meta = TrialMeta::new("t", "ns");
    let render = |edit: &dyn Fn(&mut serde_json::Value)| {
        let mut raw: serde_json::Value = serde_yaml_ng::from_str(TEMPLATED).unwrap();
        edit(&mut raw);
        let exp: Experiment = serde_json::from_value(raw).unwrap();
        render_trial_spec(&exp, &meta, &params).unwrap_err()
    };
    let err = render(&|raw| {
        raw["spec"]["trialTemplate"]["trialSpec"]["spec"]["extra"] = "${trialParameters.lr}".into();
    });
    assert_eq!(field_of(&err), "spec.trialTemplate.trialSpec");
    assert!(err.to_string().contains("trialParameters.lr"), "{err}");

    let err = render(&|raw| {
        raw["spec"]["trialTemplate"]["trialParameters"][0]["reference"] = "missing".into();
    });
    assert_eq!(
        field_of(&err),
        "spec.trialTemplate.trialParameters[0].reference"
    );

    let err = render(&|raw| {
        raw["spec"]["trialTemplate"]["trialParameters"][6]["reference"] =
            "${trialSpec.Labels[nope]}".into();
    });
    assert_eq!(
        field_of(&err),
        "spec.trialTemplate.trialParameters[6].reference"
    );

    let err = render(&|raw| {
        raw["spec"]["trialTemplate"]["trialSpec"]["spec"]["units"] =
            "${trialParameters.units".into();
    });
    assert_eq!(field_of(&err), "spec.trialTemplate.trialSpec");

    let err = render(&|raw| {
        let template = raw["spec"]["trialTemplate"].as_object_mut().unwrap();
        template.remove("trialSpec");
        template.insert(
            "configMap".into(),
            serde_json::json!({"configMapName": "templates", "templatePath": "job.yaml"}),
        );
    });
    assert_eq!(field_of(&err), "spec.trialTemplate.trialSpec");
    assert!(err.to_string().contains("render_template"), "{err}");
}

#[test]
fn settings_helpers_are_public_for_controllers() {
    let exp = with_algorithm(r#"{algorithmName: sobol}"#);
    let spec = exp.spec.as_ref().unwrap();
    let sampler = katib::sampler(spec.algorithm.as_ref().unwrap(), 3).unwrap();
    assert!(matches!(sampler, AnySampler::Sobol(_)));
}

#[test]
fn hyperband_and_pbt_read_katibs_settings() {
    let exp = experiment(
        r#"
apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata: {name: hb}
spec:
  objective: {type: maximize, objectiveMetricName: acc}
  algorithm:
    algorithmName: hyperband
    algorithmSettings: [{name: resource_name, value: epochs}, {name: r_l, value: "9"}, {name: eta, value: "3"}]
  parallelTrialCount: 9
  parameters:
    - {name: lr, parameterType: double, feasibleSpace: {min: "0.01", max: "0.1"}}
    - {name: epochs, parameterType: int, feasibleSpace: {min: "1", max: "9"}}
"#,
    );
    let mut katib = KatibStudy::from_experiment(&exp, 0).unwrap();
    let trials = katib.study.ask_n(9).unwrap();
    let epochs: Vec<i64> = trials
        .iter()
        .map(|t| t.params.i64("epochs").unwrap())
        .collect();
    // The first bracket of R = 9, eta = 3 starts 9 configurations at 1 epoch.
    assert_eq!(epochs, [1; 9]);

    let mut missing = exp.clone();
    missing
        .spec
        .as_mut()
        .unwrap()
        .algorithm
        .as_mut()
        .unwrap()
        .algorithm_settings
        .as_mut()
        .unwrap()
        .retain(|s| s.name.as_deref() != Some("r_l"));
    let err = KatibStudy::from_experiment(&missing, 0).unwrap_err();
    assert_eq!(field_of(&err), "spec.algorithm.algorithmSettings[r_l]");

    let mut pbt_exp = exp.clone();
    let algorithm = pbt_exp.spec.as_mut().unwrap().algorithm.as_mut().unwrap();
    algorithm.algorithm_name = Some("pbt".into());
    algorithm.algorithm_settings = Some(
        serde_yaml_ng::from_str(r#"[{name: n_population, value: "6"}, {name: truncation_threshold, value: "0.4"}, {name: suggestion_trial_dir, value: /var/log/katib/checkpoints/}]"#).unwrap(),
    );
    let err = KatibStudy::from_experiment(&pbt_exp, 0).unwrap_err();
    assert!(err.to_string().contains("katib::pbt"), "{err}");
    let mut pbt = katib::pbt(&pbt_exp, 0).unwrap();
    assert_eq!(pbt.ask().unwrap().member, 0);
    let algorithm = pbt_exp.spec.as_mut().unwrap().algorithm.as_mut().unwrap();
    algorithm.algorithm_settings =
        Some(serde_yaml_ng::from_str(r#"[{name: n_population, value: "3"}]"#).unwrap());
    let err = katib::pbt(&pbt_exp, 0).unwrap_err();
    assert_eq!(
        field_of(&err),
        "spec.algorithm.algorithmSettings[n_population]",
        "{err}"
    );
}

#[test]
fn cmaes_reads_katibs_settings() {
    let numeric = |algorithm: &str| {
        let mut exp = with_algorithm(algorithm);
        exp.spec
            .as_mut()
            .unwrap()
            .parameters
            .as_mut()
            .unwrap()
            .pop();
        exp
    };
    let exp = numeric(
        r#"{algorithmName: cmaes, algorithmSettings: [{name: sigma, value: "0.3"}, {name: restart_strategy, value: ipop}]}"#,
    );
    let katib = KatibStudy::from_experiment(&exp, 0).unwrap();
    let AnySampler::CmaEs(cmaes) = katib.study.sampler() else {
        panic!("not cmaes")
    };
    assert_eq!(cmaes.options().sigma0, 0.3);
    let exp = numeric(
        r#"{algorithmName: cmaes, algorithmSettings: [{name: restart_strategy, value: sometimes}]}"#,
    );
    let err = KatibStudy::from_experiment(&exp, 0).unwrap_err();
    assert_eq!(
        field_of(&err),
        "spec.algorithm.algorithmSettings[restart_strategy]"
    );
    let exp = numeric(r#"{algorithmName: cmaes, algorithmSettings: [{name: sigma, value: "-1"}]}"#);
    let err = KatibStudy::from_experiment(&exp, 0).unwrap_err();
    assert_eq!(
        field_of(&err),
        "spec.algorithm.algorithmSettings[sigma]",
        "{err}"
    );
    // A categorical parameter is refused by the sampler, naming it.
    let err =
        KatibStudy::from_experiment(&with_algorithm("{algorithmName: cmaes}"), 0).unwrap_err();
    assert!(err.to_string().contains("opt"), "{err}");
}

#[test]
fn bayesianoptimization_maps_to_the_gp_sampler() {
    let exp = with_algorithm(
        r#"{algorithmName: bayesianoptimization, algorithmSettings: [{name: base_estimator, value: GP}, {name: n_initial_points, value: "5"}, {name: acq_func, value: gp_hedge}, {name: acq_optimizer, value: auto}, {name: random_state, value: "10"}]}"#,
    );
    let katib = KatibStudy::from_experiment(&exp, 0).unwrap();
    let AnySampler::Gp(gp) = katib.study.sampler() else {
        panic!("not gp")
    };
    assert_eq!(gp.options().n_startup_trials, 5);
    for (settings, field) in [
        (
            r#"[{name: base_estimator, value: RF}]"#,
            "spec.algorithm.algorithmSettings[base_estimator]",
        ),
        (
            r#"[{name: acq_func, value: LCB}]"#,
            "spec.algorithm.algorithmSettings[acq_func]",
        ),
        (
            r#"[{name: acq_optimizer, value: adam}]"#,
            "spec.algorithm.algorithmSettings[acq_optimizer]",
        ),
    ] {
        let exp = with_algorithm(&format!(
            "{{algorithmName: bayesianoptimization, algorithmSettings: {settings}}}"
        ));
        let err = KatibStudy::from_experiment(&exp, 0).unwrap_err();
        assert_eq!(field_of(&err), field, "{err}");
    }
}
