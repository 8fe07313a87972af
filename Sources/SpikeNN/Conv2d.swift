import SpikeTensor

/// 2-D convolution layer (no neuron), applied to every time step: input `[T, B, C, H, W]`
/// (or any `[…, C, H, W]`; leading dims are images) → `[T, B, O, Ho, Wo]`.
///
/// `y[n, o] = b[o] + Σ_c W[o, c] ⋆ x[n, c]` (cross-correlation, zero padding, as PyTorch).
/// All T·B images go through `Conv2dKernel` (im2col + GEMM, chunked), or, for sparse spike
/// input, `EventConv2dKernel` (forward and weight/bias gradients; dL/dx stays im2col + GEMM);
/// see `kernel`. Parameters
/// `"<name>.weight"` `[O, C, k, k]` then `"<name>.bias"` `[O]`, uniform in ±1/√(C·k·k).
public final class Conv2d: Layer {
    public let inChannels: Int
    public let outChannels: Int
    public let kernelSize: Int
    public let stride: Int
    public let padding: Int
    public let weight: Parameter
    public let bias: Parameter
    public var needsInputGradient = true
    /// im2col + GEMM, event-driven, or automatic by input density (default).
    public var kernel = SynapticKernel.standardConvolution
    public var parameters: [Parameter] { [weight, bias] }
    /// false: inference, `forward` keeps no input for `backward` (see `Layer.savesForBackward`).
    public var savesForBackward = true

    /// `backward` returns dL/dx channels-last, `[…, H, W, C]`: set by `Sequential` when the layer
    /// before is a fused conv → LIF → pool (`SpikingConv2d.backwardPooled`), which works in that
    /// layout, so the gradient is not transposed there and back.
    public internal(set) var writesChannelsLastInputGradient = false

    /// Keep a spike input (all 0/1) bit-packed for backward, 1 bit per element (`SavedInput`);
    /// false keeps it as Float32 (the oracle of the packed path in the tests).
    var packsSavedSpikes = true

    private var saved = SavedInput()
    /// Bytes of input kept for backward by the last forward.
    var savedInputByteCount: Int { saved.byteCount }
    private var savedSparse = false
    private var workspace = Conv2dWorkspace()
    private var weightTransposed: [Float] = []   // Wᵀ [C·k·k, O] for the event-driven forward
    private var eventScratch: [Float] = []

    public init(name: String, inChannels: Int, outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
                rng: inout SeededGenerator) {
        precondition(inChannels > 0 && outChannels > 0 && kernelSize > 0 && stride > 0 && padding >= 0,
                     "Conv2d \(name): invalid sizes")
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernelSize = kernelSize
        self.stride = stride
        self.padding = padding
        let fanIn = inChannels * kernelSize * kernelSize
        weight = Parameter.uniform(name: name + ".weight", shape: [outChannels, inChannels, kernelSize, kernelSize],
                                   fanIn: fanIn, rng: &rng)
        bias = Parameter.uniform(name: name + ".bias", shape: [outChannels], fanIn: fanIn, rng: &rng)
    }

    /// Keeps `input` for a backward that a fused kernel computes (`SpikingConv2d.trainingPooled`),
    /// packed as `forward` keeps it.
    func saveInput(_ input: Tensor) { saved = SavedInput(input, keep: true, pack: packsSavedSpikes) }

    /// The input kept by the last training forward (unpacked; `[0]` when nothing is kept).
    var savedInput: Tensor { saved.tensor() }

    /// Geometry for an input whose last three dims are `[C, H, W]`.
    public func geometry(for shape: [Int]) -> Conv2dGeometry {
        precondition(shape.count >= 3 && shape[shape.count - 3] == inChannels,
                     "Conv2d: input \(shape), expected [..., \(inChannels), H, W]")
        return Conv2dGeometry(inChannels: inChannels, outChannels: outChannels, height: shape[shape.count - 2],
                              width: shape[shape.count - 1], kernelSize: kernelSize, stride: stride, padding: padding)
    }

    /// One step: `y[t] = W ⋆ x[t] + b` for B images, event-driven over the active input pixels.
    public func makeStep(batch: Int, inputShape: [Int]) -> LayerStep {
        Conv2dStep(self, batch: batch, geometry: geometry(for: inputShape))
    }

