//! Serving: environments (`kf.ServingEnvironment` contexts), the inference
//! services deployed in them (`kf.InferenceService` child contexts) and the
//! `kf.ServeModel` executions that record which model version a service
//! runs, with INPUT events from the version's model artifacts.

use serde::{Deserialize, Serialize};

use super::model::apply_common;
use super::{
    InferenceServiceState, ModelRegistry, Props, only_id, owned_name, schema, scoped, set_string,
    split_owned,
};
use crate::error::{Error, Result};
use crate::event::{Event, EventType};
use crate::lineage::{Direction, LineageGraph, LineageQuery, LineageStart};
use crate::link::{Association, ParentContext};
use crate::node::{Context, Execution, ExecutionState};
use crate::store::{DeletePolicy, ListOptions, MetadataStore, Page};
use crate::types::check_name;
use crate::value::{Properties, Value};

/// Where models are served, e.g. a cluster or namespace (Kubeflow Model
/// Registry's `ServingEnvironment`; a `kf.ServingEnvironment` context).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ServingEnvironment {
    /// The id, set by the store; `None` for one not yet created.
    pub id: Option<i64>,
    /// The name, unique among serving environments; fixed once created.
    pub name: String,
    /// Free text (property `description`).
    pub description: Option<String>,
    /// An id from another system, unique among contexts.
    pub external_id: Option<String>,
    /// Free-form properties.
    pub custom_properties: Properties,
    /// Creation time, ms since the epoch (set by the store).
    pub create_time_since_epoch: i64,
    /// Last update time, ms since the epoch (set by the store).
    pub last_update_time_since_epoch: i64,
}

/// The fields of a serving environment to change; `None` keeps the stored
/// value.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ServingEnvironmentUpdate {
    /// New description.
    pub description: Option<String>,
    /// New external id.
    pub external_id: Option<String>,
    /// New custom properties, replacing all stored ones.
    pub custom_properties: Option<Properties>,
}

/// A deployment of a registered model in a serving environment (Kubeflow
/// Model Registry's `InferenceService`; a `kf.InferenceService` context,
/// child of the environment's context, named `<environment id>:<name>`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InferenceService {
    /// The id, set by the store; `None` for one not yet created.
    pub id: Option<i64>,
    /// The environment it runs in (property `serving_environment_id`);
    /// fixed once created.
    pub serving_environment_id: i64,
    /// The model it serves (property `registered_model_id`); fixed once
    /// created.
    pub registered_model_id: i64,
    /// The version it serves (property `model_version_id`); `None` means
    /// the model's latest version
    /// ([`ModelRegistry::served_model_version`]).
    pub model_version_id: Option<i64>,
    /// The name, unique within the environment; fixed once created.
    pub name: String,
    /// Free text (property `description`).
    pub description: Option<String>,
    /// The serving runtime, e.g. `kserve-ovms` (property `runtime`).
    pub runtime: Option<String>,
    /// Deployed or undeployed (property `desired_state`).
    pub desired_state: InferenceServiceState,
    /// An id from another system, unique among contexts.
    pub external_id: Option<String>,
    /// Free-form properties.
    pub custom_properties: Properties,
    /// Creation time, ms since the epoch (set by the store).
    pub create_time_since_epoch: i64,
    /// Last update time, ms since the epoch (set by the store).
    pub last_update_time_since_epoch: i64,
}

/// The fields of an inference service to change; `None` keeps the stored
/// value.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InferenceServiceUpdate {
    /// New version to serve (a version of the service's registered model).
    pub model_version_id: Option<i64>,
    /// New description.
    pub description: Option<String>,
    /// New runtime.
    pub runtime: Option<String>,
    /// New desired state.
    pub desired_state: Option<InferenceServiceState>,
    /// New external id.
    pub external_id: Option<String>,
    /// New custom properties, replacing all stored ones.
    pub custom_properties: Option<Properties>,
}

