import XCTest
@testable import SpikeNN
import SpikeTensor

/// The fused passes conv → LIF → pool (`ConvLIFPoolKernel`, inference and training) against
/// the three layers run one after the other (the reference): identical outputs and membranes,
/// gradients equal to rounding, and the fused pass is taken exactly where it applies.
final class ConvLIFPoolTests: XCTestCase {
    /// conv → pool → conv → pool, as the visual network, fused and unfused in inference mode.
    /// `hidden` channels between the convolutions: a multiple of 8 takes conv2's dL/dx through
    /// `DenseKernels` (written channels-last by the kernel itself), others through im2col + GEMM
    /// (then transposed).
    /// `maximum`: both pools are `MaxPool2d` (else `AvgPool2d`).
    private func network(_ rng: inout SeededGenerator, padding: Int, pool: Int, weightScale: Float,
                         hidden: Int = 5, maximum: Bool = false) -> Sequential {
        func pooling(_ k: Int) -> Layer { maximum ? MaxPool2d(kernelSize: k) : AvgPool2d(kernelSize: k) }
        let net = Sequential([
            SpikingConv2d(name: "c1", inChannels: 2, outChannels: hidden, kernelSize: 3, padding: padding,
                          neuron: LIFParameters(tau: 0.2), rng: &rng),
            pooling(pool),
            SpikingConv2d(name: "c2", inChannels: hidden, outChannels: 3, kernelSize: 3, padding: 1,
                          neuron: LIFParameters(tau: 0.3), rng: &rng),
            pooling(2),
        ])
        for p in net.parameters { p.value.scalars = p.value.scalars.map { $0 * weightScale } }   // so that neurons fire
        net.savesForBackward = false
        return net
    }

    private func compareFusedWithLayerByLayer(padding: Int, pool: Int, maximum: Bool = false,
                                              input: (inout SeededGenerator) -> Tensor,
                                              file: StaticString = #filePath, line: UInt = #line) throws {
        var rng = SeededGenerator(seed: 11)
        let net = network(&rng, padding: padding, pool: pool, weightScale: 3, maximum: maximum)
        let window: FusedPool = maximum ? .maximum(pool) : .average(pool)
        let x = input(&rng)
        let fused = net.forward(x)
        net.fusesPooling = false
        let reference = net.forward(x)
        XCTAssertEqual(fused.shape, reference.shape, file: file, line: line)
        XCTAssertEqual(fused.scalars, reference.scalars, "fused conv → LIF → pool against the layers", file: file, line: line)
        XCTAssertGreaterThan(reference.scalars.reduce(0, +), 0, "the comparison needs output spikes", file: file, line: line)
        // The first pair did take the fused path, and its output has spikes and silence.
        let conv1 = net.layers[0] as! SpikingConv2d, pool1 = net.layers[1]
        let pooled = try XCTUnwrap(conv1.inferencePooled(x, pool: window), "fused path not taken", file: file, line: line)
        XCTAssertEqual(pooled.scalars, pool1.forward(conv1.forward(x)).scalars, file: file, line: line)
        XCTAssertTrue(pooled.scalars.contains { $0 > 0 } && pooled.scalars.contains(0), file: file, line: line)
    }

    func testFusedInferenceGivesTheSameSpikesAsTheLayers() throws {
        try compareFusedWithLayerByLayer(padding: 1, pool: 2) {
            randomSpikes([6, 3, 2, 12, 12], rate: 0.08, &$0)
        }
    }

    /// Odd sizes (the pool drops the last row and column), no padding, a 3×3 pool.
    func testFusedInferenceOnOddSizesAndALargerPool() throws {
        try compareFusedWithLayerByLayer(padding: 0, pool: 3) {
            randomSpikes([5, 2, 2, 13, 11], rate: 0.1, &$0)
        }
    }

    /// Max pooling (2×2, then 3×3 on odd sizes) fused the same way: the OR of each window's spikes.
    func testFusedInferenceWithMaxPooling() throws {
        try compareFusedWithLayerByLayer(padding: 1, pool: 2, maximum: true) {
            randomSpikes([6, 3, 2, 12, 12], rate: 0.08, &$0)
        }
        try compareFusedWithLayerByLayer(padding: 0, pool: 3, maximum: true) {
            randomSpikes([5, 2, 2, 13, 11], rate: 0.1, &$0)
        }
    }

