//! Every example runs from the repository as a user would, and keeps the promise its
//! header makes (accuracy, R², agreement with a closed form, ...).

#![allow(clippy::unwrap_used)] // Tests fail loudly by design.

use nnc_driver::{JobReport, Overrides};
use nnc_tests::repo_root;

fn run(example: &str) -> JobReport {
    let dir = repo_root().join("examples");
    let source = std::fs::read_to_string(dir.join(example)).unwrap();
    let mut report = nnc_driver::run(&source, &dir, Overrides::default()).unwrap_or_else(|d| {
        panic!("{example} failed:\n{}", nnc_diagnostics::render(example, &source, &d));
    });
    report.jobs.pop().unwrap()
}

fn metric(report: &JobReport, split: &str, pick: fn(&nnc_driver::metrics::Scores) -> Option<f64>) -> f64 {
    let split = report.splits.iter().find(|s| s.name == split).unwrap();
    pick(&split.scores).unwrap()
}

#[test]
fn a_perceptron_learns_and_and_or() {
    for example in ["and.nn", "or.nn"] {
        let report = run(example);
        assert_eq!(metric(&report, "train", |s| s.accuracy), 1.0, "{example}");
    }
}

#[test]
fn a_perceptron_cannot_learn_xor() {
    let report = run("xor_linear.nn");
    assert!(metric(&report, "train", |s| s.accuracy) < 1.0);
}

/// Least squares for `dist = w * speed + b`, computed here from the CSV in f64.
fn least_squares() -> (f64, f64) {
    let text = std::fs::read_to_string(repo_root().join("examples/data/stopping_distance.csv")).unwrap();
    let points: Vec<(f64, f64)> = text
        .lines()
        .skip(1)
        .map(|line| {
            let (x, y) = line.split_once(',').unwrap();
            (x.parse().unwrap(), y.parse().unwrap())
        })
        .collect();
    let n = points.len() as f64;
    let (mx, my) = (points.iter().map(|p| p.0).sum::<f64>() / n, points.iter().map(|p| p.1).sum::<f64>() / n);
    let sxy: f64 = points.iter().map(|(x, y)| (x - mx) * (y - my)).sum();
    let sxx: f64 = points.iter().map(|(x, _)| (x - mx).powi(2)).sum();
    let w = sxy / sxx;
    (w, my - w * mx)
}

#[test]
fn linear_regression_matches_least_squares() {
    let report = run("linreg.nn");
    let params = &report.parameters;
    let w = f64::from(params.iter().find(|p| p.0 == "dense1.w").unwrap().2[0]);
    let b = f64::from(params.iter().find(|p| p.0 == "dense1.b").unwrap().2[0]);
    let (w_star, b_star) = least_squares();
    assert!(((w - w_star) / w_star).abs() < 1e-3, "w = {w}, least squares {w_star}");
    assert!(((b - b_star) / b_star).abs() < 1e-3, "b = {b}, least squares {b_star}");
}

#[test]
fn time_series_report_test_error_and_naive_baseline() {
    for example in ["temperature.nn", "stock.nn"] {
        let report = run(example);
        let mae = metric(&report, "test", |s| s.mae);
        let naive = report.naive_mae.as_ref().unwrap().iter().find(|(s, _)| s == "test").unwrap().1;
        assert!(mae.is_finite() && naive.is_finite(), "{example}");
        // Both are in the series' units; a working model is within a small factor of naive.
        assert!(mae < 2.0 * f64::from(naive), "{example}: mae {mae}, naive {naive}");
    }
    let temperature = run("temperature.nn");
    let naive = temperature.naive_mae.as_ref().unwrap().iter().find(|(s, _)| s == "test").unwrap().1;
    assert!(metric(&temperature, "test", |s| s.mae) < f64::from(naive), "the linear model beats 'tomorrow = today'");
}

#[test]
fn house_prices_reach_r2_one_half() {
    let report = run("house_price.nn");
    assert!(metric(&report, "test", |s| s.r2) >= 0.5);
    assert!(report.input_names.iter().any(|n| n == "city=<unknown>"));
}

