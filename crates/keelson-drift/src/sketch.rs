//! Mergeable partial state for distributed drift: compute per shard, ship the
//! state, merge, then test.
//!
//! Two kinds of state live here:
//!
//! * [`QuantileSketch`], a bucketed summary of a numeric column with a proven
//!   relative accuracy, from which [`ks_statistic`] and [`wasserstein`] give
//!   estimates with a stated [error bound](SketchEstimate::error_bound).
//! * [`MomentState`] (count, mean and sum of squared deviations), merged with
//!   Chan's parallel formula, from which [`ttest`] gives Student's or Welch's
//!   t-test without ever holding a whole column.
//!
//! # The bucket layout of [`QuantileSketch`]
//!
//! A finite, non-zero `x` is filed by its magnitude `|x|` under the top bits of
//! its IEEE-754 pattern: the 11 exponent bits and the leading `m` mantissa bits
//! (`m` is [`QuantileSketch::precision_bits`]). Within one binade
//! `[2^E, 2^(E+1))` this splits the magnitudes into `2^m` equal intervals
//! `[a, b)` of width `2^(E-m)`, and every value is represented by the midpoint
//! of its interval. Because `a ≥ 2^E`,
//!
//! ```text
//! |x − midpoint| ≤ (b − a) / 2 = 2^(E−m−1) ≤ 2^−(m+1) · |x| = α · |x|
//! ```
//!
//! where `α = 2^−(m+1)` is [`QuantileSketch::alpha`]: the accuracy asked for in
//! [`QuantileSketch::new`] rounded down to a power of two. The midpoint has
//! `m + 2` significant bits, so it is an exact `f64` and the bound holds with
//! no rounding at all. Subnormal magnitudes (below `f64::MIN_POSITIVE`, about
//! 2.2e-308) are split the same way on their linear scale, which gives the
//! absolute bound `|x − midpoint| ≤ α · f64::MIN_POSITIVE` instead.
//! Zeros (`+0.0` and `-0.0`) have their own bucket and are represented exactly
//! by `0.0`; `+∞` and `−∞` have one bucket each and are represented exactly.
//! NaNs are counted ([`QuantileSketch::nan_count`]) and never inserted.
//!
//! The bucket of a value is a pure function of its bits: no logarithm, no
//! rounding, no data-dependent range. So a sketch is the same object whatever
//! order the values arrive in and however they are split into shards, and
//! [`QuantileSketch::merge`] (which adds bucket counts) gives bit for bit the
//! sketch of the concatenated data.
//!
//! Why not DDSketch's logarithmic buckets: they need a logarithm per value,
//! and their boundaries `γ^i` are themselves rounded, so their `α` bound holds
//! only up to a few ulps and two machines with different `ln` can disagree on
//! a bucket. Bit-pattern buckets have an exact bound and are reproducible
//! everywhere, at the price of up to twice the buckets for a given `α` (the
//! relative width falls from `2^−m` to `2^−(m+1)` across a binade, and `α` is
//! rounded down to a power of two).
//!
//! # Error bounds of the two-sample estimates
//!
//! * [`ks_statistic`]: `value ≤ D_exact ≤ value + error_bound`, from the
//!   exact CDFs at bucket boundaries and the worst order inside the buckets
//!   holding both samples (0 when no bucket does).
//! * [`wasserstein`]: `|value − W_exact| ≤ error_bound ≤ α·(mean|x_ref| +
//!   mean|x_cur|)` (plus rounding), by a coupling argument.
//!
//! Memory grows only where data falls: counters are allocated in pages of 64
//! (512 bytes), plus a table of `2^(m−6)` page pointers per binade touched. At
//! `α = 2^−7` (`m = 6`) a binade is one page, so data spanning `10^−6 … 10^6`
//! costs at most about 40 KiB per sign. The finest accuracy accepted is
//! [`QuantileSketch::MIN_ALPHA`] (`m = 16`: an 8 KiB page table per binade
//! touched, and one page per 64 adjacent buckets touched).

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Result};
use crate::outcome::TestResult;
use crate::special::t_sf;

/// Explicit mantissa bits of an `f64`.
const MANTISSA_BITS: u32 = 52;
const MANTISSA_MASK: u64 = (1 << MANTISSA_BITS) - 1;
const SIGN_MASK: u64 = 1 << 63;
/// Bit pattern of `+∞`; larger magnitudes are NaNs.
const INFINITY_BITS: u64 = 0x7FF0_0000_0000_0000;
/// The finest precision accepted, bounding memory at `2^16` counters per binade.
const MAX_PRECISION: u32 = 16;

/// Buckets are allocated in pages of `2^PAGE_BITS` counters (512 bytes), so
/// fine precisions cost memory only where data falls.
const PAGE_BITS: u32 = 6;

/// A binade's pages, allocated on first use.
type Pages = Box<[Option<Box<[u64]>>]>;

/// Counts per bucket for one sign: per biased exponent (0 for subnormals,
/// 1..=2046 for normals) a lazily allocated table of `2^(m − 6)` pages (one
/// page of `2^m` counters when `m < 6`).
#[derive(Debug, Clone, Default)]
struct Store {
    binades: Vec<Option<Pages>>,
}

