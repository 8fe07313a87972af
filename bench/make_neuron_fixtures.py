#!/usr/bin/env python3
"""Golden fixtures of the neuron models of issue 42 from the PyTorch peer
(bench/pytorch_reference.py `NeuronModelPeer`, gradients by autograd):

    python3 bench/make_neuron_fixtures.py
        writes Tests/SpikeNNTests/Fixtures/neuron_models.safetensors

Per case `<name>.`: `current` [T, B, *shape] (or, for the recurrent case, `input` spikes
[T, B, in] with `weight`, `bias`, `recurrent_weight` on a 2^-12 grid, so every synaptic sum
is exact in float32 in any order), `grad_spikes` g, the forward's `spikes` and `membrane`,
and for L = sum(g * spikes) the gradients `grad_current` (or `grad_input`, `grad_weight`,
`grad_bias`, `grad_recurrent_weight`) and those of the learnt constants (`tau_logit`,
`threshold` and `grad_…`). Metadata `<name>.neuron` is the case's neuron as JSON keys,
`<name>.shape` one sample's shape. `NeuronPeerTests` requires identical spikes and
gradients within 1e-4.
"""
import json
import os
import sys

import torch
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pytorch_reference import NeuronModelPeer  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "SpikeNNTests", "Fixtures", "neuron_models.safetensors")
T, B = 16, 3
QUANTUM = 2.0 ** -12

CASES = {
    "plif_subtract_arctan": ({"model": "lif", "tau": 0.8, "threshold": 0.5, "reset": "subtract", "surrogate": "arctan",
                              "surrogate_slope": 3.0, "learn_tau": "channel", "learn_threshold": "neuron"}, [2, 3]),
    "if_value_fast_sigmoid": ({"model": "if", "threshold": 0.9, "reset": "value", "reset_value": -0.125,
                               "surrogate": "fast_sigmoid", "surrogate_slope": 5.0, "learn_threshold": "layer"}, [5]),
    "cuba_zero_triangle": ({"model": "cuba_lif", "tau": 0.75, "synapse_tau": 0.5, "threshold": 0.6,
                            "surrogate": "triangle", "surrogate_width": 0.5, "learn_tau": "layer"}, [4]),
    "adaptive_subtract_rectangle": ({"model": "adaptive_lif", "tau": 0.9, "threshold": 0.4, "adaptation_decay": 0.9,
                                     "adaptation_strength": 0.3, "reset": "subtract", "surrogate_width": 1.0,
                                     "surrogate_dampening": 0.3, "learn_threshold": "neuron"}, [5]),
}
RECURRENT = ("recurrent_adaptive", {"model": "adaptive_lif", "tau": 0.9, "threshold": 0.4, "adaptation_decay": 0.95,
                                    "adaptation_strength": 0.2, "reset": "subtract", "surrogate": "fast_sigmoid",
                                    "surrogate_slope": 5.0, "learn_threshold": "neuron"}, 8, 6)


def population_case(name, neuron, shape, gen, out, meta):
    peer = NeuronModelPeer(neuron, shape)
    with torch.no_grad():   # distinct learnt constants per channel / neuron
        if hasattr(peer, "tau_logit"):
            peer.tau_logit.add_(torch.rand(peer.tau_logit.shape, generator=gen) - 0.5)
        if hasattr(peer, "threshold"):
            peer.threshold.add_(0.2 * torch.rand(peer.threshold.shape, generator=gen) - 0.1)
    current = (torch.rand([T, B] + shape, generator=gen) * 1.3 - 0.3).requires_grad_(True)
    g = torch.rand([T, B] + shape, generator=gen) * 2 - 1
    spikes, membrane = peer(current)
    (spikes * g).sum().backward()
    out.update({f"{name}.current": current.detach(), f"{name}.grad_spikes": g, f"{name}.spikes": spikes.detach(),
                f"{name}.membrane": membrane.detach(), f"{name}.grad_current": current.grad})
    for p in ("tau_logit", "threshold"):
        if hasattr(peer, p):
            out[f"{name}.{p}"] = getattr(peer, p).detach().clone()
            out[f"{name}.grad_{p}"] = getattr(peer, p).grad
    meta[f"{name}.neuron"] = json.dumps(neuron)
    meta[f"{name}.shape"] = json.dumps(shape)
    print(f"{name}: rate {spikes.mean():.3f}")
    assert 0.05 < spikes.mean() < 0.8


def recurrent_case(gen, out, meta):
    name, neuron, inputs, outputs = RECURRENT
    peer = NeuronModelPeer(neuron, [outputs])
    grid = lambda t: torch.round(t / QUANTUM) * QUANTUM
    w = grid((torch.rand([outputs, inputs], generator=gen) * 2 - 1) / inputs ** 0.5).requires_grad_(True)
    b = grid(torch.rand([outputs], generator=gen) * 0.4).requires_grad_(True)
    r = grid((torch.rand([outputs, outputs], generator=gen) * 2 - 1) / outputs ** 0.5).requires_grad_(True)
    with torch.no_grad():
        peer.threshold.add_(0.2 * torch.rand(peer.threshold.shape, generator=gen) - 0.1)
    x = (torch.rand([T, B, inputs], generator=gen) < 0.5).float().requires_grad_(True)
    g = torch.rand([T, B, outputs], generator=gen) * 2 - 1
    spikes, membrane = peer(x @ w.T + b, recurrent=r)
    (spikes * g).sum().backward()
    out.update({f"{name}.input": x.detach(), f"{name}.grad_spikes": g, f"{name}.spikes": spikes.detach(),
                f"{name}.membrane": membrane.detach(), f"{name}.weight": w.detach(), f"{name}.bias": b.detach(),
                f"{name}.recurrent_weight": r.detach(), f"{name}.grad_input": x.grad, f"{name}.grad_weight": w.grad,
                f"{name}.grad_bias": b.grad, f"{name}.grad_recurrent_weight": r.grad,
                f"{name}.threshold": peer.threshold.detach().clone(), f"{name}.grad_threshold": peer.threshold.grad})
    meta[f"{name}.neuron"] = json.dumps(neuron)
    meta[f"{name}.shape"] = json.dumps([inputs, outputs])
    print(f"{name}: rate {spikes.mean():.3f}")
    assert 0.05 < spikes.mean() < 0.8


def main():
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(42)
    out, meta = {}, {"producer": "bench/make_neuron_fixtures.py", "loss": "L = sum(grad_spikes * spikes)",
                     "layout": f"[T, B, ...] = [{T}, {B}, ...], time-major"}
    for name, (neuron, shape) in CASES.items():
        population_case(name, neuron, shape, gen, out, meta)
    recurrent_case(gen, out, meta)
    save_file({k: v.contiguous().float() for k, v in out.items()}, OUT, metadata=meta)
    print(f"wrote {os.path.relpath(OUT, ROOT)} ({os.path.getsize(OUT)} bytes)")


if __name__ == "__main__":
    main()
