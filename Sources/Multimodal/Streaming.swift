/// Streaming (step-by-step) inference of a `MultimodalNetwork`: the path a live sensor uses.
///
/// Instead of a time-batched `[T, B, …]` forward, `step` consumes one time bin at a time —
/// a DVS frame `[B, P, S, S]` and a cochlea frame `[B, 64]` — and carries the state of every
/// layer between calls: membrane u[t−1] of each LIF population, the previous output spikes
/// o[t−1] of each recurrent layer. Per step, every layer runs the same equations as the
/// time-batched forward (docs/model.md):
///
///     I[t] = b + Σ_{j: x_j[t] ≠ 0} x_j[t]·W[:, j]  (+ R·o[t−1] in a recurrent layer)
///     u[t] = τ·u[t−1]·(1 − o[t−1]) + I[t],  o[t] = 1{u[t] ≥ V_th}
///
/// with event-driven synaptic sums (only active inputs cost work) and the attention fusion
/// `I_out[t] = w_v[t]·o_v[t] + w_a[t]·o_a[t]`. All buffers are allocated once in `init`;
/// `step` allocates none. The output spikes are identical to `MultimodalNetwork.forward`
/// whenever the synaptic sums are exact in Float32 (binary inputs and weights on a 2⁻¹²
/// grid, as in the golden fixtures); otherwise a different summation order can differ in
/// the last bit of a current and, rarely, flip a spike that sits exactly on the threshold.
///
/// ```swift
/// let stream = try StreamingInference(network, batch: 1)
/// for t in 0..<64 {
///     stream.step(visual: frame[t], audio: cochlea[t])   // [1·2·28·28], [1·64]
///     // stream.fusionSpikes: [B, 10] spikes of this step
/// }
/// stream.reset()                                          // next recording
/// ```
public final class StreamingInference {
    public let network: MultimodalNetwork
    public let batch: Int
    private var visualStages: [StreamStage] = []
    private var audioStages: [StreamStage] = []
    private var fusion: StreamFusion?
    /// Number of steps since the last `reset` (0 … T).
    public private(set) var stepIndex = 0
    /// Runs the visual and auditory subnetworks of a step on two cores (default: when more
    /// than one worker is available). Results are identical either way (no shared state).
    public var runsSubnetworksConcurrently = Parallel.workers > 1

    /// A network that `StreamingInference` cannot step (a layer type it does not know).
    public enum StreamingError: Error, CustomStringConvertible, Equatable {
        case unsupportedLayer(String)
        public var description: String { "streaming inference: unsupported layer \(self)" }
    }

    /// Prepares buffers for `batch` independent streams (1 for a live sensor).
    public init(_ network: MultimodalNetwork, batch: Int = 1) throws {
        precondition(batch > 0, "StreamingInference: batch must be positive")
        self.network = network
        self.batch = batch
        let c = network.configuration
        if let visual = network.visual {
            visualStages = try makeStages(visual.layers, inputShape: [c.polarities, c.imageSize, c.imageSize], batch: batch)
        }
        if let audio = network.audio {
            audioStages = try makeStages(audio.layers, inputShape: [c.audioChannels], batch: batch)
        }
        if let attention = network.fusion as? AttentionFusion {
            fusion = .attention(try AttentionStreamStage(attention, batch: batch))
        } else if let concatenation = network.fusion as? ConcatenationFusion {
            fusion = .concatenation(try makeStages(concatenation.network.layers, inputShape: [2 * c.classes], batch: batch),
                                    input: StreamBuffer(batch * 2 * c.classes))
        }
    }

    /// Re-reads the weights (after training or loading a checkpoint) and resets the state.
    public func refreshWeights() {
        for stage in visualStages + audioStages { stage.refreshWeights() }
        switch fusion {
        case .attention(let s): s.refreshWeights()
        case .concatenation(let stages, _): stages.forEach { $0.refreshWeights() }
        case nil: break
        }
        reset()
    }

    /// Starts a new sequence: every membrane and previous spike back to 0.
    public func reset() {
        stepIndex = 0
        for stage in visualStages + audioStages { stage.reset() }
        switch fusion {
        case .attention(let s): s.reset()
        case .concatenation(let stages, _): stages.forEach { $0.reset() }
        case nil: break
        }
    }

