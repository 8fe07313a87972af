import XCTest
@testable import SpikeTensor

final class EventConv2dKernelTests: XCTestCase {
    /// Event-driven forward and weight/bias gradients vs the direct convolution on sparse
    /// inputs (zeros, ones and other values), for the geometries of the im2col tests, with
    /// more images than one group (`groupSize`) so the group reduction is covered.
    func testEventConvMatchesDirectConvolution() {
        var rng = SeededGenerator(seed: 61)
        let geometries = Conv2dKernelTests.geometries
        for g in geometries {
            let images = EventConv2dKernel.groupSize + 7
            let x: [Float] = (0..<images * g.inputImageSize).map { _ in
                let r = rng.nextDouble()
                return r < 0.75 ? 0 : (r < 0.9 ? 1 : rng.nextUniform(-1, 1))
            }
            let w = randomArray(g.weightCount, &rng)
            let b = randomArray(g.outChannels, &rng)
            let dy = randomArray(images * g.outputImageSize, &rng)
            var wt = [Float](repeating: 0, count: g.weightCount)
            w.withUnsafeBufferPointer { wp in wt.withUnsafeMutableBufferPointer {
                SpikeMatmul.transpose(wp.baseAddress!, rows: g.outChannels, columns: g.patchSize, into: $0.baseAddress!)
            } }
            var y = [Float](repeating: .nan, count: images * g.outputImageSize)
            var scratch = [Float](repeating: .nan, count: max(EventConv2dKernel.forwardScratchCount(g),
                                                               EventConv2dKernel.gradientScratchCount(g, images: images)))
            let dw0 = randomArray(g.weightCount, &rng), db0 = randomArray(g.outChannels, &rng)
            var dw = dw0, db = db0
            x.withUnsafeBufferPointer { xp in
                scratch.withUnsafeMutableBufferPointer { sp in
                    wt.withUnsafeBufferPointer { wtp in b.withUnsafeBufferPointer { bp in y.withUnsafeMutableBufferPointer { yp in
                        EventConv2dKernel.forward(input: xp.baseAddress!, images: images, geometry: g, weightTransposed: wtp.baseAddress!,
                                                  bias: bp.baseAddress!, output: yp.baseAddress!, scratch: sp.baseAddress!)
                    } } }
                    dy.withUnsafeBufferPointer { dyp in dw.withUnsafeMutableBufferPointer { dwp in db.withUnsafeMutableBufferPointer { dbp in
                        EventConv2dKernel.accumulateParameterGradients(gradOutput: dyp.baseAddress!, input: xp.baseAddress!, images: images,
                                                                       geometry: g, gradWeight: dwp.baseAddress!, gradBias: dbp.baseAddress!,
                                                                       scratch: sp.baseAddress!)
                    } } }
                }
            }
            let ref = ReferenceConv2d.backward(gradOutput: dy, input: x, images: images, geometry: g, weight: w)
            assertClose(y, ReferenceConv2d.forward(input: x, images: images, geometry: g, weight: w, bias: b),
                        tolerance: 1e-5, "forward \(g)")
            assertClose(dw, zip(dw0, ref.gradWeight).map { $0 + $1 }, tolerance: 1e-4, "dW \(g)")
            assertClose(db, zip(db0, ref.gradBias).map { $0 + $1 }, tolerance: 1e-4, "db \(g)")
        }
    }
}

