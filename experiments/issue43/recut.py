"""recut.py SRC DST trim Q | recut.py SRC DST pad: a copy of SRC/n-tidigits.hdf5 with each
recording's events changed, grabbed_data* linked (the visual recordings unchanged).

  trim Q  keep the events between the recording's Q and 1-Q quantiles of event time: frames of
          the result binned first..last event are the Q..1-Q span's frames (how the 1-99 %
          span was measured before the framing did it: `trim 0.01`).
  pad     repeat the first and last event k = n // 90 + 2 times each: binary frames are
          unchanged (a repeat lands in an occupied cell), and the 1st/99th percentiles of
          event time become the first/last event, so binary 1-99 % framing of the result is
          exactly SRC's first-to-last-event framing.
"""
import os
import sys

import h5py
import numpy as np


def recut(t, a, mode, q):
    if mode == "trim":
        lo, hi = np.quantile(t, [q, 1 - q])
        keep = (t >= lo) & (t <= hi)
        return t[keep], a[keep]
    r = len(t) // 90 + 2
    o = np.argsort(t, kind="stable")
    t, a = t[o], a[o]
    return (np.concatenate([np.repeat(t[:1], r), t, np.repeat(t[-1:], r)]),
            np.concatenate([np.repeat(a[:1], r), a, np.repeat(a[-1:], r)]))


def main():
    src, dst, mode = sys.argv[1], sys.argv[2], sys.argv[3]
    q = float(sys.argv[4]) if mode == "trim" else 0.0
    os.makedirs(dst, exist_ok=True)
    for d in os.listdir(src):
        if d.startswith("grabbed_data") and not os.path.exists(f"{dst}/{d}"):
            os.symlink(os.path.abspath(f"{src}/{d}"), f"{dst}/{d}")
    fi, fo = h5py.File(f"{src}/n-tidigits.hdf5"), h5py.File(f"{dst}/n-tidigits.hdf5", "w")
    for split in ["train", "test"]:
        fo[f"{split}_labels"] = fi[f"{split}_labels"][:]
        for k in fi[f"{split}_timestamps"]:
            t, a = recut(fi[f"{split}_timestamps"][k][:], fi[f"{split}_addresses"][k][:], mode, q)
            fo[f"{split}_timestamps/{k}"], fo[f"{split}_addresses/{k}"] = t, a


if __name__ == "__main__":
    main()
