//! `nnc trace`: one training step with real numbers, matrix by matrix.
//!
//! The steps before the traced one run as training runs them (the compiled step, the
//! same batches and learning rates); the traced step is evaluated by the reference
//! interpreter over the same graph `explain` prints, so every intermediate matrix is
//! available: the forward pass sub-step by sub-step (`X·W1`, `+ b1`, the activation), the
//! loss, every gradient, and each parameter before and after its update.

use crate::explain::{Derived, Part, derive_job, derive_minimization};
use crate::expr::{Builder, Style, per_row, print};
use nnc_driver::{Functions, JobPlan, MinimizePlan};
use nnc_ir::{Graph, Op, OpClass, ValueId};
use nnc_runtime::{DataView, Role};
use std::collections::HashSet;

/// What to trace.
#[derive(Clone, Debug, Default)]
pub struct TraceOptions {
    /// 1-based; the first step by default.
    pub step: Option<u64>,
    /// Which rows of the step's batch to print (0-based positions in the batch); the
    /// first eight by default. Gradients always cover the whole batch.
    pub rows: Option<Vec<usize>>,
}

/// One matrix of the step.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Entry {
    pub part: Part,
    /// The course name of the value, when it has one (`z1`, `δ2`, `W1`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// How it is computed (`X·W1 + b1`).
    pub expr: String,
    pub shape: Vec<usize>,
    /// Row-major; for values with one row per batch row, only the rows shown.
    pub values: Vec<f32>,
    /// For updates: the parameter before the step.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<Vec<f32>>,
    /// Whether its first axis is the batch (so only the rows shown are kept).
    pub per_row: bool,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct Trace {
    pub model: String,
    pub step: u64,
    pub epoch: u64,
    pub learning_rate: f32,
    /// The data rows (in the training split) of the step's batch, in order.
    pub batch_rows: Vec<u32>,
    /// The positions in the batch that are printed.
    pub shown: Vec<usize>,
    pub entries: Vec<Entry>,
}

/// The last step that can be traced: reaching it replays every earlier step, whose rows
/// the schedule holds (a million steps of a batch of 32 are about 200 MB).
pub const MAX_STEP: u64 = 1_000_000;

/// Traces step `options.step` of `plan`; `Err` says why that step cannot be traced.
pub fn trace_job(plan: &JobPlan, options: &TraceOptions) -> Result<Trace, String> {
    let step = options.step.unwrap_or(1).max(1);
    let per_epoch = plan.shape.steps() as u64;
    let total = plan.job.train.epochs.saturating_mul(per_epoch);
    // Step 1 always exists: it is what the starting parameters give (with `epochs 0`
    // too, where it shows the written weights at work).
    if step > total.max(1) {
        let steps = if per_epoch == 1 { "1 step".to_string() } else { format!("{per_epoch} steps") };
        return Err(format!(
            "step {step} is past the run's last step, {total} ({} epochs of {steps})",
            plan.job.train.epochs
        ));
    }
    if step > MAX_STEP {
        return Err(format!(
            "steps up to {MAX_STEP} can be traced (every step before it is replayed, its batch kept in memory)"
        ));
    }
    let schedule = nnc_driver::schedule(plan, step);
    let Some(traced) = schedule.last().filter(|_| schedule.len() as u64 == step) else {
        return Err(format!("the training split has no rows for step {step}"));
    };
    let data = &plan.data.train;
    let mut params = plan.start_params(plan.job.train.seed);
    if step > 1 {
        let compiled =
            nnc_driver::compile_job(plan, Functions::All, nnc_codegen::Options::default()).map_err(|d| d.message)?;
        let sizes: Vec<usize> =
            compiled.kernel(&Role::Step.name()).map(|k| k.param_sizes().to_vec()).unwrap_or_default();
        for &len in sizes.iter().skip(params.len()) {
            params.push(vec![0.0; len]);
        }
        for earlier in &schedule[..schedule.len() - 1] {
            let (x, y) = gather(data, &earlier.rows);
            let role = if earlier.rows.len() == plan.batch { Role::Step } else { Role::TailStep };
            let view = DataView { inputs: &x, targets: &y, rows: earlier.rows.len() };
            nnc_runtime::step_once(&compiled, &role, view, (earlier.lr, earlier.seed), &mut params);
        }
    }
    let derived = derive_job(plan, traced.rows.len());
    for decl in derived.graph.params.iter().skip(params.len()) {
        params.push(vec![0.0; decl.shape.numel()]);
    }
    let (x, y) = gather(data, &traced.rows);
    let (lr, seed) = ([traced.lr], [traced.seed]);
    let refs: Vec<&[f32]> = params.iter().map(Vec::as_slice).collect();
    let inputs: Vec<&[f32]> = derived
        .graph
        .inputs
        .iter()
        .map(|d| match d.name.as_str() {
            "x" => &x[..],
            "y" => &y[..],
            "seed" => &seed[..],
            _ => &lr[..],
        })
        .collect();
    let values = nnc_ir::evaluate(&derived.graph, &inputs, &refs);
    let shown: Vec<usize> = match &options.rows {
        Some(rows) => rows.iter().copied().filter(|&r| r < traced.rows.len()).collect(),
        None => (0..traced.rows.len().min(8)).collect(),
    };
    let entries = Entries {
        derived: &derived,
        values: &values,
        shown: &shown,
        width: plan.job.model.output_width().unwrap_or(1),
    }
    .collect(&params);
    Ok(Trace {
        model: plan.job.model.name.clone(),
        step,
        epoch: traced.epoch,
        learning_rate: traced.lr,
        batch_rows: traced.rows.clone(),
        shown,
        entries,
    })
}

