import SpikeTensor

/// A synaptic layer followed by LIF neurons — the shape of `SpikingConv2d` and
/// `SpikingLinear`. The conforming class supplies its synapse and neuron; this extension
/// supplies the layer behaviour they share:
///
///     I = synapse(x)      for all T·B rows at once   [T, B, …]
///     o = LIF(I)          one fused scan over T       (membrane written over I)
///     backward:  dL/dx = synapse.backward(LIF.backward(dL/do))
public protocol SynapseThenLIF: Layer {
    associatedtype Synapse: Layer
    var synapse: Synapse { get }
    var lif: LIF { get }
    /// Rank of a valid input (5 for `[T, B, C, H, W]`, 3 for `[T, B, in]`).
    static var inputRank: Int { get }
}

extension SynapseThenLIF {
    public var parameters: [Parameter] { synapse.parameters }

    public var needsInputGradient: Bool {
        get { synapse.needsInputGradient }
        set { synapse.needsInputGradient = newValue }
    }

    /// false: inference, neither part keeps anything for `backward` (see `Layer.savesForBackward`).
    public var savesForBackward: Bool {
        get { synapse.savesForBackward }
        set { synapse.savesForBackward = newValue; lif.savesForBackward = newValue }
    }

    /// The synapse's step, then the neurons' step.
    public func makeStep(batch: Int, inputShape: [Int]) -> LayerStep {
        let synapseStep = synapse.makeStep(batch: batch, inputShape: inputShape)
        return ChainStep([synapseStep, lif.makeStep(batch: batch, inputShape: synapseStep.outputShape)], inputShape: inputShape)
    }

    /// Membrane potentials of the last forward (same shape as the output).
    public var membrane: Tensor { lif.membrane }

    public func forward(_ input: Tensor) -> Tensor {
        precondition(input.rank == Self.inputRank, "\(Self.self): input must have rank \(Self.inputRank), got \(input.shape)")
        var current = synapse.forward(input)
        return lif.forward(consuming: &current)   // membrane written over the current
    }

    public func backward(_ gradOutput: Tensor) -> Tensor { synapse.backward(lif.backward(gradOutput)) }

    /// As `backward`, with δu written over `gradOutput`'s storage (one `[T, B, …]` buffer less).
    public func backward(consuming gradOutput: inout Tensor) -> Tensor {
        synapse.backward(lif.backward(consuming: &gradOutput))
    }
}
