import CSpikeKernels
import Foundation
import SpikeTensor

/// A population of neurons of any `NeuronModel` (no weights of its own but its learnt
/// constants): input current `[T, B, …]` → spikes `[T, B, …]`. The paper's plain LIF runs
/// on `LIF` instead (its fused C kernels); `NetworkBuilder` picks (`KernelPlan.neuronPath`).
///
/// The scans are the C steps of `NeuronStepKernels` in a loop over t (`beginForward`/
/// `forwardStep`, `backwardStep`/`endBackward`, also driven by `RecurrentSpikingLinear`).
/// Forward keeps for backward only u `[T, B, P]` (and a `[T, B, P]` for the adaptive model):
/// 4 (8) bytes per neuron and step. `runsReferenceSteps` runs the Swift steps of
/// `NeuronKernels` instead (16-byte `NeuronState`s), the reference the tests compare with.
///
/// Learnt constants (`NeuronSettings.learnTau`, `.learnThreshold`) are `Parameter`s named
/// `"<name>.tau_logit"` (β = sigmoid(w), so β stays in (0, 1); `[1]` per layer, `[C]` per
/// channel) and `"<name>.threshold"` (`[1]` per layer, `[P]` per neuron), so checkpoints
/// and Adam see them like weights.
public final class SpikingNeurons: Layer {
    public let settings: NeuronSettings
    /// One sample's shape, `[C, H, W]` or `[F]` (channels: C or F).
    public let shape: [Int]
    public let tauLogit: Parameter?
    public let threshold: Parameter?
    public var needsInputGradient = true
    public var savesForBackward = true
    public var parameters: [Parameter] { [tauLogit, threshold].compactMap { $0 } }
    /// P, neurons per sample.
    public let perSample: Int
    /// true: the Swift steps (`NeuronKernels`), the reference of the C steps (tests only).
    var runsReferenceSteps = false
    /// The C kernels' instruction set (the tests run each one the machine has).
    var variant = VectorKernels.preferred
    /// The settings as the C steps take them.
    let kernelConstants: sf_neuron_constants

    // The reference steps' states [T, B, P] and adjoints [B, P].
    private var states: [NeuronState] = []
    private var adjoints: [NeuronAdjoint] = []
    // The C steps' kept u, a [T, B, P] (a adaptive only), s [B, P] (current-based only) and
    // adjoints δu, δs, δa [B, P].
    private var membranes = StepBuffer(0), adaptations = StepBuffer(0), synapses = StepBuffer(0)
    private var adjointMembrane = StepBuffer(0), adjointSynapse = StepBuffer(0), adjointAdaptation = StepBuffer(0)
    private var decay: [Float] = []
    private var thresholds: [Float] = []
    private var gradDecay: [Float] = []
    private var gradThreshold: [Float] = []
    private var steps = 0, batch = 0

    /// `name`: the layer's parameter prefix (e.g. "audio.rec1"); needed when a constant is learnt.
    public init(name: String, settings: NeuronSettings, shape: [Int]) {
        self.settings = settings
        self.shape = shape
        perSample = shape.reduce(1, *)
        kernelConstants = NeuronStepKernels.constants(settings)
        let counts = settings.learntCounts(shape: shape)
        let w = Float(log(Double(settings.tau) / (1 - Double(settings.tau))))
        tauLogit = counts.tau == 0 ? nil : Parameter(name: name + ".tau_logit", value: Tensor(repeating: w, shape: [counts.tau]))
        threshold = counts.threshold == 0 ? nil
            : Parameter(name: name + ".threshold", value: Tensor(repeating: settings.threshold, shape: [counts.threshold]))
    }

    /// β `[P]` and ϑ `[P]` per neuron, from the settings or the learnt parameters.
    func perNeuronConstants() -> (decay: [Float], threshold: [Float]) {
        var beta = [Float](repeating: settings.tau, count: perSample)
        if let w = tauLogit?.value.scalars {
            let span = perSample / w.count
            // In Double, then rounded: the correctly rounded sigmoid (as the PyTorch peer's).
            for j in 0..<perSample { beta[j] = Float(1 / (1 + exp(-Double(w[j / span])))) }
        }
        var theta = [Float](repeating: settings.threshold, count: perSample)
        if let v = threshold?.value.scalars {
            for j in 0..<perSample { theta[j] = v[v.count == 1 ? 0 : j] }
        }
        return (beta, theta)
    }