/// Step `options.step` of gradient descent on a formula: the variables, f, its gradient
/// and the update, by the reference interpreter.
pub fn trace_minimization(plan: &MinimizePlan, options: &TraceOptions) -> Result<Trace, String> {
    let step = options.step.unwrap_or(1).max(1);
    let last = plan.minimization.steps.max(1);
    if step > last {
        return Err(format!("step {step} is past the descent's last step, {last}"));
    }
    let derived = derive_minimization(plan);
    let lr = [plan.minimization.learning_rate];
    let mut params: Vec<Vec<f32>> = plan.minimization.params.iter().map(|(_, start)| vec![*start]).collect();
    let evaluate = |params: &[Vec<f32>]| {
        let refs: Vec<&[f32]> = params.iter().map(Vec::as_slice).collect();
        nnc_ir::evaluate(&derived.graph, &[&lr], &refs)
    };
    for _ in 1..step {
        let values = evaluate(&params);
        for &(slot, v) in &derived.graph.updates {
            params[slot as usize] = values[v.index()].clone();
        }
    }
    let values = evaluate(&params);
    let entries = Entries { derived: &derived, values: &values, shown: &[], width: 1 }.collect(&params);
    Ok(Trace {
        model: plan.minimization.name.clone(),
        step,
        epoch: step - 1,
        learning_rate: plan.minimization.learning_rate,
        batch_rows: Vec::new(),
        shown: Vec::new(),
        entries,
    })
}

/// The batch's inputs and targets, row-major.
fn gather(data: &nnc_data::Dataset, rows: &[u32]) -> (Vec<f32>, Vec<f32>) {
    let mut x = Vec::with_capacity(rows.len() * data.n_inputs());
    let mut y = Vec::with_capacity(rows.len() * data.n_targets());
    for &row in rows {
        x.extend_from_slice(data.input_row(row as usize));
        y.extend_from_slice(&data.targets[row as usize * data.n_targets()..(row as usize + 1) * data.n_targets()]);
    }
    (x, y)
}

struct Entries<'a> {
    derived: &'a Derived,
    values: &'a [Vec<f32>],
    shown: &'a [usize],
    width: usize,
}

