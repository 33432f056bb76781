//! Learning-rate adaptation (LRA-CMA-ES: Nomura, Akimoto and Ono, "CMA-ES
//! with Learning Rate Adaptation: Can CMA-ES with Default Population Size
//! Solve Multimodal and Noisy Problems?", GECCO 2023).
//!
//! The plain update's step in the mean and in Σ = σ²C is measured in the
//! old distribution's own coordinates. Exponential averages of those steps
//! and of their squared lengths estimate the step's signal-to-noise ratio;
//! each learning rate (one for the mean, one for Σ) grows while the ratio
//! is above the target α·η and shrinks below it, never above 1. On noisy or
//! multimodal functions the rates fall and the search averages over more
//! generations instead of chasing noise.

use serde::{Deserialize, Serialize};

/// The paper's hyperparameters: target SNR factor α, averaging rates β
/// (mean, Σ) and the damping γ of a rate's change.
const ALPHA: f64 = 1.4;
const BETA_MEAN: f64 = 0.1;
const BETA_COV: f64 = 0.03;
const GAMMA: f64 = 0.1;

/// The adapted rates and the averages they come from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(super) struct LrAdapt {
    eta_mean: f64,
    eta_cov: f64,
    /// Average local step of the mean (n).
    avg_mean: Vec<f64>,
    /// Average local step of Σ, as an n×n matrix scaled by 1/√2 (n²).
    avg_cov: Vec<f64>,
    /// Averages of the squared lengths of those steps.
    avg_sq_mean: f64,
    avg_sq_cov: f64,
}

impl LrAdapt {
    /// Rates 1 (the plain update) and empty averages.
    pub(super) fn new(n: usize) -> LrAdapt {
        LrAdapt {
            eta_mean: 1.0,
            eta_cov: 1.0,
            avg_mean: vec![0.0; n],
            avg_cov: vec![0.0; n * n],
            avg_sq_mean: 0.0,
            avg_sq_cov: 0.0,
        }
    }

    /// Whether the vectors fit dimension `n` and the rates are usable.
    pub(super) fn is_consistent(&self, n: usize) -> bool {
        let rate = |r: f64| r.is_finite() && r > 0.0 && r <= 1.0;
        self.avg_mean.len() == n
            && self.avg_cov.len() == n * n
            && rate(self.eta_mean)
            && rate(self.eta_cov)
    }

    /// The current mean rate η_m.
    pub(super) fn eta_mean(&self) -> f64 {
        self.eta_mean
    }

    /// Takes the plain update's local steps (the mean's, and Σ's divided by
    /// √2) and returns the new rates (η_m, η_Σ) to apply to them.
    pub(super) fn adapt(&mut self, local_mean: &[f64], local_cov: &[f64]) -> (f64, f64) {
        self.eta_mean = next_rate(
            self.eta_mean,
            BETA_MEAN,
            &mut self.avg_mean,
            &mut self.avg_sq_mean,
            local_mean,
        );
        self.eta_cov = next_rate(
            self.eta_cov,
            BETA_COV,
            &mut self.avg_cov,
            &mut self.avg_sq_cov,
            local_cov,
        );
        (self.eta_mean, self.eta_cov)
    }
}

/// Folds `step` into the averages and moves `eta` toward the rate whose
/// estimated signal-to-noise ratio is α·η.
fn next_rate(eta: f64, beta: f64, avg: &mut [f64], avg_sq: &mut f64, step: &[f64]) -> f64 {
    let mut avg_norm2 = 0.0;
    let mut step_norm2 = 0.0;
    for (a, s) in avg.iter_mut().zip(step) {
        *a = (1.0 - beta) * *a + beta * s;
        avg_norm2 += *a * *a;
        step_norm2 += s * s;
    }
    *avg_sq = (1.0 - beta) * *avg_sq + beta * step_norm2;
    // ‖E‖² ≤ V by convexity; they are equal only while every step was zero,
    // when there is nothing to learn from.
    let noise = *avg_sq - avg_norm2;
    if !(noise > 0.0 && noise.is_finite()) {
        return eta;
    }
    let snr = (avg_norm2 - beta / (2.0 - beta) * *avg_sq) / noise;
    let relative = (snr / (ALPHA * eta) - 1.0).clamp(-1.0, 1.0);
    let next = eta * ((GAMMA * eta).min(beta) * relative).exp();
    if next.is_finite() { next.min(1.0) } else { eta }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consistent_steps_keep_the_rate_and_noise_lowers_it() {
        let mut steady = LrAdapt::new(1);
        for _ in 0..50 {
            steady.adapt(&[1.0], &[0.5]);
        }
        assert_eq!(steady.eta_mean, 1.0, "a steady drift is all signal");
        let mut noisy = LrAdapt::new(1);
        for k in 0..200 {
            let s = if k % 2 == 0 { 1.0 } else { -1.0 };
            noisy.adapt(&[s], &[s]);
        }
        assert!(noisy.eta_mean < 0.1 && noisy.eta_cov < 0.5, "{noisy:?}");
    }
}
