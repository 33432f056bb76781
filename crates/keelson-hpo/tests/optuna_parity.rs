//! TPE draws from numpy's MT19937 in Optuna's order and by Optuna's
//! quantile, so on a space Optuna can express the same seed gives Optuna
//! 5.0's suggestions. The expected values below were printed by Optuna
//! 5.0.0 (numpy 2.4.6) running the anchor's functions with
//! `TPESampler(seed=...)`, defined by run as `bench_optuna.py` defines
//! them; the startup trials and the first model-based ones are both
//! covered.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use keelson_hpo::samplers::TpeOptions;
use keelson_hpo::testfns::TestFunction;
use keelson_hpo::{Direction, Outcome, Params, Study, TpeSampler};

/// Runs `n` trials of the test function and returns their assignments.
fn run(function: &str, seed: u64, options: TpeOptions, n: usize) -> Vec<Params> {
    let f = TestFunction::by_name(function).unwrap();
    let sampler = TpeSampler::with_options(seed, options);
    let mut study = Study::new(f.space().unwrap(), Direction::Minimize, sampler).unwrap();
    (0..n)
        .map(|_| {
            let trial = study.ask().unwrap();
            let value = f.evaluate(&trial.params).unwrap();
            study.tell(trial.id, Outcome::Value(value)).unwrap();
            trial.params
        })
        .collect()
}

fn close(got: f64, want: f64, what: &str) {
    assert!(
        (got - want).abs() <= 1e-12 * want.abs().max(1e-12),
        "{what}: keelson {got}, Optuna {want}"
    );
}

#[test]
fn multivariate_tpe_makes_optunas_suggestions_on_branin() {
    // optuna.samplers.TPESampler(seed=0), Optuna 5's default (multivariate).
    let optuna = [
        [3.232202558909872, 10.727840495586292],
        [4.041450641074658, 8.173247744953454],
        [1.354821990083571, 9.688411695999841],
        [1.5638081689403878, 13.376595011731197],
        [9.45494140751544, 5.751622782386666],
        [6.87587557123997, 7.933423796293567],
        [3.5206684164089843, 13.883949574389916],
        [-3.9344591270316958, 1.3069394955231106],
        [-4.696724038395114, 12.48929768321907],
        [6.672351264247757, 13.050182223702288],
        [4.117053603500033, 2.498792221418392],
        [9.727350595824896, 4.237557007045119],
        [3.796113001137363, 3.3724493210305333],
        [-2.075899043844986, 6.8623279355480555],
    ];
    let options = TpeOptions {
        multivariate: true,
        ..TpeOptions::default()
    };
    let ours = run("branin", 0, options, optuna.len());
    for (i, (params, want)) in ours.iter().zip(&optuna).enumerate() {
        close(params.f64("x0").unwrap(), want[0], &format!("trial {i} x0"));
        close(params.f64("x1").unwrap(), want[1], &format!("trial {i} x1"));
    }
}

