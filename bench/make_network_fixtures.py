#!/usr/bin/env python3
"""Golden fixtures for networks described as JSON, made by the JSON-built PyTorch peer
(bench/pytorch_network.py) — a second network family beside the paper's.

    bench/.venv/bin/python bench/make_network_fixtures.py

First checks the peer: F.max_pool2d's tie rule (first maximum, as SpikeFuse's), and the
JSON-built paper networks against make_fixtures.py's golden numbers. Then reads the
committed descriptions Tests/MultimodalTests/Fixtures/network_family2.json (one
dvs branch: 5x5 stride-2 conv, max pooling, three convs, a recurrent layer, per-layer
neurons) and network_family2_multimodal.json (the same visual branch, a cochlea branch and
attention fusion) and writes, next to them:
  golden_family2_inputs.safetensors             visual_input [B, T, 2, 32, 32] (U8 0/1),
                                                audio_input [B, T, 16] (U8 0/1), labels [B]
  golden_family2[_multimodal]_weights.safetensors   every parameter (F32), metadata
                                                "config" = {"network": <description>}
  golden_family2[_multimodal]_expected.safetensors  `spikefuse grad`'s tensors: loss.*,
                                                spikes.*, attention, grad.*, activity.*
Weights: PyTorch default init (seeded), scaled per layer towards a 15 % firing rate and
rounded to multiples of 2^-12, so every pre-activation sum is exact in float32 and the
forward pass is bit-identical in any correct implementation (make_fixtures.py's scheme).
Deterministic: rerunning writes the same tensors.
"""
import json
import math
import os
import sys

import torch
import torch.nn.functional as F
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_fixtures import MM_FIXTURES, QUANTUM, SCALE_CANDIDATES, TARGET_RATE, as_f32, quantise_  # noqa: E402
from pytorch_network import DescribedNetwork  # noqa: E402
from pytorch_reference import losses  # noqa: E402

SEED = 3939
BATCH = 4
DENSITY = 0.15
DENSE = 0.30


def load(name):
    with open(os.path.join(MM_FIXTURES, name)) as f:
        return json.load(f)


def inputs(visual_shape, audio_shape, timesteps, classes, seed, density=DENSITY):
    """Batch-major 0/1 inputs with every bin 1 with probability `density`, and labels."""
    g = torch.Generator().manual_seed(seed)
    visual = (torch.rand([BATCH, timesteps] + visual_shape, generator=g) < density).double()
    audio = (torch.rand([BATCH, timesteps] + audio_shape, generator=g) < density).double()
    labels = torch.randint(0, classes, (BATCH,), generator=g)
    return visual, audio, labels


def run(model, visual, audio):
    """Batch-major inputs -> the model's time-major forward (those inputs it has)."""
    v = visual.transpose(0, 1).contiguous() if "visual" in model.heads else None
    a = audio.transpose(0, 1).contiguous() if "audio" in model.heads else None
    return model(v, a)


def layers_to_calibrate(model):
    """[(recorded spiking layer, module scaled)] in network order: each synapse with the first
    spiking layer at or after it; the attention fusion as make_fixtures.py calibrates it."""
    pairs = []
    for head, name in model.heads.items():
        branch = getattr(model, name)
        for i, (kind, module, _, _) in enumerate(branch.steps):
            if module is not None:
                rate = next(r for r in branch.record_names[i:] if r is not None)
                pairs.append((rate, f"{name}.{module}"))
    if hasattr(model, "fusion"):
        names = [n for n, _ in model.fusion.named_children()]
        if "attention" in names:
            pairs += [("fusion.hidden", "fusion.hidden"), ("fusion.output", "fusion.attention")]
        else:
            pairs += [("fusion.fc1", "fusion.fc1"), ("fusion.fc2", "fusion.fc2")]
    return pairs


def calibrate(model, visual, audio, pairs):
    """Scales each module's default-init parameters by the s in SCALE_CANDIDATES whose firing
    rate is closest to TARGET_RATE (log scale), in network order, then quantises them."""
    scales = {}
    for rate_name, module_name in pairs:
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


