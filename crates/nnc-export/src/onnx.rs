//! ONNX export of a trained model's inference, opset 13: raw feature columns in (numeric
//! ones as they are in the data file, categorical ones one-hot in the model's column
//! order), the training split's normalisation, the layers, the output activation
//! (probabilities for classifiers), and for regression the targets' own units out.
//!
//! The model's metadata (`metadata_props`) names the input and output columns.

use crate::protobuf::Message;
use nnc_check::{Activation, Features, Job, Layer, LayerKind, Loss, Model, Source, conv_padding};
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

/// The graph being built: nodes in order and constant tensors.
struct Graph {
    nodes: Vec<Message>,
    initializers: Vec<Message>,
}

/// ONNX's element type of int64 tensors (shapes, slice bounds).
const INT64: i64 = 7;

impl Graph {
    /// Appends `op(inputs...)` producing `output`.
    fn node(&mut self, op: &str, inputs: &[&str], output: &str, attributes: &[Message]) {
        let mut node = Message::new();
        for input in inputs {
            node.string(1, input);
        }
        node.string(2, output).string(3, output).string(4, op);
        for attribute in attributes {
            node.message(5, attribute);
        }
        self.nodes.push(node);
    }

    fn constant(&mut self, name: &str, dims: &[usize], values: &[f32]) {
        let raw: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.tensor(name, dims, FLOAT, &raw);
    }

    fn int_constant(&mut self, name: &str, values: &[i64]) {
        let raw: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.tensor(name, &[values.len()], INT64, &raw);
    }

