//! Keys, names, references, digests and URIs: path traversal and the other
//! rejections, and properties over generated inputs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use keelson_artifact::{
    Algorithm, ArtifactName, ArtifactUri, Digest, Error, Key, Label, Reference, Tenant,
};
use proptest::prelude::*;

#[test]
fn path_traversal_keys_are_rejected_with_the_key_and_the_reason() {
    for (key, reason) in [
        ("../etc/passwd", "`..`"),
        ("a/../../b", "`..`"),
        ("a/..", "`..`"),
        ("./a", "`.`"),
        ("/etc/passwd", "absolute"),
        ("C:/Windows", "drive"),
        ("a\\..\\b", "backslash"),
        ("a//b", "empty segment"),
        ("a/", "empty segment"),
        ("", "empty"),
        ("a\0b", "U+0000"),
        ("a\nb", "U+000A"),
        ("a\u{7f}", "U+007F"),
    ] {
        let err = Key::new(key).unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, Error::InvalidKey { .. }), "{key:?}");
        assert!(text.contains(reason), "{key:?}: {text}");
        assert!(text.contains(&format!("{key:?}")), "{key:?}: {text}");
    }
}

#[test]
fn length_limits() {
    assert!(Key::new(&"a".repeat(255)).is_ok());
    assert!(
        Key::new(&"a".repeat(256))
            .unwrap_err()
            .to_string()
            .contains("segment")
    );
    let long = vec!["a".repeat(200); 6].join("/");
    assert!(Key::new(&long).unwrap_err().to_string().contains("1024"));
    assert!(Tenant::new(&"t".repeat(64)).is_err());
    assert!(Label::new(&"v".repeat(129)).is_err());
    // Error messages do not repeat a huge input in full.
    let huge = "x/".repeat(100_000);
    assert!(Key::new(&huge).unwrap_err().to_string().len() < 500);
}

#[test]
fn names_and_references() {
    assert!(Key::new("weights/model-00001-of-00002.safetensors").is_ok());
    assert!(Key::new("données/модель.bin").is_ok());
    for bad in ["", "..", ".hidden", "a b", "a/b", "x@y", "a:b"] {
        assert!(Tenant::new(bad).is_err(), "{bad:?}");
    }
    for bad in ["", "/abs", "a//b", "a/../b", "a/./b", "a@b", "a b"] {
        assert!(ArtifactName::new(bad).is_err(), "{bad:?}");
    }
    let r = Reference::parse("models/fraud-detector@production").unwrap();
    assert_eq!(r.label.as_str(), "production");
    for bad in ["m", "m@", "@v1", "m@v1/x", "../m@v1", "m@v1@v2"] {
        assert!(Reference::parse(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn uris() {
    let cases = [
        (
            "keelson://team-a/models/m@v3",
            "keelson://team-a/models/m@v3",
        ),
        ("KEELSON://team-a/models/m", "keelson://team-a/models/m"),
        ("s3://my-bucket", "s3://my-bucket"),
        ("s3://my-bucket/", "s3://my-bucket"),
        ("s3://my-bucket/ml/store", "s3://my-bucket/ml/store"),
        ("file:///var/lib/keelson", "file:///var/lib/keelson"),
        ("file:///var/lib/keelson/", "file:///var/lib/keelson"),
        ("file://localhost/tmp", "file:///tmp"),
        ("file:///", "file:///"),
    ];
    for (text, shown) in cases {
        let uri = ArtifactUri::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(uri.to_string(), shown);
    }
    for (bad, reason) in [
        ("models/m", "scheme"),
        ("http://x/y", "unknown scheme"),
        ("keelson://team-a", "TENANT/NAME"),
        ("keelson://../models/m", "tenant"),
        ("keelson://t/models/../m", "artifact name"),
        ("keelson://t/m@v1/x", "label"),
        ("s3://ab", "3 to 63"),
        ("s3://My_Bucket/x", "contains"),
        ("s3://bucket/../x", "`..`"),
        ("s3://bucket//x", "absolute"),
        ("s3://bucket/x//y", "empty segment"),
        ("file://relative/path", "absolute"),
        ("file:///a/../etc", "`..`"),
        ("file:///a\0b", "control"),
        ("s3://bucket/a b", "spaces"),
    ] {
        let err = ArtifactUri::parse(bad).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains(reason) && text.contains(bad.split('\0').next().unwrap()),
            "{bad:?}: {text}"
        );
    }
}

#[test]
fn digests() {
    let d = Algorithm::Blake3.digest(b"abc");
    assert_eq!(d.to_string().parse::<Digest>().unwrap(), d);
    let json = serde_json::to_string(&d).unwrap();
    assert_eq!(serde_json::from_str::<Digest>(&json).unwrap(), d);
    for bad in [
        "sha256",
        "sha256:",
        "md5:00",
        "sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
        "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85",
        "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85g",
    ] {
        assert!(
            matches!(Digest::parse(bad), Err(Error::InvalidDigest { .. })),
            "{bad:?}"
        );
    }
}

fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9._-]{1,12}",
        Just("..".to_string()),
        Just(".".to_string()),
        Just(String::new()),
        "\\PC{1,6}",
        "[\\x00-\\x1f]{1,2}",
    ]
}

