//! Registered models and their versions: `kf.RegisteredModel` contexts
//! with `kf.ModelVersion` child contexts.

use serde::{Deserialize, Serialize};

use super::{
    ModelRegistry, ModelState, Props, only_id, owned_name, schema, scoped, set_string, split_owned,
};
use crate::error::{Error, Result};
use crate::link::ParentContext;
use crate::node::Context;
use crate::store::{DeletePolicy, ListOptions, MetadataStore, Page};
use crate::types::check_name;
use crate::value::Properties;

/// A model under management, the parent of its versions (Kubeflow Model
/// Registry's `RegisteredModel`; a `kf.RegisteredModel` context).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RegisteredModel {
    /// The id, set by the store; `None` for a model not yet created.
    pub id: Option<i64>,
    /// The name, unique among registered models; fixed once created.
    pub name: String,
    /// Free text (property `description`).
    pub description: Option<String>,
    /// Who owns it (property `owner`).
    pub owner: Option<String>,
    /// Live or archived (property `state`).
    pub state: ModelState,
    /// An id from another system, unique among contexts.
    pub external_id: Option<String>,
    /// Free-form properties.
    pub custom_properties: Properties,
    /// Creation time, ms since the epoch (set by the store).
    pub create_time_since_epoch: i64,
    /// Last update time, ms since the epoch (set by the store).
    pub last_update_time_since_epoch: i64,
}

/// The fields of a registered model to change; `None` keeps the stored
/// value (Kubeflow Model Registry's `RegisteredModelUpdate`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RegisteredModelUpdate {
    /// New description.
    pub description: Option<String>,
    /// New owner.
    pub owner: Option<String>,
    /// New state.
    pub state: Option<ModelState>,
    /// New external id.
    pub external_id: Option<String>,
    /// New custom properties, replacing all stored ones.
    pub custom_properties: Option<Properties>,
}

/// One version of a registered model (Kubeflow Model Registry's
/// `ModelVersion`; a `kf.ModelVersion` context, child of the model's
/// context, stored under the name `<registered model id>:<name>`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelVersion {
    /// The id, set by the store; `None` for a version not yet created.
    pub id: Option<i64>,
    /// The registered model it is a version of; fixed once created.
    pub registered_model_id: i64,
    /// The name, unique among the model's versions (property `version`);
    /// fixed once created.
    pub name: String,
    /// Free text (property `description`).
    pub description: Option<String>,
    /// Who made it (property `author`).
    pub author: Option<String>,
    /// Live or archived (property `state`).
    pub state: ModelState,
    /// An id from another system, unique among contexts.
    pub external_id: Option<String>,
    /// Free-form properties.
    pub custom_properties: Properties,
    /// Creation time, ms since the epoch (set by the store).
    pub create_time_since_epoch: i64,
    /// Last update time, ms since the epoch (set by the store).
    pub last_update_time_since_epoch: i64,
}

/// The fields of a model version to change; `None` keeps the stored value.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelVersionUpdate {
    /// New description.
    pub description: Option<String>,
    /// New author.
    pub author: Option<String>,
    /// New state.
    pub state: Option<ModelState>,
    /// New external id.
    pub external_id: Option<String>,
    /// New custom properties, replacing all stored ones.
    pub custom_properties: Option<Properties>,
}

impl RegisteredModel {
    /// A live model named `name`.
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
        set_string(&mut c.properties, "owner", self.owner.as_deref());
        set_string(&mut c.properties, "state", Some(self.state.as_str()));
        c.external_id.clone_from(&self.external_id);
        c.custom_properties.clone_from(&self.custom_properties);
        c
    }

    fn from_context(c: Context) -> Result<Self> {
        let id = c.id.unwrap_or_default();
        let p = Props {
            node: format!("registered model {id}"),
            props: &c.properties,
        };
        Ok(Self {
            id: c.id,
            description: p.string("description")?,
            owner: p.string("owner")?,
            state: p.state("state", ModelState::parse)?,
            name: c.name,
            external_id: c.external_id,
            custom_properties: c.custom_properties,
            create_time_since_epoch: c.create_time_since_epoch,
            last_update_time_since_epoch: c.last_update_time_since_epoch,
        })
    }
}

