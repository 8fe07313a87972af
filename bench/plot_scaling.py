#!/usr/bin/env python3
"""Draws bench/scaling.sh's results as SVG line charts (standard library only):

    python3 bench/plot_scaling.py bench/results-scaling.jsonl docs/img

scaling-time-vs-t.svg   training ms per sample against T (batch 32), log-log
scaling-memory-vs-t.svg training peak RSS (MB) against T (batch 32), log-log
scaling-time-vs-batch.svg training ms per sample against the batch (T 64 / 100), log-log
One line per network and implementation (SpikeFuse solid, the PyTorch peer dashed)."""
import json
import math
import os
import sys

COLOURS = {"multimodal": "#1f77b4", "shd-alif": "#d62728"}


def series(rows, x_key, fixed):
    out = {}
    for r in rows:
        if any(r.get(k) != v for k, v in fixed.items() if k != "timesteps_of"):
            continue
        net = "multimodal" if r["model"] == "multimodal" else os.path.basename(r["model"]).replace(".json", "")
        if "timesteps_of" in fixed and r["timesteps"] != fixed["timesteps_of"][net]:
            continue
        impl = "SpikeFuse" if r["implementation"].startswith("spikefuse") else "PyTorch (" + r["implementation"][8:] + ")"
        x = r["timesteps"] if x_key == "timesteps" else r["batch"]
        out.setdefault((net, impl), {})[x] = r
    return out


def chart(lines, value, title, xlabel, ylabel, path):
    w, h, left, right, top, bottom = 760, 400, 70, 300, 40, 50
    xs = sorted({x for pts in lines.values() for x in pts})
    ys = [value(r) for pts in lines.values() for r in pts.values()]
    lx0, lx1 = math.log(min(xs)), math.log(max(xs))
    ly0, ly1 = math.floor(math.log10(min(ys))), math.ceil(math.log10(max(ys)))
    px = lambda x: left + (math.log(x) - lx0) / max(lx1 - lx0, 1e-9) * (w - left - right)
    py = lambda y: h - bottom - (math.log10(y) - ly0) / max(ly1 - ly0, 1e-9) * (h - top - bottom)
    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">',
           f'<rect width="{w}" height="{h}" fill="white"/>',
           f'<text x="{w / 2 - 60}" y="22" font-size="14">{title}</text>']
    for d in range(ly0, ly1 + 1):
        y = py(10 ** d)
        svg.append(f'<line x1="{left}" y1="{y:.1f}" x2="{w - right}" y2="{y:.1f}" stroke="#ddd"/>')
        svg.append(f'<text x="{left - 8}" y="{y + 4:.1f}" text-anchor="end">{10 ** d:g}</text>')
    for x in xs:
        svg.append(f'<line x1="{px(x):.1f}" y1="{top}" x2="{px(x):.1f}" y2="{h - bottom}" stroke="#eee"/>')
        svg.append(f'<text x="{px(x):.1f}" y="{h - bottom + 16}" text-anchor="middle">{x}</text>')
    svg.append(f'<text x="{(left + w - right) / 2}" y="{h - 12}" text-anchor="middle">{xlabel}</text>')
    svg.append(f'<text x="16" y="{(top + h - bottom) / 2}" transform="rotate(-90 16 {(top + h - bottom) / 2})" '
               f'text-anchor="middle">{ylabel}</text>')
    for i, ((net, impl), pts) in enumerate(sorted(lines.items())):
        colour = COLOURS.get(net, "#333")
        dash = "" if impl == "SpikeFuse" else ' stroke-dasharray="6 4"'
        path_d = " ".join(f'{"M" if j == 0 else "L"}{px(x):.1f},{py(value(pts[x])):.1f}' for j, x in enumerate(sorted(pts)))
        svg.append(f'<path d="{path_d}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>')
        for x in pts:
            svg.append(f'<circle cx="{px(x):.1f}" cy="{py(value(pts[x])):.1f}" r="3" fill="{colour}"/>')
        y = top + 14 + 18 * i
        svg.append(f'<line x1="{w - right + 10}" y1="{y - 4}" x2="{w - right + 34}" y2="{y - 4}" stroke="{colour}" stroke-width="2"{dash}/>')
        svg.append(f'<text x="{w - right + 40}" y="{y}">{net}, {impl}</text>')
    svg.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(svg) + "\n")


def main(argv):
    rows = [json.loads(line) for line in open(argv[1]) if line.strip()]
    out = argv[2]
    per_sample_ms = lambda r: 1000 / r["samples_per_second"]
    by_t = series(rows, "timesteps", {"batch": 32})
    by_t = {k: {t: r for t, r in v.items() if t in (16, 32, 64, 128, 256)} for k, v in by_t.items()}
    chart(by_t, per_sample_ms, "Training time per sample against T (batch 32)", "T (time steps)", "ms per sample",
          os.path.join(out, "scaling-time-vs-t.svg"))
    chart(by_t, lambda r: r["peak_rss_mb"], "Training peak memory against T (batch 32)", "T (time steps)", "peak RSS (MB)",
          os.path.join(out, "scaling-memory-vs-t.svg"))
    by_b = series(rows, "batch", {"timesteps_of": {"multimodal": 64, "shd-alif": 100}})
    chart(by_b, per_sample_ms, "Training time per sample against the batch", "batch (T 64 multimodal, 100 shd-alif)",
          "ms per sample", os.path.join(out, "scaling-time-vs-batch.svg"))


if __name__ == "__main__":
    main(sys.argv)
