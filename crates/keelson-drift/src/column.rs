//! From Arrow arrays to what the drift methods read.
//!
//! A numeric column becomes a [`SortedSample`] of its non-null, non-NaN
//! values, a categorical one a map from [`Category`] to count (hash-counted,
//! so each distinct label is allocated once). Nulls and NaNs are counted rather than tested, the way pandas'
//! `dropna` (and so Evidently and NannyML) treats them; infinities are kept.
//!
//! Which kind a column gets follows its Arrow type ([`ColumnKind::for_type`]):
//! floats, decimals, dates and timestamps are numeric; integers are numeric
//! unless the caller asks for categorical; booleans, strings and dictionaries
//! of strings are categorical.

use std::collections::{BTreeMap, HashMap};

use arrow::array::{Array, ArrayRef, ArrowPrimitiveType, AsArray, BooleanArray, PrimitiveArray};
use arrow::datatypes::{ArrowDictionaryKeyType, ArrowNativeType};
use arrow::datatypes::{
    DataType, Date32Type, Date64Type, Decimal128Type, Float16Type, Float32Type, Float64Type,
    Int8Type, Int16Type, Int32Type, Int64Type, TimeUnit, TimestampMicrosecondType,
    TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType, UInt8Type, UInt16Type,
    UInt32Type, UInt64Type,
};
use serde::{Deserialize, Serialize};

use crate::categorical::Category;
use crate::error::{Error, Result};
use crate::sample::SortedSample;

/// How a column is tested.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnKind {
    /// Tested on its sorted values.
    Numeric,
    /// Tested on counts per distinct value.
    Categorical,
}

impl ColumnKind {
    /// The kind a column of `data_type` is tested as, or `None` when the type
    /// is not supported. `as_categorical` asks for a numeric type (integers,
    /// usually) to be counted by distinct value instead; it has no effect on
    /// types that are categorical already.
    pub fn for_type(data_type: &DataType, as_categorical: bool) -> Option<ColumnKind> {
        let family = Family::of(data_type)?;
        Some(if as_categorical || !family.is_numeric() {
            ColumnKind::Categorical
        } else {
            ColumnKind::Numeric
        })
    }
}

/// Whether a reference column of type `reference` can be compared with a
/// current column of type `current`.
///
/// Widths do not matter (an `Int32` reference against an `Int64` current is
/// fine, and so are `Utf8` against a dictionary of `LargeUtf8`), but the value
/// family does: integers, floats, decimals, booleans, strings, and each date
/// or timestamp unit are separate, because their values mean different things
/// (an integer 3 and a float 3.0 are different categories).
pub fn types_compatible(reference: &DataType, current: &DataType) -> bool {
    match (Family::of(reference), Family::of(current)) {
        (Some(a), Some(b)) => a == b,
        _ => reference == current,
    }
}

/// The value family of an Arrow type: what its values mean, whatever their width.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Int,
    Float,
    Decimal,
    Date32,
    Date64,
    Timestamp(TimeUnit),
    Bool,
    Str,
}

impl Family {
    fn of(data_type: &DataType) -> Option<Family> {
        Some(match data_type {
            DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32
            | DataType::UInt64 => Family::Int,
            DataType::Float16 | DataType::Float32 | DataType::Float64 => Family::Float,
            DataType::Decimal128(_, _) => Family::Decimal,
            DataType::Date32 => Family::Date32,
            DataType::Date64 => Family::Date64,
            DataType::Timestamp(unit, _) => Family::Timestamp(*unit),
            DataType::Boolean => Family::Bool,
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => Family::Str,
            DataType::Dictionary(key, value) if key.is_dictionary_key_type() => {
                match value.as_ref() {
                    DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => Family::Str,
                    _ => return None,
                }
            }
            _ => return None,
        })
    }

    fn is_numeric(self) -> bool {
        !matches!(self, Family::Bool | Family::Str)
    }
}

/// How many rows a column side has, and how many of them are missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RowCounts {
    /// All rows, missing ones included.
    pub rows: usize,
    /// Null rows.
    pub null_count: usize,
    /// Non-null NaN rows (float columns only).
    pub nan_count: usize,
}

