//! Tunes a real model trained in Rust: a smartcore random forest on the
//! Wisconsin breast-cancer data set that smartcore ships (569 samples, 30
//! features), scored by 5-fold cross-validated accuracy.
//!
//! ```sh
//! cargo run --release -p keelson-hpo --example tune_model -- \
//!     [--trials 40] [--sampler tpe] [--seed 0] [--threads 1] [--out target/tune_model] [--no-progress]
//! ```
//!
//! It shows the progress bar (best accuracy so far) while it runs, then
//! writes to `--out`:
//! * `history.svg`: every trial's accuracy and the best so far, by trial;
//! * `best.json`: the best trial's parameters and accuracy;
//! * `study.json`: the whole study, which `Study::restore` resumes.
//!
//! `--sampler` takes `random`, `sobol`, `tpe` (the default) or `gp`.

use std::error::Error;
use std::path::{Path, PathBuf};

use keelson_hpo::{
    AnySampler, Direction, GpSampler, OptimizeOptions, ParamSpec, Params, RandomSampler,
    SearchSpace, SobolSampler, Study, TpeSampler, TrialState,
};
use plotters::prelude::*;
use smartcore::ensemble::random_forest_classifier::{
    RandomForestClassifier, RandomForestClassifierParameters,
};
use smartcore::linalg::basic::matrix::DenseMatrix;
use smartcore::metrics::accuracy;
use smartcore::model_selection::{BaseKFold, KFold};
use smartcore::tree::decision_tree_classifier::SplitCriterion;

struct Args {
    trials: usize,
    sampler: String,
    seed: u64,
    threads: usize,
    out: PathBuf,
    progress: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        trials: 40,
        sampler: "tpe".into(),
        seed: 0,
        threads: 1,
        out: PathBuf::from("target/tune_model"),
        progress: true,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--trials" => args.trials = value()?.parse().map_err(|e| format!("--trials: {e}"))?,
            "--sampler" => args.sampler = value()?,
            "--seed" => args.seed = value()?.parse().map_err(|e| format!("--seed: {e}"))?,
            "--threads" => {
                args.threads = value()?.parse().map_err(|e| format!("--threads: {e}"))?;
            }
            "--out" => args.out = PathBuf::from(value()?),
            "--no-progress" => args.progress = false,
            "-h" | "--help" => {
                println!(
                    "tune_model [--trials N] [--sampler random|sobol|tpe] [--seed S] [--threads T] [--out DIR] [--no-progress]"
                );
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other:?} (try --help)")),
        }
    }
    Ok(args)
}

/// The breast-cancer data as a matrix and labels.
struct Data {
    x: DenseMatrix<f32>,
    y: Vec<u32>,
}

fn load() -> Result<Data, Box<dyn Error>> {
    let data = smartcore::dataset::breast_cancer::load_dataset();
    let rows: Vec<Vec<f32>> = data
        .data
        .chunks(data.num_features)
        .map(<[f32]>::to_vec)
        .collect();
    let x = DenseMatrix::from_2d_vec(&rows)?;
    Ok(Data { x, y: data.target })
}

/// The forest's hyperparameters: Katib's format, so the same document could
/// be an Experiment's `parameters`.
fn space() -> keelson_hpo::Result<SearchSpace> {
    SearchSpace::new([
        ParamSpec::int("n_trees", 5, 100),
        ParamSpec::int("max_depth", 2, 16),
        ParamSpec::int("min_samples_leaf", 1, 16),
        ParamSpec::int("min_samples_split", 2, 16),
        ParamSpec::int("features_per_split", 1, 30)
            .distribution(keelson_hpo::Distribution::LogUniform),
        ParamSpec::categorical("criterion", ["gini", "entropy", "classification_error"]),
    ])
}

/// Mean accuracy over 5 shuffled folds (the fold split fixed, so trials
/// differ only by their parameters).
fn cross_validated_accuracy(data: &Data, params: &Params) -> Result<f64, Box<dyn Error>> {
    let criterion = match params.str("criterion")? {
        "gini" => SplitCriterion::Gini,
        "entropy" => SplitCriterion::Entropy,
        _ => SplitCriterion::ClassificationError,
    };
    let forest = RandomForestClassifierParameters::default()
        .with_n_trees(u16::try_from(params.i64("n_trees")?)?)
        .with_max_depth(u16::try_from(params.i64("max_depth")?)?)
        .with_min_samples_leaf(usize::try_from(params.i64("min_samples_leaf")?)?)
        .with_min_samples_split(usize::try_from(params.i64("min_samples_split")?)?)
        .with_m(usize::try_from(params.i64("features_per_split")?)?)
        .with_criterion(criterion)
        .with_seed(7);
    let folds = KFold {
        n_splits: 5,
        shuffle: true,
        seed: Some(42),
    };
    let mut total = 0.0;
    for (train, test) in folds.split(&data.x) {
        use smartcore::linalg::basic::arrays::Array2;
        let train_x = data.x.take(&train, 0);
        let test_x = data.x.take(&test, 0);
        let train_y: Vec<u32> = train.iter().map(|&i| data.y[i]).collect();
        let test_y: Vec<u32> = test.iter().map(|&i| data.y[i]).collect();
        let model = RandomForestClassifier::fit(&train_x, &train_y, forest.clone())?;
        let predicted = model.predict(&test_x)?;
        total += accuracy(&test_y, &predicted);
    }
    Ok(total / f64::from(folds.n_splits as u32))
}

