"""Writes Tests/EventIOTests/Fixtures/shd-h5py-{float16,float32}.h5: small files in the
Spiking Heidelberg Digits layout, written by h5py the way the published files are laid out
(`spikes/times` variable-length float arrays in seconds, `spikes/units` variable-length uint16,
`labels` uint8, `extra/keys` strings), for SHDFile's reader tests. Run once; the files are
committed."""
import os

import h5py
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "EventIOTests", "Fixtures")

for dtype in (np.float16, np.float32):
    path = os.path.join(OUT, f"shd-h5py-{np.dtype(dtype).name}.h5")
    with h5py.File(path, "w") as f:
        times = f.create_dataset("spikes/times", (3,), dtype=h5py.vlen_dtype(dtype))
        units = f.create_dataset("spikes/units", (3,), dtype=h5py.vlen_dtype(np.uint16))
        times[0] = np.array([0.0, 0.25, 0.5], dtype)
        units[0] = np.array([0, 699, 12], np.uint16)
        times[1] = np.array([], dtype)
        units[1] = np.array([], np.uint16)
        times[2] = np.array([0.125], dtype)
        units[2] = np.array([350], np.uint16)
        f.create_dataset("labels", data=np.array([3, 19, 10], np.uint8))
        f.create_dataset("extra/keys", data=[f"digit-{i}".encode() for i in range(20)])
    print("wrote", path)
