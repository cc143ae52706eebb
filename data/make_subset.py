#!/usr/bin/env python3
"""Make the bundled stratified Fashion-MNIST subset (python3 standard library only).

Reads the four IDX files of Fashion-MNIST (raw or gzip), keeps the first K samples of
each class in file order (the selected samples stay in their original file order), and
writes the four IDX files gzip-compressed with mtime=0, so the output is byte-for-byte
reproducible from the same input.

    python3 data/make_subset.py                      # the defaults below
    python3 data/make_subset.py --source DIR --out DIR --train-per-class 500 --test-per-class 100
"""
import argparse
import gzip
import os
import struct
import sys

IMAGES_MAGIC = 0x00000803
LABELS_MAGIC = 0x00000801
CLASSES = 10
HERE = os.path.dirname(os.path.abspath(__file__))


def read_file(path):
    """The decompressed bytes of path or path.gz (gzip detected by the magic 0x1f8b)."""
    for candidate in (path, path + ".gz"):
        if os.path.exists(candidate):
            with open(candidate, "rb") as f:
                data = f.read()
            if data[:2] == b"\x1f\x8b":
                data = gzip.decompress(data)
            return candidate, data
    sys.exit(f"make_subset: neither {path} nor {path}.gz exists")


def read_images(path):
    name, data = read_file(path)
    magic, n, rows, cols = struct.unpack(">IIII", data[:16])
    if magic != IMAGES_MAGIC:
        sys.exit(f"make_subset: {name}: magic 0x{magic:08x}, expected 0x{IMAGES_MAGIC:08x}")
    if len(data) != 16 + n * rows * cols:
        sys.exit(f"make_subset: {name}: {len(data)} bytes, expected {16 + n * rows * cols}")
    size = rows * cols
    return name, rows, cols, [data[16 + i * size:16 + (i + 1) * size] for i in range(n)]


def read_labels(path):
    name, data = read_file(path)
    magic, n = struct.unpack(">II", data[:8])
    if magic != LABELS_MAGIC:
        sys.exit(f"make_subset: {name}: magic 0x{magic:08x}, expected 0x{LABELS_MAGIC:08x}")
    if len(data) != 8 + n:
        sys.exit(f"make_subset: {name}: {len(data)} bytes, expected {8 + n}")
    labels = list(data[8:])
    if any(v >= CLASSES for v in labels):
        sys.exit(f"make_subset: {name}: labels outside 0..{CLASSES - 1}")
    return name, labels


def first_per_class(labels, k):
    """Indices (ascending) of the first k samples of each class."""
    taken = [0] * CLASSES
    chosen = []
    for i, y in enumerate(labels):
        if taken[y] < k:
            taken[y] += 1
            chosen.append(i)
    if any(t < k for t in taken):
        sys.exit(f"make_subset: only {taken} samples per class, {k} requested")
    return chosen


def write_gz(path, data):
    with open(path, "wb") as f:
        f.write(gzip.compress(data, compresslevel=9, mtime=0))


def subset(source, out, prefix, k):
    img_name, rows, cols, images = read_images(os.path.join(source, f"{prefix}-images-idx3-ubyte"))
    lab_name, labels = read_labels(os.path.join(source, f"{prefix}-labels-idx1-ubyte"))
    if len(images) != len(labels):
        sys.exit(f"make_subset: {img_name} has {len(images)} images, {lab_name} {len(labels)} labels")
    chosen = first_per_class(labels, k)
    n = len(chosen)
    write_gz(os.path.join(out, f"{prefix}-images-idx3-ubyte.gz"),
             struct.pack(">IIII", IMAGES_MAGIC, n, rows, cols) + b"".join(images[i] for i in chosen))
    write_gz(os.path.join(out, f"{prefix}-labels-idx1-ubyte.gz"),
             struct.pack(">II", LABELS_MAGIC, n) + bytes(labels[i] for i in chosen))
    counts = [0] * CLASSES
    for i in chosen:
        counts[labels[i]] += 1
    print(f"{prefix}: {n} of {len(labels)} samples ({rows}x{cols}), per class {counts}, "
          f"last source index {chosen[-1]}")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--source", default="/usr/share/datasets/fashion-mnist",
                   help="directory with the full Fashion-MNIST IDX files (default: Debian's)")
    p.add_argument("--out", default=os.path.join(HERE, "fashion-mnist-subset"), help="output directory")
    p.add_argument("--train-per-class", type=int, default=500)
    p.add_argument("--test-per-class", type=int, default=100)
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    subset(a.source, a.out, "train", a.train_per_class)
    subset(a.source, a.out, "t10k", a.test_per_class)


if __name__ == "__main__":
    main()
