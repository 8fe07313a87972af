import SpikeTensor

/// Training of event-driven conv → LIF → average or max pooling, fused per sample: of the `[T, B, …]`
/// maps between the three layers only the membranes are written (backward needs u for h(u)
/// and the reset path); the currents, the spikes, the spikes' gradient and δu stay in
/// per-sample buffers in cache. A layer that is not the first also gets dL/dx there, each δu[t]
/// convolved with the flipped kernel as it is made (`InputGradient`).
///
/// Everything inside runs channels-last, `[Ho·Wo, O]` per image, the layout in which the event
/// scatter produces its sums and the weight gradient consumes δu, so that no full-size map is
/// transposed: only the pooled output (forward) and its gradient (backward), k² times smaller.
/// The kept membranes are therefore `[T, B, Ho, Wo, O]`.
///
/// Forward, for each sample b and t = 0 … T−1 (n = t·B + b), as `ConvLIFPoolKernel.inference`
/// but keeping u:
///
///     u[t] = τ · u[t−1] · (1 − o[t−1]) + (W ⋆ x[t, b] + b)     → membrane[n]  [Ho·Wo, O]
///     y[n] = Pool_k(o[t]),  o[t] = 1{u[t] ≥ V_th}              → output[n]    [O, Ho/k, Wo/k]
///
/// Backward, for each sample b and t = T−1 … 0 (`LIFKernel.backwardStep`, eq. 8, with the
/// pool's gradient: g_o[t] = (1/k²)·dL/dy[n] spread over each window for the mean, dL/dy[n]
/// at the window's chosen neuron for the maximum (`FusedPool`; chosen from the kept u, since
/// o = 1{u ≥ V_th}), 0 outside full windows):
///
///     δu[t] = (g_o[t] − δu[t+1] · τ · u[t]) · h(u[t]) + δu[t+1] · τ · (1 − o[t])
///     dL/db[o] += Σ_p δu[t][p, o],   dL/dWᵀ[tap, :] += v · δu[t][pixel, :]  (each active input)
///     dL/dx[n] = δu[t] ⋆ W'   (W'[c, o, a, b] = W[o, c, k−1−a, k−1−b], padding k − 1 − p)
///
/// Every element gets the operations of the layers' own kernels in their order
/// (`EventConv2dKernel.synapticSums`, the bias add, `LIFKernel.forwardStep` / `backwardStep`,
/// `AvgPool2dKernel`'s sums and scale or `MaxPool2dKernel`'s maxima), so currents, membranes, spikes and pooled outputs are
/// the layers' bit for bit (membranes transposed); the weight and bias gradients sum the same
/// terms per sample (then in sample order) instead of per group of 32 images, so they agree to
/// rounding, and dL/dx is the direct kernel's, as the unfused layer's (`ConvLIFPoolTests`). Thread count does not change the result: each sample has its
/// own partial.
extension ConvLIFPoolKernel {
    /// Floats of scratch `trainingForward` needs per worker: the currents, spikes and membranes
    /// of one image and its channels-last pooled output.
    public static func trainingForwardScratchCount(_ g: Conv2dGeometry) -> Int { 4 * g.outputPixels * g.outChannels }

    /// Floats of scratch `backward` needs: per worker δu and the pooled gradient of one image
    /// (channels-last), its bias sums and what `inputGradient`'s convolution needs; per sample a
    /// partial dWᵀ [C·k·k, O] and db [O].
    public static func backwardScratchCount(_ g: Conv2dGeometry, batch: Int, inputGradient: InputGradient? = nil) -> Int {
        Parallel.workers * workerScratchCount(g, inputGradient) + batch * (g.weightCount + g.outChannels)
    }

    private static func workerScratchCount(_ g: Conv2dGeometry, _ inputGradient: InputGradient?) -> Int {
        2 * g.outputImageSize + g.outChannels + (inputGradient?.convolution.scratchCount ?? 0)
    }

    /// dL/dx for `backward` of a layer that is not the first: each δu[t] of one image, still in
    /// cache, goes through the transposed convolution (`Conv2dKernel.transposedGeometry`, the
    /// flipped weight, the direct kernel) into `output`, so δu is never written out.
    public struct InputGradient {
        /// The convolution `[O, Ho, Wo]` → `[C, H, W]` (it reads δu channels-last).
        public let convolution: DenseKernels.PackedConvolution
        /// dL/dx `[T, B, C, H, W]`, or `[T, B, H, W, C]` when `channelsLast` (overwritten).
        public let output: UnsafeMutablePointer<Float>
        public let channelsLast: Bool

