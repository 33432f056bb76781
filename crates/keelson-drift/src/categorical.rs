//! Categories, the 2×K contingency table of reference and current counts, and
//! the tests and distances defined on it.
//!
//! The table's columns are the union of the categories seen in either sample,
//! sorted (numpy's `np.union1d` for integers and strings), so a column never
//! has a zero total.
//!
//! Categories seen in the current sample but not in the reference
//! ("unseen") are treated as each library treats them:
//!
//! | method | unseen category |
//! |---|---|
//! | [`chi2_contingency`] | an ordinary column; the test of independence handles it |
//! | [`chisquare_gof`] | expected count 0, so the statistic is +∞ and the p-value 0 (scipy's output) |
//! | [`g_test`] | the same: +∞ and 0, when the sample sizes agree (otherwise scipy raises) |
//! | [`fisher_exact`], [`z_test`] | an ordinary column (Fisher needs exactly two columns) |
//! | [`tvd`], [`l_infinity`], [`tvd_permutation`] | reference proportion 0 |
//! | NannyML's distances (`crate::nannyml`) | pooled into one leftover bin |
//! | PSI-style fills (`crate::divergence`) | the zero proportion is replaced by ε |

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;
use std::hash::{Hash, Hasher};

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Hypergeometric};
use serde::Serialize;

use crate::divergence::pairwise_sum_by;
use crate::error::{Error, Result};
use crate::outcome::TestResult;
use crate::special::{chi2_sf, norm_cdf};

/// One category label.
///
/// Ordered within a variant as numpy sorts (`false < true`, integers
/// numerically, strings by bytes, floats by `f64::total_cmp`), and across
/// variants `Bool < Int < Float < Str`. Floats are compared bitwise, so unlike
/// numpy `-0.0` and `0.0` are different categories and NaN is a category.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Category {
    /// A boolean label.
    Bool(bool),
    /// An integer label.
    Int(i64),
    /// A floating-point label.
    Float(f64),
    /// A string label.
    Str(String),
}

impl Category {
    fn rank(&self) -> u8 {
        match self {
            Category::Bool(_) => 0,
            Category::Int(_) => 1,
            Category::Float(_) => 2,
            Category::Str(_) => 3,
        }
    }
}

impl Ord for Category {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Category::Bool(a), Category::Bool(b)) => a.cmp(b),
            (Category::Int(a), Category::Int(b)) => a.cmp(b),
            (Category::Float(a), Category::Float(b)) => a.total_cmp(b),
            (Category::Str(a), Category::Str(b)) => a.cmp(b),
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

impl PartialOrd for Category {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Category {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Category {}

impl Hash for Category {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.rank().hash(state);
        match self {
            Category::Bool(b) => b.hash(state),
            Category::Int(i) => i.hash(state),
            Category::Float(f) => f.to_bits().hash(state),
            Category::Str(s) => s.hash(state),
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Category::Bool(b) => write!(f, "{b}"),
            Category::Int(i) => write!(f, "{i}"),
            Category::Float(x) => write!(f, "{x}"),
            Category::Str(s) => f.write_str(s),
        }
    }
}

impl From<bool> for Category {
    fn from(b: bool) -> Self {
        Category::Bool(b)
    }
}

impl From<i64> for Category {
    fn from(i: i64) -> Self {
        Category::Int(i)
    }
}

impl From<f64> for Category {
    fn from(x: f64) -> Self {
        Category::Float(x)
    }
}

impl From<&str> for Category {
    fn from(s: &str) -> Self {
        Category::Str(s.to_string())
    }
}

impl From<String> for Category {
    fn from(s: String) -> Self {
        Category::Str(s)
    }
}

/// The 2×K contingency table: reference and current counts over the sorted
/// union of categories. Row order of the input does not matter, and tables
/// counted on shards [`merge`](CategoryCounts::merge) into the table of the whole.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CategoryCounts {
    categories: Vec<Category>,
    reference: Vec<u64>,
    current: Vec<u64>,
}

impl CategoryCounts {
    /// Count the labels of both samples.
    pub fn from_values(
        reference: impl IntoIterator<Item = Category>,
        current: impl IntoIterator<Item = Category>,
    ) -> Self {
        Self::from_counts(tally(reference), tally(current))
    }

