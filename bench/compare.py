#!/usr/bin/env python3
"""nnc against numpy, JAX (jit per step and the whole run in one lax.scan) and PyTorch
eager on the benchmark workloads, in one run, with the issue's targets as ratios (the
CNN workloads, W5, against JAX jit and PyTorch eager only).

usage: python3 bench/compare.py [--repeat N] [--only w1_xor8,w2_digits] [--sweep] [--cpu avx2] [--kmeans]

Sets up its own Python (target/bench-venv, with numpy, JAX, matplotlib and scikit-learn
from PyPI; PyTorch is used when that Python can import it) unless NNC_BENCH_PYTHON names
one that already has numpy and JAX. Builds nnc in release mode, writes the data into target/bench,
runs every system REPEAT times in fresh processes and reports medians. --sweep adds the
width sweep (784-w-w-10, batch 128) against JAX and writes its table and plot. --cpu avx2
runs every system as on a CPU with AVX2 and FMA but no AVX-512 (see AVX2_MACHINE).
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
VENV = os.path.join(ROOT, "target", "bench-venv")
PACKAGES = ["numpy", "jax", "matplotlib", "scikit-learn"]

# (workload, peer the target is measured against, nnc ÷ peer must be at most this)
TARGETS = [("w1_xor8", "jax-scan", 1 / 20), ("w2_digits", "jax-jit", 1 / 3),
           ("w3_wide", "jax-jit", 0.8), ("w4_linreg", "jax-scan", 1 / 5), ("w5_cnn", "jax-jit", 1 / 10)]
# Workloads whose step is mostly its matrix products, and their key in
# `bench/step_products.py`: each is also set against the time OpenBLAS takes for the step's
# products alone, on their shapes and layouts, in the same run. A target faster than that
# time is out of reach for any system that computes the step as those products.
PRODUCT_BOUND = {"w3_wide": "w3", "w5_cnn": "w5"}
COMPILE_MS = {"w1_xor8": 5, "w2_digits": 5, "w3_wide": 20, "w4_linreg": 5, "w5_cnn": 10, "w5_cnn28": 10}
SWEEP = [16, 32, 64, 128, 256, 512, 1024, 2048, 4096]

# Removes YNNPACK's products from XLA (see AVX2_MACHINE). An XLA that does not know a flag
# refuses to start, and one from before YNNPACK has no such flag (`limit_cpu` then drops it).
YNN_FLAG = "--xla_cpu_experimental_ynn_fusion_type=-LIBRARY_FUSION_TYPE_INDIVIDUAL_DOT"

# `--cpu avx2`: what keeps each system below AVX-512, so that an AVX-512 machine measures
# the paths an AVX2 laptop runs, peers included. nnc's GEMM library detects the CPU itself,
# so nnc is also built without its `library-avx512` feature (see build_nnc).
AVX2_MACHINE = {
    "NNC_CPU": "avx2",  # nnc's generated code and its own product kernels
    # JAX: XLA's generated code, and its products: XLA hands a lone product to YNNPACK,
    # which picks its kernels at run time whatever `max_isa` says (2048³ at 299 GFLOP/s on
    # two AVX-512 cores with the ISA flag alone, above the 215 the two cores can do with
    # AVX2; 181–197 without YNNPACK, like numpy's 170–191 with OpenBLAS' Haswell kernels).
    "XLA_FLAGS": f"--xla_cpu_max_isa=AVX2 {YNN_FLAG}",
    "OPENBLAS_CORETYPE": "Haswell",  # numpy's BLAS
    "NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512F AVX512CD AVX512_SKX AVX512_ICL AVX512_SPR",  # numpy's loops
    "ATEN_CPU_CAPABILITY": "avx2",  # PyTorch's kernels
    "MKL_ENABLE_INSTRUCTIONS": "AVX2",  # PyTorch's BLAS
    "ONEDNN_MAX_CPU_ISA": "AVX2",  # PyTorch's convolutions, and oneDNN's products in JAX
    "GLIBC_TUNABLES": "glibc.cpu.hwcaps=-AVX512F,-AVX512VL,-AVX512BW,-AVX512DQ,-AVX512CD",  # memcpy in all
}


def ensure_python():
    """Re-runs this script under a Python that has numpy and JAX."""
    try:
        import jax  # noqa: F401
        import numpy  # noqa: F401
        return
    except ImportError:
        pass
    python = os.environ.get("NNC_BENCH_PYTHON") or os.path.join(VENV, "bin", "python")
    if not os.path.exists(python):
        print(f"setting up {VENV} ({', '.join(PACKAGES)})", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
        subprocess.run([python, "-m", "pip", "install", "--quiet", *PACKAGES], check=True)
    if os.environ.get("NNC_BENCH_REEXEC") == python:
        # This is that Python already: running again would find them missing again, forever.
        sys.exit(f"compare.py needs numpy and JAX, which {python} lacks: install them with {python} -m pip")
    os.environ["NNC_BENCH_REEXEC"] = python
    os.execv(python, [python, *sys.argv])


def build_nnc(cpu="native"):
    """The release binary; for `--cpu avx2` one whose GEMM library stops at AVX2, built in
    a target directory of its own so that target/release/nnc stays the default build."""
    if cpu == "native":
        subprocess.run(["cargo", "build", "--release", "--quiet", "-p", "nnc-cli"], cwd=ROOT, check=True)
        return os.path.join(ROOT, "target", "release", "nnc")
    target = os.path.join(ROOT, "target", f"cpu-{cpu}")
    subprocess.run(["cargo", "build", "--release", "--quiet", "-p", "nnc-cli", "--no-default-features",
                    "--target-dir", target], cwd=ROOT, check=True)
    return os.path.join(target, "release", "nnc")


def limit_cpu(cpu):
    """Sets the environment every process of the run inherits for `--cpu`."""
    if cpu == "avx2":
        for key, value in AVX2_MACHINE.items():
            os.environ[key] = f"{os.environ[key]} {value}" if key == "XLA_FLAGS" and key in os.environ else value
        probe = subprocess.run([sys.executable, "-c", "import jax.numpy as j; j.ones(1).block_until_ready()"],
                               capture_output=True, text=True)
        if probe.returncode != 0 and "ynn_fusion_type" in probe.stderr:
            os.environ["XLA_FLAGS"] = os.environ["XLA_FLAGS"].replace(YNN_FLAG, "").strip()
            print("this JAX has no YNNPACK flag; its products are checked below", file=sys.stderr)


def run_nnc(nnc, program, extra=()):
    """One `nnc run --json` of program in WORK: (report, peak resident KiB)."""
    proc = subprocess.Popen([nnc, "run", program, "--json", "--quiet", *extra], cwd=WORK, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    out, err = proc.communicate()
    if proc.returncode != 0:
        sys.exit(f"nnc run {program} failed:\n{err.decode()}")
    peak_kib = 0
    try:
        peak_kib = os.wait4(proc.pid, 0)[2].ru_maxrss
    except ChildProcessError:  # communicate() already reaped it
        pass
    return json.loads(out), peak_kib


def nnc_summary(runs, steps):
    """Medians over `runs` of `run_nnc`'s (report, peak) pairs."""
    med = lambda key: statistics.median(r["timings_ms"][key] for r, _ in runs)  # noqa: E731
    report = runs[0][0]
    return {"us_per_step": med("train") * 1000 / steps, "compile_ms": med("compile"), "load_ms": med("load"),
            "front_ms": med("compile_front"), "codegen_ms": med("compile_codegen"),
            "loss": report["final_loss"], "memory": report["memory_bytes"], "cpu": report.get("cpu", "?")}


