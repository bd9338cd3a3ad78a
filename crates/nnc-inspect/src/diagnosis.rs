//! Training diagnosis: what `nnc run` noticed about how training went, each finding with
//! its evidence and what to try. Computed from the run's own numbers: the loss curve, the
//! hidden units' counts over every training row, and the compiled gradients at the end.

use crate::gradcheck::compiled_gradient_norms;
use crate::names::param_name;
use nnc_check::{Activation, Loss};
use nnc_data::Rows;
use nnc_driver::units::UnitCounts;
use nnc_driver::{JobPlan, JobReport};

#[derive(Clone, Debug, serde::Serialize)]
pub struct Finding {
    /// `diverging`, `dead_relu`, `mean_plateau`, `saturated`, `vanishing_gradients`,
    /// `exploding_gradients`, `collapsed_embedding`, or `not_checked` (a check that would not fit in memory).
    pub kind: &'static str,
    pub message: String,
    /// The numbers behind it.
    pub evidence: Vec<String>,
    pub hint: String,
}

/// Every finding that applies to one trained block.
pub fn diagnose(plan: &JobPlan, report: &JobReport) -> Vec<Finding> {
    let curve: Vec<(u64, f32)> = (1..).zip(report.epoch_losses.iter().copied()).collect();
    let mut findings = Vec::new();
    findings.extend(diverging(plan, &curve));
    findings.extend(mean_plateau(plan, &curve));
    findings.extend(collapsed_embedding(plan, report));
    if let Some(train) = report.splits.iter().find(|s| s.name == "train") {
        findings.extend(dead_and_saturated(plan, &train.units, train.rows, "after training"));
    }
    findings.extend(gradient_flow(plan, report));
    findings
}

/// The findings that show while a block trains (`nnc serve`): from the losses heard so
/// far, `(epoch, loss)` in order (a fast run reports some epochs only), and from the
/// hidden activations of the first training rows at this epoch's parameters, when there
/// are any (`hidden`: by layer, and of how many training rows).
pub fn diagnose_live(plan: &JobPlan, curve: &[(u64, f32)], hidden: Option<(&[(String, Rows)], usize)>) -> Vec<Finding> {
    let mut findings = Vec::new();
    findings.extend(diverging(plan, curve));
    findings.extend(mean_plateau(plan, curve));
    if let (Some((hidden, rows)), Some(&(epoch, _))) = (hidden, curve.last()) {
        let units: Vec<(String, UnitCounts)> = plan
            .job
            .model
            .layers
            .iter()
            .filter_map(|layer| {
                let (_, values) = hidden.iter().find(|(name, _)| name == &layer.name)?;
                Some((layer.name.clone(), UnitCounts::of_rows(values, layer.activation)))
            })
            .collect();
        findings.extend(dead_and_saturated(plan, &units, rows, &format!("at epoch {epoch}")));
    }
    findings
}

/// A finite loss that ended well above its best: the learning rate overshoots.
fn diverging(plan: &JobPlan, curve: &[(u64, f32)]) -> Option<Finding> {
    let (best_at, &(best_epoch, best)) = curve.iter().enumerate().min_by(|a, b| a.1.1.total_cmp(&b.1.1))?;
    let &(last_epoch, last) = curve.last()?;
    if curve.len() < 3 || best_at + 1 >= curve.len() || !(last > 2.0 * best && last > best + 1e-6) {
        return None;
    }
    let rises = curve.windows(2).skip(best_at).filter(|w| w[1].1 > w[0].1).count();
    let heard = curve.len() - 1 - best_at;
    // A live curve holds the epochs that were reported, not necessarily all of them.
    let after = if heard as u64 == last_epoch - best_epoch {
        format!("the loss rose in {rises} of the {heard} epochs after its best")
    } else {
        format!("the loss rose at {rises} of the {heard} epochs reported after its best")
    };
    let lr = plan.job.train.learning_rate;
    let mut hint = format!("lower the learning rate (try lr = {})", crate::expr::number(lr / 4.0));
    let largest = plan.data.train.inputs.iter().fold(0.0f32, |m, x| m.max(x.abs()));
    if largest > 10.0 {
        hint.push_str(&format!("; the inputs reach {largest}: add `normalize standard` to the data"));
    }
    Some(Finding {
        kind: "diverging",
        message: format!(
            "the loss grew: its best was {} at epoch {}, it ended at {}",
            crate::expr::number(best),
            best_epoch,
            crate::expr::number(last)
        ),
        evidence: vec![after],
        hint,
    })
}

