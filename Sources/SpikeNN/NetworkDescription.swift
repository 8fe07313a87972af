import Foundation
import SpikeTensor

/// What a spiking network is, as data: its branches (one per input), each branch's layers in
/// order, each spiking layer's neuron, and how the branches are fused. Everything else — the
/// trainable layers (`NetworkBuilder`), `spikefuse describe`, the parameter names of
/// checkpoints — is derived from it. JSON form: docs/networks.md; the paper's networks ship as
/// such files (Sources/Multimodal/Networks/).
///
/// Shapes are per sample, without T and B: a DVS branch reads frames `[P, H, W]`, a cochlea
/// branch channel vectors `[N]`. Only input shapes and each layer's output size are written;
/// every input size is inferred (`NetworkShapes`), so one edit (a wider layer, another sensor
/// size) cannot leave a stale size behind.
public struct NetworkDescription: Codable, Sendable, Equatable {
    /// A name for reports (e.g. "paper-multimodal").
    public var name: String
    /// Time bins T per sample (the paper: 64).
    public var timesteps: Int
    /// Classes C: the width of every branch's last layer and of the fused output.
    public var classes: Int
    /// One branch per input, in parameter order.
    public var branches: [BranchDescription]
    /// How branch outputs are combined; nil: a single branch, or branches trained side by side.
    public var fusion: FusionDescription?

    public init(name: String, timesteps: Int, classes: Int, branches: [BranchDescription],
                fusion: FusionDescription? = nil) {
        self.name = name
        self.timesteps = timesteps
        self.classes = classes
        self.branches = branches
        self.fusion = fusion
    }

    enum CodingKeys: String, CodingKey { case name, timesteps, classes, branches, fusion }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try c.rejectUnknownKeys(decoder, allowed: ["name", "timesteps", "classes", "branches", "fusion"])
        name = try c.decode(String.self, forKey: .name)
        timesteps = try c.decode(Int.self, forKey: .timesteps)
        classes = try c.decode(Int.self, forKey: .classes)
        branches = try c.decode([BranchDescription].self, forKey: .branches)
        fusion = try c.decodeIfPresent(FusionDescription.self, forKey: .fusion)
    }

    /// The branch reading `modality`, if any.
    public func branch(_ modality: InputModality) -> BranchDescription? {
        branches.first { $0.input.modality == modality }
    }
}

/// The sensor a branch reads.
public enum InputModality: String, Codable, Sendable, CaseIterable {
    /// Event-camera frames `[P, H, W]` (P polarity channels).
    case dvs
    /// Silicon-cochlea channel vectors `[N]`.
    case cochlea
}

/// A branch's input: its modality and one sample's shape per time bin.
public struct InputDescription: Codable, Sendable, Equatable {
    public var modality: InputModality
    public var shape: [Int]
    public init(modality: InputModality, shape: [Int]) {
        self.modality = modality
        self.shape = shape
    }
}

/// One input's subnetwork: `layers` applied in order to `[T, B, …input.shape]`.
public struct BranchDescription: Codable, Sendable, Equatable {
    /// Prefix of its parameter names ("visual" → "visual.conv1.weight").
    public var name: String
    public var input: InputDescription
    /// The neuron of every spiking layer that names none of its own.
    public var neuron: NeuronDescription
    public var layers: [LayerDescription]

    enum CodingKeys: String, CodingKey { case name, input, neuron, layers }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try c.rejectUnknownKeys(decoder, allowed: ["name", "input", "neuron", "layers"])
        name = try c.decode(String.self, forKey: .name)
        input = try c.decode(InputDescription.self, forKey: .input)
        neuron = try c.decode(NeuronDescription.self, forKey: .neuron)
        layers = try c.decode([LayerDescription].self, forKey: .layers)
    }

    public init(name: String, input: InputDescription, neuron: NeuronDescription, layers: [LayerDescription]) {
        self.name = name
        self.input = input
        self.neuron = neuron
        self.layers = layers
    }
}

