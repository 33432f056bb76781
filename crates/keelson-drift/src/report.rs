//! Drift reports over whole tables: every column of a reference and a current
//! [`RecordBatch`] (or Parquet file) tested with its own method, and the
//! dataset verdict Evidently gives.
//!
//! # What fails the call, what fails a column
//!
//! Problems with the inputs as a whole fail the call: an empty side (no rows),
//! a column present on one side only ([`Error::MissingColumn`], naming the
//! side or file), types that differ in kind ([`Error::TypeMismatch`]), a
//! configuration that names a column the reference lacks or asks for a method
//! the column's kind cannot feed, and I/O or Parquet decoding errors. They are
//! found before any statistic runs (decoding errors aside).
//!
//! Problems with one column's data are kept in that column's entry
//! ([`ColumnOutcome::Failed`], with the error's message) and the rest of the
//! report goes on: a column with no values left after dropping nulls and NaNs
//! ([`Error::Empty`]), or a method that is undefined on the data. Failed
//! columns do not count towards the dataset verdict.
//!
//! Columns whose Arrow type no method reads (lists, structs, binary, ...) are
//! listed in [`Report::skipped`] unless the configuration names them in
//! [`ReportConfig::include`], which makes them an error.
//!
//! # Missing values
//!
//! Nulls and NaNs are dropped before testing, as pandas' `dropna` does for
//! Evidently. Their share is reported per side, and the null share counts as
//! drifted when it moved by more than [`ReportConfig::null_share_threshold`]
//! in absolute terms. An absolute change was chosen over a two-proportion
//! test because on large tables the test flags changes of a fraction of a
//! percent that nobody acts on, while the threshold reads the same on any
//! table size.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::num::NonZeroUsize;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use arrow::array::ArrayRef;
use arrow::datatypes::{DataType, Schema};
use arrow::record_batch::RecordBatch;
use serde::{Deserialize, Serialize};

use crate::categorical::CategoryCounts;
use crate::column::{
    CategoricalColumn, ColumnKind, NumericAccumulator, RowCounts, distinct_up_to, types_compatible,
};
use crate::error::{Error, Result};
use crate::evidently;
use crate::histogram::{Binning, histogram_unsorted};
use crate::method::{Method, MethodInput};
use crate::outcome::{TestResult, Threshold};
use crate::sample::SortedSample;

/// Bars at most in a column's picture.
const MAX_BARS: usize = 30;

/// Rows per batch when reading Parquet: large enough that per-batch overhead
/// vanishes, small enough not to matter next to the column itself.
#[cfg(feature = "parquet")]
const PARQUET_BATCH_ROWS: usize = 64 * 1024;

/// What to test and how. Columns are matched by name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct ReportConfig {
    /// Method per column; other columns get Evidently's default
    /// ([`Method::evidently_default`]).
    pub methods: BTreeMap<String, Method>,
    /// Threshold per column; other columns get their method's
    /// [`Method::default_threshold`].
    pub thresholds: BTreeMap<String, Threshold>,
    /// Only these columns, when set (still reported in the reference's order).
    pub include: Option<BTreeSet<String>>,
    /// Columns left out.
    pub exclude: BTreeSet<String>,
    /// Numeric columns (usually integer codes) to count by distinct value
    /// instead of testing as numbers.
    pub categorical: BTreeSet<String>,
    /// The dataset drifts when at least this share of the tested columns
    /// drift (Evidently's `drift_share`, 0.5).
    pub drift_share: f64,
    /// Worker threads; `None` uses the available parallelism. The report is
    /// the same for any number.
    pub threads: Option<NonZeroUsize>,
    /// A column's null share (nulls and NaNs over rows) drifts when it moves
    /// by more than this, in absolute terms (0.05: five percentage points).
    pub null_share_threshold: f64,
}

impl Default for ReportConfig {
    fn default() -> Self {
        ReportConfig {
            methods: BTreeMap::new(),
            thresholds: BTreeMap::new(),
            include: None,
            exclude: BTreeSet::new(),
            categorical: BTreeSet::new(),
            drift_share: 0.5,
            threads: None,
            null_share_threshold: 0.05,
        }
    }
}

impl ReportConfig {
    /// Test `column` with `method`.
    pub fn with_method(mut self, column: &str, method: Method) -> Self {
        self.methods.insert(column.to_string(), method);
        self
    }

    /// Use `threshold` for `column`.
    pub fn with_threshold(mut self, column: &str, threshold: Threshold) -> Self {
        self.thresholds.insert(column.to_string(), threshold);
        self
    }

    /// Count `column` by distinct value.
    pub fn with_categorical(mut self, column: &str) -> Self {
        self.categorical.insert(column.to_string());
        self
    }

    /// Test only the columns named (repeat to add more).
    pub fn with_include(mut self, column: &str) -> Self {
        self.include
            .get_or_insert_with(BTreeSet::new)
            .insert(column.to_string());
        self
    }

