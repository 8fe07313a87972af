import Foundation
import Multimodal

/// SpikeFuse's networks as NIR graphs and back.
///
/// **The neuron.** SpikeFuse's iterative LIF, per time step of length dt,
/// `u[t] = k·u[t−1]·(1 − o[t−1]) + I[t]`, `o[t] = u[t] ≥ V_th` (k is the paper's τ, a
/// per-step decay), is NIR's continuous LIF `τ·dv/dt = (v_leak − v) + r·I` integrated by
/// forward Euler with step dt and reset to v_reset = 0 after a spike:
/// `v[t] = (1 − dt/τ)·v[t−1] + (dt/τ)·r·I[t]`. Hence, as snnTorch maps its `beta`:
///
///     τ = dt / (1 − k),   r = τ / dt,   v_leak = 0,   v_reset = 0,   v_threshold = V_th
///
/// with dt = `NIRExport.dt` (stored in the graph's metadata as `dt`, seconds). Each LIF node's
/// metadata also keeps k itself (`spikefuse_decay`), so an import gives back exactly the float
/// that was exported. One mismatch remains: NIR spikes when v *exceeds* v_threshold, SpikeFuse
/// when u ≥ V_th; they differ only where a membrane lands exactly on the threshold.
///
/// **Average pooling** is exported as `SumPool2d` (which more NIR backends read) with the
/// following layer's weights divided by the window's size; import multiplies them back
/// (exact: the factor is a power of two for 2×2 windows).
///
/// **Recurrence** (`audio.rec*`): `Affine(W, b)` into the LIF node, and the cycle
/// `LIF → Linear(R) → LIF` (NIR's edges carry one step of delay around a cycle).
///
/// **Fusion.** The concatenation ablation is exact: `fusion.fc1`'s weight is split by columns
/// into an `Affine` from the visual output (with the bias) and a `Linear` from the auditory
/// output, both into one LIF node. The attention's product `w_v[t]·o_v[t] + w_a[t]·o_a[t]`
/// multiplies two signals, which no NIR node does (NIR has weights, not gates). The export
/// of `multimodal` therefore replaces the per-step weights by constants, given by the caller
/// (`spikefuse export` uses the run's mean test attention weights), as two diagonal `Linear`
/// nodes into the output LIF; `fusion.hidden` and `fusion.attention` are not exported, and the
/// graph's metadata says so (`attention`). The integrator readout has no output neuron and is
/// not exported.
public enum NIRExport {
    /// The nominal time step written to the graph (seconds); only the ratio τ/dt matters.
    public static let dt = 1e-4

