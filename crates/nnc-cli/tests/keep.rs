//! Keeping, using and moving what was trained, as a user does it: `run --save`, `--load`,
//! `eval`, `predict` (with the damaged, the unknown and the empty input), weight files read
//! by the reference safetensors implementations, and the command-line habits scripts rely
//! on (progress off a terminal, `--quiet`, `--lr`, JSON errors, colour, a closed pipe).

#![allow(clippy::unwrap_used)] // Tests fail loudly by design.

mod common;

use common::{nnc, root};

use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// Runs `nnc ARGS --json`, expecting success; the JSON on standard output.
fn json(args: &[&str]) -> Value {
    let output = nnc().args(args).arg("--json").output().unwrap();
    assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap()
}

/// Trains `example` (fewer epochs where given) and saves its weights in `dir`.
fn train_and_save(example: &str, dir: &Path, extra: &[&str]) -> (PathBuf, Value) {
    let weights = dir.join(example.replace(".nn", ".safetensors"));
    let mut args = vec!["run", example, "--save", weights.to_str().unwrap()];
    args.extend_from_slice(extra);
    let program = format!("examples/{example}");
    args[1] = &program;
    (weights.clone(), json(&args))
}

fn as_f64(value: &Value) -> f64 {
    value.as_f64().unwrap_or_else(|| panic!("not a number: {value}"))
}

/// The evaluation of `split` in an `eval --json` report.
fn split<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["evaluations"][0]["splits"].as_array().unwrap().iter().find(|s| s["name"] == name).unwrap()
}

#[test]
fn saved_weights_are_read_by_the_reference_safetensors_crate_as_named_f32_tensors() {
    let dir = tempfile::tempdir().unwrap();
    let (path, report) = train_and_save("iris.nn", dir.path(), &["--epochs", "20"]);
    assert_eq!(report["saved_weights"][0], path.to_str().unwrap());
    let bytes = std::fs::read(&path).unwrap();
    let (_, header) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
    let metadata = header.metadata().as_ref().unwrap();
    assert_eq!(metadata["format"], "nnc-weights/2");
    assert_eq!(metadata["model"], "classifier");
    assert!(metadata["preprocessing"].contains("sepal_length") && metadata["classes"].contains("virginica"));
    assert!(metadata["program"].contains("model classifier"));
    let tensors = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let mut shapes: Vec<(String, Vec<usize>)> =
        tensors.tensors().into_iter().map(|(name, view)| (name, view.shape().to_vec())).collect();
    shapes.sort();
    let expected =
        [("dense1.b", vec![16]), ("dense1.w", vec![4, 16]), ("dense2.b", vec![3]), ("dense2.w", vec![16, 3])];
    assert_eq!(shapes, expected.map(|(n, s)| (n.to_string(), s)));
    let w = tensors.tensor("dense1.w").unwrap();
    assert_eq!(w.dtype(), safetensors::Dtype::F32);
    // The stored numbers are the trained ones the report shows.
    let first = f32::from_le_bytes(w.data()[0..4].try_into().unwrap());
    assert_eq!(first as f64, as_f64(&report["parameters"]["dense1.w"][0][0]));
}

