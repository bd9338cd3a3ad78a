//! What must never happen to a user, tried as a user would: a model that is not a number
//! reported or saved as trained, an interrupt that leaks into later blocks, a file left
//! half-written, a memory limit that kills the process instead of refusing the run.

#![allow(clippy::unwrap_used)] // Tests fail loudly by design.

mod common;

use common::{nnc, root};

use std::path::PathBuf;

/// A rate that overflows the weights in the last (only) step: the epoch's loss was taken
/// before the update and is finite, but the weights are not. The run fails with the
/// divergence diagnostic naming the parameter, and `--save` writes nothing.
#[test]
fn weights_that_overflow_in_the_last_step_are_a_divergence_not_a_model() {
    let dir = tempfile::tempdir().unwrap();
    let weights = dir.path().join("w.safetensors");
    let output = nnc()
        .args(["run", "examples/linreg.nn", "--epochs", "1", "--lr", "1e38", "--save"])
        .arg(&weights)
        .output()
        .unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("error[E0408]") && stderr.contains("parameter `dense1.w` became"), "{stderr}");
    assert!(output.stdout.is_empty());
    assert!(!weights.exists(), "nothing is saved");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "no temporary file either");
}

/// With a validation split and early stopping, a first epoch that diverges is reported,
/// never kept as the "best" epoch.
#[test]
fn a_diverging_validation_run_fails_instead_of_keeping_a_nan_epoch() {
    let source = root().join("examples/iris.nn");
    let output = nnc().arg("run").arg(&source).args(["--epochs", "3", "--lr", "1e30", "--quiet"]).output().unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("error[E0408]: training diverged in epoch 1"), "{stderr}");
}

/// Ctrl-C during the first block stops it (its report says where) and skips every later
/// block, which the report names; the exit code is 130.
#[cfg(unix)]
#[test]
fn an_interrupt_stops_its_block_and_skips_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let program = dir.path().join("two.nn");
    std::fs::write(
        &program,
        "minimize p { param x = 5; objective x^2; lr 0.0000001; steps 1000000000 }
         data xor { x1 x2 -> y; 0 0 -> 0; 0 1 -> 1; 1 0 -> 1; 1 1 -> 0 }
         model mlp { input 2; dense 8 relu; dense 1 }
         train mlp on xor { loss mse; epochs 10 }",
    )
    .unwrap();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_nnc"))
        .args(["run", "--json"])
        .arg(&program)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // A billion steps take tens of seconds: the interrupt lands in the descent.
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let sent = std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(sent.success());
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(130), "{}", String::from_utf8_lossy(&output.stderr));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let descent = &report["minimize"][0];
    assert_eq!(descent["interrupted"], true);
    let last_step = descent["trajectory"].as_array().unwrap().last().unwrap()["step"].as_u64().unwrap();
    assert!(last_step > 0 && last_step < 1_000_000_000, "stopped at step {last_step}");
    assert_eq!(report["skipped"], serde_json::json!(["train mlp on xor"]));
    assert!(report.get("jobs").is_none() && report.get("model").is_none(), "the train block did not run");
}