/// One period of an inference service serving a model version (Kubeflow
/// Model Registry's `ServeModel`; a `kf.ServeModel` execution associated
/// with the service's context, named `<service id>:<name>` when named).
/// keelson also records an INPUT event from each model artifact of the
/// version, which is what lets lineage cross from serving into training.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ServeModel {
    /// The id, set by the store; `None` for one not yet created.
    pub id: Option<i64>,
    /// The inference service; fixed once created.
    pub inference_service_id: i64,
    /// The version served (property `model_version_id`), a version of the
    /// service's registered model; fixed once created.
    pub model_version_id: i64,
    /// An optional name, unique within the service; fixed once created.
    pub name: Option<String>,
    /// Free text (property `description`).
    pub description: Option<String>,
    /// MLMD's execution state (`NEW` when created by [`ServeModel::new`]).
    pub last_known_state: ExecutionState,
    /// An id from another system, unique among executions.
    pub external_id: Option<String>,
    /// Free-form properties.
    pub custom_properties: Properties,
    /// Creation time, ms since the epoch (set by the store).
    pub create_time_since_epoch: i64,
    /// Last update time, ms since the epoch (set by the store).
    pub last_update_time_since_epoch: i64,
}

/// The fields of a serve model to change; `None` keeps the stored value.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ServeModelUpdate {
    /// New description.
    pub description: Option<String>,
    /// New execution state.
    pub last_known_state: Option<ExecutionState>,
    /// New external id.
    pub external_id: Option<String>,
    /// New custom properties, replacing all stored ones.
    pub custom_properties: Option<Properties>,
}

impl ServingEnvironment {
    /// An environment named `name`.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            ..Self::default()
        }
    }

    fn to_context(&self, type_id: i64) -> Context {
        let mut c = Context::new(type_id, self.name.clone());
        set_string(
            &mut c.properties,
            "description",
            self.description.as_deref(),
        );
        c.external_id.clone_from(&self.external_id);
        c.custom_properties.clone_from(&self.custom_properties);
        c
    }

    fn from_context(c: Context) -> Result<Self> {
        let p = Props {
            node: format!("serving environment {}", c.id.unwrap_or_default()),
            props: &c.properties,
        };
        Ok(Self {
            id: c.id,
            description: p.string("description")?,
            name: c.name,
            external_id: c.external_id,
            custom_properties: c.custom_properties,
            create_time_since_epoch: c.create_time_since_epoch,
            last_update_time_since_epoch: c.last_update_time_since_epoch,
        })
    }
}

impl InferenceService {
    /// A deployed service `name` of registered model `registered_model_id`
    /// in environment `serving_environment_id`.
    pub fn new(
        serving_environment_id: i64,
        registered_model_id: i64,
        name: impl Into<String>,
    ) -> Self {
        Self {
            serving_environment_id,
            registered_model_id,
            name: name.into(),
            ..Self::default()
        }
    }

    fn to_context(&self, type_id: i64) -> Context {
        let mut c = Context::new(type_id, owned_name(self.serving_environment_id, &self.name));
        let props = &mut c.properties;
        set_string(props, "description", self.description.as_deref());
        set_string(props, "runtime", self.runtime.as_deref());
        set_string(props, "desired_state", Some(self.desired_state.as_str()));
        props.insert(
            "serving_environment_id".into(),
            Value::Int(self.serving_environment_id),
        );
        props.insert(
            "registered_model_id".into(),
            Value::Int(self.registered_model_id),
        );
        if let Some(v) = self.model_version_id {
            props.insert("model_version_id".into(), Value::Int(v));
        }
        c.external_id.clone_from(&self.external_id);
        c.custom_properties.clone_from(&self.custom_properties);
        c
    }

    fn from_context(c: Context) -> Result<Self> {
        let id = c.id.unwrap_or_default();
        let p = Props {
            node: format!("inference service {id}"),
            props: &c.properties,
        };
        let (owner, name) = split_owned(&c.name);
        let required = |name: &str| {
            p.int(name)?.ok_or_else(|| Error::Corrupt {
                what: format!("inference service {id} lacks property {name}"),
            })
        };
        Ok(Self {
            id: c.id,
            serving_environment_id: match p.int("serving_environment_id")? {
                Some(e) => e,
                None => owner.ok_or_else(|| Error::Corrupt {
                    what: format!("inference service {id} lacks property serving_environment_id"),
                })?,
            },
            registered_model_id: required("registered_model_id")?,
            model_version_id: p.int("model_version_id")?,
            name: name.to_owned(),
            description: p.string("description")?,
            runtime: p.string("runtime")?,
            desired_state: p.state("desired_state", InferenceServiceState::parse)?,
            external_id: c.external_id,
            custom_properties: c.custom_properties,
            create_time_since_epoch: c.create_time_since_epoch,
            last_update_time_since_epoch: c.last_update_time_since_epoch,
        })
    }
}

