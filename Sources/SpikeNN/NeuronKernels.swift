import CSpikeKernels
import SpikeTensor

/// The time steps of every `NeuronModel`, over a batch of neuron populations, specialised
/// per model, reset rule and surrogate (`NeuronSettings.specialised`): the forward step is
/// `NeuronModel.step` and the reverse step `NeuronModel.backwardStep` applied to each neuron.
/// These Swift steps are the reference of the C steps (`NeuronStepKernels`) that the
/// multi-step scans (`SpikingNeurons`, `RecurrentSpikingLinear`) run in a loop over t. Layout: `[B, P]` per step, P neurons per sample; the per-neuron constants
/// β and ϑ are `[P]` (expanded from per-layer or per-channel values).
enum NeuronKernels {
    /// Runs `body` over chunks of the P neurons of a sample on all cores (each chunk for every
    /// sample of the batch), where a step has at least 16,384 neurons in all (as `LIFKernel`).
    static func forEachNeuronChunk(perSample: Int, batch: Int, _ body: (Range<Int>) -> Void) {
        Parallel.forEachChunk(perSample, minimumChunk: max(1, 16_384 / max(batch, 1)), body)
    }

    /// current I[t] [B, P], states at t−1 [B, P] (nil at t = 0) → states at t [B, P], spikes o[t] [B, P].
    /// `states` may alias `previous` (inference keeps one state per neuron).
    struct ForwardStep: NeuronKernelBody {
        let current: UnsafePointer<Float>
        let previous: UnsafePointer<NeuronState>?
        let states: UnsafeMutablePointer<NeuronState>
        let spikes: UnsafeMutablePointer<Float>
        let batch: Int, perSample: Int
        let decay: UnsafePointer<Float>, threshold: UnsafePointer<Float>
        let constants: NeuronConstants

        func run<M: NeuronModel, R: ResetRule, S: SurrogateGradient>(_: M.Type, _: R.Type, _: S) {
            NeuronKernels.forEachNeuronChunk(perSample: perSample, batch: batch) { range in
                var c = constants
                for b in 0..<batch {
                    let row = b * perSample
                    for j in range {
                        c.decay = decay[j]
                        c.threshold = threshold[j]
                        let s = M.step(current[row + j], previous.map { $0[row + j] } ?? NeuronState(), c, reset: R.self)
                        states[row + j] = s
                        spikes[row + j] = s.spike
                    }
                }
            }
        }
    }

    /// g_o[t] [B, P] (+ extra dL/do[t] [B, P]), states at t and t−1 (nil at t = 0) [B, P],
    /// adjoints of t+1 [B, P] (zero at t = T−1, overwritten with those of t) → dL/dI[t] [B, P];
    /// ACCUMULATES dL/dϑ and dL/dβ per neuron into `gradThreshold` [P], `gradDecay` [P].
    struct BackwardStep: NeuronKernelBody {
        let gradSpikes: UnsafePointer<Float>
        let extraGradSpikes: UnsafePointer<Float>?
        let states: UnsafePointer<NeuronState>
        let previous: UnsafePointer<NeuronState>?
        let adjoints: UnsafeMutablePointer<NeuronAdjoint>
        let gradCurrent: UnsafeMutablePointer<Float>
        let gradThreshold: UnsafeMutablePointer<Float>
        let gradDecay: UnsafeMutablePointer<Float>
        let batch: Int, perSample: Int
        let decay: UnsafePointer<Float>, threshold: UnsafePointer<Float>
        let constants: NeuronConstants

        func run<M: NeuronModel, R: ResetRule, S: SurrogateGradient>(_: M.Type, _: R.Type, _ surrogate: S) {
            // Chunks of neurons j (each with its own dL/dϑ[j], dL/dβ[j]), every sample b in each.
            NeuronKernels.forEachNeuronChunk(perSample: perSample, batch: batch) { range in
                var c = constants
                for b in 0..<batch {
                    let row = b * perSample
                    for j in range {
                        let n = row + j
                        c.decay = decay[j]
                        c.threshold = threshold[j]
                        let g = gradSpikes[n] + (extraGradSpikes?[n] ?? 0)
                        let r = M.backwardStep(gradSpike: g, state: states[n], previous: previous?[n], next: adjoints[n], c,
                                               reset: R.self, surrogate: surrogate)
                        adjoints[n] = r.adjoint
                        gradCurrent[n] = r.adjoint.synapse
                        gradThreshold[j] += r.gradThreshold
                        gradDecay[j] += r.gradDecay
                    }
                }
            }
        }
    }
}

