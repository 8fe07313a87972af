import SpikeTensor

/// Fused multi-step kernels of the iterative LIF neuron with STBP backward.
///
/// Forward (paper eqs. 1–4), per neuron, time steps t = 0 … T−1, with u[−1] = o[−1] = 0:
///
///     u[t] = τ · u[t−1] · (1 − o[t−1]) + I[t]        (1)–(3): leak gated by the reset
///     o[t] = g(u[t]) = 1 if u[t] ≥ V_th else 0        (4)
///
/// Backward (STBP, eq. 8) with the rectangular surrogate (eq. 9)
/// `∂o/∂u ≈ h(u) = (γ/a)·1{|u − V_th| < a/2}` (γ = 1 in the paper; `LIFParameters.surrogateDampening`), scanning t = T−1 … 0 with δu[T] = 0.
/// The reset path is kept (not detached): `∂u[t+1]/∂o[t] = −τ·u[t]`, `∂u[t+1]/∂u[t] = τ(1 − o[t])`:
///
///     δo[t] = g_o[t] + δu[t+1] · (−τ · u[t])      (+ (Rᵀ δu[t+1]) in a recurrent layer)
///     δu[t] = δo[t] · h(u[t]) + δu[t+1] · τ · (1 − o[t])
///     dL/dI[t] = δu[t]
///
/// Layout: time-major, `[T, N]` with N = B·(neurons per sample), contiguous. The spikes are
/// recomputed in backward from the stored membrane (`o = u ≥ V_th`), so only u is kept.
public enum LIFKernel {
    /// Surrogate derivative h(u) of eq. 9.
    @inline(__always)
    public static func surrogate(_ u: Float, _ p: LIFParameters) -> Float {
        abs(u - p.threshold) < 0.5 * p.surrogateWidth ? p.surrogateHeight : 0
    }

    // current [T, N] → membrane [T, N], spikes [T, N]. `membrane` may alias `current`.
    public static func forward(current: UnsafePointer<Float>, membrane: UnsafeMutablePointer<Float>,
                               spikes: UnsafeMutablePointer<Float>, steps: Int, neurons: Int,
                               parameters p: LIFParameters) {
        // Neurons are independent: chunks of neurons run on all cores, each scanning all T.
        Parallel.forEachChunk(neurons, minimumChunk: 16_384) { range in
            let offset = range.lowerBound
            for t in 0..<steps {
                let base = t * neurons + offset
                forwardStep(current: current + base,
                            previousMembrane: t == 0 ? nil : UnsafePointer(membrane + base - neurons),
                            membrane: membrane + base, spikes: spikes + base,
                            neurons: range.count, parameters: p)
            }
        }
    }

    /// Inference form of `forward` that keeps no membrane history: the spikes are written over
    /// the currents (`io` [T, N]: I in, o out) and u[t−1] lives in a per-chunk buffer of N
    /// floats. The same arithmetic as `forwardStep`, so the same spikes as `forward`.
    public static func forwardSpikesInPlace(_ io: UnsafeMutablePointer<Float>, steps: Int, neurons: Int,
                                            parameters p: LIFParameters) {
        let tau = p.tau, vth = p.threshold
        Parallel.forEachChunk(neurons, minimumChunk: 16_384) { range in
            let n = range.count
            let previous = UnsafeMutablePointer<Float>.allocate(capacity: max(n, 1))
            defer { previous.deallocate() }
            for t in 0..<steps {
                let row = io + t * neurons + range.lowerBound
                if t == 0 {
                    for i in 0..<n {
                        let u = row[i]
                        previous[i] = u
                        row[i] = u >= vth ? 1 : 0
                    }
                } else {
                    for i in 0..<n {
                        let up = previous[i]
                        let u = (up >= vth ? 0 : tau * up) + row[i]
                        previous[i] = u
                        row[i] = u >= vth ? 1 : 0
                    }
                }
            }
        }
    }

