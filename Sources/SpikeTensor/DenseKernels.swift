import CSpikeKernels

/// Dense products that OpenBLAS serves badly here, in C (`CSpikeKernels/DirectConvolution.c`):
/// a baseline, an AVX2 + FMA and an AVX-512 variant from one body, chosen at run time from cpuid.
/// Both keep a register block of output rows × 32 (or 8) columns in vector registers over the
/// whole reduction and read the weight in place, with no column matrix and no packing.
/// Products may fuse (FMA), so results equal the plain sums to rounding, as a GEMM's do
/// (tested against the Double-sum references).
///
/// - `convolutionStride1`: a stride-1 convolution over dense input. Per image, the input is
///   laid channels-last on a zero-bordered grid and each tap is one product with a constant
///   row shift, so only the image and its output cross memory (im2col + GEMM writes and reads
///   k·k copies of the input). Training takes it for conv2's dL/dx, a stride-1 convolution of
///   the dense δ with the flipped kernel (`Conv2dKernel.transposedConvolution`).
/// - `rowProduct`: `C = A·B` for few rows, e.g. one time step of a recurrent layer's backward
///   (`[B, out]·R`), where OpenBLAS spends as long packing R as multiplying.
public enum DenseKernels {
    /// Instruction-set variant of the kernels.
    public enum Variant: Int32, Sendable, CaseIterable {
        case baseline = 0, avx2 = 1, avx512 = 2
    }

    /// The widest variant this CPU and OS run (cpuid + XCR0).
    public static let preferred = Variant(rawValue: sf_direct_conv_level()) ?? .baseline

    /// The variants this machine can run (the tests compare each with the reference).
    public static var available: [Variant] { Variant.allCases.filter { $0.rawValue <= preferred.rawValue } }

    /// Whether the layers take these kernels instead of OpenBLAS: with AVX2 + FMA or AVX-512.
    /// Measured one thread on an AVX-512 EPYC (`spikefuse-bench --gemm-peak`, docs/speed.md):
    /// conv2's dL/dx 90.8 (AVX-512) and 75.5 (AVX2) GFLOP/s against 54.4 for im2col + OpenBLAS,
    /// a recurrent step 110 / 84–90 against 71–84; the baseline variant (SSE, no FMA) reaches
    /// 27–30, half of OpenBLAS, so without AVX2 the layers keep OpenBLAS.
    public static let replacesBLAS = preferred != .baseline

    /// True when `convolutionStride1` computes `g`: stride 1 and a multiple of 8 output channels.
    public static func handlesConvolution(_ g: Conv2dGeometry) -> Bool {
        g.stride == 1 && g.outChannels % 8 == 0 && g.outputHeight > 0 && g.outputWidth > 0
    }

    /// `y[n, o, i, j] = b[o] + Σ_{c,ki,kj} W[o, c, ki, kj] · x[n, c, i − p + ki, j − p + kj]`
    /// (zero padding p, as `Conv2dKernel`), images split over the cores; `inputChannelsLast`
    /// reads each image as `[H, W, C]`, `outputChannelsLast` writes it as `[Ho, Wo, O]` (the
    /// layout the kernel computes in).
    // input [N, C, H, W] (or [N, H, W, C]), weight [O, C, k, k], bias [O] (nil: none)
    // → output [N, O, Ho, Wo], or [N, Ho, Wo, O] when outputChannelsLast (overwritten)
    public static func convolutionStride1(input: UnsafePointer<Float>, images: Int, geometry g: Conv2dGeometry,
                                          weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                                          output: UnsafeMutablePointer<Float>, inputChannelsLast: Bool = false,
                                          outputChannelsLast: Bool = false, variant: Variant = preferred) {
        guard images > 0 else { return }
        let convolution = PackedConvolution(weight: weight, geometry: g, variant: variant)
        // Images are independent, so any split over the cores gives the same bits.
        Parallel.forEachChunk(images, minimumChunk: 8) { range in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: convolution.scratchCount) { scratch in
                convolution.run(input: input + range.lowerBound * g.inputImageSize, images: range.count, bias: bias,
                                output: output + range.lowerBound * g.outputImageSize, inputChannelsLast: inputChannelsLast,
                                outputChannelsLast: outputChannelsLast, scratch: scratch.baseAddress!)
            }
        }
    }

    /// A stride-1 convolution with its weight packed once (`[k·k, C, O]`), run on the caller's
    /// thread over as few images as it likes: for a pass that convolves image by image as it
    /// goes (`convolutionStride1` packs per call and splits the images over the cores).
    public struct PackedConvolution: Sendable {
        public let geometry: Conv2dGeometry
        public let variant: Variant
        /// Floats of scratch one `run` needs.
        public let scratchCount: Int
        private let packed: [Float]

        // weight [O, C, k, k]
        public init(weight: UnsafePointer<Float>, geometry g: Conv2dGeometry, variant: Variant = preferred) {
            precondition(handlesConvolution(g), "DenseKernels: needs stride 1 and a multiple of 8 output channels, got \(g)")
            precondition(variant.rawValue <= preferred.rawValue, "DenseKernels: this CPU cannot run the \(variant) variant")
            var shape = VectorKernels.cGeometry(g)
            var packed = [Float](repeating: 0, count: Int(sf_direct_conv_packed_weight_count(&shape)))
            packed.withUnsafeMutableBufferPointer { sf_direct_conv_pack_weight(weight, &shape, $0.baseAddress!) }
            self.packed = packed
            geometry = g
            self.variant = variant
            scratchCount = Int(sf_direct_conv_scratch_count(&shape))
        }

        // input [N, C, H, W] (or [N, H, W, C]), bias [O] (nil: none)
        // → output [N, O, Ho, Wo] (or [N, Ho, Wo, O]), overwritten; scratch: scratchCount floats
        public func run(input: UnsafePointer<Float>, images: Int, bias: UnsafePointer<Float>?,
                        output: UnsafeMutablePointer<Float>, inputChannelsLast: Bool = false,
                        outputChannelsLast: Bool = false, scratch: UnsafeMutablePointer<Float>) {
            guard images > 0 else { return }
            var shape = VectorKernels.cGeometry(geometry)
            let layout = (outputChannelsLast ? Int32(SF_DIRECT_CONV_OUTPUT_CHANNELS_LAST) : 0)
                | (inputChannelsLast ? Int32(SF_DIRECT_CONV_INPUT_CHANNELS_LAST) : 0)
            packed.withUnsafeBufferPointer { p in
                sf_direct_conv_stride1(input, Int64(images), &shape, p.baseAddress!, bias, output, scratch, layout,
                                       variant.rawValue)
            }
        }
    }

    /// True when `rowProduct` computes a product with `columns` columns (a multiple of 8).
    public static func handlesRowProduct(columns: Int) -> Bool { columns > 0 && columns % 8 == 0 }

    /// `c = a·b`, one thread.
    // a [rows, inner], b [inner, columns] (row-major) → c [rows, columns] (overwritten)
    public static func rowProduct(_ a: UnsafePointer<Float>, rows: Int, inner: Int, _ b: UnsafePointer<Float>, columns: Int,
                                  into c: UnsafeMutablePointer<Float>, variant: Variant = preferred) {
        precondition(handlesRowProduct(columns: columns), "DenseKernels.rowProduct: columns \(columns) not a multiple of 8")
        precondition(variant.rawValue <= preferred.rawValue, "DenseKernels: this CPU cannot run the \(variant) variant")
        sf_row_product(a, Int64(rows), Int64(inner), b, Int64(columns), c, variant.rawValue)
    }
}
