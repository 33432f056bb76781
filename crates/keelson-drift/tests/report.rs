//! Table-level drift reports through the public API: batches, Parquet files,
//! HTML, windows, and invariance to row order.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::num::NonZeroUsize;
use std::sync::Arc;

use arrow::array::{
    ArrayRef, BinaryArray, BooleanArray, DictionaryArray, Float64Array, Int32Array, Int64Array,
    RecordBatch, StringArray, UInt32Array,
};
use arrow::compute::{concat_batches, take_record_batch};
use arrow::datatypes::{DataType, Field, Int32Type, Schema};
use keelson_drift::categorical::CategoryCounts;
use keelson_drift::column::ColumnKind;
use keelson_drift::method::{Method, MethodInput};
use keelson_drift::report::{
    ColumnOutcome, ColumnReport, DriftTest, Report, ReportConfig, drift_report,
};
use keelson_drift::window::{Window, WindowedDrift};
use keelson_drift::{Error, SortedSample, TestResult, Threshold};
use proptest::prelude::*;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

const N_REF: usize = 300;
const N_CUR: usize = 240;
const CITIES: [&str; 4] = ["Oslo", "Bergen", "Tromsø", "Stavanger"];

// The formulas below are mirrored in Python to get scipy's numbers:
//   ref_num(i) = None if i % 17 == 3 else nan if i % 23 == 5 else ((i*37) % 101) / 10.0 - 5.0 + ((i*13) % 7) * 0.25
//   cur_num(i) = None if i % 13 == 2 else nan if i % 29 == 7 else ((i*41) % 103) / 10.0 - 4.5 + ((i*11) % 5) * 0.3
//   ref_city(i) = None if i % 11 == 0 else CITIES[(i*i + i) % 4]
//   cur_city(i) = None if i % 9 == 0 else CITIES[(i*3 + i//7) % 4]
fn ref_num(i: usize) -> Option<f64> {
    if i % 17 == 3 {
        None
    } else if i % 23 == 5 {
        Some(f64::NAN)
    } else {
        Some(((i * 37) % 101) as f64 / 10.0 - 5.0 + ((i * 13) % 7) as f64 * 0.25)
    }
}

fn cur_num(i: usize) -> Option<f64> {
    if i % 13 == 2 {
        None
    } else if i % 29 == 7 {
        Some(f64::NAN)
    } else {
        Some(((i * 41) % 103) as f64 / 10.0 - 4.5 + ((i * 11) % 5) as f64 * 0.3)
    }
}

fn ref_city(i: usize) -> Option<&'static str> {
    (!i.is_multiple_of(11)).then(|| CITIES[(i * i + i) % 4])
}

fn cur_city(i: usize) -> Option<&'static str> {
    (!i.is_multiple_of(9)).then(|| CITIES[(i * 3 + i / 7) % 4])
}

fn schema(names: &[(&str, DataType)]) -> Arc<Schema> {
    Arc::new(Schema::new(
        names
            .iter()
            .map(|(n, t)| Field::new(*n, t.clone(), true))
            .collect::<Vec<_>>(),
    ))
}

fn table_schema() -> Arc<Schema> {
    schema(&[
        ("num", DataType::Float64),
        ("count", DataType::Int64),
        ("grade", DataType::Int32),
        ("city", DataType::Utf8),
        ("flag", DataType::Boolean),
        (
            "segment",
            DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8)),
        ),
        ("payload", DataType::Binary),
    ])
}

/// A table with numeric, integer, string, boolean, dictionary and binary
/// columns, with nulls and NaNs; `current` picks the current side's formulas.
fn table(current: bool) -> RecordBatch {
    let n = if current { N_CUR } else { N_REF };
    let num: Float64Array = (0..n)
        .map(if current { cur_num } else { ref_num })
        .collect();
    let count: Int64Array =
        (0..n).map(|i| if current { (i * 7907) % 1200 } else { (i * 7919) % 1000 } as i64).map(Some).collect();
    let grade: Int32Array = (0..n)
        .map(|i| {
            Some(
                1 + if current {
                    ((i * 5) % 7) % 3
                } else {
                    (i * i) % 3
                } as i32,
            )
        })
        .collect();
    let city: StringArray = (0..n)
        .map(if current { cur_city } else { ref_city })
        .collect();
    let flag: BooleanArray = (0..n)
        .map(|i| {
            if current {
                Some(i % 2 == 0)
            } else {
                (i % 19 != 0).then_some(i % 3 == 0)
            }
        })
        .collect();
    let segment: DictionaryArray<Int32Type> = (0..n)
        .map(|i| {
            if current {
                ["a", "b", "c", "d"][(i * 7) % 4]
            } else {
                ["a", "b", "c"][i % 3]
            }
        })
        .map(Some)
        .collect();
    let payload: BinaryArray = (0..n)
        .map(|i| Some(vec![i as u8]))
        .collect::<Vec<_>>()
        .into_iter()
        .collect();
    let columns: Vec<ArrayRef> = vec![
        Arc::new(num),
        Arc::new(count),
        Arc::new(grade),
        Arc::new(city),
        Arc::new(flag),
        Arc::new(segment),
        Arc::new(payload),
    ];
    RecordBatch::try_new(table_schema(), columns).unwrap()
}

