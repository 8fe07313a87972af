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

    /// The layers' steps in order, one per layer. A spiking convolution followed by average
    /// pooling steps fused (`ConvLIFPoolStep`, the same pooled spikes) when `fusesPooling`; the
    /// pool's slot then passes its input on (`PassThroughStep`).
    public func makeStep(batch: Int, inputShape: [Int]) -> LayerStep {
        guard fusesPooling else { return makeSteps(layers, batch: batch, inputShape: inputShape) }
        var steps: [LayerStep] = []
        var shape = inputShape
        var i = 0
        while i < layers.count {
            if let conv = layers[i] as? SpikingConv2d, i + 1 < layers.count, let pool = layers[i + 1] as? AvgPool2d,
               shape.count == 3 {
                let g = conv.conv.geometry(for: shape)
                if g.outputHeight >= pool.kernelSize && g.outputWidth >= pool.kernelSize {
                    let fused = ConvLIFPoolStep(conv, poolSize: pool.kernelSize, batch: batch, inputShape: shape)
                    shape = fused.outputShape
                    steps += [fused, PassThroughStep(shape: shape)]
                    i += 2
                    continue
                }
            }
            let step = layers[i].makeStep(batch: batch, inputShape: shape)
            shape = step.outputShape
            steps.append(step)
            i += 1
        }
        return ChainStep(steps, inputShape: inputShape)
    }

    /// A spiking convolution followed by average pooling runs as one fused pass where its
    /// kernel is event-driven: in inference `SpikingConv2d.inferencePooled` (the same spikes),
    /// in training `SpikingConv2d.trainingPooled` (the same spikes and membranes; its backward
    /// `backwardPooled`, which also gives dL/dx where the layer needs it).
    public func forward(_ input: Tensor) -> Tensor {
        var x = input
        var i = 0
        fusedInTraining = []
        for layer in layers { (layer as? SpikingConv2d)?.conv.writesChannelsLastInputGradient = false }
        while i < layers.count {
            if fusesPooling, let conv = layers[i] as? SpikingConv2d, i + 1 < layers.count,
               let pool = layers[i + 1] as? AvgPool2d {
                if let pooled = conv.inferencePooled(x, poolSize: pool.kernelSize) {
                    x = pooled
                    i += 2
                    continue
                }
                if let pooled = conv.trainingPooled(x, poolSize: pool.kernelSize) {
                    fusedInTraining.insert(i)
                    // The convolution after the pool hands its dL/dx over channels-last, the
                    // layout of the fused backward.
                    if i + 2 < layers.count, let next = layers[i + 2] as? SpikingConv2d {
                        next.conv.writesChannelsLastInputGradient = true
                    }
                    x = pooled
                    i += 2
                    continue
                }
            }
            x = layers[i].forward(x)
            i += 1
        }
        return x
    }

    /// Whether conv → LIF → pool may run fused (true; false runs every layer on its own, the
    /// reference the tests compare the fused passes with).
    public var fusesPooling = true

    /// Indices of the convolutions that the last forward ran fused with their pool in training.
    private var fusedInTraining: Set<Int> = []

    /// Each layer's gradient is handed on with `backward(consuming:)`, so a layer may write
    /// its result over the gradient it received (lower peak memory; same numbers).
    public func backward(_ gradOutput: Tensor) -> Tensor {
        var g = gradOutput
        var channelsLast = false   // whether g is laid out [T, B, H, W, C]
        var i = layers.count - 1
        while i >= 0 {
            if i >= 1, fusedInTraining.contains(i - 1), let conv = layers[i - 1] as? SpikingConv2d {
                g = conv.backwardPooled(g, channelsLast: channelsLast)
                channelsLast = conv.needsInputGradient && conv.conv.writesChannelsLastInputGradient
                i -= 2
                continue
            }
            precondition(!channelsLast, "Sequential: a channels-last gradient reached a layer other than a fused conv → pool")
            g = layers[i].backward(consuming: &g)
            channelsLast = (layers[i] as? SpikingConv2d)?.conv.writesChannelsLastInputGradient ?? false
            i -= 1
        }
        return g
    }
}
