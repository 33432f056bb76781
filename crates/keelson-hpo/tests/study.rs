//! The study's API through its public surface: errors for misuse, restore
//! checks, the optimize loop with failing and panicking objectives, threads,
//! and the pruners.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use keelson_hpo::samplers::HyperbandOptions;
use keelson_hpo::{
    AnySampler, Decision, Direction, Error, GridSampler, HyperbandSampler, MedianStop,
    Nsga2Sampler, OptimizeOptions, Outcome, ParamSpec, Pruner, RandomSampler, Reference,
    SearchSpace, Study, SuccessiveHalving, TpeSampler, TrialState,
};

fn study(direction: Direction) -> Study<RandomSampler> {
    let space =
        SearchSpace::new([ParamSpec::double("x", -1.0, 1.0), ParamSpec::int("n", 1, 4)]).unwrap();
    Study::new(space, direction, RandomSampler::new(3)).unwrap()
}

#[test]
fn misuse_is_an_error_naming_the_trial() {
    let mut s = study(Direction::Minimize);
    let t = s.ask().unwrap();
    assert!(matches!(
        s.tell(9, Outcome::Value(1.0)),
        Err(Error::UnknownTrial { id: 9 })
    ));
    assert!(matches!(
        s.report(9, 1, 1.0),
        Err(Error::UnknownTrial { id: 9 })
    ));
    assert!(matches!(
        s.fail(u64::MAX, "x"),
        Err(Error::UnknownTrial { .. })
    ));
    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        assert!(matches!(
            s.tell(t.id, Outcome::Value(bad)),
            Err(Error::NonFiniteValue { trial: 0, .. })
        ));
        assert!(matches!(
            s.report(t.id, 1, bad),
            Err(Error::NonFiniteValue { .. })
        ));
    }
    s.report(t.id, 1, 0.5).unwrap();
    s.report(t.id, 1, 0.5).unwrap(); // the same again is fine
    assert!(matches!(
        s.report(t.id, 1, 0.6),
        Err(Error::ConflictingReport { step: 1, .. })
    ));
    s.tell(t.id, Outcome::Value(0.25)).unwrap();
    assert!(matches!(
        s.tell(t.id, Outcome::Value(0.1)),
        Err(Error::TrialFinished {
            id: 0,
            state: TrialState::Complete
        })
    ));
    assert!(matches!(
        s.report(t.id, 2, 0.1),
        Err(Error::TrialFinished { .. })
    ));
    assert!(matches!(
        s.fail(t.id, "late"),
        Err(Error::TrialFinished { .. })
    ));
    // Nothing above changed the record.
    let record = &s.trials()[0];
    assert_eq!(
        (record.state, record.value, record.intermediate.len()),
        (TrialState::Complete, Some(0.25), 1)
    );
}

#[test]
fn best_trial_follows_the_direction_and_ignores_unfinished() {
    for (direction, best) in [(Direction::Minimize, 2), (Direction::Maximize, 3)] {
        let mut s = study(direction);
        let trials = s.ask_n(5).unwrap();
        s.tell(trials[0].id, Outcome::Failed).unwrap();
        s.tell(trials[1].id, Outcome::Pruned).unwrap();
        s.tell(trials[2].id, Outcome::Value(-1.0)).unwrap();
        s.tell(trials[3].id, Outcome::Value(4.0)).unwrap();
        s.tell(trials[4].id, Outcome::Value(-1.0)).unwrap(); // a tie: the earlier wins
        assert_eq!(s.best_trial().map(|t| t.id), Some(best));
    }
    assert!(study(Direction::Minimize).best_trial().is_none());
}

