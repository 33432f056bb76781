//! Owen-scrambled Sobol points (Katib's `sobol`, which runs Goptuna's
//! unscrambled sequence).
//!
//! The direction numbers and the hash-based Owen scramble come from the
//! `sobol_burley` crate. Like Katib, the sequence starts at its second point:
//! Katib's first point would be the corner `(0, ..., 0)`; here, scrambled, it
//! is skipped only so that trial n gets Sobol point n + 1 as in Katib.
//!
//! `sobol_burley` has 256 dimensions and 2^16 points. Coordinates past 256
//! reuse the 256 dimensions with the point index shuffled by another seed
//! (Burley's padding: stratified within each block of 256, independent
//! across blocks); after 2^16 points the sequence starts over with a fresh
//! scramble. Both keep every suggestion valid however large the study gets.

use serde::{Deserialize, Serialize};
use sobol_burley::NUM_DIMENSIONS;
use sobol_burley::parts::{hash, owen_scramble_rev, sobol_rev};

use super::{Context, Sampler};
use crate::Result;
use crate::space::{Params, SearchSpace};

/// Points per scramble: `sobol_burley` reads the top 16 bits of the index.
const POINTS_PER_EPOCH: u64 = 1 << 16;

/// Quasi-random search over the unit cube with a scrambled Sobol sequence.
///
/// The state is the seed and the number of points handed out, so it
/// serializes in a few bytes.
///
/// ```
/// use keelson_hpo::{Direction, ParamSpec, SearchSpace, SobolSampler, Study};
///
/// let space = SearchSpace::new([ParamSpec::double("x", 0.0, 1.0)])?;
/// let mut study = Study::new(space, Direction::Minimize, SobolSampler::new(0))?;
/// let xs: Vec<f64> = (0..8).map(|_| study.ask().and_then(|t| t.params.f64("x"))).collect::<Result<_, _>>()?;
/// // Sobol points 1..=8 fill [0, 1) evenly: every eighth gets exactly one of points 0..8,
/// // and point 8 is the first of the next round.
/// let mut cells: Vec<u32> = xs[..7].iter().map(|x| (x * 8.0) as u32).collect();
/// cells.sort();
/// cells.dedup();
/// assert_eq!(cells.len(), 7);
/// # Ok::<(), keelson_hpo::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SobolSampler {
    seed: u64,
    issued: u64,
}

impl SobolSampler {
    /// A Sobol sampler whose scramble is drawn from `seed`.
    ///
    /// ```
    /// assert_ne!(keelson_hpo::SobolSampler::new(1), keelson_hpo::SobolSampler::new(2));
    /// ```
    pub fn new(seed: u64) -> Self {
        SobolSampler { seed, issued: 0 }
    }

    /// Coordinate `dim` of point `index` of the scrambled sequence.
    fn coordinate(&self, index: u64, dim: usize) -> f64 {
        let epoch = index / POINTS_PER_EPOCH;
        // Below 2^16 by the division above.
        let local = (index % POINTS_PER_EPOCH) as u32;
        let block = (dim / NUM_DIMENSIONS as usize) as u64;
        let base_dim = (dim % NUM_DIMENSIONS as usize) as u32;
        let mut index_rev = local.reverse_bits();
        if block > 0 {
            index_rev = owen_scramble_rev(
                index_rev,
                mix(self.seed, 0x5348_5546_0000_0000 ^ (epoch << 20) ^ block),
            );
        }
        let scramble = mix(self.seed, (epoch << 32) ^ dim as u64);
        let bits = owen_scramble_rev(sobol_rev(index_rev, base_dim), scramble).reverse_bits();
        f64::from(bits) * (1.0 / 4_294_967_296.0)
    }
}

/// A well-mixed 32-bit scramble value from the seed and a salt (the
/// SplitMix64 finalizer, then `sobol_burley`'s hash, as it asks for).
fn mix(seed: u64, salt: u64) -> u32 {
    let mut z = seed ^ salt.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    hash((z ^ (z >> 32)) as u32)
}

impl Sampler for SobolSampler {
    fn name(&self) -> &str {
        "sobol"
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
        // Skip point 0, as Katib does.
        let index = self.issued.saturating_add(1);
        let point: Vec<f64> = (0..ctx.space.dims())
            .map(|dim| self.coordinate(index, dim))
            .collect();
        let params = ctx.space.decode(&point)?;
        self.issued = index;
        Ok(Some(params))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_points_are_stratified_in_every_dimension() {
        let s = SobolSampler::new(9);
        // Points 0..16 of a (0, m, s)-net put one point in each 1/16 slot of
        // every coordinate; 2^16 wraps into a fresh scramble.
        for dim in [0, 1, 7, 255, 256, 300] {
            let mut slots: Vec<u32> = (0..16)
                .map(|i| (s.coordinate(i, dim) * 16.0) as u32)
                .collect();
            slots.sort_unstable();
            assert_eq!(slots, (0..16).collect::<Vec<_>>(), "dim {dim}");
        }
        let again: Vec<u32> = (POINTS_PER_EPOCH..POINTS_PER_EPOCH + 16)
            .map(|i| (s.coordinate(i, 0) * 16.0) as u32)
            .collect();
        assert_eq!(again.iter().filter(|&&x| x < 16).count(), 16);
    }
}
