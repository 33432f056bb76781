//! `SortedSample` sorts exactly as `sort_unstable_by(f64::total_cmp)` does,
//! bit for bit, and rejects NaN at its first index.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use keelson_drift::{Error, SortedSample};
use proptest::prelude::*;

/// Any non-NaN float, weighted towards the values whose order is easy to get
/// wrong: signed zeros, infinities, subnormals and repeats.
fn value() -> impl Strategy<Value = f64> {
    prop_oneof![
        3 => any::<u64>()
            .prop_map(f64::from_bits)
            .prop_filter("not NaN", |x| !x.is_nan()),
        2 => -1e3f64..1e3,
        2 => (-5i32..5).prop_map(f64::from),
        1 => Just(0.0),
        1 => Just(-0.0),
        1 => Just(f64::INFINITY),
        1 => Just(f64::NEG_INFINITY),
        1 => (1u64..1 << 52).prop_map(f64::from_bits),
        1 => (1u64..1 << 52).prop_map(|b| -f64::from_bits(b)),
        1 => Just(f64::MAX),
        1 => Just(-f64::MIN_POSITIVE),
    ]
}

fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|x| x.to_bits()).collect()
}

fn expected(v: &[f64]) -> Vec<u64> {
    let mut w = v.to_vec();
    w.sort_unstable_by(f64::total_cmp);
    bits(&w)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn new_sorts_like_total_cmp(v in prop::collection::vec(value(), 0..400)) {
        let s = SortedSample::new(&v, "x").unwrap();
        prop_assert_eq!(bits(s.values()), expected(&v));
    }

    #[test]
    fn from_vec_sorts_like_total_cmp(v in prop::collection::vec(value(), 0..400)) {
        let s = SortedSample::from_vec(v.clone(), "x").unwrap();
        prop_assert_eq!(bits(s.values()), expected(&v));
    }

    #[test]
    fn sorted_and_reversed_inputs(mut v in prop::collection::vec(value(), 0..200)) {
        v.sort_unstable_by(f64::total_cmp);
        let want = bits(&v);
        prop_assert_eq!(bits(SortedSample::new(&v, "x").unwrap().values()), want.clone());
        v.reverse();
        prop_assert_eq!(bits(SortedSample::from_vec(v, "x").unwrap().values()), want);
    }

    #[test]
    fn nan_reported_at_first_index(
        v in prop::collection::vec(value(), 1..100),
        at in any::<prop::sample::Index>(),
        negative in any::<bool>(),
    ) {
        let i = at.index(v.len());
        let mut w = v.clone();
        w[i] = if negative { -f64::NAN } else { f64::NAN };
        for result in [SortedSample::new(&w, "col"), SortedSample::from_vec(w.clone(), "col")] {
            let is_nan_at_i = matches!(
                result,
                Err(Error::NaN { ref what, index }) if what == "col" && index == i
            );
            prop_assert!(is_nan_at_i);
        }
    }
}

#[test]
fn large_normal_sample_sorts_like_total_cmp() {
    use rand::SeedableRng;
    use rand_distr::{Distribution, StandardNormal};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
    let v: Vec<f64> = (0..100_000)
        .map(|i| {
            let x: f64 = StandardNormal.sample(&mut rng);
            if i % 1000 == 0 { -0.0 } else { x }
        })
        .collect();
    assert_eq!(
        bits(SortedSample::new(&v, "x").unwrap().values()),
        expected(&v)
    );
}