#[test]
fn restore_rejects_inconsistent_states() {
    let mut s = study(Direction::Minimize);
    let t = s.ask().unwrap();
    s.tell(t.id, Outcome::Value(1.0)).unwrap();
    let json = s.save().unwrap();
    let restored: Study<RandomSampler> = Study::restore(&json).unwrap();
    assert_eq!(restored.trials(), s.trials());

    let tampered = [
        json.replace("\"format\":1", "\"format\":2"),
        json.replace("\"id\":0", "\"id\":5"),
        json.replace("\"value\":1.0", "\"value\":null"),
        json.replace("\"state\":\"complete\"", "\"state\":\"failed\""),
        json.replace("{\"int\":", "{\"double\":"),
        json.replace("\"min\":1", "\"min\":5"),
        json[..json.len() / 2].to_owned(),
    ];
    for bad in tampered {
        assert_ne!(bad, json);
        let err = Study::<RandomSampler>::restore(&bad).unwrap_err();
        assert!(
            matches!(err, Error::Restore(_) | Error::InvalidSpace { .. }),
            "{bad}: {err:?}"
        );
    }
}

#[test]
fn optimize_turns_errors_and_panics_into_failed_trials() {
    let mut s = study(Direction::Minimize);
    let options = OptimizeOptions::new().progress(false);
    let summary = s
        .optimize_with(30, &options, |t| {
            let x = t.params().f64("x")?;
            match t.params().i64("n")? {
                1 => panic!("objective blew up at {x}"),
                2 => Err(Error::InvalidSetting {
                    name: "fake".into(),
                    reason: "diverged".into(),
                }),
                3 => Ok(f64::NAN),
                _ => Ok(x * x),
            }
        })
        .unwrap();
    assert_eq!(summary.completed + summary.failed, 30);
    assert!(summary.completed > 0 && summary.failed > 0);
    assert!(!summary.exhausted);
    let reasons: Vec<&str> = s
        .trials()
        .iter()
        .filter_map(|t| t.failure.as_deref())
        .collect();
    assert_eq!(reasons.len(), summary.failed);
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("panicked: objective blew up")),
        "{reasons:?}"
    );
    assert!(reasons.iter().any(|r| r.contains("diverged")));
    assert!(reasons.iter().any(|r| r.contains("returned NaN")));
    assert!(s.trials().iter().all(|t| t.state != TrialState::Running));
    // The study is intact and goes on.
    s.optimize_with(5, &options, |t| t.params().f64("x"))
        .unwrap();
    assert_eq!(s.trials().len(), 35);
}

#[test]
fn optimize_on_threads_runs_every_trial_once() {
    let mut s = study(Direction::Maximize);
    let options = OptimizeOptions::new().threads(4).progress(false);
    let summary = s
        .optimize_with(64, &options, |t| {
            if t.id() % 10 == 0 {
                panic!("every tenth");
            }
            t.params().f64("x").map(|x| -x * x)
        })
        .unwrap();
    assert_eq!(summary.completed, 57);
    assert_eq!(summary.failed, 7);
    let ids: Vec<u64> = s.trials().iter().map(|t| t.id).collect();
    assert_eq!(ids, (0..64).collect::<Vec<_>>());
    assert!(s.trials().iter().all(|t| t.state != TrialState::Running));
}

#[test]
fn optimize_is_deterministic_on_one_thread() {
    let run = || {
        let mut s = study(Direction::Minimize);
        s.optimize_with(20, &OptimizeOptions::new().progress(false), |t| {
            t.params().f64("x")
        })
        .unwrap();
        s.save().unwrap()
    };
    assert_eq!(run(), run());
}

#[test]
fn optimize_stops_cleanly_on_an_exhausted_grid() {
    let space = SearchSpace::new([ParamSpec::int("n", 1, 5)]).unwrap();
    let mut s = Study::new(space, Direction::Minimize, GridSampler::new(0)).unwrap();
    let summary = s
        .optimize_with(
            100,
            &OptimizeOptions::new().threads(3).progress(false),
            |t| t.params().f64("n"),
        )
        .unwrap();
    assert_eq!(summary.completed, 5);
    assert!(summary.exhausted);
    assert_eq!(s.best_trial().and_then(|t| t.value), Some(1.0));
}

