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
}
