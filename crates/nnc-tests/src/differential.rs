//! Compiled code against the reference interpreter, one function at a time: what
//! `tests/jit.rs` runs over every program in the repository and `tests/differential.rs`
//! over generated ones.

use crate::fill;
use nnc_driver::JobPlan;
use nnc_ir::{Graph, evaluate};
use nnc_runtime::{DataView, Role};

/// Each element within 1e-4 of the larger of itself and a hundredth of the tensor's
/// largest magnitude (plus 1e-4): a gradient element is a sum whose terms are the size of
/// the tensor's elements, and summing in another order moves it by their rounding, not
/// by its own (a residual MLP's weight gradient: 1.9191 against 1.9188).
pub fn assert_close(what: &str, compiled: &[f32], reference: &[f32]) {
    assert_eq!(compiled.len(), reference.len(), "{what}: lengths");
    let largest = reference.iter().filter(|v| v.is_finite()).fold(0.0f32, |m, v| m.max(v.abs()));
    for (i, (a, b)) in compiled.iter().zip(reference).enumerate() {
        let tolerance = 1e-4 * (1.0 + a.abs().max(b.abs()).max(0.01 * largest));
        let same = a == b || (a.is_nan() && b.is_nan());
        assert!(same || (a - b).abs() <= tolerance, "{what}[{i}]: compiled {a}, reference {b}");
    }
}

/// Parameters for a step: forward ones in [-1, 1), optimizer state non-negative (Adam's
/// second moment is never negative).
pub fn params_for(plan: &JobPlan, lens: &[usize]) -> Vec<Vec<f32>> {
    let n_forward = plan.graphs.forward.params.len();
    lens.iter()
        .enumerate()
        .map(|(i, &len)| {
            let values = fill(len, 10 + i as u32);
            if i < n_forward { values } else { values.into_iter().map(f32::abs).collect() }
        })
        .collect()
}

/// A step graph's inputs in its order: the batch's inputs and targets, the seed (when a
/// layer draws random numbers) and the learning rate.
pub fn step_inputs<'a>(graph: &Graph, x: &'a [f32], y: &'a [f32], seed: &'a [f32], lr: &'a [f32]) -> Vec<&'a [f32]> {
    graph
        .inputs
        .iter()
        .map(|d| match d.name.as_str() {
            "x" => x,
            "y" => y,
            "seed" => seed,
            _ => lr,
        })
        .collect()
}

pub fn compare_step(name: &str, plan: &JobPlan, compiled: &nnc_codegen::Compiled, role: &Role, graph: &Graph) {
    let program = plan.program(role).expect("the plan has a program for every graph");
    let (x, y) = (fill(program.input_lens[0], 1), fill(program.input_lens[1], 2));
    let rows = x.len() / plan.shape.x_width;
    let lr = 0.05;
    let mut compiled_params = params_for(plan, &program.param_lens);
    let mut reference_params = compiled_params.clone();
    for step in 0..5 {
        let batch = DataView { inputs: &x, targets: &y, rows };
        let seed = nnc_ir::seed_value(step + 1);
        let loss = nnc_runtime::step_once(compiled, role, batch, (lr, seed), &mut compiled_params);
        let refs: Vec<&[f32]> = reference_params.iter().map(Vec::as_slice).collect();
        let (lr_input, seed_input) = ([lr], [seed]);
        let values = evaluate(graph, &step_inputs(graph, &x, &y, &seed_input, &lr_input), &refs);
        let reference_loss = values[graph.outputs[0].1.index()][0];
        assert_close(&format!("{name} {} step {step} loss", role.name()), &[loss], &[reference_loss]);
        for (slot, value) in &graph.updates {
            reference_params[*slot as usize] = values[value.index()].clone();
        }
    }
    for (slot, (a, b)) in compiled_params.iter().zip(&reference_params).enumerate() {
        assert_close(&format!("{name} {} param {slot}", role.name()), a, b);
    }
}

pub fn compare_eval(name: &str, plan: &JobPlan, compiled: &nnc_codegen::Compiled, role: &Role, graph: &Graph) {
    let program = plan.program(role).expect("the plan has a program for every graph");
    let (x, y) = (fill(program.input_lens[0], 3), fill(program.input_lens[1], 4));
    let params = params_for(plan, &program.param_lens);
    let data = DataView { inputs: &x, targets: &y, rows: x.len() / plan.shape.x_width };
    let outputs = nnc_runtime::evaluate(compiled, role, data, &params, usize::MAX);
    let refs: Vec<&[f32]> = params.iter().map(Vec::as_slice).collect();
    let values = evaluate(graph, &[&x, &y], &refs);
    if std::env::var("NNC_DUMP").is_ok_and(|d| name.contains(&d)) {
        eprintln!("{}\n{}", nnc_ir::print_graph(graph), nnc_kernels::print_program(program));
    }
    for ((output, compiled), (_, value)) in outputs.iter().zip(&graph.outputs) {
        assert_close(&format!("{name} {} output {output}", role.name()), compiled, &values[value.index()]);
    }
}

