//! The exported PyTorch project: every file compiles as Python, and where PyTorch is
//! installed (`NNC_PYTHON` names an interpreter, else `python3`) it trains the iris model
//! to the accuracy nnc reaches.

#![allow(clippy::unwrap_used)] // Tests fail loudly by design.

use nnc_driver::Overrides;
use std::path::Path;
use std::process::Command;

fn python() -> Option<String> {
    let candidate = std::env::var("NNC_PYTHON").unwrap_or_else(|_| "python3".to_string());
    let works = Command::new(&candidate).arg("--version").output().is_ok_and(|o| o.status.success());
    works.then_some(candidate)
}

#[test]
fn the_iris_project_compiles_and_trains_where_pytorch_is_installed() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let program = root.join("examples/iris.nn");
    let source = std::fs::read_to_string(&program).unwrap();
    let checked = nnc_driver::check(&source, program.parent().unwrap(), Overrides::default()).unwrap();
    let plan = &checked.jobs[0];
    let initial = plan.start_params(plan.job.train.seed);
    let files = nnc_export::pytorch::project(&plan.job, &plan.data, &initial, "data/iris.csv").unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("data")).unwrap();
    std::fs::copy(root.join("examples/data/iris.csv"), dir.path().join("data/iris.csv")).unwrap();
    for file in &files {
        std::fs::write(dir.path().join(&file.name), &file.text).unwrap();
    }
    let Some(python) = python() else {
        nnc_testkit::skip("the_iris_project_compiles_and_trains", "no Python found");
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
        nnc_testkit::skip("the_iris_project_trains_in_pytorch", &format!("PyTorch is not installed for {python}"));
        return;
    }
    let trained = Command::new(&python).arg("train.py").current_dir(dir.path()).output().unwrap();
    let text = String::from_utf8_lossy(&trained.stdout);
    assert!(trained.status.success(), "{text}\n{}", String::from_utf8_lossy(&trained.stderr));
    let accuracy: f64 = text
        .lines()
        .find_map(|l| l.strip_prefix("test accuracy "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no test accuracy in:\n{text}"));
    assert!(accuracy >= 0.85, "PyTorch reached {accuracy} on the test rows:\n{text}");
    assert!(dir.path().join("model.pt").exists());
}
