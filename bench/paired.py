#!/usr/bin/env python3
"""Paired runs of two nnc binaries on the same programs: is the new one faster?

    python3 bench/paired.py OLD NEW PROGRAM.nn [PROGRAM.nn ...] [--pairs 15]

Each pair runs OLD, NEW, OLD in turn (fresh processes, `nnc run --json --quiet`), and its
ratio is NEW's training time over the mean of the two OLD runs around it. On a machine
whose speed drifts within minutes (a shared VM), the drift falls on both sides of each
ratio, where medians of separate runs mix slow and fast spells: W5 runs on one 2-vCPU VM
spread from 360 to 480 ms within minutes, while the ratios of a change spread by 0.03.
Prints every pair's times, then the ratios' median, mean and standard deviation, and how
many were below 1. The runs' final losses must match (a change in bits is reported).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys


def train_ms(binary, program):
    """Training time (ms) and final loss of one fresh run."""
    folder = os.path.dirname(os.path.abspath(program))
    run = subprocess.run([binary, "run", program, "--json", "--quiet"], capture_output=True, text=True, cwd=folder)
    if run.returncode != 0:
        sys.exit(f"{binary} {program} failed:\n{run.stderr[-2000:]}")
    report = json.loads(run.stdout.strip().splitlines()[-1])
    return report["timings_ms"]["train"], report.get("final_loss")


def paired(old, new, program, pairs):
    """The NEW / mean(OLD before, OLD after) ratio of each pair, and the losses seen."""
    ratios, losses = [], set()
    for _ in range(pairs):
        before, loss_old = train_ms(old, program)
        now, loss_new = train_ms(new, program)
        after, _ = train_ms(old, program)
        ratios.append(now / ((before + after) / 2))
        losses.add(("old", loss_old))
        losses.add(("new", loss_new))
        print(f"  old {before:9.2f}  new {now:9.2f}  old {after:9.2f} ms", flush=True)
    return ratios, losses


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("old", help="the nnc binary before the change")
    parser.add_argument("new", help="the nnc binary after it")
    parser.add_argument("programs", nargs="+", help=".nn programs (run from their own folder)")
    parser.add_argument("--pairs", type=int, default=15, help="pairs per program (default 15)")
    args = parser.parse_args()
    # Each program runs from its own folder (its data paths are relative to it).
    args.old, args.new = os.path.abspath(args.old), os.path.abspath(args.new)
    for program in args.programs:
        print(program)
        ratios, losses = paired(args.old, args.new, program, args.pairs)
        spread = statistics.stdev(ratios) if len(ratios) > 1 else 0.0
        below = sum(r < 1 for r in ratios)
        print(
            f"{os.path.basename(program)}: new / old median {statistics.median(ratios):.3f}, "
            f"mean {statistics.mean(ratios):.3f}, sd {spread:.3f}, {below} of {len(ratios)} below 1"
        )
        old_loss = {loss for who, loss in losses if who == "old"}
        new_loss = {loss for who, loss in losses if who == "new"}
        if old_loss != new_loss:
            print(f"  final loss differs: old {sorted(old_loss)}, new {sorted(new_loss)}")


if __name__ == "__main__":
    main()
