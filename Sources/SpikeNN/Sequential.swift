/// Layers applied in order; backward runs them in reverse.
///
/// `needsInputGradient` reads and writes the first layer's flag (set it to false on a
/// network's first layer to skip the unused dL/d(input)); inner layers keep theirs.
public final class Sequential: Layer {
    public let layers: [Layer]
    public var parameters: [Parameter] { layers.flatMap { $0.parameters } }
    public var needsInputGradient: Bool {
        get { layers.first?.needsInputGradient ?? true }
        set { layers.first?.needsInputGradient = newValue }
    }

    /// Reads the first layer's flag; setting it sets every layer's (see `Layer.savesForBackward`).
    public var savesForBackward: Bool {
        get { layers.first?.savesForBackward ?? true }
        set { for layer in layers { layer.savesForBackward = newValue } }
    }

    public init(_ layers: [Layer]) { self.layers = layers }

    /// The layers' steps in order.
    public func makeStep(batch: Int, inputShape: [Int]) -> LayerStep {
        makeSteps(layers, batch: batch, inputShape: inputShape)
    }

    /// In inference mode a spiking convolution followed by average pooling runs as one fused
    /// pass (`SpikingConv2d.inferencePooled`, the same spikes) where its kernel is event-driven.
    public func forward(_ input: Tensor) -> Tensor {
        var x = input
        var i = 0
        while i < layers.count {
            if fusesPooling, let conv = layers[i] as? SpikingConv2d, i + 1 < layers.count,
               let pool = layers[i + 1] as? AvgPool2d, let pooled = conv.inferencePooled(x, poolSize: pool.kernelSize) {
                x = pooled
                i += 2
                continue
            }
            x = layers[i].forward(x)
            i += 1
        }
        return x
    }

    /// Whether inference may fuse conv → LIF → pool (true; false runs every layer on its own,
    /// the reference the tests compare the fused pass with).
    public var fusesPooling = true

    /// Each layer's gradient is handed on with `backward(consuming:)`, so a layer may write
    /// its result over the gradient it received (lower peak memory; same numbers).
    public func backward(_ gradOutput: Tensor) -> Tensor {
        var g = gradOutput
        for layer in layers.reversed() { g = layer.backward(consuming: &g) }
        return g
    }
}