impl RegisteredModelUpdate {
    fn apply(&self, c: &mut Context) {
        set_string(
            &mut c.properties,
            "description",
            self.description.as_deref(),
        );
        set_string(&mut c.properties, "owner", self.owner.as_deref());
        set_string(
            &mut c.properties,
            "state",
            self.state.map(ModelState::as_str),
        );
        apply_common(
            c,
            self.external_id.as_ref(),
            self.custom_properties.as_ref(),
        );
    }
}

impl ModelVersion {
    /// A live version `name` of registered model `registered_model_id`.
    pub fn new(registered_model_id: i64, name: impl Into<String>) -> Self {
        Self {
            registered_model_id,
            name: name.into(),
            ..Self::default()
        }
    }

    fn to_context(&self, type_id: i64, model_name: &str) -> Context {
        let mut c = Context::new(type_id, owned_name(self.registered_model_id, &self.name));
        set_string(
            &mut c.properties,
            "description",
            self.description.as_deref(),
        );
        set_string(&mut c.properties, "author", self.author.as_deref());
        set_string(&mut c.properties, "state", Some(self.state.as_str()));
        set_string(&mut c.properties, "version", Some(&self.name));
        set_string(&mut c.properties, "model_name", Some(model_name));
        c.external_id.clone_from(&self.external_id);
        c.custom_properties.clone_from(&self.custom_properties);
        c
    }

    /// The version stored as `c`; `registered_model_id` is `None` when the
    /// stored name carries no owner id (the caller asks the parent link).
    fn from_context(c: Context) -> Result<(Self, bool)> {
        let id = c.id.unwrap_or_default();
        let p = Props {
            node: format!("model version {id}"),
            props: &c.properties,
        };
        let (owner, own_name) = split_owned(&c.name);
        let name = match p.string("version")? {
            Some(v) => v,
            None => own_name.to_owned(),
        };
        Ok((
            Self {
                id: c.id,
                registered_model_id: owner.unwrap_or_default(),
                name,
                description: p.string("description")?,
                author: p.string("author")?,
                state: p.state("state", ModelState::parse)?,
                external_id: c.external_id,
                custom_properties: c.custom_properties,
                create_time_since_epoch: c.create_time_since_epoch,
                last_update_time_since_epoch: c.last_update_time_since_epoch,
            },
            owner.is_some(),
        ))
    }
}

impl ModelVersionUpdate {
    fn apply(&self, c: &mut Context) {
        set_string(
            &mut c.properties,
            "description",
            self.description.as_deref(),
        );
        set_string(&mut c.properties, "author", self.author.as_deref());
        set_string(
            &mut c.properties,
            "state",
            self.state.map(ModelState::as_str),
        );
        apply_common(
            c,
            self.external_id.as_ref(),
            self.custom_properties.as_ref(),
        );
    }
}

/// The fields every update struct has.
pub(super) fn apply_common(
    c: &mut Context,
    external_id: Option<&String>,
    custom_properties: Option<&Properties>,
) {
    if let Some(e) = external_id {
        c.external_id = Some(e.clone());
    }
    if let Some(p) = custom_properties {
        c.custom_properties.clone_from(p);
    }
}

impl<S: MetadataStore> ModelRegistry<S> {
    /// Creates a registered model (its `id` must be `None`); a name or
    /// external id already taken is [`Error::AlreadyExists`].
    pub async fn create_registered_model(
        &self,
        model: &RegisteredModel,
    ) -> Result<RegisteredModel> {
        if model.id.is_some() {
            return Err(Error::invalid(
                "registered_model.id",
                "must be None to create; use update_registered_model",
            ));
        }
        check_name("registered_model.name", &model.name)?;
        if let Some(m) = self.find_registered_model_by_name(&model.name).await? {
            return Err(Error::AlreadyExists {
                what: format!(
                    "registered_model.name: registered model {:?} (id {})",
                    model.name,
                    m.id.unwrap_or_default()
                ),
            });
        }
        self.context_external_id_free("registered_model.external_id", model.external_id.as_deref())
            .await?;
        let ids = self
            .store
            .put_contexts(&[model.to_context(self.types.registered_model)])
            .await?;
        self.get_registered_model(only_id(ids, "registered model")?)
            .await
    }

