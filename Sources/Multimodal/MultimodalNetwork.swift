/// The paper's whole network (Fig. 1): visual and auditory subnetworks, the cross-modal
/// fusion, and the loss `L = Lv + La + Lm` (eq. 6) trained end to end with STBP.

/// Output spikes of each head for one batch, each `[T, B, C]` (absent when the mode lacks it).
public struct HeadOutputs {
    public var visual: Tensor?
    public var audio: Tensor?
    public var fusion: Tensor?
    /// `[T, B, 2]` attention weights (w_v, w_a), multimodal attention mode only.
    public var attention: Tensor?

    /// The head whose prediction is the model's answer: fusion when present, else the only one.
    public var decisive: Tensor { (fusion ?? visual ?? audio)! }
}

/// The loss terms of one batch (eq. 6–7), each the batch mean of the spike-rate MSE.
public struct LossBreakdown: Sendable, Equatable {
    public var visual: Float = 0
    public var audio: Float = 0
    public var fusion: Float = 0
    /// `Lv + La + Lm` over the heads the mode trains.
    public var total: Float { visual + audio + fusion }
}

/// A weights file that does not fit the model.
public enum WeightsError: Error, CustomStringConvertible, Equatable {
    case missing(source: String, name: String)
    case shape(source: String, name: String, expected: [Int], found: [Int])
    case nonFinite(source: String, name: String, index: Int, value: Float)
    public var description: String {
        switch self {
        case let .missing(source, name):
            return "\(source): no tensor '\(name)' (the model needs it; wrong --mode or sizes?)"
        case let .shape(source, name, expected, found):
            return "\(source): tensor '\(name)' has shape \(found), the model needs \(expected)"
        case let .nonFinite(source, name, index, value):
            return "\(source): tensor '\(name)' holds \(value) at element \(index) (weights must be finite numbers)"
        }
    }
}

public final class MultimodalNetwork {
    public let configuration: ModelConfiguration
    public let visual: Sequential?
    public let audio: Sequential?
    public let fusion: FusionNetwork?

    /// Builds the network of `configuration` (its description, or the paper's network of its
    /// mode: `PaperNetworks.description`) with PyTorch-default initialisation. Each branch draws
    /// from its own generator derived from `seed`, so the visual weights of seed s are the same
    /// in every mode that has a visual branch.
    public init(_ configuration: ModelConfiguration, seed: UInt64) throws {
        try configuration.validate()
        self.configuration = configuration
        let d = try PaperNetworks.description(configuration)
        networkDescription = d
        var visualRNG = SeededGenerator(seed: seed &+ 0x5649_5355_414C)   // "VISUAL"
        var audioRNG = SeededGenerator(seed: seed &+ 0x4155_4449_4F)      // "AUDIO"
        var fusionRNG = SeededGenerator(seed: seed &+ 0x4655_5349_4F4E)   // "FUSION"
        visual = try d.branch(.dvs).map { try NetworkBuilder.build($0, classes: d.classes, rng: &visualRNG).0 }
        audio = try d.branch(.cochlea).map { try NetworkBuilder.build($0, classes: d.classes, rng: &audioRNG).0 }
        fusion = d.fusion?.makeFusion(classes: d.classes, rng: &fusionRNG)
    }

    /// What this network is: every layer, shape and neuron (`PaperNetworks`, or the user's file).
    public let networkDescription: NetworkDescription

    /// All parameters in canonical order: visual, audio, fusion; names as in checkpoints.
    public var parameters: [Parameter] {
        (visual?.parameters ?? []) + (audio?.parameters ?? []) + (fusion?.parameters ?? [])
    }

    /// Forward pass. `visualInput` `[T, B, P, S, S]`, `audioInput` `[T, B, 64]` (the ones the mode uses).
    public func forward(visual visualInput: Tensor?, audio audioInput: Tensor?) -> HeadOutputs {
        var out = HeadOutputs()
        if let visual {
            guard let visualInput else { preconditionFailure("mode \(configuration.mode) needs visual input") }
            out.visual = visual.forward(visualInput)
        }
        if let audio {
            guard let audioInput else { preconditionFailure("mode \(configuration.mode) needs audio input") }
            out.audio = audio.forward(audioInput)
        }
        if let fusion, let ov = out.visual, let oa = out.audio {
            out.fusion = fusion.forward(visual: ov, audio: oa)
            out.attention = fusion.attentionWeights
        }
        return out
    }

