import SpikeTensor

/// What `spikefuse describe` prints of a branch: per built layer its output shape, parameter
/// count, dense multiply-adds per sample and time step, and the kernel path it takes.
public struct LayerSummary: Codable, Sendable, Equatable {
    /// e.g. "conv2d c1 5×5/2 + lif", "avgpool2d 2".
    public var layer: String
    public var outputShape: [Int]
    public var parameters: Int
    /// Dense multiply-adds per sample and time step (an event-driven kernel does fewer).
    public var macs: Int
    /// The kernels it runs on, in words.
    public var path: String

    public init(layer: String, outputShape: [Int], parameters: Int, macs: Int, path: String) {
        self.layer = layer
        self.outputShape = outputShape
        self.parameters = parameters
        self.macs = macs
        self.path = path
    }
}

extension NetworkBuilder {
    /// The summary of each layer `build` makes of `branch`, in order.
    public static func summary(of branch: BranchDescription, classes: Int) throws -> [LayerSummary] {
        let steps = try plan(branch, classes: classes)
        var rows: [LayerSummary] = []
        for (n, s) in steps.enumerated() {
            let items = Array(branch.layers[s.items])
            let spiking = items.count == 2 ? " + lif" : ""
            let pooledNext: FusedPool? = {
                guard n + 1 < steps.count else { return nil }
                switch branch.layers[steps[n + 1].items.lowerBound] {
                case .avgPool2d(let k): return .average(k)
                case .maxPool2d(let k): return .maximum(k)
                default: return nil
                }
            }()
            // The neurons of a spiking synapse or recurrent layer, and where they run when not the plain LIF.
            let neuron: NeuronSettings? = try {
                switch items.last! {
                case .lif(let n), .recurrent(_, _, let n): return try checked(n ?? branch.neuron, NetworkDescriptionError(""))
                default: return nil
                }
            }()
            let plain = neuron.map { KernelPlan.neuronPath($0) == .lifKernels } ?? true
            let neurons = plain || items.count == 1 && items[0].parameterName == nil ? "" : "; neurons: " + KernelPlan.describe(neuron!)
            let input = s.inputShape, out = s.outputShape
            let learnt = neuron.map { n -> Int in let c = n.learntCounts(shape: out); return c.tau + c.threshold } ?? 0
            let outCount = out.reduce(1, *)
            switch items[0] {
            case let .conv2d(name, channels, kernel, stride, padding):
                let g = Conv2dGeometry(inChannels: input[0], outChannels: channels, height: input[1], width: input[2],
                                       kernelSize: kernel, stride: stride, padding: padding)
                rows.append(LayerSummary(
                    layer: "conv2d \(name) \(kernel)×\(kernel)/\(stride) pad \(padding)\(spiking)", outputShape: out,
                    parameters: channels * input[0] * kernel * kernel + channels + learnt, macs: outCount * input[0] * kernel * kernel,
                    path: convolutionPath(g, spiking: !spiking.isEmpty && plain, pooledBy: pooledNext ?? .average(1),
                                          first: n == 0) + neurons))
            case let .linear(name, features):
                rows.append(LayerSummary(layer: "linear \(name)\(spiking)", outputShape: out,
                                         parameters: input[0] * features + features + learnt, macs: input[0] * features,
                                         path: "event-driven row product at ≤ 14 % input density, else OpenBLAS GEMM" + neurons))
            case let .recurrent(name, features, _):
                rows.append(LayerSummary(layer: "recurrent \(name) + lif", outputShape: out,
                                         parameters: input[0] * features + features + features * features + learnt,
                                         macs: input[0] * features + features * features,
                                         path: "input: event-driven or GEMM over all T; R·o[t−1]: event-driven or dense row product per step" + neurons))
            case .lif:
                rows.append(LayerSummary(layer: "lif", outputShape: out, parameters: 0, macs: 0, path: KernelPlan.describe(neuron!)))
            case .avgPool2d(let k):
                let fused = n > 0 && rows[n - 1].path.hasPrefix("fused")
                rows.append(LayerSummary(layer: "avgpool2d \(k)", outputShape: out, parameters: 0, macs: 0,
                                         path: fused ? "inside the fused pass above" : "plain pooling loop"))
            case .sumPool2d(let k):
                rows.append(LayerSummary(layer: "sumpool2d \(k)", outputShape: out, parameters: 0, macs: 0,
                                         path: "plain pooling loop (no fused pass for sums)"))
            case .maxPool2d(let k):
                let fused = n > 0 && rows[n - 1].path.hasPrefix("fused")
                rows.append(LayerSummary(layer: "maxpool2d \(k)", outputShape: out, parameters: 0, macs: 0,
                                         path: fused ? "inside the fused pass above"
                                             : k == 2 ? "2×2 branch-free loop" : "plain pooling loop"))
            case .flatten:
                rows.append(LayerSummary(layer: "flatten", outputShape: out, parameters: 0, macs: 0, path: "no copy"))
            case .dropout(let rate):
                rows.append(LayerSummary(layer: "dropout \(rate)", outputShape: out, parameters: 0, macs: 0,
                                         path: "training: one mask per sample over all T; inference: none"))
            }
        }
        return rows
    }

    /// The kernels a convolution runs on, from the same tests the layers make: the C event
    /// scatter (3×3 at stride 1 with a multiple of 32 outputs its specialised form), else the
    /// direct dense kernel (stride 1, a multiple of 8 outputs, on a CPU with AVX2 + FMA or
    /// AVX-512) or im2col + OpenBLAS; a spiking conv runs fused with its LIF and the average or
    /// max pool after it, if any.
    static func convolutionPath(_ g: Conv2dGeometry, spiking: Bool, pooledBy pool: FusedPool?, first: Bool) -> String {
        let scatter: String
        if g.stride != 1 {
            scatter = "event-driven C scatter (stride \(g.stride))"
        } else if EventConv2dKernel.takesThreeByThreePath(g) {
            scatter = "event-driven C scatter, 3×3 specialised (\(g.outChannels / 32) × 32 channels)"
        } else {
            scatter = "event-driven C scatter"
        }
        let dense = DenseKernels.replacesBLAS && DenseKernels.handlesConvolution(g) ? "direct dense C kernel" : "im2col + OpenBLAS"
        var path = scatter + " at ≤ 17 % input density, else \(dense)"
        if spiking, let pool, g.outputHeight >= pool.size, g.outputWidth >= pool.size {
            let training = first || ConvLIFPoolKernel.InputGradient.applies(to: g) ? "training and inference"
                : "inference (training runs it unfused: no direct dL/dx kernel for this shape)"
            path = (pool.size == 1 ? "fused conv → LIF" : "fused conv → LIF → \(pool)") + " in \(training); " + path
        }
        return path
    }
}
