//! Population based training through its public API: truncation selection,
//! exploit copying checkpoint handles, explore staying inside the space,
//! failures, determinism, exact resume, and a toy problem where the
//! population improves.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use keelson_hpo::pbt::{Checkpoint, Pbt, PbtOptions, PbtTrial};
use keelson_hpo::{Direction, Error, ParamSpec, SearchSpace, TrialState};
use proptest::prelude::*;

fn options(n_population: usize, truncation_threshold: f64) -> PbtOptions {
    PbtOptions {
        n_population,
        truncation_threshold,
        resample_probability: None,
    }
}

fn space() -> SearchSpace {
    SearchSpace::new([
        ParamSpec::double("lr", 1e-4, 1.0).distribution(keelson_hpo::Distribution::LogUniform),
        ParamSpec::double("wd", 0.0, 0.1),
    ])
    .unwrap()
}

fn ckpt(id: u64) -> Checkpoint {
    Checkpoint::new(format!("ckpt/{id}"))
}

/// Whether `x` is `from` times 0.8 or 1.2, clamped to `[lo, hi]`.
fn perturbed(x: f64, from: f64, lo: f64, hi: f64) -> bool {
    [0.8, 1.2]
        .iter()
        .any(|f| (x - (from * f).clamp(lo, hi)).abs() <= 1e-12 * from.abs().max(1e-300))
}

#[test]
fn the_bottom_copies_a_top_members_checkpoint_and_explores() {
    for direction in [Direction::Maximize, Direction::Minimize] {
        let mut pbt = Pbt::new(space(), direction, options(5, 0.2), 3).unwrap();
        let first: Vec<PbtTrial> = (0..5).map(|_| pbt.ask().unwrap()).collect();
        for t in &first {
            assert_eq!((t.generation, &t.parent, t.parent_trial), (0, &None, None));
            pbt.tell(t.id, t.id as f64, ckpt(t.id)).unwrap();
        }
        // Ranked by value, the bottom 20% (one member) exploits the top one.
        let (worst, best) = match direction {
            Direction::Maximize => (0, 4),
            Direction::Minimize => (4, 0),
        };
        let next: Vec<PbtTrial> = (0..5).map(|_| pbt.ask().unwrap()).collect();
        let members: Vec<usize> = next.iter().map(|t| t.member).collect();
        assert_eq!(members, [0, 1, 2, 3, 4], "round robin");
        for t in &next {
            assert_eq!(t.generation, 1);
            if t.member == worst {
                assert_eq!(t.parent, Some(ckpt(best as u64)));
                assert_eq!(t.parent_trial, Some(best as u64));
                let top = &first[best].params;
                assert!(perturbed(
                    t.params.f64("lr").unwrap(),
                    top.f64("lr").unwrap(),
                    1e-4,
                    1.0
                ));
                assert!(perturbed(
                    t.params.f64("wd").unwrap(),
                    top.f64("wd").unwrap(),
                    0.0,
                    0.1
                ));
            } else {
                // Everyone else goes on from its own checkpoint, unchanged.
                assert_eq!(t.parent, Some(ckpt(t.member as u64)));
                assert_eq!(t.params, first[t.member].params);
            }
        }
    }
}

#[test]
fn the_truncation_share_sets_how_many_exploit() {
    for (threshold, exploiting) in [(0.0, 0), (0.2, 2), (0.3, 3), (0.5, 5), (1.0, 5)] {
        let mut pbt = Pbt::new(space(), Direction::Maximize, options(10, threshold), 9).unwrap();
        for _ in 0..10 {
            let t = pbt.ask().unwrap();
            pbt.tell(t.id, t.id as f64, ckpt(t.id)).unwrap();
        }
        let next: Vec<PbtTrial> = (0..10).map(|_| pbt.ask().unwrap()).collect();
        let copied: Vec<usize> = next
            .iter()
            .filter(|t| t.parent_trial != Some(t.member as u64))
            .map(|t| t.member)
            .collect();
        assert_eq!(copied, (0..exploiting).collect::<Vec<_>>(), "{threshold}");
        // Copies come from the top members (ids 10 - exploiting..10).
        for t in next.iter().filter(|t| copied.contains(&t.member)) {
            assert!(t.parent_trial.unwrap() >= (10 - exploiting.max(1)) as u64);
        }
    }
}

