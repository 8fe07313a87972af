/// The paper's unimodal subnetworks, built from SpikeNN layers (§2.1, §2.2, Table 1).

/// The convolutional SNN for DVS frames (V-Network, 32C3-AP2-32C3-AP2-128-10, τ = 0.2).
///
/// input `[T, B, P, S, S]` → `visual.conv1` 3×3 P→c1 pad 1, LIF → avg-pool 2 →
/// `visual.conv2` 3×3 c1→c2 pad 1, LIF → avg-pool 2 → flatten `c2·(S/4)²` →
/// `visual.fc1` →h, LIF → `visual.fc2` h→C, LIF → output spikes `[T, B, C]`.
public func makeVisualNetwork(_ c: ModelConfiguration, rng: inout SeededGenerator) -> Sequential {
    let neuron = c.visualNeuron
    let pooled = c.imageSize / 4
    let network = Sequential([
        SpikingConv2d(name: "visual.conv1", inChannels: c.polarities, outChannels: c.visualChannels[0],
                      kernelSize: 3, stride: 1, padding: 1, neuron: neuron, rng: &rng),
        AvgPool2d(kernelSize: 2),
        SpikingConv2d(name: "visual.conv2", inChannels: c.visualChannels[0], outChannels: c.visualChannels[1],
                      kernelSize: 3, stride: 1, padding: 1, neuron: neuron, rng: &rng),
        AvgPool2d(kernelSize: 2),
        Flatten(),
        SpikingLinear(name: "visual.fc1", inFeatures: c.visualChannels[1] * pooled * pooled,
                      outFeatures: c.visualHidden, neuron: neuron, rng: &rng),
        SpikingLinear(name: "visual.fc2", inFeatures: c.visualHidden, outFeatures: c.classes,
                      neuron: neuron, rng: &rng),
    ])
    network.layers[0].needsInputGradient = false
    return network
}

/// The recurrent SNN for cochlea frames (A-Network, 512R-512R-512R-10R, τ = 0.1).
///
/// input `[T, B, 64]` → `audio.rec1` 64→h → `audio.rec2` h→h → `audio.rec3` h→h →
/// `audio.out` h→C, each `I[t] = W·x[t] + b + R·o[t−1]` followed by LIF → `[T, B, C]`.
/// (The paper's text says the recurrent input is the layer's own previous membrane
/// potential; its Table 1 and STBP [10] use recurrent spikes — see docs/model.md.)
public func makeAudioNetwork(_ c: ModelConfiguration, rng: inout SeededGenerator) -> Sequential {
    let neuron = c.audioNeuron
    let network = Sequential([
        RecurrentSpikingLinear(name: "audio.rec1", inFeatures: c.audioChannels, outFeatures: c.audioHidden,
                               neuron: neuron, rng: &rng),
        RecurrentSpikingLinear(name: "audio.rec2", inFeatures: c.audioHidden, outFeatures: c.audioHidden,
                               neuron: neuron, rng: &rng),
        RecurrentSpikingLinear(name: "audio.rec3", inFeatures: c.audioHidden, outFeatures: c.audioHidden,
                               neuron: neuron, rng: &rng),
        RecurrentSpikingLinear(name: "audio.out", inFeatures: c.audioHidden, outFeatures: c.classes,
                               neuron: neuron, rng: &rng),
    ])
    network.layers[0].needsInputGradient = false
    return network
}
