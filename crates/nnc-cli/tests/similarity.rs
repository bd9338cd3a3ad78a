//! The course's similarity-matching and clustering tasks as a user runs them: `embed`,
//! `similar` (with identities, without, from a saved database) and `cluster` (one k, a
//! sweep, on embeddings), and the diagnostics for what a user can get wrong.

#![allow(clippy::unwrap_used)] // Tests fail loudly by design.

mod common;

use common::nnc;
use serde_json::Value;
use std::path::Path;

const PROGRAM: &str = "examples/digits_similarity.nn";
const DATA: &str = "examples/data/digits_similarity";

/// Runs `nnc ARGS --json`, expecting success; the JSON on standard output.
fn json(args: &[&str]) -> Value {
    let output = nnc().args(args).arg("--json").output().unwrap();
    assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap()
}

/// Runs `nnc ARGS`, expecting exit 1 with diagnostic `code` on standard error.
fn fails_with(args: &[&str], code: &str) -> String {
    let output = nnc().args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(1), "{args:?}: {stderr}");
    assert!(stderr.contains(code), "{args:?}: expected {code}: {stderr}");
    stderr
}

fn trained(dir: &Path) -> String {
    let weights = dir.join("embed.safetensors").display().to_string();
    let report = json(&["run", PROGRAM, "--save", &weights]);
    let metrics = &report["metrics"];
    assert!(metrics["test_top1_accuracy"].as_f64().unwrap() > 0.95, "{metrics}");
    assert!(metrics["test_verification_auc"].as_f64().unwrap() > 0.95, "{metrics}");
    weights
}

fn data(name: &str) -> String {
    format!("{DATA}/{name}.csv")
}

