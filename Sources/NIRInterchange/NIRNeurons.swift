import Foundation
import Multimodal

/// SpikeFuse's neuron models as NIR neuron nodes and back: the one place the two sets of
/// constants are converted (export: `NIRExport.addNeuron`; import: `neuron(from:)`).
///
/// NIR's neurons are continuous; SpikeFuse's per-step constants are their forward-Euler
/// discretisation with step dt (as snnTorch maps its `beta` and `alpha`), the current
/// updated before the membrane that it feeds:
///
///     lif       τ = dt/(1 − β), r = τ/dt, v_leak = 0                      → LIF
///     cuba_lif  τ_syn = dt/(1 − α), w_in = τ_syn/dt,
///               τ_mem = dt/(1 − β), r = τ_mem/dt, v_leak = 0              → CubaLIF
///     if        r = 1/dt                                                  → IF
///
/// with v_threshold = V_th and v_reset = 0 (reset "zero") or V_r (reset "value"). NIR has no
/// reset by subtraction and no adaptive neuron: those are refused on export, naming the
/// layer. The exact per-step constants ride along in the node's metadata (`spikefuse_decay`,
/// `spikefuse_synapse_decay`), so an import gives back the floats that were exported, and so
/// do the surrogate's, which only training uses and NIR has no field for
/// (`spikefuse_surrogate`, `_surrogate_width`, `_surrogate_slope`, `_surrogate_dampening`).
public enum NIRNeurons {
    /// The NIR node of `neuron` for a population of `shape`, and its metadata. `layer` names
    /// it in errors.
    public static func node(_ neuron: NeuronDescription, shape: [Int], dt: Double, layer: String) throws
        -> (node: NIRNode, metadata: [String: HDF5Node]) {
        func refuse(_ why: String) -> NIRError { NIRError.unsupported(file: "(export)", node: layer, reason: why) }
        let s: NeuronSettings
        do { s = try NeuronSettings(checking: neuron) } catch { throw refuse("\(error)") }
        guard s.learnTau == .fixed && s.learnThreshold == .fixed else {
            throw refuse("learnt neuron constants (learn_tau, learn_threshold) are not exported to NIR yet")
        }
        let vReset: Float
        switch s.reset {
        case .zero: vReset = 0
        case .value(let v): vReset = v
        case .subtract: throw refuse("NIR's neurons reset to v_reset; reset by subtraction has no NIR node")
        }
        func all(_ v: Float) -> Tensor { Tensor(repeating: v, shape: shape) }
        func exact(_ v: Float) -> HDF5Node { .floats([Double(v)], shape: [], bits: 32) }
        var surrogate: [String: HDF5Node] = ["spikefuse_surrogate_width": exact(neuron.surrogateWidth),
                                             "spikefuse_surrogate_dampening": exact(neuron.surrogateDampening)]
        if let name = neuron.surrogate { surrogate["spikefuse_surrogate"] = .string(name) }
        if let slope = neuron.surrogateSlope { surrogate["spikefuse_surrogate_slope"] = exact(slope) }
        let tauMem = dt / (1 - Double(s.tau))
        switch s.model {
        case .lif:
            return (.lif(tau: all(Float(tauMem)), r: all(Float(tauMem / dt)), vLeak: all(0), vThreshold: all(s.threshold),
                         vReset: all(vReset)), surrogate.merging(["spikefuse_decay": exact(s.tau)]) { $1 })
        case .currentBased:
            let tauSyn = dt / (1 - Double(s.synapseTau))
            return (.cubaLIF(tauSyn: all(Float(tauSyn)), tauMem: all(Float(tauMem)), r: all(Float(tauMem / dt)), vLeak: all(0),
                             vThreshold: all(s.threshold), vReset: all(vReset), wIn: all(Float(tauSyn / dt))),
                    surrogate.merging(["spikefuse_decay": exact(s.tau), "spikefuse_synapse_decay": exact(s.synapseTau)]) { $1 })
        case .integrateAndFire:
            return (.integrateAndFire(r: all(Float(1 / dt)), vThreshold: all(s.threshold), vReset: all(vReset)), surrogate)
        case .adaptive:
            throw refuse("NIR has no adaptive LIF node (adaptive_lif): its threshold adaptation would be lost; "
                         + "export refused")
        }
    }

