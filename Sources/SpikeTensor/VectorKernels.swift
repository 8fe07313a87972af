import CSpikeKernels

/// The C vector kernels (`CSpikeKernels`) of the event-driven scatters, and which of their
/// variants runs: AVX2 (256-bit adds, one instruction per 8 floats) where the CPU and the OS
/// support it, else the baseline build (SSE2 on x86-64: two instructions per 8 floats); where
/// AVX-512 (F and VL) is there too, the convolution scatter's 3×3, 32-channel path runs an
/// AVX-512 build (a channel's nine 32-float rows in 18 zmm registers), every other kernel its
/// AVX2 one. Swift compiles for the baseline only and has no per-function target attribute, hence C.
///
/// Every variant does the same float operations in the same order as the Swift reference
/// (`SpikeMatmul.addScaled` over `EventConv2dKernel.forEachActiveTapAnyStride` / the row loops),
/// with no FMA contraction, so every result is bit-identical to it; the tests check all of them.
public enum VectorKernels {
    /// Instruction-set variant of a C vector kernel, in increasing width.
    public enum Variant: Int32, Sendable, CaseIterable {
        case baseline, avx2, avx512
    }

    /// True when this CPU and OS can run the AVX2 variant (cpuid + XCR0).
    public static let cpuHasAVX2 = sf_cpu_has_avx2() != 0

    /// True when this CPU and OS can run the AVX-512 variant (F and VL, and the ZMM state: the
    /// test of `DenseKernels`).
    public static let cpuHasAVX512 = cpuHasAVX2 && sf_direct_conv_level() >= 2

    /// The variant the kernels use: the widest this machine runs.
    public static let preferred: Variant = cpuHasAVX512 ? .avx512 : cpuHasAVX2 ? .avx2 : .baseline

    /// The variants this machine can run (the tests compare each with the reference).
    public static var available: [Variant] { Variant.allCases.filter { $0.rawValue <= preferred.rawValue } }

    /// The level the C kernels take: 0 baseline, 1 AVX2, 2 AVX-512 (kernels without an AVX-512
    /// build run their AVX2 one for any level ≥ 1).
    @inline(__always)
    static func flag(_ variant: Variant) -> Int32 {
        precondition(variant.rawValue <= preferred.rawValue, "the \(variant) variant needs a CPU that has it")
        return variant.rawValue
    }

    /// Which way `eventConvScatter` writes.
    public enum ScatterDirection: Sendable {
        /// sums [Ho·Wo, O]: `sums[pixel, :] += v · Wᵀ[tap, :]` (table = Wᵀ [C·k·k, O]): the forward.
        case toPixels
        /// dWᵀ [C·k·k, O]: `dWᵀ[tap, :] += v · dYᵀ[pixel, :]` (table = dYᵀ [Ho·Wo, O]): the weight gradient.
        case toTaps
    }

    /// For every nonzero pixel v of one image [C, H, W] and every (tap, output pixel) it reaches
    /// (any stride), in input order: the add `direction` names (see `ScatterDirection`).
    // image [C, H, W] (sparse), table and target as the direction says.
    public static func eventConvScatter(_ image: UnsafePointer<Float>, geometry g: Conv2dGeometry,
                                        table: UnsafePointer<Float>, into target: UnsafeMutablePointer<Float>,
                                        _ direction: ScatterDirection, variant: Variant = preferred) {
        var shape = cGeometry(g)
        sf_event_conv_scatter(image, &shape, table, target,
                                      direction == .toPixels ? SF_SCATTER_TO_PIXELS : SF_SCATTER_TO_TAPS, flag(variant))
    }

    /// The C description of a geometry.
    static func cGeometry(_ g: Conv2dGeometry) -> sf_conv_geometry {
        sf_conv_geometry(in_channels: Int64(g.inChannels), height: Int64(g.height), width: Int64(g.width),
                         kernel: Int64(g.kernelSize), padding: Int64(g.padding),
                         out_height: Int64(g.outputHeight), out_width: Int64(g.outputWidth),
                         out_channels: Int64(g.outChannels), stride: Int64(g.stride))
    }

    /// im2col, any stride, the layout of `Im2col.im2col` (columns [C·k·k, images·Ho·Wo], row
    /// stride `columnStride`).
    // input [images, C, H, W] → columns [C·k·k, images·Ho·Wo]
    public static func im2col(_ input: UnsafePointer<Float>, images: Int, geometry g: Conv2dGeometry,
                              columns: UnsafeMutablePointer<Float>, columnStride: Int, variant: Variant = preferred) {
        var shape = cGeometry(g)
        sf_im2col(input, Int64(images), &shape, columns, Int64(columnStride), flag(variant))
    }

    /// `y[r, :] += Σ_{j: x[r, j] ≠ 0} x[r, j] · Wᵀ[j, :]` for r in `rows`, inputs ascending.
    // x [·, in] (sparse), weightTransposed Wᵀ [in, out] → y [·, out] +=
    public static func spikeRowsForward(x: UnsafePointer<Float>, rows: Range<Int>, inFeatures: Int,
                                        weightTransposed wt: UnsafePointer<Float>, outFeatures: Int,
                                        y: UnsafeMutablePointer<Float>, variant: Variant = preferred) {
        sf_spike_rows_forward(x, Int64(rows.lowerBound), Int64(rows.upperBound), Int64(inFeatures),
                              wt, Int64(outFeatures), y, flag(variant))
    }

