//! The figures `nnc plot` draws, as data ([`nnc_plot::Plot`]): built from a run's report,
//! its training history and the model itself (evaluated by the reference interpreter on
//! grids of inputs), so they fit any program.

use crate::names::{is_scalar_model, param_name};
use nnc_check::{Activation, Loss, Model};
use nnc_data::Rows;
use nnc_driver::{JobPlan, JobReport, MinimizePlan};
use nnc_lower::lower_forward;
use nnc_plot::{Axis, Layer, Plot, Shade};
use nnc_runtime::Point;

/// One figure and the file name it is written under (without extension).
#[derive(Clone, Debug)]
pub struct Figure {
    pub name: String,
    pub plot: Plot,
}

/// Cells per side of the decision-boundary and loss-surface grids.
const GRID: usize = 64;

/// Every figure that applies to a trained block; `history` holds the forward parameters
/// before training and after each epoch (for the path on the loss surface).
pub fn job_figures(plan: &JobPlan, report: &JobReport, history: &[Vec<Vec<f32>>]) -> Vec<Figure> {
    let name = &plan.job.model.name;
    let mut figures = vec![Figure { name: format!("{name}-loss"), plot: loss_curves(report) }];
    let params: Vec<Vec<f32>> = report.parameters.iter().map(|(_, _, v)| v.clone()).collect();
    if let Some(plot) = decision_boundary(plan, report, &params) {
        figures.push(Figure { name: format!("{name}-decision"), plot });
    }
    if let Some(plot) = crate::network::network(plan, &params) {
        figures.push(Figure { name: format!("{name}-network"), plot });
    }
    if let Some(plot) = hidden_space(plan, report) {
        figures.push(Figure { name: format!("{name}-hidden"), plot });
    }
    if let Some(plot) = loss_surface(plan, history) {
        figures.push(Figure { name: format!("{name}-surface"), plot });
    }
    // A metric loss's outputs are an embedding, not predictions of the targets.
    if let Some(plot) = predictions(report).filter(|_| plan.job.train.loss.metric().is_none()) {
        figures.push(Figure { name: format!("{name}-predictions"), plot });
    }
    if let Some(plot) = crate::filters::filter_mosaic(plan, &params) {
        figures.push(Figure { name: format!("{name}-filters"), plot });
    }
    if let Some(plot) = crate::filters::feature_maps(plan, &params) {
        figures.push(Figure { name: format!("{name}-feature-maps"), plot });
    }
    figures
}

/// Training (and validation) loss per epoch; logarithmic when it spans two decades.
pub fn loss_curves(report: &JobReport) -> Plot {
    let curve = |losses: &[f32]| -> Vec<(f64, f64)> {
        losses.iter().enumerate().map(|(e, &l)| ((e + 1) as f64, f64::from(l))).collect()
    };
    let train = curve(&report.epoch_losses);
    let val = curve(&report.val_losses);
    let all: Vec<f64> = train.iter().chain(&val).map(|p| p.1).collect();
    let (low, high) = all.iter().fold((f64::INFINITY, 0.0f64), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    let log = low > 0.0 && high / low > 100.0;
    let mut y = Axis::fit(format!("{} loss", report.loss), all.iter().copied());
    if log {
        y = Axis { min: low / 1.5, max: high * 1.5, log: true, ..y };
    }
    let mut layers = vec![Layer::Line { label: Some("train".into()), points: train.clone(), color: 0, dashed: false }];
    if !val.is_empty() {
        layers.push(Layer::Line { label: Some("validation".into()), points: val, color: 1, dashed: false });
    }
    Plot {
        title: format!("loss of {} on {}", report.model, report.data),
        x: Axis::fit("epoch", train.iter().map(|p| p.0).chain([1.0])),
        y,
        layers,
    }
}

/// The model's forward outputs by name on `rows` rows of inputs `x`, by the interpreter.
pub(crate) fn forward(
    model: &Model,
    loss: Loss,
    x: &[f32],
    rows: usize,
    params: &[Vec<f32>],
) -> Vec<(String, Vec<f32>)> {
    let lowered = lower_forward(model, loss, None, rows, nnc_lower::Mode::Eval);
    let y = vec![0.0f32; rows * loss.target_width(model.output_width().unwrap_or(0))];
    let params: Vec<&[f32]> = params.iter().map(Vec::as_slice).collect();
    let values = nnc_ir::evaluate(&lowered.graph, &[x, &y], &params);
    lowered.graph.outputs.iter().map(|(name, v)| (name.clone(), values[v.index()].clone())).collect()
}

/// The training rows a decision-boundary figure shows, and its names.
struct Shown<'a> {
    inputs: &'a Rows,
    targets: &'a Rows,
    input_names: &'a [String],
    classes: &'a [String],
    title: String,
}

