"""Where does a trained A-Network keep the digit? Linear probes on its layers' spike counts.

    python3 bench/audio_probe.py DATA_FOLDER RUN_DIR [--bin PATH/spikefuse] [--counts]
                                 [--span first-last|1-99]

Frames the training and test recordings of DATA_FOLDER/n-tidigits.hdf5 as SpikeFuse does
(bench/audio_baselines.py `frames`: T = 64 bins over each recording's span, 64 channels,
binary, or counts with --counts), runs the trained network of RUN_DIR on them with
`spikefuse simulate RUN_DIR --record` (every spiking layer's spikes, `[T, B, F]`), and fits a
softmax regression (Adam, 300 full-batch steps, weight decay 1e-4) on the training samples'
spike counts of each layer, reporting test accuracy:
  - input: log(1 + counts) of the frames, 64 channels x 16 bins (the linear reference);
  - rec1, rec2, rec3: each layer's spike counts over all T steps (F features), and in 4 time
    quarters (4F features);
  - out: the network's own decision (most spikes over T), and its decision from the last 16
    steps only (does the evidence arrive late?).
If a hidden layer's probe beats the network's own decision by far, the evidence is there but
the readout loses it. Python is not needed by SpikeFuse; this is a diagnostic for
docs/results.md (issue 43).
"""
import argparse
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np
import torch
from safetensors.numpy import load_file, save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from audio_baselines import frames  # noqa: E402


def probe(x, y, xt, yt, steps=300):
    torch.manual_seed(0)
    mean, std = x.mean(0, keepdim=True), x.std(0, keepdim=True) + 1e-6
    x, xt = (x - mean) / std, (xt - mean) / std
    model = torch.nn.Linear(x.shape[1], 10)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2, weight_decay=1e-4)
    for _ in range(steps):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    with torch.no_grad():
        return (model(xt).argmax(1) == yt).float().mean().item() * 100, (model(x).argmax(1) == y).float().mean().item() * 100


def record(binary_frames, run, spikefuse, workdir, name):
    """`[B, T*64]` frames → {layer: [T, B, F]} recorded spikes."""
    b = binary_frames.shape[0]
    x = binary_frames.numpy().reshape(b, 64, 64).transpose(1, 0, 2).copy()   # [T, B, 64]
    src, dst = os.path.join(workdir, f"{name}-in.safetensors"), os.path.join(workdir, f"{name}-out.safetensors")
    save_file({"input": x.astype(np.float32)}, src)
    subprocess.run([spikefuse, "simulate", run, "--input", src, "--out", dst, "--record"], check=True,
                   stdout=subprocess.DEVNULL)
    return load_file(dst)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("folder")
    p.add_argument("run")
    p.add_argument("--bin", default=".build/release/spikefuse")
    p.add_argument("--counts", action="store_true", help="the network was trained on event counts")
    args = p.parse_args()
    f = h5py.File(f"{args.folder}/n-tidigits.hdf5", "r")
    x, y = frames(f, "train", 64, not args.counts)
    xt, yt = frames(f, "test", 64, not args.counts)
    c, _ = frames(f, "train", 16, False)
    ct, _ = frames(f, "test", 16, False)
    rows = [("input log counts, 64 x 16 bins", *probe(torch.log1p(c), y, torch.log1p(ct), yt))]
    with tempfile.TemporaryDirectory() as tmp:
        train, test = record(x, args.run, args.bin, tmp, "train"), record(xt, args.run, args.bin, tmp, "test")
    for key in sorted(k for k in train if k.startswith("spikes.")):
        s, st = torch.tensor(train[key]), torch.tensor(test[key])   # [T, B, F]
        t = s.shape[0]
        total, total_t = s.sum(0), st.sum(0)
        quarters = torch.cat([s[i * t // 4:(i + 1) * t // 4].sum(0) for i in range(4)], 1)
        quarters_t = torch.cat([st[i * t // 4:(i + 1) * t // 4].sum(0) for i in range(4)], 1)
        rate = s.mean().item()
        rows.append((f"{key} counts over T (rate {rate:.3f})", *probe(total, y, total_t, yt)))
        rows.append((f"{key} counts per quarter of T", *probe(quarters, y, quarters_t, yt)))
    out, out_t = torch.tensor(train["output"]), torch.tensor(test["output"])
    for label, a, b in [("network decision, all T steps", out, out_t), ("network decision, last 16 steps", out[-16:], out_t[-16:]),
                        ("network decision, first 48 steps", out[:48], out_t[:48])]:
        rows.append((label, (b.sum(0).argmax(1) == yt).float().mean().item() * 100,
                     (a.sum(0).argmax(1) == y).float().mean().item() * 100))
    print(f"{'features':56s} {'test %':>7s} {'train %':>8s}")
    for name, test_acc, train_acc in rows:
        print(f"{name:56s} {test_acc:7.2f} {train_acc:8.2f}")


if __name__ == "__main__":
    main()
