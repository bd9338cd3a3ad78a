//! The training run and evaluation around compiled code. The run itself is one native
//! function (every epoch and step); Rust is entered once per epoch, to record the loss,
//! validate, stop early, and prepare the next epoch's row order and learning rates.

use crate::{DataView, Role};
use nnc_codegen::{Compiled, EpochEnd, Frame, Kernel, LoopEnd, LoopRun, Params};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use std::sync::atomic::AtomicU32;

/// How to run the epochs. Everything the program and the command line decide has been
/// resolved by the driver; the runtime only executes it.
pub struct TrainLoop<'a> {
    pub epochs: u64,
    /// Rows per step; the last step of an epoch takes the rest (the tail).
    pub batch: usize,
    /// Stop after this many epochs without a better validation loss; keep the best weights.
    pub patience: Option<u64>,
    /// Shuffle the training rows before each epoch (with `shuffle_seed`).
    pub shuffle: bool,
    /// Seeds the per-epoch shuffle of the training rows.
    pub shuffle_seed: u64,
    /// Batches of classes instead of a plain shuffle: each training row's class, and how
    /// many rows of a class go together (`sampler classes(per_class = K)`).
    pub classes: Option<(&'a [u32], usize)>,
    /// The `lr` input of a step: given the epoch (0-based) and the step (1-based, counted
    /// over the whole run).
    pub rate: &'a dyn Fn(u64, u64) -> f32,
    /// Set from another thread to stop after the current step.
    pub interrupt: Option<&'a AtomicU32>,
    /// Keep the forward parameters after every epoch (for plots of the descent's path):
    /// every k-th epoch and the last, at most `MAX_POINTS` of them.
    pub record: bool,
    /// Told how training goes (a progress bar listens), first after epoch 1; each call
    /// returns the next epoch (1-based) it wants to hear of, so that the epochs between
    /// cost one comparison.
    pub progress: Option<&'a dyn Fn(&EpochProgress<'_>) -> u64>,
    /// The first epoch `progress` hears of (1-based).
    pub first_report: u64,
}

/// A compiled function's output, by name.
pub type NamedOutput = (String, Vec<f32>);

/// What one epoch of training did, for whoever shows progress.
pub struct EpochProgress<'a> {
    /// 1-based.
    pub epoch: u64,
    pub epochs: u64,
    /// Steps taken so far, over the whole run.
    pub steps: u64,
    pub loss: f32,
    /// The validation loss and the validation split's outputs by name, when there is one.
    pub validation: Option<(f32, &'a [NamedOutput])>,
    /// The forward parameters after the epoch.
    pub params: &'a [&'a [f32]],
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
    /// Whether the interrupt flag stopped training early.
    pub interrupted: bool,
    /// With `record`: the forward parameters before training and after every k-th epoch
    /// (k = `sampling_stride(epochs)`) and the last.
    pub history: Vec<Vec<Vec<f32>>>,
}

/// Training stopped because something it produced stopped being a finite number.
#[derive(Debug)]
pub struct Diverged {
    /// 0-based.
    pub epoch: u64,
    pub cause: NonFinite,
    /// The finite losses of the epochs before.
    pub epoch_losses: Vec<f32>,
}

/// The first non-finite number a training run produced, in the order they are checked
/// after each epoch: the training loss, the parameters, the validation loss, the
/// validation predictions (and, by the driver, each split's predictions after training).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum NonFinite {
    /// The epoch's mean training loss (before each step's update).
    Loss(f32),
    /// Element `element` of parameter `param` (its index in the step's parameters:
    /// forward parameters first, then optimizer state).
    Param {
        param: usize,
        element: usize,
        value: f32,
    },
    ValidationLoss(f32),
    /// Element `element` of a split's predictions.
    Prediction {
        split: &'static str,
        element: usize,
        value: f32,
    },
}

