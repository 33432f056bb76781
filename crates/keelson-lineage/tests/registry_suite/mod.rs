//! The model registry suite: every backend of `MetadataStore` must pass
//! each of these functions on a fresh, empty store.

use std::collections::BTreeSet;

use keelson_lineage::registry::{
    DocArtifact, DocArtifactUpdate, InferenceService, InferenceServiceState,
    InferenceServiceUpdate, ModelArtifact, ModelArtifactUpdate, ModelRegistry, ModelState,
    ModelVersion, ModelVersionUpdate, RegisteredModel, RegisteredModelUpdate, ServeModel,
    ServeModelUpdate, ServingEnvironment, ServingEnvironmentUpdate, schema,
};
use keelson_lineage::{
    Artifact, ArtifactState, Context, Error, Event, EventType, Execution, ExecutionState,
    ListOptions, MetadataStore, NodeKind, NodeType, OrderBy, ParentContext, PropertyType,
    TypeOptions, Value,
};

async fn open<S: MetadataStore + Clone>(s: &S) -> ModelRegistry<S> {
    ModelRegistry::open(s.clone()).await.unwrap()
}

fn id<T>(x: Option<T>) -> T {
    x.expect("created entities have ids")
}

fn all() -> ListOptions {
    ListOptions {
        ascending: true,
        ..ListOptions::default()
    }
}

#[track_caller]
fn assert_err(r: Result<impl std::fmt::Debug, Error>, pattern: fn(&Error) -> bool, needle: &str) {
    match r {
        Err(e) => {
            assert!(pattern(&e), "wrong error kind: {e:?}");
            assert!(e.to_string().contains(needle), "{e} lacks {needle:?}");
        }
        Ok(v) => panic!("expected an error containing {needle:?}, got {v:?}"),
    }
}

fn not_found(e: &Error) -> bool {
    matches!(e, Error::NotFound { .. })
}

fn exists(e: &Error) -> bool {
    matches!(e, Error::AlreadyExists { .. })
}

fn invalid(e: &Error) -> bool {
    matches!(e, Error::InvalidArgument { .. })
}

