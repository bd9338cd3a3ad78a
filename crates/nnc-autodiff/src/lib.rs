//! Autodiff: turns a forward graph with a scalar loss into one training-step graph
//! (forward, backward, optimizer update).

mod grad;
mod optim;

pub use grad::{adjoints, differentiate};
pub use optim::{Optimizer, append_updates};

use nnc_ir::{Graph, ValueId, assert_valid};

/// Builds the training step: `forward` plus the backward pass of `loss` plus the updates.
/// The result outputs `loss` and updates every parameter that the loss depends on.
pub fn training_step(forward: &Graph, loss: ValueId, optimizer: &Optimizer) -> Graph {
    let mut step = forward.clone();
    step.name = format!("{}.step", forward.name.trim_end_matches(".forward"));
    step.outputs = vec![("loss".to_string(), loss)];
    let grads = differentiate(&mut step, loss);
    append_updates(&mut step, &grads, optimizer);
    assert_valid(&step, "autodiff");
    step
}
