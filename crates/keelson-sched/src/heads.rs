//! A binary min-heap ordered by a comparator passed to each call, so the
//! order may read state the items only point into (the admission cycle's
//! queue heads compare workload names by id without copying or sharing
//! them: a name is read only when everything before it in the key ties).

use std::cmp::Ordering;

/// Items in heap order under the comparator given to every call; the
/// caller must pass the same order each time.
#[derive(Debug)]
pub(crate) struct Heads<T> {
    items: Vec<T>,
}

impl<T> Heads<T> {
    /// An empty heap with room for `n` items.
    pub(crate) fn with_capacity(n: usize) -> Heads<T> {
        Heads {
            items: Vec::with_capacity(n),
        }
    }

    /// Adds an item.
    pub(crate) fn push(&mut self, item: T, cmp: impl Fn(&T, &T) -> Ordering) {
        self.items.push(item);
        let mut at = self.items.len() - 1;
        while at > 0 {
            let parent = (at - 1) / 2;
            if cmp(&self.items[at], &self.items[parent]) != Ordering::Less {
                break;
            }
            self.items.swap(at, parent);
            at = parent;
        }
    }

    /// Removes and returns the least item.
    pub(crate) fn pop(&mut self, cmp: impl Fn(&T, &T) -> Ordering) -> Option<T> {
        let last = self.items.len().checked_sub(1)?;
        self.items.swap(0, last);
        let top = self.items.pop();
        let n = self.items.len();
        let mut at = 0;
        loop {
            let (l, r) = (2 * at + 1, 2 * at + 2);
            let mut least = at;
            if l < n && cmp(&self.items[l], &self.items[least]) == Ordering::Less {
                least = l;
            }
            if r < n && cmp(&self.items[r], &self.items[least]) == Ordering::Less {
                least = r;
            }
            if least == at {
                break;
            }
            self.items.swap(at, least);
            at = least;
        }
        top
    }
}

#[cfg(test)]
mod tests {
    use super::Heads;

    #[test]
    fn pops_in_comparator_order() {
        let keys = [5u32, 1, 9, 3, 7, 3, 0, 8];
        let mut heap = Heads::with_capacity(keys.len());
        for k in keys {
            heap.push(k, |a, b| b.cmp(a));
        }
        let mut out = Vec::new();
        while let Some(k) = heap.pop(|a, b| b.cmp(a)) {
            out.push(k);
        }
        assert_eq!(out, [9, 8, 7, 5, 3, 3, 1, 0]);
    }
}
