//! NSGA-II for one objective or several: [`Nsga2Sampler`].

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::{Context, Sampler};
use crate::pareto::{self, crowded_cmp};
use crate::space::{ParamKind, Params, SearchSpace};
use crate::study::{TrialRecord, TrialState};
use crate::{Error, Result};

/// How two parents combine, for [`Nsga2Options::crossover`].
///
/// ```
/// use keelson_hpo::samplers::Crossover;
/// let sbx: Crossover = serde_json::from_str(r#"{"sbx":{"eta":15.0}}"#).unwrap();
/// assert_eq!(sbx, Crossover::Sbx { eta: 15.0 });
/// assert_eq!(serde_json::to_string(&Crossover::Uniform).unwrap(), r#""uniform""#);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Crossover {
    /// Each parameter from one parent or the other (Optuna's default).
    Uniform,
    /// Simulated binary crossover on the numeric parameters, bounded to the
    /// space; categorical ones as [`Crossover::Uniform`]. A larger
    /// distribution index `eta` keeps children closer to their parents
    /// (NSGA-II's paper uses 20).
    Sbx {
        /// The distribution index, finite and >= 0.
        eta: f64,
    },
}

/// The settings of [`Nsga2Sampler`]; `Default` gives Optuna's
/// `NSGAIISampler` defaults.
///
/// ```
/// use keelson_hpo::samplers::{Crossover, Nsga2Options};
/// let o = Nsga2Options::default();
/// assert_eq!((o.population_size, o.crossover_prob, o.swapping_prob), (50, 0.9, 0.5));
/// assert_eq!((o.mutation_prob, o.crossover), (None, Crossover::Uniform));
/// assert!(Nsga2Options { population_size: 1, ..o }.validate().is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Nsga2Options {
    /// Trials per generation, and the size of the parent population (50);
    /// at least 2.
    pub population_size: usize,
    /// The probability that each parameter of a child is redrawn at random;
    /// `None` for 1 / the number of parameters.
    pub mutation_prob: Option<f64>,
    /// How parents combine ([`Crossover::Uniform`]; on ZDT1 it did as well
    /// as [`Crossover::Sbx`], see `docs/hpo.md`).
    pub crossover: Crossover,
    /// The probability that a child is a crossover of two parents rather
    /// than a copy of one (0.9).
    pub crossover_prob: f64,
    /// The probability that a parameter comes from the second parent in a
    /// uniform crossover (0.5).
    pub swapping_prob: f64,
}

impl Default for Nsga2Options {
    fn default() -> Self {
        Nsga2Options {
            population_size: 50,
            mutation_prob: None,
            crossover: Crossover::Uniform,
            crossover_prob: 0.9,
            swapping_prob: 0.5,
        }
    }
}

impl Nsga2Options {
    /// Checks the settings; the error names the offending one
    /// (`nsga2.population_size`, `nsga2.mutation_prob`,
    /// `nsga2.crossover_prob`, `nsga2.swapping_prob`, `nsga2.crossover.eta`).
    ///
    /// ```
    /// use keelson_hpo::samplers::Nsga2Options;
    /// let err = Nsga2Options { crossover_prob: 1.5, ..Nsga2Options::default() }.validate().unwrap_err();
    /// assert!(err.to_string().contains("nsga2.crossover_prob"));
    /// ```
    pub fn validate(&self) -> Result<()> {
        if self.population_size < 2 {
            return Err(Error::setting(
                "nsga2.population_size",
                format!("must be at least 2, got {}", self.population_size),
            ));
        }
        let probabilities = [
            ("nsga2.mutation_prob", self.mutation_prob),
            ("nsga2.crossover_prob", Some(self.crossover_prob)),
            ("nsga2.swapping_prob", Some(self.swapping_prob)),
        ];
        for (name, p) in probabilities {
            if let Some(p) = p
                && !(0.0..=1.0).contains(&p)
            {
                return Err(Error::setting(
                    name,
                    format!("must be a probability in [0, 1], got {p}"),
                ));
            }
        }
        if let Crossover::Sbx { eta } = self.crossover
            && !(eta.is_finite() && eta >= 0.0)
        {
            return Err(Error::setting(
                "nsga2.crossover.eta",
                format!("must be finite and >= 0, got {eta}"),
            ));
        }
        Ok(())
    }
}

