//! nnc's training against float64 PyTorch: every program in `tests/oracle/` (written with
//! its reference by `tests/oracle/oracle.py`, see there for the cases and the conventions
//! they rely on) is trained by nnc, and its loss in every epoch, its parameters at the end
//! (batch norm's running statistics too) and, for the layer cases, its evaluation loss
//! after training agree with PyTorch's to float32 precision.

#![allow(clippy::unwrap_used)] // Tests fail loudly by design.

use nnc_driver::Overrides;
use nnc_tests::repo_root;
use serde_json::Value;

/// float32 rounding of each step, accumulated over a few epochs: well under a 0.1 % error
/// (which fails, `the_comparison_fails_on_a_one_in_a_thousand_error`).
fn close(nnc: f64, reference: f64) -> bool {
    (nnc - reference).abs() <= 2e-5 * reference.abs().max(1.0)
}

fn flat(value: &Value) -> Vec<f64> {
    match value {
        Value::Array(items) => items.iter().flat_map(flat).collect(),
        Value::Number(n) => vec![n.as_f64().unwrap()],
        other => panic!("not a number: {other}"),
    }
}

/// Every disagreement of one case's run with its reference.
fn disagreements(name: &str, scale: f64) -> Vec<String> {
    let folder = repo_root().join("tests/oracle");
    let source = std::fs::read_to_string(folder.join(format!("{name}.nn"))).unwrap();
    let reference: Value =
        serde_json::from_str(&std::fs::read_to_string(folder.join(format!("{name}.json"))).unwrap()).unwrap();
    let report = nnc_driver::run(&source, &folder, Overrides::default()).unwrap();
    let job = &report.jobs[0];
    let mut found = Vec::new();
    let losses = flat(&reference["epoch_losses"]);
    assert_eq!(job.epoch_losses.len(), losses.len(), "{name}: epochs");
    for (epoch, (&nnc, &torch)) in job.epoch_losses.iter().zip(&losses).enumerate() {
        if !close(f64::from(nnc) * scale, torch) {
            found.push(format!("{name}: epoch {} loss {nnc} vs {torch}", epoch + 1));
        }
    }
    // After training, the model in its evaluation form (batch norm's running statistics).
    if let Some(reference) = reference["eval_loss"].as_f64() {
        let nnc = job.splits[0].loss;
        if !close(f64::from(nnc) * scale, reference) {
            found.push(format!("{name}: evaluation loss {nnc} vs {reference}"));
        }
    }
    for (param, _, values) in &job.parameters {
        let torch = flat(&reference["parameters"][param]);
        assert_eq!(values.len(), torch.len(), "{name}: {param} size");
        for (i, (&nnc, &torch)) in values.iter().zip(&torch).enumerate() {
            if !close(f64::from(nnc) * scale, torch) {
                found.push(format!("{name}: {param}[{i}] {nnc} vs {torch}"));
            }
        }
    }
    found
}

fn cases() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(repo_root().join("tests/oracle"))
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.strip_suffix(".json").map(str::to_string))
        .collect();
    names.sort();
    names
}

#[test]
fn training_agrees_with_float64_pytorch() {
    let names = cases();
    let required = [
        "mse_sgd",
        "sgd_momentum_sigmoid",
        "sgd_nesterov_leaky_decay",
        "adam_tanh",
        "adam_weight_decay",
        "softmax_ce_large_logits",
        "bce_logits_ragged",
        "mae_exact_fit",
        "mae_step_schedule",
        "conv_same_maxpool",
        "conv_stride_valid_avgpool",
        "conv_same_stride2_adam",
        "batchnorm_dense",
        "batchnorm_conv",
        "embedding_city",
        "residual_add_concat",
        "dropout_seeded",
        "triplet_l2",
        "contrastive_batches",
    ];
    for name in required {
        assert!(names.iter().any(|n| n == name), "the oracle case {name} is missing");
    }
    let found: Vec<String> = names.iter().flat_map(|name| disagreements(name, 1.0)).collect();
    assert!(found.is_empty(), "{}", found.join("\n"));
}

/// The tolerance is tight enough to see a 0.1 % error.
#[test]
fn the_comparison_fails_on_a_one_in_a_thousand_error() {
    for name in cases() {
        assert!(!disagreements(&name, 1.001).is_empty(), "{name} cannot tell a 0.1% error");
    }
}
