import CSpikeKernels

/// Event-driven 2-D convolution for sparse spike inputs: only nonzero input pixels cost work.
///
/// Same maths as `Conv2dKernel` (`y[n, o, i, j] = b[o] + Σ W[o, c, ki, kj]·x[n, c, i·s − p + ki, j·s − p + kj]`),
/// computed from the input's point of view: each nonzero `x[n, c, yy, xx] = v` adds
/// `v·W[:, c, ki, kj]` (a contiguous row of `Wᵀ` `[C·k·k, O]`) to every output pixel
/// `(i, j)` with `i·s − p + ki = yy`, `j·s − p + kj = xx`, in a per-image pixel-major buffer
/// `[Ho·Wo, O]` that is then transposed to NCHW. The weight gradient is the same scatter
/// in reverse (`dWᵀ[c, ki, kj, :] += v·dY[n, :, i, j]`).
///
/// Determinism: images are processed in fixed groups of `groupSize`; each group's weight
/// gradient partial sum is reduced in group order, so results do not depend on the thread count.
public enum EventConv2dKernel {
    public static let groupSize = 32

    /// Calls `body(row of Wᵀ, output pixel)` for every (kernel tap, output pixel) that input
    /// pixel (yy, xx) of channel c contributes to.
    @inline(__always)
    static func forEachTap(c: Int, yy: Int, xx: Int, geometry g: Conv2dGeometry, _ body: (Int, Int) -> Void) {
        let k = g.kernelSize, s = g.stride, pad = g.padding, oh = g.outputHeight, ow = g.outputWidth
        for ki in 0..<k {
            let a = yy + pad - ki
            if a < 0 { break }
            if a % s != 0 { continue }
            let i = a / s
            if i >= oh { continue }
            for kj in 0..<k {
                let b = xx + pad - kj
                if b < 0 { break }
                if b % s != 0 { continue }
                let j = b / s
                if j >= ow { continue }
                body((c * k + ki) * k + kj, i * ow + j)
            }
        }
    }

    /// For every nonzero pixel v of one image `[C, H, W]` and every (kernel tap, output pixel)
    /// it contributes to, in input order: `body(tap, pixel, v)`. Any stride; the plain form
    /// (`forEachTap` per nonzero pixel) and the reference of the C scatter
    /// (`VectorKernels.eventConvScatter`, which visits the same pairs in the same order).
    @inline(__always)
    static func forEachActiveTapAnyStride(_ image: UnsafePointer<Float>, geometry g: Conv2dGeometry,
                                          _ body: (_ tap: Int, _ pixel: Int, _ v: Float) -> Void) {
        let plane = g.height * g.width
        for c in 0..<g.inChannels {
            let channel = image + c * plane
            for p in 0..<plane {
                let v = channel[p]
                if v == 0 { continue }
                forEachTap(c: c, yy: p / g.width, xx: p % g.width, geometry: g) { tap, pixel in body(tap, pixel, v) }
            }
        }
    }

    /// The synaptic sums of one image without the bias, pixel-major: `sums[p, o] = Σ W[o, c, ki, kj]·x[c, …]`
    /// over the image's nonzero pixels, in input order (the order `forward` uses, so the same bits).
    /// Runs the C vector scatter (any stride; 3×3, 32 channels, stride 1 specialised).
    // image [C, H, W] (sparse), weightTransposed Wᵀ [C·k·k, O] → sums [Ho·Wo, O] (overwritten)
    @inline(__always)
    public static func synapticSums(image: UnsafePointer<Float>, geometry g: Conv2dGeometry,
                                    weightTransposed wt: UnsafePointer<Float>, into sums: UnsafeMutablePointer<Float>) {
        sums.update(repeating: 0, count: g.outputPixels * g.outChannels)
        VectorKernels.eventConvScatter(image, geometry: g, table: wt, into: sums, .toPixels)
    }