impl RowCounts {
    /// Rows that hold a value: neither null nor NaN.
    pub fn values(&self) -> usize {
        self.rows.saturating_sub(self.null_count + self.nan_count)
    }

    /// Share of the rows that are null or NaN (what pandas' `isna` counts);
    /// 0 for no rows.
    pub fn missing_share(&self) -> f64 {
        if self.rows == 0 {
            0.0
        } else {
            (self.null_count + self.nan_count) as f64 / self.rows as f64
        }
    }
}

/// A numeric column reduced to what the numeric methods read.
#[derive(Debug, Clone, PartialEq)]
pub struct NumericColumn {
    /// The non-null, non-NaN values, sorted.
    pub sample: SortedSample,
    /// Rows, nulls and NaNs.
    pub counts: RowCounts,
}

impl NumericColumn {
    /// Convert one array. `column` names the column in errors.
    ///
    /// # Errors
    /// [`Error::UnsupportedType`] if the array is not numeric.
    pub fn from_array(column: &str, array: &dyn Array) -> Result<Self> {
        let mut acc = NumericAccumulator::with_capacity(column, array.len());
        acc.push(array)?;
        acc.finish()
    }

    /// Convert a column that arrives in chunks (Parquet row groups, batches
    /// of a stream), copying each value once.
    ///
    /// # Errors
    /// [`Error::UnsupportedType`] if a chunk is not numeric.
    pub fn from_chunks(column: &str, chunks: &[ArrayRef]) -> Result<Self> {
        let capacity = chunks.iter().map(|c| c.len() - c.null_count()).sum();
        let mut acc = NumericAccumulator::with_capacity(column, capacity);
        for chunk in chunks {
            acc.push(chunk.as_ref())?;
        }
        acc.finish()
    }
}

/// Collects a numeric column chunk by chunk, then sorts once.
#[derive(Debug, Clone)]
pub struct NumericAccumulator {
    column: String,
    values: Vec<f64>,
    counts: RowCounts,
}

impl NumericAccumulator {
    /// An empty accumulator for the column named `column`.
    pub fn new(column: &str) -> Self {
        Self::with_capacity(column, 0)
    }

    /// An empty accumulator with room for `capacity` values.
    pub fn with_capacity(column: &str, capacity: usize) -> Self {
        NumericAccumulator {
            column: column.to_string(),
            values: Vec::with_capacity(capacity),
            counts: RowCounts::default(),
        }
    }

    /// Add one chunk: its values as `f64` (decimals divided by their scale;
    /// dates and timestamps as their stored integer), nulls and NaNs counted.
    ///
    /// # Errors
    /// [`Error::UnsupportedType`] if the chunk's type is not numeric.
    pub fn push(&mut self, array: &dyn Array) -> Result<()> {
        let pushed = match array.data_type() {
            DataType::Int8 => self.push_primitive::<Int8Type>(array, f64::from),
            DataType::Int16 => self.push_primitive::<Int16Type>(array, f64::from),
            DataType::Int32 => self.push_primitive::<Int32Type>(array, f64::from),
            DataType::Int64 => self.push_primitive::<Int64Type>(array, |v| v as f64),
            DataType::UInt8 => self.push_primitive::<UInt8Type>(array, f64::from),
            DataType::UInt16 => self.push_primitive::<UInt16Type>(array, f64::from),
            DataType::UInt32 => self.push_primitive::<UInt32Type>(array, f64::from),
            DataType::UInt64 => self.push_primitive::<UInt64Type>(array, |v| v as f64),
            DataType::Float16 => self.push_primitive::<Float16Type>(array, f64::from),
            DataType::Float32 => self.push_primitive::<Float32Type>(array, f64::from),
            DataType::Float64 => self.push_primitive::<Float64Type>(array, |v| v),
            DataType::Decimal128(_, scale) => {
                let divisor = 10f64.powi(i32::from(*scale));
                self.push_primitive::<Decimal128Type>(array, |v| v as f64 / divisor)
            }
            DataType::Date32 => self.push_primitive::<Date32Type>(array, f64::from),
            DataType::Date64 => self.push_primitive::<Date64Type>(array, |v| v as f64),
            DataType::Timestamp(TimeUnit::Second, _) => {
                self.push_primitive::<TimestampSecondType>(array, |v| v as f64)
            }
            DataType::Timestamp(TimeUnit::Millisecond, _) => {
                self.push_primitive::<TimestampMillisecondType>(array, |v| v as f64)
            }
            DataType::Timestamp(TimeUnit::Microsecond, _) => {
                self.push_primitive::<TimestampMicrosecondType>(array, |v| v as f64)
            }
            DataType::Timestamp(TimeUnit::Nanosecond, _) => {
                self.push_primitive::<TimestampNanosecondType>(array, |v| v as f64)
            }
            _ => None,
        };
        pushed.ok_or_else(|| unsupported(&self.column, array.data_type(), "numeric methods"))
    }

