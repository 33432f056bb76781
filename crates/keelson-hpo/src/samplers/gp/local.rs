//! The local model: on every other suggestion, where the model in use
//! explains part of the values as noise, a Gaussian process fitted to the
//! trials nearest the best one alone, its log EI maximized in a box around
//! that trial.
//!
//! A stationary model of the whole space has one lengthscale per input for
//! every scale at once. On Ackley's or Griewank's functions the values
//! have a global shape (a funnel, a bowl) and ripples far shorter than the
//! spacing of 50 trials: the global model learns the shape and fits the
//! ripples as noise, so around the best trial it predicts a smooth floor and
//! cannot say where the ripple's own minimum lies. The trials near the best
//! one are denser than the space's average; fitted alone, they resolve the
//! ripples there (as TuRBO's trust regions do, Eriksson et al. 2019), and the
//! search climbs into the minimum of the ripple it is in.
//!
//! It is used only where the global model needs it and can spare the trials:
//!
//! * from [`START`] complete trials, on every other one (even counts), so
//!   half the suggestions still explore with the global model;
//! * when the global model in use is not the additive one: where the inputs
//!   act separately (Rastrigin's, Michalewicz's, Styblinski–Tang's
//!   functions), the additive model learns each input's curve from every
//!   trial, finer than a few neighbours show, and the local steps only cost
//!   exploration (with them there too, Styblinski–Tang 6's median regret at
//!   50 trials rose 5x);
//! * when that model's noise is more than [`MIN_NOISE_RATIO`] of its
//!   variance: on smooth functions (Hartmann's) the global model already
//!   resolves the best trial's neighbourhood, and local steps cost hartmann6
//!   37x in median regret at 50 trials;
//! * when no trial is running: a batch from `ask_n` is spread by the global
//!   model's believers.
//!
//! Nothing is saved for it: the local model is fitted afresh from the trials
//! each time, so a restored study suggests the same.

use super::acquisition::Region;
use super::fit::{self, Data, Posterior};
use super::output::standardize;
use super::trend::Trend;

/// Complete trials before the first local step.
pub(super) const START: usize = 30;
/// How many trials, the best and those nearest it in the unit cube, the
/// local model is fitted to. (10 did as well on the 40 test functions at
/// 50 trials; 25 did worse on the 11 short of 10x random, under an earlier
/// schedule.)
const NEIGHBOURS: usize = 15;
/// The box's half-width along each continuous input, as a fraction of the
/// spread of the neighbours along it. (1/8 did about as well; 1/2 and 1
/// worse on the 11 functions short of 10x random, under an earlier
/// schedule.)
const BOX: f64 = 0.25;
/// The noise variance of the global model in use, over its prior variance,
/// above which the local model is used. On the 40 test functions at 50
/// trials, the models of Ackley's functions leave 0.5-2% of the variance
/// as noise, Griewank's and Rastrigin's 1e-4 to 5e-3, Hartmann's, Branin's
/// and Rosenbrock's below 1e-5.
const MIN_NOISE_RATIO: f64 = 1e-4;
/// L-BFGS iterations of each of the local model's two fits.
const FIT_ITERS: u64 = 100;

/// Whether the suggestion from `n` complete trials uses the local model,
/// given whether the global model in use is the additive one, its noise
/// ratio ([`Posterior::noise_ratio`]) and whether any trial is running.
pub(super) fn due(n: usize, additive: bool, noise_ratio: f64, running: bool) -> bool {
    n >= START && n.is_multiple_of(2) && !additive && noise_ratio > MIN_NOISE_RATIO && !running
}

/// The local model of the trials nearest the best one, and where to search
/// it.
pub(super) struct Local {
    /// The posterior of the neighbours' values, standardized among them.
    pub post: Posterior,
    /// The value to improve on: the lowest posterior mean at a neighbour.
    pub best: f64,
    /// The box around the best trial.
    pub region: Region,
}

