/// Affine layer (no neuron): `y = x·Wᵀ + b` on every row, W `[out, in]`, b `[out]`.
///
/// Input `[…, in]` (all leading dimensions, e.g. `[T, B]`, are rows; T·B rows go through one
/// GEMM) → output `[…, out]`. Parameters `"<name>.weight"` `[out, in]` then `"<name>.bias"`
/// `[out]`, both uniform in ±1/√in (PyTorch's default), drawn from `rng` in that order.
public final class Linear: Layer {
    public let inFeatures: Int
    public let outFeatures: Int
    public let weight: Parameter
    public let bias: Parameter
    public var needsInputGradient = true
    public var parameters: [Parameter] { [weight, bias] }

    private var savedInput = Tensor(zeros: [0])
    private var ones: [Float] = []

    public init(name: String, inFeatures: Int, outFeatures: Int, rng: inout SeededGenerator) {
        precondition(inFeatures > 0 && outFeatures > 0, "Linear \(name): sizes must be positive")
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        weight = Parameter.uniform(name: name + ".weight", shape: [outFeatures, inFeatures], fanIn: inFeatures, rng: &rng)
        bias = Parameter.uniform(name: name + ".bias", shape: [outFeatures], fanIn: inFeatures, rng: &rng)
    }

    // input [rows…, in] → output [rows…, out]
    public func forward(_ input: Tensor) -> Tensor {
        precondition(input.shape.last == inFeatures, "Linear: input \(input.shape), expected last dim \(inFeatures)")
        savedInput = input
        let rows = input.count / inFeatures
        let (inF, outF) = (inFeatures, outFeatures)
        var shape = input.shape
        shape[shape.count - 1] = outF
        return Tensor(shape: shape) { y, _ in
            input.withPointer { x in
                weight.value.withPointer { w in
                    bias.value.withPointer { b in
                        Self.affineForward(x: x, rows: rows, inFeatures: inF, outFeatures: outF, weight: w, bias: b, y: y)
                    }
                }
            }
        }
    }

    // gradOutput [rows…, out] → gradInput [rows…, in]; accumulates weight/bias grads
    public func backward(_ gradOutput: Tensor) -> Tensor {
        let rows = savedInput.count / inFeatures
        precondition(gradOutput.count == rows * outFeatures, "Linear: gradOutput \(gradOutput.shape) does not match forward")
        if ones.count < rows { ones = [Float](repeating: 1, count: rows) }
        let (inF, outF) = (inFeatures, outFeatures)
        gradOutput.withPointer { dY in
            savedInput.withPointer { x in
                ones.withUnsafeBufferPointer { one in
                    weight.grad.withMutablePointer { dW in
                        bias.grad.withMutablePointer { dB in
                            Self.affineBackwardParameters(dY: dY, x: x, rows: rows, inFeatures: inF, outFeatures: outF,
                                                          ones: one.baseAddress!, gradWeight: dW, gradBias: dB)
                        }
                    }
                }
            }
        }
        guard needsInputGradient else { return emptyGradient }
        return Tensor(shape: savedInput.shape) { dX, _ in
            gradOutput.withPointer { dY in
                weight.value.withPointer { w in
                    // dX [rows, in] = dY [rows, out] · W [out, in]
                    BLAS.gemm(transposeA: false, transposeB: false, m: rows, n: inF, k: outF, alpha: 1,
                              a: dY, lda: outF, b: w, ldb: inF, beta: 0, c: dX, ldc: inF)
                }
            }
        }
    }

    /// y [rows, out] = x [rows, in] · Wᵀ + b.
    static func affineForward(x: UnsafePointer<Float>, rows: Int, inFeatures: Int, outFeatures: Int,
                              weight: UnsafePointer<Float>, bias: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) {
        for r in 0..<rows { (y + r * outFeatures).update(from: bias, count: outFeatures) }
        BLAS.gemm(transposeA: false, transposeB: true, m: rows, n: outFeatures, k: inFeatures, alpha: 1,
                  a: x, lda: inFeatures, b: weight, ldb: inFeatures, beta: 1, c: y, ldc: outFeatures)
    }

    /// gradWeight [out, in] += dYᵀ·x ; gradBias [out] += dYᵀ·1 (both one GEMM over all rows).
    static func affineBackwardParameters(dY: UnsafePointer<Float>, x: UnsafePointer<Float>, rows: Int,
                                         inFeatures: Int, outFeatures: Int, ones: UnsafePointer<Float>,
                                         gradWeight: UnsafeMutablePointer<Float>, gradBias: UnsafeMutablePointer<Float>) {
        BLAS.gemm(transposeA: true, transposeB: false, m: outFeatures, n: inFeatures, k: rows, alpha: 1,
                  a: dY, lda: outFeatures, b: x, ldb: inFeatures, beta: 1, c: gradWeight, ldc: inFeatures)
        BLAS.gemm(transposeA: true, transposeB: false, m: outFeatures, n: 1, k: rows, alpha: 1,
                  a: dY, lda: outFeatures, b: ones, ldb: 1, beta: 1, c: gradBias, ldc: 1)
    }
}
