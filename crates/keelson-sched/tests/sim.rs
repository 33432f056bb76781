//! The simulator: hand-computed scenarios per policy, parser errors, and
//! determinism.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use keelson_sched::Error;
use keelson_sched::sim::{
    GeneratorConfig, LasConfig, Options, Policy, Report, Simulator, generate, kueue_baseline,
    parse_cluster, parse_queues, parse_trace, write_cluster, write_trace,
};

const TRACE: &str = "id,submit_s,duration_s,pods,gpus_per_pod,cpu_milli_per_pod,memory_mib_per_pod,queue,priority\n";
const CLUSTER: &str = "node,gpus,cpu_milli,memory_mib,gpu_model,zone,block,rack\n";

/// One node of 8 GPUs.
fn one_node() -> String {
    format!("{CLUSTER}n1,8,64000,262144,H100,z,b,r\n")
}

fn run(trace_rows: &str, cluster: &str, options: Options) -> Report {
    let jobs = parse_trace("t.csv", &format!("{TRACE}{trace_rows}")).unwrap();
    let nodes = parse_cluster("c.csv", cluster).unwrap();
    Simulator::new(jobs, &nodes, options)
        .unwrap()
        .run()
        .unwrap()
}

/// (start, finish) in seconds of job `id`.
fn times(r: &Report, id: &str) -> (u64, u64) {
    let o = r.jobs.iter().find(|o| o.id == id).unwrap();
    (o.start_ms.unwrap() / 1000, o.finish_ms.unwrap() / 1000)
}

/// `big` holds 6 of 8 GPUs until 100 s; the head `all8` needs all 8;
/// `long2` fits now but would still hold 2 GPUs at 100 s; `short2`
/// finishes before 100 s.
const BLOCKED_HEAD: &str = "big,0,100,1,6,1000,1024,q,0\n\
    all8,1,50,1,8,1000,1024,q,0\n\
    long2,2,200,1,2,1000,1024,q,0\n\
    short2,3,50,1,2,1000,1024,q,0\n";

#[test]
fn fifo_blocks_behind_its_head() {
    let r = run(BLOCKED_HEAD, &one_node(), Options::new(Policy::Fifo));
    assert_eq!(times(&r, "big"), (0, 100));
    assert_eq!(times(&r, "all8"), (100, 150));
    assert_eq!(times(&r, "long2"), (150, 350));
    assert_eq!(times(&r, "short2"), (150, 200));
    assert_eq!(r.summary.makespan_s, 350.0);
}

#[test]
fn backfill_starts_only_jobs_that_do_not_delay_the_head() {
    let r = run(BLOCKED_HEAD, &one_node(), Options::new(Policy::Backfill));
    assert_eq!(times(&r, "short2"), (3, 53), "ends before the reservation");
    assert_eq!(times(&r, "all8"), (100, 150), "the head is not delayed");
    assert_eq!(
        times(&r, "long2"),
        (150, 350),
        "would hold GPUs the head needs"
    );
    let fifo = run(BLOCKED_HEAD, &one_node(), Options::new(Policy::Fifo));
    assert!(r.summary.avg_jct_s < fifo.summary.avg_jct_s);
}

#[test]
fn backfill_may_run_past_the_reservation_on_gpus_the_head_does_not_need() {
    // The head needs 4 GPUs at 100 s; 8 will be free then, so a 2-GPU job
    // running past 100 s still leaves it room.
    let rows = "big,0,100,1,6,1000,1024,q,0\n\
        four,1,50,1,4,1000,1024,q,0\n\
        long2,2,200,1,2,1000,1024,q,0\n";
    let r = run(rows, &one_node(), Options::new(Policy::Backfill));
    assert_eq!(times(&r, "long2"), (2, 202));
    assert_eq!(times(&r, "four"), (100, 150));
}