#[test]
fn optimize_prunes_through_the_trial_handle() {
    let pruner = Pruner::MedianStop(MedianStop {
        min_trials_required: 2,
        start_step: 2,
        reference: Reference::Median,
    });
    let mut s = study(Direction::Minimize).with_pruner(pruner).unwrap();
    let summary = s
        .optimize_with(30, &OptimizeOptions::new().progress(false), |t| {
            let level = t.params().f64("x")?.abs();
            for step in 0..10 {
                if t.report(step, level)? == Decision::Prune {
                    return Ok(level);
                }
            }
            Ok::<f64, Error>(level)
        })
        .unwrap();
    assert!(summary.pruned > 0, "{summary:?}");
    assert_eq!(summary.completed + summary.pruned, 30);
    for t in s.trials().iter().filter(|t| t.state == TrialState::Pruned) {
        assert!(t.value.is_none() && t.intermediate.len() >= 2);
    }
}

/// Katib's rule: after `start_step` reports, a trial worse than the median of
/// the complete trials' early averages stops.
#[test]
fn median_stop_follows_katib() {
    let pruner = Pruner::MedianStop(MedianStop::default()); // 3 trials, start_step 4
    let mut s = study(Direction::Maximize)
        .with_pruner(pruner.clone())
        .unwrap();
    for averages in [
        [0.1, 0.2, 0.3, 0.4, 0.9],
        [0.5, 0.5, 0.5, 0.5, 0.9],
        [0.6, 0.7, 0.8, 0.9, 0.9],
    ] {
        let t = s.ask().unwrap();
        for (step, v) in averages.iter().enumerate() {
            assert_eq!(
                s.report(t.id, step as u64, *v).unwrap(),
                Decision::Continue,
                "fewer than 3 complete"
            );
        }
        s.tell(t.id, Outcome::Value(0.9)).unwrap();
    }
    // Early averages 0.25, 0.5, 0.75: median 0.5 (mean 0.5 too).
    let t = s.ask().unwrap();
    for step in 0..3 {
        assert_eq!(
            s.report(t.id, step, 0.1).unwrap(),
            Decision::Continue,
            "before start_step"
        );
    }
    assert_eq!(s.report(t.id, 3, 0.45).unwrap(), Decision::Prune);
    assert_eq!(
        s.report(t.id, 4, 0.55).unwrap(),
        Decision::Continue,
        "latest value is better"
    );

    let skewed = [[0.0; 4], [0.1; 4], [2.0; 4]]; // median 0.1, mean 0.7
    for (reference, expected) in [
        (Reference::Median, Decision::Continue),
        (Reference::Mean, Decision::Prune),
    ] {
        let pruner = Pruner::MedianStop(MedianStop {
            reference,
            ..MedianStop::default()
        });
        let mut s = study(Direction::Maximize).with_pruner(pruner).unwrap();
        for values in skewed {
            let t = s.ask().unwrap();
            for (step, v) in values.iter().enumerate() {
                s.report(t.id, step as u64, *v).unwrap();
            }
            s.tell(t.id, Outcome::Value(1.0)).unwrap();
        }
        let t = s.ask().unwrap();
        let decisions: Vec<_> = (0..4)
            .map(|step| s.report(t.id, step, 0.5).unwrap())
            .collect();
        assert_eq!(decisions[3], expected, "{reference:?}");
    }
}