/// Python's `safetensors` (the reference implementation) reads the file, where it is
/// installed (`NNC_PYTHON` names an interpreter, else `python3`).
#[test]
fn saved_weights_load_in_python_safetensors_where_installed() {
    let python = std::env::var("NNC_PYTHON").unwrap_or_else(|_| "python3".to_string());
    let probe = std::process::Command::new(&python).args(["-c", "import safetensors.numpy"]).output();
    if !probe.is_ok_and(|o| o.status.success()) {
        nnc_testkit::skip("saved_weights_load_in_python_safetensors", "Python with safetensors and numpy not found");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = train_and_save("house_price.nn", dir.path(), &["--epochs", "5"]);
    let script = "import sys, json\n\
        from safetensors.numpy import load_file\n\
        from safetensors import safe_open\n\
        t = load_file(sys.argv[1])\n\
        meta = safe_open(sys.argv[1], 'np').metadata()\n\
        print(json.dumps({'tensors': {k: [list(v.shape), str(v.dtype)] for k, v in t.items()}, 'format': meta['format']}))";
    let output = std::process::Command::new(&python).args(["-c", script]).arg(&path).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let read: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(read["format"], "nnc-weights/2");
    assert_eq!(read["tensors"]["dense1.w"], serde_json::json!([[45, 32], "float32"]));
    assert_eq!(read["tensors"]["dense2.b"], serde_json::json!([[1], "float32"]));
}

#[test]
fn eval_and_a_zero_epoch_load_reproduce_the_saved_runs_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let (path, report) = train_and_save("iris.nn", dir.path(), &["--epochs", "40"]);
    let weights = path.to_str().unwrap();
    let evaluated = json(&["eval", "examples/iris.nn", "--weights", weights]);
    let test = split(&evaluated, "test");
    assert_eq!(test["scores"]["accuracy"], report["metrics"]["test_accuracy"]);
    assert_eq!(test["rows"], 23);
    assert_eq!(test["scores"]["per_class"].as_array().unwrap().len(), 3);
    let reloaded = json(&["run", "examples/iris.nn", "--load", weights, "--epochs", "0"]);
    assert_eq!(reloaded["metrics"]["test_accuracy"], report["metrics"]["test_accuracy"]);
}

/// `predict` on the data file itself gets right exactly the rows `eval` counts as right
/// over all splits: same weights, same preprocessing, no data file read.
#[test]
fn predict_applies_the_saved_preprocessing_and_names_classes() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = train_and_save("iris.nn", dir.path(), &["--epochs", "40"]);
    let weights = path.to_str().unwrap();
    let evaluated = json(&["eval", "examples/iris.nn", "--weights", weights]);
    let right: f64 = ["train", "val", "test"]
        .iter()
        .map(|name| {
            let s = split(&evaluated, name);
            as_f64(&s["scores"]["accuracy"]) * as_f64(&s["rows"])
        })
        .sum();
    let out = dir.path().join("predictions.csv");
    let args = ["predict", "examples/iris.nn", "--weights", weights, "--input", "examples/data/iris.csv", "-o"];
    nnc().args(args).arg(&out).assert().success();
    let truth: Vec<String> = csv::Reader::from_path(root().join("examples/data/iris.csv"))
        .unwrap()
        .records()
        .map(|r| r.unwrap()[4].to_string())
        .collect();
    let mut reader = csv::Reader::from_path(&out).unwrap();
    assert_eq!(reader.headers().unwrap(), vec!["line", "predicted", "p(setosa)", "p(versicolor)", "p(virginica)"]);
    let mut correct = 0;
    for (i, record) in reader.records().enumerate() {
        let record = record.unwrap();
        assert_eq!(record[0].parse::<usize>().unwrap(), i + 2, "the line of the row in the input");
        let p: Vec<f64> = (2..5).map(|c| record[c].parse().unwrap()).collect();
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-5, "probabilities {p:?}");
        correct += usize::from(record[1] == truth[i]);
    }
    assert_eq!(correct as f64, right.round(), "predict and eval disagree");
}

/// Regression predictions are in the target's units: their error on the data file is the
/// one `eval` reports, split by split.
#[test]
fn predict_gives_regression_values_in_the_targets_units() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = train_and_save("house_price.nn", dir.path(), &["--epochs", "30"]);
    let weights = path.to_str().unwrap();
    let evaluated = json(&["eval", "examples/house_price.nn", "--weights", weights]);
    let squared: f64 = ["train", "test"]
        .iter()
        .map(|name| {
            let s = split(&evaluated, name);
            as_f64(&s["scores"]["mse"]) * as_f64(&s["rows"])
        })
        .sum();
    let predicted = json(&[
        "predict",
        "examples/house_price.nn",
        "--weights",
        weights,
        "--input",
        "examples/data/sacramento_homes.csv",
    ]);
    let prices: Vec<f64> = csv::Reader::from_path(root().join("examples/data/sacramento_homes.csv"))
        .unwrap()
        .records()
        .map(|r| r.unwrap()[6].parse().unwrap())
        .collect();
    let rows = predicted["rows"].as_array().unwrap();
    assert_eq!(rows.len(), prices.len());
    let ours: f64 = rows
        .iter()
        .zip(&prices)
        .map(|(row, price)| (row[1].as_str().unwrap().parse::<f64>().unwrap() - price).powi(2))
        .sum();
    assert!((ours - squared).abs() <= 1e-3 * squared, "predict {ours}, eval {squared}");
}