/// Opening registers the seven `kf.*` types once; reopening reuses them.
pub async fn open_registers_kubeflow_types<S: MetadataStore + Clone>(s: &S) {
    let r = open(s).await;
    let again = open(s).await;
    assert_eq!(r.types(), again.types());
    let t = r.types();
    let expected = [
        (
            NodeKind::Context,
            schema::REGISTERED_MODEL,
            t.registered_model,
        ),
        (NodeKind::Context, schema::MODEL_VERSION, t.model_version),
        (NodeKind::Artifact, schema::MODEL_ARTIFACT, t.model_artifact),
        (NodeKind::Artifact, schema::DOC_ARTIFACT, t.doc_artifact),
        (
            NodeKind::Context,
            schema::SERVING_ENVIRONMENT,
            t.serving_environment,
        ),
        (
            NodeKind::Context,
            schema::INFERENCE_SERVICE,
            t.inference_service,
        ),
        (NodeKind::Execution, schema::SERVE_MODEL, t.serve_model),
    ];
    for (kind, name, type_id) in expected {
        let stored = s.get_type(kind, name, None).await.unwrap().unwrap();
        assert_eq!(stored.id, Some(type_id), "{name}");
    }
    let version = s
        .get_type(NodeKind::Context, schema::MODEL_VERSION, None)
        .await
        .unwrap()
        .unwrap();
    for p in ["description", "model_name", "version", "author", "state"] {
        assert_eq!(version.properties[p], PropertyType::String, "{p}");
    }
    let service = s
        .get_type(NodeKind::Context, schema::INFERENCE_SERVICE, None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(service.properties["model_version_id"], PropertyType::Int);
    assert_eq!(s.counts().await.unwrap().types, 7);
}

/// A store whose `kf.RegisteredModel` type has a property the registry does
/// not declare (as a newer Kubeflow Model Registry might write) opens, and
/// updates keep that property's values.
pub async fn open_accepts_wider_stored_types<S: MetadataStore + Clone>(s: &S) {
    let wider = NodeType::context(schema::REGISTERED_MODEL)
        .with_property("state", PropertyType::String)
        .with_property("stars", PropertyType::Int);
    let type_id = s.put_type(&wider, TypeOptions::default()).await.unwrap();
    let model_id = s
        .put_contexts(&[Context::new(type_id, "old").with_property("stars", 5_i64)])
        .await
        .unwrap()[0];
    let r = open(s).await;
    assert_eq!(r.types().registered_model, type_id);
    let read = r.get_registered_model(model_id).await.unwrap();
    assert_eq!((read.name.as_str(), read.state), ("old", ModelState::Live));
    let update = RegisteredModelUpdate {
        owner: Some("me".into()),
        ..Default::default()
    };
    r.update_registered_model(model_id, &update).await.unwrap();
    let raw = &s.get_contexts_by_id(&[model_id]).await.unwrap()[0];
    assert_eq!(raw.properties["stars"], Value::Int(5));
    assert_eq!(raw.properties["owner"], Value::String("me".into()));
}

/// Create, get, find, list, partial update, archive of registered models,
/// and the errors naming the field.
pub async fn registered_models<S: MetadataStore + Clone>(s: &S) {
    let r = open(s).await;
    let mut m = RegisteredModel::new("churn");
    m.description = Some("predicts churn".into());
    m.external_id = Some("ext-churn".into());
    m.custom_properties
        .insert("team".into(), Value::String("growth".into()));
    let churn = r.create_registered_model(&m).await.unwrap();
    let churn_id = id(churn.id);
    assert_eq!(churn.name, "churn");
    assert_eq!(churn.state, ModelState::Live);
    assert_eq!(churn.description.as_deref(), Some("predicts churn"));
    assert!(churn.create_time_since_epoch > 0);
    assert_eq!(r.get_registered_model(churn_id).await.unwrap(), churn);

    assert_err(
        r.create_registered_model(&RegisteredModel::new("churn"))
            .await,
        exists,
        "registered_model.name",
    );
    let mut same_ext = RegisteredModel::new("other");
    same_ext.external_id = Some("ext-churn".into());
    assert_err(
        r.create_registered_model(&same_ext).await,
        exists,
        "registered_model.external_id",
    );
    assert_err(
        r.create_registered_model(&RegisteredModel::new("")).await,
        invalid,
        "registered_model.name",
    );
    assert_err(
        r.create_registered_model(&churn).await,
        invalid,
        "registered_model.id",
    );
    assert_err(
        r.get_registered_model(churn_id + 1000).await,
        not_found,
        "registered model",
    );

    assert_eq!(
        r.find_registered_model_by_name("churn").await.unwrap(),
        Some(churn.clone())
    );
    assert_eq!(r.find_registered_model_by_name("nope").await.unwrap(), None);
    assert_eq!(
        r.find_registered_model_by_external_id("ext-churn")
            .await
            .unwrap()
            .map(|m| m.id),
        Some(churn.id)
    );
    assert_eq!(
        r.find_registered_model_by_external_id("nope")
            .await
            .unwrap(),
        None
    );

    // A partial update changes what it sets and keeps everything else.
    let update = RegisteredModelUpdate {
        owner: Some("ml-team".into()),
        ..Default::default()
    };
    let updated = r.update_registered_model(churn_id, &update).await.unwrap();
    assert_eq!(updated.owner.as_deref(), Some("ml-team"));
    assert_eq!(updated.description, churn.description);
    assert_eq!(updated.external_id, churn.external_id);
    assert_eq!(updated.custom_properties, churn.custom_properties);
    assert_eq!(updated.name, "churn");
    assert_eq!(
        updated.create_time_since_epoch,
        churn.create_time_since_epoch
    );
    let archived = r.archive_registered_model(churn_id).await.unwrap();
    assert_eq!(archived.state, ModelState::Archived);
    assert_eq!(archived.owner.as_deref(), Some("ml-team"));
    let back = RegisteredModelUpdate {
        state: Some(ModelState::Live),
        custom_properties: Some(Default::default()),
        ..Default::default()
    };
    let live = r.update_registered_model(churn_id, &back).await.unwrap();
    assert_eq!(live.state, ModelState::Live);
    assert!(live.custom_properties.is_empty());
    assert_eq!(live.owner.as_deref(), Some("ml-team"));
    assert_err(
        r.update_registered_model(churn_id + 1000, &update).await,
        not_found,
        "registered model",
    );

    // Lists: only registered models, ordered, paged, filtered.
    for name in ["a", "b", "c", "d"] {
        r.create_registered_model(&RegisteredModel::new(name))
            .await
            .unwrap();
    }
    let env = r
        .create_serving_environment(&ServingEnvironment::new("not-a-model"))
        .await
        .unwrap();
    let page = r.list_registered_models(&all()).await.unwrap();
    let names: Vec<_> = page.items.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["churn", "a", "b", "c", "d"]);
    assert!(page.items.iter().all(|m| m.id != env.id));
    let mut seen = Vec::new();
    let mut options = ListOptions {
        limit: Some(2),
        order_by: OrderBy::Id,
        ascending: false,
        ..ListOptions::default()
    };
    loop {
        let page = r.list_registered_models(&options).await.unwrap();
        assert!(page.items.len() <= 2);
        seen.extend(page.items.into_iter().map(|m| m.name));
        match page.next_page_token {
            Some(t) => options.page_token = Some(t),
            None => break,
        }
    }
    assert_eq!(seen, ["d", "c", "b", "a", "churn"]);
    let filtered = ListOptions {
        filter_query: Some("name LIKE 'c%'".into()),
        ..all()
    };
    let names: Vec<_> = r
        .list_registered_models(&filtered)
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|m| m.name)
        .collect();
    assert_eq!(names, ["churn", "c"]);
    let bad = ListOptions {
        filter_query: Some("name = ".into()),
        ..all()
    };
    assert!(matches!(
        r.list_registered_models(&bad).await,
        Err(Error::Filter(_))
    ));
}

