import XCTest
@testable import SpikeTensor

final class Conv2dKernelTests: XCTestCase {
    /// Geometries: the paper's 3×3/pad 1/stride 1, plus stride 2, no padding, 1×1, 5×5 with
    /// padding 2 on a non-square image, and a kernel as large as the padded input.
    static let geometries = [
        Conv2dGeometry(inChannels: 2, outChannels: 3, height: 6, width: 6, kernelSize: 3, stride: 1, padding: 1),
        Conv2dGeometry(inChannels: 3, outChannels: 2, height: 7, width: 5, kernelSize: 3, stride: 2, padding: 1),
        Conv2dGeometry(inChannels: 2, outChannels: 4, height: 5, width: 6, kernelSize: 3, stride: 1, padding: 0),
        Conv2dGeometry(inChannels: 3, outChannels: 2, height: 4, width: 4, kernelSize: 1, stride: 1, padding: 0),
        Conv2dGeometry(inChannels: 1, outChannels: 2, height: 6, width: 8, kernelSize: 5, stride: 1, padding: 2),
        Conv2dGeometry(inChannels: 2, outChannels: 2, height: 3, width: 3, kernelSize: 5, stride: 3, padding: 1),
    ]

    func runFastForTests(_ g: Conv2dGeometry, images: Int, x: [Float], w: [Float], b: [Float], dy: [Float],
                         columnBudget: Int) -> (y: [Float], dx: [Float], dw: [Float], db: [Float]) {
        var workspace = Conv2dWorkspace(columnBudget: columnBudget)
        var y = [Float](repeating: .nan, count: images * g.outputImageSize)
        var dx = [Float](repeating: .nan, count: images * g.inputImageSize)
        var dw = [Float](repeating: 0, count: g.weightCount)
        var db = [Float](repeating: 0, count: g.outChannels)
        x.withUnsafeBufferPointer { xp in
            w.withUnsafeBufferPointer { wp in
                b.withUnsafeBufferPointer { bp in
                    y.withUnsafeMutableBufferPointer { yp in
                        Conv2dKernel.forward(input: xp.baseAddress!, images: images, geometry: g, weight: wp.baseAddress!,
                                             bias: bp.baseAddress!, output: yp.baseAddress!, workspace: &workspace)
                    }
                    dy.withUnsafeBufferPointer { dyp in
                        dx.withUnsafeMutableBufferPointer { dxp in
                            dw.withUnsafeMutableBufferPointer { dwp in
                                db.withUnsafeMutableBufferPointer { dbp in
                                    Conv2dKernel.backward(gradOutput: dyp.baseAddress!, input: xp.baseAddress!, images: images,
                                                          geometry: g, weight: wp.baseAddress!, gradWeight: dwp.baseAddress!,
                                                          gradBias: dbp.baseAddress!, gradInput: dxp.baseAddress!,
                                                          workspace: &workspace)
                                }
                            }
                        }
                    }
                }
            }
        }
        return (y, dx, dw, db)
    }

    /// im2col + GEMM forward and backward (input, weight, bias) vs the direct convolution, with
    /// one big chunk and with a tiny column budget (one image per chunk) to cover chunking.
    func testIm2colConvMatchesDirectConvolution() {
        var rng = SeededGenerator(seed: 3)
        for g in Self.geometries {
            let images = 5
            let x = randomArray(images * g.inputImageSize, &rng)
            let w = randomArray(g.weightCount, &rng)
            let b = randomArray(g.outChannels, &rng)
            let dy = randomArray(images * g.outputImageSize, &rng)
            let refY = ReferenceConv2d.forward(input: x, images: images, geometry: g, weight: w, bias: b)
            let ref = ReferenceConv2d.backward(gradOutput: dy, input: x, images: images, geometry: g, weight: w)
            for budget in [1 << 20, 1] {
                let fast = runFastForTests(g, images: images, x: x, w: w, b: b, dy: dy, columnBudget: budget)
                let label = "\(g) budget \(budget)"
                assertClose(fast.y, refY, tolerance: 1e-5, "forward " + label)
                assertClose(fast.dx, ref.gradInput, tolerance: 1e-5, "dx " + label)
                assertClose(fast.dw, ref.gradWeight, tolerance: 1e-5, "dw " + label)
                assertClose(fast.db, ref.gradBias, tolerance: 1e-5, "db " + label)
            }
        }
    }

