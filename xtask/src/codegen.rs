//! Schema → Rust source.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;

use serde_json::Value;

use crate::catalog::{self, Catalog, flag, kind_of};
use crate::naming::{field_name, singular, type_name};
use crate::targets::{HAND_WRITTEN, RENAMES, TARGETS};

type Result<T> = std::result::Result<T, String>;

/// One kind at one version, as found in an upstream CRD.
struct Version {
    group: String,
    version: String,
    kind: String,
    plural: String,
    namespaced: bool,
    short_names: Vec<String>,
    storage: bool,
    status_subresource: bool,
    scale: Option<(String, String, Option<String>)>,
    schema: Value,
}

pub fn run(corpus: &Path, out: &Path) -> Result<()> {
    let catalog = Catalog::new();
    let mut registry: Vec<KindEntry> = Vec::new();
    let mut written = Vec::new();
    for target in TARGETS {
        let mut by_version: BTreeMap<String, Vec<Version>> = BTreeMap::new();
        for file in target.files {
            let path = corpus.join(file);
            let text =
                std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            for v in read_crd(&text).map_err(|e| format!("{}: {e}", path.display()))? {
                by_version.entry(v.version.clone()).or_default().push(v);
            }
        }
        let dir = out.join(target.module);
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        for (version, kinds) in &by_version {
            let mut file = FileGen::new(&catalog);
            for k in kinds {
                file.reserve(&k.kind);
            }
            for k in kinds {
                file.root(k)?;
                registry.push(KindEntry {
                    feature: target.module.to_owned(),
                    path: format!("crate::{}::{}::{}", target.module, version, k.kind),
                    api_version: format!("{}/{}", k.group, k.version),
                    kind: k.kind.clone(),
                    storage: k.storage,
                });
            }
            let mut source = file.render(target.project, target.files, version);
            for (module, from, to) in RENAMES {
                if *module == target.module {
                    source = rename_word(&source, from, to);
                }
            }
            let path = dir.join(format!("{version}.rs"));
            std::fs::write(&path, source).map_err(|e| format!("{}: {e}", path.display()))?;
            written.push(path);
        }
    }
    for (module, group, version, kind) in HAND_WRITTEN {
        registry.push(KindEntry {
            feature: (*module).to_owned(),
            path: format!("crate::{module}::{version}::{kind}"),
            api_version: format!("{group}/{version}"),
            kind: (*kind).to_owned(),
            storage: true,
        });
    }
    let kinds = render_kinds(&registry);
    std::fs::write(out.join("kinds.rs"), kinds).map_err(|e| e.to_string())?;
    written.push(out.join("kinds.rs"));
    // Checked-in output must be what `cargo fmt` leaves, or CI's format check fails.
    let status = std::process::Command::new("rustfmt")
        .arg("--edition=2024")
        .args(&written)
        .status()
        .map_err(|e| format!("rustfmt: {e}"))?;
    if !status.success() {
        return Err(format!("rustfmt failed: {status}"));
    }
    Ok(())
}

fn read_crd(text: &str) -> Result<Vec<Version>> {
    let doc: Value = serde_yaml_ng::from_str(text).map_err(|e| e.to_string())?;
    let spec = doc.get("spec").ok_or("no spec")?;
    let s = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or_default().to_owned();
    let names = spec.get("names").ok_or("no spec.names")?;
    let mut out = Vec::new();
    for v in spec
        .get("versions")
        .and_then(Value::as_array)
        .ok_or("no versions")?
    {
        let sub = v.get("subresources");
        let scale = sub.and_then(|s| s.get("scale")).map(|sc| {
            (
                s(sc.get("specReplicasPath")),
                s(sc.get("statusReplicasPath")),
                sc.get("labelSelectorPath")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
            )
        });
        out.push(Version {
            group: s(spec.get("group")),
            version: s(v.get("name")),
            kind: s(names.get("kind")),
            plural: s(names.get("plural")),
            namespaced: s(spec.get("scope")) != "Cluster",
            short_names: names
                .get("shortNames")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default(),
            storage: v.get("storage").and_then(Value::as_bool).unwrap_or(false),
            status_subresource: sub.and_then(|s| s.get("status")).is_some(),
            scale,
            schema: v
                .pointer("/schema/openAPIV3Schema")
                .cloned()
                .ok_or("version without openAPIV3Schema")?,
        });
    }
    Ok(out)
}

