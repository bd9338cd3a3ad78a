#!/usr/bin/env python3
"""CSV loading: nnc against pandas' read_csv on the same files, interleaved in one run.

usage: NNC_BENCH_PYTHON=<python with numpy and pandas> python3 bench/csv_load.py [--repeat N] [--nnc PATH]

Files (written into target/bench once): W3's data (wide.csv, 2,560 rows x 785 columns,
15 MB), a generated file of 1,000,000 rows x 10 features and a target (100 MB), and the
same with two text columns, a category feature (whose values include `none`) and a class
label (105 MB). nnc's figure is `timings_ms.load` of `nnc run --json` on a one-epoch
program over the file: reading, typing every column, splitting, fitting and encoding
(one-hot for the text columns). pandas' is read_csv alone (float32 columns, `category`
for text ones, its fastest way to read them), in this Python process, run between nnc's
runs. Medians of REPEAT. See docs/performance.md.
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

MIXED_NN = """data mixed {
  file "data/mixed.csv"
  features x0..x9 color
  target label
  split 0.8 0.1 0.1
}
model net { input 15; dense 32 relu; dense 3 }
train net on mixed { loss softmax_ce; optimizer adam(lr = 0.001); epochs 1; batch 256; seed 0 }
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
    if os.environ.get("NNC_BENCH_REEXEC") == python:
        # This is that Python already: running again would find them missing again, forever.
        sys.exit(f"csv_load.py needs numpy and pandas, which {python} lacks: install them with {python} -m pip")
    os.environ["NNC_BENCH_REEXEC"] = python
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
    mixed = os.path.join(WORK, "data", "mixed.csv")
    if not os.path.exists(mixed):
        write_mixed(mixed)
    with open(os.path.join(WORK, "mixed.nn"), "w") as f:
        f.write(MIXED_NN)
    numbers = "float32"
    categories = {**{f"x{i}": "float32" for i in range(10)}, "color": "category", "label": "category"}
    return [("W3 data (wide.csv)", "w3_wide.nn", os.path.join(WORK, "data", "wide.csv"), numbers),
            ("1,000,000 rows", "million.nn", million, numbers),
            ("1,000,000 rows, two text columns", "mixed.nn", mixed, categories)]


def write_mixed(path):
    """A million rows of 10 numbers, a colour (`none` one of them) and a class from both."""
    import numpy as np
    import pandas as pd
    rng = np.random.default_rng(2)
    x = rng.normal(size=(1_000_000, 10)).astype(np.float32)
    color = rng.integers(0, 4, size=1_000_000)
    level = (x[:, 0] + x[:, 1] > 0).astype(int) + (color == 1)
    frame = pd.DataFrame(x, columns=[f"x{i}" for i in range(10)])
    frame["color"] = np.array(["none", "red", "green", "blue"])[color]
    frame["label"] = np.array(["low", "mid", "high"])[level]
    frame.to_csv(path, index=False, float_format="%.6f")


def nnc_load_ms(nnc, program):
    out = subprocess.run([nnc, "run", program, "--quiet", "--json"], cwd=WORK, capture_output=True, text=True,
                         check=True).stdout
    return json.loads(out)["timings_ms"]["load"]


def pandas_ms(path, dtype):
    import pandas as pd
    start = time.perf_counter()
    pd.read_csv(path, dtype=dtype)
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
    for name, program, path, dtype in write_files():
        ours, theirs = [], []
        for _ in range(args.repeat):
            ours.append(nnc_load_ms(nnc, program))
            theirs.append(pandas_ms(path, dtype))
        a, b = statistics.median(ours), statistics.median(theirs)
        size = os.path.getsize(path) / 1e6
        print(f"| {name} | {size:.0f} | {a:.0f} ({min(ours):.0f}–{max(ours):.0f}) | {b:.0f} ({min(theirs):.0f}–"
              f"{max(theirs):.0f}) | {a / b:.2f} |", flush=True)


if __name__ == "__main__":
    main()
