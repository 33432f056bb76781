//! Properties and scipy comparisons of the rank and distance tests:
//! Anderson–Darling, Mann–Whitney U, the t-tests, Epps–Singleton, and the
//! Wasserstein and energy distances.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use keelson_drift::anderson::anderson_ksamp;
use keelson_drift::distance::{energy_distance, wasserstein_distance};
use keelson_drift::epps_singleton::{DEFAULT_T, epps_singleton_2samp};
use keelson_drift::mann_whitney::{Alternative, MwuMethod, mann_whitney_u};
use keelson_drift::ttest::ttest_ind;
use keelson_drift::{SortedSample, TestResult};
use proptest::prelude::*;

fn sorted(values: &[f64]) -> SortedSample {
    SortedSample::new(values, "sample").unwrap()
}

fn close(actual: f64, expected: f64, rtol: f64) -> bool {
    actual == expected || (actual - expected).abs() <= rtol * expected.abs()
}

fn mwu(x: &[f64], y: &[f64], alternative: Alternative) -> TestResult {
    mann_whitney_u(&sorted(x), &sorted(y), alternative, MwuMethod::Auto).unwrap()
}

/// Multiples of 1/64 in [-64, 64]: exact under integer shifts, and with few
/// enough distinct values that ties are common.
fn grid_values(max_len: usize) -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(
        (-4096i32..=4096).prop_map(|k| f64::from(k) / 64.0),
        1..max_len,
    )
}

/// Continuous-looking values with a wide spread of magnitudes.
fn real_values(max_len: usize) -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(-1e3f64..1e3, 1..max_len)
}

/// Either kind, so that both tied and untied samples are drawn.
fn values(max_len: usize) -> impl Strategy<Value = Vec<f64>> {
    prop_oneof![grid_values(max_len), real_values(max_len)]
}

fn reversed_and_rotated(values: &[f64]) -> Vec<f64> {
    let mut out: Vec<f64> = values.iter().rev().copied().collect();
    out.rotate_left(values.len() / 3);
    out
}

