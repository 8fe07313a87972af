import Foundation
import SpikeTensor

/// A spiking neuron model as a pure step, in the style of Norse:
/// `(input current I[t], state[t−1], constants) → (spike o[t], state[t])`.
///
/// Every model is one case of these difference equations, per neuron, one time step Δt
/// (the bin width, e.g. 1 ms; all constants are per step and dimensionless), from the zero
/// state u = s = a = o = 0 at t = −1:
///
///     s[t] = α·s[t−1] + I[t]                (synaptic current; I[t] itself without one)
///     a[t] = ρ·a[t−1] + o[t−1]              (adaptation; 0 without one)
///     θ[t] = ϑ + b·a[t]                     (threshold)
///     v̂    = reset(u[t−1], o[t−1], θ[t−1])  (the membrane after the previous step's reset)
///     u[t] = β·v̂ + s[t]                     (leak and integrate; β = 1: integrate-and-fire)
///     o[t] = 1{u[t] ≥ θ[t]}                 (Heaviside spike)
///
/// The reset rules (`ResetRule`): to zero, v̂ = u·(1 − o) (the paper's multiplicative reset,
/// so the LIF is the paper's eqs. 1–4); to a value V_r, v̂ = u·(1 − o) + V_r·o; by
/// subtraction, v̂ = u − θ·o. u is the membrane *before* its reset (what `o = u ≥ θ` reads);
/// the reset takes effect at the next step, before the leak, as in the paper.
///
/// Backward (BPTT), reverse over t with all adjoints 0 at t = T, x = u[t] − θ[t], the
/// surrogate h(x) ≈ ∂o/∂u (`SurrogateGradient`), and the partials of the reset
/// (r_u, r_o, r_θ) = ∂v̂/∂(u, o, θ) at step t:
///
///     δo[t] = g_o[t] + β·r_o·δu[t+1] + δa[t+1]
///     δu[t] = h(x)·δo[t] + β·r_u·δu[t+1]
///     δθ[t] = −h(x)·δo[t] + β·r_θ·δu[t+1]
///     δa[t] = b·δθ[t] + ρ·δa[t+1]
///     δs[t] = δu[t] + α·δs[t+1]
///     dL/dI[t] = δs[t],  dL/dϑ = Σ_t δθ[t],  dL/dβ = Σ_t δu[t]·v̂[t−1]
///
/// The models are the caseless types below; their flags are static, so every scan
/// specialised on a model (and a reset rule and a surrogate) runs its own loop without
/// per-element dispatch.
public protocol NeuronModel {
    /// Whether the model has the synaptic current s (current-based LIF: NIR's CubaLIF).
    static var hasSynapticCurrent: Bool { get }
    /// Whether the threshold adapts (θ = ϑ + b·a; Bellec et al. 2018).
    static var adapts: Bool { get }
}

/// LIF and integrate-and-fire (β = 1): no synaptic current, a fixed or learnt threshold.
public enum LeakyNeuron: NeuronModel {
    public static var hasSynapticCurrent: Bool { false }
    public static var adapts: Bool { false }
}

/// Current-based LIF: the input charges a synaptic current s that decays by α per step.
public enum CurrentBasedNeuron: NeuronModel {
    public static var hasSynapticCurrent: Bool { true }
    public static var adapts: Bool { false }
}

/// Adaptive LIF (LSNN/ALIF, Bellec et al. 2018): each spike raises the threshold by b, which
/// decays back by ρ per step.
public enum AdaptiveNeuron: NeuronModel {
    public static var hasSynapticCurrent: Bool { false }
    public static var adapts: Bool { true }
}

/// One neuron's state between steps. Models leave the parts they lack at 0.
public struct NeuronState: Sendable, Equatable {
    /// u[t], the membrane before its reset.
    public var membrane: Float = 0
    /// s[t], the synaptic current (current-based LIF).
    public var synapse: Float = 0
    /// a[t], the adaptation (adaptive LIF).
    public var adaptation: Float = 0
    /// o[t] ∈ {0, 1}.
    public var spike: Float = 0
    public init() {}
}