#[test]
fn a_failed_member_is_reseeded_from_the_top() {
    let mut pbt = Pbt::new(space(), Direction::Minimize, options(5, 0.2), 1).unwrap();
    let first: Vec<PbtTrial> = (0..5).map(|_| pbt.ask().unwrap()).collect();
    // Member 0 fails before anyone has a value: it starts over from scratch.
    pbt.fail(0, "out of memory").unwrap();
    let again = pbt.ask().unwrap();
    assert_eq!(
        (again.member, again.generation, again.parent_trial),
        (0, 0, None)
    );
    assert_ne!(again.params, first[0].params);
    for t in &first[1..] {
        pbt.tell(t.id, t.id as f64, ckpt(t.id)).unwrap();
    }
    // Now it fails again, and the population has values: once the others
    // (waiting longer) are served, it copies the best.
    pbt.fail(again.id, "diverged").unwrap();
    let others: Vec<usize> = (0..4).map(|_| pbt.ask().unwrap().member).collect();
    assert_eq!(others, [1, 2, 3, 4]);
    let reseeded = pbt.ask().unwrap();
    assert_eq!(reseeded.member, 0);
    assert_eq!(reseeded.parent_trial, Some(1));
    assert_eq!(reseeded.parent, Some(ckpt(1)));
    assert_eq!(reseeded.generation, 1);
    assert_eq!(pbt.trials()[0].failure.as_deref(), Some("out of memory"));
}

#[test]
fn every_member_training_means_waiting() {
    let mut pbt = Pbt::new(space(), Direction::Minimize, options(6, 0.2), 0).unwrap();
    for _ in 0..6 {
        pbt.ask().unwrap();
    }
    let err = pbt.ask().unwrap_err();
    assert!(matches!(err, Error::Waiting { running: 6, .. }), "{err}");
    pbt.tell(4, 1.0, ckpt(4)).unwrap();
    assert_eq!(pbt.ask().unwrap().member, 4);
    assert!(matches!(pbt.ask(), Err(Error::Waiting { .. })));
}

#[test]
fn bad_options_and_misuse_are_errors_naming_them() {
    for (bad, name) in [
        (options(4, 0.2), "pbt.n_population"),
        (options(5, -0.1), "pbt.truncation_threshold"),
        (options(5, f64::NAN), "pbt.truncation_threshold"),
        (
            PbtOptions {
                resample_probability: Some(1.5),
                ..PbtOptions::default()
            },
            "pbt.resample_probability",
        ),
    ] {
        let err = Pbt::new(space(), Direction::Minimize, bad, 0).unwrap_err();
        assert!(
            matches!(&err, Error::InvalidSetting { name: n, .. } if n == name),
            "{err}"
        );
    }
    let mut pbt = Pbt::new(space(), Direction::Minimize, PbtOptions::default(), 0).unwrap();
    let t = pbt.ask().unwrap();
    assert!(matches!(
        pbt.tell(1, 0.0, ckpt(1)),
        Err(Error::UnknownTrial { id: 1 })
    ));
    assert!(matches!(
        pbt.tell(t.id, f64::INFINITY, ckpt(0)),
        Err(Error::NonFiniteValue { .. })
    ));
    pbt.fail(t.id, "x").unwrap();
    assert!(matches!(
        pbt.tell(t.id, 1.0, ckpt(0)),
        Err(Error::TrialFinished {
            state: TrialState::Failed,
            ..
        })
    ));
}

#[test]
fn restore_rejects_inconsistent_states() {
    let mut pbt = Pbt::new(space(), Direction::Minimize, options(5, 0.2), 0).unwrap();
    for _ in 0..7 {
        let t = pbt.ask().unwrap();
        pbt.tell(t.id, t.id as f64, ckpt(t.id)).unwrap();
    }
    pbt.ask().unwrap();
    let json = pbt.save().unwrap();
    assert_eq!(Pbt::restore(&json).unwrap(), pbt);
    let tampered = [
        json.replace("\"format\":1", "\"format\":2"),
        json.replace("\"id\":3", "\"id\":4"),
        json.replace("\"member\":2", "\"member\":7"),
        json.replace("\"n_population\":5", "\"n_population\":3"),
        json.replace("\"checkpoint\":\"ckpt/2\"", "\"checkpoint\":\"ckpt/x\""),
        json.replace("\"parent_trial\":0", "\"parent_trial\":9"),
        json.replace("\"value\":3.0", "\"value\":null"),
        json.replace("\"state\":\"complete\"", "\"state\":\"pruned\""),
        json.replace("\"state\":\"complete\"", "\"state\":\"running\""),
        json.replace("\"generation\":1", "\"generation\":2"),
        json[..json.len() / 2].to_owned(),
    ];
    for bad in tampered {
        assert_ne!(bad, json);
        let err = Pbt::restore(&bad).unwrap_err();
        assert!(
            matches!(err, Error::Restore(_) | Error::InvalidSetting { .. }),
            "{bad}: {err:?}"
        );
    }
}

