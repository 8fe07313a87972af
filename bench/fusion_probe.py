#!/usr/bin/env python3
"""Probe the fusion of a trained run on its saved head outputs (docs/results.md, item 13).

    spikefuse evaluate RUN --split test  --limit 2000 --save-outputs test.safetensors
    spikefuse evaluate RUN --split train --limit 2000 --save-outputs train.safetensors
    python3 bench/fusion_probe.py RUN/weights.safetensors test.safetensors [train.safetensors]

1. Replays the run's attention fusion (the PyTorch peer's `AttentionFusion`, with the run's
   configuration and fusion.* weights) on the saved visual and auditory spikes, and checks
   that it reproduces the saved fused output and attention weights: the probe is the run.
2. Accuracy of the paper's output LIF at constant weights (w_v, w_a) from 0.3 to 1.2, and of
   the integrator readout (weighted spike counts) at the same weights: how much the weights
   can matter behind each readout.
3. With a training file: trains a fresh attention (hidden + attention layers, identity start)
   on the frozen training outputs for 8 epochs (Adam 1e-3, batch 32, count cross-entropy)
   behind each readout and S, printing test accuracy after every epoch.

Not a dependency of the build or the tests; needs torch and the safetensors package.
"""
import json
import sys

import torch
from safetensors import safe_open
from safetensors.torch import load_file

from pytorch_reference import AttentionFusion


def read_outputs(path):
    """Saved outputs -> (visual, audio, fused) time-major [T, N, C], labels [N]."""
    t = load_file(path)
    tm = lambda x: x.transpose(0, 1).contiguous()
    return tm(t["visual"]), tm(t["audio"]), tm(t["fusion"]), tm(t["attention"]), t["label"].long()


def run_fusion(weights_path):
    with safe_open(weights_path, "pt") as f:
        cfg = json.loads(f.metadata()["config"])
    fusion = AttentionFusion(cfg)
    state = {k[len("fusion."):]: v for k, v in load_file(weights_path).items() if k.startswith("fusion.")}
    fusion.load_state_dict(state, strict=False)
    return fusion, cfg


def accuracy(scores, labels):
    """scores [T, N, C] summed over T; ties go to the lowest class, as in SpikeFuse."""
    return 100.0 * (scores.sum(0).argmax(-1) == labels).float().mean().item()


def constant_weights(fusion, ov, oa, labels):
    print("constant weights: output LIF (paper) | integrator (weighted counts)")
    for wv in (0.3, 0.5, 0.75, 1.0, 1.2):
        for wa in (0.3, 0.5, 0.75, 1.0, 1.2):
            current = wv * ov + wa * oa
            lif, _ = fusion.lif.scan(current)
            print(f"  w_v {wv:4.2f} w_a {wa:4.2f}: {accuracy(lif, labels):6.2f} | {accuracy(current, labels):6.2f}")


def retrain(cfg, train, test, readout, scale, seed=1, epochs=8):
    torch.manual_seed(seed)
    fusion = AttentionFusion(dict(cfg, attention_readout="integrator"))   # softmax, equal start
    fusion.readout = readout
    fusion.scale = scale
    optimiser = torch.optim.Adam(fusion.parameters(), lr=1e-3)
    (tv, ta, ty), (sv, sa, sy) = train, test
    curve = []
    with torch.no_grad():
        curve.append(accuracy(fusion.timebatched(sv, sa, {})[0], sy))
    for _ in range(epochs):
        order = torch.randperm(ty.numel())
        for i in range(0, ty.numel(), 32):
            idx = order[i:i + 32]
            out, _ = fusion.timebatched(tv[:, idx], ta[:, idx], {})
            loss = torch.nn.functional.cross_entropy(out.sum(0), ty[idx])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
        with torch.no_grad():
            curve.append(accuracy(fusion.timebatched(sv, sa, {})[0], sy))
    return curve


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    fusion, cfg = run_fusion(argv[1])
    ov, oa, fused, attention, labels = read_outputs(argv[2])
    with torch.no_grad():
        replay, weights = fusion.timebatched(ov, oa, {})
    same = torch.equal(replay.float(), fused)
    print(f"replay of the run's fusion: fused output identical {same}, "
          f"attention max difference {(weights - attention).abs().max().item():.2e}")
    print(f"visual {accuracy(ov, labels):.2f}  audio {accuracy(oa, labels):.2f}  fused {accuracy(fused, labels):.2f}")
    with torch.no_grad():
        constant_weights(fusion, ov, oa, labels)
    if len(argv) > 3:
        tv, ta, _, _, ty = read_outputs(argv[3])
        for readout, scale in (("neuron", 1.5), ("integrator", 1.5), ("integrator", 0.25), ("integrator", 0.094)):
            curve = retrain(cfg, (tv, ta, ty), (ov, oa, labels), readout, scale)
            print(f"retrained attention, {readout} readout, S = {scale}: test per epoch "
                  + " ".join(f"{a:.2f}" for a in curve))


if __name__ == "__main__":
    main(sys.argv)
