//! Entry point for the `drift_report` fuzz target under `fuzz/`, public so that
//! an ordinary test replays the checked-in seeds through exactly the code the
//! fuzzer runs.

use std::cell::Cell;
use std::io::Cursor;
use std::num::NonZeroUsize;
use std::panic::{UnwindSafe, catch_unwind};

use arrow::array::RecordBatch;
use arrow::ipc::reader::{FileReader, StreamReader};

use crate::report::{ReportConfig, drift_report};

/// Rows read from one input at most, so a tiny file that claims billions of
/// rows cannot make the fuzzer allocate without bound.
const MAX_ROWS: usize = 20_000;

thread_local! {
    static IN_DECODER: Cell<bool> = const { Cell::new(false) };
}

/// Whether this thread is inside a third-party decoder (arrow-ipc, parquet)
/// called by [`report`].
///
/// arrow-ipc 60 panics on some malformed buffers (a slice past the end of
/// the message body) instead of returning an error. [`report`] catches those
/// panics, and the fuzz target's panic hook uses this to tell them from a
/// panic in keelson's own code, which still aborts the fuzzer.
pub fn in_third_party_decoder() -> bool {
    IN_DECODER.get()
}

fn guarded<T>(decode: impl FnOnce() -> Option<T> + UnwindSafe) -> Option<T> {
    IN_DECODER.set(true);
    let decoded = catch_unwind(decode).ok().flatten();
    IN_DECODER.set(false);
    decoded
}

/// Feed arbitrary bytes, read as an Arrow IPC stream, an Arrow IPC file or a
/// Parquet file, to the drift report (first half of the rows as reference,
/// second half as current) and render it as JSON and HTML. Must never panic,
/// hang or allocate without bound; the results are ignored.
pub fn report(data: &[u8]) {
    let decoded = [
        guarded(|| ipc_stream(data)),
        guarded(|| ipc_file(data)),
        guarded(|| parquet(data)),
    ];
    for batches in decoded.into_iter().flatten() {
        let Some(batch) = concat(&batches) else {
            continue;
        };
        let half = batch.num_rows() / 2;
        let (reference, current) = (
            batch.slice(0, half),
            batch.slice(half, batch.num_rows() - half),
        );
        let config = ReportConfig::default().with_threads(NonZeroUsize::MIN);
        if let Ok(report) = drift_report(&reference, &current, &config) {
            let _ = report.to_json();
            let _ = report.to_html();
        }
    }
}

fn take_rows(
    batches: impl Iterator<Item = Result<RecordBatch, arrow::error::ArrowError>>,
) -> Option<Vec<RecordBatch>> {
    let mut out = Vec::new();
    let mut rows = 0;
    for batch in batches {
        let batch = batch.ok()?;
        rows += batch.num_rows();
        out.push(batch);
        if rows >= MAX_ROWS {
            break;
        }
    }
    Some(out)
}

fn ipc_stream(data: &[u8]) -> Option<Vec<RecordBatch>> {
    take_rows(StreamReader::try_new(Cursor::new(data), None).ok()?)
}

fn ipc_file(data: &[u8]) -> Option<Vec<RecordBatch>> {
    take_rows(FileReader::try_new(Cursor::new(data), None).ok()?)
}

#[cfg(feature = "parquet")]
fn parquet(data: &[u8]) -> Option<Vec<RecordBatch>> {
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let builder =
        ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::copy_from_slice(data)).ok()?;
    let reader = builder
        .with_batch_size(1024)
        .with_limit(MAX_ROWS)
        .build()
        .ok()?;
    take_rows(reader)
}

#[cfg(not(feature = "parquet"))]
fn parquet(_: &[u8]) -> Option<Vec<RecordBatch>> {
    None
}

fn concat(batches: &[RecordBatch]) -> Option<RecordBatch> {
    let first = batches.first()?;
    arrow::compute::concat_batches(&first.schema(), batches).ok()
}
