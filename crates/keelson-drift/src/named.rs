//! Every method and variant reachable by the key the drift anchors use
//! (`ks_2samp_auto`, `psi_quantile10_eps1e-4`, `evidently_wasserstein_norm`,
//! `nannyml_jensenshannon_base2`, ...).
//!
//! Parametrised keys are parsed, not listed: `psi_quantile{B}_eps{E}`,
//! `jensenshannon_hist{B}_base{b}`, `hellinger_hist{B}`,
//! `jensenshannon_union_base{b}` and `psi_cat_eps{E}` accept any bin count,
//! epsilon and log base. [`numeric`](fn@numeric) and [`categorical`](fn@categorical) return `None` for a
//! key they do not know, so a runner can skip it.

use crate::anderson::anderson_ksamp;
use crate::categorical::{self, CategoryCounts};
use crate::cvm::{CvmMethod, cramervonmises_2samp};
use crate::distance::{energy_distance, wasserstein_distance};
use crate::divergence;
use crate::epps_singleton::{DEFAULT_T, epps_singleton_2samp};
use crate::error::Result;
use crate::evidently;
use crate::histogram::{Binning, histogram};
use crate::ks::{KsMethod, ks_2samp};
use crate::mann_whitney::{Alternative, MwuMethod, mann_whitney_u};
use crate::nannyml;
use crate::outcome::TestResult;
use crate::sample::SortedSample;
use crate::ttest::ttest_ind;

/// A numeric two-sample input: the NaN-free values in their original order
/// (the t-test's sums depend on it at the last bit) and sorted.
#[derive(Debug, Clone, Copy)]
pub struct NumericInput<'a> {
    /// Reference values, original order.
    pub reference: &'a [f64],
    /// Current values, original order.
    pub current: &'a [f64],
    /// Reference values, sorted.
    pub sorted_reference: &'a SortedSample,
    /// Current values, sorted.
    pub sorted_current: &'a SortedSample,
}

/// The numeric method keys with fixed names (parametrised families are listed in the module docs).
pub const NUMERIC_KEYS: &[&str] = &[
    "ks_2samp_auto",
    "ks_2samp_asymp",
    "ks_2samp_exact",
    "cramervonmises_2samp_auto",
    "cramervonmises_2samp_asymptotic",
    "cramervonmises_2samp_exact",
    "anderson_ksamp_midrank",
    "wasserstein_distance",
    "energy_distance",
    "mannwhitneyu_two_sided",
    "mannwhitneyu_less",
    "mannwhitneyu_greater",
    "ttest_ind_equal_var",
    "ttest_ind_welch",
    "epps_singleton_2samp",
    "evidently_psi",
    "evidently_kl_div",
    "evidently_jensenshannon",
    "evidently_wasserstein_norm",
    "nannyml_jensenshannon_base2",
    "nannyml_hellinger",
];

/// The categorical method keys with fixed names.
pub const CATEGORICAL_KEYS: &[&str] = &[
    "chi2_contingency_correction_true",
    "chi2_contingency_correction_false",
    "evidently_chisquare_gof",
    "evidently_g_test",
    "hellinger_union",
    "l_infinity",
    "tvd",
    "nannyml_jensenshannon_base2",
    "nannyml_hellinger",
    "nannyml_l_infinity",
    "evidently_psi_cat",
    "evidently_kl_div_cat",
    "evidently_jensenshannon_cat",
    "evidently_z_test",
    "fisher_exact_two_sided",
];

/// Run the numeric method named `key`; `None` if the key is unknown.
pub fn numeric(key: &str, input: &NumericInput<'_>) -> Option<Result<TestResult>> {
    let (r, c) = (input.sorted_reference, input.sorted_current);
    let distance = |d: Result<f64>| d.map(TestResult::distance);
    Some(match key {
        "ks_2samp_auto" => ks_2samp(r, c, KsMethod::Auto),
        "ks_2samp_asymp" => ks_2samp(r, c, KsMethod::Asymptotic),
        "ks_2samp_exact" => ks_2samp(r, c, KsMethod::Exact),
        "cramervonmises_2samp_auto" => cramervonmises_2samp(r, c, CvmMethod::Auto),
        "cramervonmises_2samp_asymptotic" => cramervonmises_2samp(r, c, CvmMethod::Asymptotic),
        "cramervonmises_2samp_exact" => cramervonmises_2samp(r, c, CvmMethod::Exact),
        "anderson_ksamp_midrank" => anderson_ksamp(&[r, c]).map(|a| a.test_result()),
        "wasserstein_distance" => distance(wasserstein_distance(r, c)),
        "energy_distance" => distance(energy_distance(r, c)),
        "mannwhitneyu_two_sided" => mann_whitney_u(r, c, Alternative::TwoSided, MwuMethod::Auto),
        "mannwhitneyu_less" => mann_whitney_u(r, c, Alternative::Less, MwuMethod::Auto),
        "mannwhitneyu_greater" => mann_whitney_u(r, c, Alternative::Greater, MwuMethod::Auto),
        "ttest_ind_equal_var" => ttest_ind(input.reference, input.current, true),
        "ttest_ind_welch" => ttest_ind(input.reference, input.current, false),
        "epps_singleton_2samp" => epps_singleton_2samp(r, c, &DEFAULT_T),
        "evidently_psi" => distance(evidently::psi(r, c)),
        "evidently_kl_div" => distance(evidently::kl_div(r, c)),
        "evidently_jensenshannon" => distance(evidently::jensenshannon(r, c)),
        "evidently_wasserstein_norm" => distance(evidently::wasserstein_norm(r, c)),
        "nannyml_jensenshannon_base2" => distance(nannyml::jensen_shannon_numeric(r, c)),
        "nannyml_hellinger" => distance(nannyml::hellinger_numeric(r, c)),
        _ => return numeric_family(key, r, c),
    })
}

