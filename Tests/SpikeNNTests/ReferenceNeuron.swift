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

    /// currents [T, N] → u, o, a [T, N]
    func forward(_ current: [Double], steps: Int, neurons: Int, relaxed: Bool = false) -> Trace {
        var tr = Trace(u: [Double](repeating: 0, count: steps * neurons), o: [], a: [])
        tr.o = tr.u; tr.a = tr.u
        for n in 0..<neurons {
            var u = 0.0, o = 0.0, a = 0.0, s = 0.0, th = theta[n]
            for t in 0..<steps {
                let k = t * neurons + n
                s = synaptic ? alpha * s + current[k] : current[k]
                let aNew = adaptive ? rho * a + o : 0
                let vHat = resetValue(u, o, th)
                u = beta[n] * vHat + s
                a = aNew
                th = theta[n] + strength * a
                o = relaxed ? smoothStep(u - th) : (u >= th ? 1 : 0)
                tr.u[k] = u; tr.o[k] = o; tr.a[k] = a
            }
        }
        return tr
    }

    /// dL/do [T, N] and a forward's trace → dL/dI [T, N], dL/dϑ [N], dL/dβ [N].
    func backward(_ gradSpikes: [Double], _ tr: Trace, steps: Int, neurons: Int)
        -> (current: [Double], threshold: [Double], decay: [Double]) {
        var dI = [Double](repeating: 0, count: steps * neurons)
        var dTh = [Double](repeating: 0, count: neurons), dBeta = dTh
        for n in 0..<neurons {
            var duN = 0.0, dsN = 0.0, daN = 0.0
            for t in stride(from: steps - 1, through: 0, by: -1) {
                let k = t * neurons + n
                let u = tr.u[k], o = tr.o[k], th = theta[n] + strength * tr.a[k]
                let hx = h(u - th)
                let (ru, ro, rth) = resetPartials(u, o, th)
                let dO = gradSpikes[k] + beta[n] * duN * ro + (adaptive ? daN : 0)
                let du = hx * dO + beta[n] * duN * ru
                let dth = -hx * dO + beta[n] * duN * rth
                let da = adaptive ? strength * dth + rho * daN : 0
                let ds = synaptic ? du + alpha * dsN : du
                dI[k] = ds
                dTh[n] += dth
                if t > 0 {
                    let p = k - neurons
                    dBeta[n] += du * resetValue(tr.u[p], tr.o[p], theta[n] + strength * tr.a[p])
                }
                duN = du; dsN = ds; daN = da
            }
        }
        return (dI, dTh, dBeta)
    }
}
