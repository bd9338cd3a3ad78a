//! What a run produced, as data: the CLI formats it as text or JSON.

use crate::metrics::Scores;
use crate::pipeline::JobPlan;
use crate::units::UnitCounts;
use nnc_data::{Rows, SplitOrder};

/// Wall-clock time of each phase, in milliseconds: `compile` is source to callable code
/// without reading data, which `load` times; `train` is the training run alone (every epoch
/// with its validation), `evaluate` the final evaluation of every split and the outputs.
/// `compile` is `compile_front` (nnc's own work: checking, lowering, autodiff, the graph
/// passes and kernel planning) plus `compile_codegen` (kernels to Cranelift IR and
/// Cranelift's compile to machine code, on both cores).
#[derive(Clone, Copy, Debug, Default, serde::Serialize)]
pub struct Timings {
    pub parse: f64,
    pub load: f64,
    pub compile: f64,
    pub compile_front: f64,
    pub compile_codegen: f64,
    pub train: f64,
    pub evaluate: f64,
}

impl Timings {
    /// Adds the front end's time (measured once for all blocks of a run) to `compile`.
    pub(crate) fn add_front(&mut self, front_ms: f64) {
        self.compile_front = front_ms;
        self.compile = self.compile_codegen + front_ms;
    }
}

/// One split's rows, predictions and scores.
#[derive(Clone, Debug, serde::Serialize)]
pub struct SplitReport {
    pub name: String,
    pub rows: usize,
    /// Rows per class, for classification.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub class_counts: Option<Vec<usize>>,
    pub loss: f32,
    pub scores: Scores,
    /// In the targets' original units.
    pub targets: Rows,
    pub predictions: Rows,
    /// The first [`sampled_rows`] rows' inputs (all of them when the split is smaller).
    #[serde(skip)]
    pub inputs: Rows,
    /// Each hidden layer's activations for the rows of `inputs`, by layer name.
    #[serde(skip)]
    pub hidden: Vec<(String, Rows)>,
    /// Each ReLU, sigmoid and tanh hidden layer's counts over every row of the split.
    #[serde(skip)]
    pub units: Vec<(String, UnitCounts)>,
}

/// Rows of a split whose inputs and hidden activations a report keeps, for the listing,
/// the plots and the saved layer: enough to picture a layer, while a million rows'
/// activations would take more memory than the data.
pub const SAMPLED_ROWS: usize = 65_536;

/// Bytes of inputs and hidden activations a report keeps of one split, at most: a 28×28
/// CNN's are 94 KB a row, and keeping 2,048 rows' took longer than computing them.
pub const SAMPLED_BYTES: usize = 32 << 20;

/// Rows a report keeps however wide their activations are.
const MIN_SAMPLED_ROWS: usize = 64;

/// Rows of a split small enough for `nnc run` to list every one of them with every hidden
/// layer's activations (a larger split's listing shows its first rows without them).
pub const LISTED_ROWS: usize = 20;

/// The hidden layer the hidden-states figure pictures: the first with two units (the
/// course's "hidden states h"), else the first.
pub fn pictured_layer(model: &nnc_check::Model) -> Option<&nnc_check::Layer> {
    let (_, hidden) = model.layers.split_last()?;
    hidden.iter().find(|layer| layer.units() == Some(2)).or(hidden.first())
}

/// Whether `plan`'s report keeps hidden layer `layer`'s activations of split `split` (of
/// `rows` rows): the pictured layer's of the training split, the saved layer's, and every
/// layer's of a split it lists whole. The others are only counted as they pass
/// ([`crate::units`]): keeping every layer's copied W5's activations at a third of its
/// evaluation's time.
pub fn keeps_hidden(plan: &JobPlan, (split, rows): (&str, usize), layer: &str) -> bool {
    let pictured = split == "train" && pictured_layer(&plan.job.model).is_some_and(|l| l.name == layer);
    let saved = plan.job.train.save_layer.as_ref().is_some_and(|(saved, _)| saved == layer);
    rows <= LISTED_ROWS || pictured || saved
}

