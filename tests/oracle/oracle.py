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


def rand(shape, seed, scale=0.5):
    """Fixed float32 numbers in [-scale, scale): literal weights and inputs of the layer cases."""
    return (np.random.default_rng(seed).uniform(-scale, scale, shape)).astype(np.float32).tolist()


# Cases with the layers beyond dense. `net` lists the layers in order, each a dict:
# kind, the options nnc writes in parentheses, the activation, and literal parameters
# (`w`, `b`, `table`). Images are height x width x channels, channels last, as nnc reads
# them; PyTorch computes in NCHW and its weights are permuted to match.
LAYER_CASES = [
    dict(
        name="conv_same_maxpool",
        about="conv2d with `same` padding (a zero border of 1), ReLU, 2x2 max pool, dense; SGD",
        image=(4, 4, 1), inputs=rand((4, 16), 1, 1.0), targets=[[1.0], [0.0], [0.5], [-0.5]],
        net=[dict(kind="conv2d", filters=2, kernel=3, padding="same", act="relu", w=rand((3, 3, 1, 2), 2), b=[0.1, -0.1]),
             dict(kind="maxpool"),
             dict(kind="dense", units=1, w=rand((8, 1), 3), b=[0.0])],
        loss="mse", optimizer=("sgd", dict(lr=0.1)), epochs=4, batch=None),
    dict(
        name="conv_stride_valid_avgpool",
        about="conv2d with stride 2 and `valid` padding over two channels, tanh, 2x2 average pool; softmax CE, momentum",
        image=(5, 5, 2), inputs=rand((6, 50), 4, 1.0),
        targets=[[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 0, 0], [0, 1, 0], [0, 0, 1]],
        net=[dict(kind="conv2d", filters=3, kernel=2, stride=2, act="tanh", w=rand((2, 2, 2, 3), 5), b=[0.0, 0.1, -0.1]),
             dict(kind="avgpool"),
             dict(kind="dense", units=3, w=rand((3, 3), 6), b=[0.0, 0.0, 0.0])],
        loss="softmax_ce", optimizer=("sgd", dict(lr=0.2, momentum=0.9)), epochs=5, batch=3),
    dict(
        name="conv_same_stride2_adam",
        about="conv2d with stride 2 and `same` padding on an even size: the border is 0 before and 1 after; Adam",
        image=(4, 4, 1), inputs=rand((4, 16), 7, 1.0), targets=[[0.3], [-0.2], [0.8], [0.1]],
        net=[dict(kind="conv2d", filters=2, kernel=3, stride=2, padding="same", act="relu", w=rand((3, 3, 1, 2), 8),
                  b=[0.05, 0.05]),
             dict(kind="dense", units=1, w=rand((8, 1), 9), b=[0.0])],
        loss="mse", optimizer=("adam", dict(lr=0.02)), epochs=5, batch=None),
    dict(
        name="batchnorm_dense",
        about="batch norm after a dense layer: batch statistics in training, running ones (momentum 0.2) at evaluation",
        inputs=rand((6, 3), 10, 2.0), targets=[[1.0], [0.0], [0.5], [-0.5], [0.2], [0.9]],
        net=[dict(kind="dense", units=4, w=rand((3, 4), 11), b=[0.0, 0.1, 0.2, 0.3]),
             dict(kind="batchnorm", momentum=0.2, act="relu"),
             dict(kind="dense", units=1, w=rand((4, 1), 12), b=[0.0])],
        loss="mse", optimizer=("sgd", dict(lr=0.1, momentum=0.9)), epochs=4, batch=3),
    dict(
        name="batchnorm_conv",
        about="batch norm of convolution channels (statistics over rows and positions), then a max pool",
        image=(4, 4, 1), inputs=rand((4, 16), 13, 1.0), targets=[[1.0], [0.0], [0.5], [-0.5]],
        net=[dict(kind="conv2d", filters=2, kernel=3, padding="same", w=rand((3, 3, 1, 2), 14), b=[0.0, 0.0]),
             dict(kind="batchnorm", epsilon=0.001),
             dict(kind="maxpool"),
             dict(kind="dense", units=1, w=rand((8, 1), 15), b=[0.0])],
        loss="mse", optimizer=("sgd", dict(lr=0.05)), epochs=4, batch=None),
    dict(
        name="embedding_city",
        about="an embedding of a categorical CSV column (its one-hot block times a table) beside a numeric one",
        csv=("embedding_city.csv", ["size", "city", "price"],
             [[0.5, "north", 1.0], [1.0, "south", 0.2], [0.2, "north", 0.9], [0.8, "east", -0.3],
              [0.3, "south", 0.1], [0.9, "east", -0.5]]),
        net=[dict(kind="embedding", size=2, column="city", table=rand((4, 2), 16)),
             dict(kind="dense", units=3, act="tanh", w=rand((3, 3), 17), b=[0.0, 0.0, 0.0]),
             dict(kind="dense", units=1, w=rand((3, 1), 18), b=[0.0])],
        loss="mse", optimizer=("sgd", dict(lr=0.1)), epochs=5, batch=2),
    dict(
        name="dropout_seeded",
        about="dropout 0.5 in training (nnc's counter-based random numbers, replayed here), identity at evaluation",
        inputs=rand((5, 3), 24, 1.0), targets=[[1.0], [0.0], [0.5], [-0.5], [0.2]],
        net=[dict(kind="dense", units=6, act="relu", w=rand((3, 6), 25), b=[0.1] * 6),
             dict(kind="dropout", rate=0.5),
             dict(kind="dense", units=1, w=rand((6, 1), 26), b=[0.0])],
        loss="mse", optimizer=("sgd", dict(lr=0.1)), epochs=4, batch=2, seed=7),
    dict(
        name="residual_add_concat",
        about="a residual add (ReLU after the sum) and a two-tower concat reading the input",
        inputs=rand((5, 2), 19, 1.0), targets=[[1.0], [0.0], [0.5], [-0.5], [0.2]],
        net=[dict(kind="dense", units=2, act="relu", w=rand((2, 2), 20), b=[0.1, 0.1]),
             dict(kind="dense", units=2, w=rand((2, 2), 21), b=[0.0, 0.0]),
             dict(kind="add", other="dense1", act="relu"),
             dict(kind="dense", units=3, act="tanh", source="input", w=rand((2, 3), 22), b=[0.0, 0.0, 0.0]),
             dict(kind="concat", other="add3"),
             dict(kind="dense", units=1, w=rand((5, 1), 23), b=[0.0])],
        loss="mse", optimizer=("sgd", dict(lr=0.1)), epochs=5, batch=None),
]