/// A metric loss whose embeddings all lie at one point (the loss then sits at the
/// margin: every distance is 0, and max(0, 0 − 0 + α) = α). The spread is the mean
/// distance of the training rows' embeddings from their mean, against their mean length.
fn collapsed_embedding(plan: &JobPlan, report: &JobReport) -> Option<Finding> {
    let metric = plan.job.train.loss.metric()?;
    let train = report.splits.iter().find(|s| s.name == "train")?;
    let rows = &train.predictions;
    let width = rows.width.max(1);
    let n = rows.len().max(1) as f64;
    let mean: Vec<f64> = (0..width).map(|j| rows.iter().map(|r| f64::from(r[j])).sum::<f64>() / n).collect();
    let spread = rows
        .iter()
        .map(|r| r.iter().zip(&mean).map(|(&v, m)| (f64::from(v) - m).powi(2)).sum::<f64>().sqrt())
        .sum::<f64>()
        / n;
    let length = rows.iter().map(|r| r.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>().sqrt()).sum::<f64>() / n;
    if spread > 1e-3 * length.max(1e-12) && spread > 1e-6 {
        return None;
    }
    Some(Finding {
        kind: "collapsed_embedding",
        message: "the embeddings have collapsed: every training row is embedded at (almost) the same point".to_string(),
        evidence: vec![
            format!("mean distance from the mean embedding {} (mean length {})", crate::expr::number(spread as f32), crate::expr::number(length as f32)),
            format!("final loss {} against the margin {}", report.epoch_losses.last().map_or("-".to_string(), |&l| crate::expr::number(l)), crate::expr::number(metric.margin)),
        ],
        hint: "a smaller learning rate, `sampler classes` so every batch has positives and negatives, or more epochs (training can leave the collapse late)".to_string(),
    })
}

/// MSE stuck at the variance of the targets: the network predicts their mean (XOR's 0.25).
fn mean_plateau(plan: &JobPlan, curve: &[(u64, f32)]) -> Option<Finding> {
    if plan.job.train.loss != Loss::Mse || curve.len() < 3 || curve.last()?.0 < 10 {
        return None;
    }
    let data = &plan.data.train;
    let width = data.n_targets().max(1);
    let mut variance = 0.0f64;
    for column in 0..width {
        let values: Vec<f64> = data.targets.iter().skip(column).step_by(width).map(|&v| f64::from(v)).collect();
        let mean = values.iter().sum::<f64>() / values.len().max(1) as f64;
        variance += values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / values.len().max(1) as f64;
    }
    let variance = variance / width as f64;
    let last = f64::from(curve.last()?.1);
    let (half_epoch, half) = curve[curve.len() / 2];
    let half = f64::from(half);
    let flat = (half - last).abs() <= 0.01 * last.max(1e-12);
    if variance <= 1e-12 || (last - variance).abs() > 0.02 * variance || !flat {
        return None;
    }
    Some(Finding {
        kind: "mean_plateau",
        message: format!(
            "the loss is stuck at {}, the variance of the targets: the network predicts about their mean",
            crate::expr::number(last as f32)
        ),
        evidence: vec![
            format!(
                "loss {} at epoch {}, {} at the end",
                crate::expr::number(half as f32),
                half_epoch,
                crate::expr::number(last as f32)
            ),
            format!("variance of the training targets {}", crate::expr::number(variance as f32)),
        ],
        hint: "(the plateau XOR networks fall into) another seed, more hidden units, or a larger learning rate"
            .to_string(),
    })
}