    /// The reference itself against a hand-computed case: a 3×3 image of ones, a 3×3 kernel of
    /// ones, padding 1: each output counts the in-image pixels of its window (corners 4,
    /// edges 6, centre 9), plus bias 0.5.
    func testReferenceConvolutionHandExample() {
        let g = Conv2dGeometry(inChannels: 1, outChannels: 1, height: 3, width: 3, kernelSize: 3, stride: 1, padding: 1)
        let y = ReferenceConv2d.forward(input: [Float](repeating: 1, count: 9), images: 1, geometry: g,
                                        weight: [Float](repeating: 1, count: 9), bias: [0.5])
        XCTAssertEqual(y, [4.5, 6.5, 4.5, 6.5, 9.5, 6.5, 4.5, 6.5, 4.5])
    }

    /// Finite differences of L = Σ dy ⊙ conv(x; W, b) (Double sums) vs the fast backward.
    /// L is linear in each of x, W, b, so a central difference is exact up to rounding.
    func testConvBackwardMatchesFiniteDifferences() {
        var rng = SeededGenerator(seed: 5)
        let g = Conv2dGeometry(inChannels: 2, outChannels: 3, height: 5, width: 5, kernelSize: 3, stride: 1, padding: 1)
        let images = 2
        let x = randomArray(images * g.inputImageSize, &rng)
        let w = randomArray(g.weightCount, &rng)
        let b = randomArray(g.outChannels, &rng)
        let dy = randomArray(images * g.outputImageSize, &rng)
        let fast = runFastForTests(g, images: images, x: x, w: w, b: b, dy: dy, columnBudget: 1 << 20)
        func loss(_ x: [Float], _ w: [Float], _ b: [Float]) -> Double {
            let y = runFastForTests(g, images: images, x: x, w: w, b: b, dy: dy, columnBudget: 1 << 20).y
            return zip(y, dy).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        }
        let eps: Float = 1e-2
        func fd(_ values: [Float], _ i: Int, _ evaluate: ([Float]) -> Double) -> Float {
            var plus = values, minus = values
            plus[i] += eps; minus[i] -= eps
            return Float((evaluate(plus) - evaluate(minus)) / Double(2 * eps))
        }
        for i in stride(from: 0, to: w.count, by: 7) {
            XCTAssertEqual(fast.dw[i], fd(w, i) { loss(x, $0, b) }, accuracy: 2e-3, "dW[\(i)]")
        }
        for i in 0..<b.count { XCTAssertEqual(fast.db[i], fd(b, i) { loss(x, w, $0) }, accuracy: 2e-3, "db[\(i)]") }
        for i in stride(from: 0, to: x.count, by: 5) {
            XCTAssertEqual(fast.dx[i], fd(x, i) { loss($0, w, b) }, accuracy: 2e-3, "dx[\(i)]")
        }
    }
}

extension Conv2dKernelTests {
    /// Enough images that the per-image parallel paths (im2col, scatter, gather, col2im) split
    /// across cores, and a budget that gives several chunks: still equal to the reference.
    func testParallelChunkedPathsMatchReference() {
        var rng = SeededGenerator(seed: 4)
        let g = Conv2dGeometry(inChannels: 2, outChannels: 3, height: 6, width: 5, kernelSize: 3, stride: 1, padding: 1)
        let images = 24
        let x = randomArray(images * g.inputImageSize, &rng)
        let w = randomArray(g.weightCount, &rng)
        let b = randomArray(g.outChannels, &rng)
        let dy = randomArray(images * g.outputImageSize, &rng)
        let fast = runFastForTests(g, images: images, x: x, w: w, b: b, dy: dy, columnBudget: g.patchSize * g.outputPixels * 10)
        let ref = ReferenceConv2d.backward(gradOutput: dy, input: x, images: images, geometry: g, weight: w)
        assertClose(fast.y, ReferenceConv2d.forward(input: x, images: images, geometry: g, weight: w, bias: b),
                    tolerance: 1e-5, "forward")
        assertClose(fast.dx, ref.gradInput, tolerance: 1e-5, "dx")
        assertClose(fast.dw, ref.gradWeight, tolerance: 1e-5, "dw")
        assertClose(fast.db, ref.gradBias, tolerance: 1e-5, "db")
    }

