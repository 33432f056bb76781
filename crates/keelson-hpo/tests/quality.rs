//! TPE, GP and NSGA-II find better points than random search on standard
//! functions, with fixed seeds: the medians over several seeds are
//! compared, so one lucky or unlucky seed does not decide. No timing here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use keelson_hpo::samplers::{Crossover, GpOptions, GpOutput, Nsga2Options, TpeOptions};
use keelson_hpo::testfns::{TestFunction, zdt1};
use keelson_hpo::{
    AnySampler, Direction, GpSampler, Nsga2Sampler, Outcome, ParamSpec, RandomSampler, SearchSpace,
    Study, TpeSampler, pareto,
};

/// Best value after `n` sequential trials.
fn best(function: &str, sampler: AnySampler, n: usize) -> (f64, keelson_hpo::Params) {
    let f = TestFunction::by_name(function).unwrap();
    let mut study = Study::new(f.space().unwrap(), Direction::Minimize, sampler).unwrap();
    for _ in 0..n {
        let trial = study.ask().unwrap();
        let v = f.evaluate(&trial.params).unwrap();
        study.tell(trial.id, Outcome::Value(v)).unwrap();
    }
    let b = study.best_trial().unwrap();
    (b.value.unwrap() - f.optimum().value, b.params.clone())
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn multivariate(seed: u64) -> AnySampler {
    TpeSampler::with_options(
        seed,
        TpeOptions {
            multivariate: true,
            ..TpeOptions::default()
        },
    )
    .into()
}

#[test]
fn tpe_beats_random_on_branin() {
    let seeds = 0..5;
    let random = median(
        seeds
            .clone()
            .map(|s| best("branin", RandomSampler::new(s).into(), 100).0)
            .collect(),
    );
    for (name, make) in [
        (
            "univariate",
            (|s| TpeSampler::new(s).into()) as fn(u64) -> AnySampler,
        ),
        ("multivariate", multivariate),
    ] {
        let tpe = median(
            seeds
                .clone()
                .map(|s| best("branin", make(s), 100).0)
                .collect(),
        );
        // Random's median regret at 100 trials is about 0.5; TPE's below 0.1.
        assert!(tpe < 0.1, "{name}: median regret {tpe}");
        assert!(tpe < random / 3.0, "{name}: {tpe} vs random {random}");
    }
}

#[test]
fn multivariate_tpe_finds_adam_on_the_mixed_space() {
    // Faithful TPE sometimes settles on another optimizer's basin: Optuna
    // 5's own multivariate TPE ends 200 trials on a wrong optimizer in 15 of
    // 90 seeds of the anchor protocol (keelson: 16), and more often at 150
    // trials. So ask for most of twenty runs (13 find adam here), not
    // nearly all of a few, and a median regret (the 11th of 20: 0.027
    // here) well below random search's (0.16 at 200 trials on the
    // protocol's seeds).
    let mut adam = 0;
    let mut regrets = Vec::new();
    for seed in 0..20 {
        let (regret, params) = best("mixed_train_loss", multivariate(seed), 150);
        adam += usize::from(params.str("optimizer").unwrap() == "adam");
        regrets.push(regret);
    }
    assert!(adam >= 12, "adam best in {adam} of 20 runs: {regrets:?}");
    assert!(median(regrets.clone()) < 0.05, "{regrets:?}");
}

/// The hypervolume (reference point (1.1, 1.1)) of the Pareto front after
/// `n` sequential trials of ZDT1 in `d` dimensions.
fn zdt1_hypervolume(d: usize, sampler: AnySampler, n: usize) -> f64 {
    let names: Vec<String> = (0..d).map(|i| format!("x{i}")).collect();
    let space = SearchSpace::new(names.iter().map(|x| ParamSpec::double(x, 0.0, 1.0))).unwrap();
    let mut study = Study::multi(space, [Direction::Minimize; 2], sampler).unwrap();
    for _ in 0..n {
        let trial = study.ask().unwrap();
        let x: Vec<f64> = names.iter().map(|x| trial.params.f64(x).unwrap()).collect();
        study
            .tell(trial.id, Outcome::Values(zdt1(&x).to_vec()))
            .unwrap();
    }
    let front: Vec<&[f64]> = study
        .pareto_front()
        .iter()
        .map(|t| t.values.as_slice())
        .collect();
    pareto::hypervolume(&front, &[1.1, 1.1]).unwrap()
}

#[test]
fn nsga2_beats_random_on_zdt1() {
    // 500 trials (10 generations of 50) in 5 dimensions. The true front's
    // hypervolume is 0.771; random search's median is about 0.12.
    for crossover in [Crossover::Uniform, Crossover::Sbx { eta: 20.0 }] {
        let mut pairs = Vec::new();
        for seed in 0..5 {
            let nsga2 = Nsga2Sampler::with_options(
                seed,
                Nsga2Options {
                    crossover,
                    ..Nsga2Options::default()
                },
            );
            pairs.push((
                zdt1_hypervolume(5, nsga2.into(), 500),
                zdt1_hypervolume(5, RandomSampler::new(seed).into(), 500),
            ));
        }
        assert!(
            pairs.iter().all(|(nsga2, random)| nsga2 > random),
            "{crossover:?}: {pairs:?}"
        );
        let nsga2 = median(pairs.iter().map(|p| p.0).collect());
        let random = median(pairs.iter().map(|p| p.1).collect());
        assert!(
            nsga2 > 0.3 && nsga2 > 2.0 * random,
            "{crossover:?}: {pairs:?}"
        );
    }
}

#[test]
fn nsga2_with_one_objective_is_an_elitist_genetic_algorithm() {
    // A single-objective study works too: on a 5-dimensional sphere, 20
    // generations of 10 end far closer to the minimum than random search
    // (about 9x at the median).
    let names: Vec<String> = (0..5).map(|i| format!("x{i}")).collect();
    let space = SearchSpace::new(names.iter().map(|x| ParamSpec::double(x, 0.0, 1.0))).unwrap();
    let best = |sampler: AnySampler| {
        let mut study = Study::new(space.clone(), Direction::Minimize, sampler).unwrap();
        for _ in 0..200 {
            let t = study.ask().unwrap();
            let v: f64 = names
                .iter()
                .map(|x| (t.params.f64(x).unwrap() - 0.3).powi(2))
                .sum();
            study.tell(t.id, Outcome::Value(v)).unwrap();
        }
        study.best_trial().unwrap().value.unwrap()
    };
    let mut pairs = Vec::new();
    for seed in 0..5 {
        let options = Nsga2Options {
            population_size: 10,
            ..Nsga2Options::default()
        };
        pairs.push((
            best(Nsga2Sampler::with_options(seed, options).into()),
            best(RandomSampler::new(seed).into()),
        ));
    }
    assert!(
        pairs.iter().all(|(nsga2, random)| nsga2 < random),
        "{pairs:?}"
    );
    let nsga2 = median(pairs.iter().map(|p| p.0).collect());
    let random = median(pairs.iter().map(|p| p.1).collect());
    assert!(nsga2 < random / 3.0, "{pairs:?}");
}

#[test]
fn gp_beats_random_on_branin() {
    // Five seeds: GP's regret at 30 trials spreads over two orders of
    // magnitude (1e-4 to 0.05), too wide for the median of three.
    let seeds = 0..5;
    let regrets = |make: fn(u64) -> AnySampler| {
        median(
            seeds
                .clone()
                .map(|s| best("branin", make(s), 30).0)
                .collect(),
        )
    };
    let random = regrets(|s| RandomSampler::new(s).into());
    let gp = regrets(|s| GpSampler::new(s).into());
    // Random's median regret at 30 trials is about 1; GP's about 1e-3 to 1e-2.
    assert!(gp < 0.02, "median regret {gp}");
    assert!(gp < random / 10.0, "{gp} vs random {random}");
}

/// `gp`'s median regret on `function` after 50 trials over seeds 0 to 2,
/// with `options`.
fn gp_regret(function: &str, options: GpOptions) -> f64 {
    median(
        (0..3)
            .map(|s| {
                best(
                    function,
                    GpSampler::with_options(s, options.clone()).into(),
                    50,
                )
                .0
            })
            .collect(),
    )
}

#[test]
fn gps_quadratic_trend_finds_levys_global_basin() {
    // Levy's function in 4-d: a bowl of ripples. Without the trend the
    // model settles in a ripple near its first good point (median regret
    // about 0.7 at 50 trials over 20 seeds, random 4); with it, about 0.05.
    // The additive and local models are off on both sides, to see the
    // trend alone.
    let regrets = |quadratic_trend: bool| {
        gp_regret(
            "levy4",
            GpOptions {
                quadratic_trend,
                additive: false,
                local_model: false,
                ..GpOptions::default()
            },
        )
    };
    let (with, without) = (regrets(true), regrets(false));
    assert!(with < 0.3, "median regret {with}");
    assert!(
        with < without / 3.0,
        "{with} vs {without} without the trend"
    );
}

#[test]
fn gps_additive_model_finds_styblinski_tangs_global_corner() {
    // Styblinski–Tang in 4-d: each input has two wells, the global one
    // deeper by about 14, so a trial with one input in the wrong well has
    // regret 14. The joint model finds the 16 combinations only by trying
    // them (median regret 14 at 50 trials over 20 seeds); the additive one
    // learns each input's wells from every trial (median 0.01).
    let regrets = |additive: bool| {
        gp_regret(
            "styblinski_tang4",
            GpOptions {
                additive,
                ..GpOptions::default()
            },
        )
    };
    let (with, without) = (regrets(true), regrets(false));
    assert!(with < 1.0, "median regret {with}");
    assert!(
        with < without / 10.0,
        "{with} vs {without} without the additive model"
    );
}

#[test]
fn gps_output_choice_follows_michalewiczs_valleys() {
    // Michalewicz's valleys are a few thousandths deep below a flat
    // plateau: the log warp stretches their floors into spikes a smooth GP
    // cannot follow, while the values as they are fit well, and the
    // comparison by likelihood sees it. Median regret at 50 trials, seeds
    // 0 to 2: about 7e-5 with the warp always, 1.4e-5 with the choice (over
    // seeds 0 to 19, 2.5e-4 and 2.4e-5).
    let regrets = |output: GpOutput| {
        gp_regret(
            "michalewicz3",
            GpOptions {
                output,
                ..GpOptions::default()
            },
        )
    };
    let (choose, log) = (regrets(GpOutput::Choose), regrets(GpOutput::Log));
    assert!(choose < 1e-4, "median regret {choose}");
    assert!(choose < log / 3.0, "{choose} vs {log} with the warp always");
}

#[test]
fn gp_refines_ackleys_funnel_under_a_fitted_noise() {
    // Ackley's ripples, which 50 trials cannot resolve, are fitted as
    // noise; EI against the lowest value then asks to beat the ripples'
    // luckiest draw and leaves the funnel it found, while against the
    // lowest posterior mean it refines it. Median regret at 50 trials,
    // seeds 0 to 2: 2.2 against the lowest value, 0.1 now (random 10).
    let regret = gp_regret("ackley2", GpOptions::default());
    assert!(regret < 0.5, "median regret {regret}");
}

#[test]
fn gps_local_model_refines_griewanks_ripples() {
    // Griewank's bowl is 1,200 wide and its ripples 6 to 9: the global
    // model fits them as noise, and the trials nearest the best one,
    // modelled alone, resolve the ripple it is in. Median regret at 50
    // trials, seeds 0 to 2: 0.38 without the local model, 0.016 with it
    // (random 2.6).
    let with = gp_regret("griewank2", GpOptions::default());
    let without = gp_regret(
        "griewank2",
        GpOptions {
            local_model: false,
            ..GpOptions::default()
        },
    );
    assert!(with < 0.1, "median regret {with}");
    assert!(
        with < without / 3.0,
        "{with} vs {without} without the local model"
    );
}

#[test]
fn gp_maximizes_too() {
    // The negated Branin, maximized: the same optimum, from above.
    let f = TestFunction::by_name("branin").unwrap();
    let mut study = Study::new(f.space().unwrap(), Direction::Maximize, GpSampler::new(4)).unwrap();
    for _ in 0..30 {
        let trial = study.ask().unwrap();
        let v = -f.evaluate(&trial.params).unwrap();
        study.tell(trial.id, Outcome::Value(v)).unwrap();
    }
    let best = study.best_trial().unwrap().value.unwrap();
    assert!(-best - f.optimum().value < 0.02, "best {best}");
}
