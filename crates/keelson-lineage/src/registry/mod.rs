//! Kubeflow Model Registry's model, stored as MLMD nodes in any
//! [`MetadataStore`]: registered models and their versions, model
//! artifacts, serving environments, inference services and the
//! [`ServeModel`] executions that tie a served version into the lineage
//! graph, so a deployment can be traced back to its training data.
//!
//! [`ModelRegistry::open`] registers the registry's types (the names and
//! properties Kubeflow Model Registry uses, see [`schema`]) and wraps the
//! store; every operation is a few store calls, so the registry runs on
//! every backend. It is the registry's data layer, not its REST server.
//!
//! ```
//! use keelson_lineage::registry::{
//!     InferenceService, ModelArtifact, ModelRegistry, ModelState, ModelVersion,
//!     RegisteredModel, RegisteredModelUpdate, ServeModel, ServingEnvironment,
//! };
//! use keelson_lineage::{
//!     Artifact, Event, EventType, Execution, ExecutionState, ListOptions, MetadataStore,
//!     NodeType, SqliteStore, TypeOptions,
//! };
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let registry = ModelRegistry::open(SqliteStore::open_in_memory().await?).await?;
//!
//! // A training run read a dataset and wrote the model files.
//! let store = registry.store();
//! let data_type = store.put_type(&NodeType::artifact("Dataset"), TypeOptions::default()).await?;
//! let train_type = store.put_type(&NodeType::execution("Train"), TypeOptions::default()).await?;
//! let training = store
//!     .put_execution(
//!         &Execution::new(train_type, ExecutionState::Complete),
//!         &[(Artifact::new(data_type, "s3://data/churn.parquet"), Some(Event::new(EventType::Input)))],
//!         &[],
//!     )
//!     .await?;
//!
//! // Register the model, its first version and the version's files.
//! let model = registry.create_registered_model(&RegisteredModel::new("churn")).await?;
//! let model_id = model.id.unwrap_or_default();
//! let version = registry.create_model_version(&ModelVersion::new(model_id, "v1")).await?;
//! let version_id = version.id.unwrap_or_default();
//! let files = ModelArtifact {
//!     uri: Some("s3://models/churn/v1".into()),
//!     model_format_name: Some("onnx".into()),
//!     ..ModelArtifact::new(version_id, "model")
//! };
//! let files = registry.create_model_artifact(&files).await?;
//! let files_id = files.id.unwrap_or_default();
//! registry.record_training_output(files_id, training.execution_id).await?;
//!
//! // Serve it.
//! let env = registry.create_serving_environment(&ServingEnvironment::new("prod")).await?;
//! let service = InferenceService {
//!     model_version_id: Some(version_id),
//!     ..InferenceService::new(env.id.unwrap_or_default(), model_id, "churn-svc")
//! };
//! let service = registry.create_inference_service(&service).await?;
//! let service_id = service.id.unwrap_or_default();
//! registry.create_serve_model(&ServeModel::new(service_id, version_id)).await?;
//!
//! // From the deployment back to the data: serve → model files → training → dataset.
//! let graph = registry.inference_service_lineage(service_id, 10).await?;
//! assert!(graph.artifacts.iter().any(|a| a.uri.as_deref() == Some("s3://data/churn.parquet")));
//!
//! // Find, update (other fields stay), archive, list.
//! let found = registry.find_model_version_by_name(model_id, "v1").await?;
//! assert_eq!(found.map(|v| v.id), Some(Some(version_id)));
//! let update = RegisteredModelUpdate { owner: Some("ml-team".into()), ..Default::default() };
//! registry.update_registered_model(model_id, &update).await?;
//! let archived = registry.archive_registered_model(model_id).await?;
//! assert_eq!((archived.state, archived.owner.as_deref()), (ModelState::Archived, Some("ml-team")));
//! let page = registry.list_model_versions(Some(model_id), &ListOptions::default()).await?;
//! assert_eq!(page.items.len(), 1);
//! # Ok::<(), keelson_lineage::Error>(())
//! # }).unwrap();
//! ```
//!
//! The mapping onto MLMD (type names, contexts and parent contexts, name
//! prefixes, properties) is Kubeflow Model Registry's and is described in
//! `docs/lineage.md`, section "Model registry".

