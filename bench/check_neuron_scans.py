#!/usr/bin/env python3
"""Checks FusedNeuronScan (bench/pytorch_reference.py, the fast PyTorch peer of every neuron
model) against NeuronModelPeer.forward (the step under autograd). Not part of the Swift tests.

    python3 bench/check_neuron_scans.py [--quick] [--bench-shape]

Cases: the four populations and the recurrent layer of bench/make_neuron_fixtures.py, the
seven rows of `spikefuse-bench --neurons` (NEURON_BENCH_ROWS, as a small recurrent layer, and
with --bench-shape also at the bench's size) and
every combination of model x reset x surrogate x learnt tau x learnt threshold (a recurrent
layer; --quick: only the first two groups); and SpikeInputLinear against F.linear. Each runs in float32 and in float64. For
L = sum(g * spikes) with random g, the fused scan's spikes must equal the reference's exactly
and its gradients (current, recurrent weight, tau_logit, threshold) match autograd's within
1e-5 (float32) or 1e-10 (float64), relative to the reference's largest magnitude:
max|fused - ref| / max|ref|. A float32 gradient over 1e-5 (a cancelling sum: a learnt tau or
threshold shared by many neurons, whose float32 error is autograd's as much as ours) passes
only if the fused value is no farther than twice autograd's float32 value from the float64
reference on the same data. Prints one line per case (combinations: only failures and such
sums), the worst error per group, and exits 1 on any failure.
"""
import argparse
import itertools
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_neuron_fixtures import CASES, RECURRENT  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from pytorch_reference import NeuronModelPeer, SpikeInputLinear  # noqa: E402

TOLERANCE = {torch.float32: 1e-5, torch.float64: 1e-10}
# The paper's audio neuron and the seven variants of Sources/spikefuse-bench/NeuronBench.swift
# (`NeuronBench.variants`; keep the two in step).
PAPER_AUDIO = {"model": "lif", "tau": 0.1, "threshold": 0.5, "surrogate_width": 1.0, "surrogate_dampening": 0.3}
NEURON_BENCH_ROWS = {
    "lif": {},
    "lif-subtract-arctan": {"reset": "subtract", "surrogate": "arctan"},
    "plif": {"learn_tau": "channel"},
    "lif-learnt-threshold": {"learn_threshold": "neuron"},
    "if": {"model": "if", "tau": 1.0},
    "cuba_lif": {"model": "cuba_lif", "synapse_tau": 0.5},
    "adaptive_lif": {"model": "adaptive_lif", "adaptation_decay": 0.98, "adaptation_strength": 0.5},
}


def bench_row_neuron(variant):
    """The neuron of `spikefuse-bench --neurons` row `variant` (JSON keys)."""
    return {**PAPER_AUDIO, **NEURON_BENCH_ROWS[variant]}


def relative_error(fused, reference):
    return float((fused - reference).abs().max() / reference.abs().max().clamp_min(1e-30))


def gradients(peer, run, current, r, g):
    """Spikes and {name: gradient} of L = sum(g * spikes) for peer.forward or peer.fused (`run`)."""
    c = current.clone().requires_grad_(True)
    rr = r.clone().requires_grad_(True) if r is not None else None
    spikes, _ = getattr(peer, run)(c, rr)
    (spikes * g).sum().backward()
    grads = {"current": c.grad}
    if rr is not None:
        grads["recurrent_weight"] = rr.grad
    for name in ("tau_logit", "threshold"):
        if hasattr(peer, name):
            grads[name] = getattr(peer, name).grad
    return spikes.detach(), grads