fn decision_boundary(plan: &JobPlan, report: &JobReport, params: &[Vec<f32>]) -> Option<Plot> {
    let train = report.splits.iter().find(|s| s.name == "train")?;
    let shown = Shown {
        inputs: &train.inputs,
        targets: &train.targets,
        input_names: &report.input_names,
        classes: &report.classes,
        title: format!("{} on {}: prediction over the inputs", report.model, report.data),
    };
    decision_plot(plan, &shown, params)
}

/// The decision-boundary figure of `plan`'s model at `params` while it trains (`nnc
/// serve`): the same figure as `nnc plot`'s, over the encoded training rows.
pub fn live_decision_boundary(plan: &JobPlan, params: &[Vec<f32>]) -> Option<Plot> {
    let train = &plan.data.train;
    let (inputs, targets) =
        (Rows::new(train.inputs.clone(), train.n_inputs()), Rows::new(train.targets.clone(), train.n_targets()));
    let classes = plan.data.task.class_names();
    let shown = Shown {
        inputs: &inputs,
        targets: &targets,
        input_names: &train.input_names,
        classes: &classes,
        title: format!("{} on {}: prediction over the inputs", plan.job.model.name, plan.job.data.name.name),
    };
    decision_plot(plan, &shown, params)
}

/// For two inputs and one output (or classes): the model's prediction over the input
/// plane, the training points, and each first-layer ReLU unit's line w·x + b = 0.
fn decision_plot(plan: &JobPlan, shown: &Shown, params: &[Vec<f32>]) -> Option<Plot> {
    let model = &plan.job.model;
    let train = shown;
    if model.input_width() != 2 || train.inputs.is_empty() {
        return None;
    }
    let classes = model.output_width()?;
    let xs: Vec<f64> = train.inputs.iter().map(|r| f64::from(r[0])).collect();
    let ys: Vec<f64> = train.inputs.iter().map(|r| f64::from(r[1])).collect();
    let widen = |axis: Axis| {
        let pad = 0.15 * (axis.max - axis.min);
        Axis { min: axis.min - pad, max: axis.max + pad, ..axis }
    };
    let names = shown.input_names;
    let x = widen(Axis::fit(names.first().cloned().unwrap_or_default(), xs.iter().copied()));
    let y = widen(Axis::fit(names.get(1).cloned().unwrap_or_default(), ys.iter().copied()));
    let centre = |i: usize, axis: &Axis| axis.min + (axis.max - axis.min) * (i as f64 + 0.5) / GRID as f64;
    let mut grid_inputs = Vec::with_capacity(GRID * GRID * 2);
    for r in 0..GRID {
        for c in 0..GRID {
            grid_inputs.extend([centre(c, &x) as f32, centre(r, &y) as f32]);
        }
    }
    let outputs = forward(model, plan.job.train.loss, &grid_inputs, GRID * GRID, params);
    let prediction = &outputs.iter().find(|(n, _)| n == "prediction")?.1;
    let grid: Vec<Vec<Shade>> = (0..GRID)
        .map(|r| {
            (0..GRID)
                .map(|c| {
                    let cell = &prediction[(r * GRID + c) * classes..(r * GRID + c + 1) * classes];
                    if classes == 1 {
                        Shade::Between(f64::from(cell[0]))
                    } else {
                        let (class, p) =
                            cell.iter().enumerate().fold((0, f32::MIN), |b, (i, &p)| if p > b.1 { (i, p) } else { b });
                        Shade::Class(class, f64::from(p))
                    }
                })
                .collect()
        })
        .collect();
    let mut layers = vec![Layer::Field { grid }];
    layers.extend(unit_lines(model, params, &x, &y));
    let label_of = |row: &[f32]| -> usize {
        if row.len() == 1 {
            usize::from(row[0] >= 0.5)
        } else {
            row.iter().enumerate().fold((0, f32::MIN), |b, (i, &v)| if v > b.1 { (i, v) } else { b }).0
        }
    };
    let groups = class_groups(train.inputs, train.targets, label_of);
    for (class, points) in groups {
        let label = shown.classes.get(class).cloned().unwrap_or_else(|| format!("y = {class}"));
        layers.push(Layer::Points { label: Some(label), points, color: class });
    }
    Some(Plot { title: shown.title.clone(), x, y, layers })
}