impl ServeModel {
    /// A new (`NEW`) serve model of version `model_version_id` by inference
    /// service `inference_service_id`.
    pub fn new(inference_service_id: i64, model_version_id: i64) -> Self {
        Self {
            inference_service_id,
            model_version_id,
            last_known_state: ExecutionState::New,
            ..Self::default()
        }
    }

    fn to_execution(&self, type_id: i64) -> Execution {
        let mut e = Execution::new(type_id, self.last_known_state);
        e.name = self
            .name
            .as_deref()
            .map(|n| owned_name(self.inference_service_id, n));
        set_string(
            &mut e.properties,
            "description",
            self.description.as_deref(),
        );
        e.properties
            .insert("model_version_id".into(), Value::Int(self.model_version_id));
        e.external_id.clone_from(&self.external_id);
        e.custom_properties.clone_from(&self.custom_properties);
        e
    }

    /// The serve model stored as `e`; `inference_service_id` is `None`
    /// when the name carries no owner (the caller asks the association).
    fn from_execution(e: Execution) -> Result<(Self, Option<i64>)> {
        let id = e.id.unwrap_or_default();
        let p = Props {
            node: format!("serve model {id}"),
            props: &e.properties,
        };
        let (owner, name) = match e.name.as_deref().map(split_owned) {
            Some((owner, name)) => (owner, Some(name.to_owned())),
            None => (None, None),
        };
        let model_version_id = p.int("model_version_id")?.ok_or_else(|| Error::Corrupt {
            what: format!("serve model {id} lacks property model_version_id"),
        })?;
        Ok((
            Self {
                id: e.id,
                inference_service_id: owner.unwrap_or_default(),
                model_version_id,
                name,
                description: p.string("description")?,
                last_known_state: e.last_known_state,
                external_id: e.external_id,
                custom_properties: e.custom_properties,
                create_time_since_epoch: e.create_time_since_epoch,
                last_update_time_since_epoch: e.last_update_time_since_epoch,
            },
            owner,
        ))
    }
}

impl<S: MetadataStore> ModelRegistry<S> {
    /// Creates a serving environment; a name or external id already taken
    /// is [`Error::AlreadyExists`].
    pub async fn create_serving_environment(
        &self,
        env: &ServingEnvironment,
    ) -> Result<ServingEnvironment> {
        if env.id.is_some() {
            return Err(Error::invalid(
                "serving_environment.id",
                "must be None to create; use update_serving_environment",
            ));
        }
        check_name("serving_environment.name", &env.name)?;
        if let Some(e) = self.find_serving_environment_by_name(&env.name).await? {
            return Err(Error::AlreadyExists {
                what: format!(
                    "serving_environment.name: serving environment {:?} (id {})",
                    env.name,
                    e.id.unwrap_or_default()
                ),
            });
        }
        self.context_external_id_free(
            "serving_environment.external_id",
            env.external_id.as_deref(),
        )
        .await?;
        let ids = self
            .store
            .put_contexts(&[env.to_context(self.types.serving_environment)])
            .await?;
        self.get_serving_environment(only_id(ids, "serving environment")?)
            .await
    }

    /// The serving environment `id`; [`Error::NotFound`] when there is none.
    pub async fn get_serving_environment(&self, id: i64) -> Result<ServingEnvironment> {
        let c = self
            .context(self.types.serving_environment, id, || {
                format!("serving environment {id}")
            })
            .await?;
        ServingEnvironment::from_context(c)
    }

    /// The serving environment named `name`, if there is one.
    pub async fn find_serving_environment_by_name(
        &self,
        name: &str,
    ) -> Result<Option<ServingEnvironment>> {
        self.store
            .get_context_by_type_and_name(schema::SERVING_ENVIRONMENT, None, name)
            .await?
            .map(ServingEnvironment::from_context)
            .transpose()
    }

    /// The serving environment with external id `external_id`, if any.
    pub async fn find_serving_environment_by_external_id(
        &self,
        external_id: &str,
    ) -> Result<Option<ServingEnvironment>> {
        self.context_by_external_id(self.types.serving_environment, external_id)
            .await?
            .map(ServingEnvironment::from_context)
            .transpose()
    }

    /// One page of serving environments.
    pub async fn list_serving_environments(
        &self,
        options: &ListOptions,
    ) -> Result<Page<ServingEnvironment>> {
        let scope = format!("type_id = {}", self.types.serving_environment);
        let page = self.store.list_contexts(&scoped(options, scope)).await?;
        Ok(Page {
            items: page
                .items
                .into_iter()
                .map(ServingEnvironment::from_context)
                .collect::<Result<_>>()?,
            next_page_token: page.next_page_token,
        })
    }

