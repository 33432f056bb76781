//! Search-space documents and validation through the public API: every bad
//! space is rejected with an error naming the parameter.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use keelson_hpo::{Distribution, Error, ParamKind, ParamSpec, SearchSpace, SpaceSpec, Value};
use proptest::prelude::*;

/// The error's parameter and message for a one-document JSON space.
fn rejected(json: &str) -> (String, String) {
    match SearchSpace::from_json(json) {
        Err(Error::InvalidSpace { param, reason }) => (param, reason),
        other => panic!("expected InvalidSpace for {json}, got {other:?}"),
    }
}

fn doc(params: &str) -> String {
    format!(r#"{{"parameters": [{params}]}}"#)
}

#[test]
fn bad_spaces_name_the_parameter() {
    let cases = [
        (
            r#"{"name": "lr", "parameterType": "double", "feasibleSpace": {"min": 1, "max": 0}}"#,
            "lr",
            "greater than max",
        ),
        (
            r#"{"name": "lr", "parameterType": "double", "feasibleSpace": {"min": 0, "max": 1, "distribution": "logUniform"}}"#,
            "lr",
            "min > 0",
        ),
        (
            r#"{"name": "n", "parameterType": "int", "feasibleSpace": {"min": -1, "max": 5, "distribution": "logNormal"}}"#,
            "n",
            "non-positive",
        ),
        (
            r#"{"name": "bs", "parameterType": "discrete", "feasibleSpace": {"list": []}}"#,
            "bs",
            "empty",
        ),
        (
            r#"{"name": "opt", "parameterType": "categorical", "feasibleSpace": {}}"#,
            "opt",
            "list is required",
        ),
        (
            r#"{"name": "opt", "parameterType": "categorical", "feasibleSpace": {"list": ["a", "a"]}}"#,
            "opt",
            "twice",
        ),
        (
            r#"{"name": "x", "parameterType": "double", "feasibleSpace": {"min": 0, "max": 1, "step": 2}}"#,
            "x",
            "does not fit",
        ),
        (
            r#"{"name": "x", "parameterType": "double", "feasibleSpace": {"min": 0, "max": 1, "step": 0}}"#,
            "x",
            "positive",
        ),
        (
            r#"{"name": "x", "parameterType": "double", "feasibleSpace": {"min": 1e9, "max": 2e9, "step": 1e-9}}"#,
            "x",
            "precision",
        ),
        (
            r#"{"name": "n", "parameterType": "int", "feasibleSpace": {"min": 0, "max": 10, "step": 2.5}}"#,
            "n",
            "not an integer",
        ),
        (
            r#"{"name": "n", "parameterType": "int", "feasibleSpace": {"min": 0.5, "max": 10}}"#,
            "n",
            "not an integer",
        ),
        (
            r#"{"name": "n", "parameterType": "int", "feasibleSpace": {"min": 0, "max": 3, "step": 4}}"#,
            "n",
            "does not fit",
        ),
        (
            r#"{"name": "x", "parameterType": "double", "feasibleSpace": {"max": 1}}"#,
            "x",
            "min is required",
        ),
        (
            r#"{"name": "x", "parameterType": "double", "feasibleSpace": {"min": -1e308, "max": 1e308}}"#,
            "x",
            "finite",
        ),
        (
            r#"{"name": "x", "parameterType": "double", "feasibleSpace": {"min": 0, "max": 1, "list": ["a"]}}"#,
            "x",
            "list is not allowed",
        ),
        (
            r#"{"name": "c", "parameterType": "categorical", "feasibleSpace": {"list": ["a"], "min": 0}}"#,
            "c",
            "min is not allowed",
        ),
        (
            r#"{"name": "bs", "parameterType": "discrete", "feasibleSpace": {"list": ["big"]}}"#,
            "bs",
            "not a finite number",
        ),
        (
            r#"{"name": "", "parameterType": "int", "feasibleSpace": {"min": 0, "max": 1}}"#,
            "",
            "name is empty",
        ),
    ];
    for (param, name, fragment) in cases {
        let (got, reason) = rejected(&doc(param));
        assert_eq!(got, name, "{param}: {reason}");
        assert!(
            reason.contains(fragment),
            "{param}: {reason:?} lacks {fragment:?}"
        );
    }
}

#[test]
fn bad_conditions_and_duplicates_name_the_parameter() {
    let opt = r#"{"name": "opt", "parameterType": "categorical", "feasibleSpace": {"list": ["sgd", "adam"]}}"#;
    let m = |condition: &str| {
        format!(
            r#"{{"name": "m", "parameterType": "double", "feasibleSpace": {{"min": 0, "max": 1}}, "condition": {condition}}}"#
        )
    };
    let cases = [
        (format!("{opt}, {}", m(r#"{"parent": "nope", "values": ["sgd"]}"#)), "m", "not a parameter"),
        (format!("{opt}, {}", m(r#"{"parent": "opt", "values": ["rmsprop"]}"#)), "m", "not in the list"),
        (format!("{opt}, {}", m(r#"{"parent": "opt", "values": []}"#)), "m", "empty"),
        (format!("{opt}, {}", m(r#"{"parent": "m", "values": ["sgd"]}"#)), "m", "itself"),
        (
            format!(r#"{}, {}"#, m(r#"{"parent": "m2", "values": ["sgd"]}"#), r#"{"name": "m2", "parameterType": "int", "feasibleSpace": {"min": 0, "max": 1}}"#),
            "m",
            "not categorical",
        ),
        (format!("{opt}, {opt}"), "opt", "duplicate"),
        (
            r#"{"name": "a", "parameterType": "categorical", "feasibleSpace": {"list": ["x"]}, "condition": {"parent": "c", "values": ["x"]}},
               {"name": "b", "parameterType": "categorical", "feasibleSpace": {"list": ["x"]}, "condition": {"parent": "a", "values": ["x"]}},
               {"name": "c", "parameterType": "categorical", "feasibleSpace": {"list": ["x"]}, "condition": {"parent": "b", "values": ["x"]}}"#
                .to_owned(),
            "a",
            "cycle: a -> c -> b -> a",
        ),
    ];
    for (params, name, fragment) in cases {
        let (got, reason) = rejected(&doc(&params));
        assert_eq!(got, name, "{params}: {reason}");
        assert!(reason.contains(fragment), "{reason:?} lacks {fragment:?}");
    }
    let (got, _) = rejected(r#"{"parameters": []}"#);
    assert_eq!(got, "parameters");
}

#[test]
fn unreadable_documents_are_parse_errors() {
    for (text, yaml) in [
        ("{", false),
        (
            r#"{"parameters": [{"name": "x", "parameterType": "float", "feasibleSpace": {}}]}"#,
            false,
        ),
        (r#"{"parameters": [], "extra": 1}"#, false),
        (
            "parameters: [{name: x, parameterType: int, feasibleSpace: {min: zero, max: 1}}]",
            true,
        ),
        (
            "parameters: [{name: x, parameterType: int, feasibleSpace: {min: 0, max: 1}, when: {}}]",
            true,
        ),
    ] {
        let result = if yaml {
            SearchSpace::from_yaml(text)
        } else {
            SearchSpace::from_json(text)
        };
        assert!(
            matches!(result, Err(Error::Parse { .. })),
            "{text}: {result:?}"
        );
    }
}

#[test]
fn katib_style_strings_and_yaml_parse() {
    let space = SearchSpace::from_yaml(
        r#"
parameters:
  - name: lr
    parameterType: double
    feasibleSpace: {min: "0.001", max: "0.1", step: "0.001"}
  - name: layers
    parameterType: int
    feasibleSpace: {min: "1", max: "9", step: "2", distribution: logUniform}
  - name: bs
    parameterType: discrete
    feasibleSpace: {list: ["16", 32, 64.0]}
  - name: flag
    parameterType: categorical
    feasibleSpace: {list: [true, "no", 3]}
"#,
    )
    .unwrap();
    assert!(
        matches!(space.params()[0].kind(), ParamKind::Double { step: Some(s), .. } if *s == 0.001)
    );
    assert!(matches!(
        space.params()[1].kind(),
        ParamKind::Int {
            min: 1,
            max: 9,
            step: 2,
            distribution: Distribution::LogUniform
        }
    ));
    assert_eq!(
        space.params()[2].kind(),
        &ParamKind::Discrete {
            values: vec![16.0, 32.0, 64.0]
        }
    );
    assert_eq!(
        space.params()[3].kind(),
        &ParamKind::Categorical {
            choices: vec!["true".into(), "no".into(), "3".into()]
        }
    );
    assert_eq!(space.params()[1].cardinality(), Some(5));
    assert_eq!(space.params()[0].cardinality(), Some(100));
}

#[test]
fn documents_round_trip_through_json_and_yaml() {
    let space = SearchSpace::new([
        ParamSpec::double("lr", 1e-5, 1e-1).distribution(Distribution::LogNormal),
        ParamSpec::int("n", -3, 12).step(3.0),
        ParamSpec::discrete("bs", [16.0, 0.5]),
        ParamSpec::categorical("opt", ["sgd", "adam"]),
        ParamSpec::double("m", 0.0, 1.0)
            .step(0.25)
            .active_when("opt", ["sgd"]),
    ])
    .unwrap();
    let json = serde_json::to_string(&space).unwrap();
    assert_eq!(SearchSpace::from_json(&json).unwrap(), space);
    let yaml = serde_yaml_ng::to_string(&space).unwrap();
    assert_eq!(SearchSpace::from_yaml(&yaml).unwrap(), space);
    let spec: SpaceSpec = serde_json::from_str(&json).unwrap();
    assert_eq!(spec.parameters.len(), 5);
    // Deserializing validates too.
    assert!(
        serde_json::from_str::<SearchSpace>(&doc(
            r#"{"name": "x", "parameterType": "int", "feasibleSpace": {"min": 1, "max": 0}}"#
        ))
        .is_err()
    );
}

#[test]
fn distributions_follow_katib() {
    // normal: mean (min + max) / 2, sigma (max - min) / 6, truncated to [min, max].
    let space = SearchSpace::new([
        ParamSpec::double("x", 0.0, 6.0).distribution(Distribution::Normal),
        ParamSpec::double("y", 1.0, 1e6).distribution(Distribution::LogNormal),
        ParamSpec::int("n", 0, 1000).distribution(Distribution::Normal),
    ])
    .unwrap();
    let x = &space.params()[0];
    assert!((x.decode(0.5).unwrap().as_f64().unwrap() - 3.0).abs() < 1e-12);
    // (Φ(1) - Φ(-3)) / (Φ(3) - Φ(-3)): the unit coordinate of mean + σ.
    let u = x.encode(&Value::Double(4.0)).unwrap();
    assert!((u - 0.842_268_8).abs() < 1e-6, "{u}");
    let y = &space.params()[1];
    assert!((y.decode(0.5).unwrap().as_f64().unwrap() - 1e3).abs() < 1e-9);
    let n = &space.params()[2];
    assert_eq!(n.decode(0.5).unwrap(), Value::Int(500));
    assert_eq!(n.decode(0.0).unwrap(), Value::Int(0));
    assert_eq!(n.decode(1.0).unwrap(), Value::Int(1000));
}

#[test]
fn checks_reject_foreign_assignments() {
    let space = SearchSpace::new([
        ParamSpec::int("n", 0, 4).step(2.0),
        ParamSpec::double("x", 0.0, 1.0),
    ])
    .unwrap();
    let mut p = space.decode(&[0.0, 0.0]).unwrap();
    assert!(space.check(&p).is_ok());
    p.insert("y", Value::Double(0.0));
    let err = space.check(&p).unwrap_err();
    assert!(
        matches!(&err, Error::InvalidParams { param, .. } if param == "y"),
        "{err}"
    );
    let mut p = space.decode(&[0.0, 0.0]).unwrap();
    p.insert("x", Value::Double(1.5));
    assert!(space.check(&p).unwrap_err().to_string().contains("\"x\""));
    p.insert("x", Value::Int(1));
    assert!(space.check(&p).is_err());
    assert!(space.decode(&[0.0, f64::NAN]).is_err());
    assert!(space.decode(&[0.0]).is_err());
}

proptest! {
    #[test]
    fn generated_spaces_round_trip(specs in common::space_specs()) {
        let space = common::space(&specs);
        let json = serde_json::to_string(&space).unwrap();
        prop_assert_eq!(SearchSpace::from_json(&json).unwrap(), space.clone());
        let yaml = serde_yaml_ng::to_string(&space).unwrap();
        prop_assert_eq!(SearchSpace::from_yaml(&yaml).unwrap(), space);
    }

    #[test]
    fn any_point_of_the_cube_is_inside(specs in common::space_specs(), point in prop::collection::vec(0.0..=1.0f64, 6)) {
        let space = common::space(&specs);
        let params = space.decode(&point[..space.dims()]).unwrap();
        common::assert_inside(&specs, &params);
    }
}
