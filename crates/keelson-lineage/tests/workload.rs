//! The benchmark workload format through the public API: the anchor's
//! `workload.json` and two hand-written variants (other step counts,
//! outputs per step, names, formulas, an INT filter property, a shorter
//! hop limit) give the same expected result sizes, names, uris, property
//! values and filter texts as the reference runner (`bench_mlmd.py`);
//! bad files are refused with errors naming the field; the results JSON
//! matches the anchor's `results.json`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use keelson_lineage::Error;
use keelson_lineage::workload::{
    BenchReport, EdgeCounts, Ingest, LatencySummary, NodeCounts, PropertyKind, PropertyValue,
    Workload, python_float_repr, query_run,
};
use serde_json::{Value, json};

fn anchors() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/anchors/lineage")
}

fn seeds() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds/lineage_workload")
}

fn read(path: PathBuf) -> Vec<u8> {
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The hand-written variants, as written into a temporary directory and
/// read back like any workload file given on a command line.
fn variants() -> Vec<(String, Workload)> {
    // A directory per call: the tests calling this run in parallel.
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    ["variant_three_steps.json", "variant_short_hops.json"]
        .into_iter()
        .map(|name| {
            let path = dir.join(name);
            std::fs::write(&path, read(seeds().join(name))).unwrap();
            let workload = Workload::from_json(&read(path)).unwrap();
            (name.to_owned(), workload)
        })
        .collect()
}

fn lineage_v1() -> Workload {
    Workload::from_json(&read(anchors().join("workload.json"))).unwrap()
}

fn lineage(artifacts: u64, executions: u64, events: u64) -> Value {
    json!({"artifacts": artifacts, "executions": executions, "events": events, "contexts": 1})
}

/// Recorded from `python3 bench_mlmd.py --workload W --runs 50 --runs 1000
/// --runs 10000 --expected`: (per-run counts, then per N: the
/// filter_model_score count), and the N-independent sizes.
#[test]
fn expected_sizes_match_the_reference_runner() {
    let mut cases = vec![(
        "lineage-v1",
        lineage_v1(),
        json!({"contexts": 1, "executions": 5, "artifacts": 10, "nodes": 16, "events": 18,
               "attributions": 10, "associations": 5, "edges": 33, "nodes_plus_edges": 49}),
        [(50, 2), (1000, 49), (10000, 490)],
        (10, 5, 1, lineage(9, 5, 17), lineage(10, 5, 18)),
    )];
    let mut variants = variants().into_iter();
    let (_, three) = variants.next().unwrap();
    let (_, short) = variants.next().unwrap();
    cases.push((
        "variant-three-steps",
        three,
        json!({"contexts": 1, "executions": 3, "artifacts": 6, "nodes": 10, "events": 10,
               "attributions": 6, "associations": 3, "edges": 19, "nodes_plus_edges": 29}),
        [(50, 0), (1000, 198), (10000, 1980)],
        (6, 3, 2, lineage(5, 3, 9), lineage(6, 3, 10)),
    ));
    cases.push((
        "variant-short-hops",
        short,
        json!({"contexts": 1, "executions": 4, "artifacts": 7, "nodes": 12, "events": 13,
               "attributions": 7, "associations": 4, "edges": 24, "nodes_plus_edges": 36}),
        [(50, 18), (1000, 390), (10000, 3900)],
        (7, 4, 2, lineage(3, 2, 5), lineage(6, 4, 12)),
    ));
    for (name, workload, per_run, filtered, (arts, execs, by_name, up, bi)) in cases {
        assert_eq!(workload.name(), name);
        assert_eq!(
            serde_json::to_value(workload.per_run_counts()).unwrap(),
            per_run
        );
        for (runs, above) in filtered {
            let expected = workload.expected(runs).unwrap();
            assert_eq!(
                serde_json::to_value(expected).unwrap(),
                json!({
                    "artifacts_by_context": arts, "executions_by_context": execs,
                    "artifact_by_uri": 1, "filter_model_score": above,
                    "filter_by_context_name": by_name,
                    "lineage_upstream_from_pushed_model": up,
                    "lineage_bidirectional_from_model": bi,
                }),
                "{name} at {runs} runs"
            );
        }
    }
}

fn props(properties: &[keelson_lineage::workload::Property]) -> Vec<(String, PropertyValue)> {
    properties
        .iter()
        .map(|p| (p.name.to_string(), p.value.clone()))
        .collect()
}

use PropertyValue::{Double, Int, String as Text};

/// Values printed by the reference runner's `Workload` class for run 1234
/// (context, last execution, last output) and query k = 3 at 1000 runs.
#[test]
fn generated_values_match_the_reference_runner() {
    let mut variants = variants().into_iter();
    let (_, three) = variants.next().unwrap();
    let (_, short) = variants.next().unwrap();
    let cases = vec![
        (
            lineage_v1(),
            "type = 'Model' AND properties.score.double_value > 0.95",
            "run-0001234",
            vec![
                ("pipeline_name", Text("pipeline-4".into())),
                ("run_index", Int(1234)),
                ("start_time_s", Double(1_700_074_040.0)),
            ],
            "run-0001234-push",
            vec![
                ("component_version", Text("v5.0".into())),
                ("duration_s", Double(10.2)),
                ("run_index", Int(1234)),
            ],
            (
                "report",
                "run-0001234-report",
                "mem://pipelines/run-0001234/push/report",
            ),
            vec![
                ("format", Text("pushreport".into())),
                ("score", Double(0.975)),
                ("size_bytes", Int(39283)),
            ],
            (
                936,
                "contexts_a.name = 'run-0000936' AND type = 'Model'",
                "mem://pipelines/run-0000936/train/model",
            ),
        ),
        (
            three,
            "type = 'Checkpoint' AND properties.bytes.int_value > 900",
            "exp-01234",
            vec![("owner", Text("team-1".into())), ("seed", Int(20981))],
            "exp-01234-check-fitter",
            vec![("attempt", Int(1)), ("cost", Double(529.142_857_142_857_1))],
            (
                "plots",
                "exp-01234-plots",
                "s3://bucket/Blob/00003703/plots",
            ),
            vec![
                ("bytes", Int(665)),
                ("label", Text("blob-1".into())),
                ("quality", Double(0.341)),
            ],
            (
                936,
                "contexts_a.name = 'exp-00936' AND type = 'Checkpoint'",
                "s3://bucket/Checkpoint/00002808/weights",
            ),
        ),
        (
            short,
            "type = 'Net' AND properties.acc.double_value > 0.8",
            "job_1234",
            vec![("started", Double(1851.25))],
            "job_1234_3",
            vec![("tag", Text("d@StepD".into()))],
            ("d0", "job_1234_d0", "file:///jobs/1234/3/0"),
            vec![("acc", Double(0.315))],
            (
                936,
                "contexts_a.name = 'job_936' AND type = 'Net'",
                "file:///jobs/936/2/1",
            ),
        ),
    ];
    for (
        w,
        filter,
        ctx,
        ctx_props,
        exec,
        exec_props,
        (key, art, uri),
        art_props,
        (r, by_name, quri),
    ) in cases
    {
        let owned = |v: Vec<(&str, PropertyValue)>| -> Vec<(String, PropertyValue)> {
            v.into_iter().map(|(n, v)| (n.to_owned(), v)).collect()
        };
        assert_eq!(w.filter_model_score(), filter);
        keelson_lineage::filter::parse(filter).unwrap();
        let run = w.run(1234).unwrap();
        assert_eq!(run.context.name, ctx);
        assert_eq!(props(&run.context.properties), owned(ctx_props));
        let last = run.steps.last().unwrap();
        assert_eq!(last.execution.name, exec);
        assert_eq!(props(&last.execution.properties), owned(exec_props));
        let output = last.outputs.last().unwrap();
        assert_eq!((&*output.key, &*output.name, &*output.uri), (key, art, uri));
        assert_eq!(props(&output.properties), owned(art_props));
        assert_eq!(w.artifact(1234, key).unwrap().as_ref(), Some(output));
        let targets = w.query_targets(3, 1000).unwrap();
        assert_eq!(targets.run, r);
        assert_eq!(targets.filter_by_context_name, by_name);
        assert_eq!(targets.uri, quri);
        assert_eq!(targets.context_name, w.context_name(r).unwrap());
        keelson_lineage::filter::parse(&targets.filter_by_context_name).unwrap();
    }
}

#[test]
fn a_run_is_a_chain_where_each_step_reads_all_outputs_of_the_previous_one() {
    let (_, w) = variants().remove(0);
    let run = w.run(2).unwrap();
    let keys = |s: usize| -> Vec<String> {
        run.steps[s]
            .outputs
            .iter()
            .map(|o| o.key.to_string())
            .collect()
    };
    assert_eq!(keys(0), ["raw"]);
    assert_eq!(keys(1), ["weights", "curve", "ckpt_best"]);
    assert!(run.steps[0].inputs.is_empty());
    let inputs: Vec<String> = run.steps[2].inputs.iter().map(|k| k.to_string()).collect();
    assert_eq!(inputs, keys(1));
    assert_eq!(run.steps[2].execution.type_name.as_ref(), "Fitter");
    assert_eq!(run.steps[2].execution.last_known_state, "CACHED");
    assert_eq!(run.steps[2].execution.last_known_state_code, 5);
    assert_eq!(run.steps[1].outputs[0].state, "REFERENCE");
    assert_eq!(run.steps[1].outputs[0].state_code, 6);
    // Types are registered once each, with their base types.
    let names = |types: &[keelson_lineage::workload::TypeDef]| -> Vec<(String, Option<&str>)> {
        types
            .iter()
            .map(|t| (t.name.to_string(), t.base_type))
            .collect()
    };
    assert_eq!(
        names(w.execution_types()),
        [("Fetcher".into(), None), ("Fitter".into(), None)]
    );
    assert_eq!(
        names(w.artifact_types()),
        [
            ("Blob".into(), None),
            ("Checkpoint".into(), Some("MODEL")),
            ("Report".into(), Some("METRICS")),
        ]
    );
    let kinds: Vec<PropertyKind> = w.artifact_types()[0]
        .properties
        .iter()
        .map(|p| p.1)
        .collect();
    assert_eq!(
        kinds,
        [
            PropertyKind::Int,
            PropertyKind::String,
            PropertyKind::Double
        ]
    );
    assert_eq!(w.context_type().name.as_ref(), "Experiment");
    assert_eq!(w.output_position("ckpt_best"), Some((1, 2)));
    assert_eq!(w.output_position("nope"), None);
    assert_eq!(w.artifact(0, "nope").unwrap(), None);
}

#[test]
fn query_runs_follow_the_formula() {
    assert_eq!(query_run(0, 1000), Some(17));
    assert_eq!(query_run(3, 1000), Some(936));
    assert_eq!(query_run(104, 50), Some((104 * 9973 + 17) % 50));
    assert_eq!(
        query_run(u64::MAX, 7),
        Some(((u128::from(u64::MAX) * 9973 + 17) % 7) as u64)
    );
    assert_eq!(query_run(1, 0), None);
    assert!(lineage_v1().query_targets(0, 0).is_err());
}

/// A workload file edited by `edit`, as bytes.
fn edited(edit: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut doc: Value =
        serde_json::from_slice(&read(seeds().join("variant_three_steps.json"))).unwrap();
    edit(&mut doc);
    serde_json::to_vec(&doc).unwrap()
}

fn refused(bytes: &[u8]) -> (String, String) {
    match Workload::from_json(bytes) {
        Err(Error::Workload(e)) => (e.field, e.message),
        other => panic!("expected a workload error, got {other:?}"),
    }
}

#[test]
fn bad_files_are_refused_with_the_field_named() {
    type Edit = Box<dyn FnOnce(&mut Value)>;
    let cases: Vec<(Edit, &str, &str)> = vec![
        (
            Box::new(|d| d["format"] = json!("lineage-workload/1")),
            "format",
            "lineage-workload/2",
        ),
        (
            Box::new(|d| d["steps"][1]["outputs"][1] = json!(["curve"])),
            "steps[1].outputs[1]",
            "",
        ),
        (
            Box::new(|d| d["steps"][2]["outputs"][0][0] = json!("raw")),
            "steps[2].outputs[0]",
            "steps[0].outputs[0]",
        ),
        (
            Box::new(|d| d["steps"][2]["s"] = json!(7)),
            "steps[2].s",
            "0..2",
        ),
        (
            Box::new(|d| d["steps"][1]["s"] = json!(0)),
            ".s",
            "numbering",
        ),
        (
            Box::new(|d| d["steps"] = json!([])),
            "steps",
            "at least one",
        ),
        (
            Box::new(|d| d["steps"][0]["outputs"] = json!([])),
            "steps[0].outputs",
            "at least one",
        ),
        (
            Box::new(|d| d["artifact_types"]["properties"]["bytes"] = json!("FLOAT")),
            "artifact_types.properties.bytes",
            "STRING, INT or DOUBLE",
        ),
        (
            Box::new(|d| d["artifact_types"]["base_types"]["Checkpoint"] = json!("NETWORK")),
            "artifact_types.base_types.Checkpoint",
            "MODEL",
        ),
        (
            Box::new(|d| d["artifact_types"]["base_types"]["Ghost"] = json!("MODEL")),
            "artifact_types.base_types.Ghost",
            "not the artifact type",
        ),
        (
            Box::new(|d| {
                d["artifact_types"]["instance"]
                    .as_object_mut()
                    .unwrap()
                    .remove("quality");
            }),
            "artifact_types.instance.quality",
            "missing",
        ),
        (
            Box::new(|d| d["artifact_types"]["instance"]["extra"] = json!("1")),
            "artifact_types.instance.extra",
            "neither",
        ),
        (
            Box::new(|d| d["artifact_types"]["instance"]["bytes"] = json!("i / 2")),
            "artifact_types.instance.bytes",
            "INT property",
        ),
        (
            Box::new(|d| d["artifact_types"]["instance"]["bytes"] = json!("i +")),
            "artifact_types.instance.bytes",
            "column 4",
        ),
        (
            Box::new(|d| d["artifact_types"]["instance"]["bytes"] = json!("-i")),
            "artifact_types.instance.bytes",
            "column 1",
        ),
        (
            Box::new(|d| d["artifact_types"]["instance"]["bytes"] = json!("i ** 2")),
            "artifact_types.instance.bytes",
            "column 4",
        ),
        (
            Box::new(|d| d["artifact_types"]["instance"]["bytes"] = json!("k + 1")),
            "artifact_types.instance.bytes",
            "unknown variable `k`",
        ),
        (
            Box::new(|d| d["artifact_types"]["instance"]["bytes"] = json!("99999999999999999999")),
            "artifact_types.instance.bytes",
            "64 bits",
        ),
        (
            Box::new(|d| d["artifact_types"]["instance"]["bytes"] = json!(5)),
            "artifact_types.instance.bytes",
            "string",
        ),
        (
            Box::new(|d| d["execution_types"]["instance"]["cost"] = json!("j")),
            "execution_types.instance.cost",
            "unknown variable `j`",
        ),
        (
            Box::new(|d| d["execution_types"]["instance"]["name"] = json!("{key}")),
            "execution_types.instance.name",
            "{key}",
        ),
        (
            Box::new(|d| d["execution_types"]["instance"]["last_known_state"] = json!("DONE")),
            "execution_types.instance.last_known_state",
            "COMPLETE",
        ),
        (
            Box::new(|d| d["artifact_types"]["instance"]["state"] = json!("COMPLETE")),
            "artifact_types.instance.state",
            "LIVE",
        ),
        (
            Box::new(|d| d["context_type"]["instance"]["name"] = json!("run-{i:7d}")),
            "context_type.instance.name",
            "format spec",
        ),
        (
            Box::new(|d| d["context_type"]["instance"]["name"] = json!("run-{i / 2}")),
            "context_type.instance.name",
            "not an integer",
        ),
        (
            Box::new(|d| d["context_type"]["instance"]["name"] = json!("run-{step}")),
            "context_type.instance.name",
            "{step}",
        ),
        (
            Box::new(|d| d["context_type"]["instance"]["name"] = json!("run-{i:0999d}")),
            "context_type.instance.name",
            "64",
        ),
        (
            Box::new(|d| {
                d["context_type"]["properties"]["name"] = json!("STRING");
            }),
            "context_type.properties.name",
            "node field",
        ),
        (
            Box::new(|d| d["query_targets"]["uri_output_key"] = json!("model")),
            "query_targets.uri_output_key",
            "\"model\"",
        ),
        (
            Box::new(|d| d["query_targets"]["filter_artifact_type"] = json!("Model")),
            "query_targets.filter_artifact_type",
            "\"Model\"",
        ),
        (
            Box::new(|d| d["query_targets"]["filter_property"] = json!("label")),
            "query_targets.filter_property",
            "INT or DOUBLE",
        ),
        (
            Box::new(|d| d["query_targets"]["filter_threshold"] = json!("0.5")),
            "query_targets.filter_threshold",
            "",
        ),
        (
            Box::new(|d| d["query_targets"]["lineage_max_num_hops"] = json!(-1)),
            "query_targets.lineage_max_num_hops",
            "",
        ),
        (
            Box::new(|d| {
                d["query_targets"]
                    .as_object_mut()
                    .unwrap()
                    .remove("bidirectional_start_output_key");
            }),
            "query_targets",
            "bidirectional_start_output_key",
        ),
        (
            Box::new(|d| d["per_run_counts"]["events"] = json!(11)),
            "per_run_counts.events",
            "10",
        ),
    ];
    for (edit, field, message) in cases {
        let bytes = edited(edit);
        let (got_field, got_message) = refused(&bytes);
        assert!(
            got_field.contains(field)
                && (got_message.contains(message) || got_field.contains(message)),
            "expected {field:?} / {message:?}, got {got_field:?}: {got_message}"
        );
    }
    assert_eq!(refused(b"{").0, "(file)");
    assert_eq!(refused(b"[]").0, "(file)");
    assert_eq!(
        refused(
            &edited(|_| {})
                .iter()
                .copied()
                .chain(*b" x")
                .collect::<Vec<_>>()
        )
        .0,
        "(file)"
    );
    let err = Workload::from_json(&edited(|d| d["steps"][1]["outputs"][1] = json!(5))).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("workload steps[1].outputs[1]: "),
        "{err}"
    );
}