fn clean(values: impl Iterator<Item = Option<f64>>) -> SortedSample {
    let v: Vec<f64> = values.flatten().filter(|v| !v.is_nan()).collect();
    SortedSample::new(&v, "test").unwrap()
}

/// What the report must hold for a method run on hand-cleaned data: the same
/// result, or the same error.
fn assert_outcome(
    column: &ColumnReport,
    method: Method,
    expected: keelson_drift::Result<TestResult>,
) {
    match (&column.outcome, expected) {
        (ColumnOutcome::Tested(test), Ok(result)) => {
            assert_eq!(test.method, method, "{}", column.name);
            assert_eq!(
                test.statistic.to_bits(),
                result.statistic.to_bits(),
                "{}",
                column.name
            );
            assert_eq!(
                test.pvalue.map(f64::to_bits),
                result.pvalue.map(f64::to_bits),
                "{}",
                column.name
            );
            assert_eq!(
                test.drifted,
                test.threshold.drifted(&result),
                "{}",
                column.name
            );
        }
        (ColumnOutcome::Failed(failure), Err(error)) => {
            assert_eq!(failure.error, error.to_string(), "{}", column.name);
        }
        (outcome, expected) => panic!(
            "{}: report has {outcome:?}, direct run gives {expected:?}",
            column.name
        ),
    }
}

/// The test's numbers when the method's dispatch is available.
fn tested(column: &ColumnReport) -> Option<&DriftTest> {
    match &column.outcome {
        ColumnOutcome::Tested(test) => Some(test),
        ColumnOutcome::Failed(failure) => {
            assert!(
                failure.error.contains("not available yet"),
                "{}: {}",
                column.name,
                failure.error
            );
            None
        }
    }
}

fn json(report: &Report) -> String {
    report.to_json().unwrap()
}

fn assert_json_close(a: &serde_json::Value, b: &serde_json::Value) {
    use serde_json::Value;
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            assert!((x - y).abs() <= 1e-15 * x.abs().max(y.abs()), "{x} != {y}");
        }
        (Value::Array(x), Value::Array(y)) => {
            assert_eq!(x.len(), y.len());
            x.iter().zip(y).for_each(|(x, y)| assert_json_close(x, y));
        }
        (Value::Object(x), Value::Object(y)) => {
            assert_eq!(x.keys().collect::<Vec<_>>(), y.keys().collect::<Vec<_>>());
            x.values()
                .zip(y.values())
                .for_each(|(x, y)| assert_json_close(x, y));
        }
        (x, y) => assert_eq!(x, y),
    }
}

#[cfg(feature = "parquet")]
fn temp_dir() -> std::path::PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "keelson-drift-report-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[cfg(feature = "parquet")]
fn write_parquet(path: &std::path::Path, batch: &RecordBatch) {
    use parquet::arrow::ArrowWriter;
    use parquet::file::properties::WriterProperties;
    let file = std::fs::File::create(path).unwrap();
    // Small row groups, so every column is read back in several chunks.
    let props = WriterProperties::builder()
        .set_max_row_group_row_count(Some(64))
        .build();
    let mut writer = ArrowWriter::try_new(file, batch.schema(), Some(props)).unwrap();
    writer.write(batch).unwrap();
    writer.close().unwrap();
}

