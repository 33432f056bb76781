//! Runs keelson's samplers on the HPO anchor protocol and prints one JSON
//! record per (function, sampler, budget, seed), in the anchor's format.
//!
//! ```sh
//! cargo run --release -p keelson-hpo --example hpo_protocol -- ../shared/anchors/hpo/protocol.json \
//!     [--samplers random,sobol,tpe] [--seeds 0,1] [--functions branin,hartmann6] [--summary] [--trace]
//! cargo run --release -p keelson-hpo --example hpo_protocol -- PROTOCOL.json --timing 1000
//! ```
//!
//! `--summary` adds markdown tables (median regret, CPU per trial) on
//! stdout after the records; `--timing N` instead times each sampler on the
//! protocol's timing function (branin) for N trials per timing seed and
//! prints the cumulative and marginal time per trial at N = 100, 200, 1000
//! (those up to N, and N). `--trace` prints every trial instead (one JSON
//! line each: function, sampler, seed, trial, params, value), for
//! comparing a run with another optimizer's trial by trial (see
//! `scripts/hpo_optuna_trace.py`). The record logic lives in
//! `keelson_hpo::protocol`; this is only the command line.

use std::process::ExitCode;

use keelson_hpo::protocol::{self, Protocol, Record};

struct Args {
    path: String,
    samplers: Option<Vec<String>>,
    seeds: Option<Vec<u64>>,
    functions: Option<Vec<String>>,
    summary: bool,
    timing: Option<usize>,
    trace: bool,
}

fn list(value: Option<String>, flag: &str) -> Result<Vec<String>, String> {
    let v = value.ok_or_else(|| format!("{flag} needs a comma-separated list"))?;
    Ok(v.split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect())
}

fn parse_args() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let mut args = Args {
        path: String::new(),
        samplers: None,
        seeds: None,
        functions: None,
        summary: false,
        timing: None,
        trace: false,
    };
    while let Some(a) = it.next() {
        match a.as_str() {
            "--samplers" => args.samplers = Some(list(it.next(), &a)?),
            "--functions" => args.functions = Some(list(it.next(), &a)?),
            "--seeds" => {
                let seeds = list(it.next(), &a)?
                    .iter()
                    .map(|s| s.parse().map_err(|e| format!("--seeds: {s:?}: {e}")))
                    .collect::<Result<_, _>>()?;
                args.seeds = Some(seeds);
            }
            "--summary" => args.summary = true,
            "--trace" => args.trace = true,
            "--timing" => {
                let n = it.next().ok_or("--timing needs a trial count")?;
                args.timing = Some(n.parse().map_err(|e| format!("--timing: {n:?}: {e}"))?);
            }
            flag if flag.starts_with("--") => return Err(format!("unknown option {flag}")),
            path if args.path.is_empty() => args.path = path.to_owned(),
            extra => return Err(format!("unexpected argument {extra:?}")),
        }
    }
    if args.path.is_empty() {
        return Err("usage: hpo_protocol PROTOCOL.json [--samplers LIST] [--seeds LIST] [--functions LIST] [--summary] [--timing N] [--trace]".into());
    }
    Ok(args)
}

fn main() -> ExitCode {
    match run() {
        // A reader that stopped reading (`| head`) ends the run, no error.
        Ok(()) | Err(Stop::Closed) => ExitCode::SUCCESS,
        Err(Stop::Failed(e)) => {
            eprintln!("hpo_protocol: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Why a run ended early.
enum Stop {
    /// Standard output was closed.
    Closed,
    Failed(String),
}

impl From<String> for Stop {
    fn from(e: String) -> Stop {
        Stop::Failed(e)
    }
}

/// Writes one line to standard output; `println!` would panic once the
/// reader has gone.
fn emit(line: impl std::fmt::Display) -> Result<(), Stop> {
    use std::io::Write;
    writeln!(std::io::stdout().lock(), "{line}").map_err(|e| match e.kind() {
        std::io::ErrorKind::BrokenPipe => Stop::Closed,
        _ => Stop::Failed(format!("writing the output: {e}")),
    })
}

fn print(record: &Record) -> Result<(), Stop> {
    emit(serde_json::to_string(record).map_err(|e| e.to_string())?)
}

fn run() -> Result<(), Stop> {
    let args = parse_args()?;
    let text = std::fs::read_to_string(&args.path).map_err(|e| format!("{}: {e}", args.path))?;
    let protocol = Protocol::from_json(&text).map_err(|e| e.to_string())?;
    let resolved = protocol.resolve().map_err(|e| e.to_string())?;
    let wanted = args
        .samplers
        .clone()
        .unwrap_or_else(|| protocol::SAMPLERS.iter().map(|s| s.to_string()).collect());
    // Unknown names fail before any trial runs, not halfway through the file.
    for name in &wanted {
        protocol::sampler(name, 0).map_err(|e| e.to_string())?;
    }
    let samplers = wanted;
    let mut records = Vec::new();
    if let Some(n) = args.timing {
        let plan = protocol.timing.clone();
        let fname = plan.as_ref().map_or("branin", |p| p.function.as_str());
        // The protocol's own statement of the function, where it has one.
        let function = match resolved.iter().find(|r| r.function.name() == fname) {
            Some(f) => f.clone(),
            None => {
                let spec = protocol::FunctionSpec {
                    name: fname.to_owned(),
                    dim: None,
                    params: None,
                    params_uniform_box: None,
                    f_star: None,
                };
                protocol::resolve_function(&spec).map_err(|e| e.to_string())?
            }
        };
        let seeds = args
            .seeds
            .clone()
            .or_else(|| plan.as_ref().map(|p| p.seeds.clone()))
            .unwrap_or_else(|| vec![0]);
        let mut counts: Vec<usize> = [100, 200, 1000].into_iter().filter(|&c| c < n).collect();
        counts.push(n);
        for s in &samplers {
            for &seed in &seeds {
                let rs =
                    protocol::run_timing(&function, s, seed, &counts).map_err(|e| e.to_string())?;
                for r in &rs {
                    print(r)?;
                }
                records.extend(rs);
            }
        }
        emit(format_args!("\n{}", protocol::timing_markdown(&records)))?;
        return Ok(());
    }
    let seeds = args.seeds.clone().unwrap_or_else(|| protocol.seeds.clone());
    for f in &resolved {
        let name = f.function.name();
        if args
            .functions
            .as_ref()
            .is_some_and(|fs| !fs.iter().any(|x| x == name))
        {
            continue;
        }
        for s in &samplers {
            if !protocol::can_search(s, f) {
                eprintln!("hpo_protocol: skipping {s} on {name}: it cannot search that space");
                continue;
            }
            for &seed in &seeds {
                if args.trace {
                    let n = protocol.budgets.iter().copied().max().unwrap_or(0);
                    for t in protocol::trace(f, s, seed, n).map_err(|e| e.to_string())? {
                        emit(serde_json::to_string(&t).map_err(|e| e.to_string())?)?;
                    }
                    continue;
                }
                let rs = protocol::run(f, s, seed, &protocol.budgets).map_err(|e| e.to_string())?;
                for r in &rs {
                    print(r)?;
                }
                records.extend(rs);
            }
        }
    }
    if args.summary {
        emit(format_args!("\n{}", protocol::summary_markdown(&records)))?;
    }
    Ok(())
}
