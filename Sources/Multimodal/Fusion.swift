/// The cross-modal subnetworks: how the visual and auditory output spikes are combined.
///
/// Three fusions stand behind one protocol:
/// - `AttentionFusion`, the paper's (§2.3, eq. 5; the default of mode `multimodal`);
/// - `ConcatenationFusion`, the paper's ablation without attention (§3.4);
/// - `IntegratorFusion`, this project's extension: the paper's attention read out without
///   an output neuron (docs/results.md, "The integrator readout", shows where it earns its place).

/// A fusion subnetwork: two `[T, B, C]` spike trains in, the fused output `[T, B, C]` out.
public protocol FusionNetwork: AnyObject {
    var parameters: [Parameter] { get }
    /// `o_v`, `o_a` `[T, B, C]` → fused output `[T, B, C]`; keeps what backward needs.
    func forward(visual: Tensor, audio: Tensor) -> Tensor
    /// dL/d(fused output) `[T, B, C]` → (dL/d o_v, dL/d o_a), each `[T, B, C]`; accumulates parameter grads.
    func backward(_ gradOutput: Tensor) -> (visual: Tensor, audio: Tensor)
    /// The attention weights `[T, B, 2]` (w_v, w_a) of the last forward pass, if this fusion has them.
    var attentionWeights: Tensor? { get }
    /// Training (true) or inference (false): see `Layer.savesForBackward`.
    var savesForBackward: Bool { get set }
    /// Lm (eq. 6) of the fused output and its gradient, averaged over `meanOver` samples
    /// (nil = the batch; `SpikeRateLoss.mseLoss`). Default: the paper's rate MSE (eq. 7).
    func loss(_ fused: Tensor, labels: [Int], meanOver: Int?) -> (loss: Float, gradient: Tensor)
    /// Whether the gradient of Lm flows on into the two subnetworks. Default true: the
    /// paper's end-to-end STBP, where Lm's gradient is added to those of Lv and La.
    var trainsSubnetworks: Bool { get }
    /// The fusion's single time step (streaming), for `batch` streams.
    func makeStep(batch: Int) -> FusionStep
}

extension FusionNetwork {
    public func loss(_ fused: Tensor, labels: [Int], meanOver: Int? = nil) -> (loss: Float, gradient: Tensor) {
        SpikeRateLoss.mseLoss(spikes: fused, labels: labels, meanOver: meanOver)
    }
    public var trainsSubnetworks: Bool { true }
}

/// One time step of a fusion: o_v[t], o_a[t] `[B, C]` → fused output `[B, C]`.
public protocol FusionStep: AnyObject {
    /// The result stays valid until the next `step` or `reset`.
    func step(visual: UnsafePointer<Float>, audio: UnsafePointer<Float>) -> UnsafePointer<Float>
    /// `[B, 2]` (w_v, w_a) of the last step; nil for a fusion without attention.
    var attentionWeights: UnsafePointer<Float>? { get }
    func reset()
}

// MARK: - The attention weights (shared by the two attention fusions)

/// The attention of eq. 5, τ = 0.9:
///
///     c[t]          = concat(o_v[t], o_a[t])                     [B, 2C]
///     h[t]          = LIF(W_h·c[t] + b_h)                        [B, H]   fusion.hidden
///     [w_v, w_a][t] = W_att·h[t] + b_att                         [B, 2]   fusion.attention
///
/// or, with `softmaxScale` S set, `[w_v, w_a] = S·softmax(W_att·h[t] + b_att)`.
/// The sizes and neuron of a fusion subnetwork: C classes in from each head, H hidden.
public struct FusionSettings: Sendable, Equatable {
    public var classes: Int
    public var hidden: Int
    public var neuron: LIFParameters
    public init(classes: Int, hidden: Int, neuron: LIFParameters) {
        self.classes = classes
        self.hidden = hidden
        self.neuron = neuron
    }
    /// The paper network's fusion settings of `c`.
    public init(_ c: ModelConfiguration) {
        self.init(classes: c.classes, hidden: c.fusionHidden, neuron: c.fusionNeuron)
    }
}

