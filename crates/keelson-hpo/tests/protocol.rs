//! The protocol runner's reading of a protocol file: the anchor's own file,
//! and the spaces a protocol may state in place of a test function's own
//! (other bounds, other names, integer and log-scaled parameters), as the
//! anchor's runner takes them from the file.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use keelson_hpo::protocol::{self, FunctionSpec, MAX_BUDGET, Protocol, resolve_function};
use keelson_hpo::testfns::{self, TestFunction};

fn spec(json: &str) -> FunctionSpec {
    serde_json::from_str(json).unwrap()
}

fn error(json: &str) -> String {
    resolve_function(&spec(json)).unwrap_err().to_string()
}

#[test]
fn the_anchor_protocol_searches_each_function_s_own_space() {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/anchors/hpo/protocol.json");
    let Ok(text) = std::fs::read_to_string(&path) else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{} is missing",
            path.display()
        );
        return;
    };
    let resolved = Protocol::from_json(&text).unwrap().resolve().unwrap();
    assert_eq!(resolved.len(), 6);
    for f in &resolved {
        assert_eq!(
            f.space,
            f.function.space().unwrap(),
            "{}",
            f.function.name()
        );
        assert_eq!(
            f.f_star,
            f.function.optimum().value,
            "{}",
            f.function.name()
        );
    }
}

#[test]
fn a_stated_box_is_the_space_searched() {
    let f = resolve_function(&spec(
        r#"{"name": "rosenbrock", "dim": 4, "params_uniform_box": {"min": -2.048, "max": 2.048}}"#,
    ))
    .unwrap();
    assert_eq!(f.f_star, 0.0, "the box holds (1, 1, 1, 1)");
    for sampler in ["random", "sobol", "tpe", "cmaes", "gp"] {
        let trials = protocol::trace(&f, sampler, 2, 14).unwrap();
        for t in &trials {
            let x: Vec<f64> = (0..4)
                .map(|i| t.params[&format!("x{i}")].as_f64().unwrap())
                .collect();
            assert!(
                x.iter().all(|v| (-2.048..=2.048).contains(v)),
                "{sampler}: {x:?}"
            );
            assert_eq!(t.value, testfns::rosenbrock(&x));
        }
    }
}

#[test]
fn parameters_named_otherwise_reach_the_function_by_position() {
    let f = resolve_function(&spec(
        r#"{"name": "branin", "params": [
            {"name": "u", "type": "double", "min": -5, "max": 10},
            {"name": "v", "type": "double", "min": 0, "max": 15}]}"#,
    ))
    .unwrap();
    for t in protocol::trace(&f, "random", 0, 10).unwrap() {
        let (u, v) = (
            t.params["u"].as_f64().unwrap(),
            t.params["v"].as_f64().unwrap(),
        );
        assert_eq!(t.value, testfns::branin([u, v]));
        assert!(!t.params.contains_key("x0"));
    }
    // The function's own names in another order are taken by name.
    let f = resolve_function(&spec(
        r#"{"name": "branin", "params": [
            {"name": "x1", "type": "double", "min": 0, "max": 15},
            {"name": "x0", "type": "double", "min": -5, "max": 10}]}"#,
    ))
    .unwrap();
    for t in protocol::trace(&f, "random", 0, 10).unwrap() {
        let (x0, x1) = (
            t.params["x0"].as_f64().unwrap(),
            t.params["x1"].as_f64().unwrap(),
        );
        assert!((-5.0..=10.0).contains(&x0) && (0.0..=15.0).contains(&x1));
        assert_eq!(t.value, testfns::branin([x0, x1]));
    }
}

#[test]
fn integer_and_log_parameters_are_searched_as_stated() {
    let f = resolve_function(&spec(
        r#"{"name": "levy2", "params": [
            {"name": "a", "type": "int", "min": -10, "max": 10},
            {"name": "b", "type": "double", "min": 0.01, "max": 10, "distribution": "logUniform"}],
           "f_star": 0.0}"#,
    ))
    .unwrap();
    for t in protocol::trace(&f, "tpe", 1, 30).unwrap() {
        assert!(t.params["a"].is_i64(), "{:?}", t.params);
        let b = t.params["b"].as_f64().unwrap();
        assert!((0.01..=10.0).contains(&b));
        assert_eq!(
            t.value,
            testfns::levy(&[t.params["a"].as_f64().unwrap(), b])
        );
    }
}

