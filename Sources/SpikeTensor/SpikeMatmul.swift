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
        var nonzero = 0
        for i in 0..<count where x[i] != 0 { nonzero += 1 }
        return Float(nonzero) / Float(count)
    }

    /// `Wᵀ` `[in, out]` from `W` `[out, in]` (row-major transpose).
    public static func transpose(_ w: UnsafePointer<Float>, rows: Int, columns: Int, into t: UnsafeMutablePointer<Float>) {
        for r in 0..<rows {
            let src = w + r * columns
            for c in 0..<columns { t[c * rows + r] = src[c] }
        }
    }

    // y [rows, out] += x [rows, in] · W ᵀ, given weightTransposed = Wᵀ [in, out]
    // (y[r, :] += Σ_{j: x[r, j] ≠ 0} x[r, j] · Wᵀ[j, :]).
    public static func accumulateForward(x: UnsafePointer<Float>, rows: Int, inFeatures: Int,
                                         weightTransposed wt: UnsafePointer<Float>, outFeatures: Int,
                                         y: UnsafeMutablePointer<Float>) {
        Parallel.forEachChunk(rows, minimumChunk: 16) { range in
            for r in range {
                let xr = x + r * inFeatures, yr = y + r * outFeatures
                for j in 0..<inFeatures {
                    let v = xr[j]
                    if v == 0 { continue }
                    let wr = wt + j * outFeatures
                    if v == 1 {
                        for o in 0..<outFeatures { yr[o] += wr[o] }
                    } else {
                        for o in 0..<outFeatures { yr[o] += v * wr[o] }
                    }
                }
            }
        }
    }

    // gradWeightTransposed [in, out] += xᵀ [in, rows] · dY [rows, out]
    // (row j of dWᵀ sums x[r, j]·dY[r, :] over r in increasing order, skipping x[r, j] = 0).
    public static func accumulateWeightGradient(x: UnsafePointer<Float>, rows: Int, inFeatures: Int,
                                                gradOutput dY: UnsafePointer<Float>, outFeatures: Int,
                                                gradWeightTransposed dWt: UnsafeMutablePointer<Float>) {
        Parallel.forEachChunk(inFeatures, minimumChunk: 32) { columns in
            for r in 0..<rows {
                let xr = x + r * inFeatures, dyr = dY + r * outFeatures
                for j in columns {
                    let v = xr[j]
                    if v == 0 { continue }
                    let dst = dWt + j * outFeatures
                    if v == 1 {
                        for o in 0..<outFeatures { dst[o] += dyr[o] }
                    } else {
                        for o in 0..<outFeatures { dst[o] += v * dyr[o] }
                    }
                }
            }
        }
    }

    /// w [rows, columns] += tᵀ where t is [columns, rows].
    public static func addTransposed(_ t: UnsafePointer<Float>, rows: Int, columns: Int, into w: UnsafeMutablePointer<Float>) {
        for r in 0..<rows {
            let dst = w + r * columns
            for c in 0..<columns { dst[c] += t[c * rows + r] }
        }
    }
}
