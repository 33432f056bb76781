//! Properties of the categorical tests, histograms and divergences, and
//! scipy's numbers for chi-square and Fisher on a few tables.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use keelson_drift::categorical::{self, Category, CategoryCounts};
use keelson_drift::histogram::{Binning, Histogram, bin_edges, histogram};
use keelson_drift::{SortedSample, divergence, evidently, nannyml};
use proptest::prelude::*;

fn table(reference: &[u64], current: &[u64]) -> CategoryCounts {
    let map = |v: &[u64]| -> BTreeMap<Category, u64> {
        v.iter()
            .enumerate()
            .map(|(i, &c)| (Category::Int(i as i64), c))
            .collect()
    };
    CategoryCounts::from_counts(map(reference), map(current))
}

fn rel(a: f64, b: f64) -> f64 {
    if a == b { 0.0 } else { (a - b).abs() / b.abs() }
}

/// Proportion vectors of equal length with positive mass.
fn proportions() -> impl Strategy<Value = (Vec<f64>, Vec<f64>)> {
    (1usize..30).prop_flat_map(|k| {
        (
            prop::collection::vec(0u32..50, k),
            prop::collection::vec(0u32..50, k),
        )
            .prop_filter_map("needs mass", |(a, b)| {
                let (sa, sb) = (a.iter().sum::<u32>(), b.iter().sum::<u32>());
                (sa > 0 && sb > 0).then(|| {
                    let norm = |v: &[u32], s: u32| {
                        v.iter().map(|&x| f64::from(x) / f64::from(s)).collect()
                    };
                    (norm(&a, sa), norm(&b, sb))
                })
            })
    })
}

fn labels() -> impl Strategy<Value = Vec<i64>> {
    prop::collection::vec(0i64..12, 1..200)
}

fn values() -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(-1e3f64..1e3, 2..300)
}

fn ints(v: &[i64]) -> Vec<Category> {
    v.iter().map(|&x| Category::Int(x)).collect()
}

