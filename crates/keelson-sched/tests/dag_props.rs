//! Property tests of the DAG engine: random DAGs (acyclic by construction:
//! a step depends only on earlier ones) driven by random start, completion,
//! failure and clock sequences always finish, each step starting only once
//! its dependencies are final, retries honouring their count and backoff,
//! and skips following the trigger rules. Adding a back edge always makes
//! a cycle that the build refuses, naming it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use keelson_sched::Error;
use keelson_sched::dag::{Dag, Retry, Run, RunStatus, SkipReason, Step, StepState};
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

#[derive(Clone, Debug)]
struct Spec {
    deps: Vec<Vec<usize>>,
    always: Vec<bool>,
    retries: Vec<Option<Retry>>,
}

fn name(i: usize) -> String {
    format!("s{i:02}")
}

fn spec() -> impl Strategy<Value = Spec> {
    (1usize..14).prop_flat_map(|n| {
        let deps = (0..n)
            .map(|i| {
                proptest::collection::vec(0..i.max(1), 0..=i.min(3))
                    .prop_map(move |d| if i == 0 { Vec::new() } else { d })
            })
            .collect::<Vec<_>>();
        let retry = proptest::option::of((0u32..3, 0u64..20, 1.0f64..3.0, 0u64..50).prop_map(
            |(r, b, f, m)| Retry {
                max_retries: r,
                backoff_ms: b,
                factor: f,
                max_backoff_ms: m,
            },
        ));
        (
            deps,
            proptest::collection::vec(proptest::bool::weighted(0.2), n),
            proptest::collection::vec(retry, n),
        )
            .prop_map(|(deps, always, retries)| Spec {
                deps,
                always,
                retries,
            })
    })
}

fn build(spec: &Spec) -> Vec<Step> {
    (0..spec.deps.len())
        .map(|i| {
            let mut step = Step::task(name(i), "comp", "spec");
            for d in &spec.deps[i] {
                step = step.after(name(*d));
            }
            if spec.always[i] {
                step = step.run_always();
            }
            if let Some(r) = spec.retries[i] {
                step = step.with_retry(r);
            }
            step
        })
        .collect()
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Final {
    Ok,
    Failed,
    Skipped,
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_dags_run_to_completion_in_dependency_order(spec in spec(), seed in any::<u64>()) {
        let n = spec.deps.len();
        let mut run = Run::new(Dag::new(build(&spec)).unwrap(), BTreeMap::new());
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut finals: BTreeMap<usize, Final> = BTreeMap::new();
        let mut attempts = vec![0u32; n];
        let mut failed_at: BTreeMap<usize, u64> = BTreeMap::new();
        let mut running: Vec<String> = Vec::new();
        let mut now = 0u64;
        let index = |id: &str| id[1..].parse::<usize>().unwrap();
        for _ in 0..5_000 {
            for s in run.steps() {
                let i = index(&s.id);
                let f = match s.state {
                    StepState::Succeeded => Final::Ok,
                    StepState::Failed(_) => Final::Failed,
                    StepState::Skipped(reason) => {
                        // A skip is right only when the trigger asks for it.
                        let blocked = spec.deps[i].iter().any(|d| finals.get(d) != Some(&Final::Ok));
                        prop_assert!(!spec.always[i] && blocked, "{} skipped: {reason:?}", s.id);
                        Final::Skipped
                    }
                    _ => continue,
                };
                finals.insert(i, f);
            }
            if run.status() != RunStatus::Running {
                break;
            }
            for r in run.ready(now) {
                let i = index(&r.id);
                if running.contains(&r.id) {
                    continue;
                }
                // Dependencies are final before a step may start …
                for d in &spec.deps[i] {
                    prop_assert!(finals.contains_key(d), "{} ready before {}", r.id, name(*d));
                    if !spec.always[i] {
                        prop_assert_eq!(finals[d], Final::Ok);
                    }
                }
                // … and a retry waits for its backoff.
                prop_assert_eq!(r.attempt, attempts[i] + 1);
                if let (Some(t), Some(retry)) = (failed_at.get(&i), spec.retries[i]) {
                    prop_assert!(now >= t + retry.delay_ms(attempts[i]), "{} retried too early", r.id);
                }
                if rng.random_bool(0.7) {
                    run.started(&r.id).unwrap();
                    running.push(r.id);
                }
            }
            running.retain(|id| {
                if !rng.random_bool(0.6) {
                    return true;
                }
                let i = index(id);
                attempts[i] += 1;
                if rng.random_bool(0.3) {
                    run.failed(id, "random failure").unwrap();
                    failed_at.insert(i, now);
                } else {
                    run.completed(id, BTreeMap::new()).unwrap();
                }
                false
            });
            now += rng.random_range(0..15);
        }
        prop_assert_ne!(run.status(), RunStatus::Running, "run did not finish");
        for s in run.steps() {
            let i = index(&s.id);
            let max = spec.retries[i].map_or(1, |r| r.max_retries + 1);
            prop_assert!(attempts[i] <= max, "{} ran {} times", s.id, attempts[i]);
            if let StepState::Failed(_) = s.state {
                prop_assert_eq!(attempts[i], max);
            }
            if let StepState::Skipped(SkipReason::UpstreamFailed(dep)) = &s.state {
                prop_assert!(spec.deps[i].iter().any(|d| &name(*d) == dep));
            }
        }
        let failed = run.steps().iter().any(|s| matches!(s.state, StepState::Failed(_)));
        prop_assert_eq!(run.status() == RunStatus::Failed, failed);
    }

    #[test]
    fn a_back_edge_is_always_a_cycle(spec in spec(), pick in any::<prop::sample::Index>()) {
        let edges: Vec<(usize, usize)> = spec
            .deps
            .iter()
            .enumerate()
            .flat_map(|(i, ds)| ds.iter().map(move |d| (i, *d)))
            .collect();
        prop_assume!(!edges.is_empty());
        let (later, earlier) = edges[pick.index(edges.len())];
        let mut steps = build(&spec);
        steps[earlier] = steps[earlier].clone().after(name(later));
        let err = Dag::new(steps.clone()).unwrap_err();
        let Error::Cycle { steps: cycle } = err else {
            return Err(TestCaseError::fail("not a cycle error"));
        };
        prop_assert!(cycle.len() >= 2);
        prop_assert_eq!(cycle.first(), cycle.last());
        // Each name on the cycle depends on the next one.
        let by_name: BTreeMap<String, Step> = steps.into_iter().map(|s| (s.name.clone(), s)).collect();
        for pair in cycle.windows(2) {
            prop_assert!(by_name[&pair[0]].dependencies().contains(pair[1].as_str()), "{:?}", cycle);
        }
    }
}