/// Training points grouped by label, in label order.
fn class_groups(inputs: &Rows, targets: &Rows, label_of: impl Fn(&[f32]) -> usize) -> Vec<(usize, Vec<(f64, f64)>)> {
    let mut groups: Vec<(usize, Vec<(f64, f64)>)> = Vec::new();
    for (input, target) in inputs.iter().zip(targets) {
        let label = label_of(target);
        let point = (f64::from(input[0]), f64::from(input[1]));
        match groups.iter_mut().find(|(l, _)| *l == label) {
            Some((_, points)) => points.push(point),
            None => groups.push((label, vec![point])),
        }
    }
    groups.sort_by_key(|(l, _)| *l);
    groups
}

/// Each first-layer ReLU unit's line w₁x₁ + w₂x₂ + b = 0 inside the plot.
fn unit_lines(model: &Model, params: &[Vec<f32>], x: &Axis, y: &Axis) -> Vec<Layer> {
    let first = model.layers.first().filter(|l| l.activation == Activation::Relu && model.layers.len() > 1);
    let Some(units) = first.and_then(|l| l.units()) else {
        return Vec::new();
    };
    let (w, b) = (&params[0], &params[1]);
    (0..units)
        .filter_map(|j| {
            let (w1, w2, bias) = (f64::from(w[j]), f64::from(w[units + j]), f64::from(b[j]));
            let points = clip_line(w1, w2, bias, x, y)?;
            Some(Layer::Line {
                label: (j == 0).then(|| "ReLU units: w·x + b = 0".to_string()),
                points,
                color: 7,
                dashed: true,
            })
        })
        .collect()
}

/// Where the line a·x + b·y + c = 0 crosses the plot's box.
fn clip_line(a: f64, b: f64, c: f64, x: &Axis, y: &Axis) -> Option<Vec<(f64, f64)>> {
    let mut points = Vec::new();
    if b.abs() > 1e-12 {
        for xv in [x.min, x.max] {
            let yv = -(a * xv + c) / b;
            if yv >= y.min && yv <= y.max {
                points.push((xv, yv));
            }
        }
    }
    if a.abs() > 1e-12 {
        for yv in [y.min, y.max] {
            let xv = -(b * yv + c) / a;
            if xv > x.min && xv < x.max {
                points.push((xv, yv));
            }
        }
    }
    points.dedup();
    (points.len() >= 2).then(|| points[..2].to_vec())
}

/// The training rows in a hidden layer: its two units directly (the course's "hidden
/// states h"), or the first two principal components of a wider layer.
fn hidden_space(plan: &JobPlan, report: &JobReport) -> Option<Plot> {
    let train = report.splits.iter().find(|s| s.name == "train")?;
    let labels = row_labels(plan, &report.classes, &train.targets);
    hidden_plot(plan, &train.hidden, &labels)
}

/// Training rows a live hidden-states figure shows, at most: the interpreter computes
/// them about four times a second beside training.
pub const LIVE_ROWS: usize = 512;

/// Work (multiply-adds and other element operations) the interpreter may spend on one
/// live hidden-states figure, a few milliseconds: a larger model shows fewer rows (a
/// dense 2-8-1 network all 512, `digits_cnn.nn` 46).
const LIVE_WORK: usize = 1 << 22;

