//! A PyTorch project that trains the same network the same way: `model.py` (the network
//! as a `torch.nn.Module`), `data.py` (the data file, the fitted preprocessing and nnc's
//! split, so both train and score on the same rows), `train.py` (the same loss, optimizer,
//! schedule, batch size, epochs, early stopping and initial weights; data-parallel with
//! `torchrun`), and a README.

use nnc_autodiff::Optimizer;
use nnc_check::{Activation, Features, Job, Layer, LayerKind, Loss, Model, Sampler, Schedule, Source, conv_padding};
use nnc_data::{Prepared, Task};
use serde_json::json;

/// One generated file: its name in the project and its text.
pub struct File {
    pub name: String,
    pub text: String,
}

/// The project for `job`, starting from `initial` (its forward parameters in declaration
/// order). `data_file` is the name the data file gets inside the project (the caller
/// copies it there). `Err` says why the program cannot be exported.
pub fn project(job: &Job, data: &Prepared, initial: &[Vec<f32>], data_file: &str) -> Result<Vec<File>, String> {
    if data.preprocessing.window.is_some() {
        return Err("time-series windows are not exported yet".into());
    }
    if data.train.lines.is_empty() {
        return Err("only data read from a CSV file is exported (inline tables are not)".into());
    }
    Ok(vec![
        File { name: "model.py".into(), text: model_py(job) },
        File { name: "data.py".into(), text: data_py() },
        File { name: "train.py".into(), text: TRAIN_PY.to_string() },
        File { name: "nnc.json".into(), text: settings(job, data, initial, data_file) },
        File { name: "README.md".into(), text: readme(job) },
    ])
}

fn torch_activation(activation: Activation) -> &'static str {
    match activation {
        Activation::Identity => "x",
        Activation::Relu => "torch.relu(x)",
        Activation::LeakyRelu => "torch.nn.functional.leaky_relu(x, 0.01)",
        Activation::Sigmoid => "torch.sigmoid(x)",
        Activation::Tanh => "torch.tanh(x)",
        Activation::Softmax => "torch.softmax(x, dim=1)",
    }
}

/// How a value is held in the generated `forward`: a vector per row, or channels-first
/// images (PyTorch's convolutions and pools are NCHW; nnc is channels last).
#[derive(Clone, Copy, PartialEq)]
enum Layout {
    Flat,
    Images,
}

/// Python that turns `value` (held as `layout`) into the layout `want`, for `features`.
fn convert(value: &str, layout: Layout, want: Layout, features: Features) -> String {
    let [height, width, channels] = image_dims(features);
    match (layout, want) {
        (Layout::Flat, Layout::Images) => {
            format!("{value}.reshape(-1, {height}, {width}, {channels}).permute(0, 3, 1, 2)")
        }
        (Layout::Images, Layout::Flat) => format!("{value}.permute(0, 2, 3, 1).reshape({value}.shape[0], -1)"),
        _ => value.to_string(),
    }
}

fn image_dims(features: Features) -> [usize; 3] {
    match features {
        Features::Image { height, width, channels } => [height, width, channels],
        Features::Series { len, channels } => [1, len, channels],
        Features::Flat(len) => [1, len, 1],
    }
}

/// The module of one layer, its forward line(s) (reading `x`, the layout it holds, and
/// for joins `other`), the layout it leaves, and the lines loading nnc's parameters.
struct TorchLayer {
    module: Option<String>,
    forward: Vec<String>,
    layout: Layout,
    load: Vec<String>,
}

