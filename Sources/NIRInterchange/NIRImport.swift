import Foundation
import Multimodal

/// NIR graphs as SpikeFuse networks, whoever wrote them: one `Input`, a chain of nodes to one
/// `Output`, and recurrent cycles through `Linear`. Each node becomes a layer of a
/// `NetworkDescription` (one branch: `visual` for an input `[C, H, W]`, `audio` for `[N]`):
///
/// | NIR node | layer |
/// |---|---|
/// | `Conv2d` (square kernel, equal stride and padding per axis, no dilation, one group) | `conv2d` |
/// | `Affine` / `Linear` (bias 0) | `linear` |
/// | `Affine`/`Linear` → `LIF` with a cycle `LIF → Linear(R) → LIF` | `recurrent` (R is `recurrent_weight`) |
/// | `LIF` | `lif` after the synapse before it (`v_leak` = `v_reset` = 0, one τ, r and threshold per node) |
/// | `AvgPool2d`, `SumPool2d` (kernel = stride, no padding) | `avgpool2d`, `sumpool2d` |
/// | `Flatten` (to one axis) | `flatten` |
///
/// A LIF node's constants map back as `NIRExport` writes them: decay k = 1 − dt/τ and V_th =
/// `v_threshold`; its input scale (dt/τ)·r ≠ 1 is folded into the weights of the synapse that
/// feeds it. A `SumPool2d` of k² = 2, 4, 8 … cells followed (through `LIF`-free layers) by a
/// synapse becomes `avgpool2d` with that synapse's weights multiplied by k², exactly (a power of
/// two), so the fused conv → LIF → average-pool kernels apply; otherwise it stays `sumpool2d`.
/// `Flatten` with `start_dim` 0, or 1 (PyTorch's convention, counting the batch axis that NIR
/// leaves out), and `end_dim` −1 flattens everything. Any other node, parameter or topology is
/// refused with an error naming the file and the node.
public enum NIRImport {
    /// A graph as a description and its parameters, named `<branch>.<layer>.weight|bias|recurrent_weight`.
    public struct Imported {
        public var description: NetworkDescription
        public var tensors: [String: Tensor]
    }

    /// The network a graph describes, with its weights.
    public static func network(_ g: NIRGraph, file: String) throws -> MultimodalNetwork {
        let imported = try description(g, file: file)
        let c: ModelConfiguration
        do { c = try ModelConfiguration(network: imported.description) } catch {
            throw NIRError.invalid(file: file, reason: "\(error)")
        }
        let network = try MultimodalNetwork(c, seed: 0)
        try network.load(imported.tensors, source: file)
        return network
    }