    /// Output spikes `[B, C]` of the visual head at the last step (empty without a visual subnetwork).
    public var visualSpikes: UnsafeBufferPointer<Float> { visualStages.last?.outputBuffer ?? UnsafeBufferPointer(start: nil, count: 0) }
    /// Output spikes `[B, C]` of the auditory head at the last step.
    public var audioSpikes: UnsafeBufferPointer<Float> { audioStages.last?.outputBuffer ?? UnsafeBufferPointer(start: nil, count: 0) }
    /// Output spikes `[B, C]` of the fusion at the last step (empty in unimodal modes).
    public var fusionSpikes: UnsafeBufferPointer<Float> {
        switch fusion {
        case .attention(let s): return s.head.last?.outputBuffer ?? UnsafeBufferPointer(start: s.output.pointer, count: s.output.count)
        case .concatenation(let stages, _): return stages.last!.outputBuffer
        case nil: return UnsafeBufferPointer(start: nil, count: 0)
        }
    }
    /// Attention weights `[B, 2]` (w_v, w_a) of the last step (attention mode only, else empty).
    public var attentionWeights: UnsafeBufferPointer<Float> {
        if case .attention(let s) = fusion { return s.weights }
        return UnsafeBufferPointer(start: nil, count: 0)
    }

    /// One time step. `visual`: frame `[B, P, S, S]` (B·P·S·S floats), `audio`: `[B, channels]`;
    /// pass the ones the mode uses (nil for the others). Allocates nothing.
    public func step(visual: UnsafePointer<Float>?, audio: UnsafePointer<Float>?) {
        if !visualStages.isEmpty, visual == nil { preconditionFailure("StreamingInference: mode \(network.configuration.mode) needs visual input") }
        if !audioStages.isEmpty, audio == nil { preconditionFailure("StreamingInference: mode \(network.configuration.mode) needs audio input") }
        let first = stepIndex == 0
        var ov: UnsafePointer<Float>?, oa: UnsafePointer<Float>?
        if runsSubnetworksConcurrently && !visualStages.isEmpty && !audioStages.isEmpty {
            // The two subnetworks share no state: one on each core, then the fusion.
            Parallel.forEachChunk(2, chunks: 2) { chunk, _ in
                if chunk == 0 { ov = stepVisual(visual, first: first) } else { oa = stepAudio(audio, first: first) }
            }
        } else {
            ov = stepVisual(visual, first: first)
            oa = stepAudio(audio, first: first)
        }
        if let ov, let oa { stepFusion(visual: ov, audio: oa, first: first) }
        stepIndex += 1
    }

    /// The visual subnetwork's step: frame → its output spikes `[B, C]` (nil without one).
    private func stepVisual(_ visual: UnsafePointer<Float>?, first: Bool) -> UnsafePointer<Float>? {
        guard var x = visual, !visualStages.isEmpty else { return nil }
        for stage in visualStages { x = stage.step(x, first: first) }
        return x
    }

    /// The auditory subnetwork's step: cochlea frame → its output spikes `[B, C]`.
    private func stepAudio(_ audio: UnsafePointer<Float>?, first: Bool) -> UnsafePointer<Float>? {
        guard var x = audio, !audioStages.isEmpty else { return nil }
        for stage in audioStages { x = stage.step(x, first: first) }
        return x
    }

    /// The fusion's step on the two heads' spikes `[B, C]` each.
    private func stepFusion(visual ov: UnsafePointer<Float>, audio oa: UnsafePointer<Float>, first: Bool) {
        switch fusion {
        case .attention(let s): s.step(visual: ov, audio: oa, first: first)
        case .concatenation(let stages, let input):
            let classes = network.configuration.classes
            let c = input.pointer
            for b in 0..<batch {
                (c + b * 2 * classes).update(from: ov + b * classes, count: classes)
                (c + b * 2 * classes + classes).update(from: oa + b * classes, count: classes)
            }
            var x = UnsafePointer(c)
            for stage in stages { x = stage.step(x, first: first) }
        case nil: break
        }
    }

