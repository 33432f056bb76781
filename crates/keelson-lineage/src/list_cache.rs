//! A read connection's memory of its recent filtered lists: the whole
//! ordered `(id, sort key)` list of a filter, so that reading a list page by
//! page runs the filter once instead of once a page. Both backends keep one
//! per read connection.
//!
//! Only lists whose filter starts from a small property set are kept (see
//! the backends' `read::list`): the database computes and sorts every match
//! of those for each page anyway, so the whole list costs what one page
//! costs, and it holds fewer rows than that set. An entry is valid while the
//! data is unchanged, which each backend tells by a version token: SQLite's
//! `PRAGMA data_version` (it changes when another connection commits),
//! PostgreSQL's `pg_current_snapshot()` (a read-only snapshot equal to an
//! earlier one sees the same rows). A read connection never writes, so its
//! entries are exactly what its queries would return now.
//!
//! It also remembers, for the same data version, how each recent filter
//! reaches its property sets (each backend's plan type `P`): choosing
//! counts up to 20,000 index entries per set, which a broad filter (one
//! that is never kept whole) would otherwise pay again on every page. A
//! plan only decides how the rows are found, never which rows.

use std::collections::VecDeque;

use crate::store::{ListOptions, OrderBy};
use crate::types::NodeKind;

/// How many lists one connection keeps; each holds fewer rows than the
/// driving-set bound of `read::list` (16 bytes a row).
const ENTRIES: usize = 4;
/// How many filters' plans one connection keeps (a few bytes each).
const PLANS: usize = 16;

/// The lists and filter plans `P` of one read connection, valid for one
/// version `V` of the data.
#[derive(Debug)]
pub(crate) struct ListCache<V, P> {
    /// The version the entries were read at.
    version: V,
    /// Most recently used first.
    entries: VecDeque<Entry>,
    /// Most recently used first.
    plans: VecDeque<(PlanKey, P)>,
}

impl<V: Default, P> Default for ListCache<V, P> {
    fn default() -> Self {
        Self {
            version: V::default(),
            entries: VecDeque::new(),
            plans: VecDeque::new(),
        }
    }
}

/// What decides a filter's plan: not the list's order.
#[derive(Debug, PartialEq, Eq)]
struct PlanKey {
    kind: NodeKind,
    namespace: String,
    filter: String,
}

impl PlanKey {
    fn new(kind: NodeKind, namespace: &str, filter: &str) -> Self {
        Self {
            kind,
            namespace: namespace.to_owned(),
            filter: filter.to_owned(),
        }
    }
}

#[derive(Debug)]
struct Entry {
    key: Key,
    /// `(id, sort key)` in list order.
    rows: Vec<(i64, i64)>,
}

/// What decides a filtered list's rows and their order.
#[derive(Debug, PartialEq, Eq)]
struct Key {
    kind: NodeKind,
    namespace: String,
    filter: String,
    order_by: OrderBy,
    ascending: bool,
}

impl Key {
    fn new(kind: NodeKind, namespace: &str, filter: &str, options: &ListOptions) -> Self {
        Self {
            kind,
            namespace: namespace.to_owned(),
            filter: filter.to_owned(),
            order_by: options.order_by,
            ascending: options.ascending,
        }
    }
}

impl<V: PartialEq, P: Clone> ListCache<V, P> {
    /// Forgets every list and plan unless the data's `version` is the one
    /// they were read at.
    pub(crate) fn sync(&mut self, version: V) {
        if self.version != version {
            self.entries.clear();
            self.plans.clear();
            self.version = version;
        }
    }

    /// The remembered plan of `filter` over nodes of `kind` in `namespace`.
    pub(crate) fn plan(&mut self, kind: NodeKind, namespace: &str, filter: &str) -> Option<P> {
        let key = PlanKey::new(kind, namespace, filter);
        let at = self.plans.iter().position(|(k, _)| *k == key)?;
        let entry = self.plans.remove(at)?;
        let plan = entry.1.clone();
        self.plans.push_front(entry);
        Some(plan)
    }

    /// Remembers the plan [`ListCache::plan`] would look up with the same
    /// arguments, forgetting the least recently used beyond [`PLANS`].
    pub(crate) fn put_plan(&mut self, kind: NodeKind, namespace: &str, filter: &str, plan: P) {
        let key = PlanKey::new(kind, namespace, filter);
        self.plans.retain(|(k, _)| *k != key);
        self.plans.push_front((key, plan));
        self.plans.truncate(PLANS);
    }

    /// The remembered rows of the list of `kind` in `namespace` filtered by
    /// `filter` in the ordering of `options`.
    pub(crate) fn get(
        &mut self,
        kind: NodeKind,
        namespace: &str,
        filter: &str,
        options: &ListOptions,
    ) -> Option<&[(i64, i64)]> {
        let key = Key::new(kind, namespace, filter, options);
        let at = self.entries.iter().position(|e| e.key == key)?;
        let entry = self.entries.remove(at)?;
        self.entries.push_front(entry);
        self.entries.front().map(|e| e.rows.as_slice())
    }

