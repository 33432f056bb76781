//! Prints the CustomResourceDefinition of every kind keelson-crd types, as one
//! multi-document YAML stream, with each kind's versions merged into one CRD.
//!
//! ```text
//! cargo run --example print_crds > crds.yaml
//! ```

use std::collections::BTreeMap;
use std::process::ExitCode;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;

fn main() -> ExitCode {
    let mut by_name: BTreeMap<String, (Vec<CustomResourceDefinition>, String)> = BTreeMap::new();
    for entry in keelson::crd::kinds() {
        let crd = (entry.crd)();
        let name = crd.metadata.name.clone().unwrap_or_default();
        let slot = by_name.entry(name).or_default();
        if entry.info.storage {
            slot.1 = entry.info.version.to_owned();
        }
        slot.0.push(crd);
    }
    for (name, (crds, storage)) in by_name {
        let merged = match kube_core_merge(crds, &storage) {
            Ok(crd) => crd,
            Err(e) => {
                eprintln!("error: {name}: {e}");
                return ExitCode::FAILURE;
            }
        };
        match serde_yaml_ng::to_string(&merged) {
            Ok(yaml) => print!("---\n{yaml}"),
            Err(e) => {
                eprintln!("error: {name}: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    ExitCode::SUCCESS
}

fn kube_core_merge(
    crds: Vec<CustomResourceDefinition>,
    storage: &str,
) -> Result<CustomResourceDefinition, String> {
    keelson::crd::resource::merge_versions(crds, storage).map_err(|e| e.to_string())
}