def peer_once(args):
    """µs per step of one run of peers.py args, or None when the framework is missing."""
    proc = subprocess.run([sys.executable, os.path.join(HERE, "peers.py"), *args],
                          capture_output=True, text=True, cwd=HERE)
    if proc.returncode != 0:
        if "ModuleNotFoundError" in proc.stderr:
            return None
        sys.exit(f"peers.py {' '.join(args)} failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])["us_per_step"]


def in_rounds(nnc, name, steps, data, frameworks, repeat):
    """nnc and each peer on one workload, one run of each in turn, `repeat` rounds: a slow
    spell of a shared machine (seen on the benchmark VM: the same binary 1.7 × slower for
    minutes) then falls on every system alike instead of on whichever ran through it.
    Returns nnc's summary and each peer's median (None when it is not installed)."""
    runs, times = [], {f: [] for f in frameworks}
    for _ in range(repeat):
        runs.append(run_nnc(nnc, name + ".nn"))
        for f in frameworks:
            if times[f] is not None:
                us = peer_once([f, name, data])
                times[f] = None if us is None else times[f] + [us]
    return nnc_summary(runs, steps), {f: t and statistics.median(t) for f, t in times.items()}


def whole_process_ms(nnc, program, runs=30):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        # --quiet: no progress lines (the target is compile and train, not writing 2000 lines).
        subprocess.run([nnc, "run", program, "--quiet"], cwd=ROOT, stdout=subprocess.DEVNULL, check=True)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def memory_bound(sizes, batch):
    """Bytes of parameters + one batch's activations and gradients (SGD keeps no state)."""
    params = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))
    activations = batch * (sizes[0] + 2 * sum(sizes[1:]))
    return 4 * (2 * params + activations)


