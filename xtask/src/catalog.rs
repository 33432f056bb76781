//! The Kubernetes core types that upstream schemas embed, with their JSON schemas
//! (from k8s-openapi's schemars implementations), and the structural test that
//! decides whether an upstream sub-schema can be read as one of them.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

/// One core type an upstream schema may embed.
pub struct CoreType {
    /// Rust path as the generated code spells it (with the module aliases it imports).
    pub rust: &'static str,
    /// Field names under which the type is recognized even when the upstream
    /// schema lists only a few of its properties (e.g. `metadata` in templates).
    pub hints: &'static [&'static str],
    /// The type's schema, with `$ref`s into `defs`.
    pub schema: Value,
}

pub struct Catalog {
    pub types: Vec<CoreType>,
    defs: Map<String, Value>,
}

macro_rules! catalog {
    ($gen:ident; $( $path:ty => $rust:literal [$($hint:literal),*] ),* $(,)?) => {
        vec![ $( CoreType {
            rust: $rust,
            hints: &[$($hint),*],
            schema: serde_json::to_value($gen.subschema_for::<$path>()).unwrap_or_default(),
        } ),* ]
    };
}

impl Catalog {
    pub fn new() -> Self {
        use k8s_openapi::api::apps::v1 as apps;
        use k8s_openapi::api::autoscaling::v2 as autoscaling;
        use k8s_openapi::api::batch::v1 as batch;
        use k8s_openapi::api::core::v1 as core;
        use k8s_openapi::apimachinery::pkg::apis::meta::v1 as meta;
        let mut generator = schemars::SchemaGenerator::default();
        let types = catalog![generator;
            core::PodTemplateSpec => "core::PodTemplateSpec" ["template"],
            core::PodSpec => "core::PodSpec" [],
            core::Container => "core::Container" [],
            core::EphemeralContainer => "core::EphemeralContainer" [],
            core::Volume => "core::Volume" [],
            core::VolumeMount => "core::VolumeMount" ["volumeMounts"],
            core::VolumeDevice => "core::VolumeDevice" ["volumeDevices"],
            core::EnvVar => "core::EnvVar" ["env"],
            core::EnvFromSource => "core::EnvFromSource" ["envFrom"],
            core::ResourceRequirements => "core::ResourceRequirements" ["resources", "resourcesPerNode"],
            core::Affinity => "core::Affinity" ["affinity"],
            core::NodeAffinity => "core::NodeAffinity" ["nodeAffinity"],
            core::PodAffinity => "core::PodAffinity" ["podAffinity"],
            core::PodAntiAffinity => "core::PodAntiAffinity" ["podAntiAffinity"],
            core::Toleration => "core::Toleration" ["tolerations"],
            core::LocalObjectReference => "core::LocalObjectReference" ["imagePullSecrets"],
            core::SecurityContext => "core::SecurityContext" ["securityContext"],
            core::PodSecurityContext => "core::PodSecurityContext" ["podSecurityContext"],
            core::Probe => "core::Probe" ["livenessProbe", "readinessProbe", "startupProbe"],
            core::Lifecycle => "core::Lifecycle" ["lifecycle"],
            core::ContainerPort => "core::ContainerPort" ["ports"],
            core::TopologySpreadConstraint => "core::TopologySpreadConstraint" ["topologySpreadConstraints"],
            core::HostAlias => "core::HostAlias" ["hostAliases"],
            core::PodDNSConfig => "core::PodDNSConfig" ["dnsConfig"],
            core::PersistentVolumeClaimSpec => "core::PersistentVolumeClaimSpec" [],
            core::PersistentVolumeClaim => "core::PersistentVolumeClaim" [],
            core::PodReadinessGate => "core::PodReadinessGate" ["readinessGates"],
            core::PodSchedulingGate => "core::PodSchedulingGate" ["schedulingGates"],
            core::PodResourceClaim => "core::PodResourceClaim" [],
            core::ObjectReference => "core::ObjectReference" [],
            core::SecretKeySelector => "core::SecretKeySelector" [],
            core::ConfigMapKeySelector => "core::ConfigMapKeySelector" [],
            core::KeyToPath => "core::KeyToPath" [],
            core::NodeSelector => "core::NodeSelector" [],
            core::NodeSelectorRequirement => "core::NodeSelectorRequirement" [],
            core::ServicePort => "core::ServicePort" [],
            core::Capabilities => "core::Capabilities" ["capabilities"],
            core::SeccompProfile => "core::SeccompProfile" ["seccompProfile"],
            core::ContainerResizePolicy => "core::ContainerResizePolicy" ["resizePolicy"],
            core::ResourceQuotaSpec => "core::ResourceQuotaSpec" ["resourceQuotaSpec"],
            core::HTTPGetAction => "core::HTTPGetAction" ["httpGet"],
            core::ExecAction => "core::ExecAction" ["exec"],
            core::TCPSocketAction => "core::TCPSocketAction" ["tcpSocket"],
            core::GRPCAction => "core::GRPCAction" ["grpc"],
            core::PodOS => "core::PodOS" ["os"],
            meta::ObjectMeta => "meta::ObjectMeta" ["metadata"],
            meta::Condition => "meta::Condition" ["conditions"],
            meta::LabelSelector => "meta::LabelSelector" ["selector", "labelSelector", "namespaceSelector"],
            meta::LabelSelectorRequirement => "meta::LabelSelectorRequirement" ["matchExpressions"],
            meta::OwnerReference => "meta::OwnerReference" ["ownerReferences"],
            batch::JobTemplateSpec => "batch::JobTemplateSpec" [],
            batch::JobSpec => "batch::JobSpec" [],
            batch::PodFailurePolicy => "batch::PodFailurePolicy" ["podFailurePolicy"],
            batch::SuccessPolicy => "batch::SuccessPolicy" [],
            apps::DeploymentStrategy => "apps::DeploymentStrategy" ["deploymentStrategy", "strategy"],
            autoscaling::HorizontalPodAutoscalerBehavior => "autoscaling::HorizontalPodAutoscalerBehavior" ["behavior"],
            autoscaling::MetricSpec => "autoscaling::MetricSpec" [],
        ];
        let defs = serde_json::to_value(generator.definitions())
            .ok()
            .and_then(|v| v.as_object().cloned())
            .unwrap_or_default();
        Catalog { types, defs }
    }