/// A value that looks missing but is a category (`missing_values region("")`) stays a
/// category through `--save` and `nnc predict`: the markers travel with the weights.
#[test]
fn a_marker_declared_a_category_is_one_in_predict_too() {
    let dir = tempfile::tempdir().unwrap();
    let rows = "size,region,price\n1,NA,10\n2,EU,19\n3,NA,31\n4,EU,40\n5,NA,52\n6,EU,59\n";
    std::fs::write(dir.path().join("homes.csv"), rows).unwrap();
    let program = dir.path().join("homes.nn");
    std::fs::write(
        &program,
        "data homes { file \"homes.csv\"; target price; missing_values region(\"\") }
         model m { input auto; dense 1 }
         train m on homes { loss mse; epochs 5 }",
    )
    .unwrap();
    let weights = dir.path().join("w.safetensors");
    nnc().arg("run").arg(&program).arg("--quiet").arg("--save").arg(&weights).assert().success();
    let predict = |rows: &str| {
        std::fs::write(dir.path().join("new.csv"), rows).unwrap();
        let input = dir.path().join("new.csv");
        nnc()
            .arg("predict")
            .arg(&program)
            .arg("--weights")
            .arg(&weights)
            .arg("--input")
            .arg(input)
            .arg("--json")
            .output()
            .unwrap()
    };
    let output = predict("size,region\n2,NA\n3,\n");
    let errors = String::from_utf8_lossy(&output.stdout);
    // The empty cell is missing (the data says `missing error`), with its line named; `NA`
    // is not what stops it.
    assert_eq!(output.status.code(), Some(1), "{errors}");
    assert!(errors.contains("line 3") && errors.contains("`region` is missing (empty)"), "{errors}");
    let output = predict("size,region\n2,NA\n3,EU\n");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let text = report.to_string();
    assert!(!text.contains("unknown"), "NA is a category seen in training: {text}");
}

/// Writes `source` as `name` in a fresh folder; the folder and the program's path.
fn program(name: &str, source: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, source).unwrap();
    (dir, path)
}

/// Runs `nnc ARGS` under `ulimit -v KIB` (a shell sets it for the child alone).
#[cfg(unix)]
fn under_ulimit(kib: u64, args: &str) -> std::process::Output {
    under_ulimit_in(std::path::Path::new("."), kib, args)
}

const WIDE: &str = "data d { a b -> y; 0 1 -> 1; 1 0 -> 0 }
model m { input 2; dense 11585 relu; dense 11585 relu; dense 1 }
train m on d { loss mse; optimizer adam(lr = 0.001); epochs 2 }";

/// A network whose weights and Adam's moments take 1.5 GiB, under a 1 GB address-space
/// limit: refused before allocating, with the amount, the limit and what to do; never
/// "memory allocation failed" and exit 134.
#[cfg(unix)]
#[test]
fn a_model_larger_than_ulimit_is_refused_with_a_diagnostic() {
    let (_dir, path) = program("wide.nn", WIDE);
    let output = under_ulimit(1_000_000, &format!("run {} --quiet", path.display()));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("error[E0309]") && stderr.contains("ulimit -v"), "{stderr}");
    assert!(stderr.contains("parameters and optimizer state 1.5 GiB"), "{stderr}");
}