fn page_bits(precision: u32) -> u32 {
    precision.min(PAGE_BITS)
}

fn empty_pages(precision: u32) -> Pages {
    (0..1usize << (precision - page_bits(precision)))
        .map(|_| None)
        .collect()
}

fn empty_page(precision: u32) -> Box<[u64]> {
    vec![0; 1 << page_bits(precision)].into_boxed_slice()
}

impl Store {
    /// File a finite, non-zero magnitude's bit pattern `n` times.
    #[inline]
    fn add(&mut self, magnitude: u64, precision: u32, n: u64) {
        let exponent = (magnitude >> MANTISSA_BITS) as usize;
        let slot = ((magnitude & MANTISSA_MASK) >> (MANTISSA_BITS - precision)) as usize;
        let bits = page_bits(precision);
        let (page, offset) = (slot >> bits, slot & ((1 << bits) - 1));
        if self.binades.len() <= exponent {
            self.binades.resize_with(exponent + 1, || None);
        }
        let Some(binade) = self.binades.get_mut(exponent) else {
            return;
        };
        let pages = binade.get_or_insert_with(|| empty_pages(precision));
        let Some(page) = pages.get_mut(page) else {
            return;
        };
        let counts = page.get_or_insert_with(|| empty_page(precision));
        if let Some(count) = counts.get_mut(offset) {
            *count += n;
        }
    }

    /// Add every count of `other`; the caller has checked the totals cannot overflow.
    fn add_store(&mut self, other: &Store, precision: u32) {
        if self.binades.len() < other.binades.len() {
            self.binades.resize_with(other.binades.len(), || None);
        }
        for (mine, theirs) in self.binades.iter_mut().zip(&other.binades) {
            let Some(theirs) = theirs else { continue };
            let pages = mine.get_or_insert_with(|| empty_pages(precision));
            for (mine, theirs) in pages.iter_mut().zip(theirs.iter()) {
                let Some(theirs) = theirs else { continue };
                let counts = mine.get_or_insert_with(|| empty_page(precision));
                for (a, b) in counts.iter_mut().zip(theirs.iter()) {
                    *a += *b;
                }
            }
        }
    }

    /// Non-empty buckets as `(key, count)` in ascending key (= magnitude) order,
    /// where `key` is the magnitude's bit pattern shifted right by `52 − m`.
    fn entries(&self, precision: u32) -> impl DoubleEndedIterator<Item = (u64, u64)> + '_ {
        let bits = page_bits(precision);
        self.binades
            .iter()
            .enumerate()
            .flat_map(move |(exponent, binade)| {
                binade.iter().flat_map(move |pages| {
                    pages.iter().enumerate().flat_map(move |(page, counts)| {
                        counts.iter().flat_map(move |counts| {
                            counts.iter().enumerate().filter(|(_, c)| **c > 0).map(
                                move |(offset, c)| {
                                    let slot = ((page as u64) << bits) | offset as u64;
                                    (((exponent as u64) << precision) | slot, *c)
                                },
                            )
                        })
                    })
                })
            })
    }
}

/// One non-empty bucket, with what the estimators need to know about it.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    /// Position on the real line: buckets sort by this.
    order: i64,
    count: u64,
    /// The value every member is represented by.
    value: f64,
    /// Largest distance from a member to `value`; 0 for the zero and infinity
    /// buckets, whose members all equal `value`.
    half_width: f64,
}

/// A mergeable quantile sketch with relative accuracy [`alpha`](Self::alpha).
///
/// See the [module documentation](self) for the bucket layout and the proof of
/// the accuracy bound. Equality compares bucket counts, so two sketches are
/// equal exactly when they summarize the same multiset of buckets.
#[derive(Debug, Clone)]
pub struct QuantileSketch {
    precision: u32,
    positive: Store,
    negative: Store,
    zero: u64,
    positive_infinity: u64,
    negative_infinity: u64,
    nan: u64,
    /// Values inserted, NaNs excluded.
    count: u64,
}

impl QuantileSketch {
    /// The finest relative accuracy accepted, `2^−17` (about 7.6e-6).
    pub const MIN_ALPHA: f64 = 1.0 / 131_072.0;

    /// An empty sketch representing every value within relative error at most
    /// `alpha` (0 < `alpha` < 1). The accuracy is rounded down to a power of
    /// two, `2^−(m+1)`, so `new(0.01)` guarantees `2^−7 = 0.0078125`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] if `alpha` is not in
    /// `[MIN_ALPHA, 1)`.
    pub fn new(alpha: f64) -> Result<Self> {
        if !(Self::MIN_ALPHA..1.0).contains(&alpha) {
            return Err(Error::invalid(
                "alpha",
                format!("must be in [{}, 1), got {alpha}", Self::MIN_ALPHA),
            ));
        }
        let mut precision = 0;
        while precision < MAX_PRECISION && 0.5f64.powi(precision as i32 + 1) > alpha {
            precision += 1;
        }
        Ok(Self::with_precision(precision))
    }