proptest! {
    #[test]
    fn distances_are_symmetric(a in values(60), b in values(60)) {
        let (sa, sb) = (sorted(&a), sorted(&b));
        let w_ab = wasserstein_distance(&sa, &sb).unwrap();
        let w_ba = wasserstein_distance(&sb, &sa).unwrap();
        prop_assert!(close(w_ab, w_ba, 1e-12), "{w_ab} vs {w_ba}");
        let e_ab = energy_distance(&sa, &sb).unwrap();
        let e_ba = energy_distance(&sb, &sa).unwrap();
        prop_assert!(close(e_ab, e_ba, 1e-12), "{e_ab} vs {e_ba}");
        prop_assert!(w_ab >= 0.0 && e_ab >= 0.0);
    }

    #[test]
    fn distances_vanish_on_identical_samples(a in values(60)) {
        let s = sorted(&a);
        prop_assert_eq!(wasserstein_distance(&s, &s).unwrap(), 0.0);
        prop_assert_eq!(energy_distance(&s, &s).unwrap(), 0.0);
    }

    #[test]
    fn distances_are_translation_invariant(a in grid_values(60), b in grid_values(60), shift in -1000i32..1000) {
        let c = f64::from(shift);
        let moved_a: Vec<f64> = a.iter().map(|v| v + c).collect();
        let moved_b: Vec<f64> = b.iter().map(|v| v + c).collect();
        let (sa, sb, ma, mb) = (sorted(&a), sorted(&b), sorted(&moved_a), sorted(&moved_b));
        let w = wasserstein_distance(&sa, &sb).unwrap();
        prop_assert!(close(wasserstein_distance(&ma, &mb).unwrap(), w, 1e-12));
        let e = energy_distance(&sa, &sb).unwrap();
        prop_assert!(close(energy_distance(&ma, &mb).unwrap(), e, 1e-12));
    }

    #[test]
    fn distances_scale_with_the_data(a in values(40), b in values(40), power in -8i32..8) {
        let s = 2f64.powi(power);
        let scaled_a: Vec<f64> = a.iter().map(|v| v * s).collect();
        let scaled_b: Vec<f64> = b.iter().map(|v| v * s).collect();
        let (sa, sb, ta, tb) = (sorted(&a), sorted(&b), sorted(&scaled_a), sorted(&scaled_b));
        let w = wasserstein_distance(&sa, &sb).unwrap();
        prop_assert!(close(wasserstein_distance(&ta, &tb).unwrap(), s * w, 1e-12));
        let e = energy_distance(&sa, &sb).unwrap();
        prop_assert!(close(energy_distance(&ta, &tb).unwrap(), s.sqrt() * e, 1e-12));
    }

    #[test]
    fn mann_whitney_statistics_add_up(a in values(40), b in values(40)) {
        let ab = mwu(&a, &b, Alternative::TwoSided);
        let ba = mwu(&b, &a, Alternative::TwoSided);
        let nm = (a.len() * b.len()) as f64;
        prop_assert_eq!(ab.statistic + ba.statistic, nm);
        prop_assert!(close(ab.pvalue.unwrap(), ba.pvalue.unwrap(), 1e-12));
        // The one-sided tails swap with the samples.
        let less = mwu(&a, &b, Alternative::Less).pvalue.unwrap();
        let greater = mwu(&b, &a, Alternative::Greater).pvalue.unwrap();
        prop_assert!(close(less, greater, 1e-12), "{less} vs {greater}");
        let p = ab.pvalue.unwrap();
        prop_assert!((0.0..=1.0).contains(&p));
    }

    #[test]
    fn mann_whitney_on_identical_samples(a in values(40)) {
        let r = mwu(&a, &a, Alternative::TwoSided);
        let n = a.len() as f64;
        prop_assert_eq!(r.statistic, n * n / 2.0);
        prop_assert_eq!(r.pvalue, Some(1.0));
    }

    #[test]
    fn ttest_is_antisymmetric(a in values(50), b in values(50), equal_var in any::<bool>()) {
        prop_assume!(a.len() >= 2 && b.len() >= 2);
        let ab = ttest_ind(&a, &b, equal_var).unwrap();
        let ba = ttest_ind(&b, &a, equal_var).unwrap();
        if ab.statistic.is_nan() {
            prop_assert!(ba.statistic.is_nan());
        } else {
            prop_assert_eq!(ab.statistic, -ba.statistic);
            prop_assert!(close(ab.pvalue.unwrap(), ba.pvalue.unwrap(), 1e-12));
        }
    }

    #[test]
    fn ttest_on_identical_samples(a in values(50)) {
        prop_assume!(a.len() >= 2 && a.iter().any(|&v| v != a[0]));
        let r = ttest_ind(&a, &a, true).unwrap();
        prop_assert_eq!(r.statistic, 0.0);
        prop_assert!(close(r.pvalue.unwrap(), 1.0, 1e-12));
    }

    #[test]
    fn ttest_ignores_row_order(a in values(50), b in values(50)) {
        prop_assume!(a.len() >= 2 && b.len() >= 2);
        let r = ttest_ind(&a, &b, false).unwrap();
        let shuffled = ttest_ind(&reversed_and_rotated(&a), &reversed_and_rotated(&b), false).unwrap();
        // Summation order changes the last bits of the means.
        prop_assert!(
            (r.statistic - shuffled.statistic).abs() <= 1e-9 * (1.0 + r.statistic.abs())
                || (r.statistic.is_nan() && shuffled.statistic.is_nan())
        );
    }

    #[test]
    fn sorted_tests_ignore_row_order(a in values(40), b in values(40)) {
        let (sa, sb) = (sorted(&a), sorted(&b));
        let (ra, rb) = (sorted(&reversed_and_rotated(&a)), sorted(&reversed_and_rotated(&b)));
        prop_assert_eq!(wasserstein_distance(&sa, &sb).unwrap(), wasserstein_distance(&ra, &rb).unwrap());
        prop_assert_eq!(mwu(&a, &b, Alternative::TwoSided), mwu(&reversed_and_rotated(&a), &b, Alternative::TwoSided));
        match (anderson_ksamp(&[&sa, &sb]), anderson_ksamp(&[&ra, &rb])) {
            (Ok(x), Ok(y)) => prop_assert!(x.statistic == y.statistic || (x.statistic.is_nan() && y.statistic.is_nan())),
            (Err(_), Err(_)) => {}
            (x, y) => prop_assert!(false, "{x:?} vs {y:?}"),
        }
    }

    #[test]
    fn anderson_is_symmetric_in_its_samples(a in values(40), b in values(40)) {
        let (sa, sb) = (sorted(&a), sorted(&b));
        match (anderson_ksamp(&[&sa, &sb]), anderson_ksamp(&[&sb, &sa])) {
            (Ok(x), Ok(y)) => {
                prop_assert!(x.statistic == y.statistic || (x.statistic.is_nan() && y.statistic.is_nan()));
                prop_assert!(x.pvalue == y.pvalue || (x.pvalue.is_nan() && y.pvalue.is_nan()));
                prop_assert!(x.pvalue.is_nan() || (0.001..=0.25).contains(&x.pvalue));
            }
            (Err(_), Err(_)) => {}
            (x, y) => prop_assert!(false, "{x:?} vs {y:?}"),
        }
    }

    #[test]
    fn anderson_accepts_identical_samples(a in values(40)) {
        // Each sample holds half of every tie group, so A²akN is exactly 0.
        prop_assume!(a.len() >= 2 && a.iter().any(|&v| v != a[0]));
        let s = sorted(&a);
        let r = anderson_ksamp(&[&s, &s]).unwrap();
        prop_assert!(r.statistic < 0.0);
        prop_assert_eq!(r.pvalue, 0.25);
    }

    #[test]
    fn epps_singleton_is_symmetric(a in values(40), b in values(40)) {
        prop_assume!(a.len() >= 5 && b.len() >= 5);
        let (sa, sb) = (sorted(&a), sorted(&b));
        match (epps_singleton_2samp(&sa, &sb, &DEFAULT_T), epps_singleton_2samp(&sb, &sa, &DEFAULT_T)) {
            (Ok(x), Ok(y)) => {
                prop_assert!(close(x.statistic, y.statistic, 1e-12), "{} vs {}", x.statistic, y.statistic);
            }
            (Err(_), Err(_)) => {}
            (x, y) => prop_assert!(false, "{x:?} vs {y:?}"),
        }
    }

    #[test]
    fn epps_singleton_on_identical_samples(a in values(40)) {
        prop_assume!(a.len() >= 5);
        let s = sorted(&a);
        if let Ok(r) = epps_singleton_2samp(&s, &s, &DEFAULT_T) {
            prop_assert_eq!(r.statistic, 0.0);
        }
    }
}