    /// `None` when the array is not a `PrimitiveArray<T>`.
    fn push_primitive<T: ArrowPrimitiveType>(
        &mut self,
        array: &dyn Array,
        to_f64: impl Fn(T::Native) -> f64,
    ) -> Option<()> {
        let array: &PrimitiveArray<T> = array.as_primitive_opt::<T>()?;
        self.counts.rows += array.len();
        self.values.reserve(array.len() - array.null_count());
        let mut nans = 0;
        let mut keep = |v: f64| {
            if v.is_nan() {
                nans += 1;
            } else {
                self.values.push(v);
            }
        };
        match array.nulls() {
            None => array.values().iter().for_each(|&v| keep(to_f64(v))),
            Some(nulls) => {
                self.counts.null_count += nulls.null_count();
                array
                    .values()
                    .iter()
                    .zip(nulls.iter())
                    .filter(|&(_, valid)| valid)
                    .for_each(|(&v, _)| keep(to_f64(v)));
            }
        }
        self.counts.nan_count += nans;
        Some(())
    }

    /// Sort the collected values.
    ///
    /// # Errors
    /// None in practice: NaNs were set aside by [`push`](Self::push).
    pub fn finish(self) -> Result<NumericColumn> {
        let NumericAccumulator {
            column,
            values,
            counts,
        } = self;
        let sample = SortedSample::from_vec(values, &format!("column {column:?}"))?;
        Ok(NumericColumn { sample, counts })
    }

    /// The collected values in row order (no NaN) and the counts, unsorted.
    pub(crate) fn into_parts(self) -> (Vec<f64>, RowCounts) {
        (self.values, self.counts)
    }
}

/// The number of distinct values of two samples, counting at most to
/// `limit` (and stopping there): enough to apply a rule such as
/// Evidently's "more than five distinct values" without sorting.
pub(crate) fn distinct_up_to(reference: &[f64], current: &[f64], limit: usize) -> usize {
    let mut seen: Vec<f64> = Vec::with_capacity(limit);
    for &x in reference.iter().chain(current) {
        // `==` counts -0.0 and 0.0 as one value, as `distinct_union` does.
        if !seen.contains(&x) {
            if seen.len() == limit {
                break;
            }
            seen.push(x);
        }
    }
    seen.len()
}

/// A categorical column reduced to counts per category.
#[derive(Debug, Clone, PartialEq)]
pub struct CategoricalColumn {
    /// Rows per category (nulls and NaNs are not categories).
    pub categories: BTreeMap<Category, u64>,
    /// Rows, nulls and NaNs.
    pub counts: RowCounts,
}

impl CategoricalColumn {
    /// Count one array. `column` names the column in errors.
    ///
    /// # Errors
    /// [`Error::UnsupportedType`] if the type cannot be counted by category.
    pub fn from_array(column: &str, array: &dyn Array) -> Result<Self> {
        let mut acc = CategoryAccumulator::new(column);
        acc.push(array)?;
        Ok(acc.finish())
    }

    /// Count a column that arrives in chunks.
    ///
    /// # Errors
    /// [`Error::UnsupportedType`] if a chunk cannot be counted by category.
    pub fn from_chunks(column: &str, chunks: &[ArrayRef]) -> Result<Self> {
        let mut acc = CategoryAccumulator::new(column);
        for chunk in chunks {
            acc.push(chunk.as_ref())?;
        }
        Ok(acc.finish())
    }

    /// Number of distinct categories.
    pub fn distinct(&self) -> usize {
        self.categories.len()
    }
}

