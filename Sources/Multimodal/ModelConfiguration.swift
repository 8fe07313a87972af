import Foundation

/// Which networks are trained and which losses are summed (paper §3.3–3.4).
public enum TrainingMode: String, Codable, Sendable, CaseIterable, CustomStringConvertible {
    /// Visual + auditory subnetworks fused by the attention cross-modal subnetwork; L = Lv + La + Lm.
    case multimodal
    /// Ablation (§3.4): the two output layers' spikes concatenated into two FC LIF layers; L = Lv + La + Lm.
    case multimodalNoAttention = "multimodal-noattention"
    /// The convolutional SNN alone (V-Network); L = Lv.
    case visual
    /// The recurrent SNN alone (A-Network); L = La.
    case audio

    public var description: String { rawValue }
    public var usesVisual: Bool { self != .audio }
    public var usesAudio: Bool { self != .visual }
    public var usesFusion: Bool { self == .multimodal || self == .multimodalNoAttention }

    /// Parses a mode name as written on the command line.
    public init(parsing text: String) throws {
        guard let mode = TrainingMode(rawValue: text) else {
            throw ConfigurationError.invalid("unknown mode '\(text)'; expected one of "
                + TrainingMode.allCases.map(\.rawValue).joined(separator: ", "))
        }
        self = mode
    }
}

/// What reads out the attention-weighted spikes of the two modalities (mode `multimodal`).
public enum AttentionReadout: String, Codable, Sendable, CaseIterable {
    /// The paper's eq. 5: one output LIF layer whose input current is `w_v·o_v + w_a·o_a`
    /// (`AttentionFusion`), trained end to end with the rate MSE.
    case outputNeuron = "neuron"
    /// This project's extension: no output neuron; the class scores are the weighted spike
    /// counts (`IntegratorFusion`, docs/results.md "The integrator readout").
    case integrator
}

/// A configuration value that cannot be used.
public enum ConfigurationError: Error, CustomStringConvertible, Equatable {
    case invalid(String)
    public var description: String {
        switch self { case .invalid(let s): return s }
    }
}

/// Sizes and neuron constants of the paper's networks (§2, §3.2). Every value is a setting;
/// the defaults are the paper's where it gives one (marked) and documented choices where
/// it is silent (see docs/model.md).
///
/// JSON keys (`snake_case`) match the `config` metadata of checkpoints and of the PyTorch
/// peer `bench/pytorch_reference.py`, so either side can load the other's weights.
public struct ModelConfiguration: Codable, Sendable, Equatable {
    public var mode: TrainingMode = .multimodal
    /// Timesteps T per sample (paper: 64).
    public var timesteps: Int = 64
    /// DVS polarity channels P: 2 (ON, OFF) or 1 (merged).
    public var polarities: Int = 2
    /// Side of the square visual input in pixels (paper: 28); must be divisible by 4.
    public var imageSize: Int = 28
    /// Output channels of `visual.conv1` and `visual.conv2` (paper: 32C3-AP2-32C3-AP2).
    public var visualChannels: [Int] = [32, 32]
    /// Width of `visual.fc1` (paper: 128).
    public var visualHidden: Int = 128
    /// Cochlea channels (N-TIDIGITS: 64).
    public var audioChannels: Int = 64
    /// Width of each recurrent layer `audio.rec1…rec3` (paper: 512R-512R-512R-10R).
    public var audioHidden: Int = 512
    /// Width H of `fusion.hidden` / `fusion.fc1` (not given in the paper; choice: 64).
    public var fusionHidden: Int = 64
    /// Classes C (10 digits).
    public var classes: Int = 10
    /// Membrane decay τ of the visual, auditory and cross-modal neurons (paper: 0.2, 0.1, 0.9).
    public var tauVisual: Float = 0.2
    public var tauAudio: Float = 0.1
    public var tauFusion: Float = 0.9
    /// Firing threshold Vth (paper: 0.5).
    public var threshold: Float = 0.5
    /// Width a of the rectangular surrogate gradient (paper: 1.0).
    public var surrogateWidth: Float = 1.0
    /// Dampening γ of the auditory neurons' surrogate, h(u) = (γ/a)·1{|u − V_th| < a/2}
    /// (`LIFParameters.surrogateDampening`). The paper's eq. 9 has γ = 1; this project's default
    /// 0.3 (Bellec et al., 2018) keeps the recurrent layers' BPTT from exploding: with γ = 1 the
    /// gradient of `audio.rec1` grows by 10⁶–10²³ over the 64 steps within two epochs at lr
    /// 1e-3 and training collapses (docs/model.md "The auditory network's surrogate"). The
    /// visual and cross-modal neurons, which have no recurrence, keep the paper's γ = 1.
    public var audioSurrogateDampening: Float = 0.3
    /// The attention fusion's readout: the paper's output neuron, or the integrator extension.
    public var attentionReadout: AttentionReadout = .outputNeuron
    /// A network described by the user (`--network FILE`); nil: the paper's network of `mode`
    /// (`PaperNetworks`). When set, it alone says the structure, and the fields above that it
    /// also fixes (mode, T, classes, input sizes) are derived from it (`init(network:)`).
    public var network: NetworkDescription?

