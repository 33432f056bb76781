//! What a simulation reports: job completion times, queueing delay, GPU
//! utilization (average and over time), makespan, Jain's fairness index,
//! per-queue usage and time to admission per size class.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::policy::Policy;
use super::trace::TraceJob;

/// The headline figures of a run (the `simulate` example prints these as
/// JSON). Times are seconds; averages are over finished jobs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// The policy.
    pub policy: Policy,
    /// Jobs in the trace.
    pub jobs: usize,
    /// Jobs that finished.
    pub finished: usize,
    /// Jobs skipped: they fit no empty cluster, or name no LocalQueue.
    pub skipped: usize,
    /// Jobs still waiting when no event was left (quota that never frees).
    pub unfinished: usize,
    /// Preemptions (a job preempted twice counts twice).
    pub preemptions: u64,
    /// Mean job completion time (finish − submit).
    pub avg_jct_s: f64,
    /// Median JCT (nearest rank).
    pub p50_jct_s: f64,
    /// 99th-percentile JCT (nearest rank).
    pub p99_jct_s: f64,
    /// Mean queueing delay (first start − submit).
    pub avg_queue_delay_s: f64,
    /// Time-weighted mean of GPUs in use over all GPUs, from the first
    /// submission to the last finish; in [0, 1].
    pub gpu_utilization: f64,
    /// From the first submission to the last finish.
    pub makespan_s: f64,
    /// Jain's index over per-job slowdowns (JCT / duration, a duration of
    /// 0 counted as 1 ms): 1 when every job is slowed alike.
    pub jain_fairness: f64,
    /// Jain's index over the queues' mean slowdowns.
    pub jain_fairness_queues: f64,
    /// GPUs in the cluster.
    pub total_gpus: u64,
}

/// Usage and delays of one trace queue.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QueueStats {
    /// The queue.
    pub queue: String,
    /// Jobs submitted to it (not skipped).
    pub jobs: usize,
    /// Of those, finished.
    pub finished: usize,
    /// Mean JCT of its finished jobs.
    pub avg_jct_s: f64,
    /// Mean time from submission to first admission (quota reserved under
    /// `kueue`/`fair`, first start otherwise) of its admitted jobs.
    pub mean_time_to_admission_s: f64,
    /// Time-weighted mean GPUs admitted to it over the makespan.
    pub mean_admitted_gpus: f64,
    /// That over the cluster's GPUs.
    pub gpu_share: f64,
    /// That over its ClusterQueue's nominal GPU quota (`kueue`/`fair`;
    /// above 1 when it borrows).
    pub nominal_usage: Option<f64>,
}

/// Jobs of one size class: total GPUs in `min_gpus..=max_gpus`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SizeClassStats {
    /// A label such as `5-8`.
    pub class: String,
    /// Smallest gang in the class, in GPUs.
    pub min_gpus: u64,
    /// Largest gang in the class, in GPUs.
    pub max_gpus: u64,
    /// Jobs in the class (not skipped).
    pub jobs: usize,
    /// Of those, admitted at least once.
    pub admitted: usize,
    /// Mean time from submission to first admission.
    pub mean_time_to_admission_s: f64,
    /// Mean JCT of its finished jobs.
    pub avg_jct_s: f64,
}

/// GPUs in use from `t_ms` until the next point.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UtilizationPoint {
    /// Simulated time, in milliseconds.
    pub t_ms: u64,
    /// GPUs in use.
    pub used_gpus: u64,
}

/// A job skipped, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    /// The job's id.
    pub id: String,
    /// Why.
    pub reason: String,
}

/// What happened to one (not skipped) job; times in milliseconds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    /// The job's id.
    pub id: String,
    /// Its queue.
    pub queue: String,
    /// GPUs of the gang.
    pub gpus: u64,
    /// Submitted.
    pub submit_ms: u64,
    /// Run time needed.
    pub duration_ms: u64,
    /// First admitted (quota under `kueue`/`fair`, else first start).
    pub admitted_ms: Option<u64>,
    /// First started on nodes.
    pub start_ms: Option<u64>,
    /// Finished.
    pub finish_ms: Option<u64>,
    /// Times preempted.
    pub preempted: u32,
}

impl Outcome {
    /// Finish − submit, if finished.
    pub fn jct_ms(&self) -> Option<u64> {
        self.finish_ms.map(|f| f - self.submit_ms)
    }
}