fn las(thresholds: Vec<u64>, quantum_ms: u64) -> Options {
    Options {
        las: LasConfig {
            thresholds_gpu_s: thresholds,
            quantum_ms,
        },
        ..Options::new(Policy::Las)
    }
}

#[test]
fn las_preempts_a_demoted_long_job_for_a_short_one() {
    // `long` reaches 10 GPU-seconds at 10 s and drops to queue 1 at that
    // quantum boundary; `short` arrives in queue 0 at 20 s and preempts it.
    let rows = "long,0,100,1,8,1000,1024,q,0\nshort,20,5,1,8,1000,1024,q,0\n";
    let r = run(rows, &one_node(), las(vec![80], 1_000));
    assert_eq!(times(&r, "short"), (20, 25));
    assert_eq!(times(&r, "long"), (0, 105));
    assert_eq!(r.summary.preemptions, 1);
    let fifo = run(rows, &one_node(), Options::new(Policy::Fifo));
    assert_eq!(times(&fifo, "short"), (100, 105));
    assert!(r.summary.avg_jct_s < fifo.summary.avg_jct_s);
}

#[test]
fn las_demotes_only_at_quantum_boundaries_and_never_preempts_its_own_queue() {
    // The threshold is crossed at 10 s but the quantum is 30 s: at 20 s
    // `long` is still in queue 0 and `short`, in the same queue, waits;
    // at 30 s `long` drops to queue 1 and `short` preempts it.
    let rows = "long,0,100,1,8,1000,1024,q,0\nshort,20,5,1,8,1000,1024,q,0\n";
    let r = run(rows, &one_node(), las(vec![80], 30_000));
    assert_eq!(times(&r, "short"), (30, 35));
    assert_eq!(times(&r, "long"), (0, 105));
    assert_eq!(r.summary.preemptions, 1);
    let never = run(rows, &one_node(), las(vec![1_000], 1_000));
    assert_eq!(
        times(&never, "short"),
        (100, 105),
        "no demotion, no preemption"
    );
}

#[test]
fn kueue_best_effort_fifo_lets_a_smaller_job_pass_one_that_waits_for_quota() {
    let rows = "big,0,100,1,6,1000,1024,q,0\n\
        four,1,50,1,4,1000,1024,q,0\n\
        two,2,10,1,2,1000,1024,q,0\n";
    let r = run(rows, &one_node(), Options::new(Policy::Kueue));
    assert_eq!(times(&r, "two"), (2, 12));
    assert_eq!(times(&r, "four"), (100, 150));
    let fifo = run(rows, &one_node(), Options::new(Policy::Fifo));
    assert_eq!(times(&fifo, "two"), (100, 110));
}

const COHORT: &str = "
flavors: [{name: default}]
clusterQueues:
- name: team-a
  cohort: shared
  preemption: {reclaimWithinCohort: Any}
  resourceGroups:
  - coveredResources: [nvidia.com/gpu, cpu, memory]
    flavors: [{name: default, resources: [{name: nvidia.com/gpu, nominalQuota: 4}, {name: cpu, nominalQuota: 32}, {name: memory, nominalQuota: 128Gi}]}]
- name: team-b
  cohort: shared
  preemption: {reclaimWithinCohort: Any}
  resourceGroups:
  - coveredResources: [nvidia.com/gpu, cpu, memory]
    flavors: [{name: default, resources: [{name: nvidia.com/gpu, nominalQuota: 4}, {name: cpu, nominalQuota: 32}, {name: memory, nominalQuota: 128Gi}]}]
localQueues:
- {namespace: default, name: team-a, clusterQueue: team-a}
- {namespace: default, name: team-b, clusterQueue: team-b}
";

