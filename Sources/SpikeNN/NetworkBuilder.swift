import SpikeTensor

/// A description that cannot be built: names the branch, the layer and what is wrong.
public struct NetworkDescriptionError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// One built layer of a branch: the description items it came from, its output shape.
public struct BuiltLayer {
    /// Indices into the branch's `layers` (a synapse and its `lif` make one layer).
    public let items: Range<Int>
    /// One sample's output shape, without T and B.
    public let outputShape: [Int]
    /// The layer that runs it.
    public let layer: Layer
}

/// Builds the trainable layers of a branch from its description, in order: a `conv2d` or
/// `linear` followed by `lif` becomes one spiking layer (`SpikingConv2d`, `SpikingLinear`,
/// whose fused kernels `Sequential` picks), a synapse alone a plain `Conv2d` or `Linear`.
/// Weights draw from `rng` in layer order (PyTorch's default initialisation), so a
/// description and a seed give the same network every time.
public enum NetworkBuilder {
    /// Each layer's output shape, checked against its input: the error names the branch, the
    /// layer (number and name) and both shapes. The last layer must emit spikes `[classes]`.
    public static func shapes(of branch: BranchDescription, classes: Int) throws -> [[Int]] {
        try plan(branch, classes: classes).map(\.outputShape)
    }

    /// Checks that the whole description builds: T, classes, one branch per modality with
    /// distinct names, each branch's shapes, and a fusion only over a dvs and a cochlea branch.
    public static func check(_ d: NetworkDescription) throws {
        guard d.timesteps > 0 else { throw NetworkDescriptionError("timesteps must be positive, got \(d.timesteps)") }
        guard d.classes >= 2 else { throw NetworkDescriptionError("classes must be at least 2, got \(d.classes)") }
        guard !d.branches.isEmpty else { throw NetworkDescriptionError("the network has no branches") }
        for (i, b) in d.branches.enumerated() {
            guard !b.name.isEmpty, !b.name.contains("."), b.name != "fusion" else {
                throw NetworkDescriptionError("branch \(i + 1): name '\(b.name)' must be non-empty, without '.', and not 'fusion'")
            }
            guard !d.branches[..<i].contains(where: { $0.name == b.name }) else {
                throw NetworkDescriptionError("branch name '\(b.name)' is used twice")
            }
            guard !d.branches[..<i].contains(where: { $0.input.modality == b.input.modality }) else {
                throw NetworkDescriptionError("branch '\(b.name)': a second \(b.input.modality) branch (one per input modality)")
            }
            _ = try checked(b.neuron, NetworkDescriptionError("branch '\(b.name)', neuron: "))
            _ = try plan(b, classes: d.classes)
        }
        if let f = d.fusion {
            guard d.branch(.dvs) != nil, d.branch(.cochlea) != nil else {
                throw NetworkDescriptionError("fusion '\(f.kind.rawValue)' needs a dvs and a cochlea branch")
            }
            guard f.hidden > 0 else { throw NetworkDescriptionError("fusion: hidden must be positive, got \(f.hidden)") }
            guard try checked(f.neuron, NetworkDescriptionError("fusion, neuron: ")).isPlainLIF else {
                throw NetworkDescriptionError("fusion, neuron: the fusion runs the plain lif only (fixed constants, reset zero, rectangle)")
            }
            guard f.readout == nil || f.kind == .attention else {
                throw NetworkDescriptionError("fusion: readout applies to attention only")
            }
        } else if d.branches.count > 1 {
            throw NetworkDescriptionError("\(d.branches.count) branches need a fusion (attention or concatenation)")
        }
    }

    /// The branch as a `Sequential` (the first layer computes no dL/d(input)).
    public static func build(_ branch: BranchDescription, classes: Int, rng: inout SeededGenerator) throws -> (Sequential, [BuiltLayer]) {
        var built: [BuiltLayer] = []
        for step in try plan(branch, classes: classes) {
            built.append(BuiltLayer(items: step.items, outputShape: step.outputShape,
                                    layer: step.make(branch.name, &rng)))
        }
        let network = Sequential(built.map(\.layer))
        network.layers.first?.needsInputGradient = false
        return (network, built)
    }