# Metric losses learn from class labels in a CSV column (one-hot, so S = Y Yᵀ says which
# rows match). Each case's classes hold two or more rows per batch, so no row's hardest
# positive is a tie. One class is named `none`, a value that looks like a missing marker.
METRIC_CASES = [
    dict(
        name="triplet_l2",
        about="batch-hard triplet loss (margin 0.5) on an L2-normalised embedding, full batch, SGD",
        features=rand((8, 3), 30, 1.0), labels=["a", "a", "a", "b", "b", "b", "none", "none"],
        net=[dict(kind="dense", units=4, act="tanh", w=rand((3, 4), 31), b=[0.0, 0.1, -0.1, 0.0]),
             dict(kind="dense", units=3, normalize="l2", w=rand((4, 3), 32), b=[0.0, 0.0, 0.0])],
        loss=("triplet", 0.5), optimizer=("sgd", dict(lr=0.2)), epochs=5, batch=None),
    dict(
        name="contrastive_batches",
        about="contrastive loss (margin 1) over every pair, two batches of 4 in file order, momentum",
        features=rand((8, 3), 33, 1.0), labels=["x", "none", "x", "none", "z", "z", "x", "none"],
        net=[dict(kind="dense", units=4, act="relu", w=rand((3, 4), 34), b=[0.1, 0.1, 0.1, 0.1]),
             dict(kind="dense", units=2, w=rand((4, 2), 35), b=[0.0, 0.0])],
        # Not Adam: the loss ignores a shift of every embedding, so the last bias's gradient
        # is zero but for rounding, which Adam's m/sqrt(v) would scale up to a full step.
        loss=("contrastive", 1.0), optimizer=("sgd", dict(lr=0.1, momentum=0.9)), epochs=5, batch=4),
]


