"""The NIR peer: reads NIR graphs with the reference `nir` package (PyPI) and runs them with
NIR's own LIF equations, independently of SpikeFuse (numpy, float32).

    python3 bench/nir_peer.py check GRAPH.nir [--batch 8] [--steps 64] [--out IO.safetensors]
        nir.read(GRAPH) (with the package's type check), random binary input spikes, the
        graph simulated step by step; writes input [T, B, …] and spikes [T, B, classes] to IO
        (default GRAPH.io.safetensors) for `spikefuse import GRAPH --check IO`, which reports
        the fraction of (step, sample, class) entries on which SpikeFuse agrees.
    python3 bench/nir_peer.py cuba-fixture
        writes Tests/NIRInterchangeTests/Fixtures/nir_package_cuba.nir (Input → Affine →
        CubaLIF → Affine → IF → Output, by nir.write, constants in snnTorch's convention, weights
        on a 2^-6 grid so every sum is exact, thresholds off that grid so no membrane lands on
        one: NIR spikes at v > v_threshold, SpikeFuse at u >= V_th) and nir_package_cuba_io.safetensors (its inputs,
        the CubaLIF layer's spikes and the output spikes).
    python3 bench/nir_peer.py fixture
        writes Tests/NIRInterchangeTests/Fixtures/nir_package_audio.nir (a small A-Network
        with random weights, written by nir.write, gzip-compressed, LIF parameters in
        snnTorch's convention) and nir_package_audio_io.safetensors (its inputs and spikes).

The simulation, per time step of length dt (graph metadata `dt`, default 1e-4 s): every
node's input is the sum of its sources' outputs, a source on a cycle contributing its output
of the previous step; a LIF node integrates by forward Euler,
v[t] = (1 - dt/tau) * v[t-1] + (dt/tau) * r * I[t] (+ dt/tau * v_leak), spikes where
v[t] > v_threshold (NIR's rule) and then sets v to v_reset. A CubaLIF node first updates its
synaptic current, i[t] = (1 - dt/tau_syn) * i[t-1] + (dt/tau_syn) * w_in * I[t], then its
membrane as a LIF node driven by i[t] (snnTorch's order); an IF node integrates
v[t] = v[t-1] + dt * r * I[t]. Python is not needed by SpikeFuse.
"""
import argparse
import os

import nir
import numpy as np
from safetensors.numpy import save_file

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "Tests", "NIRInterchangeTests", "Fixtures")


def order_nodes(graph):
    """Nodes in evaluation order from the inputs; returns (order, back_edges)."""
    targets = {}
    for a, b in graph.edges:
        targets.setdefault(a, []).append(b)
    state, order, back = {}, [], set()

    def visit(n):
        state[n] = "open"
        for m in targets.get(n, []):
            if state.get(m) == "open":
                back.add((n, m))
            elif m not in state:
                visit(m)
        state[n] = "done"
        order.append(n)

    for name, node in graph.nodes.items():
        if isinstance(node, nir.Input) and name not in state:
            visit(name)
    return list(reversed(order)), back


def conv2d(x, node):
    # x [B, C, H, W] -> [B, O, H', W'], H' = (H + 2p - k) // s + 1 (one stride and padding for
    # both axes, dilation 1, as SpikeFuse reads them)
    w, b = np.asarray(node.weight, np.float32), np.asarray(node.bias, np.float32)
    p = int(np.atleast_1d(node.padding)[0])
    s = int(np.atleast_1d(node.stride)[0])
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    o, c, kh, kw = w.shape
    bsz, _, h, wd = x.shape
    oh, ow = (h + 2 * p - kh) // s + 1, (wd + 2 * p - kw) // s + 1
    out = np.zeros((bsz, o, oh, ow), np.float32)
    for i in range(kh):
        for j in range(kw):
            patch = xp[:, :, i:i + s * (oh - 1) + 1:s, j:j + s * (ow - 1) + 1:s]
            out += np.einsum("bchw,oc->bohw", patch, w[:, :, i, j])
    return out + b[None, :, None, None]


