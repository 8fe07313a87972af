import SpikeTensor

/// Training of event-driven conv → LIF → average pooling, fused per sample, for a first layer
/// (no dL/dx): of the `[T, B, O, Ho, Wo]` maps between the three layers only the membranes
/// are written (backward needs u for h(u) and the reset path); the currents, the spikes, the
/// spikes' gradient and δu stay in per-sample buffers in cache.
///
/// Forward, for each sample b and t = 0 … T−1 (n = t·B + b), as `ConvLIFPoolKernel.inference`
/// but keeping u:
///
///     u[t] = τ · u[t−1] · (1 − o[t−1]) + (b + W ⋆ x[t, b])     → membrane[n]  (NCHW)
///     y[n] = AvgPool_k(o[t]),  o[t] = 1{u[t] ≥ V_th}
///
/// Backward, for each sample b and t = T−1 … 0 (`LIFKernel.backwardStep`, eq. 8, with the
/// pool's gradient g_o[t] = (1/k²)·dL/dy[n] spread over each window, 0 outside full windows):
///
///     δu[t] = (g_o[t] − δu[t+1] · τ · u[t]) · h(u[t]) + δu[t+1] · τ · (1 − o[t])
///     dL/db[o] += Σ_p δu[t][o, p],   dL/dWᵀ[tap, :] += v · δu[t][:, pixel]  (each active input)
///
/// The currents, membranes, spikes, pooled outputs and δu are computed by the layers' own
/// per-image kernels (`EventConv2dKernel.synapticSums`, `LIFKernel.forwardStep` and
/// `backwardStep`, `AvgPool2dKernel`) in the same order, so they are the layers' bit for bit; the weight and bias gradients sum the same terms per sample (then in
/// sample order) instead of per group of 32 images, so they agree to rounding
/// (`ConvLIFPoolTests`). Thread count does not change the result: each sample has its own partial.
extension ConvLIFPoolKernel {
    /// Floats of scratch `trainingForward` needs per worker: the synaptic sums and the spikes
    /// of one image.
    public static func trainingForwardScratchCount(_ g: Conv2dGeometry) -> Int { 2 * g.outputPixels * g.outChannels }

    /// Floats of scratch `backward` needs: per worker the spikes' gradient, δu and its
    /// transpose of one image; per sample a partial dWᵀ [C·k·k, O] and db [O].
    public static func backwardScratchCount(_ g: Conv2dGeometry, batch: Int) -> Int {
        Parallel.workers * 3 * g.outputPixels * g.outChannels + batch * (g.weightCount + g.outChannels)
    }

    // input [T, B, C, H, W] (sparse), weightTransposed Wᵀ [C·k·k, O], bias [O]
    // → membrane u [T, B, O, Ho, Wo], output [T, B, O, Ho/k, Wo/k] (both overwritten);
    // scratch: Parallel.workers · trainingForwardScratchCount(g) floats
    public static func trainingForward(input: UnsafePointer<Float>, steps: Int, batch: Int, geometry g: Conv2dGeometry,
                                       weightTransposed wt: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                                       neuron p: LIFParameters, poolSize k: Int,
                                       membrane: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>,
                                       scratch: UnsafeMutablePointer<Float>) {
        let outC = g.outChannels, pixels = g.outputPixels, image = g.outputImageSize
        let pooledImage = outC * (g.outputHeight / k) * (g.outputWidth / k)
        Parallel.forEachChunk(batch, chunks: Parallel.workers) { slot, samples in
            let sums = scratch + slot * trainingForwardScratchCount(g)   // [P, O], pixel-major
            let spikes = sums + image                                     // o[t] [O, P]
            for b in samples {
                for t in 0..<steps {
                    let n = t * batch + b
                    let u = membrane + n * image                           // I[t], then u[t] [O, P]
                    EventConv2dKernel.synapticSums(image: input + n * g.inputImageSize, geometry: g,
                                                   weightTransposed: wt, into: sums)
                    transposeTiled(sums, rows: pixels, columns: outC, into: u)
                    for o in 0..<outC {   // + bias, as Conv2d
                        let row = u + o * pixels, bo = bias[o]
                        for i in 0..<pixels { row[i] += bo }
                    }
                    LIFKernel.forwardStep(current: u, previousMembrane: t == 0 ? nil : UnsafePointer(u - batch * image),
                                          membrane: u, spikes: spikes, neurons: image, parameters: p)
                    AvgPool2dKernel.forward(input: spikes, planes: outC, height: g.outputHeight, width: g.outputWidth,
                                            kernelSize: k, output: output + n * pooledImage)
                }
            }
        }
    }