def expected(model, visual, audio, labels):
    """Forward + backward -> the tensors `spikefuse grad` writes (batch-major), firing rates."""
    model.zero_grad(set_to_none=True)
    out = run(model, visual, audio)
    loss = losses(model, out, labels)
    loss["total"].backward()
    tensors = {}
    for head in ("visual", "audio", "fusion", "total"):   # spikefuse grad writes all four; 0 if absent
        tensors[f"loss.{head}"] = loss[head].detach().reshape([]) if head in loss else torch.zeros([], dtype=torch.float64)
    for head in ("visual", "audio", "fusion"):
        if head in out:
            tensors[f"spikes.{head}"] = out[head].detach().sum(0)   # [B, classes]
    if "attention" in out:
        tensors["attention"] = out["attention"].detach().transpose(0, 1)   # [B, T, 2]
    for name, p in model.named_parameters():
        tensors[f"grad.{name}"] = p.grad.detach()
    for name, s in out["layers"].items():
        tensors[f"activity.{name}"] = s.detach().transpose(0, 1).flatten(1).sum(1)   # [B]
    rates = {name: s.mean().item() for name, s in out["layers"].items()}
    return tensors, rates, {k: v.item() for k, v in loss.items()}


def golden(label, description, visual, audio, labels, seed, state=None, write_weights=True):
    """One fixture pair for `description`, initialised from `seed`; `state` (parameters by
    name) fixes the layers it names, the others are calibrated. Returns the parameters.
    write_weights=False: only golden_<label>_expected (weights: another fixture's)."""
    torch.manual_seed(seed)
    model = DescribedNetwork(description).double()
    pairs = layers_to_calibrate(model)
    if state is not None:
        model.load_state_dict({k: v.double() for k, v in state.items()}, strict=False)
        pairs = [(r, m) for r, m in pairs if not any(k.startswith(m + ".") for k in state)]
    scales = calibrate(model, visual, audio, pairs)
    tensors, rates, loss = expected(model, visual, audio, labels)
    for name, r in rates.items():
        assert 0.02 <= r <= 0.40, f"{label}: layer {name} fires at {r:.3f}, outside 2-40 %"
    for name, p in model.named_parameters():
        assert p.grad is not None and p.grad.abs().max() > 0, f"{label}: zero gradient for {name}"
    # The forward pass must not depend on float64 vs float32 weights (exact sums).
    m32 = DescribedNetwork(description).float()
    m32.load_state_dict({k: v.float() for k, v in model.state_dict().items()})
    t32, _, _ = expected(m32, visual.float(), audio.float() if audio is not None else None, labels)
    for k in tensors:
        if k.startswith(("spikes.", "activity.", "attention")):
            assert torch.equal(tensors[k].float(), t32[k]), f"{label}: {k} differs float32 vs float64"
    rel = max(((tensors[k].float() - t32[k]).abs().max() / tensors[k].abs().max().clamp_min(1e-30)).item()
              for k in tensors if k.startswith("grad."))
    config = json.dumps({"network": description}, sort_keys=True)
    meta = {"config": config, "producer": "bench/make_network_fixtures.py", "seed": str(seed),
            "weight_scale": json.dumps(scales, sort_keys=True), "weight_quantum": "2^-12",
            "init": "PyTorch default init (seed above) x weight_scale per layer, rounded to multiples of 2^-12"}
    params = dict(model.named_parameters())
    if write_weights:
        save_file(as_f32(params), os.path.join(MM_FIXTURES, f"golden_{label}_weights.safetensors"), metadata=meta)
    save_file(as_f32(tensors), os.path.join(MM_FIXTURES, f"golden_{label}_expected.safetensors"),
              metadata={"config": config, "producer": "bench/make_network_fixtures.py",
                        "layout": "batch-major [B, ...]; spikes.* and activity.* are spike counts over T",
                        "precision": "weights, inputs and pre-activation sums float64 (exact), membranes and their gradients float32 (as in SpikeFuse); stored as F32"})
    print(f"{label}: losses {{{', '.join(f'{k}: {v:.6f}' for k, v in loss.items())}}}")
    print("  firing rates: " + ", ".join(f"{k} {v:.3f}" for k, v in rates.items()))
    print(f"  weight scales: {scales}")
    print(f"  float32 vs float64 gradients: max relative difference {rel:.2e}")
    return {k: v.detach() for k, v in params.items()}


