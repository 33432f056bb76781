//! Quantities and resource lists through the public API, with generated
//! inputs: parsing agrees with an independent reading of the same number,
//! text round-trips, and list arithmetic never goes negative or loses an
//! amount.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use keelson_sched::{Quantity, Resources};
use proptest::prelude::*;

const SUFFIXES: [(&str, i128); 13] = [
    ("", 1000),
    ("m", 1),
    ("k", 1_000_000),
    ("M", 1_000_000_000),
    ("G", 1_000_000_000_000),
    ("T", 1_000_000_000_000_000),
    ("Ki", 1024 * 1000),
    ("Mi", (1 << 20) * 1000),
    ("Gi", (1 << 30) * 1000),
    ("Ti", (1i128 << 40) * 1000),
    ("Pi", (1i128 << 50) * 1000),
    ("e3", 1_000_000),
    ("E-3", 1),
];

proptest! {
    #[test]
    fn integers_with_suffixes_parse_exactly(n in 0i64..1_000_000_000, s in 0usize..SUFFIXES.len(), negative: bool) {
        let (suffix, milli) = SUFFIXES[s];
        let sign = if negative { "-" } else { "" };
        let q = Quantity::parse(&format!("{sign}{n}{suffix}")).unwrap();
        let expected = i128::from(n) * milli;
        prop_assert_eq!(q.milli(), if negative { -expected } else { expected });
    }

    #[test]
    fn decimals_round_up_to_thousandths(int in 0u32..100_000, frac in 0u32..1_000_000) {
        let text = format!("{int}.{frac:06}");
        let micro = i128::from(int) * 1_000_000 + i128::from(frac);
        let q = Quantity::parse(&text).unwrap();
        prop_assert_eq!(q.milli(), (micro + 999) / 1000);
    }

    #[test]
    fn display_parses_back(milli in -(1i128 << 80)..(1i128 << 80)) {
        let q = Quantity::from_milli(milli);
        prop_assert_eq!(Quantity::parse(&q.to_string()).unwrap(), q);
    }

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,24}") {
        let _ = Quantity::parse(&text);
    }

    #[test]
    fn sums_and_differences_are_inverse(a in prop::collection::btree_map("[a-z]{1,3}", 0i64..1 << 40, 0..5),
                                        b in prop::collection::btree_map("[a-z]{1,3}", 0i64..1 << 40, 0..5)) {
        let list = |m: &std::collections::BTreeMap<String, i64>| {
            let mut r = Resources::new();
            for (k, v) in m { r.set(k, Quantity::from_milli(i128::from(*v))).unwrap(); }
            r
        };
        let (a, b) = (list(&a), list(&b));
        let sum = a.checked_add(&b).unwrap();
        prop_assert!(a.fits(&sum) && b.fits(&sum));
        prop_assert_eq!(sum.checked_sub(&b).unwrap(), a.clone());
        match b.checked_sub(&a) {
            Ok(rest) => prop_assert!(a.fits(&b) && rest.iter().all(|(_, q)| !q.is_negative())),
            Err(_) => prop_assert!(!a.fits(&b)),
        }
    }
}

#[test]
fn bad_lists_name_the_resource() {
    for (pairs, item) in [
        (vec![("cpu", "-1")], "cpu"),
        (vec![("memory", "lots")], "memory"),
        (
            vec![("nvidia.com/gpu", "1"), ("nvidia.com/gpu", "2")],
            "nvidia.com/gpu",
        ),
        (vec![("bad name", "1")], "bad name"),
    ] {
        let err = Resources::parse(pairs).unwrap_err();
        assert!(err.to_string().contains(item), "{err}");
    }
}

#[test]
fn lists_read_manifest_shapes() {
    let r: Resources = serde_json::from_str(
        r#"{"cpu": "500m", "memory": "1Gi", "nvidia.com/gpu": 2, "zero": "0"}"#,
    )
    .unwrap();
    assert_eq!(r.get("cpu").milli(), 500);
    assert_eq!(r.get("nvidia.com/gpu"), Quantity::from_units(2));
    assert_eq!(
        r.names().collect::<Vec<_>>(),
        ["cpu", "memory", "nvidia.com/gpu"]
    );
    assert!(serde_json::from_str::<Resources>(r#"{"cpu": "-2"}"#).is_err());
    let back: Resources = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
    assert_eq!(back, r);
}
