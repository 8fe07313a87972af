import SpikeTensor

/// Recurrent Linear → LIF, multi-step: input `[T, B, in]` → spikes `[T, B, out]`.
///
///     I[t] = W·x[t] + b + R·o[t−1]        (o[−1] = 0; R `[out, out]` has no bias)
///     u[t], o[t] from I[t] by the LIF equations (`LIFKernel`)
///
/// Forward does `W·x + b` for all T·B rows at once, then per step only `R·o[t−1]`
/// (`[B, out]·Rᵀ`) and the LIF step. Backward scans T in reverse with
/// `δo[t] = g_o[t] − τ·u[t]·δu[t+1] + Rᵀ·δu[t+1]` (per-step GEMM), then computes
/// `dR = Σ_t δu[t+1]·o[t]ᵀ`, `dW = Σ_t δu[t]·x[t]ᵀ`, `db = Σ_t δu[t]` once over all steps.
/// Products with spike operands (x, o) use `kernel` (dense GEMM or event-driven), and so do
/// the backward products with δu (`δu[t+1]·R`, `δu·W`), which are zero outside the surrogate window.
///
/// Any other neuron (`NeuronSettings` not the plain LIF) runs as `neurons`, whose steps
/// replace the LIF steps in both scans (dL/do[t] via R is then Rᵀ·dL/dI[t+1]); its learnt
/// constants follow the weights in `parameters`.
///
/// Parameters, drawn in this order: `"<name>.weight"` `[out, in]` and `"<name>.bias"` `[out]`
/// uniform in ±1/√in, then `"<name>.recurrent_weight"` `[out, out]` uniform in ±1/√out.
public final class RecurrentSpikingLinear: Layer {
    public let inFeatures: Int
    public let outFeatures: Int
    public var neuron: LIFParameters
    /// The neurons when they are not the plain LIF (nil: `neuron` on the LIF kernels).
    public let neurons: SpikingNeurons?
    public let weight: Parameter
    public let bias: Parameter
    public let recurrentWeight: Parameter
    public var needsInputGradient = true
    /// Dense GEMM or event-driven products for W·x, R·o and their weight gradients.
    public var kernel = SynapticKernel.standard
    public var parameters: [Parameter] { [weight, bias, recurrentWeight] + (neurons?.parameters ?? []) }
    /// Membrane potentials `[T, B, out]` of the last training forward (empty after an
    /// inference forward): the LIF's, or copied out of `neurons` on each read.
    public var membrane: Tensor { neurons?.membrane ?? lifMembrane }
    /// u `[T, B, out]` of the plain LIF's last training forward (empty for `neurons`).
    private var lifMembrane = Tensor(zeros: [0])
    /// `[T, B, out]` of the last training forward (empty after an inference forward).
    private var savedShape: [Int] = []
    /// false: inference, `forward` keeps no input, spikes or membrane (see `Layer.savesForBackward`).
    public var savesForBackward = true

    /// Keep the spike input (if all 0/1) and the layer's own spikes bit-packed for backward, 1 bit per element (`SavedInput`);
    /// false keeps it as Float32 (the oracle of the packed path in the tests).
    var packsSavedSpikes = true

    private var savedInput = SavedInput()
    private var savedSpikes = SavedInput()
    /// Bytes of input and spikes kept for backward by the last forward.
    var savedInputByteCount: Int { savedInput.byteCount + savedSpikes.byteCount }
    private var stepScratch: [Float] = []
    private var inputMap: AffineMap
    private var recurrentMap: AffineMap

    public convenience init(name: String, inFeatures: Int, outFeatures: Int, neuron: LIFParameters, rng: inout SeededGenerator) {
        self.init(name: name, inFeatures: inFeatures, outFeatures: outFeatures, settings: NeuronSettings(neuron), rng: &rng)
    }

    public init(name: String, inFeatures: Int, outFeatures: Int, settings: NeuronSettings, rng: inout SeededGenerator) {
        precondition(inFeatures > 0 && outFeatures > 0, "RecurrentSpikingLinear \(name): sizes must be positive")
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        let plain = KernelPlan.neuronPath(settings) == .lifKernels
        neuron = plain ? settings.lif : LIFParameters(tau: settings.tau, threshold: settings.threshold)
        neurons = plain ? nil : SpikingNeurons(name: name, settings: settings, shape: [outFeatures])
        weight = Parameter.uniform(name: name + ".weight", shape: [outFeatures, inFeatures], fanIn: inFeatures, rng: &rng)
        bias = Parameter.uniform(name: name + ".bias", shape: [outFeatures], fanIn: inFeatures, rng: &rng)
        recurrentWeight = Parameter.uniform(name: name + ".recurrent_weight", shape: [outFeatures, outFeatures],
                                            fanIn: outFeatures, rng: &rng)
        inputMap = AffineMap(inFeatures: inFeatures, outFeatures: outFeatures)
        recurrentMap = AffineMap(inFeatures: outFeatures, outFeatures: outFeatures)
    }