        // weight [O, C, k, k] of the layer whose dL/dx this is
        public init(weight: UnsafePointer<Float>, geometry g: Conv2dGeometry, output: UnsafeMutablePointer<Float>,
                    channelsLast: Bool) {
            let flipped = Conv2dKernel.flippedWeight(weight, geometry: g)
            convolution = flipped.withUnsafeBufferPointer {
                DenseKernels.PackedConvolution(weight: $0.baseAddress!, geometry: Conv2dKernel.transposedGeometry(g))
            }
            self.output = output
            self.channelsLast = channelsLast
        }

        /// Whether the direct kernel takes this layer's dL/dx: it beats im2col + OpenBLAS
        /// (`DenseKernels.replacesBLAS`) and handles the transposed geometry.
        public static func applies(to g: Conv2dGeometry) -> Bool {
            g.stride == 1 && DenseKernels.replacesBLAS && DenseKernels.handlesConvolution(Conv2dKernel.transposedGeometry(g))
        }
    }

    // input [T, B, C, H, W] (sparse), weightTransposed Wᵀ [C·k·k, O], bias [O]
    // → membrane u [T, B, Ho, Wo, O] (channels-last), output [T, B, O, Ho/k, Wo/k] (both overwritten);
    // scratch: Parallel.workers · trainingForwardScratchCount(g) floats
    public static func trainingForward(input: UnsafePointer<Float>, steps: Int, batch: Int, geometry g: Conv2dGeometry,
                                       weightTransposed wt: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                                       neuron p: LIFParameters, pool: FusedPool,
                                       membrane: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>,
                                       scratch: UnsafeMutablePointer<Float>) {
        let k = pool.size
        let image = g.outputImageSize, pooledImage = g.outChannels * (g.outputHeight / k) * (g.outputWidth / k)
        Parallel.forEachChunk(batch, chunks: Parallel.workers) { slot, samples in
            // I[t] is summed and u[t] updated in cache; the kept membranes, too large for the
            // caches and read again only by the backward, are streamed out (no line read first).
            let current = scratch + slot * trainingForwardScratchCount(g)  // I[t] [P, O]
            let spikes = current + image                                    // o[t] [P, O]
            let pooled = spikes + image                                     // [P/k², O]
            let u = pooled + image                                          // u[t−1], then u[t] [P, O]
            for b in samples {
                for t in 0..<steps {
                    let n = t * batch + b
                    imageStep(input + n * g.inputImageSize, geometry: g, weightTransposed: wt, bias: bias, neuron: p,
                              pool: pool, previous: t == 0 ? nil : UnsafePointer(u), membrane: u,
                              keptMembrane: membrane + n * image, current: current, spikes: spikes, pooled: pooled,
                              output: output + n * pooledImage)
                }
            }
        }
    }

    /// `AvgPool2dKernel.forward` (or for a max pool `MaxPool2dKernel`'s maxima) on one
    /// channels-last image: the same sums in the same order per element, then the same scale
    /// 1/k²; the maximum with a later element taken only when strictly greater. The fused passes'
    /// pool for k ≠ 2 (k = 2 runs inside the LIF kernel, `VectorKernels.lifForwardPool2Step`) and
    /// that kernel's reference in the tests.
    // input [H, W, O] → output [H/k, W/k, O] (overwritten)
    static func poolChannelsLast(_ x: UnsafePointer<Float>, height: Int, width: Int, channels: Int, pool: FusedPool,
                                 into y: UnsafeMutablePointer<Float>) {
        let k = pool.size, oh = height / k, ow = width / k, scale = 1 / Float(k * k)
        for i in 0..<oh {
            for j in 0..<ow {
                let out = y + (i * ow + j) * channels
                if pool.kind == .maximum {
                    for o in 0..<channels { out[o] = x[(i * k * width + j * k) * channels + o] }
                    for a in 0..<k {
                        for b in 0..<k {
                            let v = x + ((i * k + a) * width + j * k + b) * channels
                            for o in 0..<channels where v[o] > out[o] { out[o] = v[o] }
                        }
                    }
                    continue
                }
                for o in 0..<channels { out[o] = 0 }
                for a in 0..<k {
                    let row = x + ((i * k + a) * width + j * k) * channels
                    for o in 0..<channels {
                        var s: Float = 0
                        for b in 0..<k { s += row[b * channels + o] }
                        out[o] += s
                    }
                }
                for o in 0..<channels { out[o] *= scale }
            }
        }
    }