/// The Rust type of a field.
#[derive(Clone, Debug, PartialEq)]
enum Ty {
    String,
    I32,
    I64,
    F64,
    Bool,
    IntOrString,
    Quantity,
    Value,
    Map(Box<Ty>),
    Vec(Box<Ty>),
    Named(String),
    Core(&'static str),
}

impl Ty {
    fn render(&self) -> String {
        match self {
            Ty::String => "String".into(),
            Ty::I32 => "i32".into(),
            Ty::I64 => "i64".into(),
            Ty::F64 => "f64".into(),
            Ty::Bool => "bool".into(),
            Ty::IntOrString => "IntOrString".into(),
            Ty::Quantity => "Quantity".into(),
            Ty::Value => "Value".into(),
            Ty::Map(t) => format!("BTreeMap<String, {}>", t.render()),
            Ty::Vec(t) => format!("Vec<{}>", t.render()),
            Ty::Named(n) => n.clone(),
            Ty::Core(p) => (*p).to_owned(),
        }
    }
}

struct Field {
    json: String,
    rust: String,
    doc: Option<String>,
    ty: Ty,
    required: bool,
    flatten: bool,
}

enum Def {
    Struct {
        name: String,
        doc: Option<String>,
        fields: Vec<Field>,
    },
    Enum {
        name: String,
        doc: Option<String>,
        values: Vec<String>,
    },
    Root {
        kind: Version,
        fields: Vec<Field>,
    },
}

struct FileGen<'a> {
    catalog: &'a Catalog,
    defs: Vec<Def>,
    /// Structural key → type name, so equal shapes share one type.
    by_shape: BTreeMap<String, String>,
    taken: BTreeSet<String>,
    uses: BTreeSet<&'static str>,
    /// The kind whose schema is being walked, for naming colliding types.
    current_kind: String,
}

impl<'a> FileGen<'a> {
    fn new(catalog: &'a Catalog) -> Self {
        let mut taken = BTreeSet::new();
        for reserved in [
            "IntOrString",
            "Quantity",
            "Value",
            "BTreeMap",
            "Vec",
            "String",
            "Option",
            "Box",
            "Deserialize",
            "Serialize",
            "JsonSchema",
            "Default",
            "Result",
            "core",
            "meta",
            "batch",
            "apps",
            "autoscaling",
        ] {
            taken.insert(reserved.to_owned());
        }
        FileGen {
            catalog,
            defs: Vec::new(),
            by_shape: BTreeMap::new(),
            taken,
            uses: BTreeSet::new(),
            current_kind: String::new(),
        }
    }

    /// Reserves the names every kind's root types get, before any nested type can take them.
    fn reserve(&mut self, kind: &str) {
        for name in [
            kind.to_owned(),
            format!("{kind}Spec"),
            format!("{kind}Status"),
        ] {
            self.taken.insert(name);
        }
    }

    fn root(&mut self, kind: &Version) -> Result<()> {
        self.current_kind = kind.kind.clone();
        let schema = &kind.schema;
        let props = schema
            .get("properties")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let required = catalog::required(schema);
        let mut fields = Vec::new();
        for (name, sub) in &props {
            if name == "apiVersion" || name == "kind" || name == "metadata" {
                continue;
            }
            let hint = match name.as_str() {
                "spec" => format!("{}Spec", kind.kind),
                "status" => format!("{}Status", kind.kind),
                other => type_name(other),
            };
            let exact = matches!(name.as_str(), "spec" | "status")
                && matches!(kind_of(sub), Some("object") | None)
                && sub
                    .get("properties")
                    .and_then(Value::as_object)
                    .is_some_and(|p| !p.is_empty());
            let ty = if exact {
                let shape = format!("struct:{}", shape_key(sub));
                match self.by_shape.get(&shape) {
                    Some(existing) => Ty::Named(existing.clone()),
                    None => {
                        self.taken.remove(&hint);
                        let preserve = flag(sub, "x-kubernetes-preserve-unknown-fields");
                        Ty::Named(self.structure(sub, &hint, &kind.kind, preserve))
                    }
                }
            } else {
                self.ty(sub, name, &hint, &kind.kind)
            };
            fields.push(Field {
                json: name.clone(),
                rust: field_name(name),
                doc: doc_of(sub),
                ty,
                required: required.contains(name),
                flatten: false,
            });
        }
        self.defs.push(Def::Root {
            kind: kind_clone(kind),
            fields,
        });
        Ok(())
    }