    /// A buffer of `count` floats: `buffer` itself where it has that size (its values are
    /// overwritten before they are read), else a new one.
    private static func sized(_ buffer: StepBuffer, _ count: Int) -> StepBuffer {
        buffer.count == count ? buffer : StepBuffer(count)
    }

    /// Starts a scan of `steps` steps over `batch` samples (state u = s = a = o = 0).
    func beginForward(steps: Int, batch: Int) {
        self.steps = steps
        self.batch = batch
        (decay, thresholds) = perNeuronConstants()
        let kept = (savesForBackward ? steps : 1) * batch * perSample
        if runsReferenceSteps {
            states = [NeuronState](repeating: NeuronState(), count: kept)
            return
        }
        states = []
        membranes = Self.sized(membranes, kept)
        adaptations = Self.sized(adaptations, settings.model == .adaptive ? kept : 0)
        synapses = Self.sized(synapses, settings.model == .currentBased ? batch * perSample : 0)
    }

    /// The C steps' state at step t (`spikes`: o[t] [B, P]).
    private func state(_ t: Int, spikes: UnsafeMutablePointer<Float>) -> NeuronStepKernels.State {
        let at = savesForBackward ? t * batch * perSample : 0
        return NeuronStepKernels.State(membrane: membranes.pointer + at,
                                       synapse: synapses.count == 0 ? nil : synapses.pointer,
                                       adaptation: adaptations.count == 0 ? nil : adaptations.pointer + at,
                                       spikes: spikes)
    }

    /// Step t of the scan: current I[t] [B, P], o[t−1] [B, P] (nil at t = 0) → spikes o[t] [B, P].
    func forwardStep(_ t: Int, current: UnsafePointer<Float>, previousSpikes: UnsafePointer<Float>?,
                     spikes: UnsafeMutablePointer<Float>) {
        precondition((t == 0) == (previousSpikes == nil), "SpikingNeurons.forwardStep: o[t−1] at and only after t = 0")
        if !runsReferenceSteps {
            let previous = previousSpikes.map { state(t - 1, spikes: UnsafeMutablePointer(mutating: $0)) }
            decay.withUnsafeBufferPointer { beta in
                thresholds.withUnsafeBufferPointer { theta in
                    NeuronStepKernels.forwardStep(kernelConstants, current: current,
                                                  previous: previous, state: state(t, spikes: spikes), batch: batch,
                                                  perSample: perSample, decay: beta.baseAddress!,
                                                  threshold: theta.baseAddress!, variant: variant)
                }
            }
            return
        }
        let n = batch * perSample
        let here = savesForBackward ? t * n : 0, before = savesForBackward ? (t - 1) * n : 0
        states.withUnsafeMutableBufferPointer { s in
            decay.withUnsafeBufferPointer { beta in
                thresholds.withUnsafeBufferPointer { theta in
                    settings.specialised(NeuronKernels.ForwardStep(
                        current: current, previous: t == 0 ? nil : UnsafePointer(s.baseAddress! + before),
                        states: s.baseAddress! + here, spikes: spikes, batch: batch, perSample: perSample,
                        decay: beta.baseAddress!, threshold: theta.baseAddress!, constants: settings.constants))
                }
            }
        }
    }

    /// Membrane potentials u `[T, B, …]` of the last forward (empty after an inference forward).
    public var membrane: Tensor {
        guard savesForBackward, steps > 0 else { return Tensor(zeros: [0]) }
        if runsReferenceSteps {
            guard !states.isEmpty else { return Tensor(zeros: [0]) }
            return Tensor(shape: [steps, batch] + shape, scalars: states.map(\.membrane))
        }
        guard membranes.count == steps * batch * perSample else { return Tensor(zeros: [0]) }
        return Tensor(shape: [steps, batch] + shape, scalars: Array(membranes.buffer))
    }