    /// Build the table from per-category counts. Categories whose count is
    /// zero in both maps are left out, as they would be absent from the data.
    pub fn from_counts(
        reference: BTreeMap<Category, u64>,
        current: BTreeMap<Category, u64>,
    ) -> Self {
        Self::union(
            reference.into_iter().map(|(k, r)| (k, r, 0)),
            current.into_iter().map(|(k, c)| (k, 0, c)),
        )
    }

    /// Merge two runs of `(category, reference, current)` rows, each sorted by
    /// category without repeats, adding the counts of shared categories.
    fn union(
        a: impl Iterator<Item = (Category, u64, u64)>,
        b: impl Iterator<Item = (Category, u64, u64)>,
    ) -> Self {
        let mut table = CategoryCounts::default();
        let (mut a, mut b) = (a.peekable(), b.peekable());
        loop {
            let order = match (a.peek(), b.peek()) {
                (Some(x), Some(y)) => x.0.cmp(&y.0),
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (None, None) => break,
            };
            let row = match order {
                Ordering::Less => a.next(),
                Ordering::Greater => b.next(),
                Ordering::Equal => match (a.next(), b.next()) {
                    (Some((k, r1, c1)), Some((_, r2, c2))) => {
                        Some((k, r1.saturating_add(r2), c1.saturating_add(c2)))
                    }
                    _ => None,
                },
            };
            match row {
                Some((k, r, c)) => table.push(k, r, c),
                None => break,
            }
        }
        table
    }

    fn push(&mut self, category: Category, reference: u64, current: u64) {
        if reference > 0 || current > 0 {
            self.categories.push(category);
            self.reference.push(reference);
            self.current.push(current);
        }
    }

    /// The sorted union of categories (the table's columns).
    pub fn categories(&self) -> &[Category] {
        &self.categories
    }

    /// Reference counts per category.
    pub fn reference(&self) -> &[u64] {
        &self.reference
    }

    /// Current counts per category.
    pub fn current(&self) -> &[u64] {
        &self.current
    }

    /// Number of reference values.
    pub fn n_reference(&self) -> u64 {
        self.reference
            .iter()
            .fold(0u64, |a, &b| a.saturating_add(b))
    }

    /// Number of current values.
    pub fn n_current(&self) -> u64 {
        self.current.iter().fold(0u64, |a, &b| a.saturating_add(b))
    }

    /// Reference proportions `count / n_reference` per category (NaN when the
    /// reference is empty).
    pub fn reference_proportions(&self) -> Vec<f64> {
        let n = self.n_reference() as f64;
        self.reference.iter().map(|&c| c as f64 / n).collect()
    }

    /// Current proportions `count / n_current` per category.
    pub fn current_proportions(&self) -> Vec<f64> {
        let n = self.n_current() as f64;
        self.current.iter().map(|&c| c as f64 / n).collect()
    }

    /// Add another table's counts (categories are united).
    pub fn merge(&mut self, other: &CategoryCounts) {
        let merged = Self::union(
            self.rows().map(|(k, r, c)| (k.clone(), r, c)),
            other.rows().map(|(k, r, c)| (k.clone(), r, c)),
        );
        *self = merged;
    }

    fn rows(&self) -> impl Iterator<Item = (&Category, u64, u64)> {
        self.categories
            .iter()
            .zip(&self.reference)
            .zip(&self.current)
            .map(|((k, &r), &c)| (k, r, c))
    }

    fn sizes(&self) -> Result<(u64, u64)> {
        let (n, m) = (self.n_reference(), self.n_current());
        if n == 0 {
            return Err(Error::Empty {
                what: "reference".to_string(),
            });
        }
        if m == 0 {
            return Err(Error::Empty {
                what: "current".to_string(),
            });
        }
        Ok((n, m))
    }
}

/// Count labels per category.
fn tally(values: impl IntoIterator<Item = Category>) -> BTreeMap<Category, u64> {
    let mut counts: BTreeMap<Category, u64> = BTreeMap::new();
    for v in values {
        let slot = counts.entry(v).or_insert(0);
        *slot = slot.saturating_add(1);
    }
    counts
}

/// The result of [`chi2_contingency`]: scipy's statistic, p-value and degrees
/// of freedom.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Chi2Result {
    /// Pearson's chi-square statistic (Yates-corrected when asked and dof = 1).
    pub statistic: f64,
    /// Upper-tail chi-square p-value.
    pub pvalue: f64,
    /// Degrees of freedom, K − 1.
    pub dof: usize,
}