def max_pool_tie_check():
    """F.max_pool2d's gradient goes to each window's first maximum in row-major order, the
    rule of SpikeFuse's MaxPool2dKernel; on spikes most windows hold ties."""
    g = torch.Generator().manual_seed(SEED + 2)
    for dtype in (torch.float32, torch.float64):
        for k in (2, 3):
            for channels_last in (False, True):
                x = (torch.rand(6, 4, 12, 13, generator=g) < 0.4).to(dtype)
                if channels_last:
                    x = x.contiguous(memory_format=torch.channels_last)
                x.requires_grad_(True)
                dy = torch.rand(6, 4, 12 // k, 13 // k, generator=g).to(dtype)
                (F.max_pool2d(x, k) * dy).sum().backward()
                want = torch.zeros(6, 4, 12, 13, dtype=dtype)
                windows = x.detach()[:, :, :12 // k * k, :13 // k * k].unfold(2, k, k).unfold(3, k, k)
                windows = windows.reshape(6, 4, 12 // k, 13 // k, k * k)
                # argmax of (value == window max) as integers: the first maximum's index
                first = (windows == windows.amax(-1, keepdim=True)).to(torch.int64).argmax(-1)
                for n, c, i, j in torch.cartesian_prod(*(torch.arange(s) for s in first.shape)).tolist():
                    a, b = divmod(first[n, c, i, j].item(), k)
                    want[n, c, i * k + a, j * k + b] += dy[n, c, i, j]
                ties = int(((windows > 0).sum(-1) > 1).sum())
                assert ties > first.numel() // 2, "too few ties to test the rule"
                assert torch.equal(x.grad, want), f"max_pool2d tie rule differs (k={k}, {dtype}, channels_last={channels_last})"
    print("max_pool2d: the gradient goes to the first maximum of each window, as MaxPool2dKernel")


def paper_cross_check():
    """The JSON-built peer on the paper's shipped descriptions (Sources/Multimodal/Networks),
    resized to make_fixtures.py's golden sizes, reproduces pytorch_reference.py's golden
    fixtures: the same spike counts and attention, losses and gradients to float rounding."""
    from safetensors.torch import load_file
    from make_fixtures import GOLDEN_CONFIG, golden_inputs
    networks = os.path.join(os.path.dirname(MM_FIXTURES), "..", "..", "Sources", "Multimodal", "Networks")
    visual, audio, labels = golden_inputs()
    c = GOLDEN_CONFIG
    sizes = {"conv1": c["visual_channels"][0], "conv2": c["visual_channels"][1], "fc1": c["visual_hidden"],
             "rec1": c["audio_hidden"], "rec2": c["audio_hidden"], "rec3": c["audio_hidden"]}
    for file, suffix, readout in (("paper-multimodal.json", "", None),
                                  ("paper-multimodal-noattention.json", "_noattention", None),
                                  ("paper-multimodal.json", "_integrator", "integrator")):
        with open(os.path.join(networks, file)) as f:
            d = json.load(f)
        d["timesteps"] = c["timesteps"]
        d["fusion"]["hidden"] = c["fusion_hidden"]
        if readout:
            d["fusion"]["readout"] = readout
        for b in d["branches"]:
            for item in b["layers"]:
                key = "channels" if item["type"] == "conv2d" else "features"
                if item.get("name") in sizes:
                    item[key] = sizes[item["name"]]
        model = DescribedNetwork(d).double()
        model.load_state_dict({k: v.double() for k, v in load_file(os.path.join(MM_FIXTURES, f"golden_weights{suffix}.safetensors")).items()})
        got, _, _ = expected(model, visual, audio, labels)
        want = load_file(os.path.join(MM_FIXTURES, f"golden_grads{suffix}.safetensors"))
        for k, v in want.items():
            g = got[k].float()
            if k.startswith(("spikes.", "activity.")) and not (readout and k == "spikes.fusion"):
                assert torch.equal(g, v), f"paper{suffix}: {k} differs from pytorch_reference"
            else:
                assert (g - v).norm() <= 1e-5 * v.norm() + 1e-7, f"paper{suffix}: {k} differs from pytorch_reference"
        print(f"paper{suffix}: the JSON-built peer reproduces golden_grads{suffix} ({len(want)} tensors)")


def save_inputs(label, visual, audio, labels, seed, density=DENSITY):
    """Inputs as U8 0/1 (labels I64), batch-major; audio may be None."""
    tensors = {"visual_input": visual.to(torch.uint8).contiguous(), "labels": labels.to(torch.int64)}
    layout = f"visual_input {list(visual.shape)}"
    if audio is not None:
        tensors["audio_input"] = audio.to(torch.uint8).contiguous()
        layout += f", audio_input {list(audio.shape)}"
    save_file(tensors, os.path.join(MM_FIXTURES, f"golden_{label}_inputs.safetensors"),
              metadata={"producer": "bench/make_network_fixtures.py", "seed": str(seed),
                        "layout": layout + " [B, T, ...] (0/1 as U8), labels [B]",
                        "density": f"each bin is 1 with probability {density}"})


def main():
    max_pool_tie_check()
    paper_cross_check()
    single = load("network_family2.json")
    multi = load("network_family2_multimodal.json")
    dvs = next(b for b in multi["branches"] if b["input"]["modality"] == "dvs")
    cochlea = next(b for b in multi["branches"] if b["input"]["modality"] == "cochlea")
    assert dvs == single["branches"][0], "the two descriptions must share the visual branch"
    visual, audio, labels = inputs(dvs["input"]["shape"], cochlea["input"]["shape"], single["timesteps"],
                                   single["classes"], SEED + 1)
    params = golden("family2", single, visual, audio, labels, SEED)
    # Its own seed for the cochlea branch and fusion: with SEED both attention weights start
    # negative and the fused output never fires, whatever the scale.
    golden("family2_multimodal", multi, visual, audio, labels, SEED + 3, state=params)
    save_inputs("family2", visual, audio, labels, SEED + 1)
    # The same weights on denser input (30 %, above Conv2d's 17 % crossover): conv1 (5x5,
    # stride 2) then runs im2col + GEMM instead of the event-driven kernel.
    visual, audio, labels = inputs(dvs["input"]["shape"], cochlea["input"]["shape"], single["timesteps"],
                                   single["classes"], SEED + 6, density=DENSE)
    golden("family2_dense", single, visual, audio, labels, SEED, state=params, write_weights=False)
    save_inputs("family2_dense", visual, audio, labels, SEED + 6, density=DENSE)
    # Odd shapes and compositions: a synapse without its own LIF (conv, max pool 3, then a
    # lone LIF), P = 1, 30x30, no padding, stride 2 with a 3x3 kernel, a recurrent output layer.
    odd = load("network_family3.json")
    visual, _, labels = inputs(odd["branches"][0]["input"]["shape"], [1], odd["timesteps"], odd["classes"], SEED + 5)
    golden("family3", odd, visual, None, labels, SEED + 4)
    save_inputs("family3", visual, None, labels, SEED + 5)
    for f in sorted(os.listdir(MM_FIXTURES)):
        if f.startswith(("golden_family2", "golden_family3")):
            print(f"wrote Tests/MultimodalTests/Fixtures/{f} ({os.path.getsize(os.path.join(MM_FIXTURES, f))} bytes)")


if __name__ == "__main__":
    main()