    /// The registered model `id`; [`Error::NotFound`] when there is none (or
    /// `id` is another kind of entity).
    pub async fn get_registered_model(&self, id: i64) -> Result<RegisteredModel> {
        let c = self
            .context(self.types.registered_model, id, || {
                format!("registered model {id}")
            })
            .await?;
        RegisteredModel::from_context(c)
    }

    /// The registered model named `name`, if there is one.
    pub async fn find_registered_model_by_name(
        &self,
        name: &str,
    ) -> Result<Option<RegisteredModel>> {
        self.store
            .get_context_by_type_and_name(schema::REGISTERED_MODEL, None, name)
            .await?
            .map(RegisteredModel::from_context)
            .transpose()
    }

    /// The registered model with external id `external_id`, if there is one.
    pub async fn find_registered_model_by_external_id(
        &self,
        external_id: &str,
    ) -> Result<Option<RegisteredModel>> {
        self.context_by_external_id(self.types.registered_model, external_id)
            .await?
            .map(RegisteredModel::from_context)
            .transpose()
    }

    /// One page of registered models; `options` orders and pages them, and
    /// its filter query, if any, narrows them further.
    pub async fn list_registered_models(
        &self,
        options: &ListOptions,
    ) -> Result<Page<RegisteredModel>> {
        let scope = format!("type_id = {}", self.types.registered_model);
        let page = self.store.list_contexts(&scoped(options, scope)).await?;
        Ok(Page {
            items: page
                .items
                .into_iter()
                .map(RegisteredModel::from_context)
                .collect::<Result<_>>()?,
            next_page_token: page.next_page_token,
        })
    }

    /// Changes the fields `update` sets and keeps the others.
    pub async fn update_registered_model(
        &self,
        id: i64,
        update: &RegisteredModelUpdate,
    ) -> Result<RegisteredModel> {
        let mut c = self
            .context(self.types.registered_model, id, || {
                format!("registered model {id}")
            })
            .await?;
        update.apply(&mut c);
        self.store.put_contexts(&[c]).await?;
        self.get_registered_model(id).await
    }

    /// Sets the registered model's state to [`ModelState::Archived`] (its
    /// versions keep theirs, as in Kubeflow Model Registry).
    pub async fn archive_registered_model(&self, id: i64) -> Result<RegisteredModel> {
        let update = RegisteredModelUpdate {
            state: Some(ModelState::Archived),
            ..RegisteredModelUpdate::default()
        };
        self.update_registered_model(id, &update).await
    }

    /// Creates a version of `version.registered_model_id` (which may be
    /// archived: Kubeflow Model Registry accepts that too). An unknown model
    /// is [`Error::NotFound`] naming `model_version.registered_model_id`; a
    /// name the model already has is [`Error::AlreadyExists`].
    pub async fn create_model_version(&self, version: &ModelVersion) -> Result<ModelVersion> {
        if version.id.is_some() {
            return Err(Error::invalid(
                "model_version.id",
                "must be None to create; use update_model_version",
            ));
        }
        check_name("model_version.name", &version.name)?;
        let model_id = version.registered_model_id;
        let model = self
            .context(self.types.registered_model, model_id, || {
                format!("model_version.registered_model_id: registered model {model_id}")
            })
            .await?;
        if self
            .find_model_version_by_name(model_id, &version.name)
            .await?
            .is_some()
        {
            return Err(Error::AlreadyExists {
                what: format!(
                    "model_version.name: version {:?} of registered model {model_id}",
                    version.name
                ),
            });
        }
        self.context_external_id_free("model_version.external_id", version.external_id.as_deref())
            .await?;
        let ids = self
            .store
            .put_contexts(&[version.to_context(self.types.model_version, &model.name)])
            .await?;
        let id = only_id(ids, "model version")?;
        let link = ParentContext {
            child_id: id,
            parent_id: model_id,
        };
        if let Err(e) = self.store.put_parent_contexts(&[link]).await {
            // Best effort: the link's error is the one worth reporting.
            let _ = self.store.delete_context(id, DeletePolicy::Cascade).await;
            return Err(e);
        }
        self.get_model_version(id).await
    }

