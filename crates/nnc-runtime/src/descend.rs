//! Gradient descent on a formula (`minimize` blocks): the trajectory of the descent kernel.

use crate::Role;
use nnc_codegen::{Compiled, Frame};

/// One point of the descent: where it stands before step `step` is taken.
#[derive(Clone, Debug, PartialEq)]
pub struct Point {
    pub step: u64,
    pub params: Vec<f32>,
    pub value: f32,
    pub gradient: Vec<f32>,
}

/// Takes `steps` steps of the `Descend` kernel (outputs: the value, then one gradient
/// per parameter) from `start`. The trajectory holds every point from step 0 to the last
/// (or to the first non-finite value, which ends it).
pub fn descend(compiled: &Compiled, start: &[f32], learning_rate: f32, steps: u64) -> Vec<Point> {
    let kernel = compiled.kernel(&Role::Descend.name()).expect("internal error: no descent kernel");
    let mut params: Vec<Vec<f32>> = start.iter().map(|&x| vec![x]).collect();
    let mut outputs: Vec<Vec<f32>> = kernel.outputs().map(|(_, len)| vec![0.0; len]).collect();
    let mut scratch = vec![0.0; kernel.arena_len()];
    let mut trajectory = Vec::new();
    for step in 0..=steps {
        let before: Vec<f32> = params.iter().map(|p| p[0]).collect();
        // The last point is only evaluated: a zero rate leaves the parameters in place.
        let lr = [if step == steps { 0.0 } else { learning_rate }];
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
