import SpikeTensor

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
public final class SpikingConv2d: SynapseThenLIF {
    public let conv: Conv2d
    public let lif: LIF
    /// The pool of the last `trainingPooled` forward that ran fused, for `backwardPooled`
    /// (`Sequential` records which forward took the fused pass; a plain forward leaves this as is).
    var pooledTraining: FusedPool?
    /// Dense or event-driven synaptic kernel (forwarded to `conv.kernel`).
    public var kernel: SynapticKernel {
        get { conv.kernel }
        set { conv.kernel = newValue }
    }
    public init(name: String, inChannels: Int, outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
                neuron: LIFParameters, rng: inout SeededGenerator) {
        conv = Conv2d(name: name, inChannels: inChannels, outChannels: outChannels, kernelSize: kernelSize,
                      stride: stride, padding: padding, rng: &rng)
        lif = LIF(neuron)
    }

    public var synapse: Conv2d { conv }
    public static var inputRank: Int { 5 }
}

extension SpikingConv2d {
    /// Inference of this layer followed by its pool (`AvgPool2d` or `MaxPool2d`) in one pass
    /// (`ConvLIFPoolKernel`: nothing of size `[T, B, O, Ho, Wo]` is written), or nil where that
    /// path does not apply: training mode, or an input dense enough that `conv.kernel` picks
    /// im2col + GEMM. The same spikes as `forward` then the pool (`ConvLIFPoolTests`).
    // input [T, B, C, H, W] → pooled spikes [T, B, O, Ho/k, Wo/k]
    public func inferencePooled(_ input: Tensor, pool: FusedPool) -> Tensor? {
        let k = pool.size
        guard !savesForBackward, let g = fusableGeometry(input, poolSize: k) else { return nil }
        let steps = input.shape[0], batch = input.shape[1]
        let weightTransposed = transposedWeight(g)
        var scratch = [Float](repeating: 0, count: Parallel.workers * ConvLIFPoolKernel.scratchCount(g))
        let neuron = lif.neuron
        return Tensor(shape: [steps, batch, g.outChannels, g.outputHeight / k, g.outputWidth / k]) { y, _ in
            input.withPointer { x in
                weightTransposed.withUnsafeBufferPointer { wt in
                    conv.bias.value.withPointer { b in
                        scratch.withUnsafeMutableBufferPointer { s in
                            ConvLIFPoolKernel.inference(input: x, steps: steps, batch: batch, geometry: g,
                                                        weightTransposed: wt.baseAddress!, bias: b, neuron: neuron,
                                                        pool: pool, output: y, scratch: s.baseAddress!)
                        }
                    }
                }
            }
        }
    }
}

extension SpikingConv2d {
    /// Training forward of this layer followed by its pool (`AvgPool2d` or `MaxPool2d`) in one pass
    /// (`ConvLIFPoolKernel.trainingForward`: of the `[T, B, …]` maps only the membranes are
    /// written, channels-last `[T, B, Ho, Wo, O]`), or nil where that path does not apply:
    /// inference, a layer whose dL/dx is needed where the fused backward cannot give it (no
    /// direct kernel here: `ConvLIFPoolKernel.InputGradient.applies`), or an input dense enough
    /// that `conv.kernel` picks im2col + GEMM. The same spikes and membranes as `forward` then
    /// the pool, gradients equal to rounding (`ConvLIFPoolTests`); its backward is `backwardPooled`.
    // input [T, B, C, H, W] → pooled spikes [T, B, O, Ho/k, Wo/k]; membrane [T, B, Ho, Wo, O] kept
    public func trainingPooled(_ input: Tensor, pool: FusedPool) -> Tensor? {
        pooledTraining = nil
        let k = pool.size
        guard savesForBackward, let g = fusableGeometry(input, poolSize: k),
              !needsInputGradient || ConvLIFPoolKernel.InputGradient.applies(to: g) else { return nil }
        let steps = input.shape[0], batch = input.shape[1]
        let weightTransposed = transposedWeight(g)
        var scratch = [Float](repeating: 0, count: Parallel.workers * ConvLIFPoolKernel.trainingForwardScratchCount(g))
        let neuron = lif.neuron
        lif.membrane = Tensor(zeros: [0])   // free the previous batch's membrane first
        var membrane = Tensor(shape: [steps, batch, g.outputHeight, g.outputWidth, g.outChannels]) { _, _ in }
        let pooled = Tensor(shape: [steps, batch, g.outChannels, g.outputHeight / k, g.outputWidth / k]) { y, _ in
            input.withPointer { x in
                membrane.withMutablePointer { u in
                    weightTransposed.withUnsafeBufferPointer { wt in
                        conv.bias.value.withPointer { b in
                            scratch.withUnsafeMutableBufferPointer { s in
                                ConvLIFPoolKernel.trainingForward(
                                    input: x, steps: steps, batch: batch, geometry: g, weightTransposed: wt.baseAddress!,
                                    bias: b, neuron: neuron, pool: pool, membrane: u, output: y, scratch: s.baseAddress!)
                            }
                        }
                    }
                }
            }
        }
        conv.saveInput(input)
        lif.membrane = membrane
        pooledTraining = pool
        return pooled
    }