extension FusionDescription {
    /// The fusion subnetwork this describes, for heads of `classes` outputs.
    public func makeFusion(classes: Int, rng: inout SeededGenerator) -> FusionNetwork {
        let settings = FusionSettings(classes: classes, hidden: hidden, neuron: neuron.parameters)
        switch (kind, readout ?? .neuron) {
        case (.attention, .neuron): return AttentionFusion(settings, rng: &rng)
        case (.attention, .integrator): return IntegratorFusion(settings, rng: &rng)
        case (.concatenation, _): return ConcatenationFusion(settings, rng: &rng)
        }
    }
}

final class AttentionWeighting {
    let hidden: Linear
    let hiddenNeuron: LIF
    let attention: Linear
    /// nil: the paper's plain affine weights; S: S·softmax.
    let softmaxScale: Float?
    private(set) var weights: Tensor?

    init(_ f: FusionSettings, softmaxScale: Float?, rng: inout SeededGenerator) {
        hidden = Linear(name: "fusion.hidden", inFeatures: 2 * f.classes, outFeatures: f.hidden, rng: &rng)
        hiddenNeuron = LIF(f.neuron)
        attention = Linear(name: "fusion.attention", inFeatures: f.hidden, outFeatures: 2, rng: &rng)
        self.softmaxScale = softmaxScale
    }

    var parameters: [Parameter] { hidden.parameters + attention.parameters }

    var savesForBackward: Bool {
        get { hidden.savesForBackward }
        set { for layer: Layer in [hidden, hiddenNeuron, attention] { layer.savesForBackward = newValue } }
    }

    // o_v, o_a [T, B, C] → w [T, B, 2]
    func forward(visual ov: Tensor, audio oa: Tensor) -> Tensor {
        var w = attention.forward(hiddenNeuron.forward(hidden.forward(concatenateFeatures(ov, oa))))
        if let s = softmaxScale {
            let pairs = w.count / 2
            w.withMutablePointer { softmaxPairsInPlace($0, pairs: pairs, scale: s) }
        }
        weights = w
        return w
    }

    // dL/dw [T, B, 2] → (dL/d o_v, dL/d o_a) [T, B, C] through the attention path
    func backward(_ gradWeights: Tensor) -> (visual: Tensor, audio: Tensor) {
        var g = gradWeights
        if let s = softmaxScale, let w = weights { softmaxPairsBackwardInPlace(&g, weights: w, scale: s) }
        let gConcat = hidden.backward(hiddenNeuron.backward(attention.backward(g)))
        return splitFeatures(gConcat, first: gConcat.shape.last! / 2)
    }

    func makeStep(batch: Int, classes: Int) -> AttentionWeightingStep { AttentionWeightingStep(self, batch: batch, classes: classes) }
}

/// The step of `AttentionWeighting`: o_v[t], o_a[t] `[B, C]` → `[B, 2]` weights.
final class AttentionWeightingStep {
    let batch: Int, classes: Int
    let softmaxScale: Float?
    let concatenated: StepBuffer
    let hidden: LayerStep
    let attention: LayerStep
    /// The weights `[B, 2]` of the last step, normalised here (not in the attention step's buffer).
    let output: StepBuffer
    private var stepped = false
    init(_ a: AttentionWeighting, batch: Int, classes: Int) {
        self.batch = batch; self.classes = classes
        softmaxScale = a.softmaxScale
        concatenated = StepBuffer(batch * 2 * classes)
        hidden = makeSteps([a.hidden, a.hiddenNeuron], batch: batch, inputShape: [2 * classes])
        attention = a.attention.makeStep(batch: batch, inputShape: hidden.outputShape)
        output = StepBuffer(batch * 2)
    }
    var weights: UnsafePointer<Float>? { stepped ? UnsafePointer(output.pointer) : nil }
    func step(visual ov: UnsafePointer<Float>, audio oa: UnsafePointer<Float>) -> UnsafePointer<Float> {
        concatenateRows(ov, classes, oa, classes, rows: batch, into: concatenated.pointer)
        output.pointer.update(from: attention.step(hidden.step(concatenated.pointer)), count: output.count)
        if let s = softmaxScale { softmaxPairsInPlace(output.pointer, pairs: batch, scale: s) }
        stepped = true
        return UnsafePointer(output.pointer)
    }
    func reset() { hidden.reset(); attention.reset(); output.zero(); stepped = false }
}