    /// The C im2col (every variant) writes exactly the plain im2col's columns, into a wider
    /// column matrix (its stride larger than the images' columns), for every geometry (strides
    /// 1, 2 and 3, 5×5 stride 2), the paper's 14×14 layers (with the transposed convolution's
    /// padding) and a padding larger than k − 1.
    func testCIm2colMatchesThePlainOne() {
        var rng = SeededGenerator(seed: 71)
        let geometries = Self.geometries + [
            Conv2dGeometry(inChannels: 2, outChannels: 16, height: 32, width: 31, kernelSize: 5, stride: 2, padding: 2),
            Conv2dGeometry(inChannels: 1, outChannels: 1, height: 9, width: 10, kernelSize: 4, stride: 3, padding: 3),
            Conv2dGeometry(inChannels: 32, outChannels: 32, height: 14, width: 14, kernelSize: 3, stride: 1, padding: 1),
            Conv2dGeometry(inChannels: 2, outChannels: 1, height: 20, width: 19, kernelSize: 3, stride: 1, padding: 2),
            Conv2dGeometry(inChannels: 1, outChannels: 1, height: 4, width: 5, kernelSize: 3, stride: 1, padding: 3),
        ]
        for g in geometries {
            let images = 3, stride = images * g.outputPixels + 5
            let x = (0..<(images * g.inputImageSize)).map { _ in rng.nextUniform(-1, 1) }
            var expected = [Float](repeating: -7, count: g.patchSize * stride)
            Im2col.plainIm2col(x, images: images, geometry: g, columns: &expected, columnStride: stride)
            for variant in VectorKernels.available {
                var columns = [Float](repeating: -7, count: g.patchSize * stride)
                VectorKernels.im2col(x, images: images, geometry: g, columns: &columns, columnStride: stride,
                                     variant: variant)
                XCTAssertEqual(columns, expected, "\(g) \(variant)")
            }
        }
    }
}

extension Conv2dKernelTests {
    /// Stride-1 geometries with a multiple of 8 output channels, which `Conv2dKernel.forward`
    /// hands to `DenseKernels.convolutionStride1`: the paper's conv2 (and its transposed convolution, the
    /// same shape), 32 + 8 and 32 + 16 output channels (the 8-channel blocks after the
    /// 32-channel ones), one input channel, 1×1 and 5×5 kernels, odd sizes, no padding, and a
    /// padding larger than k − 1.
    static let directGeometries = [
        Conv2dGeometry(inChannels: 32, outChannels: 32, height: 14, width: 14, kernelSize: 3, stride: 1, padding: 1),
        Conv2dGeometry(inChannels: 3, outChannels: 40, height: 7, width: 9, kernelSize: 3, stride: 1, padding: 1),
        Conv2dGeometry(inChannels: 5, outChannels: 48, height: 6, width: 5, kernelSize: 3, stride: 1, padding: 0),
        Conv2dGeometry(inChannels: 1, outChannels: 8, height: 11, width: 13, kernelSize: 5, stride: 1, padding: 2),
        Conv2dGeometry(inChannels: 7, outChannels: 16, height: 4, width: 4, kernelSize: 1, stride: 1, padding: 0),
        Conv2dGeometry(inChannels: 2, outChannels: 8, height: 4, width: 5, kernelSize: 3, stride: 1, padding: 3),
        Conv2dGeometry(inChannels: 2, outChannels: 24, height: 28, width: 28, kernelSize: 3, stride: 1, padding: 1),
    ]

    /// Every variant this CPU runs (baseline, AVX2 + FMA, AVX-512) against the Double-sum
    /// reference, with and without bias, every output element written (NaN-filled before).
    func testDirectConvolutionMatchesTheReferenceInEveryVariant() {
        var rng = SeededGenerator(seed: 73)
        XCTAssertTrue(DenseKernels.available.contains(.baseline))
        for g in Self.directGeometries {
            XCTAssertTrue(DenseKernels.handlesConvolution(g), "\(g)")
            let images = 3
            let x = randomArray(images * g.inputImageSize, &rng)
            let w = randomArray(g.weightCount, &rng)
            let b = randomArray(g.outChannels, &rng)
            let expected = ReferenceConv2d.forward(input: x, images: images, geometry: g, weight: w, bias: b)
            let zeroBias = [Float](repeating: 0, count: g.outChannels)
            let expectedNoBias = ReferenceConv2d.forward(input: x, images: images, geometry: g, weight: w, bias: zeroBias)
            for variant in DenseKernels.available {
                for withBias in [true, false] {
                    var y = [Float](repeating: .nan, count: images * g.outputImageSize)
                    y.withUnsafeMutableBufferPointer { yp in
                        b.withUnsafeBufferPointer { bp in
                            DenseKernels.convolutionStride1(input: x, images: images, geometry: g, weight: w,
                                                       bias: withBias ? bp.baseAddress! : nil, output: yp.baseAddress!,
                                                       variant: variant)
                        }
                    }
                    assertClose(y, withBias ? expected : expectedNoBias, tolerance: 1e-5, "\(g) \(variant) bias \(withBias)")
                }
                // channels-last output: image n's [Ho, Wo, O] is the reference's [O, Ho, Wo] transposed
                var y = [Float](repeating: .nan, count: images * g.outputImageSize)
                y.withUnsafeMutableBufferPointer { yp in
                    DenseKernels.convolutionStride1(input: x, images: images, geometry: g, weight: w, bias: b,
                                                    output: yp.baseAddress!, outputChannelsLast: true, variant: variant)
                }
                var transposed = expected
                for n in 0..<images {
                    for o in 0..<g.outChannels {
                        for p in 0..<g.outputPixels {
                            transposed[n * g.outputImageSize + p * g.outChannels + o] = expected[n * g.outputImageSize + o * g.outputPixels + p]
                        }
                    }
                }
                assertClose(y, transposed, tolerance: 1e-5, "\(g) \(variant) channels-last")
                // channels-last input: image n given as [H, W, C] gives the same output
                var xLast = x
                for n in 0..<images {
                    for c in 0..<g.inChannels {
                        for p in 0..<(g.height * g.width) {
                            xLast[n * g.inputImageSize + p * g.inChannels + c] = x[n * g.inputImageSize + c * g.height * g.width + p]
                        }
                    }
                }
                var yFromLast = [Float](repeating: .nan, count: images * g.outputImageSize)
                yFromLast.withUnsafeMutableBufferPointer { yp in
                    DenseKernels.convolutionStride1(input: xLast, images: images, geometry: g, weight: w, bias: b,
                                                    output: yp.baseAddress!, inputChannelsLast: true, variant: variant)
                }
                assertClose(yFromLast, expected, tolerance: 1e-5, "\(g) \(variant) channels-last input")
            }
        }
    }