    /// The Rust type for `schema`, found under JSON field `field`; `hint` is the
    /// preferred type name if a new type is needed, `parent` the enclosing type.
    fn ty(&mut self, schema: &Value, field: &str, hint: &str, parent: &str) -> Ty {
        if flag(schema, "x-kubernetes-int-or-string") {
            self.uses.insert(if schema.get("pattern").is_some() {
                "Quantity"
            } else {
                "IntOrString"
            });
            return if schema.get("pattern").is_some() {
                Ty::Quantity
            } else {
                Ty::IntOrString
            };
        }
        let preserve = flag(schema, "x-kubernetes-preserve-unknown-fields");
        let has_props = schema
            .get("properties")
            .and_then(Value::as_object)
            .is_some_and(|p| !p.is_empty());
        match kind_of(schema) {
            Some("object") | None if has_props => {
                if !preserve && let Some(core) = self.catalog.find(schema, field) {
                    self.uses.insert(core.rust.split("::").next().unwrap_or(""));
                    return Ty::Core(core.rust);
                }
                Ty::Named(self.structure(schema, hint, parent, preserve))
            }
            Some("object") => {
                self.uses.insert("BTreeMap");
                match schema.get("additionalProperties") {
                    Some(ap) if ap.is_object() && !preserve => {
                        let inner =
                            self.ty(ap, &singular(field), &type_name(&singular(field)), parent);
                        Ty::Map(Box::new(inner))
                    }
                    _ => {
                        self.uses.insert("Value");
                        Ty::Map(Box::new(Ty::Value))
                    }
                }
            }
            Some("array") => match schema.get("items") {
                Some(items) if !preserve => {
                    let item_hint = type_name(&singular(field));
                    let item_hint = if hint.ends_with(&type_name(field)) {
                        format!(
                            "{}{}",
                            &hint[..hint.len() - type_name(field).len()],
                            item_hint
                        )
                    } else {
                        item_hint
                    };
                    Ty::Vec(Box::new(self.ty(
                        items,
                        &singular(field),
                        &item_hint,
                        parent,
                    )))
                }
                _ => {
                    self.uses.insert("Value");
                    Ty::Vec(Box::new(Ty::Value))
                }
            },
            Some("string") => {
                let values: Option<Vec<String>> =
                    schema.get("enum").and_then(Value::as_array).map(|a| {
                        a.iter()
                            .filter_map(Value::as_str)
                            .map(str::to_owned)
                            .collect()
                    });
                match values {
                    Some(values) if !values.is_empty() => {
                        Ty::Named(self.enumeration(schema, hint, parent, values))
                    }
                    _ => Ty::String,
                }
            }
            Some("integer") => match schema.get("format").and_then(Value::as_str) {
                Some("int32") => Ty::I32,
                _ => Ty::I64,
            },
            Some("number") => Ty::F64,
            Some("boolean") => Ty::Bool,
            _ => {
                self.uses.insert("Value");
                Ty::Value
            }
        }
    }

    fn name_for(&mut self, shape: &str, hint: &str, parent: &str) -> (String, bool) {
        if let Some(existing) = self.by_shape.get(shape) {
            return (existing.clone(), false);
        }
        let mut name = hint.to_owned();
        if self.taken.contains(&name) {
            let by_kind = format!("{}{name}", self.current_kind);
            let prefixed = if self.taken.contains(&by_kind) {
                format!("{parent}{name}")
            } else {
                by_kind
            };
            name = if self.taken.contains(&prefixed) {
                let mut n = 2;
                while self.taken.contains(&format!("{prefixed}{n}")) {
                    n += 1;
                }
                format!("{prefixed}{n}")
            } else {
                prefixed
            };
        }
        self.taken.insert(name.clone());
        self.by_shape.insert(shape.to_owned(), name.clone());
        (name, true)
    }

