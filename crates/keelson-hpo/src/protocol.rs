//! The HPO anchor protocol (`shared/anchors/hpo/protocol.json`): read a
//! protocol file, run samplers on its test functions one trial at a time,
//! and produce the anchor's per-run records and summary tables, so that
//! keelson's numbers sit beside Optuna's.
//!
//! A record is one (function, sampler, budget, seed): the best value in the
//! first `budget` trials of one sequential run, its regret over the known
//! optimum, and the optimizer's own time per trial (ask + tell, not the
//! objective) in wall and in thread CPU seconds.
//!
//! ```
//! use keelson_hpo::protocol::{self, Protocol};
//!
//! let protocol = Protocol::from_json(r#"{
//!   "budgets": [5, 20], "seeds": [0],
//!   "functions": [{"name": "branin", "dim": 2, "f_star": 0.39788735772973816}]
//! }"#)?;
//! let branin = &protocol.resolve()?[0];
//! let records = protocol::run(branin, "random", 0, &protocol.budgets)?;
//! assert_eq!(records.len(), 2);
//! assert!(records[1].regret <= records[0].regret); // more trials, never worse
//! println!("{}", protocol::summary_markdown(&records));
//! # Ok::<(), keelson_hpo::Error>(())
//! ```

use std::collections::BTreeMap;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::samplers::{AnySampler, GpSampler, Sampler, TpeOptions, TpeSampler};
use crate::space::{Distribution, ParamKind, ParamSpec, Params, SearchSpace, Value};
use crate::study::{Direction, Outcome, Study};
use crate::testfns::TestFunction;
use crate::{CmaEsSampler, Error, RandomSampler, Result, SobolSampler};

/// The largest budget a protocol may ask for: the runner keeps a few
/// numbers per trial, and a count past this is a mistake in the file, not a
/// study anyone runs.
pub const MAX_BUDGET: usize = 1_000_000;

/// The samplers [`sampler`] builds, in the default order of the runner.
pub const SAMPLERS: [&str; 6] = ["random", "sobol", "tpe", "tpe_independent", "cmaes", "gp"];

/// A protocol file: budgets, seeds, functions, and optionally the timing
/// plan. Fields this runner does not use (definitions, sampler list) are
/// ignored.
///
/// ```
/// let p = keelson_hpo::protocol::Protocol::from_json(
///     r#"{"budgets": [50], "seeds": [0, 1], "functions": [{"name": "rosenbrock", "dim": 10}]}"#)?;
/// assert_eq!(p.resolve()?[0].function.name(), "rosenbrock10");
/// # Ok::<(), keelson_hpo::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Protocol {
    /// Trial budgets; one run of the largest, read at each.
    pub budgets: Vec<usize>,
    /// Seeds, one run each.
    pub seeds: Vec<u64>,
    /// The functions.
    pub functions: Vec<FunctionSpec>,
    /// The timing-only run, if the protocol has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timing: Option<TimingPlan>,
}

/// One function of a protocol as written: a name, optionally its dimension,
/// its parameters (or a uniform box) and its optimum.
///
/// ```
/// let f: keelson_hpo::protocol::FunctionSpec = serde_json::from_str(r#"{"name": "hartmann6", "dim": 6}"#).unwrap();
/// assert_eq!(f.dim, Some(6));
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FunctionSpec {
    /// `branin`, `rosenbrock10`, or `rosenbrock` with `dim` 10.
    pub name: String,
    /// The dimension.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dim: Option<usize>,
    /// Explicit parameters: the space searched, in place of the test
    /// function's own (see [`resolve_function`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params: Option<Vec<ParamDef>>,
    /// A box of uniform doubles `x0..x{dim-1}`, searched in place of the
    /// function's own bounds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params_uniform_box: Option<BoxDef>,
    /// The optimum regret is measured from: it must agree with the test
    /// function's where the space holds that function's minimizer, and is
    /// required where it does not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub f_star: Option<f64>,
}

/// A parameter in a protocol file.
///
/// ```
/// let p: keelson_hpo::protocol::ParamDef = serde_json::from_str(
///     r#"{"name": "lr", "type": "double", "min": 1e-5, "max": 0.1, "distribution": "logUniform"}"#).unwrap();
/// assert_eq!(p.kind, "double");
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ParamDef {
    /// The name.
    pub name: String,
    /// `double`, `int`, `categorical` or `discrete`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Lower bound (`double`, `int`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    /// Upper bound (`double`, `int`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    /// `uniform` (default) or `logUniform`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distribution: Option<String>,
    /// The values (`categorical`: strings, `discrete`: numbers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list: Option<Vec<serde_json::Value>>,
}

