//! Standard test functions for optimizers, with their bounds, search spaces
//! and known optima, as the HPO anchor protocol defines them (Surjanovic &
//! Bingham's definitions; the anchor's bounds where it gives them).
//!
//! Each function is a plain Rust function, and [`TestFunction`] reaches any
//! of them by the anchor's name — dimension appended for the d-dimensional
//! ones, as in `rosenbrock10` — with a [`SearchSpace`] whose parameters are
//! `x0, x1, ...` (or `mixed_train_loss`'s five named ones).
//!
//! | name | dim | bounds | f* |
//! |---|---|---|---|
//! | `branin` | 2 | x0 ∈ [-5, 10], x1 ∈ [0, 15] | 0.397887357729738 |
//! | `hartmann3` | 3 | [0, 1]^3 | -3.86278214782076 |
//! | `hartmann6` | 6 | [0, 1]^6 | -3.322368011415515 |
//! | `six_hump_camel` | 2 | x0 ∈ [-3, 3], x1 ∈ [-2, 2] | -1.031628453489877 |
//! | `rosenbrock{d}` (d ≥ 2) | d | [-5, 10]^d | 0 |
//! | `ackley{d}` | d | [-32.768, 32.768]^d | 0 |
//! | `styblinski_tang{d}` | d | [-5, 5]^d | -39.16616570377142 d |
//! | `levy{d}` | d | [-10, 10]^d | 0 |
//! | `rastrigin{d}` | d | [-5.12, 5.12]^d | 0 |
//! | `griewank{d}` | d | [-600, 600]^d | 0 |
//! | `michalewicz{d}` | d | [0, π]^d | -1.8013 (d=2), -4.687658 (5), -9.66015 (10) |
//! | `mixed_train_loss` | 5 | see [`mixed_train_loss`] | 0.1 |
//!
//! For several objectives there is [`zdt1`], a plain function.
//!
//! ```
//! use keelson_hpo::testfns::TestFunction;
//!
//! let f = TestFunction::by_name("rosenbrock10")?;
//! assert_eq!(f.dims(), 10);
//! let optimum = f.optimum();
//! assert_eq!(f.evaluate(&optimum.params)?, 0.0);
//! assert!(f.space()?.check(&optimum.params).is_ok());
//! # Ok::<(), keelson_hpo::Error>(())
//! ```

use std::f64::consts::{E, PI};

use crate::space::{Distribution, ParamSpec, Params, SearchSpace, Value};
use crate::{Error, Result};

/// The largest dimension [`TestFunction::by_name`] accepts.
pub const MAX_DIMS: usize = 1000;

const H3_ALPHA: [f64; 4] = [1.0, 1.2, 3.0, 3.2];
const H3_A: [[f64; 3]; 4] = [
    [3.0, 10.0, 30.0],
    [0.1, 10.0, 35.0],
    [3.0, 10.0, 30.0],
    [0.1, 10.0, 35.0],
];
const H3_P: [[f64; 3]; 4] = [
    [0.3689, 0.1170, 0.2673],
    [0.4699, 0.4387, 0.7470],
    [0.1091, 0.8732, 0.5547],
    [0.0381, 0.5743, 0.8828],
];
const H6_ALPHA: [f64; 4] = [1.0, 1.2, 3.0, 3.2];
const H6_A: [[f64; 6]; 4] = [
    [10.0, 3.0, 17.0, 3.5, 1.7, 8.0],
    [0.05, 10.0, 17.0, 0.1, 8.0, 14.0],
    [3.0, 3.5, 1.7, 10.0, 17.0, 8.0],
    [17.0, 8.0, 0.05, 10.0, 0.1, 14.0],
];
const H6_P: [[f64; 6]; 4] = [
    [0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886],
    [0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991],
    [0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650],
    [0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381],
];

/// The minimizer of Styblinski–Tang in each coordinate.
const ST_ARGMIN: f64 = -2.903_534_027_771_178;

fn hartmann<const D: usize>(
    x: [f64; D],
    alpha: &[f64; 4],
    a: &[[f64; D]; 4],
    p: &[[f64; D]; 4],
) -> f64 {
    let mut total = 0.0;
    for ((alpha, a), p) in alpha.iter().zip(a).zip(p) {
        let inner: f64 = (0..D).map(|j| a[j] * (x[j] - p[j]).powi(2)).sum();
        total += alpha * (-inner).exp();
    }
    -total
}