    /// A sketch of `values` (see [`extend`](Self::extend)).
    ///
    /// # Errors
    /// As [`new`](Self::new).
    pub fn from_slice(alpha: f64, values: &[f64]) -> Result<Self> {
        let mut sketch = Self::new(alpha)?;
        sketch.extend(values);
        Ok(sketch)
    }

    fn with_precision(precision: u32) -> Self {
        QuantileSketch {
            precision,
            positive: Store::default(),
            negative: Store::default(),
            zero: 0,
            positive_infinity: 0,
            negative_infinity: 0,
            nan: 0,
            count: 0,
        }
    }

    /// The guaranteed relative accuracy `2^−(m+1)`: every finite value `x` is
    /// represented by some `r` with `|r − x| ≤ alpha · max(|x|, f64::MIN_POSITIVE)`.
    pub fn alpha(&self) -> f64 {
        0.5f64.powi(self.precision as i32 + 1)
    }

    /// Number `m` of leading mantissa bits that pick a value's bucket.
    pub fn precision_bits(&self) -> u32 {
        self.precision
    }

    /// Add one value. A NaN is only counted (see [`nan_count`](Self::nan_count)).
    #[inline]
    pub fn insert(&mut self, x: f64) {
        let bits = x.to_bits();
        let magnitude = bits & !SIGN_MASK;
        let negative = bits & SIGN_MASK != 0;
        if magnitude == 0 {
            self.zero += 1;
        } else if magnitude < INFINITY_BITS {
            let store = if negative {
                &mut self.negative
            } else {
                &mut self.positive
            };
            store.add(magnitude, self.precision, 1);
        } else if magnitude == INFINITY_BITS {
            if negative {
                self.negative_infinity += 1;
            } else {
                self.positive_infinity += 1;
            }
        } else {
            self.nan += 1;
            return;
        }
        self.count += 1;
    }

    /// Add every value of a slice: the fast path for a column or a shard.
    pub fn extend(&mut self, values: &[f64]) {
        for &x in values {
            self.insert(x);
        }
    }

    /// Add the counts of `other`, which must have the same
    /// [`precision_bits`](Self::precision_bits). The result equals, bucket for
    /// bucket, the sketch of both inputs' values together.
    ///
    /// # Errors
    /// [`Error::Merge`] if the precisions differ or a count would overflow `u64`.
    pub fn merge(&mut self, other: &QuantileSketch) -> Result<()> {
        if self.precision != other.precision {
            return Err(Error::Merge {
                reason: format!(
                    "quantile sketches have different accuracy (alpha {} vs {})",
                    self.alpha(),
                    other.alpha()
                ),
            });
        }
        // Every bucket is at most its sketch's total, so checking the totals
        // rules out overflow in every bucket.
        let overflow = || Error::Merge {
            reason: "quantile sketch count overflows u64".to_string(),
        };
        let count = self.count.checked_add(other.count).ok_or_else(overflow)?;
        let nan = self.nan.checked_add(other.nan).ok_or_else(overflow)?;
        self.positive.add_store(&other.positive, self.precision);
        self.negative.add_store(&other.negative, self.precision);
        self.zero += other.zero;
        self.positive_infinity += other.positive_infinity;
        self.negative_infinity += other.negative_infinity;
        self.count = count;
        self.nan = nan;
        Ok(())
    }

    /// Number of values summarized (NaNs excluded).
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Number of NaNs seen and left out.
    pub fn nan_count(&self) -> u64 {
        self.nan
    }

    /// Whether no (non-NaN) value has been inserted.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Number of non-empty buckets: the size of the serialized state.
    pub fn bucket_count(&self) -> usize {
        self.buckets().len()
    }

    /// Number of infinite values (either sign) summarized.
    pub fn infinite_count(&self) -> u64 {
        self.positive_infinity + self.negative_infinity
    }

    /// The representative of the order statistic `x_(k)`, `k = ⌊q·(n−1)⌋`
    /// (0-based, the lower of the two neighbours numpy's linear method would
    /// interpolate between). Bucketing is monotone, so the result `r`
    /// satisfies `|r − x_(k)| ≤ alpha · max(|x_(k)|, f64::MIN_POSITIVE)`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] if `q` is not in `[0, 1]`;
    /// [`Error::Empty`] if the sketch is empty.
    pub fn quantile(&self, q: f64) -> Result<f64> {
        if !(0.0..=1.0).contains(&q) {
            return Err(Error::invalid("q", format!("must be in [0, 1], got {q}")));
        }
        if self.count == 0 {
            return Err(Error::Empty {
                what: "quantile sketch".to_string(),
            });
        }
        let last = self.count - 1;
        let rank = ((q * last as f64).floor() as u64).min(last);
        let mut seen = 0u64;
        for bucket in self.buckets() {
            seen += bucket.count;
            if seen > rank {
                return Ok(bucket.value);
            }
        }
        Err(Error::Empty {
            what: "quantile sketch".to_string(),
        })
    }