def pool(x, node, average):
    k = int(np.atleast_1d(node.kernel_size)[0])
    b, c, h, w = x.shape
    x = x[:, :, :h // k * k, :w // k * k]
    s = x.reshape(b, c, h // k, k, w // k, k).sum(axis=(3, 5))
    return s / (k * k) if average else s


def simulate(graph, inputs, steps, record=()):
    """inputs: {input node: array [T, B, ...]} -> {output node (and each CubaLIF node named in
    `record`): array [T, B, ...]}."""
    dt = float(graph.metadata.get("dt", 1e-4)) if graph.metadata else 1e-4
    order, back = order_nodes(graph)
    sources = {n: [a for a, b in graph.edges if b == n] for n in graph.nodes}
    previous, v, syn = {}, {}, {}
    results = {n: [] for n, node in graph.nodes.items() if isinstance(node, nir.Output) or n in record}
    for t in range(steps):
        now = {}
        for n in order:
            node = graph.nodes[n]
            if isinstance(node, nir.Input):
                now[n] = inputs[n][t].astype(np.float32)
                continue
            parts = [(previous[a] if a in previous else None) if (a, n) in back else now[a] for a in sources[n]]
            parts = [p for p in parts if p is not None]
            x = parts[0] if len(parts) == 1 else (np.sum(parts, axis=0) if parts else None)
            if isinstance(node, nir.Affine):
                now[n] = x @ np.asarray(node.weight, np.float32).T + np.asarray(node.bias, np.float32)
            elif isinstance(node, nir.Linear):
                now[n] = x @ np.asarray(node.weight, np.float32).T
            elif isinstance(node, nir.Conv2d):
                now[n] = conv2d(x, node)
            elif isinstance(node, (nir.SumPool2d, nir.AvgPool2d)):
                now[n] = pool(x, node, isinstance(node, nir.AvgPool2d))
            elif isinstance(node, nir.Flatten):
                now[n] = x.reshape(x.shape[0], -1)
            elif isinstance(node, nir.LIF):
                tau = np.asarray(node.tau, np.float64)
                decay = (1 - dt / tau).astype(np.float32)
                gain = (dt / tau * np.asarray(node.r, np.float64)).astype(np.float32)
                leak = (dt / tau * np.asarray(node.v_leak, np.float64)).astype(np.float32)
                drive = x if np.all(gain == 1) else x * gain
                u = drive + leak if n not in v else decay * v[n] + drive + leak
                o = (u > np.asarray(node.v_threshold, np.float32)).astype(np.float32)
                v[n] = np.where(o > 0, np.asarray(node.v_reset, np.float32), u).astype(np.float32)
                now[n] = o
            elif isinstance(node, nir.CubaLIF):
                f64 = lambda a: np.asarray(a, np.float64)
                syn_decay = (1 - dt / f64(node.tau_syn)).astype(np.float32)
                syn_gain = (dt / f64(node.tau_syn) * f64(node.w_in)).astype(np.float32)
                decay = (1 - dt / f64(node.tau_mem)).astype(np.float32)
                gain = (dt / f64(node.tau_mem) * f64(node.r)).astype(np.float32)
                drive = x if np.all(syn_gain == 1) else x * syn_gain
                i = drive if n not in syn else syn_decay * syn[n] + drive
                syn[n] = i
                drive = i if np.all(gain == 1) else i * gain
                u = drive if n not in v else decay * v[n] + drive
                o = (u > np.asarray(node.v_threshold, np.float32)).astype(np.float32)
                v[n] = np.where(o > 0, np.asarray(node.v_reset, np.float32), u).astype(np.float32)
                now[n] = o
                if n in results:
                    results[n].append(o)
            elif isinstance(node, nir.IF):
                gain = (dt * np.asarray(node.r, np.float64)).astype(np.float32)
                drive = x if np.all(gain == 1) else x * gain
                u = drive if n not in v else v[n] + drive
                o = (u > np.asarray(node.v_threshold, np.float32)).astype(np.float32)
                v[n] = np.where(o > 0, np.asarray(node.v_reset, np.float32), u).astype(np.float32)
                now[n] = o
            elif isinstance(node, nir.Output):
                now[n] = x
                results[n].append(x)
            else:
                raise ValueError(f"node {n}: {type(node).__name__} is not simulated here")
        previous = now
    return {n: np.stack(r) for n, r in results.items()}


def check(args):
    graph = nir.read(args.graph)      # the package's own reader and type check
    print(f"{args.graph}: read by nir {nir.version} ({len(graph.nodes)} nodes, {len(graph.edges)} edges)")
    rng = np.random.default_rng(args.seed)
    inputs = {}
    for name, node in graph.nodes.items():
        if isinstance(node, nir.Input):
            shape = [int(s) for s in np.atleast_1d(node.input_type["input"])]
            inputs[name] = (rng.random([args.steps, args.batch] + shape) < args.rate).astype(np.float32)
    outputs = simulate(graph, inputs, args.steps)
    (out_name, spikes), = outputs.items()
    tensors = {"spikes": spikes.astype(np.float32)}
    for name, x in inputs.items():
        tensors["input" if len(inputs) == 1 else name] = x
    out = args.out or args.graph + ".io.safetensors"
    save_file(tensors, out)
    print(f"wrote {out}: {', '.join(f'{k} {list(v.shape)}' for k, v in tensors.items())}; "
          f"output firing rate {spikes.mean():.3f}")


def fixture(_args):
    rng = np.random.default_rng(2024)
    channels, hidden, classes, steps, batch = 16, 12, 10, 20, 3
    dt, beta = 1e-4, np.float32(0.1)
    tau = np.float32(dt / (1 - beta))   # snnTorch's export: tau = dt / (1 - beta), r = tau / dt
    r = np.float32(tau / dt)
    nodes = {"input": nir.Input(input_type=np.array([channels]))}
    edges = []
    previous, width_in = "input", channels
    for i, width in enumerate([hidden, hidden, hidden, classes]):
        name = f"layer{i}"
        bound = 1.6 / np.sqrt(width_in)
        nodes[name] = nir.Affine(weight=rng.uniform(-bound, bound, (width, width_in)).astype(np.float32),
                                 bias=rng.uniform(0, 0.3, width).astype(np.float32))
        nodes[name + "_lif"] = nir.LIF(tau=np.full(width, tau, np.float32), r=np.full(width, r, np.float32),
                                       v_leak=np.zeros(width, np.float32), v_threshold=np.full(width, 0.5, np.float32),
                                       v_reset=np.zeros(width, np.float32))
        nodes[name + "_rec"] = nir.Linear(weight=rng.uniform(-0.3, 0.3, (width, width)).astype(np.float32))
        edges += [(previous, name), (name, name + "_lif"), (name + "_lif", name + "_rec"), (name + "_rec", name + "_lif")]
        previous, width_in = name + "_lif", width
    nodes["output"] = nir.Output(output_type=np.array([classes]))
    edges.append((previous, "output"))
    graph = nir.NIRGraph(nodes=nodes, edges=edges, metadata={"dt": dt})
    path = os.path.join(FIXTURES, "nir_package_audio.nir")
    nir.write(path, graph)
    graph = nir.read(path)
    x = (rng.random((steps, batch, channels)) < 0.4).astype(np.float32)
    spikes = simulate(graph, {"input": x}, steps)["output"]
    save_file({"input": x, "spikes": spikes.astype(np.float32)}, os.path.join(FIXTURES, "nir_package_audio_io.safetensors"))
    print(f"wrote {path} and its inputs/spikes; output firing rate {spikes.mean():.3f}")


def fixture_general(_args):
    """A feed-forward + recurrent graph of sizes no test uses elsewhere: a 5x5 stride-2 padded
    convolution, a 2x2 SumPool2d, a 3x3 convolution without padding, a 3x3 AvgPool2d, Flatten,
    an Affine into a LIF with a Linear recurrent cycle, and a bias-free Linear readout; each LIF
    node with its own tau, r (input scale r*dt/tau != 1 on two of them) and threshold."""
    rng = np.random.default_rng(4242)
    dt, steps, batch, classes = 1e-4, 12, 2, 5

    def lif(width_shape, beta, scale, threshold):
        tau = np.float32(dt / (1 - beta))
        r = np.float32(scale * tau / dt)
        full = lambda v: np.full(width_shape, v, np.float32)
        return nir.LIF(tau=full(tau), r=full(r), v_leak=full(0), v_threshold=full(threshold), v_reset=full(0))

    def uniform(bound, shape):
        return rng.uniform(-bound, bound, shape).astype(np.float32)

    nodes = {
        "input": nir.Input(input_type=np.array([2, 20, 20])),
        "conv_a": nir.Conv2d(input_shape=(20, 20), weight=uniform(0.6, (3, 2, 5, 5)), stride=2, padding=2,
                             dilation=1, groups=1, bias=rng.uniform(0, 0.2, 3).astype(np.float32)),
        "conv_a_lif": lif((3, 10, 10), 0.3, 1.0, 0.5),
        "sum_pool": nir.SumPool2d(kernel_size=np.array([2, 2]), stride=np.array([2, 2]), padding=np.array([0, 0])),
        "conv_b": nir.Conv2d(input_shape=(5, 5), weight=uniform(0.5, (4, 3, 3, 3)), stride=1, padding=0,
                             dilation=1, groups=1, bias=rng.uniform(0, 0.2, 4).astype(np.float32)),
        "conv_b_lif": lif((4, 3, 3), 0.5, 0.5, 0.4),
        "avg_pool": nir.AvgPool2d(kernel_size=np.array([3, 3]), stride=np.array([3, 3]), padding=np.array([0, 0])),
        "flat": nir.Flatten(input_type={"input": np.array([4, 1, 1])}, start_dim=0, end_dim=-1),
        "hidden": nir.Affine(weight=uniform(2.0, (12, 4)), bias=rng.uniform(0, 0.3, 12).astype(np.float32)),
        "hidden_lif": lif((12,), 0.8, 2.0, 0.6),
        "hidden_rec": nir.Linear(weight=uniform(0.4, (12, 12))),
        "readout": nir.Linear(weight=uniform(1.2, (classes, 12))),
        "readout_lif": lif((classes,), 0.6, 1.0, 0.3),
        "output": nir.Output(output_type=np.array([classes])),
    }
    chain = ["input", "conv_a", "conv_a_lif", "sum_pool", "conv_b", "conv_b_lif", "avg_pool", "flat", "hidden",
             "hidden_lif", "readout", "readout_lif", "output"]
    edges = list(zip(chain, chain[1:])) + [("hidden_lif", "hidden_rec"), ("hidden_rec", "hidden_lif")]
    graph = nir.NIRGraph(nodes=nodes, edges=edges, metadata={"dt": dt})
    path = os.path.join(FIXTURES, "nir_package_general.nir")
    nir.write(path, graph)
    graph = nir.read(path)
    x = (rng.random((steps, batch, 2, 20, 20)) < 0.3).astype(np.float32)
    spikes = simulate(graph, {"input": x}, steps)["output"]
    save_file({"input": x, "spikes": spikes.astype(np.float32)}, os.path.join(FIXTURES, "nir_package_general_io.safetensors"))
    print(f"wrote {path} and its inputs/spikes; output firing rate {spikes.mean():.3f}")


def cuba_fixture(_args):
    rng = np.random.default_rng(42)
    channels, hidden, classes, steps, batch = 10, 8, 4, 24, 3
    dt, alpha, beta = 1e-4, 0.5, 0.75          # per-step decays, both exact in float32
    grid = lambda a: (np.round(a * 64) / 64).astype(np.float32)
    tau_syn, tau_mem = dt / (1 - alpha), dt / (1 - beta)
    full = lambda n, value: np.full(n, value, np.float32)
    nodes = {
        "input": nir.Input(input_type=np.array([channels])),
        "fc1": nir.Affine(weight=grid(rng.uniform(-0.5, 0.5, (hidden, channels))), bias=grid(rng.uniform(0, 0.2, hidden))),
        "fc1_cuba": nir.CubaLIF(tau_syn=full(hidden, tau_syn), tau_mem=full(hidden, tau_mem), r=full(hidden, tau_mem / dt),
                                v_leak=full(hidden, 0), v_threshold=full(hidden, 0.49), v_reset=full(hidden, 0),
                                w_in=full(hidden, tau_syn / dt)),
        "fc2": nir.Affine(weight=grid(rng.uniform(-0.6, 0.9, (classes, hidden))), bias=full(classes, 0)),
        "fc2_if": nir.IF(r=full(classes, 1 / dt), v_threshold=full(classes, 0.99), v_reset=full(classes, 0)),
        "output": nir.Output(output_type=np.array([classes])),
    }
    edges = [("input", "fc1"), ("fc1", "fc1_cuba"), ("fc1_cuba", "fc2"), ("fc2", "fc2_if"), ("fc2_if", "output")]
    graph = nir.NIRGraph(nodes=nodes, edges=edges, metadata={"dt": dt})
    path = os.path.join(FIXTURES, "nir_package_cuba.nir")
    nir.write(path, graph)
    graph = nir.read(path)
    x = (rng.random((steps, batch, channels)) < 0.4).astype(np.float32)
    out = simulate(graph, {"input": x}, steps, record=("fc1_cuba",))
    tensors = {"input": x, "hidden": out["fc1_cuba"].astype(np.float32), "spikes": out["output"].astype(np.float32)}
    save_file(tensors, os.path.join(FIXTURES, "nir_package_cuba_io.safetensors"))
    print(f"wrote {path} and its inputs/spikes; hidden rate {tensors['hidden'].mean():.3f}, "
          f"output rate {tensors['spikes'].mean():.3f}")


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="command", required=True)
    c = sub.add_parser("check")
    c.add_argument("graph")
    c.add_argument("--batch", type=int, default=8)
    c.add_argument("--steps", type=int, default=64)
    c.add_argument("--rate", type=float, default=0.15)
    c.add_argument("--seed", type=int, default=1)
    c.add_argument("--out")
    sub.add_parser("fixture")
    sub.add_parser("fixture-general")
    sub.add_parser("cuba-fixture")
    args = ap.parse_args()
    {"check": check, "fixture": fixture, "fixture-general": fixture_general, "cuba-fixture": cuba_fixture}[args.command](args)


if __name__ == "__main__":
    main()