    fn structure(&mut self, schema: &Value, hint: &str, parent: &str, preserve: bool) -> String {
        let shape = format!("struct:{}", shape_key(schema));
        let (name, fresh) = self.name_for(&shape, hint, parent);
        if !fresh {
            return name;
        }
        let index = self.defs.len();
        self.defs.push(Def::Struct {
            name: name.clone(),
            doc: doc_of(schema),
            fields: Vec::new(),
        });
        let required = catalog::required(schema);
        let props = schema
            .get("properties")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let mut fields = Vec::new();
        let mut used = BTreeSet::new();
        for (json, sub) in &props {
            let ty = self.ty(sub, json, &type_name(json), &name);
            let mut rust = field_name(json);
            while !used.insert(rust.clone()) {
                rust.push('_');
            }
            fields.push(Field {
                json: json.clone(),
                rust,
                doc: doc_of(sub),
                ty,
                required: required.contains(json) && !flag(sub, "nullable"),
                flatten: false,
            });
        }
        if preserve {
            self.uses.insert("BTreeMap");
            self.uses.insert("Value");
            fields.push(Field {
                json: String::new(),
                rust: "extra".into(),
                doc: Some("Fields upstream does not declare; the schema preserves unknown fields, and so does this type.".into()),
                ty: Ty::Map(Box::new(Ty::Value)),
                required: true,
                flatten: true,
            });
        }
        if let Some(Def::Struct { fields: f, .. }) = self.defs.get_mut(index) {
            *f = fields;
        }
        name
    }

    fn enumeration(
        &mut self,
        schema: &Value,
        hint: &str,
        parent: &str,
        values: Vec<String>,
    ) -> String {
        let shape = format!("enum:{}", values.join("|"));
        let (name, fresh) = self.name_for(&shape, hint, parent);
        if fresh {
            self.defs.push(Def::Enum {
                name: name.clone(),
                doc: doc_of(schema),
                values,
            });
        }
        name
    }

    fn render(&self, project: &str, files: &[&str], version: &str) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "//! `{version}` types generated from the upstream CRD schemas of {project}."
        );
        let _ = writeln!(out, "//!");
        let _ = writeln!(
            out,
            "//! @generated by `cargo run -p xtask -- codegen` from:"
        );
        for f in files {
            let _ = writeln!(out, "//! - `{f}`");
        }
        let _ = writeln!(
            out,
            "//!\n//! Do not edit by hand: change the generator or add helpers beside this file.\n"
        );
        out.push_str("#![allow(clippy::doc_lazy_continuation, clippy::doc_overindented_list_items, clippy::large_enum_variant, rustdoc::all)]\n\n");
        if self.uses.contains("BTreeMap") {
            out.push_str("use std::collections::BTreeMap;\n\n");
        }
        for (alias, path) in [
            ("apps", "k8s_openapi::api::apps::v1 as apps"),
            (
                "autoscaling",
                "k8s_openapi::api::autoscaling::v2 as autoscaling",
            ),
            ("batch", "k8s_openapi::api::batch::v1 as batch"),
            ("core", "k8s_openapi::api::core::v1 as core"),
        ] {
            if self.uses.contains(alias) {
                let _ = writeln!(out, "use {path};");
            }
        }
        if self.uses.contains("Quantity") {
            out.push_str("use k8s_openapi::apimachinery::pkg::api::resource::Quantity;\n");
        }
        out.push_str("use k8s_openapi::apimachinery::pkg::apis::meta::v1 as meta;\n");
        if self.uses.contains("IntOrString") {
            out.push_str("use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;\n");
        }
        out.push_str("use schemars::JsonSchema;\nuse serde::{Deserialize, Serialize};\n");
        if self.uses.contains("Value") {
            out.push_str("use serde_json::Value;\n");
        }
        out.push('\n');
        for def in &self.defs {
            match def {
                Def::Root { kind, fields } => render_root(&mut out, kind, fields),
                Def::Struct { name, doc, fields } => {
                    write_doc(
                        &mut out,
                        "",
                        doc.as_deref()
                            .unwrap_or(&format!("`{name}` of the upstream schema.")),
                    );
                    out.push_str("#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]\n");
                    let _ = writeln!(out, "pub struct {name} {{");
                    render_fields(&mut out, fields);
                    out.push_str("}\n\n");
                }
                Def::Enum { name, doc, values } => {
                    out.push_str("crate::string_enum::string_enum! {\n");
                    write_doc(
                        &mut out,
                        "    ",
                        doc.as_deref()
                            .unwrap_or(&format!("`{name}` of the upstream schema.")),
                    );
                    let _ = writeln!(out, "    pub enum {name} {{");
                    let mut used = BTreeSet::new();
                    for v in values {
                        let mut variant = if v.is_empty() {
                            "Empty".to_owned()
                        } else {
                            type_name(v)
                        };
                        if variant == "Other" {
                            variant = "OtherValue".into();
                        }
                        while !used.insert(variant.clone()) {
                            variant.push('_');
                        }
                        let _ = writeln!(out, "        /// `{}`", v.replace('`', "'"));
                        let _ = writeln!(out, "        {variant} = {v:?},");
                    }
                    out.push_str("    }\n}\n\n");
                }
            }
        }
        out
    }
}