#[test]
fn successive_halving_keeps_the_top_fraction_per_rung() {
    let pruner = Pruner::SuccessiveHalving(SuccessiveHalving {
        min_resource: 1,
        reduction_factor: 2,
        min_early_stopping_rate: 0,
    });
    let mut s = study(Direction::Minimize).with_pruner(pruner).unwrap();
    // Rungs at steps 1, 2, 4, 8, ...
    let first = s.ask().unwrap();
    assert_eq!(
        s.report(first.id, 1, 0.5).unwrap(),
        Decision::Continue,
        "alone at the rung: best"
    );
    let second = s.ask().unwrap();
    assert_eq!(
        s.report(second.id, 1, 0.9).unwrap(),
        Decision::Prune,
        "not the best of 2"
    );
    let third = s.ask().unwrap();
    assert_eq!(
        s.report(third.id, 1, 0.4).unwrap(),
        Decision::Continue,
        "best of 3"
    );
    assert_eq!(
        s.report(third.id, 3, 0.3).unwrap(),
        Decision::Continue,
        "step 3 reaches rung 2 (step 2) first"
    );
    let fourth = s.ask().unwrap();
    assert_eq!(
        s.report(fourth.id, 0, 0.1).unwrap(),
        Decision::Continue,
        "before the first rung"
    );
    assert_eq!(
        s.report(fourth.id, 1, 0.45).unwrap(),
        Decision::Continue,
        "top 2 of 4"
    );
    // Failed trials do not compete.
    s.tell(first.id, Outcome::Failed).unwrap();
    let fifth = s.ask().unwrap();
    assert_eq!(
        s.report(fifth.id, 1, 0.47).unwrap(),
        Decision::Prune,
        "third of 4 competing"
    );

    let bad = Pruner::SuccessiveHalving(SuccessiveHalving {
        reduction_factor: 1,
        ..SuccessiveHalving::default()
    });
    let err = study(Direction::Minimize).with_pruner(bad).unwrap_err();
    assert!(
        matches!(&err, Error::InvalidSetting { name, .. } if name == "reduction_factor"),
        "{err}"
    );
    let bad = Pruner::MedianStop(MedianStop {
        min_trials_required: 0,
        ..MedianStop::default()
    });
    assert!(
        study(Direction::Minimize)
            .with_pruner(bad)
            .unwrap_err()
            .to_string()
            .contains("min_trials_required")
    );
}

#[test]
fn a_pruned_study_saves_its_pruner() {
    let pruner = Pruner::SuccessiveHalving(SuccessiveHalving::default());
    let mut s = study(Direction::Minimize)
        .with_pruner(pruner.clone())
        .unwrap();
    let t = s.ask().unwrap();
    s.report(t.id, 1, 0.3).unwrap();
    let restored: Study<RandomSampler> = Study::restore(&s.save().unwrap()).unwrap();
    assert_eq!(restored.pruner(), Some(&pruner));
    assert_eq!(restored.trials(), s.trials());
}

fn two_objectives() -> Study<RandomSampler> {
    let space =
        SearchSpace::new([ParamSpec::double("x", -1.0, 1.0), ParamSpec::int("n", 1, 4)]).unwrap();
    Study::multi(
        space,
        [Direction::Minimize, Direction::Maximize],
        RandomSampler::new(3),
    )
    .unwrap()
}

#[test]
fn multi_objective_misuse_is_an_error_naming_the_trial() {
    let mut s = two_objectives();
    let t = s.ask().unwrap();
    let count = |r: Result<(), Error>| match r {
        Err(Error::ObjectiveCount {
            trial: 0,
            expected: 2,
            got,
        }) => got,
        other => panic!("{other:?}"),
    };
    assert_eq!(count(s.tell(t.id, Outcome::Value(1.0))), 1);
    assert_eq!(count(s.tell(t.id, Outcome::Values(vec![1.0]))), 1);
    assert_eq!(count(s.tell(t.id, Outcome::Values(vec![1.0; 3]))), 3);
    assert_eq!(count(s.tell(t.id, Outcome::Values(Vec::new()))), 0);
    let err = s
        .tell(t.id, Outcome::Values(vec![1.0, f64::INFINITY]))
        .unwrap_err();
    assert!(
        matches!(&err, Error::NonFiniteValue { trial: 0, what, .. } if what == "value 1"),
        "{err}"
    );
    let err = s.report(t.id, 1, 0.5).unwrap_err();
    assert!(
        matches!(&err, Error::SingleObjectiveOnly { what, objectives: 2 } if what == "trial 0: report"),
        "{err}"
    );
    assert!(err.to_string().contains("trial 0"), "{err}");
    // Nothing above changed the trial; it can still be told.
    let record = &s.trials()[0];
    assert_eq!(record.state, TrialState::Running);
    assert!(record.value.is_none() && record.values.is_empty() && record.intermediate.is_empty());
    s.tell(t.id, Outcome::Values(vec![0.5, 2.0])).unwrap();
    let record = &s.trials()[0];
    assert_eq!((record.value, record.objectives()), (None, &[0.5, 2.0][..]));
    assert!(matches!(
        s.tell(t.id, Outcome::Values(vec![0.5, 2.0])),
        Err(Error::TrialFinished { id: 0, .. })
    ));
    assert!(
        s.best_trial().is_none(),
        "no single best with two objectives"
    );

    let err = two_objectives()
        .with_pruner(Pruner::MedianStop(MedianStop::default()))
        .unwrap_err();
    assert!(
        matches!(&err, Error::SingleObjectiveOnly { what, .. } if what == "pruner"),
        "{err}"
    );
    let err = two_objectives()
        .optimize(3, |t| t.params().f64("x"))
        .unwrap_err();
    assert!(
        matches!(&err, Error::SingleObjectiveOnly { what, .. } if what.contains("optimize_multi")),
        "{err}"
    );
}

