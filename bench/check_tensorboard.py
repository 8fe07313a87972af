"""Reads a run's TensorBoard logs with tensorboard's own reader (EventAccumulator) and checks
every scalar against the run's metrics.jsonl (issue 44).

    python3 -m venv /tmp/tb && /tmp/tb/bin/pip install tensorboard
    /tmp/tb/bin/python bench/check_tensorboard.py runs/demo [more run directories or experiment folders]

For each run directory (a folder with metrics.jsonl; experiment folders are searched) it
expects, per epoch e at step e: loss/train/<term>, loss/test/<term>, accuracy/test/<head>,
attention/w_v and w_a, learning_rate, samples_per_second, and per spiking layer firing_rate,
never_firing, membrane_mean, membrane_std, in_surrogate_window and gradient_norm; and each
logged batch loss at its step. Values are compared as float32 (TensorBoard stores float32),
and no tag may hold a step twice or a step metrics.jsonl does not have. Exit status 1 on
any difference.
"""
import json
import pathlib
import sys

import numpy as np
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator


def expected_scalars(metrics):
    """{tag: {step: value}} as SpikeFuse's TensorBoardLog derives them from metrics.jsonl."""
    out = {}

    def add(tag, step, value):
        if value is not None:
            out.setdefault(tag, {})[step] = value

    for m in metrics:
        e = m["epoch"]
        for b in m.get("batch_losses") or []:
            for term, v in b["loss"].items():
                add("batch/loss/" + term, b["step"], v)
        for term, v in m["train_loss"].items():
            add("loss/train/" + term, e, v)
        for term, v in m["test_loss"].items():
            add("loss/test/" + term, e, v)
        for head in ("visual", "audio", "fusion"):
            add("accuracy/test/" + head, e, m.get("test_" + head))
        if m.get("attention"):
            add("attention/w_v", e, m["attention"][0])
            add("attention/w_a", e, m["attention"][1])
        add("learning_rate", e, m.get("learning_rate"))
        add("samples_per_second", e, m["samples_per_second"])
        for a in m.get("activity") or []:
            layer = a["layer"]
            add("firing_rate/" + layer, e, a["firing_rate"])
            add("never_firing/" + layer, e, a["silent_fraction"])
            add("membrane_mean/" + layer, e, a["membrane_mean"])
            add("membrane_std/" + layer, e, a["membrane_std"])
            add("in_surrogate_window/" + layer, e, a["surrogate_fraction"])
        for layer, v in (m.get("gradient_norms") or {}).items():
            add("gradient_norm/" + layer, e, v)
    return out


def check(run):
    metrics = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines() if line.strip()]
    expected = expected_scalars(metrics)
    acc = EventAccumulator(str(run / "tb"), size_guidance={"scalars": 0})   # 0: keep every event
    acc.Reload()
    got_tags = set(acc.Tags()["scalars"])
    problems = []
    if got_tags != set(expected):
        problems.append(f"tags only in the log: {sorted(got_tags - set(expected))}; "
                        f"only in metrics.jsonl: {sorted(set(expected) - got_tags)}")
    values = 0
    for tag in sorted(got_tags & set(expected)):
        events = acc.Scalars(tag)
        steps = [ev.step for ev in events]
        if len(steps) != len(set(steps)):
            problems.append(f"{tag}: a step logged twice ({steps})")
        if sorted(steps) != sorted(expected[tag]):
            problems.append(f"{tag}: steps {steps}, metrics.jsonl has {sorted(expected[tag])}")
        for ev in events:
            want = expected[tag].get(ev.step)
            if want is not None and np.float32(want) != np.float32(ev.value):
                problems.append(f"{tag} step {ev.step}: log {ev.value}, metrics.jsonl {want}")
            values += 1
    print(f"{run}: {len(metrics)} epochs, {len(got_tags)} tags, {values} scalars read by EventAccumulator: "
          + ("all equal to metrics.jsonl" if not problems else f"{len(problems)} PROBLEMS"))
    for p in problems[:20]:
        print("  " + p)
    return not problems


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    runs = []
    for arg in sys.argv[1:]:
        root = pathlib.Path(arg)
        runs += sorted({p.parent for p in root.rglob("metrics.jsonl")})
    if not runs:
        sys.exit(f"no metrics.jsonl under {sys.argv[1:]}")
    ok = all([check(r) for r in runs])
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