/// A box of uniform doubles in a protocol file.
///
/// ```
/// let b: keelson_hpo::protocol::BoxDef = serde_json::from_str(r#"{"min": -5, "max": 5}"#).unwrap();
/// assert_eq!((b.min, b.max), (-5.0, 5.0));
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BoxDef {
    /// Lower bound of every coordinate.
    pub min: f64,
    /// Upper bound of every coordinate.
    pub max: f64,
}

/// The protocol's timing-only run.
///
/// ```
/// let t: keelson_hpo::protocol::TimingPlan = serde_json::from_str(
///     r#"{"function": "branin", "trial_counts": [100, 200, 1000], "seeds": [0, 1, 2]}"#).unwrap();
/// assert_eq!(t.trial_counts, [100, 200, 1000]);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TimingPlan {
    /// The function timed.
    pub function: String,
    /// The trial counts N reported.
    pub trial_counts: Vec<usize>,
    /// Seeds.
    pub seeds: Vec<u64>,
}

/// A protocol function resolved to a [`TestFunction`], the space searched
/// and the optimum regret is measured from.
///
/// ```
/// let p = keelson_hpo::protocol::Protocol::from_json(r#"{"budgets": [1], "seeds": [0], "functions": [{"name": "branin"}]}"#)?;
/// let branin = &p.resolve()?[0];
/// assert!((branin.f_star - 0.397887357729738).abs() < 1e-12);
/// assert_eq!(branin.space, branin.function.space()?);
/// # Ok::<(), keelson_hpo::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Resolved {
    /// The test function.
    pub function: TestFunction,
    /// The optimum regret is measured from.
    pub f_star: f64,
    /// The space searched: the protocol's where it states one, else the
    /// function's own.
    pub space: SearchSpace,
    /// Per parameter of `space` whose name the function does not use, the
    /// function's name for it.
    renamed: Vec<(String, String)>,
}

impl Resolved {
    /// The function's value at an assignment of [`Resolved::space`]. A
    /// stated parameter reaches the function under the function's own name
    /// for it (by position, where the protocol names them otherwise, as the
    /// anchor's runner passes a box's coordinates).
    ///
    /// ```
    /// use keelson_hpo::{protocol::{resolve_function, FunctionSpec}, Params, Value};
    /// let spec: FunctionSpec = serde_json::from_str(r#"{"name": "rastrigin2", "params": [
    ///     {"name": "a", "type": "double", "min": -1, "max": 1},
    ///     {"name": "b", "type": "double", "min": -1, "max": 1}]}"#).unwrap();
    /// let f = resolve_function(&spec)?;
    /// let mut p = Params::new();
    /// p.insert("a", Value::Double(0.0));
    /// p.insert("b", Value::Double(0.0));
    /// assert_eq!(f.evaluate(&p)?, 0.0);
    /// # Ok::<(), keelson_hpo::Error>(())
    /// ```
    pub fn evaluate(&self, params: &Params) -> Result<f64> {
        if self.renamed.is_empty() {
            return self.function.evaluate(params);
        }
        let mut theirs = params.clone();
        for (stated, own) in &self.renamed {
            if let Some(v) = params.get(stated) {
                theirs.insert(own.clone(), v.clone());
            }
        }
        self.function.evaluate(&theirs)
    }
}

impl Protocol {
    /// Reads a protocol file; an error names the field that is missing or
    /// malformed.
    ///
    /// ```
    /// assert!(keelson_hpo::protocol::Protocol::from_json(r#"{"budgets": []}"#).is_err());
    /// ```
    pub fn from_json(text: &str) -> Result<Protocol> {
        let p: Protocol = serde_json::from_str(text).map_err(|e| Error::Protocol {
            field: "protocol".into(),
            reason: e.to_string(),
        })?;
        if p.budgets.is_empty() || p.budgets.contains(&0) {
            return Err(protocol_error(
                "budgets",
                "must be a non-empty list of positive counts",
            ));
        }
        if let Some(b) = p.budgets.iter().find(|&&b| b > MAX_BUDGET) {
            return Err(protocol_error(
                "budgets",
                format!("{b} is more than {MAX_BUDGET} trials"),
            ));
        }
        if p.seeds.is_empty() {
            return Err(protocol_error("seeds", "must not be empty"));
        }
        Ok(p)
    }

