#!/usr/bin/env python3
"""The neuron-model rows of `spikefuse-bench --neurons --peer PYTHON` as a Markdown table:
per row SpikeFuse's training samples/s, the best PyTorch peer formulation's and its name, and
the ratio (every formulation's samples/s is in the run's log: peer_bench.py prints a line per
row on stderr). Standard library only; bench/run.sh writes it to $OUT-neurons.md.

    python3 bench/neuron_table.py bench/results-neurons.json [OUT.md]
"""
import json
import os
import sys


def table(rows):
    ours = {r["model"]: r for r in rows if r["implementation"] == "spikefuse"}
    peers = {r["model"]: r for r in rows if r["implementation"] != "spikefuse"}
    lines = ["| model | SpikeFuse samples/s | best peer samples/s | best peer formulation | ratio | "
             "RSS MB (SpikeFuse / peer) |", "|---|---:|---:|---|---:|---|"]
    for model, s in ours.items():
        p = peers.get(model)
        if p is None:
            lines.append(f"| {model} | {s['samples_per_second']:.1f} | – | – | – | {s['peak_rss_mb']:.0f} / – |")
            continue
        formulation = p["implementation"].removeprefix("pytorch-neuron-")
        lines.append(f"| {model} | {s['samples_per_second']:.1f} | {p['samples_per_second']:.1f} | {formulation} | "
                     f"{s['samples_per_second'] / p['samples_per_second']:.2f}x | "
                     f"{s['peak_rss_mb']:.0f} / {p['peak_rss_mb']:.0f} |")
    return "\n".join(lines) + "\n"


def main(argv):
    if len(argv) not in (2, 3):
        raise SystemExit(__doc__)
    try:
        with open(argv[1]) as f:
            rows = json.load(f)
    except (OSError, ValueError) as error:
        raise SystemExit(f"{argv[1]}: cannot read the neuron-model results: {error}")
    text = table(rows)
    print(text, end="")
    if len(argv) == 3:
        with open(argv[2] + ".tmp", "w") as f:
            f.write(text)
        os.replace(argv[2] + ".tmp", argv[2])


if __name__ == "__main__":
    main(sys.argv)
