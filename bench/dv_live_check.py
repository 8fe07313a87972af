#!/usr/bin/env python3
"""The live DV network stream, checked against iniVation's own writer on loopback.

dv-processing's `dv.io.NetworkWriter` (pip install dv-processing; 2.0.4 made the committed
files) is the server the DV software's network output uses. This script starts one on
127.0.0.1, connects a plain TCP client, sends event batches, and either

    python3 bench/dv_live_check.py capture          # (a) from the repository root
        saves the exact bytes the client received to
        Tests/EventIOTests/Fixtures/aedat4/dv-network-stream{,-lz4}.bin and the events sent
        to dv-network-stream.csv (t,x,y,p: t Unix µs, origin top-left, p 1 = ON);
    python3 bench/dv_live_check.py live [NETWORK] [--bin-us 2000] [--spikefuse PATH]
        (b) runs `spikefuse stream NETWORK --tcp 127.0.0.1:PORT --windows 5` against the
        writer live and checks its decisions equal `spikefuse stream NETWORK --file` on the
        same events written to an AEDAT 4.0 file by dv-processing. NETWORK defaults to
        bench/live-check-network.json (T = 8, input [2, 16, 16], a threshold of 0.05 so that
        its random weights spike), or give a run directory.

Events: blobs of 4 shapes moving across a 64×48 sensor, one shape per 16 ms, 2 400 events in
12 batches; seeded, so the capture is the same every run.
"""
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

import dv_processing as dv
import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "Tests", "EventIOTests", "Fixtures", "aedat4")
WIDTH, HEIGHT = 64, 48
T0 = 1_700_000_000_000_000