    /// Runs a whole time-major batch step by step from a fresh state (for offline use, tests
    /// and comparisons with `MultimodalNetwork.forward`): `visual` `[T, B, P, S, S]`, `audio`
    /// `[T, B, 64]` → output spikes `[T, B, C]` per head and attention `[T, B, 2]`. With
    /// `runsSubnetworksConcurrently`, the visual subnetwork steps through all T steps on one
    /// core while the auditory one does on the other (one hand-off per recording instead of
    /// one per step), then the fusion steps through T; the spikes are those of `step`.
    public func run(visual: Tensor?, audio: Tensor?) -> HeadOutputs {
        let steps = (visual ?? audio)!.shape[0]
        let c = network.configuration
        if let visual {
            precondition(visual.shape == [steps, batch, c.polarities, c.imageSize, c.imageSize],
                         "StreamingInference.run: visual \(visual.shape), expected [T, \(batch), \(c.polarities), \(c.imageSize), \(c.imageSize)]")
        }
        if let audio {
            precondition(audio.shape == [steps, batch, c.audioChannels],
                         "StreamingInference.run: audio \(audio.shape), expected [T, \(batch), \(c.audioChannels)]")
        }
        reset()
        let classes = network.configuration.classes, n = batch * classes
        var vOut = [Float](repeating: 0, count: visualStages.isEmpty ? 0 : steps * n)
        var aOut = [Float](repeating: 0, count: audioStages.isEmpty ? 0 : steps * n)
        var fOut = [Float](), wOut = [Float]()
        let visualStep = visual.map { $0.count / steps } ?? 0, audioStep = audio.map { $0.count / steps } ?? 0
        withOptionalPointer(visual) { vx in
            withOptionalPointer(audio) { ax in
                vOut.withUnsafeMutableBufferPointer { vo in
                    aOut.withUnsafeMutableBufferPointer { ao in
                        func visualAll() {
                            for t in 0..<steps {
                                if let o = stepVisual(vx.map { $0 + t * visualStep }, first: t == 0) { (vo.baseAddress! + t * n).update(from: o, count: n) }
                            }
                        }
                        func audioAll() {
                            for t in 0..<steps {
                                if let o = stepAudio(ax.map { $0 + t * audioStep }, first: t == 0) { (ao.baseAddress! + t * n).update(from: o, count: n) }
                            }
                        }
                        if runsSubnetworksConcurrently && !visualStages.isEmpty && !audioStages.isEmpty {
                            Parallel.forEachChunk(2, chunks: 2) { chunk, _ in if chunk == 0 { visualAll() } else { audioAll() } }
                        } else {
                            visualAll()
                            audioAll()
                        }
                        if fusion != nil && !visualStages.isEmpty && !audioStages.isEmpty {
                            for t in 0..<steps {
                                stepFusion(visual: vo.baseAddress! + t * n, audio: ao.baseAddress! + t * n, first: t == 0)
                                fOut += fusionSpikes; wOut += attentionWeights
                            }
                        }
                    }
                }
            }
        }
        stepIndex = steps
        var out = HeadOutputs()
        if !vOut.isEmpty { out.visual = Tensor(shape: [steps, batch, classes], scalars: vOut) }
        if !aOut.isEmpty { out.audio = Tensor(shape: [steps, batch, classes], scalars: aOut) }
        if !fOut.isEmpty { out.fusion = Tensor(shape: [steps, batch, classes], scalars: fOut) }
        if !wOut.isEmpty { out.attention = Tensor(shape: [steps, batch, 2], scalars: wOut) }
        return out
    }
}

private enum StreamFusion {
    case attention(AttentionStreamStage)
    /// The fusion's layers and the buffer of their concatenated input `[B, 2C]`.
    case concatenation([StreamStage], input: StreamBuffer)
}

private func withOptionalPointer<R>(_ t: Tensor?, _ body: (UnsafePointer<Float>?) -> R) -> R {
    if let t { return t.withPointer { body($0) } }
    return body(nil)
}

/// A preallocated Float buffer that lives as long as its owner (freed in `deinit`).
final class StreamBuffer {
    let pointer: UnsafeMutablePointer<Float>
    let count: Int
    init(_ count: Int) {
        self.count = count
        pointer = .allocate(capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: max(count, 1))
    }
    func zero() { pointer.update(repeating: 0, count: count) }
    deinit { pointer.deallocate() }
}

/// One step of one layer: input `[B, …in]` → output `[B, …out]` in `outputBuffer`.
class StreamStage {
    let output: StreamBuffer
    init(outputCount: Int) { output = StreamBuffer(outputCount) }
    var outputBuffer: UnsafeBufferPointer<Float> { UnsafeBufferPointer(start: output.pointer, count: output.count) }
    /// Overridden by every stage; the base class passes its input through unchanged.
    func step(_ x: UnsafePointer<Float>, first: Bool) -> UnsafePointer<Float> { x }
    func reset() { output.zero() }
    func refreshWeights() {}
}

