//! Choosing preemption victims, as Kueue's classic and fair-sharing
//! preemption (<https://kueue.sigs.k8s.io/docs/concepts/preemption/>).
//!
//! Candidates are admitted workloads that use quota the preemptor needs
//! and that its queue's policies allow it to preempt: in its own queue by
//! `withinClusterQueue`; in other queues of the cohort tree that are
//! borrowing by `reclaimWithinCohort` (or `borrowWithinCohort` when the
//! preemptor itself must borrow). Victims are taken greedily in order —
//! other queues' first, lowest priority, most recently admitted — until
//! the preemptor fits, then the set is minimised by trying to give each
//! victim back, last taken first.

use std::cmp::Reverse;
use std::collections::BTreeSet;

use crate::admission::{PreemptionStrategy, Scheduler};
use crate::cluster_queue::{BorrowWithinCohortPolicy, ReclaimWithinCohort, WithinClusterQueue};

/// How many failing usage shapes one fair-sharing scan remembers: the
/// lookup is a linear search, so a short list.
const FAILED_SHAPES: usize = 32;

#[derive(Clone, Copy, Debug)]
struct Candidate {
    id: usize,
    cq: usize,
    priority: i32,
    /// Admission sequence number: later admissions are preempted first.
    seq: Reverse<u64>,
    own: bool,
    reclaim: bool,
    borrow: bool,
}

impl Scheduler {
    /// The workloads to evict so that workload `id` fits with `need`
    /// (by (flavor, resource)) in queue `cq`, or `None`. The quota state
    /// is unchanged on return.
    pub(crate) fn find_victims(
        &mut self,
        cq: usize,
        id: usize,
        need: &[(usize, i128)],
    ) -> Option<Vec<usize>> {
        let candidates = self.candidates(cq, id, need)?;
        if self.strategies.is_some() {
            return self.fair_victims(cq, need, &candidates);
        }
        let own: Vec<Candidate> = candidates.iter().copied().filter(|c| c.own).collect();
        if own.len() == candidates.len() {
            return self.greedy(cq, need, &own, true);
        }
        let borrow_policy = self.queues[cq].spec.preemption.borrow_within_cohort.policy;
        if borrow_policy != BorrowWithinCohortPolicy::Never {
            let list: Vec<Candidate> = candidates
                .iter()
                .copied()
                .filter(|c| c.own || c.borrow)
                .collect();
            if let Some(v) = self.greedy(cq, need, &list, true) {
                return Some(v);
            }
        }
        let list: Vec<Candidate> = candidates
            .iter()
            .copied()
            .filter(|c| c.own || c.reclaim)
            .collect();
        self.greedy(cq, need, &list, false)
            .or_else(|| self.greedy(cq, need, &own, true))
    }

    /// Candidates in preemption order.
    fn candidates(&self, cq: usize, id: usize, need: &[(usize, i128)]) -> Option<Vec<Candidate>> {
        let pre = self.entry(id)?;
        let (p, created) = (pre.wl.priority, pre.wl.created);
        let policy = self.queues[cq].spec.preemption;
        let touches = |v: usize| {
            self.entry(v).is_some_and(|e| {
                e.admitted.as_ref().is_some_and(|a| {
                    a.cycle != self.cycle_no
                        && a.usage
                            .iter()
                            .any(|(fr, _)| need.iter().any(|(n, _)| n == fr))
                })
            })
        };
        let mut out = Vec::new();
        if policy.within_cluster_queue != WithinClusterQueue::Never {
            for key in &self.queues[cq].admitted {
                if key.priority > p {
                    break;
                }
                let newer = self.entry(key.id).is_some_and(|e| e.wl.created > created);
                let allowed = key.priority < p
                    || (policy.within_cluster_queue
                        == WithinClusterQueue::LowerOrNewerEqualPriority
                        && newer);
                if allowed && touches(key.id) {
                    out.push(Candidate {
                        id: key.id,
                        cq,
                        priority: key.priority,
                        seq: key.seq,
                        own: true,
                        reclaim: false,
                        borrow: false,
                    });
                }
            }
        }
        let root = self.queues[cq].root;
        let reclaim = policy.reclaim_within_cohort;
        let bwc = policy.borrow_within_cohort;
        let borrow_on = self.strategies.is_none() && bwc.policy != BorrowWithinCohortPolicy::Never;
        // Fair sharing takes from a queue only while the preemptor's share
        // with `need` stays at most that queue's share without the victim,
        // which is never above its share now; taking victims only lowers
        // other queues' shares, so a queue below the preemptor's share now
        // never yields one and its workloads need not be listed.
        let fair_floor = self.strategies.is_some().then(|| self.share(cq, need));
        if root != cq && (reclaim != ReclaimWithinCohort::Never || borrow_on) {
            for &other in &self.members[root] {
                if other == cq
                    || !self.borrowing(other, need)
                    || fair_floor.is_some_and(|mine| self.share(other, &[]) < mine)
                {
                    continue;
                }
                for key in &self.queues[other].admitted {
                    let r = match reclaim {
                        ReclaimWithinCohort::Never => false,
                        ReclaimWithinCohort::LowerPriority => key.priority < p,
                        ReclaimWithinCohort::Any => true,
                    };
                    let b = borrow_on
                        && key.priority < p
                        && bwc.max_priority_threshold.is_none_or(|t| key.priority <= t);
                    if (r || b) && touches(key.id) {
                        out.push(Candidate {
                            id: key.id,
                            cq: other,
                            priority: key.priority,
                            seq: key.seq,
                            own: false,
                            reclaim: r,
                            borrow: b,
                        });
                    } else if key.priority >= p && reclaim != ReclaimWithinCohort::Any {
                        break;
                    }
                }
            }
        }
        // Ids are unique, so an unstable sort gives the one order.
        out.sort_unstable_by_key(|c| (c.own, c.priority, c.seq, c.id));
        Some(out)
    }