/// Widest range of integer values counted in a direct table.
const DENSE_SPAN: u64 = 1 << 20;

/// Hash-counts a column chunk by chunk; a key is allocated only the first
/// time its value is seen.
///
/// Integers, dates and timestamps become [`Category::Int`], floats and
/// decimals [`Category::Float`] (with `-0.0` counted as `0.0`, as pandas
/// does), booleans [`Category::Bool`] and strings [`Category::Str`].
#[derive(Debug, Clone, Default)]
pub struct CategoryAccumulator {
    column: String,
    strings: HashMap<String, u64>,
    ints: HashMap<i64, u64>,
    floats: HashMap<u64, u64>,
    bools: [u64; 2],
    counts: RowCounts,
}

impl CategoryAccumulator {
    /// An empty accumulator for the column named `column`.
    pub fn new(column: &str) -> Self {
        CategoryAccumulator {
            column: column.to_string(),
            ..Self::default()
        }
    }

    /// Count one chunk.
    ///
    /// # Errors
    /// [`Error::UnsupportedType`] if the chunk's type cannot be counted by category.
    pub fn push(&mut self, array: &dyn Array) -> Result<()> {
        let pushed = match array.data_type() {
            DataType::Boolean => array.as_boolean_opt().map(|a| self.push_bools(a)),
            DataType::Utf8 => array
                .as_string_opt::<i32>()
                .map(|a| self.push_strings(a.len(), a.iter())),
            DataType::LargeUtf8 => array
                .as_string_opt::<i64>()
                .map(|a| self.push_strings(a.len(), a.iter())),
            DataType::Utf8View => array
                .as_string_view_opt()
                .map(|a| self.push_strings(a.len(), a.iter())),
            DataType::Dictionary(key, _) => match key.as_ref() {
                DataType::Int8 => self.push_dictionary::<Int8Type>(array),
                DataType::Int16 => self.push_dictionary::<Int16Type>(array),
                DataType::Int32 => self.push_dictionary::<Int32Type>(array),
                DataType::Int64 => self.push_dictionary::<Int64Type>(array),
                DataType::UInt8 => self.push_dictionary::<UInt8Type>(array),
                DataType::UInt16 => self.push_dictionary::<UInt16Type>(array),
                DataType::UInt32 => self.push_dictionary::<UInt32Type>(array),
                DataType::UInt64 => self.push_dictionary::<UInt64Type>(array),
                _ => None,
            },
            DataType::Int8 => self.push_ints::<Int8Type>(array, i64::from),
            DataType::Int16 => self.push_ints::<Int16Type>(array, i64::from),
            DataType::Int32 => self.push_ints::<Int32Type>(array, i64::from),
            DataType::Int64 => self.push_ints::<Int64Type>(array, |v| v),
            DataType::UInt8 => self.push_ints::<UInt8Type>(array, i64::from),
            DataType::UInt16 => self.push_ints::<UInt16Type>(array, i64::from),
            DataType::UInt32 => self.push_ints::<UInt32Type>(array, i64::from),
            DataType::Date32 => self.push_ints::<Date32Type>(array, i64::from),
            DataType::Date64 => self.push_ints::<Date64Type>(array, |v| v),
            DataType::Timestamp(TimeUnit::Second, _) => {
                self.push_ints::<TimestampSecondType>(array, |v| v)
            }
            DataType::Timestamp(TimeUnit::Millisecond, _) => {
                self.push_ints::<TimestampMillisecondType>(array, |v| v)
            }
            DataType::Timestamp(TimeUnit::Microsecond, _) => {
                self.push_ints::<TimestampMicrosecondType>(array, |v| v)
            }
            DataType::Timestamp(TimeUnit::Nanosecond, _) => {
                self.push_ints::<TimestampNanosecondType>(array, |v| v)
            }
            DataType::UInt64 => self.push_u64(array),
            DataType::Float16 => self.push_floats::<Float16Type>(array, f64::from),
            DataType::Float32 => self.push_floats::<Float32Type>(array, f64::from),
            DataType::Float64 => self.push_floats::<Float64Type>(array, |v| v),
            DataType::Decimal128(_, scale) => {
                let divisor = 10f64.powi(i32::from(*scale));
                self.push_floats::<Decimal128Type>(array, |v| v as f64 / divisor)
            }
            _ => None,
        };
        pushed.ok_or_else(|| unsupported(&self.column, array.data_type(), "categorical methods"))
    }

