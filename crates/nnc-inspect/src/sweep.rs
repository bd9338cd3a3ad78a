//! `nnc sweep`: the same program trained at several learning rates (and seeds), compiled
//! once — the learning rate is an input of the compiled step — to show the course's
//! "too small, good, too large, diverging" from any program.

use nnc_driver::{Functions, JobPlan, MinimizePlan, SplitReport};
use nnc_plot::{Axis, Layer, Plot};

/// One learning rate over every seed.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Row {
    pub learning_rate: f32,
    /// Final training loss of each seed that did not diverge, in seed order.
    pub final_losses: Vec<f32>,
    /// The main metric of each seed that did not diverge (accuracy, or R² for regression),
    /// on the test split when there is one.
    pub metrics: Vec<f64>,
    pub diverged: usize,
    /// Seeds that solved the task: every row classified right, or R² of at least 0.9.
    pub solved: usize,
    pub seeds: usize,
    /// The loss per epoch of the first seed (up to where it diverged).
    pub curve: Vec<f32>,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct Sweep {
    pub model: String,
    /// What the final number is (`final loss`, or `final f` for a formula).
    pub measure: &'static str,
    pub metric: &'static str,
    pub rows: Vec<Row>,
}

pub fn sweep(plan: &JobPlan, rates: &[f32], seeds: &[u64]) -> Result<Sweep, String> {
    let compiled =
        nnc_driver::compile_job(plan, Functions::Run, nnc_codegen::Options::default()).map_err(|d| d.message)?;
    let classification = !matches!(plan.data.task, nnc_data::Task::Regression);
    let mut rows = Vec::new();
    for &rate in rates {
        let mut row = Row {
            learning_rate: rate,
            final_losses: Vec::new(),
            metrics: Vec::new(),
            diverged: 0,
            solved: 0,
            seeds: seeds.len(),
            curve: Vec::new(),
        };
        for (index, &seed) in seeds.iter().enumerate() {
            match nnc_driver::train_variant(plan, &compiled, rate, seed) {
                Ok(training) => {
                    if index == 0 {
                        row.curve = training.epoch_losses.clone();
                    }
                    row.final_losses.push(training.epoch_losses.last().copied().unwrap_or(f32::NAN));
                    let splits = nnc_driver::evaluate_splits(plan, &compiled, &training.params);
                    let (metric, solved) = score(&splits, classification);
                    row.metrics.push(metric);
                    row.solved += usize::from(solved);
                }
                Err(_) => row.diverged += 1,
            }
        }
        rows.push(row);
    }
    Ok(Sweep {
        model: plan.job.model.name.clone(),
        measure: "final loss",
        metric: if classification { "accuracy" } else { "R²" },
        rows,
    })
}

/// Gradient descent on a formula at each rate: f after the block's steps, whether it
/// diverged (f left the finite numbers), whether it converged (the last step changed f by
/// less than a millionth of its start), and f at every step.
pub fn sweep_minimization(plan: &MinimizePlan, rates: &[f32]) -> Sweep {
    let derived = crate::explain::derive_minimization(plan);
    let value = derived.equations.iter().find(|(part, _, _)| *part == crate::explain::Part::Forward).map(|e| e.1);
    let rows = rates
        .iter()
        .map(|&rate| {
            let lr = [rate];
            let mut params: Vec<Vec<f32>> = plan.minimization.params.iter().map(|(_, start)| vec![*start]).collect();
            let mut curve = Vec::new();
            for _ in 0..=plan.minimization.steps {
                let refs: Vec<&[f32]> = params.iter().map(Vec::as_slice).collect();
                let values = nnc_ir::evaluate(&derived.graph, &[&lr], &refs);
                let f = value.map_or(f32::NAN, |v| values[v.index()][0]);
                curve.push(f);
                if !f.is_finite() {
                    break;
                }
                for &(slot, v) in &derived.graph.updates {
                    params[slot as usize] = values[v.index()].clone();
                }
            }
            let last = curve.last().copied().unwrap_or(f32::NAN);
            let diverged = !last.is_finite() || last.abs() > 1e30;
            let start = curve.first().copied().unwrap_or(0.0).abs().max(1e-12);
            let converged =
                curve.len() > 1 && !diverged && (curve[curve.len() - 1] - curve[curve.len() - 2]).abs() <= 1e-6 * start;
            Row {
                learning_rate: rate,
                final_losses: if diverged { Vec::new() } else { vec![last] },
                metrics: Vec::new(),
                diverged: usize::from(diverged),
                solved: usize::from(converged),
                seeds: 1,
                curve: if diverged { Vec::new() } else { curve },
            }
        })
        .collect();
    Sweep { model: plan.minimization.name.clone(), measure: "final f", metric: "—", rows }
}