/// Sample `i` of a reproducible stream: 64-bit LCG, value
/// `((state >> 33) % modulus) / 64 + offset`, exact in f64 (the Python
/// generator of the expected numbers uses the same recurrence).
fn lcg(seed: u64, n: usize, modulus: u64, offset: f64) -> Vec<f64> {
    let mut state = seed;
    (0..n)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 33) % modulus) as f64 / 64.0 + offset
        })
        .collect()
}

struct Case {
    name: &'static str,
    reference: (u64, usize, u64, f64),
    current: (u64, usize, u64, f64),
    anderson: (f64, f64),
    mwu_u1: f64,
    mwu_p: [f64; 3],
    student: (f64, f64),
    welch: (f64, f64),
    epps_singleton: (f64, f64),
    wasserstein: f64,
    energy: f64,
}

// Expected numbers from scipy 1.17.1 on x = lcg(*reference), y = lcg(*current).
const CASES: [Case; 6] = [
    Case {
        name: "exact_6_7",
        reference: (1, 6, 1048576, 0.0),
        current: (2, 7, 1048576, 100.0),
        // anderson_ksamp([x, y], midrank=True)
        anderson: (0.9100009494495427, 0.13804334662315343),
        // mannwhitneyu(x, y, alternative=...) for two-sided, less, greater (exact)
        mwu_u1: 11.0,
        mwu_p: [0.18065268065268064, 0.09032634032634032, 0.9312354312354312],
        // ttest_ind(x, y), ttest_ind(x, y, equal_var=False)
        student: (-1.2353869641293036, 0.24242130807433077),
        welch: (-1.2125894554214232, 0.2543605601166203),
        // epps_singleton_2samp(x, y)
        epps_singleton: (12.31725709393791, 0.015141588313367909),
        // wasserstein_distance(x, y), energy_distance(x, y)
        wasserstein: 3876.4575892857147,
        energy: 53.4664348106412,
    },
    Case {
        name: "exact_8_40",
        reference: (3, 8, 1048576, 0.0),
        current: (4, 40, 1048576, 0.0),
        anderson: (1.399350362407956, 0.08603532448698169),
        // exact: the smaller sample has 8 values and there are no ties
        mwu_u1: 217.0,
        mwu_p: [0.1194928480450646, 0.9435633476208499, 0.0597464240225323],
        student: (1.4172181183740489, 0.16315703361524572),
        welch: (1.2559574144632466, 0.2405277611401098),
        epps_singleton: (16.411380354577325, 0.002514029619923937),
        wasserstein: 2657.4785156250005,
        energy: 37.9316637294128,
    },
    Case {
        name: "asymptotic_9_9",
        reference: (5, 9, 1048576, 0.0),
        current: (6, 9, 1048576, 300.0),
        anderson: (0.972946358090379, 0.1298346086632951),
        // asymptotic: both samples have more than 8 values
        mwu_u1: 59.0,
        mwu_p: [0.11196135426374831, 0.9533011627356037, 0.05598067713187416],
        student: (1.3868312117217085, 0.18451250361757202),
        welch: (1.3868312117217083, 0.18451256466879556),
        epps_singleton: (3.8430475225501, 0.4276635695089387),
        wasserstein: 2812.798611111111,
        energy: 37.27849187923411,
    },
    Case {
        name: "ties_5_6",
        reference: (7, 5, 5, 0.0),
        current: (8, 6, 5, 0.0),
        anderson: (-0.23320421186522114, 0.25),
        // asymptotic: small, but tied
        mwu_u1: 10.5,
        mwu_p: [0.44932353801940983, 0.22466176900970491, 0.8278438548695614],
        student: (-1.1524830746297956, 0.2788140543354025),
        welch: (-1.1124853987249623, 0.3028369950318724),
        epps_singleton: (13.468507981904017, 0.009199602913086455),
        wasserstein: 0.016145833333333335,
        energy: 0.10017346066809424,
    },
    Case {
        name: "ties_30_25",
        reference: (9, 30, 10, 0.0),
        current: (10, 25, 12, 0.0),
        anderson: (4.258196135516927, 0.006467118549709185),
        mwu_u1: 230.5,
        mwu_p: [
            0.014163072440735162,
            0.007081536220367581,
            0.9932469156558359,
        ],
        student: (-2.6494513538634803, 0.010601957572402013),
        welch: (-2.6093236200334666, 0.012109885854852533),
        epps_singleton: (9.550829343537773, 0.04871323045008413),
        wasserstein: 0.0325,
        energy: 0.12370439676009005,
    },
    Case {
        name: "large_2000_1500",
        reference: (11, 2000, 1048576, 0.0),
        current: (12, 1500, 1048576, 500.0),
        anderson: (9.556828665334749, 0.001),
        mwu_u1: 1402996.5,
        mwu_p: [
            0.0010423783432019346,
            0.0005211891716009673,
            0.9994788732488924,
        ],
        student: (-3.311645863226538, 0.0009369066886880344),
        welch: (-3.310107563546658, 0.0009428633441461926),
        epps_singleton: (26.120654971630543, 2.9920391870041904e-05),
        wasserstein: 540.7957265624999,
        energy: 6.046804831275332,
    },
];