    // input [T, B, C, H, W] → output [T, B, O, Ho, Wo]
    public func forward(_ input: Tensor) -> Tensor {
        let g = geometry(for: input.shape)
        let images = input.count / g.inputImageSize
        saved = SavedInput(input, keep: savesForBackward, pack: packsSavedSpikes)
        let outShape = Array(input.shape.dropLast(3)) + [outChannels, g.outputHeight, g.outputWidth]
        let sparse = input.withPointer { kernel.useSparse($0, count: input.count) }
        savedSparse = sparse
        if sparse {
            if weightTransposed.count != g.weightCount { weightTransposed = [Float](repeating: 0, count: g.weightCount) }
            weight.value.withPointer { w in
                weightTransposed.withUnsafeMutableBufferPointer {
                    SpikeMatmul.transpose(w, rows: g.outChannels, columns: g.patchSize, into: $0.baseAddress!)
                }
            }
            let need = EventConv2dKernel.forwardScratchCount(g)
            if eventScratch.count < need { eventScratch = [Float](repeating: 0, count: need) }
            return Tensor(shape: outShape) { y, _ in
                input.withPointer { x in
                    weightTransposed.withUnsafeBufferPointer { wt in
                        bias.value.withPointer { b in
                            eventScratch.withUnsafeMutableBufferPointer { scratch in
                                EventConv2dKernel.forward(input: x, images: images, geometry: g, weightTransposed: wt.baseAddress!,
                                                          bias: b, output: y, scratch: scratch.baseAddress!)
                            }
                        }
                    }
                }
            }
        }
        return Tensor(shape: outShape) { y, _ in
            input.withPointer { x in
                weight.value.withPointer { w in
                    bias.value.withPointer { b in
                        Conv2dKernel.forward(input: x, images: images, geometry: g, weight: w, bias: b,
                                             output: y, workspace: &workspace)
                    }
                }
            }
        }
    }

    // gradOutput [T, B, O, Ho, Wo] → gradInput [T, B, C, H, W]
    public func backward(_ gradOutput: Tensor) -> Tensor {
        precondition(savesForBackward, "Conv2d.backward after an inference forward (savesForBackward == false)")
        let savedInput = saved.tensor()
        let g = geometry(for: savedInput.shape)
        let images = savedInput.count / g.inputImageSize
        precondition(gradOutput.count == images * g.outputImageSize, "Conv2d: gradOutput \(gradOutput.shape) does not match forward")
        // [T, B, C, H, W], or [T, B, H, W, C] for a fused conv → LIF → pool before this layer
        let channelsLast = writesChannelsLastInputGradient
        let s = savedInput.shape, gradShape = channelsLast ? Array(s.dropLast(3)) + [s[s.count - 2], s[s.count - 1], s[s.count - 3]] : s
        var gradInput = needsInputGradient ? Tensor(shape: gradShape) { _, _ in } : emptyGradient
        let wantInput = needsInputGradient
        let sparse = savedSparse
        if sparse {
            let need = EventConv2dKernel.gradientScratchCount(g, images: images)
            if eventScratch.count < need { eventScratch = [Float](repeating: 0, count: need) }
            gradOutput.withPointer { dY in
                savedInput.withPointer { x in
                    weight.grad.withMutablePointer { dW in
                        bias.grad.withMutablePointer { dB in
                            eventScratch.withUnsafeMutableBufferPointer { scratch in
                                EventConv2dKernel.accumulateParameterGradients(
                                    gradOutput: dY, input: x, images: images, geometry: g, gradWeight: dW, gradBias: dB,
                                    scratch: scratch.baseAddress!)
                            }
                        }
                    }
                }
            }
        }
        gradOutput.withPointer { dY in
            savedInput.withPointer { x in
                weight.value.withPointer { w in
                    weight.grad.withMutablePointer { dW in
                        bias.grad.withMutablePointer { dB in
                            gradInput.withMutablePointer { dX in
                                Conv2dKernel.backward(gradOutput: dY, input: x, images: images, geometry: g, weight: w,
                                                      gradWeight: sparse ? nil : dW, gradBias: sparse ? nil : dB,
                                                      gradInput: wantInput ? dX : nil, gradInputChannelsLast: channelsLast,
                                                      workspace: &workspace)
                            }
                        }
                    }
                }
            }
        }
        return gradInput
    }
}

/// The step of `Conv2d`: x[t] [B, C, H, W] → y[t] [B, O, Ho, Wo] = W ⋆ x[t] + b
/// (`EventConv2dKernel`, the event-driven kernel of the multi-step forward).
final class Conv2dStep: LayerStep {
    let conv: Conv2d
    let batch: Int
    let geometry: Conv2dGeometry
    let weight: TransposedWeight
    let output: StepBuffer
    let scratch: StepBuffer
    var outputShape: [Int] { [geometry.outChannels, geometry.outputHeight, geometry.outputWidth] }
    init(_ conv: Conv2d, batch: Int, geometry: Conv2dGeometry) {
        self.conv = conv
        self.batch = batch
        self.geometry = geometry
        weight = TransposedWeight(conv.weight)
        output = StepBuffer(batch * geometry.outputImageSize)
        scratch = StepBuffer(EventConv2dKernel.forwardScratchCount(geometry))
    }
    func step(_ input: UnsafePointer<Float>) -> UnsafePointer<Float> {
        conv.bias.value.withPointer { b in
            EventConv2dKernel.forward(input: input, images: batch, geometry: geometry, weightTransposed: weight.pointer,
                                      bias: b, output: output.pointer, scratch: scratch.pointer)
        }
        return UnsafePointer(output.pointer)
    }
    func reset() {}
}