#[test]
fn weights_that_do_not_fit_the_program_are_diagnostics_naming_both() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = train_and_save("iris.nn", dir.path(), &["--epochs", "1"]);
    let output = nnc().args(["run", "examples/house_price.nn", "--load"]).arg(&path).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    for expected in ["error[E0502]", "`dense1.w`", "[4, 16]", "[45, 32]", "model `classifier`"] {
        assert!(stderr.contains(expected), "missing {expected}:\n{stderr}");
    }
    // Damaged, empty and missing files.
    let bytes = std::fs::read(&path).unwrap();
    let damaged = [("truncated", &bytes[..bytes.len() / 2]), ("empty", &[][..]), ("text", b"not weights")];
    for (name, content) in damaged {
        let file = dir.path().join(name);
        std::fs::write(&file, content).unwrap();
        let output = nnc().args(["eval", "examples/iris.nn", "--weights"]).arg(&file).output().unwrap();
        assert_eq!(output.status.code(), Some(1), "{name}");
        assert!(String::from_utf8(output.stderr).unwrap().contains("error[E0501]"), "{name}");
    }
    let output = nnc().args(["eval", "examples/iris.nn", "--weights", "no/such.safetensors"]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn predict_reports_unusable_rows_by_line() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = train_and_save("house_price.nn", dir.path(), &["--epochs", "1"]);
    let predict = |csv: &str| {
        let input = dir.path().join("new.csv");
        std::fs::write(&input, csv).unwrap();
        let args = ["predict", "examples/house_price.nn", "--weights", path.to_str().unwrap(), "--input"];
        nnc().args(args).arg(&input).output().unwrap()
    };
    let header = "city,beds,baths,sqft,type\n";
    // An unseen city is still predicted, with a note naming its line.
    let output = predict(&format!("{header}SACRAMENTO,3,2,1500,Residential\nATLANTIS,3,2,1500,Residential\n"));
    assert!(output.status.success());
    assert_eq!(String::from_utf8(output.stdout).unwrap().lines().count(), 3);
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("line 3") && stderr.contains("ATLANTIS"), "{stderr}");
    // A missing cell is an error naming the line (the data says `missing error`).
    let output = predict(&format!("{header}SACRAMENTO,3,2,1500,Residential\nSACRAMENTO,NA,2,1500,Residential\n"));
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("error[E0411]") && stderr.contains("line 3"), "{stderr}");
    // A missing column names it.
    let output = predict("city,beds,baths,type\nSACRAMENTO,3,2,Residential\n");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("error[E0503]") && stderr.contains("sqft"), "{stderr}");
    // No rows is no predictions, not an error; an empty file is a diagnostic.
    let output = predict(header);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(String::from_utf8(output.stdout).unwrap().lines().count(), 1);
    let output = predict("");
    assert_eq!(output.status.code(), Some(1));
}

/// `nnc predict FILE` for the house-price weights in `weights`, over `csv` written to
/// `dir/new.csv`, its parts `part_rows` rows (through `NNC_EVAL_ROWS`) or as planned.
fn predict_homes(
    dir: &Path,
    weights: &Path,
    csv: &str,
    part_rows: Option<usize>,
    extra: &[&str],
) -> std::process::Output {
    let input = dir.join("new.csv");
    std::fs::write(&input, csv).unwrap();
    let mut command = nnc();
    command.args(["predict", "examples/house_price.nn", "--weights", weights.to_str().unwrap(), "--input"]);
    command.arg(&input).args(extra);
    if let Some(rows) = part_rows {
        command.env("NNC_EVAL_ROWS", rows.to_string());
    }
    command.output().unwrap()
}

/// `nnc predict` of the house-price program with `weights` on `input`, as a process to
/// set up further (standard streams, `--out`) and start.
fn predict_process(weights: &Path, input: &Path) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_nnc"));
    command.args(["predict", "examples/house_price.nn", "--weights", weights.to_str().unwrap(), "--input"]);
    command.arg(input).current_dir(root());
    command
}

