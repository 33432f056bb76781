//! The conformance suite: every backend of `MetadataStore` must pass each of
//! these functions on a fresh, empty store.

use std::collections::BTreeSet;

use keelson_lineage::{
    Artifact, ArtifactState, Association, Attribution, Context, DeletePolicy, Direction, Error,
    Event, EventType, Execution, ExecutionState, LineageQuery, LineageStart, ListOptions,
    MetadataStore, NodeKind, NodeType, OrderBy, ParentContext, PathStep, PropertyType, StoreCounts,
    TypeOptions, Value, limits,
};

const ADD: TypeOptions = TypeOptions {
    can_add_fields: true,
    can_omit_fields: false,
};

/// Type ids of a small pipeline model.
pub struct Types {
    pub data: i64,
    pub model: i64,
    pub step: i64,
    pub run: i64,
}

pub async fn setup_types<S: MetadataStore>(s: &S) -> Types {
    let o = TypeOptions::default();
    Types {
        data: s
            .put_type(
                &NodeType::artifact("Dataset")
                    .with_property("rows", PropertyType::Int)
                    .with_base_type("DATASET"),
                o,
            )
            .await
            .unwrap(),
        model: s
            .put_type(
                &NodeType::artifact("Model")
                    .with_property("accuracy", PropertyType::Double)
                    .with_property("framework", PropertyType::String)
                    .with_property("blessed", PropertyType::Boolean)
                    .with_property("config", PropertyType::Struct),
                o,
            )
            .await
            .unwrap(),
        step: s
            .put_type(
                &NodeType::execution("Step").with_property("attempt", PropertyType::Int),
                o,
            )
            .await
            .unwrap(),
        run: s
            .put_type(
                &NodeType::context("Run").with_property("pipeline", PropertyType::String),
                o,
            )
            .await
            .unwrap(),
    }
}

fn model(t: &Types, uri: &str, accuracy: f64) -> Artifact {
    Artifact::new(t.model, uri)
        .with_property("accuracy", accuracy)
        .with_property("framework", "torch")
        .with_property("blessed", true)
        .with_property("config", serde_json::json!({"lr": 0.1, "layers": [1, 2]}))
}

fn ok<T>(r: Result<T, Error>) -> T {
    match r {
        Ok(v) => v,
        Err(e) => panic!("unexpected error: {e}"),
    }
}

pub async fn types_roundtrip_and_evolve<S: MetadataStore>(s: &S) {
    let t = NodeType::artifact("Model")
        .with_property("accuracy", PropertyType::Double)
        .with_base_type("MODEL")
        .with_version("v1");
    let id = ok(s.put_type(&t, TypeOptions::default()).await);
    // Putting the same type again is idempotent.
    assert_eq!(ok(s.put_type(&t, TypeOptions::default()).await), id);
    let got = ok(s.get_type(NodeKind::Artifact, "Model", Some("v1")).await).unwrap();
    assert_eq!(got.id, Some(id));
    assert_eq!(got.base_type.as_deref(), Some("MODEL"));
    assert_eq!(got.properties, t.properties);
    assert!(ok(s.get_type(NodeKind::Artifact, "Model", None).await).is_none());
    assert!(ok(s.get_type(NodeKind::Execution, "Model", Some("v1")).await).is_none());

    // Adding a property needs can_add_fields; the error names it.
    let wider = t.clone().with_property("loss", PropertyType::Double);
    let e = s
        .put_type(&wider, TypeOptions::default())
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::IncompatibleType { property, .. } if property == "loss"),
        "{e}"
    );
    assert_eq!(ok(s.put_type(&wider, ADD).await), id);
    // Omitting a stored one needs can_omit_fields, and keeps it stored.
    let narrow = NodeType::artifact("Model").with_version("v1");
    let e = s.put_type(&narrow, ADD).await.unwrap_err();
    assert!(
        matches!(&e, Error::IncompatibleType { property, .. } if property == "accuracy"),
        "{e}"
    );
    let omit = TypeOptions {
        can_add_fields: false,
        can_omit_fields: true,
    };
    assert_eq!(ok(s.put_type(&narrow, omit).await), id);
    // Changing a property's type is never allowed.
    let changed = NodeType::artifact("Model")
        .with_version("v1")
        .with_property("accuracy", PropertyType::Int);
    let all = TypeOptions {
        can_add_fields: true,
        can_omit_fields: true,
    };
    let e = s.put_type(&changed, all).await.unwrap_err();
    assert!(
        matches!(&e, Error::IncompatibleType { property, .. } if property == "accuracy"),
        "{e}"
    );

    let got = ok(s.get_types_by_id(&[id, 999_999]).await);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].properties.len(), 2);
    ok(s.put_type(
        &NodeType::execution("Train").with_base_type("TRAIN"),
        TypeOptions::default(),
    )
    .await);
    assert_eq!(ok(s.get_types(NodeKind::Execution).await).len(), 1);
    assert_eq!(ok(s.get_types(NodeKind::Artifact).await).len(), 1);

    // PROTO properties and foreign base types are refused.
    let proto = NodeType::artifact("P").with_property("p", PropertyType::Proto);
    assert!(matches!(
        s.put_type(&proto, ADD).await,
        Err(Error::Unsupported { .. })
    ));
    let base = NodeType::context("C").with_base_type("MODEL");
    assert!(matches!(
        s.put_type(&base, ADD).await,
        Err(Error::InvalidArgument { .. })
    ));
}

pub async fn nodes_roundtrip_and_update<S: MetadataStore>(s: &S) {
    let t = setup_types(s).await;
    let mut a = model(&t, "s3://m/1", 0.5);
    a.name = Some("m1".into());
    a.external_id = Some("ext-m1".into());
    a.state = ArtifactState::Pending;
    a.custom_properties
        .insert("owner".into(), Value::from("ana"));
    a.custom_properties.insert("n".into(), Value::Int(-3));
    let ids = ok(s.put_artifacts(std::slice::from_ref(&a)).await);
    let got = ok(s.get_artifacts_by_id(&ids).await).remove(0);
    assert_eq!(got.id, Some(ids[0]));
    assert_eq!(got.properties, a.properties);
    assert_eq!(got.custom_properties, a.custom_properties);
    assert_eq!(
        (got.name.as_deref(), got.uri.as_deref()),
        (Some("m1"), Some("s3://m/1"))
    );
    assert_eq!(got.external_id.as_deref(), Some("ext-m1"));
    assert_eq!(got.state, ArtifactState::Pending);
    assert!(got.create_time_since_epoch > 0);
    assert!(got.last_update_time_since_epoch >= got.create_time_since_epoch);

    // An update replaces the properties and keeps the creation time.
    let mut upd = got.clone();
    upd.state = ArtifactState::Live;
    upd.properties.remove("framework");
    upd.custom_properties.clear();
    assert_eq!(ok(s.put_artifacts(std::slice::from_ref(&upd)).await), ids);
    let again = ok(s.get_artifacts_by_id(&ids).await).remove(0);
    assert_eq!(again.state, ArtifactState::Live);
    assert!(!again.properties.contains_key("framework"));
    assert!(again.custom_properties.is_empty());
    assert_eq!(again.create_time_since_epoch, got.create_time_since_epoch);

    // Updating a node that does not exist, or changing its type, fails.
    let mut ghost = upd.clone();
    ghost.id = Some(ids[0] + 1000);
    assert!(matches!(
        s.put_artifacts(&[ghost]).await,
        Err(Error::NotFound { .. })
    ));
    let mut retyped = Artifact::new(t.data, "x");
    retyped.id = Some(ids[0]);
    assert!(matches!(
        s.put_artifacts(&[retyped]).await,
        Err(Error::InvalidArgument { .. })
    ));

    let mut e = Execution::new(t.step, ExecutionState::Running).with_property("attempt", 1_i64);
    e.name = Some("train-1".into());
    let eid = ok(s.put_executions(std::slice::from_ref(&e)).await)[0];
    e.id = Some(eid);
    e.last_known_state = ExecutionState::Failed;
    ok(s.put_executions(std::slice::from_ref(&e)).await);
    let ge = ok(s.get_executions_by_id(&[eid]).await).remove(0);
    assert_eq!(ge.last_known_state, ExecutionState::Failed);
    assert_eq!(ge.properties.get("attempt"), Some(&Value::Int(1)));

    let c = Context::new(t.run, "run-1").with_property("pipeline", "p");
    let cid = ok(s.put_contexts(std::slice::from_ref(&c)).await)[0];
    let gc = ok(s.get_contexts_by_id(&[cid]).await).remove(0);
    assert_eq!(gc.name, "run-1");
    assert_eq!(gc.properties.get("pipeline"), Some(&Value::from("p")));

    // Unknown ids are skipped, the rest come back sorted by id.
    let two = ok(s
        .put_artifacts(&[Artifact::new(t.data, "d1"), Artifact::new(t.data, "d2")])
        .await);
    let got = ok(s.get_artifacts_by_id(&[two[1], 987_654, two[0]]).await);
    assert_eq!(got.iter().map(|a| a.id.unwrap()).collect::<Vec<_>>(), two);
}