/// The hidden layers' activations on the first [`LIVE_ROWS`] encoded training rows
/// (fewer for a larger model, see [`LIVE_WORK`]) at `params`, computed by the reference
/// interpreter while the model trains (`nnc serve`), with the number of rows.
pub fn live_hidden(plan: &JobPlan, params: &[Vec<f32>]) -> Option<(Vec<(String, Rows)>, usize)> {
    let model = &plan.job.model;
    let train = &plan.data.train;
    let loss = plan.job.train.loss;
    if model.layers.len() < 2 {
        return None;
    }
    let per_row = interpreter_work(&lower_forward(model, loss, None, 1, nnc_lower::Mode::Eval).graph);
    let rows = train.rows.min(LIVE_ROWS).min(LIVE_WORK / per_row.max(1));
    if rows < 2 {
        return None;
    }
    let inputs = &train.inputs[..rows * train.n_inputs()];
    let outputs = forward(model, loss, inputs, rows, params);
    let hidden = outputs
        .into_iter()
        .filter(|(name, values)| name != "prediction" && name != "loss" && !values.is_empty())
        .map(|(name, values)| (name, Rows::with_rows(values, rows)))
        .collect();
    Some((hidden, rows))
}

/// What evaluating `graph` costs the interpreter: each product's multiply-adds, and one
/// for every other element computed.
fn interpreter_work(graph: &nnc_ir::Graph) -> usize {
    let elements = |shape: &nnc_ir::Shape| shape.dims().iter().product::<usize>();
    graph
        .insts
        .iter()
        .map(|inst| match inst.op {
            nnc_ir::Op::MatMul => elements(&inst.shape) * graph.shape(inst.args[0]).dims().get(1).copied().unwrap_or(1),
            _ => elements(&inst.shape),
        })
        .sum()
}

/// The hidden-states figure of `plan`'s model while it trains (`nnc serve`): the same
/// figure as `nnc plot`'s, over the rows [`live_hidden`] computed.
pub fn live_hidden_space(plan: &JobPlan, hidden: &[(String, Rows)], rows: usize) -> Option<Plot> {
    let train = &plan.data.train;
    let targets = Rows::new(train.targets[..rows * train.n_targets()].to_vec(), train.n_targets());
    let mut labels = row_labels(plan, &plan.data.task.class_names(), &targets);
    labels.truncate(rows);
    hidden_plot(plan, hidden, &labels)
}

/// The hidden-states figure of the rows whose activations `hidden` holds, coloured by
/// `labels`.
fn hidden_plot(plan: &JobPlan, hidden: &[(String, Rows)], labels: &[String]) -> Option<Plot> {
    let layer = nnc_driver::pictured_layer(&plan.job.model)?;
    let rows = &hidden.iter().find(|(n, _)| n == &layer.name)?.1;
    let (points, (x_label, y_label)) = if layer.units() == Some(2) {
        let points: Vec<(f64, f64)> = rows.iter().map(|r| (f64::from(r[0]), f64::from(r[1]))).collect();
        (points, (format!("{} unit 0", layer.name), format!("{} unit 1", layer.name)))
    } else {
        (principal_plane(rows)?, ("first principal component".to_string(), "second principal component".to_string()))
    };
    let mut names: Vec<&String> = labels.iter().collect();
    names.sort_by(|a, b| match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) => x.total_cmp(&y),
        _ => a.cmp(b),
    });
    names.dedup();
    let layers = names
        .iter()
        .enumerate()
        .map(|(color, &name)| Layer::Points {
            label: (names.len() > 1).then(|| name.clone()),
            points: points.iter().zip(labels).filter(|(_, l)| *l == name).map(|(p, _)| *p).collect(),
            color,
        })
        .collect();
    Some(Plot {
        title: format!(
            "hidden states of `{}` ({}) on {}",
            layer.name,
            layer.activation.name(),
            shown_rows(plan, rows.len())
        ),
        x: Axis::fit(x_label, points.iter().map(|p| p.0)),
        y: Axis::fit(y_label, points.iter().map(|p| p.1)),
        layers,
    })
}