/// The first `rows` rows of the Sacramento homes, with every seventh city one never seen
/// in training and, when `bad_line` is given, the baths of that line missing.
fn homes_rows(rows: usize, bad_line: Option<usize>) -> String {
    let text = std::fs::read_to_string(root().join("examples/data/sacramento_homes.csv")).unwrap();
    let mut lines: Vec<String> = text.lines().take(rows + 1).map(str::to_string).collect();
    for (index, line) in lines.iter_mut().enumerate().skip(1) {
        let mut cells: Vec<&str> = line.split(',').collect();
        if index % 7 == 0 {
            cells[0] = "ATLANTIS";
        }
        if bad_line == Some(index + 1) {
            cells[3] = "";
        }
        *line = cells.join(",");
    }
    lines.join("\n") + "\n"
}

/// A file is predicted a part at a time (`NNC_EVAL_ROWS` makes parts of a few rows):
/// every row's line, values and notes are those of the file predicted as one part, on
/// standard output, in a file and as JSON.
#[test]
fn predicting_in_parts_gives_what_one_part_gives() {
    let dir = tempfile::tempdir().unwrap();
    let (weights, _) = train_and_save("house_price.nn", dir.path(), &["--epochs", "2"]);
    let csv = homes_rows(60, None);
    let whole = predict_homes(dir.path(), &weights, &csv, None, &[]);
    assert!(whole.status.success(), "{}", String::from_utf8_lossy(&whole.stderr));
    assert_eq!(String::from_utf8_lossy(&whole.stdout).lines().count(), 61);
    assert_eq!(String::from_utf8_lossy(&whole.stderr).matches("ATLANTIS").count(), 8);
    // Kernels compiled for other numbers of rows may round the last bit differently.
    let same = |a: &[u8], b: &[u8], what: &str| {
        let (a, b) = (String::from_utf8_lossy(a), String::from_utf8_lossy(b));
        assert_eq!(a.lines().count(), b.lines().count(), "{what}");
        for (a, b) in a.lines().zip(b.lines()).skip(1) {
            let (line_a, value_a) = a.split_once(',').unwrap();
            let (line_b, value_b) = b.split_once(',').unwrap();
            let (x, y): (f64, f64) = (value_a.parse().unwrap(), value_b.parse().unwrap());
            assert!(line_a == line_b && (x - y).abs() <= 1e-5 * y.abs(), "{what}: {a} against {b}");
        }
    };
    for rows in [1, 7, 59] {
        let parts = predict_homes(dir.path(), &weights, &csv, Some(rows), &[]);
        same(&parts.stdout, &whole.stdout, &format!("parts of {rows} rows"));
        assert_eq!(parts.stderr, whole.stderr, "parts of {rows} rows");
    }
    let json = |rows| {
        let output = predict_homes(dir.path(), &weights, &csv, rows, &["--json"]);
        let report: Value = serde_json::from_slice(&output.stdout).unwrap();
        (report["rows"].as_array().unwrap().len(), report["notes"].clone())
    };
    assert_eq!(json(Some(7)), (60, json(None).1));
    let out = dir.path().join("out/predictions.csv");
    let written = predict_homes(dir.path(), &weights, &csv, Some(7), &["--out", out.to_str().unwrap()]);
    assert!(written.status.success());
    same(&std::fs::read(&out).unwrap(), &whole.stdout, "--out");
}