    /// Remembers `rows`, the whole list [`ListCache::get`] would look up
    /// with the same arguments, forgetting the least recently used list
    /// beyond [`ENTRIES`].
    pub(crate) fn put(
        &mut self,
        kind: NodeKind,
        namespace: &str,
        filter: &str,
        options: &ListOptions,
        rows: Vec<(i64, i64)>,
    ) {
        let key = Key::new(kind, namespace, filter, options);
        self.entries.retain(|e| e.key != key);
        self.entries.push_front(Entry { key, rows });
        self.entries.truncate(ENTRIES);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn options(ascending: bool) -> ListOptions {
        ListOptions {
            ascending,
            ..ListOptions::default()
        }
    }

    #[test]
    fn a_list_is_found_under_its_own_key_only() {
        let mut cache = ListCache::<i64, bool>::default();
        cache.sync(7);
        cache.put(NodeKind::Artifact, "", "f", &options(true), vec![(1, 10)]);
        assert_eq!(
            cache.get(NodeKind::Artifact, "", "f", &options(true)),
            Some(&[(1, 10)][..])
        );
        assert!(
            cache
                .get(NodeKind::Artifact, "", "f", &options(false))
                .is_none()
        );
        assert!(
            cache
                .get(NodeKind::Artifact, "x", "f", &options(true))
                .is_none()
        );
        assert!(
            cache
                .get(NodeKind::Artifact, "", "g", &options(true))
                .is_none()
        );
        assert!(
            cache
                .get(NodeKind::Context, "", "f", &options(true))
                .is_none()
        );
    }

    #[test]
    fn another_version_forgets_everything() {
        let mut cache = ListCache::<i64, bool>::default();
        cache.sync(1);
        cache.put(NodeKind::Artifact, "", "f", &options(true), vec![(1, 10)]);
        cache.sync(1);
        assert!(
            cache
                .get(NodeKind::Artifact, "", "f", &options(true))
                .is_some()
        );
        cache.sync(2);
        assert!(
            cache
                .get(NodeKind::Artifact, "", "f", &options(true))
                .is_none()
        );
    }

    #[test]
    fn the_least_recently_used_list_goes_first() {
        let mut cache = ListCache::<i64, bool>::default();
        for i in 0..ENTRIES {
            cache.put(
                NodeKind::Artifact,
                "",
                &i.to_string(),
                &options(true),
                Vec::new(),
            );
        }
        assert!(
            cache
                .get(NodeKind::Artifact, "", "0", &options(true))
                .is_some()
        );
        cache.put(NodeKind::Artifact, "", "new", &options(true), Vec::new());
        assert!(
            cache
                .get(NodeKind::Artifact, "", "0", &options(true))
                .is_some()
        );
        assert!(
            cache
                .get(NodeKind::Artifact, "", "1", &options(true))
                .is_none()
        );
        assert!(
            cache
                .get(NodeKind::Artifact, "", "new", &options(true))
                .is_some()
        );
    }

    #[test]
    fn plans_are_kept_per_filter_until_the_version_changes() {
        let mut cache = ListCache::<i64, bool>::default();
        cache.sync(3);
        assert_eq!(cache.plan(NodeKind::Artifact, "", "f"), None);
        cache.put_plan(NodeKind::Artifact, "", "f", true);
        cache.put_plan(NodeKind::Artifact, "ns", "f", false);
        assert_eq!(cache.plan(NodeKind::Artifact, "", "f"), Some(true));
        assert_eq!(cache.plan(NodeKind::Artifact, "ns", "f"), Some(false));
        assert_eq!(cache.plan(NodeKind::Execution, "", "f"), None);
        assert_eq!(cache.plan(NodeKind::Artifact, "", "g"), None);
        cache.put_plan(NodeKind::Artifact, "", "f", false);
        assert_eq!(cache.plan(NodeKind::Artifact, "", "f"), Some(false));
        cache.sync(3);
        assert_eq!(cache.plan(NodeKind::Artifact, "", "f"), Some(false));
        cache.sync(4);
        assert_eq!(cache.plan(NodeKind::Artifact, "", "f"), None);
    }

    #[test]
    fn the_least_recently_used_plan_goes_first() {
        let mut cache = ListCache::<i64, bool>::default();
        for i in 0..PLANS {
            cache.put_plan(NodeKind::Artifact, "", &i.to_string(), true);
        }
        assert_eq!(cache.plan(NodeKind::Artifact, "", "0"), Some(true));
        cache.put_plan(NodeKind::Artifact, "", "new", true);
        assert_eq!(cache.plan(NodeKind::Artifact, "", "0"), Some(true));
        assert_eq!(cache.plan(NodeKind::Artifact, "", "1"), None);
    }
}