proptest! {
    #[test]
    fn accepted_keys_never_climb_out(segments in prop::collection::vec(segment(), 1..6), lead in prop::bool::ANY) {
        let key = format!("{}{}", if lead { "/" } else { "" }, segments.join("/"));
        if let Ok(k) = Key::new(&key) {
            prop_assert!(!key.starts_with('/'));
            prop_assert!(k.segments().all(|s| !s.is_empty() && s != "." && s != ".."));
            prop_assert!(!key.chars().any(char::is_control));
            // Joined under a directory, it stays there.
            let base = std::path::Path::new("/base");
            let mut joined = base.to_path_buf();
            for s in k.segments() { joined.push(s); }
            prop_assert!(joined.starts_with(base));
            prop_assert!(joined.components().all(|c| !matches!(c, std::path::Component::ParentDir)));
        } else {
            let bad = key.is_empty()
                || key.starts_with('/')
                || key.contains('\\')
                || key.chars().any(char::is_control)
                || key.split('/').any(|s| s.is_empty() || s == "." || s == ".." || s.len() > 255)
                || key.len() > 1024
                || key.split('/').next().is_some_and(|s| s.len() == 2 && s.ends_with(':'));
            prop_assert!(bad, "{key:?} rejected without a reason");
        }
    }

    #[test]
    fn uri_text_round_trips(tenant in "[a-z0-9][a-z0-9_-]{0,10}", name in prop::collection::vec("[a-zA-Z0-9_-][a-zA-Z0-9._-]{0,8}", 1..4), label in prop::option::of("[a-z0-9][a-z0-9.]{0,6}")) {
        let text = match &label {
            Some(l) => format!("keelson://{tenant}/{}@{l}", name.join("/")),
            None => format!("keelson://{tenant}/{}", name.join("/")),
        };
        let uri = ArtifactUri::parse(&text).unwrap();
        prop_assert_eq!(uri.to_string(), text.clone());
        prop_assert_eq!(ArtifactUri::parse(&uri.to_string()).unwrap(), uri);
    }

    #[test]
    fn arbitrary_uri_text_never_panics_and_round_trips(text in "\\PC{0,40}", scheme in prop::sample::select(vec!["keelson://", "s3://", "file://", "", "S3://"])) {
        let full = format!("{scheme}{text}");
        if let Ok(uri) = ArtifactUri::parse(&full) {
            prop_assert_eq!(ArtifactUri::parse(&uri.to_string()).unwrap(), uri);
        }
        prop_assert!(keelson_artifact::fuzz::parse(full.as_bytes()).is_ok());
    }
}