    /// One reverse step of one image: the pool's backward (average: g_o[p, :] = dL/dy[window(p), :]
    /// · 1/k² inside the full windows; maximum: dL/dy[window(p), :] at the window's chosen
    /// neuron; 0 elsewhere), the LIF step (`LIFKernel.backwardStep`), and the image's bias sums
    /// Σ_p δu[p, :] into `columnSums` (overwritten), in one C pass
    /// (`VectorKernels.lifBackwardPooledStep`; `pooledBackwardStepReference` is its reference).
    // pooledGradient [Ho/k, Wo/k, O], membrane [Ho, Wo, O], nextGradCurrent [Ho, Wo, O]?
    // → gradCurrent δu [Ho, Wo, O] (may be nextGradCurrent), columnSums [O]
    @inline(__always)
    static func pooledBackwardStep(_ pooledGradient: UnsafePointer<Float>, geometry g: Conv2dGeometry, pool: FusedPool,
                                   membrane: UnsafePointer<Float>, nextGradCurrent: UnsafePointer<Float>?,
                                   gradCurrent: UnsafeMutablePointer<Float>, columnSums: UnsafeMutablePointer<Float>,
                                   neuron p: LIFParameters) {
        let k = pool.size
        VectorKernels.lifBackwardPooledStep(pooledGradient: pooledGradient, poolSize: k, scale: 1 / Float(k * k),
                                            height: g.outputHeight, width: g.outputWidth, channels: g.outChannels,
                                            membrane: membrane, nextGradCurrent: nextGradCurrent, gradCurrent: gradCurrent,
                                            columnSums: columnSums, tau: p.tau, threshold: p.threshold,
                                            halfWidth: 0.5 * p.surrogateWidth, surrogateHeight: p.surrogateHeight,
                                            maximum: pool.kind == .maximum)
    }

    /// `pooledBackwardStep` as the layers do it one after the other: `AvgPool2dKernel.backward`'s
    /// values spread channels-last (a max pool: the spikes o = 1{u ≥ V_th} transposed to planes,
    /// `MaxPool2dKernel.forwardReference`'s argmax and `backward`, transposed back),
    /// `LIFKernel.referenceBackwardStep`, then `EventConv2dKernel.addColumnSumsReference` from zero.
    static func pooledBackwardStepReference(_ pooledGradient: UnsafePointer<Float>, geometry g: Conv2dGeometry,
                                            pool: FusedPool, membrane: UnsafePointer<Float>,
                                            nextGradCurrent: UnsafePointer<Float>?, gradCurrent: UnsafeMutablePointer<Float>,
                                            columnSums: UnsafeMutablePointer<Float>, neuron p: LIFParameters) {
        let k = pool.size, outC = g.outChannels, oh = g.outputHeight / k, ow = g.outputWidth / k, scale = 1 / Float(k * k)
        let pixels = g.outputPixels
        var gradSpikes = [Float](repeating: 0, count: g.outputImageSize)
        if pool.kind == .maximum {
            // planes [O, Ho, Wo] of the spikes and the pooled gradient, the layer's kernels, and back
            var spikes = [Float](repeating: 0, count: g.outputImageSize), pooled = [Float](repeating: 0, count: outC * oh * ow)
            for q in 0..<pixels { for o in 0..<outC { spikes[o * pixels + q] = membrane[q * outC + o] >= p.threshold ? 1 : 0 } }
            for q in 0..<(oh * ow) { for o in 0..<outC { pooled[o * oh * ow + q] = pooledGradient[q * outC + o] } }
            var maxima = [Float](repeating: 0, count: outC * oh * ow), argmax = [Int32](repeating: 0, count: outC * oh * ow)
            var planes = [Float](repeating: 0, count: g.outputImageSize)
            MaxPool2dKernel.forwardReference(input: spikes, planes: outC, height: g.outputHeight, width: g.outputWidth,
                                             kernelSize: k, output: &maxima, argmax: &argmax)
            MaxPool2dKernel.backward(gradOutput: pooled, argmax: argmax, planes: outC, height: g.outputHeight,
                                     width: g.outputWidth, kernelSize: k, gradInput: &planes)
            for q in 0..<pixels { for o in 0..<outC { gradSpikes[q * outC + o] = planes[o * pixels + q] } }
        } else {
            for y in 0..<g.outputHeight {
                for x in 0..<g.outputWidth where y / k < oh && x / k < ow {
                    let src = pooledGradient + ((y / k) * ow + x / k) * outC
                    for o in 0..<outC { gradSpikes[(y * g.outputWidth + x) * outC + o] = src[o] * scale }
                }
            }
        }
        LIFKernel.referenceBackwardStep(gradSpikes: gradSpikes, extraGradSpikes: nil, membrane: membrane,
                                        nextGradCurrent: nextGradCurrent, gradCurrent: gradCurrent,
                                        neurons: g.outputImageSize, parameters: p)
        columnSums.update(repeating: 0, count: outC)
        EventConv2dKernel.addColumnSumsReference(gradCurrent, rows: g.outputPixels, columns: outC, into: columnSums)
    }