    fn push_bools(&mut self, array: &BooleanArray) {
        self.counts.rows += array.len();
        self.counts.null_count += array.null_count();
        let valid = array.len() - array.null_count();
        let trues = array.true_count();
        self.bools[1] += trues as u64;
        self.bools[0] += (valid - trues) as u64;
    }

    fn push_strings<'a>(&mut self, len: usize, values: impl Iterator<Item = Option<&'a str>>) {
        self.counts.rows += len;
        for value in values {
            match value {
                Some(s) => add_string(&mut self.strings, s, 1),
                None => self.counts.null_count += 1,
            }
        }
    }

    /// Counts by key first, so each distinct dictionary value is hashed once per chunk.
    fn push_dictionary<K: ArrowDictionaryKeyType>(&mut self, array: &dyn Array) -> Option<()> {
        let array = array.as_dictionary_opt::<K>()?;
        let values = array.values();
        let labels: Vec<Option<&str>> = match values.data_type() {
            DataType::Utf8 => values.as_string_opt::<i32>()?.iter().collect(),
            DataType::LargeUtf8 => values.as_string_opt::<i64>()?.iter().collect(),
            DataType::Utf8View => values.as_string_view_opt()?.iter().collect(),
            _ => return None,
        };
        let mut per_key = vec![0u64; labels.len()];
        let keys = array.keys();
        self.counts.rows += keys.len();
        self.counts.null_count += keys.null_count();
        let mut count_key = |k: K::Native| {
            if let Some(c) = per_key.get_mut(k.as_usize()) {
                *c += 1;
            }
        };
        match keys.nulls() {
            None => keys.values().iter().for_each(|&k| count_key(k)),
            Some(nulls) => keys
                .values()
                .iter()
                .zip(nulls.iter())
                .filter(|&(_, valid)| valid)
                .for_each(|(&k, _)| count_key(k)),
        }
        for (label, count) in labels.into_iter().zip(per_key) {
            match (label, count) {
                (_, 0) => {}
                (Some(s), n) => add_string(&mut self.strings, s, n),
                (None, n) => self.counts.null_count += n as usize,
            }
        }
        Some(())
    }

    fn push_ints<T: ArrowPrimitiveType>(
        &mut self,
        array: &dyn Array,
        to_i64: impl Fn(T::Native) -> i64,
    ) -> Option<()> {
        let array = array.as_primitive_opt::<T>()?;
        self.counts.rows += array.len();
        self.counts.null_count += array.null_count();
        let values = array.values().iter();
        match array.nulls().filter(|n| n.null_count() > 0) {
            None => self.add_ints(values.map(|&v| to_i64(v))),
            Some(nulls) => self.add_ints(
                values
                    .zip(nulls.iter())
                    .filter(|&(_, valid)| valid)
                    .map(|(&v, _)| to_i64(v)),
            ),
        }
        Some(())
    }

    /// Category codes usually span a small range: those are counted in a
    /// table indexed by `value - min` (a min/max pass, then one increment
    /// per value), many times faster than hashing every value. Wide or
    /// sparse ranges are hashed.
    fn add_ints(&mut self, values: impl Iterator<Item = i64> + Clone) {
        let (count, lo, hi) = values
            .clone()
            .fold((0usize, i64::MAX, i64::MIN), |(n, lo, hi), v| {
                (n + 1, lo.min(v), hi.max(v))
            });
        if count == 0 {
            return;
        }
        let span = hi.abs_diff(lo);
        if span >= DENSE_SPAN.min(count as u64 + 256) {
            for v in values {
                *self.ints.entry(v).or_insert(0) += 1;
            }
            return;
        }
        let mut table = vec![0u64; span as usize + 1];
        for v in values {
            if let Some(c) = table.get_mut(v.abs_diff(lo) as usize) {
                *c += 1;
            }
        }
        for (offset, n) in table.into_iter().enumerate() {
            if n > 0 {
                // lo + offset lies in [lo, hi], so it cannot overflow.
                *self.ints.entry(lo.wrapping_add(offset as i64)).or_insert(0) += n;
            }
        }
    }

    /// Floats are keyed by their bits, with `-0.0` folded into `0.0`; NaNs are
    /// counted as missing.
    fn push_floats<T: ArrowPrimitiveType>(
        &mut self,
        array: &dyn Array,
        to_f64: impl Fn(T::Native) -> f64,
    ) -> Option<()> {
        let array = array.as_primitive_opt::<T>()?;
        self.counts.rows += array.len();
        self.counts.null_count += array.null_count();
        for v in array.iter().flatten() {
            let v = to_f64(v);
            if v.is_nan() {
                self.counts.nan_count += 1;
            } else {
                let key = if v == 0.0 {
                    0.0f64.to_bits()
                } else {
                    v.to_bits()
                };
                *self.floats.entry(key).or_insert(0) += 1;
            }
        }
        Some(())
    }

    /// `UInt64` values up to `i64::MAX` are integers; larger ones, which no
    /// [`Category::Int`] holds, are counted as floats.
    fn push_u64(&mut self, array: &dyn Array) -> Option<()> {
        let array = array.as_primitive_opt::<UInt64Type>()?;
        self.counts.rows += array.len();
        self.counts.null_count += array.null_count();
        for v in array.iter().flatten() {
            match i64::try_from(v) {
                Ok(i) => *self.ints.entry(i).or_insert(0) += 1,
                Err(_) => *self.floats.entry((v as f64).to_bits()).or_insert(0) += 1,
            }
        }
        Some(())
    }

    /// The counts, keyed by category.
    pub fn finish(self) -> CategoricalColumn {
        let CategoryAccumulator {
            strings,
            ints,
            floats,
            bools,
            counts,
            ..
        } = self;
        let mut categories = BTreeMap::new();
        for (b, n) in [false, true].into_iter().zip(bools) {
            if n > 0 {
                categories.insert(Category::Bool(b), n);
            }
        }
        categories.extend(ints.into_iter().map(|(i, n)| (Category::Int(i), n)));
        categories.extend(
            floats
                .into_iter()
                .map(|(bits, n)| (Category::Float(f64::from_bits(bits)), n)),
        );
        categories.extend(strings.into_iter().map(|(s, n)| (Category::Str(s), n)));
        CategoricalColumn { categories, counts }
    }
}

