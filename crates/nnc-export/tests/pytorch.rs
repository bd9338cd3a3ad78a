//! The exported PyTorch project: every file compiles as Python, and where PyTorch is
//! installed (`NNC_PYTHON` names an interpreter, else `python3`) it trains the iris MLP,
//! the digits CNN (convolutions, pools, dropout) and the house-price embedding to about
//! the quality nnc reaches.

#![allow(clippy::unwrap_used)] // Tests fail loudly by design.

use nnc_driver::Overrides;
use std::path::Path;
use std::process::Command;

fn python() -> Option<String> {
    let candidate = std::env::var("NNC_PYTHON").unwrap_or_else(|_| "python3".to_string());
    let works = Command::new(&candidate).arg("--version").output().is_ok_and(|o| o.status.success());
    works.then_some(candidate)
}

/// Exports `example` (under examples/) with its data file, compiles every file as Python
/// and, where PyTorch is installed, trains it: the test split's `metric` (as train.py
/// prints it) must reach `at_least`.
fn trains_in_pytorch(example: &str, data: &str, metric: &str, at_least: f64) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let program = root.join("examples").join(example);
    let source = std::fs::read_to_string(&program).unwrap();
    let checked = nnc_driver::check(&source, program.parent().unwrap(), Overrides::default()).unwrap();
    let plan = &checked.jobs[0];
    let initial = plan.start_params(plan.job.train.seed);
    let data_path = format!("data/{data}");
    let files = nnc_export::pytorch::project(&plan.job, &plan.data, &initial, &data_path).unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join(&data_path).parent().unwrap()).unwrap();
    std::fs::copy(root.join("examples").join(&data_path), dir.path().join(&data_path)).unwrap();
    for file in &files {
        std::fs::write(dir.path().join(&file.name), &file.text).unwrap();
    }
    let Some(python) = python() else {
        nnc_testkit::skip(&format!("the {example} project compiles and trains"), "no Python found");
        return;
    };
    let compiled = Command::new(&python)
        .args(["-m", "py_compile", "model.py", "data.py", "train.py"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(compiled.status.success(), "{}", String::from_utf8_lossy(&compiled.stderr));
    let has_torch = Command::new(&python).args(["-c", "import torch"]).output().is_ok_and(|o| o.status.success());
    if !has_torch {
        nnc_testkit::skip(
            &format!("the {example} project trains in PyTorch"),
            &format!("PyTorch is not installed for {python}"),
        );
        return;
    }
    let trained = Command::new(&python).arg("train.py").current_dir(dir.path()).output().unwrap();
    let text = String::from_utf8_lossy(&trained.stdout);
    assert!(trained.status.success(), "{text}\n{}", String::from_utf8_lossy(&trained.stderr));
    let value: f64 = text
        .lines()
        .find_map(|l| l.strip_prefix(&format!("test {metric} ")))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no test {metric} in:\n{text}"));
    assert!(value >= at_least, "{example}: PyTorch reached {metric} {value} on the test rows:\n{text}");
    assert!(dir.path().join("model.pt").exists());
}

#[test]
fn the_iris_project_compiles_and_trains_where_pytorch_is_installed() {
    trains_in_pytorch("iris.nn", "iris.csv", "accuracy", 0.85);
}

/// nnc reaches 0.989 on this split (examples/digits_cnn.nn); PyTorch starts from other
/// random weights and draws other dropout masks, so it is held to about the MLP's level.
#[test]
fn the_digits_cnn_trains_in_pytorch_to_nncs_accuracy() {
    trains_in_pytorch("digits_cnn.nn", "digits.csv", "accuracy", 0.97);
}

/// nnc reaches R² 0.645 on this split (examples/house_price_embedding.nn).
#[test]
fn the_house_price_embedding_trains_in_pytorch() {
    trains_in_pytorch("house_price_embedding.nn", "sacramento_homes.csv", "R²", 0.55);
}

/// The triplet loss and `sampler classes` in PyTorch: nnc reaches leave-one-out top-1
/// 0.99 on the test rows of digits 0-6 (examples/digits_similarity.nn).
#[test]
fn the_digits_similarity_embedding_trains_in_pytorch() {
    trains_in_pytorch("digits_similarity.nn", "digits_similarity/train_0to6.csv", "top-1", 0.95);
}
