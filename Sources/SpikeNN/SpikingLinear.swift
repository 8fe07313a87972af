/// Linear → LIF, multi-step: input `[T, B, in]` → spikes `[T, B, out]`.
///
/// `I[t] = W·x[t] + b` for all T·B rows in one GEMM, then one fused LIF scan over T.
/// Parameters `"<name>.weight"` `[out, in]`, `"<name>.bias"` `[out]`.
public final class SpikingLinear: Layer {
    public let linear: Linear
    public let lif: LIF
    public var parameters: [Parameter] { linear.parameters }
    public var needsInputGradient: Bool {
        get { linear.needsInputGradient }
        set { linear.needsInputGradient = newValue }
    }
    /// Dense or event-driven synaptic kernel (forwarded to `linear.kernel`).
    public var kernel: SynapticKernel {
        get { linear.kernel }
        set { linear.kernel = newValue }
    }
    /// Membrane potentials `[T, B, out]` of the last forward.
    public var membrane: Tensor { lif.membrane }

    public init(name: String, inFeatures: Int, outFeatures: Int, neuron: LIFParameters, rng: inout SeededGenerator) {
        linear = Linear(name: name, inFeatures: inFeatures, outFeatures: outFeatures, rng: &rng)
        lif = LIF(neuron)
    }

    public func forward(_ input: Tensor) -> Tensor {
        precondition(input.rank == 3, "SpikingLinear: input must be [T, B, in], got \(input.shape)")
        var current = linear.forward(input)
        return lif.forward(consuming: &current)   // membrane written over the current
    }

    /// false: inference, neither part keeps anything for `backward` (see `Layer.savesForBackward`).
    public var savesForBackward: Bool {
        get { linear.savesForBackward }
        set { linear.savesForBackward = newValue; lif.savesForBackward = newValue }
    }

    public func backward(_ gradOutput: Tensor) -> Tensor { linear.backward(lif.backward(gradOutput)) }

    /// As `backward`, with δu written over `gradOutput`'s storage (one `[T, B, …]` buffer less).
    public func backward(consuming gradOutput: inout Tensor) -> Tensor {
        linear.backward(lif.backward(consuming: &gradOutput))
    }
}
