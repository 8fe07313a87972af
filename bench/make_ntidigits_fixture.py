#!/usr/bin/env python3
"""Writes Tests/EventIOTests/Fixtures/ntidigits-mini.hdf5: a tiny file in the N-TIDIGITS
layout, made with h5py the way the real n-tidigits.hdf5 is (float64 timestamps in seconds,
variable-length byte-string labels). The test split uses fixed-length labels and float64
addresses to exercise the reader's other paths.

Sample i (i = 0, 1, … in the key lists below) of a split has 5 + i events;
event j has t = 0.0125 * j + 0.5 s and channel (7 * j + i) % 64.
Usage: python3 bench/make_ntidigits_fixture.py
"""
import os
import h5py
import numpy as np

TRAIN = ["man-im-a-7", "woman-ac-b-z", "man-ab-a-o", "woman-xy-a-1z9"]
TEST = ["man-cd-b-3", "woman-ef-a-z"]

here = os.path.dirname(os.path.abspath(__file__))
out = os.path.join(here, "..", "Tests", "EventIOTests", "Fixtures", "ntidigits-mini.hdf5")

with h5py.File(out, "w") as f:
    f.create_dataset("train_labels", data=[k.encode() for k in TRAIN],
                     dtype=h5py.special_dtype(vlen=bytes))
    f.create_dataset("test_labels", data=np.array([k.encode() for k in TEST]))  # fixed-length 'S'
    for split, keys, address_type in (("train", TRAIN, np.int32), ("test", TEST, np.float64)):
        ts = f.create_group(split + "_timestamps")
        ad = f.create_group(split + "_addresses")
        for i, key in enumerate(keys):
            j = np.arange(5 + i)
            ts.create_dataset(key, data=(0.0125 * j + 0.5).astype(np.float64))
            ad.create_dataset(key, data=((7 * j + i) % 64).astype(address_type))
print(out, os.path.getsize(out), "bytes")

# A second file with one broken sample of each kind, for the reader's error paths.
bad = os.path.join(here, "..", "Tests", "EventIOTests", "Fixtures", "ntidigits-bad.hdf5")
BAD = ["man-aa-a-1", "man-bb-a-2", "man-cc-a-3", "man-dd-a-4", "man-ee-a-x"]
with h5py.File(bad, "w") as f:
    f.create_dataset("train_labels", data=[k.encode() for k in BAD], dtype=h5py.special_dtype(vlen=bytes))
    f.create_dataset("test_labels", data=[b"man-ff-a-5"], dtype=h5py.special_dtype(vlen=bytes))
    ts, ad = f.create_group("train_timestamps"), f.create_group("train_addresses")
    f.create_group("test_timestamps"); f.create_group("test_addresses")   # man-ff-a-5 missing
    ts.create_dataset("man-aa-a-1", data=np.array([0.1, 0.2, 0.3]))
    ad.create_dataset("man-aa-a-1", data=np.array([1, 64, 2], dtype=np.int16))      # address 64
    ts.create_dataset("man-bb-a-2", data=np.array([0.1, 0.3, 0.2]))                 # decreasing
    ad.create_dataset("man-bb-a-2", data=np.array([1, 2, 3], dtype=np.uint8))
    ts.create_dataset("man-cc-a-3", data=np.array([0.1, 0.2]))
    ad.create_dataset("man-cc-a-3", data=np.array([1, 2, 3], dtype=np.uint8))       # length mismatch
    ts.create_dataset("man-dd-a-4", data=np.array([0.1, 0.2], dtype=np.float32))
    ad.create_dataset("man-dd-a-4", data=np.array([1.0, 2.5]))                      # non-integral
    ts.create_dataset("man-ee-a-x", data=np.array([0.1]))
    ad.create_dataset("man-ee-a-x", data=np.array([1], dtype=np.uint8))             # unknown digit
print(bad, os.path.getsize(bad), "bytes")

# A third with a key listed twice and a sample with no events (issue 18: a duplicate key was
# used twice, an empty sample trained on without a word).
dup = os.path.join(here, "..", "Tests", "EventIOTests", "Fixtures", "ntidigits-duplicate-empty.hdf5")
with h5py.File(dup, "w") as f:
    f.create_dataset("train_labels", data=[b"man-im-a-7", b"man-ab-a-3", b"man-im-a-7"], dtype=h5py.special_dtype(vlen=bytes))
    f.create_dataset("test_labels", data=[b"woman-ef-a-z"], dtype=h5py.special_dtype(vlen=bytes))
    for split, keys in (("train", ["man-im-a-7", "man-ab-a-3"]), ("test", ["woman-ef-a-z"])):
        ts, ad = f.create_group(split + "_timestamps"), f.create_group(split + "_addresses")
        for key in keys:
            n = 0 if key == "man-ab-a-3" else 4                                       # man-ab-a-3: no events
            ts.create_dataset(key, data=(0.1 * np.arange(n) + 0.2).astype(np.float64))
            ad.create_dataset(key, data=(np.arange(n) % 64).astype(np.uint8))
print(dup, os.path.getsize(dup), "bytes")
