//! How a run is shown: a human-readable report and one JSON object.

use nnc_data::SplitOrder;
use nnc_driver::metrics::Scores;
use nnc_driver::{JobPlan, JobReport, MinimizeReport, RunReport, SplitReport};
use nnc_inspect::diagnosis::Finding;
use serde_json::{Map, Value, json};
use std::fmt::Write;

/// The report `nnc run` prints for one trained job.
pub fn human(report: &JobReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "train {} on {}: loss {}, {} epochs, batch {}, learning rate {}, seed {}",
        report.model, report.data, report.loss, report.epochs, report.batch, report.learning_rate, report.seed
    );
    let _ = writeln!(out, "{}", split_line(report));
    for (epoch, loss) in sampled_epochs(&report.epoch_losses) {
        let val = report.val_losses.get(epoch - 1).map_or(String::new(), |v| format!("  val {}", loss_text(*v)));
        let _ = writeln!(out, "  epoch {epoch:>6}  loss {}{val}", loss_text(loss));
    }
    if report.interrupted {
        let _ = writeln!(
            out,
            "interrupted (Ctrl-C) after epoch {} of {}: this report and --save are of the weights at that point",
            report.epoch_losses.len(),
            report.epochs
        );
    }
    if let Some((stopped, best)) = report.early_stop {
        let _ = writeln!(
            out,
            "early stopping after epoch {stopped}: best validation loss in epoch {best} (its weights kept)"
        );
    }
    let _ = writeln!(out, "final loss {}", loss_text(report.final_loss));
    out.push_str(&prediction_table(report));
    for split in &report.splits {
        let _ = writeln!(out, "{:<5} {}", split.name, scores_text(&split.scores, split.rows));
    }
    if let Some(naive) = &report.naive_mae {
        let shown: Vec<String> = naive.iter().map(|(split, mae)| format!("{split} {mae:.4}")).collect();
        let _ = writeln!(out, "naive baseline (next = last value) mae: {}", shown.join(", "));
    }
    let primary = report.primary();
    if let Some(confusion) = &primary.scores.confusion
        && report.classes.len() <= 12
    {
        out.push_str(&confusion_text(&report.classes, confusion, &primary.name));
        out.push_str(&class_scores_text(&report.classes, &primary.scores));
    }
    if let Some(path) = &report.saved {
        let _ = writeln!(out, "wrote {path}");
    }
    out.push_str(&profile_text(&report.profile));
    let t = report.timings;
    let _ = writeln!(
        out,
        "time: parse {:.3} ms, load {:.3} ms, compile {:.3} ms, train {:.3} ms, evaluate {:.3} ms",
        t.parse, t.load, t.compile, t.train, t.evaluate
    );
    out
}

/// Where training spent its time, kernel by kernel, slowest first.
fn profile_text(profile: &[nnc_driver::KernelProfile]) -> String {
    if profile.is_empty() {
        return String::new();
    }
    let total: f64 = profile.iter().map(|k| k.total_us).sum();
    let cpu = nnc_driver::describe_cpu();
    let mut out = format!("kernels (profile, {cpu}; {:.1} ms in all):\n", total / 1000.0);
    let _ = writeln!(out, "  {:>9} {:>6} {:>9} {:>8}  kernel", "total ms", "share", "µs/call", "GFLOP/s");
    for kernel in profile {
        let _ = writeln!(
            out,
            "  {:>9.3} {:>5.1}% {:>9.3} {:>8.1}  {} k{} {}",
            kernel.total_us / 1000.0,
            100.0 * kernel.total_us / total.max(f64::MIN_POSITIVE),
            kernel.total_us / kernel.calls.max(1) as f64,
            kernel.gflops,
            kernel.function,
            kernel.kernel,
            kernel.summary
        );
    }
    out
}

/// Rows per split, how they were assigned, and per class for classification.
fn split_line(report: &JobReport) -> String {
    let sizes: Vec<String> = report.splits.iter().map(|s| format!("{} {}", s.name, s.rows)).collect();
    let mut line = format!(
        "data: {} ({} rows: {}{})",
        report.task,
        report.splits.iter().map(|s| s.rows).sum::<usize>(),
        sizes.join(", "),
        order_text(&report.split_order, report.dropped_rows)
    );
    if !report.classes.is_empty() {
        for split in &report.splits {
            if let Some(counts) = &split.class_counts {
                let balance: Vec<String> = report.classes.iter().zip(counts).map(|(c, n)| format!("{c} {n}")).collect();
                let _ = write!(line, "; {} classes: {}", split.name, balance.join(", "));
            }
        }
    }
    line
}