/// Asks and tells `n` trials with up to `parallel` running, telling the
/// oldest first; every ninth fails. The value and the checkpoint depend on
/// the parameters and the parent, as training would.
fn drive(
    pbt: &mut Pbt,
    running: &mut Vec<PbtTrial>,
    asked: &mut Vec<PbtTrial>,
    n: usize,
    parallel: usize,
) {
    while asked.len() < n {
        if running.len() < parallel {
            match pbt.ask() {
                Ok(t) => {
                    asked.push(t.clone());
                    running.push(t);
                    continue;
                }
                Err(Error::Waiting { .. }) => {}
                Err(e) => panic!("{e}"),
            }
        }
        let t = running.remove(0);
        if t.id % 9 == 8 {
            pbt.fail(t.id, "every ninth").unwrap();
            continue;
        }
        let before: f64 = t
            .parent
            .as_ref()
            .map_or(0.0, |c| c.as_str().parse().unwrap());
        let gain: f64 = t
            .params
            .iter()
            .filter_map(|(_, v)| v.as_f64())
            .map(|x| x.abs().ln_1p())
            .sum();
        let after = before + 1.0 / (1.0 + gain);
        pbt.tell(t.id, after, after.to_string().into()).unwrap();
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn explored_parameters_stay_inside_the_space_and_resume_exactly(
        specs in common::space_specs(),
        seed in any::<u64>(),
        threshold in 0.0..=1.0f64,
        resample in prop::option::of(0.0..=1.0f64),
        parallel in 1usize..8,
        cut in 0usize..80,
    ) {
        let space = common::space(&specs);
        let options = PbtOptions { n_population: 6, truncation_threshold: threshold, resample_probability: resample };
        let mut whole = Pbt::new(space.clone(), Direction::Maximize, options.clone(), seed).unwrap();
        let (mut running, mut expected) = (Vec::new(), Vec::new());
        drive(&mut whole, &mut running, &mut expected, 80, parallel);
        for t in &expected {
            common::assert_inside(&specs, &t.params);
            prop_assert!(space.check(&t.params).is_ok(), "{}", t.params);
        }
        // The same seed and tells give the same trials; a restore mid-run
        // (with members training) changes nothing.
        let mut first = Pbt::new(space, Direction::Maximize, options, seed).unwrap();
        let (mut running, mut got) = (Vec::new(), Vec::new());
        drive(&mut first, &mut running, &mut got, cut, parallel);
        let mut resumed = Pbt::restore(&first.save().unwrap()).unwrap();
        prop_assert_eq!(&resumed, &first);
        drive(&mut resumed, &mut running, &mut got, 80, parallel);
        prop_assert_eq!(&got, &expected);
        prop_assert_eq!(resumed.save().unwrap(), whole.save().unwrap());
    }
}

/// The toy problem of Jaderberg et al. (2017), section 4: maximize
/// `Q(θ) = 1.2 - |θ|²` by gradient steps on the surrogate
/// `1.2 - (h0 θ0² + h1 θ1²)`, where the hyperparameters `h` scale the
/// steps. The checkpoint is θ, carried as text. Returns the population's
/// final values, one per member.
fn toy(threshold: f64, seed: u64, rounds: usize) -> Vec<f64> {
    let space = SearchSpace::new([
        ParamSpec::double("h0", 0.0, 1.0),
        ParamSpec::double("h1", 0.0, 1.0),
    ])
    .unwrap();
    let mut pbt = Pbt::new(space, Direction::Maximize, options(10, threshold), seed).unwrap();
    let mut last = vec![f64::NAN; 10];
    for _ in 0..rounds * 10 {
        let t = pbt.ask().unwrap();
        let mut theta: Vec<f64> = match &t.parent {
            Some(c) => c.as_str().split(',').map(|x| x.parse().unwrap()).collect(),
            None => vec![0.9, 0.9],
        };
        for (x, h) in theta.iter_mut().zip(["h0", "h1"]) {
            *x *= 1.0 - 0.1 * t.params.f64(h).unwrap();
        }
        let q = 1.2 - theta.iter().map(|x| x * x).sum::<f64>();
        last[t.member] = q;
        pbt.tell(t.id, q, format!("{},{}", theta[0], theta[1]).into())
            .unwrap();
    }
    last
}

#[test]
fn the_population_improves_on_the_papers_toy_problem() {
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let max = |v: &[f64]| v.iter().copied().fold(f64::MIN, f64::max);
    for seed in 0..5 {
        let start = toy(0.2, seed, 1);
        let pbt = toy(0.2, seed, 20);
        // Without exploit and explore: the same members trained alone.
        let alone = toy(0.0, seed, 20);
        assert!(
            mean(&pbt) > mean(&alone) + 0.02,
            "seed {seed}: {pbt:?} vs {alone:?}"
        );
        assert!(max(&pbt) >= max(&alone), "seed {seed}");
        assert!(mean(&pbt) > mean(&start));
        // Every member ends near the best, not only the lucky ones.
        assert!(
            pbt.iter().all(|q| max(&pbt) - q < 0.05),
            "seed {seed}: {pbt:?}"
        );
    }
}