    /// Every function resolved with [`resolve_function`].
    ///
    /// ```
    /// let p = keelson_hpo::protocol::Protocol::from_json(r#"{"budgets": [1], "seeds": [0], "functions": [{"name": "nope"}]}"#)?;
    /// assert!(p.resolve().unwrap_err().to_string().contains("functions[0]"));
    /// # Ok::<(), keelson_hpo::Error>(())
    /// ```
    pub fn resolve(&self) -> Result<Vec<Resolved>> {
        self.functions
            .iter()
            .enumerate()
            .map(|(i, f)| {
                resolve_function(f)
                    .map_err(|e| protocol_error(&format!("functions[{i}]"), e.to_string()))
            })
            .collect()
    }
}

fn protocol_error(field: &str, reason: impl Into<String>) -> Error {
    Error::Protocol {
        field: field.to_owned(),
        reason: reason.into(),
    }
}

/// Resolves a protocol function by name (with `dim` appended when the name
/// alone is not a test function) and the space it is searched in.
///
/// A protocol may state the space (`params`, or `params_uniform_box`), as
/// the anchor's runner takes it from the file: bounds of its own, integer
/// or log-scaled parameters, any names. The stated parameters must be as
/// many as the function's; they reach the function by name where the names
/// are the function's own, else by position. The function is tried at the
/// space's centre and with each category of each categorical parameter, so
/// a parameter it cannot take (a category it does not know) is an error
/// here, not halfway through a run. Where the space holds
/// the function's known minimizer, a stated `f_star` must agree with the
/// known optimum; where it does not, `f_star` is required, and taken as
/// stated.
///
/// ```
/// use keelson_hpo::protocol::{resolve_function, FunctionSpec};
/// let spec = |json: &str| serde_json::from_str::<FunctionSpec>(json).unwrap();
/// // A narrower box around the minimizer: the known optimum.
/// let f = resolve_function(&spec(r#"{"name": "ackley10", "params_uniform_box": {"min": -5, "max": 5}}"#))?;
/// assert_eq!((f.f_star, f.space.dims()), (0.0, 10));
/// // A box without it needs f_star...
/// let far = r#"{"name": "ackley2", "params_uniform_box": {"min": 1, "max": 5}"#;
/// let e = resolve_function(&spec(&format!("{far}}}"))).unwrap_err();
/// assert!(e.to_string().contains("f_star"));
/// // ...and takes the one stated.
/// assert_eq!(resolve_function(&spec(&format!(r#"{far}, "f_star": 3.6}}"#)))?.f_star, 3.6);
/// # Ok::<(), keelson_hpo::Error>(())
/// ```
pub fn resolve_function(spec: &FunctionSpec) -> Result<Resolved> {
    let function = match (TestFunction::by_name(&spec.name), spec.dim) {
        (Ok(f), _) => f,
        (Err(e), Some(d)) => TestFunction::by_name(&format!("{}{d}", spec.name)).map_err(|_| e)?,
        (Err(e), None) => return Err(e),
    };
    let bad =
        |field: &str, reason: String| protocol_error(&format!("{}.{field}", spec.name), reason);
    if let Some(d) = spec.dim.filter(|d| *d != function.dims()) {
        return Err(bad(
            "dim",
            format!("is {d}, {} has {}", function.name(), function.dims()),
        ));
    }
    let own = function.space()?;
    let stated = match (&spec.params, &spec.params_uniform_box) {
        (Some(params), _) => Some(params.iter().map(param_spec).collect::<Result<Vec<_>>>()?),
        (None, Some(b)) => Some(
            (0..function.dims())
                .map(|i| ParamSpec::double(&format!("x{i}"), b.min, b.max))
                .collect(),
        ),
        (None, None) => None,
    };
    let space = match stated {
        Some(params) => SearchSpace::new(params).map_err(|e| bad("params", e.to_string()))?,
        None => own.clone(),
    };
    if space.dims() != own.dims() {
        return Err(bad(
            "params",
            format!(
                "{} parameters, {} has {}",
                space.dims(),
                function.name(),
                own.dims()
            ),
        ));
    }
    let names = |s: &SearchSpace| {
        let mut names: Vec<String> = s.params().iter().map(|p| p.name().to_owned()).collect();
        names.sort_unstable();
        names
    };
    let renamed: Vec<(String, String)> = if names(&space) == names(&own) {
        Vec::new()
    } else {
        space
            .params()
            .iter()
            .zip(own.params())
            .map(|(a, b)| (a.name().to_owned(), b.name().to_owned()))
            .collect()
    };
    let resolved = Resolved {
        function,
        f_star: 0.0,
        space,
        renamed,
    };
    // The centre, and the centre with each category of each categorical
    // parameter in turn: every kind of value the function will be given.
    let centre = resolved.space.decode(&vec![0.5; resolved.space.dims()])?;
    let mut probes = vec![centre.clone()];
    for param in resolved.space.params() {
        if let ParamKind::Categorical { choices } = param.kind() {
            for choice in choices {
                let mut probe = centre.clone();
                probe.insert(param.name(), Value::Categorical(choice.clone()));
                probes.push(probe);
            }
        }
    }
    for probe in &probes {
        resolved.evaluate(probe).map_err(|e| {
            bad(
                "params",
                format!("{} cannot take them: {e}", resolved.function.name()),
            )
        })?;
    }
    let optimum = resolved.function.optimum();
    let mut minimizer = Params::new();
    for (name, value) in optimum.params.iter() {
        let stated = resolved
            .renamed
            .iter()
            .find(|(_, own)| own == name)
            .map_or(name, |(stated, _)| stated.as_str());
        minimizer.insert(stated, value.clone());
    }
    let known = optimum.value;
    let holds_minimizer = resolved.space.check(&minimizer).is_ok();
    let f_star = match spec.f_star {
        Some(f) if !f.is_finite() => return Err(bad("f_star", format!("is {f}"))),
        Some(f) if holds_minimizer && (f - known).abs() > 1e-6 * known.abs().max(1.0) => {
            return Err(bad("f_star", format!("is {f}, testfns has {known}")));
        }
        Some(f) => f,
        None if holds_minimizer => known,
        None => {
            return Err(bad(
                "f_star",
                format!(
                    "is required: the space does not hold {}'s known minimizer",
                    resolved.function.name()
                ),
            ));
        }
    };
    Ok(Resolved { f_star, ..resolved })
}

