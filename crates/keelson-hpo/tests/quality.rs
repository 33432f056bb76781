//! TPE and GP find better points than random search on standard functions, with
//! fixed seeds: the medians over several seeds are compared, so one lucky
//! or unlucky seed does not decide. No timing here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use keelson_hpo::samplers::TpeOptions;
use keelson_hpo::testfns::TestFunction;
use keelson_hpo::{AnySampler, Direction, GpSampler, Outcome, RandomSampler, Study, TpeSampler};

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
    // nearly all of a few.
    let mut adam = 0;
    let mut regrets = Vec::new();
    for seed in 0..20 {
        let (regret, params) = best("mixed_train_loss", multivariate(seed), 150);
        adam += usize::from(params.str("optimizer").unwrap() == "adam");
        regrets.push(regret);
    }
    assert!(adam >= 12, "adam best in {adam} of 20 runs: {regrets:?}");
    assert!(median(regrets.clone()) < 0.02, "{regrets:?}");
}

#[test]
fn gp_beats_random_on_branin() {
    let seeds = 0..3;
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
    // Random's median regret at 30 trials is about 1; GP's about 1e-3.
    assert!(gp < 0.02, "median regret {gp}");
    assert!(gp < random / 10.0, "{gp} vs random {random}");
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