/// Branin–Hoo on x0 ∈ [-5, 10], x1 ∈ [0, 15]; three global minima of
/// 0.397887..., e.g. at (π, 2.275).
///
/// ```
/// let f = keelson_hpo::testfns::branin([std::f64::consts::PI, 2.275]);
/// assert!((f - 0.397887357729738).abs() < 1e-12);
/// ```
pub fn branin(x: [f64; 2]) -> f64 {
    let [x0, x1] = x;
    let b = 5.1 / (4.0 * PI * PI);
    let c = 5.0 / PI;
    let t = 1.0 / (8.0 * PI);
    (x1 - b * x0 * x0 + c * x0 - 6.0).powi(2) + 10.0 * (1.0 - t) * x0.cos() + 10.0
}

/// Hartmann's 3-dimensional function on [0, 1]^3; minimum -3.86278 at
/// (0.114614, 0.555649, 0.852547).
///
/// ```
/// let f = keelson_hpo::testfns::hartmann3([0.114614, 0.555649, 0.852547]);
/// assert!((f + 3.86278214782076).abs() < 1e-5);
/// ```
pub fn hartmann3(x: [f64; 3]) -> f64 {
    hartmann(x, &H3_ALPHA, &H3_A, &H3_P)
}

/// Hartmann's 6-dimensional function on [0, 1]^6; minimum -3.32237.
///
/// ```
/// let f = keelson_hpo::testfns::hartmann6([0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573]);
/// assert!((f + 3.322368011415515).abs() < 1e-5);
/// ```
pub fn hartmann6(x: [f64; 6]) -> f64 {
    hartmann(x, &H6_ALPHA, &H6_A, &H6_P)
}

/// The six-hump camel on x0 ∈ [-3, 3], x1 ∈ [-2, 2]; two global minima of
/// -1.0316 at ±(0.0898, -0.7126).
///
/// ```
/// let f = keelson_hpo::testfns::six_hump_camel([0.0898420136830133, -0.7126564032704135]);
/// assert!((f + 1.031628453489877).abs() < 1e-12);
/// ```
pub fn six_hump_camel(x: [f64; 2]) -> f64 {
    let [x0, x1] = x;
    let x0s = x0 * x0;
    let x1s = x1 * x1;
    (4.0 - 2.1 * x0s + x0s * x0s / 3.0) * x0s + x0 * x1 + (-4.0 + 4.0 * x1s) * x1s
}

/// Rosenbrock's valley, `sum 100 (x[i+1] - x[i]^2)^2 + (1 - x[i])^2`;
/// minimum 0 at (1, ..., 1).
///
/// ```
/// assert_eq!(keelson_hpo::testfns::rosenbrock(&[1.0; 10]), 0.0);
/// ```
pub fn rosenbrock(x: &[f64]) -> f64 {
    x.windows(2)
        .map(|w| match *w {
            [a, b] => 100.0 * (b - a * a).powi(2) + (1.0 - a).powi(2),
            _ => 0.0,
        })
        .sum()
}

/// Ackley's function (a = 20, b = 0.2, c = 2π); minimum 0 at the origin.
/// The empty point gives 0.
///
/// ```
/// assert!(keelson_hpo::testfns::ackley(&[0.0; 10]).abs() < 1e-14);
/// ```
pub fn ackley(x: &[f64]) -> f64 {
    if x.is_empty() {
        return 0.0;
    }
    let d = x.len() as f64;
    let squares = x.iter().map(|v| v * v).sum::<f64>() / d;
    let cosines = x.iter().map(|v| (2.0 * PI * v).cos()).sum::<f64>() / d;
    -20.0 * (-0.2 * squares.sqrt()).exp() - cosines.exp() + 20.0 + E
}

/// Styblinski–Tang, `0.5 sum (x^4 - 16 x^2 + 5 x)`; minimum -39.166... per
/// dimension at x = -2.903534....
///
/// ```
/// let f = keelson_hpo::testfns::styblinski_tang(&[-2.903534027771178; 10]);
/// assert!((f + 391.6616570377142).abs() < 1e-9);
/// ```
pub fn styblinski_tang(x: &[f64]) -> f64 {
    0.5 * x
        .iter()
        .map(|v| v.powi(4) - 16.0 * v * v + 5.0 * v)
        .sum::<f64>()
}

