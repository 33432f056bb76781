//! A sorted, NaN-free numeric sample: the shared input of the rank-based tests.
//!
//! Sorting dominates the cost of KS, Cramér–von Mises, Anderson–Darling,
//! Wasserstein and energy distance, so a column is sorted once and every test
//! on it reuses the result.
//!
//! Sorting maps each float to an integer key whose unsigned order is
//! `f64::total_cmp`'s order and sorts the keys: integer comparisons are cheaper
//! than `total_cmp`, which re-derives that key on every comparison. LSD and
//! MSD radix sorts were measured too and lost to it on 1e6 and 1e7 values:
//! their scatter passes and scratch buffer cost more in page faults and TLB
//! misses than they save in comparisons.

use crate::error::{Error, Result};

/// Values sorted ascending (by `f64::total_cmp`, so `-0.0` before `0.0`), with no NaN.
#[derive(Debug, Clone, PartialEq)]
pub struct SortedSample {
    values: Vec<f64>,
}

impl SortedSample {
    /// Copy and sort `values`. `what` names the sample in errors
    /// (`"reference"`, `"column \"age\" (current)"`).
    ///
    /// # Errors
    /// [`Error::NaN`] if a value is NaN. An empty sample is allowed here;
    /// each test says whether it accepts one.
    pub fn new(values: &[f64], what: &str) -> Result<Self> {
        if is_sorted(values) {
            reject_nan(values, what)?;
            return Ok(SortedSample {
                values: values.to_vec(),
            });
        }
        let mut keys: Vec<u64> = values.iter().map(|&x| order_key(x)).collect();
        keys.sort_unstable();
        // NaN keys sort beyond the infinities' keys, so a NaN shows at an end.
        let nan_key = |k: &u64| *k < order_key(f64::NEG_INFINITY) || *k > order_key(f64::INFINITY);
        if keys.first().is_some_and(nan_key) || keys.last().is_some_and(nan_key) {
            reject_nan(values, what)?;
        }
        Ok(SortedSample {
            values: keys.into_iter().map(from_order_key).collect(),
        })
    }

    /// Sort an owned vector in place.
    ///
    /// # Errors
    /// [`Error::NaN`] if a value is NaN.
    pub fn from_vec(values: Vec<f64>, what: &str) -> Result<Self> {
        reject_nan(&values, what)?;
        if is_sorted(&values) {
            return Ok(SortedSample { values });
        }
        // Same size and alignment, so collecting reuses the allocation.
        let mut keys: Vec<u64> = values.into_iter().map(order_key).collect();
        keys.sort_unstable();
        Ok(SortedSample {
            values: keys.into_iter().map(from_order_key).collect(),
        })
    }

    /// Wrap values the caller has already sorted.
    ///
    /// # Errors
    /// [`Error::NaN`] on a NaN, [`Error::InvalidParameter`] if not sorted ascending.
    pub fn from_sorted(values: Vec<f64>, what: &str) -> Result<Self> {
        reject_nan(&values, what)?;
        if values.windows(2).any(|w| matches!(w, [a, b] if a > b)) {
            return Err(Error::invalid(what, "values are not sorted ascending"));
        }
        Ok(SortedSample { values })
    }

    /// The sorted values.
    pub fn values(&self) -> &[f64] {
        &self.values
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether there are no values.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Smallest value, if any.
    pub fn min(&self) -> Option<f64> {
        self.values.first().copied()
    }

    /// Largest value, if any.
    pub fn max(&self) -> Option<f64> {
        self.values.last().copied()
    }

    pub(crate) fn require_non_empty(&self, what: &str) -> Result<&[f64]> {
        if self.values.is_empty() {
            Err(Error::Empty {
                what: what.to_string(),
            })
        } else {
            Ok(&self.values)
        }
    }
}

/// [`Error::NaN`] at the first NaN of `values`.
pub(crate) fn reject_nan(values: &[f64], what: &str) -> Result<()> {
    match values.iter().position(|v| v.is_nan()) {
        Some(index) => Err(Error::NaN {
            what: what.to_string(),
            index,
        }),
        None => Ok(()),
    }
}

/// The unsigned integer whose order is `f64::total_cmp`'s: negative floats
/// have all bits flipped (larger magnitude sorts first), the others only the
/// sign bit, so `-0.0` maps just below `+0.0`.
pub(crate) fn order_key(x: f64) -> u64 {
    let bits = x.to_bits();
    let negative = ((bits as i64) >> 63) as u64;
    bits ^ (negative | (1 << 63))
}

/// The float whose [`order_key`] is `key`.
pub(crate) fn from_order_key(key: u64) -> f64 {
    let was_negative = (((!key) as i64) >> 63) as u64;
    f64::from_bits(key ^ (was_negative | (1 << 63)))
}

/// Sorted already: a single pass that stops at the first descent, so it costs
/// nothing on shuffled data and skips the whole sort on presorted columns.
fn is_sorted(values: &[f64]) -> bool {
    values.is_sorted_by(|a, b| a.total_cmp(b).is_le())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn order_key_follows_total_cmp() {
        let v = [
            f64::NEG_INFINITY,
            -f64::MAX,
            -1.5,
            -f64::MIN_POSITIVE,
            -5e-324,
            -0.0,
            0.0,
            5e-324,
            f64::MIN_POSITIVE,
            1.0,
            f64::MAX,
            f64::INFINITY,
        ];
        for w in v.windows(2) {
            assert!(order_key(w[0]) < order_key(w[1]), "{} {}", w[0], w[1]);
        }
        for &x in &v {
            assert_eq!(from_order_key(order_key(x)).to_bits(), x.to_bits());
        }
    }

    #[test]
    fn sorts_signed_zeros_and_infinities() {
        let s =
            SortedSample::new(&[0.0, f64::INFINITY, -0.0, -3.0, f64::NEG_INFINITY], "x").unwrap();
        let bits: Vec<u64> = s.values().iter().map(|v| v.to_bits()).collect();
        let want: Vec<u64> = [f64::NEG_INFINITY, -3.0, -0.0, 0.0, f64::INFINITY]
            .iter()
            .map(|v| v.to_bits())
            .collect();
        assert_eq!(bits, want);
    }

    #[test]
    fn nan_is_rejected_with_its_index() {
        let err = SortedSample::from_vec(vec![1.0, 2.0, f64::NAN], "current").unwrap_err();
        assert!(matches!(err, Error::NaN { ref what, index: 2 } if what == "current"));
        assert!(SortedSample::new(&[f64::NAN], "r").is_err());
    }

    #[test]
    fn from_sorted_checks_order() {
        assert!(SortedSample::from_sorted(vec![2.0, 1.0], "r").is_err());
        let s = SortedSample::from_sorted(vec![1.0, 2.0], "r").unwrap();
        assert_eq!((s.min(), s.max(), s.len()), (Some(1.0), Some(2.0), 2));
    }
}