fn param_spec(p: &ParamDef) -> Result<ParamSpec> {
    let bound = |v: Option<f64>, what: &str| {
        v.ok_or_else(|| protocol_error(&format!("params.{}.{what}", p.name), "is missing"))
    };
    let list = || {
        p.list
            .clone()
            .ok_or_else(|| protocol_error(&format!("params.{}.list", p.name), "is missing"))
    };
    let distribution = match p.distribution.as_deref() {
        None | Some("uniform") => Distribution::Uniform,
        Some("logUniform") => Distribution::LogUniform,
        Some("normal") => Distribution::Normal,
        Some("logNormal") => Distribution::LogNormal,
        Some(other) => {
            return Err(protocol_error(
                &format!("params.{}.distribution", p.name),
                format!("unknown distribution {other:?}"),
            ));
        }
    };
    Ok(match p.kind.as_str() {
        "double" => ParamSpec::double(&p.name, bound(p.min, "min")?, bound(p.max, "max")?)
            .distribution(distribution),
        "int" => ParamSpec::int(
            &p.name,
            bound(p.min, "min")? as i64,
            bound(p.max, "max")? as i64,
        )
        .distribution(distribution),
        "categorical" => ParamSpec::categorical(
            &p.name,
            list()?
                .iter()
                .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned)),
        ),
        "discrete" => ParamSpec::discrete(
            &p.name,
            list()?.iter().filter_map(serde_json::Value::as_f64),
        ),
        other => {
            return Err(protocol_error(
                &format!("params.{}.type", p.name),
                format!("unknown type {other:?}"),
            ));
        }
    })
}

/// The sampler the runner calls `name`, seeded: `random`, `sobol`, `tpe`
/// (multivariate, as Optuna 5's default `TPESampler` that the anchor ran),
/// `tpe_independent` (univariate, the anchor's `tpe_independent`;
/// otherwise [`TpeSampler::new`]'s defaults), both with `discrete` lists
/// as categorical, as the anchor's runner gave them to Optuna, so that on
/// the protocol's functions they make Optuna's suggestions; `cmaes`
/// ([`CmaEsSampler::new`]: the defaults of Optuna's `CmaEsSampler`, plus
/// the margin for integers) and `gp` ([`GpSampler::new`], defaults as
/// Optuna's `GPSampler`); an error for any other name.
///
/// ```
/// use keelson_hpo::{protocol::sampler, Sampler};
/// assert_eq!(sampler("tpe", 0)?.name(), "tpe");
/// assert_eq!(sampler("gp", 0)?.name(), "gp");
/// assert_eq!(sampler("cmaes", 0)?.name(), "cmaes");
/// assert!(sampler("annealing", 0).is_err());
/// # Ok::<(), keelson_hpo::Error>(())
/// ```
pub fn sampler(name: &str, seed: u64) -> Result<AnySampler> {
    Ok(match name {
        "random" => RandomSampler::new(seed).into(),
        "sobol" => SobolSampler::new(seed).into(),
        "tpe" => TpeSampler::with_options(
            seed,
            TpeOptions {
                multivariate: true,
                discrete_as_categorical: true,
                ..TpeOptions::default()
            },
        )
        .into(),
        "tpe_independent" => TpeSampler::with_options(
            seed,
            TpeOptions {
                discrete_as_categorical: true,
                ..TpeOptions::default()
            },
        )
        .into(),
        "cmaes" => CmaEsSampler::new(seed).into(),
        "gp" => GpSampler::new(seed).into(),
        other => {
            return Err(Error::setting(
                "samplers",
                format!("unknown sampler {other:?}; known: {}", SAMPLERS.join(", ")),
            ));
        }
    })
}

