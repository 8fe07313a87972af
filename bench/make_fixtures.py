#!/usr/bin/env python3
"""Writes the small, deterministic fixtures that the Swift tests read.

    python3 bench/make_fixtures.py            # all fixtures
    python3 bench/make_fixtures.py safetensors lif network   # a subset

Python is never needed to build or test SpikeFuse: the files this script writes are
committed. Run it again only when a fixture's definition changes.

Fixtures (see docs/peer.md for every tensor name and shape):
  Tests/SpikeNNTests/Fixtures/python_written.safetensors   written by the `safetensors` package
  Tests/SpikeNNTests/Fixtures/lif_golden.safetensors       a LIF layer: forward and surrogate BPTT
  Tests/MultimodalTests/Fixtures/golden_*.safetensors      the paper's networks, small sizes
"""
import json
import math
import os
import sys

import numpy as np
import torch
from safetensors.torch import save_file

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NN_FIXTURES = os.path.join(ROOT, "Tests", "SpikeNNTests", "Fixtures")
MM_FIXTURES = os.path.join(ROOT, "Tests", "MultimodalTests", "Fixtures")


# ---------------------------------------------------------------------------------------
# a) python_written.safetensors: one tensor per dtype, values from simple formulas.
#    i is the row-major flat index of the element.
PYTHON_WRITTEN_FORMULAS = {
    "f32": ("float32", [2, 3, 4], "i * 0.25 - 3.0"),
    "f64": ("float64", [5], "1.0 / (i + 1)"),
    "f16": ("float16", [3, 2], "(i - 2.5) * 0.5"),
    "bf16": ("bfloat16", [3], "[1.0, -2.5, 0.15625][i]"),
    "i64": ("int64", [4], "(i - 1) * 1000"),
    "i32": ("int32", [3], "(i - 1) * 7"),
    "i16": ("int16", [2], "[-32768, 32767][i]"),
    "i8": ("int8", [2], "[-128, 127][i]"),
    "u8": ("uint8", [4], "[0, 1, 128, 255][i]"),
    "bool": ("bool", [3], "[True, False, True][i]"),
    "f16_special": ("float16", [4], "[2**-24, 2**-14, 65504.0, -inf][i]"),
    "scalar": ("float32", [], "42.5"),
    "empty": ("float32", [0, 3], "(no elements)"),
}


def python_written():
    inf = float("inf")
    tensors = {}
    for name, (dtype, shape, formula) in PYTHON_WRITTEN_FORMULAS.items():
        n = int(np.prod(shape)) if shape else 1
        if name == "empty":
            values = []
        else:
            values = [eval(formula, {"i": i, "inf": inf}) for i in range(n)]
        t = torch.tensor(values, dtype=getattr(torch, dtype)).reshape(shape)
        tensors[name] = t
    metadata = {
        "format": "pt",
        "producer": "bench/make_fixtures.py",
        "formulas": json.dumps({k: v[2] for k, v in PYTHON_WRITTEN_FORMULAS.items()}, sort_keys=True),
        "unicode": "τ = 0.2 µs \"quoted\"",
    }
    path = os.path.join(NN_FIXTURES, "python_written.safetensors")
    save_file(tensors, path, metadata=metadata)
    print(f"wrote {os.path.relpath(path, ROOT)} ({os.path.getsize(path)} bytes)")


# ---------------------------------------------------------------------------------------
# b) lif_golden.safetensors: one LIF population alone, forward and surrogate BPTT.

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pytorch_reference import LIF, PAPER_CONFIG, SpikeFuseReference, losses  # noqa: E402

LIF_T, LIF_N = 20, 16


