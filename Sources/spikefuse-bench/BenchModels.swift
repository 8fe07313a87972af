import SpikeNN

/// The paper's unimodal networks as used by the benchmark (same layers and sizes as the
/// Multimodal module builds; defined here so the benchmark measures the engine alone).
enum BenchModel: String, CaseIterable {
    case visual, auditory

    /// Visual: SpikingConv2d 2→32 3×3 pad 1 → AvgPool 2 → SpikingConv2d 32→32 → AvgPool 2 →
    /// Flatten 1568 → SpikingLinear 1568→128 → SpikingLinear 128→10, τ = 0.2.
    /// Auditory: RecurrentSpikingLinear 64→512→512→512→10, τ = 0.1.
    func makeNetwork(seed: UInt64) -> Sequential {
        var rng = SeededGenerator(seed: seed)
        switch self {
        case .visual:
            let lif = LIFParameters(tau: 0.2)
            return Sequential([
                SpikingConv2d(name: "visual.conv1", inChannels: 2, outChannels: 32, kernelSize: 3, padding: 1, neuron: lif, rng: &rng),
                AvgPool2d(kernelSize: 2),
                SpikingConv2d(name: "visual.conv2", inChannels: 32, outChannels: 32, kernelSize: 3, padding: 1, neuron: lif, rng: &rng),
                AvgPool2d(kernelSize: 2),
                Flatten(),
                SpikingLinear(name: "visual.fc1", inFeatures: 1568, outFeatures: 128, neuron: lif, rng: &rng),
                SpikingLinear(name: "visual.fc2", inFeatures: 128, outFeatures: 10, neuron: lif, rng: &rng),
            ])
        case .auditory:
            let lif = LIFParameters(tau: 0.1)
            return Sequential([
                RecurrentSpikingLinear(name: "audio.rnn1", inFeatures: 64, outFeatures: 512, neuron: lif, rng: &rng),
                RecurrentSpikingLinear(name: "audio.rnn2", inFeatures: 512, outFeatures: 512, neuron: lif, rng: &rng),
                RecurrentSpikingLinear(name: "audio.rnn3", inFeatures: 512, outFeatures: 512, neuron: lif, rng: &rng),
                RecurrentSpikingLinear(name: "audio.rnn4", inFeatures: 512, outFeatures: 10, neuron: lif, rng: &rng),
            ])
        }
    }

    /// One sample's shape without [T, B]: visual [2, 28, 28], auditory [64].
    var sampleShape: [Int] { self == .visual ? [2, 28, 28] : [64] }
}