#[test]
fn formulas_that_fail_for_a_run_are_errors_naming_the_field_and_run() {
    let w = Workload::from_json(&edited(|d| {
        d["artifact_types"]["instance"]["bytes"] = json!("9223372036854775807 - 2 + i");
        d["execution_types"]["instance"]["cost"] = json!("1 / (i - 3)");
        d["context_type"]["instance"]["seed"] = json!("100 % (i - 4)");
    }))
    .unwrap();
    w.run(0).unwrap();
    let message = |run: u64| match w.run(run) {
        Err(Error::Workload(e)) => format!("{}: {}", e.field, e.message),
        other => panic!("run {run}: expected an error, got {other:?}"),
    };
    let overflow = message(3);
    assert!(
        overflow.starts_with("execution_types.instance.cost: run 3"),
        "{overflow}"
    );
    assert!(overflow.contains("division by zero"), "{overflow}");
    let rem = message(4);
    assert!(
        rem.starts_with("context_type.instance.seed: run 4"),
        "{rem}"
    );
    let big = message(5);
    assert!(
        big.starts_with("artifact_types.instance.bytes: run 5, step 0 (fetch), output 0 (raw)"),
        "{big}"
    );
    assert!(big.contains("overflows"), "{big}");
    // The filter property is evaluated for the expected sizes too.
    assert!(w.expected(2).is_ok());
    assert!(
        matches!(w.expected(6), Err(Error::Workload(e)) if e.field == "artifact_types.instance.bytes")
    );
}

