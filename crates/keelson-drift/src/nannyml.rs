//! NannyML 0.13's univariate distances (`nannyml/drift/univariate/methods.py`).
//!
//! The bins are fixed by the reference: its categories, or for continuous
//! data numpy's Doane edges of the reference. Current mass that falls in none
//! of them (unseen categories, values outside the reference's range) goes to
//! one extra "leftover" bin whose reference proportion is 0; it is added only
//! when `1 − Σ q` is positive in floating point, as NannyML does. That bin
//! can hold a mere rounding error; then the Jensen–Shannon divergence of two
//! identical samples can come out as a tiny negative number and the distance
//! as NaN, which is also what NannyML reports.
//!
//! A numeric column counts as continuous when the reference has more than 50
//! distinct values or more distinct values than 10 % of its rows; otherwise
//! NannyML treats it as categorical, one bin per distinct reference value.

use crate::categorical::{self, CategoryCounts};
use crate::divergence::{jensen_shannon as js_distance, pairwise_sum, pairwise_sum_by};
use crate::error::{Error, Result};
use crate::histogram::{Histogram, doane_edges};
use crate::sample::SortedSample;

/// Reference and current proportions over the reference's categories, plus
/// the leftover bin when current mass is left over.
///
/// # Errors
/// [`Error::Empty`] when either sample is empty.
pub fn categorical_proportions(counts: &CategoryCounts) -> Result<(Vec<f64>, Vec<f64>)> {
    let (n, m) = sizes(counts)?;
    let (n, m) = (n as f64, m as f64);
    let (p, q) = counts
        .reference()
        .iter()
        .zip(counts.current())
        .filter(|&(&r, _)| r > 0)
        .map(|(&r, &c)| (r as f64 / n, c as f64 / m))
        .unzip();
    Ok(with_leftover(p, q))
}

fn sizes(counts: &CategoryCounts) -> Result<(u64, u64)> {
    match (counts.n_reference(), counts.n_current()) {
        (0, _) => Err(Error::Empty {
            what: "reference".to_string(),
        }),
        (_, 0) => Err(Error::Empty {
            what: "current".to_string(),
        }),
        (n, m) => Ok((n, m)),
    }
}

fn with_leftover(mut p: Vec<f64>, mut q: Vec<f64>) -> (Vec<f64>, Vec<f64>) {
    let leftover = 1.0 - pairwise_sum(&q);
    if leftover > 0.0 {
        p.push(0.0);
        q.push(leftover);
    }
    (p, q)
}

/// Whether NannyML treats a numeric reference as continuous. Counting the
/// distinct values stops at 51, past which the answer is known.
fn is_continuous(sorted: &[f64]) -> bool {
    let distinct = sorted.chunk_by(|a, b| a == b).take(51).count();
    distinct > 50 || distinct as f64 / sorted.len() as f64 > 0.1
}

/// Reference and current proportions for a numeric column: Doane bins of the
/// reference (or one bin per distinct reference value, see the module docs),
/// plus the leftover bin.
///
/// # Errors
/// [`Error::Empty`] when either sample is empty; [`Error::Undefined`] when
/// the reference's range is not finite.
pub fn numeric_proportions(
    reference: &SortedSample,
    current: &SortedSample,
) -> Result<(Vec<f64>, Vec<f64>)> {
    let r = reference.require_non_empty("reference")?;
    let c = current.require_non_empty("current")?;
    if is_continuous(r) {
        let h = Histogram::with_edges(doane_edges(r)?, reference, current)?;
        return Ok(with_leftover(
            h.reference_proportions(),
            h.current_proportions(),
        ));
    }
    let (n, m) = (r.len() as f64, c.len() as f64);
    let mut rest = c;
    let (p, q) = r
        .chunk_by(|a, b| a == b)
        .map(|run| {
            let value = run.first().copied().unwrap_or(f64::NAN);
            let below = rest.partition_point(|&x| x < value);
            let upto = rest.partition_point(|&x| x <= value);
            let hits = upto.saturating_sub(below);
            rest = rest.get(upto..).unwrap_or(&[]);
            (run.len() as f64 / n, hits as f64 / m)
        })
        .unzip();
    Ok(with_leftover(p, q))
}

