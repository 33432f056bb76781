//! Model artifacts: the files of a model version, `kf.ModelArtifact`
//! artifacts attributed to the version's context.

use serde::{Deserialize, Serialize};

use super::{ModelRegistry, Props, only_id, owned_name, schema, scoped, set_string, split_owned};
use crate::error::{Error, Result};
use crate::event::{Event, EventType};
use crate::link::Attribution;
use crate::node::{Artifact, ArtifactState};
use crate::store::{DeletePolicy, ListOptions, MetadataStore, Page};
use crate::types::check_name;
use crate::value::Properties;

/// The string properties a model artifact declares, with their fields.
const STRING_FIELDS: [&str; 6] = [
    "description",
    "model_format_name",
    "model_format_version",
    "storage_key",
    "storage_path",
    "service_account_name",
];

/// The files of a model version (Kubeflow Model Registry's `ModelArtifact`;
/// a `kf.ModelArtifact` artifact attributed to the version's context, named
/// `<model version id>:<name>`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelArtifact {
    /// The id, set by the store; `None` for an artifact not yet created.
    pub id: Option<i64>,
    /// The model version it belongs to; required to create, fixed after.
    /// `None` when read for an artifact no version claims.
    pub model_version_id: Option<i64>,
    /// The name, unique within the version when set; fixed once created.
    pub name: Option<String>,
    /// Where the files are.
    pub uri: Option<String>,
    /// MLMD's artifact state.
    pub state: ArtifactState,
    /// Free text (property `description`).
    pub description: Option<String>,
    /// The format, e.g. `onnx` (property `model_format_name`).
    pub model_format_name: Option<String>,
    /// The format's version (property `model_format_version`).
    pub model_format_version: Option<String>,
    /// The key of the storage credentials (property `storage_key`).
    pub storage_key: Option<String>,
    /// The path within the storage (property `storage_path`).
    pub storage_path: Option<String>,
    /// The Kubernetes service account to read it with (property
    /// `service_account_name`).
    pub service_account_name: Option<String>,
    /// An id from another system, unique among artifacts.
    pub external_id: Option<String>,
    /// Free-form properties.
    pub custom_properties: Properties,
    /// Creation time, ms since the epoch (set by the store).
    pub create_time_since_epoch: i64,
    /// Last update time, ms since the epoch (set by the store).
    pub last_update_time_since_epoch: i64,
}

/// The fields of a model artifact to change; `None` keeps the stored value.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelArtifactUpdate {
    /// New URI.
    pub uri: Option<String>,
    /// New state.
    pub state: Option<ArtifactState>,
    /// New description.
    pub description: Option<String>,
    /// New format name.
    pub model_format_name: Option<String>,
    /// New format version.
    pub model_format_version: Option<String>,
    /// New storage key.
    pub storage_key: Option<String>,
    /// New storage path.
    pub storage_path: Option<String>,
    /// New service account.
    pub service_account_name: Option<String>,
    /// New external id.
    pub external_id: Option<String>,
    /// New custom properties, replacing all stored ones.
    pub custom_properties: Option<Properties>,
}

impl ModelArtifact {
    /// An artifact named `name` of model version `model_version_id`.
    pub fn new(model_version_id: i64, name: impl Into<String>) -> Self {
        Self {
            model_version_id: Some(model_version_id),
            name: Some(name.into()),
            ..Self::default()
        }
    }

    fn strings(&self) -> [Option<&str>; 6] {
        [
            self.description.as_deref(),
            self.model_format_name.as_deref(),
            self.model_format_version.as_deref(),
            self.storage_key.as_deref(),
            self.storage_path.as_deref(),
            self.service_account_name.as_deref(),
        ]
    }

    fn to_artifact(&self, type_id: i64, version_id: i64) -> Artifact {
        let mut a = Artifact {
            type_id,
            name: self.name.as_deref().map(|n| owned_name(version_id, n)),
            uri: self.uri.clone(),
            state: self.state,
            external_id: self.external_id.clone(),
            custom_properties: self.custom_properties.clone(),
            ..Artifact::default()
        };
        for (field, value) in STRING_FIELDS.iter().zip(self.strings()) {
            set_string(&mut a.properties, field, value);
        }
        a
    }

