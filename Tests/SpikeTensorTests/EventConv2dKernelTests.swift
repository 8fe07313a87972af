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