fn torch_layer(model: &Model, layer: &Layer, layout: Layout, other: Option<(&str, Layout)>) -> TorchLayer {
    let name = &layer.name;
    let p = |suffix: &str| format!("params[\"{name}.{suffix}\"]");
    let flat_in = convert("x", layout, Layout::Flat, layer.input);
    let images_in = convert("x", layout, Layout::Images, layer.input);
    match layer.kind {
        LayerKind::Dense { units } => TorchLayer {
            module: Some(format!("nn.Linear({}, {units})", layer.input.size())),
            forward: vec![format!("x = self.{name}({flat_in})")],
            layout: Layout::Flat,
            load: vec![
                format!(
                    "self.{name}.weight.copy_(torch.tensor({}).reshape({}, {units}).T)",
                    p("w"),
                    layer.input.size()
                ),
                format!("self.{name}.bias.copy_(torch.tensor({}))", p("b")),
            ],
        },
        LayerKind::Conv { filters, kernel, stride, padding, .. } => {
            let [height, width, channels] = image_dims(layer.input);
            let (before, after) = conv_padding(kernel, stride, padding, [height, width]);
            let mut forward = vec![format!("x = {images_in}")];
            if before.iter().chain(&after).any(|&p| p > 0) {
                // nnc pads as TensorFlow does, any odd row or column after: explicit padding.
                forward.push(format!("x = F.pad(x, ({}, {}, {}, {}))", before[1], after[1], before[0], after[0]));
            }
            forward.push(format!("x = self.{name}(x)"));
            TorchLayer {
                module: Some(format!(
                    "nn.Conv2d({channels}, {filters}, ({}, {}), stride=({}, {}))",
                    kernel[0], kernel[1], stride[0], stride[1]
                )),
                forward,
                layout: Layout::Images,
                load: vec![
                    // nnc's filters are [kh, kw, c, f]; PyTorch's [f, c, kh, kw].
                    format!(
                        "self.{name}.weight.copy_(torch.tensor({}).reshape({}, {}, {channels}, {filters}).permute(3, 2, 0, 1))",
                        p("w"),
                        kernel[0],
                        kernel[1]
                    ),
                    format!("self.{name}.bias.copy_(torch.tensor({}))", p("b")),
                ],
            }
        }
        LayerKind::Pool { max, size, stride, series } => {
            let (size, stride) = if series { ([1, size[1]], [1, stride[1]]) } else { (size, stride) };
            let kind = if max { "MaxPool2d" } else { "AvgPool2d" };
            TorchLayer {
                module: Some(format!("nn.{kind}(({}, {}), stride=({}, {}))", size[0], size[1], stride[0], stride[1])),
                forward: vec![format!("x = self.{name}({images_in})")],
                layout: Layout::Images,
                load: Vec::new(),
            }
        }
        LayerKind::Flatten => {
            TorchLayer { module: None, forward: vec![format!("x = {flat_in}")], layout: Layout::Flat, load: Vec::new() }
        }
        LayerKind::Dropout { rate } => TorchLayer {
            module: Some(format!("nn.Dropout({rate})")),
            forward: vec![format!("x = self.{name}(x)")],
            layout,
            load: Vec::new(),
        },
        LayerKind::BatchNorm { momentum, epsilon } => {
            let kind = if layout == Layout::Flat { "BatchNorm1d" } else { "BatchNorm2d" };
            let load = [("weight", "gamma"), ("bias", "beta"), ("running_mean", "mean"), ("running_var", "var")]
                .iter()
                .map(|(field, suffix)| format!("self.{name}.{field}.copy_(torch.tensor({}))", p(suffix)))
                .collect();
            TorchLayer {
                module: Some(format!("nn.{kind}({}, eps={epsilon}, momentum={momentum})", layer.input.channels())),
                forward: vec![format!("x = self.{name}(x)")],
                layout,
                load,
            }
        }
        LayerKind::Embedding { dim, slot, .. } => {
            let slot = slot.expect("settled");
            let end = slot.start + slot.width;
            TorchLayer {
                // The one-hot block times the table: an nn.Embedding of the category
                // indices, written as the product nnc computes.
                module: Some(format!("nn.Linear({}, {dim}, bias=False)", slot.width)),
                forward: vec![format!(
                    "x = torch.cat([x[:, :{}], self.{name}(x[:, {}:{end}]), x[:, {end}:]], dim=1)",
                    slot.start, slot.start
                )],
                layout: Layout::Flat,
                load: vec![format!(
                    "self.{name}.weight.copy_(torch.tensor({}).reshape({}, {dim}).T)",
                    p("table"),
                    slot.width
                )],
            }
        }
        LayerKind::Join { concat, other: source, .. } => {
            let (other, other_layout) = other.expect("a join reads another value");
            let other = convert(other, other_layout, layout, model.features(source));
            let line = if concat { format!("x = torch.cat([x, {other}], dim=1)") } else { format!("x = x + {other}") };
            TorchLayer { module: None, forward: vec![line], layout, load: Vec::new() }
        }
    }
}