/// "806 rows", or "65536 rows examined (the first of 800000)" when the report kept a sample.
fn examined(kept: usize, rows: usize) -> String {
    if kept < rows { format!("{kept} rows examined (the first of {rows})") } else { format!("{rows} rows") }
}

/// Hidden ReLU units that are 0 on every training row; sigmoid or tanh units pinned at
/// their limits on nearly every row.
/// `units`: each layer's counts over the training rows (all `train_rows` of them, or the
/// first), at the parameters `when` says.
fn dead_and_saturated(plan: &JobPlan, units: &[(String, UnitCounts)], train_rows: usize, when: &str) -> Vec<Finding> {
    let mut findings = Vec::new();
    for layer in &plan.job.model.layers {
        let Some((_, counts)) = units.iter().find(|(name, _)| name == &layer.name) else { continue };
        let width = counts.alive.len();
        // A convolution's unit is a filter (a channel): it is dead when it is 0 at every
        // position of every row. Channels are the last axis, so channel c is every
        // `channels`-th column from c.
        let channels = layer.output.channels().clamp(1, width.max(1));
        let units_word = if layer.output.dims().len() > 1 { "filters" } else { "units" };
        let alive = |c: usize| (c..width).step_by(channels).any(|column| counts.alive[column]);
        match layer.activation {
            Activation::Relu => {
                let dead: Vec<usize> = (0..channels.min(width)).filter(|&c| !alive(c)).collect();
                if !dead.is_empty() {
                    let every =
                        if counts.rows < train_rows { "every training row examined" } else { "every training row" };
                    findings.push(Finding {
                        kind: "dead_relu",
                        message: format!(
                            "{} of the {} ReLU {units_word} of `{}` output 0 on {every}: {}",
                            dead.len(),
                            channels.min(width),
                            layer.name,
                            if dead.len() == 1 { "it no longer learns" } else { "they no longer learn" }
                        ),
                        evidence: vec![format!(
                            "dead: {} (0 on all {} {when})",
                            numbered(units_word, &dead),
                            examined(counts.rows, train_rows)
                        )],
                        hint: "another seed, more units, a smaller learning rate, or `leaky_relu`".to_string(),
                    });
                }
            }
            Activation::Sigmoid | Activation::Tanh => {
                let saturated: Vec<usize> =
                    (0..width).filter(|&u| counts.pinned[u] as f64 >= 0.95 * counts.rows as f64).collect();
                if !saturated.is_empty() && layer.name != plan.job.model.layers.last().map_or("", |l| l.name.as_str()) {
                    findings.push(Finding {
                        kind: "saturated",
                        message: format!(
                            "{} of the {width} {} units of `{}` sit at their limits on at least 95% of the training rows, where their gradient is nearly 0",
                            saturated.len(),
                            layer.activation.name(),
                            layer.name
                        ),
                        evidence: vec![format!("saturated: {}", numbered("units", &saturated))],
                        hint: "normalise the inputs (`normalize standard`), or use smaller initial weights or a smaller learning rate".to_string(),
                    });
                }
            }
            _ => {}
        }
    }
    findings
}

/// Which units (or filters) a finding names, counted from 0: `unit 90`, `units 0, 1`. A
/// bare list after the plural read as a count: "dead units: 90" named the one unit 90.
fn numbered(plural: &str, indices: &[usize]) -> String {
    let word = if indices.len() == 1 { plural.strip_suffix('s').unwrap_or(plural) } else { plural };
    let list: Vec<String> = indices.iter().map(usize::to_string).collect();
    format!("{word} {}", list.join(", "))
}