def fmt(us):
    return "—" if us is None else f"{us:,.3f}" if us < 10 else f"{us:,.1f}" if us < 1000 else f"{us:,.0f}"


def main():
    ensure_python()
    import workloads as wl

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", default=",".join(wl.WORKLOADS))
    parser.add_argument("--sweep", action="store_true")
    parser.add_argument("--cpu", choices=["native", "avx2"], default="native",
                        help="avx2: every system as on a CPU without AVX-512")
    parser.add_argument("--kmeans", action="store_true", help="only the k-means comparison with scikit-learn")
    args = parser.parse_args()
    if args.kmeans:
        kmeans_side_by_side(build_nnc(), args.repeat)
        return
    wl.check_programs()
    limit_cpu(args.cpu)
    nnc = build_nnc(args.cpu)
    wl.write_data(WORK)
    data = os.path.join(WORK, "data")
    frameworks = ["numpy", "jax-jit", "jax-scan", "torch"]
    rows, verdicts = [], []
    for name in filter(None, args.only.split(",")):
        w = wl.WORKLOADS[name]
        ours, peers = in_rounds(nnc, name, wl.steps(w), data, frameworks, args.repeat)
        rows.append((name, ours, peers))
        verdicts += targets(name, w, ours, peers)
    sgemm = peer_sgemm()
    if sgemm is None:
        sys.exit("numpy's sgemm rate could not be measured (bench/peers.py sgemm failed)")
    if args.cpu != "native":
        print(peers_within(sgemm, args.cpu))
    print(f"\nµs per training step (median of {args.repeat} runs each, fresh processes, one of each system in turn; nnc: {rows[0][1]['cpu']}; "
          f"--cpu {args.cpu})\n")
    print("| workload | nnc | numpy | JAX jit | JAX scan | PyTorch | nnc compile ms | nnc load ms |")
    print("|---|---|---|---|---|---|---|---|")
    for name, ours, peers in rows:
        cells = [fmt(peers[f]) for f in frameworks]
        print(f"| {name} | **{fmt(ours['us_per_step'])}** | {' | '.join(cells)} | "
              f"{ours['compile_ms']:.2f} | {ours['load_ms']:.1f} |")
    print("\nnnc compile ms: front (checking, lowering, autodiff, passes, kernel planning) + codegen "
          "(Cranelift IR and machine code, both cores): " +
          ", ".join(f"{name} {o['front_ms']:.2f} + {o['codegen_ms']:.2f}" for name, o, _ in rows))
    for name, ours, peers in rows:
        w = wl.WORKLOADS[name]
        if "image" in w:
            rate = lambda us: wl.cnn_flops(w) / us / 1e3  # noqa: E731
            shown = ", ".join(f"{f} {rate(peers[f]):.1f}" for f in frameworks if peers[f])
            print(f"\n{name}: {wl.cnn_flops(w) / 1e6:.1f} MFLOP a step; GFLOP/s nnc {rate(ours['us_per_step']):.1f}, {shown}")
        if name in PRODUCT_BOUND:
            line, verdict = against_products_alone(name, ours["us_per_step"], peers.get("jax-jit"))
            print("\n" + line)
            verdicts += verdict
        if name == "w3_wide":
            w = wl.WORKLOADS[name]
            rate = wl.work_flops(w["sizes"], w["batch"]) / ours["us_per_step"] / 1e3
            verdicts.append(check(f"w3 GFLOP/s ≥ 80% of numpy 2-thread sgemm ({sgemm:.0f})", rate / sgemm, 0.8,
                                  at_least=True, shown=f"{rate:.0f} GFLOP/s"))
            planned = ours["memory"]["params"] + ours["memory"]["scratch"]
            bound = memory_bound(w["sizes"], w["batch"])
            verdicts.append(check("w3 training buffers ≤ 1.5 × (params + batch activations and gradients)",
                                  planned / bound, 1.5, shown=f"{planned / 2**20:.2f} MiB of {bound / 2**20:.2f}"))
    xor_ms = whole_process_ms(nnc, os.path.join("examples", "xor.nn"))
    verdicts.append(check("`nnc run examples/xor.nn --quiet` whole process < 5 ms", xor_ms / 5, 1.0, shown=f"{xor_ms:.2f} ms"))
    print("\n| target | measured | ratio | |\n|---|---|---|---|")
    for line in verdicts:
        print(line)
    if args.sweep:
        width_sweep(nnc, wl, data, args.repeat, "" if args.cpu == "native" else f"-{args.cpu}")
    kmeans_side_by_side(nnc, args.repeat)


