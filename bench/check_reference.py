#!/usr/bin/env python3
"""Checks bench/pytorch_reference.py against hand-written numpy code (not part of the Swift tests).

    python3 bench/check_reference.py

1. LIF layer: autograd through SpikeFunction vs a hand-written STBP (eqs. 8-9) in numpy.
2. A recurrent LIF layer followed by a feed-forward LIF layer and the rate loss: every
   parameter gradient vs hand-written BPTT in numpy.
3. The "loop" and "timebatched" formulations: identical spikes, equal gradients, all modes.
4. Finite differences (torch.autograd.gradcheck) for the differentiable pieces: the rate
   loss and the attention-weighted output current.
5. The committed lif_golden.safetensors against the numpy recurrence.
Exits with status 1 on the first failure.
"""
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pytorch_reference import (LIF, MODES, PAPER_CONFIG, AttentionFusion, RecurrentLinear,  # noqa: E402
                               SpikeFuseReference, losses, rate_loss)

VTH, A = 0.5, 1.0


def lif_forward_np(current, tau):
    """current [T, N] -> (u, o) [T, N], float32 in the same operation order as Swift."""
    T, N = current.shape
    u = np.zeros((T, N), np.float32)
    o = np.zeros((T, N), np.float32)
    tau = np.float32(tau)
    for t in range(T):
        prev_u = u[t - 1] if t else np.zeros(N, np.float32)
        prev_o = o[t - 1] if t else np.zeros(N, np.float32)
        u[t] = tau * prev_u * (np.float32(1) - prev_o) + current[t]
        o[t] = (u[t] >= VTH).astype(np.float32)
    return u, o


def surrogate(u):
    return (np.abs(u - VTH) < A / 2).astype(np.float64) / A


def lif_backward_np(u, o, grad_o, tau, recurrent=None):
    """STBP for u[t] = tau u[t-1] (1 - o[t-1]) + I[t] (+ R o[t-1] inside I when `recurrent`).

    grad_o [T, N] is dL/do[t] from above; returns dL/dI[t] (= dL/du[t]).
      dL/do[t] = grad_o[t] + dL/du[t+1] * (-tau u[t]) + R^T dL/du[t+1]
      dL/du[t] = dL/do[t] h(u[t]) + dL/du[t+1] tau (1 - o[t])
    """
    T, N = u.shape
    du = np.zeros((T, N))
    next_du = np.zeros(N)
    for t in reversed(range(T)):
        do = grad_o[t].astype(np.float64).copy()
        if t + 1 < T:
            do += next_du * (-tau * u[t])
            if recurrent is not None:
                do += recurrent.T @ next_du
        du[t] = do * surrogate(u[t]) + (next_du * tau * (1 - o[t]) if t + 1 < T else 0)
        next_du = du[t]
    return du


failures = 0


def check(name, ok, detail=""):
    global failures
    print(f"{'ok  ' if ok else 'FAIL'} {name} {detail}")
    if not ok:
        failures += 1


def check_lif():
    g = torch.Generator().manual_seed(5)
    for tau in (0.2, 0.5, 0.9):
        current = (torch.rand(30, 12, generator=g, dtype=torch.float64) * 1.6 - 0.4)
        grad_o = torch.rand(30, 12, generator=g, dtype=torch.float64) * 2 - 1
        leaf = current.clone().requires_grad_(True)
        spikes, membrane = LIF(tau).scan(leaf)
        (spikes * grad_o).sum().backward()
        u, o = lif_forward_np(current.numpy().astype(np.float32), tau)
        check(f"LIF tau={tau} forward", np.array_equal(u, membrane.detach().numpy())
              and np.array_equal(o, spikes.detach().numpy()))
        du = lif_backward_np(u.astype(np.float64), o.astype(np.float64), grad_o.numpy(), np.float64(np.float32(tau)))
        err = np.abs(du - leaf.grad.numpy()).max()
        check(f"LIF tau={tau} surrogate BPTT vs numpy", err < 1e-5, f"max |diff| {err:.2e}")