    /// Event counts (values other than 1) go through the same scaled adds.
    func testFusedInferenceOnEventCounts() throws {
        try compareFusedWithLayerByLayer(padding: 1, pool: 2) { rng in
            Tensor(shape: [4, 2, 2, 10, 10], scalars: (0..<(4 * 2 * 2 * 100)).map { _ in
                rng.nextDouble() < 0.1 ? Float(1 + rng.nextInt(below: 3)) : 0 })
        }
    }

    /// Where the layers would not run event-driven (dense input) or train, there is no fused pass.
    func testNoFusedPassForDenseInputOrTraining() {
        var rng = SeededGenerator(seed: 12)
        let conv = SpikingConv2d(name: "c", inChannels: 2, outChannels: 4, kernelSize: 3, padding: 1,
                                 neuron: LIFParameters(tau: 0.2), rng: &rng)
        let sparse = randomSpikes([3, 2, 2, 8, 8], rate: 0.05, &rng)
        XCTAssertNil(conv.inferencePooled(sparse, pool: .average(2)), "training mode keeps the layers")
        conv.savesForBackward = false
        XCTAssertNotNil(conv.inferencePooled(sparse, pool: .average(2)))
        XCTAssertNil(conv.inferencePooled(randomSpikes([3, 2, 2, 8, 8], rate: 0.5, &rng), pool: .average(2)),
                     "dense input: im2col + GEMM, as the layer would choose")
        conv.kernel = .dense
        XCTAssertNil(conv.inferencePooled(sparse, pool: .average(2)), "a layer set to the dense kernel")
    }

    // MARK: training

    /// The same network trained one step fused and layer by layer (first layer without dL/dx,
    /// as in the visual network): identical outputs and membranes; gradients identical where a
    /// layer ran unfused on the same input and δ (conv2 with a hidden width the direct kernel
    /// does not take), else within rounding (per-sample sums; conv2's fused dL/dx from the
    /// direct kernel image by image, which reaches conv1's gradients).
    private func compareFusedTrainingWithLayerByLayer(padding: Int, pool: Int, hidden: Int = 5, maximum: Bool = false,
                                                      input: (inout SeededGenerator) -> Tensor,
                                                      file: StaticString = #filePath, line: UInt = #line) throws {
        func window(_ k: Int) -> FusedPool { maximum ? .maximum(k) : .average(k) }
        func trainedOnce(fused: Bool) -> (output: Tensor, net: Sequential) {
            var rng = SeededGenerator(seed: 21)
            let net = network(&rng, padding: padding, pool: pool, weightScale: 3, hidden: hidden, maximum: maximum)
            net.savesForBackward = true
            net.needsInputGradient = false
            net.fusesPooling = fused
            // conv2 event-driven whatever conv1's firing (the fused pass is for event-driven input)
            (net.layers[2] as! SpikingConv2d).kernel = .sparse
            let x = input(&rng)
            let y = net.forward(x)
            let gradOutput = Tensor(shape: y.shape, scalars: (0..<y.count).map { _ in Float(rng.nextDouble() * 2 - 1) })
            _ = net.backward(gradOutput)
            return (y, net)
        }
        let (fusedOutput, fused) = trainedOnce(fused: true)
        let (referenceOutput, reference) = trainedOnce(fused: false)
        let conv1 = fused.layers[0] as! SpikingConv2d, referenceConv1 = reference.layers[0] as! SpikingConv2d
        let conv2 = fused.layers[2] as! SpikingConv2d, referenceConv2 = reference.layers[2] as! SpikingConv2d
        XCTAssertEqual(conv1.pooledTraining, window(pool), "the fused training pass was not taken", file: file, line: line)
        XCTAssertNil(referenceConv1.pooledTraining, file: file, line: line)
        // conv2 (with dL/dx) runs fused exactly where the direct kernel takes its dL/dx
        let conv2Fused = DenseKernels.replacesBLAS && hidden % 8 == 0
        XCTAssertEqual(conv2.pooledTraining, conv2Fused ? window(2) : nil, "conv2's fused pass", file: file, line: line)
        // conv2 handed its dL/dx to the fused backward channels-last, and only there
        XCTAssertTrue(conv2.conv.writesChannelsLastInputGradient, file: file, line: line)
        XCTAssertFalse(referenceConv2.conv.writesChannelsLastInputGradient, file: file, line: line)
        XCTAssertEqual(fusedOutput.scalars, referenceOutput.scalars, "outputs", file: file, line: line)
        XCTAssertGreaterThan(referenceOutput.scalars.reduce(0, +), 0, "the comparison needs output spikes", file: file, line: line)
        // a fused pass keeps its membranes channels-last: [T, B, Ho, Wo, O] against [T, B, O, Ho, Wo]
        for (conv, referenceConv) in [(conv1, referenceConv1), (conv2, referenceConv2)] where conv.pooledTraining != nil {
            let r = referenceConv.membrane.shape
            XCTAssertEqual(conv.membrane.shape, [r[0], r[1], r[3], r[4], r[2]], file: file, line: line)
            let (channels, pixels) = (r[2], r[3] * r[4])
            var channelsFirst = [Float](repeating: .nan, count: conv.membrane.count)
            for image in 0..<(r[0] * r[1]) {
                for p in 0..<pixels {
                    for o in 0..<channels {
                        channelsFirst[(image * channels + o) * pixels + p] = conv.membrane.scalars[(image * pixels + p) * channels + o]
                    }
                }
            }
            XCTAssertEqual(channelsFirst, referenceConv.membrane.scalars, "\(conv.parameters[0].name) membranes", file: file, line: line)
        }
        for (p, q) in zip(fused.parameters, reference.parameters) {
            let scale = max(1e-3, q.grad.scalars.map { abs($0) }.max() ?? 0)
            XCTAssertGreaterThan(q.grad.scalars.map { abs($0) }.max() ?? 0, 0, "\(q.name): zero gradient", file: file, line: line)
            if p.name.hasPrefix("c2") && !conv2Fused {
                XCTAssertEqual(p.grad.scalars, q.grad.scalars, "\(p.name) gradient", file: file, line: line)
            } else {
                let worst = zip(p.grad.scalars, q.grad.scalars).map { abs($0 - $1) }.max() ?? 0
                XCTAssertLessThanOrEqual(worst, 1e-5 * scale, "\(p.name) gradient", file: file, line: line)
            }
        }
    }

