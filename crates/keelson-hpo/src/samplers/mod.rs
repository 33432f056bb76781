//! Search algorithms behind one [`Sampler`] trait, and [`AnySampler`], the
//! serializable choice among them.
//!
//! A sampler proposes the next assignment from the study's history. Its
//! whole state (random generator included) is serde data, so a study saved
//! and restored continues with exactly the suggestions it would have made.
//!
//! [`HyperbandSampler`] and [`AshaSampler`] also set a resource parameter
//! (epochs, steps) of the space: their trials are the same configuration
//! run again with more resource. Population based training, whose trials
//! resume from checkpoints, is not a sampler: see [`crate::pbt`].

mod asha;
mod cmaes;
mod gp;
mod grid;
mod hyperband;
mod nsga2;
mod numpy_argsort;
mod numpy_random;
mod numpy_sum;
mod random;
mod rungs;
mod sobol;
mod tpe;
mod truncnorm;

use serde::{Deserialize, Serialize};

pub use asha::{AshaOptions, AshaSampler};
pub use cmaes::{CmaEsOptions, CmaEsSampler, Restart};
pub use gp::{GpOptions, GpOutput, GpSampler};
pub use grid::GridSampler;
pub use hyperband::{HyperbandOptions, HyperbandSampler, Rung};
pub use nsga2::{Crossover, Nsga2Options, Nsga2Sampler};
pub use random::RandomSampler;
pub use sobol::SobolSampler;
pub use tpe::{Gamma, TpeOptions, TpeSampler, Weights};

use crate::Result;
use crate::space::{Params, SearchSpace};
use crate::study::{Direction, TrialRecord};

/// What a sampler sees when asked for a suggestion.
///
/// `trials` holds every trial of the study in id order, whatever its state:
/// model-based samplers learn from the complete ones (parameters, value,
/// intermediate values) and can treat the running ones as pending, e.g. with
/// a constant liar.
///
/// `directions` has one entry per objective and `direction` is the first.
/// A single-objective study's complete trials carry their value in
/// [`TrialRecord::value`]; a multi-objective study's (two directions or
/// more, only for samplers whose [`Sampler::multi_objective`] is true) carry
/// theirs in [`TrialRecord::values`]. [`TrialRecord::objectives`] reads
/// either.
///
/// ```
/// use keelson_hpo::{Context, Direction, ParamSpec, RandomSampler, Sampler, SearchSpace};
///
/// let space = SearchSpace::new([ParamSpec::int("n", 0, 9)])?;
/// let mut sampler = RandomSampler::new(5);
/// let params = sampler.suggest(&Context::new(&space, &[], Direction::Minimize))?;
/// assert!(params.is_some());
/// # Ok::<(), keelson_hpo::Error>(())
/// ```
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct Context<'a> {
    /// The search space.
    pub space: &'a SearchSpace,
    /// Every trial so far, by id.
    pub trials: &'a [TrialRecord],
    /// Whether smaller or larger values are better (of the first objective,
    /// in a multi-objective study).
    pub direction: Direction,
    /// Every objective's direction: one for a single-objective study.
    pub directions: &'a [Direction],
}

impl<'a> Context<'a> {
    /// A context over a space and a history.
    ///
    /// ```
    /// use keelson_hpo::{Context, Direction, ParamSpec, SearchSpace};
    /// let space = SearchSpace::new([ParamSpec::int("n", 0, 9)])?;
    /// let ctx = Context::new(&space, &[], Direction::Maximize);
    /// assert!(ctx.trials.is_empty());
    /// # Ok::<(), keelson_hpo::Error>(())
    /// ```
    pub fn new(space: &'a SearchSpace, trials: &'a [TrialRecord], direction: Direction) -> Self {
        let directions: &'static [Direction] = match direction {
            Direction::Minimize => &[Direction::Minimize],
            Direction::Maximize => &[Direction::Maximize],
        };
        Context {
            space,
            trials,
            direction,
            directions,
        }
    }

    /// A context for a study with one objective per direction; no direction
    /// counts as one minimized objective.
    ///
    /// ```
    /// use keelson_hpo::{Context, Direction, ParamSpec, SearchSpace};
    /// let space = SearchSpace::new([ParamSpec::int("n", 0, 9)])?;
    /// let both = [Direction::Maximize, Direction::Minimize];
    /// let ctx = Context::with_directions(&space, &[], &both);
    /// assert_eq!((ctx.direction, ctx.directions.len()), (Direction::Maximize, 2));
    /// # Ok::<(), keelson_hpo::Error>(())
    /// ```
    pub fn with_directions(
        space: &'a SearchSpace,
        trials: &'a [TrialRecord],
        directions: &'a [Direction],
    ) -> Self {
        match directions.first() {
            Some(&direction) => Context {
                space,
                trials,
                direction,
                directions,
            },
            None => Context::new(space, trials, Direction::Minimize),
        }
    }
}