/// Levy's function; minimum 0 at (1, ..., 1). The empty point gives 0.
///
/// ```
/// assert!(keelson_hpo::testfns::levy(&[1.0; 5]).abs() < 1e-30);
/// ```
pub fn levy(x: &[f64]) -> f64 {
    let w: Vec<f64> = x.iter().map(|v| 1.0 + (v - 1.0) / 4.0).collect();
    let (Some(first), Some(last)) = (w.first(), w.last()) else {
        return 0.0;
    };
    let head = (PI * first).sin().powi(2);
    let middle: f64 = w
        .iter()
        .take(w.len() - 1)
        .map(|wi| (wi - 1.0).powi(2) * (1.0 + 10.0 * (PI * wi + 1.0).sin().powi(2)))
        .sum();
    let tail = (last - 1.0).powi(2) * (1.0 + (2.0 * PI * last).sin().powi(2));
    head + middle + tail
}

/// Rastrigin's function, `10 d + sum (x^2 - 10 cos(2π x))`; minimum 0 at the
/// origin.
///
/// ```
/// assert_eq!(keelson_hpo::testfns::rastrigin(&[0.0; 4]), 0.0);
/// ```
pub fn rastrigin(x: &[f64]) -> f64 {
    10.0 * x.len() as f64
        + x.iter()
            .map(|v| v * v - 10.0 * (2.0 * PI * v).cos())
            .sum::<f64>()
}

/// Griewank's function, `1 + sum x^2 / 4000 - prod cos(x_i / sqrt(i))`;
/// minimum 0 at the origin.
///
/// ```
/// assert_eq!(keelson_hpo::testfns::griewank(&[0.0; 4]), 0.0);
/// ```
pub fn griewank(x: &[f64]) -> f64 {
    let sum = x.iter().map(|v| v * v).sum::<f64>() / 4000.0;
    let product: f64 = x
        .iter()
        .enumerate()
        .map(|(i, v)| (v / ((i + 1) as f64).sqrt()).cos())
        .product();
    1.0 + sum - product
}

/// One coordinate's term of Michalewicz's function (m = 10), `i` from 1.
fn michalewicz_term(i: usize, x: f64) -> f64 {
    -x.sin() * (i as f64 * x * x / PI).sin().powi(20)
}

/// Michalewicz's function with m = 10 on [0, π]^d,
/// `-sum sin(x_i) sin(i x_i^2 / π)^20`.
///
/// ```
/// let f = keelson_hpo::testfns::michalewicz(&[2.202906, 1.570796]);
/// assert!((f + 1.8013034).abs() < 1e-6);
/// ```
pub fn michalewicz(x: &[f64]) -> f64 {
    x.iter()
        .enumerate()
        .map(|(i, &v)| michalewicz_term(i + 1, v))
        .sum()
}

/// The minimizer in [0, π] of Michalewicz's i-th term: the best of a dense
/// grid, refined by golden-section search. The function is separable, so
/// these give its global minimum in any dimension.
fn michalewicz_argmin(i: usize) -> f64 {
    const GRID: usize = 20_000;
    let h = PI / GRID as f64;
    let best = (0..=GRID)
        .map(|k| k as f64 * h)
        .min_by(|a, b| michalewicz_term(i, *a).total_cmp(&michalewicz_term(i, *b)))
        .unwrap_or(0.0);
    let (mut lo, mut hi) = ((best - h).max(0.0), (best + h).min(PI));
    let ratio = (5.0_f64.sqrt() - 1.0) / 2.0;
    for _ in 0..80 {
        let a = hi - ratio * (hi - lo);
        let b = lo + ratio * (hi - lo);
        if michalewicz_term(i, a) < michalewicz_term(i, b) {
            hi = b;
        } else {
            lo = a;
        }
    }
    0.5 * (lo + hi)
}

const MIX_OPTIMIZERS: [(&str, f64, f64); 4] = [
    ("sgd", -2.0, 0.3),
    ("adam", -3.0, 0.0),
    ("rmsprop", -3.5, 0.1),
    ("adagrad", -1.5, 0.2),
];
const MIX_BATCH_SIZES: [f64; 6] = [16.0, 32.0, 64.0, 128.0, 256.0, 512.0];

