//! Random formulas: a generated expression tree is printed as formula
//! text (with random spacing and redundant parentheses), compiled through
//! the public API and evaluated at random `(i, s, j)`; the result must
//! agree with a reference evaluation of the tree done here with 128-bit
//! integers (so an i64 overflow is seen, not wrapped) — including which
//! inputs are errors. Templates with zero-padded fields are checked
//! against `format!`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use keelson_lineage::workload::{Env, Expr, Number, NumberType, Scope, Template};
use proptest::prelude::*;

#[derive(Clone, Debug)]
enum Tree {
    Int(i64),
    /// A decimal literal, printed with a `.`.
    Dec(u32, u32),
    Var(char),
    Bin(char, Box<Tree>, Box<Tree>),
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Val {
    Int(i128),
    Double(f64),
}

impl Val {
    fn f(self) -> f64 {
        match self {
            Val::Int(v) => v as f64,
            Val::Double(v) => v,
        }
    }
}

fn tree() -> impl Strategy<Value = Tree> {
    let leaf = prop_oneof![
        (0i64..2000).prop_map(Tree::Int),
        prop_oneof![Just(0i64), Just(i64::MAX), Just(4_000_000_000)].prop_map(Tree::Int),
        (0u32..100, 0u32..1000).prop_map(|(w, f)| Tree::Dec(w, f)),
        prop_oneof![Just('i'), Just('s'), Just('j')].prop_map(Tree::Var),
    ];
    leaf.prop_recursive(6, 40, 2, |inner| {
        (
            prop_oneof![Just('+'), Just('-'), Just('*'), Just('/'), Just('%')],
            inner.clone(),
            inner,
        )
            .prop_map(|(op, l, r)| Tree::Bin(op, Box::new(l), Box::new(r)))
    })
}

/// Prints the tree; `style` picks spacing and extra parentheses.
fn print(t: &Tree, style: &mut impl Iterator<Item = bool>) -> String {
    let mut next = || style.next().unwrap_or(false);
    match t {
        Tree::Int(v) => v.to_string(),
        Tree::Dec(w, f) => format!("{w}.{f:03}"),
        Tree::Var(c) => c.to_string(),
        Tree::Bin(op, l, r) => {
            let space = if next() { " " } else { "" };
            let extra = next();
            let text = format!("({}{space}{op}{space}{})", print(l, style), print(r, style));
            if extra { format!("( {text} )") } else { text }
        }
    }
}

const LIMIT: i128 = i64::MAX as i128;

fn eval(t: &Tree, i: i64, s: i64, j: i64) -> Result<Val, ()> {
    Ok(match t {
        Tree::Int(v) => Val::Int(i128::from(*v)),
        Tree::Dec(w, f) => Val::Double(format!("{w}.{f:03}").parse().unwrap()),
        Tree::Var('i') => Val::Int(i128::from(i)),
        Tree::Var('s') => Val::Int(i128::from(s)),
        Tree::Var(_) => Val::Int(i128::from(j)),
        Tree::Bin(op, l, r) => {
            let (l, r) = (eval(l, i, s, j)?, eval(r, i, s, j)?);
            match (op, l, r) {
                ('/', l, r) => {
                    if r.f() == 0.0 {
                        return Err(());
                    }
                    Val::Double(l.f() / r.f())
                }
                (op, Val::Int(a), Val::Int(b)) => {
                    let v = match op {
                        '+' => a + b,
                        '-' => a - b,
                        '*' => a * b,
                        _ if b == 0 => return Err(()),
                        // Python's floored remainder.
                        _ => ((a % b) + b) % b,
                    };
                    if !(-LIMIT - 1..=LIMIT).contains(&v) {
                        return Err(());
                    }
                    Val::Int(v)
                }
                (op, l, r) => {
                    let (a, b) = (l.f(), r.f());
                    Val::Double(match op {
                        '+' => a + b,
                        '-' => a - b,
                        '*' => a * b,
                        _ if b == 0.0 => return Err(()),
                        _ => {
                            let m = a % b;
                            if m == 0.0 {
                                0.0f64.copysign(b)
                            } else if (m < 0.0) != (b < 0.0) {
                                m + b
                            } else {
                                m
                            }
                        }
                    })
                }
            }
        }
    })
}

fn is_int(t: &Tree) -> bool {
    match t {
        Tree::Int(_) | Tree::Var(_) => true,
        Tree::Dec(..) => false,
        Tree::Bin(op, l, r) => *op != '/' && is_int(l) && is_int(r),
    }
}

fn same(a: Number, b: Val) -> bool {
    match (a, b) {
        (Number::Int(x), Val::Int(y)) => i128::from(x) == y,
        (Number::Double(x), Val::Double(y)) => {
            x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan())
        }
        _ => false,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn formulas_agree_with_the_reference(
        t in tree(),
        style in proptest::collection::vec(any::<bool>(), 64),
        points in proptest::collection::vec((0i64..100_000, 0i64..8, 0i64..4), 1..6),
    ) {
        let text = print(&t, &mut style.into_iter());
        let expr = Expr::parse(&text, Scope::ARTIFACT).unwrap_or_else(|e| panic!("{text}: {e}"));
        let want = if is_int(&t) { NumberType::Int } else { NumberType::Double };
        prop_assert_eq!(expr.number_type(), want, "{}", text);
        for (i, s, j) in points {
            let env = Env { i, s, j, ..Env::default() };
            match (expr.eval(&env), eval(&t, i, s, j)) {
                (Ok(got), Ok(reference)) => {
                    prop_assert!(same(got, reference), "{text} at {i},{s},{j}: {got:?} vs {reference:?}");
                }
                (Err(_), Err(())) => {}
                (got, reference) => {
                    prop_assert!(false, "{text} at {i},{s},{j}: {got:?} vs {reference:?}");
                }
            }
        }
    }

    #[test]
    fn padded_template_fields_format_like_python(
        t in tree().prop_filter("integer", is_int),
        width in 0usize..12,
        prefix in "[a-z/_-]{0,6}",
        i in 0i64..1_000_000,
    ) {
        let text = print(&t, &mut std::iter::repeat(false));
        let template = Template::parse(&format!("{prefix}{{{text}:0{width}d}}/{{key}}"), Scope::ARTIFACT).unwrap();
        let env = Env { i, s: 1, j: 2, key: "k", ..Env::default() };
        match (template.to_string_at(&env), eval(&t, i, 1, 2)) {
            (Ok(got), Ok(Val::Int(v))) => prop_assert_eq!(got, format!("{prefix}{v:0width$}/k")),
            (Err(_), Err(())) => {}
            (got, reference) => prop_assert!(false, "{text}: {got:?} vs {reference:?}"),
        }
    }
}

#[test]
fn nesting_and_length_are_bounded() {
    let deep = format!("{}i{}", "(".repeat(40), ")".repeat(40));
    let err = Expr::parse(&deep, Scope::CONTEXT).unwrap_err();
    assert!(err.to_string().contains("nested deeper"), "{err}");
    let ok = format!("{}i{}", "(".repeat(30), ")".repeat(30));
    assert!(Expr::parse(&ok, Scope::CONTEXT).is_ok());
    let long = vec!["i"; 3000].join("+");
    assert!(
        Expr::parse(&long, Scope::CONTEXT)
            .unwrap_err()
            .to_string()
            .contains("longer")
    );
    let chain = vec!["i"; 2000].join("+");
    let expr = Expr::parse(&chain, Scope::CONTEXT).unwrap();
    assert_eq!(
        expr.eval(&Env {
            i: 3,
            ..Env::default()
        })
        .unwrap(),
        Number::Int(6000)
    );
}

#[test]
fn decimal_literals_and_spacing() {
    let env = Env {
        i: 4,
        ..Env::default()
    };
    for (text, value) in [
        (".5 + i", Number::Double(4.5)),
        ("2. * i", Number::Double(8.0)),
        (" ( i )\t% 3 ", Number::Int(1)),
        ("i - 10 % 4", Number::Int(2)),
        ("7 / 2", Number::Double(3.5)),
        ("8 / 2", Number::Double(4.0)),
    ] {
        assert_eq!(
            Expr::parse(text, Scope::CONTEXT)
                .unwrap()
                .eval(&env)
                .unwrap(),
            value,
            "{text}"
        );
    }
    for bad in [".", "1..2", "1.2.3", "2i", "i j", "()", "", "1e3", "s"] {
        assert!(Expr::parse(bad, Scope::CONTEXT).is_err(), "{bad}");
    }
}