mod artifact;
mod model;
pub mod schema;
mod serving;
mod state;

pub use artifact::{DocArtifact, DocArtifactUpdate, ModelArtifact, ModelArtifactUpdate};
pub use model::{ModelVersion, ModelVersionUpdate, RegisteredModel, RegisteredModelUpdate};
pub use serving::{
    InferenceService, InferenceServiceUpdate, ServeModel, ServeModelUpdate, ServingEnvironment,
    ServingEnvironmentUpdate,
};
pub use state::{InferenceServiceState, ModelState};

use crate::error::{Error, Result};
use crate::node::{Artifact, Context, Execution};
use crate::store::{ListOptions, MetadataStore};
use crate::types::TypeOptions;
use crate::value::{Properties, Value};

/// The ids of the registry's types in the wrapped store (see [`schema`]
/// for their names), e.g. to record a training run whose output is a
/// `kf.ModelArtifact` directly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RegistryTypes {
    /// `kf.RegisteredModel` (context type).
    pub registered_model: i64,
    /// `kf.ModelVersion` (context type).
    pub model_version: i64,
    /// `kf.ModelArtifact` (artifact type).
    pub model_artifact: i64,
    /// `kf.DocArtifact` (artifact type).
    pub doc_artifact: i64,
    /// `kf.ServingEnvironment` (context type).
    pub serving_environment: i64,
    /// `kf.InferenceService` (context type).
    pub inference_service: i64,
    /// `kf.ServeModel` (execution type).
    pub serve_model: i64,
}

/// Kubeflow Model Registry's operations over a [`MetadataStore`].
///
/// Writes that take more than one store call (a version and its link to
/// its model, an artifact and its attribution, a serve model, its
/// association and its events) undo their first call when a later one
/// fails, so a refused write leaves no half-made entity behind; a process
/// that dies between the calls can leave one without its link (a version
/// that `get` finds but its model's list does not show).
#[derive(Debug, Clone)]
pub struct ModelRegistry<S> {
    store: S,
    types: RegistryTypes,
}

impl<S: MetadataStore> ModelRegistry<S> {
    /// Registers the registry's types in `store` (adding properties a
    /// stored type lacks, keeping ones it has beyond them: a store written
    /// by Kubeflow Model Registry opens as is) and wraps it.
    pub async fn open(store: S) -> Result<Self> {
        let options = TypeOptions {
            can_add_fields: true,
            can_omit_fields: true,
        };
        let mut ids = [0_i64; 7];
        for (id, node_type) in ids.iter_mut().zip(schema::node_types()) {
            *id = store.put_type(&node_type, options).await?;
        }
        let [
            registered_model,
            model_version,
            model_artifact,
            doc_artifact,
            serving_environment,
            inference_service,
            serve_model,
        ] = ids;
        Ok(Self {
            store,
            types: RegistryTypes {
                registered_model,
                model_version,
                model_artifact,
                doc_artifact,
                serving_environment,
                inference_service,
                serve_model,
            },
        })
    }

    /// The wrapped store, for lineage queries and for recording pipelines.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The ids of the registry's types.
    pub fn types(&self) -> RegistryTypes {
        self.types
    }

    /// The wrapped store.
    pub fn into_store(self) -> S {
        self.store
    }

    /// The context `id` if it has type `type_id`; else `NotFound` naming `what`.
    async fn context(
        &self,
        type_id: i64,
        id: i64,
        what: impl FnOnce() -> String,
    ) -> Result<Context> {
        match self.store.get_contexts_by_id(&[id]).await?.pop() {
            Some(c) if c.type_id == type_id => Ok(c),
            _ => Err(Error::not_found(what())),
        }
    }

    /// The artifact `id` if it has type `type_id`; else `NotFound` naming `what`.
    async fn artifact(
        &self,
        type_id: i64,
        id: i64,
        what: impl FnOnce() -> String,
    ) -> Result<Artifact> {
        match self.store.get_artifacts_by_id(&[id]).await?.pop() {
            Some(a) if a.type_id == type_id => Ok(a),
            _ => Err(Error::not_found(what())),
        }
    }