# (program, k): `nnc cluster` on the program's preprocessed features.
KMEANS = [("examples/iris.nn", 3), ("examples/digits.nn", 10)]


def kmeans_side_by_side(nnc, repeat):
    """`nnc cluster --k K` against scikit-learn's KMeans(n_init=10) on the very rows nnc
    clustered (its --json gives them): ARI against the classes, and time per Lloyd
    iteration (nnc: its Lloyd time over every restart ÷ their iterations; scikit-learn: one
    fit from nnc's centroids with tol 0, ÷ its iterations). Skipped, and said so, without
    scikit-learn."""
    try:
        import numpy as np
        from sklearn.cluster import KMeans
        from sklearn.metrics import adjusted_rand_score
    except ImportError:
        print("\nk-means comparison SKIPPED: scikit-learn is not installed in this Python")
        return
    print("\nk-means on the same preprocessed features (median of", repeat, "runs)\n")
    print("| data | rows × features, k | nnc ARI | scikit-learn ARI | nnc µs / Lloyd iteration | "
          "scikit-learn µs / iteration | ratio |\n|---|---|---|---|---|---|---|")
    for program, k in KMEANS:
        runs = []
        for seed in range(repeat):
            out = subprocess.run([nnc, "cluster", program, "--k", str(k), "--seed", str(seed), "--json", "-o",
                                  os.path.join(WORK, "clusters")], cwd=ROOT, capture_output=True, text=True, check=True)
            runs.append(json.loads(out.stdout))
        points = np.array(runs[0]["points"], dtype=np.float32)
        labels = labels_of(runs[0])
        ours_ari = statistics.median(r["ari"] for r in runs)
        ours_us = statistics.median(1e6 * r["lloyd_seconds_all_restarts"] / r["lloyd_iterations_all_restarts"]
                                    for r in runs)
        theirs_ari = statistics.median(adjusted_rand_score(labels, KMeans(k, n_init=10, random_state=seed)
                                                           .fit(points).labels_) for seed in range(repeat))
        per_iteration = []
        for r in runs:
            centres = np.array(r["centroids"], dtype=np.float32)
            started = time.perf_counter()
            fit = KMeans(k, init=centres, n_init=1, tol=0.0, max_iter=300).fit(points)
            per_iteration.append((time.perf_counter() - started) * 1e6 / fit.n_iter_)
        theirs_us = statistics.median(per_iteration)
        print(f"| {os.path.basename(program)} | {len(points)} × {points.shape[1]}, {k} | {ours_ari:.4f} | "
              f"{theirs_ari:.4f} | {ours_us:.1f} | {theirs_us:.1f} | {ours_us / theirs_us:.3g} |")


