@testable import SpikeNN
import SpikeTensor

/// Plain scalar reference of the LIF neuron, one neuron at a time, written straight from
/// the paper's equations, against which the fused kernels are tested.
///
/// Forward (eqs. 1–4): u[t] = τ·u[t−1]·(1 − o[t−1]) + I[t], o[t] = 1 if u[t] ≥ Vth else 0,
/// u[−1] = o[−1] = 0.
/// Backward (eqs. 8–9), Double, δu[T] = 0:
///   δo[t] = g[t] + δu[t+1]·(−τ·u[t])   (the reset term; dropped when `detachReset`)
///   δu[t] = δo[t]·h(u[t]) + δu[t+1]·τ·(1 − o[t]),   h(u) = (1/a)·1{|u − Vth| < a/2}
enum ReferenceLIF {
    /// currents [T, N] → (u [T, N], o [T, N])
    static func forward(currents: [Float], steps: Int, neurons: Int, _ p: LIFParameters) -> (u: [Float], o: [Float]) {
        var u = [Float](repeating: 0, count: steps * neurons), o = u
        for i in 0..<neurons {
            var uPrev: Float = 0, oPrev: Float = 0
            for t in 0..<steps {
                let ut = p.tau * uPrev * (1 - oPrev) + currents[t * neurons + i]
                let ot: Float = ut >= p.threshold ? 1 : 0
                u[t * neurons + i] = ut
                o[t * neurons + i] = ot
                uPrev = ut
                oPrev = ot
            }
        }
        return (u, o)
    }

    static func h(_ u: Float, _ p: LIFParameters) -> Double {
        abs(Double(u) - Double(p.threshold)) < Double(p.surrogateWidth) / 2 ? Double(p.surrogateDampening) / Double(p.surrogateWidth) : 0
    }

    /// gradSpikes [T, N], u [T, N], o [T, N] → dL/dI [T, N]
    static func backward(gradSpikes: [Float], u: [Float], o: [Float], steps: Int, neurons: Int, _ p: LIFParameters,
                         detachReset: Bool = false) -> [Float] {
        var dI = [Float](repeating: 0, count: steps * neurons)
        let tau = Double(p.tau)
        for i in 0..<neurons {
            var duNext = 0.0
            for t in stride(from: steps - 1, through: 0, by: -1) {
                let k = t * neurons + i
                let ut = Double(u[k]), ot = Double(o[k])
                let dO = Double(gradSpikes[k]) + (detachReset ? 0 : duNext * (-tau * ut))
                let du = dO * h(u[k], p) + duNext * tau * (1 - ot)
                dI[k] = Float(du)
                duNext = du
            }
        }
        return dI
    }
}
