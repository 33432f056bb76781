//! Scenarios of the pipeline DAG engine through its public API: build
//! errors, retries and backoff, caching and staleness, loops and their
//! parallelism, conditions (decided and undecidable), exit handlers, group
//! outputs, and the lineage events.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use keelson_sched::Error;
use keelson_sched::cel::Expr;
use keelson_sched::dag::{
    CachePolicy, Dag, DagOutput, ExecutionState, FanOut, Input, Items, Retry, Run, RunStatus,
    SkipReason, Step, StepState, Value,
};
use serde_json::json;

fn task(name: &str) -> Step {
    Step::task(name, format!("comp-{name}"), format!("image: {name}"))
}

fn outputs(pairs: &[(&str, Value)]) -> BTreeMap<String, Value> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}

fn ids(run: &mut Run, now: u64) -> Vec<String> {
    run.ready(now).into_iter().map(|r| r.id).collect()
}

fn state(run: &Run, id: &str) -> StepState {
    run.steps().into_iter().find(|s| s.id == id).unwrap().state
}

#[test]
fn build_errors_name_the_steps() {
    let cycle = Dag::new([
        task("a").after("c"),
        task("b").after("a"),
        task("c").after("b"),
        task("d"),
    ]);
    assert_eq!(
        cycle.unwrap_err(),
        Error::Cycle {
            steps: vec!["a".into(), "c".into(), "b".into(), "a".into()]
        }
    );
    let self_loop = Dag::new([task("a").with_input("x", Input::output("a", "y"))]).unwrap_err();
    assert_eq!(self_loop.to_string(), "dependency cycle: a → a");
    let missing = Dag::new([task("a").with_input("x", Input::output("ghost", "y"))]).unwrap_err();
    assert_eq!(
        missing,
        Error::MissingStep {
            step: "a".into(),
            missing: "ghost".into()
        }
    );
    let twice = Dag::new([task("a"), task("a")]).unwrap_err();
    assert_eq!(twice.to_string(), "step a: defined twice");
    assert!(
        Dag::new([task("a/b")])
            .unwrap_err()
            .to_string()
            .contains("a/b")
    );
    let no_items = task("a").for_each(FanOut {
        items: Items::Input("list".into()),
        item_input: "item".into(),
        parallelism: None,
    });
    assert!(
        Dag::new([no_items])
            .unwrap_err()
            .to_string()
            .contains("input list")
    );
    let out = Dag::new([task("a")])
        .unwrap()
        .with_outputs(BTreeMap::from([(
            "o".to_owned(),
            DagOutput {
                sources: vec![("b".into(), "x".into())],
            },
        )]));
    assert!(matches!(out.unwrap_err(), Error::MissingStep { missing, .. } if missing == "b"));
}

#[test]
fn retries_wait_for_an_exponential_backoff_capped_at_its_maximum() {
    let retry = Retry {
        max_retries: 3,
        backoff_ms: 100,
        factor: 3.0,
        max_backoff_ms: 500,
    };
    assert_eq!(
        [1, 2, 3, 4].map(|a| retry.delay_ms(a)),
        [100, 300, 500, 500]
    );
    let dag = Dag::new([
        task("flaky").with_retry(retry),
        task("after").after("flaky"),
    ])
    .unwrap();
    let mut run = Run::new(dag, BTreeMap::new());
    assert_eq!(ids(&mut run, 0), ["flaky"]);
    run.started("flaky").unwrap();
    run.failed("flaky", "boom").unwrap();
    // The backoff counts from the first `ready` after the failure (t = 1000).
    assert!(run.ready(1_000).is_empty());
    assert_eq!(state(&run, "flaky"), StepState::Backoff(2));
    assert!(run.ready(1_099).is_empty());
    let again = run.ready(1_100);
    assert_eq!((again[0].id.as_str(), again[0].attempt), ("flaky", 2));
    run.failed("flaky", "boom").unwrap();
    assert!(run.ready(2_000).is_empty());
    assert!(run.ready(2_299).is_empty());
    assert_eq!(run.ready(2_300)[0].attempt, 3);
    run.failed("flaky", "boom").unwrap();
    assert_eq!(run.ready(3_000).len(), 0);
    assert_eq!(run.ready(3_500)[0].attempt, 4);
    run.failed("flaky", "boom for good").unwrap();
    assert_eq!(
        state(&run, "flaky"),
        StepState::Failed("boom for good".into())
    );
    assert_eq!(
        state(&run, "after"),
        StepState::Skipped(SkipReason::UpstreamFailed("flaky".into()))
    );
    assert_eq!(run.status(), RunStatus::Failed);
    let events = run.take_events();
    assert_eq!(events.len(), 4);
    assert!(events.iter().all(|e| e.state == ExecutionState::Failed));
    assert_eq!(
        events.iter().map(|e| e.attempt).collect::<Vec<_>>(),
        [1, 2, 3, 4]
    );
}

