#!/usr/bin/env python3
"""Writes the small, deterministic fixtures that the Swift tests read.

    python3 bench/make_fixtures.py            # all fixtures
    python3 bench/make_fixtures.py safetensors lif network   # a subset

Python is never needed to build or test SpikeFuse: the files this script writes are
committed. Run it again only when a fixture's definition changes.

Fixtures (see docs/peer.md for every tensor name and shape):
  Tests/SpikeNNTests/Fixtures/python_written.safetensors   written by the `safetensors` package
  Tests/SpikeNNTests/Fixtures/lif_golden.safetensors       a LIF layer: forward and surrogate BPTT
  Tests/MultimodalTests/Fixtures/golden_*.safetensors      the paper's networks, small sizes
"""
import json
import os
import sys

import numpy as np
import torch
from safetensors.torch import save_file

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NN_FIXTURES = os.path.join(ROOT, "Tests", "SpikeNNTests", "Fixtures")
MM_FIXTURES = os.path.join(ROOT, "Tests", "MultimodalTests", "Fixtures")


# ---------------------------------------------------------------------------------------
# a) python_written.safetensors: one tensor per dtype, values from simple formulas.
#    i is the row-major flat index of the element.
PYTHON_WRITTEN_FORMULAS = {
    "f32": ("float32", [2, 3, 4], "i * 0.25 - 3.0"),
    "f64": ("float64", [5], "1.0 / (i + 1)"),
    "f16": ("float16", [3, 2], "(i - 2.5) * 0.5"),
    "bf16": ("bfloat16", [3], "[1.0, -2.5, 0.15625][i]"),
    "i64": ("int64", [4], "(i - 1) * 1000"),
    "i32": ("int32", [3], "(i - 1) * 7"),
    "i16": ("int16", [2], "[-32768, 32767][i]"),
    "i8": ("int8", [2], "[-128, 127][i]"),
    "u8": ("uint8", [4], "[0, 1, 128, 255][i]"),
    "bool": ("bool", [3], "[True, False, True][i]"),
    "f16_special": ("float16", [4], "[2**-24, 2**-14, 65504.0, -inf][i]"),
    "scalar": ("float32", [], "42.5"),
    "empty": ("float32", [0, 3], "(no elements)"),
}


def python_written():
    inf = float("inf")
    tensors = {}
    for name, (dtype, shape, formula) in PYTHON_WRITTEN_FORMULAS.items():
        n = int(np.prod(shape)) if shape else 1
        if name == "empty":
            values = []
        else:
            values = [eval(formula, {"i": i, "inf": inf}) for i in range(n)]
        t = torch.tensor(values, dtype=getattr(torch, dtype)).reshape(shape)
        tensors[name] = t
    metadata = {
        "format": "pt",
        "producer": "bench/make_fixtures.py",
        "formulas": json.dumps({k: v[2] for k, v in PYTHON_WRITTEN_FORMULAS.items()}, sort_keys=True),
        "unicode": "τ = 0.2 µs \"quoted\"",
    }
    path = os.path.join(NN_FIXTURES, "python_written.safetensors")
    save_file(tensors, path, metadata=metadata)
    print(f"wrote {os.path.relpath(path, ROOT)} ({os.path.getsize(path)} bytes)")


def main(argv):
    which = argv[1:] or ["safetensors", "lif", "network"]
    os.makedirs(NN_FIXTURES, exist_ok=True)
    os.makedirs(MM_FIXTURES, exist_ok=True)
    if "safetensors" in which:
        python_written()
    if "lif" in which:
        lif_golden()
    if "network" in which:
        network_golden()


if __name__ == "__main__":
    main(sys.argv)