def lif_case(tau, seed):
    """Currents I [T, N] ~ U(-0.4, 1.2) (float32) with three hand-placed edge cases at t = 0:
    I[0, 0] = 0.5 (u = Vth exactly: spikes, since o = 1 iff u >= Vth), I[0, 1] = 1.0 and
    I[0, 2] = 0.0 (|u - Vth| = a/2 exactly: on the surrogate window's open edge, h = 0).
    Returns (tensors, stats)."""
    g = torch.Generator().manual_seed(seed)
    current = (torch.rand(LIF_T, LIF_N, generator=g) * 1.6 - 0.4).float()
    current[0, 0], current[0, 1], current[0, 2] = 0.5, 1.0, 0.0
    grad_spikes = (torch.rand(LIF_T, LIF_N, generator=g) * 2 - 1).float()
    leaf = current.clone().requires_grad_(True)
    spikes, membrane = LIF(tau, 0.5, 1.0).scan(leaf)
    (grad_spikes * spikes).sum().backward()
    window = ((membrane - 0.5).abs() < 0.5)
    stats = {
        "spike_rate": spikes.mean().item(),
        "resets": int((spikes[:-1] == 1).sum()),
        "in_window": int(window.sum()),
        "below_window": int((membrane <= 0).sum()),
        "above_window": int((membrane >= 1).sum()),
    }
    tensors = {
        "current": current, "spikes": spikes.detach(), "membrane": membrane.detach(),
        "grad_spikes": grad_spikes, "grad_current": leaf.grad.detach(),
    }
    return tensors, stats


def lif_golden():
    out = {}
    meta = {"producer": "bench/make_fixtures.py", "threshold": "0.5", "surrogate_width": "1.0",
            "loss": "L = sum(grad_spikes * spikes); grad_current = dL/dcurrent (reset not detached)",
            "layout": "[T, N] = [20, 16], time-major"}
    for prefix, tau, seed in (("", 0.5, 11), ("tau0.2.", 0.2, 12)):
        tensors, stats = lif_case(tau, seed)
        for k, v in tensors.items():
            out[prefix + k] = v.contiguous()
        meta[prefix + "tau"] = str(tau)
        print(f"lif tau={tau}: {stats}")
        assert stats["resets"] > 0 and stats["in_window"] > 0 and stats["above_window"] > 0 \
            and stats["below_window"] > 0, stats
    path = os.path.join(NN_FIXTURES, "lif_golden.safetensors")
    save_file(out, path, metadata=meta)
    print(f"wrote {os.path.relpath(path, ROOT)} ({os.path.getsize(path)} bytes)")


# ---------------------------------------------------------------------------------------
# c) Golden network fixtures for the Multimodal tests.

GOLDEN_CONFIG = dict(PAPER_CONFIG, timesteps=12, visual_channels=[8, 8], visual_hidden=32,
                     audio_hidden=48, fusion_hidden=16)
GOLDEN_B = 3
GOLDEN_SEED = 2022
QUANTUM = 2.0 ** -12
SCALE_CANDIDATES = [1, 1.5, 2, 3, 4, 5, 6, 8, 10, 12, 16, 20, 24, 32]
TARGET_RATE = 0.15


def quantise_(module):
    """Rounds every parameter to a multiple of 2^-12. With binary (or pooled, multiples of
    1/4) inputs, every pre-activation sum is then a multiple of 2^-14 well inside 2^10, so
    it is exact in float32 whatever the summation order (BLAS, im2col, Winograd): the
    forward pass — spikes and membranes — is bit-identical in any correct implementation."""
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.round(p / QUANTUM) * QUANTUM)


def golden_inputs():
    g = torch.Generator().manual_seed(GOLDEN_SEED + 1)
    T, B = GOLDEN_CONFIG["timesteps"], GOLDEN_B
    visual = (torch.rand(B, T, 2, 28, 28, generator=g) < 0.10).double()
    audio = (torch.rand(B, T, 64, generator=g) < 0.10).double()
    labels = torch.randint(0, 10, (B,), generator=g)
    return visual, audio, labels


def run(model, visual, audio):
    """Batch-major inputs -> time-major forward (float64 weights, float32 membranes)."""
    v = visual.transpose(0, 1).contiguous() if hasattr(model, "visual") else None
    a = audio.transpose(0, 1).contiguous() if hasattr(model, "audio") else None
    return model(v, a, formulation="timebatched")


