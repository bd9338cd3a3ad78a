#!/usr/bin/env python3
"""Writes examples/data/shapes/: 12x12 grey PNG images of three classes, 100 each, one
sub-folder per class (the layout of Keras' image_dataset_from_directory):

- circle/: a ring of random centre and radius;
- cross/:  a plus sign of random centre and arm length;
- none/:   no shape, only the background noise every image has (a class named like a
           missing-value marker, which nnc must read as a class).

Deterministic (seeded), standard library only: python3 examples/data/make_shapes.py
"""
import math
import os
import random
import struct
import zlib

SIZE, PER_CLASS = 12, 100
HERE = os.path.dirname(os.path.abspath(__file__))


def png(path, pixels):
    """A greyscale 8-bit PNG of rows of 0-255 values."""
    raw = b"".join(b"\x00" + bytes(row) for row in pixels)

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", len(pixels[0]), len(pixels), 8, 0, 0, 0, 0)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def image(rng, kind):
    level = [[rng.uniform(0, 60) for _ in range(SIZE)] for _ in range(SIZE)]
    cy, cx = rng.uniform(4, 7.5), rng.uniform(4, 7.5)
    if kind == "circle":
        radius = rng.uniform(2.5, 4)
        for y in range(SIZE):
            for x in range(SIZE):
                if abs(math.hypot(y - cy, x - cx) - radius) < 0.8:
                    level[y][x] += 190
    elif kind == "cross":
        arm = rng.randint(2, 4)
        y0, x0 = round(cy), round(cx)
        for d in range(-arm, arm + 1):
            level[y0][min(max(x0 + d, 0), SIZE - 1)] += 190
            level[min(max(y0 + d, 0), SIZE - 1)][x0] += 190
    return [[min(255, int(v)) for v in row] for row in level]


def main():
    rng = random.Random(7)
    for kind in ["circle", "cross", "none"]:
        folder = os.path.join(HERE, "shapes", kind)
        os.makedirs(folder, exist_ok=True)
        for i in range(PER_CLASS):
            png(os.path.join(folder, f"{kind}_{i:02d}.png"), image(rng, kind))


if __name__ == "__main__":
    main()