proptest! {
    #[test]
    fn identical_distributions_have_zero_divergence((p, _) in proportions()) {
        prop_assert_eq!(divergence::psi(&p, &p, divergence::PSI_EPS).unwrap(), 0.0);
        prop_assert_eq!(divergence::kl_divergence(&p, &p).unwrap(), 0.0);
        prop_assert_eq!(divergence::jensen_shannon(&p, &p, Some(2.0)).unwrap(), 0.0);
        prop_assert_eq!(divergence::l_infinity(&p, &p).unwrap(), 0.0);
        prop_assert_eq!(divergence::total_variation(&p, &p).unwrap(), 0.0);
        // 1 − Σp is a rounding error, whose square root is about 1e-8.
        prop_assert!(divergence::hellinger(&p, &p).unwrap() < 1e-7);
    }

    #[test]
    fn symmetric_distances_are_symmetric((p, q) in proportions()) {
        prop_assert_eq!(divergence::jensen_shannon(&p, &q, None).unwrap(), divergence::jensen_shannon(&q, &p, None).unwrap());
        prop_assert_eq!(divergence::hellinger(&p, &q).unwrap(), divergence::hellinger(&q, &p).unwrap());
        prop_assert_eq!(divergence::l_infinity(&p, &q).unwrap(), divergence::l_infinity(&q, &p).unwrap());
        prop_assert_eq!(divergence::total_variation(&p, &q).unwrap(), divergence::total_variation(&q, &p).unwrap());
        let (a, b) = (divergence::psi(&p, &q, 1e-4).unwrap(), divergence::psi(&q, &p, 1e-4).unwrap());
        prop_assert!((a - b).abs() <= 1e-12 * a.abs().max(1e-300), "{} {}", a, b);
        let js = divergence::jensen_shannon(&p, &q, Some(2.0)).unwrap();
        prop_assert!((0.0..=1.0 + 1e-15).contains(&js));
        prop_assert!(divergence::kl_divergence(&p, &q).unwrap() >= -1e-15);
    }

    #[test]
    fn table_tests_ignore_row_order(r in labels(), c in labels(), seed in any::<u64>()) {
        let whole = CategoryCounts::from_values(ints(&r), ints(&c));
        let mut shuffled_r = r.clone();
        let mut shuffled_c = c.clone();
        // A deterministic permutation from the seed: rotate and reverse.
        let (kr, kc) = ((seed as usize) % r.len(), (seed as usize >> 8) % c.len());
        shuffled_r.rotate_left(kr);
        shuffled_c.reverse();
        shuffled_c.rotate_left(kc);
        let again = CategoryCounts::from_values(ints(&shuffled_r), ints(&shuffled_c));
        prop_assert_eq!(&whole, &again);
        prop_assert_eq!(categorical::tvd(&whole), categorical::tvd(&again));
        prop_assert_eq!(
            categorical::chi2_contingency(&whole, true).unwrap(),
            categorical::chi2_contingency(&again, true).unwrap()
        );
    }

    #[test]
    fn shard_counts_merge_into_the_whole(r in labels(), c in labels(), cut in 0usize..200) {
        let whole = CategoryCounts::from_values(ints(&r), ints(&c));
        let (r1, r2) = r.split_at(cut.min(r.len()));
        let (c1, c2) = c.split_at(cut.min(c.len()));
        let mut merged = CategoryCounts::from_values(ints(r1), ints(c1));
        merged.merge(&CategoryCounts::from_values(ints(r2), ints(c2)));
        prop_assert_eq!(merged, whole);
    }

    #[test]
    fn shard_histograms_merge_into_the_whole(r in values(), c in values(), cut in 0usize..300, bins in 1usize..40) {
        let rs = SortedSample::new(&r, "reference").unwrap();
        let cs = SortedSample::new(&c, "current").unwrap();
        for binning in [Binning::EqualWidth { bins }, Binning::ReferenceQuantiles { bins }, Binning::Sturges, Binning::Doane] {
            let whole = histogram(&rs, &cs, &binning).unwrap();
            let edges = whole.edges().to_vec();
            let (r1, r2) = r.split_at(cut.min(r.len()));
            let (c1, c2) = c.split_at(cut.min(c.len()));
            let shard = |a: &[f64], b: &[f64]| {
                Histogram::with_edges(
                    edges.clone(),
                    &SortedSample::new(a, "reference").unwrap(),
                    &SortedSample::new(b, "current").unwrap(),
                )
                .unwrap()
            };
            let mut merged = shard(r1, c1);
            merged.merge(&shard(r2, c2)).unwrap();
            prop_assert_eq!(&merged, &whole);
            prop_assert_eq!(whole.reference().iter().sum::<u64>(), r.len() as u64);
            // Doane's edges span the reference only; the others span both samples.
            if binning != Binning::Doane {
                prop_assert_eq!(whole.current().iter().sum::<u64>(), c.len() as u64);
            }
        }
    }

    #[test]
    fn identical_samples_give_zero_histogram_divergences(r in values()) {
        let s = SortedSample::new(&r, "reference").unwrap();
        let mut reversed = r.clone();
        reversed.reverse();
        let t = SortedSample::new(&reversed, "current").unwrap();
        let h = histogram(&s, &t, &Binning::ReferenceQuantiles { bins: 10 }).unwrap();
        prop_assert_eq!(h.reference(), h.current());
        let (p, q) = (h.reference_proportions(), h.current_proportions());
        prop_assert_eq!(divergence::psi(&p, &q, 1e-4).unwrap(), 0.0);
        prop_assert_eq!(evidently::psi(&s, &t).unwrap(), 0.0);
        prop_assert_eq!(evidently::jensenshannon(&s, &t).unwrap(), 0.0);
        // NannyML may add a leftover bin holding the rounding error of 1 − Σq,
        // which can make the divergence a tiny negative number and the
        // distance NaN, exactly as NannyML does.
        let nanny = nannyml::jensen_shannon_numeric(&s, &t).unwrap();
        prop_assert!(nanny.is_nan() || nanny < 1e-7, "{}", nanny);
    }

    #[test]
    fn edges_are_monotone(r in values(), c in values(), bins in 1usize..50) {
        let rs = SortedSample::new(&r, "reference").unwrap();
        let cs = SortedSample::new(&c, "current").unwrap();
        for binning in [Binning::EqualWidth { bins }, Binning::ReferenceQuantiles { bins }, Binning::Sturges, Binning::Doane] {
            let e = bin_edges(&rs, &cs, &binning).unwrap();
            prop_assert!(e.windows(2).all(|w| w[0] < w[1]), "{:?} {:?}", binning, e);
        }
    }
}

#[test]
fn kl_is_not_symmetric() {
    let (p, q) = ([0.1, 0.2, 0.7], [0.3, 0.3, 0.4]);
    let (a, b) = (
        divergence::kl_divergence(&p, &q).unwrap(),
        divergence::kl_divergence(&q, &p).unwrap(),
    );
    assert!(rel(a, b) > 0.05, "{a} {b}");
}

/// (reference counts, current counts, Yates correction, statistic, p-value, dof).
type Chi2Case<'a> = (&'a [u64], &'a [u64], bool, f64, f64, usize);

