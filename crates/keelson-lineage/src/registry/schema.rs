//! The MLMD types the registry stores its entities as, with Kubeflow Model
//! Registry's names and declared properties, so a store written by one can
//! be read by the other.

use crate::types::NodeType;
use crate::value::PropertyType;

/// Context type of a [`RegisteredModel`](super::RegisteredModel).
pub const REGISTERED_MODEL: &str = "kf.RegisteredModel";
/// Context type of a [`ModelVersion`](super::ModelVersion), a child of its
/// registered model's context.
pub const MODEL_VERSION: &str = "kf.ModelVersion";
/// Artifact type of a [`ModelArtifact`](super::ModelArtifact), attributed to
/// its model version's context.
pub const MODEL_ARTIFACT: &str = "kf.ModelArtifact";
/// Artifact type of a [`DocArtifact`](super::DocArtifact), attributed to
/// its model version's context.
pub const DOC_ARTIFACT: &str = "kf.DocArtifact";
/// Context type of a [`ServingEnvironment`](super::ServingEnvironment).
pub const SERVING_ENVIRONMENT: &str = "kf.ServingEnvironment";
/// Context type of an [`InferenceService`](super::InferenceService), a
/// child of its serving environment's context.
pub const INFERENCE_SERVICE: &str = "kf.InferenceService";
/// Execution type of a [`ServeModel`](super::ServeModel), associated with
/// its inference service's context.
pub const SERVE_MODEL: &str = "kf.ServeModel";

fn strings(t: NodeType, names: &[&str]) -> NodeType {
    names
        .iter()
        .fold(t, |t, n| t.with_property(*n, PropertyType::String))
}

/// The seven types, with the properties Kubeflow Model Registry declares
/// (catalog fields such as `readme` or `license` included, although the
/// registry's structs do not carry them: updates keep their values).
pub(crate) fn node_types() -> [NodeType; 7] {
    [
        strings(
            NodeType::context(REGISTERED_MODEL),
            &[
                "description",
                "library_name",
                "license_link",
                "license",
                "logo",
                "maturity",
                "owner",
                "provider",
                "readme",
                "state",
            ],
        )
        .with_property("language", PropertyType::Struct)
        .with_property("tasks", PropertyType::Struct),
        strings(
            NodeType::context(MODEL_VERSION),
            &["description", "model_name", "version", "author", "state"],
        ),
        strings(
            NodeType::artifact(MODEL_ARTIFACT),
            &[
                "description",
                "model_format_name",
                "model_format_version",
                "storage_key",
                "storage_path",
                "service_account_name",
                "model_source_kind",
                "model_source_class",
                "model_source_group",
                "model_source_id",
                "model_source_name",
            ],
        ),
        strings(NodeType::artifact(DOC_ARTIFACT), &["description"]),
        strings(NodeType::context(SERVING_ENVIRONMENT), &["description"]),
        strings(
            NodeType::context(INFERENCE_SERVICE),
            &["description", "runtime", "desired_state"],
        )
        .with_property("model_version_id", PropertyType::Int)
        .with_property("registered_model_id", PropertyType::Int)
        .with_property("serving_environment_id", PropertyType::Int),
        strings(NodeType::execution(SERVE_MODEL), &["description"])
            .with_property("model_version_id", PropertyType::Int),
    ]
}