    func testFusedTrainingGivesTheSameSpikesMembranesAndGradients() throws {
        try compareFusedTrainingWithLayerByLayer(padding: 1, pool: 2) {
            randomSpikes([6, 7, 2, 12, 12], rate: 0.08, &$0)
        }
    }

    /// 8 channels between the convolutions: conv2's dL/dx from the direct kernel, channels-last,
    /// and (where the direct kernel replaces BLAS) conv2 trained fused, its dL/dx made image by image.
    func testFusedTrainingWithTheDirectKernelsChannelsLastGradient() throws {
        try compareFusedTrainingWithLayerByLayer(padding: 1, pool: 2, hidden: 8) {
            randomSpikes([6, 7, 2, 12, 12], rate: 0.08, &$0)
        }
    }

    /// Odd sizes (the pool drops the last row and column: no gradient there), no padding, 3×3 pool.
    func testFusedTrainingOnOddSizesAndALargerPool() throws {
        try compareFusedTrainingWithLayerByLayer(padding: 0, pool: 3) {
            randomSpikes([5, 3, 2, 13, 11], rate: 0.1, &$0)
        }
    }

    /// Max pooling: the gradient of each window goes to its first spiking neuron (or its first
    /// neuron), chosen by the fused backward from the kept membranes; 2×2 with conv2 fused where
    /// the direct kernel takes its dL/dx, and 3×3 on odd sizes.
    func testFusedTrainingWithMaxPooling() throws {
        try compareFusedTrainingWithLayerByLayer(padding: 1, pool: 2, hidden: 8, maximum: true) {
            randomSpikes([6, 7, 2, 12, 12], rate: 0.08, &$0)
        }
        try compareFusedTrainingWithLayerByLayer(padding: 0, pool: 3, maximum: true) {
            randomSpikes([5, 3, 2, 13, 11], rate: 0.1, &$0)
        }
    }