/// A spiking neuron model and its constants (equations: `NeuronModel`). The paper's LIF
/// (eqs. 1–4, 9) is the default:
///
///     u[t] = τ·u[t−1]·(1 − o[t−1]) + I[t],   o[t] = 1{u[t] ≥ V_th}
///
/// trained with the rectangular surrogate h(u) = (γ/a)·1{|u − V_th| < a/2}. The other
/// settings are optional, so every file written before them reads as before (`{"tau": 0.2}`
/// is the paper's LIF); `NetworkBuilder` checks them into `NeuronSettings`. JSON keys:
/// docs/networks.md.
public struct NeuronDescription: Codable, Sendable, Equatable {
    /// "lif" (default), "if", "cuba_lif" or "adaptive_lif" (`NeuronSettings.Model`).
    public var model: String
    /// Membrane decay τ (β) per time step, in [0, 1) (in (0, 1) when learnt; 1 for "if").
    public var tau: Float
    /// Firing threshold V_th (membrane units); the resting ϑ of "adaptive_lif".
    public var threshold: Float
    /// Surrogate window a of "rectangle" and "triangle".
    public var surrogateWidth: Float
    /// Surrogate height factor γ in (0, 1] (1: the paper's eq. 9).
    public var surrogateDampening: Float
    /// "zero" (default, the paper's), "value" (to `reset_value`) or "subtract".
    public var reset: String?
    /// V_r of `reset: "value"`.
    public var resetValue: Float?
    /// "rectangle" (default), "fast_sigmoid", "arctan" or "triangle".
    public var surrogate: String?
    /// Slope k of "fast_sigmoid" (default 25), α of "arctan" (default 2).
    public var surrogateSlope: Float?
    /// Synaptic decay α per step of "cuba_lif", in [0, 1).
    public var synapseTau: Float?
    /// Adaptation decay ρ per step of "adaptive_lif", in [0, 1).
    public var adaptationDecay: Float?
    /// Threshold rise b per unit of adaptation of "adaptive_lif", ≥ 0.
    public var adaptationStrength: Float?
    /// Learn τ: "layer" or "channel" (absent: fixed).
    public var learnTau: String?
    /// Learn V_th: "layer" or "neuron" (absent: fixed).
    public var learnThreshold: String?

    public init(tau: Float, threshold: Float = 0.5, surrogateWidth: Float = 1, surrogateDampening: Float = 1) {
        model = "lif"
        self.tau = tau
        self.threshold = threshold
        self.surrogateWidth = surrogateWidth
        self.surrogateDampening = surrogateDampening
    }

    public init(_ p: LIFParameters) {
        self.init(tau: p.tau, threshold: p.threshold, surrogateWidth: p.surrogateWidth,
                  surrogateDampening: p.surrogateDampening)
    }

    /// The description of `settings` (optional keys only where they differ from the defaults).
    public init(_ s: NeuronSettings) {
        self.init(tau: s.tau, threshold: s.threshold, surrogateDampening: s.dampening)
        model = s.model.rawValue
        switch s.reset {
        case .zero: break
        case .value(let v): reset = "value"; resetValue = v
        case .subtract: reset = "subtract"
        }
        switch s.surrogate {
        case .rectangle(let w): surrogateWidth = w
        case .fastSigmoid(let k): surrogate = "fast_sigmoid"; surrogateSlope = k
        case .arctan(let k): surrogate = "arctan"; surrogateSlope = k
        case .triangle(let w): surrogate = "triangle"; surrogateWidth = w
        }
        if s.model == .currentBased { synapseTau = s.synapseTau }
        if s.model == .adaptive { adaptationDecay = s.adaptationDecay; adaptationStrength = s.adaptationStrength }
        if s.learnTau != .fixed { learnTau = s.learnTau.rawValue }
        if s.learnThreshold != .fixed { learnThreshold = s.learnThreshold.rawValue }
    }

    /// The LIF constants the layers run with (the plain LIF's).
    public var parameters: LIFParameters {
        LIFParameters(tau: tau, threshold: threshold, surrogateWidth: surrogateWidth,
                      surrogateDampening: surrogateDampening)
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case model, tau, threshold, surrogateWidth, surrogateDampening, reset, resetValue, surrogate, surrogateSlope
        case synapseTau, adaptationDecay, adaptationStrength, learnTau, learnThreshold
    }

