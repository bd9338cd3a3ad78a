//! The graphs a job compiles: the training step (full and last partial batch) and the
//! evaluation forward pass, at every stage the CLI can show.

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
    /// The optimised forward pass over every row, for evaluation.
    pub eval_opt: Graph,
    pub batch: usize,
    pub tail: usize,
}

impl Graphs {
    /// The graphs to compile, in kernel order: step, eval, then tail if any.
    pub fn compiled(&self) -> Vec<&Graph> {
        let mut graphs = vec![&self.step_opt, &self.eval_opt];
        graphs.extend(self.tail_opt.as_ref());
        graphs
    }
}

/// Builds the graphs for training on `rows` rows.
pub fn build(job: &Job, rows: usize) -> Graphs {
    let batch = job.train.batch.unwrap_or(rows).clamp(1, rows.max(1));
    let tail = rows % batch;
    let step_at = |size: usize| {
        let forward = lower_forward(&job.model, job.train.loss, size);
        training_step(&forward.graph, forward.loss, &job.train.optimizer)
    };
    let forward = lower_forward(&job.model, job.train.loss, batch).graph;
    let step = step_at(batch);
    let step_opt = optimize(&step);
    let tail_opt = (tail > 0).then(|| optimize(&step_at(tail)));
    let mut eval = lower_forward(&job.model, job.train.loss, rows.max(1)).graph;
    eval.name = format!("{}.eval", job.model.name);
    Graphs { forward, step, step_opt, tail_opt, eval_opt: optimize(&eval), batch, tail }
}
