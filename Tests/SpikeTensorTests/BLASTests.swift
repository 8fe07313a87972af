import XCTest
@testable import SpikeTensor

final class BLASTests: XCTestCase {
    /// Every transpose combination, alpha/beta and padded leading dimensions vs the triple loop.
    func testGemmMatchesReference() {
        var rng = SeededGenerator(seed: 11)
        let (m, n, k) = (7, 5, 9)
        for transposeA in [false, true] {
            for transposeB in [false, true] {
                let lda = (transposeA ? m : k) + 2, ldb = (transposeB ? k : n) + 1, ldc = n + 3
                let a = randomArray((transposeA ? k : m) * lda, &rng)
                let b = randomArray((transposeB ? n : k) * ldb, &rng)
                let c0 = randomArray(m * ldc, &rng)
                var fast = c0, reference = c0
                a.withUnsafeBufferPointer { ap in
                    b.withUnsafeBufferPointer { bp in
                        fast.withUnsafeMutableBufferPointer { cp in
                            BLAS.gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: 0.5,
                                      a: ap.baseAddress!, lda: lda, b: bp.baseAddress!, ldb: ldb,
                                      beta: 2, c: cp.baseAddress!, ldc: ldc)
                        }
                    }
                }
                BLAS.referenceGemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: 0.5,
                                   a: a, lda: lda, b: b, ldb: ldb, beta: 2, c: &reference, ldc: ldc)
                assertClose(fast, reference, tolerance: 1e-5, "tA=\(transposeA) tB=\(transposeB)")
            }
        }
    }

    /// k = 0 means op(A)·op(B) = 0, so C = beta·C.
    func testGemmWithEmptyInnerDimensionScalesC() {
        var c: [Float] = [1, 2, 3, 4]
        let dummy: [Float] = [0]
        dummy.withUnsafeBufferPointer { d in
            c.withUnsafeMutableBufferPointer { cp in
                BLAS.gemm(transposeA: false, transposeB: false, m: 2, n: 2, k: 0, alpha: 1,
                          a: d.baseAddress!, lda: 1, b: d.baseAddress!, ldb: 2, beta: 0.5, c: cp.baseAddress!, ldc: 2)
            }
        }
        XCTAssertEqual(c, [0.5, 1, 1.5, 2])
    }
}
