//! What a checked program asks for, in resolved, typed form.

use nnc_autodiff::Optimizer;
use nnc_diagnostics::Span;
use nnc_syntax::ast;

/// One `train` block with its model and data resolved.
#[derive(Clone, Debug)]
pub struct Job {
    pub model: Model,
    pub data: ast::DataBlock,
    pub train: TrainConfig,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Model {
    pub name: String,
    pub input_width: usize,
    pub layers: Vec<Layer>,
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
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activation {
    Identity,
    Relu,
    Sigmoid,
    Tanh,
}

impl Activation {
    pub const ALL: &[(&str, Activation)] = &[
        ("identity", Activation::Identity),
        ("linear", Activation::Identity),
        ("relu", Activation::Relu),
        ("sigmoid", Activation::Sigmoid),
        ("tanh", Activation::Tanh),
    ];

    pub fn name(self) -> &'static str {
        match self {
            Activation::Identity => "identity",
            Activation::Relu => "relu",
            Activation::Sigmoid => "sigmoid",
            Activation::Tanh => "tanh",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Loss {
    Mse,
}

impl Loss {
    pub const ALL: &[(&str, Loss)] = &[("mse", Loss::Mse)];
}

#[derive(Clone, Debug)]
pub struct TrainConfig {
    pub loss: Loss,
    pub optimizer: Optimizer,
    pub learning_rate: f32,
    pub epochs: u64,
    /// Rows per step; `None` means the whole training set.
    pub batch: Option<usize>,
    pub seed: u64,
}