fn kind_clone(k: &Version) -> Version {
    Version {
        group: k.group.clone(),
        version: k.version.clone(),
        kind: k.kind.clone(),
        plural: k.plural.clone(),
        namespaced: k.namespaced,
        short_names: k.short_names.clone(),
        storage: k.storage,
        status_subresource: k.status_subresource,
        scale: k.scale.clone(),
        schema: Value::Null,
    }
}

fn render_root(out: &mut String, kind: &Version, fields: &[Field]) {
    let api_version = format!("{}/{}", kind.group, kind.version);
    write_doc(
        out,
        "",
        &format!(
            "`{api_version}` {}: a {} resource.\n\nSerializes with its `apiVersion` and `kind`; \
             implements `kube_core::Resource` and [`crate::CustomResource`].",
            kind.kind,
            if kind.namespaced {
                "namespaced"
            } else {
                "cluster-scoped"
            }
        ),
    );
    out.push_str("#[derive(Clone, Debug, Default, PartialEq, Deserialize, JsonSchema)]\n");
    let _ = writeln!(out, "pub struct {} {{", kind.kind);
    out.push_str("    /// Standard object metadata.\n    #[serde(default)]\n    pub metadata: meta::ObjectMeta,\n");
    render_fields(out, fields);
    out.push_str("}\n\n");
    let scope = if kind.namespaced {
        "k8s_openapi::NamespaceResourceScope"
    } else {
        "k8s_openapi::ClusterResourceScope"
    };
    let shorts: Vec<String> = kind.short_names.iter().map(|s| format!("{s:?}")).collect();
    let scale = match &kind.scale {
        Some((a, b, c)) => format!(
            "Some(({a:?}, {b:?}, {}))",
            c.as_ref().map_or("None".into(), |c| format!("Some({c:?})"))
        ),
        None => "None".into(),
    };
    let req: Vec<String> = fields
        .iter()
        .filter(|f| f.required)
        .map(|f| format!("{} => {:?}", f.rust, f.json))
        .collect();
    let opt: Vec<String> = fields
        .iter()
        .filter(|f| !f.required)
        .map(|f| format!("{} => {:?}", f.rust, f.json))
        .collect();
    let _ = writeln!(
        out,
        "crate::resource::custom_resource! {{\n    {kind_name}, {scope}, crate::resource::KindInfo {{\n        group: {group:?},\n        version: {version:?},\n        kind: {kind_name:?},\n        plural: {plural:?},\n        scope: crate::resource::Scope::{sc},\n        short_names: &[{shorts}],\n        storage: {storage},\n        status_subresource: {status},\n        scale: {scale},\n    }};\n    required {{ {req} }}\n    optional {{ {opt} }}\n}}\n",
        kind_name = kind.kind,
        group = kind.group,
        version = kind.version,
        plural = kind.plural,
        sc = if kind.namespaced {
            "Namespaced"
        } else {
            "Cluster"
        },
        shorts = shorts.join(", "),
        storage = kind.storage,
        status = kind.status_subresource,
        req = req.join(", "),
        opt = opt.join(", "),
    );
}