    /// The execution `id` if it has type `type_id`; else `NotFound` naming `what`.
    async fn execution(
        &self,
        type_id: i64,
        id: i64,
        what: impl FnOnce() -> String,
    ) -> Result<Execution> {
        match self.store.get_executions_by_id(&[id]).await?.pop() {
            Some(e) if e.type_id == type_id => Ok(e),
            _ => Err(Error::not_found(what())),
        }
    }

    /// Refuses an external id some context already has.
    async fn context_external_id_free(&self, field: &str, external_id: Option<&str>) -> Result<()> {
        let Some(e) = external_id else { return Ok(()) };
        match self
            .store
            .get_contexts_by_external_ids(&[e.to_owned()])
            .await?
            .first()
        {
            Some(c) => Err(Error::AlreadyExists {
                what: format!("{field} {e:?} (context {})", c.id.unwrap_or_default()),
            }),
            None => Ok(()),
        }
    }
}

/// `options` with its filter narrowed by `scope` (a filter this module
/// writes; the caller's filter, if any, is ANDed to it).
fn scoped(options: &ListOptions, scope: String) -> ListOptions {
    let filter_query = match options.filter_query.as_deref().map(str::trim) {
        Some(f) if !f.is_empty() => format!("{scope} AND ({f})"),
        _ => scope,
    };
    ListOptions {
        filter_query: Some(filter_query),
        ..options.clone()
    }
}

/// The stored name of an entity owned by `owner` (a model version by its
/// registered model, ...): Kubeflow Model Registry's `<owner id>:<name>`,
/// which keeps names unique per owner under MLMD's per-type uniqueness.
fn owned_name(owner: i64, name: &str) -> String {
    format!("{owner}:{name}")
}

/// The owner id and the entity's own name in a stored name; the owner is
/// `None` when the prefix is missing or not an id (upstream writes a UUID
/// for entities created without an owner).
fn split_owned(stored: &str) -> (Option<i64>, &str) {
    match stored.split_once(':') {
        Some((owner, name)) => (owner.parse().ok(), name),
        None => (None, stored),
    }
}

/// The one id a put of one node returned.
fn only_id(ids: Vec<i64>, what: &str) -> Result<i64> {
    ids.first().copied().ok_or_else(|| Error::Corrupt {
        what: format!("the store returned no id for the new {what}"),
    })
}

/// Typed reads of the properties a registry entity is stored with; a value
/// of another type than the registry writes is [`Error::Corrupt`] naming
/// the node and the property.
struct Props<'a> {
    node: String,
    props: &'a Properties,
}

impl Props<'_> {
    fn string(&self, name: &str) -> Result<Option<String>> {
        match self.props.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(v) => Err(self.corrupt(name, v)),
        }
    }

    fn int(&self, name: &str) -> Result<Option<i64>> {
        match self.props.get(name) {
            None => Ok(None),
            Some(Value::Int(i)) => Ok(Some(*i)),
            Some(v) => Err(self.corrupt(name, v)),
        }
    }

    /// A state property; missing is `T::default()`.
    fn state<T: Default>(&self, name: &str, parse: fn(&str) -> Option<T>) -> Result<T> {
        match self.string(name)? {
            None => Ok(T::default()),
            Some(s) => parse(&s).ok_or_else(|| Error::Corrupt {
                what: format!("{} property {name} {s:?}", self.node),
            }),
        }
    }

    fn corrupt(&self, name: &str, v: &Value) -> Error {
        Error::Corrupt {
            what: format!(
                "{} property {name} is {}, not the registry's type",
                self.node,
                v.property_type()
            ),
        }
    }
}

/// Sets `name` to `value` when there is one (a partial update keeps what it
/// is not given).
fn set_string(props: &mut Properties, name: &str, value: Option<&str>) {
    if let Some(v) = value {
        props.insert(name.to_owned(), Value::String(v.to_owned()));
    }
}