/// Records `runs` runs of a 3-step chain (ingest → train → push), returns
/// per run: (context id, [execution ids], [artifact ids: data, model, pushed]).
pub async fn record_runs<S: MetadataStore>(
    s: &S,
    t: &Types,
    runs: usize,
) -> Vec<(i64, Vec<i64>, Vec<i64>)> {
    let mut out = Vec::new();
    for r in 0..runs {
        let mut ctx = Context::new(t.run, format!("run-{r}")).with_property("pipeline", "p");
        let ingest = ok(s
            .put_execution(
                &Execution::new(t.step, ExecutionState::Complete),
                &[(
                    Artifact::new(t.data, format!("s3://d/{r}")).with_property("rows", 10_i64),
                    Some(Event::new(EventType::Output).with_key("data")),
                )],
                std::slice::from_ref(&ctx),
            )
            .await);
        ctx.id = Some(ingest.context_ids[0]);
        let data = ok(s.get_artifacts_by_id(&ingest.artifact_ids).await).remove(0);
        let train = ok(s
            .put_execution(
                &Execution::new(t.step, ExecutionState::Complete),
                &[
                    (data, Some(Event::new(EventType::Input).with_key("data"))),
                    (
                        model(t, &format!("s3://m/{r}"), 0.9),
                        Some(
                            Event::new(EventType::Output)
                                .with_key("model")
                                .with_index(0),
                        ),
                    ),
                ],
                std::slice::from_ref(&ctx),
            )
            .await);
        let m = ok(s.get_artifacts_by_id(&train.artifact_ids[1..]).await).remove(0);
        let push = ok(s
            .put_execution(
                &Execution::new(t.step, ExecutionState::Complete),
                &[
                    (m, Some(Event::new(EventType::Input).with_key("model"))),
                    (
                        Artifact::new(t.model, format!("s3://serving/{r}")),
                        Some(Event::new(EventType::Output).with_key("pushed")),
                    ),
                ],
                std::slice::from_ref(&ctx),
            )
            .await);
        out.push((
            ingest.context_ids[0],
            vec![ingest.execution_id, train.execution_id, push.execution_id],
            vec![
                ingest.artifact_ids[0],
                train.artifact_ids[1],
                push.artifact_ids[1],
            ],
        ));
    }
    out
}

pub async fn put_execution_and_queries<S: MetadataStore>(s: &S) {
    let t = setup_types(s).await;
    let runs = record_runs(s, &t, 2).await;
    let (ctx, execs, arts) = &runs[0];
    let c = ok(s.counts().await);
    assert_eq!(
        c,
        StoreCounts {
            types: 4,
            artifacts: 6,
            executions: 6,
            contexts: 2,
            events: 10,
            attributions: 6,
            associations: 6,
            parent_contexts: 0
        }
    );
    let ids = |v: Vec<Artifact>| v.into_iter().map(|a| a.id.unwrap()).collect::<Vec<_>>();
    assert_eq!(
        ids(ok(s.get_artifacts_by_context(*ctx).await)),
        arts.clone()
    );
    let ex = ok(s.get_executions_by_context(*ctx).await);
    assert_eq!(
        ex.iter().map(|e| e.id.unwrap()).collect::<Vec<_>>(),
        execs.clone()
    );
    let cs = ok(s.get_contexts_by_artifact(arts[1]).await);
    assert_eq!(
        cs.iter().map(|c| c.id.unwrap()).collect::<Vec<_>>(),
        vec![*ctx]
    );
    let cs = ok(s.get_contexts_by_execution(execs[2]).await);
    assert_eq!(cs.len(), 1);
    assert_eq!(
        ids(ok(s.get_artifacts_by_uri("s3://m/0").await)),
        vec![arts[1]]
    );
    assert!(ok(s.get_artifacts_by_uri("s3://nowhere").await).is_empty());
    assert_eq!(ok(s.get_artifacts_by_type("Model", None).await).len(), 4);
    assert_eq!(ok(s.get_executions_by_type("Step", None).await).len(), 6);
    assert_eq!(ok(s.get_contexts_by_type("Run", None).await).len(), 2);
    assert!(ok(s.get_artifacts_by_type("Nope", None).await).is_empty());
    let c1 = ok(s.get_context_by_type_and_name("Run", None, "run-1").await).unwrap();
    assert_eq!(c1.id, Some(runs[1].0));
    assert!(ok(s.get_context_by_type_and_name("Run", None, "run-9").await).is_none());

    // Names and external ids.
    let mut named = ok(s.get_artifacts_by_id(&[arts[1]]).await).remove(0);
    named.name = Some("best".into());
    named.external_id = Some("mlflow:7".into());
    ok(s.put_artifacts(&[named]).await);
    let got = ok(s.get_artifact_by_type_and_name("Model", None, "best").await).unwrap();
    assert_eq!(got.id, Some(arts[1]));
    let got = ok(s
        .get_artifacts_by_external_ids(&["mlflow:7".into(), "x".into()])
        .await);
    assert_eq!(ids(got), vec![arts[1]]);
    let mut ex = ok(s.get_executions_by_id(&execs[..1]).await).remove(0);
    ex.name = Some("ingest".into());
    ex.external_id = Some("argo:1".into());
    ok(s.put_executions(&[ex]).await);
    assert!(
        ok(s.get_execution_by_type_and_name("Step", None, "ingest")
            .await)
        .is_some()
    );
    assert_eq!(
        ok(s.get_executions_by_external_ids(&["argo:1".into()]).await).len(),
        1
    );
    let mut cx = ok(s.get_contexts_by_id(&[*ctx]).await).remove(0);
    cx.external_id = Some("kfp:run-0".into());
    ok(s.put_contexts(&[cx]).await);
    assert_eq!(
        ok(s.get_contexts_by_external_ids(&["kfp:run-0".into()]).await).len(),
        1
    );

    // Events with their paths.
    let ev = ok(s.get_events_by_artifact_ids(&[arts[1]]).await);
    assert_eq!(ev.len(), 2);
    let out = ev
        .iter()
        .find(|e| e.event_type == EventType::Output)
        .unwrap();
    assert_eq!(out.execution_id, execs[1]);
    assert_eq!(
        out.path,
        vec![PathStep::Key("model".into()), PathStep::Index(0)]
    );
    assert!(out.milliseconds_since_epoch.is_some());
    let ev = ok(s.get_events_by_execution_ids(&[execs[1], execs[2]]).await);
    assert_eq!(ev.len(), 4);

    // Explicit links are idempotent; parent contexts.
    ok(s.put_attributions_and_associations(
        &[Attribution {
            context_id: *ctx,
            artifact_id: arts[0],
        }],
        &[Association {
            context_id: *ctx,
            execution_id: execs[0],
        }],
    )
    .await);
    assert_eq!(ok(s.counts().await).attributions, 6);
    let pipeline = ok(s.put_contexts(&[Context::new(t.run, "pipeline")]).await)[0];
    ok(s.put_parent_contexts(&[
        ParentContext {
            child_id: runs[0].0,
            parent_id: pipeline,
        },
        ParentContext {
            child_id: runs[1].0,
            parent_id: pipeline,
        },
    ])
    .await);
    let kids = ok(s.get_children_contexts(pipeline).await);
    assert_eq!(kids.len(), 2);
    let parents = ok(s.get_parent_contexts(runs[0].0).await);
    assert_eq!(parents[0].id, Some(pipeline));
    // A cycle is refused.
    let e = s
        .put_parent_contexts(&[ParentContext {
            child_id: pipeline,
            parent_id: runs[0].0,
        }])
        .await;
    assert!(matches!(e, Err(Error::InvalidArgument { .. })));
    let e = s
        .put_parent_contexts(&[ParentContext {
            child_id: pipeline,
            parent_id: pipeline,
        }])
        .await;
    assert!(matches!(e, Err(Error::InvalidArgument { .. })));
}

