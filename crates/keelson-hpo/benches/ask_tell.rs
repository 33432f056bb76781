//! Ask + tell per sampler on branin with a history of 100 and 1,000 trials
//! (the GP, whose ask refits its model, at a history of 50);
//! Hyperband and ASHA on branin with an `epochs` resource parameter added;
//! random and NSGA-II on ZDT1 (two objectives, 10 dimensions) with 125 and
//! 1,000.
#![allow(missing_docs, clippy::unwrap_used)]

use criterion::{BenchmarkGroup, BenchmarkId, Criterion, criterion_group, criterion_main};
use keelson_hpo::samplers::{AshaOptions, HyperbandOptions};
use keelson_hpo::testfns::{TestFunction, zdt1};
use keelson_hpo::{
    AnySampler, AshaSampler, Direction, HyperbandSampler, Nsga2Sampler, Outcome, ParamSpec,
    RandomSampler, SearchSpace, Study, protocol,
};

/// Fills a study with `history` told trials, then measures one ask + tell
/// on a copy per iteration, so the history stays at `history`.
fn bench(
    group: &mut BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    space: &SearchSpace,
    sampler: AnySampler,
    history: usize,
) {
    let branin = TestFunction::by_name("branin").unwrap();
    let mut study = Study::new(space.clone(), Direction::Minimize, sampler).unwrap();
    for _ in 0..history {
        let t = study.ask().unwrap();
        let v = branin.evaluate(&t.params).unwrap();
        study.tell(t.id, Outcome::Value(v)).unwrap();
    }
    group.bench_function(BenchmarkId::new(name, history), |b| {
        b.iter_batched(
            || study.clone(),
            |mut s| {
                let t = s.ask().unwrap();
                s.tell(t.id, Outcome::Value(1.0)).unwrap();
                s
            },
            criterion::BatchSize::LargeInput,
        )
    });
}

fn ask_tell(c: &mut Criterion) {
    let space = TestFunction::by_name("branin").unwrap().space().unwrap();
    let mut group = c.benchmark_group("ask_tell_branin");
    for name in protocol::SAMPLERS {
        let histories: &[usize] = if name == "gp" { &[50] } else { &[100, 1000] };
        for &history in histories {
            let sampler = protocol::sampler(name, 0).unwrap();
            bench(&mut group, name, &space, sampler, history);
        }
    }
    group.finish();

    let mut params = space.to_spec().parameters;
    params.push(ParamSpec::int("epochs", 1, 81));
    let space = SearchSpace::new(params).unwrap();
    let mut group = c.benchmark_group("ask_tell_branin_epochs");
    for history in [100, 1000] {
        let hyperband = HyperbandOptions {
            repeat: true,
            ..HyperbandOptions::new("epochs")
        };
        let sampler = HyperbandSampler::new(0, hyperband).into();
        bench(&mut group, "hyperband", &space, sampler, history);
        let sampler = AshaSampler::new(0, AshaOptions::new("epochs")).into();
        bench(&mut group, "asha", &space, sampler, history);
    }
    group.finish();
}

fn ask_tell_multi(c: &mut Criterion) {
    let names: Vec<String> = (0..10).map(|i| format!("x{i}")).collect();
    let space = SearchSpace::new(names.iter().map(|x| ParamSpec::double(x, 0.0, 1.0))).unwrap();
    let mut group = c.benchmark_group("ask_tell_zdt1");
    for (name, make) in [
        (
            "random",
            (|| RandomSampler::new(0).into()) as fn() -> AnySampler,
        ),
        ("nsga2", || Nsga2Sampler::new(0).into()),
    ] {
        // With NSGA-II's 50 trials per generation, the ask after 125 trials
        // breeds from cached parents; the one after 1,000 first selects the
        // next parents from 100 candidates (once per generation).
        for history in [125, 1000] {
            let mut study = Study::multi(space.clone(), [Direction::Minimize; 2], make()).unwrap();
            for _ in 0..history {
                let t = study.ask().unwrap();
                let x: Vec<f64> = names.iter().map(|x| t.params.f64(x).unwrap()).collect();
                study
                    .tell(t.id, Outcome::Values(zdt1(&x).to_vec()))
                    .unwrap();
            }
            group.bench_function(BenchmarkId::new(name, history), |b| {
                b.iter_batched(
                    || study.clone(),
                    |mut s| {
                        let t = s.ask().unwrap();
                        s.tell(t.id, Outcome::Values(vec![1.0, 1.0])).unwrap();
                        s
                    },
                    criterion::BatchSize::LargeInput,
                )
            });
        }
    }
    group.finish();
}

criterion_group!(benches, ask_tell, ask_tell_multi);
criterion_main!(benches);
