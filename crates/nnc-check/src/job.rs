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
    /// What one example is: declared, or (`input auto`) the data's columns.
    pub input: Features,
    /// `input auto`: `input` is `Flat(0)` until the data is loaded.
    pub input_auto: bool,
    pub layers: Vec<Layer>,
    /// Where the input is declared, for width errors found after loading data.
    pub input_span: Span,
    /// Whether every layer's shapes are known: at check time, unless the input is `auto`
    /// or a layer is an embedding (both need the data); else once the data is loaded.
    pub settled: bool,
}

impl Model {
    /// The numbers one example gives the model.
    pub fn input_width(&self) -> usize {
        self.input.size()
    }

    /// The model's outputs per example: the last layer's, once shapes are settled; before,
    /// a last `dense N` says it.
    pub fn output_width(&self) -> Option<usize> {
        let last = self.layers.last()?;
        match last.kind {
            _ if self.settled => Some(last.output.size()),
            LayerKind::Dense { units } => Some(units),
            _ => None,
        }
    }

    /// The shape flowing out of `source`.
    pub fn features(&self, source: Source) -> Features {
        match source {
            Source::Input => self.input,
            Source::Layer(index) => self.layers[index].output,
        }
    }

    /// `input`, or the layer's name.
    pub fn source_name(&self, source: Source) -> &str {
        match source {
            Source::Input => "input",
            Source::Layer(index) => &self.layers[index].name,
        }
    }

    /// Whether the model is a plain stack of dense layers (what the matrix views draw).
    pub fn is_dense_stack(&self) -> bool {
        self.layers.iter().enumerate().all(|(i, l)| {
            matches!(l.kind, LayerKind::Dense { .. })
                && l.from == if i == 0 { Source::Input } else { Source::Layer(i - 1) }
        })
    }
}

/// The shape of one example between layers (the batch is not part of it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Features {
    /// `n` numbers.
    Flat(usize),
    /// `len` steps of `channels` numbers each: what `conv1d` takes and gives.
    Series { len: usize, channels: usize },
    /// Height × width × channels, channels last (as Keras and TensorFlow lay images out;
    /// exports transpose to PyTorch's and ONNX's channels-first).
    Image { height: usize, width: usize, channels: usize },
}

impl Features {
    /// How many numbers.
    pub fn size(self) -> usize {
        self.dims().iter().product()
    }

    pub fn dims(self) -> Vec<usize> {
        match self {
            Features::Flat(n) => vec![n],
            Features::Series { len, channels } => vec![len, channels],
            Features::Image { height, width, channels } => vec![height, width, channels],
        }
    }

    /// The last axis: features of a vector, channels of a series or image.
    pub fn channels(self) -> usize {
        *self.dims().last().unwrap_or(&1)
    }

    /// `64`, `24x1`, `8x8x16`.
    pub fn describe(self) -> String {
        self.dims().iter().map(usize::to_string).collect::<Vec<_>>().join("x")
    }
}

/// Where a layer takes its input from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Input,
    Layer(usize),
}

#[derive(Clone, Debug)]
pub struct Layer {
    /// Its kind and its 1-based position, `dense1`, `conv2`, `maxpool3`: the prefix of its
    /// parameter names, and how other layers and `save_layer` name it.
    pub name: String,
    pub kind: LayerKind,
    pub activation: Activation,
    /// What it reads: the layer before it, or `from = NAME`.
    pub from: Source,
    /// Its input and output shapes, once settled.
    pub input: Features,
    pub output: Features,
    /// Literal weights `[fan_in * units]` (dense) or `[kh, kw, channels, filters]` (conv),
    /// row-major, if the program gives them.
    pub weights: Option<Vec<f32>>,
    pub bias: Option<Vec<f32>>,
    /// The literals as written, checked against the shapes when they are settled.
    pub literals: [Option<nnc_syntax::ast::Value>; 2],
    /// How to initialise weights and bias when no literal is given (`None`: by activation).
    pub init: Option<Init>,
    pub bias_init: Option<Init>,
    /// `normalize = l2`: each row's output (after the activation) divided by its
    /// Euclidean length, as an embedding for cosine similarity wants.
    pub normalize: bool,
    pub span: Span,
    /// Where the size (units, filters, rate) is written, for fixes; the kind when none is.
    pub size_span: Span,
}

