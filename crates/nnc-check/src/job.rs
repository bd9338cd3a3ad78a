//! What a checked program asks for, in resolved, typed form.

use nnc_autodiff::Optimizer;
use nnc_data::DataSpec;
use nnc_diagnostics::Span;

/// One `train` block with its model and data resolved.
#[derive(Clone, Debug)]
pub struct Job {
    pub model: Model,
    pub data: DataSpec,
    pub train: TrainConfig,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Model {
    pub name: String,
    pub input_width: usize,
    pub layers: Vec<Layer>,
    /// Where the input width is declared, for width errors found after loading data.
    pub input_span: Span,
    /// `input auto`: `input_width` is the data's column count, set once the data is loaded.
    pub input_auto: bool,
}

impl Model {
    pub fn output_width(&self) -> usize {
        self.layers.last().map_or(self.input_width, |l| l.units)
    }

    /// The width of the values flowing into layer `index`.
    pub fn fan_in(&self, index: usize) -> usize {
        if index == 0 { self.input_width } else { self.layers[index - 1].units }
    }
}

#[derive(Clone, Debug)]
pub struct Layer {
    /// `dense1`, `dense2`, ...: the prefix of its parameter names.
    pub name: String,
    pub units: usize,
    pub activation: Activation,
    /// Literal weights `[fan_in * units]`, row-major, if the program gives them.
    pub weights: Option<Vec<f32>>,
    pub bias: Option<Vec<f32>>,
    /// How to initialise weights and bias when no literal is given (`None`: by activation).
    pub init: Option<Init>,
    pub bias_init: Option<Init>,
    pub span: Span,
    /// Where the number of units is written, for fixes.
    pub units_span: Span,
}

/// A parameter initialiser.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Init {
    Zeros,
    Constant(f32),
    Uniform(f32, f32),
    Normal(f32, f32),
    /// Glorot uniform: limit sqrt(6 / (fan_in + fan_out)).
    Xavier,
    /// He normal: std sqrt(2 / fan_in).
    He,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activation {
    Identity,
    Relu,
    LeakyRelu,
    Sigmoid,
    Tanh,
    /// Over each row (the last axis).
    Softmax,
}

impl Activation {
    pub const ALL: &[(&str, Activation)] = &[
        ("identity", Activation::Identity),
        ("linear", Activation::Identity),
        ("relu", Activation::Relu),
        ("leaky_relu", Activation::LeakyRelu),
        ("sigmoid", Activation::Sigmoid),
        ("tanh", Activation::Tanh),
        ("softmax", Activation::Softmax),
    ];

    pub fn name(self) -> &'static str {
        match self {
            Activation::Identity => "identity",
            Activation::Relu => "relu",
            Activation::LeakyRelu => "leaky_relu",
            Activation::Sigmoid => "sigmoid",
            Activation::Tanh => "tanh",
            Activation::Softmax => "softmax",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Loss {
    Mse,
    Mae,
    /// Binary cross-entropy computed from logits (stable for large |z|).
    Bce,
    /// Softmax cross-entropy computed from logits, fused with the softmax.
    SoftmaxCe,
}

impl Loss {
    pub const ALL: &[(&str, Loss)] = &[
        ("mse", Loss::Mse),
        ("mae", Loss::Mae),
        ("bce", Loss::Bce),
        ("softmax_ce", Loss::SoftmaxCe),
        ("cross_entropy", Loss::SoftmaxCe),
    ];

    pub fn name(self) -> &'static str {
        match self {
            Loss::Mse => "mse",
            Loss::Mae => "mae",
            Loss::Bce => "bce",
            Loss::SoftmaxCe => "softmax_ce",
        }
    }

    /// The output activation this loss is computed through from logits, if any.
    pub fn fused_activation(self) -> Option<Activation> {
        match self {
            Loss::Mse | Loss::Mae => None,
            Loss::Bce => Some(Activation::Sigmoid),
            Loss::SoftmaxCe => Some(Activation::Softmax),
        }
    }
}

/// How the learning rate changes over epochs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Schedule {
    Constant,
    /// Multiply by `factor` every `every` epochs.
    Step {
        every: u64,
        factor: f32,
    },
}

impl Schedule {
    pub fn rate(self, base: f32, epoch: u64) -> f32 {
        match self {
            Schedule::Constant => base,
            Schedule::Step { every, factor } => base * factor.powi((epoch / every.max(1)).min(i32::MAX as u64) as i32),
        }
    }
}

#[derive(Clone, Debug)]
pub struct TrainConfig {
    pub loss: Loss,
    /// Where the loss is named, for diagnostics and fixes.
    pub loss_span: Span,
    pub optimizer: Optimizer,
    pub learning_rate: f32,
    pub epochs: u64,
    /// Rows per step; `None` means the whole training set.
    pub batch: Option<usize>,
    pub seed: u64,
    /// Shuffle the training rows before each epoch (`shuffle false`: file order, as a
    /// `DataLoader(shuffle=False)`; a batch of every row is never shuffled).
    pub shuffle: bool,
    pub schedule: Schedule,
    /// Stop after this many epochs without a better validation loss, keeping the best
    /// weights; with where it is set.
    pub patience: Option<(u64, Span)>,
    /// Write this layer's activations for every row to a CSV file (path relative to the program).
    pub save_layer: Option<(String, String)>,
    pub span: Span,
}
