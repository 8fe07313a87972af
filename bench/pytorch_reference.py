#!/usr/bin/env python3
"""An independent PyTorch implementation of the paper's networks (the SpikeFuse peer).

Liu et al., "Event-based multimodal spiking neural network with attention mechanism",
ICASSP 2022. It serves two purposes:
  * golden numbers: bench/make_fixtures.py uses it to write the fixtures that the Swift
    tests compare against (forward spikes, losses, gradients of every parameter);
  * speed comparison: `python3 bench/pytorch_reference.py bench …` prints one JSON line.

Semantics (binding; the Swift side implements exactly the same):
  Iterative LIF, per layer (eqs. 1-4):
      u[t] = tau * u[t-1] * (1 - o[t-1]) + I[t],   o[t] = 1 if u[t] >= Vth else 0,
      u[-1] = o[-1] = 0, Vth = 0.5.
  Backward (eq. 9): do/du = h(u) = (1/a) * 1{|u - Vth| < a/2}, a = 1.0. The reset
  factor (1 - o[t-1]) is NOT detached: gradients flow through o[t-1] there too.
  Visual (tau 0.2), input [T, B, 2, 28, 28]: conv1 3x3 pad 1 + LIF -> avgpool 2 ->
      conv2 3x3 pad 1 + LIF -> avgpool 2 -> flatten (c2*7*7) -> fc1 + LIF -> fc2 (10) + LIF.
  Auditory (tau 0.1), input [T, B, 64]: rec1, rec2, rec3, out; each recurrent LIF:
      I[t] = W x[t] + b + R o[t-1]   (R = recurrent_weight [out, out], no bias).
  Attention fusion (tau 0.9), mode "multimodal": c[t] = concat(o_v[t], o_a[t]) (20) ->
      fusion.hidden Linear(20->H) + LIF -> fusion.attention Linear(H->2) = [w_v, w_a]
      (plain affine) -> output LIF (10 neurons) with input current w_v o_v[t] + w_a o_a[t]
      ("attention_readout": "neuron", the paper's, the default).
      With "attention_readout": "integrator" (SpikeFuse's IntegratorFusion) the weights are
      0.25 softmax(z), fusion.attention starts at weight 0, bias 0 (the equal split), there
      is no output neuron (the fused output is w_v o_v[t] + w_a o_a[t] itself, its sum over t
      the class scores), Lm is (2/T) cross-entropy on those scores, and o_v, o_a enter the
      fusion detached (Lm trains the fusion only).
  Mode "multimodal-noattention": concat -> fusion.fc1 (20->H) + LIF -> fusion.fc2 (H->10) + LIF.
  Loss per head: mean over batch of sum_c (Y_c - (1/T) sum_t o_c[t])^2; total
      L = Lv + La + Lm (multimodal modes), Lv (visual), La (audio).

Three formulations with identical maths:
  "loop":        the whole network advances one timestep at a time;
  "timebatched": each feed-forward layer (conv, linear, the feed-forward part of the
                 recurrent layers) runs once over all T*B rows, then the LIF scan runs
                 step by step under autograd;
  "fused":       as timebatched, but every LIF scan (and each recurrent layer's whole
                 scan) is one custom autograd.Function with a hand-written BPTT backward
                 over T (eq. 8, the reset path kept) -- the formulation of SpikingJelly's
                 and Norse's fast CPU paths, and the strongest peer written here.
"""
import argparse
import json
import math
import os
import resource
import sys
import time
from typing import NamedTuple

import torch
import torch.nn as nn
import torch.nn.functional as F

PAPER_CONFIG = {
    "mode": "multimodal",
    "timesteps": 64,
    "polarities": 2,
    "image_size": 28,
    "visual_channels": [32, 32],
    "visual_hidden": 128,
    "audio_channels": 64,
    "audio_hidden": 512,
    "fusion_hidden": 64,
    "classes": 10,
    "tau_visual": 0.2,
    "tau_audio": 0.1,
    "tau_fusion": 0.9,
    "threshold": 0.5,
    "surrogate_width": 1.0,
    "audio_surrogate_dampening": 0.3,
    "attention_readout": "neuron",
}

MODES = ("visual", "audio", "multimodal", "multimodal-noattention")


# ---------------------------------------------------------------------------------------
# Spike function and LIF dynamics

class SpikeFunction(torch.autograd.Function):
    """Heaviside step forward, rectangular surrogate backward (eq. 9, height = dampening / width)."""

    @staticmethod
    def forward(ctx, u, threshold, width, height):
        ctx.save_for_backward(u)
        ctx.threshold = threshold
        ctx.width = width
        ctx.height = height
        return (u >= threshold).to(u.dtype)

    @staticmethod
    def backward(ctx, grad_output):
        (u,) = ctx.saved_tensors
        window = ((u - ctx.threshold).abs() < ctx.width / 2).to(u.dtype) * ctx.height
        return grad_output * window, None, None, None


def spike(u, threshold, width, height):
    return SpikeFunction.apply(u, threshold, width, height)


