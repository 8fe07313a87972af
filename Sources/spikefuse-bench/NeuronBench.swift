import Foundation
import Multimodal

/// Each neuron model on the paper's auditory network shape (recurrent 64 → 512 → 512 → 512
/// → 10, the paper's audio neuron with one model setting changed), for `--neurons`: training
/// samples/s of every model in one run. The plain LIF runs on its C kernels; every other
/// variant on the model step scans (`KernelPlan.neuronPath`).
enum NeuronBench {
    /// Variant names and how each changes the paper's audio neuron (τ 0.1, V_th 0.5, γ 0.3).
    static let variants: [(name: String, change: @Sendable (inout NeuronDescription) -> Void)] = [
        ("lif", { _ in }),
        ("lif-subtract-arctan", { $0.reset = "subtract"; $0.surrogate = "arctan" }),
        ("plif", { $0.learnTau = "channel" }),
        ("lif-learnt-threshold", { $0.learnThreshold = "neuron" }),
        ("if", { $0.model = "if"; $0.tau = 1 }),
        ("cuba_lif", { $0.model = "cuba_lif"; $0.synapseTau = 0.5 }),
        ("adaptive_lif", { $0.model = "adaptive_lif"; $0.adaptationDecay = 0.98; $0.adaptationStrength = 0.5 }),
    ]

    /// The benchmark name of a variant: "auditory+<variant>".
    static func name(_ variant: String) -> String { "auditory+" + variant }

    /// The paper's audio neuron with `variant`'s change.
    static func neuron(_ variant: (name: String, change: @Sendable (inout NeuronDescription) -> Void)) -> NeuronDescription {
        do {
            var n = try PaperNetworks.shipped(.audio).branches[0].neuron
            variant.change(&n)
            return n
        } catch {
            fatalError("the shipped paper audio network does not load: \(error)")
        }
    }

    /// `neuron` as the JSON keys of docs/networks.md (for the PyTorch peer's `--neuron-json`).
    static func json(_ neuron: NeuronDescription) -> String {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try! encoder.encode(neuron), as: UTF8.self)
    }

    /// The auditory network with `variant`'s neuron in every layer, or nil for another name.
    static func network(_ name: String, seed: UInt64) -> Sequential? {
        guard name.hasPrefix("auditory+"), let v = variants.first(where: { Self.name($0.name) == name }) else { return nil }
        var rng = SeededGenerator(seed: seed)
        do {
            var d = try PaperNetworks.shipped(.audio)
            d.branches[0].neuron = neuron(v)
            return try NetworkBuilder.build(d.branches[0], classes: d.classes, rng: &rng).0
        } catch {
            fatalError("the auditory network with neuron \(v.name) does not build: \(error)")
        }
    }
}
