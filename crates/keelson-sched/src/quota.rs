//! The quota tree behind admission: ClusterQueues are leaves, cohorts are
//! inner nodes, and every node holds, per (flavor, resource), its quota and
//! its usage in thousandths.
//!
//! A node's *subtree quota* is its own nominal quota plus what each child
//! lends it; a child lends its subtree quota minus what it keeps
//! (`subtree - lendingLimit`, when a lending limit is set). Usage flows up
//! the same way: a parent counts only the part of a child's usage beyond
//! what the child keeps. What a node may still take is what it keeps and
//! has not used, plus what its parent may still take, capped by its
//! borrowing limit. Every operation walks one root path, so its cost is
//! the depth of the cohort tree.

/// Quota and usage of one node for one (flavor, resource), in thousandths.
#[derive(Clone, Copy, Debug, Default)]
struct Cell {
    nominal: i128,
    borrowing_limit: Option<i128>,
    lending_limit: Option<i128>,
    subtree: i128,
    usage: i128,
}

/// Nodes × (flavor, resource) cells, with each node's parent.
#[derive(Clone, Debug)]
pub(crate) struct QuotaTree {
    n_fr: usize,
    parent: Vec<Option<usize>>,
    cells: Vec<Cell>,
}

impl QuotaTree {
    /// A tree with no quota; `parent[n]` is node `n`'s parent and the
    /// parent relation must be acyclic.
    pub(crate) fn new(parent: Vec<Option<usize>>, n_fr: usize) -> QuotaTree {
        let cells = vec![Cell::default(); parent.len() * n_fr];
        QuotaTree {
            n_fr,
            parent,
            cells,
        }
    }

    fn cell(&self, node: usize, fr: usize) -> &Cell {
        &self.cells[node * self.n_fr + fr]
    }

    fn cell_mut(&mut self, node: usize, fr: usize) -> &mut Cell {
        &mut self.cells[node * self.n_fr + fr]
    }

    /// Sets a node's quota for one (flavor, resource).
    pub(crate) fn set_quota(
        &mut self,
        node: usize,
        fr: usize,
        nominal: i128,
        borrowing_limit: Option<i128>,
        lending_limit: Option<i128>,
    ) {
        let cell = self.cell_mut(node, fr);
        cell.nominal = nominal;
        cell.borrowing_limit = borrowing_limit;
        cell.lending_limit = lending_limit;
    }

    /// Computes subtree quotas once every quota is set.
    pub(crate) fn finish(&mut self) {
        let depth: Vec<usize> = (0..self.parent.len())
            .map(|mut n| {
                let mut d = 0;
                while let Some(p) = self.parent[n] {
                    n = p;
                    d += 1;
                }
                d
            })
            .collect();
        let mut order: Vec<usize> = (0..self.parent.len()).collect();
        // Deepest first, so a node's subtree is complete before it lends.
        order.sort_by_key(|&n| (std::cmp::Reverse(depth[n]), n));
        for cell in &mut self.cells {
            cell.subtree = cell.nominal;
        }
        for node in order {
            if let Some(p) = self.parent[node] {
                for fr in 0..self.n_fr {
                    let lent = self.cell(node, fr).subtree - self.guaranteed(node, fr);
                    self.cell_mut(p, fr).subtree += lent;
                }
            }
        }
    }

    /// What a node keeps for itself and never lends.
    fn guaranteed(&self, node: usize, fr: usize) -> i128 {
        let c = self.cell(node, fr);
        c.lending_limit.map_or(0, |l| (c.subtree - l).max(0))
    }

    /// The node's nominal quota.
    pub(crate) fn nominal(&self, node: usize, fr: usize) -> i128 {
        self.cell(node, fr).nominal
    }

    /// The node's subtree quota.
    pub(crate) fn subtree(&self, node: usize, fr: usize) -> i128 {
        self.cell(node, fr).subtree
    }

    /// The node's usage.
    pub(crate) fn usage(&self, node: usize, fr: usize) -> i128 {
        self.cell(node, fr).usage
    }

    /// How much more the node may use now.
    pub(crate) fn available(&self, node: usize, fr: usize) -> i128 {
        self.available_at(node, fr, false)
    }

    /// How much the node could use were nothing in use anywhere: the most
    /// preemption can ever free for it.
    pub(crate) fn potential(&self, node: usize, fr: usize) -> i128 {
        self.available_at(node, fr, true)
    }

    fn available_at(&self, node: usize, fr: usize, empty: bool) -> i128 {
        let c = self.cell(node, fr);
        let usage = if empty { 0 } else { c.usage };
        let Some(parent) = self.parent[node] else {
            return c.subtree - usage;
        };
        let kept = self.guaranteed(node, fr);
        let local = (kept - usage).max(0);
        let mut from_parent = self.available_at(parent, fr, empty);
        if let Some(limit) = c.borrowing_limit {
            let lent = c.subtree - kept;
            let used_above = (usage - kept).max(0);
            from_parent = from_parent.min(lent - used_above + limit);
        }
        local + from_parent.max(0)
    }

    /// Adds `delta` (negative to release) to a node's usage and to the
    /// part of it its ancestors see.
    pub(crate) fn add_usage(&mut self, node: usize, fr: usize, delta: i128) {
        let kept = self.guaranteed(node, fr);
        let cell = self.cell_mut(node, fr);
        let before = (cell.usage - kept).max(0);
        cell.usage += delta;
        let after = (cell.usage - kept).max(0);
        if let Some(p) = self.parent[node]
            && after != before
        {
            self.add_usage(p, fr, after - before);
        }
    }
}
