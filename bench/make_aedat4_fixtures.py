#!/usr/bin/env python3
"""Writes the AEDAT 4.0 fixtures of Tests/EventIOTests/Fixtures/aedat4/ with iniVation's
dv-processing (pip install dv-processing; 2.0.4 made the committed files) and, beside each,
the events dv-processing reads back from it as CSV `t,x,y,p` (t Unix µs, origin top-left,
p 1 = ON).

    python3 bench/make_aedat4_fixtures.py      # from the repository root; seed fixed

Three compressions (none, LZ4, Zstd) of the same events on a 346×260 sensor, written in
several packets, with a trigger stream interleaved in the LZ4 one (a stream the reader skips).

    python3 bench/make_aedat4_fixtures.py multistream

writes only multistream.aedat4 (+ .csv): a DAVIS-like file of three streams, events (id 0),
frames (FRME, id 1) and IMU (IMUS, id 2), interleaved, LZ4; the reader must find the events by
their typeIdentifier EVTS and skip the others' packets by their size.
"""
import os
import sys

import dv_processing as dv
import numpy as np

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "EventIOTests", "Fixtures", "aedat4")
WIDTH, HEIGHT = 346, 260


def batches(rng):
    t = 1_700_000_000_000_000 + np.cumsum(rng.integers(0, 30, 1500)).astype(np.int64)
    x = rng.integers(0, WIDTH, t.size)
    y = rng.integers(0, HEIGHT, t.size)
    p = rng.integers(0, 2, t.size)
    x[-1], y[-1] = WIDTH - 1, HEIGHT - 1            # the far corner, so a wrong size shows
    for start in range(0, t.size, 400):              # four packets
        store = dv.EventStore()
        for i in range(start, min(start + 400, t.size)):
            store.push_back(int(t[i]), int(x[i]), int(y[i]), bool(p[i]))
        yield store


def write(name, compression, triggers):
    path = os.path.join(OUT, name + ".aedat4")
    if os.path.exists(path):
        os.remove(path)
    config = dv.io.MonoCameraWriter.Config("DAVIS346_fixture", compression)
    config.addEventStream((WIDTH, HEIGHT))
    if triggers:
        config.addTriggerStream()
    writer = dv.io.MonoCameraWriter(path, config)
    for store in batches(np.random.default_rng(4)):
        writer.writeEvents(store)
        if triggers:
            writer.writeTrigger(dv.Trigger(store.getLowestTime(), dv.TriggerType.EXTERNAL_SIGNAL_RISING_EDGE))
    del writer                                       # closes the file (writes the FTAB)
    return path


def read_back(path):
    reader = dv.io.MonoCameraRecording(path)
    rows = []
    while reader.isRunning():
        events = reader.getNextEventBatch()
        if events is not None:
            for e in events.numpy():
                rows.append(f"{e['timestamp']},{e['x']},{e['y']},{int(e['polarity'])}")
    with open(path.replace(".aedat4", ".csv"), "w") as f:
        f.write("t,x,y,p\n" + "\n".join(rows) + "\n")
    return len(rows)


def write_multistream():
    path = os.path.join(OUT, "multistream.aedat4")
    if os.path.exists(path):
        os.remove(path)
    size = (32, 24)
    config = dv.io.MonoCameraWriter.Config("DAVIS_multistream_fixture", dv.CompressionType.LZ4)
    config.addFrameStream(size)                      # dv-processing numbers them events 0,
    config.addImuStream()                            # frames 1, IMU 2 whatever the order
    config.addEventStream(size)
    writer = dv.io.MonoCameraWriter(path, config)
    rng = np.random.default_rng(5)
    t = 1_700_000_000_000_000
    for k in range(6):
        image = rng.integers(0, 256, (size[1], size[0]), dtype=np.uint8)
        writer.writeFrame(dv.Frame(t, image))
        for i in range(3):
            writer.writeImu(dv.IMU(t + 1000 * i, 25.0, 0.0, 0.0, 1.0, 0.1 * k, 0.0, 0.0, 0.0, 0.0, 0.0))
        store = dv.EventStore()
        for i in range(100):
            t += int(rng.integers(0, 50))
            store.push_back(t, int(rng.integers(0, size[0])), int(rng.integers(0, size[1])), bool(rng.integers(0, 2)))
        writer.writeEvents(store)
        t += 1
    del writer
    print(path, os.path.getsize(path), "bytes,", read_back(path), "events")


def main():
    os.makedirs(OUT, exist_ok=True)
    if sys.argv[1:] == ["multistream"]:
        write_multistream()
        return
    for name, compression, triggers in [("none", dv.CompressionType.NONE, False),
                                        ("lz4", dv.CompressionType.LZ4, True),
                                        ("zstd", dv.CompressionType.ZSTD, False)]:
        path = write(name, compression, triggers)
        print(path, os.path.getsize(path), "bytes,", read_back(path), "events")


if __name__ == "__main__":
    main()