    /// Leave `column` out.
    pub fn with_exclude(mut self, column: &str) -> Self {
        self.exclude.insert(column.to_string());
        self
    }

    /// Use `threads` workers.
    pub fn with_threads(mut self, threads: NonZeroUsize) -> Self {
        self.threads = Some(threads);
        self
    }

    pub(crate) fn worker_threads(&self) -> usize {
        self.threads
            .or_else(|| std::thread::available_parallelism().ok())
            .map_or(1, NonZeroUsize::get)
    }

    fn validate(&self) -> Result<()> {
        if !(0.0..=1.0).contains(&self.drift_share) {
            return Err(Error::invalid(
                "drift_share",
                format!("{} is not in [0, 1]", self.drift_share),
            ));
        }
        if !(0.0..=1.0).contains(&self.null_share_threshold) {
            return Err(Error::invalid(
                "null_share_threshold",
                format!("{} is not in [0, 1]", self.null_share_threshold),
            ));
        }
        if let Some((column, threshold)) = self.thresholds.iter().find(|(_, t)| t.value().is_nan())
        {
            return Err(Error::invalid(
                &format!("thresholds[{column:?}]"),
                format!("{threshold:?} is NaN"),
            ));
        }
        Ok(())
    }

    fn selects(&self, column: &str) -> bool {
        !self.exclude.contains(column)
            && self.include.as_ref().is_none_or(|inc| inc.contains(column))
    }
}

/// A drift report over a table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Rows in the reference.
    pub reference_rows: usize,
    /// Rows in the current data.
    pub current_rows: usize,
    /// One entry per tested column, in the reference schema's order.
    pub columns: Vec<ColumnReport>,
    /// Columns left out because no method reads their type.
    pub skipped: Vec<SkippedColumn>,
    /// The configured drift share.
    pub drift_share: f64,
    /// Columns whose test ran.
    pub tested_columns: usize,
    /// Columns whose test ran and found drift.
    pub drifted_columns: usize,
    /// `drifted_columns / tested_columns`; 0 when nothing was tested.
    pub share_drifted: f64,
    /// Whether `share_drifted >= drift_share` (false when nothing was tested).
    pub dataset_drift: bool,
}

impl Report {
    pub(crate) fn new(
        reference_rows: usize,
        current_rows: usize,
        columns: Vec<ColumnReport>,
        skipped: Vec<SkippedColumn>,
        drift_share: f64,
    ) -> Self {
        let tested_columns = columns.iter().filter(|c| c.test().is_some()).count();
        let drifted_columns = columns.iter().filter(|c| c.drifted()).count();
        let share_drifted = if tested_columns == 0 {
            0.0
        } else {
            drifted_columns as f64 / tested_columns as f64
        };
        Report {
            reference_rows,
            current_rows,
            columns,
            skipped,
            drift_share,
            tested_columns,
            drifted_columns,
            share_drifted,
            dataset_drift: tested_columns > 0 && share_drifted >= drift_share,
        }
    }

    /// The entry of the column named `name`.
    pub fn column(&self, name: &str) -> Option<&ColumnReport> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// The report as pretty-printed JSON. Non-finite numbers are written as
    /// the strings `"NaN"`, `"Infinity"` and `"-Infinity"`.
    ///
    /// # Errors
    /// Only if serde_json fails, which these types do not make it do.
    pub fn to_json(&self) -> serde_json::Result<String> {
        serde_json::to_string_pretty(self)
    }

    /// Read a report written by [`to_json`](Self::to_json).
    ///
    /// # Errors
    /// When `json` is not a report.
    pub fn from_json(json: &str) -> serde_json::Result<Self> {
        serde_json::from_str(json)
    }

    /// The report as one self-contained HTML page (see [`crate::html`]).
    pub fn to_html(&self) -> String {
        crate::html::render(self)
    }
}

/// A column left out of the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkippedColumn {
    /// Its name.
    pub name: String,
    /// Its Arrow type in the reference.
    pub data_type: String,
}

/// One column's entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnReport {
    /// The column's name.
    pub name: String,
    /// Its Arrow type in the reference.
    pub data_type: String,
    /// How it was tested.
    pub kind: ColumnKind,
    /// Row and missing-value counts of the reference.
    pub reference: SideSummary,
    /// Row and missing-value counts of the current data.
    pub current: SideSummary,
    /// Whether the null share moved by more than the configured threshold.
    pub null_share_drifted: bool,
    /// The test's result, or why it could not run.
    pub outcome: ColumnOutcome,
    /// Reference and current distributions for the picture; absent when a
    /// side has no values or the values are not finite.
    pub histogram: Option<ColumnHistogram>,
}

impl ColumnReport {
    /// The test's result, when it ran.
    pub fn test(&self) -> Option<&DriftTest> {
        match &self.outcome {
            ColumnOutcome::Tested(test) => Some(test),
            ColumnOutcome::Failed(_) => None,
        }
    }