    /// The NIR graph of `network`; `attentionWeights` (w_v, w_a) replaces the attention of a
    /// `multimodal` network (required there, ignored otherwise).
    public static func graph(_ network: MultimodalNetwork, attentionWeights: (Float, Float)? = nil) throws -> NIRGraph {
        let c = network.configuration
        let d = network.networkDescription
        let p = Dictionary(uniqueKeysWithValues: network.namedTensors().map { ($0.name, $0.tensor) })
        var g = NIRGraph()
        g.metadata = ["dt": .floats([dt], shape: [], bits: 64), "source": .string("SpikeFuse"),
                      "mode": .string(c.mode.rawValue), "config": .string(c.jsonString()),
                      "spike_rule": .string("SpikeFuse spikes when v >= v_threshold; NIR's rule is v > v_threshold")]
        func edge(_ a: String, _ b: String) { g.edges.append((a, b)) }
        func lif(_ name: String, shape: [Int], neuron: NeuronDescription) throws { try addNeuron(name, shape: shape, neuron: neuron, to: &g) }
        var last: [InputModality: String] = [:]
        for branch in d.branches {
            last[branch.input.modality] = try exportBranch(branch, classes: d.classes, parameters: p, into: &g)
        }
        let outputs = [InputModality.dvs, .cochlea].compactMap { last[$0] }
        let fusionNeuron = d.fusion?.neuron ?? NeuronDescription(tau: 0)
        switch c.mode {
        case .visual, .audio:
            g.nodes["output"] = .output(shape: [d.classes])
            edge(outputs[0], "output")
        case .multimodalNoAttention:
            let w = p["fusion.fc1.weight"]!, h = d.fusion!.hidden, k = d.classes
            g.nodes["fusion_fc1_visual"] = .affine(weight: columns(w, 0..<k), bias: p["fusion.fc1.bias"]!)
            g.nodes["fusion_fc1_audio"] = .linear(weight: columns(w, k..<(2 * k)))
            try lif("fusion_fc1_lif", shape: [h], neuron: fusionNeuron)
            g.nodes["fusion_fc2"] = .affine(weight: p["fusion.fc2.weight"]!, bias: p["fusion.fc2.bias"]!)
            try lif("fusion_fc2_lif", shape: [k], neuron: fusionNeuron)
            g.nodes["output"] = .output(shape: [k])
            edge(outputs[0], "fusion_fc1_visual"); edge(outputs[1], "fusion_fc1_audio")
            edge("fusion_fc1_visual", "fusion_fc1_lif"); edge("fusion_fc1_audio", "fusion_fc1_lif")
            edge("fusion_fc1_lif", "fusion_fc2"); edge("fusion_fc2", "fusion_fc2_lif"); edge("fusion_fc2_lif", "output")
        case .multimodal:
            guard c.attentionReadout == .outputNeuron else {
                throw NIRError.unsupported(file: "(export)", node: "fusion",
                                           reason: "the integrator readout has no output neuron and is not exported to NIR")
            }
            guard let (wv, wa) = attentionWeights else {
                throw NIRError.unsupported(file: "(export)", node: "fusion",
                                           reason: "the attention's product w·o has no NIR node; give the constant weights to use instead")
            }
            let k = d.classes
            g.nodes["fusion_visual"] = .linear(weight: diagonal(wv, k))
            g.nodes["fusion_audio"] = .linear(weight: diagonal(wa, k))
            try lif("fusion_output", shape: [k], neuron: fusionNeuron)
            g.nodes["output"] = .output(shape: [k])
            edge(outputs[0], "fusion_visual"); edge(outputs[1], "fusion_audio")
            edge("fusion_visual", "fusion_output"); edge("fusion_audio", "fusion_output"); edge("fusion_output", "output")
            g.metadata["attention"] = .string("replaced by constant weights w_v = \(wv), w_a = \(wa) "
                + "(NIR cannot express w[t]·o[t]); fusion.hidden and fusion.attention are not exported")
        }
        return g
    }

