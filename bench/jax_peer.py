#!/usr/bin/env python3
"""The JAX/XLA peer of the benchmark's networks on its shared inputs (one JSON line, as peer_bench.py).

Same CLI and output as bench/peer_bench.py (implementation "jax-..."), on a file written by
`spikefuse-bench --prepare` (multimodal: weights by checkpoint name, `input.visual`
[T, B, 2, 28, 28], `input.audio` [T, B, 64], `input.labels` [B]) or `--prepare-network NET.json`:

    python3 bench/jax_peer.py --check      # equal to bench/pytorch_reference.py before timing
    python3 bench/jax_peer.py --data runs/bench-data/trained.safetensors \
        --model multimodal --task train --batch 32 --seconds 5
    python3 bench/jax_peer.py --check --model network:bench/networks/gesture-lif.json \
        --data runs/bench-data/network-gesture-lif.safetensors     # then the same without --check

  train: forward, L = Lv + La + Lm (eq. 6; a described network: the rate loss of each head),
         backward, Adam (torch.optim.Adam's update: lr 1e-3, betas 0.9/0.999, eps 1e-8), all one
         jitted XLA program with the parameters and optimiser state donated
  infer: the jitted forward
bench/run.sh runs it beside the PyTorch peer with JAX=PYTHON (a Python with jax, numpy, safetensors).

The multimodal network is pytorch_reference.py's SpikeFuseReference (docs/model.md) written for XLA:
  * layouts: NHWC activations, HWIO kernels, linear weights [in, out] (fc1's rows permuted from
    PyTorch's (C, H, W) flattening to (H, W, C)), recurrent weights as R^T; converted once at load
    (`load_network_params`), gradients back for the check (`from_native`);
  * each visual block conv 3x3 -> LIF -> avgpool 2 is one custom_vjp (`conv_lif_pool`): the
    forward scan pools its own spikes and saves only the membranes; the reverse scan un-pools,
    runs the LIF adjoint of eq. 8 (reset path kept; FusedLIFScan's)
        du[t] = g[t] h[t] + m[t] du[t+1],  h = height 1{|u - Vth| < a/2},  m = tau 1{u < Vth} - tau u h
    and per step adds im2col(x[t])^T du[t] to dW and convolves du[t] back into dx[t]. For
    inference (`--block auto`) the convolution runs inside the forward scan too (`inscan`);
  * the other LIF layers are one `lax.scan` each with that adjoint as custom_vjp (`lif_custom`),
    each recurrent layer one scan of I[t] = ff[t] + o[t-1] R^T with its adjoint
        du[t] = g[t] h[t] + m[t] du[t+1] + h[t] (du[t+1] R),   dR = sum_t du[t+1]^T o[t]
    (`recurrent_custom`, FusedRecurrentScan's); GEMMs over all T*B rows;
  * glibc malloc: MALLOC_ARENA_MAX=1 (`--arena`, 0: glibc's default) and freed blocks kept
    (MALLOC_MMAP_MAX_=0, MALLOC_TRIM_THRESHOLD_ as run.sh; `--malloc default` to leave them):
    glibc reads these at start-up, so the script re-executes itself with them set.
Described networks (`--model network:FILE`): pytorch_network.py's DescribedNetwork (conv2d of any
kernel/stride/padding, linear, recurrent, lif, avg/max pool, flatten; one branch, no fusion yet),
each layer its own node: `conv_any` (dW by one patches GEMM per step), `lif_custom`, pools by autodiff.

Variants measured (this 2-core AVX-512 machine, SHARED: load average 5-8 from other work during
every run, so only differences above ~25 % mean anything; trained.safetensors of
`spikefuse-bench --prepare --train-batches 20`, --seconds 4 (infer 3); samples/s and samples per
CPU-second; training two interleaved rounds):
    multimodal, train 32                          samples/s     per CPU-s     peak MB
    default (custom vjp, fused blocks, arena 1)   14.2, 13.5    29.7, 26.4    1460
    --block inscan                                11.3, 18.4    22.7, 31.4    1081-1504
    --block split (conv, LIF, pool 3 nodes)       10.5, 14.1    20.7, 25.1    1599-2527
    --block split --conv-grad xla (XLA's dW)       7.0,  7.4    13.0, 15.1    3500
    --vjp autodiff (JAX differentiates the scan)   4.3,  9.3     8.5, 17.6    4090-5812
    --arena 0 (glibc's default arenas)            12.8, 10.6    21.7, 21.2    1510
    --malloc default (mmap/trim as glibc)         10.4,  9.3    21.7, 19.8    1435
    --threads 1 (--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1)
                                                  12.4, 12.0    24.7, 23.9    3060
    multimodal, infer 32 / infer 1                samples/s     per CPU-s
    default (--block inscan)                      89.3 / 62.6   127 / 99
    --block fused                                 41.9 / 49.0    89 / 73
    --vjp autodiff                                47.8 / 34.8    71 / 78
    --arena 0                                     57.4 / 64.8   100 / 102
    --malloc default                              71.0 / 71.7   106 / 104
    --threads 1                                   71.3 / 52.9   125 / 95
XLA_FLAGS tried on the parts (conv forward/backward, LIF scans; same load): --xla_cpu_use_onednn,
--xla_cpu_use_xnnpack, --xla_cpu_prefer_vector_width=512, --xla_cpu_use_thunk_runtime=false --
none faster beyond the noise; a flat [T, neurons] scan was ~1.5x faster than [T, B, H, W, C], and
keeping freed blocks (as run.sh does) made a 205 MB elementwise op 5x faster (page faults).
Inference as ONE scan over T through every layer (the loop formulation compiled; tried, removed):
slower than a scan per layer, infer 1: 46 vs 76 samples/s, infer 32: 66 vs 70 (load 5.1-5.2).
"""
import argparse
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "Tests", "MultimodalTests", "Fixtures")
PAPER_CONSTANTS = {"tau_visual": 0.2, "tau_audio": 0.1, "tau_fusion": 0.9, "threshold": 0.5,
                   "surrogate_width": 1.0, "audio_surrogate_dampening": 0.3}