    /// Gives every dropout layer the seeds of the next forward's samples (`Dropout.sampleSeeds`).
    public func setDropoutSeeds(_ seeds: [UInt64]) {
        for branch in [visual, audio].compactMap({ $0 }) {
            for case let dropout as Dropout in branch.layers { dropout.sampleSeeds = seeds }
        }
    }

    /// Forward, loss and backward for one batch; gradients are ACCUMULATED into each
    /// parameter's `grad` (zero them first). The gradient of Lm flows through the fusion
    /// into both subnetworks, added to the gradients of Lv and La (end-to-end training), unless
    /// the fusion says otherwise (`FusionNetwork.trainsSubnetworks`, `loss`). `meanOver` (nil =
    /// this batch) averages the losses over a larger batch this one is a shard of.
    public func forwardBackward(visual visualInput: Tensor?, audio audioInput: Tensor?,
                                labels: [Int], meanOver: Int? = nil) -> (loss: LossBreakdown, outputs: HeadOutputs) {
        let out = forward(visual: visualInput, audio: audioInput)
        var loss = LossBreakdown()
        var gradVisual: Tensor?, gradAudio: Tensor?
        if let ov = out.visual {
            let (l, g) = SpikeRateLoss.mseLoss(spikes: ov, labels: labels, meanOver: meanOver)
            loss.visual = l; gradVisual = g
        }
        if let oa = out.audio {
            let (l, g) = SpikeRateLoss.mseLoss(spikes: oa, labels: labels, meanOver: meanOver)
            loss.audio = l; gradAudio = g
        }
        if let fusion, let om = out.fusion {
            let (l, g) = fusion.loss(om, labels: labels, meanOver: meanOver)
            loss.fusion = l
            let (gv, ga) = fusion.backward(g)           // the fusion's own parameter gradients accumulate here
            if fusion.trainsSubnetworks {
                addInPlace(&gradVisual!, gv)
                addInPlace(&gradAudio!, ga)
            }
        }
        if let visual, let g = gradVisual { _ = visual.backward(g) }
        if let audio, let g = gradAudio { _ = audio.backward(g) }
        return (loss, out)
    }

    /// The parameters as named tensors, for safetensors checkpoints (PyTorch names and layout).
    public func namedTensors() -> [(name: String, tensor: Tensor)] {
        parameters.map { ($0.name, $0.value) }
    }

    /// Loads parameters by name; every parameter must be present with the right shape and
    /// hold finite numbers only (a NaN or infinity is refused, naming the tensor and element).
    /// Nothing is loaded unless everything is valid. Extra tensors (optimiser state, other
    /// modes' layers) are ignored.
    public func load(_ tensors: [String: Tensor], source: String) throws {
        for p in parameters {
            guard let t = tensors[p.name] else { throw WeightsError.missing(source: source, name: p.name) }
            guard t.shape == p.value.shape else {
                throw WeightsError.shape(source: source, name: p.name, expected: p.value.shape, found: t.shape)
            }
            if let i = t.scalars.firstIndex(where: { !$0.isFinite }) {
                throw WeightsError.nonFinite(source: source, name: p.name, index: i, value: t.scalars[i])
            }
        }
        for p in parameters { p.value = tensors[p.name]! }
    }

    /// Whether the network is in training mode (`setTraining`).
    public var isTraining: Bool {
        visual?.savesForBackward ?? audio?.savesForBackward ?? fusion?.savesForBackward ?? true
    }

    /// Training (true, the default) or inference mode (false) for every layer: in inference
    /// mode no layer keeps inputs or membranes for backward (`Layer.savesForBackward`), so
    /// evaluation holds only the activations in flight. `forwardBackward` needs training mode.
    public func setTraining(_ training: Bool) {
        visual?.savesForBackward = training
        audio?.savesForBackward = training
        fusion?.savesForBackward = training
    }
}