    /// u starts as the input projection `x·Wᵀ + b` for all T·B rows. input [T, B, in] → [T, B, out]
    private func inputProjection(_ input: Tensor) -> Tensor {
        let rows = input.shape[0] * input.shape[1]
        let sparse = input.withPointer { kernel.useSparse($0, count: input.count) }
        if sparse { weight.value.withPointer { inputMap.prepareSparse(weight: $0) } }
        return Tensor(shape: [input.shape[0], input.shape[1], outFeatures]) { y, _ in
            input.withPointer { x in
                weight.value.withPointer { w in
                    bias.value.withPointer { b in
                        inputMap.forward(x: x, rows: rows, weight: w, bias: b, accumulate: false, sparse: sparse, y: y)
                    }
                }
            }
        }
    }

    /// One step: `I[t] = b + W·x[t] + R·o[t−1]`, then the LIF step.
    public func makeStep(batch: Int, inputShape: [Int]) -> LayerStep {
        precondition(inputShape == [inFeatures], "RecurrentSpikingLinear: step input \(inputShape), expected [\(inFeatures)]")
        return RecurrentStep(self, batch: batch)
    }

    // input [T, B, in] → spikes [T, B, out]
    public func forward(_ input: Tensor) -> Tensor {
        precondition(input.rank == 3 && input.shape[2] == inFeatures,
                     "RecurrentSpikingLinear: input must be [T, B, \(inFeatures)], got \(input.shape)")
        lifMembrane = Tensor(zeros: [0])
        savedShape = []
        let steps = input.shape[0], batch = input.shape[1]
        let n = batch * outFeatures, p = neuron, kernel = kernel
        var u = inputProjection(input)
        let neurons = neurons
        neurons?.savesForBackward = savesForBackward
        neurons?.beginForward(steps: steps, batch: batch)
        // Rᵀ for the event-driven steps and for the dense ones' row product (DenseKernels)
        recurrentWeight.value.withPointer { recurrentMap.prepareSparse(weight: $0) }
        let spikes = Tensor(shape: u.shape) { o, _ in
            u.withMutablePointer { m in
                recurrentWeight.value.withPointer { r in
                    for t in 0..<steps {
                        let current = m + t * n
                        if t > 0 {
                            // I[t] [B, out] += o[t−1] [B, out] · Rᵀ
                            let previous = UnsafePointer(o + (t - 1) * n)
                            recurrentMap.forward(x: previous, rows: batch, weight: r, bias: nil, accumulate: true,
                                                 sparse: kernel.useSparse(previous, count: n), prepared: true, y: current)
                        }
                        if let neurons {
                            neurons.forwardStep(t, current: current, previousSpikes: t == 0 ? nil : UnsafePointer(o + (t - 1) * n),
                                                spikes: o + t * n)
                        } else {
                            LIFKernel.forwardStep(current: current, previousMembrane: t == 0 ? nil : UnsafePointer(m + (t - 1) * n),
                                                  membrane: current, spikes: o + t * n, neurons: n, parameters: p)
                        }
                    }
                }
            }
        }
        savedInput = SavedInput(input, keep: savesForBackward, pack: packsSavedSpikes)
        savedSpikes = SavedInput(spikes, keep: savesForBackward, pack: packsSavedSpikes)
        if savesForBackward {
            savedShape = u.shape
            if neurons == nil { lifMembrane = u }
        }
        return spikes
    }

    // gradSpikes [T, B, out] → gradInput [T, B, in]
    public func backward(_ gradOutput: Tensor) -> Tensor {
        precondition(savesForBackward, "RecurrentSpikingLinear.backward after an inference forward (savesForBackward == false)")
        precondition(savedShape.count == 3, "RecurrentSpikingLinear.backward without a training forward")
        let steps = savedShape[0], batch = savedShape[1], outF = outFeatures
        let n = batch * outF, p = neuron
        precondition(gradOutput.shape == savedShape, "RecurrentSpikingLinear: gradOutput \(gradOutput.shape) vs \(savedShape)")
        if stepScratch.count < n { stepScratch = [Float](repeating: 0, count: n) }
        let neurons = neurons
        neurons?.beginBackward()
        // δu [T, B, out]
        let gradCurrent = Tensor(shape: savedShape) { du, _ in
            gradOutput.withPointer { g in
                lifMembrane.withPointer { u in
                    recurrentWeight.value.withPointer { r in
                        stepScratch.withUnsafeMutableBufferPointer { scratch in
                            let recurrentGrad = scratch.baseAddress!
                            var t = steps - 1
                            while t >= 0 {
                                let next: UnsafePointer<Float>? = t == steps - 1 ? nil : UnsafePointer(du + (t + 1) * n)
                                if let next {
                                    // dL/do[t] via R: [B, out] = δu[t+1] [B, out] · R [out, out]
                                    // (event-driven over the nonzero δu[t+1] when sparse enough)
                                    recurrentMap.inputGradient(rows: batch, gradOutput: next, weight: r,
                                                               sparse: kernel.useSparse(next, count: n),
                                                               gradInput: recurrentGrad)
                                }
                                if let neurons {
                                    neurons.backwardStep(t, gradSpikes: g + t * n,
                                                         extraGradSpikes: next == nil ? nil : UnsafePointer(recurrentGrad),
                                                         gradCurrent: du + t * n)
                                } else {
                                    LIFKernel.backwardStep(gradSpikes: g + t * n, extraGradSpikes: next == nil ? nil : UnsafePointer(recurrentGrad),
                                                           membrane: u + t * n, nextGradCurrent: next, gradCurrent: du + t * n,
                                                           neurons: n, parameters: p)
                                }
                                t -= 1
                            }
                        }
                    }
                }
            }
        }
        neurons?.endBackward()
        return accumulateSynapticGradients(gradCurrent: gradCurrent, input: savedInput.tensor(), spikes: savedSpikes.tensor())
    }

