#!/usr/bin/env python3
"""Where the digit sits in an MNIST-DVS recording: event centroid and the 2nd–98th
percentile x/y extent, overall and per 550 ms quarter (x = 127 − rawX, y = rawY as in
the MNIST-DVS scripts). Used to choose the joint dataset's default crop (docs/datasets.md).
Usage: python3 bench/digit_extent.py FILE.aedat
"""
import sys
import numpy as np

data = open(sys.argv[1], "rb").read()
o = 0
while data[o:o + 1] == b"#":
    o = data.index(b"\n", o) + 1
records = np.frombuffer(data[o:len(data) - (len(data) - o) % 8], dtype=">u4").reshape(-1, 2)
address, t = records[:, 0], records[:, 1]
x, y = 127 - ((address >> 1) & 0x7F), (address >> 8) & 0x7F
print("centroid x %.1f y %.1f" % (x.mean(), y.mean()))
print("overall x %s y %s" % (np.percentile(x, [2, 98]), np.percentile(y, [2, 98])))
for start in range(0, int(t.max()) + 1, 550_000):
    m = (t >= start) & (t < start + 550_000)
    if m.any():
        print("%5d ms: x %s y %s centroid (%.1f, %.1f)" % (start // 1000, np.percentile(x[m], [2, 98]),
              np.percentile(y[m], [2, 98]), x[m].mean(), y[m].mean()))
