//! The runtime: executes compiled kernels over in-memory data. It drives the training loop
//! (shuffling, batches, the learning-rate schedule it is handed, validation, early
//! stopping), evaluation and gradient descent on a formula. It knows compiled kernels by
//! [`Role`] and data as plain matrices; it knows nothing of syntax, checking or passes.

mod descend;
mod train;

pub use descend::{Descent, DescentWatch, MAX_POINTS, Point, descend, sampling_stride};
pub use train::{
    Diverged, EpochProgress, NonFinite, ScheduledStep, TrainLoop, Training, evaluate, evaluate_observed,
    first_non_finite, schedule, step_once, train,
};

/// What a compiled kernel is for; kernels are looked up by role, never by position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Role {
    /// Every epoch and step of a training run, in one function.
    TrainLoop,
    /// One training step on a full batch: forward, backward, update.
    Step,
    /// The training step for the last, smaller batch of an epoch.
    TailStep,
    /// The forward pass over the named split (`train`, `val`, `test`), a chunk of rows at a
    /// time: as many as the planner chose, or the whole split when it is smaller.
    Eval(&'static str),
    /// The forward pass over the split's last rows, fewer than a chunk.
    EvalRest(&'static str),
    /// One gradient-descent step of a `minimize` block.
    Descend,
}

impl Role {
    /// The name the kernel is compiled under.
    pub fn name(&self) -> String {
        match self {
            Role::TrainLoop => "train".to_string(),
            Role::Step => "step".to_string(),
            Role::TailStep => "tail_step".to_string(),
            Role::Eval(split) => format!("eval.{split}"),
            Role::EvalRest(split) => format!("eval.{split}.rest"),
            Role::Descend => "descend".to_string(),
        }
    }
}

/// Rows of inputs and targets, row-major.
#[derive(Clone, Copy, Debug)]
pub struct DataView<'a> {
    pub inputs: &'a [f32],
    pub targets: &'a [f32],
    pub rows: usize,
}
