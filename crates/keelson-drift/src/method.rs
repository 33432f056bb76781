//! The named drift methods a report can run on a column, their default
//! thresholds, and Evidently's rule for choosing one per column.

use serde::{Deserialize, Serialize};

use crate::anderson::anderson_ksamp;
use crate::categorical::{self, CategoryCounts};
use crate::cvm::{CvmMethod, cramervonmises_2samp};
use crate::distance::{energy_distance, wasserstein_distance};
use crate::divergence;
use crate::epps_singleton::{DEFAULT_T, epps_singleton_2samp};
use crate::error::{Error, Result};
use crate::evidently;
use crate::ks::{KsMethod, ks_2samp};
use crate::mann_whitney::{Alternative, MwuMethod, mann_whitney_u};
use crate::outcome::{TestResult, Threshold};
use crate::sample::SortedSample;
use crate::ttest::ttest_ind;

/// A per-column drift method. Numeric methods run on a [`SortedSample`] pair;
/// categorical ones on [`CategoryCounts`]. Histogram methods run on both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Method {
    /// Two-sample Kolmogorov–Smirnov (`ks_2samp`, method auto).
    Ks,
    /// Cramér–von Mises two-sample (method auto).
    CramerVonMises,
    /// Anderson–Darling k-sample (midrank, p clipped to [0.001, 0.25]).
    AndersonDarling,
    /// Mann–Whitney U, two-sided.
    MannWhitney,
    /// Student's t-test with equal variances.
    TTest,
    /// Welch's t-test.
    WelchTTest,
    /// Epps–Singleton two-sample test.
    EppsSingleton,
    /// Wasserstein-1 distance.
    Wasserstein,
    /// Wasserstein-1 divided by the reference's standard deviation (Evidently's default for large numeric columns).
    WassersteinNormed,
    /// Energy distance.
    EnergyDistance,
    /// Population stability index.
    Psi,
    /// Kullback–Leibler divergence KL(reference ‖ current).
    KlDivergence,
    /// Jensen–Shannon distance.
    JensenShannon,
    /// Hellinger distance.
    Hellinger,
    /// Chi-square test on the 2×K contingency table.
    ChiSquare,
    /// Chi-square goodness of fit of current counts to reference proportions (Evidently's `chisquare`).
    ChiSquareGof,
    /// G-test (log-likelihood ratio).
    GTest,
    /// Fisher's exact test (two categories).
    FisherExact,
    /// Two-proportion z-test (two categories).
    ZTest,
    /// Total variation distance with a permutation p-value.
    Tvd,
    /// L-infinity distance between category proportions.
    LInfinity,
}

/// What a method consumes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MethodInput {
    /// Sorted numbers ([`Method::run_numeric`]).
    Numeric,
    /// Category counts ([`Method::run_categorical`]); a numeric column is
    /// counted by distinct value.
    Categorical,
    /// Either: histogram methods bin numbers or count categories.
    Either,
}

/// Seed of the permutation p-value of [`Method::Tvd`], so reports are reproducible.
pub const TVD_SEED: u64 = 0x006b_6565_6c73_6f6e;

/// Permutations of [`Method::Tvd`]'s p-value (Evidently's count).
pub const TVD_PERMUTATIONS: usize = 1000;

impl Method {
    /// Every method, in declaration order.
    pub const ALL: [Method; 21] = [
        Method::Ks,
        Method::CramerVonMises,
        Method::AndersonDarling,
        Method::MannWhitney,
        Method::TTest,
        Method::WelchTTest,
        Method::EppsSingleton,
        Method::Wasserstein,
        Method::WassersteinNormed,
        Method::EnergyDistance,
        Method::Psi,
        Method::KlDivergence,
        Method::JensenShannon,
        Method::Hellinger,
        Method::ChiSquare,
        Method::ChiSquareGof,
        Method::GTest,
        Method::FisherExact,
        Method::ZTest,
        Method::Tvd,
        Method::LInfinity,
    ];