impl Chi2Result {
    /// The statistic and p-value.
    pub fn test_result(&self) -> TestResult {
        TestResult::test(self.statistic, self.pvalue)
    }
}

fn count_at(v: &[u64], i: usize) -> f64 {
    v.get(i).copied().unwrap_or(0) as f64
}

/// `scipy.stats.chi2_contingency` on the 2×K table: the test of independence
/// of sample and category, with Yates' continuity correction only when
/// `correction` is set and dof = 1. With a single category dof is 0 and scipy
/// returns statistic 0, p-value 1.
///
/// # Errors
/// [`Error::Empty`] when either sample is empty.
pub fn chi2_contingency(counts: &CategoryCounts, correction: bool) -> Result<Chi2Result> {
    let (n, m) = counts.sizes()?;
    let k = counts.categories.len();
    let dof = k.saturating_sub(1);
    if dof == 0 {
        return Ok(Chi2Result {
            statistic: 0.0,
            pvalue: 1.0,
            dof,
        });
    }
    let total = (u128::from(n) + u128::from(m)) as f64;
    let cell = |i: usize| -> (f64, f64) {
        let (row, col) = (i / k, i % k);
        let (row_total, observed) = if row == 0 {
            (n, &counts.reference)
        } else {
            (m, &counts.current)
        };
        let col_total = u128::from(counts.reference.get(col).copied().unwrap_or(0))
            + u128::from(counts.current.get(col).copied().unwrap_or(0));
        let expected = (u128::from(row_total) * col_total) as f64 / total;
        let mut obs = count_at(observed, col);
        if dof == 1 && correction {
            let diff = expected - obs;
            let direction = if diff > 0.0 {
                1.0
            } else if diff < 0.0 {
                -1.0
            } else {
                0.0
            };
            obs += diff.abs().min(0.5) * direction;
        }
        (obs, expected)
    };
    let statistic = pairwise_sum_by(2 * k, &|i| {
        let (obs, expected) = cell(i);
        let d = obs - expected;
        d * d / expected
    });
    Ok(Chi2Result {
        statistic,
        pvalue: chi2_pvalue(statistic, dof),
        dof,
    })
}

fn chi2_pvalue(statistic: f64, dof: usize) -> f64 {
    if dof == 0 || statistic.is_nan() {
        f64::NAN
    } else if statistic == f64::INFINITY {
        0.0
    } else {
        chi2_sf(statistic, dof as f64)
    }
}

/// Evidently's `chisquare`: `scipy.stats.chisquare(f_obs = current counts,
/// f_exp = reference counts · m/n)` over the union of categories, K − 1
/// degrees of freedom. An unseen category has expected count 0, which makes
/// the statistic +∞ and the p-value 0; a single category gives statistic 0
/// and a NaN p-value, as scipy does.
///
/// # Errors
/// [`Error::Empty`] when either sample is empty.
pub fn chisquare_gof(counts: &CategoryCounts) -> Result<TestResult> {
    let (n, m) = counts.sizes()?;
    let scale = m as f64 / n as f64;
    let statistic = pairwise_sum_by(counts.categories.len(), &|i| {
        let expected = count_at(&counts.reference, i) * scale;
        let d = count_at(&counts.current, i) - expected;
        d * d / expected
    });
    Ok(TestResult::test(
        statistic,
        chi2_pvalue(statistic, counts.categories.len().saturating_sub(1)),
    ))
}

/// Evidently's G-test: `scipy.stats.power_divergence(current counts,
/// reference counts, lambda_="log-likelihood")`, statistic `2 Σ o ln(o/e)`.
/// The reference counts are not rescaled, so scipy's check that both sum to
/// the same total (relative tolerance √ε) fails unless n ≈ m; that error is
/// reproduced. An unseen category gives +∞ and p-value 0.
///
/// # Errors
/// [`Error::Empty`] when either sample is empty; [`Error::Undefined`] with
/// scipy's message when the totals differ.
pub fn g_test(counts: &CategoryCounts) -> Result<TestResult> {
    let (n, m) = counts.sizes()?;
    let rtol = f64::EPSILON.sqrt();
    let (obs_sum, exp_sum) = (m as f64, n as f64);
    let relative_diff = (obs_sum - exp_sum).abs() / obs_sum.min(exp_sum);
    if relative_diff > rtol {
        return Err(Error::undefined(
            "g_test",
            format!(
                "For each axis slice, the sum of the observed frequencies must agree with the sum of the \
                 expected frequencies to a relative tolerance of {}, but the percent differences are:\n{}",
                py_repr(rtol),
                py_repr(relative_diff)
            ),
        ));
    }
    let statistic = pairwise_sum_by(counts.categories.len(), &|i| {
        let (obs, expected) = (count_at(&counts.current, i), count_at(&counts.reference, i));
        2.0 * xlogy(obs, obs / expected)
    });
    Ok(TestResult::test(
        statistic,
        chi2_pvalue(statistic, counts.categories.len().saturating_sub(1)),
    ))
}