    /// Whether the test ran and found drift.
    pub fn drifted(&self) -> bool {
        self.test().is_some_and(|t| t.drifted)
    }

    /// Why the test could not run.
    pub fn error(&self) -> Option<&str> {
        match &self.outcome {
            ColumnOutcome::Tested(_) => None,
            ColumnOutcome::Failed(failure) => Some(&failure.error),
        }
    }
}

/// Rows and missing values of one side of a column.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SideSummary {
    /// All rows.
    pub rows: usize,
    /// Null rows.
    pub null_count: usize,
    /// NaN rows.
    pub nan_count: usize,
    /// `(null_count + nan_count) / rows`: what pandas counts as missing.
    pub null_share: f64,
}

impl From<RowCounts> for SideSummary {
    fn from(counts: RowCounts) -> Self {
        SideSummary {
            rows: counts.rows,
            null_count: counts.null_count,
            nan_count: counts.nan_count,
            null_share: counts.missing_share(),
        }
    }
}

/// A column's test result, or why there is none.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnOutcome {
    /// The test ran.
    Tested(DriftTest),
    /// The test could not run.
    Failed(ColumnFailure),
}

/// A test that ran on a column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftTest {
    /// The method.
    pub method: Method,
    /// Its statistic or distance.
    #[serde(with = "json_float")]
    pub statistic: f64,
    /// Its p-value, for tests.
    #[serde(with = "json_float_option")]
    pub pvalue: Option<f64>,
    /// The rule applied.
    pub threshold: Threshold,
    /// Whether the rule says drift.
    pub drifted: bool,
}

/// Why a column's test could not run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnFailure {
    /// The method, when one was chosen before the failure.
    pub method: Option<Method>,
    /// The error's message.
    pub error: String,
}

/// Reference and current proportions for a column's picture (at most 30 bars).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ColumnHistogram {
    /// Bins over the joint range: numpy's Sturges bins, or 30 equal-width
    /// bins where Sturges gives more.
    Numeric {
        /// Bin edges, one more than the bars.
        edges: Vec<f64>,
        /// Reference share per bin.
        reference: Vec<f64>,
        /// Current share per bin.
        current: Vec<f64>,
    },
    /// Shares per category: every category when there are at most 30,
    /// otherwise the 29 largest (by reference plus current share), in
    /// category order, and the rest pooled.
    Categorical {
        /// Category labels.
        labels: Vec<String>,
        /// Reference share per category.
        reference: Vec<f64>,
        /// Current share per category.
        current: Vec<f64>,
        /// Reference share of the pooled remaining categories.
        other_reference: f64,
        /// Current share of the pooled remaining categories.
        other_current: f64,
    },
}

/// Builds a drift report on two in-memory batches.
///
/// Columns are matched by name and reported in the reference schema's order;
/// see the [module documentation](self) for which problems fail the call and
/// which stay in a column's entry.
///
/// # Errors
/// [`Error::Empty`] when a batch has no rows; [`Error::MissingColumn`],
/// [`Error::TypeMismatch`], [`Error::UnsupportedType`] and
/// [`Error::InvalidParameter`] for schema and configuration problems.
pub fn drift_report(
    reference: &RecordBatch,
    current: &RecordBatch,
    config: &ReportConfig,
) -> Result<Report> {
    require_rows(reference.num_rows(), "reference batch")?;
    require_rows(current.num_rows(), "current batch")?;
    let plan = Plan::new(&reference.schema(), config, "reference")?;
    let current_index = plan.match_current(&current.schema(), config, "current")?;
    let columns = parallel_map(plan.columns.len(), config.worker_threads(), |i| {
        let column = plan.column(i)?;
        let reference = column.prepare(column_chunks(
            reference,
            Some(column.reference_index),
            &column.name,
        )?)?;
        let current = column.prepare(column_chunks(
            current,
            current_index.get(i).copied(),
            &column.name,
        )?)?;
        Ok(column.assess(&reference, &current, config))
    })?;
    Ok(Report::new(
        reference.num_rows(),
        current.num_rows(),
        columns,
        plan.skipped,
        config.drift_share,
    ))
}