/// `--max-memory` caps a run the same way, for a program, an inline table and a data file.
#[test]
fn max_memory_refuses_programs_tables_and_files_that_would_not_fit() {
    let (_dir, path) = program("wide.nn", WIDE);
    let output = nnc().arg("check").arg(&path).args(["--max-memory", "100M"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("error[E0309]") && stderr.contains("--max-memory"), "{stderr}");

    let rows = "  0 1 -> 1\n".repeat(20_000);
    let (_dir, table) = program(
        "table.nn",
        &format!("data d {{\n  a b -> y\n{rows}}}\nmodel m {{ input 2; dense 1 }}\ntrain m on d {{ loss mse }}\n"),
    );
    let output = nnc().arg("run").arg(&table).args(["--max-memory", "1M"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("error[E0309]") && stderr.contains("the program (214.9 KiB)"), "{stderr}");
    // The snippet shows the program's first line, the only part read.
    assert!(stderr.contains("1 │ data d {\n  │ ^ this program"), "{stderr}");
    nnc().arg("run").arg(&table).args(["--max-memory", "20M", "--quiet"]).assert().success();

    let (dir, csv_program) = program(
        "csv.nn",
        "data d { file \"big.csv\"; target y }\nmodel m { input auto; dense 1 }\ntrain m on d { loss mse }\n",
    );
    std::fs::write(dir.path().join("big.csv"), "x,y\n".to_string() + &"0.5,1\n".repeat(200_000)).unwrap();
    let output = nnc().arg("check").arg(&csv_program).args(["--max-memory", "2M"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("error[E0309]: reading data file `big.csv` (1 MiB)"), "{stderr}");
}

/// The diagnosis leaves out a check that would not fit, and says so.
#[test]
fn the_diagnosis_skips_what_would_not_fit_and_says_so() {
    let (_dir, path) = program(
        "deep.nn",
        "data d { a b -> y; 0 1 -> 1; 1 0 -> 0 }
         model m { input 2; dense 2000 relu; dense 2000 relu; dense 1 }
         train m on d { loss mse; epochs 1 }",
    );
    let output = nnc().arg("run").arg(&path).args(["--max-memory", "40M", "--json"]).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let kinds: Vec<&str> =
        report["diagnosis"].as_array().unwrap().iter().map(|f| f["kind"].as_str().unwrap()).collect();
    assert!(kinds.contains(&"not_checked"), "{kinds:?}");
}

/// A descent of millions of steps keeps a bounded trajectory.
#[test]
fn a_long_descent_keeps_a_bounded_trajectory() {
    let (_dir, path) = program("long.nn", "minimize p { param x = 5; objective x^2; lr 0.0000001; steps 2000000 }");
    let output = nnc().arg("run").arg(&path).arg("--json").output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let trajectory = report["minimize"][0]["trajectory"].as_array().unwrap();
    assert!(trajectory.len() <= 10_002, "{} points", trajectory.len());
    assert_eq!(trajectory.last().unwrap()["step"], 2_000_000);
    assert_eq!(report["minimize"][0]["sampled_every"], 200);
}

/// A split evaluated in chunks (`NNC_EVAL_ROWS` caps the planner's chunk, which a split of
/// this size would never need) gives the same predictions, losses and scores as one call
/// over the whole split: rows of 150 in chunks of 7, with a last chunk of 3 (iris's
/// training split is 104 rows) and of validation during training too.
#[test]
fn evaluating_in_chunks_gives_what_one_call_gives() {
    assert_chunks_agree("examples/iris.nn", "30", &["predictions", "metrics", "val_losses", "splits"]);
}

/// A model with convolutions and pooling is evaluated `WINDOW_EVAL_ROWS` (64) rows a call
/// as planned, with a last call of the rest (`digits_cnn.nn`'s 1,438 training rows are 22
/// calls and 30 rows, its 359 test rows 5 calls and 39): calls of 7 rows give the same
/// predictions, losses and scores.
#[test]
fn evaluating_convolutions_in_chunks_gives_what_their_planned_calls_give() {
    assert_chunks_agree("examples/digits_cnn.nn", "1", &["predictions", "metrics", "splits", "confusion"]);
}

/// Runs `example` for `epochs` as planned and with its evaluations in calls of 7 rows,
/// and compares every number under `keys` of the two reports.
fn assert_chunks_agree(example: &str, epochs: &str, keys: &[&str]) {
    let run = |chunk: Option<&str>| -> serde_json::Value {
        let mut command = nnc();
        command.args(["run", example, "--json", "--quiet", "--epochs", epochs]);
        if let Some(rows) = chunk {
            command.env("NNC_EVAL_ROWS", rows);
        }
        let output = command.output().unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        serde_json::from_slice(&output.stdout).unwrap()
    };
    let (whole, chunked) = (run(None), run(Some("7")));
    let numbers = |value: &serde_json::Value| -> Vec<f64> {
        let mut out = Vec::new();
        fn walk(v: &serde_json::Value, out: &mut Vec<f64>) {
            match v {
                serde_json::Value::Number(n) => out.push(n.as_f64().unwrap()),
                serde_json::Value::Array(items) => items.iter().for_each(|i| walk(i, out)),
                serde_json::Value::Object(map) => map.values().for_each(|i| walk(i, out)),
                _ => {}
            }
        }
        walk(value, &mut out);
        out
    };
    for &key in keys {
        let (a, b) = (numbers(&whole[key]), numbers(&chunked[key]));
        assert_eq!(a.len(), b.len(), "{key}");
        assert!(!a.is_empty(), "{key} is empty");
        for (x, y) in a.iter().zip(&b) {
            assert!((x - y).abs() <= 1e-5 * (1.0 + x.abs()), "{key}: {x} whole, {y} in chunks");
        }
    }
}

/// A step past the end of a training run or a descent is a diagnostic at once, never an
/// attempt to replay a trillion steps (which aborted on memory, or never ended); steps
/// past `MAX_STEP` are refused the same way.
#[cfg(unix)]
#[test]
fn tracing_a_step_past_the_end_is_a_diagnostic() {
    let xor = root().join("examples/xor.nn");
    let descent = root().join("examples/gd_parabola.nn");
    let cases = [
        (&xor, 1_000_000_000_000u64, "past the run's last step, 2000 (2000 epochs of 1 step)"),
        (&descent, 1_000_000_000_000, "past the descent's last step, 20"),
    ];
    for (path, step, message) in cases {
        let output = under_ulimit(2_000_000, &format!("trace {} --step {step}", path.display()));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains("error[E0416]") && stderr.contains(message), "{stderr}");
    }
    let (_dir, long) = program(
        "long.nn",
        "data d { a -> y; 0 -> 1; 1 -> 0 }\nmodel m { input 1; dense 1 }\n\
         train m on d { loss mse; optimizer sgd(lr = 0.1); epochs 5000000 }",
    );
    let output = nnc().args(["trace", long.to_str().unwrap(), "--step", "2000000"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("steps up to 1000000 can be traced"), "{stderr}");
}

/// A steering variable whose value nnc cannot use stops the command with exit code 2 and
/// a message naming it, before anything runs, as text or as JSON: a misspelt `NNC_CPU`
/// must not measure the host's path under another name. Blank values count as unset, and
/// a class is named in any case.
#[test]
fn steering_variables_that_cannot_be_used_are_refused_before_running() {
    let refused = [
        ("NNC_CPU", "avx9"),
        ("NNC_THREADS", "0"),
        ("NNC_THREADS", "two"),
        ("NNC_MEMORY_LIMIT", "lots"),
        ("NNC_EVAL_ROWS", "-1"),
    ];
    for (name, value) in refused {
        let output = nnc().args(["run", "examples/xor.nn", "--quiet"]).env(name, value).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{name}={value}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.starts_with(&format!("error: {name}=`{value}`")), "{stderr}");
        assert!(output.stdout.is_empty(), "nothing ran");
        let output = nnc().args(["check", "examples/xor.nn", "--json"]).env(name, value).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{name}={value}");
        let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        assert!(report["diagnostics"][0]["message"].as_str().unwrap().starts_with(name), "{report}");
    }
    for (name, value) in [("NNC_CPU", "AVX2"), ("NNC_CPU", " "), ("NNC_THREADS", "1"), ("NNC_MEMORY_LIMIT", "")] {
        let output = nnc().args(["check", "examples/xor.nn"]).env(name, value).output().unwrap();
        assert!(output.status.success(), "{name}={value}: {}", String::from_utf8_lossy(&output.stderr));
    }
}

/// A CSV file of short categorical cells is small, but its one-hot encoding is not: a
/// column of `categories` categories on `rows` rows, and a number.
fn categorical_file(dir: &std::path::Path, rows: usize, categories: usize) -> PathBuf {
    let cells: String = (0..rows).map(|row| format!("c{},{}\n", row * 7 % categories, row % 10)).collect();
    std::fs::write(dir.join("codes.csv"), "code,y\n".to_string() + &cells).unwrap();
    let source = format!(
        "data d {{ file \"codes.csv\"; features code; target y; categorical code }}\n\
         model m {{ input {}; dense 1 }}\ntrain m on d {{ loss mse; epochs 1 }}\n",
        categories + 1
    );
    let path = dir.join("codes.nn");
    std::fs::write(&path, source).unwrap();
    path
}

/// The encoded data is refused when it does not fit, though the file did: 2,000 rows of
/// 101 one-hot columns (808 KB) from a 14 KB file, under `--max-memory 500K`.
#[test]
fn encoded_data_larger_than_the_memory_left_is_a_diagnostic() {
    let dir = tempfile::tempdir().unwrap();
    let path = categorical_file(dir.path(), 2_000, 100);
    let output = nnc().arg("check").arg(&path).args(["--max-memory", "500K"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("error[E0309]: the data of `codes.csv` encoded for the model (2000 rows of 101 numbers)"));
    assert!(stderr.contains("one number per category") && stderr.contains("raise `--max-memory`"), "{stderr}");
    nnc().arg("check").arg(&path).args(["--max-memory", "20M"]).assert().success();
}

/// Under `ulimit -v`, 50,000 rows of 2,001 one-hot columns (400 MB, from a 0.6 MB file)
/// are a diagnostic, never "memory allocation failed" and exit 134 (as they were).
#[cfg(unix)]
#[test]
fn encoded_data_larger_than_ulimit_is_a_diagnostic_not_an_abort() {
    let dir = tempfile::tempdir().unwrap();
    let path = categorical_file(dir.path(), 50_000, 2_000);
    let output = under_ulimit(400_000, &format!("run {} --quiet", path.display()));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("error[E0309]: the data of `codes.csv` encoded for the model"), "{stderr}");
    assert!(stderr.contains("ulimit -v"), "{stderr}");
}

/// A program of one dense layer on a file of 200,000 rows of `x,y`, in a new folder.
fn two_hundred_thousand_rows() -> (tempfile::TempDir, PathBuf) {
    let (dir, path) = program(
        "rows.nn",
        "data d { file \"rows.csv\"; target y }\nmodel m { input auto; dense 1 }\ntrain m on d { loss mse; epochs 1 }\n",
    );
    let rows: String = (0..200_000).map(|row| format!("{},{}\n", row % 7, row % 3)).collect();
    std::fs::write(dir.path().join("rows.csv"), "x,y\n".to_string() + &rows).unwrap();
    (dir, path)
}

/// `--json` prints every prediction of the primary split, and its memory is counted
/// before training: 200,000 rows fit `--max-memory 24M` as text, not as JSON (32 MB).
#[test]
fn a_json_report_too_large_for_the_memory_left_is_refused_before_training() {
    let (_dir, path) = two_hundred_thousand_rows();
    nnc().arg("run").arg(&path).args(["--max-memory", "24M", "--quiet"]).assert().success();
    let output = nnc().arg("run").arg(&path).args(["--max-memory", "24M", "--json"]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let diagnostic = &report["diagnostics"][0];
    assert!(
        diagnostic["message"].as_str().unwrap().contains("more than the 24.0 MiB `--max-memory` allows"),
        "{report}"
    );
    assert!(diagnostic["notes"][0].as_str().unwrap().contains("the report's rows and its JSON"), "{report}");
    assert!(diagnostic["help"].as_str().unwrap().starts_with("run without `--json`"), "{report}");
    nnc().arg("run").arg(&path).args(["--max-memory", "64M", "--json"]).assert().success();
}

/// `nnc predict` writes its CSV a part at a time, but `--json` holds every row: 200,000
/// rows (about 50 MB as JSON) are predicted under `--max-memory 24M` as CSV, and refused
/// as JSON with a diagnostic that says so, before memory runs out.
#[test]
fn predictions_as_json_larger_than_the_memory_left_are_refused() {
    let (dir, path) = two_hundred_thousand_rows();
    let weights = dir.path().join("rows.nnw");
    nnc().arg("run").arg(&path).arg("--quiet").arg("--save").arg(&weights).assert().success();
    let predict = |extra: &[&str]| {
        let mut command = nnc();
        command.arg("predict").arg(&path).arg("--weights").arg(&weights).arg("--input");
        command.arg(dir.path().join("rows.csv")).args(["--max-memory", "24M"]).args(extra).output().unwrap()
    };
    let csv = predict(&[]);
    assert!(csv.status.success(), "{}", String::from_utf8_lossy(&csv.stderr));
    assert_eq!(String::from_utf8_lossy(&csv.stdout).lines().count(), 200_001);
    let output = predict(&["--json"]);
    assert_eq!(output.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let diagnostic = &report["diagnostics"][0];
    let message = diagnostic["message"].as_str().unwrap();
    assert!(message.starts_with("the JSON of the predictions of "), "{report}");
    assert!(message.contains("more than the 24.0 MiB `--max-memory` allows"), "{report}");
    assert!(diagnostic["help"].as_str().unwrap().starts_with("predict without `--json`"), "{report}");
    assert!(!report.to_string().contains("written to standard output"), "{report}");
}

/// `nnc predict` reads, encodes and predicts its file a part at a time, so a file whose
/// encoded rows are more than the memory left is predicted all the same: weights trained
/// on 2,000 rows of 2,000 categories, then 50,000 rows (400 MB of one-hot inputs, refused
/// as a whole before parts) under `ulimit -v 400000`. Row `i + 2000` repeats row `i`, so
/// every part's predictions must be those of the small file.
#[cfg(unix)]
#[test]
fn predicting_encoded_rows_larger_than_ulimit_goes_a_part_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let path = categorical_file(dir.path(), 2_000, 2_000);
    let weights = dir.path().join("codes.nnw");
    nnc().arg("run").arg(&path).arg("--quiet").arg("--save").arg(&weights).assert().success();
    let args = format!("predict {} --weights {} --input codes.csv", path.display(), weights.display());
    let small = under_ulimit_in(dir.path(), 400_000, &args);
    assert!(small.status.success(), "{}", String::from_utf8_lossy(&small.stderr));
    categorical_file(dir.path(), 50_000, 2_000);
    let large = under_ulimit_in(dir.path(), 400_000, &args);
    assert!(large.status.success(), "{}", String::from_utf8_lossy(&large.stderr));
    let values = |output: &[u8]| -> Vec<String> {
        let text = String::from_utf8_lossy(output);
        text.lines().skip(1).map(|line| line.split_once(',').unwrap().1.to_string()).collect()
    };
    let (small, large) = (values(&small.stdout), values(&large.stdout));
    assert_eq!((small.len(), large.len()), (2_000, 50_000));
    for (row, value) in large.iter().enumerate() {
        assert_eq!(value, &small[row % 2_000], "row {row}");
    }
}

/// `nnc similar` of 20,000 queries against 20,000 rows with identities: 400 million
/// pairs, whose scores (1.6 GB, copied again to be split and sorted, and again for the
/// raw features) aborted under `ulimit -v 1000000`. The verification figures now count
/// the pairs of the first queries, at most `MAX_PAIRS` (16,777,216) of them, and say
/// so; top-1 accuracy still counts every query.
#[cfg(unix)]
#[test]
fn similar_over_many_pairs_scores_a_bounded_number_of_them() {
    let (dir, path) = program(
        "codes.nn",
        "data d { file \"codes.csv\"; features x; target id; categorical id }\n\
         model m { input 1; dense 4 }\ntrain m on d { loss softmax_ce; epochs 1 }\n",
    );
    let rows: String = (0..20_000).map(|row| format!("{},c{}\n", row % 4, row % 4)).collect();
    std::fs::write(dir.path().join("codes.csv"), "x,id\n".to_string() + &rows).unwrap();
    nnc().arg("run").arg(&path).args(["--quiet", "--save"]).arg(dir.path().join("m.nnw")).assert().success();
    let args = format!("similar {} --weights m.nnw --database codes.csv --query codes.csv --json", path.display());
    let output = under_ulimit_in(dir.path(), 1_000_000, &args);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let scored = report["verification_queries"].as_u64().unwrap();
    assert_eq!(scored, 16_777_216 / 20_000);
    let pairs = report["genuine_pairs"].as_u64().unwrap() + report["impostor_pairs"].as_u64().unwrap();
    assert_eq!(pairs, scored * 20_000);
    assert_eq!(report["queries"], 20_000);
    assert_eq!(report["matches"].as_array().unwrap().len(), 20_000);
}

/// `nnc similar` reads its queries a part at a time, so queries whose encoded rows are
/// more than the memory left are answered all the same: 50,000 queries of a 2,000-category
/// column (400 MB of one-hot inputs, embedded whole before parts) against the 2,000 rows
/// the weights were trained on, under `ulimit -v 400000`. Query `i + 2000` repeats query
/// `i`, so the shown matches and both top-1 accuracies are those of the first 2,000
/// (the binary before refused the queries with E0309; read in parts but scoring
/// 16,777,216 pairs whatever the memory left, they aborted it). With `--json`, every
/// query's matches are held, and refused when they do not fit.
#[cfg(unix)]
#[test]
fn similar_answers_queries_larger_than_ulimit_a_part_at_a_time() {
    let (dir, path) = identities_of_codes(3, ("queries.csv", 50_000));
    let args =
        |queries: &str| format!("similar {} --weights m.nnw --database codes.csv --query {queries}", path.display());
    let small = under_ulimit_in(dir.path(), 400_000, &args("codes.csv"));
    assert!(small.status.success(), "{}", String::from_utf8_lossy(&small.stderr));
    let large = under_ulimit_in(dir.path(), 400_000, &args("queries.csv"));
    assert!(large.status.success(), "{}", String::from_utf8_lossy(&large.stderr));
    let (small, large) = (String::from_utf8(small.stdout).unwrap(), String::from_utf8(large.stdout).unwrap());
    assert!(large.contains("queries: 50000 rows"), "{large}");
    let shown =
        |text: &str| text.lines().filter(|line| line.starts_with("  line ")).map(str::to_string).collect::<Vec<_>>();
    assert_eq!((shown(&large), shown(&small).len()), (shown(&small), 10));
    let accuracy = |text: &str| {
        let line = text.lines().find(|line| line.starts_with("identification:")).unwrap().to_string();
        line.split_once(" (").map(|(share, rest)| (share.to_string(), rest.split_once(")").unwrap().1.to_string()))
    };
    assert_eq!(accuracy(&large), accuracy(&small), "{large}");
    // Fewer pairs than `MAX_PAIRS` are scored: as many as half the memory left holds.
    assert!(large.contains("of 50000 queries") && large.contains("pairs are scored in the memory left"), "{large}");
    let refused = nnc()
        .current_dir(dir.path())
        .args(args("queries.csv").split(' '))
        .args(["--json", "--max-memory", "100M"])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&refused.stdout).unwrap();
    let message = report["diagnostics"][0]["message"].as_str().unwrap_or_default();
    assert!(message.starts_with("the JSON of the matches of "), "{report}");
}

/// Wide rows (2,001 one-hot inputs) to predict and match, under address-space limits from
/// far too small to enough: no buffer of a megabyte or more is allocated infallibly, so
/// every run ends with its result or E0309, unless, right at the limit, a small
/// allocation somewhere fails (CI saw a few bytes for a new thread's destructor list in
/// glibc, and 32 KiB elsewhere): that is the only abort allowed. `nnc predict` aborted at 120,
/// 200 and 240 MB (a forward pass's 33 MB batch buffer, allocated infallibly), and
/// `nnc similar` once its database went in parts (the database's encoded inputs, kept for
/// the baseline; its product buffers; the radix sort's second buffer).
#[cfg(unix)]
#[test]
fn predict_and_similar_under_any_limit_end_in_a_result_or_a_diagnostic() {
    let (dir, path) = identities_of_codes(1, ("many.csv", 20_000));
    let program = path.display().to_string();
    let verbs = [
        format!("predict {program} --weights m.nnw --input many.csv"),
        format!("similar {program} --weights m.nnw --database many.csv --query codes.csv"),
        format!("similar {program} --weights m.nnw --database codes.csv --query many.csv"),
    ];
    let mut answered = [false; 3];
    for kib in (120_000..=520_000).step_by(40_000) {
        for (verb, args) in verbs.iter().enumerate() {
            let output = under_ulimit_in(dir.path(), kib, args);
            let stderr = String::from_utf8_lossy(&output.stderr);
            let context = format!("{args} under {kib} KiB: {:?}: {stderr}", output.status);
            match output.status.code() {
                Some(0) => answered[verb] = true,
                Some(1) => assert!(stderr.contains("E0309"), "{context}"),
                _ => assert!(small_allocation_failed(&stderr), "{context}"),
            }
        }
    }
    // The limits reach from refused to answered for each.
    assert_eq!(answered, [true; 3]);
}

/// A model of identities `k0`–`k9` over one column of 2,000 categories (2,001 one-hot
/// inputs), trained for `epochs` on `codes.csv` (2,000 rows) and saved as `m.nnw`, and
/// `more` rows of the same kind: row `i + 2000` repeats row `i`. The folder and program.
#[cfg(unix)]
fn identities_of_codes(epochs: u32, (more, rows): (&str, usize)) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("codes.nn");
    let source = format!(
        "data d {{ file \"codes.csv\"; features code; target id; categorical code id }}\n\
         model m {{ input 2001; dense 10 }}\ntrain m on d {{ loss softmax_ce; epochs {epochs} }}\n"
    );
    std::fs::write(&path, source).unwrap();
    let table = |n: usize| -> String {
        let cells: String = (0..n).map(|row| format!("c{},k{}\n", row * 7 % 2_000, row % 10)).collect();
        "code,id\n".to_string() + &cells
    };
    std::fs::write(dir.path().join("codes.csv"), table(2_000)).unwrap();
    std::fs::write(dir.path().join(more), table(rows)).unwrap();
    nnc().arg("run").arg(&path).args(["--quiet", "--save"]).arg(dir.path().join("m.nnw")).assert().success();
    (dir, path)
}

/// Whether `stderr` tells of an abort for want of a small allocation, under a megabyte: Rust's
/// "memory allocation of N bytes failed", or glibc's own fatal errors for lack of memory.
#[cfg(unix)]
fn small_allocation_failed(stderr: &str) -> bool {
    let rust = stderr
        .lines()
        .filter_map(|line| line.strip_prefix("memory allocation of "))
        .map(|rest| rest.split_whitespace().next().and_then(|bytes| bytes.parse::<u64>().ok()).unwrap_or(u64::MAX));
    let mut sizes = rust.peekable();
    match sizes.peek() {
        Some(_) => sizes.all(|bytes| bytes < 1 << 20),
        None => stderr.contains("Fatal glibc error") && stderr.contains("out of memory"),
    }
}

/// `under_ulimit`, run in `dir`.
#[cfg(unix)]
fn under_ulimit_in(dir: &std::path::Path, kib: u64, args: &str) -> std::process::Output {
    let script = format!("ulimit -v {kib} && exec \"$0\" {args}");
    let mut command = std::process::Command::new("sh");
    command.current_dir(dir).arg("-c").arg(script).arg(env!("CARGO_BIN_EXE_nnc"));
    command.output().unwrap()
}