/// NannyML's Hellinger distance `‖√p − √q‖₂ / √2`.
fn hellinger_of(p: &[f64], q: &[f64]) -> f64 {
    let sum = pairwise_sum_by(p.len(), &|i| {
        let d = p.get(i).copied().unwrap_or(0.0).sqrt() - q.get(i).copied().unwrap_or(0.0).sqrt();
        d * d
    });
    sum.sqrt() / std::f64::consts::SQRT_2
}

/// NannyML's categorical Jensen–Shannon distance (base 2).
///
/// # Errors
/// [`Error::Empty`] when either sample is empty.
pub fn jensen_shannon(counts: &CategoryCounts) -> Result<f64> {
    let (p, q) = categorical_proportions(counts)?;
    js_distance(&p, &q, Some(2.0))
}

/// NannyML's categorical Hellinger distance.
///
/// # Errors
/// [`Error::Empty`] when either sample is empty.
pub fn hellinger(counts: &CategoryCounts) -> Result<f64> {
    let (p, q) = categorical_proportions(counts)?;
    Ok(hellinger_of(&p, &q))
}

/// NannyML's L∞ distance over the union of categories (unseen categories
/// count with reference proportion 0; no leftover bin).
///
/// # Errors
/// [`Error::Empty`] when either sample is empty.
pub fn l_infinity(counts: &CategoryCounts) -> Result<f64> {
    sizes(counts)?;
    Ok(categorical::l_infinity(counts))
}

/// NannyML's Jensen–Shannon distance (base 2) for a numeric column.
///
/// # Errors
/// As [`numeric_proportions`].
pub fn jensen_shannon_numeric(reference: &SortedSample, current: &SortedSample) -> Result<f64> {
    let (p, q) = numeric_proportions(reference, current)?;
    js_distance(&p, &q, Some(2.0))
}

/// NannyML's Hellinger distance for a numeric column.
///
/// # Errors
/// As [`numeric_proportions`].
pub fn hellinger_numeric(reference: &SortedSample, current: &SortedSample) -> Result<f64> {
    let (p, q) = numeric_proportions(reference, current)?;
    Ok(hellinger_of(&p, &q))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::categorical::Category;
    use crate::testing::{rel, sample};

    #[test]
    fn leftover_bin_collects_unseen_mass() {
        let counts = CategoryCounts::from_values(
            ["a", "a", "b"].map(Category::from),
            ["a", "c", "c", "b"].map(Category::from),
        );
        let (p, q) = categorical_proportions(&counts).unwrap();
        assert_eq!(p, vec![2.0 / 3.0, 1.0 / 3.0, 0.0]);
        assert_eq!(q, vec![0.25, 0.25, 0.5]);
        // drift_defs: jensenshannon(*nannyml_cat_probs(ref, cur), base=2)
        assert!(rel(jensen_shannon(&counts).unwrap(), 0.5702536988376841) < 1e-14);
    }

    #[test]
    fn numeric_matches_python_port() {
        // nannyml_numeric(ref, cur) from the port of methods.py, with
        // ref = np.arange(200.)**1.2 / 10; cur = np.arange(150.) * 1.1 - 5
        // -> js 0.670667623157258, hellinger 0.6436681070743318
        let r: Vec<f64> = (0..200).map(|i| f64::from(i).powf(1.2) / 10.0).collect();
        let c: Vec<f64> = (0..150).map(|i| f64::from(i) * 1.1 - 5.0).collect();
        let (r, c) = (sample(&r), sample(&c));
        assert!(rel(jensen_shannon_numeric(&r, &c).unwrap(), 0.670667623157258) < 1e-13);
        assert!(rel(hellinger_numeric(&r, &c).unwrap(), 0.6436681070743318) < 1e-13);
    }
}