def run_case(neuron, shape, recurrent_size, dtype, seed, timesteps=16, batch=3):
    """One case: (spikes identical, {gradient: relative error}, {gradient: (fused, autograd) error
    from float64} for float32 gradients over the tolerance, firing rate)."""
    gen = torch.Generator().manual_seed(seed)
    base = NeuronModelPeer(neuron, shape)
    with torch.no_grad():   # distinct learnt constants per channel / neuron
        for name in ("tau_logit", "threshold"):
            if hasattr(base, name):
                p = getattr(base, name)
                p.add_((torch.rand(p.shape, generator=gen) - 0.5) * (1.0 if name == "tau_logit" else 0.2))

    def peer(dt):
        made = NeuronModelPeer(neuron, shape)
        made.load_state_dict(base.state_dict())
        return made.to(dt)
    th = float(neuron.get("threshold", 0.5))
    current = (torch.rand([timesteps, batch] + shape, generator=gen, dtype=dtype) * 1.3 - 0.3) * th
    r = None
    if recurrent_size:
        r = (torch.rand([recurrent_size, recurrent_size], generator=gen, dtype=dtype) * 2 - 1) / recurrent_size ** 0.5
    g = torch.rand([timesteps, batch] + shape, generator=gen, dtype=dtype) * 2 - 1
    ref_spikes, ref_grads = gradients(peer(dtype), "forward", current, r, g)
    spikes, grads = gradients(peer(dtype), "fused", current, r, g)
    errors = {name: relative_error(grads[name], ref_grads[name]) for name in ref_grads}
    # Over the tolerance in float32: a sum that cancels (a tau or threshold shared by many
    # neurons) carries the float32 error of the whole adjoint scan, in autograd's value too.
    # Judge by the float64 reference on the same data: the fused value must be no farther
    # from it than autograd's float32 value (x2), with that reference's spikes identical.
    conditioning = {}
    over = [name for name, e in errors.items() if not e <= TOLERANCE[dtype]]
    if over and dtype == torch.float32:
        truth_spikes, truth = gradients(peer(torch.float64), "forward", current.double(),
                                        r.double() if r is not None else None, g.double())
        if torch.equal(truth_spikes.float(), ref_spikes):
            for name in over:
                conditioning[name] = tuple(float((x[name].double() - truth[name]).abs().max())
                                           for x in (grads, ref_grads))
    return torch.equal(spikes, ref_spikes), errors, conditioning, float(ref_spikes.mean())


def check_input_linear(dtype, seed):
    """SpikeInputLinear against F.linear on spikes with silent inputs (some, all, none):
    the largest relative error of y, dL/dx, dL/dW, dL/db."""
    gen = torch.Generator().manual_seed(seed)
    worst = 0.0
    for silent in (0.5, 1.0, 0.0):
        x = (torch.rand([16, 3, 20], generator=gen, dtype=dtype) < 0.3).to(dtype)
        x[..., :3] *= -1   # some inputs negative (a signed event stream)
        x[..., torch.rand(20, generator=gen) < silent] = 0
        w = torch.rand([7, 20], generator=gen, dtype=dtype) - 0.5
        b = torch.rand([7], generator=gen, dtype=dtype)
        g = torch.rand([16, 3, 7], generator=gen, dtype=dtype) - 0.5
        results = []
        for f in (F.linear, SpikeInputLinear.apply):
            xx, ww, bb = (t.clone().requires_grad_(True) for t in (x, w, b))
            y = f(xx, ww, bb)
            (y * g).sum().backward()
            results.append([y.detach(), xx.grad, ww.grad, bb.grad])
        worst = max([worst] + [relative_error(a, r) if r.abs().max() > 0 else float(a.abs().max())
                               for a, r in zip(results[1], results[0])])
    return worst


