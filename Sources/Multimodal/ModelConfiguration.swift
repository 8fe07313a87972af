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

/// How the attention weights `[w_v, w_a]` are produced from the attention layer's output.
public enum AttentionNormalisation: String, Codable, Sendable {
    /// The paper's eq. 5: the plain affine output of `fusion.attention`.
    case none
    /// `softmax` over the two weights, so `w_v + w_a = 1` and both are positive.
    case softmax
}

/// What the attention-weighted output spikes of the two modalities feed.
public enum AttentionReadout: String, Codable, Sendable {
    /// The paper's eq. 5: one output LIF layer whose input current is `w_v·o_v + w_a·o_a`
    /// (no weights of its own: a per-class weighted vote of the two heads).
    case sum
    /// An option: `concat(w_v·o_v, w_a·o_a)` → `fusion.fc1` 2C→H, LIF → `fusion.fc2` H→C, LIF,
    /// the same two FC layers as the ablation without attention, so that the with/without
    /// comparison differs only in the attention (docs/results.md, "What limits attention here").
    case fc
    /// An option: no output neurons. The fused output is the weighted current itself,
    /// `w_v[t]·o_v[t] + w_a[t]·o_a[t]` `[T, B, C]`, and the class scores are its sum over time
    /// (a non-spiking integrator without leak or threshold): the weighted vote of the two
    /// heads' spike counts. The paper's output LIF (Vth = 0.5) fires at any input of 0.5 or
    /// more, so for weights ≥ 0.5 it counts the union of the two heads' spikes and the weights
    /// change little; the integrator keeps them graded (docs/results.md, item 13).
    case integrator
}

/// How `fusion.attention` (the layer that outputs `[w_v, w_a]`) starts training.
public enum AttentionInitialisation: String, Codable, Sendable {
    /// PyTorch's default uniform initialisation, as every other layer (the paper does not say).
    case random
    /// An option: weights 0 and biases 1, so every sample starts at `w_v = w_a = 1`
    /// (`0.5` each with softmax). With the `.fc` readout the fusion then starts as exactly the
    /// ablation without attention, same seed, same `fusion.fc1`/`fc2`; training can only
    /// learn a departure from it (docs/results.md, "What limits attention here").
    case identity
}

/// The loss of the fused output, Lm in L = Lv + La + Lm (Lv and La stay the paper's rate MSE).
public enum FusionLoss: String, Codable, Sendable {
    /// The paper's eq. 7: MSE between the fused spike rates and the one-hot label.
    case rateMSE = "mse"
    /// An option: (2/T)·cross-entropy on the fused spike counts (`SpikeRateLoss.countCrossEntropyLoss`,
    /// weighted so that its gradient per spike stays within the rate MSE's 2/T), which rewards
    /// the right class out-firing the others rather than exact rates
    /// (docs/results.md, "What limits attention here", items 7 and 9).
    case countCrossEntropy = "ce"
}

/// Where the gradient of Lm goes.
public enum FusionGradient: String, Codable, Sendable {
    /// The paper's end-to-end STBP: Lm trains the fusion and, through it, both subnetworks,
    /// added to the gradients of Lv and La.
    case endToEnd = "end-to-end"
    /// An option: Lm trains the fusion's own parameters only; the subnetworks' output spikes
    /// enter the fusion as constants (PyTorch's `.detach()`), so each subnetwork trains on its
    /// own loss exactly as in its unimodal run of the same seed, and the attention learns to
    /// weigh two independently trained heads (docs/results.md, "What limits attention here",
    /// item 10).
    case fusionOnly = "fusion-only"
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
    /// The paper's plain affine attention weights, or softmax-normalised ones (an option).
    public var attentionNormalisation: AttentionNormalisation = .none
    /// What the attention-weighted spikes feed: the paper's weighted sum, or the ablation's FC layers.
    public var attentionReadout: AttentionReadout = .sum
    /// How `fusion.attention` starts: PyTorch-default random, or at `w_v = w_a = 1` (an option).
    public var attentionInit: AttentionInitialisation = .random
    /// Lm: the paper's rate MSE, or cross-entropy on the fused spike counts (an option).
    public var fusionLoss: FusionLoss = .rateMSE
    /// Whether Lm also trains the subnetworks (the paper) or only the fusion (an option).
    public var fusionGradient: FusionGradient = .endToEnd
    /// S in `[w_v, w_a] = S·softmax(z)` (softmax normalisation only; 1 = plain softmax). With
    /// S > 2·Vth the equal split S/2 is above the threshold, so a small drift of the weights
    /// no longer decides which head fires the output alone (docs/results.md, item 11).
    public var attentionScale: Float = 1