#[test]
fn report_has_one_entry_per_column_in_schema_order() {
    let (reference, current) = (table(false), table(true));
    let report = drift_report(&reference, &current, &ReportConfig::default()).unwrap();
    let names: Vec<&str> = report.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["num", "count", "grade", "city", "flag", "segment"]);
    assert_eq!(report.skipped.len(), 1);
    assert_eq!(report.skipped[0].name, "payload");
    assert_eq!((report.reference_rows, report.current_rows), (N_REF, N_CUR));

    let kinds: Vec<ColumnKind> = report.columns.iter().map(|c| c.kind).collect();
    use ColumnKind::{Categorical, Numeric};
    assert_eq!(
        kinds,
        [
            Numeric,
            Numeric,
            Numeric,
            Categorical,
            Categorical,
            Categorical
        ]
    );

    let num = report.column("num").unwrap();
    let ref_nulls = (0..N_REF).filter(|&i| ref_num(i).is_none()).count();
    let ref_nans = (0..N_REF)
        .filter(|&i| ref_num(i).is_some_and(f64::is_nan))
        .count();
    let cur_nulls = (0..N_CUR).filter(|&i| cur_num(i).is_none()).count();
    let cur_nans = (0..N_CUR)
        .filter(|&i| cur_num(i).is_some_and(f64::is_nan))
        .count();
    assert_eq!(
        (
            num.reference.rows,
            num.reference.null_count,
            num.reference.nan_count
        ),
        (N_REF, ref_nulls, ref_nans)
    );
    assert_eq!(
        (
            num.current.rows,
            num.current.null_count,
            num.current.nan_count
        ),
        (N_CUR, cur_nulls, cur_nans)
    );
    assert!(
        (num.reference.null_share - (ref_nulls + ref_nans) as f64 / N_REF as f64).abs() < 1e-15
    );
    assert_eq!(
        report.column("city").unwrap().current.null_count,
        (0..N_CUR).filter(|i| i % 9 == 0).count()
    );
    assert_eq!(
        report.column("flag").unwrap().reference.null_count,
        (0..N_REF).filter(|i| i % 19 == 0).count()
    );

    // The null share of "city" moves from 1/11 to 1/9: under the 5-point default.
    assert!(!report.column("city").unwrap().null_share_drifted);
    let mut strict = ReportConfig::default();
    strict.null_share_threshold = 0.01;
    let report_strict = drift_report(&reference, &current, &strict).unwrap();
    assert!(report_strict.column("city").unwrap().null_share_drifted);
}

#[test]
fn default_methods_follow_evidently_and_results_match_direct_runs() {
    let (reference, current) = (table(false), table(true));
    let report = drift_report(&reference, &current, &ReportConfig::default()).unwrap();

    let r = clean((0..N_REF).map(ref_num));
    let c = clean((0..N_CUR).map(cur_num));
    let mut all: Vec<f64> = r.values().iter().chain(c.values()).copied().collect();
    all.sort_by(f64::total_cmp);
    all.dedup();
    let method = Method::evidently_default(r.len(), all.len(), true);
    let column = report.column("num").unwrap();
    assert_outcome(column, method, method.run_numeric(&r, &c));

    let table = CategoryCounts::from_values(
        (0..N_REF).filter_map(ref_city).map(Into::into),
        (0..N_CUR).filter_map(cur_city).map(Into::into),
    );
    let n_ref_values = (0..N_REF).filter_map(ref_city).count();
    let method = Method::evidently_default(n_ref_values, table.categories().len(), false);
    let column = report.column("city").unwrap();
    match column.outcome {
        ColumnOutcome::Tested(ref test) => assert_eq!(test.method, method),
        ColumnOutcome::Failed(ref failure) => assert_eq!(failure.method, Some(method)),
    }
}

#[test]
fn overridden_methods_give_scipys_numbers() {
    let (reference, current) = (table(false), table(true));
    let config = ReportConfig::default()
        .with_method("num", Method::Ks)
        .with_method("city", Method::ChiSquare)
        .with_threshold("count", Threshold::StatisticAtLeast(0.0))
        .with_method("count", Method::Wasserstein);
    let report = drift_report(&reference, &current, &config).unwrap();

    let num = report.column("num").unwrap();
    assert_outcome(
        num,
        Method::Ks,
        Method::Ks.run_numeric(
            &clean((0..N_REF).map(ref_num)),
            &clean((0..N_CUR).map(cur_num)),
        ),
    );
    if let Some(test) = tested(num) {
        // stats.ks_2samp(r, c) on the NaN- and null-free values (270 and 213 of them)
        assert!((test.statistic - 0.08262910798122065).abs() < 1e-12);
        let p = test.pvalue.unwrap();
        assert!(
            (p - 0.36468824546568185).abs() <= 1e-9 * 0.36468824546568185,
            "{p}"
        );
        assert!(!test.drifted);
        assert_eq!(test.threshold, Method::Ks.default_threshold());
    }

    let city = report.column("city").unwrap();
    if let Some(test) = tested(city) {
        // stats.chi2_contingency([[0, 136, 0, 136], [45, 61, 47, 60]])
        assert!((test.statistic - 144.9910315166318).abs() < 1e-9);
        let p = test.pvalue.unwrap();
        assert!(
            (p - 3.170831070956706e-31).abs() <= 1e-9 * 3.170831070956706e-31,
            "{p}"
        );
        assert!(test.drifted);
    }

    let count = report.column("count").unwrap();
    if let Some(test) = tested(count) {
        assert_eq!(test.threshold, Threshold::StatisticAtLeast(0.0));
        assert!(test.drifted);
    }
}