def labels_of(report):
    """Each clustered row's class, as `nnc cluster --json` gives it."""
    return report["labels"]


def targets(name, w, ours, peers):
    out = []
    for workload, against, limit in TARGETS:
        if workload == name and peers.get(against):
            out.append(check(f"{name} ≤ {limit:.2g} × {against}", ours["us_per_step"] / peers[against], limit,
                             shown=f"{fmt(ours['us_per_step'])} µs vs {fmt(peers[against])}"))
    out.append(check(f"{name} compile < {COMPILE_MS[name]} ms", ours["compile_ms"] / COMPILE_MS[name], 1.0,
                     shown=f"{ours['compile_ms']:.2f} ms"))
    return out


def check(what, ratio, limit, at_least=False, shown=""):
    met = ratio >= limit if at_least else ratio <= limit
    return f"| {what} | {shown} | {ratio:.3g} | {'met' if met else '**missed**'} |"


def peer_sgemm(framework="numpy"):
    """A 2048³ float32 product's GFLOP/s in one peer (None when it is not installed)."""
    proc = subprocess.run([sys.executable, os.path.join(HERE, "peers.py"), "sgemm", framework],
                          capture_output=True, text=True, cwd=HERE)
    if proc.returncode != 0:
        return None
    return json.loads(proc.stdout)["gflops"]


def against_products_alone(name, step_us, jax_us):
    """The workload's products timed alone in numpy (`bench/step_products.py`: OpenBLAS on
    both cores, the step's own shapes and layouts) beside nnc's whole step and beside what
    its JAX target asks for; and the verdict row of the step against those products alone
    (at most 1 ×: nnc adds nothing to what the products take in the BLAS)."""
    key = PRODUCT_BOUND[name]
    proc = subprocess.run([sys.executable, os.path.join(HERE, "step_products.py"), key, "--json"],
                          capture_output=True, text=True, cwd=HERE)
    if proc.returncode != 0:
        return f"{key}'s products alone in numpy: not measured (bench/step_products.py failed)", []
    alone = json.loads(proc.stdout)
    rate = alone["flops"] / alone["us"] / 1e3
    line = (f"{key}'s {alone['products']} products alone in numpy (OpenBLAS, {key}'s shapes and layouts): "
            f"{alone['us']:,.0f} µs, {rate:.0f} GFLOP/s, {rate / alone['sgemm']:.2f} of its 2048³ rate "
            f"({alone['sgemm']:.0f}); nnc's whole step takes {step_us / alone['us']:.2f} × that")
    limit = next((limit for workload, against, limit in TARGETS if workload == name and against == "jax-jit"), None)
    if limit is not None and jax_us:
        wanted = limit * jax_us
        reach = ("within what OpenBLAS reaches on them" if wanted >= alone["us"]
                 else f"{alone['us'] / wanted:.2f} × what OpenBLAS reaches on them: out of reach for a step "
                      "computed as these products on this machine")
        line += (f". The target, {limit:.2g} × JAX jit = {fmt(wanted)} µs, asks the products alone for "
                 f"{alone['flops'] / wanted / 1e3:.0f} GFLOP/s: {reach}")
    verdict = check(f"{name} ≤ its products alone in OpenBLAS", step_us / alone["us"], 1.0,
                    shown=f"{fmt(step_us)} µs vs {fmt(alone['us'])}")
    return line, [verdict]


