import SpikeTensor

/// The time steps of every `NeuronModel`, over a batch of neuron populations, specialised
/// per model, reset rule and surrogate (`NeuronSettings.specialised`): the forward step is
/// `NeuronModel.step` and the reverse step `NeuronModel.backwardStep` applied to each neuron,
/// so the multi-step scans (`SpikingNeurons`, `RecurrentSpikingLinear`) are these steps in
/// a loop over t. Layout: `[B, P]` per step, P neurons per sample; the per-neuron constants
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