/// One result line, in the anchor's record format (the marginal fields only
/// in timing records).
///
/// ```
/// let r: keelson_hpo::protocol::Record = serde_json::from_str(
///     r#"{"function": "branin", "sampler": "tpe", "budget": 200, "seed": 3, "best_value": 0.3987,
///         "regret": 0.0008, "seconds_per_trial": 0.0031, "cpu_seconds_per_trial": 0.0028}"#).unwrap();
/// assert_eq!(r.budget, 200);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// The function's name.
    pub function: String,
    /// The runner's sampler name.
    pub sampler: String,
    /// Trials counted.
    pub budget: usize,
    /// The seed.
    pub seed: u64,
    /// The best value in the first `budget` trials.
    pub best_value: f64,
    /// `best_value - f_star`.
    pub regret: f64,
    /// Wall seconds in ask + tell per trial, over the first `budget` trials.
    pub seconds_per_trial: f64,
    /// The same in CPU seconds of the running thread; absent where the
    /// platform has no per-thread CPU clock this runner can read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_seconds_per_trial: Option<f64>,
    /// Wall seconds per trial over trials `budget - 9 ..= budget` (timing runs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marginal_seconds_per_trial: Option<f64>,
    /// CPU seconds per trial over trials `budget - 9 ..= budget` (timing runs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marginal_cpu_seconds_per_trial: Option<f64>,
}

/// This thread's CPU time in seconds, from `/proc/thread-self/schedstat`
/// (nanoseconds on the CPU). std has no thread CPU clock and the crate takes
/// no libc dependency for a benchmark; `/proc/self/stat` would do without a
/// new dependency too but counts in 10 ms ticks, too coarse for
/// microseconds per trial. `None` off Linux.
fn thread_cpu_seconds() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: f64 = text.split_whitespace().next()?.parse().ok()?;
    Some(ns * 1e-9)
}

/// Runs `sampler_name` on `function` for `max(budgets)` trials, one at a
/// time, and returns one record per budget (in the order given).
///
/// Timing: wall time is taken around each ask + tell. CPU time is read only
/// at the budgets (reading the clock is a system call that would cost about
/// as much as a cheap ask), over the whole loop, minus the objective's wall
/// time; the objectives are analytic and take nanoseconds.
///
/// Errors: an unknown or not-yet-implemented sampler, one that cannot
/// search the function's space, or a failure of the study.
///
/// ```
/// # use keelson_hpo::protocol::{self, Protocol};
/// let p = Protocol::from_json(r#"{"budgets": [3], "seeds": [0], "functions": [{"name": "hartmann6"}]}"#)?;
/// let r = protocol::run(&p.resolve()?[0], "sobol", 1, &[3])?;
/// assert!(r[0].regret >= 0.0 && r[0].seconds_per_trial > 0.0);
/// # Ok::<(), keelson_hpo::Error>(())
/// ```
pub fn run(
    function: &Resolved,
    sampler_name: &str,
    seed: u64,
    budgets: &[usize],
) -> Result<Vec<Record>> {
    let records = run_timed(function, sampler_name, seed, budgets, false)?;
    Ok(records)
}

/// [`run`] with marginal times (mean over the ten trials ending at each
/// budget) in the records, as the anchor's timing run reports them.
///
/// ```
/// # use keelson_hpo::protocol::{self, Protocol};
/// let p = Protocol::from_json(r#"{"budgets": [20], "seeds": [0], "functions": [{"name": "branin"}]}"#)?;
/// let r = protocol::run_timing(&p.resolve()?[0], "tpe", 0, &[20])?;
/// assert!(r[0].marginal_seconds_per_trial.is_some());
/// # Ok::<(), keelson_hpo::Error>(())
/// ```
pub fn run_timing(
    function: &Resolved,
    sampler_name: &str,
    seed: u64,
    counts: &[usize],
) -> Result<Vec<Record>> {
    run_timed(function, sampler_name, seed, counts, true)
}