/// A search algorithm.
///
/// Implementations must be deterministic given their state and the
/// [`Context`]: that is what makes a restored study continue exactly. The
/// trait is object-safe; [`AnySampler`] is the serializable enum over this
/// crate's samplers.
///
/// ```
/// use keelson_hpo::{Context, Params, Result, Sampler, SearchSpace};
///
/// /// Always the middle of the unit cube.
/// struct Centre;
///
/// impl Sampler for Centre {
///     fn name(&self) -> &str { "centre" }
///     fn check_space(&self, _: &SearchSpace) -> Result<()> { Ok(()) }
///     fn suggest(&mut self, ctx: &Context<'_>) -> Result<Option<Params>> {
///         ctx.space.decode(&vec![0.5; ctx.space.dims()]).map(Some)
///     }
/// }
///
/// let space = SearchSpace::new([keelson_hpo::ParamSpec::double("x", 0.0, 2.0)])?;
/// let mut study = keelson_hpo::Study::new(space, keelson_hpo::Direction::Minimize, Centre)?;
/// assert_eq!(study.ask()?.params.f64("x")?, 1.0);
/// # Ok::<(), keelson_hpo::Error>(())
/// ```
pub trait Sampler {
    /// A short stable name (`random`, `grid`, `sobol`, ...), used in errors
    /// and records.
    fn name(&self) -> &str;

    /// Whether this sampler can search `space`; an error naming the
    /// parameter it cannot handle. Called when a study is created or
    /// restored; must not change the sampler's state.
    fn check_space(&self, space: &SearchSpace) -> Result<()>;

    /// The next assignment, or `None` when the sampler has nothing left
    /// (the study then reports [`Error::Exhausted`](crate::Error::Exhausted)).
    fn suggest(&mut self, ctx: &Context<'_>) -> Result<Option<Params>>;

    /// Whether the sampler can serve a study with several objectives
    /// ([`Study::multi`](crate::Study::multi)); false unless overridden, so a
    /// sampler that ranks trials by one value is refused such a study when
    /// it is created or restored.
    ///
    /// ```
    /// use keelson_hpo::{Nsga2Sampler, RandomSampler, Sampler, TpeSampler};
    /// assert!(RandomSampler::new(0).multi_objective());
    /// assert!(Nsga2Sampler::new(0).multi_objective());
    /// assert!(!TpeSampler::new(0).multi_objective());
    /// ```
    fn multi_objective(&self) -> bool {
        false
    }
}

/// Every sampler of this crate as one serializable type; in JSON, an object
/// with the algorithm's name as its one key.
///
/// (Not tagged by a field inside the object: serde would then buffer the
/// random generator's 128-bit position in a form that cannot hold it.)
///
/// ```
/// use keelson_hpo::{AnySampler, Sampler, SobolSampler};
///
/// let sampler = AnySampler::from(SobolSampler::new(1));
/// let json = serde_json::to_string(&sampler).unwrap();
/// assert_eq!(json, r#"{"sobol":{"seed":1,"issued":0}}"#);
/// let back: AnySampler = serde_json::from_str(&json).unwrap();
/// assert_eq!(back.name(), "sobol");
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
#[allow(
    clippy::large_enum_variant,
    reason = "a study holds one sampler; boxing the random generator would buy nothing"
)]
pub enum AnySampler {
    /// [`RandomSampler`].
    Random(RandomSampler),
    /// [`GridSampler`].
    Grid(GridSampler),
    /// [`SobolSampler`].
    Sobol(SobolSampler),
    /// [`TpeSampler`].
    Tpe(TpeSampler),
    /// [`Nsga2Sampler`].
    Nsga2(Nsga2Sampler),
    /// [`HyperbandSampler`].
    Hyperband(HyperbandSampler),
    /// [`AshaSampler`].
    Asha(AshaSampler),
    /// [`CmaEsSampler`].
    CmaEs(CmaEsSampler),
    /// [`GpSampler`].
    Gp(GpSampler),
}

