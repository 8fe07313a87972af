#!/usr/bin/env python3
"""Builds a timing folder for the joint dataset (NOT real data for training):
{out}/grabbed_data{d}/scale4/mnist_{d}_scale04_{NNNN}.aedat as symlinks to one real MNIST-DVS
recording, and {out}/n-tidigits.hdf5 with synthetic single-digit samples in the N-TIDIGITS
layout (float64 seconds, variable-length labels), `audio_per_class` per class, 3,000 events each.

Usage: python3 bench/make_joint_bench_folder.py OUT [per_digit=100] [audio_per_class=45]
Then:  .build/release/spikefuse inspect OUT --load --cache OUT/cache   (twice: build, then hit)
"""
import os
import sys
import h5py
import numpy as np

out = sys.argv[1]
per_digit = int(sys.argv[2]) if len(sys.argv) > 2 else 100
audio_per_class = int(sys.argv[3]) if len(sys.argv) > 3 else 45
here = os.path.dirname(os.path.abspath(__file__))
real = os.path.normpath(os.path.join(here, "..", "..", "..", "shared", "data", "mnist-dvs", "mnist_0_scale04_0001.aedat"))
if not os.path.exists(real):
    real = "/work/shared/data/mnist-dvs/mnist_0_scale04_0001.aedat"
for d in range(10):
    folder = os.path.join(out, "grabbed_data%d" % d, "scale4")
    os.makedirs(folder, exist_ok=True)
    for i in range(1, per_digit + 1):
        link = os.path.join(folder, "mnist_%d_scale04_%04d.aedat" % (d, i))
        if not os.path.lexists(link):
            os.symlink(real, link)
rng = np.random.default_rng(0)
digits = "z123456789"
keys = {"train": [], "test": []}
for c in digits:
    for k in range(audio_per_class):
        keys["train" if k % 2 == 0 else "test"].append("man-s%d-a-%s" % (k, c))
with h5py.File(os.path.join(out, "n-tidigits.hdf5"), "w") as f:
    for split in ("train", "test"):
        f.create_dataset(split + "_labels", data=[k.encode() for k in keys[split]],
                         dtype=h5py.special_dtype(vlen=bytes))
        ts, ad = f.create_group(split + "_timestamps"), f.create_group(split + "_addresses")
        for key in keys[split]:
            ts.create_dataset(key, data=np.sort(rng.uniform(0.1, 1.9, 3000)))
            ad.create_dataset(key, data=rng.integers(0, 64, 3000).astype(np.int16))
print(out)