def metric_program(case):
    """A metric case as an nnc program and its CSV file."""
    file = case["name"] + ".csv"
    width = len(case["features"][0])
    header = [f"x{i}" for i in range(width)] + ["label"]
    with open(os.path.join(HERE, file), "w") as f:
        f.write(",".join(header) + "\n")
        for x, label in zip(case["features"], case["labels"]):
            f.write(",".join(repr(v) for v in x) + f",{label}\n")
    kind, args = case["optimizer"]
    optimizer = f"{kind}(" + ", ".join(f"{k} = {v!r}" for k, v in args.items()) + ")"
    loss, margin = case["loss"]
    settings = [f"loss {loss}(margin = {margin!r})", f"optimizer {optimizer}", f"epochs {case['epochs']}"]
    if case["batch"]:
        settings += [f"batch {case['batch']}", "shuffle false"]
    return (f"//! oracle: {case['about']} (written by tests/oracle/oracle.py)\n"
            f"data d {{\n  file \"{file}\"\n  features x0..x{width - 1}\n  target label\n  categorical label\n}}\n\n"
            "model m {\n  input " + str(width) + "\n" + "\n".join(layer_line(l) for l in case["net"]) + "\n}\n\n"
            "train m on d {\n" + "\n".join("  " + s for s in settings) + "\n}\n")


def squared_distances(e):
    """D_ij = max(0, |e_i|² + |e_j|² - 2 e_i·e_j), as nnc expands it."""
    lengths = (e * e).sum(dim=1)
    return torch.clamp(lengths[:, None] + lengths[None, :] - 2 * e @ e.T, min=0.0)


def metric_loss(case, e, y):
    kind, margin = case["loss"]
    margin = float(f32(margin))
    d, same = squared_distances(e), y @ y.T
    if kind == "triplet":
        hardest_positive = (d * same).max(dim=1).values
        hardest_negative = torch.where(same > 0, torch.full_like(d, float("inf")), d).min(dim=1).values
        return torch.clamp(hardest_positive - hardest_negative + margin, min=0.0).mean()
    short = torch.clamp(margin - torch.sqrt(d + 1e-9), min=0.0)
    return 0.5 * (same * d + (1 - same) * short * short).mean()


def metric_trajectory(case):
    classes = sorted(set(case["labels"]))
    x = torch.tensor(f32(case["features"]))
    y = torch.tensor([[1.0 if label == c else 0.0 for c in classes] for label in case["labels"]])
    params = {}
    for index, layer in enumerate(case["net"]):
        params[f"dense{index + 1}.w"] = torch.tensor(f32(layer["w"]), requires_grad=True)
        params[f"dense{index + 1}.b"] = torch.tensor(f32(layer["b"]), requires_grad=True)

    def embed(xb):
        h = xb
        for index, layer in enumerate(case["net"]):
            h = h @ params[f"dense{index + 1}.w"] + params[f"dense{index + 1}.b"]
            h = {None: lambda t: t, "relu": torch.relu, "tanh": torch.tanh}[layer.get("act")](h)
            if layer.get("normalize") == "l2":
                h = h / torch.sqrt((h * h).sum(dim=1, keepdim=True) + 1e-12)
        return h

    optimizer = optimizer_for(case, list(params.values()))
    rows, batch = x.shape[0], case["batch"] or x.shape[0]
    losses = []
    for _ in range(case["epochs"]):
        total = 0.0
        for start in range(0, rows, batch):
            xb, yb = x[start:start + batch], y[start:start + batch]
            optimizer.zero_grad()
            loss = metric_loss(case, embed(xb), yb)
            loss.backward()
            optimizer.step()
            total += loss.item() * xb.shape[0]
        losses.append(total / rows)
    with torch.no_grad():
        eval_loss = metric_loss(case, embed(x), y).item()
    named = {k: v.detach().numpy().tolist() for k, v in params.items()}
    return {"epoch_losses": losses, "eval_loss": eval_loss, "parameters": named}