/// Which training rows a figure of `shown` rows shows: all of them, or the first (a report
/// keeps the activations of its first rows only, a live figure of fewer).
fn shown_rows(plan: &JobPlan, shown: usize) -> String {
    let rows = plan.data.train.rows;
    if shown < rows { format!("the first {shown} of {rows} training rows") } else { "the training rows".to_string() }
}

/// What to colour each training row by: its class, else a column of the file the model does
/// not use (an autoencoder's digit), else nothing (one colour).
fn row_labels(plan: &JobPlan, classes: &[String], targets: &Rows) -> Vec<String> {
    if !classes.is_empty() {
        return targets
            .iter()
            .map(|row| {
                let class = if row.len() == 1 {
                    usize::from(row[0] >= 0.5)
                } else {
                    row.iter().enumerate().fold((0, f32::MIN), |b, (i, &v)| if v > b.1 { (i, v) } else { b }).0
                };
                classes.get(class).cloned().unwrap_or_default()
            })
            .collect();
    }
    match &plan.data.train.annotation {
        Some((column, values)) => values.iter().map(|v| format!("{column} {v}")).collect(),
        None => vec![String::new(); targets.len()],
    }
}

/// Rows projected on their first two principal components.
fn principal_plane(rows: &Rows) -> Option<Vec<(f64, f64)>> {
    let width = rows.iter().next()?.len();
    Some(nnc_driver::cluster::project_2d(&rows.values, width))
}

/// For one weight and one bias (linear regression on one feature) trained with MSE: the
/// loss over (w, b) as contours, the least-squares optimum, and the path of `history`
/// (the parameters before training and after each epoch; `nnc serve` passes the epochs
/// it has heard so far).
pub fn loss_surface(plan: &JobPlan, history: &[Vec<Vec<f32>>]) -> Option<Plot> {
    let model = &plan.job.model;
    if !is_scalar_model(model) || plan.job.train.loss != Loss::Mse || history.is_empty() {
        return None;
    }
    let data = &plan.data.train;
    let (xs, ys): (Vec<f64>, Vec<f64>) =
        (0..data.rows).map(|r| (f64::from(data.inputs[r]), f64::from(data.targets[r]))).unzip();
    let mse = |w: f64, b: f64| xs.iter().zip(&ys).map(|(x, y)| (w * x + b - y).powi(2)).sum::<f64>() / xs.len() as f64;
    let n = xs.len() as f64;
    let (mx, my) = (xs.iter().sum::<f64>() / n, ys.iter().sum::<f64>() / n);
    let variance = xs.iter().map(|x| (x - mx).powi(2)).sum::<f64>();
    let best_w =
        if variance > 0.0 { xs.iter().zip(&ys).map(|(x, y)| (x - mx) * (y - my)).sum::<f64>() / variance } else { 0.0 };
    let best = (best_w, my - best_w * mx);
    let path: Vec<(f64, f64)> = history.iter().map(|p| (f64::from(p[0][0]), f64::from(p[1][0]))).collect();
    let widen = |axis: Axis| {
        let pad = 0.25 * (axis.max - axis.min).max(1e-3);
        Axis { min: axis.min - pad, max: axis.max + pad, ..axis }
    };
    let x = widen(Axis::fit("w", path.iter().map(|p| p.0).chain([best.0])));
    let y = widen(Axis::fit("b", path.iter().map(|p| p.1).chain([best.1])));
    let at = |i: usize, axis: &Axis| axis.min + (axis.max - axis.min) * i as f64 / (GRID - 1) as f64;
    let grid: Vec<Vec<f64>> = (0..GRID).map(|r| (0..GRID).map(|c| mse(at(c, &x), at(r, &y))).collect()).collect();
    let lowest = mse(best.0, best.1);
    let highest = grid.iter().flatten().fold(lowest, |m, &v| m.max(v));
    // Levels spaced evenly in log(loss − lowest): rings close to the optimum and far out.
    let levels: Vec<f64> = (1..=12).map(|k| lowest + (highest - lowest) * (0.6f64).powi(12 - k)).collect();
    let names = [
        param_name(model, &format!("{}.w", model.layers[0].name)),
        param_name(model, &format!("{}.b", model.layers[0].name)),
    ];
    // A marker per epoch up to 200 epochs, then every k-th (the line keeps every epoch).
    let every = path.len().div_ceil(200).max(1);
    let markers: Vec<(f64, f64)> = path.iter().step_by(every).copied().collect();
    let label = if every == 1 {
        "gradient descent, one point per epoch".to_string()
    } else {
        format!("gradient descent, a point every {every} epochs")
    };
    Some(Plot {
        title: format!("MSE({}, {}) on the training rows, and the path of training", names[0], names[1]),
        x: Axis { label: names[0].clone(), ..x },
        y: Axis { label: names[1].clone(), ..y },
        layers: vec![
            Layer::Contours { grid, levels, color: 0 },
            Layer::Line { label: Some(label), points: path, color: 3, dashed: false },
            Layer::Points { label: None, points: markers, color: 3 },
            Layer::Points { label: Some("least squares".into()), points: vec![best], color: 2 },
        ],
    })
}