impl Local {
    /// The local model around trial `best` from the complete trials' unit
    /// points `units`, model inputs `x` and values `y`; `relaxed(i)` tells
    /// the inputs that the box narrows (continuous ones: a discrete input
    /// keeps all its values, which the search tries one by one). `None` if
    /// the kernel matrix cannot be factored.
    pub fn fit(
        units: &[Vec<f64>],
        x: &[Vec<f64>],
        y: &[f64],
        categorical: &[bool],
        best: usize,
        relaxed: impl Fn(usize) -> bool,
    ) -> Option<Local> {
        let centre = units.get(best)?;
        let distance: Vec<f64> = units
            .iter()
            .map(|u| u.iter().zip(centre).map(|(a, b)| (a - b) * (a - b)).sum())
            .collect();
        let mut near: Vec<usize> = (0..units.len()).collect();
        near.sort_by(|&a, &b| distance[a].total_cmp(&distance[b]).then(a.cmp(&b)));
        near.truncate(NEIGHBOURS);
        let xs: Vec<Vec<f64>> = near.iter().map(|&i| x[i].clone()).collect();
        let (ys, _) = standardize(&near.iter().map(|&i| y[i]).collect::<Vec<_>>());
        let data = Data::new(&xs, &ys, categorical);
        let dims = categorical.len();
        // From the prior's modes and from short lengthscales: the ripples
        // are one mode of the likelihood, a smooth floor plus noise the other.
        let smooth = fit::fit(&data, fit::initial_theta(dims, false), FIT_ITERS);
        let short = fit::fit(&data, fit::short_theta(dims, false), FIT_ITERS);
        let theta = if data.cost(&short) < data.cost(&smooth) {
            short
        } else {
            smooth
        };
        let post = Posterior::new(&theta, categorical, &xs, &ys, 0, Trend::default())?;
        let best = post.means_at_data(&ys).fold(f64::INFINITY, f64::min);
        let half_width: Vec<f64> = (0..centre.len())
            .map(|i| {
                if !relaxed(i) {
                    return 0.0;
                }
                let (lo, hi) = near
                    .iter()
                    .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &j| {
                        (lo.min(units[j][i]), hi.max(units[j][i]))
                    });
                BOX * (hi - lo)
            })
            .collect();
        Some(Local {
            post,
            best,
            region: Region::around(centre, &half_width),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_local_model_is_due_only_where_it_is_needed() {
        assert!(due(30, false, 1e-3, false));
        assert!(due(52, false, 1e-3, false));
        assert!(!due(28, false, 1e-3, false), "before START");
        assert!(!due(31, false, 1e-3, false), "odd counts explore");
        assert!(!due(30, true, 1e-3, false), "the additive model");
        assert!(!due(30, false, 1e-6, false), "a smooth model");
        assert!(!due(30, false, 1e-3, true), "running trials");
    }

    #[test]
    fn it_models_the_ripple_around_the_best_trial() {
        // A bowl with ripples of period 0.05 along the first input: 40
        // scattered trials and a cluster of 12 around the best one.
        let f = |u: &[f64]| {
            (u[0] - 0.5).powi(2)
                + (u[1] - 0.5).powi(2)
                + 0.02 * (2.0 * std::f64::consts::PI * u[0] / 0.05).cos()
        };
        let mut units: Vec<Vec<f64>> = (0..40)
            .map(|i| {
                let t = f64::from(i);
                vec![(t * 0.618_034).fract(), (t * 0.414_214 + 0.1).fract()]
            })
            .collect();
        units.extend((0..12).map(|i| {
            let t = f64::from(i);
            vec![
                0.46 + 0.08 * (t * 0.618_034).fract(),
                0.46 + 0.08 * (t * 0.381_966).fract(),
            ]
        }));
        let y: Vec<f64> = units.iter().map(|u| f(u)).collect();
        let best = (0..y.len())
            .min_by(|&a, &b| y[a].total_cmp(&y[b]))
            .unwrap_or(0);
        let cat = [false, false];
        let local =
            Local::fit(&units, &units, &y, &cat, best, |_| true).unwrap_or_else(|| unreachable!());
        // The box is around the best trial and narrower than the cube.
        assert!(local.region.contains(&units[best]));
        assert!(!local.region.contains(&[0.0, 0.0]) && !local.region.contains(&[1.0, 1.0]));
        // Its model was fitted to the neighbours alone, standardized.
        assert_eq!(local.post.len(), NEIGHBOURS);
        assert!(local.best.is_finite() && local.best < 0.0);
        // A discrete input keeps the whole of [0, 1].
        let local = Local::fit(&units, &units, &y, &cat, best, |i| i == 0)
            .unwrap_or_else(|| unreachable!());
        assert!(local.region.contains(&[units[best][0], 0.0]));
        assert!(local.region.contains(&[units[best][0], 1.0]));
    }
}