/// LIF state of one population `[B·N]`: u[t] = τ·u[t−1]·(1 − o[t−1]) + I[t] (LIFKernel.forwardStep,
/// in place: the previous membrane is read before it is overwritten, element by element).
struct StreamNeurons {
    let parameters: LIFParameters
    let membrane: StreamBuffer
    init(_ parameters: LIFParameters, count: Int) {
        self.parameters = parameters
        membrane = StreamBuffer(count)
    }
    // current [N] → spikes [N]; the membrane carries over to the next step
    func step(current: UnsafePointer<Float>, spikes: UnsafeMutablePointer<Float>, first: Bool) {
        LIFKernel.forwardStep(current: current, previousMembrane: first ? nil : UnsafePointer(membrane.pointer),
                              membrane: membrane.pointer, spikes: spikes, neurons: membrane.count, parameters: parameters)
    }
}

/// `I = b + x·Wᵀ` for B rows, event-driven over the nonzero inputs (Wᵀ kept `[in, out]`).
struct StreamAffine {
    let weight: Parameter, bias: Parameter
    let inFeatures: Int, outFeatures: Int
    let weightTransposed: StreamBuffer
    init(weight: Parameter, bias: Parameter) {
        self.weight = weight; self.bias = bias
        outFeatures = weight.value.shape[0]; inFeatures = weight.value.count / outFeatures
        weightTransposed = StreamBuffer(inFeatures * outFeatures)
        refresh()
    }
    func refresh() {
        weight.value.withPointer { SpikeMatmul.transpose($0, rows: outFeatures, columns: inFeatures, into: weightTransposed.pointer) }
    }
    // x [B, in] → y [B, out] (overwritten with b + x·Wᵀ)
    func apply(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>) {
        bias.value.withPointer { b in
            for r in 0..<rows { (y + r * outFeatures).update(from: b, count: outFeatures) }
        }
        accumulate(x, rows: rows, into: y)
    }
    // y [B, out] += x [B, in]·Wᵀ over the nonzero x
    func accumulate(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>) {
        for r in 0..<rows {
            let xr = x + r * inFeatures, yr = y + r * outFeatures
            for j in 0..<inFeatures {
                let v = xr[j]
                if v == 0 { continue }
                let wr = weightTransposed.pointer + j * outFeatures
                if v == 1 {
                    for o in 0..<outFeatures { yr[o] += wr[o] }
                } else {
                    for o in 0..<outFeatures { yr[o] += v * wr[o] }
                }
            }
        }
    }
}

/// Conv2d (+ LIF when `neuron` is set), event-driven over the nonzero input pixels.
final class ConvStreamStage: StreamStage {
    let conv: Conv2d
    let geometry: Conv2dGeometry
    let batch: Int
    let weightTransposed: StreamBuffer
    let current: StreamBuffer
    let scratch: StreamBuffer
    let neurons: StreamNeurons?
    init(_ conv: Conv2d, neuron: LIFParameters?, inputShape: [Int], batch: Int) {
        self.conv = conv
        self.batch = batch
        let g = conv.geometry(for: inputShape)
        geometry = g
        weightTransposed = StreamBuffer(g.weightCount)
        current = StreamBuffer(batch * g.outputImageSize)
        scratch = StreamBuffer(EventConv2dKernel.forwardScratchCount(g))
        neurons = neuron.map { StreamNeurons($0, count: batch * g.outputImageSize) }
        super.init(outputCount: batch * g.outputImageSize)
        refreshWeights()
    }
    var outputShape: [Int] { [geometry.outChannels, geometry.outputHeight, geometry.outputWidth] }
    override func refreshWeights() {
        conv.weight.value.withPointer {
            SpikeMatmul.transpose($0, rows: geometry.outChannels, columns: geometry.patchSize, into: weightTransposed.pointer)
        }
    }
    // x [B, C, H, W] → spikes (or currents) [B, O, Ho, Wo]
    override func step(_ x: UnsafePointer<Float>, first: Bool) -> UnsafePointer<Float> {
        let target = neurons == nil ? output.pointer : current.pointer
        conv.bias.value.withPointer { b in
            EventConv2dKernel.forward(input: x, images: batch, geometry: geometry, weightTransposed: weightTransposed.pointer,
                                      bias: b, output: target, scratch: scratch.pointer)
        }
        neurons?.step(current: current.pointer, spikes: output.pointer, first: first)
        return UnsafePointer(output.pointer)
    }
    override func reset() { super.reset(); neurons?.membrane.zero() }
}