def check_two_layers():
    torch.manual_seed(3)
    T, B, n_in, n_h, n_out, tau = 16, 2, 6, 5, 4, 0.3
    rec = RecurrentLinear(n_in, n_h).double()
    ff = torch.nn.Linear(n_h, n_out).double()
    with torch.no_grad():
        for p in list(rec.parameters()) + list(ff.parameters()):
            p.mul_(3)
    x = (torch.rand(T, B, n_in, dtype=torch.float64) < 0.4).double()
    labels = torch.tensor([1, 3])
    lif = LIF(tau)
    # torch: recurrent layer then feed-forward layer, rate loss on the output.
    u = o = None
    hs = []
    for t in range(T):
        cur = rec.feedforward(x[t]) + (rec.recurrent(o) if o is not None else 0)
        u, o = lif.step(cur, u, o)
        hs.append(o)
    h = torch.stack(hs)
    out, _ = lif.scan(ff(h))
    loss = rate_loss(out, labels, n_out)
    loss.backward()

    # numpy, per sample.
    W1, b1, R1 = (p.detach().numpy() for p in (rec.weight, rec.bias, rec.recurrent_weight))
    W2, b2 = ff.weight.detach().numpy(), ff.bias.detach().numpy()
    grads = {k: 0 for k in ("W1", "b1", "R1", "W2", "b2")}
    tau32 = np.float64(np.float32(tau))
    for b in range(B):
        xb = x[:, b].numpy()
        u1 = np.zeros((T, n_h), np.float32)
        o1 = np.zeros((T, n_h), np.float32)
        for t in range(T):
            cur = (W1 @ xb[t] + b1 + (R1 @ o1[t - 1] if t else 0)).astype(np.float32)
            u1[t] = np.float32(tau) * (u1[t - 1] if t else 0) * (1 - (o1[t - 1] if t else 0)) + cur
            o1[t] = u1[t] >= VTH
        u2, o2 = lif_forward_np((o1.astype(np.float64) @ W2.T + b2).astype(np.float32), tau)
        y = np.eye(n_out)[labels[b]]
        # L = (1/B) sum_c (y_c - mean_t o2)^2  ->  dL/do2[t] = -(2/(B T)) (y - rate)
        grad_o2 = np.tile(-(2 / (B * T)) * (y - o2.mean(0)), (T, 1))
        dI2 = lif_backward_np(u2.astype(np.float64), o2.astype(np.float64), grad_o2, tau32)
        grads["W2"] = grads["W2"] + dI2.T @ o1
        grads["b2"] = grads["b2"] + dI2.sum(0)
        grad_o1 = dI2 @ W2
        dI1 = lif_backward_np(u1.astype(np.float64), o1.astype(np.float64), grad_o1, tau32, recurrent=R1)
        grads["W1"] = grads["W1"] + dI1.T @ xb
        grads["b1"] = grads["b1"] + dI1.sum(0)
        grads["R1"] = grads["R1"] + dI1[1:].T @ o1[:-1]
    torch_grads = {"W1": rec.weight.grad, "b1": rec.bias.grad, "R1": rec.recurrent_weight.grad,
                   "W2": ff.weight.grad, "b2": ff.bias.grad}
    for k, v in torch_grads.items():
        err = np.abs(grads[k] - v.numpy()).max()
        check(f"recurrent + feed-forward BPTT d{k}", err < 1e-6 and np.abs(grads[k]).max() > 0,
              f"max |diff| {err:.2e}, max |grad| {np.abs(grads[k]).max():.2e}")