fn model_py(job: &Job) -> String {
    let model = &job.model;
    let mut layers = String::new();
    let mut forward = String::from("        input = x\n");
    let mut load = String::new();
    let last = model.layers.len() - 1;
    let mut layouts: Vec<Layout> = Vec::new();
    for (index, layer) in model.layers.iter().enumerate() {
        let value = |s: Source| match s {
            Source::Input => ("input".to_string(), Layout::Flat),
            Source::Layer(i) => (model.layers[i].name.clone(), layouts[i]),
        };
        let (from, layout) = value(layer.from);
        let other = match layer.kind {
            LayerKind::Join { other, .. } => Some(value(other)),
            _ => None,
        };
        let built = torch_layer(model, layer, layout, other.as_ref().map(|(n, l)| (n.as_str(), *l)));
        if let Some(module) = &built.module {
            layers.push_str(&format!("        self.{} = {module}\n", layer.name));
        }
        forward.push_str(&format!("        x = {from}\n"));
        for line in &built.forward {
            forward.push_str(&format!("        {line}\n"));
        }
        for line in &built.load {
            load.push_str(&format!("            {line}\n"));
        }
        // The last layer's activation is part of a fused loss (logits out of `forward`).
        let activation = if index == last && job.train.loss.fused_activation().is_some() {
            Activation::Identity
        } else {
            layer.activation
        };
        if activation != Activation::Identity {
            forward.push_str(&format!("        x = {}\n", torch_activation(activation)));
        }
        if layer.normalize {
            forward.push_str("        x = x / torch.sqrt((x * x).sum(dim=1, keepdim=True) + 1e-12)\n");
        }
        forward.push_str(&format!("        {} = x\n", layer.name));
        layouts.push(built.layout);
    }
    if layouts.last() == Some(&Layout::Images) {
        let features = model.layers[last].output;
        forward.push_str(&format!("        x = {}\n", convert("x", Layout::Images, Layout::Flat, features)));
    }
    if load.is_empty() {
        load.push_str("            pass\n");
    }
    let predict = match job.train.loss {
        Loss::SoftmaxCe => "torch.softmax(self(x), dim=1)",
        Loss::Bce => "torch.sigmoid(self(x))",
        Loss::Mse | Loss::Mae | Loss::Metric(_) => "self(x)",
    };
    format!(
        r#""""The network of nnc model `{name}`, layer by layer as nnc trains it. Written by `nnc export`.

Images are channels-first here (nnc keeps them channels last: the loading code transposes
nnc's weights, and a flattened image is in nnc's order)."""

import torch
import torch.nn.functional as F
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
{layers}
    def forward(self, x):
        """The model's output before any loss-fused activation (logits for cross-entropy)."""
{forward}        return x

    def predict(self, x):
        """Probabilities for classifiers, values (normalised as in training) for regression."""
        return {predict}

    def load_nnc(self, params):
        """Loads nnc's parameters by name (`dense1.w` is [inputs, units], `conv1.w`
        [kernel rows, kernel columns, channels, filters])."""
        with torch.no_grad():
{load}"#,
        name = model.name
    )
}

