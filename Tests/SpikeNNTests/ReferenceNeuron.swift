import Foundation
@testable import SpikeNN

/// Float64 scalar reference of every neuron model, one neuron at a time, written straight
/// from the equations of `NeuronModel`'s doc comment (not from the kernels):
///
///     s[t] = α·s[t−1] + I[t];  a[t] = ρ·a[t−1] + o[t−1];  θ[t] = ϑ + b·a[t]
///     u[t] = β·reset(u[t−1], o[t−1], θ[t−1]) + s[t];  o[t] = H(u[t] − θ[t])
///
/// `relaxed`: o = Σ(x), a smooth step whose derivative is the surrogate, so that finite
/// differences of the relaxed forward check the backward's equations (without it, H).
struct ReferenceNeuron {
    var model: NeuronSettings.Model
    var beta: [Double]          // [N]
    var theta: [Double]         // [N]
    var reset: NeuronSettings.Reset
    var surrogate: NeuronSettings.Surrogate
    var dampening = 1.0
    var alpha = 0.0, rho = 0.0, strength = 0.0

    init(_ s: NeuronSettings, neurons: Int) {
        model = s.model
        beta = [Double](repeating: Double(s.tau), count: neurons)
        theta = [Double](repeating: Double(s.threshold), count: neurons)
        reset = s.reset
        surrogate = s.surrogate
        dampening = Double(s.dampening)
        alpha = Double(s.synapseTau)
        rho = Double(s.adaptationDecay)
        strength = Double(s.adaptationStrength)
    }

    var synaptic: Bool { model == .currentBased }
    var adaptive: Bool { model == .adaptive }

    /// h(x) of the surrogate.
    func h(_ x: Double) -> Double {
        switch surrogate {
        case .rectangle(let a): return abs(x) < Double(a) / 2 ? dampening / Double(a) : 0
        case .fastSigmoid(let k): return dampening / pow(1 + Double(k) * abs(x), 2)
        case .arctan(let k):
            let a = Double(k)
            return dampening * (a / 2) / (1 + pow(Double.pi / 2 * a * x, 2))
        case .triangle(let w): return dampening / Double(w) * max(0, 1 - abs(x) / Double(w))
        }
    }

    /// Σ(x) with Σ' = h (the relaxed spike).
    func smoothStep(_ x: Double) -> Double {
        switch surrogate {
        case .rectangle(let a): return dampening * min(max(x, -Double(a) / 2), Double(a) / 2) / Double(a)
        case .fastSigmoid(let k): return dampening * x / (1 + Double(k) * abs(x))
        case .arctan(let k): return dampening * (atan(Double.pi / 2 * Double(k) * x) / Double.pi + 0.5)
        case .triangle(let w):
            let w = Double(w), c = min(max(x, -w), w)
            return dampening * (c / w - c * abs(c) / (2 * w * w))
        }
    }

    func resetValue(_ u: Double, _ o: Double, _ th: Double) -> Double {
        switch reset {
        case .zero: return u * (1 - o)
        case .value(let v): return u * (1 - o) + Double(v) * o
        case .subtract: return u - th * o
        }
    }

    /// (∂v̂/∂u, ∂v̂/∂o, ∂v̂/∂θ)
    func resetPartials(_ u: Double, _ o: Double, _ th: Double) -> (Double, Double, Double) {
        switch reset {
        case .zero: return (1 - o, -u, 0)
        case .value(let v): return (1 - o, Double(v) - u, 0)
        case .subtract: return (1, -th, -o)
        }
    }

    struct Trace { var u: [Double]; var o: [Double]; var a: [Double] }
    /// One neuron's state: u, o, a, s.
    struct State { var u = 0.0, o = 0.0, a = 0.0, s = 0.0 }
    /// The adjoints δu, δs, δa of the step after.
    struct Adjoint { var u = 0.0, s = 0.0, a = 0.0 }

    /// One forward step of neuron n.
    func step(_ st: State, _ current: Double, _ n: Int, relaxed: Bool = false) -> State {
        var next = State()
        next.s = synaptic ? alpha * st.s + current : current
        next.a = adaptive ? rho * st.a + st.o : 0
        let vHat = resetValue(st.u, st.o, theta[n] + strength * st.a)
        next.u = beta[n] * vHat + next.s
        let th = theta[n] + strength * next.a
        next.o = relaxed ? smoothStep(next.u - th) : (next.u >= th ? 1 : 0)
        return next
    }

    /// One reverse step of neuron n at t: dL/do[t] (all of it), the state at t and t−1 (nil
    /// at t = 0), the adjoints of t+1 → those of t, dL/dϑ and dL/dβ of this step.
    func backStep(_ g: Double, _ st: State, _ previous: State?, _ next: Adjoint, _ n: Int) -> (Adjoint, Double, Double) {
        let th = theta[n] + strength * st.a
        let hx = h(st.u - th)
        let (ru, ro, rth) = resetPartials(st.u, st.o, th)
        let dO = g + beta[n] * next.u * ro + (adaptive ? next.a : 0)
        var adj = Adjoint()
        adj.u = hx * dO + beta[n] * next.u * ru
        let dth = -hx * dO + beta[n] * next.u * rth
        adj.a = adaptive ? strength * dth + rho * next.a : 0
        adj.s = synaptic ? adj.u + alpha * next.s : adj.u
        let dBeta = previous.map { adj.u * resetValue($0.u, $0.o, theta[n] + strength * $0.a) } ?? 0
        return (adj, dth, dBeta)
    }