    /// Left-out constants take the paper's values (V_th 0.5, a 1, γ 1); τ must be given
    /// (but for "if", whose τ is 1).
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try c.rejectUnknownKeys(decoder, allowed: CodingKeys.allCases.map(\.rawValue))
        model = try c.decodeIfPresent(String.self, forKey: .model) ?? "lif"
        tau = model == "if" ? try c.decodeIfPresent(Float.self, forKey: .tau) ?? 1 : try c.decode(Float.self, forKey: .tau)
        threshold = try c.decodeIfPresent(Float.self, forKey: .threshold) ?? 0.5
        surrogateWidth = try c.decodeIfPresent(Float.self, forKey: .surrogateWidth) ?? 1
        surrogateDampening = try c.decodeIfPresent(Float.self, forKey: .surrogateDampening) ?? 1
        reset = try c.decodeIfPresent(String.self, forKey: .reset)
        resetValue = try c.decodeIfPresent(Float.self, forKey: .resetValue)
        surrogate = try c.decodeIfPresent(String.self, forKey: .surrogate)
        surrogateSlope = try c.decodeIfPresent(Float.self, forKey: .surrogateSlope)
        synapseTau = try c.decodeIfPresent(Float.self, forKey: .synapseTau)
        adaptationDecay = try c.decodeIfPresent(Float.self, forKey: .adaptationDecay)
        adaptationStrength = try c.decodeIfPresent(Float.self, forKey: .adaptationStrength)
        learnTau = try c.decodeIfPresent(String.self, forKey: .learnTau)
        learnThreshold = try c.decodeIfPresent(String.self, forKey: .learnThreshold)
    }
}

/// How branch outputs `[T, B, C]` are combined into one decision.
public struct FusionDescription: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable {
        /// The paper's attention cross-modal subnetwork (eq. 5).
        case attention
        /// The ablation of §3.4: the two outputs concatenated into two FC LIF layers.
        case concatenation
    }
    /// The attention's readout: the paper's output neuron, or this project's integrator.
    public enum Readout: String, Codable, Sendable {
        case neuron, integrator
    }
    public var kind: Kind
    /// Width H of the fusion's hidden layer.
    public var hidden: Int
    public var neuron: NeuronDescription
    /// Attention only (default: the paper's output neuron).
    public var readout: Readout?

    enum CodingKeys: String, CodingKey { case kind, hidden, neuron, readout }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try c.rejectUnknownKeys(decoder, allowed: ["kind", "hidden", "neuron", "readout"])
        kind = try c.decode(Kind.self, forKey: .kind)
        hidden = try c.decode(Int.self, forKey: .hidden)
        neuron = try c.decode(NeuronDescription.self, forKey: .neuron)
        readout = try c.decodeIfPresent(Readout.self, forKey: .readout)
    }

    public init(kind: Kind, hidden: Int, neuron: NeuronDescription, readout: Readout? = nil) {
        self.kind = kind
        self.hidden = hidden
        self.neuron = neuron
        self.readout = readout
    }
}

/// One layer of a branch. Spiking layers are a synapse followed by `lif` (conv2d + lif,
/// linear + lif), or `recurrent` (its LIF is inside the recurrence).
public enum LayerDescription: Codable, Sendable, Equatable {
    /// 2-D convolution `[C, H, W]` → `[channels, Ho, Wo]`, Ho = ⌊(H + 2·padding − kernel)/stride⌋ + 1.
    case conv2d(name: String, channels: Int, kernel: Int, stride: Int, padding: Int)
    /// Fully connected `[N]` → `[features]`.
    case linear(name: String, features: Int)
    /// Recurrent spiking layer `[N]` → `[features]`: I[t] = W·x[t] + b + R·o[t−1], then LIF.
    case recurrent(name: String, features: Int, neuron: NeuronDescription?)
    /// LIF neurons on the previous layer's output (nil: the branch's neuron).
    case lif(NeuronDescription?)
    /// Average pooling, kernel = stride: `[C, H, W]` → `[C, ⌊H/k⌋, ⌊W/k⌋]`.
    case avgPool2d(kernel: Int)
    /// Max pooling, kernel = stride: `[C, H, W]` → `[C, ⌊H/k⌋, ⌊W/k⌋]`.
    case maxPool2d(kernel: Int)
    /// Sum pooling, kernel = stride: each output the sum of its k×k window (NIR's SumPool2d).
    case sumPool2d(kernel: Int)
    /// `[d1, d2, …]` → `[d1·d2·…]`.
    case flatten
    /// Dropout in training with one mask per sample fixed over all T steps (the SNN practice):
    /// y[t] = x[t]·m/(1 − rate), m ∈ {0, 1} with P(m = 0) = rate; the identity in inference.
    case dropout(rate: Float)

