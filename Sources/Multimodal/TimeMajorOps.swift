/// Small helpers on time-major tensors `[T, B, F]` used by the fusion subnetworks.

/// Concatenates `[T, B, Fa]` and `[T, B, Fb]` along the last axis → `[T, B, Fa + Fb]`.
func concatenateFeatures(_ a: Tensor, _ b: Tensor) -> Tensor {
    let fa = a.shape.last!, fb = b.shape.last!
    let rows = a.count / fa
    precondition(rows == b.count / fb, "concatenateFeatures: \(a.shape) and \(b.shape) differ in rows")
    return Tensor(shape: Array(a.shape.dropLast()) + [fa + fb]) { o, _ in
        a.withPointer { pa in b.withPointer { pb in concatenateRows(pa, fa, pb, fb, rows: rows, into: o) } }
    }
}

/// The row-wise concatenation both the time-batched fusions (rows = T·B) and their steps
/// (rows = B) use: a [rows, fa], b [rows, fb] → out [rows, fa + fb].
@inline(__always)
func concatenateRows(_ a: UnsafePointer<Float>, _ fa: Int, _ b: UnsafePointer<Float>, _ fb: Int, rows: Int,
                     into out: UnsafeMutablePointer<Float>) {
    for r in 0..<rows {
        (out + r * (fa + fb)).update(from: a + r * fa, count: fa)
        (out + r * (fa + fb) + fa).update(from: b + r * fb, count: fb)
    }
}

/// The inverse of `concatenateFeatures`: `[T, B, Fa + Fb]` → (`[T, B, Fa]`, `[T, B, Fb]`).
func splitFeatures(_ x: Tensor, first fa: Int) -> (Tensor, Tensor) {
    let f = x.shape.last!, fb = f - fa
    let rows = x.count / f
    let lead = Array(x.shape.dropLast())
    var a = Tensor(zeros: lead + [fa]), b = Tensor(zeros: lead + [fb])
    x.scalars.withUnsafeBufferPointer { px in
        a.scalars.withUnsafeMutableBufferPointer { pa in
            b.scalars.withUnsafeMutableBufferPointer { pb in
                for r in 0..<rows {
                    for j in 0..<fa { pa[r * fa + j] = px[r * f + j] }
                    for j in 0..<fb { pb[r * fb + j] = px[r * f + fa + j] }
                }
            }
        }
    }
    return (a, b)
}

/// `a += b`, elementwise, same shapes.
func addInPlace(_ a: inout Tensor, _ b: Tensor) {
    precondition(a.shape == b.shape, "addInPlace: \(a.shape) vs \(b.shape)")
    a.scalars.withUnsafeMutableBufferPointer { pa in
        b.scalars.withUnsafeBufferPointer { pb in
            for i in 0..<pa.count { pa[i] += pb[i] }
        }
    }
}
