//! Ask + tell per sampler on branin with a history of 100 and 1,000 trials
//! (the GP, whose ask refits its model, at a history of 50).
#![allow(missing_docs, clippy::unwrap_used)]

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use keelson_hpo::testfns::TestFunction;
use keelson_hpo::{AnySampler, Direction, Outcome, Study, protocol};

fn ask_tell(c: &mut Criterion) {
    let branin = TestFunction::by_name("branin").unwrap();
    let mut group = c.benchmark_group("ask_tell_branin");
    for name in protocol::SAMPLERS {
        let histories: &[usize] = if name == "gp" { &[50] } else { &[100, 1000] };
        for &history in histories {
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

criterion_group!(benches, ask_tell);
criterion_main!(benches);