    fn tensor(&mut self, name: &str, dims: &[usize], kind: i64, raw: &[u8]) {
        let mut tensor = Message::new();
        let dims: Vec<i64> = dims.iter().map(|&d| d as i64).collect();
        tensor.packed_ints(1, &dims).int(2, kind).string(8, name);
        tensor.bytes(9, raw);
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

fn ints_attribute(name: &str, values: &[i64]) -> Message {
    let mut attribute = Message::new();
    attribute.string(1, name).packed_ints(8, values).int(20, 7);
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

/// `activation(input)` as `output`; `None` for the identity (no node).
fn activation(graph: &mut Graph, activation: Activation, input: &str, output: &str) -> Option<()> {
    let (op, attributes) = match activation {
        Activation::Identity => return None,
        Activation::Relu => ("Relu", vec![]),
        Activation::LeakyRelu => ("LeakyRelu", vec![float_attribute("alpha", 0.01)]),
        Activation::Sigmoid => ("Sigmoid", vec![]),
        Activation::Tanh => ("Tanh", vec![]),
        Activation::Softmax => ("Softmax", vec![int_attribute("axis", 1)]),
    };
    graph.node(op, &[input], output, &attributes);
    Some(())
}

/// How a value is laid out in the exported graph: a vector per row, or channels first
/// (ONNX's `Conv` and pools are NCHW; nnc is channels last, so images are transposed on
/// the way in and before they are flattened, and a flattened image is in nnc's order).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Layout {
    Flat,
    Nchw { channels: usize, height: usize, width: usize },
}

#[derive(Clone, Debug)]
struct Value {
    name: String,
    layout: Layout,
}

/// Exports `job`'s model with `params` (its forward parameters in declaration order, as
/// saved in `weights`). Dropout is left out (the identity at inference); batch norm uses
/// its running statistics.
pub fn export(job: &Job, weights: &Weights, params: &[Vec<f32>]) -> Onnx {
    let model = &job.model;
    let preprocessing = &weights.metadata.preprocessing;
    let mut graph = Graph { nodes: Vec::new(), initializers: Vec::new() };
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
    let width = model.input_width();
    let mut input = Value { name: "features".to_string(), layout: Layout::Flat };
    if offsets.iter().any(|&o| o != 0.0) || scales.iter().any(|&s| s != 1.0) {
        graph.constant("input_offset", &[width], &offsets);
        graph.constant("input_scale", &[width], &scales);
        graph.node("Sub", &["features", "input_offset"], "centred", &[]);
        graph.node("Div", &["centred", "input_scale"], "normalised", &[]);
        input.name = "normalised".to_string();
    }
    let fused = job.train.loss.fused_activation();
    let mut values: Vec<Value> = Vec::new();
    let mut next_param = 0;
    for (index, layer) in model.layers.iter().enumerate() {
        let source = |s: Source| match s {
            Source::Input => input.clone(),
            Source::Layer(i) => values[i].clone(),
        };
        let count = layer.params().len();
        let layer_params = &params[next_param..next_param + count];
        next_param += count;
        let z = export_layer(&mut graph, model, layer, source(layer.from), layer_params, &|s| source(s));
        let last = index + 1 == model.layers.len();
        let act = if last { fused.unwrap_or(layer.activation) } else { layer.activation };
        let h = format!("{}.h", layer.name);
        let mut value = match activation(&mut graph, act, &z.name, &h) {
            Some(()) => Value { name: h, layout: z.layout },
            None => z,
        };
        if layer.normalize {
            value.name = l2_normalize(&mut graph, &value.name, &layer.name);
        }
        values.push(value);
    }
    let last = values.pop().unwrap_or(input);
    let result = flat(&mut graph, &last, "result");
    let outputs = model.output_width().unwrap_or(0);
    let output_columns = match &preprocessing.target {
        _ if job.train.loss.metric().is_some() => (1..=outputs).map(|i| format!("e{i}")).collect(),
        TargetEncoding::Classes { classes, binary: true, .. } => vec![format!("p({})", classes[1])],
        TargetEncoding::Classes { classes, .. } => classes.iter().map(|c| format!("p({c})")).collect(),
        TargetEncoding::Columns(_) | TargetEncoding::Features => weights.metadata.target_names.clone(),
    };
    let scale = preprocessing.target_scale(outputs);
    let mut output = result;
    if matches!(job.train.loss, Loss::Mse | Loss::Mae) && scale.iter().any(|&(o, s)| o != 0.0 || s != 1.0) {
        let (offsets, scales): (Vec<f32>, Vec<f32>) = scale.iter().copied().unzip();
        graph.constant("target_scale", &[outputs], &scales);
        graph.constant("target_offset", &[outputs], &offsets);
        graph.node("Mul", &[&output, "target_scale"], "scaled", &[]);
        graph.node("Add", &["scaled", "target_offset"], "unscaled", &[]);
        output = "unscaled".to_string();
    }
    graph.node("Identity", &[&output], "output", &[]);
    finish(graph, model, weights, width, outputs, output_columns)
}

/// x / sqrt(Σ x² + 1e-12) along each row, as nnc's `normalize = l2` computes it.
fn l2_normalize(graph: &mut Graph, input: &str, layer: &str) -> String {
    let name = |suffix: &str| format!("{layer}.{suffix}");
    graph.node("Mul", &[input, input], &name("squares"), &[]);
    graph.int_constant(&name("row"), &[1]);
    graph.node("ReduceSum", &[&name("squares"), &name("row")], &name("length2"), &[int_attribute("keepdims", 1)]);
    graph.constant(&name("epsilon"), &[], &[1e-12]);
    graph.node("Add", &[&name("length2"), &name("epsilon")], &name("length2e"), &[]);
    graph.node("Sqrt", &[&name("length2e")], &name("length"), &[]);
    graph.node("Div", &[input, &name("length")], &name("normalized"), &[]);
    name("normalized")
}

/// One layer's output before its activation.
fn export_layer(
    graph: &mut Graph,
    model: &Model,
    layer: &Layer,
    input: Value,
    params: &[Vec<f32>],
    source: &dyn Fn(Source) -> Value,
) -> Value {
    let name = |suffix: &str| format!("{}.{suffix}", layer.name);
    match layer.kind {
        LayerKind::Dense { units } => {
            let x = flat(graph, &input, &name("flat"));
            graph.constant(&name("w"), &[layer.input.size(), units], &params[0]);
            graph.constant(&name("b"), &[units], &params[1]);
            graph.node("MatMul", &[&x, &name("w")], &name("product"), &[]);
            graph.node("Add", &[&name("product"), &name("b")], &name("z"), &[]);
            Value { name: name("z"), layout: Layout::Flat }
        }
        LayerKind::Conv { filters, kernel, stride, padding, .. } => {
            let x = channels_first(graph, &input, layer.input, &name("images"));
            let [height, width, channels] = image_dims(layer.input);
            let (before, after) = conv_padding(kernel, stride, padding, [height, width]);
            // nnc's filters are [kh, kw, c, f]; ONNX's [f, c, kh, kw].
            let mut w = vec![0.0; params[0].len()];
            let [kh, kw] = kernel;
            for (i, &value) in params[0].iter().enumerate() {
                let (f, c, v, u) =
                    (i % filters, i / filters % channels, i / (filters * channels) % kw, i / (filters * channels * kw));
                w[((f * channels + c) * kh + u) * kw + v] = value;
            }
            graph.constant(&name("w"), &[filters, channels, kh, kw], &w);
            graph.constant(&name("b"), &[filters], &params[1]);
            let attributes = [
                ints_attribute("kernel_shape", &[kh as i64, kw as i64]),
                ints_attribute("strides", &[stride[0] as i64, stride[1] as i64]),
                ints_attribute("pads", &[before[0] as i64, before[1] as i64, after[0] as i64, after[1] as i64]),
            ];
            graph.node("Conv", &[&x, &name("w"), &name("b")], &name("z"), &attributes);
            Value { name: name("z"), layout: nchw(layer.output) }
        }
        LayerKind::Pool { max, size, stride, series } => {
            let x = channels_first(graph, &input, layer.input, &name("images"));
            let (size, stride) = if series { ([1, size[1]], [1, stride[1]]) } else { (size, stride) };
            let attributes = [
                ints_attribute("kernel_shape", &[size[0] as i64, size[1] as i64]),
                ints_attribute("strides", &[stride[0] as i64, stride[1] as i64]),
            ];
            let op = if max { "MaxPool" } else { "AveragePool" };
            graph.node(op, &[&x], &name("z"), &attributes);
            Value { name: name("z"), layout: nchw(layer.output) }
        }
        LayerKind::Flatten => Value { name: flat(graph, &input, &name("z")), layout: Layout::Flat },
        LayerKind::Dropout { .. } => input,
        LayerKind::BatchNorm { epsilon, .. } => {
            let channels = layer.input.channels();
            for (param, suffix) in params.iter().zip(["gamma", "beta", "mean", "var"]) {
                graph.constant(&name(suffix), &[channels], param);
            }
            let inputs = [input.name.as_str(), &name("gamma"), &name("beta"), &name("mean"), &name("var")];
            graph.node("BatchNormalization", &inputs, &name("z"), &[float_attribute("epsilon", epsilon)]);
            Value { name: name("z"), layout: input.layout }
        }
        LayerKind::Embedding { dim, slot, .. } => {
            let slot = slot.expect("settled");
            let total = layer.input.size();
            graph.constant(&name("table"), &[slot.width, dim], &params[0]);
            let part = |graph: &mut Graph, label: &str, from: usize, to: usize| -> Option<String> {
                (to > from).then(|| {
                    let out = name(label);
                    graph.int_constant(&format!("{out}.starts"), &[from as i64]);
                    graph.int_constant(&format!("{out}.ends"), &[to as i64]);
                    graph.int_constant(&format!("{out}.axes"), &[1]);
                    let bounds =
                        [input.name.clone(), format!("{out}.starts"), format!("{out}.ends"), format!("{out}.axes")];
                    let bounds: Vec<&str> = bounds.iter().map(String::as_str).collect();
                    graph.node("Slice", &bounds, &out, &[]);
                    out
                })
            };
            let before = part(graph, "before", 0, slot.start);
            let block = part(graph, "block", slot.start, slot.start + slot.width).unwrap_or_default();
            let after = part(graph, "after", slot.start + slot.width, total);
            graph.node("MatMul", &[&block, &name("table")], &name("embedded"), &[]);
            let parts: Vec<String> = before.into_iter().chain([name("embedded")]).chain(after).collect();
            let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
            graph.node("Concat", &parts, &name("z"), &[int_attribute("axis", 1)]);
            Value { name: name("z"), layout: Layout::Flat }
        }
        LayerKind::Join { concat, other, .. } => {
            let other_value = source(other);
            let other_name = match input.layout {
                Layout::Flat => flat(graph, &other_value, &name("other")),
                Layout::Nchw { .. } => channels_first(graph, &other_value, model.features(other), &name("other")),
            };
            let (op, attributes) = if concat { ("Concat", vec![int_attribute("axis", 1)]) } else { ("Add", vec![]) };
            graph.node(op, &[&input.name, &other_name], &name("z"), &attributes);
            let layout = match input.layout {
                Layout::Flat => Layout::Flat,
                Layout::Nchw { .. } => nchw(layer.output),
            };
            Value { name: name("z"), layout }
        }
    }
}

fn image_dims(features: Features) -> [usize; 3] {
    match features {
        Features::Image { height, width, channels } => [height, width, channels],
        Features::Series { len, channels } => [1, len, channels],
        Features::Flat(len) => [1, len, 1],
    }
}

fn nchw(features: Features) -> Layout {
    let [height, width, channels] = image_dims(features);
    Layout::Nchw { channels, height, width }
}

/// `value` as one vector per row in nnc's (channels last) order; its name.
fn flat(graph: &mut Graph, value: &Value, out: &str) -> String {
    match value.layout {
        Layout::Flat => value.name.clone(),
        Layout::Nchw { .. } => {
            let nhwc = format!("{out}.nhwc");
            graph.node("Transpose", &[&value.name], &nhwc, &[ints_attribute("perm", &[0, 2, 3, 1])]);
            graph.int_constant(&format!("{out}.shape"), &[0, -1]);
            graph.node("Reshape", &[&nhwc, &format!("{out}.shape")], out, &[]);
            out.to_string()
        }
    }
}

/// `value` as NCHW images of `features`; its name.
fn channels_first(graph: &mut Graph, value: &Value, features: Features, out: &str) -> String {
    match value.layout {
        Layout::Nchw { .. } => value.name.clone(),
        Layout::Flat => {
            let [height, width, channels] = image_dims(features);
            let nhwc = format!("{out}.nhwc");
            graph.int_constant(&format!("{out}.shape"), &[0, height as i64, width as i64, channels as i64]);
            graph.node("Reshape", &[&value.name, &format!("{out}.shape")], &nhwc, &[]);
            graph.node("Transpose", &[&nhwc], out, &[ints_attribute("perm", &[0, 3, 1, 2])]);
            out.to_string()
        }
    }
}

/// The model proto around the graph.
fn finish(
    graph: Graph,
    model: &Model,
    weights: &Weights,
    width: usize,
    outputs: usize,
    output_columns: Vec<String>,
) -> Onnx {
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