/// scipy's `xlogy`: `x ln y`, and 0 when `x == 0`.
fn xlogy(x: f64, y: f64) -> f64 {
    if x == 0.0 && !y.is_nan() {
        0.0
    } else {
        x * y.ln()
    }
}

/// Python's `repr` of a float, for messages that quote scipy's text.
fn py_repr(x: f64) -> String {
    if !x.is_finite() {
        return if x.is_nan() {
            "nan".to_string()
        } else if x > 0.0 {
            "inf".to_string()
        } else {
            "-inf".to_string()
        };
    }
    let scientific = format!("{x:e}");
    let (mantissa, exponent) = scientific
        .split_once('e')
        .unwrap_or((scientific.as_str(), "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    if x != 0.0 && !(-4..16).contains(&exponent) {
        let sign = if exponent < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exponent.abs())
    } else {
        let fixed = format!("{x}");
        if fixed.contains('.') {
            fixed
        } else {
            format!("{fixed}.0")
        }
    }
}

/// Two-sided `scipy.stats.fisher_exact` on the 2×2 table
/// `[[ref_a, ref_b], [cur_a, cur_b]]`; the statistic is the sample odds
/// ratio `ref_a·cur_b / (ref_b·cur_a)` (+∞ when the denominator is 0).
///
/// The hypergeometric probabilities are computed as ratios from the mode in
/// double-double arithmetic, so tables that are mirror images under the null
/// compare equal, as scipy's relative tolerance of 1e-14 expects.
///
/// # Errors
/// [`Error::Empty`] when either sample is empty; [`Error::Undefined`] unless
/// there are exactly two categories.
pub fn fisher_exact(counts: &CategoryCounts) -> Result<TestResult> {
    let (n1, n2) = counts.sizes()?;
    let (&[a, b], &[c, d]) = (counts.reference.as_slice(), counts.current.as_slice()) else {
        return Err(Error::undefined(
            "fisher_exact",
            format!(
                "needs exactly 2 categories, found {}",
                counts.categories.len()
            ),
        ));
    };
    let odds_ratio = if c > 0 && b > 0 {
        (u128::from(a) * u128::from(d)) as f64 / (u128::from(c) * u128::from(b)) as f64
    } else {
        f64::INFINITY
    };
    let draws = a + c;
    let dist = Hypergeom::new(n1 + n2, n1, draws);
    let mode = dist.mode;
    let x = a as i64;
    let pexact = dist.pmf(x);
    let pmode = dist.pmf(mode);
    let gamma = 1.0 + 1e-14;
    if (pexact - pmode).abs() / pexact.max(pmode) <= 1e-14 {
        return Ok(TestResult::test(odds_ratio, 1.0));
    }
    let pvalue = if x < mode {
        let lower = dist.cdf(x);
        if dist.pmf(draws as i64) > pexact * gamma {
            lower
        } else {
            let guess = binary_search(|i| -dist.pmf(i), -pexact * gamma, mode, draws as i64);
            lower + dist.sf(guess)
        }
    } else {
        let upper = dist.sf(x - 1);
        if dist.pmf(0) > pexact * gamma {
            upper
        } else {
            let guess = binary_search(|i| dist.pmf(i), pexact * gamma, 0, mode);
            upper + dist.cdf(guess)
        }
    };
    Ok(TestResult::test(odds_ratio, pvalue.min(1.0)))
}

/// scipy's search for `i` in `[lo, hi]` with `f(i) <= target < f(i + 1)`,
/// for `f` ascending on that range.
fn binary_search(f: impl Fn(i64) -> f64, target: f64, mut lo: i64, mut hi: i64) -> i64 {
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        let value = f(mid);
        if value < target {
            lo = mid + 1;
        } else if value > target {
            hi = mid - 1;
        } else {
            return mid;
        }
    }
    if f(lo) <= target { lo } else { lo - 1 }
}

