//! Gradient descent on a formula (`minimize` blocks): the trajectory of the descent kernel.

use crate::Role;
use nnc_codegen::{Compiled, Frame, Params};
use std::sync::atomic::{AtomicU32, Ordering};

/// One point of the descent: where it stands before step `step` is taken.
#[derive(Clone, Debug, PartialEq)]
pub struct Point {
    pub step: u64,
    pub params: Vec<f32>,
    pub value: f32,
    pub gradient: Vec<f32>,
}

/// A trajectory keeps at most this many points (plus the last): a descent of more steps
/// keeps every k-th step, k = ⌈steps / (MAX_POINTS − 1)⌉, so its memory is bounded
/// whatever `steps` says (about 1 MB for one parameter).
pub const MAX_POINTS: u64 = 10_001;

/// What a descent produced.
#[derive(Clone, Debug, PartialEq)]
pub struct Descent {
    /// Step 0, every k-th step, and the last step taken (see [`MAX_POINTS`]).
    pub trajectory: Vec<Point>,
    /// Whether the interrupt flag ended it before its last step.
    pub interrupted: bool,
}

/// Shown a descent's trajectory so far, each time it gains a point.
pub type DescentWatch<'a> = &'a dyn Fn(&[Point]);

/// The step between kept points of a descent of `steps` steps.
pub fn sampling_stride(steps: u64) -> u64 {
    steps.div_ceil(MAX_POINTS - 1).max(1)
}

/// Takes `steps` steps of the `Descend` kernel (outputs: the value, then one gradient
/// per parameter) from `start`, polling `interrupt` before each. The trajectory ends at the
/// last step, at the first non-finite value, or where the interrupt stopped it. `watch`,
/// when given, is shown the trajectory so far each time it gains a point (`nnc serve`
/// draws the path as it grows).
pub fn descend(
    compiled: &Compiled,
    start: &[f32],
    learning_rate: f32,
    steps: u64,
    interrupt: Option<&AtomicU32>,
    watch: Option<DescentWatch<'_>>,
) -> Descent {
    let kernel = compiled.kernel(&Role::Descend.name()).expect("internal error: no descent kernel");
    let mut params: Vec<Vec<f32>> = start.iter().map(|&x| vec![x]).collect();
    let mut outputs: Vec<Vec<f32>> = kernel.outputs().map(|(_, len)| vec![0.0; len]).collect();
    let mut scratch = vec![0.0; kernel.arena_len()];
    let stride = sampling_stride(steps);
    let mut trajectory = Vec::with_capacity((steps / stride + 2) as usize);
    let mut interrupted = false;
    for step in 0..=steps {
        let before: Vec<f32> = params.iter().map(|p| p[0]).collect();
        // An interrupted descent still evaluates where it stopped, as its last point.
        interrupted = step < steps && interrupt.is_some_and(|flag| flag.load(Ordering::Relaxed) != 0);
        let last = step == steps || interrupted;
        // The last point is only evaluated: a zero rate leaves the parameters in place.
        let lr = [if last { 0.0 } else { learning_rate }];
        let inputs: [&[f32]; 1] = [&lr];
        let frame = Frame {
            inputs: &inputs,
            params: Params::Update(&mut params),
            outputs: &mut outputs,
            scratch: &mut scratch,
        };
        kernel.call(frame);
        let point =
            Point { step, params: before, value: outputs[0][0], gradient: outputs[1..].iter().map(|g| g[0]).collect() };
        let finite = point.value.is_finite() && point.params.iter().all(|p| p.is_finite());
        if step.is_multiple_of(stride) || last || !finite {
            trajectory.push(point);
            if let Some(watch) = watch {
                watch(&trajectory);
            }
        }
        if last || !finite {
            break;
        }
    }
    Descent { trajectory, interrupted }
}