/// A bad row in a later part stops predicting: standard output has the predictions of
/// the parts before it, and the diagnostic says so; `--out` leaves no file at all, and
/// no temporary one.
#[test]
fn a_bad_row_in_a_later_part_stops_predicting_and_says_what_was_written() {
    let dir = tempfile::tempdir().unwrap();
    let (weights, _) = train_and_save("house_price.nn", dir.path(), &["--epochs", "1"]);
    let csv = homes_rows(60, Some(40));
    let output = predict_homes(dir.path(), &weights, &csv, Some(10), &[]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("error[E0411]") && stderr.contains("line 40"), "{stderr}");
    assert!(
        stderr.contains("the first 30 predictions, of the parts of the file before this one, were written"),
        "{stderr}"
    );
    assert_eq!(String::from_utf8(output.stdout).unwrap().lines().count(), 31);
    let folder = dir.path().join("out");
    std::fs::create_dir(&folder).unwrap();
    let out = folder.join("predictions.csv");
    let output = predict_homes(dir.path(), &weights, &csv, Some(10), &["--out", out.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    assert!(!String::from_utf8(output.stderr).unwrap().contains("were written"));
    assert_eq!(std::fs::read_dir(&folder).unwrap().count(), 0, "nothing left in the folder");
    // In the first part, nothing is written: not even the header.
    let output = predict_homes(dir.path(), &weights, &homes_rows(60, Some(5)), Some(10), &[]);
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
}

/// Ctrl-C while predicting into `--out` stops at the next part, leaves no file (a file
/// of some of the rows would pass for all of them) and no temporary one, and exits 130.
/// The input is a named pipe, so the rows arrive only after the press.
#[cfg(unix)]
#[test]
fn an_interrupted_predict_leaves_no_file() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let (weights, _) = train_and_save("house_price.nn", dir.path(), &["--epochs", "1"]);
    let input = dir.path().join("rows.csv");
    assert!(std::process::Command::new("mkfifo").arg(&input).status().unwrap().success());
    let folder = dir.path().join("out");
    std::fs::create_dir(&folder).unwrap();
    let child = predict_process(&weights, &input)
        .arg("--out")
        .arg(folder.join("predictions.csv"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Opening the pipe waits for nnc to open it, after it created its temporary file.
    let mut pipe = std::fs::OpenOptions::new().write(true).open(&input).unwrap();
    assert_eq!(std::fs::read_dir(&folder).unwrap().count(), 1, "the temporary file");
    let sent = std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(sent.success());
    std::thread::sleep(std::time::Duration::from_millis(300));
    pipe.write_all(homes_rows(60, None).as_bytes()).unwrap();
    drop(pipe);
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("interrupted (Ctrl-C) after 0 predictions") && stderr.contains("was not written"));
    assert_eq!(std::fs::read_dir(&folder).unwrap().count(), 0, "nothing left in the folder");
}

/// `--input -` reads standard input, a part at a time like a file: the same
/// predictions. A file that is not there says where command-line paths are taken from.
#[test]
fn predict_reads_standard_input_for_a_dash() {
    let dir = tempfile::tempdir().unwrap();
    let (weights, _) = train_and_save("house_price.nn", dir.path(), &["--epochs", "1"]);
    let csv = homes_rows(60, None);
    let from_file = predict_homes(dir.path(), &weights, &csv, Some(7), &[]);
    let args = ["predict", "examples/house_price.nn", "--weights", weights.to_str().unwrap(), "--input", "-"];
    let from_stdin = nnc().args(args).env("NNC_EVAL_ROWS", "7").write_stdin(csv).output().unwrap();
    assert!(from_stdin.status.success(), "{}", String::from_utf8_lossy(&from_stdin.stderr));
    assert_eq!(from_stdin.stdout, from_file.stdout);
    let mut missing = args;
    missing[5] = "no/such.csv";
    let output = nnc().args(missing).output().unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr.contains("relative to the working directory (`-` reads standard input)"), "{stderr}");
}

/// Standard output on a full disk is a diagnostic naming it, not a panic or a silent
/// success.
#[cfg(target_os = "linux")]
#[test]
fn predicting_onto_a_full_disk_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let (weights, _) = train_and_save("house_price.nn", dir.path(), &["--epochs", "1"]);
    let input = dir.path().join("new.csv");
    std::fs::write(&input, homes_rows(60, None)).unwrap();
    let output =
        predict_process(&weights, &input).stdout(std::fs::File::create("/dev/full").unwrap()).output().unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("error[E0418]: cannot write standard output"), "{stderr}");
}

/// `nnc predict … | head`: the reader stops, and so does nnc, quietly, at its next part.
#[test]
fn predicting_into_a_closed_pipe_stops_quietly() {
    use std::io::Read;
    use std::process::Stdio;
    let dir = tempfile::tempdir().unwrap();
    let (weights, _) = train_and_save("house_price.nn", dir.path(), &["--epochs", "1"]);
    let input = dir.path().join("new.csv");
    let rows = homes_rows(900, None);
    let (header, body) = rows.split_once('\n').unwrap();
    std::fs::write(&input, format!("{header}\n{}", body.repeat(100))).unwrap();
    let mut child = predict_process(&weights, &input).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    let mut first = [0u8; 16];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap(); // then dropped: closed
    assert!(child.wait().unwrap().success());
}