/// One neuron's constants, per time step: β, ϑ (per neuron where learnt), V_r, α, ρ, b.
public struct NeuronConstants: Sendable, Equatable {
    /// β: membrane decay per step (1: integrate-and-fire).
    public var decay: Float
    /// ϑ: resting threshold.
    public var threshold: Float
    /// V_r of `ResetToValue`.
    public var resetValue: Float = 0
    /// α: synaptic-current decay per step.
    public var synapseDecay: Float = 0
    /// ρ: adaptation decay per step.
    public var adaptationDecay: Float = 0
    /// b: threshold increase per unit of adaptation.
    public var adaptationStrength: Float = 0
    public init(decay: Float, threshold: Float) {
        self.decay = decay
        self.threshold = threshold
    }
}

/// The adjoints δu, δs, δa a reverse step hands to the step before it.
public struct NeuronAdjoint: Sendable, Equatable {
    public var membrane: Float = 0
    public var synapse: Float = 0
    public var adaptation: Float = 0
    public init() {}
}

extension NeuronModel {
    /// θ of a state: ϑ + b·a.
    @inline(__always)
    public static func threshold(_ state: NeuronState, _ c: NeuronConstants) -> Float {
        adapts ? c.threshold + c.adaptationStrength * state.adaptation : c.threshold
    }

    /// The step of the equations above: `(I[t], state[t−1], constants) → state[t]` (o[t] in `spike`).
    @inline(__always)
    public static func step<R: ResetRule>(_ current: Float, _ state: NeuronState, _ c: NeuronConstants,
                                          reset: R.Type) -> NeuronState {
        var next = NeuronState()
        next.synapse = hasSynapticCurrent ? c.synapseDecay * state.synapse + current : 0
        if adapts { next.adaptation = c.adaptationDecay * state.adaptation + state.spike }
        let afterReset = R.reset(state.membrane, spike: state.spike, threshold: threshold(state, c), value: c.resetValue)
        next.membrane = c.decay * afterReset + (hasSynapticCurrent ? next.synapse : current)
        next.spike = next.membrane >= threshold(next, c) ? 1 : 0
        return next
    }

    /// The reverse step at t: g_o[t] (plus any extra dL/do[t]), the state at t, the adjoints
    /// of t+1 → the adjoints of t, and this step's dL/dϑ and dL/dβ terms (`previous`: the state
    /// at t−1, nil at t = 0). dL/dI[t] is the result's `synapse`.
    @inline(__always)
    public static func backwardStep<R: ResetRule, S: SurrogateGradient>(
        gradSpike: Float, state: NeuronState, previous: NeuronState?, next: NeuronAdjoint, _ c: NeuronConstants,
        reset: R.Type, surrogate: S
    ) -> (adjoint: NeuronAdjoint, gradThreshold: Float, gradDecay: Float) {
        let theta = threshold(state, c)
        let h = surrogate.derivative(state.membrane - theta)
        let p = R.partials(state.membrane, spike: state.spike, threshold: theta, value: c.resetValue)
        let carried = c.decay * next.membrane
        var dO = gradSpike + carried * p.spike
        if adapts { dO += next.adaptation }
        var adjoint = NeuronAdjoint()
        adjoint.membrane = h * dO + carried * p.membrane
        let dTheta = -(h * dO) + carried * p.threshold
        if adapts { adjoint.adaptation = c.adaptationStrength * dTheta + c.adaptationDecay * next.adaptation }
        adjoint.synapse = hasSynapticCurrent ? adjoint.membrane + c.synapseDecay * next.synapse : adjoint.membrane
        var dDecay: Float = 0
        if let previous {
            dDecay = adjoint.membrane * R.reset(previous.membrane, spike: previous.spike,
                                                threshold: threshold(previous, c), value: c.resetValue)
        }
        return (adjoint, dTheta, dDecay)
    }
}

