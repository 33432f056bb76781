//! Pareto dominance between objective vectors: the non-dominated set,
//! non-dominated sorting and crowding distance (Deb, Pratap, Agarwal and
//! Meyarivan, "A fast and elitist multiobjective genetic algorithm:
//! NSGA-II", IEEE TEC 6(2), 2002), and the hypervolume indicator.
//!
//! Every function here **minimizes** every objective; [`minimized`] turns a
//! study's values into that form by negating the maximized ones. Points are
//! anything that reads as `&[f64]` (`Vec<f64>`, `[f64; 2]`, `&[f64]`).
//!
//! ```
//! use keelson_hpo::pareto;
//!
//! let points = [[1.0, 4.0], [2.0, 2.0], [3.0, 3.0], [4.0, 1.0]];
//! assert_eq!(pareto::non_dominated(&points), [0, 1, 3]); // (2, 2) dominates (3, 3)
//! assert_eq!(pareto::non_dominated_sort(&points), [vec![0, 1, 3], vec![2]]);
//! // The area dominated by the front and bounded by the reference point (5, 5).
//! assert_eq!(pareto::hypervolume(&points, &[5.0, 5.0])?, 4.0 + 6.0 + 1.0);
//! # Ok::<(), keelson_hpo::Error>(())
//! ```

use std::cmp::Ordering;

use crate::study::Direction;
use crate::{Error, Result};

/// Whether `a` Pareto-dominates `b`, all objectives minimized: `a` is no
/// worse in every objective and strictly better in at least one.
///
/// Vectors of different lengths, and any vector with a NaN, are
/// incomparable: neither dominates the other.
///
/// ```
/// use keelson_hpo::pareto::dominates;
/// assert!(dominates(&[1.0, 2.0], &[1.0, 3.0]));
/// assert!(!dominates(&[1.0, 2.0], &[1.0, 2.0])); // equal points do not dominate
/// assert!(!dominates(&[1.0, 4.0], &[2.0, 3.0])); // a trade-off
/// ```
pub fn dominates(a: &[f64], b: &[f64]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut strictly = false;
    for (x, y) in a.iter().zip(b) {
        match x.partial_cmp(y) {
            Some(Ordering::Less) => strictly = true,
            Some(Ordering::Equal) => {}
            Some(Ordering::Greater) | None => return false,
        }
    }
    strictly
}

/// `values` with the maximized objectives negated, so that every objective
/// is minimized as this module expects. Values beyond `directions` are
/// kept as they are.
///
/// ```
/// use keelson_hpo::{pareto, Direction};
/// let v = pareto::minimized(&[0.9, 120.0], &[Direction::Maximize, Direction::Minimize]);
/// assert_eq!(v, [-0.9, 120.0]);
/// ```
pub fn minimized(values: &[f64], directions: &[Direction]) -> Vec<f64> {
    values
        .iter()
        .enumerate()
        .map(|(i, &v)| match directions.get(i) {
            Some(Direction::Maximize) => -v,
            _ => v,
        })
        .collect()
}

/// The indices, increasing, of the points no other point dominates (the
/// first front). Equal points are all kept.
///
/// Points are taken in the order of their first objective and each is
/// compared with the front found so far, so the cost is about the number
/// of points times the size of the front.
///
/// ```
/// use keelson_hpo::pareto::non_dominated;
/// assert_eq!(non_dominated(&[[2.0, 2.0], [1.0, 3.0], [2.0, 2.0], [3.0, 3.0]]), [0, 1, 2]);
/// assert!(non_dominated::<Vec<f64>>(&[]).is_empty());
/// ```
pub fn non_dominated<P: AsRef<[f64]>>(points: &[P]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..points.len()).collect();
    // A dominating point comes first in this order (save for -0.0 against
    // 0.0, which the removal below covers), so few points are ever removed.
    order.sort_by(|&i, &j| {
        let (a, b) = (points[i].as_ref(), points[j].as_ref());
        match (a.first(), b.first()) {
            (Some(x), Some(y)) => x.total_cmp(y),
            _ => a.len().cmp(&b.len()),
        }
        .then(i.cmp(&j))
    });
    let mut front: Vec<usize> = Vec::new();
    for i in order {
        let p = points[i].as_ref();
        if front.iter().any(|&f| dominates(points[f].as_ref(), p)) {
            continue;
        }
        // Dominance is transitive, so anything that dominates a removed
        // point dominates what removed it too: the front stays exact.
        front.retain(|&f| !dominates(p, points[f].as_ref()));
        front.push(i);
    }
    front.sort_unstable();
    front
}