/// The C steps of every `NeuronModel` (NeuronSteps.c, AVX2 where the CPU has it): eight
/// neurons at a time, the same float operations in the same order as `NeuronKernels`' Swift
/// steps, so the same bits (tested). The state is split per quantity, so that a scan keeps
/// only what its backward reads: u `[T, B, P]`, a `[T, B, P]` for the adaptive model; o is
/// recomputed as u ≥ θ and s (current-based) is needed by no reverse step.
/// Layout: `[B, P]` per step; β and ϑ `[P]`; chunks of the P neurons run on all cores
/// (`NeuronKernels.forEachNeuronChunk`).
enum NeuronStepKernels {
    /// The shared constants of `settings` as the C kernels take them (the surrogate's two
    /// numbers computed as the Swift surrogate computes them).
    static func constants(_ settings: NeuronSettings) -> sf_neuron_constants {
        var c = sf_neuron_constants()
        switch settings.model {
        case .lif, .integrateAndFire: c.model = Int32(SF_MODEL_LEAKY)
        case .currentBased: c.model = Int32(SF_MODEL_CURRENT_BASED)
        case .adaptive: c.model = Int32(SF_MODEL_ADAPTIVE)
        }
        switch settings.reset {
        case .zero: c.reset = Int32(SF_RESET_ZERO)
        case .value(let v): c.reset = Int32(SF_RESET_VALUE); c.reset_value = v
        case .subtract: c.reset = Int32(SF_RESET_SUBTRACT)
        }
        let gamma = settings.dampening
        switch settings.surrogate {
        case .rectangle(let w):
            let s = RectangleSurrogate(width: w, dampening: gamma)
            (c.surrogate, c.surrogate_a, c.surrogate_b) = (Int32(SF_SURROGATE_RECTANGLE), s.halfWidth, s.height)
        case .fastSigmoid(let k):
            let s = FastSigmoidSurrogate(slope: k, dampening: gamma)
            (c.surrogate, c.surrogate_a, c.surrogate_b) = (Int32(SF_SURROGATE_FAST_SIGMOID), s.slope, s.scale)
        case .arctan(let k):
            let s = ArctanSurrogate(slope: k, dampening: gamma)
            (c.surrogate, c.surrogate_a, c.surrogate_b) = (Int32(SF_SURROGATE_ARCTAN), Float.pi / 2 * s.slope,
                                                           s.scale * (s.slope / 2))
        case .triangle(let w):
            let s = TriangleSurrogate(width: w, dampening: gamma)
            (c.surrogate, c.surrogate_a, c.surrogate_b) = (Int32(SF_SURROGATE_TRIANGLE), s.width, s.scale / s.width)
        }
        c.synapse_decay = settings.synapseTau
        c.adaptation_decay = settings.adaptationDecay
        c.adaptation_strength = settings.adaptationStrength
        return c
    }

    /// The level the C kernels take for `variant` (AVX-512 runs the AVX2 build).
    static func flag(_ variant: VectorKernels.Variant) -> Int32 {
        precondition(variant.rawValue <= VectorKernels.preferred.rawValue, "the \(variant) variant needs a CPU that has it")
        return variant == .baseline ? 0 : 1
    }

    /// A population's state at one step, `[B, P]` each (s only current-based, a only adaptive).
    struct State {
        var membrane: UnsafeMutablePointer<Float>
        var synapse: UnsafeMutablePointer<Float>?
        var adaptation: UnsafeMutablePointer<Float>?
        var spikes: UnsafeMutablePointer<Float>
    }

    /// current I[t] [B, P], the state at t−1 (nil at t = 0) → the state at t. `state` may be
    /// `previous` (a streaming step keeps one state per neuron).
    static func forwardStep(_ c: sf_neuron_constants, current: UnsafePointer<Float>, previous: State?, state: State,
                            batch: Int, perSample: Int, decay: UnsafePointer<Float>, threshold: UnsafePointer<Float>,
                            variant: VectorKernels.Variant) {
        let level = flag(variant)
        withUnsafePointer(to: c) { c in
            NeuronKernels.forEachNeuronChunk(perSample: perSample, batch: batch) { range in
                sf_neuron_forward_step(c, decay, threshold, current, previous?.membrane, previous?.synapse,
                                       previous?.adaptation, previous?.spikes, state.membrane, state.synapse,
                                       state.adaptation, state.spikes, Int64(batch), Int64(perSample),
                                       Int64(range.lowerBound), Int64(range.upperBound), level)
            }
        }
    }

    /// The adjoints δu, δs, δa of one step, `[B, P]` each (δs current-based, δa adaptive).
    struct Adjoints {
        var membrane: UnsafeMutablePointer<Float>
        var synapse: UnsafeMutablePointer<Float>?
        var adaptation: UnsafeMutablePointer<Float>?
    }

    /// g_o[t] [B, P] (+ extra dL/do[t]), u and a at t and t−1 (nil at t = 0) [B, P], the
    /// adjoints of t+1 (zero at t = T−1; overwritten with those of t) → dL/dI[t] [B, P];
    /// ACCUMULATES dL/dϑ and dL/dβ into `gradThreshold` [P], `gradDecay` [P].
    static func backwardStep(_ c: sf_neuron_constants, gradSpikes: UnsafePointer<Float>,
                             extraGradSpikes: UnsafePointer<Float>?,
                             membrane: UnsafePointer<Float>, adaptation: UnsafePointer<Float>?,
                             previousMembrane: UnsafePointer<Float>?, previousAdaptation: UnsafePointer<Float>?,
                             adjoints: Adjoints, gradCurrent: UnsafeMutablePointer<Float>,
                             gradThreshold: UnsafeMutablePointer<Float>, gradDecay: UnsafeMutablePointer<Float>,
                             batch: Int, perSample: Int, decay: UnsafePointer<Float>, threshold: UnsafePointer<Float>,
                             variant: VectorKernels.Variant) {
        let level = flag(variant)
        withUnsafePointer(to: c) { c in
            NeuronKernels.forEachNeuronChunk(perSample: perSample, batch: batch) { range in
                sf_neuron_backward_step(c, decay, threshold, gradSpikes, extraGradSpikes, membrane, adaptation,
                                        previousMembrane, previousAdaptation, adjoints.membrane, adjoints.synapse,
                                        adjoints.adaptation, gradCurrent, gradThreshold, gradDecay, Int64(batch),
                                        Int64(perSample), Int64(range.lowerBound), Int64(range.upperBound), level)
            }
        }
    }
}