#[test]
fn kueue_reclaims_lent_quota_and_the_preempted_job_resumes() {
    // team-a borrows team-b's 4 GPUs; team-b's job reclaims them at 10 s;
    // team-a's job resumes with 90 s left when team-b's finishes.
    let rows = "a1,0,100,1,8,1000,1024,team-a,0\nb1,10,50,1,4,1000,1024,team-b,0\n";
    let setup = parse_queues("q.yaml", COHORT).unwrap();
    let r = run(
        rows,
        &one_node(),
        Options::new(Policy::Kueue).with_queues(setup),
    );
    assert_eq!(times(&r, "b1"), (10, 60));
    assert_eq!(times(&r, "a1"), (0, 150));
    assert_eq!(r.summary.preemptions, 1);
    let a = r.queues.iter().find(|q| q.queue == "team-a").unwrap();
    // Admitted 8 GPUs for 0–10 s and 60–150 s, over a 150 s makespan.
    assert!((a.mean_admitted_gpus - 8.0 * 100.0 / 150.0).abs() < 1e-9);
    assert!((a.nominal_usage.unwrap() - 2.0 * 100.0 / 150.0).abs() < 1e-9);
}

#[test]
fn fair_sharing_without_queues_splits_the_cluster_between_trace_queues() {
    // Queue a fills the cluster first; under fair sharing queue b gets its
    // half back by preemption, under plain kueue it waits.
    let rows =
        "a1,0,100,1,4,1000,1024,a,0\na2,0,100,1,4,1000,1024,a,0\nb1,10,20,1,4,1000,1024,b,0\n";
    let fair = run(rows, &one_node(), Options::new(Policy::Fair));
    assert_eq!(times(&fair, "b1"), (10, 30));
    assert_eq!(fair.summary.preemptions, 1);
    let kueue = run(rows, &one_node(), Options::new(Policy::Kueue));
    assert_eq!(times(&kueue, "b1"), (100, 120));
}

#[test]
fn jobs_that_never_fit_are_skipped_and_unknown_queues_reported() {
    let rows = "ok,0,10,1,8,1000,1024,team-a,0\n\
        too-wide,0,10,2,8,1000,1024,team-a,0\n\
        too-big-a-pod,0,10,1,9,1000,1024,team-a,0\n\
        nowhere,0,10,1,1,1000,1024,team-x,0\n";
    let r = run(rows, &one_node(), Options::new(Policy::Fifo));
    let skipped: Vec<&str> = r.skipped.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(skipped, ["too-wide", "too-big-a-pod"]);
    assert_eq!(r.summary.finished, 2);
    let setup = parse_queues("q.yaml", COHORT).unwrap();
    let k = run(
        rows,
        &one_node(),
        Options::new(Policy::Kueue).with_queues(setup),
    );
    assert_eq!(k.skipped.len(), 3);
    assert!(
        k.skipped[2].reason.contains("localQueue default/team-x"),
        "{}",
        k.skipped[2].reason
    );
}

#[test]
fn gangs_span_nodes_all_or_nothing() {
    let cluster = format!("{CLUSTER}n1,4,64000,262144,,,,\nn2,4,64000,262144,,,,\n");
    let rows = "gang,0,10,2,4,1000,1024,q,0\nthen,1,10,1,1,1000,1024,q,0\n";
    let r = run(rows, &cluster, Options::new(Policy::Fifo));
    assert_eq!(times(&r, "gang"), (0, 10));
    assert_eq!(times(&r, "then"), (10, 20));
    assert_eq!(
        r.summary.gpu_utilization,
        (8.0 * 10.0 + 10.0) / (8.0 * 20.0)
    );
}