fn run_timed(
    function: &Resolved,
    sampler_name: &str,
    seed: u64,
    budgets: &[usize],
    marginal: bool,
) -> Result<Vec<Record>> {
    let sampler = sampler(sampler_name, seed)?;
    let tf = &function.function;
    let mut study = Study::new(function.space.clone(), Direction::Minimize, sampler)?;
    let n = budgets.iter().copied().max().unwrap_or(0);
    // Where to read the CPU clock: each budget, and ten trials before it.
    let mut marks: BTreeMap<usize, Option<f64>> = BTreeMap::from([(0, None)]);
    for &b in budgets {
        marks.insert(b, None);
        if marginal {
            marks.insert(b.saturating_sub(10), None);
        }
    }
    let mut wall = vec![0.0; n + 1]; // cumulative optimizer wall time after i trials
    let mut objective = vec![0.0; n + 1]; // cumulative objective wall time
    let mut best = vec![f64::INFINITY; n + 1];
    let cpu0 = thread_cpu_seconds();
    if let Some(m) = marks.get_mut(&0) {
        *m = cpu0;
    }
    for i in 1..=n {
        let t0 = Instant::now();
        let trial = study.ask()?;
        let t1 = Instant::now();
        let value = function.evaluate(&trial.params)?;
        let t2 = Instant::now();
        study.tell(trial.id, outcome(value))?;
        let t3 = Instant::now();
        wall[i] = wall[i - 1] + (t1 - t0).as_secs_f64() + (t3 - t2).as_secs_f64();
        objective[i] = objective[i - 1] + (t2 - t1).as_secs_f64();
        best[i] = if value.is_finite() {
            best[i - 1].min(value)
        } else {
            best[i - 1]
        };
        if let Some(m) = marks.get_mut(&i) {
            *m = thread_cpu_seconds();
        }
    }
    let cpu_between = |from: usize, to: usize| -> Option<f64> {
        let (a, b) = (
            marks.get(&from).copied().flatten()?,
            marks.get(&to).copied().flatten()?,
        );
        Some((b - a - (objective[to] - objective[from])).max(0.0))
    };
    Ok(budgets
        .iter()
        .map(|&b| {
            let lo = b.saturating_sub(10);
            let per = |x: f64, k: usize| x / k.max(1) as f64;
            Record {
                function: tf.name().to_owned(),
                sampler: sampler_name.to_owned(),
                budget: b,
                seed,
                best_value: best[b],
                regret: best[b] - function.f_star,
                seconds_per_trial: per(wall[b], b),
                cpu_seconds_per_trial: cpu_between(0, b).map(|c| per(c, b)),
                marginal_seconds_per_trial: marginal.then(|| per(wall[b] - wall[lo], b - lo)),
                marginal_cpu_seconds_per_trial: if marginal {
                    cpu_between(lo, b).map(|c| per(c, b - lo))
                } else {
                    None
                },
            }
        })
        .collect())
}

/// What the study is told of an objective value: a value that is not
/// finite (a stated box wide enough to overflow the function) is a failed
/// trial, as Optuna records one, and counts toward no best value.
fn outcome(value: f64) -> Outcome {
    if value.is_finite() {
        Outcome::Value(value)
    } else {
        Outcome::Failed
    }
}

/// One trial of a run, for comparing samplers trial by trial (the runner's
/// `--trace`): the assignment as plain JSON values (a number, an integer,
/// or a string for a categorical choice) and the objective's value.
///
/// ```
/// let t: keelson_hpo::protocol::TraceRecord = serde_json::from_str(
///     r#"{"function": "branin", "sampler": "tpe", "seed": 0, "trial": 3,
///         "params": {"x0": 1.5, "x1": 2.0}, "value": 17.5}"#).unwrap();
/// assert_eq!(t.params["x1"], 2.0);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TraceRecord {
    /// The function's name.
    pub function: String,
    /// The runner's sampler name.
    pub sampler: String,
    /// The seed.
    pub seed: u64,
    /// The trial's number, from 0.
    pub trial: usize,
    /// The assignment, by parameter name.
    pub params: BTreeMap<String, serde_json::Value>,
    /// The objective's value.
    pub value: f64,
}