#[test]
fn a_retry_that_succeeds_lets_the_run_continue() {
    let retry = Retry {
        max_retries: 1,
        backoff_ms: 0,
        factor: 2.0,
        max_backoff_ms: 0,
    };
    let dag = Dag::new([task("a").with_retry(retry), task("b").after("a")]).unwrap();
    let mut run = Run::new(dag, BTreeMap::new());
    run.ready(0);
    run.failed("a", "transient").unwrap();
    assert_eq!(run.ready(0)[0].attempt, 2);
    run.completed("a", BTreeMap::new()).unwrap();
    assert_eq!(ids(&mut run, 0), ["b"]);
    run.completed("b", BTreeMap::new()).unwrap();
    assert_eq!(run.status(), RunStatus::Succeeded);
}

#[test]
fn cached_steps_reuse_fresh_outputs_for_the_same_spec_and_inputs() {
    let cached = |lr: f64| {
        Dag::new([
            task("train")
                .with_input("lr", Input::constant(lr))
                .with_cache(CachePolicy {
                    max_staleness_ms: Some(60_000),
                }),
            task("eval").with_input("model", Input::output("train", "model")),
        ])
        .unwrap()
    };
    let mut first = Run::new(cached(0.1), BTreeMap::new());
    let ready = first.ready(1_000);
    assert!(ready[0].cache_key.is_some());
    first
        .completed("train", outputs(&[("model", Value::artifact("s3://m/1"))]))
        .unwrap();
    let cache = first.into_cache();
    assert_eq!(cache.len(), 1);

    // Same spec and inputs, 30 s later: train comes from the cache.
    let mut second = Run::new(cached(0.1), BTreeMap::new()).with_cache(cache.clone());
    let ready = second.ready(31_000);
    assert_eq!(ready.len(), 1);
    assert_eq!(ready[0].id, "eval");
    assert_eq!(ready[0].inputs["model"], Value::artifact("s3://m/1"));
    assert_eq!(state(&second, "train"), StepState::Cached);
    assert_eq!(second.take_events()[0].state, ExecutionState::Cached);

    // Too stale, or other inputs: train runs again.
    let mut stale = Run::new(cached(0.1), BTreeMap::new()).with_cache(cache.clone());
    assert_eq!(ids(&mut stale, 61_001), ["train"]);
    let mut other = Run::new(cached(0.2), BTreeMap::new()).with_cache(cache);
    assert_eq!(ids(&mut other, 2_000), ["train"]);
}