    public init() {}

    /// The configuration of a described network: mode, T, classes and input sizes from it,
    /// the other settings (training-only ones, e.g. none today) at their defaults.
    public init(network d: NetworkDescription) throws {
        try NetworkBuilder.check(d)
        self.init()
        network = d
        mode = Self.mode(of: d)
        timesteps = d.timesteps
        classes = d.classes
        if let v = d.branch(.dvs) {
            polarities = v.input.shape[0]
            imageSize = v.input.shape[1]
        }
        if let a = d.branch(.cochlea) { audioChannels = a.input.shape[0] }
        if let f = d.fusion {
            fusionHidden = f.hidden
            attentionReadout = f.readout == .integrator ? .integrator : .outputNeuron
        }
    }

    /// The training mode a description implies: its branches and fusion.
    public static func mode(of d: NetworkDescription) -> TrainingMode {
        switch d.fusion?.kind {
        case .attention: return .multimodal
        case .concatenation: return .multimodalNoAttention
        case nil: return d.branch(.dvs) != nil ? .visual : .audio
        }
    }

    /// Checks the sizes fit together; throws a message naming the bad setting.
    public func validate() throws {
        func need(_ ok: Bool, _ message: String) throws {
            if !ok { throw ConfigurationError.invalid(message) }
        }
        if let network {
            do { try NetworkBuilder.check(network) } catch { throw ConfigurationError.invalid("network: \(error)") }
            try need(Self.mode(of: network) == mode, "the network '\(network.name)' is a \(Self.mode(of: network)) network, not \(mode)")
            try need(network.timesteps == timesteps && network.classes == classes,
                     "the network '\(network.name)' has T = \(network.timesteps) and \(network.classes) classes, the settings T = \(timesteps) and \(classes)")
            return
        }
        try need(timesteps > 0, "timesteps must be positive (got \(timesteps))")
        try need(polarities == 1 || polarities == 2, "polarities must be 1 or 2 (got \(polarities))")
        try need(imageSize > 0 && imageSize % 4 == 0,
                 "image_size must be a positive multiple of 4 (two 2×2 poolings; got \(imageSize))")
        try need(visualChannels.count == 2 && visualChannels.allSatisfy { $0 > 0 },
                 "visual_channels must be two positive numbers (got \(visualChannels))")
        try need(visualHidden > 0 && audioHidden > 0 && fusionHidden > 0 && audioChannels > 0,
                 "layer widths must be positive")
        try need(classes >= 2, "classes must be at least 2 (got \(classes))")
        try need(threshold > 0 && surrogateWidth > 0, "threshold and surrogate_width must be positive")
        try need(audioSurrogateDampening > 0 && audioSurrogateDampening <= 1,
                 "audio_surrogate_dampening must be in (0, 1] (got \(audioSurrogateDampening))")
        for (name, tau) in [("tau_visual", tauVisual), ("tau_audio", tauAudio), ("tau_fusion", tauFusion)] {
            try need(tau >= 0 && tau < 1, "\(name) must be in [0, 1) (got \(tau))")
        }
    }

    /// Shape `[P, H, W]` of one visual frame.
    public var visualFrameShape: [Int] { network?.branch(.dvs)?.input.shape ?? [polarities, imageSize, imageSize] }

