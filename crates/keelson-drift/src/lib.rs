//! keelson-drift: did today's data drift from the training data? Drift
//! statistics over Arrow arrays and Parquet files, with scipy's numbers.
//!
//! ```
//! use std::sync::Arc;
//!
//! use arrow::array::{ArrayRef, Float64Array, RecordBatch, StringArray};
//! use arrow::datatypes::{DataType, Field, Schema};
//! use keelson_drift::report::{ReportConfig, drift_report};
//! use keelson_drift::{SortedSample, ks::{KsMethod, ks_2samp}};
//!
//! // One statistic on two samples: the two-sample KS test, as scipy's ks_2samp.
//! let reference = SortedSample::new(&[0.2, 1.4, 0.9, 2.2, 1.7, 0.4], "reference")?;
//! let current = SortedSample::new(&[2.1, 3.4, 2.9, 4.0, 3.1], "current")?;
//! let ks = ks_2samp(&reference, &current, KsMethod::Auto)?;
//! assert!(ks.statistic > 0.8 && ks.pvalue.unwrap_or(1.0) < 0.05);
//!
//! // A whole table: one test per column, chosen as Evidently does.
//! let schema = Arc::new(Schema::new(vec![
//!     Field::new("latency", DataType::Float64, true),
//!     Field::new("region", DataType::Utf8, true),
//! ]));
//! let batch = |latency: Vec<f64>, region: Vec<&str>| {
//!     RecordBatch::try_new(schema.clone(), vec![
//!         Arc::new(Float64Array::from(latency)) as ArrayRef,
//!         Arc::new(StringArray::from(region)) as ArrayRef,
//!     ])
//! };
//! let training = batch((0..200).map(|i| f64::from(i % 17)).collect(), vec!["eu"; 200])?;
//! let today = batch((0..150).map(|i| f64::from(i % 17) + 9.0).collect(), vec!["eu"; 150])?;
//! let report = drift_report(&training, &today, &ReportConfig::default())?;
//! assert!(report.column("latency").is_some_and(|c| c.drifted()));
//! assert!(!report.column("region").is_some_and(|c| c.drifted()));
//! let html = report.to_html(); // a self-contained page with a histogram per column
//! assert!(html.contains("latency"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # What is here
//!
//! * **Two-sample tests on numbers** — [`ks`] (exact and asymptotic, chosen as
//!   scipy's `method='auto'`), [`cvm`], [`anderson`], [`mann_whitney`],
//!   [`ttest`], [`epps_singleton`], and the distances in [`distance`]
//!   (Wasserstein-1, energy). Rank-based tests take a [`SortedSample`], so a
//!   column is sorted once and shared by every test.
//! * **Tests on categories** — [`categorical`]: chi-square, Evidently's goodness
//!   of fit, G-test, Fisher's exact, the two-proportion z-test, TVD with a seeded
//!   permutation p-value, L∞, over a [`categorical::CategoryCounts`] table.
//! * **Histogram divergences** — [`histogram`] (quantile, equal-width, Sturges,
//!   Doane and fixed bins) and [`divergence`] (PSI, KL, Jensen–Shannon,
//!   Hellinger, L∞), with Evidently's and NannyML's variants in [`evidently`]
//!   and [`nannyml`].
//! * **Multivariate** — [`mmd`] (RBF kernel, permutation p-value) and [`pca`]
//!   (NannyML's reconstruction-error drift).
//! * **Tables** — [`column`](mod@column) reads Arrow arrays (nulls and NaNs counted, not
//!   tested), [`report`] runs one [`method::Method`] per column of two record
//!   batches or Parquet files in parallel and renders JSON and [`html`];
//!   [`window`] compares a stream of batches with a reference, window by window.
//! * **Shards** — histograms and category counts merge exactly; [`sketch`] has a
//!   mergeable quantile sketch with stated error bounds for KS and Wasserstein.
//! * **Names** — [`named`] reaches every method by the drift anchors' key
//!   (`ks_2samp_auto`, `psi_quantile10_eps1e-4`, ...), and [`conformance`] runs
//!   the anchors' reference-case format (`examples/drift_conformance.rs`).
//!
//! The design, the binning rules, the missing-value policy and the deliberate
//! differences from scipy, Evidently and NannyML are in `docs/drift.md`.
//!
//! # Features
//!
//! * `parquet` (default): [`report::drift_report_parquet`], reading Parquet
//!   files column by column.
//!
//! # Dependencies, and why
//!
//! * `arrow` — the input format; `ipc` is enabled so Arrow IPC bytes can be read (fuzz target).
//! * `parquet` (optional) and `bytes` — Parquet files, read with a projection per column.
//! * `serde`, `serde_json` — reports, configurations and sketches serialize; the case format is JSON.
//! * `thiserror` — the crate's one [`Error`] enum.
//! * `rand`, `rand_chacha`, `rand_distr` — seeded, platform-stable randomness for
//!   permutation p-values and MMD subsampling.
//! * `nalgebra` — symmetric eigen-decomposition and pseudo-inverse (PCA, Epps–Singleton).
//!
//! scipy's special functions (incomplete gamma and beta, the Kolmogorov and
//! Smirnov distributions, the Bessel function K_ν) are reproduced in
//! [`special`] rather than taken from a crate, because the p-values must
//! agree with scipy's to ~1e-14, which general-purpose crates do not give in
//! the tails.
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod anderson;
mod buckets;
pub mod categorical;
pub mod column;
pub mod conformance;
pub mod cvm;
pub mod distance;
pub mod divergence;
pub mod epps_singleton;
mod error;
pub mod evidently;
pub mod fuzz;
pub mod histogram;
pub mod html;
pub mod ks;
pub mod mann_whitney;
pub mod method;
pub mod mmd;
pub mod named;
pub mod nannyml;
mod outcome;
pub mod pca;
pub mod report;
mod sample;
pub mod sketch;
pub mod special;
#[cfg(test)]
mod testing;
pub mod ttest;
pub mod window;

pub use error::{Error, Result};
pub use outcome::{TestResult, Threshold};
pub use sample::SortedSample;