/// The points split into fronts: the first is [`non_dominated`], the
/// second is what is non-dominated once the first is removed, and so on
/// (the fronts of Deb et al.'s fast non-dominated sort). Each front's
/// indices are increasing; a point's front is its rank.
///
/// A point's rank is the length of the longest chain of points dominating
/// one another that ends at it. Points are visited in lexicographic order,
/// where all of a point's dominators come before it, so each rank is one
/// more than the highest among the point's dominators: O(m n²) time, no
/// dominance lists.
///
/// ```
/// use keelson_hpo::pareto::non_dominated_sort;
/// let fronts = non_dominated_sort(&[[3.0, 3.0], [1.0, 1.0], [2.0, 2.0], [1.0, 3.0]]);
/// assert_eq!(fronts, [vec![1], vec![2, 3], vec![0]]);
/// ```
pub fn non_dominated_sort<P: AsRef<[f64]>>(points: &[P]) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..points.len()).collect();
    // Adding 0.0 turns -0.0 into 0.0, so the order is the numeric one
    // (NaNs anywhere: such points dominate nothing and nothing dominates them).
    order.sort_by(|&i, &j| {
        let (a, b) = (points[i].as_ref(), points[j].as_ref());
        a.iter()
            .zip(b)
            .map(|(x, y)| (x + 0.0).total_cmp(&(y + 0.0)))
            .find(|o| o.is_ne())
            .unwrap_or_else(|| a.len().cmp(&b.len()))
            .then(i.cmp(&j))
    });
    let mut rank = vec![0_usize; points.len()];
    let mut fronts: Vec<Vec<usize>> = Vec::new();
    for (k, &i) in order.iter().enumerate() {
        let p = points[i].as_ref();
        let r = order[..k]
            .iter()
            .filter(|&&j| dominates(points[j].as_ref(), p))
            .map(|&j| rank[j] + 1)
            .max()
            .unwrap_or(0);
        rank[i] = r;
        if fronts.len() <= r {
            fronts.resize_with(r + 1, Vec::new);
        }
        fronts[r].push(i);
    }
    for front in &mut fronts {
        front.sort_unstable();
    }
    fronts
}

/// Checks that every point has `m` finite objectives, `m` being the first
/// point's count (or `expected`); returns `m`.
fn check<P: AsRef<[f64]>>(points: &[P], expected: Option<usize>) -> Result<usize> {
    let m = expected.or_else(|| points.first().map(|p| p.as_ref().len()));
    for (i, p) in points.iter().enumerate() {
        let p = p.as_ref();
        let bad = |reason: String| Error::InvalidObjectives {
            name: format!("points[{i}]"),
            reason,
        };
        if Some(p.len()) != m {
            return Err(bad(format!(
                "has {} objectives, expected {}",
                p.len(),
                m.unwrap_or(0)
            )));
        }
        if p.is_empty() {
            return Err(bad("has no objective".into()));
        }
        if let Some(v) = p.iter().find(|v| !v.is_finite()) {
            return Err(bad(format!("holds {v}, objectives must be finite")));
        }
    }
    Ok(m.unwrap_or(0))
}

/// The crowding distance of each point of one front (Deb et al. 2002): per
/// objective, the gap between a point's two neighbours in that objective
/// divided by the front's range in it, summed over the objectives. The two
/// extreme points of each objective get `f64::INFINITY`, so a selection by
/// largest distance keeps the front's ends and prefers sparse regions.
///
/// An error names the first point with another number of objectives than
/// the first, none, or a value that is not finite.
///
/// ```
/// use keelson_hpo::pareto::crowding_distance;
/// let d = crowding_distance(&[[0.0, 4.0], [1.0, 3.0], [3.0, 1.0], [4.0, 0.0]])?;
/// assert_eq!(d[0], f64::INFINITY);
/// assert_eq!(d[1], 3.0 / 4.0 + 3.0 / 4.0);
/// assert_eq!(d[3], f64::INFINITY);
/// # Ok::<(), keelson_hpo::Error>(())
/// ```
pub fn crowding_distance<P: AsRef<[f64]>>(points: &[P]) -> Result<Vec<f64>> {
    let m = check(points, None)?;
    let n = points.len();
    let mut distance = vec![0.0; n];
    let mut order: Vec<usize> = (0..n).collect();
    for k in 0..m {
        let value = |i: usize| points[i].as_ref()[k];
        order.sort_by(|&i, &j| value(i).total_cmp(&value(j)).then(i.cmp(&j)));
        let (Some(&first), Some(&last)) = (order.first(), order.last()) else {
            return Ok(distance);
        };
        distance[first] = f64::INFINITY;
        distance[last] = f64::INFINITY;
        let range = value(last) - value(first);
        if range > 0.0 {
            for w in order.windows(3) {
                distance[w[1]] += (value(w[2]) - value(w[0])) / range;
            }
        }
    }
    Ok(distance)
}