/// The first non-finite element of `values`.
pub fn first_non_finite(values: &[f32]) -> Option<(usize, f32)> {
    values.iter().position(|v| !v.is_finite()).map(|element| (element, values[element]))
}

fn non_finite_param(params: &[impl AsRef<[f32]>]) -> Option<NonFinite> {
    params.iter().enumerate().find_map(|(param, values)| {
        first_non_finite(values.as_ref()).map(|(element, value)| NonFinite::Param { param, element, value })
    })
}

fn owned(params: &[&[f32]]) -> Vec<Vec<f32>> {
    params.iter().map(|p| p.to_vec()).collect()
}

/// The validation loss and predictions, when one of them is not finite.
fn non_finite_validation(outputs: &[NamedOutput]) -> Option<NonFinite> {
    let loss = loss_of(outputs);
    if !loss.is_finite() {
        return Some(NonFinite::ValidationLoss(loss));
    }
    let predictions = outputs.iter().find(|(name, _)| name == "prediction")?;
    first_non_finite(&predictions.1).map(|(element, value)| NonFinite::Prediction { split: "val", element, value })
}

fn kernel<'a>(compiled: &'a Compiled, role: &Role) -> &'a Kernel {
    compiled.kernel(&role.name()).unwrap_or_else(|| panic!("internal error: no kernel for {}", role.name()))
}

/// The row order, learning rates (and seeds) of each epoch.
struct Epochs<'a> {
    settings: &'a TrainLoop<'a>,
    rng: ChaCha8Rng,
    /// Steps taken before the epoch being prepared.
    steps: u64,
    shuffle: bool,
    /// Numbers per step in the rate table: the rate, then the seed when steps draw random
    /// numbers.
    per_step: usize,
    /// The class sampler's rows by class and its groups, kept between epochs.
    by_class: Vec<Vec<u32>>,
    groups: Vec<(u32, u32)>,
}

impl<'a> Epochs<'a> {
    fn new(settings: &'a TrainLoop<'a>, rows: usize, batch: usize, seeded: bool) -> Epochs<'a> {
        Epochs {
            settings,
            rng: ChaCha8Rng::seed_from_u64(settings.shuffle_seed.wrapping_add(0x5eed)),
            steps: 0,
            shuffle: settings.shuffle && batch < rows,
            per_step: 1 + usize::from(seeded),
            by_class: Vec::new(),
            groups: Vec::new(),
        }
    }

    /// Writes an order in which rows come in runs of `per_class` rows of one class (fewer
    /// where a class runs out), the rows of each class and the runs shuffled: every row
    /// once per epoch, and a batch of B rows holds about B / `per_class` classes with
    /// several rows each.
    fn group_by_class(&mut self, perm: &mut [u32], classes: &[u32], per_class: usize) {
        let count = classes.iter().copied().max().map_or(0, |c| c as usize + 1);
        self.by_class.resize_with(count, Vec::new);
        self.by_class.iter_mut().for_each(Vec::clear);
        for (row, &class) in classes.iter().enumerate().take(perm.len()) {
            self.by_class[class as usize].push(row as u32);
        }
        self.groups.clear();
        for (class, rows) in self.by_class.iter_mut().enumerate() {
            rows.shuffle(&mut self.rng);
            for start in (0..rows.len()).step_by(per_class.max(1)) {
                self.groups.push((class as u32, start as u32));
            }
        }
        self.groups.shuffle(&mut self.rng);
        let mut next = 0;
        for &(class, start) in &self.groups {
            let rows = &self.by_class[class as usize];
            let run = &rows[start as usize..(start as usize + per_class).min(rows.len())];
            perm[next..next + run.len()].copy_from_slice(run);
            next += run.len();
        }
        debug_assert_eq!(next, perm.len(), "every row once");
    }

    /// Writes epoch `epoch`'s row order (shuffling the previous one), rates and seeds.
    fn prepare(&mut self, epoch: u64, perm: &mut [u32], lr: &mut [f32]) {
        // One batch of every row: the order cannot change its gradient, only the order of
        // a sum, so a full batch is not shuffled.
        match self.settings.classes {
            Some((classes, per_class)) if classes.len() == perm.len() => self.group_by_class(perm, classes, per_class),
            _ if self.shuffle => perm.shuffle(&mut self.rng),
            _ => {}
        }
        for step in lr.chunks_mut(self.per_step) {
            self.steps += 1;
            step[0] = (self.settings.rate)(epoch, self.steps);
            if let Some(seed) = step.get_mut(1) {
                *seed = step_seed(self.settings.shuffle_seed, self.steps);
            }
        }
    }
}