    /// The model version `id`; [`Error::NotFound`] when there is none.
    pub async fn get_model_version(&self, id: i64) -> Result<ModelVersion> {
        let c = self
            .context(self.types.model_version, id, || {
                format!("model version {id}")
            })
            .await?;
        self.version_from_context(c).await
    }

    /// The version named `name` of registered model `registered_model_id`,
    /// if there is one.
    pub async fn find_model_version_by_name(
        &self,
        registered_model_id: i64,
        name: &str,
    ) -> Result<Option<ModelVersion>> {
        let stored = owned_name(registered_model_id, name);
        match self
            .store
            .get_context_by_type_and_name(schema::MODEL_VERSION, None, &stored)
            .await?
        {
            Some(c) => Ok(Some(self.version_from_context(c).await?)),
            None => Ok(None),
        }
    }

    /// The model version with external id `external_id`, if there is one.
    pub async fn find_model_version_by_external_id(
        &self,
        external_id: &str,
    ) -> Result<Option<ModelVersion>> {
        match self
            .context_by_external_id(self.types.model_version, external_id)
            .await?
        {
            Some(c) => Ok(Some(self.version_from_context(c).await?)),
            None => Ok(None),
        }
    }

    /// One page of model versions, of one registered model when
    /// `registered_model_id` is set, else of all.
    pub async fn list_model_versions(
        &self,
        registered_model_id: Option<i64>,
        options: &ListOptions,
    ) -> Result<Page<ModelVersion>> {
        let mut scope = format!("type_id = {}", self.types.model_version);
        if let Some(m) = registered_model_id {
            scope.push_str(&format!(" AND parent_contexts_a.id = {m}"));
        }
        let page = self.store.list_contexts(&scoped(options, scope)).await?;
        let mut items = Vec::with_capacity(page.items.len());
        for c in page.items {
            items.push(self.version_from_context(c).await?);
        }
        Ok(Page {
            items,
            next_page_token: page.next_page_token,
        })
    }

    /// Changes the fields `update` sets and keeps the others.
    pub async fn update_model_version(
        &self,
        id: i64,
        update: &ModelVersionUpdate,
    ) -> Result<ModelVersion> {
        let mut c = self
            .context(self.types.model_version, id, || {
                format!("model version {id}")
            })
            .await?;
        update.apply(&mut c);
        self.store.put_contexts(&[c]).await?;
        self.get_model_version(id).await
    }

    /// Sets the version's state to [`ModelState::Archived`].
    pub async fn archive_model_version(&self, id: i64) -> Result<ModelVersion> {
        let update = ModelVersionUpdate {
            state: Some(ModelState::Archived),
            ..ModelVersionUpdate::default()
        };
        self.update_model_version(id, &update).await
    }

    /// The version stored as `c`, its model taken from the name prefix or,
    /// for names without one, from the parent link.
    pub(super) async fn version_from_context(&self, c: Context) -> Result<ModelVersion> {
        let id = c.id.unwrap_or_default();
        let (mut version, has_owner) = ModelVersion::from_context(c)?;
        if !has_owner {
            let parent = self
                .store
                .get_parent_contexts(id)
                .await?
                .into_iter()
                .find(|p| p.type_id == self.types.registered_model);
            version.registered_model_id =
                parent.and_then(|p| p.id).ok_or_else(|| Error::Corrupt {
                    what: format!("model version {id} has no registered model"),
                })?;
        }
        Ok(version)
    }

    /// The context of type `type_id` with external id `external_id`.
    pub(super) async fn context_by_external_id(
        &self,
        type_id: i64,
        external_id: &str,
    ) -> Result<Option<Context>> {
        Ok(self
            .store
            .get_contexts_by_external_ids(&[external_id.to_owned()])
            .await?
            .into_iter()
            .find(|c| c.type_id == type_id))
    }
}