    /// The parts of a branch's built layers (`Layer.parts`: a synapse and its neurons apart),
    /// in the order they run, each named by its description item: `"visual.conv1 conv2d"`,
    /// `"visual.conv1 lif"`, `"visual maxpool2d"` (a layer whose parts do not match its items
    /// keeps one name). Running the parts one after the other is running `net`; profilers
    /// time them apart this way, from the description, not from layer types.
    public static func namedParts(_ net: Sequential, branch: BranchDescription, classes: Int) throws -> [(name: String, layer: Layer)] {
        let planned = try plannedLayers(of: branch, classes: classes)
        guard planned.count == net.layers.count else {
            throw NetworkDescriptionError("branch '\(branch.name)': \(planned.count) described layers, \(net.layers.count) built")
        }
        var out: [(name: String, layer: Layer)] = []
        for (plan, layer) in zip(planned, net.layers) {
            let items = Array(branch.layers[plan.items])
            let title = items.compactMap(\.parameterName).first.map { "\(branch.name).\($0)" } ?? branch.name
            if layer.parts.count == items.count {
                out += zip(items, layer.parts).map { ("\(title) \($0.type)", $1) }
            } else {
                out.append(("\(title) \(items.map(\.type).joined(separator: "+"))", layer))
            }
        }
        return out
    }

    /// A built layer's place in the description and its shapes (one sample, without T and B).
    public struct PlannedLayer: Sendable, Equatable {
        /// Indices into the branch's `layers` (a synapse and its `lif` make one layer).
        public let items: Range<Int>
        public let inputShape: [Int]
        public let outputShape: [Int]
    }

    /// The layers `build` makes of `branch`, with their shapes, without making them.
    public static func plannedLayers(of branch: BranchDescription, classes: Int) throws -> [PlannedLayer] {
        try plan(branch, classes: classes).map { PlannedLayer(items: $0.items, inputShape: $0.inputShape, outputShape: $0.outputShape) }
    }

    /// A layer to be made: its items, input and output shapes, and how to make it.
    struct Step {
        let items: Range<Int>
        let inputShape: [Int]
        let outputShape: [Int]
        let make: (String, inout SeededGenerator) -> Layer
    }