    /// `dWᵀ[j, :] += Σ_r x[r, j] · dY[r, :]` for the input columns j in `columns`, rows ascending,
    /// skipping x[r, j] = 0.
    // x [rows, in] (sparse), gradOutput dY [rows, out] → gradWeightTransposed dWᵀ [in, out] +=
    public static func spikeRowsWeightGradient(x: UnsafePointer<Float>, rows: Int, inFeatures: Int, columns: Range<Int>,
                                               gradOutput dY: UnsafePointer<Float>, outFeatures: Int,
                                               gradWeightTransposed dWt: UnsafeMutablePointer<Float>,
                                               variant: Variant = preferred) {
        sf_spike_rows_weight_gradient(x, Int64(rows), Int64(inFeatures), Int64(columns.lowerBound),
                                      Int64(columns.upperBound), dY, Int64(outFeatures), dWt, flag(variant))
    }

    /// dst [columns, rows] = srcᵀ for src [rows, columns]: 8×8 register blocks in 32×32 tiles.
    public static func transpose(_ src: UnsafePointer<Float>, rows: Int, columns: Int, into dst: UnsafeMutablePointer<Float>,
                                 variant: Variant = preferred) {
        sf_transpose(src, Int64(rows), Int64(columns), dst, flag(variant))
    }

    /// dst [columns, rows] = srcᵀ + bias [columns] (bias[c] added to every element of dst row c,
    /// one add per element: the bits of a transpose followed by the bias loop).
    public static func transposeAddingBias(_ src: UnsafePointer<Float>, rows: Int, columns: Int, bias: UnsafePointer<Float>,
                                           into dst: UnsafeMutablePointer<Float>, variant: Variant = preferred) {
        sf_transpose_add_bias(src, Int64(rows), Int64(columns), dst, bias, flag(variant))
    }

    /// w [rows, columns] += tᵀ for t [columns, rows], one add per element.
    public static func addTransposed(_ t: UnsafePointer<Float>, rows: Int, columns: Int, into w: UnsafeMutablePointer<Float>,
                                     variant: Variant = preferred) {
        sf_add_transposed(t, Int64(rows), Int64(columns), w, flag(variant))
    }

    /// `sums[c] += Σ_r m[r, c]`, each column summed from 0 in row order, then added (the bits of
    /// `EventConv2dKernel.addColumnSumsReference`).
    // m [rows, columns] → sums [columns] +=
    public static func addColumnSums(_ m: UnsafePointer<Float>, rows: Int, columns: Int,
                                     into sums: UnsafeMutablePointer<Float>, variant: Variant = preferred) {
        sf_add_column_sums(m, Int64(rows), Int64(columns), sums, flag(variant))
    }

    /// Packs `count` floats that are all 0 or 1 into ⌈count/64⌉ words (element i → bit i % 64 of
    /// word i / 64); false, with `words` unspecified, when some element is neither.
    public static func packSpikes(_ x: UnsafePointer<Float>, count: Int, into words: UnsafeMutablePointer<UInt64>,
                                  variant: Variant = preferred) -> Bool {
        sf_pack_spikes(x, Int64(count), words, flag(variant)) != 0
    }

    /// x[i] = bit i of `words` as 1.0 or 0.0, for i < count.
    public static func unpackSpikes(_ words: UnsafePointer<UInt64>, count: Int, into x: UnsafeMutablePointer<Float>,
                                    variant: Variant = preferred) {
        sf_unpack_spikes(words, Int64(count), x, flag(variant))
    }

    /// One LIF step over `neurons` floats (`LIFKernel.forwardStep`, whose Swift form is the
    /// reference): u = (u_prev ≥ V_th ? 0 : τ·u_prev) + I, or u = I without a previous
    /// membrane; o = 1 where u ≥ V_th. `membrane` may alias `current`.
    // current [N], previousMembrane [N]? → membrane [N], spikes [N]
    public static func lifForwardStep(current: UnsafePointer<Float>, previousMembrane: UnsafePointer<Float>?,
                                      membrane: UnsafeMutablePointer<Float>, spikes: UnsafeMutablePointer<Float>,
                                      neurons: Int, tau: Float, threshold: Float, variant: Variant = preferred) {
        sf_lif_forward_step(current, previousMembrane, membrane, spikes, Int64(neurons), tau, threshold, flag(variant))
    }

