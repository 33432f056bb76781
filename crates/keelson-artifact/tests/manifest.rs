//! Manifest JSON: canonical form, validation of paths and duplicates.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use keelson_artifact::{Algorithm, FileEntry, Manifest};

fn entry(path: &str) -> FileEntry {
    FileEntry {
        path: path.into(),
        size: 1,
        digest: Algorithm::Sha256.digest(path.as_bytes()),
        media_type: "application/octet-stream".into(),
    }
}

#[test]
fn canonical_json_does_not_depend_on_input_order() {
    let a = Manifest::new(vec![entry("b"), entry("a/x")], BTreeMap::new()).unwrap();
    let b = Manifest::new(vec![entry("a/x"), entry("b")], BTreeMap::new()).unwrap();
    assert_eq!(a.to_json(), b.to_json());
    assert_eq!(a.file("b").unwrap().path, "b");
    assert!(a.file("c").is_none());
    assert_eq!(a.total_size(), 2);
}

#[test]
fn rejects_bad_paths_duplicates_and_file_directory_clashes() {
    for files in [
        vec![entry("../x")],
        vec![entry("/abs")],
        vec![entry("a"), entry("a")],
        vec![entry("a"), entry("a-b"), entry("a/b")],
    ] {
        let err = Manifest::new(files.clone(), BTreeMap::new()).unwrap_err();
        assert!(err.to_string().contains("files"), "{files:?}: {err}");
    }
    let json = br#"{"schema":"keelson.manifest/v1","files":[{"path":"a/../../x","size":1,"digest":"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855","media_type":"x"}]}"#;
    let err = Manifest::from_json(json).unwrap_err().to_string();
    assert!(err.contains("files[0].path") && err.contains(".."), "{err}");
    let wrong_schema = br#"{"schema":"other","files":[]}"#;
    assert!(
        Manifest::from_json(wrong_schema)
            .unwrap_err()
            .to_string()
            .contains("schema")
    );
    let unknown = br#"{"schema":"keelson.manifest/v1","files":[],"extra":1}"#;
    assert!(Manifest::from_json(unknown).is_err());
}
