#!/usr/bin/env python3
"""Reference trajectories for nnc, computed in float64 PyTorch.

Each case below is a small network with literal initial weights, data, loss, optimizer,
schedule and batching. For each, this script writes

- `NAME.nn`: the case as an nnc program (the program the test runs), and
- `NAME.json`: what float64 PyTorch computes for it: the loss of every epoch (the
  batch-weighted mean of the steps' losses, each taken before its update, as nnc reports
  it) and every parameter after the last epoch.

`cargo test` (crates/nnc-tests/tests/oracle.rs) runs each program through nnc (float32)
and compares. Nothing here runs during `cargo test`: rerun it when a case changes,

    python3 tests/oracle/oracle.py        # needs torch (CPU) and numpy

Conventions nnc shares with PyTorch, which the comparison relies on:
- SGD with momentum: v = mu*v + g; w -= lr*v (dampening 0); Nesterov: w -= lr*(g + mu*v).
- weight decay is L2, added to the gradient of every parameter (biases too), for SGD and
  Adam alike (torch.optim.Adam's `weight_decay`, not AdamW).
- Adam: nnc folds the bias correction into the rate, w -= lr*sqrt(1-b2^t)/(1-b1^t) *
  m/(sqrt(v) + eps), which is PyTorch's update with eps_torch = eps*sqrt(1-b2^t); at
  eps = 1e-8 the two differ far below float32 precision here.
- `schedule step(every = N, factor = F)`: lr * F^floor(epoch / N), epoch counted from 0,
  as StepLR(step_size=N, gamma=F) stepped once per epoch.
- `shuffle false`: batches in file order; the last batch of an epoch is the smaller rest.
- bce is binary_cross_entropy_with_logits on the last layer's pre-activation (mean over
  elements), softmax_ce is -sum(y * log_softmax(z)) averaged over rows, mae is l1_loss.
"""

import json
import os

import numpy as np
import torch

torch.set_default_dtype(torch.float64)
HERE = os.path.dirname(os.path.abspath(__file__))


def f32(values):
    """The float32 values nnc reads, exactly, in float64."""
    return np.asarray(values, dtype=np.float32).astype(np.float64)