#[test]
fn the_optimum_is_known_only_where_the_space_holds_the_minimizer() {
    // Inside a narrower box: testfns' optimum, and a stated one must agree.
    let inside = r#"{"name": "ackley3", "params_uniform_box": {"min": -1, "max": 4}"#;
    assert_eq!(
        resolve_function(&spec(&format!("{inside}}}")))
            .unwrap()
            .f_star,
        0.0
    );
    let e = error(&format!(r#"{inside}, "f_star": 0.5}}"#));
    assert!(e.contains("ackley3.f_star") && e.contains("0.5"), "{e}");
    // Outside: required, then taken as stated.
    let outside = r#"{"name": "ackley3", "params_uniform_box": {"min": 1, "max": 4}"#;
    let e = error(&format!("{outside}}}"));
    assert!(
        e.contains("ackley3.f_star") && e.contains("required"),
        "{e}"
    );
    let f = resolve_function(&spec(&format!(r#"{outside}, "f_star": 3.62}}"#))).unwrap();
    assert_eq!(f.f_star, 3.62);
    let r = protocol::run(&f, "random", 0, &[20]).unwrap();
    assert_eq!(r[0].regret, r[0].best_value - 3.62);
    // An integer lattice that misses the minimizer of six_hump_camel.
    let e = error(
        r#"{"name": "six_hump_camel", "params": [
            {"name": "x0", "type": "int", "min": -3, "max": 3},
            {"name": "x1", "type": "int", "min": -2, "max": 2}]}"#,
    );
    assert!(e.contains("f_star"), "{e}");
}

#[test]
fn a_space_the_function_cannot_take_is_refused_naming_the_field() {
    let e = error(r#"{"name": "hartmann3", "params_uniform_box": {"min": 1, "max": 0}}"#);
    assert!(e.contains("hartmann3.params"), "{e}");
    let e = error(
        r#"{"name": "branin", "params": [{"name": "x0", "type": "double", "min": 0, "max": 1}]}"#,
    );
    assert!(
        e.contains("branin.params") && e.contains("1 parameters"),
        "{e}"
    );
    // A category mixed_train_loss does not know, found before any run.
    let e = error(
        r#"{"name": "mixed_train_loss", "params": [
            {"name": "lr", "type": "double", "min": 1e-5, "max": 0.1, "distribution": "logUniform"},
            {"name": "n_layers", "type": "int", "min": 1, "max": 8},
            {"name": "optimizer", "type": "categorical", "list": ["lbfgs"]},
            {"name": "batch_size", "type": "discrete", "list": [16, 64]},
            {"name": "dropout", "type": "double", "min": 0, "max": 0.5}]}"#,
    );
    assert!(
        e.contains("mixed_train_loss.params") && e.contains("lbfgs"),
        "{e}"
    );
    let mut nan = spec(r#"{"name": "levy", "dim": 3}"#);
    nan.f_star = Some(f64::NAN);
    let e = resolve_function(&nan).unwrap_err().to_string();
    assert!(e.contains("levy.f_star"), "{e}");
}

#[test]
fn mixed_train_loss_takes_its_parameters_by_name_in_any_order() {
    let f = resolve_function(&spec(
        r#"{"name": "mixed_train_loss", "params": [
            {"name": "dropout", "type": "double", "min": 0, "max": 0.5},
            {"name": "optimizer", "type": "categorical", "list": ["sgd", "adam"]},
            {"name": "batch_size", "type": "discrete", "list": [32, 64, 128]},
            {"name": "n_layers", "type": "int", "min": 2, "max": 6},
            {"name": "lr", "type": "double", "min": 1e-4, "max": 1e-2, "distribution": "logUniform"}]}"#,
    ))
    .unwrap();
    assert_eq!(f.f_star, 0.1, "the space holds the optimum");
    let own = TestFunction::by_name("mixed_train_loss").unwrap();
    let mut study = keelson_hpo::Study::new(
        f.space.clone(),
        keelson_hpo::Direction::Minimize,
        keelson_hpo::RandomSampler::new(4),
    )
    .unwrap();
    for _ in 0..10 {
        let t = study.ask().unwrap();
        assert_eq!(
            f.evaluate(&t.params).unwrap(),
            own.evaluate(&t.params).unwrap()
        );
        study.tell(t.id, keelson_hpo::Outcome::Value(0.0)).unwrap();
    }
}

#[test]
fn budgets_past_the_limit_are_refused() {
    let text = format!(
        r#"{{"budgets": [10, {}], "seeds": [0], "functions": [{{"name": "branin"}}]}}"#,
        MAX_BUDGET + 1
    );
    let e = Protocol::from_json(&text).unwrap_err().to_string();
    assert!(e.contains("budgets"), "{e}");
    let text = format!(
        r#"{{"budgets": [{}], "seeds": [0], "functions": []}}"#,
        u64::MAX
    );
    assert!(Protocol::from_json(&text).is_err());
}

#[test]
fn values_that_overflow_are_failed_trials_not_a_failed_run() {
    let f = resolve_function(&spec(
        r#"{"name": "rosenbrock2", "params_uniform_box": {"min": -1e300, "max": 1e300}}"#,
    ))
    .unwrap();
    for sampler in ["random", "tpe", "gp"] {
        let trials = protocol::trace(&f, sampler, 0, 15).unwrap();
        assert!(trials.iter().any(|t| !t.value.is_finite()), "{sampler}");
        let r = protocol::run(&f, sampler, 0, &[15]).unwrap();
        let finite = trials
            .iter()
            .map(|t| t.value)
            .filter(|v| v.is_finite())
            .fold(f64::INFINITY, f64::min);
        assert_eq!(r[0].best_value, finite, "{sampler}");
    }
}
