//! CMA-ES through the public API: it converges, restarts, handles integers
//! by margin, recognizes its trials whatever their order, and rejects what
//! it cannot search with errors that name the parameter or setting. The
//! generic properties (inside the space, determinism, save/restore) are in
//! `samplers.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};

use keelson_hpo::samplers::{CmaEsOptions, Restart};
use keelson_hpo::{
    CmaEsSampler, Context, Direction, Error, Outcome, ParamSpec, Params, Sampler, SearchSpace,
    Study, TrialRecord, TrialState, Value,
};

fn with(seed: u64, options: CmaEsOptions) -> CmaEsSampler {
    CmaEsSampler::with_options(seed, options)
}

fn box_space(n: usize, lo: f64, hi: f64) -> SearchSpace {
    SearchSpace::new((0..n).map(|i| ParamSpec::double(&format!("x{i}"), lo, hi))).unwrap()
}

fn xs(params: &Params, n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| params.f64(&format!("x{i}")).unwrap())
        .collect()
}

/// Runs `n` sequential trials; returns the study.
fn optimize(
    space: SearchSpace,
    direction: Direction,
    sampler: CmaEsSampler,
    n: usize,
    f: impl Fn(&Params) -> f64,
) -> Study<CmaEsSampler> {
    let mut study = Study::new(space, direction, sampler).unwrap();
    for _ in 0..n {
        let trial = study.ask().unwrap();
        study
            .tell(trial.id, Outcome::Value(f(&trial.params)))
            .unwrap();
    }
    study
}

/// A shifted, ill-conditioned ellipsoid (condition 1e3) with its minimum 0
/// inside [-5, 5]^4.
fn ellipsoid(p: &Params) -> f64 {
    let centre = [1.0, -2.0, 0.5, 3.0];
    xs(p, 4)
        .iter()
        .zip(centre)
        .enumerate()
        .map(|(i, (x, c))| 10f64.powf(i as f64) * (x - c).powi(2))
        .sum()
}

#[test]
fn converges_on_an_ellipsoid_in_every_variant() {
    // Learning-rate adaptation trades speed on easy functions for
    // robustness: about twice the trials here, as in the paper's library.
    let variants = [
        ("default", CmaEsOptions::default(), 1200),
        (
            "separable",
            CmaEsOptions {
                separable: true,
                ..CmaEsOptions::default()
            },
            1200,
        ),
        (
            "lr_adapt",
            CmaEsOptions {
                lr_adapt: true,
                ..CmaEsOptions::default()
            },
            2500,
        ),
    ];
    for (name, options, trials) in variants {
        for direction in [Direction::Minimize, Direction::Maximize] {
            let sign = match direction {
                Direction::Minimize => 1.0,
                Direction::Maximize => -1.0,
            };
            let study = optimize(
                box_space(4, -5.0, 5.0),
                direction,
                with(3, options.clone()),
                trials,
                |p| sign * ellipsoid(p),
            );
            let best = study.best_trial().unwrap();
            let regret = sign * best.value.unwrap();
            assert!(regret < 1e-8, "{name} {direction:?}: regret {regret}");
            assert!(study.sampler().generations() >= 100, "{name}");
        }
    }
}

/// Rastrigin in two dimensions: a grid of local minima around 0.
fn rastrigin(p: &Params) -> f64 {
    xs(p, 2)
        .iter()
        .map(|x| x * x - 10.0 * (2.0 * std::f64::consts::PI * x).cos() + 10.0)
        .sum()
}