/// Everything `data.py` and `train.py` read: the preprocessing, the split, the settings
/// and the initial weights.
fn settings(job: &Job, data: &Prepared, initial: &[Vec<f32>], data_file: &str) -> String {
    let config = &job.train;
    let (optimizer, momentum, nesterov, weight_decay, betas, epsilon) = match config.optimizer {
        Optimizer::Sgd { momentum, nesterov, weight_decay } => {
            ("sgd", momentum, nesterov, weight_decay, (0.9, 0.999), 1e-8)
        }
        Optimizer::Adam { beta1, beta2, epsilon, weight_decay } => {
            ("adam", 0.0, false, weight_decay, (beta1, beta2), epsilon)
        }
    };
    let schedule = match config.schedule {
        Schedule::Constant => json!(null),
        Schedule::Step { every, factor } => json!({ "every": every, "factor": factor }),
    };
    let task = match (&data.task, config.loss) {
        (_, Loss::Metric(_)) => "embedding",
        (Task::Regression, _) => "regression",
        (Task::Binary(_), _) => "binary",
        (Task::Classes(_), _) => "classes",
    };
    let per_class = match config.sampler {
        Sampler::Classes { per_class } => Some(per_class),
        Sampler::Rows => None,
    };
    let mut params = serde_json::Map::new();
    let forward = nnc_lower::lower_forward(&job.model, config.loss, None, 1, nnc_lower::Mode::Eval).graph;
    for (decl, values) in forward.params.iter().zip(initial) {
        let dims = decl.shape.dims();
        let value = if dims.len() == 2 {
            json!(values.chunks(dims[1].max(1)).map(<[f32]>::to_vec).collect::<Vec<_>>())
        } else {
            json!(values)
        };
        params.insert(decl.name.clone(), value);
    }
    let split = |name: &str| -> Vec<u64> {
        data.splits().iter().find(|(n, _)| *n == name).map(|(_, d)| d.lines.clone()).unwrap_or_default()
    };
    let settings = json!({
        "model": job.model.name,
        "data_file": data_file,
        "task": task,
        "loss": config.loss.name(),
        "margin": config.loss.metric().map(|m| m.margin),
        "per_class": per_class,
        "optimizer": optimizer,
        "learning_rate": config.learning_rate,
        "momentum": momentum,
        "nesterov": nesterov,
        "weight_decay": weight_decay,
        "betas": [betas.0, betas.1],
        "epsilon": epsilon,
        "schedule": schedule,
        "epochs": config.epochs,
        "batch": data.train.rows.min(config.batch.unwrap_or(data.train.rows)),
        "patience": config.patience.map(|(p, _)| p),
        "seed": config.seed,
        "shuffle": config.shuffle,
        "input_names": data.train.input_names,
        "target_names": data.train.target_names,
        "preprocessing": data.preprocessing,
        "split_lines": { "train": split("train"), "val": split("val"), "test": split("test") },
        "initial": params,
    });
    serde_json::to_string_pretty(&settings).unwrap_or_default() + "\n"
}

fn readme(job: &Job) -> String {
    format!(
        r#"# `{name}`, exported from nnc

The network, its data preparation and its training, in PyTorch: the same layers, the same
preprocessing (fitted by nnc on the training split, in `nnc.json`), the same split of the
rows, the same loss, optimizer, schedule, batch size, epochs and initial weights.

```
pip install torch
python train.py                              # one process
torchrun --nproc-per-node 4 train.py         # data-parallel on one machine
torchrun --nnodes 2 --node-rank 0 --master-addr HOST --master-port 29500 --nproc-per-node 4 train.py
                                             # and --node-rank 1 on the second machine
```

`train.py --epochs N --lr R` overrides the settings; with several processes each takes an
equal share of every batch, so the global batch stays nnc's (under a metric loss, each
process compares the rows of its own share). The trained state is written to `model.pt`.
"#,
        name = job.model.name
    )
}

/// `data.py`, with nnc's default missing-value markers.
fn data_py() -> String {
    let markers = serde_json::to_string(nnc_data::DEFAULT_MISSING_VALUES).unwrap_or_default();
    DATA_PY.replace("@DEFAULT_MISSING@", &markers)
}

