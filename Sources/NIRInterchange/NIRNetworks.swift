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

/// NIR graphs as SpikeFuse networks: the paper's V-Network (Conv2d, LIF, pooling, Conv2d,
/// LIF, pooling, Flatten, Affine, LIF, Affine, LIF) and A-Network (four Affine → LIF layers,
/// each with a recurrent `Linear` cycle), whoever wrote them. The sizes are read from the
/// graph; pooling may be `SumPool2d` (the next layer's weights are multiplied by the window
/// size) or `AvgPool2d`; a LIF node's input scale `(dt/τ)·r` ≠ 1 is folded into the weights
/// of the layer that feeds it. Any other node or topology is refused, naming the node.
public enum NIRImport {
    /// The network a graph describes (visual or audio mode).
    public static func network(_ g: NIRGraph, file: String) throws -> MultimodalNetwork {
        let inputs = g.nodes.filter { if case .input = $0.value { return true }; return false }.map(\.key).sorted()
        guard inputs.count == 1 else {
            throw NIRError.invalid(file: file, reason: "\(inputs.count) Input nodes; SpikeFuse imports single-modality graphs "
                                   + "(the V-Network or the A-Network); multimodal graphs are exported but not imported")
        }
        let dt = scalar(g.metadata["dt"]) ?? NIRExport.dt
        try validateParameters(g, dt: dt, file: file)
        try refuseDuplicateEdges(g, file: file)
        var reader = ChainReader(graph: g, file: file, dt: dt, current: inputs[0])
        var tensorNodes: [String: String] = [:]     // SpikeFuse tensor → the NIR node it came from
        guard case .input(let shape) = g.nodes[inputs[0]]! else { preconditionFailure("filtered to Input nodes above") }
        var c = ModelConfiguration()
        var tensors: [String: Tensor] = [:]
        if shape.count == 3 {
            c.mode = .visual
            c.polarities = shape[0]; c.imageSize = shape[1]
            guard shape[1] == shape[2] else { throw reader.unsupported(inputs[0], "the visual input must be square, got \(shape)") }
            var channels: [Int] = []
            var poolScale: Float = 1
            var decay: Float = 0, threshold: Float = 0
            for name in ["visual.conv1", "visual.conv2"] {
                let (node, conv) = try reader.next()
                guard case .conv2d(let w, let b, let stride, let padding, let dilation, let groups, _) = conv,
                      w.rank == 4, w.shape[2] == 3, w.shape[3] == 3, stride == [1, 1], padding == [1, 1],
                      dilation == [1, 1], groups == 1 else {
                    throw reader.unsupported(node, "expected a 3×3 Conv2d with stride 1, padding 1 (the V-Network's \(name))")
                }
                let side = c.imageSize / (channels.isEmpty ? 1 : 2)
                if case .conv2d(_, _, _, _, _, _, let declared?) = conv, declared != [side, side] {
                    throw reader.unsupported(node, "input_shape \(declared), but its input is \([side, side]) here")
                }
                let expectedIn = channels.last ?? c.polarities
                guard w.shape[1] == expectedIn, b.shape == [w.shape[0]] else {
                    throw reader.unsupported(node, "weight \(w.shape) and bias \(b.shape) do not take \(expectedIn) input channels "
                                             + "to \(w.shape[0]) outputs")
                }
                tensorNodes[name + ".weight"] = node; tensorNodes[name + ".bias"] = node
                let neuron = try reader.lif(width: w.shape[0] * side * side)
                tensors[name + ".weight"] = NIRExport.scaled(w, poolScale * neuron.inputScale)
                tensors[name + ".bias"] = NIRExport.scaled(b, neuron.inputScale)
                channels.append(w.shape[0]); decay = neuron.decay; threshold = neuron.threshold
                poolScale = try reader.pool()
            }
            let (flattenNode, flatten) = try reader.next()
            guard case .flatten(_, _, let declared) = flatten else {
                throw reader.unsupported(flattenNode, "expected Flatten after the second pooling")
            }
            let flatShape = [channels.last ?? 0, c.imageSize / 4, c.imageSize / 4]
            if let declared, declared.reduce(1, *) != flatShape.reduce(1, *) {
                throw reader.unsupported(flattenNode, "input_type \(declared), but its input is \(flatShape) here")
            }
            var width = flatShape.reduce(1, *)
            for (i, name) in ["visual.fc1", "visual.fc2"].enumerated() {
                let (node, affine) = try reader.next()
                guard case .affine(let w, let b) = affine, w.rank == 2 else { throw reader.unsupported(node, "expected Affine (\(name))") }
                guard w.shape[1] == width, b.shape == [w.shape[0]] else {
                    throw reader.unsupported(node, "weight \(w.shape) and bias \(b.shape) do not map \(width) inputs to \(w.shape[0])")
                }
                width = w.shape[0]
                tensorNodes[name + ".weight"] = node; tensorNodes[name + ".bias"] = node
                let neuron = try reader.lif(width: w.shape[0])
                tensors[name + ".weight"] = NIRExport.scaled(w, (i == 0 ? poolScale : 1) * neuron.inputScale)
                tensors[name + ".bias"] = NIRExport.scaled(b, neuron.inputScale)
                if i == 0 { c.visualHidden = w.shape[0] } else { c.classes = w.shape[0] }
                try reader.require(neuron.decay == decay && neuron.threshold == threshold, node,
                                   "every visual LIF node must have the same τ and threshold")
            }
            c.visualChannels = channels; c.tauVisual = decay; c.threshold = threshold
        } else if shape.count == 1 {
            c.mode = .audio
            c.audioChannels = shape[0]
            var decay: Float = 0, threshold: Float = 0
            var width = shape[0]
            for (i, layer) in ["rec1", "rec2", "rec3", "out"].enumerated() {
                let name = "audio." + layer
                let (node, affine) = try reader.next()
                guard case .affine(let w, let b) = affine, w.rank == 2 else { throw reader.unsupported(node, "expected Affine (\(name))") }
                guard w.shape[1] == width, b.shape == [w.shape[0]] else {
                    throw reader.unsupported(node, "weight \(w.shape) and bias \(b.shape) do not map \(width) inputs to \(w.shape[0])")
                }
                width = w.shape[0]
                let neuron = try reader.lif(width: w.shape[0], recurrent: true)
                guard let r = neuron.recurrentWeight else {
                    throw reader.unsupported(neuron.name, "expected a recurrent Linear cycle on the LIF node (\(name))")
                }
                guard r.shape == [width, width] else {
                    throw reader.unsupported(neuron.recurrentName ?? neuron.name, "recurrent weight \(r.shape), expected \([width, width])")
                }
                tensorNodes[name + ".weight"] = node; tensorNodes[name + ".bias"] = node
                tensorNodes[name + ".recurrent_weight"] = neuron.recurrentName ?? neuron.name
                tensors[name + ".weight"] = NIRExport.scaled(w, neuron.inputScale)
                tensors[name + ".bias"] = NIRExport.scaled(b, neuron.inputScale)
                tensors[name + ".recurrent_weight"] = NIRExport.scaled(r, neuron.inputScale)
                if i == 0 { c.audioHidden = w.shape[0] }
                if i == 3 { c.classes = w.shape[0] }
                if i > 0 { try reader.require(neuron.decay == decay && neuron.threshold == threshold, node,
                                              "every auditory LIF node must have the same τ and threshold") }
                decay = neuron.decay; threshold = neuron.threshold
            }
            c.tauAudio = decay; c.threshold = threshold
        } else {
            throw reader.unsupported(inputs[0], "input shape \(shape) is neither [P, S, S] (visual) nor [channels] (audio)")
        }
        let (outNode, out) = try reader.next()
        guard case .output(let outShape) = out else { throw reader.unsupported(outNode, "expected the Output node after the last LIF") }
        guard outShape == [c.classes] else {
            throw reader.unsupported(outNode, "declares shape \(outShape), but the network before it has \(c.classes) outputs")
        }
        try validateEdges(g, walked: reader.walked, reached: reader.reached, file: file)
        for (name, t) in tensors.sorted(by: { $0.key < $1.key }) {    // after folding the LIF input scale
            if let bad = t.scalars.first(where: { !$0.isFinite || abs(Double($0)) > parameterLimit }) {
                throw NIRError.unsupported(file: file, node: tensorNodes[name] ?? name,
                                           reason: "\(name) becomes \(bad) once the LIF input scale r·dt/τ is folded in, "
                                               + "outside ±\(parameterLimit) (docs/interop.md)")
            }
        }
        // T is not part of a network; a SpikeFuse export records the one it was trained with.
        if case .strings(let json, _)? = g.metadata["config"], let first = json.first,
           let exported = try? ModelConfiguration.fromJSON(first) {
            c.timesteps = exported.timesteps
        }
        do { try c.validate() } catch { throw NIRError.invalid(file: file, reason: "\(error)") }
        let network = try MultimodalNetwork(c, seed: 0)
        try network.load(tensors, source: file)
        return network
    }