/// A hypergeometric distribution (population `total`, `successes` of them
/// marked, `draws` drawn), with its probabilities tabulated outward from
/// scipy's mode until they underflow.
struct Hypergeom {
    mode: i64,
    first: i64,
    weights: Vec<f64>,
    total_weight: f64,
}

impl Hypergeom {
    fn new(total: u64, successes: u64, draws: u64) -> Self {
        let failures = total - successes;
        let low = draws.saturating_sub(failures);
        let high = successes.min(draws);
        let mode_estimate =
            ((u128::from(draws) + 1) * (u128::from(successes) + 1)) as f64 / (total as f64 + 2.0);
        let mode = (mode_estimate as u64).clamp(low, high);
        // Ratio of consecutive probabilities P(x+1)/P(x), exact integer factors.
        let up = |x: u64| {
            let num = u128::from(successes - x) * u128::from(draws - x);
            let den = u128::from(x + 1) * u128::from(failures + x + 1 - draws);
            TwoFloat::from_u128(num).div(TwoFloat::from_u128(den))
        };
        let mut above = Vec::new();
        let mut w = TwoFloat::ONE;
        let mut x = mode;
        while x < high {
            w = w.mul(up(x));
            if w.hi < f64::MIN_POSITIVE {
                break;
            }
            above.push(w.hi);
            x += 1;
        }
        let mut below = Vec::new();
        let mut w = TwoFloat::ONE;
        let mut x = mode;
        while x > low {
            w = w.div(up(x - 1));
            if w.hi < f64::MIN_POSITIVE {
                break;
            }
            below.push(w.hi);
            x -= 1;
        }
        let first = mode as i64 - below.len() as i64;
        let mut weights = below;
        weights.reverse();
        weights.push(1.0);
        weights.extend(above);
        let total_weight = neumaier_sum(weights.iter().copied());
        Hypergeom {
            mode: mode as i64,
            first,
            weights,
            total_weight,
        }
    }

    fn weight(&self, x: i64) -> f64 {
        usize::try_from(x - self.first)
            .ok()
            .and_then(|i| self.weights.get(i))
            .copied()
            .unwrap_or(0.0)
    }

    fn pmf(&self, x: i64) -> f64 {
        self.weight(x) / self.total_weight
    }

    /// P(X ≤ x).
    fn cdf(&self, x: i64) -> f64 {
        let end = (x - self.first + 1).clamp(0, self.weights.len() as i64) as usize;
        neumaier_sum(self.weights.iter().take(end).copied()) / self.total_weight
    }

    /// P(X > x).
    fn sf(&self, x: i64) -> f64 {
        let start = (x - self.first + 1).clamp(0, self.weights.len() as i64) as usize;
        neumaier_sum(self.weights.iter().skip(start).copied()) / self.total_weight
    }
}

fn neumaier_sum(values: impl Iterator<Item = f64>) -> f64 {
    let (mut sum, mut compensation) = (0.0f64, 0.0f64);
    for v in values {
        let t = sum + v;
        compensation += if sum.abs() >= v.abs() {
            (sum - t) + v
        } else {
            (v - t) + sum
        };
        sum = t;
    }
    sum + compensation
}

/// An unevaluated sum `hi + lo` with |lo| ≤ ulp(hi)/2: about 106 bits.
#[derive(Clone, Copy)]
struct TwoFloat {
    hi: f64,
    lo: f64,
}

impl TwoFloat {
    const ONE: TwoFloat = TwoFloat { hi: 1.0, lo: 0.0 };

    fn from_u128(v: u128) -> Self {
        let hi = v as f64;
        let rest = (v as i128).wrapping_sub(hi as i128);
        Self::quick(hi, rest as f64)
    }

    fn quick(a: f64, b: f64) -> Self {
        let s = a + b;
        TwoFloat {
            hi: s,
            lo: b - (s - a),
        }
    }

    fn two_sum(a: f64, b: f64) -> Self {
        let s = a + b;
        let bb = s - a;
        TwoFloat {
            hi: s,
            lo: (a - (s - bb)) + (b - bb),
        }
    }

    fn mul(self, other: Self) -> Self {
        let p = self.hi * other.hi;
        let e = self.hi.mul_add(other.hi, -p) + (self.hi * other.lo + self.lo * other.hi);
        Self::quick(p, e)
    }