    /// Non-empty buckets in ascending order of value.
    fn buckets(&self) -> Vec<Bucket> {
        let precision = self.precision;
        let mut out = Vec::new();
        if self.negative_infinity > 0 {
            out.push(Bucket {
                order: i64::MIN,
                count: self.negative_infinity,
                value: f64::NEG_INFINITY,
                half_width: 0.0,
            });
        }
        out.extend(self.negative.entries(precision).rev().map(|(key, count)| {
            let (value, half_width) = representative(key, precision);
            Bucket {
                order: -(key as i64) - 1,
                count,
                value: -value,
                half_width,
            }
        }));
        if self.zero > 0 {
            out.push(Bucket {
                order: 0,
                count: self.zero,
                value: 0.0,
                half_width: 0.0,
            });
        }
        out.extend(self.positive.entries(precision).map(|(key, count)| {
            let (value, half_width) = representative(key, precision);
            Bucket {
                order: key as i64 + 1,
                count,
                value,
                half_width,
            }
        }));
        if self.positive_infinity > 0 {
            out.push(Bucket {
                order: i64::MAX,
                count: self.positive_infinity,
                value: f64::INFINITY,
                half_width: 0.0,
            });
        }
        out
    }
}

/// Midpoint and half-width of the magnitude bucket `key`. Both are exact:
/// inside a binade an `f64` is linear in its mantissa bits, the midpoint needs
/// only `m + 2` significant bits, and the subtraction is exact by Sterbenz's
/// lemma (or, for subnormals, because subnormal differences always are).
fn representative(key: u64, precision: u32) -> (f64, f64) {
    let lower_bits = key << (MANTISSA_BITS - precision);
    let mid_bits = lower_bits + (1 << (MANTISSA_BITS - precision - 1));
    let lower = f64::from_bits(lower_bits);
    let mid = f64::from_bits(mid_bits);
    (mid, mid - lower)
}

impl PartialEq for QuantileSketch {
    fn eq(&self, other: &Self) -> bool {
        self.precision == other.precision
            && self.zero == other.zero
            && self.positive_infinity == other.positive_infinity
            && self.negative_infinity == other.negative_infinity
            && self.nan == other.nan
            && self.count == other.count
            && self
                .positive
                .entries(self.precision)
                .eq(other.positive.entries(other.precision))
            && self
                .negative
                .entries(self.precision)
                .eq(other.negative.entries(other.precision))
    }
}

/// The shipped form of a [`QuantileSketch`]: only non-empty buckets, as
/// `(key, count)` pairs in ascending key order.
#[derive(Serialize, Deserialize)]
struct SketchState {
    precision_bits: u32,
    zero: u64,
    positive_infinity: u64,
    negative_infinity: u64,
    nan: u64,
    positive: Vec<(u64, u64)>,
    negative: Vec<(u64, u64)>,
}

impl Serialize for QuantileSketch {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        SketchState {
            precision_bits: self.precision,
            zero: self.zero,
            positive_infinity: self.positive_infinity,
            negative_infinity: self.negative_infinity,
            nan: self.nan,
            positive: self.positive.entries(self.precision).collect(),
            negative: self.negative.entries(self.precision).collect(),
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for QuantileSketch {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let state = SketchState::deserialize(deserializer)?;
        QuantileSketch::from_state(state).map_err(serde::de::Error::custom)
    }
}

impl QuantileSketch {
    fn from_state(state: SketchState) -> Result<Self> {
        let precision = state.precision_bits;
        if precision > MAX_PRECISION {
            return Err(Error::invalid(
                "precision_bits",
                format!("must be at most {MAX_PRECISION}, got {precision}"),
            ));
        }
        let mut sketch = Self::with_precision(precision);
        let overflow = || Error::invalid("quantile sketch", "counts overflow u64");
        let mut total = state
            .zero
            .checked_add(state.positive_infinity)
            .and_then(|t| t.checked_add(state.negative_infinity))
            .ok_or_else(overflow)?;
        // Keys of finite magnitudes stop below the infinity pattern.
        let key_end = INFINITY_BITS >> (MANTISSA_BITS - precision);
        for (entries, negative) in [(&state.positive, false), (&state.negative, true)] {
            for &(key, count) in entries {
                if key >= key_end {
                    return Err(Error::invalid(
                        "quantile sketch",
                        format!("bucket key {key} is out of range for precision {precision}"),
                    ));
                }
                total = total.checked_add(count).ok_or_else(overflow)?;
                let store = if negative {
                    &mut sketch.negative
                } else {
                    &mut sketch.positive
                };
                if count > 0 {
                    store.add(key << (MANTISSA_BITS - precision), precision, count);
                }
            }
        }
        sketch.zero = state.zero;
        sketch.positive_infinity = state.positive_infinity;
        sketch.negative_infinity = state.negative_infinity;
        sketch.nan = state.nan;
        sketch.count = total;
        Ok(sketch)
    }
}

/// An estimate computed from sketches, with a proven bound on its distance
/// to the value the exact method gives on the raw data.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SketchEstimate {
    /// The estimate.
    pub value: f64,
    /// `|value − exact| ≤ error_bound`; each estimator documents its proof.
    pub error_bound: f64,
}