    /// The artifact stored as `a`; the version comes from the name prefix
    /// when there is one.
    fn from_artifact(a: Artifact) -> Result<Self> {
        let p = Props {
            node: format!("model artifact {}", a.id.unwrap_or_default()),
            props: &a.properties,
        };
        let (owner, name) = match a.name.as_deref().map(split_owned) {
            Some((owner, name)) => (owner, Some(name.to_owned())),
            None => (None, None),
        };
        Ok(Self {
            id: a.id,
            model_version_id: owner,
            name,
            description: p.string("description")?,
            model_format_name: p.string("model_format_name")?,
            model_format_version: p.string("model_format_version")?,
            storage_key: p.string("storage_key")?,
            storage_path: p.string("storage_path")?,
            service_account_name: p.string("service_account_name")?,
            uri: a.uri,
            state: a.state,
            external_id: a.external_id,
            custom_properties: a.custom_properties,
            create_time_since_epoch: a.create_time_since_epoch,
            last_update_time_since_epoch: a.last_update_time_since_epoch,
        })
    }
}

impl ModelArtifactUpdate {
    fn apply(&self, a: &mut Artifact) {
        let values = [
            self.description.as_deref(),
            self.model_format_name.as_deref(),
            self.model_format_version.as_deref(),
            self.storage_key.as_deref(),
            self.storage_path.as_deref(),
            self.service_account_name.as_deref(),
        ];
        for (field, value) in STRING_FIELDS.iter().zip(values) {
            set_string(&mut a.properties, field, value);
        }
        if let Some(u) = &self.uri {
            a.uri = Some(u.clone());
        }
        if let Some(s) = self.state {
            a.state = s;
        }
        if let Some(e) = &self.external_id {
            a.external_id = Some(e.clone());
        }
        if let Some(p) = &self.custom_properties {
            a.custom_properties.clone_from(p);
        }
    }
}

impl<S: MetadataStore> ModelRegistry<S> {
    /// Creates a model artifact in `artifact.model_version_id` (required:
    /// [`Error::InvalidArgument`] without it, [`Error::NotFound`] naming it
    /// when there is no such version); a name the version already has, or
    /// an external id in use, is [`Error::AlreadyExists`].
    pub async fn create_model_artifact(&self, artifact: &ModelArtifact) -> Result<ModelArtifact> {
        let new = NewArtifact {
            field: "model_artifact",
            type_name: schema::MODEL_ARTIFACT,
            id: artifact.id,
            version_id: artifact.model_version_id,
            name: artifact.name.as_deref(),
            external_id: artifact.external_id.as_deref(),
        };
        let id = self
            .create_in_version(new, |version_id| {
                artifact.to_artifact(self.types.model_artifact, version_id)
            })
            .await?;
        self.get_model_artifact(id).await
    }

    /// The model artifact `id`; [`Error::NotFound`] when there is none.
    pub async fn get_model_artifact(&self, id: i64) -> Result<ModelArtifact> {
        let a = self
            .artifact(self.types.model_artifact, id, || {
                format!("model artifact {id}")
            })
            .await?;
        self.model_artifact_from(a).await
    }

    /// The artifact named `name` of model version `model_version_id`, if
    /// there is one.
    pub async fn find_model_artifact_by_name(
        &self,
        model_version_id: i64,
        name: &str,
    ) -> Result<Option<ModelArtifact>> {
        let stored = owned_name(model_version_id, name);
        match self
            .store
            .get_artifact_by_type_and_name(schema::MODEL_ARTIFACT, None, &stored)
            .await?
        {
            Some(a) => Ok(Some(self.model_artifact_from(a).await?)),
            None => Ok(None),
        }
    }

