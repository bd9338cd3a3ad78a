//! Each layer kind as IR primitives. Values carry the batch as their first axis: a vector
//! per row is `[n, features]`, a series `[n, steps, channels]`, an image
//! `[n, height, width, channels]`.
//!
//! - dense: `h · W + b`, after flattening an image or series;
//! - convolution: the windows of the images (`window`, im2col) as rows of a matrix,
//!   times the filters as columns, plus the bias; a series is an image one row high;
//! - pooling: the windows, then their maximum (`reduce_max`) or mean;
//! - dropout: in training `h ⊙ [u > p] / (1 − p)`, `u` from `random`; else `h`;
//! - batch norm: per channel, over the batch and every position;
//! - embedding: the one-hot block of its column times a table, between the other columns;
//! - add and concat: `add` and `concat` of the two values.

use crate::forward::{Mode, origin};
use nnc_check::{Features, Layer, LayerKind, conv_padding};
use nnc_ir::{Graph, Op, Origin, Shape, ValueId, Window};

pub(crate) struct Lowering<'g> {
    pub graph: &'g mut Graph,
    pub batch: usize,
    pub mode: Mode,
    /// The step's seed, in training when a layer draws random numbers.
    pub seed: Option<ValueId>,
}

impl Lowering<'_> {
    /// `[n, size]` data as `features` per row.
    pub fn shaped(&mut self, x: ValueId, features: Features) -> ValueId {
        match features {
            Features::Flat(_) => x,
            _ => self.reshape(x, &features, Origin::default()),
        }
    }

    /// A value as one vector per row.
    pub fn flat(&mut self, value: ValueId) -> ValueId {
        let shape = self.graph.shape(value).clone();
        if shape.rank() == 2 {
            return value;
        }
        let size = shape.numel() / self.batch.max(1);
        let at = self.graph.inst(value).origin.clone();
        self.graph.reshape(value, &Shape(vec![self.batch, size]), at)
    }

    fn reshape(&mut self, value: ValueId, features: &Features, at: Origin) -> ValueId {
        let mut dims = vec![self.batch];
        dims.extend(features.dims());
        self.graph.reshape(value, &Shape(dims), at)
    }

    /// The pre-activation output of `layer` (the `index`-th) reading `h` (and `other`,
    /// the layer an `add` or `concat` joins).
    pub fn layer(&mut self, layer: &Layer, index: usize, h: ValueId, other: Option<ValueId>) -> ValueId {
        let at = origin(&layer.name, Some(layer.span));
        let params: Vec<ValueId> = layer
            .params()
            .iter()
            .map(|p| self.graph.add_param(format!("{}.{}", layer.name, p.suffix), Shape(p.shape.clone()), at.clone()))
            .collect();
        match layer.kind {
            LayerKind::Dense { .. } => {
                let h = self.flat(h);
                self.affine(h, params[0], params[1], &at)
            }
            LayerKind::Conv { kernel, stride, padding, .. } => {
                let [height, width, _] = image_dims(layer.input);
                let (before, after) = conv_padding(kernel, stride, padding, [height, width]);
                let window = Window { kernel, stride, before, after };
                self.convolution(layer, h, window, params[0], params[1], &at)
            }
            LayerKind::Pool { max, size, stride, series } => {
                let (size, stride) = if series { ([1, size[1]], [1, stride[1]]) } else { (size, stride) };
                let window = Window { kernel: size, stride, before: [0, 0], after: [0, 0] };
                self.pool(layer, h, window, max, &at)
            }
            LayerKind::Flatten => self.flat(h),
            LayerKind::Dropout { rate } => self.dropout(h, rate, index, &at),
            LayerKind::BatchNorm { momentum, epsilon } => self.batchnorm(h, &params, momentum, epsilon, &at),
            LayerKind::Embedding { slot, .. } => {
                let slot = slot.expect("settled: an embedding knows its column");
                self.embedding(h, slot.start, slot.width, params[0], &at)
            }
            LayerKind::Join { concat, .. } => {
                let other = other.expect("a join has its other side");
                if concat {
                    let axis = self.graph.shape(h).rank() - 1;
                    self.graph.push(Op::Concat { axis }, vec![h, other], at)
                } else {
                    self.graph.push(Op::Add, vec![h, other], at)
                }
            }
        }
    }

    /// `h · W + b` for `h` `[rows, in]`.
    fn affine(&mut self, h: ValueId, w: ValueId, b: ValueId, at: &Origin) -> ValueId {
        let product = self.graph.push(Op::MatMul, vec![h, w], at.clone());
        let shape = self.graph.shape(product).clone();
        let bias = self.graph.broadcast(b, &shape, at.clone());
        self.graph.push(Op::Add, vec![product, bias], at.clone())
    }

    /// `h` as images `[n, height, width, channels]` (a series is one row high).
    fn images(&mut self, layer: &Layer, h: ValueId, at: &Origin) -> ValueId {
        let [height, width, channels] = image_dims(layer.input);
        self.graph.reshape(h, &Shape(vec![self.batch, height, width, channels]), at.clone())
    }

    /// Windows as rows times filters as columns: `[n·oh·ow, kh·kw·c] · [kh·kw·c, f] + b`.
    fn convolution(
        &mut self,
        layer: &Layer,
        h: ValueId,
        window: Window,
        w: ValueId,
        b: ValueId,
        at: &Origin,
    ) -> ValueId {
        let images = self.images(layer, h, at);
        let windows = self.graph.push(Op::Window(window), vec![images], at.clone());
        let dims = self.graph.shape(windows).dims().to_vec();
        let [n, oh, ow, kh, kw, c] = dims[..] else { unreachable!("windows have six axes") };
        let rows = self.graph.reshape(windows, &Shape(vec![n * oh * ow, kh * kw * c]), at.clone());
        let filters = self.graph.shape(w).dims()[3];
        let w = self.graph.reshape(w, &Shape(vec![kh * kw * c, filters]), at.clone());
        let z = self.affine(rows, w, b, at);
        self.reshape(z, &layer.output, at.clone())
    }

    fn pool(&mut self, layer: &Layer, h: ValueId, window: Window, max: bool, at: &Origin) -> ValueId {
        let images = self.images(layer, h, at);
        let windows = self.graph.push(Op::Window(window), vec![images], at.clone());
        let axes = vec![3, 4];
        let pooled = if max {
            self.graph.push(Op::ReduceMax { axes }, vec![windows], at.clone())
        } else {
            let sum = self.graph.push(Op::ReduceSum { axes }, vec![windows], at.clone());
            let shape = self.graph.shape(sum).clone();
            let scale = self.graph.constant(1.0 / (window.kernel[0] * window.kernel[1]) as f32, &shape, at.clone());
            self.graph.push(Op::Mul, vec![sum, scale], at.clone())
        };
        self.reshape(pooled, &layer.output, at.clone())
    }

    /// Inverted dropout: kept numbers are scaled by 1/(1 − p) in training, so evaluation
    /// uses the weights as they are. Each layer draws its own numbers (`salt`).
    fn dropout(&mut self, h: ValueId, rate: f32, index: usize, at: &Origin) -> ValueId {
        let Some(seed) = self.seed.filter(|_| self.mode == Mode::Train && rate > 0.0) else { return h };
        let shape = self.graph.shape(h).clone();
        let uniform =
            self.graph.push_typed(Op::Random { salt: index as u32 + 1 }, vec![seed], shape.clone(), at.clone());
        let rate_value = self.graph.constant(rate, &shape, at.clone());
        let keep = self.graph.push(Op::CmpGt, vec![uniform, rate_value], at.clone());
        let scale = self.graph.constant(1.0 / (1.0 - rate), &shape, at.clone());
        let kept = self.graph.push(Op::Mul, vec![h, keep], at.clone());
        self.graph.push(Op::Mul, vec![kept, scale], at.clone())
    }

    /// `(h − μ) / √(σ² + ε) · γ + β` per channel (the last axis). In training μ and σ² are
    /// the batch's (σ² biased, over every row and position) and the running statistics are
    /// updated as PyTorch does, `r ← (1 − m)·r + m·s` with the unbiased variance; at
    /// evaluation μ and σ² are the running statistics.
    fn batchnorm(&mut self, h: ValueId, params: &[ValueId], momentum: f32, epsilon: f32, at: &Origin) -> ValueId {
        let [gamma, beta, running_mean, running_var] = params[..] else { unreachable!("batch norm has four") };
        let shape = self.graph.shape(h).clone();
        let rank = shape.rank();
        let channels = shape.dims()[rank - 1];
        let count = shape.numel() / channels.max(1);
        let axes: Vec<usize> = (0..rank - 1).collect();
        let wide = |g: &mut Graph, per_channel: ValueId| g.broadcast(per_channel, &shape, at.clone());
        let (mean, var) = match self.mode {
            Mode::Eval => (running_mean, running_var),
            Mode::Train => {
                let sum = self.graph.push(Op::ReduceSum { axes: axes.clone() }, vec![h], at.clone());
                let mean = self.scale(sum, 1.0 / count as f32, at);
                let mean_wide = wide(self.graph, mean);
                let centred = self.graph.push(Op::Sub, vec![h, mean_wide], at.clone());
                let square = self.graph.push(Op::Mul, vec![centred, centred], at.clone());
                let sum = self.graph.push(Op::ReduceSum { axes }, vec![square], at.clone());
                let var = self.scale(sum, 1.0 / count as f32, at);
                self.update_running(running_mean, mean, momentum, 1.0, at);
                // The unbiased variance (PyTorch's running estimate); one value per channel
                // has none, and keeps the biased one.
                let unbias = count as f32 / (count.max(2) - 1) as f32;
                self.update_running(running_var, var, momentum, unbias, at);
                (mean, var)
            }
        };
        let eps = self.graph.constant(epsilon, &Shape(vec![channels]), at.clone());
        let var_eps = self.graph.push(Op::Add, vec![var, eps], at.clone());
        let std = self.graph.push(Op::Sqrt, vec![var_eps], at.clone());
        let one = self.graph.constant(1.0, &Shape(vec![channels]), at.clone());
        let inverse = self.graph.push(Op::Div, vec![one, std], at.clone());
        let factor = self.graph.push(Op::Mul, vec![inverse, gamma], at.clone());
        let mean_wide = wide(self.graph, mean);
        let centred = self.graph.push(Op::Sub, vec![h, mean_wide], at.clone());
        let factor = wide(self.graph, factor);
        let scaled = self.graph.push(Op::Mul, vec![centred, factor], at.clone());
        let beta = wide(self.graph, beta);
        self.graph.push(Op::Add, vec![scaled, beta], at.clone())
    }

    fn scale(&mut self, value: ValueId, factor: f32, at: &Origin) -> ValueId {
        let shape = self.graph.shape(value).clone();
        let factor = self.graph.constant(factor, &shape, at.clone());
        self.graph.push(Op::Mul, vec![value, factor], at.clone())
    }

    /// `running ← (1 − m)·running + m·k·batch`, an update of the forward pass.
    fn update_running(&mut self, running: ValueId, batch: ValueId, momentum: f32, k: f32, at: &Origin) {
        let Op::Param(slot) = self.graph.inst(running).op else { unreachable!("running statistics are parameters") };
        let batch = self.graph.push(Op::StopGradient, vec![batch], at.clone());
        let kept = self.scale(running, 1.0 - momentum, at);
        let new = self.scale(batch, momentum * k, at);
        let updated = self.graph.push(Op::Add, vec![kept, new], at.clone());
        self.graph.updates.push((slot, updated));
    }

    /// The columns `start..start + width` (one-hot categories) times the table, in their
    /// place between the other columns.
    fn embedding(&mut self, h: ValueId, start: usize, width: usize, table: ValueId, at: &Origin) -> ValueId {
        let total = self.graph.shape(h).dims()[1];
        let n = self.batch;
        let slice = |g: &mut Graph, from: usize, len: usize| {
            (len > 0)
                .then(|| g.push_typed(Op::Slice { axis: 1, start: from }, vec![h], Shape(vec![n, len]), at.clone()))
        };
        let before = slice(self.graph, 0, start);
        let block = slice(self.graph, start, width).expect("a categorical column has at least one category");
        let after = slice(self.graph, start + width, total - start - width);
        let mut out = self.graph.push(Op::MatMul, vec![block, table], at.clone());
        if let Some(before) = before {
            out = self.graph.push(Op::Concat { axis: 1 }, vec![before, out], at.clone());
        }
        if let Some(after) = after {
            out = self.graph.push(Op::Concat { axis: 1 }, vec![out, after], at.clone());
        }
        out
    }
}

/// Height, width and channels of an image, or of a series or vector read as one row.
fn image_dims(features: Features) -> [usize; 3] {
    match features {
        Features::Image { height, width, channels } => [height, width, channels],
        Features::Series { len, channels } => [1, len, channels],
        Features::Flat(len) => [1, len, 1],
    }
}
