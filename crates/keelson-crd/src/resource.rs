//! What every typed custom resource has in common: its identity (group, version,
//! kind), its `CustomResourceDefinition`, and the wire form with `apiVersion` and
//! `kind` that the generated structs do not store as fields.

use std::borrow::Cow;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1 as apiext;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use schemars::JsonSchema;

/// Whether a kind lives in a namespace or at cluster scope.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Objects live in a namespace.
    Namespaced,
    /// Objects are cluster-wide.
    Cluster,
}

impl Scope {
    /// The spelling a `CustomResourceDefinition` uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Namespaced => "Namespaced",
            Scope::Cluster => "Cluster",
        }
    }
}

/// Static facts about one version of one kind, as its upstream CRD declares them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KindInfo {
    /// API group, e.g. `kubeflow.org`.
    pub group: &'static str,
    /// Version, e.g. `v1`.
    pub version: &'static str,
    /// Kind, e.g. `PyTorchJob`.
    pub kind: &'static str,
    /// Plural resource name, e.g. `pytorchjobs`.
    pub plural: &'static str,
    /// Namespaced or cluster-scoped.
    pub scope: Scope,
    /// Short names (`isvc`, `cq`, ...).
    pub short_names: &'static [&'static str],
    /// Whether this version is the storage version upstream.
    pub storage: bool,
    /// Whether the kind has a status subresource.
    pub status_subresource: bool,
    /// The scale subresource's JSON paths (spec replicas, status replicas,
    /// label selector), when upstream declares one.
    pub scale: Option<(&'static str, &'static str, Option<&'static str>)>,
}

impl KindInfo {
    /// `group/version`, or just `version` for the core group.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_owned()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }
}

/// A typed custom resource of this crate: its static facts and its schema.
pub trait CustomResource:
    kube_core::Resource<DynamicType = ()> + serde::Serialize + serde::de::DeserializeOwned + JsonSchema
{
    /// The facts about this kind and version.
    const INFO: KindInfo;

    /// The `CustomResourceDefinition` for this kind and version, with the schema
    /// generated from the Rust type.
    ///
    /// ```
    /// use keelson_crd::CustomResource;
    /// use keelson_crd::training_operator::v1::PyTorchJob;
    ///
    /// let crd = PyTorchJob::crd();
    /// assert_eq!(crd.spec.names.kind, "PyTorchJob");
    /// assert_eq!(crd.metadata.name.as_deref(), Some("pytorchjobs.kubeflow.org"));
    /// ```
    fn crd() -> apiext::CustomResourceDefinition {
        crd_for::<Self>(&Self::INFO)
    }
}

/// The JSON schema of `T` in the form a `CustomResourceDefinition` accepts: inlined,
/// structural, with `nullable` where a field may be null.
pub fn structural_schema<T: JsonSchema>() -> serde_json::Value {
    let generator = schemars::generate::SchemaSettings::openapi3()
        .with(|s| {
            s.inline_subschemas = true;
            s.meta_schema = None;
        })
        .with_transform(schemars::transform::AddNullable::default())
        .with_transform(kube_core::schema::StructuralSchemaRewriter)
        .with_transform(kube_core::schema::OptionalEnum)
        .with_transform(kube_core::schema::OptionalIntOrString)
        .into_generator();
    let mut schema = serde_json::to_value(generator.into_root_schema_for::<T>())
        .unwrap_or(serde_json::Value::Null);
    if let Some(props) = schema
        .get_mut("properties")
        .and_then(serde_json::Value::as_object_mut)
    {
        // The API server owns ObjectMeta's schema; a CRD may only say it is an object.
        props.insert("metadata".into(), serde_json::json!({ "type": "object" }));
        props.insert("apiVersion".into(), serde_json::json!({ "type": "string" }));
        props.insert("kind".into(), serde_json::json!({ "type": "string" }));
    }
    schema
}

