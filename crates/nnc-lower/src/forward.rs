//! Lowering a checked model and loss to a forward graph of IR primitives.

use crate::job::{Activation, Layer, Loss, Model};
use nnc_diagnostics::Span;
use nnc_ir::{Graph, Op, Origin, Section, Shape, ValueId, assert_valid};

/// A forward graph and the values a caller may want from it.
pub struct Forward {
    pub graph: Graph,
    pub prediction: ValueId,
    pub loss: ValueId,
}

/// Lowers `model` for batches of `batch` rows: inputs `x` `[batch, in]` and `y`
/// `[batch, out]`, one `w` and `b` parameter per layer, outputs `prediction`, each hidden
/// layer's activations (named after the layer) and `loss`.
pub fn lower_forward(model: &Model, loss: Loss, batch: usize) -> Forward {
    let mut graph = Graph::new(format!("{}.forward", model.name));
    let x = graph.add_input("x", Shape(vec![batch, model.input_width]), origin("x", None));
    let y = graph.add_input("y", Shape(vec![batch, model.output_width()]), origin("y", None));
    let mut h = x;
    let mut hidden = Vec::new();
    for (index, layer) in model.layers.iter().enumerate() {
        h = lower_dense(&mut graph, layer, model.fan_in(index), h);
        hidden.push((layer.name.clone(), h));
    }
    hidden.pop();
    let loss = lower_loss(&mut graph, loss, h, y);
    graph.outputs.push(("prediction".to_string(), h));
    graph.outputs.extend(hidden);
    graph.outputs.push(("loss".to_string(), loss));
    assert_valid(&graph, "lowering");
    Forward { graph, prediction: h, loss }
}

fn origin(label: &str, span: Option<Span>) -> Origin {
    Origin { section: Some(Section::Forward), label: label.to_string(), span }
}

/// `act(h · W + b)`.
fn lower_dense(graph: &mut Graph, layer: &Layer, fan_in: usize, h: ValueId) -> ValueId {
    let at = |label: &str| origin(label, Some(layer.span));
    let w = graph.add_param(format!("{}.w", layer.name), Shape(vec![fan_in, layer.units]), at(&layer.name));
    let b = graph.add_param(format!("{}.b", layer.name), Shape(vec![layer.units]), at(&layer.name));
    let product = graph.push(Op::MatMul, vec![h, w], at(&layer.name));
    let shape = graph.shape(product).clone();
    let bias = graph.broadcast(b, &shape, at(&layer.name));
    let z = graph.push(Op::Add, vec![product, bias], at(&layer.name));
    let label = format!("{}.{}", layer.name, layer.activation.name());
    lower_activation(graph, layer.activation, z, at(&label))
}

fn lower_activation(graph: &mut Graph, activation: Activation, z: ValueId, at: Origin) -> ValueId {
    let shape = graph.shape(z).clone();
    match activation {
        Activation::Identity => z,
        // relu(z) = max(z, 0)
        Activation::Relu => {
            let zero = graph.constant(0.0, &shape, at.clone());
            graph.push(Op::Max, vec![z, zero], at)
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
    }
}

fn lower_loss(graph: &mut Graph, loss: Loss, prediction: ValueId, target: ValueId) -> ValueId {
    let at = |label: &str| origin(label, None);
    match loss {
        // mse = sum((p - y)^2) / numel
        Loss::Mse => {
            let count = graph.shape(prediction).numel() as f32;
            let diff = graph.push(Op::Sub, vec![prediction, target], at("mse"));
            let squared = graph.push(Op::Mul, vec![diff, diff], at("mse"));
            let total = graph.sum_all(squared, at("mse"));
            let scale = graph.push(Op::Const(1.0 / count), Vec::new(), at("mse"));
            graph.push(Op::Mul, vec![total, scale], at("mse"))
        }
    }
}