    // gradOutput dL/dy [T, B, O, Ho/k, Wo/k] (channelsLast: [T, B, Ho/k, Wo/k, O]), membrane u
    // [T, B, Ho, Wo, O], input [T, B, C, H, W] (the forward's) → gradWeight [O, C, k, k] +=,
    // gradBias [O] +=, dL/dx into inputGradient's output when given;
    // scratch: backwardScratchCount(g, batch: B, inputGradient:) floats
    public static func backward(gradOutput: UnsafePointer<Float>, channelsLast: Bool = false, membrane: UnsafePointer<Float>,
                                input: UnsafePointer<Float>, steps: Int, batch: Int, geometry g: Conv2dGeometry,
                                neuron p: LIFParameters, pool: FusedPool,
                                gradWeight: UnsafeMutablePointer<Float>, gradBias: UnsafeMutablePointer<Float>,
                                inputGradient: InputGradient? = nil, scratch: UnsafeMutablePointer<Float>) {
        guard steps > 0, batch > 0 else { return }
        let k = pool.size, outC = g.outChannels, image = g.outputImageSize
        let oh = g.outputHeight / k, ow = g.outputWidth / k, pooledImage = outC * oh * ow
        let partialSize = g.weightCount + outC                        // dWᵀ [C·k·k, O] then db [O]
        let workerScratch = workerScratchCount(g, inputGradient)
        let partials = scratch + Parallel.workers * workerScratch
        Parallel.forEachChunk(batch, chunks: Parallel.workers) { slot, samples in
            let delta = scratch + slot * workerScratch                 // δu[t+1], then δu[t] [P, O]
            let gradPooled = delta + image                             // dL/dy[n] [P/k², O]
            let biasSums = gradPooled + image                          // Σ_p δu[t][p, :] [O]
            let convolutionScratch = biasSums + outC                   // inputGradient's
            for b in samples {
                let dWt = partials + b * partialSize, db = dWt + g.weightCount
                dWt.update(repeating: 0, count: partialSize)
                var t = steps - 1
                while t >= 0 {
                    let n = t * batch + b
                    let pooledGradient: UnsafePointer<Float>
                    if channelsLast {
                        pooledGradient = gradOutput + n * pooledImage
                    } else {
                        transposeTiled(gradOutput + n * pooledImage, rows: outC, columns: oh * ow, into: gradPooled)
                        pooledGradient = UnsafePointer(gradPooled)
                    }
                    // g_o from the pool's gradient, δu[t], and this image's bias sums, in one pass
                    pooledBackwardStep(pooledGradient, geometry: g, pool: pool, membrane: membrane + n * image,
                                       nextGradCurrent: t == steps - 1 ? nil : UnsafePointer(delta), gradCurrent: delta,
                                       columnSums: biasSums, neuron: p)
                    for o in 0..<outC { db[o] += biasSums[o] }
                    // Weight gradient of this image (EventConv2dKernel's per-image order).
                    EventConv2dKernel.accumulateWeightGradient(image: input + n * g.inputImageSize, geometry: g,
                                                               gradOutputTransposed: delta, into: dWt)
                    if let pass = inputGradient {
                        // dL/dx[n] = δu[t] ⋆ W' (transposed convolution), from δu still in cache
                        pass.convolution.run(input: delta, images: 1, bias: nil, output: pass.output + n * g.inputImageSize,
                                             inputChannelsLast: true, outputChannelsLast: pass.channelsLast,
                                             scratch: convolutionScratch)
                    }
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
