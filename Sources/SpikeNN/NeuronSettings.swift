import Foundation
import SpikeTensor

/// A neuron population's model and constants, checked and typed: what `NetworkBuilder` makes
/// of a `NeuronDescription` (the data), and what the neuron layers run with. Equations and
/// symbols: `NeuronModel`.
public struct NeuronSettings: Sendable, Equatable {
    public enum Model: String, Sendable, CaseIterable {
        /// Leaky integrate-and-fire (the paper's, with its defaults).
        case lif
        /// Integrate-and-fire: β = 1.
        case integrateAndFire = "if"
        /// Current-based LIF (NIR's CubaLIF): synaptic current s with decay α.
        case currentBased = "cuba_lif"
        /// Adaptive LIF (Bellec et al. 2018): θ = ϑ + b·a.
        case adaptive = "adaptive_lif"
    }
    public enum Reset: Sendable, Equatable {
        /// v̂ = u·(1 − o), the paper's.
        case zero
        /// v̂ = u·(1 − o) + V_r·o.
        case value(Float)
        /// v̂ = u − θ·o.
        case subtract
    }
    public enum Surrogate: Sendable, Equatable {
        /// (γ/a)·1{|x| < a/2}, the paper's eq. 9.
        case rectangle(width: Float)
        /// γ/(1 + k|x|)².
        case fastSigmoid(slope: Float)
        /// γ·(α/2)/(1 + (π/2·α·x)²).
        case arctan(slope: Float)
        /// (γ/w)·max(0, 1 − |x|/w).
        case triangle(width: Float)

        /// Half the band of x = u − θ where the surrogate counts as passing gradient, for the
        /// activity statistics: its support (rectangle a/2, triangle w), or for the sigmoid-shaped
        /// ones, which never reach 0, where h is at least half its peak (fast sigmoid
        /// (√2 − 1)/k, arctan 2/(π·α)).
        public var activeHalfWidth: Float {
            switch self {
            case .rectangle(let width): return 0.5 * width
            case .triangle(let width): return width
            case .fastSigmoid(let slope): return (Float(2).squareRoot() - 1) / slope
            case .arctan(let slope): return 2 / (Float.pi * slope)
            }
        }
    }
    /// Which constants are `Parameter`s, and at what granularity.
    public enum Learning: String, Sendable {
        case fixed
        /// One value for the layer.
        case layer
        /// One per channel (conv) or feature (linear); decay only.
        case channel
        /// One per neuron; threshold only.
        case neuron
    }

    public var model: Model
    /// β, the membrane decay per step (1 for IF). Learnt as β = sigmoid(w), w = `tau_logit`.
    public var tau: Float
    /// ϑ, the (resting) threshold.
    public var threshold: Float
    public var reset: Reset
    public var surrogate: Surrogate
    /// γ on the surrogate's height.
    public var dampening: Float
    /// α (current-based).
    public var synapseTau: Float
    /// ρ (adaptive).
    public var adaptationDecay: Float
    /// b (adaptive).
    public var adaptationStrength: Float
    public var learnTau: Learning
    public var learnThreshold: Learning

    public init(model: Model = .lif, tau: Float, threshold: Float = 0.5, reset: Reset = .zero,
                surrogate: Surrogate = .rectangle(width: 1), dampening: Float = 1, synapseTau: Float = 0,
                adaptationDecay: Float = 0, adaptationStrength: Float = 0,
                learnTau: Learning = .fixed, learnThreshold: Learning = .fixed) {
        self.model = model
        self.tau = model == .integrateAndFire ? 1 : tau
        self.threshold = threshold
        self.reset = reset
        self.surrogate = surrogate
        self.dampening = dampening
        self.synapseTau = synapseTau
        self.adaptationDecay = adaptationDecay
        self.adaptationStrength = adaptationStrength
        self.learnTau = learnTau
        self.learnThreshold = learnThreshold
    }

    /// The paper's LIF (fixed constants, reset to zero, rectangle): it runs on `LIF`'s fused
    /// C kernels, bit for bit as before; every other setting on `SpikingNeurons`.
    public var isPlainLIF: Bool {
        model == .lif && reset == .zero && learnTau == .fixed && learnThreshold == .fixed
            && { if case .rectangle = surrogate { return true } else { return false } }()
    }