/// The weighted vote of eq. 5, row by row (rows = T·B time-batched, B in a step):
/// `vote[r, k] = w[r, 0]·o_v[r, k] + w[r, 1]·o_a[r, k]`.
// o_v, o_a [rows, C], w [rows, 2] → vote [rows, C]
@inline(__always)
func weightedVote(visual ov: UnsafePointer<Float>, audio oa: UnsafePointer<Float>, weights w: UnsafePointer<Float>,
                  rows: Int, classes: Int, into vote: UnsafeMutablePointer<Float>) {
    for r in 0..<rows {
        let wv = w[2 * r], wa = w[2 * r + 1]
        for k in 0..<classes {
            let i = r * classes + k
            vote[i] = wv * ov[i] + wa * oa[i]
        }
    }
}

/// The weighted vote on `[T, B, C]` tensors → `[T, B, C]`.
func weightedVote(visual ov: Tensor, audio oa: Tensor, weights w: Tensor) -> Tensor {
    let classes = ov.shape.last!
    return Tensor(shape: ov.shape) { out, _ in
        ov.withPointer { v in oa.withPointer { a in w.withPointer { pw in
            weightedVote(visual: v, audio: a, weights: pw, rows: ov.count / classes, classes: classes, into: out)
        } } }
    }
}

/// Backward of the weighted vote given g = dL/d(vote) `[T, B, C]`: dL/dw `[T, B, 2]`
/// (`Σ_k g·o_v`, `Σ_k g·o_a`) and dL/d o_v = g·w_v, dL/d o_a = g·w_a.
func weightedVoteBackward(_ g: Tensor, visual ov: Tensor, audio oa: Tensor, weights w: Tensor)
    -> (weights: Tensor, visual: Tensor, audio: Tensor) {
    let classes = g.shape.last!, rows = g.count / classes
    var gW = Tensor(zeros: w.shape), gv = Tensor(zeros: g.shape), ga = Tensor(zeros: g.shape)
    g.withPointer { pg in ov.withPointer { v in oa.withPointer { a in w.withPointer { pw in
        gW.withMutablePointer { pgw in gv.withMutablePointer { pgv in ga.withMutablePointer { pga in
            for r in 0..<rows {
                let wv = pw[2 * r], wa = pw[2 * r + 1]
                var sv: Float = 0, sa: Float = 0
                for k in 0..<classes {
                    let i = r * classes + k
                    sv += pg[i] * v[i]; sa += pg[i] * a[i]
                    pgv[i] = pg[i] * wv; pga[i] = pg[i] * wa
                }
                pgw[2 * r] = sv; pgw[2 * r + 1] = sa
            }
        } } }
    } } } }
    return (gW, gv, ga)
}

// MARK: - The paper's attention fusion

/// The paper's attention-based cross-modal subnetwork (§2.3, eq. 5), τ = 0.9: the
/// `AttentionWeighting` (plain affine weights), then one output layer with no weights of
/// its own whose input current is the weighted vote of the two heads:
///
///     u[t] = τ·u[t−1]·(1 − o[t−1]) + w_v[t]·o_v[t] + w_a[t]·o_a[t]
///     o[t] = 1{u[t] ≥ Vth}                                         [B, C]   the fused output
///
/// Trained end to end with Lm = the rate MSE (eq. 7).
public final class AttentionFusion: FusionNetwork {
    let weighting: AttentionWeighting
    public let outputNeuron: LIF
    private var lastVisual = Tensor(zeros: [0]), lastAudio = Tensor(zeros: [0])

    public init(_ f: FusionSettings, rng: inout SeededGenerator) {
        weighting = AttentionWeighting(f, softmaxScale: nil, rng: &rng)
        outputNeuron = LIF(f.neuron)
    }

    public var hidden: Linear { weighting.hidden }
    public var hiddenNeuron: LIF { weighting.hiddenNeuron }
    public var attention: Linear { weighting.attention }
    public var parameters: [Parameter] { weighting.parameters }
    public var attentionWeights: Tensor? { weighting.weights }
    public var savesForBackward: Bool {
        get { weighting.savesForBackward }
        set { weighting.savesForBackward = newValue; outputNeuron.savesForBackward = newValue }
    }

    public func forward(visual ov: Tensor, audio oa: Tensor) -> Tensor {
        lastVisual = ov; lastAudio = oa
        let w = weighting.forward(visual: ov, audio: oa)
        return outputNeuron.forward(weightedVote(visual: ov, audio: oa, weights: w))   // [T, B, C]
    }