/// A reader that stops early (`nnc predict … | head`) ends nnc quietly, without a panic.
#[test]
fn a_closed_pipe_is_not_a_crash() {
    use std::io::Read;
    use std::process::Stdio;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_nnc"))
        .args(["ir", "examples/digits.nn", "--stage", "clif"])
        .current_dir(root())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 16];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap(); // then dropped: closed
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(output.status.success());
}

#[test]
fn off_a_terminal_progress_is_two_lines_a_second_or_per_log_every() {
    // 2000 epochs in a few milliseconds: the first and the last epoch, at most two lines a
    // second between them.
    let started = std::time::Instant::now();
    let output = nnc().args(["run", "examples/xor.nn"]).output().unwrap();
    let seconds = started.elapsed().as_secs_f64();
    let stderr = String::from_utf8(output.stderr).unwrap();
    let lines: Vec<&str> = stderr.lines().collect();
    assert!(lines.len() >= 2 && lines.len() as f64 <= 2.0 + 2.0 * seconds + 1.0, "{seconds} s: {stderr}");
    assert!(lines[0].starts_with("mlp: epoch 1/2000 step 1 loss "), "{stderr}");
    assert!(lines.last().unwrap().starts_with("mlp: epoch 2000/2000 step 2000 loss "), "{stderr}");
    let output = nnc().args(["run", "examples/xor.nn", "--log-every", "1", "--epochs", "30"]).output().unwrap();
    assert_eq!(String::from_utf8(output.stderr).unwrap().lines().count(), 30);
    let output = nnc().args(["run", "examples/xor.nn", "--log-every", "500"]).output().unwrap();
    let lines: Vec<String> = String::from_utf8(output.stderr).unwrap().lines().map(str::to_string).collect();
    let epochs: Vec<&str> = lines.iter().map(|l| l.split_whitespace().nth(2).unwrap()).collect();
    assert_eq!(epochs, ["500/2000", "1000/2000", "1500/2000", "2000/2000"]);
    // Every 0 epochs means nothing: refused as usage, not read as "every epoch".
    let output = nnc().args(["run", "examples/xor.nn", "--log-every", "0"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8(output.stderr).unwrap().contains("--log-every"));
    let output = nnc().args(["run", "examples/xor.nn", "--quiet"]).output().unwrap();
    assert!(output.stderr.is_empty());
    // Validation loss and metric are in the line when there is a validation split.
    let output = nnc().args(["run", "examples/iris.nn", "--epochs", "2"]).output().unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains(" val loss ") && stderr.contains(" val accuracy "), "{stderr}");
}

#[test]
fn the_learning_rate_can_be_overridden_like_epochs_and_seed() {
    let report = json(&["run", "examples/xor.nn", "--lr", "0.05", "--epochs", "3", "--seed", "2"]);
    assert_eq!(report["learning_rate"], 0.05);
    assert_eq!((report["epochs"].as_u64(), report["seed"].as_u64()), (Some(3), Some(2)));
    let output = nnc().args(["run", "examples/xor.nn", "--lr", "-1"]).output().unwrap();
    assert_ne!(output.status.code(), Some(0));
}