    /// The description and parameters of a graph (`network` builds them).
    public static func description(_ g: NIRGraph, file: String) throws -> Imported {
        let inputs = g.nodes.filter { if case .input = $0.value { return true }; return false }.map(\.key).sorted()
        guard inputs.count == 1 else {
            throw NIRError.invalid(file: file, reason: "\(inputs.count) Input nodes; SpikeFuse imports single-input graphs "
                                   + "(multimodal graphs are exported but not imported)")
        }
        let dt = scalar(g.metadata["dt"]) ?? NIRExport.dt
        try validateParameters(g, dt: dt, file: file)
        try refuseDuplicateEdges(g, file: file)
        guard case .input(let inputShape) = g.nodes[inputs[0]]! else { preconditionFailure("filtered to Input nodes above") }
        var walk = ChainWalk(reader: ChainReader(graph: g, file: file, dt: dt, current: inputs[0]), shape: inputShape)
        let modality: InputModality
        switch inputShape.count {
        case 3: modality = .dvs; walk.branch = "visual"
        case 1: modality = .cochlea; walk.branch = "audio"
        default: throw walk.reader.unsupported(inputs[0], "input shape \(inputShape) is neither [C, H, W] (frames) nor [N] (channels)")
        }
        var outputNode = ""
        while outputNode.isEmpty {
            let (node, value) = try walk.reader.next()
            switch value {
            case .output(let declared):
                try walk.finishPools()
                guard walk.lastEmitsSpikes else {
                    throw walk.reader.unsupported(node, "the node before Output must be a LIF: a SpikeFuse network ends in spikes")
                }
                guard walk.shape.count == 1 else {
                    throw walk.reader.unsupported(node, "the network before it gives \(walk.shape); a SpikeFuse network ends in [classes]")
                }
                guard declared == walk.shape else {
                    throw walk.reader.unsupported(node, "declares shape \(declared), but the network before it has \(walk.shape[0]) outputs")
                }
                outputNode = node
            case .conv2d(let w, let b, let stride, let padding, let dilation, let groups, let declared):
                try walk.conv(node, weight: w, bias: b, stride: stride, padding: padding, dilation: dilation, groups: groups,
                              declared: declared)
            case .affine(let w, let b):
                try walk.linear(node, weight: w, bias: b)
            case .linear(let w):
                try walk.linear(node, weight: w, bias: w.rank == 2 ? Tensor(zeros: [w.shape[0]]) : Tensor(zeros: [0]))
            case .sumPool2d(let k, let s, let p), .avgPool2d(let k, let s, let p):
                var isSum = false
                if case .sumPool2d = value { isSum = true }
                try walk.pool(node, kernel: k, stride: s, padding: p, sum: isSum)
            case .flatten(let start, let end, let declared):
                try walk.flatten(node, start: start, end: end, declared: declared)
            case .lif, .cubaLIF, .integrateAndFire:
                try walk.standaloneLIF(node, value)
            case .input:
                throw walk.reader.unsupported(node, "a second Input on the chain")
            }
        }
        try validateEdges(g, walked: walk.reader.walked, reached: walk.reader.reached, file: file)
        for (name, t) in walk.tensors.sorted(by: { $0.key < $1.key }) {    // after folding scales
            if let bad = t.scalars.first(where: { !$0.isFinite || abs(Double($0)) > parameterLimit }) {
                throw NIRError.unsupported(file: file, node: walk.tensorNodes[name] ?? name,
                                           reason: "\(name) becomes \(bad) once the LIF input scale r·dt/τ and pooling are "
                                               + "folded in, outside ±\(parameterLimit) (docs/interop.md)")
            }
        }
        // T is not part of a graph; a SpikeFuse export records the one it was trained with.
        var timesteps = ModelConfiguration().timesteps
        if case .strings(let json, _)? = g.metadata["config"], let first = json.first,
           let exported = try? ModelConfiguration.fromJSON(first) {
            timesteps = exported.timesteps
        }
        guard let branchNeuron = walk.neurons.first else {
            throw walk.reader.unsupported(outputNode, "the graph has no LIF node")
        }
        let layers = walk.layers.map { $0.withDefaultNeuron(branchNeuron) }
        let branch = BranchDescription(walk.branch, modality, shape: inputShape, neuron: branchNeuron, layers: layers)
        let name = URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
        let d = NetworkDescription(name: name.isEmpty ? "nir" : name, timesteps: timesteps, classes: walk.shape[0], branches: [branch])
        do { try NetworkBuilder.check(d) } catch { throw NIRError.invalid(file: file, reason: "\(error)") }
        return Imported(description: d, tensors: walk.tensors)
    }

    static func scalar(_ node: HDF5Node?) -> Double? {
        switch node {
        case .floats(let v, _, _)?: return v.count == 1 ? v[0] : nil
        case .integers(let v, _)?: return v.count == 1 ? Double(v[0]) : nil
        default: return nil
        }
    }

    /// The layers read so far from the chain, with the per-sample shape after them.
    struct ChainWalk {
        var reader: ChainReader
        /// One sample's shape after the layers so far: `[C, H, W]` or `[N]`.
        var shape: [Int]
        var branch = ""
        var layers: [LayerDescription] = []
        var neurons: [NeuronDescription] = []
        var tensors: [String: Tensor] = [:]
        /// SpikeFuse tensor → the NIR node it came from (for messages).
        var tensorNodes: [String: String] = [:]
        /// Sum pools read as average pools whose k² still has to reach the next synapse's weights.
        var pendingPools: [(layer: Int, kernel: Int)] = []