    public var visualNeuron: LIFParameters {
        LIFParameters(tau: tauVisual, threshold: threshold, surrogateWidth: surrogateWidth)
    }
    public var audioNeuron: LIFParameters {
        LIFParameters(tau: tauAudio, threshold: threshold, surrogateWidth: surrogateWidth,
                      surrogateDampening: audioSurrogateDampening)
    }
    public var fusionNeuron: LIFParameters {
        LIFParameters(tau: tauFusion, threshold: threshold, surrogateWidth: surrogateWidth)
    }

    /// The configuration as one JSON object with `snake_case` keys (sorted), for checkpoint
    /// metadata and config.json. The keys are the property names in snake case; nothing else
    /// spells them.
    public func jsonString() -> String {
        String(decoding: try! Self.encoder.encode(self), as: UTF8.self)
    }

    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return encoder
    }

    /// The settings in which `self` (this run) and `other` (e.g. a checkpoint's) differ, one
    /// `"name: A here, B in other"` line per JSON key, sorted by name; empty when equal.
    public func differences(from other: ModelConfiguration, otherName: String = "the checkpoint") -> [String] {
        let mine = jsonFields(), theirs = other.jsonFields()
        return Set(mine.keys).union(theirs.keys).sorted().compactMap { key in
            let (a, b) = (mine[key] ?? "(unset)", theirs[key] ?? "(unset)")
            return a == b ? nil : "\(key): \(a) here, \(b) in \(otherName)"
        }
    }

    /// Each top-level JSON field as its compact JSON text.
    private func jsonFields() -> [String: String] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(jsonString().utf8)) as? [String: Any] else { return [:] }
        return object.mapValues { value in
            let data = try? JSONSerialization.data(withJSONObject: [value], options: [.sortedKeys])   // in an array: any value is valid JSON
            return data.map { String(decoding: $0.dropFirst().dropLast(), as: UTF8.self) } ?? "\(value)"
        }
    }

    /// Reads a configuration from JSON (checkpoint metadata "config", config.json's "model").
    /// Keys left out take their defaults; a key this version does not know is an error that
    /// names it (an option of an older version, or a typo), never silently ignored.
    public static func fromJSON(_ text: String) throws -> ModelConfiguration {
        guard let given = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] else {
            throw ConfigurationError.invalid("config is not a JSON object: \(text.prefix(80))")
        }
        return try fromJSONObject(given)
    }

    /// `fromJSON` on an already parsed object.
    public static func fromJSONObject(_ given: [String: Any]) throws -> ModelConfiguration {
        let defaults = try! JSONSerialization.jsonObject(with: encoder.encode(ModelConfiguration())) as! [String: Any]
        let unknown = Set(given.keys).subtracting(defaults.keys).subtracting(["network"]).sorted()
        guard unknown.isEmpty else {
            throw ConfigurationError.invalid("config: unknown setting\(unknown.count == 1 ? "" : "s") "
                + unknown.joined(separator: ", ") + " (known: " + defaults.keys.sorted().joined(separator: ", ")
                + "; settings removed in this version are listed in docs/model.md)")
        }
        let merged = defaults.merging(given) { _, new in new }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        do {
            let data = try JSONSerialization.data(withJSONObject: merged)
            let decoded = try decoder.decode(ModelConfiguration.self, from: data)
            // A described network fixes its own sizes: they are derived from it. A setting given
            // beside it that says otherwise (a mode, a τ) is an error naming it, never ignored.
            guard let network = decoded.network else { return decoded }
            let derived = try ModelConfiguration(network: network)
            let contradictions = decoded.differences(from: derived, otherName: "the network '\(network.name)'")
                .filter { line in given.keys.contains { $0 != "network" && line.hasPrefix($0 + ":") } }
            guard contradictions.isEmpty else {
                throw ConfigurationError.invalid("config: settings that contradict its network (the network alone "
                    + "says the structure and neurons): " + contradictions.joined(separator: "; "))
            }
            return derived
        } catch let error as ConfigurationError {
            throw error
        } catch let error as NetworkDescriptionError {
            throw ConfigurationError.invalid("config: network: \(error)")
        } catch let error as DecodingError {
            throw ConfigurationError.invalid("config is not a model configuration: \(NetworkDescription.explain(error))")
        } catch {
            throw ConfigurationError.invalid("config is not a model configuration: \(error)")
        }
    }
}