/// Builds a drift report on two Parquet files, reading one column at a time.
///
/// Each worker reads a column pair with a projection (only that column's
/// pages are decoded), tests it and drops it, so peak memory stays near one
/// column pair per worker thread (a side's Arrow arrays plus its sorted
/// values). The report is the one [`drift_report`]
/// gives on the same data.
///
/// # Errors
/// As [`drift_report`], with files named in place of `reference` and
/// `current`, plus [`Error::Io`] and [`Error::Parquet`].
#[cfg(feature = "parquet")]
pub fn drift_report_parquet(
    reference: &std::path::Path,
    current: &std::path::Path,
    config: &ReportConfig,
) -> Result<Report> {
    let reference = ParquetColumns::open(reference)?;
    let current = ParquetColumns::open(current)?;
    require_rows(reference.rows, &reference.name)?;
    require_rows(current.rows, &current.name)?;
    let plan = Plan::new(reference.metadata.schema(), config, &reference.name)?;
    let current_index = plan.match_current(current.metadata.schema(), config, &current.name)?;
    let columns = parallel_map(plan.columns.len(), config.worker_threads(), |i| {
        let column = plan.column(i)?;
        let reference =
            column.prepare(reference.read(Some(column.reference_index), &column.name)?)?;
        let current = column.prepare(current.read(current_index.get(i).copied(), &column.name)?)?;
        Ok(column.assess(&reference, &current, config))
    })?;
    Ok(Report::new(
        reference.rows,
        current.rows,
        columns,
        plan.skipped,
        config.drift_share,
    ))
}

fn require_rows(rows: usize, what: &str) -> Result<()> {
    if rows == 0 {
        Err(Error::Empty {
            what: what.to_string(),
        })
    } else {
        Ok(())
    }
}

fn column_chunks(batch: &RecordBatch, index: Option<usize>, name: &str) -> Result<Vec<ArrayRef>> {
    index
        .and_then(|i| batch.columns().get(i))
        .map(|array| vec![array.clone()])
        .ok_or_else(|| Error::MissingColumn {
            column: name.to_string(),
            source_name: "batch".to_string(),
        })
}

/// A Parquet file whose footer has been read once, so that each column read
/// only opens the file and decodes that column.
#[cfg(feature = "parquet")]
struct ParquetColumns {
    path: std::path::PathBuf,
    name: String,
    rows: usize,
    metadata: parquet::arrow::arrow_reader::ArrowReaderMetadata,
}

#[cfg(feature = "parquet")]
impl ParquetColumns {
    fn open(path: &std::path::Path) -> Result<Self> {
        use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ArrowReaderOptions};
        let name = path.display().to_string();
        let file = std::fs::File::open(path).map_err(|source| Error::Io {
            path: name.clone(),
            source,
        })?;
        let metadata =
            ArrowReaderMetadata::load(&file, ArrowReaderOptions::new()).map_err(|source| {
                Error::Parquet {
                    path: name.clone(),
                    source,
                }
            })?;
        let rows = usize::try_from(metadata.metadata().file_metadata().num_rows()).unwrap_or(0);
        Ok(ParquetColumns {
            path: path.to_path_buf(),
            name,
            rows,
            metadata,
        })
    }

    fn read(&self, index: Option<usize>, column: &str) -> Result<Vec<ArrayRef>> {
        use parquet::arrow::ProjectionMask;
        use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
        let index = index.ok_or_else(|| Error::MissingColumn {
            column: column.to_string(),
            source_name: self.name.clone(),
        })?;
        let file = std::fs::File::open(&self.path).map_err(|source| Error::Io {
            path: self.name.clone(),
            source,
        })?;
        let mask = ProjectionMask::roots(self.metadata.parquet_schema(), [index]);
        let reader =
            ParquetRecordBatchReaderBuilder::new_with_metadata(file, self.metadata.clone())
                .with_projection(mask)
                .with_batch_size(PARQUET_BATCH_ROWS)
                .build()
                .map_err(|source| Error::Parquet {
                    path: self.name.clone(),
                    source,
                })?;
        let mut chunks = Vec::new();
        for batch in reader {
            let batch = batch.map_err(|source| Error::Arrow {
                context: Some(format!("column {column:?} of {}", self.name)),
                source,
            })?;
            chunks.extend(batch.columns().first().cloned());
        }
        Ok(chunks)
    }
}

/// Which columns to test and how, decided from the reference schema and the
/// configuration before any data is read.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub(crate) columns: Vec<ColumnPlan>,
    pub(crate) skipped: Vec<SkippedColumn>,
    /// Data type per planned column name, to check the current side.
    types: HashMap<String, DataType>,
}

/// One column of a [`Plan`].
#[derive(Debug, Clone)]
pub(crate) struct ColumnPlan {
    pub(crate) name: String,
    pub(crate) reference_index: usize,
    data_type: DataType,
    kind: ColumnKind,
    method: Option<Method>,
    threshold: Option<Threshold>,
}

