//! Streaming drift against a fixed reference.
//!
//! Rows arrive in [`RecordBatch`]es of any size; windows are counted in rows
//! of the stream, so one window may span many batches and one batch may
//! complete many windows. Each complete window gets the report
//! [`drift_report`](crate::report::drift_report) would give on the window's
//! rows as one batch.
//!
//! The reference is converted once (sorted, or counted) in
//! [`WindowedDrift::new`]. Between calls only the rows a later window still
//! needs are kept, copied out of the caller's batches, so memory stays within
//! one window of the tested columns whatever the batch sizes.

use std::collections::VecDeque;

use arrow::array::{Array, ArrayRef, AsArray, MutableArrayData, make_array};
use arrow::datatypes::DataType;
use arrow::error::ArrowError;
use arrow::record_batch::RecordBatch;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::report::{Plan, Prepared, Report, ReportConfig, parallel_map};

/// How the stream is cut into windows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Window {
    /// Consecutive windows of `rows` rows that do not overlap.
    Tumbling {
        /// Rows per window.
        rows: usize,
    },
    /// Windows of `rows` rows starting every `step` rows: they overlap when
    /// `step < rows`, and rows between them are never tested when
    /// `step > rows`.
    Sliding {
        /// Rows per window.
        rows: usize,
        /// Rows from one window's start to the next one's.
        step: usize,
    },
}

impl Window {
    fn rows_and_step(self) -> Result<(u64, u64)> {
        let (rows, step) = match self {
            Window::Tumbling { rows } => (rows, rows),
            Window::Sliding { rows, step } => (rows, step),
        };
        if rows == 0 {
            return Err(Error::invalid("window rows", "must be at least 1"));
        }
        if step == 0 {
            return Err(Error::invalid("window step", "must be at least 1"));
        }
        Ok((rows as u64, step as u64))
    }
}

/// The report on one window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WindowReport {
    /// Position of the window among all windows, from 0.
    pub index: u64,
    /// First row of the window, counted over the whole stream from 0.
    pub start_row: u64,
    /// One past the window's last row.
    pub end_row: u64,
    /// False only for the partial window [`WindowedDrift::finish`] reports.
    pub complete: bool,
    /// The drift report on the window's rows.
    pub report: Report,
}

/// Drift of a stream of batches against a fixed reference, window by window.
#[derive(Debug)]
pub struct WindowedDrift {
    config: ReportConfig,
    plan: Plan,
    reference: Vec<Prepared>,
    reference_rows: usize,
    rows: u64,
    step: u64,
    /// Batches holding stream rows `buffer_start..seen`, projected to the
    /// planned columns in plan order.
    buffer: VecDeque<RecordBatch>,
    buffer_start: u64,
    seen: u64,
    /// End of the next window to complete.
    next_end: u64,
    /// End of the last window reported.
    covered_until: u64,
}

impl WindowedDrift {
    /// Prepare the reference (each column converted once) for windows cut as
    /// `window` says. Columns, methods and thresholds follow `config` as in
    /// [`drift_report`](crate::report::drift_report).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a window of 0 rows or step;
    /// [`Error::Empty`] for a reference without rows; configuration errors as
    /// in [`drift_report`](crate::report::drift_report).
    pub fn new(reference: &RecordBatch, config: ReportConfig, window: Window) -> Result<Self> {
        let (rows, step) = window.rows_and_step()?;
        if reference.num_rows() == 0 {
            return Err(Error::Empty {
                what: "reference batch".to_string(),
            });
        }
        let plan = Plan::new(&reference.schema(), &config, "reference")?;
        let prepared = parallel_map(plan.columns.len(), config.worker_threads(), |i| {
            let column = plan.column(i)?;
            let array = reference
                .columns()
                .get(column.reference_index)
                .cloned()
                .ok_or_else(|| Error::MissingColumn {
                    column: column.name.clone(),
                    source_name: "reference".to_string(),
                })?;
            column.prepare(vec![array])
        })?;
        Ok(WindowedDrift {
            config,
            plan,
            reference: prepared,
            reference_rows: reference.num_rows(),
            rows,
            step,
            buffer: VecDeque::new(),
            buffer_start: 0,
            seen: 0,
            next_end: rows,
            covered_until: 0,
        })
    }

    /// Rows pushed so far.
    pub fn rows_seen(&self) -> u64 {
        self.seen
    }