/// NSGA-II, the elitist non-dominated sorting genetic algorithm (Deb,
/// Pratap, Agarwal and Meyarivan, IEEE TEC 6(2), 2002), for studies with
/// several objectives ([`Study::multi`](crate::Study::multi)); with one
/// objective it is a plain elitist genetic algorithm.
///
/// The study's trials make the generations. Generation 0 is drawn at
/// random; a generation is complete once `population_size` of its trials
/// have completed. Then the next parent population is selected from the
/// previous parents, the generation's complete trials and any trial of the
/// generation before that completed late: by non-dominated rank, the last
/// front that fits cut by crowding distance (larger first, then smaller
/// trial id). Every trial asked until the following generation is complete
/// is a child of those parents: two parents, each the winner of a binary
/// tournament (lower rank, then larger crowding distance), then crossover
/// with probability `crossover_prob`, then mutation.
///
/// Everything happens in the space's unit cube (see [`crate::space`]), so
/// mixed spaces work: with [`Crossover::Uniform`] each coordinate comes from
/// either parent (the second with probability `swapping_prob`); with
/// [`Crossover::Sbx`] the numeric coordinates (`double`, `int`, `discrete`)
/// get simulated binary crossover (Deb and Agrawal, "Simulated binary
/// crossover for continuous search space", Complex Systems 9, 1995; the
/// bounded form of the NSGA-II paper) and categorical ones are inherited as
/// with `Uniform`. A coordinate inactive in the chosen parent comes from the
/// other one, or is drawn at random if inactive in both. Mutation redraws
/// each coordinate uniformly with probability `mutation_prob`
/// (1 / number of parameters by default); coordinates decode to values
/// exactly as the parents had them, so an inherited `int` or category is
/// the parent's.
///
/// The state saved with the study is the random generator, the options, the
/// generation number, the id of its first trial, the parents' trial ids and
/// the ids of the previous generation's trials still running when this one
/// began: a study restored mid-generation, running trials included,
/// continues exactly.
///
/// ```
/// use keelson_hpo::{pareto, Direction, Nsga2Sampler, Outcome, SearchSpace, ParamSpec, Study};
/// use keelson_hpo::samplers::Nsga2Options;
///
/// let space = SearchSpace::new((0..5).map(|i| ParamSpec::double(&format!("x{i}"), 0.0, 1.0)))?;
/// let options = Nsga2Options { population_size: 20, ..Nsga2Options::default() };
/// let directions = [Direction::Minimize, Direction::Minimize];
/// let mut study = Study::multi(space, directions, Nsga2Sampler::with_options(3, options))?;
/// for _ in 0..400 {
///     let trial = study.ask()?;
///     let x: Vec<f64> = (0..5).map(|i| trial.params.f64(&format!("x{i}"))).collect::<Result<_, _>>()?;
///     study.tell(trial.id, Outcome::Values(keelson_hpo::testfns::zdt1(&x).to_vec()))?;
/// }
/// assert_eq!(study.sampler().generation(), 19);
/// let front: Vec<Vec<f64>> = study.pareto_front().iter().map(|t| t.values.clone()).collect();
/// // The true front's hypervolume for the reference point (1, 1) is 1/3.
/// assert!(pareto::hypervolume(&front, &[1.0, 1.0])? > 0.25);
/// # Ok::<(), keelson_hpo::Error>(())
/// ```
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Nsga2Sampler {
    rng: ChaCha8Rng,
    options: Nsga2Options,
    /// The generation the next trials belong to.
    generation: u64,
    /// The id of its first trial.
    start: u64,
    /// The trial ids of the parent population (empty in generation 0).
    parents: Vec<u64>,
    /// Trials of the previous generation still running when this one began:
    /// if they complete in time they join the next selection.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    late: Vec<u64>,
    /// The parents' points, ranks and distances, derived from the trials
    /// and the fields above: neither saved nor compared.
    #[serde(skip)]
    cache: Option<Cache>,
}

impl PartialEq for Nsga2Sampler {
    fn eq(&self, other: &Self) -> bool {
        self.rng == other.rng
            && self.options == other.options
            && self.generation == other.generation
            && self.start == other.start
            && self.parents == other.parents
            && self.late == other.late
    }
}