/// Runs `sampler_name` on `function` for `n` trials, one at a time, and
/// returns every trial; errors as [`run`]'s.
///
/// ```
/// # use keelson_hpo::protocol::{self, Protocol};
/// let p = Protocol::from_json(r#"{"budgets": [3], "seeds": [0], "functions": [{"name": "mixed_train_loss"}]}"#)?;
/// let t = protocol::trace(&p.resolve()?[0], "tpe", 0, 3)?;
/// assert_eq!((t.len(), t[2].trial), (3, 2));
/// assert!(t[0].params["optimizer"].is_string() && t[0].params["n_layers"].is_i64());
/// # Ok::<(), keelson_hpo::Error>(())
/// ```
pub fn trace(
    function: &Resolved,
    sampler_name: &str,
    seed: u64,
    n: usize,
) -> Result<Vec<TraceRecord>> {
    let tf = &function.function;
    let mut study = Study::new(
        function.space.clone(),
        Direction::Minimize,
        sampler(sampler_name, seed)?,
    )?;
    (0..n)
        .map(|i| {
            let trial = study.ask()?;
            let value = function.evaluate(&trial.params)?;
            study.tell(trial.id, outcome(value))?;
            let params = trial
                .params
                .iter()
                .map(|(name, v)| {
                    let json = match v {
                        Value::Double(x) | Value::Discrete(x) => serde_json::json!(x),
                        Value::Int(k) => serde_json::json!(k),
                        Value::Categorical(c) => serde_json::json!(c),
                    };
                    (name.to_owned(), json)
                })
                .collect();
            Ok(TraceRecord {
                function: tf.name().to_owned(),
                sampler: sampler_name.to_owned(),
                seed,
                trial: i,
                params,
                value,
            })
        })
        .collect()
}

/// Whether `sampler_name` can search `function`'s space (`false` for an
/// unknown or unimplemented sampler).
///
/// ```
/// # use keelson_hpo::protocol::{self, Protocol};
/// let p = Protocol::from_json(r#"{"budgets": [1], "seeds": [0], "functions": [{"name": "mixed_train_loss"}]}"#)?;
/// assert!(protocol::can_search("tpe", &p.resolve()?[0]));
/// assert!(!protocol::can_search("cmaes", &p.resolve()?[0])); // a categorical parameter
/// # Ok::<(), keelson_hpo::Error>(())
/// ```
pub fn can_search(sampler_name: &str, function: &Resolved) -> bool {
    sampler(sampler_name, 0).is_ok_and(|s| s.check_space(&function.space).is_ok())
}

/// The q-quantile with linear interpolation (numpy's default).
fn quantile(values: &mut [f64], q: f64) -> f64 {
    values.sort_by(f64::total_cmp);
    if values.is_empty() {
        return f64::NAN;
    }
    let pos = q * (values.len() - 1) as f64;
    let (i, frac) = (pos.floor() as usize, pos.fract());
    let next = values.get(i + 1).copied().unwrap_or(values[i]);
    values[i] + frac * (next - values[i])
}

/// Numbers as the anchor's tables print them.
fn fmt(x: f64) -> String {
    let a = x.abs();
    if x == 0.0 {
        "0".into()
    } else if a >= 100.0 {
        format!("{x:.0}")
    } else if a >= 1.0 {
        format!("{x:.2}")
    } else if a >= 1e-3 {
        format!("{x:.3}")
    } else {
        format!("{x:.1e}")
    }
}