/// The seed of step `step` (1-based, over the whole run) of a run seeded `seed`: what
/// its dropout layers draw from. A step replayed (`nnc trace`) draws the same numbers.
pub fn step_seed(seed: u64, step: u64) -> f32 {
    // SplitMix64's finaliser: neighbouring steps get unrelated seeds.
    let mut z = seed.wrapping_add(step.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    nnc_codegen::seed_value(z as u32)
}

/// Runs mini-batch training on `data` with the compiled training loop (`Role::TrainLoop`),
/// scoring `validation` after every epoch with the `Eval("val")` kernel when present.
pub fn train(
    compiled: &Compiled,
    data: DataView<'_>,
    validation: Option<DataView<'_>>,
    initial: Vec<Vec<f32>>,
    settings: &TrainLoop<'_>,
) -> Result<Training, Diverged> {
    let run_loop = compiled
        .train_loop(&Role::TrainLoop.name())
        .unwrap_or_else(|| panic!("internal error: no compiled training loop"));
    let shape = run_loop.shape();
    let mut params = initial;
    // Room for every epoch's loss up front: the epochs themselves allocate nothing.
    let capacity = settings.epochs.min(1 << 20) as usize;
    let mut training = Training {
        epoch_losses: Vec::with_capacity(capacity),
        val_losses: Vec::with_capacity(if validation.is_some() { capacity } else { 0 }),
        params: Vec::new(),
        early_stop: None,
        interrupted: false,
        history: Vec::new(),
    };
    let forward_params = params.len();
    // A recorded history keeps at most `MAX_POINTS` epochs, as a descent does.
    let history_stride = crate::descend::sampling_stride(settings.epochs);
    if settings.record {
        training.history.push(params.clone());
    }
    let mut diverged: Option<(u64, NonFinite)> = None;
    let mut best: Option<(f32, u64, Vec<Vec<f32>>)> = None;
    let mut epochs = Epochs::new(settings, shape.rows, shape.batch, shape.seeded);
    let mut perm: Vec<u32> = (0..shape.rows as u32).collect();
    let mut lr = vec![0.0f32; shape.steps() * shape.step_inputs()];
    epochs.prepare(0, &mut perm, &mut lr);
    // Moved into the loop, so moved out of the closure's reach.
    let (first_perm, first_lr) = (perm, lr);
    let quiet = AtomicU32::new(0);
    let mut next_report = settings.first_report;
    let mut on_epoch = |end: EpochEnd<'_>| -> bool {
        let loss = (end.loss_sum / data.rows as f64) as f32;
        let bad = if loss.is_finite() { non_finite_param(end.params) } else { Some(NonFinite::Loss(loss)) };
        if let Some(cause) = bad {
            diverged = Some((end.epoch, cause));
            return false;
        }
        training.epoch_losses.push(loss);
        let recorded_epoch = (end.epoch + 1).is_multiple_of(history_stride) || end.epoch + 1 == settings.epochs;
        if settings.record && recorded_epoch {
            training.history.push(owned(&end.params[..forward_params]));
        }
        let val_outputs = validation.map(|v| evaluate(compiled, &Role::Eval("val"), v, end.params, 0));
        if let Some(cause) = val_outputs.as_deref().and_then(non_finite_validation) {
            diverged = Some((end.epoch, cause));
            return false;
        }
        if let Some(report) = settings.progress
            && end.epoch + 1 >= next_report
        {
            let steps = (end.epoch + 1) * shape.steps() as u64;
            let validation = val_outputs.as_ref().map(|outputs| (loss_of(outputs), outputs.as_slice()));
            let params = &end.params[..forward_params];
            let epoch =
                EpochProgress { epoch: end.epoch + 1, epochs: settings.epochs, steps, loss, validation, params };
            next_report = report(&epoch);
        }
        if let Some(outputs) = &val_outputs {
            let val_loss = loss_of(outputs);
            training.val_losses.push(val_loss);
            // Only early stopping restores the best weights, so only it copies them (the
            // forward ones: the optimizer's state is not kept).
            if settings.patience.is_some() && best.as_ref().is_none_or(|(b, _, _)| val_loss < *b) {
                best = Some((val_loss, end.epoch, owned(&end.params[..forward_params])));
            }
            if let (Some(patience), Some((_, best_epoch, _))) = (settings.patience, &best)
                && end.epoch - best_epoch >= patience
            {
                training.early_stop = Some((end.epoch + 1, best_epoch + 1));
                return false;
            }
        }
        epochs.prepare(end.epoch + 1, end.perm, end.lr);
        true
    };
    // Optimizer state (velocities, moments) starts at zero.
    for &len in run_loop.param_sizes().iter().skip(params.len()) {
        params.push(vec![0.0; len]);
    }
    let end = run_loop.run(LoopRun {
        x: data.inputs,
        y: data.targets,
        params: &mut params,
        epochs: settings.epochs,
        perm: first_perm,
        lr: first_lr,
        interrupt: settings.interrupt.unwrap_or(&quiet),
        on_epoch: &mut on_epoch,
    });
    training.interrupted = end == LoopEnd::Interrupted;
    // An interrupt ends the loop after a step, without the epoch's check.
    if training.interrupted && diverged.is_none() {
        let epoch = training.epoch_losses.len() as u64;
        diverged = non_finite_param(&params).map(|cause| (epoch, cause));
    }
    if let Some((epoch, cause)) = diverged {
        return Err(Diverged { epoch, cause, epoch_losses: training.epoch_losses });
    }
    training.params = match (settings.patience, best) {
        (Some(_), Some((_, _, best_params))) => best_params,
        _ => params,
    };
    Ok(training)
}

