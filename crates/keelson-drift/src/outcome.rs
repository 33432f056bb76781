//! What every method returns, and how a number becomes a drift decision.

use serde::{Deserialize, Serialize};

/// The result of one statistic: a test's statistic and p-value, or a distance
/// (whose `pvalue` is `None`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TestResult {
    /// The statistic or distance.
    pub statistic: f64,
    /// The p-value, for methods that are hypothesis tests.
    pub pvalue: Option<f64>,
}

impl TestResult {
    /// A test result with a p-value.
    pub fn test(statistic: f64, pvalue: f64) -> Self {
        TestResult {
            statistic,
            pvalue: Some(pvalue),
        }
    }

    /// A distance or divergence, which has no p-value.
    pub fn distance(statistic: f64) -> Self {
        TestResult {
            statistic,
            pvalue: None,
        }
    }
}

/// When a result counts as drift.
///
/// Libraries differ on `<` versus `<=`; each method's default says which one
/// Evidently uses for it (see `docs/drift.md`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "rule", content = "value", rename_all = "snake_case")]
pub enum Threshold {
    /// Drift when the p-value is strictly below the value.
    PValueBelow(f64),
    /// Drift when the p-value is at most the value.
    PValueAtMost(f64),
    /// Drift when the statistic is strictly above the value.
    StatisticAbove(f64),
    /// Drift when the statistic is at least the value.
    StatisticAtLeast(f64),
}

impl Threshold {
    /// The threshold's number.
    pub fn value(&self) -> f64 {
        match *self {
            Threshold::PValueBelow(v)
            | Threshold::PValueAtMost(v)
            | Threshold::StatisticAbove(v)
            | Threshold::StatisticAtLeast(v) => v,
        }
    }

    /// Whether `result` counts as drift. A NaN statistic or p-value, or a
    /// p-value rule applied to a distance, is never drift.
    pub fn drifted(&self, result: &TestResult) -> bool {
        match *self {
            Threshold::PValueBelow(v) => result.pvalue.is_some_and(|p| p < v),
            Threshold::PValueAtMost(v) => result.pvalue.is_some_and(|p| p <= v),
            Threshold::StatisticAbove(v) => result.statistic > v,
            Threshold::StatisticAtLeast(v) => result.statistic >= v,
        }
    }
}