def literal(values):
    if isinstance(values, list):
        return "[" + ", ".join(literal(v) for v in values) + "]"
    return repr(values)


def layer_line(layer):
    options = []
    for key in ("kernel", "stride", "padding", "momentum", "epsilon", "column", "normalize"):
        if key in layer:
            options.append(f"{key} = {layer[key]}")
    if "source" in layer:
        options.append(f"from = {layer['source']}")
    for key, name in (("w", "weights"), ("table", "weights"), ("b", "bias")):
        if key in layer:
            options.append(f"{name} = {literal(layer[key])}")
    size = layer.get("units") or layer.get("filters") or layer.get("size") or layer.get("rate") or layer.get("other")
    words = [layer["kind"]] + ([str(size)] if size is not None else []) + ([layer["act"]] if "act" in layer else [])
    return "  " + " ".join(words) + (f" ({', '.join(options)})" if options else "")


def layer_program(case):
    """A layer case as an nnc program (and its CSV file, for a categorical column)."""
    if "csv" in case:
        file, header, rows = case["csv"]
        with open(os.path.join(HERE, file), "w") as f:
            f.write(",".join(header) + "\n" + "".join(",".join(str(v) for v in row) + "\n" for row in rows))
        data = f'data d {{\n  file "{file}"\n  features {" ".join(header[:-1])}\n  target {header[-1]}\n}}\n'
        width = 1 + len({row[1] for row in rows}) + 1
        inputs = str(width)
    else:
        width_in, width_out = len(case["inputs"][0]), len(case["targets"][0])
        xs = " ".join(f"x{i}" for i in range(width_in))
        ys = " ".join(f"y{i}" for i in range(width_out))
        rows = "\n".join("  " + " ".join(repr(v) for v in x) + " -> " + " ".join(repr(float(v)) for v in y)
                         for x, y in zip(case["inputs"], case["targets"]))
        data = f"data d {{\n  {xs} -> {ys}\n{rows}\n}}\n"
        inputs = "x".join(map(str, case["image"])) if "image" in case else str(width_in)
    kind, args = case["optimizer"]
    optimizer = f"{kind}(" + ", ".join(f"{k} = {v!r}" for k, v in args.items()) + ")"
    settings = [f"loss {case['loss']}", f"optimizer {optimizer}", f"epochs {case['epochs']}"]
    if case["batch"]:
        settings += [f"batch {case['batch']}", "shuffle false"]
    if "seed" in case:
        settings.append(f"seed {case['seed']}")
    return (f"//! oracle: {case['about']} (written by tests/oracle/oracle.py)\n{data}\n"
            "model m {\n  input " + inputs + "\n" + "\n".join(layer_line(l) for l in case["net"]) + "\n}\n\n"
            "train m on d {\n" + "\n".join("  " + s for s in settings) + "\n}\n")


def layer_data(case):
    """(x, y) as nnc's model sees them: a categorical column one-hot over its sorted
    categories, then one column for categories never seen in training."""
    if "csv" not in case:
        return torch.tensor(f32(case["inputs"])), torch.tensor(f32(case["targets"]))
    _, _, rows = case["csv"]
    categories = sorted({row[1] for row in rows})
    x = [[row[0]] + [1.0 if row[1] == c else 0.0 for c in categories] + [0.0] for row in rows]
    return torch.tensor(f32(x)), torch.tensor(f32([[row[2]] for row in rows]))


