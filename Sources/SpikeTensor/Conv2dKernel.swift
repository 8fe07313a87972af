/// Reusable scratch memory for `Conv2dKernel` (columns and GEMM outputs), so repeated calls
/// allocate nothing. One workspace per layer; not thread-safe.
public struct Conv2dWorkspace {
    /// Upper bound on floats in the column buffer; images are processed in chunks that fit.
    public var columnBudget: Int
    var columns: [Float] = []
    var product: [Float] = []
    var ones: [Float] = []

    public init(columnBudget: Int = 1 << 20) { self.columnBudget = columnBudget }

    /// Images per chunk for `geometry`, at least 1.
    func imagesPerChunk(_ g: Conv2dGeometry, images: Int) -> Int {
        max(1, min(images, columnBudget / max(1, g.patchSize * g.outputPixels)))
    }

    mutating func reserve(_ g: Conv2dGeometry, chunk: Int) {
        let cols = g.patchSize * chunk * g.outputPixels
        if columns.count < cols { columns = [Float](repeating: 0, count: cols) }
        let prod = g.outChannels * chunk * g.outputPixels
        if product.count < prod { product = [Float](repeating: 0, count: prod) }
        if ones.count < chunk * g.outputPixels { ones = [Float](repeating: 1, count: chunk * g.outputPixels) }
    }
}

/// 2-D convolution (cross-correlation, as PyTorch's `Conv2d`) by im2col + GEMM.
///
/// `y[n, o, i, j] = b[o] + Σ_{c,ki,kj} W[o, c, ki, kj] · x[n, c, i·s − p + ki, j·s − p + kj]`
/// with zero padding `p` and stride `s`. Many images go through one GEMM: for a chunk of
/// `m` images the column matrix is `[C·k·k, m·Ho·Wo]` and `Y = W·cols` is `[O, m·Ho·Wo]`,
/// which is then scattered to NCHW. Chunks bound the memory (`Conv2dWorkspace.columnBudget`).
public enum Conv2dKernel {
    /// Stride 1 with a multiple of 8 output channels runs `DenseKernels.convolutionStride1` (no
    /// column matrix) where it beats OpenBLAS (`DenseKernels.replacesBLAS`: AVX2 + FMA or
    /// AVX-512); everything else im2col + GEMM (`im2colForward`). `outputChannelsLast` writes each
    /// image as `[Ho, Wo, O]` (the direct kernel's own layout; the im2col path transposes).
    // input [N, C, H, W], weight [O, C, k, k], bias [O] (nil: none)
    // → output [N, O, Ho, Wo], or [N, Ho, Wo, O] when outputChannelsLast (overwritten)
    public static func forward(input: UnsafePointer<Float>, images: Int, geometry g: Conv2dGeometry,
                               weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                               output: UnsafeMutablePointer<Float>, outputChannelsLast: Bool = false,
                               workspace: inout Conv2dWorkspace) {
        if DenseKernels.replacesBLAS && DenseKernels.handlesConvolution(g) {
            DenseKernels.convolutionStride1(input: input, images: images, geometry: g, weight: weight, bias: bias,
                                            output: output, outputChannelsLast: outputChannelsLast)
            return
        }
        let zeroBias = bias == nil ? [Float](repeating: 0, count: g.outChannels) : []
        zeroBias.withUnsafeBufferPointer { zero in
            im2colForward(input: input, images: images, geometry: g, weight: weight, bias: bias ?? zero.baseAddress!,
                          output: output, workspace: &workspace)
        }
        if outputChannelsLast { toChannelsLast(output, images: images, channels: g.outChannels, pixels: g.outputPixels) }
    }

