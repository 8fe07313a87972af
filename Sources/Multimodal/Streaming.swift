import Foundation
import SpikeNN
import SpikeTensor
import Synchronization

/// Streaming (step-by-step) inference of a `MultimodalNetwork`: the path a live sensor uses.
///
/// Instead of a time-batched `[T, B, …]` forward, `step` consumes one time bin at a time —
/// a DVS frame `[B, P, S, S]` and a cochlea frame `[B, 64]` — and carries every layer's state
/// between calls. It is a plain loop over the network's own steps (`Layer.makeStep`,
/// `FusionNetwork.makeStep`): the same definition of each layer that the time-batched forward
/// is tested against, with event-driven synaptic sums (only active inputs cost work). All
/// buffers are allocated once in `init`; `step` allocates none. The outputs are identical to
/// `MultimodalNetwork.forward` whenever the synaptic sums are exact in Float32 (binary
/// inputs, weights on a 2⁻¹² grid, as in the golden fixtures); otherwise a different
/// summation order can differ in the last bit of a current and, rarely, flip a spike that
/// sits exactly on the threshold.
///
/// ```swift
/// let stream = StreamingInference(network, batch: 1)
/// for t in 0..<64 {
///     stream.step(visual: frame[t], audio: cochlea[t])   // [1·2·28·28], [1·64]
///     // stream.fusionSpikes: [B, 10] output of this step
/// }
/// stream.reset()                                          // next recording
/// ```
public final class StreamingInference {
    public let network: MultimodalNetwork
    public let batch: Int
    private let visual: LayerStep?
    private let audio: LayerStep?
    private let fusion: FusionStep?
    private var outputs: (visual: UnsafePointer<Float>?, audio: UnsafePointer<Float>?, fusion: UnsafePointer<Float>?)
    /// Number of steps since the last `reset` (0 … T).
    public private(set) var stepIndex = 0
    /// Runs the visual and auditory subnetworks of a step on two cores (default: when more
    /// than one worker is available). Results are identical either way (no shared state).
    public var runsSubnetworksConcurrently = Parallel.workers > 1
    /// Where `run` splits the visual chain into a front stage (its steps `0..<split`: conv1,
    /// its LIF and the first pool) and a back stage, pipelined on the two cores; nil when the
    /// visual network has no pooling layer before its last layer (then it is not pipelined).
    let visualPipelineSplit: Int?
    /// The pipeline's ring of front-stage outputs holds max(8 steps, this many floats), at most
    /// T steps (4 MB; tests lower it to make the ring wrap).
    var pipelineRingFloats = 1 << 20

    /// Prepares buffers for `batch` independent streams (1 for a live sensor). Weights are
    /// read as they are at each step, so training or loading weights later needs no refresh.
    public init(_ network: MultimodalNetwork, batch: Int = 1) {
        precondition(batch > 0, "StreamingInference: batch must be positive")
        self.network = network
        self.batch = batch
        let c = network.configuration
        visual = network.visual?.makeStep(batch: batch, inputShape: c.visualFrameShape)
        audio = network.audio?.makeStep(batch: batch, inputShape: [c.audioChannels])
        fusion = network.fusion?.makeStep(batch: batch)
        outputs = (nil, nil, nil)
        if let sequential = network.visual, let split = sequential.plan.afterFirstPooling,
           (visual as? ChainStep)?.steps.count == sequential.layers.count {
            visualPipelineSplit = split
        } else {
            visualPipelineSplit = nil
        }
    }

    /// Starts a new sequence: every membrane back to 0.
    public func reset() {
        stepIndex = 0
        visual?.reset(); audio?.reset(); fusion?.reset()
        outputs = (nil, nil, nil)
    }

    private var classes: Int { network.configuration.classes }
    private func buffer(_ p: UnsafePointer<Float>?, _ count: Int) -> UnsafeBufferPointer<Float> {
        UnsafeBufferPointer(start: p, count: p == nil ? 0 : count)
    }
    /// Output spikes `[B, C]` of the visual head at the last step (empty without a visual subnetwork).
    public var visualSpikes: UnsafeBufferPointer<Float> { buffer(outputs.visual, batch * classes) }
    /// Output spikes `[B, C]` of the auditory head at the last step.
    public var audioSpikes: UnsafeBufferPointer<Float> { buffer(outputs.audio, batch * classes) }
    /// Fused output `[B, C]` of the last step (empty in unimodal modes).
    public var fusionSpikes: UnsafeBufferPointer<Float> { buffer(outputs.fusion, batch * classes) }
    /// Attention weights `[B, 2]` (w_v, w_a) of the last step (attention fusions only, else empty).
    public var attentionWeights: UnsafeBufferPointer<Float> { buffer(fusion?.attentionWeights, 2 * batch) }

    /// One time step. `visual`: frame `[B, P, S, S]` (B·P·S·S floats), `audio`: `[B, channels]`;
    /// pass the ones the mode uses (nil for the others). Allocates nothing.
    public func step(visual x: UnsafePointer<Float>?, audio a: UnsafePointer<Float>?) {
        precondition(visual == nil || x != nil, "StreamingInference: mode \(network.configuration.mode) needs visual input")
        precondition(audio == nil || a != nil, "StreamingInference: mode \(network.configuration.mode) needs audio input")
        if runsSubnetworksConcurrently, let visual, let audio, let x, let a {
            // The two subnetworks share no state: one on each core, then the fusion.
            var ov: UnsafePointer<Float>?, oa: UnsafePointer<Float>?
            Parallel.forEachChunk(2, chunks: 2) { _, parts in   // both parts on one thread when serial
                for part in parts { if part == 0 { ov = visual.step(x) } else { oa = audio.step(a) } }
            }
            outputs.visual = ov; outputs.audio = oa
        } else {
            outputs.visual = x.flatMap { visual?.step($0) }
            outputs.audio = a.flatMap { audio?.step($0) }
        }
        if let fusion, let ov = outputs.visual, let oa = outputs.audio { outputs.fusion = fusion.step(visual: ov, audio: oa) }
        stepIndex += 1
    }

