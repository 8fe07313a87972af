import Foundation
import Synchronization

/// The paper's networks (§2, Table 1) as the description files shipped in `Networks/`
/// (paper-multimodal, paper-multimodal-noattention, paper-visual, paper-audio): the one place
/// their structure is written. `ModelConfiguration`'s size and neuron settings (`--config`,
/// the data's input sizes) are applied to a file by role, never by rewriting the structure:
///
/// - the dvs branch's input `[P, S, S]`, its conv layers' channels (`visual_channels`, in
///   order), its linear layers' widths (`visual_hidden`; the last one `classes`);
/// - the cochlea branch's input `[N]`, its recurrent widths (`audio_hidden`; the last `classes`);
/// - each branch's neuron (`tau_visual` / `tau_audio`, `threshold`, `surrogate_width`,
///   `audio_surrogate_dampening`), the fusion's width, neuron and readout.
///
/// With the defaults of `ModelConfiguration` the result is the file itself (tested).
public enum PaperNetworks {
    /// The shipped file of `mode`'s network.
    public static func url(_ mode: TrainingMode) -> URL? {
        Bundle.module.url(forResource: "paper-\(mode.rawValue)", withExtension: "json", subdirectory: "Networks")
    }

    /// The shipped description of `mode`'s network, as in the file (read once per process:
    /// every `MultimodalNetwork`, its replicas included, builds from it).
    public static func shipped(_ mode: TrainingMode) throws -> NetworkDescription {
        try cache.withLock { loaded in
            if let d = loaded[mode] { return d }
            let d = try read(mode)
            loaded[mode] = d
            return d
        }
    }

    private static let cache = Mutex<[TrainingMode: NetworkDescription]>([:])

    private static func read(_ mode: TrainingMode) throws -> NetworkDescription {
        guard let url = url(mode) else {
            throw NetworkDescriptionError("the shipped network file paper-\(mode.rawValue).json is missing from the "
                + "SpikeFuse_Multimodal resources (rebuild with `swift build`)")
        }
        return try NetworkDescription.load(url)
    }

    /// The shipped starting points beside the paper's networks (docs/networks.md): a recurrent
    /// adaptive-LIF network for SHD-shaped input and a PLIF convolutional network for
    /// DVS128-Gesture-shaped input downsampled to 2×32×32. No accuracy is claimed for them.
    public static let examples = ["example-shd-adaptive", "example-dvs-gesture-plif"]

    /// The shipped example `name` (one of `examples`), nil for another name.
    public static func example(_ name: String) throws -> NetworkDescription? {
        guard examples.contains(name) else { return nil }
        guard let url = Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Networks") else {
            throw NetworkDescriptionError("the shipped network file \(name).json is missing from the "
                + "SpikeFuse_Multimodal resources (rebuild with `swift build`)")
        }
        return try NetworkDescription.load(url)
    }

    /// The network of `c`: its own description when it carries one, else the paper's network
    /// of `c.mode` with `c`'s settings applied.
    public static func description(_ c: ModelConfiguration) throws -> NetworkDescription {
        if let network = c.network { return network }
        var d = try shipped(c.mode)
        d.timesteps = c.timesteps
        d.classes = c.classes
        for i in d.branches.indices {
            switch d.branches[i].input.modality {
            case .dvs:
                d.branches[i].input.shape = c.visualFrameShape
                d.branches[i].neuron = NeuronDescription(c.visualNeuron)
                try resize(&d.branches[i], convolutions: c.visualChannels, hidden: c.visualHidden, classes: c.classes)
            case .cochlea:
                d.branches[i].input.shape = [c.audioChannels]
                d.branches[i].neuron = NeuronDescription(c.audioNeuron)
                try resize(&d.branches[i], convolutions: [], hidden: c.audioHidden, classes: c.classes)
            }
        }
        if d.fusion != nil {
            d.fusion!.hidden = c.fusionHidden
            d.fusion!.neuron = NeuronDescription(c.fusionNeuron)
            if d.fusion!.kind == .attention {
                d.fusion!.readout = c.attentionReadout == .integrator ? .integrator : .neuron
            }
        }
        try NetworkBuilder.check(d)
        return d
    }

    /// Sets a branch's conv channels in order, its linear and recurrent widths to `hidden`, and
    /// the last such layer's width to `classes`.
    private static func resize(_ b: inout BranchDescription, convolutions: [Int], hidden: Int, classes: Int) throws {
        var conv = 0
        let last = b.layers.lastIndex { $0.parameterName != nil }
        for i in b.layers.indices {
            let width = i == last ? classes : hidden
            switch b.layers[i] {
            case let .conv2d(name, _, kernel, stride, padding):
                guard conv < convolutions.count else {
                    throw NetworkDescriptionError("branch '\(b.name)' has more conv layers than visual_channels \(convolutions)")
                }
                b.layers[i] = .conv2d(name: name, channels: convolutions[conv], kernel: kernel, stride: stride, padding: padding)
                conv += 1
            case let .linear(name, _): b.layers[i] = .linear(name: name, features: width)
            case let .recurrent(name, _, neuron): b.layers[i] = .recurrent(name: name, features: width, neuron: neuron)
            default: break
            }
        }
        guard conv == convolutions.count else {
            throw NetworkDescriptionError("branch '\(b.name)' has \(conv) conv layers, visual_channels gives \(convolutions.count)")
        }
    }
}
