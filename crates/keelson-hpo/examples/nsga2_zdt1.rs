//! NSGA-II against random search on ZDT1: the median, over seeds, of the
//! hypervolume (reference point (1.1, 1.1); the true front's is 0.7709) of
//! each run's Pareto front.
//!
//! ```sh
//! cargo run --release -p keelson-hpo --example nsga2_zdt1 -- [DIMS [TRIALS [POPULATION [SEEDS]]]]
//! ```
//!
//! Defaults: 10 dimensions, 1,000 trials, population 50, seeds 0..10.

use std::process::ExitCode;

use keelson_hpo::samplers::{Crossover, Nsga2Options};
use keelson_hpo::testfns::zdt1;
use keelson_hpo::{
    AnySampler, Direction, Nsga2Sampler, Outcome, ParamSpec, RandomSampler, SearchSpace, Study,
    pareto,
};

/// The hypervolume of the front after `trials` sequential trials.
fn hypervolume(sampler: AnySampler, dims: usize, trials: usize) -> keelson_hpo::Result<f64> {
    let names: Vec<String> = (0..dims).map(|i| format!("x{i}")).collect();
    let space = SearchSpace::new(names.iter().map(|x| ParamSpec::double(x, 0.0, 1.0)))?;
    let mut study = Study::multi(space, [Direction::Minimize; 2], sampler)?;
    for _ in 0..trials {
        let trial = study.ask()?;
        let x = names
            .iter()
            .map(|x| trial.params.f64(x))
            .collect::<keelson_hpo::Result<Vec<f64>>>()?;
        study.tell(trial.id, Outcome::Values(zdt1(&x).to_vec()))?;
    }
    let front: Vec<&[f64]> = study
        .pareto_front()
        .iter()
        .map(|t| t.values.as_slice())
        .collect();
    pareto::hypervolume(&front, &[1.1, 1.1])
}

fn run() -> Result<(), String> {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse().map_err(|e| format!("{a:?}: {e}")))
        .collect::<Result<_, _>>()?;
    let arg = |i: usize, default: usize| args.get(i).copied().unwrap_or(default);
    let (dims, trials, population, seeds) = (arg(0, 10), arg(1, 1000), arg(2, 50), arg(3, 10));
    let nsga2 = |seed: u64, crossover: Crossover| -> AnySampler {
        let options = Nsga2Options {
            population_size: population,
            crossover,
            ..Nsga2Options::default()
        };
        Nsga2Sampler::with_options(seed, options).into()
    };
    let configs: [(&str, &dyn Fn(u64) -> AnySampler); 4] = [
        ("random", &|seed| RandomSampler::new(seed).into()),
        ("nsga2 uniform", &|seed| nsga2(seed, Crossover::Uniform)),
        ("nsga2 sbx(20)", &|seed| {
            nsga2(seed, Crossover::Sbx { eta: 20.0 })
        }),
        ("nsga2 sbx(2)", &|seed| {
            nsga2(seed, Crossover::Sbx { eta: 2.0 })
        }),
    ];
    println!("ZDT1, {dims} dimensions, {trials} trials, population {population}, {seeds} seeds");
    for (name, make) in configs {
        let mut volumes = (0..seeds as u64)
            .map(|seed| hypervolume(make(seed), dims, trials).map_err(|e| e.to_string()))
            .collect::<Result<Vec<f64>, String>>()?;
        volumes.sort_by(f64::total_cmp);
        let median = match volumes.len() {
            0 => f64::NAN,
            n if n % 2 == 1 => volumes[n / 2],
            n => 0.5 * (volumes[n / 2 - 1] + volumes[n / 2]),
        };
        println!("{name:>14}: median hypervolume {median:.3}");
    }
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("nsga2_zdt1: {e}");
            ExitCode::FAILURE
        }
    }
}