    /// Add a batch and report every window it completes, in stream order.
    ///
    /// # Errors
    /// [`Error::MissingColumn`] or [`Error::TypeMismatch`] when the batch's
    /// schema does not match the reference, before any of its rows is taken.
    pub fn push(&mut self, batch: &RecordBatch) -> Result<Vec<WindowReport>> {
        let indices = self
            .plan
            .match_current(&batch.schema(), &self.config, "current batch")?;
        let batch = batch.project(&indices).map_err(|source| Error::Arrow {
            context: Some("current batch".to_string()),
            source,
        })?;
        if batch.num_rows() == 0 {
            return Ok(Vec::new());
        }
        self.seen += batch.num_rows() as u64;
        self.buffer.push_back(batch);
        let mut reports = Vec::new();
        while self.seen >= self.next_end {
            let start = self.next_end - self.rows;
            reports.push(self.window_report(start, self.next_end, true)?);
            self.covered_until = self.next_end;
            self.next_end += self.step;
        }
        self.trim(self.next_end - self.rows)?;
        Ok(reports)
    }

    /// Report the partial window at the end of the stream: the rows from the
    /// next window's start to the last row pushed. There is none (`None`)
    /// when every one of those rows was already in a reported window, or
    /// when they all fall in the gap between windows (`step > rows`).
    ///
    /// # Errors
    /// As [`push`](Self::push).
    pub fn finish(self) -> Result<Option<WindowReport>> {
        let start = self.next_end - self.rows;
        if self.seen > start.max(self.covered_until) {
            self.window_report(start, self.seen, false).map(Some)
        } else {
            Ok(None)
        }
    }

    fn window_report(&self, start: u64, end: u64, complete: bool) -> Result<WindowReport> {
        let mut slices = Vec::new();
        let mut position = self.buffer_start;
        for batch in &self.buffer {
            let len = batch.num_rows() as u64;
            let (from, to) = (start.max(position), end.min(position + len));
            if from < to {
                slices.push(batch.slice(offset(from - position)?, offset(to - from)?));
            }
            position += len;
        }
        let columns = parallel_map(self.plan.columns.len(), self.config.worker_threads(), |i| {
            let column = self.plan.column(i)?;
            let reference = self.reference.get(i).ok_or_else(|| Error::MissingColumn {
                column: column.name.clone(),
                source_name: "reference".to_string(),
            })?;
            let chunks: Vec<ArrayRef> = slices
                .iter()
                .filter_map(|s| s.columns().get(i).cloned())
                .collect();
            let current = column.prepare(chunks)?;
            Ok(column.assess(reference, &current, &self.config))
        })?;
        let report = Report::new(
            self.reference_rows,
            offset(end - start)?,
            columns,
            self.plan.skipped.clone(),
            self.config.drift_share,
        );
        // Window k starts at row k * step.
        Ok(WindowReport {
            index: start / self.step,
            start_row: start,
            end_row: end,
            complete,
            report,
        })
    }

    /// Drop the rows before `keep_from`; the batch cut in two is copied so
    /// that the caller's buffers are not held for a few rows.
    fn trim(&mut self, keep_from: u64) -> Result<()> {
        while let Some(front) = self.buffer.front() {
            let len = front.num_rows() as u64;
            if self.buffer_start + len > keep_from {
                break;
            }
            self.buffer_start += len;
            self.buffer.pop_front();
        }
        if let Some(front) = self.buffer.front_mut()
            && self.buffer_start < keep_from
        {
            let cut = offset(keep_from - self.buffer_start)?;
            *front = compact(&front.slice(cut, front.num_rows() - cut))?;
            self.buffer_start = keep_from;
        }
        if self.buffer.is_empty() {
            self.buffer_start = self.seen;
        }
        Ok(())
    }
}

fn offset(rows: u64) -> Result<usize> {
    usize::try_from(rows)
        .map_err(|_| Error::invalid("window", format!("{rows} rows do not fit in memory")))
}

/// A copy of `batch` that owns only its own rows.
fn compact(batch: &RecordBatch) -> Result<RecordBatch> {
    let arrow_error = |source| Error::Arrow {
        context: Some("window buffer".to_string()),
        source,
    };
    let columns = batch
        .columns()
        .iter()
        .map(|array| compact_array(array.as_ref()))
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(arrow_error)?;
    RecordBatch::try_new(batch.schema(), columns).map_err(arrow_error)
}