/// Both sketches' buckets on a common axis: `(value, half_width, count_ref, count_cur)`.
fn joint_buckets(
    reference: &QuantileSketch,
    current: &QuantileSketch,
) -> Vec<(f64, f64, u64, u64)> {
    let a = reference.buckets();
    let b = current.buckets();
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    loop {
        match (a.get(i), b.get(j)) {
            (Some(x), Some(y)) if x.order == y.order => {
                out.push((x.value, x.half_width, x.count, y.count));
                i += 1;
                j += 1;
            }
            (Some(x), Some(y)) if x.order < y.order => {
                out.push((x.value, x.half_width, x.count, 0));
                i += 1;
            }
            (Some(x), None) => {
                out.push((x.value, x.half_width, x.count, 0));
                i += 1;
            }
            (_, Some(y)) => {
                out.push((y.value, y.half_width, 0, y.count));
                j += 1;
            }
            (None, None) => break,
        }
    }
    out
}

fn check_pair(reference: &QuantileSketch, current: &QuantileSketch) -> Result<(f64, f64)> {
    if reference.precision != current.precision {
        return Err(Error::Merge {
            reason: format!(
                "reference and current sketches have different accuracy (alpha {} vs {})",
                reference.alpha(),
                current.alpha()
            ),
        });
    }
    if reference.count == 0 {
        return Err(Error::Empty {
            what: "reference".to_string(),
        });
    }
    if current.count == 0 {
        return Err(Error::Empty {
            what: "current".to_string(),
        });
    }
    Ok((reference.count as f64, current.count as f64))
}

/// Two-sample Kolmogorov–Smirnov statistic `D = sup_t |F_ref(t) − F_cur(t)|`
/// from two sketches of the same accuracy.
///
/// `value` is `D` evaluated at the bucket boundaries, where both empirical
/// CDFs are known exactly: it is the KS statistic of the data with every value
/// moved to its bucket's representative, and never exceeds the exact `D`.
/// Inside a bucket holding fractions `p_ref`, `p_cur` of the two samples, with
/// CDFs `F⁻` just below it and `F⁺` just above, every `t` satisfies
/// `F_ref(t) − F_cur(t) ≤ F⁺_ref − F⁻_cur` and
/// `F_cur(t) − F_ref(t) ≤ F⁺_cur − F⁻_ref`, and both are attained when one
/// sample's members all lie below the other's. Hence
///
/// ```text
/// value ≤ D_exact ≤ value + error_bound
/// ```
///
/// with `value + error_bound` the largest of these per-bucket maxima; the
/// zero and infinity buckets hold a single value each and add no slack. The
/// comparisons are done on the same `count / n` quotients the exact
/// computation uses, so the inequalities also hold in floating point.
///
/// # Errors
/// [`Error::Merge`] if the accuracies differ, [`Error::Empty`] if a sketch is empty.
pub fn ks_statistic(
    reference: &QuantileSketch,
    current: &QuantileSketch,
) -> Result<SketchEstimate> {
    let (n_ref, n_cur) = check_pair(reference, current)?;
    let (mut seen_ref, mut seen_cur) = (0u64, 0u64);
    let (mut lower, mut upper) = (0.0f64, 0.0f64);
    for (_, half_width, c_ref, c_cur) in joint_buckets(reference, current) {
        let before_ref = seen_ref as f64 / n_ref;
        let before_cur = seen_cur as f64 / n_cur;
        seen_ref += c_ref;
        seen_cur += c_cur;
        let after_ref = seen_ref as f64 / n_ref;
        let after_cur = seen_cur as f64 / n_cur;
        lower = lower.max((after_ref - after_cur).abs());
        if half_width > 0.0 {
            upper = upper
                .max(after_ref - before_cur)
                .max(after_cur - before_ref);
        }
    }
    let upper = upper.max(lower);
    Ok(SketchEstimate {
        value: lower,
        error_bound: upper - lower,
    })
}

/// Wasserstein-1 distance `∫ |F_ref − F_cur| dt` (scipy's
/// `wasserstein_distance`) from two sketches of the same accuracy.
///
/// `value` is the exact distance between the two bucketed distributions
/// (every value moved to its representative). Moving each value `x` to `r(x)`
/// is a coupling, so `W(μ, μ̃) ≤ mean |x − r(x)|`, and by the triangle
/// inequality
///
/// ```text
/// |value − W_exact| ≤ W(μ_ref, μ̃_ref) + W(μ_cur, μ̃_cur)
///                   ≤ Σ_buckets half_width · (count_ref / n_ref + count_cur / n_cur)
///                   ≤ alpha · (mean |x_ref| + mean |x_cur|)   (+ alpha · MIN_POSITIVE for subnormals)
/// ```
///
/// `error_bound` is the middle line (tighter than the last), enlarged by a
/// floating-point allowance of `(K + 8)·ε` relative to the bound and to
/// `value`, `K` being the number of buckets summed.
///
/// # Errors
/// [`Error::Merge`] if the accuracies differ, [`Error::Empty`] if a sketch is
/// empty, [`Error::Undefined`] if a sketch holds an infinite value.
pub fn wasserstein(reference: &QuantileSketch, current: &QuantileSketch) -> Result<SketchEstimate> {
    let (n_ref, n_cur) = check_pair(reference, current)?;
    for (sketch, what) in [(reference, "reference"), (current, "current")] {
        if sketch.infinite_count() > 0 {
            return Err(Error::undefined(
                "wasserstein",
                format!("{what} holds {} infinite values", sketch.infinite_count()),
            ));
        }
    }
    let joint = joint_buckets(reference, current);
    let (mut seen_ref, mut seen_cur) = (0u64, 0u64);
    let mut previous: Option<f64> = None;
    let (mut distance, mut bound) = (0.0f64, 0.0f64);
    for &(value, half_width, c_ref, c_cur) in &joint {
        if let Some(previous) = previous {
            let gap = (seen_ref as f64 / n_ref - seen_cur as f64 / n_cur).abs();
            distance += gap * (value - previous);
        }
        seen_ref += c_ref;
        seen_cur += c_cur;
        bound += half_width * (c_ref as f64 / n_ref + c_cur as f64 / n_cur);
        previous = Some(value);
    }
    let rounding = (joint.len() as f64 + 8.0) * f64::EPSILON;
    Ok(SketchEstimate {
        value: distance,
        error_bound: bound * (1.0 + rounding) + distance * rounding,
    })
}