/// Regression: each row's prediction against its target (test rows when there are).
fn predictions(report: &JobReport) -> Option<Plot> {
    if !report.classes.is_empty() || report.task != "regression" || report.target_names.len() != 1 {
        return None;
    }
    let split = report.splits.iter().find(|s| s.name == "test").or_else(|| report.splits.first())?;
    let points: Vec<(f64, f64)> = split
        .targets
        .iter()
        .zip(&split.predictions)
        .filter_map(|(t, p)| Some((f64::from(*t.first()?), f64::from(*p.first()?))))
        .collect();
    let target = report.target_names.first().cloned().unwrap_or_else(|| "target".into());
    Some(prediction_plot(&split.name, &target, points))
}

/// Regression while it trains (`nnc serve`): the validation rows' predictions at this
/// epoch, as the compiled evaluation gave them (in encoded units), against their targets.
pub fn live_predictions(plan: &JobPlan, predictions: &[f32]) -> Option<Plot> {
    let data = &plan.data;
    let validation = data.validation.as_ref()?;
    let single = validation.n_targets() == 1 && validation.targets.len() == predictions.len();
    if !matches!(data.task, nnc_data::Task::Regression) || !single || plan.job.train.loss.metric().is_some() {
        return None;
    }
    let &(offset, scale) = data.target_scale().first()?;
    let unscale = |v: f32| f64::from(v * scale + offset);
    let points = validation.targets.iter().zip(predictions).map(|(&t, &p)| (unscale(t), unscale(p))).collect();
    let target = validation.target_names.first().cloned().unwrap_or_else(|| "target".into());
    Some(prediction_plot("validation", &target, points))
}

/// Predicted against actual values of one target, with the diagonal of perfect ones.
fn prediction_plot(split: &str, target: &str, points: Vec<(f64, f64)>) -> Plot {
    let axis = Axis::fit("", points.iter().flat_map(|&(a, b)| [a, b]));
    let diagonal = vec![(axis.min, axis.min), (axis.max, axis.max)];
    Plot {
        title: format!("predicted against actual {target} ({split} rows)"),
        x: Axis { label: format!("actual {target}"), ..axis.clone() },
        y: Axis { label: format!("predicted {target}"), ..axis },
        layers: vec![
            Layer::Line { label: Some("perfect".into()), points: diagonal, color: 7, dashed: true },
            Layer::Points { label: Some(split.to_string()), points, color: 0 },
        ],
    }
}

/// The path gradient descent took, as a line through its points.
fn descent(steps: Vec<(f64, f64)>) -> Vec<Layer> {
    vec![
        Layer::Line { label: Some("gradient descent".into()), points: steps.clone(), color: 3, dashed: false },
        Layer::Points { label: None, points: steps, color: 3 },
    ]
}