fn compact_array(array: &dyn Array) -> std::result::Result<ArrayRef, ArrowError> {
    if let (DataType::Utf8View, Some(views)) = (array.data_type(), array.as_string_view_opt()) {
        // A string view shares its data buffers; gc copies out only the strings it shows.
        return Ok(std::sync::Arc::new(views.gc()));
    }
    let data = array.to_data();
    let mut copy = MutableArrayData::new(vec![&data], false, array.len());
    copy.try_extend(0, 0, array.len())?;
    Ok(make_array(copy.freeze()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{DictionaryArray, Float64Array, Int64Array, StringArray, StringViewArray};
    use arrow::datatypes::{Field, Int8Type, Schema};

    use super::*;

    #[test]
    fn compact_copies_only_the_rows_it_keeps() {
        let big = Float64Array::from_iter_values((0..10_000).map(f64::from));
        let labels: StringViewArray = (0..10_000)
            .map(|i| Some(format!("a fairly long label number {i}")))
            .collect();
        let dict: DictionaryArray<Int8Type> = (0..10_000).map(|i| ["x", "y"][i % 2]).collect();
        let schema = Arc::new(Schema::new(vec![
            Field::new("v", DataType::Float64, false),
            Field::new("s", DataType::Utf8View, false),
            Field::new("d", dict.data_type().clone(), false),
        ]));
        let batch = RecordBatch::try_new(
            schema,
            vec![Arc::new(big), Arc::new(labels), Arc::new(dict)],
        )
        .unwrap();
        let tail = batch.slice(9_990, 10);
        let copy = compact(&tail).unwrap();
        assert_eq!(copy, tail);
        assert!(copy.get_array_memory_size() * 20 < batch.get_array_memory_size());
    }

    #[test]
    fn the_buffer_never_holds_more_than_a_window() {
        let schema = Arc::new(Schema::new(vec![Field::new("x", DataType::Int64, false)]));
        let batch = |n: i64| {
            RecordBatch::try_new(
                schema.clone(),
                vec![Arc::new(Int64Array::from_iter_values(0..n))],
            )
            .unwrap()
        };
        let mut drift = WindowedDrift::new(
            &batch(100),
            ReportConfig::default(),
            Window::Sliding { rows: 40, step: 15 },
        )
        .unwrap();
        for n in [7, 64, 3, 250, 1, 90] {
            drift.push(&batch(n)).unwrap();
            let held: usize = drift.buffer.iter().map(RecordBatch::num_rows).sum();
            assert!(held < 40, "{held} rows held");
            assert_eq!(drift.buffer_start + held as u64, drift.seen);
            assert_eq!(drift.buffer_start, drift.next_end - 40);
        }
    }

    #[test]
    fn batches_are_matched_by_name() {
        let schema = |names: [&str; 2]| {
            Arc::new(Schema::new(vec![
                Field::new(names[0], DataType::Float64, true),
                Field::new(names[1], DataType::Utf8, true),
            ]))
        };
        let reference = RecordBatch::try_new(
            schema(["x", "s"]),
            vec![
                Arc::new(Float64Array::from(vec![1.0, 2.0, 3.0])),
                Arc::new(StringArray::from(vec!["a", "b", "a"])),
            ],
        )
        .unwrap();
        let swapped = RecordBatch::try_new(
            Arc::new(Schema::new(vec![
                Field::new("s", DataType::Utf8, true),
                Field::new("x", DataType::Float64, true),
            ])),
            vec![
                Arc::new(StringArray::from(vec!["b", "b"])),
                Arc::new(Float64Array::from(vec![5.0, 6.0])),
            ],
        )
        .unwrap();
        let mut drift = WindowedDrift::new(
            &reference,
            ReportConfig::default(),
            Window::Tumbling { rows: 2 },
        )
        .unwrap();
        let windows = drift.push(&swapped).unwrap();
        assert_eq!(windows.len(), 1);
        let report = &windows[0].report;
        assert_eq!(report.columns[0].name, "x");
        assert_eq!(report.columns[0].kind, crate::column::ColumnKind::Numeric);
        assert_eq!(report.columns[1].name, "s");
        assert_eq!(report.current_rows, 2);
    }
}