/// Versions live under one model: names unique per model, found by name
/// within the model, listed per model; unknown or foreign parents refused.
pub async fn model_versions<S: MetadataStore + Clone>(s: &S) {
    let r = open(s).await;
    let churn = id(r
        .create_registered_model(&RegisteredModel::new("churn"))
        .await
        .unwrap()
        .id);
    let fraud = id(r
        .create_registered_model(&RegisteredModel::new("fraud"))
        .await
        .unwrap()
        .id);
    let mut v1 = ModelVersion::new(churn, "v1");
    v1.author = Some("ada".into());
    v1.description = Some("first".into());
    let v1 = r.create_model_version(&v1).await.unwrap();
    let v1_id = id(v1.id);
    assert_eq!((v1.registered_model_id, v1.name.as_str()), (churn, "v1"));
    assert_eq!(v1.state, ModelState::Live);
    assert_eq!(r.get_model_version(v1_id).await.unwrap(), v1);
    let v2 = r
        .create_model_version(&ModelVersion::new(churn, "v2"))
        .await
        .unwrap();
    // The same version name under another model is another version.
    let fraud_v1 = r
        .create_model_version(&ModelVersion::new(fraud, "v1"))
        .await
        .unwrap();
    assert_ne!(fraud_v1.id, v1.id);

    assert_err(
        r.create_model_version(&ModelVersion::new(churn, "v1"))
            .await,
        exists,
        "model_version.name",
    );
    assert_err(
        r.create_model_version(&ModelVersion::new(churn + 1000, "v9"))
            .await,
        not_found,
        "model_version.registered_model_id",
    );
    // A version id is not a registered model id.
    assert_err(
        r.create_model_version(&ModelVersion::new(v1_id, "v9"))
            .await,
        not_found,
        "model_version.registered_model_id",
    );
    assert_err(
        r.get_registered_model(v1_id).await,
        not_found,
        "registered model",
    );
    assert_err(r.get_model_version(churn).await, not_found, "model version");

    assert_eq!(
        r.find_model_version_by_name(churn, "v1").await.unwrap(),
        Some(v1.clone())
    );
    assert_eq!(
        r.find_model_version_by_name(fraud, "v1")
            .await
            .unwrap()
            .map(|v| v.id),
        Some(fraud_v1.id)
    );
    assert_eq!(
        r.find_model_version_by_name(fraud, "v2").await.unwrap(),
        None
    );

    let versions = |model| {
        let r = &r;
        async move {
            r.list_model_versions(Some(model), &all())
                .await
                .unwrap()
                .items
                .into_iter()
                .map(|v| v.name)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(versions(churn).await, ["v1", "v2"]);
    assert_eq!(versions(fraud).await, ["v1"]);
    assert_eq!(
        r.list_model_versions(None, &all())
            .await
            .unwrap()
            .items
            .len(),
        3
    );
    let live_only = ListOptions {
        filter_query: Some("properties.author.string_value = 'ada'".into()),
        ..all()
    };
    let by_ada = r
        .list_model_versions(Some(churn), &live_only)
        .await
        .unwrap();
    assert_eq!(by_ada.items, vec![v1.clone()]);

    // Partial update and archive keep the other fields.
    let update = ModelVersionUpdate {
        description: Some("first, retrained".into()),
        external_id: Some("mv-ext".into()),
        ..Default::default()
    };
    let updated = r.update_model_version(v1_id, &update).await.unwrap();
    assert_eq!(updated.author.as_deref(), Some("ada"));
    assert_eq!(updated.description.as_deref(), Some("first, retrained"));
    assert_eq!(
        r.find_model_version_by_external_id("mv-ext")
            .await
            .unwrap()
            .map(|v| v.id),
        Some(v1.id)
    );
    let archived = r.archive_model_version(v1_id).await.unwrap();
    assert_eq!(archived.state, ModelState::Archived);
    assert_eq!(archived.author.as_deref(), Some("ada"));
    assert_eq!(
        r.get_model_version(id(v2.id)).await.unwrap().state,
        ModelState::Live
    );

    // Kubeflow Model Registry lets an archived model get new versions.
    r.archive_registered_model(churn).await.unwrap();
    let v3 = r
        .create_model_version(&ModelVersion::new(churn, "v3"))
        .await
        .unwrap();
    assert_eq!(v3.state, ModelState::Live);
}

/// The MLMD nodes the registry writes are the ones Kubeflow Model Registry
/// writes: names prefixed by the owner's id, the version context a child
/// of the model's, the artifact attributed to the version, properties as
/// upstream declares them.
pub async fn stored_as_kubeflow_model_registry_stores<S: MetadataStore + Clone>(s: &S) {
    let r = open(s).await;
    let model = id(r
        .create_registered_model(&RegisteredModel::new("churn"))
        .await
        .unwrap()
        .id);
    let version = id(r
        .create_model_version(&ModelVersion::new(model, "v1"))
        .await
        .unwrap()
        .id);
    let mut files = ModelArtifact::new(version, "weights");
    files.uri = Some("s3://m/1".into());
    files.model_format_name = Some("onnx".into());
    let files = id(r.create_model_artifact(&files).await.unwrap().id);

    let rm = &s.get_contexts_by_id(&[model]).await.unwrap()[0];
    assert_eq!(rm.name, "churn");
    assert_eq!(rm.properties["state"], Value::String("LIVE".into()));
    let mv = &s.get_contexts_by_id(&[version]).await.unwrap()[0];
    assert_eq!(mv.name, format!("{model}:v1"));
    assert_eq!(mv.properties["version"], Value::String("v1".into()));
    assert_eq!(mv.properties["model_name"], Value::String("churn".into()));
    assert_eq!(mv.properties["state"], Value::String("LIVE".into()));
    let parents = s.get_parent_contexts(version).await.unwrap();
    assert_eq!(
        parents.iter().map(|c| c.id).collect::<Vec<_>>(),
        [Some(model)]
    );
    let ma = &s.get_artifacts_by_id(&[files]).await.unwrap()[0];
    assert_eq!(
        ma.name.as_deref(),
        Some(format!("{version}:weights").as_str())
    );
    assert_eq!(
        ma.properties["model_format_name"],
        Value::String("onnx".into())
    );
    let attributed = s.get_artifacts_by_context(version).await.unwrap();
    assert_eq!(
        attributed.iter().map(|a| a.id).collect::<Vec<_>>(),
        [Some(files)]
    );

    let env = id(r
        .create_serving_environment(&ServingEnvironment::new("prod"))
        .await
        .unwrap()
        .id);
    let service = id(r
        .create_inference_service(&InferenceService::new(env, model, "svc"))
        .await
        .unwrap()
        .id);
    let is = &s.get_contexts_by_id(&[service]).await.unwrap()[0];
    assert_eq!(is.name, format!("{env}:svc"));
    assert_eq!(is.properties["registered_model_id"], Value::Int(model));
    assert_eq!(is.properties["serving_environment_id"], Value::Int(env));
    assert_eq!(
        is.properties["desired_state"],
        Value::String("DEPLOYED".into())
    );
    assert!(!is.properties.contains_key("model_version_id"));
    let parents = s.get_parent_contexts(service).await.unwrap();
    assert_eq!(
        parents.iter().map(|c| c.id).collect::<Vec<_>>(),
        [Some(env)]
    );
    let mut serve = ServeModel::new(service, version);
    serve.name = Some("rollout-1".into());
    let serve = id(r.create_serve_model(&serve).await.unwrap().id);
    let sm = &s.get_executions_by_id(&[serve]).await.unwrap()[0];
    assert_eq!(
        sm.name.as_deref(),
        Some(format!("{service}:rollout-1").as_str())
    );
    assert_eq!(sm.properties["model_version_id"], Value::Int(version));
    assert_eq!(sm.last_known_state, ExecutionState::New);
    let contexts = s.get_contexts_by_execution(serve).await.unwrap();
    assert_eq!(
        contexts.iter().map(|c| c.id).collect::<Vec<_>>(),
        [Some(service)]
    );
    let events = s.get_events_by_execution_ids(&[serve]).await.unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(
        (events[0].artifact_id, events[0].event_type),
        (files, EventType::Input)
    );
}

/// Nodes written as Kubeflow Model Registry writes them, including its
/// fallbacks (a version without the `version` property, an artifact named
/// with a UUID prefix, an unnamed serve model), read back through the
/// registry.
pub async fn reads_nodes_written_by_kubeflow<S: MetadataStore + Clone>(s: &S) {
    let r = open(s).await;
    let t = r.types();
    let model = s
        .put_contexts(&[Context::new(t.registered_model, "imported")])
        .await
        .unwrap()[0];
    let version = s
        .put_contexts(&[Context::new(t.model_version, format!("{model}:2.0"))
            .with_property("state", "ARCHIVED")])
        .await
        .unwrap()[0];
    s.put_parent_contexts(&[ParentContext {
        child_id: version,
        parent_id: model,
    }])
    .await
    .unwrap();
    let read = r.get_model_version(version).await.unwrap();
    assert_eq!(
        (read.registered_model_id, read.name.as_str(), read.state),
        (model, "2.0", ModelState::Archived)
    );
    let artifact = s
        .put_artifacts(&[Artifact {
            name: Some("6f1c2a4e-uuid:weights".into()),
            state: ArtifactState::Live,
            ..Artifact::new(t.model_artifact, "s3://imported")
        }])
        .await
        .unwrap()[0];
    s.put_attributions_and_associations(
        &[keelson_lineage::Attribution {
            context_id: version,
            artifact_id: artifact,
        }],
        &[],
    )
    .await
    .unwrap();
    let read = r.get_model_artifact(artifact).await.unwrap();
    assert_eq!(read.model_version_id, Some(version));
    assert_eq!(read.name.as_deref(), Some("weights"));
    assert_eq!(read.state, ArtifactState::Live);

    let bad = s
        .put_contexts(&[Context::new(t.registered_model, "bad").with_property("state", "GONE")])
        .await
        .unwrap()[0];
    assert!(matches!(
        r.get_registered_model(bad).await,
        Err(Error::Corrupt { what }) if what.contains("state")
    ));
}

/// Model artifacts: created in a version, attributed to it, listed per
/// version, updated partially; missing or unknown versions refused.
pub async fn model_artifacts<S: MetadataStore + Clone>(s: &S) {
    let r = open(s).await;
    let model = id(r
        .create_registered_model(&RegisteredModel::new("m"))
        .await
        .unwrap()
        .id);
    let v1 = id(r
        .create_model_version(&ModelVersion::new(model, "v1"))
        .await
        .unwrap()
        .id);
    let v2 = id(r
        .create_model_version(&ModelVersion::new(model, "v2"))
        .await
        .unwrap()
        .id);
    let mut a = ModelArtifact::new(v1, "weights");
    a.uri = Some("s3://m/v1".into());
    a.model_format_name = Some("onnx".into());
    a.model_format_version = Some("1".into());
    a.storage_key = Some("aws".into());
    a.external_id = Some("art-ext".into());
    let a = r.create_model_artifact(&a).await.unwrap();
    let a_id = id(a.id);
    assert_eq!(a.model_version_id, Some(v1));
    assert_eq!(a.name.as_deref(), Some("weights"));
    assert_eq!(r.get_model_artifact(a_id).await.unwrap(), a);
    // Same name in another version is fine; in the same version it is not.
    r.create_model_artifact(&ModelArtifact::new(v2, "weights"))
        .await
        .unwrap();
    assert_err(
        r.create_model_artifact(&ModelArtifact::new(v1, "weights"))
            .await,
        exists,
        "model_artifact.name",
    );
    let mut dup_ext = ModelArtifact::new(v2, "other");
    dup_ext.external_id = Some("art-ext".into());
    assert_err(
        r.create_model_artifact(&dup_ext).await,
        exists,
        "model_artifact.external_id",
    );
    assert_err(
        r.create_model_artifact(&ModelArtifact {
            model_version_id: None,
            ..ModelArtifact::new(0, "x")
        })
        .await,
        invalid,
        "model_artifact.model_version_id",
    );
    assert_err(
        r.create_model_artifact(&ModelArtifact::new(model, "x"))
            .await,
        not_found,
        "model_artifact.model_version_id",
    );
    // Unnamed artifacts are allowed, and still belong to their version.
    let unnamed = r
        .create_model_artifact(&ModelArtifact {
            name: None,
            uri: Some("s3://m/v1/extra".into()),
            ..ModelArtifact::new(v1, "")
        })
        .await
        .unwrap();
    assert_eq!((unnamed.model_version_id, unnamed.name), (Some(v1), None));

    let in_v1 = r.list_model_artifacts(Some(v1), &all()).await.unwrap();
    assert_eq!(
        in_v1.items.iter().map(|a| a.id).collect::<Vec<_>>(),
        [a.id, unnamed.id]
    );
    assert_eq!(
        r.list_model_artifacts(Some(v2), &all())
            .await
            .unwrap()
            .items
            .len(),
        1
    );
    assert_eq!(
        r.list_model_artifacts(None, &all())
            .await
            .unwrap()
            .items
            .len(),
        3
    );
    assert_eq!(
        r.find_model_artifact_by_name(v1, "weights").await.unwrap(),
        Some(a.clone())
    );
    assert_eq!(
        r.find_model_artifact_by_external_id("art-ext")
            .await
            .unwrap()
            .map(|a| a.id),
        Some(a.id)
    );

    let update = ModelArtifactUpdate {
        state: Some(ArtifactState::Live),
        storage_path: Some("/models/v1".into()),
        ..Default::default()
    };
    let updated = r.update_model_artifact(a_id, &update).await.unwrap();
    assert_eq!(updated.state, ArtifactState::Live);
    assert_eq!(updated.storage_path.as_deref(), Some("/models/v1"));
    assert_eq!(updated.uri, a.uri);
    assert_eq!(updated.model_format_name, a.model_format_name);
    assert_eq!(updated.storage_key, a.storage_key);
    assert_eq!(updated.external_id, a.external_id);
    assert_err(
        r.update_model_artifact(a_id + 1000, &update).await,
        not_found,
        "model artifact",
    );

    // Doc artifacts sit beside model artifacts in the version, apart from them.
    let card = r
        .create_doc_artifact(&DocArtifact::new(v1, "card", "s3://m/v1/README.md"))
        .await
        .unwrap();
    let card_id = id(card.id);
    assert_eq!(
        (card.model_version_id, card.name.as_deref()),
        (Some(v1), Some("card"))
    );
    assert_err(
        r.create_doc_artifact(&DocArtifact::new(v1, "card", "s3://x"))
            .await,
        exists,
        "doc_artifact.name",
    );
    assert_err(
        r.create_doc_artifact(&DocArtifact::new(model, "card", "s3://x"))
            .await,
        not_found,
        "doc_artifact.model_version_id",
    );
    assert_eq!(
        r.list_doc_artifacts(v1, &all()).await.unwrap().items,
        vec![card.clone()]
    );
    assert!(
        r.list_doc_artifacts(v2, &all())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert_eq!(
        r.list_model_artifacts(Some(v1), &all())
            .await
            .unwrap()
            .items
            .len(),
        2
    );
    assert_err(
        r.get_model_artifact(card_id).await,
        not_found,
        "model artifact",
    );
    assert_err(r.get_doc_artifact(a_id).await, not_found, "doc artifact");
    let described = DocArtifactUpdate {
        description: Some("model card".into()),
        ..Default::default()
    };
    let card2 = r.update_doc_artifact(card_id, &described).await.unwrap();
    assert_eq!(card2.description.as_deref(), Some("model card"));
    assert_eq!(card2.uri, card.uri);
}

/// Serving environments, inference services and serve models, with the
/// checks on their parents.
pub async fn serving<S: MetadataStore + Clone>(s: &S) {
    let r = open(s).await;
    let model = id(r
        .create_registered_model(&RegisteredModel::new("m"))
        .await
        .unwrap()
        .id);
    let other = id(r
        .create_registered_model(&RegisteredModel::new("other"))
        .await
        .unwrap()
        .id);
    let v1 = id(r
        .create_model_version(&ModelVersion::new(model, "v1"))
        .await
        .unwrap()
        .id);
    let foreign = id(r
        .create_model_version(&ModelVersion::new(other, "v1"))
        .await
        .unwrap()
        .id);

    let prod = r
        .create_serving_environment(&ServingEnvironment::new("prod"))
        .await
        .unwrap();
    let prod_id = id(prod.id);
    let staging = id(r
        .create_serving_environment(&ServingEnvironment::new("staging"))
        .await
        .unwrap()
        .id);
    assert_err(
        r.create_serving_environment(&ServingEnvironment::new("prod"))
            .await,
        exists,
        "serving_environment.name",
    );
    assert_eq!(
        r.find_serving_environment_by_name("prod").await.unwrap(),
        Some(prod.clone())
    );
    let update = ServingEnvironmentUpdate {
        external_id: Some("cluster-1".into()),
        ..Default::default()
    };
    r.update_serving_environment(prod_id, &update)
        .await
        .unwrap();
    let found = r
        .find_serving_environment_by_external_id("cluster-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((found.id, found.name.as_str()), (prod.id, "prod"));
    assert_eq!(
        r.list_serving_environments(&all())
            .await
            .unwrap()
            .items
            .len(),
        2
    );

    let mut svc = InferenceService::new(prod_id, model, "svc");
    svc.runtime = Some("kserve".into());
    let svc = r.create_inference_service(&svc).await.unwrap();
    let svc_id = id(svc.id);
    assert_eq!(svc.desired_state, InferenceServiceState::Deployed);
    assert_eq!(svc.model_version_id, None);
    assert_eq!(r.get_inference_service(svc_id).await.unwrap(), svc);
    // Names are per environment.
    let staged = r
        .create_inference_service(&InferenceService::new(staging, model, "svc"))
        .await
        .unwrap();
    assert_err(
        r.create_inference_service(&InferenceService::new(prod_id, model, "svc"))
            .await,
        exists,
        "inference_service.name",
    );
    assert_err(
        r.create_inference_service(&InferenceService::new(model, model, "x"))
            .await,
        not_found,
        "inference_service.serving_environment_id",
    );
    assert_err(
        r.create_inference_service(&InferenceService::new(prod_id, v1, "x"))
            .await,
        not_found,
        "inference_service.registered_model_id",
    );
    assert_err(
        r.create_inference_service(&InferenceService {
            model_version_id: Some(foreign),
            ..InferenceService::new(prod_id, model, "x")
        })
        .await,
        invalid,
        "inference_service.model_version_id",
    );
    assert_eq!(
        r.find_inference_service_by_name(staging, "svc")
            .await
            .unwrap()
            .map(|s| s.id),
        Some(staged.id)
    );
    let in_prod = r
        .list_inference_services(Some(prod_id), &all())
        .await
        .unwrap();
    assert_eq!(in_prod.items, vec![svc.clone()]);
    assert_eq!(
        r.list_inference_services(None, &all())
            .await
            .unwrap()
            .items
            .len(),
        2
    );

    // Without a version the service serves the model's newest one.
    assert_eq!(
        r.served_model_version(svc_id).await.unwrap().map(|v| v.id),
        Some(Some(v1))
    );
    let v2 = id(r
        .create_model_version(&ModelVersion::new(model, "v2"))
        .await
        .unwrap()
        .id);
    assert_eq!(
        r.served_model_version(svc_id).await.unwrap().map(|v| v.id),
        Some(Some(v2))
    );
    let pin = InferenceServiceUpdate {
        model_version_id: Some(v1),
        desired_state: Some(InferenceServiceState::Undeployed),
        ..Default::default()
    };
    let pinned = r.update_inference_service(svc_id, &pin).await.unwrap();
    assert_eq!(pinned.model_version_id, Some(v1));
    assert_eq!(pinned.desired_state, InferenceServiceState::Undeployed);
    assert_eq!(pinned.runtime.as_deref(), Some("kserve"));
    assert_eq!(
        r.served_model_version(svc_id).await.unwrap().map(|v| v.id),
        Some(Some(v1))
    );
    assert_err(
        r.update_inference_service(
            svc_id,
            &InferenceServiceUpdate {
                model_version_id: Some(foreign),
                ..Default::default()
            },
        )
        .await,
        invalid,
        "model_version_id",
    );

    let serve = r
        .create_serve_model(&ServeModel::new(svc_id, v1))
        .await
        .unwrap();
    let serve_id = id(serve.id);
    assert_eq!(
        (
            serve.inference_service_id,
            serve.model_version_id,
            serve.name.as_ref()
        ),
        (svc_id, v1, None)
    );
    assert_err(
        r.create_serve_model(&ServeModel::new(svc_id, foreign))
            .await,
        invalid,
        "serve_model.model_version_id",
    );
    assert_err(
        r.create_serve_model(&ServeModel::new(v1, v1)).await,
        not_found,
        "serve_model.inference_service_id",
    );
    let running = ServeModelUpdate {
        last_known_state: Some(ExecutionState::Running),
        description: Some("canary".into()),
        ..Default::default()
    };
    let updated = r.update_serve_model(serve_id, &running).await.unwrap();
    assert_eq!(updated.last_known_state, ExecutionState::Running);
    assert_eq!(updated.model_version_id, v1);
    let served = r.list_serve_models(Some(svc_id), &all()).await.unwrap();
    assert_eq!(served.items, vec![updated]);
    assert!(
        r.list_serve_models(Some(id(staged.id)), &all())
            .await
            .unwrap()
            .items
            .is_empty()
    );
}

/// The lineage hook: from an inference service through its serve model,
/// the version's model artifact and the training execution that wrote it,
/// back to the training dataset.
pub async fn lineage_from_inference_service_to_dataset<S: MetadataStore + Clone>(s: &S) {
    let r = open(s).await;
    let o = TypeOptions::default();
    let dataset = s.put_type(&NodeType::artifact("Dataset"), o).await.unwrap();
    let step = s.put_type(&NodeType::execution("Step"), o).await.unwrap();
    let ingest = s
        .put_execution(
            &Execution::new(step, ExecutionState::Complete),
            &[(
                Artifact::new(dataset, "s3://raw/events"),
                Some(Event::new(EventType::Output)),
            )],
            &[],
        )
        .await
        .unwrap();
    let raw = s
        .get_artifacts_by_id(&ingest.artifact_ids)
        .await
        .unwrap()
        .remove(0);
    let train = s
        .put_execution(
            &Execution::new(step, ExecutionState::Complete),
            &[
                (raw, Some(Event::new(EventType::Input))),
                (
                    Artifact::new(dataset, "s3://features/v1"),
                    Some(Event::new(EventType::Input)),
                ),
            ],
            &[],
        )
        .await
        .unwrap();

    let model = id(r
        .create_registered_model(&RegisteredModel::new("m"))
        .await
        .unwrap()
        .id);
    let version = id(r
        .create_model_version(&ModelVersion::new(model, "v1"))
        .await
        .unwrap()
        .id);
    let files = id(r
        .create_model_artifact(&ModelArtifact {
            uri: Some("s3://models/m/v1".into()),
            ..ModelArtifact::new(version, "weights")
        })
        .await
        .unwrap()
        .id);
    r.record_training_output(files, train.execution_id)
        .await
        .unwrap();
    assert_err(
        r.record_training_output(version, train.execution_id).await,
        not_found,
        "model_artifact_id",
    );
    let env = id(r
        .create_serving_environment(&ServingEnvironment::new("prod"))
        .await
        .unwrap()
        .id);
    let svc = id(r
        .create_inference_service(&InferenceService {
            model_version_id: Some(version),
            ..InferenceService::new(env, model, "svc")
        })
        .await
        .unwrap()
        .id);
    assert_eq!(
        r.inference_service_lineage(svc, 10).await.unwrap(),
        Default::default(),
        "nothing served yet"
    );
    let serve = id(r
        .create_serve_model(&ServeModel::new(svc, version))
        .await
        .unwrap()
        .id);

    let graph = r.inference_service_lineage(svc, 10).await.unwrap();
    let uris: BTreeSet<_> = graph
        .artifacts
        .iter()
        .filter_map(|a| a.uri.as_deref())
        .collect();
    assert_eq!(
        uris,
        BTreeSet::from(["s3://models/m/v1", "s3://raw/events", "s3://features/v1"])
    );
    let executions: BTreeSet<_> = graph.executions.iter().filter_map(|e| e.id).collect();
    assert_eq!(
        executions,
        BTreeSet::from([serve, train.execution_id, ingest.execution_id])
    );
    assert_eq!(graph.events.len(), 5);
    let contexts: BTreeSet<_> = graph.contexts.iter().filter_map(|c| c.id).collect();
    assert!(
        contexts.contains(&svc) && contexts.contains(&version),
        "{contexts:?}"
    );
    // Two hops reach the training step but not its inputs.
    let short = r.inference_service_lineage(svc, 2).await.unwrap();
    assert_eq!((short.artifacts.len(), short.executions.len()), (1, 2));
    assert_err(
        r.inference_service_lineage(env, 10).await,
        not_found,
        "inference service",
    );
}

/// Refused writes leave the store as it was.
pub async fn refused_writes_write_nothing<S: MetadataStore + Clone>(s: &S) {
    let r = open(s).await;
    let model = id(r
        .create_registered_model(&RegisteredModel::new("m"))
        .await
        .unwrap()
        .id);
    let version = id(r
        .create_model_version(&ModelVersion::new(model, "v1"))
        .await
        .unwrap()
        .id);
    let env = id(r
        .create_serving_environment(&ServingEnvironment::new("e"))
        .await
        .unwrap()
        .id);
    let before = s.counts().await.unwrap();
    let mut oversize = ModelVersion::new(model, "v2");
    oversize.description = Some("x".repeat(keelson_lineage::limits::MAX_VALUE_BYTES + 1));
    assert!(r.create_model_version(&oversize).await.is_err());
    assert!(
        r.create_model_version(&ModelVersion::new(model, "v1"))
            .await
            .is_err()
    );
    assert!(
        r.create_model_artifact(&ModelArtifact::new(model, "a"))
            .await
            .is_err()
    );
    assert!(
        r.create_inference_service(&InferenceService::new(env, version, "s"))
            .await
            .is_err()
    );
    assert!(
        r.create_serve_model(&ServeModel::new(env, version))
            .await
            .is_err()
    );
    let mut bad_update = RegisteredModelUpdate::default();
    bad_update
        .custom_properties
        .get_or_insert_with(Default::default)
        .insert("nan".into(), Value::Double(f64::NAN));
    assert!(r.update_registered_model(model, &bad_update).await.is_err());
    assert_eq!(s.counts().await.unwrap(), before);
    assert_eq!(
        r.get_registered_model(model)
            .await
            .unwrap()
            .custom_properties
            .len(),
        0
    );
}

/// A registry on a namespace handle sees only that namespace.
pub async fn registries_are_namespaced<S: MetadataStore + Clone>(s: &S) {
    let team_a = open(&s.namespace("team-a").unwrap()).await;
    let team_b = open(&s.namespace("team-b").unwrap()).await;
    let a = team_a
        .create_registered_model(&RegisteredModel::new("churn"))
        .await
        .unwrap();
    // Names are per namespace, ids invisible across.
    let b = team_b
        .create_registered_model(&RegisteredModel::new("churn"))
        .await
        .unwrap();
    assert_ne!(a.id, b.id);
    assert_err(
        team_b.get_registered_model(id(a.id)).await,
        not_found,
        "registered model",
    );
    assert_err(
        team_b
            .create_model_version(&ModelVersion::new(id(a.id), "v1"))
            .await,
        not_found,
        "model_version.registered_model_id",
    );
    assert_eq!(
        team_a.list_registered_models(&all()).await.unwrap().items,
        vec![a]
    );
}