def event_batches(seed=7):
    """12 batches of 200 events: a blob whose shape changes every 16 ms (4 shapes)."""
    rng = np.random.default_rng(seed)
    t = T0 + np.sort(rng.integers(0, 96_000, 2400)).astype(np.int64)
    shape = ((t - T0) // 16_000) % 4
    centre_x = np.where(shape % 2 == 0, 16, 46) + rng.integers(-6, 7, t.size)
    centre_y = np.where(shape < 2, 12, 34) + rng.integers(-6, 7, t.size)
    x = np.clip(centre_x, 0, WIDTH - 1)
    y = np.clip(centre_y, 0, HEIGHT - 1)
    p = (rng.random(t.size) < np.where(shape % 3 == 0, 0.8, 0.3)).astype(np.int64)
    x[-1], y[-1] = WIDTH - 1, HEIGHT - 1                 # the far corner, so a wrong size shows
    for start in range(0, t.size, 200):
        store = dv.EventStore()
        for i in range(start, start + 200):
            store.push_back(int(t[i]), int(x[i]), int(y[i]), bool(p[i]))
        yield store


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(port, compression, client_connected=None, linger=0.5):
    """A NetworkWriter on 127.0.0.1:port; waits for one client, sends every batch, then
    waits until its queue is empty. Returns the writer (its server closes when deleted)."""
    stream = dv.io.Stream.EventStream(0, "events", "DVXplorer_live_check", (WIDTH, HEIGHT))
    stream.setCompression(compression)
    writer = dv.io.NetworkWriter("127.0.0.1", port, stream)
    if client_connected:
        client_connected()
    deadline = time.time() + 10
    while writer.getClientCount() == 0:
        if time.time() > deadline:
            raise SystemExit("no client connected within 10 s")
        time.sleep(0.01)
    time.sleep(0.2)                                      # the header goes out on connection
    for store in event_batches():
        writer.writeEvents(store)
        time.sleep(0.005)
    while writer.getQueuedPacketCount() > 0:
        time.sleep(0.01)
    time.sleep(linger)
    return writer


def receive_all(port, quiet=0.5):
    """Connects, reads until the server has been quiet for `quiet` seconds; the bytes."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.settimeout(quiet)
    data = b""
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            if data:
                break
            continue
        if not chunk:
            break
        data += chunk
    s.close()
    return data


def capture():
    os.makedirs(OUT, exist_ok=True)
    writers = []        # kept: deleting a NetworkWriter whose client has left can hang (2.0.4)
    for suffix, compression in [("", dv.CompressionType.NONE), ("-lz4", dv.CompressionType.LZ4)]:
        port = free_port()
        received = {}
        client = threading.Thread(target=lambda: received.setdefault("bytes", receive_all(port)), daemon=True)
        writer = serve(port, compression, client_connected=client.start)
        client.join()
        writers.append(writer)
        path = os.path.join(OUT, f"dv-network-stream{suffix}.bin")
        with open(path, "wb") as f:
            f.write(received["bytes"])
        print(path, len(received["bytes"]), "bytes")
    rows = [f"{e['timestamp']},{e['x']},{e['y']},{int(e['polarity'])}"
            for store in event_batches() for e in store.numpy()]
    with open(os.path.join(OUT, "dv-network-stream.csv"), "w") as f:
        f.write("t,x,y,p\n" + "\n".join(rows) + "\n")
    print(len(rows), "events sent")


def decisions(output):
    return [line for line in output.splitlines() if line.startswith("window ")]


def live(network, bin_us, spikefuse):
    """Runs `spikefuse stream --tcp` against a live writer until it has decided the 5 whole
    windows the events fill (T·d = 16 ms with T = 8, d = 2000 µs), then the same events from
    a file written by dv-processing through `--file`; 0 when the decisions agree."""
    port = free_port()
    result = {}

    def client():
        time.sleep(0.3)
        result["run"] = subprocess.run([spikefuse, "stream", network, "--tcp", f"127.0.0.1:{port}",
                                        "--bin-us", str(bin_us), "--timeout", "5", "--windows", "5"],
                                       capture_output=True, text=True, timeout=60)
    thread = threading.Thread(target=client, daemon=True)
    writer = serve(port, dv.CompressionType.LZ4, client_connected=thread.start, linger=0.2)
    thread.join()
    run = result["run"]
    print(run.stdout, run.stderr, sep="")
    # The same events through a file, dv-processing's writer again.
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "same.aedat4")
        config = dv.io.MonoCameraWriter.Config("DVXplorer_live_check", dv.CompressionType.NONE)
        config.addEventStream((WIDTH, HEIGHT))
        w = dv.io.MonoCameraWriter(path, config)
        for store in event_batches():
            w.writeEvents(store)
        del w
        offline = subprocess.run([spikefuse, "stream", network, "--file", path, "--bin-us", str(bin_us)],
                                 capture_output=True, text=True, timeout=60)
    live_windows, file_windows = decisions(run.stdout), decisions(offline.stdout)[:5]
    same = run.returncode == 0 and len(live_windows) == 5 and live_windows == file_windows
    print("live decisions equal the file's:", same, f"({len(live_windows)} windows)")
    assert writer is not None  # kept open: deleting a NetworkWriter can hang (see capture); main ends with os._exit
    return 0 if same else 1


def main():
    if len(sys.argv) >= 2 and sys.argv[1] == "capture":
        capture()
        sys.stdout.flush()
        os._exit(0)     # without the writers' destructors (see capture)
    elif len(sys.argv) >= 2 and sys.argv[1] == "live":
        args = sys.argv[2:]
        if not args or args[0].startswith("--"):
            args = [os.path.join(ROOT, "bench", "live-check-network.json")] + args
        bin_us = int(args[args.index("--bin-us") + 1]) if "--bin-us" in args else 2000
        spikefuse = args[args.index("--spikefuse") + 1] if "--spikefuse" in args else \
            os.path.join(ROOT, ".build", "release", "spikefuse")
        status = live(args[0], bin_us, spikefuse)
        sys.stdout.flush()
        os._exit(status)
    else:
        print(__doc__)
        sys.exit(2)


if __name__ == "__main__":
    main()
