//! Lowering a checked model and loss to a forward graph of IR primitives.

use nnc_check::{Activation, Layer, LayerKind, Loss, Metric, MetricKind, Model, Source};
use nnc_diagnostics::Span;
use nnc_ir::{Graph, Op, Origin, Section, Shape, ValueId, assert_valid};

/// A forward graph and the values a caller may want from it.
pub struct Forward {
    pub graph: Graph,
    pub prediction: ValueId,
    pub loss: ValueId,
}

/// Which forward pass: training's (dropout drops, batch norm normalises by the batch and
/// updates its running statistics) or evaluation's (dropout is the identity, batch norm
/// uses the running statistics). Prediction and export use evaluation's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Train,
    Eval,
}

/// Lowers `model` for batches of `batch` rows: inputs `x` `[batch, in]` and `y`
/// `[batch, out]` (and in training, when a layer draws random numbers, a scalar `seed`),
/// the parameters of each layer (`Layer::params`, in order), outputs `prediction`, each
/// hidden layer's output (named after the layer) and `loss`.
///
/// Cross-entropy losses are computed from the last layer's logits (stable for large
/// logits); `prediction` is then the sigmoid or softmax of the logits.
///
/// `loss_span` is where the program names the loss: the loss and the targets it reads
/// carry it, as the inputs carry the model's `input` line, so every instruction names
/// the source line it comes from.
pub fn lower_forward(model: &Model, loss: Loss, loss_span: Option<Span>, batch: usize, mode: Mode) -> Forward {
    let mut graph = Graph::new(format!("{}.forward", model.name));
    let x = graph.add_input("x", Shape(vec![batch, model.input_width()]), origin("x", Some(model.input_span)));
    let outputs = model.output_width().unwrap_or(0);
    let y = graph.add_input("y", Shape(vec![batch, loss.target_width(outputs)]), origin("y", loss_span));
    let random =
        mode == Mode::Train && model.layers.iter().any(|l| matches!(l.kind, LayerKind::Dropout { rate } if rate > 0.0));
    let seed = random.then(|| graph.add_input("seed", Shape::scalar(), origin("seed", None)));
    let mut lowering = crate::layers::Lowering { graph: &mut graph, batch, mode, seed };
    let input = lowering.shaped(x, model.input);
    let (last, _) = model.layers.split_last().expect("checked: a model has layers");
    let output_activation = loss.fused_activation().unwrap_or(last.activation);
    let mut values: Vec<ValueId> = Vec::with_capacity(model.layers.len());
    let mut z = input;
    for (index, layer) in model.layers.iter().enumerate() {
        let read = |source: Source| match source {
            Source::Input => input,
            Source::Layer(i) => values[i],
        };
        let (h, other) = (
            read(layer.from),
            match layer.kind {
                LayerKind::Join { other, .. } => Some(read(other)),
                _ => None,
            },
        );
        z = lowering.layer(layer, index, h, other);
        let activation = if index + 1 == model.layers.len() { output_activation } else { layer.activation };
        let mut h = lower_activation(lowering.graph, activation, z, activation_origin(layer));
        if layer.normalize {
            h = l2_normalize(lowering.graph, h, origin(&format!("{}.normalize", layer.name), Some(layer.span)));
        }
        values.push(h);
    }
    let prediction = *values.last().expect("a model has layers");
    let prediction = lowering.flat(prediction);
    let z = lowering.flat(z);
    let loss = match loss {
        Loss::Mse | Loss::Mae => lower_regression_loss(&mut graph, loss, prediction, y),
        Loss::Bce => lower_bce(&mut graph, z, y),
        Loss::SoftmaxCe => lower_softmax_ce(&mut graph, z, y),
        Loss::Metric(metric) => lower_metric(&mut graph, metric, prediction, y),
    };
    let first_loss_inst = graph.insts.len() - loss_insts(&graph, loss);
    for inst in &mut graph.insts[first_loss_inst..] {
        inst.origin.span = inst.origin.span.or(loss_span);
    }
    graph.outputs.push(("prediction".to_string(), prediction));
    let hidden = model.layers.iter().zip(&values).take(model.layers.len() - 1);
    graph.outputs.extend(hidden.map(|(layer, &value)| (layer.name.clone(), value)));
    graph.outputs.push(("loss".to_string(), loss));
    assert_valid(&graph, "lowering");
    Forward { graph, prediction, loss }
}