    /// `lifForwardStep` on I = sums + bias over channels-last rows (`bias[i % channels]`): the
    /// bias add and the LIF update in one pass, the bits of the two one after the other.
    /// `membrane` must not alias `sums`; neurons a multiple of channels. `keptMembrane` gets a
    /// copy of u written past the caches (a training pass's membranes, read only by its backward).
    // sums [N/C, C], bias [C], previousMembrane [N]? → membrane [N], spikes [N], keptMembrane [N]?
    public static func lifForwardStep(sums: UnsafePointer<Float>, bias: UnsafePointer<Float>, channels: Int,
                                      previousMembrane: UnsafePointer<Float>?, membrane: UnsafeMutablePointer<Float>,
                                      spikes: UnsafeMutablePointer<Float>, keptMembrane: UnsafeMutablePointer<Float>? = nil,
                                      neurons: Int, tau: Float, threshold: Float, variant: Variant = preferred) {
        precondition(channels > 0 && neurons % channels == 0, "lifForwardStep: \(neurons) neurons in rows of \(channels)")
        sf_lif_forward_step_biased(sums, bias, Int64(channels), previousMembrane, membrane, spikes, keptMembrane,
                                   Int64(neurons), tau, threshold, flag(variant))
    }

    /// `lifForwardStep(sums:bias:…)` over one channels-last image `[height, width, channels]`
    /// followed by the 2×2 average pool of its spikes (`maximum`: their max pool) into `pooled`
    /// (the full-size spikes are never written): the bits of the step, then the channels-last
    /// pool (a last odd row or column pooled into nothing, as the pool drops it). `membrane` may
    /// be `previousMembrane`.
    // sums [H, W, C], bias [C], previousMembrane [H, W, C]? → membrane [H, W, C], keptMembrane?,
    // pooled [H/2, W/2, C]
    public static func lifForwardPool2Step(sums: UnsafePointer<Float>, bias: UnsafePointer<Float>, channels: Int,
                                           previousMembrane: UnsafePointer<Float>?, membrane: UnsafeMutablePointer<Float>,
                                           keptMembrane: UnsafeMutablePointer<Float>? = nil, height: Int, width: Int,
                                           pooled: UnsafeMutablePointer<Float>, maximum: Bool = false, tau: Float,
                                           threshold: Float, variant: Variant = preferred) {
        sf_lif_forward_pool2_step(sums, bias, Int64(channels), previousMembrane, membrane, keptMembrane, Int64(height),
                                  Int64(width), pooled, tau, threshold, maximum ? 1 : 0, flag(variant))
    }

    /// One reverse LIF step (`LIFKernel.backwardStep`, the reference): δo = g (+ extra) −
    /// δu[t+1]·τ·u, δu = δo·h(u) + (u ≥ V_th ? 0 : δu[t+1]·τ), h(u) = height where
    /// |u − V_th| < halfWidth. `gradCurrent` may alias `gradSpikes` or `nextGradCurrent`.
    // gradSpikes [N], extra [N]?, membrane [N], nextGradCurrent [N]? → gradCurrent [N]
    public static func lifBackwardStep(gradSpikes: UnsafePointer<Float>, extraGradSpikes: UnsafePointer<Float>?,
                                       membrane: UnsafePointer<Float>, nextGradCurrent: UnsafePointer<Float>?,
                                       gradCurrent: UnsafeMutablePointer<Float>, neurons: Int, tau: Float, threshold: Float,
                                       halfWidth: Float, height: Float, variant: Variant = preferred) {
        sf_lif_backward_step(gradSpikes, extraGradSpikes, membrane, nextGradCurrent, gradCurrent, Int64(neurons), tau,
                             threshold, halfWidth, height, flag(variant))
    }

    /// `lifBackwardStep` over one channels-last image of a conv → LIF → pool layer, the spikes'
    /// gradient taken from the pool's (average: `pooledGradient[window(p), :] · scale` inside
    /// the full k×k windows; `maximum`: `pooledGradient[window(p), :]` at the window's first
    /// spiking pixel per channel, u ≥ V_th, or its first pixel where none spikes, `MaxPool2dKernel`'s
    /// rule; 0 elsewhere), and `columnSums` = Σ_pixels δu (overwritten): the pool's backward, the
    /// step and the bias sums in one pass, their bits. `gradCurrent` may alias `nextGradCurrent`.
    // pooledGradient [Ho/k, Wo/k, C], membrane [Ho, Wo, C], nextGradCurrent [Ho, Wo, C]?
    // → gradCurrent [Ho, Wo, C], columnSums [C]
    public static func lifBackwardPooledStep(pooledGradient: UnsafePointer<Float>, poolSize k: Int, scale: Float,
                                             height: Int, width: Int, channels: Int, membrane: UnsafePointer<Float>,
                                             nextGradCurrent: UnsafePointer<Float>?, gradCurrent: UnsafeMutablePointer<Float>,
                                             columnSums: UnsafeMutablePointer<Float>, tau: Float, threshold: Float,
                                             halfWidth: Float, surrogateHeight: Float, maximum: Bool = false,
                                             variant: Variant = preferred) {
        precondition(k > 0 && channels > 0, "lifBackwardPooledStep: pool \(k), channels \(channels)")
        sf_lif_backward_pooled_step(pooledGradient, Int64(k), scale, Int64(height / k), Int64(width / k), Int64(height),
                                    Int64(width), Int64(channels), membrane, nextGradCurrent, gradCurrent, columnSums,
                                    tau, threshold, halfWidth, surrogateHeight, maximum ? 1 : 0, flag(variant))
    }
}