/// Everything a run reports.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// The headline figures.
    pub summary: Summary,
    /// Per trace queue, by name.
    pub queues: Vec<QueueStats>,
    /// Per size class, smallest first (classes with jobs only).
    pub size_classes: Vec<SizeClassStats>,
    /// Skipped jobs, in submission order.
    pub skipped: Vec<Skipped>,
    /// GPUs in use over time, one point per change.
    pub utilization: Vec<UtilizationPoint>,
    /// Every job that was not skipped, in submission order.
    pub jobs: Vec<Outcome>,
}

/// Size classes by total GPUs: (label, min, max).
const CLASSES: [(&str, u64, u64); 9] = [
    ("0", 0, 0),
    ("1", 1, 1),
    ("2", 2, 2),
    ("3-4", 3, 4),
    ("5-8", 5, 8),
    ("9-16", 9, 16),
    ("17-32", 17, 32),
    ("33-64", 33, 64),
    ("65+", 65, u64::MAX),
];

#[derive(Clone, Debug, Default)]
struct Integral {
    level: i128,
    area: u128,
    since: u64,
}

impl Integral {
    fn change(&mut self, now: u64, delta: i128) {
        self.advance(now);
        self.level += delta;
    }

    fn advance(&mut self, now: u64) {
        let span = u128::from(now.saturating_sub(self.since));
        self.area += u128::try_from(self.level).unwrap_or(0) * span;
        self.since = self.since.max(now);
    }
}

/// Collects usage over time while the simulation runs.
pub(crate) struct Recorder {
    policy: Policy,
    jobs: usize,
    total_gpus: u64,
    first_submit: u64,
    used: Integral,
    series: Vec<UtilizationPoint>,
    queues: BTreeMap<String, Integral>,
    nominal: Option<BTreeMap<String, f64>>,
    skipped: Vec<Skipped>,
    preemptions: u64,
}

impl Recorder {
    pub(crate) fn new(
        policy: Policy,
        trace: &[TraceJob],
        total_gpus: u64,
        nominal: Option<BTreeMap<String, f64>>,
    ) -> Recorder {
        let first_submit = trace.iter().map(|j| j.submit_ms).min().unwrap_or(0);
        let start = Integral {
            since: first_submit,
            ..Integral::default()
        };
        Recorder {
            policy,
            jobs: trace.len(),
            total_gpus,
            first_submit,
            used: start.clone(),
            series: vec![UtilizationPoint {
                t_ms: first_submit,
                used_gpus: 0,
            }],
            queues: trace
                .iter()
                .map(|j| (j.queue.clone(), start.clone()))
                .collect(),
            nominal,
            skipped: Vec::new(),
            preemptions: 0,
        }
    }

    pub(crate) fn running(&mut self, now: u64, delta: i128) {
        self.used.change(now, delta);
        let used_gpus = u64::try_from(self.used.level).unwrap_or(0);
        match self.series.last_mut() {
            Some(last) if last.t_ms == now => last.used_gpus = used_gpus,
            _ => self.series.push(UtilizationPoint {
                t_ms: now,
                used_gpus,
            }),
        }
    }

    pub(crate) fn admitted(&mut self, now: u64, queue: &str, delta: i128) {
        if let Some(q) = self.queues.get_mut(queue) {
            q.change(now, delta);
        }
    }

    pub(crate) fn skip(&mut self, id: &str, reason: String) {
        self.skipped.push(Skipped {
            id: id.to_owned(),
            reason,
        });
    }

    pub(crate) fn preemption(&mut self) {
        self.preemptions += 1;
    }