fn order_text(order: &SplitOrder, dropped: usize) -> String {
    let order = match order {
        SplitOrder::AllTrain => String::new(),
        SplitOrder::Shuffled(seed) => format!("; shuffled with seed {seed}"),
        SplitOrder::TimeOrder => "; in time order".to_string(),
    };
    let dropped = if dropped > 0 { format!("; {dropped} left out for missing values") } else { String::new() };
    format!("{order}{dropped}")
}

/// What `nnc check` reports for one job: the model, the data's rows per split, and how
/// every source column was typed and encoded.
pub fn check_summary(plan: &JobPlan) -> String {
    let (job, data) = (&plan.job, &plan.data);
    let input = job.model.input;
    let inputs = match input.dims().len() {
        1 => format!("{} inputs", input.size()),
        _ => format!("{} images ({} inputs)", input.describe(), input.size()),
    };
    // Settled when the job was planned: the width is known.
    let outputs = job.model.output_width().unwrap_or(0);
    let mut out = format!(
        "train {} on {}: {inputs}{} -> {outputs} output{}, loss {}, batch {}\n",
        job.model.name,
        job.data.name.name,
        if job.model.input_auto { " (input auto: the data's columns)" } else { "" },
        if outputs == 1 { "" } else { "s" },
        job.train.loss.name(),
        plan.batch
    );
    let sizes: Vec<String> = data.splits().iter().map(|(name, d)| format!("{name} {}", d.rows)).collect();
    let _ = writeln!(
        out,
        "  data: {} ({}{})",
        data.task.name(),
        sizes.join(", "),
        order_text(&data.split_order, data.dropped_rows)
    );
    let lines = data.preprocessing.describe();
    const SHOWN: usize = 12;
    for line in lines.iter().take(SHOWN) {
        let _ = writeln!(out, "  {line}");
    }
    if lines.len() > SHOWN {
        let _ = writeln!(out, "  ... and {} more columns", lines.len() - SHOWN);
    }
    out
}

/// A split's scores in one line: `accuracy 96.7% (29/30), macro F1 0.9655`.
pub fn scores_line(scores: &Scores, rows: usize) -> String {
    scores_text(scores, rows)
}

fn scores_text(scores: &Scores, rows: usize) -> String {
    let mut parts = Vec::new();
    if let Some(accuracy) = scores.accuracy {
        parts.push(format!("accuracy {:.1}% ({}/{rows})", accuracy * 100.0, (accuracy * rows as f64).round()));
    }
    if let Some(top1) = scores.top1_accuracy {
        parts.push(format!("top-1 {:.1}% ({}/{rows}, nearest other row)", top1 * 100.0, (top1 * rows as f64).round()));
    }
    for (name, value) in
        [("macro F1", scores.macro_f1), ("ROC AUC", scores.roc_auc), ("verification AUC", scores.verification_auc)]
    {
        if let Some(value) = value {
            parts.push(format!("{name} {value:.4}"));
        }
    }
    for (name, value) in [("mse", scores.mse), ("mae", scores.mae), ("r2", scores.r2)] {
        if let Some(value) = value {
            parts.push(format!("{name} {value:.4}"));
        }
    }
    parts.join(", ")
}

/// Precision, recall and F1 of each class, and their macro averages.
pub fn class_scores_text(classes: &[String], scores: &Scores) -> String {
    let Some(per_class) = &scores.per_class else { return String::new() };
    let width = classes.iter().map(|c| c.chars().count()).max().unwrap_or(5).max(5);
    let mut out = format!("  {:width$}  precision  recall      F1  rows\n", "class");
    for (class, s) in classes.iter().zip(per_class) {
        let _ =
            writeln!(out, "  {class:width$}  {:>9.4}  {:>6.4}  {:>6.4}  {:>4}", s.precision, s.recall, s.f1, s.support);
    }
    if let (Some(p), Some(r), Some(f)) = (scores.macro_precision, scores.macro_recall, scores.macro_f1) {
        let _ = writeln!(out, "  {:width$}  {p:>9.4}  {r:>6.4}  {f:>6.4}", "macro");
    }
    out
}