    public func backward(_ gradOutput: Tensor) -> (visual: Tensor, audio: Tensor) {
        guard let w = weighting.weights else { preconditionFailure("AttentionFusion.backward before forward") }
        let gVote = outputNeuron.backward(gradOutput)
        return backwardThroughVote(gVote, visual: lastVisual, audio: lastAudio, weights: w, weighting: weighting)
    }

    public func makeStep(batch: Int) -> FusionStep {
        AttentionFusionStep(weighting, outputNeuron: outputNeuron, batch: batch, classes: weighting.hidden.inFeatures / 2)
    }
}

/// dL/d(vote) → (dL/d o_v, dL/d o_a), through both the vote's direct path and the attention.
private func backwardThroughVote(_ gVote: Tensor, visual ov: Tensor, audio oa: Tensor, weights w: Tensor,
                                 weighting: AttentionWeighting) -> (visual: Tensor, audio: Tensor) {
    let direct = weightedVoteBackward(gVote, visual: ov, audio: oa, weights: w)
    var (gv, ga) = (direct.visual, direct.audio)
    let throughAttention = weighting.backward(direct.weights)
    addInPlace(&gv, throughAttention.visual); addInPlace(&ga, throughAttention.audio)
    return (gv, ga)
}

/// The step of the attention fusions: weights, vote, and the output neuron when there is one.
final class AttentionFusionStep: FusionStep {
    let weighting: AttentionWeightingStep
    let vote: StepBuffer
    let outputNeuron: LayerStep?
    let batch: Int, classes: Int
    init(_ w: AttentionWeighting, outputNeuron: LIF?, batch: Int, classes: Int) {
        weighting = w.makeStep(batch: batch, classes: classes)
        vote = StepBuffer(batch * classes)
        self.outputNeuron = outputNeuron?.makeStep(batch: batch, inputShape: [classes])
        self.batch = batch; self.classes = classes
    }
    var attentionWeights: UnsafePointer<Float>? { weighting.weights }
    func step(visual ov: UnsafePointer<Float>, audio oa: UnsafePointer<Float>) -> UnsafePointer<Float> {
        let w = weighting.step(visual: ov, audio: oa)
        weightedVote(visual: ov, audio: oa, weights: w, rows: batch, classes: classes, into: vote.pointer)
        return outputNeuron?.step(vote.pointer) ?? UnsafePointer(vote.pointer)
    }
    func reset() { weighting.reset(); outputNeuron?.reset(); vote.zero() }
}

// MARK: - The integrator readout (extension)

/// The paper's attention read out without an output neuron — this project's extension
/// (docs/results.md, "The integrator readout"). The paper's output LIF (Vth = 0.5) fires at
/// any weighted input of 0.5 or more, so for weights ≥ 0.5 it counts the union of the two
/// heads' spikes and the attention barely reaches the decision. Here the fused output is the
/// weighted vote itself, real-valued, and the class scores are its sum over t:
///
///     [w_v, w_a][t] = S·softmax(W_att·h[t] + b_att),  S = 0.25, starting at the equal split
///     o[t]          = w_v[t]·o_v[t] + w_a[t]·o_a[t]             [B, C]   real-valued
///     Lm            = (2/T)·CE(softmax(Σ_t o[t]), y)
///
/// Lm trains the fusion only: the heads' spikes enter it as constants, so each head trains
/// on its own loss as in its unimodal run. These are the settings item 13 of docs/results.md
/// measured (S chosen there); none of them is a separate option.
public final class IntegratorFusion: FusionNetwork {
    /// S in `[w_v, w_a] = S·softmax(z)`.
    public static let scale: Float = 0.25
    let weighting: AttentionWeighting
    private var lastVisual = Tensor(zeros: [0]), lastAudio = Tensor(zeros: [0])

    public init(_ f: FusionSettings, rng: inout SeededGenerator) {
        weighting = AttentionWeighting(f, softmaxScale: Self.scale, rng: &rng)
        // Start at the equal split for every input: softmax(0, 0) = (½, ½).
        weighting.attention.weight.value = Tensor(zeros: weighting.attention.weight.value.shape)
        weighting.attention.bias.value = Tensor(zeros: [2])
    }