impl Entries<'_> {
    fn collect(&self, params: &[Vec<f32>]) -> Vec<Entry> {
        let graph = &self.derived.graph;
        let builder = Builder { graph, names: self.derived.names.clone(), rows: self.derived.rows };
        let text = |v: ValueId| print(&per_row(builder.define(v), self.derived.rows, &[self.width]), Style::Text);
        let mut entries = Vec::new();
        // The inputs and the parameters the step starts from.
        for v in graph.values() {
            let inst = graph.inst(v);
            let named = self.derived.names.get(&v);
            let shown_leaf = match inst.op {
                Op::Input(slot) => graph.inputs[slot as usize].name != "lr",
                Op::Param(slot) => {
                    (slot as usize) < params.len()
                        && !graph.params[slot as usize].name.contains(".w.")
                        && !graph.params[slot as usize].name.contains(".b.")
                }
                _ => false,
            };
            if shown_leaf {
                entries.push(self.entry(Part::Forward, v, named.cloned(), named.cloned().unwrap_or_default(), None));
            }
        }
        let mut done: HashSet<ValueId> = HashSet::new();
        for (part, v, names) in &self.derived.equations {
            if *part == Part::Update {
                let slot = graph.updates.iter().find(|(_, u)| u == v).map(|(s, _)| *s as usize);
                let before = slot.map(|s| params[s].clone());
                entries.push(self.entry(Part::Update, *v, Some(names[0].clone()), text(*v), before));
                continue;
            }
            for step in self.steps_toward(*v, &done) {
                done.insert(step);
                entries.push(self.entry(*part, step, None, text(step), None));
            }
            done.insert(*v);
            let label = format!("{} = {}", names.join(" = "), text(*v));
            entries.push(self.entry(*part, *v, Some(names[0].clone()), label, None));
        }
        entries
    }

    /// The unnamed intermediate matrices (one row per batch row) that `value` is computed
    /// from, in graph order: `X·W1` before `z1 = X·W1 + b1`.
    fn steps_toward(&self, value: ValueId, done: &HashSet<ValueId>) -> Vec<ValueId> {
        let graph = &self.derived.graph;
        let mut seen = HashSet::new();
        let mut stack: Vec<ValueId> = graph.inst(value).args.clone();
        while let Some(v) = stack.pop() {
            if done.contains(&v) || self.derived.names.contains_key(&v) || !seen.insert(v) {
                continue;
            }
            stack.extend(graph.inst(v).args.iter().copied());
        }
        let mut steps: Vec<ValueId> = seen.into_iter().filter(|&v| self.visible(graph, v)).collect();
        steps.sort();
        steps
    }

    /// Intermediate values worth a matrix: computed (not moved or constant), and with one
    /// row per batch row.
    fn visible(&self, graph: &Graph, value: ValueId) -> bool {
        let inst = graph.inst(value);
        let computed = !matches!(inst.op.class(), OpClass::Leaf | OpClass::Movement);
        computed && inst.shape.dims().first() == Some(&self.derived.rows) && inst.shape.rank() == 2
    }

    fn entry(&self, part: Part, v: ValueId, name: Option<String>, expr: String, before: Option<Vec<f32>>) -> Entry {
        let shape = self.derived.graph.shape(v).dims().to_vec();
        let per_row = shape.first() == Some(&self.derived.rows) && shape.len() >= 2 && self.derived.rows > 0;
        let all = &self.values[v.index()];
        let values = if per_row {
            let width: usize = shape[1..].iter().product();
            self.shown.iter().flat_map(|&r| all[r * width..(r + 1) * width].iter().copied()).collect()
        } else {
            all.clone()
        };
        Entry { part, name, expr, shape, values, before, per_row }
    }
}

/// The trace as text: each matrix under its expression.
pub fn render(trace: &Trace) -> String {
    let mut out = if trace.batch_rows.is_empty() {
        format!(
            "step {} of gradient descent on `{}`, learning rate {}\n",
            trace.step,
            trace.model,
            crate::expr::number(trace.learning_rate)
        )
    } else {
        format!(
            "step {} of `{}` (epoch {}), learning rate {}, batch of {} rows: {}\n",
            trace.step,
            trace.model,
            trace.epoch + 1,
            crate::expr::number(trace.learning_rate),
            trace.batch_rows.len(),
            row_list(&trace.batch_rows)
        )
    };
    if trace.shown.len() < trace.batch_rows.len() {
        out.push_str(&format!(
            "showing rows {} of the batch; gradients sum over all of it\n",
            row_list(&trace.shown.iter().map(|&r| r as u32).collect::<Vec<_>>())
        ));
    }
    let mut part = None;
    for entry in &trace.entries {
        if part != Some(entry.part) {
            part = Some(entry.part);
            out.push_str(match entry.part {
                Part::Forward => "\nforward\n",
                Part::Backward => "\nbackward\n",
                Part::Update => "\nupdate\n",
            });
        }
        let shape = entry.shape.iter().map(usize::to_string).collect::<Vec<_>>().join("×");
        if entry.shape.len() >= 3 {
            out.push_str(&panels_text(entry, trace.shown.len(), &shape));
            continue;
        }
        let rows = if entry.per_row { trace.shown.len() } else { entry.shape.first().copied().unwrap_or(1) };
        let columns = if entry.shape.len() == 2 { entry.shape[1] } else { entry.shape.first().copied().unwrap_or(1) };
        let rows = if entry.shape.len() == 2 { rows } else { 1 };
        match &entry.before {
            Some(before) => {
                out.push_str(&format!("  {} ← {}  [{shape}]\n", entry.name.clone().unwrap_or_default(), entry.expr));
                out.push_str(&side_by_side(&matrix(before, rows, columns), &matrix(&entry.values, rows, columns)));
            }
            None => {
                out.push_str(&format!("  {}  [{shape}]\n", entry.expr));
                for line in matrix(&entry.values, rows, columns) {
                    out.push_str(&format!("    {line}\n"));
                }
            }
        }
    }
    out
}