    /// The method's snake_case name, as serialized.
    pub fn name(&self) -> &'static str {
        match self {
            Method::Ks => "ks",
            Method::CramerVonMises => "cramer_von_mises",
            Method::AndersonDarling => "anderson_darling",
            Method::MannWhitney => "mann_whitney",
            Method::TTest => "t_test",
            Method::WelchTTest => "welch_t_test",
            Method::EppsSingleton => "epps_singleton",
            Method::Wasserstein => "wasserstein",
            Method::WassersteinNormed => "wasserstein_normed",
            Method::EnergyDistance => "energy_distance",
            Method::Psi => "psi",
            Method::KlDivergence => "kl_divergence",
            Method::JensenShannon => "jensen_shannon",
            Method::Hellinger => "hellinger",
            Method::ChiSquare => "chi_square",
            Method::ChiSquareGof => "chi_square_gof",
            Method::GTest => "g_test",
            Method::FisherExact => "fisher_exact",
            Method::ZTest => "z_test",
            Method::Tvd => "tvd",
            Method::LInfinity => "l_infinity",
        }
    }

    /// The method named `name` (as [`Method::name`] gives it).
    pub fn from_name(name: &str) -> Option<Method> {
        Method::ALL.into_iter().find(|m| m.name() == name)
    }

    /// What the method consumes.
    pub fn input(&self) -> MethodInput {
        match self {
            Method::Ks
            | Method::CramerVonMises
            | Method::AndersonDarling
            | Method::MannWhitney
            | Method::TTest
            | Method::WelchTTest
            | Method::EppsSingleton
            | Method::Wasserstein
            | Method::WassersteinNormed
            | Method::EnergyDistance => MethodInput::Numeric,
            Method::Psi | Method::KlDivergence | Method::JensenShannon | Method::Hellinger => {
                MethodInput::Either
            }
            Method::ChiSquare
            | Method::ChiSquareGof
            | Method::GTest
            | Method::FisherExact
            | Method::ZTest
            | Method::Tvd
            | Method::LInfinity => MethodInput::Categorical,
        }
    }

    /// The threshold Evidently 0.7 uses for this method (README of the drift
    /// anchors). Methods Evidently lacks get the closest analogue: Welch's
    /// t-test as the t-test, the L∞ distance and raw Wasserstein distance 0.1.
    pub fn default_threshold(&self) -> Threshold {
        match self {
            Method::Ks => Threshold::PValueAtMost(0.05),
            Method::CramerVonMises
            | Method::AndersonDarling
            | Method::GTest
            | Method::FisherExact
            | Method::Tvd => Threshold::PValueBelow(0.1),
            Method::MannWhitney
            | Method::TTest
            | Method::WelchTTest
            | Method::EppsSingleton
            | Method::ChiSquare
            | Method::ChiSquareGof
            | Method::ZTest => Threshold::PValueBelow(0.05),
            Method::EnergyDistance => Threshold::StatisticAbove(0.1),
            Method::Wasserstein
            | Method::WassersteinNormed
            | Method::Psi
            | Method::KlDivergence
            | Method::JensenShannon
            | Method::Hellinger
            | Method::LInfinity => Threshold::StatisticAtLeast(0.1),
        }
    }

    /// Evidently 0.7's default test for a column (`_get_default_stattest`).
    ///
    /// `distinct_values` counts the distinct non-missing values of reference
    /// and current together. With at most 1000 reference rows: numeric columns
    /// with more than 5 distinct values get KS; otherwise more than 2 values get
    /// the chi-square goodness of fit and at most 2 the z-test. With more
    /// reference rows: numeric columns with more than 5 distinct values get the
    /// normed Wasserstein distance, everything else Jensen–Shannon.
    pub fn evidently_default(
        n_reference_rows: usize,
        distinct_values: usize,
        numeric: bool,
    ) -> Method {
        let many_numbers = numeric && distinct_values > 5;
        match (n_reference_rows <= 1000, many_numbers) {
            (true, true) => Method::Ks,
            (true, false) if distinct_values > 2 => Method::ChiSquareGof,
            (true, false) => Method::ZTest,
            (false, true) => Method::WassersteinNormed,
            (false, false) => Method::JensenShannon,
        }
    }

    /// Run a numeric or histogram method on two sorted samples.
    ///
    /// Histogram methods bin as Evidently does (Sturges equal-width bins on
    /// both samples when the reference has more than 20 distinct values, one
    /// bin per value otherwise); Hellinger uses the same bins.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a categorical-only method; otherwise the
    /// method's own errors (empty samples, undefined cases).
    pub fn run_numeric(
        &self,
        reference: &SortedSample,
        current: &SortedSample,
    ) -> Result<TestResult> {
        let (r, c) = (reference, current);
        match self {
            Method::Ks => ks_2samp(r, c, KsMethod::Auto),
            Method::CramerVonMises => cramervonmises_2samp(r, c, CvmMethod::Auto),
            Method::AndersonDarling => anderson_ksamp(&[r, c]).map(|a| a.test_result()),
            Method::MannWhitney => mann_whitney_u(r, c, Alternative::TwoSided, MwuMethod::Auto),
            Method::TTest => ttest_ind(r.values(), c.values(), true),
            Method::WelchTTest => ttest_ind(r.values(), c.values(), false),
            Method::EppsSingleton => epps_singleton_2samp(r, c, &DEFAULT_T),
            Method::Wasserstein => wasserstein_distance(r, c).map(TestResult::distance),
            Method::WassersteinNormed => {
                evidently::wasserstein_norm(r, c).map(TestResult::distance)
            }
            Method::EnergyDistance => energy_distance(r, c).map(TestResult::distance),
            Method::Psi => evidently::psi(r, c).map(TestResult::distance),
            Method::KlDivergence => evidently::kl_div(r, c).map(TestResult::distance),
            Method::JensenShannon => evidently::jensenshannon(r, c).map(TestResult::distance),
            Method::Hellinger => {
                let (p, q) = evidently::binned_proportions(r, c, false)?;
                divergence::hellinger(&p, &q).map(TestResult::distance)
            }
            _ => Err(Error::invalid(
                "method",
                format!(
                    "{} needs categories; count the column by value instead",
                    self.name()
                ),
            )),
        }
    }

    /// Run a categorical or histogram method on category counts.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a numeric-only method; otherwise the
    /// method's own errors (empty samples, Fisher's test on more than two
    /// categories, the G-test on samples of different sizes).
    pub fn run_categorical(&self, counts: &CategoryCounts) -> Result<TestResult> {
        match self {
            Method::ChiSquare => {
                categorical::chi2_contingency(counts, true).map(|r| r.test_result())
            }
            Method::ChiSquareGof => categorical::chisquare_gof(counts),
            Method::GTest => categorical::g_test(counts),
            Method::FisherExact => categorical::fisher_exact(counts),
            Method::ZTest => categorical::z_test(counts),
            Method::Tvd => {
                require_counts(counts)?;
                Ok(categorical::tvd_permutation(
                    counts,
                    TVD_PERMUTATIONS,
                    TVD_SEED,
                ))
            }
            Method::LInfinity => {
                require_counts(counts)?;
                Ok(TestResult::distance(categorical::l_infinity(counts)))
            }
            Method::Psi => evidently::psi_cat(counts).map(TestResult::distance),
            Method::KlDivergence => evidently::kl_div_cat(counts).map(TestResult::distance),
            Method::JensenShannon => evidently::jensenshannon_cat(counts).map(TestResult::distance),
            Method::Hellinger => divergence::hellinger(
                &counts.reference_proportions(),
                &counts.current_proportions(),
            )
            .map(TestResult::distance),
            _ => Err(Error::invalid(
                "method",
                format!("{} needs numbers; the column is categorical", self.name()),
            )),
        }
    }
}

fn require_counts(counts: &CategoryCounts) -> Result<()> {
    for (what, n) in [
        ("reference", counts.n_reference()),
        ("current", counts.n_current()),
    ] {
        if n == 0 {
            return Err(Error::Empty {
                what: what.to_string(),
            });
        }
    }
    Ok(())
}

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
