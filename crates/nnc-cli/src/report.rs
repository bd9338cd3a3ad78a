//! How a run is shown: a human-readable report and one JSON object.

use crate::driver::JobReport;
use std::fmt::Write;

/// The report `nnc run` prints for one trained job.
pub fn human(report: &JobReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "train {} on {}: {} epochs, batch {}, learning rate {}, seed {}",
        report.model, report.data, report.epochs, report.batch, report.learning_rate, report.seed
    );
    for (epoch, loss) in sampled_epochs(&report.epoch_losses) {
        let _ = writeln!(out, "  epoch {epoch:>6}  loss {loss:.6}");
    }
    let _ = writeln!(out, "final loss {:.6}", report.final_loss);
    out.push_str(&prediction_table(report));
    if let Some(accuracy) = report.metrics.accuracy {
        let correct = (accuracy * report.targets.len() as f64).round();
        let _ = writeln!(out, "accuracy {:.1}% ({correct}/{})", accuracy * 100.0, report.targets.len());
    }
    let t = report.timings;
    let _ = writeln!(out, "time: parse {:.3} ms, compile {:.3} ms, train {:.3} ms", t.parse, t.compile, t.train);
    out
}

/// About five evenly spaced epochs, always the first and the last.
fn sampled_epochs(losses: &[f32]) -> Vec<(usize, f32)> {
    let every = losses.len().div_ceil(4).max(1);
    losses
        .iter()
        .enumerate()
        .filter(|(i, _)| i % every == 0 || *i + 1 == losses.len())
        .map(|(i, &loss)| (i + 1, loss))
        .collect()
}

/// Inputs, hidden activations (small data only), target and prediction per row.
fn prediction_table(report: &JobReport) -> String {
    const MAX_ROWS: usize = 20;
    let show_hidden = report.inputs.len() <= MAX_ROWS;
    let mut header = report.input_names.join(" ");
    if show_hidden {
        for (name, _) in &report.hidden {
            header.push_str(&format!(" | {name}"));
        }
    }
    header.push_str(&format!(" | {} | prediction", report.target_names.join(" ")));
    let mut out = format!("  {header}\n");
    for (row, inputs) in report.inputs.iter().enumerate().take(MAX_ROWS) {
        let mut line = numbers(inputs);
        if show_hidden {
            for (_, values) in &report.hidden {
                line.push_str(&format!(" | [{}]", numbers(&values[row]).replace(' ', ", ")));
            }
        }
        line.push_str(&format!(" | {} | {}", numbers(&report.targets[row]), numbers(&report.predictions[row])));
        let _ = writeln!(out, "  {line}");
    }
    if report.inputs.len() > MAX_ROWS {
        let _ = writeln!(out, "  ... {} more rows (use --json for all)", report.inputs.len() - MAX_ROWS);
    }
    out
}

fn numbers(values: &[f32]) -> String {
    values.iter().map(|v| format_number(*v)).collect::<Vec<_>>().join(" ")
}

/// Whole numbers as integers, others with four decimals.
fn format_number(value: f32) -> String {
    if value.fract() == 0.0 && value.abs() < 1e7 { format!("{value}") } else { format!("{value:.4}") }
}

/// The `--json` object: the last job's results at top level, every job under `jobs`.
pub fn json(reports: &[JobReport]) -> serde_json::Value {
    let one = |r: &JobReport| {
        serde_json::json!({
            "model": r.model,
            "data": r.data,
            "final_loss": r.final_loss,
            "metrics": r.metrics,
            "predictions": r.predictions,
            "targets": r.targets,
            "epoch_losses": r.epoch_losses,
            "epochs": r.epochs,
            "seed": r.seed,
            "timings_ms": r.timings,
        })
    };
    let mut top = reports.last().map(one).unwrap_or_else(|| serde_json::json!({}));
    if reports.len() > 1 {
        top["jobs"] = reports.iter().map(one).collect();
    }
    top
}
