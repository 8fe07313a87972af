#!/usr/bin/env python3
"""Writes the small AEDAT 3.1 fixtures of Tests/EventIOTests/Fixtures/aedat31/ and, beside
each, the events bench/aedat31_reference.py (an independent numpy decoder) reads from it.

    python3 bench/make_aedat31_fixtures.py      # from the repository root; seed fixed

The files are built byte by byte from the format description, with what real cAER files
hold: comment lines in the header, special (type 0), IMU6 (type 3, 36-byte) and frame
(type 2, large events) packets between the polarity packets, events with the valid bit clear,
a packet whose capacity exceeds its eventNumber (padding with garbage), and a packet with
eventTSOverflow 1 (times past 2³¹ µs).
"""
import os
import struct
import subprocess
import sys

import numpy as np

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "EventIOTests", "Fixtures", "aedat31")
rng = np.random.default_rng(41)


def packet(etype, size, overflow, body, number, capacity=None, valid=None, source=1, ts_offset=4):
    capacity = number if capacity is None else capacity
    valid = number if valid is None else valid
    assert len(body) == capacity * size
    return struct.pack("<hhiiiiii", etype, source, size, ts_offset, overflow, capacity, number, valid) + body


def polarity_body(t, x, y, p, valid):
    data = (x.astype(np.uint32) << 17) | (y.astype(np.uint32) << 2) | (p.astype(np.uint32) << 1) | valid.astype(np.uint32)
    rec = np.zeros(len(t), dtype=[("data", "<u4"), ("ts", "<i4")])
    rec["data"] = data
    rec["ts"] = t
    return rec.tobytes()


def polarity_packet(t_low, width, height, overflow=0, invalid_every=0, padding=0, source=1):
    n = len(t_low)
    x = rng.integers(0, width, n)
    y = rng.integers(0, height, n)
    p = rng.integers(0, 2, n)
    valid = np.ones(n, dtype=np.uint32)
    if invalid_every:
        valid[::invalid_every] = 0
    body = polarity_body(t_low, x, y, p, valid)
    body += rng.integers(0, 256, 8 * padding, dtype=np.uint8).tobytes()   # beyond eventNumber
    return packet(1, 8, overflow, body, n, capacity=n + padding, valid=int(valid.sum()), source=source)


def header(source_name):
    return ("#!AER-DAT3.1\r\n#Format: RAW\r\n#Source 1: %s\r\n#Start-Time: 2017-01-01 12:00:00 (TZ+0000)\r\n"
            "# a comment line\r\n#!END-HEADER\r\n" % source_name).encode()


def times(start, n):
    return (start + np.cumsum(rng.integers(0, 40, n))).astype(np.int64)


def gesture_like():
    out = header("DVS128")
    out += packet(0, 8, 0, struct.pack("<Ii", (1 << 1) | 1, 0), 1)             # special: timestamp reset
    t = times(1000, 300)
    out += polarity_packet(t, 128, 128, invalid_every=7)
    out += packet(3, 36, 0, rng.integers(0, 256, 2 * 36, dtype=np.uint8).tobytes(), 2)   # IMU6
    t = times(int(t[-1]), 200)
    out += polarity_packet(t, 128, 128, padding=5)
    out += packet(2, 1000, 0, rng.integers(0, 256, 1000, dtype=np.uint8).tobytes(), 1)   # a frame
    out += packet(1, 8, 0, b"", 0)                                                    # empty polarity
    t = times(2**31 - 3000, 100)
    t = t[t < 2**31]
    out += polarity_packet(t, 128, 128)
    t = times(5, 150)                                                                 # after 2³¹: low bits
    out += polarity_packet(t, 128, 128, overflow=1, invalid_every=11)
    return out


def davis346():
    out = header("DAVIS346B")
    t = times(0, 400)
    out += polarity_packet(t[:250], 346, 260)
    out += packet(0, 8, 0, struct.pack("<Ii", (2 << 1) | 1, 7), 1)
    out += polarity_packet(t[250:], 346, 260, invalid_every=5)
    # Pixels at the sensor's far corner, so a wrong size would be caught.
    out += packet(1, 8, 0, polarity_body(np.array([int(t[-1]) + 1, int(t[-1]) + 2]), np.array([345, 0]),
                                         np.array([259, 0]), np.array([1, 0]), np.array([1, 1])), 2)
    return out


def main():
    os.makedirs(OUT, exist_ok=True)
    reference = os.path.join(os.path.dirname(__file__), "aedat31_reference.py")
    for name, make in [("gesture-like", gesture_like), ("davis346", davis346)]:
        path = os.path.join(OUT, name + ".aedat")
        with open(path, "wb") as f:
            f.write(make())
        subprocess.run([sys.executable, reference, path, os.path.join(OUT, name + ".csv")], check=True)
        print(path, os.path.getsize(path), "bytes")


if __name__ == "__main__":
    main()