impl Nsga2Sampler {
    /// An NSGA-II sampler with the default options, seeded with `seed`.
    ///
    /// ```
    /// use keelson_hpo::Nsga2Sampler;
    /// assert_eq!(Nsga2Sampler::new(0).options().population_size, 50);
    /// assert_ne!(Nsga2Sampler::new(1), Nsga2Sampler::new(2));
    /// ```
    pub fn new(seed: u64) -> Self {
        Self::with_options(seed, Nsga2Options::default())
    }

    /// An NSGA-II sampler with the given options (checked when a study is
    /// created or restored).
    ///
    /// ```
    /// use keelson_hpo::{samplers::{Crossover, Nsga2Options}, Nsga2Sampler};
    /// let s = Nsga2Sampler::with_options(0, Nsga2Options { crossover: Crossover::Uniform, ..Nsga2Options::default() });
    /// assert_eq!(s.options().crossover, Crossover::Uniform);
    /// ```
    pub fn with_options(seed: u64, options: Nsga2Options) -> Self {
        Nsga2Sampler {
            rng: ChaCha8Rng::seed_from_u64(seed),
            options,
            generation: 0,
            start: 0,
            parents: Vec::new(),
            late: Vec::new(),
            cache: None,
        }
    }

    /// The options.
    ///
    /// ```
    /// assert_eq!(keelson_hpo::Nsga2Sampler::new(0).options().swapping_prob, 0.5);
    /// ```
    pub fn options(&self) -> &Nsga2Options {
        &self.options
    }

    /// The generation the next trial will belong to: 0 (random) until
    /// `population_size` trials have completed.
    ///
    /// ```
    /// assert_eq!(keelson_hpo::Nsga2Sampler::new(0).generation(), 0);
    /// ```
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Starts the next generation once the current one has
    /// `population_size` complete trials, selecting its parents.
    fn advance(&mut self, ctx: &Context<'_>, objectives: &Objectives<'_>) -> Result<()> {
        let current = ctx.trials.get(to_index(self.start)..).unwrap_or_default();
        let done = current
            .iter()
            .filter(|t| objectives.of(t).is_some())
            .count();
        if done < self.options.population_size {
            return Ok(());
        }
        let mut pool: Vec<u64> = self
            .parents
            .iter()
            .chain(&self.late)
            .copied()
            .chain(current.iter().map(|t| t.id))
            .collect();
        pool.sort_unstable();
        pool.dedup();
        let pool: Vec<(u64, Vec<f64>)> = pool
            .into_iter()
            .filter_map(|id| objectives.by_id(ctx.trials, id).map(|v| (id, v)))
            .collect();
        let points: Vec<&[f64]> = pool.iter().map(|(_, v)| v.as_slice()).collect();
        let size = self.options.population_size;
        let mut chosen: Vec<u64> = Vec::with_capacity(size);
        for front in pareto::non_dominated_sort(&points) {
            let room = size - chosen.len();
            if front.len() <= room {
                chosen.extend(front.iter().map(|&i| pool[i].0));
                continue;
            }
            let members: Vec<&[f64]> = front.iter().map(|&i| points[i]).collect();
            let distance = pareto::crowding_distance(&members)?;
            let mut by_distance: Vec<usize> = (0..front.len()).collect();
            // Stable: among equal distances the smaller trial id wins.
            by_distance.sort_by(|&a, &b| distance[b].total_cmp(&distance[a]));
            chosen.extend(by_distance[..room].iter().map(|&k| pool[front[k]].0));
            break;
        }
        chosen.sort_unstable();
        self.parents = chosen;
        self.late = current
            .iter()
            .filter(|t| t.state == TrialState::Running)
            .map(|t| t.id)
            .collect();
        self.start = ctx.trials.len() as u64;
        self.generation += 1;
        Ok(())
    }

