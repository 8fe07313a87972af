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
    /// The stride-1 tap enumeration visits exactly the (tap, pixel, value) sequence of the
    /// plain one, in the same order (so the scatter sums are the same bits), including
    /// padding larger than k − 1 and a 1×1 kernel.
    func testStride1TapsMatchThePlainEnumeration() {
        var rng = SeededGenerator(seed: 62)
        let geometries = Conv2dKernelTests.geometries.filter { $0.stride == 1 } + [
            Conv2dGeometry(inChannels: 2, outChannels: 1, height: 5, width: 7, kernelSize: 3, stride: 1, padding: 3),
            Conv2dGeometry(inChannels: 1, outChannels: 1, height: 3, width: 9, kernelSize: 3, stride: 1, padding: 0),
            Conv2dGeometry(inChannels: 3, outChannels: 1, height: 8, width: 8, kernelSize: 5, stride: 1, padding: 0),
        ]
        for g in geometries {
            let x: [Float] = (0..<g.inputImageSize).map { _ in rng.nextDouble() < 0.6 ? 0 : rng.nextUniform(-1, 1) }
            var fast: [[Float]] = [], plain: [[Float]] = []
            x.withUnsafeBufferPointer { xp in
                EventConv2dKernel.forEachActiveTapStride1(xp.baseAddress!, geometry: g) { fast.append([Float($0), Float($1), $2]) }
                EventConv2dKernel.forEachActiveTapAnyStride(xp.baseAddress!, geometry: g) { plain.append([Float($0), Float($1), $2]) }
            }
            XCTAssertFalse(plain.isEmpty, "\(g): no taps visited")
            XCTAssertEqual(fast, plain, "\(g)")
        }
    }

    /// The blocked transpose against the plain definition dst[c, r] = src[r, c], for shapes
    /// with and without whole 4×4 blocks and 16×16 tiles (the kernels' [196, 32], [32, 784]).
    func testTiledTransposeIsTheTranspose() {
        for (rows, columns) in [(1, 1), (3, 5), (4, 4), (17, 33), (196, 32), (32, 784), (6, 19)] {
            let src = (0..<(rows * columns)).map { Float($0) + 0.5 }
            var dst = [Float](repeating: -1, count: rows * columns)
            src.withUnsafeBufferPointer { s in
                dst.withUnsafeMutableBufferPointer { transposeTiled(s.baseAddress!, rows: rows, columns: columns, into: $0.baseAddress!) }
            }
            var expected = [Float](repeating: 0, count: rows * columns)
            for r in 0..<rows { for c in 0..<columns { expected[c * rows + r] = src[r * columns + c] } }
            XCTAssertEqual(dst, expected, "[\(rows), \(columns)]")
        }
    }
}
