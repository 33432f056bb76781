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
//!   [`SobolSampler`] (scrambled, skipping the first point as Katib does),
//!   [`TpeSampler`] (Optuna's TPE, univariate or multivariate),
//!   [`GpSampler`] (Gaussian-process BO with log expected improvement,
//!   mixed spaces included),
//!   [`CmaEsSampler`] (CMA-ES with IPOP/BIPOP restarts, separable and
//!   learning-rate-adapted variants, and the margin for integers),
//!   [`Nsga2Sampler`] (NSGA-II, for several objectives),
//!   [`HyperbandSampler`] and [`AshaSampler`] (successive halving over a
//!   resource parameter such as epochs), behind the [`Sampler`] trait;
//!   [`AnySampler`] picks one at run time and serializes.
//! * **Population based training** — [`pbt`]: exploit and explore over a
//!   population whose trials resume from checkpoint handles, as its own
//!   resumable ask/tell type.
//! * **Studies** — [`study`]: ask / ask_n / tell / report, the best trial,
//!   save and restore; several objectives ([`Study::multi`]) with their
//!   Pareto front; [`optimize`] for the offline loop, where objective
//!   errors and panics become failed trials.
//! * **Pareto** — [`pareto`]: dominance, the non-dominated set and sort,
//!   crowding distance and hypervolume.
//! * **Early stopping** — [`pruner`]: Katib's `medianstop` and successive
//!   halving over intermediate values.
//! * **Test functions** — [`testfns`]: Branin, Hartmann, Rosenbrock,
//!   Ackley, ... with bounds and known optima, by name (`rosenbrock10`).
//!
//! * **Protocol** — [`protocol`]: the HPO anchor protocol's runner, records
//!   and summary tables, for comparing with Optuna.
//!
//! * **Katib** — `katib` (feature `crd`): a study from a Katib
//!   `Experiment`, and a trial's run spec rendered from its `trialTemplate`.
//!
//! Not yet: MOTPE (TPE for several objectives). See `docs/hpo.md`.
//!
//! # Features
//!
//! * `progress` (default): the progress bar of [`Study::optimize`]
//!   ([`OptimizeOptions::progress`] still turns it off per call).
//! * `crd`: the `katib` module, over keelson-crd's Katib types.
//!
//! # Dependencies, and why
//!
//! * `serde`, `serde_json`, `serde_yaml_ng` — spaces are JSON/YAML documents;
//!   studies, samplers and pruners are serde types and save as JSON.
//! * `thiserror` — the crate's one [`Error`] enum.
//! * `rand`, `rand_chacha` (with `serde`) — seeded randomness that is the same
//!   on every platform and whose position is saved with the study, which is
//!   what makes a restored study continue exactly.
//! * `rand_distr` — standard normal draws (ziggurat) for CMA-ES's
//!   offspring.
//! * `libm` — `erf` and `erfc` to full precision (the C library's
//!   algorithm, which Optuna's Python calls too), for the truncated normal's
//!   quantile by which TPE draws its candidates as Optuna does; `std` has no
//!   error function. TPE's own stream is numpy's MT19937, written out in
//!   `samplers::numpy_random` because its whole state must save with the
//!   study.
//! * `sobol_burley` — Sobol direction numbers and a fast hash-based Owen
//!   scramble; writing those tables by hand would only add risk.
//! * `nalgebra` — the symmetric eigendecomposition of CMA-ES's covariance
//!   matrix (once per generation), and the Cholesky factorization of
//!   [`GpSampler`]'s kernel matrix with the products that score its
//!   candidates in bulk.
//! * `argmin`, `argmin-math` (nalgebra backend) — L-BFGS with the
//!   Moré–Thuente line search, which fits [`GpSampler`]'s hyperparameters
//!   and refines the maximizers of its acquisition function.
//! * `indicatif` (optional, `progress`) — the progress bar.
//! * `keelson-crd` (optional, `crd`) — the Katib `Experiment` type read by
//!   the `katib` module.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod error;
pub mod fuzz;
#[cfg(feature = "crd")]
#[cfg_attr(docsrs, doc(cfg(feature = "crd")))]
pub mod katib;
mod normal;
pub mod optimize;
pub mod pareto;
pub mod pbt;
pub mod protocol;
pub mod pruner;
pub mod samplers;
pub mod space;
pub mod study;
pub mod testfns;

pub use error::{Error, Result};
pub use optimize::{ObjectiveValue, ObjectiveValues, OptimizeOptions, OptimizeSummary, TrialRun};
pub use pruner::{Decision, MedianStop, Pruner, Reference, SuccessiveHalving};
pub use samplers::{
    AnySampler, AshaSampler, CmaEsSampler, Context, GpSampler, GridSampler, HyperbandSampler,
    Nsga2Sampler, RandomSampler, Sampler, SobolSampler, TpeSampler,
};
pub use space::{
    Condition, Distribution, FeasibleSpace, ListItem, Number, Param, ParamKind, ParamSpec,
    ParameterType, Params, SearchSpace, SpaceSpec, Value,
};
pub use study::{Direction, Outcome, Study, Trial, TrialRecord, TrialState};
