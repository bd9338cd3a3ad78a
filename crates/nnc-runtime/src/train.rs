//! The training loop and evaluation around compiled kernels.

use crate::data::Dataset;
use crate::graphs::{Graphs, STEP_KERNEL};
use nnc_autodiff::Optimizer;
use nnc_codegen::{Compiled, Frame, Kernel};
use nnc_ir::Graph;
use nnc_lower::Schedule;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

/// How to train, resolved from the program and the command line.
pub struct TrainSettings<'a> {
    pub epochs: u64,
    pub optimizer: &'a Optimizer,
    pub learning_rate: f32,
    pub schedule: Schedule,
    /// Early stopping on the validation loss (needs a validation split).
    pub patience: Option<u64>,
    pub seed: u64,
}

/// What training produced.
pub struct Training {
    /// Mean training loss of each epoch (weighted by batch size).
    pub epoch_losses: Vec<f32>,
    /// Validation loss after each epoch, when there is a validation split.
    pub val_losses: Vec<f32>,
    /// Every parameter of the step graph, forward parameters first (the best epoch's
    /// when early stopping restored them).
    pub params: Vec<Vec<f32>>,
    /// `(stopped after epoch, best epoch)`, 1-based, when early stopping ended training.
    pub early_stop: Option<(u64, u64)>,
}

/// Training stopped because the loss stopped being a finite number.
#[derive(Debug)]
pub struct Diverged {
    pub epoch: u64,
    pub loss: f32,
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

/// Runs mini-batch training on `data`, shuffling rows each epoch; `validation` (split
/// index 1 of the evaluation kernels) is scored after every epoch when present.
pub fn train(
    graphs: &Graphs,
    compiled: &Compiled,
    data: &Dataset,
    validation: Option<&Dataset>,
    initial: Vec<Vec<f32>>,
    settings: &TrainSettings<'_>,
) -> Result<Training, Diverged> {
    let mut params = initial;
    // Optimizer state (velocities, moments) starts at zero.
    for decl in graphs.step_opt.params.iter().skip(params.len()) {
        params.push(vec![0.0; decl.shape.numel()]);
    }
    let mut step_buffers = Buffers::new(&compiled.kernels[STEP_KERNEL], &graphs.step_opt);
    let mut tail_buffers = graphs.tail_opt.as_ref().map(|g| Buffers::new(&compiled.kernels[graphs.tail_kernel()], g));
    let mut rng = ChaCha8Rng::seed_from_u64(settings.seed.wrapping_add(0x5eed));
    let mut order: Vec<usize> = (0..data.rows).collect();
    let (mut batch_x, mut batch_y) = (Vec::new(), Vec::new());
    let mut training =
        Training { epoch_losses: Vec::new(), val_losses: Vec::new(), params: Vec::new(), early_stop: None };
    let mut best: Option<(f32, u64, Vec<Vec<f32>>)> = None;
    let mut steps = 0u64;
    for epoch in 0..settings.epochs {
        let epoch_rate = settings.schedule.rate(settings.learning_rate, epoch);
        order.shuffle(&mut rng);
        let mut total = 0.0f64;
        for rows in order.chunks(graphs.batch) {
            let (kernel, buffers) = if rows.len() == graphs.batch {
                (&compiled.kernels[STEP_KERNEL], &mut step_buffers)
            } else {
                let tail = tail_buffers.as_mut().expect("a tail kernel exists when rows do not divide");
                (&compiled.kernels[graphs.tail_kernel()], tail)
            };
            data.gather(rows, &mut batch_x, &mut batch_y);
            steps += 1;
            let lr = [settings.optimizer.step_rate(epoch_rate, steps)];
            let inputs: [&[f32]; 3] = [&batch_x, &batch_y, &lr];
            let frame = Frame {
                inputs: &inputs,
                params: &mut params,
                outputs: &mut buffers.outputs,
                scratch: &mut buffers.scratch,
            };
            kernel.call(frame);
            total += f64::from(buffers.outputs[0][0]) * rows.len() as f64;
        }
        let loss = (total / data.rows as f64) as f32;
        if !loss.is_finite() {
            return Err(Diverged { epoch, loss });
        }
        training.epoch_losses.push(loss);
        let Some(validation) = validation else { continue };
        let val_loss = loss_of(&evaluate(graphs, compiled, 1, validation, &params));
        training.val_losses.push(val_loss);
        // Only early stopping restores the best weights, so only it needs a copy of them.
        if settings.patience.is_some() && best.as_ref().is_none_or(|(b, _, _)| val_loss < *b) {
            best = Some((val_loss, epoch, params.clone()));
        }
        if let (Some(patience), Some((_, best_epoch, _))) = (settings.patience, &best)
            && epoch - best_epoch >= patience
        {
            training.early_stop = Some((epoch + 1, best_epoch + 1));
            break;
        }
    }
    training.params = match (settings.patience, best) {
        (Some(_), Some((_, _, best_params))) => best_params,
        _ => params,
    };
    Ok(training)
}

fn loss_of(outputs: &[(String, Vec<f32>)]) -> f32 {
    outputs.iter().find(|(name, _)| name == "loss").map_or(f32::NAN, |(_, v)| v[0])
}

/// The evaluation pass of split `split` over all its rows: each output by name.
pub fn evaluate(
    graphs: &Graphs,
    compiled: &Compiled,
    split: usize,
    data: &Dataset,
    params: &[Vec<f32>],
) -> Vec<(String, Vec<f32>)> {
    let graph = &graphs.evals_opt[split];
    let kernel = &compiled.kernels[graphs.eval_kernel(split)];
    let mut buffers = Buffers::new(kernel, graph);
    let mut forward_params: Vec<Vec<f32>> = params[..graph.params.len()].to_vec();
    let inputs: [&[f32]; 2] = [&data.inputs, &data.targets];
    let frame = Frame {
        inputs: &inputs,
        params: &mut forward_params,
        outputs: &mut buffers.outputs,
        scratch: &mut buffers.scratch,
    };
    kernel.call(frame);
    graph.outputs.iter().map(|(name, _)| name.clone()).zip(buffers.outputs).collect()
}