#[test]
fn iris_reaches_ninety_percent() {
    let report = run("iris.nn");
    assert!(metric(&report, "test", |s| s.accuracy) >= 0.9);
    assert_eq!(report.classes, ["setosa", "versicolor", "virginica"]);
}

#[test]
fn digits_reach_ninety_five_percent() {
    let report = run("digits.nn");
    assert!(metric(&report, "test", |s| s.accuracy) >= 0.95);
}

#[test]
fn the_digits_cnn_reaches_98_5_percent_and_beats_the_mlp() {
    let cnn = metric(&run("digits_cnn.nn"), "test", |s| s.accuracy);
    let mlp = metric(&run("digits.nn"), "test", |s| s.accuracy);
    assert!(cnn >= 0.985, "cnn {cnn}");
    assert!(cnn > mlp, "cnn {cnn}, mlp {mlp}");
}

/// Over seeds 1–4 (each its own split and initial weights), not on one seed: a single
/// run's 359 test digits differ by a digit or two between CPU classes, whose sums are
/// ordered differently, and with seed 1 the two networks tie on AVX2 (354 of 359 each)
/// and the one without the skip wins by one digit under `generic`.
#[test]
fn the_residual_mlp_beats_the_same_layers_without_the_skip() {
    let dir = repo_root().join("examples");
    let source = std::fs::read_to_string(dir.join("digits_residual.nn")).unwrap();
    let plain_source = source.replace("  dense 64\n  add dense1 relu\n", "  dense 64 relu\n");
    assert_ne!(plain_source, source, "the residual block is where the test expects it");
    let accuracy = |source: &str, seed: u64| {
        let overrides = Overrides { seed: Some(seed), ..Overrides::default() };
        let report = nnc_driver::run(source, &dir, overrides).unwrap().jobs.pop().unwrap();
        metric(&report, "test", |s| s.accuracy)
    };
    let seeds = 1..=4;
    let residual: Vec<f64> = seeds.clone().map(|seed| accuracy(&source, seed)).collect();
    let plain: Vec<f64> = seeds.map(|seed| accuracy(&plain_source, seed)).collect();
    let mean = |a: &[f64]| a.iter().sum::<f64>() / a.len() as f64;
    assert!(residual[0] >= 0.98, "residual with the example's seed: {}", residual[0]);
    assert!(mean(&residual) > mean(&plain), "residual {residual:?}, without the skip {plain:?}");
}

#[test]
fn an_image_folder_trains_with_a_class_named_none() {
    let report = run("shapes.nn");
    assert_eq!(report.classes, ["circle", "cross", "none"]);
    assert_eq!(report.input_names.len(), 144);
    assert!(metric(&report, "test", |s| s.accuracy) >= 0.95);
}

#[test]
fn the_convolutional_forecast_beats_the_naive_one() {
    let report = run("temperature_conv.nn");
    let naive = report.naive_mae.as_ref().unwrap().iter().find(|(s, _)| s == "test").unwrap().1;
    assert!(metric(&report, "test", |s| s.mae) < f64::from(naive));
}

#[test]
fn an_embedding_of_the_city_beats_one_hot_columns() {
    let embedded = metric(&run("house_price_embedding.nn"), "test", |s| s.r2);
    let one_hot = metric(&run("house_price.nn"), "test", |s| s.r2);
    assert!(embedded >= 0.6 && embedded > one_hot, "embedding r2 {embedded}, one-hot {one_hot}");
}

#[test]
fn autoencoder_reconstructs_and_writes_two_d_codes() {
    let report = run("autoencoder.nn");
    // Better than predicting every pixel's mean: R² above zero on unseen digits.
    assert!(metric(&report, "test", |s| s.r2) > 0.5);
    let path = report.saved.as_ref().unwrap();
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("split,row,dense2_0,dense2_1"));
    assert_eq!(lines.count(), 1797);
}
