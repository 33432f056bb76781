//! Job traces: one gang job a row, read from and written to CSV.

use std::collections::BTreeMap;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::csv::{self, ms_to_seconds, quote, row_error, seconds_to_ms};
use crate::Result;

/// The header of a trace file, in this order.
pub const TRACE_HEADER: [&str; 9] = [
    "id",
    "submit_s",
    "duration_s",
    "pods",
    "gpus_per_pod",
    "cpu_milli_per_pod",
    "memory_mib_per_pod",
    "queue",
    "priority",
];

/// The queue of a job whose `queue` field is empty.
pub const DEFAULT_QUEUE: &str = "default";

/// One job of a trace: a gang of `pods` identical pods that runs for
/// `duration_ms` once every pod is placed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceJob {
    /// Unique within the trace.
    pub id: String,
    /// When the job is submitted, in milliseconds from the trace's zero.
    pub submit_ms: u64,
    /// How long it runs once placed (known to the simulator, as in the
    /// trace; only `backfill` uses it to decide).
    pub duration_ms: u64,
    /// Pods in the gang (at least 1); all or none are placed.
    pub pods: u32,
    /// GPUs each pod takes.
    pub gpus_per_pod: u32,
    /// CPU each pod takes, in thousandths of a core.
    pub cpu_milli_per_pod: u64,
    /// Memory each pod takes, in MiB.
    pub memory_mib_per_pod: u64,
    /// The queue (a LocalQueue name when queues are given).
    pub queue: String,
    /// Priority: higher first (used by `kueue` and `fair`).
    pub priority: i32,
}

impl TraceJob {
    /// GPUs of the whole gang.
    pub fn gpus(&self) -> u64 {
        u64::from(self.pods) * u64::from(self.gpus_per_pod)
    }
}

/// Reads a trace CSV. `file` names the text in errors. The header must be
/// [`TRACE_HEADER`]; a blank line, a trailing space or a CRLF is fine; a
/// malformed field gives [`Error::Row`](crate::Error::Row) naming the row
/// and column (ids must be unique, `pods` at least 1, times non-negative
/// seconds with up to millisecond precision — finer digits are rounded).
///
/// ```
/// use keelson_sched::sim::parse_trace;
///
/// let jobs = parse_trace("t.csv", "id,submit_s,duration_s,pods,gpus_per_pod,cpu_milli_per_pod,memory_mib_per_pod,queue,priority\r\n\
///     j1,0,3600,2,8,16000,65536,team-a,0\r\n")?;
/// assert_eq!(jobs[0].gpus(), 16);
/// assert_eq!(jobs[0].duration_ms, 3_600_000);
/// let bad = parse_trace("t.csv", "id,submit_s,duration_s,pods,gpus_per_pod,cpu_milli_per_pod,memory_mib_per_pod,queue,priority\n\
///     j1,0,-5,1,1,0,0,q,0\n").unwrap_err();
/// assert_eq!(bad.to_string(), "t.csv: row 2, column duration_s: \"-5\" is not a non-negative number of seconds");
/// # Ok::<(), keelson_sched::Error>(())
/// ```
pub fn parse_trace(file: &str, text: &str) -> Result<Vec<TraceJob>> {
    let rows = csv::rows(file, text, &TRACE_HEADER)?;
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut jobs = Vec::with_capacity(rows.len());
    for row in rows {
        let f = &row.fields;
        let err = |col: usize, reason: String| row_error(file, row.line, TRACE_HEADER[col], reason);
        let id = f[0].clone();
        if id.is_empty() {
            return Err(err(0, "empty id".into()));
        }
        if let Some(first) = seen.insert(id.clone(), row.line) {
            return Err(err(0, format!("id {id:?} already used on row {first}")));
        }
        let submit_ms = seconds_to_ms(&f[1]).map_err(|e| err(1, e))?;
        let duration_ms = seconds_to_ms(&f[2]).map_err(|e| err(2, e))?;
        let pods: u32 = number(&f[3]).map_err(|e| err(3, e))?;
        if pods == 0 {
            return Err(err(3, "a job needs at least 1 pod".into()));
        }
        jobs.push(TraceJob {
            id,
            submit_ms,
            duration_ms,
            pods,
            gpus_per_pod: number(&f[4]).map_err(|e| err(4, e))?,
            cpu_milli_per_pod: number(&f[5]).map_err(|e| err(5, e))?,
            memory_mib_per_pod: number(&f[6]).map_err(|e| err(6, e))?,
            queue: if f[7].is_empty() {
                DEFAULT_QUEUE.to_owned()
            } else {
                f[7].clone()
            },
            priority: number(&f[8]).map_err(|e| err(8, e))?,
        });
    }
    Ok(jobs)
}

/// Writes jobs as a trace CSV that [`parse_trace`] reads back unchanged.
pub fn write_trace(jobs: &[TraceJob]) -> String {
    let mut out = TRACE_HEADER.join(",");
    out.push('\n');
    for j in jobs {
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{},{}\n",
            quote(&j.id),
            ms_to_seconds(j.submit_ms),
            ms_to_seconds(j.duration_ms),
            j.pods,
            j.gpus_per_pod,
            j.cpu_milli_per_pod,
            j.memory_mib_per_pod,
            quote(&j.queue),
            j.priority
        ));
    }
    out
}

/// Parses an integer field, saying what was wrong.
pub(crate) fn number<T: FromStr>(text: &str) -> std::result::Result<T, String> {
    text.parse()
        .map_err(|_| format!("{text:?} is not an integer in range"))
}
