/// Event-driven (sparse-input) matrix products for spike inputs: work scales with the
/// number of nonzero inputs instead of rows·in. Spikes are 0/1 but any value works
/// (pooled spikes are multiples of 1/k²); zero entries are skipped.
///
/// Each output row (forward) or weight row (backward) is summed in a fixed order whatever
/// the thread count, so results are deterministic.
public enum SpikeMatmul {
    /// Fraction of nonzero entries of `x` (0 … 1).
    public static func density(_ x: UnsafePointer<Float>, count: Int) -> Float {
        guard count > 0 else { return 0 }
        // Eight lanes at a time, a 32-bit count per lane, summed every 2²⁴ vectors (no overflow).
        typealias Lanes = SIMD8<Float>
        let vectors = count / Lanes.scalarCount, vectorEnd = vectors * Lanes.scalarCount
        let raw = UnsafeRawPointer(x), stride = MemoryLayout<Lanes>.size
        var nonzero = 0, block = 0
        while block < vectors {
            let end = min(vectors, block + (1 << 24))
            var lanes = SIMD8<Int32>()
            for k in block..<end {
                lanes &+= SIMD8<Int32>().replacing(with: 1, where: raw.loadUnaligned(fromByteOffset: k * stride, as: Lanes.self) .!= 0)
            }
            nonzero += Int(lanes.wrappedSum())
            block = end
        }
        for i in vectorEnd..<count where x[i] != 0 { nonzero += 1 }
        return Float(nonzero) / Float(count)
    }

    /// `dst[0..<count] += v·src[0..<count]` (a plain add for a spike, v = 1): eight lanes at a
    /// time, then one by one, the same operation per element either way. `src` and `dst` must
    /// not overlap. The reference kernels' add; the C kernels (`VectorKernels`) do the same.
    @inline(__always)
    public static func addScaled(_ src: UnsafePointer<Float>, _ v: Float, into dst: UnsafeMutablePointer<Float>, count: Int) {
        typealias Lanes = SIMD8<Float>
        let vectorEnd = count / Lanes.scalarCount * Lanes.scalarCount
        let from = UnsafeRawPointer(src), to = UnsafeMutableRawPointer(dst), stride = MemoryLayout<Lanes>.size
        if v == 1 {
            for k in 0..<(vectorEnd / Lanes.scalarCount) {
                let sum = to.loadUnaligned(fromByteOffset: k * stride, as: Lanes.self)
                    + from.loadUnaligned(fromByteOffset: k * stride, as: Lanes.self)
                to.storeBytes(of: sum, toByteOffset: k * stride, as: Lanes.self)
            }
            for o in vectorEnd..<count { dst[o] += src[o] }
        } else {
            let scale = Lanes(repeating: v)
            for k in 0..<(vectorEnd / Lanes.scalarCount) {
                let sum = to.loadUnaligned(fromByteOffset: k * stride, as: Lanes.self)
                    + scale * from.loadUnaligned(fromByteOffset: k * stride, as: Lanes.self)
                to.storeBytes(of: sum, toByteOffset: k * stride, as: Lanes.self)
            }
            for o in vectorEnd..<count { dst[o] += v * src[o] }
        }
    }

    /// `Wᵀ` `[in, out]` from `W` `[out, in]` (row-major transpose, by `VectorKernels.transpose`).
    public static func transpose(_ w: UnsafePointer<Float>, rows: Int, columns: Int, into t: UnsafeMutablePointer<Float>) {
        VectorKernels.transpose(w, rows: rows, columns: columns, into: t)
    }

    // y [rows, out] += x [rows, in] · W ᵀ, given weightTransposed = Wᵀ [in, out]
    // (y[r, :] += Σ_{j: x[r, j] ≠ 0} x[r, j] · Wᵀ[j, :]); rows in parallel chunks, each row by
    // the C vector kernel (`VectorKernels.spikeRowsForward`; reference: `accumulateForwardReference`).
    public static func accumulateForward(x: UnsafePointer<Float>, rows: Int, inFeatures: Int,
                                         weightTransposed wt: UnsafePointer<Float>, outFeatures: Int,
                                         y: UnsafeMutablePointer<Float>) {
        Parallel.forEachChunk(rows, minimumChunk: 16) { range in
            VectorKernels.spikeRowsForward(x: x, rows: range, inFeatures: inFeatures, weightTransposed: wt,
                                           outFeatures: outFeatures, y: y)
        }
    }

    /// `accumulateForward` in plain Swift, one thread: the reference of the C kernel.
    public static func accumulateForwardReference(x: UnsafePointer<Float>, rows: Int, inFeatures: Int,
                                                  weightTransposed wt: UnsafePointer<Float>, outFeatures: Int,
                                                  y: UnsafeMutablePointer<Float>) {
        for r in 0..<rows {
            let xr = x + r * inFeatures, yr = y + r * outFeatures
            for j in 0..<inFeatures where xr[j] != 0 {
                addScaled(wt + j * outFeatures, xr[j], into: yr, count: outFeatures)
            }
        }
    }

    // gradWeightTransposed [in, out] += xᵀ [in, rows] · dY [rows, out]
    // (row j of dWᵀ sums x[r, j]·dY[r, :] over r in increasing order, skipping x[r, j] = 0);
    // input columns in parallel chunks, by the C vector kernel (reference: `…Reference`).
    public static func accumulateWeightGradient(x: UnsafePointer<Float>, rows: Int, inFeatures: Int,
                                                gradOutput dY: UnsafePointer<Float>, outFeatures: Int,
                                                gradWeightTransposed dWt: UnsafeMutablePointer<Float>) {
        Parallel.forEachChunk(inFeatures, minimumChunk: 32) { columns in
            VectorKernels.spikeRowsWeightGradient(x: x, rows: rows, inFeatures: inFeatures, columns: columns,
                                                  gradOutput: dY, outFeatures: outFeatures, gradWeightTransposed: dWt)
        }
    }

    /// `accumulateWeightGradient` in plain Swift, one thread: the reference of the C kernel.
    public static func accumulateWeightGradientReference(x: UnsafePointer<Float>, rows: Int, inFeatures: Int,
                                                         gradOutput dY: UnsafePointer<Float>, outFeatures: Int,
                                                         gradWeightTransposed dWt: UnsafeMutablePointer<Float>) {
        for r in 0..<rows {
            let xr = x + r * inFeatures, dyr = dY + r * outFeatures
            for j in 0..<inFeatures where xr[j] != 0 {
                addScaled(dyr, xr[j], into: dWt + j * outFeatures, count: outFeatures)
            }
        }
    }

    /// w [rows, columns] += tᵀ where t is [columns, rows] (by `VectorKernels.addTransposed`).
    public static func addTransposed(_ t: UnsafePointer<Float>, rows: Int, columns: Int, into w: UnsafeMutablePointer<Float>) {
        VectorKernels.addTransposed(t, rows: rows, columns: columns, into: w)
    }
}
