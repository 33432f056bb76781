//! [`AnyResource`]: one value for any object the loader reads, typed where this
//! crate knows the kind.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube_core::DynamicObject;

/// The API groups built into Kubernetes. Objects of these groups (Secrets,
/// Deployments, CustomResourceDefinitions...) appear beside custom resources in
/// real manifest files; the loader passes them through as [`AnyResource::Core`].
pub const CORE_GROUPS: &[&str] = &[
    "",
    "admissionregistration.k8s.io",
    "apiextensions.k8s.io",
    "apiregistration.k8s.io",
    "apps",
    "authentication.k8s.io",
    "authorization.k8s.io",
    "autoscaling",
    "batch",
    "certificates.k8s.io",
    "coordination.k8s.io",
    "discovery.k8s.io",
    "events.k8s.io",
    "flowcontrol.apiserver.k8s.io",
    "internal.apiserver.k8s.io",
    "networking.k8s.io",
    "node.k8s.io",
    "policy",
    "rbac.authorization.k8s.io",
    "resource.k8s.io",
    "scheduling.k8s.io",
    "storage.k8s.io",
    "storagemigration.k8s.io",
];

/// `true` when `api_version` names a built-in Kubernetes group.
pub fn is_core_api_version(api_version: &str) -> bool {
    let group = match api_version.rsplit_once('/') {
        Some((group, _)) => group,
        None => "",
    };
    CORE_GROUPS.contains(&group)
}

/// One typed kind this crate knows: its facts, and its schemas as functions so
/// tools can walk them without naming the Rust type.
#[derive(Clone, Copy)]
pub struct KindEntry {
    /// The [`AnyResource`] variant name.
    pub variant: &'static str,
    /// `group/version`.
    pub api_version: &'static str,
    /// The kind.
    pub kind: &'static str,
    /// The cargo feature that enables it.
    pub feature: &'static str,
    /// Group, version, plural, scope...
    pub info: crate::KindInfo,
    /// The JSON schema of the Rust type (schemars, draft 2020-12, with `$defs`).
    pub schema: fn() -> serde_json::Value,
    /// The CustomResourceDefinition generated from the Rust type.
    pub crd: fn() -> k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition,
}

impl std::fmt::Debug for KindEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KindEntry")
            .field("api_version", &self.api_version)
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

/// One kind's serializer, kept out of line so that the match over every kind in
/// `AnyResource::to_value` stays small for the optimizer.
#[inline(never)]
fn write<T: serde::Serialize>(resource: &T) -> serde_json::Result<serde_json::Value> {
    serde_json::to_value(resource)
}

macro_rules! any_resource {
    ( $( $feature:literal, $variant:ident, $path:path, $api_version:literal, $kind:literal; )* ) => {
        /// Any object the loader reads: a typed custom resource, a built-in
        /// Kubernetes object, or an object of a kind this crate does not type.
        #[derive(Clone, Debug, PartialEq)]
        #[non_exhaustive]
        pub enum AnyResource {
            $(
                #[cfg(feature = $feature)]
                #[doc = concat!("`", $api_version, "` `", $kind, "`.")]
                $variant(Box<$path>),
            )*
            /// A built-in Kubernetes object (Secret, Deployment, CustomResourceDefinition...), passed through.
            Core(Box<DynamicObject>),
            /// An object of a kind this crate does not type; kept whole.
            Unknown(Box<DynamicObject>),
        }

        impl AnyResource {
            /// `apiVersion` of the object.
            pub fn api_version(&self) -> String {
                match self {
                    $( #[cfg(feature = $feature)] AnyResource::$variant(_) => $api_version.to_owned(), )*
                    AnyResource::Core(o) | AnyResource::Unknown(o) => o.types.as_ref().map(|t| t.api_version.clone()).unwrap_or_default(),
                }
            }

            /// `kind` of the object.
            pub fn kind(&self) -> String {
                match self {
                    $( #[cfg(feature = $feature)] AnyResource::$variant(_) => $kind.to_owned(), )*
                    AnyResource::Core(o) | AnyResource::Unknown(o) => o.types.as_ref().map(|t| t.kind.clone()).unwrap_or_default(),
                }
            }

            /// The object's metadata.
            pub fn metadata(&self) -> &ObjectMeta {
                match self {
                    $( #[cfg(feature = $feature)] AnyResource::$variant(r) => &r.metadata, )*
                    AnyResource::Core(o) | AnyResource::Unknown(o) => &o.metadata,
                }
            }

            /// `true` for the kinds this crate types.
            pub fn is_typed(&self) -> bool {
                !matches!(self, AnyResource::Core(_) | AnyResource::Unknown(_))
            }

            /// The object in its wire form, with `apiVersion` and `kind`.
            pub fn to_value(&self) -> crate::Result<serde_json::Value> {
                let value = stacker::maybe_grow(crate::loader::STACK_RED_ZONE, crate::loader::STACK_SEGMENT, || match self {
                    $( #[cfg(feature = $feature)] AnyResource::$variant(r) => write(r.as_ref()), )*
                    AnyResource::Core(o) | AnyResource::Unknown(o) => write(o.as_ref()),
                });
                value.map_err(|e| crate::Error::Shape { location: crate::Location::default(), message: e.to_string() })
            }
        }

        /// Every kind this build of the crate types (one entry per version).
        pub fn kinds() -> Vec<KindEntry> {
            vec![ $(
                #[cfg(feature = $feature)]
                KindEntry {
                    variant: stringify!($variant),
                    api_version: $api_version,
                    kind: $kind,
                    feature: $feature,
                    info: <$path as crate::CustomResource>::INFO,
                    schema: || serde_json::to_value(schemars::schema_for!($path)).unwrap_or_default(),
                    crd: <$path as crate::CustomResource>::crd,
                },
            )* ]
        }

        /// Reads `value` as the typed kind `(api_version, kind)`, if this crate types it.
        pub(crate) fn decode_typed(
            api_version: &str,
            kind: &str,
            decoder: &mut crate::loader::Decoder<'_>,
        ) -> Option<crate::Result<AnyResource>> {
            match (api_version, kind) {
                $(
                    #[cfg(feature = $feature)]
                    ($api_version, $kind) => Some(decoder.decode::<$path>().map(|r| AnyResource::$variant(Box::new(r)))),
                )*
                _ => None,
            }
        }
    };
}

include!("kinds.rs");