    /// The layer path: forward and the transposed convolution of the backward (dL/dx) of these
    /// geometries, through `Conv2dKernel`, against the reference.
    func testConvKernelWithDirectPathMatchesReference() {
        var rng = SeededGenerator(seed: 74)
        for g in Self.directGeometries {
            let images = 4
            let x = randomArray(images * g.inputImageSize, &rng)
            let w = randomArray(g.weightCount, &rng)
            let b = randomArray(g.outChannels, &rng)
            let dy = randomArray(images * g.outputImageSize, &rng)
            let fast = runFastForTests(g, images: images, x: x, w: w, b: b, dy: dy, columnBudget: 1 << 20)
            let ref = ReferenceConv2d.backward(gradOutput: dy, input: x, images: images, geometry: g, weight: w)
            assertClose(fast.y, ReferenceConv2d.forward(input: x, images: images, geometry: g, weight: w, bias: b),
                        tolerance: 1e-5, "forward \(g)")
            assertClose(fast.dx, ref.gradInput, tolerance: 1e-5, "dx \(g)")
            // dW (im2col + GEMM, unchanged) sums up to 4·784 products per element in Float.
            assertClose(fast.dw, ref.gradWeight, tolerance: 5e-5, "dw \(g)")
        }
    }
}

extension Conv2dKernelTests {
    /// `DenseKernels.rowProduct` in every variant against Double sums, for row counts around its
    /// 8-row blocks (1, 7, 8, 16, 19) and columns of 32-blocks with and without 8-column tails.
    func testRowProductMatchesDoubleSumsInEveryVariant() {
        var rng = SeededGenerator(seed: 75)
        for (rows, inner, columns) in [(1, 5, 8), (7, 33, 40), (8, 64, 32), (16, 512, 512), (19, 17, 56)] {
            let a = randomArray(rows * inner, &rng), b = randomArray(inner * columns, &rng)
            var expected = [Float](repeating: 0, count: rows * columns)
            for r in 0..<rows {
                for j in 0..<columns {
                    var sum = 0.0
                    for i in 0..<inner { sum += Double(a[r * inner + i]) * Double(b[i * columns + j]) }
                    expected[r * columns + j] = Float(sum)
                }
            }
            for variant in DenseKernels.available {
                var c = [Float](repeating: .nan, count: rows * columns)
                DenseKernels.rowProduct(a, rows: rows, inner: inner, b, columns: columns, into: &c, variant: variant)
                // A Float sum of `inner` products in sequence: rounding grows with its length.
                assertClose(c, expected, tolerance: 1e-5 + Float(inner) * 1e-7, "\(rows)×\(inner)·\(inner)×\(columns) \(variant)")
            }
        }
    }
}

extension Conv2dKernelTests {
    /// The dense kernels' variant follows the CPU flags Linux lists: AVX-512 with avx512f and
    /// avx512vl, AVX2 with avx2 and fma, else the baseline (and then OpenBLAS stays in use).
    func testDenseVariantIsDetectedFromTheCPUFlags() throws {
        guard let cpuinfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else {
            throw XCTSkip("no /proc/cpuinfo flags line on this system")
        }
        let flags = Set(line.split(separator: " ").map(String.init))
        let expected: DenseKernels.Variant = flags.isSuperset(of: ["avx2", "fma", "avx512f", "avx512vl"]) ? .avx512
            : flags.isSuperset(of: ["avx2", "fma"]) ? .avx2 : .baseline
        XCTAssertEqual(DenseKernels.preferred, expected)
        XCTAssertEqual(DenseKernels.replacesBLAS, expected != .baseline)
    }
}