    /// Changes the fields `update` sets and keeps the others.
    pub async fn update_serving_environment(
        &self,
        id: i64,
        update: &ServingEnvironmentUpdate,
    ) -> Result<ServingEnvironment> {
        let mut c = self
            .context(self.types.serving_environment, id, || {
                format!("serving environment {id}")
            })
            .await?;
        set_string(
            &mut c.properties,
            "description",
            update.description.as_deref(),
        );
        apply_common(
            &mut c,
            update.external_id.as_ref(),
            update.custom_properties.as_ref(),
        );
        self.store.put_contexts(&[c]).await?;
        self.get_serving_environment(id).await
    }

    /// Creates an inference service. The environment, the registered model
    /// and the version (which must be one of that model's) must exist:
    /// [`Error::NotFound`] or [`Error::InvalidArgument`] name the field;
    /// a name the environment already has is [`Error::AlreadyExists`].
    pub async fn create_inference_service(
        &self,
        service: &InferenceService,
    ) -> Result<InferenceService> {
        if service.id.is_some() {
            return Err(Error::invalid(
                "inference_service.id",
                "must be None to create; use update_inference_service",
            ));
        }
        check_name("inference_service.name", &service.name)?;
        let env_id = service.serving_environment_id;
        self.context(self.types.serving_environment, env_id, || {
            format!("inference_service.serving_environment_id: serving environment {env_id}")
        })
        .await?;
        let model_id = service.registered_model_id;
        self.context(self.types.registered_model, model_id, || {
            format!("inference_service.registered_model_id: registered model {model_id}")
        })
        .await?;
        if let Some(v) = service.model_version_id {
            self.check_version_of("inference_service.model_version_id", v, model_id)
                .await?;
        }
        if self
            .find_inference_service_by_name(env_id, &service.name)
            .await?
            .is_some()
        {
            return Err(Error::AlreadyExists {
                what: format!(
                    "inference_service.name: inference service {:?} of serving environment {env_id}",
                    service.name
                ),
            });
        }
        self.context_external_id_free(
            "inference_service.external_id",
            service.external_id.as_deref(),
        )
        .await?;
        let ids = self
            .store
            .put_contexts(&[service.to_context(self.types.inference_service)])
            .await?;
        let id = only_id(ids, "inference service")?;
        let link = ParentContext {
            child_id: id,
            parent_id: env_id,
        };
        if let Err(e) = self.store.put_parent_contexts(&[link]).await {
            // Best effort: the link's error is the one worth reporting.
            let _ = self.store.delete_context(id, DeletePolicy::Cascade).await;
            return Err(e);
        }
        self.get_inference_service(id).await
    }

    /// The inference service `id`; [`Error::NotFound`] when there is none.
    pub async fn get_inference_service(&self, id: i64) -> Result<InferenceService> {
        let c = self
            .context(self.types.inference_service, id, || {
                format!("inference service {id}")
            })
            .await?;
        InferenceService::from_context(c)
    }

    /// The inference service named `name` in environment
    /// `serving_environment_id`, if there is one.
    pub async fn find_inference_service_by_name(
        &self,
        serving_environment_id: i64,
        name: &str,
    ) -> Result<Option<InferenceService>> {
        let stored = owned_name(serving_environment_id, name);
        self.store
            .get_context_by_type_and_name(schema::INFERENCE_SERVICE, None, &stored)
            .await?
            .map(InferenceService::from_context)
            .transpose()
    }

    /// The inference service with external id `external_id`, if any.
    pub async fn find_inference_service_by_external_id(
        &self,
        external_id: &str,
    ) -> Result<Option<InferenceService>> {
        self.context_by_external_id(self.types.inference_service, external_id)
            .await?
            .map(InferenceService::from_context)
            .transpose()
    }

    /// One page of inference services, of one environment when
    /// `serving_environment_id` is set, else of all.
    pub async fn list_inference_services(
        &self,
        serving_environment_id: Option<i64>,
        options: &ListOptions,
    ) -> Result<Page<InferenceService>> {
        let mut scope = format!("type_id = {}", self.types.inference_service);
        if let Some(e) = serving_environment_id {
            scope.push_str(&format!(" AND parent_contexts_a.id = {e}"));
        }
        let page = self.store.list_contexts(&scoped(options, scope)).await?;
        Ok(Page {
            items: page
                .items
                .into_iter()
                .map(InferenceService::from_context)
                .collect::<Result<_>>()?,
            next_page_token: page.next_page_token,
        })
    }