    /// Event counts (values other than 1) in the forward sums and the weight gradient.
    func testFusedTrainingOnEventCounts() throws {
        try compareFusedTrainingWithLayerByLayer(padding: 1, pool: 2) { rng in
            Tensor(shape: [4, 2, 2, 10, 10], scalars: (0..<(4 * 2 * 2 * 100)).map { _ in
                rng.nextDouble() < 0.1 ? Float(1 + rng.nextInt(below: 3)) : 0 })
        }
    }

    /// The fused training pass is for a layer without dL/dx or one whose dL/dx the direct kernel
    /// makes (a multiple of 8 input channels, AVX2 or wider), on input the layer would run
    /// event-driven, in training mode.
    func testNoFusedTrainingPassWhereItDoesNotApply() {
        var rng = SeededGenerator(seed: 22)
        let wide = SpikingConv2d(name: "w", inChannels: 8, outChannels: 4, kernelSize: 3, padding: 1,
                                 neuron: LIFParameters(tau: 0.2), rng: &rng)
        let wideInput = randomSpikes([3, 2, 8, 8, 8], rate: 0.05, &rng)
        XCTAssertEqual(wide.trainingPooled(wideInput, pool: .average(2)) != nil, DenseKernels.replacesBLAS,
                       "a layer whose dL/dx the direct kernel makes")
        let conv = SpikingConv2d(name: "c", inChannels: 2, outChannels: 4, kernelSize: 3, padding: 1,
                                 neuron: LIFParameters(tau: 0.2), rng: &rng)
        let sparse = randomSpikes([3, 2, 2, 8, 8], rate: 0.05, &rng)
        XCTAssertNil(conv.trainingPooled(sparse, pool: .average(2)), "a layer whose dL/dx is needed, 2 input channels")
        conv.needsInputGradient = false
        XCTAssertNotNil(conv.trainingPooled(sparse, pool: .average(2)))
        XCTAssertNil(conv.trainingPooled(randomSpikes([3, 2, 2, 8, 8], rate: 0.5, &rng), pool: .average(2)), "dense input")
        conv.savesForBackward = false
        XCTAssertNil(conv.trainingPooled(sparse, pool: .average(2)), "inference")
    }
}

extension ConvLIFPoolTests {
    /// The fused step of conv → LIF → pool (`ConvLIFPoolStep`, what `Sequential.makeStep` builds
    /// for the pair) against the layers' own steps one by one, bit for bit at every step, with
    /// the weights as drawn (not on a grid), batch 3, across a reset; the pool's slot passes through.
    func testFusedStepGivesTheLayersStepsBitForBit() throws {
        for (padding, pool, hidden, maximum) in [(1, 2, 5, false), (0, 3, 8, false), (1, 2, 8, true), (0, 3, 5, true)] {
            var rng = SeededGenerator(seed: 31)
            let net = network(&rng, padding: padding, pool: pool, weightScale: 3, hidden: hidden, maximum: maximum)
            let batch = 3, frame = [2, 12, 11]
            let fused = net.makeStep(batch: batch, inputShape: frame) as! ChainStep
            net.fusesPooling = false
            let layers = net.makeStep(batch: batch, inputShape: frame) as! ChainStep
            XCTAssertTrue(fused.steps[0] is ConvLIFPoolStep && fused.steps[1] is PassThroughStep)
            XCTAssertTrue(fused.steps[2] is ConvLIFPoolStep, "the second conv → pool pair")
            XCTAssertFalse(layers.steps.contains { $0 is ConvLIFPoolStep })
            XCTAssertEqual(fused.steps.count, layers.steps.count)
            XCTAssertEqual(fused.outputShape, layers.outputShape)
            let x = randomSpikes([6, batch] + frame, rate: 0.1, &rng)
            var spikes: Float = 0
            for round in 0..<2 {
                x.withPointer { px in
                    for t in 0..<6 {
                        let frameSize = batch * frame.reduce(1, *)
                        var a = px + t * frameSize, b = a
                        // after each pool's slot (1 and 3) the two chains hold the same pooled spikes
                        for (i, (fusedStep, layerStep)) in zip(fused.steps, layers.steps).enumerated() {
                            a = fusedStep.step(a); b = layerStep.step(b)
                            if let convPool = fusedStep as? ConvLIFPoolStep {
                                // its membranes [B, P, O] are the LIF step's [B, O, P], bit for bit
                                let lif = (layerStep as! ChainStep).steps[1] as! LIFStep
                                let (o, p) = (convPool.geometry.outChannels, convPool.geometry.outputPixels)
                                var transposed = [Float](repeating: .nan, count: lif.membrane.count)
                                for n in 0..<batch { for c in 0..<o { for q in 0..<p {
                                    transposed[(n * o + c) * p + q] = convPool.membrane.pointer[(n * p + q) * o + c]
                                } } }
                                XCTAssertEqual(transposed.map(\.bitPattern), lif.membrane.buffer.map(\.bitPattern),
                                               "membranes round \(round) t \(t) step \(i)")
                            }
                            guard i == 1 || i == 3 else { continue }
                            let n = batch * layerStep.outputShape.reduce(1, *)
                            let fusedOut = Array(UnsafeBufferPointer(start: a, count: n))
                            let layerOut = Array(UnsafeBufferPointer(start: b, count: n))
                            XCTAssertEqual(fusedOut.map(\.bitPattern), layerOut.map(\.bitPattern),
                                           "round \(round) t \(t) padding \(padding) max \(maximum) after step \(i)")
                            spikes += layerOut.reduce(0, +)
                        }
                    }
                }
                fused.reset(); layers.reset()
            }
            XCTAssertGreaterThan(spikes, 0, "the comparison needs output spikes")
        }
    }
}

