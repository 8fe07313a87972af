#!/usr/bin/env python3
"""Turns bench/raw.jsonl (one JSON line per configuration and implementation, written by
bench/run.sh) into bench/results.json and the Markdown table bench/results.md, with the
SpikeFuse/PyTorch ratios of samples/s, samples per CPU-second and peak memory.

For each (activity, model, task, batch) the best SpikeFuse entry (time-batched or streaming)
is compared with the best PyTorch formulation (time-batched or loop). Standard library only.

    python3 bench/summarise.py bench/raw.jsonl bench/results.json bench/results.md
"""
import json
import sys


def main(argv):
    raw, out_json, out_md = argv[1:4]
    rows = [json.loads(line) for line in open(raw) if line.strip().startswith("{")]
    with open(out_json, "w") as f:
        json.dump(rows, f, indent=1, sort_keys=True)
    memory = {}
    for r in rows:
        if r["task"] == "train" and r["model"] == "multimodal" and r["activity"] == "trained" and r["batch"] == 32 \
                and not r["implementation"].startswith("jax"):   # JAX rows (JAX=...) are not in this table yet
            impl = "spikefuse" if r["implementation"].startswith("spikefuse") else "pytorch"
            t = r.get("timesteps", 64)
            memory[(t, impl)] = min(memory.get((t, impl), 1e30), r["peak_rss_mb"])
    groups = {}
    for r in rows:
        if r.get("timesteps", 64) != 64 and not r["model"].startswith("network:"):
            continue   # the paper's networks at other T: the memory table above
        key = (r["activity"], r["model"], r["batch"], "infer" if r["task"] == "stream" else r["task"])
        groups.setdefault(key, []).append(r)
    order = {"trained": 0, "rate02": 1, "rate05": 2, "rate10": 3, "rate20": 4}
    lines = [
        "| activity | model | task | batch | SpikeFuse samples/s | PyTorch samples/s | ratio | "
        "ratio per CPU-s | SpikeFuse peak MB | PyTorch peak MB (fastest / lowest) | memory ratio (vs lowest) | firing | load |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    print(f"{'activity':9} {'model':10} {'task':5} {'B':>3} {'SF/s':>9} {'PT/s':>9} {'ratio':>6} "
          f"{'cpu ratio':>9} {'SF MB':>7} {'PT MB':>7} {'mem':>5} {'firing':>7}")
    for key in sorted(groups, key=lambda k: (order.get(k[0], 9), k[1], k[3] != "train", -k[2])):
        activity, model, batch, task = key
        entries = groups[key]
        model = model.rsplit("/", 1)[-1].removesuffix(".json")   # network:bench/networks/X.json -> X
        sf = [e for e in entries if e["implementation"].startswith("spikefuse")]
        pt = [e for e in entries if e["implementation"].startswith("pytorch")]
        if not sf:
            continue
        best_sf = max(sf, key=lambda e: e["samples_per_second"])
        # Memory of the fastest entry on each side; the ratio is against the peer's LOWEST
        # peak of that configuration (the conservative comparison).
        sf_mem = best_sf["peak_rss_mb"]
        best_pt = max(pt, key=lambda e: e["samples_per_second"]) if pt else None

        def fmt(x, spec=".1f"):
            return "–" if x is None else format(x, spec)
        ratio = best_sf["samples_per_second"] / best_pt["samples_per_second"] if best_pt else None
        # (ratio per CPU-s: best SpikeFuse entry vs the peer's best samples per CPU-second)
        cpu_ratio = (best_sf["samples_per_cpu_second"] / max(e["samples_per_cpu_second"] for e in pt)) if pt else None
        pt_mem = best_pt["peak_rss_mb"] if pt else None
        pt_low = min(e["peak_rss_mb"] for e in pt) if pt else None
        mem_ratio = sf_mem / pt_low if pt_low else None
        sf_name = best_sf["implementation"].replace("spikefuse", "SF")
        pt_name = best_pt["implementation"].replace("pytorch-", "") if best_pt else ""
        lines.append(
            f"| {activity} | {model} | {task} | {batch} | {fmt(best_sf['samples_per_second'])} ({sf_name}) | "
            f"{fmt(best_pt and best_pt['samples_per_second'])} ({pt_name}) | {fmt(ratio, '.2f')}× | "
            f"{fmt(cpu_ratio, '.2f')}× | {sf_mem:.0f} | {fmt(pt_mem, '.0f')} / {fmt(pt_low, '.0f')} | {fmt(mem_ratio, '.2f')} | "
            f"{best_sf['firing_rate']:.3f} | {best_sf['load_average_1min']:.1f} |")
        print(f"{activity:9} {model:10} {task:5} {batch:3d} {best_sf['samples_per_second']:9.1f} "
              f"{fmt(best_pt and best_pt['samples_per_second']):>9} {fmt(ratio, '.2f'):>6} {fmt(cpu_ratio, '.2f'):>9} "
              f"{sf_mem:7.0f} {fmt(pt_mem, '.0f'):>7} {fmt(mem_ratio, '.2f'):>5} {best_sf['firing_rate']:7.3f}")
    steps = sorted({t for t, _ in memory})
    if steps:
        lines += ["", "Peak memory of multimodal training, batch 32, trained activity (MB; per sample = / 32):", "",
                  "| T | SpikeFuse MB | per sample | PyTorch MB | per sample | ratio |", "|---|---|---|---|---|---|"]
        for t in steps:
            a, b = memory.get((t, "spikefuse")), memory.get((t, "pytorch"))
            lines.append(f"| {t} | {a or 0:.0f} | {(a or 0) / 32:.1f} | {b or 0:.0f} | {(b or 0) / 32:.1f} | "
                         f"{(a / b) if a and b else float('nan'):.2f} |")
            print(f"memory T={t}: SpikeFuse {a} MB, PyTorch {b} MB")
    with open(out_md, "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"wrote {out_json} ({len(rows)} entries) and {out_md}")


if __name__ == "__main__":
    main(sys.argv)
