import SpikeTensor

/// Which kernels a `Sequential` runs its layers on: the one place where layer kinds choose a
/// kernel. Made once from the layers (`KernelPlan(layers, fusing:)`) and followed by
/// `Sequential.forward`, `backward` and `makeStep`.
///
/// - A spiking convolution followed by average or max pooling is one `.convLIFPool` stage: the
///   fused conv → LIF → pool passes (`ConvLIFPoolKernel`), which never write the convolution's
///   full-size spikes, taken at run time where the event-driven kernel applies to the input
///   (`SpikingConv2d.inferencePooled` / `trainingPooled`); elsewhere its two layers run one
///   after the other, the reference the fused passes are tested against. A spiking
///   convolution without a pool after it is such a stage too, with a 1×1 window (the identity:
///   conv and LIF in one pass per image, the currents never written out).
/// - Every other layer is a `.layer` stage on its own kernels.
///
/// `fusing: false` makes every layer a stage of its own (the reference composition).
public struct KernelPlan {
    public enum Stage {
        /// `layers[range]` = conv, pool (`AvgPool2d` of means or `MaxPool2d`, as `window` says),
        /// or conv alone (`pool` nil, `window` 1×1); `next`: the spiking convolution right after
        /// the stage, which then hands its dL/dx over channels-last (the fused backward's layout).
        case convLIFPool(conv: SpikingConv2d, pool: Layer?, window: FusedPool, range: Range<Int>, next: SpikingConv2d?)
        /// `layers[index]` alone; `convolution` when it is a spiking convolution (its dL/dx may
        /// be channels-last, see above).
        case layer(Layer, index: Int, convolution: SpikingConv2d?)
    }

    public let stages: [Stage]
    /// The index of the first layer after the first pooling layer (where a streaming pipeline
    /// may split the chain), nil when no layer follows a pooling layer.
    public let afterFirstPooling: Int?
    /// Every spiking convolution (a forward resets their channels-last dL/dx hand-over).
    public let convolutions: [SpikingConv2d]

    public init(_ layers: [Layer], fusing: Bool) {
        var stages: [Stage] = []
        var i = 0
        while i < layers.count {
            if fusing, let conv = layers[i] as? SpikingConv2d {
                let pool = i + 1 < layers.count ? layers[i + 1] : nil
                let window = pool.flatMap(Self.fusedPool)
                let end = window == nil ? i + 1 : i + 2
                let next = end < layers.count ? layers[end] as? SpikingConv2d : nil
                stages.append(.convLIFPool(conv: conv, pool: window == nil ? nil : pool, window: window ?? .average(1),
                                           range: i..<end, next: next))
                i = end
            } else {
                stages.append(.layer(layers[i], index: i, convolution: layers[i] as? SpikingConv2d))
                i += 1
            }
        }
        self.stages = stages
        convolutions = layers.compactMap { $0 as? SpikingConv2d }
        let firstPool = layers.firstIndex { $0 is AvgPool2d || $0 is MaxPool2d }
        afterFirstPooling = firstPool.flatMap { $0 + 1 < layers.count ? $0 + 1 : nil }
    }

    /// The pooling a fused pass can take over from `layer`: an average pool of means or a max
    /// pool (a pool of sums has no fused pass).
    static func fusedPool(_ layer: Layer) -> FusedPool? {
        if let pool = layer as? AvgPool2d, !pool.sums { return .average(pool.kernelSize) }
        if let pool = layer as? MaxPool2d { return .maximum(pool.kernelSize) }
        return nil
    }
}

extension KernelPlan {
    /// The kernels a neuron population runs on, chosen from its settings.
    public enum NeuronPath: Equatable {
        /// The paper's plain LIF: `LIF` on the fused C scans (`LIFKernel`), and after a
        /// convolution followed by average pooling the fused conv → LIF → pool pass.
        case lifKernels
        /// Any other model, reset, surrogate or learnt constant: `SpikingNeurons` on the C
        /// model steps (`NeuronStepKernels`, 8 lanes, the model, reset and surrogate hoisted out
        /// of the neuron loop; the Swift steps of `NeuronKernels` are their tested reference),
        /// never fused with its convolution or pool.
        case modelScan
    }

    /// Which kernels neurons of `settings` run on (the one place this is decided).
    public static func neuronPath(_ settings: NeuronSettings) -> NeuronPath {
        settings.isPlainLIF ? .lifKernels : .modelScan
    }

    /// `describe`'s words for it.
    public static func describe(_ settings: NeuronSettings) -> String {
        switch neuronPath(settings) {
        case .lifKernels: return "LIF scan (C, 8 lanes)"
        case .modelScan: return "\(settings.summary): model step scan (C, 8 lanes; not fused)"
        }
    }
}

extension KernelPlan {
    /// Puts every synaptic layer among `layers` (and their parts) on `kernel` (dense,
    /// event-driven or automatic by density) in place of its default: how the crossover
    /// measurement (`spikefuse-bench --profile-mm --kernel`) overrides the choice.
    public static func force(_ kernel: SynapticKernel, on layers: [Layer]) {
        for layer in layers.flatMap(\.parts) {
            if let l = layer as? Conv2d { l.kernel = kernel }
            if let l = layer as? Linear { l.kernel = kernel }
            if let l = layer as? RecurrentSpikingLinear { l.kernel = kernel }
        }
    }
}