    // gradOutput dL/dy [T, B, O, Ho/k, Wo/k], membrane u [T, B, O, Ho, Wo], input [T, B, C, H, W]
    // (the forward's) → gradWeight [O, C, k, k] +=, gradBias [O] +=;
    // scratch: backwardScratchCount(g, batch: B) floats
    public static func backward(gradOutput: UnsafePointer<Float>, membrane: UnsafePointer<Float>,
                                input: UnsafePointer<Float>, steps: Int, batch: Int, geometry g: Conv2dGeometry,
                                neuron p: LIFParameters, poolSize k: Int,
                                gradWeight: UnsafeMutablePointer<Float>, gradBias: UnsafeMutablePointer<Float>,
                                scratch: UnsafeMutablePointer<Float>) {
        guard steps > 0, batch > 0 else { return }
        let outC = g.outChannels, pixels = g.outputPixels, image = g.outputImageSize
        let pooledImage = outC * (g.outputHeight / k) * (g.outputWidth / k)
        let partialSize = g.weightCount + outC                        // dWᵀ [C·k·k, O] then db [O]
        let partials = scratch + Parallel.workers * 3 * image
        Parallel.forEachChunk(batch, chunks: Parallel.workers) { slot, samples in
            let gradSpikes = scratch + slot * 3 * image                // g_o[t] [O, P]
            let delta = gradSpikes + image                             // δu[t+1], then δu[t] [O, P]
            let deltaT = delta + image                                 // δu[t] [P, O]
            for b in samples {
                let dWt = partials + b * partialSize, db = dWt + g.weightCount
                dWt.update(repeating: 0, count: partialSize)
                var t = steps - 1
                while t >= 0 {
                    let n = t * batch + b
                    AvgPool2dKernel.backward(gradOutput: gradOutput + n * pooledImage, planes: outC, height: g.outputHeight,
                                             width: g.outputWidth, kernelSize: k, gradInput: gradSpikes)
                    LIFKernel.backwardStep(gradSpikes: gradSpikes, extraGradSpikes: nil, membrane: membrane + n * image,
                                           nextGradCurrent: t == steps - 1 ? nil : UnsafePointer(delta),
                                           gradCurrent: delta, neurons: image, parameters: p)
                    // Bias and weight gradient of this image (EventConv2dKernel's per-image order).
                    transposeTiled(delta, rows: outC, columns: pixels, into: deltaT)
                    EventConv2dKernel.addColumnSums(deltaT, rows: pixels, columns: outC, into: db)
                    EventConv2dKernel.accumulateWeightGradient(image: input + n * g.inputImageSize, geometry: g,
                                                               gradOutputTransposed: deltaT, into: dWt)
                    t -= 1
                }
            }
        }
        // Reduce the per-sample partials in sample order, then dW [O, C·k·k] += dWᵀ.
        for b in 1..<batch {
            let src = partials + b * partialSize
            for i in 0..<partialSize { partials[i] += src[i] }
        }
        SpikeMatmul.addTransposed(partials, rows: outC, columns: g.patchSize, into: gradWeight)
        for o in 0..<outC { gradBias[o] += partials[g.weightCount + o] }
    }
}