/// One step of a training run: which rows it reads (in order), its learning rate and
/// the seed its random numbers are drawn from.
#[derive(Clone, Debug, PartialEq)]
pub struct ScheduledStep {
    /// 0-based.
    pub epoch: u64,
    pub rows: Vec<u32>,
    pub lr: f32,
    pub seed: f32,
}

/// The first `steps` steps of a run over `rows` rows in batches of `batch`, exactly as
/// [`train`] takes them (the same shuffles and rates): what `nnc trace` replays.
pub fn schedule(settings: &TrainLoop<'_>, rows: usize, batch: usize, steps: u64) -> Vec<ScheduledStep> {
    let batch = batch.clamp(1, rows.max(1));
    let per_epoch = rows.div_ceil(batch);
    let mut epochs = Epochs::new(settings, rows, batch, true);
    let mut perm: Vec<u32> = (0..rows as u32).collect();
    let mut lr = vec![0.0f32; per_epoch * 2];
    let mut out = Vec::new();
    let mut epoch = 0;
    while (out.len() as u64) < steps && per_epoch > 0 {
        epochs.prepare(epoch, &mut perm, &mut lr);
        for (chunk, step) in perm.chunks(batch).zip(lr.chunks(2)) {
            if out.len() as u64 == steps {
                break;
            }
            out.push(ScheduledStep { epoch, rows: chunk.to_vec(), lr: step[0], seed: step[1] });
        }
        epoch += 1;
    }
    out
}

