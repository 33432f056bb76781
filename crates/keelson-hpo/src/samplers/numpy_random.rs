//! numpy's legacy `RandomState` stream (MT19937), which Optuna's samplers
//! draw from: with it, [`super::TpeSampler`] makes Optuna's suggestions
//! for the same seed, so a study moved from Optuna (or from Katib's
//! Optuna-backed `multivariate-tpe`) to keelson can be replayed and
//! compared trial by trial.
//!
//! Only what Optuna's TPE uses is here: seeding from an integer, and
//! `random_sample` (53-bit doubles in `[0, 1)`), which its `uniform(0, 1)`,
//! `rand` and `choice(p=...)` all reduce to.

use serde::{Deserialize, Serialize};

const N: usize = 624;
const M: usize = 397;
const MATRIX_A: u32 = 0x9908_b0df;
const UPPER: u32 = 0x8000_0000;
const LOWER: u32 = 0x7fff_ffff;

/// MT19937 as numpy's `RandomState(seed)` seeds and reads it: seeded with
/// 0, its first `random_sample()` is numpy's 0.5488135039273248.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "SavedState")]
pub(super) struct RandomState {
    key: Vec<u32>,
    pos: usize,
}

/// A saved [`RandomState`] before it is checked: a document whose key is
/// not 624 words long, or whose position lies past it, is refused rather
/// than read out of bounds or reseeded.
#[derive(Deserialize)]
struct SavedState {
    key: Vec<u32>,
    pos: usize,
}

impl TryFrom<SavedState> for RandomState {
    type Error = String;

    fn try_from(saved: SavedState) -> Result<RandomState, String> {
        if saved.key.len() != N || saved.pos > N {
            return Err(format!(
                "an MT19937 state needs {N} key words and a position up to {N}, got {} and {}",
                saved.key.len(),
                saved.pos
            ));
        }
        Ok(RandomState {
            key: saved.key,
            pos: saved.pos,
        })
    }
}

impl RandomState {
    /// `RandomState(seed)` for a seed below 2^32 (numpy's `init_genrand`);
    /// a larger one, which numpy refuses as an integer, seeds as numpy's
    /// `RandomState([low 32 bits, high 32 bits])` would (`init_by_array`).
    pub(super) fn new(seed: u64) -> RandomState {
        match u32::try_from(seed) {
            Ok(s) => RandomState::from_u32(s),
            Err(_) => RandomState::from_words(&[seed as u32, (seed >> 32) as u32]),
        }
    }

    fn from_u32(seed: u32) -> RandomState {
        let mut key = vec![0_u32; N];
        let mut s = seed;
        for (i, k) in key.iter_mut().enumerate() {
            *k = s;
            s = 1_812_433_253_u32
                .wrapping_mul(s ^ (s >> 30))
                .wrapping_add(i as u32 + 1);
        }
        RandomState { key, pos: N }
    }

    fn from_words(words: &[u32]) -> RandomState {
        let mut state = RandomState::from_u32(19_650_218);
        let mt = &mut state.key;
        let (mut i, mut j) = (1_usize, 0_usize);
        for _ in 0..N.max(words.len()) {
            let prev = mt[i - 1] ^ (mt[i - 1] >> 30);
            mt[i] = (mt[i] ^ prev.wrapping_mul(1_664_525))
                .wrapping_add(words[j])
                .wrapping_add(j as u32);
            i += 1;
            j += 1;
            if i >= N {
                mt[0] = mt[N - 1];
                i = 1;
            }
            if j >= words.len() {
                j = 0;
            }
        }
        for _ in 0..N - 1 {
            let prev = mt[i - 1] ^ (mt[i - 1] >> 30);
            mt[i] = (mt[i] ^ prev.wrapping_mul(1_566_083_941)).wrapping_sub(i as u32);
            i += 1;
            if i >= N {
                mt[0] = mt[N - 1];
                i = 1;
            }
        }
        mt[0] = UPPER;
        state.pos = N;
        state
    }

    fn twist(&mut self) {
        let mt = &mut self.key;
        let mix = |upper: u32, lower: u32, far: u32| {
            let y = (upper & UPPER) | (lower & LOWER);
            far ^ (y >> 1) ^ (0_u32.wrapping_sub(y & 1) & MATRIX_A)
        };
        // The three ranges of the classic loop, without a modulo per word.
        for i in 0..N - M {
            mt[i] = mix(mt[i], mt[i + 1], mt[i + M]);
        }
        for i in N - M..N - 1 {
            mt[i] = mix(mt[i], mt[i + 1], mt[i + M - N]);
        }
        mt[N - 1] = mix(mt[N - 1], mt[0], mt[M - 1]);
        self.pos = 0;
    }

    fn next_u32(&mut self) -> u32 {
        if self.pos >= N {
            self.twist();
        }
        let mut y = self.key[self.pos];
        self.pos += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^ (y >> 18)
    }

    /// numpy's `random_sample()`: a double in `[0, 1)` from two words.
    pub(super) fn random_sample(&mut self) -> f64 {
        let a = f64::from(self.next_u32() >> 5);
        let b = f64::from(self.next_u32() >> 6);
        (a * 67_108_864.0 + b) / 9_007_199_254_740_992.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_numpys_random_state() {
        // np.random.RandomState(s).random_sample(3), numpy 2.4.6; 2^40 as
        // RandomState(np.array([0, 256], dtype=np.uint32)).
        let cases: [(u64, [f64; 3]); 3] = [
            (
                0,
                [0.5488135039273248, 0.7151893663724195, 0.6027633760716439],
            ),
            (
                1,
                [
                    0.417022004702574,
                    0.7203244934421581,
                    0.00011437481734488664,
                ],
            ),
            (
                1 << 40,
                [0.1036394562812375, 0.6705558677439764, 0.4266543913526999],
            ),
        ];
        for (seed, want) in cases {
            let mut rng = RandomState::new(seed);
            let got: Vec<f64> = (0..3).map(|_| rng.random_sample()).collect();
            assert_eq!(got, want, "seed {seed}");
        }
    }

    #[test]
    fn a_restored_state_continues_the_stream() -> serde_json::Result<()> {
        let mut rng = RandomState::new(7);
        for _ in 0..700 {
            rng.random_sample();
        }
        let mut back: RandomState = serde_json::from_str(&serde_json::to_string(&rng)?)?;
        assert_eq!(rng.random_sample(), back.random_sample());
        Ok(())
    }

    #[test]
    fn a_malformed_state_is_refused() -> serde_json::Result<()> {
        let short = serde_json::from_str::<RandomState>(r#"{"key": [1, 2, 3], "pos": 0}"#);
        assert!(short.is_err_and(|e| e.to_string().contains("624 key words")));
        let mut doc = serde_json::to_value(RandomState::new(1))?;
        doc["pos"] = 625.into();
        assert!(serde_json::from_value::<RandomState>(doc).is_err());
        Ok(())
    }
}