/// The hypervolume of `points`: the measure of the region they dominate
/// that is bounded by `reference` (all objectives minimized). Points not
/// strictly better than the reference in every objective add nothing.
///
/// Two objectives take one sort and a sweep (O(n log n)); more are sliced
/// along the last objective into problems of one objective fewer (O(n²
/// log n) for three), which suits fronts of hundreds of points.
///
/// An error names the reference point if it is empty or not finite, and the
/// first point whose length differs from the reference's or that holds a
/// value that is not finite.
///
/// ```
/// use keelson_hpo::pareto::hypervolume;
/// assert_eq!(hypervolume(&[[1.0, 1.0, 1.0]], &[2.0, 3.0, 4.0])?, 6.0);
/// assert_eq!(hypervolume(&[[0.0, 0.0]], &[-1.0, 5.0])?, 0.0);
/// assert!(hypervolume(&[[0.0, 0.0]], &[1.0]).is_err());
/// # Ok::<(), keelson_hpo::Error>(())
/// ```
pub fn hypervolume<P: AsRef<[f64]>>(points: &[P], reference: &[f64]) -> Result<f64> {
    let bad = |reason: &str| Error::InvalidObjectives {
        name: "reference".into(),
        reason: reason.into(),
    };
    if reference.is_empty() {
        return Err(bad("has no objective"));
    }
    if reference.iter().any(|r| !r.is_finite()) {
        return Err(bad("must be finite"));
    }
    check(points, Some(reference.len()))?;
    let inside: Vec<&[f64]> = points
        .iter()
        .map(AsRef::as_ref)
        .filter(|p| p.iter().zip(reference).all(|(x, r)| x < r))
        .collect();
    Ok(volume(inside, reference))
}

/// The hypervolume of points that all lie strictly inside the reference
/// box, in the first `reference.len()` objectives.
fn volume(mut points: Vec<&[f64]>, reference: &[f64]) -> f64 {
    let by = |k: usize| move |a: &&[f64], b: &&[f64]| a[k].total_cmp(&b[k]);
    match reference {
        [] => 0.0,
        [r] => points.iter().map(|p| r - p[0]).fold(0.0, f64::max),
        [r0, r1] => {
            points.sort_by(|a, b| by(0)(a, b).then_with(|| by(1)(a, b)));
            let mut area = 0.0;
            let mut lowest = *r1;
            for p in points {
                if p[1] < lowest {
                    area += (r0 - p[0]) * (lowest - p[1]);
                    lowest = p[1];
                }
            }
            area
        }
        [rest @ .., last] => {
            let k = rest.len();
            points.sort_by(by(k));
            let mut total = 0.0;
            for i in 0..points.len() {
                let top = points.get(i + 1).map_or(*last, |p| p[k]);
                let height = top - points[i][k];
                if height > 0.0 {
                    total += volume(points[..=i].to_vec(), rest) * height;
                }
            }
            total
        }
    }
}

/// Orders by rank, then by crowding distance, larger first: Deb et al.'s
/// crowded-comparison operator, `Less` meaning "better".
pub(crate) fn crowded_cmp(a: (usize, f64), b: (usize, f64)) -> Ordering {
    a.0.cmp(&b.0).then_with(|| b.1.total_cmp(&a.1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crowded_comparison_prefers_lower_rank_then_larger_distance() {
        assert_eq!(crowded_cmp((0, 0.1), (1, 5.0)), Ordering::Less);
        assert_eq!(crowded_cmp((1, f64::INFINITY), (1, 5.0)), Ordering::Less);
        assert_eq!(crowded_cmp((1, 1.0), (1, 1.0)), Ordering::Equal);
    }

    #[test]
    fn negative_zero_is_not_a_loophole() {
        // -0.0 sorts before 0.0 but the two are equal, so (0, 1) dominates (-0, 2).
        let points = [[-0.0, 2.0], [0.0, 1.0]];
        assert_eq!(non_dominated(&points), [1]);
        assert_eq!(non_dominated_sort(&points), [vec![1], vec![0]]);
    }

    #[test]
    fn incomparable_points_share_the_first_front() {
        let points: [&[f64]; 3] = [&[1.0, 1.0], &[f64::NAN, 0.0], &[0.0]];
        assert_eq!(non_dominated(&points), [0, 1, 2]);
        assert_eq!(non_dominated_sort(&points), [vec![0, 1, 2]]);
    }
}