#[test]
fn integer_columns_can_be_categorical() {
    let (reference, current) = (table(false), table(true));
    let config = ReportConfig::default().with_categorical("grade");
    let report = drift_report(&reference, &current, &config).unwrap();
    let grade = report.column("grade").unwrap();
    assert_eq!(grade.kind, ColumnKind::Categorical);
    let Some(keelson_drift::report::ColumnHistogram::Categorical { labels, .. }) = &grade.histogram
    else {
        panic!("expected a categorical picture: {:?}", grade.histogram);
    };
    assert_eq!(labels, &["1", "2", "3"]);
}

#[test]
fn dataset_verdict_counts_tested_columns() {
    let (reference, current) = (table(false), table(true));
    let mut config = ReportConfig::default();
    for name in ["num", "count", "grade", "city", "flag", "segment"] {
        config = config.with_threshold(name, Threshold::StatisticAtLeast(f64::NEG_INFINITY));
    }
    let report = drift_report(&reference, &current, &config).unwrap();
    assert_eq!(report.drifted_columns, report.tested_columns);
    assert_eq!(report.dataset_drift, report.tested_columns > 0);
    assert!(report.share_drifted == 1.0 || report.tested_columns == 0);

    let mut never = ReportConfig::default();
    never.drift_share = 1.0;
    for name in ["num", "count", "grade", "city", "flag", "segment"] {
        never = never.with_threshold(name, Threshold::StatisticAbove(f64::INFINITY));
    }
    let report = drift_report(&reference, &current, &never).unwrap();
    assert_eq!(report.drifted_columns, 0);
    assert!(!report.dataset_drift);
}

#[test]
fn pictures_are_small_and_proportions_sum_to_one() {
    let (reference, current) = (table(false), table(true));
    let report = drift_report(&reference, &current, &ReportConfig::default()).unwrap();
    for column in &report.columns {
        let histogram = column
            .histogram
            .as_ref()
            .unwrap_or_else(|| panic!("{} has no picture", column.name));
        let (r, c, other_r, other_c) = match histogram {
            keelson_drift::report::ColumnHistogram::Numeric {
                edges,
                reference,
                current,
            } => {
                assert_eq!(edges.len(), reference.len() + 1);
                (reference, current, 0.0, 0.0)
            }
            keelson_drift::report::ColumnHistogram::Categorical {
                labels,
                reference,
                current,
                other_reference,
                other_current,
            } => {
                assert_eq!(labels.len(), reference.len());
                (reference, current, *other_reference, *other_current)
            }
        };
        assert!(
            r.len() <= 30 && r.len() == c.len() && !r.is_empty(),
            "{}",
            column.name
        );
        assert!(
            (r.iter().sum::<f64>() + other_r - 1.0).abs() < 1e-12,
            "{}",
            column.name
        );
        assert!(
            (c.iter().sum::<f64>() + other_c - 1.0).abs() < 1e-12,
            "{}",
            column.name
        );
    }
}

#[test]
fn many_categories_are_pooled_into_other() {
    let labels: Vec<String> = (0..100).map(|i| format!("k{i:03}")).collect();
    let reference: StringArray = (0..1000)
        .map(|i| Some(labels[(i * 7 + i / 13) % 100].as_str()))
        .collect();
    let current: StringArray = (0..800)
        .map(|i| Some(labels[(i * 3) % 100].as_str()))
        .collect();
    let s = schema(&[("k", DataType::Utf8)]);
    let reference = RecordBatch::try_new(s.clone(), vec![Arc::new(reference)]).unwrap();
    let current = RecordBatch::try_new(s, vec![Arc::new(current)]).unwrap();
    let report = drift_report(&reference, &current, &ReportConfig::default()).unwrap();
    let Some(keelson_drift::report::ColumnHistogram::Categorical {
        labels,
        reference,
        other_reference,
        other_current,
        ..
    }) = &report.columns[0].histogram
    else {
        panic!("expected a categorical picture");
    };
    assert_eq!(labels.len(), 29);
    assert_eq!(reference.len(), 29);
    assert!(*other_reference > 0.0 && *other_current > 0.0);
    assert!(
        labels.windows(2).all(|w| w[0] < w[1]),
        "labels stay in category order"
    );
}

#[test]
fn thread_count_does_not_change_the_report() {
    let (reference, current) = (table(false), table(true));
    let one = ReportConfig::default().with_threads(NonZeroUsize::MIN);
    let four = ReportConfig::default().with_threads(NonZeroUsize::new(4).unwrap());
    let a = drift_report(&reference, &current, &one).unwrap();
    let b = drift_report(&reference, &current, &four).unwrap();
    assert_eq!(json(&a), json(&b));
}