def calibrate(model, visual, audio, layers):
    """Scales each layer's parameters (default init x s, s from SCALE_CANDIDATES), in
    network order, choosing the s whose firing rate is closest to TARGET_RATE (log scale).
    `layers` is [(layer name whose rate is measured, module whose parameters are scaled)]."""
    scales = {}
    for rate_name, module_name in layers:
        module = model.get_submodule(module_name)
        original = {k: v.detach().clone() for k, v in module.named_parameters()}
        best = None
        for s in SCALE_CANDIDATES:
            with torch.no_grad():
                for k, p in module.named_parameters():
                    p.copy_(original[k] * s)
            quantise_(module)
            with torch.no_grad():
                rate = run(model, visual, audio)["layers"][rate_name].mean().item()
            score = abs(math.log(max(rate, 1e-6) / TARGET_RATE))
            if best is None or score < best[0]:
                best = (score, s)
        with torch.no_grad():
            for k, p in module.named_parameters():
                p.copy_(original[k] * best[1])
        quantise_(module)
        scales[module_name] = best[1]
    return scales


def grad_outputs(model, visual, audio, labels):
    """Forward + backward; the tensors in the format of `spikefuse grad` (batch-major)."""
    model.zero_grad(set_to_none=True)
    out = run(model, visual, audio)
    loss = losses(model, out, labels)
    loss["total"].backward()
    tensors = {}
    for head in ("visual", "audio", "fusion", "total"):
        if head in loss:
            tensors[f"loss.{head}"] = loss[head].detach().reshape([])
    for head in ("visual", "audio", "fusion"):
        if head in out:
            tensors[f"spikes.{head}"] = out[head].detach().sum(0)  # [B, 10]
    if "attention" in out:
        tensors["attention"] = out["attention"].detach().transpose(0, 1)  # [B, T, 2]
    for name, p in model.named_parameters():
        tensors[f"grad.{name}"] = p.grad.detach()
    for name, s in out["layers"].items():
        tensors[f"activity.{name}"] = s.detach().transpose(0, 1).flatten(1).sum(1)  # [B]
    rates = {name: s.mean().item() for name, s in out["layers"].items()}
    return tensors, rates, {k: v.item() for k, v in loss.items()}


def check_golden(model, tensors, rates, label):
    for name, r in rates.items():
        assert 0.02 <= r <= 0.40, f"{label}: layer {name} fires at {r:.3f}, outside 2-40 %"
    for name, p in model.named_parameters():
        assert p.grad is not None and p.grad.abs().max() > 0, f"{label}: zero gradient for {name}"
    # The forward pass must not depend on float64 vs float32 weights (exact sums).
    m32 = SpikeFuseReference(model.cfg).float()
    m32.load_state_dict({k: v.float() for k, v in model.state_dict().items()})
    return m32


def as_f32(tensors):
    return {k: v.detach().to(torch.float32).contiguous() for k, v in tensors.items()}