extension ConvLIFPoolTests {
    /// The fused backward's per-image step (`VectorKernels.lifBackwardPooledStep`: the pool's
    /// backward, the LIF step and the bias sums in one C pass), every variant, against the
    /// layers' operations one after the other (`pooledBackwardStepReference`), bit for bit: with
    /// and without δu[t+1] (written in place over it, as the fused backward does), membranes in
    /// and out of the surrogate window, odd sizes whose last row and column no window covers;
    /// average and max pools (the max pool's choice from the membranes: windows with one, several
    /// and no spiking neurons).
    func testPooledBackwardStepMatchesTheLayersBitForBit() {
        var rng = SeededGenerator(seed: 23)
        let cases: [(Conv2dGeometry, Int)] = [
            (Conv2dGeometry(inChannels: 32, outChannels: 32, height: 14, width: 14, kernelSize: 3, stride: 1, padding: 1), 2),
            (Conv2dGeometry(inChannels: 2, outChannels: 5, height: 13, width: 11, kernelSize: 3, stride: 1, padding: 1), 3),
        ]
        let neuron = LIFParameters(tau: 0.3, threshold: 0.5, surrogateWidth: 1.0)
        for (g, k) in cases {
          for maximum in [false, true] {
            let image = g.outputImageSize, outC = g.outChannels
            let pooled = (0..<((g.outputHeight / k) * (g.outputWidth / k) * outC)).map { _ in Float(rng.nextDouble() * 2 - 1) }
            let membrane = (0..<image).map { _ in Float(rng.nextDouble() * 3 - 1) }
            let next = (0..<image).map { _ in Float(rng.nextDouble() * 2 - 1) }
            for withNext in [false, true] {
                var expected = next, expectedSums = [Float](repeating: .nan, count: outC)
                ConvLIFPoolKernel.pooledBackwardStepReference(pooled, geometry: g, pool: maximum ? .maximum(k) : .average(k),
                                                              membrane: membrane,
                                                              nextGradCurrent: withNext ? next : nil, gradCurrent: &expected,
                                                              columnSums: &expectedSums, neuron: neuron)
                XCTAssertTrue(expected.contains(0) && expected.contains { $0 != 0 }, "\(g): in and out of the window")
                for variant in VectorKernels.available {
                    var delta = next, sums = [Float](repeating: .nan, count: outC)
                    delta.withUnsafeMutableBufferPointer { d in
                        VectorKernels.lifBackwardPooledStep(
                            pooledGradient: pooled, poolSize: k, scale: 1 / Float(k * k), height: g.outputHeight,
                            width: g.outputWidth, channels: outC, membrane: membrane,
                            nextGradCurrent: withNext ? UnsafePointer(d.baseAddress!) : nil, gradCurrent: d.baseAddress!,
                            columnSums: &sums, tau: neuron.tau, threshold: neuron.threshold,
                            halfWidth: 0.5 * neuron.surrogateWidth, surrogateHeight: neuron.surrogateHeight,
                            maximum: maximum, variant: variant)
                    }
                    let label = "\(g) \(variant) max \(maximum) next \(withNext)"
                    XCTAssertEqual(delta.map(\.bitPattern), expected.map(\.bitPattern), "\(label): δu")
                    XCTAssertEqual(sums.map(\.bitPattern), expectedSums.map(\.bitPattern), "\(label): sums")
                }
            }
          }
        }
    }
}

