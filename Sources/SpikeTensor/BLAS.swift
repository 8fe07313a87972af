import CBLAS
import Foundation

/// A thin wrapper on OpenBLAS's `cblas_sgemm` (row-major).
///
/// Computes `C = alpha·op(A)·op(B) + beta·C` where `op(X)` is `X` or `Xᵀ`,
/// `op(A)` is `[m, k]`, `op(B)` is `[k, n]` and `C` is `[m, n]`; `lda`, `ldb`, `ldc` are the
/// row strides (in elements) of the matrices *as stored*.
///
/// Determinism: OpenBLAS's sgemm gives bit-identical results for the same inputs and the same
/// thread count (`OPENBLAS_NUM_THREADS`); it does not reorder reductions between runs.
public enum BLAS {
    /// OpenBLAS's worker threads (`openblas_set_num_threads`; start-up value from
    /// `OPENBLAS_NUM_THREADS`, else the core count).
    public static var threads: Int {
        get { Int(openblas_get_num_threads()) }
        set { openblas_set_num_threads(Int32(max(1, newValue))) }
    }

    /// Runs `body` with OpenBLAS on one thread, for callers that run their own threads (data-
    /// parallel workers). The setting is process-wide, so overlapping callers (ranks simulated
    /// as threads of one process, several trainers) share one count: the first to enter sets
    /// 1, the last to leave restores the value the first found. Without that, one caller's
    /// restore could hand another's workers a multi-threaded OpenBLAS in mid-batch.
    public static func singleThreaded<T>(_ body: () throws -> T) rethrows -> T {
        singleThreadLock.lock()
        if singleThreadUsers == 0 { threadsBeforeSingle = threads; threads = 1 }
        singleThreadUsers += 1
        singleThreadLock.unlock()
        defer {
            singleThreadLock.lock()
            singleThreadUsers -= 1
            if singleThreadUsers == 0 { threads = threadsBeforeSingle }
            singleThreadLock.unlock()
        }
        return try body()
    }

    private static let singleThreadLock = NSLock()
    nonisolated(unsafe) private static var singleThreadUsers = 0
    nonisolated(unsafe) private static var threadsBeforeSingle = 1

    /// The CPU kernel OpenBLAS chose at start-up (`openblas_get_corename`, e.g. "Haswell",
    /// "SkylakeX"); `OPENBLAS_CORETYPE` overrides its detection.
    public static var coreName: String { String(cString: openblas_get_corename()) }

    public static func gemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                            a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                            beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        precondition(m >= 0 && n >= 0 && k >= 0, "gemm: negative size m=\(m) n=\(n) k=\(k)")
        if m == 0 || n == 0 { return }
        if k == 0 {
            // op(A)·op(B) is all zeros; BLAS implementations differ on k = 0, so do it here.
            for i in 0..<m {
                let row = c + i * ldc
                for j in 0..<n { row[j] = beta == 0 ? 0 : beta * row[j] }
            }
            return
        }
        cblas_sgemm(CblasRowMajor,
                    transposeA ? CblasTrans : CblasNoTrans,
                    transposeB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha,
                    a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// Plain triple-loop reference of `gemm` (Double accumulation), for tests.
    public static func referenceGemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
                                     alpha: Float, a: [Float], lda: Int, b: [Float], ldb: Int,
                                     beta: Float, c: inout [Float], ldc: Int) {
        for i in 0..<m {
            for j in 0..<n {
                var sum = 0.0
                for p in 0..<k {
                    let av = transposeA ? a[p * lda + i] : a[i * lda + p]
                    let bv = transposeB ? b[j * ldb + p] : b[p * ldb + j]
                    sum += Double(av) * Double(bv)
                }
                let old = beta == 0 ? 0 : Double(beta) * Double(c[i * ldc + j])
                c[i * ldc + j] = Float(Double(alpha) * sum + old)
            }
        }
    }
}