#[test]
fn univariate_tpe_makes_optunas_suggestions_on_hartmann6() {
    // optuna.samplers.TPESampler(seed=1, multivariate=False).
    let optuna = [
        [
            0.417022004702574,
            0.7203244934421581,
            0.00011437481734488664,
            0.30233257263183977,
            0.14675589081711304,
            0.0923385947687978,
        ],
        [
            0.1862602113776709,
            0.34556072704304774,
            0.39676747423066994,
            0.538816734003357,
            0.4191945144032948,
            0.6852195003967595,
        ],
        [
            0.20445224973151743,
            0.8781174363909454,
            0.027387593197926163,
            0.6704675101784022,
            0.41730480236712697,
            0.5586898284457517,
        ],
        [
            0.14038693859523377,
            0.1981014890848788,
            0.8007445686755367,
            0.9682615757193975,
            0.31342417815924284,
            0.6923226156693141,
        ],
        [
            0.8763891522960383,
            0.8946066635038473,
            0.08504421136977791,
            0.03905478323288236,
            0.1698304195645689,
            0.8781425034294131,
        ],
        [
            0.0983468338330501,
            0.42110762500505217,
            0.9578895301505019,
            0.5331652849730171,
            0.6918771139504734,
            0.31551563100606295,
        ],
        [
            0.6865009276815837,
            0.8346256718973729,
            0.018288277344191806,
            0.7501443149449675,
            0.9888610889064947,
            0.7481656543798394,
        ],
        [
            0.2804439920644052,
            0.7892793284514885,
            0.10322600657764203,
            0.44789352617590517,
            0.9085955030930956,
            0.2936141483736795,
        ],
        [
            0.28777533858634874,
            0.13002857211827767,
            0.019366957870297075,
            0.678835532939891,
            0.21162811600005904,
            0.2655466593722262,
        ],
        [
            0.4915731592803383,
            0.053362545117080384,
            0.5741176054920131,
            0.14672857490581015,
            0.5893055369032842,
            0.6997583600209312,
        ],
        [
            0.9839799513908929,
            0.4519046037030447,
            0.39215430090580694,
            0.9876561817847485,
            0.01626980574067871,
            0.9742958021896244,
        ],
        [
            0.45500372163688424,
            0.5619083398731901,
            0.3481985165686595,
            0.30020683642505247,
            0.47970512686914757,
            0.003931095261901857,
        ],
    ];
    let ours = run("hartmann6", 1, TpeOptions::default(), optuna.len());
    for (i, (params, want)) in ours.iter().zip(&optuna).enumerate() {
        for (j, &w) in want.iter().enumerate() {
            let name = format!("x{j}");
            close(params.f64(&name).unwrap(), w, &format!("trial {i} {name}"));
        }
    }
}

#[test]
fn tpe_makes_optunas_suggestions_on_a_mixed_space() {
    // A log double, an int, two lists given to Optuna as categorical, a
    // double: TPESampler(seed=0).
    let optuna = [
        (
            0.0015676677195506068,
            6,
            "adagrad",
            64.0,
            0.45443564887514587,
        ),
        (0.05039489598671213, 1, "rmsprop", 32.0, 0.5119368170620191),
        (
            3.7446665357415675e-05,
            8,
            "adagrad",
            128.0,
            0.7549984628116994,
        ),
        (0.005336803302756713, 3, "adam", 16.0, 0.3508812107698563),
        (
            0.08984529773922546,
            1,
            "rmsprop",
            256.0,
            0.15726588934404281,
        ),
        (
            0.00029846999797850836,
            7,
            "adagrad",
            32.0,
            0.09615724897053513,
        ),
        (
            0.0001529539827781372,
            1,
            "adagrad",
            512.0,
            0.25485516196105895,
        ),
        (0.004673492174823725, 2, "sgd", 32.0, 0.7697508360939507),
        (
            9.885817165390816e-05,
            5,
            "adagrad",
            32.0,
            0.7048825576889293,
        ),
        (
            0.0021139343244023162,
            8,
            "adagrad",
            512.0,
            0.23206208576835527,
        ),
        (0.007674548951110942, 5, "adam", 16.0, 0.4377970090014137),
        (0.0004114751485822607, 3, "adam", 16.0, 0.19349075950109768),
    ];
    let options = TpeOptions {
        multivariate: true,
        discrete_as_categorical: true,
        ..TpeOptions::default()
    };
    let ours = run("mixed_train_loss", 0, options, optuna.len());
    for (i, (params, want)) in ours.iter().zip(&optuna).enumerate() {
        let (lr, n_layers, optimizer, batch_size, dropout) = *want;
        close(params.f64("lr").unwrap(), lr, &format!("trial {i} lr"));
        assert_eq!(params.i64("n_layers").unwrap(), n_layers, "trial {i}");
        assert_eq!(params.str("optimizer").unwrap(), optimizer, "trial {i}");
        assert_eq!(params.f64("batch_size").unwrap(), batch_size, "trial {i}");
        close(
            params.f64("dropout").unwrap(),
            dropout,
            &format!("trial {i} dropout"),
        );
    }
}

