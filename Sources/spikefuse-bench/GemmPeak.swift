// spikefuse-bench --gemm-peak: OpenBLAS SGEMM throughput on a square problem (the machine's
// dense peak as this BLAS build reaches it) and on the thin products that multimodal training
// actually runs (batch 32, T = 64), so the training profile can be read as a fraction of it;
// then SpikeFuse's own dense kernels (`DenseKernels`) against the OpenBLAS paths they replace.
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

/// GFLOP/s of `work` (flops per call) run repeatedly for about `budget` seconds after a warm-up.
private func gflops(_ flops: Double, budget: Double, _ work: () -> Void) -> Double {
    work()
    let clock = ContinuousClock(), start = clock.now
    var count = 0
    repeat { work(); count += 1 } while seconds(clock.now - start) < budget
    return flops * Double(count) / seconds(clock.now - start) / 1e9
}

/// conv2's dL/dx (a stride-1 3×3 convolution of δ [2048, 32, 14, 14] with the flipped kernel)
/// by `DenseKernels.convolutionStride1` and by im2col + OpenBLAS, and one recurrent BPTT step
/// (δ [B, 512]·R [512, 512], B = 16 as in a 2-worker shard and 32) by `DenseKernels.rowProduct`
/// and by OpenBLAS on one thread (each data-parallel worker runs it so), each variant this CPU
/// runs. GFLOP/s count 2·(multiply-adds of the plain sum).
func measureDenseKernels(seconds budget: Double) {
    print("\nSpikeFuse dense kernels (DenseKernels, variant \(DenseKernels.preferred)) against OpenBLAS, \(BLAS.threads) threads")
    print("product                                        kernel           GFLOP/s")
    var generator = SeededGenerator(seed: 9)
    func random(_ count: Int) -> [Float] { (0..<count).map { _ in Float.random(in: -1...1, using: &generator) } }
    func row(_ product: String, _ kernel: String, _ rate: Double) {
        print(product.padding(toLength: 47, withPad: " ", startingAt: 0) + kernel.padding(toLength: 16, withPad: " ", startingAt: 0)
              + String(format: " %8.1f", rate))
    }
    let g = Conv2dGeometry(inChannels: 32, outChannels: 32, height: 14, width: 14, kernelSize: 3, stride: 1, padding: 1)
    let images = 2048
    let x = random(images * g.inputImageSize), w = random(g.weightCount), b = [Float](repeating: 0, count: 32)
    var y = [Float](repeating: 0, count: images * g.outputImageSize)
    let convFlops = 2 * Double(images * g.outputImageSize * g.patchSize)
    let conv = "conv2 dL/dx [2048, 32, 14, 14], 3×3"
    for variant in DenseKernels.available {
        row(conv, "direct \(variant)", gflops(convFlops, budget: budget) {
            DenseKernels.convolutionStride1(input: x, images: images, geometry: g, weight: w, bias: b, output: &y, variant: variant)
        })
    }
    var workspace = Conv2dWorkspace()
    row(conv, "im2col+BLAS", gflops(convFlops, budget: budget) {
        Conv2dKernel.im2colForward(input: x, images: images, geometry: g, weight: w, bias: b, output: &y, workspace: &workspace)
    })
    let r = random(512 * 512)
    for rows in [16, 32] {
        let d = random(rows * 512)
        var out = [Float](repeating: 0, count: rows * 512)
        let flops = 2 * Double(rows * 512 * 512), name = "recurrent step [\(rows), 512]·[512, 512]"
        for variant in DenseKernels.available {
            row(name, "rows \(variant)", gflops(flops, budget: budget) {
                DenseKernels.rowProduct(d, rows: rows, inner: 512, r, columns: 512, into: &out, variant: variant)
            })
        }
        // one BLAS thread, as each data-parallel worker runs it (the row product is one thread)
        row(name, "BLAS 1 thread", BLAS.singleThreaded { gflops(flops, budget: budget) {
            BLAS.gemm(transposeA: false, transposeB: false, m: rows, n: 512, k: 512, alpha: 1, a: d, lda: 512, b: r,
                      ldb: 512, beta: 0, c: &out, ldc: 512)
        } })
    }
}
