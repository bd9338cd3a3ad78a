//! Gradient descent on a formula (`minimize` blocks): the step graph and its trajectory.

use nnc_autodiff::{Optimizer, append_updates, differentiate};
use nnc_codegen::{Compiled, Frame};
use nnc_ir::{Graph, assert_valid};
use nnc_lower::Minimization;
use nnc_opt::optimize;

/// The graphs of one minimisation: the objective and the descent step.
pub struct DescentGraphs {
    pub objective: Graph,
    /// Outputs `value` and one gradient per parameter; updates every parameter by
    /// `x - lr * df/dx`.
    pub step: Graph,
    pub step_opt: Graph,
}

pub fn descent_graphs(minimization: &Minimization) -> DescentGraphs {
    let mut step = minimization.graph.clone();
    step.name = format!("{}.step", minimization.name);
    let grads = differentiate(&mut step, minimization.objective);
    for ((name, _), grad) in minimization.params.iter().zip(&grads) {
        // A parameter the objective ignores has gradient zero; output it as a constant.
        let grad = grad.unwrap_or_else(|| step.push(nnc_ir::Op::Const(0.0), Vec::new(), nnc_ir::Origin::default()));
        step.outputs.push((format!("d{name}"), grad));
    }
    append_updates(&mut step, &grads, &Optimizer::sgd());
    assert_valid(&step, "autodiff");
    let step_opt = optimize(&step);
    DescentGraphs { objective: minimization.graph.clone(), step, step_opt }
}

/// One point of the descent: where it stands before step `step` is taken.
#[derive(Clone, Debug, PartialEq)]
pub struct Point {
    pub step: u64,
    pub params: Vec<f32>,
    pub value: f32,
    pub gradient: Vec<f32>,
}

/// Takes `minimization.steps` steps from the start values. The trajectory holds every
/// point from step 0 to the last (or to the first non-finite value, which ends it).
pub fn descend(minimization: &Minimization, graphs: &DescentGraphs, compiled: &Compiled) -> Vec<Point> {
    let kernel = &compiled.kernels[0];
    let graph = &graphs.step_opt;
    let mut params: Vec<Vec<f32>> = minimization.params.iter().map(|(_, start)| vec![*start]).collect();
    let mut outputs: Vec<Vec<f32>> = graph.outputs.iter().map(|_| vec![0.0]).collect();
    let mut scratch = vec![0.0; kernel.plan.scratch_len];
    let mut trajectory = Vec::new();
    for step in 0..=minimization.steps {
        let before: Vec<f32> = params.iter().map(|p| p[0]).collect();
        // The last point is only evaluated: a zero rate leaves the parameters in place.
        let rate = if step == minimization.steps { 0.0 } else { minimization.learning_rate };
        let lr = [rate];
        let inputs: [&[f32]; 1] = [&lr];
        kernel.call(Frame { inputs: &inputs, params: &mut params, outputs: &mut outputs, scratch: &mut scratch });
        let point =
            Point { step, params: before, value: outputs[0][0], gradient: outputs[1..].iter().map(|g| g[0]).collect() };
        let finite = point.value.is_finite() && point.params.iter().all(|p| p.is_finite());
        trajectory.push(point);
        if !finite {
            break;
        }
    }
    trajectory
}
