"""The eight matrix products of one W5 training step (the two convolutions as im2col
products, their weight and input gradients, the dense layer's three), timed alone in
numpy (OpenBLAS, both cores): a lower bound on a W5 step for any system that computes
the convolutions as products, to hold against the 0.1 x JAX jit target
(docs/performance.md, "Why 0.1 x JAX jit is out of reach").

    $NNC_BENCH_PYTHON bench/w5_products.py    (the peers' Python, with numpy)
"""
import time

import numpy as np

# name: (m, n, k) for C[m, n] = A[m, k] · B[k, n]
SHAPES = {
    "conv1 forward 2048x16x9": (2048, 16, 9),
    "conv1 dW 9x16x2048": (9, 16, 2048),
    "conv2 forward 512x32x144": (512, 32, 144),
    "conv2 dX 512x144x32": (512, 144, 32),
    "conv2 dW 144x32x512": (144, 32, 512),
    "dense forward 32x10x128": (32, 10, 128),
    "dense dX 32x128x10": (32, 128, 10),
    "dense dW 128x10x32": (128, 10, 32),
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


def main():
    rng = np.random.default_rng(0)
    big = rng.random((2048, 2048), dtype=np.float32)
    peak = 2 * 2048**3 / best_us(big, big, np.empty_like(big), 10, 3) / 1e3
    print(f"sgemm 2048x2048x2048: {peak:.0f} GFLOP/s")
    total = 0.0
    for name, (m, n, k) in SHAPES.items():
        a, b = rng.random((m, k), dtype=np.float32), rng.random((k, n), dtype=np.float32)
        us = best_us(a, b, np.empty((m, n), dtype=np.float32), 2000)
        total += us
        print(f"{name:28s} {us:7.2f} µs  {2 * m * n * k / us / 1e3:6.1f} GFLOP/s")
    one = np.ones((1, 1), dtype=np.float32)
    call = best_us(one, one, np.empty_like(one), 20000, 3)
    print(f"all eight: {total:.1f} µs; a 1x1x1 product takes {call:.2f} µs, so the products alone "
          f"take at least {total - len(SHAPES) * call:.1f} µs")


if __name__ == "__main__":
    main()