/// Count, mean and sum of squared deviations (`M2`) of a numeric column:
/// the mergeable state of the t-tests.
///
/// Shards merge with Chan, Golub and LeVeque's pairwise update
/// `M2 = M2_a + M2_b + δ²·n_a·n_b/n`, so the merged state equals the state of
/// the whole up to rounding (relative error of a few ε times the data's
/// condition number), not bit for bit. NaNs are counted and left out;
/// infinities propagate (mean ±∞, variance NaN), as they do in scipy.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct MomentState {
    count: u64,
    mean: f64,
    m2: f64,
    nan: u64,
}

impl MomentState {
    /// An empty state.
    pub fn new() -> Self {
        Self::default()
    }

    /// The state of a slice.
    pub fn from_slice(values: &[f64]) -> Self {
        let mut state = Self::new();
        state.extend(values);
        state
    }

    /// Add one value (Welford's update). A NaN is only counted.
    pub fn insert(&mut self, x: f64) {
        if x.is_nan() {
            self.nan += 1;
            return;
        }
        self.count += 1;
        let delta = x - self.mean;
        self.mean += delta / self.count as f64;
        self.m2 += delta * (x - self.mean);
    }

    /// Add a slice: a corrected two-pass pass over the slice, then one merge,
    /// which is more accurate than inserting value by value.
    pub fn extend(&mut self, values: &[f64]) {
        let (mut n, mut sum, mut nan) = (0u64, 0.0f64, 0u64);
        for &x in values {
            if x.is_nan() {
                nan += 1;
            } else {
                n += 1;
                sum += x;
            }
        }
        self.nan += nan;
        if n == 0 {
            return;
        }
        let mean = sum / n as f64;
        let (mut deviation, mut squares) = (0.0f64, 0.0f64);
        for &x in values.iter().filter(|x| !x.is_nan()) {
            let d = x - mean;
            deviation += d;
            squares += d * d;
        }
        let m2 = squares - deviation * deviation / n as f64;
        self.combine(n, mean, m2);
    }

    /// Add the state of another shard.
    pub fn merge(&mut self, other: &MomentState) {
        self.nan += other.nan;
        self.combine(other.count, other.mean, other.m2);
    }

    fn combine(&mut self, n_b: u64, mean_b: f64, m2_b: f64) {
        if n_b == 0 {
            return;
        }
        if self.count == 0 {
            self.count = n_b;
            self.mean = mean_b;
            self.m2 = m2_b;
            return;
        }
        let n_a = self.count as f64;
        let n = n_a + n_b as f64;
        let delta = mean_b - self.mean;
        self.mean += delta * (n_b as f64 / n);
        self.m2 += m2_b + delta * delta * (n_a * n_b as f64 / n);
        self.count += n_b;
    }

    /// Number of values (NaNs excluded).
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Number of NaNs seen and left out.
    pub fn nan_count(&self) -> u64 {
        self.nan
    }

    /// The mean, `None` when empty.
    pub fn mean(&self) -> Option<f64> {
        (self.count > 0).then_some(self.mean)
    }

    /// Sum of squared deviations from the mean.
    pub fn m2(&self) -> f64 {
        self.m2
    }

    /// `M2 / (n − ddof)`; `None` when `n ≤ ddof`.
    pub fn variance(&self, ddof: u64) -> Option<f64> {
        (self.count > ddof).then(|| self.m2 / (self.count - ddof) as f64)
    }
}