    fn mul_f64(self, b: f64) -> Self {
        let p = self.hi * b;
        let e = self.hi.mul_add(b, -p) + self.lo * b;
        Self::quick(p, e)
    }

    fn sub(self, other: Self) -> Self {
        let s = Self::two_sum(self.hi, -other.hi);
        Self::quick(s.hi, s.lo + (self.lo - other.lo))
    }

    fn div(self, other: Self) -> Self {
        let q1 = self.hi / other.hi;
        let r = self.sub(other.mul_f64(q1));
        let q2 = r.hi / other.hi;
        let r = r.sub(other.mul_f64(q2));
        let q3 = r.hi / other.hi;
        let q = Self::quick(q1, q2);
        Self::quick(q.hi, q.lo + q3)
    }
}

/// Evidently's two-proportion z-test, pooled, on the indicator "category is
/// not the first sorted category"; the p-value is `2(1 − Φ(|z|))` exactly as
/// Evidently computes it (so it rounds to 0 below about 1e-16). The statistic
/// is z. A single category gives z = 0 and p-value 1.
///
/// # Errors
/// [`Error::Empty`] when either sample is empty.
pub fn z_test(counts: &CategoryCounts) -> Result<TestResult> {
    let (n, m) = counts.sizes()?;
    if counts.categories.len() < 2 {
        return Ok(TestResult::test(0.0, 1.0));
    }
    let (n1, n2) = (n as f64, m as f64);
    let p1 = (n - counts.reference.first().copied().unwrap_or(0)) as f64 / n1;
    let p2 = (m - counts.current.first().copied().unwrap_or(0)) as f64 / n2;
    let pooled = (p1 * n1 + p2 * n2) / (u128::from(n) + u128::from(m)) as f64;
    let z = (p1 - p2) / (pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2)).sqrt();
    Ok(TestResult::test(z, 2.0 * (1.0 - norm_cdf(z.abs()))))
}

/// Total variation distance `½ Σ |p_k − q_k|` over the union of categories
/// (NaN when a sample is empty).
pub fn tvd(counts: &CategoryCounts) -> f64 {
    let (n, m) = (counts.n_reference() as f64, counts.n_current() as f64);
    0.5 * pairwise_sum_by(counts.categories.len(), &|i| {
        (count_at(&counts.reference, i) / n - count_at(&counts.current, i) / m).abs()
    })
}

/// L∞ distance `max |p_k − q_k|` over the union of categories (NaN when a
/// sample is empty).
pub fn l_infinity(counts: &CategoryCounts) -> f64 {
    let (n, m) = (counts.n_reference() as f64, counts.n_current() as f64);
    if n == 0.0 || m == 0.0 {
        return f64::NAN;
    }
    counts
        .reference
        .iter()
        .zip(&counts.current)
        .map(|(&r, &c)| (r as f64 / n - c as f64 / m).abs())
        .fold(0.0, f64::max)
}