    static func plan(_ branch: BranchDescription, classes: Int) throws -> [Step] {
        let layers = branch.layers
        var shape = branch.input.shape
        func fail(_ i: Int, _ what: String) -> NetworkDescriptionError {
            let name = layers[i].parameterName.map { " '\($0)'" } ?? ""
            return NetworkDescriptionError("branch '\(branch.name)', layer \(i + 1)\(name): \(what)")
        }
        guard !shape.isEmpty, shape.allSatisfy({ $0 > 0 }) else {
            throw NetworkDescriptionError("branch '\(branch.name)': input shape \(shape) must be positive sizes")
        }
        switch branch.input.modality {
        case .dvs where shape.count != 3:
            throw NetworkDescriptionError("branch '\(branch.name)': a dvs input is [P, H, W], got \(shape)")
        case .cochlea where shape.count != 1:
            throw NetworkDescriptionError("branch '\(branch.name)': a cochlea input is [N], got \(shape)")
        default: break
        }
        guard !layers.isEmpty else { throw NetworkDescriptionError("branch '\(branch.name)' has no layers") }
        var names: Set<String> = []
        var steps: [Step] = []
        var i = 0
        while i < layers.count {
            let input = shape
            if let name = layers[i].parameterName {
                guard !name.isEmpty, !name.contains(".") else { throw fail(i, "a layer name is non-empty and has no '.'") }
                guard names.insert(name).inserted else { throw fail(i, "the name is used twice in the branch") }
            }
            // The neuron of a `lif` right after item i (a synapse's spiking neuron), if any.
            let next: NeuronDescription? = {
                guard i + 1 < layers.count, case .lif(let n) = layers[i + 1] else { return nil }
                return n ?? branch.neuron
            }()
            switch layers[i] {
            case let .conv2d(name, channels, kernel, stride, padding):
                guard input.count == 3 else { throw fail(i, "conv2d needs [C, H, W] input, got \(input)") }
                guard channels > 0, kernel > 0, stride > 0, padding >= 0 else {
                    throw fail(i, "channels, kernel and stride must be positive and padding ≥ 0")
                }
                guard input[1] + 2 * padding >= kernel, input[2] + 2 * padding >= kernel else {
                    throw fail(i, "a \(kernel)×\(kernel) kernel does not fit input \(input) with padding \(padding)")
                }
                let g = Conv2dGeometry(inChannels: input[0], outChannels: channels, height: input[1], width: input[2],
                                       kernelSize: kernel, stride: stride, padding: padding)
                shape = [channels, g.outputHeight, g.outputWidth]
                let inChannels = input[0]
                if let neuron = try next.map({ try checked($0, fail(i + 1, "")) }) {
                    let output = shape
                    steps.append(Step(items: i..<(i + 2), inputShape: input, outputShape: shape) { prefix, rng in
                        guard KernelPlan.neuronPath(neuron) == .modelScan else {
                            return SpikingConv2d(name: "\(prefix).\(name)", inChannels: inChannels, outChannels: channels,
                                                 kernelSize: kernel, stride: stride, padding: padding,
                                                 neuron: neuron.lif, rng: &rng)
                        }
                        let conv = Conv2d(name: "\(prefix).\(name)", inChannels: inChannels, outChannels: channels,
                                          kernelSize: kernel, stride: stride, padding: padding, rng: &rng)
                        return SynapseThenNeurons(synapse: conv, neurons: SpikingNeurons(name: "\(prefix).\(name)",
                                                                                         settings: neuron, shape: output))
                    })
                } else {
                    steps.append(Step(items: i..<(i + 1), inputShape: input, outputShape: shape) { prefix, rng in
                        Conv2d(name: "\(prefix).\(name)", inChannels: inChannels, outChannels: channels,
                               kernelSize: kernel, stride: stride, padding: padding, rng: &rng)
                    })
                }
            case let .linear(name, features):
                guard input.count == 1 else { throw fail(i, "linear needs [N] input, got \(input) (add a flatten before it)") }
                guard features > 0 else { throw fail(i, "features must be positive") }
                shape = [features]
                if let neuron = try next.map({ try checked($0, fail(i + 1, "")) }) {
                    steps.append(Step(items: i..<(i + 2), inputShape: input, outputShape: shape) { prefix, rng in
                        guard KernelPlan.neuronPath(neuron) == .modelScan else {
                            return SpikingLinear(name: "\(prefix).\(name)", inFeatures: input[0], outFeatures: features,
                                                 neuron: neuron.lif, rng: &rng)
                        }
                        let linear = Linear(name: "\(prefix).\(name)", inFeatures: input[0], outFeatures: features, rng: &rng)
                        return SynapseThenNeurons(synapse: linear, neurons: SpikingNeurons(name: "\(prefix).\(name)",
                                                                                           settings: neuron, shape: [features]))
                    })
                } else {
                    steps.append(Step(items: i..<(i + 1), inputShape: input, outputShape: shape) { prefix, rng in
                        Linear(name: "\(prefix).\(name)", inFeatures: input[0], outFeatures: features, rng: &rng)
                    })
                }
            case let .recurrent(name, features, neuron):
                guard input.count == 1 else { throw fail(i, "recurrent needs [N] input, got \(input) (add a flatten before it)") }
                guard features > 0 else { throw fail(i, "features must be positive") }
                let n = try checked(neuron ?? branch.neuron, fail(i, ""))
                shape = [features]
                steps.append(Step(items: i..<(i + 1), inputShape: input, outputShape: shape) { prefix, rng in
                    RecurrentSpikingLinear(name: "\(prefix).\(name)", inFeatures: input[0], outFeatures: features,
                                           settings: n, rng: &rng)
                })
            case .lif(let neuron):
                let n = try checked(neuron ?? branch.neuron, fail(i, ""))
                guard n.learnTau == .fixed && n.learnThreshold == .fixed else {
                    throw fail(i, "learnt neuron constants need a named layer: put the neurons right after a conv2d or linear")
                }
                let output = shape
                steps.append(Step(items: i..<(i + 1), inputShape: input, outputShape: shape) { _, _ in
                    KernelPlan.neuronPath(n) == .lifKernels ? LIF(n.lif) as Layer : SpikingNeurons(name: "", settings: n, shape: output)
                })
            case .avgPool2d(let k), .maxPool2d(let k), .sumPool2d(let k):
                guard k > 0, input.count == 3, input[1] >= k, input[2] >= k else {
                    throw fail(i, "a \(k)×\(k) pool needs [C, H, W] input of at least \(k)×\(k), got \(input)")
                }
                shape = [input[0], input[1] / k, input[2] / k]
                let item = layers[i]
                steps.append(Step(items: i..<(i + 1), inputShape: input, outputShape: shape) { _, _ in
                    switch item {
                    case .maxPool2d: return MaxPool2d(kernelSize: k)
                    case .sumPool2d: return AvgPool2d(sumOver: k)
                    default: return AvgPool2d(kernelSize: k)
                    }
                })
            case .flatten:
                shape = [input.reduce(1, *)]
                steps.append(Step(items: i..<(i + 1), inputShape: input, outputShape: shape) { _, _ in Flatten() })
            case .dropout(let rate):
                guard rate >= 0 && rate < 1 else { throw fail(i, "dropout rate must be in [0, 1), got \(rate)") }
                let salt = Dropout.salt(branch: branch.name, item: i)
                steps.append(Step(items: i..<(i + 1), inputShape: input, outputShape: shape) { _, _ in
                    Dropout(rate: rate, salt: salt)
                })
            }
            i += steps.last!.items.count
        }
        let last = steps.last!
        let spiking = layers[last.items.upperBound - 1].emitsSpikes
        guard spiking, last.outputShape == [classes] else {
            throw NetworkDescriptionError("branch '\(branch.name)': the last layer must emit spikes [\(classes)] "
                + "(classes = \(classes)), got \(spiking ? "spikes" : "a non-spiking output") \(last.outputShape)")
        }
        return steps
    }