        var lastEmitsSpikes: Bool { layers.last?.emitsSpikes ?? false }

        /// The layer name of node `node`: without the `<branch>_` prefix SpikeFuse's export adds,
        /// '.' replaced (it separates tensor names), unique in the branch.
        func layerName(_ node: String) -> String {
            var name = node.hasPrefix(branch + "_") ? String(node.dropFirst(branch.count + 1)) : node
            name = name.replacingOccurrences(of: ".", with: "_")
            let taken = Set(layers.compactMap(\.parameterName))
            var candidate = name, n = 2
            while taken.contains(candidate) { candidate = "\(name)_\(n)"; n += 1 }
            return candidate
        }

        /// The factor the pending sum pools put on the next synapse's weights.
        mutating func takePoolScale() -> Float {
            let scale = pendingPools.reduce(Float(1)) { $0 * Float($1.kernel * $1.kernel) }
            pendingPools = []
            return scale
        }

        /// Turns pending average pools back into sum pools: no synapse follows them.
        mutating func finishPools() throws {
            for p in pendingPools { layers[p.layer] = .sumPool2d(kernel: p.kernel) }
            pendingPools = []
        }

        mutating func conv(_ node: String, weight w: Tensor, bias b: Tensor, stride: [Int], padding: [Int], dilation: [Int],
                           groups: Int, declared: [Int]?) throws {
            try reader.require(shape.count == 3, node, "a Conv2d needs [C, H, W] input, got \(shape)")
            try reader.require(w.rank == 4 && w.shape[2] == w.shape[3], node,
                               "weight \(w.shape): SpikeFuse convolutions have square kernels [Cout, Cin, k, k]")
            try reader.require(stride.count == 2 && stride[0] == stride[1] && stride[0] >= 1, node,
                               "stride \(stride): SpikeFuse convolutions have one stride for both axes")
            try reader.require(padding.count == 2 && padding[0] == padding[1] && padding[0] >= 0, node,
                               "padding \(padding): SpikeFuse convolutions pad both axes alike")
            try reader.require(dilation.allSatisfy { $0 == 1 } && groups == 1, node,
                               "dilation \(dilation), groups \(groups): SpikeFuse convolutions are dense (dilation 1, one group)")
            try reader.require(w.shape[1] == shape[0] && b.shape == [w.shape[0]], node,
                               "weight \(w.shape) and bias \(b.shape) do not take \(shape[0]) input channels to \(w.shape[0]) outputs")
            if let declared, declared != Array(shape.dropFirst()) {
                throw reader.unsupported(node, "input_shape \(declared), but its input is \(Array(shape.dropFirst())) here")
            }
            let k = w.shape[2], s = stride[0], p = padding[0]
            let out = [w.shape[0], (shape[1] + 2 * p - k) / s + 1, (shape[2] + 2 * p - k) / s + 1]
            try reader.require(shape[1] + 2 * p >= k && shape[2] + 2 * p >= k, node,
                               "a \(k)×\(k) kernel does not fit its \(Array(shape.dropFirst())) input with padding \(p)")
            let name = layerName(node)
            layers.append(.conv2d(name, channels: w.shape[0], kernel: k, stride: s, padding: p))
            shape = out
            try synapse(node, name: name, weight: w, bias: b, recurrentAllowed: false)
        }

        mutating func linear(_ node: String, weight w: Tensor, bias b: Tensor) throws {
            try reader.require(shape.count == 1, node, "an Affine or Linear needs [N] input, got \(shape) (add a Flatten before it)")
            try reader.require(w.rank == 2 && w.shape[1] == shape[0] && b.shape == [w.shape[0]], node,
                               "weight \(w.shape) and bias \(b.shape) do not map \(shape[0]) inputs to \(w.rank == 2 ? w.shape[0] : 0)")
            let name = layerName(node)
            layers.append(.linear(name, features: w.shape[0]))
            shape = [w.shape[0]]
            try synapse(node, name: name, weight: w, bias: b, recurrentAllowed: true)
        }