#[test]
fn without_discrete_as_categorical_a_list_is_ordinal_and_draws_differ() {
    // The same seed, `batch_size` modelled as ordered cells: one draw per
    // startup trial for it instead of one per value, so the stream shifts.
    let options = TpeOptions {
        multivariate: true,
        ..TpeOptions::default()
    };
    let ours = run("mixed_train_loss", 0, options, 1);
    close(ours[0].f64("lr").unwrap(), 0.0015676677195506068, "lr");
    assert_ne!(ours[0].f64("dropout").unwrap(), 0.45443564887514587);
}

#[test]
fn tpe_orders_tied_ints_as_optuna_does_for_a_whole_run() {
    // TPESampler(seed=3) on the mixed space, 200 trials: `n_layers` takes
    // 8 values, so from the first trials on the kernels of equal values
    // get their bandwidths in the order numpy's argsort leaves them (AVX2,
    // where these were printed). Every trial's `n_layers`, the last
    // trial's parameters and the best value are Optuna's.
    let n_layers = "66241117544334575324151334222234543224554563534535616244553444545534454545453444344544444454444443544344543334334444443433455444444443444545445544453434443444434454445444344535444444444445444434354444";
    let options = TpeOptions {
        multivariate: true,
        discrete_as_categorical: true,
        ..TpeOptions::default()
    };
    let ours = run("mixed_train_loss", 3, options, n_layers.len());
    let got: String = ours
        .iter()
        .map(|p| p.i64("n_layers").unwrap().to_string())
        .collect();
    assert_eq!(got, n_layers);
    let last = ours.last().unwrap();
    close(last.f64("lr").unwrap(), 0.0007436450736851768, "last lr");
    assert_eq!(last.str("optimizer").unwrap(), "adagrad");
    assert_eq!(last.f64("batch_size").unwrap(), 64.0);
    close(
        last.f64("dropout").unwrap(),
        0.12820863726661888,
        "last dropout",
    );
    let f = TestFunction::by_name("mixed_train_loss").unwrap();
    let best = ours
        .iter()
        .map(|p| f.evaluate(p).unwrap())
        .fold(f64::INFINITY, f64::min);
    close(best, 0.10016213794838504, "best value");
}

#[test]
fn univariate_tpe_breaks_equal_categorical_scores_as_optuna_does() {
    // TPESampler(seed=0, multivariate=False) on the mixed space, 200
    // trials. At trial 12 `batch_size` 16 and 64 have equal scores in exact
    // arithmetic; Optuna's rounding (0.6359887667199962 against
    // 0.6359887667199966) picks 64, and so must keelson. Every trial's
    // `batch_size` (a = 16, b = 32, ... f = 512) and `optimizer` (first
    // letter) are Optuna's.
    let batch = "cbdaebfbbfaccccccdddeddddddafecddddddaefbddddbcdccccccccccccccccaccccfccccccccecbcccccacfceccccccbccccccccccacfcccccccceccccccbccccccccccaccfccccccceccccccccbccccccccccccacccccccccfcccccccecccccccccbc";
    let optimizer = "araaraasaaaaaaaasaaasaaaraaaasraaaaraaaaraaaaaasaaaaaaaaasaaaaaaaaraaaaaaaasaaaraaaaaaaaaaaaaaaasaaaraaaaaaaaaaaaaaaaaasaaaaaaaaraaaaaaaaaaaaaaaaaaaaasaaaaaaaaraaaaaaaaaaaaaaaaaaaaaaaaaaaasaaaaaaaaara";
    let options = TpeOptions {
        discrete_as_categorical: true,
        ..TpeOptions::default()
    };
    let ours = run("mixed_train_loss", 0, options, batch.len());
    let letter = |size: f64| match size as u32 {
        16 => 'a',
        32 => 'b',
        64 => 'c',
        128 => 'd',
        256 => 'e',
        _ => 'f',
    };
    let got: String = ours
        .iter()
        .map(|p| letter(p.f64("batch_size").unwrap()))
        .collect();
    assert_eq!(got, batch);
    let got: String = ours
        .iter()
        .map(|p| p.str("optimizer").unwrap().chars().next().unwrap())
        .collect();
    assert_eq!(got, optimizer);
}
