//! ONNX export of a trained model's inference, opset 13: raw feature columns in (numeric
//! ones as they are in the data file, categorical ones one-hot in the model's column
//! order), the training split's normalisation, the layers, the output activation
//! (probabilities for classifiers), and for regression the targets' own units out.
//!
//! The model's metadata (`metadata_props`) names the input and output columns.

use crate::protobuf::Message;
use nnc_check::{Activation, Job, Loss};
use nnc_data::{Encoding, TargetEncoding};
use nnc_driver::weights::Weights;

/// An exported model: its bytes and the meaning of its input and output columns.
pub struct Onnx {
    pub bytes: Vec<u8>,
    pub input_columns: Vec<String>,
    pub output_columns: Vec<String>,
}

/// ONNX's element type of float32 tensors.
const FLOAT: i64 = 1;
const OPSET: i64 = 13;
const IR_VERSION: i64 = 8;

/// The graph being built: nodes in order, constant tensors, the name of the last value.
struct Graph {
    nodes: Vec<Message>,
    initializers: Vec<Message>,
    current: String,
}

impl Graph {
    /// Appends `op(current, extra...)` producing `output`, which becomes current.
    fn node(&mut self, op: &str, extra: &[&str], output: &str, attributes: &[Message]) {
        let mut node = Message::new();
        node.string(1, &self.current);
        for input in extra {
            node.string(1, input);
        }
        node.string(2, output).string(3, output).string(4, op);
        for attribute in attributes {
            node.message(5, attribute);
        }
        self.nodes.push(node);
        self.current = output.to_string();
    }

    fn constant(&mut self, name: &str, dims: &[usize], values: &[f32]) {
        let mut tensor = Message::new();
        let dims: Vec<i64> = dims.iter().map(|&d| d as i64).collect();
        tensor.packed_ints(1, &dims).int(2, FLOAT).string(8, name);
        let raw: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        tensor.bytes(9, &raw);
        self.initializers.push(tensor);
    }
}

fn float_attribute(name: &str, value: f32) -> Message {
    let mut attribute = Message::new();
    attribute.string(1, name).float(2, value).int(20, 1);
    attribute
}

fn int_attribute(name: &str, value: i64) -> Message {
    let mut attribute = Message::new();
    attribute.string(1, name).int(3, value).int(20, 2);
    attribute
}

/// `[N, width]` float32 tensor type, N symbolic.
fn value_info(name: &str, width: usize) -> Message {
    let mut rows = Message::new();
    rows.string(2, "N");
    let mut columns = Message::new();
    columns.int(1, width as i64);
    let mut shape = Message::new();
    shape.message(1, &rows).message(1, &columns);
    let mut tensor = Message::new();
    tensor.int(1, FLOAT).message(2, &shape);
    let mut kind = Message::new();
    kind.message(1, &tensor);
    let mut info = Message::new();
    info.string(1, name).message(2, &kind);
    info
}

fn activation(graph: &mut Graph, activation: Activation, name: &str) {
    match activation {
        Activation::Identity => {}
        Activation::Relu => graph.node("Relu", &[], name, &[]),
        Activation::LeakyRelu => graph.node("LeakyRelu", &[], name, &[float_attribute("alpha", 0.01)]),
        Activation::Sigmoid => graph.node("Sigmoid", &[], name, &[]),
        Activation::Tanh => graph.node("Tanh", &[], name, &[]),
        Activation::Softmax => graph.node("Softmax", &[], name, &[int_attribute("axis", 1)]),
    }
}

/// Exports `job`'s model with `params` (its forward parameters in declaration order, as
/// saved in `weights`).
pub fn export(job: &Job, weights: &Weights, params: &[Vec<f32>]) -> Onnx {
    let model = &job.model;
    let preprocessing = &weights.metadata.preprocessing;
    let mut graph = Graph { nodes: Vec::new(), initializers: Vec::new(), current: "features".to_string() };
    // (x - offset) / scale per model column; one-hot columns pass through.
    let (mut offsets, mut scales) = (Vec::new(), Vec::new());
    for column in &preprocessing.features {
        match column.encoding {
            Encoding::Numeric { offset, scale, .. } => {
                offsets.push(offset);
                scales.push(scale);
            }
            Encoding::OneHot { .. } => {
                let width = column.encoding.width();
                offsets.extend(std::iter::repeat_n(0.0, width));
                scales.extend(std::iter::repeat_n(1.0, width));
            }
        }
    }
    let width = model.input_width;
    if offsets.iter().any(|&o| o != 0.0) || scales.iter().any(|&s| s != 1.0) {
        graph.constant("input_offset", &[width], &offsets);
        graph.constant("input_scale", &[width], &scales);
        graph.node("Sub", &["input_offset"], "centred", &[]);
        graph.node("Div", &["input_scale"], "normalised", &[]);
    }
    let fused = job.train.loss.fused_activation();
    for (index, layer) in model.layers.iter().enumerate() {
        let (w, b) = (format!("{}.w", layer.name), format!("{}.b", layer.name));
        graph.constant(&w, &[model.fan_in(index), layer.units], &params[2 * index]);
        graph.constant(&b, &[layer.units], &params[2 * index + 1]);
        graph.node("MatMul", &[&w], &format!("{}.product", layer.name), &[]);
        graph.node("Add", &[&b], &format!("{}.z", layer.name), &[]);
        let last = index + 1 == model.layers.len();
        let act = if last { fused.unwrap_or(layer.activation) } else { layer.activation };
        activation(&mut graph, act, &format!("{}.h", layer.name));
    }
    let outputs = model.output_width();
    let output_columns = match &preprocessing.target {
        TargetEncoding::Classes { classes, binary: true, .. } => vec![format!("p({})", classes[1])],
        TargetEncoding::Classes { classes, .. } => classes.iter().map(|c| format!("p({c})")).collect(),
        TargetEncoding::Columns(_) | TargetEncoding::Features => weights.metadata.target_names.clone(),
    };
    let scale = preprocessing.target_scale(outputs);
    if matches!(job.train.loss, Loss::Mse | Loss::Mae) && scale.iter().any(|&(o, s)| o != 0.0 || s != 1.0) {
        let (offsets, scales): (Vec<f32>, Vec<f32>) = scale.iter().copied().unzip();
        graph.constant("target_scale", &[outputs], &scales);
        graph.constant("target_offset", &[outputs], &offsets);
        graph.node("Mul", &["target_scale"], "scaled", &[]);
        graph.node("Add", &["target_offset"], "unscaled", &[]);
    }
    graph.node("Identity", &[], "output", &[]);
    let input_columns = weights.metadata.input_names.clone();
    let mut body = Message::new();
    for node in &graph.nodes {
        body.message(1, node);
    }
    body.string(2, &model.name);
    for tensor in &graph.initializers {
        body.message(5, tensor);
    }
    body.message(11, &value_info("features", width)).message(12, &value_info("output", outputs));
    let mut opset = Message::new();
    opset.string(1, "").int(2, OPSET);
    let mut onnx = Message::new();
    onnx.int(1, IR_VERSION).string(2, "nnc").string(3, env!("CARGO_PKG_VERSION")).message(7, &body).message(8, &opset);
    for (key, value) in [
        ("input_columns", serde_json::to_string(&input_columns).unwrap_or_default()),
        ("output_columns", serde_json::to_string(&output_columns).unwrap_or_default()),
        ("task", weights.metadata.task.clone()),
    ] {
        let mut entry = Message::new();
        entry.string(1, key).string(2, &value);
        onnx.message(14, &entry);
    }
    Onnx { bytes: onnx.into_bytes(), input_columns, output_columns }
}
