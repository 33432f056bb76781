//! The conformance suite on a real S3-compatible server (moto in
//! `scripts/test.sh`), one fresh bucket per test.
//!
//! Reads `KEELSON_S3_ENDPOINT` (e.g. `http://127.0.0.1:5000`),
//! `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_DEFAULT_REGION`.
//! Without the endpoint the tests return early with a note, except with
//! `CI=true`, where they fail.
#![cfg(feature = "aws")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod conformance;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use object_store::aws::AmazonS3Builder;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

async fn backend() -> Option<conformance::Backend> {
    let Some(endpoint) = env("KEELSON_S3_ENDPOINT") else {
        if env("CI").as_deref() == Some("true") {
            panic!(
                "KEELSON_S3_ENDPOINT is not set (CI=true): scripts/test.sh starts moto and sets it"
            );
        }
        eprintln!("note: KEELSON_S3_ENDPOINT is not set; skipping the S3 conformance test");
        return None;
    };
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let bucket = format!(
        "keelson-test-{}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    );
    create_bucket(&endpoint, &bucket).await;
    let store = AmazonS3Builder::new()
        .with_endpoint(&endpoint)
        .with_allow_http(true)
        .with_bucket_name(&bucket)
        .with_region(env("AWS_DEFAULT_REGION").unwrap_or_else(|| "us-east-1".into()))
        .with_access_key_id(env("AWS_ACCESS_KEY_ID").expect("AWS_ACCESS_KEY_ID is not set"))
        .with_secret_access_key(
            env("AWS_SECRET_ACCESS_KEY").expect("AWS_SECRET_ACCESS_KEY is not set"),
        )
        .build()
        .unwrap();
    Some(conformance::Backend {
        store: Arc::new(store),
        // S3's smallest part (but the last).
        part_size: 5 << 20,
        local_root: None,
        _guard: Box::new(()),
    })
}

/// `PUT /BUCKET` over plain HTTP: object_store has no bucket API, and the
/// test server accepts unsigned requests.
async fn create_bucket(endpoint: &str, bucket: &str) {
    let authority = endpoint.trim_start_matches("http://").trim_end_matches('/');
    let mut conn = tokio::net::TcpStream::connect(authority)
        .await
        .unwrap_or_else(|e| panic!("KEELSON_S3_ENDPOINT={endpoint}: {e}"));
    let request = format!(
        "PUT /{bucket} HTTP/1.1\r\nHost: {authority}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    conn.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    conn.read_to_string(&mut response).await.unwrap();
    assert!(
        response.starts_with("HTTP/1.1 200") || response.starts_with("HTTP/1.0 200"),
        "creating bucket {bucket}: {}",
        response.lines().next().unwrap_or_default()
    );
}

conformance_tests!(backend());