    /// Runs a whole time-major batch step by step from a fresh state (for offline use, tests
    /// and comparisons with `MultimodalNetwork.forward`): `visual` `[T, B, P, S, S]`, `audio`
    /// `[T, B, 64]` → outputs `[T, B, C]` per head and attention `[T, B, 2]`.
    public func run(visual visualInput: Tensor?, audio audioInput: Tensor?) -> HeadOutputs {
        let steps = (visualInput ?? audioInput)!.shape[0]
        let c = network.configuration
        if let visualInput {
            precondition(visualInput.shape == [steps, batch] + c.visualFrameShape,
                         "StreamingInference.run: visual \(visualInput.shape), expected \([steps, batch] + c.visualFrameShape)")
        }
        if let audioInput {
            precondition(audioInput.shape == [steps, batch, c.audioChannels],
                         "StreamingInference.run: audio \(audioInput.shape), expected [T, \(batch), \(c.audioChannels)]")
        }
        reset()
        let n = batch * classes
        let visualStep = visualInput.map { $0.count / steps } ?? 0, audioStep = audioInput.map { $0.count / steps } ?? 0
        var collected: [String: [Float]] = [:]
        var vOut = [Float](repeating: 0, count: visual == nil ? 0 : steps * n)
        var aOut = [Float](repeating: 0, count: audio == nil ? 0 : steps * n)
        withOptionalPointer(visualInput) { vx in
            withOptionalPointer(audioInput) { ax in
                vOut.withUnsafeMutableBufferPointer { vo in
                    aOut.withUnsafeMutableBufferPointer { ao in
                        // Each subnetwork scans all T on its own (on its own core when allowed:
                        // one hand-off per recording rather than one per step); then the fusion.
                        func scanVisual() {
                            guard let visual, let vx else { return }
                            for t in 0..<steps { (vo.baseAddress! + t * n).update(from: visual.step(vx + t * visualStep), count: n) }
                        }
                        // The audio network layer by layer: each layer's steps over all T, then the
                        // next layer's (its weights stay in cache for T steps instead of all layers'
                        // weights passing through it every step). Each layer sees the same inputs in
                        // the same order and keeps its own state, so the outputs are the same.
                        let audioScan: LayerMajorScan? = audio.flatMap { audio in
                            ax.map { LayerMajorScan(audio, batch: batch, steps: steps, input: $0, inputStride: audioStep,
                                                    output: ao.baseAddress!, outputStride: n) }
                        }
                        func scanAudio() {
                            guard let audioScan else { return }
                            for i in 0..<audioScan.count { audioScan.run(i) }
                        }
                        if runsSubnetworksConcurrently, let chain = visual as? ChainStep, let split = visualPipelineSplit, let vx {
                            let pipeline = VisualPipeline(chain, split: split, batch: batch, steps: steps, input: vx,
                                                          inputStride: visualStep, output: vo.baseAddress!, outputStride: n,
                                                          audio: audioScan.map { scan in { scan.run($0) } },
                                                          audioSteps: audioScan?.count ?? 0, ringFloats: pipelineRingFloats)
                            Parallel.forEachChunk(2, chunks: 2) { _, parts in
                                // Serially (one thread): the back stage's loop first, which runs
                                // every front step itself; then the audio. The same bits either way.
                                for part in parts.reversed() {
                                    if part == 0 { pipeline.runFrontAndAudio() } else { pipeline.runBack() }
                                }
                            }
                        } else if runsSubnetworksConcurrently && visual != nil && audio != nil {
                            Parallel.forEachChunk(2, chunks: 2) { _, parts in
                                for part in parts { if part == 0 { scanVisual() } else { scanAudio() } }
                            }
                        } else {
                            scanVisual(); scanAudio()
                        }
                        guard let fusion, visual != nil, audio != nil else { return }
                        for t in 0..<steps {
                            let fused = fusion.step(visual: vo.baseAddress! + t * n, audio: ao.baseAddress! + t * n)
                            collected["fusion", default: []] += UnsafeBufferPointer(start: fused, count: n)
                            collected["attention", default: []] += buffer(fusion.attentionWeights, 2 * batch)
                        }
                    }
                }
            }
        }
        collected["visual"] = vOut
        collected["audio"] = aOut
        stepIndex = steps
        func tensor(_ name: String, _ width: Int) -> Tensor? {
            guard let values = collected[name], !values.isEmpty else { return nil }
            return Tensor(shape: [steps, batch, width], scalars: values)
        }
        var out = HeadOutputs()
        out.visual = tensor("visual", classes)
        out.audio = tensor("audio", classes)
        out.fusion = tensor("fusion", classes)
        out.attention = tensor("attention", 2)
        return out
    }
}

private func withOptionalPointer<R>(_ t: Tensor?, _ body: (UnsafePointer<Float>?) -> R) -> R {
    if let t { return t.withPointer { body($0) } }
    return body(nil)
}