def parse(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", help="the shared weights and inputs (spikefuse-bench --prepare)")
    p.add_argument("--model", default="multimodal", help="multimodal or network:NET.json (a described network)")
    p.add_argument("--task", choices=["train", "infer"], default="train")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--seconds", type=float, default=5.0)
    p.add_argument("--threads", type=int, default=2,
                   help="1: XLA's Eigen single-threaded (--xla_cpu_multi_thread_eigen=false); else the default pool")
    p.add_argument("--timesteps", type=int, default=0,
                   help="resample the inputs to T steps (step t = input step t mod T); 0 = as stored")
    p.add_argument("--vjp", choices=["custom", "autodiff"], default="custom",
                   help="custom: hand BPTT custom_vjp per LIF scan (default); autodiff: JAX differentiates the scan")
    p.add_argument("--block", choices=["auto", "fused", "inscan", "split"], default="auto",
                   help="visual blocks: conv -> LIF -> pool as one custom_vjp (fused; inscan: the convolution "
                        "inside the scan too) or three nodes (split); auto: fused to train, inscan to infer")
    p.add_argument("--conv-grad", choices=["scan", "xla"], default="scan",
                   help="convolution weight gradients: one GEMM per step in a scan (default) or XLA's own")
    p.add_argument("--arena", type=int, default=1, help="MALLOC_ARENA_MAX (0: leave glibc's default)")
    p.add_argument("--malloc", choices=["keep", "default"], default="keep",
                   help="keep: MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=64 GiB, as bench/run.sh (default)")
    p.add_argument("--xla-flags", default="", help="extra XLA_FLAGS")
    p.add_argument("--check", action="store_true",
                   help="compare spikes and gradients with pytorch_reference.py (float64) and the golden fixture")
    return p.parse_args(argv[1:])


ARGS = parse(sys.argv)
if ARGS.block == "auto":
    ARGS.block = "fused" if ARGS.task == "train" or ARGS.check else "inscan"
# glibc reads its malloc settings at start-up: re-execute with them when they are missing.
_malloc = {"MALLOC_ARENA_MAX": str(ARGS.arena)} if ARGS.arena > 0 else {}
if ARGS.malloc == "keep":   # as bench/run.sh exports for every peer: freed blocks stay mapped
    _malloc.update(MALLOC_MMAP_MAX_="0", MALLOC_TRIM_THRESHOLD_="68719476736")
if any(os.environ.get(k) != v for k, v in _malloc.items()):
    os.execve(sys.executable, [sys.executable] + sys.argv, dict(os.environ, **_malloc))
_flags = [os.environ.get("XLA_FLAGS", ""), ARGS.xla_flags]
if ARGS.threads == 1:
    _flags.append("--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
os.environ["XLA_FLAGS"] = " ".join(f for f in _flags if f)
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import numpy as np  # noqa: E402
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
from jax import lax  # noqa: E402
from safetensors.numpy import load_file  # noqa: E402

sys.path.insert(0, HERE)
from peer_timing import result_line, timed  # noqa: E402

if ARGS.check:
    jax.config.update("jax_enable_x64", True)


# ---------------------------------------------------------------------------------------
# LIF scans. Constants (tau, Vth, surrogate width a, height) are Python floats; `mdt` is the
# membrane dtype (float32 as SpikeFuse; float64 in the check). u[-1] = o[-1] = 0.

def surrogate_height(dampening, width, mdt):
    """dampening / width rounded to the membrane dtype, as LIF.__init__ computes it."""
    return float(np.asarray(dampening, mdt) / np.asarray(width, mdt))


def lif_custom(tau, th, width, height, mdt):
    """currents [T, ...] -> spikes [T, ...] (currents' dtype); one custom_vjp node (FusedLIFScan)."""

    def forward(currents):   # the scan runs on [T, neurons] (flat: faster than [T, B, H, W, C])
        c = currents.astype(mdt).reshape(currents.shape[0], -1)

        def step(u, i):   # u[t] = tau u[t-1] (1 - o[t-1]) + I[t]
            u = jnp.where(u >= th, 0, tau * u) + i
            return u, u
        _, u = lax.scan(step, jnp.zeros_like(c[0]), c)
        return (u >= th).astype(currents.dtype).reshape(currents.shape), u

    def backward(u, g):
        def step(d, x):   # du[t] = g[t] h[t] + (tau 1{u<Vth} - tau u h) du[t+1]
            g_t, u_t = x
            h = (jnp.abs(u_t - th) < width / 2).astype(mdt) * height
            d = g_t * h + (tau * (u_t < th).astype(mdt) - tau * u_t * h) * d
            return d, d
        _, du = lax.scan(step, jnp.zeros_like(u[0]), (g.astype(mdt).reshape(u.shape), u), reverse=True)
        return (du.astype(g.dtype).reshape(g.shape),)

    scan = jax.custom_vjp(lambda currents: forward(currents)[0])
    scan.defvjp(forward, backward)
    return scan


def recurrent_custom(tau, th, width, height, mdt):
    """(ff [T, B, N] = W x + b, rt = R^T [N, N]) -> spikes [T, B, N]; I[t] = ff[t] + o[t-1] R^T.
    One custom_vjp node (FusedRecurrentScan)."""

    def forward(ff, rt):
        def step(carry, f_t):
            u, o = carry
            u = jnp.where(o > 0, 0, tau * u) + (f_t + o @ rt).astype(mdt)
            o = (u >= th).astype(ff.dtype)
            return (u, o), (u, o)
        zero = jnp.zeros(ff.shape[1:], mdt)
        _, (u, o) = lax.scan(step, (zero, zero.astype(ff.dtype)), ff)
        return o, (u, o, rt)

    def backward(res, g):
        u, o, rt = res
        r = rt.astype(mdt).T

        def step(d, x):   # du[t] = g h + m du[t+1] + h (du[t+1] R)
            g_t, u_t, o_t = x
            h = (jnp.abs(u_t - th) < width / 2).astype(mdt) * height
            d = g_t * h + (tau * (1 - o_t) - tau * u_t * h) * d + h * (d @ r)
            return d, d
        _, du = lax.scan(step, jnp.zeros_like(u[0]), (g.astype(mdt), u, o.astype(mdt)), reverse=True)
        n = u.shape[-1]
        drt = o[:-1].reshape(-1, n).astype(mdt).T @ du[1:].reshape(-1, n)   # dR^T = sum_t o[t]^T du[t+1]
        return du.astype(g.dtype), drt.astype(rt.dtype)

    scan = jax.custom_vjp(lambda ff, rt: forward(ff, rt)[0])
    scan.defvjp(forward, backward)
    return scan


def spike_autodiff(th, width, height):
    """Heaviside(u - Vth) with the rectangular surrogate as its derivative (SpikeFunction)."""
    @jax.custom_vjp
    def spike(u):
        return (u >= th).astype(u.dtype)
    spike.defvjp(lambda u: (spike(u), u),
                 lambda u, g: (g * (jnp.abs(u - th) < width / 2).astype(u.dtype) * height,))
    return spike


def lif_autodiff(tau, th, width, height, mdt):
    spike = spike_autodiff(th, width, height)

    def scan(currents):
        def step(carry, i):
            u, o = carry
            u = tau * u * (1 - o) + i
            o = spike(u)
            return (u, o), o
        zero = jnp.zeros(currents.shape[1:], mdt)
        _, o = lax.scan(step, (zero, zero), currents.astype(mdt))
        return o.astype(currents.dtype)
    return scan


def recurrent_autodiff(tau, th, width, height, mdt):
    spike = spike_autodiff(th, width, height)

    def scan(ff, rt):
        def step(carry, f_t):
            u, o = carry
            u = tau * u * (1 - o) + (f_t + o.astype(ff.dtype) @ rt).astype(mdt)
            o = spike(u)
            return (u, o), o
        zero = jnp.zeros(ff.shape[1:], mdt)
        _, o = lax.scan(step, (zero, zero), ff)
        return o.astype(ff.dtype)
    return scan


def conv_xla(x, w):
    """x [N, H, W, Cin], w [3, 3, Cin, Cout] (HWIO), stride 1, pad 1 -> [N, H, W, Cout]."""
    return lax.conv_general_dilated(x, w, (1, 1), ((1, 1), (1, 1)), dimension_numbers=("NHWC", "HWIO", "NHWC"))


def im2col(x):
    """x [N, H, W, C] -> the 3 x 3 pad-1 patches [N*H*W, 9 C] (column (3 i + j) C + c: HWIO order)."""
    n, h, w, c = x.shape
    xp = jnp.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    return jnp.concatenate([xp[:, i:i + h, j:j + w, :] for i in range(3) for j in range(3)], axis=-1).reshape(-1, 9 * c)




def conv_lif_pool(tau, th, width, height, mdt, input_grad, record, conv_in_scan):
    """One visual block as one custom_vjp node: x [T, B, H, W, Cin] -> conv 3x3 pad 1 (w HWIO, b)
    -> LIF scan -> average pool 2 -> [T, B, H/2, W/2, Cout] (with `record`, also the spikes
    [T, B, H, W, Cout]). Forward: one scan whose step pools its own spikes (with `conv_in_scan`
    also convolves x[t]), saving only the membranes u [T, B, H, W, Cout]. Backward: one reverse
    scan whose step un-pools g[t], runs the LIF adjoint (as lif_custom), adds im2col(x[t])^T du[t]
    to dW and, with `input_grad`, convolves du[t] with the flipped kernel into dx[t]."""

    def pool(s):     # [B, H, W, C] -> [B, H/2, W/2, C]
        n, h, w, c = s.shape
        return s.reshape(n, h // 2, 2, w // 2, 2, c).sum(axis=(2, 4)) * 0.25

    def unpool(g):   # the adjoint of pool: [B, H/2, W/2, C] -> [B, H, W, C]
        n, h, w, c = g.shape
        return jnp.broadcast_to((g * 0.25)[:, :, None, :, None, :], (n, h, 2, w, 2, c)).reshape(n, 2 * h, 2 * w, c)

    def forward(x, w, b):
        T, B, H, W = x.shape[:4]
        xs = x if conv_in_scan else conv_any(x, w, 1, 1) + b

        def step(u, x_t):
            i = conv_xla(x_t, w) + b if conv_in_scan else x_t
            u = jnp.where(u >= th, 0, tau * u) + i.astype(mdt)
            s = (u >= th).astype(x.dtype)
            return u, (u, pool(s), s if record else None)
        _, (u, pooled, spikes) = lax.scan(step, jnp.zeros((B, H, W, w.shape[3]), mdt), xs)
        return ((pooled, spikes) if record else pooled), (x, w, u)

    def backward(res, g):
        x, w, u = res
        g_pooled, g_spikes = g if record else (g, None)
        flipped = w[::-1, ::-1].transpose(0, 1, 3, 2)

        def step(carry, xs):
            d, dw, db = carry
            gp_t, gs_t, u_t, x_t = xs
            g_t = unpool(gp_t).astype(mdt) if gs_t is None else (unpool(gp_t) + gs_t).astype(mdt)
            h = (jnp.abs(u_t - th) < width / 2).astype(mdt) * height
            d = g_t * h + (tau * (u_t < th).astype(mdt) - tau * u_t * h) * d
            dx = d.astype(x.dtype)
            dw = dw + lax.dot_general(im2col(x_t), dx.reshape(-1, dx.shape[-1]), (((0,), (0,)), ((), ())))
            return (d, dw, db + dx.sum(axis=(0, 1, 2))), (conv_xla(dx, flipped) if input_grad else None)
        init = (jnp.zeros_like(u[0]), jnp.zeros((9 * w.shape[2], w.shape[3]), x.dtype), jnp.zeros(w.shape[3], x.dtype))
        (_, dw, db), dx = lax.scan(step, init, (g_pooled, g_spikes, u, x), reverse=True)
        return (dx if input_grad else jnp.zeros_like(x)), dw.reshape(w.shape), db

    block = jax.custom_vjp(lambda x, w, b: forward(x, w, b)[0])
    block.defvjp(forward, backward)
    return block


# ---------------------------------------------------------------------------------------
# The network (SpikeFuseReference, mode multimodal, attention readout "neuron")

def load_params(tensors, dtype, source):
    """{checkpoint name: array} of the multimodal network -> ({name: jnp array in native layout
    and `dtype`}, the flattened shape before fc1 {"visual.fc1.weight": (C, H, W)})."""
    missing = [k for k in ("visual.conv2.weight", "visual.fc1.weight", "audio.rec1.weight", "fusion.hidden.weight")
               if k not in tensors]
    if missing:
        raise SystemExit(f"{source}: no tensors {missing} (the multimodal network's weights)")
    c = tensors["visual.conv2.weight"].shape[0]
    hw = int(round((tensors["visual.fc1.weight"].shape[1] / c) ** 0.5))
    flattened = {"visual.fc1.weight": (c, hw, hw)}
    names = [k for k in tensors if k.startswith(("visual.", "audio.", "fusion."))]
    return load_network_params({k: tensors[k] for k in names}, flattened, dtype), flattened


def make_network(constants, mdt, vjp, conv_grad="scan", block="fused"):
    """-> forward(params, visual NHWC [T, B, H, W, P], audio [T, B, 64]) -> {head: spikes [T, B, 10], layers}."""
    c = constants
    lif, recurrent = (lif_custom, recurrent_custom) if vjp == "custom" else (lif_autodiff, recurrent_autodiff)
    th, a = c["threshold"], c["surrogate_width"]
    one = surrogate_height(1.0, a, mdt)
    visual_lif = lif(c["tau_visual"], th, a, one, mdt)
    fusion_lif = lif(c["tau_fusion"], th, a, one, mdt)
    audio_rec = recurrent(c["tau_audio"], th, a, surrogate_height(c["audio_surrogate_dampening"], a, mdt), mdt)

    def conv(x, w, b):   # x [T, B, H, W, Cin], w [3, 3, Cin, Cout] (pad 1) -> [T, B, H, W, Cout]
        if conv_grad == "scan":
            return conv_any(x, w, 1, 1) + b
        y = conv_xla(x.reshape((-1,) + x.shape[2:]), w) + b
        return y.reshape(x.shape[:2] + y.shape[1:])

    def pool(x):         # average over 2 x 2: [T, B, H, W, C] -> [T, B, H/2, W/2, C]
        t, n, h, w, ch = x.shape
        return x.reshape(t, n, h // 2, 2, w // 2, 2, ch).sum(axis=(3, 5)) * 0.25

    def blocks(p, x, record):   # -> (pooled spikes of conv2 [T, B, H/4, W/4, C], {layer: spikes} when record)
        if block == "split" or vjp == "autodiff":
            s1 = visual_lif(conv(x, p["visual.conv1.weight"], p["visual.conv1.bias"]))
            s2 = visual_lif(conv(pool(s1), p["visual.conv2.weight"], p["visual.conv2.bias"]))
            return pool(s2), {"visual.conv1": s1, "visual.conv2": s2}
        fused = [conv_lif_pool(c["tau_visual"], th, a, one, mdt, k == 2, record, block == "inscan") for k in (1, 2)]
        layers = {}
        for k, f in zip((1, 2), fused):
            x = f(x, p[f"visual.conv{k}.weight"], p[f"visual.conv{k}.bias"])
            if record:
                x, layers[f"visual.conv{k}"] = x
        return x, layers

    def forward(p, visual, audio, record=False):
        T, B = visual.shape[:2]
        pooled, layers = blocks(p, visual, record)
        flat = pooled.reshape(T, B, -1)
        s3 = visual_lif(flat @ p["visual.fc1.weight"] + p["visual.fc1.bias"])
        layers["visual.fc1"] = s3
        o_v = visual_lif(s3 @ p["visual.fc2.weight"] + p["visual.fc2.bias"])
        layers["visual.fc2"] = o_v
        x = audio
        for name in ("audio.rec1", "audio.rec2", "audio.rec3", "audio.out"):
            x = audio_rec(x @ p[name + ".weight"] + p[name + ".bias"], p[name + ".recurrent_weight"])
            layers[name] = x
        o_a = x
        hidden = fusion_lif(jnp.concatenate([o_v, o_a], axis=-1) @ p["fusion.hidden.weight"] + p["fusion.hidden.bias"])
        layers["fusion.hidden"] = hidden
        w = hidden @ p["fusion.attention.weight"] + p["fusion.attention.bias"]   # [T, B, 2] = (w_v, w_a)
        fused = fusion_lif(w[..., 0:1] * o_v + w[..., 1:2] * o_a)
        layers["fusion.output"] = fused
        return {"visual": o_v, "audio": o_a, "fusion": fused, "attention": w, "layers": layers}
    return forward


def rate_loss(spikes, onehot):
    """spikes [T, B, classes], onehot [B, classes] -> mean_b sum_c (Y_c - rate_c)^2 (eq. 7)."""
    return ((onehot - spikes.mean(axis=0)) ** 2).sum(axis=1).mean()


def make_loss(forward, record=False):
    def loss(p, visual, audio, onehot):
        out = forward(p, visual, audio, record)
        parts = {h: rate_loss(out[h], onehot) for h in ("visual", "audio", "fusion") if h in out}
        return sum(parts.values()), (parts, out)
    return loss


def adam(params, grads, state, lr=1e-3, b1=0.9, b2=0.999, eps=1e-8):
    """torch.optim.Adam's update (no weight decay, no amsgrad)."""
    step, m, v = state
    step = step + 1
    m = {k: b1 * m[k] + (1 - b1) * grads[k] for k in params}
    v = {k: b2 * v[k] + (1 - b2) * grads[k] * grads[k] for k in params}
    c1, c2 = 1 - b1 ** step, 1 - b2 ** step
    new = {k: params[k] - (lr / c1) * m[k] / (jnp.sqrt(v[k]) / jnp.sqrt(c2) + eps) for k in params}
    return new, (step, m, v)


# ---------------------------------------------------------------------------------------
# Described networks (bench/pytorch_network.py's DescribedNetwork: one branch per modality,
# no fusion here): conv2d (any kernel, stride, padding), linear, recurrent, lif, avgpool2d,
# maxpool2d (the gradient to the window's first maximum in row-major order), flatten.

def _conv_any(x, w, stride, padding):
    """x [T, B, H, W, Cin], w [k, k, Cin, Cout] (HWIO) -> [T, B, Ho, Wo, Cout] over all T*B rows.
    As conv_any's custom_vjp: dx by XLA's transposed convolution; dW = sum_t patches(x[t])^T g[t],
    one GEMM per step in a lax.scan (cache-sized patches: XLA's own weight gradient of a
    convolution ran 2-4x slower here). stride, padding: Python ints."""
    T, B = x.shape[:2]
    y = lax.conv_general_dilated(x.reshape((T * B,) + x.shape[2:]), w, (stride, stride), ((padding, padding),) * 2,
                                 dimension_numbers=("NHWC", "HWIO", "NHWC"))
    return y.reshape((T, B) + y.shape[1:])


def _conv_any_fwd(x, w, stride, padding):
    return _conv_any(x, w, stride, padding), (x, w)


def _conv_any_bwd(stride, padding, res, g):
    x, w = res
    k, cin, cout = w.shape[0], w.shape[2], w.shape[3]
    _, pullback = jax.vjp(lambda x_: _conv_any(x_, w, stride, padding), x)
    (dx,) = pullback(g)

    def step(acc, xg):   # patches [B, Ho, Wo, Cin*k*k], features ordered (c, i, j)
        x_t, g_t = xg
        cols = lax.conv_general_dilated_patches(x_t, (k, k), (stride, stride), ((padding, padding),) * 2,
                                                dimension_numbers=("NHWC", "HWIO", "NHWC"))
        return acc + lax.dot_general(cols.reshape(-1, cols.shape[-1]), g_t.reshape(-1, cout),
                                     (((0,), (0,)), ((), ()))), None
    dw, _ = lax.scan(step, jnp.zeros((cin * k * k, cout), g.dtype), (x, g))
    return dx, dw.reshape(cin, k, k, cout).transpose(1, 2, 0, 3)


conv_any = jax.custom_vjp(_conv_any, nondiff_argnums=(2, 3))
conv_any.defvjp(_conv_any_fwd, _conv_any_bwd)


def max_pool(x, k):
    """[T, B, H, W, C] -> [T, B, H//k, W//k, C], the gradient to the window's first maximum in
    row-major order: the k*k strided slices in that order, each selected where it equals the max
    and no earlier one did (no gather, so no scatter in the backward)."""
    h, w = x.shape[2] // k, x.shape[3] // k
    slices = [x[:, :, i:h * k:k, j:w * k:k] for i in range(k) for j in range(k)]
    top = slices[0]
    for sl in slices[1:]:
        top = jnp.maximum(top, sl)
    out, taken = 0, jnp.zeros(top.shape, bool)
    for sl in slices:
        first = lax.stop_gradient((sl == top) & ~taken)
        taken = taken | first
        out = out + sl * first.astype(x.dtype)   # exactly the max: one term is it, the rest 0
    return out


def avg_pool(x, k):
    t, n, h, w, c = x.shape
    h, w = h // k, w // k
    return x[:, :, :h * k, :w * k].reshape(t, n, h, k, w, k, c).sum(axis=(3, 5)) * (1.0 / (k * k))


def described_network(description, mdt, vjp):
    """-> (forward(params, visual, audio, record) as make_network's, the native layout of each
    linear weight after a flatten {name: (C, H, W)}). Inputs NHWC [T, B, H, W, C] or [T, B, N]."""
    d = description
    if d.get("fusion"):
        raise SystemExit(f"{d.get('name')}: fusion in a described network is not in the JAX peer")
    lif_of, rec_of = (lif_custom, recurrent_custom) if vjp == "custom" else (lif_autodiff, recurrent_autodiff)

    def neuron(n):
        if n.get("model", "lif") != "lif":
            raise SystemExit(f"{d.get('name')}: neuron model {n.get('model')!r} is not in the JAX peer (lif)")
        a = float(n.get("surrogate_width", 1.0))
        return (float(n["tau"]), float(n.get("threshold", 0.5)), a,
                surrogate_height(n.get("surrogate_dampening", 1.0), a, mdt), mdt)

    branches, flattened = [], {}
    for b in d["branches"]:
        head = {"dvs": "visual", "cochlea": "audio"}[b["input"]["modality"]]
        shape, steps, last, flat_shape = list(b["input"]["shape"]), [], None, None
        for i, item in enumerate(b["layers"]):
            kind, name = item["type"], f"{b['name']}.{item.get('name', '')}"
            if kind == "conv2d":
                k, st, pad = item["kernel"], item.get("stride", 1), item.get("padding", 0)
                shape = [item["channels"], (shape[1] + 2 * pad - k) // st + 1, (shape[2] + 2 * pad - k) // st + 1]
                steps.append((kind, name, (st, pad), name))
            elif kind in ("linear", "recurrent"):
                if last == "flatten" and flat_shape[1] * flat_shape[2] > 1:
                    flattened[name + ".weight"] = tuple(flat_shape)
                shape = [item["features"]]
                rec = rec_of(*neuron(item.get("neuron") or b["neuron"])) if kind == "recurrent" else None
                steps.append((kind, name, rec, name))
            elif kind == "lif":
                prev = b["layers"][i - 1] if i > 0 else None
                record = (f"{b['name']}.{prev['name']}" if prev and prev["type"] in ("conv2d", "linear")
                          else f"{b['name']}.lif{i + 1}")
                steps.append((kind, None, lif_of(*neuron(item.get("neuron") or b["neuron"])), record))
            elif kind in ("avgpool2d", "maxpool2d"):
                shape = [shape[0], shape[1] // item["kernel"], shape[2] // item["kernel"]]
                steps.append((kind, None, item["kernel"], None))
            elif kind == "flatten":
                flat_shape = list(shape)
                shape = [int(np.prod(shape))]
                steps.append((kind, None, None, None))
            elif kind == "dropout":
                if float(item["rate"]) > 0:
                    raise SystemExit(f"{d.get('name')}: dropout is not in the JAX peer")
            else:
                raise SystemExit(f"{d.get('name')}: unknown layer type {kind!r}")
            last = kind
        branches.append((head, steps))

    def forward(p, visual, audio, record=False):
        out, layers = {}, {}
        for head, steps in branches:
            x = visual if head == "visual" else audio
            T, B = x.shape[:2]
            for kind, name, arg, rec_name in steps:
                if kind == "conv2d":
                    x = conv_any(x, p[name + ".weight"], *arg) + p[name + ".bias"]
                elif kind == "linear":
                    x = x @ p[name + ".weight"] + p[name + ".bias"]
                elif kind == "recurrent":
                    x = arg(x @ p[name + ".weight"] + p[name + ".bias"], p[name + ".recurrent_weight"])
                    layers[name] = x
                elif kind == "lif":
                    x = arg(x)
                    layers[rec_name] = x
                elif kind == "avgpool2d":
                    x = avg_pool(x, arg)
                elif kind == "maxpool2d":
                    x = max_pool(x, arg)
                elif kind == "flatten":
                    x = x.reshape(T, B, -1)
            out[head] = x
        out["layers"] = layers
        return out
    return forward, flattened


def load_network_params(tensors, flattened, dtype):
    """Checkpoint tensors -> native layout: conv HWIO, linear [in, out] (rows in (H, W, C) order
    after a flatten of [C, H, W]), recurrent R^T."""
    params = {}
    for k, w in tensors.items():
        if k.startswith("input."):
            continue
        w = np.asarray(w, dtype)
        if k in flattened:
            c, h, ww = flattened[k]
            w = w.reshape(w.shape[0], c, h, ww).transpose(2, 3, 1, 0).reshape(h * ww * c, w.shape[0])
        elif w.ndim == 4:
            w = w.transpose(2, 3, 1, 0)
        elif w.ndim == 2:
            w = w.T
        params[k] = jnp.asarray(w)
    return params


def from_native(k, g, like, flattened):
    """A gradient in native layout -> the checkpoint layout of `like` (load_network_params's inverse)."""
    if k in flattened:
        c, h, w = flattened[k]
        return g.reshape(h, w, c, -1).transpose(3, 2, 0, 1).reshape(like.shape)
    if g.ndim == 4:
        return g.transpose(3, 2, 0, 1)
    return g.T if g.ndim == 2 else g


def float64_torch(torch):
    """torch with torch.float32 meaning float64: put in place of pytorch_reference's `torch`, its
    LIF keeps float64 membranes (the check's float64 throughout)."""
    class Float64Torch:
        float32 = torch.float64

        def __getattr__(self, name):
            return getattr(torch, name)
    return Float64Torch()


def check_network(path):
    """The described network of `path` on --data's weights and first two samples, float64
    throughout, against pytorch_network.DescribedNetwork (timebatched and fused): every spiking
    layer's spikes identical, losses and gradients within 1e-10 of the largest entry."""
    import torch
    import pytorch_reference as ref
    from pytorch_network import DescribedNetwork
    if not ARGS.data:
        raise SystemExit("--check --model network:FILE needs --data (spikefuse-bench --prepare-network FILE)")
    with open(path) as f:
        description = json.load(f)
    tensors = load_file(ARGS.data)
    forward, flattened = described_network(description, np.float64, ARGS.vjp)
    params = load_network_params(tensors, flattened, np.float64)
    B = 2
    inputs = {h: tensors.get(f"input.{h}") for h in ("visual", "audio")}
    inputs = {h: np.ascontiguousarray(x[:, :B].astype(np.float64)) for h, x in inputs.items() if x is not None}
    nhwc = {h: (x.transpose(0, 1, 3, 4, 2) if x.ndim == 5 else x) for h, x in inputs.items()}
    labels = tensors["input.labels"][:B].astype(np.int64)
    onehot = np.eye(description["classes"])[labels]
    grad = jax.jit(jax.grad(make_loss(forward), has_aux=True))
    g, (parts, out) = grad(params, nhwc.get("visual"), nhwc.get("audio"), jnp.asarray(onehot))
    failures, worst = [], 0.0

    real = ref.torch
    ref.torch = float64_torch(torch)
    try:
        for formulation in ("timebatched", "fused"):
            model = DescribedNetwork(description).double()
            model.load_state_dict({k: torch.from_numpy(np.asarray(tensors[k], np.float64)) for k in model.state_dict()})
            o = model(**{h: torch.from_numpy(x) for h, x in inputs.items()}, formulation=formulation)
            total = sum(ref.rate_loss(o[h], torch.from_numpy(labels), description["classes"]) for h in parts)
            total.backward()
            for name, s in o["layers"].items():
                mine = np.asarray(out["layers"][name])
                mine = mine.transpose(0, 1, 4, 2, 3) if mine.ndim == 5 else mine
                if not np.array_equal(mine, s.detach().numpy()):
                    failures.append(f"{formulation}: spikes of {name} differ")
            scale = abs(total.item())
            worst = max(worst, abs(float(sum(parts.values())) - total.item()) / scale)
            for k, prm in model.named_parameters():
                mine = from_native(k, np.asarray(g[k]), prm, flattened)
                rel = float(np.abs(mine - prm.grad.numpy()).max()) / max(float(prm.grad.abs().max()), 1e-30)
                worst = max(worst, rel)
                if not rel <= 1e-10:
                    failures.append(f"{formulation}: grad {k}: relative difference {rel:.3e} > 1e-10")
            rates = {k: float(v.detach().mean()) for k, v in o["layers"].items()}
            print(f"float64 vs DescribedNetwork ({formulation}): spikes of {len(o['layers'])} layers compared "
                  f"(firing {min(rates.values()):.3f}-{max(rates.values()):.3f}), largest relative difference {worst:.2e}")
    finally:
        ref.torch = real
    if failures:
        print("CHECK FAILED:\n  " + "\n  ".join(failures))
        sys.exit(1)
    print(f"check passed ({path}, --vjp {ARGS.vjp})")


# ---------------------------------------------------------------------------------------
# Check against bench/pytorch_reference.py

def check():
    """JAX vs SpikeFuseReference on the golden fixture's weights and inputs (B = 3, T = 12, small
    sizes): (1) all float64, membranes included: every layer's spikes identical, losses and every
    gradient within 1e-10 (relative to the tensor's largest entry), for the reference's autograd
    ("timebatched") and hand-BPTT ("fused") formulations; (2) float64 weights with float32
    membranes, as the golden fixture was written: spike counts identical to golden_grads, gradients
    within 1e-4 relative (float32 adjoints summed in another order)."""
    import torch
    import pytorch_reference as ref
    weights = load_file(os.path.join(FIXTURES, "golden_weights.safetensors"))
    inputs = load_file(os.path.join(FIXTURES, "golden_inputs.safetensors"))
    golden = load_file(os.path.join(FIXTURES, "golden_grads.safetensors"))
    from safetensors import safe_open
    with safe_open(os.path.join(FIXTURES, "golden_weights.safetensors"), "np") as f:
        cfg = json.loads(f.metadata()["config"])
    visual_t = np.ascontiguousarray(inputs["visual_input"].astype(np.float64).transpose(1, 0, 2, 3, 4))
    audio_t = np.ascontiguousarray(inputs["audio_input"].astype(np.float64).transpose(1, 0, 2))
    labels = inputs["labels"].astype(np.int64)
    onehot = np.eye(cfg["classes"])[labels]
    failures = []

    def jax_run(mdt):
        params, flattened = load_params(weights, np.float64, "golden_weights.safetensors")
        forward = make_network(cfg, mdt, ARGS.vjp, ARGS.conv_grad, ARGS.block)
        grad = jax.jit(jax.grad(make_loss(forward, record=True), has_aux=True))
        g, (parts, out) = grad(params, jnp.asarray(visual_t.transpose(0, 1, 3, 4, 2)), jnp.asarray(audio_t), jnp.asarray(onehot))
        grads = {k: from_native(k, np.asarray(v), weights[k], flattened) for k, v in g.items()}
        return grads, {k: float(v) for k, v in parts.items()}, out

    def compare(label, a, b, tol):
        scale = max(float(np.abs(b).max()), 1e-30)
        rel = float(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64)).max()) / scale
        if not rel <= tol:
            failures.append(f"{label}: relative difference {rel:.3e} > {tol:g}")
        return rel

    # (1) float64 throughout: the reference's float32 membranes made float64 for the check.
    grads64, parts64, out64 = jax_run(np.float64)
    real_torch = ref.torch
    ref.torch = float64_torch(torch)
    try:
        for formulation in ("timebatched", "fused"):
            model = ref.SpikeFuseReference(cfg).double()
            model.load_state_dict({k: torch.from_numpy(weights[k].astype(np.float64)) for k in model.state_dict()})
            out = model(torch.from_numpy(visual_t), torch.from_numpy(audio_t), formulation=formulation)
            loss = ref.losses(model, out, torch.from_numpy(labels))
            loss["total"].backward()
            worst = 0.0
            for name, s in out["layers"].items():
                mine = np.asarray(out64["layers"][name])
                if mine.ndim == 5:   # NHWC -> NCHW
                    mine = mine.transpose(0, 1, 4, 2, 3)
                if not np.array_equal(mine, s.detach().numpy()):
                    failures.append(f"float64 {formulation}: spikes of {name} differ")
            for head in ("visual", "audio", "fusion"):
                worst = max(worst, compare(f"float64 {formulation}: loss {head}", parts64[head], loss[head].item(), 1e-10))
            for name, prm in model.named_parameters():
                worst = max(worst, compare(f"float64 {formulation}: grad {name}", grads64[name], prm.grad.numpy(), 1e-10))
            print(f"float64 vs pytorch_reference ({formulation}): spikes of {len(out['layers'])} layers compared, "
                  f"largest relative difference of losses and gradients {worst:.2e}")
    finally:
        ref.torch = real_torch
    # (2) the golden fixture: float64 weights and sums, float32 membranes.
    grads32, parts32, out32 = jax_run(np.float32)
    for head in ("visual", "audio", "fusion"):
        if not np.array_equal(np.asarray(out32[head]).sum(0), golden[f"spikes.{head}"]):
            failures.append(f"golden: spike counts of {head} differ")
        compare(f"golden: loss {head}", parts32[head], golden[f"loss.{head}"], 1e-6)
    for name, s in out32["layers"].items():
        counts = np.asarray(s).reshape(s.shape[0], s.shape[1], -1).sum(axis=(0, 2))
        if not np.array_equal(counts, golden[f"activity.{name}"]):
            failures.append(f"golden: activity of {name} differs")
    worst = max(compare(f"golden: grad {k}", grads32[k], golden["grad." + k], 1e-4) for k in weights)
    print(f"float32 membranes vs golden_grads.safetensors: spike counts of 3 heads and 10 layers compared, "
          f"largest relative gradient difference {worst:.2e}")
    if failures:
        print("CHECK FAILED:\n  " + "\n  ".join(failures))
        sys.exit(1)
    print(f"check passed (--vjp {ARGS.vjp})")


# ---------------------------------------------------------------------------------------
# Timing, as peer_bench.py

def bench(args):
    if not args.data:
        raise SystemExit("--data is required (or --check)")
    tensors = load_file(args.data)
    if args.model == "multimodal":
        classes = 10
        params, _ = load_params(tensors, np.float32, args.data)
        forward = make_network(PAPER_CONSTANTS, np.float32, args.vjp, args.conv_grad, args.block)
    elif args.model.startswith("network:"):
        with open(args.model[len("network:"):]) as f:
            description = json.load(f)
        classes = description["classes"]
        forward, flattened = described_network(description, np.float32, args.vjp)
        params = load_network_params(tensors, flattened, np.float32)
    else:
        raise SystemExit(f"unknown model {args.model!r} (multimodal or network:FILE)")
    given = [x for x in (tensors.get("input.visual"), tensors.get("input.audio")) if x is not None]
    B, steps = args.batch, given[0].shape[0]
    if B > given[0].shape[1]:
        raise SystemExit(f"{args.data}: batch {B} > the samples in the file")

    def prepared(name):   # [T, B, ...] at --timesteps, images NHWC; None when the file has none
        x = tensors.get(name)
        if x is None:
            return None
        if args.timesteps > 0:
            x = x[np.arange(args.timesteps) % x.shape[0]]
        x = x[:, :B]
        return jnp.asarray(np.ascontiguousarray(x.transpose(0, 1, 3, 4, 2) if x.ndim == 5 else x))
    visual, audio = prepared("input.visual"), prepared("input.audio")
    steps = (visual if visual is not None else audio).shape[0]
    labels = tensors["input.labels"][:B].astype(np.int64)
    onehot = jnp.asarray(np.eye(classes, dtype=np.float32)[labels])
    grad = jax.grad(make_loss(forward), has_aux=True)

    def train_step(p, opt, v, a, y):
        g, _ = grad(p, v, a, y)
        return adam(p, g, opt)
    train_step = jax.jit(train_step, donate_argnums=(0, 1))
    infer = jax.jit(lambda p, v, a: {h: o for h, o in forward(p, v, a).items() if h in ("visual", "audio", "fusion")})
    state = {"p": params, "opt": (jnp.zeros((), jnp.float32), {k: jnp.zeros_like(w) for k, w in params.items()},
                                  {k: jnp.zeros_like(w) for k, w in params.items()})}

    out = jax.jit(lambda p, v, a: forward(p, v, a, True))(params, visual, audio)
    fired = sum(float(s.sum()) for s in out["layers"].values())
    neurons = sum(s.size for s in out["layers"].values())
    inputs = [np.asarray(x) for x in (visual, audio) if x is not None]
    input_density = sum(float((x != 0).sum()) for x in inputs) / sum(x.size for x in inputs)
    del out

    def one_batch():
        if args.task == "train":
            state["p"], state["opt"] = train_step(state["p"], state["opt"], visual, audio, onehot)
            jax.block_until_ready(state["p"])
        else:
            jax.block_until_ready(infer(state["p"], visual, audio))

    compile_start = time.perf_counter()
    one_batch()
    compile_seconds = time.perf_counter() - compile_start
    print(result_line(
        args.data, args.model, args.task, B, timed(one_batch, args.seconds),
        implementation=f"jax-{args.vjp}vjp" + ("" if args.conv_grad == "scan" else "-xlaconvgrad")
        + ("" if args.arena == 1 else f"-arena{args.arena}") + ("" if args.malloc == "keep" else "-mallocdefault")
        + ("" if args.block == ("fused" if args.task == "train" else "inscan") else f"-{args.block}")
        + ("-xlaflags" if args.xla_flags else ""),
        threads=str(args.threads), firing_rate=fired / max(neurons, 1), input_density=input_density,
        jax=jax.__version__, timesteps=steps, warmup_seconds=compile_seconds))


if __name__ == "__main__":
    if ARGS.check and ARGS.model.startswith("network:"):
        check_network(ARGS.model[len("network:"):])
    elif ARGS.check:
        check()
    else:
        bench(ARGS)