    /// The activity of the last forward (nil after an inference forward): spikes where u[t] ≥
    /// θ[t], the threshold the step compared with (ϑ per neuron where learnt, + b·a[t] for the
    /// adaptive model), the surrogate's active band `settings.surrogate.activeHalfWidth` about θ.
    public func activity(layer: String) -> NeuronActivity? {
        let u = membrane
        guard u.rank >= 3 else { return nil }
        let theta = perNeuronConstants().threshold, p = perSample
        let adaptation: [Float]? = settings.model != .adaptive ? nil
            : runsReferenceSteps ? states.map(\.adaptation) : Array(adaptations.buffer)
        let b = settings.adaptationStrength
        return NeuronActivity(layer: layer, membrane: u, halfWidth: settings.surrogate.activeHalfWidth) { i in
            adaptation.map { theta[i % p] + b * $0[i] } ?? theta[i % p]
        }
    }

    // current [T, B, …] → spikes [T, B, …]
    public func forward(_ input: Tensor) -> Tensor {
        precondition(input.rank >= 2 && input.elementsPerStep == input.shape[1] * perSample,
                     "SpikingNeurons: input must be [T, B] + \(shape), got \(input.shape)")
        let t = input.shape[0], b = input.shape[1], n = b * perSample
        beginForward(steps: t, batch: b)
        return Tensor(shape: input.shape) { o, _ in
            input.withPointer { i in
                for step in 0..<t {
                    forwardStep(step, current: i + step * n, previousSpikes: step == 0 ? nil : UnsafePointer(o + (step - 1) * n),
                                spikes: o + step * n)
                }
            }
        }
    }

    /// Starts the reverse scan (adjoints and this batch's dL/dβ, dL/dϑ at 0).
    func beginBackward() {
        let n = batch * perSample
        gradDecay = [Float](repeating: 0, count: perSample)
        gradThreshold = gradDecay
        if runsReferenceSteps {
            precondition(savesForBackward && states.count == steps * n, "SpikingNeurons.backward without a training forward")
            adjoints = [NeuronAdjoint](repeating: NeuronAdjoint(), count: n)
            return
        }
        precondition(savesForBackward && steps > 0 && membranes.count == steps * n,
                     "SpikingNeurons.backward without a training forward")
        adjointMembrane = Self.sized(adjointMembrane, n)
        adjointSynapse = Self.sized(adjointSynapse, settings.model == .currentBased ? n : 0)
        adjointAdaptation = Self.sized(adjointAdaptation, settings.model == .adaptive ? n : 0)
        for a in [adjointMembrane, adjointSynapse, adjointAdaptation] { a.zero() }
    }