    static func scalar(_ node: HDF5Node?) -> Double? {
        switch node {
        case .floats(let v, _, _)?: return v.count == 1 ? v[0] : nil
        case .integers(let v, _)?: return v.count == 1 ? Double(v[0]) : nil
        default: return nil
        }
    }

    /// Walks a chain of nodes from the input, one edge at a time.
    struct ChainReader {
        let graph: NIRGraph
        let file: String
        let dt: Double
        var current: String
        /// The edges walked (`edgeKey`) and the nodes reached so far.
        var walked: Set<String> = []
        var reached: Set<String>

        init(graph: NIRGraph, file: String, dt: Double, current: String) {
            self.graph = graph; self.file = file; self.dt = dt; self.current = current
            reached = [current]
        }

        static func edgeKey(_ source: String, _ target: String) -> String { source + "\u{0}" + target }

        func unsupported(_ node: String, _ reason: String) -> NIRError { .unsupported(file: file, node: node, reason: reason) }

        func require(_ ok: Bool, _ node: String, _ reason: String) throws {
            if !ok { throw unsupported(node, reason) }
        }

        /// The one node that `current` feeds (recurrent cycles excluded).
        mutating func next() throws -> (String, NIRNode) {
            let targets = graph.targets(of: current).filter { !isRecurrentLinear($0, of: current) }
            guard targets.count == 1, let node = graph.nodes[targets[0]] else {
                throw unsupported(current, "feeds \(targets.count) nodes (\(targets.joined(separator: ", "))); expected one")
            }
            walked.insert(Self.edgeKey(current, targets[0])); reached.insert(targets[0])
            current = targets[0]
            return (targets[0], node)
        }

