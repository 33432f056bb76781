//! Errors a person can act on: file, document, line and column, field path.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use keelson_crd::{Error, Limits, Loader};

fn err(text: &str) -> Error {
    keelson_crd::load("experiment.yaml", text).unwrap_err()
}

#[test]
fn wrong_type_names_file_document_line_and_path() {
    let e = err(r#"apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata:
  name: random
spec:
  parameters:
  - name: lr
    parameterType: double
    feasibleSpace: { min: "0.01", max: "0.1" }
  - name: layers
    parameterType: int
    feasibleSpace: { min: "1", max: "5" }
  - name: optimizer
    parameterType: categorical
    feasibleSpace:
      min: [a, b]
"#);
    assert_eq!(
        e.to_string(),
        "experiment.yaml doc 1 (line 16, column 12): spec.parameters[2].feasibleSpace.min: invalid type: sequence, expected a string"
    );
    let location = e.location().unwrap();
    assert_eq!(location.document, Some(1));
    assert_eq!(
        location.path.as_deref(),
        Some("spec.parameters[2].feasibleSpace.min")
    );
}

#[test]
fn second_document_is_counted() {
    let e = err(r#"apiVersion: v1
kind: ConfigMap
metadata: { name: ok }
---
apiVersion: kubeflow.org/v1
kind: PyTorchJob
metadata: { name: bad }
spec:
  pytorchReplicaSpecs:
    Worker:
      replicas: many
"#);
    let text = e.to_string();
    assert!(text.starts_with("experiment.yaml doc 2 (line 11, column 17): spec.pytorchReplicaSpecs.Worker.replicas: invalid type: string \"many\""), "{text}");
}

#[test]
fn integer_out_of_range_names_the_field() {
    let e = err(r#"apiVersion: kubeflow.org/v1
kind: PyTorchJob
metadata: { name: bad }
spec:
  pytorchReplicaSpecs:
    Worker: { replicas: 99999999999 }
"#);
    let loc = e.location().unwrap();
    assert_eq!(
        loc.path.as_deref(),
        Some("spec.pytorchReplicaSpecs.Worker.replicas")
    );
    assert!(
        e.to_string()
            .contains("invalid value: integer `99999999999`"),
        "{e}"
    );
}

#[test]
fn syntax_error_has_line_and_column() {
    let e = err("apiVersion: v1\nkind: ConfigMap\nmetadata: { name: [unclosed\n");
    let Error::Syntax { location, .. } = &e else {
        panic!("{e:?}")
    };
    assert_eq!(location.source.as_deref(), Some("experiment.yaml"));
    assert_eq!(location.document, Some(1));
    assert!(location.line.is_some() && location.column.is_some(), "{e}");
}

#[test]
fn missing_kind_is_reported_not_guessed() {
    let e = err("apiVersion: kubeflow.org/v1\nmetadata: { name: x }\n");
    assert!(matches!(e, Error::MissingTypeMeta { .. }));
    assert_eq!(
        e.to_string(),
        "experiment.yaml doc 1: document has no `kind`"
    );
    let e = err("apiVersion: kubeflow.org/v1\nkind: 7\n");
    assert_eq!(
        e.to_string(),
        "experiment.yaml doc 1: kind: `kind` must be a non-empty string"
    );
    let e = err("- just\n- a list\n");
    assert_eq!(
        e.to_string(),
        "experiment.yaml doc 1: document is not a mapping"
    );
}

#[test]
fn json_errors_have_line_and_path() {
    let e = keelson_crd::load(
        "job.json",
        "{\n  \"apiVersion\": \"jobset.x-k8s.io/v1alpha2\",\n  \"kind\": \"JobSet\",\n  \"spec\": {\"replicatedJobs\": {\"name\": 3}}\n}\n",
    )
    .unwrap_err();
    let loc = e.location().unwrap();
    assert_eq!(loc.path.as_deref(), Some("spec.replicatedJobs"));
    assert_eq!(loc.line, Some(4));
    assert!(e.to_string().contains("expected a sequence"), "{e}");
}

#[test]
fn limits_are_enforced() {
    let small = Loader::with_limits(Limits {
        max_bytes: 10,
        ..Limits::default()
    });
    let e = small
        .load("big.yaml", "apiVersion: v1\nkind: ConfigMap\n")
        .unwrap_err();
    assert!(matches!(e, Error::LimitExceeded { .. }), "{e}");

    let shallow = Loader::with_limits(Limits {
        max_depth: 3,
        ..Limits::default()
    });
    let e = shallow
        .load(
            "deep.yaml",
            "apiVersion: v1\nkind: ConfigMap\ndata: { a: { b: { c: d } } }\n",
        )
        .unwrap_err();
    assert!(e.to_string().contains("nesting deeper than 3"), "{e}");

    let few = Loader::with_limits(Limits {
        max_documents: 2,
        ..Limits::default()
    });
    let many = "apiVersion: v1\nkind: ConfigMap\n---\n".repeat(3);
    let results = few.load_all("many.yaml", &many);
    assert!(matches!(
        results.last(),
        Some(Err(Error::LimitExceeded { .. }))
    ));

    let deep = format!("{}x{}", "[".repeat(10_000), "]".repeat(10_000));
    assert!(keelson_crd::load("deep.yaml", &deep).is_err());
}

#[test]
fn unknown_kinds_and_lists_are_not_errors() {
    let docs = keelson_crd::load(
        "mixed.yaml",
        r#"apiVersion: example.com/v1
kind: Widget
metadata: { name: w }
spec: { size: 3 }
---
---
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Secret
  metadata: { name: s }
- apiVersion: kueue.x-k8s.io/v1beta2
  kind: LocalQueue
  metadata: { name: q, namespace: team }
  spec: { clusterQueue: cq }
"#,
    )
    .unwrap();
    assert_eq!(docs.len(), 3);
    assert!(matches!(
        docs[0].resource,
        keelson_crd::AnyResource::Unknown(_)
    ));
    assert!(matches!(
        docs[1].resource,
        keelson_crd::AnyResource::Core(_)
    ));
    assert!(matches!(
        docs[2].resource,
        keelson_crd::AnyResource::LocalQueue(_)
    ));
    assert_eq!(docs[2].index, 3);
}