    /// One time step: current [N], previous membrane [N] (nil at t = 0) → membrane [N], spikes [N].
    /// The previous spikes are recomputed as `u[t−1] ≥ V_th`. Runs the C kernel
    /// (`VectorKernels.lifForwardStep`, AVX2 where the CPU has it), whose bits are those of
    /// `referenceForwardStep` (tested). `membrane` may alias `current`.
    @inline(__always)
    public static func forwardStep(current: UnsafePointer<Float>, previousMembrane: UnsafePointer<Float>?,
                                   membrane: UnsafeMutablePointer<Float>, spikes: UnsafeMutablePointer<Float>,
                                   neurons: Int, parameters p: LIFParameters) {
        VectorKernels.lifForwardStep(current: current, previousMembrane: previousMembrane, membrane: membrane,
                                     spikes: spikes, neurons: neurons, tau: p.tau, threshold: p.threshold)
    }

    /// `forwardStep` in Swift, the reference of the C kernel: eight neurons at a time, then the
    /// rest one by one, with the same operations per neuron (so the same bits either way).
    public static func referenceForwardStep(current: UnsafePointer<Float>, previousMembrane: UnsafePointer<Float>?,
                                            membrane: UnsafeMutablePointer<Float>, spikes: UnsafeMutablePointer<Float>,
                                            neurons: Int, parameters p: LIFParameters) {
        let tau = p.tau, vth = p.threshold
        let vectorEnd = neurons / Lanes.scalarCount * Lanes.scalarCount
        let vthV = Lanes(repeating: vth), tauV = Lanes(repeating: tau), zero = Lanes(), one = Lanes(repeating: 1)
        if let prev = previousMembrane {
            var i = 0
            while i < vectorEnd {
                let up = load(prev + i)
                let u = (tauV * up).replacing(with: zero, where: up .>= vthV) + load(current + i)
                store(u, membrane + i)
                store(zero.replacing(with: one, where: u .>= vthV), spikes + i)
                i += Lanes.scalarCount
            }
            for i in vectorEnd..<neurons {
                let up = prev[i]
                let u = (up >= vth ? 0 : tau * up) + current[i]
                membrane[i] = u
                spikes[i] = u >= vth ? 1 : 0
            }
        } else {
            var i = 0
            while i < vectorEnd {
                let u = load(current + i)
                store(u, membrane + i)
                store(zero.replacing(with: one, where: u .>= vthV), spikes + i)
                i += Lanes.scalarCount
            }
            for i in vectorEnd..<neurons {
                let u = current[i]
                membrane[i] = u
                spikes[i] = u >= vth ? 1 : 0
            }
        }
    }

    /// The vector width of the step kernels.
    public typealias Lanes = SIMD8<Float>

    @inline(__always)
    static func load(_ p: UnsafePointer<Float>) -> Lanes { UnsafeRawPointer(p).loadUnaligned(as: Lanes.self) }