        /// A synapse's parameters, and the LIF after it if one follows (a recurrent layer when the
        /// LIF has a `Linear` cycle).
        mutating func synapse(_ node: String, name: String, weight w: Tensor, bias b: Tensor, recurrentAllowed: Bool) throws {
            let poolScale = takePoolScale()
            let width = shape.reduce(1, *)
            var inputScale: Float = 1
            if reader.nextIsNeuron() {
                let (neuronNode, value) = try reader.next()
                let neuron = try reader.neuron(neuronNode, value, width: width, recurrent: recurrentAllowed)
                inputScale = neuron.inputScale
                let description = neuron.description
                neurons.append(description)
                if let r = neuron.recurrentWeight {
                    try reader.require(r.shape == [width, width], neuron.recurrentName ?? neuron.name,
                                       "recurrent weight \(r.shape), expected \([width, width])")
                    layers[layers.count - 1] = .recurrent(name, features: width, neuron: description)
                    tensors["\(branch).\(name).recurrent_weight"] = NIRExport.scaled(r, inputScale)
                    tensorNodes["\(branch).\(name).recurrent_weight"] = neuron.recurrentName ?? neuron.name
                } else {
                    layers.append(.lif(description))
                }
            }
            for (field, t, factor) in [("weight", w, poolScale * inputScale), ("bias", b, inputScale)] {
                tensors["\(branch).\(name).\(field)"] = NIRExport.scaled(t, factor)
                tensorNodes["\(branch).\(name).\(field)"] = node
            }
        }

        mutating func pool(_ node: String, kernel: [Int], stride: [Int], padding: [Int], sum: Bool) throws {
            try reader.require(shape.count == 3, node, "pooling needs [C, H, W] input, got \(shape)")
            guard kernel.count == 2, kernel[0] == kernel[1], kernel[0] >= 1, stride == kernel, padding.allSatisfy({ $0 == 0 }) else {
                throw reader.unsupported(node, "kernel \(kernel), stride \(stride), padding \(padding): SpikeFuse pools square "
                                         + "windows with stride = kernel and no padding")
            }
            let k = kernel[0]
            try reader.require(shape[1] >= k && shape[2] >= k, node, "a \(k)×\(k) window does not fit its \(Array(shape.dropFirst())) input")
            let cells = k * k
            if sum && cells & (cells - 1) == 0 {
                pendingPools.append((layers.count, k))
                layers.append(.avgPool2d(k))
            } else {
                layers.append(sum ? .sumPool2d(k) : .avgPool2d(k))
            }
            shape = [shape[0], shape[1] / k, shape[2] / k]
        }

        mutating func flatten(_ node: String, start: Int, end: Int, declared: [Int]?) throws {
            try reader.require((start == 0 || start == 1) && (end == -1 || end == shape.count - 1 + start), node,
                               "start_dim \(start), end_dim \(end): SpikeFuse flattens a whole sample (start_dim 0, or 1 "
                               + "counting the batch axis, to end_dim −1)")
            if let declared, declared.reduce(1, *) != shape.reduce(1, *) {
                throw reader.unsupported(node, "input_type \(declared), but its input is \(shape) here")
            }
            layers.append(.flatten)
            shape = [shape.reduce(1, *)]
        }