    /// Reverse step t (called for t = T−1 … 0): g_o[t] [B, P] (+ extra dL/do[t]) → dL/dI[t] [B, P].
    func backwardStep(_ t: Int, gradSpikes: UnsafePointer<Float>, extraGradSpikes: UnsafePointer<Float>?,
                      gradCurrent: UnsafeMutablePointer<Float>) {
        let n = batch * perSample
        if !runsReferenceSteps {
            let adaptive = adaptations.count > 0
            let adjoints = NeuronStepKernels.Adjoints(
                membrane: adjointMembrane.pointer, synapse: adjointSynapse.count == 0 ? nil : adjointSynapse.pointer,
                adaptation: adaptive ? adjointAdaptation.pointer : nil)
            gradDecay.withUnsafeMutableBufferPointer { dBeta in
                gradThreshold.withUnsafeMutableBufferPointer { dTheta in
                    decay.withUnsafeBufferPointer { beta in
                        thresholds.withUnsafeBufferPointer { theta in
                            NeuronStepKernels.backwardStep(
                                kernelConstants, gradSpikes: gradSpikes,
                                extraGradSpikes: extraGradSpikes, membrane: membranes.pointer + t * n,
                                adaptation: adaptive ? UnsafePointer(adaptations.pointer + t * n) : nil,
                                previousMembrane: t == 0 ? nil : UnsafePointer(membranes.pointer + (t - 1) * n),
                                previousAdaptation: t == 0 || !adaptive ? nil : UnsafePointer(adaptations.pointer + (t - 1) * n),
                                adjoints: adjoints, gradCurrent: gradCurrent, gradThreshold: dTheta.baseAddress!,
                                gradDecay: dBeta.baseAddress!, batch: batch, perSample: perSample,
                                decay: beta.baseAddress!, threshold: theta.baseAddress!, variant: variant)
                        }
                    }
                }
            }
            return
        }
        states.withUnsafeBufferPointer { s in
            adjoints.withUnsafeMutableBufferPointer { a in
                gradDecay.withUnsafeMutableBufferPointer { dBeta in
                    gradThreshold.withUnsafeMutableBufferPointer { dTheta in
                        decay.withUnsafeBufferPointer { beta in
                            thresholds.withUnsafeBufferPointer { theta in
                                settings.specialised(NeuronKernels.BackwardStep(
                                    gradSpikes: gradSpikes, extraGradSpikes: extraGradSpikes,
                                    states: s.baseAddress! + t * n, previous: t == 0 ? nil : s.baseAddress! + (t - 1) * n,
                                    adjoints: a.baseAddress!, gradCurrent: gradCurrent,
                                    gradThreshold: dTheta.baseAddress!, gradDecay: dBeta.baseAddress!,
                                    batch: batch, perSample: perSample, decay: beta.baseAddress!,
                                    threshold: theta.baseAddress!, constants: settings.constants))
                            }
                        }
                    }
                }
            }
        }
    }

    /// Ends the reverse scan: ACCUMULATES dL/dw (w = tau_logit, dβ/dw = β(1 − β)) and dL/dϑ
    /// into the learnt parameters' grads.
    func endBackward() {
        if let w = tauLogit {
            var g = w.grad.scalars
            let span = perSample / g.count
            for j in 0..<perSample { g[j / span] += gradDecay[j] * decay[j] * (1 - decay[j]) }
            w.grad = Tensor(shape: w.grad.shape, scalars: g)
        }
        if let v = threshold {
            var g = v.grad.scalars
            for j in 0..<perSample { g[g.count == 1 ? 0 : j] += gradThreshold[j] }
            v.grad = Tensor(shape: v.grad.shape, scalars: g)
        }
    }

    // gradSpikes [T, B, …] → gradCurrent [T, B, …]
    public func backward(_ gradOutput: Tensor) -> Tensor {
        beginBackward()
        let n = batch * perSample
        precondition(gradOutput.count == steps * n, "SpikingNeurons: gradOutput \(gradOutput.shape)")
        let result = Tensor(shape: gradOutput.shape) { dI, _ in
            gradOutput.withPointer { g in
                for t in stride(from: steps - 1, through: 0, by: -1) {
                    backwardStep(t, gradSpikes: g + t * n, extraGradSpikes: nil, gradCurrent: dI + t * n)
                }
            }
        }
        endBackward()
        return result
    }

    public func makeStep(batch: Int, inputShape: [Int]) -> LayerStep {
        precondition(inputShape == shape, "SpikingNeurons: step input \(inputShape), expected \(shape)")
        return NeuronsStep(self, batch: batch)
    }
}