M32, M64 = 0xFFFF_FFFF, 0xFFFF_FFFF_FFFF_FFFF


def step_seed(seed, step):
    """The 23-bit seed of training step `step` (1-based over the run): SplitMix64's
    finaliser, as nnc-runtime's `step_seed`."""
    z = (seed + step * 0x9E37_79B9_7F4A_7C15) & M64
    z = ((z ^ (z >> 30)) * 0xBF58_476D_1CE4_E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D0_49BB_1331_11EB) & M64
    z ^= z >> 31
    return z & 0x7F_FFFF


def random_uniform(seed, index, salt):
    """nnc-ir's `random_uniform`: Murmur3's finaliser over index, seed and salt, to [0, 1)."""
    h = ((index * 0x9E37_79B1) ^ (seed * 0x85EB_CA77) ^ (salt * 0xC2B2_AE3D)) & M32
    h ^= h >> 16
    h = (h * 0x7FEB_352D) & M32
    h ^= h >> 15
    h = (h * 0x846C_A68B) & M32
    h ^= h >> 16
    return (h >> 8) / 16_777_216.0


def same_padding(size, kernel, stride):
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


class LayerNet:
    """The case's network in PyTorch, its parameters named as nnc names them."""

    def __init__(self, case):
        self.case, self.params, self.buffers = case, {}, {}
        for index, layer in enumerate(case["net"]):
            name = f"{layer['kind']}{index + 1}"
            if "w" in layer:
                self.params[name + ".w"] = torch.tensor(f32(layer["w"]), requires_grad=True)
                self.params[name + ".b"] = torch.tensor(f32(layer["b"]), requires_grad=True)
            if "table" in layer:
                self.params[name + ".table"] = torch.tensor(f32(layer["table"]), requires_grad=True)
            if layer["kind"] == "batchnorm":
                self.params[name + ".gamma"] = None  # sized on first use
                self.params[name + ".beta"] = None
        self.training = True
        self.step = 0  # the training step being taken, counted from 1

    def activation(self, name, z):
        f = torch.nn.functional
        return {None: lambda t: t, "relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid,
                "leaky_relu": lambda t: f.leaky_relu(t, 0.01)}[name](z)

    def forward(self, x):
        f, case = torch.nn.functional, self.case
        if "image" in case:
            h, w, c = case["image"]
            x = x.reshape(-1, h, w, c).permute(0, 3, 1, 2)  # NCHW from nnc's channels-last rows
        outputs, h = {"input": x}, x
        for index, layer in enumerate(case["net"]):
            name, kind = f"{layer['kind']}{index + 1}", layer["kind"]
            src = outputs[layer["source"]] if "source" in layer else h
            if kind == "conv2d":
                k, s = layer["kernel"], layer.get("stride", 1)
                if layer.get("padding") == "same":
                    top, bottom = same_padding(src.shape[2], k, s)
                    left, right = same_padding(src.shape[3], k, s)
                    src = f.pad(src, (left, right, top, bottom))
                weight = self.params[name + ".w"].permute(3, 2, 0, 1)  # HWIO -> OIHW
                z = f.conv2d(src, weight, self.params[name + ".b"], stride=s)
            elif kind in ("maxpool", "avgpool"):
                z = (f.max_pool2d if kind == "maxpool" else f.avg_pool2d)(src, 2)
            elif kind == "dense":
                if src.dim() == 4:  # flatten channels last, as nnc does
                    src = src.permute(0, 2, 3, 1).reshape(src.shape[0], -1)
                z = src @ self.params[name + ".w"] + self.params[name + ".b"]
            elif kind == "batchnorm":
                channels = src.shape[1]
                if self.params[name + ".gamma"] is None:
                    self.params[name + ".gamma"] = torch.ones(channels, requires_grad=True)
                    self.params[name + ".beta"] = torch.zeros(channels, requires_grad=True)
                    self.buffers[name + ".mean"] = torch.zeros(channels)
                    self.buffers[name + ".var"] = torch.ones(channels)
                z = f.batch_norm(src, self.buffers[name + ".mean"], self.buffers[name + ".var"],
                                 self.params[name + ".gamma"], self.params[name + ".beta"], training=self.training,
                                 momentum=float(f32(layer.get("momentum", 0.1))),
                                 eps=float(f32(layer.get("epsilon", 1e-5))))
            elif kind == "embedding":
                table = self.params[name + ".table"]
                categories = table.shape[0]
                z = torch.cat([src[:, :1], src[:, 1:1 + categories] @ table, src[:, 1 + categories:]], dim=1)
            elif kind == "dropout":
                z = src
                rate = layer["rate"]
                if self.training:
                    seed, salt = step_seed(self.case.get("seed", 0), self.step), index + 1
                    uniform = [random_uniform(seed, i, salt) for i in range(src.numel())]
                    keep = torch.tensor([1.0 if u > rate else 0.0 for u in uniform]).reshape(src.shape)
                    z = src * keep * float(f32(1 / (1 - f32(rate))))
            elif kind in ("add", "concat"):
                other = outputs[layer["other"]]
                z = src + other if kind == "add" else torch.cat([src, other], dim=1)
            h = self.activation(layer.get("act"), z)
            outputs[name] = h
        return h

    def named(self):
        out = {k: v.detach().numpy().tolist() for k, v in self.params.items()}
        out.update({k: v.numpy().tolist() for k, v in self.buffers.items()})
        return out