/// Builds the `CustomResourceDefinition` for `T` from its facts and its Rust schema.
pub fn crd_for<T: JsonSchema>(info: &KindInfo) -> apiext::CustomResourceDefinition {
    let schema = serde_json::from_value(structural_schema::<T>()).ok();
    let scale = info.scale.map(
        |(spec, status, selector)| apiext::CustomResourceSubresourceScale {
            spec_replicas_path: spec.to_owned(),
            status_replicas_path: status.to_owned(),
            label_selector_path: selector.map(str::to_owned),
        },
    );
    let subresources =
        (info.status_subresource || scale.is_some()).then(|| apiext::CustomResourceSubresources {
            scale,
            status: info
                .status_subresource
                .then(|| apiext::CustomResourceSubresourceStatus(serde_json::json!({}))),
        });
    apiext::CustomResourceDefinition {
        metadata: ObjectMeta {
            name: Some(format!("{}.{}", info.plural, info.group)),
            ..ObjectMeta::default()
        },
        spec: apiext::CustomResourceDefinitionSpec {
            group: info.group.to_owned(),
            names: apiext::CustomResourceDefinitionNames {
                kind: info.kind.to_owned(),
                plural: info.plural.to_owned(),
                singular: Some(info.kind.to_lowercase()),
                short_names: (!info.short_names.is_empty())
                    .then(|| info.short_names.iter().map(|s| (*s).to_owned()).collect()),
                ..Default::default()
            },
            scope: info.scope.as_str().to_owned(),
            versions: vec![apiext::CustomResourceDefinitionVersion {
                name: info.version.to_owned(),
                served: true,
                storage: info.storage,
                schema: Some(apiext::CustomResourceValidation {
                    open_api_v3_schema: schema,
                }),
                subresources,
                ..Default::default()
            }],
            ..Default::default()
        },
        status: None,
    }
}

/// Merges single-version CRDs of one kind (as [`CustomResource::crd`] returns
/// them) into one CRD serving every version, with `storage_version` stored.
pub fn merge_versions(
    crds: Vec<apiext::CustomResourceDefinition>,
    storage_version: &str,
) -> Result<apiext::CustomResourceDefinition, kube_core::crd::MergeError> {
    if crds.len() == 1 {
        return crds
            .into_iter()
            .next()
            .ok_or(kube_core::crd::MergeError::MissingCrds);
    }
    kube_core::crd::merge_crds(crds, storage_version)
}

/// `true` when `meta` carries nothing, so the wire form can leave it out.
pub(crate) fn meta_is_empty(meta: &ObjectMeta) -> bool {
    *meta == ObjectMeta::default()
}

/// Borrowed kind name for `kube_core::Resource` implementations.
pub(crate) fn cow(s: &'static str) -> Cow<'static, str> {
    Cow::Borrowed(s)
}

/// Implements `Serialize` (adding `apiVersion` and `kind`), `kube_core::Resource` and
/// [`CustomResource`] for a generated root struct.
macro_rules! custom_resource {
    (
        $ty:ident, $scope:ty, $info:expr;
        required { $($req:ident => $req_name:literal),* }
        optional { $($opt:ident => $opt_name:literal),* }
    ) => {
        impl $crate::resource::CustomResource for $ty {
            const INFO: $crate::resource::KindInfo = $info;
        }

        impl ::kube_core::Resource for $ty {
            type DynamicType = ();
            type Scope = $scope;
            fn kind(_: &()) -> ::std::borrow::Cow<'_, str> {
                $crate::resource::cow(<$ty as $crate::resource::CustomResource>::INFO.kind)
            }
            fn group(_: &()) -> ::std::borrow::Cow<'_, str> {
                $crate::resource::cow(<$ty as $crate::resource::CustomResource>::INFO.group)
            }
            fn version(_: &()) -> ::std::borrow::Cow<'_, str> {
                $crate::resource::cow(<$ty as $crate::resource::CustomResource>::INFO.version)
            }
            fn plural(_: &()) -> ::std::borrow::Cow<'_, str> {
                $crate::resource::cow(<$ty as $crate::resource::CustomResource>::INFO.plural)
            }
            fn meta(&self) -> &::k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
                &self.metadata
            }
            fn meta_mut(&mut self) -> &mut ::k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
                &mut self.metadata
            }
        }

        impl ::serde::Serialize for $ty {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                use ::serde::ser::SerializeMap;
                let info = <$ty as $crate::resource::CustomResource>::INFO;
                let mut map = serializer.serialize_map(None)?;
                map.serialize_entry("apiVersion", &info.api_version())?;
                map.serialize_entry("kind", info.kind)?;
                if !$crate::resource::meta_is_empty(&self.metadata) {
                    map.serialize_entry("metadata", &self.metadata)?;
                }
                $( map.serialize_entry($req_name, &self.$req)?; )*
                $( if let Some(value) = &self.$opt { map.serialize_entry($opt_name, value)?; } )*
                map.end()
            }
        }
    };
}

pub(crate) use custom_resource;