impl Layer {
    /// The number of output units of a dense layer.
    pub fn units(&self) -> Option<usize> {
        match self.kind {
            LayerKind::Dense { units } => Some(units),
            _ => None,
        }
    }

    /// The layer's parameters: name suffix, shape and whether training updates it by its
    /// gradient (batch norm's running statistics are updated by the forward pass).
    pub fn params(&self) -> Vec<ParamSpec> {
        let input = self.input;
        let trained = |suffix: &'static str, shape: Vec<usize>| ParamSpec { suffix, shape, trained: true };
        match self.kind {
            LayerKind::Dense { units } => vec![trained("w", vec![input.size(), units]), trained("b", vec![units])],
            LayerKind::Conv { filters, kernel, .. } => {
                vec![trained("w", vec![kernel[0], kernel[1], input.channels(), filters]), trained("b", vec![filters])]
            }
            LayerKind::BatchNorm { .. } => {
                let c = input.channels();
                vec![
                    trained("gamma", vec![c]),
                    trained("beta", vec![c]),
                    ParamSpec { suffix: "mean", shape: vec![c], trained: false },
                    ParamSpec { suffix: "var", shape: vec![c], trained: false },
                ]
            }
            LayerKind::Embedding { dim, slot, .. } => vec![trained("table", vec![slot.map_or(0, |s| s.width), dim])],
            LayerKind::Pool { .. } | LayerKind::Flatten | LayerKind::Dropout { .. } | LayerKind::Join { .. } => {
                Vec::new()
            }
        }
    }
}

/// One parameter of a layer.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamSpec {
    /// `w`, `b`, `gamma`, ...: the parameter is `{layer}.{suffix}`.
    pub suffix: &'static str,
    pub shape: Vec<usize>,
    pub trained: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub enum LayerKind {
    /// `dense N`: `x · W + b` (an image or series is flattened first).
    Dense { units: usize },
    /// `conv2d N` (and `conv1d N`, `kernel` `[1, k]` over a series): `filters` filters of
    /// `kernel` (height, width) taking steps of `stride`, zero padding `before`/`after`
    /// along height and width.
    Conv { filters: usize, kernel: [usize; 2], stride: [usize; 2], padding: Padding, series: bool },
    /// `maxpool` / `avgpool`: the maximum or mean of each window.
    Pool { max: bool, size: [usize; 2], stride: [usize; 2], series: bool },
    /// An image or series as a vector.
    Flatten,
    /// `dropout P`: in training, each number is zeroed with probability `rate` and the rest
    /// scaled by 1/(1 - rate); identity at evaluation, prediction and export.
    Dropout { rate: f32 },
    /// `batchnorm`: each channel normalised by the batch's mean and variance in training,
    /// by running estimates at evaluation (PyTorch's `momentum` convention).
    BatchNorm { momentum: f32, epsilon: f32 },
    /// `embedding N (column = NAME)`: the one-hot columns of a categorical column replaced
    /// by a learned vector of `dim` numbers per category.
    Embedding { dim: usize, column: String, column_span: Span, slot: Option<ColumnSlot> },
    /// `add NAME` / `concat NAME`: this layer's input joined with NAME's output.
    Join { concat: bool, other: Source, other_span: Span },
}

impl LayerKind {
    pub fn name(&self) -> &'static str {
        match self {
            LayerKind::Dense { .. } => "dense",
            LayerKind::Conv { series: false, .. } => "conv2d",
            LayerKind::Conv { series: true, .. } => "conv1d",
            LayerKind::Pool { max: true, .. } => "maxpool",
            LayerKind::Pool { max: false, .. } => "avgpool",
            LayerKind::Flatten => "flatten",
            LayerKind::Dropout { .. } => "dropout",
            LayerKind::BatchNorm { .. } => "batchnorm",
            LayerKind::Embedding { .. } => "embedding",
            LayerKind::Join { concat: false, .. } => "add",
            LayerKind::Join { concat: true, .. } => "concat",
        }
    }
}

/// `padding = same | valid`, as in Keras: `valid` takes only whole windows; `same` pads
/// with zeros so that the output is ⌈input / stride⌉ long, splitting the padding evenly
/// with any extra after (TensorFlow's rule).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Padding {
    Valid,
    Same,
}