pub async fn put_execution_reuses_nodes<S: MetadataStore>(s: &S) {
    let t = setup_types(s).await;
    // An existing artifact given with its id gets a new event, not a copy.
    let aid = ok(s.put_artifacts(&[Artifact::new(t.data, "shared")]).await)[0];
    let shared = ok(s.get_artifacts_by_id(&[aid]).await).remove(0);
    for i in 0..3 {
        ok(s.put_execution(
            &Execution::new(t.step, ExecutionState::Complete),
            &[(shared.clone(), Some(Event::new(EventType::Input)))],
            &[Context::new(t.run, format!("r{i}"))],
        )
        .await);
    }
    let c = ok(s.counts().await);
    assert_eq!(
        (c.artifacts, c.events, c.contexts, c.attributions),
        (1, 3, 3, 3)
    );
    // An artifact without an event is attributed, not linked by an event.
    let r = ok(s
        .put_execution(
            &Execution::new(t.step, ExecutionState::New),
            &[(Artifact::new(t.data, "loose"), None)],
            &[],
        )
        .await);
    assert_eq!(r.artifact_ids.len(), 1);
    assert!(r.context_ids.is_empty());
    assert_eq!(ok(s.counts().await).events, 3);
    // A failed write leaves its nodes as they were, and the same node given
    // again afterwards is written, not taken for what is stored.
    let changed = Artifact {
        uri: Some("changed".to_owned()),
        ..shared.clone()
    };
    let failed = s
        .put_execution(
            &Execution::new(t.step, ExecutionState::Complete),
            &[(changed.clone(), Some(Event::new(EventType::Input)))],
            &[Context::new(t.run + 1000, "no such type")],
        )
        .await;
    assert!(failed.is_err());
    let uri = |a: Vec<Artifact>| a.into_iter().next().and_then(|a| a.uri);
    assert_eq!(
        uri(ok(s.get_artifacts_by_id(&[aid]).await)).as_deref(),
        Some("shared")
    );
    ok(s.put_artifacts(&[changed]).await);
    assert_eq!(
        uri(ok(s.get_artifacts_by_id(&[aid]).await)).as_deref(),
        Some("changed")
    );
    // A node given twice in one call ends as given last, also where the
    // last is what was stored before the call.
    let stored = ok(s.get_artifacts_by_id(&[aid]).await).remove(0);
    let interim = Artifact {
        uri: Some("interim".to_owned()),
        ..stored.clone()
    };
    ok(s.put_execution(
        &Execution::new(t.step, ExecutionState::Complete),
        &[
            (interim, Some(Event::new(EventType::Input))),
            (stored, Some(Event::new(EventType::Input))),
        ],
        &[],
    )
    .await);
    assert_eq!(
        uri(ok(s.get_artifacts_by_id(&[aid]).await)).as_deref(),
        Some("changed")
    );
    // A deleted node given again with its id is not found, however recently
    // it was written.
    let gone_id = ok(s.put_artifacts(&[Artifact::new(t.data, "gone")]).await)[0];
    let gone = ok(s.get_artifacts_by_id(&[gone_id]).await).remove(0);
    ok(s.put_artifacts(std::slice::from_ref(&gone)).await);
    ok(s.delete_artifact(gone_id, DeletePolicy::Refuse).await);
    assert!(matches!(
        s.put_artifacts(&[gone]).await,
        Err(Error::NotFound { .. })
    ));
}

pub async fn list_and_paginate<S: MetadataStore>(s: &S) {
    let t = setup_types(s).await;
    let mut all = Vec::new();
    for i in 0..23 {
        all.extend(ok(s
            .put_artifacts(&[Artifact::new(t.data, format!("u{i}"))])
            .await));
    }
    // Touch some so last-update order differs from id order.
    let mut first = ok(s.get_artifacts_by_id(&all[..3]).await);
    for a in &mut first {
        a.state = ArtifactState::Live;
    }
    ok(s.put_artifacts(&first).await);
    for order_by in [OrderBy::Id, OrderBy::CreateTime, OrderBy::LastUpdateTime] {
        for ascending in [true, false] {
            let mut seen = Vec::new();
            let mut opts = ListOptions {
                limit: Some(5),
                order_by,
                ascending,
                ..ListOptions::default()
            };
            let mut pages = 0;
            loop {
                let page = ok(s.list_artifacts(&opts).await);
                assert!(page.items.len() <= 5);
                seen.extend(page.items.iter().map(|a| {
                    let key = match order_by {
                        OrderBy::Id => a.id.unwrap(),
                        OrderBy::CreateTime => a.create_time_since_epoch,
                        OrderBy::LastUpdateTime => a.last_update_time_since_epoch,
                    };
                    (key, a.id.unwrap())
                }));
                pages += 1;
                match page.next_page_token {
                    Some(tok) => opts.page_token = Some(tok),
                    None => break,
                }
            }
            assert_eq!(pages, 5, "{order_by:?} {ascending}");
            let mut sorted = seen.clone();
            sorted.sort_unstable();
            if !ascending {
                sorted.reverse();
            }
            assert_eq!(seen, sorted, "{order_by:?} {ascending}");
            let ids: BTreeSet<i64> = seen.iter().map(|k| k.1).collect();
            assert_eq!(ids, all.iter().copied().collect::<BTreeSet<_>>());
        }
    }
    let page = ok(s.list_executions(&ListOptions::default()).await);
    assert!(page.items.is_empty() && page.next_page_token.is_none());
    ok(
        s.put_contexts(&[Context::new(t.run, "a"), Context::new(t.run, "b")])
            .await,
    );
    assert_eq!(
        ok(s.list_contexts(&ListOptions::default()).await)
            .items
            .len(),
        2
    );

    let bad = |o: ListOptions| async move { s.list_artifacts(&o).await };
    let e = bad(ListOptions {
        page_token: Some("garbage".into()),
        ..ListOptions::default()
    })
    .await;
    assert!(matches!(e, Err(Error::InvalidArgument { .. })));
    let tok = ok(s
        .list_artifacts(&ListOptions {
            limit: Some(2),
            order_by: OrderBy::Id,
            ..ListOptions::default()
        })
        .await)
    .next_page_token;
    let e = bad(ListOptions {
        page_token: tok,
        order_by: OrderBy::CreateTime,
        ..ListOptions::default()
    })
    .await;
    assert!(
        matches!(e, Err(Error::InvalidArgument { .. })),
        "token of another ordering"
    );
    let e = bad(ListOptions {
        limit: Some(0),
        ..ListOptions::default()
    })
    .await;
    assert!(matches!(e, Err(Error::InvalidArgument { .. })));
    let e = bad(ListOptions {
        limit: Some(limits::MAX_PAGE_SIZE + 1),
        ..ListOptions::default()
    })
    .await;
    assert!(matches!(e, Err(Error::InvalidArgument { .. })));
    let e = bad(ListOptions {
        filter_query: Some("type = = 'Model'".into()),
        ..ListOptions::default()
    })
    .await;
    assert!(
        matches!(&e, Err(Error::Filter(f)) if f.column == Some(8)),
        "{e:?}"
    );
}