#[test]
fn embed_similar_and_cluster_on_the_digits() {
    let dir = tempfile::tempdir().unwrap();
    let weights = trained(dir.path());
    // embed: one row per input row, the layer's width, the identities carried along.
    let embedded = json(&["embed", PROGRAM, "--weights", &weights, "--input", &data("probe_7to9")]);
    assert_eq!(embedded["layer"], "dense4");
    assert_eq!(embedded["width"], 64);
    let rows = embedded["embeddings"].as_array().unwrap();
    assert_eq!(rows.len(), 267);
    let length: f64 = rows[0].as_array().unwrap().iter().map(|v| v.as_f64().unwrap().powi(2)).sum();
    assert!((length - 1.0).abs() < 1e-4, "normalize = l2 gives rows of length 1: {length}");
    assert_eq!(embedded["identities"][0], "7");
    let hidden = json(&["embed", PROGRAM, "--weights", &weights, "--layer", "conv2d1", "--input", &data("probe_7to9")]);
    assert_eq!(hidden["width"], 8 * 8 * 16);
    // A part at a time (parts of 10 rows here), the same rows, lines and identities, and
    // the same embeddings but for the last bit (kernels for other numbers of rows).
    let args = ["embed", PROGRAM, "--weights", &weights, "--input", &data("probe_7to9"), "--json"];
    let output = nnc().args(args).env("NNC_EVAL_ROWS", "10").output().unwrap();
    let parts: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!((&parts["lines"], &parts["identities"]), (&embedded["lines"], &embedded["identities"]));
    let numbers = |report: &Value| -> Vec<f64> {
        let rows = report["embeddings"].as_array().unwrap().iter();
        rows.flat_map(|row| row.as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect::<Vec<_>>()).collect()
    };
    let (whole, in_parts) = (numbers(&embedded), numbers(&parts));
    assert_eq!(whole.len(), 267 * 64);
    assert!(whole.iter().zip(&in_parts).all(|(a, b)| (a - b).abs() < 1e-5), "embeddings differ");
    let csv = |rows: Option<&str>| {
        let mut command = nnc();
        command.args(["embed", PROGRAM, "--weights", &weights, "--input", &data("probe_7to9")]);
        if let Some(rows) = rows {
            command.env("NNC_EVAL_ROWS", rows);
        }
        let text = String::from_utf8(command.output().unwrap().stdout).unwrap();
        text.lines().map(|line| line.split(',').take(2).collect::<Vec<_>>().join(",")).collect::<Vec<_>>()
    };
    let lines = csv(None);
    assert_eq!((lines.len(), lines[0].as_str()), (268, "line,label"));
    assert_eq!(csv(Some("7")), lines, "each row's line and identity, in order");

    // predict: a metric-loss model predicts its embedding (columns e1..e64), not classes.
    let predicted = json(&["predict", PROGRAM, "--weights", &weights, "--input", &data("probe_7to9")]);
    assert_eq!(predicted["columns"].as_array().unwrap().len(), 1 + 64);
    assert_eq!(predicted["columns"][1], "e1");
    assert_eq!(predicted["rows"].as_array().unwrap().len(), 267);

    // similar: unseen digits against their gallery, every figure present and sane.
    let saved = dir.path().join("gallery.safetensors").display().to_string();
    let args = ["similar", PROGRAM, "--weights", &weights, "--query", &data("probe_7to9"), "--top", "3"];
    let gallery = data("gallery_7to9");
    let mut with_database = args.to_vec();
    with_database.extend(["--database", &gallery, "--save-database", &saved]);
    let report = json(&with_database);
    for key in ["roc_auc", "eer_threshold", "false_accept_rate", "false_reject_rate", "top1_accuracy"] {
        let value = report[key].as_f64().unwrap_or_else(|| panic!("{key} missing: {report}"));
        assert!((0.0..=1.0).contains(&value), "{key} = {value}");
    }
    assert!(report["roc_auc"].as_f64().unwrap() > 0.7);
    assert!(report["baseline"]["roc_auc"].as_f64().is_some());
    let matches = report["matches"].as_array().unwrap();
    assert_eq!(matches.len(), 267);
    assert_eq!(matches[0]["best"].as_array().unwrap().len(), 3);
    let similarities: Vec<f64> =
        matches[0]["best"].as_array().unwrap().iter().map(|m| m["similarity"].as_f64().unwrap()).collect();
    assert!(similarities.windows(2).all(|w| w[0] >= w[1]), "best first: {similarities:?}");

    // The gallery and the queries a part at a time (parts of 7 rows): the same answers,
    // the figures the same but for the last bit (kernels for other numbers of rows).
    let output = nnc().args(&with_database).arg("--json").env("NNC_EVAL_ROWS", "7").output().unwrap();
    let parts: Value = serde_json::from_slice(&output.stdout).unwrap();
    let close = |a: &Value, b: &Value| (a.as_f64().unwrap() - b.as_f64().unwrap()).abs() < 1e-4;
    for key in ["roc_auc", "eer_threshold", "false_accept_rate", "false_reject_rate", "top1_accuracy", "threshold"] {
        assert!(close(&parts[key], &report[key]), "{key}: {} against {}", parts[key], report[key]);
    }
    assert!(close(&parts["baseline"]["roc_auc"], &report["baseline"]["roc_auc"]));
    for (part, whole) in parts["matches"].as_array().unwrap().iter().zip(matches) {
        assert_eq!((&part["line"], &part["identity"]), (&whole["line"], &whole["identity"]));
        for (a, b) in part["best"].as_array().unwrap().iter().zip(whole["best"].as_array().unwrap()) {
            assert_eq!(a["line"], b["line"], "query {}", whole["line"]);
            assert!(close(&a["similarity"], &b["similarity"]));
        }
    }
    assert_eq!(parts["matches"].as_array().unwrap().len(), 267);

    // The saved database answers the same, without embedding the gallery again.
    let mut from_saved = args.to_vec();
    from_saved.extend(["--database", &saved]);
    let again = json(&from_saved);
    assert_eq!(again["roc_auc"], report["roc_auc"]);
    assert_eq!(again["matches"], report["matches"]);

    // Queries without identities: matches and verdicts only; a threshold above every
    // similarity rejects every query.
    let unlabelled = dir.path().join("queries.csv");
    let text = std::fs::read_to_string(common::root().join(data("probe_7to9"))).unwrap();
    let stripped: String = text.lines().map(|l| l.rsplit_once(',').unwrap().0.to_string() + "\n").collect();
    std::fs::write(&unlabelled, stripped).unwrap();
    let strict = json(&[
        "similar",
        PROGRAM,
        "--weights",
        &weights,
        "--database",
        &saved,
        "--query",
        unlabelled.to_str().unwrap(),
        "--threshold",
        "1",
    ]);
    assert!(strict.get("roc_auc").is_none());
    assert!(
        strict["matches"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["verdict"] == "no match" || m["best"][0]["similarity"].as_f64().unwrap() >= 1.0)
    );

    // cluster the embeddings of the unseen digits: three clusters, labels compared.
    let out = dir.path().join("clusters").display().to_string();
    let clusters =
        json(&["cluster", PROGRAM, "--k", "3", "--weights", &weights, "--input", &data("gallery_7to9"), "-o", &out]);
    assert_eq!(clusters["assignments"].as_array().unwrap().len(), 266);
    assert!(clusters["ari"].as_f64().unwrap() > 0.3, "{}", clusters["ari"]);
    assert!(Path::new(&out).join("assignments.csv").exists());
    assert!(Path::new(&out).join("clusters.svg").exists());
}

