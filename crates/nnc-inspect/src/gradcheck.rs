//! `nnc gradcheck`: the compiled gradient of every parameter against central finite
//! differences of the loss computed in f64 by the reference interpreter.
//!
//! The gradient graph (forward, autodiff, passes) is compiled exactly as the training
//! step's is and run on the first batch training takes, at the initial parameters. Each
//! parameter tensor is checked at up to 64 elements; an element where the loss has a kink
//! (the slopes to the left and right differ, as ReLU's at 0) has no derivative to compare
//! and is counted apart.

use crate::names::param_name;
use nnc_driver::{JobPlan, MinimizePlan};
use nnc_ir::{Graph, ValueId};
use nnc_lower::{Forward, Mode, lower_forward};

/// A tensor passes when every checked element's error is at most this, relative to the
/// larger of the two gradients — or, for gradients that are nearly zero, to a thousandth of
/// the tensor's largest or to 10⁻⁵, whichever is larger (f32 rounding alone leaves about
/// 10⁻⁷ of the terms it sums).
pub const TOLERANCE: f64 = 1e-3;

/// Elements checked per tensor, spread evenly over it.
const SAMPLES: usize = 64;

#[derive(Clone, Debug, serde::Serialize)]
pub struct TensorCheck {
    /// The course name (`W1`) and the declared name (`dense1.w`).
    pub name: String,
    pub param: String,
    pub shape: Vec<usize>,
    pub checked: usize,
    /// Elements at a kink of the loss, not compared.
    pub at_kinks: usize,
    pub max_relative_error: f64,
    /// The element with the largest error: its flat index, compiled and reference values.
    pub worst: Option<(usize, f32, f64)>,
    pub passed: bool,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct GradCheck {
    pub block: String,
    pub rows: usize,
    pub tolerance: f64,
    pub tensors: Vec<TensorCheck>,
    pub passed: bool,
}

/// What a check needs: a forward graph with a scalar loss, its data and parameters.
struct Problem {
    block: String,
    forward: Graph,
    loss: ValueId,
    inputs: Vec<Vec<f32>>,
    params: Vec<Vec<f32>>,
    names: Vec<String>,
    rows: usize,
}

/// Checks a training block on the first batch it trains on, at its initial parameters.
pub fn gradcheck_job(plan: &JobPlan, mutate: Option<&dyn Fn(&mut Graph)>) -> Result<GradCheck, String> {
    let (forward, inputs, rows) = first_batch(plan).ok_or("the training split has no rows")?;
    let job = &plan.job;
    let names = forward.graph.params.iter().map(|d| param_name(&job.model, &d.name)).collect();
    let problem = Problem {
        block: format!("train {} on {}", job.model.name, job.data.name.name),
        loss: forward.loss,
        forward: forward.graph,
        inputs,
        params: plan.start_params(job.train.seed),
        names,
        rows,
    };
    Ok(check(&problem, mutate))
}

/// The forward graph, inputs `[x, y]` and row count of the first batch training takes.
fn first_batch(plan: &JobPlan) -> Option<(Forward, Vec<Vec<f32>>, usize)> {
    let schedule = nnc_driver::schedule(plan, 1);
    let step = schedule.first()?;
    let data = &plan.data.train;
    let width = data.n_targets();
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for &row in &step.rows {
        let row = row as usize;
        x.extend_from_slice(data.input_row(row));
        y.extend_from_slice(&data.targets[row * width..(row + 1) * width]);
    }
    let job = &plan.job;
    let forward = lower_forward(&job.model, job.train.loss, Some(job.train.loss_span), step.rows.len(), Mode::Train);
    let mut inputs = vec![x, y];
    // Dropout's numbers, fixed: the same mask at every perturbed point.
    if forward.graph.inputs.iter().any(|d| d.name == "seed") {
        inputs.push(vec![nnc_ir::seed_value(1)]);
    }
    Some((forward, inputs, step.rows.len()))
}

/// The root-mean-square gradient of every parameter (by declared name) at each of
/// `param_sets`, on the first batch training takes, as compiled code computes it. The
/// gradient program is compiled once for all the sets (each compile of W5's took 2 ms).
pub fn compiled_gradient_norms(plan: &JobPlan, param_sets: &[&[Vec<f32>]]) -> Option<Vec<Vec<(String, f64)>>> {
    let (forward, inputs, rows) = first_batch(plan)?;
    let problem = Problem {
        block: String::new(),
        loss: forward.loss,
        names: Vec::new(),
        forward: forward.graph,
        inputs,
        params: Vec::new(),
        rows,
    };
    let compiled = compile_gradients(&problem, None);
    let rms = |g: &[f32]| (g.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / g.len().max(1) as f64).sqrt();
    let norms = |params: &[Vec<f32>]| {
        let grads = run_gradients(&compiled, &problem.inputs, params);
        problem.forward.params.iter().zip(&grads).map(|(decl, g)| (decl.name.clone(), rms(g))).collect()
    };
    Some(param_sets.iter().map(|params| norms(params)).collect())
}

/// Checks a `minimize` block at its starting point.
pub fn gradcheck_minimization(plan: &MinimizePlan, mutate: Option<&dyn Fn(&mut Graph)>) -> GradCheck {
    let minimization = &plan.minimization;
    let problem = Problem {
        block: format!("minimize {}", minimization.name),
        forward: minimization.graph.clone(),
        loss: minimization.objective,
        inputs: Vec::new(),
        params: minimization.params.iter().map(|(_, start)| vec![*start]).collect(),
        names: minimization.params.iter().map(|(name, _)| name.clone()).collect(),
        rows: 1,
    };
    check(&problem, mutate)
}

fn check(problem: &Problem, mutate: Option<&dyn Fn(&mut Graph)>) -> GradCheck {
    let compiled = compiled_gradients(problem, mutate);
    let largest = compiled.iter().flatten().fold(0.0f64, |m, &g| m.max(f64::from(g).abs()));
    let tensors: Vec<TensorCheck> = problem
        .params
        .iter()
        .enumerate()
        .map(|(slot, values)| check_tensor(problem, slot, values, &compiled[slot], largest))
        .collect();
    let passed = tensors.iter().all(|t| t.passed);
    GradCheck { block: problem.block.clone(), rows: problem.rows, tolerance: TOLERANCE, tensors, passed }
}

/// The gradient of every parameter as compiled code computes it.
fn compiled_gradients(problem: &Problem, mutate: Option<&dyn Fn(&mut Graph)>) -> Vec<Vec<f32>> {
    run_gradients(&compile_gradients(problem, mutate), &problem.inputs, &problem.params)
}

/// The problem's gradient program (its forward graph, differentiated and optimised as the
/// training step's is), compiled.
fn compile_gradients(problem: &Problem, mutate: Option<&dyn Fn(&mut Graph)>) -> nnc_codegen::Compiled {
    let mut graph = problem.forward.clone();
    graph.name = format!("{}.gradients", graph.name);
    graph.outputs = Vec::new();
    // Only the gradients: batch norm's running statistics are left as they are.
    graph.updates.clear();
    let grads = nnc_autodiff::differentiate(&mut graph, problem.loss);
    for (slot, grad) in grads.iter().enumerate() {
        let grad = grad.unwrap_or_else(|| {
            let shape = graph.params[slot].shape.clone();
            graph.constant(0.0, &shape, nnc_ir::Origin::default())
        });
        graph.outputs.push((format!("d{slot}"), grad));
    }
    if let Some(mutate) = mutate {
        mutate(&mut graph);
    }
    let graph = nnc_opt::optimize(&graph);
    let program = nnc_kernels::lower(&graph, &[], &nnc_kernels::Options::default());
    let unit = nnc_codegen::Unit::Program { name: "gradients", program: &program, hot: false };
    match nnc_codegen::compile(&[unit], nnc_codegen::Options::default()) {
        Ok(compiled) => compiled,
        Err(error) => panic!("internal error: the gradient graph does not compile: {error}"),
    }
}

/// Runs a compiled gradient program on `inputs` at `params`.
fn run_gradients(compiled: &nnc_codegen::Compiled, inputs: &[Vec<f32>], params: &[Vec<f32>]) -> Vec<Vec<f32>> {
    let kernel = compiled.kernel("gradients").expect("compiled under its name");
    let mut outputs: Vec<Vec<f32>> = kernel.outputs().map(|(_, len)| vec![0.0; len]).collect();
    let mut scratch = vec![0.0; kernel.arena_len()];
    let inputs: Vec<&[f32]> = inputs.iter().map(Vec::as_slice).collect();
    let params: Vec<&[f32]> = params.iter().map(Vec::as_slice).collect();
    kernel.call(nnc_codegen::Frame {
        inputs: &inputs,
        params: nnc_codegen::Params::Read(&params),
        outputs: &mut outputs,
        scratch: &mut scratch,
    });
    outputs
}

/// The loss in f64 with parameter `slot` element `at` moved by `delta`.
fn loss_at(problem: &Problem, slot: usize, at: usize, delta: f64) -> f64 {
    let inputs: Vec<Vec<f64>> = problem.inputs.iter().map(|v| v.iter().map(|&x| f64::from(x)).collect()).collect();
    let mut params: Vec<Vec<f64>> = problem.params.iter().map(|v| v.iter().map(|&x| f64::from(x)).collect()).collect();
    params[slot][at] += delta;
    let inputs: Vec<&[f64]> = inputs.iter().map(Vec::as_slice).collect();
    let params: Vec<&[f64]> = params.iter().map(Vec::as_slice).collect();
    nnc_ir::evaluate(&problem.forward, &inputs, &params)[problem.loss.index()][0]
}

/// `largest` is the largest compiled gradient of any parameter: a gradient that is 0 in
/// exact arithmetic (batch norm over two rows makes some so) comes out of float32 sums of
/// terms that size as a few ulps of it, which is no error.
fn check_tensor(problem: &Problem, slot: usize, values: &[f32], compiled: &[f32], largest: f64) -> TensorCheck {
    let decl = &problem.forward.params[slot];
    let picked: Vec<usize> = if values.len() <= SAMPLES {
        (0..values.len()).collect()
    } else {
        (0..SAMPLES).map(|i| i * values.len() / SAMPLES).collect()
    };
    let mut references = Vec::new();
    let mut at_kinks = 0;
    for &at in &picked {
        let h = 1e-5 * f64::from(values[at]).abs().max(1.0);
        let middle = loss_at(problem, slot, at, 0.0);
        let slopes = |h: f64| {
            let (up, down) = (loss_at(problem, slot, at, h), loss_at(problem, slot, at, -h));
            ((up - middle) / h, (middle - down) / h, (up - down) / (2.0 * h))
        };
        let ((right, left, wide), (near_right, near_left, near)) = (slopes(h), slopes(h / 10.0));
        // A kink: the slopes on either side differ, and by as much at h/10 as at h (a
        // smooth function's differ ten times less).
        let jump = (near_right - near_left).abs();
        if jump > 1e-3 * near_right.abs().max(near_left.abs()) && jump > 0.5 * (right - left).abs() {
            at_kinks += 1;
            continue;
        }
        // A kink between h/10 and h (a ReLU of one row within h of 0): the slopes at h
        // disagree but those at h/10 do not, so only the narrow difference is smooth.
        if (right - left).abs() > 1e-3 * right.abs().max(left.abs()) && jump <= 1e-3 * near.abs() {
            references.push((at, near));
            continue;
        }
        // Richardson: the central difference's error is O(h²) where the loss is smooth but
        // O(h) where its curvature jumps (a ReLU just at 0); extrapolating from h and h/10
        // removes the O(h) part.
        references.push((at, near - (wide - near) / 9.0));
    }
    let floor = (1e-3 * references.iter().map(|(_, r)| r.abs()).fold(0.0, f64::max)).max(1e-3 * largest).max(1e-5);
    let mut worst: Option<(usize, f32, f64)> = None;
    let mut max_error = 0.0f64;
    for &(at, reference) in &references {
        let got = f64::from(compiled[at]);
        let error = (got - reference).abs() / got.abs().max(reference.abs()).max(floor);
        if error > max_error || worst.is_none() {
            max_error = max_error.max(error);
            worst = Some((at, compiled[at], reference));
        }
    }
    TensorCheck {
        name: problem.names[slot].clone(),
        param: decl.name.clone(),
        shape: decl.shape.dims().to_vec(),
        checked: references.len(),
        at_kinks,
        max_relative_error: max_error,
        worst,
        passed: max_error <= TOLERANCE,
    }
}

/// The table `nnc gradcheck` prints.
pub fn render(checks: &[GradCheck]) -> String {
    let mut out = String::new();
    for check in checks {
        out.push_str(&format!(
            "{}: compiled gradients against f64 central differences, {} row{}\n",
            check.block,
            check.rows,
            if check.rows == 1 { "" } else { "s" }
        ));
        out.push_str("  parameter      shape      checked  kinks  max rel. error  result\n");
        for t in &check.tensors {
            let shape = t.shape.iter().map(usize::to_string).collect::<Vec<_>>().join("×");
            out.push_str(&format!(
                "  {:<14} {:<10} {:>7}  {:>5}  {:>14.2e}  {}\n",
                t.name,
                if shape.is_empty() { "scalar".to_string() } else { shape },
                t.checked,
                t.at_kinks,
                t.max_relative_error,
                if t.passed { "ok" } else { "FAILED" }
            ));
            if !t.passed
                && let Some((at, got, want)) = t.worst
            {
                out.push_str(&format!("      element {at}: compiled {got:e}, finite differences {want:e}\n"));
            }
        }
        out.push_str(&format!(
            "  {} (tolerance {:.0e})\n",
            if check.passed { "passed" } else { "FAILED" },
            check.tolerance
        ));
    }
    out
}