#[test]
fn integer_formulas_are_exact_and_remainders_floor_as_in_python() {
    let w = Workload::from_json(&edited(|d| {
        d["context_type"]["instance"]["seed"] = json!("(i - 10) % 3 * 1000000007 * 1000000007");
        d["context_type"]["instance"]["owner"] = json!("{i - 10:05d}|{(i-10)%(0-3)}|{{i}|{i}}|{");
    }))
    .unwrap();
    let ctx = w.run(2).unwrap().context;
    // Python: (2 - 10) % 3 == 1; 1000000007**2 needs 60 bits, exactly.
    assert_eq!(ctx.properties[1].value, Int(1_000_000_014_000_000_049));
    // Zero padding counts the sign; `%` takes the sign of the divisor; a
    // `{` without its `}` is text.
    assert_eq!(ctx.properties[0].value, Text("-0008|-2|{2|2}|{".into()));
}

#[test]
fn thresholds_print_as_python_prints_them() {
    for (value, text) in [
        (0.95, "0.95"),
        (1.0, "1.0"),
        (100.0, "100.0"),
        (0.0001, "0.0001"),
        (0.00001, "1e-05"),
        (1.5e-7, "1.5e-07"),
        (1e16, "1e+16"),
        (1.2345e17, "1.2345e+17"),
        (123_456_789.125, "123456789.125"),
        (-0.5, "-0.5"),
        (0.0, "0.0"),
    ] {
        assert_eq!(python_float_repr(value), text);
    }
    let with = |threshold: Value| {
        Workload::from_json(&edited(|d| {
            d["query_targets"]["filter_property"] = json!("quality");
            d["query_targets"]["filter_threshold"] = threshold;
        }))
        .unwrap()
    };
    let tiny = with(json!(0.00001));
    assert_eq!(
        tiny.filter_model_score(),
        "type = 'Checkpoint' AND properties.quality.double_value > 1e-05"
    );
    keelson_lineage::filter::parse(&tiny.filter_model_score()).unwrap();
    // An integer threshold against a DOUBLE property: exact comparison.
    let whole = with(json!(0));
    assert!(whole.filter_model_score().ends_with("> 0"));
    // quality = (i % 100) / 100 + j * 0.001 > 0 for every Checkpoint output
    // (j = 0 and 2) except j = 0 of runs 0, 100, ...
    assert_eq!(whole.expected(200).unwrap().filter_model_score, 2 * 200 - 2);
}

