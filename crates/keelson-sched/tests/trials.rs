//! Katib trial pacing: scenarios for each way an experiment ends, and a
//! property test driving random experiments with random trial outcomes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use keelson_sched::trials::{Experiment, Goal, Objective, Pacing, Phase, TrialState};
use proptest::prelude::*;

fn pacing(parallel: u32, max: Option<u32>, max_failed: Option<u32>) -> Pacing {
    Pacing {
        parallel_trial_count: parallel,
        max_trial_count: max,
        max_failed_trial_count: max_failed,
        goal: None,
    }
}

fn create(exp: &mut Experiment, next: &mut u32) -> Vec<String> {
    (0..exp.trials_to_create())
        .map(|_| {
            *next += 1;
            let name = format!("t{next}");
            exp.trial_created(&name).unwrap();
            name
        })
        .collect()
}

#[test]
fn max_trials_reached_after_the_last_trial_finishes() {
    let mut exp = Experiment::new(pacing(3, Some(4), None)).unwrap();
    assert_eq!(exp.phase(), Phase::Created);
    let mut next = 0;
    let first = create(&mut exp, &mut next);
    assert_eq!(first.len(), 3);
    assert_eq!(exp.phase(), Phase::Running);
    exp.trial_succeeded("t1", 1.0).unwrap();
    exp.trial_early_stopped("t2").unwrap();
    // 2 finished + 1 active: only one more may be created.
    assert_eq!(create(&mut exp, &mut next), ["t4"]);
    exp.trial_failed("t3").unwrap();
    assert_eq!(exp.trials_to_create(), 0);
    exp.trial_succeeded("t4", 0.5).unwrap();
    assert_eq!(exp.phase(), Phase::Succeeded);
    assert_eq!(exp.reason(), "ExperimentMaxTrialsReached");
    assert_eq!(exp.best(), Some(("t4", 0.5)));
    let running = exp
        .conditions()
        .iter()
        .find(|c| c.kind == Phase::Running)
        .unwrap();
    assert!(!running.status, "Running turns false at the end");
    assert!(exp.trial_created("t5").is_err());
}

#[test]
fn more_failures_than_allowed_fail_the_experiment() {
    let mut exp = Experiment::new(pacing(2, Some(10), Some(1))).unwrap();
    let mut next = 0;
    create(&mut exp, &mut next);
    exp.trial_failed("t1").unwrap();
    assert_eq!(exp.phase(), Phase::Running, "one failure is allowed");
    exp.trial_failed("t2").unwrap();
    assert_eq!(exp.phase(), Phase::Failed);
    assert_eq!(exp.reason(), "ExperimentFailed");
    assert_eq!(exp.trials_to_create(), 0);
}

#[test]
fn the_goal_wins_over_the_other_checks() {
    let mut exp = Experiment::new(Pacing {
        goal: Some(Goal {
            objective: Objective::Maximize,
            value: 0.9,
        }),
        ..pacing(1, Some(1), Some(0))
    })
    .unwrap();
    exp.trial_created("t1").unwrap();
    exp.trial_succeeded("t1", 0.95).unwrap();
    assert_eq!(exp.reason(), "ExperimentGoalReached");
}

#[test]
fn an_exhausted_search_succeeds_once_active_trials_finish() {
    let mut exp = Experiment::new(pacing(2, None, None)).unwrap();
    let mut next = 0;
    create(&mut exp, &mut next);
    exp.suggestions_exhausted();
    assert_eq!(exp.trials_to_create(), 0);
    assert_eq!(exp.phase(), Phase::Running);
    exp.trial_succeeded("t1", 3.0).unwrap();
    exp.trial_succeeded("t2", 2.0).unwrap();
    assert_eq!(exp.reason(), "ExperimentSuggestionEndReached");
}

#[test]
fn bad_specs_and_events_are_errors_naming_the_item() {
    assert!(
        Experiment::new(pacing(0, None, None))
            .unwrap_err()
            .to_string()
            .contains("parallelTrialCount")
    );
    assert!(
        Experiment::new(pacing(1, Some(0), None))
            .unwrap_err()
            .to_string()
            .contains("maxTrialCount")
    );
    let mut exp = Experiment::new(pacing(1, None, None)).unwrap();
    assert!(
        exp.trial_failed("ghost")
            .unwrap_err()
            .to_string()
            .contains("ghost")
    );
    exp.trial_created("t1").unwrap();
    assert!(exp.trial_created("t1").is_err());
    assert!(exp.trial_succeeded("t1", f64::NAN).is_err());
    exp.trial_succeeded("t1", 1.0).unwrap();
    assert!(
        exp.trial_failed("t1")
            .unwrap_err()
            .to_string()
            .contains("already finished")
    );
}

proptest! {
    #[test]
    fn pacing_never_exceeds_its_budget(
        parallel in 1u32..5,
        max in proptest::option::of(1u32..20),
        max_failed in proptest::option::of(0u32..5),
        goal in proptest::option::of(0.0f64..1.0),
        outcomes in proptest::collection::vec((0u8..3, 0.0f64..1.0), 1..60),
    ) {
        let mut exp = Experiment::new(Pacing {
            parallel_trial_count: parallel,
            max_trial_count: max,
            max_failed_trial_count: max_failed,
            goal: goal.map(|value| Goal { objective: Objective::Minimize, value }),
        }).unwrap();
        let mut next = 0;
        let mut outcomes = outcomes.into_iter();
        loop {
            create(&mut exp, &mut next);
            let active: Vec<String> = exp
                .trials()
                .iter()
                .filter(|(_, s)| matches!(s, TrialState::Active))
                .map(|(n, _)| n.clone())
                .collect();
            prop_assert!(active.len() <= parallel as usize);
            if let Some(max) = max {
                prop_assert!(exp.trials().len() <= max as usize);
            }
            let Some(name) = active.first() else { break };
            let Some((kind, value)) = outcomes.next() else { break };
            match kind {
                0 => exp.trial_succeeded(name, value).unwrap(),
                1 => exp.trial_failed(name).unwrap(),
                _ => exp.trial_early_stopped(name).unwrap(),
            }
        }
        let failed = exp.trials().values().filter(|s| matches!(s, TrialState::Failed)).count();
        let finished = exp.trials().values().filter(|s| !matches!(s, TrialState::Active)).count();
        let reached = exp.trials().values().any(|s| matches!((s, goal), (TrialState::Succeeded(v), Some(g)) if *v <= g));
        match exp.phase() {
            Phase::Succeeded | Phase::Failed => prop_assert_eq!(exp.trials_to_create(), 0),
            _ => {
                prop_assert!(!reached, "goal reached but still running");
                prop_assert!(max_failed.is_none_or(|m| failed <= m as usize));
                prop_assert!(max.is_none_or(|m| finished < m as usize));
            }
        }
        if exp.phase() == Phase::Failed {
            prop_assert!(max_failed.is_some_and(|m| failed > m as usize));
        }
    }
}
