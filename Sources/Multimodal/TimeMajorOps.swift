/// Small helpers on time-major tensors `[T, B, F]` used by the fusion subnetworks.

/// Concatenates `[T, B, Fa]` and `[T, B, Fb]` along the last axis → `[T, B, Fa + Fb]`.
func concatenateFeatures(_ a: Tensor, _ b: Tensor) -> Tensor {
    let fa = a.shape.last!, fb = b.shape.last!
    let rows = a.count / fa
    precondition(rows == b.count / fb, "concatenateFeatures: \(a.shape) and \(b.shape) differ in rows")
    var out = Tensor(zeros: Array(a.shape.dropLast()) + [fa + fb])
    out.scalars.withUnsafeMutableBufferPointer { o in
        a.scalars.withUnsafeBufferPointer { pa in
            b.scalars.withUnsafeBufferPointer { pb in
                for r in 0..<rows {
                    let base = r * (fa + fb)
                    for j in 0..<fa { o[base + j] = pa[r * fa + j] }
                    for j in 0..<fb { o[base + fa + j] = pb[r * fb + j] }
                }
            }
        }
    }
    return out
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