/// A filtered list read page by page while it changes: each page holds the
/// rows that match when it is read, after the previous page's last row
/// (keyset pagination), whatever a backend remembers between pages.
pub async fn filter_pages_follow_writes<S: MetadataStore>(s: &S) {
    let t = setup_types(s).await;
    let model = |i: i64, accuracy: f64| {
        Artifact::new(t.model, format!("s3://p/{i}")).with_property("accuracy", accuracy)
    };
    let ids = ok(s
        .put_artifacts(&(0..5).map(|i| model(i, 0.99)).collect::<Vec<_>>())
        .await);
    let uris = |page: &keelson_lineage::Page<Artifact>| -> Vec<String> {
        page.items.iter().filter_map(|a| a.uri.clone()).collect()
    };
    let mut options = ListOptions {
        filter_query: Some("type = 'Model' AND properties.accuracy.double_value > 0.9".into()),
        limit: Some(2),
        order_by: OrderBy::Id,
        ascending: false,
        ..ListOptions::default()
    };
    let first = ok(s.list_artifacts(&options).await);
    assert_eq!(uris(&first), ["s3://p/4", "s3://p/3"]);
    // A new match sorts before the cursor (not on later pages); a row after
    // it stops matching.
    ok(s.put_artifacts(&[model(5, 0.99)]).await);
    let mut dropped = model(2, 0.1);
    dropped.id = Some(ids[2]);
    ok(s.put_artifacts(&[dropped]).await);
    options.page_token = first.next_page_token;
    let second = ok(s.list_artifacts(&options).await);
    assert_eq!(uris(&second), ["s3://p/1", "s3://p/0"]);
    assert_eq!(second.next_page_token, None);
    // The same list again from its start sees every write.
    options.page_token = None;
    let again = ok(s.list_artifacts(&options).await);
    assert_eq!(uris(&again), ["s3://p/5", "s3://p/4"]);
    let mut restored = model(2, 0.99);
    restored.id = Some(ids[2]);
    ok(s.put_artifacts(&[restored]).await);
    options.page_token = again.next_page_token;
    let next = ok(s.list_artifacts(&options).await);
    assert_eq!(uris(&next), ["s3://p/3", "s3://p/2"]);
}

/// MLMD filter queries through `list_*`: attributes, typed properties,
/// context joins, pages of a filtered list, and the handle's namespace.
pub async fn filter_queries<S: MetadataStore>(s: &S) {
    let t = setup_types(s).await;
    let runs = record_runs(s, &t, 4).await;
    let query = |q: &str| ListOptions {
        filter_query: Some(q.to_owned()),
        limit: Some(2),
        order_by: OrderBy::Id,
        ascending: true,
        ..ListOptions::default()
    };
    let all = |q: &'static str| async move {
        let mut opts = query(q);
        let mut uris = Vec::new();
        loop {
            let page = ok(s.list_artifacts(&opts).await);
            uris.extend(page.items.into_iter().filter_map(|a| a.uri));
            match page.next_page_token {
                Some(tok) => opts.page_token = Some(tok),
                None => return uris,
            }
        }
    };
    let models = all("type = 'Model'").await;
    assert_eq!(models.len(), 8, "{models:?}");
    assert_eq!(&models[..2], ["s3://m/0", "s3://serving/0"]);
    assert_eq!(
        all("type = 'Model' AND properties.accuracy.double_value > 0.5 AND contexts_a.name = 'run-2'").await,
        ["s3://m/2"]
    );
    assert_eq!(
        all("uri LIKE 's3://d/%' AND properties.rows.int_value = 10")
            .await
            .len(),
        4
    );
    assert!(
        all("properties.accuracy.double_value > 0.95")
            .await
            .is_empty()
    );
    assert_eq!(
        all("uri IN ('s3://d/1', 's3://m/3') OR name IS NOT NULL").await,
        ["s3://d/1", "s3://m/3"]
    );
    let runs_found = ok(s.list_contexts(&query("name = 'run-3'")).await).items;
    assert_eq!(runs_found.len(), 1);
    assert_eq!(runs_found[0].id, Some(runs[3].0));
    let executions = ok(s
        .list_executions(&query(
            "last_known_state = COMPLETE AND contexts_r.name = 'run-0'",
        ))
        .await);
    assert!(!executions.items.is_empty());
    // What an execution lacks is an error naming the attribute.
    let e = s.list_executions(&query("uri = 'x'")).await;
    assert!(
        matches!(&e, Err(Error::Filter(f)) if f.message.contains("uri")),
        "{e:?}"
    );
    // Another namespace's handle sees none of it.
    let other = ok(s.namespace("filter-other"));
    assert!(
        ok(other.list_artifacts(&query("type = 'Model'")).await)
            .items
            .is_empty()
    );
}

fn sizes(g: &keelson_lineage::LineageGraph) -> (usize, usize, usize, usize) {
    (
        g.artifacts.len(),
        g.executions.len(),
        g.events.len(),
        g.contexts.len(),
    )
}