    /// The model artifact with external id `external_id`, if there is one.
    pub async fn find_model_artifact_by_external_id(
        &self,
        external_id: &str,
    ) -> Result<Option<ModelArtifact>> {
        let found = self
            .store
            .get_artifacts_by_external_ids(&[external_id.to_owned()])
            .await?
            .into_iter()
            .find(|a| a.type_id == self.types.model_artifact);
        match found {
            Some(a) => Ok(Some(self.model_artifact_from(a).await?)),
            None => Ok(None),
        }
    }

    /// One page of model artifacts, of one model version when
    /// `model_version_id` is set, else of all.
    pub async fn list_model_artifacts(
        &self,
        model_version_id: Option<i64>,
        options: &ListOptions,
    ) -> Result<Page<ModelArtifact>> {
        let mut scope = format!("type_id = {}", self.types.model_artifact);
        if let Some(v) = model_version_id {
            scope.push_str(&format!(" AND contexts_a.id = {v}"));
        }
        let page = self.store.list_artifacts(&scoped(options, scope)).await?;
        let mut items = Vec::with_capacity(page.items.len());
        for a in page.items {
            items.push(self.model_artifact_from(a).await?);
        }
        Ok(Page {
            items,
            next_page_token: page.next_page_token,
        })
    }

    /// Changes the fields `update` sets and keeps the others.
    pub async fn update_model_artifact(
        &self,
        id: i64,
        update: &ModelArtifactUpdate,
    ) -> Result<ModelArtifact> {
        let mut a = self
            .artifact(self.types.model_artifact, id, || {
                format!("model artifact {id}")
            })
            .await?;
        update.apply(&mut a);
        self.store.put_artifacts(&[a]).await?;
        self.get_model_artifact(id).await
    }

    /// Records that execution `execution_id` (a training step) wrote model
    /// artifact `model_artifact_id`: an OUTPUT event with path `model`, so
    /// upstream lineage from the artifact, or from whatever serves it,
    /// reaches the training step and its inputs.
    pub async fn record_training_output(
        &self,
        model_artifact_id: i64,
        execution_id: i64,
    ) -> Result<()> {
        self.artifact(self.types.model_artifact, model_artifact_id, || {
            format!("model_artifact_id: model artifact {model_artifact_id}")
        })
        .await?;
        let event = Event {
            artifact_id: model_artifact_id,
            execution_id,
            ..Event::new(EventType::Output).with_key("model")
        };
        self.store.put_events(&[event]).await
    }

    /// The model artifact stored as `a`.
    async fn model_artifact_from(&self, a: Artifact) -> Result<ModelArtifact> {
        let id = a.id.unwrap_or_default();
        let mut artifact = ModelArtifact::from_artifact(a)?;
        artifact.model_version_id = self.version_of(id, artifact.model_version_id).await?;
        Ok(artifact)
    }
}

/// What [`ModelRegistry::create_in_version`] checks of a new artifact.
struct NewArtifact<'a> {
    /// `model_artifact` or `doc_artifact`, for error fields.
    field: &'a str,
    type_name: &'a str,
    id: Option<i64>,
    version_id: Option<i64>,
    name: Option<&'a str>,
    external_id: Option<&'a str>,
}