#[test]
fn a_loop_runs_at_most_its_parallelism_and_collects_outputs_in_order() {
    let body = task("square").with_input("x", Input::parent("unused"));
    let dag = Dag::new([
        body.for_each(FanOut {
            items: Items::Raw(vec![json!(1), json!(2), json!(3), json!(4), json!(5)]),
            item_input: "x".into(),
            parallelism: Some(2),
        }),
        task("sum").with_input("all", Input::output("square", "y")),
    ])
    .unwrap();
    let mut run = Run::new(dag, BTreeMap::new());
    assert_eq!(ids(&mut run, 0), ["square[0]", "square[1]"]);
    let first = run.ready(0);
    assert_eq!(first[1].inputs["x"], Value::parameter(2));
    run.started("square[0]").unwrap();
    run.started("square[1]").unwrap();
    assert!(run.ready(1).is_empty());
    // Finishing out of order frees a slot for the next item.
    run.completed("square[1]", outputs(&[("y", Value::parameter(4))]))
        .unwrap();
    assert_eq!(ids(&mut run, 2), ["square[2]"]);
    run.completed("square[0]", outputs(&[("y", Value::parameter(1))]))
        .unwrap();
    for (i, y) in [(2, 9), (3, 16), (4, 25)] {
        let id = format!("square[{i}]");
        assert!(ids(&mut run, 3).contains(&id), "{id}");
        run.completed(&id, outputs(&[("y", Value::parameter(y))]))
            .unwrap();
    }
    let sum = run.ready(4);
    assert_eq!(
        sum[0].inputs["all"],
        Value::parameter(json!([1, 4, 9, 16, 25]))
    );
    let loop_view = run.steps().into_iter().find(|s| s.id == "square").unwrap();
    assert_eq!(loop_view.iterations, Some(5));
}

#[test]
fn conditions_skip_run_or_wait_for_a_decision() {
    let side = |expected: &str| {
        Expr::parse(&format!("inputs.parameter_values['side'] == '{expected}'")).unwrap()
    };
    let dag = Dag::new([
        task("flip"),
        task("heads")
            .with_input("side", Input::output("flip", "side"))
            .when(side("heads")),
        task("tails")
            .with_input("side", Input::output("flip", "side"))
            .when(side("tails")),
        task("unknown")
            .with_input("side", Input::output("flip", "missing"))
            .when(side("heads")),
        task("last").after("heads").after("tails"),
    ])
    .unwrap();
    let mut run = Run::new(dag, BTreeMap::new());
    run.ready(0);
    run.completed("flip", outputs(&[("side", Value::parameter("heads"))]))
        .unwrap();
    let mut ready = ids(&mut run, 1);
    ready.sort();
    assert_eq!(ready, ["heads"]);
    assert_eq!(
        state(&run, "tails"),
        StepState::Skipped(SkipReason::Condition)
    );
    let undecided = run.undecided();
    assert_eq!(undecided.len(), 1);
    assert_eq!(undecided[0].id, "unknown");
    assert!(
        undecided[0].reason.contains("'side'"),
        "{}",
        undecided[0].reason
    );
    run.decide("unknown", false).unwrap();
    assert_eq!(
        state(&run, "unknown"),
        StepState::Skipped(SkipReason::Condition)
    );
    assert!(run.decide("unknown", true).is_err());
    run.completed("heads", BTreeMap::new()).unwrap();
    // A step after a skipped one still runs (the skip is not a failure).
    assert_eq!(ids(&mut run, 2), ["last"]);
}

#[test]
fn an_exit_handler_runs_after_a_failed_group_and_sees_its_status() {
    let guarded = Dag::new([task("work"), task("more").after("work")]).unwrap();
    let dag = Dag::new([
        Step::group("exit-handler-1", guarded),
        task("cleanup")
            .after("exit-handler-1")
            .with_input("status", Input::Status("exit-handler-1".into()))
            .run_always(),
    ])
    .unwrap();
    let mut run = Run::new(dag, BTreeMap::new());
    assert_eq!(ids(&mut run, 0), ["exit-handler-1/work"]);
    run.started("exit-handler-1/work").unwrap();
    run.failed("exit-handler-1/work", "disk full").unwrap();
    let ready = run.ready(1);
    assert_eq!(ready[0].id, "cleanup");
    let Value::Parameter(status) = &ready[0].inputs["status"] else {
        panic!("status is a parameter")
    };
    assert_eq!(status["state"], "FAILED");
    assert!(
        status["error"]["message"]
            .as_str()
            .unwrap()
            .contains("disk full")
    );
    assert_eq!(
        state(&run, "exit-handler-1/more"),
        StepState::Skipped(SkipReason::UpstreamFailed("work".into()))
    );
    run.completed("cleanup", BTreeMap::new()).unwrap();
    assert_eq!(run.status(), RunStatus::Failed);
}