pub async fn lineage_semantics<S: MetadataStore>(s: &S) {
    let t = setup_types(s).await;
    let runs = record_runs(s, &t, 3).await;
    let (ctx, execs, arts) = &runs[1];
    let q = |start, max_hops, direction| LineageQuery {
        start,
        max_hops,
        direction,
    };
    let arts_of = |g: &keelson_lineage::LineageGraph| {
        g.artifacts
            .iter()
            .map(|a| a.id.unwrap())
            .collect::<Vec<_>>()
    };

    // Upstream of the pushed model: the whole run.
    let g = ok(s
        .lineage_subgraph(&LineageQuery::upstream_of_artifact(arts[2], 10))
        .await);
    assert_eq!(sizes(&g), (3, 3, 5, 1));
    assert_eq!(g.contexts[0].id, Some(*ctx));
    assert_eq!(g.attributions.len(), 3);
    assert_eq!(g.associations.len(), 3);
    assert!(g.types.iter().any(|t| t.name == "Model"));
    // A node exactly at the limit is in, its neighbours are not.
    let g = ok(s
        .lineage_subgraph(&LineageQuery::upstream_of_artifact(arts[2], 2))
        .await);
    assert_eq!(arts_of(&g), vec![arts[1], arts[2]]);
    assert_eq!(g.executions.len(), 1);
    assert_eq!(g.events.len(), 2);
    let g = ok(s
        .lineage_subgraph(&LineageQuery::upstream_of_artifact(arts[2], 0))
        .await);
    assert_eq!(sizes(&g), (1, 0, 0, 1));
    // Downstream of the data, and of the pushed model (nothing).
    let g = ok(s
        .lineage_subgraph(&q(
            LineageStart::Artifacts(vec![arts[0]]),
            10,
            Direction::Downstream,
        ))
        .await);
    assert_eq!(sizes(&g), (3, 2, 4, 1));
    let g = ok(s
        .lineage_subgraph(&q(
            LineageStart::Artifacts(vec![arts[2]]),
            10,
            Direction::Downstream,
        ))
        .await);
    assert_eq!(sizes(&g), (1, 0, 0, 1));
    // Both ways from the model; from an execution.
    let g = ok(s
        .lineage_subgraph(&q(
            LineageStart::Artifacts(vec![arts[1]]),
            10,
            Direction::Both,
        ))
        .await);
    assert_eq!(sizes(&g), (3, 3, 5, 1));
    let g = ok(s
        .lineage_subgraph(&q(
            LineageStart::Executions(vec![execs[1]]),
            1,
            Direction::Upstream,
        ))
        .await);
    assert_eq!(arts_of(&g), vec![arts[0]]);
    assert_eq!(g.events.len(), 1);
    // Several start nodes.
    let starts = LineageStart::Artifacts(vec![runs[0].2[2], runs[2].2[2]]);
    let g = ok(s
        .lineage_subgraph(&q(starts, 10, Direction::Upstream))
        .await);
    assert_eq!(sizes(&g), (6, 6, 10, 2));
    // Unknown start nodes, too many, none.
    let e = s
        .lineage_subgraph(&LineageQuery::upstream_of_artifact(99_999, 3))
        .await;
    assert!(matches!(e, Err(Error::NotFound { .. })));
    let many = LineageStart::Artifacts((0..=limits::MAX_LINEAGE_START_NODES as i64).collect());
    assert!(matches!(
        s.lineage_subgraph(&q(many, 1, Direction::Both)).await,
        Err(Error::InvalidArgument { .. })
    ));
    let none = LineageStart::Executions(vec![]);
    assert!(matches!(
        s.lineage_subgraph(&q(none, 1, Direction::Both)).await,
        Err(Error::InvalidArgument { .. })
    ));

    // Drawings name every node and edge.
    let g = ok(s
        .lineage_subgraph(&LineageQuery::upstream_of_artifact(arts[2], 10))
        .await);
    let dot = g.to_dot();
    for a in arts {
        assert!(dot.contains(&format!("a{a} [shape=box")), "{dot}");
    }
    assert!(
        dot.contains(&format!("a{} -> e{}", arts[0], execs[1])),
        "{dot}"
    );
    assert!(
        dot.contains(&format!("e{} -> a{}", execs[2], arts[2])),
        "{dot}"
    );
    let m = g.to_mermaid();
    assert!(
        m.contains(&format!("a{} --> e{}", arts[1], execs[2])),
        "{m}"
    );
    assert!(m.contains(&format!("c{ctx} -.- a{}", arts[0])), "{m}");
}

/// MLMD's answers on one run of the anchor workload `lineage-v1` (5 steps of
/// 2 outputs, each step reading both outputs of the one before).
pub async fn lineage_matches_mlmd_workload<S: MetadataStore>(s: &S) {
    let o = TypeOptions::default();
    let at = ok(s.put_type(&NodeType::artifact("Thing"), o).await);
    let et = ok(s.put_type(&NodeType::execution("Step"), o).await);
    let ct = ok(s.put_type(&NodeType::context("PipelineRun"), o).await);
    let mut ctx = Context::new(ct, "run-0000000");
    let mut prev: Vec<Artifact> = Vec::new();
    let mut outputs = Vec::new();
    for step in 0..5 {
        let mut pairs: Vec<(Artifact, Option<Event>)> = prev
            .iter()
            .map(|a| {
                (
                    a.clone(),
                    Some(Event::new(EventType::Input).with_key(a.uri.clone().unwrap())),
                )
            })
            .collect();
        for j in 0..2 {
            let uri = format!("mem://run-0000000/{step}/{j}");
            pairs.push((
                Artifact::new(at, uri.clone()),
                Some(Event::new(EventType::Output).with_key(uri)),
            ));
        }
        let r = ok(s
            .put_execution(
                &Execution::new(et, ExecutionState::Complete),
                &pairs,
                std::slice::from_ref(&ctx),
            )
            .await);
        ctx.id = Some(r.context_ids[0]);
        let new_ids = &r.artifact_ids[r.artifact_ids.len() - 2..];
        prev = ok(s.get_artifacts_by_id(new_ids).await);
        outputs.push(new_ids.to_vec());
    }
    // pushed_model = first output of the last step; model = first of step 2.
    let g = ok(s
        .lineage_subgraph(&LineageQuery::upstream_of_artifact(outputs[4][0], 10))
        .await);
    assert_eq!(sizes(&g), (9, 5, 17, 1));
    let both = LineageQuery {
        start: LineageStart::Artifacts(vec![outputs[2][0]]),
        max_hops: 10,
        direction: Direction::Both,
    };
    assert_eq!(sizes(&ok(s.lineage_subgraph(&both).await)), (10, 5, 18, 1));
}

pub async fn delete_refuse_and_cascade<S: MetadataStore>(s: &S) {
    let t = setup_types(s).await;
    let runs = record_runs(s, &t, 2).await;
    let (ctx, execs, arts) = runs[0].clone();
    let before = ok(s.counts().await);

    let e = s
        .delete_artifact(arts[1], DeletePolicy::Refuse)
        .await
        .unwrap_err();
    match &e {
        Error::Referenced { what, references } => {
            assert_eq!(what, &format!("artifact {}", arts[1]));
            assert_eq!(references, "2 events, 1 attributions");
        }
        other => panic!("{other}"),
    }
    assert!(matches!(
        s.delete_execution(execs[0], DeletePolicy::Refuse).await,
        Err(Error::Referenced { .. })
    ));
    assert!(matches!(
        s.delete_context(ctx, DeletePolicy::Refuse).await,
        Err(Error::Referenced { .. })
    ));
    assert_eq!(ok(s.counts().await), before);

    ok(s.delete_artifact(arts[1], DeletePolicy::Cascade).await);
    assert!(ok(s.get_artifacts_by_id(&[arts[1]]).await).is_empty());
    let c = ok(s.counts().await);
    assert_eq!(c.artifacts, before.artifacts - 1);
    assert_eq!(c.events, before.events - 2);
    assert_eq!(c.attributions, before.attributions - 1);
    assert!(ok(s.get_events_by_artifact_ids(&[arts[1]]).await).is_empty());
    // Deleting it again: not found.
    assert!(matches!(
        s.delete_artifact(arts[1], DeletePolicy::Cascade).await,
        Err(Error::NotFound { .. })
    ));

    ok(s.delete_execution(execs[1], DeletePolicy::Cascade).await);
    let c2 = ok(s.counts().await);
    assert_eq!(c2.executions, c.executions - 1);
    assert_eq!(c2.events, c.events - 1);
    assert_eq!(c2.associations, c.associations - 1);

    // A context with children is refused; cascade drops the links only.
    let parent = ok(s.put_contexts(&[Context::new(t.run, "pipeline")]).await)[0];
    ok(s.put_parent_contexts(&[ParentContext {
        child_id: runs[1].0,
        parent_id: parent,
    }])
    .await);
    let e = s
        .delete_context(parent, DeletePolicy::Refuse)
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::Referenced { references, .. } if references == "1 child contexts"),
        "{e}"
    );
    ok(s.delete_context(ctx, DeletePolicy::Cascade).await);
    assert!(ok(s.get_artifacts_by_context(ctx).await).is_empty());
    assert_eq!(
        ok(s.get_artifacts_by_id(&[arts[0]]).await).len(),
        1,
        "members survive"
    );
    ok(s.delete_context(parent, DeletePolicy::Cascade).await);
    assert!(ok(s.get_parent_contexts(runs[1].0).await).is_empty());
    assert_eq!(ok(s.counts().await).parent_contexts, 0);
    // An unreferenced node goes under Refuse too.
    let lone = ok(s.put_artifacts(&[Artifact::new(t.data, "lone")]).await)[0];
    ok(s.delete_artifact(lone, DeletePolicy::Refuse).await);
}