/// How many of the graph's last instructions the loss lowering appended (the loss is the
/// last instruction, and its instructions follow the prediction's).
fn loss_insts(graph: &Graph, loss: ValueId) -> usize {
    let label = &graph.inst(loss).origin.label;
    graph.insts.iter().rev().take_while(|inst| &inst.origin.label == label).count()
}

pub(crate) fn origin(label: &str, span: Option<Span>) -> Origin {
    Origin { section: Some(Section::Forward), label: label.into(), span }
}

fn activation_origin(layer: &Layer) -> Origin {
    origin(&format!("{}.{}", layer.name, layer.activation.name()), Some(layer.span))
}

/// The activation, elementwise (softmax: along the last axis of a vector per row).
fn lower_activation(graph: &mut Graph, activation: Activation, z: ValueId, at: Origin) -> ValueId {
    let shape = graph.shape(z).clone();
    match activation {
        Activation::Identity => z,
        // relu(z) = max(z, 0)
        Activation::Relu => {
            let zero = graph.constant(0.0, &shape, at.clone());
            graph.push(Op::Max, vec![z, zero], at)
        }
        // leaky_relu(z) = max(z, 0.01 z)
        Activation::LeakyRelu => {
            let slope = graph.constant(0.01, &shape, at.clone());
            let leak = graph.push(Op::Mul, vec![slope, z], at.clone());
            graph.push(Op::Max, vec![z, leak], at)
        }
        // sigmoid(z) = 1 / (1 + exp(-z))
        Activation::Sigmoid => {
            let negated = graph.push(Op::Neg, vec![z], at.clone());
            let exp = graph.push(Op::Exp, vec![negated], at.clone());
            let one = graph.constant(1.0, &shape, at.clone());
            let denominator = graph.push(Op::Add, vec![one, exp], at.clone());
            graph.push(Op::Div, vec![one, denominator], at)
        }
        Activation::Tanh => graph.push(Op::Tanh, vec![z], at),
        // softmax(z) = exp(z - max z) / sum exp(z - max z), per row
        Activation::Softmax => {
            let shifted = shift_by_row_max(graph, z, &at);
            let exp = graph.push(Op::Exp, vec![shifted], at.clone());
            let total = row_sum_broadcast(graph, exp, &at);
            graph.push(Op::Div, vec![exp, total], at)
        }
    }
}

/// h / sqrt(Σ h² + 1e-12) per row: each row scaled to length 1 (a zero row stays zero,
/// as PyTorch's `F.normalize`).
fn l2_normalize(graph: &mut Graph, h: ValueId, at: Origin) -> ValueId {
    let squares = graph.push(Op::Mul, vec![h, h], at.clone());
    let total = row_sum_broadcast(graph, squares, &at);
    let epsilon = graph.constant(1e-12, &graph.shape(h).clone(), at.clone());
    let total = graph.push(Op::Add, vec![total, epsilon], at.clone());
    let length = graph.push(Op::Sqrt, vec![total], at.clone());
    graph.push(Op::Div, vec![h, length], at)
}

/// `z - max(z)` per row: the same softmax, without overflow in `exp`.
fn shift_by_row_max(graph: &mut Graph, z: ValueId, at: &Origin) -> ValueId {
    let shape = graph.shape(z).clone();
    let max = row_max(graph, z, at);
    let max = widen_rows(graph, max, shape, at);
    graph.push(Op::Sub, vec![z, max], at.clone())
}