extension ConvLIFPoolTests {
    /// The LIF step with the 2×2 average or max pool in one C pass (`VectorKernels.lifForwardPool2Step`), every
    /// variant, against the step (`lifForwardStep(sums:bias:…)`) followed by the channels-last
    /// pool, bit for bit: membranes, the kept copy, pooled spikes; odd heights and widths (the last
    /// row and column updated, not pooled), channel counts with and without an 8-lane tail, a
    /// row pair larger than the kernel's stack buffer, with and without u[t−1].
    func testLIFAndPoolInOnePassMatchTheStepThenThePool() {
        var rng = SeededGenerator(seed: 24)
        let p = LIFParameters(tau: 0.2)
        for (height, width, channels) in [(28, 28, 32), (7, 5, 3), (6, 9, 13), (3, 200, 24)] {
            let n = height * width * channels
            let sums = (0..<n).map { _ in rng.nextUniform(-0.5, 1.2) }
            let bias = (0..<channels).map { _ in rng.nextUniform(-0.3, 0.3) }
            let previous = (0..<n).map { _ in rng.nextUniform(-0.2, 1.0) }
            let pooledCount = (height / 2) * (width / 2) * channels
            for withPrevious in [false, true] {
              for maximum in [false, true] {
                var expectedMembrane = [Float](repeating: 0, count: n), spikes = expectedMembrane
                var expectedPooled = [Float](repeating: .nan, count: pooledCount)
                previous.withUnsafeBufferPointer { prev in
                    VectorKernels.lifForwardStep(sums: sums, bias: bias, channels: channels,
                                                 previousMembrane: withPrevious ? prev.baseAddress! : nil,
                                                 membrane: &expectedMembrane, spikes: &spikes, neurons: n, tau: p.tau,
                                                 threshold: p.threshold)
                }
                ConvLIFPoolKernel.poolChannelsLast(spikes, height: height, width: width, channels: channels,
                                                   pool: maximum ? .maximum(2) : .average(2), into: &expectedPooled)
                XCTAssertTrue(expectedPooled.contains(0) && expectedPooled.contains { $0 > 0 }, "spikes and silence")
                for variant in VectorKernels.available {
                    var membrane = [Float](repeating: .nan, count: n), kept = membrane
                    var pooled = [Float](repeating: .nan, count: pooledCount)
                    previous.withUnsafeBufferPointer { prev in
                        VectorKernels.lifForwardPool2Step(sums: sums, bias: bias, channels: channels,
                                                          previousMembrane: withPrevious ? prev.baseAddress! : nil,
                                                          membrane: &membrane, keptMembrane: &kept, height: height,
                                                          width: width, pooled: &pooled, maximum: maximum, tau: p.tau,
                                                          threshold: p.threshold, variant: variant)
                    }
                    let label = "[\(height), \(width), \(channels)] \(variant) previous \(withPrevious) max \(maximum)"
                    XCTAssertEqual(membrane.map(\.bitPattern), expectedMembrane.map(\.bitPattern), "\(label): u")
                    XCTAssertEqual(kept.map(\.bitPattern), expectedMembrane.map(\.bitPattern), "\(label): kept u")
                    XCTAssertEqual(pooled.map(\.bitPattern), expectedPooled.map(\.bitPattern), "\(label): pooled")
                }
              }
            }
        }
    }
}

