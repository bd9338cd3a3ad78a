"""Trains one benchmark workload in one framework and prints one JSON line:
{"us_per_step": steady-state microseconds per training step, "compile_s": ..., "loss": ...}.

usage: peers.py FRAMEWORK WORKLOAD DATA_DIR      (FRAMEWORK: numpy, jax-jit, jax-scan, torch)
       peers.py FRAMEWORK --width W DATA_DIR     (784-W-W-10 on the W3 data, batch 128)
       peers.py sgemm [numpy|jax|torch]          (a float32 GEMM's rate, GFLOP/s; numpy's by default)

Every framework trains the same network sizes on the same rows with the same batches:
epoch 0 runs untimed (it compiles every batch shape), the rest are timed. JAX's scan mode
compiles the whole run ahead of time and times the one call that runs it.
"""
import json
import math
import sys
import time

import numpy as np

import workloads as wl


def mlp_numpy(sizes, loss, lr):
    last = len(sizes) - 2

    def step(params, x, y):
        acts, h = [x], x
        for i, (W, b) in enumerate(params):
            h = h @ W + b
            if i < last:
                h = np.maximum(h, 0)
            acts.append(h)
        if loss == "mse":
            diff = h - y
            value, grad = float(np.mean(diff * diff)), 2 * diff / diff.size
        else:
            z = h - h.max(axis=1, keepdims=True)
            p = np.exp(z)
            p /= p.sum(axis=1, keepdims=True)
            rows = np.arange(len(y))
            value = float(-np.log(p[rows, y]).mean())
            grad = p
            grad[rows, y] -= 1
            grad /= len(y)
        for i in range(last, -1, -1):
            W, b = params[i]
            gW, gb = acts[i].T @ grad, grad.sum(axis=0)
            if i > 0:
                grad = (grad @ W.T) * (acts[i] > 0)
            W -= lr * gW
            b -= lr * gb
        return value

    return step


def run_numpy(w, X, Y, orders):
    params = wl.init_params(w["sizes"])
    step = mlp_numpy(w["sizes"], w["loss"], lr=w["lr"])
    full = w["batch"] >= len(X)
    value = 0.0

    def epoch(order):
        nonlocal value
        for s in range(0, len(order), w["batch"]):
            idx = order[s:s + w["batch"]]
            value = step(params, X, Y) if full else step(params, X[idx], Y[idx])

    return timed_epochs(epoch, orders, lambda: None) | {"loss": value}


def timed_epochs(epoch, orders, sync):
    """Runs epoch 0 untimed, then times the others; microseconds per step."""
    epoch(orders[0])
    sync()
    start = time.perf_counter()
    for order in orders[1:]:
        epoch(order)
    sync()
    return {"seconds": time.perf_counter() - start}


def jax_step(w):
    import jax
    import jax.numpy as jnp

    last = len(w["sizes"]) - 2

    def loss_fn(params, x, y):
        h = x
        for i, (W, b) in enumerate(params):
            h = h @ W + b
            if i < last:
                h = jax.nn.relu(h)
        if w["loss"] == "mse":
            return jnp.mean((h - y) ** 2)
        logp = jax.nn.log_softmax(h)
        return -jnp.mean(jnp.take_along_axis(logp, y[:, None], axis=1))

    def sgd(params, x, y):
        value, grads = jax.value_and_grad(loss_fn)(params, x, y)
        return jax.tree_util.tree_map(lambda p, g: p - w["lr"] * g, params, grads), value

    return sgd


def run_jax_jit(w, X, Y, orders):
    import jax
    import jax.numpy as jnp

    sgd = jax_step(w)
    state = {"params": [(jnp.asarray(W), jnp.asarray(b)) for W, b in wl.init_params(w["sizes"])], "loss": None}
    X, Y = jnp.asarray(X), jnp.asarray(Y)
    full = w["batch"] >= X.shape[0]
    whole = jax.jit(sgd, donate_argnums=0)
    # The batch gather happens inside the compiled step, as nnc fuses it into its loads.
    gathered = jax.jit(lambda p, xs, ys, idx: sgd(p, xs[idx], ys[idx]), donate_argnums=0)
    batches = [jnp.asarray(o[s:s + w["batch"]]) for o in orders for s in range(0, len(o), w["batch"])]
    per_epoch = len(batches) // len(orders)

    def epoch(order_index):
        for idx in batches[order_index * per_epoch:(order_index + 1) * per_epoch]:
            if full:
                state["params"], state["loss"] = whole(state["params"], X, Y)
            else:
                state["params"], state["loss"] = gathered(state["params"], X, Y, idx)

    result = timed_epochs(epoch, list(range(len(orders))), lambda: jax.block_until_ready(state["params"]))
    return result | {"loss": float(state["loss"])}


