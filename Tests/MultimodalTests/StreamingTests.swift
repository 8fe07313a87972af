import XCTest
@testable import Multimodal
import SpikeTensor

/// Streaming (step-by-step) inference against the time-batched forward on the golden
/// fixtures, whose synaptic sums are exact in Float32 (weights on a 2⁻¹² grid, binary
/// inputs; see docs/peer.md), so the two paths must give bit-identical spikes whatever the
/// summation order.
final class StreamingTests: XCTestCase {
    private func fixture(_ name: String) throws -> URL {
        let dir = try XCTUnwrap(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
        return dir.appendingPathComponent(name + ".safetensors")
    }

    /// The golden network of `weights` and the golden inputs time-major `[T, B, …]`.
    /// `mode` replaces the fixture's mode (a unimodal network loads its part of the weights).
    private func golden(_ weights: String, mode: TrainingMode? = nil) throws -> (MultimodalNetwork, visual: Tensor, audio: Tensor) {
        let w = try Checkpoint.read(try fixture(weights))
        let x = try SafeTensors.read(try fixture("golden_inputs"))
        var configuration = w.configuration
        if let mode { configuration.mode = mode }
        let network = try MultimodalNetwork(configuration, seed: 0)
        try network.load(w.tensors, source: weights)
        return (network, swapLeadingAxes(try x.tensor(named: "visual_input")), swapLeadingAxes(try x.tensor(named: "audio_input")))
    }

    private func assertSameOutputs(_ weights: String, mode: TrainingMode? = nil) throws {
        let (network, visualInput, audioInput) = try golden(weights, mode: mode)
        let visual = network.visual == nil ? nil : visualInput, audio = network.audio == nil ? nil : audioInput
        let batched = network.forward(visual: visual, audio: audio)
        let stream = StreamingInference(network, batch: visualInput.shape[1])
        let streamed = stream.run(visual: visual, audio: audio)
        XCTAssertEqual(streamed.visual, batched.visual, "\(weights): visual spikes")
        XCTAssertEqual(streamed.audio, batched.audio, "\(weights): audio spikes")
        XCTAssertEqual(streamed.fusion, batched.fusion, "\(weights): fused spikes")
        XCTAssertEqual(streamed.attention, batched.attention, "\(weights): attention weights")
        // The fixture must exercise every head: spikes present in each.
        for head in [batched.visual, batched.audio, batched.fusion].compactMap({ $0 }) {
            XCTAssertTrue(head.scalars.contains { $0 > 0 }, "\(weights): a silent head cannot test streaming")
        }
        // A second run after the implicit reset gives the same spikes (no state leaks), and
        // so does a run with the two subnetworks stepped one after the other on one core.
        XCTAssertEqual(stream.run(visual: visual, audio: audio).decisive, batched.decisive, "\(weights): second run")
        stream.runsSubnetworksConcurrently.toggle()
        XCTAssertEqual(stream.run(visual: visual, audio: audio).decisive, batched.decisive, "\(weights): other threading")
    }

    func testAttentionModelStreamsTheSameSpikes() throws { try assertSameOutputs("golden_weights") }

    /// Inside `Parallel.serially` (a data-parallel worker's thread) the stream runs its parts
    /// one after the other on this thread, and still gives the batched outputs, for `run` (whose
    /// pipelined visual stream then computes its front layers from the back stage) and `step`.
    func testStreamingInsideASerialSectionGivesTheSameOutputs() throws {
        let (network, visual, audio) = try golden("golden_weights")
        let batched = network.forward(visual: visual, audio: audio)
        let stream = StreamingInference(network, batch: visual.shape[1])
        stream.runsSubnetworksConcurrently = true
        let serialRun = Parallel.serially { stream.run(visual: visual, audio: audio) }
        XCTAssertEqual(serialRun.audio, batched.audio, "audio spikes of a serial run")
        XCTAssertEqual(serialRun.visual, batched.visual, "visual spikes of a serial run")
        XCTAssertEqual(serialRun.fusion, batched.fusion, "fused spikes of a serial run")
        let steps = visual.shape[0], frame = visual.count / steps, channels = audio.count / steps
        stream.reset()
        var fused: [Float] = []
        Parallel.serially {
            visual.withPointer { v in
                audio.withPointer { a in
                    for t in 0..<steps {
                        stream.step(visual: v + t * frame, audio: a + t * channels)
                        fused += stream.fusionSpikes
                    }
                }
            }
        }
        XCTAssertEqual(fused, try XCTUnwrap(batched.fusion).scalars, "fused spikes of serial steps")
    }

    /// The pipelined visual stream of `run` (front layers on one core, the rest on the other)
    /// splits after the first pooling layer, and gives the spikes of the plain chain.
    func testPipelinedVisualStreamSplitsAfterTheFirstPool() throws {
        let (network, visual, audio) = try golden("golden_weights")
        let stream = StreamingInference(network, batch: visual.shape[1])
        XCTAssertEqual(stream.visualPipelineSplit, 2, "conv1 (with its LIF) and the pool form the front stage")
        stream.runsSubnetworksConcurrently = true
        let pipelined = stream.run(visual: visual, audio: audio)
        stream.runsSubnetworksConcurrently = false
        let plain = stream.run(visual: visual, audio: audio)
        XCTAssertEqual(pipelined.visual, plain.visual)
        XCTAssertEqual(pipelined.audio, plain.audio)
        XCTAssertEqual(pipelined.fusion, plain.fusion)
        // A ring shorter than the recording (8 of 12 steps): its slots are reused.
        XCTAssertGreaterThan(visual.shape[0], 8, "the fixture must be longer than the smallest ring")
        stream.runsSubnetworksConcurrently = true
        stream.pipelineRingFloats = 0
        for round in 0..<20 {   // the two cores meet the ring's ends at different times per round
            let wrapped = stream.run(visual: visual, audio: audio)
            XCTAssertEqual(wrapped.visual, plain.visual, "ring of 8 slots, round \(round)")
            XCTAssertEqual(wrapped.fusion, plain.fusion, "ring of 8 slots, round \(round)")
        }
        let serial = Parallel.serially { stream.run(visual: visual, audio: audio) }
        XCTAssertEqual(serial.visual, plain.visual, "ring of 8 slots, one thread")
    }

    func testConcatenationModelStreamsTheSameSpikes() throws { try assertSameOutputs("golden_weights_noattention") }

    func testVisualModelStreamsTheSameSpikes() throws { try assertSameOutputs("golden_weights", mode: .visual) }

    func testAudioModelStreamsTheSameSpikes() throws { try assertSameOutputs("golden_weights", mode: .audio) }

    /// The integrator readout: the fused output is the weighted vote, real-valued.
    func testIntegratorReadoutStreamsTheSameOutputs() throws {
        try assertSameOutputs("golden_weights_integrator")
        let (network, visual, audio) = try golden("golden_weights_integrator")
        let fused = try XCTUnwrap(network.forward(visual: visual, audio: audio).fusion)
        XCTAssertTrue(fused.scalars.contains { $0 != 0 && $0 != 1 }, "the integrator's output is not spikes")
    }

    /// Batch 1 (a live sensor): each sample of the golden batch streamed on its own gives
    /// that sample's slice of the batched output.
    func testBatchOneStreamsMatchTheirBatchSlices() throws {
        let (network, visual, audio) = try golden("golden_weights")
        let batched = network.forward(visual: visual, audio: audio)
        let steps = visual.shape[0], batch = visual.shape[1], classes = network.configuration.classes
        let stream = StreamingInference(network, batch: 1)
        let frame = visual.count / (steps * batch), channels = audio.count / (steps * batch)
        for b in 0..<batch {
            stream.reset()
            var got: [Float] = []
            for t in 0..<steps {
                let v = Array(visual.scalars[((t * batch + b) * frame)..<((t * batch + b + 1) * frame)])
                let a = Array(audio.scalars[((t * batch + b) * channels)..<((t * batch + b + 1) * channels)])
                v.withUnsafeBufferPointer { vp in
                    a.withUnsafeBufferPointer { ap in stream.step(visual: vp.baseAddress!, audio: ap.baseAddress!) }
                }
                got += stream.fusionSpikes
            }
            var want: [Float] = []
            let fused = try XCTUnwrap(batched.fusion)
            for t in 0..<steps { want += fused.scalars[((t * batch + b) * classes)..<((t * batch + b + 1) * classes)] }
            XCTAssertEqual(got, want, "sample \(b)")
            XCTAssertEqual(stream.stepIndex, steps)
        }
    }

    /// The pipeline's two loops run one after the other on one thread, in either order, with a
    /// ring shorter than the recording: the front loop must stop at a full ring (and run the back
    /// steps itself), and the back loop must run the front steps it waits for.
    func testVisualPipelineLoopsFinishAloneInEitherOrder() throws {
        let (network, visual, _) = try golden("golden_weights")
        let steps = visual.shape[0], batch = visual.shape[1], frame = visual.count / steps
        let c = network.configuration, classes = c.classes
        func chain() throws -> ChainStep {
            try XCTUnwrap(network.visual?.makeStep(batch: batch, inputShape: c.visualFrameShape) as? ChainStep)
        }
        let plainChain = try chain()
        var want: [Float] = []
        visual.withPointer { v in for t in 0..<steps { want += UnsafeBufferPointer(start: plainChain.step(v + t * frame), count: batch * classes) } }
        for frontFirst in [true, false] {
            var got = [Float](repeating: -1, count: steps * batch * classes)
            let stages = try chain()
            visual.withPointer { v in
                got.withUnsafeMutableBufferPointer { out in
                    let pipeline = VisualPipeline(stages, split: 2, batch: batch, steps: steps, input: v, inputStride: frame,
                                                  output: out.baseAddress!, outputStride: batch * classes, audio: nil, audioSteps: 0,
                                                  ringFloats: 0)
                    XCTAssertLessThan(pipeline.ring, steps, "the ring must wrap")
                    if frontFirst { pipeline.runFrontAndAudio(); pipeline.runBack() } else { pipeline.runBack(); pipeline.runFrontAndAudio() }
                }
            }
            XCTAssertEqual(got, want, frontFirst ? "front loop first" : "back loop first")
        }
    }

    /// The layer-major scan of `run` (each audio layer over all T, then the next) against the
    /// step-major scan, bit for bit, with the weights scaled off the golden fixtures' grid (so
    /// the sums are not exact and any change of order would show).
    func testLayerMajorScanGivesTheStepMajorOutputs() throws {
        let (network, _, audio) = try golden("golden_weights")
        for p in network.parameters where p.name.hasPrefix("audio.") {
            p.value = Tensor(shape: p.value.shape, scalars: p.value.scalars.map { $0 * 1.37 })
        }
        let steps = audio.shape[0], batch = audio.shape[1], frame = audio.count / steps
        let c = network.configuration, n = batch * c.classes
        let stepMajor = try XCTUnwrap(network.audio?.makeStep(batch: batch, inputShape: [c.audioChannels]))
        var want: [Float] = []
        audio.withPointer { a in for t in 0..<steps { want += UnsafeBufferPointer(start: stepMajor.step(a + t * frame), count: n) } }
        XCTAssertGreaterThan(want.reduce(0, +), 0, "the comparison needs output spikes")
        var got = [Float](repeating: .nan, count: steps * n)
        let chain = try XCTUnwrap(network.audio?.makeStep(batch: batch, inputShape: [c.audioChannels]))
        audio.withPointer { a in
            got.withUnsafeMutableBufferPointer { out in
                let scan = LayerMajorScan(chain, batch: batch, steps: steps, input: a, inputStride: frame,
                                          output: out.baseAddress!, outputStride: n)
                XCTAssertEqual(scan.count, (chain as! ChainStep).steps.count * steps)
                for i in 0..<scan.count { scan.run(i) }
            }
        }
        XCTAssertEqual(got.map(\.bitPattern), want.map(\.bitPattern))
    }

    /// Weights changed after the stream was made are used at its next step: no refresh call.
    func testRefreshWeightsFollowsLoadedWeights() throws {
        let (network, visual, audio) = try golden("golden_weights")
        let stream = StreamingInference(network, batch: visual.shape[1])
        let before = stream.run(visual: visual, audio: audio)
        for p in network.parameters where p.name.hasPrefix("audio.rec1.") {
            p.value = Tensor(shape: p.value.shape, scalars: p.value.scalars.map { $0 * 2 })
        }
        let batched = network.forward(visual: visual, audio: audio)
        XCTAssertNotEqual(batched.audio, before.audio, "doubling audio.rec1 must change the audio spikes")
        XCTAssertEqual(stream.run(visual: visual, audio: audio).audio, batched.audio)
    }
}