/// An image-shaped value as small matrices: feature maps `[rows, h, w, c]` one per shown
/// row and channel (h × w), a series `[rows, steps, c]` one per row (steps × channels), a
/// filter bank `[kh, kw, c, f]` one per filter and input channel (kh × kw); an update
/// shows each before and after. At most two rows, four channels or filters and two input
/// channels are shown.
fn panels_text(entry: &Entry, shown_rows: usize, shape: &str) -> String {
    let mut out = match &entry.before {
        Some(_) => format!("  {} ← {}  [{shape}]\n", entry.name.clone().unwrap_or_default(), entry.expr),
        None => format!("  {}  [{shape}]\n", entry.expr),
    };
    let dims = &entry.shape;
    let rows = if entry.per_row { shown_rows } else { dims[0] };
    for (title, at, height, width) in panels(dims, entry.per_row, rows) {
        let pick = |values: &[f32]| -> Vec<f32> {
            (0..height * width).map(|k| values.get(at(k / width, k % width)).copied().unwrap_or(f32::NAN)).collect()
        };
        out.push_str(&format!("    {title}\n"));
        let after = matrix(&pick(&entry.values), height, width);
        match &entry.before {
            Some(before) => {
                for line in side_by_side(&matrix(&pick(before), height, width), &after).lines() {
                    out.push_str(&format!("  {line}\n"));
                }
            }
            None => after.iter().for_each(|line| out.push_str(&format!("      {line}\n"))),
        }
    }
    out
}

type Index = Box<dyn Fn(usize, usize) -> usize>;

/// `(title, element at (i, j), height, width)` of each matrix shown of a value of `dims`.
fn panels(dims: &[usize], per_row: bool, rows: usize) -> Vec<(String, Index, usize, usize)> {
    let mut out: Vec<(String, Index, usize, usize)> = Vec::new();
    match (dims.len(), per_row) {
        (4, true) => {
            let [_, h, w, c] = dims[..] else { return out };
            for r in 0..rows.min(2) {
                for ch in 0..c.min(4) {
                    let at: Index = Box::new(move |i, j| ((r * h + i) * w + j) * c + ch);
                    out.push((format!("row {r}, channel {ch}:{}", more(ch, c, 4)), at, h, w));
                }
            }
        }
        (3, true) => {
            let [_, len, c] = dims[..] else { return out };
            for r in 0..rows.min(2) {
                let at: Index = Box::new(move |i, j| (r * len + i) * c + j);
                out.push((format!("row {r} (steps × channels):"), at, len, c));
            }
        }
        (4, false) => {
            let [kh, kw, c, f] = dims[..] else { return out };
            for filter in 0..f.min(4) {
                for ch in 0..c.min(2) {
                    let at: Index = Box::new(move |i, j| ((i * kw + j) * c + ch) * f + filter);
                    let title = format!("filter {filter}, input channel {ch}:{}", more(filter, f, 4));
                    out.push((title, at, kh, kw));
                }
            }
        }
        _ => {
            let total: usize = dims.iter().product();
            out.push(("(as a list)".to_string(), Box::new(move |_, j| j), 1, total));
        }
    }
    out
}

/// ` (of N)` on the last one shown when there are more than `limit`.
fn more(index: usize, count: usize, limit: usize) -> String {
    if count > limit && index + 1 == limit { format!(" (first {limit} of {count})") } else { String::new() }
}

fn row_list(rows: &[u32]) -> String {
    let listed: Vec<String> = rows.iter().take(12).map(u32::to_string).collect();
    if rows.len() > 12 { format!("{} …", listed.join(" ")) } else { listed.join(" ") }
}

/// Right-aligned columns, at most 8 of them and 12 rows.
fn matrix(values: &[f32], rows: usize, columns: usize) -> Vec<String> {
    let cells: Vec<Vec<String>> = (0..rows.min(12))
        .map(|r| {
            (0..columns.min(8)).map(|c| value_text(values.get(r * columns + c).copied().unwrap_or(f32::NAN))).collect()
        })
        .collect();
    let width = cells.iter().flatten().map(|c| c.chars().count()).max().unwrap_or(1);
    let mut lines: Vec<String> = cells
        .iter()
        .map(|row| {
            let mut line = row.iter().map(|c| format!("{c:>width$}")).collect::<Vec<_>>().join("  ");
            if columns > 8 {
                line.push_str("  …");
            }
            line
        })
        .collect();
    if rows > 12 {
        lines.push("…".to_string());
    }
    lines
}

fn side_by_side(before: &[String], after: &[String]) -> String {
    let width = before.iter().map(|l| l.chars().count()).max().unwrap_or(0);
    let mut out = String::new();
    for (index, (b, a)) in before.iter().zip(after).enumerate() {
        let arrow = if index == 0 { "→" } else { " " };
        out.push_str(&format!("    {b:<width$}  {arrow}  {a}\n"));
    }
    out
}

/// A number as a person reads it: integers plainly, others to four decimals.
fn value_text(x: f32) -> String {
    if x == x.trunc() && x.abs() < 1e7 {
        return format!("{}", x as i64);
    }
    if x.abs() >= 1e5 || (x != 0.0 && x.abs() < 1e-3) {
        return format!("{x:.3e}");
    }
    let text = format!("{x:.4}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}
