import Foundation
import Multimodal

/// What `NIRImport` checks before it trusts a graph (issue 40): every parameter finite and
/// within a range that keeps SpikeFuse's membranes finite, and every edge part of the
/// network it imports (`ChainReader` records the edges it walks).
///
/// The range: weights, biases and LIF `r` of magnitude at most `parameterLimit` (10⁶), τ/dt
/// within 1…10⁶ (a per-step decay k = 1 − dt/τ, so a membrane sums at most 10⁶ steps of
/// input), thresholds finite and positive. A membrane is then bounded by
/// fan-in × 10⁶ × 10⁶ × (input value), far below Float's 3.4·10³⁸ for any SpikeFuse network.
extension NIRImport {
    /// The largest magnitude accepted for a weight, bias, LIF `r` or τ/dt.
    public static let parameterLimit: Double = 1e6

    /// Refuses non-finite or out-of-range parameters, naming the node and the field.
    static func validateParameters(_ g: NIRGraph, dt: Double, file: String) throws {
        guard dt.isFinite, dt > 0 else {
            throw NIRError.invalid(file: file, reason: "metadata 'dt' = \(dt) is not a finite time step > 0")
        }
        for name in g.nodes.keys.sorted() {
            func check(_ t: Tensor, _ field: String, positive: Bool = false) throws {
                for (i, v) in t.scalars.enumerated() {
                    guard v.isFinite, abs(Double(v)) <= parameterLimit, !positive || v > 0 else {
                        throw NIRError.unsupported(file: file, node: name, reason: "\(field)[\(i)] = \(v) is not "
                            + (positive ? "a finite value > 0" : "finite and within ±\(parameterLimit)")
                            + " (docs/interop.md: the range that keeps membranes finite)")
                    }
                }
            }
            switch g.nodes[name]! {
            case .input(let shape), .output(let shape):
                guard !shape.isEmpty, shape.allSatisfy({ $0 >= 1 && $0 <= 1 << 20 }) else {
                    throw NIRError.unsupported(file: file, node: name, reason: "shape \(shape) is not a list of sizes ≥ 1")
                }
            case .affine(let w, let b): try check(w, "weight"); try check(b, "bias")
            case .linear(let w): try check(w, "weight")
            case .conv2d(let w, let b, _, _, _, _, _): try check(w, "weight"); try check(b, "bias")
            case .sumPool2d, .avgPool2d, .flatten: break
            case .lif(let tau, let r, let vLeak, let vThreshold, let vReset):
                try check(tau, "tau", positive: true); try check(r, "r")
                try check(vLeak, "v_leak"); try check(vThreshold, "v_threshold", positive: true); try check(vReset, "v_reset")
                for (i, v) in tau.scalars.enumerated() where Double(v) / dt > parameterLimit {
                    throw NIRError.unsupported(file: file, node: name, reason: "tau[\(i)] = \(v) is more than \(parameterLimit) "
                        + "time steps dt = \(dt) (docs/interop.md: the range that keeps membranes finite)")
                }
            case .cubaLIF(let tauSyn, let tauMem, let r, let vLeak, let vThreshold, let vReset, let wIn):
                try check(tauSyn, "tau_syn", positive: true); try check(tauMem, "tau_mem", positive: true); try check(r, "r")
                try check(vLeak, "v_leak"); try check(vThreshold, "v_threshold", positive: true); try check(vReset, "v_reset")
                try check(wIn, "w_in")
            case .integrateAndFire(let r, let vThreshold, let vReset):
                try check(r, "r"); try check(vThreshold, "v_threshold", positive: true); try check(vReset, "v_reset")
            }
        }
    }

    /// Refuses an edge listed twice (NIR would sum its input twice; the chain walk sees one).
    static func refuseDuplicateEdges(_ g: NIRGraph, file: String) throws {
        var seen = Set<String>()
        for e in g.edges where !seen.insert(ChainReader.edgeKey(e.source, e.target)).inserted {
            throw NIRError.unsupported(file: file, node: e.source, reason: "the edge \(e.source) → \(e.target) is listed twice")
        }
    }

    /// Refuses an edge the import did not walk (e.g. Output → Input, a second path, a skip
    /// connection), a node it did not reach, and an edge listed twice: each would be dropped.
    static func validateEdges(_ g: NIRGraph, walked: Set<String>, reached: Set<String>, file: String) throws {
        for e in g.edges {
            guard walked.contains(ChainReader.edgeKey(e.source, e.target)) else {
                throw NIRError.unsupported(file: file, node: e.source, reason: "the edge \(e.source) → \(e.target) is not part of "
                    + "the network SpikeFuse imports (one chain from Input to Output, with recurrent Linear cycles); "
                    + "it would be dropped")
            }
        }
        if let lost = g.nodes.keys.sorted().first(where: { !reached.contains($0) }) {
            throw NIRError.unsupported(file: file, node: lost, reason: "the node is not on the chain from Input to Output; it would be dropped")
        }
    }

    /// Refuses a `spikefuse import --check` file the comparison would mislead on: `input`
    /// must be `[T, B] + ` the network's input shape with T, B ≥ 1 and finite values within
    /// ±`parameterLimit`, and `spikes` values 0 or 1.
    public static func validateCheck(input: Tensor, spikes: Tensor, configuration c: ModelConfiguration, file: String) throws {
        let perSample = c.mode == .visual ? c.visualFrameShape : [c.audioChannels]
        func fail(_ reason: String) -> NIRError { .badCheck(file: file, reason: reason) }
        guard input.rank == 2 + perSample.count, Array(input.shape.dropFirst(2)) == perSample else {
            throw fail("input is \(input.shape), but the imported network takes [T, B] + \(perSample)")
        }
        guard input.shape[0] >= 1, input.shape[1] >= 1 else {
            throw fail("input is \(input.shape): T = \(input.shape[0]) steps of B = \(input.shape[1]) samples is nothing to check")
        }
        if let i = input.scalars.firstIndex(where: { !$0.isFinite || abs(Double($0)) > parameterLimit }) {
            throw fail("input value \(input.scalars[i]) at flat index \(i) is not finite and within ±\(parameterLimit)")
        }
        if let i = spikes.scalars.firstIndex(where: { $0 != 0 && $0 != 1 }) {
            throw fail("spikes value \(spikes.scalars[i]) at flat index \(i) is not 0 or 1")
        }
    }
}