    /// One branch's nodes, walked from its description: `input_<branch>`, then per layer
    /// `<branch>_<name>` (Conv2d or Affine, with `_lif` after it; a recurrent layer adds
    /// `_recurrent`, its Linear(R) cycle), `<layer>_pool` (SumPool2d, the next synapse's weights
    /// divided by the window), `<branch>_flatten`. Returns the name of its last node.
    static func exportBranch(_ b: BranchDescription, classes: Int, parameters p: [String: Tensor],
                             into g: inout NIRGraph) throws -> String {
        let input = "input_" + b.name
        g.nodes[input] = .input(shape: b.input.shape)
        var previous = input, named = input
        var scale: Float = 1   // the product of 1/k² of the average pools since the last synapse
        func unique(_ name: String) -> String {
            var candidate = name, n = 2
            while g.nodes[candidate] != nil { candidate = "\(name)\(n)"; n += 1 }
            return candidate
        }
        func neuron(_ i: Int) -> NeuronDescription {
            if case .lif(let n?) = b.layers[i] { return n }
            if case .recurrent(_, _, let n?) = b.layers[i] { return n }
            return b.neuron
        }
        for layer in try NetworkBuilder.plannedLayers(of: b, classes: classes) {
            let first = layer.items.lowerBound, item = b.layers[first]
            let spikingItem = layer.items.count == 2 ? layer.items.upperBound - 1 : nil
            var node: String
            switch item {
            case let .conv2d(name, _, _, stride, padding):
                node = unique("\(b.name)_\(name)")
                g.nodes[node] = .conv2d(weight: scaled(p["\(b.name).\(name).weight"]!, scale), bias: p["\(b.name).\(name).bias"]!,
                                        stride: [stride, stride], padding: [padding, padding], dilation: [1, 1], groups: 1,
                                        inputShape: Array(layer.inputShape.dropFirst()))
                scale = 1
                named = node
            case let .linear(name, _), let .recurrent(name, _, _):
                node = unique("\(b.name)_\(name)")
                g.nodes[node] = .affine(weight: scaled(p["\(b.name).\(name).weight"]!, scale), bias: p["\(b.name).\(name).bias"]!)
                scale = 1
                named = node
            case .lif:
                node = unique("\(named)_lif")
                try addNeuron(node, shape: layer.outputShape, neuron: neuron(first), to: &g)
            case .avgPool2d(let k):
                node = unique("\(named)_pool")
                g.nodes[node] = .sumPool2d(kernel: [k, k], stride: [k, k], padding: [0, 0])
                scale /= Float(k * k)
            case .sumPool2d(let k):
                node = unique("\(named)_pool")
                g.nodes[node] = .sumPool2d(kernel: [k, k], stride: [k, k], padding: [0, 0])
            case .maxPool2d:
                throw NIRError.unsupported(file: "(export)", node: "\(b.name) layer \(first + 1)",
                                           reason: "max pooling has no NIR node; the graph cannot be exported")
            case .flatten:
                node = unique("\(b.name)_flatten")
                g.nodes[node] = .flatten(startDim: 0, endDim: -1, inputShape: layer.inputShape)
            case .dropout:
                continue      // the identity in inference: no node
            }
            g.edges.append((previous, node))
            previous = node
            if case let .recurrent(name, _, _) = item {
                let neuronNode = unique(node + "_lif"), cycle = unique(node + "_recurrent")
                try addNeuron(neuronNode, shape: layer.outputShape, neuron: neuron(first), to: &g)
                g.nodes[cycle] = .linear(weight: p["\(b.name).\(name).recurrent_weight"]!)
                g.edges += [(node, neuronNode), (neuronNode, cycle), (cycle, neuronNode)]
                previous = neuronNode
            } else if let spikingItem {
                let neuronNode = unique(node + "_lif")
                try addNeuron(neuronNode, shape: layer.outputShape, neuron: neuron(spikingItem), to: &g)
                g.edges.append((node, neuronNode))
                previous = neuronNode
            }
        }
        return previous
    }

    /// The neuron node of `neuron` (`NIRNeurons`: LIF, CubaLIF or IF) with its exact per-step
    /// constants in the node's metadata; refuses models NIR has no node for.
    static func addNeuron(_ name: String, shape: [Int], neuron: NeuronDescription, to g: inout NIRGraph) throws {
        let (node, metadata) = try NIRNeurons.node(neuron, shape: shape, dt: dt, layer: name)
        g.nodes[name] = node
        if !metadata.isEmpty { g.nodeMetadata[name] = metadata }
    }

    static func scaled(_ t: Tensor, _ factor: Float) -> Tensor {
        factor == 1 ? t : Tensor(shape: t.shape, scalars: t.scalars.map { $0 * factor })
    }

    private static func columns(_ w: Tensor, _ range: Range<Int>) -> Tensor {
        let rows = w.shape[0], cols = w.shape[1]
        var out: [Float] = []
        for r in 0..<rows { for j in range { out.append(w.scalars[r * cols + j]) } }
        return Tensor(shape: [rows, range.count], scalars: out)
    }

    private static func diagonal(_ value: Float, _ n: Int) -> Tensor {
        var d = [Float](repeating: 0, count: n * n)
        for i in 0..<n { d[i * n + i] = value }
        return Tensor(shape: [n, n], scalars: d)
    }
}