fn render_fields(out: &mut String, fields: &[Field]) {
    for f in fields {
        if let Some(doc) = &f.doc {
            write_doc(out, "    ", doc);
        } else {
            let _ = writeln!(
                out,
                "    /// `{}`.",
                if f.flatten {
                    "(unknown fields)"
                } else {
                    &f.json
                }
            );
        }
        let rename = if f.flatten || f.rust == f.json {
            String::new()
        } else {
            format!("rename = {:?}", f.json)
        };
        let mut attrs: Vec<String> = Vec::new();
        if !rename.is_empty() {
            attrs.push(rename);
        }
        if f.flatten {
            attrs.push("flatten".into());
        } else if f.required {
            attrs.push("default".into());
        } else {
            attrs.push("default, skip_serializing_if = \"Option::is_none\"".into());
        }
        let _ = writeln!(out, "    #[serde({})]", attrs.join(", "));
        let ty = if f.required {
            f.ty.render()
        } else {
            format!("Option<{}>", f.ty.render())
        };
        let _ = writeln!(out, "    pub {}: {ty},", f.rust);
    }
}

fn write_doc(out: &mut String, indent: &str, doc: &str) {
    let mut in_fence = false;
    for line in doc.trim().lines() {
        // Indented lines would become doctests; upstream descriptions are prose.
        let mut line = line.trim().to_owned();
        if line.starts_with("```") {
            line = if in_fence {
                "```".into()
            } else {
                "```text".into()
            };
            in_fence = !in_fence;
        }
        if line.is_empty() {
            let _ = writeln!(out, "{indent}///");
        } else {
            let _ = writeln!(out, "{indent}/// {line}");
        }
    }
    if in_fence {
        let _ = writeln!(out, "{indent}/// ```");
    }
}

fn doc_of(schema: &Value) -> Option<String> {
    schema
        .get("description")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .filter(|d| !d.trim().is_empty())
}

/// A schema's structure without its prose, for sharing one type between equal shapes.
fn shape_key(schema: &Value) -> String {
    fn strip(v: &Value) -> Value {
        match v {
            Value::Object(m) => Value::Object(
                m.iter()
                    .filter(|(k, _)| k.as_str() != "description")
                    .map(|(k, v)| (k.clone(), strip(v)))
                    .collect(),
            ),
            Value::Array(a) => Value::Array(a.iter().map(strip).collect()),
            other => other.clone(),
        }
    }
    strip(schema).to_string()
}

struct KindEntry {
    feature: String,
    path: String,
    api_version: String,
    kind: String,
    storage: bool,
}

fn render_kinds(entries: &[KindEntry]) -> String {
    let mut out = String::from(
        "// The typed kinds, from which `AnyResource` and `kinds()` are built; included by `any.rs`.\n//\n// @generated by `cargo run -p xtask -- codegen`.\n\nany_resource! {\n",
    );
    let mut seen = BTreeSet::new();
    for e in entries {
        let version = e.api_version.rsplit('/').next().unwrap_or_default();
        let mut variant = e.kind.clone();
        if !e.storage || !seen.insert(variant.clone()) {
            variant = format!("{}{}", e.kind, type_name(version));
        }
        let _ = writeln!(
            out,
            "    {feature:?}, {variant}, {path}, {api_version:?}, {kind:?};",
            feature = e.feature,
            path = e.path,
            api_version = e.api_version,
            kind = e.kind,
        );
    }
    out.push_str("}\n");
    out
}

/// Replaces whole-word occurrences of the identifier `from`.
fn rename_word(source: &str, from: &str, to: &str) -> String {
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut out = String::with_capacity(source.len());
    let mut rest = source;
    while let Some(i) = rest.find(from) {
        let before = rest[..i].chars().next_back();
        let after = rest[i + from.len()..].chars().next();
        out.push_str(&rest[..i]);
        if before.is_some_and(is_ident) || after.is_some_and(is_ident) {
            out.push_str(from);
        } else {
            out.push_str(to);
        }
        rest = &rest[i + from.len()..];
    }
    out.push_str(rest);
    out
}
