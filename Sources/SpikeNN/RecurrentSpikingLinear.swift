/// Recurrent Linear → LIF, multi-step: input `[T, B, in]` → spikes `[T, B, out]`.
///
///     I[t] = W·x[t] + b + R·o[t−1]        (o[−1] = 0; R `[out, out]` has no bias)
///     u[t], o[t] from I[t] by the LIF equations (`LIFKernel`)
///
/// Forward does `W·x + b` for all T·B rows in one GEMM, then per step only `R·o[t−1]`
/// (a `[B, out]·[out, out]` GEMM) and the LIF step. Backward scans T in reverse with
/// `δo[t] = g_o[t] − τ·u[t]·δu[t+1] + Rᵀ·δu[t+1]` (per-step GEMM), then computes
/// `dR = Σ_t δu[t+1]·o[t]ᵀ`, `dW = Σ_t δu[t]·x[t]ᵀ`, `db = Σ_t δu[t]` as one GEMM each.
///
/// Parameters, drawn in this order: `"<name>.weight"` `[out, in]` and `"<name>.bias"` `[out]`
/// uniform in ±1/√in, then `"<name>.recurrent_weight"` `[out, out]` uniform in ±1/√out.
public final class RecurrentSpikingLinear: Layer {
    public let inFeatures: Int
    public let outFeatures: Int
    public var neuron: LIFParameters
    public let weight: Parameter
    public let bias: Parameter
    public let recurrentWeight: Parameter
    public var needsInputGradient = true
    public var parameters: [Parameter] { [weight, bias, recurrentWeight] }
    /// Membrane potentials `[T, B, out]` of the last forward.
    public private(set) var membrane = Tensor(zeros: [0])

    private var savedInput = Tensor(zeros: [0])
    private var savedSpikes = Tensor(zeros: [0])
    private var stepScratch: [Float] = []
    private var ones: [Float] = []

    public init(name: String, inFeatures: Int, outFeatures: Int, neuron: LIFParameters, rng: inout SeededGenerator) {
        precondition(inFeatures > 0 && outFeatures > 0, "RecurrentSpikingLinear \(name): sizes must be positive")
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        self.neuron = neuron
        weight = Parameter.uniform(name: name + ".weight", shape: [outFeatures, inFeatures], fanIn: inFeatures, rng: &rng)
        bias = Parameter.uniform(name: name + ".bias", shape: [outFeatures], fanIn: inFeatures, rng: &rng)
        recurrentWeight = Parameter.uniform(name: name + ".recurrent_weight", shape: [outFeatures, outFeatures],
                                            fanIn: outFeatures, rng: &rng)
    }

    // input [T, B, in] → spikes [T, B, out]
    public func forward(_ input: Tensor) -> Tensor {
        precondition(input.rank == 3 && input.shape[2] == inFeatures,
                     "RecurrentSpikingLinear: input must be [T, B, \(inFeatures)], got \(input.shape)")
        savedInput = input
        let steps = input.shape[0], batch = input.shape[1], outF = outFeatures, inF = inFeatures
        let n = batch * outF, p = neuron
        let shape = [steps, batch, outF]
        // u starts as the input projection I_x = x·Wᵀ + b for all steps, then is updated in place.
        var u = Tensor(shape: shape) { y, _ in
            input.withPointer { x in
                weight.value.withPointer { w in
                    bias.value.withPointer { b in
                        Linear.affineForward(x: x, rows: steps * batch, inFeatures: inF, outFeatures: outF,
                                             weight: w, bias: b, y: y)
                    }
                }
            }
        }
        let spikes = Tensor(shape: shape) { o, _ in
            u.withMutablePointer { m in
                recurrentWeight.value.withPointer { r in
                    for t in 0..<steps {
                        let current = m + t * n
                        if t > 0 {
                            // I[t] [B, out] += o[t−1] [B, out] · Rᵀ
                            BLAS.gemm(transposeA: false, transposeB: true, m: batch, n: outF, k: outF, alpha: 1,
                                      a: o + (t - 1) * n, lda: outF, b: r, ldb: outF, beta: 1, c: current, ldc: outF)
                        }
                        LIFKernel.forwardStep(current: current, previousMembrane: t == 0 ? nil : UnsafePointer(m + (t - 1) * n),
                                              membrane: current, spikes: o + t * n, neurons: n, parameters: p)
                    }
                }
            }
        }
        membrane = u
        savedSpikes = spikes
        return spikes
    }