    /// `forward` by im2col + GEMM, for any geometry.
    // input [N, C, H, W], weight [O, C, k, k], bias [O] → output [N, O, Ho, Wo] (overwritten)
    public static func im2colForward(input: UnsafePointer<Float>, images: Int, geometry g: Conv2dGeometry,
                                     weight: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                                     output: UnsafeMutablePointer<Float>, workspace: inout Conv2dWorkspace) {
        guard images > 0 else { return }
        let chunk = workspace.imagesPerChunk(g, images: images)
        workspace.reserve(g, chunk: chunk)
        let pixels = g.outputPixels, outC = g.outChannels
        workspace.columns.withUnsafeMutableBufferPointer { colBuf in
            workspace.product.withUnsafeMutableBufferPointer { prodBuf in
                let cols = colBuf.baseAddress!, prod = prodBuf.baseAddress!
                var n0 = 0
                while n0 < images {
                    let m = min(chunk, images - n0)
                    let width = m * pixels
                    parallelIm2col(input + n0 * g.inputImageSize, images: m, geometry: g, columns: cols, columnStride: width)
                    // prod [O, m·P] = weight [O, C·k·k] · cols [C·k·k, m·P]
                    BLAS.gemm(transposeA: false, transposeB: false, m: outC, n: width, k: g.patchSize,
                              alpha: 1, a: weight, lda: g.patchSize, b: cols, ldb: width,
                              beta: 0, c: prod, ldc: width)
                    // scatter [O, m, P] → output [m, O, P], adding the bias
                    Parallel.forEachChunk(m, minimumChunk: 4) { images in
                        for img in images {
                            let outImage = output + (n0 + img) * g.outputImageSize
                            for o in 0..<outC {
                                let src = prod + o * width + img * pixels
                                let dst = outImage + o * pixels
                                let b = bias[o]
                                for p in 0..<pixels { dst[p] = src[p] + b }
                            }
                        }
                    }
                    n0 += m
                }
            }
        }
    }

    /// Backward of `forward`. gradOutput [N, O, Ho, Wo], input [N, C, H, W] (the forward input).
    /// ACCUMULATES into gradWeight [O, C, k, k] and gradBias [O] when non-nil (nil skips the
    /// im2col and dW GEMM, e.g. when `EventConv2dKernel` computes them); overwrites gradInput
    /// [N, C, H, W] when it is non-nil (nil skips the dX GEMM and col2im, e.g. first layer), or
    /// [N, H, W, C] when `gradInputChannelsLast` (for a fused conv → LIF → pool before it).
    public static func backward(gradOutput: UnsafePointer<Float>, input: UnsafePointer<Float>, images: Int,
                                geometry g: Conv2dGeometry, weight: UnsafePointer<Float>,
                                gradWeight: UnsafeMutablePointer<Float>?, gradBias: UnsafeMutablePointer<Float>?,
                                gradInput: UnsafeMutablePointer<Float>?, gradInputChannelsLast: Bool = false,
                                workspace: inout Conv2dWorkspace) {
        guard images > 0 else { return }
        // Stride 1: dX is itself a convolution of dY with the flipped, transposed kernel
        // (padding k − 1 − p), which avoids the large [C·k·k, m·P] dCols GEMM output and col2im.
        if let gradInput, g.stride == 1, g.padding <= g.kernelSize - 1 {
            backward(gradOutput: gradOutput, input: input, images: images, geometry: g, weight: weight,
                     gradWeight: gradWeight, gradBias: gradBias, gradInput: nil, workspace: &workspace)
            transposedConvolution(gradOutput: gradOutput, images: images, geometry: g, weight: weight,
                                  gradInput: gradInput, channelsLast: gradInputChannelsLast, workspace: &workspace)
            return
        }
        if let gradInput, gradInputChannelsLast {
            backward(gradOutput: gradOutput, input: input, images: images, geometry: g, weight: weight,
                     gradWeight: gradWeight, gradBias: gradBias, gradInput: gradInput, workspace: &workspace)
            toChannelsLast(gradInput, images: images, channels: g.inChannels, pixels: g.height * g.width)
            return
        }
        if let gradInput { gradInput.update(repeating: 0, count: images * g.inputImageSize) }
        guard gradWeight != nil || gradBias != nil || gradInput != nil else { return }
        let chunk = workspace.imagesPerChunk(g, images: images)
        workspace.reserve(g, chunk: chunk)
        let pixels = g.outputPixels, outC = g.outChannels, patch = g.patchSize
        workspace.columns.withUnsafeMutableBufferPointer { colBuf in
            workspace.product.withUnsafeMutableBufferPointer { prodBuf in
                workspace.ones.withUnsafeBufferPointer { onesBuf in
                    let cols = colBuf.baseAddress!, dY = prodBuf.baseAddress!, ones = onesBuf.baseAddress!
                    var n0 = 0
                    while n0 < images {
                        let m = min(chunk, images - n0)
                        let width = m * pixels
                        // gather gradOutput [m, O, P] → dY [O, m·P]
                        Parallel.forEachChunk(m, minimumChunk: 4) { images in
                            for img in images {
                                let gImage = gradOutput + (n0 + img) * g.outputImageSize
                                for o in 0..<outC {
                                    (dY + o * width + img * pixels).update(from: gImage + o * pixels, count: pixels)
                                }
                            }
                        }
                        if let gradBias {
                            // gradBias [O, 1] += dY [O, m·P] · ones [m·P, 1]
                            BLAS.gemm(transposeA: false, transposeB: false, m: outC, n: 1, k: width, alpha: 1,
                                      a: dY, lda: width, b: ones, ldb: 1, beta: 1, c: gradBias, ldc: 1)
                        }
                        if let gradWeight {
                            parallelIm2col(input + n0 * g.inputImageSize, images: m, geometry: g, columns: cols,
                                           columnStride: width)
                            // gradWeight [O, C·k·k] += dY [O, m·P] · colsᵀ [m·P, C·k·k]
                            BLAS.gemm(transposeA: false, transposeB: true, m: outC, n: patch, k: width, alpha: 1,
                                      a: dY, lda: width, b: cols, ldb: width, beta: 1, c: gradWeight, ldc: patch)
                        }
                        if let gradInput {
                            // dCols [C·k·k, m·P] = weightᵀ [C·k·k, O] · dY [O, m·P]  (reuses cols)
                            BLAS.gemm(transposeA: true, transposeB: false, m: patch, n: width, k: outC, alpha: 1,
                                      a: weight, lda: patch, b: dY, ldb: width, beta: 0, c: cols, ldc: width)
                            let dX = gradInput + n0 * g.inputImageSize
                            Parallel.forEachChunk(m, minimumChunk: 2) { images in
                                Im2col.col2im(cols + images.lowerBound * pixels, columnStride: width, images: images.count,
                                              geometry: g, input: dX + images.lowerBound * g.inputImageSize)
                            }
                        }
                        n0 += m
                    }
                }
            }
        }
    }
}