/// The maximum of each row, held constant for autodiff: softmax and logsumexp do not
/// change when a row is shifted, so the gradient through the shift is zero.
fn row_max(graph: &mut Graph, z: ValueId, at: &Origin) -> ValueId {
    let max = graph.push(Op::ReduceMax { axes: vec![1] }, vec![z], at.clone());
    graph.push(Op::StopGradient, vec![max], at.clone())
}

/// A value per row, repeated along the row to `shape`.
fn widen_rows(graph: &mut Graph, per_row: ValueId, shape: Shape, at: &Origin) -> ValueId {
    let column = graph.reshape(per_row, &Shape(vec![shape.dims()[0], 1]), at.clone());
    graph.broadcast(column, &shape, at.clone())
}

/// The sum of each row, broadcast back over the row.
fn row_sum_broadcast(graph: &mut Graph, value: ValueId, at: &Origin) -> ValueId {
    let shape = graph.shape(value).clone();
    let sum = graph.push(Op::ReduceSum { axes: vec![1] }, vec![value], at.clone());
    let sum = graph.reshape(sum, &Shape(vec![shape.dims()[0], 1]), at.clone());
    graph.broadcast(sum, &shape, at.clone())
}

/// `sum(value) * scale` as a scalar.
fn scaled_sum(graph: &mut Graph, value: ValueId, scale: f32, at: &Origin) -> ValueId {
    let total = graph.sum_all(value, at.clone());
    let factor = graph.push(Op::Const(scale), Vec::new(), at.clone());
    graph.push(Op::Mul, vec![total, factor], at.clone())
}

/// mse = mean((p - y)^2); mae = mean(|p - y|) with |d| = d·sign(d), whose gradient is 0
/// at an exact fit.
fn lower_regression_loss(graph: &mut Graph, loss: Loss, prediction: ValueId, target: ValueId) -> ValueId {
    let at = origin(loss.name(), None);
    let count = graph.shape(prediction).numel() as f32;
    let diff = graph.push(Op::Sub, vec![prediction, target], at.clone());
    let per_element =
        if loss == Loss::Mse { graph.push(Op::Mul, vec![diff, diff], at.clone()) } else { graph.abs(diff, at.clone()) };
    scaled_sum(graph, per_element, 1.0 / count, &at)
}

/// bce(z, y) = mean(softplus(z) - z y): equal to -(y log s + (1 - y) log(1 - s)) for
/// s = sigmoid(z), but finite for every z. With m = max(z, 0) held constant,
/// softplus(z) = m + log(e^(-m) + e^(z - m)), and one of the two exponentials is exactly 1,
/// the other e^(-|z|). So each element is computed as
///
///   (m - z y) + log1p(s),   s = stop(e^(-|z|)) + (w - stop(w)),   w = e^(z - m)
///
/// - the value: `m - z y` cancels exactly for confident right answers, and `log1p` keeps
///   e^(-|z|) where `1 + e^(-|z|)` rounds to 1, so tiny losses keep their digits;
/// - the gradient: only `w` carries one, and d/dz log1p(s) = w / (1 + e^(-|z|)), so
///   autodiff derives (sigmoid(z) - y)/n, exact at z = 0 too (where abs and max kink).
///
/// e^(-|z|) is computed as e^(z - 2m).
fn lower_bce(graph: &mut Graph, z: ValueId, y: ValueId) -> ValueId {
    let at = origin("bce", None);
    let push = |graph: &mut Graph, op: Op, args: Vec<ValueId>| graph.push(op, args, at.clone());
    let shape = graph.shape(z).clone();
    let zero = graph.constant(0.0, &shape, at.clone());
    let max = push(graph, Op::Max, vec![z, zero]);
    let max = push(graph, Op::StopGradient, vec![max]);
    let shifted = push(graph, Op::Sub, vec![z, max]);
    let w = push(graph, Op::Exp, vec![shifted]);
    let minus_abs = push(graph, Op::Sub, vec![shifted, max]);
    let small = push(graph, Op::Exp, vec![minus_abs]);
    let small = push(graph, Op::StopGradient, vec![small]);
    let w_held = push(graph, Op::StopGradient, vec![w]);
    let w_slope = push(graph, Op::Sub, vec![w, w_held]);
    let s = push(graph, Op::Add, vec![small, w_slope]);
    let log_total = push(graph, Op::Log1p, vec![s]);
    let zy = push(graph, Op::Mul, vec![z, y]);
    let linear = push(graph, Op::Sub, vec![max, zy]);
    let per_element = push(graph, Op::Add, vec![linear, log_total]);
    scaled_sum(graph, per_element, 1.0 / shape.numel() as f32, &at)
}