class FusedLIFScan(torch.autograd.Function):
    """The LIF scan over T as one autograd node: forward eqs. 1-4, backward the STBP scan of
    eq. 8 with the rectangular surrogate (eq. 9), reset path kept:
        do[t] = g[t] - tau u[t] du[t+1]          du[t] = do[t] h(u[t]) + tau (1 - o[t]) du[t+1]
    rewritten as du[t] = g[t] h[t] + m[t] du[t+1] with m = tau (1 - o) - tau u h computed for all
    T at once, so each reverse step is one in-place addcmul. Only the float32 membranes are
    saved; spikes are recomputed as u >= Vth."""

    @staticmethod
    def forward(ctx, currents, tau, threshold, width, height):
        c32 = currents.to(torch.float32)
        u = torch.empty_like(c32)
        u[0] = c32[0]
        keep = torch.empty_like(c32[0])
        for t in range(1, c32.shape[0]):
            # u[t] = tau u[t-1] (1 - o[t-1]) + I[t]: the same float32 products as LIF.step
            torch.mul((u[t - 1] < threshold).to(torch.float32), tau, out=keep)
            torch.addcmul(c32[t], u[t - 1], keep, out=u[t])
        ctx.save_for_backward(u)
        ctx.constants = (tau, threshold, width, height)
        return (u >= threshold).to(currents.dtype)

    @staticmethod
    def backward(ctx, grad_spikes):
        (u,) = ctx.saved_tensors
        tau, threshold, width, height = ctx.constants
        h = ((u - threshold).abs() < width / 2).to(torch.float32) * height
        gh = grad_spikes.to(torch.float32) * h
        m = tau * (u < threshold).to(torch.float32) - tau * u * h
        du = torch.empty_like(u)
        du[-1] = gh[-1]
        for t in range(u.shape[0] - 2, -1, -1):
            torch.addcmul(gh[t], m[t], du[t + 1], out=du[t])
        return du.to(grad_spikes.dtype), None, None, None, None


class FusedRecurrentScan(torch.autograd.Function):
    """A recurrent LIF layer's whole scan as one autograd node:
        I[t] = ff[t] + R o[t-1],  then the LIF step;   ff = W x + b for all T at once (outside).
    Backward: du[t] = g[t] h[t] + m[t] du[t+1] + h[t] (du[t+1] R) (m as in FusedLIFScan), then
    dR = sum_t du[t+1]^T o[t] (one GEMM) and d ff = du."""

    @staticmethod
    def forward(ctx, ff, recurrent_weight, tau, threshold, width, height):
        f32 = ff.to(torch.float32)
        r32 = recurrent_weight.to(torch.float32)
        u = torch.empty_like(f32)
        spikes = torch.empty_like(f32)
        u[0] = f32[0]
        spikes[0] = (u[0] >= threshold).to(torch.float32)
        current = torch.empty_like(f32[0])
        keep = torch.empty_like(f32[0])
        for t in range(1, f32.shape[0]):
            torch.addmm(f32[t], spikes[t - 1], r32.t(), out=current)      # I[t] = ff[t] + o[t-1] R^T
            torch.mul(1 - spikes[t - 1], tau, out=keep)
            torch.addcmul(current, u[t - 1], keep, out=u[t])
            spikes[t].copy_(u[t] >= threshold)
        ctx.save_for_backward(u, spikes, recurrent_weight)
        ctx.constants = (tau, threshold, width, height)
        return spikes.to(ff.dtype)

    @staticmethod
    def backward(ctx, grad_spikes):
        u, spikes, r = ctx.saved_tensors
        tau, threshold, width, height = ctx.constants
        r32 = r.to(torch.float32)
        h = ((u - threshold).abs() < width / 2).to(torch.float32) * height
        gh = grad_spikes.to(torch.float32) * h
        m = tau * (1 - spikes) - tau * u * h
        du = torch.empty_like(u)
        du[-1] = gh[-1]
        back = torch.empty_like(u[0])
        for t in range(u.shape[0] - 2, -1, -1):
            torch.mm(du[t + 1], r32, out=back)                              # (R^T du[t+1]) as rows
            back.mul_(h[t])
            back.addcmul_(m[t], du[t + 1])
            torch.add(gh[t], back, out=du[t])
        n = u.shape[-1]
        grad_r = du[1:].reshape(-1, n).t() @ spikes[:-1].reshape(-1, n)
        return du.to(grad_spikes.dtype), grad_r.to(r.dtype), None, None, None, None


class LIF:
    """Parameters of an iterative LIF population: decay tau, threshold Vth, surrogate width a.
    `LIF.fused` (set by the "fused" formulation) makes `scan` one FusedLIFScan node."""

    fused = False

    def __init__(self, tau, threshold=0.5, width=1.0, dampening=1.0):
        self.tau = float(tau)
        self.threshold = float(threshold)
        self.width = float(width)
        # the surrogate's height dampening / width, rounded to float32 as SpikeFuse computes it
        self.height = (torch.tensor(float(dampening), dtype=torch.float32)
                       / torch.tensor(self.width, dtype=torch.float32)).item()

    def step(self, current, u, o):
        """One step of eqs. 1-2. `u`, `o` are the previous state (None at t = 0).

        The membrane is always float32, like SpikeFuse's: the current is rounded to
        float32 first (a no-op for float32 models; float64 models use this to get exact
        pre-activation sums, see make_fixtures.py). The float32 operation order is
        fl(fl(tau * u) * (1 - o)) + I; (1 - o) is 0 or 1, so the middle product is exact
        and any implementation computing fl(tau * u) + I (or 0 + I after a spike) gets
        bit-identical membranes. The output spikes have the current's dtype.
        """
        current32 = current.to(torch.float32)
        if u is None:
            u = current32  # u[-1] = 0, so u[0] = tau * 0 + I[0] = I[0] exactly
        else:
            tau = torch.tensor(self.tau, dtype=torch.float32)
            u = tau * u * (1 - o.to(torch.float32)) + current32
        o = spike(u, self.threshold, self.width, self.height).to(current.dtype)
        return u, o

    def scan(self, currents):
        """currents [T, ...] -> (spikes [T, ...] in the currents' dtype, membranes [T, ...] float32;
        None with the fused formulation, which keeps them inside its autograd node)."""
        if LIF.fused:
            return FusedLIFScan.apply(currents, self.tau, self.threshold, self.width, self.height), None
        u = o = None
        spikes, membranes = [], []
        # unbind, not currents[t]: the backward of T selects would zero-fill T full-size
        # gradient buffers (quadratic in T); unbind's backward is one stack.
        for current in currents.unbind(0):
            u, o = self.step(current, u, o)
            spikes.append(o)
            membranes.append(u)
        return torch.stack(spikes), torch.stack(membranes)


# ---------------------------------------------------------------------------------------
# Layers and subnetworks