fn loss_of(outputs: &[(String, Vec<f32>)]) -> f32 {
    outputs.iter().find(|(name, _)| name == "loss").map_or(f32::NAN, |(_, v)| v[0])
}

/// Runs the evaluation of a split (`Role::Eval(name)`) over `data`, one chunk of rows at
/// a time (the kernel's rows; the last, smaller chunk by `Role::EvalRest(name)`), so its
/// scratch is bounded by a chunk, not by the split. Outputs by name: each row's outputs
/// (`prediction`, hidden layers) concatenated in row order, and `loss` as the mean over
/// every row (each chunk's mean weighted by its rows; under a metric loss, the mean of
/// the chunks' losses over the pairs within each chunk).
///
/// Hidden layers' outputs are kept for the first `hidden_rows` rows only: a million rows
/// of a 32-unit layer are 128 MB that a report samples.
pub fn evaluate(
    compiled: &Compiled,
    role: &Role,
    data: DataView<'_>,
    params: &[impl AsRef<[f32]>],
    hidden_rows: usize,
) -> Vec<(String, Vec<f32>)> {
    evaluate_observed(compiled, role, data, params, &|_| hidden_rows, &mut |_, _| {})
}

/// [`evaluate`] keeping the first `hidden_rows(name)` rows of each hidden output, and
/// handing every chunk's hidden outputs, of every row and not only the kept ones, to
/// `observe` (the output's name and the chunk's rows of it, row-major) while they are in
/// cache: how a report summarises each unit over a split it does not keep.
pub fn evaluate_observed(
    compiled: &Compiled,
    role: &Role,
    data: DataView<'_>,
    params: &[impl AsRef<[f32]>],
    hidden_rows: &dyn Fn(&str) -> usize,
    observe: &mut dyn FnMut(&str, &[f32]),
) -> Vec<(String, Vec<f32>)> {
    let full = kernel(compiled, role);
    let x_width = data.inputs.len() / data.rows.max(1);
    let y_width = data.targets.len() / data.rows.max(1);
    let chunk = (full.input_sizes().first().copied().unwrap_or(0) / x_width.max(1)).max(1);
    let mut results: Vec<(String, Vec<f32>)> = full.outputs().map(|(name, _)| (name.to_string(), Vec::new())).collect();
    let mut buffers = EvalBuffers::default();
    let mut loss_sum = 0.0f64;
    let mut start = 0;
    while start < data.rows {
        let rows = chunk.min(data.rows - start);
        let kernel = if rows == chunk { full } else { kernel(compiled, &rest_of(role)) };
        let view = DataView {
            inputs: data.inputs.get(start * x_width..(start + rows) * x_width).unwrap_or_default(),
            targets: data.targets.get(start * y_width..(start + rows) * y_width).unwrap_or_default(),
            rows,
        };
        run_eval(kernel, view, params, &mut buffers);
        for ((name, _), (values, (_, result))) in kernel.outputs().zip(buffers.outputs.iter().zip(&mut results)) {
            if name == "loss" {
                loss_sum += f64::from(values.first().copied().unwrap_or(0.0)) * rows.max(1) as f64;
            } else if name == "prediction" {
                result.extend_from_slice(values);
            } else {
                observe(name, values);
                let width = values.len() / rows.max(1);
                let kept = hidden_rows(name).saturating_sub(start).min(rows);
                result.extend_from_slice(&values[..kept * width]);
            }
        }
        start += chunk;
    }
    for (name, values) in &mut results {
        if name == "loss" {
            *values = vec![(loss_sum / data.rows.max(1) as f64) as f32];
        }
    }
    results
}

/// The role of a split's last, smaller chunk.
fn rest_of(role: &Role) -> Role {
    match role {
        Role::Eval(split) => Role::EvalRest(split),
        other => other.clone(),
    }
}