impl<S: MetadataStore> ModelRegistry<S> {
    /// Creates an artifact in a model version: the version must exist, the
    /// name be new within it and the external id unused; the artifact is
    /// attributed to the version (and deleted again if that fails).
    async fn create_in_version(
        &self,
        new: NewArtifact<'_>,
        to_artifact: impl FnOnce(i64) -> Artifact,
    ) -> Result<i64> {
        let field = new.field;
        if new.id.is_some() {
            return Err(Error::invalid(
                format!("{field}.id"),
                "must be None to create; use the update call",
            ));
        }
        let version_id = new.version_id.ok_or_else(|| {
            Error::invalid(
                format!("{field}.model_version_id"),
                "required: the artifact is created in a model version",
            )
        })?;
        self.context(self.types.model_version, version_id, || {
            format!("{field}.model_version_id: model version {version_id}")
        })
        .await?;
        if let Some(name) = new.name {
            check_name(&format!("{field}.name"), name)?;
            let stored = owned_name(version_id, name);
            if self
                .store
                .get_artifact_by_type_and_name(new.type_name, None, &stored)
                .await?
                .is_some()
            {
                return Err(Error::AlreadyExists {
                    what: format!("{field}.name: artifact {name:?} of model version {version_id}"),
                });
            }
        }
        if let Some(e) = new.external_id
            && let Some(a) = self
                .store
                .get_artifacts_by_external_ids(&[e.to_owned()])
                .await?
                .first()
        {
            return Err(Error::AlreadyExists {
                what: format!(
                    "{field}.external_id {e:?} (artifact {})",
                    a.id.unwrap_or_default()
                ),
            });
        }
        let ids = self.store.put_artifacts(&[to_artifact(version_id)]).await?;
        let id = only_id(ids, field)?;
        let link = Attribution {
            context_id: version_id,
            artifact_id: id,
        };
        if let Err(e) = self
            .store
            .put_attributions_and_associations(&[link], &[])
            .await
        {
            // Best effort: the link's error is the one worth reporting.
            let _ = self.store.delete_artifact(id, DeletePolicy::Cascade).await;
            return Err(e);
        }
        Ok(id)
    }

    /// The version an artifact read as `owner` belongs to: the name's
    /// prefix or, without one, the version it is attributed to.
    async fn version_of(&self, artifact_id: i64, owner: Option<i64>) -> Result<Option<i64>> {
        if owner.is_some() {
            return Ok(owner);
        }
        Ok(self
            .store
            .get_contexts_by_artifact(artifact_id)
            .await?
            .into_iter()
            .find(|c| c.type_id == self.types.model_version)
            .and_then(|c| c.id))
    }
}

/// A document about a model version, e.g. a model card (Kubeflow Model
/// Registry's `DocArtifact`; a `kf.DocArtifact` artifact attributed to the
/// version's context, named `<model version id>:<name>`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DocArtifact {
    /// The id, set by the store; `None` for an artifact not yet created.
    pub id: Option<i64>,
    /// The model version it belongs to; required to create, fixed after.
    /// `None` when read for an artifact no version claims.
    pub model_version_id: Option<i64>,
    /// The name, unique within the version when set; fixed once created.
    pub name: Option<String>,
    /// Where the document is.
    pub uri: Option<String>,
    /// MLMD's artifact state.
    pub state: ArtifactState,
    /// Free text (property `description`).
    pub description: Option<String>,
    /// An id from another system, unique among artifacts.
    pub external_id: Option<String>,
    /// Free-form properties.
    pub custom_properties: Properties,
    /// Creation time, ms since the epoch (set by the store).
    pub create_time_since_epoch: i64,
    /// Last update time, ms since the epoch (set by the store).
    pub last_update_time_since_epoch: i64,
}

/// The fields of a doc artifact to change; `None` keeps the stored value.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DocArtifactUpdate {
    /// New URI.
    pub uri: Option<String>,
    /// New state.
    pub state: Option<ArtifactState>,
    /// New description.
    pub description: Option<String>,
    /// New external id.
    pub external_id: Option<String>,
    /// New custom properties, replacing all stored ones.
    pub custom_properties: Option<Properties>,
}

impl DocArtifact {
    /// A document named `name` of model version `model_version_id` at `uri`.
    pub fn new(model_version_id: i64, name: impl Into<String>, uri: impl Into<String>) -> Self {
        Self {
            model_version_id: Some(model_version_id),
            name: Some(name.into()),
            uri: Some(uri.into()),
            ..Self::default()
        }
    }