    /// Backward of `trainingPooled` (conv, LIF and pool at once): accumulates the weight and
    /// bias gradients and returns dL/dx, laid out `[T, B, H, W, C]` when
    /// `conv.writesChannelsLastInputGradient` (else `[T, B, C, H, W]`), or an empty tensor where
    /// `needsInputGradient` is false.
    // gradOutput dL/dy [T, B, O, Ho/k, Wo/k] (channelsLast: [T, B, Ho/k, Wo/k, O]) → dL/dx or []
    public func backwardPooled(_ gradOutput: Tensor, channelsLast: Bool = false) -> Tensor {
        guard let pool = pooledTraining else { preconditionFailure("SpikingConv2d.backwardPooled without a trainingPooled forward") }
        let k = pool.size
        let input = conv.savedInput, membrane = lif.membrane
        let g = conv.geometry(for: input.shape)
        let steps = input.shape[0], batch = input.shape[1]
        precondition(gradOutput.count == steps * batch * g.outChannels * (g.outputHeight / k) * (g.outputWidth / k),
                     "SpikingConv2d.backwardPooled: gradOutput \(gradOutput.shape) does not match the forward")
        let inputChannelsLast = conv.writesChannelsLastInputGradient
        var gradInput = needsInputGradient
            ? Tensor(shape: inputChannelsLast ? [steps, batch, g.height, g.width, g.inChannels] : input.shape) { _, _ in }
            : emptyGradient
        let neuron = lif.neuron
        gradOutput.withPointer { dY in
            membrane.withPointer { u in
                input.withPointer { x in
                    conv.weight.value.withPointer { w in
                        gradInput.withMutablePointer { dX in
                            let pass = needsInputGradient
                                ? ConvLIFPoolKernel.InputGradient(weight: w, geometry: g, output: dX, channelsLast: inputChannelsLast)
                                : nil
                            var scratch = [Float](repeating: 0, count: ConvLIFPoolKernel.backwardScratchCount(
                                g, batch: batch, inputGradient: pass))
                            conv.weight.grad.withMutablePointer { dW in
                                conv.bias.grad.withMutablePointer { dB in
                                    scratch.withUnsafeMutableBufferPointer { s in
                                        ConvLIFPoolKernel.backward(gradOutput: dY, channelsLast: channelsLast, membrane: u,
                                                                   input: x, steps: steps, batch: batch, geometry: g,
                                                                   neuron: neuron, pool: pool, gradWeight: dW, gradBias: dB,
                                                                   inputGradient: pass, scratch: s.baseAddress!)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return gradInput
    }

    /// The geometry for a fused conv → LIF → pool pass over `input`, or nil where none applies:
    /// not `[T, B, C, H, W]`, an output smaller than one pool window, or an input dense enough
    /// that `conv.kernel` picks im2col + GEMM (the fused passes are event-driven).
    private func fusableGeometry(_ input: Tensor, poolSize k: Int) -> Conv2dGeometry? {
        guard input.rank == 5 else { return nil }
        let g = conv.geometry(for: input.shape)
        guard g.outputHeight >= k, g.outputWidth >= k,
              input.withPointer({ conv.kernel.useSparse($0, count: input.count) }) else { return nil }
        return g
    }

    /// Wᵀ [C·k·k, O] of the current weights (the event-driven kernels' layout).
    private func transposedWeight(_ g: Conv2dGeometry) -> [Float] {
        var weightTransposed = [Float](repeating: 0, count: g.weightCount)
        conv.weight.value.withPointer { w in
            weightTransposed.withUnsafeMutableBufferPointer {
                SpikeMatmul.transpose(w, rows: g.outChannels, columns: g.patchSize, into: $0.baseAddress!)
            }
        }
        return weightTransposed
    }
}
