#!/usr/bin/env python3
"""CSV loading: nnc against pandas' read_csv on the same files, interleaved in one run.

usage: NNC_BENCH_PYTHON=<python with numpy and pandas> python3 bench/csv_load.py [--repeat N] [--nnc PATH]

Files (written into target/bench once): W3's data (wide.csv, 2,560 rows x 785 columns,
15 MB) and a generated file of 1,000,000 rows x 10 features and a target (100 MB). nnc's
figure is `timings_ms.load` of `nnc run --json` on a one-epoch program over the file:
reading, typing every column, splitting, fitting and encoding. pandas' is read_csv alone
(float32 columns), in this Python process, run between nnc's runs. Medians of REPEAT.
See docs/performance.md.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
WORK = os.path.join(ROOT, "target", "bench")

MILLION_NN = """data big {
  file "data/million.csv"
  features x0..x9
  target y
  split 0.8 0.1 0.1
}
model net { input 10; dense 32 relu; dense 1 }
train net on big { loss mse; optimizer adam(lr = 0.001); epochs 1; batch 256; seed 0 }
"""


def ensure_python():
    """Re-runs this script under NNC_BENCH_PYTHON when this Python lacks pandas."""
    try:
        import numpy  # noqa: F401
        import pandas  # noqa: F401
        return
    except ImportError:
        pass
    python = os.environ.get("NNC_BENCH_PYTHON")
    if not python:
        sys.exit("csv_load.py needs numpy and pandas: set NNC_BENCH_PYTHON to a Python that has them")
    os.execv(python, [python] + sys.argv)


def write_files():
    """W3's program and data (as compare.py writes them) and the million-row file."""
    import numpy as np
    sys.path.insert(0, HERE)
    import workloads
    workloads.write_data(WORK)
    million = os.path.join(WORK, "data", "million.csv")
    if not os.path.exists(million):
        rng = np.random.default_rng(1)
        x = rng.normal(size=(1_000_000, 10)).astype(np.float32)
        y = x @ rng.normal(size=10) + 0.1 * rng.normal(size=1_000_000)
        header = ",".join([f"x{i}" for i in range(10)] + ["y"])
        np.savetxt(million, np.concatenate([x, y[:, None]], axis=1), fmt="%.6f", delimiter=",", header=header,
                   comments="")
    with open(os.path.join(WORK, "million.nn"), "w") as f:
        f.write(MILLION_NN)
    return [("W3 data (wide.csv)", "w3_wide.nn", os.path.join(WORK, "data", "wide.csv")),
            ("1,000,000 rows", "million.nn", million)]


def nnc_load_ms(nnc, program):
    out = subprocess.run([nnc, "run", program, "--quiet", "--json"], cwd=WORK, capture_output=True, text=True,
                         check=True).stdout
    return json.loads(out)["timings_ms"]["load"]


def pandas_ms(path):
    import pandas as pd
    start = time.perf_counter()
    pd.read_csv(path, dtype="float32")
    return (time.perf_counter() - start) * 1000


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--nnc", default=None, help="an nnc binary (default: build target/release/nnc)")
    args = parser.parse_args()
    ensure_python()
    nnc = args.nnc
    if nnc is None:
        subprocess.run(["cargo", "build", "--release", "-q", "-p", "nnc-cli"], cwd=ROOT, check=True)
        nnc = os.path.join(ROOT, "target", "release", "nnc")
    nnc = os.path.abspath(nnc)
    print("| file | MB | nnc load ms (median, range) | pandas read_csv ms (median, range) | nnc ÷ pandas |")
    print("|---|---|---|---|---|")
    for name, program, path in write_files():
        ours, theirs = [], []
        for _ in range(args.repeat):
            ours.append(nnc_load_ms(nnc, program))
            theirs.append(pandas_ms(path))
        a, b = statistics.median(ours), statistics.median(theirs)
        size = os.path.getsize(path) / 1e6
        print(f"| {name} | {size:.0f} | {a:.0f} ({min(ours):.0f}–{max(ours):.0f}) | {b:.0f} ({min(theirs):.0f}–"
              f"{max(theirs):.0f}) | {a / b:.2f} |", flush=True)


if __name__ == "__main__":
    main()