extension EventConv2dKernelTests {
    /// The C scatter (strides 1, 2 and 3), in every variant this CPU runs, gives the bits of the plain Swift
    /// reference in both directions (forward sums, weight gradient), including padding larger
    /// than k − 1, a 1×1 kernel, channel counts that are not a multiple of 8, the 3×3 32-channel
    /// path (its border pixels, planes narrower than its eight-column scan), pooled values, and
    /// planes with more nonzero pixels than the C kernel lists at a time (1,024).
    func testCScatterMatchesTheReferenceBitForBit() {
        var rng = SeededGenerator(seed: 62)
        let geometries: [(Conv2dGeometry, Double)] = (Conv2dKernelTests.geometries + [
            // strides 2 and 3: 5×5 stride 2 as the field's first layers, 3×3·32 stride 2 (not the
            // specialised path), padding larger than the stride, a plane with more than 1,024 active pixels below
            Conv2dGeometry(inChannels: 2, outChannels: 16, height: 32, width: 32, kernelSize: 5, stride: 2, padding: 2),
            Conv2dGeometry(inChannels: 2, outChannels: 32, height: 13, width: 11, kernelSize: 3, stride: 2, padding: 1),
            Conv2dGeometry(inChannels: 1, outChannels: 5, height: 9, width: 10, kernelSize: 4, stride: 3, padding: 3),
            Conv2dGeometry(inChannels: 2, outChannels: 3, height: 5, width: 7, kernelSize: 3, stride: 1, padding: 3),
            Conv2dGeometry(inChannels: 1, outChannels: 9, height: 3, width: 9, kernelSize: 3, stride: 1, padding: 0),
            Conv2dGeometry(inChannels: 3, outChannels: 1, height: 8, width: 8, kernelSize: 5, stride: 1, padding: 0),
            Conv2dGeometry(inChannels: 32, outChannels: 32, height: 14, width: 14, kernelSize: 3, stride: 1, padding: 1),
            // the 3×3, 32-channel path: visual.conv1's shape, no padding, a plane narrower than
            // eight columns, padding 2 (every tap of the border rows tested)
            Conv2dGeometry(inChannels: 2, outChannels: 32, height: 28, width: 28, kernelSize: 3, stride: 1, padding: 1),
            Conv2dGeometry(inChannels: 3, outChannels: 32, height: 9, width: 11, kernelSize: 3, stride: 1, padding: 0),
            Conv2dGeometry(inChannels: 2, outChannels: 32, height: 6, width: 5, kernelSize: 3, stride: 1, padding: 2),
            Conv2dGeometry(inChannels: 2, outChannels: 32, height: 5, width: 7, kernelSize: 3, stride: 1, padding: 3),
            Conv2dGeometry(inChannels: 2, outChannels: 17, height: 6, width: 6, kernelSize: 1, stride: 1, padding: 0),
            // the same path in blocks of 32 output channels (64, 128: the described networks'
            // widths): padding 0, 1, 2, and a plane wider than 64 columns (no pair adds)
            Conv2dGeometry(inChannels: 3, outChannels: 64, height: 12, width: 13, kernelSize: 3, stride: 1, padding: 1),
            Conv2dGeometry(inChannels: 2, outChannels: 128, height: 7, width: 9, kernelSize: 3, stride: 1, padding: 0),
            Conv2dGeometry(inChannels: 2, outChannels: 96, height: 6, width: 5, kernelSize: 3, stride: 1, padding: 2),
            Conv2dGeometry(inChannels: 2, outChannels: 64, height: 5, width: 70, kernelSize: 3, stride: 1, padding: 1),
        ]).map { ($0, 0.3) } + [
            (Conv2dGeometry(inChannels: 2, outChannels: 40, height: 41, width: 45, kernelSize: 3, stride: 1, padding: 1), 0.9),
            (Conv2dGeometry(inChannels: 2, outChannels: 12, height: 41, width: 45, kernelSize: 5, stride: 2, padding: 2), 0.9),
        ]
        let values: [Float] = [1, 1, 0.25, 0.5, 0.75]
        for (g, density) in geometries {
            let x: [Float] = (0..<g.inputImageSize).map { _ in
                rng.nextDouble() >= density ? 0 : (rng.nextDouble() < 0.8 ? values[Int(rng.nextDouble() * 5) % 5] : rng.nextUniform(-1, 1))
            }
            let wt = (0..<g.weightCount).map { _ in rng.nextUniform(-1, 1) }
            let dyT = (0..<(g.outputPixels * g.outChannels)).map { _ in rng.nextUniform(-1, 1) }
            let dW0 = (0..<g.weightCount).map { _ in rng.nextUniform(-1, 1) }
            var sumsReference = [Float](repeating: .nan, count: g.outputPixels * g.outChannels), dWReference = dW0
            x.withUnsafeBufferPointer { xp in
                EventConv2dKernel.synapticSumsReference(image: xp.baseAddress!, geometry: g, weightTransposed: wt,
                                                        into: &sumsReference)
                EventConv2dKernel.accumulateWeightGradientReference(image: xp.baseAddress!, geometry: g,
                                                                    gradOutputTransposed: dyT, into: &dWReference)
            }
            XCTAssertNotEqual(dWReference, dW0, "\(g): the reference scattered nothing")
            for variant in VectorKernels.available {
                var sums = [Float](repeating: 0, count: g.outputPixels * g.outChannels), dW = dW0
                x.withUnsafeBufferPointer { xp in
                    VectorKernels.eventConvScatter(xp.baseAddress!, geometry: g, table: wt, into: &sums,
                                                   .toPixels, variant: variant)
                    VectorKernels.eventConvScatter(xp.baseAddress!, geometry: g, table: dyT, into: &dW,
                                                   .toTaps, variant: variant)
                }
                XCTAssertEqual(sums.map(\.bitPattern), sumsReference.map(\.bitPattern), "\(g) \(variant): forward sums")
                XCTAssertEqual(dW.map(\.bitPattern), dWReference.map(\.bitPattern), "\(g) \(variant): weight gradient")
            }
        }
    }

    /// Which geometries the C scatter's 3×3 path takes (what `describe` reports): multiples of
    /// 32 output channels at stride 1 and padding ≤ 2 only.
    func testThreeByThreePathGeometries() {
        func g(_ outC: Int, k: Int = 3, s: Int = 1, p: Int = 1) -> Conv2dGeometry {
            Conv2dGeometry(inChannels: 2, outChannels: outC, height: 8, width: 8, kernelSize: k, stride: s, padding: p)
        }
        XCTAssertTrue(EventConv2dKernel.takesThreeByThreePath(g(32)))
        XCTAssertTrue(EventConv2dKernel.takesThreeByThreePath(g(128, p: 2)))
        XCTAssertFalse(EventConv2dKernel.takesThreeByThreePath(g(48)))
        XCTAssertFalse(EventConv2dKernel.takesThreeByThreePath(g(64, s: 2)))
        XCTAssertFalse(EventConv2dKernel.takesThreeByThreePath(g(64, k: 5, p: 2)))
        XCTAssertFalse(EventConv2dKernel.takesThreeByThreePath(g(64, p: 3)))
    }