    /// Changes the fields `update` sets and keeps the others; a new
    /// `model_version_id` must be a version of the service's model.
    pub async fn update_inference_service(
        &self,
        id: i64,
        update: &InferenceServiceUpdate,
    ) -> Result<InferenceService> {
        let mut c = self
            .context(self.types.inference_service, id, || {
                format!("inference service {id}")
            })
            .await?;
        if let Some(v) = update.model_version_id {
            let model_id = InferenceService::from_context(c.clone())?.registered_model_id;
            self.check_version_of("inference_service_update.model_version_id", v, model_id)
                .await?;
            c.properties
                .insert("model_version_id".into(), Value::Int(v));
        }
        let props = &mut c.properties;
        set_string(props, "description", update.description.as_deref());
        set_string(props, "runtime", update.runtime.as_deref());
        set_string(
            props,
            "desired_state",
            update.desired_state.map(InferenceServiceState::as_str),
        );
        apply_common(
            &mut c,
            update.external_id.as_ref(),
            update.custom_properties.as_ref(),
        );
        self.store.put_contexts(&[c]).await?;
        self.get_inference_service(id).await
    }

    /// The version inference service `id` serves: its `model_version_id`,
    /// or else its model's newest version by creation time (Kubeflow Model
    /// Registry's rule); `None` when the model has no version.
    pub async fn served_model_version(&self, id: i64) -> Result<Option<super::ModelVersion>> {
        let service = self.get_inference_service(id).await?;
        if let Some(v) = service.model_version_id {
            return self.get_model_version(v).await.map(Some);
        }
        let newest = ListOptions {
            limit: Some(1),
            ..ListOptions::default()
        };
        let page = self
            .list_model_versions(Some(service.registered_model_id), &newest)
            .await?;
        Ok(page.items.into_iter().next())
    }

    /// Records that inference service `serve.inference_service_id` serves
    /// version `serve.model_version_id` (one of the service's registered
    /// model's versions): a `kf.ServeModel` execution associated with the
    /// service, with an INPUT event (path `model`) from each model artifact
    /// the version has now.
    pub async fn create_serve_model(&self, serve: &ServeModel) -> Result<ServeModel> {
        if serve.id.is_some() {
            return Err(Error::invalid(
                "serve_model.id",
                "must be None to create; use update_serve_model",
            ));
        }
        let service_id = serve.inference_service_id;
        let service = self
            .context(self.types.inference_service, service_id, || {
                format!("serve_model.inference_service_id: inference service {service_id}")
            })
            .await?;
        let model_id = InferenceService::from_context(service)?.registered_model_id;
        self.check_version_of(
            "serve_model.model_version_id",
            serve.model_version_id,
            model_id,
        )
        .await?;
        if let Some(name) = &serve.name {
            check_name("serve_model.name", name)?;
            let stored = owned_name(service_id, name);
            if self
                .store
                .get_execution_by_type_and_name(schema::SERVE_MODEL, None, &stored)
                .await?
                .is_some()
            {
                return Err(Error::AlreadyExists {
                    what: format!(
                        "serve_model.name: serve model {name:?} of inference service {service_id}"
                    ),
                });
            }
        }
        if let Some(e) = &serve.external_id
            && let Some(x) = self
                .store
                .get_executions_by_external_ids(std::slice::from_ref(e))
                .await?
                .first()
        {
            return Err(Error::AlreadyExists {
                what: format!(
                    "serve_model.external_id {e:?} (execution {})",
                    x.id.unwrap_or_default()
                ),
            });
        }
        let inputs: Vec<i64> = self
            .store
            .get_artifacts_by_context(serve.model_version_id)
            .await?
            .into_iter()
            .filter(|a| a.type_id == self.types.model_artifact)
            .filter_map(|a| a.id)
            .collect();
        let ids = self
            .store
            .put_executions(&[serve.to_execution(self.types.serve_model)])
            .await?;
        let id = only_id(ids, "serve model")?;
        let events: Vec<Event> = inputs
            .iter()
            .map(|&artifact_id| Event {
                artifact_id,
                execution_id: id,
                ..Event::new(EventType::Input).with_key("model")
            })
            .collect();
        let association = Association {
            context_id: service_id,
            execution_id: id,
        };
        let linked = match self
            .store
            .put_attributions_and_associations(&[], &[association])
            .await
        {
            Ok(()) => self.store.put_events(&events).await,
            Err(e) => Err(e),
        };
        if let Err(e) = linked {
            // Best effort: the link's error is the one worth reporting.
            let _ = self.store.delete_execution(id, DeletePolicy::Cascade).await;
            return Err(e);
        }
        self.get_serve_model(id).await
    }