def cases(quick, bench_shape):
    """(group, name, neuron, shape, recurrent size, T, B)."""
    for name, (neuron, shape) in CASES.items():
        yield "fixtures", name, neuron, shape, 0, 16, 3
    name, neuron, _, outputs = RECURRENT
    yield "fixtures", name, neuron, [outputs], outputs, 16, 3
    for variant in NEURON_BENCH_ROWS:
        yield "bench rows", variant, bench_row_neuron(variant), [12], 12, 16, 3
    if bench_shape:
        for variant in NEURON_BENCH_ROWS:
            yield "bench shape", variant, bench_row_neuron(variant), [512], 512, 64, 32
    if quick:
        return
    models = {"lif": {"tau": 0.8}, "if": {}, "cuba_lif": {"tau": 0.8, "synapse_tau": 0.6},
              "adaptive_lif": {"tau": 0.8, "adaptation_decay": 0.9, "adaptation_strength": 0.3}}
    surrogates = {"rectangle": {"surrogate_width": 0.8}, "fast_sigmoid": {"surrogate_slope": 5.0},
                  "arctan": {"surrogate_slope": 3.0}, "triangle": {"surrogate_width": 0.7}}
    for model, reset, surrogate, learn_tau, learn_th in itertools.product(
            models, ("zero", "value", "subtract"), surrogates, (None, "layer", "channel"), (None, "layer", "neuron")):
        if model == "if" and learn_tau:
            continue   # integrate-and-fire has beta = 1, no decay to learn
        neuron = {"model": model, "threshold": 0.5, "reset": reset, "reset_value": -0.1, "surrogate": surrogate,
                  "surrogate_dampening": 0.5, **models[model], **surrogates[surrogate]}
        if learn_tau:
            neuron["learn_tau"] = learn_tau
        if learn_th:
            neuron["learn_threshold"] = learn_th
        yield "combinations", f"{model}/{reset}/{surrogate}/tau:{learn_tau}/th:{learn_th}", neuron, [6], 6, 16, 3


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="only the fixture cases and the bench rows")
    parser.add_argument("--bench-shape", action="store_true",
                        help="also the bench rows at the bench's size (512 recurrent neurons, T 64, batch 32; ~1 min)")
    args = parser.parse_args(argv[1:])
    torch.set_num_threads(1)
    failures, worst, count, conditioned = [], {}, 0, 0
    for seed, (group, name, neuron, shape, recurrent, steps, batch) in enumerate(cases(args.quick, args.bench_shape)):
        for dtype in (torch.float32, torch.float64):
            equal, errors, conditioning, rate = run_case(neuron, shape, recurrent, dtype, seed, steps, batch)
            count += 1
            tolerance = TOLERANCE[dtype]
            explained = {k for k, (fused, autograd) in conditioning.items() if fused <= 2 * autograd}
            bad = [k for k, e in errors.items() if not e <= tolerance and k not in explained]
            dname = str(dtype).replace("torch.", "")
            key = (group, dname)
            worst[key] = max([worst.get(key, 0.0)] + [e for k, e in errors.items() if k not in explained])
            if group != "combinations" or not equal or bad or explained:
                print(f"{'ok  ' if equal and not bad else 'FAIL'} {group:12} {name:28} {dname:7} rate {rate:.3f} "
                      f"spikes {'identical' if equal else 'DIFFER'}  "
                      + "  ".join(f"{k} {e:.1e}" for k, e in errors.items()))
            for k in sorted(conditioning):
                fused, autograd = conditioning[k]
                verdict = "ok: no farther than autograd's" if k in explained else "FAIL: farther than 2x autograd's"
                print(f"     {k}: ill-conditioned sum; absolute error from float64, fused {fused:.2e}, "
                      f"autograd float32 {autograd:.2e} ({verdict})")
            conditioned += len(explained)
            if not equal or bad:
                failures.append(f"{name} {dname}: " + ("spikes differ; " if not equal else "")
                                + ", ".join(f"{k} {errors[k]:.2e} > {tolerance:g}" for k in bad))
            if not 0.01 < rate < 0.95:
                failures.append(f"{name} {dname}: firing rate {rate:.3f}, the case checks little")
    for dtype in (torch.float32, torch.float64):
        error = check_input_linear(dtype, 7)
        count += 1
        ok = error <= TOLERANCE[dtype]
        print(f"{'ok  ' if ok else 'FAIL'} input linear (SpikeInputLinear vs F.linear, silent inputs) {dtype}: "
              f"y and gradients within {error:.1e}")
        if not ok:
            failures.append(f"SpikeInputLinear {dtype}: {error:.2e} > {TOLERANCE[dtype]:g}")
    for (group, dname), error in worst.items():
        print(f"worst relative gradient error, {group} {dname}: {error:.2e} (tolerance {TOLERANCE[getattr(torch, dname)]:g})")
    if failures:
        print(f"{len(failures)} of {count} checks FAILED:\n  " + "\n  ".join(failures))
        return 1
    print(f"all {count} checks passed: identical spikes, gradients within tolerance "
          f"({conditioned} ill-conditioned float32 sums judged against float64)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
