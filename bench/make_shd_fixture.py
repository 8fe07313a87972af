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


# --- issue 40/41: SSC-shaped and hostile SHD files (all small; also written by h5py) ---
import struct

SSC_NAMES = ["backward", "bed", "bird", "cat", "dog", "down", "eight", "five", "follow", "forward",
             "four", "go", "happy", "house", "learn", "left", "marvin", "nine", "no", "off", "on", "one",
             "right", "seven", "sheila", "six", "stop", "three", "tree", "two", "up", "visual", "wow",
             "yes", "zero"]
SHD_NAMES = [f"english-{w}" for w in ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")] \
    + [f"german-{w}" for w in ("null", "eins", "zwei", "drei", "vier", "fuenf", "sechs", "sieben", "acht", "neun")]


def write_layout(path, times, units, labels, keys, label_dtype=np.uint8):
    """spikes/times (float32 s), spikes/units (uint16), labels, extra/keys (bytes, as published)."""
    with h5py.File(path, "w") as f:
        t = f.create_dataset("spikes/times", (len(times),), dtype=h5py.vlen_dtype(np.float32))
        u = f.create_dataset("spikes/units", (len(units),), dtype=h5py.vlen_dtype(np.uint16))
        for i, (a, b) in enumerate(zip(times, units)):
            t[i] = np.array(a, np.float32)
            u[i] = np.array(b, np.uint16)
        f.create_dataset("labels", data=np.array(labels, label_dtype))
        f.create_dataset("extra/keys", data=[k.encode() for k in keys])
    print("wrote", path)


# SSC: 35 classes; labels 0, 34, 17 with their names in extra/keys.
write_layout(os.path.join(OUT, "ssc-h5py.h5"), [[0.0, 0.5], [0.25], []], [[1, 2], [699], []], [0, 34, 17], SSC_NAMES)
# SHD with its 20 class names: every class once (labels 0…19), one spike each.
write_layout(os.path.join(OUT, "shd20-h5py.h5"), [[0.01 * (i + 1)] for i in range(20)], [[i * 30] for i in range(20)],
             list(range(20)), SHD_NAMES)
# A float label of 1.5 (HDF5 would truncate it to 1 when asked for integers).
write_layout(os.path.join(OUT, "shd-float-label.h5"), [[0.0], [0.1], [0.2]], [[1], [2], [3]],
             [3.0, 1.5, 2.0], SHD_NAMES, label_dtype=np.float64)
# Sample 1's times go backwards (0.3 s, then 0.1 s).
write_layout(os.path.join(OUT, "shd-unsorted-times.h5"), [[0.0, 0.1], [0.3, 0.1, 0.2]], [[1, 2], [3, 4, 5]],
             [0, 1], SHD_NAMES)

# Damaged variable-length heaps: one intact 4-sample file, then its bytes patched at the
# element records of spikes/times and at the global heap collection they point to.
base = os.path.join(OUT, "shd-heap-intact.h5")
write_layout(base, [[0.0, 0.1 * (i + 1), 0.2 * (i + 1)] for i in range(4)], [[1, 2, 3 + i] for i in range(4)],
             [3, 19, 10, 1], SHD_NAMES)
with h5py.File(base, "r") as f:
    records = f["spikes/times"].id.get_offset()
data = open(base, "rb").read()
length, heap, index = struct.unpack_from("<IQI", data, records)   # sample 0: 3 values in object `index`
first_object = heap + 16


def patched(name, edits):
    b = bytearray(data)
    for offset, value in edits:
        b[offset:offset + len(value)] = value
    path = os.path.join(OUT, f"shd-heap-{name}.h5")
    open(path, "wb").write(b)
    print("wrote", path)


# Sample 2 names heap object 999, which its collection does not hold (libhdf5 1.10 reads it anyway).
patched("missing-object", [(records + 2 * 16 + 12, struct.pack("<I", 999))])
# The collection's objects zeroed: libhdf5 1.10 loops on it (the check's child hit its time limit).
patched("zeroed-objects", [(first_object, bytes(3 * 16))])
# The collection signature damaged: every sample fails to read.
patched("bad-signature", [(heap, b"XXXX")])
# Sample 1's heap reference points past the end of the file.
patched("past-end", [(records + 16 + 4, struct.pack("<Q", 1 << 40))])
# Sample 3 claims 1000 values, its heap object holds 3.
patched("wrong-length", [(records + 3 * 16, struct.pack("<I", 1000))])
# The collection claims 32 bytes (the smallest HDF5 writes is 4096).
patched("small-collection", [(heap + 8, struct.pack("<Q", 32))])