#[test]
fn errors_under_json_are_json_with_positions() {
    let output = nnc().args(["--json", "run", "tests/golden/err/missing-loss.nn"]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stderr.is_empty());
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let first = &report["diagnostics"][0];
    assert_eq!(first["code"], "E0403");
    assert_eq!((first["line"].as_u64(), first["column"].as_u64()), (Some(4), Some(7)));
    assert!(first["help"].as_str().unwrap().contains("loss mse"));
    let output = nnc().args(["--json", "check", "no/such/file.nn"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(report["diagnostics"][0]["message"].as_str().unwrap().contains("cannot read"));
}

#[test]
fn colour_follows_the_flag_and_no_color() {
    let program = "tests/golden/err/missing-loss.nn";
    let stderr_of = |cmd: &mut Command| String::from_utf8(cmd.output().unwrap().stderr).unwrap();
    assert!(stderr_of(nnc().args(["--color", "always", "check", program])).contains("\x1b["));
    assert!(!stderr_of(nnc().args(["--color", "never", "check", program])).contains("\x1b["));
    // Standard error is not a terminal here, so `auto` means none, and NO_COLOR keeps it so.
    assert!(!stderr_of(nnc().args(["check", program]).env("NO_COLOR", "1")).contains("\x1b["));
    // Without a UTF-8 locale the boxes are ASCII.
    let ascii = stderr_of(nnc().args(["check", program]).env("LC_ALL", "C").env_remove("LANG"));
    assert!(ascii.is_ascii(), "{ascii}");
}

#[test]
fn version_and_help_say_what_a_user_needs() {
    let version = String::from_utf8(nnc().arg("--version").output().unwrap().stdout).unwrap();
    assert_eq!(version.trim(), format!("nnc {}", env!("CARGO_PKG_VERSION")));
    let help = String::from_utf8(nnc().arg("--help").output().unwrap().stdout).unwrap();
    for expected in ["Exit codes", "predict", "export", "docs/cli.md"] {
        assert!(help.contains(expected), "missing {expected} in --help");
    }
    let run_help = String::from_utf8(nnc().args(["run", "--help"]).output().unwrap().stdout).unwrap();
    assert!(run_help.contains("<FILE>") && run_help.contains(".nn"), "{run_help}");
}

#[test]
fn binary_tasks_report_precision_recall_f1_and_roc_auc() {
    let report = json(&["run", "examples/xor.nn"]);
    let metrics = &report["metrics"];
    for key in ["macro_precision", "macro_recall", "macro_f1", "roc_auc"] {
        assert_eq!(metrics[key], 1.0, "{key}");
    }
}

/// A long input is predicted in batches; every copy of a row gets the same prediction,
/// wherever the batch boundaries fall.
#[test]
fn long_inputs_are_predicted_in_batches_with_the_same_results() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = train_and_save("house_price.nn", dir.path(), &["--epochs", "2"]);
    let original = std::fs::read_to_string(root().join("examples/data/sacramento_homes.csv")).unwrap();
    let (header, body) = original.split_once('\n').unwrap();
    let copies = 12;
    let input = dir.path().join("long.csv");
    std::fs::write(&input, format!("{header}\n{}", body.repeat(copies))).unwrap();
    let args = ["predict", "examples/house_price.nn", "--weights", path.to_str().unwrap(), "--input"];
    let output = nnc().args(args).arg(&input).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let values: Vec<String> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).unwrap().to_string())
        .collect();
    let rows = body.lines().count();
    assert_eq!(values.len(), rows * copies);
    for copy in 1..copies {
        assert_eq!(values[..rows], values[copy * rows..(copy + 1) * rows], "copy {copy}");
    }
}

/// Ctrl-C during a long run stops it after the current step: the report and `--save`
/// cover the epochs done, and the exit code says it was interrupted.
#[cfg(unix)]
#[test]
fn an_interrupted_run_reports_and_saves_what_it_trained() {
    use std::io::{BufRead, BufReader, Read};
    use std::process::Stdio;
    let dir = tempfile::tempdir().unwrap();
    let weights = dir.path().join("digits.safetensors");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_nnc"))
        .args(["run", "examples/digits.nn", "--epochs", "10000000", "--save"])
        .arg(&weights)
        .current_dir(root())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Progress is read on a thread to the end, so nnc never waits on a full pipe.
    let progress = BufReader::new(child.stderr.take().unwrap());
    let (started, training) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        // Lines come about twice a second: wait for one past the third epoch.
        for line in progress.lines().map_while(Result::ok) {
            let epoch = line.split("epoch ").nth(1).and_then(|rest| rest.split('/').next()?.parse::<u64>().ok());
            if epoch.is_some_and(|epoch| epoch >= 3) {
                let _ = started.send(());
            }
        }
    });
    training.recv_timeout(std::time::Duration::from_secs(120)).expect("training reached epoch 3");
    let sent = std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(sent.success());
    let mut report = String::new();
    child.stdout.take().unwrap().read_to_string(&mut report).unwrap();
    let status = child.wait().unwrap();
    reader.join().unwrap();
    assert_eq!(status.code(), Some(130), "{report}");
    assert!(report.contains("interrupted (Ctrl-C) after epoch"), "{report}");
    assert!(report.contains("saved weights to"), "{report}");
    let evaluated = json(&["eval", "examples/digits.nn", "--weights", weights.to_str().unwrap()]);
    assert!(as_f64(&split(&evaluated, "test")["scores"]["accuracy"]) > 0.5);
}