#[test]
fn json_round_trips_with_non_finite_numbers() {
    let (reference, current) = (table(false), table(true));
    let mut report = drift_report(&reference, &current, &ReportConfig::default()).unwrap();
    report.columns[0].outcome = ColumnOutcome::Tested(DriftTest {
        method: Method::Ks,
        statistic: f64::NAN,
        pvalue: Some(f64::NEG_INFINITY),
        threshold: Threshold::PValueBelow(0.05),
        drifted: false,
    });
    report.columns[1].outcome = ColumnOutcome::Tested(DriftTest {
        method: Method::Wasserstein,
        statistic: f64::INFINITY,
        pvalue: None,
        threshold: Threshold::StatisticAtLeast(0.1),
        drifted: true,
    });
    let text = json(&report);
    assert!(
        text.contains("\"NaN\"") && text.contains("\"Infinity\"") && text.contains("\"-Infinity\"")
    );
    let back = Report::from_json(&text).unwrap();
    // serde_json parses floats to within an ulp unless its `float_roundtrip` feature is on.
    assert_json_close(
        &serde_json::from_str(&json(&back)).unwrap(),
        &serde_json::from_str(&text).unwrap(),
    );
    let ColumnOutcome::Tested(test) = &back.columns[0].outcome else {
        panic!("tested")
    };
    assert!(test.statistic.is_nan());
    assert_eq!(test.pvalue, Some(f64::NEG_INFINITY));
    let ColumnOutcome::Tested(test) = &back.columns[1].outcome else {
        panic!("tested")
    };
    assert_eq!((test.statistic, test.pvalue), (f64::INFINITY, None));
}