impl Plan {
    /// `source` names the reference in errors (`reference`, a file path).
    pub(crate) fn new(reference: &Schema, config: &ReportConfig, source: &str) -> Result<Self> {
        config.validate()?;
        let missing = |column: &String| Error::MissingColumn {
            column: column.clone(),
            source_name: source.to_string(),
        };
        let named = config
            .methods
            .keys()
            .chain(config.thresholds.keys())
            .chain(config.categorical.iter())
            .chain(config.include.iter().flatten());
        if let Some(column) = named.into_iter().find(|c| reference.index_of(c).is_err()) {
            return Err(missing(column));
        }
        let mut plan = Plan {
            columns: Vec::new(),
            skipped: Vec::new(),
            types: HashMap::new(),
        };
        for (index, field) in reference.fields().iter().enumerate() {
            let name = field.name();
            if !config.selects(name) || plan.types.contains_key(name) {
                continue;
            }
            let data_type = field.data_type();
            let Some(kind) = ColumnKind::for_type(data_type, config.categorical.contains(name))
            else {
                let explicit = config.include.is_some() || config.categorical.contains(name);
                if explicit || config.methods.contains_key(name) {
                    return Err(unsupported(name, data_type, config.methods.get(name)));
                }
                plan.skipped.push(SkippedColumn {
                    name: name.clone(),
                    data_type: data_type.to_string(),
                });
                continue;
            };
            let method = config.methods.get(name).copied();
            if let Some(m) = method
                && kind == ColumnKind::Categorical
                && m.input() == MethodInput::Numeric
            {
                return Err(unsupported(name, data_type, Some(&m)));
            }
            plan.types.insert(name.clone(), data_type.clone());
            plan.columns.push(ColumnPlan {
                name: name.clone(),
                reference_index: index,
                data_type: data_type.clone(),
                kind,
                method,
                threshold: config.thresholds.get(name).copied(),
            });
        }
        Ok(plan)
    }

    /// Index in `current` of each planned column, after checking that the
    /// current schema has every planned column, with a compatible type, and
    /// no selected column the reference lacks.
    pub(crate) fn match_current(
        &self,
        current: &Schema,
        config: &ReportConfig,
        source: &str,
    ) -> Result<Vec<usize>> {
        let mut indices = Vec::with_capacity(self.columns.len());
        for column in &self.columns {
            let index = current
                .index_of(&column.name)
                .map_err(|_| Error::MissingColumn {
                    column: column.name.clone(),
                    source_name: source.to_string(),
                })?;
            let data_type = current.field(index).data_type();
            if !types_compatible(&column.data_type, data_type) {
                return Err(Error::TypeMismatch {
                    column: column.name.clone(),
                    reference: column.data_type.to_string(),
                    current: data_type.to_string(),
                });
            }
            indices.push(index);
        }
        let skipped: BTreeSet<&str> = self.skipped.iter().map(|s| s.name.as_str()).collect();
        if let Some(extra) = current.fields().iter().map(|f| f.name()).find(|name| {
            config.selects(name)
                && !self.types.contains_key(*name)
                && !skipped.contains(name.as_str())
        }) {
            return Err(Error::MissingColumn {
                column: extra.clone(),
                source_name: "reference".to_string(),
            });
        }
        Ok(indices)
    }

    pub(crate) fn column(&self, i: usize) -> Result<&ColumnPlan> {
        self.columns
            .get(i)
            .ok_or_else(|| Error::invalid("column index", format!("{i} is out of range")))
    }
}

fn unsupported(column: &str, data_type: &DataType, method: Option<&Method>) -> Error {
    Error::UnsupportedType {
        column: column.to_string(),
        data_type: data_type.to_string(),
        method: method.map_or("drift report", Method::name).to_string(),
    }
}

/// One side of a column, converted for testing.
#[derive(Debug, Clone)]
pub(crate) enum Prepared {
    /// Values in row order, sorted on first need: Evidently's default for
    /// large columns (Wasserstein, normed) and the picture need no order,
    /// and sorting is most of the cost of the rest. The Arrow chunks stay
    /// until the method is known, since a categorical method (chosen for
    /// few distinct values, or by the caller) counts the exact values rather
    /// than their `f64` images.
    Numeric {
        values: Vec<f64>,
        counts: RowCounts,
        sorted: OnceLock<SortedSample>,
        chunks: Vec<ArrayRef>,
    },
    Categorical(CategoricalColumn),
}

impl Prepared {
    fn counts(&self) -> RowCounts {
        match self {
            Prepared::Numeric { counts, .. } => *counts,
            Prepared::Categorical(column) => column.counts,
        }
    }
}

/// The values sorted, once per prepared side (a window's reference is
/// tested against many windows).
fn sorted<'a>(
    values: &[f64],
    cell: &'a OnceLock<SortedSample>,
    what: &str,
) -> Result<&'a SortedSample> {
    if let Some(sample) = cell.get() {
        return Ok(sample);
    }
    let sample = SortedSample::new(values, what)?;
    Ok(cell.get_or_init(|| sample))
}