/// Where a categorical column's one-hot block sits among the input columns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ColumnSlot {
    pub start: usize,
    pub width: usize,
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

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Loss {
    Mse,
    Mae,
    /// Binary cross-entropy computed from logits (stable for large |z|).
    Bce,
    /// Softmax cross-entropy computed from logits, fused with the softmax.
    SoftmaxCe,
    /// A metric loss: the model's output is an embedding, and the class labels only say
    /// which rows should lie close together.
    Metric(Metric),
}

/// A loss that learns an embedding from class labels, within each batch.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Metric {
    pub kind: MetricKind,
    /// How much farther a row of another class must lie than one of its own (triplet), or
    /// the distance beyond which other classes' rows cost nothing (contrastive).
    pub margin: f32,
    /// The number of classes: the width of the one-hot targets. 0 until the data (or the
    /// weights' metadata) settles it.
    pub classes: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetricKind {
    /// FaceNet's triplet loss with batch-hard mining: for each row, its farthest
    /// same-class row and its nearest other-class row in the batch, by squared distance.
    Triplet,
    /// Hadsell, Chopra and LeCun's contrastive loss over every pair of rows in the batch.
    Contrastive,
}

impl MetricKind {
    pub fn name(self) -> &'static str {
        match self {
            MetricKind::Triplet => "triplet",
            MetricKind::Contrastive => "contrastive",
        }
    }

    /// The margin when the program gives none: FaceNet's 0.2 (for embeddings of length
    /// 1, where squared distances lie in [0, 4]); 1.0 for contrastive, as Hadsell et al.
    pub fn default_margin(self) -> f32 {
        match self {
            MetricKind::Triplet => 0.2,
            MetricKind::Contrastive => 1.0,
        }
    }
}

impl Loss {
    pub const ALL: &[(&str, Loss)] = &[
        ("mse", Loss::Mse),
        ("mae", Loss::Mae),
        ("bce", Loss::Bce),
        ("softmax_ce", Loss::SoftmaxCe),
        ("cross_entropy", Loss::SoftmaxCe),
        ("triplet", Loss::Metric(Metric { kind: MetricKind::Triplet, margin: 0.2, classes: 0 })),
        ("contrastive", Loss::Metric(Metric { kind: MetricKind::Contrastive, margin: 1.0, classes: 0 })),
    ];

    pub fn name(self) -> &'static str {
        match self {
            Loss::Mse => "mse",
            Loss::Mae => "mae",
            Loss::Bce => "bce",
            Loss::SoftmaxCe => "softmax_ce",
            Loss::Metric(metric) => metric.kind.name(),
        }
    }

    /// The metric loss, if this is one.
    pub fn metric(self) -> Option<Metric> {
        match self {
            Loss::Metric(metric) => Some(metric),
            _ => None,
        }
    }

    /// The width of the targets `y` for a model of `outputs` outputs: the classes'
    /// one-hot width for a metric loss, else the outputs.
    pub fn target_width(self, outputs: usize) -> usize {
        match self {
            Loss::Metric(metric) => metric.classes,
            _ => outputs,
        }
    }

    /// The output activation this loss is computed through from logits, if any.
    pub fn fused_activation(self) -> Option<Activation> {
        match self {
            Loss::Mse | Loss::Mae | Loss::Metric(_) => None,
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

/// How an epoch's rows are ordered into batches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sampler {
    /// Every row once, in a random order (or file order with `shuffle false`).
    Rows,
    /// Every row once, in groups of `per_class` rows of one class, the groups in random
    /// order: each batch holds several rows of each class it contains, which a metric
    /// loss needs (PyTorch Metric Learning's `MPerClassSampler` draws likewise).
    Classes { per_class: usize },
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
    /// How the training rows are grouped into batches.
    pub sampler: Sampler,
    pub schedule: Schedule,
    /// Stop after this many epochs without a better validation loss, keeping the best
    /// weights; with where it is set.
    pub patience: Option<(u64, Span)>,
    /// Write this layer's activations for every row to a CSV file (path relative to the program).
    pub save_layer: Option<(String, String)>,
    pub span: Span,
}
