// spikefuse-bench --gemm-peak: OpenBLAS SGEMM throughput on a square problem (the machine's
// dense peak as this BLAS build reaches it) and on the thin products that multimodal training
// actually runs (batch 32, T = 64), so the training profile can be read as a fraction of it.
import Foundation
import SpikeTensor

/// One product C[m, n] = A[m, k]·B[k, n] (row-major, no transposes), as named in the profile.
struct GemmShape {
    var name: String
    var m: Int, n: Int, k: Int
}

/// The shapes of multimodal training at batch B = 32, T = 64 (T·B = 2048 images or steps).
let gemmShapes = [
    GemmShape(name: "square 2048³ (peak)", m: 2048, n: 2048, k: 2048),
    GemmShape(name: "conv2 im2col [T·B·196, 288]·[288, 32]", m: 64 * 32 * 196, n: 32, k: 288),
    GemmShape(name: "conv1 im2col [T·B·784, 18]·[18, 32]", m: 64 * 32 * 784, n: 32, k: 18),
    GemmShape(name: "fc1 [T·B, 1568]·[1568, 128]", m: 2048, n: 128, k: 1568),
    GemmShape(name: "audio input [T·B, 512]·[512, 512]", m: 2048, n: 512, k: 512),
    GemmShape(name: "audio recurrent step [B, 512]·[512, 512]", m: 32, n: 512, k: 512),
]

/// Runs each shape for about `seconds` (after one warm-up product) and prints GFLOP/s =
/// 2·m·n·k per product / wall seconds, with OpenBLAS's core kernel and thread count.
func measureGemmPeak(seconds budget: Double) {
    let core = BLAS.coreName
    print("OpenBLAS SGEMM, core kernel \(core), \(BLAS.threads) threads"
          + " (OPENBLAS_CORETYPE=\(ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] ?? "unset"))")
    print("shape                                          GFLOP/s   products")
    var generator = SeededGenerator(seed: 7)
    for shape in gemmShapes {
        let a = (0..<(shape.m * shape.k)).map { _ in Float.random(in: -1...1, using: &generator) }
        let b = (0..<(shape.k * shape.n)).map { _ in Float.random(in: -1...1, using: &generator) }
        var c = [Float](repeating: 0, count: shape.m * shape.n)
        func product() {
            a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in
                    c.withUnsafeMutableBufferPointer { pc in
                        BLAS.gemm(transposeA: false, transposeB: false, m: shape.m, n: shape.n, k: shape.k, alpha: 1,
                                  a: pa.baseAddress!, lda: shape.k, b: pb.baseAddress!, ldb: shape.n,
                                  beta: 0, c: pc.baseAddress!, ldc: shape.n)
                    }
                }
            }
        }
        product()
        let clock = ContinuousClock(), start = clock.now
        var count = 0
        repeat { product(); count += 1 } while seconds(clock.now - start) < budget
        let flops = 2 * Double(shape.m) * Double(shape.n) * Double(shape.k) * Double(count)
        print(shape.name.padding(toLength: 46, withPad: " ", startingAt: 0)
              + String(format: " %8.1f   %8d", flops / seconds(clock.now - start) / 1e9, count))
    }
}