#[test]
fn ipop_restarts_with_a_doubled_population_on_a_multimodal_function() {
    let ipop = CmaEsOptions {
        restart: Restart::Ipop { inc_popsize: 2 },
        ..CmaEsOptions::default()
    };
    let study = optimize(
        box_space(2, -5.12, 5.12),
        Direction::Minimize,
        with(1, ipop),
        3000,
        rastrigin,
    );
    let s = study.sampler();
    let restarts = s.restarts();
    assert!(restarts >= 2, "{restarts} restarts");
    // λ₀ = 4 + ⌊3 ln 2⌋ = 6, doubled at each restart.
    assert_eq!(s.population_size(), Some(6 << restarts));
    let best = study.best_trial().unwrap().value.unwrap();
    assert!(best < 1.0 + 1e-6, "a deep basin at least, got {best}");

    // Without restarts the run stays in the basin it converged to.
    let plain = optimize(
        box_space(2, -5.12, 5.12),
        Direction::Minimize,
        CmaEsSampler::new(1),
        3000,
        rastrigin,
    );
    assert_eq!(plain.sampler().restarts(), 0);
    assert_eq!(plain.sampler().population_size(), Some(6));
}

#[test]
fn bipop_alternates_population_sizes() {
    let bipop = CmaEsOptions {
        restart: Restart::Bipop { inc_popsize: 2 },
        ..CmaEsOptions::default()
    };
    let mut study = Study::new(
        box_space(2, -5.12, 5.12),
        Direction::Minimize,
        with(2, bipop),
    )
    .unwrap();
    let mut sizes = BTreeSet::new();
    for _ in 0..4000 {
        let trial = study.ask().unwrap();
        sizes.insert(study.sampler().population_size().unwrap());
        study
            .tell(trial.id, Outcome::Value(rastrigin(&trial.params)))
            .unwrap();
    }
    assert!(study.sampler().restarts() >= 2);
    assert!(sizes.contains(&12), "a large-regime run: {sizes:?}");
    assert!(sizes.len() >= 3, "large and small regimes: {sizes:?}");
}

#[test]
fn the_margin_keeps_an_integer_exploring() {
    // The integer matters a million times less than the doubles: by the
    // time it decides the ranking, plain CMA-ES has shrunk its spread far
    // below one integer step and the integer stays wherever it was then.
    let space = SearchSpace::new([
        ParamSpec::double("x0", -1.0, 1.0),
        ParamSpec::double("x1", -1.0, 1.0),
        ParamSpec::double("x2", -1.0, 1.0),
        ParamSpec::int("n", 0, 20),
    ])
    .unwrap();
    let f = |p: &Params| {
        xs(p, 3).iter().map(|x| x * x).sum::<f64>() + 1e-6 * (p.f64("n").unwrap() - 17.0).abs()
    };
    let late_n = |study: &Study<CmaEsSampler>| -> BTreeSet<i64> {
        study.trials()[900..]
            .iter()
            .map(|t| t.params.i64("n").unwrap())
            .collect()
    };
    let plain = CmaEsOptions {
        with_margin: false,
        ..CmaEsOptions::default()
    };
    let mut frozen_elsewhere = 0;
    for seed in 0..4 {
        let study = optimize(
            space.clone(),
            Direction::Minimize,
            CmaEsSampler::new(seed),
            1000,
            f,
        );
        let best = study.best_trial().unwrap();
        assert_eq!(
            best.params.i64("n").unwrap(),
            17,
            "seed {seed}: {}",
            best.params
        );
        assert!(
            late_n(&study).len() >= 2,
            "seed {seed}: the margin keeps trying neighbours"
        );

        let study = optimize(
            space.clone(),
            Direction::Minimize,
            with(seed, plain.clone()),
            1000,
            f,
        );
        let late = late_n(&study);
        frozen_elsewhere += usize::from(late.len() == 1 && !late.contains(&17));
    }
    assert!(
        frozen_elsewhere >= 2,
        "without the margin the integer freezes ({frozen_elsewhere} of 4)"
    );
}