    fn to_artifact(&self, type_id: i64, version_id: i64) -> Artifact {
        let mut a = Artifact {
            type_id,
            name: self.name.as_deref().map(|n| owned_name(version_id, n)),
            uri: self.uri.clone(),
            state: self.state,
            external_id: self.external_id.clone(),
            custom_properties: self.custom_properties.clone(),
            ..Artifact::default()
        };
        set_string(
            &mut a.properties,
            "description",
            self.description.as_deref(),
        );
        a
    }

    fn from_artifact(a: Artifact) -> Result<Self> {
        let p = Props {
            node: format!("doc artifact {}", a.id.unwrap_or_default()),
            props: &a.properties,
        };
        let (owner, name) = match a.name.as_deref().map(split_owned) {
            Some((owner, name)) => (owner, Some(name.to_owned())),
            None => (None, None),
        };
        Ok(Self {
            id: a.id,
            model_version_id: owner,
            name,
            description: p.string("description")?,
            uri: a.uri,
            state: a.state,
            external_id: a.external_id,
            custom_properties: a.custom_properties,
            create_time_since_epoch: a.create_time_since_epoch,
            last_update_time_since_epoch: a.last_update_time_since_epoch,
        })
    }
}

impl<S: MetadataStore> ModelRegistry<S> {
    /// Creates a doc artifact in `doc.model_version_id`, with the checks
    /// of [`ModelRegistry::create_model_artifact`].
    pub async fn create_doc_artifact(&self, doc: &DocArtifact) -> Result<DocArtifact> {
        let new = NewArtifact {
            field: "doc_artifact",
            type_name: schema::DOC_ARTIFACT,
            id: doc.id,
            version_id: doc.model_version_id,
            name: doc.name.as_deref(),
            external_id: doc.external_id.as_deref(),
        };
        let id = self
            .create_in_version(new, |version_id| {
                doc.to_artifact(self.types.doc_artifact, version_id)
            })
            .await?;
        self.get_doc_artifact(id).await
    }

    /// The doc artifact `id`; [`Error::NotFound`] when there is none.
    pub async fn get_doc_artifact(&self, id: i64) -> Result<DocArtifact> {
        let a = self
            .artifact(self.types.doc_artifact, id, || format!("doc artifact {id}"))
            .await?;
        self.doc_artifact_from(a).await
    }

    /// One page of the doc artifacts of model version `model_version_id`.
    pub async fn list_doc_artifacts(
        &self,
        model_version_id: i64,
        options: &ListOptions,
    ) -> Result<Page<DocArtifact>> {
        let scope = format!(
            "type_id = {} AND contexts_a.id = {model_version_id}",
            self.types.doc_artifact
        );
        let page = self.store.list_artifacts(&scoped(options, scope)).await?;
        let mut items = Vec::with_capacity(page.items.len());
        for a in page.items {
            items.push(self.doc_artifact_from(a).await?);
        }
        Ok(Page {
            items,
            next_page_token: page.next_page_token,
        })
    }

    /// Changes the fields `update` sets and keeps the others.
    pub async fn update_doc_artifact(
        &self,
        id: i64,
        update: &DocArtifactUpdate,
    ) -> Result<DocArtifact> {
        let mut a = self
            .artifact(self.types.doc_artifact, id, || format!("doc artifact {id}"))
            .await?;
        set_string(
            &mut a.properties,
            "description",
            update.description.as_deref(),
        );
        if let Some(u) = &update.uri {
            a.uri = Some(u.clone());
        }
        if let Some(s) = update.state {
            a.state = s;
        }
        if let Some(e) = &update.external_id {
            a.external_id = Some(e.clone());
        }
        if let Some(p) = &update.custom_properties {
            a.custom_properties.clone_from(p);
        }
        self.store.put_artifacts(&[a]).await?;
        self.get_doc_artifact(id).await
    }

    async fn doc_artifact_from(&self, a: Artifact) -> Result<DocArtifact> {
        let id = a.id.unwrap_or_default();
        let mut doc = DocArtifact::from_artifact(a)?;
        doc.model_version_id = self.version_of(id, doc.model_version_id).await?;
        Ok(doc)
    }
}
