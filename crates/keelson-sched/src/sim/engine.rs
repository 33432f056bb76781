//! The discrete-event loop: events ordered by (time, sequence), one
//! scheduling pass after all events of an instant, gangs bound to a
//! [`Cluster`].

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap};
use std::ops::Bound;

use super::cluster_spec::{NodeSpec, pod_resources};
use super::metrics::{Outcome, Recorder, Report};
use super::policy::{Options, Policy};
use super::queues::{self, QueueSetup};
use super::trace::TraceJob;
use crate::admission::Scheduler;
use crate::decision::Decision;
use crate::placement::{Cluster, Placement, Strategy};
use crate::workload::{PodSet, Workload};
use crate::{Error, Result};

/// Largest simulated time: the latest submission plus every duration must
/// stay below it, so no clock arithmetic can overflow.
const MAX_TIME_MS: u64 = u64::MAX / 4;

/// Per-pod or per-node amounts: GPUs, CPU milli, memory MiB.
type Amounts = [u64; 3];

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Event {
    Arrive(usize),
    Finish(usize, u32),
    Demote(usize, u32),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Status {
    NotArrived,
    Pending,
    /// Admitted by quota (`kueue`/`fair`), waiting for nodes.
    Admitted,
    Running,
    Done,
    Skipped,
}

#[derive(Clone, Debug)]
struct JobState {
    status: Status,
    req: Amounts,
    gpus: u64,
    remaining_ms: u64,
    attained_gpu_ms: u128,
    run_start: u64,
    end: u64,
    first_start: Option<u64>,
    admitted_at: Option<u64>,
    finished_at: Option<u64>,
    epoch: u32,
    level: usize,
    admit_seq: u64,
    preempted: u32,
    nodes: Vec<(usize, u32)>,
    workload: Option<Workload>,
    /// `kueue`/`fair`: the value of `Simulator::releases` when the
    /// admitted job last failed to find nodes. Nodes only fill up until
    /// the next release, so it cannot fit before then.
    unplaced_at: Option<u64>,
}

/// Admission state of the `kueue` and `fair` policies.
struct Kueue {
    sched: Scheduler,
    by_name: BTreeMap<String, usize>,
    to_place: BTreeSet<(u64, usize)>,
    next_seq: u64,
}

/// A simulation in progress: replays a trace on a cluster under a policy.
///
/// [`Simulator::step`] advances to the next instant with events (arrivals,
/// completions, LAS demotions), handles them all, then runs one
/// scheduling pass; [`Simulator::run`] steps to the end and reports.
/// Everything is integer milliseconds and ordered collections, so the
/// same inputs always give the same report.
///
/// ```
/// use keelson_sched::sim::{parse_cluster, parse_trace, Options, Policy, Simulator};
///
/// let cluster = parse_cluster("c.csv", "node,gpus,cpu_milli,memory_mib,gpu_model,zone,block,rack\n\
///     n1,8,64000,524288,H100,z,b,r\n")?;
/// let trace = parse_trace("t.csv", "id,submit_s,duration_s,pods,gpus_per_pod,cpu_milli_per_pod,memory_mib_per_pod,queue,priority\n\
///     big,0,100,1,8,1000,1024,q,0\n\
///     small,1,10,1,1,1000,1024,q,0\n\
///     huge,2,10,2,8,1000,1024,q,0\n")?;
/// let report = Simulator::new(trace, &cluster, Options::new(Policy::Fifo))?.run()?;
/// // `small` waits behind `big`; `huge` needs 16 GPUs and is skipped.
/// assert_eq!(report.summary.finished, 2);
/// assert_eq!(report.skipped[0].id, "huge");
/// assert_eq!(report.summary.makespan_s, 110.0);
/// # Ok::<(), keelson_sched::Error>(())
/// ```
pub struct Simulator {
    options: Options,
    specs: Vec<TraceJob>,
    jobs: Vec<JobState>,
    cluster: Cluster,
    node_ids: BTreeMap<String, usize>,
    capacity: Vec<Amounts>,
    free: Vec<Amounts>,
    free_total: Amounts,
    gpu_hist: BTreeMap<u64, u64>,
    events: BinaryHeap<Reverse<(u64, u64, Event)>>,
    seq: u64,
    now: u64,
    /// `fifo`/`backfill`: waiting jobs by arrival order.
    queue: BTreeSet<usize>,
    /// `las`: waiting and running jobs by (LAS queue, arrival order).
    las_pending: BTreeSet<(usize, usize)>,
    las_running: BTreeSet<(usize, usize)>,
    /// `las`: GPUs of waiting jobs, to stop a pass early.
    pending_gpus: BTreeMap<u64, usize>,
    running_by_end: BTreeSet<(u64, usize)>,
    kueue: Option<Kueue>,
    fit_cache: BTreeMap<(u32, Amounts), bool>,
    /// How many times a job has given nodes back.
    releases: u64,
    recorder: Recorder,
}

impl Simulator {
    /// Prepares a simulation of `trace` on the nodes of `cluster`. Jobs are
    /// taken in submission order (ties in trace order). Errors name the
    /// item: an invalid node or option, a queue setup the admission
    /// [`Scheduler`] refuses, or times so large the clock could overflow.
    pub fn new(mut trace: Vec<TraceJob>, cluster: &[NodeSpec], options: Options) -> Result<Self> {
        options.validate()?;
        let total_ms = trace
            .iter()
            .try_fold(0u64, |acc, j| acc.checked_add(j.duration_ms))
            .and_then(|d| d.checked_add(trace.iter().map(|j| j.submit_ms).max().unwrap_or(0)));
        if total_ms.is_none_or(|t| t > MAX_TIME_MS) {
            return Err(Error::invalid(
                "trace",
                "latest submission plus all durations overflows the simulated clock",
            ));
        }
        trace.sort_by_key(|j| j.submit_ms);
        let nodes = cluster
            .iter()
            .map(NodeSpec::to_node)
            .collect::<Result<Vec<_>>>()?;
        let cluster_state = Cluster::new(nodes)?;
        let mut specs_by_name: Vec<&NodeSpec> = cluster.iter().collect();
        specs_by_name.sort_by(|a, b| a.node.cmp(&b.node));
        let capacity: Vec<Amounts> = specs_by_name
            .iter()
            .map(|n| [u64::from(n.gpus), n.cpu_milli, n.memory_mib])
            .collect();
        let node_ids = specs_by_name
            .iter()
            .enumerate()
            .map(|(i, n)| (n.node.clone(), i))
            .collect();
        let mut free_total = [0u64; 3];
        let mut gpu_hist = BTreeMap::new();
        for c in &capacity {
            for (t, v) in free_total.iter_mut().zip(c) {
                *t = t.saturating_add(*v);
            }
            *gpu_hist.entry(c[0]).or_insert(0) += 1;
        }
        let setup = match options.policy {
            Policy::Kueue | Policy::Fair => Some(queues::setup_for(
                options.policy,
                options.queues.clone(),
                &trace,
                free_total,
            )?),
            _ => None,
        };
        let recorder = Recorder::new(
            options.policy,
            &trace,
            free_total[0],
            setup.as_ref().map(QueueSetup::nominal_gpus),
        );
        let kueue = match setup {
            Some(s) => Some(Kueue {
                sched: Scheduler::new(s.setup)?,
                by_name: BTreeMap::new(),
                to_place: BTreeSet::new(),
                next_seq: 0,
            }),
            None => None,
        };
        let jobs = trace
            .iter()
            .map(|t| JobState {
                status: Status::NotArrived,
                req: [
                    u64::from(t.gpus_per_pod),
                    t.cpu_milli_per_pod,
                    t.memory_mib_per_pod,
                ],
                gpus: t.gpus(),
                remaining_ms: t.duration_ms,
                attained_gpu_ms: 0,
                run_start: 0,
                end: 0,
                first_start: None,
                admitted_at: None,
                finished_at: None,
                epoch: 0,
                level: 0,
                admit_seq: 0,
                preempted: 0,
                nodes: Vec::new(),
                workload: None,
                unplaced_at: None,
            })
            .collect();
        let mut sim = Simulator {
            free: capacity.clone(),
            capacity,
            options,
            jobs,
            cluster: cluster_state,
            node_ids,
            free_total,
            gpu_hist,
            events: BinaryHeap::new(),
            seq: 0,
            now: trace.first().map_or(0, |j| j.submit_ms),
            queue: BTreeSet::new(),
            las_pending: BTreeSet::new(),
            las_running: BTreeSet::new(),
            pending_gpus: BTreeMap::new(),
            running_by_end: BTreeSet::new(),
            kueue,
            fit_cache: BTreeMap::new(),
            releases: 0,
            recorder,
            specs: Vec::new(),
        };
        for (i, j) in trace.iter().enumerate() {
            sim.push(j.submit_ms, Event::Arrive(i));
        }
        sim.specs = trace;
        Ok(sim)
    }

    /// The simulated time of the last instant handled, in milliseconds.
    pub fn now(&self) -> u64 {
        self.now
    }

    /// The cluster as it is now: nodes, what is free, bound placements.
    pub fn cluster(&self) -> &Cluster {
        &self.cluster
    }

    /// Handles every event of the next instant with events and runs one
    /// scheduling pass; returns that instant, or `None` when no event is
    /// left (the simulation is over).
    pub fn step(&mut self) -> Result<Option<u64>> {
        let Some(&Reverse((t, _, _))) = self.events.peek() else {
            return Ok(None);
        };
        self.now = t;
        while let Some(&Reverse((at, _, event))) = self.events.peek() {
            if at != t {
                break;
            }
            self.events.pop();
            self.handle(event)?;
        }
        match self.options.policy {
            Policy::Fifo => self.fifo_pass()?,
            Policy::Backfill => {
                self.fifo_pass()?;
                self.backfill_pass()?;
            }
            Policy::Las => self.las_pass()?,
            Policy::Kueue | Policy::Fair => self.kueue_pass()?,
        }
        Ok(Some(t))
    }

    /// Runs to the end and reports. Jobs still waiting then (for quota
    /// that never frees) are counted as unfinished.
    pub fn run(mut self) -> Result<Report> {
        while self.step()?.is_some() {}
        Ok(self.report())
    }

    fn push(&mut self, at: u64, event: Event) {
        self.seq += 1;
        self.events.push(Reverse((at, self.seq, event)));
    }

    fn handle(&mut self, event: Event) -> Result<()> {
        match event {
            Event::Arrive(j) => self.arrive(j),
            Event::Finish(j, epoch) => {
                if self.jobs[j].epoch == epoch && self.jobs[j].status == Status::Running {
                    self.stop(j)?;
                    self.jobs[j].status = Status::Done;
                    self.jobs[j].finished_at = Some(self.now);
                    self.jobs[j].workload = None;
                    if let Some(k) = &mut self.kueue {
                        k.sched.finish(&kueue_name(&self.specs[j].id))?;
                    }
                    self.unadmit(j);
                }
                Ok(())
            }
            Event::Demote(j, epoch) => {
                if self.jobs[j].epoch == epoch && self.jobs[j].status == Status::Running {
                    self.settle(j);
                    let old = (self.jobs[j].level, j);
                    self.las_running.remove(&old);
                    self.jobs[j].level = self.level_of(self.jobs[j].attained_gpu_ms);
                    self.las_running.insert((self.jobs[j].level, j));
                    self.schedule_demotion(j);
                }
                Ok(())
            }
        }
    }

    fn arrive(&mut self, j: usize) -> Result<()> {
        let fits = self.fits_empty(j);
        let spec = &self.specs[j];
        if !fits {
            let why = format!(
                "{} pods of {} GPUs, {} CPU milli, {} MiB fit on no empty cluster",
                spec.pods, spec.gpus_per_pod, spec.cpu_milli_per_pod, spec.memory_mib_per_pod
            );
            self.skip(j, why);
            return Ok(());
        }
        let requests = pod_resources(
            u64::from(spec.gpus_per_pod),
            spec.cpu_milli_per_pod,
            spec.memory_mib_per_pod,
        )?;
        let workload = Workload::new(
            spec.id.clone(),
            spec.queue.clone(),
            vec![PodSet::new("worker", spec.pods, requests)],
        )?
        .with_priority(spec.priority)
        .with_created(spec.submit_ms);
        if let Some(k) = &mut self.kueue {
            let mut queued = workload.clone();
            queued.name = kueue_name(&spec.id);
            if let Err(e) = k.sched.submit(queued.clone()) {
                self.skip(j, e.to_string());
                return Ok(());
            }
            k.by_name.insert(queued.name, j);
        }
        self.jobs[j].workload = Some(workload);
        self.jobs[j].status = Status::Pending;
        self.enqueue(j);
        Ok(())
    }

    fn skip(&mut self, j: usize, reason: String) {
        self.jobs[j].status = Status::Skipped;
        self.recorder.skip(&self.specs[j].id, reason);
    }

    /// Puts a waiting job into its policy's queue.
    fn enqueue(&mut self, j: usize) {
        match self.options.policy {
            Policy::Fifo | Policy::Backfill => {
                self.queue.insert(j);
            }
            Policy::Las => {
                self.las_pending.insert((self.jobs[j].level, j));
                *self.pending_gpus.entry(self.jobs[j].gpus).or_insert(0) += 1;
            }
            Policy::Kueue | Policy::Fair => {}
        }
    }

    fn dequeue(&mut self, j: usize) {
        match self.options.policy {
            Policy::Fifo | Policy::Backfill => {
                self.queue.remove(&j);
            }
            Policy::Las => {
                self.las_pending.remove(&(self.jobs[j].level, j));
                let g = self.jobs[j].gpus;
                if let Some(n) = self.pending_gpus.get_mut(&g) {
                    *n -= 1;
                    if *n == 0 {
                        self.pending_gpus.remove(&g);
                    }
                }
            }
            Policy::Kueue | Policy::Fair => {}
        }
    }

    /// Whether the job fits the cluster with every node free: each node
    /// holds as many of its identical pods as its scarcest resource allows.
    fn fits_empty(&mut self, j: usize) -> bool {
        let key = (self.specs[j].pods, self.jobs[j].req);
        if let Some(&fits) = self.fit_cache.get(&key) {
            return fits;
        }
        let need = u64::from(key.0);
        let mut room = 0u64;
        for c in &self.capacity {
            room = room.saturating_add(pods_fit(c, &key.1));
            if room >= need {
                break;
            }
        }
        self.fit_cache.insert(key, room >= need);
        room >= need
    }

    /// Where the job's gang goes now, if it fits: a cheap count of GPU room
    /// by free-GPU histogram first (exact when GPUs are what binds), then
    /// the cluster's bin-packing placement.
    fn fits_now(&self, j: usize) -> Option<Placement> {
        let job = &self.jobs[j];
        let pods = u64::from(self.specs[j].pods);
        let g = job.req[0];
        for (r, free) in job.req.iter().zip(&self.free_total) {
            if r.saturating_mul(pods) > *free {
                return None;
            }
        }
        if g > 0 {
            let mut room = 0u64;
            for (&k, &count) in self.gpu_hist.range(g..).rev() {
                room = room.saturating_add((k / g).saturating_mul(count));
                if room >= pods {
                    break;
                }
            }
            if room < pods {
                return None;
            }
        }
        // The exact test for the simulator's gangs (one pod set, no
        // selector, taint or topology, so placement fills every node to
        // its last pod): a failing `place` walks every node's quantities
        // to explain itself, which this integer count avoids.
        let mut room = 0u64;
        for free in &self.free {
            room = room.saturating_add(pods_fit(free, &job.req));
            if room >= pods {
                break;
            }
        }
        if room < pods {
            return None;
        }
        let workload = job.workload.as_ref()?;
        self.cluster.place(workload, Strategy::BinPack).ok()
    }

    fn start(&mut self, j: usize, placement: Placement) -> Result<()> {
        let mut nodes = Vec::new();
        for ps in &placement.pod_sets {
            for (name, &count) in &ps.nodes {
                let &n = self
                    .node_ids
                    .get(name)
                    .ok_or_else(|| Error::invalid(format!("node {name}"), "not in the cluster"))?;
                nodes.push((n, count));
            }
        }
        self.cluster.bind(placement)?;
        let req = self.jobs[j].req;
        for &(n, count) in &nodes {
            let take = req.map(|r| r * u64::from(count));
            self.set_free(n, sub(&self.free[n], &take));
        }
        let now = self.now;
        let job = &mut self.jobs[j];
        job.nodes = nodes;
        job.status = Status::Running;
        job.run_start = now;
        job.end = now + job.remaining_ms;
        job.first_start.get_or_insert(now);
        let (end, epoch, gpus) = (job.end, job.epoch, job.gpus);
        self.running_by_end.insert((end, j));
        self.push(end, Event::Finish(j, epoch));
        if self.options.policy == Policy::Las {
            self.las_running.insert((self.jobs[j].level, j));
            self.schedule_demotion(j);
        }
        self.recorder.running(now, gpus as i128);
        if self.kueue.is_none() {
            self.admit(j);
        }
        Ok(())
    }

    /// Takes a running job off its nodes, keeping the service it got.
    fn stop(&mut self, j: usize) -> Result<()> {
        self.settle(j);
        self.cluster.release(&self.specs[j].id)?;
        self.releases += 1;
        let req = self.jobs[j].req;
        for (n, count) in std::mem::take(&mut self.jobs[j].nodes) {
            let back = req.map(|r| r * u64::from(count));
            self.set_free(n, add(&self.free[n], &back));
        }
        let job = &mut self.jobs[j];
        job.epoch += 1;
        let (end, level, gpus) = (job.end, job.level, job.gpus);
        self.running_by_end.remove(&(end, j));
        self.las_running.remove(&(level, j));
        self.recorder.running(self.now, -(gpus as i128));
        Ok(())
    }

    /// Preempts a running job (or, under Kueue, an admitted one waiting for
    /// nodes): it waits again with the service it already got. (The
    /// admission [`Scheduler`] has already released the quota of the
    /// victims it names.)
    fn preempt(&mut self, j: usize) -> Result<()> {
        match self.jobs[j].status {
            Status::Running => self.stop(j)?,
            Status::Admitted => {
                if let Some(k) = &mut self.kueue {
                    k.to_place.remove(&(self.jobs[j].admit_seq, j));
                }
            }
            _ => return Ok(()),
        }
        self.unadmit(j);
        self.jobs[j].status = Status::Pending;
        self.jobs[j].preempted += 1;
        self.recorder.preemption();
        self.enqueue(j);
        Ok(())
    }

    fn admit(&mut self, j: usize) {
        let job = &mut self.jobs[j];
        job.admitted_at.get_or_insert(self.now);
        self.recorder
            .admitted(self.now, &self.specs[j].queue, job.gpus as i128);
    }

    fn unadmit(&mut self, j: usize) {
        self.recorder
            .admitted(self.now, &self.specs[j].queue, -(self.jobs[j].gpus as i128));
    }

    /// Brings a running job's attained service and remaining time up to now.
    fn settle(&mut self, j: usize) {
        let now = self.now;
        let job = &mut self.jobs[j];
        let ran = now - job.run_start;
        job.attained_gpu_ms += u128::from(job.gpus) * u128::from(ran);
        job.remaining_ms -= ran;
        job.run_start = now;
    }

    fn level_of(&self, attained_gpu_ms: u128) -> usize {
        self.options
            .las
            .thresholds_gpu_s
            .iter()
            .take_while(|&&t| u128::from(t) * 1000 <= attained_gpu_ms)
            .count()
    }

    /// Schedules the running job's next demotion: the first quantum
    /// boundary at or after its attained service reaches the next
    /// threshold, if that comes before it finishes.
    fn schedule_demotion(&mut self, j: usize) {
        let job = &self.jobs[j];
        let Some(&next) = self.options.las.thresholds_gpu_s.get(job.level) else {
            return;
        };
        if job.gpus == 0 {
            return;
        }
        let short = (u128::from(next) * 1000).saturating_sub(job.attained_gpu_ms);
        let gpus = u128::from(job.gpus);
        let crossing = u128::from(job.run_start) + short.div_ceil(gpus);
        let q = u128::from(self.options.las.quantum_ms);
        let at = crossing.div_ceil(q) * q;
        if at < u128::from(job.end) {
            let (at, epoch) = (at as u64, job.epoch);
            self.push(at, Event::Demote(j, epoch));
        }
    }

    fn set_free(&mut self, n: usize, free: Amounts) {
        let old = self.free[n][0];
        if let Some(c) = self.gpu_hist.get_mut(&old) {
            *c -= 1;
            if *c == 0 {
                self.gpu_hist.remove(&old);
            }
        }
        *self.gpu_hist.entry(free[0]).or_insert(0) += 1;
        for ((total, old), new) in self.free_total.iter_mut().zip(&self.free[n]).zip(&free) {
            *total = *total - old + new;
        }
        self.free[n] = free;
    }

    fn fifo_pass(&mut self) -> Result<()> {
        while let Some(&head) = self.queue.first() {
            let Some(p) = self.fits_now(head) else { break };
            self.dequeue(head);
            self.start(head, p)?;
        }
        Ok(())
    }

    /// EASY backfilling behind a blocked head (the FIFO pass ran first).
    fn backfill_pass(&mut self) -> Result<()> {
        let Some(&head) = self.queue.first() else {
            return Ok(());
        };
        let head_req = self.jobs[head].req;
        let head_pods = u64::from(self.specs[head].pods);
        let mut shadow_free = self.free.clone();
        let mut room: u64 = shadow_free
            .iter()
            .map(|f| pods_fit(f, &head_req))
            .fold(0, u64::saturating_add);
        let mut shadow = self.now;
        for &(end, r) in &self.running_by_end {
            if room >= head_pods {
                break;
            }
            let req = self.jobs[r].req;
            for &(n, count) in &self.jobs[r].nodes {
                let before = pods_fit(&shadow_free[n], &head_req);
                shadow_free[n] = add(&shadow_free[n], &req.map(|x| x * u64::from(count)));
                room = room.saturating_add(pods_fit(&shadow_free[n], &head_req) - before);
            }
            shadow = end;
        }
        let candidates: Vec<usize> = self
            .queue
            .iter()
            .skip(1)
            .take(self.options.backfill_window)
            .copied()
            .collect();
        for c in candidates {
            if self.free_total[0] < self.jobs[c].gpus {
                continue;
            }
            let Some(p) = self.fits_now(c) else { continue };
            if self.now + self.jobs[c].remaining_ms > shadow {
                let req = self.jobs[c].req;
                let mut trial = Vec::new();
                let mut lost = 0u64;
                for ps in &p.pod_sets {
                    for (name, &count) in &ps.nodes {
                        let Some(&n) = self.node_ids.get(name) else {
                            continue;
                        };
                        let after = sub(&shadow_free[n], &req.map(|x| x * u64::from(count)));
                        lost += pods_fit(&shadow_free[n], &head_req) - pods_fit(&after, &head_req);
                        trial.push((n, after));
                    }
                }
                if room.saturating_sub(lost) < head_pods {
                    continue;
                }
                room -= lost;
                for (n, after) in trial {
                    shadow_free[n] = after;
                }
            }
            self.dequeue(c);
            self.start(c, p)?;
        }
        Ok(())
    }

    fn las_pass(&mut self) -> Result<()> {
        let mut cursor: Option<(usize, usize)> = None;
        loop {
            let next = match cursor {
                None => self.las_pending.first(),
                Some(k) => self
                    .las_pending
                    .range((Bound::Excluded(k), Bound::Unbounded))
                    .next(),
            };
            let Some(&key) = next else { break };
            cursor = Some(key);
            let victims = self.las_running.last().is_some_and(|r| r.0 > key.0);
            let smallest = self.pending_gpus.first_key_value().map_or(0, |(g, _)| *g);
            if !victims && smallest > self.free_total[0] {
                break;
            }
            let j = key.1;
            let mut placement = self.fits_now(j);
            if placement.is_none() && victims && self.las_preempt_for(j)? {
                placement = self.fits_now(j);
            }
            if let Some(p) = placement {
                self.dequeue(j);
                self.start(j, p)?;
            }
        }
        Ok(())
    }

    /// Preempts running jobs of lower LAS queues (lowest queue, latest
    /// arrival first) until `j` fits, keeping only the victims needed;
    /// preempts nothing and returns false if even all of them are not
    /// enough.
    fn las_preempt_for(&mut self, j: usize) -> Result<bool> {
        let level = self.jobs[j].level;
        let req = self.jobs[j].req;
        let need = u64::from(self.specs[j].pods);
        let eligible: Vec<usize> = self
            .las_running
            .iter()
            .rev()
            .take_while(|r| r.0 > level)
            .map(|r| r.1)
            .collect();
        let reachable = eligible
            .iter()
            .map(|&v| self.jobs[v].gpus)
            .fold(self.free_total[0], u64::saturating_add);
        if reachable < self.jobs[j].gpus {
            return Ok(false);
        }
        let mut freed: BTreeMap<usize, Amounts> = BTreeMap::new();
        let mut room: u64 = self
            .free
            .iter()
            .map(|f| pods_fit(f, &req))
            .fold(0, u64::saturating_add);
        let mut chosen = Vec::new();
        for &v in &eligible {
            if room >= need {
                break;
            }
            room = self.shift(v, &mut freed, room, &req, true);
            chosen.push(v);
        }
        if room < need {
            return Ok(false);
        }
        // The last victim taken was needed; of the others, give back
        // those the job does not need, latest taken first.
        let mut keep: Vec<usize> = chosen.pop().into_iter().collect();
        while let Some(v) = chosen.pop() {
            let without = self.shift(v, &mut freed, room, &req, false);
            if without >= need {
                room = without;
            } else {
                room = self.shift(v, &mut freed, without, &req, true);
                keep.push(v);
            }
        }
        for v in keep {
            self.preempt(v)?;
        }
        Ok(true)
    }

    /// Adds (or takes back) what victim `v` would free to `freed`, and
    /// returns the new count of `req` pods that fit.
    fn shift(
        &self,
        v: usize,
        freed: &mut BTreeMap<usize, Amounts>,
        mut room: u64,
        req: &Amounts,
        release: bool,
    ) -> u64 {
        let vreq = self.jobs[v].req;
        for &(n, count) in &self.jobs[v].nodes {
            let extra = freed.entry(n).or_insert([0; 3]);
            let before = pods_fit(&add(&self.free[n], extra), req);
            let delta = vreq.map(|x| x * u64::from(count));
            *extra = if release {
                add(extra, &delta)
            } else {
                sub(extra, &delta)
            };
            let after = pods_fit(&add(&self.free[n], extra), req);
            room = room.saturating_add(after).saturating_sub(before);
        }
        room
    }

    fn kueue_pass(&mut self) -> Result<()> {
        let Some(k) = &mut self.kueue else {
            return Ok(());
        };
        let mut admitted = Vec::new();
        // A settled scheduler's cycle would admit nothing: skip it.
        let decisions = if k.sched.settled() {
            Vec::new()
        } else {
            k.sched.cycle_admissions()
        };
        for d in decisions {
            if let Decision::Admitted(a) = d {
                let victims: Vec<usize> = a
                    .preempted
                    .iter()
                    .filter_map(|v| k.by_name.get(v).copied())
                    .collect();
                if let Some(&j) = k.by_name.get(&a.workload) {
                    admitted.push((victims, j));
                }
            }
        }
        for (victims, j) in admitted {
            for v in victims {
                self.preempt(v)?;
            }
            if let Some(k) = &mut self.kueue {
                k.next_seq += 1;
                self.jobs[j].admit_seq = k.next_seq;
                k.to_place.insert((k.next_seq, j));
            }
            self.jobs[j].status = Status::Admitted;
            self.admit(j);
        }
        let waiting: Vec<(u64, usize)> = self
            .kueue
            .as_ref()
            .map(|k| k.to_place.iter().copied().collect())
            .unwrap_or_default();
        for (seq, j) in waiting {
            if self.jobs[j].unplaced_at == Some(self.releases) {
                continue;
            }
            if let Some(p) = self.fits_now(j) {
                if let Some(k) = &mut self.kueue {
                    k.to_place.remove(&(seq, j));
                }
                self.start(j, p)?;
            } else {
                self.jobs[j].unplaced_at = Some(self.releases);
            }
        }
        Ok(())
    }

    fn report(self) -> Report {
        let outcomes = self
            .specs
            .iter()
            .zip(&self.jobs)
            .filter(|(_, s)| s.status != Status::Skipped)
            .map(|(spec, s)| Outcome {
                id: spec.id.clone(),
                queue: spec.queue.clone(),
                gpus: s.gpus,
                submit_ms: spec.submit_ms,
                duration_ms: spec.duration_ms,
                admitted_ms: s.admitted_at,
                start_ms: s.first_start,
                finish_ms: s.finished_at,
                preempted: s.preempted,
            })
            .collect();
        self.recorder.finish(outcomes)
    }
}

/// The Scheduler's name for a job: LocalQueues live in namespace `default`.
fn kueue_name(id: &str) -> String {
    format!("default/{id}")
}

/// How many pods asking `req` fit in `free` (unbounded for an empty request).
fn pods_fit(free: &Amounts, req: &Amounts) -> u64 {
    free.iter()
        .zip(req)
        .filter(|(_, r)| **r > 0)
        .map(|(f, r)| f / r)
        .min()
        .unwrap_or(u64::MAX)
}

fn add(a: &Amounts, b: &Amounts) -> Amounts {
    [
        a[0].saturating_add(b[0]),
        a[1].saturating_add(b[1]),
        a[2].saturating_add(b[2]),
    ]
}

fn sub(a: &Amounts, b: &Amounts) -> Amounts {
    [
        a[0].saturating_sub(b[0]),
        a[1].saturating_sub(b[1]),
        a[2].saturating_sub(b[2]),
    ]
}