        /// A LIF with no synapse right before it (after a pool, a flatten or the input): its
        /// input scale cannot be folded, so it must be 1.
        mutating func standaloneLIF(_ node: String, _ value: NIRNode) throws {
            try finishPools()
            let neuron = try reader.neuron(node, value, width: shape.reduce(1, *), recurrent: false)
            try reader.require(neuron.inputScale == 1, node, "input scale (dt/τ)·r = \(neuron.inputScale) with no synapse "
                               + "before the LIF to fold it into")
            neurons.append(neuron.description)
            layers.append(.lif(neuron.description))
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

        /// The one node `current` feeds (recurrent cycles excluded), if there is exactly one.
        private func target() throws -> String {
            let targets = graph.targets(of: current).filter { !isRecurrentLinear($0, of: current) }
            guard targets.count == 1, graph.nodes[targets[0]] != nil else {
                throw unsupported(current, "feeds \(targets.count) nodes (\(targets.joined(separator: ", "))); expected one")
            }
            return targets[0]
        }

        /// The one node that `current` feeds (recurrent cycles excluded).
        mutating func next() throws -> (String, NIRNode) {
            let t = try target()
            walked.insert(Self.edgeKey(current, t)); reached.insert(t)
            current = t
            return (t, graph.nodes[t]!)
        }

        /// Whether the next node is a neuron node (LIF, CubaLIF, IF).
        func nextIsNeuron() -> Bool {
            guard let t = try? target(), let node = graph.nodes[t] else { return false }
            switch node {
            case .lif, .cubaLIF, .integrateAndFire: return true
            default: return false
            }
        }

        func isRecurrentLinear(_ name: String, of lif: String) -> Bool {
            if case .linear? = graph.nodes[name], graph.targets(of: name) == [lif] { return true }
            return false
        }

        struct Neuron {
            var name: String
            /// The layer's neuron (`NIRNeurons.neuron(from:)`: LIF, CubaLIF or IF).
            var description: NeuronDescription
            /// (dt/τ)·r (and CubaLIF's synaptic scale): folded into the synapse before it.
            var inputScale: Float
            var recurrentWeight: Tensor?
            var recurrentName: String? = nil
        }

        /// Neuron node `name` (LIF, CubaLIF or IF, just reached by `next`; constants uniform over
        /// `width` neurons) and its recurrent `Linear` if it has one.
        mutating func neuron(_ name: String, _ node: NIRNode, width: Int, recurrent: Bool) throws -> Neuron {
            let count: Int
            switch node {
            case .lif(let tau, _, _, _, _): count = tau.count
            case .cubaLIF(let tauSyn, _, _, _, _, _, _): count = tauSyn.count
            case .integrateAndFire(let r, _, _): count = r.count
            default: throw unsupported(name, "expected a neuron node (LIF, CubaLIF, IF), found \(node.typeName)")
            }
            guard count == width else { throw unsupported(name, "\(count) neurons, expected \(width)") }
            let (description, inputScale) = try NIRNeurons.neuron(from: node, metadata: graph.nodeMetadata[name] ?? [:], dt: dt,
                                                                  name: name, file: file)
            let recurrentSources = graph.sources(of: name).filter { isRecurrentLinear($0, of: name) && graph.sources(of: $0) == [name] }
            var recurrentWeight: Tensor?
            var recurrentName: String?
            if let rec = recurrentSources.first, case .linear(let w)? = graph.nodes[rec] {
                recurrentWeight = w; recurrentName = rec
                walked.insert(Self.edgeKey(name, rec)); walked.insert(Self.edgeKey(rec, name)); reached.insert(rec)
            }
            if !recurrent { try require(recurrentWeight == nil, name, "a recurrent cycle on a neuron that does not follow an Affine or Linear") }
            try require(recurrentSources.count <= 1, name, "\(recurrentSources.count) recurrent cycles; SpikeFuse's layers have one")
            return Neuron(name: name, description: description, inputScale: inputScale, recurrentWeight: recurrentWeight,
                          recurrentName: recurrentName)
        }
    }
}

extension LayerDescription {
    /// The layer with its neuron left out (nil) where it is the branch's.
    func withDefaultNeuron(_ branchNeuron: NeuronDescription) -> LayerDescription {
        switch self {
        case .lif(let n?) where n == branchNeuron: return .lif(nil)
        case .recurrent(let name, let features, let n?) where n == branchNeuron: return .recurrent(name: name, features: features, neuron: nil)
        default: return self
        }
    }
}