extension ConvLIFPoolTests {
    /// A spiking convolution with no pool after it (a 5×5 stride-2 conv feeding a conv → max
    /// pool) is a fused stage with a 1×1 window: conv and LIF in one pass per image. Inference,
    /// steps and a training step give the layers' outputs and membranes, gradients to rounding.
    func testConvolutionWithoutAPoolRunsFusedWithItsLIF() throws {
        func network(fused: Bool) -> Sequential {
            var rng = SeededGenerator(seed: 41)
            let net = Sequential([
                SpikingConv2d(name: "c1", inChannels: 2, outChannels: 8, kernelSize: 5, stride: 2, padding: 2,
                              neuron: LIFParameters(tau: 0.5), rng: &rng),
                SpikingConv2d(name: "c2", inChannels: 8, outChannels: 4, kernelSize: 3, padding: 1,
                              neuron: LIFParameters(tau: 0.3), rng: &rng),
                MaxPool2d(kernelSize: 2),
            ])
            for p in net.parameters { p.value.scalars = p.value.scalars.map { $0 * 3 } }
            net.fusesPooling = fused
            return net
        }
        var rng = SeededGenerator(seed: 42)
        let x = randomSpikes([5, 3, 2, 16, 16], rate: 0.1, &rng)
        let fused = network(fused: true), reference = network(fused: false)
        guard case let .convLIFPool(_, pool, window, range, next) = fused.plan.stages[0] else {
            return XCTFail("c1 alone is a fused stage")
        }
        XCTAssertNil(pool)
        XCTAssertEqual(window, .average(1))
        XCTAssertEqual(range, 0..<1)
        XCTAssertTrue(next === fused.layers[1])
        // inference
        fused.savesForBackward = false; reference.savesForBackward = false
        let c1 = fused.layers[0] as! SpikingConv2d
        let spikes = try XCTUnwrap(c1.inferencePooled(x, pool: .average(1)))
        XCTAssertEqual(spikes.scalars, (reference.layers[0] as! SpikingConv2d).forward(x).scalars)
        XCTAssertTrue(spikes.scalars.contains(1) && spikes.scalars.contains(0))
        XCTAssertEqual(fused.forward(x).scalars, reference.forward(x).scalars)
        // steps: one per layer, the first fused
        let fusedChain = fused.makeStep(batch: 3, inputShape: [2, 16, 16]) as! ChainStep
        let layerChain = reference.makeStep(batch: 3, inputShape: [2, 16, 16]) as! ChainStep
        XCTAssertEqual(fusedChain.steps.count, 3)
        XCTAssertTrue(fusedChain.steps[0] is ConvLIFPoolStep && !(layerChain.steps[0] is ConvLIFPoolStep))
        x.withPointer { px in
            for t in 0..<5 {
                let a = fusedChain.step(px + t * 3 * 512), b = layerChain.step(px + t * 3 * 512)
                let n = 3 * 4 * 4 * 4
                XCTAssertEqual(Array(UnsafeBufferPointer(start: a, count: n)).map(\.bitPattern),
                               Array(UnsafeBufferPointer(start: b, count: n)).map(\.bitPattern), "step t \(t)")
            }
        }
        // one training step
        for net in [fused, reference] {
            net.savesForBackward = true
            net.needsInputGradient = false
            (net.layers[1] as! SpikingConv2d).kernel = .sparse
        }
        let y = fused.forward(x), yReference = reference.forward(x)
        XCTAssertEqual(c1.pooledTraining, .average(1), "c1 trained fused")
        XCTAssertEqual(y.scalars, yReference.scalars)
        XCTAssertGreaterThan(y.scalars.reduce(0, +), 0, "the comparison needs output spikes")
        let gradOutput = Tensor(shape: y.shape, scalars: (0..<y.count).map { _ in Float(rng.nextDouble() * 2 - 1) })
        _ = fused.backward(gradOutput)
        _ = reference.backward(gradOutput)
        for (p, q) in zip(fused.parameters, reference.parameters) {
            let scale = max(1e-3, q.grad.scalars.map { abs($0) }.max() ?? 0)
            XCTAssertGreaterThan(q.grad.scalars.map { abs($0) }.max() ?? 0, 0, "\(q.name): zero gradient")
            let worst = zip(p.grad.scalars, q.grad.scalars).map { abs($0 - $1) }.max() ?? 0
            XCTAssertLessThanOrEqual(worst, 1e-5 * scale, "\(p.name) gradient")
        }
    }
}