    public var hidden: Linear { weighting.hidden }
    public var attention: Linear { weighting.attention }
    public var parameters: [Parameter] { weighting.parameters }
    public var attentionWeights: Tensor? { weighting.weights }
    public var savesForBackward: Bool {
        get { weighting.savesForBackward }
        set { weighting.savesForBackward = newValue }
    }
    public var trainsSubnetworks: Bool { false }

    public func forward(visual ov: Tensor, audio oa: Tensor) -> Tensor {
        lastVisual = ov; lastAudio = oa
        return weightedVote(visual: ov, audio: oa, weights: weighting.forward(visual: ov, audio: oa))
    }

    public func backward(_ gradOutput: Tensor) -> (visual: Tensor, audio: Tensor) {
        guard let w = weighting.weights else { preconditionFailure("IntegratorFusion.backward before forward") }
        return backwardThroughVote(gradOutput, visual: lastVisual, audio: lastAudio, weights: w, weighting: weighting)
    }

    /// (2/T)·CE on the summed output: a gradient per time step of at most 2/T, the rate
    /// MSE's scale (unscaled, the CE gradient is T/2 times larger and outweighs Lv and La).
    public func loss(_ fused: Tensor, labels: [Int], meanOver: Int? = nil) -> (loss: Float, gradient: Tensor) {
        let weight = 2 / Float(fused.shape[0])
        var (l, g) = SpikeRateLoss.countCrossEntropyLoss(spikes: fused, labels: labels, meanOver: meanOver)
        let count = g.count
        g.withMutablePointer { p in for i in 0..<count { p[i] *= weight } }
        return (l * weight, g)
    }

    public func makeStep(batch: Int) -> FusionStep {
        AttentionFusionStep(weighting, outputNeuron: nil, batch: batch, classes: weighting.hidden.inFeatures / 2)
    }
}

/// Scaled softmax over each consecutive pair at `w`:
/// `[z_v, z_a] → S·[e^z_v, e^z_a] / (e^z_v + e^z_a)`.
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
func softmaxPairsBackwardInPlace(_ g: inout Tensor, weights w: Tensor, scale: Float) {
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

// MARK: - The ablation without attention

/// The ablation without attention (§3.4), τ = 0.9: `concat(o_v, o_a)` →
/// `fusion.fc1` 2C→H, LIF → `fusion.fc2` H→C, LIF.
public final class ConcatenationFusion: FusionNetwork {
    public let network: Sequential
    public let classes: Int

    public init(_ f: FusionSettings, rng: inout SeededGenerator) {
        network = Sequential([
            SpikingLinear(name: "fusion.fc1", inFeatures: 2 * f.classes, outFeatures: f.hidden,
                          neuron: f.neuron, rng: &rng),
            SpikingLinear(name: "fusion.fc2", inFeatures: f.hidden, outFeatures: f.classes,
                          neuron: f.neuron, rng: &rng),
        ])
        classes = f.classes
    }

    public var parameters: [Parameter] { network.parameters }
    public var attentionWeights: Tensor? { nil }
    public var savesForBackward: Bool {
        get { network.savesForBackward }
        set { network.savesForBackward = newValue }
    }

    public func forward(visual ov: Tensor, audio oa: Tensor) -> Tensor {
        network.forward(concatenateFeatures(ov, oa))
    }

    public func backward(_ gradOutput: Tensor) -> (visual: Tensor, audio: Tensor) {
        splitFeatures(network.backward(gradOutput), first: classes)
    }

    public func makeStep(batch: Int) -> FusionStep { ConcatenationFusionStep(self, batch: batch) }
}

/// The step of `ConcatenationFusion`: concat, then the FC layers' steps.
final class ConcatenationFusionStep: FusionStep {
    let concatenated: StepBuffer
    let layers: LayerStep
    let batch: Int, classes: Int
    init(_ f: ConcatenationFusion, batch: Int) {
        self.batch = batch; classes = f.classes
        concatenated = StepBuffer(batch * 2 * f.classes)
        layers = f.network.makeStep(batch: batch, inputShape: [2 * f.classes])
    }
    var attentionWeights: UnsafePointer<Float>? { nil }
    func step(visual ov: UnsafePointer<Float>, audio oa: UnsafePointer<Float>) -> UnsafePointer<Float> {
        concatenateRows(ov, classes, oa, classes, rows: batch, into: concatenated.pointer)
        return layers.step(concatenated.pointer)
    }
    func reset() { layers.reset() }
}

#if canImport(Glibc)
import Glibc
#endif
