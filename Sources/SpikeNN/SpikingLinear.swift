import SpikeTensor

/// Linear → LIF, multi-step: input `[T, B, in]` → spikes `[T, B, out]`.
///
/// `I[t] = W·x[t] + b` for all T·B rows in one GEMM, then one fused LIF scan over T.
/// Parameters `"<name>.weight"` `[out, in]`, `"<name>.bias"` `[out]`.
public final class SpikingLinear: SynapseThenLIF {
    public let linear: Linear
    public let lif: LIF
    /// Dense or event-driven synaptic kernel (forwarded to `linear.kernel`).
    public var kernel: SynapticKernel {
        get { linear.kernel }
        set { linear.kernel = newValue }
    }
    public init(name: String, inFeatures: Int, outFeatures: Int, neuron: LIFParameters, rng: inout SeededGenerator) {
        linear = Linear(name: name, inFeatures: inFeatures, outFeatures: outFeatures, rng: &rng)
        lif = LIF(neuron)
    }

    public var synapse: Linear { linear }
    public static var inputRank: Int { 3 }
}