    /// The JSON `type` of each case.
    public static let types = ["conv2d", "linear", "recurrent", "lif", "avgpool2d", "maxpool2d", "sumpool2d", "flatten",
                               "dropout"]

    /// The item's JSON `type` (one of `types`).
    public var type: String {
        switch self {
        case .conv2d: return "conv2d"
        case .linear: return "linear"
        case .recurrent: return "recurrent"
        case .lif: return "lif"
        case .avgPool2d: return "avgpool2d"
        case .maxPool2d: return "maxpool2d"
        case .sumPool2d: return "sumpool2d"
        case .flatten: return "flatten"
        case .dropout: return "dropout"
        }
    }

    /// The name of a layer with parameters (nil for the others).
    public var parameterName: String? {
        switch self {
        case .conv2d(let name, _, _, _, _), .linear(let name, _), .recurrent(let name, _, _): return name
        default: return nil
        }
    }

    /// Whether the item's output is spikes (a `lif`, or a `recurrent` layer's LIF).
    public var emitsSpikes: Bool {
        switch self {
        case .lif, .recurrent: return true
        default: return false
        }
    }

    enum CodingKeys: String, CodingKey {
        case type, name, channels, kernel, stride, padding, features, neuron, rate
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let type = try c.decode(String.self, forKey: .type)
        func allow(_ keys: [String]) throws { try c.rejectUnknownKeys(decoder, allowed: ["type"] + keys) }
        func positive(_ key: CodingKeys, default value: Int? = nil) throws -> Int {
            let v = try value.map { try c.decodeIfPresent(Int.self, forKey: key) ?? $0 } ?? c.decode(Int.self, forKey: key)
            guard v > 0 else {
                throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "\(key.rawValue) must be positive, got \(v)")
            }
            return v
        }
        switch type {
        case "conv2d":
            try allow(["name", "channels", "kernel", "stride", "padding"])
            let padding = try c.decodeIfPresent(Int.self, forKey: .padding) ?? 0
            guard padding >= 0 else {
                throw DecodingError.dataCorruptedError(forKey: .padding, in: c, debugDescription: "padding must be ≥ 0, got \(padding)")
            }
            self = .conv2d(name: try c.decode(String.self, forKey: .name), channels: try positive(.channels),
                           kernel: try positive(.kernel), stride: try positive(.stride, default: 1), padding: padding)
        case "linear":
            try allow(["name", "features"])
            self = .linear(name: try c.decode(String.self, forKey: .name), features: try positive(.features))
        case "recurrent":
            try allow(["name", "features", "neuron"])
            self = .recurrent(name: try c.decode(String.self, forKey: .name), features: try positive(.features),
                              neuron: try c.decodeIfPresent(NeuronDescription.self, forKey: .neuron))
        case "lif":
            try allow(["neuron"])
            self = .lif(try c.decodeIfPresent(NeuronDescription.self, forKey: .neuron))
        case "avgpool2d":
            try allow(["kernel"])
            self = .avgPool2d(kernel: try positive(.kernel))
        case "maxpool2d":
            try allow(["kernel"])
            self = .maxPool2d(kernel: try positive(.kernel))
        case "sumpool2d":
            try allow(["kernel"])
            self = .sumPool2d(kernel: try positive(.kernel))
        case "flatten":
            try allow([])
            self = .flatten
        case "dropout":
            try allow(["rate"])
            let rate = try c.decode(Float.self, forKey: .rate)
            guard rate >= 0 && rate < 1 else {
                throw DecodingError.dataCorruptedError(forKey: .rate, in: c, debugDescription: "rate must be in [0, 1), got \(rate)")
            }
            self = .dropout(rate: rate)
        default:
            throw DecodingError.dataCorruptedError(forKey: .type, in: c, debugDescription:
                "unknown layer type '\(type)' (known: \(Self.types.joined(separator: ", ")))")
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case let .conv2d(name, channels, kernel, stride, padding):
            try c.encode("conv2d", forKey: .type)
            try c.encode(name, forKey: .name)
            try c.encode(channels, forKey: .channels)
            try c.encode(kernel, forKey: .kernel)
            try c.encode(stride, forKey: .stride)
            try c.encode(padding, forKey: .padding)
        case let .linear(name, features):
            try c.encode("linear", forKey: .type)
            try c.encode(name, forKey: .name)
            try c.encode(features, forKey: .features)
        case let .recurrent(name, features, neuron):
            try c.encode("recurrent", forKey: .type)
            try c.encode(name, forKey: .name)
            try c.encode(features, forKey: .features)
            try c.encodeIfPresent(neuron, forKey: .neuron)
        case let .lif(neuron):
            try c.encode("lif", forKey: .type)
            try c.encodeIfPresent(neuron, forKey: .neuron)
        case let .avgPool2d(kernel):
            try c.encode("avgpool2d", forKey: .type)
            try c.encode(kernel, forKey: .kernel)
        case let .maxPool2d(kernel):
            try c.encode("maxpool2d", forKey: .type)
            try c.encode(kernel, forKey: .kernel)
        case let .sumPool2d(kernel):
            try c.encode("sumpool2d", forKey: .type)
            try c.encode(kernel, forKey: .kernel)
        case .flatten:
            try c.encode("flatten", forKey: .type)
        case let .dropout(rate):
            try c.encode("dropout", forKey: .type)
            try c.encode(rate, forKey: .rate)
        }
    }
}