    /// The serve model `id`; [`Error::NotFound`] when there is none.
    pub async fn get_serve_model(&self, id: i64) -> Result<ServeModel> {
        let e = self
            .execution(self.types.serve_model, id, || format!("serve model {id}"))
            .await?;
        self.serve_model_from(e).await
    }

    /// One page of serve models, of one inference service when
    /// `inference_service_id` is set, else of all.
    pub async fn list_serve_models(
        &self,
        inference_service_id: Option<i64>,
        options: &ListOptions,
    ) -> Result<Page<ServeModel>> {
        let mut scope = format!("type_id = {}", self.types.serve_model);
        if let Some(s) = inference_service_id {
            scope.push_str(&format!(" AND contexts_a.id = {s}"));
        }
        let page = self.store.list_executions(&scoped(options, scope)).await?;
        let mut items = Vec::with_capacity(page.items.len());
        for e in page.items {
            items.push(self.serve_model_from(e).await?);
        }
        Ok(Page {
            items,
            next_page_token: page.next_page_token,
        })
    }

    /// Changes the fields `update` sets and keeps the others.
    pub async fn update_serve_model(
        &self,
        id: i64,
        update: &ServeModelUpdate,
    ) -> Result<ServeModel> {
        let mut e = self
            .execution(self.types.serve_model, id, || format!("serve model {id}"))
            .await?;
        set_string(
            &mut e.properties,
            "description",
            update.description.as_deref(),
        );
        if let Some(s) = update.last_known_state {
            e.last_known_state = s;
        }
        if let Some(x) = &update.external_id {
            e.external_id = Some(x.clone());
        }
        if let Some(p) = &update.custom_properties {
            e.custom_properties.clone_from(p);
        }
        self.store.put_executions(&[e]).await?;
        self.get_serve_model(id).await
    }

    /// What inference service `id` serves and where it came from: the
    /// upstream lineage, up to `max_hops` hops, of every serve model of the
    /// service (serve model → model artifacts → the training executions
    /// that wrote them → their inputs …). Empty when nothing was served.
    pub async fn inference_service_lineage(&self, id: i64, max_hops: u32) -> Result<LineageGraph> {
        self.context(self.types.inference_service, id, || {
            format!("inference service {id}")
        })
        .await?;
        let serves: Vec<i64> = self
            .store
            .get_executions_by_context(id)
            .await?
            .into_iter()
            .filter(|e| e.type_id == self.types.serve_model)
            .filter_map(|e| e.id)
            .collect();
        if serves.is_empty() {
            return Ok(LineageGraph::default());
        }
        // The store caps start nodes; the newest serve models matter most.
        let start = serves
            .iter()
            .rev()
            .take(crate::limits::MAX_LINEAGE_START_NODES)
            .copied()
            .collect();
        self.store
            .lineage_subgraph(&LineageQuery {
                start: LineageStart::Executions(start),
                max_hops,
                direction: Direction::Upstream,
            })
            .await
    }

    /// Refuses a version that does not exist or belongs to another model.
    async fn check_version_of(&self, field: &str, version_id: i64, model_id: i64) -> Result<()> {
        let version = self
            .context(self.types.model_version, version_id, || {
                format!("{field}: model version {version_id}")
            })
            .await?;
        let owner = self
            .version_from_context(version)
            .await?
            .registered_model_id;
        if owner != model_id {
            return Err(Error::invalid(
                field,
                format!(
                    "model version {version_id} belongs to registered model {owner}, not {model_id}"
                ),
            ));
        }
        Ok(())
    }

    /// The serve model stored as `e`, its service taken from the name
    /// prefix or, without one, from its association.
    async fn serve_model_from(&self, e: Execution) -> Result<ServeModel> {
        let id = e.id.unwrap_or_default();
        let (mut serve, owner) = ServeModel::from_execution(e)?;
        if owner.is_none() {
            serve.inference_service_id = self
                .store
                .get_contexts_by_execution(id)
                .await?
                .into_iter()
                .find(|c| c.type_id == self.types.inference_service)
                .and_then(|c| c.id)
                .ok_or_else(|| Error::Corrupt {
                    what: format!("serve model {id} has no inference service"),
                })?;
        }
        Ok(serve)
    }
}