impl ColumnPlan {
    /// Convert one side's chunks as the column's kind says.
    pub(crate) fn prepare(&self, chunks: Vec<ArrayRef>) -> Result<Prepared> {
        Ok(match self.kind {
            ColumnKind::Numeric => {
                let capacity = chunks.iter().map(|c| c.len() - c.null_count()).sum();
                let mut acc = NumericAccumulator::with_capacity(&self.name, capacity);
                for chunk in &chunks {
                    acc.push(chunk.as_ref())?;
                }
                let (values, counts) = acc.into_parts();
                Prepared::Numeric {
                    values,
                    counts,
                    sorted: OnceLock::new(),
                    chunks,
                }
            }
            ColumnKind::Categorical => {
                Prepared::Categorical(CategoricalColumn::from_chunks(&self.name, &chunks)?)
            }
        })
    }

    /// Test the column and fill its entry; errors about the data stay in the entry.
    pub(crate) fn assess(
        &self,
        reference: &Prepared,
        current: &Prepared,
        config: &ReportConfig,
    ) -> ColumnReport {
        let (ref_counts, cur_counts) = (reference.counts(), current.counts());
        let null_share_drifted = (cur_counts.missing_share() - ref_counts.missing_share()).abs()
            > config.null_share_threshold;
        let run = self.run(reference, current);
        let outcome = match run.outcome {
            Ok((method, result)) => {
                let threshold = self.threshold.unwrap_or_else(|| method.default_threshold());
                ColumnOutcome::Tested(DriftTest {
                    method,
                    statistic: result.statistic,
                    pvalue: result.pvalue,
                    threshold,
                    drifted: threshold.drifted(&result),
                })
            }
            Err((method, error)) => ColumnOutcome::Failed(ColumnFailure {
                method,
                error: error.to_string(),
            }),
        };
        ColumnReport {
            name: self.name.clone(),
            data_type: self.data_type.to_string(),
            kind: self.kind,
            reference: ref_counts.into(),
            current: cur_counts.into(),
            null_share_drifted,
            outcome,
            histogram: run.histogram,
        }
    }

    /// Choose the method, run it and draw the picture.
    fn run(&self, reference: &Prepared, current: &Prepared) -> Run {
        let empty = |side: &str| Run {
            outcome: Err((
                self.method,
                Error::Empty {
                    what: format!("column {:?} ({side})", self.name),
                },
            )),
            histogram: None,
        };
        match (reference, current) {
            (
                Prepared::Numeric {
                    values: r,
                    sorted: r_sorted,
                    chunks: r_chunks,
                    ..
                },
                Prepared::Numeric {
                    values: c,
                    sorted: c_sorted,
                    chunks: c_chunks,
                    ..
                },
            ) => {
                if r.is_empty() {
                    return empty("reference");
                }
                if c.is_empty() {
                    return empty("current");
                }
                let method = self.method.unwrap_or_else(|| {
                    // The rule only asks whether there are more than 5.
                    Method::evidently_default(r.len(), distinct_up_to(r, c, 6), true)
                });
                let result = match (method, method.input()) {
                    (Method::WassersteinNormed, _) => {
                        evidently::wasserstein_norm_unsorted(r, c).map(TestResult::distance)
                    }
                    (_, MethodInput::Numeric | MethodInput::Either) => {
                        let what = |side: &str| format!("column {:?} ({side})", self.name);
                        sorted(r, r_sorted, &what("reference")).and_then(|rs| {
                            sorted(c, c_sorted, &what("current"))
                                .and_then(|cs| method.run_numeric(rs, cs))
                        })
                    }
                    (_, MethodInput::Categorical) => self
                        .count(r_chunks, c_chunks)
                        .and_then(|table| method.run_categorical(&table)),
                };
                Run::new(method, result, numeric_histogram(r, c))
            }
            (Prepared::Categorical(r), Prepared::Categorical(c)) => {
                if r.categories.is_empty() {
                    return empty("reference");
                }
                if c.categories.is_empty() {
                    return empty("current");
                }
                let table = CategoryCounts::from_counts(r.categories.clone(), c.categories.clone());
                let method = self.method.unwrap_or_else(|| {
                    Method::evidently_default(r.counts.values(), table.categories().len(), false)
                });
                let result = match method.input() {
                    MethodInput::Numeric => {
                        Err(unsupported(&self.name, &self.data_type, Some(&method)))
                    }
                    MethodInput::Categorical | MethodInput::Either => {
                        method.run_categorical(&table)
                    }
                };
                Run::new(method, result, Some(categorical_histogram(&table)))
            }
            _ => Run {
                outcome: Err((
                    self.method,
                    Error::invalid("column", "reference and current were prepared differently"),
                )),
                histogram: None,
            },
        }
    }

    /// Count a numeric column's exact values for a categorical method.
    fn count(&self, reference: &[ArrayRef], current: &[ArrayRef]) -> Result<CategoryCounts> {
        let reference = CategoricalColumn::from_chunks(&self.name, reference)?;
        let current = CategoricalColumn::from_chunks(&self.name, current)?;
        Ok(CategoryCounts::from_counts(
            reference.categories,
            current.categories,
        ))
    }
}

