"""The benchmark workloads: their nnc programs, their data, and the numbers every
framework needs to train the same network on the same rows (sizes, loss, learning rate,
batch, epochs). The programs in bench/workloads/ are the source of truth; the table
below restates them for the Python peers and is checked against them at start-up.
"""
import math
import os
import re
import shutil

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# name: (network sizes, loss, lr, batch, epochs, data file, rows)
WORKLOADS = {
    "w1_xor8": dict(sizes=[2, 8, 1], loss="mse", lr=0.1, batch=4, epochs=10_000, data=None, rows=4),
    "w2_digits": dict(sizes=[64, 128, 10], loss="ce", lr=0.1, batch=32, epochs=20, data="digits.csv", rows=1797),
    "w3_wide": dict(sizes=[784, 512, 512, 10], loss="ce", lr=0.01, batch=128, epochs=10, data="wide.csv", rows=2560),
    "w4_linreg": dict(sizes=[1, 1], loss="mse", lr=0.5, batch=1000, epochs=1000, data="linreg.csv", rows=1000),
    # Convolutional: `image` (height, width, channels), 3x3 `same` convolutions of
    # `filters` each followed by ReLU and a 2x2 max pool, then dense to `sizes[-1]`.
    "w5_cnn": dict(image=(8, 8, 1), filters=[16, 32], sizes=[64, 10], loss="ce", lr=0.05, batch=32, epochs=20,
                   data="digits.csv", rows=1797),
    "w5_cnn28": dict(image=(28, 28, 1), filters=[16, 32], sizes=[784, 10], loss="ce", lr=0.05, batch=32, epochs=3,
                     data="images28.csv", rows=2048),
}


def steps(w):
    return w["epochs"] * math.ceil(w["rows"] / w["batch"])


def cnn_flops(w):
    """Training-step floating-point operations of a CNN workload, counted as for an MLP:
    each convolution is a product of (pixels x 9·in) by (9·in x out) on the batch."""
    (h, wd, c), batch = w["image"], w["batch"]
    macs, first = [], True
    for f in w["filters"]:
        macs.append((h * wd * 9 * c * f, first))
        first, c, h, wd = False, f, h // 2, wd // 2
    macs.append((h * wd * c * w["sizes"][-1], False))
    return 2 * batch * sum(m * (2 if first else 3) for m, first in macs)


def work_flops(sizes, batch):
    """Floating-point operations a training step must do: 2 per multiply-add forward, 2 for
    each weight gradient, 2 for each input gradient except the first layer's (nobody needs
    the gradient of the data). Elementwise work is not counted."""
    macs = [a * b for a, b in zip(sizes[:-1], sizes[1:])]
    return 2 * batch * (2 * sum(macs) + sum(macs[1:]))


def check_programs():
    """Fails loudly when a program in bench/workloads/ no longer says what WORKLOADS says."""
    for name, w in WORKLOADS.items():
        text = open(os.path.join(HERE, "workloads", name + ".nn")).read()
        if "image" in w:
            image = "x".join(map(str, w["image"]))
            assert f"input {image}" in text, f"{name}.nn does not read {image} images"
        found = dict(
            epochs=int(re.search(r"epochs (\d+)", text).group(1)),
            batch=int(re.search(r"batch (\d+)", text).group(1)),
            lr=float(re.search(r"lr = ([0-9.]+)", text).group(1)),
        )
        for key, value in found.items():
            assert value == w[key], f"{name}.nn says {key} {value}, workloads.py {w[key]}"


