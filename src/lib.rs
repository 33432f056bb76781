//! keelson: the reusable parts of an ML platform in the spirit of Kubeflow.

#[cfg(feature = "crd")]
pub use keelson_crd as crd;