/// The step of `SpikingNeurons`: I[t] [B·P] → o[t] [B·P], one state per neuron, on the
/// layer's kernels (the C steps, or the Swift reference steps where the layer runs those). The
/// per-neuron β and ϑ are recomputed only when a learnt constant changed (`Parameter.version`),
/// so a changed parameter is never stale and a step allocates nothing.
final class NeuronsStep: LayerStep {
    let neurons: SpikingNeurons
    let batch: Int
    var outputShape: [Int] { neurons.shape }
    /// o [B, P], also the C steps' o[t−1].
    let spikes: StepBuffer
    private var states: [NeuronState]
    /// The C steps' u, s, a [B, P] (s current-based, a adaptive only).
    private let membrane: StepBuffer, synapse: StepBuffer?, adaptation: StepBuffer?
    private var constants: (decay: [Float], threshold: [Float])
    private var versions: (tau: Int, threshold: Int)
    private var first = true
    init(_ neurons: SpikingNeurons, batch: Int) {
        self.neurons = neurons
        self.batch = batch
        let n = batch * neurons.perSample
        spikes = StepBuffer(n)
        states = neurons.runsReferenceSteps ? [NeuronState](repeating: NeuronState(), count: n) : []
        membrane = StepBuffer(neurons.runsReferenceSteps ? 0 : n)
        synapse = neurons.settings.model == .currentBased ? StepBuffer(n) : nil
        adaptation = neurons.settings.model == .adaptive ? StepBuffer(n) : nil
        constants = neurons.perNeuronConstants()
        versions = (neurons.tauLogit?.version ?? -1, neurons.threshold?.version ?? -1)
    }
    func step(_ current: UnsafePointer<Float>) -> UnsafePointer<Float> {
        let now = (tau: neurons.tauLogit?.version ?? -1, threshold: neurons.threshold?.version ?? -1)
        if now != versions {
            constants = neurons.perNeuronConstants()
            versions = now
        }
        let previousExists = !first
        constants.decay.withUnsafeBufferPointer { b in
            constants.threshold.withUnsafeBufferPointer { v in
                if neurons.runsReferenceSteps {
                    states.withUnsafeMutableBufferPointer { s in
                        neurons.settings.specialised(NeuronKernels.ForwardStep(
                            current: current, previous: previousExists ? UnsafePointer(s.baseAddress!) : nil,
                            states: s.baseAddress!, spikes: spikes.pointer, batch: batch, perSample: neurons.perSample,
                            decay: b.baseAddress!, threshold: v.baseAddress!, constants: neurons.settings.constants))
                    }
                } else {
                    let state = NeuronStepKernels.State(membrane: membrane.pointer, synapse: synapse?.pointer,
                                                        adaptation: adaptation?.pointer, spikes: spikes.pointer)
                    NeuronStepKernels.forwardStep(neurons.kernelConstants, current: current, previous: previousExists ? state : nil,
                                                  state: state, batch: batch, perSample: neurons.perSample,
                                                  decay: b.baseAddress!, threshold: v.baseAddress!, variant: neurons.variant)
                }
            }
        }
        first = false
        return UnsafePointer(spikes.pointer)
    }
    func reset() {
        for i in states.indices { states[i] = NeuronState() }
        for buffer in [spikes, membrane, synapse, adaptation].compactMap({ $0 }) { buffer.zero() }
        first = true
    }
}

/// A synapse (`Linear`, `Conv2d`) followed by a `SpikingNeurons` population: the spiking
/// layer of every neuron but the plain LIF (`SynapseThenLIF`). Parameters: the synapse's,
/// then the neurons' learnt constants.
public final class SynapseThenNeurons: Layer {
    public let synapse: Layer
    public let neurons: SpikingNeurons
    public init(synapse: Layer, neurons: SpikingNeurons) {
        self.synapse = synapse
        self.neurons = neurons
    }
    public var parameters: [Parameter] { synapse.parameters + neurons.parameters }
    public var needsInputGradient: Bool {
        get { synapse.needsInputGradient }
        set { synapse.needsInputGradient = newValue }
    }
    public var savesForBackward: Bool {
        get { synapse.savesForBackward }
        set { synapse.savesForBackward = newValue; neurons.savesForBackward = newValue }
    }
    public func forward(_ input: Tensor) -> Tensor { neurons.forward(synapse.forward(input)) }
    public func backward(_ gradOutput: Tensor) -> Tensor { synapse.backward(neurons.backward(gradOutput)) }
    public func makeStep(batch: Int, inputShape: [Int]) -> LayerStep {
        let s = synapse.makeStep(batch: batch, inputShape: inputShape)
        return ChainStep([s, neurons.makeStep(batch: batch, inputShape: s.outputShape)], inputShape: inputShape)
    }
}