/// Linear (+ LIF when `neuron` is set) or a recurrent spiking layer (`recurrent` set).
final class AffineStreamStage: StreamStage {
    let affine: StreamAffine
    let recurrent: StreamAffine?
    let batch: Int
    let current: StreamBuffer
    let previousSpikes: StreamBuffer
    let neurons: StreamNeurons?
    init(affine: StreamAffine, recurrent: StreamAffine?, neuron: LIFParameters?, batch: Int) {
        self.affine = affine
        self.recurrent = recurrent
        self.batch = batch
        let n = batch * affine.outFeatures
        current = StreamBuffer(n)
        previousSpikes = StreamBuffer(recurrent == nil ? 0 : n)
        neurons = neuron.map { StreamNeurons($0, count: n) }
        super.init(outputCount: n)
    }
    override func refreshWeights() { affine.refresh(); recurrent?.refresh() }
    // x [B, in] → spikes (or currents) [B, out]
    override func step(_ x: UnsafePointer<Float>, first: Bool) -> UnsafePointer<Float> {
        let target = neurons == nil ? output.pointer : current.pointer
        affine.apply(x, rows: batch, into: target)
        if let recurrent, !first {
            // I[t] += o[t−1]·Rᵀ (o[t−1] is this layer's own output of the previous step)
            recurrent.accumulate(UnsafePointer(output.pointer), rows: batch, into: target)
        }
        neurons?.step(current: current.pointer, spikes: output.pointer, first: first)
        return UnsafePointer(output.pointer)
    }
    override func reset() { super.reset(); neurons?.membrane.zero() }
}

/// Average pooling of one step: `[B, C, H, W]` → `[B, C, H/k, W/k]`.
final class PoolStreamStage: StreamStage {
    let kernelSize: Int, planes: Int, height: Int, width: Int
    init(kernelSize: Int, inputShape: [Int], batch: Int) {
        self.kernelSize = kernelSize
        planes = batch * inputShape[0]; height = inputShape[1]; width = inputShape[2]
        super.init(outputCount: planes * (height / kernelSize) * (width / kernelSize))
    }
    override func step(_ x: UnsafePointer<Float>, first: Bool) -> UnsafePointer<Float> {
        AvgPool2dKernel.forward(input: x, planes: planes, height: height, width: width, kernelSize: kernelSize,
                                output: output.pointer)
        return UnsafePointer(output.pointer)
    }
}

/// The attention fusion of one step (see `AttentionFusion`): concat → hidden LIF → [w_v, w_a]
/// → output LIF with input `w_v·o_v + w_a·o_a` (`.sum`), that input itself (`.integrator`),
/// or the FC head on `concat(w_v·o_v, w_a·o_a)` (`.fc`).
final class AttentionStreamStage {
    let fusion: AttentionFusion
    let batch: Int, classes: Int
    let concatenated: StreamBuffer
    let hidden: AffineStreamStage
    let attention: StreamAffine
    let weightsBuffer: StreamBuffer
    let current: StreamBuffer
    let output: StreamBuffer
    let outputNeurons: StreamNeurons
    /// The `.fc` readout's stages (fusion.fc1, fusion.fc2); empty with `.sum`.
    let head: [StreamStage]
    /// Input `[B, 2C]` of the `.fc` head: `concat(w_v·o_v, w_a·o_a)`.
    let weighted: StreamBuffer
    var weights: UnsafeBufferPointer<Float> { UnsafeBufferPointer(start: weightsBuffer.pointer, count: weightsBuffer.count) }

    init(_ fusion: AttentionFusion, batch: Int) throws {
        self.fusion = fusion
        self.batch = batch
        classes = fusion.classes
        concatenated = StreamBuffer(batch * 2 * classes)
        hidden = AffineStreamStage(affine: StreamAffine(weight: fusion.hidden.weight, bias: fusion.hidden.bias), recurrent: nil,
                                   neuron: fusion.hiddenNeuron.neuron, batch: batch)
        attention = StreamAffine(weight: fusion.attention.weight, bias: fusion.attention.bias)
        weightsBuffer = StreamBuffer(batch * 2)
        current = StreamBuffer(batch * classes)
        output = StreamBuffer(batch * classes)
        outputNeurons = StreamNeurons(fusion.outputNeuron.neuron, count: batch * classes)
        let width = 2 * fusion.classes
        head = try fusion.head.map { try makeStages($0.layers, inputShape: [width], batch: batch) } ?? []
        weighted = StreamBuffer(fusion.head == nil ? 0 : batch * width)
    }
    func refreshWeights() { hidden.refreshWeights(); attention.refresh(); head.forEach { $0.refreshWeights() } }
    func reset() {
        hidden.reset(); output.zero(); outputNeurons.membrane.zero(); weightsBuffer.zero()
        head.forEach { $0.reset() }
    }

