//! keelson-hpo: hyperparameter search as a library. Search spaces in Katib's
//! format, search algorithms behind one ask/tell [`Study`], early stopping,
//! and a study state that saves to JSON and resumes exactly where it was.
//!
//! ```
//! use keelson_hpo::{Direction, Outcome, SearchSpace, SobolSampler, Study};
//!
//! let space = SearchSpace::from_yaml(r#"
//! parameters:
//!   - {name: lr, parameterType: double, feasibleSpace: {min: "1e-4", max: "1e-1", distribution: logUniform}}
//!   - {name: layers, parameterType: int, feasibleSpace: {min: 1, max: 4}}
//! "#)?;
//! let mut study = Study::new(space, Direction::Minimize, SobolSampler::new(42))?;
//! for _ in 0..16 {
//!     let trial = study.ask()?; // run it anywhere: a thread, a Kubernetes job...
//!     let loss = (trial.params.f64("lr")?.log10() + 2.0).powi(2) + trial.params.f64("layers")?;
//!     study.tell(trial.id, Outcome::Value(loss))?;
//! }
//! let best = study.best_trial().expect("16 complete trials");
//! assert!(best.value.unwrap() < 1.5);
//!
//! // A controller restarts: the saved study continues with the same suggestions.
//! let saved = study.save()?;
//! let mut resumed: Study<SobolSampler> = Study::restore(&saved)?;
//! assert_eq!(resumed.ask()?, study.ask()?);
//! # Ok::<(), keelson_hpo::Error>(())
//! ```
//!
//! It is for a controller that plays Katib's Suggestion service (the state
//! it must keep is one serde value) and for a Rust program that tunes a
//! model offline ([`Study::optimize`] runs the loop, on threads if asked,
//! with a progress bar). It does not run trials, talk to Kubernetes or store
//! anything by itself.
//!
//! # What is here
//!
//! * **Spaces** — [`space`]: Katib's `double`, `int` (min, max, optional step,
//!   uniform / logUniform / normal / logNormal), `discrete` and
//!   `categorical`, plus conditional parameters; validation that names the
//!   offending parameter; the JSON/YAML document format; the unit-cube
//!   representation samplers work in.
//! * **Samplers** — [`samplers`]: [`RandomSampler`], [`GridSampler`],
//!   [`SobolSampler`] (scrambled, skipping the first point as Katib does)
//!   [`TpeSampler`] (Optuna's TPE, univariate or multivariate) and
//!   [`GpSampler`] (Gaussian-process BO with log expected improvement,
//!   mixed spaces included), behind the [`Sampler`] trait; [`AnySampler`] picks one at run time and
//!   serializes.
//! * **Studies** — [`study`]: ask / ask_n / tell / report, the best trial,
//!   save and restore; [`optimize`] for the offline loop, where objective
//!   errors and panics become failed trials.
//! * **Early stopping** — [`pruner`]: Katib's `medianstop` and successive
//!   halving over intermediate values.
//! * **Test functions** — [`testfns`]: Branin, Hartmann, Rosenbrock,
//!   Ackley, ... with bounds and known optima, by name (`rosenbrock10`).
//!
//! * **Protocol** — [`protocol`]: the HPO anchor protocol's runner, records
//!   and summary tables, for comparing with Optuna.
//!
//! Not yet: CMA-ES, Hyperband/ASHA, PBT, NSGA-II,
//! and building a study from a Katib `Experiment`. See `docs/hpo.md`.
//!
//! # Features
//!
//! * `progress` (default): the progress bar of [`Study::optimize`]
//!   ([`OptimizeOptions::progress`] still turns it off per call).
//!
//! # Dependencies, and why
//!
//! * `serde`, `serde_json`, `serde_yaml_ng` — spaces are JSON/YAML documents;
//!   studies, samplers and pruners are serde types and save as JSON.
//! * `thiserror` — the crate's one [`Error`] enum.
//! * `rand`, `rand_chacha` (with `serde`) — seeded randomness that is the same
//!   on every platform and whose position is saved with the study, which is
//!   what makes a restored study continue exactly.
//! * `rand_distr` — standard normal draws (ziggurat) for TPE's truncated
//!   Gaussian kernels, by rejection.
//! * `sobol_burley` — Sobol direction numbers and a fast hash-based Owen
//!   scramble; writing those tables by hand would only add risk.
//! * `nalgebra` — the Cholesky factorization of [`GpSampler`]'s kernel
//!   matrix, and the matrix products that score its candidates in bulk.
//! * `argmin`, `argmin-math` (nalgebra backend) — L-BFGS with the
//!   Moré–Thuente line search, which fits [`GpSampler`]'s hyperparameters
//!   and refines the maximizers of its acquisition function.
//! * `indicatif` (optional, `progress`) — the progress bar.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod error;
pub mod fuzz;
mod normal;
pub mod optimize;
pub mod protocol;
pub mod pruner;
pub mod samplers;
pub mod space;
pub mod study;
pub mod testfns;

pub use error::{Error, Result};
pub use optimize::{ObjectiveValue, OptimizeOptions, OptimizeSummary, TrialRun};
pub use pruner::{Decision, MedianStop, Pruner, Reference, SuccessiveHalving};
pub use samplers::{
    AnySampler, Context, GpSampler, GridSampler, RandomSampler, Sampler, SobolSampler, TpeSampler,
};
pub use space::{
    Condition, Distribution, FeasibleSpace, ListItem, Number, Param, ParamKind, ParamSpec,
    ParameterType, Params, SearchSpace, SpaceSpec, Value,
};
pub use study::{Direction, Outcome, Study, Trial, TrialRecord, TrialState};
