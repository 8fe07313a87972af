#!/usr/bin/env python3
"""An independent AEDAT 3.1 polarity decoder (numpy), written from the cAER/libcaer format
description, to check SpikeFuse's Sources/EventIO/AEDAT31.swift against.

    python3 bench/aedat31_reference.py FILE.aedat [OUT.csv]

Prints (or writes) the polarity events as CSV `t,x,y,p`: t in µs = (eventTSOverflow << 31) |
timestamp, x = data bits 17–31, y = data bits 2–16 (origin top-left), p = data bit 1
(1 = ON). Only the first eventNumber events of each type-1 packet are read, and of those only
the ones whose valid bit (data bit 0) is set; other packet types are skipped by
eventCapacity × eventSize. No Swift code was consulted; the rules follow libcaer's
documented packet header and polarity event layout.
"""
import sys

import numpy as np

HEADER = np.dtype([("type", "<i2"), ("source", "<i2"), ("size", "<i4"), ("ts_offset", "<i4"),
                   ("ts_overflow", "<i4"), ("capacity", "<i4"), ("number", "<i4"), ("valid", "<i4")])
POLARITY = np.dtype([("data", "<u4"), ("ts", "<i4")])


def decode(path):
    raw = open(path, "rb").read()
    if not raw.startswith(b"#!AER-DAT3.1"):
        raise ValueError(f"{path}: not AEDAT 3.1")
    end = raw.index(b"#!END-HEADER")
    pos = raw.index(b"\n", end) + 1
    chunks = []
    while pos < len(raw):
        head = np.frombuffer(raw, dtype=HEADER, count=1, offset=pos)[0]
        body = pos + HEADER.itemsize
        if head["type"] == 1:
            ev = np.frombuffer(raw, dtype=POLARITY, count=int(head["number"]), offset=body)
            ev = ev[(ev["data"] & 1) == 1]
            t = (np.int64(head["ts_overflow"]) << np.int64(31)) | ev["ts"].astype(np.int64)
            x = (ev["data"] >> 17).astype(np.int64)
            y = ((ev["data"] >> 2) & 0x7FFF).astype(np.int64)
            p = ((ev["data"] >> 1) & 1).astype(np.int64)
            chunks.append(np.stack([t, x, y, p], axis=1))
        pos = body + int(head["capacity"]) * int(head["size"])
    return np.concatenate(chunks) if chunks else np.zeros((0, 4), dtype=np.int64)


def main():
    events = decode(sys.argv[1])
    lines = ["t,x,y,p"] + [f"{t},{x},{y},{p}" for t, x, y, p in events.tolist()]
    text = "\n".join(lines) + "\n"
    if len(sys.argv) > 2:
        open(sys.argv[2], "w").write(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