def network_golden():
    torch.manual_seed(GOLDEN_SEED)
    visual, audio, labels = golden_inputs()
    base = dict(GOLDEN_CONFIG)
    visual_audio_layers = [
        ("visual.conv1", "visual.conv1"), ("visual.conv2", "visual.conv2"),
        ("visual.fc1", "visual.fc1"), ("visual.fc2", "visual.fc2"),
        ("audio.rec1", "audio.rec1"), ("audio.rec2", "audio.rec2"),
        ("audio.rec3", "audio.rec3"), ("audio.out", "audio.out"),
    ]
    results = {}
    shared_state = None
    for mode, fusion_layers, suffix in (
            ("multimodal", [("fusion.hidden", "fusion.hidden"), ("fusion.output", "fusion.attention")], ""),
            ("multimodal-noattention", [("fusion.fc1", "fusion.fc1"), ("fusion.fc2", "fusion.fc2")], "_noattention")):
        cfg = dict(base, mode=mode)
        model = SpikeFuseReference(cfg).double()
        layers = fusion_layers
        if shared_state is None:
            layers = visual_audio_layers + fusion_layers
        else:
            # Same visual and auditory weights as the attention model.
            model.load_state_dict({k: v for k, v in shared_state.items()
                                   if not k.startswith("fusion.")}, strict=False)
        scales = calibrate(model, visual, audio, layers)
        if shared_state is None:
            shared_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            shared_scales = {k: v for k, v in scales.items() if not k.startswith("fusion.")}
        scales = dict(shared_scales, **{k: v for k, v in scales.items() if k.startswith("fusion.")})
        tensors, rates, loss = grad_outputs(model, visual, audio, labels)
        m32 = check_golden(model, tensors, rates, mode)
        t32, _, _ = grad_outputs(m32, visual.float(), audio.float(), labels)
        for k in tensors:
            if k.startswith(("spikes.", "activity.", "attention")):
                assert torch.equal(tensors[k].float(), t32[k]), f"{mode}: {k} differs float32 vs float64"
        max_grad_rel = max(((tensors[k].float() - t32[k]).abs().max() /
                            tensors[k].abs().max().clamp_min(1e-30)).item()
                           for k in tensors if k.startswith("grad."))
        config_json = json.dumps(cfg, sort_keys=True)
        meta = {
            "config": config_json,
            "producer": "bench/make_fixtures.py",
            "seed": str(GOLDEN_SEED),
            "weight_scale": json.dumps(scales, sort_keys=True),
            "weight_quantum": "2^-12",
            "init": "PyTorch default init (seed above) x weight_scale per layer, rounded to multiples of 2^-12",
        }
        params = [(k, v) for k, v in model.named_parameters()]
        save_file(as_f32({k: v for k, v in params}),
                  os.path.join(MM_FIXTURES, f"golden_weights{suffix}.safetensors"), metadata=meta)
        gmeta = {"config": config_json, "producer": "bench/make_fixtures.py", "mode": mode,
                 "layout": "batch-major [B, ...]; spikes.* and activity.* are spike counts over T",
                 "precision": "weights, inputs and pre-activation sums float64 (exact), membranes and their gradients float32 (as in SpikeFuse); stored as F32"}
        save_file(as_f32(tensors), os.path.join(MM_FIXTURES, f"golden_grads{suffix}.safetensors"),
                  metadata=gmeta)
        results[mode] = (rates, loss, scales, max_grad_rel)
    # Unimodal modes (L = Lv or La alone) with the same weights, to isolate subnetwork bugs.
    for mode in ("visual", "audio"):
        cfg = dict(base, mode=mode)
        model = SpikeFuseReference(cfg).double()
        model.load_state_dict({k: v for k, v in shared_state.items() if k.startswith(mode + ".")})
        tensors, rates, loss = grad_outputs(model, visual, audio, labels)
        m32 = check_golden(model, tensors, rates, mode)
        t32, _, _ = grad_outputs(m32, visual.float(), audio.float(), labels)
        for k in tensors:
            if k.startswith(("spikes.", "activity.")):
                assert torch.equal(tensors[k].float(), t32[k]), f"{mode}: {k} differs float32 vs float64"
        max_grad_rel = max(((tensors[k].float() - t32[k]).abs().max() /
                            tensors[k].abs().max().clamp_min(1e-30)).item()
                           for k in tensors if k.startswith("grad."))
        gmeta = {"config": json.dumps(cfg, sort_keys=True), "producer": "bench/make_fixtures.py",
                 "mode": mode, "weights": "golden_weights.safetensors (the " + mode + ".* tensors)",
                 "layout": "batch-major [B, ...]; spikes.* and activity.* are spike counts over T",
                 "precision": "weights, inputs and pre-activation sums float64 (exact), membranes and their gradients float32 (as in SpikeFuse); stored as F32"}
        save_file(as_f32(tensors), os.path.join(MM_FIXTURES, f"golden_grads_{mode}.safetensors"), metadata=gmeta)
        results[mode] = (rates, loss, {}, max_grad_rel)
    save_file(as_f32({"visual_input": visual, "audio_input": audio}) | {"labels": labels.to(torch.int64)},
              os.path.join(MM_FIXTURES, "golden_inputs.safetensors"),
              metadata={"producer": "bench/make_fixtures.py", "seed": str(GOLDEN_SEED + 1),
                        "layout": "visual_input [B, T, 2, 28, 28], audio_input [B, T, 64], labels [B]",
                        "density": "each bin is 1 with probability 0.10"})
    for mode, (rates, loss, scales, rel) in results.items():
        print(f"{mode}: losses {{{', '.join(f'{k}: {v:.6f}' for k, v in loss.items())}}}")
        print("  firing rates: " + ", ".join(f"{k} {v:.3f}" for k, v in rates.items()))
        print(f"  weight scales: {scales}")
        print(f"  float32 vs float64 gradients: max relative difference {rel:.2e}")
    for f in sorted(os.listdir(MM_FIXTURES)):
        if f.endswith(".safetensors"):
            print(f"wrote Tests/MultimodalTests/Fixtures/{f} ({os.path.getsize(os.path.join(MM_FIXTURES, f))} bytes)")