#[test]
fn lists_and_steps_are_searched_in_value_order() {
    // The list is not sorted: CMA-ES must still find 8 between 4 and 16.
    let space = SearchSpace::new([
        ParamSpec::discrete("bs", [16.0, 2.0, 8.0, 4.0, 32.0]),
        ParamSpec::double("m", 0.0, 1.0).step(0.1),
        ParamSpec::double("x", -1.0, 1.0),
    ])
    .unwrap();
    let f = |p: &Params| {
        (p.f64("bs").unwrap().log2() - 3.0).powi(2)
            + (p.f64("m").unwrap() - 0.7).powi(2)
            + p.f64("x").unwrap().powi(2)
    };
    for seed in 0..3 {
        let study = optimize(
            space.clone(),
            Direction::Minimize,
            CmaEsSampler::new(seed),
            400,
            f,
        );
        let best = &study.best_trial().unwrap().params;
        assert_eq!(best.f64("bs").unwrap(), 8.0, "seed {seed}: {best}");
        assert!(
            (best.f64("m").unwrap() - 0.7).abs() < 1e-9,
            "seed {seed}: {best}"
        );
    }
}

#[test]
fn starts_at_x0() {
    let space = box_space(2, 0.0, 10.0);
    let mut x0 = Params::new();
    x0.insert("x0", Value::Double(9.0));
    x0.insert("x1", Value::Double(1.0));
    let options = CmaEsOptions {
        x0: Some(x0),
        sigma0: 0.01,
        ..CmaEsOptions::default()
    };
    let mut study = Study::new(space, Direction::Minimize, with(0, options)).unwrap();
    for trial in study.ask_n(6).unwrap() {
        let x = xs(&trial.params, 2);
        assert!(
            (x[0] - 9.0).abs() < 0.5 && (x[1] - 1.0).abs() < 0.5,
            "{x:?}"
        );
    }
}

/// What `Study` would record for a suggestion.
fn record(id: usize, params: Params, value: Option<f64>) -> TrialRecord {
    TrialRecord {
        id: id as u64,
        params,
        state: if value.is_some() {
            TrialState::Complete
        } else {
            TrialState::Running
        },
        value,
        values: Vec::new(),
        intermediate: BTreeMap::new(),
        failure: None,
    }
}

#[test]
fn trials_are_recognized_by_their_values_in_any_order() {
    // Two samplers with the same seed: one told in the usual way, the other
    // through a history where its trials come in reverse order with a
    // foreign trial among them. Both must update the same way.
    let space = box_space(3, -1.0, 1.0);
    let f = |p: &Params| xs(p, 3).iter().map(|x| (x - 0.3).powi(2)).sum::<f64>();
    let (mut usual, mut shuffled) = (CmaEsSampler::new(4), CmaEsSampler::new(4));
    let mut usual_trials: Vec<TrialRecord> = Vec::new();
    let mut shuffled_trials: Vec<TrialRecord> = Vec::new();
    for _generation in 0..3 {
        let mut batch = Vec::new();
        for _ in 0..7 {
            // λ = 4 + ⌊3 ln 3⌋ = 7.
            let a = usual
                .suggest(&Context::new(&space, &usual_trials, Direction::Minimize))
                .unwrap()
                .unwrap();
            let b = shuffled
                .suggest(&Context::new(&space, &shuffled_trials, Direction::Minimize))
                .unwrap()
                .unwrap();
            assert_eq!(a, b);
            usual_trials.push(record(usual_trials.len(), a.clone(), Some(f(&a))));
            batch.push(b);
        }
        let mut foreign = Params::new();
        for i in 0..3 {
            foreign.insert(format!("x{i}"), Value::Double(0.3));
        }
        shuffled_trials.push(record(shuffled_trials.len(), foreign, Some(0.0)));
        for p in batch.into_iter().rev() {
            let value = f(&p);
            shuffled_trials.push(record(shuffled_trials.len(), p, Some(value)));
        }
    }
    let next = |s: &mut CmaEsSampler, trials: &[TrialRecord]| {
        s.suggest(&Context::new(&space, trials, Direction::Minimize))
            .unwrap()
            .unwrap()
    };
    assert_eq!(
        next(&mut usual, &usual_trials),
        next(&mut shuffled, &shuffled_trials)
    );
    assert_eq!(usual.generations(), 3);
    assert_eq!(shuffled.generations(), 3);
}

