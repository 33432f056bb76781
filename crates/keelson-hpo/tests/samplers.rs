//! Every sampler, through the public API: suggestions always lie inside the
//! space (steps, integers, log bounds, conditional activity), the same seed
//! gives the same suggestions, and a saved and restored study continues
//! exactly as the uninterrupted one.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use keelson_hpo::samplers::{GpOptions, TpeOptions};
use keelson_hpo::{
    AnySampler, Direction, Error, GpSampler, GridSampler, Outcome, ParamSpec, RandomSampler,
    Sampler, SearchSpace, SobolSampler, Study, TpeSampler, Trial,
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

/// GP with few startup trials and a small acquisition search, so that the
/// tests' short runs (in a debug build) exercise the model cheaply.
fn gp(seed: u64, n_startup_trials: usize) -> GpSampler {
    GpSampler::with_options(
        seed,
        GpOptions {
            n_startup_trials,
            n_candidates: 16,
            n_local_searches: 2,
        },
    )
}

fn samplers(seed: u64) -> [AnySampler; 7] {
    [
        RandomSampler::new(seed).into(),
        SobolSampler::new(seed).into(),
        GridSampler::new(seed).with_default_count(4).into(),
        tpe(seed, false, false, false).into(),
        tpe(seed, true, false, true).into(),
        tpe(seed, true, true, false).into(),
        gp(seed, 3).into(),
    ]
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
            let mut study = Study::new(space.clone(), Direction::Minimize, sampler).unwrap();
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
        let space = common::space(&specs);
        for (a, b) in samplers(seed).into_iter().zip(samplers(seed)) {
            let n = budget(&a, 25);
            let mut first = Study::new(space.clone(), Direction::Minimize, a).unwrap();
            let mut second = Study::new(space.clone(), Direction::Minimize, b).unwrap();
            prop_assert_eq!(run(&mut first, n), run(&mut second, n));
        }
    }

    #[test]
    fn restored_study_continues_exactly(specs in common::space_specs(), seed in any::<u64>(), cut in 0usize..15) {
        let space = common::space(&specs);
        for sampler in samplers(seed) {
            let n = budget(&sampler, 30);
            let mut whole = Study::new(space.clone(), Direction::Maximize, sampler.clone()).unwrap();
            let expected = run(&mut whole, n);

            let mut first = Study::new(space.clone(), Direction::Maximize, sampler).unwrap();
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
    ])
    .unwrap();
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
    let space = SearchSpace::new(specs.clone()).unwrap();
    for (multivariate, group, liar) in [
        (false, false, false),
        (false, false, true),
        (true, false, false),
        (true, true, true),
    ] {
        let sampler = tpe(5, multivariate, group, liar);
        let mut whole = Study::new(space.clone(), Direction::Minimize, sampler.clone()).unwrap();
        let trials = run_parallel(&mut whole, 60, 4);
        for t in &trials {
            common::assert_inside(&specs, &t.params);
        }
        let mut again = Study::new(space.clone(), Direction::Minimize, sampler).unwrap();
        assert_eq!(run_parallel(&mut again, 60, 4), trials, "deterministic");
        let json = again.save().unwrap();
        let mut resumed: Study<TpeSampler> = Study::restore(&json).unwrap();
        assert_eq!(resumed.ask().unwrap(), again.ask().unwrap());
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
    let space = SearchSpace::new(specs.clone()).unwrap();
    for direction in [Direction::Minimize, Direction::Maximize] {
        let mut whole = Study::new(space.clone(), direction, gp(5, 4)).unwrap();
        let trials = run_parallel(&mut whole, 24, 3);
        for t in &trials {
            common::assert_inside(&specs, &t.params);
        }
        let mut again = Study::new(space.clone(), direction, gp(5, 4)).unwrap();
        assert_eq!(run_parallel(&mut again, 24, 3), trials, "deterministic");
        let json = again.save().unwrap();
        let mut resumed: Study<GpSampler> = Study::restore(&json).unwrap();
        assert_eq!(resumed.ask().unwrap(), again.ask().unwrap());
    }
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