/// The reference interpreter's training run: the forward parameters at the end, and for
/// each element how far a correct compiled run may still differ from it.
pub struct ReferenceRun {
    pub params: Vec<Vec<f32>>,
    pub allowance: Vec<Vec<f32>>,
}

impl ReferenceRun {
    /// Each trained parameter within [`assert_close`]'s tolerance plus its allowance.
    pub fn assert_matches(&self, what: &str, trained: &[Vec<f32>]) {
        for (slot, ((compiled, reference), allowance)) in
            trained.iter().zip(&self.params).zip(&self.allowance).enumerate()
        {
            let near = |i: usize, value: f32| value + (reference[i] - value).clamp(-allowance[i], allowance[i]);
            let shifted: Vec<f32> = compiled.iter().enumerate().map(|(i, &a)| near(i, a)).collect();
            assert_close(&format!("{what}trained parameter {slot}"), &shifted, reference);
        }
    }
}

/// Trains `plan` for its epochs in the reference interpreter, step by step as the compiled
/// loop takes them (the same shuffles, batches, last smaller batch and learning rates),
/// on the *unoptimised* step graphs.
///
/// The allowance is zero except for one case: an Adam-trained element whose gradient has
/// been rounding noise at every step so far (its exact value is zero: MAE's sign
/// gradients can cancel exactly over a batch). Adam divides the gradient by its own
/// running size, so noise of 1e-10 moves the element by up to the learning rate, in a
/// direction that depends on the order of summation. Each such step may make the element
/// differ by twice its learning rate; once a real gradient has set the running size, noise
/// no longer moves it (a linear model's bias whose six sign gradients cancelled in the
/// first batch and whose one-row last batch did not: 0.0074 against 0.0083).
pub fn interpret_training(plan: &JobPlan) -> ReferenceRun {
    let shape = plan.shape;
    let steps = plan.job.train.epochs.saturating_mul(shape.steps() as u64);
    let graph_of = |role: &Role| plan.graphs.unoptimized.iter().find(|(r, _)| r == role).map(|(_, g)| g);
    let step_graph = graph_of(&Role::Step).expect("a step graph");
    let mut params = plan.start_params(plan.job.train.seed);
    let forward = params.len();
    params.extend(step_graph.params[forward..].iter().map(|p| vec![0.0f32; p.shape.numel()]));
    let data = &plan.data.train;
    let mut noise = Noise::new(&params[..forward]);
    for step in nnc_driver::schedule(plan, steps) {
        let graph =
            if step.rows.len() == shape.batch { step_graph } else { graph_of(&Role::TailStep).expect("a tail") };
        let gather = |values: &[f32], width: usize| -> Vec<f32> {
            step.rows.iter().flat_map(|&r| values[r as usize * width..(r as usize + 1) * width].to_vec()).collect()
        };
        let (x, y) = (gather(&data.inputs, shape.x_width), gather(&data.targets, shape.y_width));
        let refs: Vec<&[f32]> = params.iter().map(Vec::as_slice).collect();
        let (lr, seed) = ([step.lr], [step.seed]);
        let values = evaluate(graph, &step_inputs(graph, &x, &y, &seed, &lr), &refs);
        for (slot, value) in &graph.updates {
            params[*slot as usize] = values[value.index()].clone();
        }
        noise.step(step_graph, &params, forward, 2.0 * step.lr);
    }
    params.truncate(forward);
    ReferenceRun { params, allowance: noise.allowance }
}

/// Per element of the forward parameters, how far rounding noise may have moved it, and
/// whether a real gradient has reached it yet.
struct Noise {
    allowance: Vec<Vec<f32>>,
    reached: Vec<Vec<bool>>,
}

impl Noise {
    fn new(forward: &[Vec<f32>]) -> Noise {
        let allowance = forward.iter().map(|p| vec![0.0; p.len()]).collect();
        Noise { allowance, reached: forward.iter().map(|p| vec![false; p.len()]).collect() }
    }

    /// After a step: `moved` more for each element whose Adam second moment says its
    /// gradient has stayed below a hundred-thousandth of the largest of any parameter
    /// (that is, 1e-10 of the largest second moment), and none where the optimizer keeps
    /// no second moment. The scale is the whole model's, since every element of a tensor
    /// may be noise (a bias behind a ReLU whose other unit is dead).
    fn step(&mut self, graph: &Graph, params: &[Vec<f32>], forward: usize, moved: f32) {
        let second_moment = |slot: usize| {
            let name = format!("{}.v", graph.params[slot].name);
            graph.params[forward..].iter().position(|p| p.name == name).map(|i| &params[forward + i])
        };
        let largest = (0..forward).filter_map(second_moment).flatten().fold(0.0f32, |m, &x| m.max(x));
        for slot in 0..forward {
            let Some(v) = second_moment(slot) else { continue };
            for ((&v, reached), allowance) in v.iter().zip(&mut self.reached[slot]).zip(&mut self.allowance[slot]) {
                *reached |= v > 1e-10 * largest;
                if !*reached {
                    *allowance += moved;
                }
            }
        }
    }
}
