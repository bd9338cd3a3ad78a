//! The `nnc` binary as a user runs it: exit codes, the JSON report, overrides.

#![allow(clippy::unwrap_used)] // Tests fail loudly by design.

mod common;

use common::nnc;

#[test]
fn run_prints_predictions_accuracy_and_timings() {
    let output = nnc().args(["run", "examples/xor.nn"]).output().unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    for expected in ["final loss", "accuracy 100.0% (4/4)", "compile", "train", "x1 x2"] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
}

#[test]
fn json_report_has_the_documented_fields() {
    let output = nnc().args(["run", "examples/xor.nn", "--json", "--epochs", "300", "--seed", "4"]).output().unwrap();
    assert!(output.status.success());
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(json["final_loss"].as_f64().unwrap() >= 0.0);
    assert!(json["metrics"]["accuracy"].as_f64().is_some());
    let predictions = json["predictions"].as_array().unwrap();
    assert_eq!(predictions.len(), 4);
    assert_eq!(predictions[0].as_array().unwrap().len(), 1);
    for phase in ["parse", "compile", "train"] {
        assert!(json["timings_ms"][phase].as_f64().unwrap() >= 0.0, "timing {phase}");
    }
    assert_eq!(json["epochs"], 300);
    assert_eq!(json["seed"], 4);
    assert_eq!(json["epoch_losses"].as_array().unwrap().len(), 300);
    let timing = |phase: &str| json["timings_ms"][phase].as_f64().unwrap();
    let split = timing("compile_front") + timing("compile_codegen");
    assert!((timing("compile") - split).abs() < 1e-6 && timing("compile_front") > 0.0, "{}", json["timings_ms"]);
    let cpu = json["cpu"].as_str().unwrap();
    assert!(cpu.contains(" thread") && cpu.contains(", library "), "cpu: {cpu}");
}

/// `--batch` sets the rows per step (at most the training rows); zero is a usage error.
#[test]
fn the_batch_asked_for_is_the_one_trained() {
    let batch = |value: &str| {
        let output = nnc()
            .args(["run", "examples/iris.nn", "--json", "--quiet", "--epochs", "2", "--batch", value])
            .output()
            .unwrap();
        let json: Option<serde_json::Value> = serde_json::from_slice(&output.stdout).ok();
        (output.status.code(), json.map(|j| j["batch"].clone()))
    };
    assert_eq!(batch("1"), (Some(0), Some(serde_json::json!(1))));
    assert_eq!(batch("7"), (Some(0), Some(serde_json::json!(7))));
    assert_eq!(batch("100000"), (Some(0), Some(serde_json::json!(104))));
    assert_eq!(batch("0").0, Some(2));
}

#[test]
fn the_cpu_class_asked_for_is_the_one_reported() {
    let output =
        nnc().args(["run", "examples/xor.nn", "--json", "--quiet"]).env("NNC_CPU", "generic").output().unwrap();
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(json["cpu"].as_str().unwrap().starts_with("generic, "), "{}", json["cpu"]);
}

#[test]
fn diagnostics_exit_with_one_and_render_to_stderr() {
    let output = nnc().args(["run", "tests/golden/err/unknown-model.nn"]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("error[E0201]"), "{stderr}");
    assert!(output.stdout.is_empty());
}

#[test]
fn usage_errors_exit_with_two() {
    assert_eq!(nnc().args(["run"]).output().unwrap().status.code(), Some(2));
    assert_eq!(nnc().args(["ir", "examples/xor.nn", "--stage", "nope"]).output().unwrap().status.code(), Some(2));
    assert_eq!(nnc().args(["run", "no/such/file.nn"]).output().unwrap().status.code(), Some(2));
}

#[test]
fn check_and_ir_stages_succeed_on_the_example() {
    nnc().args(["check", "examples/xor.nn"]).assert().success();
    for stage in ["ast", "ir", "grad", "opt", "kernels", "clif", "asm"] {
        let output = nnc().args(["ir", "examples/xor.nn", "--stage", stage]).output().unwrap();
        assert!(output.status.success(), "stage {stage}");
        assert!(!output.stdout.is_empty(), "stage {stage}");
    }
}

