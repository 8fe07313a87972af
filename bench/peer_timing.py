"""The timing loop and JSON line every Python peer shares (peer_bench.py, jax_peer.py).
Standard library only."""
import json
import os
import resource
import time


def timed(one_batch, seconds):
    """Runs one_batch until `seconds` pass (at least twice): (batches, wall seconds, CPU seconds)."""
    batches, start, cpu_start = 0, time.perf_counter(), time.process_time()
    while True:
        one_batch()
        batches += 1
        elapsed = time.perf_counter() - start
        if batches >= 2 and elapsed >= seconds:
            return batches, elapsed, time.process_time() - cpu_start


def result_line(data, model, task, batch, measured, **fields):
    """One configuration's JSON line: `measured` = timed(...)'s (batches, wall s, CPU s); the
    activity is the data file's name; `fields` (implementation, threads, ...) are added as given."""
    batches, elapsed, cpu = measured
    samples = batches * batch
    line = {
        "model": model, "task": task, "batch": batch, "activity": os.path.splitext(os.path.basename(data))[0],
        "samples_per_second": samples / elapsed, "samples_per_cpu_second": samples / cpu,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        "iterations": batches, "seconds": elapsed, "cpu_seconds": cpu, "load_average_1min": os.getloadavg()[0],
        "latency_ms": elapsed / samples * 1000 if batch == 1 else None,
    }
    line.update(fields)
    return json.dumps(line, sort_keys=True)