/// An evaluation's scratch and outputs, kept from call to call. A fresh zeroed arena and
/// fresh outputs for every call were faulted in and zeroed again each time: 15 MB a call
/// of 64 rows for W5 at 28×28, whose evaluation took 266 ms with them and 230 without. A
/// program does not read what a call before it left in them (the training loop and
/// `predict` reuse theirs too).
#[derive(Default)]
struct EvalBuffers {
    scratch: Vec<f32>,
    outputs: Vec<Vec<f32>>,
}

/// One call of an evaluation kernel on a chunk that fits it exactly; its outputs are left
/// in `buffers.outputs`, in the kernel's order.
fn run_eval(kernel: &Kernel, data: DataView<'_>, params: &[impl AsRef<[f32]>], buffers: &mut EvalBuffers) {
    if buffers.scratch.len() < kernel.arena_len() {
        buffers.scratch.resize(kernel.arena_len(), 0.0);
    }
    if !buffers.outputs.iter().map(Vec::len).eq(kernel.outputs().map(|(_, len)| len)) {
        buffers.outputs = kernel.outputs().map(|(_, len)| vec![0.0; len]).collect();
    }
    let forward: Vec<&[f32]> = params[..kernel.param_sizes().len()].iter().map(AsRef::as_ref).collect();
    let inputs: [&[f32]; 2] = [data.inputs, data.targets];
    kernel.call(Frame {
        inputs: &inputs,
        params: Params::Read(&forward),
        outputs: &mut buffers.outputs,
        scratch: &mut buffers.scratch,
    });
}

/// Runs the `Step` (or `TailStep`) kernel once on one batch: the standalone step the
/// training loop inlines, for tests that compare it with the interpreter.
pub fn step_once(
    compiled: &Compiled,
    role: &Role,
    batch: DataView<'_>,
    (lr, seed): (f32, f32),
    params: &mut [Vec<f32>],
) -> f32 {
    let kernel = kernel(compiled, role);
    let mut outputs: Vec<Vec<f32>> = kernel.outputs().map(|(_, len)| vec![0.0; len]).collect();
    let mut scratch = vec![0.0; kernel.arena_len()];
    let (lr, seed) = ([lr], [seed]);
    // A step that draws random numbers reads its seed before its learning rate.
    let seeded = kernel.input_sizes().len() == 4;
    let inputs: Vec<&[f32]> =
        if seeded { vec![batch.inputs, batch.targets, &seed, &lr] } else { vec![batch.inputs, batch.targets, &lr] };
    kernel.call(Frame {
        inputs: &inputs,
        params: Params::Update(params),
        outputs: &mut outputs,
        scratch: &mut scratch,
    });
    outputs[0][0]
}

#[cfg(test)]
mod tests {
    use super::{NonFinite, non_finite_param, non_finite_validation};

    #[test]
    fn the_first_non_finite_parameter_is_named_by_index_and_element() {
        assert_eq!(non_finite_param(&[vec![1.0, 2.0], vec![0.0]]), None);
        let params = [vec![1.0, 2.0], vec![0.0, f32::INFINITY, f32::NAN], vec![f32::NAN]];
        assert_eq!(non_finite_param(&params), Some(NonFinite::Param { param: 1, element: 1, value: f32::INFINITY }));
    }

    #[test]
    fn a_validation_loss_or_prediction_that_is_not_a_number_is_caught() {
        let outputs = |loss: f32, prediction: f32| {
            vec![("loss".to_string(), vec![loss]), ("prediction".to_string(), vec![0.5, prediction])]
        };
        assert_eq!(non_finite_validation(&outputs(0.1, 0.2)), None);
        assert!(
            matches!(non_finite_validation(&outputs(f32::NAN, 0.2)), Some(NonFinite::ValidationLoss(l)) if l.is_nan())
        );
        let prediction = non_finite_validation(&outputs(0.1, f32::NEG_INFINITY));
        assert_eq!(prediction, Some(NonFinite::Prediction { split: "val", element: 1, value: f32::NEG_INFINITY }));
    }
}