def write_data(out):
    """Writes every workload's program and CSV into out/ (data into out/data/)."""
    data = os.path.join(out, "data")
    os.makedirs(data, exist_ok=True)
    for name in WORKLOADS:
        shutil.copy(os.path.join(HERE, "workloads", name + ".nn"), out)
    shutil.copy(os.path.join(ROOT, "examples", "data", "digits.csv"), data)
    wide = os.path.join(data, "wide.csv")
    if not os.path.exists(wide):
        X, y = gaussian_clusters(2560, 784, 10, seed=3)
        header = ",".join([f"f{i}" for i in range(784)] + ["label"])
        rows = np.concatenate([X, y[:, None].astype(np.float32)], axis=1)
        np.savetxt(wide, rows, fmt=["%.4f"] * 784 + ["%d"], delimiter=",", header=header, comments="")
    images = os.path.join(data, "images28.csv")
    if not os.path.exists(images):
        X, y = gaussian_clusters(2048, 784, 10, seed=5)
        X = 1 / (1 + np.exp(-X))  # pixel-like values in (0, 1)
        header = ",".join([f"p{i}" for i in range(784)] + ["label"])
        rows = np.concatenate([X, y[:, None].astype(np.float32)], axis=1)
        np.savetxt(images, rows, fmt=["%.3f"] * 784 + ["%d"], delimiter=",", header=header, comments="")
    linreg = os.path.join(data, "linreg.csv")
    if not os.path.exists(linreg):
        rng = np.random.default_rng(2)
        x = rng.uniform(0.0, 1.0, 1000)
        y = 3.0 * x + 2.0 + 0.01 * rng.standard_normal(1000)
        np.savetxt(linreg, np.stack([x, y], axis=1), fmt="%.6f", delimiter=",", header="x,y", comments="")


def gaussian_clusters(n, features, classes, seed):
    """n rows around `classes` random centres: x = 0.3 centre + N(0, 1)."""
    rng = np.random.default_rng(seed)
    means = rng.standard_normal((classes, features)).astype(np.float32)
    y = rng.integers(0, classes, n)
    X = (0.3 * means[y] + rng.standard_normal((n, features))).astype(np.float32)
    return X, y


def load(name, data_dir):
    """(X float32, Y) as nnc sees them: float targets (rows, 1) for MSE, class indices for
    cross-entropy; digits min-max normalised per column like `normalize minmax`."""
    w = WORKLOADS[name]
    if w["data"] is None:
        X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], np.float32)
        return X, np.array([[0], [1], [1], [0]], np.float32)
    table = np.loadtxt(os.path.join(data_dir, w["data"]), delimiter=",", skiprows=1, dtype=np.float32)
    X, last = table[:, :-1], table[:, -1]
    if name in ("w2_digits", "w5_cnn"):
        lo, span = X.min(axis=0), X.max(axis=0) - X.min(axis=0)
        X = (X - lo) / np.where(span > 0, span, 1)
    if w["loss"] == "ce":
        return np.ascontiguousarray(X), last.astype(np.int32)
    return np.ascontiguousarray(X), last[:, None].copy()


def init_params(sizes, seed=0):
    """PyTorch's nn.Linear distribution, U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
    rng = np.random.default_rng(seed)
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        bound = 1.0 / math.sqrt(fan_in)
        params.append((rng.uniform(-bound, bound, (fan_in, fan_out)).astype(np.float32),
                       rng.uniform(-bound, bound, fan_out).astype(np.float32)))
    return params


def epoch_orders(rows, batch, epochs, seed=1):
    """Each epoch's row order: shuffled for mini-batches, file order for full batches."""
    if batch >= rows:
        return np.tile(np.arange(rows, dtype=np.int32), (epochs, 1))
    rng = np.random.default_rng(seed)
    return np.stack([rng.permutation(rows) for _ in range(epochs)]).astype(np.int32)


def sweep_program(width, epochs):
    """784-width-width-10 on the W3 data, batch 128: the width sweep's nnc program."""
    return f"""// width sweep: 784-{width}-{width}-10, softmax CE, SGD, batch 128
data wide {{
  file "data/wide.csv"
  features all but label
  target label
  categorical label
}}
model net {{ input 784; dense {width} relu; dense {width} relu; dense 10 }}
train net on wide {{ loss softmax_ce; optimizer sgd(lr = 0.01); epochs {epochs}; batch 128; seed 0 }}
"""