/// Per-layer gradient sizes, on the first batch, at the initial parameters and at the
/// end: a first layer whose gradient is a hundred times smaller than the last's learns a
/// hundred times slower (vanishing); a gradient for which one step of the learning rate
/// would move the weights by more than their own size is exploding.
fn gradient_flow(plan: &JobPlan, report: &JobReport) -> Vec<Finding> {
    let model = &plan.job.model;
    if model.layers.len() < 3 {
        return Vec::new();
    }
    // Two sets of weights kept, and for each a copy, its gradients and a step's scratch.
    let forward: u64 = report.parameters.iter().map(|(_, _, values)| values.len() as u64 * 4).sum();
    let scratch = plan.program(&nnc_runtime::Role::Step).map_or(0, |p| p.arena_len as u64 * 4);
    let bytes = 4 * forward + scratch;
    if !nnc_driver::memory::fits(bytes, plan.memory_limit) {
        return vec![Finding {
            kind: "not_checked",
            message: "the gradient sizes were not checked: computing them would not fit in memory".to_string(),
            evidence: vec![format!(
                "they need {}, more than {}",
                nnc_driver::limits::size(bytes),
                nnc_driver::limits::budget(plan.memory_limit).describe()
            )],
            hint: "raise the memory limit to include this check".to_string(),
        }];
    }
    let initial = plan.start_params(plan.job.train.seed);
    let trained: Vec<Vec<f32>> = report.parameters.iter().map(|(_, _, values)| values.clone()).collect();
    // One compile of the gradient program, run at both points.
    let Some(norms) = compiled_gradient_norms(plan, &[&initial, &trained]) else { return Vec::new() };
    let rms = |v: &[f32]| (v.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>() / v.len().max(1) as f64).sqrt();
    let weights_of = |norms: Vec<(String, f64)>, params: &[Vec<f32>]| -> Vec<(String, f64, f64)> {
        norms
            .into_iter()
            .zip(params)
            .filter(|((name, _), _)| name.ends_with(".w"))
            .map(|((name, gradient), values)| (param_name(model, &name), gradient, rms(values)))
            .collect()
    };
    let lr = f64::from(plan.job.train.learning_rate);
    for ((when, params), norms) in [("at the start", &initial), ("after training", &trained)].into_iter().zip(norms) {
        let weights = weights_of(norms, params);
        let (Some(first), Some(last)) = (weights.first(), weights.last()) else { continue };
        let evidence = vec![format!(
            "RMS gradient per weight matrix {when}: {}",
            weights.iter().map(|(n, g, _)| format!("{n} {g:.2e}")).collect::<Vec<_>>().join(", ")
        )];
        if let Some((name, gradient, size)) = weights.iter().find(|(_, g, w)| !g.is_finite() || lr * g > w.max(1e-3)) {
            return vec![Finding {
                kind: "exploding_gradients",
                message: format!(
                    "the gradient of {name} is so large {when} that one step moves its weights by more than their size (η·|g| = {:.2e}, |{name}| = {size:.2e})",
                    lr * gradient
                ),
                evidence,
                hint: "lower the learning rate, normalise the inputs, use smaller initial weights or fewer layers"
                    .to_string(),
            }];
        }
        if last.1 > 0.0 && first.1 / last.1 < 1e-2 {
            return vec![Finding {
                kind: "vanishing_gradients",
                message: format!(
                    "{when}, the gradient of {} is {:.0e} times that of {}: the first layers barely learn",
                    first.0,
                    first.1 / last.1,
                    last.0
                ),
                evidence,
                hint: "use relu in the hidden layers, fewer layers, or normalised inputs".to_string(),
            }];
        }
    }
    Vec::new()
}

/// The findings as text, after the run's report.
pub fn render(findings: &[Finding]) -> String {
    if findings.is_empty() {
        return String::new();
    }
    let mut out = String::from("diagnosis:\n");
    for finding in findings {
        out.push_str(&format!("  - {}\n", finding.message));
        for line in &finding.evidence {
            out.push_str(&format!("      {line}\n"));
        }
        out.push_str(&format!("      what to do: {}\n", finding.hint));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::numbered;

    #[test]
    fn one_index_reads_as_one_unit_not_as_a_count() {
        assert_eq!(numbered("units", &[90]), "unit 90");
        assert_eq!(numbered("units", &[0, 1]), "units 0, 1");
        assert_eq!(numbered("filters", &[3]), "filter 3");
    }
}