#[cfg(feature = "parquet")]
#[test]
fn parquet_files_give_the_batch_report() {
    let (reference, current) = (table(false), table(true));
    let dir = temp_dir();
    let (ref_path, cur_path) = (dir.join("reference.parquet"), dir.join("current.parquet"));
    write_parquet(&ref_path, &reference);
    write_parquet(&cur_path, &current);
    for config in [
        ReportConfig::default(),
        ReportConfig::default()
            .with_method("num", Method::Ks)
            .with_categorical("grade"),
        ReportConfig::default().with_threads(NonZeroUsize::MIN),
    ] {
        let from_batches = drift_report(&reference, &current, &config).unwrap();
        let from_files =
            keelson_drift::report::drift_report_parquet(&ref_path, &cur_path, &config).unwrap();
        assert_eq!(json(&from_files), json(&from_batches));
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[cfg(feature = "parquet")]
#[test]
fn parquet_errors_name_the_column_and_file() {
    let reference = table(false);
    let current = table(true);
    let dir = temp_dir();
    let ref_path = dir.join("reference.parquet");
    write_parquet(&ref_path, &reference);

    let without_city = current.project(&[0, 1, 2, 4, 5, 6]).unwrap();
    let cur_path = dir.join("no_city.parquet");
    write_parquet(&cur_path, &without_city);
    let err =
        keelson_drift::report::drift_report_parquet(&ref_path, &cur_path, &ReportConfig::default())
            .unwrap_err();
    match &err {
        Error::MissingColumn {
            column,
            source_name,
        } => {
            assert_eq!(column, "city");
            assert!(source_name.contains("no_city.parquet"), "{source_name}");
        }
        other => panic!("expected MissingColumn, got {other}"),
    }
    // The other direction: the reference lacks a column the current file has.
    let err =
        keelson_drift::report::drift_report_parquet(&cur_path, &ref_path, &ReportConfig::default())
            .unwrap_err();
    assert!(
        matches!(&err, Error::MissingColumn { column, .. } if column == "city"),
        "{err}"
    );
    // Excluding the column makes the files comparable.
    let config = ReportConfig::default().with_exclude("city");
    let report =
        keelson_drift::report::drift_report_parquet(&ref_path, &cur_path, &config).unwrap();
    assert!(report.column("city").is_none());

    let mut columns = current.columns().to_vec();
    columns[3] = Arc::new(Int64Array::from_iter_values(0..N_CUR as i64));
    let mut fields: Vec<Field> = table_schema()
        .fields()
        .iter()
        .map(|f| f.as_ref().clone())
        .collect();
    fields[3] = Field::new("city", DataType::Int64, true);
    let retyped = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).unwrap();
    let cur_path = dir.join("retyped.parquet");
    write_parquet(&cur_path, &retyped);
    let err =
        keelson_drift::report::drift_report_parquet(&ref_path, &cur_path, &ReportConfig::default())
            .unwrap_err();
    assert!(
        matches!(&err, Error::TypeMismatch { column, .. } if column == "city"),
        "{err}"
    );

    let missing = dir.join("does-not-exist.parquet");
    let err =
        keelson_drift::report::drift_report_parquet(&ref_path, &missing, &ReportConfig::default())
            .unwrap_err();
    assert!(
        matches!(&err, Error::Io { path, .. } if path.contains("does-not-exist")),
        "{err}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn schema_and_config_errors_fail_the_call() {
    let (reference, current) = (table(false), table(true));
    let err = drift_report(&reference, &current.slice(0, 0), &ReportConfig::default()).unwrap_err();
    assert!(
        matches!(&err, Error::Empty { what } if what.contains("current")),
        "{err}"
    );
    let err = drift_report(&reference.slice(0, 0), &current, &ReportConfig::default()).unwrap_err();
    assert!(
        matches!(&err, Error::Empty { what } if what.contains("reference")),
        "{err}"
    );

    let config = ReportConfig::default().with_include("nope");
    let err = drift_report(&reference, &current, &config).unwrap_err();
    assert!(
        matches!(&err, Error::MissingColumn { column, .. } if column == "nope"),
        "{err}"
    );

    if Method::Ks.input() == MethodInput::Numeric {
        let config = ReportConfig::default().with_method("city", Method::Ks);
        let err = drift_report(&reference, &current, &config).unwrap_err();
        assert!(
            matches!(&err, Error::UnsupportedType { column, .. } if column == "city"),
            "{err}"
        );
    }

    let config = ReportConfig::default().with_include("payload");
    let err = drift_report(&reference, &current, &config).unwrap_err();
    assert!(
        matches!(&err, Error::UnsupportedType { column, .. } if column == "payload"),
        "{err}"
    );

    let mut config = ReportConfig::default();
    config.drift_share = 1.5;
    assert!(matches!(
        drift_report(&reference, &current, &config),
        Err(Error::InvalidParameter { .. })
    ));

    let mut columns = current.columns().to_vec();
    columns[0] = Arc::new(Int32Array::from_iter_values(0..N_CUR as i32));
    let mut fields: Vec<Field> = table_schema()
        .fields()
        .iter()
        .map(|f| f.as_ref().clone())
        .collect();
    fields[0] = Field::new("num", DataType::Int32, true);
    let retyped = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).unwrap();
    let err = drift_report(&reference, &retyped, &ReportConfig::default()).unwrap_err();
    assert!(
        matches!(&err, Error::TypeMismatch { column, .. } if column == "num"),
        "{err}"
    );

    // Widths may differ: an Int32 "count" against the reference's Int64.
    let mut columns = current.columns().to_vec();
    columns[1] = Arc::new(Int32Array::from_iter_values(0..N_CUR as i32));
    let mut fields: Vec<Field> = table_schema()
        .fields()
        .iter()
        .map(|f| f.as_ref().clone())
        .collect();
    fields[1] = Field::new("count", DataType::Int32, true);
    let narrower = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).unwrap();
    assert!(drift_report(&reference, &narrower, &ReportConfig::default()).is_ok());
}

#[test]
fn an_all_null_column_fails_alone() {
    let (reference, current) = (table(false), table(true));
    let mut columns = current.columns().to_vec();
    columns[0] = Arc::new(Float64Array::from(vec![None; N_CUR]));
    columns[3] = Arc::new(StringArray::from(vec![None::<&str>; N_CUR]));
    let current = RecordBatch::try_new(table_schema(), columns).unwrap();
    let report = drift_report(&reference, &current, &ReportConfig::default()).unwrap();
    for name in ["num", "city"] {
        let column = report.column(name).unwrap();
        let error = column
            .error()
            .unwrap_or_else(|| panic!("{name} should fail"));
        assert!(
            error.contains(name) && error.contains("current") && error.contains("empty"),
            "{error}"
        );
        assert_eq!(column.current.null_share, 1.0);
        assert!(column.null_share_drifted);
        assert!(column.histogram.is_none());
    }
    assert!(report.tested_columns <= 4);
    assert!(
        report
            .column("count")
            .unwrap()
            .error()
            .is_none_or(|e| e.contains("not available yet"))
    );
}

