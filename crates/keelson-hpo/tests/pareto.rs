//! The `pareto` module and `Study::pareto_front` against brute force:
//! dominance written out again here, hypervolumes counted on a grid.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use keelson_hpo::{
    Direction, Error, Outcome, ParamSpec, RandomSampler, SearchSpace, Study, TrialState, pareto,
};
use proptest::prelude::*;

/// `a` no worse than `b` everywhere and better somewhere, all minimized.
fn brute_dominates(a: &[f64], b: &[f64]) -> bool {
    a.iter().zip(b).all(|(x, y)| x <= y) && a.iter().zip(b).any(|(x, y)| x < y)
}

/// Up to 30 points of `m` objectives on a small integer grid, so that ties
/// and duplicates are common.
fn points() -> impl Strategy<Value = Vec<Vec<f64>>> {
    (1usize..5).prop_flat_map(|m| {
        prop::collection::vec(
            prop::collection::vec((0u8..7).prop_map(f64::from), m),
            0..30,
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn the_first_front_is_exactly_the_undominated(points in points()) {
        let front = pareto::non_dominated(&points);
        let expected: Vec<usize> = (0..points.len())
            .filter(|&i| !points.iter().any(|p| brute_dominates(p, &points[i])))
            .collect();
        prop_assert_eq!(front, expected);
    }

    #[test]
    fn ranks_are_consistent_with_dominance(points in points()) {
        let fronts = pareto::non_dominated_sort(&points);
        let mut rank = vec![usize::MAX; points.len()];
        for (r, front) in fronts.iter().enumerate() {
            prop_assert!(!front.is_empty());
            prop_assert!(front.windows(2).all(|w| w[0] < w[1]));
            for &i in front {
                prop_assert_eq!(rank[i], usize::MAX, "{} in two fronts", i);
                rank[i] = r;
            }
        }
        prop_assert!(rank.iter().all(|&r| r != usize::MAX), "every point has a front");
        prop_assert_eq!(fronts.first().cloned().unwrap_or_default(), pareto::non_dominated(&points));
        for (a, p) in points.iter().enumerate() {
            for (b, q) in points.iter().enumerate() {
                if brute_dominates(p, q) {
                    prop_assert!(rank[a] < rank[b], "{:?} dominates {:?}", p, q);
                }
            }
            // A point of front r > 0 is dominated by one of front r - 1.
            if rank[a] > 0 {
                prop_assert!(fronts[rank[a] - 1].iter().any(|&d| brute_dominates(&points[d], p)));
            }
        }
    }

    #[test]
    fn hypervolume_counts_the_dominated_grid_cells(points in points()) {
        // Integer points in [0, 6] and the reference 7 everywhere: the
        // dominated region is a union of unit cells, counted one by one.
        let m = points.first().map_or(2, Vec::len);
        let reference = vec![7.0; m];
        let mut cells = 0u32;
        for code in 0..7u32.pow(m as u32) {
            let cell: Vec<f64> = (0..m).map(|k| f64::from(code / 7u32.pow(k as u32) % 7)).collect();
            if points.iter().any(|p| p.iter().zip(&cell).all(|(x, c)| x <= c)) {
                cells += 1;
            }
        }
        prop_assert_eq!(pareto::hypervolume(&points, &reference).unwrap(), f64::from(cells));
    }

    #[test]
    fn two_objective_hypervolume_matches_a_fine_grid_estimate(
        points in prop::collection::vec((0.0..1.0f64, 0.0..1.0f64), 1..12),
    ) {
        let points: Vec<[f64; 2]> = points.into_iter().map(|(x, y)| [x, y]).collect();
        let exact = pareto::hypervolume(&points, &[1.0, 1.0]).unwrap();
        const N: usize = 300;
        let mut covered = 0usize;
        for i in 0..N {
            for j in 0..N {
                let (x, y) = ((i as f64 + 0.5) / N as f64, (j as f64 + 0.5) / N as f64);
                covered += usize::from(points.iter().any(|p| p[0] <= x && p[1] <= y));
            }
        }
        let estimate = covered as f64 / (N * N) as f64;
        // Only cells the front's staircase (length <= 2) crosses can be wrong.
        let slack = (2 * N + points.len()) as f64 / (N * N) as f64;
        prop_assert!((exact - estimate).abs() <= slack, "{} vs {}", exact, estimate);
    }

    #[test]
    fn crowding_distance_on_a_two_objective_front(xs in prop::collection::btree_set(0u16..1000, 1..20)) {
        // Distinct x increasing, y decreasing: one front.
        let front: Vec<[f64; 2]> = xs.iter().map(|&x| {
            let x = f64::from(x) / 1000.0;
            [x, (1.0 - x).powi(2)]
        }).collect();
        let d = pareto::crowding_distance(&front).unwrap();
        let n = front.len();
        prop_assert_eq!(d[0], f64::INFINITY);
        prop_assert_eq!(d[n - 1], f64::INFINITY);
        let (rx, ry) = (front[n - 1][0] - front[0][0], front[0][1] - front[n - 1][1]);
        for i in 1..n.saturating_sub(1) {
            let mut expected = (front[i + 1][0] - front[i - 1][0]) / rx;
            if ry > 0.0 {
                expected += (front[i - 1][1] - front[i + 1][1]) / ry;
            }
            prop_assert!((d[i] - expected).abs() < 1e-12, "{}: {} vs {}", i, d[i], expected);
        }
    }

    #[test]
    fn the_study_pareto_front_is_its_undominated_complete_trials(
        directions in prop::collection::vec(prop_oneof![Just(Direction::Minimize), Just(Direction::Maximize)], 1..4),
        outcomes in prop::collection::vec((0u8..5, prop::collection::vec(0u8..5, 3)), 0..40),
    ) {
        let space = SearchSpace::new([ParamSpec::int("n", 0, 9)]).unwrap();
        let mut study = Study::multi(space, directions.clone(), RandomSampler::new(1)).unwrap();
        let m = directions.len();
        for (kind, values) in &outcomes {
            let t = study.ask().unwrap();
            let values: Vec<f64> = values[..m].iter().map(|&v| f64::from(v)).collect();
            match kind {
                0 => study.tell(t.id, Outcome::Failed).unwrap(),
                1 => {} // still running
                _ => study.tell(t.id, Outcome::Values(values)).unwrap(),
            }
        }
        // Better-or-equal per direction, written out without `pareto`.
        let no_worse = |a: f64, b: f64, d: Direction| match d {
            Direction::Minimize => a <= b,
            Direction::Maximize => a >= b,
        };
        let trials = study.trials();
        let complete: Vec<_> = trials.iter().filter(|t| t.state == TrialState::Complete).collect();
        let dominated_by = |a: &[f64], b: &[f64]| {
            (0..m).all(|k| no_worse(a[k], b[k], directions[k])) && a != b
        };
        let expected: Vec<u64> = complete
            .iter()
            .filter(|t| !complete.iter().any(|u| dominated_by(u.objectives(), t.objectives())))
            .map(|t| t.id)
            .collect();
        let front: Vec<u64> = study.pareto_front().iter().map(|t| t.id).collect();
        prop_assert_eq!(front, expected);
    }
}

#[test]
fn hypervolume_of_three_objectives_and_bad_input() {
    // Two overlapping boxes: 2*2*2 + 1*1*3 - 1*1*2 (their intersection).
    let v = pareto::hypervolume(&[[0.0, 0.0, 1.0], [1.0, 1.0, 0.0]], &[2.0, 2.0, 3.0]).unwrap();
    assert_eq!(v, 8.0 + 3.0 - 2.0);
    assert_eq!(
        pareto::hypervolume::<[f64; 2]>(&[], &[1.0, 1.0]).unwrap(),
        0.0
    );
    type Case<'a> = (&'a [&'a [f64]], &'a [f64], &'a str);
    let bad: [Case<'_>; 5] = [
        (&[&[0.0, 0.0], &[0.0]], &[1.0, 1.0], "points[1]"),
        (&[&[0.0, f64::NAN]], &[1.0, 1.0], "points[0]"),
        (&[&[0.0, 0.0]], &[1.0, f64::INFINITY], "reference"),
        (&[&[]], &[], "reference"),
        (&[&[0.0, 0.0, 0.0]], &[1.0, 1.0], "points[0]"),
    ];
    for (points, reference, name) in bad {
        let err = pareto::hypervolume(points, reference).unwrap_err();
        assert!(
            matches!(&err, Error::InvalidObjectives { name: n, .. } if n == name),
            "{err}"
        );
    }
    let err = pareto::crowding_distance::<&[f64]>(&[&[1.0, 2.0], &[1.0]]).unwrap_err();
    assert!(err.to_string().contains("points[1]"), "{err}");
    assert!(
        pareto::crowding_distance::<[f64; 2]>(&[])
            .unwrap()
            .is_empty()
    );
}