/// `--save` into a folder that cannot take the file fails before training, not after it;
/// a folder that does not exist yet is created, as the writer would.
#[test]
fn an_unwritable_save_path_is_refused_before_training() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("a-file");
    std::fs::write(&blocker, "not a folder").unwrap();
    // A folder cannot be made inside a file, whoever runs the test (root included).
    let impossible = blocker.join("w.safetensors");
    let output = nnc().args(["run", "examples/xor.nn", "--save"]).arg(&impossible).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty(), "nothing was trained or reported");
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("error[E0418]") && !stderr.contains("epoch"), "{stderr}");

    let fresh = dir.path().join("new/folders/w.safetensors");
    nnc().args(["run", "examples/xor.nn", "--quiet", "--save"]).arg(&fresh).assert().success();
    assert!(fresh.is_file(), "missing folders are created");
}

/// A program whose data is an inline table exports it as a CSV file the project reads,
/// with every row in the training split.
#[test]
fn inline_tables_are_exported_to_pytorch_as_csv() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("xor-torch");
    nnc().args(["export", "examples/xor.nn", "--pytorch"]).arg(&project).assert().success();
    let csv = std::fs::read_to_string(project.join("data/xor.csv")).unwrap();
    assert_eq!(csv, "x1,x2,y\n0,0,0\n0,1,1\n1,0,1\n1,1,0\n");
    let settings: Value = serde_json::from_str(&std::fs::read_to_string(project.join("nnc.json")).unwrap()).unwrap();
    assert_eq!(settings["data_file"], "data/xor.csv");
    assert_eq!(settings["split_lines"]["train"], serde_json::json!([2, 3, 4, 5]));
}

/// Batch norm's running statistics are saved with the weights and used when the model is
/// loaded: `nnc eval` of the saved file gives the loss the run reported after training
/// (which the evaluation form computes from the running statistics), and the file holds
/// them by name.
#[test]
fn batch_norm_statistics_are_saved_and_used_when_loaded() {
    let dir = tempfile::tempdir().unwrap();
    let weights = dir.path().join("bn.safetensors");
    let program = "tests/oracle/batchnorm_dense.nn";
    let report = json(&["run", program, "--save", weights.to_str().unwrap()]);
    let trained = as_f64(&report["final_loss"]);
    let bytes = std::fs::read(&weights).unwrap();
    let tensors = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let mean = tensors.tensor("batchnorm2.mean").unwrap();
    let var = tensors.tensor("batchnorm2.var").unwrap();
    assert_eq!((mean.shape(), var.shape()), ([4].as_slice(), [4].as_slice()));
    let first_var = f32::from_le_bytes(var.data()[0..4].try_into().unwrap());
    assert_ne!(first_var, 1.0, "the running variance moved from its start");
    let evaluated = json(&["eval", program, "--weights", weights.to_str().unwrap()]);
    let loaded = as_f64(&split(&evaluated, "train")["loss"]);
    assert!((loaded - trained).abs() <= 1e-6 * trained.abs().max(1.0), "loaded {loaded}, trained {trained}");
}

/// `nnc serve` prints its URL alone on the first line, exactly as scripts expect, answers
/// there, and Ctrl-C ends it cleanly.
#[cfg(unix)]
#[test]
fn serve_prints_its_url_and_stops_on_ctrl_c() {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::process::Stdio;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_nnc"))
        .args(["serve", "examples/xor.nn"])
        .current_dir(root())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let url = line.trim_end();
    let rest = url.strip_prefix("http://127.0.0.1:").unwrap_or_else(|| panic!("{url}"));
    let (port, token) = rest.split_once("/?token=").unwrap_or_else(|| panic!("{url}"));
    let port: u16 = port.parse().unwrap();
    assert!(token.len() == 32 && token.chars().all(|c| c.is_ascii_hexdigit()), "{url}");
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let request = format!("GET /?token={token} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).unwrap();
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    let sent = std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(sent.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
}
