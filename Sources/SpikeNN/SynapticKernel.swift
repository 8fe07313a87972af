import SpikeTensor

/// How a synaptic layer computes `x·Wᵀ` and its weight gradient `dYᵀ·x`.
///
/// - `dense`: OpenBLAS GEMM over all rows.
/// - `sparse`: event-driven (`SpikeMatmul`): only nonzero inputs (spikes) cost work.
/// - `automatic(maxDensity:)`: sparse when the fraction of nonzero inputs is at most
///   `maxDensity`, dense otherwise; decided per call from the actual input, so it is
///   deterministic for given inputs. Both paths compute the same sums (to rounding).
///
/// The defaults sit at the measured crossovers (`spikefuse-bench --crossover`, process CPU time,
/// two runs, table in docs/speed.md): `standard` = `automatic(maxDensity: 0.14)` for Linear and
/// recurrent layers (event-driven faster up to ≈15 % nonzeros for a 512→512 map, for x·Wᵀ + dW
/// and for δ·W alike), `standardConvolution` = `automatic(maxDensity: 0.17)` for Conv2d (32→32
/// 3×3 on 14×14: crossover ≈17 %).
public enum SynapticKernel: Sendable, Equatable {
    case dense
    case sparse
    case automatic(maxDensity: Float)

    public static let standard = SynapticKernel.automatic(maxDensity: 0.14)
    /// The default of `Conv2d`: its event-driven kernel stays faster up to ≈17 % input density
    /// (`spikefuse-bench --crossover`, docs/speed.md), e.g. pooled spikes of a 5 %-active layer (≈15 % nonzero).
    public static let standardConvolution = SynapticKernel.automatic(maxDensity: 0.17)

    /// Whether to use the event-driven path for an input `x` of `count` elements.
    func useSparse(_ x: UnsafePointer<Float>, count: Int) -> Bool {
        switch self {
        case .dense: return false
        case .sparse: return true
        case .automatic(let maxDensity): return SpikeMatmul.density(x, count: count) <= maxDensity
        }
    }
}

/// Scratch buffers and dispatch for an affine map `y = x·Wᵀ (+ b)`, W `[out, in]`, shared by
/// `Linear` and `RecurrentSpikingLinear`. Reused across calls (no per-call allocation once sized).
struct AffineMap {
    let inFeatures: Int
    let outFeatures: Int
    private var weightTransposed: [Float] = []       // Wᵀ [in, out]
    private var gradTransposed: [Float] = []         // dWᵀ [in, out]
    private var product: [Float] = []                // x·Wᵀ of one step [rows, out]

    init(inFeatures: Int, outFeatures: Int) {
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
    }

    /// Refreshes Wᵀ for the event-driven forward (call once per forward, after W changed).
    mutating func prepareSparse(weight: UnsafePointer<Float>) {
        if weightTransposed.count != inFeatures * outFeatures {
            weightTransposed = [Float](repeating: 0, count: inFeatures * outFeatures)
        }
        let (inF, outF) = (inFeatures, outFeatures)
        weightTransposed.withUnsafeMutableBufferPointer {
            SpikeMatmul.transpose(weight, rows: outF, columns: inF, into: $0.baseAddress!)
        }
    }

    // y [rows, out] = (accumulate ? y : b or 0) + x [rows, in] · Wᵀ
    // `prepared`: `prepareSparse` ran on the current weight, so that a dense product of few rows
    // (one time step) may read Wᵀ in place (`DenseKernels.rowProduct`) instead of OpenBLAS
    // packing all of W for every step.
    mutating func forward(x: UnsafePointer<Float>, rows: Int, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                          accumulate: Bool, sparse: Bool, prepared: Bool = false, y: UnsafeMutablePointer<Float>) {
        let (inF, outF) = (inFeatures, outFeatures)
        if !accumulate {
            if let bias {
                for r in 0..<rows { (y + r * outF).update(from: bias, count: outF) }
            } else {
                y.update(repeating: 0, count: rows * outF)
            }
        }
        if sparse {
            weightTransposed.withUnsafeBufferPointer { wt in
                SpikeMatmul.accumulateForward(x: x, rows: rows, inFeatures: inF, weightTransposed: wt.baseAddress!,
                                              outFeatures: outF, y: y)
            }
        } else if prepared && rows <= Self.rowProductRows && DenseKernels.replacesBLAS
                    && DenseKernels.handlesRowProduct(columns: outF) {
            if product.count < rows * outF { product = [Float](repeating: 0, count: rows * outF) }
            weightTransposed.withUnsafeBufferPointer { wt in
                product.withUnsafeMutableBufferPointer { p in
                    DenseKernels.rowProduct(x, rows: rows, inner: inF, wt.baseAddress!, columns: outF, into: p.baseAddress!)
                    SpikeMatmul.addScaled(UnsafePointer(p.baseAddress!), 1, into: y, count: rows * outF)
                }
            }
        } else {
            BLAS.gemm(transposeA: false, transposeB: true, m: rows, n: outF, k: inF, alpha: 1,
                      a: x, lda: inF, b: weight, ldb: inF, beta: 1, c: y, ldc: outF)
        }
    }

