//! `histogram_unsorted` and `Histogram::with_edges_unsorted` give exactly the
//! histogram (edges bit for bit, counts) or the error of the sorted path.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use keelson_drift::SortedSample;
use keelson_drift::histogram::{Binning, Histogram, histogram, histogram_unsorted};
use proptest::prelude::*;
use rand::SeedableRng;
use rand_distr::{Distribution, LogNormal, StandardNormal};

fn finite() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => -1e3f64..1e3,
        2 => (-6i32..6).prop_map(f64::from),
        1 => Just(0.0),
        1 => Just(-0.0),
        1 => (1u64..1 << 52).prop_map(f64::from_bits),
        1 => (1u64..1 << 52).prop_map(|b| -f64::from_bits(b)),
        1 => (0.0f64..1.0).prop_map(|x| x * 1e-300),
        1 => (0.0f64..1.0).prop_map(|x| 1e300 * x),
    ]
}

/// Mostly finite, sometimes infinite or NaN (where both paths must fail alike).
fn value() -> impl Strategy<Value = f64> {
    prop_oneof![
        40 => finite(),
        1 => Just(f64::INFINITY),
        1 => Just(f64::NEG_INFINITY),
        1 => Just(f64::NAN),
    ]
}

fn sample() -> impl Strategy<Value = Vec<f64>> {
    prop_oneof![
        prop::collection::vec(finite(), 0..300),
        prop::collection::vec(value(), 0..300),
        // Few distinct values: ties and collapsed quantiles.
        prop::collection::vec((-3i32..3).prop_map(f64::from), 1..200),
    ]
}

fn binning() -> impl Strategy<Value = Binning> {
    prop_oneof![
        (0usize..14).prop_map(|bins| Binning::ReferenceQuantiles { bins }),
        Just(Binning::ReferenceQuantiles { bins: 100 }),
        (0usize..130).prop_map(|bins| Binning::EqualWidth { bins }),
        Just(Binning::Sturges),
        Just(Binning::Doane),
        prop::collection::vec(value(), 0..12).prop_map(|mut e| {
            e.sort_by(f64::total_cmp);
            Binning::Edges(e)
        }),
    ]
}

fn sorted_path(r: &[f64], c: &[f64], binning: &Binning) -> Result<Histogram, String> {
    let r = SortedSample::new(r, "reference").map_err(|e| e.to_string())?;
    let c = SortedSample::new(c, "current").map_err(|e| e.to_string())?;
    histogram(&r, &c, binning).map_err(|e| e.to_string())
}

fn same(a: &Result<Histogram, String>, b: &Result<Histogram, String>) -> bool {
    match (a, b) {
        (Ok(a), Ok(b)) => {
            let bits = |h: &Histogram| h.edges().iter().map(|e| e.to_bits()).collect::<Vec<_>>();
            bits(a) == bits(b) && a == b
        }
        (Err(a), Err(b)) => a == b,
        _ => false,
    }
}

fn check(r: &[f64], c: &[f64], binning: &Binning) {
    let want = sorted_path(r, c, binning);
    let got = histogram_unsorted(r, c, binning).map_err(|e| e.to_string());
    assert!(
        same(&got, &want),
        "{binning:?}\nunsorted {got:?}\nsorted   {want:?}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn unsorted_equals_sorted(r in sample(), c in sample(), binning in binning()) {
        let want = sorted_path(&r, &c, &binning);
        let got = histogram_unsorted(&r, &c, &binning).map_err(|e| e.to_string());
        prop_assert!(same(&got, &want), "{:?}\nunsorted {:?}\nsorted   {:?}", binning, got, want);
    }

    #[test]
    fn with_edges_unsorted_equals_with_edges(
        r in sample(),
        c in sample(),
        mut edges in prop::collection::vec(value(), 0..40),
    ) {
        edges.sort_by(f64::total_cmp);
        let want = (|| {
            let rs = SortedSample::new(&r, "reference").map_err(|e| e.to_string())?;
            let cs = SortedSample::new(&c, "current").map_err(|e| e.to_string())?;
            Histogram::with_edges(edges.clone(), &rs, &cs).map_err(|e| e.to_string())
        })();
        let got = Histogram::with_edges_unsorted(edges.clone(), &r, &c).map_err(|e| e.to_string());
        prop_assert!(same(&got, &want), "{:?}\nunsorted {:?}\nsorted   {:?}", edges, got, want);
    }

    #[test]
    fn row_order_does_not_matter(r in prop::collection::vec(finite(), 1..200), binning in binning()) {
        let mut shuffled = r.clone();
        shuffled.reverse();
        let a = histogram_unsorted(&r, &r, &binning).map_err(|e| e.to_string());
        let b = histogram_unsorted(&shuffled, &shuffled, &binning).map_err(|e| e.to_string());
        prop_assert!(same(&a, &b));
    }
}

fn every_binning() -> Vec<Binning> {
    vec![
        Binning::ReferenceQuantiles { bins: 10 },
        Binning::ReferenceQuantiles { bins: 7 },
        Binning::ReferenceQuantiles { bins: 100 },
        Binning::EqualWidth { bins: 10 },
        Binning::EqualWidth { bins: 100 },
        // Wide cell slots, and more bins than the fixed counter table.
        Binning::EqualWidth { bins: 1000 },
        Binning::EqualWidth { bins: 5000 },
        Binning::Sturges,
        Binning::Doane,
        Binning::Edges(vec![f64::NEG_INFINITY, -1.0, -1.0, 0.0, 0.5, 3.0]),
    ]
}

#[test]
fn large_samples_match_sorted_path() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
    let normal = |rng: &mut rand_chacha::ChaCha8Rng, n: usize, shift: f64| -> Vec<f64> {
        (0..n)
            .map(|_| StandardNormal.sample(rng))
            .map(|x: f64| x + shift)
            .collect()
    };
    let lognormal = LogNormal::new(0.0, 2.0).unwrap();
    let skewed: Vec<f64> = (0..50_000).map(|_| lognormal.sample(&mut rng)).collect();
    let r = normal(&mut rng, 100_000, 0.0);
    let c = normal(&mut rng, 60_000, 0.05);
    let with_zeros: Vec<f64> = r
        .iter()
        .enumerate()
        .map(|(i, &x)| match i % 5 {
            0 => 0.0,
            1 => -0.0,
            _ => x,
        })
        .collect();
    let ints: Vec<f64> = r.iter().map(|x| (x * 3.0).round()).collect();
    let tiny: Vec<f64> = r.iter().map(|x| 1.0 + x * 1e-12).collect();
    let constant = vec![2.5; 70_000];
    let pairs: [(&[f64], &[f64]); 7] = [
        (&r, &c),
        (&skewed, &r),
        (&with_zeros, &r),
        (&ints, &c),
        (&tiny, &tiny[..1000]),
        (&constant, &r),
        (&r, &constant),
    ];
    for (a, b) in pairs {
        for binning in every_binning() {
            check(a, b, &binning);
        }
    }
}

#[test]
fn nan_errors_keep_the_sorted_path_order() {
    let clean = [1.0, 2.0, 3.0];
    let dirty = [1.0, f64::NAN, 3.0];
    for binning in every_binning().into_iter().chain([
        Binning::ReferenceQuantiles { bins: 0 },
        Binning::EqualWidth { bins: 0 },
    ]) {
        check(&dirty, &dirty, &binning);
        check(&clean, &dirty, &binning);
        check(&[], &dirty, &binning);
        check(&dirty, &[], &binning);
        check(&clean, &[], &binning);
    }
}