/// Statistics and distances are held to 1e-12. Exact Mann–Whitney p-values
/// and Anderson's interpolation are pure arithmetic (1e-12); the others go
/// through the normal, t and chi-square tails (1e-9, the project's bar).
#[test]
fn matches_scipy_on_generated_samples() {
    for case in &CASES {
        let (s, n, m, o) = case.reference;
        let x = lcg(s, n, m, o);
        let (s, n, m, o) = case.current;
        let y = lcg(s, n, m, o);
        let (sx, sy) = (sorted(&x), sorted(&y));
        let name = case.name;
        let check = |what: &str, actual: f64, expected: f64, rtol: f64| {
            assert!(
                close(actual, expected, rtol),
                "{name} {what}: {actual} vs scipy {expected}"
            );
        };

        let ad = anderson_ksamp(&[&sx, &sy]).unwrap();
        check("anderson statistic", ad.statistic, case.anderson.0, 1e-12);
        check("anderson p", ad.pvalue, case.anderson.1, 1e-12);

        let exact = name.starts_with("exact");
        let p_tol = if exact { 1e-12 } else { 1e-9 };
        for (alternative, expected) in [
            Alternative::TwoSided,
            Alternative::Less,
            Alternative::Greater,
        ]
        .into_iter()
        .zip(case.mwu_p)
        {
            let r = mann_whitney_u(&sx, &sy, alternative, MwuMethod::Auto).unwrap();
            check("mwu U1", r.statistic, case.mwu_u1, 0.0);
            check("mwu p", r.pvalue.unwrap(), expected, p_tol);
        }

        let r = ttest_ind(&x, &y, true).unwrap();
        check("student t", r.statistic, case.student.0, 1e-12);
        check("student p", r.pvalue.unwrap(), case.student.1, 1e-9);
        let r = ttest_ind(&x, &y, false).unwrap();
        check("welch t", r.statistic, case.welch.0, 1e-12);
        check("welch p", r.pvalue.unwrap(), case.welch.1, 1e-9);

        let r = epps_singleton_2samp(&sx, &sy, &DEFAULT_T).unwrap();
        check(
            "epps-singleton W",
            r.statistic,
            case.epps_singleton.0,
            1e-11,
        );
        check(
            "epps-singleton p",
            r.pvalue.unwrap(),
            case.epps_singleton.1,
            1e-9,
        );

        check(
            "wasserstein",
            wasserstein_distance(&sx, &sy).unwrap(),
            case.wasserstein,
            1e-12,
        );
        check(
            "energy",
            energy_distance(&sx, &sy).unwrap(),
            case.energy,
            1e-12,
        );
    }
}