extension Conv2dKernel {
    /// dX for stride 1 as a forward convolution:
    /// `dX[n, c, y, x] = Σ_{o,a,b} W'[c, o, a, b] · dY[n, o, y − (k−1−p) + a, x − (k−1−p) + b]`
    /// with `W'[c, o, a, b] = W[o, c, k−1−a, k−1−b]` and zero padding k − 1 − p.
    // gradOutput [N, O, Ho, Wo], weight [O, C, k, k] → gradInput [N, C, H, W], or [N, H, W, C]
    // when channelsLast (overwritten)
    static func transposedConvolution(gradOutput: UnsafePointer<Float>, images: Int, geometry g: Conv2dGeometry,
                                      weight: UnsafePointer<Float>, gradInput: UnsafeMutablePointer<Float>,
                                      channelsLast: Bool = false, workspace: inout Conv2dWorkspace) {
        let flipped = flippedWeight(weight, geometry: g)
        flipped.withUnsafeBufferPointer { w in
            forward(input: gradOutput, images: images, geometry: transposedGeometry(g), weight: w.baseAddress!, bias: nil,
                    output: gradInput, outputChannelsLast: channelsLast, workspace: &workspace)
        }
    }

    /// The geometry of the stride-1 convolution that gives dL/dx from dL/dy: `[O, Ho, Wo]` in,
    /// `[C, H, W]` out, the same k, padding k − 1 − p.
    public static func transposedGeometry(_ g: Conv2dGeometry) -> Conv2dGeometry {
        precondition(g.stride == 1, "transposedGeometry: stride 1 only, got \(g.stride)")
        return Conv2dGeometry(inChannels: g.outChannels, outChannels: g.inChannels, height: g.outputHeight,
                              width: g.outputWidth, kernelSize: g.kernelSize, stride: 1, padding: g.kernelSize - 1 - g.padding)
    }

    /// `W'[c, o, a, b] = W[o, c, k−1−a, k−1−b]`: the weight of `transposedGeometry(g)`.
    // weight [O, C, k, k] → [C, O, k, k]
    public static func flippedWeight(_ weight: UnsafePointer<Float>, geometry g: Conv2dGeometry) -> [Float] {
        let k = g.kernelSize, inC = g.inChannels, outC = g.outChannels
        var flipped = [Float](repeating: 0, count: g.weightCount)
        for o in 0..<outC {
            for c in 0..<inC {
                for a in 0..<k {
                    for b in 0..<k {
                        flipped[((c * outC + o) * k + a) * k + b] = weight[((o * inC + c) * k + (k - 1 - a)) * k + (k - 1 - b)]
                    }
                }
            }
        }
        return flipped
    }