    pub(crate) fn finish(mut self, jobs: Vec<Outcome>) -> Report {
        let end = jobs
            .iter()
            .filter_map(|o| o.finish_ms)
            .max()
            .unwrap_or(self.first_submit)
            .max(self.first_submit);
        let span = end - self.first_submit;
        self.used.advance(end);
        let finished: Vec<&Outcome> = jobs.iter().filter(|o| o.finish_ms.is_some()).collect();
        let mut jct: Vec<u64> = finished.iter().filter_map(|o| o.jct_ms()).collect();
        jct.sort_unstable();
        let delays = finished
            .iter()
            .filter_map(|o| o.start_ms.map(|s| s - o.submit_ms));
        let slowdown = |o: &Outcome| o.jct_ms().unwrap_or(0) as f64 / o.duration_ms.max(1) as f64;
        let mut queues = Vec::new();
        let mut queue_slowdowns = Vec::new();
        for (name, mut usage) in std::mem::take(&mut self.queues) {
            usage.advance(end);
            let of_queue: Vec<&Outcome> = jobs.iter().filter(|o| o.queue == name).collect();
            let done: Vec<&Outcome> = of_queue
                .iter()
                .copied()
                .filter(|o| o.finish_ms.is_some())
                .collect();
            if !done.is_empty() {
                queue_slowdowns.push(mean(done.iter().map(|o| slowdown(o))));
            }
            let mean_gpus = ratio(usage.area, u128::from(span));
            queues.push(QueueStats {
                jobs: of_queue.len(),
                finished: done.len(),
                avg_jct_s: mean_ms(done.iter().filter_map(|o| o.jct_ms())),
                mean_time_to_admission_s: mean_ms(
                    of_queue
                        .iter()
                        .filter_map(|o| o.admitted_ms.map(|a| a - o.submit_ms)),
                ),
                mean_admitted_gpus: mean_gpus,
                gpu_share: if self.total_gpus == 0 {
                    0.0
                } else {
                    mean_gpus / self.total_gpus as f64
                },
                nominal_usage: self
                    .nominal
                    .as_ref()
                    .and_then(|n| n.get(&name))
                    .filter(|&&n| n > 0.0)
                    .map(|n| mean_gpus / n),
                queue: name,
            });
        }
        let size_classes = CLASSES
            .iter()
            .filter_map(|&(class, lo, hi)| {
                let of_class: Vec<&Outcome> = jobs
                    .iter()
                    .filter(|o| (lo..=hi).contains(&o.gpus))
                    .collect();
                (!of_class.is_empty()).then(|| SizeClassStats {
                    class: class.to_owned(),
                    min_gpus: lo,
                    max_gpus: hi,
                    jobs: of_class.len(),
                    admitted: of_class.iter().filter(|o| o.admitted_ms.is_some()).count(),
                    mean_time_to_admission_s: mean_ms(
                        of_class
                            .iter()
                            .filter_map(|o| o.admitted_ms.map(|a| a - o.submit_ms)),
                    ),
                    avg_jct_s: mean_ms(of_class.iter().filter_map(|o| o.jct_ms())),
                })
            })
            .collect();
        let summary = Summary {
            policy: self.policy,
            jobs: self.jobs,
            finished: finished.len(),
            skipped: self.skipped.len(),
            unfinished: jobs.len() - finished.len(),
            preemptions: self.preemptions,
            avg_jct_s: mean_ms(jct.iter().copied()),
            p50_jct_s: percentile_s(&jct, 50),
            p99_jct_s: percentile_s(&jct, 99),
            avg_queue_delay_s: mean_ms(delays),
            gpu_utilization: ratio(
                self.used.area,
                u128::from(self.total_gpus) * u128::from(span),
            ),
            makespan_s: span as f64 / 1000.0,
            jain_fairness: jain(&finished.iter().map(|o| slowdown(o)).collect::<Vec<_>>()),
            jain_fairness_queues: jain(&queue_slowdowns),
            total_gpus: self.total_gpus,
        };
        Report {
            summary,
            queues,
            size_classes,
            skipped: self.skipped,
            utilization: self.series,
            jobs,
        }
    }
}

/// `a / b`, 0 when `b` is 0.
fn ratio(a: u128, b: u128) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

fn mean(values: impl Iterator<Item = f64>) -> f64 {
    let (sum, n) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    if n == 0 { 0.0 } else { sum / n as f64 }
}

/// Mean of millisecond values, in seconds, summed exactly first.
fn mean_ms(values: impl Iterator<Item = u64>) -> f64 {
    let (sum, n) = values.fold((0u128, 0u128), |(s, n), v| (s + u128::from(v), n + 1));
    ratio(sum, n) / 1000.0
}

/// Nearest-rank percentile of sorted milliseconds, in seconds.
fn percentile_s(sorted: &[u64], p: usize) -> f64 {
    let n = sorted.len();
    if n == 0 {
        return 0.0;
    }
    let rank = (p * n).div_ceil(100).max(1);
    sorted[rank - 1] as f64 / 1000.0
}

/// Jain's fairness index (Σx)² / (n·Σx²); 1 for no values or all zero.
fn jain(values: &[f64]) -> f64 {
    let sum: f64 = values.iter().sum();
    let squares: f64 = values.iter().map(|v| v * v).sum();
    if values.is_empty() || squares == 0.0 {
        1.0
    } else {
        sum * sum / (values.len() as f64 * squares)
    }
}
