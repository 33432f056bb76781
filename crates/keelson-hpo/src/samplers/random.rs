//! Independent uniform draws from the unit cube: every parameter from its
//! own distribution (Katib's `random`).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::{Context, Sampler};
use crate::Result;
use crate::space::{Params, SearchSpace};

/// Random search. The generator is ChaCha8, whose output is the same on
/// every platform and whose position serializes with the study.
///
/// One coordinate is drawn for every parameter of the space, active or not,
/// so the n-th suggestion does not depend on which branch earlier ones took.
///
/// ```
/// use keelson_hpo::{Direction, ParamSpec, RandomSampler, SearchSpace, Study};
///
/// let space = SearchSpace::new([ParamSpec::double("x", 0.0, 1.0)])?;
/// let mut a = Study::new(space.clone(), Direction::Minimize, RandomSampler::new(42))?;
/// let mut b = Study::new(space, Direction::Minimize, RandomSampler::new(42))?;
/// assert_eq!(a.ask()?, b.ask()?); // same seed, same suggestions
/// # Ok::<(), keelson_hpo::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RandomSampler {
    rng: ChaCha8Rng,
}

impl RandomSampler {
    /// A random sampler seeded with `seed` (Katib's `random_state`).
    ///
    /// ```
    /// assert_ne!(keelson_hpo::RandomSampler::new(1), keelson_hpo::RandomSampler::new(2));
    /// ```
    pub fn new(seed: u64) -> Self {
        RandomSampler {
            rng: ChaCha8Rng::seed_from_u64(seed),
        }
    }
}

impl Sampler for RandomSampler {
    fn name(&self) -> &str {
        "random"
    }

    /// Suggestions do not depend on the values, so any number of
    /// objectives will do.
    fn multi_objective(&self) -> bool {
        true
    }

    fn check_space(&self, _space: &SearchSpace) -> Result<()> {
        Ok(())
    }

    fn suggest(&mut self, ctx: &Context<'_>) -> Result<Option<Params>> {
        let point: Vec<f64> = (0..ctx.space.dims())
            .map(|_| self.rng.random::<f64>())
            .collect();
        ctx.space.decode(&point).map(Some)
    }
}