    // gradSpikes [T, B, out] → gradInput [T, B, in]
    public func backward(_ gradOutput: Tensor) -> Tensor {
        let steps = membrane.shape[0], batch = membrane.shape[1], outF = outFeatures, inF = inFeatures
        let n = batch * outF, p = neuron, rows = steps * batch
        precondition(gradOutput.shape == membrane.shape, "RecurrentSpikingLinear: gradOutput \(gradOutput.shape) vs \(membrane.shape)")
        if stepScratch.count < n { stepScratch = [Float](repeating: 0, count: n) }
        if ones.count < rows { ones = [Float](repeating: 1, count: rows) }
        // δu [T, B, out]
        let gradCurrent = Tensor(shape: membrane.shape) { du, _ in
            gradOutput.withPointer { g in
                membrane.withPointer { u in
                    recurrentWeight.value.withPointer { r in
                        stepScratch.withUnsafeMutableBufferPointer { scratch in
                            let recurrentGrad = scratch.baseAddress!
                            var t = steps - 1
                            while t >= 0 {
                                let next: UnsafePointer<Float>? = t == steps - 1 ? nil : UnsafePointer(du + (t + 1) * n)
                                if let next {
                                    // dL/do[t] via R: [B, out] = δu[t+1] [B, out] · R [out, out]
                                    BLAS.gemm(transposeA: false, transposeB: false, m: batch, n: outF, k: outF, alpha: 1,
                                              a: next, lda: outF, b: r, ldb: outF, beta: 0, c: recurrentGrad, ldc: outF)
                                }
                                LIFKernel.backwardStep(gradSpikes: g + t * n, extraGradSpikes: next == nil ? nil : UnsafePointer(recurrentGrad),
                                                       membrane: u + t * n, nextGradCurrent: next, gradCurrent: du + t * n,
                                                       neurons: n, parameters: p)
                                t -= 1
                            }
                        }
                    }
                }
            }
        }
        gradCurrent.withPointer { du in
            savedSpikes.withPointer { o in
                recurrentWeight.grad.withMutablePointer { dR in
                    // dR [out, out] += Σ_{t≥1} δu[t]ᵀ · o[t−1]: rows 1… of δu against rows …T−2 of o
                    BLAS.gemm(transposeA: true, transposeB: false, m: outF, n: outF, k: (steps - 1) * batch, alpha: 1,
                              a: du + n, lda: outF, b: o, ldb: outF, beta: 1, c: dR, ldc: outF)
                }
            }
            savedInput.withPointer { x in
                ones.withUnsafeBufferPointer { one in
                    weight.grad.withMutablePointer { dW in
                        bias.grad.withMutablePointer { dB in
                            Linear.affineBackwardParameters(dY: du, x: x, rows: rows, inFeatures: inF, outFeatures: outF,
                                                            ones: one.baseAddress!, gradWeight: dW, gradBias: dB)
                        }
                    }
                }
            }
        }
        guard needsInputGradient else { return emptyGradient }
        return Tensor(shape: savedInput.shape) { dX, _ in
            gradCurrent.withPointer { du in
                weight.value.withPointer { w in
                    BLAS.gemm(transposeA: false, transposeB: false, m: rows, n: inF, k: outF, alpha: 1,
                              a: du, lda: outF, b: w, ldb: inF, beta: 0, c: dX, ldc: inF)
                }
            }
        }
    }
}