    /// The parents as unit-cube points with their rank and crowding
    /// distance among themselves, for the tournaments: from the cache when
    /// it was built for this generation and the parents' trials still hold
    /// the values it was built from (a sampler handed another history
    /// rebuilds it).
    fn parents(&mut self, ctx: &Context<'_>, objectives: &Objectives<'_>) -> Result<Cache> {
        if let Some(cache) = self.cache.take()
            && cache.generation == self.generation
            && cache.points.len() == self.parents.len()
            && self
                .parents
                .iter()
                .zip(&cache.points)
                .all(|(&id, point)| objectives.by_id(ctx.trials, id).as_ref() == Some(point))
        {
            return Ok(cache);
        }
        let mut parents = Vec::with_capacity(self.parents.len());
        let mut points = Vec::with_capacity(self.parents.len());
        for &id in &self.parents {
            let (Some(record), Some(values)) = (
                ctx.trials.get(to_index(id)),
                objectives.by_id(ctx.trials, id),
            ) else {
                continue;
            };
            // Per parameter rather than `SearchSpace::encode`: the study
            // checked the assignment when it was asked for, and checking it
            // again as a whole costs more than the rest of a generation change.
            let unit = ctx
                .space
                .params()
                .iter()
                .map(|p| record.params.get(p.name()).map(|v| p.encode(v)).transpose())
                .collect::<Result<Vec<_>>>()?;
            parents.push(Parent {
                unit,
                rank: 0,
                crowding: 0.0,
            });
            points.push(values);
        }
        for (rank, front) in pareto::non_dominated_sort(&points).into_iter().enumerate() {
            let members: Vec<&[f64]> = front.iter().map(|&i| points[i].as_slice()).collect();
            for (&i, d) in front.iter().zip(pareto::crowding_distance(&members)?) {
                parents[i].rank = rank;
                parents[i].crowding = d;
            }
        }
        Ok(Cache {
            generation: self.generation,
            points,
            parents,
        })
    }

    /// Binary tournament: the better of two random parents (the first of
    /// the two when they tie), never `exclude`.
    fn tournament(&mut self, parents: &[Parent], exclude: Option<usize>) -> usize {
        let n = parents.len();
        let draw = |rng: &mut ChaCha8Rng| match exclude {
            Some(skip) if n > 1 => {
                let k = rng.random_range(0..n - 1);
                if k >= skip { k + 1 } else { k }
            }
            _ => rng.random_range(0..n),
        };
        let (a, b) = (draw(&mut self.rng), draw(&mut self.rng));
        let key = |i: usize| (parents[i].rank, parents[i].crowding);
        if crowded_cmp(key(b), key(a)).is_lt() {
            b
        } else {
            a
        }
    }

    /// A child of two parents, in the unit cube; `None` where neither
    /// parent has the coordinate.
    fn cross(&mut self, space: &SearchSpace, a: &Parent, b: &Parent) -> Vec<Option<f64>> {
        let swap = self.options.swapping_prob;
        let mut child = Vec::with_capacity(a.unit.len());
        for ((param, &x), &y) in space.params().iter().zip(&a.unit).zip(&b.unit) {
            let numeric = !matches!(param.kind(), ParamKind::Categorical { .. });
            child.push(match (self.options.crossover, x, y) {
                (Crossover::Sbx { eta }, Some(x), Some(y)) if numeric => {
                    let (c1, c2) = sbx(x, y, eta, &mut self.rng);
                    Some(if self.rng.random::<bool>() { c2 } else { c1 })
                }
                (_, Some(x), Some(y)) => Some(if self.rng.random::<f64>() < swap {
                    y
                } else {
                    x
                }),
                (_, x, y) => x.or(y),
            });
        }
        child
    }
}

/// The parent population of one generation, ready for tournaments.
#[derive(Clone, Debug)]
struct Cache {
    generation: u64,
    /// The objective values (minimized) of each parent found, in the order
    /// of `Nsga2Sampler::parents`; all of them unless the history lacks some.
    points: Vec<Vec<f64>>,
    parents: Vec<Parent>,
}

/// A parent: its unit-cube point (`None` for inactive parameters), its
/// non-dominated rank and crowding distance within the parent population.
#[derive(Clone, Debug)]
struct Parent {
    unit: Vec<Option<f64>>,
    rank: usize,
    crowding: f64,
}

/// Reads a trial's objective values, every objective minimized; `None`
/// unless it completed with one value per objective.
struct Objectives<'a> {
    directions: &'a [crate::Direction],
}

impl Objectives<'_> {
    fn of(&self, t: &TrialRecord) -> Option<Vec<f64>> {
        let values = t.objectives();
        (t.state == TrialState::Complete && values.len() == self.directions.len())
            .then(|| pareto::minimized(values, self.directions))
    }

    fn by_id(&self, trials: &[TrialRecord], id: u64) -> Option<Vec<f64>> {
        trials
            .get(to_index(id))
            .filter(|t| t.id == id)
            .and_then(|t| self.of(t))
    }
}