class RecurrentLinear(nn.Module):
    """I[t] = W x[t] + b + R o[t-1]. W, b: nn.Linear's default init; R ~ U(±1/sqrt(out))."""

    def __init__(self, in_features, out_features):
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.weight = nn.Parameter(torch.empty(out_features, in_features))
        self.bias = nn.Parameter(torch.empty(out_features))
        self.recurrent_weight = nn.Parameter(torch.empty(out_features, out_features))
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))  # = U(±1/sqrt(in))
        bound = 1 / math.sqrt(in_features)
        nn.init.uniform_(self.bias, -bound, bound)
        r = 1 / math.sqrt(out_features)
        nn.init.uniform_(self.recurrent_weight, -r, r)

    def feedforward(self, x):
        return F.linear(x, self.weight, self.bias)

    def recurrent(self, o_prev):
        return F.linear(o_prev, self.recurrent_weight)


class VisualNet(nn.Module):
    """32C3-AP2-32C3-AP2-128-10 (paper sizes), LIF with tau_visual."""

    def __init__(self, cfg):
        super().__init__()
        c1, c2 = cfg["visual_channels"]
        p, size = cfg["polarities"], cfg["image_size"]
        self.conv1 = nn.Conv2d(p, c1, 3, padding=1)
        self.conv2 = nn.Conv2d(c1, c2, 3, padding=1)
        self.fc1 = nn.Linear(c2 * (size // 4) * (size // 4), cfg["visual_hidden"])
        self.fc2 = nn.Linear(cfg["visual_hidden"], cfg["classes"])
        self.lif = LIF(cfg["tau_visual"], cfg["threshold"], cfg["surrogate_width"])
        self.layer_names = ["visual.conv1", "visual.conv2", "visual.fc1", "visual.fc2"]

    def timebatched(self, x, record):
        # x [T, B, P, H, W] -> output spikes [T, B, classes]
        T, B = x.shape[:2]
        s1, _ = self.lif.scan(self.conv1(x.flatten(0, 1)).unflatten(0, (T, B)))
        record["visual.conv1"] = s1
        p1 = F.avg_pool2d(s1.flatten(0, 1), 2)
        s2, _ = self.lif.scan(self.conv2(p1).unflatten(0, (T, B)))
        record["visual.conv2"] = s2
        p2 = F.avg_pool2d(s2.flatten(0, 1), 2).flatten(1).unflatten(0, (T, B))
        s3, _ = self.lif.scan(self.fc1(p2))
        record["visual.fc1"] = s3
        s4, _ = self.lif.scan(self.fc2(s3))
        record["visual.fc2"] = s4
        return s4

    def step(self, x_t, state):
        # x_t [B, P, H, W]; state: {layer: (u, o)} -> output spikes [B, classes]
        def lif(name, current):
            u, o = state.get(name, (None, None))
            u, o = self.lif.step(current, u, o)
            state[name] = (u, o)
            return o
        s1 = lif("visual.conv1", self.conv1(x_t))
        s2 = lif("visual.conv2", self.conv2(F.avg_pool2d(s1, 2)))
        s3 = lif("visual.fc1", self.fc1(F.avg_pool2d(s2, 2).flatten(1)))
        return lif("visual.fc2", self.fc2(s3))


class AudioNet(nn.Module):
    """512R-512R-512R-10R (paper sizes), recurrent LIF with tau_audio."""

    def __init__(self, cfg):
        super().__init__()
        h = cfg["audio_hidden"]
        self.rec1 = RecurrentLinear(cfg["audio_channels"], h)
        self.rec2 = RecurrentLinear(h, h)
        self.rec3 = RecurrentLinear(h, h)
        self.out = RecurrentLinear(h, cfg["classes"])
        self.lif = LIF(cfg["tau_audio"], cfg["threshold"], cfg["surrogate_width"], cfg["audio_surrogate_dampening"])
        self.layer_names = ["audio.rec1", "audio.rec2", "audio.rec3", "audio.out"]

    def layers(self):
        return [("audio.rec1", self.rec1), ("audio.rec2", self.rec2),
                ("audio.rec3", self.rec3), ("audio.out", self.out)]

    def timebatched(self, x, record):
        # x [T, B, channels] -> output spikes [T, B, classes]
        for name, layer in self.layers():
            ff = layer.feedforward(x)  # [T, B, out], one GEMM over T*B rows
            if LIF.fused:
                x = FusedRecurrentScan.apply(ff, layer.recurrent_weight, self.lif.tau, self.lif.threshold, self.lif.width, self.lif.height)
                record[name] = x
                continue
            u = o = None
            spikes = []
            for ff_t in ff.unbind(0):
                current = ff_t if o is None else ff_t + layer.recurrent(o)
                u, o = self.lif.step(current, u, o)
                spikes.append(o)
            x = torch.stack(spikes)
            record[name] = x
        return x

    def step(self, x_t, state):
        for name, layer in self.layers():
            u, o = state.get(name, (None, None))
            current = layer.feedforward(x_t)
            if o is not None:
                current = current + layer.recurrent(o)
            u, o = self.lif.step(current, u, o)
            state[name] = (u, o)
            x_t = o
        return x_t


class AttentionFusion(nn.Module):
    """Eq. 5: hidden LIF layer on concat(o_v, o_a) -> [w_v, w_a] -> weighted output LIF."""

    def __init__(self, cfg):
        super().__init__()
        self.hidden = nn.Linear(2 * cfg["classes"], cfg["fusion_hidden"])
        self.attention = nn.Linear(cfg["fusion_hidden"], 2)
        self.lif = LIF(cfg["tau_fusion"], cfg["threshold"], cfg["surrogate_width"])
        self.readout = cfg.get("attention_readout", "neuron")
        if self.readout == "neuron":
            self.scale = None                    # the paper's plain affine weights
            self.layer_names = ["fusion.hidden", "fusion.output"]
        elif self.readout == "integrator":   # no output neuron: the weighted current is the output
            self.scale = 0.25                    # w = 0.25 softmax(z), starting at the equal split
            self.layer_names = ["fusion.hidden"]
            with torch.no_grad():
                self.attention.weight.zero_()
                self.attention.bias.zero_()
        else:
            raise ValueError(f"unknown attention_readout {self.readout!r}")

    def weights(self, hidden_spikes):
        w = self.attention(hidden_spikes)
        if self.scale is not None:
            w = self.scale * torch.softmax(w, dim=-1)
        return w

    def timebatched(self, o_v, o_a, record):
        # o_v, o_a [T, B, classes] -> (output spikes [T, B, classes], attention [T, B, 2])
        h, _ = self.lif.scan(self.hidden(torch.cat([o_v, o_a], dim=-1)))
        record["fusion.hidden"] = h
        w = self.weights(h)
        if self.readout == "integrator":
            return w[..., 0:1] * o_v + w[..., 1:2] * o_a, w
        out, _ = self.lif.scan(w[..., 0:1] * o_v + w[..., 1:2] * o_a)
        record["fusion.output"] = out
        return out, w

    def step(self, o_v, o_a, state):
        u, o = state.get("fusion.hidden", (None, None))
        u, h = self.lif.step(self.hidden(torch.cat([o_v, o_a], dim=-1)), u, o)
        state["fusion.hidden"] = (u, h)
        w = self.weights(h)
        if self.readout == "integrator":
            return w[..., 0:1] * o_v + w[..., 1:2] * o_a, w
        u, o = state.get("fusion.output", (None, None))
        u, o = self.lif.step(w[..., 0:1] * o_v + w[..., 1:2] * o_a, u, o)
        state["fusion.output"] = (u, o)
        return o, w


class ConcatFusion(nn.Module):
    """The paper's ablation: concat(o_v, o_a) -> fc1 + LIF -> fc2 (classes) + LIF."""

    def __init__(self, cfg):
        super().__init__()
        self.fc1 = nn.Linear(2 * cfg["classes"], cfg["fusion_hidden"])
        self.fc2 = nn.Linear(cfg["fusion_hidden"], cfg["classes"])
        self.lif = LIF(cfg["tau_fusion"], cfg["threshold"], cfg["surrogate_width"])
        self.layer_names = ["fusion.fc1", "fusion.fc2"]

    def timebatched(self, o_v, o_a, record):
        h, _ = self.lif.scan(self.fc1(torch.cat([o_v, o_a], dim=-1)))
        record["fusion.fc1"] = h
        out, _ = self.lif.scan(self.fc2(h))
        record["fusion.fc2"] = out
        return out, None

    def step(self, o_v, o_a, state):
        u, o = state.get("fusion.fc1", (None, None))
        u, h = self.lif.step(self.fc1(torch.cat([o_v, o_a], dim=-1)), u, o)
        state["fusion.fc1"] = (u, h)
        u, o = state.get("fusion.fc2", (None, None))
        u, o = self.lif.step(self.fc2(h), u, o)
        state["fusion.fc2"] = (u, o)
        return o, None


class SpikeFuseReference(nn.Module):
    """The whole model for one config; parameter names match the Swift checkpoints."""

    def __init__(self, cfg):
        super().__init__()
        self.cfg = dict(cfg)
        mode = cfg["mode"]
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; expected one of {MODES}")
        self.mode = mode
        # The integrator readout: Lm trains the fusion alone; the heads' spikes enter it detached.
        integrator = mode == "multimodal" and cfg.get("attention_readout", "neuron") == "integrator"
        self.into_fusion = (lambda o: o.detach()) if integrator else (lambda o: o)
        if mode != "audio":
            self.visual = VisualNet(cfg)
        if mode != "visual":
            self.audio = AudioNet(cfg)
        if mode == "multimodal":
            self.fusion = AttentionFusion(cfg)
        elif mode == "multimodal-noattention":
            self.fusion = ConcatFusion(cfg)

    def layer_names(self):
        names = []
        for part in ("visual", "audio", "fusion"):
            if hasattr(self, part):
                names += getattr(self, part).layer_names
        return names

    def forward(self, visual=None, audio=None, formulation="timebatched"):
        """visual [T, B, P, H, W], audio [T, B, channels] (time-major).

        Returns a dict: "visual", "audio", "fusion" output spikes [T, B, classes] (those
        the mode has), "attention" [T, B, 2] (mode multimodal) and "layers" {name: spikes}.
        """
        if formulation == "fused":
            LIF.fused = True
            try:
                return self.forward(visual, audio, "timebatched")
            finally:
                LIF.fused = False
        record = {}
        out = {"layers": record}
        if formulation == "timebatched":
            if hasattr(self, "visual"):
                out["visual"] = self.visual.timebatched(visual, record)
            if hasattr(self, "audio"):
                out["audio"] = self.audio.timebatched(audio, record)
            if hasattr(self, "fusion"):
                fused, w = self.fusion.timebatched(self.into_fusion(out["visual"]),
                                                   self.into_fusion(out["audio"]), record)
                out["fusion"] = fused
                if w is not None:
                    out["attention"] = w
            return out
        if formulation != "loop":
            raise ValueError(f"unknown formulation {formulation!r}")
        T = (visual if visual is not None else audio).shape[0]
        state = {}
        steps = {k: [] for k in ("visual", "audio", "fusion", "attention")}
        for t in range(T):
            o_v = self.visual.step(visual[t], state) if hasattr(self, "visual") else None
            o_a = self.audio.step(audio[t], state) if hasattr(self, "audio") else None
            steps["visual"].append(o_v)
            steps["audio"].append(o_a)
            if hasattr(self, "fusion"):
                o_m, w = self.fusion.step(self.into_fusion(o_v), self.into_fusion(o_a), state)
                steps["fusion"].append(o_m)
                steps["attention"].append(w)
            for name in self.layer_names():
                record.setdefault(name, []).append(state[name][1])
        for k, v in steps.items():
            if v and v[0] is not None:
                out[k] = torch.stack(v)
        for name in list(record):
            record[name] = torch.stack(record[name])
        return out


def rate_loss(spikes, labels, classes):
    """spikes [T, B, classes], labels [B] -> mean_b sum_c (Y_c - rate_c)^2 (eq. 7)."""
    rate = spikes.mean(dim=0)
    target = F.one_hot(labels, classes).to(rate.dtype)
    return ((target - rate) ** 2).sum(dim=1).mean()


def count_cross_entropy(spikes, labels):
    """spikes [T, B, classes], labels [B] -> mean_b -log softmax(counts)[y]; the integrator
    readout uses (2/T) times this as Lm, as SpikeFuse does."""
    return F.cross_entropy(spikes.sum(dim=0), labels)


def losses(model, out, labels):
    """The loss per head and the total L (eq. 6) for the model's mode."""
    classes = model.cfg["classes"]
    fusion_loss = "ce" if model.cfg.get("attention_readout", "neuron") == "integrator" else "mse"
    result = {}
    for head in ("visual", "audio", "fusion"):
        if head in out:
            if head == "fusion" and fusion_loss == "ce":
                result[head] = 2.0 / out[head].shape[0] * count_cross_entropy(out[head], labels)
            else:
                result[head] = rate_loss(out[head], labels, classes)
    result["total"] = sum(result.values())
    return result


# ---------------------------------------------------------------------------------------
# Neuron models of issue 42 (SpikeFuse's NeuronModel, docs/model.md), the peer's own
# formulation: the step written with torch ops and differentiated by autograd, so that its
# gradients are independent of SpikeFuse's hand-written BPTT. Per step, per neuron:
#     s[t] = alpha s[t-1] + I[t] (cuba_lif; else s = I);  a[t] = rho a[t-1] + o[t-1] (adaptive_lif)
#     theta[t] = vth + b a[t];  u[t] = beta reset(u[t-1], o[t-1], theta[t-1]) + s[t]
#     o[t] = H(u[t] - theta[t]) with the surrogate derivative in backward.
# reset: zero u(1-o), value u(1-o) + V_r o, subtract u - theta o. Learnt decay
# beta = sigmoid(tau_logit) (per layer or channel), learnt threshold per layer or neuron.

class NeuronSettings(NamedTuple):
    """A neuron description's constants (the JSON keys of docs/networks.md, defaults filled in)."""
    model: str          # lif, if, cuba_lif, adaptive_lif
    reset: str          # zero, value, subtract
    surrogate: str      # rectangle, fast_sigmoid, arctan, triangle
    width: float        # surrogate width a
    slope: float        # surrogate slope k
    gamma: float        # surrogate dampening
    alpha: float        # synaptic decay per step (cuba_lif)
    rho: float          # adaptation decay per step (adaptive_lif)
    b: float            # adaptation strength (adaptive_lif)
    v_reset: float      # V_r (reset "value")

    @staticmethod
    def of(n):
        surrogate = n.get("surrogate", "rectangle")
        return NeuronSettings(
            n.get("model", "lif"), n.get("reset", "zero"), surrogate, float(n.get("surrogate_width", 1.0)),
            float(n.get("surrogate_slope", 25.0 if surrogate == "fast_sigmoid" else 2.0)),
            float(n.get("surrogate_dampening", 1.0)), float(n.get("synapse_tau", 0.0)),
            float(n.get("adaptation_decay", 0.0)), float(n.get("adaptation_strength", 0.0)),
            float(n.get("reset_value", 0.0)))


def surrogate_derivative(x, k):
    """h(x) = dH/dx as the surrogate `k.surrogate` (NeuronSettings) defines it, in x's dtype."""
    g, a, slope = k.gamma, k.width, k.slope
    if k.surrogate == "rectangle":
        return (x.abs() < a / 2).to(x.dtype) * (g / a)
    if k.surrogate == "fast_sigmoid":
        return g / (1 + slope * x.abs()) ** 2
    if k.surrogate == "arctan":
        return g * (slope / 2) / (1 + (math.pi / 2 * slope * x) ** 2)
    if k.surrogate == "triangle":
        return g / a * torch.clamp(1 - x.abs() / a, min=0)
    raise ValueError(f"unknown surrogate {k.surrogate!r}")


class SurrogateSpike(torch.autograd.Function):
    """H(x) forward; backward h(x) for the surrogate of NeuronSettings `k`."""

    @staticmethod
    def forward(ctx, x, k):
        ctx.save_for_backward(x)
        ctx.k = k
        return (x >= 0).to(x.dtype)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * surrogate_derivative(x, ctx.k), None


class NeuronModelPeer(nn.Module):
    """A population of one of SpikeFuse's neuron models. `neuron`: the JSON neuron keys
    (docs/networks.md); `shape`: one sample's neurons, channels first. current [T, B, *shape]
    -> (spikes, membrane u) [T, B, *shape] (`forward`, the step under autograd: the reference)
    or (spikes, None) (`fused`: FusedNeuronScan, one autograd node, the fast peer)."""

    def __init__(self, neuron, shape):
        super().__init__()
        self.n = dict(neuron)
        self.k = NeuronSettings.of(self.n)
        self.shape = list(shape)
        self.tau = 1.0 if self.k.model == "if" else float(self.n["tau"])
        learn_tau, learn_th = self.n.get("learn_tau"), self.n.get("learn_threshold")
        if learn_tau:
            count = 1 if learn_tau == "layer" else self.shape[0]
            self.tau_logit = nn.Parameter(torch.full([count], math.log(self.tau / (1 - self.tau)), dtype=torch.float32))
        if learn_th:
            count = 1 if learn_th == "layer" else int(math.prod(self.shape))
            self.threshold = nn.Parameter(torch.full([count], float(self.n.get("threshold", 0.5)), dtype=torch.float32))

    def beta(self):
        if not hasattr(self, "tau_logit"):
            return self.tau
        # correctly rounded in the parameter's dtype (float32: as SpikeFuse's)
        b = torch.sigmoid(self.tau_logit.double()).to(self.tau_logit.dtype)
        return b.reshape([-1] + [1] * (len(self.shape) - 1)) if b.numel() > 1 else b.reshape([])

    def theta(self):
        if not hasattr(self, "threshold"):
            return float(self.n.get("threshold", 0.5))
        t = self.threshold
        return t.reshape(self.shape) if t.numel() > 1 else t.reshape([])

    def forward(self, current, recurrent=None):
        """recurrent: optional (W_rec [out, out]) adding R o[t-1] to the current (a recurrent layer)."""
        k = self.k
        model, reset = k.model, k.reset
        alpha, rho, b, v_reset = k.alpha, k.rho, k.b, k.v_reset
        beta, vth = self.beta(), self.theta()
        zero = torch.zeros_like(current[0])
        u, o, a, s, th_prev = zero, zero, zero, zero, vth
        spikes, membrane = [], []
        for t in range(current.shape[0]):
            i = current[t] if recurrent is None or t == 0 else current[t] + o @ recurrent.T
            s = alpha * s + i if model == "cuba_lif" else i
            a_new = rho * a + o if model == "adaptive_lif" else zero
            if reset == "zero":
                v_hat = u * (1 - o)
            elif reset == "value":
                v_hat = u * (1 - o) + v_reset * o
            else:
                v_hat = u - th_prev * o
            u = beta * v_hat + s
            a = a_new
            th = vth + b * a if model == "adaptive_lif" else vth
            o = SurrogateSpike.apply(u - th, k)
            th_prev = th
            spikes.append(o)
            membrane.append(u)
        return torch.stack(spikes), torch.stack(membrane)

    def fused(self, current, recurrent=None):
        """As `forward` (identical spikes), the whole scan one FusedNeuronScan node: (spikes, None)."""
        return FusedNeuronScan.apply(current, recurrent, self.beta(), self.theta(), self.k), None


class SpikeInputLinear(torch.autograd.Function):
    """y = x W^T + b for x [..., in] whose columns are often all zero (silent input neurons over
    all T * B rows): the products W x and dL/dW = dy^T x use only the inputs that fired (as
    event-driven kernels do); dL/dx = dy W stays dense. All inputs active: F.linear's GEMMs."""

    @staticmethod
    def forward(ctx, x, weight, bias):
        rows = x.reshape(-1, x.shape[-1])
        if rows.numel():
            low, high = torch.aminmax(rows, dim=0)
            active = (low != 0) | (high != 0)                                # [in]: the inputs that fired
        else:
            active = torch.zeros(x.shape[-1], dtype=torch.bool)
        ctx.save_for_backward(x, weight)
        if bool(active.all()):
            ctx.columns = None
            return F.linear(x, weight, bias)
        columns = active.nonzero().squeeze(1)
        ctx.columns = columns
        y = bias.expand(rows.shape[0], weight.shape[0]).clone()
        if columns.numel():
            y.addmm_(rows.index_select(1, columns), weight.index_select(1, columns).t())
        return y.reshape(*x.shape[:-1], weight.shape[0])

    @staticmethod
    def backward(ctx, grad_y):
        x, weight = ctx.saved_tensors
        dy = grad_y.reshape(-1, grad_y.shape[-1])
        rows = x.reshape(-1, x.shape[-1])
        grad_x = (dy @ weight).reshape(x.shape) if ctx.needs_input_grad[0] else None
        grad_w = None
        if ctx.needs_input_grad[1]:
            if ctx.columns is None:
                grad_w = dy.t() @ rows
            else:
                grad_w = torch.zeros_like(weight)
                if ctx.columns.numel():
                    grad_w.index_copy_(1, ctx.columns, dy.t() @ rows.index_select(1, ctx.columns))
        return grad_x, grad_w, dy.sum(0)


class FusedNeuronScan(torch.autograd.Function):
    """One neuron population's (or recurrent layer's) whole scan over T as one autograd node,
    for every model of NeuronModelPeer: the forward loop runs without a graph (the same
    floating-point operations as NeuronModelPeer.forward, so identical spikes), the backward is
    the hand-written BPTT below. current [T, B, *shape]; recurrent R [n, n] or None (shape [n]);
    beta, theta: floats or tensors broadcasting to [B, *shape] (learnt: their gradients are
    returned, and autograd takes them on to tau_logit and the threshold); k: NeuronSettings.

    Forward, per step (u = s = a = o = 0 at t = -1, theta[-1] = vth):
        i[t] = I[t] + o[t-1] R^T;   s[t] = alpha s[t-1] + i[t] (cuba_lif; else s = i)
        a[t] = rho a[t-1] + o[t-1] (adaptive_lif; else 0);   th[t] = vth + b a[t]
        v[t] = reset(u[t-1], o[t-1], th[t-1]): zero u(1-o), value u(1-o) + V_r o, subtract u - th o
        u[t] = beta v[t] + s[t];   x[t] = u[t] - th[t];   o[t] = H(x[t]),  h[t] = h(x[t]) (surrogate)
    Adjoints (U = dL/du, S = dL/ds = dL/di, A = dL/da, TH = dL/dth, X = dL/dx; all 0 at t = T;
    g = dL/do from outside), reverse over t:
        cU[t] = beta dv[t+1]/du[t] = beta (1 - o[t])  (zero, value) | beta        (subtract)
        cO[t] = beta dv[t+1]/do[t] = -beta u[t]       (zero)
                                   = beta (V_r - u[t]) (value)    | -beta th[t] (subtract)
        X[t]  = h[t] (g[t] + S[t+1] R + A[t+1] + cO[t] U[t+1])
        U[t]  = X[t] + cU[t] U[t+1]
        TH[t] = -X[t] - beta o[t] U[t+1]   (the second term with reset subtract only)
        A[t]  = b TH[t] + rho A[t+1];       S[t] = U[t] + alpha S[t+1] (cuba_lif; else S = U)
    dL/dI = S;  dL/dR = sum_t S[t]^T o[t-1] (one GEMM);  dL/dvth = sum TH (to theta's shape);
    dL/dbeta = sum_t U[t] v[t] (to beta's shape). A step after one without spikes skips the
    product o[t-1] R^T (it is 0), as event-driven kernels do; so does dL/dR; and with a windowed
    surrogate (rectangle, triangle) S[t+1] R is computed only for the columns where h[t] != 0
    in some sample. Precomputed over all T before the reverse loop:
    h, g h, m = cU + cO h (models without adaptation: U[t] = g h + m U[t+1] + h (S[t+1] R)),
    cO h, b beta o. Everything runs in the current's dtype (float32 or float64), but the sums of
    dL/dbeta and dL/dvth over T, B (and neurons) accumulate in float64: they cancel."""

    @staticmethod
    def forward(ctx, current, recurrent, beta, theta, k):
        cuba, adaptive = k.model == "cuba_lif", k.model == "adaptive_lif"
        dt = current.dtype
        bt = beta.detach().to(dt) if torch.is_tensor(beta) else beta      # beta in the current's dtype
        vt = theta.detach().to(dt) if torch.is_tensor(theta) else theta
        rt = recurrent.detach().to(dt).t() if recurrent is not None else None   # R^T [n, n]
        c = current.detach()
        T = c.shape[0]
        u, o = torch.empty_like(c), torch.empty_like(c)                   # [T, B, *shape]
        th = torch.empty_like(c) if adaptive else None                     # th[t] (adaptive only)
        s = torch.zeros_like(c[0]) if cuba else None
        a = torch.zeros_like(c[0]) if adaptive else None
        i, v, keep = torch.empty_like(c[0]), torch.empty_like(c[0]), torch.empty_like(c[0])
        if k.reset == "value":                                              # fl(beta fl(V_r)), as beta (V_r o)
            beta_vr = torch.mul(torch.full([], k.v_reset, dtype=dt), bt)
        fired = False                                                       # o[t-1] has a spike
        for t in range(T):
            if rt is None or not fired:                                     # o R^T = 0 exactly: skip it
                i_t = c[t]
            else:
                torch.mm(o[t - 1], rt, out=i)
                i_t = i.add_(c[t])
            if cuba:
                s_t = s.mul_(k.alpha).add_(i_t)
            else:
                s_t = i_t
            if adaptive:
                if t > 0:
                    a.mul_(k.rho).add_(o[t - 1])
                th_t = torch.mul(a, k.b, out=th[t]).add_(vt)
            else:
                th_t = vt
            if t == 0:
                u[0].copy_(s_t)                                             # v[0] = 0: u[0] = s[0]
            elif k.reset == "subtract":
                prev = th[t - 1] if adaptive else vt
                if torch.is_tensor(prev):
                    torch.addcmul(u[t - 1], prev, o[t - 1], value=-1, out=v)   # u - th o (th o exact)
                else:
                    torch.add(u[t - 1], o[t - 1], alpha=-prev, out=v)
                torch.mul(v, bt, out=u[t]).add_(s_t)
            else:
                # beta (u (1 - o)) = u keep with keep = beta (1 - o) in {beta, 0}: the same bits
                torch.mul(u[t - 1], keep, out=u[t])
                if k.reset == "value":
                    u[t].addcmul_(beta_vr, o[t - 1])                        # + beta V_r o (exact product)
                u[t].add_(s_t)
            torch.ge(u[t], th_t, out=o[t])                                  # u >= th  <=>  fl(u - th) >= 0
            fired = rt is not None and bool(o[t].max())                     # (max: faster than any)
            if k.reset != "subtract":
                torch.lt(u[t], th_t, out=keep).mul_(bt)
        ctx.save_for_backward(u, o, th, recurrent, beta if torch.is_tensor(beta) else None,
                              theta if torch.is_tensor(theta) else None)
        ctx.k = k
        ctx.beta_value = None if torch.is_tensor(beta) else beta            # the constants (floats)
        ctx.theta_value = None if torch.is_tensor(theta) else theta
        return o

    @staticmethod
    def backward(ctx, grad_spikes):
        u, o, th, recurrent, beta_t, theta_t = ctx.saved_tensors
        k = ctx.k
        cuba, adaptive, subtract = k.model == "cuba_lif", k.model == "adaptive_lif", k.reset == "subtract"
        dt = u.dtype
        bt = beta_t.to(dt) if beta_t is not None else ctx.beta_value
        vt = theta_t.to(dt) if theta_t is not None else ctx.theta_value
        r = recurrent.to(dt) if recurrent is not None else None
        need_th = theta_t is not None and ctx.needs_input_grad[3]
        T = u.shape[0]
        th_all = th if adaptive else vt
        h = surrogate_derivative(u - th_all, k)                             # [T, B, *shape]
        gh = grad_spikes.to(dt) * h
        cU = (1 - o) * bt if not subtract else torch.ones_like(u) * bt
        if k.reset == "zero":
            cO = u * (-bt)
        elif k.reset == "value":
            cO = (k.v_reset - u) * bt
        else:
            cO = torch.ones_like(u) * th_all * (-bt)
        U = torch.empty([T + 1] + list(u.shape[1:]), dtype=dt)              # U[T] = 0
        U[T].zero_()
        S = torch.empty_like(U) if cuba else U
        if cuba:
            S[T].zero_()
        X = torch.empty_like(u) if (need_th or adaptive) else None
        back = torch.empty_like(u[0])
        # The surrogates with a window (rectangle, triangle) have h = 0 outside it: the recurrent
        # product h[t] (S[t+1] R) then needs only the columns where some sample is inside.
        window = None
        if r is not None and k.surrogate in ("rectangle", "triangle"):
            window = h.abs().amax(1) > 0                                    # [T, n] (amax: faster than any)
            inside = window.sum(1).tolist()
            r_rows = r.t().contiguous()                                     # R^T: its rows are R's columns
        n = u.shape[-1]

        def add_recurrent(target, t):
            """target += h[t] (S[t+1] R), [B, n] (nothing at t = T-1 or without R)."""
            if r is None or t == T - 1:
                return
            if window is None or inside[t] > 0.6 * n:                       # (measured break-even)
                target.add_(torch.mm(S[t + 1], r, out=back).mul_(h[t]))
            elif inside[t]:
                cols = window[t].nonzero().squeeze(1)
                part = torch.mm(S[t + 1], r_rows.index_select(0, cols).t()).mul_(h[t].index_select(1, cols))
                target.index_add_(1, cols, part)

        if adaptive:
            mO = cO.mul_(h)
            bso = o * bt * k.b if subtract else None
            A = torch.zeros_like(u[0])
            for t in range(T - 1, -1, -1):
                x_t = torch.mul(A, h[t], out=X[t]).add_(gh[t]).addcmul_(mO[t], U[t + 1])
                add_recurrent(x_t, t)
                torch.addcmul(x_t, cU[t], U[t + 1], out=U[t])
                A.mul_(k.rho).add_(x_t, alpha=-k.b)
                if bso is not None:
                    A.addcmul_(bso[t], U[t + 1], value=-1)
                if cuba:
                    torch.add(U[t], S[t + 1], alpha=k.alpha, out=S[t])
        else:
            mO = cO.mul_(h)
            m = mO.add_(cU) if X is None else None                          # U[t] = g h + h (S R) + m U
            for t in range(T - 1, -1, -1):
                if X is None:
                    add_recurrent(torch.addcmul(gh[t], m[t], U[t + 1], out=U[t]), t)
                else:                                                       # X kept for dL/dvth
                    add_recurrent(torch.addcmul(gh[t], mO[t], U[t + 1], out=X[t]), t)
                    torch.addcmul(X[t], cU[t], U[t + 1], out=U[t])
                if cuba:
                    torch.add(U[t], S[t + 1], alpha=k.alpha, out=S[t])
        grad_current = S[:T].to(grad_spikes.dtype)
        grad_r = grad_beta = grad_theta = None
        if r is not None and ctx.needs_input_grad[1]:
            if bool(o[:-1].max()):
                grad_r = (S[1:T].reshape(-1, n).t() @ o[:-1].reshape(-1, n)).to(recurrent.dtype)
            else:                                                           # no spike before T-1
                grad_r = torch.zeros_like(recurrent)
        if beta_t is not None and ctx.needs_input_grad[2]:
            if k.reset == "subtract":                                       # v[t] from step t-1's state
                prev_th = th[:-1] if adaptive else vt
                v = u[:-1] - prev_th * o[:-1]
            else:
                v = u[:-1] * (1 - o[:-1])
                if k.reset == "value":
                    v = v + k.v_reset * o[:-1]
            # the sums over T, B (and neurons) of the shared constants accumulate in float64
            grad_beta = (U[1:T] * v).double().sum_to_size(beta_t.shape).to(beta_t.dtype)
        if need_th:
            TH = -X
            if subtract:
                TH = TH - (o * bt) * U[1:]
            grad_theta = TH.double().sum_to_size(theta_t.shape).to(theta_t.dtype)
        return grad_current, grad_r, grad_beta, grad_theta, None


# ---------------------------------------------------------------------------------------
# Benchmark mode

def peak_rss_mb():
    # ru_maxrss is in KiB on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def bench(args):
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    cfg = dict(PAPER_CONFIG)
    cfg["mode"] = {"visual": "visual", "audio": "audio", "multimodal": "multimodal",
                   "multimodal-noattention": "multimodal-noattention"}[args.model]
    cfg["timesteps"] = args.timesteps
    model = SpikeFuseReference(cfg)
    T, B = args.timesteps, args.batch
    gen = torch.Generator().manual_seed(1)
    visual = (torch.rand(T, B, 2, 28, 28, generator=gen) < args.rate).float() if cfg["mode"] != "audio" else None
    audio = (torch.rand(T, B, 64, generator=gen) < args.rate).float() if cfg["mode"] != "visual" else None
    labels = torch.randint(0, 10, (B,), generator=gen)
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3)

    def one_batch():
        if args.task == "train":
            optimiser.zero_grad(set_to_none=True)
            out = model(visual, audio, formulation=args.formulation)
            losses(model, out, labels)["total"].backward()
            optimiser.step()
        else:
            with torch.no_grad():
                model(visual, audio, formulation=args.formulation)

    one_batch()  # warm-up (allocations, lazy init)
    batches = 0
    start = time.perf_counter()
    cpu_start = time.process_time()
    while True:
        one_batch()
        batches += 1
        elapsed = time.perf_counter() - start
        if elapsed >= args.seconds:
            break
    # CPU time of this process (all threads): robust when other processes share the cores.
    cpu = time.process_time() - cpu_start
    print(json.dumps({
        "model": args.model,
        "task": args.task,
        "batch": B,
        "timesteps": T,
        "samples_per_second": round(batches * B / elapsed, 3),
        "batches": batches,
        "seconds": round(elapsed, 3),
        "cpu_seconds": round(cpu, 3),
        "samples_per_cpu_second": round(batches * B / cpu, 3),
        "load_average_1min": os.getloadavg()[0],
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "implementation": f"pytorch-{args.formulation}",
        "threads": torch.get_num_threads(),
        "input_rate": args.rate,
        "torch": torch.__version__,
    }))


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("bench", help="speed of one training or inference configuration")
    b.add_argument("--model", choices=["visual", "audio", "multimodal", "multimodal-noattention"],
                   default="multimodal")
    b.add_argument("--task", choices=["train", "infer"], default="train")
    b.add_argument("--batch", type=int, default=32)
    b.add_argument("--timesteps", type=int, default=64)
    b.add_argument("--seconds", type=float, default=10.0)
    b.add_argument("--formulation", choices=["loop", "timebatched", "fused"], default="timebatched")
    b.add_argument("--rate", type=float, default=0.05, help="input firing probability per bin")
    b.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv[1:])
    if args.command == "bench":
        bench(args)


if __name__ == "__main__":
    main(sys.argv)