    // gradWeight [out, in] += dY [rows, out]ᵀ · x [rows, in]
    mutating func accumulateWeightGradient(x: UnsafePointer<Float>, rows: Int, gradOutput dY: UnsafePointer<Float>,
                                           sparse: Bool, gradWeight: UnsafeMutablePointer<Float>) {
        let (inF, outF) = (inFeatures, outFeatures)
        if sparse {
            if gradTransposed.count != inF * outF { gradTransposed = [Float](repeating: 0, count: inF * outF) }
            gradTransposed.withUnsafeMutableBufferPointer { buffer in
                let dWt = buffer.baseAddress!
                dWt.update(repeating: 0, count: inF * outF)
                SpikeMatmul.accumulateWeightGradient(x: x, rows: rows, inFeatures: inF, gradOutput: dY, outFeatures: outF,
                                                     gradWeightTransposed: dWt)
                SpikeMatmul.addTransposed(dWt, rows: outF, columns: inF, into: gradWeight)
            }
        } else {
            BLAS.gemm(transposeA: true, transposeB: false, m: outF, n: inF, k: rows, alpha: 1,
                      a: dY, lda: outF, b: x, ldb: inF, beta: 1, c: gradWeight, ldc: inF)
        }
    }

    // gradBias [out] += Σ_rows dY [rows, out]  (column sums, eight columns per vector add: a GEMM
    // with a ones vector packs all of dY first)
    func accumulateBiasGradient(rows: Int, gradOutput dY: UnsafePointer<Float>, gradBias: UnsafeMutablePointer<Float>) {
        VectorKernels.addColumnSums(dY, rows: rows, columns: outFeatures, into: gradBias)
    }

    /// The backward of `y = x·Wᵀ + b` over `rows` rows: ACCUMULATES `dW += dYᵀ·x` (event-driven
    /// when `sparseInput`) and `db += Σ_rows dY`, and returns `dL/dx = dY·W` shaped like `x`
    /// (empty when `needsInputGradient` is false; event-driven over dY when `kernel` says so).
    // x [rows, in], dY [rows, out] → dX [rows, in]
    mutating func backward(x: Tensor, gradOutput dY: Tensor, rows: Int, weight: Parameter, bias: Parameter,
                           sparseInput: Bool, kernel: SynapticKernel, needsInputGradient: Bool) -> Tensor {
        dY.withPointer { g in
            x.withPointer { px in
                weight.grad.withMutablePointer { dW in
                    accumulateWeightGradient(x: px, rows: rows, gradOutput: g, sparse: sparseInput, gradWeight: dW)
                }
            }
            bias.grad.withMutablePointer { dB in accumulateBiasGradient(rows: rows, gradOutput: g, gradBias: dB) }
        }
        guard needsInputGradient else { return emptyGradient }
        return Tensor(shape: x.shape) { dX, _ in
            dY.withPointer { g in
                let sparse = kernel.useSparse(g, count: dY.count)
                weight.value.withPointer { w in inputGradient(rows: rows, gradOutput: g, weight: w, sparse: sparse, gradInput: dX) }
            }
        }
    }

    // gradInput [rows, in] = dY [rows, out] · W [out, in]
    // sparse: event-driven over the nonzero δ entries, dX[r, :] = Σ_{o: dY[r, o] ≠ 0} dY[r, o]·W[o, :]
    // (W [out, in] is the "transposed weight" of the map dY ↦ dY·W); the surrogate window makes
    // δ = 0 for every neuron with |u − V_th| ≥ a/2 and no gradient arriving through time.
    func inputGradient(rows: Int, gradOutput dY: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                       sparse: Bool = false, gradInput: UnsafeMutablePointer<Float>) {
        if sparse {
            gradInput.update(repeating: 0, count: rows * inFeatures)
            SpikeMatmul.accumulateForward(x: dY, rows: rows, inFeatures: outFeatures, weightTransposed: weight,
                                          outFeatures: inFeatures, y: gradInput)
            return
        }
        if rows <= Self.rowProductRows && DenseKernels.replacesBLAS && DenseKernels.handlesRowProduct(columns: inFeatures) {
            DenseKernels.rowProduct(dY, rows: rows, inner: outFeatures, weight, columns: inFeatures, into: gradInput)
            return
        }
        BLAS.gemm(transposeA: false, transposeB: false, m: rows, n: inFeatures, k: outFeatures, alpha: 1,
                  a: dY, lda: outFeatures, b: weight, ldb: inFeatures, beta: 0, c: gradInput, ldc: inFeatures)
    }

    /// Up to this many rows (one time step of a batch shard) `dY·W` runs `DenseKernels.rowProduct`,
    /// which reads W in place (where it beats OpenBLAS, `DenseKernels.replacesBLAS`); OpenBLAS
    /// packs all of W for every such product.
    static let rowProductRows = 64
}
