//! Property tests through the public API: values round-trip exactly, and
//! lineage answers match a plain breadth-first search on random graphs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use keelson_lineage::{
    Artifact, Direction, Error, Event, EventType, Execution, ExecutionState, LineageQuery,
    LineageStart, ListOptions, MetadataStore, NodeType, OrderBy, PropertyType, SqliteStore,
    TypeOptions, Value,
};
use proptest::prelude::*;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

fn json() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        "\\PC{0,12}".prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::Array),
            prop::collection::btree_map("\\PC{0,6}", inner, 0..4)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::Int),
        any::<f64>()
            .prop_filter("NaN is refused", |d| !d.is_nan())
            .prop_map(Value::Double),
        "\\PC{0,40}".prop_map(Value::String),
        any::<bool>().prop_map(Value::Bool),
        json().prop_map(Value::Struct),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn property_values_round_trip(
        declared in prop::collection::btree_map("[a-z]{1,8}", value(), 0..6),
        custom in prop::collection::btree_map("\\PC{1,10}", value(), 0..6),
        uri in "\\PC{0,60}",
    ) {
        runtime().block_on(async {
            let store = SqliteStore::open_in_memory().await.unwrap();
            let mut t = NodeType::artifact("T");
            for (name, v) in &declared {
                t = t.with_property(name.clone(), v.property_type());
            }
            let tid = store.put_type(&t, TypeOptions::default()).await.unwrap();
            let mut a = Artifact::new(tid, uri.clone());
            a.properties = declared.clone();
            a.custom_properties = custom.clone();
            let id = store.put_artifacts(&[a]).await.unwrap()[0];
            let got = store.get_artifacts_by_id(&[id]).await.unwrap().remove(0);
            prop_assert_eq!(got.uri.as_deref(), Some(uri.as_str()));
            prop_assert_eq!(&got.properties, &declared);
            prop_assert_eq!(&got.custom_properties, &custom);
            Ok(())
        })?;
    }

    #[test]
    fn lineage_matches_breadth_first_search(
        n_art in 1_usize..8,
        n_exec in 1_usize..6,
        edges in prop::collection::vec((0_usize..8, 0_usize..6, 0_u8..3), 0..20),
        start in 0_usize..8,
        max_hops in 0_u32..7,
        dir in 0_u8..3,
    ) {
        let start = start % n_art;
        let direction = [Direction::Upstream, Direction::Downstream, Direction::Both][usize::from(dir)];
        // (artifact index, execution index, type) with duplicates removed.
        let edges: BTreeSet<(usize, usize, u8)> =
            edges.into_iter().map(|(a, e, k)| (a % n_art, e % n_exec, k)).collect();
        let kind = |k: u8| [EventType::Input, EventType::Output, EventType::InternalInput][usize::from(k)];

        // Reference: hop distances over the directed adjacency MLMD defines.
        let follow = |k: u8, from_artifact: bool| {
            let t = kind(k);
            match direction {
                Direction::Both => true,
                Direction::Upstream => if from_artifact { t.is_output() } else { t.is_input() },
                Direction::Downstream => if from_artifact { t.is_input() } else { t.is_output() },
            }
        };
        let mut dist: BTreeMap<(bool, usize), u32> = BTreeMap::from([((true, start), 0)]);
        let mut queue = VecDeque::from([(true, start)]);
        while let Some((is_art, i)) = queue.pop_front() {
            let d = dist[&(is_art, i)];
            if d == max_hops {
                continue;
            }
            for &(a, e, k) in &edges {
                let next = if is_art && a == i && follow(k, true) {
                    (false, e)
                } else if !is_art && e == i && follow(k, false) {
                    (true, a)
                } else {
                    continue;
                };
                if let std::collections::btree_map::Entry::Vacant(v) = dist.entry(next) {
                    v.insert(d + 1);
                    queue.push_back(next);
                }
            }
        }
        let want_arts: BTreeSet<usize> = dist.keys().filter(|k| k.0).map(|k| k.1).collect();
        let want_execs: BTreeSet<usize> = dist.keys().filter(|k| !k.0).map(|k| k.1).collect();
        let want_events = edges
            .iter()
            .filter(|(a, e, _)| want_arts.contains(a) && want_execs.contains(e))
            .count();

        runtime().block_on(async {
            let store = SqliteStore::open_in_memory().await.unwrap();
            let o = TypeOptions::default();
            let at = store.put_type(&NodeType::artifact("A").with_property("i", PropertyType::Int), o).await.unwrap();
            let et = store.put_type(&NodeType::execution("E"), o).await.unwrap();
            let arts: Vec<Artifact> = (0..n_art).map(|i| Artifact::new(at, format!("a{i}")).with_property("i", i as i64)).collect();
            let art_ids = store.put_artifacts(&arts).await.unwrap();
            let execs: Vec<Execution> = (0..n_exec).map(|_| Execution::new(et, ExecutionState::Complete)).collect();
            let exec_ids = store.put_executions(&execs).await.unwrap();
            let events: Vec<Event> = edges
                .iter()
                .map(|&(a, e, k)| Event { artifact_id: art_ids[a], execution_id: exec_ids[e], ..Event::new(kind(k)) })
                .collect();
            store.put_events(&events).await.unwrap();
            let q = LineageQuery { start: LineageStart::Artifacts(vec![art_ids[start]]), max_hops, direction };
            let g = store.lineage_subgraph(&q).await.unwrap();
            let got_arts: BTreeSet<usize> = g.artifacts.iter().map(|a| art_ids.iter().position(|&x| Some(x) == a.id).unwrap()).collect();
            let got_execs: BTreeSet<usize> = g.executions.iter().map(|x| exec_ids.iter().position(|&y| Some(y) == x.id).unwrap()).collect();
            prop_assert_eq!(got_arts, want_arts);
            prop_assert_eq!(got_execs, want_execs);
            prop_assert_eq!(g.events.len(), want_events);
            Ok(())
        })?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Page tokens come from callers: any text is a page or a clean error.
    #[test]
    fn any_page_token_is_a_page_or_invalid(
        token in prop_oneof!["\\PC{0,30}", "[cui][01]\\.-?[0-9]{1,20}\\.-?[0-9]{1,20}"],
        order in 0_u8..3,
        ascending in any::<bool>(),
    ) {
        runtime().block_on(async {
            let store = SqliteStore::open_in_memory().await.unwrap();
            let t = store.put_type(&NodeType::artifact("T"), TypeOptions::default()).await.unwrap();
            let arts: Vec<Artifact> = (0..5).map(|i| Artifact::new(t, format!("u{i}"))).collect();
            store.put_artifacts(&arts).await.unwrap();
            let options = ListOptions {
                limit: Some(2),
                order_by: [OrderBy::Id, OrderBy::CreateTime, OrderBy::LastUpdateTime][usize::from(order)],
                ascending,
                page_token: Some(token),
                filter_query: None,
            };
            match store.list_artifacts(&options).await {
                Ok(page) => prop_assert!(page.items.len() <= 2),
                Err(Error::InvalidArgument { field, .. }) => prop_assert_eq!(field, "list_options.page_token"),
                Err(e) => prop_assert!(false, "unexpected error {e}"),
            }
            Ok(())
        })?;
    }
}

#[test]
fn drawings_escape_names() {
    use keelson_lineage::{Context, LineageGraph};
    let mut t = NodeType::artifact("Mo\"del");
    t.id = Some(1);
    let mut a = Artifact::new(1, "s3://x\"y\\z\n<b>#1");
    a.id = Some(7);
    let mut c = Context::new(1, "run \"1\"");
    c.id = Some(3);
    let g = LineageGraph {
        types: vec![t],
        artifacts: vec![a],
        contexts: vec![c],
        ..LineageGraph::default()
    };
    let dot = g.to_dot();
    assert!(
        dot.contains(r#"a7 [shape=box, label="Mo\"del: s3://x\"y\\z\n<b>#1"];"#),
        "{dot}"
    );
    let m = g.to_mermaid();
    assert!(
        m.contains("a7[\"Mo#quot;del: s3://x#quot;y\\z #lt;b#gt;#35;1\"]"),
        "{m}"
    );
    assert!(
        m.contains("c3[/\"?: run #quot;1#quot;\"/]")
            || m.contains("c3[/\"Mo#quot;del: run #quot;1#quot;\"/]"),
        "{m}"
    );
}
