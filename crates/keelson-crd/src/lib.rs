//! Typed Rust models of Kubeflow's custom resources.
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod any;
pub mod conditions;
pub mod error;
pub mod fuzz;
pub mod loader;
pub mod resource;
pub mod roundtrip;
pub mod validate;
mod string_enum;

#[cfg(feature = "jobset")]
pub mod jobset;
#[cfg(feature = "katib")]
pub mod katib;
#[cfg(feature = "kserve")]
pub mod kserve;
#[cfg(feature = "kueue")]
pub mod kueue;
#[cfg(feature = "notebook")]
pub mod notebook;
#[cfg(feature = "pipelines")]
pub mod pipelines;
#[cfg(feature = "poddefault")]
pub mod poddefault;
#[cfg(feature = "profile")]
pub mod profile;
#[cfg(feature = "spark")]
pub mod spark;
#[cfg(feature = "tensorboard")]
pub mod tensorboard;
#[cfg(feature = "trainer")]
pub mod trainer;
#[cfg(feature = "training_operator")]
pub mod training_operator;

pub use any::{AnyResource, KindEntry, kinds};
pub use conditions::{ConditionView, HasConditions};
pub use error::{Error, Location, Result};
pub use loader::{Document, Limits, Loader, load, load_file, manifest_files};
pub use resource::{CustomResource, KindInfo, Scope};