#[test]
fn odd_names_are_quoted_in_the_filter_texts() {
    let w = Workload::from_json(&edited(|d| {
        d["context_type"]["instance"]["name"] = json!("it's-{i}");
        d["artifact_types"]["properties"] =
            json!({"size in bytes": "INT", "label": "STRING", "quality": "DOUBLE"});
        d["artifact_types"]["instance"]["size in bytes"] = json!("i");
        d["artifact_types"]["instance"]
            .as_object_mut()
            .unwrap()
            .remove("bytes");
        d["query_targets"]["filter_property"] = json!("size in bytes");
        d.as_object_mut().unwrap().remove("per_run_counts");
    }))
    .unwrap();
    assert_eq!(
        w.filter_model_score(),
        "type = 'Checkpoint' AND properties.`size in bytes`.int_value > 900"
    );
    let t = w.query_targets(0, 10).unwrap();
    assert_eq!(
        t.filter_by_context_name,
        "contexts_a.name = 'it''s-7' AND type = 'Checkpoint'"
    );
    keelson_lineage::filter::parse(&t.filter_by_context_name).unwrap();
}

#[test]
fn the_anchor_results_file_reads_into_the_report_structs_and_back() {
    let text = read(anchors().join("results.json"));
    let original: Value = serde_json::from_slice(&text).unwrap();
    let report: BenchReport = serde_json::from_slice(&text).unwrap();
    assert_eq!(report.workload, "lineage-v1");
    assert!(!report.scales.is_empty());
    let printed = serde_json::to_value(&report).unwrap();
    // Every field we print is in the anchor's file, with the same value.
    fn subset(ours: &Value, theirs: &Value, at: &str) {
        match (ours, theirs) {
            (Value::Object(a), Value::Object(b)) => {
                for (k, v) in a {
                    let other = b
                        .get(k)
                        .unwrap_or_else(|| panic!("{at}.{k} is not in results.json"));
                    subset(v, other, &format!("{at}.{k}"));
                }
            }
            (Value::Array(a), Value::Array(b)) => {
                assert_eq!(a.len(), b.len(), "{at}");
                for (n, (x, y)) in a.iter().zip(b).enumerate() {
                    subset(x, y, &format!("{at}[{n}]"));
                }
            }
            (Value::Number(a), Value::Number(b)) => {
                assert_eq!(a.as_f64(), b.as_f64(), "{at}");
            }
            _ => assert_eq!(ours, theirs, "{at}"),
        }
    }
    subset(&printed, &original, "");
    let scale = &report.scales[0];
    let queries = scale.queries.as_ref().unwrap();
    assert_eq!(
        serde_json::to_value(queries.lineage_upstream_from_pushed_model.result_size).unwrap(),
        lineage(9, 5, 17)
    );
    assert_eq!(
        serde_json::to_value(queries.artifacts_by_context.result_size).unwrap(),
        json!(10)
    );
}

