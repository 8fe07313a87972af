/// The cross-modal subnetworks: how the visual and auditory output spikes are combined.

/// A fusion subnetwork: two `[T, B, C]` spike trains in, fused output spikes `[T, B, C]` out.
public protocol FusionNetwork: AnyObject {
    var parameters: [Parameter] { get }
    /// `o_v`, `o_a` `[T, B, C]` → fused output spikes `[T, B, C]`; keeps what backward needs.
    func forward(visual: Tensor, audio: Tensor) -> Tensor
    /// dL/d(fused spikes) `[T, B, C]` → (dL/d o_v, dL/d o_a), each `[T, B, C]`; accumulates parameter grads.
    func backward(_ gradOutput: Tensor) -> (visual: Tensor, audio: Tensor)
    /// The attention weights `[T, B, 2]` (w_v, w_a) of the last forward pass, if this fusion has them.
    var attentionWeights: Tensor? { get }
}

/// The paper's attention-based cross-modal subnetwork (§2.3, eq. 5), τ = 0.9:
///
///     c[t]          = concat(o_v[t], o_a[t])                     [B, 2C]
///     h[t]          = LIF(W_h·c[t] + b_h)                        [B, H]   fusion.hidden
///     [w_v, w_a][t] = W_att·h[t] + b_att  (optionally softmax)   [B, 2]   fusion.attention
///
/// then, with the paper's readout (`.sum`), one output layer with no weights of its own:
///
///     u[t]          = τ·u[t−1]·(1 − o[t−1]) + w_v[t]·o_v[t] + w_a[t]·o_a[t]
///     o[t]          = 1{u[t] ≥ Vth}                              [B, C]   the fused output
///
/// or, with `.fc`, the ablation's two FC LIF layers on the weighted spikes:
///
///     o[t]          = fc2(fc1(concat(w_v[t]·o_v[t], w_a[t]·o_a[t])))   [B, 2C] → [B, H] → [B, C]
///
/// or, with `.integrator`, no output neuron: the fused output is the weighted current, whose
/// sum over t (the class scores, as spike counts are for the other readouts) is the weighted
/// vote of the two heads' spike counts:
///
///     o[t]          = w_v[t]·o_v[t] + w_a[t]·o_a[t]              [B, C]   real-valued
public final class AttentionFusion: FusionNetwork {
    public let hidden: Linear
    public let hiddenNeuron: LIF
    public let attention: Linear
    /// The output LIF of the `.sum` readout (unused with `.fc`).
    public let outputNeuron: LIF
    /// `fusion.fc1`, `fusion.fc2` of the `.fc` readout; nil with `.sum`.
    public let head: Sequential?
    public let normalisation: AttentionNormalisation
    /// S in `[w_v, w_a] = S·softmax(z)` (1 unless `attention_scale` is set; softmax only).
    public let scale: Float
    public let classes: Int
    /// True with the `.integrator` readout: the weighted current is the output (no LIF).
    public let integrates: Bool
    private var lastVisual = Tensor(zeros: [0]), lastAudio = Tensor(zeros: [0])
    /// `[T, B, 2]` weights actually applied (after the optional softmax).
    public private(set) var attentionWeights: Tensor?

    /// With `c.attentionInit == .identity` the FC head (if any) is drawn first, so it gets the
    /// same weights as `ConcatenationFusion` from the same generator, and `fusion.attention`
    /// starts at weight 0, bias 1: `w_v = w_a = 1` for every input (0.5 each after softmax).
    public init(_ c: ModelConfiguration, rng: inout SeededGenerator) {
        let identity = c.attentionInit == .identity
        let earlyHead = identity && c.attentionReadout == .fc ? fusionHead(c, rng: &rng) : nil
        hidden = Linear(name: "fusion.hidden", inFeatures: 2 * c.classes, outFeatures: c.fusionHidden, rng: &rng)
        hiddenNeuron = LIF(c.fusionNeuron)
        attention = Linear(name: "fusion.attention", inFeatures: c.fusionHidden, outFeatures: 2, rng: &rng)
        outputNeuron = LIF(c.fusionNeuron)
        head = earlyHead ?? (c.attentionReadout == .fc ? fusionHead(c, rng: &rng) : nil)
        if identity {
            attention.weight.value = Tensor(zeros: attention.weight.value.shape)
            let start: Float = c.attentionNormalisation == .softmax ? 0 : 1   // softmax(0, 0) = (0.5, 0.5)
            attention.bias.value = Tensor(shape: [2], scalars: [start, start])
        }
        normalisation = c.attentionNormalisation
        scale = c.attentionScale
        classes = c.classes
        integrates = c.attentionReadout == .integrator
    }

