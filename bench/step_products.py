"""The matrix products of one training step of W3 or W5, timed alone in numpy (OpenBLAS,
both cores), each with its operands laid out as nnc's step has them: what any system
that computes the step as these products needs at least, to hold against the targets
that compare a whole step with JAX jit, and a rate for these shapes to set beside
numpy's 2048 x 2048 sgemm (docs/performance.md, "Why 0.1 x JAX jit is out of reach" for
W5 and "W3 against OpenBLAS on its own products").

    $NNC_BENCH_PYTHON bench/step_products.py [w3|w5] [--json]    (the peers' Python, with numpy)

`--json` prints only {"us": the products' total, "flops": their work, "sgemm": the 2048³
rate, "products": how many} (`bench/compare.py` reads it).
"""
import json
import sys
import time

import numpy as np

# name: (m, n, k, layout) for C[m, n] = A·B with a reduction of k; the layout says which
# operand is a transposed view of a row-major matrix ("tn": A, a weight gradient Xᵀ·δ;
# "nt": B, an input gradient δ·Wᵀ; "nn": neither).
STEPS = {
    # 784-512-512-10, batch 128: three forward products, the three weight gradients and
    # the two input gradients nnc computes (not the first layer's: its input is data).
    "w3": {
        "dense1 forward 128x512x784": (128, 512, 784, "nn"),
        "dense2 forward 128x512x512": (128, 512, 512, "nn"),
        "dense3 forward 128x10x512": (128, 10, 512, "nn"),
        "dense3 dX 128x512x10": (128, 512, 10, "nt"),
        "dense3 dW 512x10x128": (512, 10, 128, "tn"),
        "dense2 dX 128x512x512": (128, 512, 512, "nt"),
        "dense2 dW 512x512x128": (512, 512, 128, "tn"),
        "dense1 dW 784x512x128": (784, 512, 128, "tn"),
    },
    # The two convolutions as im2col products, their weight and input gradients, the
    # dense layer's three (timed row-major, as first measured).
    "w5": {
        "conv1 forward 2048x16x9": (2048, 16, 9, "nn"),
        "conv1 dW 9x16x2048": (9, 16, 2048, "nn"),
        "conv2 forward 512x32x144": (512, 32, 144, "nn"),
        "conv2 dX 512x144x32": (512, 144, 32, "nn"),
        "conv2 dW 144x32x512": (144, 32, 512, "nn"),
        "dense forward 32x10x128": (32, 10, 128, "nn"),
        "dense dX 32x128x10": (32, 128, 10, "nn"),
        "dense dW 128x10x32": (128, 10, 32, "nn"),
    },
}


def best_us(a, b, c, reps, rounds=7):
    """The fastest of `rounds` timings of `reps` products into `c`, µs per product."""
    for _ in range(reps // 10):
        np.matmul(a, b, out=c)
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(reps):
            np.matmul(a, b, out=c)
        best = min(best, (time.perf_counter() - start) / reps * 1e6)
    return best


def operands(rng, m, n, k, layout):
    """A (m×k) and B (k×n), each a transposed view of a row-major matrix where the layout
    says so, from distinct arrays (numpy computes `X.T @ X` as a symmetric product)."""
    a = rng.random((k, m), dtype=np.float32).T if layout == "tn" else rng.random((m, k), dtype=np.float32)
    b = rng.random((n, k), dtype=np.float32).T if layout == "nt" else rng.random((k, n), dtype=np.float32)
    return a, b


def main():
    args = [a for a in sys.argv[1:] if a != "--json"]
    quiet = "--json" in sys.argv[1:]
    step = args[0] if args else "w5"
    if step not in STEPS:
        sys.exit(f"usage: step_products.py [{'|'.join(STEPS)}] [--json]")
    say = (lambda *_: None) if quiet else print
    rng = np.random.default_rng(0)
    big = rng.random((2048, 2048), dtype=np.float32)
    peak = 2 * 2048**3 / best_us(big, big, np.empty_like(big), 10, 3) / 1e3
    say(f"sgemm 2048x2048x2048: {peak:.0f} GFLOP/s")
    total, flops = 0.0, 0
    for name, (m, n, k, layout) in STEPS[step].items():
        a, b = operands(rng, m, n, k, layout)
        # About 0.2 s a round whatever the size.
        reps = max(20, min(2000, int(2e8 / (m * n * k))))
        us = best_us(a, b, np.empty((m, n), dtype=np.float32), reps)
        total += us
        flops += 2 * m * n * k
        say(f"{name:28s} {layout}  {us:8.2f} µs  {2 * m * n * k / us / 1e3:6.1f} GFLOP/s")
    if quiet:
        print(json.dumps({"us": total, "flops": flops, "sgemm": peak, "products": len(STEPS[step])}))
        return
    one = np.ones((1, 1), dtype=np.float32)
    call = best_us(one, one, np.empty_like(one), 20000, 3)
    print(f"all {len(STEPS[step])}: {total:.1f} µs, {flops / total / 1e3:.1f} GFLOP/s, "
          f"{flops / total / 1e3 / peak:.2f} of the sgemm rate; a 1x1x1 product takes {call:.2f} µs, "
          f"so the products alone take at least {total - len(STEPS[step]) * call:.1f} µs")


if __name__ == "__main__":
    main()