    /// Each image [C, P] of `x` rewritten as [P, C], in place (through one image of scratch).
    // x [N, C, P] → [N, P, C]
    static func toChannelsLast(_ x: UnsafeMutablePointer<Float>, images: Int, channels: Int, pixels: Int) {
        let image = channels * pixels
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: max(image, 1))
        defer { scratch.deallocate() }
        for n in 0..<images {
            scratch.update(from: x + n * image, count: image)
            transposeTiled(scratch, rows: channels, columns: pixels, into: x + n * image)
        }
    }
}

/// im2col of `images` images, split by image over all cores (disjoint column ranges).
private func parallelIm2col(_ input: UnsafePointer<Float>, images: Int, geometry g: Conv2dGeometry,
                            columns: UnsafeMutablePointer<Float>, columnStride: Int) {
    Parallel.forEachChunk(images, minimumChunk: 2) { range in
        Im2col.im2col(input + range.lowerBound * g.inputImageSize, images: range.count, geometry: g,
                      columns: columns + range.lowerBound * g.outputPixels, columnStride: columnStride)
    }
}

/// Direct (seven nested loops, Double accumulation) convolution: the reference that the
/// im2col kernel is tested against. Same shapes and semantics as `Conv2dKernel`.
public enum ReferenceConv2d {
    public static func forward(input: [Float], images: Int, geometry g: Conv2dGeometry,
                               weight: [Float], bias: [Float]) -> [Float] {
        let k = g.kernelSize, oh = g.outputHeight, ow = g.outputWidth
        var out = [Float](repeating: 0, count: images * g.outputImageSize)
        for n in 0..<images {
            for o in 0..<g.outChannels {
                for i in 0..<oh {
                    for j in 0..<ow {
                        var sum = Double(bias[o])
                        for c in 0..<g.inChannels {
                            for ki in 0..<k {
                                for kj in 0..<k {
                                    let y = i * g.stride - g.padding + ki, x = j * g.stride - g.padding + kj
                                    guard y >= 0, y < g.height, x >= 0, x < g.width else { continue }
                                    sum += Double(weight[((o * g.inChannels + c) * k + ki) * k + kj])
                                        * Double(input[((n * g.inChannels + c) * g.height + y) * g.width + x])
                                }
                            }
                        }
                        out[((n * g.outChannels + o) * oh + i) * ow + j] = Float(sum)
                    }
                }
            }
        }
        return out
    }

    /// Returns (gradInput, gradWeight, gradBias) for gradOutput [N, O, Ho, Wo].
    public static func backward(gradOutput: [Float], input: [Float], images: Int, geometry g: Conv2dGeometry,
                                weight: [Float]) -> (gradInput: [Float], gradWeight: [Float], gradBias: [Float]) {
        let k = g.kernelSize, oh = g.outputHeight, ow = g.outputWidth
        var dx = [Double](repeating: 0, count: images * g.inputImageSize)
        var dw = [Double](repeating: 0, count: g.weightCount)
        var db = [Double](repeating: 0, count: g.outChannels)
        for n in 0..<images {
            for o in 0..<g.outChannels {
                for i in 0..<oh {
                    for j in 0..<ow {
                        let gy = Double(gradOutput[((n * g.outChannels + o) * oh + i) * ow + j])
                        db[o] += gy
                        for c in 0..<g.inChannels {
                            for ki in 0..<k {
                                for kj in 0..<k {
                                    let y = i * g.stride - g.padding + ki, x = j * g.stride - g.padding + kj
                                    guard y >= 0, y < g.height, x >= 0, x < g.width else { continue }
                                    let wi = ((o * g.inChannels + c) * k + ki) * k + kj
                                    let xi = ((n * g.inChannels + c) * g.height + y) * g.width + x
                                    dw[wi] += gy * Double(input[xi])
                                    dx[xi] += gy * Double(weight[wi])
                                }
                            }
                        }
                    }
                }
            }
        }
        return (dx.map { Float($0) }, dw.map { Float($0) }, db.map { Float($0) })
    }
}