fn confusion_text(classes: &[String], confusion: &[Vec<usize>], split: &str) -> String {
    let width = classes.iter().map(String::len).max().unwrap_or(1).max(5);
    let mut out = format!("confusion matrix ({split}; rows: actual, columns: predicted)\n  {:width$}", "");
    for class in classes {
        let _ = write!(out, " {class:>width$}");
    }
    out.push('\n');
    for (class, row) in classes.iter().zip(confusion) {
        let _ = write!(out, "  {class:>width$}");
        for count in row {
            let _ = write!(out, " {count:>width$}");
        }
        out.push('\n');
    }
    out
}

/// Six decimals, or three significant digits once that would show only zeros.
fn loss_text(loss: f32) -> String {
    if loss != 0.0 && loss.abs() < 1e-4 { format!("{loss:.3e}") } else { format!("{loss:.6}") }
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

/// Inputs, hidden activations (small data only), target and prediction per row of the
/// primary split.
fn prediction_table(report: &JobReport) -> String {
    // A split this small keeps every hidden layer's activations of every row.
    const MAX_ROWS: usize = nnc_driver::LISTED_ROWS;
    let split: &SplitReport = report.primary();
    let few_columns = report.input_names.len() <= 8;
    let show_hidden = split.rows <= MAX_ROWS;
    let mut header =
        if few_columns { report.input_names.join(" ") } else { format!("({} inputs)", report.input_names.len()) };
    if show_hidden {
        for (name, _) in &split.hidden {
            let _ = write!(header, " | {name}");
        }
    }
    let targets = if report.target_names.len() <= 4 && report.classes.len() <= 2 {
        report.target_names.join(" ")
    } else {
        "target".to_string()
    };
    let _ = write!(header, " | {targets} | prediction");
    let seen = if report.inputs_encoded { ", inputs as the model sees them (encoded, normalised)" } else { "" };
    let mut out = format!("  {} rows{seen}:\n  {header}\n", split.name);
    for (row, inputs) in split.inputs.iter().enumerate().take(MAX_ROWS) {
        let mut line = if few_columns { numbers(inputs) } else { "...".to_string() };
        if show_hidden {
            for (_, values) in &split.hidden {
                let _ = write!(line, " | [{}]", numbers(values.row(row)).replace(' ', ", "));
            }
        }
        let (target, prediction) = (split.targets.row(row), split.predictions.row(row));
        match class_of(&report.classes, target).zip(class_of(&report.classes, prediction)) {
            Some((actual, predicted)) if report.classes.len() > 2 => {
                let confidence = prediction.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                let _ = write!(line, " | {actual} | {predicted} ({confidence:.4})");
            }
            Some((_, predicted)) => {
                let _ = write!(line, " | {} | {} -> {predicted}", short(target), short(prediction));
            }
            None => {
                let _ = write!(line, " | {} | {}", short(target), short(prediction));
            }
        }
        let _ = writeln!(out, "  {line}");
    }
    if split.rows > MAX_ROWS {
        let _ = writeln!(out, "  ... {} more rows (use --json for all)", split.rows - MAX_ROWS);
    }
    out
}

/// The class a row of probabilities (or a 0/1 target) stands for.
fn class_of<'a>(classes: &'a [String], row: &[f32]) -> Option<&'a str> {
    let index = match row {
        [] => return None,
        [p] => usize::from(*p >= 0.5),
        _ => {
            row.iter()
                .enumerate()
                .fold((0, f32::NEG_INFINITY), |best, (i, &v)| if v > best.1 { (i, v) } else { best })
                .0
        }
    };
    classes.get(index).map(String::as_str)
}

fn short(values: &[f32]) -> String {
    if values.len() <= 4 { numbers(values) } else { format!("[{} values]", values.len()) }
}

fn numbers(values: &[f32]) -> String {
    values.iter().map(|v| format_number(*v)).collect::<Vec<_>>().join(" ")
}

/// Whole numbers as integers, others with four decimals.
fn format_number(value: f32) -> String {
    if value.fract() == 0.0 && value.abs() < 1e7 { format!("{value}") } else { format!("{value:.4}") }
}

/// Every block's report, minimisations first, separated by blank lines.
/// Every block's report; each training report followed by its diagnosis.
pub fn human_all(run: &RunReport, findings: &[Vec<Finding>]) -> String {
    let jobs = run.jobs.iter().enumerate().map(|(index, job)| {
        let diagnosis = findings.get(index).map_or(String::new(), |f| nnc_inspect::diagnosis::render(f));
        human(job) + &diagnosis
    });
    let mut parts: Vec<String> = run.minimizations.iter().map(minimization_text).chain(jobs).collect();
    if !run.skipped.is_empty() {
        parts.push(format!("skipped after Ctrl-C: {}\n", run.skipped.join(", ")));
    }
    parts.join("\n")
}