def variant_golden(label, suffix, cfg, state, init_note, exact_attention=True, exact_fused=True):
    """A golden fixture for a configuration variant of the golden attention model: `state`
    loaded into `SpikeFuseReference(cfg)`, one forward + backward on the golden inputs, the
    float32 forward checked against float64 -> golden_{weights,grads}_<suffix>. Softmax
    weights are not exact sums, so with `exact_attention=False` the attention weights are
    compared within float32 rounding instead of exactly; with `exact_fused=False` (a real-valued
    fused output, the integrator readout) so is the fused output."""
    visual, audio, labels = golden_inputs()
    model = SpikeFuseReference(cfg).double()
    model.load_state_dict({k: v.double() for k, v in state.items()})
    tensors, rates, loss = grad_outputs(model, visual, audio, labels)
    m32 = check_golden(model, tensors, rates, label)
    t32, _, _ = grad_outputs(m32, visual.float(), audio.float(), labels)
    exact = ("spikes.", "activity.", "attention") if exact_attention else ("spikes.", "activity.")
    for k in tensors:
        if k.startswith(exact) and (exact_fused or k != "spikes.fusion"):
            assert torch.equal(tensors[k].float(), t32[k]), f"{label}: {k} differs float32 vs float64"
    if not exact_attention:
        assert torch.allclose(tensors["attention"].float(), t32["attention"], atol=1e-6), f"{label}: attention"
    if not exact_fused:
        assert torch.allclose(tensors["spikes.fusion"].float(), t32["spikes.fusion"], atol=1e-5), f"{label}: fused output"
    config_json = json.dumps(cfg, sort_keys=True)
    save_file(as_f32(dict(model.named_parameters())), os.path.join(MM_FIXTURES, f"golden_weights_{suffix}.safetensors"),
              metadata={"config": config_json, "producer": "bench/make_fixtures.py", "init": init_note})
    save_file(as_f32(tensors), os.path.join(MM_FIXTURES, f"golden_grads_{suffix}.safetensors"),
              metadata={"config": config_json, "producer": "bench/make_fixtures.py", "mode": "multimodal",
                        "layout": "batch-major [B, ...]; spikes.* and activity.* are spike counts over T"})
    print(f"{label}: losses {loss}")
    print("  firing rates: " + ", ".join(f"{k} {v:.3f}" for k, v in rates.items()))


def integrator_golden():
    """`attention_readout: integrator` (SpikeFuse's IntegratorFusion: 0.25 softmax weights, no
    output neuron, (2/T) CE as Lm, heads detached) on the golden attention weights: the fused
    output is the weighted current, its "spike counts" real sums -> golden_{weights,grads}_integrator."""
    from safetensors.torch import load_file
    attention = load_file(os.path.join(MM_FIXTURES, "golden_weights.safetensors"))
    cfg = dict(GOLDEN_CONFIG, mode="multimodal", attention_readout="integrator")
    variant_golden("integrator", "integrator", cfg, attention, "golden_weights.safetensors",
                   exact_attention=False, exact_fused=False)


def main(argv):
    which = argv[1:] or ["safetensors", "lif", "network"]
    os.makedirs(NN_FIXTURES, exist_ok=True)
    os.makedirs(MM_FIXTURES, exist_ok=True)
    if "safetensors" in which:
        python_written()
    if "lif" in which:
        lif_golden()
    if "network" in which:
        network_golden()
    if "network" in which or "integrator" in which:
        integrator_golden()


if __name__ == "__main__":
    main(sys.argv)