def layer_trajectory(case):
    x, y = layer_data(case)
    net = LayerNet(case)
    with torch.no_grad():
        net.forward(x)  # sizes the batch-norm parameters; the running statistics start again
    for key in net.buffers:
        net.buffers[key] = torch.zeros_like(net.buffers[key]) if key.endswith(".mean") else torch.ones_like(
            net.buffers[key])
    for key, value in net.params.items():
        net.params[key] = value.detach().clone().requires_grad_(True)
    params = list(net.params.values())
    optimizer = optimizer_for(case, params)
    rows, batch = x.shape[0], case["batch"] or x.shape[0]
    losses = []
    for _ in range(case["epochs"]):
        total = 0.0
        for start in range(0, rows, batch):
            xb, yb = x[start:start + batch], y[start:start + batch]
            optimizer.zero_grad()
            net.step += 1
            loss = loss_of(case, net.forward(xb), yb)
            loss.backward()
            optimizer.step()
            total += loss.item() * xb.shape[0]
        losses.append(total / rows)
    net.training = False
    with torch.no_grad():
        eval_loss = loss_of(case, net.forward(x), y).item()
    return {"epoch_losses": losses, "eval_loss": eval_loss, "parameters": net.named()}


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


def write_case(case, text, result):
    """Writes NAME.nn and NAME.json of one case."""
    with open(os.path.join(HERE, case["name"] + ".nn"), "w") as f:
        f.write(text)
    result["about"] = case["about"]
    result["torch"] = torch.__version__
    with open(os.path.join(HERE, case["name"] + ".json"), "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")
    evaluation = f", evaluation {result['eval_loss']:.6g}" if "eval_loss" in result else ""
    print(f"{case['name']}: final loss {result['epoch_losses'][-1]:.6g}{evaluation}")


def main():
    for case in METRIC_CASES:
        write_case(case, metric_program(case), metric_trajectory(case))
    for case in LAYER_CASES:
        write_case(case, layer_program(case), layer_trajectory(case))
    for case in CASES:
        write_case(case, program(case), trajectory(case))


if __name__ == "__main__":
    main()