/// How a spike resets the membrane: v̂ = reset(u, o, θ) and its partials.
public protocol ResetRule {
    static func reset(_ u: Float, spike o: Float, threshold: Float, value: Float) -> Float
    /// (∂v̂/∂u, ∂v̂/∂o, ∂v̂/∂θ)
    static func partials(_ u: Float, spike o: Float, threshold: Float, value: Float)
        -> (membrane: Float, spike: Float, threshold: Float)
}

/// v̂ = u·(1 − o): the paper's multiplicative hard reset to 0.
public enum ResetToZero: ResetRule {
    @inline(__always) public static func reset(_ u: Float, spike o: Float, threshold: Float, value: Float) -> Float { u * (1 - o) }
    @inline(__always) public static func partials(_ u: Float, spike o: Float, threshold: Float, value: Float)
        -> (membrane: Float, spike: Float, threshold: Float) { (1 - o, -u, 0) }
}

/// v̂ = u·(1 − o) + V_r·o: hard reset to V_r.
public enum ResetToValue: ResetRule {
    @inline(__always) public static func reset(_ u: Float, spike o: Float, threshold: Float, value: Float) -> Float {
        u * (1 - o) + value * o
    }
    @inline(__always) public static func partials(_ u: Float, spike o: Float, threshold: Float, value: Float)
        -> (membrane: Float, spike: Float, threshold: Float) { (1 - o, value - u, 0) }
}

/// v̂ = u − θ·o: soft reset by subtracting the threshold (the excess is kept).
public enum ResetBySubtraction: ResetRule {
    @inline(__always) public static func reset(_ u: Float, spike o: Float, threshold: Float, value: Float) -> Float {
        u - threshold * o
    }
    @inline(__always) public static func partials(_ u: Float, spike o: Float, threshold: Float, value: Float)
        -> (membrane: Float, spike: Float, threshold: Float) { (1, -threshold, -o) }
}

/// h(x) ≈ ∂o/∂u at x = u − θ, the pseudo-derivative of the Heaviside spike used by backward.
/// Each is scaled by the dampening γ (1: none).
public protocol SurrogateGradient {
    func derivative(_ x: Float) -> Float
}

/// The paper's eq. 9: (γ/a)·1{|x| < a/2}.
public struct RectangleSurrogate: SurrogateGradient {
    public let halfWidth: Float, height: Float
    public init(width: Float, dampening: Float) { halfWidth = 0.5 * width; height = dampening / width }
    @inline(__always) public func derivative(_ x: Float) -> Float { x < halfWidth && x > -halfWidth ? height : 0 }
}

/// Fast sigmoid (SuperSpike; snnTorch's `fast_sigmoid`): γ / (1 + k·|x|)², slope k.
public struct FastSigmoidSurrogate: SurrogateGradient {
    public let slope: Float, scale: Float
    public init(slope: Float, dampening: Float) { self.slope = slope; scale = dampening }
    @inline(__always) public func derivative(_ x: Float) -> Float {
        let d = 1 + slope * abs(x)
        return scale / (d * d)
    }
}

/// Arctan (SpikingJelly's `ATan`, snnTorch's `atan`): γ·(α/2) / (1 + (π/2·α·x)²), slope α.
public struct ArctanSurrogate: SurrogateGradient {
    public let slope: Float, scale: Float
    public init(slope: Float, dampening: Float) { self.slope = slope; scale = dampening }
    @inline(__always) public func derivative(_ x: Float) -> Float {
        let z = Float.pi / 2 * slope * x
        return scale * (slope / 2) / (1 + z * z)
    }
}

/// Triangle of half-width w and unit area: (γ/w)·max(0, 1 − |x|/w) (Bellec et al. use w = ϑ).
public struct TriangleSurrogate: SurrogateGradient {
    public let width: Float, scale: Float
    public init(width: Float, dampening: Float) { self.width = width; scale = dampening }
    @inline(__always) public func derivative(_ x: Float) -> Float { scale / width * max(0, 1 - abs(x) / width) }
}