    /// The neuron of a NIR neuron node (LIF, CubaLIF, IF) whose constants are the same for
    /// every neuron, and the factor its input is scaled by per step (1 in SpikeFuse's own
    /// graphs; else to be folded into the weights before it). `metadata`: the node's.
    public static func neuron(from node: NIRNode, metadata: [String: HDF5Node] = [:], dt: Double, name: String,
                              file: String) throws -> (neuron: NeuronDescription, inputScale: Float) {
        func refuse(_ why: String) -> NIRError { NIRError.unsupported(file: file, node: name, reason: why) }
        func uniform(_ t: Tensor, _ what: String) throws -> Double {
            guard let first = t.scalars.first, t.scalars.allSatisfy({ $0 == first }) else {
                throw refuse("\(what) differs between neurons; SpikeFuse's layers share one value")
            }
            return Double(first)
        }
        /// 1 − dt/τ, or the exact float kept in the metadata when it agrees.
        func decay(_ tau: Double, _ key: String, _ what: String) throws -> Float {
            guard tau >= dt else { throw refuse("\(what) \(tau) is shorter than dt \(dt): no per-step decay has it") }
            let d = Float(1 - dt / tau)
            if case .floats(let kept, _, _)? = metadata[key], let k = kept.first, abs(k - Double(d)) < 1e-5 { return Float(k) }
            return d
        }
        var d = NeuronDescription(tau: 0)
        func reset(_ v: Tensor) throws {
            let value = try uniform(v, "v_reset")
            if value != 0 { d.reset = "value"; d.resetValue = Float(value) }
        }
        let scale: Double
        switch node {
        case .lif(let tau, let r, let vLeak, let vThreshold, let vReset):
            guard try uniform(vLeak, "v_leak") == 0 else { throw refuse("v_leak must be 0") }
            let t = try uniform(tau, "tau")
            d.tau = try decay(t, "spikefuse_decay", "tau")
            d.threshold = Float(try uniform(vThreshold, "v_threshold"))
            try reset(vReset)
            scale = dt / t * (try uniform(r, "r"))
        case .cubaLIF(let tauSyn, let tauMem, let r, let vLeak, let vThreshold, let vReset, let wIn):
            guard try uniform(vLeak, "v_leak") == 0 else { throw refuse("v_leak must be 0") }
            let ts = try uniform(tauSyn, "tau_syn"), tm = try uniform(tauMem, "tau_mem")
            d.model = NeuronSettings.Model.currentBased.rawValue
            d.tau = try decay(tm, "spikefuse_decay", "tau_mem")
            d.synapseTau = try decay(ts, "spikefuse_synapse_decay", "tau_syn")
            d.threshold = Float(try uniform(vThreshold, "v_threshold"))
            try reset(vReset)
            scale = dt / ts * (try uniform(wIn, "w_in")) * dt / tm * (try uniform(r, "r"))
        case .integrateAndFire(let r, let vThreshold, let vReset):
            d.model = NeuronSettings.Model.integrateAndFire.rawValue
            d.tau = 1
            d.threshold = Float(try uniform(vThreshold, "v_threshold"))
            try reset(vReset)
            scale = dt * (try uniform(r, "r"))
        default:
            throw refuse("expected a neuron node (LIF, CubaLIF, IF), found \(node.typeName)")
        }
        // Training-only surrogate constants where SpikeFuse wrote them (defaults otherwise).
        func kept(_ key: String) -> Float? {
            if case .floats(let v, _, _)? = metadata[key], v.count == 1, v[0].isFinite { return Float(v[0]) }
            return nil
        }
        if let a = kept("spikefuse_surrogate_width"), a > 0 { d.surrogateWidth = a }
        if let g = kept("spikefuse_surrogate_dampening"), g > 0, g <= 1 { d.surrogateDampening = g }
        if let k = kept("spikefuse_surrogate_slope"), k > 0 { d.surrogateSlope = k }
        if case .strings(let names, _)? = metadata["spikefuse_surrogate"], let name = names.first { d.surrogate = name }
        do { _ = try NeuronSettings(checking: d) } catch { throw refuse("\(error)") }
        return (d, abs(scale - 1) < 1e-6 ? 1 : Float(scale))
    }
}