CASES = [
    dict(
        name="mse_sgd",
        about="MSE and plain SGD through a ReLU layer, full batch",
        inputs=[[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]],
        targets=[[0.0], [1.0], [1.0], [0.0]],
        layers=[(3, "relu", [[0.5, -0.3, 0.8], [0.2, 0.7, -0.6]], [0.1, 0.0, -0.1]),
                (1, None, [[0.4], [-0.5], [0.9]], [0.05])],
        loss="mse", optimizer=("sgd", dict(lr=0.1)), epochs=5, batch=None),
    dict(
        name="sgd_momentum_sigmoid",
        about="SGD with momentum through a sigmoid layer",
        inputs=[[0.5, -1.0], [1.5, 0.3], [-0.7, 0.8], [0.2, 0.1]],
        targets=[[1.0], [0.2], [-0.4], [0.6]],
        layers=[(2, "sigmoid", [[0.3, -0.8], [0.6, 0.25]], [0.0, 0.2]),
                (1, None, [[1.2], [-0.7]], [0.0])],
        loss="mse", optimizer=("sgd", dict(lr=0.2, momentum=0.9)), epochs=6, batch=None),
    dict(
        name="sgd_nesterov_leaky_decay",
        about="Nesterov momentum and weight decay through a leaky ReLU layer",
        inputs=[[0.5, -1.0], [1.5, 0.3], [-0.7, 0.8], [0.2, 0.1]],
        targets=[[1.0], [0.2], [-0.4], [0.6]],
        layers=[(3, "leaky_relu", [[0.3, -0.8, 0.1], [0.6, 0.25, -0.9]], [0.0, 0.2, -0.3]),
                (1, None, [[1.2], [-0.7], [0.5]], [0.1])],
        loss="mse", optimizer=("sgd", dict(lr=0.1, momentum=0.8, nesterov=True, weight_decay=0.05)),
        epochs=6, batch=None),
    dict(
        name="adam_tanh",
        about="Adam through a tanh layer",
        inputs=[[0.5, -1.0], [1.5, 0.3], [-0.7, 0.8], [0.2, 0.1], [1.0, 1.0]],
        targets=[[1.0], [0.2], [-0.4], [0.6], [0.0]],
        layers=[(4, "tanh", [[0.3, -0.8, 0.1, 0.5], [0.6, 0.25, -0.9, -0.2]], [0.0, 0.2, -0.3, 0.1]),
                (1, None, [[1.2], [-0.7], [0.5], [0.3]], [0.1])],
        loss="mse", optimizer=("adam", dict(lr=0.05)), epochs=8, batch=None),
    dict(
        name="adam_weight_decay",
        about="Adam with weight decay (L2 in the gradient) and its own betas",
        inputs=[[0.5, -1.0], [1.5, 0.3], [-0.7, 0.8], [0.2, 0.1], [1.0, 1.0]],
        targets=[[1.0], [0.2], [-0.4], [0.6], [0.0]],
        layers=[(3, "relu", [[0.3, -0.8, 0.1], [0.6, 0.25, -0.9]], [0.1, 0.2, 0.3]),
                (1, None, [[1.2], [-0.7], [0.5]], [0.1])],
        loss="mse", optimizer=("adam", dict(lr=0.03, beta1=0.8, beta2=0.99, weight_decay=0.1)),
        epochs=8, batch=None),
    dict(
        name="softmax_ce_large_logits",
        about="softmax cross-entropy where the logits reach about +-60: no overflow, exact gradients",
        inputs=[[1.0, 2.0], [-1.5, 0.5], [2.0, -1.0], [0.5, 0.5]],
        targets=[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 0.0]],
        layers=[(3, None, [[20.0, -15.0, 8.0], [12.0, 9.0, -25.0]], [1.0, -2.0, 0.5])],
        loss="softmax_ce", optimizer=("sgd", dict(lr=0.01)), epochs=5, batch=None),
    dict(
        name="bce_logits_ragged",
        about="binary cross-entropy from logits, 5 rows in batches of 2 (a ragged last batch)",
        inputs=[[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [0.5, 0.5]],
        targets=[[0.0], [0.0], [0.0], [1.0], [1.0]],
        layers=[(1, "sigmoid", [[2.0], [1.5]], [-1.0])],
        loss="bce", optimizer=("sgd", dict(lr=0.5)), epochs=4, batch=2),
    dict(
        name="mae_exact_fit",
        about="mae on the course's hand-solved XOR: an exact fit stays exact (gradient 0 at 0)",
        inputs=[[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]],
        targets=[[0.0], [1.0], [1.0], [0.0]],
        layers=[(2, "relu", [[1.0, 1.0], [1.0, 1.0]], [0.0, -1.0]), (1, None, [[1.0], [-2.0]], [0.0])],
        loss="mae", optimizer=("sgd", dict(lr=0.1)), epochs=3, batch=None),
    dict(
        name="mae_step_schedule",
        about="mae away from a fit, with a step schedule halving the rate every 2 epochs, batches of 3",
        inputs=[[0.5, -1.0], [1.5, 0.3], [-0.7, 0.8], [0.2, 0.1], [1.0, 1.0]],
        targets=[[1.0], [0.2], [-0.4], [0.6], [0.0]],
        layers=[(3, "tanh", [[0.3, -0.8, 0.1], [0.6, 0.25, -0.9]], [0.1, 0.2, 0.3]),
                (1, None, [[1.2], [-0.7], [0.5]], [0.1])],
        loss="mae", optimizer=("sgd", dict(lr=0.2)), schedule=(2, 0.5), epochs=6, batch=3),
]


def program(case):
    """The case as an nnc program."""
    width_in, width_out = len(case["inputs"][0]), len(case["targets"][0])
    xs = " ".join(f"x{i}" for i in range(width_in))
    ys = " ".join(f"y{i}" for i in range(width_out))
    rows = "\n".join(
        "  " + " ".join(repr(v) for v in x) + " -> " + " ".join(repr(v) for v in y)
        for x, y in zip(case["inputs"], case["targets"]))
    layers = []
    for units, activation, weights, bias in case["layers"]:
        w = "[" + ", ".join("[" + ", ".join(repr(v) for v in row) + "]" for row in weights) + "]"
        b = "[" + ", ".join(repr(v) for v in bias) + "]"
        act = f" {activation}" if activation else ""
        layers.append(f"  dense {units}{act} (weights = {w}, bias = {b})")
    kind, args = case["optimizer"]
    def value(v):
        return ("true" if v else "false") if isinstance(v, bool) else repr(v)
    optimizer = f"{kind}(" + ", ".join(f"{k} = {value(v)}" for k, v in args.items()) + ")"
    settings = [f"loss {case['loss']}", f"optimizer {optimizer}", f"epochs {case['epochs']}"]
    if case["batch"]:
        settings += [f"batch {case['batch']}", "shuffle false"]
    if case.get("schedule"):
        every, factor = case["schedule"]
        settings.append(f"schedule step(every = {every}, factor = {factor!r})")
    return (f"//! oracle: {case['about']} (written by tests/oracle/oracle.py)\n"
            f"data d {{\n  {xs} -> {ys}\n{rows}\n}}\n\n"
            "model m {\n  input " + str(width_in) + "\n" + "\n".join(layers) + "\n}\n\n"
            "train m on d {\n" + "\n".join("  " + s for s in settings) + "\n}\n")


