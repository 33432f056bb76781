//! Every sampler, through the public API: suggestions always lie inside the
//! space (steps, integers, log bounds, conditional activity), the same seed
//! gives the same suggestions, and a saved and restored study continues
//! exactly as the uninterrupted one.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::VecDeque;

use keelson_hpo::samplers::{
    AshaOptions, CmaEsOptions, Crossover, GpOptions, HyperbandOptions, Nsga2Options, Restart,
    TpeOptions,
};
use keelson_hpo::{
    AnySampler, AshaSampler, CmaEsSampler, Direction, Error, GpSampler, GridSampler,
    HyperbandSampler, Nsga2Sampler, Outcome, ParamSpec, ParameterType, Params, RandomSampler,
    Sampler, SearchSpace, SobolSampler, Study, TpeSampler, Trial, Value,
};
use proptest::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// TPE with few startup trials, so that short runs exercise the model.
fn tpe(seed: u64, multivariate: bool, group: bool, constant_liar: bool) -> TpeSampler {
    TpeSampler::with_options(
        seed,
        TpeOptions {
            n_startup_trials: 3,
            multivariate,
            group,
            constant_liar,
            ..TpeOptions::default()
        },
    )
}

/// NSGA-II with small generations, so that short runs breed several.
fn nsga2(seed: u64, crossover: Crossover) -> Nsga2Sampler {
    Nsga2Sampler::with_options(
        seed,
        Nsga2Options {
            population_size: 4,
            crossover,
            ..Nsga2Options::default()
        },
    )
}

/// GP with few startup trials and a small acquisition search, so that the
/// tests' short runs (in a debug build) exercise the model cheaply.
fn gp(seed: u64, n_startup_trials: usize) -> GpSampler {
    GpSampler::with_options(
        seed,
        GpOptions {
            n_startup_trials,
            n_candidates: 16,
            n_local_searches: 2,
            ..GpOptions::default()
        },
    )
}

/// CMA-ES with a small population, so that short runs go through several
/// generations (and, with IPOP on a flat objective, restarts).
fn cmaes(seed: u64, separable: bool, lr_adapt: bool, with_margin: bool) -> CmaEsSampler {
    CmaEsSampler::with_options(
        seed,
        CmaEsOptions {
            popsize: Some(4),
            restart: Restart::Ipop { inc_popsize: 2 },
            separable,
            lr_adapt,
            with_margin,
            ..CmaEsOptions::default()
        },
    )
}

fn samplers(seed: u64) -> [AnySampler; 13] {
    [
        RandomSampler::new(seed).into(),
        SobolSampler::new(seed).into(),
        GridSampler::new(seed).with_default_count(4).into(),
        tpe(seed, false, false, false).into(),
        tpe(seed, true, false, true).into(),
        tpe(seed, true, true, false).into(),
        nsga2(seed, Crossover::Uniform).into(),
        nsga2(seed, Crossover::Sbx { eta: 2.0 }).into(),
        CmaEsSampler::new(seed).into(),
        cmaes(seed, false, false, true).into(),
        cmaes(seed, true, false, false).into(),
        cmaes(seed, false, true, true).into(),
        gp(seed, 3).into(),
    ]
}

/// Whether the space has a categorical or a conditional parameter: the
/// only reason a sampler here may refuse a space (CMA-ES does).
fn has_categorical_or_conditional(specs: &[ParamSpec]) -> bool {
    specs
        .iter()
        .any(|s| s.parameter_type == ParameterType::Categorical || s.condition.is_some())
}

/// A study, or `None` when the sampler refuses a space with categorical or
/// conditional parameters; any other refusal fails the test.
fn study_for<S: Sampler>(
    specs: &[ParamSpec],
    direction: Direction,
    sampler: S,
) -> Option<Study<S>> {
    match Study::new(common::space(specs), direction, sampler) {
        Ok(study) => Some(study),
        Err(Error::UnsupportedSpace { .. }) if has_categorical_or_conditional(specs) => None,
        Err(e) => panic!("{e}"),
    }
}

/// How many of `n` trials a generic test runs with `sampler`: the GP's
/// suggestions cost milliseconds each in a debug build, so its runs stop
/// at 8 (5 of them from the model).
fn budget(sampler: &AnySampler, n: usize) -> usize {
    if sampler.name() == "gp" { n.min(8) } else { n }
}

/// A made-up objective, so that told values depend on the parameters.
fn objective(trial: &Trial) -> f64 {
    trial
        .params
        .iter()
        .map(|(name, v)| v.as_f64().unwrap_or(name.len() as f64).abs().ln_1p())
        .sum()
}