impl Sampler for AnySampler {
    fn name(&self) -> &str {
        match self {
            AnySampler::Random(s) => s.name(),
            AnySampler::Grid(s) => s.name(),
            AnySampler::Sobol(s) => s.name(),
            AnySampler::Tpe(s) => s.name(),
            AnySampler::Nsga2(s) => s.name(),
            AnySampler::Hyperband(s) => s.name(),
            AnySampler::Asha(s) => s.name(),
            AnySampler::CmaEs(s) => s.name(),
            AnySampler::Gp(s) => s.name(),
        }
    }

    fn check_space(&self, space: &SearchSpace) -> Result<()> {
        match self {
            AnySampler::Random(s) => s.check_space(space),
            AnySampler::Grid(s) => s.check_space(space),
            AnySampler::Sobol(s) => s.check_space(space),
            AnySampler::Tpe(s) => s.check_space(space),
            AnySampler::Nsga2(s) => s.check_space(space),
            AnySampler::Hyperband(s) => s.check_space(space),
            AnySampler::Asha(s) => s.check_space(space),
            AnySampler::CmaEs(s) => s.check_space(space),
            AnySampler::Gp(s) => s.check_space(space),
        }
    }

    fn suggest(&mut self, ctx: &Context<'_>) -> Result<Option<Params>> {
        match self {
            AnySampler::Random(s) => s.suggest(ctx),
            AnySampler::Grid(s) => s.suggest(ctx),
            AnySampler::Sobol(s) => s.suggest(ctx),
            AnySampler::Tpe(s) => s.suggest(ctx),
            AnySampler::Nsga2(s) => s.suggest(ctx),
            AnySampler::Hyperband(s) => s.suggest(ctx),
            AnySampler::Asha(s) => s.suggest(ctx),
            AnySampler::CmaEs(s) => s.suggest(ctx),
            AnySampler::Gp(s) => s.suggest(ctx),
        }
    }

    fn multi_objective(&self) -> bool {
        match self {
            AnySampler::Random(s) => s.multi_objective(),
            AnySampler::Grid(s) => s.multi_objective(),
            AnySampler::Sobol(s) => s.multi_objective(),
            AnySampler::Tpe(s) => s.multi_objective(),
            AnySampler::Nsga2(s) => s.multi_objective(),
            AnySampler::Hyperband(s) => s.multi_objective(),
            AnySampler::Asha(s) => s.multi_objective(),
            AnySampler::CmaEs(s) => s.multi_objective(),
            AnySampler::Gp(s) => s.multi_objective(),
        }
    }
}

impl From<RandomSampler> for AnySampler {
    fn from(s: RandomSampler) -> Self {
        AnySampler::Random(s)
    }
}

impl From<GridSampler> for AnySampler {
    fn from(s: GridSampler) -> Self {
        AnySampler::Grid(s)
    }
}

impl From<SobolSampler> for AnySampler {
    fn from(s: SobolSampler) -> Self {
        AnySampler::Sobol(s)
    }
}

impl From<CmaEsSampler> for AnySampler {
    fn from(s: CmaEsSampler) -> Self {
        AnySampler::CmaEs(s)
    }
}

impl From<TpeSampler> for AnySampler {
    fn from(s: TpeSampler) -> Self {
        AnySampler::Tpe(s)
    }
}

impl From<Nsga2Sampler> for AnySampler {
    fn from(s: Nsga2Sampler) -> Self {
        AnySampler::Nsga2(s)
    }
}

impl From<HyperbandSampler> for AnySampler {
    fn from(s: HyperbandSampler) -> Self {
        AnySampler::Hyperband(s)
    }
}

impl From<AshaSampler> for AnySampler {
    fn from(s: AshaSampler) -> Self {
        AnySampler::Asha(s)
    }
}

impl From<GpSampler> for AnySampler {
    fn from(s: GpSampler) -> Self {
        AnySampler::Gp(s)
    }
}