    // o_v, o_a [B, C] → fused spikes [B, C] in output
    func step(visual ov: UnsafePointer<Float>, audio oa: UnsafePointer<Float>, first: Bool) {
        // The integrator's output is the weighted current itself: write it there directly.
        let c = concatenated.pointer, w = weightsBuffer.pointer, i = fusion.integrates ? output.pointer : current.pointer
        for b in 0..<batch {
            (c + b * 2 * classes).update(from: ov + b * classes, count: classes)
            (c + b * 2 * classes + classes).update(from: oa + b * classes, count: classes)
        }
        let h = hidden.step(UnsafePointer(c), first: first)                    // [B, H]
        attention.apply(h, rows: batch, into: w)                                // [B, 2]
        if fusion.normalisation == .softmax { softmaxPairsInPlace(w, pairs: batch, scale: fusion.scale) }
        if head.isEmpty {
            for r in 0..<batch {
                let wv = w[2 * r], wa = w[2 * r + 1]
                for k in 0..<classes {
                    let j = r * classes + k
                    i[j] = wv * ov[j] + wa * oa[j]
                }
            }
            if !fusion.integrates { outputNeurons.step(current: i, spikes: output.pointer, first: first) }
        } else {
            let x = weighted.pointer
            for r in 0..<batch {
                let wv = w[2 * r], wa = w[2 * r + 1]
                for k in 0..<classes {
                    x[r * 2 * classes + k] = wv * ov[r * classes + k]
                    x[r * 2 * classes + classes + k] = wa * oa[r * classes + k]
                }
            }
            var y = UnsafePointer(x)
            for stage in head { y = stage.step(y, first: first) }
        }
    }
}

/// Stages for a Sequential's layers; `inputShape` is one sample's shape without [T, B].
private func makeStages(_ layers: [Layer], inputShape: [Int], batch: Int) throws -> [StreamStage] {
    var stages: [StreamStage] = []
    var shape = inputShape
    for layer in layers {
        switch layer {
        case let l as SpikingConv2d:
            let s = ConvStreamStage(l.conv, neuron: l.lif.neuron, inputShape: shape, batch: batch)
            shape = s.outputShape; stages.append(s)
        case let l as Conv2d:
            let s = ConvStreamStage(l, neuron: nil, inputShape: shape, batch: batch)
            shape = s.outputShape; stages.append(s)
        case let l as AvgPool2d:
            let s = PoolStreamStage(kernelSize: l.kernelSize, inputShape: shape, batch: batch)
            shape = [shape[0], shape[1] / l.kernelSize, shape[2] / l.kernelSize]; stages.append(s)
        case is Flatten:
            shape = [shape.reduce(1, *)]
        case let l as SpikingLinear:
            stages.append(AffineStreamStage(affine: StreamAffine(weight: l.linear.weight, bias: l.linear.bias), recurrent: nil,
                                            neuron: l.lif.neuron, batch: batch))
            shape = [l.linear.outFeatures]
        case let l as Linear:
            stages.append(AffineStreamStage(affine: StreamAffine(weight: l.weight, bias: l.bias), recurrent: nil,
                                            neuron: nil, batch: batch))
            shape = [l.outFeatures]
        case let l as RecurrentSpikingLinear:
            let recurrent = StreamAffine(weight: l.recurrentWeight, bias: zeroBias(l.outFeatures))
            stages.append(AffineStreamStage(affine: StreamAffine(weight: l.weight, bias: l.bias), recurrent: recurrent,
                                            neuron: l.neuron, batch: batch))
            shape = [l.outFeatures]
        default:
            throw StreamingInference.StreamingError.unsupportedLayer(String(describing: type(of: layer)))
        }
    }
    return stages
}

/// A bias of zeros for the recurrent map (R has no bias; only `accumulate` is used on it).
private func zeroBias(_ n: Int) -> Parameter { Parameter(name: "", value: Tensor(zeros: [n])) }

#if canImport(Glibc)
import Glibc
#endif