extension KeyedDecodingContainer {
    /// Throws for a key outside `allowed` (camelCase, as decoded with `.convertFromSnakeCase`):
    /// a misspelt setting is an error, never ignored. The message spells keys as the file does.
    func rejectUnknownKeys(_ decoder: Decoder, allowed: [String]) throws {
        let all = try decoder.container(keyedBy: AnyKey.self).allKeys.map(\.stringValue)
        if let unknown = all.first(where: { !allowed.contains($0) }) {
            throw DecodingError.dataCorrupted(.init(codingPath: codingPath, debugDescription:
                "unknown key '\(snakeCase(unknown))' (known here: \(allowed.map(snakeCase).joined(separator: ", ")))"))
        }
    }
}

/// `surrogateWidth` → `surrogate_width`.
func snakeCase(_ key: String) -> String {
    key.reduce(into: "") { out, ch in
        if ch.isUppercase { out += "_" + ch.lowercased() } else { out.append(ch) }
    }
}

/// A coding key for any string (to list the keys an object has).
struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

// MARK: - Files

extension NetworkDescription {
    /// Reads a description from JSON (`snake_case` keys). Errors name `source`, the place in
    /// the file (e.g. `branches[0].layers[3]`) and what is wrong; the description is then
    /// checked (`NetworkBuilder.check`), so a file that reads also builds.
    public static func decode(_ data: Data, source: String) throws -> NetworkDescription {
        let description: NetworkDescription
        do {
            description = try jsonDecoder.decode(NetworkDescription.self, from: data)
        } catch let error as DecodingError {
            throw NetworkDescriptionError("\(source): \(explain(error))")
        } catch {
            throw NetworkDescriptionError("\(source): not a JSON network description (\(error))")
        }
        do { try NetworkBuilder.check(description) } catch let error as NetworkDescriptionError {
            throw NetworkDescriptionError("\(source): \(error.message)")
        }
        return description
    }

    /// Reads the description file at `url`.
    public static func load(_ url: URL) throws -> NetworkDescription {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw NetworkDescriptionError("\(url.path): cannot read the file")
        }
        return try decode(data, source: url.path)
    }

    /// The description as pretty JSON (`snake_case` keys, sorted).
    public func jsonData() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return try! encoder.encode(self)
    }

    static var jsonDecoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return decoder
    }

    /// A decoding error as "at branches[0].layers[2].kernel: …".
    public static func explain(_ error: DecodingError) -> String {
        func path(_ p: [CodingKey]) -> String {
            let text = p.reduce("") { s, key in
                if let i = key.intValue { return s + "[\(i)]" }
                return s + (s.isEmpty ? "" : ".") + snakeCase(key.stringValue)
            }
            return text.isEmpty ? "top level" : text
        }
        switch error {
        case let .keyNotFound(key, context):
            return "at \(path(context.codingPath)): missing key '\(snakeCase(key.stringValue))'"
        case let .typeMismatch(type, context):
            return "at \(path(context.codingPath)): expected \(type)"
        case let .valueNotFound(type, context):
            return "at \(path(context.codingPath)): expected \(type), found null"
        case let .dataCorrupted(context):
            return "at \(path(context.codingPath)): \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }
}