const DATA_PY: &str = r#""""The rows of the data file as nnc prepared them: the fitted preprocessing of nnc.json
(normalisation, one-hot categories with an <unknown> slot, missing-value fills) and nnc's
split of the rows, by their line in the file. Written by `nnc export`."""

import csv
import json
import math

import torch

# nnc's default markers, for columns saved without their own.
DEFAULT_MISSING = @DEFAULT_MISSING@


def settings():
    with open("nnc.json", encoding="utf-8") as f:
        return json.load(f)


def _encode(column, cell, out):
    """Appends the model columns of one cell, as nnc encodes it: the column's missing-value
    markers are compared exactly."""
    kind, spec = next(iter(column["encoding"].items()))
    cell = cell.strip()
    missing = cell in column.get("missing", DEFAULT_MISSING)
    if kind == "Numeric":
        value = spec["fill"] if missing else float(cell)
        if value is None:
            raise ValueError("missing value")
        out.append((value - spec["offset"]) / spec["scale"])
    else:
        category = spec["fill"] if missing else cell
        if category is None:
            raise ValueError("missing value")
        categories = spec["categories"]
        slot = categories.index(category) if category in categories else len(categories)
        out.extend(1.0 if i == slot else 0.0 for i in range(len(categories) + 1))


def _target(target, header, row):
    if target == "Features":
        return None
    kind, spec = next(iter(target.items()))
    if kind == "Columns":
        values = []
        for column in spec:
            _encode(column, row[header.index(column["column"])], values)
        return values
    cell = row[header.index(spec["column"])].strip()
    return spec["classes"].index(cell)


def load():
    """{"train": (X, Y), "val": ..., "test": ...} as float tensors (class indices for
    classification), on exactly nnc's rows."""
    s = settings()
    pre = s["preprocessing"]
    with open(s["data_file"], newline="", encoding="utf-8-sig") as f:
        lines = list(csv.reader(f))
    header = [h.strip() for h in lines[0]]
    parts = {}
    for name, wanted in s["split_lines"].items():
        xs, ys = [], []
        for line in wanted:
            row = lines[line - 1]
            x = []
            for column in pre["features"]:
                _encode(column, row[header.index(column["column"])], x)
            y = _target(pre["target"], header, row)
            xs.append(x)
            ys.append(x if y is None else y)
        if not xs:
            continue
        x = torch.tensor(xs, dtype=torch.float32)
        if s["task"] in ("classes", "embedding"):
            y = torch.tensor(ys, dtype=torch.long)
        else:
            y = torch.tensor(ys, dtype=torch.float32)
            if y.dim() == 1:
                y = y[:, None]
        parts[name] = (x, y)
    return parts


def r2(predicted, actual):
    total = ((actual - actual.mean()) ** 2).sum().item()
    residual = ((predicted - actual) ** 2).sum().item()
    return 1.0 - residual / total if total > 0 else math.nan
"#;

const TRAIN_PY: &str = r#""""Trains the network as nnc trains it: loss, optimizer, learning-rate schedule, batch
size, epochs, early stopping and initial weights from nnc.json. Data-parallel with
torchrun (each process takes an equal share of every batch). Written by `nnc export`.

    python train.py [--epochs N] [--lr R]
    torchrun --nproc-per-node N train.py