/// The trajectory of gradient descent on a formula, one line per step.
pub fn minimization_text(report: &MinimizeReport) -> String {
    let mut out = format!(
        "minimize {}: f = {}, learning rate {}, {} steps\n",
        report.name, report.formula, report.learning_rate, report.steps
    );
    let mut header = format!("  {:>5}", "step");
    for name in &report.param_names {
        let _ = write!(header, " {name:>14}");
    }
    let _ = write!(header, " {:>14}", "f");
    for name in &report.param_names {
        let _ = write!(header, " {:>14}", format!("df/d{name}"));
    }
    out.push_str(&header);
    out.push('\n');
    for point in &report.trajectory {
        let mut line = format!("  {:>5}", point.step);
        for value in point.params.iter().chain([&point.value]).chain(&point.gradient) {
            let _ = write!(line, " {value:>14.6}");
        }
        out.push_str(&line);
        out.push('\n');
    }
    let stride = nnc_driver::sampling_stride(report.steps);
    if stride > 1 {
        let _ = writeln!(out, "  (every {stride}th step shown and kept: at most {} points)", nnc_driver::MAX_POINTS);
    }
    if report.interrupted {
        let last = report.trajectory.last().map_or(0, |p| p.step);
        let _ = writeln!(out, "interrupted (Ctrl-C) at step {last} of {}", report.steps);
    }
    let _ = writeln!(out, "{}", verdict(report));
    out
}

/// Whether the descent converged, oscillated or diverged: diverging when the objective
/// grew, oscillating when some parameter's steps alternate in direction.
pub fn verdict(report: &MinimizeReport) -> String {
    let points = &report.trajectory;
    let (Some(first), Some(last)) = (points.first(), points.last()) else { return String::new() };
    let (from, to) = (first.value, last.value);
    if !to.is_finite() {
        return format!("diverging: the value stopped being a number at step {}", last.step);
    }
    let oscillating = (0..first.params.len()).any(|i| {
        let steps: Vec<f32> = points.windows(2).map(|w| w[1].params[i] - w[0].params[i]).collect();
        steps.windows(2).any(|s| s[0] * s[1] < 0.0)
    });
    // Settling: the last step moved the parameters less than half as far as the first.
    let step_size = |a: &nnc_driver::Point, b: &nnc_driver::Point| {
        a.params.iter().zip(&b.params).map(|(x, y)| (x - y).powi(2)).sum::<f32>().sqrt()
    };
    let settling = match points.as_slice() {
        [a, b, .., y, z] => step_size(y, z) < 0.5 * step_size(a, b),
        _ => true,
    };
    match (to > from, oscillating, settling) {
        (true, true, _) => {
            format!("diverging: each step jumps across the minimum and lands further out; f grew from {from} to {to}")
        }
        (true, false, _) => format!("diverging: f grew from {from} to {to}"),
        (false, true, _) => {
            format!("oscillating: each step jumps across the minimum, yet f shrinks from {from} to {to}")
        }
        (false, false, true) => format!("converging: f shrinks from {from} to {to}"),
        (false, false, false) => {
            format!("decreasing without settling: f went from {from} to {to} and the steps are not getting shorter")
        }
    }
}

/// The `--json` object: the last job's results at top level, every job under `jobs`,
/// trajectories under `minimize`.
pub fn json(run: &RunReport, findings: &[Vec<Finding>]) -> Value {
    let job = |index: usize, report: &JobReport| {
        let mut value = job_json(report);
        value["diagnosis"] = json!(findings.get(index).cloned().unwrap_or_default());
        value
    };
    let mut top = run.jobs.last().map(|r| job(run.jobs.len() - 1, r)).unwrap_or_else(|| json!({}));
    if run.jobs.len() > 1 {
        top["jobs"] = run.jobs.iter().enumerate().map(|(i, r)| job(i, r)).collect();
    }
    if !run.minimizations.is_empty() {
        top["minimize"] = run.minimizations.iter().map(minimization_json).collect();
    }
    if !run.skipped.is_empty() {
        top["skipped"] = json!(run.skipped);
    }
    top
}