/// The main metric on the test split (else the training split), and whether the run solved
/// the task (every training row right; R² ≥ 0.9 on the scored split).
fn score(splits: &[SplitReport], classification: bool) -> (f64, bool) {
    let scored = splits.iter().find(|s| s.name == "test").or_else(|| splits.first());
    let train = splits.iter().find(|s| s.name == "train");
    if classification {
        let accuracy = scored.and_then(|s| s.scores.accuracy).unwrap_or(f64::NAN);
        (accuracy, train.and_then(|s| s.scores.accuracy) == Some(1.0))
    } else {
        let r2 = scored.and_then(|s| s.scores.r2).unwrap_or(f64::NAN);
        (r2, r2 >= 0.9)
    }
}

fn median<T: Copy + PartialOrd>(values: &[T]) -> Option<T> {
    let mut sorted = values.to_vec();
    sorted.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    sorted.get(sorted.len() / 2).copied()
}

/// The table `nnc sweep` prints.
pub fn render(sweep: &Sweep) -> String {
    let seeds = sweep.rows.first().map_or(0, |r| r.seeds);
    let mut out = format!(
        "sweep of `{}` over {} learning rate{} × {seeds} seed{} (medians over the seeds that did not diverge)\n",
        sweep.model,
        sweep.rows.len(),
        if sweep.rows.len() == 1 { "" } else { "s" },
        if seeds == 1 { "" } else { "s" }
    );
    out.push_str(&format!(
        "  {:>12}  {:>12}  {:>10}  {:>8}  {:>6}\n",
        "lr", sweep.measure, sweep.metric, "diverged", "solved"
    ));
    for row in &sweep.rows {
        let loss = median(&row.final_losses).map_or("—".to_string(), crate::expr::number);
        let metric = median(&row.metrics).map_or("—".to_string(), |m| format!("{m:.4}"));
        out.push_str(&format!(
            "  {:>12}  {:>12}  {:>10}  {:>8}  {:>6}\n",
            crate::expr::number(row.learning_rate),
            loss,
            metric,
            format!("{}/{}", row.diverged, row.seeds),
            format!("{}/{}", row.solved, row.seeds)
        ));
    }
    out
}

/// The loss curves of the first seed, one per learning rate, on a logarithmic axis.
pub fn plot(sweep: &Sweep) -> Plot {
    let layers: Vec<Layer> = sweep
        .rows
        .iter()
        .enumerate()
        .map(|(index, row)| Layer::Line {
            label: Some(format!(
                "lr {}{}",
                crate::expr::number(row.learning_rate),
                if row.curve.is_empty() { " (diverged)" } else { "" }
            )),
            points: row
                .curve
                .iter()
                .enumerate()
                .filter(|(_, l)| l.is_finite() && **l > 0.0)
                .map(|(e, &l)| ((e + 1) as f64, f64::from(l)))
                .collect(),
            color: index,
            dashed: false,
        })
        .collect();
    let losses: Vec<f64> = sweep
        .rows
        .iter()
        .flat_map(|r| r.curve.iter())
        .filter(|l| l.is_finite() && **l > 0.0)
        .map(|&l| f64::from(l))
        .collect();
    let (low, high) = losses.iter().fold((f64::INFINITY, 0.0f64), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    let epochs = sweep.rows.iter().map(|r| r.curve.len()).max().unwrap_or(1);
    let y = if low.is_finite() && high > 0.0 {
        Axis { label: "training loss".into(), min: low / 2.0, max: high * 2.0, log: true }
    } else {
        Axis::fit("training loss", [0.0, 1.0])
    };
    Plot {
        title: format!("`{}` at each learning rate (seed of the first run)", sweep.model),
        x: Axis::fit("epoch", [1.0, epochs as f64]),
        y,
        layers,
    }
}