def peers_within(numpy_rate, cpu):
    """Whether each peer's products keep to `cpu`'s instructions: a 2048³ product faster
    than 1.3 × numpy's (OpenBLAS with its Haswell kernels) needs wider vectors. On two
    AVX-512 cores the uncapped rates are 300–420 GFLOP/s and the capped ones 170–200."""
    rates = {f: peer_sgemm(f) for f in ("jax", "torch")}
    shown = ", ".join(f"{f} {r:.0f}" for f, r in rates.items() if r)
    escaped = [f for f, r in rates.items() if r and r > 1.3 * numpy_rate]
    verdict = (f"**not limited to {cpu}: {', '.join(escaped)}** (their ratios compare against wider vectors)"
               if escaped else f"all within {cpu}")
    return f"peers' 2048³ product under --cpu {cpu}, GFLOP/s: numpy {numpy_rate:.0f}, {shown}: {verdict}"


def width_sweep(nnc, wl, data, repeat, suffix):
    print("\nwidth sweep: 784-w-w-10, batch 128, SGD (steady-state µs per step: both exclude the first epoch; "
          "GFLOP/s of the step's matmul work)\n")
    print("| width | nnc µs | nnc GFLOP/s | JAX jit µs | JAX GFLOP/s | nnc ÷ JAX |\n|---|---|---|---|---|---|")
    table = []
    for width in SWEEP:
        flops = wl.work_flops([784, width, width, 10], 128)
        epochs = max(3, min(50, int(4e9 / (flops * 20))))
        program = f"sweep_{width}.nn"
        with open(os.path.join(WORK, program), "w") as f:
            f.write(wl.sweep_program(width, epochs))
        # nnc's first epoch (cold caches, first touch of its buffers) is left out as the
        # peers' is: the time of a one-epoch run comes off the whole run's.
        # In rounds, as the main table (`in_rounds`): nnc's two runs, then JAX's.
        wholes, firsts, jaxes = [], [], []
        for _ in range(repeat):
            wholes.append(run_nnc(nnc, program))
            firsts.append(run_nnc(nnc, program, ["--epochs", "1"]))
            jaxes.append(peer_once(["jax-jit", "--width", str(width), str(epochs), data]))
        whole = nnc_summary(wholes, 20 * epochs)["us_per_step"] * 20 * epochs
        first = nnc_summary(firsts, 20)["us_per_step"] * 20
        ours = (whole - first) / (20 * (epochs - 1))
        if None in jaxes:
            sys.exit("the width sweep needs JAX")
        jax = statistics.median(jaxes)
        table.append((width, ours, jax, flops))
        print(f"| {width} | {fmt(ours)} | {flops / ours / 1e3:.1f} | {fmt(jax)} | {flops / jax / 1e3:.1f} | "
              f"{ours / jax:.2f} |", flush=True)
    plot_sweep(table, os.path.join(WORK, f"width-sweep{suffix}.svg"))


def plot_sweep(table, path):
    try:
        import matplotlib
    except ImportError:  # a NNC_BENCH_PYTHON with numpy and JAX only: the table above stands
        print(f"no plot at {path}: matplotlib is not installed in this Python")
        return
    matplotlib.use("svg")
    import matplotlib.pyplot as plt

    widths = [t[0] for t in table]
    fig, ax = plt.subplots(figsize=(6, 3.6))
    ax.plot(widths, [t[3] / t[1] / 1e3 for t in table], "o-", label="nnc")
    ax.plot(widths, [t[3] / t[2] / 1e3 for t in table], "s--", label="JAX jit")
    ax.set(xscale="log", xlabel="hidden width (784-w-w-10, batch 128)", ylabel="GFLOP/s (matmul work)")
    ax.set_xticks(widths, [str(w) for w in widths])
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, metadata={"Date": None})
    print(f"\nplot: {os.path.relpath(path, ROOT)}")


if __name__ == "__main__":
    main()
