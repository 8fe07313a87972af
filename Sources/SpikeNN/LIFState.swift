/// State of a population of LIF neurons between time steps: membrane u[t−1] and spikes
/// o[t−1] (both 0 at the start of a sequence).
public struct LIFState: Sendable, Equatable {
    public var membrane: [Float]
    public var spikes: [Float]

    /// The initial state u = o = 0 for `neurons` neurons.
    public init(neurons: Int) {
        membrane = [Float](repeating: 0, count: neurons)
        spikes = membrane
    }

    public init(membrane: [Float], spikes: [Float]) {
        precondition(membrane.count == spikes.count, "LIFState: \(membrane.count) membranes, \(spikes.count) spikes")
        self.membrane = membrane
        self.spikes = spikes
    }
}

extension LIFKernel {
    /// One time step as a pure function (Norse style), e.g. for streaming inference:
    ///
    ///     u[t] = τ · u[t−1] · (1 − o[t−1]) + I[t],   o[t] = 1 if u[t] ≥ V_th else 0
    ///
    /// current I[t] `[N]`, state (u[t−1], o[t−1]) → (spikes o[t] `[N]`, new state (u[t], o[t])).
    /// Stepping T times from `LIFState(neurons:)` equals `forward` over `[T, N]`. As in the fused
    /// kernel, o[t−1] is recomputed as `u[t−1] ≥ V_th` (always so for states made by this function).
    public static func step(current: [Float], state: LIFState, parameters p: LIFParameters)
        -> (spikes: [Float], state: LIFState) {
        precondition(current.count == state.membrane.count, "LIF step: \(current.count) currents for \(state.membrane.count) neurons")
        let n = current.count
        var u = [Float](repeating: 0, count: n), o = u
        current.withUnsafeBufferPointer { i in
            state.membrane.withUnsafeBufferPointer { previous in
                u.withUnsafeMutableBufferPointer { m in
                    o.withUnsafeMutableBufferPointer { s in
                        guard n > 0 else { return }
                        forwardStep(current: i.baseAddress!, previousMembrane: previous.baseAddress!,
                                    membrane: m.baseAddress!, spikes: s.baseAddress!, neurons: n, parameters: p)
                    }
                }
            }
        }
        return (o, LIFState(membrane: u, spikes: o))
    }
}