def forward(case, params, x):
    """The last layer's pre-activation, and whether a final activation applies after it."""
    h = x
    for index, (units, activation, _, _) in enumerate(case["layers"]):
        z = h @ params[2 * index] + params[2 * index + 1]
        last = index == len(case["layers"]) - 1
        if last and case["loss"] in ("bce", "softmax_ce"):
            return z  # those losses read the logits
        h = {None: lambda t: t, "relu": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh,
             "leaky_relu": lambda t: torch.nn.functional.leaky_relu(t, 0.01)}[activation](z)
    return h


def loss_of(case, out, y):
    f = torch.nn.functional
    if case["loss"] == "mse":
        return f.mse_loss(out, y)
    if case["loss"] == "mae":
        return f.l1_loss(out, y)
    if case["loss"] == "bce":
        return f.binary_cross_entropy_with_logits(out, y)
    return -(y * f.log_softmax(out, dim=1)).sum(dim=1).mean()


def optimizer_for(case, params):
    kind, args = case["optimizer"]
    args = {k: (float(f32(v)) if isinstance(v, float) else v) for k, v in args.items()}
    if kind == "sgd":
        return torch.optim.SGD(params, lr=args["lr"], momentum=args.get("momentum", 0.0),
                               nesterov=args.get("nesterov", False), weight_decay=args.get("weight_decay", 0.0))
    betas = (args.get("beta1", float(f32(0.9))), args.get("beta2", float(f32(0.999))))
    return torch.optim.Adam(params, lr=args["lr"], betas=betas, eps=float(f32(1e-8)),
                            weight_decay=args.get("weight_decay", 0.0))


def trajectory(case):
    x, y = torch.tensor(f32(case["inputs"])), torch.tensor(f32(case["targets"]))
    params = []
    for _, _, weights, bias in case["layers"]:
        params.append(torch.tensor(f32(weights), requires_grad=True))
        params.append(torch.tensor(f32(bias), requires_grad=True))
    optimizer = optimizer_for(case, params)
    scheduler = None
    if case.get("schedule"):
        every, factor = case["schedule"]
        scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=every, gamma=float(f32(factor)))
    rows = x.shape[0]
    batch = case["batch"] or rows
    losses = []
    for _ in range(case["epochs"]):
        total = 0.0
        for start in range(0, rows, batch):
            xb, yb = x[start:start + batch], y[start:start + batch]
            optimizer.zero_grad()
            loss = loss_of(case, forward(case, params, xb), yb)
            loss.backward()
            optimizer.step()
            total += loss.item() * xb.shape[0]
        losses.append(total / rows)
        if scheduler:
            scheduler.step()
    names = {}
    for index, _ in enumerate(case["layers"]):
        names[f"dense{index + 1}.w"] = params[2 * index].detach().numpy().tolist()
        names[f"dense{index + 1}.b"] = params[2 * index + 1].detach().numpy().tolist()
    return {"epoch_losses": losses, "parameters": names}


def main():
    for case in CASES:
        with open(os.path.join(HERE, case["name"] + ".nn"), "w") as f:
            f.write(program(case))
        result = trajectory(case)
        result["about"] = case["about"]
        result["torch"] = torch.__version__
        with open(os.path.join(HERE, case["name"] + ".json"), "w") as f:
            json.dump(result, f, indent=1)
            f.write("\n")
        print(f"{case['name']}: final loss {result['epoch_losses'][-1]:.6g}")


if __name__ == "__main__":
    main()