        func isRecurrentLinear(_ name: String, of lif: String) -> Bool {
            if case .linear? = graph.nodes[name], graph.targets(of: name) == [lif] { return true }
            return false
        }

        struct Neuron {
            var name: String; var decay: Float; var threshold: Float; var inputScale: Float; var recurrentWeight: Tensor?
            var recurrentName: String? = nil
        }

        /// The LIF node after the current one, its constants (uniform over `width` neurons) and
        /// its recurrent `Linear` if it has one.
        mutating func lif(width: Int, recurrent: Bool = false) throws -> Neuron {
            let (name, node) = try next()
            guard case .lif(let tau, let r, let vLeak, let vThreshold, let vReset) = node else {
                throw unsupported(name, "expected a LIF node, found \(node.typeName)")
            }
            guard tau.count == width else { throw unsupported(name, "\(tau.count) neurons, expected \(width)") }
            func uniform(_ t: Tensor, _ what: String) throws -> Float {
                guard let first = t.scalars.first, t.scalars.allSatisfy({ $0 == first }) else {
                    throw unsupported(name, "\(what) differs between neurons; SpikeFuse's layers share one value")
                }
                return first
            }
            let tauValue = Double(try uniform(tau, "tau")), rValue = Double(try uniform(r, "r"))
            try require(try uniform(vLeak, "v_leak") == 0, name, "v_leak must be 0")
            try require(try uniform(vReset, "v_reset") == 0, name, "v_reset must be 0 (reset to zero)")
            try require(tauValue >= dt, name, "tau \(tauValue) is shorter than dt \(dt): no iterative LIF has that decay")
            var decay = Float(1 - dt / tauValue)
            if let kept = NIRImport.scalar(graph.nodeMetadata[name]?["spikefuse_decay"]), abs(kept - Double(decay)) < 1e-5 {
                decay = Float(kept)
            }
            let inputScale = Float(dt / tauValue * rValue)
            let recurrentSources = graph.sources(of: name).filter { isRecurrentLinear($0, of: name) && graph.sources(of: $0) == [name] }
            var recurrentWeight: Tensor?
            var recurrentName: String?
            if let rec = recurrentSources.first, case .linear(let w)? = graph.nodes[rec] {
                recurrentWeight = w; recurrentName = rec
                walked.insert(Self.edgeKey(name, rec)); walked.insert(Self.edgeKey(rec, name)); reached.insert(rec)
            }
            if !recurrent { try require(recurrentWeight == nil, name, "a recurrent cycle where the V-Network has none") }
            try require(recurrentSources.count <= 1, name, "\(recurrentSources.count) recurrent cycles; SpikeFuse's layers have one")
            return Neuron(name: name, decay: decay, threshold: try uniform(vThreshold, "v_threshold"),
                          inputScale: abs(inputScale - 1) < 1e-6 ? 1 : inputScale, recurrentWeight: recurrentWeight,
                          recurrentName: recurrentName)
        }

        /// A 2×2 stride-2 pooling node; returns the factor for the next layer's weights
        /// (4 for SumPool2d, 1 for AvgPool2d).
        mutating func pool() throws -> Float {
            let (name, node) = try next()
            switch node {
            case .sumPool2d(let k, let s, let p) where k == [2, 2] && s == [2, 2] && p == [0, 0]: return 4
            case .avgPool2d(let k, let s, let p) where k == [2, 2] && s == [2, 2] && p == [0, 0]: return 1
            default: throw unsupported(name, "expected 2×2 pooling with stride 2 and no padding, found \(node.typeName)")
            }
        }
    }
}