#[test]
fn cluster_without_weights_uses_the_preprocessed_features_and_sweeps_k() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().display().to_string();
    let iris = json(&["cluster", "examples/iris.nn", "--k", "3", "-o", &out]);
    // scikit-learn's KMeans(n_init=10) on the same rows gives ARI 0.6101 (bench/compare.py --kmeans).
    assert!((iris["ari"].as_f64().unwrap() - 0.6101).abs() < 0.02, "{}", iris["ari"]);
    assert_eq!(iris["contingency"]["clusters"].as_array().unwrap().len(), 3);
    let silhouette = iris["silhouette"].as_f64().unwrap();
    assert!((0.3..0.7).contains(&silhouette), "{silhouette}");
    let sweep = json(&["cluster", "examples/iris.nn", "--k", "2..5", "-o", &out]);
    let inertia: Vec<f64> = sweep["sweep"].as_array().unwrap().iter().map(|r| r["inertia"].as_f64().unwrap()).collect();
    assert_eq!(inertia.len(), 4);
    assert!(inertia.windows(2).all(|w| w[0] > w[1]), "inertia falls as k grows: {inertia:?}");
    assert!(dir.path().join("elbow.svg").exists() && dir.path().join("silhouette.svg").exists());
}

#[test]
fn what_a_user_gets_wrong_is_a_diagnostic() {
    let dir = tempfile::tempdir().unwrap();
    let weights = trained(dir.path());
    let query = data("probe_7to9");
    let unlabelled = dir.path().join("database.csv");
    let text = std::fs::read_to_string(common::root().join(data("gallery_7to9"))).unwrap();
    std::fs::write(
        &unlabelled,
        text.lines().map(|l| l.rsplit_once(',').unwrap().0.to_string() + "\n").collect::<String>(),
    )
    .unwrap();
    let base = ["similar", PROGRAM, "--weights", weights.as_str(), "--query", query.as_str()];
    let with = |extra: &[&'static str], database: &str| -> Vec<String> {
        base.iter()
            .map(|s| s.to_string())
            .chain(["--database".into(), database.into()])
            .chain(extra.iter().map(|s| s.to_string()))
            .collect()
    };
    let run = |args: Vec<String>, code: &str| fails_with(&args.iter().map(String::as_str).collect::<Vec<_>>(), code);
    run(with(&[], unlabelled.to_str().unwrap()), "E0504");
    let empty = dir.path().join("empty.csv");
    std::fs::write(&empty, text.lines().next().unwrap().to_string() + "\n").unwrap();
    let stderr = run(with(&["--threshold", "0.5"], empty.to_str().unwrap()), "E0427");
    assert!(stderr.contains("has no rows"), "{stderr}");
    let stdin_twice = ["similar", PROGRAM, "--weights", weights.as_str(), "--query", "-", "--database", "-"];
    assert!(fails_with(&stdin_twice, "E0410").contains("both read standard input"));
    run(with(&["--threshold", "1.5"], &data("gallery_7to9")), "E0506");
    let stderr = run(with(&["--layer", "dense9"], &data("gallery_7to9")), "E0206");
    assert!(stderr.contains("dense4"), "names the layers: {stderr}");
    fails_with(&["cluster", "examples/iris.nn", "--k", "151"], "E0505");
    fails_with(&["cluster", "examples/iris.nn", "--k", "1"], "E0505");
    fails_with(&["cluster", "examples/iris.nn", "--k", "5..2"], "E0505");
}