def check_formulations():
    cfg = dict(PAPER_CONFIG, timesteps=8, visual_channels=[4, 4], visual_hidden=16,
               audio_hidden=16, fusion_hidden=8)
    g = torch.Generator().manual_seed(9)
    visual = (torch.rand(8, 2, 2, 28, 28, generator=g) < 0.2).double()
    audio = (torch.rand(8, 2, 64, generator=g) < 0.2).double()
    labels = torch.tensor([2, 7])
    for mode in MODES:
        torch.manual_seed(1)
        model = SpikeFuseReference(dict(cfg, mode=mode)).double()
        with torch.no_grad():
            for p in model.parameters():
                p.mul_(4)
        results = {}
        for formulation in ("loop", "timebatched"):
            model.zero_grad()
            out = model(visual, audio, formulation=formulation)
            losses(model, out, labels)["total"].backward()
            results[formulation] = (out, {k: p.grad.clone() for k, p in model.named_parameters()})
        (o1, g1), (o2, g2) = results["loop"], results["timebatched"]
        same = all(torch.equal(o1["layers"][k], o2["layers"][k]) for k in o1["layers"])
        err = max((g1[k] - g2[k]).abs().max().item() for k in g1)
        check(f"loop == timebatched ({mode})", same and err < 1e-10, f"max grad diff {err:.2e}")
        # The fused formulation keeps float32 membranes and BPTT in float32 (as SpikeFuse does):
        # the same spikes, gradients within float32 rounding of the float64 reference.
        model.zero_grad()
        out = model(visual, audio, formulation="fused")
        losses(model, out, labels)["total"].backward()
        g3 = {k: p.grad.clone() for k, p in model.named_parameters()}
        same = all(torch.equal(o2["layers"][k], out["layers"][k]) for k in o2["layers"])
        rel = max(((g2[k] - g3[k]).abs().max() / (g2[k].abs().max() + 1e-30)).item() for k in g2)
        check(f"fused == timebatched ({mode})", same and rel < 1e-5, f"max relative grad diff {rel:.2e}")


def check_finite_differences():
    labels = torch.tensor([0, 2])
    rates = torch.rand(5, 2, 3, dtype=torch.float64, requires_grad=True)
    check("gradcheck rate_loss", torch.autograd.gradcheck(lambda s: rate_loss(s, labels, 3), (rates,)))
    cfg = dict(PAPER_CONFIG, fusion_hidden=4)
    fusion = AttentionFusion(cfg).double()
    o_v = (torch.rand(3, 10, dtype=torch.float64) < 0.5).double()
    o_a = (torch.rand(3, 10, dtype=torch.float64) < 0.5).double()
    hidden = torch.rand(3, 4, dtype=torch.float64, requires_grad=True)

    def current(h):
        w = fusion.weights(h)
        return w[..., 0:1] * o_v + w[..., 1:2] * o_a
    check("gradcheck attention-weighted current", torch.autograd.gradcheck(current, (hidden,)))
    fusion.scale = 1.0   # softmax weights (the integrator readout uses 0.25)
    check("gradcheck softmax attention-weighted current", torch.autograd.gradcheck(current, (hidden,)))


def check_lif_fixture():
    from safetensors.torch import load_file
    from safetensors import safe_open
    path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                        "Tests", "SpikeNNTests", "Fixtures", "lif_golden.safetensors")
    f = load_file(path)
    meta = safe_open(path, "pt").metadata()
    for prefix in ("", "tau0.2."):
        tau = float(meta[prefix + "tau"])
        u, o = lif_forward_np(f[prefix + "current"].numpy(), tau)
        du = lif_backward_np(u.astype(np.float64), o.astype(np.float64),
                             f[prefix + "grad_spikes"].numpy().astype(np.float64), np.float64(np.float32(tau)))
        check(f"lif_golden tau={tau} forward", np.array_equal(u, f[prefix + "membrane"].numpy())
              and np.array_equal(o, f[prefix + "spikes"].numpy()))
        err = np.abs(du - f[prefix + "grad_current"].numpy()).max()
        check(f"lif_golden tau={tau} grad_current", err < 1e-5, f"max |diff| {err:.2e}")


if __name__ == "__main__":
    check_lif()
    check_two_layers()
    check_formulations()
    check_finite_differences()
    check_lif_fixture()
    print("all checks passed" if failures == 0 else f"{failures} checks FAILED")
    sys.exit(1 if failures else 0)
