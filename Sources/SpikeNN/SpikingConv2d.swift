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
public final class SpikingConv2d: Layer {
    public let conv: Conv2d
    public let lif: LIF
    public var parameters: [Parameter] { conv.parameters }
    public var needsInputGradient: Bool {
        get { conv.needsInputGradient }
        set { conv.needsInputGradient = newValue }
    }
    /// Dense or event-driven synaptic kernel (forwarded to `conv.kernel`).
    public var kernel: SynapticKernel {
        get { conv.kernel }
        set { conv.kernel = newValue }
    }
    /// Membrane potentials `[T, B, O, Ho, Wo]` of the last forward.
    public var membrane: Tensor { lif.membrane }

    public init(name: String, inChannels: Int, outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
                neuron: LIFParameters, rng: inout SeededGenerator) {
        conv = Conv2d(name: name, inChannels: inChannels, outChannels: outChannels, kernelSize: kernelSize,
                      stride: stride, padding: padding, rng: &rng)
        lif = LIF(neuron)
    }

    public func forward(_ input: Tensor) -> Tensor {
        precondition(input.rank == 5, "SpikingConv2d: input must be [T, B, C, H, W], got \(input.shape)")
        var current = conv.forward(input)
        return lif.forward(consuming: &current)   // membrane written over the current
    }

    /// false: inference, neither part keeps anything for `backward` (see `Layer.savesForBackward`).
    public var savesForBackward: Bool {
        get { conv.savesForBackward }
        set { conv.savesForBackward = newValue; lif.savesForBackward = newValue }
    }

    public func backward(_ gradOutput: Tensor) -> Tensor { conv.backward(lif.backward(gradOutput)) }

    /// As `backward`, with δu written over `gradOutput`'s storage (one `[T, B, …]` buffer less).
    public func backward(consuming gradOutput: inout Tensor) -> Tensor {
        conv.backward(lif.backward(consuming: &gradOutput))
    }
}