/// [`tvd`] with Evidently's permutation p-value: the share of `permutations`
/// random splits of the pooled labels into samples of the original sizes
/// whose TVD is at least the observed one. Each split is drawn as a
/// multivariate hypergeometric sample (O(K) per permutation) from a
/// ChaCha8 generator seeded with `seed`; distances are compared exactly, in
/// integers. The p-value is NaN when `permutations` is 0 or a sample is empty.
pub fn tvd_permutation(counts: &CategoryCounts, permutations: usize, seed: u64) -> TestResult {
    let statistic = tvd(counts);
    let (n, m) = (counts.n_reference(), counts.n_current());
    if permutations == 0 || n == 0 || m == 0 {
        return TestResult::test(statistic, f64::NAN);
    }
    let totals: Vec<u64> = counts
        .reference
        .iter()
        .zip(&counts.current)
        .map(|(&r, &c)| r + c)
        .collect();
    let scaled = |r: u64, c: u64| -> u128 {
        (i128::from(r) * i128::from(m) - i128::from(c) * i128::from(n)).unsigned_abs()
    };
    let observed: u128 = counts
        .reference
        .iter()
        .zip(&counts.current)
        .map(|(&r, &c)| scaled(r, c))
        .sum();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut at_least = 0usize;
    for _ in 0..permutations {
        let mut population = n + m;
        let mut draws = n;
        let mut distance: u128 = 0;
        for &t in &totals {
            let x = if draws == 0 {
                0
            } else if population == t {
                draws
            } else {
                Hypergeometric::new(population, t, draws)
                    .map(|h| h.sample(&mut rng))
                    .unwrap_or(0)
            };
            distance += scaled(x, t - x);
            population -= t;
            draws -= x.min(draws);
        }
        if distance >= observed {
            at_least += 1;
        }
    }
    TestResult::test(statistic, at_least as f64 / permutations as f64)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::testing::rel;

    fn table(reference: &[u64], current: &[u64]) -> CategoryCounts {
        let r = reference
            .iter()
            .enumerate()
            .map(|(i, &c)| (Category::Int(i as i64), c))
            .collect();
        let c = current
            .iter()
            .enumerate()
            .map(|(i, &c)| (Category::Int(i as i64), c))
            .collect();
        CategoryCounts::from_counts(r, c)
    }

    #[test]
    fn union_is_sorted_like_numpy() {
        let counts = CategoryCounts::from_values(
            ["b", "a", "b"].map(Category::from),
            ["c", "a"].map(Category::from),
        );
        assert_eq!(counts.categories(), &["a", "b", "c"].map(Category::from));
        assert_eq!(counts.reference(), &[1, 2, 0]);
        assert_eq!(counts.current(), &[1, 0, 1]);
        let ints = CategoryCounts::from_values(
            [10i64, -3, 2].map(Category::from),
            [2i64].map(Category::from),
        );
        assert_eq!(ints.categories(), &[-3i64, 2, 10].map(Category::from));
        assert!(Category::Bool(true) < Category::Int(0));
        assert_eq!(Category::Float(1.5).to_string(), "1.5");
    }

    #[test]
    fn zero_columns_are_dropped() {
        let mut r = BTreeMap::new();
        r.insert(Category::Int(1), 0);
        r.insert(Category::Int(2), 3);
        let counts = CategoryCounts::from_counts(r, BTreeMap::new());
        assert_eq!(counts.categories(), &[Category::Int(2)]);
    }

    #[test]
    fn chi2_contingency_matches_scipy() {
        // scipy.stats.chi2_contingency([[57, 43], [51, 49]]) -> (0.5032206119162641, 0.4780884211444887, 1)
        let t = table(&[57, 43], &[51, 49]);
        let r = chi2_contingency(&t, true).unwrap();
        assert_eq!(r.dof, 1);
        assert!(rel(r.statistic, 0.5032206119162641) < 1e-14, "{r:?}");
        assert!(rel(r.pvalue, 0.4780884211444887) < 1e-12, "{r:?}");
        // correction=False -> (0.7246376811594203, 0.39462686624309506)
        let r = chi2_contingency(&t, false).unwrap();
        assert!(rel(r.statistic, 0.7246376811594203) < 1e-14, "{r:?}");
        assert!(rel(r.pvalue, 0.39462686624309506) < 1e-12, "{r:?}");
        // chi2_contingency([[10, 20, 30], [30, 20, 5]]) -> (27.69209956709957, 9.699223855475429e-07, 2)
        let r = chi2_contingency(&table(&[10, 20, 30], &[30, 20, 5]), true).unwrap();
        assert_eq!(r.dof, 2);
        assert!(rel(r.statistic, 27.69209956709957) < 1e-14, "{r:?}");
        assert!(rel(r.pvalue, 9.699223855475429e-07) < 1e-12, "{r:?}");
        // Yates never overshoots: chi2_contingency([[1, 0], [1, 1]]) -> (0.0, 1.0, 1)
        let r = chi2_contingency(&table(&[1, 0], &[1, 1]), true).unwrap();
        assert_eq!((r.statistic, r.pvalue), (0.0, 1.0));
        let single = chi2_contingency(&table(&[4], &[5]), true).unwrap();
        assert_eq!((single.statistic, single.pvalue, single.dof), (0.0, 1.0, 0));
        assert!(matches!(
            chi2_contingency(&table(&[0, 0], &[1, 2]), true),
            Err(Error::Empty { .. })
        ));
    }

    #[test]
    fn chisquare_and_g_test_match_scipy() {
        // scipy.stats.chisquare([51, 49], [57 * 1.0, 43 * 1.0]) -> (1.4687882496940023, 0.2255369779458134)
        let t = table(&[57, 43], &[51, 49]);
        let r = chisquare_gof(&t).unwrap();
        assert_eq!(r.statistic, 1.4687882496940023);
        assert!(rel(r.pvalue.unwrap(), 0.2255369779458134) < 1e-12);
        // scipy.stats.power_divergence([51, 49], [57, 43], lambda_="log-likelihood")
        let g = g_test(&t).unwrap();
        assert!(rel(g.statistic, 1.4557630956294076) < 1e-14, "{g:?}");
        assert!(rel(g.pvalue.unwrap(), 0.2276054615059513) < 1e-12);
        let unseen = table(&[5, 0], &[3, 2]);
        let r = chisquare_gof(&unseen).unwrap();
        assert_eq!((r.statistic, r.pvalue), (f64::INFINITY, Some(0.0)));
        let err = g_test(&table(&[50, 0], &[30, 30])).unwrap_err().to_string();
        assert!(err.ends_with(
            "For each axis slice, the sum of the observed frequencies must agree with the sum of the expected \
             frequencies to a relative tolerance of 1.4901161193847656e-08, but the percent differences are:\n0.2"
        ), "{err}");
    }

    #[test]
    fn python_float_repr() {
        assert_eq!(py_repr(0.2), "0.2");
        assert_eq!(py_repr(1e-5), "1e-05");
        assert_eq!(py_repr(2.0), "2.0");
        assert_eq!(py_repr(1.5e16), "1.5e+16");
        assert_eq!(py_repr(0.0001), "0.0001");
    }

    #[test]
    fn fisher_matches_scipy() {
        // scipy.stats.fisher_exact(table) for each table; (odds ratio, p-value)
        let cases: [([u64; 2], [u64; 2], f64, f64); 6] = [
            ([57, 43], [51, 49], 1.2735978112175104, 0.4781888789135895),
            ([8, 2], [1, 5], 20.0, 0.034965034965034975),
            ([10, 0], [0, 10], f64::INFINITY, 1.082508822446903e-05),
            ([1, 9], [11, 3], 0.030303030303030304, 0.0027594561852200836),
            ([100, 100], [100, 100], 1.0, 1.0),
            (
                [500, 300],
                [420, 380],
                1.507936507936508,
                6.371411722215655e-05,
            ),
        ];
        for (r, c, odds, p) in cases {
            let got = fisher_exact(&table(&r, &c)).unwrap();
            assert!(rel(got.statistic, odds) < 1e-15, "{r:?} {c:?} {got:?}");
            assert!(
                rel(got.pvalue.unwrap(), p) < 1e-12,
                "{r:?} {c:?} {got:?} want {p}"
            );
        }
        assert!(fisher_exact(&table(&[1, 2, 3], &[1, 2, 3])).is_err());
    }

    #[test]
    fn z_test_and_distances() {
        // z_test_evidently on the binary case with counts [[57, 43], [51, 49]]
        let t = table(&[57, 43], &[51, 49]);
        let z = z_test(&t).unwrap();
        assert_eq!(z.statistic, -0.8512565307587484);
        assert!(rel(z.pvalue.unwrap(), 0.3946268662430952) < 1e-12, "{z:?}");
        assert_eq!(tvd(&t), 0.05999999999999997);
        assert_eq!(l_infinity(&t), 0.06);
        let same = tvd_permutation(&table(&[5, 5], &[5, 5]), 200, 7);
        assert_eq!(same.statistic, 0.0);
        assert_eq!(same.pvalue, Some(1.0));
        let far = tvd_permutation(&table(&[100, 0], &[0, 100]), 200, 7);
        assert_eq!(far.pvalue, Some(0.0));
        let again = tvd_permutation(&t, 300, 11);
        assert_eq!(again, tvd_permutation(&t, 300, 11));
        let p = again.pvalue.unwrap();
        assert!(p > 0.2 && p < 0.6, "{p}");
    }

    #[test]
    fn merge_unites_categories() {
        let mut a =
            CategoryCounts::from_values(["x", "y"].map(Category::from), ["y"].map(Category::from));
        let b =
            CategoryCounts::from_values(["z"].map(Category::from), ["x", "x"].map(Category::from));
        a.merge(&b);
        let whole = CategoryCounts::from_values(
            ["x", "y", "z"].map(Category::from),
            ["y", "x", "x"].map(Category::from),
        );
        assert_eq!(a, whole);
    }
}