#[test]
fn group_outputs_take_the_branch_that_ran_and_inputs_flow_through_scopes() {
    let branch = |name: &str, expected: &str| {
        Step::group(
            name,
            Dag::new([task(&format!("{name}-print")).with_input("msg", Input::parent("msg"))])
                .unwrap()
                .with_outputs(BTreeMap::from([(
                    "out".to_owned(),
                    DagOutput {
                        sources: vec![(format!("{name}-print"), "text".into())],
                    },
                )]))
                .unwrap(),
        )
        .with_input("msg", Input::parent("msg"))
        .with_input("coin", Input::parent("coin"))
        .when(Expr::parse(&format!("inputs.parameter_values['coin'] == '{expected}'")).unwrap())
    };
    let branches = Dag::new([branch("if", "heads"), branch("else", "tails")])
        .unwrap()
        .with_outputs(BTreeMap::from([(
            "chosen".to_owned(),
            DagOutput {
                sources: vec![("if".into(), "out".into()), ("else".into(), "out".into())],
            },
        )]))
        .unwrap();
    let dag = Dag::new([
        Step::group("branches", branches)
            .with_input("coin", Input::parent("coin"))
            .with_input("msg", Input::constant("hello")),
        task("use").with_input("v", Input::output("branches", "chosen")),
    ])
    .unwrap()
    .with_defaults(BTreeMap::from([(
        "coin".to_owned(),
        Value::parameter("tails"),
    )]));
    let mut run = Run::new(dag, BTreeMap::new());
    let ready = run.ready(0);
    assert_eq!(ready.len(), 1);
    assert_eq!(ready[0].id, "branches/else/else-print");
    assert_eq!(ready[0].inputs["msg"], Value::parameter("hello"));
    run.completed(
        "branches/else/else-print",
        outputs(&[("text", Value::parameter("T"))]),
    )
    .unwrap();
    let ready = run.ready(1);
    assert_eq!(ready[0].inputs["v"], Value::parameter("T"));
}

#[test]
fn lineage_events_record_inputs_outputs_and_cache_keys() {
    let dag = Dag::new([
        task("prep").with_input("rows", Input::constant(100)),
        task("train")
            .with_input("data", Input::output("prep", "data"))
            .with_cache(CachePolicy::default()),
    ])
    .unwrap();
    let mut run = Run::new(dag, BTreeMap::new());
    run.ready(5);
    run.completed("prep", outputs(&[("data", Value::artifact("s3://d"))]))
        .unwrap();
    let key = run.ready(6)[0].cache_key.clone();
    run.completed("train", outputs(&[("model", Value::artifact("s3://m"))]))
        .unwrap();
    let events = run.take_events();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].execution, "prep");
    assert_eq!(events[0].component, "comp-prep");
    assert_eq!(events[0].inputs["rows"], Value::parameter(100));
    assert_eq!(events[0].time_ms, 5);
    assert_eq!(events[1].inputs["data"], Value::artifact("s3://d"));
    assert_eq!(events[1].outputs["model"], Value::artifact("s3://m"));
    assert_eq!(events[1].cache_key, key);
    assert!(run.take_events().is_empty());
}

#[test]
fn events_for_unknown_or_finished_steps_are_errors_naming_them() {
    let dag = Dag::new([task("a")]).unwrap();
    let mut run = Run::new(dag, BTreeMap::new());
    run.ready(0);
    assert!(
        run.started("nope")
            .unwrap_err()
            .to_string()
            .contains("nope")
    );
    assert!(run.completed("a[3]", BTreeMap::new()).is_err());
    run.started("a").unwrap();
    assert!(run.started("a").unwrap_err().to_string().contains("step a"));
    run.completed("a", BTreeMap::new()).unwrap();
    assert!(run.failed("a", "late").is_err());
    assert!(run.decide("a", true).is_err());
}