/// ce(z, y) = mean over rows of (logsumexp(z) - Σ_j y_j z_j). For rows of `y` that sum
/// to 1 — one-hot classes, the only targets `softmax_ce` accepts — this equals
/// -Σ y·log_softmax(z), and autodiff derives its gradient as (softmax(z) - y) / rows, the
/// textbook form, instead of a chain through log and the row sums.
/// logsumexp(z) = m + log Σ exp(z - m) with m = max z held constant (`stop_gradient`):
/// the gradient through m is zero in exact arithmetic, so none is computed.
fn lower_softmax_ce(graph: &mut Graph, z: ValueId, y: ValueId) -> ValueId {
    let at = origin("softmax_ce", None);
    let rows = graph.shape(z).dims()[0];
    let max = row_max(graph, z, &at);
    let max_wide = widen_rows(graph, max, graph.shape(z).clone(), &at);
    let shifted = graph.push(Op::Sub, vec![z, max_wide], at.clone());
    let exp = graph.push(Op::Exp, vec![shifted], at.clone());
    let total = graph.push(Op::ReduceSum { axes: vec![1] }, vec![exp], at.clone());
    let log_total = graph.push(Op::Log, vec![total], at.clone());
    let log_sum_exp = graph.push(Op::Add, vec![max, log_total], at.clone());
    let picked = graph.push(Op::Mul, vec![y, z], at.clone());
    let picked = graph.push(Op::ReduceSum { axes: vec![1] }, vec![picked], at.clone());
    let per_row = graph.push(Op::Sub, vec![log_sum_exp, picked], at.clone());
    scaled_sum(graph, per_row, 1.0 / rows as f32, &at)
}