/// Asks `n` trials (fewer if the sampler runs out), telling each.
fn run<S: Sampler>(study: &mut Study<S>, n: usize) -> Vec<Trial> {
    let mut out = Vec::new();
    for _ in 0..n {
        match study.ask() {
            Ok(trial) => {
                study
                    .tell(trial.id, Outcome::Value(objective(&trial)))
                    .unwrap();
                out.push(trial);
            }
            Err(Error::Exhausted { .. }) => break,
            Err(e) => panic!("{e}"),
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn suggestions_lie_inside_the_space(specs in common::space_specs(), seed in any::<u64>()) {
        let space = common::space(&specs);
        for sampler in samplers(seed) {
            let name = sampler.name().to_owned();
            let n = budget(&sampler, 40);
            let Some(mut study) = study_for(&specs, Direction::Minimize, sampler) else { continue };
            for trial in run(&mut study, n) {
                common::assert_inside(&specs, &trial.params);
                prop_assert!(space.check(&trial.params).is_ok(), "{name}: {}", trial.params);
            }
        }
    }

    #[test]
    fn unit_coordinates_round_trip(specs in common::space_specs(), seed in any::<u64>()) {
        let space = common::space(&specs);
        let mut study = Study::new(space.clone(), Direction::Minimize, RandomSampler::new(seed)).unwrap();
        for trial in run(&mut study, 20) {
            let unit = space.encode(&trial.params).unwrap();
            prop_assert!(unit.iter().flatten().all(|u| (0.0..=1.0).contains(u)));
            let point: Vec<f64> = unit.iter().map(|u| u.unwrap_or(0.5)).collect();
            let back = space.decode(&point).unwrap();
            // Discrete things come back exactly; continuous doubles to rounding.
            for (name, value) in trial.params.iter() {
                let again = back.get(name).unwrap();
                match (value.as_f64(), again.as_f64()) {
                    (Some(a), Some(b)) => prop_assert!((a - b).abs() <= 1e-9 * a.abs().max(1.0), "{name}: {a} vs {b}"),
                    _ => prop_assert_eq!(value, again),
                }
            }
        }
    }

    #[test]
    fn same_seed_same_suggestions(specs in common::space_specs(), seed in any::<u64>()) {
        for (a, b) in samplers(seed).into_iter().zip(samplers(seed)) {
            let n = budget(&a, 25);
            let Some(mut first) = study_for(&specs, Direction::Minimize, a) else { continue };
            let mut second = study_for(&specs, Direction::Minimize, b).unwrap();
            prop_assert_eq!(run(&mut first, n), run(&mut second, n));
        }
    }

    #[test]
    fn restored_study_continues_exactly(specs in common::space_specs(), seed in any::<u64>(), cut in 0usize..15) {
        for sampler in samplers(seed) {
            let n = budget(&sampler, 30);
            let Some(mut whole) = study_for(&specs, Direction::Maximize, sampler.clone()) else { continue };
            let expected = run(&mut whole, n);

            let mut first = study_for(&specs, Direction::Maximize, sampler).unwrap();
            let mut got = run(&mut first, cut.min(n));
            let mut resumed: Study = Study::restore(&first.save().unwrap()).unwrap();
            got.extend(run(&mut resumed, n - got.len()));
            prop_assert_eq!(got, expected);
        }
    }
}

/// The save/restore test for each concrete sampler type too, with trials
/// still running at the save and intermediate values reported.
fn continues_with_running_trials<S>(sampler: S)
where
    S: Sampler + Clone + Serialize + DeserializeOwned,
{
    let space = SearchSpace::new([
        ParamSpec::double("lr", 1e-5, 1e-1).distribution(keelson_hpo::Distribution::LogUniform),
        ParamSpec::int("layers", 1, 6),
        ParamSpec::categorical("opt", ["sgd", "adam"]),
        ParamSpec::double("momentum", 0.0, 0.9)
            .step(0.1)
            .active_when("opt", ["sgd"]),
        // The resource of Hyperband and ASHA; another int to the others.
        ParamSpec::int("epochs", 1, 27),
    ])
    .unwrap();
    continues_with_running_trials_in(space, sampler);
}

/// The same on a space without categorical or conditional parameters, for
/// samplers that only search numbers.
fn numeric_space() -> SearchSpace {
    SearchSpace::new([
        ParamSpec::double("lr", 1e-5, 1e-1).distribution(keelson_hpo::Distribution::LogUniform),
        ParamSpec::int("layers", 1, 6),
        ParamSpec::double("momentum", 0.0, 0.9).step(0.1),
        ParamSpec::discrete("bs", [64.0, 16.0, 32.0]),
        ParamSpec::double("dropout", 0.0, 0.5).distribution(keelson_hpo::Distribution::Normal),
    ])
    .unwrap()
}

fn continues_with_running_trials_in<S>(space: SearchSpace, sampler: S)
where
    S: Sampler + Clone + Serialize + DeserializeOwned,
{
    let mut whole = Study::new(space.clone(), Direction::Minimize, sampler.clone()).unwrap();
    let mut saved_at = Study::new(space, Direction::Minimize, sampler).unwrap();
    for study in [&mut whole, &mut saved_at] {
        let running = study.ask_n(3).unwrap();
        study.report(running[0].id, 1, 0.5).unwrap();
        study.tell(running[1].id, Outcome::Value(1.0)).unwrap();
    }
    let json = saved_at.save().unwrap();
    let mut resumed: Study<S> = Study::restore(&json).unwrap();
    assert_eq!(resumed.trials(), whole.trials());
    resumed.tell(0, Outcome::Value(2.0)).unwrap();
    whole.tell(0, Outcome::Value(2.0)).unwrap();
    for _ in 0..10 {
        assert_eq!(resumed.ask().unwrap(), whole.ask().unwrap());
    }
    assert_eq!(resumed.save().unwrap(), whole.save().unwrap());
}

#[test]
fn every_sampler_type_restores_with_running_trials() {
    continues_with_running_trials(RandomSampler::new(11));
    continues_with_running_trials(SobolSampler::new(11));
    continues_with_running_trials(GridSampler::new(11).with_count("lr", 5));
    continues_with_running_trials(AnySampler::from(GridSampler::new(11).with_count("lr", 5)));
    for (multivariate, group, liar) in [
        (false, false, false),
        (false, false, true),
        (true, false, true),
        (true, true, true),
    ] {
        continues_with_running_trials(tpe(11, multivariate, group, liar));
        continues_with_running_trials(AnySampler::from(tpe(11, multivariate, group, liar)));
    }
    // Two complete trials: the model runs from the first ask after the
    // save, with the running trials as Kriging believers.
    continues_with_running_trials(gp(11, 2));
    continues_with_running_trials(AnySampler::from(gp(11, 2)));
    // The save falls in the middle of a generation (λ = 8 and 4 here),
    // with trials running; with λ = 4 the generation ends on extra
    // solutions while trial 2 stays running.
    for sampler in [
        CmaEsSampler::new(11),
        cmaes(11, false, false, true),
        cmaes(11, true, false, true),
        cmaes(11, false, true, false),
    ] {
        continues_with_running_trials_in(numeric_space(), sampler.clone());
        continues_with_running_trials_in(numeric_space(), AnySampler::from(sampler));
    }
    for sampler in resource_samplers(11, "epochs") {
        continues_with_running_trials(sampler.clone());
        match sampler {
            AnySampler::Hyperband(s) => continues_with_running_trials(s),
            AnySampler::Asha(s) => continues_with_running_trials(s),
            _ => unreachable!(),
        }
    }
    for crossover in [Crossover::Uniform, Crossover::Sbx { eta: 20.0 }] {
        continues_with_running_trials(nsga2(11, crossover));
        continues_with_running_trials(AnySampler::from(nsga2(11, crossover)));
    }
}

/// Two made-up objectives that pull apart.
fn objectives(trial: &Trial) -> Vec<f64> {
    let f = objective(trial);
    vec![f, (f - 2.0).abs() + trial.params.len() as f64]
}

/// Runs `n` trials of a multi-objective study with up to `parallel` running
/// at once, told out of order (the newest first every third time), failing
/// every seventh; saves and restores the study after trial `cut` is told
/// and checks that the restored one goes on as the original.
fn run_multi(
    study: &mut Study<Nsga2Sampler>,
    n: usize,
    parallel: usize,
    cut: Option<usize>,
) -> Vec<Trial> {
    let mut out = Vec::new();
    let mut running = std::collections::VecDeque::new();
    while out.len() < n {
        while running.len() < parallel && out.len() + running.len() < n {
            running.push_back(study.ask().unwrap());
        }
        let trial = if out.len() % 3 == 2 {
            running.pop_back().unwrap()
        } else {
            running.pop_front().unwrap()
        };
        let outcome = if trial.id % 7 == 6 {
            Outcome::Failed
        } else {
            Outcome::Values(objectives(&trial))
        };
        study.tell(trial.id, outcome).unwrap();
        out.push(trial);
        if Some(out.len()) == cut {
            let json = study.save().unwrap();
            let restored: Study<Nsga2Sampler> = Study::restore(&json).unwrap();
            assert_eq!(restored.save().unwrap(), json);
            *study = restored;
        }
    }
    out
}

#[test]
fn nsga2_restores_mid_generation_with_running_and_late_trials() {
    let specs = vec![
        ParamSpec::categorical("opt", ["sgd", "adam", "rmsprop"]),
        ParamSpec::double("lr", 1e-5, 1e-1).distribution(keelson_hpo::Distribution::LogUniform),
        ParamSpec::double("momentum", 0.0, 0.9)
            .step(0.1)
            .active_when("opt", ["sgd", "rmsprop"]),
        ParamSpec::int("layers", 1, 8),
        ParamSpec::discrete("bs", [16.0, 32.0, 64.0]),
        ParamSpec::double("dropout", 0.0, 0.5).distribution(keelson_hpo::Distribution::Normal),
    ];
    let space = SearchSpace::new(specs.clone()).unwrap();
    let directions = [Direction::Minimize, Direction::Maximize];
    for crossover in [Crossover::Uniform, Crossover::Sbx { eta: 5.0 }] {
        let sampler = Nsga2Sampler::with_options(
            5,
            Nsga2Options {
                population_size: 6,
                crossover,
                ..Nsga2Options::default()
            },
        );
        let mut whole = Study::multi(space.clone(), directions, sampler.clone()).unwrap();
        let trials = run_multi(&mut whole, 80, 4, None);
        for t in &trials {
            common::assert_inside(&specs, &t.params);
        }
        assert!(
            whole.sampler().generation() >= 8,
            "{}",
            whole.sampler().generation()
        );
        let mut again = Study::multi(space.clone(), directions, sampler.clone()).unwrap();
        assert_eq!(run_multi(&mut again, 80, 4, None), trials, "deterministic");
        let mut saw_late = false;
        for cut in [1, 5, 6, 7, 13, 20, 33, 47, 61] {
            let mut resumed = Study::multi(space.clone(), directions, sampler.clone()).unwrap();
            let mut probe = Study::multi(space.clone(), directions, sampler.clone()).unwrap();
            run_multi(&mut probe, cut, 4, None);
            saw_late |= probe.save().unwrap().contains("\"late\"");
            assert_eq!(
                run_multi(&mut resumed, 80, 4, Some(cut)),
                trials,
                "cut at {cut}"
            );
            assert_eq!(resumed.save().unwrap(), whole.save().unwrap());
        }
        assert!(
            saw_late,
            "some save had trials of a past generation running"
        );
    }
}

/// Runs `n` trials with up to `parallel` of them running at once (told in
/// the order asked), pruning every fifth and failing every seventh.
fn run_parallel<S: Sampler>(study: &mut Study<S>, n: usize, parallel: usize) -> Vec<Trial> {
    let mut out = Vec::new();
    let mut running = std::collections::VecDeque::new();
    while out.len() < n {
        while running.len() < parallel && out.len() + running.len() < n {
            running.push_back(study.ask().unwrap());
        }
        let trial = running.pop_front().unwrap();
        let outcome = match trial.id % 35 {
            id if id % 7 == 6 => Outcome::Failed,
            id if id % 5 == 4 => {
                study.report(trial.id, 1, objective(&trial)).unwrap();
                Outcome::Pruned
            }
            _ => Outcome::Value(objective(&trial)),
        };
        study.tell(trial.id, outcome).unwrap();
        out.push(trial);
    }
    out
}

/// Runs `n` trials `parallel` at a time twice from the same sampler, checks
/// both runs agree and stay inside the space, then checks a study restored
/// from the second run asks what the second run asks next, `asks` times.
/// Returns the first run's study for sampler-specific checks.
fn check_parallel_run<S>(
    specs: &[ParamSpec],
    direction: Direction,
    sampler: S,
    (n, parallel, asks): (usize, usize, usize),
) -> Study<S>
where
    S: Sampler + Clone + Serialize + DeserializeOwned,
{
    let space = SearchSpace::new(specs.to_vec()).unwrap();
    let mut whole = Study::new(space.clone(), direction, sampler.clone()).unwrap();
    let trials = run_parallel(&mut whole, n, parallel);
    for t in &trials {
        common::assert_inside(specs, &t.params);
    }
    let mut again = Study::new(space, direction, sampler).unwrap();
    assert_eq!(
        run_parallel(&mut again, n, parallel),
        trials,
        "deterministic"
    );
    let json = again.save().unwrap();
    let mut resumed: Study<S> = Study::restore(&json).unwrap();
    for _ in 0..asks {
        assert_eq!(resumed.ask().unwrap(), again.ask().unwrap());
    }
    whole
}

#[test]
fn tpe_with_running_pruned_and_failed_trials_stays_inside_and_restores() {
    let specs = vec![
        ParamSpec::categorical("opt", ["sgd", "adam", "rmsprop"]),
        ParamSpec::double("lr", 1e-5, 1e-1).distribution(keelson_hpo::Distribution::LogUniform),
        ParamSpec::double("momentum", 0.0, 0.9)
            .step(0.1)
            .active_when("opt", ["sgd", "rmsprop"]),
        ParamSpec::double("nesterov_mix", 0.0, 1.0).active_when("opt", ["sgd", "rmsprop"]),
        ParamSpec::int("layers", 1, 8),
        ParamSpec::int("width", 16, 1024).distribution(keelson_hpo::Distribution::LogUniform),
        ParamSpec::discrete("bs", [16.0, 32.0, 64.0]),
        ParamSpec::double("dropout", 0.0, 0.5).distribution(keelson_hpo::Distribution::Normal),
    ];
    for (multivariate, group, liar) in [
        (false, false, false),
        (false, false, true),
        (true, false, false),
        (true, true, true),
    ] {
        let sampler = tpe(5, multivariate, group, liar);
        check_parallel_run(&specs, Direction::Minimize, sampler, (60, 4, 1));
    }
}

#[test]
fn cmaes_with_running_pruned_and_failed_trials_stays_inside_and_restores() {
    let specs = vec![
        ParamSpec::double("lr", 1e-5, 1e-1).distribution(keelson_hpo::Distribution::LogUniform),
        ParamSpec::double("momentum", 0.0, 0.9).step(0.1),
        ParamSpec::int("layers", 1, 8),
        ParamSpec::int("width", 16, 1024).distribution(keelson_hpo::Distribution::LogUniform),
        ParamSpec::discrete("bs", [64.0, 16.0, 32.0]),
        ParamSpec::double("dropout", 0.0, 0.5).distribution(keelson_hpo::Distribution::Normal),
    ];
    for sampler in [
        CmaEsSampler::new(5),
        cmaes(5, false, false, true),
        cmaes(5, true, false, false),
        cmaes(5, false, true, true),
    ] {
        for direction in [Direction::Minimize, Direction::Maximize] {
            // More workers than a generation has solutions: the extras come
            // from the current distribution instead of blocking.
            let whole = check_parallel_run(&specs, direction, sampler.clone(), (120, 12, 5));
            assert!(
                whole.sampler().generations() >= 5,
                "the generations went on"
            );
        }
    }
}

#[test]
fn gp_with_running_pruned_and_failed_trials_stays_inside_and_restores() {
    let specs = vec![
        ParamSpec::categorical("opt", ["sgd", "adam", "rmsprop"]),
        ParamSpec::double("lr", 1e-5, 1e-1).distribution(keelson_hpo::Distribution::LogUniform),
        ParamSpec::double("momentum", 0.0, 0.9)
            .step(0.1)
            .active_when("opt", ["sgd", "rmsprop"]),
        ParamSpec::int("width", 16, 1024).distribution(keelson_hpo::Distribution::LogUniform),
        ParamSpec::discrete("bs", [16.0, 32.0, 64.0]),
        ParamSpec::double("dropout", 0.0, 0.5).distribution(keelson_hpo::Distribution::Normal),
    ];
    for direction in [Direction::Minimize, Direction::Maximize] {
        check_parallel_run(&specs, direction, gp(5, 4), (24, 3, 1));
    }
}

#[test]
fn gp_restores_exactly_while_a_model_rests() {
    // On Branin the additive model falls far behind and rests for a few
    // trials at a time; the schedule is part of the saved state, so a study
    // saved while a model rests continues as the uninterrupted one does.
    let branin = keelson_hpo::testfns::TestFunction::by_name("branin").unwrap();
    let mut study = Study::new(
        branin.space().unwrap(),
        Direction::Minimize,
        GpSampler::new(3),
    )
    .unwrap();
    let mut saved = None;
    for _ in 0..60 {
        let t = study.ask().unwrap();
        let v = branin.evaluate(&t.params).unwrap();
        study.tell(t.id, Outcome::Value(v)).unwrap();
        let json = study.save().unwrap();
        let state: serde_json::Value = serde_json::from_str(&json).unwrap();
        let complete = study.trials().len() as u64;
        let resting = state
            .pointer("/sampler/resting_until")
            .and_then(|r| r.as_array())
            .is_some_and(|r| r.iter().any(|n| n.as_u64().unwrap_or(0) > complete));
        if resting {
            saved = Some(json);
            break;
        }
    }
    let json = saved.expect("no model rested within 60 trials");
    let mut resumed: Study<GpSampler> = Study::restore(&json).unwrap();
    for _ in 0..6 {
        let (a, b) = (study.ask().unwrap(), resumed.ask().unwrap());
        assert_eq!(a.params, b.params);
        let v = branin.evaluate(&a.params).unwrap();
        study.tell(a.id, Outcome::Value(v)).unwrap();
        resumed.tell(b.id, Outcome::Value(v)).unwrap();
    }
    assert_eq!(resumed.save().unwrap(), study.save().unwrap());
}

#[test]
fn gp_keeps_its_hyperparameters_between_spaced_refits_and_restores_exactly() {
    // Past `refit_every_trial_until` the hyperparameters are refitted only
    // every n/20 trials (every other trial from 40 to 59) and kept in
    // between, where each model's posterior is extended by the new trials
    // rather than built anew. A study saved between two refits holds the
    // kept hyperparameters, rebuilds its posteriors from nothing when
    // restored, and continues exactly.
    let branin = keelson_hpo::testfns::TestFunction::by_name("branin").unwrap();
    let sampler = GpSampler::with_options(
        5,
        GpOptions {
            n_startup_trials: 5,
            n_candidates: 16,
            n_local_searches: 2,
            refit_every_trial_until: 12,
            ..GpOptions::default()
        },
    );
    let mut study = Study::new(branin.space().unwrap(), Direction::Minimize, sampler).unwrap();
    let step = |study: &mut Study<GpSampler>| {
        let t = study.ask().unwrap();
        let v = branin.evaluate(&t.params).unwrap();
        study.tell(t.id, Outcome::Value(v)).unwrap();
        t.params
    };
    let theta = |study: &Study<GpSampler>| {
        let state: serde_json::Value = serde_json::from_str(&study.save().unwrap()).unwrap();
        ["theta", "theta_linear", "theta_trend", "theta_additive"]
            .map(|key| state["sampler"].get(key).cloned())
    };
    for _ in 0..41 {
        step(&mut study);
    }
    let json = study.save().unwrap();
    let before = theta(&study);
    let mut asked = vec![step(&mut study)];
    // 41 complete trials: not a refit, the hyperparameters stay.
    assert_eq!(theta(&study), before);
    asked.push(step(&mut study));
    // 42: a refit.
    assert_ne!(theta(&study), before);
    for _ in 0..4 {
        asked.push(step(&mut study));
    }
    let mut resumed: Study<GpSampler> = Study::restore(&json).unwrap();
    let again: Vec<_> = (0..6).map(|_| step(&mut resumed)).collect();
    assert_eq!(asked, again);
    assert_eq!(resumed.save().unwrap(), study.save().unwrap());
}

#[test]
fn gps_local_model_takes_over_from_30_trials_and_restores_exactly() {
    // On Ackley's function the model fits the ripples as noise, so from 30
    // complete trials every other suggestion comes from the local model:
    // until then a study without it asks the same points, after it not. The
    // local model keeps no state, and a study saved among its steps
    // continues exactly.
    let ackley = keelson_hpo::testfns::TestFunction::by_name("ackley2").unwrap();
    let study = |local_model: bool| {
        let options = GpOptions {
            n_candidates: 128,
            local_model,
            ..GpOptions::default()
        };
        let sampler = GpSampler::with_options(1, options);
        Study::new(ackley.space().unwrap(), Direction::Minimize, sampler).unwrap()
    };
    let step = |study: &mut Study<GpSampler>| {
        let t = study.ask().unwrap();
        let v = ackley.evaluate(&t.params).unwrap();
        study.tell(t.id, Outcome::Value(v)).unwrap();
        t.params
    };
    let (mut with, mut without) = (study(true), study(false));
    for _ in 0..30 {
        assert_eq!(step(&mut with), step(&mut without));
    }
    let json = with.save().unwrap();
    let asked: Vec<_> = (0..8).map(|_| step(&mut with)).collect();
    let plain: Vec<_> = (0..8).map(|_| step(&mut without)).collect();
    assert_ne!(asked, plain);
    let mut resumed: Study<GpSampler> = Study::restore(&json).unwrap();
    let again: Vec<_> = (0..8).map(|_| step(&mut resumed)).collect();
    assert_eq!(asked, again);
    assert_eq!(resumed.save().unwrap(), with.save().unwrap());
}

#[test]
fn gp_batches_of_running_trials_spread_out() {
    let branin = keelson_hpo::testfns::TestFunction::by_name("branin").unwrap();
    let mut study = Study::new(branin.space().unwrap(), Direction::Minimize, gp(2, 6)).unwrap();
    for _ in 0..10 {
        let t = study.ask().unwrap();
        let v = branin.evaluate(&t.params).unwrap();
        study.tell(t.id, Outcome::Value(v)).unwrap();
    }
    // Without the believers, the same model would pick nearly the same point
    // four times.
    let batch = study.ask_n(4).unwrap();
    for (i, a) in batch.iter().enumerate() {
        for b in &batch[i + 1..] {
            let (dx, dy) = (
                a.params.f64("x0").unwrap() - b.params.f64("x0").unwrap(),
                a.params.f64("x1").unwrap() - b.params.f64("x1").unwrap(),
            );
            assert!(
                dx.hypot(dy) > 1e-2,
                "{} and {} coincide",
                a.params,
                b.params
            );
        }
    }
}

#[test]
fn gp_rejects_bad_options_naming_them() {
    let space = SearchSpace::new([ParamSpec::double("x", 0.0, 1.0)]).unwrap();
    let bad = [
        (
            GpOptions {
                n_candidates: 0,
                n_local_searches: 0,
                ..GpOptions::default()
            },
            "gp.n_candidates",
        ),
        (
            GpOptions {
                n_candidates: 8,
                n_local_searches: 9,
                ..GpOptions::default()
            },
            "gp.n_local_searches",
        ),
    ];
    for (options, name) in bad {
        let err = Study::new(
            space.clone(),
            Direction::Minimize,
            GpSampler::with_options(0, options),
        )
        .unwrap_err();
        assert!(
            matches!(&err, Error::InvalidSetting { name: n, .. } if n == name),
            "{err}"
        );
    }
}

#[test]
fn tpe_rejects_bad_options_naming_them() {
    let space = SearchSpace::new([ParamSpec::double("x", 0.0, 1.0)]).unwrap();
    let bad = [
        (
            TpeOptions {
                n_ei_candidates: 0,
                ..TpeOptions::default()
            },
            "tpe.n_ei_candidates",
        ),
        (
            TpeOptions {
                prior_weight: f64::NAN,
                ..TpeOptions::default()
            },
            "tpe.prior_weight",
        ),
        (
            TpeOptions {
                group: true,
                ..TpeOptions::default()
            },
            "tpe.group",
        ),
        (
            TpeOptions {
                gamma: keelson_hpo::samplers::Gamma::Linear {
                    fraction: -1.0,
                    max: 25,
                },
                ..TpeOptions::default()
            },
            "tpe.gamma.fraction",
        ),
    ];
    for (options, name) in bad {
        let err = Study::new(
            space.clone(),
            Direction::Minimize,
            TpeSampler::with_options(0, options),
        )
        .unwrap_err();
        assert!(
            matches!(&err, Error::InvalidSetting { name: n, .. } if n == name),
            "{err}"
        );
    }
}

#[test]
fn nsga2_rejects_bad_options_naming_them() {
    let space = SearchSpace::new([ParamSpec::double("x", 0.0, 1.0)]).unwrap();
    let bad = [
        (
            Nsga2Options {
                population_size: 1,
                ..Nsga2Options::default()
            },
            "nsga2.population_size",
        ),
        (
            Nsga2Options {
                mutation_prob: Some(-0.1),
                ..Nsga2Options::default()
            },
            "nsga2.mutation_prob",
        ),
        (
            Nsga2Options {
                crossover_prob: f64::NAN,
                ..Nsga2Options::default()
            },
            "nsga2.crossover_prob",
        ),
        (
            Nsga2Options {
                swapping_prob: 2.0,
                ..Nsga2Options::default()
            },
            "nsga2.swapping_prob",
        ),
        (
            Nsga2Options {
                crossover: Crossover::Sbx { eta: -1.0 },
                ..Nsga2Options::default()
            },
            "nsga2.crossover.eta",
        ),
    ];
    for (options, name) in bad {
        let err = Study::multi(
            space.clone(),
            [Direction::Minimize; 2],
            Nsga2Sampler::with_options(0, options),
        )
        .unwrap_err();
        assert!(
            matches!(&err, Error::InvalidSetting { name: n, .. } if n == name),
            "{err}"
        );
    }
    let json = serde_json::to_string(&AnySampler::from(Nsga2Sampler::new(0))).unwrap();
    assert!(json.starts_with(r#"{"nsga2":{"rng":"#), "{json}");
    let back: AnySampler = serde_json::from_str(&json).unwrap();
    assert_eq!(back, AnySampler::from(Nsga2Sampler::new(0)));
}

#[test]
fn tpe_handles_hundreds_of_dimensions() {
    // Factors of 300-dimensional kernels leave f64's range: the log path.
    let space =
        SearchSpace::new((0..300).map(|i| ParamSpec::double(&format!("x{i}"), -1.0, 1.0))).unwrap();
    for multivariate in [false, true] {
        let mut study = Study::new(
            space.clone(),
            Direction::Minimize,
            tpe(1, multivariate, false, false),
        )
        .unwrap();
        for trial in run(&mut study, 15) {
            assert_eq!(trial.params.len(), 300);
        }
    }
}

#[test]
fn different_seeds_differ() {
    let space = SearchSpace::new([ParamSpec::double("x", 0.0, 1.0)]).unwrap();
    for (a, b) in samplers(1).into_iter().zip(samplers(2)) {
        let mut first = Study::new(space.clone(), Direction::Minimize, a).unwrap();
        let mut second = Study::new(space.clone(), Direction::Minimize, b).unwrap();
        assert_ne!(run(&mut first, 4), run(&mut second, 4));
    }
}

#[test]
fn grid_visits_every_point_once_then_ends() {
    let space = SearchSpace::new([
        ParamSpec::categorical("opt", ["sgd", "adam", "rmsprop"]),
        ParamSpec::double("momentum", 0.0, 0.9)
            .step(0.3)
            .active_when("opt", ["sgd", "rmsprop"]),
        ParamSpec::int("layers", 1, 3),
        ParamSpec::discrete("bs", [32.0, 64.0]),
    ])
    .unwrap();
    // (sgd: 4 + adam: 1 + rmsprop: 4) * 3 * 2
    let grid = GridSampler::new(5);
    assert_eq!(grid.grid_size(&space).unwrap(), 54);
    for sampler in [grid.clone(), grid.in_order()] {
        let mut study = Study::new(space.clone(), Direction::Minimize, sampler).unwrap();
        let trials = run(&mut study, 100);
        assert_eq!(trials.len(), 54);
        let mut seen: Vec<String> = trials.iter().map(|t| t.params.to_string()).collect();
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), 54, "no point twice");
        assert!(matches!(
            study.ask(),
            Err(Error::Exhausted { trials: 54, .. })
        ));
        assert!(matches!(study.ask_n(3), Err(Error::Exhausted { .. })));
    }
}

#[test]
fn grid_spaces_doubles_evenly_and_geometrically() {
    let space = SearchSpace::new([
        ParamSpec::double("lr", 1e-4, 1e-1).distribution(keelson_hpo::Distribution::LogUniform),
        ParamSpec::double("x", 0.0, 1.0),
    ])
    .unwrap();
    let grid = GridSampler::new(0)
        .in_order()
        .with_count("lr", 4)
        .with_default_count(3);
    let mut study = Study::new(space, Direction::Minimize, grid).unwrap();
    let trials = run(&mut study, 12);
    let mut lrs: Vec<f64> = trials.iter().map(|t| t.params.f64("lr").unwrap()).collect();
    lrs.sort_by(f64::total_cmp);
    lrs.dedup();
    let expected = [1e-4, 1e-3, 1e-2, 1e-1];
    assert_eq!(lrs.len(), 4);
    for (got, want) in lrs.iter().zip(expected) {
        assert!((got / want - 1.0).abs() < 1e-12, "{got} vs {want}");
    }
    let xs: Vec<f64> = trials
        .iter()
        .map(|t| t.params.f64("x").unwrap())
        .take(12)
        .step_by(4)
        .collect();
    assert_eq!(xs, [0.0, 0.5, 1.0]);
}

#[test]
fn grid_rejects_what_it_cannot_enumerate() {
    let space =
        SearchSpace::new([ParamSpec::double("x", 0.0, 1.0), ParamSpec::int("n", 0, 3)]).unwrap();
    let err = Study::new(space.clone(), Direction::Minimize, GridSampler::new(0)).unwrap_err();
    assert!(
        matches!(&err, Error::UnsupportedSpace { param, .. } if param == "x"),
        "{err}"
    );
    let err = GridSampler::new(0)
        .with_count("n", 3)
        .grid_size(&space)
        .unwrap_err();
    assert!(
        matches!(&err, Error::InvalidSetting { name, .. } if name == "counts.n"),
        "{err}"
    );
    let err = GridSampler::new(0)
        .with_count("x", 0)
        .grid_size(&space)
        .unwrap_err();
    assert!(err.to_string().contains("counts.x"), "{err}");
    let huge =
        SearchSpace::new((0..3).map(|i| ParamSpec::int(&format!("n{i}"), i64::MIN, i64::MAX)))
            .unwrap();
    let err = GridSampler::new(0).grid_size(&huge).unwrap_err();
    assert!(err.to_string().contains("2^64"), "{err}");
}

#[test]
fn sobol_skips_the_first_point_and_keeps_going_past_its_period() {
    let space = SearchSpace::new([ParamSpec::double("x", 0.0, 1.0)]).unwrap();
    let mut study = Study::new(space, Direction::Minimize, SobolSampler::new(3)).unwrap();
    // Points 1..=15 plus the 16th make a full 1/16 stratification only
    // together with point 0, which was skipped: 15 distinct slots of 16.
    let slots: std::collections::BTreeSet<u32> = run(&mut study, 15)
        .iter()
        .map(|t| (t.params.f64("x").unwrap() * 16.0) as u32)
        .collect();
    assert_eq!(slots.len(), 15);
    // Past 2^16 points the sequence restarts with a new scramble, still valid.
    let json = study
        .save()
        .unwrap()
        .replace("\"issued\":15", "\"issued\":65534");
    let mut late: Study<SobolSampler> = Study::restore(&json).unwrap();
    for _ in 0..4 {
        let x = late.ask().unwrap().params.f64("x").unwrap();
        assert!((0.0..1.0).contains(&x));
    }
}

#[test]
fn samplers_cover_many_dimensions() {
    // More than sobol_burley's 256 dimensions.
    let space =
        SearchSpace::new((0..300).map(|i| ParamSpec::double(&format!("x{i}"), -1.0, 1.0))).unwrap();
    let mut study = Study::new(space.clone(), Direction::Minimize, SobolSampler::new(0)).unwrap();
    let trials = run(&mut study, 8);
    // Coordinate 299 reuses dimension 43 with a shuffled index: points 1..=7
    // still fall in 7 different eighths of [-1, 1].
    let last: Vec<f64> = trials
        .iter()
        .map(|t| t.params.f64("x299").unwrap())
        .collect();
    let mut slots: Vec<u32> = last[..7].iter().map(|x| ((x + 1.0) * 4.0) as u32).collect();
    slots.sort();
    slots.dedup();
    assert_eq!(slots.len(), 7, "{last:?}");
    let first: Vec<f64> = trials
        .iter()
        .map(|t| t.params.f64("x43").unwrap())
        .collect();
    assert_ne!(first, last, "the padded dimensions are not copies");
}

// ---------------------------------------------------------------------------
// Hyperband and ASHA: the samplers that set a resource parameter.

/// Hyperband (once, and repeating) and ASHA over the resource `name`.
fn resource_samplers(seed: u64, name: &str) -> [AnySampler; 3] {
    [
        HyperbandSampler::new(seed, HyperbandOptions::new(name)).into(),
        HyperbandSampler::new(
            seed,
            HyperbandOptions {
                eta: 2,
                repeat: true,
                ..HyperbandOptions::new(name)
            },
        )
        .into(),
        AshaSampler::new(
            seed,
            AshaOptions {
                reduction_factor: 3,
                ..AshaOptions::new(name)
            },
        )
        .into(),
    ]
}

/// The resource values a sampler may set on `space`.
fn ladder(sampler: &AnySampler, space: &SearchSpace) -> Vec<Value> {
    match sampler {
        AnySampler::Hyperband(s) => s
            .brackets(space)
            .unwrap()
            .first()
            .unwrap()
            .iter()
            .map(|r| r.resource.clone())
            .collect(),
        AnySampler::Asha(s) => s.rungs(space).unwrap(),
        _ => unreachable!(),
    }
}

/// Drives a study with up to `parallel` trials running, telling the oldest
/// first: complete mostly, pruned every fifth, failed every seventh. When
/// the sampler has to wait, a running trial is told; when it is exhausted,
/// the running trials are told and the driver stops asking.
struct Driver {
    parallel: usize,
    running: VecDeque<Trial>,
    asked: Vec<Trial>,
    exhausted: bool,
}

impl Driver {
    fn new(parallel: usize) -> Driver {
        Driver {
            parallel,
            running: VecDeque::new(),
            asked: Vec::new(),
            exhausted: false,
        }
    }

    /// Runs until `n` trials have been asked (or the sampler ends).
    fn run<S: Sampler>(&mut self, study: &mut Study<S>, n: usize) {
        while self.asked.len() < n && !self.exhausted {
            if self.running.len() < self.parallel {
                match study.ask() {
                    Ok(trial) => {
                        self.asked.push(trial.clone());
                        self.running.push_back(trial);
                        continue;
                    }
                    Err(Error::Waiting { running, .. }) => {
                        assert!(running > 0, "waiting with nothing running");
                        assert!(
                            !self.running.is_empty(),
                            "waiting on trials the driver does not hold"
                        );
                    }
                    Err(Error::Exhausted { .. }) => self.exhausted = true,
                    Err(e) => panic!("{e}"),
                }
            }
            self.tell_oldest(study);
        }
    }

    fn tell_oldest<S: Sampler>(&mut self, study: &mut Study<S>) {
        let Some(trial) = self.running.pop_front() else {
            return;
        };
        let outcome = match trial.id % 35 {
            id if id % 7 == 6 => Outcome::Failed,
            id if id % 5 == 4 => Outcome::Pruned,
            _ => Outcome::Value(objective(&trial)),
        };
        study.tell(trial.id, outcome).unwrap();
    }
}

/// A random space with a resource parameter `epochs` appended: an int or a
/// double (sometimes stepped) with a positive min.
fn resource_space_specs() -> impl Strategy<Value = Vec<ParamSpec>> {
    let resource = prop_oneof![
        (1i64..20, 0i64..300, 1i64..4).prop_map(|(min, width, step)| {
            let p = ParamSpec::int("epochs", min, min + width);
            if width >= step {
                p.step(step as f64)
            } else {
                p
            }
        }),
        (0.01..5.0f64, 0.0..100.0f64, prop::option::of(1u32..50)).prop_map(
            |(min, width, steps)| {
                let p = ParamSpec::double("epochs", min, min + width);
                match steps {
                    Some(k) if width > 0.0 => p.step(width / f64::from(k)),
                    _ => p,
                }
            }
        ),
    ];
    (common::space_specs(), resource).prop_map(|(mut specs, resource)| {
        specs.push(resource);
        specs
    })
}

/// A study over the space, or `None` when the sampler rightly rejects it:
/// an error naming the resource parameter (rungs that collapse onto one
/// value of a coarse step).
fn resource_study(space: &SearchSpace, sampler: AnySampler, direction: Direction) -> Option<Study> {
    match Study::new(space.clone(), direction, sampler) {
        Ok(study) => Some(study),
        Err(Error::UnsupportedSpace { param, .. }) if param == "epochs" => None,
        Err(e) => panic!("{e}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn resource_samplers_stay_inside_and_on_the_ladder(
        specs in resource_space_specs(),
        seed in any::<u64>(),
        parallel in 1usize..6,
    ) {
        let space = common::space(&specs);
        for sampler in resource_samplers(seed, "epochs") {
            // Hyperband's later brackets start new configurations higher up.
            let starts_at_bottom = matches!(sampler, AnySampler::Asha(_));
            let Some(mut study) = resource_study(&space, sampler, Direction::Minimize) else {
                continue;
            };
            let rungs = ladder(study.sampler(), &space);
            let mut driver = Driver::new(parallel);
            driver.run(&mut study, 60);
            let mut configs: Vec<&Params> = Vec::new();
            for trial in &driver.asked {
                common::assert_inside(&specs, &trial.params);
                prop_assert!(space.check(&trial.params).is_ok(), "{}", trial.params);
                let resource = trial.params.get("epochs").unwrap();
                prop_assert!(rungs.contains(resource), "{resource} not in {rungs:?}");
                // With ASHA, anything above the lowest rung re-runs an earlier configuration.
                if starts_at_bottom && resource != &rungs[0] {
                    let earlier = configs.iter().any(|c| without_resource(c) == without_resource(&trial.params));
                    prop_assert!(earlier, "{} promotes nothing", trial.params);
                }
                configs.push(&trial.params);
            }
        }
    }

    #[test]
    fn resource_samplers_are_deterministic_and_restore_exactly(
        specs in resource_space_specs(),
        seed in any::<u64>(),
        parallel in 1usize..6,
        cut in 0usize..50,
    ) {
        let space = common::space(&specs);
        for sampler in resource_samplers(seed, "epochs") {
            let Some(mut whole) = resource_study(&space, sampler.clone(), Direction::Maximize) else {
                continue;
            };
            let mut expected = Driver::new(parallel);
            expected.run(&mut whole, 60);

            let mut again = resource_study(&space, sampler, Direction::Maximize).unwrap();
            let mut driver = Driver::new(parallel);
            // Saved with trials still running, restored, driven on.
            driver.run(&mut again, cut);
            let mut resumed: Study = Study::restore(&again.save().unwrap()).unwrap();
            driver.run(&mut resumed, 60);
            prop_assert_eq!(&driver.asked, &expected.asked);
            prop_assert_eq!(resumed.save().unwrap(), whole.save().unwrap());
        }
    }
}

fn without_resource(params: &Params) -> Vec<(String, Value)> {
    params
        .iter()
        .filter(|(name, _)| *name != "epochs")
        .map(|(name, v)| (name.to_owned(), v.clone()))
        .collect()
}

fn epochs_space(max: i64) -> SearchSpace {
    SearchSpace::new([
        ParamSpec::double("x", 0.0, 1.0),
        ParamSpec::categorical("opt", ["sgd", "adam"]),
        ParamSpec::int("epochs", 1, max),
    ])
    .unwrap()
}

/// Smaller is better; the resource helps, so promotions matter.
fn loss(params: &Params) -> f64 {
    let x = params.f64("x").unwrap();
    let epochs = params.i64("epochs").unwrap() as f64;
    (x - 0.3).powi(2) + 1.0 / epochs
}

#[test]
fn hyperband_runs_the_papers_brackets_then_ends() {
    let space = epochs_space(81);
    let sampler = HyperbandSampler::new(3, HyperbandOptions::new("epochs"));
    // Table 1 of Li et al. (2018): R = 81, eta = 3.
    let table: Vec<Vec<(u64, i64)>> = sampler
        .brackets(&space)
        .unwrap()
        .iter()
        .map(|b| {
            b.iter()
                .map(|r| (r.trials, r.resource.as_i64().unwrap()))
                .collect()
        })
        .collect();
    assert_eq!(
        table,
        [
            vec![(81, 1), (27, 3), (9, 9), (3, 27), (1, 81)],
            vec![(34, 3), (11, 9), (3, 27), (1, 81)],
            vec![(15, 9), (5, 27), (1, 81)],
            vec![(8, 27), (2, 81)],
            vec![(5, 81)],
        ]
    );
    let mut study = Study::new(space, Direction::Minimize, sampler).unwrap();
    let mut trials: Vec<(Params, f64)> = Vec::new();
    loop {
        match study.ask() {
            Ok(t) => {
                let v = loss(&t.params);
                study.tell(t.id, Outcome::Value(v)).unwrap();
                trials.push((t.params, v));
            }
            Err(Error::Exhausted { trials: 206, .. }) => break,
            Err(e) => panic!("{e}"),
        }
    }
    // Sequentially, the trials follow the table rung by rung, and each rung
    // re-runs the best of the one below, best first.
    let mut at = 0;
    for bracket in &table {
        let mut below: Vec<(Params, f64)> = Vec::new();
        for &(n, epochs) in bracket {
            let rung = &trials[at..at + n as usize];
            assert!(rung.iter().all(|(p, _)| p.i64("epochs").unwrap() == epochs));
            if !below.is_empty() {
                below.sort_by(|a, b| a.1.total_cmp(&b.1));
                let promoted: Vec<_> = rung.iter().map(|(p, _)| without_resource(p)).collect();
                let best: Vec<_> = below[..n as usize]
                    .iter()
                    .map(|(p, _)| without_resource(p))
                    .collect();
                assert_eq!(promoted, best);
            }
            below = rung.to_vec();
            at += n as usize;
        }
    }
    assert_eq!(at, 206);
}

#[test]
fn hyperband_starts_brackets_while_rungs_run_then_waits() {
    let space = epochs_space(81);
    let sampler = HyperbandSampler::new(3, HyperbandOptions::new("epochs"));
    let mut study = Study::new(space, Direction::Minimize, sampler).unwrap();
    // Every bracket's first rung: 81 + 34 + 15 + 8 + 5.
    let first = study.ask_n(500).unwrap();
    assert_eq!(first.len(), 143);
    let err = study.ask().unwrap_err();
    assert!(matches!(err, Error::Waiting { running: 143, .. }), "{err}");
    assert!(matches!(study.ask_n(3), Err(Error::Waiting { .. })));
    // Bracket s = 4 finishes its first rung; one failure is not promoted.
    study.tell(0, Outcome::Failed).unwrap();
    for t in &first[1..81] {
        study.tell(t.id, Outcome::Value(loss(&t.params))).unwrap();
    }
    let mut ranked: Vec<&Trial> = first[1..81].iter().collect();
    ranked.sort_by(|a, b| loss(&a.params).total_cmp(&loss(&b.params)));
    let promoted = study.ask_n(100).unwrap();
    assert_eq!(promoted.len(), 27);
    for (p, best) in promoted.iter().zip(&ranked) {
        assert_eq!(p.params.i64("epochs").unwrap(), 3);
        assert_eq!(without_resource(&p.params), without_resource(&best.params));
    }
}

#[test]
fn hyperband_ends_a_bracket_whose_rung_all_failed_and_can_repeat() {
    let space = epochs_space(9);
    for repeat in [false, true] {
        let options = HyperbandOptions {
            repeat,
            ..HyperbandOptions::new("epochs")
        };
        let mut study = Study::new(
            space.clone(),
            Direction::Minimize,
            HyperbandSampler::new(0, options),
        )
        .unwrap();
        let mut epochs = Vec::new();
        for _ in 0..40 {
            let t = match study.ask() {
                Ok(t) => t,
                Err(Error::Exhausted { .. }) => break,
                Err(e) => panic!("{e}"),
            };
            epochs.push(t.params.i64("epochs").unwrap());
            // The first bracket's 9 trials all fail: it ends there.
            let outcome = if t.id < 9 {
                Outcome::Failed
            } else {
                Outcome::Value(loss(&t.params))
            };
            study.tell(t.id, outcome).unwrap();
        }
        let once = [vec![1; 9], vec![3; 5], vec![9], vec![9; 3]].concat();
        if repeat {
            assert_eq!(epochs.len(), 40);
            assert_eq!(&epochs[..18], &once[..]);
            assert_eq!(&epochs[18..27], &[1; 9], "the next round starts over");
        } else {
            assert_eq!(epochs, once);
        }
    }
}

#[test]
fn asha_promotes_exactly_the_top_fraction_of_a_rung() {
    for direction in [Direction::Minimize, Direction::Maximize] {
        let options = AshaOptions {
            reduction_factor: 3,
            ..AshaOptions::new("epochs")
        };
        let mut study =
            Study::new(epochs_space(27), direction, AshaSampler::new(5, options)).unwrap();
        let first = study.ask_n(9).unwrap();
        let values = [5.0, 3.0, 8.0, 1.0, 9.0, 2.0, 7.0, 4.0, 6.0];
        for (t, v) in first.iter().zip(values) {
            assert_eq!(t.params.i64("epochs").unwrap(), 1);
            study.tell(t.id, Outcome::Value(v)).unwrap();
        }
        // floor(9 / 3) = 3 promotions, best first; then new configurations.
        let best: [usize; 3] = match direction {
            Direction::Minimize => [3, 5, 1],
            Direction::Maximize => [4, 2, 6],
        };
        let next = study.ask_n(5).unwrap();
        for (t, &from) in next.iter().zip(&best) {
            assert_eq!(t.params.i64("epochs").unwrap(), 3);
            assert_eq!(
                without_resource(&t.params),
                without_resource(&first[from].params)
            );
        }
        assert!(
            next[3..]
                .iter()
                .all(|t| t.params.i64("epochs").unwrap() == 1)
        );
        // Rung 1 now has 3 complete trials: its best goes to rung 2, once.
        for (t, v) in next[..3].iter().zip([0.5, 0.7, 0.6]) {
            study.tell(t.id, Outcome::Value(v)).unwrap();
        }
        let top = match direction {
            Direction::Minimize => &next[0],
            Direction::Maximize => &next[1],
        };
        let up = study.ask().unwrap();
        assert_eq!(up.params.i64("epochs").unwrap(), 9);
        assert_eq!(without_resource(&up.params), without_resource(&top.params));
        assert_eq!(study.ask().unwrap().params.i64("epochs").unwrap(), 1);
    }
}

#[test]
fn asha_never_waits_and_skips_failed_trials() {
    let options = AshaOptions {
        reduction_factor: 2,
        ..AshaOptions::new("epochs")
    };
    let mut study = Study::new(
        epochs_space(8),
        Direction::Minimize,
        AshaSampler::new(1, options),
    )
    .unwrap();
    // Nothing told: every ask starts a new configuration at the lowest rung.
    let running = study.ask_n(100).unwrap();
    assert_eq!(running.len(), 100);
    assert!(running.iter().all(|t| t.params.i64("epochs").unwrap() == 1));
    // Failed and pruned trials are not candidates: 2 complete of 4 told
    // give floor(2 / 2) = 1 promotion, the better one.
    study.tell(0, Outcome::Failed).unwrap();
    study.tell(1, Outcome::Pruned).unwrap();
    study.tell(2, Outcome::Value(2.0)).unwrap();
    study.tell(3, Outcome::Value(1.0)).unwrap();
    let up = study.ask().unwrap();
    assert_eq!(up.params.i64("epochs").unwrap(), 2);
    assert_eq!(
        without_resource(&up.params),
        without_resource(&running[3].params)
    );
    assert_eq!(study.ask().unwrap().params.i64("epochs").unwrap(), 1);
}

#[test]
fn resource_samplers_reject_spaces_naming_the_parameter_or_setting() {
    let unsupported = |space: SearchSpace, sampler: AnySampler, want: &str| {
        let err = Study::new(space, Direction::Minimize, sampler).unwrap_err();
        assert!(
            matches!(&err, Error::UnsupportedSpace { param, .. } if param == want),
            "{err}"
        );
    };
    let setting = |space: SearchSpace, sampler: AnySampler, want: &str| {
        let err = Study::new(space, Direction::Minimize, sampler).unwrap_err();
        assert!(
            matches!(&err, Error::InvalidSetting { name, .. } if name == want),
            "{err}"
        );
    };
    let x = || ParamSpec::double("x", 0.0, 1.0);
    let space = |resource: ParamSpec| {
        SearchSpace::new([x(), ParamSpec::categorical("c", ["a", "b"]), resource]).unwrap()
    };
    for sampler in resource_samplers(0, "epochs") {
        let name = sampler.name().to_owned();
        // Missing, a list, conditional, or rungs collapsing onto one value.
        unsupported(
            space(ParamSpec::int("steps", 1, 9)),
            sampler.clone(),
            "epochs",
        );
        unsupported(
            space(ParamSpec::discrete("epochs", [1.0, 3.0, 9.0])),
            sampler.clone(),
            "epochs",
        );
        unsupported(
            space(ParamSpec::categorical("epochs", ["1", "3"])),
            sampler.clone(),
            "epochs",
        );
        unsupported(
            space(ParamSpec::int("epochs", 1, 9).active_when("c", ["a"])),
            sampler.clone(),
            "epochs",
        );
        unsupported(
            space(ParamSpec::int("epochs", 1, 30).step(5.0)),
            sampler.clone(),
            "epochs",
        );
        // A min of 0 is no resource ladder without min_resource.
        setting(
            space(ParamSpec::int("epochs", 0, 9)),
            sampler.clone(),
            &format!("{name}.min_resource"),
        );
    }
    let eta = |s: AnySampler| {
        Study::new(
            space(ParamSpec::int("epochs", 1, 9)),
            Direction::Minimize,
            s,
        )
        .unwrap_err()
        .to_string()
    };
    let hb = |o: HyperbandOptions| AnySampler::from(HyperbandSampler::new(0, o));
    assert!(
        eta(hb(HyperbandOptions {
            eta: 1,
            ..HyperbandOptions::new("epochs")
        }))
        .contains("hyperband.eta")
    );
    setting(
        space(ParamSpec::int("epochs", 1, 9)),
        hb(HyperbandOptions {
            max_resource: Some(81.0),
            ..HyperbandOptions::new("epochs")
        }),
        "hyperband.max_resource",
    );
    setting(
        space(ParamSpec::int("epochs", 1, 9)),
        hb(HyperbandOptions {
            min_resource: Some(f64::NAN),
            ..HyperbandOptions::new("epochs")
        }),
        "hyperband.min_resource",
    );
    let asha = AnySampler::from(AshaSampler::new(
        0,
        AshaOptions {
            reduction_factor: 0,
            ..AshaOptions::new("epochs")
        },
    ));
    setting(
        space(ParamSpec::int("epochs", 1, 9)),
        asha,
        "asha.reduction_factor",
    );
    // With min_resource, a resource starting at 0 works.
    let ok = hb(HyperbandOptions {
        min_resource: Some(1.0),
        ..HyperbandOptions::new("epochs")
    });
    assert!(
        Study::new(
            space(ParamSpec::int("epochs", 0, 9)),
            Direction::Minimize,
            ok
        )
        .is_ok()
    );
}

#[test]
fn resource_samplers_serialize_under_their_names() {
    for (sampler, key) in
        resource_samplers(0, "epochs")
            .into_iter()
            .zip(["hyperband", "hyperband", "asha"])
    {
        let json = serde_json::to_value(&sampler).unwrap();
        assert!(json.get(key).is_some(), "{json}");
        assert_eq!(sampler.name(), key);
        let back: AnySampler = serde_json::from_value(json).unwrap();
        assert_eq!(back, sampler);
    }
}

#[test]
fn hyperband_is_exhausted_once_its_last_rungs_are_issued() {
    let sampler = HyperbandSampler::new(2, HyperbandOptions::new("epochs"));
    let mut study = Study::new(epochs_space(3), Direction::Minimize, sampler).unwrap();
    // R = 3: bracket s = 1 is 3 trials at 1 epoch then 1 at 3; s = 0 is 2 at 3.
    let first = study.ask_n(10).unwrap();
    let epochs: Vec<i64> = first
        .iter()
        .map(|t| t.params.i64("epochs").unwrap())
        .collect();
    assert_eq!(epochs, [1, 1, 1, 3, 3]);
    for t in &first[..3] {
        study.tell(t.id, Outcome::Value(loss(&t.params))).unwrap();
    }
    assert_eq!(study.ask().unwrap().params.i64("epochs").unwrap(), 3);
    // Trials 3, 4 and 5 still run, but nothing will follow them.
    assert!(matches!(
        study.ask(),
        Err(Error::Exhausted { trials: 6, .. })
    ));
}

#[test]
fn resource_samplers_do_not_count_suggestions_the_history_lacks() {
    // Driven without a study, no suggestion becomes a trial: nothing is
    // waited for, and every suggestion is a new configuration at the bottom.
    let space = epochs_space(9);
    for mut sampler in resource_samplers(4, "epochs") {
        let bottom = ladder(&sampler, &space)[0].clone();
        let ctx = keelson_hpo::Context::new(&space, &[], Direction::Minimize);
        let mut seen = Vec::new();
        for _ in 0..50 {
            let params = sampler.suggest(&ctx).unwrap().unwrap();
            assert_eq!(params.get("epochs"), Some(&bottom), "{}", sampler.name());
            seen.push(params);
        }
        seen.dedup();
        assert_eq!(seen.len(), 50, "{}", sampler.name());
    }
}
