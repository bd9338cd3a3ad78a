//! A PyTorch project that trains the same network the same way: `model.py` (the network
//! as a `torch.nn.Module`), `data.py` (the data file, the fitted preprocessing and nnc's
//! split, so both train and score on the same rows), `train.py` (the same loss, optimizer,
//! schedule, batch size, epochs, early stopping and initial weights; data-parallel with
//! `torchrun`), and a README.

use nnc_autodiff::Optimizer;
use nnc_check::{Activation, Job, Loss, Schedule};
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

fn model_py(job: &Job) -> String {
    let model = &job.model;
    let mut layers = String::new();
    let mut forward = String::new();
    let last = model.layers.len() - 1;
    for (index, layer) in model.layers.iter().enumerate() {
        layers.push_str(&format!(
            "        self.{} = nn.Linear({}, {})\n",
            layer.name,
            model.fan_in(index),
            layer.units
        ));
        forward.push_str(&format!("        x = self.{}(x)\n", layer.name));
        // The last layer's activation is part of a fused loss (logits out of `forward`).
        let activation = if index == last && job.train.loss.fused_activation().is_some() {
            Activation::Identity
        } else {
            layer.activation
        };
        if activation != Activation::Identity {
            forward.push_str(&format!("        x = {}\n", torch_activation(activation)));
        }
    }
    let predict = match job.train.loss {
        Loss::SoftmaxCe => "torch.softmax(self(x), dim=1)",
        Loss::Bce => "torch.sigmoid(self(x))",
        Loss::Mse | Loss::Mae => "self(x)",
    };
    format!(
        r#""""The network of nnc model `{name}`, layer by layer as nnc trains it. Written by `nnc export`."""

import torch
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
        """Loads nnc's parameters: a dict `layer.w` ([inputs, units]) and `layer.b`."""
        with torch.no_grad():
            for name, module in self.named_children():
                module.weight.copy_(torch.tensor(params[name + ".w"]).T)
                module.bias.copy_(torch.tensor(params[name + ".b"]))
"#,
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
    let task = match &data.task {
        Task::Regression => "regression",
        Task::Binary(_) => "binary",
        Task::Classes(_) => "classes",
    };
    let mut params = serde_json::Map::new();
    let forward = nnc_lower::lower_forward(&job.model, config.loss, None, 1).graph;
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
equal share of every batch, so the global batch stays nnc's. The trained state is written to
`model.pt`.
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
        if s["task"] == "classes":
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


def loss_function(name):
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


def score(s, model, x, y):
    with torch.no_grad():
        predicted = model.predict(x)
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
    loss_of = loss_function(s["loss"])
    optimizer = optimizer_for(s, model.parameters(), args.lr)
    schedule = s["schedule"]
    scheduler = (torch.optim.lr_scheduler.StepLR(optimizer, schedule["every"], schedule["factor"])
                 if schedule else None)
    batch = s["batch"]
    rows = x.shape[0]
    best = (float("inf"), None)
    since_best = 0
    for epoch in range(args.epochs):
        order = torch.randperm(rows) if batch < rows and s.get("shuffle", True) else torch.arange(rows)
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
            with torch.no_grad():
                val_loss = loss_of(net(parts["val"][0]), parts["val"][1]).item()
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
