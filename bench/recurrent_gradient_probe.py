"""Where the auditory network's gradient goes, replayed in PyTorch from a SpikeFuse checkpoint
(independent of SpikeFuse's kernels): issue 19's diagnosis of the exploding recurrent BPTT.

    python3 bench/recurrent_gradient_probe.py DATA_FOLDER WEIGHTS.safetensors [--samples 64]

Frames 64 training recordings of DATA_FOLDER/n-tidigits.hdf5 as SpikeFuse does (T = 64 equal
bins per recording, binary), runs the A-Network (512R-512R-512R-10R, tau_audio from the
checkpoint's config) with autograd's own BPTT and the rectangular surrogate of height
gamma/a, and prints per layer the gradient norm of the rate-MSE loss, and |dL/du[t]| of
audio.rec1 at t = 63, 55, ..., 7 — for the backward as SpikeFuse computes it and with two
paths cut: the reset path (o detached in the leak term) and the recurrent path (o[t-1]
detached in R o[t-1]). Run it on a checkpoint trained with gamma = 1
(`--config '{"audio_surrogate_dampening": 1}'`) to see the explosion, and with --dampening
0.3 to see it damped.
"""
import argparse
import json
import math

import h5py
import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import load_file

NAMES = ["audio.rec1", "audio.rec2", "audio.rec3", "audio.out"]


def label_of(key):
    c = key.split("-")[-1][-1]
    return 0 if c in "zo" else int(c)


def load_frames(folder, count, steps):
    f = h5py.File(f"{folder}/n-tidigits.hdf5", "r")
    keys = sorted(f["train_addresses"].keys())
    chosen = [keys[i] for i in np.linspace(0, len(keys) - 1, count).astype(int)]
    x = np.zeros((steps, count, 64), np.float32)
    for j, k in enumerate(chosen):
        a = f["train_addresses"][k][:].astype(np.int64)
        us = np.round((f["train_timestamps"][k][:] - f["train_timestamps"][k][:].min()) * 1e6).astype(np.int64)
        x[(us * steps) // (us.max() + 1), j, a] = 1
    return torch.tensor(x), torch.tensor([label_of(k) for k in chosen])


def run(weights, x, labels, tau, height, cut=None):
    class Spike(torch.autograd.Function):
        @staticmethod
        def forward(ctx, u):
            ctx.save_for_backward(u)
            return (u >= 0.5).float()

        @staticmethod
        def backward(ctx, g):
            (u,) = ctx.saved_tensors
            return g * ((u - 0.5).abs() < 0.5).float() * height

    p = {k: v.clone().requires_grad_(True) for k, v in weights.items() if k.startswith("audio.")}
    rec1_u = []
    for name in NAMES:
        w, b, r = p[name + ".weight"], p[name + ".bias"], p[name + ".recurrent_weight"]
        ff = x @ w.T + b
        u = o = None
        out = []
        for t in range(x.shape[0]):
            if o is None:
                u = ff[t]
            else:
                feedback = o.detach() if cut == "recurrent" else o
                leak_gate = o.detach() if cut == "reset" else o
                u = tau * u * (1 - leak_gate) + ff[t] + feedback @ r.T
            if name == "audio.rec1":
                u.retain_grad()
                rec1_u.append(u)
            o = Spike.apply(u)
            out.append(o)
        x = torch.stack(out)
    target = torch.nn.functional.one_hot(labels, 10).float()
    loss = ((x.mean(0) - target) ** 2).sum(1).mean()
    loss.backward()
    norms = {n: math.sqrt(sum(float((p[n + s].grad ** 2).sum()) for s in (".weight", ".bias", ".recurrent_weight")))
             for n in NAMES}
    du = [float(u.grad.norm()) for u in rec1_u]
    return norms, du


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("folder")
    ap.add_argument("weights")
    ap.add_argument("--samples", type=int, default=64)
    ap.add_argument("--dampening", type=float, help="gamma (default: the checkpoint's audio_surrogate_dampening, else 1)")
    args = ap.parse_args()
    config = json.loads(safe_open(args.weights, "pt").metadata().get("config", "{}"))
    gamma = args.dampening if args.dampening is not None else config.get("audio_surrogate_dampening", 1.0)
    tau = config.get("tau_audio", 0.1)
    x, labels = load_frames(args.folder, args.samples, config.get("timesteps", 64))
    weights = load_file(args.weights)
    print(f"{args.weights}: gamma {gamma}, tau {tau}, {args.samples} training samples")
    for cut in (None, "reset", "recurrent"):
        norms, du = run(weights, x, labels, tau, gamma, cut)
        print(f"backward {'as SpikeFuse computes it' if cut is None else 'with the ' + cut + ' path cut'}:")
        print("  gradient norm per layer: " + ", ".join(f"{n} {v:.3g}" for n, v in norms.items()))
        print("  |dL/du[t]| of audio.rec1, t = 63, 55, ..., 7: " + " ".join(f"{du[t]:.2g}" for t in range(63, 0, -8)))


if __name__ == "__main__":
    main()
