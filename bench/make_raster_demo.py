#!/usr/bin/env python3
"""Writes a synthetic N-TIDIGITS-layout file OUT (default /tmp/raster-demo.hdf5) with one
sample, key man-ab-a-z: 3,000 events between 0.2 and 1.1 s whose channel follows a slow
sine sweep (20 + 15 sin(6 t) ± noise). Only for showing the raster style in docs:
  .build/release/spikefuse render /tmp/raster-demo.hdf5 --key man-ab-a-z --out docs/img/cochlea-raster-synthetic.png
"""
import sys
import h5py
import numpy as np

out = sys.argv[1] if len(sys.argv) > 1 else "/tmp/raster-demo.hdf5"
rng = np.random.default_rng(0)
t = np.sort(rng.uniform(0.2, 1.1, 3000))
ch = np.clip((20 + 15 * np.sin(t * 6) + rng.normal(0, 4, 3000)).astype(int), 0, 63)
with h5py.File(out, "w") as f:
    for split, key in (("train", "man-ab-a-z"), ("test", "man-ab-a-1")):
        f.create_dataset(split + "_labels", data=[key.encode()], dtype=h5py.special_dtype(vlen=bytes))
        f.create_group(split + "_timestamps").create_dataset(key, data=t)
        f.create_group(split + "_addresses").create_dataset(key, data=ch.astype(np.int16))
print(out)