#[test]
fn html_is_self_contained_and_escapes_data() {
    let evil = "<script>alert(1)</script>";
    let s = schema(&[(evil, DataType::Utf8), ("x\"&'", DataType::Float64)]);
    let reference = RecordBatch::try_new(
        s.clone(),
        vec![
            Arc::new(StringArray::from(vec![
                "<b>bold</b>",
                "a&b",
                "\"q\"",
                "<b>bold</b>",
            ])),
            Arc::new(Float64Array::from(vec![1.0, 2.0, 3.0, 4.0])),
        ],
    )
    .unwrap();
    let current = RecordBatch::try_new(
        s,
        vec![
            Arc::new(StringArray::from(vec![
                "<img src=x onerror=alert(2)>",
                "a&b",
                "a&b",
            ])),
            Arc::new(Float64Array::from(vec![2.0, 5.0, 9.0])),
        ],
    )
    .unwrap();
    let report = drift_report(&reference, &current, &ReportConfig::default()).unwrap();
    let html = report.to_html();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(!html.contains("<script"), "raw script tag in the page");
    assert!(!html.contains("<img"), "raw img tag in the page");
    assert!(!html.contains("<b>"), "raw b tag in the page");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("&lt;img src=x onerror=alert(2)&gt;"));
    assert!(html.contains("x&quot;&amp;&#39;"));
    assert_eq!(
        html.matches("http").count(),
        html.matches("http://www.w3.org/2000/svg").count()
    );
    assert!(
        !html.contains("src=\"") && !html.contains("href=\"http"),
        "no external assets"
    );
    assert_eq!(html.matches("<svg").count(), 2);
    assert!(html.contains("<style>"));
}

#[test]
fn html_lists_drifted_columns_first() {
    let (reference, current) = (table(false), table(true));
    let config = ReportConfig::default()
        .with_threshold("segment", Threshold::StatisticAtLeast(f64::NEG_INFINITY))
        .with_threshold("num", Threshold::StatisticAbove(f64::INFINITY));
    let report = drift_report(&reference, &current, &config).unwrap();
    let html = report.to_html();
    let table_start = html.find("<tbody>").unwrap();
    let row = |name: &str| html[table_start..].find(&format!(">{name}</a>")).unwrap();
    if report.column("segment").unwrap().drifted() {
        assert!(row("segment") < row("num"));
    }
    assert!(row("num") < html.len());
}

fn stream_batches(batch: &RecordBatch, sizes: &[usize]) -> Vec<RecordBatch> {
    let mut out = Vec::new();
    let mut offset = 0;
    for &size in sizes {
        let size = size.min(batch.num_rows() - offset);
        out.push(batch.slice(offset, size));
        offset += size;
    }
    assert_eq!(offset, batch.num_rows(), "sizes must cover the batch");
    out
}

/// Every window report equals the batch report on the concatenated window.
fn check_windows(window: Window, sizes: &[usize], expected_spans: &[(u64, u64, bool)]) {
    let (reference, current) = (table(false), table(true));
    let config = ReportConfig::default()
        .with_method("num", Method::Ks)
        .with_threads(NonZeroUsize::new(2).unwrap());
    let mut drift = WindowedDrift::new(&reference, config.clone(), window).unwrap();
    let mut reports = Vec::new();
    for batch in stream_batches(&current, sizes) {
        reports.extend(drift.push(&batch).unwrap());
    }
    assert_eq!(drift.rows_seen(), N_CUR as u64);
    reports.extend(drift.finish().unwrap());
    let spans: Vec<(u64, u64, bool)> = reports
        .iter()
        .map(|w| (w.start_row, w.end_row, w.complete))
        .collect();
    assert_eq!(spans, expected_spans);
    for (i, w) in reports.iter().enumerate() {
        let (start, end) = (w.start_row as usize, w.end_row as usize);
        let by_hand =
            concat_batches(&current.schema(), &[current.slice(start, end - start)]).unwrap();
        let expected = drift_report(&reference, &by_hand, &config).unwrap();
        assert_eq!(
            json(&w.report),
            json(&expected),
            "window {i} [{start}, {end})"
        );
        if let Window::Sliding { step, .. } = window {
            assert_eq!(w.index, w.start_row / step as u64);
        } else {
            assert_eq!(w.index, i as u64);
        }
    }
}

#[test]
fn tumbling_windows_span_batches() {
    check_windows(
        Window::Tumbling { rows: 50 },
        &[17, 40, 3, 90, 25, 65],
        &[
            (0, 50, true),
            (50, 100, true),
            (100, 150, true),
            (150, 200, true),
            (200, 240, false),
        ],
    );
    // One batch completing several windows, and a stream that ends on a window boundary.
    check_windows(
        Window::Tumbling { rows: 60 },
        &[240],
        &[
            (0, 60, true),
            (60, 120, true),
            (120, 180, true),
            (180, 240, true),
        ],
    );
}