/// A `minimize` block: f along its one variable (or as contours over two) with the path
/// gradient descent took.
/// `trajectory`: the whole descent, or (`nnc serve`) its points so far.
pub fn minimization_figures(plan: &MinimizePlan, trajectory: &[Point]) -> Vec<Figure> {
    let m = &plan.minimization;
    let path: Vec<Vec<f64>> = trajectory.iter().map(|p| p.params.iter().map(|&v| f64::from(v)).collect()).collect();
    let values: Vec<f64> = trajectory.iter().map(|p| f64::from(p.value)).collect();
    let f = |point: &[f64]| -> f64 {
        let params: Vec<Vec<f64>> = point.iter().map(|&v| vec![v]).collect();
        let refs: Vec<&[f64]> = params.iter().map(Vec::as_slice).collect();
        nnc_ir::evaluate(&m.graph, &[], &refs)[m.objective.index()][0]
    };
    let title = format!("minimize {}: f = {}, η = {}", m.name, m.formula, m.learning_rate);
    let finite: Vec<&Vec<f64>> = path.iter().filter(|p| p.iter().all(|v| v.is_finite() && v.abs() < 1e6)).collect();
    let plot = match m.params.len() {
        1 => {
            let x = Axis::fit(m.params[0].0.clone(), finite.iter().map(|p| p[0]).chain([0.0]));
            let x = Axis { min: x.min - 0.2 * (x.max - x.min), max: x.max + 0.2 * (x.max - x.min), ..x };
            let curve: Vec<(f64, f64)> =
                (0..=200).map(|i| x.min + (x.max - x.min) * i as f64 / 200.0).map(|v| (v, f(&[v]))).collect();
            let steps: Vec<(f64, f64)> = path
                .iter()
                .zip(&values)
                .filter(|(p, v)| p[0].is_finite() && v.is_finite())
                .map(|(p, &v)| (p[0], v))
                .collect();
            let y =
                Axis::fit("f", curve.iter().map(|p| p.1).chain(steps.iter().map(|p| p.1).filter(|v| v.abs() < 1e6)));
            Plot {
                title,
                x,
                y,
                layers: [
                    vec![Layer::Line { label: Some("f".into()), points: curve, color: 0, dashed: false }],
                    descent(steps),
                ]
                .concat(),
            }
        }
        2 => {
            let x = Axis::fit(m.params[0].0.clone(), finite.iter().map(|p| p[0]).chain([0.0]));
            let y = Axis::fit(m.params[1].0.clone(), finite.iter().map(|p| p[1]).chain([0.0]));
            let at = |i: usize, axis: &Axis| axis.min + (axis.max - axis.min) * i as f64 / (GRID - 1) as f64;
            let grid: Vec<Vec<f64>> =
                (0..GRID).map(|r| (0..GRID).map(|c| f(&[at(c, &x), at(r, &y)])).collect()).collect();
            let (low, high) =
                grid.iter().flatten().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| (l.min(v), h.max(v)));
            let levels = (1..=12).map(|k| low + (high - low) * (0.6f64).powi(12 - k)).collect();
            let steps: Vec<(f64, f64)> = finite.iter().map(|p| (p[0], p[1])).collect();
            Plot { title, x, y, layers: [vec![Layer::Contours { grid, levels, color: 0 }], descent(steps)].concat() }
        }
        _ => return Vec::new(),
    };
    vec![Figure { name: format!("{}-descent", m.name), plot }]
}