    /// currents [T, N] → u, o, a [T, N]
    func forward(_ current: [Double], steps: Int, neurons: Int, relaxed: Bool = false) -> Trace {
        var tr = Trace(u: [Double](repeating: 0, count: steps * neurons), o: [], a: [])
        tr.o = tr.u; tr.a = tr.u
        for n in 0..<neurons {
            var st = State()
            for t in 0..<steps {
                let k = t * neurons + n
                st = step(st, current[k], n, relaxed: relaxed)
                tr.u[k] = st.u; tr.o[k] = st.o; tr.a[k] = st.a
            }
        }
        return tr
    }

    /// dL/do [T, N] and a forward's trace → dL/dI [T, N], dL/dϑ [N], dL/dβ [N].
    func backward(_ gradSpikes: [Double], _ tr: Trace, steps: Int, neurons: Int)
        -> (current: [Double], threshold: [Double], decay: [Double]) {
        var dI = [Double](repeating: 0, count: steps * neurons)
        var dTh = [Double](repeating: 0, count: neurons), dBeta = dTh
        func state(_ k: Int) -> State { State(u: tr.u[k], o: tr.o[k], a: tr.a[k]) }
        for n in 0..<neurons {
            var adj = Adjoint()
            for t in stride(from: steps - 1, through: 0, by: -1) {
                let k = t * neurons + n
                let (a, dth, db) = backStep(gradSpikes[k], state(k), t > 0 ? state(k - neurons) : nil, adj, n)
                adj = a
                dI[k] = a.s
                dTh[n] += dth
                dBeta[n] += db
            }
        }
        return (dI, dTh, dBeta)
    }

    /// The recurrent layer, I[t] = W·x[t] + b + R·o[t−1], of these neurons (N = out per sample):
    /// x [T, B, in], W [out, in], b [out], R [out, out], dL/do [T, B, out] → spikes, and
    /// dL/dx, dL/dW, dL/dR, dL/dϑ [out].
    func recurrent(x: [Double], w: [Double], b: [Double], r: [Double], gradSpikes: [Double], steps: Int, batch: Int,
                   inputs: Int, outputs: Int)
        -> (spikes: [Double], dx: [Double], dW: [Double], dR: [Double], dTheta: [Double]) {
        let n = batch * outputs
        var states = [[State]](repeating: [State](repeating: State(), count: n), count: steps)
        var currents = [Double](repeating: 0, count: steps * n)
        for t in 0..<steps {
            for bi in 0..<batch {
                for j in 0..<outputs {
                    var i = b[j]
                    for k in 0..<inputs { i += w[j * inputs + k] * x[(t * batch + bi) * inputs + k] }
                    if t > 0 { for m in 0..<outputs { i += r[j * outputs + m] * states[t - 1][bi * outputs + m].o } }
                    currents[t * n + bi * outputs + j] = i
                    states[t][bi * outputs + j] = step(t > 0 ? states[t - 1][bi * outputs + j] : State(), i, j)
                }
            }
        }
        var dI = [Double](repeating: 0, count: steps * n), dTheta = [Double](repeating: 0, count: outputs)
        var adj = [Adjoint](repeating: Adjoint(), count: n)
        for t in stride(from: steps - 1, through: 0, by: -1) {
            for bi in 0..<batch {
                for m in 0..<outputs {
                    var g = gradSpikes[t * n + bi * outputs + m]
                    if t + 1 < steps { for j in 0..<outputs { g += r[j * outputs + m] * dI[(t + 1) * n + bi * outputs + j] } }
                    let q = bi * outputs + m
                    let (a, dth, _) = backStep(g, states[t][q], t > 0 ? states[t - 1][q] : nil, adj[q], m)
                    adj[q] = a
                    dI[t * n + q] = a.s
                    dTheta[m] += dth
                }
            }
        }
        var dx = [Double](repeating: 0, count: x.count), dW = [Double](repeating: 0, count: w.count)
        var dR = [Double](repeating: 0, count: r.count)
        for t in 0..<steps {
            for bi in 0..<batch {
                for j in 0..<outputs {
                    let d = dI[t * n + bi * outputs + j]
                    for k in 0..<inputs {
                        dW[j * inputs + k] += d * x[(t * batch + bi) * inputs + k]
                        dx[(t * batch + bi) * inputs + k] += d * w[j * inputs + k]
                    }
                    if t > 0 { for m in 0..<outputs { dR[j * outputs + m] += d * states[t - 1][bi * outputs + m].o } }
                }
            }
        }
        return (states.flatMap { $0.map(\.o) }, dx, dW, dR, dTheta)
    }
}