#[test]
fn trace_parser_tolerates_crlf_blank_lines_spaces_and_quotes() {
    let text = "\u{feff}id,submit_s,duration_s,pods,gpus_per_pod,cpu_milli_per_pod,memory_mib_per_pod,queue,priority \r\n\
        \r\n\
        \"job, one\" , 1.5 ,2.0004,1,8,16000,65536,\"team \"\"a\"\"\",-3\r\n\
        j2,0.0005,10,2,0,500,0,,7   \r\n\
        \r\n";
    let jobs = parse_trace("t.csv", text).unwrap();
    assert_eq!(jobs.len(), 2);
    assert_eq!(jobs[0].id, "job, one");
    assert_eq!(jobs[0].submit_ms, 1_500);
    assert_eq!(jobs[0].duration_ms, 2_000);
    assert_eq!(jobs[0].queue, "team \"a\"");
    assert_eq!(jobs[0].priority, -3);
    assert_eq!(jobs[1].submit_ms, 1, "half a millisecond rounds up");
    assert_eq!(jobs[1].queue, "default");
    assert_eq!(parse_trace("t.csv", &write_trace(&jobs)).unwrap(), jobs);
}

fn row_error(text: &str) -> (usize, String, String) {
    match parse_trace("t.csv", text).unwrap_err() {
        Error::Row {
            file,
            row,
            column,
            reason,
        } => {
            assert_eq!(file, "t.csv");
            (row, column, reason)
        }
        other => panic!("not a row error: {other}"),
    }
}

#[test]
fn trace_parser_errors_name_row_and_column() {
    let (row, column, _) = row_error(&format!(
        "{TRACE}\nj1,0,1,1,1,0,0,q,0\nj2,0,1,zero,1,0,0,q,0\n"
    ));
    assert_eq!((row, column.as_str()), (4, "pods"));
    let (row, column, reason) = row_error(&format!("{TRACE}j1,0,1,0,1,0,0,q,0\n"));
    assert_eq!((row, column.as_str()), (2, "pods"));
    assert!(reason.contains("at least 1 pod"));
    let (row, column, reason) =
        row_error(&format!("{TRACE}j1,0,1,1,1,0,0,q,0\nj1,5,1,1,1,0,0,q,0\n"));
    assert_eq!((row, column.as_str()), (3, "id"));
    assert!(reason.contains("row 2"), "{reason}");
    let (row, column, _) = row_error(&format!("{TRACE}j1,0,1,1,1,0,0,q\n"));
    assert_eq!((row, column.as_str()), (2, "priority"));
    let (row, column, _) = row_error(&format!("{TRACE}j1,0,1,1,1,0,0,q,0,extra\n"));
    assert_eq!((row, column.as_str()), (2, "priority"));
    let (row, column, _) = row_error(&format!("{TRACE}j1,1e3,1,1,1,0,0,q,0\n"));
    assert_eq!((row, column.as_str()), (2, "submit_s"));
    let (row, column, _) = row_error(&format!("{TRACE}\"j1,0,1,1,1,0,0,q,0\n"));
    assert_eq!((row, column.as_str()), (2, "id"));
    let (row, column, reason) = row_error("id,submit,duration_s\n");
    assert_eq!((row, column.as_str()), (1, "submit_s"));
    assert!(reason.starts_with("header must be"));
    let (row, column, _) = row_error("\n\n");
    assert_eq!((row, column.as_str()), (1, "id"));
}

#[test]
fn cluster_parser_errors_name_row_and_column_and_files_round_trip() {
    let err =
        parse_cluster("c.csv", &format!("{CLUSTER}n1,8,1,1,,,,\nn1,8,1,1,,,,\n")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "c.csv: row 3, column node: node \"n1\" already on row 2"
    );
    let err = parse_cluster("c.csv", &format!("{CLUSTER}n1,8,-1,1,,,,\n")).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("c.csv: row 2, column cpu_milli:")
    );
    let nodes = parse_cluster(
        "c.csv",
        &format!("{CLUSTER}\"n,1\",8,96000,1024,H100,z,,r\n"),
    )
    .unwrap();
    assert_eq!(
        parse_cluster("c.csv", &write_cluster(&nodes)).unwrap(),
        nodes
    );
    assert!(
        parse_queues("q.yaml", "clusterQueues: [{name: a, bogus: 1}]")
            .unwrap_err()
            .to_string()
            .starts_with("q.yaml at clusterQueues[0]")
    );
}

