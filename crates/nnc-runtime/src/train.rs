//! The training loop and evaluation around compiled kernels.

use crate::data::Dataset;
use crate::graphs::Graphs;
use nnc_autodiff::Optimizer;
use nnc_codegen::{Compiled, Frame, Kernel};
use nnc_ir::Graph;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

/// Index of each kernel in [`Graphs::compiled`] order.
const STEP: usize = 0;
const EVAL: usize = 1;
const TAIL: usize = 2;

/// What training produced.
pub struct Training {
    /// Mean training loss of each epoch (weighted by batch size).
    pub epoch_losses: Vec<f32>,
    /// Every parameter of the step graph, forward parameters first.
    pub params: Vec<Vec<f32>>,
}

/// Training stopped because the loss stopped being a finite number.
#[derive(Debug)]
pub struct Diverged {
    pub epoch: u64,
    pub loss: f32,
    /// Parameters at the start of the epoch that diverged.
    pub params: Vec<Vec<f32>>,
}

/// Buffers reused by every call of one kernel, so steps do not allocate.
struct Buffers {
    outputs: Vec<Vec<f32>>,
    scratch: Vec<f32>,
}

impl Buffers {
    fn new(kernel: &Kernel, graph: &Graph) -> Buffers {
        let outputs = graph.outputs.iter().map(|(_, v)| vec![0.0; graph.shape(*v).numel()]).collect();
        Buffers { outputs, scratch: vec![0.0; kernel.plan.scratch_len] }
    }
}

/// Runs `epochs` epochs of mini-batch training, shuffling rows each epoch with `seed`.
pub fn train(
    graphs: &Graphs,
    compiled: &Compiled,
    data: &Dataset,
    initial: Vec<Vec<f32>>,
    epochs: u64,
    (optimizer, learning_rate): (&Optimizer, f32),
    seed: u64,
) -> Result<Training, Diverged> {
    let mut params = initial;
    // Optimizer state (velocities, moments) starts at zero.
    for decl in graphs.step_opt.params.iter().skip(params.len()) {
        params.push(vec![0.0; decl.shape.numel()]);
    }
    let mut step_buffers = Buffers::new(&compiled.kernels[STEP], &graphs.step_opt);
    let mut tail_buffers = graphs.tail_opt.as_ref().map(|g| Buffers::new(&compiled.kernels[TAIL], g));
    let mut rng = ChaCha8Rng::seed_from_u64(seed.wrapping_add(0x5eed));
    let mut order: Vec<usize> = (0..data.rows).collect();
    let (mut batch_x, mut batch_y) = (Vec::new(), Vec::new());
    let mut epoch_losses = Vec::with_capacity(epochs as usize);
    let mut steps = 0u64;
    for epoch in 0..epochs {
        let start_params = params.clone();
        order.shuffle(&mut rng);
        let mut total = 0.0f64;
        for rows in order.chunks(graphs.batch) {
            let (kernel, buffers) = if rows.len() == graphs.batch {
                (&compiled.kernels[STEP], &mut step_buffers)
            } else {
                (&compiled.kernels[TAIL], tail_buffers.as_mut().expect("a tail kernel exists when rows do not divide"))
            };
            data.gather(rows, &mut batch_x, &mut batch_y);
            steps += 1;
            let lr = [optimizer.step_rate(learning_rate, steps)];
            let inputs: [&[f32]; 3] = [&batch_x, &batch_y, &lr];
            kernel.call(Frame {
                inputs: &inputs,
                params: &mut params,
                outputs: &mut buffers.outputs,
                scratch: &mut buffers.scratch,
            });
            total += f64::from(buffers.outputs[0][0]) * rows.len() as f64;
        }
        let loss = (total / data.rows as f64) as f32;
        if !loss.is_finite() {
            return Err(Diverged { epoch, loss, params: start_params });
        }
        epoch_losses.push(loss);
    }
    Ok(Training { epoch_losses, params })
}

/// The evaluation pass over every row: each output of the eval graph by name.
pub fn evaluate(graphs: &Graphs, compiled: &Compiled, data: &Dataset, params: &[Vec<f32>]) -> Vec<(String, Vec<f32>)> {
    let graph = &graphs.eval_opt;
    let kernel = &compiled.kernels[EVAL];
    let mut buffers = Buffers::new(kernel, graph);
    let mut forward_params: Vec<Vec<f32>> = params[..graph.params.len()].to_vec();
    let inputs: [&[f32]; 2] = [&data.inputs, &data.targets];
    kernel.call(Frame {
        inputs: &inputs,
        params: &mut forward_params,
        outputs: &mut buffers.outputs,
        scratch: &mut buffers.scratch,
    });
    graph.outputs.iter().map(|(name, _)| name.clone()).zip(buffers.outputs).collect()
}
