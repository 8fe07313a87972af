"""Non-spiking baselines on the auditory input of a SpikeFuse dataset folder: how much of
the digit a plain model reads from the same cochlea frames that the A-Network gets.

    python3 bench/audio_baselines.py DATA_FOLDER [--epochs 30] [--seed 1] [--schedule cosine|constant]
                                     [--dropout P] [--counts] [--bin-ms MS] [--trim Q]

DATA_FOLDER holds `n-tidigits.hdf5` (e.g. one written by `spikefuse synth`). Frames are made
as SpikeFuse makes them by default (docs/datasets.md): T = 64 equal bins over each
recording's first..last event, 64 channels, binary (1 where a channel had an event in the
bin). Reported, test accuracy in % on the file's test group:
  - mlp: 4096 -> 256 -> 10 MLP (ReLU, optional dropout before the last layer, cross-entropy,
    Adam 1e-3, batch 32) on the binary frames;
  - logistic-counts: softmax regression on log(1 + event counts) in 64 channels x 16 bins.
Both train on every training sample each epoch, with the learning rate annealed by cosine over
the epochs as SpikeFuse's default (`--schedule constant`: 1e-3 throughout), and report the last
epoch's test accuracy (the best epoch is printed too, for reference; choosing it would use the
test set). Labels are the last character of each key (z = 0, o = 0 as in the loaders, digits 1-9).
Python is not needed by SpikeFuse; this is a reference for docs/results.md.
"""
import argparse

import h5py
import numpy as np
import torch
import torch.nn as nn


def label_of(key):
    c = key.split("-")[-1][-1]
    return 0 if c in "zo" else int(c)


def frames(f, split, bins, binary, bin_us=None, trim=0.0):
    """`[N, bins * 64]` frames and `[N]` labels of one split. trim > 0: the bins cover the
    recording's trim..(1 - trim) quantiles of event time instead of first..last event (events
    outside are dropped), e.g. 0.01 for the 1-99 % span."""
    group_a, group_t = f[f"{split}_addresses"], f[f"{split}_timestamps"]
    keys = sorted(group_a.keys())
    x = np.zeros((len(keys), bins, 64), np.float32)
    for i, k in enumerate(keys):
        a = group_a[k][:].astype(np.int64)
        t = group_t[k][:].astype(np.float64)
        if len(t) == 0:
            continue
        t0, t1 = (t.min(), t.max()) if trim == 0 else np.quantile(t, [trim, 1 - trim])
        # SpikeFuse bins integer microseconds: bin = floor((t - t0) * T / (t1 - t0 + 1 us))
        us = np.round((t - t0) * 1e6).astype(np.int64)
        span = int(round((t1 - t0) * 1e6)) + 1
        b = (us * bins) // span if bin_us is None else us // bin_us   # fixed bins: events after T bins dropped
        keep = (b >= 0) & (b < bins)
        np.add.at(x[i], (b[keep], a[keep]), 1)
    if binary:
        x = (x > 0).astype(np.float32)
    return torch.tensor(x.reshape(len(keys), -1)), torch.tensor([label_of(k) for k in keys])


def train(model, x, y, xt, yt, epochs, seed, schedule):
    torch.manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    annealing = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs) if schedule == "cosine" else None
    best = last = 0.0
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(len(x))
        for i in range(0, len(x), 32):
            j = order[i:i + 32]
            opt.zero_grad()
            nn.functional.cross_entropy(model(x[j]), y[j]).backward()
            opt.step()
        if annealing:
            annealing.step()
        model.eval()
        with torch.no_grad():
            acc = (model(xt).argmax(1) == yt).float().mean().item() * 100
            train_acc = (model(x).argmax(1) == y).float().mean().item() * 100
        print(f"  epoch {epoch + 1}: test {acc:.2f} %  train {train_acc:.2f} %")
        best, last = max(best, acc), acc
    print(f"  last {last:.2f} %, best epoch {best:.2f} %")
    return last


def main():
    p = argparse.ArgumentParser()
    p.add_argument("folder")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--schedule", choices=["cosine", "constant"], default="cosine")
    p.add_argument("--dropout", type=float, default=0.0)
    p.add_argument("--counts", action="store_true", help="the MLP reads log(1 + counts) instead of binary frames")
    p.add_argument("--bin-ms", type=float, help="the MLP's frames have fixed bins of this length from the first event")
    p.add_argument("--trim", type=float, default=0.0,
                   help="bins over the trim..1-trim quantiles of each recording's event times (0.01: the 1-99 %% span)")
    args = p.parse_args()
    f = h5py.File(f"{args.folder}/n-tidigits.hdf5", "r")
    bin_us = None if args.bin_ms is None else int(args.bin_ms * 1000)
    x, y = frames(f, "train", 64, not args.counts, bin_us, args.trim)
    xt, yt = frames(f, "test", 64, not args.counts, bin_us, args.trim)
    if args.counts:
        x, xt = torch.log1p(x), torch.log1p(xt)
    torch.manual_seed(args.seed)
    what = ("log counts" if args.counts else "binary frames") + (f", {args.bin_ms} ms bins" if bin_us else "")
    print(f"mlp on {what} ({len(x)} train, {len(xt)} test, {args.schedule} lr, dropout {args.dropout}):")
    mlp = train(nn.Sequential(nn.Linear(4096, 256), nn.ReLU(), nn.Dropout(args.dropout), nn.Linear(256, 10)),
                x, y, xt, yt, args.epochs, args.seed, args.schedule)
    c, yc = frames(f, "train", 16, False, None, args.trim)
    ct, _ = frames(f, "test", 16, False, None, args.trim)
    print("logistic regression on log counts (64 channels x 16 bins):")
    torch.manual_seed(args.seed)
    logistic = train(nn.Linear(1024, 10), torch.log1p(c), yc, torch.log1p(ct), yt, args.epochs, args.seed, args.schedule)
    print(f"final: mlp {mlp:.2f} %, logistic-counts {logistic:.2f} %")


if __name__ == "__main__":
    main()
