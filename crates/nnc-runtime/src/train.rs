//! The training loop and evaluation around compiled kernels.

use crate::{DataView, Role};
use nnc_codegen::{Compiled, Frame, Kernel};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

/// How to run the epochs. Everything the program and the command line decide has been
/// resolved by the driver; the runtime only executes it.
pub struct TrainLoop<'a> {
    pub epochs: u64,
    /// Rows per step; the last step of an epoch takes the rest (the tail kernel).
    pub batch: usize,
    /// Stop after this many epochs without a better validation loss; keep the best weights.
    pub patience: Option<u64>,
    /// Seeds the per-epoch shuffle of the training rows.
    pub shuffle_seed: u64,
    /// The `lr` input of the step: given the epoch (0-based) and the step (1-based,
    /// counted over the whole run).
    pub rate: &'a dyn Fn(u64, u64) -> f32,
}

/// What training produced.
pub struct Training {
    /// Mean training loss of each epoch (weighted by batch size).
    pub epoch_losses: Vec<f32>,
    /// Validation loss after each epoch, when there is a validation split.
    pub val_losses: Vec<f32>,
    /// Every parameter of the step, forward parameters first (the best epoch's when
    /// early stopping restored them).
    pub params: Vec<Vec<f32>>,
    /// `(stopped after epoch, best epoch)`, 1-based, when early stopping ended training.
    pub early_stop: Option<(u64, u64)>,
}

/// Training stopped because the loss stopped being a finite number.
#[derive(Debug)]
pub struct Diverged {
    /// 0-based.
    pub epoch: u64,
    pub loss: f32,
    /// The finite losses of the epochs before.
    pub epoch_losses: Vec<f32>,
}

/// Buffers reused by every call of one kernel, so steps do not allocate.
struct Buffers {
    outputs: Vec<Vec<f32>>,
    scratch: Vec<f32>,
}

impl Buffers {
    fn new(kernel: &Kernel) -> Buffers {
        let outputs = kernel.outputs().map(|(_, len)| vec![0.0; len]).collect();
        Buffers { outputs, scratch: vec![0.0; kernel.plan().scratch_len] }
    }
}

fn kernel<'a>(compiled: &'a Compiled, role: &Role) -> &'a Kernel {
    compiled.kernel(&role.name()).unwrap_or_else(|| panic!("internal error: no kernel for {}", role.name()))
}

/// Runs mini-batch training on `data` with the `Step` (and `TailStep`) kernels,
/// shuffling rows each epoch; `validation` is scored after every epoch with the
/// `Eval("val")` kernel when present.
pub fn train(
    compiled: &Compiled,
    data: DataView<'_>,
    validation: Option<DataView<'_>>,
    initial: Vec<Vec<f32>>,
    settings: &TrainLoop<'_>,
) -> Result<Training, Diverged> {
    let step = kernel(compiled, &Role::Step);
    let mut params = initial;
    // Optimizer state (velocities, moments) starts at zero.
    for &len in step.param_sizes().iter().skip(params.len()) {
        params.push(vec![0.0; len]);
    }
    let tail = compiled.kernel(&Role::TailStep.name());
    let mut step_buffers = Buffers::new(step);
    let mut tail_buffers = tail.map(Buffers::new);
    let mut rng = ChaCha8Rng::seed_from_u64(settings.shuffle_seed.wrapping_add(0x5eed));
    let mut order: Vec<usize> = (0..data.rows).collect();
    let (mut batch_x, mut batch_y) = (Vec::new(), Vec::new());
    let mut training =
        Training { epoch_losses: Vec::new(), val_losses: Vec::new(), params: Vec::new(), early_stop: None };
    let mut best: Option<(f32, u64, Vec<Vec<f32>>)> = None;
    let mut steps = 0u64;
    for epoch in 0..settings.epochs {
        order.shuffle(&mut rng);
        let mut total = 0.0f64;
        for rows in order.chunks(settings.batch) {
            let (kernel, buffers) = match (&mut tail_buffers, tail) {
                (Some(buffers), Some(tail)) if rows.len() != settings.batch => (tail, buffers),
                _ => (step, &mut step_buffers),
            };
            data.gather(rows, &mut batch_x, &mut batch_y);
            steps += 1;
            let lr = [(settings.rate)(epoch, steps)];
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
            return Err(Diverged { epoch, loss, epoch_losses: training.epoch_losses });
        }
        training.epoch_losses.push(loss);
        let Some(validation) = validation else { continue };
        let val_loss = loss_of(&evaluate(compiled, &Role::Eval("val"), validation, &params));
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

/// Runs the evaluation kernel of `role` over all rows of `data`: each output by name.
pub fn evaluate(compiled: &Compiled, role: &Role, data: DataView<'_>, params: &[Vec<f32>]) -> Vec<(String, Vec<f32>)> {
    let kernel = kernel(compiled, role);
    let mut buffers = Buffers::new(kernel);
    let mut forward_params: Vec<Vec<f32>> = params[..kernel.param_sizes().len()].to_vec();
    let inputs: [&[f32]; 2] = [data.inputs, data.targets];
    let frame = Frame {
        inputs: &inputs,
        params: &mut forward_params,
        outputs: &mut buffers.outputs,
        scratch: &mut buffers.scratch,
    };
    kernel.call(frame);
    kernel.outputs().map(|(name, _)| name.to_string()).zip(buffers.outputs).collect()
}