/// What running a column's method gave.
struct Run {
    /// The method and its result, or the method (when one was chosen) and the error.
    outcome: std::result::Result<(Method, TestResult), (Option<Method>, Error)>,
    histogram: Option<ColumnHistogram>,
}

impl Run {
    fn new(method: Method, result: Result<TestResult>, histogram: Option<ColumnHistogram>) -> Self {
        Run {
            outcome: result.map(|r| (method, r)).map_err(|e| (Some(method), e)),
            histogram,
        }
    }
}

/// Sturges bins on the joint range, or 30 equal-width bins where Sturges
/// gives more; `None` when the range is not finite.
fn numeric_histogram(reference: &[f64], current: &[f64]) -> Option<ColumnHistogram> {
    let sturges = histogram_unsorted(reference, current, &Binning::Sturges).ok()?;
    let bins = if sturges.bins() > MAX_BARS {
        histogram_unsorted(reference, current, &Binning::EqualWidth { bins: MAX_BARS }).ok()?
    } else {
        sturges
    };
    Some(ColumnHistogram::Numeric {
        edges: bins.edges().to_vec(),
        reference: bins.reference_proportions(),
        current: bins.current_proportions(),
    })
}

fn categorical_histogram(table: &CategoryCounts) -> ColumnHistogram {
    let reference = table.reference_proportions();
    let current = table.current_proportions();
    let k = table.categories().len();
    let mut shown = vec![true; k];
    if k > MAX_BARS {
        let mut order: Vec<usize> = (0..k).collect();
        let weight = |i: usize| {
            reference.get(i).copied().unwrap_or(0.0) + current.get(i).copied().unwrap_or(0.0)
        };
        order.sort_by(|&a, &b| weight(b).total_cmp(&weight(a)).then(a.cmp(&b)));
        for &i in order.iter().skip(MAX_BARS - 1) {
            if let Some(s) = shown.get_mut(i) {
                *s = false;
            }
        }
    }
    let mut bars = ColumnHistogramParts::default();
    for (((category, &r), &c), &show) in table
        .categories()
        .iter()
        .zip(&reference)
        .zip(&current)
        .zip(&shown)
    {
        if show {
            bars.labels.push(category.to_string());
            bars.reference.push(r);
            bars.current.push(c);
        } else {
            bars.other_reference += r;
            bars.other_current += c;
        }
    }
    ColumnHistogram::Categorical {
        labels: bars.labels,
        reference: bars.reference,
        current: bars.current,
        other_reference: bars.other_reference,
        other_current: bars.other_current,
    }
}

#[derive(Default)]
struct ColumnHistogramParts {
    labels: Vec<String>,
    reference: Vec<f64>,
    current: Vec<f64>,
    other_reference: f64,
    other_current: f64,
}

/// Runs `task(0..n)` on up to `threads` scoped workers that take the next
/// index from a shared counter, and returns the results in index order, so
/// the output does not depend on the thread count or on scheduling. The
/// first error by index wins; after any error the workers stop taking work.
pub(crate) fn parallel_map<T, F>(n: usize, threads: usize, task: F) -> Result<Vec<T>>
where
    T: Send,
    F: Fn(usize) -> Result<T> + Sync,
{
    let threads = threads.clamp(1, n.max(1));
    if threads == 1 {
        return (0..n).map(task).collect();
    }
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let worker = || {
        let mut done = Vec::new();
        while !failed.load(Ordering::Relaxed) {
            let i = next.fetch_add(1, Ordering::Relaxed);
            if i >= n {
                break;
            }
            let result = task(i);
            if result.is_err() {
                failed.store(true, Ordering::Relaxed);
            }
            done.push((i, result));
        }
        done
    };
    let mut results: Vec<(usize, Result<T>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads).map(|_| scope.spawn(worker)).collect();
        handles
            .into_iter()
            .flat_map(|h| {
                h.join()
                    .unwrap_or_else(|payload| std::panic::resume_unwind(payload))
            })
            .collect()
    });
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

/// Serde for an `f64` that may be NaN or infinite: JSON has no such numbers,
/// so they travel as the strings `"NaN"`, `"Infinity"`, `"-Infinity"`.
mod json_float {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(value: &f64, serializer: S) -> Result<S::Ok, S::Error> {
        match *value {
            v if v.is_finite() => serializer.serialize_f64(v),
            v if v.is_nan() => serializer.serialize_str("NaN"),
            v if v > 0.0 => serializer.serialize_str("Infinity"),
            _ => serializer.serialize_str("-Infinity"),
        }
    }

    #[derive(Deserialize)]
    #[serde(untagged)]
    pub(super) enum Repr {
        Number(f64),
        Text(String),
    }