    fn resolve<'a>(&'a self, schema: &'a Value) -> &'a Value {
        let mut s = schema;
        for _ in 0..16 {
            match s.get("$ref").and_then(Value::as_str) {
                Some(r) => {
                    let name = r.rsplit('/').next().unwrap_or(r);
                    match self.defs.get(name) {
                        Some(d) => s = d,
                        None => return s,
                    }
                }
                None => return s,
            }
        }
        s
    }

    /// The best core type for an upstream object schema found under field `field`.
    pub fn find(&self, upstream: &Value, field: &str) -> Option<&CoreType> {
        let props = upstream.get("properties")?.as_object()?;
        let mut best: Option<(&CoreType, usize)> = None;
        for t in &self.types {
            let k = self.resolve(&t.schema);
            let Some(kprops) = k.get("properties").and_then(Value::as_object) else {
                continue;
            };
            let hinted = t.hints.contains(&field);
            let enough = props.len() >= 3 && props.len() * 2 >= kprops.len();
            if !(hinted || enough) {
                continue;
            }
            if !self.compatible(upstream, k, 0) {
                if std::env::var_os("CODEGEN_DEBUG").is_some()
                    && kprops.len() >= 5
                    && props.len() * 10 >= kprops.len() * 8
                {
                    eprintln!(
                        "no match {field} -> {}: {}",
                        t.rust,
                        self.why(upstream, k, String::new())
                    );
                }
                continue;
            }
            let extras = kprops.len() - props.len();
            if best.is_none_or(|(_, e)| extras < e) {
                best = Some((t, extras));
            }
        }
        best.map(|(t, _)| t)
    }

    /// Whether every value valid under `upstream` deserializes into the core type
    /// described by `k` without losing a field.
    fn compatible(&self, upstream: &Value, k: &Value, depth: usize) -> bool {
        if depth > 40 {
            return false;
        }
        let k = self.resolve(k);
        if flag(upstream, "x-kubernetes-preserve-unknown-fields") {
            return kind_of(k).is_none();
        }
        if flag(upstream, "x-kubernetes-int-or-string") {
            return flag(k, "x-kubernetes-int-or-string")
                || kind_of(k) == Some("string")
                || k.get("anyOf").is_some()
                || k.get("oneOf").is_some();
        }
        let ut = kind_of(upstream);
        let kt = kind_of(k);
        match ut {
            None => kt.is_none(),
            Some("object") => {
                if kt != Some("object") {
                    return false;
                }
                let uprops = upstream.get("properties").and_then(Value::as_object);
                let kprops = k.get("properties").and_then(Value::as_object);
                if let Some(uprops) = uprops {
                    let Some(kprops) = kprops else { return false };
                    for (name, us) in uprops {
                        match kprops.get(name) {
                            Some(ks) if self.compatible(us, ks, depth + 1) => {}
                            _ => return false,
                        }
                    }
                    // k8s-openapi reads a missing required field as its default, so
                    // upstream's looser `required` lists need no check here.
                    return true;
                }
                if let Some(uap) = upstream
                    .get("additionalProperties")
                    .filter(|v| v.is_object())
                {
                    return match k.get("additionalProperties").filter(|v| v.is_object()) {
                        Some(kap) => self.compatible(uap, kap, depth + 1),
                        None => false,
                    };
                }
                true
            }
            Some("array") => {
                if kt != Some("array") {
                    return false;
                }
                match (upstream.get("items"), k.get("items")) {
                    (Some(ui), Some(ki)) => self.compatible(ui, ki, depth + 1),
                    (None, _) => true,
                    (Some(_), None) => false,
                }
            }
            Some(t) => kt == Some(t),
        }
    }
}

impl Catalog {
    fn why(&self, u: &Value, k: &Value, path: String) -> String {
        let k = self.resolve(k);
        if let (Some(up), Some(kp)) = (
            u.get("properties").and_then(Value::as_object),
            k.get("properties").and_then(Value::as_object),
        ) {
            for (n, us) in up {
                match kp.get(n) {
                    None => return format!("{path}.{n} missing"),
                    Some(ks) if !self.compatible(us, ks, 0) => {
                        return self.why(us, ks, format!("{path}.{n}"));
                    }
                    _ => {}
                }
            }
            return format!("{path} required {:?} vs {:?}", required(k), required(u));
        }
        if let (Some(ui), Some(ki)) = (u.get("items"), k.get("items")) {
            return self.why(ui, ki, format!("{path}[]"));
        }
        format!("{path}: {} vs {}", u, k)
    }
}

pub fn flag(schema: &Value, name: &str) -> bool {
    schema.get(name).and_then(Value::as_bool).unwrap_or(false)
}

/// The JSON type of a schema, ignoring `null` in a type list.
pub fn kind_of(schema: &Value) -> Option<&str> {
    match schema.get("type")? {
        Value::String(s) => Some(s.as_str()),
        Value::Array(a) => a.iter().filter_map(Value::as_str).find(|t| *t != "null"),
        _ => None,
    }
}

pub fn required(schema: &Value) -> BTreeSet<String> {
    schema
        .get("required")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}