    @inline(__always)
    static func store(_ v: Lanes, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: Lanes.self) }

    // gradSpikes g_o [T, N], membrane u [T, N] → gradCurrent δu [T, N] (overwritten).
    // `gradCurrent` may alias `gradSpikes`.
    public static func backward(gradSpikes: UnsafePointer<Float>, membrane: UnsafePointer<Float>,
                                gradCurrent: UnsafeMutablePointer<Float>, steps: Int, neurons: Int,
                                parameters p: LIFParameters) {
        Parallel.forEachChunk(neurons, minimumChunk: 16_384) { range in
            let offset = range.lowerBound
            var t = steps - 1
            while t >= 0 {
                let base = t * neurons + offset
                backwardStep(gradSpikes: gradSpikes + base, extraGradSpikes: nil, membrane: membrane + base,
                             nextGradCurrent: t == steps - 1 ? nil : UnsafePointer(gradCurrent + base + neurons),
                             gradCurrent: gradCurrent + base, neurons: range.count, parameters: p)
                t -= 1
            }
        }
    }

    /// One reverse step: g_o[t] [N] (+ optional extra dL/do[t] [N], e.g. Rᵀδu[t+1]), u[t] [N],
    /// δu[t+1] [N] (nil at t = T−1) → δu[t] [N]. Runs the C kernel (`VectorKernels.lifBackwardStep`),
    /// whose bits are those of `referenceBackwardStep` (tested). `gradCurrent` may alias
    /// `gradSpikes` or `nextGradCurrent`.
    @inline(__always)
    public static func backwardStep(gradSpikes: UnsafePointer<Float>, extraGradSpikes: UnsafePointer<Float>?,
                                    membrane: UnsafePointer<Float>, nextGradCurrent: UnsafePointer<Float>?,
                                    gradCurrent: UnsafeMutablePointer<Float>, neurons: Int,
                                    parameters p: LIFParameters) {
        VectorKernels.lifBackwardStep(gradSpikes: gradSpikes, extraGradSpikes: extraGradSpikes, membrane: membrane,
                                      nextGradCurrent: nextGradCurrent, gradCurrent: gradCurrent, neurons: neurons,
                                      tau: p.tau, threshold: p.threshold, halfWidth: 0.5 * p.surrogateWidth,
                                      height: p.surrogateHeight)
    }

    /// `backwardStep` in Swift, the reference of the C kernel: eight neurons at a time, then the
    /// rest one by one, with the same operations per neuron (so the same bits either way).
    public static func referenceBackwardStep(gradSpikes: UnsafePointer<Float>, extraGradSpikes: UnsafePointer<Float>?,
                                             membrane: UnsafePointer<Float>, nextGradCurrent: UnsafePointer<Float>?,
                                             gradCurrent: UnsafeMutablePointer<Float>, neurons: Int,
                                             parameters p: LIFParameters) {
        let tau = p.tau, vth = p.threshold
        let halfWidth = 0.5 * p.surrogateWidth, height = p.surrogateHeight
        let vectorEnd = neurons / Lanes.scalarCount * Lanes.scalarCount
        let vthV = Lanes(repeating: vth), tauV = Lanes(repeating: tau), zero = Lanes()
        let halfV = Lanes(repeating: halfWidth), heightV = Lanes(repeating: height)
        // h(u) of eq. 9: |u − V_th| < a/2 as two comparisons (the same for every u, NaN included).
        @inline(__always) func surrogate(_ u: Lanes) -> Lanes {
            let d = u - vthV
            return zero.replacing(with: heightV, where: (d .< halfV) .& (d .> -halfV))
        }
        if let next = nextGradCurrent {
            var i = 0
            while i < vectorEnd {
                let u = load(membrane + i), dNext = load(next + i)
                var dO = load(gradSpikes + i) - dNext * tauV * u
                if let extra = extraGradSpikes { dO += load(extra + i) }
                store(dO * surrogate(u) + (dNext * tauV).replacing(with: zero, where: u .>= vthV), gradCurrent + i)
                i += Lanes.scalarCount
            }
            for i in vectorEnd..<neurons {
                let u = membrane[i]
                let dNext = next[i]
                let fired = u >= vth
                var dO = gradSpikes[i] - dNext * tau * u
                if let extra = extraGradSpikes { dO += extra[i] }
                let h: Float = abs(u - vth) < halfWidth ? height : 0
                gradCurrent[i] = dO * h + (fired ? 0 : dNext * tau)
            }
        } else {
            var i = 0
            while i < vectorEnd {
                let u = load(membrane + i)
                var dO = load(gradSpikes + i)
                if let extra = extraGradSpikes { dO += load(extra + i) }
                store(dO * surrogate(u), gradCurrent + i)
                i += Lanes.scalarCount
            }
            for i in vectorEnd..<neurons {
                let u = membrane[i]
                var dO = gradSpikes[i]
                if let extra = extraGradSpikes { dO += extra[i] }
                let h: Float = abs(u - vth) < halfWidth ? height : 0
                gradCurrent[i] = dO * h
            }
        }
    }
}