"""

import argparse
import os

import torch
import torch.distributed as dist
from torch import nn

import data
from model import Net


def metric_loss(kind, margin):
    """nnc's metric losses over a batch's embeddings `e` and class indices `y`, from the
    squared distances D. Triplet: each row's farthest same-class and nearest other-class
    row (batch-hard mining). Contrastive: every ordered pair, D for the same class and
    max(0, margin - sqrt(D))² for others, halved and averaged."""

    def loss(e, y):
        lengths = (e * e).sum(dim=1)
        d = torch.clamp(lengths[:, None] + lengths[None, :] - 2 * e @ e.T, min=0.0)
        same = (y[:, None] == y[None, :]).float()
        if kind == "triplet":
            positive = (d * same).max(dim=1).values
            negative = torch.where(same > 0, torch.full_like(d, float("inf")), d).min(dim=1).values
            return torch.clamp(positive - negative + margin, min=0.0).mean()
        short = torch.clamp(margin - torch.sqrt(d + 1e-9), min=0.0)
        return 0.5 * (same * d + (1 - same) * short * short).mean()

    return loss


def loss_function(name, margin=None):
    if name in ("triplet", "contrastive"):
        return metric_loss(name, margin)
    return {
        "mse": nn.MSELoss(),
        "mae": nn.L1Loss(),
        "bce": nn.BCEWithLogitsLoss(),
        "softmax_ce": nn.CrossEntropyLoss(),
    }[name]


def optimizer_for(s, parameters, lr):
    if s["optimizer"] == "adam":
        return torch.optim.Adam(parameters, lr=lr, betas=tuple(s["betas"]), eps=s["epsilon"],
                                weight_decay=s["weight_decay"])
    return torch.optim.SGD(parameters, lr=lr, momentum=s["momentum"], nesterov=s["nesterov"],
                           weight_decay=s["weight_decay"])


def class_runs(y, per_class):
    """`sampler classes`: every row once, in runs of `per_class` rows of one class, the
    runs in random order, so that each batch holds several rows of each of its classes."""
    runs = []
    for c in y.unique():
        rows = (y == c).nonzero().flatten()
        rows = rows[torch.randperm(len(rows))]
        runs += [rows[i:i + per_class] for i in range(0, len(rows), per_class)]
    return torch.cat([runs[i] for i in torch.randperm(len(runs))])


def epoch_order(s, y, batch):
    rows = y.shape[0]
    if s.get("per_class"):
        return class_runs(y, s["per_class"])
    return torch.randperm(rows) if batch < rows and s.get("shuffle", True) else torch.arange(rows)


def top1(e, y):
    """Leave-one-out top-1 by cosine similarity: each row's most similar other row has
    its class (what nnc reports for an embedding)."""
    e = e / torch.sqrt((e * e).sum(dim=1, keepdim=True) + 1e-12)
    similarity = e @ e.T
    similarity.fill_diagonal_(-float("inf"))
    return (y[similarity.argmax(dim=1)] == y).float().mean().item()


def score(s, model, x, y):
    model.eval()
    with torch.no_grad():
        predicted = model.predict(x)
    if s["task"] == "embedding":
        return "top-1", top1(predicted, y)
    if s["task"] == "classes":
        return "accuracy", (predicted.argmax(dim=1) == y).float().mean().item()
    if s["task"] == "binary":
        return "accuracy", ((predicted >= 0.5).float() == y).float().mean().item()
    return "R²", data.r2(predicted, y)


def main():
    s = data.settings()
    parser = argparse.ArgumentParser(description="Train nnc model " + s["model"] + " with PyTorch.")
    parser.add_argument("--epochs", type=int, default=s["epochs"])
    parser.add_argument("--lr", type=float, default=s["learning_rate"])
    args = parser.parse_args()

    distributed = "WORLD_SIZE" in os.environ
    if distributed:
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    rank = dist.get_rank() if distributed else 0
    world = dist.get_world_size() if distributed else 1
    torch.manual_seed(s["seed"])

    parts = data.load()
    x, y = parts["train"]
    model = Net()
    model.load_nnc(s["initial"])
    if distributed:
        model = nn.parallel.DistributedDataParallel(model)
    net = model.module if distributed else model
    loss_of = loss_function(s["loss"], s.get("margin"))
    optimizer = optimizer_for(s, model.parameters(), args.lr)
    schedule = s["schedule"]
    scheduler = (torch.optim.lr_scheduler.StepLR(optimizer, schedule["every"], schedule["factor"])
                 if schedule else None)
    batch = s["batch"]
    rows = x.shape[0]
    best = (float("inf"), None)
    since_best = 0
    for epoch in range(args.epochs):
        order = epoch_order(s, y, batch)
        total = 0.0
        for start in range(0, rows, batch):
            rows_of_step = order[start:start + batch]
            mine = rows_of_step[rank::world]
            optimizer.zero_grad()
            loss = loss_of(model(x[mine]), y[mine])
            loss.backward()
            optimizer.step()
            total += loss.item() * len(rows_of_step)
        if scheduler:
            scheduler.step()
        line = f"epoch {epoch + 1} loss {total / rows:.6g}"
        if "val" in parts:
            net.eval()
            with torch.no_grad():
                val_loss = loss_of(net(parts["val"][0]), parts["val"][1]).item()
            net.train()
            line += f" val {val_loss:.6g}"
            if s["patience"] is not None:
                if val_loss < best[0]:
                    best = (val_loss, {k: v.clone() for k, v in net.state_dict().items()})
                    since_best = 0
                else:
                    since_best += 1
                    if since_best >= s["patience"]:
                        if rank == 0:
                            print(line)
                            print(f"early stop after epoch {epoch + 1}")
                        break
        if rank == 0 and ((epoch + 1) % max(1, args.epochs // 10) == 0 or epoch + 1 == args.epochs):
            print(line)
    if best[1] is not None:
        net.load_state_dict(best[1])
    if rank == 0:
        for name in ("train", "val", "test"):
            if name in parts:
                metric, value = score(s, net, *parts[name])
                print(f"{name} {metric} {value:.4f}")
        torch.save(net.state_dict(), "model.pt")
    if distributed:
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
"#;