    /// Whether a queue uses more than its nominal quota of any of `need`'s
    /// (flavor, resource)s.
    fn borrowing(&self, cq: usize, need: &[(usize, i128)]) -> bool {
        need.iter()
            .any(|&(fr, _)| self.tree.usage(cq, fr) > self.tree.nominal(cq, fr))
    }

    fn fits(&self, cq: usize, need: &[(usize, i128)], allow_borrow: bool) -> bool {
        need.iter().all(|&(fr, n)| {
            n <= self.tree.available(cq, fr)
                && (allow_borrow || self.tree.usage(cq, fr) + n <= self.tree.nominal(cq, fr))
        })
    }

    fn take(&mut self, victim: usize, sign: i128) {
        let Some(e) = self.entries.get(victim).and_then(Option::as_ref) else {
            return;
        };
        if let Some(a) = &e.admitted {
            for &(fr, v) in &a.usage {
                self.tree.add_usage(e.cq, fr, sign * v);
            }
        }
    }

    /// Takes candidates in order until the preemptor fits, then minimises.
    fn greedy(
        &mut self,
        cq: usize,
        need: &[(usize, i128)],
        list: &[Candidate],
        allow_borrow: bool,
    ) -> Option<Vec<usize>> {
        let mut removed = Vec::new();
        for c in list {
            // A queue stops being a fair target once it no longer borrows.
            if !c.own && !self.borrowing(c.cq, need) {
                continue;
            }
            self.take(c.id, -1);
            removed.push(c.id);
            if self.fits(cq, need, allow_borrow) {
                return Some(self.minimise(cq, need, removed, allow_borrow));
            }
        }
        for &v in &removed {
            self.take(v, 1);
        }
        None
    }

    /// Gives back each victim whose quota is not needed, last taken first;
    /// restores the state and returns the victims left.
    fn minimise(
        &mut self,
        cq: usize,
        need: &[(usize, i128)],
        removed: Vec<usize>,
        allow_borrow: bool,
    ) -> Vec<usize> {
        let mut victims = Vec::new();
        for &v in removed.iter().rev() {
            self.take(v, 1);
            if !self.fits(cq, need, allow_borrow) {
                self.take(v, -1);
                victims.push(v);
            }
        }
        for &v in &victims {
            self.take(v, 1);
        }
        victims.reverse();
        victims
    }

    /// Fair-sharing preemption: for each strategy, repeatedly target the
    /// queue with the highest share and take its first workload the
    /// strategy allows; then, if still short, the preemptor's own queue.
    fn fair_victims(
        &mut self,
        cq: usize,
        need: &[(usize, i128)],
        candidates: &[Candidate],
    ) -> Option<Vec<usize>> {
        let strategies = self.strategies.clone().unwrap_or_default();
        let mut others: Vec<Candidate> = candidates
            .iter()
            .copied()
            .filter(|c| !c.own && c.reclaim)
            .collect();
        let mut removed = Vec::new();
        let mut queues = Vec::new();
        // Only other queues lose victims in the strategies' loop, so the
        // preemptor's share with `need` stays what it is now.
        let mine = self.share(cq, need);
        for strategy in strategies {
            let mut exhausted = BTreeSet::new();
            while !self.fits(cq, need, true) {
                queues.clear();
                queues.extend(
                    others
                        .iter()
                        .filter(|c| !exhausted.contains(&c.cq))
                        .map(|c| c.cq),
                );
                queues.sort_unstable();
                queues.dedup();
                // Queue names are unique, so the name settles every tie.
                let target = queues
                    .iter()
                    .map(|&q| (self.share(q, &[]), q))
                    .max_by(|(a, x), (b, y)| {
                        a.cmp(b)
                            .then_with(|| self.queues[*y].spec.name.cmp(&self.queues[*x].spec.name))
                    })
                    .map(|(_, q)| q);
                let Some(target) = target else { break };
                let theirs = self.share(target, &[]);
                // The test reads only a candidate's usage, and a queue's
                // workloads mostly share a few shapes: a usage that failed
                // once fails again in this scan.
                let mut failed: Vec<&[(usize, i128)]> = Vec::new();
                let pick = others.iter().position(|c| {
                    c.cq == target
                        && match strategy {
                            PreemptionStrategy::LessThanOrEqualToFinalShare => {
                                let usage = self
                                    .entry(c.id)
                                    .and_then(|e| e.admitted.as_ref())
                                    .map_or(&[][..], |a| a.usage.as_slice());
                                if failed.contains(&usage) {
                                    return false;
                                }
                                let ok = mine <= self.share_scaled(target, usage, -1);
                                if !ok && failed.len() < FAILED_SHAPES {
                                    failed.push(usage);
                                }
                                ok
                            }
                            PreemptionStrategy::LessThanInitialShare => mine < theirs,
                        }
                });
                match pick {
                    Some(i) => {
                        let c = others.remove(i);
                        self.take(c.id, -1);
                        removed.push(c.id);
                    }
                    None => {
                        exhausted.insert(target);
                    }
                }
            }
        }
        for c in candidates.iter().filter(|c| c.own) {
            if self.fits(cq, need, true) {
                break;
            }
            self.take(c.id, -1);
            removed.push(c.id);
        }
        if self.fits(cq, need, true) {
            return Some(self.minimise(cq, need, removed, true));
        }
        for &v in &removed {
            self.take(v, 1);
        }
        None
    }
}
