//! Repository tasks.
//!
//! `cargo run -p xtask -- codegen [CORPUS_DIR]` regenerates keelson-crd's typed
//! custom resources from the upstream `CustomResourceDefinition` files (default
//! `../shared/corpus/crd`). The output is checked in; CI does not run the generator.
//!
//! How a schema becomes Rust:
//! - an object whose fields all exist, with compatible types, in a Kubernetes core
//!   type (PodSpec, Container, ObjectMeta, Condition...) becomes that `k8s-openapi`
//!   type, so controllers use the types they already know;
//! - any other object with properties becomes a struct named after its field;
//!   structurally equal objects in one API version share one struct;
//! - `additionalProperties` becomes a `BTreeMap`, free-form and
//!   `x-kubernetes-preserve-unknown-fields` regions become `serde_json::Value`s;
//! - string `enum`s become open enums (`string_enum!`), int-or-string becomes
//!   `IntOrString`, or `Quantity` where upstream gives the quantity pattern.

mod catalog;
mod codegen;
mod naming;
mod targets;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("codegen") => {
            let root = workspace_root();
            let corpus = args
                .get(1)
                .map(PathBuf::from)
                .unwrap_or_else(|| root.join("../shared/corpus/crd"));
            match codegen::run(&corpus, &root.join("crates/keelson-crd/src")) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("codegen: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        _ => {
            eprintln!("usage: cargo run -p xtask -- codegen [CORPUS_DIR]");
            ExitCode::FAILURE
        }
    }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}