    /// The synaptic part on its own, for given spikes: `I[t] = W·x[t] + b + R·o[t−1]` (o[−1] = 0).
    /// input [T, B, in], spikes [T, B, out] → currents [T, B, out]. (Forward fuses this with
    /// the LIF scan; this standalone version exists to finite-difference-check the backward.)
    public func synapticCurrent(input: Tensor, spikes: Tensor) -> Tensor {
        let steps = input.shape[0], batch = input.shape[1], outF = outFeatures
        precondition(spikes.shape == [steps, batch, outF], "synapticCurrent: spikes \(spikes.shape)")
        let n = batch * outF
        var y = inputProjection(input)
        y.withMutablePointer { y in
            spikes.withPointer { o in
                recurrentWeight.value.withPointer { r in
                    // I[1…T−1] [(T−1)·B, out] += o[0…T−2] · Rᵀ
                    BLAS.gemm(transposeA: false, transposeB: true, m: (steps - 1) * batch, n: outF, k: outF, alpha: 1,
                              a: o, lda: outF, b: r, ldb: outF, beta: 1, c: y + n, ldc: outF)
                }
            }
        }
        return y
    }

    /// Backward of `synapticCurrent` given δu = dL/dI [T, B, out]: ACCUMULATES
    /// `dR += Σ_t δu[t+1]ᵀ·o[t]`, `dW += Σ_t δu[t]ᵀ·x[t]`, `db += Σ_t δu[t]` (each once over
    /// all steps) and returns `dL/dx = δu·W` [T, B, in] (empty when `needsInputGradient` is false).
    public func accumulateSynapticGradients(gradCurrent: Tensor, input: Tensor, spikes: Tensor) -> Tensor {
        let steps = input.shape[0], batch = input.shape[1], outF = outFeatures
        let n = batch * outF, rows = steps * batch
        precondition(gradCurrent.shape == [steps, batch, outF] && spikes.shape == gradCurrent.shape,
                     "accumulateSynapticGradients: shapes \(gradCurrent.shape) \(spikes.shape)")
        let kernel = kernel
        gradCurrent.withPointer { du in
            spikes.withPointer { o in
                recurrentWeight.grad.withMutablePointer { dR in
                    // dR [out, out] += δu[1…T−1]ᵀ · o[0…T−2]
                    let count = (steps - 1) * n
                    recurrentMap.accumulateWeightGradient(x: o, rows: (steps - 1) * batch, gradOutput: du + n,
                                                          sparse: kernel.useSparse(o, count: count), gradWeight: dR)
                }
            }
        }
        let sparseInput = input.withPointer { kernel.useSparse($0, count: input.count) }
        return inputMap.backward(x: input, gradOutput: gradCurrent, rows: rows, weight: weight, bias: bias,
                                 sparseInput: sparseInput, kernel: kernel, needsInputGradient: needsInputGradient)
    }
}

/// The step of `RecurrentSpikingLinear`: x[t] [B, in], o[t−1] [B, out] → o[t] [B, out] with
/// `I[t] = b + x[t]·Wᵀ + o[t−1]·Rᵀ` (event-driven) and the neurons' step (LIF or `neurons`).
final class RecurrentStep: LayerStep {
    let input: LinearStep
    let recurrent: TransposedWeight
    let neurons: LayerStep
    let batch: Int
    /// o[t−1], the neurons' output buffer (nil before the first step).
    private var previousSpikes: UnsafePointer<Float>?
    var outputShape: [Int] { neurons.outputShape }
    init(_ layer: RecurrentSpikingLinear, batch: Int) {
        input = LinearStep(weight: layer.weight, bias: layer.bias, batch: batch)
        recurrent = TransposedWeight(layer.recurrentWeight)
        neurons = layer.neurons.map { NeuronsStep($0, batch: batch) }
            ?? LIFStep(layer.neuron, batch: batch, shape: [layer.outFeatures])
        self.batch = batch
    }
    func step(_ x: UnsafePointer<Float>) -> UnsafePointer<Float> {
        let current = input.output.pointer
        input.apply(x, into: current)
        // I[t] += o[t−1]·Rᵀ: the layer's own spikes of the previous step (none at t = 0)
        if let previousSpikes { accumulateEventDriven(previousSpikes, rows: batch, weight: recurrent, into: current) }
        let spikes = neurons.step(UnsafePointer(current))
        previousSpikes = spikes
        return spikes
    }
    func reset() { neurons.reset(); previousSpikes = nil }
}
