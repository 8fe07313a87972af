#!/usr/bin/env python3
"""The PyTorch peer on the side-by-side benchmark's shared inputs (one JSON line).

Reads a file written by `spikefuse-bench --prepare` (weights of the multimodal network by
checkpoint name, `input.visual` [T, B, 2, 28, 28], `input.audio` [T, B, 64], `input.labels`
[B]), builds the network of bench/pytorch_reference.py for the model's mode, loads those
weights and runs one configuration for --seconds (after one warm-up batch):

  train: zero_grad, forward, L = Lv + La + Lm (the mode's heads), backward, Adam step
  infer: forward under torch.no_grad()

    python3 bench/peer_bench.py --data runs/bench-data/trained.safetensors \
        --model multimodal --task train --batch 32 --formulation timebatched --seconds 5

`--model network:NET.json` runs a described network instead (bench/pytorch_network.py's
DescribedNetwork, formulations timebatched and fused) on a file written by
`spikefuse-bench --prepare-network NET.json`; its loss is the rate loss of each head.

With --neuron-json JSON (no --data): training of the paper's auditory network shape
(recurrent 64 -> 512 -> 512 -> 512 -> 10, T = 64, random binary input at 5 %, random
weights) with that neuron (docs/networks.md keys) in every layer, on `NeuronModelPeer` in the
formulations fused (FusedNeuronScan), loop (the step under autograd) and compiled (that step
under torch.compile); by default each in turn, the fastest reported (`neuron_model_bench`).
`spikefuse-bench --neurons --peer PYTHON` runs it for each neuron model beside its own row.
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time

import torch
import torch.nn as nn
from safetensors.torch import load_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pytorch_network import DescribedNetwork  # noqa: E402
from peer_timing import result_line, timed  # noqa: E402
from pytorch_reference import (PAPER_CONFIG, NeuronModelPeer, SpikeFuseReference, SpikeInputLinear,  # noqa: E402
                               losses, rate_loss)


NEURON_FORMULATIONS = ("fused", "loop", "compiled")


def neuron_model_bench(args):
    """The auditory network shape with one neuron model, trained for --seconds (one JSON line).

    Formulations (the input projection W x + b runs once over all T * B rows in each):
      loop:     NeuronModelPeer.forward, the step under autograd (T * layers * ops graph nodes);
      fused:    NeuronModelPeer.fused, each layer's scan one FusedNeuronScan node (hand-written BPTT),
                and SpikeInputLinear (the products with the input only over inputs that fired);
      compiled: the loop formulation's step under torch.compile (inductor; compiled before timing);
      best:     each formulation (the environment's NEURON_FORMULATIONS, default all three) in its own
                process; prints the fastest one's line, with every formulation's samples/s under
                "formulations" (and a line on stderr)."""
    if args.formulation == "best":
        return best_neuron_formulation(args)
    neuron = json.loads(args.neuron_json)
    torch.manual_seed(1)
    widths = [64, 512, 512, 512, 10]
    T, B = args.timesteps or 64, args.batch
    layers = []
    for i, o in zip(widths[:-1], widths[1:]):
        lin, rec = nn.Linear(i, o), nn.Linear(o, o, bias=False)
        layers.append((lin, rec, NeuronModelPeer(neuron, [o])))
    params = [p for layer in layers for m in layer for p in m.parameters()]
    optimiser = torch.optim.Adam(params, lr=1e-3)
    x = (torch.rand(T, B, 64) < 0.05).float()
    target = torch.nn.functional.one_hot(torch.randint(0, 10, (B,)), 10).float()
    project = lambda lin, h: lin(h)                       # noqa: E731  W x + b over all T * B rows
    if args.formulation == "fused":
        scan = NeuronModelPeer.fused
        project = lambda lin, h: SpikeInputLinear.apply(h, lin.weight, lin.bias)   # noqa: E731
    elif args.formulation == "loop":
        scan = NeuronModelPeer.forward
    elif args.formulation == "compiled":
        scan = compiled_step_scan()
    else:
        raise SystemExit(f"--neuron-json: unknown formulation {args.formulation!r} ({', '.join(NEURON_FORMULATIONS)}, best)")

    def one_batch():
        optimiser.zero_grad(set_to_none=True)
        h = x
        for lin, rec, peer in layers:
            h, _ = scan(peer, project(lin, h), rec.weight)
        ((h.mean(0) - target) ** 2).sum(1).mean().backward()
        optimiser.step()

    warmup_start = time.perf_counter()
    one_batch()
    if args.formulation == "compiled":
        one_batch()   # the second call may compile again (the backward, new guards)
    warmup = time.perf_counter() - warmup_start
    batches, elapsed, cpu = timed(one_batch, args.seconds)
    print(json.dumps({
        "model": "auditory+" + neuron.get("model", "lif"), "task": "train", "batch": B,
        "samples_per_second": batches * B / elapsed, "samples_per_cpu_second": batches * B / cpu,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        "implementation": "pytorch-neuron-" + args.formulation, "iterations": batches, "warmup_seconds": warmup,
        "threads": str(torch.get_num_threads()), "load_average": os.getloadavg()[0], "torch": torch.__version__,
    }, sort_keys=True))


def compiled_step_scan():
    """NeuronModelPeer.forward with its step loop under torch.compile: (peer, current, R) -> (spikes, u)."""
    compiled = torch.compile(NeuronModelPeer.forward, dynamic=False)
    return lambda peer, current, recurrent: compiled(peer, current, recurrent)


def best_neuron_formulation(args):
    """Runs each neuron-model formulation in its own process (its own peak RSS) and prints the
    fastest one's JSON line, with every formulation's samples/s added."""
    results = {}
    chosen = os.environ.get("NEURON_FORMULATIONS", " ".join(NEURON_FORMULATIONS)).split()
    unknown = [f for f in chosen if f not in NEURON_FORMULATIONS]
    if unknown or not chosen:
        raise SystemExit(f"NEURON_FORMULATIONS: unknown {unknown} (choose from {' '.join(NEURON_FORMULATIONS)})")
    for formulation in chosen:
        command = [sys.executable, os.path.abspath(__file__), "--neuron-json", args.neuron_json,
                   "--formulation", formulation, "--batch", str(args.batch), "--seconds", str(args.seconds),
                   "--threads", str(args.threads), "--timesteps", str(args.timesteps)]
        done = subprocess.run(command, stdout=subprocess.PIPE, text=True)
        if done.returncode != 0:
            print(f"peer_bench.py: the {formulation} formulation failed (exit {done.returncode}); left out",
                  file=sys.stderr)
            continue
        results[formulation] = json.loads(done.stdout.strip().splitlines()[-1])
    if not results:
        raise SystemExit("peer_bench.py --neuron-json: every formulation failed")
    best = max(results, key=lambda f: results[f]["samples_per_second"])
    line = dict(results[best])
    line["formulations"] = {f: round(r["samples_per_second"], 2) for f, r in results.items()}
    print(f"  peer {line['model']}: " + ", ".join(f"{f} {v:.1f}" for f, v in line["formulations"].items())
          + f" samples/s; best {best}", file=sys.stderr)
    print(json.dumps(line, sort_keys=True))


def check_compiled(model, eager_model, compiled_model, loss_of, visual, audio, args):
    """One batch, same weights, through eager_model and compiled_model (forward, loss, backward):
    prints one JSON line with the output spikes that differ per head and layer (float
    reassociation in the compiled kernels can move a membrane across V_th), the loss of each,
    and per parameter max |g_compiled - g_eager| / max |g_eager|, the largest of them first."""
    runs = []
    for name, run in (("eager", eager_model), ("compiled", compiled_model)):
        model.zero_grad(set_to_none=True)
        start = time.perf_counter()
        o = run(visual, audio)
        loss = loss_of(o)
        loss.backward()
        spikes = {k: v.detach().clone() for k, v in o.items() if k in ("visual", "audio", "fusion")}
        spikes.update({k: v.detach().clone() for k, v in o["layers"].items()})
        grads = {k: p.grad.detach().clone() for k, p in model.named_parameters() if p.grad is not None}
        runs.append((spikes, grads, float(loss.detach()), time.perf_counter() - start))
        print(f"  check: {name} batch in {runs[-1][3]:.1f} s", file=sys.stderr)
    (s_e, g_e, l_e, _), (s_c, g_c, l_c, compile_s) = runs
    mismatches = {k: int((s_e[k] != s_c[k]).sum()) for k in s_e}
    relative = {k: float((g_c[k] - g_e[k]).abs().max() / g_e[k].abs().max().clamp_min(1e-30)) for k in g_e}
    print(json.dumps({
        "check": "compiled-vs-eager", "model": args.model, "formulation": args.formulation, "batch": args.batch,
        "channels_last": args.channels_last, "spike_mismatches_total": sum(mismatches.values()),
        "spikes_total": sum(v.numel() for v in s_e.values()), "spike_mismatches": mismatches,
        "loss_eager": l_e, "loss_compiled": l_c, "max_relative_gradient_difference": max(relative.values()),
        "relative_gradient_difference": dict(sorted(relative.items(), key=lambda kv: -kv[1])),
        "missing_gradients": sorted(set(g_e) ^ set(g_c)), "compile_seconds": compile_s, "torch": torch.__version__,
    }))


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", help="the shared weights and inputs (spikefuse-bench --prepare); not with --neuron-json")
    p.add_argument("--neuron-json", help="a neuron description: train the auditory shape with it (no --data)")
    p.add_argument("--model", default="multimodal", help="multimodal, visual, audio or network:NET.json")
    p.add_argument("--task", choices=["train", "infer"], default="train")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--formulation", choices=["timebatched", "loop", "fused", "compiled", "best"],
                   help="timebatched (default), loop, fused or compiled (fused under torch.compile); with "
                        "--neuron-json loop, fused, compiled or best (default: every one, the fastest reported)")
    p.add_argument("--compile", action="store_true",
                   help="run the model under torch.compile (inductor; compiled once before timing)")
    p.add_argument("--check", action="store_true",
                   help="no timing: one batch through the eager and the compiled model, spike mismatches and "
                        "the largest relative gradient difference as one JSON line")
    p.add_argument("--channels-last", action="store_true",
                   help="convolution weights (and so their outputs) in channels-last memory format")
    p.add_argument("--seconds", type=float, default=5.0)
    p.add_argument("--threads", type=int, default=int(os.environ.get("OMP_NUM_THREADS", 2)),
                   help="torch threads (default: OMP_NUM_THREADS, else 2)")
    p.add_argument("--timesteps", type=int, default=0,
                   help="resample the inputs to T steps (step t = input step t mod T); 0 = as stored")
    args = p.parse_args(argv[1:])

    torch.set_num_threads(args.threads)
    if args.neuron_json:
        args.formulation = args.formulation or "best"
        return neuron_model_bench(args)
    args.formulation = args.formulation or "timebatched"
    if args.formulation not in ("timebatched", "loop", "fused", "compiled"):
        p.error(f"--formulation {args.formulation} is only for --neuron-json")
    # compiled: the fused formulation (hand-written BPTT per block) under torch.compile
    base = "fused" if args.formulation == "compiled" else args.formulation
    args.compile = args.compile or args.formulation == "compiled"
    if not args.data:
        p.error("--data is required (or --neuron-json)")
    tensors = load_file(args.data)
    cfg = dict(PAPER_CONFIG)
    cfg["mode"] = args.model
    if args.timesteps > 0:
        for name in ("input.visual", "input.audio"):
            if name not in tensors:       # a described network's file holds its branches' inputs only
                continue
            x = tensors[name]
            tensors[name] = x[torch.arange(args.timesteps) % x.shape[0]].contiguous()
    described = args.model.startswith("network:")
    if described:
        with open(args.model[len("network:"):]) as f:
            description = json.load(f)
        model = DescribedNetwork(description)
        modalities = {b["input"]["modality"] for b in description["branches"]}
    elif args.model in ("multimodal", "visual", "audio"):
        modalities = {"multimodal": {"dvs", "cochlea"}, "visual": {"dvs"}, "audio": {"cochlea"}}[args.model]
    else:
        raise SystemExit(f"unknown model {args.model!r} (multimodal, visual, audio, network:FILE)")
    visual_all = tensors.get("input.visual") if "dvs" in modalities else None
    audio_all = tensors.get("input.audio") if "cochlea" in modalities else None
    steps = (visual_all if visual_all is not None else audio_all).shape[0]
    if not described:
        cfg["timesteps"] = steps
        model = SpikeFuseReference(cfg)
    own = model.state_dict()
    missing = [k for k in own if k not in tensors]
    if missing:
        raise SystemExit(f"{args.data}: no tensors {missing}")
    model.load_state_dict({k: tensors[k] for k in own})
    if args.channels_last:
        model = model.to(memory_format=torch.channels_last)
    B = args.batch
    if B > (visual_all if visual_all is not None else audio_all).shape[1]:
        raise SystemExit(f"{args.data}: batch {B} > the samples in the file")
    visual = visual_all[:, :B].contiguous() if visual_all is not None else None
    audio = audio_all[:, :B].contiguous() if audio_all is not None else None
    labels = tensors["input.labels"][:B].long()
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3)

    if args.task == "train" or described:   # activity by one forward (inference: from the file, see below)
        with torch.no_grad():
            out = model(visual, audio, formulation="timebatched")
            fired = sum(float(s.sum()) for s in out["layers"].values())
            neurons = sum(s.numel() for s in out["layers"].values())
    else:   # per-layer rates written by spikefuse-bench --prepare (batch 32), weighted by size
        sizes = {"visual.conv1": 32 * 28 * 28, "visual.conv2": 32 * 14 * 14, "visual.fc1": 128, "visual.fc2": 10,
                 "audio.rec1": 512, "audio.rec2": 512, "audio.rec3": 512, "audio.out": 10,
                 "fusion.hidden": 64, "fusion.output": 10}
        with open(args.data, "rb") as f:
            header = json.loads(f.read(int.from_bytes(f.read(8), "little")))
        rates = json.loads(header.get("__metadata__", {}).get("firing_rates", "{}"))
        prefixes = {"multimodal": ("visual.", "audio.", "fusion."), "visual": ("visual.",), "audio": ("audio.",)}[args.model]
        chosen = {k: v for k, v in rates.items() if k.startswith(prefixes) and k in sizes}
        fired = sum(v * sizes[k] for k, v in chosen.items())
        neurons = sum(sizes[k] for k in chosen)
    inputs = [x for x in (visual, audio) if x is not None]
    input_density = sum(float((x != 0).sum()) for x in inputs) / sum(x.numel() for x in inputs)

    def run_model(v, a):
        return model(v, a, formulation=base)
    eager_model = run_model
    if args.compile:
        run_model = torch.compile(run_model, dynamic=False)

    def loss_of(o):
        if described:
            return sum(rate_loss(o[h], labels, o[h].shape[-1]) for h in ("visual", "audio", "fusion") if h in o)
        return losses(model, o, labels)["total"]

    if args.check:
        if not args.compile:
            p.error("--check compares eager with compiled: use --formulation compiled or --compile")
        return check_compiled(model, eager_model, run_model, loss_of, visual, audio, args)

    def one_batch():
        if args.task == "train":
            optimiser.zero_grad(set_to_none=True)
            loss_of(run_model(visual, audio)).backward()
            optimiser.step()
        else:
            with torch.no_grad():
                run_model(visual, audio)

    compile_start = time.perf_counter()
    one_batch()
    if args.compile:
        one_batch()   # the second call may compile again (e.g. for the backward or new guards)
    compile_seconds = time.perf_counter() - compile_start
    print(result_line(
        args.data, args.model, args.task, B, timed(one_batch, args.seconds),
        implementation=f"pytorch-{args.formulation}" + ("-compiled" if args.compile and base == args.formulation else "")
        + ("-channelslast" if args.channels_last else ""),
        threads=str(torch.get_num_threads()), firing_rate=fired / max(neurons, 1), input_density=input_density,
        torch=torch.__version__, timesteps=steps, warmup_seconds=compile_seconds))


if __name__ == "__main__":
    main(sys.argv)