fn sampler(name: &str, seed: u64) -> Result<AnySampler, String> {
    Ok(match name {
        "random" => RandomSampler::new(seed).into(),
        "sobol" => SobolSampler::new(seed).into(),
        "tpe" => TpeSampler::new(seed).into(),
        "gp" => GpSampler::new(seed).into(),
        other => {
            return Err(format!(
                "unknown sampler {other:?}: random, sobol, tpe or gp"
            ));
        }
    })
}

/// Every complete trial's accuracy (points) and the best so far (a line).
fn plot_history(study: &Study, path: &Path) -> Result<(), Box<dyn Error>> {
    let points: Vec<(u64, f64)> = study
        .trials()
        .iter()
        .filter(|t| t.state == TrialState::Complete)
        .filter_map(|t| t.value.map(|v| (t.id, v)))
        .collect();
    let mut best = f64::NEG_INFINITY;
    let best_line: Vec<(u64, f64)> = points
        .iter()
        .map(|&(id, v)| {
            best = best.max(v);
            (id, best)
        })
        .collect();
    let (lo, hi) = points
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &(_, v)| {
            (lo.min(v), hi.max(v))
        });
    let pad = ((hi - lo) * 0.05).max(1e-3);
    let n = study.trials().len() as u64;

    let root = SVGBackend::new(path, (800, 480)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "Random forest on breast cancer: 5-fold CV accuracy",
            ("sans-serif", 20),
        )
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(56)
        .build_cartesian_2d(0..n.max(1), (lo - pad)..(hi + pad))?;
    chart
        .configure_mesh()
        .x_desc("trial")
        .y_desc("accuracy")
        .draw()?;
    chart
        .draw_series(
            points
                .iter()
                .map(|&(id, v)| Circle::new((id, v), 3, BLUE.filled())),
        )?
        .label("trial")
        .legend(|(x, y)| Circle::new((x, y), 3, BLUE.filled()));
    chart
        .draw_series(LineSeries::new(best_line, RED.stroke_width(2)))?
        .label("best so far")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], RED.stroke_width(2)));
    chart
        .configure_series_labels()
        .border_style(BLACK)
        .background_style(WHITE.mix(0.8))
        .position(SeriesLabelPosition::LowerRight)
        .draw()?;
    root.present()?;
    Ok(())
}

fn main() -> Result<(), Box<dyn Error>> {
    let args = parse_args()?;
    let data = load()?;
    let mut study = Study::new(
        space()?,
        Direction::Maximize,
        sampler(&args.sampler, args.seed)?,
    )?;
    let options = OptimizeOptions::new()
        .threads(args.threads)
        .progress(args.progress);
    let summary = study.optimize_with(args.trials, &options, |trial| {
        cross_validated_accuracy(&data, trial.params()).map_err(|e| e.to_string())
    })?;

    std::fs::create_dir_all(&args.out)?;
    let best = study.best_trial().ok_or("no trial completed")?;
    let best_json = serde_json::json!({
        "trial": best.id,
        "accuracy": best.value,
        "params": best.params.iter().map(|(k, v)| (k.to_owned(), v.to_string())).collect::<std::collections::BTreeMap<_, _>>(),
    });
    std::fs::write(
        args.out.join("best.json"),
        serde_json::to_string_pretty(&best_json)?,
    )?;
    std::fs::write(args.out.join("study.json"), study.save()?)?;
    plot_history(&study, &args.out.join("history.svg"))?;

    println!(
        "{} trials ({} complete, {} failed) with {}: best accuracy {:.4} at trial {}",
        args.trials,
        summary.completed,
        summary.failed,
        args.sampler,
        best.value.unwrap_or(f64::NAN),
        best.id
    );
    println!("best parameters: {}", best.params);
    println!(
        "wrote {}, {} and {}",
        args.out.join("history.svg").display(),
        args.out.join("best.json").display(),
        args.out.join("study.json").display()
    );
    Ok(())
}