#[test]
fn samplers_for_one_objective_refuse_several_naming_themselves() {
    let space = SearchSpace::new([ParamSpec::double("x", 0.0, 1.0)]).unwrap();
    let both = [Direction::Minimize, Direction::Minimize];
    for sampler in [
        AnySampler::from(TpeSampler::new(0)),
        TpeSampler::new(0).into(),
    ] {
        let err = Study::multi(space.clone(), both, sampler).unwrap_err();
        assert!(
            matches!(&err, Error::SingleObjectiveOnly { what, objectives: 2 } if what == "sampler tpe"),
            "{err}"
        );
    }
    let err = Study::multi(space.clone(), [], RandomSampler::new(0)).unwrap_err();
    assert!(
        matches!(&err, Error::InvalidSetting { name, .. } if name == "directions"),
        "{err}"
    );
    // One direction is a single-objective study, whatever the sampler.
    let one = Study::multi(space.clone(), [Direction::Maximize], TpeSampler::new(0)).unwrap();
    let plain = Study::new(space.clone(), Direction::Maximize, TpeSampler::new(0)).unwrap();
    assert_eq!(one.save().unwrap(), plain.save().unwrap());
    assert_eq!(one.directions(), [Direction::Maximize]);
    for sampler in [
        AnySampler::from(RandomSampler::new(0)),
        GridSampler::new(0).with_default_count(3).into(),
        keelson_hpo::SobolSampler::new(0).into(),
        Nsga2Sampler::new(0).into(),
    ] {
        let mut s = Study::multi(space.clone(), both, sampler).unwrap();
        let t = s.ask().unwrap();
        s.tell(t.id, Outcome::Values(vec![1.0, 2.0])).unwrap();
    }
}

#[test]
fn a_single_objective_study_takes_one_value_either_way() {
    let mut s = study(Direction::Minimize);
    let (a, b) = (s.ask().unwrap(), s.ask().unwrap());
    s.tell(a.id, Outcome::Values(vec![0.5])).unwrap();
    assert!(matches!(
        s.tell(b.id, Outcome::Values(vec![0.5, 1.0])),
        Err(Error::ObjectiveCount {
            trial: 1,
            expected: 1,
            got: 2
        })
    ));
    s.tell(b.id, Outcome::Value(0.25)).unwrap();
    let records = s.trials();
    assert_eq!(
        (records[0].value, records[1].value),
        (Some(0.5), Some(0.25))
    );
    assert!(records.iter().all(|t| t.values.is_empty()));
    let front: Vec<u64> = s.pareto_front().iter().map(|t| t.id).collect();
    assert_eq!(front, [1], "the best trial");
}

