#!/usr/bin/env python3
"""The PyTorch peer of any SpikeFuse network description (JSON; Sources/SpikeNN/NetworkDescription.swift).

    from pytorch_network import DescribedNetwork
    model = DescribedNetwork(json.load(open("net.json")))
    out = model(visual=x_v, audio=x_a)       # time-major [T, B, ...] inputs

Builds the model from the description alone (no paper config): each branch's layers in
order, with exactly SpikeFuse's semantics (Sources/SpikeNN/NetworkBuilder.swift):
  conv2d      nn.Conv2d(C_in, channels, kernel, stride, padding), PyTorch default init
  linear      nn.Linear(N, features)
  recurrent   RecurrentLinear + LIF inside the recurrence: I[t] = W x[t] + b + R o[t-1]
  lif         LIF on the previous layer's output (its own neuron, else the branch's)
  avgpool2d   F.avg_pool2d(k) (kernel = stride, floor)
  maxpool2d   F.max_pool2d(k) (kernel = stride, floor; the gradient goes to the window's
              first maximum in row-major order, as SpikeFuse's MaxPool2dKernel)
  flatten     [C, H, W] -> [C*H*W]
  dropout     in training, one Bernoulli mask per sample fixed over all T (torch's generator,
              so not SpikeFuse's masks), scaled by 1/(1 - rate); the identity in eval mode
The LIF dynamics, surrogate (with dampening), reset path in the gradient and the recurrent
layer are pytorch_reference.py's (imported, not copied). Fusion: "attention" (either
readout) and "concatenation" reuse pytorch_reference.py's AttentionFusion / ConcatFusion
with the description's hidden width and fusion neuron.

Parameter names are SpikeFuse's ("<branch>.<layer name>.weight|bias|recurrent_weight",
"fusion.*"), so a state_dict and a SpikeFuse checkpoint load into each other. Outputs as
SpikeFuseReference.forward: "visual" (the dvs branch), "audio" (the cochlea branch),
"fusion", "attention", and "layers" {name: spikes} for every spiking layer.
"""
import math
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pytorch_reference import (LIF, AttentionFusion, ConcatFusion, FusedRecurrentScan, NeuronModelPeer,  # noqa: E402
                               RecurrentLinear)

# The head each input modality's branch feeds (GradientReport's spikes.<head>, loss.<head>).
HEADS = {"dvs": "visual", "cochlea": "audio"}


# The keys of the paper's LIF; any other key (reset, surrogate, adaptation, …) is a neuron model.
PLAIN_LIF_KEYS = {"model", "tau", "threshold", "surrogate_width", "surrogate_dampening"}


class ModelNeuron:
    """Any other neuron of a description (IF, cuba_lif, adaptive_lif, another reset or
    surrogate): pytorch_reference's NeuronModelPeer, its fused scan (FusedNeuronScan) in the
    fused formulation, its autograd step loop otherwise. Learnt constants (learn_tau,
    learn_threshold) would need parameters named as SpikeFuse's: not supported here yet."""

    def __init__(self, n):
        if n.get("learn_tau") or n.get("learn_threshold"):
            raise ValueError("learnt neuron constants (learn_tau, learn_threshold) are not in the described-network peer yet")
        self.n = dict(n)

    def scan(self, x, recurrent=None):
        """current [T, B, *shape] (and R for a recurrent layer) -> (spikes, membrane or None)."""
        peer = NeuronModelPeer(self.n, list(x.shape[2:]))
        return peer.fused(x, recurrent) if LIF.fused else peer(x, recurrent=recurrent)


def neuron_lif(n):
    """A NeuronDescription (JSON object) as pytorch_reference's LIF, or a ModelNeuron for any
    other model or setting; left-out constants take the paper's values, as NeuronDescription
    decodes them."""
    if n.get("model", "lif") != "lif" or set(n) - PLAIN_LIF_KEYS:
        return ModelNeuron(n)
    return LIF(n["tau"], n.get("threshold", 0.5), n.get("surrogate_width", 1.0), n.get("surrogate_dampening", 1.0))


