import SpikeTensor

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

    public init(_ layers: [Layer]) {
        self.layers = layers
        plan = KernelPlan(layers, fusing: true)
    }

    /// The kernels the layers run on (`KernelPlan`).
    public private(set) var plan: KernelPlan

    /// Whether conv → LIF → pool stages may run fused (true); false runs every layer on its own,
    /// the reference composition the fused passes are tested and benchmarked against.
    public var fusesPooling = true {
        didSet { plan = KernelPlan(layers, fusing: fusesPooling) }
    }

    /// The layers' steps in order, one per layer. A conv → LIF → pool stage steps fused
    /// (`ConvLIFPoolStep`, the same pooled spikes); the pool's slot, if any, then passes its
    /// input on (`PassThroughStep`), so the chain keeps one step per layer.
    public func makeStep(batch: Int, inputShape: [Int]) -> LayerStep {
        var steps: [LayerStep] = []
        var shape = inputShape
        for stage in plan.stages {
            switch stage {
            case let .convLIFPool(conv, pool, window, _, _) where shape.count == 3:
                let g = conv.conv.geometry(for: shape)
                if g.outputHeight >= window.size && g.outputWidth >= window.size {
                    let fused = ConvLIFPoolStep(conv, pool: window, batch: batch, inputShape: shape)
                    shape = fused.outputShape
                    steps += pool == nil ? [fused] : [fused, PassThroughStep(shape: shape)]
                    continue
                }
                fallthrough
            default:
                for layer in stage.layers {
                    let step = layer.makeStep(batch: batch, inputShape: shape)
                    shape = step.outputShape
                    steps.append(step)
                }
            }
        }
        return ChainStep(steps, inputShape: inputShape)
    }

    /// The stages of `plan` in order. A conv → LIF → pool stage runs as one fused pass where
    /// its kernel is event-driven: in inference `SpikingConv2d.inferencePooled` (the same
    /// spikes), in training `SpikingConv2d.trainingPooled` (the same spikes and membranes; its
    /// backward `backwardPooled`, which also gives dL/dx where the layer needs it); elsewhere
    /// its two layers run one after the other.
    public func forward(_ input: Tensor) -> Tensor {
        var x = input
        fusedInTraining = []
        for conv in plan.convolutions { conv.conv.writesChannelsLastInputGradient = false }
        for (s, stage) in plan.stages.enumerated() {
            if case let .convLIFPool(conv, _, window, _, next) = stage {
                if let pooled = conv.inferencePooled(x, pool: window) {
                    x = pooled
                    continue
                }
                if let pooled = conv.trainingPooled(x, pool: window) {
                    fusedInTraining.insert(s)
                    // The convolution after the pool hands its dL/dx over channels-last, the
                    // layout of the fused backward.
                    next?.conv.writesChannelsLastInputGradient = true
                    x = pooled
                    continue
                }
            }
            for layer in stage.layers { x = layer.forward(x) }
        }
        return x
    }

    /// Stages that the last forward ran fused in training.
    private var fusedInTraining: Set<Int> = []

    /// Each layer's gradient is handed on with `backward(consuming:)`, so a layer may write
    /// its result over the gradient it received (lower peak memory; same numbers).
    public func backward(_ gradOutput: Tensor) -> Tensor {
        var g = gradOutput
        var channelsLast = false   // whether g is laid out [T, B, H, W, C]
        for (s, stage) in plan.stages.enumerated().reversed() {
            if fusedInTraining.contains(s), case let .convLIFPool(conv, _, _, _, _) = stage {
                g = conv.backwardPooled(g, channelsLast: channelsLast)
                channelsLast = conv.needsInputGradient && conv.conv.writesChannelsLastInputGradient
                continue
            }
            precondition(!channelsLast, "Sequential: a channels-last gradient reached a layer other than a fused conv → pool")
            for layer in stage.layers.reversed() { g = layer.backward(consuming: &g) }
            // A convolution right after a fused pair writes its dL/dx channels-last, fused or not.
            switch stage {
            case let .convLIFPool(conv, _, _, _, _): channelsLast = conv.conv.writesChannelsLastInputGradient
            case let .layer(_, _, convolution): channelsLast = convolution?.conv.writesChannelsLastInputGradient ?? false
            }
        }
        return g
    }
}

extension KernelPlan.Stage {
    /// The stage's layers in order.
    var layers: [Layer] {
        switch self {
        case let .convLIFPool(conv, pool, _, _, _): return [conv] + (pool.map { [$0] } ?? [])
        case let .layer(layer, _, _): return [layer]
        }
    }
}