fn numeric_family(key: &str, r: &SortedSample, c: &SortedSample) -> Option<Result<TestResult>> {
    if let Some(rest) = key.strip_prefix("psi_quantile") {
        let (bins, eps) = rest.split_once("_eps")?;
        let (bins, eps) = (bins.parse::<usize>().ok()?, eps.parse::<f64>().ok()?);
        return Some(hist_metric(
            r,
            c,
            &Binning::ReferenceQuantiles { bins },
            |p, q| divergence::psi(p, q, eps),
        ));
    }
    if let Some(rest) = key.strip_prefix("jensenshannon_hist") {
        let (bins, base) = match rest.split_once("_base") {
            Some((bins, base)) => (bins.parse::<usize>().ok()?, Some(base.parse::<f64>().ok()?)),
            None => (rest.parse::<usize>().ok()?, None),
        };
        return Some(hist_metric(r, c, &Binning::EqualWidth { bins }, |p, q| {
            divergence::jensen_shannon(p, q, base)
        }));
    }
    if let Some(rest) = key.strip_prefix("hellinger_hist") {
        let bins = rest.parse::<usize>().ok()?;
        return Some(hist_metric(
            r,
            c,
            &Binning::EqualWidth { bins },
            divergence::hellinger,
        ));
    }
    None
}

fn hist_metric(
    r: &SortedSample,
    c: &SortedSample,
    binning: &Binning,
    metric: impl Fn(&[f64], &[f64]) -> Result<f64>,
) -> Result<TestResult> {
    let h = histogram(r, c, binning)?;
    metric(&h.reference_proportions(), &h.current_proportions()).map(TestResult::distance)
}

/// A distance between two proportion vectors.
type Metric<'a> = dyn Fn(&[f64], &[f64]) -> Result<f64> + 'a;

/// Run the categorical method named `key`; `None` if the key is unknown.
///
/// `evidently_z_test` gives its p-value as the statistic, because that is the
/// single number (Evidently's drift score) the anchors record for it.
pub fn categorical(key: &str, counts: &CategoryCounts) -> Option<Result<TestResult>> {
    let distance = |d: Result<f64>| d.map(TestResult::distance);
    let union = |metric: &Metric<'_>| {
        metric(
            &counts.reference_proportions(),
            &counts.current_proportions(),
        )
        .map(TestResult::distance)
    };
    Some(match key {
        "chi2_contingency_correction_true" => {
            categorical::chi2_contingency(counts, true).map(|r| r.test_result())
        }
        "chi2_contingency_correction_false" => {
            categorical::chi2_contingency(counts, false).map(|r| r.test_result())
        }
        "evidently_chisquare_gof" => categorical::chisquare_gof(counts),
        "evidently_g_test" => categorical::g_test(counts),
        "hellinger_union" => union(&divergence::hellinger),
        "l_infinity" => Ok(TestResult::distance(categorical::l_infinity(counts))),
        "tvd" => Ok(TestResult::distance(categorical::tvd(counts))),
        "nannyml_jensenshannon_base2" => distance(nannyml::jensen_shannon(counts)),
        "nannyml_hellinger" => distance(nannyml::hellinger(counts)),
        "nannyml_l_infinity" => distance(nannyml::l_infinity(counts)),
        "evidently_psi_cat" => distance(evidently::psi_cat(counts)),
        "evidently_kl_div_cat" => distance(evidently::kl_div_cat(counts)),
        "evidently_jensenshannon_cat" => distance(evidently::jensenshannon_cat(counts)),
        "evidently_z_test" => {
            categorical::z_test(counts).map(|r| TestResult::distance(r.pvalue.unwrap_or(f64::NAN)))
        }
        "fisher_exact_two_sided" => categorical::fisher_exact(counts),
        _ => {
            if let Some(base) = key.strip_prefix("jensenshannon_union_base") {
                let base = base.parse::<f64>().ok()?;
                union(&|p, q| divergence::jensen_shannon(p, q, Some(base)))
            } else if let Some(eps) = key.strip_prefix("psi_cat_eps") {
                let eps = eps.parse::<f64>().ok()?;
                union(&|p, q| divergence::psi(p, q, eps))
            } else {
                return None;
            }
        }
    })
}