/// A trial id as an index; ids past `usize` find nothing.
fn to_index(id: u64) -> usize {
    usize::try_from(id).unwrap_or(usize::MAX)
}

/// Simulated binary crossover of `x` and `y` in [0, 1] with distribution
/// index `eta`, its spread bounded so that both children stay in [0, 1].
fn sbx(x: f64, y: f64, eta: f64, rng: &mut ChaCha8Rng) -> (f64, f64) {
    let (lo, hi) = (x.min(y), x.max(y));
    let gap = hi - lo;
    if gap < 1e-14 {
        return (x, y);
    }
    let u: f64 = rng.random();
    let exponent = 1.0 / (eta + 1.0);
    // beta is how far the nearer bound lies, in half gaps; alpha scales u
    // so that the spread factor never carries a child past that bound.
    let spread = |beta: f64| {
        let alpha = 2.0 - beta.powf(-(eta + 1.0));
        if u <= 1.0 / alpha {
            (u * alpha).powf(exponent)
        } else {
            (1.0 / (2.0 - u * alpha)).powf(exponent)
        }
    };
    let below = spread(1.0 + 2.0 * lo / gap);
    let above = spread(1.0 + 2.0 * (1.0 - hi) / gap);
    let mid = 0.5 * (lo + hi);
    (
        (mid - 0.5 * below * gap).clamp(0.0, 1.0),
        (mid + 0.5 * above * gap).clamp(0.0, 1.0),
    )
}

impl Sampler for Nsga2Sampler {
    fn name(&self) -> &str {
        "nsga2"
    }

    fn multi_objective(&self) -> bool {
        true
    }

    fn check_space(&self, _space: &SearchSpace) -> Result<()> {
        self.options.validate()
    }

    fn suggest(&mut self, ctx: &Context<'_>) -> Result<Option<Params>> {
        self.options.validate()?;
        let objectives = Objectives {
            directions: ctx.directions,
        };
        self.advance(ctx, &objectives)?;
        let dims = ctx.space.dims();
        let cache = self.parents(ctx, &objectives)?;
        let parents = &cache.parents;
        let child: Vec<Option<f64>> = if parents.is_empty() {
            vec![None; dims]
        } else {
            let first = self.tournament(parents, None);
            if self.rng.random::<f64>() < self.options.crossover_prob {
                let second = self.tournament(parents, Some(first));
                self.cross(ctx.space, &parents[first], &parents[second])
            } else {
                parents[first].unit.clone()
            }
        };
        self.cache = Some(cache);
        let mutation = self
            .options
            .mutation_prob
            .unwrap_or(1.0 / dims.max(1) as f64);
        let mut point = Vec::with_capacity(dims);
        for u in child {
            let mutate = self.rng.random::<f64>() < mutation;
            point.push(match u {
                Some(u) if !mutate => u,
                _ => self.rng.random::<f64>(),
            });
        }
        ctx.space.decode(&point).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sbx_children_stay_inside_and_straddle_the_parents_mean() {
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        for &(x, y) in &[(0.1, 0.9), (0.0, 1.0), (0.98, 0.99), (0.3, 0.3), (0.7, 0.2)] {
            for eta in [0.0, 2.0, 20.0, 1e6] {
                for _ in 0..200 {
                    let (c1, c2) = sbx(x, y, eta, &mut rng);
                    assert!((0.0..=1.0).contains(&c1) && (0.0..=1.0).contains(&c2));
                    let mid = 0.5 * (x + y);
                    assert!(
                        c1 <= mid + 1e-12 && c2 >= mid - 1e-12,
                        "{x} {y} {eta}: {c1} {c2}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_large_eta_keeps_children_near_their_parents() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let spread = |eta: f64, rng: &mut ChaCha8Rng| -> f64 {
            (0..500)
                .map(|_| {
                    let (c1, c2) = sbx(0.4, 0.6, eta, rng);
                    (c1 - 0.4).abs() + (c2 - 0.6).abs()
                })
                .sum::<f64>()
                / 500.0
        };
        let (wide, narrow) = (spread(1.0, &mut rng), spread(50.0, &mut rng));
        assert!(narrow < 0.2 * wide, "{narrow} vs {wide}");
    }
}