    /// The AVX2 variant is chosen wherever Linux says the CPU has AVX2, the AVX-512 one wherever
    /// it has AVX-512 F and VL (a broken detection would silently run a narrower variant).
    func testAVX2IsDetectedWhereTheCPUHasIt() throws {
        guard let cpuinfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let flags = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else {
            throw XCTSkip("no /proc/cpuinfo flags line on this system")
        }
        let names = Set(flags.split(separator: " ").map(String.init))
        let listed = names.contains("avx2")
        let listed512 = listed && names.isSuperset(of: ["fma", "avx512f", "avx512vl"])
        XCTAssertEqual(VectorKernels.cpuHasAVX2, listed, "cpuid says \(VectorKernels.cpuHasAVX2), /proc/cpuinfo says \(listed)")
        XCTAssertEqual(VectorKernels.cpuHasAVX512, listed512, "cpuid says \(VectorKernels.cpuHasAVX512), /proc/cpuinfo says \(listed512)")
        XCTAssertEqual(VectorKernels.preferred, listed512 ? .avx512 : listed ? .avx2 : .baseline)
    }

    /// The C column sums (every variant) give the plain loop's bits: a conv image's [196, 32], a
    /// recurrent layer's [T·B, 512], widths that are not a multiple of 8 or exceed one 256-column block.
    func testColumnSumsMatchTheReferenceBitForBit() {
        var rng = SeededGenerator(seed: 63)
        for (rows, columns) in [(196, 32), (1024, 512), (7, 5), (3, 300), (1, 1), (0, 9)] {
            let m = (0..<(rows * columns)).map { _ in rng.nextUniform(-1, 1) }
            let start = (0..<columns).map { _ in rng.nextUniform(-1, 1) }
            var expected = start
            EventConv2dKernel.addColumnSumsReference(m, rows: rows, columns: columns, into: &expected)
            if rows > 1 { XCTAssertNotEqual(expected, start, "[\(rows), \(columns)]") }
            for variant in VectorKernels.available {
                var sums = start
                VectorKernels.addColumnSums(m, rows: rows, columns: columns, into: &sums, variant: variant)
                XCTAssertEqual(sums.map(\.bitPattern), expected.map(\.bitPattern), "[\(rows), \(columns)] \(variant)")
            }
        }
    }

    /// The blocked transpose (every C variant) against the plain definition dst[c, r] = src[r, c],
    /// and the transposed add w += tᵀ likewise, for shapes with and without whole 8×8 blocks and
    /// 32×32 tiles (the kernels' [196, 32], [32, 784], the A-Network's [512, 512]).
    func testTiledTransposeIsTheTranspose() {
        for (rows, columns) in [(1, 1), (3, 5), (8, 8), (17, 33), (196, 32), (32, 784), (6, 19), (40, 77), (512, 512)] {
            let src = (0..<(rows * columns)).map { Float($0) + 0.5 }
            var expected = [Float](repeating: 0, count: rows * columns)
            for r in 0..<rows { for c in 0..<columns { expected[c * rows + r] = src[r * columns + c] } }
            let w0 = (0..<(rows * columns)).map { Float($0 % 13) * 0.25 - 1 }
            var expectedSum = w0          // w [columns, rows] += srcᵀ, src as t [rows, columns]
            for c in 0..<columns { for r in 0..<rows { expectedSum[c * rows + r] += src[r * columns + c] } }
            for variant in VectorKernels.available {
                var dst = [Float](repeating: -1, count: rows * columns), sum = w0
                VectorKernels.transpose(src, rows: rows, columns: columns, into: &dst, variant: variant)
                VectorKernels.addTransposed(src, rows: columns, columns: rows, into: &sum, variant: variant)
                XCTAssertEqual(dst, expected, "[\(rows), \(columns)] \(variant)")
                // with a bias per destination row: the transpose, then the bias added (the same bits)
                let bias = (0..<columns).map { Float($0 % 7) * 0.375 - 1.1 }
                var biased = [Float](repeating: -1, count: rows * columns)
                VectorKernels.transposeAddingBias(src, rows: rows, columns: columns, bias: bias, into: &biased, variant: variant)
                var expectedBiased = expected
                for c in 0..<columns { for r in 0..<rows { expectedBiased[c * rows + r] += bias[c] } }
                XCTAssertEqual(biased.map(\.bitPattern), expectedBiased.map(\.bitPattern), "[\(rows), \(columns)] \(variant): + bias")
                XCTAssertEqual(sum, expectedSum, "[\(rows), \(columns)] \(variant): w += tᵀ")
            }
        }
    }
}