pub async fn namespaces_are_isolated<S: MetadataStore>(s: &S) {
    let a = s.namespace("team-a").unwrap();
    let b = s.namespace("team-b").unwrap();
    assert_eq!(a.current_namespace(), "team-a");
    assert!(s.namespace("Team_A").is_err());
    assert!(s.namespace(&"x".repeat(64)).is_err());
    let ta = setup_types(&a).await;
    let runs = record_runs(&a, &ta, 1).await;
    let (ctx, execs, arts) = &runs[0];

    // b sees nothing of a's, by any route.
    assert_eq!(ok(b.counts().await), StoreCounts::default());
    assert_eq!(ok(s.counts().await), StoreCounts::default());
    assert!(ok(b.get_artifacts_by_id(arts).await).is_empty());
    assert!(ok(b.get_executions_by_id(execs).await).is_empty());
    assert!(ok(b.get_contexts_by_id(&[*ctx]).await).is_empty());
    assert!(ok(b.get_types_by_id(&[ta.model]).await).is_empty());
    assert!(ok(b.get_type(NodeKind::Artifact, "Model", None).await).is_none());
    assert!(ok(b.get_artifacts_by_type("Model", None).await).is_empty());
    assert!(ok(b.get_artifacts_by_uri("s3://m/0").await).is_empty());
    assert!(ok(b.get_artifacts_by_context(*ctx).await).is_empty());
    assert!(ok(b.get_contexts_by_artifact(arts[0]).await).is_empty());
    assert!(ok(b.get_events_by_artifact_ids(arts).await).is_empty());
    assert!(ok(b.get_events_by_execution_ids(execs).await).is_empty());
    assert!(
        ok(b.list_artifacts(&ListOptions::default()).await)
            .items
            .is_empty()
    );
    assert!(matches!(
        b.lineage_subgraph(&LineageQuery::upstream_of_artifact(arts[2], 5))
            .await,
        Err(Error::NotFound { .. })
    ));

    // b cannot change a's rows or use a's types, nor link across namespaces.
    let mut stolen = ok(a.get_artifacts_by_id(&arts[..1]).await).remove(0);
    stolen.uri = Some("evil".into());
    assert!(matches!(
        b.put_artifacts(std::slice::from_ref(&stolen)).await,
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        b.put_artifacts(&[Artifact::new(ta.data, "x")]).await,
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        b.delete_artifact(arts[0], DeletePolicy::Cascade).await,
        Err(Error::NotFound { .. })
    ));
    let tb = setup_types(&b).await;
    let bart = ok(b.put_artifacts(&[Artifact::new(tb.data, "b-data")]).await)[0];
    let bctx = ok(b.put_contexts(&[Context::new(tb.run, "run-0")]).await)[0];
    let e = b
        .put_attributions_and_associations(
            &[Attribution {
                context_id: *ctx,
                artifact_id: bart,
            }],
            &[],
        )
        .await;
    assert!(matches!(e, Err(Error::NotFound { .. })));
    let e = b
        .put_parent_contexts(&[ParentContext {
            child_id: bctx,
            parent_id: *ctx,
        }])
        .await;
    assert!(matches!(e, Err(Error::NotFound { .. })));
    let e = b
        .put_events(&[Event {
            artifact_id: arts[0],
            execution_id: execs[0],
            ..Event::new(EventType::Input)
        }])
        .await;
    assert!(matches!(e, Err(Error::NotFound { .. })));
    let e = b
        .put_execution(
            &Execution::new(tb.step, ExecutionState::New),
            &[(stolen, None)],
            &[],
        )
        .await;
    assert!(matches!(e, Err(Error::NotFound { .. })));

    // The same names live side by side; a's rows are untouched.
    let mut c_b = ok(b.counts().await);
    c_b.types = 0;
    assert_eq!((c_b.artifacts, c_b.contexts, c_b.events), (1, 1, 0));
    assert_eq!(
        ok(a.get_artifacts_by_id(&arts[..1]).await)[0]
            .uri
            .as_deref(),
        Some("s3://d/0")
    );
    assert_eq!(ok(a.counts().await).artifacts, 3);
}