fn add_string(counts: &mut HashMap<String, u64>, value: &str, n: u64) {
    match counts.get_mut(value) {
        Some(count) => *count += n,
        None => {
            counts.insert(value.to_string(), n);
        }
    }
}

fn unsupported(column: &str, data_type: &DataType, method: &str) -> Error {
    Error::UnsupportedType {
        column: column.to_string(),
        data_type: data_type.to_string(),
        method: method.to_string(),
    }
}

/// Number of distinct values in the union of two sorted samples, in one
/// merge pass; `-0.0` and `0.0` count as one value, as in pandas' `nunique`.
pub fn distinct_union(reference: &SortedSample, current: &SortedSample) -> usize {
    let (a, b) = (reference.values(), current.values());
    let (mut i, mut j) = (0, 0);
    let mut last: Option<f64> = None;
    let mut distinct = 0;
    loop {
        let next = match (a.get(i), b.get(j)) {
            (Some(&x), Some(&y)) => {
                if x.total_cmp(&y).is_le() {
                    i += 1;
                    x
                } else {
                    j += 1;
                    y
                }
            }
            (Some(&x), None) => {
                i += 1;
                x
            }
            (None, Some(&y)) => {
                j += 1;
                y
            }
            (None, None) => return distinct,
        };
        if last != Some(next) {
            distinct += 1;
            last = Some(next);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{
        BooleanArray, Decimal128Array, DictionaryArray, Float32Array, Float64Array, Int32Array,
        Int64Array, LargeStringArray, ListArray, StringArray, StringViewArray, UInt64Array,
    };

    use super::*;

    fn cat_counts(column: &CategoricalColumn) -> Vec<(String, u64)> {
        column
            .categories
            .iter()
            .map(|(c, n)| (format!("{c:?}"), *n))
            .collect()
    }

    #[test]
    fn kinds_follow_the_arrow_type() {
        let dict = DataType::Dictionary(Box::new(DataType::Int16), Box::new(DataType::LargeUtf8));
        assert_eq!(
            ColumnKind::for_type(&DataType::Float32, false),
            Some(ColumnKind::Numeric)
        );
        assert_eq!(
            ColumnKind::for_type(&DataType::Int64, false),
            Some(ColumnKind::Numeric)
        );
        assert_eq!(
            ColumnKind::for_type(&DataType::Int64, true),
            Some(ColumnKind::Categorical)
        );
        assert_eq!(
            ColumnKind::for_type(&DataType::Utf8, false),
            Some(ColumnKind::Categorical)
        );
        assert_eq!(
            ColumnKind::for_type(&DataType::Boolean, false),
            Some(ColumnKind::Categorical)
        );
        assert_eq!(
            ColumnKind::for_type(&dict, false),
            Some(ColumnKind::Categorical)
        );
        assert_eq!(ColumnKind::for_type(&DataType::Binary, false), None);
        let int_dict = DataType::Dictionary(Box::new(DataType::Int16), Box::new(DataType::Int64));
        assert_eq!(ColumnKind::for_type(&int_dict, false), None);
    }

    #[test]
    fn compatibility_ignores_width_but_not_family() {
        let dict = DataType::Dictionary(Box::new(DataType::Int8), Box::new(DataType::Utf8));
        assert!(types_compatible(&DataType::Int32, &DataType::UInt64));
        assert!(types_compatible(&DataType::Utf8View, &dict));
        assert!(types_compatible(&DataType::Float16, &DataType::Float64));
        assert!(!types_compatible(&DataType::Int32, &DataType::Float64));
        assert!(!types_compatible(&DataType::Utf8, &DataType::Boolean));
        let ts = |unit| DataType::Timestamp(unit, None);
        assert!(!types_compatible(
            &ts(TimeUnit::Second),
            &ts(TimeUnit::Millisecond)
        ));
    }

    #[test]
    fn numeric_drops_and_counts_nulls_and_nans() {
        let array = Float64Array::from(vec![
            Some(3.0),
            None,
            Some(f64::NAN),
            Some(-1.0),
            Some(f64::INFINITY),
            None,
        ]);
        let column = NumericColumn::from_array("x", &array).unwrap();
        assert_eq!(column.sample.values(), &[-1.0, 3.0, f64::INFINITY]);
        assert_eq!(
            column.counts,
            RowCounts {
                rows: 6,
                null_count: 2,
                nan_count: 1
            }
        );
        assert_eq!(column.counts.values(), 3);
        assert!((column.counts.missing_share() - 0.5).abs() < 1e-15);
    }

    #[test]
    fn numeric_reads_slices_chunks_and_other_widths() {
        let ints = Int32Array::from(vec![Some(5), None, Some(1), Some(9), Some(2)]);
        let sliced = ints.slice(1, 3);
        let floats = Float32Array::from(vec![0.5f32]);
        let chunks: Vec<ArrayRef> = vec![Arc::new(sliced), Arc::new(floats)];
        let column = NumericColumn::from_chunks("x", &chunks).unwrap();
        assert_eq!(column.sample.values(), &[0.5, 1.0, 9.0]);
        assert_eq!(
            column.counts,
            RowCounts {
                rows: 4,
                null_count: 1,
                nan_count: 0
            }
        );

        let decimals = Decimal128Array::from(vec![12345i128, -50])
            .with_precision_and_scale(10, 2)
            .unwrap();
        let column = NumericColumn::from_array("d", &decimals).unwrap();
        assert_eq!(column.sample.values(), &[-0.5, 123.45]);
    }

    #[test]
    fn unsupported_types_name_the_column() {
        let list = ListArray::from_iter_primitive::<Int32Type, _, _>(vec![Some(vec![Some(1)])]);
        let err = NumericColumn::from_array("tags", &list).unwrap_err();
        assert!(
            matches!(&err, Error::UnsupportedType { column, .. } if column == "tags"),
            "{err}"
        );
        let err = NumericColumn::from_array("name", &StringArray::from(vec!["a"])).unwrap_err();
        assert!(
            matches!(&err, Error::UnsupportedType { column, .. } if column == "name"),
            "{err}"
        );
        let err = CategoricalColumn::from_array("tags", &list).unwrap_err();
        assert!(
            matches!(&err, Error::UnsupportedType { column, .. } if column == "tags"),
            "{err}"
        );
    }

    #[test]
    fn strings_of_every_layout_count_alike() {
        let values = vec![Some("b"), None, Some("a"), Some("b"), Some("")];
        let expected = vec![
            ("Str(\"\")".to_string(), 1),
            ("Str(\"a\")".to_string(), 1),
            ("Str(\"b\")".to_string(), 2),
        ];
        let arrays: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from(values.clone())),
            Arc::new(LargeStringArray::from(values.clone())),
            Arc::new(StringViewArray::from(values.clone())),
            Arc::new(
                values
                    .iter()
                    .copied()
                    .collect::<DictionaryArray<Int8Type>>(),
            ),
        ];
        for array in arrays {
            let column = CategoricalColumn::from_array("s", array.as_ref()).unwrap();
            assert_eq!(cat_counts(&column), expected, "{}", array.data_type());
            assert_eq!(
                column.counts,
                RowCounts {
                    rows: 5,
                    null_count: 1,
                    nan_count: 0
                }
            );
            assert_eq!(column.distinct(), 3);
        }
    }

    #[test]
    fn dictionary_nulls_in_keys_and_values_are_nulls() {
        let keys = Int32Array::from(vec![Some(0), Some(1), None, Some(2), Some(0)]);
        let values = StringArray::from(vec![Some("x"), None, Some("x")]);
        let dict = DictionaryArray::try_new(keys, Arc::new(values)).unwrap();
        let column = CategoricalColumn::from_array("d", &dict).unwrap();
        assert_eq!(cat_counts(&column), vec![("Str(\"x\")".to_string(), 3)]);
        assert_eq!(
            column.counts,
            RowCounts {
                rows: 5,
                null_count: 2,
                nan_count: 0
            }
        );
    }

    #[test]
    fn bools_ints_and_floats_become_their_categories() {
        let bools = BooleanArray::from(vec![Some(true), None, Some(false), Some(true)]);
        let column = CategoricalColumn::from_array("b", &bools).unwrap();
        assert_eq!(
            cat_counts(&column),
            vec![
                ("Bool(false)".to_string(), 1),
                ("Bool(true)".to_string(), 2)
            ]
        );
        assert_eq!(column.counts.null_count, 1);

        let ints = Int64Array::from(vec![Some(7), Some(-2), None, Some(7)]);
        let column = CategoricalColumn::from_array("i", &ints).unwrap();
        assert_eq!(
            cat_counts(&column),
            vec![("Int(-2)".to_string(), 1), ("Int(7)".to_string(), 2)]
        );

        let floats =
            Float64Array::from(vec![Some(-0.0), Some(0.0), Some(f64::NAN), None, Some(1.5)]);
        let column = CategoricalColumn::from_array("f", &floats).unwrap();
        assert_eq!(
            cat_counts(&column),
            vec![("Float(0.0)".to_string(), 2), ("Float(1.5)".to_string(), 1)]
        );
        assert_eq!(
            column.counts,
            RowCounts {
                rows: 5,
                null_count: 1,
                nan_count: 1
            }
        );

        let big = UInt64Array::from(vec![3, u64::MAX]);
        let column = CategoricalColumn::from_array("u", &big).unwrap();
        assert_eq!(column.distinct(), 2);
        assert!(column.categories.contains_key(&Category::Int(3)));
    }

    #[test]
    fn distinct_union_merges_and_folds_signed_zero() {
        let a = SortedSample::new(&[1.0, 1.0, 2.0, -0.0], "a").unwrap();
        let b = SortedSample::new(&[0.0, 2.0, 5.0, f64::INFINITY], "b").unwrap();
        assert_eq!(distinct_union(&a, &b), 5);
        let empty = SortedSample::new(&[], "e").unwrap();
        assert_eq!(distinct_union(&empty, &empty), 0);
        assert_eq!(distinct_union(&a, &empty), 3);
    }
}