#[test]
fn sliding_windows_overlap_and_hop() {
    check_windows(
        Window::Sliding {
            rows: 100,
            step: 45,
        },
        &[30, 30, 30, 30, 120],
        &[
            (0, 100, true),
            (45, 145, true),
            (90, 190, true),
            (135, 235, true),
            (180, 240, false),
        ],
    );
    // Gaps between windows: rows 30..70, 100..140 and 170..210 are never tested.
    check_windows(
        Window::Sliding { rows: 30, step: 70 },
        &[1, 5, 100, 7, 127],
        &[
            (0, 30, true),
            (70, 100, true),
            (140, 170, true),
            (210, 240, true),
        ],
    );
    check_windows(
        Window::Sliding { rows: 30, step: 70 },
        &[200, 20, 20],
        &[
            (0, 30, true),
            (70, 100, true),
            (140, 170, true),
            (210, 240, true),
        ],
    );
    check_windows(
        Window::Sliding { rows: 30, step: 70 },
        &[225, 15],
        &[
            (0, 30, true),
            (70, 100, true),
            (140, 170, true),
            (210, 240, true),
        ],
    );
}

#[test]
fn window_errors() {
    let reference = table(false);
    let config = ReportConfig::default();
    assert!(matches!(
        WindowedDrift::new(&reference, config.clone(), Window::Tumbling { rows: 0 }),
        Err(Error::InvalidParameter { .. })
    ));
    assert!(matches!(
        WindowedDrift::new(
            &reference,
            config.clone(),
            Window::Sliding { rows: 5, step: 0 }
        ),
        Err(Error::InvalidParameter { .. })
    ));
    let mut drift = WindowedDrift::new(&reference, config, Window::Tumbling { rows: 10 }).unwrap();
    let current = table(true);
    let err = drift.push(&current.project(&[0, 1]).unwrap()).unwrap_err();
    assert!(
        matches!(&err, Error::MissingColumn { column, .. } if column == "grade"),
        "{err}"
    );
    assert_eq!(drift.rows_seen(), 0);
    assert!(drift.push(&current.slice(0, 0)).unwrap().is_empty());
    assert!(drift.finish().unwrap().is_none());
}

fn shuffled(batch: &RecordBatch, seed: u64) -> RecordBatch {
    let mut order: Vec<u32> = (0..batch.num_rows() as u32).collect();
    order.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    take_record_batch(batch, &UInt32Array::from(order)).unwrap()
}

fn small_table(values: &[Option<f64>], labels: &[Option<u8>]) -> RecordBatch {
    let n = values.len().min(labels.len());
    let s = schema(&[
        ("x", DataType::Float64),
        ("k", DataType::Utf8),
        ("i", DataType::Int64),
    ]);
    let x: Float64Array = values[..n].iter().copied().collect();
    let k: StringArray = labels[..n]
        .iter()
        .map(|l| l.map(|l| format!("c{}", l % 5)))
        .collect();
    let i: Int64Array = values[..n]
        .iter()
        .map(|v| v.map(|v| v.round() as i64))
        .collect();
    RecordBatch::try_new(s, vec![Arc::new(x), Arc::new(k), Arc::new(i)]).unwrap()
}

fn value() -> impl Strategy<Value = Option<f64>> {
    prop_oneof![
        8 => (-50.0f64..50.0).prop_map(Some),
        1 => Just(None),
        1 => Just(Some(f64::NAN)),
        1 => (0i32..4).prop_map(|v| Some(f64::from(v))),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn report_is_invariant_to_row_order(
        ref_values in prop::collection::vec(value(), 2..80),
        ref_labels in prop::collection::vec(prop::option::weighted(0.9, any::<u8>()), 80),
        cur_values in prop::collection::vec(value(), 2..80),
        cur_labels in prop::collection::vec(prop::option::weighted(0.9, any::<u8>()), 80),
        seed in any::<u64>(),
        method in prop_oneof![
            Just(None), Just(Some(Method::Ks)), Just(Some(Method::Wasserstein)),
            Just(Some(Method::Psi)), Just(Some(Method::JensenShannon)), Just(Some(Method::ChiSquare)),
        ],
    ) {
        let reference = small_table(&ref_values, &ref_labels);
        let current = small_table(&cur_values, &cur_labels);
        let mut config = ReportConfig::default();
        if let Some(m) = method {
            if m.input() != MethodInput::Numeric {
                config = config.with_method("k", m);
            }
            config = config.with_method("x", m);
        }
        let report = drift_report(&reference, &current, &config).unwrap();
        let permuted = drift_report(&shuffled(&reference, seed), &shuffled(&current, seed ^ 1), &config).unwrap();
        prop_assert_eq!(json(&report), json(&permuted));
        prop_assert_eq!(report.columns.len(), 3);
    }
}
