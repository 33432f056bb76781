//! Random search spaces for the property tests, and an independent check
//! that an assignment lies inside the space it was drawn from.
#![allow(dead_code, reason = "each test binary uses part of this module")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use keelson_hpo::{Distribution, ParamSpec, Params, SearchSpace, Value};
use proptest::prelude::*;

fn distribution() -> impl Strategy<Value = Distribution> {
    prop_oneof![
        Just(Distribution::Uniform),
        Just(Distribution::LogUniform),
        Just(Distribution::Normal),
        Just(Distribution::LogNormal),
    ]
}

fn is_log(d: Distribution) -> bool {
    matches!(d, Distribution::LogUniform | Distribution::LogNormal)
}

/// One parameter named `p{i}` of any kind, with bounds that are valid.
fn param(i: usize) -> impl Strategy<Value = ParamSpec> {
    let name = format!("p{i}");
    let (n1, n2, n3) = (name.clone(), name.clone(), name.clone());
    prop_oneof![
        (
            -1e3..1e3f64,
            0.0..1e3f64,
            prop::option::of(1u32..20),
            distribution()
        )
            .prop_map(move |(lo, width, steps, d)| {
                let min = if is_log(d) { lo.abs() + 1e-3 } else { lo };
                let p = ParamSpec::double(&name, min, min + width).distribution(d);
                match steps {
                    Some(k) if width > 0.0 => p.step(width / f64::from(k)),
                    _ => p,
                }
            }),
        (-1000i64..1000, 0i64..1000, 1i64..10, distribution()).prop_map(
            move |(lo, width, step, d)| {
                let min = if is_log(d) { lo.abs() + 1 } else { lo };
                let p = ParamSpec::int(&n1, min, min + width).distribution(d);
                if width > 0 {
                    p.step(step.min(width) as f64)
                } else {
                    p
                }
            }
        ),
        prop::collection::btree_set(-1000i32..1000, 1..6).prop_map(move |set| ParamSpec::discrete(
            &n2,
            set.into_iter().map(|v| f64::from(v) / 4.0)
        )),
        prop::collection::btree_set("[a-z]{1,3}", 1..5)
            .prop_map(move |set| ParamSpec::categorical(&n3, set)),
    ]
}

/// Up to 6 parameters; some made conditional on an earlier categorical.
pub fn space_specs() -> impl Strategy<Value = Vec<ParamSpec>> {
    (1usize..7)
        .prop_flat_map(|n| {
            let params: Vec<_> = (0..n).map(param).collect();
            (params, prop::collection::vec((any::<u8>(), any::<u8>()), n))
        })
        .prop_map(|(mut params, picks)| {
            for j in 0..params.len() {
                let (which, value) = picks[j];
                let categoricals: Vec<(String, Vec<String>)> = params[..j]
                    .iter()
                    .filter_map(|p| {
                        let list = p.feasible_space.list.as_ref()?;
                        (p.parameter_type == keelson_hpo::ParameterType::Categorical).then(|| {
                            let choices = list
                                .iter()
                                .map(|item| match item {
                                    keelson_hpo::ListItem::Text(t) => t.clone(),
                                    keelson_hpo::ListItem::Number(n) => n.to_string(),
                                })
                                .collect();
                            (p.name.clone(), choices)
                        })
                    })
                    .collect();
                if which % 2 == 0 && !categoricals.is_empty() {
                    let (parent, choices) = &categoricals[usize::from(which) % categoricals.len()];
                    let choice = choices[usize::from(value) % choices.len()].clone();
                    params[j] = params[j].clone().active_when(parent, [choice]);
                }
            }
            params
        })
}

pub fn space(specs: &[ParamSpec]) -> SearchSpace {
    SearchSpace::new(specs.to_vec()).expect("the strategy only builds valid spaces")
}

/// Checks `params` against the specs without going through the crate's own
/// `check`: activity, kinds, bounds, steps, log positivity, lists.
pub fn assert_inside(specs: &[ParamSpec], params: &Params) {
    for (name, _) in params.iter() {
        assert!(
            specs.iter().any(|s| s.name == name),
            "unknown parameter {name}"
        );
    }
    for spec in specs {
        let active = spec.condition.as_ref().is_none_or(|c| {
            matches!(params.get(&c.parent), Some(Value::Categorical(v)) if c.values.contains(v))
        });
        let value = params.get(&spec.name);
        assert_eq!(
            active,
            value.is_some(),
            "{}: active {active}, value {value:?}",
            spec.name
        );
        let Some(value) = value else { continue };
        let fs = &spec.feasible_space;
        let log = fs.distribution.is_some_and(is_log);
        match value {
            Value::Double(x) => {
                let (min, max) = (fs.min.unwrap().as_f64(), fs.max.unwrap().as_f64());
                assert!(
                    *x >= min && *x <= max,
                    "{}: {x} outside [{min}, {max}]",
                    spec.name
                );
                assert!(!log || *x > 0.0);
                if let Some(step) = fs.step.map(|s| s.as_f64()) {
                    let k = ((x - min) / step).round();
                    assert!(
                        (x - (min + k * step).min(max)).abs() <= 1e-9 * step,
                        "{}: {x} off step {step}",
                        spec.name
                    );
                }
            }
            Value::Int(x) => {
                let min = fs.min.unwrap().as_f64() as i64;
                let max = fs.max.unwrap().as_f64() as i64;
                let step = fs.step.map_or(1, |s| s.as_f64() as i64);
                assert!(
                    *x >= min && *x <= max,
                    "{}: {x} outside [{min}, {max}]",
                    spec.name
                );
                assert_eq!((x - min) % step, 0, "{}: {x} off step {step}", spec.name);
                assert!(!log || *x > 0);
            }
            Value::Discrete(x) => {
                let list = fs.list.as_ref().unwrap();
                assert!(
                    list.iter().any(
                        |item| matches!(item, keelson_hpo::ListItem::Number(n) if n.as_f64() == *x)
                    ),
                    "{}: {x} not in the list",
                    spec.name
                );
            }
            Value::Categorical(c) => {
                let list = fs.list.as_ref().unwrap();
                assert!(
                    list.iter()
                        .any(|item| matches!(item, keelson_hpo::ListItem::Text(t) if t == c)),
                    "{}: {c} not in the list",
                    spec.name
                );
            }
        }
        assert!(
            spec.parameter_type == kind_of(value),
            "{}: wrong kind",
            spec.name
        );
    }
}

fn kind_of(value: &Value) -> keelson_hpo::ParameterType {
    match value {
        Value::Double(_) => keelson_hpo::ParameterType::Double,
        Value::Int(_) => keelson_hpo::ParameterType::Int,
        Value::Discrete(_) => keelson_hpo::ParameterType::Discrete,
        Value::Categorical(_) => keelson_hpo::ParameterType::Categorical,
    }
}