/// The median regret [q25..q75] over seeds per (function, budget) and
/// sampler, one table per budget, then the median CPU µs per trial at each
/// budget, as markdown (functions and samplers in order of appearance).
///
/// ```
/// use keelson_hpo::protocol::{summary_markdown, Record};
/// let r = |seed, regret| Record { function: "f".into(), sampler: "s".into(), budget: 10, seed, best_value: regret,
///     regret, seconds_per_trial: 1e-6, cpu_seconds_per_trial: Some(1e-6),
///     marginal_seconds_per_trial: None, marginal_cpu_seconds_per_trial: None };
/// let md = summary_markdown(&[r(0, 1.0), r(1, 3.0)]);
/// assert!(md.contains("| f | 2.00 [1.50..2.50] |"), "{md}");
/// ```
pub fn summary_markdown(records: &[Record]) -> String {
    let mut functions: Vec<&str> = Vec::new();
    let mut samplers: Vec<&str> = Vec::new();
    let mut budgets: Vec<usize> = Vec::new();
    let mut cells: BTreeMap<(&str, &str, usize), Vec<&Record>> = BTreeMap::new();
    for r in records {
        if !functions.contains(&r.function.as_str()) {
            functions.push(&r.function);
        }
        if !samplers.contains(&r.sampler.as_str()) {
            samplers.push(&r.sampler);
        }
        if !budgets.contains(&r.budget) {
            budgets.push(r.budget);
        }
        cells
            .entry((&r.function, &r.sampler, r.budget))
            .or_default()
            .push(r);
    }
    budgets.sort_unstable();
    let header = |out: &mut String, first: &str| {
        out.push_str(&format!("| {first} | {} |\n", samplers.join(" | ")));
        out.push_str(&format!("|---|{}\n", "---|".repeat(samplers.len())));
    };
    let mut out = String::new();
    for &b in &budgets {
        out.push_str(&format!("### budget {b}: median regret [q25..q75]\n\n"));
        header(&mut out, "function");
        for f in &functions {
            let row: Vec<String> = samplers
                .iter()
                .map(|s| match cells.get(&(*f, *s, b)) {
                    Some(rs) => {
                        let mut reg: Vec<f64> = rs.iter().map(|r| r.regret).collect();
                        let (m, lo, hi) = (
                            quantile(&mut reg, 0.5),
                            quantile(&mut reg, 0.25),
                            quantile(&mut reg, 0.75),
                        );
                        format!("{} [{}..{}]", fmt(m), fmt(lo), fmt(hi))
                    }
                    None => "n/a".into(),
                })
                .collect();
            out.push_str(&format!("| {f} | {} |\n", row.join(" | ")));
        }
        out.push('\n');
    }
    out.push_str("### optimizer CPU µs per trial (median over seeds)\n\n");
    header(&mut out, "function, budget");
    for f in &functions {
        for &b in &budgets {
            let row: Vec<String> = samplers
                .iter()
                .map(|s| {
                    let mut cpu: Vec<f64> = cells
                        .get(&(*f, *s, b))
                        .into_iter()
                        .flatten()
                        .filter_map(|r| r.cpu_seconds_per_trial)
                        .collect();
                    if cpu.is_empty() {
                        "n/a".into()
                    } else {
                        format!("{:.1}", quantile(&mut cpu, 0.5) * 1e6)
                    }
                })
                .collect();
            out.push_str(&format!("| {f}, {b} | {} |\n", row.join(" | ")));
        }
    }
    out
}

/// The timing table: per sampler and N, the median over seeds of the
/// cumulative and the marginal CPU (and wall) µs per trial.
///
/// ```
/// use keelson_hpo::protocol::{timing_markdown, Record};
/// let r = Record { function: "branin".into(), sampler: "tpe".into(), budget: 100, seed: 0, best_value: 0.4,
///     regret: 0.002, seconds_per_trial: 2e-5, cpu_seconds_per_trial: Some(1e-5),
///     marginal_seconds_per_trial: Some(3e-5), marginal_cpu_seconds_per_trial: Some(2e-5) };
/// assert!(timing_markdown(&[r]).contains("| tpe | 100 | 1 | 10.0 | 20.0 | 20.0 | 30.0 |"));
/// ```
pub fn timing_markdown(records: &[Record]) -> String {
    let mut groups: Vec<((&str, usize), Vec<&Record>)> = Vec::new();
    for r in records {
        let key = (r.sampler.as_str(), r.budget);
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, rs)) => rs.push(r),
            None => groups.push((key, vec![r])),
        }
    }
    let mut out = String::from(
        "| sampler | N | seeds | cumulative CPU µs/trial | marginal CPU µs/trial | cumulative wall µs/trial | marginal wall µs/trial |\n|---|---|---|---|---|---|---|\n",
    );
    for ((s, n), rs) in groups {
        let med = |get: &dyn Fn(&Record) -> Option<f64>| {
            let mut v: Vec<f64> = rs.iter().filter_map(|r| get(r)).collect();
            if v.is_empty() {
                "n/a".to_owned()
            } else {
                format!("{:.1}", quantile(&mut v, 0.5) * 1e6)
            }
        };
        out.push_str(&format!(
            "| {s} | {n} | {} | {} | {} | {} | {} |\n",
            rs.len(),
            med(&|r| r.cpu_seconds_per_trial),
            med(&|r| r.marginal_cpu_seconds_per_trial),
            med(&|r| Some(r.seconds_per_trial)),
            med(&|r| r.marginal_seconds_per_trial),
        ));
    }
    out
}