#[test]
fn chi2_contingency_matches_scipy() {
    // scipy.stats.chi2_contingency(table, correction) -> statistic, pvalue, dof
    let cases: [Chi2Case; 8] = [
        (
            &[5000, 5000],
            &[5100, 4900],
            true,
            1.9603960396039604,
            0.1614709690812994,
            1,
        ),
        (
            &[5000, 5000],
            &[5100, 4900],
            false,
            2.0002000200020005,
            0.15727845115653427,
            1,
        ),
        (
            &[12, 0, 7, 3],
            &[4, 9, 9, 1],
            true,
            14.234807312252965,
            0.0026023522245967505,
            3,
        ),
        (
            &[12, 0, 7, 3],
            &[4, 9, 9, 1],
            false,
            14.234807312252965,
            0.0026023522245967505,
            3,
        ),
        (
            &[1, 2, 3, 4, 5],
            &[5, 4, 3, 2, 1],
            true,
            6.666666666666666,
            0.1545873045047604,
            4,
        ),
        (
            &[1, 2, 3, 4, 5],
            &[5, 4, 3, 2, 1],
            false,
            6.666666666666666,
            0.1545873045047604,
            4,
        ),
        (
            &[100, 3],
            &[90, 20],
            true,
            11.33895005968238,
            0.0007589822254875917,
            1,
        ),
        (
            &[100, 3],
            &[90, 20],
            false,
            12.875392075876404,
            0.00033293096853280436,
            1,
        ),
    ];
    for (r, c, correction, statistic, pvalue, dof) in cases {
        let got = categorical::chi2_contingency(&table(r, c), correction).unwrap();
        assert_eq!(got.dof, dof);
        assert!(rel(got.statistic, statistic) < 1e-14, "{r:?} {c:?} {got:?}");
        assert!(rel(got.pvalue, pvalue) < 1e-10, "{r:?} {c:?} {got:?}");
    }
}

#[test]
fn fisher_exact_matches_scipy() {
    // scipy.stats.fisher_exact([r, c]) -> odds ratio, two-sided p-value.
    // scipy's (Boost's) tail sums lose digits on large tables: for the sixth
    // table a 60-digit computation gives 4.8109550389435664e-17, which is
    // what keelson returns, 1e-10 away from scipy.
    let cases: [([u64; 2], [u64; 2], f64, f64); 8] = [
        (
            [5000, 5000],
            [5100, 4900],
            0.9607843137254902,
            0.16146929150845823,
        ),
        ([3, 7], [7, 3], 0.1836734693877551, 0.1788954079975752),
        ([0, 5], [5, 0], 0.0, 0.007936507936507938),
        (
            [1000, 1],
            [990, 11],
            11.11111111111111,
            0.006203614712586621,
        ),
        ([20, 30], [30, 20], 0.4444444444444444, 0.0713424034882103),
        (
            [123456, 654321],
            [120000, 660000],
            1.0377291879673738,
            4.810955038452088e-17,
        ),
        ([2, 0], [0, 3], f64::INFINITY, 0.10000000000000002),
        (
            [4000000, 6000000],
            [4010000, 5990000],
            0.9958437240232751,
            5.043970767954187e-06,
        ),
    ];
    for (r, c, odds, pvalue) in cases {
        let got = categorical::fisher_exact(&table(&r, &c)).unwrap();
        assert!(rel(got.statistic, odds) < 1e-15, "{r:?} {c:?} {got:?}");
        assert!(
            rel(got.pvalue.unwrap(), pvalue) < 1e-9,
            "{r:?} {c:?} {got:?} want {pvalue}"
        );
    }
}

#[test]
fn tvd_permutation_is_seeded() {
    let t = table(&[30, 20, 10], &[20, 25, 15]);
    let a = categorical::tvd_permutation(&t, 500, 42);
    assert_eq!(a, categorical::tvd_permutation(&t, 500, 42));
    let p = a.pvalue.unwrap();
    assert!((0.0..=1.0).contains(&p));
}

/// Integer codes are counted in a direct table when their range is small
/// and hashed otherwise; both give the counts a plain map gives.
fn expected_int_counts(values: &[Option<i64>]) -> BTreeMap<Category, u64> {
    let mut want = BTreeMap::new();
    for v in values.iter().flatten() {
        *want.entry(Category::Int(*v)).or_insert(0) += 1;
    }
    want
}

proptest! {
    #[test]
    fn integer_columns_count_like_a_map(
        base in prop_oneof![Just(0i64), Just(-1_000_000), Just(i64::MAX - 300), Just(i64::MIN)],
        offsets in prop::collection::vec(prop::option::weighted(0.9, 0u32..300), 0..2_000),
        wide in any::<bool>(),
    ) {
        use keelson_drift::column::CategoricalColumn;
        let mut values: Vec<Option<i64>> = offsets
            .iter()
            .map(|o| o.map(|o| base.saturating_add(i64::from(o))))
            .collect();
        if wide {
            values.push(Some(i64::MIN));
            values.push(Some(i64::MAX));
        }
        let array = arrow::array::Int64Array::from(values.clone());
        let column = CategoricalColumn::from_array("codes", &array).unwrap();
        prop_assert_eq!(&column.categories, &expected_int_counts(&values));
        prop_assert_eq!(column.counts.rows, values.len());
        prop_assert_eq!(column.counts.null_count, values.iter().filter(|v| v.is_none()).count());
        let narrow: Vec<Option<i16>> = values
            .iter()
            .map(|v| v.map(|v| (v.rem_euclid(600) - 300) as i16))
            .collect();
        let column = CategoricalColumn::from_array("codes", &arrow::array::Int16Array::from(narrow.clone())).unwrap();
        let widened: Vec<Option<i64>> = narrow.iter().map(|v| v.map(i64::from)).collect();
        prop_assert_eq!(&column.categories, &expected_int_counts(&widened));
    }
}