    public var parameters: [Parameter] { hidden.parameters + attention.parameters + (head?.parameters ?? []) }

    public func forward(visual ov: Tensor, audio oa: Tensor) -> Tensor {
        lastVisual = ov; lastAudio = oa
        let h = hiddenNeuron.forward(hidden.forward(concatenateFeatures(ov, oa)))   // [T, B, H]
        var w = attention.forward(h)                                                  // [T, B, 2]
        if normalisation == .softmax { softmaxPairsInPlace(&w, scale: scale) }
        attentionWeights = w
        let (wv, wa) = (scaledRows(ov, by: w, column: 0), scaledRows(oa, by: w, column: 1))   // [T, B, C] each
        if let head { return head.forward(concatenateFeatures(wv, wa)) }                      // [T, B, C]
        var current = wv
        addInPlace(&current, wa)
        return integrates ? current : outputNeuron.forward(current)                   // [T, B, C]
    }

    public func backward(_ gradOutput: Tensor) -> (visual: Tensor, audio: Tensor) {
        guard let w = attentionWeights else { preconditionFailure("AttentionFusion.backward before forward") }
        // dL/d(w_v·o_v) and dL/d(w_a·o_a), each [T, B, C]
        let (gWeightedV, gWeightedA): (Tensor, Tensor)
        if let head {
            (gWeightedV, gWeightedA) = splitFeatures(head.backward(gradOutput), first: classes)
        } else {
            let gI = integrates ? gradOutput : outputNeuron.backward(gradOutput)     // dL/dI [T, B, C]
            (gWeightedV, gWeightedA) = (gI, gI)
        }
        let rows = gWeightedV.count / classes
        var gW = Tensor(zeros: w.shape)                                               // dL/dw [T, B, 2]
        var gv = Tensor(zeros: gWeightedV.shape), ga = Tensor(zeros: gWeightedA.shape)
        gWeightedV.scalars.withUnsafeBufferPointer { g1 in
            gWeightedA.scalars.withUnsafeBufferPointer { g2 in
                lastVisual.scalars.withUnsafeBufferPointer { ov in
                    lastAudio.scalars.withUnsafeBufferPointer { oa in
                        w.scalars.withUnsafeBufferPointer { pw in
                            gW.scalars.withUnsafeMutableBufferPointer { pgw in
                                gv.scalars.withUnsafeMutableBufferPointer { pgv in
                                    ga.scalars.withUnsafeMutableBufferPointer { pga in
                                        for r in 0..<rows {
                                            let wv = pw[2 * r], wa = pw[2 * r + 1]
                                            var sv: Float = 0, sa: Float = 0
                                            for k in 0..<classes {
                                                let i = r * classes + k
                                                sv += g1[i] * ov[i]; sa += g2[i] * oa[i]
                                                pgv[i] = g1[i] * wv; pga[i] = g2[i] * wa
                                            }
                                            pgw[2 * r] = sv; pgw[2 * r + 1] = sa
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        if normalisation == .softmax { softmaxPairsBackwardInPlace(&gW, weights: w, scale: scale) }
        let gH = hiddenNeuron.backward(attention.backward(gW))                       // dL/dI_hidden [T, B, H]
        let (gvc, gac) = splitFeatures(hidden.backward(gH), first: classes)
        addInPlace(&gv, gvc); addInPlace(&ga, gac)
        return (gv, ga)
    }

    /// `out[t, b, k] = w[t, b, column]·x[t, b, k]` for `x` `[T, B, C]`, `w` `[T, B, 2]`.
    private func scaledRows(_ x: Tensor, by w: Tensor, column: Int) -> Tensor {
        var out = Tensor(zeros: x.shape)
        let rows = x.count / classes
        out.scalars.withUnsafeMutableBufferPointer { po in
            w.scalars.withUnsafeBufferPointer { pw in
                x.scalars.withUnsafeBufferPointer { px in
                    for r in 0..<rows {
                        let scale = pw[2 * r + column]
                        for k in 0..<classes { po[r * classes + k] = scale * px[r * classes + k] }
                    }
                }
            }
        }
        return out
    }
}

/// The ablation's two FC LIF layers, τ = 0.9: `fusion.fc1` 2C→H, LIF → `fusion.fc2` H→C, LIF
/// (the no-attention fusion, and the attention fusion's `.fc` readout).
func fusionHead(_ c: ModelConfiguration, rng: inout SeededGenerator) -> Sequential {
    Sequential([
        SpikingLinear(name: "fusion.fc1", inFeatures: 2 * c.classes, outFeatures: c.fusionHidden,
                      neuron: c.fusionNeuron, rng: &rng),
        SpikingLinear(name: "fusion.fc2", inFeatures: c.fusionHidden, outFeatures: c.classes,
                      neuron: c.fusionNeuron, rng: &rng),
    ])
}

/// Scaled softmax over each consecutive pair:
/// `[z_v, z_a] → S·[e^z_v, e^z_a] / (e^z_v + e^z_a)` (S = `scale`, 1 for the plain softmax).
func softmaxPairsInPlace(_ w: inout Tensor, scale: Float = 1) {
    w.scalars.withUnsafeMutableBufferPointer { p in
        softmaxPairsInPlace(p.baseAddress!, pairs: p.count / 2, scale: scale)
    }
}

/// The same on `pairs` consecutive pairs at `w` (training and streaming share it, so both
/// give the same weights bit for bit).
@inline(__always)
func softmaxPairsInPlace(_ w: UnsafeMutablePointer<Float>, pairs: Int, scale: Float) {
    for r in 0..<pairs {
        let m = max(w[2 * r], w[2 * r + 1])
        let ev = expf(w[2 * r] - m), ea = expf(w[2 * r + 1] - m)
        w[2 * r] = scale * (ev / (ev + ea)); w[2 * r + 1] = scale * (ea / (ev + ea))
    }
}

/// Backward of `softmaxPairsInPlace` per pair, from its output `w = S·s`:
/// `g_i ← S·s_i·(g_i − Σ_j g_j·s_j)`.
func softmaxPairsBackwardInPlace(_ g: inout Tensor, weights w: Tensor, scale: Float = 1) {
    g.scalars.withUnsafeMutableBufferPointer { pg in
        w.scalars.withUnsafeBufferPointer { pw in
            for r in 0..<(pg.count / 2) {
                let sv = pw[2 * r] / scale, sa = pw[2 * r + 1] / scale
                let dot = pg[2 * r] * sv + pg[2 * r + 1] * sa
                pg[2 * r] = scale * sv * (pg[2 * r] - dot)
                pg[2 * r + 1] = scale * sa * (pg[2 * r + 1] - dot)
            }
        }
    }
}

/// The ablation without attention (§3.4), τ = 0.9: `concat(o_v, o_a)` →
/// `fusion.fc1` 2C→H, LIF → `fusion.fc2` H→C, LIF.
public final class ConcatenationFusion: FusionNetwork {
    public let network: Sequential
    public let classes: Int

    public init(_ c: ModelConfiguration, rng: inout SeededGenerator) {
        network = fusionHead(c, rng: &rng)
        classes = c.classes
    }

    public var parameters: [Parameter] { network.parameters }
    public var attentionWeights: Tensor? { nil }

    public func forward(visual ov: Tensor, audio oa: Tensor) -> Tensor {
        network.forward(concatenateFeatures(ov, oa))
    }

    public func backward(_ gradOutput: Tensor) -> (visual: Tensor, audio: Tensor) {
        splitFeatures(network.backward(gradOutput), first: classes)
    }
}

#if canImport(Glibc)
import Glibc
#endif