/// Rows of each split whose inputs and kept hidden activations ([`keeps_hidden`]) `plan`'s
/// report keeps: every row when the program saves a hidden layer (the file needs them
/// all), else the first [`SAMPLED_ROWS`], fewer when the inputs and the pictured layer
/// would pass [`SAMPLED_BYTES`].
pub fn sampled_rows(plan: &JobPlan) -> usize {
    if plan.job.train.save_layer.is_some() {
        return usize::MAX;
    }
    let pictured = pictured_layer(&plan.job.model).map_or(0, |layer| layer.output.size());
    let row_bytes = (plan.data.train.n_inputs() + pictured).saturating_mul(4).max(1);
    (SAMPLED_BYTES / row_bytes).clamp(MIN_SAMPLED_ROWS, SAMPLED_ROWS)
}

/// A parameter's name, shape and row-major values.
pub type NamedTensor = (String, Vec<usize>, Vec<f32>);

/// The result of one `train` block.
#[derive(Clone, Debug)]
pub struct JobReport {
    pub model: String,
    pub data: String,
    pub loss: String,
    pub epochs: u64,
    pub batch: usize,
    pub seed: u64,
    pub learning_rate: f32,
    /// Training-split loss after training.
    pub final_loss: f32,
    pub epoch_losses: Vec<f32>,
    pub val_losses: Vec<f32>,
    /// `(stopped after epoch, best epoch)` when early stopping ended training.
    pub early_stop: Option<(u64, u64)>,
    /// Whether an interrupt (Ctrl-C) ended training early; the report is of the epochs done.
    pub interrupted: bool,
    pub task: String,
    pub classes: Vec<String>,
    pub input_names: Vec<String>,
    pub target_names: Vec<String>,
    pub splits: Vec<SplitReport>,
    /// How rows were assigned to the splits, and how many were left out.
    pub split_order: SplitOrder,
    pub dropped_rows: usize,
    /// One line per source column: its type and encoding.
    pub preprocessing: Vec<String>,
    /// Whether the model sees the inputs changed (normalised, one-hot, windowed).
    pub inputs_encoded: bool,
    /// Mean absolute error of "next = last" per split, for time-series windows.
    pub naive_mae: Option<Vec<(String, f32)>>,
    /// Every trained forward parameter by name.
    pub parameters: Vec<NamedTensor>,
    /// Where `save_layer` wrote its file.
    pub saved: Option<String>,
    pub timings: Timings,
    /// The buffers the run allocated, as planned before allocating them.
    pub memory: crate::Need,
    /// Per-kernel times, slowest first, when profiling.
    pub profile: Vec<KernelProfile>,
}

impl JobReport {
    /// The split results are judged on: test if there is one, else training.
    pub fn primary(&self) -> &SplitReport {
        self.splits.iter().find(|s| s.name == "test").unwrap_or(&self.splits[0])
    }
}

/// Time spent in one kernel during training and evaluation (`nnc run --profile`).
#[derive(Clone, Debug, serde::Serialize)]
pub struct KernelProfile {
    /// The compiled function (`train`, `train.tail`, `eval.val`, ...).
    pub function: String,
    pub kernel: usize,
    /// Its kind, shape and strategy, and what it computes.
    pub summary: String,
    pub calls: u64,
    pub total_us: f64,
    /// Floating-point operations per second over its calls.
    pub gflops: f64,
}

/// Everything one `nnc run` produced, in program order by kind.
#[derive(Clone, Debug, Default)]
pub struct RunReport {
    pub minimizations: Vec<MinimizeReport>,
    pub jobs: Vec<JobReport>,
    /// Blocks not run because an interrupt (Ctrl-C) stopped an earlier one, as
    /// `minimize NAME` or `train MODEL on DATA`.
    pub skipped: Vec<String>,
}

impl RunReport {
    /// Whether an interrupt stopped a block or kept one from running.
    pub fn interrupted(&self) -> bool {
        !self.skipped.is_empty()
            || self.jobs.iter().any(|job| job.interrupted)
            || self.minimizations.iter().any(|m| m.interrupted)
    }
}

/// The trajectory of one `minimize` block.
#[derive(Clone, Debug)]
pub struct MinimizeReport {
    pub name: String,
    pub formula: String,
    pub param_names: Vec<String>,
    pub learning_rate: f32,
    pub steps: u64,
    /// Step 0, every k-th step and the last (`nnc_runtime::MAX_POINTS` at most).
    pub trajectory: Vec<nnc_runtime::Point>,
    /// Whether an interrupt (Ctrl-C) stopped the descent before its last step.
    pub interrupted: bool,
    pub timings: Timings,
}