    /// `synapticSums` in plain Swift, any stride: the reference the C scatter is tested against.
    // image [C, H, W] (sparse), weightTransposed Wᵀ [C·k·k, O] → sums [Ho·Wo, O] (overwritten)
    public static func synapticSumsReference(image: UnsafePointer<Float>, geometry g: Conv2dGeometry,
                                             weightTransposed wt: UnsafePointer<Float>, into sums: UnsafeMutablePointer<Float>) {
        let outC = g.outChannels
        sums.update(repeating: 0, count: g.outputPixels * outC)
        forEachActiveTapAnyStride(image, geometry: g) { tap, pixel, v in
            SpikeMatmul.addScaled(wt + tap * outC, v, into: sums + pixel * outC, count: outC)
        }
    }

    /// `sums[c] += Σ_r m[r, c]` for m [rows, columns], each column summed from 0 in row order
    /// (the bias gradient of one image from its pixel-major dYᵀ), by the C kernel
    /// (`VectorKernels.addColumnSums`, eight columns per vector add).
    @inline(__always)
    public static func addColumnSums(_ m: UnsafePointer<Float>, rows: Int, columns: Int,
                                     into sums: UnsafeMutablePointer<Float>) {
        VectorKernels.addColumnSums(m, rows: rows, columns: columns, into: sums)
    }

    /// `addColumnSums` in plain Swift: the reference of the C kernel.
    public static func addColumnSumsReference(_ m: UnsafePointer<Float>, rows: Int, columns: Int,
                                              into sums: UnsafeMutablePointer<Float>) {
        withUnsafeTemporaryAllocation(of: Float.self, capacity: columns) { column in
            let s = column.baseAddress!
            s.update(repeating: 0, count: columns)
            for r in 0..<rows {
                let row = m + r * columns
                for c in 0..<columns { s[c] += row[c] }
            }
            for c in 0..<columns { sums[c] += s[c] }
        }
    }

    /// The weight gradient of one image, pixel-major: `dWᵀ[tap, :] += v · dYᵀ[pixel, :]` for
    /// every (tap, pixel) each nonzero input pixel v reaches, in input order, by the C vector
    /// scatter (any stride).
    // image [C, H, W] (sparse), gradOutputTransposed dYᵀ [Ho·Wo, O] → gradWeightTransposed dWᵀ [C·k·k, O] +=
    @inline(__always)
    public static func accumulateWeightGradient(image: UnsafePointer<Float>, geometry g: Conv2dGeometry,
                                                gradOutputTransposed dyT: UnsafePointer<Float>,
                                                into dWt: UnsafeMutablePointer<Float>) {
        VectorKernels.eventConvScatter(image, geometry: g, table: dyT, into: dWt, .toTaps)
    }

    /// Whether the C scatter takes its specialised 3×3 path for `g` (tap rows in registers,
    /// per block of 32 output channels: 3×3, stride 1, padding ≤ 2, a multiple of 32 output
    /// channels), asked of the C kernel itself (`sf_event_conv_k3_path`, its own test).
    public static func takesThreeByThreePath(_ g: Conv2dGeometry) -> Bool {
        var c = VectorKernels.cGeometry(g)
        return sf_event_conv_k3_path(&c) != 0
    }

    /// `accumulateWeightGradient` in plain Swift, any stride: the reference of the C scatter.
    // image [C, H, W] (sparse), gradOutputTransposed dYᵀ [Ho·Wo, O] → gradWeightTransposed dWᵀ [C·k·k, O] +=
    public static func accumulateWeightGradientReference(image: UnsafePointer<Float>, geometry g: Conv2dGeometry,
                                                         gradOutputTransposed dyT: UnsafePointer<Float>,
                                                         into dWt: UnsafeMutablePointer<Float>) {
        let outC = g.outChannels
        forEachActiveTapAnyStride(image, geometry: g) { tap, pixel, v in
            SpikeMatmul.addScaled(dyT + pixel * outC, v, into: dWt + tap * outC, count: outC)
        }
    }