def recurrent_scan(layer, lif, ff):
    """One recurrent LIF layer over ff = W x + b [T, B, out] -> spikes [T, B, out]."""
    if isinstance(lif, ModelNeuron):
        return lif.scan(ff, layer.recurrent_weight)[0]
    if LIF.fused:
        return FusedRecurrentScan.apply(ff, layer.recurrent_weight, lif.tau, lif.threshold, lif.width, lif.height)
    u = o = None
    spikes = []
    for ff_t in ff.unbind(0):
        current = ff_t if o is None else ff_t + layer.recurrent(o)
        u, o = lif.step(current, u, o)
        spikes.append(o)
    return torch.stack(spikes)


class Branch(nn.Module):
    """One branch: its layers in order on [T, B, *input shape]. Submodules are named by the
    description's layer names, so parameters are "<layer name>.weight" inside the branch."""

    def __init__(self, b, classes):
        super().__init__()
        self.branch_name = b["name"]
        default = neuron_lif(b["neuron"])
        shape = list(b["input"]["shape"])
        self.steps = []        # (kind, module name or None, LIF or None, int argument)
        self.spiking_names = []
        layers = b["layers"]
        for i, item in enumerate(layers):
            kind = item["type"]
            label = f"branch {self.branch_name!r}, layer {i + 1}"
            if kind == "conv2d":
                if len(shape) != 3:
                    raise ValueError(f"{label}: conv2d needs [C, H, W] input, got {shape}")
                k, s, p = item["kernel"], item.get("stride", 1), item.get("padding", 0)
                self.add_module(item["name"], nn.Conv2d(shape[0], item["channels"], k, stride=s, padding=p))
                shape = [item["channels"], (shape[1] + 2 * p - k) // s + 1, (shape[2] + 2 * p - k) // s + 1]
                self.steps.append(("conv2d", item["name"], None, 0))
            elif kind == "linear":
                if len(shape) != 1:
                    raise ValueError(f"{label}: linear needs [N] input, got {shape}")
                self.add_module(item["name"], nn.Linear(shape[0], item["features"]))
                shape = [item["features"]]
                self.steps.append(("linear", item["name"], None, 0))
            elif kind == "recurrent":
                if len(shape) != 1:
                    raise ValueError(f"{label}: recurrent needs [N] input, got {shape}")
                self.add_module(item["name"], RecurrentLinear(shape[0], item["features"]))
                shape = [item["features"]]
                lif = neuron_lif(item["neuron"]) if item.get("neuron") else default
                self.steps.append(("recurrent", item["name"], lif, 0))
            elif kind == "lif":
                lif = neuron_lif(item["neuron"]) if item.get("neuron") else default
                self.steps.append(("lif", None, lif, 0))
            elif kind in ("avgpool2d", "maxpool2d"):
                k = item["kernel"]
                if len(shape) != 3 or shape[1] < k or shape[2] < k:
                    raise ValueError(f"{label}: a {k}x{k} pool needs [C, H, W] of at least {k}x{k}, got {shape}")
                shape = [shape[0], shape[1] // k, shape[2] // k]
                self.steps.append((kind, None, None, k))
            elif kind == "flatten":
                shape = [math.prod(shape)]
                self.steps.append(("flatten", None, None, 0))
            elif kind == "dropout":
                self.steps.append(("dropout", None, None, float(item["rate"])))
            else:
                raise ValueError(f"{label}: unknown layer type {kind!r}")
        if shape != [classes]:
            raise ValueError(f"branch {self.branch_name!r}: output {shape}, expected [{classes}]")
        # Names of the spiking layers, as SpikeFuse's: a synapse + lif is "<branch>.<synapse>",
        # a lone lif "<branch>.lif<item number>".
        self.record_names = []
        for i, (kind, name, _, _) in enumerate(self.steps):
            if kind == "recurrent":
                self.record_names.append(f"{self.branch_name}.{name}")
            elif kind == "lif":
                prev = self.steps[i - 1] if i > 0 else None
                if prev is not None and prev[0] in ("conv2d", "linear"):
                    self.record_names.append(f"{self.branch_name}.{prev[1]}")
                else:
                    self.record_names.append(f"{self.branch_name}.lif{i + 1}")
            else:
                self.record_names.append(None)

    def timebatched(self, x, record):
        """x [T, B, *input shape] -> output spikes [T, B, classes]."""
        T, B = x.shape[:2]
        for (kind, name, lif, k), record_name in zip(self.steps, self.record_names):
            if kind == "conv2d":
                x = getattr(self, name)(x.flatten(0, 1)).unflatten(0, (T, B))
            elif kind == "linear":
                x = getattr(self, name)(x)
            elif kind == "recurrent":
                layer = getattr(self, name)
                x = recurrent_scan(layer, lif, layer.feedforward(x))
            elif kind == "lif":
                x, _ = lif.scan(x)
            elif kind == "avgpool2d":
                x = F.avg_pool2d(x.flatten(0, 1), k).unflatten(0, (T, B))
            elif kind == "maxpool2d":
                x = F.max_pool2d(x.flatten(0, 1), k).unflatten(0, (T, B))
            elif kind == "flatten":
                x = x.flatten(2)
            elif kind == "dropout" and self.training and k > 0:
                keep = (torch.rand(x.shape[1:], device=x.device) >= k).to(x.dtype) / (1 - k)
                x = x * keep          # [B, ...] broadcast over T: one mask per sample
            if record_name is not None:
                record[record_name] = x
        return x


class DescribedNetwork(nn.Module):
    """The whole model of one description (a dict, as json.load reads the file)."""

    def __init__(self, description):
        super().__init__()
        d = description
        self.description = d
        classes = d["classes"]
        self.heads = {}        # head ("visual"/"audio") -> branch name
        for b in d["branches"]:
            head = HEADS[b["input"]["modality"]]
            if head in self.heads:
                raise ValueError(f"a second {b['input']['modality']} branch ({b['name']!r})")
            if b["name"] == "fusion" or "." in b["name"]:
                raise ValueError(f"branch name {b['name']!r}")
            self.add_module(b["name"], Branch(b, classes))
            self.heads[head] = b["name"]
        f = d.get("fusion")
        readout = (f or {}).get("readout") or "neuron"
        # The settings losses() and the fusion classes read (never the paper's config).
        self.cfg = {"classes": classes, "timesteps": d["timesteps"],
                    "attention_readout": readout if f and f["kind"] == "attention" else "neuron"}
        self.into_fusion = lambda o: o
        if f is not None:
            if set(self.heads) != {"visual", "audio"}:
                raise ValueError("a fusion needs a dvs and a cochlea branch")
            n = f["neuron"]
            fcfg = {"classes": classes, "fusion_hidden": f["hidden"], "tau_fusion": n["tau"],
                    "threshold": n.get("threshold", 0.5), "surrogate_width": n.get("surrogate_width", 1.0),
                    "attention_readout": readout}
            if f["kind"] == "attention":
                self.fusion = AttentionFusion(fcfg)
                if readout == "integrator":
                    self.into_fusion = lambda o: o.detach()
            elif f["kind"] == "concatenation":
                self.fusion = ConcatFusion(fcfg)
            else:
                raise ValueError(f"unknown fusion kind {f['kind']!r}")
            self.fusion.lif = neuron_lif(n)   # the description's neuron, dampening included
        elif len(self.heads) > 1:
            raise ValueError("several branches need a fusion")

    def forward(self, visual=None, audio=None, formulation="timebatched"):
        """visual [T, B, *dvs shape], audio [T, B, *cochlea shape] (the ones the network
        has), time-major. formulation: "timebatched" or "fused" (pytorch_reference's)."""
        if formulation == "fused":
            LIF.fused = True
            try:
                return self.forward(visual, audio, "timebatched")
            finally:
                LIF.fused = False
        if formulation != "timebatched":
            raise ValueError(f"unknown formulation {formulation!r}")
        record = {}
        out = {"layers": record}
        inputs = {"visual": visual, "audio": audio}
        for head, name in self.heads.items():
            if inputs[head] is None:
                raise ValueError(f"the network's {head} branch {name!r} needs its input")
            out[head] = getattr(self, name).timebatched(inputs[head], record)
        if hasattr(self, "fusion"):
            fused, w = self.fusion.timebatched(self.into_fusion(out["visual"]), self.into_fusion(out["audio"]), record)
            out["fusion"] = fused
            if w is not None:
                out["attention"] = w
        return out
