import XCTest
@testable import SpikeTensor

final class SpikeMatmulTests: XCTestCase {
    /// Sparse input with 0, 1 and other values; enough rows/columns to split across cores.
    private func sparseInput(rows: Int, columns: Int, _ rng: inout SeededGenerator) -> [Float] {
        (0..<rows * columns).map { _ in
            let r = rng.nextDouble()
            return r < 0.7 ? 0 : (r < 0.9 ? 1 : rng.nextUniform(-1, 1))
        }
    }

    /// Event-driven forward and weight gradient vs the plain triple loop (reference GEMM).
    func testSparseProductsMatchReference() {
        var rng = SeededGenerator(seed: 51)
        let (rows, inF, outF) = (70, 80, 9)
        let x = sparseInput(rows: rows, columns: inF, &rng)
        let w = randomArray(outF * inF, &rng)
        let dy = randomArray(rows * outF, &rng)
        var wt = [Float](repeating: 0, count: inF * outF)
        w.withUnsafeBufferPointer { wp in wt.withUnsafeMutableBufferPointer {
            SpikeMatmul.transpose(wp.baseAddress!, rows: outF, columns: inF, into: $0.baseAddress!)
        } }
        let y0 = randomArray(rows * outF, &rng)
        var y = y0, refY = y0
        x.withUnsafeBufferPointer { xp in wt.withUnsafeBufferPointer { wtp in y.withUnsafeMutableBufferPointer {
            SpikeMatmul.accumulateForward(x: xp.baseAddress!, rows: rows, inFeatures: inF, weightTransposed: wtp.baseAddress!,
                                          outFeatures: outF, y: $0.baseAddress!)
        } } }
        BLAS.referenceGemm(transposeA: false, transposeB: true, m: rows, n: outF, k: inF, alpha: 1, a: x, lda: inF,
                           b: w, ldb: inF, beta: 1, c: &refY, ldc: outF)
        assertClose(y, refY, tolerance: 1e-5, "forward")

        let dw0 = randomArray(outF * inF, &rng)
        var dwt = [Float](repeating: 0, count: inF * outF), dw = dw0, refDW = dw0
        x.withUnsafeBufferPointer { xp in dy.withUnsafeBufferPointer { dyp in dwt.withUnsafeMutableBufferPointer { t in
            SpikeMatmul.accumulateWeightGradient(x: xp.baseAddress!, rows: rows, inFeatures: inF, gradOutput: dyp.baseAddress!,
                                                 outFeatures: outF, gradWeightTransposed: t.baseAddress!)
            dw.withUnsafeMutableBufferPointer {
                SpikeMatmul.addTransposed(t.baseAddress!, rows: outF, columns: inF, into: $0.baseAddress!)
            }
        } } }
        BLAS.referenceGemm(transposeA: true, transposeB: false, m: outF, n: inF, k: rows, alpha: 1, a: dy, lda: outF,
                           b: x, ldb: inF, beta: 1, c: &refDW, ldc: inF)
        assertClose(dw, refDW, tolerance: 1e-5, "weight gradient")
        x.withUnsafeBufferPointer { xp in
            let expected = Float(x.filter { $0 != 0 }.count) / Float(x.count)
            XCTAssertEqual(SpikeMatmul.density(xp.baseAddress!, count: x.count), expected)
        }
    }

    /// The C row kernels, in every variant this CPU runs and split into row / column chunks as
    /// the parallel callers split them, give the bits of the plain Swift reference (widths with
    /// and without whole 8-lane vectors: 512 as in the A-Network, 13, 3, 107 (64 + 32 + 8 + 3); rows with more nonzero
    /// inputs than the C kernel lists at a time, 1,024).
    func testCRowKernelsMatchTheReferenceBitForBit() {
        var rng = SeededGenerator(seed: 52)
        for (rows, inF, outF) in [(40, 64, 512), (37, 50, 13), (9, 70, 3), (3, 4000, 40), (7, 30, 107)] {
            let x = sparseInput(rows: rows, columns: inF, &rng)
            let wt = randomArray(inF * outF, &rng), dy = randomArray(rows * outF, &rng)
            let y0 = randomArray(rows * outF, &rng), dwt0 = randomArray(inF * outF, &rng)
            var refY = y0, refDWt = dwt0
            SpikeMatmul.accumulateForwardReference(x: x, rows: rows, inFeatures: inF, weightTransposed: wt,
                                                   outFeatures: outF, y: &refY)
            SpikeMatmul.accumulateWeightGradientReference(x: x, rows: rows, inFeatures: inF, gradOutput: dy,
                                                          outFeatures: outF, gradWeightTransposed: &refDWt)
            XCTAssertNotEqual(refY, y0, "the reference added nothing")
            for variant in VectorKernels.available {
                var y = y0, dwt = dwt0
                y.withUnsafeMutableBufferPointer { yp in
                    for range in [0..<(rows / 3), (rows / 3)..<rows] {
                        VectorKernels.spikeRowsForward(x: x, rows: range, inFeatures: inF, weightTransposed: wt,
                                                       outFeatures: outF, y: yp.baseAddress!, variant: variant)
                    }
                }
                dwt.withUnsafeMutableBufferPointer { dp in
                    for columns in [0..<(inF / 2), (inF / 2)..<inF] {
                        VectorKernels.spikeRowsWeightGradient(x: x, rows: rows, inFeatures: inF, columns: columns,
                                                              gradOutput: dy, outFeatures: outF,
                                                              gradWeightTransposed: dp.baseAddress!, variant: variant)
                    }
                }
                XCTAssertEqual(y.map(\.bitPattern), refY.map(\.bitPattern), "[\(rows), \(inF), \(outF)] \(variant): forward")
                XCTAssertEqual(dwt.map(\.bitPattern), refDWt.map(\.bitPattern), "[\(rows), \(inF), \(outF)] \(variant): dW")
            }
        }
    }
}