    // input [N, C, H, W] (sparse), weightTransposed Wᵀ [C·k·k, O], bias [O] → output [N, O, Ho, Wo]
    // scratch: at least Parallel.workers · Ho·Wo·O floats.
    public static func forward(input: UnsafePointer<Float>, images: Int, geometry g: Conv2dGeometry,
                               weightTransposed wt: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                               output: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>) {
        let outC = g.outChannels, pixels = g.outputPixels
        Parallel.forEachChunk(images, chunks: Parallel.workers) { slot, range in
            let buffer = scratch + slot * pixels * outC
            for n in range {
                synapticSums(image: input + n * g.inputImageSize, geometry: g, weightTransposed: wt, into: buffer)
                // [P, O] → output [O, P] + bias, in one pass
                VectorKernels.transposeAddingBias(buffer, rows: pixels, columns: outC, bias: bias, into: output + n * g.outputImageSize)
            }
        }
    }

    /// Floats of scratch `forward` needs.
    public static func forwardScratchCount(_ g: Conv2dGeometry) -> Int { Parallel.workers * g.outputPixels * g.outChannels }

    /// Floats of scratch `accumulateParameterGradients` needs for `images` images.
    public static func gradientScratchCount(_ g: Conv2dGeometry, images: Int) -> Int {
        let groups = (images + groupSize - 1) / groupSize
        return groups * (g.weightCount + g.outChannels) + Parallel.workers * g.outputPixels * g.outChannels
    }

    // gradOutput [N, O, Ho, Wo], input [N, C, H, W] (sparse) → gradWeight [O, C, k, k] += , gradBias [O] +=
    public static func accumulateParameterGradients(gradOutput: UnsafePointer<Float>, input: UnsafePointer<Float>,
                                                    images: Int, geometry g: Conv2dGeometry,
                                                    gradWeight: UnsafeMutablePointer<Float>, gradBias: UnsafeMutablePointer<Float>,
                                                    scratch: UnsafeMutablePointer<Float>) {
        guard images > 0 else { return }
        let outC = g.outChannels, pixels = g.outputPixels, patch = g.patchSize
        let groups = (images + groupSize - 1) / groupSize
        let partialSize = g.weightCount + outC                 // dWᵀ [C·k·k, O] then db [O]
        let partials = scratch
        let transposeArea = scratch + groups * partialSize     // per worker [P, O]
        Parallel.forEachChunk(groups, chunks: Parallel.workers) { slot, groupRange in
            let dyT = transposeArea + slot * pixels * outC
            for group in groupRange {
                let dWt = partials + group * partialSize, db = dWt + g.weightCount
                dWt.update(repeating: 0, count: partialSize)
                for n in (group * groupSize)..<min(images, (group + 1) * groupSize) {
                    let dy = gradOutput + n * g.outputImageSize
                    // dY [O, P] → dyT [P, O], then the bias partial from it
                    transposeTiled(dy, rows: outC, columns: pixels, into: dyT)
                    addColumnSums(dyT, rows: pixels, columns: outC, into: db)
                    accumulateWeightGradient(image: input + n * g.inputImageSize, geometry: g,
                                             gradOutputTransposed: dyT, into: dWt)
                }
            }
        }
        // Reduce the group partials in group order, then dW [O, C·k·k] += dWᵀ.
        for group in 1..<groups {
            let src = partials + group * partialSize
            for i in 0..<partialSize { partials[i] += src[i] }
        }
        SpikeMatmul.addTransposed(partials, rows: outC, columns: patch, into: gradWeight)
        for o in 0..<outC { gradBias[o] += partials[g.weightCount + o] }
    }
}

/// dst [columns, rows] = srcᵀ for src [rows, columns] (pure data movement), by the C kernel
/// (`VectorKernels.transpose`: 8×8 register blocks in 32×32 tiles).
@inline(__always)
public func transposeTiled(_ src: UnsafePointer<Float>, rows: Int, columns: Int, into dst: UnsafeMutablePointer<Float>) {
    VectorKernels.transpose(src, rows: rows, columns: columns, into: dst)
}