    /// The settings of `neuron` if it is a model this version runs with valid constants; else
    /// `context`'s error with the reason (keys spelt as in the file).
    static func checked(_ neuron: NeuronDescription, _ context: NetworkDescriptionError) throws -> NeuronSettings {
        func bad(_ why: String) -> NetworkDescriptionError { NetworkDescriptionError(context.message + why) }
        func unit(_ value: Float?, _ key: String, open: Bool = false) throws -> Float {
            guard let value else { throw bad("\(key) must be given for model '\(neuron.model)'") }
            guard value >= 0 && value < 1 && (!open || value > 0) else {
                throw bad("\(key) must be in \(open ? "(0" : "[0"), 1), got \(value)")
            }
            return value
        }
        func only(_ value: Float?, _ key: String, _ applies: Bool, _ to: String) throws {
            guard value == nil || applies else { throw bad("\(key) applies to \(to) only") }
        }
        let known = NeuronSettings.Model.allCases.map(\.rawValue).joined(separator: ", ")
        guard let model = NeuronSettings.Model(rawValue: neuron.model) else {
            throw bad("neuron model '\(neuron.model)' is not known (known: \(known))")
        }
        guard neuron.threshold > 0 && neuron.threshold.isFinite else { throw bad("threshold must be positive, got \(neuron.threshold)") }
        guard neuron.surrogateWidth > 0 && neuron.surrogateWidth.isFinite else {
            throw bad("surrogate_width must be positive, got \(neuron.surrogateWidth)")
        }
        guard neuron.surrogateDampening > 0 && neuron.surrogateDampening <= 1 else {
            throw bad("surrogate_dampening must be in (0, 1], got \(neuron.surrogateDampening)")
        }
        func learning(_ value: String?, _ key: String, _ allowed: [NeuronSettings.Learning]) throws -> NeuronSettings.Learning {
            guard let value else { return .fixed }
            guard let l = NeuronSettings.Learning(rawValue: value), allowed.contains(l) else {
                throw bad("\(key) '\(value)' is not known (known: \(allowed.map(\.rawValue).joined(separator: ", ")))")
            }
            return l
        }
        let learnTau = try learning(neuron.learnTau, "learn_tau", [.layer, .channel])
        let learnThreshold = try learning(neuron.learnThreshold, "learn_threshold", [.layer, .neuron])
        if model == .integrateAndFire {
            guard neuron.tau == 1 else { throw bad("model 'if' has tau 1 (no leak), got \(neuron.tau)") }
            guard learnTau == .fixed else { throw bad("learn_tau does not apply to model 'if' (no leak)") }
        } else {
            _ = try unit(neuron.tau, "tau", open: learnTau != .fixed)
        }
        let reset: NeuronSettings.Reset
        switch neuron.reset ?? "zero" {
        case "zero": reset = .zero
        case "subtract": reset = .subtract
        case "value":
            guard let v = neuron.resetValue, v.isFinite else { throw bad("reset 'value' needs reset_value") }
            reset = .value(v)
        case let other: throw bad("reset '\(other)' is not known (known: zero, value, subtract)")
        }
        try only(neuron.resetValue, "reset_value", neuron.reset == "value", "reset 'value'")
        let surrogate: NeuronSettings.Surrogate
        let name = neuron.surrogate ?? "rectangle"
        switch name {
        case "rectangle": surrogate = .rectangle(width: neuron.surrogateWidth)
        case "triangle": surrogate = .triangle(width: neuron.surrogateWidth)
        case "fast_sigmoid": surrogate = .fastSigmoid(slope: neuron.surrogateSlope ?? 25)
        case "arctan": surrogate = .arctan(slope: neuron.surrogateSlope ?? 2)
        default: throw bad("surrogate '\(name)' is not known (known: rectangle, fast_sigmoid, arctan, triangle)")
        }
        try only(neuron.surrogateSlope, "surrogate_slope", name == "fast_sigmoid" || name == "arctan", "fast_sigmoid and arctan")
        if let k = neuron.surrogateSlope, !(k > 0 && k.isFinite) { throw bad("surrogate_slope must be positive, got \(k)") }
        try only(neuron.synapseTau, "synapse_tau", model == .currentBased, "model 'cuba_lif'")
        try only(neuron.adaptationDecay, "adaptation_decay", model == .adaptive, "model 'adaptive_lif'")
        try only(neuron.adaptationStrength, "adaptation_strength", model == .adaptive, "model 'adaptive_lif'")
        var settings = NeuronSettings(model: model, tau: neuron.tau, threshold: neuron.threshold, reset: reset,
                                      surrogate: surrogate, dampening: neuron.surrogateDampening,
                                      learnTau: learnTau, learnThreshold: learnThreshold)
        if model == .currentBased { settings.synapseTau = try unit(neuron.synapseTau, "synapse_tau") }
        if model == .adaptive {
            settings.adaptationDecay = try unit(neuron.adaptationDecay, "adaptation_decay")
            guard let b = neuron.adaptationStrength, b >= 0 && b.isFinite else {
                throw bad("adaptation_strength must be given and ≥ 0 for model 'adaptive_lif'")
            }
            settings.adaptationStrength = b
        }
        return settings
    }
}