def run_jax_scan(w, X, Y, orders):
    import jax
    import jax.numpy as jnp
    from jax import lax

    sgd = jax_step(w)
    params = [(jnp.asarray(W), jnp.asarray(b)) for W, b in wl.init_params(w["sizes"])]
    rows, batch = X.shape[0], w["batch"]
    whole_batches, tail = rows // batch, rows % batch
    timed = jnp.asarray(orders[1:])

    def train(p, xs, ys, perms):
        if batch >= rows:
            return lax.scan(lambda c, _: sgd(c, xs, ys), p, None, length=perms.shape[0])

        def epoch(c, perm):
            idx = perm[:whole_batches * batch].reshape(whole_batches, batch)
            c, losses = lax.scan(lambda cc, i: sgd(cc, xs[i], ys[i]), c, idx)
            if tail:
                c, _ = sgd(c, xs[perm[whole_batches * batch:]], ys[perm[whole_batches * batch:]])
            return c, losses[-1]
        return lax.scan(epoch, p, perms)

    args = (params, jnp.asarray(X), jnp.asarray(Y), timed)
    start = time.perf_counter()
    compiled = jax.jit(train).lower(*args).compile()
    compile_s = time.perf_counter() - start
    start = time.perf_counter()
    _, losses = jax.block_until_ready(compiled(*args))
    return {"seconds": time.perf_counter() - start, "compile_s": compile_s, "loss": float(losses[-1])}


def torch_sgd(params, lr):
    """One plain SGD step on (weight, bias) pairs, gradients cleared."""
    import torch

    with torch.no_grad():
        for W, b in params:
            W -= lr * W.grad
            b -= lr * b.grad
            W.grad = b.grad = None


def run_torch(w, X, Y, orders):
    import torch

    params = [(torch.tensor(W, requires_grad=True), torch.tensor(b, requires_grad=True))
              for W, b in wl.init_params(w["sizes"])]
    X = torch.from_numpy(X)
    Y = torch.from_numpy(Y.astype(np.int64) if w["loss"] == "ce" else Y)
    last, full = len(params) - 1, w["batch"] >= X.shape[0]
    value = torch.zeros(())

    def step(x, y):
        nonlocal value
        h = x
        for i, (W, b) in enumerate(params):
            h = torch.addmm(b, h, W)
            if i < last:
                h = torch.relu(h)
        loss = torch.nn.functional.mse_loss(h, y) if w["loss"] == "mse" else torch.nn.functional.cross_entropy(h, y)
        loss.backward()
        torch_sgd(params, w["lr"])
        value = loss.detach()

    def epoch(order):
        for s in range(0, len(order), w["batch"]):
            if full:
                step(X, Y)
            else:
                idx = torch.from_numpy(order[s:s + w["batch"]].astype(np.int64))
                step(X[idx], Y[idx])

    return timed_epochs(epoch, orders, lambda: None) | {"loss": float(value)}


def cnn_init(w, seed=0):
    """PyTorch's default ranges, U(-1/sqrt(fan_in), 1/sqrt(fan_in)), kernels as HWIO."""
    rng = np.random.default_rng(seed)
    (h, wd, c), params = w["image"], []
    for f in w["filters"]:
        bound = 1 / math.sqrt(9 * c)
        params.append((rng.uniform(-bound, bound, (3, 3, c, f)).astype(np.float32),
                       rng.uniform(-bound, bound, f).astype(np.float32)))
        c, h, wd = f, h // 2, wd // 2
    bound = 1 / math.sqrt(h * wd * c)
    params.append((rng.uniform(-bound, bound, (h * wd * c, w["sizes"][-1])).astype(np.float32),
                   rng.uniform(-bound, bound, w["sizes"][-1]).astype(np.float32)))
    return params