pub async fn bad_input_writes_nothing<S: MetadataStore>(s: &S) {
    let t = setup_types(s).await;
    let runs = record_runs(s, &t, 1).await;
    let (ctx, execs, arts) = runs[0].clone();
    let before = ok(s.counts().await);
    let step = || Execution::new(t.step, ExecutionState::Complete);
    let out = || Some(Event::new(EventType::Output));
    let good = |uri: &str| (Artifact::new(t.data, uri), out());

    let mut cases: Vec<(&str, Result<(), Error>)> = Vec::new();
    // Unknown type; a type of the wrong kind.
    let r = s
        .put_execution(
            &step(),
            &[good("a"), (Artifact::new(9_999, "x"), out())],
            &[],
        )
        .await;
    cases.push(("unknown type", r.map(drop)));
    let r = s
        .put_execution(
            &step(),
            &[good("a"), (Artifact::new(t.step, "x"), out())],
            &[],
        )
        .await;
    cases.push(("execution type for an artifact", r.map(drop)));
    // Wrong property type, undeclared property.
    let r = s
        .put_execution(
            &step(),
            &[
                good("a"),
                (
                    Artifact::new(t.data, "x").with_property("rows", "ten"),
                    out(),
                ),
            ],
            &[],
        )
        .await;
    cases.push(("wrong property type", r.map(drop)));
    let r = s
        .put_execution(&step().with_property("nope", 1_i64), &[good("a")], &[])
        .await;
    cases.push(("undeclared property", r.map(drop)));
    let r = s
        .put_execution(
            &step(),
            &[
                good("a"),
                (
                    Artifact::new(t.data, "x").with_property("rows", f64::NAN),
                    out(),
                ),
            ],
            &[],
        )
        .await;
    cases.push(("NaN", r.map(drop)));
    // Dangling references.
    let mut ghost = Artifact::new(t.data, "g");
    ghost.id = Some(777_777);
    let r = s
        .put_execution(&step(), &[good("a"), (ghost, out())], &[])
        .await;
    cases.push(("dangling artifact", r.map(drop)));
    let r = s
        .put_events(&[
            Event {
                artifact_id: arts[0],
                execution_id: execs[0],
                ..Event::new(EventType::Input)
            },
            Event {
                artifact_id: arts[0],
                execution_id: 888_888,
                ..Event::new(EventType::Input)
            },
        ])
        .await;
    cases.push(("dangling event", r));
    let r = s
        .put_attributions_and_associations(
            &[Attribution {
                context_id: ctx,
                artifact_id: arts[0],
            }],
            &[Association {
                context_id: ctx,
                execution_id: 888_888,
            }],
        )
        .await;
    cases.push(("dangling association", r));
    // Duplicate context name, within one call and against the store.
    let r = s
        .put_execution(&step(), &[good("a")], &[Context::new(t.run, "run-0")])
        .await;
    cases.push(("duplicate context", r.map(drop)));
    let r = s
        .put_contexts(&[Context::new(t.run, "fresh"), Context::new(t.run, "fresh")])
        .await;
    cases.push(("duplicate context in one call", r.map(drop)));
    // Oversize strings.
    let big_uri = "u".repeat(limits::MAX_URI_BYTES + 1);
    let r = s
        .put_execution(&step(), &[good("a"), good(&big_uri)], &[])
        .await;
    cases.push(("oversize uri", r.map(drop)));
    let big = "v".repeat(limits::MAX_VALUE_BYTES + 1);
    let mut a = Artifact::new(t.data, "x");
    a.custom_properties
        .insert("note".into(), Value::String(big));
    let r = s
        .put_execution(&step(), &[good("a"), (a, out())], &[])
        .await;
    cases.push(("oversize value", r.map(drop)));
    let r = s
        .put_contexts(&[Context::new(t.run, "n".repeat(limits::MAX_NAME_BYTES + 1))])
        .await;
    cases.push(("oversize name", r.map(drop)));
    let r = s.put_contexts(&[Context::new(t.run, "")]).await;
    cases.push(("empty name", r.map(drop)));
    let mut deep = Event::new(EventType::Output);
    for i in 0..=limits::MAX_PATH_STEPS as i64 {
        deep = deep.with_index(i);
    }
    let r = s
        .put_execution(&step(), &[(Artifact::new(t.data, "x"), Some(deep))], &[])
        .await;
    cases.push(("oversize path", r.map(drop)));

    for (name, r) in cases {
        let e = r.expect_err(name);
        assert!(
            matches!(
                e,
                Error::NotFound { .. }
                    | Error::InvalidArgument { .. }
                    | Error::AlreadyExists { .. }
            ),
            "{name}: {e:?}"
        );
        assert_eq!(ok(s.counts().await), before, "{name} wrote something");
    }
    // The errors name what is wrong.
    let e = s
        .put_artifacts(&[Artifact::new(t.data, "x").with_property("rows", "ten")])
        .await
        .unwrap_err();
    assert!(e.to_string().contains("artifact.properties.rows"), "{e}");
    let e = s
        .put_contexts(&[Context::new(t.run, "run-0")])
        .await
        .unwrap_err();
    assert!(e.to_string().contains("run-0"), "{e}");
    assert!(matches!(e, Error::AlreadyExists { .. }));
    // The store still works afterwards.
    ok(s.put_execution(&step(), &[good("fine")], &[]).await);
}

/// Several writers and readers at once: every acknowledged write is there,
/// none is lost, no lock error reaches a caller.
pub async fn concurrent_writers_and_readers<S: MetadataStore + Clone + 'static>(s: &S) {
    const WRITERS: usize = 6;
    const PER_WRITER: usize = 40;
    let t = setup_types(s).await;
    let types = std::sync::Arc::new(t);
    let mut tasks = Vec::new();
    for w in 0..WRITERS {
        let s = s.clone();
        let t = types.clone();
        tasks.push(tokio::spawn(async move {
            let mut ctx = Context::new(t.run, format!("writer-{w}"));
            let mut acked = Vec::new();
            for i in 0..PER_WRITER {
                let r = s
                    .put_execution(
                        &Execution::new(t.step, ExecutionState::Complete)
                            .with_property("attempt", i as i64),
                        &[(
                            Artifact::new(t.data, format!("w{w}/{i}"))
                                .with_property("rows", i as i64),
                            Some(Event::new(EventType::Output).with_key("out")),
                        )],
                        std::slice::from_ref(&ctx),
                    )
                    .await
                    .unwrap_or_else(|e| panic!("writer {w} call {i}: {e}"));
                ctx.id = Some(r.context_ids[0]);
                acked.push(r.artifact_ids[0]);
            }
            (ctx.id.unwrap(), acked)
        }));
    }
    let mut readers = Vec::new();
    for r in 0..3 {
        let s = s.clone();
        readers.push(tokio::spawn(async move {
            let mut last = 0;
            for _ in 0..60 {
                let page = s
                    .list_artifacts(&ListOptions {
                        limit: Some(50),
                        ..ListOptions::default()
                    })
                    .await
                    .unwrap_or_else(|e| panic!("reader {r}: {e}"));
                let n = s
                    .counts()
                    .await
                    .unwrap_or_else(|e| panic!("reader {r}: {e}"))
                    .artifacts;
                // Counts only grow: a reader never sees a write undone.
                assert!(n >= last);
                last = n;
                assert!(page.items.len() <= 50);
                tokio::task::yield_now().await;
            }
        }));
    }
    // A last-writer-wins update race on one node: the stored value is one of
    // the values written, and the update count matches.
    let shared = ok(s
        .put_artifacts(&[Artifact::new(types.data, "shared")])
        .await)[0];
    let mut updaters = Vec::new();
    for u in 0..4_i64 {
        let s = s.clone();
        let t = types.clone();
        updaters.push(tokio::spawn(async move {
            for k in 0..10_i64 {
                let mut a = Artifact::new(t.data, "shared").with_property("rows", u * 100 + k);
                a.id = Some(shared);
                s.put_artifacts(&[a])
                    .await
                    .unwrap_or_else(|e| panic!("updater {u}: {e}"));
            }
        }));
    }
    // Failing writes mixed in (a backend may batch writes together) fail
    // alone and leave nothing behind.
    let saboteur = {
        let s = s.clone();
        let t = types.clone();
        tokio::spawn(async move {
            for i in 0..PER_WRITER {
                let r = s
                    .put_execution(
                        &Execution::new(t.step, ExecutionState::Complete),
                        &[
                            (Artifact::new(t.data, format!("bad/{i}")), None),
                            (Artifact::new(987_654_321, "no such type"), None),
                        ],
                        &[Context::new(t.run, format!("bad-{i}"))],
                    )
                    .await;
                assert!(matches!(r, Err(Error::NotFound { .. })), "{r:?}");
                tokio::task::yield_now().await;
            }
        })
    };
    let mut contexts = Vec::new();
    for task in tasks {
        let (ctx, acked) = task.await.unwrap();
        let arts = ok(s.get_artifacts_by_context(ctx).await);
        let got: Vec<i64> = arts.iter().map(|a| a.id.unwrap()).collect();
        assert_eq!(got, acked, "every acknowledged artifact is in its context");
        contexts.push(ctx);
    }
    for r in readers {
        r.await.unwrap();
    }
    for u in updaters {
        u.await.unwrap();
    }
    saboteur.await.unwrap();
    let c = ok(s.counts().await);
    assert_eq!(c.artifacts as usize, WRITERS * PER_WRITER + 1);
    assert_eq!(c.executions as usize, WRITERS * PER_WRITER);
    assert_eq!(c.events as usize, WRITERS * PER_WRITER);
    assert_eq!(c.contexts as usize, WRITERS);
    let last = ok(s.get_artifacts_by_id(&[shared]).await).remove(0);
    match last.properties.get("rows") {
        Some(Value::Int(v)) => assert_eq!(v % 100, 9, "the last update of some updater wins"),
        other => panic!("{other:?}"),
    }
}