fn minimization_json(r: &MinimizeReport) -> Value {
    let by_name = |values: &[f32]| -> Map<String, Value> {
        r.param_names.iter().cloned().zip(values.iter().map(|v| json!(v))).collect()
    };
    json!({
        "name": r.name,
        "formula": r.formula,
        "learning_rate": shortest(r.learning_rate),
        "steps": r.steps,
        "interrupted": r.interrupted,
        "sampled_every": nnc_driver::sampling_stride(r.steps),
        "verdict": verdict(r),
        "trajectory": r.trajectory.iter().map(|p| json!({
            "step": p.step,
            "params": by_name(&p.params),
            "value": p.value,
            "gradient": by_name(&p.gradient),
        })).collect::<Vec<_>>(),
        "timings_ms": r.timings,
    })
}

fn job_json(r: &JobReport) -> Value {
    let primary = r.primary();
    json!({
        "model": r.model,
        "data": r.data,
        "loss": r.loss,
        "task": r.task,
        "final_loss": r.final_loss,
        "metrics": metrics_json(r),
        "predictions": primary.predictions,
        "targets": primary.targets,
        "prediction_split": primary.name,
        "classes": r.classes,
        "confusion": primary.scores.confusion,
        "splits": r.splits.iter().map(|s| json!({"name": s.name, "rows": s.rows, "class_counts": s.class_counts, "loss": s.loss})).collect::<Vec<_>>(),
        "epoch_losses": r.epoch_losses,
        "val_losses": r.val_losses,
        "interrupted": r.interrupted,
        "early_stop": r.early_stop.map(|(stopped, best)| json!({"stopped_after_epoch": stopped, "best_epoch": best})),
        "epochs": r.epochs,
        "seed": r.seed,
        "batch": r.batch,
        "learning_rate": shortest(r.learning_rate),
        "preprocessing": r.preprocessing,
        "naive_mae": r.naive_mae.as_ref().map(|n| n.iter().map(|(s, v)| (s.clone(), json!(v))).collect::<Map<_, _>>()),
        "parameters": parameters_json(&r.parameters),
        "saved": r.saved,
        "timings_ms": r.timings,
        "memory_bytes": r.memory,
        "cpu": nnc_driver::describe_cpu(),
    })
}

/// Trained parameters by name as nested arrays, when all of them hold at most 10,000
/// numbers (larger models would drown the report).
fn parameters_json(parameters: &[nnc_driver::NamedTensor]) -> Value {
    let total: usize = parameters.iter().map(|(_, _, values)| values.len()).sum();
    if total > 10_000 {
        return Value::Null;
    }
    Value::Object(parameters.iter().map(|(name, shape, values)| (name.clone(), nested(shape, values))).collect())
}

/// The primary split's scores unprefixed (`accuracy`), every split's prefixed (`test_r2`).
fn metrics_json(r: &JobReport) -> Map<String, Value> {
    let mut metrics = Map::new();
    let mut add = |prefix: &str, scores: &Scores| {
        for (name, value) in [
            ("accuracy", scores.accuracy),
            ("macro_precision", scores.macro_precision),
            ("macro_recall", scores.macro_recall),
            ("macro_f1", scores.macro_f1),
            ("roc_auc", scores.roc_auc),
            ("top1_accuracy", scores.top1_accuracy),
            ("verification_auc", scores.verification_auc),
            ("mse", scores.mse),
            ("mae", scores.mae),
            ("r2", scores.r2),
        ] {
            if let Some(value) = value {
                metrics.insert(format!("{prefix}{name}"), json!(value));
            }
        }
    };
    add("", &r.primary().scores);
    for split in &r.splits {
        add(&format!("{}_", split.name), &split.scores);
    }
    metrics
}

/// An f32 as the f64 with the same shortest decimal form (0.1, not 0.10000000149).
fn shortest(value: f32) -> Value {
    value.to_string().parse::<f64>().map_or(Value::Null, |v| json!(v))
}

/// A row-major buffer as nested arrays of the given shape.
fn nested(shape: &[usize], values: &[f32]) -> Value {
    match shape.split_first() {
        None => json!(values.first()),
        Some((_, [])) => json!(values),
        Some((&rows, rest)) => {
            let width = values.len() / rows.max(1);
            Value::Array(values.chunks(width.max(1)).map(|chunk| nested(rest, chunk)).collect())
        }
    }
}