#[test]
fn anderson_three_samples_match_scipy() {
    let samples = [
        lcg(13, 20, 50, 0.0),
        lcg(14, 15, 50, 0.0),
        lcg(15, 10, 50, 0.1),
    ];
    let sorted_samples: Vec<SortedSample> = samples.iter().map(|s| sorted(s)).collect();
    let refs: Vec<&SortedSample> = sorted_samples.iter().collect();
    // anderson_ksamp([lcg(13,20,50,0), lcg(14,15,50,0), lcg(15,10,50,0.1)], midrank=True)
    let r = anderson_ksamp(&refs).unwrap();
    assert!(
        close(r.statistic, 3.4066664086531793, 1e-12),
        "{}",
        r.statistic
    );
    assert!(close(r.pvalue, 0.010213357875334714, 1e-12), "{}", r.pvalue);
}

#[test]
fn exact_and_asymptotic_can_be_forced() {
    let x = lcg(1, 6, 1048576, 0.0);
    let y = lcg(2, 7, 1048576, 100.0);
    let (sx, sy) = (sorted(&x), sorted(&y));
    // mannwhitneyu(x, y, method='asymptotic') -> p 0.17473582321524717
    let r = mann_whitney_u(&sx, &sy, Alternative::TwoSided, MwuMethod::Asymptotic).unwrap();
    assert!(
        close(r.pvalue.unwrap(), 0.17473582321524717, 1e-9),
        "{:?}",
        r.pvalue
    );
    // mannwhitneyu on lcg(5, 9, 2**20, 0) vs lcg(6, 9, 2**20, 300), method='exact' -> p 0.1134923899629782
    let x = lcg(5, 9, 1048576, 0.0);
    let y = lcg(6, 9, 1048576, 300.0);
    let r = mann_whitney_u(
        &sorted(&x),
        &sorted(&y),
        Alternative::TwoSided,
        MwuMethod::Exact,
    )
    .unwrap();
    assert!(
        close(r.pvalue.unwrap(), 0.1134923899629782, 1e-12),
        "{:?}",
        r.pvalue
    );
}