/// A metric loss over the batch's embeddings `e` `[n, d]` and one-hot classes `y`
/// `[n, c]`, from the matrix of squared distances D_ij = |e_i|² + |e_j|² − 2 e_i·e_j
/// (two products, no loop over pairs) and the same-class matrix S = y yᵀ.
fn lower_metric(graph: &mut Graph, metric: Metric, e: ValueId, y: ValueId) -> ValueId {
    let at = origin(metric.kind.name(), None);
    let rows = graph.shape(e).dims()[0];
    let square = Shape(vec![rows, rows]);
    let distances = squared_distances(graph, e, &at);
    let y_t = graph.push(Op::Transpose, vec![y], at.clone());
    let same = graph.push(Op::MatMul, vec![y, y_t], at.clone());
    let margin = graph.constant(metric.margin, &Shape(vec![rows]), at.clone());
    match metric.kind {
        // L = mean_i max(0, max_{p: y_p = y_i} D_ip − min_{n: y_n ≠ y_i} D_in + α): each
        // row's hardest positive and hardest negative in the batch (Hermans et al. 2017's
        // batch-hard mining of FaceNet's loss). D_ii = 0, so a row alone in its class has
        // hardest positive 0. The minimum over other classes is −max(−(D + S·big)), with
        // big = (the row's largest distance + 1) held constant, which lifts same-class
        // entries above every other-class one.
        MetricKind::Triplet => {
            let positives = graph.push(Op::Mul, vec![distances, same], at.clone());
            let hardest_positive = graph.push(Op::ReduceMax { axes: vec![1] }, vec![positives], at.clone());
            let farthest = row_max(graph, distances, &at);
            let one = graph.constant(1.0, &Shape(vec![rows]), at.clone());
            let big = graph.push(Op::Add, vec![farthest, one], at.clone());
            let big = widen_rows(graph, big, square.clone(), &at);
            let lifted = graph.push(Op::Mul, vec![same, big], at.clone());
            let lifted = graph.push(Op::Add, vec![distances, lifted], at.clone());
            let negated = graph.push(Op::Neg, vec![lifted], at.clone());
            let nearest = graph.push(Op::ReduceMax { axes: vec![1] }, vec![negated], at.clone());
            // hardest_positive − hardest_negative + α = hardest_positive + nearest + α
            let gap = graph.push(Op::Add, vec![hardest_positive, nearest], at.clone());
            let gap = graph.push(Op::Add, vec![gap, margin], at.clone());
            let zero = graph.constant(0.0, &Shape(vec![rows]), at.clone());
            let per_row = graph.push(Op::Max, vec![gap, zero], at.clone());
            scaled_sum(graph, per_row, 1.0 / rows as f32, &at)
        }
        // L = mean over pairs (i, j) of ½ [S_ij D_ij + (1 − S_ij) max(0, α − d_ij)²], with
        // d_ij = sqrt(D_ij + 1e-9) (Hadsell, Chopra and LeCun 2006). Every ordered pair is
        // counted, a row with itself included: D_ii = 0, which adds nothing.
        MetricKind::Contrastive => {
            let pulled = graph.push(Op::Mul, vec![same, distances], at.clone());
            let tiny = graph.constant(1e-9, &square, at.clone());
            let shifted = graph.push(Op::Add, vec![distances, tiny], at.clone());
            let d = graph.push(Op::Sqrt, vec![shifted], at.clone());
            let alpha = graph.constant(metric.margin, &square, at.clone());
            let short = graph.push(Op::Sub, vec![alpha, d], at.clone());
            let zero = graph.constant(0.0, &square, at.clone());
            let short = graph.push(Op::Max, vec![short, zero], at.clone());
            let pushed = graph.push(Op::Mul, vec![short, short], at.clone());
            let one = graph.constant(1.0, &square, at.clone());
            let other = graph.push(Op::Sub, vec![one, same], at.clone());
            let pushed = graph.push(Op::Mul, vec![other, pushed], at.clone());
            let per_pair = graph.push(Op::Add, vec![pulled, pushed], at.clone());
            scaled_sum(graph, per_pair, 0.5 / (rows * rows) as f32, &at)
        }
    }
}

/// D_ij = max(0, |e_i|² + |e_j|² − 2 e_i·e_j): every pair's squared distance (rounding
/// can make the expansion slightly negative where two rows coincide).
fn squared_distances(graph: &mut Graph, e: ValueId, at: &Origin) -> ValueId {
    let rows = graph.shape(e).dims()[0];
    let square = Shape(vec![rows, rows]);
    let e_t = graph.push(Op::Transpose, vec![e], at.clone());
    let products = graph.push(Op::MatMul, vec![e, e_t], at.clone());
    let squares = graph.push(Op::Mul, vec![e, e], at.clone());
    let lengths = graph.push(Op::ReduceSum { axes: vec![1] }, vec![squares], at.clone());
    let column = graph.reshape(lengths, &Shape(vec![rows, 1]), at.clone());
    let column = graph.broadcast(column, &square, at.clone());
    let row = graph.reshape(lengths, &Shape(vec![1, rows]), at.clone());
    let row = graph.broadcast(row, &square, at.clone());
    let two = graph.constant(2.0, &square, at.clone());
    let twice = graph.push(Op::Mul, vec![two, products], at.clone());
    let sum = graph.push(Op::Add, vec![column, row], at.clone());
    let expanded = graph.push(Op::Sub, vec![sum, twice], at.clone());
    let zero = graph.constant(0.0, &square, at.clone());
    graph.push(Op::Max, vec![expanded, zero], at.clone())
}