/// The import path: one batch of rows keyed by source ids, written in one
/// transaction with the source's times, recognised on a second import.
pub async fn import_batch_keeps_times_and_is_idempotent<S: MetadataStore>(s: &S) {
    use keelson_lineage::{ImportBatch, SourceRow};
    fn row<T>(source_id: i64, row: T) -> SourceRow<T> {
        SourceRow { source_id, row }
    }
    let mut b = ImportBatch::new("src-a");
    b.types = vec![
        row(
            7,
            NodeType::artifact("Data").with_property("rows", PropertyType::Int),
        ),
        row(8, NodeType::execution("Job")),
        row(9, NodeType::context("Run")),
    ];
    let ctx = |name: &str, t| Context {
        type_id: 9,
        create_time_since_epoch: t,
        last_update_time_since_epoch: t + 500,
        ..Context::new(9, name)
    };
    let mut run = ctx("run-a", 1000);
    run.custom_properties
        .insert("owner".into(), Value::String("ml".into()));
    b.contexts = vec![row(30, run), row(31, ctx("pipe", 900))];
    let art = |uri: &str, t| Artifact {
        state: ArtifactState::Live,
        create_time_since_epoch: t,
        last_update_time_since_epoch: t + 100,
        ..Artifact::new(7, uri)
    };
    let mut a = art("s3://a", 100).with_property("rows", 5_i64);
    a.name = Some("a".into());
    a.custom_properties
        .insert("flag".into(), Value::Bool(false));
    a.custom_properties.insert(
        "cfg".into(),
        Value::Struct(serde_json::json!({"k": [1, "x"]})),
    );
    b.artifacts = vec![row(10, a), row(11, art("s3://b", 150))];
    b.executions = vec![row(
        20,
        Execution {
            create_time_since_epoch: 300,
            last_update_time_since_epoch: 400,
            ..Execution::new(8, ExecutionState::Complete)
        },
    )];
    b.events = vec![
        row(
            40,
            Event {
                artifact_id: 10,
                execution_id: 20,
                milliseconds_since_epoch: Some(350),
                ..Event::new(EventType::Input).with_key("in").with_index(0)
            },
        ),
        row(
            41,
            Event {
                artifact_id: 11,
                execution_id: 20,
                ..Event::new(EventType::Output)
            },
        ),
    ];
    b.attributions = vec![
        Attribution {
            context_id: 30,
            artifact_id: 10,
        },
        Attribution {
            context_id: 30,
            artifact_id: 11,
        },
    ];
    b.associations = vec![Association {
        context_id: 30,
        execution_id: 20,
    }];
    b.parent_contexts = vec![ParentContext {
        child_id: 30,
        parent_id: 31,
    }];

    let first = ok(s.import_batch(&b).await);
    assert_eq!(first.changed(), 14, "{first:?}");
    assert_eq!(
        (
            first.types.inserted,
            first.artifacts.inserted,
            first.events.inserted
        ),
        (3, 2, 2)
    );
    let counts = ok(s.counts().await);
    assert_eq!(
        counts,
        StoreCounts {
            types: 3,
            artifacts: 2,
            executions: 1,
            contexts: 2,
            events: 2,
            attributions: 2,
            associations: 1,
            parent_contexts: 1,
        }
    );

    // Source times, states and every kind of value are kept.
    let stored = ok(s.get_artifacts_by_uri("s3://a").await).remove(0);
    assert_eq!(
        (
            stored.create_time_since_epoch,
            stored.last_update_time_since_epoch
        ),
        (100, 200)
    );
    assert_eq!(stored.state, ArtifactState::Live);
    assert_eq!(stored.name.as_deref(), Some("a"));
    assert_eq!(stored.properties.get("rows"), Some(&Value::Int(5)));
    assert_eq!(
        stored.custom_properties,
        b.artifacts[0].row.custom_properties
    );
    let run = ok(s.get_context_by_type_and_name("Run", None, "run-a").await).unwrap();
    assert_eq!(
        (
            run.create_time_since_epoch,
            run.last_update_time_since_epoch
        ),
        (1000, 1500)
    );
    assert_eq!(
        ok(s.get_parent_contexts(run.id.unwrap()).await)[0].name,
        "pipe"
    );
    let id = stored.id.unwrap();
    let events = ok(s.get_events_by_artifact_ids(&[id]).await);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].milliseconds_since_epoch, Some(350));
    assert_eq!(
        events[0].path,
        vec![PathStep::Key("in".into()), PathStep::Index(0)]
    );
    let b_id = ok(s.get_artifacts_by_uri("s3://b").await)[0].id.unwrap();
    let output = ok(s.get_events_by_artifact_ids(&[b_id]).await);
    assert_eq!(
        output[0].milliseconds_since_epoch, None,
        "a missing time stays missing"
    );
    let g = ok(s
        .lineage_subgraph(&LineageQuery::upstream_of_artifact(b_id, 4))
        .await);
    assert_eq!(sizes(&g), (2, 1, 2, 1));

    // Importing the same rows again changes nothing.
    let again = ok(s.import_batch(&b).await);
    assert_eq!(again.changed(), 0, "{again:?}");
    assert_eq!(again.artifacts.unchanged, 2);
    assert_eq!(again.parent_contexts.unchanged, 1);
    assert_eq!(ok(s.counts().await), counts);

    // A row changed in the source is rewritten, with the source's times.
    let mut changed = b.clone();
    changed.artifacts[0].row.state = ArtifactState::Deleted;
    changed.artifacts[0].row.last_update_time_since_epoch = 900;
    let third = ok(s.import_batch(&changed).await);
    assert_eq!((third.artifacts.updated, third.changed()), (1, 1));
    let stored = ok(s.get_artifacts_by_id(&[id]).await).remove(0);
    assert_eq!(stored.state, ArtifactState::Deleted);
    assert_eq!(
        (
            stored.create_time_since_epoch,
            stored.last_update_time_since_epoch
        ),
        (100, 900)
    );
    assert_eq!(ok(s.counts().await), counts);

    // One transaction: a dangling reference fails the whole batch.
    let mut bad = ImportBatch::new("src-a");
    bad.artifacts = vec![row(12, art("s3://c", 1))];
    bad.events = vec![row(
        42,
        Event {
            artifact_id: 12,
            execution_id: 99,
            ..Event::new(EventType::Output)
        },
    )];
    let e = s.import_batch(&bad).await.unwrap_err();
    assert!(
        matches!(&e, Error::NotFound { what } if what.contains("execution 99")),
        "{e}"
    );
    assert_eq!(ok(s.counts().await), counts);
    assert!(ok(s.get_artifacts_by_uri("s3://c").await).is_empty());

    // Another source's types are matched by kind, name and version.
    let mut other = ImportBatch::new("src-b");
    other.types = b.types.clone();
    let t = ok(s.import_batch(&other).await);
    assert_eq!((t.types.unchanged, t.changed()), (3, 0));

    // Another namespace imports its own copy, and sees nothing of this one.
    let team = s.namespace("team-b").unwrap();
    assert_eq!(ok(team.import_batch(&b).await).changed(), 14);
    assert_eq!(ok(team.counts().await), counts);
    assert_eq!(ok(s.counts().await), counts);

    // The normal puts still stamp the current time.
    let mut stamped = art("s3://now", 5);
    stamped.type_id = stored.type_id;
    let now_id = ok(s.put_artifacts(&[stamped]).await)[0];
    let now = ok(s.get_artifacts_by_id(&[now_id]).await).remove(0);
    assert!(now.create_time_since_epoch > 1_000_000_000_000);
}