    public init() {}

    enum CodingKeys: String, CodingKey {
        case mode, timesteps, polarities, classes, threshold
        case imageSize = "image_size"
        case visualChannels = "visual_channels"
        case visualHidden = "visual_hidden"
        case audioChannels = "audio_channels"
        case audioHidden = "audio_hidden"
        case fusionHidden = "fusion_hidden"
        case tauVisual = "tau_visual"
        case tauAudio = "tau_audio"
        case tauFusion = "tau_fusion"
        case surrogateWidth = "surrogate_width"
        case attentionNormalisation = "attention_normalisation"
        case attentionReadout = "attention_readout"
        case attentionInit = "attention_init"
        case fusionLoss = "fusion_loss"
        case fusionGradient = "fusion_gradient"
        case attentionScale = "attention_scale"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = ModelConfiguration()
        mode = try c.decodeIfPresent(TrainingMode.self, forKey: .mode) ?? d.mode
        timesteps = try c.decodeIfPresent(Int.self, forKey: .timesteps) ?? d.timesteps
        polarities = try c.decodeIfPresent(Int.self, forKey: .polarities) ?? d.polarities
        imageSize = try c.decodeIfPresent(Int.self, forKey: .imageSize) ?? d.imageSize
        visualChannels = try c.decodeIfPresent([Int].self, forKey: .visualChannels) ?? d.visualChannels
        visualHidden = try c.decodeIfPresent(Int.self, forKey: .visualHidden) ?? d.visualHidden
        audioChannels = try c.decodeIfPresent(Int.self, forKey: .audioChannels) ?? d.audioChannels
        audioHidden = try c.decodeIfPresent(Int.self, forKey: .audioHidden) ?? d.audioHidden
        fusionHidden = try c.decodeIfPresent(Int.self, forKey: .fusionHidden) ?? d.fusionHidden
        classes = try c.decodeIfPresent(Int.self, forKey: .classes) ?? d.classes
        tauVisual = try c.decodeIfPresent(Float.self, forKey: .tauVisual) ?? d.tauVisual
        tauAudio = try c.decodeIfPresent(Float.self, forKey: .tauAudio) ?? d.tauAudio
        tauFusion = try c.decodeIfPresent(Float.self, forKey: .tauFusion) ?? d.tauFusion
        threshold = try c.decodeIfPresent(Float.self, forKey: .threshold) ?? d.threshold
        surrogateWidth = try c.decodeIfPresent(Float.self, forKey: .surrogateWidth) ?? d.surrogateWidth
        attentionNormalisation = try c.decodeIfPresent(AttentionNormalisation.self,
                                                       forKey: .attentionNormalisation) ?? d.attentionNormalisation
        attentionReadout = try c.decodeIfPresent(AttentionReadout.self, forKey: .attentionReadout) ?? d.attentionReadout
        attentionInit = try c.decodeIfPresent(AttentionInitialisation.self, forKey: .attentionInit) ?? d.attentionInit
        fusionLoss = try c.decodeIfPresent(FusionLoss.self, forKey: .fusionLoss) ?? d.fusionLoss
        fusionGradient = try c.decodeIfPresent(FusionGradient.self, forKey: .fusionGradient) ?? d.fusionGradient
        attentionScale = try c.decodeIfPresent(Float.self, forKey: .attentionScale) ?? d.attentionScale
    }