#[test]
fn rejects_categorical_and_conditional_parameters_naming_them() {
    let categorical = SearchSpace::new([
        ParamSpec::double("lr", 1e-4, 1e-1),
        ParamSpec::categorical("opt", ["sgd", "adam"]),
    ])
    .unwrap();
    let err = Study::new(categorical, Direction::Minimize, CmaEsSampler::new(0)).unwrap_err();
    assert!(
        matches!(&err, Error::UnsupportedSpace { sampler, param, .. } if sampler == "cmaes" && param == "opt"),
        "{err}"
    );
    assert!(err.to_string().contains("categorical"), "{err}");

    // Declared before its parent, the conditional parameter is named first.
    let conditional = SearchSpace::new([
        ParamSpec::double("momentum", 0.0, 0.9).active_when("opt", ["sgd"]),
        ParamSpec::categorical("opt", ["sgd", "adam"]),
    ])
    .unwrap();
    let err = Study::new(conditional, Direction::Minimize, CmaEsSampler::new(0)).unwrap_err();
    assert!(
        matches!(&err, Error::UnsupportedSpace { param, .. } if param == "momentum"),
        "{err}"
    );
    assert!(err.to_string().contains("conditional"), "{err}");
}

#[test]
fn rejects_bad_options_naming_them() {
    let space = box_space(2, 0.0, 1.0);
    let mut outside = Params::new();
    outside.insert("x0", Value::Double(2.0));
    outside.insert("x1", Value::Double(0.5));
    let bad = [
        (
            CmaEsOptions {
                sigma0: 0.0,
                ..CmaEsOptions::default()
            },
            "cmaes.sigma0",
        ),
        (
            CmaEsOptions {
                sigma0: -0.1,
                ..CmaEsOptions::default()
            },
            "cmaes.sigma0",
        ),
        (
            CmaEsOptions {
                sigma0: f64::NAN,
                ..CmaEsOptions::default()
            },
            "cmaes.sigma0",
        ),
        (
            CmaEsOptions {
                popsize: Some(1),
                ..CmaEsOptions::default()
            },
            "cmaes.popsize",
        ),
        (
            CmaEsOptions {
                popsize: Some(0),
                ..CmaEsOptions::default()
            },
            "cmaes.popsize",
        ),
        (
            CmaEsOptions {
                restart: Restart::Ipop { inc_popsize: 0 },
                ..CmaEsOptions::default()
            },
            "cmaes.restart.inc_popsize",
        ),
        (
            CmaEsOptions {
                separable: true,
                lr_adapt: true,
                ..CmaEsOptions::default()
            },
            "cmaes.lr_adapt",
        ),
        (
            CmaEsOptions {
                x0: Some(outside),
                ..CmaEsOptions::default()
            },
            "cmaes.x0",
        ),
    ];
    for (options, name) in bad {
        let err = Study::new(space.clone(), Direction::Minimize, with(0, options)).unwrap_err();
        assert!(
            matches!(&err, Error::InvalidSetting { name: n, .. } if n == name),
            "{name}: {err}"
        );
    }
}

#[test]
fn rejects_a_saved_state_that_does_not_fit() {
    let space = box_space(2, 0.0, 1.0);
    let mut study = Study::new(space, Direction::Minimize, CmaEsSampler::new(0)).unwrap();
    let t = study.ask().unwrap();
    study.tell(t.id, Outcome::Value(1.0)).unwrap();
    let json = study.save().unwrap();
    // A third coordinate in the mean.
    let broken = json.replacen("\"mean\":[", "\"mean\":[0.5,", 1);
    assert_ne!(broken, json);
    let err = Study::<CmaEsSampler>::restore(&broken).unwrap_err();
    assert!(
        matches!(&err, Error::Restore(m) if m.contains("cmaes")),
        "{err}"
    );
}
