//! The graphs a job compiles: the training step (full and last partial batch) and one
//! evaluation forward pass per data split, at every stage the CLI can show.

use nnc_autodiff::training_step;
use nnc_ir::Graph;
use nnc_lower::{Job, lower_forward};
use nnc_opt::optimize;

/// Every graph of one job, by stage.
pub struct Graphs {
    /// The lowered forward pass at the training batch size (stage `ir`).
    pub forward: Graph,
    /// Forward + backward + update, before passes (stage `grad`).
    pub step: Graph,
    /// The optimised training step (stage `opt`), compiled.
    pub step_opt: Graph,
    /// The optimised step for the last, smaller batch of an epoch, if rows do not divide.
    pub tail_opt: Option<Graph>,
    /// The optimised forward pass over all rows of each split, in split order.
    pub evals_opt: Vec<Graph>,
    pub batch: usize,
}

/// Kernel index of the training step in [`Graphs::compiled`] order.
pub const STEP_KERNEL: usize = 0;

impl Graphs {
    /// The graphs to compile, in kernel order: step, evaluation per split, then tail.
    pub fn compiled(&self) -> Vec<&Graph> {
        let mut graphs = vec![&self.step_opt];
        graphs.extend(self.evals_opt.iter());
        graphs.extend(self.tail_opt.as_ref());
        graphs
    }

    pub fn eval_kernel(&self, split: usize) -> usize {
        1 + split
    }

    pub fn tail_kernel(&self) -> usize {
        1 + self.evals_opt.len()
    }

    /// The number of forward parameters (the rest of the step's are optimizer state).
    pub fn n_forward_params(&self) -> usize {
        self.forward.params.len()
    }
}

/// Builds the graphs for training on `train_rows` rows and evaluating each split
/// `(name, rows)`.
pub fn build(job: &Job, train_rows: usize, splits: &[(&str, usize)]) -> Graphs {
    let batch = job.train.batch.unwrap_or(train_rows).clamp(1, train_rows.max(1));
    let tail = train_rows % batch;
    let step_at = |size: usize| {
        let forward = lower_forward(&job.model, job.train.loss, size);
        training_step(&forward.graph, forward.loss, &job.train.optimizer)
    };
    let forward = lower_forward(&job.model, job.train.loss, batch).graph;
    let step = step_at(batch);
    let step_opt = optimize(&step);
    let tail_opt = (tail > 0).then(|| optimize(&step_at(tail)));
    let evals_opt = splits
        .iter()
        .map(|&(split, rows)| {
            let mut eval = lower_forward(&job.model, job.train.loss, rows.max(1)).graph;
            eval.name = format!("{}.eval.{split}", job.model.name);
            optimize(&eval)
        })
        .collect();
    Graphs { forward, step, step_opt, tail_opt, evals_opt, batch }
}