/// ZDT1 (Zitzler, Deb and Thiele 2000), two objectives to minimize on
/// [0, 1]^d: `f1 = x0`, `f2 = g (1 - sqrt(x0 / g))` with
/// `g = 1 + 9 mean(x1, ..., x{d-1})` (`g = 1` for d = 1). The Pareto front
/// is `f2 = 1 - sqrt(f1)`, f1 in [0, 1], where every coordinate but the
/// first is 0; its hypervolume for the reference point (1, 1) is 1/3, for
/// (1.1, 1.1) about 0.7709. Not in [`TestFunction`], which holds
/// single-objective functions.
///
/// ```
/// use keelson_hpo::testfns::zdt1;
/// assert_eq!(zdt1(&[0.25, 0.0, 0.0]), [0.25, 0.5]); // on the front
/// assert_eq!(zdt1(&[0.0, 1.0]), [0.0, 10.0]);
/// ```
pub fn zdt1(x: &[f64]) -> [f64; 2] {
    let Some((&f1, rest)) = x.split_first() else {
        return [0.0, 1.0];
    };
    let g = if rest.is_empty() {
        1.0
    } else {
        1.0 + 9.0 * rest.iter().sum::<f64>() / rest.len() as f64
    };
    [f1, g * (1.0 - (f1 / g).sqrt())]
}

/// A synthetic training loss over a mixed space (the anchor protocol's):
///
/// `0.1 + 0.25 (log10 lr - c[opt])^2 + p[opt] + 0.05 (n_layers - 4)^2 + 0.1 (log2 batch_size - 6)^2 + (dropout - 0.2)^2`
///
/// with c = {sgd -2, adam -3, rmsprop -3.5, adagrad -1.5} and
/// p = {sgd 0.3, adam 0, rmsprop 0.1, adagrad 0.2}: the best learning rate
/// depends on the optimizer. Space: lr log-uniform in [1e-5, 1e-1],
/// n_layers in 1..=8, optimizer one of the four, batch_size one of
/// 16..512 (powers of 2), dropout in [0, 0.8]. Minimum 0.1 at
/// (1e-3, 4, adam, 64, 0.2). An unknown optimizer is an error.
///
/// ```
/// let f = keelson_hpo::testfns::mixed_train_loss(1e-3, 4, "adam", 64.0, 0.2)?;
/// assert!((f - 0.1).abs() < 1e-12);
/// # Ok::<(), keelson_hpo::Error>(())
/// ```
pub fn mixed_train_loss(
    lr: f64,
    n_layers: i64,
    optimizer: &str,
    batch_size: f64,
    dropout: f64,
) -> Result<f64> {
    let (_, c, p) = MIX_OPTIMIZERS
        .iter()
        .find(|(name, _, _)| *name == optimizer)
        .ok_or_else(|| {
            Error::params(
                "optimizer",
                format!("{optimizer:?} is not sgd, adam, rmsprop or adagrad"),
            )
        })?;
    Ok(0.1
        + 0.25 * (lr.log10() - c).powi(2)
        + p
        + 0.05 * (n_layers as f64 - 4.0).powi(2)
        + 0.1 * (batch_size.log2() - 6.0).powi(2)
        + (dropout - 0.2).powi(2))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Branin,
    Hartmann3,
    Hartmann6,
    SixHumpCamel,
    Rosenbrock,
    Ackley,
    StyblinskiTang,
    Levy,
    Rastrigin,
    Griewank,
    Michalewicz,
    MixedTrainLoss,
}

const FIXED: [(&str, Kind, usize); 5] = [
    ("branin", Kind::Branin, 2),
    ("hartmann3", Kind::Hartmann3, 3),
    ("hartmann6", Kind::Hartmann6, 6),
    ("six_hump_camel", Kind::SixHumpCamel, 2),
    ("mixed_train_loss", Kind::MixedTrainLoss, 5),
];

const SCALABLE: [(&str, Kind, usize, f64, f64); 7] = [
    ("rosenbrock", Kind::Rosenbrock, 2, -5.0, 10.0),
    ("ackley", Kind::Ackley, 1, -32.768, 32.768),
    ("styblinski_tang", Kind::StyblinskiTang, 1, -5.0, 5.0),
    ("levy", Kind::Levy, 1, -10.0, 10.0),
    ("rastrigin", Kind::Rastrigin, 1, -5.12, 5.12),
    ("griewank", Kind::Griewank, 1, -600.0, 600.0),
    ("michalewicz", Kind::Michalewicz, 1, 0.0, PI),
];

