/// Conv2d → LIF, multi-step: input spikes `[T, B, C, H, W]` → output spikes `[T, B, O, Ho, Wo]`.
///
/// `I[t] = W ⋆ x[t] + b` for all T·B images at once (im2col + GEMM), then one fused LIF scan
/// over T. Parameters `"<name>.weight"` `[O, C, k, k]`, `"<name>.bias"` `[O]`.
///
/// ```swift
/// var rng = SeededGenerator(seed: 0)
/// let conv = SpikingConv2d(name: "visual.conv1", inChannels: 2, outChannels: 32, kernelSize: 3,
///                          padding: 1, neuron: LIFParameters(tau: 0.2), rng: &rng)
/// let spikes = conv.forward(x)          // x [T, B, 2, 28, 28] → [T, B, 32, 28, 28]
/// ```
public final class SpikingConv2d: SynapseThenLIF {
    public let conv: Conv2d
    public let lif: LIF
    /// Dense or event-driven synaptic kernel (forwarded to `conv.kernel`).
    public var kernel: SynapticKernel {
        get { conv.kernel }
        set { conv.kernel = newValue }
    }
    public init(name: String, inChannels: Int, outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
                neuron: LIFParameters, rng: inout SeededGenerator) {
        conv = Conv2d(name: name, inChannels: inChannels, outChannels: outChannels, kernelSize: kernelSize,
                      stride: stride, padding: padding, rng: &rng)
        lif = LIF(neuron)
    }

    public var synapse: Conv2d { conv }
    public static var inputRank: Int { 5 }
}