/// A run too short to repay optimising its step compiles it quickly (xor: 2,000 steps of
/// about a thousand operations), a longer one optimises it (the same network for 20,000
/// epochs), and the listing says which; the standalone step is optimised either way.
#[test]
fn a_short_run_compiles_its_step_quickly_and_says_so() {
    let temp = tempfile::tempdir().unwrap();
    let xor = std::fs::read_to_string(common::root().join("examples/xor.nn")).unwrap();
    assert!(xor.contains("epochs 2000\n"), "the example's settings changed");
    let header = |epochs: &str| {
        let path = temp.path().join(format!("xor{epochs}.nn"));
        std::fs::write(&path, xor.replace("epochs 2000\n", &format!("epochs {epochs}\n"))).unwrap();
        let output = nnc().args(["ir", "--stage", "asm"]).arg(&path).output().unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let listing = String::from_utf8_lossy(&output.stdout).into_owned();
        let named = |name: &str| listing.lines().find(|l| l.starts_with(&format!("; {name} ("))).map(str::to_string);
        (named("train.0.step").expect("the loop's step"), named("step.1").expect("the standalone step"))
    };
    let (short, standalone) = header("2000");
    assert!(short.ends_with(", not optimised)"), "{short}");
    assert!(!standalone.contains("not optimised"), "{standalone}");
    let (long, _) = header("20000");
    assert!(!long.contains("not optimised"), "{long}");
}

/// Arbitrary bytes never make the compiler panic: they are diagnostics or success.
#[test]
fn garbage_input_is_a_diagnostic_not_a_panic() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path();
    let cases = [
        "",
        "{",
        "data",
        "model m { input 99999999999999999999999 }",
        "data d { a -> b\n 1 -> 1e999 }",
        "\u{feff}é ü",
        "train a on b {}",
    ];
    for (i, case) in cases.iter().enumerate() {
        let path = dir.join(format!("case{i}.nn"));
        std::fs::write(&path, case).unwrap();
        let output = nnc().args(["run"]).arg(&path).output().unwrap();
        assert!(matches!(output.status.code(), Some(0 | 1)), "case {case:?}: {:?}", output);
    }
}

/// `nnc check` reads the data too, so widths known only from the file are checked.
#[test]
fn check_reports_widths_known_only_from_the_file() {
    let output = nnc().args(["check", "tests/golden/err/loaded-width-mismatch.nn"]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8(output.stderr).unwrap().contains("error[E0301]"));
    nnc().args(["check", "examples/house_price.nn"]).assert().success();
}

#[test]
fn minimize_programs_report_their_trajectory_in_json() {
    let output = nnc().args(["run", "examples/gd_bowl.nn", "--json"]).output().unwrap();
    assert!(output.status.success());
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let trajectory = json["minimize"][0]["trajectory"].as_array().unwrap();
    assert_eq!(trajectory.len(), 26);
    assert_eq!(trajectory[0]["params"]["x"], 3.0);
    assert_eq!(trajectory[0]["gradient"]["y"], -8.0);
}

#[test]
fn json_reports_split_metrics_and_parameters() {
    let output = nnc().args(["run", "examples/iris.nn", "--json"]).output().unwrap();
    assert!(output.status.success());
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    for key in ["train_accuracy", "val_accuracy", "test_accuracy", "accuracy"] {
        assert!(json["metrics"][key].as_f64().is_some(), "metric {key}");
    }
    let weights = json["parameters"]["dense1.w"].as_array().unwrap();
    assert_eq!((weights.len(), weights[0].as_array().unwrap().len()), (4, 16));
}

#[test]
fn parabola_runs_are_judged_converging_oscillating_and_diverging() {
    let output = nnc().args(["run", "examples/gd_parabola.nn", "--json"]).output().unwrap();
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let verdicts: Vec<&str> =
        json["minimize"].as_array().unwrap().iter().map(|m| m["verdict"].as_str().unwrap()).collect();
    assert!(verdicts[0].starts_with("converging"), "{verdicts:?}");
    assert!(verdicts[1].starts_with("oscillating"), "{verdicts:?}");
    assert!(verdicts[2].starts_with("diverging"), "{verdicts:?}");
}

/// Pathologically deep or long expressions are diagnostics, not stack overflows.
#[test]
fn deep_nesting_and_huge_objectives_are_refused() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path();
    let deep = format!("minimize f {{ param x = 1; objective {}x{} }}", "(".repeat(5000), ")".repeat(5000));
    let long = format!("minimize f {{ param x = 1; objective x{} }}", " + x".repeat(5000));
    for (name, text, code) in [("deep.nn", deep, "E0104"), ("long.nn", long, "E0104")] {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        let output = nnc().arg("run").arg(&path).output().unwrap();
        assert_eq!(output.status.code(), Some(1), "{name}");
        assert!(String::from_utf8(output.stderr).unwrap().contains(code), "{name}");
    }
}