/// A known optimum: its value and one assignment that attains it.
///
/// ```
/// let opt = keelson_hpo::testfns::TestFunction::by_name("branin")?.optimum();
/// assert!((opt.value - 0.397887357729738).abs() < 1e-12);
/// # Ok::<(), keelson_hpo::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Optimum {
    /// The optimal value f*.
    pub value: f64,
    /// A minimizer.
    pub params: Params,
}

/// A test function reached by name, with its space and optimum. All are
/// minimized.
///
/// ```
/// use keelson_hpo::testfns::TestFunction;
/// let f = TestFunction::by_name("styblinski_tang10")?;
/// assert_eq!(f.bounds(), Some(vec![(-5.0, 5.0); 10]));
/// assert!(TestFunction::by_name("rosenbrock1").is_err());
/// # Ok::<(), keelson_hpo::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct TestFunction {
    name: String,
    kind: Kind,
    dims: usize,
}

impl TestFunction {
    /// The function called `name`: `branin`, `hartmann3`, `hartmann6`,
    /// `six_hump_camel`, `mixed_train_loss`, or `rosenbrock`, `ackley`,
    /// `styblinski_tang`, `levy`, `rastrigin`, `griewank`, `michalewicz`
    /// followed by the dimension (1 to [`MAX_DIMS`]; 2 or more for
    /// Rosenbrock).
    ///
    /// ```
    /// use keelson_hpo::testfns::TestFunction;
    /// assert_eq!(TestFunction::by_name("ackley3")?.dims(), 3);
    /// assert!(TestFunction::by_name("ackley").is_err());
    /// # Ok::<(), keelson_hpo::Error>(())
    /// ```
    pub fn by_name(name: &str) -> Result<TestFunction> {
        let unknown = |reason: String| Error::UnknownTestFunction {
            name: name.to_owned(),
            reason,
        };
        if let Some((_, kind, dims)) = FIXED.iter().find(|(n, _, _)| *n == name) {
            return Ok(TestFunction {
                name: name.to_owned(),
                kind: *kind,
                dims: *dims,
            });
        }
        for (prefix, kind, min_dims, _, _) in SCALABLE {
            let Some(digits) = name.strip_prefix(prefix) else {
                continue;
            };
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                continue;
            }
            let dims = digits
                .parse::<usize>()
                .ok()
                .filter(|d| (min_dims..=MAX_DIMS).contains(d))
                .ok_or_else(|| {
                    unknown(format!(
                        "{prefix} needs a dimension from {min_dims} to {MAX_DIMS}"
                    ))
                })?;
            return Ok(TestFunction {
                name: name.to_owned(),
                kind,
                dims,
            });
        }
        Err(unknown(format!(
            "known: {}, and {} followed by a dimension",
            FIXED.map(|f| f.0).join(", "),
            SCALABLE.map(|f| f.0).join(", ")
        )))
    }

    /// The name it was looked up by.
    ///
    /// ```
    /// assert_eq!(keelson_hpo::testfns::TestFunction::by_name("levy4")?.name(), "levy4");
    /// # Ok::<(), keelson_hpo::Error>(())
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The number of parameters.
    ///
    /// ```
    /// assert_eq!(keelson_hpo::testfns::TestFunction::by_name("hartmann6")?.dims(), 6);
    /// # Ok::<(), keelson_hpo::Error>(())
    /// ```
    pub fn dims(&self) -> usize {
        self.dims
    }

    /// The box `[(min, max); dims]` for the continuous functions, whose
    /// parameters are `x0, x1, ...`; `None` for `mixed_train_loss`.
    ///
    /// ```
    /// let f = keelson_hpo::testfns::TestFunction::by_name("branin")?;
    /// assert_eq!(f.bounds(), Some(vec![(-5.0, 10.0), (0.0, 15.0)]));
    /// # Ok::<(), keelson_hpo::Error>(())
    /// ```
    pub fn bounds(&self) -> Option<Vec<(f64, f64)>> {
        match self.kind {
            Kind::Branin => Some(vec![(-5.0, 10.0), (0.0, 15.0)]),
            Kind::SixHumpCamel => Some(vec![(-3.0, 3.0), (-2.0, 2.0)]),
            Kind::Hartmann3 | Kind::Hartmann6 => Some(vec![(0.0, 1.0); self.dims]),
            Kind::MixedTrainLoss => None,
            kind => SCALABLE
                .iter()
                .find(|s| s.1 == kind)
                .map(|&(_, _, _, lo, hi)| vec![(lo, hi); self.dims]),
        }
    }

    /// The search space: uniform doubles `x0, x1, ...` over [`bounds`](Self::bounds),
    /// or `mixed_train_loss`'s five parameters.
    ///
    /// ```
    /// let space = keelson_hpo::testfns::TestFunction::by_name("mixed_train_loss")?.space()?;
    /// assert_eq!(space.params().iter().map(|p| p.name()).collect::<Vec<_>>(),
    ///            ["lr", "n_layers", "optimizer", "batch_size", "dropout"]);
    /// # Ok::<(), keelson_hpo::Error>(())
    /// ```
    pub fn space(&self) -> Result<SearchSpace> {
        match self.bounds() {
            Some(bounds) => SearchSpace::new(
                bounds
                    .iter()
                    .enumerate()
                    .map(|(i, &(lo, hi))| ParamSpec::double(&format!("x{i}"), lo, hi)),
            ),
            None => SearchSpace::new([
                ParamSpec::double("lr", 1e-5, 1e-1).distribution(Distribution::LogUniform),
                ParamSpec::int("n_layers", 1, 8),
                ParamSpec::categorical("optimizer", MIX_OPTIMIZERS.map(|o| o.0)),
                ParamSpec::discrete("batch_size", MIX_BATCH_SIZES),
                ParamSpec::double("dropout", 0.0, 0.8),
            ]),
        }
    }

    /// The known optimum: f* and a minimizer (for Michalewicz, computed by
    /// a 1-D search per coordinate, as the function is separable).
    ///
    /// ```
    /// let opt = keelson_hpo::testfns::TestFunction::by_name("michalewicz5")?.optimum();
    /// assert!((opt.value + 4.687658).abs() < 1e-6);
    /// # Ok::<(), keelson_hpo::Error>(())
    /// ```
    pub fn optimum(&self) -> Optimum {
        let d = self.dims;
        let (value, x): (f64, Vec<f64>) = match self.kind {
            Kind::Branin => (0.397_887_357_729_738_16, vec![PI, 2.275]),
            Kind::Hartmann3 => (
                -3.862_782_147_820_756,
                vec![0.114_614, 0.555_649, 0.852_547],
            ),
            Kind::Hartmann6 => (
                -3.322_368_011_415_515,
                vec![0.201_69, 0.150_011, 0.476_874, 0.275_332, 0.311_652, 0.6573],
            ),
            Kind::SixHumpCamel => (
                -1.031_628_453_489_877,
                vec![0.089_842_013_683_013_3, -0.712_656_403_270_413_5],
            ),
            Kind::Rosenbrock | Kind::Levy => (0.0, vec![1.0; d]),
            Kind::Ackley | Kind::Rastrigin | Kind::Griewank => (0.0, vec![0.0; d]),
            Kind::StyblinskiTang => (styblinski_tang(&[ST_ARGMIN]) * d as f64, vec![ST_ARGMIN; d]),
            Kind::Michalewicz => {
                let x: Vec<f64> = (1..=d).map(michalewicz_argmin).collect();
                (michalewicz(&x), x)
            }
            Kind::MixedTrainLoss => {
                let mut params = Params::new();
                params.insert("lr", Value::Double(1e-3));
                params.insert("n_layers", Value::Int(4));
                params.insert("optimizer", Value::Categorical("adam".into()));
                params.insert("batch_size", Value::Discrete(64.0));
                params.insert("dropout", Value::Double(0.2));
                return Optimum { value: 0.1, params };
            }
        };
        let mut params = Params::new();
        for (i, v) in x.into_iter().enumerate() {
            params.insert(format!("x{i}"), Value::Double(v));
        }
        Optimum { value, params }
    }

    /// The function's value at an assignment of its [`space`](Self::space);
    /// an error naming a missing or mistyped parameter.
    ///
    /// ```
    /// use keelson_hpo::{Params, Value, testfns::TestFunction};
    /// let f = TestFunction::by_name("rastrigin2")?;
    /// let mut p = Params::new();
    /// p.insert("x0", Value::Double(0.0));
    /// assert!(f.evaluate(&p).is_err()); // x1 is missing
    /// p.insert("x1", Value::Double(0.0));
    /// assert_eq!(f.evaluate(&p)?, 0.0);
    /// # Ok::<(), keelson_hpo::Error>(())
    /// ```
    pub fn evaluate(&self, params: &Params) -> Result<f64> {
        if self.kind == Kind::MixedTrainLoss {
            return mixed_train_loss(
                params.f64("lr")?,
                params.i64("n_layers")?,
                params.str("optimizer")?,
                params.f64("batch_size")?,
                params.f64("dropout")?,
            );
        }
        let x = (0..self.dims)
            .map(|i| params.f64(&format!("x{i}")))
            .collect::<Result<Vec<f64>>>()?;
        Ok(match (self.kind, x.as_slice()) {
            (Kind::Branin, &[a, b]) => branin([a, b]),
            (Kind::SixHumpCamel, &[a, b]) => six_hump_camel([a, b]),
            (Kind::Hartmann3, &[a, b, c]) => hartmann3([a, b, c]),
            (Kind::Hartmann6, &[a, b, c, d, e, f]) => hartmann6([a, b, c, d, e, f]),
            (Kind::Rosenbrock, x) => rosenbrock(x),
            (Kind::Ackley, x) => ackley(x),
            (Kind::StyblinskiTang, x) => styblinski_tang(x),
            (Kind::Levy, x) => levy(x),
            (Kind::Rastrigin, x) => rastrigin(x),
            (Kind::Griewank, x) => griewank(x),
            (Kind::Michalewicz, x) => michalewicz(x),
            (kind, x) => {
                return Err(Error::params(
                    "parameters",
                    format!("{kind:?} takes {} coordinates, got {}", self.dims, x.len()),
                ));
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every function at its optimum gives f*, and the optimum lies in its space.
    #[test]
    fn every_function_attains_its_optimum() -> Result<()> {
        let names = [
            "branin",
            "hartmann3",
            "hartmann6",
            "six_hump_camel",
            "mixed_train_loss",
            "rosenbrock2",
            "rosenbrock10",
            "ackley1",
            "ackley10",
            "styblinski_tang10",
            "levy7",
            "rastrigin10",
            "griewank10",
            "michalewicz2",
            "michalewicz10",
        ];
        for name in names {
            let f = TestFunction::by_name(name)?;
            let opt = f.optimum();
            let value = f.evaluate(&opt.params)?;
            // The tabulated minimizers of Hartmann have six digits.
            let tolerance = if name.starts_with("hartmann") {
                1e-5
            } else {
                1e-9
            };
            assert!(
                (value - opt.value).abs() <= tolerance,
                "{name}: f(x*) = {value}, f* = {}",
                opt.value
            );
            f.space()?.check(&opt.params)?;
        }
        Ok(())
    }

    #[test]
    fn published_optima_match() -> Result<()> {
        let st = TestFunction::by_name("styblinski_tang10")?.optimum().value;
        assert!((st + 391.661_657_037_714_2).abs() < 1e-9);
        let m2 = TestFunction::by_name("michalewicz2")?.optimum().value;
        assert!((m2 + 1.801_303_410_098_553_7).abs() < 1e-9, "{m2}");
        let m10 = TestFunction::by_name("michalewicz10")?.optimum().value;
        assert!((m10 + 9.660_151_715_641_35).abs() < 1e-6, "{m10}");
        Ok(())
    }

    #[test]
    fn optima_are_minima_nearby() -> Result<()> {
        for name in [
            "branin",
            "hartmann6",
            "six_hump_camel",
            "levy3",
            "michalewicz5",
        ] {
            let f = TestFunction::by_name(name)?;
            let opt = f.optimum();
            for (param, _) in opt.params.iter() {
                for delta in [-1e-3, 1e-3] {
                    let mut moved = opt.params.clone();
                    moved.insert(param, Value::Double(opt.params.f64(param)? + delta));
                    assert!(
                        f.evaluate(&moved)? > opt.value - 1e-6,
                        "{name} {param} {delta}"
                    );
                }
            }
        }
        Ok(())
    }
}
