//! argmin's L-BFGS (with the Moré–Thuente line search) on a smooth function
//! that computes its value and gradient together.
//!
//! argmin asks for the cost and the gradient in separate calls, at the same
//! points; [`minimize`] keeps the last evaluation so that each point costs
//! one, and the best point seen, which is the answer whether L-BFGS
//! converged, ran out of iterations or gave up in a line search.

use std::cell::RefCell;

use argmin::core::{CostFunction, Error as ArgminError, Executor, Gradient};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::quasinewton::LBFGS;
use nalgebra::DVector;

/// L-BFGS's memory: the number of past steps its Hessian estimate uses.
const MEMORY: usize = 10;

/// When L-BFGS stops early: the gradient's norm or the cost's change in
/// one iteration falls below these.
#[derive(Clone, Copy, Debug)]
pub(super) struct Tolerance {
    pub grad: f64,
    pub cost: f64,
}

/// A function to minimize: its value and gradient at `x`, or `None` where
/// it cannot be evaluated.
pub(super) trait Smooth {
    /// `(f(x), ∇f(x))`.
    fn eval(&self, x: &[f64]) -> Option<(f64, Vec<f64>)>;
}

/// What [`minimize`] remembers across argmin's calls.
#[derive(Default)]
struct Memo {
    last: Option<(Vec<f64>, f64, Vec<f64>)>,
    best: Option<(f64, Vec<f64>)>,
}

struct Problem<'a, S> {
    f: &'a S,
    memo: &'a RefCell<Memo>,
}

impl<S: Smooth> Problem<'_, S> {
    fn eval(&self, x: &DVector<f64>) -> Result<(f64, Vec<f64>), ArgminError> {
        let mut memo = self.memo.borrow_mut();
        if let Some((at, cost, grad)) = &memo.last
            && at.as_slice() == x.as_slice()
        {
            return Ok((*cost, grad.clone()));
        }
        let (cost, grad) = self
            .f
            .eval(x.as_slice())
            .filter(|(c, g)| c.is_finite() && g.iter().all(|v| v.is_finite()))
            .ok_or_else(|| ArgminError::msg("the function cannot be evaluated here"))?;
        if memo.best.as_ref().is_none_or(|(c, _)| cost < *c) {
            memo.best = Some((cost, x.as_slice().to_vec()));
        }
        memo.last = Some((x.as_slice().to_vec(), cost, grad.clone()));
        Ok((cost, grad))
    }
}

impl<S: Smooth> CostFunction for Problem<'_, S> {
    type Param = DVector<f64>;
    type Output = f64;

    fn cost(&self, x: &DVector<f64>) -> Result<f64, ArgminError> {
        self.eval(x).map(|(c, _)| c)
    }
}

impl<S: Smooth> Gradient for Problem<'_, S> {
    type Param = DVector<f64>;
    type Gradient = DVector<f64>;

    fn gradient(&self, x: &DVector<f64>) -> Result<DVector<f64>, ArgminError> {
        self.eval(x).map(|(_, g)| DVector::from_vec(g))
    }
}

/// Minimizes `f` from `start` with at most `max_iters` L-BFGS iterations
/// (fewer if `tolerance` is met);
/// the best point evaluated and its value, `None` if no evaluation
/// succeeded (not even at `start`).
pub(super) fn minimize<S: Smooth>(
    f: &S,
    start: &[f64],
    max_iters: u64,
    tolerance: Tolerance,
) -> Option<(f64, Vec<f64>)> {
    let memo = RefCell::new(Memo::default());
    let problem = Problem { f, memo: &memo };
    // Only negative tolerances are refused.
    let solver = LBFGS::new(MoreThuenteLineSearch::new(), MEMORY)
        .with_tolerance_grad(tolerance.grad.max(0.0))
        .and_then(|s| s.with_tolerance_cost(tolerance.cost.max(0.0)))
        .ok()?;
    let start = DVector::from_column_slice(start);
    // An error only means the search stopped early; the memo has the best
    // point up to then.
    let _stopped = Executor::new(problem, solver)
        .configure(|state| state.param(start).max_iters(max_iters))
        .timer(false)
        .run();
    memo.into_inner().best
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stretched quadratic bowl with its minimum at (1, -2).
    struct Bowl;

    impl Smooth for Bowl {
        fn eval(&self, x: &[f64]) -> Option<(f64, Vec<f64>)> {
            let (a, b) = (x[0] - 1.0, x[1] + 2.0);
            Some((a * a + 10.0 * b * b, vec![2.0 * a, 20.0 * b]))
        }
    }

    /// Defined only for x₀ < 3.
    struct Partial;

    impl Smooth for Partial {
        fn eval(&self, x: &[f64]) -> Option<(f64, Vec<f64>)> {
            (x[0] < 3.0).then(|| (-x[0], vec![-1.0]))
        }
    }

    const TIGHT: Tolerance = Tolerance {
        grad: 1e-12,
        cost: 0.0,
    };

    #[test]
    fn finds_the_minimum_of_a_bowl() {
        let (cost, x) = minimize(&Bowl, &[5.0, 5.0], 100, TIGHT).unwrap_or_default();
        assert!(cost < 1e-12, "{cost}");
        assert!(
            (x[0] - 1.0).abs() < 1e-6 && (x[1] + 2.0).abs() < 1e-6,
            "{x:?}"
        );
    }

    #[test]
    fn returns_the_best_point_when_the_search_fails() {
        let (cost, x) = minimize(&Partial, &[0.0], 50, TIGHT).unwrap_or_default();
        assert!(x[0] < 3.0 && cost == -x[0], "{cost} at {x:?}");
        assert!(minimize(&Partial, &[4.0], 50, TIGHT).is_none());
    }
}