#[test]
fn same_inputs_and_seed_give_identical_results() {
    let config = GeneratorConfig {
        nodes: 24,
        ..GeneratorConfig::default()
    };
    let (jobs, nodes) = generate(&config, 1_500, 11).unwrap();
    assert_eq!(generate(&config, 1_500, 11).unwrap().0, jobs);
    assert_ne!(generate(&config, 1_500, 12).unwrap().0, jobs);
    for policy in Policy::ALL {
        let a = Simulator::new(jobs.clone(), &nodes, Options::new(policy))
            .unwrap()
            .run()
            .unwrap();
        let b = Simulator::new(jobs.clone(), &nodes, Options::new(policy))
            .unwrap()
            .run()
            .unwrap();
        assert_eq!(a, b, "{policy}");
        assert_eq!(a.summary.finished, 1_500, "{policy}");
    }
}

#[test]
fn synthetic_trace_has_the_documented_shape() {
    let (jobs, nodes) = generate(&GeneratorConfig::default(), 5_000, 3).unwrap();
    assert_eq!(nodes.len(), 1_000);
    assert!(jobs.windows(2).all(|w| w[0].submit_ms <= w[1].submit_ms));
    assert!(jobs.iter().all(|j| (1..=64).contains(&j.gpus())));
    assert!(jobs.iter().any(|j| j.gpus() == 64 && j.pods == 8));
    let mut d: Vec<u64> = jobs.iter().map(|j| j.duration_ms).collect();
    d.sort_unstable();
    let median = d[d.len() / 2] as f64 / 1000.0;
    let mean = d.iter().sum::<u64>() as f64 / d.len() as f64 / 1000.0;
    assert!((700.0..1_150.0).contains(&median), "median {median}");
    assert!(
        mean > 3.0 * median,
        "heavy tail: mean {mean}, median {median}"
    );
    let team0 = jobs.iter().filter(|j| j.queue == "team-0").count();
    let team3 = jobs.iter().filter(|j| j.queue == "team-3").count();
    assert!(team0 > 3 * team3);
}

#[test]
fn kueue_baseline_scenario_has_kueues_shape() {
    let s = kueue_baseline();
    assert_eq!(s.jobs.len(), 15_000);
    assert_eq!(s.queues.cluster_queues.len(), 30);
    // One cohort of the five keeps the test quick; the whole scenario is
    // in docs/BENCHMARKS.md.
    let cohort0: Vec<_> = s
        .jobs
        .iter()
        .filter(|j| j.queue.starts_with("cohort-0-"))
        .cloned()
        .collect();
    assert_eq!(cohort0.len(), 3_000);
    let r = Simulator::new(
        cohort0,
        &s.nodes,
        Options::new(Policy::Kueue).with_queues(s.queues.clone()),
    )
    .unwrap()
    .run()
    .unwrap();
    assert_eq!(r.summary.finished, 3_000);
    assert!(
        r.summary.preemptions > 0,
        "large workloads reclaim and preempt"
    );
    let classes: Vec<&str> = r.size_classes.iter().map(|c| c.class.as_str()).collect();
    assert_eq!(classes, ["1", "5-8", "17-32"]);
}

#[test]
fn bad_options_are_refused() {
    let nodes = parse_cluster("c.csv", &one_node()).unwrap();
    assert!(Simulator::new(vec![], &nodes, las(vec![5, 5], 1)).is_err());
    assert!(Simulator::new(vec![], &nodes, las(vec![5], 0)).is_err());
    assert!("lottery".parse::<Policy>().is_err());
    let huge = parse_trace(
        "t.csv",
        &format!("{TRACE}a,0,9000000000000000,1,1,0,0,q,0\nb,0,9000000000000000,1,1,0,0,q,0\n"),
    )
    .unwrap();
    assert!(Simulator::new(huge, &nodes, Options::new(Policy::Fifo)).is_err());
}