    /// The plain LIF's constants (meaningful where `isPlainLIF`).
    public var lif: LIFParameters {
        guard case .rectangle(let width) = surrogate else {
            preconditionFailure("NeuronSettings.lif: not the plain LIF (\(self))")
        }
        return LIFParameters(tau: tau, threshold: threshold, surrogateWidth: width, surrogateDampening: dampening)
    }

    public init(_ p: LIFParameters) {
        self.init(tau: p.tau, threshold: p.threshold, surrogate: .rectangle(width: p.surrogateWidth),
                  dampening: p.surrogateDampening)
    }

    /// The sizes of the learnt constants of a population of one-sample `shape` ([C, H, W] or
    /// [F]): `tau_logit` 1 per layer or C per channel, `threshold` 1 per layer or one per
    /// neuron; 0 where fixed.
    public func learntCounts(shape: [Int]) -> (tau: Int, threshold: Int) {
        let channels = shape.first ?? 1, neurons = shape.reduce(1, *)
        return (learnTau == .fixed ? 0 : learnTau == .layer ? 1 : channels,
                learnThreshold == .fixed ? 0 : learnThreshold == .layer ? 1 : neurons)
    }

    /// The constants shared by all neurons (β and ϑ are overridden per neuron by the scans).
    var constants: NeuronConstants {
        var c = NeuronConstants(decay: tau, threshold: threshold)
        if case .value(let v) = reset { c.resetValue = v }
        c.synapseDecay = synapseTau
        c.adaptationDecay = adaptationDecay
        c.adaptationStrength = adaptationStrength
        return c
    }

    /// Runs `body` specialised on this model, reset rule and surrogate: the one place a
    /// setting becomes a type, so that no scan dispatches per element.
    func specialised<B: NeuronKernelBody>(_ body: B) -> B.Result {
        switch model {
        case .lif, .integrateAndFire: return withReset(LeakyNeuron.self, body)
        case .currentBased: return withReset(CurrentBasedNeuron.self, body)
        case .adaptive: return withReset(AdaptiveNeuron.self, body)
        }
    }

    private func withReset<M: NeuronModel, B: NeuronKernelBody>(_ m: M.Type, _ body: B) -> B.Result {
        switch reset {
        case .zero: return withSurrogate(m, ResetToZero.self, body)
        case .value: return withSurrogate(m, ResetToValue.self, body)
        case .subtract: return withSurrogate(m, ResetBySubtraction.self, body)
        }
    }

    private func withSurrogate<M: NeuronModel, R: ResetRule, B: NeuronKernelBody>(_ m: M.Type, _ r: R.Type, _ body: B) -> B.Result {
        switch surrogate {
        case .rectangle(let w): return body.run(m, r, RectangleSurrogate(width: w, dampening: dampening))
        case .fastSigmoid(let k): return body.run(m, r, FastSigmoidSurrogate(slope: k, dampening: dampening))
        case .arctan(let k): return body.run(m, r, ArctanSurrogate(slope: k, dampening: dampening))
        case .triangle(let w): return body.run(m, r, TriangleSurrogate(width: w, dampening: dampening))
        }
    }

    /// A short account for `describe`, e.g. "adaptive_lif, reset subtract, arctan".
    public var summary: String {
        var parts = [model.rawValue]
        switch reset {
        case .zero: break
        case .value(let v): parts.append("reset to \(v)")
        case .subtract: parts.append("reset subtract")
        }
        switch surrogate {
        case .rectangle: break
        case .fastSigmoid: parts.append("fast sigmoid")
        case .arctan: parts.append("arctan")
        case .triangle: parts.append("triangle")
        }
        if learnTau != .fixed { parts.append("learnt τ per \(learnTau.rawValue)") }
        if learnThreshold != .fixed { parts.append("learnt V_th per \(learnThreshold.rawValue)") }
        return parts.joined(separator: ", ")
    }
}

/// A computation to run specialised on a model, a reset rule and a surrogate
/// (`NeuronSettings.specialised`).
protocol NeuronKernelBody {
    associatedtype Result
    func run<M: NeuronModel, R: ResetRule, S: SurrogateGradient>(_ model: M.Type, _ reset: R.Type, _ surrogate: S) -> Result
}

extension NeuronSettings {
    /// The settings of a description, checked as `NetworkBuilder` checks a layer's neuron;
    /// the error starts with `context` (e.g. "layer 'audio.rec1': ").
    public init(checking description: NeuronDescription, context: String = "") throws {
        self = try NetworkBuilder.checked(description, NetworkDescriptionError(context))
    }
}