#[test]
fn single_objective_saves_keep_their_shape_and_old_saves_restore() {
    // Written by keelson-hpo before multi-objective studies existed.
    let old = r#"{"format":1,"space":{"parameters":[{"name":"n","parameterType":"int","feasibleSpace":{"min":0,"max":9}}]},"direction":"maximize","sampler":{"sobol":{"seed":4,"issued":2}},"trials":[{"id":0,"params":{"n":{"int":3}},"state":"complete","value":0.5,"intermediate":{"1":0.25}},{"id":1,"params":{"n":{"int":7}},"state":"running"}]}"#;
    let mut s: Study = Study::restore(old).unwrap();
    assert_eq!(s.directions(), [Direction::Maximize]);
    assert_eq!(s.trials()[0].objectives(), [0.5]);
    let saved = s.save().unwrap();
    assert_eq!(saved, old, "the same JSON as before");
    let again: Study = Study::restore(&saved).unwrap();
    assert_eq!(again.trials(), s.trials());
    s.tell(1, Outcome::Value(1.0)).unwrap();
    assert_eq!(s.best_trial().map(|t| t.id), Some(1));
}

#[test]
fn multi_objective_studies_save_and_restore() {
    let mut s = two_objectives();
    let trials = s.ask_n(4).unwrap();
    s.tell(trials[0].id, Outcome::Values(vec![1.0, 2.0]))
        .unwrap();
    s.tell(trials[1].id, Outcome::Failed).unwrap();
    s.tell(trials[2].id, Outcome::Values(vec![0.5, 1.0]))
        .unwrap();
    let json = s.save().unwrap();
    assert!(
        json.contains(r#""directions":["minimize","maximize"]"#),
        "{json}"
    );
    let mut restored: Study<RandomSampler> = Study::restore(&json).unwrap();
    assert_eq!(restored.trials(), s.trials());
    assert_eq!(restored.directions(), s.directions());
    restored
        .tell(trials[3].id, Outcome::Values(vec![0.0, 0.0]))
        .unwrap();
    assert_eq!(restored.ask().unwrap(), s.ask().unwrap());

    let tampered = [
        json.replace(r#""directions":["minimize","maximize"]"#, r#""directions":["minimize"]"#),
        json.replace(r#""directions":["minimize","maximize"]"#, r#""directions":["maximize","maximize"]"#),
        json.replace(r#""values":[1.0,2.0]"#, r#""values":[1.0]"#),
        json.replace(r#""values":[1.0,2.0]"#, r#""value":1.0"#),
        json.replace(r#""values":[1.0,2.0]"#, r#""values":[1.0,2.0],"intermediate":{"1":0.5}"#),
        json.replace(r#""state":"failed""#, r#""state":"failed","values":[1.0,2.0]"#),
        json.replace(r#""trials":"#, r#""pruner":{"algorithm":"medianstop","min_trials_required":3,"start_step":4},"trials":"#),
    ];
    for bad in tampered {
        assert_ne!(bad, json);
        let err = Study::<RandomSampler>::restore(&bad).unwrap_err();
        assert!(matches!(err, Error::Restore(_)), "{bad}: {err:?}");
    }
    // A single-objective sampler cannot take over a multi-objective study.
    let with_tpe = Study::multi(
        s.space().clone(),
        [Direction::Minimize, Direction::Maximize],
        AnySampler::from(RandomSampler::new(0)),
    )
    .unwrap()
    .save()
    .unwrap();
    let tpe_json = serde_json::to_string(&AnySampler::from(TpeSampler::new(0))).unwrap();
    let start = with_tpe.find(r#""sampler":"#).unwrap() + r#""sampler":"#.len();
    let end = with_tpe.find(r#","trials""#).unwrap();
    let swapped = format!("{}{tpe_json}{}", &with_tpe[..start], &with_tpe[end..]);
    let err = Study::<AnySampler>::restore(&swapped).unwrap_err();
    assert!(
        matches!(&err, Error::SingleObjectiveOnly { what, .. } if what == "sampler tpe"),
        "{err}"
    );
    // A single-objective trial with values is rejected too.
    let mut single = study(Direction::Minimize);
    let t = single.ask().unwrap();
    single.tell(t.id, Outcome::Value(1.0)).unwrap();
    let bad = single
        .save()
        .unwrap()
        .replace(r#""value":1.0"#, r#""value":1.0,"values":[1.0,2.0]"#);
    assert!(matches!(
        Study::<RandomSampler>::restore(&bad),
        Err(Error::Restore(_))
    ));
}

#[test]
fn optimize_multi_fails_trials_with_the_wrong_count_and_goes_on() {
    let mut s = two_objectives();
    let options = OptimizeOptions::new().threads(2).progress(false);
    let summary = s
        .optimize_multi_with(30, &options, |t| {
            let x = t.params().f64("x")?;
            match t.params().i64("n")? {
                1 => Ok(vec![x]),
                2 => Ok(vec![x, f64::NAN]),
                3 => panic!("objective blew up at {x}"),
                _ => Ok::<_, Error>(vec![x * x, x]),
            }
        })
        .unwrap();
    assert_eq!(summary.completed + summary.failed, 30);
    assert!(summary.completed > 0 && summary.failed > 0);
    let reasons: Vec<&str> = s
        .trials()
        .iter()
        .filter_map(|t| t.failure.as_deref())
        .collect();
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("returned 1 values, the study has 2 objectives")),
        "{reasons:?}"
    );
    assert!(reasons.iter().any(|r| r.contains("returned NaN")));
    assert!(reasons.iter().any(|r| r.contains("panicked")));
    for t in s.trials() {
        match t.state {
            TrialState::Complete => assert_eq!(t.values.len(), 2),
            TrialState::Failed => assert!(t.values.is_empty()),
            other => panic!("{other:?}"),
        }
    }
    // A single-objective study runs a one-value multi objective too.
    let mut one = study(Direction::Minimize);
    one.optimize_multi_with(3, &options, |t| t.params().f64("x").map(|x| [x]))
        .unwrap();
    assert!(one.best_trial().is_some());
}

fn hyperband_study(max_epochs: i64) -> Study<HyperbandSampler> {
    let space = SearchSpace::new([
        ParamSpec::double("x", -1.0, 1.0),
        ParamSpec::int("epochs", 1, max_epochs),
    ])
    .unwrap();
    let sampler = HyperbandSampler::new(0, HyperbandOptions::new("epochs"));
    Study::new(space, Direction::Minimize, sampler).unwrap()
}

#[test]
fn optimize_on_threads_waits_for_hyperbands_rungs() {
    let mut s = hyperband_study(27);
    let options = OptimizeOptions::new().threads(4).progress(false);
    let summary = s
        .optimize_with(1000, &options, |t| {
            let x = t.params().f64("x")?;
            Ok::<_, Error>(x * x + 1.0 / t.params().f64("epochs")?)
        })
        .unwrap();
    // R = 27, eta = 3: brackets of 27 + 9 + 3 + 1, 12 + 4 + 1, 6 + 2 and 4.
    assert!(summary.exhausted);
    assert_eq!(summary.completed, 69);
    assert!(s.trials().iter().all(|t| t.state == TrialState::Complete));
}

#[test]
fn optimize_stops_with_waiting_when_only_outside_trials_run() {
    let mut s = hyperband_study(3);
    // Both brackets' first rungs (3 + 2), left running by someone else.
    assert_eq!(s.ask_n(10).unwrap().len(), 5);
    let err = s
        .optimize_with(10, &OptimizeOptions::new().progress(false), |_| 1.0)
        .unwrap_err();
    assert!(matches!(err, Error::Waiting { running: 5, .. }), "{err}");
    for id in 0..5 {
        s.tell(id, Outcome::Value(id as f64)).unwrap();
    }
    // Told, the rung promotes its best, and the last bracket is at full resource already.
    let summary = s
        .optimize_with(10, &OptimizeOptions::new().progress(false), |_| 1.0)
        .unwrap();
    assert_eq!((summary.completed, summary.exhausted), (1, true));
    assert_eq!(
        s.trials()[5].params.f64("x").unwrap(),
        s.trials()[0].params.f64("x").unwrap()
    );
}
