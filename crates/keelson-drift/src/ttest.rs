//! Two-sample t-tests on the means (Student's and Welch's), as
//! `scipy.stats.ttest_ind(reference, current, equal_var=...)`.
//!
//! Means and variances are numpy's two-pass computation with numpy's pairwise
//! summation in the input's order, so the statistic agrees with scipy to the
//! last bits rather than only to a tolerance.

use crate::divergence::{pairwise_sum, pairwise_sum_by};
use crate::error::{Error, Result};
use crate::outcome::TestResult;
use crate::special::t_sf;

/// Two-sided two-sample t-test of equal means.
///
/// `equal_var = true` is Student's test with the pooled variance
/// (`n1 + n2 - 2` degrees of freedom); `false` is Welch's test with the
/// Welch–Satterthwaite degrees of freedom. The statistic is positive when the
/// reference mean is larger.
///
/// Degenerate inputs give what scipy gives rather than an error: when both
/// samples have zero variance the statistic is NaN with a NaN p-value if the
/// means are equal, and ±∞ with p-value 0 otherwise; a Welch test with a
/// single observation in either sample is NaN, and so is Student's test with
/// one observation in each.
///
/// # Errors
/// [`Error::NaN`] naming the sample holding a NaN, [`Error::Empty`] for an
/// empty sample (scipy returns NaN there).
pub fn ttest_ind(reference: &[f64], current: &[f64], equal_var: bool) -> Result<TestResult> {
    let (mean1, var1) = mean_and_variance(reference, "reference")?;
    let (mean2, var2) = mean_and_variance(current, "current")?;
    let n1 = reference.len() as f64;
    let n2 = current.len() as f64;
    let (df, denom) = if equal_var {
        pooled_denominator(var1, n1, var2, n2)
    } else {
        welch_denominator(var1, n1, var2, n2)
    };
    let t = (mean1 - mean2) / denom;
    let pvalue = 2.0 * t_sf(t.abs(), df);
    Ok(TestResult::test(t, pvalue))
}

/// The mean and the unbiased (ddof = 1) variance, computed as numpy does:
/// `mean(x)`, then `mean((x - mean)**2) * (n / (n - 1))`. A single value
/// gives a NaN variance (0 · ∞), which the callers handle as scipy does.
fn mean_and_variance(values: &[f64], what: &str) -> Result<(f64, f64)> {
    if values.is_empty() {
        return Err(Error::Empty {
            what: what.to_string(),
        });
    }
    if let Some(index) = values.iter().position(|v| v.is_nan()) {
        return Err(Error::NaN {
            what: what.to_string(),
            index,
        });
    }
    let n = values.len() as f64;
    let mean = pairwise_sum(values) / n;
    let squares = pairwise_sum_by(values.len(), &|i| {
        let d = values.get(i).map_or(0.0, |&v| v - mean);
        d * d
    });
    let variance = squares / n * (n / (n - 1.0));
    Ok((mean, variance))
}

/// Student's pooled standard error and degrees of freedom. A sample of one
/// contributes no squared deviations, so its (undefined) variance counts as 0.
fn pooled_denominator(var1: f64, n1: f64, var2: f64, n2: f64) -> (f64, f64) {
    let var1 = if n1 == 1.0 { 0.0 } else { var1 };
    let var2 = if n2 == 1.0 { 0.0 } else { var2 };
    let df = n1 + n2 - 2.0;
    let pooled = ((n1 - 1.0) * var1 + (n2 - 1.0) * var2) / df;
    (df, (pooled * (1.0 / n1 + 1.0 / n2)).sqrt())
}

/// Welch's standard error and Welch–Satterthwaite degrees of freedom. When
/// both variances are zero the degrees of freedom are 0/0; any finite value
/// does then, and scipy uses 1.
fn welch_denominator(var1: f64, n1: f64, var2: f64, n2: f64) -> (f64, f64) {
    let vn1 = var1 / n1;
    let vn2 = var2 / n2;
    let sum = vn1 + vn2;
    let df = sum * sum / (vn1 * vn1 / (n1 - 1.0) + vn2 * vn2 / (n2 - 1.0));
    let df = if df.is_nan() { 1.0 } else { df };
    (df, sum.sqrt())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::testing::close;

    const A: [f64; 7] = [0.3, -1.2, 2.5, 0.7, 0.7, 1.9, -0.4];
    const B: [f64; 5] = [1.1, 2.2, 0.4, 3.3, 1.9];

    #[test]
    fn student_matches_scipy() {
        // scipy.stats.ttest_ind(A, B)
        let r = ttest_ind(&A, &B, true).unwrap();
        assert!(
            close(r.statistic, -1.6124914542373374, 1e-14),
            "{}",
            r.statistic
        );
        assert!(
            close(r.pvalue.unwrap(), 0.13793089172067538, 1e-12),
            "{:?}",
            r.pvalue
        );
    }

    #[test]
    fn welch_matches_scipy() {
        // scipy.stats.ttest_ind(A, B, equal_var=False)
        let r = ttest_ind(&A, &B, false).unwrap();
        assert!(
            close(r.statistic, -1.6536769601574457, 1e-14),
            "{}",
            r.statistic
        );
        assert!(
            close(r.pvalue.unwrap(), 0.1308701011841576, 1e-12),
            "{:?}",
            r.pvalue
        );
    }

    #[test]
    fn constant_samples_follow_scipy() {
        // ttest_ind([1,1,1],[1,1,1]) -> (nan, nan); ([1,1,1],[2,2,2]) -> (-inf, 0)
        let same = ttest_ind(&[1.0; 3], &[1.0; 3], true).unwrap();
        assert!(same.statistic.is_nan() && same.pvalue.unwrap().is_nan());
        let apart = ttest_ind(&[1.0; 3], &[2.0; 3], false).unwrap();
        assert_eq!(apart.statistic, f64::NEG_INFINITY);
        assert_eq!(apart.pvalue, Some(0.0));
    }

    #[test]
    fn single_observations_follow_scipy() {
        // ttest_ind([1],[2,3]) -> (-1.7320508075688774, 0.33333333333333337)
        let r = ttest_ind(&[1.0], &[2.0, 3.0], true).unwrap();
        assert!(close(r.statistic, -1.7320508075688774, 1e-15));
        assert!(close(r.pvalue.unwrap(), 0.33333333333333337, 1e-12));
        // Welch with n1 = 1, and Student with n1 = n2 = 1, are NaN.
        assert!(
            ttest_ind(&[1.0], &[2.0, 3.0], false)
                .unwrap()
                .statistic
                .is_nan()
        );
        assert!(ttest_ind(&[1.0], &[2.0], true).unwrap().statistic.is_nan());
    }

    #[test]
    fn rejects_nan_and_empty_naming_the_sample() {
        match ttest_ind(&[1.0, 2.0], &[1.0, f64::NAN], true) {
            Err(Error::NaN { what, index }) => assert_eq!((what.as_str(), index), ("current", 1)),
            other => panic!("unexpected {other:?}"),
        }
        match ttest_ind(&[], &[1.0], true) {
            Err(Error::Empty { what }) => assert_eq!(what, "reference"),
            other => panic!("unexpected {other:?}"),
        }
    }
}