/// `nnc similar`: the genuine and impostor pairs' similarities (or distances) as two
/// histograms of the share of their pairs per bin, with the threshold as a dashed line.
pub fn similarity_histograms(genuine: &[f32], impostor: &[f32], threshold: f32, measure: &str) -> Plot {
    const BINS: usize = 50;
    let values = genuine.iter().chain(impostor).map(|&v| f64::from(v));
    let range = Axis::fit("", values.chain([f64::from(threshold)]));
    let width = (range.max - range.min) / BINS as f64;
    let outline = |scores: &[f32]| -> Vec<(f64, f64)> {
        let mut counts = [0usize; BINS];
        for &s in scores {
            let bin = ((f64::from(s) - range.min) / width) as usize;
            counts[bin.min(BINS - 1)] += 1;
        }
        let total = scores.len().max(1) as f64;
        let mut points = vec![(range.min, 0.0)];
        for (bin, &count) in counts.iter().enumerate() {
            let (left, share) = (range.min + bin as f64 * width, count as f64 / total);
            points.extend([(left, share), (left + width, share)]);
        }
        points.push((range.max, 0.0));
        points
    };
    let (genuine_line, impostor_line) = (outline(genuine), outline(impostor));
    let top = genuine_line.iter().chain(&impostor_line).map(|p| p.1).fold(0.0, f64::max);
    let threshold = f64::from(threshold);
    Plot {
        title: format!(
            "{measure} of genuine ({}) and impostor ({}) pairs, threshold {threshold:.3}",
            genuine.len(),
            impostor.len()
        ),
        x: Axis { label: measure.to_string(), ..range },
        y: Axis { label: "share of pairs".to_string(), min: 0.0, max: top * 1.05 + f64::EPSILON, log: false },
        layers: vec![
            Layer::Line {
                label: Some("genuine (same identity)".into()),
                points: genuine_line,
                color: 2,
                dashed: false,
            },
            Layer::Line { label: Some("impostor".into()), points: impostor_line, color: 3, dashed: false },
            Layer::Line {
                label: Some("threshold".into()),
                points: vec![(threshold, 0.0), (threshold, top * 1.05)],
                color: 7,
                dashed: true,
            },
        ],
    }
}

/// `nnc cluster`: the rows in two dimensions coloured by cluster, with the centroids.
pub fn clusters(points: &[(f64, f64)], assignments: &[usize], centroids: &[(f64, f64)], axes: [&str; 2]) -> Plot {
    let k = centroids.len();
    let mut layers: Vec<Layer> = (0..k)
        .map(|c| Layer::Points {
            label: Some(format!("cluster {c}")),
            points: points.iter().zip(assignments).filter(|(_, a)| **a == c).map(|(p, _)| *p).collect(),
            color: c,
        })
        .collect();
    // Each centroid as a cross of two short lines, in its cluster's colour.
    let x = Axis::fit(axes[0], points.iter().chain(centroids).map(|p| p.0));
    let y = Axis::fit(axes[1], points.iter().chain(centroids).map(|p| p.1));
    let (dx, dy) = ((x.max - x.min) / 40.0, (y.max - y.min) / 40.0);
    for (c, &(cx, cy)) in centroids.iter().enumerate() {
        let label = (c == 0).then(|| "centroids (×)".to_string());
        layers.push(Layer::Line {
            label,
            points: vec![(cx - dx, cy - dy), (cx + dx, cy + dy)],
            color: c,
            dashed: false,
        });
        layers.push(Layer::Line {
            label: None,
            points: vec![(cx - dx, cy + dy), (cx + dx, cy - dy)],
            color: c,
            dashed: false,
        });
    }
    Plot { title: format!("k-means, k = {k}: {} rows", points.len()), x, y, layers }
}

/// `nnc cluster --k A..B`: inertia (the elbow) and silhouette against k, as two figures.
pub fn cluster_sweep(rows: &[(usize, f64, Option<f64>)]) -> [Plot; 2] {
    let ks = || rows.iter().map(|r| r.0 as f64);
    let inertia: Vec<(f64, f64)> = rows.iter().map(|r| (r.0 as f64, r.1)).collect();
    let silhouette: Vec<(f64, f64)> = rows.iter().filter_map(|r| r.2.map(|s| (r.0 as f64, s))).collect();
    let figure = |title: &str, label: &str, points: Vec<(f64, f64)>, color: usize| Plot {
        title: title.to_string(),
        x: Axis::fit("k (clusters)", ks()),
        y: Axis::fit(label, points.iter().map(|p| p.1)),
        layers: vec![
            Layer::Line { label: None, points: points.clone(), color, dashed: false },
            Layer::Points { label: None, points, color },
        ],
    };
    [
        figure("k-means inertia against k (look for the elbow)", "inertia", inertia, 0),
        figure("mean silhouette against k (higher is better)", "silhouette", silhouette, 1),
    ]
}