    /// A warning when the integrator readout is trained by the rate MSE: its scores are
    /// weighted spike counts, not spikes, and the MSE asks their rates to equal a one-hot
    /// target, which rewards the head whose rates fit it rather than the more accurate one
    /// (docs/results.md, item 7). Nil otherwise.
    public var readoutLossWarning: String? {
        guard mode == .multimodal, attentionReadout == .integrator, fusionLoss == .rateMSE else { return nil }
        return "--attention-readout integrator with the rate-MSE Lm: the integrator's output is weighted spike counts, "
            + "not spikes, and the MSE fits their rates to a one-hot target. Use --fusion-loss ce (docs/model.md)"
    }

    /// A warning when the attention as configured can never train: `identity` with the sum
    /// readout starts every output neuron on sums of 0/1 spikes at a weight w₀ (1 with plain
    /// weights, S/2 with softmax scaled by S). When w₀ ≥ Vth + a/2 and Vth − a/2 ≥ 0 (the
    /// defaults: plain weights, or S ≥ 2) the membrane is 0 or ≥ w₀, never inside the surrogate
    /// window (Vth − a/2, Vth + a/2), so no gradient reaches the attention. Nil otherwise.
    public var attentionTrainingWarning: String? {
        // The start weight of each head: 1 (plain) or S/2 (softmax, scale S).
        let start = attentionNormalisation == .softmax ? attentionScale / 2 : 1
        guard mode == .multimodal, attentionInit == .identity, attentionReadout == .sum,
              threshold - surrogateWidth / 2 >= 0, start >= threshold + surrogateWidth / 2
        else { return nil }
        return "--attention-init identity with the sum readout starts at w_v = w_a = \(start), which never trains "
            + "the attention (no surrogate gradient there): the fusion stays an equal vote of the two heads. "
            + "Use --attention softmax (with --attention-scale below 2) or --attention-readout fc (docs/model.md)"
    }

    /// Checks the sizes fit together; throws a message naming the bad setting.
    public func validate() throws {
        func need(_ ok: Bool, _ message: String) throws {
            if !ok { throw ConfigurationError.invalid(message) }
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
        for (name, tau) in [("tau_visual", tauVisual), ("tau_audio", tauAudio), ("tau_fusion", tauFusion)] {
            try need(tau >= 0 && tau < 1, "\(name) must be in [0, 1) (got \(tau))")
        }
        try need(attentionScale > 0 && attentionScale.isFinite, "attention_scale must be positive (got \(attentionScale))")
        try need(attentionScale == 1 || attentionNormalisation == .softmax,
                 "attention_scale scales softmax weights: use it with attention_normalisation softmax")
    }

    /// Shape `[P, H, W]` of one visual frame.
    public var visualFrameShape: [Int] { [polarities, imageSize, imageSize] }

    public var visualNeuron: LIFParameters {
        LIFParameters(tau: tauVisual, threshold: threshold, surrogateWidth: surrogateWidth)
    }
    public var audioNeuron: LIFParameters {
        LIFParameters(tau: tauAudio, threshold: threshold, surrogateWidth: surrogateWidth)
    }
    public var fusionNeuron: LIFParameters {
        LIFParameters(tau: tauFusion, threshold: threshold, surrogateWidth: surrogateWidth)
    }

    /// The configuration as one JSON string (sorted keys), for checkpoint metadata.
    public func jsonString() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try! encoder.encode(self), as: UTF8.self)
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

    /// Reads the configuration from a JSON string (checkpoint metadata "config").
    public static func fromJSON(_ text: String) throws -> ModelConfiguration {
        do {
            return try JSONDecoder().decode(ModelConfiguration.self, from: Data(text.utf8))
        } catch {
            throw ConfigurationError.invalid("config JSON is not a model configuration: \(error)")
        }
    }
}