def run_cnn_jax_jit(w, X, Y, orders):
    import jax
    import jax.numpy as jnp
    from jax import lax

    shape = (-1, *w["image"])

    def loss_fn(params, x, y):
        h = x.reshape(shape)
        for W, b in params[:-1]:
            h = lax.conv_general_dilated(h, W, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC"))
            h = jax.nn.relu(h + b)
            h = lax.reduce_window(h, -jnp.inf, lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "VALID")
        W, b = params[-1]
        logp = jax.nn.log_softmax(h.reshape(h.shape[0], -1) @ W + b)
        return -jnp.mean(jnp.take_along_axis(logp, y[:, None], axis=1))

    def sgd(params, xs, ys, idx):
        value, grads = jax.value_and_grad(loss_fn)(params, xs[idx], ys[idx])
        return jax.tree_util.tree_map(lambda p, g: p - w["lr"] * g, params, grads), value

    step = jax.jit(sgd, donate_argnums=0)
    state = {"params": [(jnp.asarray(W), jnp.asarray(b)) for W, b in cnn_init(w)], "loss": None}
    X, Y = jnp.asarray(X), jnp.asarray(Y)
    batches = [jnp.asarray(o[s:s + w["batch"]]) for o in orders for s in range(0, len(o), w["batch"])]
    per_epoch = len(batches) // len(orders)

    def epoch(order_index):
        for idx in batches[order_index * per_epoch:(order_index + 1) * per_epoch]:
            state["params"], state["loss"] = step(state["params"], X, Y, idx)

    result = timed_epochs(epoch, list(range(len(orders))), lambda: jax.block_until_ready(state["params"]))
    return result | {"loss": float(state["loss"])}


def run_cnn_torch(w, X, Y, orders):
    import torch
    import torch.nn.functional as F

    params = [(torch.tensor(W.transpose(3, 2, 0, 1).copy() if W.ndim == 4 else W, requires_grad=True),
               torch.tensor(b, requires_grad=True)) for W, b in cnn_init(w)]
    h0, w0, c0 = w["image"]
    X = torch.from_numpy(X).reshape(-1, h0, w0, c0).permute(0, 3, 1, 2).contiguous()
    Y = torch.from_numpy(Y.astype(np.int64))
    value = torch.zeros(())

    def step(x, y):
        nonlocal value
        h = x
        for W, b in params[:-1]:
            h = F.max_pool2d(F.relu(F.conv2d(h, W, b, padding=1)), 2)
        W, b = params[-1]
        # nnc and JAX flatten channels last: NHWC order for the dense layer.
        loss = F.cross_entropy(torch.addmm(b, h.permute(0, 2, 3, 1).reshape(h.shape[0], -1), W), y)
        loss.backward()
        torch_sgd(params, w["lr"])
        value = loss.detach()

    def epoch(order):
        for s in range(0, len(order), w["batch"]):
            idx = torch.from_numpy(order[s:s + w["batch"]].astype(np.int64))
            step(X[idx], Y[idx])

    return timed_epochs(epoch, orders, lambda: None) | {"loss": float(value)}


def unavailable(*_):
    """A framework this workload is not written for: reported as missing."""
    raise ModuleNotFoundError("not written for this workload")


CNN_RUNNERS = {"numpy": unavailable, "jax-jit": run_cnn_jax_jit, "jax-scan": unavailable, "torch": run_cnn_torch}
RUNNERS = {"numpy": run_numpy, "jax-jit": run_jax_jit, "jax-scan": run_jax_scan, "torch": run_torch}


def sgemm_rate(framework="numpy", n=2048, repeats=7):
    """GFLOP/s of one n×n×n float32 product in `framework` (best of `repeats`)."""
    a = np.random.default_rng(0).standard_normal((n, n)).astype(np.float32)
    b = a.T.copy()
    if framework == "jax":
        import jax
        product = jax.jit(lambda x, y: x @ y)
        a, b = jax.numpy.asarray(a), jax.numpy.asarray(b)
        run = lambda: product(a, b).block_until_ready()  # noqa: E731
    elif framework == "torch":
        import torch
        a, b = torch.from_numpy(a), torch.from_numpy(b)
        run = lambda: a @ b  # noqa: E731
    else:
        run = lambda: a @ b  # noqa: E731
    run()
    best = min(timeit(run) for _ in range(repeats))
    return 2 * n ** 3 / best / 1e9


def timeit(f):
    start = time.perf_counter()
    f()
    return time.perf_counter() - start


def main(argv):
    if argv[0] == "sgemm":
        try:
            print(json.dumps({"gflops": sgemm_rate(*argv[1:2])}))
        except ModuleNotFoundError as missing:
            sys.exit(f"ModuleNotFoundError: {missing}")
        return
    framework, data_dir = argv[0], argv[-1]
    if argv[1] == "--width":
        width = int(argv[2])
        w = dict(sizes=[784, width, width, 10], loss="ce", lr=0.01, batch=128, rows=2560,
                 epochs=int(argv[3]) if len(argv) > 4 else 2)
        X, Y = wl.load("w3_wide", data_dir)
    else:
        w = wl.WORKLOADS[argv[1]]
        X, Y = wl.load(argv[1], data_dir)
    orders = wl.epoch_orders(len(X), w["batch"], w["epochs"])
    runners = CNN_RUNNERS if "image" in w else RUNNERS
    try:
        result = runners[framework](w, X, Y, orders)
    except ModuleNotFoundError as missing:
        sys.exit(f"ModuleNotFoundError: {missing}")
    timed_steps = wl.steps(w) - wl.steps(dict(w, epochs=1))
    result["us_per_step"] = result.pop("seconds") / timed_steps * 1e6
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