#[test]
fn the_ingest_block_is_derived_from_counts_and_latencies() {
    let per_run = lineage_v1().per_run_counts();
    let nodes = NodeCounts::for_runs(&per_run, 1000);
    let edges = EdgeCounts::for_runs(&per_run, 1000);
    assert_eq!(
        (nodes.total, edges.total, edges.events),
        (16_000, 33_000, 18_000)
    );
    let calls = vec![0.002; 5000];
    let ingest = Ingest::new(10.0, 1000, &nodes, &edges, &calls).unwrap();
    assert_eq!(ingest.put_execution_calls, 5000);
    assert_eq!(ingest.calls_per_s, 500.0);
    assert_eq!(ingest.runs_per_s, 100.0);
    assert_eq!(ingest.nodes_plus_edges_per_s, 4900.0);
    assert_eq!(ingest.call_latency.median_ms, 2.0);
    assert!(Ingest::new(0.0, 1, &nodes, &edges, &calls).is_none());
    assert!(Ingest::new(1.0, 1, &nodes, &edges, &[]).is_none());
}

#[test]
fn latency_summary_uses_the_nearest_rank_p99() {
    // 1..=100 ms, shuffled.
    let samples: Vec<f64> = (0..100)
        .map(|k| f64::from((k * 37) % 100 + 1) / 1000.0)
        .collect();
    let s = LatencySummary::from_seconds(&samples).unwrap();
    assert_eq!(
        (s.n, s.median_ms, s.p99_ms, s.mean_ms, s.max_ms),
        (100, 50.5, 99.0, 50.5, 100.0)
    );
    let s = LatencySummary::from_seconds(&[0.003, 0.001, 0.002]).unwrap();
    assert_eq!((s.n, s.median_ms, s.p99_ms, s.max_ms), (3, 2.0, 3.0, 3.0));
    let one = LatencySummary::from_seconds(&[0.000_123_45]).unwrap();
    assert_eq!((one.median_ms, one.p99_ms), (0.1235, 0.1235));
    // 200 samples: rank 198.
    let samples: Vec<f64> = (1..=200).map(|k| f64::from(k) / 1000.0).collect();
    assert_eq!(
        LatencySummary::from_seconds(&samples).unwrap().p99_ms,
        198.0
    );
    assert!(LatencySummary::from_seconds(&[]).is_none());
}