    impl Repr {
        pub(super) fn into_f64<E: serde::de::Error>(self) -> Result<f64, E> {
            match self {
                Repr::Number(v) => Ok(v),
                Repr::Text(t) => match t.as_str() {
                    "NaN" => Ok(f64::NAN),
                    "Infinity" => Ok(f64::INFINITY),
                    "-Infinity" => Ok(f64::NEG_INFINITY),
                    other => Err(E::custom(format!(
                        "expected a number, \"NaN\" or \"±Infinity\", got {other:?}"
                    ))),
                },
            }
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
        Repr::deserialize(deserializer)?.into_f64()
    }
}

/// [`json_float`] for an optional `f64` (`None` is `null`).
mod json_float_option {
    use serde::{Deserialize, Deserializer, Serializer};

    use super::json_float;

    pub(super) fn serialize<S: Serializer>(
        value: &Option<f64>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(v) => json_float::serialize(v, serializer),
            None => serializer.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<f64>, D::Error> {
        Option::<json_float::Repr>::deserialize(deserializer)?
            .map(json_float::Repr::into_f64)
            .transpose()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::categorical::Category;

    #[test]
    fn parallel_map_keeps_index_order_and_reports_the_first_error() {
        for threads in [1, 2, 7] {
            let squares = parallel_map(50, threads, |i| Ok(i * i)).unwrap();
            assert_eq!(squares, (0..50).map(|i| i * i).collect::<Vec<_>>());
            let failed = parallel_map(50, threads, |i| {
                if i == 3 || i == 40 {
                    Err(Error::invalid("i", format!("{i}")))
                } else {
                    Ok(i)
                }
            });
            assert_eq!(failed.unwrap_err().to_string(), "invalid parameter i: 3");
        }
        assert!(parallel_map(0, 4, Ok).unwrap().is_empty());
    }

    #[test]
    fn config_is_validated() {
        let config = ReportConfig {
            null_share_threshold: -0.1,
            ..ReportConfig::default()
        };
        assert!(config.validate().is_err());
        let config = ReportConfig {
            drift_share: f64::NAN,
            ..ReportConfig::default()
        };
        assert!(config.validate().is_err());
        let config = ReportConfig::default().with_threshold("x", Threshold::PValueBelow(f64::NAN));
        assert!(config.validate().is_err());
        assert!(ReportConfig::default().validate().is_ok());
        assert!(ReportConfig::default().worker_threads() >= 1);
    }

    #[test]
    fn config_reads_from_json_with_defaults() {
        let config: ReportConfig =
            serde_json::from_str(r#"{"methods": {"age": "ks"}, "exclude": ["id"], "threads": 2}"#)
                .unwrap();
        assert_eq!(config.methods.get("age"), Some(&Method::Ks));
        assert!(config.exclude.contains("id"));
        assert_eq!(config.threads, NonZeroUsize::new(2));
        assert_eq!(config.drift_share, 0.5);
        assert_eq!(config.null_share_threshold, 0.05);
    }

    #[test]
    fn categorical_picture_pools_the_smallest_categories() {
        let reference: BTreeMap<Category, u64> =
            (0..40).map(|i| (Category::Int(i), 1 + i as u64)).collect();
        let current: BTreeMap<Category, u64> =
            [(Category::Int(0), 5), (Category::Int(100), 5)].into();
        let table = CategoryCounts::from_counts(reference, current);
        let ColumnHistogram::Categorical {
            labels,
            reference,
            current,
            other_reference,
            other_current,
        } = categorical_histogram(&table)
        else {
            panic!("categorical picture expected");
        };
        assert_eq!(labels.len(), MAX_BARS - 1);
        // The two current categories carry half the current mass each, so both are shown.
        assert!(labels.contains(&"0".to_string()) && labels.contains(&"100".to_string()));
        assert_eq!(labels.last().map(String::as_str), Some("100"));
        let total = |v: &[f64], other: f64| v.iter().sum::<f64>() + other;
        assert!((total(&reference, other_reference) - 1.0).abs() < 1e-12);
        assert!((total(&current, other_current) - 1.0).abs() < 1e-12);
        assert!(other_reference > 0.0);
        assert_eq!(other_current, 0.0);
    }

    #[test]
    fn non_finite_floats_round_trip_through_json() {
        // Dyadic finite values only: without serde_json's `float_roundtrip` feature
        // its parser may be an ulp off on others.
        for value in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -0.0, 0.375] {
            let test = DriftTest {
                method: Method::Ks,
                statistic: value,
                pvalue: Some(value),
                threshold: Threshold::PValueBelow(0.05),
                drifted: false,
            };
            let back: DriftTest =
                serde_json::from_str(&serde_json::to_string(&test).unwrap()).unwrap();
            assert_eq!(back.statistic.to_bits(), value.to_bits());
            assert_eq!(back.pvalue.map(f64::to_bits), Some(value.to_bits()));
        }
        let bad = r#"{"method":"ks","statistic":"big","pvalue":null,"threshold":{"rule":"p_value_below","value":0.05},"drifted":false}"#;
        assert!(serde_json::from_str::<DriftTest>(bad).is_err());
    }
}
