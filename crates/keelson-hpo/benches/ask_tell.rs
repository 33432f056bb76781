//! Ask + tell per sampler on branin with a history of 100 and 1,000 trials,
//! and on ZDT1 (two objectives, 10 dimensions) with 125 and 1,000.
#![allow(missing_docs, clippy::unwrap_used)]

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use keelson_hpo::testfns::{TestFunction, zdt1};
use keelson_hpo::{
    AnySampler, Direction, Nsga2Sampler, Outcome, ParamSpec, RandomSampler, SearchSpace, Study,
    protocol,
};

fn ask_tell(c: &mut Criterion) {
    let branin = TestFunction::by_name("branin").unwrap();
    let mut group = c.benchmark_group("ask_tell_branin");
    for name in protocol::SAMPLERS {
        for history in [100, 1000] {
            let sampler: AnySampler = protocol::sampler(name, 0).unwrap().unwrap();
            let mut study =
                Study::new(branin.space().unwrap(), Direction::Minimize, sampler).unwrap();
            for _ in 0..history {
                let t = study.ask().unwrap();
                let v = branin.evaluate(&t.params).unwrap();
                study.tell(t.id, Outcome::Value(v)).unwrap();
            }
            // Each iteration asks and tells on a copy, so the history stays at `history`.
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