/// Two-sided two-sample t-test (scipy's `ttest_ind(reference, current,
/// equal_var=...)`) from merged moment states: Student's pooled-variance test
/// when `equal_var`, Welch's otherwise. Zero spread with different means gives
/// `t = ±∞` and p = 0, as scipy does.
///
/// # Errors
/// [`Error::Empty`] for an empty state; [`Error::Undefined`] when the degrees
/// of freedom are not positive (Student: `n_ref + n_cur ≤ 2`; Welch: a sample
/// with fewer than 2 values) or when the statistic is NaN (both samples
/// constant and equal, or infinite values), where scipy returns NaN.
pub fn ttest(
    reference: &MomentState,
    current: &MomentState,
    equal_var: bool,
) -> Result<TestResult> {
    const METHOD: &str = "t-test";
    if reference.count == 0 {
        return Err(Error::Empty {
            what: "reference".to_string(),
        });
    }
    if current.count == 0 {
        return Err(Error::Empty {
            what: "current".to_string(),
        });
    }
    let (n1, n2) = (reference.count as f64, current.count as f64);
    let (denominator, df) = if equal_var {
        let df = n1 + n2 - 2.0;
        if df <= 0.0 {
            return Err(Error::undefined(METHOD, "needs at least 3 values in total"));
        }
        let pooled = (reference.m2 + current.m2) / df;
        ((pooled * (1.0 / n1 + 1.0 / n2)).sqrt(), df)
    } else {
        if reference.count < 2 || current.count < 2 {
            return Err(Error::undefined(
                METHOD,
                "Welch's test needs at least 2 values per sample",
            ));
        }
        let v1 = reference.m2 / (n1 - 1.0) / n1;
        let v2 = current.m2 / (n2 - 1.0) / n2;
        let df = (v1 + v2) * (v1 + v2) / (v1 * v1 / (n1 - 1.0) + v2 * v2 / (n2 - 1.0));
        ((v1 + v2).sqrt(), df)
    };
    let t = (reference.mean - current.mean) / denominator;
    if t.is_nan() {
        return Err(Error::undefined(
            METHOD,
            "the statistic is NaN (no spread and equal means, or infinite values)",
        ));
    }
    let p = if t.is_infinite() {
        0.0
    } else {
        (2.0 * t_sf(t.abs(), df)).min(1.0)
    };
    Ok(TestResult::test(t, p))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn alpha_rounds_down_to_a_power_of_two() {
        assert_eq!(QuantileSketch::new(0.01).unwrap().alpha(), 0.0078125);
        assert_eq!(QuantileSketch::new(0.01).unwrap().precision_bits(), 6);
        assert_eq!(QuantileSketch::new(0.5).unwrap().precision_bits(), 0);
        assert_eq!(QuantileSketch::new(0.9).unwrap().alpha(), 0.5);
        assert_eq!(
            QuantileSketch::new(QuantileSketch::MIN_ALPHA)
                .unwrap()
                .precision_bits(),
            16
        );
        for bad in [0.0, -0.1, 1.0, f64::NAN, 1e-9] {
            assert!(
                matches!(
                    QuantileSketch::new(bad),
                    Err(Error::InvalidParameter { .. })
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn every_value_is_within_alpha() {
        let sketch = QuantileSketch::new(0.01).unwrap();
        let alpha = sketch.alpha();
        for x in [
            1.0,
            1.999_999,
            2.0,
            3.0,
            1e-300,
            1e300,
            f64::MAX,
            123.456,
            7e-310,
            5e-324,
        ] {
            let bits = x.to_bits();
            let key = bits >> (MANTISSA_BITS - sketch.precision);
            let (r, h) = representative(key, sketch.precision);
            assert!((r - x).abs() <= h, "{x}: {r} {h}");
            assert!(h <= alpha * x.max(f64::MIN_POSITIVE), "{x}: {h}");
        }
    }

    #[test]
    fn special_values_are_counted() {
        let mut s = QuantileSketch::new(0.01).unwrap();
        s.extend(&[
            f64::NAN,
            0.0,
            -0.0,
            f64::INFINITY,
            f64::NEG_INFINITY,
            -2.0,
            3.0,
        ]);
        assert_eq!(s.count(), 6);
        assert_eq!(s.nan_count(), 1);
        assert_eq!(s.infinite_count(), 2);
        assert_eq!(s.quantile(0.0).unwrap(), f64::NEG_INFINITY);
        assert_eq!(s.quantile(1.0).unwrap(), f64::INFINITY);
        assert_eq!(s.quantile(0.4).unwrap(), 0.0);
        let two = s.quantile(0.2).unwrap();
        assert!((two + 2.0).abs() <= 2.0 * s.alpha());
        let other = s.clone();
        assert!(matches!(
            wasserstein(&s, &other),
            Err(Error::Undefined { .. })
        ));
        // Identical sketches: D at the boundaries is 0, but inside the -2 and 3
        // buckets (1/6 of each sample) the order of the members is unknown.
        let ks = ks_statistic(&s, &other).unwrap();
        assert_eq!(ks.value, 0.0);
        assert!((ks.error_bound - 1.0 / 6.0).abs() < 1e-15);
    }

    #[test]
    fn quantile_errors() {
        let s = QuantileSketch::new(0.01).unwrap();
        assert!(matches!(s.quantile(0.5), Err(Error::Empty { .. })));
        let s = QuantileSketch::from_slice(0.01, &[1.0]).unwrap();
        assert!(matches!(
            s.quantile(1.5),
            Err(Error::InvalidParameter { .. })
        ));
        assert!(matches!(
            s.quantile(f64::NAN),
            Err(Error::InvalidParameter { .. })
        ));
    }

    #[test]
    fn merge_rejects_other_precision() {
        let mut a = QuantileSketch::new(0.01).unwrap();
        let b = QuantileSketch::new(0.001).unwrap();
        assert!(matches!(a.merge(&b), Err(Error::Merge { .. })));
        assert!(matches!(ks_statistic(&a, &b), Err(Error::Merge { .. })));
    }

    #[test]
    fn serde_round_trip_and_validation() {
        let s = QuantileSketch::from_slice(0.001, &[1.0, -3.5, 0.0, 1e-310, 2.0, 2.0, f64::NAN])
            .unwrap();
        let json = serde_json::to_string(&s).unwrap();
        let back: QuantileSketch = serde_json::from_str(&json).unwrap();
        assert_eq!(back, s);
        assert_eq!(back.count(), 6);
        assert_eq!(back.nan_count(), 1);
        let bad = r#"{"precision_bits":6,"zero":0,"positive_infinity":0,"negative_infinity":0,"nan":0,"positive":[[131008,1]],"negative":[]}"#;
        assert!(serde_json::from_str::<QuantileSketch>(bad).is_err());
        let bad = r#"{"precision_bits":40,"zero":0,"positive_infinity":0,"negative_infinity":0,"nan":0,"positive":[],"negative":[]}"#;
        assert!(serde_json::from_str::<QuantileSketch>(bad).is_err());
    }

    #[test]
    fn exact_for_separated_samples() {
        // Data on bucket midpoints is represented exactly: 1.0 + 1/128 is the
        // midpoint of [1, 1 + 1/64) at m = 6.
        let a = QuantileSketch::from_slice(0.01, &[1.0078125, 1.0078125, 5.0]).unwrap();
        let b = QuantileSketch::from_slice(0.01, &[-1.0, 9.0]).unwrap();
        let ks = ks_statistic(&a, &b).unwrap();
        // scipy.stats.ks_2samp([1.0078125, 1.0078125, 5.0], [-1.0, 9.0]).statistic
        assert!((ks.value - 0.5).abs() < 1e-15);
        // No bucket holds values of both samples, so the estimate is exact.
        assert_eq!(ks.error_bound, 0.0);
    }

    #[test]
    fn ttest_matches_scipy() {
        let a = [1.0, 2.5, 3.1, 4.7, 0.2];
        let b = [2.0, 3.0, 4.5, 6.1];
        let (sa, sb) = (MomentState::from_slice(&a), MomentState::from_slice(&b));
        // scipy.stats.ttest_ind([1.0,2.5,3.1,4.7,0.2],[2,3,4.5,6.1])
        let r = ttest(&sa, &sb, true).unwrap();
        assert!((r.statistic - -1.340534105768458).abs() < 1e-14);
        assert!((r.pvalue.unwrap() - 0.22194281476419378).abs() < 1e-13);
        // scipy.stats.ttest_ind(..., equal_var=False)
        let r = ttest(&sa, &sb, false).unwrap();
        assert!((r.statistic - -1.3386114228174089).abs() < 1e-14);
        assert!((r.pvalue.unwrap() - 0.22541074460232402).abs() < 1e-13);
        // scipy.stats.ttest_ind([1],[2,3,4]) -> (-1.7320508075688774, 0.22540333075851665)
        let r = ttest(
            &MomentState::from_slice(&[1.0]),
            &MomentState::from_slice(&[2.0, 3.0, 4.0]),
            true,
        )
        .unwrap();
        assert!((r.statistic - -1.7320508075688774).abs() < 1e-14);
        assert!((r.pvalue.unwrap() - 0.22540333075851665).abs() < 1e-13);
        // scipy.stats.ttest_ind([1,1,1],[2,2,2]) -> (-inf, 0.0)
        let ones = MomentState::from_slice(&[1.0; 3]);
        let r = ttest(&ones, &MomentState::from_slice(&[2.0; 3]), true).unwrap();
        assert_eq!(r.statistic, f64::NEG_INFINITY);
        assert_eq!(r.pvalue, Some(0.0));
        assert!(matches!(
            ttest(&ones, &ones, true),
            Err(Error::Undefined { .. })
        ));
        assert!(matches!(
            ttest(&ones, &MomentState::new(), true),
            Err(Error::Empty { .. })
        ));
    }

    #[test]
    fn moments_merge_like_the_whole() {
        let data: Vec<f64> = (0..1000)
            .map(|i| ((i * 7919) % 1013) as f64 * 0.37 + 1e6)
            .collect();
        let whole = MomentState::from_slice(&data);
        let mut merged = MomentState::new();
        for chunk in data.chunks(77) {
            merged.merge(&MomentState::from_slice(chunk));
        }
        let mut welford = MomentState::new();
        data.iter().for_each(|&x| welford.insert(x));
        for s in [merged, welford] {
            assert_eq!(s.count(), whole.count());
            assert!((s.mean().unwrap() - whole.mean().unwrap()).abs() <= 1e-15 * 1e6);
            let (v, w) = (s.variance(1).unwrap(), whole.variance(1).unwrap());
            assert!((v - w).abs() <= 1e-9 * w, "{v} {w}");
        }
    }
}
